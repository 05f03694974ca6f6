"""Bodies of the console REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from schemas.directory import (
    CompanyBusiness,
    CompanyChoice,
    CompanyContact,
    CompanySettings,
    Department,
    Member,
    Role,
)


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody


class LoginRequest(BaseModel):
    phone: str = Field(min_length=3, max_length=32)
    password: str = Field(min_length=1, max_length=256)
    company_code: str | None = None


class LoginResponse(BaseModel):
    token: str | None = None
    member: Member | None = None
    companies: list[CompanyChoice] | None = None


class MemberCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=3, max_length=32)
    role: Role
    department_id: str | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)


class MemberCreated(BaseModel):
    member: Member
    password: str | None = None  # only when the hub generated it


class MemberUpdate(BaseModel):
    """PATCH /api/members/{id}: only the fields sent change (`department_id: null` takes them out of theirs)."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role | None = None
    department_id: str | None = None


class MemberList(BaseModel):
    members: list[Member]


class ExtensionAssign(BaseModel):
    extension: str = Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z*#+_-]+$")


class MissedCallHandled(BaseModel):
    note: str = Field(min_length=1, max_length=2000)  # what was done about it


class MissedCallAssign(BaseModel):
    member_id: str | None  # None: nobody


class DepartmentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class DepartmentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class DepartmentList(BaseModel):
    departments: list[Department]


class OaInfo(BaseModel):
    """The OA as Zalo's OA-info API (getoa, reference section 8) last described it."""

    name: str | None = None
    avatar: str | None = None
    description: str | None = None
    num_follower: int | None = None
    is_verified: bool | None = None
    package_name: str | None = None
    package_valid_through: str | None = None  # as Zalo writes it (dd/mm/yyyy in some answers)
    linked_zca: bool | None = None
    fetched_at: datetime | None = None


class OaQuota(BaseModel):
    """One package allowance of the OA (POST /v3.0/oa/quota/message with quota_owner, section 8)."""

    product_type: str | None = None  # cs | transaction
    quota_type: str | None = None  # sub_quota | purchase_quota | reward_quota
    valid_through: str | None = None
    total: int | None = None
    remain: int | None = None


class OaLink(BaseModel):
    """An OA link as the API shows it: never a secret or a token."""

    id: str
    name: str
    app_id: str
    oa_id: str
    department_id: str | None = None
    status: str  # active (connected) | disconnected
    connected_at: datetime | None = None
    token_expires_at: datetime | None = None  # the access token's (25 h, refreshed by the hub)
    # The refresh token lives 3 months from linking or the last refresh (reference sections 3, 7).
    refresh_expires_at: datetime | None = None
    refresh_warning: bool = False  # within HUB_OA_REFRESH_WARNING_DAYS of the refresh token lapsing
    refresh_lapsed: bool = False  # the refresh token lapsed: the owner must link the OA again
    webhook_url: str  # what to paste into the Zalo app's Webhook settings
    webhook_key_set: bool = True  # the OA secret key that verifies webhooks is known
    info: OaInfo | None = None
    info_error: str | None = None  # why the last getoa / quota read failed
    quotas: list[OaQuota] = Field(default_factory=list)
    zns_daily_quota: int | None = None  # from change_oa_daily_quota
    template_quality: dict[str, str] = Field(default_factory=dict)  # template_id -> HIGH|MEDIUM|LOW|UNDEFINED
    quality: str | None = None  # the lowest quality among the OA's templates


class OaLinkList(BaseModel):
    oa_links: list[OaLink]


class OaLinkCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    app_id: str = Field(min_length=1, max_length=64)
    oa_id: str = Field(min_length=1, max_length=64)
    oa_secret_key: str = Field(min_length=1, max_length=256)
    app_secret: str = Field(min_length=1, max_length=256)
    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str = Field(min_length=1, max_length=4096)
    department_id: str | None = None


