"""Agents reply through the OA API (a local server that behaves like Zalo), and the reply window moves."""

from __future__ import annotations

from tests.conftest import Company
from tests.zalo_payloads import Oa, zalo_id


async def _open_thread(company: Company, oa: Oa, console, user: str | None = None) -> tuple[str, str]:
    user = user or zalo_id()
    await oa.deliver(company.http, company.url, oa.user_message(user))
    await console.wait_for(lambda: any(e["data"]["user_id"] == user for e in console.of_type("thread.created")))
    thread = next(e["data"] for e in console.of_type("thread.created") if e["data"]["user_id"] == user)
    return thread["id"], user


async def test_reply_reaches_zalo_once_and_its_echo_is_not_duplicated(
    company: Company, oa: Oa, fake_zalo, runtime
) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    url = f"{company.url}/api/threads/{thread_id}/messages"
    body = {"client_msg_id": "c-1", "text": "Dạ còn hàng ạ", "quote_msg_id": "q-1"}

    response = await company.http.post(url, headers=company.owner.auth, json=body)
    assert response.status_code == 201, response.text
    message = response.json()
    assert message["status"] == "sent" and message["quota_type"] == "reply"
    sent = fake_zalo.sent_to(user)
    assert len(sent) == 1 and sent[0]["message"] == {"text": "Dạ còn hàng ạ", "quote_message_id": "q-1"}
    assert message["zalo_msg_id"] == sent[0]["message_id"]

    retry = await company.http.post(url, headers=company.owner.auth, json=body)
    assert retry.status_code == 200 and retry.json()["id"] == message["id"]
    assert len(fake_zalo.sent_to(user)) == 1, "a retried client_msg_id never sends twice"

    await oa.deliver(company.http, company.url, oa.oa_echo(user, msg_id=message["zalo_msg_id"], text=body["text"]))
    await oa.deliver(company.http, company.url, oa.user_message(user, text="cảm ơn"))
    await console.wait_for(lambda: len(console.of_type("message.created")) == 3)
    created = [e["data"] for e in console.of_type("message.created")]
    assert [(m["direction"], m["text"]) for m in created] == [
        ("in", "Xin chào shop"),
        ("out", "Dạ còn hàng ạ"),
        ("in", "cảm ơn"),
    ]
    page = (await company.http.get(url, headers=company.owner.auth)).json()
    assert [m["text"] for m in page["messages"]] == ["cảm ơn", "Dạ còn hàng ạ", "Xin chào shop"]


async def test_expired_token_is_refreshed_once_in_the_middle_of_a_send(
    company: Company, oa: Oa, fake_zalo, runtime
) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    url = f"{company.url}/api/threads/{thread_id}/messages"
    fake_zalo.expire_access_tokens(oa.app_id)
    before = len(fake_zalo.refreshes)

    response = await company.http.post(url, headers=company.owner.auth, json={"client_msg_id": "r-1", "text": "một"})
    assert response.status_code == 201 and response.json()["status"] == "sent"
    refreshes = fake_zalo.refreshes[before:]
    assert len(refreshes) == 1 and refreshes[0]["secret_key"] == oa.app_secret
    link = await runtime.store.oa_links.find_one({"_id": oa.link_id})
    assert link["refresh_token"] != refreshes[0]["refresh_token"], "the rotated refresh token was stored"
    assert fake_zalo.sent_to(user)[-1]["access_token"] == link["access_token"]

    response = await company.http.post(url, headers=company.owner.auth, json={"client_msg_id": "r-2", "text": "hai"})
    assert response.json()["status"] == "sent"
    assert len(fake_zalo.refreshes) == before + 1, "the new token is used without another refresh"


async def test_zalo_refusal_is_stored_with_a_clear_reason(company: Company, oa: Oa, fake_zalo) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    fake_zalo.refusals[user] = -230
    response = await company.http.post(
        f"{company.url}/api/threads/{thread_id}/messages",
        headers=company.owner.auth,
        json={"client_msg_id": "x-1", "text": "alo"},
    )
    assert response.status_code == 201
    message = response.json()
    assert message["status"] == "failed"
    assert message["failure"]["code"] == -230
    assert "last 7 days" in message["failure"]["reason"] and "7 ngày" in message["failure"]["reason_vi"]
    await console.wait_for(lambda: any(e["data"]["status"] == "failed" for e in console.of_type("message.created")))


