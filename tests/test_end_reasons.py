"""Why a call ended, row by row of the reference's table (reference/pbx-calls.md section 3)."""

from __future__ import annotations

import pytest

from hub.end_reasons import MISSED_REASONS, derive

# (end_reason, SIP finals, Q.850 causes, Asterisk DialStatus / queue events, Twilio statuses)
TABLE = [
    ("completed", [200], [16], ["ANSWER"], ["completed"]),
    ("busy", [486, 600], [17], ["BUSY"], ["busy"]),
    ("no_answer", [480, 408], [18, 19], ["NOANSWER"], ["no-answer"]),
    ("caller_cancelled", [487], [], ["CANCEL"], ["canceled"]),
    ("rejected", [603, 403], [21], [], []),
    ("unavailable", [], [20, 27], ["CHANUNAVAIL"], []),
    ("invalid_number", [404, 484, 485, 604, 410], [1, 3, 22, 28], [], []),
    ("congestion", [503], [34, 42], ["CONGESTION"], []),
    ("failed_network", [500, 502, 504], [38, 41, 102], [], []),
    ("failed_media", [488, 606], [58], [], []),
    ("answered_elsewhere", [], [26], [], []),
    ("abandoned", [], [], ["QueueCallerAbandon"], []),
    ("unknown", [499, 599], [31, 127, 95], [], []),
]


@pytest.mark.parametrize("reason,sips,causes,asterisk,twilio", TABLE)
def test_every_row_of_the_table(
    reason: str, sips: list[int], causes: list[int], asterisk: list[str], twilio: list[str]
) -> None:
    for sip in sips:
        assert derive(sip_code=sip) == reason, f"SIP {sip}"
    for cause in causes:
        assert derive(q850=cause) == reason, f"Q.850 {cause}"
    for status in asterisk + twilio:
        assert derive(vendor_status=status) == reason, status


def test_the_rules_between_the_columns() -> None:
    assert derive(sip_code=480, rang=False) == "unavailable", "480 before anything rang"
    assert derive(sip_code=488, q850=31) == "failed_media", "Q.850 31 on a 488"
    assert derive(sip_code=486, q850=21) == "rejected", "a Q.850 cause is trusted over the SIP status"
    assert derive(sip_code=480, q850=95) == "unknown", "a cause missing from the table is unknown, not the SIP's"
    assert derive(q850=16, sip_code=487) == "caller_cancelled", "16 on the caller's leg after a CANCEL"
    assert derive(sip_code=499, vendor_status="busy") == "busy", "an unmapped SIP status gives way to the vendor's"
    assert derive(sip_code=499) == "unknown"
    assert derive() is None


def test_a_twilio_failure_without_a_sip_code_is_no_missed_call() -> None:
    assert derive(vendor_status="failed") not in MISSED_REASONS
    assert derive(vendor_status="failed", sip_code=486) == "busy"
