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


class Company(BaseModel):
    id: str
    code: str
    name: str
    timezone: str = "Asia/Ho_Chi_Minh"
    settings: CompanySettings = Field(default_factory=CompanySettings)


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


class CompanyChoice(BaseModel):
    code: str
    name: str
    role: Role
