"""The long-job runner (hub.jobs) on the embedded server: staged rows and their preview, each row worked
once, one runner at a time, a dead runner's job resumed by another, cancel, failure, live progress, and
a change stored but not published (a fault between the two) published by the next tick.

Two `Jobs` on one database stand for two hub processes; a runner "dies" when its task is cancelled
without giving its lease back, as a killed process leaves it."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from hub import faults
from hub.auth import Principal
from hub.errors import Conflict, NotFound, Unprocessable
from hub.jobs import JobFailed, JobRun, Jobs
from hub.runtime import Runtime
from schemas.directory import Role
from schemas.jobs import Job
from tests.conftest import runtime_of

LEASE_S = 0.6


def check(data: dict[str, Any]) -> list[str]:
    return [] if str(data.get("phone", "")).isdigit() else ["bad phone"]


@pytest_asyncio.fixture
async def rt(mongo_uri: str) -> AsyncIterator[Runtime]:
    async with runtime_of(mongo_uri, "jobs_runner") as runtime:
        await runtime.store.jobs.delete_many({})
        await runtime.store.job_rows.delete_many({})
        yield runtime


def runner(rt: Runtime, handler, lease_s: float = LEASE_S) -> Jobs:
    jobs = Jobs(rt.store, rt.clock, rt.publisher, lease_s)
    jobs.register("test.rows", handler, check, choices={"oa_id": lambda value: isinstance(value, str)})
    return jobs


OWNER = Principal("owner-1", "co-jobs", Role.owner)
USER = Principal("user-1", "co-jobs", Role.user)
OTHER_USER = Principal("user-2", "co-jobs", Role.user)


async def finished(jobs: Jobs, job_id: str, actor: Principal = OWNER, timeout: float = 30) -> dict[str, Any]:
    async def wait() -> dict[str, Any]:
        while True:
            await jobs.run_due()
            job = await jobs.get(actor, job_id)
            if job["status"] in ("completed", "failed", "cancelled"):
                return job
            await asyncio.sleep(0.05)

    return await asyncio.wait_for(wait(), timeout)


async def job_events(rt: Runtime, job_id: str) -> list[dict[str, Any]]:
    cursor = rt.store.events.find({"company_id": "co-jobs", "type": "job.updated", "data.id": job_id}).sort("seq", 1)
    return [event async for event in cursor]


async def test_a_staged_job_shows_each_rows_problems_can_be_fixed_and_works_each_valid_row_once(rt) -> None:
    worked: Counter[int] = Counter()

    async def handler(run: JobRun) -> None:
        async for batch in run.pending_rows(7):
            for row in batch:
                worked[row["n"]] += 1
            await run.rows_done([(row["n"], {"saved": row["data"]["phone"]}, True) for row in batch])

    jobs = runner(rt, handler)
    rows = [{"name": f"c{n}", "phone": "x" if n in (3, 8) else str(9000 + n)} for n in range(30)]
    job = await jobs.create(USER, "test.rows", {"filename": "list.csv"}, rows=iter(rows))
    assert (job["status"], job["total"], job["valid"], job["invalid"]) == ("staged", 30, 28, 2)
    Job.model_validate(job)

    bad = await jobs.rows(USER, job["id"], problems_only=True)
    assert [(row["n"], row["problems"]) for row in bad] == [(3, ["bad phone"]), (8, ["bad phone"])]
    fixed = await jobs.edit_row(USER, job["id"], 3, {"name": "c3", "phone": "9003"})
    assert fixed["problems"] == []
    await jobs.delete_row(USER, job["id"], 8)
    job = await jobs.get(USER, job["id"])
    assert (job["total"], job["valid"], job["invalid"]) == (29, 29, 0)
    with pytest.raises(NotFound):  # another user does not see it
        await jobs.get(OTHER_USER, job["id"])
    assert [j["id"] for j in await jobs.recent(OWNER, "test.rows")] == [job["id"]]  # owners see every job

    for refused in ({"role": "owner"}, {"oa_id": 5}):  # only what the kind lets the confirmer choose
        with pytest.raises(Unprocessable):
            await jobs.confirm(USER, job["id"], refused)
    await jobs.confirm(USER, job["id"], {"oa_id": "oa-1"})
    done = await finished(jobs, job["id"], USER)
    assert (done["status"], done["done"], done["ok"], done["failed"]) == ("completed", 29, 29, 0)
    assert done["params"] == {"filename": "list.csv", "oa_id": "oa-1"}
    assert sorted(worked) == [n for n in range(30) if n != 8] and set(worked.values()) == {1}
    outcomes = {row["n"]: row["outcome"] for row in await jobs.rows(USER, job["id"], limit=100)}
    assert outcomes[3] == {"saved": "9003"} and 8 not in outcomes
    with pytest.raises(Conflict):  # a confirmed job's rows are what was worked
        await jobs.edit_row(USER, job["id"], 4, {"phone": "1"})

    events = await job_events(rt, job["id"])
    statuses = [event["data"]["status"] for event in events]
    assert statuses[0] == "staged" and statuses[-1] == "completed" and "queued" in statuses
    assert events[-1]["data"]["done"] == 29
    assert events[-1]["audience"] == {"members": ["user-1"], "roles": ["owner", "manager"]}


async def test_a_job_with_no_valid_row_is_not_started(rt) -> None:
    jobs = runner(rt, lambda run: asyncio.sleep(0))
    job = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": "bad"}])
    with pytest.raises(Unprocessable):
        await jobs.confirm(OWNER, job["id"])


async def test_a_dead_runners_job_is_resumed_by_another_and_no_done_row_is_worked_again(rt) -> None:
    """Runner A works 3 batches, then dies mid-batch (its lease is not given back). Runner B may not take
    the job while A's lease holds; once it lapses, B resumes: the rows A marked done are never given to B."""
    given: list[tuple[str, int]] = []
    a_stuck = asyncio.Event()

    def handler_of(name: str, die_after: int | None):
        async def handler(run: JobRun) -> None:
            batches = 0
            async for batch in run.pending_rows(10):
                given.extend((name, row["n"]) for row in batch)
                if die_after is not None and batches == die_after:
                    a_stuck.set()
                    await asyncio.Event().wait()  # hangs mid-batch until the process "dies"
                await run.rows_done([(row["n"], {}, True) for row in batch])
                batches += 1

        return handler

    a = runner(rt, handler_of("a", die_after=3), lease_s=LEASE_S)
    b = runner(rt, handler_of("b", die_after=None), lease_s=LEASE_S)
    job = await a.create(OWNER, "test.rows", {}, rows=[{"phone": str(n)} for n in range(100)])
    await a.confirm(OWNER, job["id"])
    assert await a.run_due() == 1
    await asyncio.wait_for(a_stuck.wait(), 30)
    assert await b.run_due() == 0  # A's lease holds: one process at a time
    await a.stop()  # the process dies; its lease lapses in LEASE_S

    done = await finished(b, job["id"])
    assert (done["status"], done["done"], done["ok"]) == ("completed", 100, 100)
    by_a = [n for who, n in given if who == "a"]
    by_b = [n for who, n in given if who == "b"]
    assert by_a == list(range(40))  # 3 batches done, the 4th given and never marked
    assert by_b == list(range(30, 100))  # B starts at A's unmarked batch, never before
    marks = await rt.store.job_rows.count_documents({"job_id": job["id"], "status": "done"})
    assert marks == 100


