"""The OA links screen (hub/web/static/oa_links.js) in Chromium: the owner links an OA through the fake Zalo's
permission page and the card appears live in a manager's console, then the refresh token's warning when
the hub's clock nears its lapse. The screen is the Administration tab's Zalo OA section (mountOaLinks), with console.js routing oa_link.*
events to it."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.fake_zalo import FakeZalo
from tests.web_steps import console_of
from tests.zalo_payloads import Oa

DAY = 86400.0


async def mount(page: Page) -> None:
    """The Administration tab's Zalo OA section (where Zalo's callback also lands: #admin/oa)."""
    if not await page.locator("#tab-admin").is_visible():
        await page.click("[data-tab=admin]")
    await page.click(".admin-link[data-section=oa]")
    await expect(page.locator("#admin-oa .oa-links")).to_be_visible()


async def test_owner_links_an_oa_with_zalo_and_every_supervisor_sees_the_card_live(
    company: Company, fake_zalo: FakeZalo, new_page, clock, tmp_path: Path
) -> None:
    account = Oa.new()
    fake_zalo.register_app(account.app_id, account.app_secret, account.oa_id, name="Hoa Sen Shop", avatar="")
    manager = await company.add("manager")
    watcher = await console_of(new_page, manager, company.url)
    await mount(watcher)
    await expect(watcher.locator(".oa-empty")).to_be_visible()
    await expect(watcher.locator(".oa-link-start")).to_have_count(0)  # managers see links, never link

    page = await console_of(new_page, company.owner, company.url)
    await mount(page)
    await page.click(".oa-link-start")
    form = page.locator(".oa-oauth-form")
    await form.locator("input[name=app_id]").fill(account.app_id)
    await form.locator("input[name=app_secret]").fill(account.app_secret)
    await form.locator("input[name=oa_secret_key]").fill(account.oa_secret_key)
    await form.locator("button[type=submit]").click()
    # Zalo's permission page (the fake allows at once), the hub's callback, back to the console.
    await page.wait_for_url(re.compile(r"/console\?oa_link=linked&link_id=\w+#admin/oa$"))
    await page.locator("#banner").wait_for(state="hidden")
    await mount(page)
    await expect(page.locator(".oa-notice")).to_contain_text("Đã liên kết OA Hoa Sen Shop")

    card = watcher.locator(".oa-card")
    await expect(card).to_have_count(1)
    await expect(card.locator(".oa-name")).to_have_text("Hoa Sen Shop")
    await expect(card.locator(".oa-id")).to_have_text(account.oa_id)
    await expect(card.locator(".oa-app-id")).to_have_text(account.app_id)
    await expect(card.locator(".oa-status")).to_have_text("Đang kết nối")
    await expect(card.locator(".oa-followers")).to_contain_text("1.520")
    await expect(card.locator(".oa-webhook-url")).to_have_text(f"{company.url}/webhooks/zalo")
    await expect(card.locator(".oa-warning")).to_have_count(0)

    clock.advance(85 * DAY)  # 5 days of the refresh token's 90 left
    await expect(card.locator(".oa-warning")).to_contain_text("Refresh token sẽ hết hạn")
    await expect(page.locator(".oa-card .oa-warning")).to_be_visible()
    await page.locator("#admin-oa").screenshot(path=screenshot_path("console-oa-links.png", tmp_path))


async def test_a_denied_permission_is_said_in_words_and_the_owner_routes_and_disconnects_a_link(
    company: Company, fake_zalo: FakeZalo, oa: Oa, new_page
) -> None:
    sales = await company.http.post(
        f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "Bán hàng"}
    )
    assert sales.status_code == 201, sales.text
    manager = await company.add("manager")
    watcher = await console_of(new_page, manager, company.url)
    await mount(watcher)
    watched = watcher.locator(f".oa-card[data-link-id='{oa.link_id}']")
    await expect(watched.locator(".oa-status")).to_have_text("Đang kết nối")

    account = Oa.new()
    fake_zalo.register_app(account.app_id, account.app_secret, account.oa_id, avatar="")
    fake_zalo.denying.add(account.app_id)
    page = await console_of(new_page, company.owner, company.url)
    await mount(page)
    await page.click(".oa-link-start")
    await page.fill(".oa-oauth-form input[name=app_id]", account.app_id)
    await page.fill(".oa-oauth-form input[name=app_secret]", account.app_secret)
    await page.click(".oa-oauth-form button[type=submit]")
    await page.wait_for_url(re.compile(r"/console\?oa_link=failed&reason=denied#admin/oa$"))
    await page.locator("#banner").wait_for(state="hidden")
    await mount(page)
    await expect(page.locator(".oa-notice.error")).to_contain_text("đã không cho phép ứng dụng quản lý OA")
    await page.click("#lang")  # the open screen re-renders in English
    await expect(page.locator(".oa-notice.error")).to_contain_text("did not allow the app to manage the OA")
    await page.click("#lang")

    card = page.locator(f".oa-card[data-link-id='{oa.link_id}']")
    await card.locator("select.oa-department").select_option(label="Bán hàng")
    await expect(watched.locator(".oa-routing")).to_contain_text("Bán hàng")
    page.once("dialog", lambda dialog: dialog.accept())
    await card.locator(".oa-disconnect").click()
    await expect(watched.locator(".oa-status")).to_have_text("Đã ngắt kết nối")
    await expect(card.locator(".oa-relink")).to_be_visible()
