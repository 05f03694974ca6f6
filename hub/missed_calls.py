"""Missed calls as work: each one's follow-up (open -> called_back or handled), its assignee, its list.

A missed call's follow-up is its own document (`missed_calls`, _id = the call record's id), opened when the
call is finalized as missed and moved only by conditional steps of a change (hub.changes), so a re-done
change moves it once and publishes what is missing. An outbound call that reaches the caller's number
within the callback window closes every open missed call of that number as called back: inside the
outbound call's finalizing change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError

from hub import changes, faults, rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound, Unprocessable
from hub.realtime.publish import Publisher
from hub.store import Store, time_range
from schemas.calls import MissedCallRow, MissedCallView

OPEN, CALLED_BACK, HANDLED = "open", "called_back", "handled"
CLOSED = (CALLED_BACK, HANDLED)
STATES = (OPEN, CALLED_BACK, HANDLED)


def follow_up(call: dict[str, Any]) -> dict[str, Any]:
    """A new missed call's follow-up document, from its finalized call record."""
    return {
        "_id": call["_id"],
        "company_id": call["company_id"],
        "call_id": call["call_id"],
        "from_number": call["from_number"],
        "from_e164": call.get("from_e164"),
        "hotline": call["hotline"],
        "started_at": call["started_at"],
        "ended_at": call["ended_at"] or call["started_at"],
        "wait_s": call["wait_s"],
        "rang": [
            {"extension": leg["extension"], "ring_s": leg["ring_s"]}
            for leg in call["legs"]
            if leg.get("extension") and leg["ring_started_at"]
        ],
        "members": list(call.get("members") or []),
        "state": OPEN,
        "assignee_id": None,
        "note": None,
        "handled_by": None,
        "handled_at": None,
        "callback_call_id": None,
        "called_back_at": None,
        "version": 1,
    }


def callback_window(missed_ended_at: datetime, hours: float) -> tuple[datetime, datetime]:
    """When an outbound call to the caller counts as calling them back: from the missed call's end, `hours` long."""
    return missed_ended_at, missed_ended_at + timedelta(hours=hours)


def calls_back(outbound: dict[str, Any]) -> bool:
    """An outbound call that reached someone (a person answered) at an outside number."""
    return (
        outbound.get("direction") == "outbound" and bool(outbound.get("answered_at")) and bool(outbound.get("to_e164"))
    )


def view(doc: dict[str, Any]) -> MissedCallView:
    return MissedCallView(
        id=doc["_id"], **{k: v for k, v in doc.items() if k in MissedCallView.model_fields and k != "id"}
    )


def row_view(doc: dict[str, Any]) -> MissedCallRow:
    """A missed call as its list carries it (its customer's thread is set by hub.call_customers)."""
    return MissedCallRow(
        id=doc["_id"], **{k: v for k, v in doc.items() if k in MissedCallRow.model_fields and k != "id"}
    )


