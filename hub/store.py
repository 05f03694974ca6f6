"""MongoDB access: the client, the collections the hub uses, and every index its queries need."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from schemas.zalo import zalo_phone

# Indexes earlier versions made that nothing needs any more: every write paid for them. Dropped at start-up.
RETIRED_INDEXES = [("events", "company_id_1_seq_-1")]
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Every index of every query the hub runs, created idempotently at start-up.
INDEXES: dict[str, list[IndexModel]] = {
    "companies": [IndexModel([("code", ASCENDING)], unique=True)],
    "accounts": [IndexModel([("phone", ASCENDING)], unique=True)],
    "members": [
        IndexModel([("company_id", ASCENDING), ("account_id", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("department_id", ASCENDING)]),
        IndexModel([("account_id", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("role", ASCENDING)]),
    ],
    "departments": [IndexModel([("company_id", ASCENDING), ("name", ASCENDING)], unique=True)],
    # One extension number belongs to at most one member of a company.
    "extensions": [
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # an event still owed (hub.telephony)
        IndexModel([("company_id", ASCENDING), ("number", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("member_id", ASCENDING)]),
    ],
    # One active link per OA; the webhook finds links by app id.
    "oa_links": [
        IndexModel(
            [("oa_id", ASCENDING)],
            unique=True,
            partialFilterExpression={"status": "active"},
            name="oa_id_active_unique",
        ),
        IndexModel([("app_id", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # changes whose event is still owed
        IndexModel([("refresh_token_expires_at", ASCENDING)]),  # the scheduler's refresh-token notices
    ],
    # "Link with Zalo" requests awaiting their callback (_id is the OAuth state); gone an hour after expiry.
    "oa_oauth": [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=3600)],
    # Every Zalo webhook as received (an inbox entry); _id is its idempotency key. The sweeper looks
    # for entries left without `applied_at`.
    "zalo_events": [
        IndexModel([("company_id", ASCENDING), ("received_at", DESCENDING)]),
        IndexModel([("applied_at", ASCENDING), ("received_at", ASCENDING)]),
    ],
    "threads": [
        IndexModel([("link_id", ASCENDING), ("key", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("labels", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("assignee_id", ASCENDING), ("queued_at", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("last_message_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("assignee_id", ASCENDING), ("last_message_at", DESCENDING)]),
        IndexModel([("reply_window_until", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("customer.phone_e164", ASCENDING)]),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # time-driven moves not yet published
        # the dashboard (hub.dashboard): new and resolved threads of a period, open threads now
        IndexModel([("company_id", ASCENDING), ("created_at", ASCENDING)]),
        # Partial: only resolved threads, and only open ones, have entries (every index entry of a thread
        # is rewritten on each of its updates on the embedded server: README, "The embedded server").
        IndexModel(
            [("company_id", ASCENDING), ("resolved_at", ASCENDING)],
            partialFilterExpression={"resolved_at": {"$gt": EPOCH}},
            name="company_resolved_at_partial",
        ),
        IndexModel(
            [("company_id", ASCENDING), ("status", ASCENDING)],
            partialFilterExpression={"status": "open"},
            name="company_open_partial",
        ),
    ],
    "messages": [
        IndexModel(
            [("link_id", ASCENDING), ("zalo_msg_id", ASCENDING)],
            unique=True,
            partialFilterExpression={"zalo_msg_id": {"$type": "string"}},
            name="zalo_msg_unique",
        ),
        IndexModel(
            [("thread_id", ASCENDING), ("client_msg_id", ASCENDING)],
            unique=True,
            partialFilterExpression={"client_msg_id": {"$type": "string"}},
            name="client_msg_unique",
        ),
        IndexModel([("thread_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("thread_id", ASCENDING), ("status", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("at", ASCENDING)]),  # the dashboard's messages of a period
    ],
    "calls": [
        IndexModel([("company_id", ASCENDING), ("call_id", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("started_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("from_e164", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("to_e164", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("state", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("extensions", ASCENDING), ("started_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("members", ASCENDING), ("started_at", DESCENDING)]),
        IndexModel([("state", ASCENDING), ("finalized", ASCENDING), ("ended_seen_at", ASCENDING)]),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # time-driven moves not yet published
    ],
    # A missed call's follow-up (hub.missed_calls); _id is the call record's.
    "missed_calls": [
        IndexModel([("company_id", ASCENDING), ("ended_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("from_e164", ASCENDING), ("state", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("members", ASCENDING), ("ended_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("assignee_id", ASCENDING), ("ended_at", DESCENDING)]),
    ],
    # Every PBX webhook as received; _id is a hash of company, format and body.
    "call_events": [
        IndexModel([("company_id", ASCENDING), ("received_at", DESCENDING)]),
        IndexModel([("applied_at", ASCENDING), ("received_at", ASCENDING)]),
    ],
    # Every REST request that publishes, as received (hub.inbox); _id is its change key.
    "requests": [
        IndexModel([("applied_at", ASCENDING), ("received_at", ASCENDING)]),
        IndexModel([("received_at", ASCENDING)]),
    ],
    "extension_states": [IndexModel([("company_id", ASCENDING), ("extension", ASCENDING)], unique=True)],
    "hotlines": [
        IndexModel([("company_id", ASCENDING), ("number", ASCENDING)], unique=True),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # an event still owed (hub.telephony)
    ],
    "wallboard_tokens": [
        IndexModel([("company_id", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # wallboard.issued still owed
    ],
    "consents": [
        IndexModel([("link_id", ASCENDING), ("phone", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("due_at", ASCENDING)]),
        IndexModel([("pending_change_at", ASCENDING)], sparse=True),  # time-driven moves not yet published
    ],
    "zns_messages": [
        IndexModel([("link_id", ASCENDING), ("tracking_id", ASCENDING)], unique=True),
        IndexModel([("link_id", ASCENDING), ("msg_id", ASCENDING)]),
        IndexModel([("company_id", ASCENDING), ("sent_at", DESCENDING)]),
        # The service reviews list (hub.outreach_reports): only the reviewed messages, newest review first.
        IndexModel(
            [("company_id", ASCENDING), ("review.submitted_at", DESCENDING)],
            partialFilterExpression={"review": {"$type": "object"}},
            name="zns_reviewed",
        ),
    ],
    "zns_templates": [IndexModel([("link_id", ASCENDING), ("template_id", ASCENDING)], unique=True)],
    "labels": [IndexModel([("company_id", ASCENDING), ("name", ASCENDING)], unique=True)],
    # The audit log (hub.audit): newest first per company, by member, and by age for retention.
    "audit": [
        IndexModel([("company_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("member_id", ASCENDING), ("at", DESCENDING)]),
        IndexModel([("at", ASCENDING)]),
    ],
    # An OA's followers (hub.followers); _id is "<link_id>:<user_id>". The list's filters, newest interaction first.
    "followers": [
        IndexModel([("link_id", ASCENDING), ("user_id", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("last_interaction_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("oa_id", ASCENDING), ("last_interaction_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("is_follower", ASCENDING), ("last_interaction_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("tags", ASCENDING), ("last_interaction_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("shared.phone_e164", ASCENDING)]),
        IndexModel([("link_id", ASCENDING), ("tags", ASCENDING)]),  # remove_tag
    ],
    "events": [
        # Read both ways (replay forwards, the floor backwards): one index serves both directions.
        IndexModel([("company_id", ASCENDING), ("seq", ASCENDING)], unique=True),
        IndexModel([("at", ASCENDING)]),
        # A change's events carry deterministic keys: re-doing it publishes only what is missing.
        IndexModel(
            [("key", ASCENDING)],
            unique=True,
            partialFilterExpression={"key": {"$type": "string"}},
            name="event_key_unique",
        ),
    ],
    # Long jobs (hub.jobs): the runner's claim, one active job per key, the lists, the unpublished sweep.
    "jobs": [
        IndexModel([("status", ASCENDING), ("lease_until", ASCENDING), ("created_at", ASCENDING)]),
        IndexModel(
            [("company_id", ASCENDING), ("active_key", ASCENDING)],
            unique=True,
            partialFilterExpression={"active_key": {"$type": "string"}},
            name="job_active_key_unique",
        ),
        IndexModel([("company_id", ASCENDING), ("kind", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("company_id", ASCENDING), ("created_by", ASCENDING), ("created_at", DESCENDING)]),
        IndexModel([("updated_at", ASCENDING)], partialFilterExpression={"unpublished": True}, name="job_unpublished"),
    ],
    "job_rows": [
        IndexModel([("job_id", ASCENDING), ("n", ASCENDING)], unique=True),
        IndexModel([("job_id", ASCENDING), ("valid", ASCENDING), ("status", ASCENDING), ("n", ASCENDING)]),
    ],
    # General contacts (hub.contacts): one customer per phone number (a multikey unique index: no two
    # contacts of a company share a number), listed newest first.
    "contacts": [
        IndexModel([("company_id", ASCENDING), ("phones_e164", ASCENDING)], unique=True),
        IndexModel([("company_id", ASCENDING), ("_id", DESCENDING)]),
        # the REST request that made it (a re-done create finds its contact)
        IndexModel(
            [("company_id", ASCENDING), ("created_change", ASCENDING)],
            partialFilterExpression={"created_change": {"$type": "string"}},
            name="contact_created_change",
        ),
    ],
}

# The customer page (hub.customers): one customer's consent requests and ZNS messages, newest first.
INDEXES["consents"].append(IndexModel([("company_id", ASCENDING), ("phone", ASCENDING), ("created_at", DESCENDING)]))
INDEXES["zns_messages"].append(IndexModel([("company_id", ASCENDING), ("phone", ASCENDING), ("sent_at", DESCENDING)]))
# ZNS campaigns (hub.zns_campaigns): a campaign's messages, for its figures and the sent list's filter.
INDEXES["zns_messages"].append(
    IndexModel([("company_id", ASCENDING), ("campaign_id", ASCENDING), ("sent_at", DESCENDING)])
)

# ZNS journeys (hub.journeys): the list's filters newest first, a webhook's lookups, expiry by time; the messages
# sent within one journey.
INDEXES["journeys"] = [
    IndexModel([("company_id", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("company_id", ASCENDING), ("oa_id", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("company_id", ASCENDING), ("phone", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("company_id", ASCENDING), ("status", ASCENDING), ("created_at", DESCENDING)]),
    IndexModel([("link_id", ASCENDING), ("journey_id", ASCENDING)]),
    IndexModel([("link_id", ASCENDING), ("token", ASCENDING)]),
    IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),
    IndexModel([("pending_change_at", ASCENDING)], sparse=True),
]
INDEXES["zns_messages"].append(
    IndexModel([("company_id", ASCENDING), ("journey_id", ASCENDING), ("sent_at", DESCENDING)])
)


@dataclass
class Store:
    client: AsyncMongoClient
    db: AsyncDatabase

    @property
    def companies(self) -> AsyncCollection:
        return self.db["companies"]

    @property
    def accounts(self) -> AsyncCollection:
        return self.db["accounts"]

    @property
    def login_failures(self) -> AsyncCollection:
        return self.db["login_failures"]  # _id: phone; wrong passwords since `since`

    @property
    def members(self) -> AsyncCollection:
        return self.db["members"]

    @property
    def departments(self) -> AsyncCollection:
        return self.db["departments"]

    @property
    def extensions(self) -> AsyncCollection:
        return self.db["extensions"]

    @property
    def events(self) -> AsyncCollection:
        return self.db["events"]

    @property
    def oa_links(self) -> AsyncCollection:
        return self.db["oa_links"]

    @property
    def oa_oauth(self) -> AsyncCollection:
        return self.db["oa_oauth"]

    @property
    def zalo_events(self) -> AsyncCollection:
        return self.db["zalo_events"]

    @property
    def threads(self) -> AsyncCollection:
        return self.db["threads"]

    @property
    def messages(self) -> AsyncCollection:
        return self.db["messages"]

    @property
    def labels(self) -> AsyncCollection:
        return self.db["labels"]

    @property
    def calls(self) -> AsyncCollection:
        return self.db["calls"]

    @property
    def missed_calls(self) -> AsyncCollection:
        return self.db["missed_calls"]

    @property
    def requests(self) -> AsyncCollection:
        return self.db["requests"]

    @property
    def call_events(self) -> AsyncCollection:
        return self.db["call_events"]

    @property
    def extension_states(self) -> AsyncCollection:
        return self.db["extension_states"]

    @property
    def hotlines(self) -> AsyncCollection:
        return self.db["hotlines"]

    @property
    def wallboard_tokens(self) -> AsyncCollection:
        return self.db["wallboard_tokens"]

    @property
    def consents(self) -> AsyncCollection:
        return self.db["consents"]

    @property
    def zns_messages(self) -> AsyncCollection:
        return self.db["zns_messages"]

    @property
    def zns_templates(self) -> AsyncCollection:
        return self.db["zns_templates"]

    @property
    def audit(self) -> AsyncCollection:
        return self.db["audit"]

    @property
    def event_marks(self) -> AsyncCollection:
        return self.db["event_marks"]

    @property
    def config(self) -> AsyncCollection:
        return self.db["config"]

    @property
    def followers(self) -> AsyncCollection:
        return self.db["followers"]

    @property
    def follower_syncs(self) -> AsyncCollection:
        return self.db["follower_syncs"]  # _id: OA link id; the last complete sync (hub.followers)

    @property
    def jobs(self) -> AsyncCollection:
        return self.db["jobs"]

    @property
    def job_rows(self) -> AsyncCollection:
        return self.db["job_rows"]

    @property
    def journeys(self) -> AsyncCollection:
        return self.db["journeys"]  # ZNS journey tokens (hub.journeys)

    async def ensure_indexes(self) -> None:
        for name, models in INDEXES.items():
            await self.db[name].create_indexes(models)
        for name, index in RETIRED_INDEXES:
            if index in await self.db[name].index_information():
                await self.db[name].drop_index(index)

    async def ping(self) -> None:
        await self.client.admin.command("ping")

    async def shared_secret(self, name: str) -> str:
        """A random secret generated once per deployment and shared by every process through the database."""
        try:
            await self.config.insert_one({"_id": name, "value": secrets.token_urlsafe(48)})
        except DuplicateKeyError:
            pass  # another process made it first; use theirs
        doc = await self.config.find_one({"_id": name})
        assert doc is not None
        return doc["value"]

    async def close(self) -> None:
        await self.client.close()

    @property
    def contacts(self) -> AsyncCollection:
        return self.db["contacts"]


def time_range(start: datetime | None, end: datetime | None) -> dict[str, datetime] | None:
    """The query condition start <= t < end (either side open), or None for no bound at all."""
    bounds = {**({"$gte": start} if start else {}), **({"$lt": end} if end else {})}
    return bounds or None


def record_filter(company_id: str, filters: dict[str, Any], exact: tuple[str, ...], time_field: str) -> dict[str, Any]:
    """The query of a records list (consents, ZNS messages): the exact-match fields asked for, the phone as
    Zalo writes it, `charged`, and from/to on `time_field`."""
    query: dict[str, Any] = {"company_id": company_id}
    for key in exact:
        if filters.get(key):
            query[key] = filters[key]
    if filters.get("phone"):
        query["phone"] = zalo_phone(filters["phone"])
    if filters.get("charged") is not None:
        query["charged"] = filters["charged"]
    if bounds := time_range(filters.get("from"), filters.get("to")):
        query[time_field] = bounds
    return query


async def newest_first(
    collection: AsyncCollection, query: dict[str, Any], field: str, batch: int = 500
) -> AsyncIterator[dict[str, Any]]:
    """Every document of `query`, newest `field` first (the id breaking ties), read `batch` at a time from
    where the previous batch ended: an export of any size holds one batch (documents lacking `field` last)."""
    after: dict[str, Any] | None = None
    while True:
        page = {"$and": [query, after]} if after else query
        docs = [
            doc async for doc in collection.find(page).sort([(field, DESCENDING), ("_id", DESCENDING)]).limit(batch)
        ]
        for doc in docs:
            yield doc
        if len(docs) < batch:
            return
        last, last_id = docs[-1].get(field), docs[-1]["_id"]
        later: list[dict[str, Any]] = [{field: last, "_id": {"$lt": last_id}}]
        if last is not None:
            later += [{field: {"$lt": last}}, {field: None}]
        after = {"$or": later}


IDLE_CONNECTION_MS = 240_000


def connect(uri: str, db_name: str, timeout_ms: int = 5000) -> Store:
    client: AsyncMongoClient = AsyncMongoClient(
        uri,
        tz_aware=True,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        timeoutMS=timeout_ms,
        # The embedded server closes a connection idle for 300 s; a pooled one older than that would fail
        # the first write after a quiet spell (a standalone server's writes are not retried). Drop them first.
        maxIdleTimeMS=IDLE_CONNECTION_MS,
        appname="hub",
    )
    return Store(client=client, db=client[db_name])
