"""Zalo webhooks in: signature, every event group, idempotency — checked in storage and on a live console."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.conftest import Company
from tests.zalo_payloads import ATTACHMENTS, Oa, sign, zalo_id


async def _count(runtime, company: Company) -> tuple[int, int]:
    events = await runtime.store.zalo_events.count_documents({"company_id": company.id})
    messages = await runtime.store.messages.count_documents({"company_id": company.id})
    return events, messages


async def _thread(runtime, oa: Oa, user_id: str) -> dict:
    thread = await runtime.store.threads.find_one({"link_id": oa.link_id, "key": user_id})
    assert thread is not None
    return thread


# -- signature and bad input ---------------------------------------------------------------------


async def test_signed_payload_is_accepted_and_tampered_ones_store_nothing(company: Company, oa: Oa, runtime) -> None:
    payload = oa.user_message(zalo_id())
    raw, headers = oa.encode(payload)
    url = f"{company.url}/webhooks/zalo"

    tampered = raw.replace(b"Xin ch", b"Xin Ch")
    wrong_key = {**headers, "X-ZEvent-Signature": sign(oa.app_id, raw, payload["timestamp"], "not-the-oa-key")}
    no_header = {"Content-Type": "application/json"}
    for body, hdrs in ((tampered, headers), (raw, wrong_key), (raw, no_header)):
        response = await company.http.post(url, content=body, headers=hdrs)
        assert response.status_code == 401, response.text
    assert await _count(runtime, company) == (0, 0)

    response = await company.http.post(url, content=b'{"app_id": "1", "timestamp": ', headers=headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"
    response = await company.http.post(url, content=b"x" * (1024 * 1024 + 10), headers=headers)
    assert response.status_code == 413
    assert await _count(runtime, company) == (0, 0)

    response = await company.http.post(url, content=raw, headers=headers)
    assert response.status_code == 200 and response.json()["outcome"] == "accepted"
    assert await _count(runtime, company) == (1, 1)
    stored = await runtime.store.zalo_events.find_one({"company_id": company.id})
    assert stored["raw"] == raw.decode(), "kept exactly as received"


async def test_unknown_event_is_stored_raw_and_answered_200(company: Company, oa: Oa, runtime) -> None:
    payload = {
        "app_id": oa.app_id,
        "event_name": "user_send_hologram_2030",
        "oa_id": oa.oa_id,
        "sender": {"id": 12345},
        "timestamp": oa.ts(),
    }  # also a shape the hub does not understand
    response = await oa.deliver(company.http, company.url, payload)
    assert response.status_code == 200 and response.json()["outcome"] == "stored_raw"
    other = {"app_id": oa.app_id, "event_name": "brand_new_event", "oa_id": oa.oa_id, "timestamp": oa.ts()}
    assert (await oa.deliver(company.http, company.url, other)).json()["outcome"] == "stored_raw"
    names = {doc["event_name"] async for doc in runtime.store.zalo_events.find({"company_id": company.id})}
    assert names == {"user_send_hologram_2030", "brand_new_event"}
    metrics = (await company.http.get(f"{company.url}/metrics")).text
    assert 'hub_webhooks_total{outcome="stored_raw",source="zalo"}' in metrics


# -- each event group ------------------------------------------------------------------------------


async def test_first_message_creates_a_thread_that_reaches_the_owner_live(
    company: Company, oa: Oa, runtime, fake_zalo
) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    fake_zalo.profiles[user] = {"display_name": "Nguyễn Văn An", "avatar": "https://avatar/an.jpg"}
    payload = oa.user_message(user, text="Shop ơi còn hàng không?", quote_msg_id="quoted-1")
    assert (await oa.deliver(company.http, company.url, payload)).status_code == 200

    await console.wait_for(
        lambda: (
            console.of_type("message.created")
            and any(e["data"]["customer"].get("name") for e in console.of_type("thread.updated"))
        )
    )
    created = console.of_type("thread.created")[0]["data"]
    assert created["user_id"] == user and created["oa_id"] == oa.oa_id and created["unread"] == 1
    assert created["reply_window"]["state"] == "free"
    message = console.of_type("message.created")[0]["data"]
    assert message["text"] == "Shop ơi còn hàng không?" and message["direction"] == "in"
    assert message["zalo_msg_id"] == payload["message"]["msg_id"] and message["quote_msg_id"] == "quoted-1"
    profile = console.of_type("thread.updated")[-1]["data"]["customer"]
    assert profile == {
        "name": "Nguyễn Văn An",
        "avatar": "https://avatar/an.jpg",
        "phone": None,
        "address": None,
        "info": None,
        "phone_e164": None,
        "phone_source": None,
    }

    listed = (await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth)).json()["threads"]
    assert [t["user_id"] for t in listed] == [user]
    assert listed[0]["last_message"]["text"] == "Shop ơi còn hàng không?"

    # the profile is fetched once: a second message does not ask Zalo again
    await oa.deliver(company.http, company.url, oa.user_message(user, text="alo"))
    await console.wait_for(lambda: len(console.of_type("message.created")) == 2)
    assert fake_zalo.profile_requests.count(user) == 1


@pytest.mark.parametrize("kind", sorted(ATTACHMENTS))
async def test_every_kind_of_user_message_is_stored_with_its_attachments(
    company: Company, oa: Oa, runtime, kind: str
) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    payload = oa.user_message(user, kind=kind, text=None, attachments=ATTACHMENTS[kind])
    assert (await oa.deliver(company.http, company.url, payload)).status_code == 200
    await console.wait_for(lambda: len(console.of_type("message.created")) == 1)
    event = console.of_type("message.created")[0]["data"]
    assert event["kind"] == kind and event["attachments"] == ATTACHMENTS[kind]
    stored = await runtime.store.messages.find_one({"zalo_msg_id": payload["message"]["msg_id"]})
    assert stored["attachments"] == ATTACHMENTS[kind]
    if kind == "business_card":
        assert (await _thread(runtime, oa, user))["customer"]["phone"] == "0912345678"


async def test_chat_now_and_follow_open_the_reply_window(company: Company, oa: Oa, runtime) -> None:
    console = await company.console(company.owner).connect()
    clicker, follower = zalo_id(), zalo_id()
    await oa.deliver(company.http, company.url, oa.chat_now(clicker))
    await oa.deliver(company.http, company.url, oa.follow(follower))
    await console.wait_for(lambda: len(console.of_type("thread.created")) == 2)
    states = {e["data"]["user_id"]: e["data"] for e in console.of_type("thread.created")}
    assert states[clicker]["reply_window"]["state"] == "free"
    assert states[follower]["follower"] is True and states[follower]["reply_window"]["state"] == "free"

    await oa.deliver(company.http, company.url, oa.follow(follower, follow=False))
    await console.wait_for(
        lambda: any(
            e["data"]["user_id"] == follower and e["data"]["follower"] is False
            for e in console.of_type("thread.updated")
        )
    )
    assert (await _thread(runtime, oa, follower))["follower"] is False


async def test_a_late_profile_answer_does_not_undo_an_unfollow(company: Company, oa: Oa, fake_zalo, runtime) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    fake_zalo.held_profiles[user] = asyncio.Event()  # Zalo answers the profile request (follower: yes) late
    await oa.deliver(company.http, company.url, oa.follow(user))
    await oa.deliver(company.http, company.url, oa.follow(user, follow=False))
    await console.wait_for(lambda: any(e["data"]["follower"] is False for e in console.of_type("thread.updated")))
    fake_zalo.held_profiles[user].set()
    await console.wait_for(lambda: any(e["data"]["customer"].get("name") for e in console.of_type("thread.updated")))
    assert console.of_type("thread.updated")[-1]["data"]["follower"] is False
    assert (await _thread(runtime, oa, user))["follower"] is False, "the unfollow is newer than the profile answer"


async def test_echo_of_a_message_typed_in_zalo_is_stored_as_outbound(company: Company, oa: Oa, runtime) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user))
    echo = oa.oa_echo(user, msg_id="zalo-web-1", text="Shop trả lời từ Zalo", admin_id="admin-9")
    await oa.deliver(company.http, company.url, echo)
    await console.wait_for(lambda: len(console.of_type("message.created")) == 2)
    out = console.of_type("message.created")[1]["data"]
    assert out["direction"] == "out" and out["sent_via"] == "zalo_oa" and out["text"] == "Shop trả lời từ Zalo"
    thread = await _thread(runtime, oa, user)
    assert thread["last_message"]["direction"] == "out" and thread["unread"] == 1


async def test_receipts_and_reactions_update_message_status(company: Company, oa: Oa, runtime) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user))
    for msg_id in ("oa-1", "oa-2"):
        await oa.deliver(company.http, company.url, oa.oa_echo(user, msg_id=msg_id, text=msg_id))
    await oa.deliver(company.http, company.url, oa.received(user, "oa-1"))
    await oa.deliver(company.http, company.url, oa.seen(user, ["oa-1", "oa-2"]))
    await oa.deliver(company.http, company.url, oa.received(user, "oa-2"))  # late: seen already, no change
    await oa.deliver(company.http, company.url, oa.reaction(user, "oa-1"))
    await console.wait_for(lambda: len(console.of_type("message.updated")) == 4)
    updates = [e["data"] for e in console.of_type("message.updated")]
    assert [u.get("status") for u in updates] == ["delivered", "seen", "seen", None]
    assert updates[3]["reactions"] == {"user": "/-heart"}
    statuses = {
        m["zalo_msg_id"]: m["status"]
        async for m in runtime.store.messages.find({"company_id": company.id, "direction": "out"})
    }
    assert statuses == {"oa-1": "seen", "oa-2": "seen"}


@pytest.mark.parametrize(
    "info,address",
    [
        (
            {
                "name": "Trần Thị Bình",
                "phone": "84987654321",
                "full_address": {"user_city": "Hà Nội", "user_ward": "Phường Láng Hạ", "user_address": "12 Láng Hạ"},
            },
            "12 Láng Hạ, Phường Láng Hạ, Hà Nội",
        ),
        (
            {
                "name": "Lê Văn Cường",
                "phone": "0901112223",
                "address": "5 Lê Lợi",
                "city": "TP HCM",
                "district": "Quận 1",
                "ward": "Bến Nghé",
            },
            "5 Lê Lợi, Bến Nghé, Quận 1, TP HCM",
        ),
    ],
)
async def test_shared_info_lands_on_the_customer(company: Company, oa: Oa, runtime, info, address) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    await oa.deliver(company.http, company.url, oa.submit_info(user, info))
    await console.wait_for(
        lambda: any(
            e["data"]["customer"].get("phone")
            for e in console.of_type("thread.created") + console.of_type("thread.updated")
        )
    )
    thread = await _thread(runtime, oa, user)
    assert thread["customer"]["phone"] == info["phone"] and thread["customer"]["address"] == address
    assert thread["customer"]["info"] == info, "stored as received"


async def test_tag_events_follow_the_users(company: Company, oa: Oa, runtime) -> None:
    console = await company.console(company.owner).connect()
    first, second = zalo_id(), zalo_id()
    for user in (first, second):
        await oa.deliver(company.http, company.url, oa.user_message(user))
    await oa.deliver(company.http, company.url, oa.tag("add_user_to_tag", "VIP", [first, second]))
    # both threads tagged (the profile fetched after a first message may bring one more thread.updated)
    await console.wait_for(
        lambda: len({e["data"]["id"] for e in console.of_type("thread.updated") if e["data"]["tags"] == ["VIP"]}) == 2
    )
    await oa.deliver(company.http, company.url, oa.tag("remove_user_from_tag", "VIP", [second]))
    assert (await _thread(runtime, oa, first))["tags"] == ["VIP"]
    assert (await _thread(runtime, oa, second))["tags"] == []
    await oa.deliver(company.http, company.url, oa.tag("remove_tag", "VIP", []))
    assert (await _thread(runtime, oa, first))["tags"] == []


async def test_anonymous_conversations_get_their_own_thread(company: Company, oa: Oa, runtime) -> None:
    console = await company.console(company.owner).connect()
    await oa.deliver(company.http, company.url, oa.anonymous("anon-7", "conv-1"))
    await oa.deliver(company.http, company.url, oa.anonymous("anon-7", "conv-2"))
    await console.wait_for(lambda: len(console.of_type("thread.created")) == 2)
    threads = [e["data"] for e in console.of_type("thread.created")]
    assert all(t["anonymous"] and t["user_id"] is None for t in threads)


# -- duplicates ------------------------------------------------------------------------------------


async def test_same_webhook_three_times_and_concurrently_yields_one_message_and_one_event(
    company: Company, oa: Oa, runtime
) -> None:
    console = await company.console(company.owner).connect()
    user = zalo_id()
    payload = oa.user_message(user)
    for _ in range(3):
        assert (await oa.deliver(company.http, company.url, payload)).status_code == 200
    concurrent = oa.user_message(user, text="gửi đồng thời")
    answers = await asyncio.gather(*[oa.deliver(company.http, company.url, concurrent) for _ in range(6)])
    assert all(a.status_code == 200 for a in answers)
    # a later, different message marks the end of everything those deliveries could have caused
    await oa.deliver(company.http, company.url, oa.user_message(user, text="cuối"))
    await console.wait_for(lambda: len(console.of_type("message.created")) >= 3)
    texts = [e["data"]["text"] for e in console.of_type("message.created")]
    assert texts == ["Xin chào shop", "gửi đồng thời", "cuối"]
    assert await runtime.store.messages.count_documents({"thread_id": (await _thread(runtime, oa, user))["_id"]}) == 3
    assert (await _thread(runtime, oa, user))["unread"] == 3


async def test_users_do_not_see_unassigned_threads(company: Company, oa: Oa) -> None:
    agent = await company.add("user")
    agent_console = await company.console(agent).connect()
    owner_console = await company.console(company.owner).connect()
    await oa.deliver(company.http, company.url, oa.user_message(zalo_id()))
    await owner_console.wait_for(lambda: len(owner_console.of_type("message.created")) == 1)
    thread_id = owner_console.of_type("thread.created")[0]["data"]["id"]
    listed = await company.http.get(f"{company.url}/api/threads", headers=agent.auth)
    assert listed.json()["threads"] == []
    assert (await company.http.get(f"{company.url}/api/threads/{thread_id}", headers=agent.auth)).status_code == 404
    # events published after the chat reach the owner; by then the agent has received none of it
    await company.add("user")
    await owner_console.wait_for(lambda: len(owner_console.of_type("member.created")) == 1)
    assert agent_console.stored() == []
    assert json.dumps(agent_console.events).find("Xin chào") == -1
