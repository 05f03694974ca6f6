"""Contacts over REST against a real hub: general contacts (one customer per phone number), the internal
directory, the export, and imports on the shared job runner (preview, confirm, twice, 50,000 rows, a
hub killed half-way)."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from tests.conftest import Company, Person

# -- general contacts ---------------------------------------------------------------------------------


async def add_contact(company: Company, by: Person, **fields: Any) -> dict[str, Any]:
    response = await company.http.post(f"{company.url}/api/contacts", headers=by.auth, json=fields)
    assert response.status_code == 201, response.text
    return response.json()


async def search(company: Company, by: Person, q: str) -> list[dict[str, Any]]:
    response = await company.http.get(f"{company.url}/api/contacts", headers=by.auth, params={"q": q})
    assert response.status_code == 200, response.text
    return response.json()["contacts"]


async def test_a_user_adds_a_contact_and_every_member_sees_it_arrive_live(company: Company) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    watching = await company.console(manager).connect()
    contact = await add_contact(
        company, user, name="Nguyễn Thị Lan", phones=["0912 345 001"], email="lan@example.vn", note="khách quen"
    )
    assert contact["phones"] == ["0912 345 001"]
    assert contact["phones_e164"] == ["+84912345001"]
    assert contact["created_by"] == user.id
    await watching.wait_for(lambda: any(e["data"]["id"] == contact["id"] for e in watching.of_type("contact.created")))
    got = await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=manager.auth)
    assert got.status_code == 200 and got.json()["name"] == "Nguyễn Thị Lan"


async def test_every_form_of_a_number_finds_the_same_contact(company: Company) -> None:
    contact = await add_contact(company, company.owner, name="Trần Văn Bình", phones=["0987654002"])
    await add_contact(company, company.owner, name="Lê Thị Cúc", phones=["+84987000003"])
    for form in ("0987654002", "84987654002", "+84987654002", "+84 987 654 002", "987654002", "654002"):
        assert [c["id"] for c in await search(company, company.owner, form)] == [contact["id"]], form
    assert [c["id"] for c in await search(company, company.owner, "văn bình")] == [contact["id"]]
    assert [c["name"] for c in await search(company, company.owner, "TRẦN")] == ["Trần Văn Bình"]


async def test_two_contacts_cannot_share_a_number(company: Company) -> None:
    first = await add_contact(company, company.owner, name="Phạm Minh", phones=["0903111004"])
    response = await company.http.post(
        f"{company.url}/api/contacts", headers=company.owner.auth, json={"name": "Ai đó", "phones": ["84903111004"]}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "phone_taken" and error["contact_id"] == first["id"]
    assert "Phạm Minh" in error["message"]
    other = await add_contact(company, company.owner, name="Hoàng Yến", phones=["0903111005"])
    moved = await company.http.patch(
        f"{company.url}/api/contacts/{other['id']}", headers=company.owner.auth, json={"phones": ["+84903111004"]}
    )
    assert moved.status_code == 409 and moved.json()["error"]["contact_name"] == "Phạm Minh"
    assert [c["name"] for c in await search(company, company.owner, "0903111004")] == ["Phạm Minh"]


async def test_a_number_that_is_no_phone_number_is_refused_naming_it(company: Company) -> None:
    response = await company.http.post(
        f"{company.url}/api/contacts",
        headers=company.owner.auth,
        json={"name": "Vũ Hà", "phones": ["0912345006", "12ab"]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_phone" and "12ab" in response.json()["error"]["message"]
    assert await search(company, company.owner, "Vũ Hà") == []


async def test_a_member_edits_a_contact_live_and_only_supervisors_delete(company: Company) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    contact = await add_contact(company, user, name="Đỗ Quang", phones=["0977000007"])
    watching = await company.console(user).connect()
    edited = await company.http.patch(
        f"{company.url}/api/contacts/{contact['id']}",
        headers=user.auth,
        json={"name": "Đỗ Quang Huy", "phones": ["0977000007", "0977000008"], "address": "12 Lý Thường Kiệt"},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["phones_e164"] == ["+84977000007", "+84977000008"]
    assert edited.json()["updated_by"] == user.id
    await watching.wait_for(
        lambda: any(e["data"]["name"] == "Đỗ Quang Huy" for e in watching.of_type("contact.updated"))
    )

    refused = await company.http.delete(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)
    assert refused.status_code == 403 and "owners and managers" in refused.json()["error"]["message"]
    assert (await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)).status_code == 200

    deleted = await company.http.delete(f"{company.url}/api/contacts/{contact['id']}", headers=manager.auth)
    assert deleted.status_code == 204
    await watching.wait_for(lambda: any(e["data"]["id"] == contact["id"] for e in watching.of_type("contact.removed")))
    gone = await company.http.get(f"{company.url}/api/contacts/{contact['id']}", headers=user.auth)
    assert gone.status_code == 404
    # the number is free again
    await add_contact(company, user, name="Người mới", phones=["0977000008"])


async def test_contacts_page_newest_first(company: Company) -> None:
    made = [await add_contact(company, company.owner, name=f"Khách {i}", phones=[f"09110000{i:02d}"]) for i in range(5)]
    first = await company.http.get(f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 3})
    page = first.json()
    assert [c["id"] for c in page["contacts"]] == [c["id"] for c in reversed(made)][:3]
    rest = await company.http.get(
        f"{company.url}/api/contacts", headers=company.owner.auth, params={"limit": 3, "before": page["next_before"]}
    )
    assert [c["id"] for c in rest.json()["contacts"]] == [made[1]["id"], made[0]["id"]]
    assert rest.json()["next_before"] is None


async def test_the_internal_directory_names_members_with_extension_and_department(company: Company) -> None:
    department = await company.http.post(
        f"{company.url}/api/departments", headers=company.owner.auth, json={"name": "CSKH"}
    )
    agent = await company.add("user", department_id=department.json()["id"], name="Agent Mai")
    given = await company.http.put(
        f"{company.url}/api/members/{agent.id}/extension", headers=company.owner.auth, json={"extension": "101"}
    )
    assert given.status_code == 200, given.text
    response = await company.http.get(f"{company.url}/api/contacts/internal", headers=agent.auth)
    assert response.status_code == 200
    mai = next(c for c in response.json()["contacts"] if c["id"] == agent.id)
    assert mai == {
        "id": agent.id,
        "name": "Agent Mai",
        "extension": "101",
        "department_id": department.json()["id"],
        "department": "CSKH",
    }
    assert all(set(c) == set(mai) for c in response.json()["contacts"])  # no phone, no role


async def test_the_export_holds_the_search_read_back_with_openpyxl(company: Company) -> None:
    await add_contact(company, company.owner, name="Bùi Thu", phones=["0966000010"], address="Hà Nội", note="VIP")
    await add_contact(company, company.owner, name="Ngô Tâm", phones=["0966000011", "+84966000012"])
    response = await company.http.get(
        f"{company.url}/api/contacts/export.xlsx", headers=company.owner.auth, params={"lang": "en"}
    )
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Name", "Phone", "Email", "Address", "Note", "Created at", "Created by"]
    assert [r[:5] for r in rows[1:]] == [
        ["Ngô Tâm", "0966000011, +84966000012", None, None, None],
        ["Bùi Thu", "0966000010", None, "Hà Nội", "VIP"],
    ]
    assert rows[1][6] == "Owner"
    only = await company.http.get(
        f"{company.url}/api/contacts/export.xlsx", headers=company.owner.auth, params={"q": "0966000010"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(only.content), read_only=True).worksheets[0]
    vi = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert vi[0][:2] == ["Tên", "Số điện thoại"] and [r[0] for r in vi[1:]] == ["Bùi Thu"]
