"""Calls as plain data: folding call events into one record, the missed-call rule, extension states.

`fold` is order-independent for facts (earliest start, first answer, every leg, every recording),
so webhooks arriving late, twice or out of order give the same record; the state only moves
forward (new < queued < ringing < answered <-> held < ended).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from hub import end_reasons
from schemas.calls import STATE_RANK, CallEvent, CallState


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _advance(record: dict[str, Any], state: CallState) -> None:
    current = CallState(record["state"])
    if STATE_RANK[state] > STATE_RANK[current]:
        record["state"] = state.value


def new_record(company_id: str, call_id: str) -> dict[str, Any]:
    return {
        "company_id": company_id,
        "call_id": call_id,
        "state": CallState.new.value,
        "direction": None,
        "from_number": None,
        "to_number": None,
        "hotline": None,
        "legs": [],
        "extensions": [],
        "members": [],
        "departments": [],
        "answered_member_id": None,
        "channel": "pbx",
        "started_at": None,
        "wait_started_at": None,
        "answered_at": None,
        "answered_by": None,
        "ivr_answered_at": None,
        "hold_changed_at": None,
        "on_hold": False,
        "ended_at": None,
        "end_reason": None,
        "end_reason_text": None,
        "sip_code": None,
        "q850": None,
        "vendor_status": None,
        "hangup_by": None,
        "recording_urls": [],
        "transfers": [],
        "duration_s": None,
        "talk_s": None,
        "wait_s": None,
        "reported_duration_s": None,
        "reported_talk_s": None,
        "ended_seen_at": None,
        "finalized": False,
        "missed": None,
        "short_abandoned": None,
        "outcome": None,
        "version": 0,
    }


def _leg(record: dict[str, Any], event: CallEvent) -> dict[str, Any] | None:
    """The event's leg. A leg rings an extension (a member's phone) or an outside party (a customer's
    or a forwarded number: `party`, never an extension, masked on wallboards)."""
    key = event.leg_id or event.extension or event.party
    if key is None:
        return None
    for leg in record["legs"]:
        if leg["leg_id"] == key:
            if event.extension and not leg.get("extension"):
                leg["extension"] = event.extension
            if event.party and not leg.get("party"):
                leg["party"] = event.party
            if event.member_id and not leg.get("member_id"):
                leg["member_id"], leg["department_id"] = event.member_id, event.department_id
            return leg
    leg = {
        "leg_id": key,
        "extension": event.extension,
        "party": event.party,
        "member_id": event.member_id,
        "department_id": event.department_id,
        "state": "new",
        "ring_started_at": None,
        "answered_at": None,
        "ended_at": None,
        "ring_s": None,
        "end_reason": None,
        "sip_code": None,
        "q850": None,
        "vendor_status": None,
    }
    record["legs"].append(leg)
    return leg


_LEG_RANK = {"new": 0, "ringing": 1, "answered": 2, "ended": 3}


def _leg_state(leg: dict[str, Any], state: str) -> None:
    if _LEG_RANK[state] > _LEG_RANK[leg["state"]]:
        leg["state"] = state


def fold(record: dict[str, Any], event: CallEvent) -> dict[str, Any]:
    """The record with one more event applied. Pure: the input is not changed."""
    r = copy.deepcopy(record)
    at = event.occurred_at
    r["started_at"] = _min(r["started_at"], at)
    if event.channel != "pbx":
        r["channel"] = event.channel
    for field, value in (
        ("direction", event.direction),
        ("from_number", event.from_),
        ("to_number", event.to),
        ("hotline", event.hotline),
    ):
        if value and not r[field]:
            r[field] = value
    kind = event.event
    leg = _leg(r, event) if kind in ("ringing", "answered", "leg_ended", "held", "unheld") else None

    if kind in ("queued", "ringing"):
        r["wait_started_at"] = _min(r["wait_started_at"], at)
        _advance(r, CallState(kind))
        if kind == "ringing" and leg is not None:
            leg["ring_started_at"] = _min(leg["ring_started_at"], at)
            _leg_state(leg, "ringing")
    elif kind == "answered":
        # A person answered: an extension's leg, an outside party's (a forward), or the callee's of an outbound call.
        if leg is not None and (leg.get("extension") or leg.get("party") or r["direction"] == "outbound"):
            leg["answered_at"] = _min(leg["answered_at"], at)
            _leg_state(leg, "answered")
            _advance(r, CallState.answered)
        else:
            # An IVR or queue answering the caller's own channel: not a person's answer.
            r["ivr_answered_at"] = _min(r["ivr_answered_at"], at)
    elif kind in ("held", "unheld"):
        # The latest hold change wins, whatever order they arrive in; a hold implies an answer.
        if r["hold_changed_at"] is None or at >= r["hold_changed_at"]:
            r["hold_changed_at"] = at
            r["on_hold"] = kind == "held"
        _advance(r, CallState.answered)
    elif kind == "transferred":
        transfer = {"from_extension": event.extension, "to_extension": event.transfer_to, "at": at}
        if transfer not in r["transfers"]:
            r["transfers"].append(transfer)
            r["transfers"].sort(key=lambda t: t["at"])
    elif kind == "leg_ended":
        if leg is not None:
            leg["ended_at"] = _min(leg["ended_at"], at)
            _leg_state(leg, "ended")
            for code in ("sip_code", "q850", "vendor_status"):
                leg[code] = leg[code] if leg[code] is not None else getattr(event, code)
    elif kind == "ended":
        r["ended_at"] = _max(r["ended_at"], at)
        _advance(r, CallState.ended)
        for code in ("sip_code", "q850", "vendor_status", "hangup_by"):
            if getattr(event, code) is not None and r[code] is None:
                r[code] = getattr(event, code)

    if event.recording_url and event.recording_url not in r["recording_urls"]:
        r["recording_urls"].append(event.recording_url)
    if event.duration_s is not None:
        r["reported_duration_s"] = max(r.get("reported_duration_s") or 0, event.duration_s)
    if event.talk_s is not None:
        r["reported_talk_s"] = max(r.get("reported_talk_s") or 0, event.talk_s)
    return derive(r)


def derive(r: dict[str, Any]) -> dict[str, Any]:
    """Recompute what follows from the facts (the same whatever order they came in)."""
    if r["state"] in (CallState.answered.value, CallState.held.value):
        r["state"] = CallState.held.value if r.get("on_hold") else CallState.answered.value
    r["legs"].sort(
        key=lambda leg: (
            leg["ring_started_at"] or leg["answered_at"] or leg["ended_at"] or r["started_at"],
            leg["leg_id"],
        )
    )
    for leg in r["legs"]:
        leg["end_reason"] = (
            None
            if leg["ended_at"] is None and leg["answered_at"] is None
            else "completed"
            if leg["answered_at"]
            else end_reasons.derive(
                leg["sip_code"], leg["q850"], leg["vendor_status"], rang=leg["ring_started_at"] is not None
            )
            or "unknown"
        )
        if leg["ring_started_at"] is not None:
            until = leg["answered_at"] or leg["ended_at"] or r["ended_at"]
            leg["ring_s"] = round((until - leg["ring_started_at"]).total_seconds(), 3) if until else None
    answered = [leg for leg in r["legs"] if leg["answered_at"] is not None]
    first = min(answered, key=lambda leg: leg["answered_at"]) if answered else None
    r["answered_at"] = first["answered_at"] if first else None
    r["answered_by"] = (first.get("extension") or first.get("party")) if first else None
    ringing = sorted(
        (leg for leg in r["legs"] if leg.get("extension")),
        key=lambda leg: leg["ring_started_at"] or leg["answered_at"] or r["started_at"],
    )
    r["extensions"] = list(dict.fromkeys(leg["extension"] for leg in ringing))
    r["members"] = list(dict.fromkeys(leg["member_id"] for leg in ringing if leg.get("member_id")))
    r["departments"] = list(dict.fromkeys(leg["department_id"] for leg in ringing if leg.get("department_id")))
    r["answered_member_id"] = first.get("member_id") if first else None
    if r["state"] == CallState.ended.value:
        rang = any(leg["ring_started_at"] for leg in r["legs"])
        if r["answered_at"]:
            r["end_reason"] = "completed"
        else:
            r["end_reason"] = (
                end_reasons.derive(r["sip_code"], r["q850"], r["vendor_status"], rang=rang)
                or _from_legs(r["legs"])
                or "unknown"
            )
            if r["end_reason"] == "completed":  # the caller's channel ended normally, yet no person answered
                # answered by an IVR or queue and left there: abandoned; rung and hung up: cancelled
                r["end_reason"] = _from_legs(r["legs"]) or (
                    "abandoned"
                    if r["ivr_answered_at"] or r["wait_started_at"] and not rang
                    else "caller_cancelled"
                    if rang
                    else "unknown"
                )
        r["end_reason_text"] = end_reasons.text(r["end_reason"])
        start = r["wait_started_at"] or r["started_at"]
        until = r["answered_at"] or r["ended_at"]
        r["wait_s"] = round((until - start).total_seconds(), 3) if start and until else None
        # What the PBX reported wins; otherwise what the times say.
        r["talk_s"] = r.get("reported_talk_s")
        if r["talk_s"] is None and r["answered_at"] and r["ended_at"]:
            r["talk_s"] = round((r["ended_at"] - r["answered_at"]).total_seconds(), 3)
        r["duration_s"] = r.get("reported_duration_s")
        if r["duration_s"] is None and r["started_at"] and r["ended_at"]:
            r["duration_s"] = round((r["ended_at"] - r["started_at"]).total_seconds(), 3)
    return r


def _from_legs(legs: list[dict[str, Any]]) -> str | None:
    """An unanswered call's reason from its legs: the most telling one any leg ended with."""
    reasons = [leg["end_reason"] for leg in legs if leg["end_reason"]]
    for preferred in ("busy", "rejected", "no_answer", "unavailable", "caller_cancelled"):
        if preferred in reasons:
            return preferred
    return reasons[0] if reasons else None


