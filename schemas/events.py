"""The realtime contract: the envelope, one model per event type a console can receive, and the audience.

A stored event reaches a console as `Envelope` (its `data` one of `STORED`'s models); an ephemeral
one (typing, viewing, presence, wallboard figures, sync markers) as its model alone, never
sequenced or replayed. /api/asyncapi.json is generated from these models (hub.realtime.contract),
and the tests validate every event a test console receives against them.

Ids are named one way: every thread event carries `thread_id`, every call event `call_id` (the
PBX's id of the call; `id` is the hub's record id, which /api/calls/{call_id} takes). Thread
summaries in thread.created/updated/assigned still carry the same id as `id` as well, for consoles
written before `thread_id` (to be dropped after one release).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.calls import CallRecord, MissedCallView
from schemas.chat import Failure, Label, Message, ThreadSummary
from schemas.contacts import Contact
from schemas.directory import Company, Department, Member, Role
from schemas.followers import Follower
from schemas.jobs import Job
from schemas.journeys import Journey
from schemas.rest import OaLink


class Audience(BaseModel):
    """Who may receive an event: named members, and everyone holding one of the roles.

    Computed by the domain code next to the change (through hub.rulebook), stored with the event,
    and checked for each console at push time and at replay.
    """

    members: list[str] = Field(default_factory=list)
    roles: list[Role] = Field(default_factory=list)
    # The thread an event is about: a console whose member an earlier event revoked it from receives
    # no more of it through `members` until an event restores it (checked at push time, in seq order).
    thread_id: str | None = None
    # Wallboard displays receive only events published for them (masked, never chat content).
    wallboards: bool = False
    # What the event does to its receivers' connections, applied in seq order live and on replay:
    revokes: list[str] = Field(default_factory=list)  # these members get no more of `thread_id` by name
    restores: list[str] = Field(default_factory=list)  # these members get `thread_id`'s events again
    disconnects: list[str] = Field(default_factory=list)  # consoles of these members (or displays) close


def wallboard_key(token_id: str) -> str:
    """What a wall display's console goes by where a member's would go by its member id."""
    return f"wallboard:{token_id}"


class Envelope(BaseModel):
    """Every stored event as a console receives it; `seq` is per company, gap-free in what a console
    may see, and is what it sends back as `last_seq` when it reconnects."""

    model_config = ConfigDict(extra="forbid")
    seq: int
    type: str
    company_id: str
    at: datetime
    data: dict[str, Any]


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- threads and messages (to the owners and the thread's assignee) ----------------------------------


class ThreadEvent(ThreadSummary):
    """thread.created, thread.updated: the thread's summary as GET /api/threads/{thread_id} gives it."""

    model_config = ConfigDict(extra="forbid")
    thread_id: str


class ThreadAssigned(ThreadEvent):
    """thread.assigned: the summary after the move, and who moved it from whom to whom."""

    from_member_id: str | None
    to_member_id: str | None
    by_member_id: str | None
    auto: bool


class ThreadRemoved(_Event):
    """thread.removed: to the member who lost the thread; nothing more of it reaches them."""

    thread_id: str


class ReplyWindowChanged(_Event):
    thread_id: str
    state: Literal["free", "charged", "blocked"]
    until: datetime | None


class MessageCreated(Message):
    model_config = ConfigDict(extra="forbid")


class MessageUpdated(_Event):
    """message.updated: the fields that changed (a receipt's status and its time, or reactions)."""

    message_id: str
    thread_id: str
    status: str | None = None
    delivered_at: datetime | None = None
    seen_at: datetime | None = None
    failure: Failure | None = None
    reactions: dict[str, str] | None = None


# -- labels, directory, company ---------------------------------------------------------------------


class LabelCreated(Label):
    model_config = ConfigDict(extra="forbid")


class LabelUpdated(Label):
    """label.updated: the label renamed or recoloured."""

    model_config = ConfigDict(extra="forbid")


class LabelRemoved(_Event):
    id: str


class DepartmentEvent(Department):
    """department.created, department.updated: the department as GET /api/departments lists it."""

    model_config = ConfigDict(extra="forbid")


class DepartmentRemoved(_Event):
    id: str


class SessionRevoked(_Event):
    """session.revoked: the account's tokens were revoked (its password changed); this member's consoles
    are then closed and refused until they connect with a token issued since."""

    member_id: str


class MemberEvent(Member):
    """member.created, member.updated, member.removed (then the removed member's consoles close)."""

    model_config = ConfigDict(extra="forbid")


class CompanyUpdated(Company):
    model_config = ConfigDict(extra="forbid")


