"""The Dashboard tab: an owner picks the last seven days and sees the figures of seeded calls and chats, the
charts drawn, and a call that ends while the tab is open counted without a reload; a plain user has no
such tab."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import Page, expect

from hub.runtime import Runtime
from tests.browser import screenshot_path
from tests.conftest import Company
from tests.pbx_payloads import Pbx, canonical
from tests.test_dashboard import call, message, thread
from tests.web_steps import console_of


async def _drawn(page: Page, canvas_id: str) -> bool:
    """Whether Chart.js drew anything on the canvas: some pixel not fully transparent."""
    return await page.evaluate(
        """(id) => {
            const canvas = document.getElementById(id);
            if (!canvas || !canvas.width || !canvas.height) return false;
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) return true;
            return false;
        }""",
        canvas_id,
    )


async def test_owner_sees_a_periods_figures_drawn_and_a_new_call_counted_live(
    company: Company, runtime: Runtime, http: httpx.AsyncClient, new_page, tmp_path: Path
) -> None:
    agent = await company.add("user", name="Võ Minh Tâm")
    other = await company.add("user", name="Trần Thu Hà")
    for person, number in ((agent, "101"), (other, "102")):
        await http.put(
            f"{company.url}/api/members/{person.id}/extension", headers=company.owner.auth, json={"extension": number}
        )
    now = datetime.now(UTC)
    hours_ago = [now - timedelta(hours=h) for h in (150, 122, 97, 75, 50, 26, 3)]  # within the last 7 days
    iso = [moment.isoformat() for moment in hours_ago]
    answered = {"answered_by": "101", "answered_member_id": agent.id}
    by_other = {"answered_by": "102", "answered_member_id": other.id}
    await runtime.store.calls.insert_many(
        [
            call(company.id, iso[0], "answered", [(agent.id, "101")], **answered, talk_s=300, duration_s=310),
            call(company.id, iso[1], "answered", [(agent.id, "101")], **answered, talk_s=240, duration_s=250),
            call(company.id, iso[2], "answered", [(other.id, "102")], **by_other, talk_s=600, duration_s=610),
            call(company.id, iso[3], "missed", [(agent.id, "101"), (other.id, "102")], duration_s=30),
            call(company.id, iso[4], "failed", [(other.id, "102")], duration_s=4),
            *(
                call(
                    company.id,
                    (now - timedelta(hours=5 + 16 * k)).isoformat(),
                    "answered",
                    [(other.id, "102")],
                    **by_other,
                    talk_s=60,
                    duration_s=65,
                )
                for k in range(9)
            ),
        ]
    )
    chat_thread = thread(company.id, hours_ago[5], assignee_id=agent.id)
    await runtime.store.threads.insert_one(chat_thread)
    await runtime.store.messages.insert_many(
        [
            message(company.id, chat_thread["_id"], "in", hours_ago[5]),
            message(company.id, chat_thread["_id"], "out", hours_ago[5] + timedelta(seconds=45), agent.id),
        ]
    )

    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=dashboard]")
    await expect(page.locator("#dash-status")).to_contain_text("Cập nhật lúc")  # this week's, by default
    today = now.astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    await page.select_option("#dash-period", "custom")
    await page.fill("#dash-from", (today - timedelta(days=7)).isoformat())
    await page.fill("#dash-to", today.isoformat())
    await page.get_by_role("button", name="Xem").click()
    await expect(page.locator("#dash-calls")).to_have_text("14")
    await expect(page.locator("#dash-extensions")).to_have_text("2")
    await expect(page.locator("#dash-answered")).to_have_text("12")
    await expect(page.locator("#dash-missed")).to_have_text("1")
    await expect(page.locator("#dash-failed")).to_have_text("1")
    await expect(page.locator("#dash-talk")).to_have_text("28:00")
    await expect(page.locator("#dash-new-threads")).to_have_text("1")
    await expect(page.locator("#dash-fr-median")).to_have_text("00:45")
    row = page.locator(f'#dash-member-table tr[data-member="{agent.id}"]')
    await expect(row.locator("td.name")).to_have_text("Võ Minh Tâm")
    await expect(row.locator("td").nth(2)).to_have_text("3")  # calls that rang them
    await expect(row.locator("td").nth(3)).to_have_text("2")  # answered
    await expect(page.locator('#dash-extension-table tr[data-extension="102"] td').nth(2)).to_have_text("12")
    await expect(page.locator("#dash-chart-days-table tbody tr")).to_have_count(8)
    for chart in ("dash-chart-days", "dash-chart-hours", "dash-chart-talk"):
        await page.wait_for_function("(id) => window.Chart && window.Chart.getChart(id)", arg=chart)
        assert await _drawn(page, chart), chart
        assert await page.get_attribute(f"#{chart}", "role") == "img"
    await expect(page.locator("#dash-chart-talk")).to_have_attribute(
        "aria-label", "Biểu đồ cột ngang: thời gian đàm thoại của 2 nhân viên; nhiều nhất Trần Thu Hà với 19 phút."
    )
    await page.screenshot(path=screenshot_path("dashboard.png", tmp_path))

    # a call answered by the agent ends while the tab is open: the figures follow, no reload
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    for event in canonical("answered", base=now - timedelta(seconds=70)):
        assert (await pbx.post(http, event)).status_code == 200
    await expect(page.locator("#dash-calls")).to_have_text("15", timeout=20_000)
    await expect(page.locator("#dash-answered")).to_have_text("13")
    await expect(row.locator("td").nth(3)).to_have_text("3")

    # the figures in English, on the language switch
    await page.click("#lang")
    await expect(page.locator('[data-figure="calls"] dt')).to_have_text("Calls")


async def test_a_plain_user_has_no_dashboard_tab(company: Company, new_page) -> None:
    user = await company.add("user")
    page = await console_of(new_page, user, company.url)
    await expect(page.locator("[data-tab=calls]")).to_be_visible()
    await expect(page.locator("[data-tab=dashboard]")).to_be_hidden()
