"""ZNS journeys over REST against the fake Zalo: a token requested per phone and kept (never shown whole), messages
sent within it with the journey_token header and counted as kind "journey" in the ZNS report, Zalo's charged and
timed-out webhooks applied and published once, expiry by time, the token errors Zalo answers, owners and managers
only."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.runtime import Runtime
from tests.conftest import Company
from tests.consoles import TestConsole
from tests.zalo_payloads import Oa

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
DAY = 86_400


def _daytime(clock) -> None:
    """The hub's clock forward to 10:00 in Vietnam (Zalo refuses template messages 22:00-06:00)."""
    now = datetime.now(VIETNAM)
    target = now.replace(hour=10, minute=0, second=0, microsecond=0)
    if target < now:
        target += timedelta(days=1)
    clock.set((target - now).total_seconds())


async def _create(company: Company, oa: Oa, phone: str = "0912 000 222", **more: Any):
    return await company.http.post(
        f"{company.url}/api/zns/journeys",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": phone, **more},
    )


async def _send(company: Company, journey_id: str, template: str = "tpl-1", data: dict | None = None):
    return await company.http.post(
        f"{company.url}/api/zns/journeys/{journey_id}/messages",
        headers=company.owner.auth,
        json={"template_id": template, "template_data": data or {}},
    )


def _journeys(console: TestConsole, journey_id: str) -> list[dict[str, Any]]:
    return [e["data"] for e in console.of_type("journey.updated") if e["data"]["id"] == journey_id]


async def test_a_journey_token_is_requested_per_phone_and_kept_never_shown_whole(
    company: Company, oa: Oa, fake_zalo, runtime: Runtime
) -> None:
    manager = await company.console(await company.add("manager")).connect()
    response = await _create(company, oa)
    assert response.status_code == 201, response.text
    journey = response.json()
    assert fake_zalo.journey_requests[-1] == {"phone": "84912000222"}, "the default type sends the phone alone"
    token = next(t for t, known in fake_zalo.journey_tokens.items() if known["journey_id"] == journey["journey_id"])
    assert journey["token"] != token and token not in response.text, "a console never sees the whole token"
    assert journey["token"].startswith(token[:4]) and journey["token"].endswith(token[-4:])
    assert (journey["status"], journey["charged"], journey["charged_at"]) == ("active", False, None)
    assert journey["token_type"] == "token_logistics_7" and journey["phone"] == "84912000222"
    life = datetime.fromisoformat(journey["expires_at"]) - datetime.fromisoformat(journey["created_at"])
    assert abs(life - timedelta(days=7)) < timedelta(minutes=1)
    stored = await runtime.store.journeys.find_one({"_id": journey["id"]})
    assert stored is not None and stored["token"] == token, "the hub keeps the whole token to send with"
    await manager.wait_for(lambda: _journeys(manager, journey["id"]) == [journey])

    month = await _create(company, oa, phone="0987654321", token_type="token_coach_bus_30")
    assert month.status_code == 201, month.text
    assert fake_zalo.journey_requests[-1] == {"phone": "84987654321", "token_type": "token_coach_bus_30"}
    life = datetime.fromisoformat(month.json()["expires_at"]) - datetime.fromisoformat(month.json()["created_at"])
    assert abs(life - timedelta(days=30)) < timedelta(minutes=1)

    url = f"{company.url}/api/zns/journeys"
    for params, expected in [
        ({}, [month.json()["id"], journey["id"]]),
        ({"phone": "+84 912 000 222"}, [journey["id"]]),
        ({"oa_id": oa.oa_id, "status": "active", "charged": "false"}, [month.json()["id"], journey["id"]]),
        ({"charged": "true"}, []),
        ({"from": "2020-01-01T00:00:00Z", "to": "2020-02-01T00:00:00Z"}, []),
    ]:
        listed = await company.http.get(url, headers=company.owner.auth, params=params)
        assert [j["id"] for j in listed.json()["journeys"]] == expected, params
    assert token not in (await company.http.get(url, headers=company.owner.auth)).text


async def test_what_cannot_become_a_journey_is_refused_and_nothing_is_kept(
    company: Company, oa: Oa, fake_zalo, runtime: Runtime
) -> None:
    fake_zalo.journey_refusals["84912000999"] = -108
    refused = await _create(company, oa, phone="0912000999")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "zalo_refused"
    assert refused.json()["error"]["zalo_error"] == -108
    bad_type = await _create(company, oa, token_type="token_forever")
    assert (bad_type.status_code, bad_type.json()["error"]["code"]) == (422, "invalid_token_type")
    bad_phone = await _create(company, oa, phone="không có số")
    assert (bad_phone.status_code, bad_phone.json()["error"]["code"]) == (422, "invalid_phone")
    other_oa = await company.http.post(
        f"{company.url}/api/zns/journeys",
        headers=company.owner.auth,
        json={"oa_id": "no-such-oa", "phone": "0912000222"},
    )
    assert other_oa.status_code == 404
    assert await runtime.store.journeys.count_documents({"company_id": company.id}) == 0


