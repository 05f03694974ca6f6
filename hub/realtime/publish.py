"""The event log and the one publish function every console-visible change goes through.

`publish(company, type, data, audience)`: the caller (domain code) decides who may receive and what
the event does to their connections (`schemas.events.Audience`); this module numbers the event,
stores it durably, then hands it to the bus. Ordering and delivery live in hub.realtime.delivery.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pydantic_core import to_jsonable_python
from pymongo import ASCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub import changes, faults, metrics
from hub.clock import Clock, iso_z
from hub.realtime.bus import Bus
from hub.realtime.sequence import Sequence
from hub.store import Store
from schemas import events
from schemas.events import Audience

log = logging.getLogger(__name__)

PROBE = 256  # seqs per bounded range query

# A bus message is the envelope plus the audience; consoles receive the envelope only.
ENVELOPE_KEYS = ("seq", "type", "company_id", "at", "data")
_PROJECTION = {"_id": 0, "seq": 1, "type": 1, "company_id": 1, "at": 1, "data": 1, "audience": 1}


def to_message(doc: dict[str, Any]) -> dict[str, Any]:
    """A stored event as it travels on the bus (JSON-safe)."""
    return {
        "seq": doc["seq"],
        "type": doc["type"],
        "company_id": doc["company_id"],
        "at": iso_z(doc["at"]),
        "data": doc["data"],
        "audience": doc["audience"],
    }


def envelope(message: dict[str, Any]) -> dict[str, Any]:
    return {key: message[key] for key in ENVELOPE_KEYS}


class EventLog:
    """Every published event, per company, in seq order; pruned after the retention period."""

    def __init__(self, store: Store) -> None:
        self._events = store.events
        self._marks = store.event_marks

    async def _top_in(self, company_id: str, first: int) -> int | None:
        """The highest seq in [first, first + PROBE) or None: a bounded index range, cheap everywhere."""
        cursor = self._events.find({"company_id": company_id, "seq": {"$gte": first, "$lt": first + PROBE}}, {"seq": 1})
        seqs = [doc["seq"] async for doc in cursor]
        return max(seqs) if seqs else None

    async def max_seq(self, company_id: str) -> int:
        """The highest seq the company ever had, pruned or not.

        Found by galloping over bounded seq ranges rather than sorting the company's whole log:
        the embedded server materialises every match of a query before its limit."""
        floor = await self.pruned_through(company_id)
        low = floor + 1
        if await self._top_in(company_id, low) is None:
            return floor
        step = PROBE
        while await self._top_in(company_id, low + step) is not None:
            low, step = low + step, step * 2
        high = low + step  # [low, low+PROBE) holds events, [high, high+PROBE) none
        while high - low > PROBE:
            middle = (low + high) // 2
            if await self._top_in(company_id, middle) is not None:
                low = middle
            else:
                high = middle
        top = await self._top_in(company_id, low)
        return max(top or 0, floor)

    async def pruned_through(self, company_id: str) -> int:
        """Every seq up to this one has been pruned: a console behind it must start over."""
        doc = await self._marks.find_one({"_id": company_id})
        return doc["pruned_through"] if doc else 0

    async def append_many(self, docs: list[dict[str, Any]]) -> None:
        """Insert all or none of a change's events: a seq collision removes what was inserted first."""
        if len(docs) == 1:
            await self._events.insert_one(docs[0])
            return
        try:
            await self._events.insert_many(docs, ordered=True)
        except BulkWriteError as exc:
            if any(error.get("code") != 11000 for error in exc.details.get("writeErrors", [])):
                raise
            inserted = exc.details.get("nInserted", 0)
            if inserted:
                await self._events.delete_many({"_id": {"$in": [d["_id"] for d in docs[:inserted]]}})
            raise DuplicateKeyError("seq already taken") from exc

    def with_keys(self, keys: list[str]) -> Any:
        return self._events.find({"key": {"$in": keys}}, {"key": 1})

    async def range(
        self, company_id: str, first: int, last: int | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """All events of a company with first <= seq (<= last), whoever they are for."""
        bounds: dict[str, int] = {"$gte": first}
        if last is not None:
            bounds["$lte"] = last
        cursor = self._events.find({"company_id": company_id, "seq": bounds}, _PROJECTION)
        return [to_message(doc) async for doc in cursor.sort("seq", ASCENDING).limit(limit)]

    async def prune(self, before: datetime, company_id: str | None = None) -> int:
        """Drop events older than `before`, first recording per company the highest seq dropped."""
        match: dict[str, Any] = {"at": {"$lt": before}}
        if company_id:
            match["company_id"] = company_id
        groups = await self._events.aggregate(
            [{"$match": match}, {"$group": {"_id": "$company_id", "top": {"$max": "$seq"}}}]
        )
        removed = 0
        async for group in groups:
            try:  # the mark document exists before it is raised (concurrent upserts can collide)
                await self._marks.insert_one({"_id": group["_id"], "pruned_through": 0})
            except DuplicateKeyError:
                pass
            await self._marks.update_one({"_id": group["_id"]}, {"$max": {"pruned_through": group["top"]}})
            result = await self._events.delete_many({"company_id": group["_id"], "seq": {"$lte": group["top"]}})
            removed += result.deleted_count
        return removed


class Publisher:
    """Numbers, stores and hands events to the bus."""

    def __init__(self, log_: EventLog, sequence: Sequence, clock: Clock, bus: Bus, validate: bool = False) -> None:
        self._log = log_
        self._sequence = sequence
        self._clock = clock
        self._bus = bus
        self._validate = validate  # against the event catalogue (the tests)

    async def publish(
        self, company_id: str, type_: str, data: dict[str, Any], audience: Audience
    ) -> dict[str, Any] | None:
        """Store the event durably, then fan it out. Returns the bus message (envelope + audience), or
        None when a re-done change had already published it."""
        messages = await self.publish_many(company_id, [(type_, data, audience)])
        return messages[0] if messages else None

    async def publish_many(
        self, company_id: str, items: list[tuple[str, dict[str, Any], Audience]]
    ) -> list[dict[str, Any]]:
        """Several events of one change: consecutive seqs, one insert, then fanned out in order.

        Inside a change (hub.changes) each event carries a deterministic key: on a re-do the events
        already in the log are left out, so a change publishes each of its events once."""
        change = changes.current()
        if self._validate:
            for type_, data, _audience in items:
                events.validate(type_, to_jsonable_python(data))
        docs = [
            {
                "company_id": company_id,
                "type": type_,
                "data": to_jsonable_python(data),  # consoles get JSON
                "audience": audience.model_dump(mode="json", exclude_defaults=True),
            }
            for type_, data, audience in items
        ]
        if change is not None:
            for doc in docs:
                doc["key"] = change.event_key(doc["type"], doc["data"])
            if change.redo:
                docs = await self._missing(docs)
        if not docs:
            return []
        reserved = False
        for _attempt in range(5):
            if not reserved:
                await faults.point("publish.before_seq")
                last = await self._sequence.next(company_id, len(docs))
                await faults.point("publish.seq_reserved")
                at = self._clock.now()
                for offset, doc in enumerate(docs):
                    doc.pop("_id", None)
                    doc["seq"], doc["at"] = last - len(docs) + 1 + offset, at
            try:
                await self._log.append_many(docs)
                break
            except DuplicateKeyError:
                taken = await self._published(docs) if change is not None else set()
                if taken:
                    # A concurrent attempt of the same change published these first: keep their seqs
                    # as placeholders nobody receives, so no console's stream waits for a hole.
                    docs = [_placeholder(doc) if doc.get("key") in taken else doc for doc in docs]
                    reserved = True
                    continue
                # The counter fell behind the log (Redis restarted, or another writer): re-floor and retry.
                log.warning("seqs up to %s of company %s already taken; re-reading the floor", last, company_id)
                await self._sequence.refloor(company_id)
                reserved = False
        else:
            raise RuntimeError(f"could not allocate seqs for company {company_id}")
        await faults.point("publish.stored")
        messages = [to_message(doc) for doc in docs]
        for message in messages:
            metrics.EVENTS_PUBLISHED.labels(type=message["type"]).inc()
        await self._bus.publish(messages)
        return messages

    async def _published(self, docs: list[dict[str, Any]]) -> set[str]:
        """The keys of these events already in the log."""
        keys = [d["key"] for d in docs if d.get("key")]
        return {doc["key"] async for doc in self._log.with_keys(keys)} if keys else set()

    async def _missing(self, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The events whose keys are not in the log yet."""
        stored = await self._published(docs)
        return [doc for doc in docs if doc["key"] not in stored]


PLACEHOLDER = "seq.skipped"


def _placeholder(doc: dict[str, Any]) -> dict[str, Any]:
    """An event that holds a seq and reaches nobody."""
    return {
        "company_id": doc["company_id"],
        "type": PLACEHOLDER,
        "data": {},
        "seq": doc["seq"],
        "at": doc["at"],
        "audience": {},
    }


def retention_cutoff(clock: Clock, retention_s: float) -> datetime:
    return clock.now() - timedelta(seconds=retention_s)
