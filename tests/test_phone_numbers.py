"""One number, whatever its form: 0912…, 84912… and +84912… find the same customer in thread search,
call history and the consent and ZNS lists (raw values kept as given)."""

from __future__ import annotations

import pytest

from hub.phones import e164
from tests.conftest import Company
from tests.pbx_payloads import HOTLINE, Pbx, canonical
from tests.zalo_payloads import Oa, zalo_id

FORMS = ["0912555777", "84912555777", "+84912555777", "+84 912 555 777"]


@pytest.mark.parametrize("raw", FORMS)
def test_every_form_is_one_number(raw: str) -> None:
    assert e164(raw) == "+84912555777"


def test_an_extension_or_a_name_is_no_number() -> None:
    assert e164("101") is None and e164("client:alice") is None and e164("") is None


async def test_thread_search_finds_a_shared_phone_in_any_form(company: Company, oa: Oa) -> None:
    user_id = zalo_id()
    console = await company.console(company.owner).connect()
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="xin chào"))
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, {"name": "Chị Lan", "phone": "84912555777"}))
    await console.wait_for(
        lambda: any(
            e["data"]["customer"].get("phone")
            for e in console.of_type("thread.updated")
            if e["data"]["user_id"] == user_id
        )
    )
    for form in FORMS:
        found = (
            await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth, params={"text": form})
        ).json()["threads"]
        assert [t["user_id"] for t in found] == [user_id], form
        assert found[0]["customer"]["phone"] == "84912555777", "the raw value is kept"


async def test_call_history_finds_a_caller_in_any_form(company: Company) -> None:
    secret = (await company.http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    pbx = Pbx(company.url, company.code, secret)
    owner = await company.console(company.owner).connect()
    events = canonical("answered")
    for event in events:
        await pbx.post(company.http, {**event, "from": "+84912555777"})
    other = canonical("answered")
    for event in other:
        await pbx.post(company.http, event)
    await owner.wait_for(lambda: sum(1 for e in owner.of_type("call.updated") if e["data"]["outcome"]) >= 2)
    for form in FORMS:
        calls = (
            await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth, params={"phone": form})
        ).json()["calls"]
        assert [c["call_id"] for c in calls] == [events[0]["call_id"]], form
        assert calls[0]["from_number"] == "+84912555777"
    assert (
        await company.http.get(f"{company.url}/api/calls", headers=company.owner.auth, params={"phone": HOTLINE})
    ).json()["calls"], "the hotline side too"


async def test_consent_list_finds_a_phone_in_any_form(company: Company, oa: Oa) -> None:
    response = await company.http.post(
        f"{company.url}/api/consents",
        headers=company.owner.auth,
        json={"oa_id": oa.oa_id, "phone": "0912555777", "reason_code": 101, "call_type": "audio"},
    )
    assert response.status_code == 201, response.text
    for form in FORMS:
        listed = (
            await company.http.get(f"{company.url}/api/consents", headers=company.owner.auth, params={"phone": form})
        ).json()["consents"]
        assert [c["id"] for c in listed] == [response.json()["id"]], form
    none = (
        await company.http.get(
            f"{company.url}/api/consents", headers=company.owner.auth, params={"phone": "0912000000"}
        )
    ).json()["consents"]
    assert none == []