class OaLinkEvent(OaLink):
    """oa_link.created, oa_link.updated: the link as GET /api/oa-links lists it (linked, relinked,
    routed, disconnected, its OA info or quota read, its refresh token near lapsing or lapsed)."""

    model_config = ConfigDict(extra="forbid")


class HotlineCreated(_Event):
    """hotline.created: to every member (every member lists hotlines)."""

    id: str
    number: str
    name: str | None
    department_id: str | None


class HotlineRemoved(_Event):
    id: str
    number: str


class ExtensionCreated(_Event):
    """extension.created: a number added to the directory, free until given to a member."""

    number: str
    name: str | None
    member_id: str | None


class ExtensionRemoved(_Event):
    """extension.removed: the number left the directory; `state` is what owners and managers keep seeing
    when the PBX still reports the number (as an unlisted extension), else null."""

    number: str
    state: str | None


class WallboardIssued(_Event):
    """wallboard.issued: a display token was issued (never the token itself)."""

    id: str
    name: str
    created_at: datetime


class WallboardRevoked(_Event):
    """wallboard.revoked: `id` is the token's; displays using it are disconnected."""

    id: str


# -- calls (supervisors and the members a call rang; masked to wall displays) --------------------------


class CallUpdated(CallRecord):
    """call.updated: the call record (to wall displays with every outside number masked, no recordings)."""

    model_config = ConfigDict(extra="forbid")


class RangExtension(_Event):
    extension: str
    ring_s: float | None


class CallMissed(_Event):
    """call.missed: who called, which extensions rang and for how long, and why nobody answered."""

    id: str
    call_id: str
    from_: str | None = Field(alias="from")
    hotline: str | None
    rang: list[RangExtension]
    wait_s: float | None
    end_reason: str | None
    end_reason_text: dict[str, str]
    text: dict[str, str]  # {"vi": ..., "en": ...}


class MissedCallUpdated(MissedCallView):
    """missed_call.updated: a missed call's follow-up (opened, assigned, called back, handled)."""

    model_config = ConfigDict(extra="forbid")


class ExtensionState(_Event):
    extension: str
    state: str
    since: datetime


# -- Zalo outreach (supervisors; a consent's requester) -------------------------------------------------


class ConsentUpdated(_Event):
    id: str
    oa_id: str
    oa_link_id: str
    phone: str
    reason_code: int
    call_type: str
    requested_by: str | None
    status: str
    send_status: str
    failure: dict[str, Any] | None
    charged: bool | None
    created_at: datetime
    answered_at: datetime | None
    expires_at: datetime | None
    customer_answer: Any
    can_resend_at: datetime | None


class ZnsUpdated(_Event):
    id: str
    oa_id: str
    phone: str
    template_id: str
    template_data: dict[str, Any] | None
    tracking_id: str | None
    msg_id: str | None
    otp: bool | None
    status: str
    failure: dict[str, Any] | None
    sent_at: datetime | None
    delivered_at: datetime | None
    charged: bool | None
    unit_price: float | None
    review: dict[str, Any] | None
    sent_by: str | None
    kind: str = "phone"  # phone, or journey (sent within a journey, hub.journeys)
    journey_id: str | None = None
    campaign_id: str | None = None  # sent by a ZNS campaign (hub.zns_campaigns)


class ZnsTemplateUpdated(_Event):
    oa_id: str
    template_id: str
    status: str | None
    reason: str | None


class FollowerUpdated(Follower):
    """follower.updated: an OA follower as GET /api/followers/{id} gives it (new, followed, unfollowed, shared
    info, tags, detail synced, or a new minute of last interaction)."""

    model_config = ConfigDict(extra="forbid")


class JobUpdated(Job):
    """job.updated: a long job (an import, a bulk send, a sync) changed status or made progress, as
    GET /api/jobs/{id} gives it; to its creator and to owners and managers."""

    model_config = ConfigDict(extra="forbid")


class JourneyUpdated(Journey):
    """journey.updated: a ZNS journey created, sent in, charged or expired (Zalo's webhook or time), as
    GET /api/zns/journeys/{id} gives it; to owners and managers."""

    model_config = ConfigDict(extra="forbid")


class SeqSkipped(_Event):
    """A seq held by a concurrent attempt of a change: reaches nobody."""


