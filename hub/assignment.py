"""Who owns each thread: manual assignment by supervisors, and automatic round robin with limits.

Rules (DESIGN section 6): the owner assigns any thread to any member (or back to the queue); a
manager hands a thread assigned to them to another member; a user assigns nothing.

Automatic assignment takes a thread with no assignee to the next member of its OA link's
department who is online and available and holds fewer open threads than the company's limit,
least recently assigned first. The member's slot is reserved with one conditional update (on
their open-thread count and on the last-assignment time read, so racing processes rotate instead
of piling onto one member) and the thread is taken with another (on its having no assignee), so
two processes never assign one thread twice. A thread nobody can take waits in the queue
(`queued_at`), which is drained when someone becomes available or frees capacity.
"""

from __future__ import annotations

import logging
from typing import Any

from hub import faults, rulebook
from hub.audit import Audit
from hub.auth import Principal
from hub.changes import apply_once, done, update_once
from hub.clock import Clock
from hub.errors import NotFound, Unprocessable
from hub.presence import Presence, Status
from hub.realtime.publish import Publisher
from hub.store import Store
from hub.threads import Threads, thread_event
from schemas.directory import Role

log = logging.getLogger(__name__)

DEFAULT_MAX_OPEN_THREADS = 20
ROTATION_ROUNDS = 20  # re-reads of the candidates when concurrent assignments keep taking their turns


