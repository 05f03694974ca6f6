"""Whether the next consultation reply to a Zalo user is free, charged or blocked (reference section 4).

Free within 48 h of the user's last interaction (unless Zalo said the free replies are used up),
charged up to 7 days, blocked after. Plain functions over plain data: the scheduler and the send
path both call `window`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FREE_FOR = timedelta(hours=48)
ALLOWED_FOR = timedelta(days=7)


class WindowState(StrEnum):
    free = "free"
    charged = "charged"
    blocked = "blocked"


@dataclass(frozen=True)
class ReplyWindow:
    state: WindowState
    until: datetime | None  # when the state changes by time alone; None once blocked

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state.value, "until": self.until}


def window(last_interaction: datetime | None, now: datetime, free_remaining: int | None = None) -> ReplyWindow:
    """`free_remaining` is Zalo's count of free replies left in this window when known (None: unknown)."""
    if last_interaction is None:
        return ReplyWindow(WindowState.blocked, None)
    if now < last_interaction + FREE_FOR and free_remaining != 0:
        return ReplyWindow(WindowState.free, last_interaction + FREE_FOR)
    if now < last_interaction + ALLOWED_FOR:
        return ReplyWindow(WindowState.charged, last_interaction + ALLOWED_FOR)
    return ReplyWindow(WindowState.blocked, None)
