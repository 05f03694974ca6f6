"""Reports of the company's outreach through its OAs (the product guide's ZNS and ZCC "Reports"), and the
ZNS service reviews list. Owners and managers only; a period is at most 3 months.

Computed by the server (`$group`, days cut by `$dateTrunc` in the company's time zone), so a report over
hundreds of thousands of messages reads no document into the hub:
- ZNS: sent, charged, free (delivered outside the charging window), succeeded, failed, still processing,
  total spend (unit price of the charged ones); per day; per template; per kind of send (`phone` today —
  journeys and sends by user id are kinds of their own once they exist).
- ZCC: requests sent (Zalo accepted them), charged, failed; per day; per reason; per customer answer
  (the request's status: waiting, agreed, rejected, no_response, expired).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING

from hub import rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.dashboard import days_of
from hub.errors import Unprocessable
from hub.phones import zalo_form
from hub.store import Store, time_range

MAX_PERIOD = timedelta(days=92)
DEFAULT_PERIOD = timedelta(days=30)
REVIEWS_LIMIT = 500


def _count(condition: Any) -> dict[str, Any]:
    return {"$sum": {"$cond": [condition, 1, 0]}}


def _zns_figures() -> dict[str, Any]:
    success = {"$eq": ["$status", "success"]}
    charged = {"$eq": ["$charged", True]}
    return {
        "sent": {"$sum": 1},
        "success": _count(success),
        "failed": _count({"$eq": ["$status", "failure"]}),
        "processing": _count({"$eq": ["$status", "processing"]}),
        "charged": _count(charged),
        "free": _count({"$and": [success, {"$ne": ["$charged", True]}]}),
        "spend": {"$sum": {"$cond": [charged, {"$ifNull": ["$unit_price", 0]}, 0]}},
    }


def _zcc_figures() -> dict[str, Any]:
    return {
        "requested": {"$sum": 1},
        "sent": _count({"$eq": ["$send_status", "success"]}),
        "failed": _count({"$eq": ["$send_status", "failure"]}),
        "charged": _count({"$eq": ["$charged", True]}),
    }


def _rows(groups: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return [{key: group["_id"], **{k: v for k, v in group.items() if k != "_id"}} for group in groups]


class OutreachReports:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def _period(self, start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
        end = end or self._clock.now()
        start = start or end - DEFAULT_PERIOD
        if end <= start:
            raise Unprocessable("the period's start must come before its end", "invalid_period")
        if end - start > MAX_PERIOD:
            raise Unprocessable("a report covers at most 3 months: pick a shorter period", "period_too_long")
        return start, end

    async def _timezone(self, company_id: str) -> str:
        company = await self._store.companies.find_one({"_id": company_id}, {"timezone": 1}) or {}
        return str(company.get("timezone") or "Asia/Ho_Chi_Minh")

    async def _report(
        self,
        actor: Principal,
        collection: Any,
        time_field: str,
        start: datetime | None,
        end: datetime | None,
        filters: dict[str, Any],
        figures: dict[str, Any],
        groups: dict[str, tuple[Any, str, dict[str, Any]]],
    ) -> dict[str, Any]:
        """One `$facet` pass over the period's records: totals, per day (every day of the period, in the
        company's time zone), and each of `groups` (name -> (what to group by, its key's name, figures))."""
        start, end = self._period(start, end)
        timezone = await self._timezone(actor.company_id)
        match = {"company_id": actor.company_id, time_field: time_range(start, end)}
        match.update({name: value for name, value in filters.items() if value})
        day = {"$dateToString": {"date": f"${time_field}", "format": "%Y-%m-%d", "timezone": timezone}}
        facets = {
            "totals": [{"$group": {"_id": None, **figures}}],
            "per_day": [{"$group": {"_id": day, **figures}}],
            **{
                name: [{"$group": {"_id": by, **counted}}, {"$sort": {"_id": 1}}]
                for name, (by, _key, counted) in groups.items()
            },
        }
        cursor = await collection.aggregate([{"$match": match}, {"$facet": facets}])
        result = (await cursor.to_list(1))[0]
        totals = {k: v for k, v in (result["totals"][0] if result["totals"] else {}).items() if k != "_id"}
        per_day = {group["_id"]: group for group in result["per_day"]}
        return {
            "from": start,
            "to": end,
            "timezone": timezone,
            "totals": totals or {name: 0 for name in figures},
            "per_day": [
                {"day": d, **{k: per_day.get(d, {}).get(k, 0) for k in figures}} for d in days_of(start, end, timezone)
            ],
            **{name: _rows(result[name], key) for name, (_by, key, _counted) in groups.items()},
        }

    async def zns(
        self,
        actor: Principal,
        start: datetime | None,
        end: datetime | None,
        oa_id: str | None = None,
        template_id: str | None = None,
        kind: str | None = None,
    ) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.zns)
        figures = _zns_figures()
        # A message with no kind was sent by phone (before kinds were kept).
        by_kind = {"$in": [None, "phone"]} if kind == "phone" else kind
        report = await self._report(
            actor,
            self._store.zns_messages,
            "sent_at",
            start,
            end,
            {"oa_id": oa_id, "template_id": template_id, "kind": by_kind},
            figures,
            {
                "by_template": ("$template_id", "template_id", figures),
                "by_kind": ({"$ifNull": ["$kind", "phone"]}, "kind", figures),
            },
        )
        report["by_template"].sort(key=lambda row: -row["sent"])  # the most used first
        return report

    async def zcc(
        self, actor: Principal, start: datetime | None, end: datetime | None, oa_id: str | None = None
    ) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.all_consents)
        figures = _zcc_figures()
        return await self._report(
            actor,
            self._store.consents,
            "created_at",
            start,
            end,
            {"oa_id": oa_id},
            figures,
            {
                "by_reason": ("$reason_code", "reason_code", figures),
                "by_answer": ("$status", "status", {"count": {"$sum": 1}}),
            },
        )

    async def reviews(self, actor: Principal, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """ZNS service reviews (`user_feedback`), newest first: searchable by template, phone and msg id."""
        rulebook.require(actor, rulebook.Action.zns)
        query: dict[str, Any] = {"company_id": actor.company_id, "review": {"$type": "object"}}
        for name in ("template_id", "msg_id", "oa_id"):
            if filters.get(name):
                query[name] = filters[name]
        if filters.get("phone"):
            query["phone"] = zalo_form(filters["phone"]) or filters["phone"]
        if period := time_range(filters.get("from"), filters.get("to")):
            query["review.submitted_at"] = period
        cursor = (
            self._store.zns_messages.find(query)
            .sort([("review.submitted_at", DESCENDING), ("_id", DESCENDING)])
            .limit(REVIEWS_LIMIT)
        )
        return [
            {
                "id": doc["_id"],
                "msg_id": doc.get("msg_id"),
                "template_id": doc.get("template_id"),
                "oa_id": doc.get("oa_id"),
                "phone": doc.get("phone"),
                "rate": (doc.get("review") or {}).get("rate"),
                "note": (doc.get("review") or {}).get("note"),
                "feedbacks": (doc.get("review") or {}).get("feedbacks") or [],
                "submitted_at": (doc.get("review") or {}).get("submitted_at"),
                "sent_at": doc.get("sent_at"),
            }
            async for doc in cursor
        ]
