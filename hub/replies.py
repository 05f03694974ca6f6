"""Agents' replies to Zalo users through the OA API.

A reply is stored first (status "sending", unique per thread and client_msg_id), so a retried
request returns the stored message and never sends twice; then Zalo is called and the message
becomes "sent" (with Zalo's message_id and quota type) or "failed" with a reason an agent can act
on. A reply the reply window forbids is refused before Zalo is called, and nothing is stored.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import DuplicateKeyError

from clients.zalo import ZaloClient, ZaloError
from hub import reply_window
from hub.auth import Principal
from hub.changes import current as current_change
from hub.clock import Clock
from hub.errors import Conflict, PayloadTooLarge, Unprocessable
from hub.ids import new_id
from hub.oa_links import OaLinks
from hub.settings import Settings
from hub.store import Store
from hub.threads import Threads, last_message, message_view
from schemas.chat import Message, RequestInfo, SendMessage
from schemas.zalo import MessageStatus

log = logging.getLogger(__name__)

# quota_type values of a send that was not one of the free replies of the window.
CHARGED_QUOTAS = {"sub_quota", "purchase_quota", "reward_quota"}
# Zalo's upload limits (reference section 3): images up to 1 MB, files up to 5 MB.
IMAGE_MAX_BYTES = 1024 * 1024
FILE_MAX_BYTES = 5 * 1024 * 1024


class Replies:
    def __init__(self, store: Store, clock: Clock, threads: Threads, links: OaLinks, settings: Settings) -> None:
        self._messages = store.messages
        self._clock = clock
        self._threads = threads
        self._links = links
        self._settings = settings

    async def send(self, actor: Principal, thread_id: str, body: SendMessage) -> tuple[Message, bool]:
        """Returns the message and whether this request created it (False: a retry of client_msg_id)."""
        thread = await self._threads.visible_or_redone(actor, thread_id, "thread")
        attachment = body.attachment
        if attachment is None:
            kind, zalo_message = "text", ZaloClient.text(body.text or "", body.quote_msg_id)
            stored_attachments: list[dict[str, Any]] = []
        else:
            kind = attachment.type
            zalo_message = {
                "image": lambda: ZaloClient.image(attachment.url, attachment.attachment_id, body.text),
                "file": lambda: ZaloClient.file(attachment.token or ""),
                "sticker": lambda: ZaloClient.sticker(attachment.sticker_id or ""),
            }[attachment.type]()
            stored_attachments = [{"type": attachment.type, "payload": attachment.model_dump(exclude_none=True)}]
        return await self._send(
            actor, thread, body.client_msg_id, kind, body.text, stored_attachments, zalo_message, body.quote_msg_id
        )

    async def upload(
        self, actor: Principal, thread_id: str, filename: str, content: bytes, content_type: str
    ) -> dict[str, Any]:
        """Upload a file to Zalo through the thread's OA; returns the attachment to send (valid 7 days)."""
        thread = await self._threads.visible(actor, thread_id)
        is_image = content_type.startswith("image/") and len(content) <= IMAGE_MAX_BYTES
        if not is_image and len(content) > FILE_MAX_BYTES:
            raise PayloadTooLarge(f"Zalo takes files up to {FILE_MAX_BYTES // (1024 * 1024)} MB")
        zalo = self._links.zalo
        try:
            if is_image:
                attachment_id = await self._links.call(
                    thread["link_id"], lambda token: zalo.upload_image(token, filename, content, content_type)
                )
                return {"type": "image", "attachment_id": attachment_id, "name": filename, "size": len(content)}
            file_token = await self._links.call(
                thread["link_id"], lambda token: zalo.upload_file(token, filename, content, content_type)
            )
        except ZaloError as exc:
            raise Conflict(exc.reason, "zalo_refused") from exc
        return {"type": "file", "token": file_token, "name": filename, "size": len(content)}

    async def request_info(self, actor: Principal, thread_id: str, body: RequestInfo) -> tuple[Message, bool]:
        thread = await self._threads.visible_or_redone(actor, thread_id, "thread")
        title = body.title or self._settings.request_info_title
        subtitle = body.subtitle or self._settings.request_info_subtitle
        image_url = body.image_url or self._settings.request_info_image_url
        zalo_message = ZaloClient.request_user_info(title, subtitle, image_url)
        attachments = [
            {"type": "request_user_info", "payload": {"title": title, "subtitle": subtitle, "image_url": image_url}}
        ]
        change = current_change()  # a re-do must find the message its first attempt stored
        client_msg_id = body.client_msg_id or (change.step("request-info") if change else new_id())
        return await self._send(
            actor, thread, client_msg_id, "request_user_info", title, attachments, zalo_message, None
        )

    async def _send(
        self,
        actor: Principal,
        thread: dict[str, Any],
        client_msg_id: str,
        kind: str,
        text: str | None,
        attachments: list[dict[str, Any]],
        zalo_message: dict[str, Any],
        quote_msg_id: str | None,
    ) -> tuple[Message, bool]:
        existing = await self._messages.find_one({"thread_id": thread["_id"], "client_msg_id": client_msg_id})
        change = current_change()
        if existing and change is not None and existing.get("change") == change.key:
            # A re-do of this very send: Zalo is never called twice; publish what may be missing, unless the
            # first attempt is still waiting for Zalo (it publishes the outcome itself).
            if existing["status"] == MessageStatus.sending.value:
                return message_view(existing), False
            return await self._stored(thread, existing, ...), True
        if existing:
            return message_view(existing), False
        if thread.get("anonymous") or not thread.get("user_id"):
            raise Unprocessable(
                "anonymous conversations cannot be answered through the consultation API", "anonymous_thread"
            )
        window = reply_window.window(
            thread.get("last_user_interaction_at"), self._clock.now(), thread.get("free_replies_remaining")
        )
        if window.state is reply_window.WindowState.blocked:
            raise Conflict(
                "The customer has not interacted with the OA in the last 7 days, so Zalo refuses "
                "consultation messages; send a ZNS template message instead.",
                "reply_window_blocked",
            )
        now = self._clock.now()
        message = {
            "_id": new_id(),
            "company_id": thread["company_id"],
            "link_id": thread["link_id"],
            "thread_id": thread["_id"],
            "direction": "out",
            "kind": kind,
            "text": text,
            "attachments": attachments,
            "quote_msg_id": quote_msg_id,
            "zalo_msg_id": None,
            "client_msg_id": client_msg_id,
            "status": MessageStatus.sending.value,
            "failure": None,
            "quota_type": None,
            "sent_by_member_id": actor.member_id,
            "sent_via": "hub",
            "reactions": {},
            "reply_window": window.state.value,
            "at": now,
            "created_at": now,
            "change": change.key if change else None,
        }
        try:
            await self._messages.insert_one(message)
        except DuplicateKeyError:  # the same client_msg_id raced in
            existing = await self._messages.find_one({"thread_id": thread["_id"], "client_msg_id": client_msg_id})
            assert existing is not None
            return message_view(existing), False

        user_id = thread["user_id"]
        free_remaining: Any = ...
        try:
            data = await self._links.call(
                thread["link_id"], lambda token: self._links.zalo.send_message(token, user_id, zalo_message)
            )
        except ZaloError as exc:
            log.info("Zalo refused a reply", extra={"thread_id": thread["_id"], "zalo_error": exc.code})
            await self._messages.update_one(
                {"_id": message["_id"]}, {"$set": {"status": MessageStatus.failed.value, "failure": exc.as_failure()}}
            )
        else:
            quota = data.get("quota") or {}
            fields = {"zalo_msg_id": str(data.get("message_id") or "") or None, "quota_type": quota.get("quota_type")}
            try:
                sent = await self._messages.update_one(
                    {"_id": message["_id"], "status": MessageStatus.sending.value},
                    {"$set": {**fields, "status": MessageStatus.sent.value}},
                )
                if not sent.modified_count:  # a receipt moved it on already
                    await self._messages.update_one({"_id": message["_id"]}, {"$set": fields})
            except DuplicateKeyError:
                log.warning(
                    "the echo of a reply was stored before its send answer",
                    extra={"thread_id": thread["_id"], "zalo_msg_id": fields["zalo_msg_id"]},
                )
            if quota.get("quota_type") in CHARGED_QUOTAS:
                free_remaining = 0
            elif isinstance(quota.get("remain"), int):
                free_remaining = quota["remain"]

        stored = await self._messages.find_one({"_id": message["_id"]})
        assert stored is not None
        return await self._stored(thread, stored, free_remaining), True

    async def _stored(self, thread: dict[str, Any], stored: dict[str, Any], free_remaining: Any) -> Message:
        """The thread takes the sent message as its last one; message.created and thread.updated go out."""
        changes: dict[str, Any] = {
            "$max": {"last_message_at": stored["at"]},
            "$set": {"last_message": last_message(stored)},
        }
        after = await self._threads.update(thread, changes, free_remaining=free_remaining)
        await self._threads.publish(thread, after, stored)
        return message_view(stored)
