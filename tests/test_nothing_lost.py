"""Nothing lost under faults: a webhook whose first attempt fails between two writes is finished by the
sender's retry, or by the sweeper when nobody retries, and every console gets every event exactly once.

A hub process of its own with failpoints armed through a file (hub.faults): each raises at a named
point between two writes of the apply path, as a MongoDB or Redis connection cut there would.
"""
from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest
import pytest_asyncio

from hub.runtime import Runtime
from tests.conftest import Company, _runtime, link_oa, make_company, start_hub
from tests.consoles import TestConsole
from tests.fake_zalo import FakeZalo
from tests.pbx_payloads import Pbx, canonical
from tests.servers import HubProcess
from tests.zalo_payloads import Oa, zalo_id

# Every point between two writes of a chat webhook's apply path, in the order they are passed.
CHAT_POINTS = ["chat.message_stored", "publish.before_seq", "chat.thread_updated", "publish.seq_reserved",
               "publish.stored", "chat.published", "inbox.applied"]
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
    process = start_hub(workdir, "hub_faults", mongodb_uri=mongo_uri, mongodb_db="hub_faults",
                        failpoints_file=str(failpoints.path), zalo_openapi_url=fake_zalo.url,
                        zalo_oauth_url=fake_zalo.url, zalo_business_url=fake_zalo.url, scheduler_interval_s="0.2",
                        inbox_redo_after_s="1", hole_timeout_s="2", call_finalize_grace_s="0.3")
    yield process, failpoints
    process.stop()


@pytest_asyncio.fixture(scope="module")
async def faulty_runtime(mongo_uri: str, faulty) -> AsyncIterator[Runtime]:
    rt = await _runtime(mongo_uri, "hub_faults")
    yield rt
    await rt.close()


@pytest.fixture
def failpoints(faulty) -> Iterator[Failpoints]:
    yield faulty[1]
    faulty[1].clear()


@pytest_asyncio.fixture
async def shop(faulty, faulty_runtime: Runtime, http: httpx.AsyncClient,
               fake_zalo: FakeZalo) -> AsyncIterator[tuple[Company, Oa, TestConsole]]:
    company = await make_company(faulty_runtime, faulty[0].url, http)
    oa = await link_oa(company, fake_zalo)
    console = await company.console(company.owner).connect()
    yield company, oa, console
    await console.disconnect()


def _created(console: TestConsole, text: str) -> list[dict[str, Any]]:
    return [e for e in console.of_type("message.created") if e["data"]["text"] == text]


async def _thread(company: Company, user_id: str) -> dict[str, Any]:
    response = await company.http.get(f"{company.url}/api/threads", headers=company.owner.auth)
    return next(t for t in response.json()["threads"] if t["user_id"] == user_id)


async def _assert_delivered_once(company: Company, oa: Oa, console: TestConsole, user_id: str,
                                 texts: list[str]) -> None:
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
    user_id = zalo_id()
    first = oa.user_message(user_id, text="trước " + point)
    assert (await oa.deliver(company.http, company.url, first)).status_code == 200
    # The thread's Zalo profile is fetched in the background after its first message: let it land
    # before arming, so only the webhook under test passes the failpoint.
    await console.wait_for(lambda: any(e["data"]["customer"].get("name") for e in console.of_type("thread.updated")
                                       if e["data"]["user_id"] == user_id), WAIT_S)
    failpoints.arm(point)
    payload = oa.user_message(user_id, text="giữa " + point)
    response = await oa.deliver(company.http, company.url, payload)
    assert response.status_code == 503, response.text
    assert failpoints.spent()
    retry = await oa.deliver(company.http, company.url, payload)  # Zalo retries the same body
    assert retry.status_code == 200 and retry.json()["outcome"] == "completed", retry.text
    again = await oa.deliver(company.http, company.url, payload)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    await _assert_delivered_once(company, oa, console, user_id, [first["message"]["text"], payload["message"]["text"]])


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
    response = await company.http.post(f"{company.url}/webhooks/zalo", content=raw,
                                       headers={**headers, "X-Request-Id": "req-500-test"})
    assert response.status_code == 500
    assert response.headers["x-request-id"] == "req-500-test"
    assert response.json()["error"]["request_id"] == "req-500-test"
    logged = [json.loads(line) for line in faulty[0].log.read_text().splitlines() if "req-500-test" in line]
    assert any(entry.get("message") == "unhandled error" and entry.get("request_id") == "req-500-test"
               for entry in logged)
    # and what the failed attempt stored is finished by the retry
    assert (await oa.deliver(company.http, company.url, payload)).status_code == 200
    await console.wait_for(lambda: len(_created(console, "lỗi bất ngờ")) == 1, WAIT_S)
