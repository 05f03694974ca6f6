"""Threads (one Zalo conversation each) and their messages: storage, summaries, who may see them.

A thread is seen by the company's owners and by its assignee (DESIGN section 6); every thread and
message event is published to exactly that audience, computed here from the stored thread.
"""

from __future__ import annotations

import builtins
import re
from collections import OrderedDict
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from hub import changes, doc_update, reply_window, rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.changes import done, guarded, update_once
from hub.clock import Clock
from hub.errors import NotFound, Unprocessable
from hub.ids import new_id
from hub.phones import e164
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.chat import Customer, Message, ThreadSummary

MESSAGE_PAGE_MAX = 100
THREADS_REMEMBERED = 2_000  # per process: the threads chat ingest finds without a read (see `get_or_create`)
FROM_MEMORY = "_from_memory"  # marks a thread handed out from memory (never stored: updates send operators only)
TEXT_FILTER_MAX = 200  # a name, a phone number or a phrase; the escaped pattern stays far below any regex limit


audience = rulebook.thread_audience


class StaleThread(Exception):
    """A thread handed out from memory had changed meanwhile (another process, another route): nothing of
    the update was applied; read it again and do the work again (ChatIngest.apply does)."""


def summary(doc: dict[str, Any]) -> ThreadSummary:
    return ThreadSummary(
        id=doc["_id"],
        company_id=doc["company_id"],
        oa_link_id=doc["link_id"],
        oa_id=doc["oa_id"],
        user_id=doc.get("user_id"),
        anonymous=doc.get("anonymous", False),
        customer=Customer.model_validate(doc.get("customer") or {}),
        follower=doc.get("follower"),
        tags=doc.get("tags", []),
        labels=doc.get("labels", []),
        status=doc.get("status", "open"),
        assignee_id=doc.get("assignee_id"),
        unread=doc.get("unread", 0),
        last_message=doc.get("last_message"),
        last_user_interaction_at=doc.get("last_user_interaction_at"),
        reply_window=doc["reply_window"],
        version=doc.get("version", 1),
        created_at=doc["created_at"],
        department_id=doc.get("department_id"),
        queued_at=doc.get("queued_at"),
        resolved_at=doc.get("resolved_at"),
    )


def thread_event(doc: dict[str, Any]) -> dict[str, Any]:
    """A thread's summary as thread events carry it: with `thread_id` (schemas/events.py)."""
    data = summary(doc).model_dump(mode="json")
    data["thread_id"] = data["id"]
    return data


def message_view(doc: dict[str, Any]) -> Message:
    return Message(
        id=doc["_id"],
        thread_id=doc["thread_id"],
        direction=doc["direction"],
        kind=doc["kind"],
        text=doc.get("text"),
        attachments=doc.get("attachments", []),
        quote_msg_id=doc.get("quote_msg_id"),
        zalo_msg_id=doc.get("zalo_msg_id"),
        client_msg_id=doc.get("client_msg_id"),
        status=doc["status"],
        failure=doc.get("failure"),
        quota_type=doc.get("quota_type"),
        sent_by_member_id=doc.get("sent_by_member_id"),
        sent_via=doc["sent_via"],
        reactions=doc.get("reactions", {}),
        at=doc["at"],
        delivered_at=doc.get("delivered_at"),
        seen_at=doc.get("seen_at"),
    )


def _window(thread: dict[str, Any]) -> dict[str, Any]:
    window = thread["reply_window"]
    return {
        "thread_id": thread["_id"],
        "state": window["state"],
        "until": window["until"].isoformat() if window["until"] else None,
    }


def last_message(msg: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": msg["_id"],
        "direction": msg["direction"],
        "kind": msg["kind"],
        "text": (msg.get("text") or "")[:200],
        "at": msg["at"],
    }


