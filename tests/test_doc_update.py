"""hub.doc_update computes a thread after an update the way the server stores it: every operator the hub
uses, applied in memory and on the embedded server, gives the same document as a read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from hub import doc_update

AT = datetime(2026, 11, 29, 8, 30, 15, 123456, tzinfo=UTC)  # microseconds: the server keeps milliseconds

BEFORE: dict[str, Any] = {
    "_id": "t1",
    "version": 3,
    "unread": 2,
    "status": "resolved",
    "customer": {"name": "Lan"},
    "tags": ["vip"],
    "labels": ["l1", "l2"],
    "last_message_at": datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
    "last_user_interaction_at": None,
    "applied": [f"old|{n}" for n in range(64)],
    "reply_window": {"state": "free", "until": AT},
}

UPDATES: list[dict[str, Any]] = [
    {"$inc": {"unread": 1, "version": 1}, "$set": {"status": "open", "last_message": {"id": "m1", "at": AT}}},
    {"$max": {"last_message_at": AT, "last_user_interaction_at": AT}},
    {"$max": {"last_message_at": datetime(2026, 1, 1, tzinfo=UTC), "never_set": AT}},
    {"$set": {"customer.phone": "0912345678", "customer.address.city": "Hà Nội", "resolved_at": None}},
    {"$push": {"applied": {"$each": ["new|thread"], "$slice": -64}}, "$inc": {"new_counter": 5}},
    {"$push": {"applied": {"$each": ["a", "b"], "$slice": 3}}},
    {"$addToSet": {"tags": "vip", "labels": "l3"}},
    {"$addToSet": {"tags": {"$each": ["a", "vip", "b"]}}},
    {"$pull": {"labels": "l1", "absent": "x"}},
    {
        "$unset": {"customer.name": "", "nothing.here": ""},
        "$set": {"reply_window": {"state": "blocked", "until": None}},
    },
]


@pytest.fixture
async def collection(mongo_uri: str):
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    coll = client["doc_update"]["threads"]
    await coll.drop()
    yield coll
    await client.close()


@pytest.mark.parametrize("update", UPDATES, ids=[" ".join(u) + f" #{i}" for i, u in enumerate(UPDATES)])
async def test_an_update_applied_in_memory_gives_what_the_server_stores(collection, update) -> None:
    await collection.insert_one(dict(BEFORE))
    stored_before = await collection.find_one({"_id": "t1"})
    await collection.update_one({"_id": "t1"}, update)
    assert doc_update.apply(stored_before, update) == await collection.find_one({"_id": "t1"})


async def test_a_document_never_read_back_still_comes_out_as_a_read_gives_it(collection) -> None:
    """A thread created by this very change is the dict the hub inserted: microseconds and all."""
    await collection.insert_one(dict(BEFORE))
    update = {"$inc": {"version": 1}, "$set": {"status": "open"}}
    await collection.update_one({"_id": "t1"}, update)
    assert doc_update.apply(BEFORE, update) == await collection.find_one({"_id": "t1"})


@pytest.mark.parametrize(
    "update",
    [
        {"$mul": {"unread": 2}},
        {"$set": {"status": "open"}, "$inc": {"status": 1}},
        {"$set": {"customer.name.first": "x"}},
        {"$pull": {"labels": {"$in": ["l1"]}}},
        {"$push": {"tags": {"$each": ["x"], "$sort": 1}}},
        {"$max": {"status": 3}},
    ],
)
def test_what_it_does_not_know_it_refuses_so_the_caller_reads_back(update) -> None:
    with pytest.raises(doc_update.Unsupported):
        doc_update.apply(BEFORE, update)
