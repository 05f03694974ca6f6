"""Time-driven work of the hub (DESIGN section 8). Every job is a conditional update, safe in several processes."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from hub.realtime.publish import retention_cutoff
from hub.runtime import Runtime

log = logging.getLogger(__name__)


async def prune_event_log(runtime: Runtime) -> int:
    """Drop events older than the retention period (consoles behind that get sync.reset), and the
    journal of REST requests applied before it."""
    cutoff = retention_cutoff(runtime.clock, runtime.settings.event_retention_s)
    await runtime.inbox.prune_requests(cutoff)
    removed = await runtime.event_log.prune(cutoff)
    if removed:
        log.info("pruned event log", extra={"removed": removed})
    return removed


async def prune_audit(runtime: Runtime) -> int:
    """Drop audit entries older than HUB_AUDIT_RETENTION_DAYS."""
    removed = await runtime.audit.prune(retention_cutoff(runtime.clock, runtime.settings.audit_retention_s))
    if removed:
        log.info("pruned audit log", extra={"removed": removed})
    return removed


async def finish_pending(runtime: Runtime) -> int:
    """Time-driven moves whose events a failure left unpublished are published now (hub.changes)."""
    before = runtime.clock.now() - timedelta(seconds=runtime.settings.inbox_redo_after_s)
    return sum(
        [
            await runtime.threads.finish_pending(before),
            await runtime.consents.finish_pending(before),
            await runtime.calls.finish_pending(before),
            await runtime.oa_links.finish_pending(before),
            await runtime.telephony.finish_pending(before),
            await runtime.wallboards.finish_pending(before),
            await runtime.journeys.finish_pending(before),
        ]
    )


PRUNE_EVERY_S = 600.0


async def run(runtime: Runtime) -> None:
    """Every HUB_SCHEDULER_INTERVAL_S: webhooks left half-applied (hub.inbox), reply windows and consents moved by time, queued threads,
    OA refresh tokens near lapsing;
    every 10 min: pruning (the event log, the audit log, expired login-failure counts)."""
    last_prune = 0.0
    loop = asyncio.get_running_loop()
    while True:
        # Queued threads are also offered when someone becomes available; this is the safety net.
        jobs = [
            runtime.inbox.sweep,
            lambda: finish_pending(runtime),
            runtime.threads.expire_windows,
            runtime.consents.expire_due,
            runtime.assignment.drain_all,
            runtime.oa_links.notice_refresh_due,
            runtime.journeys.expire_due,
        ]
        if loop.time() - last_prune >= PRUNE_EVERY_S:
            jobs += [
                lambda: prune_event_log(runtime),
                lambda: prune_audit(runtime),
                runtime.directory.forget_old_login_failures,
            ]
            last_prune = loop.time()
        for job in jobs:
            try:
                await job()
            except Exception:
                log.exception("scheduled job failed; will retry")
        await asyncio.sleep(runtime.settings.scheduler_interval_s)


async def finalize_calls(runtime: Runtime) -> None:
    """Ended calls become final (missed or not, one alert) soon after they end: a fast loop of its own."""
    while True:
        try:
            await runtime.calls.finalize_due()
        except Exception:
            log.exception("finalizing calls failed; will retry")
        await asyncio.sleep(runtime.settings.call_finalize_interval_s)
