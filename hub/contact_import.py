"""Contact imports from .xlsx and .csv: the file read as a stream, its rows staged with their problems on the
shared job runner (hub.jobs, kind `contacts.import`), a preview, then the rows upserted by phone number.

- Reading: received by hub.uploads (the one way a table is uploaded: a temporary file, 413 past the size);
  then openpyxl in read-only mode or the csv module, a batch of rows at a time in a worker thread
  (never the whole sheet in memory, never the event loop blocked by parsing). The first non-empty row
  names the columns, in Vietnamese or English, with or without diacritics (`COLUMNS`); other columns
  are ignored, so an export (hub.api.contacts) imports back as it is. Entirely empty rows are skipped.
- Problems (a row with any is not imported; codes, some with the value after a colon, which the console
  words in the reader's language): `name_missing`, `phone_missing`, `phone_invalid:<as written>`,
  `phone_repeated:<line>` (an earlier line of the file has the number: the first one wins),
  `too_long:<field>`, `email_invalid`, `row_malformed` (a row edited through /api/jobs into another shape).
- A number that is already a contact's is no problem: the row updates that contact (its non-empty
  fields win, its numbers are added). The preview says so per row (`existing`), read when the page is
  shown, not when the file was staged.
- Running: each batch is one read of the contacts holding its numbers, one insert, one update per changed
  contact (hub.contacts.upsert_batch); keyed by number, so a row given again after a crash, or the same
  file imported twice, changes nothing. The import publishes no event per contact: one
  `contacts.imported` at the end tells every console to read its list again (50,000 events would flood
  every console and the event log), and `job.updated` carries the progress.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from typing import IO, Any

from openpyxl import load_workbook

from hub import changes
from hub.auth import Principal
from hub.contacts import CONTACT_AUDIENCE, Contacts
from hub.errors import NotFound, PayloadTooLarge, Unprocessable
from hub.jobs import JobRun, Jobs
from hub.phones import e164
from hub.realtime.publish import Publisher
from hub.uploads import Upload, cell_text, plain

KIND = "contacts.import"
READ_BATCH = 500
LIMITS = {"name": 200, "email": 200, "address": 500, "note": 2000}
_SPLIT = re.compile(r"[,;/\n|]+")

# A header cell, lower-cased without diacritics -> the field it holds.
COLUMNS: dict[str, str] = {
    **dict.fromkeys(("ten", "ho ten", "ho va ten", "ten khach hang", "khach hang", "name", "full name"), "name"),
    **dict.fromkeys(("contact name", "customer name", "customer"), "name"),
    **dict.fromkeys(("so dien thoai", "sdt", "so dt", "dien thoai", "di dong", "phone", "phones"), "phone"),
    **dict.fromkeys(("phone number", "phone numbers", "mobile", "tel", "telephone"), "phone"),
    **dict.fromkeys(("email", "e-mail", "mail", "thu dien tu"), "email"),
    **dict.fromkeys(("dia chi", "address"), "address"),
    **dict.fromkeys(("ghi chu", "note", "notes"), "note"),
}


def header_map(cells: list[Any]) -> dict[int, str]:
    """Column index -> field, for the columns whose header names one (the first column of a field wins)."""
    found: dict[int, str] = {}
    for index, cell in enumerate(cells):
        field = COLUMNS.get(plain(str(cell))) if cell is not None else None
        if field and field not in found.values():
            found[index] = field
    return found


class Rows:
    """A file's data rows as import rows ({line, name, phones, email, address, note}), read lazily.

    `line` is the file's own line (1 = the header, usually), what a person looks for in Excel."""

    def __init__(self, file: IO[bytes], max_rows: int) -> None:
        self._file = file
        self._max_rows = max_rows
        self._workbook: Any = None
        head = file.read(4)
        file.seek(0)
        self.xlsx = head == b"PK\x03\x04"  # a zip: an Excel workbook
        self._csv_rows = -1 if self.xlsx else self._count_csv()
        self._source = self._xlsx() if self.xlsx else self._csv()
        self.columns = self._header()

    def _xlsx(self) -> Iterator[tuple[int, list[Any]]]:
        try:
            self._workbook = load_workbook(self._file, read_only=True, data_only=True)
        except Exception as exc:
            raise Unprocessable(
                f"this is not an Excel workbook openpyxl can read ({type(exc).__name__}); save it again as .xlsx",
                "invalid_file",
            ) from None
        sheet = self._workbook.worksheets[0]
        for line, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield line, list(row)

    def _csv_lines(self) -> Iterator[list[str]]:
        text = io.TextIOWrapper(self._file, encoding="utf-8-sig", newline="")
        try:
            sample = text.read(8192)
            text.seek(0)
            try:
                dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
            except csv.Error:
                dialect = csv.excel
            yield from csv.reader(text, dialect)
        except UnicodeDecodeError:
            raise Unprocessable(
                "the CSV file is not UTF-8: in Excel, save it as 'CSV UTF-8 (Comma delimited)', or upload the .xlsx",
                "invalid_file",
            ) from None
        except csv.Error as exc:
            raise Unprocessable(f"the CSV file cannot be read: {exc}", "invalid_file") from None
        finally:
            text.detach()

    def _count_csv(self) -> int:
        """The non-empty lines, the header among them (a pass before staging: a file past the limit, or
        one that does not decode, is refused before anything is stored)."""
        count = sum(1 for cells in self._csv_lines() if any(cell_text(c) for c in cells))
        self._file.seek(0)
        return count

    def _csv(self) -> Iterator[tuple[int, list[Any]]]:
        for line, row in enumerate(self._csv_lines(), start=1):
            yield line, list(row)

    def _header(self) -> dict[int, str]:
        for _line, cells in self._source:
            if any(cell_text(c) for c in cells):
                found = header_map(cells)
                if "name" not in found.values() or "phone" not in found.values():
                    shown = ", ".join(cell_text(c) for c in cells if cell_text(c))[:200]
                    raise Unprocessable(
                        "the first row must name the columns: Tên (Name) and Số điện thoại (Phone), and may name "
                        f"Email, Địa chỉ (Address), Ghi chú (Note); this file's first row is: {shown}",
                        "unknown_columns",
                    )
                return found
        raise Unprocessable("the file has no rows", "empty_file")

    def count(self) -> int:
        """The data rows (for the limit, before anything is staged): the sheet's own dimension when it is
        within the limit, else counted (a dimension may include empty formatted rows)."""
        if self.xlsx:
            sheet = self._workbook.worksheets[0]
            if sheet.max_row is not None and sheet.max_row - 1 <= self._max_rows:
                return max(sheet.max_row - 1, 0)
            count = 0
            for row in sheet.iter_rows(values_only=True):
                count += any(cell_text(c) for c in row)
            return count - 1
        return max(self._csv_rows - 1, 0)

    def batch(self, size: int) -> list[dict[str, Any]]:
        """The next `size` data rows (fewer at the end); PayloadTooLarge past the row limit."""
        out: list[dict[str, Any]] = []
        for line, cells in self._source:
            if not any(cell_text(c) for c in cells):
                continue
            row: dict[str, Any] = {"line": line, "name": "", "phones": [], "email": "", "address": "", "note": ""}
            for index, field in self.columns.items():
                value = cell_text(cells[index]) if index < len(cells) else ""
                if field == "phone":
                    row["phones"] = [p.strip() for p in _SPLIT.split(value) if p.strip()]
                else:
                    row[field] = value
            out.append(row)
            if len(out) >= size:
                break
        return out

    def close(self) -> None:
        if self._workbook is not None:
            self._workbook.close()


