"""Write rates of the embedded MongoDB-compatible server over the real async driver, in both modes.

    python -m bench.embedded_rate [--ops 30000] [--round 1500] [--mode standalone|replica|both]

Inserts `ops` documents into one collection with a unique index, in rounds of `round`, printing
each round's insert_one/s (the rate the replica-set mode loses as its oplog grows), then runs
ops/4 find_one_and_update on a counter document of its own collection, and a few find_one_and_update
and update_one on one document of the big collection (both by _id).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from pymongo import ASCENDING, AsyncMongoClient, ReturnDocument

from hub import embedded

BIG_SAMPLE = 100


async def measure(uri: str, ops: int, round_size: int = 1500) -> dict[str, object]:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    coll = client["bench"]["rates"]
    await coll.drop()
    await coll.create_index([("i", ASCENDING)], unique=True)
    rounds = []
    started = time.perf_counter()
    for first in range(0, ops, round_size):
        start = time.perf_counter()
        for i in range(first, min(ops, first + round_size)):
            await coll.insert_one({"i": i, "payload": "x" * 200})
        rounds.append(round(min(round_size, ops - first) / (time.perf_counter() - start)))
    inserts = ops / (time.perf_counter() - started)
    # Read-modify-write: on a counter in a collection of its own (as the hub's singletons are), then on
    # one document of the big collection, by findAndModify and by update_one (both on _id).
    counters = client["bench"]["counters"]
    await counters.drop()
    await counters.insert_one({"_id": "counter", "n": 0})
    start = time.perf_counter()
    for _ in range(ops // 4):
        await counters.find_one_and_update({"_id": "counter"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER)
    updates = (ops // 4) / (time.perf_counter() - start)
    await coll.insert_one({"_id": "counter", "n": 0, "i": -1})
    big = {}
    for name, call in (
        ("find_one_and_update", lambda: coll.find_one_and_update({"_id": "counter"}, {"$inc": {"n": 1}})),
        ("update_one", lambda: coll.update_one({"_id": "counter"}, {"$inc": {"n": 1}})),
    ):
        start = time.perf_counter()
        for _ in range(BIG_SAMPLE):
            await call()
        big[name] = round(BIG_SAMPLE / (time.perf_counter() - start), 1)
    await client.close()
    return {
        "insert_one_per_s": round(inserts),
        "first_round_per_s": rounds[0],
        "last_round_per_s": rounds[-1],
        "rounds_per_s": rounds,
        "find_one_and_update_per_s": round(updates),
        f"on_one_of_{ops}_docs_per_s": big,
    }


def run(ops: int, round_size: int, standalone: bool) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(Path(tmp), standalone=standalone)
        try:
            return asyncio.run(measure(server.uri, ops, round_size))
        finally:
            server.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=30_000)
    parser.add_argument("--round", type=int, default=1_500)
    parser.add_argument("--mode", choices=("standalone", "replica", "both"), default="both")
    args = parser.parse_args()
    modes = ["standalone", "replica"] if args.mode == "both" else [args.mode]
    for mode in modes:
        result = run(args.ops, args.round, mode == "standalone")
        print(json.dumps({"mode": mode, "ops": args.ops, **result}), flush=True)


if __name__ == "__main__":
    main()
