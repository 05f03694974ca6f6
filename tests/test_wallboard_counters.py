"""Wallboard figures by the reference's formulas, and the day that starts at midnight company time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.calls import mask, today_start
from hub.wallboard import counters

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def call(
    wait: float,
    answered: bool = False,
    talk: float | None = None,
    missed: bool = False,
    short: bool = False,
    reason: str | None = None,
    direction: str = "inbound",
) -> dict:
    start = NOW - timedelta(minutes=30)
    return {
        "direction": direction,
        "started_at": start,
        "wait_started_at": start,
        "answered_at": start + timedelta(seconds=wait) if answered else None,
        "talk_s": talk,
        "missed": missed,
        "short_abandoned": short,
        "end_reason": reason or ("completed" if answered else "no_answer"),
    }


def test_counters_follow_the_reference_formulas() -> None:
    today = [
        call(10, answered=True, talk=60),
        call(30, answered=True, talk=120),
        call(12, missed=True, reason="caller_cancelled"),
        call(20, missed=True, reason="no_answer"),
        call(2, short=True, reason="caller_cancelled"),
        call(5, direction="outbound", answered=True, talk=10),
    ]
    ringing = {
        "state": "ringing",
        "direction": "inbound",
        "started_at": NOW - timedelta(seconds=42),
        "wait_started_at": NOW - timedelta(seconds=40),
    }
    figures = counters(today, [ringing], NOW, service_level_s=20)
    assert figures == {
        "offered": 5,
        "answered": 2,
        "missed": 2,
        "short_abandoned": 1,
        "abandoned": 1,
        "abandonment_rate": round(1 / 3, 4),  # abandoned / (answered + abandoned)
        "answer_rate": 0.5,  # answered / (offered - short abandoned)
        "average_wait_s": 20.0,
        "longest_wait_now_s": 40.0,
        "service_level": 0.25,  # answered within 20 s / (offered - short abandoned)
        "average_talk_s": 90.0,
    }


def test_the_day_starts_at_midnight_in_the_company_time_zone() -> None:
    late_evening_utc = datetime(2026, 11, 25, 18, 30, tzinfo=UTC)  # 01:30 on the 26th in Hanoi
    start = today_start(late_evening_utc, "Asia/Ho_Chi_Minh")
    assert start.isoformat() == "2026-11-26T00:00:00+07:00"
    assert today_start(late_evening_utc, "UTC").isoformat() == "2026-11-25T00:00:00+00:00"


def test_numbers_are_masked_but_the_last_three_digits() -> None:
    assert mask("0912345678") == "*******678"
    assert mask("+84912345678") == "*********678"
    assert mask("101") == "101"
