"""POST /webhooks/zalo: every Zalo OA event for every linked OA of every app.

raw body (<= 1 MiB, else 413) -> signature (X-ZEvent-Signature: mac=sha256(app_id + body + timestamp
+ OA secret key), else 401) -> JSON (else 400) -> stored as received, idempotently -> applied to
threads and messages (hub.chat) -> 200. A correctly signed event the hub does not understand is
stored raw and answered 200 (Zalo unsubscribes apps whose webhook keeps failing). If MongoDB is
unreachable the answer is 503 and Zalo retries.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub import metrics
from hub.limits import read_body
from hub.errors import BadRequest, HubError, Unauthorized
from schemas.zalo import EventKind, ZaloWebhook, classify

log = logging.getLogger(__name__)

MESSAGE_PREFIXES = ("user_send_", "oa_send_", "anonymous_send_")


def signature(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    return hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()).hexdigest()


def signature_matches(header: str, app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> bool:
    given = header.strip()
    if given.lower().startswith("mac="):
        given = given[4:]
    return hmac.compare_digest(given.strip().lower(), signature(app_id, raw, timestamp, oa_secret_key))


def idempotency_key(data: dict[str, Any]) -> str:
    """message.msg_id for message events; otherwise (event_name, app_id, timestamp, subject) (reference §2)."""
    name = str(data.get("event_name"))
    message = data.get("message") if isinstance(data.get("message"), dict) else {}
    if name.startswith(MESSAGE_PREFIXES) and message.get("msg_id"):
        parts = [name, str(data.get("app_id")), str(message["msg_id"])]
    else:
        subject = {k: data.get(k) for k in ("sender", "recipient", "follower", "user_id", "phone", "oa_id", "tag")}
        subject["msg"] = message.get("msg_id") or message.get("msg_ids") or message.get("tracking_id")
        parts = [name, str(data.get("app_id")), str(data.get("timestamp")), json.dumps(subject, sort_keys=True)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _reply(outcome: str, status: int = 200, **extra: Any) -> Response:
    metrics.WEBHOOKS.labels(source="zalo", outcome=outcome).inc()
    return JSONResponse({"ok": True, "outcome": outcome, **extra}, status_code=status)


async def receive(request: Request) -> Response:
    hub = request.app.state.hub
    try:
        raw = await read_body(request, hub.settings.max_body_bytes)
        header = request.headers.get("x-zevent-signature")
        if not header:
            raise Unauthorized("missing X-ZEvent-Signature", "missing_signature")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            log.info("malformed Zalo webhook", extra={"error": str(exc)})
            raise BadRequest(f"the body is not valid JSON: {exc}", "malformed_json") from None
        app_id, timestamp = (data.get("app_id"), data.get("timestamp")) if isinstance(data, dict) else (None, None)
        if not isinstance(app_id, str) or not isinstance(timestamp, str):
            raise BadRequest("a Zalo event carries app_id and timestamp as strings", "not_a_zalo_event")
        event: ZaloWebhook | None
        try:
            event = ZaloWebhook.model_validate(data)
        except ValidationError:
            event = None
        oa_ids = event.oa_candidates() if event else []
        link = next((candidate for candidate in await hub.oa_links.for_webhook(app_id, oa_ids)
                     if signature_matches(header, app_id, raw, timestamp, candidate["oa_secret_key"])), None)
        if link is None:
            raise Unauthorized("the signature matches no linked OA of this app", "bad_signature")
    except HubError as exc:
        metrics.WEBHOOKS.labels(source="zalo", outcome=exc.code).inc()
        raise

    kind = classify(event) if event else None
    key = idempotency_key(data)
    doc = {"_id": key, "company_id": link["company_id"], "link_id": link["_id"], "app_id": app_id,
           "event_name": data.get("event_name"), "timestamp": timestamp, "kind": kind.value if kind else None,
           "received_at": hub.clock.now(), "retry": request.headers.get("num_retry"), "payload": data,
           "raw": raw.decode("utf-8", errors="replace")}
    duplicate = False
    try:
        await hub.store.zalo_events.insert_one(doc)
    except DuplicateKeyError:
        duplicate = True
    if event is None or kind is None:
        log.info("Zalo event kept raw", extra={"event_name": data.get("event_name"), "event_key": key})
        return _reply("stored_raw")
    if link["status"] != "active":
        return _reply("link_disconnected")
    # Applied on duplicates too: each handler is idempotent, and this finishes a delivery whose first
    # attempt stored the event but failed before applying it.
    handler = {
        EventKind.consent_sent: hub.consents.on_sent,
        EventKind.consent_reply: hub.consents.on_reply,
        EventKind.zns_receipt: hub.zns.on_delivered,
        EventKind.zns_feedback: hub.zns.on_feedback,
        EventKind.zns_template: hub.zns.on_template_status,
    }.get(kind)
    if handler is not None:
        await handler(link, event)
    else:
        await hub.chat.apply(link, event, kind)
    if duplicate:
        return _reply("duplicate")
    return _reply("accepted" if kind is not EventKind.other else "stored")


ROUTES = [Route("/webhooks/zalo", receive, methods=["POST"])]
