"""ZCC call requests in bulk (the product guide's "Import"): a list of phones and reasons is uploaded, shown
line by line with each line's problems, edited or trimmed, then sent through one OA.

Sending is a long job (hub.jobs, kind `consents.bulk`): one line at a time, no faster than
HUB_ZCC_BULK_PER_S, each line by the same rules as a single request (hub.consents: the resend rule
refuses a line with its `can_resend_at`, Zalo's refusal is kept on the request). Each line's request has
an id fixed by the job and the line (`zcc-bulk:<job>:<line>:<attempt>`), so a line given again after a
crash finds its request instead of asking Zalo twice; a request still marked `sending` (the process died
during Zalo's call) is reported as unknown, never sent again. Zalo's rate limit (-32) or no answer from
Zalo: the line is tried again with a new attempt after a pause that doubles (up to a minute), shown on
the job; an OA token Zalo refuses stops the job, telling the owner to reconnect the OA.
"""

from __future__ import annotations

import asyncio
from typing import Any

from clients.zalo import worth_another_attempt
from hub import changes, rulebook
from hub.auth import Principal
from hub.consents import REASON_CODES, Consents
from hub.errors import Conflict, HubError, Unprocessable
from hub.jobs import JobFailed, JobRun, Jobs
from hub.phones import zalo_form
from hub.store import Store
from hub.uploads import Column, once_per_phone, plain

KIND = "consents.bulk"
COLUMNS = (
    Column("phone", ("Số điện thoại", "SĐT", "Điện thoại", "Phone", "Phone number", "Mobile"), required=True),
    Column("reason", ("Lý do", "Lý do gọi", "Mã lý do", "Reason", "Reason code", "reason_code")),
)
# What a reason cell may say, besides its code: the product guide's names, in Vietnamese and English.
REASON_NAMES = {
    101: ("Tư vấn sản phẩm / dịch vụ", "Tư vấn sản phẩm", "Product / service consulting", "Consulting"),
    103: ("Xác nhận đơn hàng / lịch hẹn", "Xác nhận lịch hẹn", "Order / appointment confirmation"),
    105: ("Thông báo giao hàng", "Delivery notice"),
    106: ("Thông báo chuyến bay", "Flight announcement"),
    107: ("Cập nhật đơn hàng", "Order update"),
}
_BY_NAME = {plain(name): code for code, names in REASON_NAMES.items() for name in (*names, REASON_CODES[code])}
MAX_ATTEMPTS = 5
MAX_PAUSE_S = 60.0


def _short_text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 64


def reason_code(text: str, default: int | None) -> int | None:
    text = text.strip()
    if not text:
        return default
    if text.isdecimal() and text.isascii():
        return int(text) if len(text) <= 4 and int(text) in REASON_CODES else None
    return _BY_NAME.get(plain(text))


def line_problems(data: dict[str, Any]) -> list[str]:
    """A line's own problems (a phone repeated in the file is found while staging, see `hub.uploads.once_per_phone`)."""
    problems = []
    if not zalo_form(data.get("phone")):
        problems.append("bad_phone")
    if data.get("reason_code") not in REASON_CODES:
        problems.append("bad_reason")
    return problems


def normalized(data: dict[str, Any], default_reason: int | None) -> dict[str, Any]:
    """A line as staged: the phone as typed and in Zalo's form, the reason as written and as its code (a
    line that names no reason takes the upload's default)."""
    text = str(data.get("reason") or "").strip()
    if text:
        reason = reason_code(text, None)  # a reason written, even a wrong one, is what the line says
    else:
        kept = data.get("reason_code")
        reason = kept if isinstance(kept, int) else default_reason
    return {
        "line": data.get("line"),
        "phone": str(data.get("phone") or "").strip(),
        "zalo_phone": zalo_form(data.get("phone")),
        "reason": text,
        "reason_code": reason,
    }


