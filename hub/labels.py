"""Company labels (created by owners and managers) and the labels on each thread."""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from hub import rulebook
from hub.auth import Principal
from hub.changes import current as current_change
from hub.changes import done
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.ids import new_id
from hub.realtime.publish import Publisher
from hub.store import Store
from hub.threads import Threads
from schemas.chat import Label

# Every console of the company keeps the label list: it names what threads carry.
LABEL_AUDIENCE = rulebook.everyone()  # every member applies labels


def _label(doc: dict[str, Any]) -> Label:
    return Label(id=doc["_id"], name=doc["name"], color=doc.get("color"))


class Labels:
    def __init__(self, store: Store, clock: Clock, threads: Threads, publisher: Publisher) -> None:
        self._labels = store.labels
        self._threads_coll = store.threads
        self._clock = clock
        self._threads = threads
        self._publisher = publisher

    async def list(self, actor: Principal) -> list[Label]:
        cursor = self._labels.find({"company_id": actor.company_id}).sort("name", 1)
        return [_label(doc) async for doc in cursor]

    async def create(self, actor: Principal, name: str, color: str | None) -> Label:
        rulebook.require(actor, rulebook.Action.labels_manage)
        change = current_change()
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "name": name,
            "color": color,
            "created_at": self._clock.now(),
            "created_by": change.key if change else None,
        }
        try:
            await self._labels.insert_one(doc)
        except DuplicateKeyError:
            existing = await self._labels.find_one({"company_id": actor.company_id, "name": name})
            if not (change and existing and existing.get("created_by") == change.key):  # not a re-do of this one
                raise Conflict(f"a label named {name!r} exists", "label_exists") from None
            doc = existing
        label = _label(doc)
        await self._publisher.publish(actor.company_id, "label.created", label.model_dump(mode="json"), LABEL_AUDIENCE)
        return label

    async def update(self, actor: Principal, label_id: str, name: str | None, color: str | None) -> Label:
        """Rename or recolour a label (label.updated to everyone). A `$set` is the same on a re-do."""
        rulebook.require(actor, rulebook.Action.labels_manage)
        changes = {key: value for key, value in (("name", name), ("color", color)) if value is not None}
        if not changes:
            raise Unprocessable("give a name or a color", "invalid_body")
        try:
            result = await self._labels.update_one({"_id": label_id, "company_id": actor.company_id}, {"$set": changes})
        except DuplicateKeyError:
            raise Conflict(f"a label named {name!r} exists", "label_exists") from None
        if not result.matched_count:
            raise NotFound("no such label", "label_not_found")
        doc = await self._labels.find_one({"_id": label_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such label", "label_not_found")
        label = _label(doc)
        await self._publisher.publish(actor.company_id, "label.updated", label.model_dump(mode="json"), LABEL_AUDIENCE)
        return label

    async def delete(self, actor: Principal, label_id: str) -> None:
        """The label leaves every thread first, then goes: a re-do finds what is left to do."""
        rulebook.require(actor, rulebook.Action.labels_manage)
        if not await self._labels.find_one({"_id": label_id, "company_id": actor.company_id}):
            change = current_change()
            if change is not None and change.redo:
                return  # the first attempt got to the end
            raise NotFound("no such label", "label_not_found")
        query: dict[str, Any] = {"company_id": actor.company_id, "labels": label_id}
        change = current_change()
        if change is not None and change.redo:
            query = {"$or": [query, {"company_id": actor.company_id, "applied": change.step("unlabel")}]}
        async for thread in self._threads_coll.find(query):
            after = await self._threads.update(thread, {"$pull": {"labels": label_id}}, step="unlabel")
            await self._threads.publish(thread, after)
        await self._publisher.publish(actor.company_id, "label.removed", {"id": label_id}, LABEL_AUDIENCE)
        await self._labels.delete_one({"_id": label_id, "company_id": actor.company_id})

    async def tag_thread(self, actor: Principal, thread_id: str, label_id: str, on: bool) -> dict[str, Any]:
        thread = await self._threads.visible_or_redone(actor, thread_id, "thread")
        if not await self._labels.find_one({"_id": label_id, "company_id": actor.company_id}):
            if on or label_id not in thread.get("labels", []):  # a label deleted meanwhile may still come off
                raise NotFound("no such label", "label_not_found")
        has = label_id in thread.get("labels", [])
        if has == on and not done(thread, "thread"):
            return thread
        after = await self._threads.update(thread, {"$addToSet" if on else "$pull": {"labels": label_id}})
        await self._threads.publish(thread, after)
        return after
