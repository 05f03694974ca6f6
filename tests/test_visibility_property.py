"""Property: over random companies, members, assignments, reassignments, messages, disconnects and
replays, every console ends with exactly the events the product's rules entitle it to.

The rules are computed here, independently of the hub's audience code: from the test's own record
of who holds each thread, applied to the company's event log in seq order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest

from tests.conftest import Company, Person, link_oa, make_company
from tests.consoles import TestConsole
from tests.zalo_payloads import Oa, zalo_id

THREAD_TYPES = ("thread.", "message.", "reply_window.")


@dataclass
class World:
    company: Company
    oa: Oa
    people: list[Person]
    roles: dict[str, str]
    consoles: dict[str, TestConsole] = field(default_factory=dict)  # member id -> console
    observer: TestConsole | None = None  # an owner console that never disconnects, to wait on
    threads: dict[str, str] = field(default_factory=dict)  # zalo user -> thread id
    holder: dict[str, str | None] = field(default_factory=dict)  # thread id -> assignee (the test's model)
    moves: dict[str, list[tuple[str | None, str]]] = field(default_factory=dict)  # thread -> (from, to), in order


def entitled(env: dict, member_id: str, role: str, assignee_at: dict[str, str | None]) -> bool:
    """The product's rules (DESIGN section 6), for one event, given each thread's holder at that point."""
    kind = env["type"]
    data = env["data"]
    if kind == "member.updated":  # a member is told of their own record too
        return role in ("owner", "manager") or data["id"] == member_id
    if kind.startswith(("member.", "oa_link.")) or kind == "wallboard.issued":
        return role in ("owner", "manager")
    if kind == "session.revoked":
        return data["member_id"] == member_id
    if kind == "follower.updated":  # the OA followers list: owners and managers
        return role in ("owner", "manager")
    if kind == "job.updated":  # a long job: its creator, owners and managers
        return role in ("owner", "manager") or data["created_by"] == member_id
    if kind.startswith(("contact.", "contacts.")):  # every member sees and adds contacts
        return True
    if kind.startswith(("label.", "department.", "hotline.")) or kind in (
        "company.updated",  # every console shows the company
        "extension.created",
        "extension.removed",
    ):
        return True
    if kind == "thread.removed":  # only to the one who lost the thread; an owner never loses one
        return role != "owner" and member_id == data["member_id_for_test"]
    if kind.startswith(THREAD_TYPES):
        if role == "owner":
            return True
        if kind == "thread.assigned":
            return member_id in (data["from_member_id"], data["to_member_id"])
        thread_id = data.get("thread_id") or data.get("id")
        return assignee_at.get(thread_id) == member_id
    raise AssertionError(f"an event type the rules do not cover: {kind}")


def expected_for(log: list[dict], member_id: str, role: str) -> list[int]:
    assignee_at: dict[str, str | None] = {}
    seqs = []
    for env in log:
        if env["type"] == "thread.removed":
            # the member who lost the thread: the previous holder at this point
            env = {**env, "data": {**env["data"], "member_id_for_test": last_from.get(env["data"]["thread_id"])}}
        if env["type"] == "thread.assigned":
            last_from[env["data"]["id"]] = env["data"]["from_member_id"]
            assignee_at[env["data"]["id"]] = env["data"]["to_member_id"]
        if entitled(env, member_id, role, assignee_at):
            seqs.append(env["seq"])
    return seqs


last_from: dict[str, str | None] = {}


async def _build(runtime, hub, http, fake_zalo, rng: random.Random) -> World:
    company = await make_company(runtime, hub.url, http)
    people = [company.owner]
    roles = {company.owner.id: "owner"}
    for _ in range(rng.randint(1, 2)):
        person = await company.add("manager")
        people.append(person)
        roles[person.id] = "manager"
    for _ in range(rng.randint(2, 3)):
        person = await company.add("user")
        people.append(person)
        roles[person.id] = "user"
    world = World(company=company, oa=await link_oa(company, fake_zalo), people=people, roles=roles)
    for person in people:
        world.consoles[person.id] = await company.console(person).connect(last_seq=0)
    world.observer = await company.console(company.owner).connect()
    return world


async def _message(world: World, rng: random.Random, users: list[str]) -> None:
    user = rng.choice(users)
    owner = world.observer
    assert owner is not None
    new = user not in world.threads
    await world.oa.deliver(world.company.http, world.company.url, world.oa.user_message(user, text=f"m{rng.random()}"))
    if new:
        # wait for the profile fetch too, so no background event races the next assignment
        await owner.wait_for(
            lambda: any(
                e["data"]["user_id"] == user and e["data"]["customer"].get("name")
                for e in owner.of_type("thread.updated")
            )
        )
        world.threads[user] = next(
            e["data"]["id"] for e in owner.of_type("thread.created") if e["data"]["user_id"] == user
        )
        world.holder[world.threads[user]] = None


async def _assign(world: World, rng: random.Random) -> None:
    if not world.threads:
        return
    thread_id = rng.choice(sorted(world.threads.values()))
    holder = world.holder[thread_id]
    managers_holding = [p for p in world.people if p.id == holder and world.roles[p.id] == "manager"]
    actor = managers_holding[0] if managers_holding and rng.random() < 0.5 else world.company.owner
    target = rng.choice([p for p in world.people if p.id != holder])
    response = await world.company.http.post(
        f"{world.company.url}/api/threads/{thread_id}/assign", headers=actor.auth, json={"member_id": target.id}
    )
    assert response.status_code == 200, response.text
    world.holder[thread_id] = target.id
    world.moves.setdefault(thread_id, []).append((holder, target.id))


async def _disconnect_or_return(world: World, rng: random.Random) -> None:
    person = rng.choice(world.people)
    console = world.consoles[person.id]
    if console.client.connected:
        await console.disconnect()
    else:
        await console.connect(last_seq=console.last_seq)


@pytest.mark.parametrize("seed", [7, 11, 23])
async def test_every_console_ends_with_exactly_its_entitled_events(seed: int, runtime, hub, http, fake_zalo) -> None:
    rng = random.Random(seed)
    worlds = [await _build(runtime, hub, http, fake_zalo, rng) for _ in range(2)]
    users = {id(w): [zalo_id() for _ in range(4)] for w in worlds}

    for _ in range(45):
        world = rng.choice(worlds)
        roll = rng.random()
        if roll < 0.45:
            await _message(world, rng, users[id(world)])
        elif roll < 0.8:
            await _assign(world, rng)
        else:
            await _disconnect_or_return(world, rng)

    for world in worlds:
        for console in world.consoles.values():
            if not console.client.connected:
                await console.connect(last_seq=console.last_seq)
        # a last event every console is entitled to: everything before it has been delivered by then
        barrier = await world.company.http.post(
            f"{world.company.url}/api/labels", headers=world.company.owner.auth, json={"name": f"barrier-{seed}"}
        )
        assert barrier.status_code == 201
        for console in world.consoles.values():
            await console.wait_for(lambda c=console: any(e["type"] == "label.created" for e in c.stored()))

    for world in worlds:
        log = [
            doc async for doc in runtime.store.events.find({"company_id": world.company.id}, {"_id": 0}).sort("seq", 1)
        ]
        # the hub's record of assignments is the test's own, move for move
        for thread_id, moves in world.moves.items():
            logged = [
                (e["data"]["from_member_id"], e["data"]["to_member_id"])
                for e in log
                if e["type"] == "thread.assigned" and e["data"]["id"] == thread_id
            ]
            assert logged == moves
        for person in world.people:
            console = world.consoles[person.id]
            received = console.seqs()
            assert received == sorted(set(received)), "in order, never twice"
            expected = expected_for(log, person.id, world.roles[person.id])
            assert received == expected, (world.roles[person.id], sorted(set(received) ^ set(expected)))
            other = {w.company.id for w in worlds} - {world.company.id}
            assert not any(env["company_id"] in other for env in console.stored())
        for console in [*world.consoles.values(), world.observer]:
            await console.disconnect()
