"""ZCC call consent: requests, answers and timers, with a controlled clock."""

from __future__ import annotations

import csv
import io

import openpyxl

from tests.conftest import Company, link_oa, make_company
from tests.zalo_payloads import Oa

PHONE = "0987654321"
ZALO_PHONE = "84987654321"
HOUR = 3600


async def _request(company: Company, oa: Oa, by=None):
    return await company.http.post(
        f"{company.url}/api/consents",
        headers=(by or company.owner).auth,
        json={"oa_id": oa.oa_id, "phone": PHONE, "reason_code": 101, "call_type": "audio"},
    )


def _statuses(console) -> list[str]:
    return [e["data"]["status"] for e in console.of_type("consent.updated")]


async def test_agree_then_expire_after_30_days(company: Company, oa: Oa, clock, fake_zalo) -> None:
    agent = await company.add("user")
    mine = await company.console(agent).connect()
    owner = await company.console(company.owner).connect()
    created = await _request(company, oa, by=agent)
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "waiting" and created.json()["send_status"] == "success"
    assert fake_zalo.consent_requests[-1] == {"phone": ZALO_PHONE, "call_type": "audio", "reason_code": 101}
    await oa.deliver(company.http, company.url, oa.consent_sent(ZALO_PHONE))
    await oa.deliver(company.http, company.url, oa.consent_reply(ZALO_PHONE, "ALLOW"))
    await mine.wait_for(lambda: _statuses(mine) == ["waiting", "agreed"])
    agreed = mine.of_type("consent.updated")[-1]["data"]
    assert agreed["expires_at"] and agreed["customer_answer"] == "ALLOW"

    refused = await _request(company, oa)
    assert refused.status_code == 409 and refused.json()["error"]["can_resend_at"].startswith(agreed["expires_at"][:16])

    clock.advance(30 * 24 * HOUR + 60)
    await mine.wait_for(lambda: _statuses(mine) == ["waiting", "agreed", "expired"])
    await owner.wait_for(lambda: _statuses(owner)[-1:] == ["expired"])
    assert (await _request(company, oa)).status_code == 201, "a new request may go once the agreement expired"


async def test_reject_then_resend_at_once(company: Company, oa: Oa) -> None:
    owner = await company.console(company.owner).connect()
    assert (await _request(company, oa)).status_code == 201
    await oa.deliver(company.http, company.url, oa.consent_reply(ZALO_PHONE, "USER_BLOCKED"))
    await owner.wait_for(lambda: _statuses(owner) == ["waiting", "rejected"])
    again = await _request(company, oa)
    assert again.status_code == 201 and again.json()["can_resend_at"] is not None
    listed = await company.http.get(f"{company.url}/api/consents?status=rejected", headers=company.owner.auth)
    assert [c["customer_answer"] for c in listed.json()["consents"]] == ["USER_BLOCKED"]


async def test_no_answer_turns_no_response_at_24h_and_resend_waits_for_it(company: Company, oa: Oa, clock) -> None:
    owner = await company.console(company.owner).connect()
    assert (await _request(company, oa)).status_code == 201
    waiting = await _request(company, oa)
    assert waiting.status_code == 409 and waiting.json()["error"]["code"] == "consent_resend_refused"

    clock.advance(23 * HOUR)
    early = await _request(company, oa)
    assert early.status_code == 409, "still waiting: no resend before 24 h"
    clock.advance(HOUR + 60)
    await owner.wait_for(lambda: _statuses(owner) == ["waiting", "no_response"])
    late = await _request(company, oa)
    assert late.status_code == 201
    listed = await company.http.get(f"{company.url}/api/consents?phone={PHONE}", headers=company.owner.auth)
    assert [c["status"] for c in listed.json()["consents"]] == ["waiting", "no_response"]


async def test_scheduler_in_two_processes_changes_each_consent_once(
    pair_runtime, hub_pair, http, fake_zalo, pair_clock
) -> None:
    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    oa = await link_oa(company, fake_zalo)
    owner = await company.console(company.owner, second.url).connect()
    for phone in ("0900000001", "0900000002", "0900000003"):
        response = await http.post(
            f"{first.url}/api/consents",
            headers=company.owner.auth,
            json={"oa_id": oa.oa_id, "phone": phone, "reason_code": 103},
        )
        assert response.status_code == 201
    pair_clock.advance(25 * HOUR)
    await owner.wait_for(lambda: _statuses(owner).count("no_response") == 3)
    # an event published after: by the time it arrives, any second change would have arrived too
    await http.post(f"{second.url}/api/labels", headers=company.owner.auth, json={"name": "after"})
    await owner.wait_for(lambda: owner.of_type("label.created"))
    assert _statuses(owner).count("no_response") == 3
    stored = [c async for c in pair_runtime.store.consents.find({"company_id": company.id})]
    assert {c["status"] for c in stored} == {"no_response"}


async def test_a_user_sees_only_their_own_requests_whatever_they_filter_by(company: Company, oa: Oa) -> None:
    agent = await company.add("user")
    assert (await _request(company, oa)).status_code == 201  # the owner's request
    url = f"{company.url}/api/consents"
    assert (await company.http.get(url, headers=agent.auth)).json()["consents"] == []
    widened = await company.http.get(url, headers=agent.auth, params={"requested_by": company.owner.id})
    assert widened.json()["consents"] == [], "a filter never widens a user's view"
    owners = (await company.http.get(url, headers=company.owner.auth, params={"phone": PHONE})).json()["consents"]
    assert [c["requested_by"] for c in owners] == [company.owner.id]


async def test_the_consent_list_exports_as_it_shows(company: Company, oa: Oa) -> None:
    for phone in ("0987000001", "0987000002", "0987000003"):
        response = await company.http.post(
            f"{company.url}/api/consents",
            headers=company.owner.auth,
            json={"oa_id": oa.oa_id, "phone": phone, "reason_code": 101, "call_type": "audio"},
        )
        assert response.status_code == 201, response.text
    url = f"{company.url}/api/consents"
    listed = (await company.http.get(url, headers=company.owner.auth)).json()["consents"]
    response = await company.http.get(f"{url}/export", headers=company.owner.auth, params={"lang": "en"})
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[:3] == ("Requested at", "OA", "Phone")
    assert [(r[2], r[5], r[6]) for r in rows] == [(c["phone"], "Owner", "Waiting") for c in listed]
    assert len(rows) == 3

    # A user's file holds their own requests, as their list does: none here.
    agent = await company.add("user")
    response = await company.http.get(f"{url}/export", headers=agent.auth, params={"format": "csv"})
    assert response.status_code == 200, response.text
    assert list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[1:] == []