async def test_cancel_stops_a_running_job_after_its_batch_and_a_queued_one_never_starts(rt) -> None:
    second_batch = asyncio.Event()
    go_on = asyncio.Event()
    worked: list[int] = []

    async def handler(run: JobRun) -> None:
        async for batch in run.pending_rows(5):
            worked.extend(row["n"] for row in batch)
            if len(worked) == 10:
                second_batch.set()
                await go_on.wait()
            await run.rows_done([(row["n"], {}, True) for row in batch])

    jobs = runner(rt, handler)
    job = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": str(n)} for n in range(50)])
    await jobs.confirm(OWNER, job["id"])
    await jobs.run_due()
    await asyncio.wait_for(second_batch.wait(), 30)
    with pytest.raises(Exception):  # noqa: B017 — a user cannot cancel a job someone else started
        await jobs.cancel(OTHER_USER, job["id"])
    cancelled = await jobs.cancel(OWNER, job["id"])
    assert cancelled["status"] == "cancelled"
    go_on.set()
    await asyncio.wait_for(asyncio.gather(*jobs._running.values()), 30)
    assert worked == list(range(10))
    assert (await jobs.get(OWNER, job["id"]))["status"] == "cancelled"

    queued = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": "1"}])
    await jobs.confirm(OWNER, queued["id"])
    await jobs.cancel(OWNER, queued["id"])
    assert await jobs.run_due() == 0


async def test_a_sync_keeps_its_checkpoint_across_a_dead_runner_and_one_runs_per_key(rt) -> None:
    pages: list[tuple[str, int]] = []
    stuck = asyncio.Event()

    def handler_of(name: str, die_at: int | None):
        async def handler(run: JobRun) -> None:
            offset = run.state.get("offset", 0)
            while offset < 10:
                pages.append((name, offset))
                if offset == die_at:
                    stuck.set()
                    await asyncio.Event().wait()
                offset += 1
                await run.checkpoint(state={"offset": offset}, total=10, done=offset)

        return handler

    a = Jobs(rt.store, rt.clock, rt.publisher, LEASE_S)
    a.register("test.sync", handler_of("a", die_at=4))
    b = Jobs(rt.store, rt.clock, rt.publisher, LEASE_S)
    b.register("test.sync", handler_of("b", die_at=None))
    job = await a.create(OWNER, "test.sync", {"oa_id": "oa-1"}, queued=True, key="sync:oa-1")
    again = await b.create(OWNER, "test.sync", {"oa_id": "oa-1"}, queued=True, key="sync:oa-1")
    assert again["id"] == job["id"]  # one sync per OA while it is active
    await a.run_due()
    await asyncio.wait_for(stuck.wait(), 30)
    await a.stop()
    done = await finished(b, job["id"])
    assert (done["status"], done["total"], done["done"]) == ("completed", 10, 10)
    assert pages == [("a", n) for n in range(5)] + [("b", n) for n in range(4, 10)]
    later = await b.create(OWNER, "test.sync", {"oa_id": "oa-1"}, queued=True, key="sync:oa-1")
    assert later["id"] != job["id"]  # the key is free once the job finished


