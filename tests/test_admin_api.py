"""Company administration over the real REST API and Socket.IO (issue 16): members' roles and departments,
departments, labels, company information, the account (password, companies, switching), the audit log."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import socketio

from hub import changes, scheduler
from hub.auth import Principal
from hub.ids import new_id
from hub.runtime import Runtime
from schemas.directory import Role
from schemas.rest import DepartmentCreate
from tests.conftest import Company, Person, make_company, new_phone
from tests.consoles import TestConsole
from tests.zalo_payloads import Oa, zalo_id


def _code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


async def _patch_member(company: Company, by: Person, member_id: str, **body: Any) -> httpx.Response:
    return await company.http.patch(f"{company.url}/api/members/{member_id}", headers=by.auth, json=body)


async def _department(company: Company, by: Person, name: str, description: str = "") -> httpx.Response:
    return await company.http.post(
        f"{company.url}/api/departments", headers=by.auth, json={"name": name, "description": description}
    )


async def _refused(url: str, token: str) -> str:
    """Connect with `token`, expect a refusal, and return what the hub said."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return str(reasons)


# -- members: role, department, name -----------------------------------------------------------------


async def test_owner_sets_manager_and_user_roles_and_the_member_is_told(company: Company) -> None:
    user = await company.add("user")
    console = await company.console(user).connect()
    response = await _patch_member(company, company.owner, user.id, role="manager")
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "manager"
    await console.wait_for(lambda: any(e["data"]["role"] == "manager" for e in console.of_type("member.updated")))
    # the new role applies to the member's own token at once: a manager lists members
    assert (await company.http.get(f"{company.url}/api/members", headers=user.auth)).status_code == 200
    back = await _patch_member(company, company.owner, user.id, role="user")
    assert back.status_code == 200 and back.json()["role"] == "user"
    assert (await company.http.get(f"{company.url}/api/members", headers=user.auth)).status_code == 403


