"""One customer per phone number: the phone an agent types on a thread, the customer page that joins the contact,
threads, calls, ZNS messages and consent requests of that number, seen by each reader exactly as the lists
show them, and the ZNS template picker's list and detail through Zalo."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub.customers import SECTION_LIMIT
from hub.runtime import Runtime
from tests.conftest import Company, Person
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import CALLER, canonical
from tests.test_missed_calls import _outbound
from tests.test_pbx_calls import _agent, _pbx
from tests.web_steps import assign, zalo_user
from tests.zalo_payloads import Oa, zalo_id

E164 = "+84" + CALLER[1:]  # 0912345678 as the page keys it
ZALO_FORM = E164[1:]
OTHER = "0987000111"
SECTIONS = ("threads", "calls", "zns", "consents")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def zns_hours(clock) -> None:  # type: ignore[no-untyped-def]
    """Zalo sends ZNS 06:00-22:00 Vietnam time: outside those hours, move the hub's clock to 06:30 (forward at
    most 8.5 hours, so the consoles' tokens, issued before, stay valid)."""
    now = datetime.now(VIETNAM)
    if 6 <= now.hour < 22:
        return
    target = now.replace(hour=6, minute=30, second=0, microsecond=0)
    if target < now:
        target += timedelta(days=1)
    clock.set((target - now).total_seconds())


async def _get(company: Company, person: Person, path: str, **params: Any) -> dict[str, Any]:
    response = await company.http.get(f"{company.url}{path}", headers=person.auth, params=params)
    assert response.status_code == 200, response.text
    return response.json()


async def _eventually(check, what: str) -> Any:  # type: ignore[no-untyped-def]
    for _ in range(150):
        if found := await check():
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"never: {what}")


async def _type_phone(company: Company, person: Person, thread_id: str, phone: str) -> Any:
    return await company.http.put(
        f"{company.url}/api/threads/{thread_id}/customer-phone", headers=person.auth, json={"phone": phone}
    )


async def _shares_phone(
    company: Company, oa: Oa, assignee: Person, phone: str, name: str, user_id: str | None = None
) -> str:
    """A Zalo customer writes in, the owner gives the thread to `assignee`, the customer submits `phone`. With
    `user_id` (a Zalo user with a profile), the thread is given once their profile has named them."""
    named = name if user_id else None
    user_id = user_id or zalo_id()
    thread_id = await assign(company, oa, user_id, assignee, f"hỏi giá {zalo_id()}", named=named)
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, {"name": name, "phone": phone}))

    async def shared() -> bool:
        thread = await _get(company, company.owner, f"/api/threads/{thread_id}")
        return thread["customer"].get("phone_e164") is not None

    await _eventually(shared, "the submitted phone on the thread")
    return thread_id


async def _calls(company: Company, now: datetime) -> dict[str, str]:
    """Calls of the customer's number both ways and one of a stranger: name -> call id."""
    pbx = await _pbx(company)
    answered = canonical("answered", base=now - timedelta(minutes=30))  # rings 101
    missed = canonical("no_answer", base=now - timedelta(minutes=20))  # rings 102
    out = _outbound(E164, now - timedelta(minutes=10))  # 101 calls the customer back
    stranger = [{**e, "from": OTHER} for e in canonical("answered", base=now - timedelta(minutes=5))]
    for event in [*answered, *missed, *out, *stranger]:
        assert (await pbx.post(company.http, event)).status_code == 200
    return {
        "answered": answered[0]["call_id"],
        "missed": missed[0]["call_id"],
        "out": out[0]["call_id"],
        "stranger": stranger[0]["call_id"],
    }


def _ids(section: dict[str, Any], key: str = "id") -> list[str]:
    return [item[key] for item in section["items"]]


