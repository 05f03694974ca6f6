"""Steps the web console tests share: a customer writes in, a thread is given to an agent, the agent opens it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from playwright.async_api import Locator, Page, expect

from tests.browser import log_in
from tests.conftest import Company, Person
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import Pbx, canonical
from tests.zalo_payloads import Oa, zalo_id


def zalo_user(fake_zalo: FakeZalo, name: str) -> str:
    """A Zalo user with a display name and no avatar (the tests' browser has no network to fetch one)."""
    user_id = zalo_id()
    fake_zalo.profiles[user_id] = {"display_name": name, "avatar": ""}
    return user_id


async def assign(company: Company, oa: Oa, user_id: str, to: Person, text: str, named: str | None = None) -> str:
    """The customer writes in; the owner gives the thread to `to`. Returns the thread id. With `named`, the
    thread is given only once the customer's Zalo profile (fetched in the background) has named them."""
    watcher = await company.console(company.owner).connect() if named else None
    assert (await oa.deliver(company.http, company.url, oa.user_message(user_id, text=text))).status_code == 200
    if watcher is not None:
        await watcher.wait_for(
            lambda: any(
                e["data"]["customer"].get("name") == named
                for e in watcher.of_type("thread.created") + watcher.of_type("thread.updated")
            )
        )
        await watcher.disconnect()
    threads = (
        await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth, params={"text": text})
    ).json()["threads"]
    assert len(threads) == 1
    response = await company.http.post(
        f"{company.url}/api/threads/{threads[0]['id']}/assign", headers=company.owner.auth, json={"member_id": to.id}
    )
    assert response.status_code == 200, response.text
    return threads[0]["id"]


async def owner_opens_customer(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page: Callable[[], Awaitable[Page]], name: str, text: str
) -> tuple[Page, str]:
    """A customer named `name` writes `text`; the owner's console opens the thread. Returns it and the user id."""
    user_id = zalo_user(fake_zalo, name)
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text=text))
    page = await console_of(new_page, company.owner, company.url)
    await page.locator("li.thread", has_text=name).click()
    return page, user_id


def messages(page: Page) -> Locator:
    return page.locator("#messages li.msg")


async def console_of(new_page: Callable[[], Awaitable[Page]], person: Person, url: str) -> Page:
    """`person` logged in at `url` through the login page, in a browser profile of their own."""
    page = await new_page()
    await log_in(page, url, person.phone, person.password)
    return page


@dataclass
class OpenThread:
    """An agent's console with a customer's thread open."""

    page: Page
    agent: Person
    customer: str  # the Zalo user id
    thread_id: str

    def item(self, page: Page | None = None) -> Locator:
        """The thread in a console's list (the agent's unless another page is given)."""
        return (page or self.page).locator(f'li.thread[data-thread-id="{self.thread_id}"]')


async def agent_in_thread(
    company: Company,
    oa: Oa,
    fake_zalo: FakeZalo,
    new_page: Callable[[], Awaitable[Page]],
    url: str,
    name: str,
    first_text: str,
) -> OpenThread:
    """A new agent logged in at `url` with a new customer's thread open."""
    agent = await company.add("user")
    user_id = zalo_user(fake_zalo, name)
    thread_id = await assign(company, oa, user_id, agent, first_text)
    page = await console_of(new_page, agent, url)
    opened = OpenThread(page, agent, user_id, thread_id)
    await opened.item().click()
    await expect(messages(page)).to_have_count(1)
    return opened


async def owner_in_thread(company: Company, new_page: Callable[[], Awaitable[Page]], opened: OpenThread) -> Page:
    """The owner's console, on its own browser profile, with the same thread open."""
    page = await console_of(new_page, company.owner, company.url)
    await opened.item(page).click()
    await expect(messages(page)).to_have_count(1)
    return page


async def missed_calls(company: Company, count: int = 1) -> None:
    """`count` customers ring the hotline and nobody answers: each is a missed call."""
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    for _ in range(count):
        for event in canonical("no_answer"):
            assert (await pbx.post(company.http, event)).status_code == 200