class Threads:
    def __init__(self, store: Store, clock: Clock, publisher: Publisher) -> None:
        self._threads = store.threads
        self._messages = store.messages
        self._clock = clock
        self._publisher = publisher
        # The threads this process last wrote or read for chat ingest, as stored (LRU). One handed out from
        # here is only ever updated on the condition that it is still at its version (`update`).
        self._remembered: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()

    def _remember(self, doc: dict[str, Any]) -> None:
        place = (doc["link_id"], doc["key"])
        self._remembered[place] = doc
        self._remembered.move_to_end(place)
        if len(self._remembered) > THREADS_REMEMBERED:
            self._remembered.popitem(last=False)

    # -- storage ----------------------------------------------------------------------------------

    async def get_or_create(
        self, link: dict[str, Any], key: str, user_id: str | None, anonymous: bool = False, remembered: bool = False
    ) -> tuple[dict[str, Any], bool]:
        """The thread of (OA link, key), created when new. Returns it and whether this call created it.

        With `remembered`, a thread this process holds in memory comes without a read: chat ingest's
        common case, a customer writing again. Its update then raises StaleThread if it was not current."""
        change = current_change()
        if remembered and not (change and change.redo):
            known = self._remembered.get((link["_id"], key))
            if known is not None:
                return {**known, FROM_MEMORY: True}, False
        doc = await self._threads.find_one({"link_id": link["_id"], "key": key})
        if doc:  # created by an earlier attempt of this very change: still "created" for its events
            self._remember(doc)
            return doc, bool(change and doc.get("created_by") == change.key)
        now = self._clock.now()
        doc = {
            "_id": new_id(),
            "company_id": link["company_id"],
            "link_id": link["_id"],
            "oa_id": link["oa_id"],
            "key": key,
            "user_id": user_id,
            "anonymous": anonymous,
            "customer": {},
            "follower": None,
            "tags": [],
            "labels": [],
            "status": "open",
            "assignee_id": None,
            "unread": 0,
            "last_message": None,
            "last_message_at": None,
            "last_user_interaction_at": None,
            "reply_window": reply_window.window(None, now).as_dict(),
            "reply_window_until": None,
            "free_replies_remaining": None,
            "profile_fetched": anonymous,
            "version": 1,
            "created_at": now,
            "opened_at": now,  # since when it is open: the dashboard's resolution time
            "department_id": link.get("department_id"),
            "queued_at": None,
            "resolved_at": None,
            "created_by": change.key if change else None,
        }
        try:
            await self._threads.insert_one(doc)
            self._remember(doc_update.apply(doc, {}))  # as a read would give it
            return doc, True
        except DuplicateKeyError:  # created concurrently by another delivery
            existing = await self._threads.find_one({"link_id": link["_id"], "key": key})
            assert existing is not None
            return existing, False

    async def get(self, thread_id: str) -> dict[str, Any] | None:
        return await self._threads.find_one({"_id": thread_id})

    async def update(
        self,
        thread: dict[str, Any],
        changes: dict[str, Any],
        interaction_at: datetime | None = None,
        free_remaining: Any = ...,
        step: str = "thread",
    ) -> dict[str, Any]:
        """Apply `changes` (a MongoDB update) to a thread, bump its version and recompute its reply window,
        as step `step` of the current change (hub.changes: a re-do does not apply it twice). Returns the
        new doc; the caller publishes."""
        last = thread.get("last_user_interaction_at")
        if interaction_at is not None and (last is None or interaction_at > last):
            last = interaction_at
        remaining = thread.get("free_replies_remaining") if free_remaining is ... else free_remaining
        window = reply_window.window(last, self._clock.now(), remaining)
        update: dict[str, Any] = {key: dict(value) for key, value in changes.items()}
        update.setdefault("$inc", {})["version"] = 1
        update.setdefault("$set", {}).update({"reply_window": window.as_dict(), "reply_window_until": window.until})
        if interaction_at is not None:
            update.setdefault("$max", {})["last_user_interaction_at"] = interaction_at
        if free_remaining is not ...:
            update["$set"]["free_replies_remaining"] = free_remaining
        # The common case: nobody changed the thread since it was read. Then the update, made on that
        # condition, leaves exactly `thread` with the update applied, computed here (hub.doc_update)
        # instead of read back. Otherwise (a concurrent change, or a re-do) the update is applied
        # whatever the version and the thread read again.
        # A thread from memory that was not current had nothing applied: the caller reads it again.
        extra, guarded_update = guarded(update, step)
        thread = dict(thread)
        from_memory = thread.pop(FROM_MEMORY, False)
        try:
            expected = doc_update.apply(thread, guarded_update)
        except doc_update.Unsupported:
            expected = None
        if expected is not None:
            at_version = {"_id": thread["_id"], "version": thread.get("version"), **extra}
            if (await self._threads.update_one(at_version, guarded_update)).modified_count:
                self._remember(expected)
                return expected
        if from_memory:
            self._remembered.pop((thread["link_id"], thread["key"]), None)
            raise StaleThread(thread["_id"])
        await update_once(self._threads, {"_id": thread["_id"]}, {}, update, step)
        doc = await self._threads.find_one({"_id": thread["_id"]})
        assert doc is not None
        self._remember(doc)
        return doc

    async def publish(
        self, before: dict[str, Any] | None, after: dict[str, Any], message: dict[str, Any] | None = None
    ) -> None:
        """thread.created (no `before`) or thread.updated, reply_window.changed when the window's state
        moved, and message.created for a new message: one change, published together in that order."""
        who = audience(after)
        items = [("thread.created" if before is None else "thread.updated", thread_event(after), who)]
        old = (before or {}).get("reply_window") or {}
        if before is not None and old.get("state") != after["reply_window"]["state"]:
            items.append(("reply_window.changed", _window(after), who))
        if message is not None:
            items.append(("message.created", message_view(message).model_dump(mode="json"), who))
        await self._publisher.publish_many(after["company_id"], items)

    async def publish_window(self, thread: dict[str, Any]) -> None:
        await self._publisher.publish(thread["company_id"], "reply_window.changed", _window(thread), audience(thread))

    async def publish_message_update(
        self, thread: dict[str, Any], message: dict[str, Any], fields: dict[str, Any]
    ) -> None:
        data = {"message_id": message["_id"], "thread_id": thread["_id"], **fields}
        await self._publisher.publish(thread["company_id"], "message.updated", data, audience(thread))

    async def insert_message(self, message: dict[str, Any]) -> bool:
        """Store a message; False when it is already stored (a duplicate delivery)."""
        try:
            await self._messages.insert_one(message)
            return True
        except DuplicateKeyError:
            return False

    # -- the time-driven reply window (DESIGN section 8) ----------------------------------------

    async def expire_windows(self, limit: int = 500) -> int:
        """Move every thread whose reply window changed by time alone, and publish reply_window.changed.

        The update is conditional on the `until` that was read, so when several processes run this
        each thread moves, and its event is published, once."""
        now = self._clock.now()
        moved = 0
        cursor = self._threads.find({"reply_window_until": {"$lte": now}}).limit(limit)
        async for thread in cursor:
            window = reply_window.window(
                thread.get("last_user_interaction_at"), now, thread.get("free_replies_remaining")
            )
            key = f"window:{thread['_id']}:{thread['reply_window_until'].isoformat()}"
            result = await self._threads.update_one(
                {"_id": thread["_id"], "reply_window_until": thread["reply_window_until"]},
                changes.mark_pending(
                    {
                        "$set": {"reply_window": window.as_dict(), "reply_window_until": window.until},
                        "$inc": {"version": 1},
                    },
                    key,
                    now,
                ),
            )
            if result.modified_count:
                moved += 1
                doc = await self._threads.find_one({"_id": thread["_id"]})
                if doc:
                    await changes.finish(self._threads, doc, key, False, self.publish_window)
        return moved

    async def finish_pending(self, before: datetime) -> int:
        """Publish what a time-driven move left unpublished (the scheduler's next passes)."""
        return await changes.finish_pending(self._threads, before, self.publish_window)

    # -- console reads --------------------------------------------------------------------------

    async def visible_or_redone(self, actor: Principal, thread_id: str, step: str) -> dict[str, Any]:
        """The thread as `visible` gives it, or, when this change already did `step` to it (a re-do), the
        thread whatever the actor may see of it now (the first attempt was allowed)."""
        stored = await self._threads.find_one({"_id": thread_id, "company_id": actor.company_id})
        if done(stored, step):
            assert stored is not None
            return stored
        return await self.visible(actor, thread_id)

    async def visible(self, actor: Principal, thread_id: str) -> dict[str, Any]:
        thread = await self._threads.find_one({"_id": thread_id, "company_id": actor.company_id})
        if thread is None or not rulebook.may_see_thread(actor, thread):
            raise NotFound("no such thread", "thread_not_found")
        return thread

    @staticmethod
    def _visible_query(actor: Principal) -> dict[str, Any]:
        """The threads the actor may see, as a query (rulebook.may_see_thread)."""
        query: dict[str, Any] = {"company_id": actor.company_id}
        if not rulebook.may(actor.role, rulebook.Action.all_threads):
            query["assignee_id"] = actor.member_id
        return query

    async def of_numbers(self, actor: Principal, numbers: builtins.list[str]) -> dict[str, str]:
        """The thread of each customer number (E.164) among the threads the actor may see: one query for a
        page of calls. A number shared in several threads (two OAs) gives the one with the latest message."""
        wanted = sorted(set(numbers))
        if not wanted:
            return {}
        query = {**self._visible_query(actor), "customer.phone_e164": {"$in": wanted}}
        cursor = self._threads.find(query, {"customer.phone_e164": 1}).sort(
            [("last_message_at", DESCENDING), ("_id", DESCENDING)]
        )
        found: dict[str, str] = {}
        async for doc in cursor:
            found.setdefault(doc["customer"]["phone_e164"], doc["_id"])
        return found

    async def list(
        self,
        actor: Principal,
        oa: str | None = None,
        assignee: str | None = None,
        label: str | None = None,
        unread: bool | None = None,
        text: str | None = None,
        status: str | None = None,
        before: datetime | None = None,
        after: str | None = None,
        limit: int = 50,
        phone: str | None = None,
    ) -> list[ThreadSummary]:
        """Newest activity first; `after` (the last thread id of a page) gives the next page."""
        query = self._visible_query(actor)
        sees_all = rulebook.may(actor.role, rulebook.Action.all_threads)
        if assignee is not None:
            if not sees_all and assignee != actor.member_id:
                return []
            query["assignee_id"] = None if assignee == "none" else assignee
        if oa:
            query["$or"] = [{"link_id": oa}, {"oa_id": oa}]
        if label:
            query["labels"] = label  # a label id
        if unread is True:
            query["unread"] = {"$gt": 0}
        elif unread is False:
            query["unread"] = 0
        if status:
            query["status"] = status
        if phone:  # the customer's shared number, in any form; no number at all matches nothing
            query["customer.phone_e164"] = e164(phone) or {"$in": []}
        if text:
            if len(text) > TEXT_FILTER_MAX:
                raise Unprocessable(
                    f"text: at most {TEXT_FILTER_MAX} characters",
                    "text_too_long",
                    details={"field": "text", "max_length": TEXT_FILTER_MAX},
                )
            pattern = {"$regex": re.escape(text), "$options": "i"}
            matches: builtins.list[dict[str, Any]] = [
                {"customer.name": pattern},
                {"customer.phone": pattern},
                {"last_message.text": pattern},
            ]
            if phone := e164(text):  # 0912…, 84912… and +84912… find the same customer
                matches.append({"customer.phone_e164": phone})
            query.setdefault("$and", []).append({"$or": matches})
        if before is not None:
            query["last_message_at"] = {"$lt": before}
        if after:
            # The order is (last_message_at desc, _id desc), with threads that have no message yet last.
            anchor = await self.visible(actor, after)
            at = anchor.get("last_message_at")
            later = [{"last_message_at": at, "_id": {"$lt": anchor["_id"]}}]
            if at is not None:
                later += [{"last_message_at": {"$lt": at}}, {"last_message_at": None}]
            query.setdefault("$and", []).append({"$or": later})
        cursor = self._threads.find(query).sort([("last_message_at", DESCENDING), ("_id", DESCENDING)])
        return [summary(doc) async for doc in cursor.limit(max(1, min(limit, 200)))]

    async def each(self, actor: Principal, batch: int = 200, **filters: Any) -> AsyncIterator[ThreadSummary]:
        """Every thread `list` gives with these filters, in its order, a page of `batch` at a time (an export
        of any size holds one page). The first page is read here, so a refused filter is refused before an
        export's answer starts."""
        first = await self.list(actor, **filters, limit=batch)

        async def pages() -> AsyncIterator[ThreadSummary]:
            page = first
            while True:
                for thread in page:
                    yield thread
                if len(page) < batch:
                    return
                page = await self.list(actor, **filters, after=page[-1].id, limit=batch)

        return pages()

    async def messages_page(
        self, actor: Principal, thread_id: str, before: str | None, limit: int
    ) -> tuple[builtins.list[Message], str | None]:
        """Newest first; `before` is a message id from an earlier page."""
        thread = await self.visible(actor, thread_id)
        query: dict[str, Any] = {"thread_id": thread["_id"]}
        if before:
            anchor = await self._messages.find_one({"_id": before, "thread_id": thread["_id"]})
            if anchor is None:
                raise NotFound("no such message in this thread", "message_not_found")
            query["$or"] = [{"at": {"$lt": anchor["at"]}}, {"at": anchor["at"], "_id": {"$lt": anchor["_id"]}}]
        limit = max(1, min(limit, MESSAGE_PAGE_MAX))
        cursor = self._messages.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
        docs = [doc async for doc in cursor]
        more = len(docs) > limit
        docs = docs[:limit]
        return [message_view(d) for d in docs], (docs[-1]["_id"] if more and docs else None)

    async def mark_read(self, actor: Principal, thread_id: str) -> ThreadSummary:
        """Unread counts are the assignee's: the owner looking into someone else's thread changes nothing."""
        thread = await self.visible_or_redone(actor, thread_id, "thread")
        reader_is_owner_of_count = thread.get("assignee_id") == actor.member_id or (
            thread.get("assignee_id") is None and rulebook.may(actor.role, rulebook.Action.all_threads)
        )
        if done(thread, "thread"):  # a re-do: publish what the first attempt may not have
            await self.publish(thread, thread)
            return summary(thread)
        if thread.get("unread", 0) == 0 or not reader_is_owner_of_count:
            return summary(thread)
        after = await self.update(thread, {"$set": {"unread": 0}})
        await self.publish(thread, after)
        return summary(after)
