"""Missed calls as work in the console's Calls tab, across two consoles: the owner assigns one to an agent,
the agent marks it handled with a note, another is called back by an outbound call; both lists follow live."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.pbx_payloads import Pbx, canonical
from tests.test_missed_calls import _outbound
from tests.web_steps import console_of


async def test_owner_assigns_agent_handles_and_a_callback_closes_the_other(
    company: Company, http: httpx.AsyncClient, new_page, tmp_path: Path
) -> None:
    agent = await company.add("user", name="Võ Minh Tâm")
    await http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "102"}
    )
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    owner = await console_of(new_page, company.owner, company.url)
    mine = await console_of(new_page, agent, company.url)
    for page in (owner, mine):
        await page.click("[data-tab=calls]")
        await expect(page.locator("#missed-calls tbody")).to_contain_text("Không có cuộc gọi nhỡ nào")

    now = datetime.now(UTC)
    first = canonical("no_answer", base=now - timedelta(minutes=20))
    for event in first:
        await pbx.post(http, event)
    rows = owner.locator("#missed-calls tbody tr[data-missed-id]")
    await expect(rows).to_have_count(1)
    await expect(rows.locator(".caller")).to_have_text("0912345678")
    await expect(rows.locator(".rang")).to_have_text("102 (30 s)")
    await expect(rows).to_have_attribute("data-state", "open")
    theirs = mine.locator("#missed-calls tbody tr[data-missed-id]")
    await expect(theirs).to_have_count(1)  # it rang them

    await rows.locator("select.assignee").select_option(agent.id)
    await expect(theirs.locator("td.assignee")).to_have_text("Võ Minh Tâm")
    await theirs.locator("input[name=note]").fill("Đã gọi lại qua Zalo, khách hẹn mai")
    await theirs.get_by_role("button", name="Đánh dấu đã xử lý").click()
    await expect(rows).to_have_attribute("data-state", "handled")
    await expect(rows.locator(".missed-note")).to_have_text("Đã gọi lại qua Zalo, khách hẹn mai")
    await expect(theirs).to_have_attribute("data-state", "handled")

    second = canonical("no_answer", base=now - timedelta(minutes=10))
    for event in second:
        await pbx.post(http, event)
    await expect(owner.locator('#missed-calls tbody tr[data-state="open"]')).to_have_count(1)
    for event in _outbound("+84912345678", now - timedelta(minutes=2)):
        await pbx.post(http, event)
    await expect(owner.locator('#missed-calls tbody tr[data-state="called_back"]')).to_have_count(1)
    await expect(mine.locator('#missed-calls tbody tr[data-state="called_back"]')).to_have_count(1)
    await expect(owner.locator("#missed-counts")).to_have_text("Chưa xử lý: 0 · Đã gọi lại: 1 · Đã xử lý: 1")
    await owner.screenshot(path=screenshot_path("console-missed-calls.png", tmp_path))
