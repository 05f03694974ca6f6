"""One connected console and the two checks it applies to every stored event: admitted by the
event's audience, and permitted by what earlier events did to its connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub.auth import Principal
from hub.presence import Status
from schemas.directory import Role


@dataclass(eq=False)
class Console:
    """One connected console (a Socket.IO session) of one member, or of one wall display."""

    sid: str
    member_id: str  # a wall display goes by `schemas.events.wallboard_key(token id)`
    company_id: str
    role: Role
    connected_at: float
    last_sent: int = 0
    syncing: bool = True
    buffer: list[dict[str, Any]] = field(default_factory=list)
    revoked: set[str] = field(default_factory=set)  # threads an event's `revokes` took from this console
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
        return self.member_id in audience.get("members", ()) or self.role in audience.get("roles", ())

    def permits(self, message: dict[str, Any]) -> bool:
        """The last check before sending, in seq order: once an event revoked a thread from this member,
        nothing more of that thread reaches this console by name until an event restores it."""
        audience = message["audience"]
        thread_id = audience.get("thread_id")
        if thread_id is None or self.is_wallboard or self.role in audience.get("roles", ()):
            return True
        if self.loses_thread(message):
            self.revoked.add(thread_id)
            return True
        if self.member_id in audience.get("restores", ()):
            self.revoked.discard(thread_id)
            return True
        return thread_id not in self.revoked

    def loses_thread(self, message: dict[str, Any]) -> bool:
        """This event takes its thread from this console's member (`revokes`; a role that sees every
        thread keeps it)."""
        audience = message["audience"]
        return (
            audience.get("thread_id") is not None
            and not self.is_wallboard
            and self.role not in audience.get("roles", ())
            and self.member_id in audience.get("revokes", ())
        )

    def closes(self, message: dict[str, Any]) -> bool:
        """This event ends this console's connection (its member was removed, its display revoked)."""
        return self.member_id in message["audience"].get("disconnects", ())
