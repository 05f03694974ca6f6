"""Linking a Zalo OA through Zalo's OAuth v4 permission flow (PKCE) against the fake Zalo; what the link
shows (getoa, quota, webhooks); the refresh token's 7-day warning and lapse with the hub's clock moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from hub.oa_links import code_challenge
from tests.conftest import Company, hub_of_its_own, make_company, runtime_of
from tests.fake_zalo import FakeZalo
from tests.zalo_payloads import Oa, now_ms

DAY = 86400.0


def _query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def _start(company: Company, account: Oa, path: str = "/api/oa-links/oauth/start", **extra: Any) -> str:
    body = {"app_id": account.app_id, "app_secret": account.app_secret, **extra}
    response = await company.http.post(f"{company.url}{path}", headers=company.owner.auth, json=body)
    assert response.status_code == 200, response.text
    return response.json()["url"]


async def _through_zalo(url: str) -> httpx.Response:
    """The owner's browser: Zalo's permission page, then the hub's callback; stops at the console redirect."""
    async with httpx.AsyncClient(timeout=20) as browser:
        allowed = await browser.get(url)
        assert allowed.status_code == 302, allowed.text
        back = await browser.get(allowed.headers["location"])
        assert back.status_code == 303, back.text
        return back


def _outcome(back: httpx.Response) -> dict[str, str]:
    location = back.headers["location"]
    assert location.startswith("/console?") and location.endswith("#admin/oa"), location
    return _query(location.split("#")[0])


async def _links(company: Company) -> list[dict[str, Any]]:
    response = await company.http.get(f"{company.url}/api/oa-links", headers=company.owner.auth)
    assert response.status_code == 200
    return response.json()["oa_links"]


def _new_app(fake_zalo: FakeZalo, **profile: Any) -> Oa:
    account = Oa.new()
    fake_zalo.register_app(account.app_id, account.app_secret, account.oa_id, **profile)
    return account


async def test_oauth_round_trip_links_the_oa_with_its_info_and_tokens(
    company: Company, fake_zalo: FakeZalo, runtime
) -> None:
    account = _new_app(fake_zalo, name="Cửa hàng Hoa Sen", num_follower=4321)
    owner_console = await company.console(company.owner).connect()
    url = await _start(company, account, oa_secret_key=account.oa_secret_key)

    query = _query(url)
    assert url.startswith(f"{fake_zalo.url}/v4/oa/permission?")
    assert sorted(query) == ["app_id", "code_challenge", "redirect_uri", "state"]
    assert query["redirect_uri"] == f"{company.url}/oauth/zalo/callback"
    pending = await runtime.store.oa_oauth.find_one({"_id": query["state"]})
    verifier = pending["code_verifier"]
    assert len(verifier) == 43 and verifier.isalnum() and code_challenge(verifier) == query["code_challenge"]

    outcome = _outcome(await _through_zalo(url))
    assert outcome["oa_link"] == "linked", outcome
    exchange = fake_zalo.exchanges[-1]
    assert exchange["grant_type"] == "authorization_code" and exchange["code_verifier"] == verifier
    assert exchange["secret_key"] == account.app_secret

    [link] = await _links(company)
    assert link["id"] == outcome["link_id"] and link["oa_id"] == account.oa_id and link["status"] == "active"
    assert link["name"] == "Cửa hàng Hoa Sen" and link["info"]["num_follower"] == 4321
    assert link["info"]["is_verified"] is True and link["info"]["package_name"]
    assert link["quotas"][0]["remain"] == 1500
    assert link["webhook_url"] == f"{company.url}/webhooks/zalo" and link["webhook_key_set"] is True
    assert link["refresh_warning"] is False and link["refresh_expires_at"]
    stored = await runtime.store.oa_links.find_one({"_id": link["id"]})
    assert stored["access_token"] in fake_zalo.access_tokens
    assert await runtime.store.oa_oauth.count_documents({"_id": query["state"]}) == 0  # state used once

    await owner_console.wait_for(lambda: bool(owner_console.of_type("oa_link.created")))
    assert owner_console.of_type("oa_link.created")[-1]["data"]["id"] == link["id"]

    # The webhook of the OA linked this way is verified with the key given.
    answer = await account.deliver(company.http, company.url, account.user_message("8000123456789"))
    assert answer.status_code == 200 and answer.json()["outcome"] == "accepted"


