"""The Followers tab: an owner syncs an OA's users from Zalo and watches the progress bar move (Zalo's rate
limit shown while it waits), filters the list as the product guide does (30 days — callable through ZCC,
phone known, tag), opens a user's detail, and sees a new follower arrive live; a plain user has no such tab."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.fake_zalo import FakeZalo
from tests.test_followers import _days_ago, zalo_users
from tests.web_steps import console_of
from tests.zalo_payloads import Oa, zalo_id


async def test_owner_syncs_followers_with_a_live_progress_bar_filters_and_opens_one(
    company: Company, oa: Oa, fake_zalo: FakeZalo, new_page, tmp_path: Path
) -> None:
    users = zalo_users(120)
    for detail in users.values():
        detail["avatar"] = ""  # the test browser has no network to fetch one
    fake_zalo.arrange_users(oa.oa_id, users)
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=followers]")
    await expect(page.locator("#fol-list tbody")).to_contain_text("Không có người dùng nào khớp bộ lọc.")

    fake_zalo.list_gate.clear()
    fake_zalo.hold_list_at = 50  # the second page waits, so the bar is seen half-way
    fake_zalo.rate_limited_calls = 1  # and the first call meets Zalo's rate limit
    await page.click("#fol-sync")
    await expect(page.locator("#fol-notice")).to_contain_text("Zalo báo vượt giới hạn gọi API")
    await expect(page.locator("#fol-job")).to_have_text("Đang đồng bộ: 50/120")
    await expect(page.locator("#fol-progress")).to_be_visible()
    assert await page.locator("#fol-progress").evaluate("(bar) => [bar.value, bar.max]") == [50, 120]
    await expect(page.locator("#fol-sync")).to_be_disabled()
    await expect(page.locator("#fol-list tbody tr")).to_have_count(50)  # the first page's users arrived live
    fake_zalo.hold_list_at = None
    fake_zalo.list_gate.set()
    await expect(page.locator("#fol-job")).to_contain_text("Đã đồng bộ 120 người dùng")
    following = sum(1 for d in users.values() if d["user_is_follower"])
    await expect(page.locator("#fol-counts")).to_contain_text(f"{following} người quan tâm · 120 người đã tương tác")
    await expect(page.locator("#fol-oa-counts")).to_contain_text("Zalo báo 120 người dùng")
    await expect(page.locator("#fol-list tbody tr")).to_have_count(50)
    await expect(page.locator("#fol-older")).to_be_visible()

    # 30 days — callable through ZCC, with a phone number shared
    await page.select_option("#fol-days", "30")
    await page.check("#fol-phone")
    expected = [u for u, d in users.items() if _days_ago(d) <= 29 and "shared_info" in d]
    await expect(page.locator("#fol-list tbody tr")).to_have_count(len(expected))
    await page.fill("#fol-tag", "VIP")
    await page.click("#fol-filters button[type=submit]")
    vip = [u for u in expected if "VIP" in users[u]["tags_and_notes_info"]["tag_names"]]
    await expect(page.locator("#fol-list tbody tr")).to_have_count(len(vip))

    # the detail: last interaction, Interested or not, address, tags
    user_id = vip[0]
    detail = users[user_id]
    await page.locator("#fol-list tbody tr", has_text=detail["display_name"]).click()
    await expect(page.locator("#fol-detail-name")).to_have_text(detail["display_name"])
    await expect(page.locator("#fol-detail-address")).to_have_text(
        f"{detail['shared_info']['address']}, Quận 1, Hồ Chí Minh"
    )
    state = "Quan tâm" if detail["user_is_follower"] else "Không quan tâm"
    await expect(page.locator("#fol-detail .badge.follower")).to_have_text(state)
    await expect(page.locator("#fol-detail .badge.tag")).to_have_text("VIP")
    await expect(page.locator("#fol-detail .badge.zcc")).to_have_text("Gọi được qua ZCC (tương tác trong 30 ngày)")
    await page.screenshot(path=screenshot_path("followers.png", tmp_path))

    # a new follower arrives live, in the unfiltered list
    await page.select_option("#fol-days", "")
    await page.uncheck("#fol-phone")
    await page.fill("#fol-tag", "")
    await page.click("#fol-filters button[type=submit]")
    newcomer = zalo_id()
    await oa.deliver(company.http, company.url, oa.follow(newcomer))
    row = page.locator("#fol-list tbody tr").first
    await expect(row.locator("td.user-id")).to_have_text(newcomer)
    await expect(row).to_contain_text("Quan tâm")
    await expect(page.locator("#fol-counts")).to_contain_text("121 người đã tương tác")

    await page.click("#lang")
    await expect(page.locator("#tab-followers h2")).to_have_text("OA followers")
    await expect(page.locator("#fol-sync")).to_have_text("Sync from Zalo")
    await expect(page.locator("#fol-days option[value='30']")).to_have_text("Last 30 days — ZCC callable")


async def test_a_plain_user_has_no_followers_tab(company: Company, new_page) -> None:
    user = await company.add("user")
    page = await console_of(new_page, user, company.url)
    await expect(page.locator("[data-tab=calls]")).to_be_visible()
    await expect(page.locator("[data-tab=followers]")).to_be_hidden()