class OaLinkRelink(BaseModel):
    access_token: str = Field(min_length=1, max_length=4096)
    refresh_token: str = Field(min_length=1, max_length=4096)
    oa_secret_key: str | None = Field(default=None, min_length=1, max_length=256)
    app_secret: str | None = Field(default=None, min_length=1, max_length=256)


class OaLinkUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    department_id: str | None = None
    oa_secret_key: str | None = Field(default=None, min_length=1, max_length=256)


class OaOAuthStart(BaseModel):
    """Link an OA through Zalo's permission page (OAuth v4 with PKCE, reference section 7)."""

    app_id: str = Field(min_length=1, max_length=64)
    app_secret: str = Field(min_length=1, max_length=256)
    # The "OA Secret Key" of the app's Webhook settings, which verifies webhooks: OAuth does not give it.
    oa_secret_key: str | None = Field(default=None, min_length=1, max_length=256)
    department_id: str | None = None


class OaOAuthRelink(BaseModel):
    """Relink an existing OA through Zalo's permission page; the stored app secret unless one is given."""

    app_secret: str | None = Field(default=None, min_length=1, max_length=256)
    oa_secret_key: str | None = Field(default=None, min_length=1, max_length=256)


class OaOAuthUrl(BaseModel):
    url: str  # Zalo's permission page: open it in the browser


class CompanyUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    settings: CompanySettings | None = None
    contact: CompanyContact | None = None  # only the fields sent change
    business: CompanyBusiness | None = None


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=256)
    new: str = Field(min_length=8, max_length=256)


class SessionToken(BaseModel):
    """A fresh token for the caller (after a password change, or for another company of the account)."""

    token: str
    member: Member


class AlertPreferences(BaseModel):
    """The member's own alerts in the console (GET/PATCH /api/account/preferences): browser notifications
    (off until the member turns them on, which asks the browser's permission) and a short sound."""

    notify: bool = False
    sound: bool = True


class AlertPreferencesChange(BaseModel):
    """PATCH /api/account/preferences: only the fields sent change; each is true or false, nothing else."""

    model_config = ConfigDict(extra="forbid")
    notify: StrictBool | None = None
    sound: StrictBool | None = None


class AccountCompany(BaseModel):
    company_id: str
    code: str
    name: str
    role: Role


class AccountCompanies(BaseModel):
    companies: list[AccountCompany]


class CompanySwitch(BaseModel):
    company_code: str = Field(min_length=1, max_length=64)


class AuditSubject(BaseModel):
    id: str | None = None
    name: str | None = None


class AuditEntry(BaseModel):
    id: str
    company_id: str
    at: datetime
    member_id: str | None
    member_name: str | None
    action: str
    subject: AuditSubject
    details: dict[str, Any] = Field(default_factory=dict)


class AuditList(BaseModel):
    entries: list[AuditEntry]
    next_before: str | None = None  # pass as `before` for the next (older) page


class HotlineCreate(BaseModel):
    number: str = Field(min_length=1, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    department_id: str | None = None


class ExtensionCreate(BaseModel):
    number: str = Field(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z*#+_-]+$")
    name: str | None = Field(default=None, max_length=200)


class WallboardTokenCreate(BaseModel):
    name: str = Field(default="Wallboard", min_length=1, max_length=100)


class ConsentRequest(BaseModel):
    oa_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=8, max_length=20)
    reason_code: int
    call_type: Literal["audio", "video", "audio_and_video"] = "audio"


class ZnsSend(BaseModel):
    oa_id: str = Field(min_length=1, max_length=64)
    phone: str = Field(min_length=8, max_length=20)
    template_id: str = Field(min_length=1, max_length=64)
    template_data: dict[str, Any] = Field(default_factory=dict)
    tracking_id: str | None = Field(default=None, min_length=1, max_length=64)
    # Ignored, kept for older clients: whether a message is OTP (charged only if delivered within 15 s)
    # comes from Zalo's template (its tag or its Z-time), not from the sender.
    otp: bool = False
