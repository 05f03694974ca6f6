"""Zalo OA links: which company an OA belongs to, its webhook key, its tokens, and what Zalo says of it.

Secrets (OA secret key, app secret, tokens) are stored for the hub's own use and never leave it
through the API or logs. Calls to Zalo go through `call`, which refreshes an expired token once:
one refresh at a time per OA (a lock in this process, a lease in MongoDB across processes), the
rotated pair stored, conditionally on the refresh token used, before it is used.

Linking is either pasted tokens or Zalo's OAuth v4 permission flow with PKCE (reference section 7):
`oauth_start` keeps the verifier and a state server-side, `oauth_callback` exchanges the code. The
OA's name, logo, followers and package (getoa) and its allowances (quota API, section 8) are read
when linking and on demand; its ZNS daily quota and template quality arrive as webhooks (section 13).
Every change of a link is published as oa_link.created / oa_link.updated to whoever may see links.
"""

from __future__ import annotations

import asyncio
import base64
import builtins
import hashlib
import logging
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo.errors import DuplicateKeyError

from clients.zalo import TokenPair, ZaloClient, ZaloError
from hub import changes, faults, rulebook
from hub.audit import Audit
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.realtime.publish import Publisher
from hub.settings import Settings
from hub.store import Store
from schemas.rest import (
    OaInfo,
    OaLink,
    OaLinkCreate,
    OaLinkRelink,
    OaLinkUpdate,
    OaOAuthRelink,
    OaOAuthStart,
    OaQuota,
)
from schemas.zalo import ZaloWebhook

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_LEASE_S = 30
WEBHOOK_CACHE_S = 5.0
CALLBACK_PATH = "/oauth/zalo/callback"
PENDING_EVENT = "pending_event"  # oa_link.created or .updated, with hub.changes' pending mark
# Lowest first: a link shows the lowest quality among its templates.
QUALITY_RANK = {"LOW": 0, "MEDIUM": 1, "HIGH": 2, "UNDEFINED": 3}
_VERIFIER_ALPHABET = string.ascii_letters + string.digits


def new_code_verifier() -> str:
    """43 letters and digits: satisfies both readings of what Zalo accepts (reference section 7)."""
    return "".join(secrets.choice(_VERIFIER_ALPHABET) for _ in range(43))


def code_challenge(verifier: str) -> str:
    """base64url without padding of the raw SHA-256 digest of the ASCII verifier (S256)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def info_from_getoa(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """getoa's `data` as stored; field names and casing differ between sources (section 8): read either."""
    return OaInfo(
        name=_text(data.get("name")),
        avatar=_text(data.get("avatar")),
        description=_text(data.get("description")),
        num_follower=_int(data.get("num_follower")),
        is_verified=_bool(data.get("is_verified")),
        package_name=_text(data.get("package_name")),
        package_valid_through=_text(data.get("package_valid_through_date")),
        linked_zca=_bool(data.get("linked_zca", data.get("linked_ZCA"))),
        fetched_at=now,
    ).model_dump()


def quotas_from_api(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        OaQuota(
            product_type=_text(r.get("product_type")),
            quota_type=_text(r.get("quota_type")),
            valid_through=_text(r.get("valid_through")),
            total=_int(r.get("total")),
            remain=_int(r.get("remain")),
        ).model_dump()
        for r in rows
    ]


def lowest_quality(qualities: dict[str, str]) -> str | None:
    known = [q for q in qualities.values() if q in QUALITY_RANK]
    return min(known, key=QUALITY_RANK.__getitem__) if known else None


def _owner_only(actor: Principal) -> None:
    rulebook.require(actor, rulebook.Action.oa_links_manage)


@dataclass(frozen=True)
class OAuthOutcome:
    """What the callback tells the owner's browser: the link, or why not (a reason code the console words)."""

    link_id: str | None = None
    reason: str | None = None  # denied | state_unknown | state_expired | exchange_failed | other_oa | oa_taken | no_oa
    zalo_error: int | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


