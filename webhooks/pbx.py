"""POST /webhooks/pbx/{company_code}?format=canonical|etelecom|twilio: call events from the company's PBX.

raw body (<= 1 MiB, else 413) -> X-Hub-Signature `t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`
(missing, wrong, or more than 300 s off: 401) -> the format's parser (unknown format or a body that
does not fit it: 400) -> stored as received, idempotently -> folded into call records (hub.calls)
-> 200. If MongoDB is unreachable the answer is 503 and the PBX retries.
"""

from __future__ import annotations

import hashlib
import hmac
import logging

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub import metrics
from hub.api.routing import runtime
from hub.errors import BadRequest, HubError, NotFound, Unauthorized
from hub.limits import read_body
from webhooks.pbx_formats import FORMATS, FormatError

log = logging.getLogger(__name__)

MAX_SKEW_S = 300


def sign(secret: str, timestamp: int, raw: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _verify(header: str | None, secret: str, raw: bytes, now: float) -> None:
    if not header:
        raise Unauthorized("missing X-Hub-Signature", "missing_signature")
    parts = dict(part.strip().partition("=")[::2] for part in header.split(","))
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise Unauthorized("X-Hub-Signature needs t=<unix seconds>", "bad_signature") from None
    if abs(now - timestamp) > MAX_SKEW_S:
        raise Unauthorized(f"the signature's time is more than {MAX_SKEW_S} s off the hub's clock", "stale_signature")
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(parts.get("v1", "").lower(), expected):
        raise Unauthorized("the signature does not match", "bad_signature")


async def receive(request: Request) -> Response:
    hub = runtime(request)
    try:
        code = request.path_params["company_code"]
        company = await hub.directory.company_by_code(code)
        if company is None:
            raise NotFound(f"no company with code {code!r}", "company_not_found")
        raw = await read_body(request, hub.settings.max_body_bytes)
        secret = await hub.telephony.pbx_secret(company.id)
        if not secret:
            raise Unauthorized(
                "this company has no PBX secret yet: the owner creates one with POST /api/pbx/secret", "no_pbx_secret"
            )
        now = hub.clock.now()
        _verify(request.headers.get("x-hub-signature"), secret, raw, now.timestamp())
        name = request.query_params.get("format", "canonical")
        parse = FORMATS.get(name)
        if parse is None:
            raise BadRequest(f"unknown format {name!r}; use one of {', '.join(FORMATS)}", "unknown_format")
        try:
            events = parse(raw, now)
        except (FormatError, ValidationError, ValueError) as exc:
            log.info("malformed PBX webhook", extra={"format": name, "error": str(exc)[:500]})
            raise BadRequest(
                f"the body is not a valid {name} call event: {str(exc)[:300]}", "invalid_call_event"
            ) from None
    except HubError as exc:
        metrics.WEBHOOKS.labels(source="pbx", outcome=exc.code).inc()
        raise
    key = hashlib.sha256(company.id.encode() + b"|" + name.encode() + b"|" + raw).hexdigest()
    entry = {
        "_id": key,
        "company_id": company.id,
        "format": name,
        "received_at": now,
        "raw": raw.decode("utf-8", errors="replace"),
    }
    # Applied through the inbox (hub.inbox): a redelivery, or the sweeper when the PBX never retries,
    # finishes a delivery that failed half way.
    outcome, calls = await hub.inbox.receive_pbx(entry, events)
    metrics.WEBHOOKS.labels(source="pbx", outcome=outcome).inc()
    return JSONResponse({"ok": True, "outcome": outcome, "calls": calls})


ROUTES = [Route("/webhooks/pbx/{company_code}", receive, methods=["POST"])]
