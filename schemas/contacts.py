"""General and internal contacts as the console and the REST API see them (hub.contacts owns the documents)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

PHONES_MAX = 10  # numbers on one contact
PHONE_TEXT_MAX = 32
EMAIL = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"  # empty, or something@somewhere.tld


class Contact(BaseModel):
    """A general contact: one customer, joined to chats, calls and ZNS by `phones_e164`."""

    id: str
    name: str
    phones: list[str]  # as typed
    phones_e164: list[str]  # the same numbers, +84…, in the same order
    email: str = ""
    address: str = ""
    note: str = ""
    created_at: datetime
    created_by: str | None = None  # a member id (for an import: the member who confirmed it)
    updated_at: datetime | None = None
    updated_by: str | None = None
    import_id: str | None = None  # the import that created or last changed it


class ContactCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    phones: list[str] = Field(min_length=1, max_length=PHONES_MAX)
    email: str = Field(default="", max_length=200, pattern=EMAIL)
    address: str = Field(default="", max_length=500)
    note: str = Field(default="", max_length=2000)


class ContactUpdate(BaseModel):
    """Only the fields given change; `phones` replaces the whole list."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phones: list[str] | None = Field(default=None, min_length=1, max_length=PHONES_MAX)
    email: str | None = Field(default=None, max_length=200, pattern=EMAIL)
    address: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=2000)


class ContactPage(BaseModel):
    contacts: list[Contact]
    next_before: str | None  # pass as ?before= for the next (older) page


class InternalContact(BaseModel):
    """A member as the internal directory shows them to everyone: no phone, email or role."""

    id: str
    name: str
    extension: str | None = None
    department_id: str | None = None
    department: str | None = None


class InternalContactList(BaseModel):
    contacts: list[InternalContact]