def edited(data: dict[str, Any]) -> list[str]:
    """The check of a line edited in the preview (its phone and reason given again)."""
    data.update(normalized(data, None))
    return line_problems(data)


class ConsentBulk:
    def __init__(self, store: Store, consents: Consents, jobs: Jobs, per_second: float) -> None:
        self._store = store
        self._consents = consents
        self._jobs = jobs
        self._interval = 1.0 / per_second if per_second > 0 else 0.0
        jobs.register(KIND, self._run, edited, choices={"oa_id": _short_text})

    async def stage(
        self, actor: Principal, filename: str, rows: Any, default_reason: int | None, call_type: str
    ) -> dict[str, Any]:
        if default_reason is not None and default_reason not in REASON_CODES:
            raise Unprocessable(f"reason_code is one of {sorted(REASON_CODES)}", "invalid_reason_code")

        async def lines() -> Any:
            async for row in rows:
                yield normalized(row, default_reason)

        params = {"filename": filename, "call_type": call_type}
        return await self._jobs.create(actor, KIND, params, rows=lines(), problems=once_per_phone(line_problems))

    async def _run(self, run: JobRun) -> None:
        job = run.job
        oa_id = run.params.get("oa_id")
        link = await self._store.oa_links.find_one(
            {"company_id": job["company_id"], "oa_id": oa_id, "status": "active"}
        )
        if link is None:
            raise JobFailed("pick an OA linked to the company before sending (the chosen OA is not linked)")
        actor = await run.creator(rulebook.Action.bulk_consents)  # as they are now: not removed meanwhile
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        async for batch in run.pending_rows(20):
            for row in batch:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                next_at = loop.time() + self._interval
                outcome, ok = await self._send_line(run, actor, str(oa_id), row)
                await run.rows_done([(row["n"], outcome, ok)])

    async def _send_line(
        self, run: JobRun, actor: Principal, oa_id: str, row: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        data = row["data"]
        pause = 2.0
        for attempt in range(MAX_ATTEMPTS):
            key = f"zcc-bulk:{run.job['_id']}:{row['n']}:{attempt}"
            earlier = await self._store.consents.find_one({"_id": f"{key}|consent"})
            if earlier is not None and earlier.get("send_status") == "sending":
                return {"status": "unknown", "consent_id": earlier["_id"]}, False  # died mid-call: never resent
            failure = (earlier or {}).get("failure") or {}
            if earlier is not None and worth_another_attempt(failure):
                continue  # that attempt met Zalo's limit or no Zalo; the next attempt is this line's
            try:
                with changes.change(key, redo=earlier is not None):
                    consent = await self._consents.request(
                        actor, oa_id, data["phone"], data["reason_code"], run.params.get("call_type") or "audio"
                    )
            except Conflict as exc:  # the resend rule: a request waits, or an agreement holds
                return {"status": "refused", "reason": exc.message, **exc.details}, False
            except HubError as exc:  # the OA was unlinked meanwhile, say
                return {"status": "failed", "reason": exc.message}, False
            failure = consent.get("failure") or {}
            if consent["send_status"] == "success":
                if run.job.get("notice"):
                    await run.checkpoint(notice=None)  # the pause is over
                return {"status": "sent", "consent_id": consent["id"]}, True
            if failure.get("code") in (-216, -220):
                raise JobFailed("Zalo refused the OA's access token: reconnect the OA, then import the list again")
            if failure.get("code") == 0 and not worth_another_attempt(failure):
                # Zalo may have it (the answer was lost after the request left): never asked again blindly.
                return {"status": "unknown", "consent_id": consent["id"], "failure": failure}, False
            if not worth_another_attempt(failure):
                return {"status": "failed", "consent_id": consent["id"], "failure": failure}, False
            await run.checkpoint(notice=f"{failure.get('reason')} (line {data.get('line')}, retrying)")
            await asyncio.sleep(pause)
            pause = min(pause * 2, MAX_PAUSE_S)
        return {"status": "failed", "failure": failure}, False
