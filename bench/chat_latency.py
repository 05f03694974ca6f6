"""Webhook-to-console latency of Zalo messages through a real hub process.

    python -m bench.chat_latency [--messages 300] [--rate 50] [--redis]

Starts an embedded MongoDB-compatible server and one hub (optionally with Redis fan-out), links an
OA, connects the owner's console, posts signed user_send_text webhooks at a fixed rate, and
prints JSON: the webhook answer time and the time until the console received message.created
(p50, p95, p99, max, in milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from hub import embedded
from hub.clock import SystemClock
from hub.runtime import Runtime
from hub.settings import Settings
from tests.consoles import TestConsole
from tests.servers import TEST_JWT_SECRET, HubProcess, RedisServer, free_port, hub_env
from tests.zalo_payloads import Oa, zalo_id


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {
        "p50": round(pick(0.50), 2),
        "p95": round(pick(0.95), 2),
        "p99": round(pick(0.99), 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


async def run(workdir: Path, messages: int, rate: float, use_redis: bool) -> dict:
    mongo = embedded.start(workdir / "mongo")
    redis = RedisServer.start(workdir) if use_redis else None
    settings = {
        "mongodb_uri": mongo.uri,
        "mongodb_db": "bench",
        "zalo_openapi_url": "http://127.0.0.1:9",
        "log_level": "WARNING",
    }
    if redis:
        settings["redis_url"] = redis.url
    hub = HubProcess(port=free_port(), env=hub_env(**settings), log=workdir / "hub.log", cwd=workdir).start()
    try:
        runtime = await Runtime.open(
            Settings(mongodb_uri=mongo.uri, mongodb_db="bench", jwt_secret=TEST_JWT_SECRET), SystemClock()
        )
        _, owner, password = await runtime.directory.bootstrap("bench", "Bench", "0900000000", "Owner", "bench-pass")
        await runtime.close()
        async with httpx.AsyncClient(timeout=30) as http:
            token = (
                await http.post(f"{hub.url}/api/auth/login", json={"phone": "0900000000", "password": "bench-pass"})
            ).json()["token"]
            oa = Oa.new()
            await http.post(
                f"{hub.url}/api/oa-links",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "name": "Bench OA",
                    "app_id": oa.app_id,
                    "oa_id": oa.oa_id,
                    "oa_secret_key": oa.oa_secret_key,
                    "app_secret": oa.app_secret,
                    "access_token": "x",
                    "refresh_token": "y",
                },
            )
            console = await TestConsole(hub.url, token).connect()
            received: dict[str, float] = {}
            console.client.on(
                "message.created", lambda env: received.setdefault(env["data"]["text"], time.perf_counter())
            )
            users = [zalo_id() for _ in range(20)]
            sent_at: dict[str, float] = {}
            answers: list[float] = []

            async def post(i: int) -> None:
                raw, headers = oa.encode(oa.user_message(users[i % len(users)], text=f"m{i}"))
                start = time.perf_counter()
                sent_at[f"m{i}"] = start
                response = await http.post(f"{hub.url}/webhooks/zalo", content=raw, headers=headers)
                answers.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200, response.text

            pending = []
            interval = 1.0 / rate
            begin = time.perf_counter()
            for i in range(messages):
                await asyncio.sleep(max(0.0, begin + i * interval - time.perf_counter()))
                pending.append(asyncio.create_task(post(i)))
            await asyncio.gather(*pending)
            deadline = time.perf_counter() + 30
            while len(received) < messages and time.perf_counter() < deadline:
                await asyncio.sleep(0.05)
            await console.disconnect()
        latencies = [(received[k] - sent_at[k]) * 1000 for k in sent_at if k in received]
        return {
            "messages": messages,
            "rate_per_s": rate,
            "fanout": "redis" if redis else "memory",
            "delivered": len(latencies),
            "webhook_answer_ms": percentiles(answers),
            "webhook_to_console_ms": percentiles(latencies),
        }
    finally:
        hub.stop()
        if redis:
            redis.stop()
        mongo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--redis", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(asyncio.run(run(Path(tmp), args.messages, args.rate, args.redis)), indent=2))


if __name__ == "__main__":
    main()
