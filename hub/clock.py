"""The hub's one time source, injected everywhere so tests can control time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def iso_z(when: datetime) -> str:
    """UTC time as the envelope shows it: 2026-11-26T03:30:00.123Z."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


class OffsetClock:
    """System time shifted by the number of seconds written in a file (for tests and staging drills).

    Enabled with HUB_CLOCK_OFFSET_FILE; the file is re-read when it changes, so a test moves the
    hub's time forward without restarting it. Never set in production.
    """

    def __init__(self, path: str) -> None:
        self._path = path
        self._mtime: float | None = None
        self._offset = 0.0

    def now(self) -> datetime:
        import os
        from datetime import timedelta

        try:
            mtime = os.stat(self._path).st_mtime_ns
            if mtime != self._mtime:
                with open(self._path) as f:
                    self._offset = float(f.read().strip() or 0)
                self._mtime = mtime
        except (OSError, ValueError):
            self._offset = 0.0
        return datetime.now(UTC) + timedelta(seconds=self._offset)


def clock_from(offset_file: str | None) -> Clock:
    return OffsetClock(offset_file) if offset_file else SystemClock()
