"""A test console: a real python-socketio AsyncClient that records every event it receives."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import socketio

from schemas import events as catalogue

# Every event a test console receives that does not fit the event catalogue (schemas/events.py); the
# conftest fails the test that received one.
VIOLATIONS: list[str] = []


def check_contract(event: str, data: Any) -> None:
    try:
        if isinstance(data, dict) and "seq" in data and "type" in data:
            catalogue.Envelope.model_validate(data)
            catalogue.validate(data["type"], data["data"])
        else:
            catalogue.validate(event, data)
    except ValueError as exc:  # pydantic's ValidationError and UnknownEventType
        VIOLATIONS.append(f"{event}: {exc}")


EPHEMERAL = frozenset({"presence.updated", "typing", "thread.viewing", "wallboard.snapshot", "wallboard.counters"})


class TestConsole:
    __test__ = False  # not a test class

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.events: list[tuple[str, Any]] = []
        self.disconnects = 0
        self._changed = asyncio.Condition()
        self.client = self._new_client()

    def _new_client(self) -> socketio.AsyncClient:
        client = socketio.AsyncClient(reconnection=False)

        async def on_any(event: str, data: Any = None) -> None:
            check_contract(event, data)
            async with self._changed:
                self.events.append((event, data))
                self._changed.notify_all()

        async def on_disconnect(*args: Any) -> None:
            async with self._changed:
                self.disconnects += 1
                self._changed.notify_all()

        client.on("*", on_any)
        client.on("disconnect", on_disconnect)
        return client

    async def connect(self, last_seq: int | None = None, wait_sync: bool = True) -> TestConsole:
        if self.client.connected or self.client.eio.state != "disconnected":
            self.client = self._new_client()
        mark = len(self.events)
        await self.client.connect(
            self.url,
            auth={"token": self.token, "last_seq": last_seq},
            transports=["websocket"],
            socketio_path="socket.io",
            wait_timeout=10,
        )
        if wait_sync:
            await self.wait_for(lambda: any(e in ("sync.done", "sync.reset") for e, _ in self.events[mark:]))
        return self

    async def disconnect(self) -> None:
        await self.client.disconnect()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_disconnected(self, timeout: float = 10.0) -> None:
        await self.wait_for(lambda: self.disconnects > 0, timeout)

    # -- what it received ---------------------------------------------------------------------

    def stored(self) -> list[dict[str, Any]]:
        """The sequenced events (envelopes), in arrival order."""
        return [data for _, data in self.events if isinstance(data, dict) and "seq" in data and "type" in data]

    def seqs(self) -> list[int]:
        return [env["seq"] for env in self.stored()]

    def of_type(self, type_: str) -> list[dict[str, Any]]:
        return [env for env in self.stored() if env["type"] == type_]

    def names(self) -> list[str]:
        """Names of the sequenced events and sync markers, in arrival order (ephemeral ones left out)."""
        return [name for name, _ in self.events if name not in EPHEMERAL]

    def ephemeral(self, name: str) -> list[Any]:
        return [data for event, data in self.events if event == name]

    @property
    def last_seq(self) -> int | None:
        """What a console would send on reconnect: the highest seq seen or confirmed by sync.*."""
        seqs = [data["seq"] for name, data in self.events if isinstance(data, dict) and "seq" in data]
        return max(seqs) if seqs else None
