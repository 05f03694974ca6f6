"""The directory's role rules, each allowed and each refused case, over the real REST API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub import rulebook
from hub.directory import normalize_phone
from schemas.directory import Role
from tests.conftest import Company, new_phone

# -- the rules as plain functions ---------------------------------------------------------------


@pytest.mark.parametrize(
    "actor,new,allowed",
    [
        (Role.owner, Role.manager, True),
        (Role.owner, Role.user, True),
        (Role.owner, Role.owner, False),
        (Role.manager, Role.user, True),
        (Role.manager, Role.manager, False),
        (Role.manager, Role.owner, False),
        (Role.user, Role.user, False),
        (Role.user, Role.manager, False),
        (Role.user, Role.owner, False),
    ],
)
def test_who_creates_whom(actor: Role, new: Role, allowed: bool) -> None:
    assert rulebook.can_create_member(actor, new) is allowed


@pytest.mark.parametrize(
    "actor,target,allowed",
    [
        (Role.owner, Role.manager, True),
        (Role.owner, Role.user, True),
        (Role.manager, Role.user, True),
        (Role.manager, Role.manager, False),
        (Role.manager, Role.owner, False),
        (Role.user, Role.user, False),
        (Role.user, Role.manager, False),
        (Role.user, Role.owner, False),
    ],
)
def test_who_removes_whom(actor: Role, target: Role, allowed: bool) -> None:
    assert rulebook.can_remove_member(actor, "actor", target, "target") is allowed


def test_nobody_removes_themselves() -> None:
    assert not rulebook.can_remove_member(Role.owner, "same", Role.owner, "same")


# -- over HTTP -------------------------------------------------------------------------------------


async def test_owner_creates_managers_and_users(company: Company) -> None:
    manager = await company.add("manager")
    user = await company.add("user")
    assert manager.member["role"] == "manager" and user.member["role"] == "user"
    assert manager.password and user.password, "a generated password is returned once"


async def test_manager_creates_users_only(company: Company) -> None:
    manager = await company.add("manager")
    user = await company.add("user", by=manager)
    assert user.member["role"] == "user"
    for role in ("manager", "owner"):
        response = await company.http.post(
            f"{company.url}/api/members", headers=manager.auth, json={"name": "x", "phone": new_phone(), "role": role}
        )
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"


async def test_user_creates_nobody_and_owner_creates_no_second_owner(company: Company) -> None:
    user = await company.add("user")
    response = await company.http.post(
        f"{company.url}/api/members", headers=user.auth, json={"name": "x", "phone": new_phone(), "role": "user"}
    )
    assert response.status_code == 403
    response = await company.http.post(
        f"{company.url}/api/members",
        headers=company.owner.auth,
        json={"name": "x", "phone": new_phone(), "role": "owner"},
    )
    assert response.status_code == 403


async def test_given_password_is_used_and_not_echoed(company: Company) -> None:
    phone = new_phone()
    response = await company.http.post(
        f"{company.url}/api/members",
        headers=company.owner.auth,
        json={"name": "Lan", "phone": phone, "role": "user", "password": "mật-khẩu-123"},
    )
    assert response.status_code == 201
    assert response.json()["password"] is None
    assert await company.login(phone, "mật-khẩu-123")


async def test_removal_rules(company: Company) -> None:
    manager = await company.add("manager")
    other_manager = await company.add("manager")
    user = await company.add("user")
    second_user = await company.add("user")

    async def delete(by, target) -> int:
        response = await company.http.delete(f"{company.url}/api/members/{target.id}", headers=by.auth)
        return response.status_code

    assert await delete(user, second_user) == 403
    assert await delete(manager, other_manager) == 403
    assert await delete(manager, company.owner) == 403
    assert await delete(manager, manager) == 403
    assert await delete(company.owner, company.owner) == 403
    assert await delete(manager, user) == 204
    assert await delete(company.owner, other_manager) == 204
    assert await delete(company.owner, second_user) == 204
    listed = (await company.http.get(f"{company.url}/api/members", headers=company.owner.auth)).json()["members"]
    assert {m["id"] for m in listed} == {company.owner.id, manager.id}


async def test_member_with_extension_must_have_it_removed_first(company: Company) -> None:
    user = await company.add("user")
    base = f"{company.url}/api/members/{user.id}"
    response = await company.http.put(f"{base}/extension", headers=company.owner.auth, json={"extension": "101"})
    assert response.status_code == 200 and response.json()["extension"] == "101"
    response = await company.http.delete(base, headers=company.owner.auth)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "has_extension"
    response = await company.http.delete(f"{base}/extension", headers=company.owner.auth)
    assert response.status_code == 200 and response.json()["extension"] is None
    assert (await company.http.delete(base, headers=company.owner.auth)).status_code == 204


async def test_extension_belongs_to_one_member(company: Company) -> None:
    first = await company.add("user")
    second = await company.add("user")
    manager = await company.add("manager")
    put = company.http.put
    assert (
        await put(f"{company.url}/api/members/{first.id}/extension", headers=manager.auth, json={"extension": "102"})
    ).status_code == 200
    response = await put(
        f"{company.url}/api/members/{second.id}/extension", headers=manager.auth, json={"extension": "102"}
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "extension_taken"
    # a manager may not touch the owner's or another manager's extension; a user nobody's
    assert (
        await put(
            f"{company.url}/api/members/{company.owner.id}/extension", headers=manager.auth, json={"extension": "900"}
        )
    ).status_code == 403
    assert (
        await put(f"{company.url}/api/members/{second.id}/extension", headers=first.auth, json={"extension": "103"})
    ).status_code == 403


async def test_one_account_in_two_companies_chooses_at_login(company: Company, runtime, hub, http) -> None:
    from tests.conftest import make_company

    other = await make_company(runtime, hub.url, http)
    shared = await company.add("user")
    response = await http.post(
        f"{other.url}/api/members",
        headers=other.owner.auth,
        json={"name": "Same person", "phone": shared.phone, "role": "manager"},
    )
    assert response.status_code == 201
    assert response.json()["password"] is None, "the existing account keeps its password"

    response = await http.post(f"{hub.url}/api/auth/login", json={"phone": shared.phone, "password": shared.password})
    assert response.status_code == 200
    choices = {c["code"]: c["role"] for c in response.json()["companies"]}
    assert choices == {company.code: "user", other.code: "manager"}

    response = await http.post(
        f"{hub.url}/api/auth/login",
        json={"phone": shared.phone, "password": shared.password, "company_code": other.code},
    )
    assert response.status_code == 200
    assert response.json()["member"]["role"] == "manager"
    assert response.json()["member"]["company_id"] == other.id


async def test_wrong_credentials_are_401(company: Company) -> None:
    response = await company.http.post(
        f"{company.url}/api/auth/login", json={"phone": company.owner.phone, "password": "wrong"}
    )
    assert response.status_code == 401
    response = await company.http.post(
        f"{company.url}/api/auth/login", json={"phone": "0999999999999", "password": "wrong"}
    )
    assert response.status_code == 401


async def test_password_guessing_locks_the_phone_for_a_while(company: Company, clock) -> None:
    agent = await company.add("user")
    other = await company.add("user")

    async def login(person, password: str):
        return await company.http.post(
            f"{company.url}/api/auth/login", json={"phone": person.phone, "password": password}
        )

    assert (await login(agent, "wrong")).status_code == 401
    assert (await login(agent, agent.password)).status_code == 200, "a success forgets earlier failures"
    for _ in range(5):
        assert (await login(agent, "guess")).status_code == 401
    locked = await login(agent, agent.password)
    assert locked.status_code == 429, "even the right password, while locked"
    assert locked.json()["error"]["code"] == "too_many_attempts" and 0 < locked.json()["error"]["retry_after_s"] <= 900
    assert (await login(other, other.password)).status_code == 200, "other phones are not affected"
    clock.advance(901)
    assert (await login(agent, agent.password)).status_code == 200


async def test_expired_login_failure_counts_are_pruned(company: Company, runtime) -> None:
    old, fresh = new_phone(), new_phone()
    for phone in (old, fresh):
        await company.http.post(f"{company.url}/api/auth/login", json={"phone": phone, "password": "x"})
    old, fresh = normalize_phone(old), normalize_phone(fresh)  # as the hub keys them
    await runtime.store.login_failures.update_one({"_id": old}, {"$set": {"since": datetime(2020, 1, 1, tzinfo=UTC)}})
    assert await runtime.directory.forget_old_login_failures() >= 1
    assert await runtime.store.login_failures.find_one({"_id": old}) is None
    assert await runtime.store.login_failures.find_one({"_id": fresh}) is not None, "a count still locking stays"


async def test_only_owners_and_managers_list_members(company: Company) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    assert (await company.http.get(f"{company.url}/api/members", headers=user.auth)).status_code == 403
    listed = await company.http.get(f"{company.url}/api/members", headers=manager.auth)
    assert listed.status_code == 200 and len(listed.json()["members"]) == 3


async def test_owners_and_managers_create_departments(company: Company) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    url = f"{company.url}/api/departments"
    assert (await company.http.post(url, headers=user.auth, json={"name": "Sales"})).status_code == 403
    by_manager = await company.http.post(url, headers=manager.auth, json={"name": "Support"})
    assert by_manager.status_code == 201, "the product guide: a Company Owner or Manager creates departments"
    created = await company.http.post(url, headers=company.owner.auth, json={"name": "Sales", "description": "B2C"})
    assert created.status_code == 201
    assert (await company.http.post(url, headers=company.owner.auth, json={"name": "Sales"})).status_code == 409
    listed = await company.http.get(url, headers=user.auth)
    assert [d["name"] for d in listed.json()["departments"]] == ["Sales", "Support"]
    response = await company.http.post(
        f"{company.url}/api/members",
        headers=company.owner.auth,
        json={"name": "x", "phone": new_phone(), "role": "user", "department_id": created.json()["id"]},
    )
    assert response.status_code == 201 and response.json()["member"]["department_id"] == created.json()["id"]
    response = await company.http.post(
        f"{company.url}/api/members",
        headers=company.owner.auth,
        json={"name": "x", "phone": new_phone(), "role": "user", "department_id": "nope"},
    )
    assert response.status_code == 422


async def test_bad_requests_get_clear_errors_and_change_nothing(company: Company) -> None:
    url = f"{company.url}/api/members"
    before = len((await company.http.get(url, headers=company.owner.auth)).json()["members"])
    response = await company.http.post(
        url, headers={**company.owner.auth, "content-type": "application/json"}, content=b"{not json"
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"
    response = await company.http.post(url, headers=company.owner.auth, json={"name": "x", "role": "user"})
    assert response.status_code == 422 and "phone" in response.json()["error"]["message"]
    response = await company.http.post(url, headers=company.owner.auth, content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert (await company.http.post(url, json={"name": "x", "phone": new_phone(), "role": "user"})).status_code == 401
    response = await company.http.post(
        url, headers={"Authorization": "Bearer forged"}, json={"name": "x", "phone": new_phone(), "role": "user"}
    )
    assert response.status_code == 401
    after = len((await company.http.get(url, headers=company.owner.auth)).json()["members"])
    assert after == before