async def test_nobody_makes_an_owner_or_changes_the_owners_or_their_own_role(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    refused = [
        await _patch_member(company, company.owner, user.id, role="owner"),
        await _patch_member(company, company.owner, company.owner.id, role="manager"),
        await _patch_member(company, manager, user.id, role="manager"),
        await _patch_member(company, manager, manager.id, role="user"),
        await _patch_member(company, manager, company.owner.id, role="user"),
        await _patch_member(company, user, user.id, role="manager"),
    ]
    for response in refused:
        assert response.status_code == 403 and _code(response) == "forbidden", response.text
    members = (await company.http.get(f"{company.url}/api/members", headers=company.owner.auth)).json()["members"]
    roles = {m["id"]: m["role"] for m in members}
    assert (roles[company.owner.id], roles[manager.id], roles[user.id]) == ("owner", "manager", "user")


async def test_managers_change_users_name_and_department_only(company: Company) -> None:
    manager, other_manager, user = await company.add("manager"), await company.add("manager"), await company.add("user")
    department = (await _department(company, company.owner, "Sales")).json()
    moved = await _patch_member(company, manager, user.id, department_id=department["id"], name="Lan")
    assert moved.status_code == 200, moved.text
    assert (moved.json()["department_id"], moved.json()["name"]) == (department["id"], "Lan")
    for target in (other_manager, manager, company.owner):
        response = await _patch_member(company, manager, target.id, name="x")
        assert response.status_code == 403, (target.member["role"], response.text)
    assert (await _patch_member(company, user, user.id, name="me")).status_code == 403
    # the owner changes anyone's name and department, their own too
    assert (await _patch_member(company, company.owner, other_manager.id, department_id=department["id"])).is_success
    assert (await _patch_member(company, company.owner, company.owner.id, name="Chủ mới")).json()["name"] == "Chủ mới"
    taken_out = await _patch_member(company, company.owner, user.id, department_id=None)
    assert taken_out.status_code == 200 and taken_out.json()["department_id"] is None


async def test_an_unknown_department_or_member_is_refused(company: Company) -> None:
    user = await company.add("user")
    response = await _patch_member(company, company.owner, user.id, department_id="nope")
    assert response.status_code == 422 and _code(response) == "department_not_found"
    response = await _patch_member(company, company.owner, "nobody", name="x")
    assert response.status_code == 404


# -- departments -----------------------------------------------------------------------------------


async def test_departments_count_members_rename_and_go_only_when_empty(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    console = await company.console(user).connect()
    assert (await _department(company, user, "No")).status_code == 403
    created = await _department(company, manager, "Support", "Answers customers")
    assert created.status_code == 201, created.text
    department = created.json()
    assert department["member_count"] == 0
    await console.wait_for(lambda: console.of_type("department.created"))
    assert (await _department(company, manager, "Support")).status_code == 409

    assert (await _patch_member(company, manager, user.id, department_id=department["id"])).is_success
    listed = (await company.http.get(f"{company.url}/api/departments", headers=user.auth)).json()["departments"]
    assert next(d for d in listed if d["id"] == department["id"])["member_count"] == 1

    url = f"{company.url}/api/departments/{department['id']}"
    renamed = await company.http.patch(url, headers=manager.auth, json={"name": "CSKH", "description": "Chăm sóc"})
    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["description"], renamed.json()["member_count"]) == (
        "CSKH",
        "Chăm sóc",
        1,
    )
    await console.wait_for(lambda: any(e["data"]["name"] == "CSKH" for e in console.of_type("department.updated")))
    await _department(company, manager, "Other")
    clash = await company.http.patch(url, headers=manager.auth, json={"name": "Other"})
    assert clash.status_code == 409 and _code(clash) == "department_exists"
    assert (await company.http.patch(url, headers=user.auth, json={"name": "x"})).status_code == 403

    full = await company.http.delete(url, headers=manager.auth)
    assert full.status_code == 409 and _code(full) == "department_not_empty"
    assert full.json()["error"]["member_count"] == 1
    assert (await company.http.delete(url, headers=user.auth)).status_code == 403
    assert (await _patch_member(company, manager, user.id, department_id=None)).is_success
    assert (await company.http.delete(url, headers=manager.auth)).status_code == 204
    await console.wait_for(
        lambda: any(e["data"]["id"] == department["id"] for e in console.of_type("department.removed"))
    )
    assert (await company.http.delete(url, headers=manager.auth)).status_code == 404


# -- labels and company information ----------------------------------------------------------------


async def test_owners_and_managers_rename_labels_and_everyone_is_told(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    console = await company.console(user).connect()
    label = (await company.http.post(f"{company.url}/api/labels", headers=manager.auth, json={"name": "VIP"})).json()
    url = f"{company.url}/api/labels/{label['id']}"
    changed = await company.http.patch(url, headers=manager.auth, json={"name": "Khách VIP", "color": "#ff0000"})
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"id": label["id"], "name": "Khách VIP", "color": "#ff0000"}
    await console.wait_for(lambda: any(e["data"]["name"] == "Khách VIP" for e in console.of_type("label.updated")))
    assert (await company.http.patch(url, headers=user.auth, json={"name": "x"})).status_code == 403
    assert (await company.http.patch(url, headers=company.owner.auth, json={"color": "red"})).status_code == 422
    missing = await company.http.patch(f"{company.url}/api/labels/nope", headers=company.owner.auth, json={"name": "y"})
    assert missing.status_code == 404


async def test_company_contact_and_business_information(company: Company) -> None:
    manager = await company.add("manager")
    console = await company.console(manager).connect()
    url = f"{company.url}/api/company"
    body = {
        "contact": {"address": "1 Lê Lợi, Q1", "phone": "02812345678", "email": "cskh@acme.vn", "website": "acme.vn"},
        "business": {"legal_name": "Công ty TNHH ACME", "tax_code": "0312345678", "address": "1 Lê Lợi"},
    }
    response = await company.http.patch(url, headers=company.owner.auth, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["contact"] == body["contact"] and response.json()["business"] == body["business"]
    await console.wait_for(
        lambda: any(e["data"]["contact"]["email"] == "cskh@acme.vn" for e in console.of_type("company.updated"))
    )
    # only the fields sent change
    partial = await company.http.patch(url, headers=company.owner.auth, json={"contact": {"phone": "0900"}})
    assert partial.json()["contact"] == {**body["contact"], "phone": "0900"}
    assert (await company.http.get(url, headers=manager.auth)).json()["business"] == body["business"]
    bad = await company.http.patch(url, headers=company.owner.auth, json={"contact": {"email": "not an email"}})
    assert bad.status_code == 422
    assert (await company.http.patch(url, headers=manager.auth, json=body)).status_code == 403


# -- the account -----------------------------------------------------------------------------------


async def _change_password(company: Company, person: Person, current: str, new: str) -> httpx.Response:
    return await company.http.post(
        f"{company.url}/api/account/password", headers=person.auth, json={"current": current, "new": new}
    )


async def test_a_password_change_closes_and_refuses_the_accounts_other_consoles(
    company: Company, runtime: Runtime
) -> None:
    user = await company.add("user")
    assert user.password is not None
    # the same account is also a member of another company
    other = await make_company(runtime, company.url, company.http)
    joined = await company.http.post(
        f"{company.url}/api/members",
        headers=other.owner.auth,
        json={"name": "Also here", "phone": user.phone, "role": "user"},
    )
    assert joined.status_code == 201, joined.text
    elsewhere = Person(
        member=joined.json()["member"],
        phone=user.phone,
        password=user.password,
        token=await other.login(user.phone, user.password),
    )
    console = await company.console(user).connect()
    other_console = await other.console(elsewhere).connect()

    assert (await _change_password(company, user, "wrong", "a-new-password")).status_code == 403
    assert _code(await _change_password(company, user, "wrong", "a-new-password")) == "wrong_password"
    assert (await _change_password(company, user, user.password, "short")).status_code == 422
    response = await _change_password(company, user, user.password, "a-new-password")
    assert response.status_code == 200, response.text
    fresh = response.json()["token"]
    assert response.json()["member"]["id"] == user.id

    await console.wait_disconnected()
    await other_console.wait_disconnected()
    # (the event may reach a console just before it closes, or not: the close is what counts)
    revoked = [
        (doc["company_id"], doc["data"])
        async for doc in runtime.store.events.find(
            {"type": "session.revoked", "data.member_id": {"$in": [user.id, elsewhere.id]}}
        )
    ]
    assert sorted(revoked) == sorted([(company.id, {"member_id": user.id}), (other.id, {"member_id": elsewhere.id})])
    old = await company.http.get(f"{company.url}/api/company", headers=user.auth)
    assert old.status_code == 401 and _code(old) == "token_revoked"
    assert (await company.http.get(f"{company.url}/api/company", headers=elsewhere.auth)).status_code == 401
    assert "token_revoked" in await _refused(company.url, user.token)
    assert "token_revoked" in await _refused(company.url, elsewhere.token)

    # the fresh token works, over REST and Socket.IO; so do the new password's logins
    assert (
        await company.http.get(f"{company.url}/api/company", headers={"Authorization": f"Bearer {fresh}"})
    ).is_success
    again = await TestConsole(company.url, fresh).connect()
    await again.disconnect()
    assert await other.login(user.phone, "a-new-password")


async def test_a_password_changed_through_one_process_revokes_the_tokens_in_the_other(
    pair_runtime: Runtime, hub_pair, http: httpx.AsyncClient
) -> None:
    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    user = await company.add("user")
    assert user.password is not None
    there = await company.console(user, second.url).connect()
    assert (await http.get(f"{second.url}/api/company", headers=user.auth)).is_success  # remembered for 1 s there
    response = await _change_password(company, user, user.password, "another-password")
    assert response.status_code == 200, response.text
    await there.wait_disconnected()  # session.revoked crossed to the other process
    assert "token_revoked" in await _refused(second.url, user.token)  # read fresh at connect
    changed_at = time.monotonic()
    while (await http.get(f"{second.url}/api/company", headers=user.auth)).status_code != 401:
        assert time.monotonic() - changed_at < 1.5, "the other process still takes the old token"
    fresh = {"Authorization": f"Bearer {response.json()['token']}"}
    assert (await http.get(f"{second.url}/api/company", headers=fresh)).is_success


async def test_an_account_lists_its_companies_and_switches_without_a_password(
    company: Company, runtime: Runtime
) -> None:
    other = await make_company(runtime, company.url, company.http)
    joined = await company.http.post(
        f"{company.url}/api/members",
        headers=other.owner.auth,
        json={"name": "Chủ A", "phone": company.owner.phone, "role": "manager"},
    )
    assert joined.status_code == 201, joined.text
    listed = await company.http.get(f"{company.url}/api/account/companies", headers=company.owner.auth)
    assert listed.status_code == 200
    mine = {c["code"]: c for c in listed.json()["companies"]}
    assert mine[company.code]["role"] == "owner" and mine[other.code]["role"] == "manager"
    assert mine[other.code]["company_id"] == other.id and mine[other.code]["name"] == f"Company {other.code}"

    switched = await company.http.post(
        f"{company.url}/api/auth/switch", headers=company.owner.auth, json={"company_code": other.code}
    )
    assert switched.status_code == 200, switched.text
    assert switched.json()["member"]["company_id"] == other.id and switched.json()["member"]["role"] == "manager"
    token = {"Authorization": f"Bearer {switched.json()['token']}"}
    assert (await company.http.get(f"{company.url}/api/company", headers=token)).json()["id"] == other.id
    third = await make_company(runtime, company.url, company.http)
    refused = await company.http.post(
        f"{company.url}/api/auth/switch", headers=company.owner.auth, json={"company_code": third.code}
    )
    assert refused.status_code == 403 and _code(refused) == "not_a_member"


# -- the audit log ---------------------------------------------------------------------------------


async def _audit(company: Company, by: Person | None = None, **params: Any) -> httpx.Response:
    return await company.http.get(f"{company.url}/api/audit", headers=(by or company.owner).auth, params=params)


async def _new_thread(company: Company, oa: Oa, console: TestConsole) -> str:
    user = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user, text="Xin chào"))
    await console.wait_for(lambda: any(e["data"]["user_id"] == user for e in console.of_type("thread.created")))
    return next(e["data"]["id"] for e in console.of_type("thread.created") if e["data"]["user_id"] == user)