class MissedCalls:
    def __init__(self, store: Store, clock: Clock, publisher: Publisher, callback_hours: float) -> None:
        self._store = store
        self._docs = store.missed_calls
        self._clock = clock
        self._publisher = publisher
        self.callback_hours = callback_hours

    async def _publish(self, doc: dict[str, Any], previous_assignee: str | None = None) -> None:
        await self._publisher.publish(
            doc["company_id"],
            "missed_call.updated",
            view(doc).model_dump(mode="json"),
            rulebook.missed_call_audience(doc["members"], doc.get("assignee_id"), previous_assignee),
        )

    # -- moves (each inside a change) ---------------------------------------------------------------

    async def opened(self, call: dict[str, Any]) -> None:
        """A call was finalized as missed: its follow-up opens (once; a re-do publishes what is missing)."""
        doc = follow_up(call)
        try:
            await self._docs.insert_one(doc)
        except DuplicateKeyError:
            found = await self._docs.find_one({"_id": call["_id"]})
            assert found is not None
            doc = found
        await self._publish(doc)

    async def called_back(self, outbound: dict[str, Any]) -> None:
        """An outbound call was finalized: the open missed calls of the number it reached, within the window
        before it, are called back by it."""
        if not calls_back(outbound):
            return
        at = outbound["answered_at"]
        earliest = at - timedelta(hours=self.callback_hours)
        query = {
            "company_id": outbound["company_id"],
            "from_e164": outbound["to_e164"],
            "ended_at": {"$gte": earliest, "$lte": at},
            # on a re-do, the ones this call already closed, to publish what is missing
            "$or": [{"state": OPEN}, {"callback_call_id": outbound["_id"]}],
        }
        async for doc in self._docs.find(query):
            moved = await changes.update_once(
                self._docs,
                {"_id": doc["_id"]},
                {"state": OPEN},
                {
                    "$set": {"state": CALLED_BACK, "callback_call_id": outbound["_id"], "called_back_at": at},
                    "$inc": {"version": 1},
                },
                f"called_back:{doc['_id']}",
            )
            if moved:
                await faults.point("missed_calls.called_back")
                after = await self._docs.find_one({"_id": doc["_id"]})
                assert after is not None
                await self._publish(after)

    async def _one(self, actor: Principal, call_id: str) -> dict[str, Any]:
        doc = await self._docs.find_one({"_id": call_id, "company_id": actor.company_id})
        if doc is None or not rulebook.may_handle_missed_call(actor, doc):
            raise NotFound("no such missed call", "missed_call_not_found")
        return doc

    async def _move(self, doc: dict[str, Any], update: dict[str, Any], name: str) -> MissedCallView:
        update = {**update, "$inc": {"version": 1}}
        if not await changes.update_once(self._docs, {"_id": doc["_id"]}, {"state": OPEN}, update, name):
            raise Conflict(f"this missed call is already {doc['state'].replace('_', ' ')}", "missed_call_closed")
        after = await self._docs.find_one({"_id": doc["_id"]})
        assert after is not None
        await self._publish(after, doc.get("assignee_id"))
        return view(after)

    async def mark_handled(self, actor: Principal, call_id: str, note: str) -> MissedCallView:
        doc = await self._one(actor, call_id)
        if not note.strip():
            raise Unprocessable("say what was done in the note", "note_required")
        update = {
            "$set": {
                "state": HANDLED,
                "note": note.strip(),
                "handled_by": actor.member_id,
                "handled_at": self._clock.now(),
            }
        }
        return await self._move(doc, update, "handled")

    async def assign(self, actor: Principal, call_id: str, member_id: str | None) -> MissedCallView:
        rulebook.require(actor, rulebook.Action.assign_missed_calls)
        doc = await self._one(actor, call_id)
        if member_id is not None and not await self._store.members.find_one(
            {"_id": member_id, "company_id": actor.company_id}, {"_id": 1}
        ):
            raise Unprocessable("no such member", "member_not_found")
        if doc["assignee_id"] == member_id and doc["state"] == OPEN:
            return view(doc)
        return await self._move(doc, {"$set": {"assignee_id": member_id}}, "assigned")

    # -- the list -------------------------------------------------------------------------------------

    async def list(
        self,
        actor: Principal,
        state: str | None = None,
        assignee: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        before: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """Newest first; `before` is the id of the last one of the previous page. Counts by state over the
        same filter but the state."""
        visible: dict[str, Any] = {"company_id": actor.company_id}
        if not rulebook.may(actor.role, rulebook.Action.all_calls):
            visible["$or"] = [{"members": actor.member_id}, {"assignee_id": actor.member_id}]
        if assignee:
            visible["assignee_id"] = None if assignee == "none" else assignee
        if bounds := time_range(start, end):
            visible["ended_at"] = bounds
        counts = {s: 0 for s in STATES}
        async for row in await self._docs.aggregate(
            [{"$match": visible}, {"$group": {"_id": "$state", "n": {"$sum": 1}}}]
        ):
            counts[row["_id"]] = row["n"]
        query = dict(visible)
        if state:
            query["state"] = state
        if before:
            last = await self._docs.find_one({**visible, "_id": before}, {"ended_at": 1})
            if last is None:
                raise Unprocessable("before names no missed call of this list", "invalid_query")
            query["$and"] = [
                {
                    "$or": [
                        {"ended_at": {"$lt": last["ended_at"]}},
                        {"ended_at": last["ended_at"], "_id": {"$lt": before}},
                    ]
                }
            ]
        cursor = (
            self._docs.find(query).sort([("ended_at", DESCENDING), ("_id", DESCENDING)]).limit(max(1, min(limit, 500)))
        )
        return {"missed_calls": [row_view(doc) async for doc in cursor], "counts": counts}
