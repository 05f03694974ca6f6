"""Realtime delivery over Socket.IO: consoles, per-company ordering, entitlement at push time, replay.

How an event reaches a console:
1. `Publisher.publish` stores it, then `Realtime.broadcast` puts it on the bus (hub.bus).
2. Every process's bus hands it to `_on_bus`, which queues it for the single dispatcher task.
3. The dispatcher keeps one `CompanyStream` per company that has consoles here. A stream
   releases events strictly in seq order: one that arrives ahead of a missing seq waits; after
   `gap_wait_s` the missing seqs are read from the log; a seq still absent after
   `hole_timeout_s` was never committed (its publisher failed) and is skipped.
4. Each released event goes to every console of the company whose member the event's audience
   admits. A console still replaying buffers it; a console never gets a seq twice.

A console connects with `auth = {"token", "last_seq"}`. With a `last_seq` it first receives every
entitled event after it from the log, in order, then `sync.done {"seq"}`; if that gap is older
than the retained log it receives `sync.reset {"seq"}` instead and must refetch over REST.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import socketio

from hub import fastjson, metrics
from hub.auth import InvalidToken, Principal, read_token
from hub.bus import BUS_EVENT, BUS_ROOM, LocalBus, RedisBus
from hub.events import EventLog, envelope
from hub.presence import Status
from hub.settings import Settings
from hub.threads import may_see
from schemas.directory import Member, Role

if TYPE_CHECKING:
    from hub.runtime import Runtime

log = logging.getLogger(__name__)

MemberLookup = Callable[[str, str], Awaitable[Member | None]]


def refused(message: str, code: str) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection, with why in words (`message`) and as `data.code` for programs: `starting` is
    worth retrying; `bad_token`, `member_removed`, `wallboard_revoked` and `bad_request` are not."""
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code})


WALLBOARD_REFRESH_S = 0.4  # figures reach wallboards within a second of the call change that moves them


def wallboard_key(token_id: str) -> str:
    """The member id a wall display's console goes by (a display speaks for no member)."""
    return f"wallboard:{token_id}"


@dataclass(eq=False)
class Console:
    """One connected console (a Socket.IO session) of one member."""

    sid: str
    member_id: str
    company_id: str
    role: Role
    connected_at: float
    last_sent: int = 0
    syncing: bool = True
    buffer: list[dict[str, Any]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)  # threads this console was told thread.removed for
    status: Status = Status.available
    viewing: str | None = None  # the thread this console has open
    is_wallboard: bool = False  # a wall display: wallboard events only

    @property
    def principal(self) -> Principal:
        return Principal(self.member_id, self.company_id, self.role)

    def admits(self, message: dict[str, Any]) -> bool:
        audience = message["audience"]
        if self.is_wallboard:
            return bool(audience.get("wallboards"))
        return self.member_id in audience["members"] or self.role in audience["roles"]

    def permits(self, message: dict[str, Any]) -> bool:
        """The last check before sending, in seq order: after thread.removed, nothing more of that
        thread reaches this console by name until thread.assigned gives it back."""
        audience = message["audience"]
        thread_id = audience.get("thread_id")
        if thread_id is None or self.is_wallboard or self.role in audience["roles"]:
            return True
        if message["type"] == "thread.removed":
            self.revoked.add(thread_id)
            return True
        if message["type"] == "thread.assigned" and message["data"].get("to_member_id") == self.member_id:
            self.revoked.discard(thread_id)
            return True
        return thread_id not in self.revoked


