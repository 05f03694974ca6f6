"""The fan-out bus between hub processes, built on python-socketio's client managers.

Stored events travel on a private room, the events of one change in one message (one Redis round
trip however many events a change publishes); each process hands them, one by one, to
its realtime dispatcher (the `on_event` given to `listen`), which orders them per company and
checks each console's entitlement before sending. The realtime layer talks to the `Bus` protocol
and never knows whether fan-out is in memory (one process) or through Redis (any number).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import socketio

BUS_ROOM = "hub:events"  # never joined by a console: only carries stored events between processes
BUS_EVENT = "hub.event"
BATCH = "events"  # a bus message's list of events

EventHandler = Callable[[dict[str, Any]], None]


def _ignore(message: dict[str, Any]) -> None:
    return None


def _nothing() -> None:
    return None


class Bus(Protocol):
    async def publish(self, messages: list[dict[str, Any]]) -> None:
        """Hand stored events (in seq order) to every hub process, this one included."""

    def listen(self, on_event: EventHandler, on_resubscribe: Callable[[], None]) -> None:
        """Receive every published event (`on_event`), and a call whenever the subscription was (re)made,
        after which events may have been missed (`on_resubscribe`)."""


class NullBus:
    """No process listens (the CLI): consoles pick its events up from the log."""

    async def publish(self, messages: list[dict[str, Any]]) -> None:
        return None

    def listen(self, on_event: EventHandler, on_resubscribe: Callable[[], None]) -> None:
        return None


class LocalBus(socketio.AsyncManager):
    """One process: a bus emit goes straight to this process's dispatcher."""

    def __init__(self) -> None:
        super().__init__()
        self._on_event: EventHandler = _ignore
        self._on_resubscribe: Callable[[], None] = _nothing

    def listen(self, on_event: EventHandler, on_resubscribe: Callable[[], None]) -> None:
        self._on_event, self._on_resubscribe = on_event, on_resubscribe

    async def publish(self, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            self._on_event(message)


class RedisBus(socketio.AsyncRedisManager):
    """Many processes: python-socketio's Redis pub/sub carries bus messages to every process.

    Redis pub/sub is at-most-once: a process whose subscription dropped may have missed events,
    so every (re)connection to Redis calls `on_resubscribe`, which re-reads the event log.
    The two overridden methods are python-socketio internals: tests/test_bus_contract.py checks that
    they still exist in the installed version (pyproject.toml pins python-socketio below its next major).
    """

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url=url, channel=channel)
        self._on_event: EventHandler = _ignore
        self._on_resubscribe: Callable[[], None] = _nothing

    def listen(self, on_event: EventHandler, on_resubscribe: Callable[[], None]) -> None:
        self._on_event, self._on_resubscribe = on_event, on_resubscribe

    async def publish(self, messages: list[dict[str, Any]]) -> None:
        await self.emit(BUS_EVENT, {BATCH: messages}, namespace="/", room=BUS_ROOM)

    async def _handle_emit(self, message):
        if message.get("room") == BUS_ROOM:
            data = message["data"]
            data = data[0] if isinstance(data, list) else data
            for event in data.get(BATCH, [data]):
                self._on_event(event)
            return
        await super()._handle_emit(message)

    def _redis_connect(self):
        super()._redis_connect()
        self._on_resubscribe()


def make_bus(redis_url: str | None, channel: str) -> LocalBus | RedisBus:
    return RedisBus(redis_url, channel) if redis_url else LocalBus()
