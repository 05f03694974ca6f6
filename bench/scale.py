"""Scale: K hub processes sharing one Redis and one MongoDB, with thousands of consoles.

    python -m bench.run --scale [--hubs 2] [--consoles 10000] [--rate 100] [--seconds 20]

The hubs run as separate processes on ports of their own (as behind a load balancer); the consoles
are bare Engine.IO clients (bench/fleet.py) in several processes, each fleet on one hub, round robin.
Every console belongs to an agent (CONSOLES_PER_AGENT consoles each: tabs and devices), every
customer's thread is assigned to one agent, and the load generators post chat webhooks to the hubs
in turn, so a webhook reaches the agent's consoles wherever they are connected (the Redis bus).
Reports each hub's memory before and after the consoles connected, CPU per webhook, delivery p50/p99
over every console, and what Redis and the MongoDB server did (commands, CPU) per webhook. Written to
bench/results/scale.json.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import redis
from pymongo import UpdateOne

from bench.run import SECRET, Bench, FleetProcess, cpu_us, loadgen, rss_kb
from hub.clock import SystemClock
from hub.runtime import Runtime
from hub.settings import Settings
from tests.servers import HubProcess, free_port

CONSOLES_PER_AGENT = 5
FLEETS = 4  # console processes: a few thousand websocket clients each


def _redis_figures(url: str) -> dict[str, float]:
    with redis.Redis.from_url(url) as client:
        stats, cpu = client.info("stats"), client.info("cpu")
        return {
            "commands": float(stats["total_commands_processed"]),
            "cpu_us": (float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])) * 1e6,
        }


class Scale(Bench):
    async def run_scale(self, workdir: Path) -> dict[str, Any]:
        args = self.args
        self.start_servers(workdir)
        hubs = [self.hub]
        try:
            for n in range(1, args.hubs):
                hubs.append(
                    HubProcess(port=free_port(), env=self.hub.env, log=workdir / f"hub{n}.log", cwd=workdir).start()
                )
            agents = max(1, args.consoles // CONSOLES_PER_AGENT)
            await self.setup(agents=agents, users=0)
            users = [str(10**18 + i) for i in range(agents)]
            await self._threads(users, list(self.agent_tokens))
            self.log(f"{len(hubs)} hubs, {agents} agents with a thread each")

            memory_before = {h.url: rss_kb(h.process.pid) for h in hubs}
            fleets = [await FleetProcess().start() for _ in range(FLEETS)]
            auths = [{"token": token} for token in self.agent_tokens.values() for _ in range(CONSOLES_PER_AGENT)]
            began = time.monotonic()
            connected = await asyncio.gather(
                *[
                    fleet.ask(cmd="connect", url=hubs[i % len(hubs)].url, auths=auths[i::FLEETS])
                    for i, fleet in enumerate(fleets)
                ]
            )
            connect_s = time.monotonic() - began
            await asyncio.sleep(3)  # connection set-up garbage settles before memory is read
            memory_after = {h.url: rss_kb(h.process.pid) for h in hubs}
            total = sum(c["connected"] for c in connected)
            self.log(f"{total} consoles connected in {connect_s:.1f} s ({sum(c['failed'] for c in connected)} failed)")

            cpu0 = {h.url: cpu_us(h.process.pid) for h in hubs}
            storage0, redis0 = self.storage_counters(), _redis_figures(self.redis_url)
            phase = "scale"
            sent = await asyncio.gather(
                *[
                    loadgen(
                        {
                            "url": f"{h.url}/webhooks/zalo",
                            "kind": "zalo",
                            "phase": f"{phase}",
                            "rate": args.rate / len(hubs),
                            "seconds": args.seconds,
                            "sign": self.oa,
                            "users": users[i :: len(hubs)],
                        }
                    )
                    for i, h in enumerate(hubs)
                ]
            )
            ok = sum(s["ok"] for s in sent)
            expected = ok * 2 * CONSOLES_PER_AGENT  # message.created + thread.updated to each of the agent's consoles
            reports = await self._settle(fleets, phase, expected)
            cpu = {h.url: cpu_us(h.process.pid) - cpu0[h.url] for h in hubs}
            storage, redis1 = self.storage_counters(), _redis_figures(self.redis_url)
            latencies = sorted(v for r in reports for v in r["values"])

            def pick(q: float) -> float | None:
                return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else None

            per = max(1, ok)
            result = {
                "hubs": len(hubs),
                "consoles": {"connected": total, "failed": sum(c["failed"] for c in connected)},
                "connect_s": round(connect_s, 1),
                "rate": args.rate,
                "seconds": args.seconds,
                "webhooks": {"sent": sum(s["sent"] for s in sent), "ok": ok, "errors": [s["errors"] for s in sent]},
                "deliveries": {"expected": expected, "received": sum(r["deliveries"] for r in reports)},
                "delivery_ms": {"p50": pick(0.5), "p99": pick(0.99), "max": pick(1.0)},
                "per_hub": [
                    {
                        "rss_before_kb": memory_before[h.url],
                        "rss_after_kb": memory_after[h.url],
                        "kb_per_console": round(
                            (memory_after[h.url] - memory_before[h.url]) / max(1, total / len(hubs)), 1
                        ),
                        "cpu_us_per_webhook": round(cpu[h.url] / per, 1),
                    }
                    for h in hubs
                ],
                "redis_per_webhook": {
                    "commands": round((redis1["commands"] - redis0["commands"]) / per, 1),
                    "cpu_us": round((redis1["cpu_us"] - redis0["cpu_us"]) / per, 1),
                },
                "mongodb_per_webhook": {
                    "operations": round((storage["mongo_ops"] - storage0["mongo_ops"]) / per, 1),
                    "embedded_cpu_us": round((storage["embedded_cpu_us"] - storage0["embedded_cpu_us"]) / per, 1)
                    if self.mongo
                    else None,
                },
            }
            self.log(f"scale: {result}")
            for fleet in fleets:
                await fleet.stop()
            return result
        finally:
            for h in hubs[1:]:
                h.stop()
            self.stop_servers()

    async def _threads(self, users: list[str], agents: list[str]) -> None:
        """One thread per customer, each assigned to its agent, written directly (no events needed:
        the consoles connect afterwards and read nothing of them)."""
        runtime = await Runtime.open(
            Settings(mongodb_uri=self.mongo_uri, mongodb_db="bench", jwt_secret=SECRET, redis_url=self.redis_url),
            SystemClock(),
        )
        try:
            link = await runtime.store.oa_links.find_one({"_id": "benchlink"})
            assert link is not None
            updates = []
            for user, agent in zip(users, agents, strict=True):
                thread, _ = await runtime.threads.get_or_create(link, user, user)
                updates.append(UpdateOne({"_id": thread["_id"]}, {"$set": {"assignee_id": agent}}))
            for start in range(0, len(updates), 500):
                await runtime.store.threads.bulk_write(updates[start : start + 500])
        finally:
            await runtime.close()

    async def _settle(self, fleets: list[FleetProcess], phase: str, expected: int) -> list[dict[str, Any]]:
        last, last_change = -1, time.monotonic()
        while True:
            reports = [await fleet.ask(cmd="report", phase=phase, values=True) for fleet in fleets]
            received = sum(r["deliveries"] for r in reports)
            if received != last:
                last, last_change = received, time.monotonic()
            if received >= expected or time.monotonic() - last_change > 5:
                return reports
            await asyncio.sleep(0.5)
