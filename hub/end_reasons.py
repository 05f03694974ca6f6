"""Why a call ended (reference/pbx-calls.md section 3): one `end_reason` from SIP, Q.850 or vendor codes.

A Q.850 cause (RFC 6432 Reason header) is trusted over the SIP status. Vendor statuses (Twilio,
Asterisk DialStatus, eTelecom) map through one table each; eTelecom's exact vocabulary is not
documented publicly (UNCERTAIN), so its table is the one place to adjust.
"""

from __future__ import annotations

TEXT: dict[str, tuple[str, str]] = {  # end_reason -> (Vietnamese, English)
    "completed": ("Đã kết thúc", "Completed"),
    "busy": ("Máy bận", "Line busy"),
    "no_answer": ("Không nghe máy", "No answer"),
    "caller_cancelled": ("Khách gác máy khi đang đổ chuông", "Caller hung up while ringing"),
    "rejected": ("Từ chối cuộc gọi", "Declined"),
    "unavailable": ("Không liên lạc được", "Unreachable"),
    "invalid_number": ("Số không tồn tại", "Invalid number"),
    "congestion": ("Mạng bận", "Network busy"),
    "failed_network": ("Lỗi mạng", "Network error"),
    "failed_media": ("Không tương thích", "Incompatible media"),
    "answered_elsewhere": ("Đã được nghe máy nơi khác", "Answered elsewhere"),
    "abandoned": ("Khách bỏ cuộc khi chờ", "Abandoned in queue"),
    "unknown": ("Không rõ", "Unknown"),
}

Q850: dict[int, str] = {
    16: "completed",
    17: "busy",
    18: "no_answer",
    19: "no_answer",
    21: "rejected",
    20: "unavailable",
    27: "unavailable",
    1: "invalid_number",
    3: "invalid_number",
    22: "invalid_number",
    28: "invalid_number",
    34: "congestion",
    42: "congestion",
    38: "failed_network",
    41: "failed_network",
    102: "failed_network",
    58: "failed_media",
    26: "answered_elsewhere",
    31: "unknown",
    127: "unknown",
}

SIP: dict[int, str] = {
    200: "completed",
    486: "busy",
    600: "busy",
    408: "no_answer",
    487: "caller_cancelled",
    603: "rejected",
    403: "rejected",
    404: "invalid_number",
    484: "invalid_number",
    485: "invalid_number",
    604: "invalid_number",
    410: "invalid_number",
    503: "congestion",
    500: "failed_network",
    502: "failed_network",
    504: "failed_network",
    488: "failed_media",
    606: "failed_media",
}

VENDOR: dict[str, str] = {
    # Twilio CallStatus
    "completed": "completed",
    "busy": "busy",
    "no-answer": "no_answer",
    "canceled": "caller_cancelled",
    # "failed" stands in five rows of the reference's table: alone it says nothing (not a missed-call reason);
    # the SIP code that usually comes with it decides.
    "failed": "unknown",
    # Asterisk DialStatus and queue events
    "ANSWER": "completed",
    "BUSY": "busy",
    "NOANSWER": "no_answer",
    "CANCEL": "caller_cancelled",
    "CHANUNAVAIL": "unavailable",
    "CONGESTION": "congestion",
    "QueueCallerAbandon": "abandoned",
    # eTelecom call_state / call_targets[].status / end_reason (UNCERTAIN vocabulary: adjust here)
    "answered": "completed",
    "not_answered": "no_answer",
    "no_answer": "no_answer",
    "missed": "no_answer",
    "busy_line": "busy",
    "cancelled": "caller_cancelled",
    "cancel": "caller_cancelled",
    "caller_cancelled": "caller_cancelled",
    "rejected": "rejected",
    "declined": "rejected",
    "unavailable": "unavailable",
    "abandoned": "abandoned",
    "invalid_number": "invalid_number",
}

# end_reasons after which an unanswered inbound call counts as missed (reference section 3)
MISSED_REASONS = frozenset({"caller_cancelled", "no_answer", "busy", "abandoned", "unavailable", "rejected"})


def derive(
    sip_code: int | None = None, q850: int | None = None, vendor_status: str | None = None, rang: bool = True
) -> str | None:
    """The end_reason the codes say, or None when they say nothing.

    A Q.850 cause wins (one missing from the table is `unknown`, the table's last row); then the SIP
    status; a SIP status missing from the table gives way to the vendor's status before `unknown`."""
    if q850 is not None:
        # A caller's own channel often ends with 16 after a CANCEL: let an explicit 487 or vendor say so.
        if q850 == 16 and (sip_code == 487 or (vendor_status and _vendor(vendor_status) == "caller_cancelled")):
            return "caller_cancelled"
        if q850 == 31 and sip_code == 488:  # "normal, unspecified" on a 488: the media did not match
            return "failed_media"
        return Q850.get(q850, "unknown")
    if sip_code is not None:
        if sip_code == 480:
            return "no_answer" if rang else "unavailable"
        if sip_code in SIP:
            return SIP[sip_code]
    if vendor_status and _vendor(vendor_status):
        return _vendor(vendor_status)
    if sip_code is not None or vendor_status:
        return "unknown"
    return None


def _vendor(status: str) -> str | None:
    return VENDOR.get(status, VENDOR.get(status.lower()))


def text(end_reason: str | None) -> dict[str, str] | None:
    if end_reason is None:
        return None
    vi, en = TEXT.get(end_reason, TEXT["unknown"])
    return {"vi": vi, "en": en}