class Assignment:
    def __init__(
        self, store: Store, clock: Clock, threads: Threads, publisher: Publisher, presence: Presence, audit: Audit
    ) -> None:
        self._audit = audit
        self._store = store
        self._clock = clock
        self._threads = threads
        self._publisher = publisher
        self._presence = presence

    # -- capacity counters ------------------------------------------------------------------------

    async def adjust_open(self, member_id: str | None, delta: int, step: str = "open") -> None:
        """Change a member's count of open assigned threads (their capacity in use), once per change."""
        if member_id:
            await update_once(self._store.members, {"_id": member_id}, {}, {"$inc": {"open_threads": delta}}, step)

    async def thread_closed(self, thread: dict[str, Any]) -> None:
        """A thread left its assignee's open work (resolved): free the slot and give it to the queue."""
        await self.adjust_open(thread.get("assignee_id"), -1, step=f"close:{thread['_id']}")
        await self.drain(thread["company_id"])

    async def max_open(self, company_id: str) -> int:
        company = await self._store.companies.find_one({"_id": company_id}, {"settings": 1})
        return int(((company or {}).get("settings") or {}).get("max_open_threads", DEFAULT_MAX_OPEN_THREADS))

    # -- manual ---------------------------------------------------------------------------------

    async def assign(self, actor: Principal, thread_id: str, member_id: str | None) -> dict[str, Any]:
        stored = await self._store.threads.find_one({"_id": thread_id, "company_id": actor.company_id})
        if stored is not None and done(stored, "move"):  # a re-do: the first attempt moved it (and its rights
            redone = await self._moved(stored)  # may have gone with it)
            return await self.auto_assign(redone) if redone.get("moved_to") is None else redone
        thread = await self._threads.visible(actor, thread_id)
        rulebook.require_assign_thread(actor, thread)
        if member_id is None:
            rulebook.require(actor, rulebook.Action.queue_thread)
        if member_id is not None:
            target = await self._store.members.find_one({"_id": member_id, "company_id": actor.company_id})
            if target is None:
                raise Unprocessable("no such member in this company", "member_not_found")
        if thread.get("assignee_id") == member_id:
            return thread
        after = await self._move(thread, member_id, actor.member_id)
        if after is None:
            raise NotFound("the thread changed meanwhile; reload it", "thread_changed")
        if member_id is None:
            return await self.auto_assign(after)
        return after

    async def _move(
        self, thread: dict[str, Any], to_member: str | None, by_member: str | None
    ) -> dict[str, Any] | None:
        """Move a thread from its current assignee to `to_member`, conditionally; publish the change."""
        from_member = thread.get("assignee_id")
        changes: dict[str, Any] = {
            "assignee_id": to_member,
            "assigned_at": self._clock.now(),
            "previous_assignee_id": from_member,
            "moved_to": to_member,
            "assigned_by": by_member,
        }
        if to_member is not None:
            changes["queued_at"] = None
        if not await update_once(
            self._store.threads,
            {"_id": thread["_id"]},
            {"assignee_id": from_member},
            {"$set": changes, "$inc": {"version": 1}},
            "move",
        ):
            return None
        after = await self._threads.get(thread["_id"])
        assert after is not None
        return await self._moved(after)

    async def _moved(self, after: dict[str, Any]) -> dict[str, Any]:
        """What follows a manual move: capacity counts, events, the queue. Each step once per change. The
        move's own record says where it went (the thread may have moved on since, by auto-assignment)."""
        from_member, to_member = after.get("previous_assignee_id"), after.get("moved_to")
        await faults.point("assignment.moved")
        if after.get("status", "open") == "open":
            await self.adjust_open(from_member, -1, step=f"open-from:{after['_id']}")
            await self.adjust_open(to_member, +1, step=f"open-to:{after['_id']}")
        if after.get("assigned_by"):  # a person moved it (automatic assignment is not audited)
            await self._audit.record(
                after["company_id"],
                after["assigned_by"],
                "thread.reassigned",
                after["_id"],
                (after.get("customer") or {}).get("name"),
                {"from_member_id": from_member, "to_member_id": to_member},
            )
        await self._publish_assigned(after, from_member, to_member, after.get("assigned_by"))
        if from_member and to_member != from_member:
            await self.drain(after["company_id"])
        return after

    async def _publish_assigned(
        self, thread: dict[str, Any], from_member: str | None, to_member: str | None, by_member: str | None
    ) -> None:
        data = {
            **thread_event(thread),
            "from_member_id": from_member,
            "to_member_id": to_member,
            "by_member_id": by_member,
            "auto": by_member is None,
        }
        await self._publisher.publish(
            thread["company_id"], "thread.assigned", data, rulebook.thread_given(thread, from_member, to_member)
        )
        old = await self._store.members.find_one({"_id": from_member}, {"role": 1}) if from_member else None
        if old is not None and from_member and not rulebook.keeps_thread_after_move(Role(old["role"])):
            await self._publisher.publish(
                thread["company_id"],
                "thread.removed",
                {"thread_id": thread["_id"]},
                rulebook.thread_taken(thread["_id"], from_member),
            )

    # -- automatic ------------------------------------------------------------------------------

    async def auto_assign(self, thread: dict[str, Any]) -> dict[str, Any]:
        """Give an unassigned open thread to the next available member of its department, or queue it.
        Returns the thread as it stands afterwards."""
        if done(thread, "assign"):  # a re-do: this change assigned it; publish what may be missing
            await self._publish_assigned(thread, None, thread["assignee_id"], None)
            return thread
        if done(thread, "queue"):
            await self._threads.publish(thread, thread)
            return thread
        if thread.get("assignee_id") or thread.get("status", "open") != "open":
            return thread
        department = thread.get("department_id")
        if department:
            limit = await self.max_open(thread["company_id"])
            for _round in range(ROTATION_ROUNDS):
                candidates = await self._candidates(thread["company_id"], department, limit, thread["_id"])
                if not candidates:
                    break
                for member in candidates:
                    reserved = await apply_once(
                        self._store.members,
                        {"_id": member["_id"]},
                        {"open_threads": {"$lt": limit}, "last_assigned_at": member.get("last_assigned_at")},
                        {"$inc": {"open_threads": 1}, "$set": {"last_assigned_at": self._clock.now()}},
                        f"reserve:{thread['_id']}",
                    )
                    if reserved is None:
                        continue  # another assignment took that turn; try the next member
                    took = await update_once(
                        self._store.threads,
                        {"_id": thread["_id"]},
                        {"assignee_id": None, "status": "open"},
                        {
                            "$set": {"assignee_id": member["_id"], "assigned_at": self._clock.now(), "queued_at": None},
                            "$inc": {"version": 1},
                        },
                        "assign",
                    )
                    after = await self._threads.get(thread["_id"])
                    assert after is not None
                    if after.get("assignee_id") != member["_id"] and reserved == "now":
                        # Another process (or a concurrent attempt of this change) assigned it: free our turn,
                        # and offer it to the queue (a thread may have been queued while it was held).
                        await self.adjust_open(member["_id"], -1, step=f"unreserve:{thread['_id']}")
                        await self.drain(thread["company_id"])
                    if not (took or done(after, "assign")):
                        return after  # assigned by another change
                    await self._publish_assigned(after, None, after["assignee_id"], None)
                    return after
                # every turn was taken by concurrent assignments: look again with fresh counts
        if thread.get("queued_at") is None:
            if await update_once(
                self._store.threads,
                {"_id": thread["_id"]},
                {"assignee_id": None, "queued_at": None},
                {"$set": {"queued_at": self._clock.now()}, "$inc": {"version": 1}},
                "queue",
            ):
                after = await self._threads.get(thread["_id"])
                assert after is not None
                await self._threads.publish(thread, after)
                if department and await self._candidates(thread["company_id"], department, limit, thread["_id"]):
                    # A turn held while this thread looked for one has been freed since: drain now rather than
                    # leave the thread waiting for the next resolve or arrival.
                    return await self._drained(after)
                return after
        return thread

    async def _drained(self, thread: dict[str, Any]) -> dict[str, Any]:
        await self.drain(thread["company_id"])
        after = await self._threads.get(thread["_id"])
        assert after is not None
        return after

    async def _candidates(
        self, company_id: str, department_id: str, limit: int, thread_id: str
    ) -> list[dict[str, Any]]:
        """Available department members with room, least recently assigned first."""
        cursor = self._store.members.find({"company_id": company_id, "department_id": department_id})
        department = [m async for m in cursor if m.get("open_threads", 0) < limit]
        online = await self._presence.statuses(company_id, [m["_id"] for m in department])
        members = [m for m in department if online[m["_id"]] is Status.available]
        # On a re-do, the member an earlier attempt reserved comes first (its reservation is not made twice).
        members.sort(
            key=lambda m: (
                not done(m, f"reserve:{thread_id}"),
                m.get("last_assigned_at") is not None,
                m.get("last_assigned_at"),
            )
        )
        return members

    async def drain(self, company_id: str, limit: int = 50) -> int:
        """Offer queued threads, oldest first, to whoever can take them now. Returns how many were assigned."""
        assigned = 0
        cursor = self._store.threads.find(
            {
                "company_id": company_id,
                "assignee_id": None,
                "status": "open",
                "queued_at": {"$ne": None},
                "department_id": {"$ne": None},
            }
        )
        cursor = cursor.sort("queued_at", 1).limit(limit)
        async for thread in cursor:
            after = await self.auto_assign(thread)
            if after.get("assignee_id"):
                assigned += 1
        return assigned

    async def drain_all(self) -> int:
        companies = await self._store.threads.distinct(
            "company_id",
            {"assignee_id": None, "status": "open", "queued_at": {"$ne": None}, "department_id": {"$ne": None}},
        )
        return sum([await self.drain(company_id) for company_id in companies])

    # -- open and resolved work -------------------------------------------------------------------

    async def resolve(self, actor: Principal, thread_id: str) -> dict[str, Any]:
        """Resolved threads keep their history; the next customer message reopens them."""
        thread = await self._threads.visible_or_redone(actor, thread_id, "resolve")
        if thread.get("status") == "resolved" and not done(thread, "resolve"):
            return thread
        moved = await update_once(
            self._store.threads,
            {"_id": thread["_id"]},
            {"status": "open"},
            {
                "$set": {"status": "resolved", "resolved_at": self._clock.now(), "queued_at": None},
                "$inc": {"version": 1},
            },
            "resolve",
        )
        after = await self._threads.get(thread["_id"])
        assert after is not None
        if moved:
            await self._threads.publish(thread, after)
            await self.thread_closed(after)
        return after

    async def reopen(self, actor: Principal, thread_id: str) -> dict[str, Any]:
        thread = await self._threads.visible_or_redone(actor, thread_id, "reopen")
        return await self.reopened(thread)

    async def reopened(self, thread: dict[str, Any]) -> dict[str, Any]:
        """Open a resolved thread again (an agent's choice)."""
        moved = await update_once(
            self._store.threads,
            {"_id": thread["_id"]},
            {"status": "resolved"},
            {"$set": {"status": "open", "resolved_at": None, "opened_at": self._clock.now()}, "$inc": {"version": 1}},
            "reopen",
        )
        after = await self._threads.get(thread["_id"])
        assert after is not None
        if moved:
            await self.adjust_open(after.get("assignee_id"), +1, step=f"reopen:{after['_id']}")
            await self._threads.publish(thread, after)
        return after
