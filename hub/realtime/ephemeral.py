"""Ephemeral signals: typing, who is viewing a thread, and presence. Never sequenced, never replayed.

They travel through Socket.IO rooms (a member's own room, the owners' and the supervisors' rooms of
a company), which carry nothing else: stored events go console by console through delivery.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import socketio

from hub import rulebook
from hub.chat import Spawn
from hub.presence import Presence, Status
from hub.realtime.console import Console
from hub.settings import Settings
from hub.threads import Threads

log = logging.getLogger(__name__)

BecameAvailable = Callable[[str], Coroutine[Any, Any, None]]


def member_room(member_id: str) -> str:
    return f"member:{member_id}"


def owners_room(company_id: str) -> str:
    return f"owners:{company_id}"


def supervisors_room(company_id: str) -> str:
    return f"supervisors:{company_id}"


def rooms_of(console: Console) -> list[str]:
    """A member's own room, and the company rooms its role receives signals in (hub.rulebook)."""
    rooms = [member_room(console.member_id)]
    if rulebook.receives(console.role, rulebook.Receivers.supervisors):
        rooms.append(supervisors_room(console.company_id))
    if rulebook.receives(console.role, rulebook.Receivers.thread_overseers):
        rooms.append(owners_room(console.company_id))
    return rooms


class Ephemeral:
    """Typing, viewing and presence for this process's consoles (`consoles` is delivery's registry)."""

    def __init__(
        self,
        settings: Settings,
        sio: socketio.AsyncServer,
        consoles: dict[str, Console],
        threads: Threads,
        presence: Presence,
        spawn: Spawn,
        became_available: BecameAvailable,
    ) -> None:
        self.settings = settings
        self.sio = sio
        self._consoles = consoles
        self._threads = threads
        self._presence = presence
        self._spawn = spawn
        self._became_available = became_available  # the domain's reaction (assignment drains the queue)

    def tasks(self) -> list[asyncio.Task]:
        return [asyncio.create_task(self._presence_loop(), name="realtime-presence")]

    async def joined(self, console: Console) -> None:
        for room in rooms_of(console):
            await self.sio.enter_room(console.sid, room)
        await self._presence_changed(
            console, *await self._presence.set(console.company_id, console.member_id, console.sid, console.status)
        )

    async def left(self, console: Console) -> None:
        if console.viewing:
            await self._announce(
                console,
                console.viewing,
                "thread.viewing",
                {"thread_id": console.viewing, "member_id": console.member_id, "viewing": False},
            )
        try:
            await self._presence_changed(
                console, *await self._presence.leave(console.company_id, console.member_id, console.sid)
            )
        except Exception:
            log.exception("presence update failed on disconnect; the entry will expire")

    async def _presence_changed(self, console: Console, before: Status, after: Status) -> None:
        if before is after:
            return
        await self.sio.emit(
            "presence.updated",
            {"member_id": console.member_id, "status": after.value},
            room=supervisors_room(console.company_id),
        )
        if after is Status.available:
            self._spawn(self._became_available(console.company_id))

    async def presence_set(self, sid: str, data: Any) -> dict[str, Any]:
        console = self._consoles.get(sid)
        status = (data or {}).get("status") if isinstance(data, dict) else None
        if console is None or console.is_wallboard:
            return {"ok": False, "error": "a wallboard has no presence"}
        if status not in (Status.available.value, Status.away.value):
            return {"ok": False, "error": "status must be available or away"}
        console.status = Status(status)
        await self._presence_changed(
            console, *await self._presence.set(console.company_id, console.member_id, sid, console.status)
        )
        return {"ok": True, "status": status}

    async def _announce(self, console: Console, thread_id: str, event: str, data: dict[str, Any]) -> bool:
        """Send an ephemeral event about a thread to the other consoles entitled to it."""
        thread = await self._threads.get(thread_id)
        if thread is None or thread["company_id"] != console.company_id:
            return False
        if not rulebook.may_see_thread(console.principal, thread):
            return False
        await self._to_thread(thread, event, data, skip=[console.sid])
        return True

    async def _to_thread(self, thread: dict[str, Any], event: str, data: dict[str, Any], skip: list[str]) -> None:
        rooms = [owners_room(thread["company_id"])]
        if thread.get("assignee_id"):
            rooms.append(member_room(thread["assignee_id"]))
        await self.sio.emit(event, data, to=rooms, skip_sid=skip)

    def lost_thread(self, thread_id: str, consoles: list[Console]) -> None:
        """Delivery sent these consoles an event that took `thread_id` from their member. Those that had
        it open no longer view it, and the thread's other consoles are told so by the hub, whatever the
        console itself does next (it may no longer speak about a thread it cannot see)."""
        viewers = [c for c in consoles if c.viewing == thread_id]
        for console in viewers:
            console.viewing = None
        for member_id in dict.fromkeys(c.member_id for c in viewers):
            skip = [c.sid for c in viewers if c.member_id == member_id]
            self._spawn(self._stopped_viewing(viewers[0].company_id, thread_id, member_id, skip))

    async def _stopped_viewing(self, company_id: str, thread_id: str, member_id: str, skip: list[str]) -> None:
        thread = await self._threads.get(thread_id)
        if thread is None or thread["company_id"] != company_id:
            return
        data = {"thread_id": thread_id, "member_id": member_id, "viewing": False}
        await self._to_thread(thread, "thread.viewing", data, skip=skip)

    async def typing(self, sid: str, data: Any) -> dict[str, Any]:
        console = self._consoles.get(sid)
        thread_id = data.get("thread_id") if isinstance(data, dict) else None
        if console is None or not isinstance(thread_id, str):
            return {"ok": False}
        ok = await self._announce(
            console, thread_id, "typing", {"thread_id": thread_id, "member_id": console.member_id}
        )
        return {"ok": ok}

    async def viewing(self, sid: str, data: Any) -> dict[str, Any]:
        console = self._consoles.get(sid)
        thread_id = data.get("thread_id") if isinstance(data, dict) else None
        viewing = bool(data.get("viewing", True)) if isinstance(data, dict) else False
        if console is None or not isinstance(thread_id, str):
            return {"ok": False}
        ok = await self._announce(
            console,
            thread_id,
            "thread.viewing",
            {"thread_id": thread_id, "member_id": console.member_id, "viewing": viewing},
        )
        if ok:
            console.viewing = thread_id if viewing else None
        return {"ok": ok}

    async def _presence_loop(self) -> None:
        """Keep this process's consoles alive in the shared presence table; sweep out the dead ones."""
        while True:
            await asyncio.sleep(self.settings.presence_heartbeat_s)
            try:
                await self._presence.heartbeat(
                    [
                        (c.company_id, c.member_id, c.sid, c.status)
                        for c in self._consoles.values()
                        if not c.is_wallboard
                    ]
                )
                for company_id, member_id, status in await self._presence.sweep():
                    await self.sio.emit(
                        "presence.updated",
                        {"member_id": member_id, "status": status.value},
                        room=supervisors_room(company_id),
                    )
            except Exception:
                log.exception("presence heartbeat failed; retrying")
