"""The inbox: every stored Zalo and PBX delivery, and every REST request that publishes, is applied
until it is marked applied.

A webhook is stored first (the durable write the sender's 200 waits for), then applied as one
change (hub.changes) keyed by the entry's id, and marked `applied_at` last. A redelivery of an
entry without the mark applies it again, and so does the sweeper for an entry left unmarked for
`inbox_redo_after_s` (a PBX may never retry; Zalo may give up). Re-applying publishes only the
events that are missing and repeats no counter, so an entry is applied exactly once in effect.
That makes a lost mark harmless (the entry is re-done, to no effect), so webhook entries are marked
in batches (`AppliedMarks`: one write per `MARK_BATCH_S` for every entry applied meanwhile) rather
than one write each, after the answer; a REST request's mark is written before its answer, as a
retry with the same Idempotency-Key must find it.

A REST request that publishes is journaled the same way (collection `requests`): its route,
parameters, body and the member it spoke for, keyed by the caller's `Idempotency-Key` (scoped to
the member) or by a fresh id. When it fails half-way (503), the caller's retry with the same key
or the sweeper re-runs the handler as a re-do of the same change. Handlers are written to be
re-done: they look for what their change already did (hub.changes.done) before refusing or
skipping, and never call Zalo twice for one change.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError, PyMongoError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hub import changes, faults
from hub.auth import Principal
from hub.calls import Calls, zalo_call_events
from hub.chat import ChatIngest
from hub.clock import Clock
from hub.consents import Consents
from hub.directory import Directory
from hub.errors import HubError, Unprocessable
from hub.followers import Followers
from hub.journeys import Journeys
from hub.oa_links import OaLinks
from hub.store import Store
from hub.zns import Zns
from schemas.calls import CallEvent
from schemas.directory import Role
from schemas.zalo import EventKind, ZaloWebhook, classify

log = logging.getLogger(__name__)

LEASE_S = 60.0  # one process re-applies an entry at a time; a lease outlives a slow attempt
SWEEP_BATCH = 100
MAX_ATTEMPTS = 10  # an entry that keeps failing (a bug, not an outage) is given up and logged
MARK_BATCH_S = 0.05  # webhook entries applied within this long are marked applied in one write

Endpoint = Callable[[Request], Awaitable[Response]]


class AppliedMarks:
    """`applied_at` for webhook entries, written for all entries of a collection applied within
    MARK_BATCH_S in one update. A mark that never gets written (the process died, storage failed)
    only makes the sweeper re-do its entry, which changes nothing."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._pending: dict[str, tuple[AsyncCollection, list[Any]]] = {}
        self._flushing: asyncio.Task | None = None
        self._writing: list[tuple[str, set[Any]]] = []  # marks being written now

    def add(self, collection: AsyncCollection, entry_id: Any) -> None:
        self._pending.setdefault(collection.name, (collection, []))[1].append(entry_id)
        if self._flushing is None or self._flushing.done():
            # No part of the change that asked: a failed flush must not fail it.
            self._flushing = asyncio.create_task(self._flush_soon(), context=contextvars.Context())

    def holds(self, collection: AsyncCollection, entry_id: Any) -> bool:
        """Was this entry applied here, its mark not yet written?"""
        return entry_id in self._pending.get(collection.name, (collection, []))[1] or any(
            entry_id in ids for name, ids in self._writing if name == collection.name
        )

    async def _flush_soon(self) -> None:
        # Marks added while a batch is being written go with the next one, without waiting for another add.
        while self._pending:
            await asyncio.sleep(MARK_BATCH_S)
            await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for collection, ids in pending.values():
            writing = (collection.name, set(ids))
            self._writing.append(writing)
            try:
                await collection.update_many(
                    {"_id": {"$in": ids}, "applied_at": None}, {"$set": {"applied_at": self._clock.now()}}
                )
            except PyMongoError:
                log.warning(
                    "could not mark %s applied inbox entries; the sweeper re-does them, to no effect",
                    len(ids),
                    exc_info=True,
                )
            finally:
                self._writing.remove(writing)

    async def close(self) -> None:
        if self._flushing is not None and not self._flushing.done():
            self._flushing.cancel()
        await self.flush()


