"""ZNS campaigns (the product guide's "Create campaign"): one template sent to a list of phones, each with its
own parameter values, now or at a time, on the shared job runner (hub.jobs, kind `zns.campaign`).

A campaign is the job: its params keep the name, OA, template, unit price (the creator acts with their rights as they are when it runs); its rows
are the uploaded lines (phone and one value per template parameter), staged with their problems (a bad or
repeated phone, a parameter the template requires missing, a value too long or short: the template's own
rules, hub.zns_templates.data_problems) and edited or deleted through the generic job routes. Each staged
row carries the template's `listParams` (`template_params`) so a row edited in the preview is checked
against the same rules.

Sending (the handler):
- a message no sooner than 1/HUB_ZNS_CAMPAIGN_PER_S after the previous one was answered (so Zalo never
  receives two closer than that);
- each row through `Zns.send` inside the change `zns-campaign:<job>:<n>:<attempt>`, which gives its message
  the id `<change>|zns` and the tracking_id `<job>-<n>[-<attempt>]`: a row given again after a crash finds
  its message instead of sending it again. A message still `processing` without Zalo's msg_id (the process
  died during Zalo's call) is reported "unknown" and never sent again: the delivery receipt resolves it by
  its tracking_id;
- quiet hours (22:00-06:00 Vietnam time) defer the campaign to 06:00; Zalo's daily quotas (-144 OA, -147
  template) defer it to the next day's 06:00; Zalo's rate limit (-32) or no connection to Zalo: the row is
  tried again with a new attempt after a pause that doubles (shown as the job's notice); an answer lost
  after the request left (a read timeout, a gateway's 5xx) reports the row "unknown", never sent again; a token Zalo
  refuses fails the campaign, telling the owner to reconnect the OA; any other refusal fails the row with
  Zalo's reason.

Statuses as the console shows them: pending (staged, waiting for confirmation), scheduled (confirmed for a
time still ahead, not started), processing (started, or due now), completed, failed, cancelled.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pymongo import DESCENDING

from clients.zalo import worth_another_attempt
from hub import changes, rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, HubError, NotFound, Unprocessable
from hub.jobs import JobDeferred, JobFailed, JobRun, Jobs
from hub.jobs import view as job_view
from hub.phones import zalo_form
from hub.store import Store
from hub.uploads import Column, once_per_phone
from hub.zns import Zns
from hub.zns_templates import ZnsTemplates, data_problems, price_of

KIND = "zns.campaign"
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # Zalo's quiet hours and daily quotas are Vietnam's
MORNING = 6  # quiet hours end
PHONE = Column("phone", ("Số điện thoại", "SĐT", "Điện thoại", "Phone", "Phone number", "Mobile"), required=True)
DAILY_QUOTA = frozenset({-144, -147})  # the OA's, the template's daily limit (reference section 11)
# The OA's authorisation gone (after hub.oa_links' one refresh; as hub.followers): -124 and OAuth's -14xxx too.
TOKEN_ERRORS = frozenset({-216, -220, -124})
MAX_ATTEMPTS = 6
FIRST_PAUSE_S, MAX_PAUSE_S = 1.0, 60.0
MARK_EVERY_S = 1.0
STATUSES = ("pending", "scheduled", "processing", "completed", "failed", "cancelled")
# What hub.zns_templates.data_problems says, as problem codes the console translates: `<kind>:<param>`.
_PROBLEM = (
    (re.compile(r"template_data\.(.+) is required"), "missing_param"),
    (re.compile(r"template_data\.(.+) is longer than"), "param_too_long"),
    (re.compile(r"template_data\.(.+) is shorter than"), "param_too_short"),
)


def next_morning(now: datetime, days: int = 0) -> datetime:
    """06:00 Vietnam time: the first after `now` (days=0), or that of the day `days` after today's."""
    local = now.astimezone(VIETNAM)
    target = local.replace(hour=MORNING, minute=0, second=0, microsecond=0) + timedelta(days=days)
    if days == 0 and target <= local:
        target += timedelta(days=1)
    return target


def tracking_id(job_id: str, n: int, attempt: int) -> str:
    return f"{job_id}-{n}" + (f"-{attempt}" if attempt else "")


def row_problems(data: dict[str, Any]) -> list[str]:
    """A row's own problems: its phone, and its values by the template's rules carried with it."""
    problems = [] if zalo_form(data.get("phone")) else ["bad_phone"]
    params = data.get("template_params") or []
    for text in data_problems(params, values(data)):
        for pattern, code in _PROBLEM:
            if found := pattern.match(text):
                problems.append(f"{code}:{found.group(1)}")
                break
        else:
            problems.append(text)
    return problems


