"""Wallboards: display tokens, and the snapshot a TV on the wall shows (reference section 4).

A wallboard token is for one company and speaks for no member: its consoles receive only
`wallboard.snapshot` (on connect and every few seconds), and the `call.updated` and
`extension.state` events published for wallboards — numbers masked, never chat content.
"Today" starts at midnight in the company's time zone, so counters roll over by themselves.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from statistics import fmean
from typing import Any

import jwt

from hub import changes, rulebook
from hub.audit import Audit
from hub.auth import ALGORITHM, Principal
from hub.calls import today_start, wallboard_view
from hub.changes import update_once
from hub.clock import Clock
from hub.errors import NotFound
from hub.ids import new_id
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.calls import LIVE_STATES
from schemas.directory import CompanySettings

TOKEN_TTL = timedelta(days=365)


def counters(
    calls: list[dict[str, Any]], live: list[dict[str, Any]], now: datetime, service_level_s: float
) -> dict[str, Any]:
    """Today's figures from today's inbound calls (plain data in, plain numbers out)."""
    offered = [c for c in calls if c.get("direction") == "inbound"]
    answered = [c for c in offered if c.get("answered_at")]
    missed = [c for c in offered if c.get("missed")]
    short = [c for c in offered if c.get("short_abandoned")]
    abandoned = [c for c in missed if c.get("end_reason") in ("caller_cancelled", "abandoned")]
    reachable = len(offered) - len(short)

    def wait(c: dict[str, Any]) -> float:
        start = c.get("wait_started_at") or c.get("started_at")
        return (c["answered_at"] - start).total_seconds() if start else 0.0

    waiting = [c for c in live if c.get("state") in ("queued", "ringing") and c.get("direction") == "inbound"]
    talks = [c["talk_s"] for c in answered if c.get("talk_s") is not None]
    return {
        "offered": len(offered),
        "answered": len(answered),
        "missed": len(missed),
        "short_abandoned": len(short),
        "abandoned": len(abandoned),
        "abandonment_rate": round(len(abandoned) / (len(answered) + len(abandoned)), 4)
        if answered or abandoned
        else None,
        "answer_rate": round(len(answered) / reachable, 4) if reachable > 0 else None,
        "average_wait_s": round(fmean(wait(c) for c in answered), 1) if answered else None,
        "longest_wait_now_s": round(
            max((now - (c.get("wait_started_at") or c["started_at"])).total_seconds() for c in waiting), 1
        )
        if waiting
        else 0,
        "service_level": round(sum(wait(c) <= service_level_s for c in answered) / reachable, 4)
        if reachable > 0
        else None,
        "average_talk_s": round(fmean(talks), 1) if talks else None,
    }


class Wallboards:
    def __init__(self, store: Store, clock: Clock, jwt_secret: str, publisher: Publisher, audit: Audit) -> None:
        self._audit = audit
        self._store = store
        self._clock = clock
        self._secret = jwt_secret
        self._publisher = publisher

    async def issue(self, actor: Principal, name: str) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.wallboards)
        now = self._clock.now()
        # Not journaled (its token is shown once): the document carries wallboard.issued until it is out,
        # and the scheduler publishes it if this process stops first.
        key = f"wallboard.issued|{new_id()}"
        doc = {
            "_id": new_id(),
            "company_id": actor.company_id,
            "name": name,
            "created_by": actor.member_id,
            "created_at": now,
            "revoked": False,
            changes.PENDING: key,
            changes.PENDING_AT: now,
        }
        await self._store.wallboard_tokens.insert_one(doc)
        stored = await self._store.wallboard_tokens.find_one({"_id": doc["_id"]})  # times as every read gives them
        await changes.finish(self._store.wallboard_tokens, stored or doc, key, False, self._issued)
        token = jwt.encode(
            {
                "sub": doc["_id"],
                "cid": actor.company_id,
                "kind": "wallboard",
                "iat": int(now.timestamp()),
                "exp": int((now + TOKEN_TTL).timestamp()),
                "jti": secrets.token_hex(8),
            },
            self._secret,
            algorithm=ALGORITHM,
        )
        await self._audit.record(actor.company_id, actor, "wallboard.issued", str(doc["_id"]), name)
        return {"id": doc["_id"], "name": name, "token": token, "expires_at": now + TOKEN_TTL}

    async def _issued(self, doc: dict[str, Any]) -> None:
        data = {"id": doc["_id"], "name": doc["name"], "created_at": doc["created_at"]}
        await self._publisher.publish(doc["company_id"], "wallboard.issued", data, rulebook.wallboard_managers())

    async def finish_pending(self, before: datetime) -> int:
        """The scheduler's pass: wallboard.issued a stopped process still owed."""
        return await changes.finish_pending(self._store.wallboard_tokens, before, self._issued)

    async def list(self, actor: Principal) -> list[dict[str, Any]]:
        rulebook.require(actor, rulebook.Action.wallboards)
        cursor = self._store.wallboard_tokens.find({"company_id": actor.company_id, "revoked": False})
        return [{"id": d["_id"], "name": d["name"], "created_at": d["created_at"]} async for d in cursor]

    async def revoke(self, actor: Principal, token_id: str) -> None:
        rulebook.require(actor, rulebook.Action.wallboards)
        revoked = await update_once(
            self._store.wallboard_tokens,
            {"_id": token_id, "company_id": actor.company_id},
            {"revoked": False},
            {"$set": {"revoked": True}},
            "revoke",
        )
        if not revoked and not await self._store.wallboard_tokens.find_one(
            {"_id": token_id, "company_id": actor.company_id}
        ):
            raise NotFound("no such wallboard token", "wallboard_token_not_found")
        if revoked:
            doc = await self._store.wallboard_tokens.find_one({"_id": token_id}, {"name": 1})
            await self._audit.record(actor.company_id, actor, "wallboard.revoked", token_id, (doc or {}).get("name"))
            # Every process cuts the displays it holds with this token when the event reaches it.
            await self._publisher.publish(
                actor.company_id, "wallboard.revoked", {"id": token_id}, rulebook.wallboard_revoked(token_id)
            )

    async def valid(self, company_id: str, token_id: str) -> bool:
        doc = await self._store.wallboard_tokens.find_one({"_id": token_id, "company_id": company_id})
        return doc is not None and not doc["revoked"]

    async def figures(self, company_id: str) -> dict[str, Any]:
        """Today's counters alone (wallboard.counters), sent soon after each call change."""
        company = await self._store.companies.find_one({"_id": company_id}, {"settings": 1, "timezone": 1}) or {}
        settings = CompanySettings.model_validate(company.get("settings") or {})
        now = self._clock.now()
        start = today_start(now, company.get("timezone", "Asia/Ho_Chi_Minh"))
        today = [
            d
            async for d in self._store.calls.find(
                {"company_id": company_id, "started_at": {"$gte": start}}, {"legs": 0}
            )
        ]
        live = [c for c in today if c.get("state") in LIVE_STATES]
        return {
            "company_id": company_id,
            "at": now.isoformat(),
            "counters": counters(today, live, now, settings.service_level_s),
        }

    async def snapshot(self, company_id: str) -> dict[str, Any]:
        company = await self._store.companies.find_one({"_id": company_id}) or {}
        settings = CompanySettings.model_validate(company.get("settings") or {})
        now = self._clock.now()
        start = today_start(now, company.get("timezone", "Asia/Ho_Chi_Minh"))
        live = [
            d async for d in self._store.calls.find({"company_id": company_id, "state": {"$in": list(LIVE_STATES)}})
        ]
        today = [
            d
            async for d in self._store.calls.find(
                {"company_id": company_id, "started_at": {"$gte": start}}, {"legs": 0}
            )
        ]
        extensions = {e["number"]: "idle" async for e in self._store.extensions.find({"company_id": company_id})}
        async for state in self._store.extension_states.find({"company_id": company_id}):
            extensions[state["extension"]] = state["state"]
        return {
            "company_id": company_id,
            "company_name": company.get("name", ""),
            "timezone": company.get("timezone", "Asia/Ho_Chi_Minh"),  # the display shows times in it
            "at": now.isoformat(),
            "day_started_at": start.isoformat(),
            "live_calls": [wallboard_view(c) for c in live],
            "extensions": [{"extension": number, "state": state} for number, state in sorted(extensions.items())],
            "counters": counters(today, live, now, settings.service_level_s),
        }
