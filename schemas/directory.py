"""The company directory as consoles see it: companies, members, departments, roles."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    owner = "owner"
    manager = "manager"
    user = "user"


class CompanySettings(BaseModel):
    """Per-company rules supervisors tune."""

    max_open_threads: int = Field(default=20, ge=1, le=1000)  # per member, for automatic assignment
    # An unanswered inbound call shorter than this is "short abandoned": counted, not alerted.
    short_abandon_s: float = Field(default=5.0, ge=0, le=600)
    service_level_s: float = Field(default=20.0, ge=1, le=3600)  # answered within this counts for service level
    zns_prices: dict[str, float] = Field(default_factory=dict)  # template id -> unit price (VND) when charged


EMAIL = r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$"


class CompanyContact(BaseModel):
    """The product guide's "Contact information" (every field optional; "" clears it)."""

    address: str | None = Field(default=None, max_length=500)
    phone: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254, pattern=EMAIL)
    website: str | None = Field(default=None, max_length=300)


class CompanyBusiness(BaseModel):
    """The product guide's "Business information"."""

    legal_name: str | None = Field(default=None, max_length=300)
    tax_code: str | None = Field(default=None, max_length=32)
    address: str | None = Field(default=None, max_length=500)


class Company(BaseModel):
    id: str
    code: str
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    settings: CompanySettings = Field(default_factory=CompanySettings)
    contact: CompanyContact = Field(default_factory=CompanyContact)
    business: CompanyBusiness = Field(default_factory=CompanyBusiness)


class Member(BaseModel):
    """A person's membership of one company (one account may be a member of several)."""

    id: str
    company_id: str
    account_id: str
    name: str
    phone: str
    role: Role
    department_id: str | None = None
    extension: str | None = None


class Department(BaseModel):
    id: str
    company_id: str
    name: str
    description: str = ""
    member_count: int = 0


class CompanyChoice(BaseModel):
    code: str
    name: str
    role: Role
