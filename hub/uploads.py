"""Tables people upload for an import or a bulk send (.xlsx or .csv), read a row at a time.

The file is received into a temporary file (spooled to disk past 1 MB), never held whole in memory;
rows are read from it in a worker thread, a batch at a time (openpyxl in read-only mode, or the csv
module), so a 50,000-row sheet neither fills memory nor stalls the event loop. Columns are found by
their header, in Vietnamese or English, with or without accents (`Số điện thoại`, `so dien thoai`,
`SĐT`, `Phone`); a column nobody asked for is ignored, a required one missing is refused with the
names it may have.
"""

from __future__ import annotations

import asyncio
import csv
import io
import unicodedata
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, Any

from openpyxl import load_workbook
from starlette.requests import Request

from hub.errors import LengthRequired, PayloadTooLarge, Unprocessable

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # about 100,000 rows of a few columns as .xlsx
BATCH = 500
MAX_ROWS = 100_000  # an import, a bulk send or a campaign: split a larger list
FORMATS = (".xlsx", ".csv")


@dataclass(frozen=True)
class Column:
    name: str  # the key a row's dict uses
    headers: tuple[str, ...]  # what its header may say (any case, with or without accents)
    required: bool = False


def plain(text: object) -> str:
    """Lower case, no accents, single spaces: `Số  Điện thoại` -> `so dien thoai`."""
    decomposed = unicodedata.normalize("NFD", str(text or "")).replace("đ", "d").replace("Đ", "D")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.lower().split())


def cell_text(value: Any) -> str:
    """A cell as text: 912345678.0 (Excel's number) -> "912345678"; dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


@dataclass
class Upload:
    filename: str
    file: IO[bytes]
    fields: dict[str, str]  # the form's other fields (choices sent with the file)

    @property
    def kind(self) -> str:
        return ".xlsx" if self.filename.lower().endswith(".xlsx") else ".csv"


async def receive(request: Request, max_bytes: int = MAX_UPLOAD_BYTES) -> Upload:
    """The multipart field `file` (.xlsx or .csv), kept in a temporary file: 413 past `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if not declared.isdecimal():  # a stream of unknown length could fill the disk before it is refused
        raise LengthRequired("send the file with its Content-Length (a browser's upload always has one)")
    if int(declared) > max_bytes + 64 * 1024:
        raise PayloadTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB; split it in parts")
    form = await request.form(max_files=1, max_fields=5, max_part_size=max_bytes)
    part = form.get("file")
    if part is None or isinstance(part, str):
        raise Unprocessable("send the file as the multipart field `file`", "missing_file")
    name = part.filename or ""
    if not name.lower().endswith(FORMATS):
        raise Unprocessable("the file must be an Excel sheet (.xlsx) or a CSV file (.csv)", "unsupported_file")
    spool: IO[bytes] = SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 — closed by the caller's Upload
    size = 0
    while chunk := await part.read(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLarge(f"the file is larger than {max_bytes // (1024 * 1024)} MB; split it in parts")
        spool.write(chunk)
    spool.seek(0)
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    return Upload(name, spool, fields)


def _sheet_rows(upload: Upload) -> Iterator[tuple[Any, ...]]:
    if upload.kind == ".xlsx":
        try:
            book = load_workbook(upload.file, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several kinds for a file that is no workbook
            raise Unprocessable(f"the file is not a readable .xlsx workbook ({exc})", "unreadable_file") from exc
        try:
            sheet = book.worksheets[0]
            yield from sheet.iter_rows(values_only=True)
        finally:
            book.close()
        return
    text = io.TextIOWrapper(upload.file, encoding="utf-8-sig", errors="replace", newline="")
    sample = text.read(4096)
    text.seek(0)
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
    except csv.Error:
        dialect = csv.excel
    yield from (tuple(row) for row in csv.reader(text, dialect))


def _read(upload: Upload, columns: tuple[Column, ...]) -> Iterator[dict[str, str]]:
    rows = _sheet_rows(upload)
    header = next(rows, None)
    if header is None:
        raise Unprocessable("the file is empty: its first row must name the columns", "empty_file")
    where: dict[str, int] = {}
    found = [plain(cell) for cell in header]
    for column in columns:
        wanted = {plain(name) for name in column.headers}
        index = next((i for i, text in enumerate(found) if text in wanted), None)
        if index is not None:
            where[column.name] = index
        elif column.required:
            raise Unprocessable(
                f"no column for {column.name}: the first row must name it as one of {', '.join(column.headers)}",
                "missing_column",
                details={"column": column.name},
            )
    for line, row in enumerate(rows, start=2):
        values = {name: cell_text(row[i]) if i < len(row) else "" for name, i in where.items()}
        if any(values.values()):  # blank lines are skipped
            yield {"line": str(line), **values}


async def rows(upload: Upload, columns: tuple[Column, ...], max_rows: int = MAX_ROWS) -> AsyncIterator[dict[str, str]]:
    """The file's rows as {column name: text, "line": its line in the file}, read in a worker thread a
    batch at a time. A file whose header lacks a required column is refused before any row; one with more
    than `max_rows` rows is refused (413) when its row past the limit is reached."""
    reader = _read(upload, columns)

    def batch() -> list[dict[str, str]]:
        try:
            return [row for _, row in zip(range(BATCH), reader, strict=False)]
        except csv.Error as exc:  # a field beyond the csv module's limit, say
            raise Unprocessable(f"the CSV file cannot be read ({exc})", "unreadable_file") from exc

    count = 0
    try:
        while chunk := await asyncio.to_thread(batch):
            count += len(chunk)
            if count > max_rows:
                raise PayloadTooLarge(f"the file has more than {max_rows:,} rows; split it in parts", "too_many_rows")
            for row in chunk:
                yield row
    finally:
        upload.file.close()


def once_per_phone(problems: Callable[[dict[str, Any]], list[str]]) -> Callable[[dict[str, Any]], list[str]]:
    """A staging check for one upload: a row's own `problems`, and `repeated_phone` for a number (its
    `zalo_phone`) an earlier row of the same file already has."""
    seen: set[str] = set()

    def check(data: dict[str, Any]) -> list[str]:
        found = problems(data)
        phone = data.get("zalo_phone")
        if phone and phone in seen:
            found.append("repeated_phone")
        if phone:
            seen.add(phone)
        return found

    return check
