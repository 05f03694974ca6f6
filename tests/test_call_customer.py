"""The customer behind a call: a call (live, in the history, in the missed-calls list) whose outside number a
Zalo customer shared in a thread carries that thread's id, for a reader who may see the thread and no one else."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.call_customers import outside_number
from tests.conftest import Company, Person
from tests.pbx_payloads import CALLER, canonical
from tests.test_missed_calls import _outbound
from tests.test_pbx_calls import _agent, _pbx
from tests.web_steps import assign
from tests.zalo_payloads import Oa, zalo_id


@pytest.mark.parametrize(
    ("direction", "from_number", "to_number", "outside"),
    [
        ("inbound", "0912345678", "19001234", "+84912345678"),
        (None, "84912345678", "19001234", "+84912345678"),
        ("outbound", "101", "+84 912 345 678", "+84912345678"),
        ("internal", "101", "102", None),
        ("inbound", "101", "102", None),  # an extension is no customer's number
    ],
)
def test_the_outside_party_is_the_caller_inbound_and_the_callee_outbound(
    direction: str | None, from_number: str, to_number: str, outside: str | None
) -> None:
    assert outside_number(direction, from_number, to_number) == outside


async def _get(company: Company, person: Person, path: str, **params: Any) -> dict[str, Any]:
    response = await company.http.get(f"{company.url}{path}", headers=person.auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _eventually(check, what: str) -> Any:  # type: ignore[no-untyped-def]
    for _ in range(150):
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def _customer_shares(company: Company, oa: Oa, assignee: Person, phone: str) -> str:
    """A Zalo customer writes in, the owner gives the thread to `assignee`, the customer shares `phone`."""
    user_id = zalo_id()
    thread_id = await assign(company, oa, user_id, assignee, f"hỏi giá {zalo_id()}")
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, {"name": "Chị Lan", "phone": phone}))

    async def shared() -> bool:
        thread = await _get(company, company.owner, f"/api/threads/{thread_id}")
        return bool(thread["customer"].get("phone"))

    await _eventually(shared, "the shared phone on the thread")
    return thread_id


def _links(calls: list[dict[str, Any]]) -> dict[str, str | None]:
    return {c["call_id"]: c["thread_id"] for c in calls}


async def test_a_call_links_to_its_customers_thread_for_the_owner_and_the_assignee_only(
    company: Company, oa: Oa
) -> None:
    pbx = await _pbx(company)
    other = await _agent(company, "101")  # answers calls, holds no thread of this customer
    assignee = await _agent(company, "102")  # the missed call rings them; the customer's thread is theirs
    thread_id = await _customer_shares(company, oa, assignee, "84" + CALLER[1:])  # shared as 84…, rung as 0…

    now = datetime.now(UTC)
    missed = canonical("no_answer", base=now - timedelta(minutes=10))
    answered = canonical("answered", base=now - timedelta(minutes=8))
    stranger = [{**e, "from": "0987000111"} for e in canonical("no_answer", base=now - timedelta(minutes=7))]
    back = _outbound("+84" + CALLER[1:], now - timedelta(minutes=15))  # before: it calls no missed call back
    for event in [*missed, *answered, *stranger, *back]:
        assert (await pbx.post(company.http, event)).status_code == 200

    async def finalized() -> dict[str, Any] | None:
        page = await _get(company, company.owner, "/api/missed-calls")
        return page if len(page["missed_calls"]) == 2 else None

    await _eventually(finalized, "both missed calls in the list")

    ids = [missed[0]["call_id"], answered[0]["call_id"], stranger[0]["call_id"], back[0]["call_id"]]
    owner_view = _links((await _get(company, company.owner, "/api/calls"))["calls"])
    assert [owner_view[i] for i in ids] == [thread_id, thread_id, None, thread_id]
    assignee_view = _links((await _get(company, assignee, "/api/calls"))["calls"])
    assert assignee_view == {missed[0]["call_id"]: thread_id, stranger[0]["call_id"]: None}  # the calls that rang them
    other_view = _links((await _get(company, other, "/api/calls"))["calls"])
    assert other_view == {answered[0]["call_id"]: None, back[0]["call_id"]: None}, "not their thread: no link"

    # the missed-calls list: the same rule; one assigned to the other agent shows them no thread either
    listed = {
        m["call_id"]: m["thread_id"] for m in (await _get(company, company.owner, "/api/missed-calls"))["missed_calls"]
    }
    assert listed == {missed[0]["call_id"]: thread_id, stranger[0]["call_id"]: None}
    mine = (await _get(company, assignee, "/api/missed-calls"))["missed_calls"]
    assert {m["call_id"]: m["thread_id"] for m in mine}[missed[0]["call_id"]] == thread_id
    record_id = next(m["id"] for m in mine if m["call_id"] == missed[0]["call_id"])
    response = await company.http.put(
        f"{company.url}/api/missed-calls/{record_id}/assignee", headers=company.owner.auth, json={"member_id": other.id}
    )
    assert response.status_code == 200, response.text
    theirs = (await _get(company, other, "/api/missed-calls"))["missed_calls"]
    assert [(m["id"], m["thread_id"]) for m in theirs] == [(record_id, None)]

    # one call, read by id
    assert (await _get(company, company.owner, f"/api/calls/{record_id}"))["thread_id"] == thread_id
    assert (await _get(company, assignee, f"/api/calls/{record_id}"))["thread_id"] == thread_id


async def test_a_live_call_links_to_its_customers_thread(company: Company, oa: Oa) -> None:
    pbx = await _pbx(company)
    other = await _agent(company, "101")
    assignee = await _agent(company, "102")
    thread_id = await _customer_shares(company, oa, assignee, "0912666777")
    ringing = [{**e, "from": "+84912666777"} for e in canonical("no_answer")][:1]  # still ringing 102
    ringing_other = [{**e, "from": "0912666777"} for e in canonical("answered")][:2]  # 101 is talking to them
    for event in [*ringing, *ringing_other]:
        assert (await pbx.post(company.http, event)).status_code == 200

    async def live() -> dict[str, Any] | None:
        calls = (await _get(company, company.owner, "/api/calls/live"))["calls"]
        return _links(calls) if len(calls) == 2 else None

    owner_view = await _eventually(live, "two live calls")
    assert owner_view == {ringing[0]["call_id"]: thread_id, ringing_other[0]["call_id"]: thread_id}
    assignee_view = _links((await _get(company, assignee, "/api/calls/live"))["calls"])
    assert assignee_view == {ringing[0]["call_id"]: thread_id}
    other_view = _links((await _get(company, other, "/api/calls/live"))["calls"])
    assert other_view == {ringing_other[0]["call_id"]: None}


async def test_the_thread_list_finds_a_customer_by_phone_in_any_form_within_what_the_reader_sees(
    company: Company, oa: Oa
) -> None:
    assignee = await company.add("user")
    other = await company.add("user")
    thread_id = await _customer_shares(company, oa, assignee, "0912888999")
    for form in ["0912888999", "84912888999", "+84 912 888 999"]:
        for reader, expected in [(company.owner, [thread_id]), (assignee, [thread_id]), (other, [])]:
            found = (await _get(company, reader, "/api/threads", phone=form))["threads"]
            assert [t["id"] for t in found] == expected, (form, reader.id)
    assert (await _get(company, company.owner, "/api/threads", phone="101"))["threads"] == []  # no number at all
