"""The call-consent (ZCC) and ZNS lists as sheets: their columns in the reader's language and the company's time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub.sheets import Cell, Lang

CONSENT_HEADER: dict[Lang, tuple[str, ...]] = {
    "vi": (
        "Gửi lúc",
        "OA",
        "Số điện thoại",
        "Loại cuộc gọi",
        "Mã lý do",
        "Người gửi",
        "Trạng thái",
        "Trả lời của khách",
        "Trả lời lúc",
        "Hết hạn lúc",
        "Tính phí",
    ),
    "en": (
        "Requested at",
        "OA",
        "Phone",
        "Call type",
        "Reason code",
        "Requested by",
        "Status",
        "Customer's answer",
        "Answered at",
        "Expires at",
        "Charged",
    ),
}
ZNS_HEADER: dict[Lang, tuple[str, ...]] = {
    "vi": (
        "Gửi lúc",
        "OA",
        "Số điện thoại",
        "Mẫu",
        "Mã theo dõi",
        "Mã tin của Zalo",
        "Trạng thái",
        "Nhận lúc",
        "Tính phí",
        "Đơn giá",
        "Người gửi",
    ),
    "en": (
        "Sent at",
        "OA",
        "Phone",
        "Template",
        "Tracking id",
        "Zalo message id",
        "Status",
        "Delivered at",
        "Charged",
        "Unit price",
        "Sent by",
    ),
}
# As the console says them (hub/web/static/i18n.js).
CONSENT_STATUS: dict[Lang, dict[str, str]] = {
    "vi": {
        "waiting": "Đang chờ",
        "agreed": "Đồng ý",
        "rejected": "Từ chối",
        "no_response": "Không phản hồi",
        "expired": "Hết hạn",
        "failed": "Gửi lỗi",
    },
    "en": {
        "waiting": "Waiting",
        "agreed": "Agreed",
        "rejected": "Rejected",
        "no_response": "No response",
        "expired": "Expired",
        "failed": "Failed to send",
    },
}
ZNS_STATUS: dict[Lang, dict[str, str]] = {
    "vi": {"processing": "Đang xử lý", "success": "Thành công", "failure": "Thất bại"},
    "en": {"processing": "Processing", "success": "Sent", "failure": "Failed"},
}
YES_NO: dict[Lang, tuple[str, str]] = {"vi": ("Có", "Không"), "en": ("Yes", "No")}


def _local(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    return value.astimezone(zone) if value else None


def _charged(value: bool | None, lang: Lang) -> str | None:
    return None if value is None else YES_NO[lang][0 if value else 1]


async def consent_rows(
    consents: AsyncIterator[dict[str, Any]], lang: Lang, timezone: str, members: dict[str, str]
) -> AsyncIterator[Sequence[Cell]]:
    zone = ZoneInfo(timezone)
    async for c in consents:
        yield [
            _local(c["created_at"], zone),
            c["oa_id"],
            c["phone"],
            c["call_type"],
            c["reason_code"],
            members.get(c["requested_by"] or "", c["requested_by"]),
            CONSENT_STATUS[lang].get(c["status"], c["status"]),
            c["customer_answer"],
            _local(c["answered_at"], zone),
            _local(c["expires_at"], zone),
            _charged(c["charged"], lang),
        ]


async def zns_rows(
    messages: AsyncIterator[dict[str, Any]], lang: Lang, timezone: str, members: dict[str, str]
) -> AsyncIterator[Sequence[Cell]]:
    zone = ZoneInfo(timezone)
    async for m in messages:
        yield [
            _local(m["sent_at"], zone),
            m["oa_id"],
            m["phone"],
            m["template_id"],
            m["tracking_id"],
            m["msg_id"],
            ZNS_STATUS[lang].get(m["status"] or "", m["status"]),
            _local(m["delivered_at"], zone),
            _charged(m["charged"], lang),
            m["unit_price"],
            members.get(m["sent_by"] or "", m["sent_by"]),
        ]