async def test_a_state_the_hub_did_not_issue_is_refused(company: Company, fake_zalo: FakeZalo) -> None:
    account = _new_app(fake_zalo)
    url = await _start(company, account)
    forged = url.replace(f"state={_query(url)['state']}", "state=forged")
    outcome = _outcome(await _through_zalo(forged))
    assert outcome == {"oa_link": "failed", "reason": "state_unknown"}
    assert all(e["app_id"] != account.app_id for e in fake_zalo.exchanges), "no code is exchanged"
    assert await _links(company) == []


async def test_denied_permission_and_a_token_less_exchange_answer_say_why(
    company: Company, fake_zalo: FakeZalo
) -> None:
    account = _new_app(fake_zalo)
    fake_zalo.denying.add(account.app_id)
    assert _outcome(await _through_zalo(await _start(company, account))) == {"oa_link": "failed", "reason": "denied"}
    fake_zalo.denying.discard(account.app_id)

    fake_zalo.exchange_answers.append(
        {"error": -14002, "error_name": "Invalid appId", "error_reason": "app is not activated"}
    )
    outcome = _outcome(await _through_zalo(await _start(company, account)))
    assert outcome["reason"] == "exchange_failed" and outcome["zalo_error"] == "-14002"
    assert "Invalid appId" in outcome["detail"]

    fake_zalo.exchange_answers.append({"message": "ok"})  # neither tokens nor an error code
    outcome = _outcome(await _through_zalo(await _start(company, account)))
    assert outcome["reason"] == "exchange_failed" and "without tokens" in outcome["detail"]
    assert await _links(company) == []


async def test_a_code_is_exchanged_once_and_only_with_its_verifier(fake_zalo: FakeZalo, http) -> None:
    """The fake keeps Zalo's rules, so a hub that sent the wrong verifier or replayed a code would fail."""
    account = _new_app(fake_zalo)
    verifier = "a" * 43
    page = await http.get(
        f"{fake_zalo.url}/v4/oa/permission",
        params={
            "app_id": account.app_id,
            "redirect_uri": "http://hub/cb",
            "code_challenge": code_challenge(verifier),
            "state": "s",
        },
    )
    code = _query(page.headers["location"])["code"]
    form = {"code": code, "app_id": account.app_id, "grant_type": "authorization_code"}
    headers = {"secret_key": account.app_secret}
    wrong = await http.post(
        f"{fake_zalo.url}/v4/oa/access_token", headers=headers, data={**form, "code_verifier": "b" * 43}
    )
    assert "access_token" not in wrong.json() and wrong.json()["error"] < 0
    again = await http.post(
        f"{fake_zalo.url}/v4/oa/access_token", headers=headers, data={**form, "code_verifier": verifier}
    )
    assert "access_token" not in again.json(), "a code is single-use, even after a failed exchange"


async def test_relink_through_zalo_reconnects_a_disconnected_link(
    company: Company, fake_zalo: FakeZalo, runtime
) -> None:
    account = _new_app(fake_zalo)
    _outcome(await _through_zalo(await _start(company, account, oa_secret_key=account.oa_secret_key)))
    [link] = await _links(company)
    gone = await company.http.delete(f"{company.url}/api/oa-links/{link['id']}", headers=company.owner.auth)
    assert gone.json()["status"] == "disconnected"

    url = await _start(company, account, path=f"/api/oa-links/{link['id']}/oauth/start")
    assert _query(url)["app_id"] == account.app_id
    outcome = _outcome(await _through_zalo(url))
    assert outcome == {"oa_link": "linked", "link_id": link["id"]}
    [again] = await _links(company)
    assert again["status"] == "active" and again["webhook_key_set"] is True

    # Relinking must be done as the same OA.
    other = Oa.new()
    fake_zalo.register_app(account.app_id, account.app_secret, other.oa_id)
    url = await _start(company, account, path=f"/api/oa-links/{link['id']}/oauth/start")
    assert _outcome(await _through_zalo(url))["reason"] == "other_oa"


