"""The call model as plain data: legs folded into one record, end reasons, the missed-call rule."""

from __future__ import annotations

import random

import pytest

from hub import call_model, end_reasons
from schemas.calls import CallEvent
from tests.pbx_payloads import canonical


def record_of(events: list[dict]) -> dict:
    record = {**call_model.new_record("co", events[0]["call_id"]), "_id": "x"}
    for event in events:
        record = call_model.fold(record, CallEvent.model_validate(event))
    return record


def summary(record: dict) -> dict:
    verdict = call_model.classify(record, short_abandon_s=5)
    return {
        "state": record["state"],
        "answered_by": record["answered_by"],
        "end_reason": record["end_reason"],
        "extensions": record["extensions"],
        **verdict,
    }


@pytest.mark.parametrize(
    "kind,expected",
    [
        (
            "answered",
            {
                "state": "ended",
                "answered_by": "101",
                "end_reason": "completed",
                "extensions": ["101"],
                "missed": False,
                "short_abandoned": False,
                "outcome": "answered",
            },
        ),
        (
            "busy",
            {
                "state": "ended",
                "answered_by": None,
                "end_reason": "busy",
                "extensions": ["101"],
                "missed": True,
                "short_abandoned": False,
                "outcome": "missed",
            },
        ),
        (
            "no_answer",
            {
                "state": "ended",
                "answered_by": None,
                "end_reason": "no_answer",
                "extensions": ["102"],
                "missed": True,
                "short_abandoned": False,
                "outcome": "missed",
            },
        ),
        (
            "caller_cancelled",
            {
                "state": "ended",
                "answered_by": None,
                "end_reason": "caller_cancelled",
                "extensions": ["101"],
                "missed": True,
                "short_abandoned": False,
                "outcome": "missed",
            },
        ),
        (
            "short_cancel",
            {
                "state": "ended",
                "answered_by": None,
                "end_reason": "caller_cancelled",
                "extensions": ["101"],
                "missed": False,
                "short_abandoned": True,
                "outcome": "short_abandoned",
            },
        ),
        (
            "queued_abandoned",
            {
                "state": "ended",
                "answered_by": None,
                "end_reason": "abandoned",
                "extensions": ["103"],
                "missed": True,
                "short_abandoned": False,
                "outcome": "missed",
            },
        ),
        (
            "transferred",
            {
                "state": "ended",
                "answered_by": "101",
                "end_reason": "completed",
                "extensions": ["101", "104"],
                "missed": False,
                "short_abandoned": False,
                "outcome": "answered",
            },
        ),
        (
            "second_answers",
            {
                "state": "ended",
                "answered_by": "102",
                "end_reason": "completed",
                "extensions": ["101", "102"],
                "missed": False,
                "short_abandoned": False,
                "outcome": "answered",
            },
        ),
    ],
)
def test_each_sequence_folds_into_the_record_the_product_shows(kind: str, expected: dict) -> None:
    record = record_of(canonical(kind))
    assert summary(record) == expected
    assert record["end_reason_text"] == end_reasons.text(expected["end_reason"])


@pytest.mark.parametrize(
    "kind", ["answered", "busy", "no_answer", "caller_cancelled", "queued_abandoned", "transferred", "second_answers"]
)
def test_shuffled_and_duplicated_events_give_the_same_record(kind: str) -> None:
    events = canonical(kind)
    reference = record_of(events)
    rng = random.Random(kind)
    for _ in range(20):
        shuffled = events + rng.sample(events, k=len(events) // 2)
        rng.shuffle(shuffled)
        assert record_of(shuffled) == reference


def test_state_only_moves_forward_but_late_events_still_add_facts() -> None:
    events = canonical("answered")
    ended = record_of([events[0], events[-1]])
    late = call_model.fold(ended, CallEvent.model_validate(events[1]))
    assert late["state"] == "ended"
    assert late["answered_by"] == "101" and late["talk_s"] == 60
    assert late["recording_urls"] == [events[-1]["recording_url"]]


def test_busy_with_a_q850_reason_trusts_the_q850_cause() -> None:
    assert end_reasons.derive(sip_code=480, q850=17) == "busy"
    assert end_reasons.derive(sip_code=480, rang=False) == "unavailable"
    assert end_reasons.derive(sip_code=480, rang=True) == "no_answer"
    assert end_reasons.derive(sip_code=503, q850=38) == "failed_network"
    assert end_reasons.derive(vendor_status="canceled") == "caller_cancelled"
    assert end_reasons.derive(sip_code=487, q850=16) == "caller_cancelled"


def test_ivr_answering_the_caller_is_not_an_answer() -> None:
    record = record_of(
        [
            {"call_id": "c", "event": "ringing", "occurred_at": "2026-11-26T01:00:00+00:00", "direction": "inbound"},
            {"call_id": "c", "event": "answered", "occurred_at": "2026-11-26T01:00:01+00:00"},
            {
                "call_id": "c",
                "event": "ended",
                "occurred_at": "2026-11-26T01:00:20+00:00",
                "vendor_status": "QueueCallerAbandon",
            },
        ]
    )
    assert record["answered_at"] is None and record["end_reason"] == "abandoned"


def test_extension_states_follow_live_calls() -> None:
    ringing = record_of(canonical("answered")[:1])
    held = record_of(canonical("answered")[:3])
    assert call_model.extension_states([ringing]) == {"101": "ringing"}
    assert call_model.extension_states([held]) == {"101": "on_hold"}
    assert call_model.extension_states([ringing, held]) == {"101": "on_hold"}


def test_missed_alert_names_who_was_rung_for_how_long_and_why() -> None:
    record = record_of(canonical("no_answer"))
    alert = call_model.missed_alert(record)
    assert alert["rang"] == [{"extension": "102", "ring_s": 30.0}]
    assert alert["text"]["en"].endswith("rang 102 for 30 s. Reason: No answer.")
    assert "Không nghe máy" in alert["text"]["vi"]
