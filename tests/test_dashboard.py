"""The dashboard's figures over REST: seeded calls, messages and threads give exact figures, bucketed in the
company's time zone (Asia/Ho_Chi_Minh, UTC+7) across its midnight; owners and managers only."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hub.dashboard import days_of, period_bounds
from hub.runtime import Runtime
from tests.conftest import Company, Person

# Monday 2 November 2026, 00:00 in Hồ Chí Minh City, to the next Monday.
START = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)
END = START + timedelta(days=7)
PERIOD = {"from": START.isoformat(), "to": END.isoformat()}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def call(company_id: str, started: str, outcome: str | None, rang: list[tuple[str, str]], **more: Any) -> dict:
    """A finalized call record as hub.calls stores it: `rang` the (member, extension) pairs it rang."""
    return {
        "_id": "c" + secrets.token_hex(8),
        "company_id": company_id,
        "call_id": "call-" + secrets.token_hex(6),
        "direction": "inbound",
        "state": "ended" if outcome else "ringing",
        "finalized": outcome is not None,
        "started_at": _at(started),
        "outcome": outcome,
        "members": [m for m, _ in rang],
        "extensions": [e for _, e in rang],
        "legs": [],
        "answered_by": None,
        "answered_member_id": None,
        "talk_s": None,
        "duration_s": None,
        **more,
    }


async def seed_calls(runtime: Runtime, company: Company, a: Person, b: Person) -> None:
    co = company.id
    await runtime.store.calls.insert_many(
        [
            # 23:59 on Tuesday 3rd local (16:59 UTC), then 00:01 on Wednesday 4th local (17:01 UTC)
            call(
                co,
                "2026-11-03T23:59:00+07:00",
                "answered",
                [(a.id, "101")],
                answered_by="101",
                answered_member_id=a.id,
                talk_s=60,
                duration_s=70,
            ),
            call(co, "2026-11-04T00:01:00+07:00", "missed", [(a.id, "101"), (b.id, "102")], duration_s=30),
            call(
                co,
                "2026-11-04T09:00:00+07:00",
                "answered",
                [(a.id, "101"), (b.id, "102")],
                answered_by="102",
                answered_member_id=b.id,
                talk_s=120,
                duration_s=130,
            ),
            call(co, "2026-11-04T10:30:00+07:00", "failed", [(b.id, "102")], duration_s=5),
            call(co, "2026-11-05T12:00:00+07:00", "short_abandoned", [(a.id, "101")], duration_s=2),
            call(co, "2026-11-05T12:10:00+07:00", None, [(b.id, "102")]),  # ringing now
            # outside the period: the Sunday before, and the Monday after
            call(
                co,
                "2026-11-01T23:59:59+07:00",
                "answered",
                [(a.id, "101")],
                answered_by="101",
                answered_member_id=a.id,
                talk_s=5,
            ),
            call(co, "2026-11-09T00:00:00+07:00", "missed", [(a.id, "101")]),
        ]
    )
    await runtime.store.missed_calls.insert_many(
        [
            {
                "_id": "m" + secrets.token_hex(8),
                "company_id": co,
                "ended_at": _at("2026-11-04T00:02:00+07:00"),
                "state": s,
            }
            for s in ("open", "open", "handled", "called_back")
        ]
    )


def message(company_id: str, thread_id: str, direction: str, at: datetime, by: str | None = None, **more: Any) -> dict:
    return {
        "_id": "g" + secrets.token_hex(8),
        "company_id": company_id,
        "thread_id": thread_id,
        "direction": direction,
        "status": "received" if direction == "in" else "sent",
        "sent_by_member_id": by,
        "at": at,
        **more,
    }


def thread(company_id: str, created: datetime, **more: Any) -> dict:
    """A thread as hub.threads stores it, with what its summary needs (the console lists it)."""
    return {
        "_id": "t" + secrets.token_hex(8),
        "company_id": company_id,
        "link_id": "l" + secrets.token_hex(4),
        "oa_id": "oa-dashboard",
        "key": secrets.token_hex(6),
        "customer": {"name": "Khách hàng"},
        "reply_window": {"state": "free", "until": None},
        "version": 1,
        "status": "open",
        "assignee_id": None,
        "queued_at": None,
        "created_at": created,
        "resolved_at": None,
        **more,
    }


async def seed_chat(runtime: Runtime, company: Company, a: Person, b: Person) -> dict[str, dict]:
    co = company.id
    day = _at("2026-11-04T09:00:00+07:00")
    threads = {
        # resolved in the period: opened an hour before
        "t1": thread(co, day, status="resolved", assignee_id=a.id, opened_at=day, resolved_at=day + timedelta(hours=1)),
        # resolved in the period: a thread from before any `opened_at`, two hours after it was created
        "t2": thread(co, day, status="resolved", assignee_id=a.id, resolved_at=day + timedelta(hours=2)),
        "t3": thread(co, day, assignee_id=a.id),
        "t4": thread(co, day, queued_at=day),  # waiting in the queue now
        "t5": thread(co, day),
        "t6": thread(co, START - timedelta(days=3), assignee_id=b.id),  # not new, still open
    }
    await runtime.store.threads.insert_many(list(threads.values()))
    t = {name: doc["_id"] for name, doc in threads.items()}
    s = timedelta(seconds=1)
    await runtime.store.messages.insert_many(
        [
            # t1: an OA greeting before the customer wrote is no response; A answers 30 s after the first message
            message(co, t["t1"], "out", day - 60 * s, a.id),
            message(co, t["t1"], "in", day),
            message(co, t["t1"], "in", day + 10 * s),
            message(co, t["t1"], "out", day + 30 * s, a.id),
            message(co, t["t1"], "out", day + 40 * s, b.id),
            message(co, t["t2"], "in", day),
            message(co, t["t2"], "out", day + 60 * s, a.id),
            message(co, t["t3"], "in", day),
            message(co, t["t3"], "out", day + 90 * s, a.id),
            # t4: the customer wrote before the period too; timed from their first message in it
            message(co, t["t4"], "in", START - timedelta(hours=2)),
            message(co, t["t4"], "in", day),
            message(co, t["t4"], "out", day + 600 * s, b.id),
            # t5: a failed send is no reply: still awaiting one
            message(co, t["t5"], "in", day),
            message(co, t["t5"], "out", day + 5 * s, b.id, status="failed"),
            # t6: answered from Zalo's own OA tools (no member)
            message(co, t["t6"], "in", day),
            message(co, t["t6"], "out", day + 20 * s, None, sent_via="zalo_oa"),
        ]
    )
    return threads


async def _members(company: Company, http: httpx.AsyncClient) -> tuple[Person, Person]:
    a = await company.add("user", name="Agent A")
    b = await company.add("user", name="Agent B")
    for person, number in ((a, "101"), (b, "102")):
        response = await http.put(
            f"{company.url}/api/members/{person.id}/extension", headers=company.owner.auth, json={"extension": number}
        )
        assert response.status_code == 200, response.text
    return a, b


async def _dashboard(company: Company, http: httpx.AsyncClient, who: Person, **params: str) -> httpx.Response:
    return await http.get(f"{company.url}/api/dashboard", headers=who.auth, params=params)


async def test_call_figures_are_bucketed_in_the_company_time_zone(
    company: Company, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    a, b = await _members(company, http)
    await seed_calls(runtime, company, a, b)
    response = await _dashboard(company, http, company.owner, **PERIOD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == "Asia/Ho_Chi_Minh"
    calls = body["calls"]
    assert calls["totals"] == {
        "extensions": 2,
        "calls": 6,
        "answered": 2,
        "missed": 1,
        "short_abandoned": 1,
        "failed": 1,
        "talk_s": 180.0,
        "duration_s": 237.0,
    }
    days = {row["day"]: {k: v for k, v in row.items() if k != "day" and v} for row in calls["per_day"]}
    assert list(days) == [f"2026-11-{d:02d}" for d in range(2, 9)]
    assert days == {
        "2026-11-02": {},
        "2026-11-03": {"answered": 1},  # 23:59 local stays on Tuesday
        "2026-11-04": {"answered": 1, "missed": 1, "failed": 1},  # 00:01 local is Wednesday
        "2026-11-05": {"short_abandoned": 1, "other": 1},
        "2026-11-06": {},
        "2026-11-07": {},
        "2026-11-08": {},
    }
    hours = {row["hour"]: row["calls"] for row in calls["per_hour"] if row["calls"]}
    assert len(calls["per_hour"]) == 24
    assert hours == {23: 1, 0: 1, 9: 1, 10: 1, 12: 2}
    per_member = {row["member_id"]: row for row in calls["per_member"]}
    assert per_member[a.id] == {
        "member_id": a.id,
        "extension": None,
        "calls": 4,
        "answered": 1,
        "missed": 1,
        "failed": 0,
        "talk_s": 60.0,
    }
    assert per_member[b.id] == {
        "member_id": b.id,
        "extension": None,
        "calls": 4,
        "answered": 1,
        "missed": 1,
        "failed": 1,
        "talk_s": 120.0,
    }
    per_extension = {row["extension"]: row for row in calls["per_extension"]}
    assert {k: per_extension["101"][k] for k in ("calls", "answered", "missed", "failed", "talk_s")} == {
        "calls": 4,
        "answered": 1,
        "missed": 1,
        "failed": 0,
        "talk_s": 60.0,
    }
    assert {k: per_extension["102"][k] for k in ("calls", "answered", "missed", "failed", "talk_s")} == {
        "calls": 4,
        "answered": 1,
        "missed": 1,
        "failed": 1,
        "talk_s": 120.0,
    }
    assert calls["missed_calls"] == {"open": 2, "called_back": 1, "handled": 1}

    # the same figures through the older statistics route, now aggregated too
    stats = (await http.get(f"{company.url}/api/stats/calls", headers=company.owner.auth, params=PERIOD)).json()
    assert stats["total_calls"] == 6 and stats["total_extensions"] == 2
    assert {r["extension"]: r for r in stats["per_extension"]}["102"] == {
        "extension": "102",
        "calls": 4,
        "answered": 1,
        "missed": 1,
        "failed": 1,
        "duration_s": 120.0,
    }
    own = (await http.get(f"{company.url}/api/stats/calls", headers=a.auth, params=PERIOD)).json()
    assert [r["member_id"] for r in own["per_member"]] == [a.id]
    assert [r["extension"] for r in own["per_extension"]] == ["101"]


async def test_chat_figures_first_response_and_resolution_per_agent(
    company: Company, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    a, b = await _members(company, http)
    await seed_chat(runtime, company, a, b)
    response = await _dashboard(company, http, company.owner, **PERIOD)
    assert response.status_code == 200, response.text
    chat = response.json()["chat"]
    per_agent = {row["member_id"]: row for row in chat.pop("per_agent")}
    # waits 20 (OA tools), 30, 60, 90 (A), 600 (B): nearest-rank median the 3rd, p90 the 5th
    assert chat == {
        "new_threads": 5,
        "messages_in": 7,
        "messages_out": 8,
        "first_responses": 5,
        "awaiting_reply": 1,
        "first_response_median_s": 60.0,
        "first_response_p90_s": 600.0,
        "resolved": 2,
        "resolution_median_s": 3600.0,
        "open_now": 4,
        "queued_now": 1,
    }
    assert per_agent[a.id] == {
        "member_id": a.id,
        "first_responses": 3,
        "first_response_median_s": 60.0,
        "first_response_p90_s": 90.0,
        "resolved": 2,
        "resolution_median_s": 3600.0,
        "resolution_p90_s": 7200.0,
    }
    assert per_agent[b.id]["first_responses"] == 1
    assert per_agent[b.id]["first_response_median_s"] == per_agent[b.id]["first_response_p90_s"] == 600.0
    assert per_agent[b.id]["resolved"] == 0
    assert per_agent[None]["first_responses"] == 1 and per_agent[None]["first_response_median_s"] == 20.0


async def test_an_answer_is_shared_until_the_company_publishes_an_event(
    company: Company, runtime: Runtime, http: httpx.AsyncClient
) -> None:
    a, b = await _members(company, http)
    first = call(company.id, "2026-11-03T10:00:00+07:00", "missed", [(a.id, "101")])
    await runtime.store.calls.insert_one(first)
    assert (await _dashboard(company, http, company.owner, **PERIOD)).json()["calls"]["totals"]["calls"] == 1
    # written behind the hub's back (no event): every console is given the same answer as before
    await runtime.store.calls.insert_one(call(company.id, "2026-11-03T11:00:00+07:00", "missed", [(b.id, "102")]))
    assert (await _dashboard(company, http, company.owner, **PERIOD)).json()["calls"]["totals"]["calls"] == 1
    manager = await company.add("manager")  # ... until something is published: a new member, here
    assert (await _dashboard(company, http, manager, **PERIOD)).json()["calls"]["totals"]["calls"] == 2


async def test_a_manager_sees_the_dashboard_and_a_user_is_refused(company: Company, http: httpx.AsyncClient) -> None:
    manager = await company.add("manager")
    user = await company.add("user")
    assert (await _dashboard(company, http, manager)).status_code == 200
    refused = await _dashboard(company, http, user)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


async def test_a_period_must_end_after_it_starts(company: Company, http: httpx.AsyncClient) -> None:
    response = await _dashboard(company, http, company.owner, **{"from": END.isoformat(), "to": START.isoformat()})
    assert response.status_code == 422
    too_long = await _dashboard(
        company, http, company.owner, **{"from": START.isoformat(), "to": (START + timedelta(days=400)).isoformat()}
    )
    assert too_long.status_code == 422


async def test_this_week_is_without_from_the_default(company: Company, http: httpx.AsyncClient) -> None:
    body = (await _dashboard(company, http, company.owner)).json()
    days = [row["day"] for row in body["calls"]["per_day"]]
    assert len(days) == 7 and datetime.fromisoformat(days[0]).weekday() == 0
    month = (await _dashboard(company, http, company.owner, period="month")).json()
    assert month["calls"]["per_day"][0]["day"].endswith("-01")


def test_week_and_month_start_at_local_midnight() -> None:
    zone = "Asia/Ho_Chi_Minh"
    sunday_night = _at("2026-11-08T23:30:00+07:00")  # still Sunday there, 16:30 UTC
    assert period_bounds(sunday_night, zone, "week") == (START, END)
    monday_morning = _at("2026-11-09T00:30:00+07:00")  # Sunday 17:30 UTC, already Monday there
    assert period_bounds(monday_morning, zone, "week") == (END, END + timedelta(days=7))
    assert period_bounds(sunday_night, zone, "month") == (
        _at("2026-11-01T00:00:00+07:00"),
        _at("2026-12-01T00:00:00+07:00"),
    )
    assert days_of(START, END, zone) == [f"2026-11-{d:02d}" for d in range(2, 9)]
