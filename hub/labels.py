"""Company labels (created by owners and managers) and the labels on each thread."""
from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.auth import Principal
from hub.clock import Clock
from hub.directory import new_id
from hub.errors import Conflict, Forbidden, NotFound
from hub.events import Publisher
from hub.store import Store
from hub.threads import Threads
from schemas.chat import Label
from schemas.directory import Role
from schemas.events import Audience

# Every console of the company keeps the label list: it names what threads carry.
LABEL_AUDIENCE = Audience(roles=[Role.owner, Role.manager, Role.user])


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
        if actor.role is Role.user:
            raise Forbidden("only owners and managers create labels")
        doc = {"_id": new_id(), "company_id": actor.company_id, "name": name, "color": color,
               "created_at": self._clock.now()}
        try:
            await self._labels.insert_one(doc)
        except DuplicateKeyError:
            raise Conflict(f"a label named {name!r} exists", "label_exists") from None
        label = _label(doc)
        await self._publisher.publish(actor.company_id, "label.created", label.model_dump(mode="json"), LABEL_AUDIENCE)
        return label

    async def delete(self, actor: Principal, label_id: str) -> None:
        if actor.role is Role.user:
            raise Forbidden("only owners and managers delete labels")
        result = await self._labels.delete_one({"_id": label_id, "company_id": actor.company_id})
        if result.deleted_count == 0:
            raise NotFound("no such label", "label_not_found")
        await self._publisher.publish(actor.company_id, "label.removed", {"id": label_id}, LABEL_AUDIENCE)
        async for thread in self._threads_coll.find({"company_id": actor.company_id, "labels": label_id}):
            after = await self._threads.update(thread, {"$pull": {"labels": label_id}})
            await self._threads.publish(thread, after)

    async def tag_thread(self, actor: Principal, thread_id: str, label_id: str, on: bool) -> dict[str, Any]:
        thread = await self._threads.visible(actor, thread_id)
        if on and not await self._labels.find_one({"_id": label_id, "company_id": actor.company_id}):
            raise NotFound("no such label", "label_not_found")
        has = label_id in thread.get("labels", [])
        if has == on:
            return thread
        after = await self._threads.update(thread, {"$addToSet" if on else "$pull": {"labels": label_id}})
        await self._threads.publish(thread, after)
        return after
