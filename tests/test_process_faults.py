"""Real process faults during a stream of webhooks: nothing lost, nothing twice, nothing out of order.

Two hub processes on a real redis-server and the embedded server (each its own process). Signed Zalo
messages arrive at 10/s, alternating between the hubs, each retried as Zalo does until answered 200
(on the other hub, as a load balancer would). Meanwhile one hub is killed with SIGKILL and restarted,
Redis is restarted, and MongoDB is stopped for 5 s. An owner's console on each hub reconnects with
`last_seq` whenever it is cut. Counted per console: messages accepted, lost, duplicated, out of order.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub import embedded
from tests.conftest import _runtime, link_oa, make_company, start_hub
from tests.consoles import TestConsole
from tests.fake_zalo import FakeZalo
from tests.servers import RedisServer
from tests.zalo_payloads import Oa, zalo_id

MESSAGES = 300  # 30 s at 10/s
RATE_PER_S = 10
USERS = 6
RETRY_AFTER_S = 0.5  # Zalo retries a webhook that was not answered 200


@dataclass
class Tally:
    accepted: int = 0
    attempts: int = 0
    refused: dict[str, int] = field(default_factory=dict)


async def _send(
    http: httpx.AsyncClient, hubs: list[str], first: int, oa: Oa, payload: dict[str, Any], tally: Tally
) -> None:
    raw, headers = oa.encode(payload)
    attempt = first
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        tally.attempts += 1
        try:
            response = await http.post(f"{hubs[attempt % 2]}/webhooks/zalo", content=raw, headers=headers, timeout=10)
            if response.status_code == 200:
                tally.accepted += 1
                return
            reason = str(response.status_code)
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
        tally.refused[reason] = tally.refused.get(reason, 0) + 1
        attempt += 1
        await asyncio.sleep(RETRY_AFTER_S)
    raise AssertionError(f"a webhook was never accepted: {payload['message']['text']}")


async def _keep_connected(console: TestConsole, stop: asyncio.Event) -> None:
    """A console as the web console behaves: reconnect with the highest seq seen whenever cut."""
    while not stop.is_set():
        if not console.client.connected:
            try:
                await console.connect(last_seq=console.last_seq, wait_sync=False)
            except Exception:
                await asyncio.sleep(0.3)  # the hub is down or starting: try again
                continue
        await asyncio.sleep(0.1)


def _count(console: TestConsole, texts: list[str]) -> dict[str, int]:
    received: dict[str, int] = {}
    for envelope in console.of_type("message.created"):
        received[envelope["data"]["text"]] = received.get(envelope["data"]["text"], 0) + 1
    top, out_of_order = 0, 0
    for seq in console.seqs():
        if seq <= top:
            out_of_order += 1
        top = max(top, seq)
    return {
        "accepted": len(texts),
        "received": sum(1 for t in texts if received.get(t)),
        "lost": sum(1 for t in texts if not received.get(t)),
        "duplicated": sum(n - 1 for t, n in received.items() if t in texts and n > 1),
        "out_of_order": out_of_order,
        "reconnects": console.disconnects,
    }


@pytest.mark.timeout(300)
async def test_kills_and_restarts_lose_nothing_and_repeat_nothing(tmp_path: Path, fake_zalo: FakeZalo) -> None:
    mongo_dir = tmp_path / "mongo"
    mongo = embedded.start(mongo_dir, timeout_s=60)
    mongo_port = int(mongo.uri.split(":")[2].split("/")[0])
    redis = RedisServer.start(tmp_path)
    redis_port = int(redis.url.rsplit(":", 1)[1].split("/")[0])
    settings = {
        "mongodb_uri": mongo.uri,
        "mongodb_db": "faults",
        "redis_url": redis.url,
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "zalo_business_url": fake_zalo.url,
        "scheduler_interval_s": "0.5",
        "inbox_redo_after_s": "3",
        "catchup_interval_s": "2",
        "mongodb_timeout_ms": "2000",
    }
    hubs = [start_hub(tmp_path, "fault_a", **settings), start_hub(tmp_path, "fault_b", **settings)]
    stop = asyncio.Event()
    consoles: list[TestConsole] = []
    keepers: list[asyncio.Task] = []
    try:
        async with httpx.AsyncClient(timeout=20) as http:
            setup = await _runtime(mongo.uri, "faults", redis.url)
            company = await make_company(setup, hubs[0].url, http)
            await setup.close()
            oa = await link_oa(company, fake_zalo)
            consoles = [TestConsole(hub.url, company.owner.token) for hub in hubs]
            for console in consoles:
                await console.connect()
            keepers = [asyncio.create_task(_keep_connected(console, stop)) for console in consoles]

            async def faults() -> list[str]:
                done = []
                await asyncio.sleep(5)
                hubs[0].process.send_signal(signal.SIGKILL)
                hubs[0].process.wait()
                await asyncio.to_thread(hubs[0].start)
                done.append("hub A killed (SIGKILL) and restarted")
                await asyncio.sleep(3)
                redis.process.terminate()
                redis.process.wait()
                fresh = await asyncio.to_thread(RedisServer.start, tmp_path, redis_port)
                redis.process = fresh.process
                done.append("Redis restarted (its counters and subscriptions gone)")
                await asyncio.sleep(3)
                mongo.process.terminate()
                mongo.process.wait()
                await asyncio.sleep(5)
                restarted = await asyncio.to_thread(embedded.start, mongo_dir, 60, True, mongo_port)
                mongo.process = restarted.process
                done.append("MongoDB stopped for 5 s")
                return done

            tally = Tally()
            users = [zalo_id() for _ in range(USERS)]
            texts = [f"tin {i:04d}" for i in range(MESSAGES)]
            chaos = asyncio.create_task(faults())
            sends = []
            for i, text in enumerate(texts):
                payload = oa.user_message(users[i % USERS], text=text)
                sends.append(asyncio.create_task(_send(http, [h.url for h in hubs], i, oa, payload, tally)))
                await asyncio.sleep(1 / RATE_PER_S)
            await asyncio.gather(*sends)
            happened = await chaos
            assert tally.accepted == MESSAGES

            # Anything the faults held back arrives (retries, the sweeper, the catch-up); then a last
            # message that every console must see after whatever else is still on its way.
            for console in consoles:
                try:
                    await console.wait_for(lambda c=console: _count(c, texts)["lost"] == 0, 60)
                except TimeoutError:
                    pass  # counted and reported below
            marker = oa.user_message(users[0], text="cuối")
            assert (await oa.deliver(http, hubs[1].url, marker)).status_code == 200
            for console in consoles:
                await console.wait_for(
                    lambda c=console: any(e["data"]["text"] == "cuối" for e in c.of_type("message.created")), 30
                )
            counts = [_count(console, texts) for console in consoles]
            report = {
                "messages": MESSAGES,
                "rate_per_s": RATE_PER_S,
                "faults": happened,
                "webhook_attempts": tally.attempts,
                "refused_before_accepted": tally.refused,
                "consoles": {"on hub A": counts[0], "on hub B": counts[1]},
            }
            (tmp_path / "fault-report.json").write_text(json.dumps(report, indent=1))
            print(json.dumps(report))
            for console_counts in counts:
                assert console_counts["lost"] == 0 and console_counts["duplicated"] == 0
                assert console_counts["out_of_order"] == 0

            # Stored once each, and every thread counts its messages
            response = await http.get(f"{hubs[1].url}/api/threads", headers=company.owner.auth)
            threads = {t["user_id"]: t for t in response.json()["threads"]}
            for n, user in enumerate(users):
                expected = len(texts[n::USERS]) + (1 if user == users[0] else 0)
                assert threads[user]["unread"] == expected, (user, threads[user]["unread"], expected)
    finally:
        stop.set()
        for task in keepers:
            task.cancel()
        for console in consoles:
            if console.client.connected:
                await console.disconnect()
        for hub in hubs:
            hub.stop()
        redis.stop()
        mongo.stop()
