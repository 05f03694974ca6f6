"""ZNS journeys: a journey token per customer phone, the template messages sent within it, and its charge and end.

A journey (reference section 11 "Journey") is a series of ZNS messages to one phone billed once: the hub asks
Zalo for a token (`journey/get-token`), keeps it (never shown whole to a console), and sends templates with it
(`Zns.send` with the token: the message is stored as kind "journey", so the ZNS report counts it apart).
Zalo charges the token when its first message is delivered (`event_journey_acknowledged`) and ends it
(`event_journey_time_out`); a journey past its end with no webhook turns expired by time (the scheduler).
Owners and managers only (rulebook Action.zns); every change is published as `journey.updated`.

Zalo's shapes not confirmed by any source are kept in one place, the UNCERTAIN block below (the README names
it): the token types and their lengths, the name of the type's field, and the webhook's fields.

A token is charged when first used, not when issued: a re-done request (hub.changes) that asks Zalo again costs
nothing, and the journey's id comes from the change, so one request keeps one journey.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from clients.zalo import ZaloError
from hub import changes, rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.changes import update_once
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.oa_links import OaLinks
from hub.phones import zalo_form
from hub.realtime.publish import Publisher
from hub.store import Store, record_filter
from hub.zns import Zns
from hub.zns import view as message_view
from schemas.zalo import ZaloWebhook, epoch_ms

log = logging.getLogger(__name__)

# -- UNCERTAIN (reference section 11): Zalo's journey shapes no source confirms ----------------------------------
# Token types partners offer, and each one's life in days (7 by Zalo's guide; 30 inferred from the names).
TOKEN_TYPES: dict[str, int] = {
    "token_logistics_7": 7,
    "token_logistics_30": 30,
    "token_coach_bus_7": 7,
    "token_coach_bus_30": 30,
}
DEFAULT_TOKEN_TYPE = "token_logistics_7"
# The get-token body's field for the type: not in Zalo's guide; sent only for a type other than the default.
TOKEN_TYPE_FIELD = "token_type"
# Where the journey webhooks name their journey: these keys, at the top level or under `data` / `message`.
WEBHOOK_JOURNEY_KEYS = ("journey_id", "token", "journey_token")
ACKNOWLEDGED = "event_journey_acknowledged"  # the journey was charged
TIMED_OUT = "event_journey_time_out"  # the journey ended
# -------------------------------------------------------------------------------------------------------------------

TOKEN_EXPIRED = -150  # a send Zalo refused because the token's time is over: the journey is expired
LIST_LIMIT = 500
AUDIENCE = rulebook.supervisors()


def token_hint(token: str) -> str:
    """What a console sees of a token: its ends only."""
    return f"{token[:4]}…{token[-4:]}" if len(token) > 12 else "…"


def view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "oa_id": doc["oa_id"],
        "phone": doc["phone"],
        "token": token_hint(doc.get("token") or ""),
        "journey_id": doc.get("journey_id"),
        "token_type": doc["token_type"],
        "created_at": doc["created_at"],
        "expires_at": doc["expires_at"],
        "charged_at": doc.get("charged_at"),
        "charged": bool(doc.get("charged")),
        "status": doc["status"],
        "ended_at": doc.get("ended_at"),
        "created_by": doc.get("created_by"),
        "messages": int(doc.get("messages") or 0),
    }


def webhook_keys(event: ZaloWebhook) -> list[tuple[str, str]]:
    """(field, value) pairs that may name the journey, most telling first (UNCERTAIN, see above)."""
    extra = event.model_extra or {}
    places = [extra, extra.get("data"), event.message.model_dump() if event.message else None]
    found: list[tuple[str, str]] = []
    for place in places:
        if not isinstance(place, dict):
            continue
        for key in WEBHOOK_JOURNEY_KEYS:
            value = place.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                found.append(("journey_id" if key == "journey_id" else "token", str(value)))
    return list(dict.fromkeys(found))


def _zalo_refused(exc: ZaloError) -> Conflict:
    return Conflict(
        f"{exc.reason} (Zalo {exc.code})", "zalo_refused", details={"zalo_error": exc.code, "reason_vi": exc.reason_vi}
    )


class Journeys:
    def __init__(self, store: Store, clock: Clock, links: OaLinks, publisher: Publisher, zns: Zns) -> None:
        self._store = store
        self._journeys = store.journeys
        self._clock = clock
        self._links = links
        self._publisher = publisher
        self._zns = zns

    async def _publish(self, doc: dict[str, Any]) -> None:
        await self._publisher.publish(doc["company_id"], "journey.updated", view(doc), AUDIENCE)

    async def _reread(self, doc: dict[str, Any]) -> dict[str, Any]:
        return await self._journeys.find_one({"_id": doc["_id"]}) or doc

    # -- requests of the console ----------------------------------------------------------------------

    async def create(self, actor: Principal, oa_id: str, phone: str, token_type: str) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.zns)
        number = zalo_form(phone)
        if number is None:
            raise Unprocessable("phone is not a Vietnamese phone number; type it as 0912345678", "invalid_phone")
        if token_type not in TOKEN_TYPES:
            raise Unprocessable(f"token_type is one of {', '.join(TOKEN_TYPES)}", "invalid_token_type")
        change = current_change()
        journey_id = change.step("journey") if change else new_id()
        mine = await self._journeys.find_one({"_id": journey_id})
        if mine is not None:  # a re-do of this request: the first attempt kept the journey
            await self._publish(mine)
            return view(mine)
        link = await self._store.oa_links.find_one({"company_id": actor.company_id, "oa_id": oa_id, "status": "active"})
        if link is None:
            raise NotFound("no active OA link with that oa_id", "oa_link_not_found")
        extra = {TOKEN_TYPE_FIELD: token_type} if token_type != DEFAULT_TOKEN_TYPE else {}
        zalo = self._links.zalo
        try:
            answer = await self._links.call(link["_id"], lambda token: zalo.journey_token(token, number, extra))
        except ZaloError as exc:
            raise _zalo_refused(exc) from None
        token = answer.get("token") or (answer.get("data") or {}).get("token")
        if not token:
            raise Conflict("Zalo answered without a journey token; try again.", "zalo_no_token")
        zalo_journey = answer.get("journey_id") or (answer.get("data") or {}).get("journey_id")
        now = self._clock.now()
        expires_at = now + timedelta(days=TOKEN_TYPES[token_type])
        try:  # Zalo's own end for the token when it says (check-token); the table's otherwise
            checked = await self._links.call(link["_id"], lambda access: zalo.check_journey_token(access, str(token)))
            expires_at = epoch_ms(checked.get("expiredAt")) or expires_at
        except ZaloError as exc:
            log.info("journey token check failed; its end is the type's", extra={"zalo_error": exc.code})
        doc = {
            "_id": journey_id,
            "company_id": actor.company_id,
            "link_id": link["_id"],
            "oa_id": oa_id,
            "phone": number,
            "token": str(token),
            "journey_id": str(zalo_journey) if zalo_journey is not None else None,
            "token_type": token_type,
            "created_at": now,
            "expires_at": expires_at,
            "charged_at": None,
            "charged": False,
            "status": "active",
            "ended_at": None,
            "created_by": actor.member_id,
            "messages": 0,
        }
        try:
            await self._journeys.insert_one(doc)
        except DuplicateKeyError:  # a concurrent attempt of this request kept its own first
            doc = await self._journeys.find_one({"_id": journey_id}) or doc
        doc = await self._reread(doc)
        await self._publish(doc)
        return view(doc)

    async def _mine(self, actor: Principal, journey_id: str) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.zns)
        doc = await self._journeys.find_one({"_id": journey_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such journey", "journey_not_found")
        return doc

    async def send(
        self,
        actor: Principal,
        journey_id: str,
        template_id: str,
        template_data: dict[str, Any],
        tracking_id: str | None,
    ) -> dict[str, Any]:
        """One template message within the journey, to its phone (the ZNS send's rules: quiet hours, the
        template's parameters, one message per request however often it is re-done)."""
        doc = await self._mine(actor, journey_id)
        if doc["status"] == "expired":
            raise Conflict("this journey has ended; create a new journey to send more messages", "journey_expired")
        message = await self._zns.send(
            actor,
            doc["oa_id"],
            doc["phone"],
            template_id,
            template_data,
            tracking_id,
            journey_token=doc["token"],
            journey_id=doc["_id"],
        )
        failure = message.get("failure") or {}
        if failure.get("code") == TOKEN_EXPIRED:
            await self._end(doc, self._clock.now(), "journey_token_expired")
        elif message["status"] != "failure" and await update_once(
            self._journeys, {"_id": doc["_id"]}, {}, {"$inc": {"messages": 1}}, "journey_message"
        ):
            await self._publish(await self._reread(doc))
        return message

    async def list(self, actor: Principal, filters: dict[str, Any]) -> list[dict[str, Any]]:
        """Newest first: by OA, phone (any form), status, charged, and a creation period."""
        rulebook.require(actor, rulebook.Action.zns)
        query = record_filter(actor.company_id, filters, ("oa_id", "status"), "created_at")
        if filters.get("phone"):
            query["phone"] = zalo_form(filters["phone"]) or filters["phone"]
        cursor = self._journeys.find(query).sort([("created_at", DESCENDING), ("_id", DESCENDING)]).limit(LIST_LIMIT)
        return [view(doc) async for doc in cursor]

    async def get(self, actor: Principal, journey_id: str) -> dict[str, Any]:
        """The journey and the messages sent within it, newest first."""
        doc = await self._mine(actor, journey_id)
        cursor = (
            self._store.zns_messages.find({"company_id": actor.company_id, "journey_id": doc["_id"]})
            .sort("sent_at", DESCENDING)
            .limit(LIST_LIMIT)
        )
        return {"journey": view(doc), "messages": [message_view(m) async for m in cursor]}

    # -- Zalo's webhooks (hub.inbox) ------------------------------------------------------------------------

    async def on_webhook(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        doc = None
        for field, value in webhook_keys(event):
            doc = await self._journeys.find_one({"link_id": link["_id"], field: value})
            if doc is not None:
                break
        if doc is None:
            log.info("journey webhook for a journey the hub does not know", extra={"event_name": event.event_name})
            return
        if event.event_name == ACKNOWLEDGED:
            # Charged: an active journey shows it in its status; an ended one keeps "expired", charged yes.
            conditions: dict[str, Any] = {"charged": False}
            update: dict[str, Any] = {"charged": True, "charged_at": event.occurred_at}
            if doc["status"] == "active":
                conditions["status"] = "active"
                update["status"] = "charged"
            if await update_once(self._journeys, {"_id": doc["_id"]}, conditions, {"$set": update}, "journey_charged"):
                await self._publish(await self._reread(doc))
        elif event.event_name == TIMED_OUT:
            await self._end(doc, event.occurred_at, "journey_timed_out")

    async def _end(self, doc: dict[str, Any], at: datetime, step: str) -> None:
        if await update_once(
            self._journeys,
            {"_id": doc["_id"]},
            {"status": {"$ne": "expired"}},
            {"$set": {"status": "expired", "ended_at": at}},
            step,
        ):
            await self._publish(await self._reread(doc))

    # -- the scheduler ----------------------------------------------------------------------------------------

    async def expire_due(self, limit: int = 500) -> int:
        """Journeys past their end with no webhook from Zalo: expired, published once (a conditional move)."""
        now = self._clock.now()
        moved = 0
        query = {"status": {"$in": ["active", "charged"]}, "expires_at": {"$lte": now}}
        async for doc in self._journeys.find(query).limit(limit):
            key = f"journey:{doc['_id']}:expired"
            result = await self._journeys.update_one(
                {"_id": doc["_id"], "status": doc["status"]},
                changes.mark_pending({"$set": {"status": "expired", "ended_at": doc["expires_at"]}}, key, now),
            )
            if result.modified_count:
                moved += 1
                await changes.finish(self._journeys, await self._reread(doc), key, False, self._publish)
        return moved

    async def finish_pending(self, before: datetime) -> int:
        """Publish what a time-driven move left unpublished (the scheduler's next passes)."""
        return await changes.finish_pending(self._journeys, before, self._publish)
