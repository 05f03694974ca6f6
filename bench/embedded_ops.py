"""What each MongoDB operation of a chat webhook costs the embedded server, in its own CPU.

    python -m bench.embedded_ops [--n 300]

Starts the embedded server, a Redis and a hub as `python -m bench.run` does, makes a company with an
OA and 20 customers' threads through the hub (so every collection has the hub's own indexes and
documents of the hub's own shape), then repeats each operation a chat webhook makes `n` times on
those collections and prints the server's CPU (utime + stime from /proc) and the wall time per
operation. The hub's writes are what they are; this says which of them the embedded server makes
dear (README, "The embedded server").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from bench.run import Bench, cpu_us, loadgen


async def main(n: int) -> dict[str, Any]:
    args = argparse.Namespace(
        quick=True, mongodb_uri=None, redis_url=None, hub_setting=[], profile=False, out=Path(tempfile.gettempdir())
    )
    bench = Bench(args)
    rows: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        bench.start_servers(Path(tmp))
        try:
            await bench.setup(agents=5, users=20)
            await loadgen(
                {
                    "url": f"{bench.hub.url}/webhooks/zalo",
                    "kind": "zalo",
                    "phase": "warm",
                    "rate": 40,
                    "seconds": 2,
                    "sign": bench.oa,
                    "users": bench.users,
                }
            )
            assert bench.mongo is not None
            db = AsyncMongoClient(bench.mongo_uri, tz_aware=True)["bench"]
            thread = await db.threads.find_one({})
            message = await db.messages.find_one({})
            entry = await db.zalo_events.find_one({})
            events = [doc async for doc in db.events.find({}).limit(2)]
            assert thread and message and entry and len(events) == 2
            pid = bench.mongo.process.pid

            async def measure(name: str, op: Callable[[int], Awaitable[Any]]) -> None:
                cpu0, wall0 = cpu_us(pid), time.perf_counter()
                for i in range(n):
                    await op(i)
                rows[name] = {
                    "server_cpu_us": round((cpu_us(pid) - cpu0) / n),
                    "wall_us": round((time.perf_counter() - wall0) * 1e6 / n),
                }
                print(f"{name:55s} {rows[name]}", flush=True)

            def copy(doc: dict[str, Any], **fields: Any) -> dict[str, Any]:
                return {**{k: v for k, v in doc.items() if k != "_id"}, **fields}

            await measure(
                "insert_one webhook entry (zalo_events)",
                lambda i: db.zalo_events.insert_one(copy(entry, _id=f"bench-{i}")),
            )
            await measure(
                "find_one thread by (link_id, key)",
                lambda i: db.threads.find_one({"link_id": thread["link_id"], "key": thread["key"]}),
            )
            await measure(
                "insert_one message",
                lambda i: db.messages.insert_one(copy(message, _id=f"bench-{i}", zalo_msg_id=f"bench-{i}")),
            )
            await measure(
                "update_one thread at its version, as a step",
                lambda i: db.threads.update_one(
                    {"_id": thread["_id"], "applied": {"$ne": f"bench|{i}"}},
                    {
                        "$inc": {"version": 1, "unread": 1},
                        "$set": {"last_message": {"id": f"m{i}"}},
                        "$push": {"applied": {"$each": [f"bench|{i}"], "$slice": -64}},
                    },
                ),
            )
            await measure("find_one thread by _id", lambda i: db.threads.find_one({"_id": thread["_id"]}))
            await measure(
                "insert_many 2 events",
                lambda i: db.events.insert_many(
                    [copy(e, seq=10**7 + 2 * i + k, key=f"bench|{i}|{k}") for k, e in enumerate(events)]
                ),
            )
            await measure(
                "update_one one entry applied",
                lambda i: db.zalo_events.update_one({"_id": f"bench-{i}"}, {"$set": {"applied_at": time.time()}}),
            )
            await measure(
                "update_many 5 entries applied",
                lambda i: db.zalo_events.update_many(
                    {"_id": {"$in": [f"bench-{(5 * i + k) % n}" for k in range(5)]}}, {"$set": {"applied_at": i}}
                ),
            )
            rows["indexes"] = {
                name: len([ix async for ix in await db[name].list_indexes()])
                for name in ("zalo_events", "threads", "messages", "events")
            }
        finally:
            bench.stop_servers()
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    print(json.dumps(asyncio.run(main(parser.parse_args().n)), indent=2))
