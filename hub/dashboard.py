"""The dashboard: a period's call and chat figures, each computed by one MongoDB aggregation pipeline.

Every pipeline opens with a `$match` on an indexed (company_id, time) pair (hub.store) and does its
grouping in the server (`$facet`, `$group`). Calls are grouped by their hour in the company's time zone
(`$dateTrunc` with `timezone`) and by who they rang and who took them; Python folds those groups (a few
hundred a month, however many calls) into days, hours of day, members and extensions. On the embedded
server each expression evaluated per document costs, so the pipelines evaluate few: grouping by the
local day string and hour of day separately, and unwinding members and extensions, measured four
times slower (bench/dashboard.py). Percentiles are nearest-rank (the value at rank ceil(p * n) of the sorted
values), picked in the pipeline, so the same data gives the same figure on MongoDB and the embedded server.

First-response time (per thread, per period): from the customer's first message in the period to the
first reply after it (sent from the hub or typed in Zalo's own OA tools; a failed send is no reply), when
that reply is in the period too; credited to the member who sent it. A thread the customer wrote to in
the period without a reply yet counts as awaiting a reply. One figure per thread and period, whether the
thread is new or a returning customer's: a reopening in the same period is not timed again.

Resolution time: from when the thread was (re)opened (`opened_at`; older threads: `created_at`) to when
it was resolved, for threads resolved in the period, credited to their assignee then.

The figures carry no chat content and no customer number: owners and managers see them for the whole
company (rulebook Action.dashboard).
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pymongo

from hub import rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Unprocessable
from hub.realtime.publish import EventLog
from hub.store import Store
from schemas.dashboard import (
    AgentChat,
    CallDay,
    CallFigures,
    CallHour,
    CallRow,
    CallTotals,
    ChatFigures,
    DashboardFigures,
    MissedCallStates,
)

MAX_DAYS = 366  # the longest period asked for at once
KEEP_S = 60.0  # an answer is reused this long at most, while the company publishes no event
# A year of a large company on the embedded server takes far longer than the store's per-operation limit.
COMPUTE_TIMEOUT_S = 300.0
OUTCOMES = ("answered", "missed", "short_abandoned", "failed")


def period_bounds(now: datetime, timezone: str, period: str) -> tuple[datetime, datetime]:
    """This week (Monday 00:00 to next Monday) or this month (the 1st 00:00 to the next 1st), in the
    company's time zone, as UTC-aware datetimes."""
    local = now.astimezone(ZoneInfo(timezone))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        end = _midnight(start.date() + timedelta(days=7), timezone)
    else:
        start = day.replace(day=1)
        end = _midnight((start.date() + timedelta(days=32)).replace(day=1), timezone)
    return _midnight(start.date(), timezone), end


def _midnight(day: date, timezone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone))


