"""OA links: owner-only management, secrets never leave the hub, disconnect and relink; storage outages."""

from __future__ import annotations

import json
from pathlib import Path

from hub import embedded
from hub.clock import SystemClock
from hub.runtime import Runtime
from hub.settings import Settings
from tests.conftest import Company, hub_of_its_own, make_company, runtime_of, start_hub
from tests.servers import TEST_JWT_SECRET
from tests.zalo_payloads import Oa, zalo_id

SECRET_FIELDS = ("oa_secret_key", "app_secret", "access_token", "refresh_token")


async def test_links_are_listed_without_secrets_and_managed_by_the_owner_only(
    company: Company, oa: Oa, fake_zalo
) -> None:
    manager = await company.add("manager")
    user = await company.add("user")
    listed = await company.http.get(f"{company.url}/api/oa-links", headers=manager.auth)
    assert listed.status_code == 200
    text = json.dumps(listed.json())
    assert all(field not in text for field in SECRET_FIELDS) and oa.oa_secret_key not in text
    assert listed.json()["oa_links"][0]["oa_id"] == oa.oa_id
    assert (await company.http.get(f"{company.url}/api/oa-links", headers=user.auth)).status_code == 403

    other = Oa.new()
    access, refresh = fake_zalo.register_oa(other.app_id, other.app_secret)
    body = {
        "name": "Second",
        "app_id": other.app_id,
        "oa_id": other.oa_id,
        "oa_secret_key": other.oa_secret_key,
        "app_secret": other.app_secret,
        "access_token": access,
        "refresh_token": refresh,
    }
    assert (await company.http.post(f"{company.url}/api/oa-links", headers=manager.auth, json=body)).status_code == 403
    duplicate = {**body, "oa_id": oa.oa_id}
    response = await company.http.post(f"{company.url}/api/oa-links", headers=company.owner.auth, json=duplicate)
    assert response.status_code == 409


async def test_disconnected_oa_keeps_webhooks_raw_and_relink_resumes(
    company: Company, oa: Oa, runtime, fake_zalo
) -> None:
    base = f"{company.url}/api/oa-links/{oa.link_id}"
    response = await company.http.delete(base, headers=company.owner.auth)
    assert response.status_code == 200 and response.json()["status"] == "disconnected"
    user = zalo_id()
    answer = await oa.deliver(company.http, company.url, oa.user_message(user))
    assert answer.status_code == 200 and answer.json()["outcome"] == "link_disconnected"
    assert await runtime.store.messages.count_documents({"link_id": oa.link_id}) == 0
    assert await runtime.store.zalo_events.count_documents({"link_id": oa.link_id}) == 1

    access, refresh = fake_zalo.register_oa(oa.app_id, oa.app_secret)
    response = await company.http.post(
        f"{base}/relink", headers=company.owner.auth, json={"access_token": access, "refresh_token": refresh}
    )
    assert response.status_code == 200 and response.json()["status"] == "active"
    answer = await oa.deliver(company.http, company.url, oa.user_message(user, text="lần nữa"))
    assert answer.json()["outcome"] == "accepted"
    assert await runtime.store.messages.count_documents({"link_id": oa.link_id}) == 1


async def test_webhook_is_answered_503_and_nothing_acknowledged_while_storage_is_down(
    tmp_path: Path, http, fake_zalo
) -> None:
    server = embedded.start(tmp_path / "mongo")
    hub = start_hub(
        tmp_path,
        "hub-outage",
        mongodb_uri=server.uri,
        mongodb_db="outage",
        mongodb_timeout_ms="800",
        zalo_openapi_url=fake_zalo.url,
        zalo_oauth_url=fake_zalo.url,
    )
    try:
        runtime = await Runtime.open(
            Settings(mongodb_uri=server.uri, mongodb_db="outage", jwt_secret=TEST_JWT_SECRET), SystemClock()
        )
        company = await make_company(runtime, hub.url, http)
        await runtime.close()
        account = Oa.new()
        access, refresh = fake_zalo.register_oa(account.app_id, account.app_secret)
        response = await http.post(
            f"{hub.url}/api/oa-links",
            headers=company.owner.auth,
            json={
                "name": "OA",
                "app_id": account.app_id,
                "oa_id": account.oa_id,
                "oa_secret_key": account.oa_secret_key,
                "app_secret": account.app_secret,
                "access_token": access,
                "refresh_token": refresh,
            },
        )
        assert response.status_code == 201
        assert (await account.deliver(http, hub.url, account.user_message(zalo_id()))).status_code == 200

        server.stop()
        response = await account.deliver(http, hub.url, account.user_message(zalo_id()))
        assert response.status_code == 503
        assert response.json()["error"]["code"] == "storage_unavailable"
        assert (await http.get(f"{hub.url}/readyz")).status_code == 503
    finally:
        hub.stop()
        server.stop()


async def test_a_link_whose_event_was_not_published_reaches_the_consoles_through_the_scheduler(
    workdir: Path, mongo_uri: str, http, fake_zalo
) -> None:
    """Pasted tokens are not journaled (the journal never keeps secrets): the link carries the event it still
    owes, and the scheduler publishes it when the process stopped short of it."""
    failpoints = workdir / "oa-failpoints.json"
    failpoints.write_text("{}")
    settings = {
        "failpoints_file": str(failpoints),
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "scheduler_interval_s": "0.2",
        "inbox_redo_after_s": "1",
        "hole_timeout_s": "2",
    }
    with hub_of_its_own(workdir, mongo_uri, "hub_oa_faults", **settings) as hub:
        async with runtime_of(mongo_uri, "hub_oa_faults") as rt:
            company = await make_company(rt, hub.url, http)
        console = await company.console(company.owner).connect()
        account = Oa.new()
        access, refresh = fake_zalo.register_oa(account.app_id, account.app_secret, account.oa_id)
        failpoints.write_text(json.dumps({"oa_links.written": 1}))
        response = await http.post(
            f"{hub.url}/api/oa-links",
            headers=company.owner.auth,
            json={
                "name": "OA",
                "app_id": account.app_id,
                "oa_id": account.oa_id,
                "oa_secret_key": account.oa_secret_key,
                "app_secret": account.app_secret,
                "access_token": access,
                "refresh_token": refresh,
            },
        )
        assert response.status_code == 503
        await console.wait_for(lambda: bool(console.of_type("oa_link.created")), 20)
        [event] = console.of_type("oa_link.created")
        assert event["data"]["oa_id"] == account.oa_id and event["data"]["info"]["name"]
        listed = await http.get(f"{hub.url}/api/oa-links", headers=company.owner.auth)
        assert listed.json()["oa_links"] == [event["data"]]
        await console.disconnect()