class Inbox:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        chat: ChatIngest,
        consents: Consents,
        zns: Zns,
        calls: Calls,
        links: OaLinks,
        directory: Directory,
        redo_after_s: float,
    ) -> None:
        self._directory = directory
        self._store = store
        self._clock = clock
        self._chat = chat
        self._consents = consents
        self._zns = zns
        self._calls = calls
        self._links = links
        self.redo_after_s = redo_after_s
        self.marks = AppliedMarks(clock)
        # Set by the serving app (hub.app): what re-runs a journaled REST request.
        self._app: Any = None
        self._endpoints: dict[str, Endpoint] = {}
        self.followers: Followers | None = None  # set at assembly (hub.runtime)
        self.journeys: Journeys | None = None  # set at assembly (hub.runtime)

    def serve_requests(self, app: Any, endpoints: dict[str, Endpoint]) -> None:
        self._app = app
        self._endpoints = endpoints

    # -- receiving ----------------------------------------------------------------------------------

    async def receive_zalo(self, entry: dict[str, Any], event: ZaloWebhook | None, link: dict[str, Any]) -> str:
        """Store and apply a Zalo delivery. Returns the outcome the webhook answers with."""
        kind = classify(event) if event else None
        entry["kind"] = kind.value if kind else None
        if event is None or kind is None or link["status"] != "active":
            entry["applied_at"] = entry["received_at"]  # nothing to apply: kept raw
        stored, redo = await self._store_entry(self._store.zalo_events, entry)
        if redo and self.marks.holds(self._store.zalo_events, stored["_id"]):
            return "duplicate"  # applied here a moment ago; its mark is on its way
        if stored.get("applied_at") is not None:
            if redo:
                return "duplicate"
            if event is None or kind is None:
                log.info(
                    "Zalo event kept raw", extra={"event_name": entry.get("event_name"), "event_key": entry["_id"]}
                )
                return "stored_raw"
            return "link_disconnected"
        assert event is not None and kind is not None  # else the entry was stored as applied
        await self._run(self._store.zalo_events, stored, redo, lambda: self._apply_zalo(link, event, kind))
        if redo:
            return "completed"
        return "accepted" if kind is not EventKind.other else "stored"

    async def receive_pbx(self, entry: dict[str, Any], events: list[CallEvent]) -> tuple[str, list[str]]:
        # What the format's parser made of the body, so a re-do needs no parser (the body stays in `raw`).
        entry["events"] = [
            event.model_dump(mode="json", by_alias=True, include=set(CallEvent.model_fields)) for event in events
        ]
        stored, redo = await self._store_entry(self._store.call_events, entry)
        if stored.get("applied_at") is not None or (redo and self.marks.holds(self._store.call_events, stored["_id"])):
            return "duplicate", []
        calls = await self._run(
            self._store.call_events, stored, redo, lambda: self._calls.apply(stored["company_id"], events)
        )
        return ("completed" if redo else "accepted"), calls

    async def receive_request(
        self, request: Request, route: str, endpoint: Endpoint, actor: Principal, raw: bytes
    ) -> Response:
        """Journal a REST request that publishes, then run it as a change (see the module's doc)."""
        given = request.headers.get("idempotency-key", "")[:200]
        key = f"rest:{actor.member_id}:{given}" if given else f"rest:{uuid.uuid4().hex}"
        entry = {
            "_id": key,
            "company_id": actor.company_id,
            "route": route,
            "path": request.url.path,
            "path_params": dict(request.path_params),
            "query_string": request.scope.get("query_string", b""),
            "body": _without_secrets(raw),
            "principal": {
                "member_id": actor.member_id,
                "company_id": actor.company_id,
                "role": actor.role.value,
                "kind": actor.kind,
            },
            "received_at": self._clock.now(),
        }
        stored, redo = await self._store_entry(self._store.requests, entry)
        if redo and stored.get("route") != route:
            raise Unprocessable("this Idempotency-Key was used for another request", "idempotency_key_reused")
        if stored.get("applied_at") is not None:
            # Done before: running it again could undo what happened since (say, a later extension).
            return JSONResponse({"ok": True, "outcome": "already_applied", "idempotency_key": given}, status_code=200)
        replay = Request(request.scope, receive=_body_once(raw))
        return await self._run(self._store.requests, stored, redo, lambda: endpoint(replay))

    async def _store_entry(self, collection: AsyncCollection, entry: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The entry as stored, and whether it was stored before (a redelivery)."""
        entry.setdefault("applied_at", None)
        try:
            await collection.insert_one(entry)
            return entry, False
        except DuplicateKeyError:
            stored = await collection.find_one({"_id": entry["_id"]}, {"payload": 0, "raw": 0, "events": 0})
            return stored or entry, True

    async def _run(
        self, collection: AsyncCollection, entry: dict[str, Any], redo: bool, apply: Callable[[], Awaitable[Any]]
    ) -> Any:
        with changes.change(entry["_id"], redo=redo):
            try:
                result = await apply()
            except HubError as exc:
                if exc.status >= 500:
                    raise
                # Refused (4xx): nothing of it is left to finish, and a refused request leaves no trace.
                if collection.name == "requests":
                    await collection.delete_one({"_id": entry["_id"]})
                else:
                    await collection.update_one({"_id": entry["_id"]}, {"$set": {"applied_at": self._clock.now()}})
                raise
        await faults.point("inbox.applied")
        if collection.name == "requests":
            await collection.update_one({"_id": entry["_id"]}, {"$set": {"applied_at": self._clock.now()}})
        else:
            self.marks.add(collection, entry["_id"])
        return result

    async def _apply_zalo(self, link: dict[str, Any], event: ZaloWebhook, kind: EventKind) -> None:
        handler = {
            EventKind.consent_sent: self._consents.on_sent,
            EventKind.consent_reply: self._consents.on_reply,
            EventKind.zns_receipt: self._zns.on_delivered,
            EventKind.zns_feedback: self._zns.on_feedback,
            EventKind.zns_template: self._zns.on_template_status,
            EventKind.oa_daily_quota: self._links.on_daily_quota,
            EventKind.template_quality: self._links.on_template_quality,
        }.get(kind)
        if kind is EventKind.zalo_call:
            await self._calls.apply(link["company_id"], zalo_call_events(link["oa_id"], event))
        elif handler is not None:
            await handler(link, event)
        elif kind is EventKind.journey:
            if self.journeys is not None:
                await self.journeys.on_webhook(link, event)
        else:
            await self._chat.apply(link, event, kind)
        if kind is EventKind.template_quality:  # the OA link keeps the lowest; the template its own
            await self._zns.on_template_quality(link, event)
        if kind in (EventKind.zalo_call, EventKind.consent_reply):
            # Answering a call or a consent request is an interaction: a new reply window (reference section 4).
            await self._chat.interaction(link, event)
        if self.followers is not None:  # the OA's followers list (one upsert, after the chat step)
            await self.followers.on_webhook(link, event, kind)

    # -- the sweeper (scheduler) ------------------------------------------------------------------

    async def prune_requests(self, before: datetime) -> int:
        """Journaled requests applied before `before` have nothing left to finish."""
        result = await self._store.requests.delete_many({"applied_at": {"$lt": before}})
        return result.deleted_count

    async def sweep(self) -> int:
        """Re-apply entries left unmarked: their first attempt failed half-way and nobody retried."""
        redone = 0
        kinds: list[tuple[AsyncCollection, Callable[[dict[str, Any]], Awaitable[Any]]]] = [
            (self._store.zalo_events, self._redo_zalo),
            (self._store.call_events, self._redo_pbx),
        ]
        if self._app is not None:
            kinds.append((self._store.requests, self._redo_request))
        for collection, apply in kinds:
            now = self._clock.now()
            stale = {
                "applied_at": None,
                "received_at": {"$lte": now - timedelta(seconds=self.redo_after_s)},
                "attempts": {"$not": {"$gte": MAX_ATTEMPTS}},
            }
            async for entry in collection.find(stale, {"_id": 1}).limit(SWEEP_BATCH):
                # update_one, not find_one_and_update: the embedded server scans a whole collection for
                # findAndModify (README, "The embedded server").
                lease = await collection.update_one(
                    {
                        "_id": entry["_id"],
                        "applied_at": None,
                        "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
                    },
                    {"$set": {"lease_until": now + timedelta(seconds=LEASE_S)}, "$inc": {"attempts": 1}},
                )
                claimed = await collection.find_one({"_id": entry["_id"]}) if lease.modified_count else None
                if claimed is None:
                    continue  # another process has it
                try:
                    await self._run(collection, claimed, True, functools.partial(apply, claimed))
                    redone += 1
                except HubError as exc:
                    log.info(
                        "a re-done entry was refused; nothing is left to finish",
                        extra={"entry": claimed["_id"], "code": exc.code},
                    )
                except Exception:
                    level = logging.ERROR if claimed.get("attempts", 0) >= MAX_ATTEMPTS else logging.WARNING
                    log.log(
                        level,
                        "re-applying an inbox entry failed (attempt %s of %s)",
                        claimed.get("attempts"),
                        MAX_ATTEMPTS,
                        exc_info=True,
                        extra={"entry": claimed["_id"]},
                    )
        await self.marks.flush()
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

    async def _redo_request(self, entry: dict[str, Any]) -> None:
        endpoint = self._endpoints.get(entry["route"])
        if endpoint is None:
            return  # a route this version no longer has
        who = entry["principal"]
        # Still a member, with the role they have now (a removed member's request is not finished for them).
        await self._directory.current(
            Principal(
                member_id=who["member_id"],
                company_id=who["company_id"],
                role=Role(who["role"]),
                kind=who.get("kind", "member"),
            )
        )
        scope = {
            "type": "http",
            "method": entry["route"].split(" ", 1)[0],
            "path": entry["path"],
            "raw_path": entry["path"].encode(),
            "root_path": "",
            "scheme": "http",
            "server": ("hub", 0),
            "query_string": entry.get("query_string") or b"",
            "headers": [],
            "app": self._app,
            "path_params": entry.get("path_params") or {},
            # The member the request was made for (no token is stored): see hub.api.routing.principal.
            "hub.principal": Principal(
                member_id=who["member_id"],
                company_id=who["company_id"],
                role=Role(who["role"]),
                kind=who.get("kind", "member"),
            ),
        }
        await endpoint(Request(scope, receive=_body_once(entry.get("body") or b"")))


SECRET_FIELDS = (
    "password",
    "current",  # POST /api/account/password
    "new",
    "current_password",
    "new_password",
    "app_secret",
    "oa_secret_key",
    "access_token",
    "refresh_token",
)


def _without_secrets(raw: bytes) -> bytes:
    """The body as journaled: never a password or a key (a re-done member creation generates a password)."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return raw
    if not isinstance(data, dict) or not any(name in data for name in SECRET_FIELDS):
        return raw
    return json.dumps({k: v for k, v in data.items() if k not in SECRET_FIELDS}).encode()


def _body_once(raw: bytes) -> Callable[[], Awaitable[dict[str, Any]]]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive
