"""OA followers (issue 19 item 5): synced from Zalo's user list through the job runner (pages, details,
resumable after the hub process dies, rate limits waited out), kept current by webhooks, listed with the
product guide's filters, for owners and managers only."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients.zalo import ZaloClient, ZaloError
from hub.followers import ZALO_DAYS
from tests.conftest import Company, hub_of_its_own, link_oa, make_company, runtime_of
from tests.consoles import TestConsole
from tests.fake_zalo import FakeZalo
from tests.zalo_payloads import Oa, zalo_id


def _ms(days_ago: float) -> str:
    return str(int((time.time() - days_ago * 86400) * 1000))


def _day(days_ago: int) -> str:
    return (datetime.now(ZALO_DAYS) - timedelta(days=days_ago)).strftime("%d/%m/%Y")  # Zalo's days are Vietnam's


def zalo_users(count: int) -> dict[str, dict[str, Any]]:
    """`count` users as Zalo's detail describes them: every third shared a phone, every fourth unfollowed,
    every fifth is tagged VIP, interactions spread over the last 60 days."""
    users = {}
    for n in range(count):
        detail: dict[str, Any] = {
            "display_name": f"Khách {n:03d}",
            "avatar": f"https://s120-ava-talk.zadn.vn/{n}.jpg",
            "user_is_follower": n % 4 != 0,
            "user_last_interaction_date": _day(n % 60),
            "tags_and_notes_info": {"tag_names": ["VIP"] if n % 5 == 0 else [], "notes": []},
        }
        if n % 3 == 0:
            detail["shared_info"] = {
                "phone": f"8490{n:07d}",
                "name": f"Nguyễn {n}",
                "address": f"{n} Lê Lợi",
                "city": "Hồ Chí Minh",
                "district": "Quận 1",
            }
        users[zalo_id()] = detail
    return users


async def _get(company: Company, path: str, who: dict[str, str] | None = None, **params: Any) -> httpx.Response:
    return await company.http.get(f"{company.url}{path}", headers=who or company.owner.auth, params=params)


async def _followers(company: Company, **params: Any) -> list[dict[str, Any]]:
    response = await _get(company, "/api/followers", limit=200, **params)
    assert response.status_code == 200, response.text
    return response.json()["followers"]


async def _sync(company: Company, oa: Oa, **body: Any) -> dict[str, Any]:
    response = await company.http.post(
        f"{company.url}/api/oa-links/{oa.link_id}/followers/sync", headers=company.owner.auth, json=body
    )
    assert response.status_code == 202, response.text
    return response.json()


async def _finished(console: TestConsole, job_id: str, timeout: float = 120) -> dict[str, Any]:
    def ended() -> bool:
        return any(
            e["data"]["id"] == job_id and e["data"]["status"] in ("completed", "failed", "cancelled")
            for e in console.of_type("job.updated")
        )

    await console.wait_for(ended, timeout)
    return [e["data"] for e in console.of_type("job.updated") if e["data"]["id"] == job_id][-1]


# -- webhooks --------------------------------------------------------------------------------------


async def test_follow_unfollow_and_shared_info_update_a_follower_live(company: Company, oa: Oa) -> None:
    manager = await company.add("manager")
    agent = await company.add("user")
    owner_console = await company.console(company.owner).connect()
    manager_console = await company.console(manager).connect()
    agent_console = await company.console(agent).connect()
    user_id = zalo_id()

    def latest(console: TestConsole) -> dict[str, Any] | None:
        seen = [e["data"] for e in console.of_type("follower.updated") if e["data"]["user_id"] == user_id]
        return seen[-1] if seen else None

    assert (await oa.deliver(company.http, company.url, oa.follow(user_id))).status_code == 200
    await owner_console.wait_for(lambda: (latest(owner_console) or {}).get("is_follower") is True)
    await manager_console.wait_for(lambda: (latest(manager_console) or {}).get("is_follower") is True)
    followed = latest(owner_console)
    assert followed is not None and followed["last_interaction_at"] is not None  # a follow is an interaction

    await oa.deliver(company.http, company.url, oa.follow(user_id, follow=False))
    await owner_console.wait_for(lambda: (latest(owner_console) or {}).get("is_follower") is False)

    info = {"name": "Trần Văn Bình", "phone": "0912 345 678", "address": "12 Nguyễn Huệ", "city": "Hồ Chí Minh",
            "district": "Quận 1"}  # fmt: skip
    await oa.deliver(company.http, company.url, oa.submit_info(user_id, info))
    await owner_console.wait_for(lambda: ((latest(owner_console) or {}).get("shared") or {}).get("phone") is not None)
    shared = latest(owner_console)["shared"]  # type: ignore[index]
    assert shared["phone_e164"] == "+84912345678" and shared["address"] == "12 Nguyễn Huệ"
    assert shared["district"] == "Quận 1" and shared["city"] == "Hồ Chí Minh"

    # found by any form of the phone; the detail says Not interested, with the address
    for form in ("84912345678", "+84 912 345 678", "0912345678"):
        found = await _followers(company, q=form)
        assert [f["user_id"] for f in found] == [user_id], form
    detail = (await _get(company, f"/api/followers/{found[0]['id']}")).json()
    assert detail["is_follower"] is False and detail["shared"]["name"] == "Trần Văn Bình"

    # a plain user is told nothing of followers, and may not list them
    assert agent_console.of_type("follower.updated") == []
    refused = await _get(company, "/api/followers", who=agent.auth)
    assert refused.status_code == 403 and "owners and managers" in refused.json()["error"]["message"]
    assert (await _get(company, f"/api/followers/{found[0]['id']}", who=agent.auth)).status_code == 403
    assert (await _get(company, "/api/followers/stats", who=agent.auth)).status_code == 403
    sync = await company.http.post(
        f"{company.url}/api/oa-links/{oa.link_id}/followers/sync", headers=agent.auth, json={}
    )
    assert sync.status_code == 403


async def test_a_chat_moves_the_last_interaction_and_a_tag_webhook_tags(company: Company, oa: Oa) -> None:
    console = await company.console(company.owner).connect()
    user_id = zalo_id()
    message = oa.user_message(user_id, text="Còn hàng không shop?")
    message["timestamp"] = _ms(3)
    await oa.deliver(company.http, company.url, message)
    await console.wait_for(lambda: any(e["data"]["user_id"] == user_id for e in console.of_type("follower.updated")))
    [known] = await _followers(company, q=user_id)
    assert known["is_follower"] is None  # nothing said yet whether they follow
    assert datetime.fromisoformat(known["last_interaction_at"]) < datetime.now(UTC) - timedelta(days=2)
    assert [f["user_id"] for f in await _followers(company, interacted_days=7)] == [user_id]
    assert await _followers(company, interacted_days=2) == []

    # a receipt is no interaction; a newer message is
    await oa.deliver(company.http, company.url, oa.seen(user_id, ["x"]))
    await oa.deliver(company.http, company.url, oa.user_message(user_id, text="Alo"))
    await console.wait_for(
        lambda: any(
            e["data"]["user_id"] == user_id
            and datetime.fromisoformat(e["data"]["last_interaction_at"]) > datetime.now(UTC) - timedelta(minutes=5)
            for e in console.of_type("follower.updated")
        )
    )
    assert [f["user_id"] for f in await _followers(company, interacted_days=1)] == [user_id]

    await oa.deliver(company.http, company.url, oa.tag("add_user_to_tag", "Khách sỉ", [user_id]))
    await console.wait_for(lambda: any("Khách sỉ" in e["data"]["tags"] for e in console.of_type("follower.updated")))
    assert [f["user_id"] for f in await _followers(company, tag="Khách sỉ")] == [user_id]
    await oa.deliver(company.http, company.url, oa.tag("remove_tag", "Khách sỉ", []))
    await console.wait_for(lambda: console.of_type("follower.updated")[-1]["data"]["tags"] == [])
    assert await _followers(company, tag="Khách sỉ") == []


async def test_bad_filters_are_refused_with_what_to_send(company: Company, oa: Oa) -> None:
    for params, word in (
        ({"limit": 0}, "limit"),
        ({"interacted_days": -1}, "interacted_days"),
        ({"follower": "maybe"}, "follower"),
        ({"phone_known": "x"}, "phone_known"),
    ):
        response = await _get(company, "/api/followers", **params)
        assert response.status_code == 422 and word in response.json()["error"]["message"], params
    assert (await _get(company, "/api/followers", before="nobody")).status_code == 404
    assert (await _get(company, "/api/followers/nobody")).status_code == 404
    missing = await company.http.post(
        f"{company.url}/api/oa-links/nolink/followers/sync", headers=company.owner.auth, json={}
    )
    assert missing.status_code == 404
    gone = await company.http.delete(f"{company.url}/api/oa-links/{oa.link_id}", headers=company.owner.auth)
    assert gone.status_code == 200
    disconnected = await company.http.post(
        f"{company.url}/api/oa-links/{oa.link_id}/followers/sync", headers=company.owner.auth, json={}
    )
    assert disconnected.status_code == 409 and "relink" in disconnected.json()["error"]["message"]
    malformed = await company.http.post(
        f"{company.url}/api/oa-links/{oa.link_id}/followers/sync",
        headers=company.owner.auth,
        json={"full": "yes please"},
    )
    assert malformed.status_code == 422


# -- the sync from Zalo -----------------------------------------------------------------------------


async def test_a_sync_walks_every_page_with_details_then_an_incremental_one_asks_since_the_last(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    users = zalo_users(230)
    fake_zalo.arrange_users(oa.oa_id, users)
    console = await company.console(company.owner).connect()
    details_before = len(fake_zalo.profile_requests)

    job = await _sync(company, oa)
    assert job["kind"] == "followers.sync" and job["params"]["link_id"] == oa.link_id
    again = await _sync(company, oa)  # one sync per OA at a time: the running one is answered
    assert again["id"] == job["id"]
    ended = await _finished(console, job["id"])
    assert ended["status"] == "completed", ended
    assert ended["total"] == 230 and ended["done"] == 230
    progress = [e["data"]["done"] for e in console.of_type("job.updated") if e["data"]["id"] == job["id"]]
    assert progress == sorted(progress) and len(set(progress)) >= 2  # it moved, live

    assert fake_zalo.list_offsets(oa.oa_id) == [0, 50, 100, 150, 200]
    assert all(q["count"] == 50 and "last_interaction_period" not in q for q in fake_zalo.list_requests)
    assert sorted(u for u in fake_zalo.profile_requests[details_before:] if u in users) == sorted(
        users
    )  # each user's detail, once

    stored = await _followers(company, oa_id=oa.oa_id)
    assert len(stored) == 200  # one page of 200
    rest = await _get(company, "/api/followers", limit=200, before=stored[-1]["id"])
    assert len(rest.json()["followers"]) == 30 and rest.json()["next_before"] is None
    everyone = {f["user_id"]: f for f in stored + rest.json()["followers"]}
    assert set(everyone) == set(users)
    some, detail = next((u, d) for u, d in users.items() if "shared_info" in d)
    assert everyone[some]["display_name"] == detail["display_name"]
    assert everyone[some]["avatar"] == detail["avatar"]
    assert everyone[some]["shared"]["phone_e164"] == "+" + detail["shared_info"]["phone"]
    assert everyone[some]["shared"]["district"] == "Quận 1"

    # the guide's filters
    followers = await _followers(company, follower="true")
    assert len(followers) == sum(1 for d in users.values() if d["user_is_follower"])
    assert len(await _followers(company, follower="false")) == 230 - len(followers)
    assert len(await _followers(company, tag="VIP")) == 46
    assert len(await _followers(company, phone_known="1")) == 77
    recent = await _followers(company, interacted_days=30)
    assert {f["user_id"] for f in recent} == {u for u, d in users.items() if _days_ago(d) <= 29}
    named = await _followers(company, q="Khách 007")
    assert [f["display_name"] for f in named] == ["Khách 007"]

    stats = (await _get(company, "/api/followers/stats", oa_id=oa.oa_id)).json()
    assert stats["known"] == 230 and stats["followers"] == len(followers) and stats["phone_known"] == 77
    assert stats["interacted_30d"] == len(recent)
    [counts] = stats["oas"]
    assert counts["zalo_total"] == 230 and counts["last_sync_at"] is not None

    # the next sync asks only for who interacted since the day before the last one completed
    fake_zalo.list_requests.clear()
    second = await _sync(company, oa)
    assert second["id"] != job["id"]
    assert (await _finished(console, second["id"]))["status"] == "completed"
    today = datetime.now(UTC).astimezone(ZALO_DAYS).date()
    period = f"{today - timedelta(days=1):%Y_%m_%d}:{today:%Y_%m_%d}"
    assert [q.get("last_interaction_period") for q in fake_zalo.list_requests] == [period]


async def test_rate_limit_answers_show_on_the_job_and_the_sync_still_finishes(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    fake_zalo.arrange_users(oa.oa_id, zalo_users(60))
    console = await company.console(company.owner).connect()
    fake_zalo.rate_limited_answers = 0
    fake_zalo.rate_limited_calls = 2
    job = await _sync(company, oa)
    ended = await _finished(console, job["id"])
    assert ended["status"] == "completed" and ended["done"] == 60, ended
    assert fake_zalo.rate_limited_answers == 2
    notices = [e["data"]["notice"] for e in console.of_type("job.updated") if e["data"]["id"] == job["id"]]
    assert any(n and n.startswith("zalo_error -32") and "rate limit" in n for n in notices), notices
    assert len(await _followers(company, oa_id=oa.oa_id)) == 60


async def test_a_token_zalo_refuses_stops_the_sync_asking_to_relink(
    company: Company, oa: Oa, fake_zalo: FakeZalo
) -> None:
    fake_zalo.arrange_users(oa.oa_id, zalo_users(5))
    console = await company.console(company.owner).connect()
    fake_zalo.expire_access_tokens(oa.app_id)
    for token in [t for t, app in fake_zalo.refresh_tokens.items() if app == oa.app_id]:
        del fake_zalo.refresh_tokens[token]  # the refresh token lapsed too
    job = await _sync(company, oa)
    ended = await _finished(console, job["id"])
    assert ended["status"] == "failed" and "relink the OA" in ended["error"], ended


async def test_a_sync_interrupted_half_way_resumes_where_it_stopped(
    workdir: Path, mongo_uri: str, fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    settings = {
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "zalo_business_url": fake_zalo.url,
        "job_lease_s": "3",
        "followers_retry_base_s": "0.05",
    }
    with hub_of_its_own(workdir, mongo_uri, "followers_resume", **settings) as hub:
        async with runtime_of(mongo_uri, "followers_resume") as rt:
            company = await make_company(rt, hub.url, http)
        oa = await link_oa(company, fake_zalo)
        users = zalo_users(230)
        fake_zalo.arrange_users(oa.oa_id, users)
        details_before = len(fake_zalo.profile_requests)
        fake_zalo.list_gate.clear()
        fake_zalo.list_held.clear()
        fake_zalo.hold_list_at = 100  # the third page's call waits...
        job = await _sync(company, oa)
        await fake_zalo.list_held.wait()
        assert hub.process is not None
        hub.process.kill()  # ...while the hub process dies
        hub.process.wait()
        fake_zalo.hold_list_at = None
        fake_zalo.list_gate.set()

        hub.start()  # the same data; the job's lease lapses and the new process takes it over
        console = await company.console(company.owner).connect()
        ended = await _finished(console, job["id"])
        assert ended["status"] == "completed" and ended["done"] == 230, ended

        # pages after the checkpoint only: 0 and 50 were not walked again
        assert fake_zalo.list_offsets(oa.oa_id) == [0, 50, 100, 100, 150, 200]
        assert sorted(u for u in fake_zalo.profile_requests[details_before:] if u in users) == sorted(
            users
        )  # every user once
        stored = await _followers(company, oa_id=oa.oa_id)
        stored += (await _get(company, "/api/followers", limit=200, before=stored[-1]["id"])).json()["followers"]
        assert sorted(f["user_id"] for f in stored) == sorted(users)
        await console.disconnect()


async def test_an_oa_larger_than_one_listing_is_walked_in_slices_of_days(
    workdir: Path, mongo_uri: str, fake_zalo: FakeZalo, http: httpx.AsyncClient
) -> None:
    """Zalo lists 10,000 users per filter; here (both sides lowered) 150, for an OA of 400."""
    settings = {
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "zalo_business_url": fake_zalo.url,
        "zalo_user_list_max_offset": "100",
    }
    fake_zalo.max_offset = 100
    try:
        with hub_of_its_own(workdir, mongo_uri, "followers_slices", **settings) as hub:
            async with runtime_of(mongo_uri, "followers_slices") as rt:
                company = await make_company(rt, hub.url, http)
            oa = await link_oa(company, fake_zalo)
            users = zalo_users(400)  # about 7 a day over 60 days: 30 days list about 200, 15 days about 100
            fake_zalo.arrange_users(oa.oa_id, users)
            details_before = len(fake_zalo.profile_requests)
            console = await company.console(company.owner).connect()
            job = await _sync(company, oa)
            ended = await _finished(console, job["id"])
            assert ended["status"] == "completed" and ended["done"] == 400 and ended["total"] == 400, ended

            asked = [q for q in fake_zalo.list_requests if q["oa_id"] == oa.oa_id]
            assert max(q["offset"] for q in asked) <= 100
            periods = [q.get("last_interaction_period") for q in asked if q["offset"] == 0]
            assert periods[0] is None  # everyone first: 400, more than one listing gives
            spans = {_span(p) for p in periods[1:]}
            assert spans == {15, 30}  # 30 days still too many: halved
            assert sorted(u for u in fake_zalo.profile_requests[details_before:] if u in users) == sorted(users)
            stats = (await _get(company, "/api/followers/stats")).json()
            assert stats["known"] == 400 and stats["oas"][0]["zalo_total"] == 400
            await console.disconnect()
    finally:
        fake_zalo.max_offset = 9951


def _span(period: str) -> int:
    start, end = (datetime.strptime(day, "%Y_%m_%d") for day in period.split(":"))
    return (end - start).days + 1


def _days_ago(detail: dict[str, Any]) -> int:
    day = datetime.strptime(detail["user_last_interaction_date"], "%d/%m/%Y").date()
    return (datetime.now(UTC).astimezone(ZALO_DAYS).date() - day).days


async def test_the_zalo_client_lists_users_and_tags_them_as_documented(fake_zalo: FakeZalo) -> None:
    """clients/zalo.py against the fake: getlist's `data=` JSON and its limits, the OA's tags, tag and untag."""
    account = Oa.new()
    access, _refresh = fake_zalo.register_oa(account.app_id, account.app_secret, account.oa_id)
    users = zalo_users(7)
    fake_zalo.arrange_users(account.oa_id, users)
    async with httpx.AsyncClient(timeout=10) as client:
        zalo = ZaloClient(client, fake_zalo.url, fake_zalo.url, fake_zalo.url)
        page = await zalo.user_list(access, 5, 50)
        assert page["total"] == 7 and [u["user_id"] for u in page["users"]] == list(users)[5:]
        following = await zalo.user_list(access, 0, 50, is_follower=True)
        assert following["total"] == sum(1 for d in users.values() if d["user_is_follower"])
        assert fake_zalo.list_requests[-1]["is_follower"] is True
        with pytest.raises(ZaloError) as refused:
            await zalo.user_list(access, 0, 51)  # more than 50 a page
        assert refused.value.code == -201
        with pytest.raises(ZaloError) as too_far:
            await zalo.user_list(access, 9952, 50)
        assert too_far.value.code == -201

        assert await zalo.oa_tags(access) == ["VIP"]
        someone = list(users)[1]
        await zalo.tag_user(access, someone, "Khách sỉ")
        assert sorted(await zalo.oa_tags(access)) == ["Khách sỉ", "VIP"]
        assert [u["user_id"] for u in (await zalo.user_list(access, 0, 50, tag_name="Khách sỉ"))["users"]] == [someone]
        await zalo.untag_user(access, someone, "Khách sỉ")
        assert await zalo.oa_tags(access) == ["VIP"]
        with pytest.raises(ZaloError) as bad_token:
            await zalo.oa_tags("at-forged")
        assert bad_token.value.is_token_error
