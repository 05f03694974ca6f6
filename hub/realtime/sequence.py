"""Per-company `seq` numbers: strictly increasing across processes and restarts.

With Redis, `INCRBY` on one key per company (a read-modify-write round trip on MongoDB would cap
ingest at its slowest operation). After a Redis restart the key is gone: a Lua script floors it
from the event log's highest seq, which each process reads once per company and again whenever
an insert collides with an existing seq. Alone, a process counts in memory from the same floor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol

from redis.asyncio import Redis

MaxSeq = Callable[[str], Awaitable[int]]

_NEXT = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if cur < floor then redis.call('SET', KEYS[1], floor) end
return redis.call('INCRBY', KEYS[1], tonumber(ARGV[2]))
"""


class Sequence(Protocol):
    async def next(self, company_id: str, count: int = 1) -> int:
        """Reserve `count` consecutive seqs; returns the last of them."""

    async def refloor(self, company_id: str) -> None:
        """Re-read the floor from the log (called when an allocated seq was already taken)."""


class LocalSequence:
    """One process alone: counters in memory, floored from the log on first use."""

    def __init__(self, max_seq: MaxSeq) -> None:
        self._max_seq = max_seq
        self._last: dict[str, int] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def next(self, company_id: str, count: int = 1) -> int:
        if company_id not in self._last:
            async with self._locks.setdefault(company_id, asyncio.Lock()):
                if company_id not in self._last:
                    self._last[company_id] = await self._max_seq(company_id)
        self._last[company_id] += count
        return self._last[company_id]

    async def refloor(self, company_id: str) -> None:
        floor = await self._max_seq(company_id)
        self._last[company_id] = max(self._last.get(company_id, 0), floor)


class RedisSequence:
    """Shared by every hub process through Redis INCR."""

    def __init__(self, redis: Redis, max_seq: MaxSeq, prefix: str = "hub:seq:") -> None:
        self._redis = redis
        self._max_seq = max_seq
        self._prefix = prefix
        self._floors: dict[str, int] = {}
        self._script = redis.register_script(_NEXT)

    async def next(self, company_id: str, count: int = 1) -> int:
        floor = self._floors.get(company_id)
        if floor is None:
            floor = self._floors[company_id] = await self._max_seq(company_id)
        return int(await self._script(keys=[self._prefix + company_id], args=[floor, count]))

    async def refloor(self, company_id: str) -> None:
        self._floors[company_id] = await self._max_seq(company_id)
