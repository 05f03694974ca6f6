"""The dashboard: a period's call and chat figures, each computed by one MongoDB aggregation pipeline.

Every pipeline opens with a `$match` on an indexed (company_id, time) pair (hub.store) and does its
grouping in the server (`$facet`, `$group`, `$unwind`); days and hours are bucketed in the company's time
zone by the server (`$dateToString` / `$hour` with `timezone`). Python only fills the empty days and
hours and names the rows. Percentiles are nearest-rank (the value at rank ceil(p * n) of the sorted
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
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub import rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Unprocessable
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


def call_rows(key: str, taken_by: str, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Per member or per extension: the calls that rang them (`key` an array field), those they took
    (`taken_by` the field naming who took it); `only` these members or extensions, when given."""
    took = {"$eq": [f"${taken_by}", f"${key}"]}
    return [
        {"$unwind": f"${key}"},
        *([{"$match": {key: {"$in": only}}}] if only is not None else []),
        {
            "$group": {
                "_id": f"${key}",
                "calls": {"$sum": 1},
                "answered": _count(took),
                "missed": _count({"$eq": ["$outcome", "missed"]}),
                "failed": _count({"$eq": ["$outcome", "failed"]}),
                "talk_s": {"$sum": {"$cond": [took, {"$ifNull": ["$talk_s", 0]}, 0]}},
            }
        },
        {"$sort": {"_id": 1}},
    ]


def call_pipeline(match: dict[str, Any], timezone: str) -> list[dict[str, Any]]:
    """Totals, per day by outcome, per hour of day, per member and per extension, in one pass."""
    return [
        {"$match": match},
        {
            "$facet": {
                "totals": [
                    {
                        "$group": {
                            "_id": None,
                            "calls": {"$sum": 1},
                            **{outcome: _count({"$eq": ["$outcome", outcome]}) for outcome in OUTCOMES},
                            "talk_s": {"$sum": {"$ifNull": ["$talk_s", 0]}},
                            "duration_s": {"$sum": {"$ifNull": ["$duration_s", 0]}},
                        }
                    }
                ],
                "per_day": [
                    {
                        "$group": {
                            "_id": {
                                "day": {
                                    "$dateToString": {"format": "%Y-%m-%d", "date": "$started_at", "timezone": timezone}
                                },
                                "outcome": "$outcome",
                            },
                            "n": {"$sum": 1},
                        }
                    }
                ],
                "per_hour": [
                    {"$group": {"_id": {"$hour": {"date": "$started_at", "timezone": timezone}}, "n": {"$sum": 1}}}
                ],
                "per_member": call_rows("members", "answered_member_id"),
                "per_extension": call_rows("extensions", "answered_by"),
            }
        },
    ]


