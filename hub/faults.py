"""Failpoints for tests: make the hub fail at a named point between two writes, as a lost connection would.

Off unless HUB_FAILPOINTS_FILE is set (tests only). The file holds JSON `{"<point>": <times>}`;
each pass through an armed point spends one time and raises pymongo's AutoReconnect, which the
hub answers like any storage outage (503). `{"<point>": {"times": n, "error": "internal"}}` raises
an unexpected error instead (500). Nothing is read when the setting is unset.
"""

from __future__ import annotations

import json
from pathlib import Path

from pymongo.errors import AutoReconnect

_file: Path | None = None


def configure(path: str | None) -> None:
    global _file
    _file = Path(path) if path else None


async def point(name: str) -> None:
    if _file is None:
        return
    try:
        armed = json.loads(_file.read_text() or "{}")
    except (OSError, ValueError):
        return
    spec = armed.get(name)
    if isinstance(spec, int):
        spec = {"times": spec}
    if not spec or spec.get("times", 0) <= 0:
        return
    spec["times"] -= 1
    armed[name] = spec
    _file.write_text(json.dumps(armed))
    if spec.get("error") == "internal":
        raise RuntimeError(f"failpoint {name}")
    raise AutoReconnect(f"failpoint {name}")
