"""The customer page in the console: an agent types the customer's phone in the chat panel; the owner opens the
customer from a call's number, sees the sections, a new call arrives live, and sends a ZCC request and a ZNS
message (picked from the OA's templates, one field per parameter) that are listed on the page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import CALLER, canonical
from tests.test_customers import zns_hours
from tests.test_pbx_calls import _agent, _pbx
from tests.web_steps import assign, console_of, zalo_user
from tests.zalo_payloads import Oa, zalo_id


async def test_customer_page_from_phone_to_sections_live_calls_zcc_and_zns(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page, clock, tmp_path: Path
) -> None:
    agent = await _agent(company, "101")
    pbx = await _pbx(company)
    template_id = str(500000 + int(zalo_id()[-5:]))
    fake_zalo.templates[template_id] = {
        "templateId": int(template_id),
        "templateName": "Lịch hẹn bảo hành",
        "status": "ENABLE",
        "templateQuality": "HIGH",
        "templateTag": "TRANSACTION",
        "timeout": 7200000,
        "listParams": [
            {"name": "customer_name", "require": True, "type": "STRING", "maxLength": 30, "minLength": 1},
            {"name": "appointment", "require": True, "type": "STRING", "maxLength": 10, "minLength": 1},
            {"name": "note", "require": False, "type": "STRING", "maxLength": 40, "minLength": 0},
        ],
    }
    user_id = zalo_user(fake_zalo, "Chị Hạnh")
    thread_id = await assign(company, oa, user_id, agent, f"máy lạnh kêu to {zalo_id()}", named="Chị Hạnh")
    now = datetime.now(UTC)
    for event in canonical("answered", base=now - timedelta(minutes=30)):
        assert (await pbx.post(company.http, event)).status_code == 200

    # The agent types the customer's phone on the thread: it becomes a link to the customer page.
    theirs = await console_of(new_page, agent, company.url)
    await theirs.locator("li.thread", has_text="Chị Hạnh").click()
    await theirs.fill("#conv-phone-input", "12")
    await theirs.click("#conv-phone-save")
    await expect(theirs.locator("#conv-phone-error")).to_contain_text("Số điện thoại không hợp lệ")
    await theirs.fill("#conv-phone-input", CALLER)
    await theirs.click("#conv-phone-save")
    await expect(theirs.locator("#conv-contact a.customer-page")).to_have_text(CALLER)
    await expect(theirs.locator("#conv-contact")).to_contain_text("nhân viên nhập")

    # The owner opens the customer from the call's number in the call history.
    owner = await console_of(new_page, company.owner, company.url)
    await owner.click("[data-tab=calls]")
    await owner.locator("#call-history tbody a.customer-page", has_text=CALLER).first.click()
    await expect(owner.locator("#tab-customer")).to_be_visible()
    await expect(owner.locator("#customer-name")).to_have_text("Chị Hạnh")
    assert owner.url.endswith("#customer/%2B84912345678")
    await expect(owner.locator("#customer-threads tbody tr[data-thread-id]")).to_have_count(1)
    await expect(owner.locator("#customer-calls tbody tr[data-call-id]")).to_have_count(1)
    await expect(owner.locator("#customer-zns")).to_contain_text("Chưa gửi tin ZNS nào.")
    await expect(owner.locator("#customer-consents")).to_contain_text("Chưa có yêu cầu ZCC nào.")

    # A new call from the customer arrives live.
    for event in canonical("no_answer", base=datetime.now(UTC) - timedelta(minutes=1)):
        assert (await pbx.post(company.http, event)).status_code == 200
    await expect(owner.locator("#customer-calls tbody tr[data-call-id]")).to_have_count(2)

    # ZCC: the OA and the guide's reason; a second request is refused by the resend rule, as the hub says.
    await owner.click("#customer-send-zcc")
    zcc = owner.locator("#customer-zcc-dialog")
    await zcc.locator("select[name=oa_id]").select_option(oa.oa_id)
    await zcc.locator("select[name=reason_code]").select_option("103")
    await zcc.get_by_role("button", name="Gửi", exact=True).click()
    await expect(zcc).to_be_hidden()
    consents = owner.locator("#customer-consents tbody tr[data-consent-id]")
    await expect(consents).to_have_count(1)
    await expect(consents).to_contain_text("103 · Xác nhận đơn hàng, lịch hẹn")
    assert fake_zalo.consent_requests[-1]["phone"] == "84912345678"
    await owner.click("#customer-send-zcc")
    await zcc.get_by_role("button", name="Gửi", exact=True).click()
    await expect(zcc.locator(".error")).to_contain_text("Chưa được gửi lại yêu cầu; gửi lại được từ")
    await zcc.get_by_role("button", name="Huỷ").click()

    # ZNS: the template picker, one field per parameter (required marked, maxLength kept), then the message listed.
    zns_hours(clock)
    await owner.click("#customer-send-zns")
    zns = owner.locator("#customer-zns")
    dialog = owner.locator("#customer-zns-dialog")
    await dialog.locator("select[name=template_id]").select_option(template_id)
    fields = dialog.locator(".zns-params input")
    await expect(fields).to_have_count(3)
    await expect(dialog.locator(".zns-params abbr.required")).to_have_count(2)
    await expect(fields.nth(1)).to_have_attribute("maxlength", "10")
    await fields.nth(0).fill("Chị Hạnh")
    await fields.nth(1).press_sequentially("15/12/2026 9h")  # 13 characters typed, 10 kept
    await expect(fields.nth(1)).to_have_value("15/12/2026")
    await dialog.get_by_role("button", name="Gửi", exact=True).click()
    await expect(dialog).to_be_hidden()
    await expect(zns.locator("tbody tr[data-zns-id]")).to_have_count(1)
    await expect(zns.locator("tbody tr[data-zns-id]")).to_contain_text(template_id)
    sent = fake_zalo.zns_sent[-1]
    assert sent["phone"] == "84912345678" and sent["template_id"] == template_id
    assert sent["template_data"] == {"customer_name": "Chị Hạnh", "appointment": "15/12/2026"}
    await owner.screenshot(path=screenshot_path("customer.png", tmp_path), full_page=True)

    # In English too; and a thread row opens the thread in the Chats tab.
    await owner.click("#lang")
    await expect(owner.locator("#customer-send-zcc")).to_have_text("Send call request (ZCC)")
    await expect(owner.locator("#customer-threads h3")).to_have_text("Zalo threads")
    await owner.locator(f"#customer-threads tr[data-thread-id='{thread_id}']").click()
    await expect(owner.locator("#tab-chats")).to_be_visible()
    await expect(owner.locator("#conv-name")).to_have_text("Chị Hạnh")

    # The agent (a user) sees the customer without the ZNS section or button.
    await theirs.locator("#conv-contact a.customer-page").click()
    await expect(theirs.locator("#customer-threads tbody tr[data-thread-id]")).to_have_count(1)
    await expect(theirs.locator("#customer-send-zcc")).to_be_visible()
    await expect(theirs.locator("#customer-send-zns")).to_have_count(0)
    await expect(theirs.locator("#customer-zns")).to_have_count(0)
