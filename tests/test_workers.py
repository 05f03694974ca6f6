"""`hub serve --workers N`: several processes on one port, each with its own event loop, handing each
other their events through Redis — consoles connected to any of them get every entitled event once,
in order, whichever process took the request that made it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import Company, make_company, runtime_of
from tests.servers import HubProcess, free_port, hub_env, run_cli

WORKERS = 2


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


def _serving(pid: int) -> list[int]:
    """The worker processes under the parent (multiprocessing's resource tracker is no worker)."""
    return [
        child
        for child in _children(pid)
        if "resource_tracker" not in Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace")
    ]


@pytest.fixture(scope="module")
def workers_hub(workdir: Path, mongo_uri: str, redis_url: str) -> Iterator[HubProcess]:
    env = hub_env(mongodb_uri=mongo_uri, mongodb_db="hub_workers", redis_url=redis_url)
    process = HubProcess(
        port=free_port(), env=env, log=workdir / "hub_workers.log", cwd=workdir, extra_args=["--workers", str(WORKERS)]
    ).start()
    yield process
    process.stop()


async def test_workers_share_the_port_and_every_console_gets_every_event_once_in_order(
    workers_hub: HubProcess, mongo_uri: str, http: httpx.AsyncClient
) -> None:
    assert workers_hub.process is not None
    assert len(_serving(workers_hub.process.pid)) == WORKERS
    async with runtime_of(mongo_uri, "hub_workers") as runtime:
        company: Company = await make_company(runtime, workers_hub.url, http)
    # Each connection lands on whichever worker accepts it; a dozen spread over both in practice,
    # and the test holds however they spread.
    consoles = [company.console(company.owner) for _ in range(12)]
    for console in consoles:
        await console.connect(last_seq=0)
    created = []
    for _ in range(5):  # a few at once: each request lands on either worker
        created += await asyncio.gather(*[company.add("user") for _ in range(2)])
    expected = {person.id for person in created}
    for console in consoles:
        await console.wait_for(lambda c=console: len(c.stored()) >= len(created))
    reference = consoles[0].seqs()
    for console in consoles:
        assert console.seqs() == sorted(set(console.seqs())) == reference, "once each, in seq order, the same stream"
        assert {env["data"]["id"] for env in console.stored()} == expected


def test_more_than_one_worker_without_redis_is_refused_with_what_to_do(workdir: Path, mongo_uri: str) -> None:
    result = run_cli(
        ["serve", "--workers", "2", "--port", str(free_port())],
        hub_env(mongodb_uri=mongo_uri, mongodb_db="hub_workers_no_redis"),
        cwd=workdir,
    )
    assert result.returncode == 2
    assert "HUB_REDIS_URL" in result.stderr and "one worker" in result.stderr
