"""Zalo OA links: which company an OA belongs to, its webhook key, and its tokens.

Secrets (OA secret key, app secret, tokens) are stored for the hub's own use and never leave it
through the API or logs. Calls to Zalo go through `call`, which refreshes an expired token once:
one refresh at a time per OA (a lock in this process, a lease in MongoDB across processes), the
rotated pair stored, conditionally on the refresh token used, before it is used.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from pymongo.errors import DuplicateKeyError

from clients.zalo import ZaloClient, ZaloError
from hub import rulebook
from hub.audit import Audit
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.store import Store
from schemas.rest import OaLink, OaLinkCreate, OaLinkRelink, OaLinkUpdate

log = logging.getLogger(__name__)
T = TypeVar("T")

REFRESH_LEASE_S = 30
WEBHOOK_CACHE_S = 5.0


def view(doc: dict[str, Any]) -> OaLink:
    return OaLink(
        id=doc["_id"],
        name=doc["name"],
        app_id=doc["app_id"],
        oa_id=doc["oa_id"],
        department_id=doc.get("department_id"),
        status=doc["status"],
        connected_at=doc.get("connected_at"),
        token_expires_at=doc.get("token_expires_at"),
    )


def _owner_only(actor: Principal) -> None:
    rulebook.require(actor, rulebook.Action.oa_links_manage)


class OaLinks:
    def __init__(self, store: Store, clock: Clock, zalo: ZaloClient, audit: Audit) -> None:
        self._audit = audit
        self._links = store.oa_links
        self._departments = store.departments
        self._clock = clock
        self.zalo = zalo
        self._locks: dict[str, asyncio.Lock] = {}
        self._webhook_cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    # -- management (REST) ----------------------------------------------------------------------

    def _changed(self) -> None:
        self._webhook_cache.clear()

    async def _check_department(self, company_id: str, department_id: str | None) -> None:
        if department_id and not await self._departments.find_one({"_id": department_id, "company_id": company_id}):
            raise Unprocessable("no such department in this company", "department_not_found")

    async def create(self, actor: Principal, body: OaLinkCreate) -> OaLink:
        _owner_only(actor)
        await self._check_department(actor.company_id, body.department_id)
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
            "token_expires_at": now + timedelta(hours=25),
            "department_id": body.department_id,
            "status": "active",
            "connected_at": now,
            "created_at": now,
            "refresh_lease_until": None,
        }
        try:
            await self._links.insert_one(doc)
        except DuplicateKeyError:
            mine = await self._links.find_one({"oa_id": body.oa_id, "company_id": actor.company_id})
            if mine and mine["status"] == "disconnected":
                raise Conflict("this OA was linked before; relink it instead", "use_relink") from None
            raise Conflict("this OA is already linked", "oa_already_linked") from None
        self._changed()  # after the write: a webhook meanwhile must not cache the list without it
        await self._audit.record(
            actor.company_id,
            actor,
            "oa_link.created",
            str(doc["_id"]),
            body.name,
            {"oa_id": body.oa_id, "app_id": body.app_id, "department_id": body.department_id},
        )
        return view(doc)

    async def list(self, actor: Principal) -> list[OaLink]:
        rulebook.require(actor, rulebook.Action.oa_links_view)
        cursor = self._links.find({"company_id": actor.company_id}).sort("created_at", 1)
        return [view(doc) async for doc in cursor]

    async def _mine(self, actor: Principal, link_id: str) -> dict[str, Any]:
        doc = await self._links.find_one({"_id": link_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such OA link", "oa_link_not_found")
        return doc

    async def update(self, actor: Principal, link_id: str, body: OaLinkUpdate) -> OaLink:
        _owner_only(actor)
        before = await self._mine(actor, link_id)
        changes = body.model_dump(exclude_unset=True)
        await self._check_department(actor.company_id, changes.get("department_id"))
        if changes:
            await self._links.update_one({"_id": link_id}, {"$set": changes})
            self._changed()
            await self._audit.record(
                actor.company_id,
                actor,
                "oa_link.updated",
                link_id,
                changes.get("name") or before["name"],
                {"before": {key: before.get(key) for key in changes}, "after": changes},
            )
        return view(await self._mine(actor, link_id))

    async def disconnect(self, actor: Principal, link_id: str) -> OaLink:
        """Stop using the OA: tokens are forgotten; webhooks are still verified and kept raw."""
        _owner_only(actor)
        link = await self._mine(actor, link_id)
        await self._links.update_one(
            {"_id": link_id}, {"$set": {"status": "disconnected", "access_token": None, "refresh_token": None}}
        )
        self._changed()
        await self._audit.record(
            actor.company_id, actor, "oa_link.removed", link_id, link["name"], {"oa_id": link["oa_id"]}
        )
        return view(await self._mine(actor, link_id))

    async def relink(self, actor: Principal, link_id: str, body: OaLinkRelink) -> OaLink:
        _owner_only(actor)
        link = await self._mine(actor, link_id)
        changes = {k: v for k, v in body.model_dump().items() if v is not None}
        changes.update(
            {
                "status": "active",
                "connected_at": self._clock.now(),
                "token_expires_at": self._clock.now() + timedelta(hours=25),
            }
        )
        try:
            await self._links.update_one({"_id": link_id}, {"$set": changes})
        except DuplicateKeyError:
            raise Conflict("this OA is linked to another company now", "oa_already_linked") from None
        self._changed()
        await self._audit.record(
            actor.company_id, actor, "oa_link.relinked", link_id, link["name"], {"oa_id": link["oa_id"]}
        )
        return view(await self._mine(actor, link_id))

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
            await self._links.update_one(
                {"_id": link_id, "refresh_token": link["refresh_token"]},
                {
                    "$set": {
                        "access_token": pair.access_token,
                        "refresh_token": pair.refresh_token,
                        "token_expires_at": now + timedelta(seconds=pair.expires_in_s),
                        "refreshed_at": now,
                        "refresh_lease_until": None,
                    }
                },
            )
            log.info("Zalo token refreshed", extra={"link_id": link_id})
            return pair.access_token

    async def _await_other_refresh(self, link_id: str, failed_token: str) -> str:
        """Another process holds the refresh lease: wait for the token it stores."""
        for _ in range(int(REFRESH_LEASE_S / 0.1)):
            await asyncio.sleep(0.1)
            link = await self.get(link_id)
            if link and link.get("access_token") and link["access_token"] != failed_token:
                return link["access_token"]
        raise ZaloError(-216, "the token refresh by another hub process did not finish")