def days_of(start: datetime, end: datetime, timezone: str) -> list[str]:
    """Every calendar day (yyyy-mm-dd, company time zone) the period touches."""
    zone = ZoneInfo(timezone)
    first, last = start.astimezone(zone).date(), (end - timedelta(microseconds=1)).astimezone(zone).date()
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def _count(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _ranked(values: Any, p: float) -> dict[str, Any]:
    """The nearest-rank p-percentile of an array expression (missing when it is empty)."""
    return {
        "$let": {
            "vars": {"sorted": {"$sortArray": {"input": values, "sortBy": 1}}},
            "in": {
                "$arrayElemAt": [
                    "$$sorted",
                    {"$max": [0, {"$subtract": [{"$ceil": {"$multiply": [p, {"$size": "$$sorted"}]}}, 1]}]},
                ]
            },
        }
    }


# Who a call rang and who took it, with its outcome: the key of CALL_GROUPS. Calls share a key far more
# often than not (the same ring group, the same outcome), so a period's groups are few.
CALL_GROUPS: list[dict[str, Any]] = [
    {
        "$group": {
            "_id": {
                "members": "$members",
                "extensions": "$extensions",
                "member": "$answered_member_id",
                "extension": "$answered_by",
                "outcome": "$outcome",
            },
            "calls": {"$sum": 1},
            "talk_s": {"$sum": {"$ifNull": ["$talk_s", 0]}},
        }
    }
]


def call_rows(groups: list[dict[str, Any]], key: str, only: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Per member (`key` "members") or extension ("extensions"), from CALL_GROUPS: the calls that rang
    them, those they took and their talk time, and the missed and failed ones; `only` these, when given."""
    took = {"members": "member", "extensions": "extension"}[key]
    rows: dict[str, dict[str, Any]] = {}
    for group in groups:  # one per (who rang, who took it, outcome), not per call
        found = group["_id"]
        for name in dict.fromkeys(found.get(key) or []):
            if only is not None and name not in only:
                continue
            row = rows.setdefault(name, {"calls": 0, "answered": 0, "missed": 0, "failed": 0, "talk_s": 0.0})
            row["calls"] += group["calls"]
            if found.get(took) == name:
                row["answered"] += group["calls"]
                row["talk_s"] += group["talk_s"]
            if found.get("outcome") in ("missed", "failed"):
                row[found["outcome"]] += group["calls"]
    return rows


def call_pipeline(match: dict[str, Any], timezone: str) -> list[dict[str, Any]]:
    """Calls by local hour and outcome, and by who rang and took them, in one pass over the period's calls.
    The server truncates each start to its hour in the company's time zone (cheaper for it than a day
    string); days and hours of day are read from those few hundred buckets in Python."""
    return [
        {"$match": match},
        {
            "$facet": {
                "hours": [
                    {
                        "$group": {
                            "_id": {
                                "hour": {"$dateTrunc": {"date": "$started_at", "unit": "hour", "timezone": timezone}},
                                "outcome": "$outcome",
                            },
                            "calls": {"$sum": 1},
                            "talk_s": {"$sum": {"$ifNull": ["$talk_s", 0]}},
                            "duration_s": {"$sum": {"$ifNull": ["$duration_s", 0]}},
                        }
                    }
                ],
                "groups": CALL_GROUPS,
            }
        },
    ]


def message_pipeline(match: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages in and out, and each thread's first-response time, per responder and overall: one pass,
    grouped by thread, then by responder, then into one document."""
    replied = {"$and": [{"$eq": ["$direction", "out"]}, {"$ne": ["$status", "failed"]}]}
    # The first reply after the customer's first message: usually the thread's first reply of all (a
    # document's $min compares `at` first); only when the OA wrote first are the replies searched.
    later = {"$filter": {"input": "$replies", "cond": {"$gt": ["$$this.at", "$first_in"]}}}
    first_reply = {"$cond": [{"$gt": ["$first_out.at", "$first_in"]}, "$first_out", {"$min": later}]}
    return [
        {"$match": match},
        {
            "$group": {
                "_id": "$thread_id",
                "in": _count({"$eq": ["$direction", "in"]}),
                "out": _count({"$eq": ["$direction", "out"]}),
                "first_in": {"$min": {"$cond": [{"$eq": ["$direction", "in"]}, "$at", None]}},
                "first_out": {"$min": {"$cond": [replied, {"at": "$at", "by": "$sent_by_member_id"}, None]}},
                "replies": {"$push": {"$cond": [replied, {"at": "$at", "by": "$sent_by_member_id"}, "$$REMOVE"]}},
            }
        },
        {"$project": {"in": 1, "out": 1, "first_in": 1, "reply": first_reply}},
        {
            "$project": {
                "in": 1,
                "out": 1,
                "waiting": {"$cond": [{"$and": ["$first_in", {"$not": ["$reply.at"]}]}, 1, 0]},
                "answered": {"$cond": [{"$ifNull": ["$reply.at", False]}, 1, 0]},
                "by": {"$ifNull": ["$reply.by", None]},
                "wait_s": {"$divide": [{"$subtract": ["$reply.at", "$first_in"]}, 1000]},
            }
        },
        {
            "$group": {  # per responder (None: Zalo's OA tools; threads with no reply fall in with it, uncounted)
                "_id": "$by",
                "in": {"$sum": "$in"},
                "out": {"$sum": "$out"},
                "answered": {"$sum": "$answered"},
                "awaiting": {"$sum": "$waiting"},
                "waits": {"$push": {"$cond": ["$answered", "$wait_s", "$$REMOVE"]}},
            }
        },
        {
            "$group": {
                "_id": None,
                "agents": {
                    "$push": {
                        "$cond": [
                            {"$gt": ["$answered", 0]},
                            {
                                "member_id": "$_id",
                                "n": "$answered",
                                "median": _ranked("$waits", 0.5),
                                "p90": _ranked("$waits", 0.9),
                            },
                            "$$REMOVE",
                        ]
                    }
                },
                "in": {"$sum": "$in"},
                "out": {"$sum": "$out"},
                "answered": {"$sum": "$answered"},
                "awaiting": {"$sum": "$awaiting"},
                "waits": {"$push": "$waits"},
            }
        },
        {
            "$project": {
                "agents": 1,
                "in": 1,
                "out": 1,
                "answered": 1,
                "awaiting": 1,
                "all": {
                    "$reduce": {"input": "$waits", "initialValue": [], "in": {"$concatArrays": ["$$value", "$$this"]}}
                },
            }
        },
        {
            "$project": {
                "agents": 1,
                "in": 1,
                "out": 1,
                "answered": 1,
                "awaiting": 1,
                "median": _ranked("$all", 0.5),
                "p90": _ranked("$all", 0.9),
            }
        },
    ]


def thread_pipeline(company_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """New threads, resolutions per assignee, and the threads open and queued now."""
    period = {"$gte": start, "$lt": end}
    resolution_s = {"$divide": [{"$subtract": ["$resolved_at", {"$ifNull": ["$opened_at", "$created_at"]}]}, 1000]}
    return [
        {
            "$match": {
                "company_id": company_id,
                "$or": [{"created_at": period}, {"resolved_at": period}, {"status": "open"}],
            }
        },
        {
            "$facet": {
                "new": [{"$match": {"created_at": period}}, {"$count": "n"}],
                "open": [{"$match": {"status": "open"}}, {"$count": "n"}],
                "queued": [
                    {"$match": {"status": "open", "assignee_id": None, "queued_at": {"$ne": None}}},
                    {"$count": "n"},
                ],
                "resolved": [
                    {"$match": {"resolved_at": period}},
                    {"$group": {"_id": {"$ifNull": ["$assignee_id", None]}, "times": {"$push": resolution_s}}},
                    {
                        "$project": {
                            "n": {"$size": "$times"},
                            "median": _ranked("$times", 0.5),
                            "p90": _ranked("$times", 0.9),
                        }
                    },
                    {"$sort": {"_id": 1}},
                ],
                "resolved_all": [
                    {"$match": {"resolved_at": period}},
                    {"$group": {"_id": None, "times": {"$push": resolution_s}}},
                    {"$project": {"n": {"$size": "$times"}, "median": _ranked("$times", 0.5)}},
                ],
            }
        },
    ]


def missed_pipeline(company_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [
        {"$match": {"company_id": company_id, "ended_at": {"$gte": start, "$lt": end}}},
        {"$group": {"_id": "$state", "n": {"$sum": 1}}},
    ]


async def _all(cursor: Any) -> list[dict[str, Any]]:
    return [doc async for doc in await cursor]


async def _one(cursor: Any) -> dict[str, Any]:
    docs = await _all(cursor)
    return docs[0] if docs else {}


def _first(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


class Dashboard:
    """The figures of a period, computed once per change: supervisors' consoles refresh on the same events
    at once, so they share one computation, keyed by the company's latest event seq (every change that
    moves a figure publishes an event) and kept at most KEEP_S."""

    def __init__(self, store: Store, clock: Clock, event_log: EventLog) -> None:
        self._store = store
        self._clock = clock
        self._event_log = event_log
        self._answers: dict[tuple[Any, ...], tuple[float, asyncio.Future[DashboardFigures]]] = {}

    def bounds(
        self, timezone: str, period: str, start: datetime | None, end: datetime | None
    ) -> tuple[datetime, datetime]:
        """The period asked for: from/to when given (to defaulting to now), else this week or month."""
        if start is None:
            start, default_end = period_bounds(self._clock.now(), timezone, period)
            end = end or default_end
        end = end or self._clock.now()
        if end <= start:
            raise Unprocessable("to must be after from", "invalid_query")
        if end - start > timedelta(days=MAX_DAYS):
            raise Unprocessable(f"a period is at most {MAX_DAYS} days", "invalid_query")
        return start, end

    async def figures(self, actor: Principal, timezone: str, start: datetime, end: datetime) -> DashboardFigures:
        rulebook.require(actor, rulebook.Action.dashboard)
        key = (actor.company_id, timezone, start, end, await self._event_log.max_seq(actor.company_id))
        now = time.monotonic()
        for old in [k for k, (until, _) in self._answers.items() if until < now]:
            del self._answers[old]
        held = self._answers.get(key)
        if held is None:
            held = self._answers[key] = (now + KEEP_S, asyncio.ensure_future(self.compute(*key[:4])))
        try:
            return await asyncio.shield(held[1])
        except Exception:
            if self._answers.get(key) is held:
                del self._answers[key]  # the next request tries again
            raise

    async def compute(self, company: str, timezone: str, start: datetime, end: datetime) -> DashboardFigures:
        """The figures, read afresh (four aggregations and a count, side by side)."""
        period = {"$gte": start, "$lt": end}
        with pymongo.timeout(COMPUTE_TIMEOUT_S):  # the store's per-operation limit is for one document's reads
            calls, messages, threads, missed, extensions = await asyncio.gather(
                _one(
                    self._store.calls.aggregate(call_pipeline({"company_id": company, "started_at": period}, timezone))
                ),
                _one(self._store.messages.aggregate(message_pipeline({"company_id": company, "at": period}))),
                _one(self._store.threads.aggregate(thread_pipeline(company, start, end))),
                _all(self._store.missed_calls.aggregate(missed_pipeline(company, start, end))),
                self._store.extensions.count_documents({"company_id": company}),
            )
        missed_states = {doc["_id"]: doc["n"] for doc in missed}
        return DashboardFigures(
            start=start,
            end=end,
            timezone=timezone,
            calls=_call_figures(calls, start, end, timezone, extensions, missed_states),
            chat=_chat_figures(messages, threads),
        )


def _call_figures(
    facets: dict[str, Any], start: datetime, end: datetime, timezone: str, extensions: int, missed: dict[str, int]
) -> CallFigures:
    zone = ZoneInfo(timezone)
    totals = CallTotals(extensions=extensions)
    days = {day: CallDay(day=day) for day in days_of(start, end, timezone)}
    hours = [CallHour(hour=hour) for hour in range(24)]
    for bucket in facets.get("hours", []):  # one per (local hour, outcome): at most 6 x 24 a day
        local = bucket["_id"]["hour"].astimezone(zone)
        outcome = bucket["_id"].get("outcome")
        totals.calls += bucket["calls"]
        totals.talk_s += bucket["talk_s"]
        totals.duration_s += bucket["duration_s"]
        if outcome in OUTCOMES:
            setattr(totals, outcome, getattr(totals, outcome) + bucket["calls"])
        hours[local.hour].calls += bucket["calls"]
        day = days.get(local.date().isoformat())
        if day is not None:
            field = outcome if outcome in OUTCOMES else "other"
            setattr(day, field, getattr(day, field) + bucket["calls"])
    totals.talk_s, totals.duration_s = round(totals.talk_s, 3), round(totals.duration_s, 3)
    groups = facets.get("groups", [])

    def rows(key: str, named: str) -> list[CallRow]:
        found = call_rows(groups, key)
        return [
            CallRow.model_validate({named: name, **row, "talk_s": round(row["talk_s"], 3)})
            for name, row in sorted(found.items())
        ]

    return CallFigures(
        totals=totals,
        per_day=list(days.values()),
        per_hour=hours,
        per_member=rows("members", "member_id"),
        per_extension=rows("extensions", "extension"),
        missed_calls=MissedCallStates(**{k: v for k, v in missed.items() if k in MissedCallStates.model_fields}),
    )


def _chat_figures(messages: dict[str, Any], threads: dict[str, Any]) -> ChatFigures:
    first = messages
    agents: dict[str | None, AgentChat] = {}
    for doc in first.get("agents", []):
        agents[doc.get("member_id")] = AgentChat(
            member_id=doc.get("member_id"),
            first_responses=doc["n"],
            first_response_median_s=_seconds(doc.get("median")),
            first_response_p90_s=_seconds(doc.get("p90")),
        )
    resolved = threads.get("resolved", [])
    for doc in resolved:
        agent = agents.setdefault(doc["_id"], AgentChat(member_id=doc["_id"]))
        agent.resolved = doc["n"]
        agent.resolution_median_s = _seconds(doc.get("median"))
        agent.resolution_p90_s = _seconds(doc.get("p90"))
    every_resolution = _first(threads.get("resolved_all", []))
    return ChatFigures(
        new_threads=_first(threads.get("new", [])).get("n", 0),
        messages_in=first.get("in", 0),
        messages_out=first.get("out", 0),
        first_responses=first.get("answered", 0),
        awaiting_reply=first.get("awaiting", 0),
        first_response_median_s=_seconds(first.get("median")),
        first_response_p90_s=_seconds(first.get("p90")),
        resolved=every_resolution.get("n", 0),
        resolution_median_s=_seconds(every_resolution.get("median")),
        open_now=_first(threads.get("open", [])).get("n", 0),
        queued_now=_first(threads.get("queued", [])).get("n", 0),
        per_agent=sorted(agents.values(), key=lambda a: (a.member_id is None, a.member_id or "")),
    )
