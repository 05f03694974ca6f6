"""Alerts that reach a busy member, in a real browser: a notification and a chime for a thread assigned to them,
their customer's message while the tab is hidden, a missed call that rang them; none for what is someone
else's (even for the owner, who receives every thread's events); the unread count in the tab's title; the
browser's permission asked only when the member turns notifications on. And the customer behind a call: a
call row whose number a Zalo customer shared links to their thread, for whoever may see that thread."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.async_api import Page, expect

from tests.browser import log_in, screenshot_path
from tests.conftest import Company, Person
from tests.pbx_payloads import CALLER, canonical
from tests.servers import HubProcess
from tests.test_pbx_calls import _agent, _pbx
from tests.web_steps import assign, zalo_user
from tests.zalo_payloads import Oa

# What the page does with the browser's notification, sound and visibility APIs, recorded before any of its
# scripts run: every notification it constructs (the real one is still made), every time it asks for the
# permission, every tone it starts and every media element it plays. `__setHidden` stands for the member
# switching to another tab and back (headless Chromium's page is always visible).
RECORDER = """
(() => {
  const seen = { notifications: [], asked: 0, tones: 0, plays: 0 };
  window.__alerts = seen;
  const Real = window.Notification;
  if (Real) {
    window.__notes = []; // the notifications themselves, to click
    function Recorded(title, options = {}) {
      seen.notifications.push({ title, body: options.body || "" });
      const note = new Real(title, options);
      window.__notes.push(note);
      return note;
    }
    Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
    Recorded.requestPermission = (...args) => {
      seen.asked += 1;
      return Real.requestPermission(...args);
    };
    window.Notification = Recorded;
  }
  const start = OscillatorNode.prototype.start;
  OscillatorNode.prototype.start = function (...args) {
    seen.tones += 1;
    return start.apply(this, args);
  };
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function (...args) {
    seen.plays += 1;
    return play.apply(this, args);
  };
  let hidden = false;
  Object.defineProperty(Document.prototype, "hidden", { get: () => hidden, configurable: true });
  Object.defineProperty(Document.prototype, "visibilityState", {
    get: () => (hidden ? "hidden" : "visible"),
    configurable: true,
  });
  window.__setHidden = (value) => {
    hidden = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


async def recorded_console(new_page, person: Person, url: str, grant: bool = True) -> Page:  # type: ignore[no-untyped-def]
    """`person`'s console in a browser profile that records alerts (and, when `grant`, allows notifications)."""
    page = await new_page()
    if grant:
        await page.context.grant_permissions(["notifications"], origin=url)
    await page.context.add_init_script(RECORDER)
    await log_in(page, url, person.phone, person.password)
    return page


async def seen(page: Page) -> dict[str, Any]:
    return await page.evaluate("() => JSON.parse(JSON.stringify(window.__alerts))")


async def notifications(page: Page) -> list[dict[str, str]]:
    return (await seen(page))["notifications"]


async def eventually(read: Callable[[], Awaitable[Any]], wanted: Callable[[Any], bool], what: str) -> Any:
    """What `read` gives once `wanted` holds of it (waiting as long as the page assertions do)."""
    for _ in range(150):
        value = await read()
        if wanted(value):
            return value
        await asyncio.sleep(0.1)
    raise AssertionError(f"never {what}: last {value!r}")


async def expect_notifications(page: Page, count: int) -> list[dict[str, str]]:
    return await eventually(lambda: notifications(page), lambda n: len(n) >= count, f"{count} notifications")


async def expect_preferences(http: httpx.AsyncClient, company: Company, person: Person, wanted: dict) -> None:
    await eventually(lambda: preferences(http, company, person), lambda p: p == wanted, f"preferences {wanted}")


async def preferences(http: httpx.AsyncClient, company: Company, person: Person) -> dict[str, bool]:
    return (await http.get(f"{company.url}/api/account/preferences", headers=person.auth)).json()


async def test_alerts_reach_the_member_they_are_for_and_no_one_else(
    company: Company, oa: Oa, fake_zalo, new_page, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    pbx = await _pbx(company)
    agent = await _agent(company, "102")  # the missed calls ring 102
    other = await company.add("user")
    # The owner has notifications on too: they receive every thread's and call's events, none of them theirs.
    response = await http.patch(
        f"{company.url}/api/account/preferences", headers=company.owner.auth, json={"notify": True}
    )
    assert response.json() == {"notify": True, "sound": True}
    owner = await recorded_console(new_page, company.owner, company.url)
    page = await recorded_console(new_page, agent, company.url)
    base = f"Company {company.code} — Hub"
    await expect(page).to_have_title(base)
    assert (await seen(page))["asked"] == 0, "nothing is asked on page load"

    # The member turns notifications on, in the dialog that says what they are for.
    await page.click("#alerts-settings")
    dialog = page.locator("#alerts-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog).to_contain_text("không bao giờ hội thoại hay cuộc gọi của người khác")
    await expect(page.locator("#alerts-notify")).not_to_be_checked()
    await expect(page.locator("#alerts-sound")).to_be_checked()
    await page.locator("#alerts-notify").check()
    await expect_preferences(http, company, agent, {"notify": True, "sound": True})
    await expect(page.locator("#alerts-status")).to_have_text("Trình duyệt đã cho phép thông báo.")
    await page.screenshot(path=screenshot_path("alerts.png", tmp_path))
    await page.click("#alerts-close")

    # A thread assigned to me: a notification, a chime, the count in the title; opening it reads it.
    zalo_user_id = zalo_user(fake_zalo, "Chị Hoa")
    thread_id = await assign(company, oa, zalo_user_id, agent, "Cho mình hỏi lịch giao hàng", named="Chị Hoa")
    [note] = await expect_notifications(page, 1)
    assert note == {"title": "Hội thoại mới được giao cho bạn", "body": "Chị Hoa: Cho mình hỏi lịch giao hàng"}
    assert (await seen(page))["tones"] == 2  # one two-note chime
    await expect(page).to_have_title(f"(1) {base}")
    await page.click("[data-tab=calls]")
    await expect(page.locator("#tab-calls")).to_be_visible()
    await expect(page).to_have_title(f"(1) {base}")  # the Calls tab reads the calls' alerts only
    await page.evaluate("() => window.__notes[0].onclick()")  # the member clicks the notification
    await expect(page.locator("#tab-chats")).to_be_visible()
    await expect(page.locator(f'li.thread.active[data-thread-id="{thread_id}"]')).to_have_count(1)
    await expect(page.locator("#conv-name")).to_have_text("Chị Hoa")
    await expect(page).to_have_title(base)

    # A thread assigned to someone else: the owner's console receives it, and raises nothing.
    await assign(company, oa, zalo_user(fake_zalo, "Anh Tuấn"), other, "Shop còn size M không?")
    await expect(owner.locator("li.thread", has_text="Anh Tuấn")).to_have_count(1)

    # A missed call that rang me; the owner receives call.missed too, but it did not ring them.
    for event in canonical("no_answer", base=datetime.now(UTC) - timedelta(minutes=1)):
        assert (await pbx.post(http, event)).status_code == 200
    missed = (await expect_notifications(page, 2))[1]
    assert missed["title"] == "Cuộc gọi nhỡ"
    assert missed["body"].startswith(f"Cuộc gọi nhỡ từ {CALLER} tới 19001234")
    await expect(owner.locator("#toasts .toast.missed")).to_have_count(1)  # the owner's console has it...
    await expect(page).to_have_title(f"(1) {base}")
    await page.click("[data-tab=calls]")
    await expect(page).to_have_title(base)
    await page.click("[data-tab=chats]")

    # My customer writes while my tab is hidden: an alert; back on the tab, the count clears.
    await page.evaluate("() => window.__setHidden(true)")
    await oa.deliver(http, company.url, oa.user_message(zalo_user_id, text="Mai giao được không ạ?"))
    message = (await expect_notifications(page, 3))[2]
    assert message == {"title": "Tin nhắn mới từ Chị Hoa", "body": "Mai giao được không ạ?"}
    await expect(page).to_have_title(f"(1) {base}")
    await page.evaluate("() => window.__setHidden(false)")
    await expect(page).to_have_title(base)
    # ... while it is in view, no alert: the message is on screen
    await oa.deliver(http, company.url, oa.user_message(zalo_user_id, text="Cảm ơn shop"))
    await expect(page.locator("#messages li.msg", has_text="Cảm ơn shop")).to_have_count(1)
    assert len(await notifications(page)) == 3

    # Sound off: the notification still comes, no tone is played.
    tones = (await seen(page))["tones"]
    await page.click("#alerts-settings")
    await page.locator("#alerts-sound").uncheck()
    await expect_preferences(http, company, agent, {"notify": True, "sound": False})
    await page.click("#alerts-close")
    await page.evaluate("() => window.__setHidden(true)")
    await oa.deliver(http, company.url, oa.user_message(zalo_user_id, text="Shop ơi?"))
    assert (await expect_notifications(page, 4))[3]["body"] == "Shop ơi?"
    await expect(page).to_have_title(f"(1) {base}")
    after = await seen(page)
    assert after["tones"] == tones and after["plays"] == 0
    assert len(after["notifications"]) == 4 and after["asked"] == 0  # permission granted beforehand: never asked

    # Never anything for the owner: every event above reached their console, none was theirs.
    owner_seen = await seen(owner)
    assert owner_seen["notifications"] == [] and owner_seen["tones"] == 0 and owner_seen["asked"] == 0
    assert not (await owner.title()).startswith("(")

    # The choices are the member's, kept by the hub: a fresh console shows them.
    again = await recorded_console(new_page, agent, company.url)
    await again.click("#alerts-settings")
    await expect(again.locator("#alerts-notify")).to_be_checked()
    await expect(again.locator("#alerts-sound")).not_to_be_checked()


async def test_the_permission_is_asked_once_and_only_when_turning_notifications_on(
    company: Company, new_page, http: httpx.AsyncClient
) -> None:
    agent = await company.add("user")
    page = await recorded_console(new_page, agent, company.url, grant=False)
    assert (await seen(page))["asked"] == 0
    await page.click("#alerts-settings")
    await expect(page.locator("#alerts-status")).to_have_text("Khi bật, trình duyệt sẽ hỏi bạn cho phép (chỉ một lần).")
    # Headless Chromium answers the request with a refusal, as a member clicking "Block" would.
    await page.locator("#alerts-notify").click()
    await expect(page.locator("#alerts-status")).to_contain_text("Trình duyệt đang chặn thông báo của trang này")
    await expect(page.locator("#alerts-notify")).not_to_be_checked()
    assert (await seen(page))["asked"] == 1
    assert await preferences(http, company, agent) == {"notify": False, "sound": True}
    await page.locator("#alerts-notify").click()  # a refusal stands: not asked again
    await expect(page.locator("#alerts-notify")).not_to_be_checked()
    assert (await seen(page))["asked"] == 1
    # The member allows them in the browser's site settings; turning them on now needs no question.
    await page.context.grant_permissions(["notifications"], origin=company.url)
    await page.locator("#alerts-notify").click()
    await expect_preferences(http, company, agent, {"notify": True, "sound": True})
    await expect(page.locator("#alerts-notify")).to_be_checked()
    assert (await seen(page))["asked"] == 1


async def _customer_shares(company: Company, oa: Oa, fake_zalo, assignee: Person, name: str, phone: str) -> str:  # type: ignore[no-untyped-def]
    """A Zalo customer writes in, the owner gives the thread to `assignee`, the customer shares `phone`."""
    user_id = zalo_user(fake_zalo, name)
    thread_id = await assign(company, oa, user_id, assignee, "Cho mình xin báo giá")
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, {"name": name, "phone": phone}))

    async def thread() -> dict[str, Any]:
        return (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=company.owner.auth)).json()

    await eventually(thread, lambda t: bool(t["customer"].get("phone")), "the shared phone on the thread")
    return thread_id


async def test_a_call_row_links_to_the_customers_thread_for_whoever_may_see_it(
    company: Company, oa: Oa, fake_zalo, new_page, http: httpx.AsyncClient, tmp_path: Path
) -> None:
    pbx = await _pbx(company)
    other = await _agent(company, "101")
    agent = await _agent(company, "102")
    thread_id = await _customer_shares(company, oa, fake_zalo, agent, "Chị Lan", "84" + CALLER[1:])
    owner = await recorded_console(new_page, company.owner, company.url)
    theirs = await recorded_console(new_page, other, company.url)
    for page in (owner, theirs):
        await page.click("[data-tab=calls]")

    # Live: the customer rings 102 (the agent whose customer it is) and is talking to 101 on another line.
    now = datetime.now(UTC)
    ringing = canonical("no_answer", base=now - timedelta(seconds=5))[:1]
    talking = canonical("answered", base=now - timedelta(seconds=20))[:2]
    for event in [*ringing, *talking]:
        assert (await pbx.post(http, event)).status_code == 200
    live = owner.locator("#live-calls tbody tr[data-call-id]")
    await expect(live).to_have_count(2)
    await expect(live.locator("a.customer-thread")).to_have_count(2)
    other_live = theirs.locator("#live-calls tbody tr[data-call-id]")
    await expect(other_live).to_have_count(1)
    await expect(other_live).to_contain_text(CALLER)
    await expect(other_live.locator("a.customer-thread")).to_have_count(0)  # not their customer's thread

    # Missed: the ringing call ends unanswered; the row of the missed-calls list links to the thread too.
    for event in canonical("no_answer", base=now - timedelta(seconds=5), call_id=ringing[0]["call_id"])[1:]:
        assert (await pbx.post(http, event)).status_code == 200
    missed = owner.locator("#missed-calls tbody tr[data-missed-id]")
    await expect(missed.locator(".caller a.customer-thread")).to_have_count(1)
    await expect(missed.locator(".caller a.customer-thread")).to_have_attribute("data-thread-id", thread_id)

    # History read afresh over REST: the thread comes with each row.
    await owner.reload()
    await owner.locator("#banner").wait_for(state="hidden")
    await owner.click("[data-tab=calls]")
    history = owner.locator("#call-history tbody tr[data-call-id]")
    await expect(history).to_have_count(2)  # the missed call, and the one still talking
    links = history.locator("a.customer-thread")
    await expect(links).to_have_count(2)
    assert {await link.get_attribute("data-thread-id") for link in await links.all()} == {thread_id}
    await owner.screenshot(path=screenshot_path("calls-customer.png", tmp_path))

    # A click opens the customer's thread in the Chats tab.
    await missed.locator("a.customer-thread").click()
    await expect(owner.locator("#tab-chats")).to_be_visible()
    await expect(owner.locator("#conv-name")).to_have_text("Chị Lan")
    await expect(owner.locator(f'li.thread.active[data-thread-id="{thread_id}"]')).to_have_count(1)

    # The agent whose thread it is sees the link on the calls that rang them.
    mine = await recorded_console(new_page, agent, company.url)
    await mine.click("[data-tab=calls]")
    await expect(mine.locator("#call-history tbody tr[data-call-id] a.customer-thread")).to_have_count(1)
    await expect(mine.locator("#missed-calls tbody tr[data-missed-id] a.customer-thread")).to_have_count(1)


async def test_a_call_row_follows_the_customer_sharing_a_phone_and_the_thread_leaving(
    company: Company, oa: Oa, fake_zalo, new_page, http: httpx.AsyncClient
) -> None:
    pbx = await _pbx(company)
    agent = await _agent(company, "102")
    other = await company.add("user")
    user_id = zalo_user(fake_zalo, "Anh Bảo")
    thread_id = await assign(company, oa, user_id, agent, "Tôi vừa gọi hotline")
    page = await recorded_console(new_page, agent, company.url)
    await page.click("[data-tab=calls]")
    ringing = [{**e, "from": "0912777555"} for e in canonical("no_answer")][:1]  # rings 102, still ringing
    assert (await pbx.post(http, ringing[0])).status_code == 200
    row = page.locator("#live-calls tbody tr[data-call-id]")
    await expect(row).to_contain_text("0912777555")
    await expect(row.locator("a.customer-thread")).to_have_count(0)  # nobody shared that number yet

    # The customer shares it in the chat: the live row links to their thread.
    await oa.deliver(http, company.url, oa.submit_info(user_id, {"name": "Anh Bảo", "phone": "+84912777555"}))
    await expect(row.locator("a.customer-thread")).to_have_attribute("data-thread-id", thread_id)

    # The thread is given to someone else: this agent's row links to it no more.
    response = await http.post(
        f"{company.url}/api/threads/{thread_id}/assign", headers=company.owner.auth, json={"member_id": other.id}
    )
    assert response.status_code == 200, response.text
    await expect(row.locator("a.customer-thread")).to_have_count(0)
    await expect(row).to_contain_text("0912777555")


# The rule of "mine", as a table run in the browser on alerts.js's own function: (event, what the console
# held before it, hidden) -> the kind of alert raised, or None.
ME, OTHER = "m-me", "m-other"
KNOWN = {"t-mine": ME, "t-theirs": OTHER}
RULE = [
    (
        {"type": "thread.assigned", "data": {"id": "t-new", "to_member_id": ME, "from_member_id": None}},
        False,
        "assigned",
    ),
    (
        {"type": "thread.assigned", "data": {"id": "t-theirs", "to_member_id": ME, "from_member_id": OTHER}},
        False,
        "assigned",
    ),
    (  # a thread.updated of the new version came first: still news
        {"type": "thread.assigned", "data": {"id": "t-mine", "to_member_id": ME, "from_member_id": OTHER}},
        False,
        "assigned",
    ),
    ({"type": "thread.assigned", "data": {"id": "t-new", "to_member_id": ME, "by_member_id": ME}}, False, None),
    ({"type": "thread.assigned", "data": {"id": "t-mine", "to_member_id": ME, "from_member_id": ME}}, False, None),
    ({"type": "thread.assigned", "data": {"id": "t-mine", "to_member_id": OTHER, "from_member_id": ME}}, False, None),
    ({"type": "thread.assigned", "data": {"id": "t-new", "to_member_id": OTHER}}, False, None),  # an owner's view
    ({"type": "thread.assigned", "data": {"id": "t-alerted", "to_member_id": ME}}, False, None),  # raised already
    ({"type": "thread.created", "data": {"id": "t-new", "assignee_id": ME}}, False, None),  # its thread.assigned says
    ({"type": "thread.updated", "data": {"id": "t-theirs", "assignee_id": ME}}, False, None),
    ({"type": "message.created", "data": {"id": "x", "thread_id": "t-mine", "direction": "in"}}, True, "message"),
    ({"type": "message.created", "data": {"id": "x", "thread_id": "t-mine", "direction": "in"}}, False, None),
    ({"type": "message.created", "data": {"id": "x", "thread_id": "t-mine", "direction": "out"}}, True, None),
    ({"type": "message.created", "data": {"id": "x", "thread_id": "t-theirs", "direction": "in"}}, True, None),
    ({"type": "call.missed", "data": {"id": "c-rang-me"}}, False, "missed"),
    ({"type": "call.missed", "data": {"id": "c-rang-other"}}, False, None),
    ({"type": "call.missed", "data": {"id": "c-unknown"}}, False, None),
    ({"type": "call.updated", "data": {"id": "c-rang-me"}}, False, None),
]


async def test_the_rule_of_mine(hub: HubProcess, new_page) -> None:  # type: ignore[no-untyped-def]
    page = await new_page()
    await page.goto(f"{hub.url}/")
    kinds = await page.evaluate(
        """async ({ rows, me, known }) => {
          const { alertFor } = await import("/static/alerts.js");
          const threads = new Map(Object.entries(known).map(([id, assignee]) => [id, { id, assignee_id: assignee, version: 1 }]));
          const missedCalls = new Map([["c-rang-me", { members: [me] }], ["c-rang-other", { members: ["m-other"] }]]);
          return rows.map(([envelope, hidden]) => {
            const data = { version: 2, ...envelope.data };
            const mine = new Set(["t-alerted"]);
            return alertFor({ ...envelope, data, seq: 1 }, { me, threads, missedCalls, hidden, mine })?.kind ?? null;
          });
        }""",
        {"rows": [[envelope, hidden] for envelope, hidden, _ in RULE], "me": ME, "known": KNOWN},
    )
    assert kinds == [kind for _, _, kind in RULE]