async def test_refresh_token_warning_from_7_days_before_and_lapse_by_the_clock(
    company: Company, fake_zalo: FakeZalo, oa: Oa, clock
) -> None:
    manager = await company.add("manager")
    console = await company.console(manager).connect()

    def updates() -> list[dict[str, Any]]:
        return [e["data"] for e in console.of_type("oa_link.updated") if e["data"]["id"] == oa.link_id]

    [link] = await _links(company)
    assert link["refresh_warning"] is False
    clock.advance(82 * DAY)  # 8 days left of 90
    assert (await _links(company))[0]["refresh_warning"] is False
    clock.advance(1 * DAY + 60)  # under 7 days left
    await console.wait_for(lambda: any(u["refresh_warning"] for u in updates()))
    assert (await _links(company))[0]["refresh_warning"] is True
    clock.advance(7 * DAY)
    await console.wait_for(lambda: any(u["refresh_lapsed"] for u in updates()))
    lapsed = (await _links(company))[0]
    assert lapsed["refresh_lapsed"] is True and lapsed["refresh_warning"] is False
    assert sum(1 for u in updates() if u["refresh_warning"]) == 1, "the warning is announced once"


async def test_quota_and_quality_webhooks_show_on_the_link(company: Company, oa: Oa) -> None:
    console = await company.console(company.owner).connect()

    async def deliver(payload: dict[str, Any]) -> None:
        answer = await oa.deliver(company.http, company.url, {"app_id": oa.app_id, "timestamp": now_ms(), **payload})
        assert answer.status_code == 200, answer.text

    await deliver(
        {"event_name": "change_oa_daily_quota", "oaId": oa.oa_id, "quota": {"prev_value": 1000, "new_value": 2000}}
    )
    await deliver({"event_name": "change_template_quality", "oa_id": oa.oa_id, "template_id": "t1", "quality": "HIGH"})
    await deliver({"event_name": "change_template_quality", "oa_id": oa.oa_id, "template_id": "t2", "quality": "LOW"})
    await console.wait_for(lambda: any(e["data"]["quality"] == "LOW" for e in console.of_type("oa_link.updated")))
    [link] = await _links(company)
    assert link["zns_daily_quota"] == 2000
    assert link["template_quality"] == {"t1": "HIGH", "t2": "LOW"} and link["quality"] == "LOW"

    refreshed = await company.http.post(f"{company.url}/api/oa-links/{oa.link_id}/refresh", headers=company.owner.auth)
    assert refreshed.status_code == 200 and refreshed.json()["info"]["name"] == f"OA {oa.oa_id[-4:]}"


async def test_a_manager_sees_links_but_cannot_link_and_a_user_gets_403(company: Company, oa: Oa) -> None:
    manager, user = await company.add("manager"), await company.add("user")
    body = {"app_id": "1", "app_secret": "s"}
    start = f"{company.url}/api/oa-links/oauth/start"
    assert (await company.http.get(f"{company.url}/api/oa-links", headers=manager.auth)).status_code == 200
    assert (await company.http.post(start, headers=manager.auth, json=body)).status_code == 403
    relink = f"{company.url}/api/oa-links/{oa.link_id}/oauth/start"
    assert (await company.http.post(relink, headers=manager.auth, json={})).status_code == 403
    assert (await company.http.get(f"{company.url}/api/oa-links", headers=user.auth)).status_code == 403
    assert (await company.http.post(start, headers=user.auth, json=body)).status_code == 403


async def test_a_fixed_console_registered_verifier_is_sent_every_time(
    workdir: Path, mongo_uri: str, http, fake_zalo: FakeZalo
) -> None:
    """HUB_ZALO_OAUTH_CODE_VERIFIER (reference section 7, UNCERTAIN): the console's one pair instead of a fresh one."""
    fixed = "Zb3" * 14 + "x"  # 43 letters and digits
    settings = {"zalo_openapi_url": fake_zalo.url, "zalo_oauth_url": fake_zalo.url, "zalo_oauth_code_verifier": fixed}
    with hub_of_its_own(workdir, mongo_uri, "hub_oa_fixed_pkce", **settings) as hub:
        async with runtime_of(mongo_uri, "hub_oa_fixed_pkce") as rt:
            company = await make_company(rt, hub.url, http)
        account = _new_app(fake_zalo)
        first, second = await _start(company, account), await _start(company, account)
        assert _query(first)["code_challenge"] == _query(second)["code_challenge"] == code_challenge(fixed)
        assert _query(first)["state"] != _query(second)["state"]
        assert _outcome(await _through_zalo(second))["oa_link"] == "linked"
        assert fake_zalo.exchanges[-1]["code_verifier"] == fixed
