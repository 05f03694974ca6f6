"""Write rates of the embedded MongoDB-compatible server over the real async driver.

    python -m bench.embedded_rate [--ops 2000]

Prints insert_one/s and find_one_and_update/s, the two operations on the hub's hot paths.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

from pymongo import AsyncMongoClient, ReturnDocument

from hub import embedded


async def measure(uri: str, ops: int) -> dict[str, float]:
    client: AsyncMongoClient = AsyncMongoClient(uri)
    coll = client["bench"]["rates"]
    await coll.drop()
    start = time.perf_counter()
    for i in range(ops):
        await coll.insert_one({"i": i, "payload": "x" * 200})
    inserts = ops / (time.perf_counter() - start)
    await coll.insert_one({"_id": "counter", "n": 0})
    start = time.perf_counter()
    for _ in range(ops // 4):
        await coll.find_one_and_update({"_id": "counter"}, {"$inc": {"n": 1}}, return_document=ReturnDocument.AFTER)
    updates = (ops // 4) / (time.perf_counter() - start)
    await client.close()
    return {"insert_one_per_s": round(inserts), "find_one_and_update_per_s": round(updates)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = embedded.start(Path(tmp))
        try:
            print(json.dumps(asyncio.run(measure(server.uri, args.ops))))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
