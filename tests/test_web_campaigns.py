"""ZNS campaigns in the console's ZNS tab: create one from a file, fix a bad row in the preview with the cost
estimated, schedule it, send it now, watch its progress to completed, its figures, and its messages in the
sent list (Chromium, against the fake Zalo)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.fake_zalo import FakeZalo
from tests.test_campaigns import ORDER_TEMPLATE, received, set_vietnam_time
from tests.web_steps import console_of
from tests.zalo_payloads import Oa


async def test_owner_creates_fixes_schedules_and_sends_a_campaign_now(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock, new_page, tmp_path: Path
) -> None:
    fake_zalo.templates["tpl-order"] = ORDER_TEMPLATE
    sheet = tmp_path / "chien-dich.csv"
    sheet.write_text(
        "Số điện thoại,order_code,customer_name\n0912000901,DH901,Lan\n0912000902,,Minh\n0912000903,DH903,\n",
        encoding="utf-8",
    )
    page = await console_of(new_page, company.owner, company.url)  # its token from the real clock
    now = set_vietnam_time(clock, 9)
    await page.click("[data-tab=zns]")
    section = page.locator("#zns-campaigns")
    await expect(section.locator('#campaign-counters [data-counter="total"] dd')).to_have_text("0")
    await section.locator("#campaign-new").click()
    form = section.locator("#campaign-form")
    await form.locator("select[name=oa_id]").select_option(oa.oa_id)
    await expect(form.locator("select[name=template_id] option[value=tpl-order]")).to_have_count(1)
    await form.locator("select[name=template_id]").select_option("tpl-order")
    await expect(form.locator(".campaign-columns")).to_contain_text("order_code, customer_name")
    await form.locator("input[name=name]").fill("Xác nhận đơn tháng 12")
    await form.locator("input[name=file]").set_input_files(str(sheet))
    await form.locator("input[name=send_mode][value=at]").check()
    at = now + timedelta(hours=2)
    await form.locator("input[name=run_at]").fill(at.strftime("%Y-%m-%dT%H:%M"))
    await form.locator("button[type=submit]").click()

    preview = section.locator("#campaign-preview")
    panel = preview.locator("#campaign-job")
    await expect(panel).to_contain_text("3 dòng: 2 hợp lệ, 1 có lỗi")
    await expect(preview.locator("#campaign-cost")).to_contain_text("Chi phí dự kiến: 900 đ")
    await expect(preview.locator("#campaign-when")).to_contain_text("Gửi lúc")
    bad = panel.locator("tbody tr.job-row-bad")
    await expect(bad).to_have_count(1)
    await expect(bad).to_contain_text("Thiếu order_code")
    await bad.get_by_role("button", name="Sửa").click()
    await panel.locator("form.job-row-edit input[name=order_code]").fill("DH902")
    await panel.locator("form.job-row-edit button[type=submit]").click()
    await expect(panel).to_contain_text("3 dòng: 3 hợp lệ, 0 có lỗi")
    await expect(preview.locator("#campaign-cost")).to_contain_text("1.350 đ")
    await panel.locator("button.job-confirm").click()

    row = section.locator("#campaign-list tbody tr[data-campaign-id]")
    await expect(row).to_have_attribute("data-status", "scheduled")
    await expect(section.locator('#campaign-counters [data-counter="scheduled"] dd')).to_have_text("1")
    await row.get_by_role("button", name="Chi tiết").click()
    detail = section.locator("#campaign-detail")
    await expect(detail.locator(".badge")).to_have_attribute("data-status", "scheduled")
    assert received(fake_zalo, await row.get_attribute("data-campaign-id") or "") == []
    await detail.locator("button.campaign-send-now").click()  # not wait two hours

    await expect(row).to_have_attribute("data-status", "completed", timeout=30_000)
    await expect(row.locator("progress")).to_have_attribute("value", "3")
    await expect(detail.locator('[data-figure="sent"] dd')).to_have_text("3")
    await expect(detail.locator('[data-figure="recorded"] dd')).to_have_text("3")
    await expect(detail.locator('[data-figure="failed"] dd')).to_have_text("0")
    await expect(detail.locator('[data-figure="estimated"] dd')).to_have_text("1.350")
    await expect(section.locator('#campaign-counters [data-counter="completed"] dd')).to_have_text("1")
    campaign_id = await row.get_attribute("data-campaign-id") or ""
    assert sorted(s["template_data"]["order_code"] for s in received(fake_zalo, campaign_id)) == [
        "DH901",
        "DH902",
        "DH903",
    ]

    await detail.locator("button.campaign-messages").click()  # the sent list, filtered to the campaign
    await expect(page.locator("#zns-filters input[name=campaign_id]")).to_have_value(campaign_id)
    await expect(page.locator("#zns-messages tbody tr[data-zns-id]")).to_have_count(3)
    await section.scroll_into_view_if_needed()
    await page.screenshot(path=screenshot_path("zns-campaigns.png", tmp_path), full_page=True)

    await page.click("#lang")  # in English too
    await expect(row.locator(".badge")).to_have_text("Completed")
    await expect(detail.locator('[data-figure="delivered"] dt')).to_have_text("Delivered")