def well_formed(row: dict[str, Any]) -> bool:
    """The shape the handler reads (a row edited through /api/jobs comes from a client as any JSON)."""
    texts = all(isinstance(row.get(name, ""), str) for name in ("name", *LIMITS))
    phones = row.get("phones", [])
    return texts and isinstance(phones, list) and len(phones) <= 10 and all(isinstance(p, str) for p in phones)


class Check:
    """A row's problems, in file order: remembers each number's first line to name repeats (`repeats`
    False: a row edited in the preview, checked alone; a number it shares with another row is then
    simply that contact's, whichever row comes first)."""

    def __init__(self, repeats: bool = True) -> None:
        self._first: dict[str, int] | None = {} if repeats else None

    def __call__(self, row: dict[str, Any]) -> list[str]:
        if not well_formed(row):
            return ["row_malformed"]
        found: list[str] = []
        if not row.get("name"):
            found.append("name_missing")
        for field, limit in LIMITS.items():
            if len(row.get(field) or "") > limit:
                found.append(f"too_long:{field}")
        if row.get("email") and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", row["email"]):
            found.append("email_invalid")
        phones = row.get("phones") or []
        if not phones:
            found.append("phone_missing")
        for text in phones:
            number = e164(text)
            if number is None:
                found.append(f"phone_invalid:{text[:40]}")
                continue
            if self._first is None:
                continue
            first = self._first.setdefault(number, row.get("line", 0))
            if first != row.get("line", 0):
                found.append(f"phone_repeated:{first}")
        return found


