"""The fan-out bus between hub processes, built on python-socketio's client managers.

Stored events travel as one message per event on a private room; each process hands them to
its realtime dispatcher (`on_event`), which orders them per company and checks each console's
entitlement before sending. The server code never knows whether the bus is in memory (one
process) or Redis (any number of processes): both managers expose the same `on_event` hook.
"""
from __future__ import annotations

from typing import Any, Callable

import socketio

BUS_ROOM = "hub:events"  # never joined by a console: only carries stored events between processes
BUS_EVENT = "hub.event"

EventHandler = Callable[[dict[str, Any]], None]


def _ignore(message: dict[str, Any]) -> None:
    return None


class LocalBus(socketio.AsyncManager):
    """One process: a bus emit goes straight to this process's dispatcher."""

    def __init__(self) -> None:
        super().__init__()
        self.on_event: EventHandler = _ignore
        self.on_resubscribe: Callable[[], None] = lambda: None

    async def emit(self, event, data, namespace=None, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        if (to or room) == BUS_ROOM:
            self.on_event(data)
            return None
        return await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback,
                                  to=to, **kwargs)


class RedisBus(socketio.AsyncRedisManager):
    """Many processes: python-socketio's Redis pub/sub carries bus messages to every process.

    Redis pub/sub is at-most-once: a process whose subscription dropped may have missed events,
    so every (re)connection to Redis triggers `on_resubscribe`, which re-reads the event log.
    """

    def __init__(self, url: str, channel: str) -> None:
        super().__init__(url=url, channel=channel)
        self.on_event: EventHandler = _ignore
        self.on_resubscribe: Callable[[], None] = lambda: None

    async def _handle_emit(self, message):
        if message.get("room") == BUS_ROOM:
            data = message["data"]
            self.on_event(data[0] if isinstance(data, list) else data)
            return
        await super()._handle_emit(message)

    def _redis_connect(self):
        super()._redis_connect()
        self.on_resubscribe()


def make_bus(redis_url: str | None, channel: str) -> LocalBus | RedisBus:
    return RedisBus(redis_url, channel) if redis_url else LocalBus()
