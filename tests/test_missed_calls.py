"""Missed calls as work: opened when a call is missed, called back by an outbound call that reaches the
number within the window, assigned by a supervisor, handled by hand with a note; live and over REST."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Company, Person
from tests.consoles import TestConsole
from tests.pbx_payloads import CALLER, canonical
from tests.test_pbx_calls import _agent, _pbx


def _followed(console: TestConsole, call_id: str) -> list[dict]:
    return [e["data"] for e in console.of_type("missed_call.updated") if e["data"]["call_id"] == call_id]


def _latest(console: TestConsole, call_id: str) -> dict | None:
    seen = _followed(console, call_id)
    return seen[-1] if seen else None


async def _missed_call(company: Company, pbx, console: TestConsole, base: datetime | None = None) -> dict:
    """A no-answer call to the hotline (it rings 102), as its follow-up opened."""
    events = canonical("no_answer", base=base)
    for event in events:
        await pbx.post(company.http, event)
    call_id = events[0]["call_id"]
    await console.wait_for(lambda: (x := _latest(console, call_id)) is not None and x["state"] == "open")
    return _latest(console, call_id)  # type: ignore[return-value]


def _outbound(to: str, base: datetime, answered: bool = True) -> list[dict[str, Any]]:
    """An agent at 101 calls a customer's number out."""
    call_id = "out-" + secrets.token_hex(6)
    common = {"call_id": call_id, "direction": "outbound", "from": "101", "to": to}
    leg = {"leg_id": f"{call_id}-callee", "extension": "101"}

    def at(s: float) -> str:
        return (base + timedelta(seconds=s)).isoformat()

    events = [{**common, **leg, "event": "ringing", "occurred_at": at(0)}]
    if answered:
        events.append({**common, **leg, "event": "answered", "occurred_at": at(5)})
    events.append({**common, "event": "ended", "occurred_at": at(50), "sip_code": 200 if answered else 480})
    return events


async def _list(company: Company, person: Person, query: str = "") -> dict:
    response = await company.http.get(f"{company.url}/api/missed-calls?{query}", headers=person.auth)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_missed_call_opens_and_an_outbound_call_to_its_number_calls_it_back(company: Company) -> None:
    pbx = await _pbx(company)
    await _agent(company, "101")
    agent = await _agent(company, "102")
    owner = await company.console(company.owner).connect()
    mine = await company.console(agent).connect()
    now = datetime.now(UTC)
    missed = await _missed_call(company, pbx, owner, base=now - timedelta(minutes=10))
    assert missed["rang"] == [{"extension": "102", "ring_s": 30.0}] and missed["wait_s"] == 30.0
    assert missed["from_number"] == CALLER and missed["assignee_id"] is None
    await mine.wait_for(lambda: _latest(mine, missed["call_id"]) is not None)  # it rang them
    listed = await _list(company, company.owner)
    assert [m["id"] for m in listed["missed_calls"]] == [missed["id"]]
    assert listed["counts"] == {"open": 1, "called_back": 0, "handled": 0}

    # An outbound call that nobody answers calls no one back; one that reaches the number (as 84…) does.
    for event in _outbound("84" + CALLER[1:], now - timedelta(minutes=5), answered=False):
        await pbx.post(company.http, event)
    back = _outbound("84" + CALLER[1:], now - timedelta(minutes=2))
    for event in back:
        await pbx.post(company.http, event)
    await owner.wait_for(lambda: _latest(owner, missed["call_id"])["state"] == "called_back")  # type: ignore[index]
    done = _latest(owner, missed["call_id"])
    outbound = [e["data"] for e in owner.of_type("call.updated") if e["data"]["call_id"] == back[0]["call_id"]]
    assert done is not None and done["callback_call_id"] == outbound[-1]["id"]
    await mine.wait_for(lambda: _latest(mine, missed["call_id"])["state"] == "called_back")  # type: ignore[index]
    listed = await _list(company, company.owner, "state=called_back")
    assert [m["callback_call_id"] for m in listed["missed_calls"]] == [done["callback_call_id"]]
    assert listed["counts"] == {"open": 0, "called_back": 1, "handled": 0}
    assert len(_followed(owner, missed["call_id"])) == 2  # opened, called back: once each


async def test_an_outbound_call_after_the_window_leaves_an_older_missed_call_open(company: Company) -> None:
    pbx = await _pbx(company)
    await _agent(company, "101")
    await _agent(company, "102")
    owner = await company.console(company.owner).connect()
    now = datetime.now(UTC)
    old = await _missed_call(company, pbx, owner, base=now - timedelta(hours=25))  # window: 24 h
    recent = await _missed_call(company, pbx, owner, base=now - timedelta(hours=3))
    for event in _outbound("+84" + CALLER[1:], now - timedelta(minutes=1)):
        await pbx.post(company.http, event)
    await owner.wait_for(lambda: _latest(owner, recent["call_id"])["state"] == "called_back")  # type: ignore[index]
    assert _latest(owner, old["call_id"])["state"] == "open"  # type: ignore[index]
    listed = await _list(company, company.owner, "state=open")
    assert [m["id"] for m in listed["missed_calls"]] == [old["id"]]
    assert listed["counts"] == {"open": 1, "called_back": 1, "handled": 0}