async def test_a_message_in_a_journey_carries_its_token_and_counts_as_a_journey_send(
    company: Company, oa: Oa, fake_zalo, clock
) -> None:
    _daytime(clock)
    owner = await company.console(company.owner).connect()
    journey = (await _create(company, oa)).json()
    token = next(t for t, known in fake_zalo.journey_tokens.items() if known["journey_id"] == journey["journey_id"])
    sent = await _send(company, journey["id"])
    assert sent.status_code == 201, sent.text
    message = sent.json()
    assert (message["kind"], message["journey_id"], message["status"]) == ("journey", journey["id"], "processing")
    received = fake_zalo.zns_sent[-1]
    assert (received["journey_token"], received["phone"], received["template_id"]) == (token, "84912000222", "tpl-1")
    await owner.wait_for(lambda: any(j["messages"] == 1 for j in _journeys(owner, journey["id"])))

    ordinary = await company.http.post(
        f"{company.url}/api/zns/messages",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": "0912000333", "template_id": "tpl-1"},
    )
    assert ordinary.status_code == 201 and "journey_token" not in fake_zalo.zns_sent[-1]

    detail = (
        await company.http.get(f"{company.url}/api/zns/journeys/{journey['id']}", headers=company.owner.auth)
    ).json()
    assert detail["journey"]["messages"] == 1
    assert [m["id"] for m in detail["messages"]] == [message["id"]], "only the journey's own messages"
    report = await company.http.get(f"{company.url}/api/reports/zns", headers=company.owner.auth)
    by_kind = {row["kind"]: row["sent"] for row in report.json()["by_kind"]}
    assert by_kind == {"journey": 1, "phone": 1}


async def test_the_token_errors_zalo_answers_are_shown_and_an_expired_token_ends_the_journey(
    company: Company, oa: Oa, fake_zalo, clock
) -> None:
    _daytime(clock)
    owner = await company.console(company.owner).connect()
    journeys = [(await _create(company, oa, phone=f"091200010{n}")).json() for n in range(3)]
    tokens = {
        j["id"]: next(t for t, k in fake_zalo.journey_tokens.items() if k["journey_id"] == j["journey_id"])
        for j in journeys
    }
    unknown, invalid, expired = journeys
    del fake_zalo.journey_tokens[tokens[unknown["id"]]]
    fake_zalo.invalid_journey_tokens.add(tokens[invalid["id"]])
    fake_zalo.expired_journey_tokens.add(tokens[expired["id"]])
    fake_zalo.non_journey_templates.add("tpl-otp")
    cases = [
        (unknown, "tpl-1", -148, "create a new journey"),
        (invalid, "tpl-1", -149, "invalid"),
        (invalid, "tpl-otp", -149, "invalid"),  # the token is checked first
        (expired, "tpl-1", -150, "expired"),
    ]
    for journey, template, code, words in cases:
        response = await _send(company, journey["id"], template, {"otp": "1234"} if template == "tpl-otp" else None)
        assert response.status_code == 201, response.text
        failure = response.json()["failure"]
        assert (response.json()["status"], failure["code"]) == ("failure", code)
        assert words in failure["reason"] and failure["reason_vi"]
    fake_zalo.invalid_journey_tokens.clear()
    incompatible = await _send(company, invalid["id"], "tpl-otp", {"otp": "1234"})
    assert incompatible.json()["failure"]["code"] == -1491
    assert "template" in incompatible.json()["failure"]["reason"]

    await owner.wait_for(lambda: any(j["status"] == "expired" for j in _journeys(owner, expired["id"])))
    again = await _send(company, expired["id"])
    assert (again.status_code, again.json()["error"]["code"]) == (409, "journey_expired")
    listed = await company.http.get(
        f"{company.url}/api/zns/journeys", headers=company.owner.auth, params={"status": "active"}
    )
    assert {j["id"] for j in listed.json()["journeys"]} == {unknown["id"], invalid["id"]}
    assert all(j["messages"] == 0 for j in listed.json()["journeys"]), "a refused message is not counted"


