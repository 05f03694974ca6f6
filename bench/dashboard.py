"""The dashboard's answer time on the embedded server, over a month of seeded calls and messages.

    python -m bench.dashboard [--calls 100000] [--messages 100000] [--repeat 5]

Starts the embedded MongoDB-compatible server (standalone, as the hub does) in a temporary directory,
creates the hub's indexes, seeds one company with `calls` calls and `messages` messages (in threads of
ten) spread over 30 days, plus a tenth as much of another company (which the company's $match must
skip), with insert_many in batches; then times hub.dashboard's figures for the month, a week and a day,
and, for comparison, merely reading the month's calls into Python as /api/stats/calls used to.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub import embedded
from hub.clock import SystemClock
from hub.dashboard import Dashboard
from hub.realtime.publish import EventLog
from hub.store import Store, connect

TIMEZONE = "Asia/Ho_Chi_Minh"
START = datetime(2026, 11, 1, 17, 0, tzinfo=UTC)  # 2 November 2026, 00:00 in Hồ Chí Minh City
DAYS = 30
BATCH = 5000
OUTCOMES = ["answered"] * 6 + ["missed"] * 2 + ["short_abandoned", "failed"]


def _calls(company: str, count: int, members: list[str], rng: random.Random) -> list[dict[str, Any]]:
    docs = []
    for n in range(count):
        started = START + timedelta(seconds=rng.uniform(0, DAYS * 86400))
        outcome = rng.choice(OUTCOMES)
        rang = rng.sample(range(len(members)), 2)
        answered = rang[0] if outcome == "answered" else None
        talk = rng.uniform(10, 600) if answered is not None else None
        docs.append(
            {
                "_id": f"{company}-c{n}",
                "company_id": company,
                "call_id": f"call-{n}",
                "direction": "inbound",
                "state": "ended",
                "finalized": True,
                "started_at": started,
                "outcome": outcome,
                "members": [members[i] for i in rang],
                "extensions": [str(100 + i) for i in rang],
                "answered_by": str(100 + answered) if answered is not None else None,
                "answered_member_id": members[answered] if answered is not None else None,
                "talk_s": talk,
                "duration_s": (talk or 0) + rng.uniform(3, 40),
                "legs": [],
            }
        )
    return docs


def _chat(
    company: str, count: int, members: list[str], rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Threads of ten messages: the customer writes, an agent answers after a while, and so on."""
    threads, messages = [], []
    for t in range(count // 10):
        opened = START + timedelta(seconds=rng.uniform(0, DAYS * 86400 - 7200))
        agent = rng.choice(members)
        resolved = opened + timedelta(minutes=rng.uniform(5, 120)) if rng.random() < 0.7 else None
        thread_id = f"{company}-t{t}"
        threads.append(
            {
                "_id": thread_id,
                "company_id": company,
                "link_id": f"{company}-link",
                "key": f"user-{t}",
                "status": "resolved" if resolved else "open",
                "assignee_id": agent if rng.random() < 0.9 else None,
                "queued_at": None,
                "created_at": opened,
                "opened_at": opened,
                "resolved_at": resolved,
            }
        )
        at = opened
        for m in range(10):
            at += timedelta(seconds=rng.uniform(5, 300))
            inbound = m % 2 == 0
            messages.append(
                {
                    "_id": f"{thread_id}-m{m}",
                    "company_id": company,
                    "link_id": f"{company}-link",
                    "thread_id": thread_id,
                    "direction": "in" if inbound else "out",
                    "status": "received" if inbound else "sent",
                    "sent_by_member_id": None if inbound else agent,
                    "kind": "text",
                    "text": "x" * 40,
                    "at": at,
                }
            )
    return threads, messages


async def _insert(store: Store, name: str, docs: list[dict[str, Any]]) -> None:
    for first in range(0, len(docs), BATCH):
        await store.db[name].insert_many(docs[first : first + BATCH], ordered=False)


def _cpu_s(pid: int) -> float:
    """The process's own CPU seconds so far (user + system): steadier than wall time on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _timed(repeat: int, pid: int, run: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    await run()  # warm the server's cache first
    times, cpu = [], []
    for _ in range(repeat):
        started, used = time.perf_counter(), _cpu_s(pid)
        await run()
        times.append(time.perf_counter() - started)
        cpu.append(_cpu_s(pid) - used)
    return {
        "median_ms": round(statistics.median(times) * 1000),
        "min_ms": round(min(times) * 1000),
        "server_cpu_ms": round(statistics.median(cpu) * 1000),
    }


def _line(label: str, result: dict[str, float], repeat: int) -> str:
    return (
        f"{label}: {result['median_ms']:,} ms median, {result['min_ms']:,} ms best of {repeat}; "
        f"embedded server CPU {result['server_cpu_ms']:,} ms"
    )


async def main(calls: int, messages: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="hub-bench-dashboard-") as tmp:
        server = embedded.start(Path(tmp), standalone=True)
        store = connect(server.uri, "bench_dashboard", timeout_ms=600_000)
        try:
            await store.ensure_indexes()
            rng = random.Random(18)
            members = [f"member-{i}" for i in range(20)]
            started = time.perf_counter()
            for company, share in (("company-a", 1.0), ("company-b", 0.1)):
                threads, chat = _chat(company, int(messages * share), members, rng)
                await _insert(store, "calls", _calls(company, int(calls * share), members, rng))
                await _insert(store, "threads", threads)
                await _insert(store, "messages", chat)
            await _insert(
                store,
                "extensions",
                [{"_id": f"e{i}", "company_id": "company-a", "number": str(100 + i)} for i in range(20)],
            )
            seeded = time.perf_counter() - started
            print(f"seeded {calls:,} calls and {messages:,} messages (+10% of another company) in {seeded:.0f} s")
            dashboard = Dashboard(store, SystemClock(), EventLog(store))
            month = await dashboard.compute("company-a", TIMEZONE, START, START + timedelta(days=DAYS))
            print(
                f"month: {month.calls.totals.calls:,} calls, {month.chat.messages_in + month.chat.messages_out:,} "
                f"messages, {month.chat.first_responses:,} first responses"
            )
            for label, days in (("month", DAYS), ("week", 7), ("day", 1)):
                end = START + timedelta(days=days)
                result = await _timed(
                    repeat, server.process.pid, lambda end=end: dashboard.compute("company-a", TIMEZONE, START, end)
                )
                print(_line(f"dashboard, {label:5}", result, repeat))

            async def read_all() -> int:
                query = {"company_id": "company-a", "started_at": {"$gte": START, "$lt": START + timedelta(days=DAYS)}}
                return len([doc async for doc in store.calls.find(query, {"legs": 0})])

            result = await _timed(repeat, server.process.pid, read_all)
            print(_line("reading the month's calls into Python (as /api/stats/calls did)", result, repeat))
            print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
        finally:
            await store.close()
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.messages, args.repeat))
