"""PBX call events: the hub's canonical call event, the vendor formats it accepts, and call records."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CallState(StrEnum):
    new = "new"
    queued = "queued"
    ringing = "ringing"
    answered = "answered"
    held = "held"
    ended = "ended"


# Call state only moves forward along this order; answered and held swap places freely.
STATE_RANK = {
    CallState.new: 0,
    CallState.queued: 1,
    CallState.ringing: 2,
    CallState.answered: 3,
    CallState.held: 3,
    CallState.ended: 5,
}
LIVE_STATES = (CallState.queued.value, CallState.ringing.value, CallState.answered.value, CallState.held.value)

Direction = Literal["inbound", "outbound", "internal"]
EventName = Literal["ringing", "queued", "answered", "held", "unheld", "transferred", "leg_ended", "ended"]


def _utc(value: Any) -> Any:
    """Epoch seconds or milliseconds as a UTC time; a number no calendar holds is refused by name."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise ValueError("not a time between years 1 and 9999 (epoch seconds or milliseconds)") from None
    return value


class CallEvent(BaseModel):
    """The hub's canonical call event: one state change of one call (or one of its legs)."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")
    call_id: str = Field(min_length=1, max_length=200)
    leg_id: str | None = Field(default=None, max_length=200)
    event: EventName
    occurred_at: datetime
    direction: Direction | None = None
    from_: str | None = Field(default=None, alias="from", max_length=64)
    to: str | None = Field(default=None, max_length=64)
    hotline: str | None = Field(default=None, max_length=64)
    extension: str | None = Field(default=None, max_length=64)
    # The format says the endpoint is the PBX's own (a SIP user): an extension even if unregistered.
    internal: bool = False
    # An outside party a leg rings (set by the hub when `extension` is no extension of the company).
    party: str | None = Field(default=None, max_length=64)
    # Who held the extension when it rang (set by the hub: a call belongs to members as they were).
    member_id: str | None = None
    department_id: str | None = None
    channel: Literal["pbx", "zalo"] = "pbx"  # a call through the company's PBX, or through its Zalo OA
    transfer_to: str | None = Field(default=None, max_length=64)  # with event=transferred
    sip_code: int | None = None
    q850: int | None = None
    vendor_status: str | None = Field(default=None, max_length=64)
    hangup_by: str | None = Field(default=None, max_length=64)
    recording_url: str | None = Field(default=None, max_length=2000)
    duration_s: float | None = Field(default=None, ge=0)
    talk_s: float | None = Field(default=None, ge=0)

    @field_validator("occurred_at", mode="before")
    @classmethod
    def _epoch(cls, value: Any) -> Any:
        return _utc(value)

    @field_validator("occurred_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        # Milliseconds, as MongoDB keeps them: a re-delivered event then folds to the very same record.
        value = value.replace(microsecond=value.microsecond // 1000 * 1000)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class CallTarget(BaseModel):
    model_config = ConfigDict(extra="allow")
    target_number: str
    ring_time: datetime | None = None
    answered_time: datetime | None = None
    ended_time: datetime | None = None
    ring_duration: float | None = None
    status: str | None = None
    end_reason: str | None = None
    fail_code: int | str | None = None


class EtelecomCallLog(BaseModel):
    """eTelecom's call log, usually posted once at the end of a call."""

    model_config = ConfigDict(extra="allow")
    id: str
    call_state: str
    direction: Literal["in", "out", "ext", "ext_in", "ext_out"]
    caller: str
    callee: str
    extension_id: str | None = None
    user_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    duration: float | None = None
    recording_urls: list[str] = Field(default_factory=list)
    call_targets: list[CallTarget] = Field(default_factory=list)
    hotline: str | None = None


class TwilioStatus(BaseModel):
    """A Twilio-style voice status callback (form fields)."""

    model_config = ConfigDict(extra="allow")
    CallSid: str
    ParentCallSid: str | None = None
    CallStatus: Literal[
        "queued", "initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "canceled", "failed"
    ]
    SequenceNumber: str | None = None
    From: str | None = None
    To: str | None = None
    Direction: str | None = None
    CallDuration: str | None = None
    SipResponseCode: str | None = None
    Timestamp: str | None = None
    RecordingUrl: str | None = None


class Leg(BaseModel):
    leg_id: str
    extension: str | None = None
    party: str | None = None  # an outside number the leg rang (never an extension)
    member_id: str | None = None  # who held the extension when it rang
    department_id: str | None = None  # and their department then
    state: str
    ring_started_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ring_s: float | None = None
    end_reason: str | None = None


class CallRecord(BaseModel):
    id: str
    call_id: str
    state: str
    direction: str | None = None
    from_number: str | None = None
    to_number: str | None = None
    hotline: str | None = None
    extensions: list[str] = Field(default_factory=list)
    channel: str = "pbx"  # pbx | zalo (a call through the Zalo OA)
    members: list[str] = Field(default_factory=list)  # who the call rang, as they were then
    departments: list[str] = Field(default_factory=list)
    legs: list[Leg] = Field(default_factory=list)
    started_at: datetime | None = None
    wait_started_at: datetime | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    answered_member_id: str | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    end_reason_text: dict[str, str] | None = None
    sip_code: int | None = None
    q850: int | None = None
    vendor_status: str | None = None
    hangup_by: str | None = None
    recording_urls: list[str] = Field(default_factory=list)
    transfers: list[dict[str, Any]] = Field(default_factory=list)
    duration_s: float | None = None
    talk_s: float | None = None
    wait_s: float | None = None
    missed: bool | None = None
    short_abandoned: bool | None = None
    outcome: str | None = None  # answered | missed | short_abandoned | failed | unanswered (history filter)
    version: int = 0


class CallRow(CallRecord):
    """A call as the console's lists show it (GET /api/calls, /api/calls/live, /api/calls/{call_id}): its
    record, and the Zalo thread of the customer behind it when the reader may see one (hub.call_customers)."""

    thread_id: str | None = None


class CallList(BaseModel):
    calls: list[CallRow]
    # The id of this page's last call, to send as `before` for the next page; null on the last page.
    next_before: str | None = None


MissedCallState = Literal["open", "called_back", "handled"]


class RangExtension(BaseModel):
    extension: str
    ring_s: float | None


class MissedCallView(BaseModel):
    """A missed call as work (hub.missed_calls): who rang, how long they waited, which extensions rang, and
    its follow-up: open until called back (`callback_call_id`, the outbound call that reached the number)
    or handled by hand (`note`)."""

    id: str  # the call record's id
    call_id: str
    from_number: str | None
    hotline: str | None
    started_at: datetime | None
    ended_at: datetime | None
    wait_s: float | None
    rang: list[RangExtension]
    members: list[str]  # the members it rang
    state: MissedCallState
    assignee_id: str | None
    note: str | None
    handled_by: str | None
    handled_at: datetime | None
    callback_call_id: str | None
    called_back_at: datetime | None
    version: int


class MissedCallRow(MissedCallView):
    """A missed call as GET /api/missed-calls lists it: with the Zalo thread of the caller when the reader may
    see one (hub.call_customers)."""

    thread_id: str | None = None


class MissedCallCounts(BaseModel):
    open: int
    called_back: int
    handled: int


class MissedCallList(BaseModel):
    missed_calls: list[MissedCallRow]
    counts: MissedCallCounts  # by state, over the same filter but the state
