"""Call records from PBX events: storage, live events, missed-call alerts, history and statistics.

Each event is folded into its call's record (hub.call_model.fold) and written back conditionally
on the version read, so concurrent events of one call, in any process, all land. A call that has
ended is finalized once, `finalize_grace_s` after the hub saw it end (so legs reported late still
count): the missed-call rule is applied and `call.missed` is published by whichever process wins
the conditional update — exactly once, however the webhooks were duplicated or reordered.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from hub import call_model, changes, faults, rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.dashboard import CALL_GROUPS, call_rows
from hub.errors import NotFound, Unprocessable
from hub.ids import new_id
from hub.missed_calls import MissedCalls
from hub.phones import e164
from hub.realtime.publish import Publisher
from hub.store import Store, time_range
from schemas.calls import LIVE_STATES, CallEvent, CallList, CallRecord, CallRow
from schemas.directory import CompanySettings
from schemas.events import Audience
from schemas.zalo import ZaloWebhook, epoch_ms

log = logging.getLogger(__name__)

# The history's order: newest first, the id breaking ties (an index of its own: hub.store).
HISTORY_ORDER = [("started_at", DESCENDING), ("_id", DESCENDING)]


@dataclass(frozen=True)
class CallFilter:
    """What the call history is narrowed to: the history's filters, shared by its page and its export."""

    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    direction: str | None = None
    hotline: str | None = None
    extension: str | None = None
    department: str | None = None
    phone: str | None = None


_VOLATILE = ("version", "ended_seen_at", "applied", "from_e164", "to_e164")


def mask(number: str | None) -> str | None:
    """Caller numbers on a wallboard: every digit but the last three hidden."""
    if not number:
        return number
    return "*" * max(0, len(number) - 3) + number[-3:]


def record_view(doc: dict[str, Any]) -> CallRecord:
    return CallRecord(id=doc["_id"], **{k: v for k, v in doc.items() if k in CallRecord.model_fields and k != "id"})


def row_view(doc: dict[str, Any]) -> CallRow:
    """A call as the console's lists carry it (its customer's thread is set by hub.call_customers)."""
    return CallRow(id=doc["_id"], **{k: v for k, v in doc.items() if k in CallRow.model_fields and k != "id"})


def wallboard_view(doc: dict[str, Any]) -> dict[str, Any]:
    """A live call as a wall display may show it: every outside number masked, no recordings."""
    view = record_view(doc).model_dump(mode="json")
    view["from_number"] = mask(view["from_number"])
    view["to_number"] = mask(view["to_number"]) if view["direction"] != "inbound" else view["to_number"]
    for leg in view["legs"]:
        if leg.get("party"):
            leg["leg_id"] = mask(leg["leg_id"]) if leg["leg_id"] == leg["party"] else leg["leg_id"]
            leg["party"] = mask(leg["party"])
    if view.get("answered_by") and view["answered_by"] not in view["extensions"]:
        view["answered_by"] = mask(view["answered_by"])
    view["transfers"] = [
        {
            **t,
            "to_extension": t.get("to_extension")
            if t.get("to_extension") in view["extensions"]
            else mask(t.get("to_extension")),
        }
        for t in view["transfers"]
    ]
    view.pop("recording_urls", None)
    return view


ZALO_OA_PARTY = "zalo-oa"  # who answers a call through Zalo: the OA (its agents are not named in the payload)