async def test_attachments_and_request_info_use_zalo_shapes(company: Company, oa: Oa, fake_zalo) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    url = f"{company.url}/api/threads/{thread_id}"
    image = {"client_msg_id": "i-1", "text": "ảnh mẫu", "attachment": {"type": "image", "url": "https://cdn/x.jpg"}}
    assert (await company.http.post(f"{url}/messages", headers=company.owner.auth, json=image)).status_code == 201
    sticker = {"client_msg_id": "s-1", "attachment": {"type": "sticker", "sticker_id": "st-1"}}
    assert (await company.http.post(f"{url}/messages", headers=company.owner.auth, json=sticker)).status_code == 201
    bad = {"client_msg_id": "f-1", "attachment": {"type": "file"}}
    assert (await company.http.post(f"{url}/messages", headers=company.owner.auth, json=bad)).status_code == 422
    too_long = {"client_msg_id": "t-1", "text": "x" * 2001}
    assert (await company.http.post(f"{url}/messages", headers=company.owner.auth, json=too_long)).status_code == 422
    response = await company.http.post(f"{url}/request-info", headers=company.owner.auth, json={})
    assert response.status_code == 201 and response.json()["kind"] == "request_user_info"
    sent = [s["message"] for s in fake_zalo.sent_to(user)]
    assert sent[0]["attachment"]["payload"]["elements"] == [{"media_type": "image", "url": "https://cdn/x.jpg"}]
    assert sent[0]["text"] == "ảnh mẫu"
    assert sent[1]["attachment"]["payload"]["elements"][0]["media_type"] == "sticker"
    assert sent[2]["attachment"]["payload"]["template_type"] == "request_user_info"


async def test_mark_read_clears_unread(company: Company, oa: Oa) -> None:
    console = await company.console(company.owner).connect()
    thread_id, _ = await _open_thread(company, oa, console)
    response = await company.http.post(f"{company.url}/api/threads/{thread_id}/read", headers=company.owner.auth)
    assert response.status_code == 200 and response.json()["unread"] == 0
    await console.wait_for(
        lambda: console.of_type("thread.updated") and console.of_type("thread.updated")[-1]["data"]["unread"] == 0
    )
    unread = await company.http.get(f"{company.url}/api/threads?unread=true", headers=company.owner.auth)
    assert unread.json()["threads"] == []


async def test_reply_window_moves_free_charged_blocked_with_time_alone(
    company: Company, oa: Oa, clock, fake_zalo
) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    assert console.of_type("thread.created")[0]["data"]["reply_window"]["state"] == "free"

    def windows() -> list[str]:
        return [
            e["data"]["state"] for e in console.of_type("reply_window.changed") if e["data"]["thread_id"] == thread_id
        ]

    clock.advance(48 * 3600 + 60)
    await console.wait_for(lambda: windows() == ["charged"])
    clock.advance(5 * 24 * 3600)
    await console.wait_for(lambda: windows() == ["charged", "blocked"])
    change = console.of_type("reply_window.changed")[-1]["data"]
    assert change["until"] is None

    response = await company.http.post(
        f"{company.url}/api/threads/{thread_id}/messages",
        headers=company.owner.auth,
        json={"client_msg_id": "late", "text": "alo"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reply_window_blocked"
    assert "ZNS" in response.json()["error"]["message"]
    assert fake_zalo.sent_to(user) == [], "refused before calling Zalo"

    # the customer writes again: the window is free again, from the new interaction
    oa.clock_offset_s = clock.offset_s
    await oa.deliver(company.http, company.url, oa.user_message(user, text="mình quay lại"))
    await console.wait_for(lambda: windows() == ["charged", "blocked", "free"])


async def test_agent_uploads_an_image_and_a_file_then_sends_them(company: Company, oa: Oa, fake_zalo) -> None:
    console = await company.console(company.owner).connect()
    thread_id, user = await _open_thread(company, oa, console)
    url = f"{company.url}/api/threads/{thread_id}"
    image = await company.http.post(
        f"{url}/attachments",
        headers=company.owner.auth,
        files={"file": ("ao.png", b"\x89PNG" + b"0" * 1000, "image/png")},
    )
    assert image.status_code == 201 and image.json()["type"] == "image" and image.json()["attachment_id"]
    document = await company.http.post(
        f"{url}/attachments",
        headers=company.owner.auth,
        files={"file": ("bao-gia.pdf", b"%PDF" + b"0" * 2000, "application/pdf")},
    )
    assert document.status_code == 201 and document.json()["type"] == "file"
    too_big = await company.http.post(
        f"{url}/attachments",
        headers=company.owner.auth,
        files={"file": ("big.bin", b"0" * (6 * 1024 * 1024), "application/pdf")},
    )
    assert too_big.status_code == 413

    send = {"client_msg_id": "f-1", "attachment": {"type": "file", "token": document.json()["token"]}}
    response = await company.http.post(f"{url}/messages", headers=company.owner.auth, json=send)
    assert response.status_code == 201 and response.json()["status"] == "sent"
    assert fake_zalo.sent_to(user)[-1]["message"] == {
        "attachment": {"type": "file", "payload": {"token": document.json()["token"]}}
    }