async def test_zalos_webhooks_charge_then_end_a_journey_each_published_once(
    company: Company, oa: Oa, fake_zalo, runtime: Runtime
) -> None:
    manager = await company.console(await company.add("manager")).connect()
    journey = (await _create(company, oa)).json()
    charged = oa.journey_event("event_journey_acknowledged", journey["journey_id"])
    assert (await oa.deliver(company.http, company.url, charged)).status_code == 200
    await manager.wait_for(lambda: any(j["charged"] for j in _journeys(manager, journey["id"])))
    shown = _journeys(manager, journey["id"])[-1]
    assert (shown["status"], shown["charged"]) == ("charged", True)
    assert datetime.fromisoformat(shown["charged_at"]).timestamp() * 1000 == int(charged["timestamp"])

    again = {**charged, "timestamp": str(int(charged["timestamp"]) + 1000)}  # Zalo tells it twice
    assert (await oa.deliver(company.http, company.url, again)).status_code == 200
    ended = oa.journey_event("event_journey_time_out", journey["journey_id"])
    assert (await oa.deliver(company.http, company.url, ended)).status_code == 200
    await manager.wait_for(lambda: _journeys(manager, journey["id"])[-1]["status"] == "expired")
    assert [(j["status"], j["charged"]) for j in _journeys(manager, journey["id"])] == [
        ("active", False),
        ("charged", True),
        ("expired", True),
    ], "the second acknowledgement changed nothing and published nothing"

    # The webhook's fields are a guess: a journey named by its token is found too.
    second = (await _create(company, oa, phone="0912000444")).json()
    stored = await runtime.store.journeys.find_one({"_id": second["id"]})
    assert stored is not None
    by_token = {**oa.journey_event("event_journey_acknowledged", "unknown"), "token": stored["token"]}
    del by_token["journey_id"]
    assert (await oa.deliver(company.http, company.url, by_token)).status_code == 200
    await manager.wait_for(lambda: _journeys(manager, second["id"])[-1]["status"] == "charged")
    raw = await runtime.store.zalo_events.count_documents(
        {"event_name": {"$in": ["event_journey_acknowledged", "event_journey_time_out"]}, "company_id": company.id}
    )
    assert raw == 4, "every delivery is kept raw, as any webhook"


async def test_a_journey_past_its_end_expires_by_time_once(company: Company, oa: Oa, clock) -> None:
    owner = await company.console(company.owner).connect()
    journey = (await _create(company, oa)).json()
    month = (await _create(company, oa, phone="0912000555", token_type="token_logistics_30")).json()
    clock.advance(7 * DAY + 120)
    await owner.wait_for(lambda: _journeys(owner, journey["id"])[-1]["status"] == "expired")
    assert _journeys(owner, journey["id"])[-1]["ended_at"] == journey["expires_at"]
    # an event published after: by the time it arrives, a second expiry would have arrived too
    await company.http.post(f"{company.url}/api/labels", headers=company.owner.auth, json={"name": "after"})
    await owner.wait_for(lambda: owner.of_type("label.created"))
    assert [j["status"] for j in _journeys(owner, journey["id"])] == ["active", "expired"]
    assert [j["status"] for j in _journeys(owner, month["id"])] == ["active"], "a 30-day journey goes on"


async def test_journeys_are_for_owners_and_managers(company: Company, oa: Oa) -> None:
    user = await company.add("user")
    manager = await company.add("manager")
    journey = (await _create(company, oa)).json()
    base = f"{company.url}/api/zns/journeys"
    for method, url, body in [
        ("POST", base, {"oa_id": oa.oa_id, "phone": "0912000222"}),
        ("GET", base, None),
        ("GET", f"{base}/{journey['id']}", None),
        ("POST", f"{base}/{journey['id']}/messages", {"template_id": "tpl-1"}),
    ]:
        response = await company.http.request(method, url, headers=user.auth, json=body)
        assert response.status_code == 403, (method, url, response.text)
    listed = await company.http.get(base, headers=manager.auth)
    assert [j["id"] for j in listed.json()["journeys"]] == [journey["id"]]
    missing = await company.http.get(f"{base}/no-such-journey", headers=manager.auth)
    assert missing.status_code == 404


async def test_two_journeys_charged_in_the_same_millisecond_are_both_applied(company: Company, oa: Oa) -> None:
    owner = await company.console(company.owner).connect()
    first = (await _create(company, oa, phone="0912000661")).json()
    second = (await _create(company, oa, phone="0912000662")).json()
    one = oa.journey_event("event_journey_acknowledged", first["journey_id"])
    other = {**oa.journey_event("event_journey_acknowledged", second["journey_id"]), "timestamp": one["timestamp"]}
    for event in (one, other):
        response = await oa.deliver(company.http, company.url, event)
        assert (response.status_code, response.json()["outcome"]) == (200, "accepted")
    await owner.wait_for(lambda: all(_journeys(owner, j["id"])[-1]["status"] == "charged" for j in (first, second)))
