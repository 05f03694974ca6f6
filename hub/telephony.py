"""The company's telephony setup: hotlines, extensions, and the PBX webhook secret.

Owners and managers manage hotlines and extensions; only the owner creates or rotates the PBX
secret, which is shown once. An extension exists on its own (the PBX has it) and is given to at
most one member through PUT /api/members/{id}/extension.

Every console follows these lists live (hotline.created/removed, extension.created/removed, to every
member as every member lists them). The requests are not journaled, so a document carries the event it
still owes (hub.changes' pending mark) until it is published; the scheduler publishes what a stopped
process left owing (and finishes a removal).
"""

from __future__ import annotations

import secrets
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub import changes, rulebook
from hub.audit import Audit
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.realtime.publish import Publisher
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


PENDING_EVENT = "pending_event"  # the event a hotline or extension document still owes


class Telephony:
    def __init__(self, store: Store, clock: Clock, audit: Audit, publisher: Publisher) -> None:
        self._store = store
        self._clock = clock
        self._audit = audit
        self._publisher = publisher

    # -- events a document owes -----------------------------------------------------------------

    def _owing(self, type_: str) -> tuple[dict[str, Any], str]:
        key = f"{type_}|{new_id()}"
        return {changes.PENDING: key, changes.PENDING_AT: self._clock.now(), PENDING_EVENT: type_}, key

    async def _owed(self, doc: dict[str, Any]) -> None:
        """Publish the event `doc` owes; a removal's document goes once its event is out."""
        type_ = doc[PENDING_EVENT]
        if type_ == "hotline.created":
            data = _hotline(doc)
        elif type_ == "hotline.removed":
            data = {"id": doc["_id"], "number": doc["number"]}
        elif type_ == "extension.created":
            data = {"number": doc["number"], "name": doc.get("name"), "member_id": None}
        else:  # extension.removed: owners and managers keep seeing a number the PBX still reports
            state = await self._store.extension_states.find_one(
                {"company_id": doc["company_id"], "extension": doc["number"]}
            )
            data = {"number": doc["number"], "state": state["state"] if state else None}
        await self._publisher.publish(doc["company_id"], type_, data, rulebook.everyone())
        if type_.endswith(".removed"):
            collection = self._store.hotlines if type_.startswith("hotline") else self._store.extensions
            await collection.delete_one({"_id": doc["_id"]})

    async def _announce(self, collection: Any, doc_id: Any, key: str) -> None:
        doc = await collection.find_one({"_id": doc_id})
        if doc is not None:
            await changes.finish(collection, doc, key, False, self._owed)

    async def finish_pending(self, before: Any) -> int:
        """The scheduler's pass: events (and removals) a stopped process still owed."""
        return sum(
            [
                await changes.finish_pending(self._store.hotlines, before, self._owed),
                await changes.finish_pending(self._store.extensions, before, self._owed),
            ]
        )

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
        mark, key = self._owing("hotline.created")
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "number": number,
            "name": name,
            "department_id": department_id,
            "created_at": self._clock.now(),
            **mark,
        }
        try:
            await self._store.hotlines.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"hotline {number} exists", "hotline_exists") from None
        await self._announce(self._store.hotlines, doc["_id"], key)
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
        mark, key = self._owing("hotline.removed")
        result = await self._store.hotlines.update_one(
            {"_id": hotline_id, "company_id": actor.company_id}, {"$set": mark}
        )
        if not result.matched_count or doc is None:
            raise NotFound("no such hotline", "hotline_not_found")
        await self._audit.record(actor.company_id, actor, "hotline.removed", hotline_id, doc["number"])
        await self._announce(self._store.hotlines, hotline_id, key)

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
        mark, key = self._owing("extension.created")
        doc = {"_id": new_id(), "company_id": actor.company_id, "number": number, "member_id": None, "name": name}
        try:
            await self._store.extensions.insert_one({**doc, **mark})
        except DuplicateKeyError:
            raise Conflict(f"extension {number} exists", "extension_exists") from None
        await self._audit.record(actor.company_id, actor, "extension.added", number, name or number)
        await self._announce(self._store.extensions, doc["_id"], key)
        return {"number": number, "member_id": None, "name": name}

    async def remove_extension(self, actor: Principal, number: str) -> None:
        _manages(actor)
        doc = await self._store.extensions.find_one({"company_id": actor.company_id, "number": number})
        if doc is None:
            raise NotFound("no such extension", "extension_not_found")
        if doc.get("member_id"):
            raise Conflict("take the extension from its member first", "extension_in_use")
        mark, key = self._owing("extension.removed")
        result = await self._store.extensions.update_one({"_id": doc["_id"], "member_id": None}, {"$set": mark})
        if result.modified_count:
            await self._audit.record(actor.company_id, actor, "extension.removed", number, doc.get("name") or number)
            await self._announce(self._store.extensions, doc["_id"], key)