async def test_a_customer_page_joins_everything_of_one_number_and_each_reader_sees_only_their_part(
    company: Company, oa: Oa, runtime: Runtime, clock
) -> None:
    agent_a = await _agent(company, "101")
    agent_b = await _agent(company, "102")
    console_b = await company.console(agent_b).connect()
    # The general contact, as the contacts list stores it (its own API is another module's).
    await runtime.store.db["contacts"].insert_one(
        {
            "_id": "contact-" + zalo_id(),
            "company_id": company.id,
            "name": "Chị Lan (khách quen)",
            "phones": [CALLER],
            "phones_e164": [E164],
            "email": "lan@example.vn",
            "address": "12 Lê Lợi, Q1",
            "note": "Gọi sau 9h",
            "created_at": datetime.now(UTC),
            "created_by": company.owner.id,
        }
    )
    submitted = await _shares_phone(company, oa, agent_a, ZALO_FORM, "Lan Zalo")  # user_submit_info, 84… form
    typed = await assign(company, oa, zalo_id(), agent_b, f"cần tư vấn {zalo_id()}")
    elsewhere = await _shares_phone(company, oa, agent_a, OTHER, "Someone else")

    # Agent B types the customer's number on their thread: thread.updated, with where the phone came from.
    refused = await _type_phone(company, agent_b, typed, "12")
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_phone", refused.text
    assert (await _type_phone(company, agent_a, typed, CALLER)).status_code == 404, "not agent A's thread"
    assert (await _get(company, company.owner, f"/api/threads/{typed}"))["customer"]["phone"] is None
    answer = await _type_phone(company, agent_b, typed, " +84 912 345 678 ")
    assert answer.status_code == 200, answer.text
    assert (
        answer.json()["customer"].items()
        >= {
            "phone": "+84 912 345 678",
            "phone_e164": E164,
            "phone_source": "agent",
        }.items()
    )
    await console_b.wait_for(
        lambda: any(
            e["data"]["thread_id"] == typed and e["data"]["customer"]["phone_source"] == "agent"
            for e in console_b.of_type("thread.updated")
        )
    )
    submitted_thread = await _get(company, company.owner, f"/api/threads/{submitted}")
    assert submitted_thread["customer"]["phone_source"] == "user_submit_info"

    calls = await _calls(company, datetime.now(UTC))
    consent = await company.http.post(
        f"{company.url}/api/consents",
        headers=agent_a.auth,
        json={"oa_id": oa.oa_id, "phone": CALLER, "reason_code": 101, "call_type": "audio"},
    )
    assert consent.status_code == 201, consent.text
    zns_hours(clock)
    sent = []
    for phone in (E164, OTHER):
        response = await company.http.post(
            f"{company.url}/api/zns/messages",
            headers=company.owner.auth,
            json={"oa_id": oa.oa_id, "phone": phone, "template_id": "tpl-1", "template_data": {"name": "Lan"}},
        )
        assert response.status_code == 201, response.text
        sent.append(response.json()["id"])

    # The owner: everything of the number, newest first; the same page whatever form the number is asked in.
    owner = await _get(company, company.owner, "/api/customers/0912345678")
    again = await _get(company, company.owner, "/api/customers/84912345678")  # calls may be finalizing meanwhile
    assert {s: _ids(again[s]) for s in SECTIONS} == {s: _ids(owner[s]) for s in SECTIONS} and again["phone"] == E164
    assert owner["phone"] == E164 and owner["zalo_phone"] == ZALO_FORM
    assert owner["name"] == "Chị Lan (khách quen)"
    assert owner["contact"]["email"] == "lan@example.vn" and owner["contact"]["note"] == "Gọi sau 9h"
    assert owner["oas"] == [{"oa_id": oa.oa_id, "name": "Shop OA"}] and owner["may_send_zns"] is True
    assert sorted(_ids(owner["threads"])) == sorted([submitted, typed]) and elsewhere not in _ids(owner["threads"])
    assert _ids(owner["calls"], "call_id") == [calls["out"], calls["missed"], calls["answered"]]
    assert _ids(owner["zns"]) == [sent[0]]
    assert _ids(owner["consents"]) == [consent.json()["id"]]
    assert not any(owner[s]["more"] for s in SECTIONS)

    # Agent A: their thread, the calls that rang them, their consent request; no ZNS section at all.
    mine = await _get(company, agent_a, "/api/customers/+84912345678")
    assert mine["contact"]["name"] == "Chị Lan (khách quen)", "the contact is company-wide"
    assert _ids(mine["threads"]) == [submitted]
    assert _ids(mine["calls"], "call_id") == [calls["out"], calls["answered"]]
    assert _ids(mine["consents"]) == [consent.json()["id"]]
    assert "zns" not in mine and mine["may_send_zns"] is False

    # Agent B: the thread whose phone they typed, the call that rang them, no consent request of theirs.
    theirs = await _get(company, agent_b, "/api/customers/0912345678")
    assert _ids(theirs["threads"]) == [typed]
    assert _ids(theirs["calls"], "call_id") == [calls["missed"]]
    assert theirs["consents"]["items"] == [] and "zns" not in theirs

    refused_page = await company.http.get(f"{company.url}/api/customers/not-a-number", headers=agent_a.auth)
    assert refused_page.status_code == 422 and refused_page.json()["error"]["code"] == "invalid_phone"