@dataclass(eq=False)
class CompanyStream:
    """This process's in-order view of one company's events."""

    company_id: str
    next_seq: int | None = None  # None while the stream reads its starting point from the log
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    consoles: dict[str, Console] = field(default_factory=dict)
    holes: dict[int, float] = field(default_factory=dict)  # seq -> when it was skipped
    gap_watch: asyncio.Task | None = None
    started: asyncio.Event = field(default_factory=asyncio.Event)
    # The last events released here, in release order: reconnecting consoles replay from memory.
    recent: deque = field(default_factory=lambda: deque(maxlen=2000))
    idle_since: float | None = None  # no console since then: dropped after the linger time

    def remember(self, message: dict[str, Any]) -> None:
        if message.get("late"):
            self.recent.clear()  # out of order: replays read the log until the memory refills
        else:
            self.recent.append(message)

    def recent_after(self, last_seq: int, upto: int) -> list[dict[str, Any]] | None:
        """The released events in (last_seq, upto] if memory reaches back that far, else None."""
        if not self.recent or self.recent[0]["seq"] > last_seq + 1:
            return None
        return [m for m in self.recent if last_seq < m["seq"] <= upto]

    def offer(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        """Take one event; return the events now releasable in order (a late hole-filler alone)."""
        seq = message["seq"]
        if self.next_seq is None or seq > self.next_seq:
            self.pending.setdefault(seq, message)
            return []
        if seq < self.next_seq:
            if self.holes.pop(seq, None) is not None:
                message = {**message, "late": True}
                return [message]
            return []  # already released
        self.pending[seq] = message
        return self._release()

    def start_at(self, next_seq: int) -> list[dict[str, Any]]:
        self.next_seq = next_seq
        self.started.set()
        for seq in [s for s in self.pending if s < next_seq]:
            del self.pending[seq]
        return self._release()

    def skip_to(self, seq: int, now: float) -> list[dict[str, Any]]:
        """Give up on every missing seq below `seq` (never committed) and release what follows."""
        if self.next_seq is None or seq <= self.next_seq:
            return []
        self.holes = {hole: when for hole, when in self.holes.items() if now - when < 3600}
        for missing in range(self.next_seq, seq):
            self.holes[missing] = now
        self.next_seq = seq
        return self._release()

    def _release(self) -> list[dict[str, Any]]:
        released = []
        assert self.next_seq is not None
        while self.next_seq in self.pending:
            released.append(self.pending.pop(self.next_seq))
            self.next_seq += 1
        return released

    def missing(self) -> tuple[int, int] | None:
        """The first run of missing seqs (first, last) holding back pending events, if any."""
        if self.next_seq is None or not self.pending:
            return None
        return self.next_seq, min(self.pending) - 1

    @property
    def position(self) -> int:
        """The highest seq released in order here (0 before the stream has started)."""
        return (self.next_seq or 1) - 1


class Realtime:
    """The Socket.IO server and everything that decides what each console receives."""

    def __init__(self, settings: Settings, bus: LocalBus | RedisBus) -> None:
        self.settings = settings
        self.bus = bus
        self.log: EventLog
        self.runtime: Runtime
        self._jwt_secret = ""
        self._member_lookup: MemberLookup
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=bus,
            cors_allowed_origins=settings.cors_origins or [],
            ping_interval=settings.ping_interval_s,
            ping_timeout=settings.ping_timeout_s,
            json=fastjson if settings.fast_json else None,
            logger=False,
            engineio_logger=False,
        )
        self.streams: dict[str, CompanyStream] = {}
        self.consoles: dict[str, Console] = {}
        self._wallboard_refresh: dict[str, asyncio.Task] = {}  # company id -> its pending snapshot
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._catchup_now = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        bus.on_event = self._on_bus
        bus.on_resubscribe = self._catchup_now.set
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("presence.set", self._presence_set)
        self.sio.on("typing", self._typing)
        self.sio.on("thread.viewing", self._viewing)

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, runtime: Runtime) -> None:
        """Begin serving once storage is open: consoles are refused until then."""
        self.runtime = runtime
        self.log = runtime.event_log
        self._member_lookup = runtime.directory.get_member
        self._jwt_secret = runtime.jwt_secret
        # Subscribe to the bus now rather than at the first console (python-socketio's lazy default),
        # so a process is listening before it serves anyone.
        if not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.bus.initialize()
        self._tasks = [asyncio.create_task(self._dispatch_loop(), name="realtime-dispatch"),
                       asyncio.create_task(self._catchup_loop(), name="realtime-catchup"),
                       asyncio.create_task(self._presence_loop(), name="realtime-presence"),
                       asyncio.create_task(self._wallboard_loop(), name="realtime-wallboards")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for stream in self.streams.values():
            if stream.gap_watch:
                stream.gap_watch.cancel()
        for sid in list(self.consoles):
            await self.sio.disconnect(sid, ignore_queue=True)

    async def broadcast(self, message: dict[str, Any]) -> None:
        """Put a stored event on the bus for every hub process, this one included."""
        await self.bus.emit(BUS_EVENT, message, namespace="/", room=BUS_ROOM)

    def _on_bus(self, message: dict[str, Any]) -> None:
        if message.get("company_id") in self.streams:
            self._queue.put_nowait(("event", message))

    # -- connections ----------------------------------------------------------------------------

    async def _connect(self, sid: str, environ: dict, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        if not self._jwt_secret:
            raise refused("the hub is starting; retry", "starting")
        try:
            principal: Principal = read_token(self._jwt_secret, auth.get("token"))
        except InvalidToken as exc:
            raise refused(str(exc), "bad_token") from None
        last_seq = auth.get("last_seq")
        if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0):
            raise refused("last_seq must be a non-negative integer or null", "bad_request")
        if principal.kind == "wallboard":
            await self._connect_wallboard(sid, principal, last_seq)
            return
        member = await self._member_lookup(principal.company_id, principal.member_id)
        if member is None:
            raise refused("member no longer exists", "member_removed")
        try:
            status = Status(auth.get("status") or Status.available.value)
        except ValueError:
            raise refused("status must be available or away", "bad_request") from None
        if status is Status.offline:
            raise refused("status must be available or away", "bad_request")
        console = Console(sid=sid, member_id=member.id, company_id=member.company_id, role=member.role,
                          connected_at=time.monotonic(), status=status)
        stream = await self._stream(member.company_id)
        stream.consoles[sid] = console
        self.consoles[sid] = console
        metrics.CONSOLES.inc()
        # The rest after connect returns: a client takes events only once its connection is acknowledged.
        self.sio.start_background_task(self._after_connect, console, last_seq)

    async def _after_connect(self, console: Console, last_seq: int | None) -> None:
        try:
            for room in rooms_of(console):
                await self.sio.enter_room(console.sid, room)
            await self._presence_changed(console, *await self.runtime.presence.set(
                console.company_id, console.member_id, console.sid, console.status))
        except Exception:
            log.exception("joining rooms or presence failed", extra={"sid": console.sid})
        await self._sync(console, last_seq)

    async def _connect_wallboard(self, sid: str, principal: Principal, last_seq: int | None) -> None:
        if not await self.runtime.wallboards.valid(principal.company_id, principal.member_id):
            raise refused("wallboard token revoked", "wallboard_revoked")
        console = Console(sid=sid, member_id=wallboard_key(principal.member_id), company_id=principal.company_id,
                          role=Role.user, connected_at=time.monotonic(), is_wallboard=True)
        stream = await self._stream(principal.company_id)
        stream.consoles[sid] = console
        self.consoles[sid] = console
        metrics.CONSOLES.inc()
        self.sio.start_background_task(self._sync, console, last_seq)

    async def _disconnect(self, sid: str, *args: Any) -> None:
        console = self.consoles.pop(sid, None)
        if console is None:
            return
        metrics.CONSOLES.dec()
        if console.is_wallboard:
            self._leave_stream(console)
            return
        if console.viewing:
            await self._announce(console, console.viewing, "thread.viewing",
                                 {"thread_id": console.viewing, "member_id": console.member_id, "viewing": False})
        try:
            await self._presence_changed(console, *await self.runtime.presence.leave(
                console.company_id, console.member_id, sid))
        except Exception:
            log.exception("presence update failed on disconnect; the entry will expire")
        self._leave_stream(console)

    def _leave_stream(self, console: Console) -> None:
        stream = self.streams.get(console.company_id)
        if stream is not None:
            stream.consoles.pop(console.sid, None)
            if not stream.consoles:
                # Kept a while: a console that comes back soon (a deploy, a flaky network) replays from memory.
                stream.idle_since = time.monotonic()

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

    async def _sync(self, console: Console, last_seq: int | None) -> None:
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
            await self.sio.emit("sync.reset" if reset else "sync.done", {"seq": cursor}, to=console.sid,
                                ignore_queue=True)
            if console.is_wallboard:
                await self._send_snapshot(console.company_id, [console.sid])
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
                    stream, start = item
                    if self.streams.get(stream.company_id) is stream and stream.next_seq is None:
                        await self._release(stream, stream.start_at(start))
                elif kind == "skip":
                    stream, upto = item
                    if self.streams.get(stream.company_id) is stream:
                        await self._release(stream, stream.skip_to(upto, time.monotonic()))
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
                self._refresh_wallboards(stream.company_id)
        if message["type"] == "member.removed":
            await self._disconnect_member(stream, message["data"]["id"])
        elif message["type"] == "wallboard.revoked":
            await self._disconnect_member(stream, wallboard_key(message["data"]["id"]))

    async def _send(self, consoles: Console | list[Console], message: dict[str, Any], path: str) -> None:
        """Send one event to consoles, encoded once for all of them (a wallboard wall may be hundreds)."""
        targets = [c for c in (consoles if isinstance(consoles, list) else [consoles]) if c.permits(message)]
        for console in consoles if isinstance(consoles, list) else [consoles]:
            console.last_sent = max(console.last_sent, message["seq"])
        if not targets:
            return
        await self.sio.emit(message["type"], envelope(message), to=[c.sid for c in targets], ignore_queue=True)
        metrics.EVENTS_DELIVERED.labels(path=path).inc(len(targets))
        if path == "live":
            lag = time.time() - datetime.fromisoformat(message["at"].replace("Z", "+00:00")).timestamp()
            metrics.DELIVERY_LAG.observe(max(lag, 0.0))

    async def _disconnect_member(self, stream: CompanyStream, member_id: str) -> None:
        for console in list(stream.consoles.values()):
            if console.member_id == member_id:
                await self.sio.disconnect(console.sid, ignore_queue=True)

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
                await asyncio.wait_for(self._catchup_now.wait(), timeout=self.settings.catchup_interval_s)
            except asyncio.TimeoutError:
                pass
            self._catchup_now.clear()
            self._drop_idle_streams()
            for stream in list(self.streams.values()):
                if stream.next_seq is None:
                    continue
                try:
                    for message in await self.log.range(stream.company_id, stream.next_seq, stream.next_seq + 999):
                        self._queue.put_nowait(("event", message))
                except Exception:
                    log.exception("catch-up read failed", extra={"company_id": stream.company_id})

    # -- presence, typing, viewing (ephemeral: never sequenced, never replayed) -------------------

    async def _presence_changed(self, console: Console, before: Status, after: Status) -> None:
        if before is after:
            return
        await self.sio.emit("presence.updated", {"member_id": console.member_id, "status": after.value},
                            room=supervisors_room(console.company_id))
        if after is Status.available:
            self.runtime.spawn(self._drain(console.company_id))

    async def _drain(self, company_id: str) -> None:
        await self.runtime.assignment.drain(company_id)

    async def _presence_set(self, sid: str, data: Any) -> dict[str, Any]:
        console = self.consoles.get(sid)
        status = (data or {}).get("status") if isinstance(data, dict) else None
        if console is None or console.is_wallboard:
            return {"ok": False, "error": "a wallboard has no presence"}
        if status not in (Status.available.value, Status.away.value):
            return {"ok": False, "error": "status must be available or away"}
        console.status = Status(status)
        await self._presence_changed(console, *await self.runtime.presence.set(
            console.company_id, console.member_id, sid, console.status))
        return {"ok": True, "status": status}

    async def _announce(self, console: Console, thread_id: str, event: str, data: dict[str, Any]) -> bool:
        """Send an ephemeral event about a thread to the other consoles entitled to it."""
        thread = await self.runtime.threads.get(thread_id)
        if thread is None or thread["company_id"] != console.company_id:
            return False
        if not may_see(console.principal, thread):
            return False
        rooms = [owners_room(console.company_id)]
        if thread.get("assignee_id"):
            rooms.append(member_room(thread["assignee_id"]))
        await self.sio.emit(event, data, to=rooms, skip_sid=console.sid)
        return True

    async def _typing(self, sid: str, data: Any) -> dict[str, Any]:
        console = self.consoles.get(sid)
        thread_id = data.get("thread_id") if isinstance(data, dict) else None
        if console is None or not isinstance(thread_id, str):
            return {"ok": False}
        ok = await self._announce(console, thread_id, "typing", {"thread_id": thread_id,
                                                                 "member_id": console.member_id})
        return {"ok": ok}

    async def _viewing(self, sid: str, data: Any) -> dict[str, Any]:
        console = self.consoles.get(sid)
        thread_id = data.get("thread_id") if isinstance(data, dict) else None
        viewing = bool(data.get("viewing", True)) if isinstance(data, dict) else False
        if console is None or not isinstance(thread_id, str):
            return {"ok": False}
        ok = await self._announce(console, thread_id, "thread.viewing",
                                  {"thread_id": thread_id, "member_id": console.member_id, "viewing": viewing})
        if ok:
            console.viewing = thread_id if viewing else None
        return {"ok": ok}

    async def _presence_loop(self) -> None:
        """Keep this process's consoles alive in the shared presence table; sweep out the dead ones."""
        presence = self.runtime.presence
        while True:
            await asyncio.sleep(self.settings.presence_heartbeat_s)
            try:
                await presence.heartbeat([(c.company_id, c.member_id, c.sid, c.status)
                                          for c in self.consoles.values() if not c.is_wallboard])
                for company_id, member_id, status in await presence.sweep():
                    await self.sio.emit("presence.updated", {"member_id": member_id, "status": status.value},
                                        room=supervisors_room(company_id))
            except Exception:
                log.exception("presence heartbeat failed; retrying")


    # -- wallboards ------------------------------------------------------------------------------

    async def _send_snapshot(self, company_id: str, sids: list[str]) -> None:
        snapshot = await self.runtime.wallboards.snapshot(company_id)
        await self.sio.emit("wallboard.snapshot", snapshot, to=sids, ignore_queue=True)

    def _refresh_wallboards(self, company_id: str) -> None:
        """An event for wallboards may have moved today's figures: `wallboard.counters` within a moment,
        one for all the events of that moment (the full snapshot still comes every few seconds)."""
        if company_id in self._wallboard_refresh:
            return

        async def refresh() -> None:
            try:
                await asyncio.sleep(WALLBOARD_REFRESH_S)
                sids = [c.sid for c in self.consoles.values()
                        if c.is_wallboard and c.company_id == company_id and not c.syncing]
                if sids:
                    figures = await self.runtime.wallboards.figures(company_id)
                    await self.sio.emit("wallboard.counters", figures, to=sids, ignore_queue=True)
            except Exception:
                log.exception("wallboard refresh failed", extra={"company_id": company_id})
            finally:
                self._wallboard_refresh.pop(company_id, None)
        self._wallboard_refresh[company_id] = asyncio.create_task(refresh())

    async def _wallboard_loop(self) -> None:
        """A full snapshot every few seconds heals a display that missed something."""
        while True:
            await asyncio.sleep(self.settings.wallboard_snapshot_s)
            by_company: dict[str, list[str]] = {}
            for console in self.consoles.values():
                if console.is_wallboard and not console.syncing:
                    by_company.setdefault(console.company_id, []).append(console.sid)
            for company_id, sids in by_company.items():
                try:
                    await self._send_snapshot(company_id, sids)
                except Exception:
                    log.exception("wallboard snapshot failed", extra={"company_id": company_id})


def member_room(member_id: str) -> str:
    return f"member:{member_id}"


def owners_room(company_id: str) -> str:
    return f"owners:{company_id}"


def supervisors_room(company_id: str) -> str:
    return f"supervisors:{company_id}"


def rooms_of(console: Console) -> list[str]:
    """Rooms carry only ephemeral events (typing, viewing, presence); stored events go console by console."""
    rooms = [member_room(console.member_id)]
    if console.role in (Role.owner, Role.manager):
        rooms.append(supervisors_room(console.company_id))
    if console.role is Role.owner:
        rooms.append(owners_room(console.company_id))
    return rooms
