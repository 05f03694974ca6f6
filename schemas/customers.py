"""The customer page: one customer per phone number (E.164), its contact, threads, calls, ZNS and consents."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from schemas.calls import CallRow
from schemas.chat import ThreadSummary


class CustomerPhone(BaseModel):
    """PUT /api/threads/{id}/customer-phone: the number an agent typed for the thread's customer."""

    phone: str = Field(min_length=1, max_length=32)


class CustomerContact(BaseModel):
    """The company's general contact with the customer's number (the contacts list's record, as stored)."""

    id: str
    name: str | None = None
    phones: list[str] = Field(default_factory=list)
    phones_e164: list[str] = Field(default_factory=list)
    email: str | None = None
    address: str | None = None
    note: str | None = None


class CustomerOa(BaseModel):
    """One of the company's active OAs, to pick from when sending a ZCC request or a ZNS message."""

    oa_id: str
    name: str


class ThreadSection(BaseModel):
    items: list[ThreadSummary]
    more: bool  # more than the page shows: the Chats tab's phone filter lists them all


class CallSection(BaseModel):
    items: list[CallRow]
    more: bool  # the call history's phone filter lists them all


class RecordSection(BaseModel):
    """ZNS messages or consent requests, as their own lists give them."""

    items: list[dict[str, Any]]
    more: bool


class CustomerPage(BaseModel):
    """GET /api/customers/{phone}. A section the reader may not see is absent (not empty)."""

    phone: str  # E.164
    zalo_phone: str  # 84…, as ZNS and consents keep it
    name: str | None = None  # the contact's, else the Zalo name of the customer's latest thread
    contact: CustomerContact | None = None
    oas: list[CustomerOa] = Field(default_factory=list)
    may_send_zns: bool = False
    threads: ThreadSection | None = None
    calls: CallSection | None = None
    zns: RecordSection | None = None
    consents: RecordSection | None = None
