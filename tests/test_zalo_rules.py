"""Zalo's rules as the reference states them (reference/zalo-oa.md sections 4-6): consent events,
agreement lengths, new free windows, and who hears of a consent request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hub.runtime import Runtime
from tests.conftest import Company
from tests.fake_zalo import FakeZalo
from tests.zalo_payloads import Oa, now_ms, zalo_id

PHONE, ZALO_PHONE = "0987654300", "84987654300"


async def _request(company: Company, oa: Oa, by=None, phone: str = PHONE):
    response = await company.http.post(
        f"{company.url}/api/consents",
        headers=(by or company.owner).auth,
        json={"oa_id": oa.oa_id, "phone": phone, "reason_code": 101, "call_type": "audio"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def _consents(console, phone: str = ZALO_PHONE) -> list[dict]:
    return [e["data"] for e in console.of_type("consent.updated") if e["data"]["phone"] == phone]


async def test_a_consent_lapsed_by_zalo_moves_to_no_response(company: Company, oa: Oa) -> None:
    owner = await company.console(company.owner).connect()
    await _request(company, oa)
    assert (await oa.deliver(company.http, company.url, oa.consent_sent(ZALO_PHONE, "EXPIRED"))).status_code == 200
    await owner.wait_for(lambda: [c["status"] for c in _consents(owner)] == ["waiting", "no_response"])


async def test_a_consent_request_sent_outside_the_hub_is_recorded(company: Company, oa: Oa) -> None:
    phone = "84987654301"
    assert (await oa.deliver(company.http, company.url, oa.consent_sent(phone))).status_code == 200
    listed = (await company.http.get(f"{company.url}/api/consents", headers=company.owner.auth)).json()
    rows = listed["consents"] if isinstance(listed, dict) else listed
    assert [(c["phone"], c["status"]) for c in rows if c["phone"] == phone] == [(phone, "waiting")]


async def test_an_agreement_lasts_as_long_as_zalo_says(company: Company, oa: Oa) -> None:
    owner = await company.console(company.owner).connect()
    until = datetime.now(UTC) + timedelta(days=5)
    cases = [
        ("84987654311", str(int(until.timestamp() * 1000)), until.isoformat()[:16]),
        ("84987654312", "0", None),  # 0: no limit
        ("84987654313", None, "+30"),
    ]  # absent: 30 days after the answer
    for phone, expired_time, _ in cases:
        await _request(company, oa, phone="0" + phone[2:])
        reply = oa.consent_reply(phone, "ALLOW", expired_time=expired_time)
        assert (await oa.deliver(company.http, company.url, reply)).status_code == 200
    for phone, _, expected in cases:
        await owner.wait_for(lambda p=phone: [c["status"] for c in _consents(owner, p)][-1:] == ["agreed"])
        agreed = _consents(owner, phone)[-1]
        if expected is None:
            assert agreed["expires_at"] is None
        elif expected == "+30":
            answered = datetime.fromisoformat(agreed["answered_at"])
            assert datetime.fromisoformat(agreed["expires_at"]) - answered == timedelta(days=30)
        else:
            assert agreed["expires_at"][:16] == expected
    refused = await company.http.post(
        f"{company.url}/api/consents",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": "0987654312", "reason_code": 101, "call_type": "audio"},
    )
    assert refused.status_code == 409, "an agreement with no limit is not asked again"


async def test_managers_hear_of_every_consent_request_they_can_list(company: Company, oa: Oa) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    watching = await company.console(manager).connect()
    request = await _request(company, oa, by=user, phone="0987654320")
    await watching.wait_for(lambda: any(c["id"] == request["id"] for c in _consents(watching, "84987654320")))
    listed = (await company.http.get(f"{company.url}/api/consents", headers=manager.auth)).json()
    rows = listed["consents"] if isinstance(listed, dict) else listed
    assert request["id"] in [c["id"] for c in rows]


async def _used_up(company: Company, oa: Oa, fake_zalo: FakeZalo, console) -> tuple[str, str]:
    """A thread whose free replies Zalo reported used up (the window is charged)."""
    user_id = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="hỏi giá"))
    await console.wait_for(lambda: any(e["data"]["user_id"] == user_id for e in console.of_type("thread.created")))
    thread_id = next(e["data"]["id"] for e in console.of_type("thread.created") if e["data"]["user_id"] == user_id)
    saved = dict(fake_zalo.quota)
    fake_zalo.quota.update({"quota_type": "sub_quota", "remain": 0})
    try:
        sent = await company.http.post(
            f"{company.url}/api/threads/{thread_id}/messages",
            headers=company.owner.auth,
            json={"text": "Dạ giá 200k", "client_msg_id": zalo_id()},
        )
        assert sent.status_code == 201, sent.text
    finally:
        fake_zalo.quota.clear()
        fake_zalo.quota.update(saved)
    thread = (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=company.owner.auth)).json()
    assert thread["reply_window"]["state"] == "charged"
    return thread_id, user_id


async def test_a_follow_or_shared_info_opens_a_new_free_window(company: Company, oa: Oa, fake_zalo: FakeZalo) -> None:
    console = await company.console(company.owner).connect()
    for interaction in ("follow", "submit_info"):
        thread_id, user_id = await _used_up(company, oa, fake_zalo, console)
        payload = oa.follow(user_id) if interaction == "follow" else oa.submit_info(user_id, {"phone": "0912000333"})
        assert (await oa.deliver(company.http, company.url, payload)).status_code == 200

        def state(thread_id: str = thread_id) -> str | None:
            updates = [e["data"] for e in console.of_type("thread.updated") if e["data"]["thread_id"] == thread_id]
            return updates[-1]["reply_window"]["state"] if updates else None

        await console.wait_for(lambda: state() == "free")


async def test_a_customer_message_reopening_a_resolved_thread_clears_resolved_at(
    company: Company, oa: Oa, runtime: Runtime
) -> None:
    console = await company.console(company.owner).connect()
    user_id = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="lần đầu"))
    await console.wait_for(lambda: any(e["data"]["user_id"] == user_id for e in console.of_type("thread.created")))
    thread_id = next(e["data"]["id"] for e in console.of_type("thread.created") if e["data"]["user_id"] == user_id)
    resolved = await company.http.post(f"{company.url}/api/threads/{thread_id}/resolve", headers=company.owner.auth)
    assert resolved.json()["resolved_at"] is not None
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="lần hai"))
    await console.wait_for(
        lambda: any(
            e["data"]["id"] == thread_id and e["data"]["last_message"]["text"] == "lần hai"
            for e in console.of_type("thread.updated")
        )
    )
    thread = (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=company.owner.auth)).json()
    assert thread["status"] == "open" and thread["resolved_at"] is None


def _zalo_call(oa: Oa, user_id: str, name: str, talk_ms: int, wait_s: int = 4) -> dict:
    started = int(datetime.now(UTC).timestamp() * 1000) - 120_000
    return {
        "app_id": oa.app_id,
        "oa_id": oa.oa_id,
        "event_name": name,
        "user_id": user_id,
        "call_id": zalo_id(),
        "call_type": "AUDIO",
        "init_time": str(started),
        "call_duration": str(wait_s * 1000 + talk_ms),
        "waiting_time": str(wait_s),
        "talk_time": str(talk_ms),
        "status_code": 0,
        "timestamp": now_ms(),
    }


async def test_a_call_through_zalo_is_a_call_and_reopens_the_reply_window(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    console = await company.console(company.owner).connect()
    agent = await company.add("user")
    thread_id, user_id = await _used_up(company, oa, fake_zalo, console)
    assert (
        await oa.deliver(company.http, company.url, _zalo_call(oa, user_id, "user_call_oa", 65_000))
    ).status_code == 200

    def state() -> str | None:
        updates = [e["data"] for e in console.of_type("thread.updated") if e["data"]["id"] == thread_id]
        return updates[-1]["reply_window"]["state"] if updates else None

    await console.wait_for(lambda: state() == "free")
    await console.wait_for(
        lambda: any(e["data"]["channel"] == "zalo" and e["data"]["outcome"] for e in console.of_type("call.updated"))
    )
    calls = (await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth)).json()["calls"]
    zalo = [c for c in calls if c["channel"] == "zalo"]
    assert len(zalo) == 1 and zalo[0]["direction"] == "inbound" and zalo[0]["from_number"] == user_id
    assert zalo[0]["outcome"] == "answered" and zalo[0]["talk_s"] == 65.0
    mine = (await company.http.get(f"{company.url}/api/calls", headers=agent.auth)).json()["calls"]
    assert not [c for c in mine if c["channel"] == "zalo"], (
        "visible by the rules of PBX calls: it rang no one of theirs"
    )


async def test_an_answered_consent_reopens_the_window_of_the_thread_with_that_phone(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user_id = await _used_up(company, oa, fake_zalo, console)
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, {"phone": "0912777888"}))
    await console.wait_for(
        lambda: any(
            e["data"]["id"] == thread_id and e["data"]["customer"].get("phone")
            for e in console.of_type("thread.updated")
        )
    )
    # the shared info opened a window; Zalo then says the free replies are used again
    saved = dict(fake_zalo.quota)
    fake_zalo.quota.update({"quota_type": "sub_quota", "remain": 0})
    try:
        await company.http.post(
            f"{company.url}/api/threads/{thread_id}/messages",
            headers=company.owner.auth,
            json={"text": "Dạ vâng", "client_msg_id": zalo_id()},
        )
    finally:
        fake_zalo.quota.clear()
        fake_zalo.quota.update(saved)
    thread = (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=company.owner.auth)).json()
    assert thread["reply_window"]["state"] == "charged"
    await _request(company, oa, phone="0912777888")
    assert (await oa.deliver(company.http, company.url, oa.consent_reply("84912777888", "ALLOW"))).status_code == 200
    await console.wait_for(
        lambda: (
            [
                e["data"]["reply_window"]["state"]
                for e in console.of_type("thread.updated")
                if e["data"]["id"] == thread_id
            ][-1:]
            == ["free"]
        )
    )
