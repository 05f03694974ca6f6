"""The Contacts tab in Chromium: an owner adds, finds by any form of the number, edits and deletes a contact,
and sees one a colleague adds arrive live; a user has no Delete; an import shows the bad rows in its preview,
then a progress bar, then the contacts; the internal directory lists members with their extension."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page, expect

from tests.browser import screenshot_path
from tests.conftest import Company
from tests.test_contacts import add_contact, csv_bytes
from tests.web_steps import console_of


def contact_row(page: Page, name: str):
    return page.locator("#contact-list tr.contact-row", has_text=name)


async def test_owner_adds_finds_edits_and_deletes_a_contact(company: Company, new_page, tmp_path: Path) -> None:
    colleague = await company.add("user", name="Đặng Thu")
    await add_contact(company, company.owner, name="Công ty Hải Âu", phones=["02873001234"], address="Quận 1, TP.HCM")
    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=contacts]")
    await expect(contact_row(page, "Công ty Hải Âu")).to_be_visible()

    await page.click("#contacts-add")
    await page.fill("#contact-form [name=name]", "Nguyễn Văn An")
    await page.fill("#contact-form [name=phones]", "0912 000 111, 0988000222")
    await page.fill("#contact-form [name=email]", "an@example.vn")
    await page.fill("#contact-form [name=note]", "Gọi sau 17h")
    await page.click("#contact-save")
    await expect(contact_row(page, "Nguyễn Văn An")).to_contain_text("0912 000 111, 0988000222")

    # the same number again is refused, naming the contact that has it
    await page.click("#contacts-add")
    await page.fill("#contact-form [name=name]", "Người khác")
    await page.fill("#contact-form [name=phones]", "+84988000222")
    await page.click("#contact-save")
    await expect(page.locator('#contact-form [data-error-for="phones"]')).to_contain_text("Nguyễn Văn An")
    await page.get_by_role("button", name="Huỷ").click()

    # a colleague's new contact arrives without a reload
    await add_contact(company, colleague, name="Trương Mỹ Lệ", phones=["0977000333"])
    await expect(contact_row(page, "Trương Mỹ Lệ")).to_be_visible()
    await page.screenshot(path=screenshot_path("contacts.png", tmp_path))

    for form in ("84912000111", "+84 912 000 111", "0912000111"):
        await page.fill("#contacts-q", form)
        await expect(page.locator("#contact-list tr.contact-row")).to_have_count(1)
        await expect(contact_row(page, "Nguyễn Văn An")).to_be_visible()
    await page.fill("#contacts-q", "hải âu")
    await expect(page.locator("#contact-list tr.contact-row")).to_have_count(1)
    await expect(contact_row(page, "Công ty Hải Âu")).to_be_visible()
    await page.fill("#contacts-q", "")
    await expect(page.locator("#contact-list tr.contact-row")).to_have_count(3)

    await contact_row(page, "Nguyễn Văn An").locator(".contact-edit").click()
    await page.fill("#contact-form [name=name]", "Nguyễn Văn An (VIP)")
    await page.click("#contact-save")
    await expect(contact_row(page, "Nguyễn Văn An (VIP)")).to_be_visible()

    await contact_row(page, "Trương Mỹ Lệ").locator(".contact-delete").click()
    await page.click("#confirm-yes")
    await expect(contact_row(page, "Trương Mỹ Lệ")).to_have_count(0)

    # a contact opens the customer page
    await contact_row(page, "Nguyễn Văn An (VIP)").locator("td.name button").click()
    await expect(page.locator("#customer-name")).to_have_text("Nguyễn Văn An (VIP)")
    assert "#customer/" in page.url and "84912000111" in page.url

    # English, on the switch, back on the Contacts tab
    await page.click("[data-tab=contacts]")
    await page.click("#lang")
    await expect(page.locator("#contact-list th").first).to_have_text("Name")
    await expect(page.locator("#contacts-add")).to_have_text("Add contact")


async def test_a_user_edits_but_has_no_delete_and_sees_the_internal_directory(company: Company, new_page) -> None:
    user = await company.add("user", name="Lâm Gia Huy")
    await company.http.put(
        f"{company.url}/api/members/{user.id}/extension", headers=company.owner.auth, json={"extension": "205"}
    )
    await add_contact(company, company.owner, name="Khách Hàng Mới", phones=["0909111444"])
    page = await console_of(new_page, user, company.url)
    await page.click("[data-tab=contacts]")
    row = contact_row(page, "Khách Hàng Mới")
    await expect(row.locator(".contact-edit")).to_be_visible()
    await expect(row.locator(".contact-delete")).to_have_count(0)
    await page.click(".contacts-views [data-view=internal]")
    await expect(page.locator("#contacts-internal")).to_be_visible()
    await expect(page.locator("#contacts-general")).to_be_hidden()
    member = page.locator(f'#internal-list tr[data-member-id="{user.id}"]')
    await expect(member.locator(".name")).to_have_text("Lâm Gia Huy")
    await expect(member.locator(".extension")).to_have_text("205")


async def test_an_import_previews_bad_rows_then_shows_progress_and_the_contacts(
    company: Company, new_page, tmp_path: Path
) -> None:
    rows = [[f"Khách nhập {i}", f"0933{i:06d}", ""] for i in range(3000)]
    rows[3] = ["", "0934000001", ""]
    rows[7] = ["Số hỏng", "12345", ""]
    rows[9] = ["Trùng", "0933000002", ""]
    path = tmp_path / "danh-ba.csv"
    path.write_bytes(csv_bytes(["Họ tên", "Số điện thoại", "Email"], rows))

    page = await console_of(new_page, company.owner, company.url)
    await page.click("[data-tab=contacts]")
    await page.set_input_files("#contacts-file", str(path))
    await expect(page.locator("#import-summary")).to_have_text("3.000 dòng: 2.997 hợp lệ, 3 có lỗi (sẽ bỏ qua).")
    problems = page.locator("#import-preview tbody tr")
    await expect(problems).to_have_count(3)
    await expect(problems.nth(0)).to_contain_text("Thiếu tên")
    await expect(problems.nth(1)).to_contain_text("Số không hợp lệ: 12345")
    await expect(problems.nth(2)).to_contain_text("Trùng số với dòng 4")
    await page.screenshot(path=screenshot_path("contacts-import.png", tmp_path))
    assert await page.locator("#contact-list tr.contact-row").count() == 0  # nothing saved before the confirm

    await page.click("#import-confirm")
    await expect(page.locator("#import-progress")).to_be_visible()
    await expect(page.locator("#import-status")).to_contain_text("Đang nhập", timeout=30_000)
    await expect(page.locator("#import-status")).to_have_text(
        "Đã nhập xong: 2.997 liên hệ mới, 0 cập nhật, 0 không đổi, 0 lỗi.", timeout=120_000
    )
    await expect(contact_row(page, "Khách nhập 2999")).to_be_visible()
    await expect(contact_row(page, "Số hỏng")).to_have_count(0)
