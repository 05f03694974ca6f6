"""ZCC call consent: asking a customer, through the OA, for permission to call them on Zalo.

States (the product's): waiting -> agreed | rejected | no_response; agreed -> expired. A request
waiting 24 h without an answer turns no_response; an agreement lasts 30 days from the answer.
Resend rules, checked before Zalo is called: after no_response, only 24 h after the earlier
request's creation; after rejected, at once; while waiting or while an agreement is unexpired,
not at all. Time-driven changes are applied by the scheduler with conditional updates, so each
happens — and is published — once, however many processes run it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
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
from hub.store import Store, newest_first, record_filter
from schemas.events import Audience
from schemas.zalo import ZaloWebhook, epoch_ms, from_epoch_ms, zalo_phone

log = logging.getLogger(__name__)

WAIT_FOR = timedelta(hours=24)
AGREEMENT_LASTS = timedelta(days=30)
NEVER = datetime(9999, 12, 31, tzinfo=UTC)  # the resend time of an agreement with no limit
REASON_CODES = {
    101: "product/service consulting",
    103: "order/appointment confirmation",
    105: "delivery notice",
    106: "flight announcement",
    107: "order update",
}
# user_reply_consent.user_consent values: ALLOW agrees; sources disagree on the refusal value
# (USER_BLOCKED, or DENY): every other value is a refusal.
AGREE_VALUES = frozenset({"ALLOW"})


def resend_rule(latest: dict[str, Any] | None, now: datetime) -> datetime | None:
    """None when a new request may go out now; otherwise when it may (DESIGN: can_resend_at)."""
    if latest is None or latest["status"] in ("rejected", "expired", "failed"):
        return None
    if latest["status"] in ("waiting", "no_response"):
        allowed = latest["created_at"] + WAIT_FOR
        return None if now >= allowed else allowed
    if latest["status"] == "agreed":
        ends = latest["expires_at"] or NEVER  # an agreement Zalo gave no limit
        return None if now >= ends else ends
    return None


def agreement_ends(answered: datetime, expired_time: Any) -> datetime | None:
    """When an agreement lapses: Zalo's `expired_time` when it sends one (epoch ms; 0 = no limit, None
    is returned), 30 days after the answer when it does not (reference section 5)."""
    if expired_time is None or str(expired_time).strip() == "":
        return answered + AGREEMENT_LASTS
    if str(expired_time).strip() == "0":
        return None
    return epoch_ms(expired_time) or answered + AGREEMENT_LASTS


def view(doc: dict[str, Any], now: datetime) -> dict[str, Any]:
    can = resend_rule(doc, now)
    return {
        "id": doc["_id"],
        "oa_id": doc["oa_id"],
        "oa_link_id": doc["link_id"],
        "phone": doc["phone"],
        "reason_code": doc["reason_code"],
        "call_type": doc["call_type"],
        "requested_by": doc["requested_by"],
        "status": doc["status"],
        "send_status": doc["send_status"],
        "failure": doc.get("failure"),
        "charged": doc["charged"],
        "created_at": doc["created_at"],
        "answered_at": doc.get("answered_at"),
        "expires_at": doc.get("expires_at"),
        "customer_answer": doc.get("customer_answer"),
        "can_resend_at": can.isoformat() if can else None,
    }


class Consents:
    def __init__(self, store: Store, clock: Clock, links: OaLinks, publisher: Publisher) -> None:
        self._consents = store.consents
        self._links_coll = store.oa_links
        self._clock = clock
        self._links = links
        self._publisher = publisher

    def _audience(self, doc: dict[str, Any]) -> Audience:
        # Everyone who can list the request (GET /api/consents): owners and managers all, a user their own.
        return rulebook.supervisors([doc["requested_by"]] if doc.get("requested_by") else [])

    async def _publish(self, doc: dict[str, Any]) -> None:
        await self._publisher.publish(
            doc["company_id"], "consent.updated", view(doc, self._clock.now()), self._audience(doc)
        )

    async def _latest(self, link_id: str, phone: str) -> dict[str, Any] | None:
        return await self._consents.find_one({"link_id": link_id, "phone": phone}, sort=[("created_at", DESCENDING)])

    async def request(
        self, actor: Principal, oa_id: str, phone: str, reason_code: int, call_type: str
    ) -> dict[str, Any]:
        if reason_code not in REASON_CODES:
            raise Unprocessable(f"reason_code is one of {sorted(REASON_CODES)}", "invalid_reason_code")
        link = await self._links_coll.find_one({"company_id": actor.company_id, "oa_id": oa_id, "status": "active"})
        if link is None:
            raise NotFound("no active OA link with that oa_id", "oa_link_not_found")
        phone = zalo_phone(phone)
        now = self._clock.now()
        change = current_change()
        mine = await self._consents.find_one({"_id": change.step("consent")}) if change else None
        if mine is not None:
            return await self._redone(mine, now)
        latest = await self._latest(link["_id"], phone)
        wait_until = resend_rule(latest, now)
        if wait_until is not None:
            assert latest is not None  # only an earlier request makes one wait
            reason = {
                "waiting": "a request is still waiting for the customer's answer",
                "no_response": "the customer did not answer; a new request may go 24 h after the last one",
                "agreed": "the customer has agreed; the agreement has not expired",
            }[latest["status"]]
            raise Conflict(
                f"{reason} (can_resend_at {wait_until.isoformat()})",
                "consent_resend_refused",
                details={"can_resend_at": wait_until.isoformat()},
            )
        # Its id comes from the change: two attempts of one request cannot both insert, so Zalo is asked once.
        doc = {
            "_id": change.step("consent") if change else new_id(),
            "company_id": actor.company_id,
            "link_id": link["_id"],
            "oa_id": oa_id,
            "phone": phone,
            "reason_code": reason_code,
            "call_type": call_type,
            "requested_by": actor.member_id,
            "status": "waiting",
            "send_status": "sending",
            "failure": None,
            "charged": False,
            "created_at": now,
            "answered_at": None,
            "expires_at": None,
            "customer_answer": None,
            "due_at": None,
        }
        try:
            await self._consents.insert_one(doc)
        except DuplicateKeyError:  # a concurrent attempt of this request inserted it first
            return await self._redone(await self._consents.find_one({"_id": doc["_id"]}) or doc, now)
        try:
            data = await self._links.call(
                link["_id"], lambda token: self._links.zalo.request_consent(token, phone, call_type, reason_code)
            )
            changes = {"send_status": "success", "charged": True, "zalo": data, "due_at": now + WAIT_FOR}
        except ZaloError as exc:
            changes = {"send_status": "failure", "status": "failed", "failure": exc.as_failure()}
        await self._consents.update_one({"_id": doc["_id"]}, {"$set": changes})
        # The record as stored, as every later read gives it (BSON keeps times to the millisecond).
        doc = await self._consents.find_one({"_id": doc["_id"]}) or {**doc, **changes}
        await self._publish(doc)
        return view(doc, now)

    async def _redone(self, doc: dict[str, Any], now: datetime) -> dict[str, Any]:
        """A re-do of a request: publish what may be missing, unless the first attempt still waits for Zalo."""
        if doc.get("send_status") != "sending":
            await self._publish(doc)
        return view(doc, now)

    async def list(self, actor: Principal, filters: dict[str, Any]) -> list[dict[str, Any]]:
        now = self._clock.now()
        cursor = self._consents.find(self._query(actor, filters)).sort("created_at", DESCENDING).limit(500)
        return [view(doc, now) async for doc in cursor]

    def each(self, actor: Principal, filters: dict[str, Any]) -> AsyncIterator[dict[str, Any]]:
        """Every request of the list's filter, newest first, a batch at a time (an export of any size); the
        filter is checked here, before an export's answer starts."""
        now, query = self._clock.now(), self._query(actor, filters)
        return (view(doc, now) async for doc in newest_first(self._consents, query, "created_at"))

    def _query(self, actor: Principal, filters: dict[str, Any]) -> dict[str, Any]:
        query = record_filter(
            actor.company_id, filters, ("oa_id", "status", "call_type", "requested_by", "customer_answer"), "created_at"
        )
        if filters.get("reason_code"):
            if not str(filters["reason_code"]).isdigit():
                raise Unprocessable("reason_code is a number such as 101", "invalid_query")
            query["reason_code"] = int(filters["reason_code"])
        if filters.get("phone"):  # any form of the number; consents keep Zalo's (84…)
            query["phone"] = zalo_form(filters["phone"]) or filters["phone"]
        if not rulebook.may(actor.role, rulebook.Action.all_consents):
            query["requested_by"] = actor.member_id  # last: no filter widens a user's view
        return query

    # -- webhooks -------------------------------------------------------------------------------

    async def _for_webhook(self, link: dict[str, Any], event: ZaloWebhook) -> dict[str, Any] | None:
        phone = zalo_phone(event.phone or "")
        if not phone:
            return None
        latest = await self._latest(link["_id"], phone)
        if latest is None:  # a request sent outside the hub: keep track of it from here on
            created = from_epoch_ms((event.model_extra or {}).get("create_time"), event.occurred_at)
            latest = {
                "_id": new_id(),
                "company_id": link["company_id"],
                "link_id": link["_id"],
                "oa_id": link["oa_id"],
                "phone": phone,
                "reason_code": None,
                "call_type": None,
                "requested_by": None,
                "status": "waiting",
                "send_status": "success",
                "failure": None,
                "charged": True,
                "created_at": created,
                "answered_at": None,
                "expires_at": None,
                "customer_answer": None,
                "due_at": created + WAIT_FOR,
            }
            await self._consents.insert_one(latest)
        return latest

    async def on_sent(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        consent = await self._for_webhook(link, event)
        request_type = (event.model_extra or {}).get("request_type")
        if consent is not None and request_type == "EXPIRED":
            await self._move(consent, "waiting", {"status": "no_response", "due_at": None})

    async def on_reply(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        consent = await self._for_webhook(link, event)
        if consent is None:
            return
        extra = event.model_extra or {}
        answer = str(extra.get("user_consent") or "")
        answered = from_epoch_ms(extra.get("confirmed_time"), event.occurred_at)
        if answer in AGREE_VALUES:
            expires = agreement_ends(answered, extra.get("expired_time"))
            changes = {"status": "agreed", "answered_at": answered, "expires_at": expires, "due_at": expires}
        else:
            changes = {"status": "rejected", "answered_at": answered, "due_at": None}
        changes["customer_answer"] = answer
        changes["zalo_expired_time"] = extra.get("expired_time")
        for status in ("waiting", "no_response"):  # a late answer still counts
            if await self._move(consent, status, changes):
                return

    async def _move(self, consent: dict[str, Any], from_status: str, changes: dict[str, Any]) -> bool:
        if await update_once(
            self._consents, {"_id": consent["_id"]}, {"status": from_status}, {"$set": changes}, "consent"
        ):
            doc = await self._consents.find_one({"_id": consent["_id"]})
            assert doc is not None
            await self._publish(doc)
            return True
        return False

    # -- time-driven (DESIGN section 8) ---------------------------------------------------------

    async def expire_due(self, limit: int = 500) -> int:
        now = self._clock.now()
        moved = 0
        async for doc in self._consents.find({"due_at": {"$lte": now}}).limit(limit):
            target = {"waiting": "no_response", "agreed": "expired"}.get(doc["status"])
            if target is None:
                continue
            key = f"consent:{doc['_id']}:{doc['status']}:{target}"
            result = await self._consents.update_one(
                {"_id": doc["_id"], "status": doc["status"]},
                changes.mark_pending({"$set": {"status": target, "due_at": None}}, key, now),
            )
            if result.modified_count:
                moved += 1
                after = await self._consents.find_one({"_id": doc["_id"]})
                assert after is not None
                await changes.finish(self._consents, after, key, False, self._publish)
        return moved

    async def finish_pending(self, before: datetime) -> int:
        """Publish what a time-driven move left unpublished (the scheduler's next passes)."""
        return await changes.finish_pending(self._consents, before, self._publish)
