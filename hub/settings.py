"""Every setting of the hub: environment variables prefixed HUB_ (PORT honoured for the Procfile)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    # Storage. Unset URI -> an embedded SecantusDB child process with data under data_dir.
    mongodb_uri: str | None = None
    mongodb_db: str = "hub"
    data_dir: Path = Path(".hub-data")
    embedded_start_timeout_s: float = 30.0
    # How long a MongoDB call may take before the hub answers 503 (the sender retries).
    mongodb_timeout_ms: int = 5000

    # Fan-out. Unset -> in-memory, single process. Set -> python-socketio's AsyncRedisManager.
    redis_url: str | None = None
    redis_channel: str = "hub"

    host: str = "127.0.0.1"
    port: int = Field(8000, validation_alias=AliasChoices("HUB_PORT", "PORT"))
    # Processes serving the one port (`hub serve --workers N`), each with its own event loop; above 1
    # they share events through Redis, so HUB_REDIS_URL is required. One per core is the usual choice.
    workers: int = Field(1, ge=1, le=64)

    # Tokens. Unset -> a random secret generated once and kept in the database, so every hub
    # process and the CLI of one deployment agree. Production should set it.
    jwt_secret: SecretStr | None = None
    token_ttl_s: int = 12 * 3600
    # Password guessing: after this many wrong passwords for one phone number, its logins are refused
    # (429, even with the right password) until `login_lock_s` after the first of them.
    login_max_failures: int = 5
    login_lock_s: float = 900.0

    # The audit log (GET /api/audit) keeps entries this long; the scheduler prunes older ones.
    audit_retention_days: float = 365.0

    # Realtime.
    event_retention_days: float = 7.0
    # An event that arrives ahead of a missing seq waits this long before the log is read for the gap.
    gap_wait_s: float = 0.3
    # A seq still missing from the log after this long is taken as never committed (publisher died).
    hole_timeout_s: float = 10.0
    # Each process re-reads the log this often for events its bus subscription may have missed.
    catchup_interval_s: float = 5.0
    replay_batch: int = 500
    # A company's stream (and its memory of recent events) outlives its last console this long.
    stream_linger_s: float = 120.0
    # Engine.IO heartbeat: a console that stops answering is dropped after interval + timeout.
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    # Presence: each process refreshes its consoles this often; an entry not refreshed expires (a
    # process that died), so a vanished console is offline within a minute.
    presence_heartbeat_s: float = 15.0
    presence_ttl_s: float = 45.0
    wallboard_snapshot_s: float = 5.0
    # Measured in bench/: orjson for Socket.IO packets, and fewer GC passes over thousands of
    # long-lived connection objects (gc.freeze after start-up, a higher first-generation threshold).
    fast_json: bool = True
    gc_tuning: bool = True
    # Check every published event against the catalogue (schemas/events.py) and refuse one that does not
    # fit: on in the tests, off in production (it would cost every publish a validation).
    validate_events: bool = False

    # Calls: a call is finalized (missed or not, alert sent once) this long after it ended, so legs
    # reported late still count; the loop that does it runs this often.
    call_finalize_grace_s: float = 1.0
    # A dialled number is an extension when the company registered it, when the format says it is the
    # PBX's own user (Twilio client:/sip:), or when it has at most this many digits (no public phone
    # number is that short: the eTelecom and canonical formats give no other mark). Any other number is
    # an outside party: masked on wallboards, never an extension state.
    pbx_extension_max_digits: int = 6
    call_finalize_interval_s: float = 0.25
    # A missed call is called back when an outbound call reaches its number this many hours after it.
    missed_callback_hours: float = 24.0
    # Origins the PBX serves call recordings from (comma-separated: https://rec.pbx.vn,https://cdn.pbx.vn):
    # the console's Content-Security-Policy lets recordings play from exactly these. None by default.
    recording_hosts: Annotated[tuple[str, ...], NoDecode] = ()
    # Where Zalo serves chat voice and video (CSP media-src sources, space-separated). UNCERTAIN: these are
    # the hosts seen in Zalo's payloads; add one here if a chat voice message does not play.
    zalo_media_hosts: str = "https://*.zdn.vn https://*.zadn.vn"
    cors_origins: list[str] = []

    # Time-driven work (reply windows, consents, event-log pruning) runs this often.
    scheduler_interval_s: float = 30.0
    # A stored webhook (inbox entry) still not marked applied this long after it arrived is re-applied
    # by the scheduler: its first attempt failed half-way and its sender may never retry (a PBX).
    inbox_redo_after_s: float = 30.0
    # Long jobs (hub.jobs: imports, bulk sends, syncs): a running job's lease, renewed while it runs; when
    # its process dies another process (or this one restarted) resumes it this long after. Each process
    # looks for queued jobs this often (at once when one is started here).
    job_lease_s: float = 15.0
    job_interval_s: float = 1.0
    # ZCC call requests sent in bulk go out at most this many a second. UNCERTAIN: Zalo documents no limit
    # for requestconsent beyond the app-wide one; its rate-limit answer (-32) pauses the sending anyway.
    zcc_bulk_per_s: float = 5.0
    # ZNS campaigns (hub.zns_campaigns) send at most this many messages a second. UNCERTAIN: Zalo documents
    # no per-second limit for ZNS (reference section 11); its rate-limit answer (-32) pauses the sending.
    zns_campaign_per_s: float = 10.0
    # Tests only: a file of armed failpoints (hub.faults).
    failpoints_file: str | None = None
    # Tests only: a file holding seconds to add to the hub's clock (hub.clock.OffsetClock).
    clock_offset_file: str | None = None

    # Largest request body accepted (API and webhooks); larger ones get 413.
    max_body_bytes: int = 1024 * 1024

    # Zalo
    # Text of the "request user info" card when the agent gives none.
    request_info_title: str = "Chia sẻ thông tin liên hệ"
    request_info_subtitle: str = "Vui lòng chia sẻ số điện thoại và địa chỉ để chúng tôi hỗ trợ bạn tốt hơn."
    request_info_image_url: str = "https://stc-oa.zdn.vn/resource/request-info.png"
    zalo_timeout_s: float = 10.0
    # The hub's address as Zalo and browsers reach it (https://hub.example.vn): the webhook address
    # shown on each OA link and the OAuth callback. Unset -> the origin of the request that linked.
    public_url: str | None = None
    # OAuth v4 (reference section 7). UNCERTAIN whether Zalo wants a fresh PKCE pair per request (its
    # SDKs) or the one pair registered in the app's console: set this to that pair's code verifier
    # (43 letters and digits) to send its challenge every time; unset -> a fresh pair per request.
    zalo_oauth_code_verifier: SecretStr | None = None
    # How long a "Link with Zalo" stays open for the callback (Zalo's code itself lives 10 minutes).
    zalo_oauth_state_ttl_s: float = 600.0
    # A refresh token lives 3 months from linking or its last use; the console warns this long before.
    oa_refresh_token_days: float = 90.0
    oa_refresh_warning_days: float = 7.0

    log_level: str = "INFO"
    log_json: bool = True

    # Outside services (used by clients/).
    zalo_openapi_url: str = "https://openapi.zalo.me"
    zalo_oauth_url: str = "https://oauth.zaloapp.com"
    zalo_business_url: str = "https://business.openapi.zalo.me"

    # OA followers sync (hub.followers): the first wait after Zalo's rate limit (-32) or an outage, doubled
    # on each retry (up to a minute).
    followers_retry_base_s: float = 2.0
    # Zalo's largest offset in the user list ("tối đa 9951", reference section 9): 10,000 users per filter,
    # beyond which a sync walks slices of days.
    zalo_user_list_max_offset: int = 9951
    # Contacts (hub.contact_import): the largest file and the most rows an import takes (413 beyond).
    contacts_import_max_bytes: int = 20 * 1024 * 1024
    contacts_import_max_rows: int = 50_000

    @field_validator("recording_hosts", mode="before")
    @classmethod
    def _origins(cls, value: object) -> object:
        """Comma-separated origins; anything but scheme://host[:port] is refused, since each goes into a
        Content-Security-Policy as it is."""
        if not isinstance(value, str):
            return value
        origins = tuple(part.strip().rstrip("/") for part in value.split(",") if part.strip())
        for origin in origins:
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin such as https://rec.pbx.vn or http://10.0.0.5:8080")
        return origins

    @property
    def event_retention_s(self) -> float:
        return self.event_retention_days * 86400

    @property
    def audit_retention_s(self) -> float:
        return self.audit_retention_days * 86400


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]  # every field has a default or comes from HUB_* variables
