"""The company's telephony setup: hotlines, extensions, and the PBX webhook secret.

Owners and managers manage hotlines and extensions; only the owner creates or rotates the PBX
secret, which is shown once. An extension exists on its own (the PBX has it) and is given to at
most one member through PUT /api/members/{id}/extension.
"""

from __future__ import annotations

import secrets
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub import rulebook
from hub.audit import Audit
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.store import Store


def _manages(actor: Principal) -> None:
    rulebook.require(actor, rulebook.Action.telephony)


def _hotline(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "number": doc["number"],
        "name": doc.get("name"),
        "department_id": doc.get("department_id"),
    }


class Telephony:
    def __init__(self, store: Store, clock: Clock, audit: Audit) -> None:
        self._store = store
        self._clock = clock
        self._audit = audit

    async def rotate_pbx_secret(self, actor: Principal) -> str:
        rulebook.require(actor, rulebook.Action.pbx_secret)
        secret = secrets.token_urlsafe(32)
        await self._store.companies.update_one(
            {"_id": actor.company_id}, {"$set": {"pbx_secret": secret, "pbx_secret_at": self._clock.now()}}
        )
        await self._audit.record(actor.company_id, actor, "pbx.secret_rotated", actor.company_id, "PBX webhook secret")
        return secret

    async def pbx_secret(self, company_id: str) -> str | None:
        doc = await self._store.companies.find_one({"_id": company_id}, {"pbx_secret": 1})
        return (doc or {}).get("pbx_secret")

    # -- hotlines -------------------------------------------------------------------------------

    async def hotlines(self, actor: Principal) -> list[dict[str, Any]]:
        cursor = self._store.hotlines.find({"company_id": actor.company_id}).sort("number", 1)
        return [_hotline(doc) async for doc in cursor]

    async def add_hotline(
        self, actor: Principal, number: str, name: str | None, department_id: str | None
    ) -> dict[str, Any]:
        _manages(actor)
        if department_id and not await self._store.departments.find_one(
            {"_id": department_id, "company_id": actor.company_id}
        ):
            raise Unprocessable("no such department in this company", "department_not_found")
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "number": number,
            "name": name,
            "department_id": department_id,
            "created_at": self._clock.now(),
        }
        try:
            await self._store.hotlines.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"hotline {number} exists", "hotline_exists") from None
        await self._audit.record(
            actor.company_id,
            actor,
            "hotline.added",
            str(doc["_id"]),
            number,
            {"name": name, "department_id": department_id},
        )
        return _hotline(doc)

    async def remove_hotline(self, actor: Principal, hotline_id: str) -> None:
        _manages(actor)
        doc = await self._store.hotlines.find_one({"_id": hotline_id, "company_id": actor.company_id})
        result = await self._store.hotlines.delete_one({"_id": hotline_id, "company_id": actor.company_id})
        if not result.deleted_count or doc is None:
            raise NotFound("no such hotline", "hotline_not_found")
        await self._audit.record(actor.company_id, actor, "hotline.removed", hotline_id, doc["number"])

    # -- extensions -----------------------------------------------------------------------------

    async def extensions(self, actor: Principal) -> list[dict[str, Any]]:
        """The directory of extensions; each one's live state (as `extension.state` says it) only to those
        who receive that event: owners and managers, and a user for their own extension (else null).
        Owners and managers also see the extensions the PBX rang that the directory does not list
        (`listed: false`, as wall displays show them), so they can add them."""
        states = {
            s["extension"]: s["state"]
            async for s in self._store.extension_states.find({"company_id": actor.company_id})
        }
        cursor = self._store.extensions.find({"company_id": actor.company_id}).sort("number", 1)
        supervisor = rulebook.may(actor.role, rulebook.Action.all_calls)
        listed = [
            {
                "number": d["number"],
                "member_id": d.get("member_id"),
                "name": d.get("name"),
                "listed": True,
                "state": states.get(d["number"], "idle")
                if supervisor or d.get("member_id") == actor.member_id
                else None,
            }
            async for d in cursor
        ]
        if supervisor:
            known = {e["number"] for e in listed}
            listed += [
                {"number": number, "member_id": None, "name": None, "listed": False, "state": state}
                for number, state in states.items()
                if number not in known
            ]
            listed.sort(key=lambda e: e["number"])
        return listed

    async def add_extension(self, actor: Principal, number: str, name: str | None) -> dict[str, Any]:
        _manages(actor)
        try:
            await self._store.extensions.insert_one(
                {"_id": new_id(), "company_id": actor.company_id, "number": number, "member_id": None, "name": name}
            )
        except DuplicateKeyError:
            raise Conflict(f"extension {number} exists", "extension_exists") from None
        await self._audit.record(actor.company_id, actor, "extension.added", number, name or number)
        return {"number": number, "member_id": None, "name": name}

    async def remove_extension(self, actor: Principal, number: str) -> None:
        _manages(actor)
        doc = await self._store.extensions.find_one({"company_id": actor.company_id, "number": number})
        if doc is None:
            raise NotFound("no such extension", "extension_not_found")
        if doc.get("member_id"):
            raise Conflict("take the extension from its member first", "extension_in_use")
        result = await self._store.extensions.delete_one({"_id": doc["_id"], "member_id": None})
        if result.deleted_count:
            await self._audit.record(actor.company_id, actor, "extension.removed", number, doc.get("name") or number)
