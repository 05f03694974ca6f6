"""Wall displays' figures: a full snapshot after sync and every few seconds, and `wallboard.counters`
within a moment of an event that may have moved today's figures."""

from __future__ import annotations

import asyncio
import logging

import socketio

from hub.realtime import fanout
from hub.realtime.console import Console
from hub.settings import Settings
from hub.wallboard import Wallboards

log = logging.getLogger(__name__)

WALLBOARD_REFRESH_S = 0.4  # figures reach wallboards within a second of the call change that moves them


class WallboardFeed:
    def __init__(
        self, settings: Settings, sio: socketio.AsyncServer, consoles: dict[str, Console], wallboards: Wallboards
    ) -> None:
        self.settings = settings
        self.sio = sio
        self._consoles = consoles
        self._wallboards = wallboards
        self._refresh: dict[str, asyncio.Task] = {}  # company id -> its pending counters

    def tasks(self) -> list[asyncio.Task]:
        return [asyncio.create_task(self._snapshot_loop(), name="realtime-wallboards")]

    async def synced(self, console: Console) -> None:
        """A display that finished its sync starts from a full snapshot."""
        if console.is_wallboard:
            await self._send_snapshot(console.company_id, [console.sid])

    async def _send_snapshot(self, company_id: str, sids: list[str]) -> None:
        snapshot = await self._wallboards.snapshot(company_id)
        await fanout.send(self.sio, sids, "wallboard.snapshot", snapshot)

    def touched(self, company_id: str) -> None:
        """An event for wallboards may have moved today's figures: `wallboard.counters` within a moment,
        one for all the events of that moment (the full snapshot still comes every few seconds)."""
        if company_id in self._refresh:
            return

        async def refresh() -> None:
            try:
                await asyncio.sleep(WALLBOARD_REFRESH_S)
                sids = [
                    c.sid
                    for c in self._consoles.values()
                    if c.is_wallboard and c.company_id == company_id and not c.syncing
                ]
                if sids:
                    figures = await self._wallboards.figures(company_id)
                    await fanout.send(self.sio, sids, "wallboard.counters", figures)
            except Exception:
                log.exception("wallboard refresh failed", extra={"company_id": company_id})
            finally:
                self._refresh.pop(company_id, None)

        self._refresh[company_id] = asyncio.create_task(refresh())

    async def _snapshot_loop(self) -> None:
        """A full snapshot every few seconds heals a display that missed something."""
        while True:
            await asyncio.sleep(self.settings.wallboard_snapshot_s)
            by_company: dict[str, list[str]] = {}
            for console in self._consoles.values():
                if console.is_wallboard and not console.syncing:
                    by_company.setdefault(console.company_id, []).append(console.sid)
            for company_id, sids in by_company.items():
                try:
                    await self._send_snapshot(company_id, sids)
                except Exception:
                    log.exception("wallboard snapshot failed", extra={"company_id": company_id})