async def test_a_customer_without_a_contact_is_named_by_their_zalo_thread(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    agent = await company.add("user")
    await _shares_phone(company, oa, agent, "0911222333", "Anh Minh", zalo_user(fake_zalo, "Anh Minh"))
    page = await _get(company, agent, "/api/customers/0911222333")
    assert page["contact"] is None and page["name"] == "Anh Minh"
    assert [t["customer"]["name"] for t in page["threads"]["items"]] == ["Anh Minh"]


async def test_zns_templates_are_listed_and_detailed_through_zalo_and_kept(
    company: Company, oa: Oa, fake_zalo: FakeZalo, runtime: Runtime
) -> None:
    template_id = str(400000 + int(zalo_id()[-5:]))
    fake_zalo.templates[template_id] = {
        "templateId": int(template_id),
        "templateName": "Xác nhận đơn hàng",
        "status": "ENABLE",
        "templateQuality": "HIGH",
        "templateTag": "TRANSACTION",
        "timeout": 7200000,
        "previewUrl": "https://account.zalo.cloud/znspreview/abc",
        "price": "300",
        "listParams": [
            {"name": "customer_name", "require": True, "type": "STRING", "maxLength": 30, "minLength": 0},
            {"name": "order_code", "require": True, "type": "STRING", "maxLength": 12, "minLength": 1},
            {"name": "note", "require": False, "type": "STRING", "maxLength": 50, "minLength": 0, "acceptNull": True},
        ],
        "listButtons": [],
    }
    asked = len(fake_zalo.template_requests)
    listed = await _get(company, company.owner, "/api/zns/templates", oa_id=oa.oa_id)
    assert fake_zalo.template_requests[asked:] == ["/template/all"], "fetched from Zalo when asked"
    assert listed["zalo_error"] is None
    assert {"template_id": template_id, "name": "Xác nhận đơn hàng", "status": "ENABLE", "quality": "HIGH"}.items() <= (
        next(t for t in listed["templates"] if t["template_id"] == template_id).items()
    )
    detail = await _get(company, company.owner, f"/api/zns/templates/{template_id}", oa_id=oa.oa_id)
    assert [(p["name"], p["require"], p["maxLength"]) for p in detail["listParams"]] == [
        ("customer_name", True, 30),
        ("order_code", True, 12),
        ("note", False, 50),
    ]
    assert detail["otp"] is False and detail["price"] == "300"
    kept = await runtime.store.zns_templates.find_one({"oa_id": oa.oa_id, "template_id": template_id})
    assert kept is not None and kept["company_id"] == company.id and len(kept["params"]) == 3

    unknown = await company.http.get(
        f"{company.url}/api/zns/templates/999999999", headers=company.owner.auth, params={"oa_id": oa.oa_id}
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "template_not_found"
    no_oa = await company.http.get(
        f"{company.url}/api/zns/templates", headers=company.owner.auth, params={"oa_id": "nope"}
    )
    assert no_oa.status_code == 404 and no_oa.json()["error"]["code"] == "oa_link_not_found"
    user = await company.add("user")
    refused = await company.http.get(f"{company.url}/api/zns/templates", headers=user.auth, params={"oa_id": oa.oa_id})
    assert refused.status_code == 403

    # Zalo refusing the OA's token: the kept templates, with Zalo's word beside them.
    fake_zalo.expire_access_tokens(oa.app_id)
    for token in [t for t, app in fake_zalo.refresh_tokens.items() if app == oa.app_id]:
        del fake_zalo.refresh_tokens[token]
    kept_list = await _get(company, company.owner, "/api/zns/templates", oa_id=oa.oa_id)
    assert kept_list["zalo_error"] is not None
    assert template_id in [t["template_id"] for t in kept_list["templates"]]


async def test_a_long_history_shows_the_newest_and_says_there_is_more(company: Company) -> None:
    pbx = await _pbx(company)
    now = datetime.now(UTC)
    ids = []
    for n in range(SECTION_LIMIT + 1):
        events = canonical("short_cancel", base=now - timedelta(minutes=60 - n))
        ids.append(events[0]["call_id"])
        for event in events:
            assert (await pbx.post(company.http, event)).status_code == 200
    page = await _get(company, company.owner, f"/api/customers/{CALLER}")
    assert _ids(page["calls"], "call_id") == ids[::-1][:SECTION_LIMIT] and page["calls"]["more"] is True
    assert page["threads"] == {"items": [], "more": False} and page["contact"] is None and page["name"] is None
