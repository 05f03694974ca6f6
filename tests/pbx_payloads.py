"""Recorded-style PBX call sequences in the three accepted formats, and a signed sender."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from webhooks.pbx import sign

CALLER = "0912345678"
HOTLINE = "19001234"


def _at(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


def canonical(kind: str, base: datetime | None = None, call_id: str | None = None) -> list[dict[str, Any]]:
    """Canonical events of one inbound call to the hotline, as a PBX would send them in order."""
    base = base or datetime.now(UTC) - timedelta(seconds=60)
    call_id = call_id or "call-" + secrets.token_hex(6)
    common = {"call_id": call_id, "direction": "inbound", "from": CALLER, "to": HOTLINE, "hotline": HOTLINE}

    def ev(event: str, t: float, **extra: Any) -> dict[str, Any]:
        return {**common, "event": event, "occurred_at": _at(base, t), **extra}

    def ring(ext: str, t: float) -> dict[str, Any]:
        return ev("ringing", t, leg_id=f"{call_id}-{ext}", extension=ext)

    if kind == "answered":
        return [
            ring("101", 0),
            ev("answered", 8, leg_id=f"{call_id}-101", extension="101"),
            ev("held", 20),
            ev("unheld", 30),
            ev(
                "ended",
                68,
                sip_code=200,
                q850=16,
                hangup_by="caller",
                duration_s=68,
                talk_s=60,
                recording_url=f"https://rec.example/{call_id}.mp3",
            ),
        ]
    if kind == "busy":
        return [
            ring("101", 0),
            ev("leg_ended", 1, leg_id=f"{call_id}-101", extension="101", sip_code=486, q850=17),
            ev("ended", 7, sip_code=486, q850=17, duration_s=7),
        ]
    if kind == "no_answer":
        return [
            ring("102", 0),
            ev("leg_ended", 30, leg_id=f"{call_id}-102", extension="102", sip_code=480),
            ev("ended", 30, sip_code=480, duration_s=30),
        ]
    if kind == "caller_cancelled":
        return [ring("101", 0), ev("ended", 12, sip_code=487, q850=16, hangup_by="caller", duration_s=12)]
    if kind == "short_cancel":
        return [ring("101", 0), ev("ended", 2, sip_code=487, duration_s=2)]
    if kind == "queued_abandoned":
        return [ev("queued", 0), ring("103", 3), ev("ended", 11, vendor_status="QueueCallerAbandon", duration_s=11)]
    if kind == "transferred":
        return [
            ring("101", 0),
            ev("answered", 5, leg_id=f"{call_id}-101", extension="101"),
            ev("transferred", 40, extension="101", transfer_to="104"),
            ring("104", 41),
            ev("answered", 44, leg_id=f"{call_id}-104", extension="104"),
            ev("leg_ended", 41, leg_id=f"{call_id}-101", extension="101", sip_code=200),
            ev("ended", 100, sip_code=200, q850=16, duration_s=100),
        ]
    if kind == "second_answers":
        return [
            ring("101", 0),
            ev("leg_ended", 15, leg_id=f"{call_id}-101", extension="101", sip_code=480),
            ring("102", 15),
            ev("answered", 19, leg_id=f"{call_id}-102", extension="102"),
            ev("ended", 79, sip_code=200, q850=16, duration_s=79),
        ]
    raise ValueError(kind)


def etelecom(kind: str, base: datetime | None = None) -> dict[str, Any]:
    """An eTelecom call log (posted once, when the call ended)."""
    base = base or datetime.now(UTC) - timedelta(seconds=60)
    call_id = "et-" + secrets.token_hex(6)
    log: dict[str, Any] = {
        "id": call_id,
        "direction": "in",
        "caller": CALLER,
        "callee": HOTLINE,
        "extension_id": None,
        "user_id": None,
        "created_at": _at(base, 0),
        "started_at": _at(base, 0),
    }
    if kind == "answered":
        log.update(
            call_state="answered",
            ended_at=_at(base, 70),
            duration=70,
            recording_urls=[f"https://rec.example/{call_id}.mp3"],
            call_targets=[
                {
                    "target_number": "101",
                    "ring_time": _at(base, 1),
                    "answered_time": _at(base, 6),
                    "ended_time": _at(base, 70),
                    "ring_duration": 5,
                    "status": "answered",
                    "end_reason": "answered",
                    "fail_code": None,
                }
            ],
        )
    elif kind == "second_answers":
        log.update(
            call_state="answered",
            ended_at=_at(base, 80),
            duration=80,
            call_targets=[
                {
                    "target_number": "101",
                    "ring_time": _at(base, 1),
                    "ended_time": _at(base, 16),
                    "ring_duration": 15,
                    "status": "not_answered",
                    "end_reason": "no_answer",
                    "fail_code": "480",
                },
                {
                    "target_number": "102",
                    "ring_time": _at(base, 16),
                    "answered_time": _at(base, 20),
                    "ended_time": _at(base, 80),
                    "ring_duration": 4,
                    "status": "answered",
                    "end_reason": "answered",
                    "fail_code": None,
                },
            ],
        )
    elif kind == "no_answer":
        log.update(
            call_state="not_answered",
            ended_at=_at(base, 31),
            duration=31,
            call_targets=[
                {
                    "target_number": "102",
                    "ring_time": _at(base, 1),
                    "ended_time": _at(base, 31),
                    "ring_duration": 30,
                    "status": "not_answered",
                    "end_reason": "no_answer",
                    "fail_code": "480",
                }
            ],
        )
    elif kind == "busy":
        log.update(
            call_state="not_answered",
            ended_at=_at(base, 8),
            duration=8,
            call_targets=[
                {
                    "target_number": "101",
                    "ring_time": _at(base, 1),
                    "ended_time": _at(base, 2),
                    "ring_duration": 1,
                    "status": "busy",
                    "end_reason": "busy_line",
                    "fail_code": "486",
                }
            ],
        )
    elif kind == "caller_cancelled":
        log.update(
            call_state="not_answered",
            ended_at=_at(base, 13),
            duration=13,
            call_targets=[
                {
                    "target_number": "101",
                    "ring_time": _at(base, 1),
                    "ended_time": _at(base, 13),
                    "ring_duration": 12,
                    "status": "cancelled",
                    "end_reason": "cancel",
                    "fail_code": "487",
                }
            ],
        )
    elif kind == "queued_abandoned":
        log.update(
            call_state="not_answered",
            ended_at=_at(base, 20),
            duration=20,
            call_targets=[
                {
                    "target_number": "103",
                    "ring_time": _at(base, 4),
                    "ended_time": _at(base, 20),
                    "ring_duration": 16,
                    "status": "abandoned",
                    "end_reason": "abandoned",
                    "fail_code": None,
                }
            ],
        )
    elif kind == "transferred":
        log.update(
            call_state="answered",
            ended_at=_at(base, 100),
            duration=100,
            call_targets=[
                {
                    "target_number": "101",
                    "ring_time": _at(base, 1),
                    "answered_time": _at(base, 5),
                    "ended_time": _at(base, 40),
                    "ring_duration": 4,
                    "status": "answered",
                    "end_reason": "answered",
                    "fail_code": None,
                },
                {
                    "target_number": "104",
                    "ring_time": _at(base, 40),
                    "answered_time": _at(base, 44),
                    "ended_time": _at(base, 100),
                    "ring_duration": 4,
                    "status": "answered",
                    "end_reason": "answered",
                    "fail_code": None,
                },
            ],
        )
    else:
        raise ValueError(kind)
    return log


def twilio(kind: str, base: datetime | None = None) -> list[dict[str, str]]:
    """Twilio-style status callbacks of one inbound call (parent) dialing agent 101 (child)."""
    base = base or datetime.now(UTC) - timedelta(seconds=60)
    parent, child = "CA" + secrets.token_hex(16), "CA" + secrets.token_hex(16)

    def stamp(t: float) -> str:
        return (base + timedelta(seconds=t)).strftime("%a, %d %b %Y %H:%M:%S +0000")

    def p(status: str, t: float, seq: int, **extra: str) -> dict[str, str]:
        return {
            "CallSid": parent,
            "CallStatus": status,
            "From": f"+84{CALLER[1:]}",
            "To": HOTLINE,
            "Direction": "inbound",
            "SequenceNumber": str(seq),
            "Timestamp": stamp(t),
            **extra,
        }

    def c(status: str, t: float, seq: int, **extra: str) -> dict[str, str]:
        return {
            "CallSid": child,
            "ParentCallSid": parent,
            "CallStatus": status,
            "From": f"+84{CALLER[1:]}",
            "To": "client:101",
            "Direction": "outbound-dial",
            "SequenceNumber": str(seq),
            "Timestamp": stamp(t),
            **extra,
        }

    if kind == "answered":
        return [
            p("ringing", 0, 0),
            p("in-progress", 1, 1),
            c("ringing", 2, 0),
            c("in-progress", 9, 1),
            c("completed", 69, 2, CallDuration="60"),
            p("completed", 70, 2, CallDuration="70"),
        ]
    if kind == "caller_cancelled":
        return [
            p("ringing", 0, 0),
            p("in-progress", 1, 1),
            c("ringing", 2, 0),
            c("canceled", 14, 1, SipResponseCode="487"),
            p("completed", 14, 2, CallDuration="14"),
        ]
    if kind == "no_answer":
        return [
            p("ringing", 0, 0),
            p("in-progress", 1, 1),
            c("ringing", 2, 0),
            c("no-answer", 32, 1, SipResponseCode="480"),
            p("completed", 33, 2, CallDuration="33"),
        ]
    if kind == "busy":
        return [
            p("ringing", 0, 0),
            p("in-progress", 1, 1),
            c("ringing", 2, 0),
            c("busy", 3, 1, SipResponseCode="486"),
            p("completed", 9, 2, CallDuration="9"),
        ]
    if kind == "queued_abandoned":  # the caller waits in the queue (TwiML answered it) and hangs up
        return [p("ringing", 0, 0), p("in-progress", 1, 1), p("completed", 25, 2, CallDuration="25")]
    if kind in ("second_answers", "transferred"):
        second = "CA" + secrets.token_hex(16)

        def c2(status: str, t: float, seq: int, **extra: str) -> dict[str, str]:
            return {**c(status, t, seq, **extra), "CallSid": second, "To": "client:102"}

        first_leg = (
            [c("ringing", 2, 0), c("no-answer", 17, 1, SipResponseCode="480")]
            if kind == "second_answers"
            else [c("ringing", 2, 0), c("in-progress", 5, 1), c("completed", 40, 2, CallDuration="35")]
        )
        start = 17 if kind == "second_answers" else 40  # the next agent rings after the first gave up / transferred
        return [
            p("ringing", 0, 0),
            p("in-progress", 1, 1),
            *first_leg,
            c2("ringing", start, 0),
            c2("in-progress", start + 4, 1),
            c2("completed", 80, 2, CallDuration=str(76 - start)),
            p("completed", 81, 2, CallDuration="81"),
        ]
    raise ValueError(kind)


@dataclass
class Pbx:
    """The company's PBX posting signed webhooks to the hub."""

    url: str
    company_code: str
    secret: str
    clock_offset_s: float = 0.0

    async def post(
        self,
        http: httpx.AsyncClient,
        body: Any,
        fmt: str = "canonical",
        secret: str | None = None,
        at: float | None = None,
    ) -> httpx.Response:
        if fmt == "twilio":
            raw = urlencode(body).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            raw = json.dumps(body).encode()
            content_type = "application/json"
        stamp = int(at if at is not None else time.time() + self.clock_offset_s)
        headers = {"X-Hub-Signature": sign(secret or self.secret, stamp, raw), "Content-Type": content_type}
        return await http.post(
            f"{self.url}/webhooks/pbx/{self.company_code}?format={fmt}", content=raw, headers=headers
        )
