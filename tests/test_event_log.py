"""The event log's highest seq, found by bounded range probes, with holes and pruning."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest


@pytest.mark.parametrize(
    "seqs", [[], [1], [1, 2, 3], list(range(1, 2000)) + [2100, 2150], list(range(1, 300)) + list(range(800, 5000, 3))]
)
async def test_max_seq_is_the_highest_seq_whatever_the_holes(runtime, seqs: list[int]) -> None:
    company = "log-" + uuid.uuid4().hex
    now = datetime.now(UTC)
    if seqs:
        await runtime.store.events.insert_many(
            [{"company_id": company, "seq": seq, "type": "t", "at": now, "data": {}, "audience": {}} for seq in seqs]
        )
    assert await runtime.event_log.max_seq(company) == (max(seqs) if seqs else 0)


async def test_max_seq_remembers_what_pruning_removed(runtime) -> None:
    company = "log-" + uuid.uuid4().hex
    old = datetime(2020, 1, 1, tzinfo=UTC)
    await runtime.store.events.insert_many(
        [
            {"company_id": company, "seq": seq, "type": "t", "at": old, "data": {}, "audience": {}}
            for seq in range(1, 50)
        ]
    )
    assert await runtime.event_log.prune(datetime(2021, 1, 1, tzinfo=UTC), company) == 49
    assert await runtime.event_log.max_seq(company) == 49
    assert await runtime.event_log.pruned_through(company) == 49
