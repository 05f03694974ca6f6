"""The thread list as a sheet: who the customer is, where the thread stands, in the reader's language and the
company's time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from zoneinfo import ZoneInfo

from hub.sheets import Cell, Lang
from schemas.chat import ThreadSummary

HEADER: dict[Lang, tuple[str, ...]] = {
    "vi": (
        "Khách hàng",
        "Số điện thoại",
        "OA",
        "Trạng thái",
        "Người phụ trách",
        "Nhãn",
        "Chưa đọc",
        "Tin nhắn cuối lúc",
        "Tin nhắn cuối",
        "Tạo lúc",
    ),
    "en": (
        "Customer",
        "Phone",
        "OA",
        "Status",
        "Assignee",
        "Labels",
        "Unread",
        "Last message at",
        "Last message",
        "Created at",
    ),
}
STATUS: dict[Lang, dict[str, str]] = {
    "vi": {"open": "Đang mở", "resolved": "Đã xử lý"},
    "en": {"open": "Open", "resolved": "Resolved"},
}


def row(
    thread: ThreadSummary, lang: Lang, zone: ZoneInfo, members: dict[str, str], labels: dict[str, str]
) -> list[Cell]:
    last = thread.last_message
    return [
        thread.customer.name,
        thread.customer.phone,
        thread.oa_id,
        STATUS[lang][thread.status],
        members.get(thread.assignee_id or ""),
        ", ".join(labels[label] for label in thread.labels if label in labels),
        thread.unread,
        last.at.astimezone(zone) if last else None,
        last.text if last else None,
        thread.created_at.astimezone(zone),
    ]


async def rows(
    threads: AsyncIterator[ThreadSummary],
    lang: Lang,
    timezone: str,
    members: dict[str, str],
    labels: dict[str, str],
) -> AsyncIterator[Sequence[Cell]]:
    zone = ZoneInfo(timezone)
    async for thread in threads:
        yield row(thread, lang, zone, members, labels)
