"""Long jobs (imports, bulk sends, syncs): durable, one process at a time, never a row twice, live progress.

A job is a document in `jobs`; an import or a bulk send also has its rows in `job_rows`, staged first
(each with the problems found in it, shown in a preview, editable while staged) and worked once
confirmed. Every hub process runs `Jobs.run_forever`:

- it claims a queued job, or a running one whose lease expired (the process running it died), with one
  conditional update, and renews the lease while the job runs; a process that loses its lease (the job
  was cancelled, or the lease lapsed and another process took it) stops at the next batch;
- rows are given to the job's handler in order, only valid rows not yet done; a row marked done is never
  given again. A row given but not marked (the process died while working it) is given again after the
  lease lapses, so a handler makes each row's effect idempotent (a deterministic id per row);
- a sync without rows keeps its cursor in `state` through `JobRun.checkpoint`;
- every change of a job is published as `job.updated` to its creator and to owners and managers, at most
  about once a second while it runs (plus every change of status). A job whose change was stored but not
  published (Redis or MongoDB failed between the two) is published by the next runner tick.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub import faults, rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.clock import Clock
from hub.errors import Conflict, Forbidden, NotFound, Unprocessable
from hub.ids import new_id
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.directory import Role

log = logging.getLogger(__name__)

STAGED, QUEUED, RUNNING = "staged", "queued", "running"
COMPLETED, FAILED, CANCELLED = "completed", "failed", "cancelled"
ACTIVE = (QUEUED, RUNNING)
FINISHED = (COMPLETED, FAILED, CANCELLED)
STAGE_BATCH = 1000
PUBLISH_EVERY_S = 1.0
MAX_ATTEMPTS = 5  # a handler that keeps crashing (not JobFailed) fails its job after this many claims
RETRY_AFTER_S = 5.0  # a crashed attempt's job is claimed again after this long
PUBLIC_PARAMS = ("oa_id", "link_id", "filename", "name")  # the params a job's view shows

Problems = Callable[[dict[str, Any]], list[str]]
Handler = Callable[["JobRun"], Awaitable[None]]


class JobFailed(Exception):
    """Raised by a handler: the job fails with this message, shown to the user as it is."""


class JobDeferred(Exception):
    """Raised by a handler (through JobRun.defer): the job waits, queued, until `until` (quiet hours, a
    quota spent for the day), then goes on from the first row not done."""

    def __init__(self, until: datetime, notice: str) -> None:
        super().__init__(notice)
        self.until = until
        self.notice = notice


class JobLost(Exception):
    """The job was cancelled, or its lease lapsed and another process may run it: stop working."""


@dataclass
class Kind:
    handler: Handler
    check: Problems | None = None  # a row's problems, for a row edited in the preview
    # What confirming may choose, each with its check (value -> bool): nothing else of a job's params
    # (its creator's role, its template, a price) is the confirmer's to change.
    choices: dict[str, Callable[[Any], bool]] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()  # a row's data an edit may not change


def view(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": job["_id"],
        "kind": job["kind"],
        "status": job["status"],
        "params": {k: v for k, v in (job.get("params") or {}).items() if k in PUBLIC_PARAMS},
        "total": job.get("total"),
        "valid": job.get("valid"),
        "invalid": job.get("invalid"),
        "done": job.get("done", 0),
        "ok": job.get("ok", 0),
        "failed": job.get("failed", 0),
        "error": job.get("error"),
        "notice": job.get("notice"),
        "not_before": job.get("not_before"),
        "created_by": job.get("created_by"),
        "created_at": job.get("created_at"),
        "started_at": job.get("started_at"),
        "finished_at": job.get("finished_at"),
    }


def row_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "n": row["n"],
        "data": row.get("data") or {},
        "problems": row.get("problems") or [],
        "status": row.get("status"),
        "ok": row.get("ok"),
        "outcome": row.get("outcome"),
    }


def _audience(job: dict[str, Any]) -> Any:
    return rulebook.supervisors([job["created_by"]] if job.get("created_by") else [])


def _may_see(actor: Principal, job: dict[str, Any]) -> bool:
    return rulebook.may(actor.role, rulebook.Action.all_jobs) or job.get("created_by") == actor.member_id


class Jobs:
    def __init__(self, store: Store, clock: Clock, publisher: Publisher, lease_s: float = 15.0) -> None:
        self._jobs = store.jobs
        self._rows = store.job_rows
        self._members = store.members
        self._clock = clock
        self._publisher = publisher
        self._kinds: dict[str, Kind] = {}
        self._owner = secrets.token_hex(8)
        self.lease_s = lease_s
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task] = {}

    def register(
        self,
        kind: str,
        handler: Handler,
        check: Problems | None = None,
        choices: dict[str, Callable[[Any], bool]] | None = None,
        fixed: tuple[str, ...] = (),
    ) -> None:
        self._kinds[kind] = Kind(handler, check, choices or {}, fixed)

    # -- creating and staging ------------------------------------------------------------------------

    async def create(
        self,
        actor: Principal,
        kind: str,
        params: dict[str, Any],
        rows: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]] | None = None,
        problems: Problems | None = None,
        queued: bool = False,
        key: str | None = None,
    ) -> dict[str, Any]:
        """A new job. With `rows` it is staged: its rows are stored (a batch at a time) with their
        problems, for a preview, and it waits for `confirm`. Without, `queued=True` starts it at once.
        `key`: while a job with the same key is queued or running, creating another answers that one."""
        if kind not in self._kinds:
            raise NotFound(f"no job kind {kind!r}", "job_kind_not_found")
        change = current_change()
        job_id = change.step("job") if change else new_id()
        existing = await self._jobs.find_one({"_id": job_id})
        if existing is not None:
            return view(existing)
        check = problems or self._kinds[kind].check or (lambda data: [])
        total = valid = 0
        if rows is not None:
            batch: list[dict[str, Any]] = []
            async for data in _each(rows):
                found = check(data)
                batch.append(
                    {
                        "_id": f"{job_id}:{total:07d}",
                        "job_id": job_id,
                        "n": total,
                        "data": data,
                        "problems": found,
                        "valid": not found,
                        "status": "pending",
                    }
                )
                total += 1
                valid += not found
                if len(batch) >= STAGE_BATCH:
                    await self._insert_rows(batch)
                    batch = []
            await self._insert_rows(batch)
        now = self._clock.now()
        job = {
            "_id": job_id,
            "company_id": actor.company_id,
            "kind": kind,
            "status": QUEUED if queued or rows is None else STAGED,
            "params": params,
            "created_by": actor.member_id,
            "created_at": now,
            "updated_at": now,
            "total": total if rows is not None else None,
            "valid": valid if rows is not None else None,
            "invalid": total - valid if rows is not None else None,
            "done": 0,
            "ok": 0,
            "failed": 0,
            "error": None,
            "notice": None,
            "state": {},
            "lease_until": None,
            "lease_owner": None,
            "attempts": 0,
            "version": 1,
            "unpublished": True,
        }
        if key and job["status"] in ACTIVE:
            job["active_key"] = key
        try:
            await self._jobs.insert_one(job)
        except DuplicateKeyError:
            same = await self._jobs.find_one({"_id": job_id})
            if same is None and key:
                same = await self._jobs.find_one({"company_id": actor.company_id, "active_key": key})
            if same is None:
                raise
            return view(same)
        await self._announce(job)
        if job["status"] == QUEUED:
            self._wake.set()
        return view(job)

    async def _insert_rows(self, batch: list[dict[str, Any]]) -> None:
        if not batch:
            return
        try:
            await self._rows.insert_many(batch, ordered=False)
        except BulkWriteError as exc:  # a re-done staging: rows already stored stay as they were
            if any(e.get("code") != 11000 for e in exc.details.get("writeErrors", [])):
                raise

    async def _own(self, actor: Principal, job_id: str) -> dict[str, Any]:
        job = await self._jobs.find_one({"_id": job_id, "company_id": actor.company_id})
        if job is None or not _may_see(actor, job):
            raise NotFound("no such job", "job_not_found")
        return job

    async def get(self, actor: Principal, job_id: str) -> dict[str, Any]:
        return view(await self._own(actor, job_id))

    async def recent(self, actor: Principal, kind: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        query: dict[str, Any] = {"company_id": actor.company_id}
        if kind:
            query["kind"] = kind
        if not rulebook.may(actor.role, rulebook.Action.all_jobs):
            query["created_by"] = actor.member_id
        cursor = self._jobs.find(query).sort("created_at", DESCENDING).limit(min(max(limit, 1), 200))
        return [view(job) async for job in cursor]

    async def rows(
        self, actor: Principal, job_id: str, offset: int = 0, limit: int = 100, problems_only: bool = False
    ) -> list[dict[str, Any]]:
        await self._own(actor, job_id)
        query: dict[str, Any] = {"job_id": job_id, "status": {"$ne": "deleted"}}
        if problems_only:
            query["valid"] = False
        offset = min(max(offset, 0), 10_000_000)
        cursor = self._rows.find(query).sort("n", ASCENDING).skip(offset).limit(min(max(limit, 1), 1000))
        return [row_view(row) async for row in cursor]

    async def _staged(self, actor: Principal, job_id: str) -> dict[str, Any]:
        job = await self._own(actor, job_id)
        if job["status"] != STAGED:
            raise Conflict(f"the job is {job['status']}; only a job not yet confirmed can be edited", "job_not_staged")
        return job

    async def edit_row(self, actor: Principal, job_id: str, n: int, data: dict[str, Any]) -> dict[str, Any]:
        """Change a staged row; its problems are found again with the kind's check."""
        job = await self._staged(actor, job_id)
        kind = self._kinds.get(job["kind"])
        key = {"_id": f"{job_id}:{n:07d}", "status": "pending"}
        before = await self._rows.find_one(key) if 0 <= n < 10_000_000 else None
        if before is None:
            raise NotFound(f"no row {n} in this job", "job_row_not_found")
        # The edit's fields over the row's; what the kind keeps fixed (a campaign's template) stays the row's.
        fixed = kind.fixed if kind else ()
        merged = {**(before.get("data") or {}), **{k: v for k, v in data.items() if k not in fixed}}
        found = kind.check(merged) if kind and kind.check else []
        changed = await self._rows.update_one(key, {"$set": {"data": merged, "problems": found, "valid": not found}})
        if not changed.matched_count:
            raise NotFound(f"no row {n} in this job", "job_row_not_found")
        delta = int(not found) - int(before.get("valid", False))
        if delta:
            await self._jobs.update_one({"_id": job_id}, {"$inc": {"valid": delta, "invalid": -delta}})
        return {"n": n, "data": merged, "problems": found, "status": "pending", "ok": None, "outcome": None}

    async def _row_update(self, job_id: str, n: int, update: dict[str, Any]) -> dict[str, Any]:
        """A staged row as it was, changed by `update` — by its _id with a conditional update_one, never
        find_one_and_update (which scans the whole collection on the embedded server; README)."""
        key = {"_id": f"{job_id}:{n:07d}", "status": "pending"}
        before = await self._rows.find_one(key) if 0 <= n < 10_000_000 else None
        if before is None or not (await self._rows.update_one(key, update)).matched_count:
            raise NotFound(f"no row {n} in this job", "job_row_not_found")
        return before

    async def delete_row(self, actor: Principal, job_id: str, n: int) -> None:
        await self._staged(actor, job_id)
        before = await self._row_update(job_id, n, {"$set": {"status": "deleted"}})
        field_ = "valid" if before.get("valid") else "invalid"
        await self._jobs.update_one({"_id": job_id}, {"$inc": {"total": -1, field_: -1}})

    async def confirm(
        self, actor: Principal, job_id: str, params: dict[str, Any] | None = None, run_at: datetime | None = None
    ) -> dict[str, Any]:
        """Start a staged job (with `params` merged into its own, e.g. the OA picked in the preview), now or
        from `run_at` (a scheduled send)."""
        job = await self._own(actor, job_id)
        if job["status"] != STAGED:
            if job["status"] in (QUEUED, RUNNING, COMPLETED):
                return view(job)  # confirmed already (a retried click)
            raise Conflict(f"the job is {job['status']}", "job_not_staged")
        if not job.get("valid"):
            raise Unprocessable("no valid row to work: fix or delete the rows with problems first", "job_empty")
        changes: dict[str, Any] = {"status": QUEUED, "not_before": run_at}
        kind = self._kinds.get(job["kind"])
        choices = kind.choices if kind else {}
        for name, value in (params or {}).items():
            if name not in choices:
                allowed = ", ".join(sorted(choices)) or "none"
                raise Unprocessable(f"params: {name!r} is not chosen at confirm (allowed: {allowed})", "invalid_params")
            if not choices[name](value):
                raise Unprocessable(f"params: {name!r} has a value this job does not take", "invalid_params")
            changes[f"params.{name}"] = value
        queued = await self._change(job_id, {"status": STAGED}, changes)
        if queued is None:
            return view(await self._own(actor, job_id))
        self._wake.set()
        return view(queued)

    async def reschedule(self, actor: Principal, job_id: str, run_at: datetime | None) -> dict[str, Any]:
        """Move a confirmed job that has not started yet to `run_at`, or to now (None: "send now")."""
        job = await self._own(actor, job_id)
        if job.get("created_by") != actor.member_id and not rulebook.may(actor.role, rulebook.Action.all_jobs):
            raise Forbidden("only the job's creator, owners and managers change its time")
        moved = await self._change(
            job_id, {"status": QUEUED, "started_at": None}, {"not_before": run_at, "notice": None}
        )
        if moved is None:
            raise Conflict(f"the job is {job['status']}: only one not started yet can be moved", "job_started")
        self._wake.set()
        return view(moved)

    async def cancel(self, actor: Principal, job_id: str) -> dict[str, Any]:
        """Stop a job: a staged or queued one never starts; a running one stops after its current batch
        (rows already done stay done)."""
        job = await self._own(actor, job_id)
        if job["status"] in FINISHED:
            return view(job)
        if job.get("created_by") != actor.member_id and not rulebook.may(actor.role, rulebook.Action.all_jobs):
            raise Forbidden("only the job's creator, owners and managers cancel it")
        now = self._clock.now()
        done = await self._change(
            job_id,
            {"status": {"$in": [STAGED, *ACTIVE]}},
            {"status": CANCELLED, "finished_at": now, "lease_until": None, "lease_owner": None},
            unset_key=True,
        )
        return view(done or await self._own(actor, job_id))

    # -- storing a change and publishing it ------------------------------------------------------------

    async def _change(
        self,
        job_id: str,
        condition: dict[str, Any],
        changes: dict[str, Any],
        inc: dict[str, int] | None = None,
        unset_key: bool = False,
        publish: bool = True,
    ) -> dict[str, Any] | None:
        update: dict[str, Any] = {
            "$set": {**changes, "updated_at": self._clock.now(), "unpublished": True},
            "$inc": {"version": 1, **(inc or {})},
        }
        if unset_key:
            update["$unset"] = {"active_key": ""}
        # A conditional update_one, then the document by _id: never find_one_and_update (a whole-collection
        # scan on the embedded server). Nothing else changes a job between the two but this runner or a
        # request, and either re-publishes what it changed (`version` orders them).
        if not (await self._jobs.update_one({"_id": job_id, **condition}, update)).matched_count:
            return None
        job = await self._jobs.find_one({"_id": job_id})
        if job is not None and publish:
            await self._announce(job)
        return job

    async def _announce(self, job: dict[str, Any]) -> None:
        try:
            await faults.point("jobs.changed")
            await self._publisher.publish(job["company_id"], "job.updated", view(job), _audience(job))
        except Exception:
            log.warning("job change not published yet; the runner retries", extra={"job_id": job["_id"]})
            return
        await self._jobs.update_one({"_id": job["_id"], "version": job["version"]}, {"$unset": {"unpublished": ""}})

    async def publish_pending(self, older_than_s: float = 2 * PUBLISH_EVERY_S, limit: int = 100) -> int:
        """Jobs whose last change was stored but not published (a fault between the two)."""
        before = self._clock.now() - timedelta(seconds=older_than_s)
        cursor = self._jobs.find({"unpublished": True, "updated_at": {"$lt": before}}).limit(limit)
        count = 0
        async for job in cursor:
            await self._announce(job)
            count += 1
        return count

    # -- running ------------------------------------------------------------------------------------

    async def _claim(self) -> dict[str, Any] | None:
        """The oldest due job, taken with a conditional update_one on its _id (two processes may find the
        same one; only one update matches)."""
        now = self._clock.now()
        due = {
            "status": {"$in": list(ACTIVE)},
            "kind": {"$in": list(self._kinds)},
            "$and": [
                {"$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}]},
                {"$or": [{"not_before": None}, {"not_before": {"$lte": now}}]},  # scheduled, or deferred
            ],
        }
        candidates = await self._jobs.find(due, {"_id": 1}).sort("created_at", ASCENDING).limit(5).to_list(5)
        for candidate in candidates:
            taken = await self._jobs.update_one(
                {"_id": candidate["_id"], **due},
                {
                    "$set": {
                        "status": RUNNING,
                        "lease_until": now + timedelta(seconds=self.lease_s),
                        "lease_owner": self._owner,
                        "updated_at": now,
                        "unpublished": True,
                    },
                    "$inc": {"attempts": 1, "version": 1},
                },
            )
            if taken.matched_count:
                return await self._jobs.find_one({"_id": candidate["_id"]})
        return None

    async def run_due(self, concurrency: int = 2) -> int:
        """Claim and start jobs while fewer than `concurrency` run in this process; the number started."""
        for job_id, task in list(self._running.items()):
            if task.done():
                del self._running[job_id]
        started = 0
        while len(self._running) < concurrency:
            job = await self._claim()
            if job is None:
                break
            self._running[job["_id"]] = asyncio.create_task(self._run(job), name=f"job:{job['_id']}")
            started += 1
        return started

    async def run_forever(self, interval_s: float = 1.0) -> None:
        while True:
            try:
                await self.publish_pending()
                await self.run_due()
            except Exception:
                log.exception("job runner tick failed; will retry")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), interval_s)
            except TimeoutError:
                pass

    async def stop(self) -> None:
        for task in self._running.values():
            task.cancel()
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self._running.clear()

    async def _run(self, job: dict[str, Any]) -> None:
        """One attempt of a job, as a task of its own. Storage failing even while recording how the attempt
        ended is logged: the lease then lapses and the job is claimed again, going on from the first row
        not marked done."""
        try:
            await self._attempt(job)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception(
                "job attempt ended without its end recorded; its lease will lapse", extra={"job_id": job["_id"]}
            )

    async def _attempt(self, job: dict[str, Any]) -> None:
        if job.get("started_at") is None:
            job = await self._change(job["_id"], {"lease_owner": self._owner}, {"started_at": self._clock.now()}) or job
        else:  # resumed after a process died: the counts from the rows themselves
            job = await self._recount(job)
        run = JobRun(self, job)
        renewer = asyncio.create_task(self._renew(run))
        try:
            await self._kinds[job["kind"]].handler(run)
        except JobLost:
            log.info("job stopped: cancelled or taken over", extra={"job_id": job["_id"]})
            return
        except JobFailed as exc:
            await self._finish(run, FAILED, str(exc))
            return
        except JobDeferred as exc:
            changes, inc = run.take()
            await self._change(
                job["_id"],
                {"lease_owner": self._owner, "status": RUNNING},
                {**changes, "status": QUEUED, "not_before": exc.until, "notice": exc.notice,
                 "lease_until": None, "lease_owner": None},
                inc=inc,
            )  # fmt: skip
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("job attempt crashed", extra={"job_id": job["_id"]})
            crashes = job.get("crashes", 0) + 1  # claims after a deferral or a takeover are no crash
            if crashes >= MAX_ATTEMPTS:
                await self._finish(run, FAILED, f"stopped after {MAX_ATTEMPTS} attempts: {type(exc).__name__}: {exc}")
            else:  # claimed again after a pause, by this process or another
                retry_at = self._clock.now() + timedelta(seconds=RETRY_AFTER_S)
                await self._change(
                    job["_id"],
                    {"lease_owner": self._owner},
                    {
                        "lease_until": retry_at,
                        "lease_owner": None,
                        "notice": f"retrying after: {exc}",
                        "crashes": crashes,
                    },
                )
            return
        finally:
            renewer.cancel()
        if run.lost:
            return
        await self._finish(run, COMPLETED, None)

    async def _finish(self, run: JobRun, status: str, error: str | None) -> None:
        """The job's last change: its status with the progress not stored yet, published."""
        changes, inc = run.take()
        await self._change(
            run.job["_id"],
            {"lease_owner": self._owner, "status": RUNNING},
            {
                **changes,
                "status": status,
                "error": error,
                "finished_at": self._clock.now(),
                "lease_until": None,
                "lease_owner": None,
            },
            inc=inc,
            unset_key=True,
        )

    async def _renew(self, run: JobRun) -> None:
        while not run.lost:
            await asyncio.sleep(self.lease_s / 3)
            try:
                renewed = await self._jobs.update_one(
                    {"_id": run.job["_id"], "lease_owner": self._owner, "status": RUNNING},
                    {"$set": {"lease_until": self._clock.now() + timedelta(seconds=self.lease_s)}},
                )
            except Exception:
                log.warning("job lease not renewed; trying again", extra={"job_id": run.job["_id"]})
                continue
            if not renewed.matched_count:
                run.lost = True

    async def _recount(self, job: dict[str, Any]) -> dict[str, Any]:
        if job.get("total") is None:
            return job
        counts = {"done": 0, "ok": 0, "failed": 0}
        pipeline = [{"$match": {"job_id": job["_id"], "status": "done"}}, {"$group": {"_id": "$ok", "n": {"$sum": 1}}}]
        async for group in await self._rows.aggregate(pipeline):
            counts["done"] += group["n"]
            counts["ok" if group["_id"] else "failed"] += group["n"]
        return await self._change(job["_id"], {"lease_owner": self._owner}, counts, publish=False) or job

    # -- what handlers use (through JobRun) -----------------------------------------------------------------

    async def _pending_rows(self, job_id: str, after: int, size: int) -> list[dict[str, Any]]:
        cursor = (
            self._rows.find({"job_id": job_id, "valid": True, "status": "pending", "n": {"$gt": after}})
            .sort("n", ASCENDING)
            .limit(size)
        )
        return [row async for row in cursor]

    async def _mark_rows(self, job_id: str, results: list[tuple[int, dict[str, Any], bool]]) -> tuple[int, int]:
        """Mark rows done, a batch in one round trip per outcome kind (2.4 times cheaper per row than one
        update each on the embedded server); a row already done is not counted again."""
        counts = []
        for success in (True, False):
            ops = [
                UpdateOne(
                    {"_id": f"{job_id}:{n:07d}", "status": "pending"},
                    {"$set": {"status": "done", "ok": success, "outcome": outcome}},
                )
                for n, outcome, ok in results
                if ok is success
            ]
            counts.append((await self._rows.bulk_write(ops, ordered=False)).modified_count if ops else 0)
        return counts[0], counts[1]


