"""New chats never sit unnoticed: round robin among available department members, within limits."""

from __future__ import annotations

import asyncio

from tests.conftest import Company, link_oa, make_company
from tests.consoles import TestConsole
from tests.zalo_payloads import Oa, zalo_id


async def _department(company: Company, max_open: int, url: str | None = None) -> str:
    url = url or company.url
    created = await company.http.post(f"{url}/api/departments", headers=company.owner.auth, json={"name": "CSKH"})
    assert created.status_code == 201
    settings = await company.http.patch(
        f"{url}/api/company", headers=company.owner.auth, json={"settings": {"max_open_threads": max_open}}
    )
    assert settings.status_code == 200 and settings.json()["settings"]["max_open_threads"] == max_open
    return created.json()["id"]


def _assignee_of(owner: TestConsole, user: str) -> str | None:
    for env in owner.of_type("thread.assigned"):
        if env["data"]["user_id"] == user:
            return env["data"]["to_member_id"]
    return None


def _queued(owner: TestConsole, user: str) -> bool:
    return any(e["data"]["user_id"] == user and e["data"]["queued_at"] for e in owner.of_type("thread.updated"))


async def test_round_robin_respects_availability_and_limits_and_drains_the_queue(company: Company, fake_zalo) -> None:
    department = await _department(company, max_open=2)
    a, b, c = [await company.add("user", department_id=department) for _ in range(3)]
    outsider = await company.add("user")  # available, but not in the department
    oa: Oa = await link_oa(company, fake_zalo, department_id=department)
    owner = await company.console(company.owner).connect()
    for person in (a, b, outsider):
        await company.console(person).connect()
    away = TestConsole(company.url, c.token)
    company.consoles.append(away)
    await away.client.connect(company.url, auth={"token": c.token, "status": "away"}, transports=["websocket"])
    await owner.wait_for(lambda: {p["member_id"] for p in owner.ephemeral("presence.updated")} >= {a.id, b.id, c.id})

    customers = [zalo_id() for _ in range(7)]

    async def arrive(user: str) -> None:
        await oa.deliver(company.http, company.url, oa.user_message(user))
        await owner.wait_for(lambda: _assignee_of(owner, user) or _queued(owner, user))

    for user in customers[:5]:
        await arrive(user)
    assert [_assignee_of(owner, u) for u in customers[:4]] == [a.id, b.id, a.id, b.id]
    assert _assignee_of(owner, customers[4]) is None and _queued(owner, customers[4]), "everyone is full: queued"

    # the away agent becomes available: the queue drains to them
    assert await away.client.call("presence.set", {"status": "available"}) == {"ok": True, "status": "available"}
    await owner.wait_for(lambda: _assignee_of(owner, customers[4]) == c.id)
    await arrive(customers[5])
    assert _assignee_of(owner, customers[5]) == c.id
    await arrive(customers[6])
    assert _queued(owner, customers[6])

    # capacity frees up when an agent resolves a thread
    a_thread = next(e["data"]["id"] for e in owner.of_type("thread.assigned") if e["data"]["to_member_id"] == a.id)
    assert (await company.http.post(f"{company.url}/api/threads/{a_thread}/resolve", headers=a.auth)).status_code == 200
    await owner.wait_for(lambda: _assignee_of(owner, customers[6]) == a.id)
    auto = [e["data"] for e in owner.of_type("thread.assigned")]
    assert all(d["auto"] and d["by_member_id"] is None for d in auto)
    assert outsider.id not in {d["to_member_id"] for d in auto}


async def test_two_processes_racing_on_the_same_new_threads_assign_each_once(
    pair_runtime, hub_pair, http, fake_zalo
) -> None:
    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    department = await _department(company, max_open=3)
    agents = [await company.add("user", department_id=department) for _ in range(2)]
    oa = await link_oa(company, fake_zalo, department_id=department)
    owner = await company.console(company.owner, first.url).connect()
    await company.console(agents[0], first.url).connect()
    await company.console(agents[1], second.url).connect()
    await owner.wait_for(
        lambda: {p["member_id"] for p in owner.ephemeral("presence.updated")} >= {a.id for a in agents}
    )

    customers = [zalo_id() for _ in range(6)]
    payloads = [oa.user_message(user) for user in customers]
    # every webhook delivered to both processes at once, all customers at once
    answers = await asyncio.gather(
        *[oa.deliver(http, url, payload) for payload in payloads for url in (first.url, second.url)]
    )
    assert all(answer.status_code == 200 for answer in answers)
    await owner.wait_for(lambda: all(_assignee_of(owner, u) for u in customers), timeout=20)

    assigned = [e["data"] for e in owner.of_type("thread.assigned")]
    assert sorted(d["user_id"] for d in assigned) == sorted(customers), "one assignment per thread"
    per_agent = {a.id: sum(d["to_member_id"] == a.id for d in assigned) for a in agents}
    assert per_agent == {agents[0].id: 3, agents[1].id: 3}
    members = {m["_id"]: m for m in [await pair_runtime.store.members.find_one({"_id": a.id}) for a in agents]}
    assert all(m["open_threads"] == 3 for m in members.values())
    assert await pair_runtime.store.messages.count_documents({"company_id": company.id}) == 6
