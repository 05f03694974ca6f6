"""A fleet of Socket.IO consoles in one process, driven over stdin/stdout (one JSON object a line).

Each console is a bare Engine.IO v4 websocket client (no per-message deflate, answers pings):
far lighter than python-socketio's AsyncClient, so hundreds fit beside the server on 2 cores.
Messages whose text or call id carries `bench:<phase>:<n>:<sent monotonic ns>` are timed.

Commands: {"cmd": "connect", "url", "auths": [...]} -> {"connected": n, "failed": n}
          {"cmd": "report", "phase", "values"?} -> latencies (ms) and deliveries of that phase (every one too)
          {"cmd": "disconnect"} -> {"disconnected": n}
          {"cmd": "storm", "url"} -> reconnect all with their last_seq; time until every sync.done
          {"cmd": "quit"}
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import websockets

MARK = re.compile(r"bench:([A-Za-z0-9_.-]+):(\d+):(\d+)")
SEQ = re.compile(r'^42\["[^"]+",\{"seq":(\d+)')
TIMED = {"message.created", "call.updated", "message", "call"}


@dataclass
class Console:
    auth: dict[str, Any]
    ws: Any = None
    task: asyncio.Task | None = None
    last_seq: int | None = None
    synced: asyncio.Event = field(default_factory=asyncio.Event)
    replayed: int = 0


@dataclass
class Fleet:
    consoles: list[Console] = field(default_factory=list)
    latencies: dict[str, list[float]] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)

    def _record(self, frame: str, console: Console) -> None:
        """Work on the raw frame: decoding every event's JSON would cost the fleet more than the server."""
        seq = SEQ.search(frame)
        if seq:
            console.last_seq = max(console.last_seq or 0, int(seq.group(1)))
        mark = MARK.search(frame)
        if not mark:
            return
        phase, sent_ns = mark.group(1), int(mark.group(3))
        self.deliveries[phase] = self.deliveries.get(phase, 0) + 1
        name = frame[4 : frame.index('"', 4)]
        if name in TIMED:
            self.latencies.setdefault(phase, []).append((time.monotonic_ns() - sent_ns) / 1e6)

    async def _run(self, console: Console, url: str, ready: asyncio.Future) -> None:
        host = url.removeprefix("http://")
        try:
            ws = await websockets.connect(
                f"ws://{host}/socket.io/?EIO=4&transport=websocket",
                compression=None,
                max_size=None,
                open_timeout=60,
                ping_interval=None,
            )
            console.ws = ws
            await ws.recv()  # Engine.IO open
            await ws.send("40" + json.dumps(console.auth))
            answer = str(await ws.recv())
            while answer.startswith("42"):  # an event may overtake the acknowledgement
                self._record(answer, console)
                answer = str(await ws.recv())
            if not answer.startswith("40"):
                raise ConnectionError(answer)
            ready.set_result(True)
            async for frame in ws:
                if frame == "2":
                    await ws.send("3")
                elif frame.startswith("42"):
                    if frame.startswith('42["sync.done"'):
                        console.synced.set()
                    elif not console.synced.is_set() and SEQ.search(frame):
                        console.replayed += 1
                    self._record(frame, console)
        except Exception as exc:  # noqa: BLE001 - report, do not crash the fleet
            if not ready.done():
                ready.set_exception(exc)
            else:
                console.synced.set()  # a console that failed after connecting must not hang a storm

    async def connect(self, url: str, auths: list[dict[str, Any]]) -> dict[str, int]:
        new = [Console(auth=auth) for auth in auths]
        ok = failed = 0
        for start in range(0, len(new), 50):  # connect in waves, as browsers would after a deploy
            batch = new[start : start + 50]
            futures = [asyncio.get_running_loop().create_future() for _ in batch]
            for future in futures:
                future.add_done_callback(lambda f: f.exception())
            for console, ready in zip(batch, futures, strict=True):
                console.task = asyncio.create_task(self._run(console, url, ready))
            for result in await asyncio.gather(*futures, return_exceptions=True):
                ok, failed = (ok + 1, failed) if result is True else (ok, failed + 1)
        self.consoles.extend(new)
        return {"connected": ok, "failed": failed}

    async def disconnect(self) -> dict[str, int]:
        for console in self.consoles:
            if console.ws is not None:
                await console.ws.close()
            if console.task:
                console.task.cancel()
            console.synced = asyncio.Event()
            console.replayed = 0
        return {"disconnected": len(self.consoles)}

    async def storm(self, url: str) -> dict[str, Any]:
        """Every console reconnects at once with its last_seq; done when every one has sync.done."""
        begin = time.perf_counter()
        failures: dict[str, int] = {}

        def failed(future: asyncio.Future, console: Console) -> None:
            if future.exception() is not None:
                key = repr(future.exception())[:120]
                failures[key] = failures.get(key, 0) + 1
                console.synced.set()

        for console in self.consoles:
            console.auth = {**console.auth, "last_seq": console.last_seq}
            ready = asyncio.get_running_loop().create_future()
            ready.add_done_callback(lambda f, c=console: failed(f, c))
            console.task = asyncio.create_task(self._run(console, url, ready))
        try:
            await asyncio.wait_for(asyncio.gather(*[c.synced.wait() for c in self.consoles]), timeout=120)
        except TimeoutError:
            return {
                "storm_s": None,
                "consoles": len(self.consoles),
                "synced": sum(c.synced.is_set() for c in self.consoles),
                "failures": failures,
                "error": "not all synced in 120 s",
            }
        elapsed = time.perf_counter() - begin
        return {
            "storm_s": round(elapsed, 3),
            "consoles": len(self.consoles),
            "failures": failures,
            "replayed_min": min(c.replayed for c in self.consoles),
            "replayed_max": max(c.replayed for c in self.consoles),
        }

    def report(self, phase: str, values_too: bool = False) -> dict[str, Any]:
        values = sorted(self.latencies.get(phase, []))

        def pick(q: float) -> float | None:
            return round(values[min(len(values) - 1, int(q * len(values)))], 2) if values else None

        return {
            "phase": phase,
            "timed": len(values),
            "deliveries": self.deliveries.get(phase, 0),
            "p50_ms": pick(0.5),
            "p95_ms": pick(0.95),
            "p99_ms": pick(0.99),
            "max_ms": pick(1.0),
            **({"values": values} if values_too else {}),
        }


async def main() -> None:
    fleet = Fleet()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)  # a connect command carries hundreds of tokens
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        cmd = command["cmd"]
        if cmd == "connect":
            result: Any = await fleet.connect(command["url"], command["auths"])
        elif cmd == "report":
            result = fleet.report(command["phase"], command.get("values", False))
        elif cmd == "disconnect":
            result = await fleet.disconnect()
        elif cmd == "storm":
            result = await fleet.storm(command["url"])
        elif cmd == "quit":
            await fleet.disconnect()
            break
        else:
            result = {"error": f"unknown command {cmd}"}
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
