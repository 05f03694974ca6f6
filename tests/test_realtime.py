"""Live delivery over Socket.IO: who may connect, who receives what, and replay after a disconnect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import socketio

from hub.auth import Principal, issue_token
from schemas.directory import Role
from tests.conftest import Company, make_company
from tests.consoles import TestConsole
from tests.servers import TEST_JWT_SECRET, hub_env, run_cli


async def _refused(url: str, auth: dict | None) -> str:
    """Connect, expect a refusal, and return the reason the hub gave."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list = []
    client.on("connect_error", lambda data: reasons.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, auth=auth, transports=["websocket"], wait_timeout=10)
    assert not client.connected
    return str(reasons)


async def test_connect_refused_without_a_valid_token(company: Company) -> None:
    principal = Principal(company.owner.id, company.id, Role.owner)
    expired = issue_token(TEST_JWT_SECRET, principal, datetime.now(UTC) - timedelta(hours=2), 60)
    forged = issue_token("someone-elses-secret-" + "y" * 30, principal, datetime.now(UTC), 3600)

    assert "missing" in await _refused(company.url, None)
    assert "missing" in await _refused(company.url, {"last_seq": None})
    assert "expired" in await _refused(company.url, {"token": expired})
    assert "invalid" in await _refused(company.url, {"token": forged})
    assert "invalid" in await _refused(company.url, {"token": company.owner.token + "x"})
    assert "'code': 'bad_token'" in await _refused(company.url, {"token": expired}), "a code programs act on"
    assert "'code': 'bad_request'" in await _refused(company.url, {"token": company.owner.token, "last_seq": -1})
    # and a real token still works
    console = await company.console(company.owner).connect()
    assert console.client.connected


async def test_directory_changes_reach_owners_and_managers_only(company: Company) -> None:
    manager = await company.add("manager")
    user = await company.add("user")
    owner_console = await company.console(company.owner).connect()
    manager_console = await company.console(manager).connect()
    user_console = await company.console(user).connect()

    added = await company.add("user", by=manager)
    await owner_console.wait_for(lambda: len(owner_console.of_type("member.created")) == 1)
    await manager_console.wait_for(lambda: len(manager_console.of_type("member.created")) == 1)
    event = owner_console.of_type("member.created")[0]
    assert event["data"]["id"] == added.id
    assert event["company_id"] == company.id
    assert event["at"].endswith("Z")
    assert manager_console.stored() == owner_console.stored()
    # the user's console is connected and synced but entitled to none of it: a later event that
    # does reach owners proves the stream moved on without the user getting anything
    assert user_console.stored() == []


async def test_a_console_of_company_a_never_receives_events_of_company_b(company: Company, runtime, hub, http) -> None:
    other = await make_company(runtime, hub.url, http)
    mine = await company.console(company.owner).connect()
    theirs = TestConsole(other.url, other.owner.token)
    await theirs.connect()
    try:
        for _ in range(3):
            await other.add("user")
        await theirs.wait_for(lambda: len(theirs.stored()) == 3)
        # an event of A published after B's: when it arrives, nothing of B came before it
        await company.add("user")
        await mine.wait_for(lambda: len(mine.stored()) == 1)
        assert {env["company_id"] for env in mine.stored()} == {company.id}
        assert {env["company_id"] for env in theirs.stored()} == {other.id}
    finally:
        await theirs.disconnect()


async def test_reconnect_with_last_seq_receives_exactly_the_missed_events_in_order(company: Company) -> None:
    manager = await company.add("manager")
    console = await company.console(manager).connect()
    await company.add("user")
    await console.wait_for(lambda: len(console.stored()) == 1)
    last_seq = console.last_seq
    await console.disconnect()

    missed = [await company.add("user") for _ in range(5)]

    before = len(console.events)
    await console.connect(last_seq=last_seq)
    after = [(name, data) for name, data in console.events[before:] if name != "presence.updated"]
    names = [name for name, _ in after]
    assert names == ["member.created"] * 5 + ["sync.done"]
    replayed = [data for _, data in after[:5]]
    assert [env["data"]["id"] for env in replayed] == [m.id for m in missed]
    seqs = [env["seq"] for env in replayed]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5 and seqs[0] > last_seq
    assert after[-1][1]["seq"] >= seqs[-1]

    # it came back soon: the hub replayed from its memory of recent events, not from the log
    assert 'hub_replays_total{source="memory"}' in (await company.http.get(f"{company.url}/metrics")).text

    # live events continue after the replay, once each
    await company.add("user")
    await console.wait_for(lambda: len(console.stored()) == 7)
    assert len(set(console.seqs())) == 7


async def test_replay_leaves_out_what_the_member_was_not_entitled_to(company: Company) -> None:
    user = await company.add("user")
    console = await company.console(user).connect()
    last_seq = console.last_seq
    await console.disconnect()
    await company.add("user")
    await company.add("manager")
    await console.connect(last_seq=last_seq)
    assert console.stored() == []
    assert console.names()[-1] == "sync.done"


async def test_gap_older_than_the_log_gets_sync_reset(company: Company, hub) -> None:
    console = await company.console(company.owner).connect()
    await company.add("user")
    await console.wait_for(lambda: len(console.stored()) == 1)
    stale = console.last_seq - 1
    await console.disconnect()
    await company.add("user")

    env = hub_env(mongodb_uri=hub.env["HUB_MONGODB_URI"], mongodb_db=hub.env["HUB_MONGODB_DB"])
    result = run_cli(["prune-events", "--older-than", "0", "--company-code", company.code], env)
    assert result.returncode == 0, result.stderr
    assert '"removed": 2' in result.stdout  # both member.created events of this company

    before = len(console.names())
    await console.connect(last_seq=stale)
    assert console.names()[before:] == ["sync.reset"]


async def test_removed_member_is_disconnected(company: Company) -> None:
    user = await company.add("user")
    console = await company.console(user).connect()
    response = await company.http.delete(f"{company.url}/api/members/{user.id}", headers=company.owner.auth)
    assert response.status_code == 204
    await console.wait_disconnected()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await TestConsole(company.url, user.token).connect()