async def test_the_audit_log_records_who_did_what(company: Company, oa: Oa) -> None:
    http, url, owner = company.http, company.url, company.owner
    owner_name = owner.member["name"]
    console = await company.console(owner).connect()
    manager = await company.add("manager")
    user = await company.add("user", name="Agent Bình")
    department = (await _department(company, owner, "Sales")).json()
    assert (await _patch_member(company, owner, user.id, role="manager")).is_success
    assert (await _patch_member(company, owner, user.id, role="user", department_id=department["id"])).is_success
    assert (await http.post(f"{url}/api/extensions", headers=manager.auth, json={"number": "201"})).status_code == 201
    assert (
        await http.put(f"{url}/api/members/{user.id}/extension", headers=manager.auth, json={"extension": "201"})
    ).is_success
    assert (await http.delete(f"{url}/api/members/{user.id}/extension", headers=manager.auth)).is_success
    assert (await http.delete(f"{url}/api/extensions/201", headers=manager.auth)).status_code == 204
    hotline = (await http.post(f"{url}/api/hotlines", headers=owner.auth, json={"number": "19001234"})).json()
    assert (await http.delete(f"{url}/api/hotlines/{hotline['id']}", headers=owner.auth)).status_code == 204
    assert (await http.post(f"{url}/api/pbx/secret", headers=owner.auth)).status_code == 201
    board = (await http.post(f"{url}/api/wallboard-tokens", headers=manager.auth, json={"name": "TV"})).json()
    assert (await http.delete(f"{url}/api/wallboard-tokens/{board['id']}", headers=manager.auth)).status_code == 204
    link = f"{url}/api/oa-links/{oa.link_id}"
    assert (await http.patch(link, headers=owner.auth, json={"name": "Shop OA 2"})).is_success
    assert (await http.delete(link, headers=owner.auth)).is_success
    relinked = await http.post(f"{link}/relink", headers=owner.auth, json={"access_token": "a", "refresh_token": "r"})
    assert relinked.is_success, relinked.text
    thread_id = await _new_thread(company, oa, console)
    assigned = await http.post(f"{url}/api/threads/{thread_id}/assign", headers=owner.auth, json={"member_id": user.id})
    assert assigned.is_success, assigned.text
    assert (
        await http.patch(f"{url}/api/company", headers=owner.auth, json={"settings": {"max_open_threads": 7}})
    ).is_success
    department_url = f"{url}/api/departments/{department['id']}"
    assert (await http.patch(department_url, headers=manager.auth, json={"name": "Bán hàng"})).is_success
    assert (await _patch_member(company, owner, user.id, department_id=None)).is_success
    assert (await http.delete(department_url, headers=manager.auth)).status_code == 204
    assert user.password is not None
    changed = await _change_password(company, user, user.password, "password-2")
    assert changed.status_code == 200
    user.token = changed.json()["token"]
    assert await company.login(user.phone, "password-2")
    refused = await http.post(
        f"{url}/api/auth/login", json={"phone": user.phone, "password": "nope", "company_code": company.code}
    )
    assert refused.status_code == 401
    assert (await http.delete(f"{url}/api/members/{user.id}", headers=owner.auth)).status_code == 204

    response = await _audit(company, limit=500)
    assert response.status_code == 200, response.text
    entries = response.json()["entries"]
    ats = [e["at"] for e in entries]
    assert ats == sorted(ats, reverse=True), "newest first"
    seen = {(e["action"], e["member_name"]) for e in entries}
    expected = {
        ("member.created", owner_name),
        ("member.role_changed", owner_name),
        ("member.department_changed", owner_name),
        ("member.extension_given", manager.member["name"]),
        ("member.extension_removed", manager.member["name"]),
        ("extension.added", manager.member["name"]),
        ("extension.removed", manager.member["name"]),
        ("hotline.added", owner_name),
        ("hotline.removed", owner_name),
        ("pbx.secret_rotated", owner_name),
        ("wallboard.issued", manager.member["name"]),
        ("wallboard.revoked", manager.member["name"]),
        ("oa_link.created", owner_name),
        ("oa_link.updated", owner_name),
        ("oa_link.removed", owner_name),
        ("oa_link.relinked", owner_name),
        ("thread.reassigned", owner_name),
        ("company.updated", owner_name),
        ("department.created", owner_name),
        ("department.updated", manager.member["name"]),
        ("department.removed", manager.member["name"]),
        ("account.password_changed", "Agent Bình"),
        ("login.succeeded", "Agent Bình"),
        ("login.refused", "Agent Bình"),
        ("member.removed", owner_name),
    }
    assert expected <= seen, expected - seen
    roles = [e for e in entries if e["action"] == "member.role_changed" and e["subject"]["id"] == user.id]
    assert [(e["details"]["before"], e["details"]["after"]) for e in reversed(roles)] == [
        ("user", "manager"),
        ("manager", "user"),
    ]
    assert all(e["subject"]["name"] == "Agent Bình" for e in roles)
    assert "password-2" not in response.text and "nope" not in response.text
    moved = next(e for e in entries if e["action"] == "thread.reassigned")
    assert moved["subject"]["id"] == thread_id and moved["details"]["to_member_id"] == user.id
    assert sum(1 for e in entries if e["action"] == "thread.reassigned") == 1, "automatic moves are not audited"


