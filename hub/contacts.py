"""General contacts (the only writer of `contacts`) and the internal directory everyone may read.

One customer per phone number: every number of a contact is kept as typed (`phones`) and in E.164
(`phones_e164`, the join key other modules read), and a unique multikey index on (company_id,
phones_e164) keeps two contacts of a company from sharing a number, whoever races whom.

Changes over REST are journaled (hub.inbox): a create re-done finds the contact its first attempt
inserted (`created_change`), an update is a `$set`, a delete publishes before it deletes. Every member
sees, adds and edits; only who may `contacts_delete` (hub.rulebook) deletes. Events go to every member.

An import (hub.contact_import) writes through `upsert_batch`: keyed by phone number, so a row given again
after a crash, or the same file imported twice, finds its contact and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub import rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.phones import e164
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.contacts import Contact, ContactCreate, ContactUpdate, InternalContact

CONTACT_AUDIENCE = rulebook.everyone()
SEARCH_MAX = 200  # a name or a number; the escaped pattern stays far below any regex limit
PAGE_MAX = 200
_PHONE_TEXT = re.compile(r"^\+?[\d\s.\-()]{3,}$")
FIELDS = ("name", "email", "address", "note")


def contact_view(doc: dict[str, Any]) -> Contact:
    return Contact(
        id=doc["_id"],
        name=doc["name"],
        phones=doc.get("phones") or [],
        phones_e164=doc.get("phones_e164") or [],
        email=doc.get("email") or "",
        address=doc.get("address") or "",
        note=doc.get("note") or "",
        created_at=doc["created_at"],
        created_by=doc.get("created_by"),
        updated_at=doc.get("updated_at"),
        updated_by=doc.get("updated_by"),
        import_id=doc.get("import_id"),
    )


def phone_list(raw: list[str]) -> tuple[list[str], list[str]]:
    """The numbers as typed and in E.164, a number given twice kept once; 422 naming the first that is no
    possible phone number."""
    typed: list[str] = []
    normal: list[str] = []
    for text in raw:
        text = text.strip()
        number = e164(text)
        if number is None:
            raise Unprocessable(
                f"{text!r} is not a phone number: write it as 0912345678, 84912345678 or +84912345678",
                "invalid_phone",
                {"phone": text, "field": "phones"},
            )
        if number not in normal:
            typed.append(text)
            normal.append(number)
    return typed, normal


def search_query(company_id: str, text: str | None) -> dict[str, Any]:
    """A name (any part, any case), or any form of a number or part of one: 0912…, 84912… and +84912…
    are matched on the national digits, so each finds the same contacts."""
    query: dict[str, Any] = {"company_id": company_id}
    text = (text or "").strip()
    if not text:
        return query
    if len(text) > SEARCH_MAX:
        raise Unprocessable(f"search for at most {SEARCH_MAX} characters", "invalid_query")
    if _PHONE_TEXT.match(text):
        digits = re.sub(r"\D", "", text)
        full = e164(text)
        if full is not None and full.startswith("+84"):
            national = full[3:]
        elif text.startswith("+"):
            national = digits
        else:
            national = digits[2:] if digits.startswith("84") and len(digits) > 9 else digits.lstrip("0")
        query["phones_e164"] = {"$regex": re.escape(national or digits)}
    else:
        query["name"] = {"$regex": re.escape(text), "$options": "i"}
    return query


class Contacts:
    def __init__(self, store: Store, clock: Clock, publisher: Publisher) -> None:
        self._store = store
        self._contacts = store.contacts
        self._clock = clock
        self._publisher = publisher

    # -- reading -------------------------------------------------------------------------------------

    async def page(
        self, actor: Principal, text: str | None, limit: int, before: str | None
    ) -> tuple[list[Contact], str | None]:
        """Newest first, `limit` a page; the next page's `before` (None on the last page)."""
        rulebook.require(actor, rulebook.Action.contacts_view)
        query = search_query(actor.company_id, text)
        if before:
            query["_id"] = {"$lt": before}
        limit = min(max(limit, 1), PAGE_MAX)
        docs = [doc async for doc in self._contacts.find(query).sort("_id", DESCENDING).limit(limit)]
        next_before = docs[-1]["_id"] if len(docs) == limit else None
        return [contact_view(doc) for doc in docs], next_before

    async def each(self, actor: Principal, text: str | None, batch: int = 500) -> AsyncIterator[Contact]:
        """Every contact of the search, newest first, read a batch at a time (an export of any size)."""
        before: str | None = None
        while True:
            page, before = await self.page(actor, text, batch, before)
            for contact in page:
                yield contact
            if before is None:
                return

    async def get(self, actor: Principal, contact_id: str) -> Contact:
        rulebook.require(actor, rulebook.Action.contacts_view)
        return contact_view(await self._doc(actor, contact_id))

    async def by_phones(self, company_id: str, numbers: list[str]) -> dict[str, dict[str, Any]]:
        """E.164 number -> the contact holding it, for the numbers that are some contact's."""
        found: dict[str, dict[str, Any]] = {}
        if not numbers:
            return found
        cursor = self._contacts.find({"company_id": company_id, "phones_e164": {"$in": list(set(numbers))}})
        async for doc in cursor:
            for number in doc.get("phones_e164") or []:
                found[number] = doc
        return found

    async def internal(self, actor: Principal) -> list[InternalContact]:
        """The company's members as everyone may see them: name, extension, department."""
        rulebook.require(actor, rulebook.Action.contacts_view)
        departments = {
            doc["_id"]: doc["name"]
            async for doc in self._store.departments.find({"company_id": actor.company_id}, {"name": 1})
        }
        cursor = self._store.members.find(
            {"company_id": actor.company_id}, {"name": 1, "extension": 1, "department_id": 1}
        ).sort("name", 1)
        return [
            InternalContact(
                id=doc["_id"],
                name=doc.get("name") or "",
                extension=doc.get("extension"),
                department_id=doc.get("department_id"),
                department=departments.get(doc.get("department_id") or ""),
            )
            async for doc in cursor
        ]

    async def _doc(self, actor: Principal, contact_id: str) -> dict[str, Any]:
        doc = await self._contacts.find_one({"_id": contact_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such contact in this company", "contact_not_found")
        return doc

    # -- writing -------------------------------------------------------------------------------------

    async def _taken(self, company_id: str, numbers: list[str], typed: list[str], but: str | None) -> Conflict | None:
        """409 naming the contact that already has one of these numbers (other than `but`)."""
        query: dict[str, Any] = {"company_id": company_id, "phones_e164": {"$in": numbers}}
        if but:
            query["_id"] = {"$ne": but}
        other = await self._contacts.find_one(query)
        if other is None:
            return None
        number = next(n for n in numbers if n in other.get("phones_e164", []))
        shown = typed[numbers.index(number)]
        return Conflict(
            f"{shown} is already the number of the contact {other['name']!r}: open that contact and edit it, "
            "or remove the number there first (one customer per phone number)",
            "phone_taken",
            {"phone": shown, "contact_id": other["_id"], "contact_name": other["name"], "field": "phones"},
        )

    async def create(self, actor: Principal, body: ContactCreate) -> Contact:
        rulebook.require(actor, rulebook.Action.contacts_view)
        if not body.name.strip():
            raise Unprocessable("name: give the contact a name", "invalid_body")
        typed, numbers = phone_list(body.phones)
        change = current_change()
        now = self._clock.now()
        doc: dict[str, Any] = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "name": body.name.strip(),
            "phones": typed,
            "phones_e164": numbers,
            "email": body.email.strip(),
            "address": body.address.strip(),
            "note": body.note,
            "created_at": now,
            "created_by": actor.member_id,
            "updated_at": now,
            "updated_by": actor.member_id,
            "created_change": change.key if change else None,
        }
        for _attempt in range(2):
            mine = (
                await self._contacts.find_one({"company_id": actor.company_id, "created_change": doc["created_change"]})
                if change
                else None
            )
            if mine is not None:  # a re-do: the first attempt inserted it
                doc = mine
                break
            refused = await self._taken(actor.company_id, numbers, typed, None)
            if refused is not None:
                raise refused
            try:
                await self._contacts.insert_one(doc)
                break
            except DuplicateKeyError:
                continue  # raced another write of one of the numbers: look again
        else:
            raise Conflict("another contact took one of these numbers meanwhile: try again", "phone_taken")
        contact = contact_view(doc)
        await self._publisher.publish(
            actor.company_id, "contact.created", contact.model_dump(mode="json"), CONTACT_AUDIENCE
        )
        return contact

    async def update(self, actor: Principal, contact_id: str, body: ContactUpdate) -> Contact:
        rulebook.require(actor, rulebook.Action.contacts_view)
        await self._doc(actor, contact_id)
        changes: dict[str, Any] = {
            name: value.strip() if name != "note" else value
            for name in FIELDS
            if (value := getattr(body, name)) is not None
        }
        if body.phones is not None:
            typed, numbers = phone_list(body.phones)
            refused = await self._taken(actor.company_id, numbers, typed, contact_id)
            if refused is not None:
                raise refused
            changes.update(phones=typed, phones_e164=numbers)
        if not changes:
            raise Unprocessable("give at least one of name, phones, email, address, note", "invalid_body")
        if changes.get("name") == "":
            raise Unprocessable("name: give the contact a name", "invalid_body")
        changes.update(updated_at=self._clock.now(), updated_by=actor.member_id)
        try:
            await self._contacts.update_one({"_id": contact_id, "company_id": actor.company_id}, {"$set": changes})
        except DuplicateKeyError:
            refused = await self._taken(actor.company_id, changes["phones_e164"], changes["phones"], contact_id)
            raise refused or Conflict("another contact took one of these numbers meanwhile", "phone_taken") from None
        contact = contact_view(await self._doc(actor, contact_id))
        await self._publisher.publish(
            actor.company_id, "contact.updated", contact.model_dump(mode="json"), CONTACT_AUDIENCE
        )
        return contact

    async def delete(self, actor: Principal, contact_id: str) -> None:
        """Published before the delete: a re-done delete finds the contact still there and finishes."""
        rulebook.require(actor, rulebook.Action.contacts_delete)
        found = await self._contacts.find_one({"_id": contact_id, "company_id": actor.company_id})
        if found is None:
            change = current_change()
            if change is not None and change.redo:
                return  # the first attempt got to the end
            raise NotFound("no such contact in this company", "contact_not_found")
        await self._publisher.publish(actor.company_id, "contact.removed", {"id": contact_id}, CONTACT_AUDIENCE)
        await self._contacts.delete_one({"_id": contact_id, "company_id": actor.company_id})

    # -- imports ------------------------------------------------------------------------------------

    async def upsert_batch(
        self, company_id: str, member_id: str, import_id: str, rows: list[dict[str, Any]]
    ) -> list[tuple[int, dict[str, Any], bool]]:
        """Import rows (n, data: name, phones, email, address, note), each keyed by its numbers: a number
        that is a contact's already updates that contact (the file's non-empty fields win, its numbers
        are added); otherwise a new contact. A row whose effect is already there changes nothing, so a
        row given twice, or a file imported twice, makes no duplicate. One read for the batch, one
        insert of its new contacts, one update per changed contact."""
        now = self._clock.now()
        wanted = [(row["n"], row["data"], phone_list(row["data"]["phones"])) for row in rows]
        known = await self.by_phones(
            company_id, [number for _n, _data, (_typed, numbers) in wanted for number in numbers]
        )
        results: list[tuple[int, dict[str, Any], bool]] = []
        fresh: list[tuple[int, dict[str, Any]]] = []
        for n, data, (typed, numbers) in wanted:
            holders = {known[number]["_id"]: known[number] for number in numbers if number in known}
            if len(holders) > 1:
                names = ", ".join(sorted(doc["name"] for doc in holders.values()))
                results.append(
                    (n, {"result": "failed", "error": f"these numbers belong to different contacts: {names}"}, False)
                )
                continue
            if not holders:
                doc = {
                    "_id": new_id(),
                    "company_id": company_id,
                    "name": data["name"],
                    "phones": typed,
                    "phones_e164": numbers,
                    **{name: data.get(name) or "" for name in FIELDS if name != "name"},
                    "created_at": now,
                    "created_by": member_id,
                    "updated_at": now,
                    "updated_by": member_id,
                    "import_id": import_id,
                }
                fresh.append((n, doc))
                continue
            existing = next(iter(holders.values()))
            changes = _import_changes(existing, data, typed, numbers)
            if not changes:
                results.append((n, {"result": "unchanged", "contact_id": existing["_id"]}, True))
                continue
            changes.update(updated_at=now, updated_by=member_id, import_id=import_id)
            try:
                await self._contacts.update_one({"_id": existing["_id"]}, {"$set": changes})
            except DuplicateKeyError:
                results.append(
                    (n, {"result": "failed", "error": "a number of this row became another contact's"}, False)
                )
                continue
            results.append((n, {"result": "updated", "contact_id": existing["_id"]}, True))
        results += await self._insert_new(company_id, member_id, import_id, fresh)
        return sorted(results, key=lambda result: result[0])

    async def _insert_new(
        self, company_id: str, member_id: str, import_id: str, fresh: list[tuple[int, dict[str, Any]]]
    ) -> list[tuple[int, dict[str, Any], bool]]:
        if not fresh:
            return []
        failed: set[int] = set()
        try:
            await self._contacts.insert_many([doc for _n, doc in fresh], ordered=False)
        except (
            BulkWriteError
        ) as exc:  # a number taken meanwhile (another import, a person): those rows again, one by one
            failed = {error["index"] for error in exc.details.get("writeErrors", [])}
        results: list[tuple[int, dict[str, Any], bool]] = []
        for index, (n, doc) in enumerate(fresh):
            if index not in failed:
                results.append((n, {"result": "created", "contact_id": doc["_id"]}, True))
                continue
            data = {
                "name": doc["name"],
                "phones": doc["phones"],
                **{name: doc[name] for name in FIELDS if name != "name"},
            }
            results += await self.upsert_batch(company_id, member_id, import_id, [{"n": n, "data": data}])
        return results


def _import_changes(
    existing: dict[str, Any], data: dict[str, Any], typed: list[str], numbers: list[str]
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for name in FIELDS:
        value = data.get(name) or ""
        if value and value != (existing.get(name) or ""):
            changes[name] = value
    have = list(existing.get("phones_e164") or [])
    added = [(t, number) for t, number in zip(typed, numbers, strict=True) if number not in have]
    if added:
        changes["phones"] = list(existing.get("phones") or []) + [t for t, _number in added]
        changes["phones_e164"] = have + [number for _t, number in added]
    return changes
