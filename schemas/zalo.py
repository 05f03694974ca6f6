"""Zalo OA webhook payloads (reference/zalo-oa.md section 2) and the shapes the OA API answers with.

Ids stay strings (they exceed 2^53); `timestamp` is epoch milliseconds as a string and becomes a
UTC datetime here. Unknown fields are kept (`extra="allow"`), since Zalo adds them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Party(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    admin_id: str | None = None


class Attachment(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    payload: dict[str, Any] = Field(default_factory=dict)


class ZaloMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    msg_id: str | None = None
    msg_ids: list[str] | None = None
    text: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    quote_msg_id: str | None = None
    react_icon: str | None = None
    conversation_id: str | None = None
    # ZNS receipts share the event name user_received_message; these two tell them apart.
    delivery_time: str | None = None
    tracking_id: str | None = None


class Follower(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


class Tag(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    user_ids: list[str] = Field(default_factory=list)


class ZaloWebhook(BaseModel):
    """Any Zalo webhook: the envelope fields every event may carry."""

    model_config = ConfigDict(extra="allow")
    app_id: str
    event_name: str
    timestamp: str

    user_id_by_app: str | None = None
    sender: Party | None = None
    recipient: Party | None = None
    message: ZaloMessage | None = None
    oa_id: str | None = None
    user_id: str | None = None
    phone: str | None = None
    follower: Follower | None = None
    source: str | None = None
    info: dict[str, Any] | None = None
    tag: Tag | None = None

    @field_validator("timestamp")
    @classmethod
    def _epoch_ms(cls, value: str) -> str:
        if epoch_ms(value) is None:
            raise ValueError("timestamp is not epoch milliseconds between 1970 and 2100")
        return value

    @property
    def occurred_at(self) -> datetime:
        return from_epoch_ms(self.timestamp)

    def oa_candidates(self) -> list[str]:
        """Ids that may be the OA's, most telling first (management events carry oa_id / oaId)."""
        extra = self.model_extra or {}
        found = [
            self.oa_id,
            extra.get("oaId"),
            self.recipient.id if self.recipient else None,
            self.sender.id if self.sender else None,
        ]
        return [c for c in dict.fromkeys(found) if isinstance(c, str) and c]


def zalo_phone(phone: str) -> str:
    """Zalo writes Vietnamese numbers as 84xxxxxxxxx; consoles type 0xxxxxxxxx."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


MAX_EPOCH_MS = 4_102_444_800_000  # 2100-01-01: later times are nobody's, and date arithmetic stays in range


def epoch_ms(value: Any) -> datetime | None:
    """Zalo's epoch milliseconds (string or number) as a UTC time; None when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    if not text.isdigit() or len(text) > 15 or int(text) > MAX_EPOCH_MS:
        return None
    return datetime.fromtimestamp(int(text) / 1000, tz=UTC)


def from_epoch_ms(value: Any, fallback: datetime | None = None) -> datetime:
    """Like epoch_ms, for a field Zalo always fills; `fallback` (or now) when it does not."""
    return epoch_ms(value) or fallback or datetime.now(UTC)


class EventKind(StrEnum):
    user_message = "user_message"
    anonymous_message = "anonymous_message"
    oa_echo = "oa_echo"
    oa_anonymous_echo = "oa_anonymous_echo"
    chat_now = "chat_now"
    received = "received"
    seen = "seen"
    reaction = "reaction"
    follow = "follow"
    unfollow = "unfollow"
    submit_info = "submit_info"
    tag = "tag"
    zns_receipt = "zns_receipt"
    zns_feedback = "zns_feedback"
    zns_template = "zns_template"
    consent_sent = "consent_sent"
    consent_reply = "consent_reply"
    zalo_call = "zalo_call"  # a call through Zalo ended (user_call_oa, oa_call_user)
    oa_daily_quota = "oa_daily_quota"  # the OA's ZNS daily quota changed (hub.oa_links)
    template_quality = "template_quality"  # a ZNS template's sending quality changed (hub.oa_links)
    journey = "journey"  # a ZNS journey charged or ended (hub.journeys)
    other = "other"  # known to Zalo, kept raw (journeys)


_OTHER_KNOWN: set[str] = set()


_BY_NAME: dict[str, EventKind] = {
    "user_call_oa": EventKind.zalo_call,
    "oa_call_user": EventKind.zalo_call,
    "oa_send_consent": EventKind.consent_sent,
    "user_reply_consent": EventKind.consent_reply,
    "user_feedback": EventKind.zns_feedback,
    "change_template_status": EventKind.zns_template,
    "change_oa_daily_quota": EventKind.oa_daily_quota,
    "change_template_quality": EventKind.template_quality,
    "user_click_chatnow": EventKind.chat_now,
    "user_seen_message": EventKind.seen,
    "user_reacted_message": EventKind.reaction,
    "oa_reacted_message": EventKind.reaction,
    "follow": EventKind.follow,
    "unfollow": EventKind.unfollow,
    "user_submit_info": EventKind.submit_info,
    "add_user_to_tag": EventKind.tag,
    "remove_user_from_tag": EventKind.tag,
    "remove_tag": EventKind.tag,
    "event_journey_acknowledged": EventKind.journey,
    "event_journey_time_out": EventKind.journey,
}


def classify(event: ZaloWebhook) -> EventKind | None:
    """Which domain handler an event goes to; None for an event_name the hub does not know."""
    name = event.event_name
    if name in _OTHER_KNOWN:
        return EventKind.other
    exact = _BY_NAME.get(name)  # before the prefixes: oa_send_consent is no OA message
    if exact is not None:
        return exact
    if name.startswith("user_send_"):
        return EventKind.user_message
    if name.startswith("anonymous_send_"):
        return EventKind.anonymous_message
    if name.startswith("oa_send_anonymous_"):
        return EventKind.oa_anonymous_echo
    if name.startswith("oa_send_"):
        return EventKind.oa_echo
    if name == "user_received_message":
        zns = event.message is not None and (event.message.tracking_id or event.message.delivery_time)
        return EventKind.zns_receipt if zns else EventKind.received
    return None


def message_kind(event_name: str) -> str:
    """user_send_image -> image, oa_send_anonymous_text -> text, user_send_business_card -> business_card."""
    for prefix in ("user_send_", "anonymous_send_", "oa_send_anonymous_", "oa_send_"):
        if event_name.startswith(prefix):
            return event_name[len(prefix) :]
    return event_name


class MessageStatus(StrEnum):
    received = "received"  # inbound
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    seen = "seen"
    failed = "failed"


# An outbound message's status only moves forward along this order.
STATUS_RANK = {MessageStatus.sending: 0, MessageStatus.sent: 1, MessageStatus.delivered: 2, MessageStatus.seen: 3}