async def test_the_audit_log_filters_by_member_action_and_period_and_pages(company: Company) -> None:
    manager = await company.add("manager")
    for name in ("A", "B", "C"):
        assert (await _department(company, manager, name)).status_code == 201
    await _department(company, company.owner, "D")

    by_manager = (await _audit(company, member=manager.id)).json()["entries"]
    assert by_manager and {e["member_id"] for e in by_manager} == {manager.id}
    assert [e["subject"]["name"] for e in by_manager if e["action"] == "department.created"] == ["C", "B", "A"]
    created = (await _audit(company, action="department.created")).json()["entries"]
    assert [e["subject"]["name"] for e in created] == ["D", "C", "B", "A"]
    assert {e["action"] for e in (await _audit(company, action="department")).json()["entries"]} == {
        "department.created"
    }
    # a period: from the second department to before the last
    period = (
        await _audit(company, action="department.created", **{"from": created[2]["at"], "to": created[0]["at"]})
    ).json()
    assert [e["subject"]["name"] for e in period["entries"]] == ["C", "B"] or created[0]["at"] == created[1]["at"]
    # pages, newest first, each entry once
    first = (await _audit(company, action="department.created", limit=3)).json()
    assert [e["subject"]["name"] for e in first["entries"]] == ["D", "C", "B"] and first["next_before"]
    rest = (await _audit(company, action="department.created", limit=3, before=first["next_before"])).json()
    assert [e["subject"]["name"] for e in rest["entries"]] == ["A"] and rest["next_before"] is None