@dataclass
class JobRun:
    """One process's run of one job, as its handler sees it."""

    jobs: Jobs
    job: dict[str, Any]
    lost: bool = False
    _changes: dict[str, Any] = field(default_factory=dict)
    _inc: dict[str, int] = field(default_factory=dict)
    _published_at: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return self.job.get("params") or {}

    @property
    def state(self) -> dict[str, Any]:
        return self.job.get("state") or {}

    def _check(self) -> None:
        if self.lost:
            raise JobLost(self.job["_id"])

    async def pending_rows(self, size: int = 500) -> AsyncIterator[list[dict[str, Any]]]:
        """The valid rows not yet done, in order, a batch at a time (each row: n, data)."""
        after = -1
        while True:
            await self.still_mine()
            batch = await self.jobs._pending_rows(self.job["_id"], after, size)
            if not batch:
                return
            after = batch[-1]["n"]
            yield [{"n": row["n"], "data": row["data"]} for row in batch]

    async def creator(self, action: rulebook.Action) -> Principal:
        """Who the job acts for, as they are now: a creator removed from the company, or whose role may no
        longer take `action` (demoted since they started it), fails the job instead of acting on their old
        rights."""
        job = self.job
        member = await self.jobs._members.find_one({"_id": job.get("created_by"), "company_id": job["company_id"]})
        if member is None:
            raise JobFailed("the member who started this was removed from the company; start it again as someone else")
        actor = Principal(member["_id"], job["company_id"], Role(member["role"]))
        if not rulebook.may(actor.role, action):
            raise JobFailed(
                f"the member who started this may no longer {action.value}; start it again as someone who may"
            )
        return actor

    def defer(self, until: datetime, notice: str) -> None:
        """Stop here and wait, queued, until `until` (raises; the runner keeps the progress so far)."""
        raise JobDeferred(until, notice)

    async def still_mine(self) -> None:
        """Raise JobLost when the job was cancelled or another process took it over (checked before each
        batch, so a cancel stops the job after the batch it is on)."""
        self._check()
        mine = await self.jobs._jobs.find_one(
            {"_id": self.job["_id"], "lease_owner": self.jobs._owner, "status": RUNNING}, {"_id": 1}
        )
        if mine is None:
            self.lost = True
            raise JobLost(self.job["_id"])

    async def rows_done(self, results: list[tuple[int, dict[str, Any], bool]]) -> None:
        """Mark rows done, each with its outcome and whether it succeeded; a done row is never given again."""
        self._check()
        ok, failed = await self.jobs._mark_rows(self.job["_id"], results)
        for name, value in (("done", ok + failed), ("ok", ok), ("failed", failed)):
            if value:
                self._inc[name] = self._inc.get(name, 0) + value
        await self.flush()

    async def checkpoint(self, state: dict[str, Any] | None = None, **fields: Any) -> None:
        """Keep a sync's cursor (`state`) and progress fields (total, done, ok, failed, notice) — stored at
        once, published at most about once a second."""
        self._check()
        if state is not None:
            self._changes["state"] = state
        self._changes.update(fields)
        await self.flush(store_now=True)

    def take(self) -> tuple[dict[str, Any], dict[str, int]]:
        """The progress not stored yet (the job's last change stores it)."""
        changes, inc = self._changes, self._inc
        self._changes, self._inc = {}, {}
        return changes, inc

    async def flush(self, store_now: bool = False) -> None:
        """Store the progress, and publish it when the last publication is a second old."""
        loop = asyncio.get_running_loop()
        due = loop.time() - self._published_at >= PUBLISH_EVERY_S
        if not (due or store_now) or not (self._changes or self._inc):
            return
        changes, inc = self.take()
        job = await self.jobs._change(
            self.job["_id"], {"lease_owner": self.jobs._owner, "status": RUNNING}, changes, inc=inc, publish=due
        )
        if job is None:
            self.lost = True
            raise JobLost(self.job["_id"])
        self.job = job
        if due:
            self._published_at = loop.time()


async def _each(rows: Iterable[dict[str, Any]] | AsyncIterable[dict[str, Any]]) -> AsyncIterator[dict[str, Any]]:
    if isinstance(rows, AsyncIterable):
        async for row in rows:
            yield row
    else:
        for row in rows:
            yield row
