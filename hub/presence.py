"""Who is online and available, per company, across every hub process.

Each connected console holds one entry (member, console, status, expiry). A member is `available`
when any of their consoles is, `away` when connected but none is, `offline` with no live entry.
A process refreshes its consoles' expiry on every heartbeat; a console whose connection died
without a goodbye is dropped by Engine.IO's ping timeout, and one whose whole process died simply
expires (`ttl_s`), when any process's sweep notices. Entries live in Redis when it is configured
(one hash per company), else in this process's memory. Liveness is wall-clock time, not the
business clock tests move.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Protocol, cast

from redis.asyncio import Redis


class Status(StrEnum):
    available = "available"
    away = "away"
    offline = "offline"


def aggregate(statuses: list[str]) -> Status:
    if not statuses:
        return Status.offline
    return Status.available if Status.available.value in statuses else Status.away


class _Table(Protocol):
    async def entries(self, company_id: str) -> dict[str, tuple[str, float]]: ...
    async def member_entries(self, company_id: str, member_id: str) -> dict[str, tuple[str, float]]: ...
    async def members_entries(
        self, company_id: str, member_ids: list[str]
    ) -> dict[str, dict[str, tuple[str, float]]]: ...
    async def put(self, company_id: str, key: str, status: str, expires: float) -> None: ...
    async def put_many(self, items: list[tuple[str, str, str, float]]) -> None: ...
    async def delete(self, company_id: str, keys: list[str]) -> None: ...
    async def companies(self) -> list[str]: ...


# Entries are keyed `member|sid`. Tables keep them per member, so one member's status is one small
# read however many consoles the company has (a console joining asks for its member's status).


def _split(key: str) -> tuple[str, str]:
    member, _, sid = key.partition("|")
    return member, sid


class MemoryTable:
    def __init__(self) -> None:
        self._data: dict[str, dict[str, dict[str, tuple[str, float]]]] = {}  # company -> member -> sid

    async def entries(self, company_id: str) -> dict[str, tuple[str, float]]:
        return {
            f"{member}|{sid}": entry
            for member, consoles in self._data.get(company_id, {}).items()
            for sid, entry in consoles.items()
        }

    async def member_entries(self, company_id: str, member_id: str) -> dict[str, tuple[str, float]]:
        return dict(self._data.get(company_id, {}).get(member_id, {}))

    async def members_entries(self, company_id: str, member_ids: list[str]) -> dict[str, dict[str, tuple[str, float]]]:
        return {member: await self.member_entries(company_id, member) for member in member_ids}

    async def put(self, company_id: str, key: str, status: str, expires: float) -> None:
        member, sid = _split(key)
        self._data.setdefault(company_id, {}).setdefault(member, {})[sid] = (status, expires)

    async def put_many(self, items: list[tuple[str, str, str, float]]) -> None:
        for company_id, key, status, expires in items:
            await self.put(company_id, key, status, expires)

    async def delete(self, company_id: str, keys: list[str]) -> None:
        members = self._data.get(company_id, {})
        for key in keys:
            member, sid = _split(key)
            consoles = members.get(member, {})
            consoles.pop(sid, None)
            if not consoles:
                members.pop(member, None)

    async def companies(self) -> list[str]:
        return [c for c, members in self._data.items() if members]


# Removes consoles from a member's hash and, when none is left, the member from the company's set: at
# once, so a console joining meanwhile cannot be left out of the set.
_DELETE = """
redis.call('HDEL', KEYS[1], unpack(ARGV, 2))
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
return 1
"""


class RedisTable:
    """Per company, a set of members with live consoles and, per member, a hash sid -> "status|expires"."""

    def __init__(self, redis: Redis, prefix: str = "hub:presence:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._delete = redis.register_script(_DELETE)

    def _member_key(self, company_id: str, member_id: str) -> str:
        return f"{self._prefix}{company_id}:m:{member_id}"

    def _members_key(self, company_id: str) -> str:
        return f"{self._prefix}{company_id}:members"

    @staticmethod
    def _decode(raw: dict[bytes, bytes]) -> dict[str, tuple[str, float]]:
        result = {}
        for sid, value in raw.items():
            status, _, expires = value.decode().partition("|")
            result[sid.decode()] = (status, float(expires or 0))
        return result

    async def entries(self, company_id: str) -> dict[str, tuple[str, float]]:
        members = sorted(
            m.decode() for m in cast(set[bytes], await self._redis.smembers(self._members_key(company_id)))
        )
        return {
            f"{member}|{sid}": entry
            for member, consoles in (await self.members_entries(company_id, members)).items()
            for sid, entry in consoles.items()
        }

    async def member_entries(self, company_id: str, member_id: str) -> dict[str, tuple[str, float]]:
        raw = cast(dict[bytes, bytes], await self._redis.hgetall(self._member_key(company_id, member_id)))
        return self._decode(raw)

    async def members_entries(self, company_id: str, member_ids: list[str]) -> dict[str, dict[str, tuple[str, float]]]:
        if not member_ids:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for member in member_ids:
                pipe.hgetall(self._member_key(company_id, member))
            hashes = await pipe.execute()
        return {member: self._decode(raw) for member, raw in zip(member_ids, hashes, strict=True)}

    async def put(self, company_id: str, key: str, status: str, expires: float) -> None:
        await self.put_many([(company_id, key, status, expires)])

    async def put_many(self, items: list[tuple[str, str, str, float]]) -> None:
        if not items:
            return
        members: dict[str, set[str]] = {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for company_id, key, status, expires in items:
                member, sid = _split(key)
                pipe.hset(self._member_key(company_id, member), sid, f"{status}|{expires}")
                members.setdefault(company_id, set()).add(member)
            for company_id, ids in members.items():  # once per member and company, however many consoles
                pipe.sadd(self._members_key(company_id), *sorted(ids))
            pipe.sadd(self._prefix + "companies", *sorted(members))
            await pipe.execute()

    async def delete(self, company_id: str, keys: list[str]) -> None:
        by_member: dict[str, list[str]] = {}
        for key in keys:
            member, sid = _split(key)
            by_member.setdefault(member, []).append(sid)
        for member, sids in by_member.items():
            await self._delete(
                keys=[self._member_key(company_id, member), self._members_key(company_id)], args=[member, *sids]
            )

    async def companies(self) -> list[str]:
        members = cast(set[bytes], await self._redis.smembers(self._prefix + "companies"))
        return [c.decode() for c in members]


class Presence:
    def __init__(self, table: _Table, ttl_s: float = 60.0, wall: Callable[[], float] = time.time) -> None:
        self._table = table
        self.ttl_s = ttl_s
        self._wall = wall

    @staticmethod
    def _key(member_id: str, sid: str) -> str:
        return f"{member_id}|{sid}"

    async def members(self, company_id: str, now: float | None = None) -> dict[str, Status]:
        """Every member with a live console, and their status."""
        now = self._wall() if now is None else now
        statuses: dict[str, list[str]] = {}
        for key, (status, expires) in (await self._table.entries(company_id)).items():
            if expires > now:
                statuses.setdefault(key.partition("|")[0], []).append(status)
        return {member: aggregate(values) for member, values in statuses.items()}

    async def status(self, company_id: str, member_id: str) -> Status:
        """One member's status: a read of that member's consoles only."""
        return (await self.statuses(company_id, [member_id]))[member_id]

    async def statuses(self, company_id: str, member_ids: list[str]) -> dict[str, Status]:
        """These members' statuses (offline included): a read of their consoles only, not the company's."""
        now = self._wall()
        found = await self._table.members_entries(company_id, member_ids)
        return {
            member: aggregate([status for status, expires in found.get(member, {}).values() if expires > now])
            for member in member_ids
        }

    async def set(self, company_id: str, member_id: str, sid: str, status: Status) -> tuple[Status, Status]:
        """A console joined or changed status; returns the member's status before and after."""
        before = await self.status(company_id, member_id)
        await self._table.put(company_id, self._key(member_id, sid), status.value, self._wall() + self.ttl_s)
        return before, await self.status(company_id, member_id)

    async def leave(self, company_id: str, member_id: str, sid: str) -> tuple[Status, Status]:
        before = await self.status(company_id, member_id)
        await self._table.delete(company_id, [self._key(member_id, sid)])
        return before, await self.status(company_id, member_id)

    async def heartbeat(self, consoles: list[tuple[str, str, str, Status]]) -> None:
        """Extend the life of this process's consoles: (company, member, sid, status)."""
        expires = self._wall() + self.ttl_s
        await self._table.put_many([(c, self._key(m, s), st.value, expires) for c, m, s, st in consoles])

    async def sweep(self) -> list[tuple[str, str, Status]]:
        """Drop expired consoles; returns (company, member, new status) for members whose status changed."""
        now = self._wall()
        changed = []
        for company_id in await self._table.companies():
            entries = await self._table.entries(company_id)
            expired = [key for key, (_, expires) in entries.items() if expires <= now]
            if not expired:
                continue
            before = await self.members(company_id, now=0)
            await self._table.delete(company_id, expired)
            after = await self.members(company_id, now)
            for member in {key.partition("|")[0] for key in expired}:
                if before.get(member, Status.offline) != after.get(member, Status.offline):
                    changed.append((company_id, member, after.get(member, Status.offline)))
        return changed


def make_presence(redis: Redis | None, ttl_s: float) -> Presence:
    return Presence(RedisTable(redis) if redis is not None else MemoryTable(), ttl_s)