class OaLinks:
    def __init__(
        self, store: Store, clock: Clock, zalo: ZaloClient, publisher: Publisher, settings: Settings, audit: Audit
    ) -> None:
        self._audit = audit
        self._links = store.oa_links
        self._oauth = store.oa_oauth
        self._departments = store.departments
        self._clock = clock
        self.zalo = zalo
        self._publisher = publisher
        self._public_url = settings.public_url.rstrip("/") if settings.public_url else None
        fixed = settings.zalo_oauth_code_verifier
        self._fixed_verifier = fixed.get_secret_value() if fixed else None
        self._state_ttl = timedelta(seconds=settings.zalo_oauth_state_ttl_s)
        self._refresh_life = timedelta(days=settings.oa_refresh_token_days)
        self._warning = timedelta(days=settings.oa_refresh_warning_days)
        self._locks: dict[str, asyncio.Lock] = {}
        self._webhook_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    # -- the view and its events ------------------------------------------------------------------

    def base_url(self, origin: str) -> str:
        """Where Zalo and browsers reach the hub: HUB_PUBLIC_URL, else the origin the request came to."""
        return self._public_url or origin.rstrip("/")

    def view(self, doc: dict[str, Any]) -> OaLink:
        notice = doc.get("refresh_notice") if doc["status"] == "active" else None
        qualities = doc.get("template_quality") or {}
        info = doc.get("info")
        return OaLink(
            id=doc["_id"],
            name=doc["name"],
            app_id=doc["app_id"],
            oa_id=doc["oa_id"],
            department_id=doc.get("department_id"),
            status=doc["status"],
            connected_at=doc.get("connected_at"),
            token_expires_at=doc.get("token_expires_at"),
            refresh_expires_at=doc.get("refresh_token_expires_at"),
            refresh_warning=notice == "warning",
            refresh_lapsed=notice == "lapsed",
            webhook_url=f"{self._public_url or doc.get('public_base') or ''}/webhooks/zalo",
            webhook_key_set=bool(doc.get("oa_secret_key")),
            info=OaInfo.model_validate(info) if info else None,
            info_error=doc.get("info_error"),
            quotas=[OaQuota.model_validate(q) for q in doc.get("quotas") or []],
            zns_daily_quota=doc.get("zns_daily_quota"),
            template_quality=qualities,
            quality=lowest_quality(qualities),
        )

    async def _publish(self, type_: str, doc: dict[str, Any]) -> OaLink:
        link = self.view(doc)
        await self._publisher.publish(
            doc["company_id"], type_, link.model_dump(mode="json"), rulebook.oa_link_viewers()
        )
        return link

    def _mark(self, type_: str) -> tuple[dict[str, Any], str | None]:
        """Fields to write with a change of a link that no journaled request or stored webhook re-does
        (the OAuth callback, pasted secrets, the scheduler, a token refresh): the event it still owes,
        published by the scheduler's finish_pending if this process stops before `_announce` settles it."""
        if changes.current() is not None:
            return {}, None
        key = f"oa_link|{new_id()}"
        return {changes.PENDING: key, changes.PENDING_AT: self._clock.now(), PENDING_EVENT: type_}, key

    async def _announce(self, link_id: str, type_: str, key: str | None) -> OaLink:
        """Publish the link as it is now; under its own change key when `_mark` gave one, then settled."""
        doc = await self.get(link_id)
        assert doc is not None
        if key is None:
            return await self._publish(type_, doc)
        await faults.point("oa_links.written")
        with changes.change(key):
            link = await self._publish(type_, doc)
        await changes.settle(self._links, link_id, key)
        return link

    async def finish_pending(self, before: datetime) -> int:
        """The scheduler's pass: link events a stopped process still owed."""

        async def publish(doc: dict[str, Any]) -> None:
            await self._publish(doc.get(PENDING_EVENT) or "oa_link.updated", doc)

        return await changes.finish_pending(self._links, before, publish)

    def _connected(self, pair_expires_in_s: float, origin: str | None) -> dict[str, Any]:
        """The fields a fresh pair of tokens sets: connected now, the refresh token's 3 months start."""
        now = self._clock.now()
        fields: dict[str, Any] = {
            "status": "active",
            "connected_at": now,
            "token_expires_at": now + timedelta(seconds=pair_expires_in_s),
            "refresh_token_expires_at": now + self._refresh_life,
            "refresh_notice": None,
            "refresh_lease_until": None,
        }
        if origin is not None:
            fields["public_base"] = origin.rstrip("/")
        return fields

    # -- management (REST) ----------------------------------------------------------------------

    def _changed(self) -> None:
        self._webhook_cache.clear()

    async def _check_department(self, company_id: str, department_id: str | None) -> None:
        if department_id and not await self._departments.find_one({"_id": department_id, "company_id": company_id}):
            raise Unprocessable("no such department in this company", "department_not_found")

    async def create(self, actor: Principal, body: OaLinkCreate, origin: str) -> OaLink:
        _owner_only(actor)
        await self._check_department(actor.company_id, body.department_id)
        mark, key = self._mark("oa_link.created")
        now = self._clock.now()
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "name": body.name,
            "app_id": body.app_id,
            "oa_id": body.oa_id,
            "oa_secret_key": body.oa_secret_key,
            "app_secret": body.app_secret,
            "access_token": body.access_token,
            "refresh_token": body.refresh_token,
            "department_id": body.department_id,
            "created_at": now,
            **self._connected(25 * 3600, origin),
            **mark,
        }
        try:
            await self._links.insert_one(doc)
        except DuplicateKeyError:
            mine = await self._links.find_one({"oa_id": body.oa_id, "company_id": actor.company_id})
            if mine and mine["status"] == "disconnected":
                raise Conflict("this OA was linked before; relink it instead", "use_relink") from None
            raise Conflict("this OA is already linked", "oa_already_linked") from None
        self._changed()  # after the write: a webhook meanwhile must not cache the list without it
        await self._read_oa(doc["_id"])
        await self._audit.record(
            actor.company_id,
            actor,
            "oa_link.created",
            str(doc["_id"]),
            body.name,
            {"oa_id": body.oa_id, "app_id": body.app_id, "department_id": body.department_id},
        )
        return await self._announce(doc["_id"], "oa_link.created", key)

    async def list(self, actor: Principal) -> builtins.list[OaLink]:
        rulebook.require(actor, rulebook.Action.oa_links_view)
        cursor = self._links.find({"company_id": actor.company_id}).sort("created_at", 1)
        return [self.view(doc) async for doc in cursor]

    async def _mine(self, actor: Principal, link_id: str) -> dict[str, Any]:
        doc = await self._links.find_one({"_id": link_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such OA link", "oa_link_not_found")
        return doc

    async def update(self, actor: Principal, link_id: str, body: OaLinkUpdate) -> OaLink:
        _owner_only(actor)
        before = await self._mine(actor, link_id)
        fields = body.model_dump(exclude_unset=True)
        if fields.get("oa_secret_key") is None:
            fields.pop("oa_secret_key", None)
        await self._check_department(actor.company_id, fields.get("department_id"))
        mark, key = self._mark("oa_link.updated")
        await self._links.update_one({"_id": link_id}, {"$set": {**fields, **mark}})
        self._changed()
        shown = {name: value for name, value in fields.items() if name != "oa_secret_key"}  # never a secret
        if shown:
            await self._audit.record(
                actor.company_id,
                actor,
                "oa_link.updated",
                link_id,
                shown.get("name") or before["name"],
                {"before": {name: before.get(name) for name in shown}, "after": shown},
            )
        return await self._announce(link_id, "oa_link.updated", key)

    async def disconnect(self, actor: Principal, link_id: str) -> OaLink:
        """Stop using the OA: tokens are forgotten; webhooks are still verified and kept raw."""
        _owner_only(actor)
        link = await self._mine(actor, link_id)
        mark, key = self._mark("oa_link.updated")
        await self._links.update_one(
            {"_id": link_id}, {"$set": {"status": "disconnected", "access_token": None, "refresh_token": None, **mark}}
        )
        self._changed()
        await self._audit.record(
            actor.company_id, actor, "oa_link.removed", link_id, link["name"], {"oa_id": link["oa_id"]}
        )
        return await self._announce(link_id, "oa_link.updated", key)

    async def relink(self, actor: Principal, link_id: str, body: OaLinkRelink, origin: str) -> OaLink:
        _owner_only(actor)
        link = await self._mine(actor, link_id)
        fields = {k: v for k, v in body.model_dump().items() if v is not None}
        mark, key = self._mark("oa_link.updated")
        fields.update(self._connected(25 * 3600, origin), **mark)
        try:
            await self._links.update_one({"_id": link_id}, {"$set": fields})
        except DuplicateKeyError:
            raise Conflict("this OA is linked to another company now", "oa_already_linked") from None
        self._changed()
        await self._read_oa(link_id)
        await self._audit.record(
            actor.company_id, actor, "oa_link.relinked", link_id, link["name"], {"oa_id": link["oa_id"]}
        )
        return await self._announce(link_id, "oa_link.updated", key)

    async def refresh_info(self, actor: Principal, link_id: str) -> OaLink:
        """Read the OA's name, logo, followers, package and allowances from Zalo again."""
        rulebook.require(actor, rulebook.Action.oa_links_view)
        doc = await self._mine(actor, link_id)
        if doc["status"] != "active":
            raise Conflict("the OA is disconnected; relink it first", "oa_link_disconnected")
        mark, key = self._mark("oa_link.updated")
        await self._read_oa(link_id, mark)
        return await self._announce(link_id, "oa_link.updated", key)

    async def _read_oa(self, link_id: str, mark: dict[str, Any] | None = None) -> None:
        """getoa and the quota API, each on its own: a failure is recorded on the link, never raised."""
        fields: dict[str, Any] = {"info_error": None}
        try:
            fields["info"] = info_from_getoa(await self.call(link_id, self.zalo.oa_info), self._clock.now())
        except ZaloError as exc:
            log.info("getoa failed", extra={"link_id": link_id, "zalo_error": exc.code})
            fields["info_error"] = exc.reason
        try:
            fields["quotas"] = quotas_from_api(await self.call(link_id, self.zalo.oa_quotas))
        except ZaloError as exc:
            log.info("OA quota read failed", extra={"link_id": link_id, "zalo_error": exc.code})
            fields["info_error"] = fields["info_error"] or exc.reason
        await self._links.update_one({"_id": link_id}, {"$set": {**fields, **(mark or {})}})

    # -- OAuth v4 with PKCE (reference section 7) -------------------------------------------------

    async def oauth_start(self, actor: Principal, body: OaOAuthStart, origin: str) -> str:
        """Zalo's permission URL for a new link; the verifier and state stay here for the callback."""
        _owner_only(actor)
        await self._check_department(actor.company_id, body.department_id)
        return await self._begin(actor, origin, body.app_id, body.app_secret, body.oa_secret_key, body.department_id)

    async def oauth_relink(self, actor: Principal, link_id: str, body: OaOAuthRelink, origin: str) -> str:
        _owner_only(actor)
        doc = await self._mine(actor, link_id)
        secret = body.app_secret or doc["app_secret"]
        return await self._begin(actor, origin, doc["app_id"], secret, body.oa_secret_key, None, link_id)

    async def _begin(
        self,
        actor: Principal,
        origin: str,
        app_id: str,
        app_secret: str,
        oa_secret_key: str | None,
        department_id: str | None,
        link_id: str | None = None,
    ) -> str:
        verifier = self._fixed_verifier or new_code_verifier()
        state = secrets.token_urlsafe(24)
        redirect_uri = self.base_url(origin) + CALLBACK_PATH
        now = self._clock.now()
        await self._oauth.insert_one(
            {
                "_id": state,
                "company_id": actor.company_id,
                "member_id": actor.member_id,
                "app_id": app_id,
                "app_secret": app_secret,
                "oa_secret_key": oa_secret_key,
                "department_id": department_id,
                "link_id": link_id,
                "code_verifier": verifier,
                "redirect_uri": redirect_uri,
                "public_base": self.base_url(origin),
                "created_at": now,
                "expires_at": now + self._state_ttl,
            }
        )
        return self.zalo.permission_url(app_id, redirect_uri, code_challenge(verifier), state)

    async def oauth_callback(self, code: str | None, oa_id: str | None, state: str | None) -> OAuthOutcome:
        """The browser back from Zalo's permission page: the state taken once, the code exchanged."""
        pending = await self._oauth.find_one_and_delete({"_id": state}) if state else None
        if pending is None:
            return OAuthOutcome(reason="state_unknown")
        if pending["expires_at"] < self._clock.now():
            return OAuthOutcome(reason="state_expired")
        if not code:
            return OAuthOutcome(reason="denied")
        try:
            pair = await self.zalo.exchange_code(
                pending["app_id"], pending["app_secret"], code, pending["code_verifier"]
            )
        except ZaloError as exc:
            log.warning("Zalo OAuth code exchange failed", extra={"zalo_error": exc.code, "detail": exc.zalo_message})
            return OAuthOutcome(reason="exchange_failed", zalo_error=exc.code, detail=exc.zalo_message)
        info: dict[str, Any] = {}
        try:
            info = await self.zalo.oa_info(pair.access_token)
        except ZaloError as exc:
            log.info("getoa after linking failed", extra={"zalo_error": exc.code})
        oa = oa_id or _text(info.get("oa_id")) or _text(info.get("oaid"))
        if not oa:
            return OAuthOutcome(reason="no_oa")
        return await self._store_oauth(pending, oa, pair, info)

    async def _store_oauth(
        self, pending: dict[str, Any], oa_id: str, pair: TokenPair, info: dict[str, Any]
    ) -> OAuthOutcome:
        company_id = pending["company_id"]
        fields: dict[str, Any] = {
            "app_id": pending["app_id"],
            "app_secret": pending["app_secret"],
            "access_token": pair.access_token,
            "refresh_token": pair.refresh_token,
            **self._connected(pair.expires_in_s, pending["public_base"]),
        }
        if pending.get("oa_secret_key"):
            fields["oa_secret_key"] = pending["oa_secret_key"]
        if pending.get("department_id"):
            fields["department_id"] = pending["department_id"]
        if info:
            fields["info"] = info_from_getoa(info, self._clock.now())
        if pending.get("link_id"):
            existing = await self._links.find_one({"_id": pending["link_id"], "company_id": company_id})
            if existing is None:
                return OAuthOutcome(reason="state_unknown")
            if existing["oa_id"] != oa_id:
                return OAuthOutcome(reason="other_oa", detail=oa_id)
        else:
            existing = await self._links.find_one({"oa_id": oa_id, "company_id": company_id})
        type_ = "oa_link.updated" if existing is not None else "oa_link.created"
        mark, key = self._mark(type_)
        fields.update(mark)
        try:
            if existing is not None:
                link_id = existing["_id"]
                await self._links.update_one({"_id": link_id}, {"$set": fields})
            else:
                name = (fields.get("info") or {}).get("name") or f"OA {oa_id}"
                link_id = new_id()
                await self._links.insert_one(
                    {
                        "_id": link_id,
                        "company_id": company_id,
                        "name": name,
                        "oa_id": oa_id,
                        "oa_secret_key": None,
                        "department_id": None,
                        "created_at": self._clock.now(),
                        **fields,
                    }
                )
        except DuplicateKeyError:
            return OAuthOutcome(reason="oa_taken", detail=oa_id)
        self._changed()
        await self._read_oa(link_id)
        await self._announce(link_id, type_, key)
        log.info("OA linked through Zalo OAuth", extra={"link_id": link_id})
        return OAuthOutcome(link_id=link_id)

    # -- time: the refresh token's 3 months (scheduler) -------------------------------------------

    async def notice_refresh_due(self) -> int:
        """Mark (and announce, once) the links whose refresh token lapses within the warning period, and
        those whose token lapsed. A conditional update: of several processes, one announces."""
        now = self._clock.now()
        announced = 0
        due: list[tuple[dict[str, Any], str | None]] = [
            (
                {"status": "active", "refresh_token_expires_at": {"$lte": now}, "refresh_notice": {"$ne": "lapsed"}},
                "lapsed",
            ),
            (
                {
                    "status": "active",
                    "refresh_token_expires_at": {"$lte": now + self._warning, "$gt": now},
                    "refresh_notice": None,
                },
                "warning",
            ),
            # A notice no longer due (the token was refreshed elsewhere, or a test's clock went back).
            (
                {"refresh_notice": {"$ne": None}, "refresh_token_expires_at": {"$gt": now + self._warning}},
                None,
            ),
        ]
        for query, notice in due:
            async for doc in self._links.find(query):
                mark, key = self._mark("oa_link.updated")
                marked = await self._links.update_one(
                    {
                        "_id": doc["_id"],
                        "refresh_notice": doc.get("refresh_notice"),
                        "refresh_token_expires_at": doc["refresh_token_expires_at"],
                    },
                    {"$set": {"refresh_notice": notice, **mark}},
                )
                if marked.modified_count:
                    await self._announce(doc["_id"], "oa_link.updated", key)
                    announced += 1
        return announced

    # -- management webhooks (reference section 13) -----------------------------------------------

    async def on_daily_quota(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        """change_oa_daily_quota: {quota: {prev_value, new_value}}; an older event does not undo a newer one."""
        quota = (event.model_extra or {}).get("quota")
        value = _int(quota.get("new_value")) if isinstance(quota, dict) else None
        if value is None:
            return
        await self._apply_webhook(link, event, "zns_daily_quota", value)

    async def on_template_quality(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        """change_template_quality: {template_id, quality} (UNCERTAIN, single source: `new_quality` read too)."""
        extra = event.model_extra or {}
        template_id, quality = _text(extra.get("template_id")), extra.get("quality") or extra.get("new_quality")
        if isinstance(quality, dict):
            quality = quality.get("new_value") or quality.get("new_quality")
        if not template_id or not isinstance(quality, str):
            return
        await self._apply_webhook(link, event, f"template_quality.{template_id}", quality.upper())

    async def _apply_webhook(self, link: dict[str, Any], event: ZaloWebhook, field: str, value: Any) -> None:
        at = event.occurred_at
        stamp = field.replace(".", "_at.", 1) if "." in field else f"{field}_at"
        mark, key = self._mark("oa_link.updated")
        changed = await self._links.update_one(
            {"_id": link["_id"], "$or": [{stamp: None}, {stamp: {"$lte": at}}]},
            {"$set": {field: value, stamp: at, **mark}},
        )
        if changed.matched_count:
            await self._announce(link["_id"], "oa_link.updated", key)

    # -- webhook side ---------------------------------------------------------------------------

    async def for_webhook(self, app_id: str, oa_ids: builtins.list[str]) -> builtins.list[dict[str, Any]]:
        """Links an event of `app_id` may belong to: those whose OA appears in it first.

        Kept for WEBHOOK_CACHE_S per app (every webhook needs them); a change made through this
        process clears it at once, one made through another process shows within that time."""
        cached = self._webhook_cache.get(app_id)
        if cached and time.monotonic() - cached[0] < WEBHOOK_CACHE_S:
            docs = cached[1]
        else:
            docs = [doc async for doc in self._links.find({"app_id": app_id})]
            self._webhook_cache[app_id] = (time.monotonic(), docs)
        named = [d for d in docs if d["oa_id"] in oa_ids]
        return named + [d for d in docs if d["oa_id"] not in oa_ids]

    async def get(self, link_id: str) -> dict[str, Any] | None:
        return await self._links.find_one({"_id": link_id})

    # -- calling Zalo -----------------------------------------------------------------------------

    async def call(self, link_id: str, request: Callable[[str], Awaitable[T]]) -> T:
        """Run `request(access_token)`; on an expired or invalid token refresh once and retry."""
        link = await self.get(link_id)
        if link is None or link["status"] != "active" or not link.get("access_token"):
            raise ZaloError(-216, "the OA is disconnected")
        try:
            return await request(link["access_token"])
        except ZaloError as exc:
            if not exc.is_token_error:
                raise
            log.info("Zalo token refused; refreshing", extra={"link_id": link_id, "zalo_error": exc.code})
        token = await self._refreshed_token(link_id, link["access_token"])
        return await request(token)

    async def _refreshed_token(self, link_id: str, failed_token: str) -> str:
        async with self._locks.setdefault(link_id, asyncio.Lock()):
            link = await self.get(link_id)
            if link is None or not link.get("access_token"):
                raise ZaloError(-216, "the OA is disconnected")
            if link["access_token"] != failed_token:
                return link["access_token"]  # refreshed meanwhile
            now = self._clock.now()
            leased = await self._links.update_one(
                {"_id": link_id, "$or": [{"refresh_lease_until": None}, {"refresh_lease_until": {"$lt": now}}]},
                {"$set": {"refresh_lease_until": now + timedelta(seconds=REFRESH_LEASE_S)}},
            )
            if leased.modified_count == 0:
                return await self._await_other_refresh(link_id, failed_token)
            try:
                pair = await self.zalo.refresh(link["app_id"], link["app_secret"], link["refresh_token"])
            except ZaloError:
                await self._links.update_one({"_id": link_id}, {"$set": {"refresh_lease_until": None}})
                raise
            # Persist the rotated pair before using it: the old refresh token is now spent.
            mark, key = self._mark("oa_link.updated")
            await self._links.update_one(
                {"_id": link_id, "refresh_token": link["refresh_token"]},
                {
                    "$set": {
                        "access_token": pair.access_token,
                        "refresh_token": pair.refresh_token,
                        "token_expires_at": now + timedelta(seconds=pair.expires_in_s),
                        "refreshed_at": now,
                        "refresh_token_expires_at": now + self._refresh_life,
                        "refresh_notice": None,
                        "refresh_lease_until": None,
                        **mark,
                    }
                },
            )
            log.info("Zalo token refreshed", extra={"link_id": link_id})
            await self._announce(link_id, "oa_link.updated", key)  # new expiries; a warning ends
            return pair.access_token

    async def _await_other_refresh(self, link_id: str, failed_token: str) -> str:
        """Another process holds the refresh lease: wait for the token it stores."""
        for _ in range(int(REFRESH_LEASE_S / 0.1)):
            await asyncio.sleep(0.1)
            link = await self.get(link_id)
            if link and link.get("access_token") and link["access_token"] != failed_token:
                return link["access_token"]
        raise ZaloError(-216, "the token refresh by another hub process did not finish")
