"""The customer behind a call: the Zalo thread whose customer shared the call's outside number.

Resolved when a list is read, for its reader: one query for a page of calls, among the threads the reader
may see (hub.threads), so a call row never names a thread its reader could not open.
"""

from __future__ import annotations

from collections.abc import Sequence

from hub.auth import Principal
from hub.phones import e164
from hub.threads import Threads
from schemas.calls import CallRow, MissedCallRow


def outside_number(direction: str | None, from_number: str | None, to_number: str | None) -> str | None:
    """The outside party's number in E.164: the caller of an inbound call, the callee of an outbound one;
    an internal call has none (and neither has an extension or a Zalo user id: no possible phone number)."""
    if direction == "internal":
        return None
    return e164(to_number if direction == "outbound" else from_number)


def _number(row: CallRow | MissedCallRow) -> str | None:
    if isinstance(row, MissedCallRow):
        return outside_number("inbound", row.from_number, None)
    return outside_number(row.direction, row.from_number, row.to_number)


async def link(threads: Threads, actor: Principal, rows: Sequence[CallRow | MissedCallRow]) -> None:
    """Set each row's `thread_id` to its customer's thread, when the reader may see one."""
    numbers = {row.id: _number(row) for row in rows}
    found = await threads.of_numbers(actor, [n for n in numbers.values() if n])
    for row in rows:
        number = numbers[row.id]
        row.thread_id = found.get(number) if number else None
