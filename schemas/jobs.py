"""Long jobs (hub.jobs) as the REST API and the job.updated event give them, and their staged rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

JobStatus = Literal["staged", "queued", "running", "completed", "failed", "cancelled"]


class Job(BaseModel):
    """An import, a bulk send or a sync: `total`/`valid`/`invalid` count its staged rows (None for a sync
    until it knows its size), `done` = `ok` + `failed` the rows worked; `error` why it failed, `notice` what
    it is waiting for (a rate limit, a retry)."""

    id: str
    kind: str
    status: JobStatus
    params: dict[str, Any]
    total: int | None
    valid: int | None
    invalid: int | None
    done: int
    ok: int
    failed: int
    error: str | None
    notice: str | None
    not_before: datetime | None = None  # scheduled (or paused, see `notice`) until then
    created_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class JobRow(BaseModel):
    """A staged row: `problems` keep it from being worked until edited; `outcome` is what working it gave."""

    n: int
    data: dict[str, Any]
    problems: list[str]
    status: Literal["pending", "done", "deleted"] | None
    ok: bool | None
    outcome: dict[str, Any] | None


class JobResponse(BaseModel):
    job: Job


class JobList(BaseModel):
    jobs: list[Job]


class JobRows(BaseModel):
    rows: list[JobRow]


class JobRowResponse(BaseModel):
    row: JobRow


class JobRowEdit(BaseModel):
    data: dict[str, Any] = Field(description="The row's fields as the preview shows them")


class JobConfirm(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict, description="Choices made in the preview (e.g. oa_id)")
    run_at: datetime | None = Field(None, description="Start then (a scheduled send), not at once")


class JobSchedule(BaseModel):
    run_at: datetime | None = Field(None, description="The new start time; null: now")
