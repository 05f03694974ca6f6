"""ZNS journeys in the ZNS tab (Chromium, against the fake Zalo): an owner creates a journey, sends a template in
it through the send dialog, and sees Zalo's acknowledgement mark it charged live (journey.updated)."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.test_journeys import _daytime
from tests.web_steps import console_of
from tests.zalo_payloads import Oa


async def test_owner_creates_a_journey_sends_in_it_and_sees_it_charged_live(
    company: Company, oa: Oa, fake_zalo, clock, new_page, tmp_path: Path
) -> None:
    user = await company.add("user")
    page = await console_of(new_page, company.owner, company.url)  # tokens from the real clock, before it moves
    agent = await console_of(new_page, user, company.url)
    _daytime(clock)
    oa.clock_offset_s = clock.offset_s  # Zalo's webhook times on the hub's clock
    await page.click("[data-tab=zns]")
    part = page.locator("#zns-journeys")
    await expect(part.locator("#journey-list tbody")).to_contain_text("Chưa có hành trình nào.")

    await part.locator("#journey-new").click()
    dialog = page.locator("#journey-new-dialog")
    await dialog.locator("input[name=phone]").fill("0912 000 777")
    await dialog.locator("select[name=token_type]").select_option("token_logistics_30")
    await dialog.locator("button[value=create]").click()
    await expect(dialog).to_be_hidden()
    row = part.locator("#journey-list tbody tr[data-journey-id]")
    await expect(row).to_have_count(1)
    await expect(row).to_have_attribute("data-status", "active")
    await expect(row).to_contain_text("84912000777")
    assert fake_zalo.journey_requests[-1] == {"phone": "84912000777", "token_type": "token_logistics_30"}
    detail = part.locator("#journey-detail")
    await expect(detail).to_contain_text("Giao vận · 30 ngày")
    token = next(iter(t for t, k in fake_zalo.journey_tokens.items() if k["phone"] == "84912000777"))
    await expect(detail).not_to_contain_text(token)  # only the token's ends are shown

    await detail.locator("#journey-send").click()
    sender = page.locator("#journey-send-dialog")
    await sender.locator("select[name=template_id]").select_option("tpl-1")
    await expect(sender.locator(".zns-template-info")).to_contain_text("300")
    await sender.locator("button[value=send]").click()
    await expect(sender).to_be_hidden()
    await expect(detail.locator("#journey-messages tbody tr[data-zns-id]")).to_have_count(1)
    await expect(row.locator("td").nth(7)).to_have_text("1")
    sent = fake_zalo.zns_sent[-1]
    assert sent["journey_token"] == token
    # Zalo's receipt of the journey's message (zns.updated) reaches its row in the open detail.
    receipt = oa.zns_delivered(sent["phone"], sent["msg_id"], sent["tracking_id"], str(int(sent["sent_time"]) + 3000))
    assert (await oa.deliver(company.http, company.url, receipt)).status_code == 200
    await expect(detail.locator("#journey-messages tbody tr[data-zns-id]")).to_have_attribute("data-status", "success")

    journeys = (await company.http.get(f"{company.url}/api/zns/journeys", headers=company.owner.auth)).json()
    charged = oa.journey_event("event_journey_acknowledged", journeys["journeys"][0]["journey_id"])
    assert (await oa.deliver(company.http, company.url, charged)).status_code == 200
    await expect(row).to_have_attribute("data-status", "charged")
    await expect(row).to_have_attribute("data-charged", "true")
    await expect(detail).to_contain_text("Đã tính phí")
    await page.screenshot(path=screenshot_path("zns-journeys.png", tmp_path), full_page=True)

    await part.locator("select[name=charged]").select_option("false")  # the filters: none left uncharged
    await part.locator("#journey-filters button[type=submit]").click()
    await expect(part.locator("#journey-list tbody tr[data-journey-id]")).to_have_count(0)

    await page.click("#lang")
    await expect(part.locator("h3").first).to_have_text("ZNS journeys")
    await expect(part.locator("#journey-new")).to_have_text("New journey")
    await expect(agent.locator("[data-tab=zns]")).to_be_hidden()
