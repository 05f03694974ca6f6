"""The audit log: who did what to the company's set-up, and when (owners read it; GET /api/audit).

The only module that writes `audit` entries. Domain code calls `record` next to the change it makes;
inside a re-doable change (hub.changes) an entry's id comes from the change, so a re-do never writes
it twice. Entries never hold a secret or a password. Kept `HUB_AUDIT_RETENTION_DAYS` (the scheduler
prunes older ones).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from hub import rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.clock import Clock
from hub.errors import Unprocessable
from hub.ids import new_id
from hub.store import Store
from schemas.rest import AuditEntry, AuditList, AuditSubject


def _entry(doc: dict[str, Any]) -> AuditEntry:
    return AuditEntry(
        id=doc["_id"],
        company_id=doc["company_id"],
        at=doc["at"],
        member_id=doc.get("member_id"),
        member_name=doc.get("member_name"),
        action=doc["action"],
        subject=AuditSubject.model_validate(doc.get("subject") or {}),
        details=doc.get("details") or {},
    )


class Audit:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self,
        company_id: str,
        actor: Principal | str | None,
        action: str,
        subject_id: str | None = None,
        subject_name: str | None = None,
        details: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> None:
        """Write one entry; `actor` is who did it (a principal or a member id; None: the hub itself). An
        entry with the `key` of an earlier one is not written again."""
        member_id = actor.member_id if isinstance(actor, Principal) else actor
        member_name = None
        if member_id is not None:
            doc = await self._store.members.find_one({"_id": member_id}, {"name": 1})
            member_name = doc["name"] if doc else None
        change = current_change()
        entry = {
            "_id": key or (f"{change.key}|audit|{action}|{subject_id or ''}" if change else new_id()),
            "company_id": company_id,
            "at": self._clock.now(),
            "member_id": member_id,
            "member_name": member_name,
            "action": action,
            "subject": {"id": subject_id, "name": subject_name},
            "details": details or {},
        }
        try:
            await self._store.audit.insert_one(entry)
        except DuplicateKeyError:
            pass  # a re-do of the change that wrote it

    async def list(
        self,
        actor: Principal,
        member_id: str | None,
        action: str | None,
        start: datetime | None,
        end: datetime | None,
        before: str | None,
        limit: int,
    ) -> AuditList:
        """Newest first. `action` is a dotted name (`member.role_changed`) or its first part (`member`);
        `before` is the id of the last entry of the previous page."""
        rulebook.require(actor, rulebook.Action.audit)
        if not 1 <= limit <= 500:
            raise Unprocessable("limit is 1 to 500", "invalid_query")
        query: dict[str, Any] = {"company_id": actor.company_id}
        if member_id:
            query["member_id"] = member_id
        if action:
            query["action"] = action if "." in action else {"$regex": f"^{re.escape(action)}\\."}
        at: dict[str, Any] = {}
        if start:
            at["$gte"] = start
        if end:
            at["$lt"] = end
        if at:
            query["at"] = at
        if before:
            last = await self._store.audit.find_one({"_id": before, "company_id": actor.company_id})
            if last is None:
                raise Unprocessable("before: no such audit entry", "invalid_query")
            query["$or"] = [{"at": {"$lt": last["at"]}}, {"at": last["at"], "_id": {"$lt": before}}]
        cursor = self._store.audit.find(query).sort([("at", DESCENDING), ("_id", DESCENDING)]).limit(limit + 1)
        docs = [doc async for doc in cursor]
        more = len(docs) > limit
        docs = docs[:limit]
        return AuditList(entries=[_entry(d) for d in docs], next_before=docs[-1]["_id"] if more and docs else None)

    async def prune(self, before: datetime) -> int:
        result = await self._store.audit.delete_many({"at": {"$lt": before}})
        return result.deleted_count
