"""The bundled web console and wallboard in a real browser (Debian's Chromium under Playwright), against a
real hub process, the local fake Zalo OA API and signed webhooks."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import expect

from tests.browser import TcpProxy, screenshot_path
from tests.conftest import Company, link_oa
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import Pbx, canonical
from tests.web_steps import agent_in_thread, assign, console_of, messages, owner_in_thread, zalo_user
from tests.zalo_payloads import ATTACHMENTS, Oa


async def test_agent_sees_a_zalo_message_live_and_replies_through_the_oa(
    company: Company, fake_zalo: FakeZalo, new_page, tmp_path: Path
) -> None:
    department = (
        await company.http.post(f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "CSKH"})
    ).json()["id"]
    await company.http.patch(
        f"{company.url}/api/company", headers=company.owner.auth, json={"name": "Shop Thời Trang Mai"}
    )
    agent = await company.add("user", department_id=department, name="Phạm Thu Hà")
    oa = await link_oa(company, fake_zalo, department_id=department)
    page = await console_of(new_page, agent, company.url)
    await expect(page.locator("#thread-list")).to_contain_text("Chưa có hội thoại nào")  # Vietnamese by default

    # A customer writes to the OA: the signed webhook makes a thread, routed to the available agent.
    customer = zalo_user(fake_zalo, "Nguyễn Thị Mai")
    assert (
        await oa.deliver(
            company.http, company.url, oa.user_message(customer, text="Shop ơi, áo thun còn size M không?")
        )
    ).status_code == 200
    thread = page.locator("li.thread", has_text="Nguyễn Thị Mai")
    await expect(thread).to_contain_text("áo thun còn size M")
    await expect(thread.locator(".badge.window")).to_have_attribute("data-window", "free")
    await thread.click()
    await expect(messages(page)).to_have_count(1)
    await expect(page.locator("#conv-name")).to_have_text("Nguyễn Thị Mai")
    shown = await messages(page).first.locator("time").text_content()
    vietnam = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert shown in {(vietnam - timedelta(minutes=m)).strftime("%H:%M") for m in (0, 1)}, "company time, not the PC's"

    # More arrives while the conversation is open: shown at once, attachments included.
    await oa.deliver(
        company.http,
        company.url,
        oa.user_message(customer, kind="location", text=None, attachments=ATTACHMENTS["location"]),
    )
    await expect(page.locator("#messages .att.location")).to_contain_text("10.7769")
    await oa.deliver(company.http, company.url, oa.user_message(customer, text="Giao về quận 3 được không?"))
    await expect(messages(page).last).to_contain_text("Giao về quận 3")
    await expect(thread.locator(".unread-count")).to_have_count(0)  # read while she is looking at it

    # The agent answers; the reply goes out through the OA API (the local fake Zalo) and shows as sent.
    await page.fill("#composer-text", "Dạ còn size M ạ, shop giao quận 3 trong ngày.")
    await page.keyboard.press("Enter")
    reply = messages(page).last
    await expect(reply).to_have_class(re.compile(r"\bout\b"))
    await expect(reply.locator(".mark")).to_have_attribute("data-status", "sent")
    sent = fake_zalo.sent_to(customer)
    assert [s["message"]["text"] for s in sent] == ["Dạ còn size M ạ, shop giao quận 3 trong ngày."]
    await expect(page.locator("#composer-text")).to_have_value("")

    # The customer sees it: the seen mark arrives live.
    await oa.deliver(company.http, company.url, oa.seen(customer, [sent[0]["message_id"]]))
    await expect(reply.locator(".mark")).to_have_attribute("data-status", "seen")

    # A price list as a file: uploaded through the OA, then sent.
    await page.set_input_files(
        "#composer-file",
        files=[{"name": "bang-gia.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 price list"}],
    )
    await expect(messages(page).last.locator(".att.file")).to_contain_text("bang-gia.pdf")
    assert fake_zalo.sent_to(customer)[-1]["message"]["attachment"]["type"] == "file"
    await page.screenshot(path=screenshot_path("console.png", tmp_path))

    # English on request, kept across a reload.
    await page.click("#lang")
    await expect(page.locator("[data-tab=chats]")).to_have_text("Chats")
    await page.reload()
    await page.locator("#banner").wait_for(state="hidden")
    await expect(page.locator("[data-tab=calls]")).to_have_text("Calls")


async def test_owner_reassigns_a_thread_away_and_it_leaves_the_agents_list_at_once(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    other = await company.add("user")
    agent = await agent_in_thread(
        company, oa, fake_zalo, new_page, company.url, "Trần Văn Bình", "Cho mình đổi địa chỉ giao hàng"
    )
    owner_page = await owner_in_thread(company, new_page, agent)
    # Each sees the other looking at the thread.
    await expect(agent.page.locator("#conv-viewers")).to_contain_text("đang xem")

    # The owner sees who can take it: the agent is online and available, the other agent is not logged in.
    await expect(owner_page.locator(f'#conv-assignee option[value="{agent.agent.id}"]')).to_contain_text("Sẵn sàng")
    await expect(owner_page.locator(f'#conv-assignee option[value="{other.id}"]')).to_contain_text("Ngoại tuyến")
    await owner_page.select_option("#conv-assignee", other.id)

    await expect(agent.item()).to_have_count(0)
    await expect(agent.page.locator("#conv-empty")).to_have_text("Hội thoại này đã được chuyển cho người khác.")
    await expect(agent.item(owner_page).locator(".assignee")).to_have_text(other.member["name"])
    # And nothing more of it reaches the agent: a new message shows for the owner only.
    await oa.deliver(company.http, company.url, oa.user_message(agent.customer, text="Địa chỉ mới: 12 Lê Lợi"))
    await expect(messages(owner_page).last).to_contain_text("12 Lê Lợi")
    await expect(agent.page.locator("li.thread")).to_have_count(0)


async def test_the_owner_stops_seeing_an_agent_view_a_thread_taken_from_them(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page
) -> None:
    other = await company.add("user")
    agent = await company.add("user", name="Đỗ Thị Hoa")
    thread_id = await assign(company, oa, zalo_user(fake_zalo, "Khách hỏi đơn"), agent, "Đơn của mình tới đâu rồi?")
    owner_page = await console_of(new_page, company.owner, company.url)
    await owner_page.locator(f'li.thread[data-thread-id="{thread_id}"]').click()
    agent_page = await console_of(new_page, agent, company.url)
    await agent_page.locator(f'li.thread[data-thread-id="{thread_id}"]').click()
    viewers = owner_page.locator("#conv-viewers")
    await expect(viewers).to_have_text("Đỗ Thị Hoa đang xem")

    await owner_page.select_option("#conv-assignee", other.id)
    await expect(agent_page.locator("#conv-empty")).to_have_text("Hội thoại này đã được chuyển cho người khác.")
    await expect(viewers).to_have_text("")  # the hub says so: the agent's console no longer may


async def test_wallboard_shows_a_ringing_call_then_counts_it_missed(
    company: Company, http: httpx.AsyncClient, new_page, tmp_path: Path
) -> None:
    await http.patch(f"{company.url}/api/company", headers=company.owner.auth, json={"name": "Tổng đài CSKH"})
    for number in ("101", "102", "103", "104", "105", "106"):
        await http.post(f"{company.url}/api/extensions", headers=company.owner.auth, json={"number": number})
    token = (
        await http.post(f"{company.url}/api/wallboard-tokens", headers=company.owner.auth, json={"name": "Sảnh tầng 1"})
    ).json()["token"]
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)

    page = await new_page()
    await page.goto(f"{company.url}/wallboard#token={token}")
    missed = page.locator('[data-counter="missed"] .value')
    await expect(missed).to_have_text("0")
    await expect(page.locator(".wb-empty")).to_be_visible()
    assert "token" not in page.url, "the token leaves the address bar"
    await page.click("#fullscreen")  # on the TV: the whole screen, and the button out of the way
    await expect(page.locator("#fullscreen")).to_be_hidden()
    assert await page.evaluate("document.fullscreenElement === document.documentElement")

    events = canonical("no_answer")  # rings 102 for 30 s, nobody answers
    assert (await pbx.post(http, events[0])).status_code == 200
    live = page.locator(".wb-call")
    await expect(live).to_have_count(1)
    await expect(live).to_have_attribute("data-state", "ringing")
    await expect(live.locator(".wb-number")).to_have_text("*******678")  # masked on the wall
    await expect(page.locator('.ext-tile[data-extension="102"]')).to_have_attribute("data-state", "ringing")
    await expect(page.locator('[data-counter="offered"] .value')).to_have_text("1")
    await expect(page.locator('[data-counter="longest_wait_now_s"] .value')).to_have_text(re.compile(r"^01:\d\d$"))
    timer = live.locator(".timer")
    waited = await timer.text_content()
    await expect(timer).not_to_have_text(waited)  # the wait runs on, second by second
    await page.screenshot(path=screenshot_path("wallboard.png", tmp_path))

    for event in events[1:]:
        assert (await pbx.post(http, event)).status_code == 200
    await expect(missed).to_have_text("1")
    await expect(live).to_have_count(0)
    # nobody answered, nobody gave up early: no abandonment rate yet, and none served within the level
    await expect(page.locator('[data-counter="abandonment_rate"] .value')).to_have_text("–")
    await expect(page.locator('[data-counter="service_level"] .value')).to_have_text("0%")
    await expect(page.locator('[data-counter="longest_wait_now_s"] .value')).to_have_text("00:00")
    # and the figures a supervisor reads beside them: answered none of one, no waits or talks to average yet
    await expect(page.locator('[data-counter="answer_rate"] .value')).to_have_text("0%")
    await expect(page.locator('[data-counter="average_wait_s"] .value')).to_have_text("–")
    await expect(page.locator('[data-counter="average_talk_s"] .value')).to_have_text("–")
    await expect(page.locator('[data-counter="short_abandoned"] .value')).to_have_text("0")
    await expect(page.locator('[data-counter="answer_rate"] .name')).to_have_text("Tỉ lệ nghe máy")
    await expect(page.locator('.ext-tile[data-extension="102"]')).to_have_attribute("data-state", "idle")

    # A change no event carries (a new extension) reaches the wall with the next snapshot, without a reload.
    await http.post(f"{company.url}/api/extensions", headers=company.owner.auth, json={"number": "107"})
    await expect(page.locator('.ext-tile[data-extension="107"]')).to_have_attribute("data-state", "idle")


async def test_messages_sent_while_the_network_is_down_appear_once_in_order(
    company: Company, oa: Oa, fake_zalo: FakeZalo, network: TcpProxy, new_page
) -> None:
    agent = await agent_in_thread(company, oa, fake_zalo, new_page, network.url, "Lê Hoàng Nam", "Tin đầu tiên")
    page = agent.page
    network.cut()
    await expect(page.locator("#banner")).to_be_visible()
    await expect(page.locator("#banner")).to_have_attribute("data-state", "reconnecting")
    sent_meanwhile = [f"Tin lúc mất mạng số {n}" for n in range(1, 6)]
    for text in sent_meanwhile:
        assert (
            await oa.deliver(company.http, company.url, oa.user_message(agent.customer, text=text))
        ).status_code == 200

    network.restore()
    await expect(page.locator("#banner")).to_be_hidden()
    expected = ["Tin đầu tiên", *sent_meanwhile]
    await expect(messages(page).locator(".text")).to_have_text(expected)
    # One more live message: anything the replay sent twice would have arrived before it.
    await oa.deliver(company.http, company.url, oa.user_message(agent.customer, text="Tin sau khi có mạng"))
    await expect(messages(page).locator(".text")).to_have_text([*expected, "Tin sau khi có mạng"])
    await expect(agent.item()).to_contain_text("Tin sau khi có mạng")
