"""Presence: who is online and available, told to owners and managers, gone when a console vanishes."""

from __future__ import annotations

import json
import uuid

import pytest
import websockets
from redis.asyncio import Redis

from hub.presence import MemoryTable, Presence, RedisTable, Status
from tests.conftest import Company


def _statuses(console, member_id: str) -> list[str]:
    return [p["status"] for p in console.ephemeral("presence.updated") if p["member_id"] == member_id]


async def test_supervisors_see_agents_come_go_and_step_away(company: Company) -> None:
    manager, agent = await company.add("manager"), await company.add("user")
    owner = await company.console(company.owner).connect()
    supervisor = await company.console(manager).connect()
    colleague = await company.console(await company.add("user")).connect()
    console = await company.console(agent).connect()
    await owner.wait_for(lambda: _statuses(owner, agent.id) == ["available"])
    assert await console.client.call("presence.set", {"status": "away"}) == {"ok": True, "status": "away"}
    await owner.wait_for(lambda: _statuses(owner, agent.id) == ["available", "away"])
    second = await company.console(agent).connect()  # a second tab: still away, nothing changes
    await console.disconnect()
    await second.client.call("presence.set", {"status": "available"})
    await second.disconnect()
    await owner.wait_for(lambda: _statuses(owner, agent.id)[-1] == "offline")
    assert _statuses(owner, agent.id) == ["available", "away", "available", "offline"]
    await supervisor.wait_for(lambda: _statuses(supervisor, agent.id) == _statuses(owner, agent.id))
    assert colleague.ephemeral("presence.updated") == [], "agents are not told each other's presence"
    assert all("seq" not in p for p in owner.ephemeral("presence.updated"))


async def test_a_console_that_vanished_without_disconnecting_goes_offline(company: Company) -> None:
    agent = await company.add("user")
    owner = await company.console(company.owner).connect()
    host = company.url.removeprefix("http://")
    # A console that completes the Socket.IO handshake, then goes silent: no pong, no close.
    socket = await websockets.connect(f"ws://{host}/socket.io/?EIO=4&transport=websocket")
    try:
        assert (await socket.recv()).startswith("0")
        await socket.send("40" + json.dumps({"token": agent.token, "last_seq": None}))
        assert (await socket.recv()).startswith("40")
        await owner.wait_for(lambda: _statuses(owner, agent.id) == ["available"])
        # the hub pings every second here and gives up a second later
        await owner.wait_for(lambda: _statuses(owner, agent.id) == ["available", "offline"], timeout=15)
    finally:
        await socket.close()


@pytest.fixture(params=["memory", "redis"])
async def table(request, redis_url: str):
    """Both tables: one process's memory, and Redis shared by every process."""
    if request.param == "memory":
        yield MemoryTable()
        return
    client = Redis.from_url(redis_url)
    yield RedisTable(client, prefix=f"test:presence:{uuid.uuid4().hex}:")
    await client.aclose()


async def test_entries_of_a_dead_process_expire_and_are_swept(table) -> None:
    now = [1000.0]
    presence = Presence(table, ttl_s=45, wall=lambda: now[0])
    await presence.set("co", "agent", "sid-1", Status.available)
    await presence.set("co", "agent", "sid-2", Status.away)
    await presence.set("co", "other", "sid-3", Status.available)
    assert await presence.members("co") == {"agent": Status.available, "other": Status.available}
    now[0] += 30
    await presence.heartbeat([("co", "other", "sid-3", Status.available)])  # only this process is alive
    now[0] += 20
    assert await presence.sweep() == [("co", "agent", Status.offline)]
    assert await presence.members("co") == {"other": Status.available}
    assert await presence.sweep() == []


async def test_a_member_status_is_read_from_that_member_consoles_alone(table) -> None:
    """A console joining asks its member's status: the answer must not depend on (nor read) everyone's."""
    presence = Presence(table, ttl_s=60)
    for n in range(50):
        await presence.set("big", f"agent{n}", f"sid-{n}", Status.available)
    assert await presence.set("big", "late", "sid-a", Status.away) == (Status.offline, Status.away)
    assert await presence.set("big", "late", "sid-b", Status.available) == (Status.away, Status.available)
    assert await presence.leave("big", "late", "sid-b") == (Status.available, Status.away)
    assert await presence.leave("big", "late", "sid-a") == (Status.away, Status.offline)
    members = await presence.members("big")
    assert len(members) == 50 and "late" not in members
    assert await table.member_entries("big", "late") == {}
    assert await presence.statuses("big", ["agent3", "late"]) == {"agent3": Status.available, "late": Status.offline}
