"""Nothing lost under faults: a webhook whose first attempt fails between two writes is finished by the
sender's retry, or by the sweeper when nobody retries, and every console gets every event exactly once.

A hub process of its own with failpoints armed through a file (hub.faults): each raises at a named
point between two writes of the apply path, as a MongoDB or Redis connection cut there would.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from hub.runtime import Runtime
from tests.conftest import Company, hub_of_its_own, link_oa, make_company, runtime_of
from tests.consoles import TestConsole
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import Pbx, canonical
from tests.servers import HubProcess
from tests.zalo_payloads import Oa, zalo_id

# Every point between two writes of a chat webhook's apply path, in the order they are passed.
CHAT_POINTS = [
    "chat.message_stored",
    "publish.before_seq",
    "chat.thread_updated",
    "publish.seq_reserved",
    "publish.stored",
    "chat.published",
    "inbox.applied",
]
WAIT_S = 20.0  # a failed attempt may leave a reserved seq: consoles wait up to the hole timeout (2 s here)


class Failpoints:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.clear()

    def arm(self, name: str, times: int = 1, error: str | None = None) -> None:
        self.path.write_text(json.dumps({name: {"times": times, **({"error": error} if error else {})}}))

    def clear(self) -> None:
        self.path.write_text("{}")

    def spent(self) -> bool:
        return all(spec["times"] <= 0 for spec in json.loads(self.path.read_text()).values())


@pytest.fixture(scope="module")
def faulty(workdir: Path, mongo_uri: str, fake_zalo: FakeZalo) -> Iterator[tuple[HubProcess, Failpoints]]:
    failpoints = Failpoints(workdir / "failpoints.json")
    with hub_of_its_own(
        workdir,
        mongo_uri,
        "hub_faults",
        failpoints_file=str(failpoints.path),
        zalo_openapi_url=fake_zalo.url,
        zalo_oauth_url=fake_zalo.url,
        zalo_business_url=fake_zalo.url,
        scheduler_interval_s="0.2",
        inbox_redo_after_s="1",
        hole_timeout_s="2",
        call_finalize_grace_s="0.3",
    ) as process:
        yield process, failpoints


@pytest_asyncio.fixture(scope="module")
async def faulty_runtime(mongo_uri: str, faulty) -> AsyncIterator[Runtime]:
    async with runtime_of(mongo_uri, "hub_faults") as rt:
        yield rt


@pytest.fixture
def failpoints(faulty) -> Iterator[Failpoints]:
    yield faulty[1]
    faulty[1].clear()


@pytest_asyncio.fixture
async def shop(
    faulty, faulty_runtime: Runtime, http: httpx.AsyncClient, fake_zalo: FakeZalo
) -> AsyncIterator[tuple[Company, Oa, TestConsole]]:
    company = await make_company(faulty_runtime, faulty[0].url, http)
    oa = await link_oa(company, fake_zalo)
    console = await company.console(company.owner).connect()
    yield company, oa, console
    await console.disconnect()


async def _new_thread(company: Company, oa: Oa, console: TestConsole, text: str) -> tuple[str, str]:
    """A customer writes; returns (thread id, Zalo user id) once the thread's Zalo profile, fetched in the
    background after its first message, has landed: so only the request under test meets a failpoint."""
    user_id = zalo_id()
    assert (await oa.deliver(company.http, company.url, oa.user_message(user_id, text=text))).status_code == 200
    await console.wait_for(
        lambda: any(
            e["data"]["customer"].get("name")
            for e in console.of_type("thread.updated")
            if e["data"]["user_id"] == user_id
        ),
        WAIT_S,
    )
    return next(e["data"]["id"] for e in console.of_type("thread.created") if e["data"]["user_id"] == user_id), user_id


def _created(console: TestConsole, text: str) -> list[dict[str, Any]]:
    return [e for e in console.of_type("message.created") if e["data"]["text"] == text]


async def _thread(company: Company, user_id: str) -> dict[str, Any]:
    response = await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth)
    return next(t for t in response.json()["threads"] if t["user_id"] == user_id)


async def _assert_delivered_once(
    company: Company, oa: Oa, console: TestConsole, user_id: str, texts: list[str]
) -> None:
    """Every text reached the console once, in seq order, and the thread counts them all."""
    marker = "marker " + secrets.token_hex(4)  # anything still on its way arrives before the marker
    assert (await oa.deliver(company.http, company.url, oa.user_message(user_id, text=marker))).status_code == 200
    await console.wait_for(lambda: len(_created(console, marker)) == 1, WAIT_S)
    for text in texts:
        assert len(_created(console, text)) == 1, f"{text!r} reached the console {len(_created(console, text))} times"
    seqs = console.seqs()
    assert seqs == sorted(set(seqs)), "every event once, in seq order"
    thread = await _thread(company, user_id)
    assert thread["unread"] == len(texts) + 1
    assert thread["last_message"]["text"] == marker


@pytest.mark.parametrize("point", CHAT_POINTS)
async def test_a_retried_webhook_finishes_what_its_failed_attempt_left(point: str, shop, failpoints) -> None:
    company, oa, console = shop
    first = "trước " + point
    _thread_id, user_id = await _new_thread(company, oa, console, first)
    failpoints.arm(point)
    payload = oa.user_message(user_id, text="giữa " + point)
    response = await oa.deliver(company.http, company.url, payload)
    assert response.status_code == 503, response.text
    assert failpoints.spent()
    retry = await oa.deliver(company.http, company.url, payload)  # Zalo retries the same body
    assert retry.status_code == 200 and retry.json()["outcome"] == "completed", retry.text
    again = await oa.deliver(company.http, company.url, payload)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    await _assert_delivered_once(company, oa, console, user_id, [first, payload["message"]["text"]])


@pytest.mark.parametrize("point", ["chat.message_stored", "chat.thread_updated", "publish.stored"])
async def test_the_sweeper_finishes_a_webhook_nobody_retries(point: str, shop, failpoints) -> None:
    company, oa, console = shop
    user_id = zalo_id()
    failpoints.arm(point)
    payload = oa.user_message(user_id, text="một lần " + point)
    assert (await oa.deliver(company.http, company.url, payload)).status_code == 503
    # No retry: the scheduler re-applies the entry left without its applied mark.
    await console.wait_for(lambda: len(_created(console, payload["message"]["text"])) == 1, WAIT_S)
    await _assert_delivered_once(company, oa, console, user_id, [payload["message"]["text"]])


async def test_a_pbx_event_whose_publish_failed_reaches_the_console_without_a_retry(shop, failpoints) -> None:
    company, _oa, console = shop
    response = await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)
    pbx = Pbx(url=company.url, company_code=company.code, secret=response.json()["secret"])
    events = canonical("answered")
    failpoints.arm("calls.folded")
    assert (await pbx.post(company.http, events[0])).status_code == 503
    call_id = events[0]["call_id"]

    def updates() -> list[dict[str, Any]]:
        return [e for e in console.of_type("call.updated") if e["data"]["call_id"] == call_id]

    await console.wait_for(lambda: len(updates()) == 1, WAIT_S)  # the sweeper, a PBX never retries
    for event in events[1:]:
        assert (await pbx.post(company.http, event)).status_code == 200
    await console.wait_for(lambda: updates() and updates()[-1]["data"]["outcome"] is not None, WAIT_S)
    versions = [e["data"]["version"] for e in updates()]
    assert versions == sorted(set(versions)), "each version of the call once"


async def test_an_unexpected_error_keeps_its_request_id_in_the_answer_and_the_log(faulty, shop, failpoints) -> None:
    company, oa, console = shop
    failpoints.arm("chat.message_stored", error="internal")
    payload = oa.user_message(zalo_id(), text="lỗi bất ngờ")
    raw, headers = oa.encode(payload)
    response = await company.http.post(
        f"{company.url}/webhooks/zalo", content=raw, headers={**headers, "X-Request-Id": "req-500-test"}
    )
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500-test"
    assert response.json()["error"]["request_id"] == "req-500-test"
    logged = [json.loads(line) for line in faulty[0].log.read_text().splitlines() if "req-500-test" in line]
    assert any(
        entry.get("message") == "unhandled error" and entry.get("request_id") == "req-500-test" for entry in logged
    )
    # and what the failed attempt stored is finished by the retry
    assert (await oa.deliver(company.http, company.url, payload)).status_code == 200
    await console.wait_for(lambda: len(_created(console, "lỗi bất ngờ")) == 1, WAIT_S)


# -- REST writes that publish (journaled: hub.inbox) ----------------------------------------------


async def _assign(company: Company, thread_id: str, member_id: str, **headers: str) -> httpx.Response:
    return await company.http.post(
        f"{company.url}/api/threads/{thread_id}/assign",
        headers={**company.owner.auth, **headers},
        json={"member_id": member_id},
    )


@pytest.mark.parametrize("point", ["assignment.moved", "publish.before_seq", "publish.stored", "inbox.applied"])
async def test_a_reassignment_cut_half_way_reaches_both_agents_once(
    point: str, shop, failpoints, faulty_runtime: Runtime
) -> None:
    company, oa, owner = shop
    first, second = await company.add("user"), await company.add("user")
    old, new = await company.console(first).connect(), await company.console(second).connect()
    thread_id, user_id = await _new_thread(company, oa, owner, "xin chào")
    assert (await _assign(company, thread_id, first.id)).status_code == 200
    await old.wait_for(lambda: old.of_type("thread.assigned"))

    failpoints.arm(point)
    assert (await _assign(company, thread_id, second.id)).status_code == 503
    assert failpoints.spent()
    # Nobody retries: the sweeper re-does the journaled request.
    await new.wait_for(lambda: new.of_type("thread.assigned"), WAIT_S)
    await old.wait_for(lambda: old.of_type("thread.removed"), WAIT_S)
    marker = "sau " + point  # reaches the new assignee after anything still on its way
    assert (await oa.deliver(company.http, company.url, oa.user_message(user_id, text=marker))).status_code == 200
    await new.wait_for(lambda: len(_created(new, marker)) == 1, WAIT_S)
    await owner.wait_for(lambda: len(_created(owner, marker)) == 1, WAIT_S)
    assert len(new.of_type("thread.assigned")) == 1 and len(old.of_type("thread.removed")) == 1
    moves = [e for e in owner.of_type("thread.assigned") if e["data"]["to_member_id"] == second.id]
    assert len(moves) == 1 and moves[0]["data"]["from_member_id"] == first.id
    assert not _created(old, marker), "the old assignee hears nothing more of the thread"
    for console in (owner, old, new):
        assert console.seqs() == sorted(set(console.seqs()))
    counts = {
        m["_id"]: m.get("open_threads", 0)
        async for m in faulty_runtime.store.members.find({"_id": {"$in": [first.id, second.id]}})
    }
    assert counts == {first.id: 0, second.id: 1}, "capacity counted once"


async def test_a_retry_with_the_same_idempotency_key_finishes_the_request(shop, failpoints) -> None:
    company, _oa, owner = shop
    failpoints.arm("publish.seq_reserved")
    create = {"name": "VIP " + secrets.token_hex(3), "color": "#dd3333"}
    headers = {**company.owner.auth, "Idempotency-Key": "label-1"}
    assert (await company.http.post(f"{company.url}/api/labels", headers=headers, json=create)).status_code == 503
    retry = await company.http.post(f"{company.url}/api/labels", headers=headers, json=create)
    assert retry.status_code == 201, retry.text
    await owner.wait_for(
        lambda: any(e["data"]["name"] == create["name"] for e in owner.of_type("label.created")), WAIT_S
    )
    other = await company.http.post(f"{company.url}/api/labels", headers=company.owner.auth, json=create)
    assert other.status_code == 409, "a new request for the same name is refused"
    labels = (await company.http.get(f"{company.url}/api/labels", headers=company.owner.auth)).json()["labels"]
    assert [label["name"] for label in labels].count(create["name"]) == 1
    assert [e["data"]["name"] for e in owner.of_type("label.created")].count(create["name"]) == 1


async def test_a_reply_cut_after_zalo_sent_it_is_never_sent_twice(shop, failpoints, fake_zalo: FakeZalo) -> None:
    company, oa, owner = shop
    thread_id, user_id = await _new_thread(company, oa, owner, "còn hàng không?")
    failpoints.arm("publish.before_seq")
    reply = {"text": "Dạ còn ạ", "client_msg_id": "reply-" + secrets.token_hex(4)}
    response = await company.http.post(
        f"{company.url}/api/threads/{thread_id}/messages", headers=company.owner.auth, json=reply
    )
    assert response.status_code == 503
    await owner.wait_for(lambda: len(_created(owner, "Dạ còn ạ")) == 1, WAIT_S)  # the sweeper finished it
    assert len(fake_zalo.sent_to(user_id)) == 1, "Zalo was asked once"
    thread = await _thread(company, user_id)
    assert thread["last_message"]["text"] == "Dạ còn ạ"
    # the console's own retry of the same message changes nothing
    again = await company.http.post(
        f"{company.url}/api/threads/{thread_id}/messages", headers=company.owner.auth, json=reply
    )
    assert again.status_code == 200 and len(fake_zalo.sent_to(user_id)) == 1


async def test_a_missed_call_alert_cut_after_finalizing_still_comes_once(shop, failpoints) -> None:
    """Finalizing (the missed-call rule) is the scheduler's: nobody retries it, its next pass finishes it."""
    company, _oa, console = shop
    response = await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)
    pbx = Pbx(url=company.url, company_code=company.code, secret=response.json()["secret"])
    events = canonical("no_answer")
    call_id = events[0]["call_id"]
    failpoints.arm("scheduler.moved")
    for event in events:
        assert (await pbx.post(company.http, event)).status_code == 200
    await console.wait_for(lambda: any(e["data"]["call_id"] == call_id for e in console.of_type("call.missed")), WAIT_S)
    assert failpoints.spent()
    marker = canonical("answered")
    for event in marker:
        assert (await pbx.post(company.http, event)).status_code == 200
    await console.wait_for(
        lambda: any(
            e["data"]["call_id"] == marker[0]["call_id"] and e["data"]["outcome"]
            for e in console.of_type("call.updated")
        ),
        WAIT_S,
    )
    assert len([e for e in console.of_type("call.missed") if e["data"]["call_id"] == call_id]) == 1
    finals = [e for e in console.of_type("call.updated") if e["data"]["call_id"] == call_id and e["data"]["outcome"]]
    assert len(finals) == 1