STORED: dict[str, type[BaseModel]] = {
    "thread.created": ThreadEvent,
    "thread.updated": ThreadEvent,
    "thread.assigned": ThreadAssigned,
    "thread.removed": ThreadRemoved,
    "reply_window.changed": ReplyWindowChanged,
    "message.created": MessageCreated,
    "message.updated": MessageUpdated,
    "label.created": LabelCreated,
    "label.updated": LabelUpdated,
    "label.removed": LabelRemoved,
    "department.created": DepartmentEvent,
    "department.updated": DepartmentEvent,
    "department.removed": DepartmentRemoved,
    "session.revoked": SessionRevoked,
    "member.created": MemberEvent,
    "member.updated": MemberEvent,
    "member.removed": MemberEvent,
    "company.updated": CompanyUpdated,
    "oa_link.created": OaLinkEvent,
    "oa_link.updated": OaLinkEvent,
    "wallboard.revoked": WallboardRevoked,
    "wallboard.issued": WallboardIssued,
    "hotline.created": HotlineCreated,
    "hotline.removed": HotlineRemoved,
    "extension.created": ExtensionCreated,
    "extension.removed": ExtensionRemoved,
    "call.updated": CallUpdated,
    "call.missed": CallMissed,
    "missed_call.updated": MissedCallUpdated,
    "extension.state": ExtensionState,
    "consent.updated": ConsentUpdated,
    "zns.updated": ZnsUpdated,
    "zns.template_updated": ZnsTemplateUpdated,
    "job.updated": JobUpdated,
    "seq.skipped": SeqSkipped,
    "follower.updated": FollowerUpdated,
    "journey.updated": JourneyUpdated,
}


# -- contacts (to every member) ------------------------------------------------------------------------


class ContactEvent(Contact):
    """contact.created, contact.updated: the contact as GET /api/contacts lists it."""

    model_config = ConfigDict(extra="forbid")


class ContactRemoved(_Event):
    id: str


class ContactsImported(_Event):
    """contacts.imported: an import finished; its contacts came without one event each (read the list again)."""

    job_id: str
    created: int
    updated: int


STORED.update(
    {
        "contact.created": ContactEvent,
        "contact.updated": ContactEvent,
        "contact.removed": ContactRemoved,
        "contacts.imported": ContactsImported,
    }
)


# -- ephemeral: never stored, never replayed ------------------------------------------------------------


class PresenceUpdated(_Event):
    """To owners and managers: a member's presence across all their consoles."""

    member_id: str
    status: Literal["available", "away", "offline"]


class Typing(_Event):
    """To the other consoles that may see the thread."""

    thread_id: str
    member_id: str


class ThreadViewing(_Event):
    thread_id: str
    member_id: str
    viewing: bool


class WallboardCounters(_Event):
    """To wall displays, within a moment of a call change: today's figures."""

    company_id: str
    at: datetime
    counters: dict[str, Any]


class WallboardSnapshot(WallboardCounters):
    """To wall displays after their sync and every few seconds: everything the display shows."""

    company_name: str
    timezone: str
    day_started_at: datetime
    live_calls: list[CallUpdated]
    extensions: list[dict[str, str]]


class SyncMarker(_Event):
    """sync.done: the replay after `last_seq` is complete; live events follow. sync.reset: the gap was
    older than the retained log; refetch over REST and continue from `seq`."""

    seq: int


EPHEMERAL: dict[str, type[BaseModel]] = {
    "presence.updated": PresenceUpdated,
    "typing": Typing,
    "thread.viewing": ThreadViewing,
    "wallboard.counters": WallboardCounters,
    "wallboard.snapshot": WallboardSnapshot,
    "sync.done": SyncMarker,
    "sync.reset": SyncMarker,
}


# What a console sends (Socket.IO emits with an acknowledgement).
class PresenceSet(_Event):
    status: Literal["available", "away"]


class TypingSent(_Event):
    thread_id: str


class ViewingSent(_Event):
    thread_id: str
    viewing: bool = True


SENT: dict[str, type[BaseModel]] = {"presence.set": PresenceSet, "typing": TypingSent, "thread.viewing": ViewingSent}


class ConnectAuth(_Event):
    """The Socket.IO `auth` a console connects with."""

    token: str = Field(description="a member's token from POST /api/auth/login, or a wallboard token")
    last_seq: int | None = Field(default=None, ge=0, description="the last seq received; replay what followed")
    status: Literal["available", "away"] | None = None


class ConnectRefused(_Event):
    """Why a connection was refused (`connect_error` data)."""

    message: str
    data: dict[
        str, Literal["starting", "bad_token", "member_removed", "token_revoked", "wallboard_revoked", "bad_request"]
    ]


class UnknownEventType(ValueError):
    pass


def validate(type_: str, data: Any) -> BaseModel:
    """The payload of an event a console receives, checked against its model (raises when it does not fit)."""
    model = STORED.get(type_) or EPHEMERAL.get(type_)
    if model is None:
        raise UnknownEventType(f"{type_!r} is not in the event catalogue (schemas/events.py)")
    return model.model_validate(data)


__all__ = ["Audience", "Envelope", "STORED", "EPHEMERAL", "SENT", "validate", "wallboard_key"]
