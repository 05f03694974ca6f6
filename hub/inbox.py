"""The webhook inbox: every stored Zalo and PBX delivery is applied until it is marked applied.

A webhook is stored first (the durable write the sender's 200 waits for), then applied as one
change (hub.changes) keyed by the entry's id, and marked `applied_at` last. A redelivery of an
entry without the mark applies it again, and so does the sweeper for an entry left unmarked for
`inbox_redo_after_s` (a PBX may never retry; Zalo may give up). Re-applying publishes only the
events that are missing and repeats no counter, so an entry is applied exactly once in effect.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Awaitable, Callable

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from hub import changes, faults
from hub.calls import Calls
from hub.chat import ChatIngest
from hub.clock import Clock
from hub.consents import Consents
from hub.oa_links import OaLinks
from hub.store import Store
from hub.zns import Zns
from schemas.calls import CallEvent
from schemas.zalo import EventKind, ZaloWebhook, classify

log = logging.getLogger(__name__)

LEASE_S = 60.0  # one process re-applies an entry at a time; a lease outlives a slow attempt
SWEEP_BATCH = 100


class Inbox:
    def __init__(self, store: Store, clock: Clock, chat: ChatIngest, consents: Consents, zns: Zns, calls: Calls,
                 links: OaLinks, redo_after_s: float) -> None:
        self._store = store
        self._clock = clock
        self._chat = chat
        self._consents = consents
        self._zns = zns
        self._calls = calls
        self._links = links
        self.redo_after_s = redo_after_s

    # -- receiving ----------------------------------------------------------------------------------

    async def receive_zalo(self, entry: dict[str, Any], event: ZaloWebhook | None,
                           link: dict[str, Any]) -> str:
        """Store and apply a Zalo delivery. Returns the outcome the webhook answers with."""
        kind = classify(event) if event else None
        entry["kind"] = kind.value if kind else None
        if event is None or kind is None or link["status"] != "active":
            entry["applied_at"] = entry["received_at"]  # nothing to apply: kept raw
        stored, redo = await self._store_entry(self._store.zalo_events, entry)
        if stored.get("applied_at") is not None:
            if redo:
                return "duplicate"
            if event is None or kind is None:
                log.info("Zalo event kept raw", extra={"event_name": entry.get("event_name"), "event_key": entry["_id"]})
                return "stored_raw"
            return "link_disconnected"
        await self._run(self._store.zalo_events, stored, redo, lambda: self._apply_zalo(link, event, kind))
        if redo:
            return "completed"
        return "accepted" if kind is not EventKind.other else "stored"

    async def receive_pbx(self, entry: dict[str, Any], events: list[CallEvent]) -> tuple[str, list[str]]:
        # What the format's parser made of the body, so a re-do needs no parser (the body stays in `raw`).
        entry["events"] = [event.model_dump(mode="json", by_alias=True, include=set(CallEvent.model_fields))
                           for event in events]
        stored, redo = await self._store_entry(self._store.call_events, entry)
        if stored.get("applied_at") is not None:
            return "duplicate", []
        calls = await self._run(self._store.call_events, stored, redo,
                                lambda: self._calls.apply(stored["company_id"], events))
        return ("completed" if redo else "accepted"), calls

    async def _store_entry(self, collection: AsyncCollection, entry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The entry as stored, and whether it was stored before (a redelivery)."""
        entry.setdefault("applied_at", None)
        try:
            await collection.insert_one(entry)
            return entry, False
        except DuplicateKeyError:
            stored = await collection.find_one({"_id": entry["_id"]}, {"payload": 0, "raw": 0, "events": 0})
            return stored or entry, True

    async def _run(self, collection: AsyncCollection, entry: dict[str, Any], redo: bool,
                   apply: Callable[[], Awaitable[Any]]) -> Any:
        with changes.change(entry["_id"], redo=redo):
            result = await apply()
        await faults.point("inbox.applied")
        await collection.update_one({"_id": entry["_id"]}, {"$set": {"applied_at": self._clock.now()}})
        return result

    async def _apply_zalo(self, link: dict[str, Any], event: ZaloWebhook, kind: EventKind) -> None:
        handler = {
            EventKind.consent_sent: self._consents.on_sent,
            EventKind.consent_reply: self._consents.on_reply,
            EventKind.zns_receipt: self._zns.on_delivered,
            EventKind.zns_feedback: self._zns.on_feedback,
            EventKind.zns_template: self._zns.on_template_status,
        }.get(kind)
        if handler is not None:
            await handler(link, event)
        else:
            await self._chat.apply(link, event, kind)

    # -- the sweeper (scheduler) ------------------------------------------------------------------

    async def sweep(self) -> int:
        """Re-apply entries left unmarked: their first attempt failed half-way and nobody retried."""
        redone = 0
        for collection, apply in ((self._store.zalo_events, self._redo_zalo),
                                  (self._store.call_events, self._redo_pbx)):
            now = self._clock.now()
            stale = {"applied_at": None, "received_at": {"$lte": now - timedelta(seconds=self.redo_after_s)}}
            async for entry in collection.find(stale, {"_id": 1}).limit(SWEEP_BATCH):
                claimed = await collection.find_one_and_update(
                    {"_id": entry["_id"], "applied_at": None,
                     "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
                    {"$set": {"lease_until": now + timedelta(seconds=LEASE_S)}}, return_document=ReturnDocument.AFTER)
                if claimed is None:
                    continue  # another process has it
                try:
                    await self._run(collection, claimed, True, lambda: apply(claimed))
                    redone += 1
                except Exception:
                    log.exception("re-applying an inbox entry failed; the sweeper tries again",
                                  extra={"entry": claimed["_id"]})
        if redone:
            log.info("re-applied inbox entries", extra={"count": redone})
        return redone

    async def _redo_zalo(self, entry: dict[str, Any]) -> None:
        link = await self._links.get(entry["link_id"])
        event = ZaloWebhook.model_validate(entry["payload"])
        kind = classify(event)
        if link is None or kind is None or link["status"] != "active":
            return
        await self._apply_zalo(link, event, kind)

    async def _redo_pbx(self, entry: dict[str, Any]) -> None:
        events = [CallEvent.model_validate(event) for event in entry.get("events") or []]
        await self._calls.apply(entry["company_id"], events)
