"""The realtime layer assembled in one step: a Socket.IO server, delivery, connections, ephemeral
signals and wall displays' feed, over one bus and the runtime's stores."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import socketio

from hub import fastjson
from hub.realtime.bus import Bus, LocalBus, RedisBus
from hub.realtime.connections import Connections, refuse_while_starting
from hub.realtime.console import Console
from hub.realtime.delivery import Delivery
from hub.realtime.ephemeral import Ephemeral
from hub.realtime.wallboards import WallboardFeed
from hub.runtime import Runtime
from hub.settings import Settings


def socket_server(settings: Settings, bus: LocalBus | RedisBus) -> socketio.AsyncServer:
    """The Socket.IO server, its fan-out through `bus`; it refuses consoles until `Realtime` serves it."""
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=bus,
        cors_allowed_origins=settings.cors_origins or [],
        ping_interval=settings.ping_interval_s,
        ping_timeout=settings.ping_timeout_s,
        json=fastjson if settings.fast_json else None,
        logger=False,
        engineio_logger=False,
    )
    sio.on("connect", refuse_while_starting)
    return sio


class Realtime:
    """Serves `sio` from the runtime's stores; `became_available(company_id)` is the domain's reaction
    to a member becoming available (assignment drains the queue)."""

    def __init__(
        self,
        settings: Settings,
        sio: socketio.AsyncServer,
        bus: Bus,
        runtime: Runtime,
        became_available: Callable[[str], Coroutine[Any, Any, None]],
    ) -> None:
        self.sio = sio
        self.bus = bus
        consoles: dict[str, Console] = {}  # this process's consoles by sid; delivery adds and removes them
        self.wallboards = WallboardFeed(settings, sio, consoles, runtime.wallboards)
        self.ephemeral = Ephemeral(
            settings, sio, consoles, runtime.threads, runtime.presence, runtime.spawn, became_available
        )
        self.delivery = Delivery(
            settings,
            sio,
            runtime.event_log,
            consoles,
            synced=self.wallboards.synced,
            for_wallboards=self.wallboards.touched,
            lost_thread=self.ephemeral.lost_thread,
        )
        self.connections = Connections(
            sio,
            self.delivery,
            self.ephemeral,
            runtime.jwt_secret,
            runtime.directory.admit,
            runtime.wallboards.valid,
        )
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Listen to the bus, start the loops, then admit consoles."""
        self.bus.listen(self.delivery.offer, self.delivery.catchup_now.set)
        # Subscribe to the bus now rather than at the first console (python-socketio's lazy default),
        # so a process is listening before it serves anyone.
        if not self.sio.manager_initialized:
            self.sio.manager_initialized = True
            self.sio.manager.initialize()
        self._tasks = [*self.delivery.tasks(), *self.ephemeral.tasks(), *self.wallboards.tasks()]
        self.sio.on("disconnect", self.connections.disconnect)
        self.sio.on("presence.set", self.ephemeral.presence_set)
        self.sio.on("typing", self.ephemeral.typing)
        self.sio.on("thread.viewing", self.ephemeral.viewing)
        self.sio.on("connect", self.connections.connect)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        self.delivery.stop()
        await self.connections.close_all()
