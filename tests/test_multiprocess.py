"""Two hub processes behind one load balancer: shared MongoDB and Redis, consoles on both, writers on both."""

from __future__ import annotations

import asyncio

from tests.conftest import Company, make_company


async def test_concurrent_writers_on_two_processes_reach_every_entitled_console_once_in_order(
    pair_runtime, hub_pair, http
) -> None:
    first, second = hub_pair
    company: Company = await make_company(pair_runtime, first.url, http)
    managers = [await company.add("manager", url=url) for url in (first.url, second.url)]
    user = await company.add("user")
    baseline = 3  # the member.created events of the members above

    consoles = [
        company.console(company.owner, first.url),
        company.console(company.owner, second.url),
        company.console(managers[0], second.url),
        company.console(managers[1], first.url),
        company.console(user, first.url),
        company.console(user, second.url),
    ]
    for console in consoles:
        await console.connect(last_seq=0)
    entitled, unentitled = consoles[:4], consoles[4:]
    for console in entitled:
        await console.wait_for(lambda c=console: len(c.stored()) == baseline)

    # 24 members created at once, half through each process, by owner and managers alike
    writers = [company.owner, managers[0], managers[1]]
    created = await asyncio.gather(
        *[company.add("user", by=writers[i % 3], url=(first.url, second.url)[i % 2]) for i in range(24)]
    )
    total = baseline + len(created)

    for console in entitled:
        await console.wait_for(lambda c=console: len(c.stored()) >= total)
    expected_ids = {m["id"] for m in [managers[0].member, managers[1].member, user.member]} | {p.id for p in created}
    for console in entitled:
        seqs = console.seqs()
        assert seqs == sorted(seqs), "delivered in seq order"
        assert len(seqs) == len(set(seqs)) == total, "no duplicates, nothing missing"
        assert {env["data"]["id"] for env in console.stored()} == expected_ids
    reference = consoles[0].seqs()
    assert all(c.seqs() == reference for c in entitled), "every entitled console saw the same stream"

    # users are entitled to none of these; after all that traffic they have received nothing
    for console in unentitled:
        assert console.stored() == []

    # a reconnect on the other process replays nothing it already had and continues gap-free
    moved = consoles[2]
    await moved.disconnect()
    late = await company.add("user", url=second.url)
    moved.url = first.url
    before = len(moved.names())
    await moved.connect(last_seq=moved.last_seq)
    assert [env["data"]["id"] for env in moved.stored()[total:]] == [late.id]
    assert moved.names()[before:] == ["member.created", "sync.done"]
    for console in consoles:
        await console.disconnect()


async def test_seq_keeps_increasing_when_redis_forgets_its_counter(pair_runtime, hub_pair, http, redis_url) -> None:
    import redis.asyncio as aioredis

    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    console = await company.console(company.owner, second.url).connect()
    await company.add("user")
    await console.wait_for(lambda: len(console.stored()) == 1)
    client = aioredis.Redis.from_url(redis_url)
    await client.delete(f"hub:seq:{company.id}")  # as after a Redis restart without persistence
    await client.aclose()
    await company.add("user", url=first.url)
    await company.add("user", url=second.url)
    await console.wait_for(lambda: len(console.stored()) == 3)
    seqs = console.seqs()
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    await console.disconnect()


async def test_a_process_whose_redis_subscription_dropped_replays_what_it_missed(
    pair_runtime, hub_pair, http, redis_url
) -> None:
    import redis.asyncio as aioredis

    from schemas.events import Audience

    first, second = hub_pair
    company = await make_company(pair_runtime, first.url, http)
    console = await company.console(company.owner, second.url).connect()
    # Two events stored while no process heard of them on the bus...
    for n in range(2):
        await pair_runtime.publisher.publish(
            company.id, "label.removed", {"id": f"missed-{n}"}, Audience(roles=["owner"])
        )
    # ...then the processes' subscriptions drop; on resubscribing each re-reads the log.
    client = aioredis.Redis.from_url(redis_url)
    killed = await client.client_kill_filter(_type="pubsub")
    await client.aclose()
    assert killed >= 2
    await console.wait_for(lambda: len(console.stored()) == 2, timeout=20)
    assert [env["data"]["id"] for env in console.stored()] == ["missed-0", "missed-1"]
    await console.disconnect()
