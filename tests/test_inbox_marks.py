"""Webhook entries are marked applied in batches (hub.inbox.AppliedMarks): every mark is written, including
those that come while a batch is being written, and an entry whose mark is on its way counts as applied."""

from __future__ import annotations

import asyncio
import uuid

from pymongo import AsyncMongoClient

from hub.clock import SystemClock
from hub.inbox import AppliedMarks


async def test_marks_added_while_a_batch_is_written_are_written_too(mongo_uri: str) -> None:
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True)
    entries = client["inbox_marks"][f"entries_{uuid.uuid4().hex[:8]}"]
    ids = [f"e{n}" for n in range(6)]
    await entries.insert_many([{"_id": i, "applied_at": None} for i in ids])
    marks = AppliedMarks(SystemClock())
    marks.add(entries, ids[0])
    flushing = marks._flushing
    assert flushing is not None
    while not marks._writing:  # the first batch is on its way to the server
        await asyncio.sleep(0)
    for entry_id in ids[1:]:
        marks.add(entries, entry_id)  # no new flush is started: the one running takes them
        assert marks.holds(entries, entry_id)
    await flushing  # nothing else is added: the running flush must write these too
    assert await entries.count_documents({"applied_at": None}) == 0
    assert not any(marks.holds(entries, entry_id) for entry_id in ids)
    await client.close()
