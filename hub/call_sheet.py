"""The call history as a sheet: the console table's columns, in the reader's language and the company's time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from hub.sheets import Cell, Lang
from schemas.calls import CallRecord

HEADER: dict[Lang, tuple[str, ...]] = {
    "vi": (
        "Thời điểm",
        "Chiều",
        "Từ",
        "Đến",
        "Hotline",
        "Máy nhánh",
        "Phòng ban",
        "Kết quả",
        "Chờ (giây)",
        "Nói chuyện (giây)",
        "Lý do kết thúc",
        "Ghi âm",
    ),
    "en": (
        "Time",
        "Direction",
        "From",
        "To",
        "Hotline",
        "Extension",
        "Department",
        "Outcome",
        "Wait (s)",
        "Talk (s)",
        "End reason",
        "Recording",
    ),
}
# As the console says them (hub/web/static/i18n.js).
DIRECTION: dict[Lang, dict[str, str]] = {
    "vi": {"inbound": "Gọi vào", "outbound": "Gọi ra", "internal": "Nội bộ"},
    "en": {"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"},
}
OUTCOME: dict[Lang, dict[str, str]] = {
    "vi": {
        "answered": "Đã nghe",
        "missed": "Gọi nhỡ",
        "short_abandoned": "Bỏ máy sớm",
        "failed": "Lỗi",
        "unanswered": "Không nghe",
    },
    "en": {
        "answered": "Answered",
        "missed": "Missed",
        "short_abandoned": "Short abandoned",
        "failed": "Failed",
        "unanswered": "Unanswered",
    },
}


def extensions(call: CallRecord) -> list[str]:
    """The extensions the call rang or reached (older records: from their legs), once each, in order."""
    numbers = call.extensions or [leg.extension for leg in call.legs if leg.extension]
    return list(dict.fromkeys(numbers))


def row(call: CallRecord, lang: Lang, zone: ZoneInfo, departments: dict[str, str]) -> list[Cell]:
    started: datetime | None = call.started_at.astimezone(zone) if call.started_at else None
    return [
        started,
        DIRECTION[lang].get(call.direction or "", call.direction),
        call.from_number,
        call.to_number,
        call.hotline,
        ", ".join(extensions(call)),
        ", ".join(departments[d] for d in call.departments if d in departments),
        OUTCOME[lang].get(call.outcome or "", call.outcome),
        call.wait_s,
        call.talk_s,
        (call.end_reason_text or {}).get(lang),
        " ".join(call.recording_urls),
    ]


async def rows(
    calls: AsyncIterator[CallRecord], lang: Lang, timezone: str, departments: dict[str, str]
) -> AsyncIterator[Sequence[Cell]]:
    zone = ZoneInfo(timezone)
    async for call in calls:
        yield row(call, lang, zone, departments)
