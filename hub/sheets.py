"""A sheet streamed as CSV or Excel (.xlsx): rows come from an async source in batches and leave at once (CSV)
or through a temporary file (xlsx, written by openpyxl in write-only mode), never all in memory."""

from __future__ import annotations

import asyncio
import csv
import io
import tempfile
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any, Literal

from openpyxl import Workbook
from starlette.responses import StreamingResponse

SheetFormat = Literal["csv", "xlsx"]
Lang = Literal["vi", "en"]  # the language of a sheet's words (`lang=`)
FORMATS: tuple[SheetFormat, ...] = ("xlsx", "csv")
_CHUNK = 64 * 1024
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
Cell = str | int | float | datetime | None


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


async def csv_bytes(header: Sequence[str], rows: AsyncIterator[Sequence[Cell]]) -> AsyncIterator[bytes]:
    """UTF-8 with a byte-order mark, so Excel opens Vietnamese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    async for row in rows:
        writer.writerow([_text(cell) for cell in row])
        if buffer.tell() >= _CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


async def xlsx_bytes(title: str, header: Sequence[str], rows: AsyncIterator[Sequence[Cell]]) -> AsyncIterator[bytes]:
    """Times are written as the naive local times they are given as (Excel keeps no time zone)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])  # Excel's limit on a sheet's name
    sheet.append(list(header))
    async for row in rows:
        sheet.append([_xlsx_cell(cell) for cell in row])
    with tempfile.TemporaryFile() as out:
        await asyncio.to_thread(workbook.save, out)  # zipping 100,000 rows takes seconds: off the event loop
        out.seek(0)
        while chunk := await asyncio.to_thread(out.read, _CHUNK):
            yield chunk


def _xlsx_cell(value: Cell) -> Any:
    return value.replace(tzinfo=None) if isinstance(value, datetime) else value


def sheet_response(
    name: str, fmt: SheetFormat, header: Sequence[str], rows: AsyncIterator[Sequence[Cell]]
) -> StreamingResponse:
    """The sheet as a download named `<name>.<fmt>`."""
    body = xlsx_bytes(name, header, rows) if fmt == "xlsx" else csv_bytes(header, rows)
    return StreamingResponse(
        body,
        media_type=_MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"', "Cache-Control": "no-store"},
    )
