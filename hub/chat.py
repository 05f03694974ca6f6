"""Zalo chat events applied to threads and messages (the domain step of the Zalo ingest pipeline).

Each handler is idempotent on its own: a message is stored once (unique per OA and msg_id), and
whoever stores it publishes its events; status changes publish only when they changed something.
So a webhook delivered twice, or twice at once, yields one message and one event.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

from clients.zalo import ZaloError
from hub import faults
from hub.assignment import Assignment
from hub.changes import current as current_change
from hub.changes import done, step, update_once
from hub.clock import Clock
from hub.ids import new_id
from hub.oa_links import OaLinks
from hub.phones import e164
from hub.store import Store
from hub.threads import StaleThread, Threads, last_message
from schemas.zalo import STATUS_RANK, EventKind, MessageStatus, ZaloWebhook, message_kind

log = logging.getLogger(__name__)

Spawn = Callable[[Coroutine[Any, Any, None]], None]
PROFILE_RETRY_S = 300
PROFILE_TRIES_KEPT = 10_000  # failed profile fetches remembered (to wait PROFILE_RETRY_S before the next try)


def _address(info: dict[str, Any]) -> str | None:
    """user_submit_info addresses come in two shapes (reference section 2); make one line of either."""
    full = info.get("full_address")
    if isinstance(full, dict):
        parts = [full.get("user_address"), full.get("user_ward"), full.get("user_city")]
    else:
        parts = [info.get("address"), info.get("ward"), info.get("district"), info.get("city")]
    line = ", ".join(str(p) for p in parts if p)
    return line or None


def _business_card_phone(attachments: list[dict[str, Any]]) -> str | None:
    for attachment in attachments:
        description = (attachment.get("payload") or {}).get("description")
        if isinstance(description, str):
            try:
                phone = json.loads(description).get("phone")
            except (ValueError, AttributeError):
                continue
            if phone:
                return str(phone)
    return None


class ChatIngest:
    def __init__(
        self, store: Store, clock: Clock, threads: Threads, links: OaLinks, assignment: Assignment, spawn: Spawn
    ) -> None:
        self._messages = store.messages
        self._assignment = assignment
        self._threads_coll = store.threads
        self._clock = clock
        self.threads = threads
        self._links = links
        self._spawn = spawn
        self._profile_tried: dict[str, float] = {}
        # A lock per customer while one of their events is applied; gone when nobody holds or awaits it.
        self._serial: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def apply(self, link: dict[str, Any], event: ZaloWebhook, kind: EventKind) -> None:
        handler = {
            EventKind.user_message: self._inbound,
            EventKind.anonymous_message: self._inbound,
            EventKind.oa_echo: self._echo,
            EventKind.oa_anonymous_echo: self._echo,
            EventKind.chat_now: self._chat_now,
            EventKind.received: self._received,
            EventKind.seen: self._seen,
            EventKind.reaction: self._reaction,
            EventKind.follow: self._follow,
            EventKind.unfollow: self._follow,
            EventKind.submit_info: self._submit_info,
            EventKind.tag: self._tag,
        }.get(kind)
        if handler is None:
            return
        # One change at a time per customer in this process: a burst of messages from one customer then
        # meets no conflicting update here (the thread in memory stays current), only across processes.
        who = None if kind is EventKind.tag else self._user_side(link, event)
        lock = self._serial.setdefault(f"{link['_id']}:{who}", asyncio.Lock()) if who else contextlib.nullcontext()
        async with lock:
            try:
                await handler(link, event)
            except StaleThread:
                # The thread this process remembered had changed (another process or route wrote it): nothing
                # of that update was applied, and the handlers go on from what they find stored. Again, from
                # a read.
                await handler(link, event)

    # -- which thread -----------------------------------------------------------------------------

    @staticmethod
    def _user_side(link: dict[str, Any], event: ZaloWebhook) -> str | None:
        """The Zalo user of an event: whichever of sender and recipient is not the OA."""
        for party in (event.sender, event.recipient):
            if party is not None and party.id != link["oa_id"]:
                return party.id
        return event.user_id

    async def _thread_for(
        self, link: dict[str, Any], event: ZaloWebhook, user_id: str | None = None, remembered: bool = False
    ) -> tuple[dict[str, Any], bool] | None:
        """The event's thread. `remembered`: possibly from memory, for handlers that decide nothing from
        the thread before updating it (a stale one then fails its update, and the handler runs again)."""
        if event.event_name.startswith(("anonymous_send_", "oa_send_anonymous_")):
            anonymous_id = self._user_side(link, event)
            conversation = event.message.conversation_id if event.message else None
            if not anonymous_id:
                return None
            key = f"anon:{anonymous_id}:{conversation or ''}"
            return await self.threads.get_or_create(link, key, None, anonymous=True, remembered=remembered)
        user_id = user_id or self._user_side(link, event)
        if not user_id:
            return None
        return await self.threads.get_or_create(link, user_id, user_id, remembered=remembered)

    # -- messages ---------------------------------------------------------------------------------

    def _message(
        self,
        link: dict[str, Any],
        thread: dict[str, Any],
        event: ZaloWebhook,
        direction: str,
        status: MessageStatus,
        sent_via: str,
    ) -> dict[str, Any]:
        msg = event.message
        assert msg is not None
        return {
            "_id": new_id(),
            "company_id": link["company_id"],
            "link_id": link["_id"],
            "thread_id": thread["_id"],
            "direction": direction,
            "kind": message_kind(event.event_name),
            "text": msg.text,
            "attachments": [a.model_dump() for a in msg.attachments],
            "quote_msg_id": msg.quote_msg_id,
            "zalo_msg_id": msg.msg_id,
            "client_msg_id": None,
            "status": status.value,
            "failure": None,
            "quota_type": None,
            "sent_by_member_id": None,
            "sent_via": sent_via,
            "admin_id": event.sender.admin_id if event.sender else None,
            "reactions": {},
            "at": event.occurred_at,
            "created_at": self._clock.now(),
        }

    async def _inbound(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.message is None or not event.message.msg_id:
            return
        found = await self._thread_for(link, event, remembered=True)
        if found is None:
            return
        thread, created = found
        message = await self._store_message(link, thread, event, "in", MessageStatus.received, "zalo_user")
        if message is None:
            return  # already applied
        await faults.point("chat.message_stored")
        try:
            after, reopening = await self._take_message(thread, message)
        except StaleThread:  # the remembered thread had changed: nothing applied; from a read this time
            found = await self._thread_for(link, event)
            assert found is not None
            thread, created = found
            after, reopening = await self._take_message(thread, message)
        await faults.point("chat.thread_updated")
        await self.threads.publish(None if created else thread, after, message)
        await faults.point("chat.published")
        if reopening or (after.get("reopened_by") and after.get("reopened_by") == step("thread")):
            await self._assignment.adjust_open(after.get("assignee_id"), +1, step=f"reopen:{after['_id']}")
        await self._assignment.auto_assign(after)
        self._maybe_fetch_profile(after)

    async def _take_message(self, thread: dict[str, Any], message: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The thread after taking a customer's message (and whether it was resolved before)."""
        reopening = thread.get("status") == "resolved"
        changes: dict[str, Any] = {
            "$inc": {"unread": 1},
            "$set": {"status": "open"},
            "$max": {"last_message_at": message["at"]},
        }
        if reopening:  # the customer wrote again: the assignee's open work again
            changes["$set"].update({"resolved_at": None, "opened_at": message["at"], "reopened_by": step("thread")})
        if thread.get("last_message_at") is None or message["at"] >= thread["last_message_at"]:
            changes["$set"]["last_message"] = last_message(message)
        phone = _business_card_phone(message["attachments"]) if message["kind"] == "business_card" else None
        if phone and not (thread.get("customer") or {}).get("phone"):
            changes["$set"].update(
                {"customer.phone": phone, "customer.phone_e164": e164(phone), "customer.phone_source": "business_card"}
            )
        # A new message resets what Zalo said of free replies: it opens a new window.
        after = await self.threads.update(thread, changes, interaction_at=message["at"], free_remaining=None)
        return after, reopening

    async def _store_message(
        self,
        link: dict[str, Any],
        thread: dict[str, Any],
        event: ZaloWebhook,
        direction: str,
        status: MessageStatus,
        sent_via: str,
    ) -> dict[str, Any] | None:
        """Store the event's message; None when it was stored before, unless by an earlier attempt of
        the current change (then that stored message, so the re-do goes on from there)."""
        message = self._message(link, thread, event, direction, status, sent_via)
        change = current_change()
        message["change"] = change.key if change else None
        if await self.threads.insert_message(message):
            return message
        if change is None:
            return None
        return await self._messages.find_one(
            {"link_id": link["_id"], "zalo_msg_id": message["zalo_msg_id"], "change": change.key}
        )

    async def _echo(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        """An OA message seen by Zalo: the hub's own send (skip), or one typed in Zalo's own tools (store)."""
        msg = event.message
        if msg is None or not msg.msg_id:
            return
        change = current_change()
        stored = await self._messages.find_one({"link_id": link["_id"], "zalo_msg_id": msg.msg_id}, {"change": 1})
        if stored and not (change and stored.get("change") == change.key):
            return  # the hub sent it
        found = await self._thread_for(link, event, remembered=True)
        if found is None:
            return
        thread, created = found
        if stored is None:
            # The echo may overtake the send API's answer: claim the hub's own message still being sent.
            pending = await self._messages.find_one(
                {
                    "thread_id": thread["_id"],
                    "status": MessageStatus.sending.value,
                    "direction": "out",
                    "zalo_msg_id": None,
                    **({"text": msg.text} if msg.text else {}),
                },
                sort=[("created_at", 1)],
            )
            if pending is not None:
                claimed = await self._messages.update_one(
                    {"_id": pending["_id"], "zalo_msg_id": None}, {"$set": {"zalo_msg_id": msg.msg_id}}
                )
                if claimed.modified_count:
                    return
        message = await self._store_message(link, thread, event, "out", MessageStatus.sent, "zalo_oa")
        if message is None:
            return
        changes: dict[str, Any] = {"$max": {"last_message_at": message["at"]}}
        if thread.get("last_message_at") is None or message["at"] >= thread["last_message_at"]:
            changes["$set"] = {"last_message": last_message(message)}
        after = await self.threads.update(thread, changes)
        await self.threads.publish(None if created else thread, after, message)

    # -- receipts and reactions -------------------------------------------------------------------

    async def _advance_status(
        self, link: dict[str, Any], msg_id: str, status: MessageStatus, field: str, event: ZaloWebhook
    ) -> None:
        lower = [s.value for s, rank in STATUS_RANK.items() if rank < STATUS_RANK[status]]
        at = event.occurred_at
        if await update_once(
            self._messages,
            {"link_id": link["_id"], "zalo_msg_id": msg_id},
            {"status": {"$in": lower}},
            {"$set": {"status": status.value, field: at}},
            f"{field}:{msg_id}",
        ):
            message = await self._messages.find_one({"link_id": link["_id"], "zalo_msg_id": msg_id})
            thread = await self.threads.get(message["thread_id"]) if message else None
            if message and thread:
                await self.threads.publish_message_update(
                    thread, message, {"status": status.value, field: at.isoformat()}
                )

    async def _received(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.message and event.message.msg_id:
            await self._advance_status(link, event.message.msg_id, MessageStatus.delivered, "delivered_at", event)

    async def _seen(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.message is None:
            return
        for msg_id in event.message.msg_ids or ([event.message.msg_id] if event.message.msg_id else []):
            await self._advance_status(link, msg_id, MessageStatus.seen, "seen_at", event)

    async def _reaction(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.message is None or not event.message.msg_id:
            return
        who = "user" if event.event_name == "user_reacted_message" else "oa"
        icon = event.message.react_icon or ""
        if await update_once(
            self._messages,
            {"link_id": link["_id"], "zalo_msg_id": event.message.msg_id},
            {f"reactions.{who}": {"$ne": icon}},
            {"$set": {f"reactions.{who}": icon}},
            "reaction",
        ):
            message = await self._messages.find_one({"link_id": link["_id"], "zalo_msg_id": event.message.msg_id})
            thread = await self.threads.get(message["thread_id"]) if message else None
            if message and thread:
                await self.threads.publish_message_update(thread, message, {"reactions": message["reactions"]})

    # -- the user's relation to the OA -----------------------------------------------------------

    async def _chat_now(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        found = await self._thread_for(link, event, user_id=event.user_id)
        if found is None:
            return
        thread, created = found
        if await self._republished(thread, created):
            return
        at = event.occurred_at
        if not created and thread.get("last_user_interaction_at") and thread["last_user_interaction_at"] >= at:
            return  # already counted
        after = await self.threads.update(thread, {}, interaction_at=at, free_remaining=None)
        await self.threads.publish(None if created else thread, after)
        self._maybe_fetch_profile(after)

    async def _follow(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        user_id = event.follower.id if event.follower else event.user_id
        found = await self._thread_for(link, event, user_id=user_id)
        if found is None:
            return
        thread, created = found
        if await self._republished(thread, created):
            return
        following = event.event_name == "follow"
        at = event.occurred_at
        if (
            not created
            and thread.get("follower") is following
            and (not following or (thread.get("last_user_interaction_at") or at) >= at)
        ):
            return
        # A follow is an interaction: a new window, with its free replies (reference section 4).
        if following:
            after = await self.threads.update(
                thread, {"$set": {"follower": following}}, interaction_at=at, free_remaining=None
            )
        else:
            after = await self.threads.update(thread, {"$set": {"follower": following}})
        await self.threads.publish(None if created else thread, after)
        self._maybe_fetch_profile(after)

    async def _submit_info(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        info = event.info or {}
        found = await self._thread_for(link, event)
        if found is None:
            return
        thread, created = found
        if await self._republished(thread, created):
            return
        customer = thread.get("customer") or {}
        if not created and customer.get("info") == info:
            return
        changes: dict[str, Any] = {"$set": {"customer.info": info}}
        if info.get("phone"):
            changes["$set"].update(
                {
                    "customer.phone": str(info["phone"]),
                    "customer.phone_e164": e164(info["phone"]),
                    "customer.phone_source": "user_submit_info",
                }
            )
        address = _address(info)
        if address:
            changes["$set"]["customer.address"] = address
        if info.get("name") and not customer.get("name"):
            changes["$set"]["customer.name"] = str(info["name"])
        after = await self.threads.update(thread, changes, interaction_at=event.occurred_at, free_remaining=None)
        await self.threads.publish(None if created else thread, after)

    async def _tag(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.tag is None:
            return
        name = event.tag.name
        if event.event_name == "add_user_to_tag":
            query = {"link_id": link["_id"], "key": {"$in": event.tag.user_ids}, "tags": {"$ne": name}}
            change = {"$addToSet": {"tags": name}}
        elif event.event_name == "remove_user_from_tag":
            query = {"link_id": link["_id"], "key": {"$in": event.tag.user_ids}, "tags": name}
            change = {"$pull": {"tags": name}}
        else:  # remove_tag: the tag is gone from every follower
            query = {"link_id": link["_id"], "tags": name}
            change = {"$pull": {"tags": name}}
        change_ = current_change()
        if change_ is not None and change_.redo:  # and the threads an earlier attempt already changed
            query = {"$or": [query, {"link_id": link["_id"], "applied": change_.step("tag")}]}
        async for thread in self._threads_coll.find(query):
            after = await self.threads.update(thread, change, step="tag")
            await self.threads.publish(thread, after)

    async def interaction(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        """A call or a consent the user answered through Zalo: the thread of that user (by user id, or by
        the phone they shared) gets a new reply window. A call the user did not answer is none."""
        extra = event.model_extra or {}
        if event.event_name == "oa_call_user" and not str(extra.get("talk_time") or "0").strip("0. "):
            return  # talk_time missing, 0 or "0.0": the user did not pick up
        user_id = extra.get("user_id") or event.user_id
        if user_id:
            thread = await self._threads_coll.find_one({"link_id": link["_id"], "key": str(user_id)})
        else:
            phone = e164(event.phone or extra.get("phone"))
            thread = (
                await self._threads_coll.find_one(
                    {"company_id": link["company_id"], "link_id": link["_id"], "customer.phone_e164": phone}
                )
                if phone
                else None
            )
        if thread is None or await self._republished(thread, False, "interaction"):
            return
        at = event.occurred_at
        if thread.get("last_user_interaction_at") and thread["last_user_interaction_at"] >= at:
            return
        after = await self.threads.update(thread, {}, interaction_at=at, free_remaining=None, step="interaction")
        await self.threads.publish(thread, after)

    async def _republished(self, thread: dict[str, Any], created: bool, step_name: str = "thread") -> bool:
        """On a re-do whose first attempt already changed the thread: publish (what is missing) and stop."""
        if not done(thread, step_name):
            return False
        await self.threads.publish(None if created else thread, thread)
        return True

    # -- the customer's Zalo profile, fetched once ------------------------------------------------

    def _maybe_fetch_profile(self, thread: dict[str, Any]) -> None:
        if thread.get("profile_fetched") or not thread.get("user_id"):
            return
        now = time.monotonic()
        if now - self._profile_tried.get(thread["_id"], -PROFILE_RETRY_S) < PROFILE_RETRY_S:
            return
        if len(self._profile_tried) > PROFILE_TRIES_KEPT:
            # Forget attempts old enough to be retried anyway, so the memory stays bounded.
            self._profile_tried = {k: t for k, t in self._profile_tried.items() if now - t < PROFILE_RETRY_S}
        self._profile_tried[thread["_id"]] = now
        self._spawn(self._fetch_profile(thread["_id"]))

    async def _fetch_profile(self, thread_id: str) -> None:
        thread = await self.threads.get(thread_id)
        if thread is None or thread.get("profile_fetched"):
            return
        user_id = thread["user_id"]
        try:
            detail = await self._links.call(
                thread["link_id"], lambda token: self._links.zalo.user_detail(token, user_id)
            )
        except ZaloError as exc:
            log.warning("could not fetch the Zalo profile", extra={"thread_id": thread_id, "zalo_error": exc.code})
            return
        changes: dict[str, Any] = {"$set": {"profile_fetched": True}}
        if detail.get("display_name"):
            changes["$set"]["customer.name"] = detail["display_name"]
        avatar = detail.get("avatar") or (detail.get("avatars") or {}).get("240")
        if avatar:
            changes["$set"]["customer.avatar"] = avatar
        if isinstance(detail.get("user_is_follower"), bool):
            # Only where no follow/unfollow event has said so: one that lands while the profile is on its
            # way is newer than this answer and must not be overwritten by it.
            # Every write to a thread moves its version (hub.threads.update relies on it).
            await self._threads_coll.update_one(
                {"_id": thread_id, "follower": None},
                {"$set": {"follower": detail["user_is_follower"]}, "$inc": {"version": 1}},
            )
        after = await self.threads.update(thread, changes)
        await self.threads.publish(thread, after)
        self._profile_tried.pop(thread_id, None)


def background(tasks: set[asyncio.Task]) -> Spawn:
    """A spawner that keeps its tasks referenced until they finish (and logs their failures)."""

    def spawn(coro: Coroutine[Any, Any, None]) -> None:
        # An empty context: background work is no part of the change (hub.changes) that started it.
        task = asyncio.create_task(coro, context=contextvars.Context())
        tasks.add(task)

        def done(t: asyncio.Task) -> None:
            tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("background task failed", exc_info=t.exception())

        task.add_done_callback(done)

    return spawn
