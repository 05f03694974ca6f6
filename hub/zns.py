"""ZNS template notifications: sending, delivery, charging, customer reviews, template status.

A ZNS message is charged only when Zalo delivered it within the Z-time of its sending: 15 s for
OTP templates, 7,200 s for every other template (reference section 6). Sends are refused between
22:00 and 06:00 in the company's time zone before Zalo is called (Zalo would answer -133).
Everything here is seen by owners and managers.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from clients.zalo import ZaloError
from hub import rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.changes import update_once
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.oa_links import OaLinks
from hub.phones import zalo_form
from hub.realtime.publish import Publisher
from hub.store import Store, newest_first, record_filter
from hub.zns_templates import ZnsTemplates, data_problems, price_of
from schemas.zalo import ZaloWebhook, epoch_ms, from_epoch_ms, zalo_phone

log = logging.getLogger(__name__)

Z_TIME_OTP = timedelta(seconds=15)
Z_TIME_OTHER = timedelta(seconds=7200)
QUIET_FROM, QUIET_UNTIL = 22, 6  # local hours: no template sends in between
MAX_STATS_PERIOD = timedelta(days=92)
AUDIENCE = rulebook.supervisors()


def charged(sent_at: datetime, delivered_at: datetime, otp: bool) -> bool:
    return delivered_at - sent_at <= (Z_TIME_OTP if otp else Z_TIME_OTHER)


ZALO_TIMEZONE = "Asia/Ho_Chi_Minh"


def quiet_hours(now: datetime, timezone_name: str) -> bool:
    hour = now.astimezone(ZoneInfo(timezone_name)).hour
    return hour >= QUIET_FROM or hour < QUIET_UNTIL


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        key: doc.get(key)
        for key in (
            "oa_id",
            "phone",
            "template_id",
            "template_data",
            "tracking_id",
            "msg_id",
            "otp",
            "status",
            "failure",
            "sent_at",
            "delivered_at",
            "charged",
            "unit_price",
            "review",
            "sent_by",
            "campaign_id",
        )
    } | {"id": doc["_id"], "kind": doc.get("kind") or "phone", "journey_id": doc.get("journey_id")}


def _supervisor(actor: Principal) -> None:
    rulebook.require(actor, rulebook.Action.zns)


def _query(actor: Principal, filters: dict[str, Any]) -> dict[str, Any]:
    _supervisor(actor)
    query = record_filter(
        actor.company_id, filters, ("oa_id", "template_id", "status", "tracking_id", "msg_id", "campaign_id"), "sent_at"
    )
    if filters.get("phone"):  # any form of the number; ZNS messages keep Zalo's (84…)
        query["phone"] = zalo_form(filters["phone"]) or filters["phone"]
    return query


class Zns:
    def __init__(
        self, store: Store, clock: Clock, links: OaLinks, publisher: Publisher, templates: ZnsTemplates
    ) -> None:
        self._templates = templates
        self._store = store
        self._messages = store.zns_messages
        self._clock = clock
        self._links = links
        self._publisher = publisher

    async def _publish(self, doc: dict[str, Any]) -> None:
        await self._publisher.publish(doc["company_id"], "zns.updated", view(doc), AUDIENCE)

    async def send(
        self,
        actor: Principal,
        oa_id: str,
        phone: str,
        template_id: str,
        template_data: dict[str, Any],
        tracking_id: str | None,
        journey_token: str | None = None,
        journey_id: str | None = None,
        campaign_id: str | None = None,
    ) -> dict[str, Any]:
        """Send one template message; with a journey's token (hub.journeys) it goes within that journey and is
        stored as kind "journey"."""
        _supervisor(actor)
        change = current_change()
        mine = await self._messages.find_one({"_id": change.step("zns")}) if change else None
        if mine is not None:
            return await self._redone(mine)
        company = await self._store.companies.find_one({"_id": actor.company_id}) or {}
        now = self._clock.now()
        if quiet_hours(now, ZALO_TIMEZONE):  # Zalo's rule, in Vietnam's time whatever the company's zone
            raise Conflict(
                "Zalo does not deliver template messages between 22:00 and 06:00 Vietnam time; send it after 06:00.",
                "zns_quiet_hours",
            )
        link = await self._store.oa_links.find_one({"company_id": actor.company_id, "oa_id": oa_id, "status": "active"})
        if link is None:
            raise NotFound("no active OA link with that oa_id", "oa_link_not_found")
        # The template decides: whether it is OTP (its Z-time), its price, the parameters it takes.
        template = await self._templates.for_send(link, template_id)
        if problems := data_problems(template["listParams"], template_data):
            raise Unprocessable("; ".join(problems), "invalid_template_data", details={"problems": problems})
        otp = bool(template["otp"])
        prices = (company.get("settings") or {}).get("zns_prices") or {}
        unit_price = price_of(template)
        if unit_price is None:
            unit_price = prices.get(template_id)  # the company's own price list when Zalo gives none
        # Its id comes from the change: two attempts of one request cannot both insert, so Zalo is asked once.
        doc = {
            "_id": change.step("zns") if change else new_id(),
            "company_id": actor.company_id,
            "link_id": link["_id"],
            "oa_id": oa_id,
            "phone": zalo_phone(phone),
            "template_id": template_id,
            "template_data": template_data,
            "tracking_id": tracking_id or secrets.token_hex(12),
            "msg_id": None,
            "otp": otp,
            "status": "processing",
            "failure": None,
            "sent_at": now,
            "delivered_at": None,
            "charged": False,
            "unit_price": unit_price,
            "review": None,
            "sent_by": actor.member_id,
            "kind": "journey" if journey_token else "phone",
            "journey_id": journey_id,
            "campaign_id": campaign_id,  # a ZNS campaign's message (hub.zns_campaigns), for its figures and list
        }
        try:
            await self._messages.insert_one(doc)
        except DuplicateKeyError:
            mine = await self._messages.find_one({"_id": doc["_id"]})
            if mine is not None:  # a concurrent attempt of this request inserted it first
                return await self._redone(mine)
            raise Conflict("a ZNS message with that tracking_id exists", "zns_tracking_id_taken") from None
        try:
            data = await self._links.call(
                link["_id"],
                lambda token: (
                    self._links.zalo.send_zns_in_journey(
                        token, journey_token, doc["phone"], template_id, template_data, doc["tracking_id"]
                    )
                    if journey_token
                    else self._links.zalo.send_zns(token, doc["phone"], template_id, template_data, doc["tracking_id"])
                ),
            )
            changes: dict[str, Any] = {"msg_id": str(data.get("msg_id")) if data.get("msg_id") else None}
            if data.get("sent_time"):
                changes["sent_at"] = from_epoch_ms(data["sent_time"], now)
        except ZaloError as exc:
            changes = {"status": "failure", "failure": exc.as_failure()}
        await self._messages.update_one({"_id": doc["_id"]}, {"$set": changes})
        doc.update(changes)
        await self._publish(doc)
        return view(doc)

    async def _redone(self, doc: dict[str, Any]) -> dict[str, Any]:
        """A re-do of a send: publish what may be missing, unless the first attempt still waits for Zalo."""
        if doc.get("msg_id") or doc.get("status") != "processing":
            await self._publish(doc)
        return view(doc)

    async def _find(self, link: dict[str, Any], msg_id: str | None, tracking_id: str | None) -> dict[str, Any] | None:
        for key, value in (("msg_id", msg_id), ("tracking_id", tracking_id)):
            if value:
                doc = await self._messages.find_one({"link_id": link["_id"], key: value})
                if doc:
                    return doc
        return None

    async def on_delivered(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        message = event.message
        if message is None:
            return
        doc = await self._find(link, message.msg_id, message.tracking_id)
        if doc is None:
            log.info("ZNS receipt for a message the hub did not send", extra={"tracking_id": message.tracking_id})
            return
        delivered = from_epoch_ms(message.delivery_time, event.occurred_at)
        if await update_once(
            self._messages,
            {"_id": doc["_id"]},
            {"delivered_at": None},
            {
                "$set": {
                    "status": "success",
                    "delivered_at": delivered,
                    "charged": charged(doc["sent_at"], delivered, doc["otp"]),
                }
            },
            "delivered",
        ):
            await self._publish(await self._messages.find_one({"_id": doc["_id"]}) or doc)

    async def on_feedback(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        message = event.message
        if message is None:
            return
        extra = message.model_extra or {}
        doc = await self._find(link, message.msg_id, message.tracking_id)
        if doc is None:
            return
        review = {
            "rate": extra.get("rate"),
            "note": extra.get("note"),
            "feedbacks": extra.get("feedbacks") or [],
            "submitted_at": epoch_ms(extra.get("submit_time")),
        }
        if await update_once(
            self._messages, {"_id": doc["_id"]}, {"review": {"$ne": review}}, {"$set": {"review": review}}, "review"
        ):
            await self._publish(await self._messages.find_one({"_id": doc["_id"]}) or doc)

    async def on_template_status(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        extra = event.model_extra or {}
        template_id = str(extra.get("template_id") or "")
        status = extra.get("status") or {}
        if not template_id:
            return
        key = {"link_id": link["_id"], "template_id": template_id}
        try:
            await self._store.zns_templates.insert_one({**key, "_id": new_id(), "company_id": link["company_id"]})
        except DuplicateKeyError:
            pass
        await self._store.zns_templates.update_one(
            key,
            {
                "$set": {
                    "status": status.get("new_status"),
                    "previous_status": status.get("prev_status"),
                    "reason": extra.get("reason"),
                    "changed_at": event.occurred_at,
                    "detail_at": None,  # the next send reads the template from Zalo again
                }
            },
        )
        await self._publisher.publish(
            link["company_id"],
            "zns.template_updated",
            {
                "oa_id": link["oa_id"],
                "template_id": template_id,
                "status": status.get("new_status"),
                "reason": extra.get("reason"),
            },
            AUDIENCE,
        )

    async def on_template_quality(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        """change_template_quality: the kept template's quality, and its detail read again at the next send
        (a LOW template may have been disabled, reference section 10)."""
        extra = event.model_extra or {}
        template_id = str(extra.get("template_id") or "")
        quality = extra.get("quality") or extra.get("new_quality")
        if isinstance(quality, dict):
            quality = quality.get("new_value") or quality.get("new_quality")
        if template_id and isinstance(quality, str):
            await self._store.zns_templates.update_one(
                {"link_id": link["_id"], "template_id": template_id},
                {"$set": {"quality": quality.upper(), "detail_at": None}},
            )

    # -- console reads ----------------------------------------------------------------------------

    async def list(self, actor: Principal, filters: dict[str, Any]) -> list[dict[str, Any]]:
        cursor = self._messages.find(_query(actor, filters)).sort("sent_at", DESCENDING).limit(500)
        return [view(doc) async for doc in cursor]

    def each(self, actor: Principal, filters: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Every message of the list's filter, newest first, a batch at a time (an export of any size). Who may
        is checked here, before an export's answer starts."""
        query = _query(actor, filters)
        return (view(doc) async for doc in newest_first(self._messages, query, "sent_at"))

    async def get(self, actor: Principal, message_id: str) -> dict[str, Any]:
        _supervisor(actor)
        doc = await self._messages.find_one({"_id": message_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such ZNS message", "zns_not_found")
        return view(doc)

    async def stats(self, actor: Principal, start: datetime | None, end: datetime | None) -> dict[str, Any]:
        _supervisor(actor)
        end = end or self._clock.now()
        start = start or end - timedelta(days=7)
        if end - start > MAX_STATS_PERIOD:
            raise Unprocessable("a ZNS statistics period is at most 3 months", "period_too_long")
        docs = [
            d
            async for d in self._messages.find({"company_id": actor.company_id, "sent_at": {"$gte": start, "$lt": end}})
        ]
        charged_docs = [d for d in docs if d.get("charged")]
        return {
            "from": start,
            "to": end,
            "sent": len(docs),
            "charged": len(charged_docs),
            "free": sum(1 for d in docs if d["status"] == "success" and not d.get("charged")),
            "success": sum(1 for d in docs if d["status"] == "success"),
            "failed": sum(1 for d in docs if d["status"] == "failure"),
            "processing": sum(1 for d in docs if d["status"] == "processing"),
            "total_spend": sum(d.get("unit_price") or 0 for d in charged_docs),
        }