async def test_a_supervisor_assigns_and_the_assignee_marks_it_handled(company: Company) -> None:
    pbx = await _pbx(company)
    outsider = await _agent(company, "101")
    rang = await _agent(company, "102")
    assignee = await company.add("user")
    manager = await company.add("manager")
    owner = await company.console(company.owner).connect()
    theirs = await company.console(assignee).connect()
    missed = await _missed_call(company, pbx, owner)
    url = f"{company.url}/api/missed-calls/{missed['id']}"

    # Only owners and managers assign; only to a member of the company.
    refused = await company.http.put(f"{url}/assignee", headers=rang.auth, json={"member_id": rang.id})
    assert refused.status_code == 403
    nobody = await company.http.put(f"{url}/assignee", headers=manager.auth, json={"member_id": "no-such"})
    assert nobody.status_code == 422 and nobody.json()["error"]["code"] == "member_not_found"
    given = await company.http.put(f"{url}/assignee", headers=manager.auth, json={"member_id": assignee.id})
    assert given.status_code == 200 and given.json()["assignee_id"] == assignee.id
    await theirs.wait_for(lambda: (x := _latest(theirs, missed["call_id"])) is not None and x["assignee_id"])
    assert (await _list(company, assignee))["counts"]["open"] == 1
    assert (await _list(company, company.owner, f"assignee={assignee.id}"))["counts"]["open"] == 1
    assert (await _list(company, company.owner, "assignee=none"))["missed_calls"] == []

    # Neither rung nor assigned: not theirs to see or to handle.
    assert (await _list(company, outsider))["missed_calls"] == []
    hidden = await company.http.post(f"{url}/handled", headers=outsider.auth, json={"note": "called"})
    assert hidden.status_code == 404
    empty = await company.http.post(f"{url}/handled", headers=assignee.auth, json={"note": ""})
    assert empty.status_code == 422

    handled = await company.http.post(f"{url}/handled", headers=assignee.auth, json={"note": "Gọi lại qua Zalo"})
    assert handled.status_code == 200, handled.text
    body = handled.json()
    assert (body["state"], body["note"], body["handled_by"]) == ("handled", "Gọi lại qua Zalo", assignee.id)
    await owner.wait_for(lambda: _latest(owner, missed["call_id"])["state"] == "handled")  # type: ignore[index]

    # Once handled, nothing more to do: neither handled again nor assigned.
    again = await company.http.post(f"{url}/handled", headers=rang.auth, json={"note": "me too"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "missed_call_closed"
    moved = await company.http.put(f"{url}/assignee", headers=company.owner.auth, json={"member_id": rang.id})
    assert moved.status_code == 409
    assert (await _list(company, rang, "state=handled"))["counts"] == {"open": 0, "called_back": 0, "handled": 1}


async def test_a_member_it_rang_marks_it_handled_and_a_retry_changes_nothing(company: Company) -> None:
    pbx = await _pbx(company)
    rang = await _agent(company, "102")
    owner = await company.console(company.owner).connect()
    missed = await _missed_call(company, pbx, owner)
    url = f"{company.url}/api/missed-calls/{missed['id']}/handled"
    headers = {**rang.auth, "Idempotency-Key": "handled-" + secrets.token_hex(4)}
    first = await company.http.post(url, headers=headers, json={"note": "called from my mobile"})
    retry = await company.http.post(url, headers=headers, json={"note": "called from my mobile"})
    assert first.status_code == 200 and first.json()["state"] == "handled"
    assert retry.status_code == 200 and retry.json()["outcome"] == "already_applied"
    await owner.wait_for(lambda: _latest(owner, missed["call_id"])["state"] == "handled")  # type: ignore[index]
    assert len(_followed(owner, missed["call_id"])) == 2


async def test_the_list_pages_newest_first(company: Company) -> None:
    pbx = await _pbx(company)
    await _agent(company, "102")
    owner = await company.console(company.owner).connect()
    now = datetime.now(UTC)
    made = [await _missed_call(company, pbx, owner, base=now - timedelta(minutes=30 - i)) for i in range(3)]
    first = await _list(company, company.owner, "limit=2")
    assert [m["id"] for m in first["missed_calls"]] == [made[2]["id"], made[1]["id"]]
    rest = await _list(company, company.owner, f"limit=2&before={made[1]['id']}")
    assert [m["id"] for m in rest["missed_calls"]] == [made[0]["id"]]
    assert first["counts"]["open"] == 3
    since = (now - timedelta(minutes=28, seconds=30)).isoformat()
    recent = await company.http.get(
        f"{company.url}/api/missed-calls", headers=company.owner.auth, params={"from": since}
    )
    assert [m["id"] for m in recent.json()["missed_calls"]] == [made[2]["id"]]
