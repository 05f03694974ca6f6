"""PBX webhook formats, each turned into the hub's canonical call events (schemas.calls.CallEvent).

- canonical: one CallEvent object, or a list of them.
- etelecom: eTelecom's call log (usually once, at the end): one event per rung target, then `ended`.
- twilio: Twilio-style status callbacks (form-encoded); child legs (ParentCallSid) fold into the parent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl

from schemas.calls import CallEvent, EtelecomCallLog, TwilioStatus


class FormatError(ValueError):
    """The body is not what the chosen format says."""


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise FormatError("the body's JSON is nested too deeply") from None
    except ValueError as exc:
        raise FormatError(f"the body is not valid JSON: {exc}") from None


def canonical(raw: bytes, received_at: datetime) -> list[CallEvent]:
    data = _json(raw)
    items = data if isinstance(data, list) else [data]
    return [CallEvent.model_validate(item) for item in items]


_ETELECOM_DIRECTION = {
    "in": "inbound",
    "out": "outbound",
    "ext": "internal",
    "ext_in": "internal",
    "ext_out": "internal",
}


def etelecom(raw: bytes, received_at: datetime) -> list[CallEvent]:
    log = EtelecomCallLog.model_validate(_json(raw))
    direction = _ETELECOM_DIRECTION[log.direction]
    base: dict[str, Any] = {
        "call_id": log.id,
        "direction": direction,
        "from": log.caller,
        "to": log.callee,
        "hotline": log.hotline or (log.callee if direction == "inbound" else None),
    }
    events: list[CallEvent] = []
    for target in log.call_targets:
        leg = {**base, "leg_id": target.target_number, "extension": target.target_number}
        if target.ring_time:
            events.append(CallEvent.model_validate({**leg, "event": "ringing", "occurred_at": target.ring_time}))
        if target.answered_time:
            events.append(CallEvent.model_validate({**leg, "event": "answered", "occurred_at": target.answered_time}))
        if target.ended_time:
            fail = int(str(target.fail_code)) if str(target.fail_code or "").isdigit() else None
            events.append(
                CallEvent.model_validate(
                    {
                        **leg,
                        "event": "leg_ended",
                        "occurred_at": target.ended_time,
                        "vendor_status": target.end_reason or target.status,
                        "sip_code": fail,
                    }
                )
            )
    if log.ended_at:
        answered = log.call_state == "answered"
        events.append(
            CallEvent.model_validate(
                {
                    **base,
                    "event": "ended",
                    "occurred_at": log.ended_at,
                    "duration_s": log.duration,
                    "vendor_status": None if not answered and log.call_targets else log.call_state,
                }
            )
        )
    for url in log.recording_urls:
        events.append(
            CallEvent.model_validate(
                {
                    **base,
                    "event": "ended" if log.ended_at else "ringing",
                    "occurred_at": log.ended_at or log.created_at,
                    "recording_url": url,
                }
            )
        )
    if not events:
        events.append(
            CallEvent.model_validate({**base, "event": "ringing", "occurred_at": log.started_at or log.created_at})
        )
    return events


def _twilio_time(value: str | None, fallback: datetime) -> datetime:
    if not value:
        return fallback
    try:
        return parsedate_to_datetime(value).astimezone(UTC)
    except (TypeError, ValueError):
        # Seen in the wild: "Thurs, 20 July 1989 18:30:43 +0000" (non-RFC day and month names).
        try:
            _, rest = value.split(",", 1)
            return datetime.strptime(rest.strip(), "%d %B %Y %H:%M:%S %z").astimezone(UTC)
        except ValueError:
            return fallback


def _endpoint(number: str | None) -> dict[str, Any]:
    """A dialled endpoint: `client:` and `sip:` ones are the PBX's own users (internal extensions); a plain
    number is an extension only if it is one (the hub decides: hub.calls)."""
    if not number:
        return {}
    for prefix in ("client:", "sip:"):
        if number.startswith(prefix):
            return {"extension": number[len(prefix) :].split("@")[0], "internal": True}
    return {"extension": number}


def twilio(raw: bytes, received_at: datetime) -> list[CallEvent]:
    form = dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    if not form:
        raise FormatError("a Twilio status callback is form-encoded")
    status = TwilioStatus.model_validate({k: v for k, v in form.items() if v != "" or k in ("CallSid", "CallStatus")})
    at = _twilio_time(status.Timestamp, received_at)
    child = bool(status.ParentCallSid)
    direction = "inbound" if (status.Direction or "").startswith("inbound") or child else "outbound"
    call: dict[str, Any] = {
        "call_id": status.ParentCallSid or status.CallSid,
        "occurred_at": at,
        "recording_url": status.RecordingUrl,
    }
    if not child:
        call.update(
            {
                "direction": direction,
                "from": status.From,
                "to": status.To,
                "hotline": status.To if direction == "inbound" else None,
            }
        )
    sip = int(status.SipResponseCode) if status.SipResponseCode and status.SipResponseCode.isdigit() else None
    duration = (
        float(status.CallDuration)
        if status.CallDuration and status.CallDuration.replace(".", "", 1).isdigit()
        else None
    )
    # A child leg rings a person (an agent's phone or client); so does the callee of an outbound call.
    person_leg = child or direction == "outbound"
    leg = {"leg_id": status.CallSid, **_endpoint(status.To)} if person_leg else {}
    kind = status.CallStatus
    if kind in ("queued", "initiated"):
        return [CallEvent.model_validate({**call, "event": "queued" if not child else "ringing", **leg})]
    if kind == "ringing":
        return [CallEvent.model_validate({**call, "event": "ringing", **leg})]
    if kind == "in-progress":
        return [CallEvent.model_validate({**call, "event": "answered", **leg})]
    ended = {"vendor_status": kind, "sip_code": sip, "duration_s": duration}
    if child:
        return [CallEvent.model_validate({**call, "event": "leg_ended", **leg, **ended})]
    events = [CallEvent.model_validate({**call, "event": "ended", **ended})]
    if person_leg:
        events.insert(0, CallEvent.model_validate({**call, "event": "leg_ended", **leg, **ended}))
    return events


FORMATS: dict[str, Callable[[bytes, datetime], list[CallEvent]]] = {
    "canonical": canonical,
    "etelecom": etelecom,
    "twilio": twilio,
}
