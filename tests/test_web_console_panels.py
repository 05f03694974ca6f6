"""The rest of what people do in the web console: choose a company, see missed calls and history, follow call
consent, label and resolve, see Zalo's refusals and a closed reply window, and recover after a long outage."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import openpyxl
from playwright.async_api import expect

from hub.runtime import Runtime
from tests.browser import TcpProxy, screenshot_path
from tests.conftest import Company, link_oa, make_company
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import Pbx, canonical
from tests.web_steps import (
    agent_in_thread,
    assign,
    console_of,
    messages,
    missed_calls,
    owner_in_thread,
    owner_opens_customer,
    zalo_user,
)
from tests.zalo_payloads import ATTACHMENTS, Oa, zalo_id


async def test_login_asks_which_company_when_the_account_has_several(
    company: Company, runtime: Runtime, new_page
) -> None:
    second, _, password = await runtime.directory.bootstrap(
        "co2" + company.code[2:], "Chi nhánh Đà Nẵng", company.owner.phone, "Chủ", None
    )
    assert password is None, "the same account: its password stays"
    page = await new_page()
    await page.goto(f"{company.url}/console")
    await page.wait_for_url(f"{company.url}/")  # no session: to the login page
    await page.fill("#phone", company.owner.phone)
    await page.fill("#password", "wrong password")
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_have_text("Sai số điện thoại hoặc mật khẩu.")

    await page.fill("#password", company.owner.password)
    await page.click("#login-submit")
    await expect(page.locator("#company-list .company")).to_have_count(2)
    await page.click(f'#company-list .company[data-code="{second.code}"]')
    await page.wait_for_url("**/console")
    await expect(page.locator("#brand")).to_have_text("Chi nhánh Đà Nẵng")


async def test_supervisor_gets_the_missed_call_alert_and_finds_it_in_history(
    company: Company, http: httpx.AsyncClient, new_page, tmp_path: Path
) -> None:
    await http.patch(f"{company.url}/api/company", headers=company.owner.auth, json={"name": "Tổng đài CSKH"})
    care, sales = [
        (await http.post(f"{company.url}/api/departments", headers=company.owner.auth, json={"name": name})).json()[
            "id"
        ]
        for name in ("CSKH", "Kinh doanh")
    ]
    agent = await company.add("user", name="Võ Minh Tâm", department_id=care)
    await http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "102"}
    )
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=calls]")
    await expect(page.locator("#call-history tbody")).to_contain_text("Không có cuộc gọi nào")

    events = canonical("no_answer")
    await pbx.post(http, events[0])
    live = page.locator("#live-calls tbody tr[data-call-id]")
    await expect(live).to_have_attribute("data-state", "ringing")
    await expect(live).to_contain_text("0912345678")  # supervisors see the number
    await expect(page.locator('#extension-tiles .ext-tile[data-extension="102"]')).to_have_attribute(
        "data-state", "ringing"
    )
    for event in events[1:]:
        await pbx.post(http, event)

    alert = page.locator(".toast.missed")
    await expect(alert.locator(".caller")).to_have_text("0912345678")
    await expect(alert.locator(".rang")).to_have_text("102 (30 s)")
    await expect(alert.locator(".reason")).not_to_be_empty()
    await expect(live).to_have_count(0)
    row = page.locator("#call-history tbody tr[data-call-id]")
    await expect(row).to_have_attribute("data-outcome", "missed")
    await page.screenshot(path=screenshot_path("console-calls.png", tmp_path))

    await page.select_option("#call-filters select[name=status]", "answered")
    await page.click("#call-filters button[type=submit]")
    await expect(page.locator("#call-history tbody")).to_contain_text("Không có cuộc gọi nào")
    await page.select_option("#call-filters select[name=status]", "missed")
    await page.click("#call-filters button[type=submit]")
    await expect(row).to_have_count(1)
    await page.select_option("#call-filters select[name=department]", sales)  # 102 is not Sales'
    await page.click("#call-filters button[type=submit]")
    await expect(row).to_have_count(0)
    await page.select_option("#call-filters select[name=department]", care)
    await page.click("#call-filters button[type=submit]")
    await expect(row).to_have_count(1)
    await expect(row.locator("td.department")).to_have_text("CSKH")  # the department of whom it rang, then
    await page.fill("#call-filters input[name=phone]", "+84 912 345 678")  # the caller, in another form
    await page.click("#call-filters button[type=submit]")
    await expect(row).to_have_count(1)
    await page.fill("#call-filters input[name=phone]", "0987000111")
    await page.click("#call-filters button[type=submit]")
    await expect(row).to_have_count(0)
    await page.fill("#call-filters input[name=phone]", "")
    await alert.get_by_role("button").click()
    await expect(alert).to_have_count(0)


async def test_consent_panel_shows_a_request_and_the_customers_answer_live(company: Company, oa: Oa, new_page) -> None:
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=consents]")
    await page.fill("#consent-form input[name=phone]", "0987654321")
    await page.click("#consent-form button[type=submit]")
    row = page.locator("#consent-list tbody tr[data-consent-id]")
    await expect(row).to_have_attribute("data-status", "waiting")
    await expect(row).to_contain_text("84987654321")

    await oa.deliver(company.http, company.url, oa.consent_sent("84987654321"))
    await oa.deliver(company.http, company.url, oa.consent_reply("84987654321", "ALLOW"))
    await expect(row).to_have_attribute("data-status", "agreed")
    await expect(row).to_contain_text("Đồng ý")

    await page.click("#consent-form button[type=submit]")  # the product's resend rule refuses
    await expect(page.locator("#consent-error")).to_contain_text("Chưa được gửi lại yêu cầu")

    async with page.expect_download() as xlsx:  # the list as a file
        await page.click("#consents-export-xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO((await (await xlsx.value).path()).read_bytes()), read_only=True)
    header, *rows = list(sheet.worksheets[0].iter_rows(values_only=True))
    assert [(row[2], row[6]) for row in rows] == [("84987654321", "Đồng ý")]


async def test_request_info_labels_typing_and_resolve_reach_everyone_on_the_thread(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    label = (
        await company.http.post(
            f"{company.url}/api/labels", headers=company.owner.auth, json={"name": "Khách VIP", "color": "#d93025"}
        )
    ).json()
    agent = await agent_in_thread(
        company, oa, fake_zalo, new_page, company.url, "Đặng Quốc Huy", "Hàng lỗi, đổi giúp mình"
    )
    owner_page = await owner_in_thread(company, new_page, agent)
    agent_page, customer, thread_id = agent.page, agent.customer, agent.thread_id

    # The agent asks for the customer's contact details; the customer shares them.
    await agent_page.click("#request-info")
    await expect(messages(agent_page).last).to_contain_text("Đã gửi yêu cầu chia sẻ thông tin")
    assert fake_zalo.sent_to(customer)[-1]["message"]["attachment"]["payload"]["template_type"] == "request_user_info"
    await oa.deliver(
        company.http,
        company.url,
        oa.submit_info(
            customer,
            {
                "name": "Đặng Quốc Huy",
                "phone": "84987000111",
                "address": "5 Lê Lợi",
                "ward": "Bến Nghé",
                "district": "Quận 1",
                "city": "TP HCM",
            },
        ),
    )
    await expect(agent_page.locator("#conv-contact .phone")).to_contain_text("84987000111")
    await expect(agent_page.locator("#conv-contact .address")).to_contain_text("5 Lê Lợi, Bến Nghé, Quận 1, TP HCM")

    await agent_page.select_option("#conv-add-label", label["id"])
    await expect(agent_page.locator("#conv-labels")).to_contain_text("Khách VIP")
    await expect(owner_page.locator(f'li.thread[data-thread-id="{thread_id}"] .label-chip')).to_have_text("Khách VIP")

    await owner_page.type("#composer-text", "Chị xử lý giúp em")
    await expect(agent_page.locator("#typing")).to_be_visible()

    await agent_page.click("#conv-resolve")
    await expect(agent_page.locator("#conv-resolve")).to_have_attribute("data-action", "reopen")
    await expect(owner_page.locator(f'li.thread[data-thread-id="{thread_id}"] .badge.done')).to_be_visible()


async def test_composer_shows_zalos_refusal_and_a_closed_reply_window(
    company: Company, oa: Oa, fake_zalo: FakeZalo, clock, new_page
) -> None:
    agent = await agent_in_thread(company, oa, fake_zalo, new_page, company.url, "Bùi Thị Lan", "Cho mình xem mẫu mới")
    page, customer = agent.page, agent.customer

    fake_zalo.refusals[customer] = -230
    await page.fill("#composer-text", "Dạ mẫu mới đây ạ")
    await page.click("#send")
    await expect(page.locator("#composer-error")).to_contain_text("Khách hàng không tương tác với OA trong 7 ngày qua")
    await expect(messages(page).last).to_have_class("msg out failed")
    assert fake_zalo.sent_to(customer) == []

    badge = page.locator("#conv-window .badge")
    await expect(badge).to_have_text(re.compile(r"^Miễn phí · đến \d\d:\d\d"))  # free, and until when
    clock.advance(49 * 3600)  # two days without the customer: replies are charged, until day 7
    await expect(badge).to_have_attribute("data-window", "charged")
    await expect(badge).to_have_text(re.compile(r"^Tính phí · đến "))
    await expect(page.locator("#send")).to_be_enabled()
    clock.advance(6 * 24 * 3600)  # a week: time alone closes the window
    await expect(badge).to_have_attribute("data-window", "blocked")
    await expect(page.locator("#send")).to_be_disabled()


async def test_console_reloads_its_lists_when_the_gap_is_older_than_the_log(
    company: Company, oa: Oa, fake_zalo: FakeZalo, network: TcpProxy, runtime: Runtime, new_page
) -> None:
    opened = await agent_in_thread(
        company, oa, fake_zalo, new_page, network.url, "Hồ Ngọc Anh", "Tin trước khi mất mạng"
    )
    page, agent, user_id = opened.page, opened.agent, opened.customer
    network.cut()
    await expect(page.locator("#banner")).to_have_attribute("data-state", "reconnecting")
    new_thread = await assign(
        company, oa, zalo_user(fake_zalo, "Khách mới"), agent, "Khách mới nhắn trong lúc mất mạng"
    )
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="Tin trong lúc mất mạng"))
    # The operator prunes the event log meanwhile: the console's last_seq is now older than the log.
    assert await runtime.event_log.prune(datetime.now(UTC) + timedelta(seconds=1), company.id) > 0

    network.restore()
    await expect(page.locator("#banner")).to_be_hidden()
    await expect(messages(page).locator(".text")).to_have_text(["Tin trước khi mất mạng", "Tin trong lúc mất mạng"])
    await expect(page.locator(f'li.thread[data-thread-id="{new_thread}"]')).to_contain_text("Khách mới nhắn")


async def test_owner_gets_a_wallboard_link_from_the_console_and_the_tv_opens_it(company: Company, new_page) -> None:
    page = await console_of(new_page, company.owner, company.url)
    await page.click("#wallboard-link")
    link = page.locator("#wallboard-url")
    await expect(link).to_have_attribute("href", re.compile(r"/wallboard#token=ey"))
    tv = await new_page()  # another device: no session of the owner's
    await tv.goto(await link.get_attribute("href"))
    await expect(tv.locator('[data-counter="offered"] .value')).to_have_text("0")
    await expect(tv.locator("#wb-company")).to_have_text(f"Company {company.code}")

    # The owner revokes the link (a TV was stolen): the display is cut at once and says why.
    tokens = (await company.http.get(f"{company.url}/api/wallboard-tokens", headers=company.owner.auth)).json()
    await company.http.delete(
        f"{company.url}/api/wallboard-tokens/{tokens['wallboard_tokens'][0]['id']}", headers=company.owner.auth
    )
    await expect(tv.locator("#wb-error")).to_contain_text("đã bị thu hồi")
    await expect(tv.locator("#banner")).to_be_hidden()


async def test_owner_narrows_the_thread_list_with_filters(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    label = (
        await company.http.post(f"{company.url}/api/labels", headers=company.owner.auth, json={"name": "Đơn sỉ"})
    ).json()
    agent = await company.add("user", name="Ngô Bảo Châu")
    assigned = await assign(company, oa, zalo_user(fake_zalo, "Khách đặt sỉ"), agent, "Mình muốn đặt 200 áo")
    await company.http.post(
        f"{company.url}/api/threads/{assigned}/labels", headers=company.owner.auth, json={"label_id": label["id"]}
    )
    await oa.deliver(
        company.http, company.url, oa.user_message(zalo_user(fake_zalo, "Khách lẻ"), text="Còn hàng không?")
    )
    page = await console_of(new_page, company.owner, company.url)
    threads = page.locator("li.thread")
    await expect(threads).to_have_count(2)

    await page.select_option("#f-label", label["id"])
    await expect(threads).to_have_count(1)
    await expect(threads).to_contain_text("Khách đặt sỉ")
    await expect(threads.locator(".assignee")).to_have_text("Ngô Bảo Châu")
    await page.select_option("#f-label", "")
    await page.select_option("#f-assignee", "none")  # the queue: nobody has it yet
    await expect(threads).to_have_count(1)
    await expect(threads).to_contain_text("Khách lẻ")
    await page.select_option("#f-assignee", "")
    await page.fill("#f-text", "200 áo")
    await expect(threads).to_have_count(1)
    await expect(threads).to_contain_text("Khách đặt sỉ")


async def test_conversation_shows_each_kind_of_attachment(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    page, user_id = await owner_opens_customer(company, oa, fake_zalo, new_page, "Khách gửi ảnh", "Xem giúp mình")
    for kind in ("image", "sticker", "link", "file", "location"):
        await oa.deliver(
            company.http, company.url, oa.user_message(user_id, kind=kind, text=None, attachments=ATTACHMENTS[kind])
        )
    await expect(messages(page)).to_have_count(6)
    await expect(page.locator("#messages .att.image img")).to_have_attribute("src", "https://photo.zdn.vn/t.jpg")
    await expect(page.locator("#messages .att.image")).to_have_attribute("href", "https://photo.zdn.vn/a.jpg")
    await expect(page.locator("#messages img.att.sticker")).to_have_attribute("src", "https://zalo-api.zadn.vn/s.png")
    await expect(page.locator("#messages .att.link")).to_contain_text("Áo thun")
    await expect(page.locator("#messages .att.file")).to_contain_text("báo giá.pdf")
    await expect(page.locator("#messages .att.location")).to_have_attribute("href", re.compile("10.7769"))


async def test_attachment_links_with_a_script_scheme_never_reach_the_page(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    page, user_id = await owner_opens_customer(company, oa, fake_zalo, new_page, "Khách lạ", "Xem ảnh")
    hostile = [{"type": "image", "payload": {"url": "javascript:alert(1)", "thumbnail": "vbscript:msgbox(1)"}}]
    await oa.deliver(company.http, company.url, oa.user_message(user_id, kind="image", text=None, attachments=hostile))
    files = [{"type": "file", "payload": {"url": "data:text/html,<script>alert(1)</script>", "name": "x.html"}}]
    await oa.deliver(company.http, company.url, oa.user_message(user_id, kind="file", text=None, attachments=files))
    await expect(messages(page)).to_have_count(3)
    for selector in ("#messages .att.image", "#messages .att.file"):
        assert await page.locator(selector).get_attribute("href") is None
    assert await page.locator("#messages .att.image img").get_attribute("src") is None
    # a web address still is one
    await oa.deliver(
        company.http, company.url, oa.user_message(user_id, kind="image", text=None, attachments=ATTACHMENTS["image"])
    )
    await expect(page.locator("#messages .att.image").last).to_have_attribute("href", "https://photo.zdn.vn/a.jpg")


async def test_directory_and_company_changes_show_live_without_a_reload(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    page, _user_id = await owner_opens_customer(company, oa, fake_zalo, new_page, "Khách giờ giấc", "Mấy giờ rồi?")
    shown = page.locator("#messages li.msg time").first
    await expect(shown).to_have_text(re.compile(r"\d"))
    before = await shown.text_content()
    # Vietnam (UTC+7) to New York (UTC-5): every time on screen moves by 12 hours, live.
    response = await company.http.patch(
        f"{company.url}/api/company",
        headers=company.owner.auth,
        json={"timezone": "America/New_York", "name": "Công ty Đổi Tên"},
    )
    assert response.status_code == 200, response.text
    await expect(shown).not_to_have_text(before)
    await expect(page.locator("#brand")).to_have_text("Công ty Đổi Tên")
    # English keeps the company's name in the top bar
    await page.locator("#lang").click()
    await expect(page.locator("#brand")).to_have_text("Công ty Đổi Tên")
    # a member added elsewhere can be assigned at once
    agent = await company.add("user", name="Nhân viên Mới")
    await expect(page.locator("#conv-assignee option", has_text="Nhân viên Mới")).to_have_count(1)
    removed = await company.http.delete(f"{company.url}/api/members/{agent.id}", headers=company.owner.auth)
    assert removed.status_code == 204
    await expect(page.locator("#conv-assignee option", has_text="Nhân viên Mới")).to_have_count(0)


async def test_owner_loads_older_threads_page_by_page(company: Company, oa: Oa, new_page) -> None:
    async def as_zalo_delivers(payload: dict) -> int:
        """A 503 (storage not reachable this moment) is answered by redelivery, as Zalo does."""
        for _attempt in range(3):
            status = (await oa.deliver(company.http, company.url, payload)).status_code
            if status != 503:
                return status
        return status

    for batch in range(0, 52, 13):
        statuses = await asyncio.gather(
            *(as_zalo_delivers(oa.user_message(zalo_id(), text=f"Khách số {n}")) for n in range(batch, batch + 13))
        )
        assert set(statuses) == {200}
    page = await console_of(new_page, company.owner, company.url)
    threads = page.locator("li.thread")
    await expect(threads).to_have_count(50)
    await page.locator("#thread-list li.more button").click()
    await expect(threads).to_have_count(52)
    await expect(page.locator("#thread-list li.more")).to_have_count(0)


async def test_manager_hands_their_thread_to_an_agent_and_no_longer_sees_it(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    manager = await company.add("manager", name="Lý Thanh Tùng")
    agent = await company.add("user", name="Mai Phương")
    thread_id = await assign(company, oa, zalo_user(fake_zalo, "Khách cần hỗ trợ"), manager, "Cần người hỗ trợ gấp")
    page = await console_of(new_page, manager, company.url)
    item = page.locator(f'li.thread[data-thread-id="{thread_id}"]')
    await item.click()
    await expect(page.locator("#conv-assignee")).to_be_visible()  # a manager assigns their own threads
    await page.select_option("#conv-assignee", agent.id)
    await expect(item).to_have_count(0)
    await expect(page.locator("#conv-empty")).to_have_text("Hội thoại này đã được chuyển cho người khác.")
    listed = (await company.http.get(f"{company.url}/api/threads", headers=agent.auth)).json()["threads"]
    assert [t["id"] for t in listed] == [thread_id]


async def test_a_removed_agent_is_sent_to_the_login_page_saying_why(company: Company, new_page) -> None:
    agent = await company.add("user")
    page = await console_of(new_page, agent, company.url)
    removed = await company.http.delete(f"{company.url}/api/members/{agent.id}", headers=company.owner.auth)
    assert removed.status_code == 204
    await page.wait_for_url(f"{company.url}/?reason=removed")
    await expect(page.locator("#login-note")).to_have_text("Tài khoản của bạn không còn thuộc công ty đó.")


async def test_login_page_says_when_a_phone_is_locked_after_wrong_passwords(company: Company, new_page) -> None:
    agent = await company.add("user")
    for _ in range(5):
        await company.http.post(f"{company.url}/api/auth/login", json={"phone": agent.phone, "password": "đoán"})
    page = await new_page()
    await page.goto(f"{company.url}/")
    await page.fill("#phone", agent.phone)
    await page.fill("#password", agent.password)
    await page.click("#login-submit")
    await expect(page.locator("#login-error")).to_contain_text("Nhập sai mật khẩu quá nhiều lần. Thử lại sau")
    assert page.url == f"{company.url}/"


async def test_console_on_one_process_shows_what_another_process_ingested(
    pair_runtime, hub_pair, http: httpx.AsyncClient, fake_zalo: FakeZalo, new_page
) -> None:
    first, second = hub_pair  # two hub processes behind one load balancer (shared MongoDB and Redis)
    company = await make_company(pair_runtime, first.url, http)
    oa = await link_oa(company, fake_zalo)
    agent = await company.add("user")
    user_id = zalo_user(fake_zalo, "Khách hai máy chủ")
    thread_id = await assign(company, oa, user_id, agent, "Tin qua máy chủ thứ nhất")
    page = await console_of(new_page, agent, first.url)
    await page.locator(f'li.thread[data-thread-id="{thread_id}"]').click()
    for n in range(1, 4):  # Zalo's webhooks land on the other process
        assert (
            await oa.deliver(http, second.url, oa.user_message(user_id, text=f"Qua máy chủ thứ hai {n}"))
        ).status_code == 200
    await expect(messages(page).locator(".text")).to_have_text(
        ["Tin qua máy chủ thứ nhất", *[f"Qua máy chủ thứ hai {n}" for n in range(1, 4)]]
    )


async def test_english_keeps_the_companys_name_in_the_console_and_on_the_wallboard(company: Company, new_page) -> None:
    name = "Nhà thuốc Minh Châu"
    await company.http.patch(f"{company.url}/api/company", headers=company.owner.auth, json={"name": name})
    page = await console_of(new_page, company.owner, company.url)
    await expect(page.locator("#brand")).to_have_text(name)
    await page.click("#lang")
    await expect(page.locator("[data-tab=chats]")).to_have_text("Chats")
    await expect(page.locator("#brand")).to_have_text(name)

    token = (
        await company.http.post(
            f"{company.url}/api/wallboard-tokens", headers=company.owner.auth, json={"name": "Quầy thuốc"}
        )
    ).json()["token"]
    tv = await new_page()
    await tv.goto(f"{company.url}/wallboard#token={token}")
    await expect(tv.locator("#wb-company")).to_have_text(name)
    # Read in the same task as the click: the next snapshot (every 0.5 s here) would put the name back.
    switch_and_read = (
        "() => { document.querySelector('#lang').click(); return document.querySelector('#wb-company').textContent; }"
    )
    shown = await tv.evaluate(switch_and_read)
    assert shown == name
    await expect(tv.locator('[data-counter="answer_rate"] .name')).to_have_text("Answer rate")


async def test_an_open_alert_and_a_shown_refusal_follow_the_language_switch(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    page, customer = await owner_opens_customer(
        company, oa, fake_zalo, new_page, "Khách đổi ngôn ngữ", "Cho hỏi giờ mở cửa"
    )
    fake_zalo.refusals[customer] = -230
    await page.fill("#composer-text", "Dạ 8 giờ sáng ạ")
    await page.click("#send")
    await expect(page.locator("#composer-error")).to_contain_text("Zalo từ chối")
    await missed_calls(company)
    alert = page.locator(".toast.missed")
    await expect(alert.locator("strong")).to_have_text("Cuộc gọi nhỡ")

    await page.click("#lang")
    await expect(alert.locator("strong")).to_have_text("Missed call")
    await expect(alert.locator("dt").first).to_have_text("Caller")
    await expect(alert.get_by_role("button")).to_have_text("Dismiss")
    call_id = await alert.get_attribute("data-call-id")
    call = (await company.http.get(f"{company.url}/api/calls/{call_id}", headers=company.owner.auth)).json()
    await expect(alert.locator(".reason")).to_have_text(call["end_reason_text"]["en"])
    await expect(page.locator("#composer-error")).to_contain_text("Zalo refused")
    await expect(page.locator("#composer-error")).not_to_contain_text("Zalo từ chối")


async def test_missed_call_alerts_hide_no_control_of_the_open_conversation(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    page, _customer = await owner_opens_customer(company, oa, fake_zalo, new_page, "Khách đang chat", "Mình cần tư vấn")
    await missed_calls(company, count=2)
    alerts = page.locator(".toast.missed")
    await expect(alerts).to_have_count(2)

    def overlap(a: dict, b: dict) -> bool:
        return (
            a["x"] < b["x"] + b["width"]
            and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"]
            and b["y"] < a["y"] + a["height"]
        )

    controls = page.locator("#conv button:visible, #conv select:visible, #conv textarea, #conv label.button")
    for alert in await alerts.all():
        shown = await alert.bounding_box()
        for control in await controls.all():
            box = await control.bounding_box()
            assert box and shown and not overlap(shown, box), await control.evaluate("el => el.outerHTML")
    # Playwright clicks only what would receive the click: a covered Send button fails here.
    await page.fill("#composer-text", "Dạ em tư vấn ngay ạ")
    await page.click("#send", timeout=5_000)
    await expect(messages(page).last).to_contain_text("Dạ em tư vấn ngay ạ")
    await expect(alerts).to_have_count(2)


async def test_call_history_shows_older_calls_a_page_at_a_time_and_exports_them_all(
    company: Company, http: httpx.AsyncClient, new_page
) -> None:
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    base = datetime.now(UTC) - timedelta(hours=1)
    for n in range(101):  # one more than a page: each a call the PBX reports once, when it ended
        ended = {"call_id": f"old-{n:03d}", "event": "ended", "direction": "inbound", "from": "0912345678"}
        at = (base - timedelta(seconds=n)).isoformat()
        assert (await pbx.post(http, {**ended, "to": "19001234", "occurred_at": at})).status_code < 300
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=calls]")
    rows = page.locator("#call-history tbody tr[data-call-id]")
    await expect(rows).to_have_count(100)
    older = page.locator("#calls-older")
    await expect(older).to_have_text("Cũ hơn")
    await older.click()
    await expect(rows).to_have_count(101)
    await expect(older).to_be_hidden()

    # The filter as it stands, every call of it (not only the pages shown), as a file.
    async with page.expect_download() as xlsx:
        await page.click("#calls-export-xlsx")
    download = await xlsx.value
    assert re.fullmatch(r"calls-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    sheet = openpyxl.load_workbook(io.BytesIO((await download.path()).read_bytes()), read_only=True).worksheets[0]
    header, *exported = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Thời điểm" and len(exported) == 101
    assert {row[2] for row in exported} == {"0912345678"}
    async with page.expect_download() as csv_file:
        await page.click("#calls-export-csv")
    assert (await csv_file.value).suggested_filename.endswith(".csv")


async def test_thread_list_exports_its_filter(company: Company, oa: Oa, new_page) -> None:
    for text in ("cần tư vấn gói cước", "hỏi giá"):
        assert (await oa.deliver(company.http, company.url, oa.user_message(zalo_id(), text=text))).status_code == 200
    page = await console_of(new_page, company.owner, company.url)
    await expect(page.locator("#thread-list li")).to_have_count(2)
    await page.fill("#f-text", "gói cước")
    await expect(page.locator("#thread-list li")).to_have_count(1)
    async with page.expect_download() as csv_file:
        await page.click("#threads-export-csv")
    download = await csv_file.value
    assert re.fullmatch(r"threads-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    header, *rows = list(csv.reader(io.StringIO((await download.path()).read_text("utf-8-sig"))))
    assert header[0] == "Khách hàng" and [row[8] for row in rows] == ["cần tư vấn gói cước"]
