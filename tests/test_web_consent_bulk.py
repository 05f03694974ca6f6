"""ZCC call requests in bulk in the console: upload a list, see each line's problem, fix and delete lines,
pick the OA, send, watch the progress and each line's outcome (Chromium, against the fake Zalo)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company, new_phone
from tests.web_steps import console_of
from tests.zalo_payloads import Oa


async def test_owner_uploads_fixes_and_sends_a_list_of_call_requests(
    company: Company, oa: Oa, fake_zalo, new_page, tmp_path: Path
) -> None:
    first, second, fixed = new_phone(), new_phone(), new_phone()
    sheet = tmp_path / "yeu-cau.csv"
    sheet.write_text(
        "\n".join(["Số điện thoại,Lý do", f"{first},101", f"{second},Thông báo giao hàng", "12ab,101", f"{first},105"])
        + "\n",
        encoding="utf-8",
    )
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=consents]")
    await page.click("#consent-bulk summary")
    await page.set_input_files("#consent-bulk-form input[name=file]", str(sheet))
    await page.select_option("#consent-bulk-form select[name=reason_code]", "107")
    await page.click("#consent-bulk-form button[type=submit]")

    panel = page.locator("#consent-bulk-job")
    await expect(panel.locator(".badge.job")).to_have_attribute("data-status", "staged")
    await expect(panel).to_contain_text("4 dòng: 2 hợp lệ, 2 có lỗi")
    bad = panel.locator("tbody tr.job-row-bad")  # only the lines with problems, at first
    await expect(bad).to_have_count(2)
    await expect(bad.nth(0)).to_contain_text("Số điện thoại không hợp lệ")
    await expect(bad.nth(1)).to_contain_text("Số điện thoại bị lặp trong tệp")

    await bad.nth(0).get_by_role("button", name="Sửa").click()
    await panel.locator("form.job-row-edit input[name=phone]").fill(fixed)
    await panel.locator("form.job-row-edit button[type=submit]").click()
    await expect(panel).to_contain_text("4 dòng: 3 hợp lệ, 1 có lỗi")
    await panel.locator("tbody tr.job-row-bad").get_by_role("button", name="Xóa").click()
    await expect(panel).to_contain_text("3 dòng: 3 hợp lệ, 0 có lỗi")
    await page.screenshot(path=screenshot_path("zcc-bulk.png", tmp_path), full_page=True)

    await panel.locator("select[name=bulk_oa]").select_option(oa.oa_id)
    await panel.locator("button.job-confirm").click()
    await expect(panel.locator(".badge.job")).to_have_attribute("data-status", "completed", timeout=30_000)
    await expect(panel.locator("progress")).to_have_attribute("value", "3")
    await expect(panel.locator("tbody tr")).to_have_count(3)
    await expect(panel.locator("tbody")).not_to_contain_text("Thất bại")
    await expect(panel.locator("tbody tr").filter(has_text="Đã gửi")).to_have_count(3)
    # The requests went out once each, and the consent list shows them live.
    asked = sorted(
        r["phone"] for r in fake_zalo.consent_requests if r["phone"][2:] in {first[1:], second[1:], fixed[1:]}
    )
    assert asked == sorted("84" + p[1:] for p in (first, second, fixed))
    await expect(page.locator("#consent-list tbody tr[data-consent-id]")).to_have_count(3)

    await page.click("#lang")  # in English too
    await expect(panel.locator(".badge.job")).to_have_text("Completed")
    await expect(panel.locator("tbody tr").filter(has_text="Sent")).to_have_count(3)