async def test_a_callback_cut_after_its_link_still_reaches_the_console_once(shop, failpoints) -> None:
    """The outbound call's finalizing change links the missed call, then fails before publishing: the
    scheduler's next pass re-does the change, finds the link made, and publishes it once."""
    company, _oa, console = shop
    response = await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)
    pbx = Pbx(url=company.url, company_code=company.code, secret=response.json()["secret"])
    now = datetime.now(UTC)
    missed = canonical("no_answer", base=now - timedelta(minutes=10))
    for event in missed:
        assert (await pbx.post(company.http, event)).status_code == 200

    def follow_ups() -> list[dict[str, Any]]:
        return [
            e["data"] for e in console.of_type("missed_call.updated") if e["data"]["call_id"] == missed[0]["call_id"]
        ]

    await console.wait_for(lambda: len(follow_ups()) == 1, WAIT_S)
    failpoints.arm("missed_calls.called_back")
    out = "out-" + secrets.token_hex(6)
    common = {"call_id": out, "direction": "outbound", "from": "101", "to": "84912345678"}
    leg = {"leg_id": f"{out}-callee", "extension": "101"}
    at = now - timedelta(minutes=2)
    for event in (
        {**common, **leg, "event": "ringing", "occurred_at": at.isoformat()},
        {**common, **leg, "event": "answered", "occurred_at": (at + timedelta(seconds=5)).isoformat()},
        {**common, "event": "ended", "occurred_at": (at + timedelta(seconds=50)).isoformat(), "sip_code": 200},
    ):
        assert (await pbx.post(company.http, event)).status_code == 200
    await console.wait_for(lambda: follow_ups()[-1]["state"] == "called_back", WAIT_S)
    assert failpoints.spent()
    marker = canonical("answered")
    for event in marker:
        assert (await pbx.post(company.http, event)).status_code == 200
    await console.wait_for(
        lambda: any(
            e["data"]["call_id"] == marker[0]["call_id"] and e["data"]["outcome"]
            for e in console.of_type("call.updated")
        ),
        WAIT_S,
    )
    assert [f["state"] for f in follow_ups()] == ["open", "called_back"]