def message_pipeline(match: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages in and out, and the first-response time of each thread, per responder and overall."""
    replied = {"$and": [{"$eq": ["$direction", "out"]}, {"$ne": ["$status", "failed"]}]}
    return [
        {"$match": match},
        {
            "$facet": {
                "directions": [{"$group": {"_id": "$direction", "n": {"$sum": 1}}}],
                "first_response": [
                    {
                        "$group": {
                            "_id": "$thread_id",
                            "first_in": {"$min": {"$cond": [{"$eq": ["$direction", "in"]}, "$at", None]}},
                            "replies": {
                                "$push": {
                                    "$cond": [
                                        replied,
                                        {"at": "$at", "by": {"$ifNull": ["$sent_by_member_id", None]}},
                                        "$$REMOVE",
                                    ]
                                }
                            },
                        }
                    },
                    {"$match": {"first_in": {"$ne": None}}},
                    {
                        "$project": {
                            "first_in": 1,
                            "reply": {
                                "$first": {
                                    "$sortArray": {
                                        "input": {
                                            "$filter": {
                                                "input": "$replies",
                                                "cond": {"$gt": ["$$this.at", "$first_in"]},
                                            }
                                        },
                                        "sortBy": {"at": 1},
                                    }
                                }
                            },
                        }
                    },
                    {
                        "$project": {
                            "answered": {"$cond": [{"$ifNull": ["$reply.at", False]}, True, False]},
                            "by": {"$ifNull": ["$reply.by", None]},
                            "wait_s": {"$divide": [{"$subtract": ["$reply.at", "$first_in"]}, 1000]},
                        }
                    },
                    {
                        "$group": {
                            "_id": {"$cond": ["$answered", "$by", "$$REMOVE"]},
                            "answered": _count("$answered"),
                            "awaiting": _count({"$not": ["$answered"]}),
                            "waits": {"$push": {"$cond": ["$answered", "$wait_s", "$$REMOVE"]}},
                        }
                    },
                    {
                        "$project": {
                            "answered": 1,
                            "awaiting": 1,
                            "waits": 1,
                            "median": _ranked("$waits", 0.5),
                            "p90": _ranked("$waits", 0.9),
                        }
                    },
                    {
                        "$group": {
                            "_id": None,
                            "agents": {
                                "$push": {
                                    "$cond": [
                                        {"$gt": ["$answered", 0]},
                                        {"member_id": "$_id", "n": "$answered", "median": "$median", "p90": "$p90"},
                                        "$$REMOVE",
                                    ]
                                }
                            },
                            "answered": {"$sum": "$answered"},
                            "awaiting": {"$sum": "$awaiting"},
                            "waits": {"$push": "$waits"},
                        }
                    },
                    {
                        "$project": {
                            "agents": 1,
                            "answered": 1,
                            "awaiting": 1,
                            "all": {
                                "$reduce": {
                                    "input": "$waits",
                                    "initialValue": [],
                                    "in": {"$concatArrays": ["$$value", "$$this"]},
                                }
                            },
                        }
                    },
                    {
                        "$project": {
                            "agents": 1,
                            "answered": 1,
                            "awaiting": 1,
                            "median": _ranked("$all", 0.5),
                            "p90": _ranked("$all", 0.9),
                        }
                    },
                ],
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


async def _one(cursor: Any) -> dict[str, Any]:
    docs = [doc async for doc in await cursor]
    return docs[0] if docs else {}


def _first(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return rows[0] if rows else {}


def _seconds(value: Any) -> float | None:
    return None if value is None else round(float(value), 3)


class Dashboard:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

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
        company = actor.company_id
        period = {"$gte": start, "$lt": end}
        calls, messages, threads, missed, extensions = await asyncio.gather(
            _one(self._store.calls.aggregate(call_pipeline({"company_id": company, "started_at": period}, timezone))),
            _one(self._store.messages.aggregate(message_pipeline({"company_id": company, "at": period}))),
            _one(self._store.threads.aggregate(thread_pipeline(company, start, end))),
            self._store.missed_calls.aggregate(missed_pipeline(company, start, end)),
            self._store.extensions.count_documents({"company_id": company}),
        )
        missed_states = {doc["_id"]: doc["n"] async for doc in missed}
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
    totals = {k: v for k, v in _first(facets.get("totals", [])).items() if k != "_id"}
    days = {day: CallDay(day=day) for day in days_of(start, end, timezone)}
    for bucket in facets.get("per_day", []):
        day = days.get(bucket["_id"]["day"])
        if day is not None:  # one row per (day, outcome): at most 5 x 366
            outcome = bucket["_id"].get("outcome")
            field = outcome if outcome in OUTCOMES else "other"
            setattr(day, field, getattr(day, field) + bucket["n"])
    hours = {doc["_id"]: doc["n"] for doc in facets.get("per_hour", [])}

    def rows(key: str, found: list[dict[str, Any]]) -> list[CallRow]:
        return [CallRow(**{key: doc["_id"]}, **{k: v for k, v in doc.items() if k != "_id"}) for doc in found]

    return CallFigures(
        totals=CallTotals(extensions=extensions, **totals),
        per_day=list(days.values()),
        per_hour=[CallHour(hour=hour, calls=hours.get(hour, 0)) for hour in range(24)],
        per_member=rows("member_id", facets.get("per_member", [])),
        per_extension=rows("extension", facets.get("per_extension", [])),
        missed_calls=MissedCallStates(**{k: v for k, v in missed.items() if k in MissedCallStates.model_fields}),
    )


def _chat_figures(messages: dict[str, Any], threads: dict[str, Any]) -> ChatFigures:
    directions = {doc["_id"]: doc["n"] for doc in messages.get("directions", [])}
    first = _first(messages.get("first_response", []))
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
        messages_in=directions.get("in", 0),
        messages_out=directions.get("out", 0),
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
