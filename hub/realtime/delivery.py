"""Delivery: each company's events to the consoles that may have them, in seq order, none twice.

1. The bus hands every published event to `offer`, which queues it for the single dispatcher task.
2. The dispatcher keeps one `CompanyStream` per company that has consoles here. After `gap_wait_s`
   a missing seq is read from the log; one still absent after `hole_timeout_s` was never committed
   (its publisher failed) and is skipped.
3. Each released event goes to every console of the company its audience admits. A console still
   replaying buffers it. What the event does to connections (`revokes`, `restores`, `disconnects`
   in its audience) is applied here, the same way live and on replay; consoles that an event's
   `revokes` just took a thread from are reported to `lost_thread` (ephemeral ends their viewing).

A console joins with a `last_seq`: it first receives every entitled event after it from the log
(or the stream's memory), in order, then `sync.done {"seq"}`; if that gap is older than the
retained log it receives `sync.reset {"seq"}` instead and must refetch over REST.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import socketio

from hub import metrics
from hub.realtime import fanout
from hub.realtime.console import Console
from hub.realtime.publish import EventLog, envelope
from hub.realtime.stream import CompanyStream
from hub.settings import Settings

log = logging.getLogger(__name__)

Synced = Callable[[Console], Awaitable[None]]
ForWallboards = Callable[[str], None]
LostThread = Callable[[str, list[Console]], None]


class Delivery:
    """Streams, the dispatcher, gap reads, catch-up and replay for this process's consoles."""

    def __init__(
        self,
        settings: Settings,
        sio: socketio.AsyncServer,
        log_: EventLog,
        consoles: dict[str, Console],
        synced: Synced,
        for_wallboards: ForWallboards,
        lost_thread: LostThread,
    ) -> None:
        self.settings = settings
        self.sio = sio
        self.log = log_
        self.streams: dict[str, CompanyStream] = {}
        self.consoles = consoles
        self._synced = synced  # after a console's sync.done (a wall display then gets its snapshot)
        self._for_wallboards = for_wallboards  # an event reached wall displays of this company
        self._lost_thread = lost_thread  # an event took this thread from these consoles' members
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.catchup_now = asyncio.Event()

    def tasks(self) -> list[asyncio.Task]:
        return [
            asyncio.create_task(self._dispatch_loop(), name="realtime-dispatch"),
            asyncio.create_task(self._catchup_loop(), name="realtime-catchup"),
        ]

    def offer(self, message: dict[str, Any]) -> None:
        """An event from the bus (any process's), for the dispatcher."""
        if message.get("company_id") in self.streams:
            self._queue.put_nowait(("event", message))

    def stop(self) -> None:
        for stream in self.streams.values():
            if stream.gap_watch:
                stream.gap_watch.cancel()

    # -- consoles joining and leaving -------------------------------------------------------------

    async def join(self, console: Console) -> None:
        """Register a console with its company's stream; `sync` then replays what it missed."""
        stream = await self._stream(console.company_id)
        stream.consoles[console.sid] = console
        self.consoles[console.sid] = console
        metrics.CONSOLES.inc()

    def leave(self, sid: str) -> Console | None:
        console = self.consoles.pop(sid, None)
        if console is None:
            return None
        metrics.CONSOLES.dec()
        stream = self.streams.get(console.company_id)
        if stream is not None:
            stream.consoles.pop(console.sid, None)
            if not stream.consoles:
                # Kept a while: a console that comes back soon (a deploy, a flaky network) replays from memory.
                stream.idle_since = time.monotonic()
        return console

    def _drop_idle_streams(self) -> None:
        now = time.monotonic()
        for company_id, stream in list(self.streams.items()):
            if stream.idle_since is not None and now - stream.idle_since > self.settings.stream_linger_s:
                if stream.gap_watch:
                    stream.gap_watch.cancel()
                stream.started.set()  # release a replay still waiting for this stream
                del self.streams[company_id]

    async def _stream(self, company_id: str) -> CompanyStream:
        stream = self.streams.get(company_id)
        if stream is not None:
            stream.idle_since = None
        if stream is None:
            # Registered before reading the log, so events arriving meanwhile are held, not dropped.
            stream = self.streams[company_id] = CompanyStream(company_id)
            start = await self.log.max_seq(company_id) + 1
            if stream.next_seq is None:
                self._queue.put_nowait(("start", (stream, start)))
        return stream

    async def sync(self, console: Console, last_seq: int | None) -> None:
        """Replay what the console missed, then let live events through."""
        stream = self.streams.get(console.company_id)
        try:
            if stream is None:
                return
            await stream.started.wait()
            if console.sid not in self.consoles:
                return
            reset = False
            if last_seq is not None:
                reset = await self._gap_too_old(console.company_id, last_seq, stream.position)
                if not reset:
                    await self._replay(console, last_seq, stream.position)
            if reset or last_seq is None:
                console.last_sent = max(console.last_sent, stream.position)
            while console.buffer:
                batch, console.buffer = console.buffer, []
                for message in batch:
                    if message["seq"] > console.last_sent:
                        await self._send(console, message, "replay")
            console.syncing = False
            cursor = max(console.last_sent, stream.position)
            await self.sio.emit(
                "sync.reset" if reset else "sync.done", {"seq": cursor}, to=console.sid, ignore_queue=True
            )
            await self._synced(console)
        except Exception:
            log.exception("replay failed; disconnecting console so it reconnects", extra={"sid": console.sid})
            await self.sio.disconnect(console.sid, ignore_queue=True)

    async def _gap_too_old(self, company_id: str, last_seq: int, position: int) -> bool:
        # Ahead of what this process released: it may be in flight here, or never existed (another database).
        if last_seq > position and last_seq > await self.log.max_seq(company_id):
            return True
        return last_seq < await self.log.pruned_through(company_id)

    async def _replay(self, console: Console, last_seq: int, upto: int) -> None:
        """Every event in (last_seq, upto] the console may have — from the stream's memory when it
        reaches back that far, else read in bounded seq ranges (later ones reach it through its buffer)."""
        stream = self.streams.get(console.company_id)
        remembered = stream.recent_after(last_seq, upto) if stream is not None else None
        if remembered is not None:
            metrics.REPLAYS.labels(source="memory").inc()
            for message in remembered:
                if message["seq"] > console.last_sent and console.admits(message):
                    await self._send(console, message, "replay")
            return
        metrics.REPLAYS.labels(source="log").inc()
        cursor = last_seq
        while cursor < upto:
            top = min(upto, cursor + self.settings.replay_batch)
            for message in await self.log.range(console.company_id, cursor + 1, top, limit=self.settings.replay_batch):
                if message["seq"] > console.last_sent and console.admits(message):
                    await self._send(console, message, "replay")
            cursor = top

    # -- dispatch -------------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while True:
            kind, item = await self._queue.get()
            try:
                if kind == "event":
                    stream = self.streams.get(item["company_id"])
                    if stream is not None:
                        await self._release(stream, stream.offer(item))
                elif kind == "start":
                    starting: CompanyStream = item[0]
                    start = item[1]
                    if self.streams.get(starting.company_id) is starting and starting.next_seq is None:
                        await self._release(starting, starting.start_at(start))
                elif kind == "skip":
                    skipping: CompanyStream = item[0]
                    upto = item[1]
                    if self.streams.get(skipping.company_id) is skipping:
                        await self._release(skipping, skipping.skip_to(upto, time.monotonic()))
            except Exception:
                log.exception("dispatch failed", extra={"kind": kind})

    async def _release(self, stream: CompanyStream, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await self._deliver(stream, message)
        if stream.missing() and (stream.gap_watch is None or stream.gap_watch.done()):
            stream.gap_watch = asyncio.create_task(self._watch_gap(stream))

    async def _deliver(self, stream: CompanyStream, message: dict[str, Any]) -> None:
        """One released event to every console of the company that may have it, live ones at once."""
        stream.remember(message)
        late = message.get("late", False)
        live: list[Console] = []
        for console in list(stream.consoles.values()):
            if not console.admits(message):
                continue
            if console.syncing:
                console.buffer.append(message)
            elif late:
                if console.connected_at < stream.holes.get(message["seq"], time.monotonic()):
                    live.append(console)
            elif message["seq"] > console.last_sent:
                live.append(console)
        if live:
            await self._send(live, message, "late" if late else "live")
            if message["audience"].get("wallboards") and any(c.is_wallboard for c in live):
                self._for_wallboards(stream.company_id)
        if message["audience"].get("disconnects"):
            for console in list(stream.consoles.values()):
                if console.closes(message):
                    await self.sio.disconnect(console.sid, ignore_queue=True)

    async def _send(self, consoles: Console | list[Console], message: dict[str, Any], path: str) -> None:
        """Send one event to consoles, encoded once for all of them (a wallboard wall may be hundreds)."""
        targets = [c for c in (consoles if isinstance(consoles, list) else [consoles]) if c.permits(message)]
        for console in consoles if isinstance(consoles, list) else [consoles]:
            console.last_sent = max(console.last_sent, message["seq"])
        if not targets:
            return
        await fanout.send(self.sio, [c.sid for c in targets], message["type"], envelope(message))
        metrics.EVENTS_DELIVERED.labels(path=path).inc(len(targets))
        if losing := [c for c in targets if c.loses_thread(message)]:
            self._lost_thread(message["audience"]["thread_id"], losing)
        if path == "live":
            lag = time.time() - datetime.fromisoformat(message["at"].replace("Z", "+00:00")).timestamp()
            metrics.DELIVERY_LAG.observe(max(lag, 0.0))

    async def _watch_gap(self, stream: CompanyStream) -> None:
        """Fill a gap in the seq order from the log, or give up on seqs that never committed."""
        started = time.monotonic()
        while (gap := stream.missing()) is not None and self.streams.get(stream.company_id) is stream:
            await asyncio.sleep(self.settings.gap_wait_s)
            gap = stream.missing()
            if gap is None:
                return
            first, last = gap
            found = await self.log.range(stream.company_id, first, last)
            metrics.GAPS_FILLED.inc(len(found))
            for message in found:
                self._queue.put_nowait(("event", message))
            if not found and time.monotonic() - started > self.settings.hole_timeout_s:
                metrics.HOLES.inc(last - first + 1)
                log.warning("seqs %s..%s of company %s never committed; skipping", first, last, stream.company_id)
                self._queue.put_nowait(("skip", (stream, last + 1)))
                started = time.monotonic()

    async def _catchup_loop(self) -> None:
        """Re-read the log for events the bus did not bring (pub/sub is at-most-once)."""
        while True:
            try:
                await asyncio.wait_for(self.catchup_now.wait(), timeout=self.settings.catchup_interval_s)
            except TimeoutError:
                pass
            self.catchup_now.clear()
            self._drop_idle_streams()
            for stream in list(self.streams.values()):
                if stream.next_seq is None:
                    continue
                try:
                    for message in await self.log.range(stream.company_id, stream.next_seq, stream.next_seq + 999):
                        self._queue.put_nowait(("event", message))
                except Exception:
                    log.exception("catch-up read failed", extra={"company_id": stream.company_id})
