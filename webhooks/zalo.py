"""POST /webhooks/zalo: every Zalo OA event for every linked OA of every app.

raw body (<= 1 MiB, else 413) -> signature (X-ZEvent-Signature: mac=sha256(app_id + body + timestamp
+ OA secret key), else 401) -> JSON (else 400) -> stored as received, idempotently -> applied to
threads and messages (hub.chat) through the inbox (hub.inbox) -> 200. A correctly signed event the hub does not understand is
stored raw and answered 200 (Zalo unsubscribes apps whose webhook keeps failing). If MongoDB is
unreachable the answer is 503 and Zalo retries; a retry finishes whatever the first attempt left
half done (hub.inbox), and a duplicate of an applied delivery answers 200 and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub import metrics
from hub.api.routing import runtime
from hub.errors import BadRequest, HubError, Unauthorized
from hub.limits import read_body
from hub.storable import storable, storable_copy
from schemas.zalo import ZaloWebhook

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
    found = data.get("message")
    message: dict[str, Any] = found if isinstance(found, dict) else {}
    if name.startswith(MESSAGE_PREFIXES) and message.get("msg_id"):
        parts = [name, str(data.get("app_id")), str(message["msg_id"])]
    else:
        subject = {k: data.get(k) for k in ("sender", "recipient", "follower", "user_id", "phone", "oa_id", "tag")}
        subject["msg"] = message.get("msg_id") or message.get("msg_ids") or message.get("tracking_id")
        if name.startswith("event_journey_"):  # journey webhooks (hub.journeys): two journeys in one millisecond
            subject.update({key: data[key] for key in ("journey_id", "token") if data.get(key)})
        parts = [name, str(data.get("app_id")), str(data.get("timestamp")), json.dumps(subject, sort_keys=True)]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _reply(outcome: str, status: int = 200, **extra: Any) -> Response:
    metrics.WEBHOOKS.labels(source="zalo", outcome=outcome).inc()
    return JSONResponse({"ok": True, "outcome": outcome, **extra}, status_code=status)


async def receive(request: Request) -> Response:
    hub = runtime(request)
    try:
        raw = await read_body(request, hub.settings.max_body_bytes)
        header = request.headers.get("x-zevent-signature")
        if not header:
            raise Unauthorized("missing X-ZEvent-Signature", "missing_signature")
        try:
            data = json.loads(raw)
        except RecursionError:
            raise BadRequest("the body's JSON is nested too deeply", "malformed_json") from None
        except ValueError as exc:
            log.info("malformed Zalo webhook", extra={"error": str(exc)})
            raise BadRequest(f"the body is not valid JSON: {exc}", "malformed_json") from None
        app_id, timestamp = (data.get("app_id"), data.get("timestamp")) if isinstance(data, dict) else (None, None)
        if not isinstance(app_id, str) or not isinstance(timestamp, str):
            raise BadRequest("a Zalo event carries app_id and timestamp as strings", "not_a_zalo_event")
        event: ZaloWebhook | None
        try:
            # A payload BSON cannot hold as parsed is kept raw, never applied (nor refused: it is signed).
            event = ZaloWebhook.model_validate(data) if storable(data) else None
        except ValidationError:
            event = None
        oa_ids = event.oa_candidates() if event else []
        link = next(
            (
                candidate
                for candidate in await hub.oa_links.for_webhook(app_id, oa_ids)
                # A link made through OAuth before its owner gave the webhook key verifies nothing.
                if candidate.get("oa_secret_key")
                and signature_matches(header, app_id, raw, timestamp, candidate["oa_secret_key"])
            ),
            None,
        )
        if link is None:
            raise Unauthorized("the signature matches no linked OA of this app", "bad_signature")
    except HubError as exc:
        metrics.WEBHOOKS.labels(source="zalo", outcome=exc.code).inc()
        raise

    entry = {
        "_id": idempotency_key(data),
        "company_id": link["company_id"],
        "link_id": link["_id"],
        "app_id": app_id,
        "event_name": data.get("event_name"),
        "timestamp": timestamp,
        "received_at": hub.clock.now(),
        "retry": request.headers.get("num_retry"),
        "payload": data if event else storable_copy(data),
        "raw": raw.decode("utf-8", errors="replace"),
    }
    if entry["raw"].encode() != raw:
        entry["raw_bytes"] = raw  # the exact bytes, where the text above had to replace some
    return _reply(await hub.inbox.receive_zalo(entry, event, link))


ROUTES = [Route("/webhooks/zalo", receive, methods=["POST"])]
