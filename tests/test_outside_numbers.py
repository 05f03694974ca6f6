"""A customer's number never reaches a wallboard in full: a dialled outside number (an outbound call's
callee, a forward to a mobile) is an outside party, masked everywhere a wall display sees it, never an
extension and never an extension state (reference pbx-calls.md section 3; the product's privacy)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hub.runtime import Runtime
from tests.conftest import Company
from tests.consoles import TestConsole
from tests.pbx_payloads import HOTLINE, Pbx

OUTSIDE = "0987654321"
DIGITS = ("0987654321", "84987654321", "987654321")  # any unmasked form of it


def _at(base: datetime, seconds: float) -> str:
    return (base + timedelta(seconds=seconds)).isoformat()


def _canonical_forward(base: datetime) -> tuple[str, list[Any]]:
    """An inbound call that rings extension 101, then is forwarded to a mobile that answers."""
    call_id = "fwd-" + secrets.token_hex(5)
    common = {"call_id": call_id, "direction": "inbound", "from": "0911000222", "to": HOTLINE, "hotline": HOTLINE}
    return "canonical", [
        {**common, "event": "ringing", "leg_id": "a", "extension": "101", "occurred_at": _at(base, 0)},
        {
            **common,
            "event": "leg_ended",
            "leg_id": "a",
            "extension": "101",
            "occurred_at": _at(base, 10),
            "sip_code": 480,
        },
        {**common, "event": "ringing", "leg_id": "b", "extension": OUTSIDE, "occurred_at": _at(base, 11)},
        {**common, "event": "answered", "leg_id": "b", "extension": OUTSIDE, "occurred_at": _at(base, 15)},
    ]


def _twilio_outbound(base: datetime) -> tuple[str, list[Any]]:
    """An agent's outbound call (Twilio REST API) to a customer's mobile, answered."""
    sid = "CA" + secrets.token_hex(16)
    stamp = (base + timedelta(seconds=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    common = {
        "CallSid": sid,
        "From": "client:101",
        "To": "+84987654321",
        "Direction": "outbound-api",
        "Timestamp": stamp,
    }
    return "twilio", [
        {**common, "CallStatus": "ringing", "SequenceNumber": "0"},
        {**common, "CallStatus": "in-progress", "SequenceNumber": "1"},
    ]


def _etelecom_forward(base: datetime) -> tuple[str, list[Any]]:
    """An eTelecom call log whose call target is a forward to a mobile (sent while live here)."""
    return "etelecom", [
        {
            "id": "et-" + secrets.token_hex(5),
            "call_state": "answered",
            "direction": "in",
            "caller": "0911000222",
            "callee": HOTLINE,
            "created_at": _at(base, 0),
            "started_at": _at(base, 0),
            "call_targets": [
                {
                    "target_number": OUTSIDE,
                    "ring_time": _at(base, 1),
                    "answered_time": _at(base, 4),
                    "status": "answered",
                }
            ],
        }
    ]


@pytest.mark.parametrize("make", [_canonical_forward, _twilio_outbound, _etelecom_forward])
async def test_an_outside_number_reaches_a_wallboard_only_masked(company: Company, make) -> None:
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    token = (
        await company.http.post(f"{company.url}/api/wallboard-tokens", headers=company.owner.auth, json={"name": "TV"})
    ).json()["token"]
    board = await TestConsole(company.url, token).connect()
    owner = await company.console(company.owner).connect()
    company.consoles.append(board)
    fmt, bodies = make(datetime.now(UTC) - timedelta(seconds=30))
    for body in bodies:
        assert (await pbx.post(company.http, body, fmt=fmt)).status_code == 200
    await board.wait_for(lambda: any(e["data"]["state"] == "answered" for e in board.of_type("call.updated")))
    await board.wait_for(lambda: any(s["live_calls"] for s in board.ephemeral("wallboard.snapshot")))
    seen = json.dumps([data for _, data in board.events], ensure_ascii=False)
    for form in DIGITS:
        assert form not in seen, f"{form} reached the wallboard"
    call = next(e["data"] for e in board.of_type("call.updated") if e["data"]["state"] == "answered")
    assert OUTSIDE not in call["extensions"] and "*******321" in json.dumps(call)
    assert all(e["data"]["extension"] != OUTSIDE for e in board.of_type("extension.state"))
    # a supervisor sees who answered, in full
    await owner.wait_for(lambda: any(e["data"]["state"] == "answered" for e in owner.of_type("call.updated")))
    full = next(e["data"] for e in owner.of_type("call.updated") if e["data"]["state"] == "answered")
    assert full["answered_by"] in (OUTSIDE, "+84987654321") and OUTSIDE not in full["extensions"]
    states = (await company.http.get(f"{company.url}/api/extensions", headers=company.owner.auth)).json()
    assert OUTSIDE not in json.dumps(states)


async def test_a_registered_long_number_stays_an_extension(company: Company) -> None:
    """A company whose extensions are full numbers registers them: then they are extensions."""
    response = await company.http.post(
        f"{company.url}/api/extensions", headers=company.owner.auth, json={"number": OUTSIDE, "name": "Quầy"}
    )
    assert response.status_code == 201, response.text
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    owner = await company.console(company.owner).connect()
    fmt, bodies = _canonical_forward(datetime.now(UTC) - timedelta(seconds=30))
    for body in bodies:
        assert (await Pbx(company.url, company.code, secret).post(company.http, body, fmt=fmt)).status_code == 200
    await owner.wait_for(lambda: any(e["data"]["state"] == "answered" for e in owner.of_type("call.updated")))
    call = next(e["data"] for e in owner.of_type("call.updated") if e["data"]["state"] == "answered")
    assert OUTSIDE in call["extensions"] and call["answered_by"] == OUTSIDE


async def test_outside_numbers_stored_as_extension_states_are_forgotten_at_start(
    company: Company, runtime: Runtime
) -> None:
    await runtime.store.extension_states.insert_one(
        {
            "_id": secrets.token_hex(12),
            "company_id": company.id,
            "extension": "84987654321",
            "state": "idle",
            "since": datetime.now(UTC),
        }
    )
    await runtime.store.extension_states.insert_one(
        {
            "_id": secrets.token_hex(12),
            "company_id": company.id,
            "extension": "105",
            "state": "idle",
            "since": datetime.now(UTC),
        }
    )
    assert await runtime.calls.forget_outside_numbers() >= 1  # what the hub runs as it starts
    left = {d["extension"] async for d in runtime.store.extension_states.find({"company_id": company.id})}
    assert left == {"105"}