class ContactImport:
    def __init__(self, jobs: Jobs, contacts: Contacts, publisher: Publisher, max_bytes: int, max_rows: int) -> None:
        self._jobs = jobs
        self._contacts = contacts
        self._publisher = publisher
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        jobs.register(KIND, self.run, Check(repeats=False))

    async def stage(self, actor: Principal, upload: Upload) -> dict[str, Any]:
        """The file's rows (received by hub.uploads, size-limited there) staged with their problems; the
        staged job's view (total, valid, invalid)."""
        try:
            rows = await asyncio.to_thread(Rows, upload.file, self.max_rows)
        except BaseException:
            upload.file.close()
            raise
        try:
            count = await asyncio.to_thread(rows.count)
            if count > self.max_rows:
                raise PayloadTooLarge(
                    f"the file has {count} rows; an import takes at most {self.max_rows}: split it", "too_many_rows"
                )
            return await self._jobs.create(
                actor, KIND, {"filename": (upload.filename or "")[:200]}, rows=self._stream(rows), problems=Check()
            )
        finally:
            rows.close()
            upload.file.close()

    async def _stream(self, rows: Rows) -> AsyncIterator[dict[str, Any]]:
        seen = 0
        while seen < self.max_rows and (batch := await asyncio.to_thread(rows.batch, READ_BATCH)):
            for row in batch[: self.max_rows - seen]:
                yield row
            seen += len(batch)

    async def _job(self, actor: Principal, job_id: str) -> dict[str, Any]:
        job = await self._jobs.get(actor, job_id)
        if job["kind"] != KIND:
            raise NotFound("no such import", "job_not_found")
        return job

    async def get(self, actor: Principal, job_id: str) -> dict[str, Any]:
        return await self._job(actor, job_id)

    async def preview(
        self, actor: Principal, job_id: str, offset: int, limit: int, problems_only: bool
    ) -> list[dict[str, Any]]:
        """A page of the staged rows; a valid row whose number is a contact's names it (`existing`)."""
        await self._job(actor, job_id)
        rows = await self._jobs.rows(actor, job_id, offset, limit, problems_only)

        def phones(row: dict[str, Any]) -> list[Any]:  # an edited row's phones may be anything a client sent
            value = row["data"].get("phones")
            return value if isinstance(value, list) else []

        numbers = [n for row in rows for p in phones(row) if (n := e164(p))]
        known = await self._contacts.by_phones(actor.company_id, numbers)
        for row in rows:
            holder = next((known[n] for p in phones(row) if (n := e164(p)) in known), None)
            row["existing"] = {"id": holder["_id"], "name": holder["name"]} if holder else None
        return rows

    async def confirm(self, actor: Principal, job_id: str) -> dict[str, Any]:
        await self._job(actor, job_id)
        return await self._jobs.confirm(actor, job_id)

    async def cancel(self, actor: Principal, job_id: str) -> dict[str, Any]:
        await self._job(actor, job_id)
        return await self._jobs.cancel(actor, job_id)

    async def run(self, run: JobRun) -> None:
        job = run.job
        counts = {key: int(run.state.get(key, 0)) for key in ("created", "updated", "unchanged")}
        async for batch in run.pending_rows(READ_BATCH):
            results = await self._contacts.upsert_batch(job["company_id"], job["created_by"], job["_id"], batch)
            await run.rows_done(results)
            for _n, outcome, _ok in results:
                if outcome["result"] in counts:
                    counts[outcome["result"]] += 1
            await run.checkpoint(state=counts)
        # Once per import, even when its last step is re-done after a crash (the event's key is the job's).
        with changes.change(f"{job['_id']}|imported", redo=True):
            await self._publisher.publish(
                job["company_id"],
                "contacts.imported",
                {"job_id": job["_id"], "created": counts["created"], "updated": counts["updated"]},
                CONTACT_AUDIENCE,
            )