async def test_a_handler_that_fails_shows_its_reason(rt) -> None:
    async def handler(run: JobRun) -> None:
        raise JobFailed("Zalo refused the OA's token: relink the OA")

    jobs = runner(rt, handler)
    job = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": "1"}])
    await jobs.confirm(OWNER, job["id"])
    done = await finished(jobs, job["id"])
    assert (done["status"], done["error"]) == ("failed", "Zalo refused the OA's token: relink the OA")


async def test_a_change_stored_but_not_published_is_published_by_the_next_tick(rt, tmp_path: Path) -> None:
    armed = tmp_path / "failpoints.json"
    armed.write_text(json.dumps({"jobs.changed": 1}))
    faults.configure(str(armed))
    try:
        jobs = runner(rt, lambda run: asyncio.sleep(0))
        job = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": "1"}])  # its publication fails
        assert await job_events(rt, job["id"]) == []
        assert await rt.store.jobs.count_documents({"_id": job["id"], "unpublished": True}) == 1
        assert await jobs.publish_pending(older_than_s=0) == 1
        events = await job_events(rt, job["id"])
        assert [event["data"]["status"] for event in events] == ["staged"]
        assert await rt.store.jobs.count_documents({"_id": job["id"], "unpublished": True}) == 0
    finally:
        faults.configure(None)


async def test_the_rest_api_lists_a_members_jobs_and_refuses_anothers(company, runtime) -> None:
    user = await company.add("user")
    jobs = runtime.jobs
    jobs.register("test.rows", lambda run: asyncio.sleep(0), check)  # staged only: no hub process runs it
    mine = await jobs.create(Principal(user.id, company.id, Role.user), "test.rows", {}, rows=[{"phone": "x"}])
    listed = await company.http.get(f"{company.url}/api/jobs", headers=user.auth)
    assert [job["id"] for job in listed.json()["jobs"]] == [mine["id"]]
    rows = await company.http.get(f"{company.url}/api/jobs/{mine['id']}/rows?problems=true", headers=user.auth)
    assert rows.json()["rows"][0]["problems"] == ["bad phone"]
    other = await company.add("user")
    refused = await company.http.get(f"{company.url}/api/jobs/{mine['id']}", headers=other.auth)
    assert refused.status_code == 404
    empty = await company.http.post(f"{company.url}/api/jobs/{mine['id']}/confirm", headers=user.auth, json={})
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "job_empty")
    owner_view = await company.http.get(f"{company.url}/api/jobs/{mine['id']}", headers=company.owner.auth)
    assert owner_view.json()["job"]["status"] == "staged"


async def test_a_scheduled_job_waits_for_its_time_can_be_moved_and_a_deferred_one_resumes(rt) -> None:
    worked: list[int] = []
    deferred = False

    async def handler(run: JobRun) -> None:
        nonlocal deferred
        async for batch in run.pending_rows(2):
            if worked and not deferred:  # quiet hours, say: wait a moment, then go on from here
                deferred = True
                run.defer(rt.clock.now() + timedelta(seconds=0.3), "paused for quiet hours")
            worked.extend(row["n"] for row in batch)
            await run.rows_done([(row["n"], {}, True) for row in batch])

    jobs = runner(rt, handler)
    job = await jobs.create(OWNER, "test.rows", {}, rows=[{"phone": str(n)} for n in range(6)])
    later = rt.clock.now() + timedelta(hours=1)
    scheduled = await jobs.confirm(OWNER, job["id"], run_at=later)
    assert scheduled["status"] == "queued" and abs(scheduled["not_before"] - later) < timedelta(milliseconds=1)
    assert await jobs.run_due() == 0, "not before its time"
    moved = await jobs.reschedule(OWNER, job["id"], None)  # "send now"
    assert moved["not_before"] is None
    assert await jobs.run_due() == 1

    async def paused() -> dict[str, Any]:
        while (current := await jobs.get(OWNER, job["id"]))["notice"] != "paused for quiet hours":
            await asyncio.sleep(0.02)
        return current

    waiting = await asyncio.wait_for(paused(), 30)
    assert waiting["status"] in ("queued", "running") and waiting["done"] == 2
    done = await finished(jobs, job["id"])
    assert (done["status"], done["done"]) == ("completed", 6)
    assert worked == [0, 1, 2, 3, 4, 5], "the deferred job went on from the first row not done"
    with pytest.raises(Conflict):  # a started job keeps its time
        await jobs.reschedule(OWNER, job["id"], None)
