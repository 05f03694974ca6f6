"""The ZNS tab (owners and managers): the report, the sent messages and the service reviews, kept live by
zns.updated as Zalo's receipts and reviews arrive (Chromium, against the fake Zalo)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.test_zns import _daytime, _ms, _send
from tests.web_steps import console_of
from tests.zalo_payloads import Oa


async def test_owner_follows_sent_messages_their_delivery_and_reviews_live(
    company: Company, oa: Oa, fake_zalo, clock, new_page, tmp_path: Path
) -> None:
    user = await company.add("user")
    page = await console_of(new_page, company.owner, company.url)  # tokens from the real clock, before it moves
    agent = await console_of(new_page, user, company.url)
    await _daytime(company, clock)
    first = (await _send(company, oa, False, template="tpl-1")).json()
    await page.click("[data-tab=zns]")
    tab = page.locator("#tab-zns")
    await expect(tab.locator(f'#zns-messages tr[data-zns-id="{first["id"]}"]')).to_have_attribute(
        "data-status", "processing"
    )
    await expect(tab.locator('#zns-totals [data-figure="sent"] dd')).to_have_text("1")

    second = (await _send(company, oa, False, template="tpl-1")).json()  # arrives live
    await expect(tab.locator(f'#zns-messages tr[data-zns-id="{second["id"]}"]')).to_be_visible()
    receipt = oa.zns_delivered(first["phone"], first["msg_id"], first["tracking_id"], _ms(first["sent_at"], 5))
    assert (await oa.deliver(company.http, company.url, receipt)).status_code == 200
    await expect(tab.locator(f'#zns-messages tr[data-zns-id="{first["id"]}"]')).to_have_attribute(
        "data-status", "success"
    )
    await expect(tab.locator('#zns-totals [data-figure="sent"] dd')).to_have_text("2")
    await expect(tab.locator('#zns-totals [data-figure="charged"] dd')).to_have_text("1")
    await expect(tab.locator('#zns-totals [data-figure="spend"] dd')).to_have_text("300")
    await expect(tab.locator('#zns-by-template tr[data-template="tpl-1"]')).to_contain_text("2")
    await expect(tab.locator('#zns-by-kind tr[data-kind="phone"]')).to_contain_text("Theo số điện thoại")

    feedback = oa.zns_feedback(first["phone"], first["msg_id"], 5, "Giao nhanh", ["Nhân viên thân thiện"])
    assert (await oa.deliver(company.http, company.url, feedback)).status_code == 200
    review = tab.locator(f'#zns-reviews tr[data-review-id="{first["id"]}"]')
    await expect(review).to_contain_text("Nhân viên thân thiện")
    await expect(review).to_contain_text("★★★★★")
    await page.screenshot(path=screenshot_path("zns.png", tmp_path), full_page=True)

    await tab.locator("input[name=msg_id]").fill(second["msg_id"])  # one message found by its id
    await tab.locator("#zns-filters button[type=submit]").click()
    await expect(tab.locator("#zns-messages tbody tr")).to_have_count(1)
    await expect(tab.locator("#zns-reviews tbody")).to_contain_text("Chưa có đánh giá nào.")

    # The OA's templates from Zalo, one opened; then a message sent with one, its parameter filled in.
    await tab.locator("#zns-load-templates").click()
    await tab.locator('#zns-template-list tr[data-template-id="tpl-otp"]').click()
    detail = tab.locator("#zns-template-detail")
    await expect(detail).to_contain_text("Có (15 giây)")
    await expect(detail.locator('li[data-param="otp"]')).to_contain_text("bắt buộc")
    await tab.locator("#zns-send").click()
    dialog = page.locator("#zns-send-dialog")
    await dialog.locator("input[name=phone]").fill("0912000222")
    await dialog.locator("select[name=template_id]").select_option("tpl-otp")
    await dialog.locator('input[data-param="otp"]').fill("4321")
    await expect(dialog.locator(".zns-template-info")).to_contain_text("Mẫu OTP")
    await dialog.locator("button[value=send]").click()
    await expect(dialog).to_be_hidden()
    await tab.locator("input[name=msg_id]").fill("")
    await tab.locator("#zns-filters button[type=submit]").click()
    sent_row = tab.locator("#zns-messages tbody tr").filter(has_text="84912000222")
    await expect(sent_row).to_contain_text("tpl-otp")
    assert fake_zalo.zns_sent[-1]["template_data"] == {"otp": "4321"}

    await page.click("#lang")
    await expect(tab.locator("h2")).to_have_text("ZNS messages")
    await expect(tab.locator('#zns-totals [data-figure="sent"] dt')).to_have_text("Messages sent")

    await expect(agent.locator("[data-tab=zns]")).to_be_hidden()