async def test_only_owners_read_the_audit_log(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    for person in (manager, user):
        response = await _audit(company, person)
        assert response.status_code == 403 and _code(response) == "forbidden"


async def test_refused_logins_are_written_to_the_accounts_companies_only(company: Company) -> None:
    user = await company.add("user", name="Khóa")
    for _ in range(5):
        response = await company.http.post(
            f"{company.url}/api/auth/login", json={"phone": user.phone, "password": "wrong-password"}
        )
        assert response.status_code == 401
    for _ in range(3):  # refused while locked: written once per lock
        locked = await company.http.post(
            f"{company.url}/api/auth/login", json={"phone": user.phone, "password": user.password}
        )
        assert locked.status_code == 429
    refused = (await _audit(company, member=user.id, action="login.refused")).json()["entries"]
    assert [e["details"]["reason"] for e in refused] == ["locked"] + ["wrong_password"] * 5
    # a phone with no membership is written nowhere
    stranger = new_phone()
    response = await company.http.post(f"{company.url}/api/auth/login", json={"phone": stranger, "password": "x"})
    assert response.status_code == 401
    everything = (await _audit(company, limit=500)).json()["entries"]
    assert all(stranger not in str(e) for e in everything)


async def test_a_redone_change_writes_its_audit_entry_and_event_once(company: Company, runtime: Runtime) -> None:
    owner = Principal(company.owner.id, company.id, Role.owner)
    key = f"rest:{new_id()}"
    with changes.change(key):
        first = await runtime.directory.create_department(owner, DepartmentCreate(name="Kho"))
    with changes.change(key, redo=True):  # the sweeper or the caller's retry re-does it
        again = await runtime.directory.create_department(owner, DepartmentCreate(name="Kho"))
    assert again.id == first.id
    entries = (await _audit(company, action="department.created")).json()["entries"]
    assert [e["subject"]["id"] for e in entries] == [first.id]
    published = await runtime.store.events.count_documents({"company_id": company.id, "type": "department.created"})
    assert published == 1


async def test_audit_entries_older_than_the_retention_are_pruned(company: Company, runtime: Runtime) -> None:
    assert runtime.settings.audit_retention_days == 365, "the default: a year"
    now = datetime.now(UTC)
    for age_days, name in ((366, "old"), (364, "kept")):
        await runtime.store.audit.insert_one(
            {
                "_id": new_id(),
                "company_id": company.id,
                "at": now - timedelta(days=age_days),
                "member_id": company.owner.id,
                "member_name": "Owner",
                "action": "test.aged",
                "subject": {"id": None, "name": name},
                "details": {},
            }
        )
    assert await scheduler.prune_audit(runtime) >= 1
    left = (await _audit(company, action="test.aged")).json()["entries"]
    assert [e["subject"]["name"] for e in left] == ["kept"]