def _number(value: Any, most: float = 86_400_000) -> float | None:
    """A non-negative, finite amount no larger than `most` (a day in ms), or None."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= most else None


def zalo_call_events(oa_id: str, event: ZaloWebhook) -> list[CallEvent]:
    """A call through Zalo, reported once it ended (reference section 12: user_call_oa / oa_call_user with
    init_time, waiting_time in s, call_duration and talk_time in ms; status_code's meaning unknown: kept
    raw), as the canonical events of one call with channel zalo."""
    extra = event.model_extra or {}
    inbound = event.event_name == "user_call_oa"
    customer = extra.get("user_id") or event.user_id or event.phone or extra.get("phone")
    started = epoch_ms(extra.get("init_time")) or event.occurred_at
    waited = _number(extra.get("waiting_time")) or 0.0
    talk_ms = _number(extra.get("talk_time")) or 0.0
    total_ms = _number(extra.get("call_duration"))
    ended = started + timedelta(seconds=(total_ms / 1000) if total_ms is not None else waited + talk_ms / 1000)
    base: dict[str, Any] = {
        "call_id": f"zalo:{oa_id}:{extra.get('call_id') or event.timestamp}",
        "channel": "zalo",
        "direction": "inbound" if inbound else "outbound",
        "from": str(customer) if inbound and customer else (None if inbound else oa_id),
        "to": oa_id if inbound else (str(customer) if customer else None),
    }
    party = ZALO_OA_PARTY if inbound else (str(customer) if customer else ZALO_OA_PARTY)
    leg = {"leg_id": "zalo", "party": party}
    events = [CallEvent.model_validate({**base, **leg, "event": "ringing", "occurred_at": started})]
    if talk_ms > 0:
        events.append(
            CallEvent.model_validate(
                {**base, **leg, "event": "answered", "occurred_at": started + timedelta(seconds=waited)}
            )
        )
    # status_code's meaning is unknown (it stays in the stored webhook): the fold decides why it ended.
    events.append(
        CallEvent.model_validate(
            {
                **base,
                "event": "ended",
                "occurred_at": ended,
                "talk_s": talk_ms / 1000 if talk_ms else None,
                "duration_s": (total_ms / 1000) if total_ms is not None else None,
            }
        )
    )
    return events


def looks_internal(number: str, max_digits: int) -> bool:
    """Short enough for no public phone number: a PBX user (or a SIP name with letters)."""
    return len(re.sub(r"\D", "", number)) <= max_digits


class Calls:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        publisher: Publisher,
        finalize_grace_s: float,
        extension_max_digits: int,
        missed_calls: MissedCalls,
    ) -> None:
        self.extension_max_digits = extension_max_digits
        self._missed_calls = missed_calls  # finalizing opens follow-ups and calls them back
        self._store = store
        self._calls = store.calls
        self._clock = clock
        self._publisher = publisher
        self.finalize_grace_s = finalize_grace_s

    # -- ingest -----------------------------------------------------------------------------------

    async def apply(self, company_id: str, events: list[CallEvent]) -> list[str]:
        """Fold every event into its call; returns the ids of the calls touched."""
        touched = []
        for place, event in enumerate(events):
            touched.append(await self._apply(company_id, event, f"call:{place}"))
        return list(dict.fromkeys(touched))

    async def _placed(self, company_id: str, event: CallEvent) -> CallEvent:
        """The event with its endpoint placed: one of the company's extensions, or an outside party (a
        customer's or a forwarded number), which is never an extension, never in extension.state."""
        number = event.extension
        if not number or event.internal or looks_internal(number, self.extension_max_digits):
            return event
        if await self._store.extensions.find_one({"company_id": company_id, "number": number}, {"_id": 1}):
            return event
        return event.model_copy(update={"extension": None, "party": number})

    async def forget_outside_numbers(self) -> int:
        """Outside numbers an earlier version stored as extension states (start-up): not extensions."""
        removed = 0
        async for doc in self._store.extension_states.find({}, {"company_id": 1, "extension": 1}):
            if looks_internal(doc["extension"], self.extension_max_digits):
                continue
            if not await self._store.extensions.find_one({"company_id": doc["company_id"], "number": doc["extension"]}):
                removed += (await self._store.extension_states.delete_one({"_id": doc["_id"]})).deleted_count
        return removed

    async def _apply(self, company_id: str, event: CallEvent, step_name: str) -> str:
        """Fold one event, as step `step_name` of the current change (hub.changes)."""
        step = changes.step(step_name)
        event = await self._placed(company_id, event)
        for _attempt in range(20):
            doc = await self._calls.find_one({"company_id": company_id, "call_id": event.call_id})
            event = await self._holder(company_id, event, doc)
            if doc is None:
                record = call_model.new_record(company_id, event.call_id)
                record["_id"] = new_id()
                after = self._stamp(None, call_model.fold(record, event), step)
                try:
                    await self._calls.insert_one(after)
                except DuplicateKeyError:
                    continue  # created concurrently: fold into that one
                await faults.point("calls.folded")
                await self._effects(None, after)
                return after["_id"]
            if changes.done(doc, step_name):  # a re-do: the first attempt folded it; publish what is missing
                await self._effects(doc, doc)
                return doc["_id"]
            after = call_model.fold(doc, event)
            if _same(doc, after):
                return doc["_id"]  # a duplicate, or a fact already known
            after = self._stamp(doc, after, step)
            result = await self._calls.replace_one({"_id": doc["_id"], "version": doc["version"]}, after)
            if result.matched_count:
                await faults.point("calls.folded")
                await self._effects(doc, after)
                return doc["_id"]
        raise RuntimeError(f"call {event.call_id} kept changing under concurrent events")

    def _stamp(self, before: dict[str, Any] | None, after: dict[str, Any], step: str | None) -> dict[str, Any]:
        after["version"] = (before["version"] if before else 0) + 1
        after["from_e164"], after["to_e164"] = e164(after.get("from_number")), e164(after.get("to_number"))
        if step:
            after["applied"] = [*(after.get("applied") or []), step][-changes.APPLIED_KEPT :]
        if after["state"] == "ended" and after.get("ended_seen_at") is None:
            after["ended_seen_at"] = self._clock.now()
        return after

    async def _audience(self, doc: dict[str, Any]) -> Audience:
        """Owners and managers, and the members the call rang (as they were when it rang; a record made
        before members were kept falls back to who holds its extensions now)."""
        members: list[str] = list(doc.get("members") or [])
        if "members" not in doc and doc["extensions"]:
            cursor = self._store.extensions.find(
                {"company_id": doc["company_id"], "number": {"$in": doc["extensions"]}, "member_id": {"$ne": None}},
                {"member_id": 1},
            )
            members = [e["member_id"] async for e in cursor]
        return rulebook.supervisors(members)

    async def _effects(self, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        company_id = after["company_id"]
        # the members' view and the wallboards' masked view: one seq reservation, one insert
        await self._publisher.publish_many(
            company_id,
            [
                ("call.updated", record_view(after).model_dump(mode="json"), await self._audience(after)),
                ("call.updated", wallboard_view(after), rulebook.wall_displays()),
            ],
        )
        touched = set(after["extensions"]) | set(before["extensions"] if before else [])
        if touched:
            await self._extension_states(company_id, touched)

    async def _extension_states(self, company_id: str, extensions: set[str]) -> None:
        live = [
            doc
            async for doc in self._calls.find(
                {
                    "company_id": company_id,
                    "state": {"$in": list(LIVE_STATES)},
                    "extensions": {"$in": sorted(extensions)},
                }
            )
        ]
        states = call_model.extension_states(live)
        known = {
            doc["extension"]: doc["state"]
            async for doc in self._store.extension_states.find(
                {"company_id": company_id, "extension": {"$in": sorted(extensions)}}
            )
        }
        now = self._clock.now()
        for extension in sorted(extensions):
            state = states.get(extension, "idle")
            if known.get(extension) == state:
                continue  # most call events leave an extension where it was: no write at all
            if await self._move_extension(company_id, extension, state, now, first_seen=extension not in known):
                holder = await self._store.extensions.find_one({"company_id": company_id, "number": extension})
                members = [holder["member_id"]] if holder and holder.get("member_id") else []
                data = {"extension": extension, "state": state, "since": now.isoformat()}
                await self._publisher.publish(
                    company_id, "extension.state", data, rulebook.supervisors(members, wallboards=True)
                )

    async def _move_extension(
        self, company_id: str, extension: str, state: str, now: datetime, first_seen: bool
    ) -> bool:
        """Put an extension in `state`; True when that changed it (conditional, so racing processes publish once).
        An extension seen for the first time starts in its state, which counts as a change unless idle."""
        key = {"company_id": company_id, "extension": extension}
        if first_seen:
            try:
                await self._store.extension_states.insert_one({**key, "_id": new_id(), "state": state, "since": now})
                return state != "idle"
            except DuplicateKeyError:  # created meanwhile by another event: move it like any other
                pass
        moved = await self._store.extension_states.update_one(
            {**key, "state": {"$ne": state}}, {"$set": {"state": state, "since": now}}
        )
        return moved.modified_count > 0

    # -- finalizing: the missed-call rule, once per call --------------------------------------------

    async def settings_of(self, company_id: str) -> CompanySettings:
        company = await self._store.companies.find_one({"_id": company_id}, {"settings": 1})
        return CompanySettings.model_validate((company or {}).get("settings") or {})

    async def finalize_due(self, limit: int = 200) -> int:
        now = self._clock.now()
        due = now - timedelta(seconds=self.finalize_grace_s)
        done = 0
        cursor = self._calls.find({"state": "ended", "finalized": False, "ended_seen_at": {"$lte": due}}).limit(limit)
        async for doc in cursor:
            settings = await self.settings_of(doc["company_id"])
            verdict = call_model.classify(doc, settings.short_abandon_s)
            key = f"finalize:{doc['_id']}"
            result = await self._calls.update_one(
                {"_id": doc["_id"], "finalized": False},
                changes.mark_pending({"$set": {"finalized": True, **verdict}, "$inc": {"version": 1}}, key, now),
            )
            if not result.modified_count:
                continue  # another process finalized it
            done += 1
            after = await self._calls.find_one({"_id": doc["_id"]})
            assert after is not None
            await changes.finish(self._calls, after, key, False, functools.partial(self._finalized, doc))
        return done

    async def _finalized(self, before: dict[str, Any], after: dict[str, Any]) -> None:
        """The final call.updated; for a missed call, its one call.missed and its follow-up opened; for an
        outbound call that reached someone, the missed calls of that number it calls back."""
        await self._effects(before, after)
        if after.get("missed"):
            # the follow-up first: a console that has the alert has the list's row too
            await self._missed_calls.opened(after)
            await self._publisher.publish(
                after["company_id"], "call.missed", call_model.missed_alert(after), await self._audience(after)
            )
        await self._missed_calls.called_back(after)

    async def finish_pending(self, before: datetime) -> int:
        """Publish what finalizing left unpublished (the scheduler's next passes)."""
        return await changes.finish_pending(self._calls, before, lambda doc: self._finalized(doc, doc))

    # -- console reads ----------------------------------------------------------------------------

    async def _visible_filter(self, actor: Principal) -> dict[str, Any]:
        """Supervisors: every call. A user: the calls that rang them, even after their extension moved on,
        never a previous holder's (records from before members were kept: by their extension now)."""
        if rulebook.may(actor.role, rulebook.Action.all_calls):
            return {"company_id": actor.company_id}
        mine = await self._store.extensions.find_one({"company_id": actor.company_id, "member_id": actor.member_id})
        return {
            "company_id": actor.company_id,
            "$or": [
                {"members": actor.member_id},
                {"members": {"$exists": False}, "extensions": mine["number"] if mine else {"$in": []}},
            ],
        }

    async def _holder(self, company_id: str, event: CallEvent, doc: dict[str, Any] | None) -> CallEvent:
        """The event with the member (and their department) who holds its extension now, the first time
        its leg is seen: the call keeps them whoever holds the extension later."""
        if not event.extension:
            return event
        key = event.leg_id or event.extension
        if doc is not None and any(leg["leg_id"] == key and leg.get("member_id") for leg in doc["legs"]):
            return event
        held = await self._store.extensions.find_one(
            {"company_id": company_id, "number": event.extension}, {"member_id": 1}
        )
        if not held or not held.get("member_id"):
            return event
        member = await self._store.members.find_one({"_id": held["member_id"]}, {"department_id": 1})
        return event.model_copy(
            update={"member_id": held["member_id"], "department_id": (member or {}).get("department_id")}
        )

    async def _matching(self, actor: Principal, wanted: CallFilter) -> dict[str, Any]:
        """The query for the calls the actor may see that match the history's filters."""
        query = await self._visible_filter(actor)
        if bounds := time_range(wanted.start, wanted.end):
            query["started_at"] = bounds
        if wanted.status:
            query["outcome"] = wanted.status
        if wanted.direction:
            query["direction"] = wanted.direction
        if wanted.hotline:
            query["hotline"] = wanted.hotline
        conditions: list[dict[str, Any]] = []
        if wanted.phone:  # the caller's or the callee's number, in any of its forms
            normal = e164(wanted.phone)
            conditions.append({"$or": [{"from_e164": normal}, {"to_e164": normal}]} if normal else {"_id": {"$in": []}})
        if wanted.extension:
            conditions.append({"extensions": wanted.extension})
        if department := wanted.department:  # of whom it rang, then (older records: their extensions' members now)
            members = [
                m["_id"]
                async for m in self._store.members.find(
                    {"company_id": actor.company_id, "department_id": department}, {"_id": 1}
                )
            ]
            numbers = [
                e["number"]
                async for e in self._store.extensions.find(
                    {"company_id": actor.company_id, "member_id": {"$in": members}}, {"number": 1}
                )
            ]
            conditions.append(
                {
                    "$or": [
                        {"departments": department},
                        {"departments": {"$exists": False}, "extensions": {"$in": numbers}},
                    ]
                }
            )
        if conditions:
            query["$and"] = conditions
        return query

    async def history(
        self, actor: Principal, wanted: CallFilter, before: str | None = None, limit: int = 100
    ) -> CallList:
        """Newest first (started_at, then id: a stable order however many calls share a second). `before`
        is the id of the last call of the previous page (its `next_before`), looked up among the calls the
        actor may see."""
        if not 1 <= limit <= 500:
            raise Unprocessable("limit is 1 to 500", "invalid_query")
        query = await self._matching(actor, wanted)
        if before:
            last = await self._calls.find_one({**await self._visible_filter(actor), "_id": before}, {"started_at": 1})
            if last is None:
                raise Unprocessable("before: no such call", "invalid_query")
            query.setdefault("$and", []).append(_older_than(last.get("started_at"), before))
        cursor = self._calls.find(query).sort(HISTORY_ORDER).limit(limit + 1)
        docs = [doc async for doc in cursor]
        more = len(docs) > limit
        docs = docs[:limit]
        return CallList(calls=[row_view(d) for d in docs], next_before=docs[-1]["_id"] if more and docs else None)

    async def each(self, actor: Principal, wanted: CallFilter, batch: int = 500) -> AsyncIterator[CallRecord]:
        """Every call of the history's filter, in its order, read `batch` at a time by the same cursor as
        its pages: an export of any size holds one batch."""
        query = await self._matching(actor, wanted)
        after: dict[str, Any] | None = None
        while True:
            page = {**query, "$and": [*query.get("$and", []), after]} if after else query
            docs = [doc async for doc in self._calls.find(page).sort(HISTORY_ORDER).limit(batch)]
            for doc in docs:
                yield record_view(doc)
            if len(docs) < batch:
                return
            after = _older_than(docs[-1].get("started_at"), docs[-1]["_id"])

    async def live(self, actor: Principal) -> list[CallRow]:
        query = {**await self._visible_filter(actor), "state": {"$in": list(LIVE_STATES)}}
        return [row_view(doc) async for doc in self._calls.find(query).sort("started_at", 1)]

    async def get(self, actor: Principal, call_id: str) -> CallRow:
        doc = await self._calls.find_one({**await self._visible_filter(actor), "_id": call_id})
        if doc is None:
            raise NotFound("no such call", "call_not_found")
        return row_view(doc)

    async def stats(self, actor: Principal, start: datetime, end: datetime) -> dict[str, Any]:
        """The product's call figures: totals and, per member (as the calls found them) and per extension,
        calls, answered, missed, failed, talk time; one aggregation (hub.dashboard.CALL_GROUPS). A user's
        figures are their own row only."""
        query = {**await self._visible_filter(actor), "started_at": {"$gte": start, "$lt": end}}
        supervisor = rulebook.may(actor.role, rulebook.Action.all_calls)
        mine = (
            None
            if supervisor
            else await self._store.extensions.find_one(
                {"company_id": actor.company_id, "member_id": actor.member_id}, {"number": 1}
            )
        )
        known = (
            [e["number"] async for e in self._store.extensions.find({"company_id": actor.company_id}, {"number": 1})]
            if supervisor
            else ([mine["number"]] if mine else [])
        )
        pipeline = [
            {"$match": query},
            {
                "$facet": {
                    "totals": [
                        {
                            "$group": {
                                "_id": None,
                                "calls": {"$sum": 1},
                                "duration_s": {"$sum": {"$ifNull": ["$duration_s", 0]}},
                            }
                        }
                    ],
                    "groups": CALL_GROUPS,
                }
            },
        ]
        facets = [doc async for doc in await self._calls.aggregate(pipeline)][0]
        totals = facets["totals"][0] if facets["totals"] else {"calls": 0, "duration_s": 0}

        def rows(key: str, named: str, always: list[str]) -> list[dict[str, Any]]:
            found = call_rows(facets["groups"], key, None if supervisor else set(always))
            per = {name: {"calls": 0, "answered": 0, "missed": 0, "failed": 0, "talk_s": 0.0} for name in always}
            per.update(found)
            return [
                {
                    named: name,
                    **{k: v for k, v in row.items() if k != "talk_s"},
                    "duration_s": round(float(row["talk_s"]), 3),
                }
                for name, row in sorted(per.items())
            ]

        per_extension = rows("extensions", "extension", known)
        return {
            "from": start,
            "to": end,
            "total_extensions": len(per_extension),
            "total_calls": totals["calls"],
            "total_duration_s": round(float(totals["duration_s"]), 3),
            "per_member": rows("members", "member_id", [] if supervisor else [actor.member_id]),
            "per_extension": per_extension,
        }


def _older_than(started_at: datetime | None, call_id: str) -> dict[str, Any]:
    """The calls after this one in HISTORY_ORDER (a call with no start time sorts last, as MongoDB puts
    null below every date)."""
    if started_at is None:
        return {"started_at": None, "_id": {"$lt": call_id}}
    return {
        "$or": [
            {"started_at": {"$lt": started_at}},
            {"started_at": started_at, "_id": {"$lt": call_id}},
            {"started_at": None},
        ]
    }


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    return {k: v for k, v in before.items() if k not in _VOLATILE} == {
        k: v for k, v in after.items() if k not in _VOLATILE
    }


def today_start(now: datetime, timezone_name: str) -> datetime:
    """Midnight of `now`'s day in the company's time zone, as a UTC-aware datetime."""
    local = now.astimezone(ZoneInfo(timezone_name))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)
