"""A TV on the wall: pushed, masked, healed by snapshots, and never shown a chat."""

from __future__ import annotations

import json

import socketio

from tests.conftest import Company
from tests.consoles import TestConsole
from tests.pbx_payloads import CALLER, Pbx, canonical
from tests.zalo_payloads import Oa, zalo_id


async def _wallboard(company: Company, by) -> str:
    response = await company.http.post(f"{company.url}/api/wallboard-tokens", headers=by.auth, json={"name": "Sảnh"})
    assert response.status_code == 201, response.text
    return response.json()["token"]


async def test_wallboard_gets_masked_calls_and_counters_and_nothing_of_chats(company: Company, oa: Oa) -> None:
    manager = await company.add("manager")
    user = await company.add("user")
    assert (
        await company.http.post(f"{company.url}/api/wallboard-tokens", headers=user.auth, json={})
    ).status_code == 403
    token = await _wallboard(company, manager)
    assert (
        await company.http.get(f"{company.url}/api/threads", headers={"Authorization": f"Bearer {token}"})
    ).status_code == 403, "a wallboard token opens nothing else"
    await company.http.put(
        f"{company.url}/api/members/{user.id}/extension", headers=company.owner.auth, json={"extension": "102"}
    )
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)

    board = TestConsole(company.url, token)
    company.consoles.append(board)
    await board.connect()
    await board.wait_for(lambda: board.ephemeral("wallboard.snapshot"))
    first = board.ephemeral("wallboard.snapshot")[0]
    assert first["counters"]["offered"] == 0 and first["live_calls"] == []
    assert {"extension": "102", "state": "idle"} in first["extensions"]

    # a chat arrives meanwhile: the wallboard must never see it
    await oa.deliver(company.http, company.url, oa.user_message(zalo_id(), text="bí mật khách hàng"))
    events = canonical("no_answer")  # rings 102, nobody answers
    await pbx.post(company.http, events[0])
    await board.wait_for(lambda: any(e["data"]["state"] == "ringing" for e in board.of_type("call.updated")))
    ringing = board.of_type("call.updated")[0]["data"]
    assert ringing["from_number"] == "*******678" and "recording_urls" not in ringing
    await board.wait_for(
        lambda: any(
            s["live_calls"] and s["counters"]["longest_wait_now_s"] > 0 for s in board.ephemeral("wallboard.snapshot")
        )
    )
    await board.wait_for(lambda: any(e["data"]["state"] == "ringing" for e in board.of_type("extension.state")))

    for event in events[1:]:
        await pbx.post(company.http, event)
    await board.wait_for(
        lambda: any(s["counters"]["missed"] == 1 and not s["live_calls"] for s in board.ephemeral("wallboard.snapshot"))
    )
    latest = board.ephemeral("wallboard.snapshot")[-1]["counters"]
    assert latest["offered"] == 1 and latest["answered"] == 0 and latest["abandoned"] == 0
    assert latest["abandonment_rate"] is None, "no answered or abandoned calls yet: no rate"
    assert latest["answer_rate"] == 0.0

    # A display is nobody: it cannot claim presence, type or view a thread.
    assert (await board.client.call("presence.set", {"status": "available"}, timeout=10))["ok"] is False
    assert (await board.client.call("typing", {"thread_id": "x"}, timeout=10))["ok"] is False
    online = await company.http.get(f"{company.url}/api/presence", headers=company.owner.auth)
    assert not any(member.startswith("wallboard:") for member in online.json()["members"])

    everything = json.dumps(board.events)
    assert CALLER not in everything, "never an unmasked number"
    assert "bí mật" not in everything and "thread." not in everything and "message." not in everything
    assert {name for name, _ in board.events} <= {
        "call.updated",
        "extension.state",
        "wallboard.snapshot",
        "wallboard.counters",
        "sync.done",
    }


async def test_revoking_a_wallboard_token_cuts_the_display_at_once_and_refuses_it_after(company: Company) -> None:
    token = await _wallboard(company, company.owner)
    board = TestConsole(company.url, token)
    company.consoles.append(board)
    await board.connect()
    listed = await company.http.get(f"{company.url}/api/wallboard-tokens", headers=company.owner.auth)
    token_id = listed.json()["wallboard_tokens"][0]["id"]
    assert (
        await company.http.delete(f"{company.url}/api/wallboard-tokens/{token_id}", headers=company.owner.auth)
    ).status_code == 204
    await board.wait_disconnected()
    client = socketio.AsyncClient(reconnection=False)
    reasons: list = []
    client.on("connect_error", reasons.append)
    try:
        await client.connect(company.url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    except socketio.exceptions.ConnectionError:
        pass
    assert not client.connected and "revoked" in str(reasons)
