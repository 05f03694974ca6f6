"""Per-company ordering: a process's in-order view of one company's events (pure, no I/O).

Events arrive from the bus in any order; a stream releases them strictly by seq. One that arrives
ahead of a missing seq waits; `missing()` names the gap for delivery to read from the log, and
`skip_to` gives up on seqs that were never committed (a late one still goes out, marked `late`).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.realtime.console import Console

RECENT = 2000  # released events a stream keeps for consoles that reconnect soon


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
    recent: deque = field(default_factory=lambda: deque(maxlen=RECENT))
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