async def test_a_request_already_applied_is_not_run_again_for_its_key(shop) -> None:
    """A late retry with the key of a request that went through must not undo what happened since."""
    company, _oa, _owner = shop
    member = await company.add("user")
    url = f"{company.url}/api/members/{member.id}/extension"
    headers = {**company.owner.auth, "Idempotency-Key": "clear-ext-1"}
    assert (await company.http.put(url, headers=company.owner.auth, json={"extension": "201"})).status_code == 200
    assert (await company.http.delete(url, headers=headers)).status_code == 200
    assert (await company.http.put(url, headers=company.owner.auth, json={"extension": "202"})).status_code == 200
    late = await company.http.delete(url, headers=headers)  # the first DELETE's retry, arriving late
    assert late.status_code == 200 and late.json()["outcome"] == "already_applied"
    members = (await company.http.get(f"{company.url}/api/members", headers=company.owner.auth)).json()["members"]
    assert next(m for m in members if m["id"] == member.id)["extension"] == "202"


async def test_one_process_at_a_time_finishes_an_entry_left_half_done(mongo_uri: str) -> None:
    """Two processes' sweepers meet one stale inbox entry: one re-applies it (the lease), once."""
    from datetime import datetime, timedelta

    from schemas.calls import CallEvent

    async with runtime_of(mongo_uri, "hub_sweep_lease") as first, runtime_of(mongo_uri, "hub_sweep_lease") as second:
        event = CallEvent.model_validate(
            {
                "call_id": "lease-" + secrets.token_hex(4),
                "event": "ringing",
                "direction": "inbound",
                "from": "0911222333",
                "to": "19001234",
                "occurred_at": datetime.now(UTC).isoformat(),
            }
        )
        entry_id = "stale-" + secrets.token_hex(6)
        await first.store.call_events.insert_one(
            {
                "_id": entry_id,
                "company_id": "co-lease",
                "format": "canonical",
                "applied_at": None,
                "received_at": datetime.now(UTC) - timedelta(minutes=5),
                "raw": "{}",
                "events": [event.model_dump(mode="json", by_alias=True, include=set(CallEvent.model_fields))],
            }
        )
        redone = await asyncio.gather(first.inbox.sweep(), second.inbox.sweep())
        assert sum(redone) == 1
        stored = await first.store.call_events.find_one({"_id": entry_id})
        assert stored["applied_at"] is not None and stored["attempts"] == 1
        assert await first.store.calls.count_documents({"call_id": event.call_id}) == 1
        assert await first.store.events.count_documents({"company_id": "co-lease", "type": "call.updated"}) == 2
