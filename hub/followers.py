"""An OA's followers: the Zalo users who interacted with the company's OAs, synced from Zalo's user list
and kept current by webhooks (reference section 9). The only writer of `followers` and `follower_syncs`.

- Webhooks (hub.inbox, after the chat step): follow / unfollow set `is_follower`; a user's own act
  (a message, "chat now", a follow, a reaction, submitted info) moves `last_interaction_at`; submitted
  info fills `shared`; tag events add or remove a tag. One update_one upsert per event, so a follower
  is known before any sync. Receipts (received, seen) are no interaction, as for the reply window
  (section 4).
- follower.updated goes to owners and managers (the follower read by _id, then published). A chat that
  only moves the last interaction is written and published when it moves to a quarter hour this process
  has not announced for that follower: a conversation costs one update, one read and one event per
  follower per quarter hour and process, nothing per message (the chat hot path).
- The sync (`followers.sync` on the shared job runner, one per OA at a time): walks Zalo's user list
  50 a page and reads each user's detail, saving the offset after each page, so a restart resumes at
  the page it was on (a page re-read is harmless: every save is an upsert keyed by OA link and user).
  Incremental: after a complete sync, the next one lists only users who interacted since the day before
  it completed (`last_interaction_period` as a date range `YYYY_MM_DD:YYYY_MM_DD`, Vietnam's days), or
  everyone when asked `full`. Zalo's rate limit (-32) and unreachable answers are shown on the job and
  retried with a doubling wait; a token Zalo still refuses after the hub's refresh stops the job with a
  message asking the owner to relink.
- Zalo lists at most 10,000 users per filter (offset <= 9951, HUB_ZALO_USER_LIST_MAX_OFFSET): an OA with
  more is walked in slices of 30 days of last interaction, newest first (a slice still listing too many
  is halved), until every user Zalo counted was listed or five years back.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, TypeVar

from pymongo import DESCENDING
from pymongo.errors import DuplicateKeyError
from pymongo.results import UpdateResult

from clients.zalo import ZaloError, ZaloUnreachable
from hub import changes, rulebook
from hub.auth import Principal
from hub.clock import Clock
from hub.errors import Conflict, NotFound
from hub.jobs import JobFailed, JobRun, Jobs
from hub.oa_links import OaLinks
from hub.phones import e164
from hub.realtime.publish import Publisher
from hub.store import Store
from schemas.followers import Follower, FollowerStats, OaFollowerCount, SharedInfo
from schemas.zalo import EventKind, ZaloWebhook

log = logging.getLogger(__name__)
T = TypeVar("T")

EVENT = "follower.updated"
JOB_KIND = "followers.sync"
PAGE = 50  # Zalo's largest page
SLICE_DAYS = 30  # an OA listing more users than Zalo gives is walked 30 days at a time (halved when still too many)
SLICE_BACK_DAYS = 5 * 365  # how far back a full sync in slices goes
# A chat moves the list's last interaction (a write, a read and follower.updated) at most once per follower,
# process and quarter hour: the list's "last interaction" is then at most 15 minutes early, which no rule
# minds (ZCC's 30 days, the 7-day filters; Zalo itself keeps only the day), and a conversation costs the
# chat hot path nothing per message.
INTERACTION_EVENT_S = 900
RETRIES = 8  # a rate-limited or unreachable call tried this many times more, waiting longer each time
ZALO_DAYS = timezone(timedelta(hours=7))  # Zalo's dates (DD/MM/YYYY) are Vietnam's
TEXT_MAX = 200
ANNOUNCED_KEPT = 50_000  # followers whose last announced minute a process remembers (then it starts over)
# Zalo codes that say the OA's authorisation is gone (after hub.oa_links' one refresh): relink.
RELINK_CODES = frozenset({-216, -220, -14014, -14012, -14002, -1})
# The user's own acts: each one is an interaction (receipts are not, as for the reply window).
INTERACTIONS = frozenset(
    {EventKind.user_message, EventKind.chat_now, EventKind.follow, EventKind.submit_info, EventKind.reaction}
)


def follower_key(link_id: str, user_id: str) -> str:
    return f"{link_id}:{user_id}"


def view(doc: dict[str, Any]) -> dict[str, Any]:
    shared = doc.get("shared")
    return Follower(
        id=doc["_id"],
        oa_link_id=doc["link_id"],
        oa_id=doc["oa_id"],
        user_id=doc["user_id"],
        display_name=doc.get("display_name"),
        avatar=doc.get("avatar"),
        is_follower=doc.get("is_follower"),
        last_interaction_at=doc.get("last_interaction_at"),
        shared=SharedInfo.model_validate(shared) if shared else None,
        tags=doc.get("tags") or [],
        notes=doc.get("notes") or [],
    ).model_dump(mode="json")


def _text(value: Any) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value).strip()


def shared_info(info: dict[str, Any]) -> dict[str, Any]:
    """What the user shared: user_submit_info's `info` (either address shape, section 2) or the detail's
    `shared_info` {address, city, district, phone, name}."""
    full = info.get("full_address")
    if isinstance(full, dict):
        address = _text(full.get("user_address"))
        city = _text(full.get("user_city"))
        district = _text(full.get("user_district") or full.get("user_ward"))
    else:
        address = _text(info.get("address"))
        city = _text(info.get("city"))
        district = _text(info.get("district"))
    phone = _text(info.get("phone"))
    return SharedInfo(
        phone=phone, phone_e164=e164(phone), name=_text(info.get("name")), address=address, city=city, district=district
    ).model_dump()


def interaction_day(text: Any) -> datetime | None:
    """user_last_interaction_date "DD/MM/YYYY" as the start of that day in Vietnam (a day is all Zalo says)."""
    try:
        day = datetime.strptime(str(text).strip(), "%d/%m/%Y").date()
    except ValueError:
        return None
    return datetime.combine(day, time(), ZALO_DAYS)


def _day_of(text: str) -> date:
    """A day of `last_interaction_period` (YYYY_MM_DD)."""
    return datetime.strptime(text, "%Y_%m_%d").date()


def _minute(at: datetime | None) -> int | None:
    return None if at is None else int(at.timestamp()) // INTERACTION_EVENT_S


class SyncFailed(Exception):
    """The sync cannot go on; the message is for the person who started it."""


class Followers:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        links: OaLinks,
        publisher: Publisher,
        retry_base_s: float = 2.0,
        max_offset: int = 9951,
    ) -> None:
        self._followers = store.followers
        self._syncs = store.follower_syncs
        self._links_coll = store.oa_links
        self._clock = clock
        self._links = links
        self._publisher = publisher
        self._retry_base_s = retry_base_s
        self._max_offset = max_offset  # Zalo's largest user-list offset: 9,951 (10,000 users per filter)
        self._announced: dict[str, int | None] = {}  # follower id -> the minute of interaction last published
        self.jobs: Jobs | None = None  # set at assembly (hub.runtime), with the sync registered

    # -- one upsert per change ------------------------------------------------------------------------
    # Never find_one_and_update: the embedded server scans the whole collection for it (README, "The
    # embedded server"). An update_one upsert, and a read by _id only when an event is to be published.

    async def _write(
        self,
        link: dict[str, Any],
        user_id: str,
        fields: dict[str, Any],
        at: datetime | None = None,
        tag: tuple[str, str] | None = None,
    ) -> UpdateResult:
        """Set `fields`, move last_interaction_at up to `at`, add or pull a tag ("$addToSet"|"$pull", name),
        creating the follower if new: one update_one."""
        now = self._clock.now()
        fresh: dict[str, Any] = {
            "company_id": link["company_id"],
            "link_id": link["_id"],
            "oa_id": link["oa_id"],
            "user_id": user_id,
            "display_name": None,
            "avatar": None,
            "is_follower": None,
            "last_interaction_at": None,
            "shared": None,
            "tags": [],
            "notes": [],
            "synced_at": None,
            "created_at": now,
            "updated_at": now,
        }
        update: dict[str, Any] = {}
        if fields:
            update["$set"] = {**fields, "updated_at": now}
        if at is not None:
            update["$max"] = {"last_interaction_at": at}
        if tag is not None:
            update[tag[0]] = {"tags": tag[1]}
        taken = set(update.get("$set", {})) | set(update.get("$max", {})) | ({"tags"} if tag else set())
        update["$setOnInsert"] = {k: v for k, v in fresh.items() if k not in taken}
        key = follower_key(link["_id"], user_id)
        try:
            return await self._followers.update_one({"_id": key}, update, upsert=True)
        except DuplicateKeyError:  # two first events of one user at once: the other inserted it
            return await self._followers.update_one({"_id": key}, update, upsert=True)

    async def _publish(self, doc: dict[str, Any]) -> None:
        self._announced[doc["_id"]] = _minute(doc.get("last_interaction_at"))
        if len(self._announced) > ANNOUNCED_KEPT:
            self._announced.clear()
        await self._publisher.publish(doc["company_id"], EVENT, view(doc), rulebook.follower_watchers())

    async def _publish_current(self, key: str) -> None:
        doc = await self._followers.find_one({"_id": key})
        if doc is not None:
            await self._publish(doc)

    # -- webhooks --------------------------------------------------------------------------------

    async def on_webhook(self, link: dict[str, Any], event: ZaloWebhook, kind: EventKind) -> None:
        """The follower side of a Zalo event (the chat side is hub.chat's)."""
        if kind is EventKind.tag:
            await self._on_tag(link, event)
            return
        if kind is EventKind.reaction and event.event_name != "user_reacted_message":
            return
        if kind not in INTERACTIONS and kind is not EventKind.unfollow:
            return
        if kind in (EventKind.follow, EventKind.unfollow):
            user_id = event.follower.id if event.follower else event.user_id
        else:
            user_id = next(
                (p.id for p in (event.sender, event.recipient) if p is not None and p.id != link["oa_id"]),
                event.user_id,
            )
        if not user_id:
            return
        fields: dict[str, Any] = {}
        if kind in (EventKind.follow, EventKind.unfollow):
            fields["is_follower"] = kind is EventKind.follow
        if kind is EventKind.submit_info and event.info:
            fields["shared"] = shared_info(event.info)
        at = event.occurred_at if kind in INTERACTIONS else None
        key = follower_key(link["_id"], user_id)
        change = changes.current()
        if not fields and at is not None and self._announced.get(key) == _minute(at) and not (change and change.redo):
            return  # a chat in a minute this process already wrote and announced: nothing the list shows moves
        result = await self._write(link, user_id, fields, at)
        if not fields and result.upserted_id is None and not (change is not None and change.redo):
            # Only the last interaction may have moved (a chat): published when it moved to a minute not
            # announced yet (at most once a minute per follower and process); no read otherwise.
            if not result.modified_count or self._announced.get(key) == _minute(at):
                return
        await self._publish_current(key)  # on a re-do too: the event key drops what was published

    async def _on_tag(self, link: dict[str, Any], event: ZaloWebhook) -> None:
        if event.tag is None:
            return
        name = event.tag.name
        if event.event_name == "remove_tag":  # gone from every follower of the OA
            user_ids = [doc["user_id"] async for doc in self._followers.find({"link_id": link["_id"], "tags": name})]
        else:
            user_ids = event.tag.user_ids
        operator = "$addToSet" if event.event_name == "add_user_to_tag" else "$pull"
        for user_id in user_ids:
            await self._write(link, str(user_id), {}, tag=(operator, name))
            await self._publish_current(follower_key(link["_id"], str(user_id)))

    # -- reading -----------------------------------------------------------------------------------

    async def list(
        self, actor: Principal, filters: dict[str, Any], limit: int, before: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest interaction first (never-interacted last); `before` is a follower id of an earlier page."""
        rulebook.require(actor, rulebook.Action.followers)
        query: dict[str, Any] = {"company_id": actor.company_id}
        if filters.get("oa_id"):
            query["oa_id"] = filters["oa_id"]
        if filters.get("follower") is not None:
            query["is_follower"] = filters["follower"]
        if filters.get("tag"):
            query["tags"] = filters["tag"]
        if filters.get("interacted_days"):
            query["last_interaction_at"] = {"$gte": self._clock.now() - timedelta(days=filters["interacted_days"])}
        if filters.get("phone_known") is not None:
            query["shared.phone_e164"] = (
                {"$type": "string"} if filters["phone_known"] else {"$not": {"$type": "string"}}
            )
        text = (filters.get("q") or "").strip()[:TEXT_MAX]
        if text:
            pattern = {"$regex": re.escape(text), "$options": "i"}
            either: list[dict[str, Any]] = [{"display_name": pattern}, {"shared.name": pattern}, {"user_id": text}]
            phone = e164(text) if any(ch.isdigit() for ch in text) else None
            if phone:
                either.append({"shared.phone_e164": phone})
            query["$or"] = either
        if before:
            anchor = await self._followers.find_one({"_id": before, "company_id": actor.company_id})
            if anchor is None:
                raise NotFound("no such follower to page from; start again without `before`", "follower_not_found")
            last = anchor.get("last_interaction_at")
            later: list[dict[str, Any]] = [{"last_interaction_at": last, "_id": {"$lt": anchor["_id"]}}]
            if last is not None:
                later += [{"last_interaction_at": {"$lt": last}}, {"last_interaction_at": None}]
            query = {"$and": [query, {"$or": later}]}
        cursor = self._followers.find(query).sort([("last_interaction_at", DESCENDING), ("_id", DESCENDING)])
        docs = [doc async for doc in cursor.limit(limit + 1)]
        more = len(docs) > limit
        docs = docs[:limit]
        return [view(doc) for doc in docs], (docs[-1]["_id"] if more and docs else None)

    async def get(self, actor: Principal, follower_id: str) -> dict[str, Any]:
        rulebook.require(actor, rulebook.Action.followers)
        doc = await self._followers.find_one({"_id": follower_id, "company_id": actor.company_id})
        if doc is None:
            raise NotFound("no such follower in this company", "follower_not_found")
        return view(doc)

    async def stats(self, actor: Principal, oa_id: str | None) -> FollowerStats:
        rulebook.require(actor, rulebook.Action.followers)
        base: dict[str, Any] = {"company_id": actor.company_id}
        if oa_id:
            base["oa_id"] = oa_id
        month_ago = self._clock.now() - timedelta(days=30)
        known, following, interacted, phones = await asyncio.gather(
            self._followers.count_documents(base),
            self._followers.count_documents({**base, "is_follower": True}),
            self._followers.count_documents({**base, "last_interaction_at": {"$gte": month_ago}}),
            self._followers.count_documents({**base, "shared.phone_e164": {"$type": "string"}}),
        )
        links = [
            link
            async for link in self._links_coll.find(
                {"company_id": actor.company_id, **({"oa_id": oa_id} if oa_id else {})}
            ).sort("created_at", 1)
        ]
        syncs = {doc["_id"]: doc async for doc in self._syncs.find({"_id": {"$in": [link["_id"] for link in links]}})}
        oas = [
            OaFollowerCount(
                oa_link_id=link["_id"],
                oa_id=link["oa_id"],
                name=link["name"],
                zalo_total=(syncs.get(link["_id"]) or {}).get("zalo_total"),
                zalo_num_follower=(link.get("info") or {}).get("num_follower"),
                last_sync_at=(syncs.get(link["_id"]) or {}).get("completed_at"),
            )
            for link in links
        ]
        return FollowerStats(known=known, followers=following, interacted_30d=interacted, phone_known=phones, oas=oas)

    # -- the sync from Zalo ----------------------------------------------------------------------------

    async def start_sync(self, actor: Principal, link_id: str, full: bool) -> dict[str, Any]:
        """Queue the OA's sync (or answer the one still running: one per OA at a time)."""
        rulebook.require(actor, rulebook.Action.followers)
        link = await self._links_coll.find_one({"_id": link_id, "company_id": actor.company_id})
        if link is None:
            raise NotFound("no such OA link in this company", "oa_link_not_found")
        if link["status"] != "active":
            raise Conflict("this OA is disconnected; the owner must relink it before a sync", "oa_link_disconnected")
        assert self.jobs is not None
        period = None if full else await self._period_since_last(link_id)
        params = {"link_id": link_id, "oa_id": link["oa_id"], "name": link["name"], "period": period}
        return await self.jobs.create(actor, JOB_KIND, params, queued=True, key=f"followers:{link_id}")

    async def _period_since_last(self, link_id: str) -> str | None:
        """A date range from the day before the last complete sync to today (Vietnam's days), or None (all)."""
        last = await self._syncs.find_one({"_id": link_id})
        if not last or not last.get("completed_at"):
            return None
        since = last["completed_at"].astimezone(ZALO_DAYS).date() - timedelta(days=1)
        today = self._clock.now().astimezone(ZALO_DAYS).date()
        return f"{since:%Y_%m_%d}:{today:%Y_%m_%d}"

    async def sync(self, run: JobRun) -> None:
        """The job's handler: page after page from the checkpoint (see the module's doc). Its state: the walk's
        `period` and `offset`, `done`, and when one filter lists more users than Zalo gives (`slicing`), the
        slice of days being walked, the days not walked yet (`floor`), and the users listed so far."""
        params = run.job["params"]
        link_id = params["link_id"]
        state: dict[str, Any] = {"period": params.get("period"), "offset": 0, "done": 0, **(run.job.get("state") or {})}
        link = await self._links_coll.find_one({"_id": link_id})
        if link is None:
            raise JobFailed("the OA link was removed; nothing to sync")
        listed = self._max_offset + PAGE  # the most users one filter lists
        total = 0
        try:
            while not run.lost:
                offset, period = int(state["offset"]), state["period"]
                page = await self._patient(run, state, link_id, functools.partial(self._page, offset, period))
                total = int(page.get("total") or 0)
                if offset == 0 and total > listed and self._narrower(state, params, total):
                    await run.checkpoint(state=state)
                    continue
                users = [str(u["user_id"]) for u in page.get("users") or [] if isinstance(u, dict) and u.get("user_id")]
                for user_id in users:
                    if run.lost:
                        return
                    await self._save_detail(run, state, link, user_id)
                state["offset"] = offset + len(users)
                state["done"] = int(state["done"]) + len(users)
                finished = not users or state["offset"] >= total or state["offset"] > self._max_offset
                if finished and state.get("slicing"):
                    state["covered"] = int(state.get("covered", 0)) + min(total, listed)
                    finished = not self._next_slice(state)
                whole = int(state.get("overall") or min(total, listed))
                await run.checkpoint(state=state, total=max(whole, state["done"]), done=state["done"])
                if finished:
                    break
        except SyncFailed as exc:
            raise JobFailed(str(exc)) from None
        except ZaloError as exc:  # the list itself refused (not a limit, not the token): nothing to go on with
            raise JobFailed(exc.reason) from None
        if run.lost:
            return
        record: dict[str, Any] = {"company_id": link["company_id"], "completed_at": self._clock.now()}
        if params.get("period") is None:
            record["zalo_total"] = int(state.get("overall") or total)
        await self._syncs.update_one({"_id": link_id}, {"$set": record}, upsert=True)

    def _narrower(self, state: dict[str, Any], params: dict[str, Any], total: int) -> bool:
        """The filter lists more users than Zalo gives (reference section 9): walk it in slices of days, newest
        first, halving a slice that is still too large. False when a single day is (its first users only)."""
        if not state.get("slicing"):
            today = self._clock.now().astimezone(ZALO_DAYS).date()
            asked = params.get("period")
            floor = _day_of(asked.split(":")[0]) if asked else today - timedelta(days=SLICE_BACK_DAYS)
            state.update(slicing=True, overall=total, covered=0, floor=floor.isoformat(), slice_end=today.isoformat())
            state["slice_days"] = SLICE_DAYS
        elif int(state["slice_days"]) > 1:
            state["slice_days"] = int(state["slice_days"]) // 2
        else:
            return False
        self._slice(state)
        return True

    def _next_slice(self, state: dict[str, Any]) -> bool:
        """On to the days before the slice just walked; False when none are left or every user was listed."""
        end = date.fromisoformat(state["slice_start"]) - timedelta(days=1)
        if end < date.fromisoformat(state["floor"]) or int(state["covered"]) >= int(state["overall"]):
            return False
        state.update(slice_end=end.isoformat(), slice_days=SLICE_DAYS)
        self._slice(state)
        return True

    @staticmethod
    def _slice(state: dict[str, Any]) -> None:
        end = date.fromisoformat(state["slice_end"])
        start = max(date.fromisoformat(state["floor"]), end - timedelta(days=int(state["slice_days"]) - 1))
        state.update(slice_start=start.isoformat(), period=f"{start:%Y_%m_%d}:{end:%Y_%m_%d}", offset=0)

    async def _page(self, offset: int, period: str | None, token: str) -> dict[str, Any]:
        return await self._links.zalo.user_list(token, offset, PAGE, last_interaction_period=period)

    async def _save_detail(self, run: JobRun, state: dict[str, Any], link: dict[str, Any], user_id: str) -> None:
        zalo = self._links.zalo
        try:
            detail = await self._patient(run, state, link["_id"], lambda t: zalo.user_detail(t, user_id))
        except ZaloError as exc:  # this user only (a bad id, say): known by id, the rest of the sync goes on
            log.info("a follower's detail was refused", extra={"link_id": link["_id"], "zalo_error": exc.code})
            detail = {}
        fields: dict[str, Any] = {"synced_at": self._clock.now()}
        if _text(detail.get("display_name")):
            fields["display_name"] = str(detail["display_name"])
        avatar = detail.get("avatar") or (detail.get("avatars") or {}).get("240")
        if avatar:
            fields["avatar"] = str(avatar)
        if isinstance(detail.get("user_is_follower"), bool):
            fields["is_follower"] = detail["user_is_follower"]
        if isinstance(detail.get("shared_info"), dict) and detail["shared_info"]:
            fields["shared"] = shared_info(detail["shared_info"])
        tags_notes = detail.get("tags_and_notes_info")
        if isinstance(tags_notes, dict):
            fields["tags"] = [str(t) for t in tags_notes.get("tag_names") or []]
            fields["notes"] = [str(n) for n in tags_notes.get("notes") or []]
        key = follower_key(link["_id"], user_id)
        before = await self._followers.find_one({"_id": key})
        await self._write(link, user_id, fields, interaction_day(detail.get("user_last_interaction_date")))
        after = await self._followers.find_one({"_id": key})
        if after is not None and (before is None or view(before) != view(after)):
            await self._publish(after)  # only what Zalo changed: a sync of unchanged users publishes nothing

    async def _patient(
        self, run: JobRun, state: dict[str, Any], link_id: str, request: Callable[[str], Awaitable[T]]
    ) -> T:
        """Zalo's answer, waiting out its rate limit and outages (each shown on the job), up to RETRIES times."""
        tries = 0
        while True:
            try:
                return await self._links.call(link_id, request)
            except ZaloError as exc:
                if exc.code in RELINK_CODES or exc.code <= -14000:
                    raise SyncFailed(
                        f"Zalo refused the OA's authorisation ({exc.code}: {exc.zalo_message}); the owner must "
                        "relink the OA (Administration › OA links), then sync again."
                    ) from None
                if exc.code != -32 and not isinstance(exc, ZaloUnreachable):
                    raise
                tries += 1
                if tries > RETRIES:
                    raise SyncFailed(f"Zalo kept refusing after {RETRIES} retries: {exc.reason}") from None
                wait = min(self._retry_base_s * 2 ** (tries - 1), 60.0)
                state["retries"] = int(state.get("retries", 0)) + 1
                state["last_error"] = {
                    "code": exc.code,
                    "reason": exc.reason,
                    "reason_vi": exc.reason_vi,
                    "at": self._clock.now().isoformat(),
                    "retry_in_s": wait,
                }
                # The job's notice says why it waits (the console words code -32 and outages itself).
                notice = f"zalo_error {exc.code}: {exc.reason} (retry {tries} of {RETRIES} in {wait:g} s)"
                await run.checkpoint(state=state, notice=notice)
                await asyncio.sleep(wait)
