"""Changes that are re-done until their writes and events are all durable (DESIGN section 4).

A standalone MongoDB has no multi-document transactions, so a change (one webhook applied, say)
cannot store its domain writes and its events at once. Instead each change has a key, and:

- every event it publishes gets a deterministic key `<change>|<type>|<subject>|<n>` (n counts
  events of that type and subject within the change), unique in the event log: re-doing the
  change publishes exactly the events that are missing, never one twice;
- every counter or state move it makes is a *step*: a conditional single-document update that
  also pushes `<change>|<step>` onto the document's bounded `applied` list, so a re-do sees
  what the first attempt already did (and publishes it) instead of doing it again;
- the inbox entry of the change (the stored webhook) is marked `applied_at` last. An entry
  without the mark is re-done by the sender's retry or by the scheduler's sweeper.

The current change travels in a context variable, so domain code asks `step()`/`current()`
without every signature naming it. Background work started inside a change must not inherit it
(hub.chat.background starts tasks in an empty context).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from hub import faults

# Steps remembered per document: a re-do comes within minutes, long before 64 later changes.
APPLIED_KEPT = 64

_current: ContextVar[Change | None] = ContextVar("change", default=None)


@dataclass
class Change:
    key: str
    # True when an earlier attempt of this change may have done part of it.
    redo: bool = False
    _events: Counter = field(default_factory=Counter)

    def event_key(self, type_: str, data: dict[str, Any]) -> str:
        subject = next(
            (
                str(data[name])
                for name in ("message_id", "id", "thread_id", "call_id", "extension")
                if data.get(name) is not None
            ),
            "",
        )
        place = self._events[(type_, subject)]
        self._events[(type_, subject)] += 1
        return f"{self.key}|{type_}|{subject}|{place}"

    def step(self, name: str) -> str:
        return f"{self.key}|{name}"


def current() -> Change | None:
    return _current.get()


@contextlib.contextmanager
def change(key: str, redo: bool = False) -> Iterator[Change]:
    token = _current.set(Change(key, redo))
    try:
        yield _current.get()  # type: ignore[misc]
    finally:
        _current.reset(token)


def step(name: str) -> str | None:
    """This change's key for a step, or None outside a change."""
    ch = _current.get()
    return ch.step(name) if ch else None


def done(doc: dict[str, Any] | None, name: str) -> bool:
    """Did this change already do step `name` to `doc` (an earlier attempt)?"""
    key = step(name)
    return bool(doc and key and key in (doc.get("applied") or []))


def guarded(update: dict[str, Any], name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(extra query, update) that make `update` a step: applied at most once per change and document."""
    key = step(name)
    if key is None:
        return {}, update
    update = {**update, "$push": {"applied": {"$each": [key], "$slice": -APPLIED_KEPT}}}
    return {"applied": {"$ne": key}}, update


async def update_once(
    collection: AsyncCollection, selector: dict[str, Any], conditions: dict[str, Any], update: dict[str, Any], name: str
) -> bool:
    """Apply `update` to the document `selector` finds when `conditions` hold, as step `name`.

    True when the step is applied: now, or (on a re-do) by an earlier attempt of this change, in
    which case the caller publishes again and the event keys drop what was already published."""
    return await apply_once(collection, selector, conditions, update, name) is not None


async def apply_once(
    collection: AsyncCollection, selector: dict[str, Any], conditions: dict[str, Any], update: dict[str, Any], name: str
) -> str | None:
    """As update_once, saying who applied it: "now" (this call), "before" (an earlier attempt), or None."""
    extra, update = guarded(update, name)
    result = await collection.update_one({**selector, **conditions, **extra}, update)
    if result.modified_count:
        return "now"
    ch = _current.get()
    if ch is None:
        return None
    # Not only on a re-do: a first attempt may lose the race to a concurrent retry of the same change.
    found = await collection.find_one({**selector, "applied": ch.step(name)}, {"_id": 1})
    return "before" if found is not None else None


# -- changes nobody retries (time-driven moves of the scheduler) --------------------------------------
# Such a move is one conditional update that also records its change key on the document; the
# events follow, then the mark is cleared. A mark left behind (the process died, or storage failed
# in between) is found by the next pass of the scheduler, which publishes what is missing.

PENDING = "pending_change"
PENDING_AT = "pending_change_at"


def mark_pending(update: dict[str, Any], key: str, now: Any) -> dict[str, Any]:
    """`update`, also recording that change `key` still has events to publish."""
    return {**update, "$set": {**update.get("$set", {}), PENDING: key, PENDING_AT: now}}


async def settle(collection: AsyncCollection, doc_id: Any, key: str) -> None:
    """The change's events are all published: clear its mark (unless a newer change has set its own)."""
    await collection.update_one({"_id": doc_id, PENDING: key}, {"$unset": {PENDING: "", PENDING_AT: ""}})


def unsettled(before: Any) -> dict[str, Any]:
    """Documents whose pending change was marked before `before` and not settled since."""
    return {PENDING_AT: {"$lte": before}}


Publish = Callable[[dict[str, Any]], Awaitable[None]]


async def finish(collection: AsyncCollection, doc: dict[str, Any], key: str, redo: bool, publish: Publish) -> None:
    """Publish a time-driven move's events as change `key`, then clear its mark."""
    await faults.point("scheduler.moved")
    with change(key, redo=redo):
        await publish(doc)
    await settle(collection, doc["_id"], key)


async def finish_pending(collection: AsyncCollection, before: Any, publish: Publish) -> int:
    """The scheduler's pass: publish what marks left before `before` say is missing."""
    finished = 0
    async for doc in collection.find(unsettled(before)).limit(500):
        await finish(collection, doc, doc[PENDING], True, publish)
        finished += 1
    return finished