def values(data: dict[str, Any]) -> dict[str, Any]:
    """A row's template_data: the value of each of the template's parameters that the row has."""
    names = [p["name"] for p in data.get("template_params") or []]
    return {name: str(data[name]).strip() for name in names if data.get(name) not in (None, "")}


def edited(data: dict[str, Any]) -> list[str]:
    """The check of a row edited in the preview: its phone in Zalo's form again, then its problems."""
    data["phone"] = str(data.get("phone") or "").strip()
    data["zalo_phone"] = zalo_form(data["phone"])
    return row_problems(data)


def status_of(job: dict[str, Any], now: datetime) -> str:
    status = job["status"]
    if status == "staged":
        return "pending"
    if status in ("queued", "running"):
        not_before = job.get("not_before")
        if job.get("started_at") is None and not_before is not None and _aware(not_before) > now:
            return "scheduled"
        return "processing"
    return status


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo("UTC"))


class ZnsCampaigns:
    def __init__(
        self, store: Store, clock: Clock, zns: Zns, templates: ZnsTemplates, jobs: Jobs, per_second: float
    ) -> None:
        self._store = store
        self._clock = clock
        self._zns = zns
        self._templates = templates
        self._jobs = jobs
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        self._batch = max(10, min(200, int(per_second)))  # about a second of sending between cancel checks
        jobs.register(
            KIND,
            self._run,
            edited,
            choices={"send_mode": lambda value: value in ("now", "at")},
            fixed=("template_params",),  # the template's parameters, read at upload: not the editor's to say
        )

    # -- creating ---------------------------------------------------------------------------------

    async def stage(
        self,
        actor: Principal,
        oa_id: str,
        template_id: str,
        name: str,
        filename: str,
        read: Callable[[tuple[Column, ...]], AsyncIterator[dict[str, str]]],
    ) -> dict[str, Any]:
        """A campaign staged from an upload: `read(columns)` gives the file's rows by the columns the template
        asks for — the phone, and one per template parameter (its header: the parameter's name)."""
        rulebook.require(actor, rulebook.Action.zns)
        name = name.strip()
        if not name:
            raise Unprocessable("name the campaign (name)", "invalid_name")
        if len(name) > 200:
            raise Unprocessable("a campaign's name is at most 200 characters", "invalid_name")
        template = await self._templates.get(actor, oa_id, template_id)
        company = await self._store.companies.find_one({"_id": actor.company_id}) or {}
        unit_price = price_of(template)
        if unit_price is None:
            unit_price = ((company.get("settings") or {}).get("zns_prices") or {}).get(template_id)
        limits = template["listParams"]
        columns = (PHONE, *(Column(p["name"], (p["name"],), required=bool(p.get("require"))) for p in limits))

        async def lines() -> Any:
            async for row in read(columns):
                phone = str(row.get("phone") or "").strip()
                data = {"line": row.get("line"), "phone": phone, "zalo_phone": zalo_form(phone)}
                data.update({p["name"]: str(row.get(p["name"]) or "").strip() for p in limits})
                data["template_params"] = limits
                yield data

        params = {
            "name": name,
            "oa_id": oa_id,
            "template_id": template_id,
            "template_name": template.get("name"),
            "unit_price": unit_price,
            "filename": filename,
        }
        job = await self._jobs.create(actor, KIND, params, rows=lines(), problems=once_per_phone(row_problems))
        return await self.get(actor, job["id"])

    # -- reading ----------------------------------------------------------------------------------

    def _view(self, job: dict[str, Any]) -> dict[str, Any]:
        params = job.get("params") or {}
        unit_price = params.get("unit_price")
        return {
            "id": job["_id"],
            "name": params.get("name"),
            "oa_id": params.get("oa_id"),
            "template_id": params.get("template_id"),
            "template_name": params.get("template_name"),
            "status": status_of(job, self._clock.now()),
            "scheduled_at": job.get("not_before") if job.get("started_at") is None else None,
            "immediate": params.get("send_mode") != "at",
            "unit_price": unit_price,
            "estimated_cost": (job.get("valid") or 0) * unit_price if unit_price is not None else None,
            "job": job_view(job),
        }

    async def _job(self, actor: Principal, campaign_id: str) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.zns)
        job = await self._store.jobs.find_one({"_id": campaign_id, "company_id": actor.company_id, "kind": KIND})
        if job is None:
            raise NotFound("no such ZNS campaign", "campaign_not_found")
        return job

    async def list(self, actor: Principal, status: str | None) -> list[dict[str, Any]]:
        rulebook.require(actor, rulebook.Action.zns)
        if status and status not in STATUSES:
            raise Unprocessable(f"status is one of {', '.join(STATUSES)}", "invalid_status")
        cursor = self._store.jobs.find({"company_id": actor.company_id, "kind": KIND}).sort("created_at", DESCENDING)
        views: list[dict[str, Any]] = []
        async for job in cursor:  # the newest 500 of the status asked, however many are older
            view = self._view(job)
            if not status or view["status"] == status:
                views.append(view)
                if len(views) == 500:
                    break
        return views

    async def stats(self, actor: Principal) -> dict[str, int]:
        """The guide's counters over every campaign of the company (read a batch at a time, a few fields
        each): every campaign, those sent at once when confirmed, and one per status."""
        rulebook.require(actor, rulebook.Action.zns)
        now = self._clock.now()
        counts = {"total": 0, "immediate": 0, **{status: 0 for status in STATUSES}}
        fields = {"status": 1, "not_before": 1, "started_at": 1, "params.send_mode": 1}
        async for job in self._store.jobs.find({"company_id": actor.company_id, "kind": KIND}, fields):
            status = status_of(job, now)
            counts["total"] += 1
            counts[status] += 1
            counts["immediate"] += (job.get("params") or {}).get("send_mode") != "at" and status != "pending"
        return counts

    async def get(self, actor: Principal, campaign_id: str) -> dict[str, Any]:
        """A campaign with its figures: rows recorded and valid; messages sent (Zalo gave a msg_id), delivered,
        charged, failed, unknown (the process died during Zalo's call and no receipt came yet); the estimated
        and the actual cost (charged messages at their unit price)."""
        job = await self._job(actor, campaign_id)
        figures = {"recorded": job.get("total") or 0, "valid": job.get("valid") or 0, "sent": 0, "delivered": 0}
        figures |= {"charged": 0, "failed": 0, "unknown": 0, "actual_cost": 0.0}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"company_id": actor.company_id, "campaign_id": campaign_id}},
            {
                "$group": {
                    "_id": None,
                    "sent": {"$sum": {"$cond": [{"$ne": [{"$ifNull": ["$msg_id", None]}, None]}, 1, 0]}},
                    "delivered": {"$sum": {"$cond": [{"$eq": ["$status", "success"]}, 1, 0]}},
                    "charged": {"$sum": {"$cond": [{"$eq": ["$charged", True]}, 1, 0]}},
                    "actual_cost": {
                        "$sum": {"$cond": [{"$eq": ["$charged", True]}, {"$ifNull": ["$unit_price", 0]}, 0]}
                    },
                    "unknown": {
                        "$sum": {
                            "$cond": [
                                {
                                    "$and": [
                                        {"$eq": ["$status", "processing"]},
                                        {"$eq": [{"$ifNull": ["$msg_id", None]}, None]},
                                    ]
                                },
                                1,
                                0,
                            ]
                        }
                    },
                }
            },
        ]
        async for group in await self._store.zns_messages.aggregate(pipeline):
            figures |= {key: group[key] for key in ("sent", "delivered", "charged", "actual_cost", "unknown")}
        failed: list[dict[str, Any]] = [
            {"$match": {"job_id": campaign_id, "status": "done", "outcome.status": "failed"}},
            {"$count": "n"},
        ]
        async for group in await self._store.job_rows.aggregate(failed):
            figures["failed"] = group["n"]
        return {**self._view(job), "figures": figures}

    # -- sending (the job's handler) ----------------------------------------------------------------

    async def _run(self, run: JobRun) -> None:
        job = run.job
        actor = await run.creator(rulebook.Action.zns)  # as they are now, not as they were when they staged it
        # Only a job claimed before (a process died, or it was deferred) can have rows with a message already.
        resumed = job.get("attempts", 1) > 1
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        done: list[tuple[int, dict[str, Any], bool]] = []
        marked_at = loop.time()
        try:
            async for batch in run.pending_rows(self._batch):
                for row in batch:
                    await asyncio.sleep(max(0.0, next_at - loop.time()))
                    done.append(await self._send_row(run, actor, row, resumed))
                    next_at = loop.time() + self._interval  # from Zalo's answer: no two sends closer than 1/rate
                    if loop.time() - marked_at >= MARK_EVERY_S:
                        # Rows are marked done about once a second: a row sent but not yet marked when the
                        # process dies is given again, finds its message and is not sent again.
                        await run.rows_done(done)
                        done, marked_at = [], loop.time()
            await run.rows_done(done)
        except (JobDeferred, JobFailed):
            if done:
                await run.rows_done(done)
            raise

    async def _send_row(
        self, run: JobRun, actor: Principal, row: dict[str, Any], resumed: bool
    ) -> tuple[int, dict[str, Any], bool]:
        """One row: (its number, its outcome, whether it was sent)."""
        n, outcome, ok = row["n"], *await self._attempts(run, actor, row, resumed)
        return n, outcome, ok

    async def _attempts(
        self, run: JobRun, actor: Principal, row: dict[str, Any], resumed: bool
    ) -> tuple[dict[str, Any], bool]:
        data, n, job_id = row["data"], row["n"], run.job["_id"]
        params = run.params
        pause = FIRST_PAUSE_S
        failure: dict[str, Any] = {}
        for attempt in range(MAX_ATTEMPTS):
            key = f"zns-campaign:{job_id}:{n}:{attempt}"
            earlier = await self._store.zns_messages.find_one({"_id": f"{key}|zns"}) if resumed or attempt else None
            if earlier is not None:
                if earlier.get("status") == "processing" and not earlier.get("msg_id"):
                    # The process died during Zalo's call: Zalo may have it. Never sent again.
                    return {
                        "status": "unknown",
                        "message_id": earlier["_id"],
                        "tracking_id": earlier["tracking_id"],
                    }, False
                code = (earlier.get("failure") or {}).get("code")
                if worth_another_attempt(earlier.get("failure")) or code in DAILY_QUOTA:
                    continue  # that attempt met a limit; the next attempt is this row's
            try:
                with changes.change(key, redo=earlier is not None):
                    message = await self._zns.send(
                        actor,
                        str(params.get("oa_id")),
                        data.get("phone") or "",
                        str(params.get("template_id")),
                        values(data),
                        tracking_id(job_id, n, attempt),
                        campaign_id=job_id,
                    )
            except Conflict as exc:
                if exc.code == "zns_quiet_hours":
                    run.defer(
                        next_morning(self._clock.now()), "Zalo's quiet hours (22:00-06:00): sending goes on at 06:00"
                    )
                return {"status": "failed", "reason": exc.message}, False
            except NotFound as exc:  # the OA unlinked, or the template gone, since the campaign was made
                raise JobFailed(f"{exc.message} The campaign stopped; make it again.") from exc
            except HubError as exc:  # the values the template refuses, say
                if exc.status >= 500:  # Zalo did not give the template: like no answer, try again
                    failure = {"code": 0, "reason": exc.message}
                    await self._pause(run, failure, data, pause)
                    pause = min(pause * 2, MAX_PAUSE_S)
                    continue
                return {"status": "failed", "reason": exc.message}, False
            failure = message.get("failure") or {}
            code = failure.get("code")
            if message["status"] != "failure":
                if run.job.get("notice"):
                    await run.checkpoint(notice=None)  # a pause is over
                return {"status": "sent", "message_id": message["id"], "tracking_id": message["tracking_id"]}, True
            if code in TOKEN_ERRORS or (isinstance(code, int) and code <= -14000):
                raise JobFailed("Zalo refused the OA's access token: reconnect the OA, then send the campaign again")
            if code in DAILY_QUOTA:
                run.defer(
                    next_morning(self._clock.now(), days=1),
                    f"{failure.get('reason')} Sending goes on tomorrow at 06:00.",
                )
            if code == 0 and not worth_another_attempt(failure):
                # Zalo may have it (the answer was lost after the request left): never sent again; its
                # delivery receipt, if it comes, finds the message by tracking_id.
                return {"status": "unknown", "message_id": message["id"], "tracking_id": message["tracking_id"]}, False
            if not worth_another_attempt(failure):
                return {"status": "failed", "message_id": message["id"], "failure": failure}, False
            await self._pause(run, failure, data, pause)
            pause = min(pause * 2, MAX_PAUSE_S)
        return {"status": "failed", "failure": failure}, False

    async def _pause(self, run: JobRun, failure: dict[str, Any], data: dict[str, Any], pause: float) -> None:
        await run.checkpoint(notice=f"{failure.get('reason')} (line {data.get('line')}: retrying in {pause:g} s)")
        await asyncio.sleep(pause)
