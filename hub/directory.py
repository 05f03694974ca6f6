"""The company directory: companies, accounts, members (roles, departments, extensions).

Rules (DESIGN section 6): owners create managers and users, managers only users; a manager may
remove users but not managers or the owner; a member holding an extension must have it removed
before being deleted; one account (phone + password) may be a member of several companies.
Every change is published to the company's owners and managers as member.* events, and a change
of the company itself to every member as company.updated.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import available_timezones

from pymongo.errors import DuplicateKeyError

from hub import rulebook
from hub.audit import Audit
from hub.auth import Principal, generate_password, hash_password, verify_password
from hub.changes import current as current_change
from hub.changes import done, update_once
from hub.clock import Clock
from hub.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized, Unprocessable
from hub.ids import new_id
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.directory import (
    Company,
    CompanyBusiness,
    CompanyChoice,
    CompanyContact,
    CompanySettings,
    Department,
    Member,
    Role,
)
from schemas.rest import (
    AccountCompany,
    AlertPreferences,
    AlertPreferencesChange,
    CompanyUpdate,
    DepartmentCreate,
    DepartmentUpdate,
    MemberCreate,
    MemberUpdate,
)

MEMBER_CHECK_S = 1.0  # how long a process trusts what it read of a token's member

DIRECTORY_AUDIENCE = rulebook.supervisors()
# The company itself goes to every member: each reads it (GET /api/company), and every console shows its
# name and its times in its time zone.
COMPANY_AUDIENCE = rulebook.everyone()


def normalize_phone(phone: str) -> str:
    return "".join(phone.split())


def _member(doc: dict[str, Any]) -> Member:
    return Member(
        id=doc["_id"],
        company_id=doc["company_id"],
        account_id=doc["account_id"],
        name=doc["name"],
        phone=doc["phone"],
        role=doc["role"],
        department_id=doc.get("department_id"),
        extension=doc.get("extension"),
    )


def _company(doc: dict[str, Any]) -> Company:
    return Company(
        id=doc["_id"],
        code=doc["code"],
        name=doc["name"],
        timezone=doc.get("timezone", "Asia/Ho_Chi_Minh"),
        settings=CompanySettings.model_validate(doc.get("settings") or {}),
        contact=CompanyContact.model_validate(doc.get("contact") or {}),
        business=CompanyBusiness.model_validate(doc.get("business") or {}),
    )


def _department(doc: dict[str, Any], member_count: int = 0) -> Department:
    return Department(
        id=doc["_id"],
        company_id=doc["company_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        member_count=member_count,
    )


class Directory:
    def __init__(
        self,
        store: Store,
        publisher: Publisher,
        clock: Clock,
        audit: Audit,
        login_max_failures: int = 5,
        login_lock_s: float = 900.0,
    ) -> None:
        self._store = store
        self._publisher = publisher
        self._clock = clock
        self._audit = audit
        self._login_max_failures = login_max_failures
        self._login_lock = timedelta(seconds=login_lock_s)
        # member id -> (until, role now, token generation now)
        self._checked: dict[str, tuple[float, Role | None, int]] = {}

    # -- companies and accounts -----------------------------------------------------------------

    async def create_company(self, code: str, name: str, timezone: str = "Asia/Ho_Chi_Minh") -> Company:
        doc = {"_id": new_id(), "code": code, "name": name, "timezone": timezone, "created_at": self._clock.now()}
        try:
            await self._store.companies.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"a company with code {code!r} already exists", "company_exists") from None
        return _company(doc)

    async def company_by_code(self, code: str) -> Company | None:
        doc = await self._store.companies.find_one({"code": code})
        return _company(doc) if doc else None

    async def company(self, actor: Principal) -> Company:
        doc = await self._store.companies.find_one({"_id": actor.company_id})
        if doc is None:
            raise NotFound("no such company", "company_not_found")
        return _company(doc)

    async def update_company(self, actor: Principal, body: CompanyUpdate) -> Company:
        rulebook.require(actor, rulebook.Action.company_settings)
        sent = body.model_dump(exclude_unset=True)
        changes = {
            key: value for key, value in sent.items() if value is not None and key not in ("contact", "business")
        }
        for part in ("contact", "business"):  # only the fields sent change
            for field, value in (sent.get(part) or {}).items():
                changes[f"{part}.{field}"] = value
        if "timezone" in changes and changes["timezone"] not in available_timezones():
            raise Unprocessable(
                f"unknown time zone {changes['timezone']!r}: use an IANA name such as Asia/Ho_Chi_Minh",
                "invalid_timezone",
                details={"field": "timezone"},
            )
        before = await self.company(actor)
        if changes:
            await self._audit.record(
                actor.company_id,
                actor,
                "company.updated",
                actor.company_id,
                before.name,
                {"changed": sorted(changes), "before": _picked(before.model_dump(mode="json"), changes)},
            )
            await self._store.companies.update_one({"_id": actor.company_id}, {"$set": changes})
        company = await self.company(actor)
        await self._publisher.publish(
            actor.company_id, "company.updated", company.model_dump(mode="json"), COMPANY_AUDIENCE
        )
        return company

    async def _account(self, phone: str, password: str | None) -> tuple[dict[str, Any], str | None]:
        """The account of `phone`, created when new. Returns it and, for a new account, its password
        when the hub generated it. An existing account keeps its password."""
        existing = await self._store.accounts.find_one({"phone": phone})
        if existing:
            return existing, None
        generated = None if password else generate_password()
        doc = {
            "_id": new_id(),
            "phone": phone,
            "password_hash": hash_password(password or generated or ""),
            "created_at": self._clock.now(),
        }
        try:
            await self._store.accounts.insert_one(doc)
        except DuplicateKeyError:  # created concurrently: that one stands
            existing = await self._store.accounts.find_one({"phone": phone})
            assert existing is not None
            return existing, None
        return doc, generated

    async def _add_member(
        self, company_id: str, account: dict[str, Any], name: str, role: Role, department_id: str | None
    ) -> Member:
        change = current_change()
        doc = {
            "_id": new_id(),
            "company_id": company_id,
            "account_id": account["_id"],
            "name": name,
            "phone": account["phone"],
            "role": role.value,
            "department_id": department_id,
            "extension": None,
            "token_gen": account.get("token_gen", 0),
            "open_threads": 0,
            "last_assigned_at": None,
            "created_at": self._clock.now(),
            "created_by": change.key if change else None,
        }
        try:
            await self._store.members.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._store.members.find_one({"company_id": company_id, "account_id": account["_id"]})
            if not (change and existing and existing.get("created_by") == change.key):  # not a re-do of this one
                raise Conflict("this phone number is already a member of the company", "member_exists") from None
            doc = existing
        return _member(doc)

    async def bootstrap(
        self, code: str, name: str, owner_phone: str, owner_name: str, password: str | None
    ) -> tuple[Company, Member, str | None]:
        """Create a company and its owner (the `hub bootstrap` command)."""
        company = await self.create_company(code, name)
        phone = normalize_phone(owner_phone)
        is_new = await self._store.accounts.find_one({"phone": phone}) is None
        account, generated = await self._account(phone, password)
        member = await self._add_member(company.id, account, owner_name, Role.owner, None)
        return company, member, (generated or password) if is_new else None

    # -- login ----------------------------------------------------------------------------------

    async def login(self, phone: str, password: str, company_code: str | None) -> Member | list[CompanyChoice]:
        """The member to issue a token for, or the companies to choose from."""
        phone = normalize_phone(phone)
        try:
            await self._refuse_while_locked(phone)
        except TooManyRequests:
            await self._audit_login_refused(phone, company_code, "locked", once_per_lock=True)
            raise
        account = await self._store.accounts.find_one({"phone": phone})
        if account is None or not verify_password(account["password_hash"], password):
            await self._count_failure(phone)
            if account is not None:
                await self._audit_login_refused(phone, company_code, "wrong_password")
            raise Unauthorized("wrong phone number or password", "bad_credentials")
        await self._store.login_failures.delete_one({"_id": phone})
        memberships = [doc async for doc in self._store.members.find({"account_id": account["_id"]})]
        companies = {
            doc["_id"]: doc
            async for doc in self._store.companies.find({"_id": {"$in": [m["company_id"] for m in memberships]}})
        }
        chosen: dict[str, Any] | None = None
        if company_code is not None:
            chosen = next(
                (m for m in memberships if companies.get(m["company_id"], {}).get("code") == company_code), None
            )
            if chosen is None:
                raise Unauthorized("this account is not a member of that company", "not_a_member")
        elif len(memberships) == 1:
            chosen = memberships[0]
        if chosen is not None:
            await self._audit.record(
                chosen["company_id"], chosen["_id"], "login.succeeded", chosen["_id"], chosen["name"]
            )
            return _member(chosen)
        if not memberships:
            raise Unauthorized("this account belongs to no company", "not_a_member")
        return [
            CompanyChoice(
                code=companies[m["company_id"]]["code"], name=companies[m["company_id"]]["name"], role=m["role"]
            )
            for m in memberships
            if m["company_id"] in companies
        ]

    async def _audit_login_refused(
        self, phone: str, company_code: str | None, reason: str, once_per_lock: bool = False
    ) -> None:
        """A refused login goes to the audit log of each company the phone's account belongs to (that
        company alone when the login named one); a phone with no membership is written nowhere. Logins
        refused while locked are written once per lock, so hammering a phone cannot flood the log."""
        account = await self._store.accounts.find_one({"phone": phone}, {"_id": 1})
        if account is None:
            return
        lock = await self._store.login_failures.find_one({"_id": phone}) if once_per_lock else None
        async for member in self._store.members.find({"account_id": account["_id"]}):
            if company_code is not None:
                company = await self._store.companies.find_one({"_id": member["company_id"]}, {"code": 1})
                if company is None or company["code"] != company_code:
                    continue
            await self._audit.record(
                member["company_id"],
                member["_id"],
                "login.refused",
                member["_id"],
                member["name"],
                {"reason": reason},
                key=f"login-locked|{member['_id']}|{lock['since'].isoformat()}" if lock else None,
            )

    async def _refuse_while_locked(self, phone: str) -> None:
        doc = await self._store.login_failures.find_one({"_id": phone})
        if doc is None or doc["count"] < self._login_max_failures:
            return
        until = doc["since"] + self._login_lock
        wait = (until - self._clock.now()).total_seconds()
        if wait > 0:
            raise TooManyRequests(
                f"too many wrong passwords for this phone number; try again in {int(wait) + 1} s",
                details={"retry_after_s": int(wait) + 1},
            )

    async def forget_old_login_failures(self) -> int:
        """Counts whose lock has run out are of no more use (the scheduler prunes them)."""
        result = await self._store.login_failures.delete_many({"since": {"$lte": self._clock.now() - self._login_lock}})
        return result.deleted_count

    async def _count_failure(self, phone: str) -> None:
        """Count a wrong password; a count older than the lock starts again (one update: safe across processes)."""
        now = self._clock.now()
        stale = await self._store.login_failures.update_one(
            {"_id": phone, "since": {"$lte": now - self._login_lock}}, {"$set": {"count": 1, "since": now}}
        )
        if stale.matched_count:
            return
        try:
            await self._store.login_failures.update_one(
                {"_id": phone}, {"$inc": {"count": 1}, "$setOnInsert": {"since": now}}, upsert=True
            )
        except DuplicateKeyError:  # two first failures at once: the other created it
            await self._store.login_failures.update_one({"_id": phone}, {"$inc": {"count": 1}})

    # -- members --------------------------------------------------------------------------------

    async def current(self, actor: Principal) -> Principal:
        """`actor` as the company knows them now: refused when no longer a member, with their current
        role. Remembered for `MEMBER_CHECK_S` per process, so a change applies everywhere within it."""
        now = time.monotonic()
        known = self._checked.get(actor.member_id)
        if known is None or known[0] < now:
            doc = await self._store.members.find_one(
                {"_id": actor.member_id, "company_id": actor.company_id}, {"role": 1, "token_gen": 1}
            )
            known = (now + MEMBER_CHECK_S, Role(doc["role"]) if doc else None, (doc or {}).get("token_gen", 0))
            if len(self._checked) > 50_000:
                self._checked.clear()
            self._checked[actor.member_id] = known
        if known[1] is None:
            raise Unauthorized("this member was removed from the company; log in again", "member_removed")
        if actor.token_gen is not None and actor.token_gen < known[2]:
            raise Unauthorized(
                "this account's password changed since this token was issued; log in again", "token_revoked"
            )
        return actor if known[1] is actor.role else replace(actor, role=known[1])

    async def admit(self, actor: Principal) -> Member | str:
        """A console's member, read fresh at connect, or why its token is refused: `member_removed`, or
        `token_revoked` (the account's password changed since the token was issued)."""
        doc = await self._store.members.find_one({"_id": actor.member_id, "company_id": actor.company_id})
        if doc is None:
            return "member_removed"
        if actor.token_gen is not None and actor.token_gen < doc.get("token_gen", 0):
            return "token_revoked"
        return _member(doc)

    async def principal_for(self, member: Member) -> Principal:
        """What a new token for `member` speaks for: in the account's current token generation."""
        doc = await self._store.members.find_one({"_id": member.id}, {"token_gen": 1})
        return Principal(member.id, member.company_id, member.role, token_gen=(doc or {}).get("token_gen", 0))

    async def get_member(self, company_id: str, member_id: str) -> Member | None:
        doc = await self._store.members.find_one({"_id": member_id, "company_id": company_id})
        return _member(doc) if doc else None

    async def member_by_phone(self, company_id: str, phone: str) -> Member | None:
        doc = await self._store.members.find_one({"company_id": company_id, "phone": normalize_phone(phone)})
        return _member(doc) if doc else None

    async def _target(self, actor: Principal, member_id: str) -> Member:
        member = await self.get_member(actor.company_id, member_id)
        if member is None:
            raise NotFound("no such member in this company", "member_not_found")
        return member

    async def list_members(self, actor: Principal) -> list[Member]:
        rulebook.require(actor, rulebook.Action.member_list)
        cursor = self._store.members.find({"company_id": actor.company_id}).sort("created_at", 1)
        return [_member(doc) async for doc in cursor]

    async def member_names(self, actor: Principal) -> dict[str, str]:
        """Whom an export may name: every member for who may see the member list, else the reader alone (a
        user's threads and requests are their own)."""
        query: dict[str, Any] = {"company_id": actor.company_id}
        if not rulebook.may(actor.role, rulebook.Action.member_list):
            query["_id"] = actor.member_id
        return {doc["_id"]: doc.get("name") or "" async for doc in self._store.members.find(query, {"name": 1})}

    async def create_member(self, actor: Principal, body: MemberCreate) -> tuple[Member, str | None]:
        rulebook.require_create_member(actor, body.role)
        if body.department_id is not None:
            await self._department(actor.company_id, body.department_id)
        account, generated = await self._account(normalize_phone(body.phone), body.password)
        member = await self._add_member(actor.company_id, account, body.name, body.role, body.department_id)
        await self._audit.record(
            actor.company_id,
            actor,
            "member.created",
            member.id,
            member.name,
            {"role": member.role.value, "department_id": member.department_id, "phone": member.phone},
        )
        await self._publish(actor.company_id, "member.created", member)
        return member, generated

    async def update_member(self, actor: Principal, member_id: str, body: MemberUpdate) -> Member:
        """Rename, move to a department or change the role of a member, by the rulebook's rules."""
        target = await self._target(actor, member_id)
        sent = body.model_dump(exclude_unset=True)
        if "role" in sent and sent["role"] is None:
            raise Unprocessable("role: give manager or user", "invalid_body")
        if "name" in sent and sent["name"] is None:
            raise Unprocessable("name: give a name", "invalid_body")
        new_role = body.role if "role" in sent else None
        other = any(key in sent for key in ("name", "department_id"))
        rulebook.require_change_member(actor, target.role, target.id, new_role, other)
        if sent.get("department_id") is not None:
            await self._department(actor.company_id, sent["department_id"])
        changes = {key: (value.value if isinstance(value, Role) else value) for key, value in sent.items()}
        for key, action in (("role", "member.role_changed"), ("department_id", "member.department_changed")):
            before = getattr(target, key)
            before = before.value if isinstance(before, Role) else before
            if key in changes and changes[key] != before:
                await self._audit.record(
                    actor.company_id, actor, action, target.id, target.name, {"before": before, "after": changes[key]}
                )
        if "name" in changes and changes["name"] != target.name:
            await self._audit.record(
                actor.company_id,
                actor,
                "member.renamed",
                target.id,
                changes["name"],
                {"before": target.name, "after": changes["name"]},
            )
        member = await self._update_member(actor.company_id, target.id, changes)
        self._checked.pop(target.id, None)  # a role change applies at once in this process, in 1 s elsewhere
        return member

    async def remove_member(self, actor: Principal, member_id: str) -> None:
        """member.removed is published before the member goes, so a re-do that finds them gone is done."""
        change = current_change()
        if change is not None and change.redo and await self.get_member(actor.company_id, member_id) is None:
            return
        target = await self._target(actor, member_id)
        rulebook.require_remove_member(actor, target.role, target.id)
        if target.extension:
            raise Conflict(f"remove extension {target.extension} from this member first", "has_extension")
        await self._audit.record(
            actor.company_id, actor, "member.removed", target.id, target.name, {"role": target.role.value}
        )
        await self._publisher.publish(
            actor.company_id, "member.removed", target.model_dump(mode="json"), rulebook.member_gone(target.id)
        )
        # Conditional on still having no extension, so a concurrent assignment is not orphaned.
        result = await self._store.members.delete_one(
            {"_id": target.id, "company_id": actor.company_id, "extension": None}
        )
        if result.deleted_count == 0:
            raise Conflict("the member changed meanwhile; reload and try again", "member_changed")
        self._checked.pop(target.id, None)  # this process refuses their token at once; others within 1 s

    async def set_extension(self, actor: Principal, member_id: str, number: str) -> Member:
        target = await self._target(actor, member_id)
        rulebook.require_set_extension(actor, target.role, target.id)
        redo = bool((change := current_change()) and change.redo)
        if target.extension == number and not redo:
            return target
        try:
            await self._store.extensions.insert_one(
                {"_id": new_id(), "company_id": actor.company_id, "number": number, "member_id": target.id}
            )
        except DuplicateKeyError:
            # The extension exists: free (claim it), already this member's, or someone else's.
            claimed = await self._store.extensions.update_one(
                {"company_id": actor.company_id, "number": number, "member_id": None},
                {"$set": {"member_id": target.id}},
            )
            holder = await self._store.extensions.find_one({"company_id": actor.company_id, "number": number})
            if not claimed.modified_count and (holder is None or holder["member_id"] != target.id):
                raise Conflict(f"extension {number} belongs to another member", "extension_taken") from None
        await self._audit.record(
            actor.company_id,
            actor,
            "member.extension_given",
            target.id,
            target.name,
            {"extension": number, "before": target.extension},
        )
        if target.extension and target.extension != number:
            await self._release_extension(actor.company_id, target.extension, target.id)
        member = await self._update_member(actor.company_id, target.id, {"extension": number})
        await self._tell_extension_state(actor.company_id, number, target.id)
        return member

    async def _tell_extension_state(self, company_id: str, number: str, member_id: str) -> None:
        """The member who now holds an extension is told its state (until now only supervisors were)."""
        doc = await self._store.extension_states.find_one({"company_id": company_id, "extension": number})
        data = {
            "extension": number,
            "state": doc["state"] if doc else "idle",
            "since": (doc["since"] if doc else self._clock.now()).isoformat(),
        }
        await self._publisher.publish(company_id, "extension.state", data, rulebook.only(member_id))

    async def _release_extension(self, company_id: str, number: str, member_id: str) -> None:
        """The extension stays (the PBX still has it), free for another member."""
        await self._store.extensions.update_one(
            {"company_id": company_id, "number": number, "member_id": member_id}, {"$set": {"member_id": None}}
        )

    async def clear_extension(self, actor: Principal, member_id: str) -> Member:
        target = await self._target(actor, member_id)
        rulebook.require_set_extension(actor, target.role, target.id)
        if target.extension is None:
            change = current_change()
            if change is not None and change.redo:  # the first attempt cleared it: publish what is missing
                return await self._update_member(actor.company_id, target.id, {"extension": None})
            return target
        await self._audit.record(
            actor.company_id, actor, "member.extension_removed", target.id, target.name, {"extension": target.extension}
        )
        await self._release_extension(actor.company_id, target.extension, target.id)
        return await self._update_member(actor.company_id, target.id, {"extension": None})

    async def _update_member(self, company_id: str, member_id: str, changes: dict[str, Any]) -> Member:
        # update_one then find_one: the embedded server scans the whole collection for findAndModify.
        await self._store.members.update_one({"_id": member_id, "company_id": company_id}, {"$set": changes})
        doc = await self._store.members.find_one({"_id": member_id, "company_id": company_id})
        if doc is None:
            raise NotFound("no such member in this company", "member_not_found")
        member = _member(doc)
        await self._publish(company_id, "member.updated", member)
        return member

    async def _publish(self, company_id: str, type_: str, member: Member) -> None:
        """member.created to the supervisors; member.updated to them and to the member (their own role,
        department or extension changed)."""
        audience = rulebook.supervisors([member.id]) if type_ == "member.updated" else DIRECTORY_AUDIENCE
        await self._publisher.publish(company_id, type_, member.model_dump(mode="json"), audience)

    # -- departments ---------------------------------------------------------------------------

    async def _department(self, company_id: str, department_id: str) -> Department:
        doc = await self._store.departments.find_one({"_id": department_id, "company_id": company_id})
        if doc is None:
            raise Unprocessable("no such department in this company", "department_not_found")
        return _department(doc, await self._member_count(company_id, department_id))

    async def _member_count(self, company_id: str, department_id: str) -> int:
        return await self._store.members.count_documents({"company_id": company_id, "department_id": department_id})

    async def list_departments(self, actor: Principal) -> list[Department]:
        counts = {
            group["_id"]: group["count"]
            async for group in await self._store.members.aggregate(
                [
                    {"$match": {"company_id": actor.company_id, "department_id": {"$ne": None}}},
                    {"$group": {"_id": "$department_id", "count": {"$sum": 1}}},
                ]
            )
        }
        cursor = self._store.departments.find({"company_id": actor.company_id}).sort("name", 1)
        return [_department(d, counts.get(d["_id"], 0)) async for d in cursor]

    async def create_department(self, actor: Principal, body: DepartmentCreate) -> Department:
        rulebook.require(actor, rulebook.Action.departments)
        change = current_change()
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "name": body.name,
            "description": body.description,
            "created_at": self._clock.now(),
            "created_by": change.key if change else None,
        }
        try:
            await self._store.departments.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._store.departments.find_one({"company_id": actor.company_id, "name": body.name})
            if not (change and existing and existing.get("created_by") == change.key):  # not a re-do of this one
                raise Conflict(f"a department named {body.name!r} already exists", "department_exists") from None
            doc = existing
        department = _department(doc, await self._member_count(actor.company_id, str(doc["_id"])))
        await self._audit.record(actor.company_id, actor, "department.created", department.id, department.name)
        await self._publisher.publish(
            actor.company_id, "department.created", department.model_dump(mode="json"), rulebook.everyone()
        )
        return department

    async def _department_of(self, actor: Principal, department_id: str) -> dict[str, Any]:
        doc = await self._store.departments.find_one({"_id": department_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such department in this company", "department_not_found")
        return doc

    async def update_department(self, actor: Principal, department_id: str, body: DepartmentUpdate) -> Department:
        rulebook.require(actor, rulebook.Action.departments)
        doc = await self._department_of(actor, department_id)
        changes = {key: value for key, value in body.model_dump(exclude_unset=True).items() if value is not None}
        if changes:
            await self._audit.record(
                actor.company_id,
                actor,
                "department.updated",
                department_id,
                changes.get("name", doc["name"]),
                {"before": {key: doc.get(key) for key in changes}, "after": changes},
            )
            try:
                await self._store.departments.update_one({"_id": department_id}, {"$set": changes})
            except DuplicateKeyError:
                raise Conflict(f"a department named {changes['name']!r} already exists", "department_exists") from None
        department = await self._department(actor.company_id, department_id)
        await self._publisher.publish(
            actor.company_id, "department.updated", department.model_dump(mode="json"), rulebook.everyone()
        )
        return department

    async def remove_department(self, actor: Principal, department_id: str) -> None:
        """Only an empty department goes. department.removed is published before it goes, so a re-do that
        finds it gone is finished."""
        rulebook.require(actor, rulebook.Action.departments)
        change = current_change()
        doc = await self._store.departments.find_one({"_id": department_id, "company_id": actor.company_id})
        if doc is None and change is not None and change.redo:
            return
        doc = await self._department_of(actor, department_id)
        count = await self._member_count(actor.company_id, department_id)
        if count:
            raise Conflict(
                f"{count} members are still in this department: move them first",
                "department_not_empty",
                details={"member_count": count},
            )
        await self._audit.record(actor.company_id, actor, "department.removed", department_id, doc["name"])
        await self._publisher.publish(
            actor.company_id, "department.removed", {"id": department_id}, rulebook.everyone()
        )
        await self._store.departments.delete_one({"_id": department_id, "company_id": actor.company_id})

    # -- the account: password, companies ----------------------------------------------------------

    async def _account_of(self, actor: Principal) -> dict[str, Any]:
        member = await self._store.members.find_one({"_id": actor.member_id, "company_id": actor.company_id})
        account = await self._store.accounts.find_one({"_id": member["account_id"]}) if member else None
        if account is None:
            raise Unauthorized("this member was removed from the company; log in again", "member_removed")
        return account

    async def change_password(self, actor: Principal, current: str, new: str) -> Member:
        """Set the account's password and revoke every token of the account (all its memberships): a new
        token generation, copied onto each membership; their consoles are closed (session.revoked).
        Returns the caller's member, for whom the API issues a token of the new generation."""
        account = await self._account_of(actor)
        if not done(account, "password"):  # a retry of a change whose first attempt set it is not refused
            await self._refuse_while_locked(account["phone"])
            if not verify_password(account["password_hash"], current):
                await self._count_failure(account["phone"])
                raise Forbidden("the current password is wrong", "wrong_password")
            await update_once(
                self._store.accounts,
                {"_id": account["_id"]},
                {},
                {
                    "$set": {"password_hash": hash_password(new), "tokens_valid_after": self._clock.now()},
                    "$inc": {"token_gen": 1},
                },
                "password",
            )
            await self._store.login_failures.delete_one({"_id": account["phone"]})
        account = await self._store.accounts.find_one({"_id": account["_id"]}) or account
        generation = account.get("token_gen", 0)
        await self._store.members.update_many(
            {"account_id": account["_id"], "token_gen": {"$not": {"$gte": generation}}},
            {"$set": {"token_gen": generation}},
        )
        memberships = [doc async for doc in self._store.members.find({"account_id": account["_id"]})]
        for doc in memberships:
            self._checked.pop(doc["_id"], None)  # refused at once in this process; in the others within 1 s
        for doc in memberships:
            await self._audit.record(doc["company_id"], doc["_id"], "account.password_changed", doc["_id"], doc["name"])
            await self._publisher.publish(
                doc["company_id"], "session.revoked", {"member_id": doc["_id"]}, rulebook.sessions_closed(doc["_id"])
            )
        member = await self.get_member(actor.company_id, actor.member_id)
        if member is None:
            raise Unauthorized("this member was removed from the company; log in again", "member_removed")
        return member

    async def preferences(self, actor: Principal) -> AlertPreferences:
        """The member's own alert preferences (defaults until they change one)."""
        doc = await self._store.members.find_one(
            {"_id": actor.member_id, "company_id": actor.company_id}, {"preferences": 1}
        )
        if doc is None:
            raise Unauthorized("this member was removed from the company; log in again", "member_removed")
        return AlertPreferences.model_validate(doc.get("preferences") or {})

    async def set_preferences(self, actor: Principal, change: AlertPreferencesChange) -> AlertPreferences:
        """Change only the preferences sent; one atomic update of the member's document."""
        fields = {f"preferences.{k}": v for k, v in change.model_dump(exclude_none=True).items()}
        if fields:
            result = await self._store.members.update_one(
                {"_id": actor.member_id, "company_id": actor.company_id}, {"$set": fields}
            )
            if not result.matched_count:
                raise Unauthorized("this member was removed from the company; log in again", "member_removed")
        return await self.preferences(actor)

    async def account_companies(self, actor: Principal) -> list[AccountCompany]:
        account = await self._account_of(actor)
        memberships = [doc async for doc in self._store.members.find({"account_id": account["_id"]})]
        companies = {
            doc["_id"]: doc
            async for doc in self._store.companies.find({"_id": {"$in": [m["company_id"] for m in memberships]}})
        }
        return sorted(
            (
                AccountCompany(
                    company_id=m["company_id"],
                    code=companies[m["company_id"]]["code"],
                    name=companies[m["company_id"]]["name"],
                    role=m["role"],
                )
                for m in memberships
                if m["company_id"] in companies
            ),
            key=lambda c: c.name,
        )

    async def switch_company(self, actor: Principal, company_code: str) -> Member:
        """The caller's membership of another company of their account (a token for it needs no password)."""
        account = await self._account_of(actor)
        company = await self._store.companies.find_one({"code": company_code})
        doc = (
            await self._store.members.find_one({"company_id": company["_id"], "account_id": account["_id"]})
            if company
            else None
        )
        if doc is None:
            raise Forbidden("this account is not a member of that company", "not_a_member")
        await self._audit.record(
            doc["company_id"], doc["_id"], "login.succeeded", doc["_id"], doc["name"], {"via": "switch"}
        )
        return _member(doc)


def _picked(before: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The values `changes` (dotted keys) replace, as they were."""
    picked: dict[str, Any] = {}
    for key in changes:
        value: Any = before
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        picked[key] = value
    return picked
