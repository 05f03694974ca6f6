"""Time-driven work of the hub (DESIGN section 8). Every job is a conditional update, safe in several processes."""
from __future__ import annotations

import asyncio
import logging

from hub.events import retention_cutoff
from hub.runtime import Runtime

log = logging.getLogger(__name__)


async def prune_event_log(runtime: Runtime) -> int:
    """Drop events older than the retention period; consoles behind that get sync.reset."""
    removed = await runtime.event_log.prune(retention_cutoff(runtime.clock, runtime.settings.event_retention_s))
    if removed:
        log.info("pruned event log", extra={"removed": removed})
    return removed


async def run(runtime: Runtime, interval_s: float = 600.0) -> None:
    while True:
        try:
            await prune_event_log(runtime)
        except Exception:
            log.exception("scheduled job failed; will retry")
        await asyncio.sleep(interval_s)
