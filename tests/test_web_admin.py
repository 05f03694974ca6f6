"""The console's Administration tab in a real browser: each screen used by the role that may use it and hidden
from the one that may not, forms refused next to the field, and every open console of the company following
along live."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from playwright.async_api import Page, expect

from hub.runtime import Runtime
from tests.browser import screenshot_path
from tests.conftest import Company, Person, new_phone
from tests.pbx_payloads import Pbx, canonical
from tests.web_steps import console_of


async def open_admin(page: Page, section: str | None = None) -> None:
    await page.click("[data-tab=admin]")
    if section:
        await page.click(f'.admin-link[data-section="{section}"]')
        await expect(page.locator(f"#admin-{section}")).to_be_visible()


def member_row(page: Page, person_or_name: Person | str):
    if isinstance(person_or_name, Person):
        return page.locator(f'#members-table tr[data-member-id="{person_or_name.id}"]')
    return page.locator("#members-table tbody tr", has_text=person_or_name)


async def department(company: Company, name: str) -> str:
    response = await company.http.post(
        f"{company.url}/api/departments", headers=company.owner.auth, json={"name": name}
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_owner_adds_a_member_and_closes_the_dialog_only_once_the_password_is_kept(
    company: Company, new_page, tmp_path: Path
) -> None:
    care = await department(company, "Chăm sóc khách hàng")
    agent = await company.add("user", name="Võ Minh Tâm", department_id=care)
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page)
    await expect(page.locator("#admin-members")).to_be_visible()  # the first section an owner sees
    await expect(member_row(page, agent)).to_contain_text("Chăm sóc khách hàng")
    await expect(member_row(page, agent).locator("[data-presence]")).to_have_attribute("data-presence", "offline")

    await page.click("#members-add")
    form = page.locator("#member-form")
    # Owners give manager or user, never owner.
    await expect(form.locator("select[name=role] option")).to_have_count(2)
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="name"]')).to_have_text("Vui lòng nhập trường này.")
    await expect(form.locator('[data-error-for="phone"]')).to_have_text("Vui lòng nhập trường này.")

    # A phone that is already a member: refused next to the phone field, nothing added.
    await form.locator("input[name=name]").fill("Trùng số")
    await form.locator("input[name=phone]").fill(agent.phone)
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="phone"]')).to_have_text(
        "Số điện thoại này đã là thành viên của công ty."
    )
    await expect(page.locator("#members-table tbody tr")).to_have_count(2)

    phone = new_phone()
    await form.locator("input[name=name]").fill("Lê Thị Hồng")
    await form.locator("input[name=phone]").fill(phone)
    await form.locator("select[name=department_id]").select_option(label="Chăm sóc khách hàng")
    await form.locator("select[name=role]").select_option("manager")
    await form.locator("button[type=submit]").click()

    created = page.locator("#member-created")
    await expect(created).to_contain_text("Đã thêm thành viên Lê Thị Hồng")
    password = (await page.locator("#new-password").text_content() or "").strip()
    assert len(password) >= 8
    # The dialog stays until the person says the password is kept: Escape does not close it either.
    await expect(page.locator("#password-close")).to_be_disabled()
    await page.keyboard.press("Escape")
    await expect(created).to_be_visible()
    await page.check("#password-copied")
    await page.click("#password-close")
    await expect(created).to_have_count(0)

    new_row = member_row(page, "Lê Thị Hồng")
    await expect(new_row).to_contain_text("Quản lý")
    await expect(new_row).to_contain_text(phone[-6:])
    # The password shown is the one that logs in.
    assert await company.login(phone, password)

    await page.fill("#members-search", "Tâm")
    await expect(page.locator("#members-table tbody tr")).to_have_count(1)
    await page.fill("#members-search", "")
    await page.screenshot(path=screenshot_path("admin-members.png", tmp_path))

    # A typed password is the one kept; the dialog again asks for the confirmation.
    await page.click("#members-add")
    form = page.locator("#member-form")
    typed_phone = new_phone()
    await form.locator("input[name=name]").fill("Đặng Văn Bình")
    await form.locator("input[name=phone]").fill(typed_phone)
    await form.locator('input[name=password_mode][value="type"]').check()
    await form.locator("input[name=password]").fill("ngắn")
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="password"]')).to_have_text("Mật khẩu cần ít nhất 8 ký tự.")
    await form.locator("input[name=password]").fill("mật-khẩu-dài-hơn")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#new-password")).to_have_text("mật-khẩu-dài-hơn")
    await page.check("#password-copied")
    await page.click("#password-close")
    assert await company.login(typed_phone, "mật-khẩu-dài-hơn")


async def test_owner_changes_a_role_and_department_and_assigns_an_extension(company: Company, new_page) -> None:
    sales = await department(company, "Kinh doanh")
    agent = await company.add("user", name="Trần Quốc Bảo")
    holder = await company.add("user", name="Kiều Minh Khoa")
    await company.http.put(
        f"{company.url}/api/members/{holder.id}/extension", headers=company.owner.auth, json={"extension": "206"}
    )
    await company.http.post(f"{company.url}/api/extensions", headers=company.owner.auth, json={"number": "205"})
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "members")
    row = member_row(page, agent)
    await row.locator("button.edit").click()
    form = page.locator("#member-edit")
    await form.locator("select[name=role]").select_option("manager")
    await form.locator("select[name=department_id]").select_option(sales)
    await form.locator("button[type=submit]").click()
    await expect(row.locator(".member-role")).to_have_text("Quản lý")
    await expect(row.locator(".member-department")).to_have_text("Kinh doanh")

    await row.locator("button.extension").click()
    extension_form = page.locator("#extension-form")
    await extension_form.locator("input[name=extension]").fill("206")
    await extension_form.locator("button[type=submit]").click()  # another member's: refused, said why
    await expect(extension_form.locator('[data-error-for="extension"]')).to_have_text(
        "Số máy lẻ này đang được giao cho một thành viên khác."
    )
    await expect(member_row(page, holder).locator(".member-extension")).to_have_text("206")
    await extension_form.locator("input[name=extension]").fill("205")
    await extension_form.locator("button[type=submit]").click()
    await expect(row.locator(".member-extension")).to_have_text("205")
    await row.locator("button.extension").click()  # now "Remove extension"
    await expect(row.locator(".member-extension")).to_have_text("–")


async def test_removing_a_member_who_holds_an_extension_takes_it_away_in_one_click(company: Company, new_page) -> None:
    agent = await company.add("user", name="Phan Thị Thu")
    await company.http.post(f"{company.url}/api/extensions", headers=company.owner.auth, json={"number": "301"})
    response = await company.http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "301"}
    )
    assert response.status_code == 200, response.text
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "members")
    await member_row(page, agent).locator("button.remove").click()
    dialog = page.locator("#member-remove")
    await dialog.locator("button[type=submit]").click()
    await expect(dialog.locator(".form-error")).to_have_text(
        "Thành viên này đang giữ một số máy lẻ: cần gỡ số máy lẻ trước khi xoá khỏi công ty."
    )
    await expect(member_row(page, agent)).to_be_visible()  # nothing done yet
    # The row goes on `member.removed`, published just before the member is deleted: wait for the answer.
    async with page.expect_response(
        lambda r: r.request.method == "DELETE" and r.url.endswith(f"/api/members/{agent.id}")
    ) as removal:
        await dialog.locator("#remove-both").click()
    assert (await removal.value).ok
    await expect(member_row(page, agent)).to_have_count(0)
    members = (await company.http.get(f"{company.url}/api/members", headers=company.owner.auth)).json()["members"]
    assert agent.id not in {m["id"] for m in members}


async def test_a_department_is_not_deleted_while_it_has_members(company: Company, new_page) -> None:
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "departments")
    form = page.locator("#department-form")
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="name"]')).to_have_text("Vui lòng nhập trường này.")
    await form.locator("input[name=name]").fill("Kỹ thuật")
    await form.locator("input[name=description]").fill("Hỗ trợ kỹ thuật qua điện thoại")
    await form.locator("button[type=submit]").click()
    row = page.locator("#departments-table tbody tr", has_text="Kỹ thuật")
    await expect(row.locator(".department-count")).to_have_text("0")
    department_id = await row.get_attribute("data-department-id")

    await company.add("user", department_id=department_id)
    await expect(row.locator(".department-count")).to_have_text("1")  # live, from member.created
    await row.locator("button.delete").click()
    await page.click("#confirm-yes")
    await expect(page.locator("#departments-error")).to_have_text(
        "Phòng ban vẫn còn 1 thành viên: chuyển họ sang phòng ban khác trước khi xoá."
    )
    await expect(row).to_be_visible()

    await row.locator("button.rename").click()
    await page.locator("#department-edit input[name=name]").fill("Kỹ thuật & bảo hành")
    await page.locator("#department-edit button[type=submit]").click()
    await expect(page.locator("#departments-table")).to_contain_text("Kỹ thuật & bảo hành")

    empty = page.locator("#departments-table tbody tr", has_text="Kỹ thuật & bảo hành")
    await page.locator("#department-form input[name=name]").fill("Tạm thời")
    await page.locator("#department-form button[type=submit]").click()
    temporary = page.locator("#departments-table tbody tr", has_text="Tạm thời")
    await temporary.locator("button.delete").click()
    await page.click("#confirm-yes")
    await expect(temporary).to_have_count(0)
    await expect(empty).to_be_visible()


async def test_a_second_console_follows_member_department_label_and_telephony_changes_live(
    company: Company, new_page
) -> None:
    manager = await company.add("manager", name="Ngô Thanh Vân")
    agent = await company.add("user", name="Lý Gia Huy")
    owner_page = await console_of(new_page, company.owner, company.url)
    manager_page = await console_of(new_page, manager, company.url)
    await open_admin(manager_page, "members")
    await expect(member_row(manager_page, manager).locator("[data-presence]")).to_have_attribute(
        "data-presence", "available"
    )

    # A department made in the owner's console appears in the manager's, with its members counted.
    await open_admin(owner_page, "departments")
    await owner_page.locator("#department-form input[name=name]").fill("Hậu mãi")
    await owner_page.locator("#department-form button[type=submit]").click()
    await manager_page.click('.admin-link[data-section="departments"]')
    await expect(manager_page.locator("#departments-table")).to_contain_text("Hậu mãi")

    # The owner moves the agent into it: the manager's member list and department count follow.
    await owner_page.click('.admin-link[data-section="members"]')
    await member_row(owner_page, agent).locator("button.edit").click()
    await owner_page.locator("#member-edit select[name=department_id]").select_option(label="Hậu mãi")
    await owner_page.locator("#member-edit button[type=submit]").click()
    await expect(
        manager_page.locator("#departments-table tbody tr", has_text="Hậu mãi").locator(".department-count")
    ).to_have_text("1")
    await manager_page.click('.admin-link[data-section="members"]')
    await expect(member_row(manager_page, agent).locator(".member-department")).to_have_text("Hậu mãi")

    # A label renamed by the owner is renamed in the manager's console.
    await owner_page.click('.admin-link[data-section="labels"]')
    await owner_page.locator("#label-form input[name=name]").fill("VIP")
    await owner_page.locator("#label-form button[type=submit]").click()
    await manager_page.click('.admin-link[data-section="labels"]')
    await expect(manager_page.locator("#labels-table")).to_contain_text("VIP")
    await owner_page.locator("#labels-table tr", has_text="VIP").locator("button.rename").click()
    await owner_page.locator("#label-edit input[name=name]").fill("Khách quen")
    await owner_page.locator("#label-edit button[type=submit]").click()
    await expect(manager_page.locator("#labels-table")).to_contain_text("Khách quen")
    await expect(manager_page.locator("#labels-table")).not_to_contain_text("VIP")
    await owner_page.locator("#labels-table tr", has_text="Khách quen").locator("button.delete").click()
    await owner_page.click("#confirm-yes")
    await expect(manager_page.locator("#labels-table")).not_to_contain_text("Khách quen")
    await expect(manager_page.locator("#f-label")).not_to_contain_text("Khách quen")  # the chat filter too

    # A member removed by the owner leaves the manager's list.
    await owner_page.click('.admin-link[data-section="members"]')
    await member_row(owner_page, agent).locator("button.remove").click()
    await owner_page.locator("#member-remove button[type=submit]").click()
    await expect(member_row(manager_page, agent)).to_have_count(0)

    # Telephony too: a hotline, an extension and a wall display the owner adds reach the manager's screen.
    await open_admin(owner_page, "telephony")
    await manager_page.click('.admin-link[data-section="telephony"]')
    await owner_page.locator("#hotline-form input[name=number]").fill("19006868")
    await owner_page.locator("#hotline-form button[type=submit]").click()
    await expect(manager_page.locator("#hotlines-table")).to_contain_text("19006868")
    await owner_page.locator("#extension-add-form input[name=number]").fill("505")
    await owner_page.locator("#extension-add-form button[type=submit]").click()
    await expect(manager_page.locator('#extensions-table tr[data-extension="505"]')).to_be_visible()
    await owner_page.locator("#wallboard-form input[name=name]").fill("TV kho")
    await owner_page.locator("#wallboard-form button[type=submit]").click()
    await expect(manager_page.locator("#wallboards-table")).to_contain_text("TV kho")


async def test_a_manager_adds_only_users_and_sees_no_audit_log(company: Company, new_page) -> None:
    manager = await company.add("manager", name="Đỗ Hải Yến")
    peer = await company.add("manager", name="Cao Minh Đức")
    agent = await company.add("user", name="Hồ Ngọc Lan")
    page = await console_of(new_page, manager, company.url)
    await open_admin(page)
    await expect(page.locator(".admin-link")).to_have_count(7)
    await expect(page.locator('.admin-link[data-section="audit"]')).to_have_count(0)
    # The guide: managers cannot touch peers or the owner.
    await expect(member_row(page, peer).locator("button.edit")).to_have_count(0)
    await expect(member_row(page, company.owner).locator("button.remove")).to_have_count(0)
    await expect(member_row(page, agent).locator("button.edit")).to_have_count(1)
    await page.click("#members-add")
    await expect(page.locator("#member-form select[name=role] option")).to_have_count(1)
    await expect(page.locator("#member-form select[name=role]")).to_have_value("user")
    await page.locator("#member-form").get_by_role("button", name="Huỷ").click()

    # The company's settings are the owner's to change: shown, not editable.
    await page.click('.admin-link[data-section="company"]')
    await expect(page.locator("#company-form")).to_contain_text("Chỉ chủ sở hữu")
    await expect(page.locator("#company-form input[name=name]")).to_be_disabled()
    await page.click('.admin-link[data-section="telephony"]')
    await expect(page.locator("#pbx-rotate")).to_have_count(0)


async def test_a_user_sees_only_their_account(company: Company, new_page) -> None:
    agent = await company.add("user", name="Mai Anh Thư")
    page = await console_of(new_page, agent, company.url)
    await open_admin(page)
    await expect(page.locator(".admin-link")).to_have_count(1)
    await expect(page.locator(".admin-link")).to_have_text("Tài khoản")
    await expect(page.locator("#admin-account")).to_be_visible()
    await expect(page.locator("#companies-table tbody tr")).to_have_count(1)
    await expect(page.locator("#companies-table")).to_contain_text(company.code)
    await expect(page.locator("#companies-table")).to_contain_text("Nhân viên")
    assert await page.locator("#admin-members").count() == 0


async def test_a_password_change_closes_the_accounts_other_console(company: Company, new_page, tmp_path: Path) -> None:
    agent = await company.add("user", name="Trịnh Công Minh")
    here = await console_of(new_page, agent, company.url)
    elsewhere = await console_of(new_page, agent, company.url)
    await open_admin(here, "account")
    form = here.locator("#password-form")

    await form.locator("input[name=current]").fill("sai mật khẩu")
    await form.locator("input[name=new]").fill("mật-khẩu-mới-2026")
    await form.locator("input[name=confirm]").fill("mật-khẩu-khác")
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="confirm"]')).to_have_text("Hai mật khẩu không khớp.")
    await form.locator("input[name=confirm]").fill("mật-khẩu-mới-2026")
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="current"]')).to_have_text("Mật khẩu hiện tại không đúng.")
    await expect(elsewhere.locator("#brand")).to_be_visible()  # refused: nothing changed

    await form.locator("input[name=current]").fill(agent.password or "")
    await form.locator("input[name=new]").fill("mật-khẩu-mới-2026")
    await form.locator("input[name=confirm]").fill("mật-khẩu-mới-2026")
    await form.locator("button[type=submit]").click()
    await expect(here.locator("#password-changed")).to_be_visible()
    await here.screenshot(path=screenshot_path("admin-account.png", tmp_path))

    await elsewhere.wait_for_url(re.compile(r"/\?reason=password_changed$"))
    await expect(elsewhere.locator("#login-note")).to_contain_text("Mật khẩu của tài khoản đã được đổi ở nơi khác")

    # The console that changed it stays, live on its new token: a label made now shows up there.
    await expect(here.locator("#banner")).to_be_hidden()
    label = await company.http.post(
        f"{company.url}/api/labels", headers=company.owner.auth, json={"name": "Sau đổi mật khẩu"}
    )
    assert label.status_code == 201
    await expect(here.locator("#f-label")).to_contain_text("Sau đổi mật khẩu")
    assert await company.login(agent.phone, "mật-khẩu-mới-2026")


async def test_my_companies_switches_company_without_logging_in_again(
    company: Company, runtime: Runtime, new_page
) -> None:
    second, _, _ = await runtime.directory.bootstrap(
        "co2" + company.code[2:], "Chi nhánh Cần Thơ", company.owner.phone, "Chủ", None
    )
    page = await new_page()
    await page.goto(f"{company.url}/")
    await page.fill("#phone", company.owner.phone)
    await page.fill("#password", company.owner.password or "")
    await page.click("#login-submit")
    await page.click(f'#company-list .company[data-code="{company.code}"]')
    await page.wait_for_url("**/console")
    await open_admin(page, "account")
    rows = page.locator("#companies-table tbody tr")
    await expect(rows).to_have_count(2)
    await rows.filter(has_text="Chi nhánh Cần Thơ").locator("button.switch").click()
    await expect(page.locator("#brand")).to_have_text("Chi nhánh Cần Thơ")
    await page.locator("#banner").wait_for(state="hidden")


async def test_telephony_lists_adds_and_removes_and_a_display_gets_its_link_and_qr_code(
    company: Company, http: httpx.AsyncClient, new_page, tmp_path: Path
) -> None:
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "telephony")
    hotline_form = page.locator("#hotline-form")
    await hotline_form.locator("input[name=number]").fill("19001234")
    await hotline_form.locator("input[name=name]").fill("Tổng đài CSKH")
    await hotline_form.locator("button[type=submit]").click()
    await expect(page.locator("#hotlines-table")).to_contain_text("19001234")

    extension_form = page.locator("#extension-add-form")
    await extension_form.locator("input[name=number]").fill("101")
    await extension_form.locator("button[type=submit]").click()
    await expect(page.locator('#extensions-table tr[data-extension="101"]')).to_be_visible()
    await extension_form.locator("input[name=number]").fill("101")
    await extension_form.locator("button[type=submit]").click()
    await expect(extension_form.locator('[data-error-for="number"]')).to_have_text("Số máy lẻ này đã có.")

    await expect(page.locator("#pbx-webhook")).to_have_text(f"{company.url}/webhooks/pbx/{company.code}")
    await page.click("#pbx-rotate")
    await page.click("#confirm-yes")
    await expect(page.locator("#pbx-secret-value")).not_to_be_empty()
    await expect(page.locator("#pbx-secret")).to_contain_text("X-Hub-Signature: t=<unix>")

    # The PBX, given that secret, rings 102, which the directory lacks: it shows up at once, offered to add.
    secret = await page.locator("#pbx-secret-value").text_content()
    response = await Pbx(company.url, company.code, secret or "").post(http, canonical("no_answer")[0])
    assert response.status_code == 200, response.text
    unlisted = page.locator('#extensions-table tr[data-extension="102"]')
    await expect(unlisted).to_have_attribute("data-listed", "false")
    await expect(unlisted).to_contain_text("Đổ chuông")
    await unlisted.locator("button.add").click()
    await expect(unlisted).to_have_attribute("data-listed", "true")

    await page.locator("#wallboard-form input[name=name]").fill("TV sảnh")
    await page.locator("#wallboard-form button[type=submit]").click()
    issued = page.locator("#wallboard-issued")
    link = issued.locator("#wallboard-issued-url")
    await expect(link).to_have_text(re.compile(rf"^{re.escape(company.url)}/wallboard#token=."))
    await expect(issued.locator("svg.qr path")).to_have_attribute("d", re.compile(r"^M\d+ \d+h1v1h-1z"))
    await page.screenshot(path=screenshot_path("admin-telephony.png", tmp_path))
    url = await link.text_content()
    await issued.get_by_role("button").click()
    await expect(page.locator("#wallboards-table")).to_contain_text("TV sảnh")

    # The link opens the wallboard on another device.
    tv = await new_page()
    await tv.goto(url or "")
    await expect(tv.locator("#wb-company")).to_have_text(f"Company {company.code}")
    await expect(tv.locator("#wb-error")).to_be_hidden()
    await tv.close()

    await page.locator("#wallboards-table tr", has_text="TV sảnh").get_by_role("button").click()
    await page.click("#confirm-yes")
    await expect(page.locator("#wallboards-table")).not_to_contain_text("TV sảnh")
    await page.locator("#hotlines-table tr", has_text="19001234").get_by_role("button").click()
    await page.click("#confirm-yes")
    await expect(page.locator("#hotlines-table")).not_to_contain_text("19001234")


async def test_owner_sets_company_information_and_settings_with_errors_next_to_the_field(
    company: Company, new_page, tmp_path: Path
) -> None:
    page = await console_of(new_page, company.owner, company.url)
    other = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "company")
    form = page.locator("#company-form")
    await expect(form.locator("#company-code")).to_have_text(company.code)
    await form.locator("input[name=max_open_threads]").fill("0")
    await form.locator("button[type=submit]").click()
    await expect(form.locator('[data-error-for="max_open_threads"]')).to_have_text("Giá trị không hợp lệ.")
    company_now = (await company.http.get(f"{company.url}/api/company", headers=company.owner.auth)).json()
    assert company_now["settings"]["max_open_threads"] == 20  # nothing saved

    await form.locator("input[name=name]").fill("Công ty TNHH Sao Mai")
    await form.locator("input[name='contact.phone']").fill("02838123456")
    await form.locator("input[name='contact.email']").fill("cskh@saomai.vn")
    await form.locator("input[name='business.legal_name']").fill("Công ty TNHH Thương mại Sao Mai")
    await form.locator("input[name='business.tax_code']").fill("0312345678")
    await form.locator("input[name=max_open_threads]").fill("12")
    await form.locator("input[name=service_level_s]").fill("30")
    await page.click("#add-price")
    await form.locator(".price-row .template").last.fill("231456")
    await form.locator(".price-row .price").last.fill("300")
    await form.locator("button[type=submit]").click()
    await expect(page.locator("#company-saved")).to_be_visible()
    await expect(other.locator("#brand")).to_have_text("Công ty TNHH Sao Mai")  # live elsewhere
    saved = (await company.http.get(f"{company.url}/api/company", headers=company.owner.auth)).json()
    assert saved["settings"]["max_open_threads"] == 12
    assert saved["settings"]["zns_prices"] == {"231456": 300}
    assert saved["business"]["tax_code"] == "0312345678"
    await page.locator(".admin-body").evaluate("body => body.scrollTo(0, 0)")
    await page.screenshot(path=screenshot_path("admin-company.png", tmp_path))


async def test_owner_reads_the_audit_log_by_member_and_action(company: Company, new_page) -> None:
    agent = await company.add("user", name="Bùi Thị Nga")
    await company.http.delete(f"{company.url}/api/members/{agent.id}", headers=company.owner.auth)
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "audit")
    table = page.locator("#audit-table tbody")
    removed = table.locator('tr[data-action="member.removed"]')
    await expect(removed).to_contain_text("Bùi Thị Nga")
    await expect(removed).to_contain_text("Xoá thành viên")
    await page.locator("#audit-filters select[name=action]").select_option("member.removed")
    await page.locator("#audit-filters button[type=submit]").click()
    await expect(table.locator("tr")).to_have_count(1)
    await page.locator("#audit-filters select[name=action]").select_option("pbx.secret_rotated")
    await page.locator("#audit-filters button[type=submit]").click()
    await expect(table).to_have_text("Không có mục nào.")
    await page.locator("#audit-filters select[name=action]").select_option("")
    await page.locator("#audit-filters select[name=member]").select_option(agent.id)
    await page.locator("#audit-filters button[type=submit]").click()
    await expect(table).to_contain_text("Đăng nhập")  # the agent's own login, by them


async def test_administration_speaks_english_after_the_switch(company: Company, new_page) -> None:
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "members")
    await expect(page.locator(".admin-link")).to_have_count(8)  # the owner: every section, the audit log too
    await page.click("#lang")
    await expect(page.locator("[data-tab=admin]")).to_have_text("Administration")
    await expect(page.locator('.admin-link[data-section="members"]')).to_have_text("Members")
    await expect(page.locator("#members-add")).to_have_text("Add member")
    await expect(page.locator("#members-table thead")).to_contain_text("Department")
    await page.click("#members-add")
    await page.locator("#member-form button[type=submit]").click()
    await expect(page.locator('#member-form [data-error-for="name"]')).to_have_text("Please fill in this field.")
    await page.locator("#member-form").get_by_role("button", name="Cancel").click()
    await page.click('.admin-link[data-section="account"]')
    await expect(page.locator("#password-form h3")).to_have_text("Change password")
    await page.click('.admin-link[data-section="oa"]')
    await expect(page.locator("#admin-oa")).not_to_be_empty()


async def test_the_audit_log_pages_to_older_entries(company: Company, new_page) -> None:
    for _ in range(55):  # each login is an entry: more than one page of 50
        await company.login(company.owner.phone, company.owner.password or "")
    page = await console_of(new_page, company.owner, company.url)
    await open_admin(page, "audit")
    rows = page.locator("#audit-table tbody tr")
    await expect(rows).to_have_count(50)
    await page.click("#audit-older")
    await expect(rows.nth(55)).to_be_visible()  # the 55 logins, the fixture's and the console's own
    await expect(page.locator("#audit-older")).to_be_hidden()