def classify(r: dict[str, Any], short_abandon_s: float) -> dict[str, Any]:
    """The missed-call rule (reference section 3) and the history outcome of an ended call."""
    unanswered_inbound = r["direction"] == "inbound" and not r["answered_at"]
    missable = unanswered_inbound and r["end_reason"] in end_reasons.MISSED_REASONS
    waited = r["wait_s"] or 0
    missed = missable and waited >= short_abandon_s
    short = missable and not missed
    if r["answered_at"]:
        outcome = "answered"
    elif missed:
        outcome = "missed"
    elif short:
        outcome = "short_abandoned"
    else:
        outcome = "failed"
    return {"missed": missed, "short_abandoned": short, "outcome": outcome}


def missed_alert(r: dict[str, Any]) -> dict[str, Any]:
    """What the missed-call alert says: who called, who was rung and for how long, and why."""
    rang = [
        {"extension": leg["extension"], "ring_s": leg["ring_s"]}
        for leg in r["legs"]
        if leg.get("extension") and leg["ring_started_at"]
    ]
    reason = r["end_reason_text"] or end_reasons.text("unknown")
    assert reason is not None
    who_vi = (
        ", ".join(f"{x['extension']} trong {round(x['ring_s'] or 0)} giây" for x in rang) or "chưa đổ chuông máy nào"
    )
    who_en = ", ".join(f"{x['extension']} for {round(x['ring_s'] or 0)} s" for x in rang) or "no extension"
    target = r["hotline"] or r["to_number"] or ""
    return {
        "id": r["_id"],
        "call_id": r["call_id"],
        "from": r["from_number"],
        "hotline": r["hotline"],
        "rang": rang,
        "wait_s": r["wait_s"],
        "end_reason": r["end_reason"],
        "end_reason_text": reason,
        "text": {
            "vi": f"Cuộc gọi nhỡ từ {r['from_number']} tới {target}: đã đổ chuông {who_vi}. Lý do: {reason['vi']}.",
            "en": f"Missed call from {r['from_number']} to {target}: rang {who_en}. Reason: {reason['en']}.",
        },
    }


def extension_states(live_calls: list[dict[str, Any]]) -> dict[str, str]:
    """ringing, in_call or on_hold for each extension on a live call (idle otherwise)."""
    rank = {"ringing": 1, "in_call": 2, "on_hold": 3}
    states: dict[str, str] = {}
    for call in live_calls:
        for leg in call["legs"]:
            extension = leg.get("extension")
            if not extension or leg["state"] in ("ended", "new"):
                continue
            state = (
                "ringing"
                if leg["state"] == "ringing"
                else ("on_hold" if call["state"] == CallState.held.value else "in_call")
            )
            if rank[state] > rank.get(states.get(extension, ""), 0):
                states[extension] = state
    return states
