"""Wallboard figures follow the calls at once: each call change that can move them brings
`wallboard.counters` (here on a hub whose full snapshots come only every 10 minutes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from hub.runtime import Runtime
from tests.conftest import hub_of_its_own, make_company, runtime_of
from tests.consoles import TestConsole
from tests.pbx_payloads import Pbx, canonical
from tests.servers import HubProcess


@pytest.fixture(scope="module")
def slow_snapshots(workdir: Path, mongo_uri: str) -> Iterator[HubProcess]:
    with hub_of_its_own(
        workdir, mongo_uri, "hub_wallboard_live", wallboard_snapshot_s="600", call_finalize_grace_s="0.3"
    ) as process:
        yield process


@pytest_asyncio.fixture(scope="module")
async def slow_runtime(mongo_uri: str, slow_snapshots) -> AsyncIterator[Runtime]:
    async with runtime_of(mongo_uri, "hub_wallboard_live") as rt:
        yield rt


async def test_counters_reach_a_wallboard_with_the_call_not_the_next_snapshot(
    slow_snapshots: HubProcess, slow_runtime: Runtime, http: httpx.AsyncClient
) -> None:
    company = await make_company(slow_runtime, slow_snapshots.url, http)
    secret = (await http.post(f"{company.url}/api/pbx/secret", headers=company.owner.auth)).json()["secret"]
    token = (
        await http.post(f"{company.url}/api/wallboard-tokens", headers=company.owner.auth, json={"name": "TV"})
    ).json()["token"]
    board = await TestConsole(company.url, token).connect()
    try:
        await board.wait_for(lambda: board.ephemeral("wallboard.snapshot"))  # the one on joining
        events = canonical("no_answer")

        def counters() -> list[dict]:
            return [figures["counters"] for figures in board.ephemeral("wallboard.counters")]

        pbx = Pbx(company.url, company.code, secret)
        await pbx.post(http, events[0])  # ringing: offered 1
        await board.wait_for(lambda: any(c["offered"] == 1 for c in counters()))
        for event in events[1:]:
            await pbx.post(http, event)
        await board.wait_for(lambda: any(c["missed"] == 1 for c in counters()))
        assert len(board.ephemeral("wallboard.snapshot")) == 1, "no snapshot came meanwhile: the counters did"
        figures = board.ephemeral("wallboard.counters")[-1]
        assert set(figures["counters"]) >= {
            "offered",
            "answered",
            "missed",
            "abandonment_rate",
            "service_level",
            "longest_wait_now_s",
            "answer_rate",
            "average_wait_s",
            "average_talk_s",
            "short_abandoned",
        }
    finally:
        await board.disconnect()
