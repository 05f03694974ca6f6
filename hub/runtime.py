"""The hub's services for one process, opened once: storage, sequence, event log, publisher, directory.

Shared by the ASGI app (hub.app) and the CLI (hub.cli), so both run the same code on the same data.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import httpx
from pymongo.errors import PyMongoError
from redis.asyncio import Redis

from clients.zalo import ZaloClient
from hub import embedded
from hub.assignment import Assignment
from hub.audit import Audit
from hub.calls import Calls
from hub.chat import ChatIngest, Spawn, background
from hub.clock import Clock
from hub.consent_bulk import ConsentBulk
from hub.consents import Consents
from hub.contact_import import ContactImport
from hub.contacts import Contacts
from hub.customers import Customers
from hub.dashboard import Dashboard
from hub.directory import Directory
from hub.followers import JOB_KIND as FOLLOWERS_SYNC
from hub.followers import Followers
from hub.inbox import Inbox
from hub.jobs import Jobs
from hub.journeys import Journeys
from hub.labels import Labels
from hub.missed_calls import MissedCalls
from hub.oa_links import OaLinks
from hub.outreach_reports import OutreachReports
from hub.presence import Presence, make_presence
from hub.realtime.bus import Bus, NullBus
from hub.realtime.publish import EventLog, Publisher
from hub.realtime.sequence import LocalSequence, RedisSequence, Sequence
from hub.replies import Replies
from hub.settings import Settings
from hub.store import Store, connect
from hub.telephony import Telephony
from hub.threads import Threads
from hub.wallboard import Wallboards
from hub.zns import Zns
from hub.zns_campaigns import ZnsCampaigns
from hub.zns_templates import ZnsTemplates

log = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """The hub cannot start; the message tells the operator what to do."""


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    store: Store
    redis: Redis | None
    event_log: EventLog
    sequence: Sequence
    publisher: Publisher
    directory: Directory
    audit: Audit
    jwt_secret: str
    embedded_server: embedded.EmbeddedServer | None
    http: httpx.AsyncClient
    oa_links: OaLinks
    threads: Threads
    chat: ChatIngest
    replies: Replies
    presence: Presence
    assignment: Assignment
    labels: Labels
    spawn: Spawn  # runs a coroutine in the background, kept referenced until done
    calls: Calls
    dashboard: Dashboard
    missed_calls: MissedCalls
    telephony: Telephony
    wallboards: Wallboards
    consents: Consents
    zns: Zns
    inbox: Inbox
    jobs: Jobs
    consent_bulk: ConsentBulk
    outreach_reports: OutreachReports
    tasks: set[asyncio.Task]
    followers: Followers
    customers: Customers  # the customer page (hub.customers)
    zns_templates: ZnsTemplates
    contacts: Contacts
    contact_import: ContactImport
    journeys: Journeys  # ZNS journeys (hub.journeys)
    zns_campaigns: ZnsCampaigns  # ZNS campaigns on the job runner (hub.zns_campaigns)

    @classmethod
    async def open(cls, settings: Settings, clock: Clock, bus: Bus | None = None) -> Runtime:
        """Open storage and build every service; events go to `bus` (none outside a serving process,
        such as the CLI: consoles pick those events up from the log)."""
        server = None
        uri = settings.mongodb_uri
        if not uri:
            try:
                uri, server = await asyncio.to_thread(
                    embedded.attach_or_start, settings.data_dir, settings.embedded_start_timeout_s
                )
            except embedded.EmbeddedServerError as exc:
                raise StartupError(str(exc)) from exc
        assert uri is not None
        store = connect(uri, settings.mongodb_db, settings.mongodb_timeout_ms)

        async def give_up(message: str) -> StartupError:
            await store.close()
            if server:
                server.stop()
            return StartupError(message)

        try:
            await store.ensure_indexes()
            jwt_secret = (
                settings.jwt_secret.get_secret_value()
                if settings.jwt_secret
                else await store.shared_secret("jwt_secret")
            )
        except PyMongoError as exc:
            raise await give_up(
                f"cannot use MongoDB ({type(exc).__name__}: {exc}). Check that HUB_MONGODB_URI points at a "
                "running MongoDB, or unset it to run on the embedded server."
            ) from exc
        redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
        if redis is not None:
            try:
                await redis.ping()
            except Exception as exc:
                raise await give_up(
                    f"cannot reach Redis at HUB_REDIS_URL ({exc}). Start Redis, fix the URL, or unset it to run "
                    "a single process with in-memory fan-out."
                ) from exc
        event_log = EventLog(store)
        sequence: Sequence = (
            RedisSequence(redis, event_log.max_seq) if redis is not None else LocalSequence(event_log.max_seq)
        )
        publisher = Publisher(event_log, sequence, clock, bus or NullBus(), settings.validate_events)
        audit = Audit(store, clock)
        directory = Directory(store, publisher, clock, audit, settings.login_max_failures, settings.login_lock_s)
        http = httpx.AsyncClient(timeout=settings.zalo_timeout_s)
        zalo = ZaloClient(http, settings.zalo_openapi_url, settings.zalo_oauth_url, settings.zalo_business_url)
        oa_links = OaLinks(store, clock, zalo, publisher, settings, audit)
        threads = Threads(store, clock, publisher)
        tasks: set[asyncio.Task] = set()
        presence = make_presence(redis, settings.presence_ttl_s)
        assignment = Assignment(store, clock, threads, publisher, presence, audit)
        spawn = background(tasks)
        chat = ChatIngest(store, clock, threads, oa_links, assignment, spawn)
        replies = Replies(store, clock, threads, oa_links, settings)
        labels = Labels(store, clock, threads, publisher)
        missed_calls = MissedCalls(store, clock, publisher, settings.missed_callback_hours)
        calls = Calls(
            store, clock, publisher, settings.call_finalize_grace_s, settings.pbx_extension_max_digits, missed_calls
        )
        consents = Consents(store, clock, oa_links, publisher)
        zns_templates = ZnsTemplates(store, clock, oa_links)
        zns = Zns(store, clock, oa_links, publisher, zns_templates)
        inbox = Inbox(store, clock, chat, consents, zns, calls, oa_links, directory, settings.inbox_redo_after_s)
        followers = Followers(
            store, clock, oa_links, publisher, settings.followers_retry_base_s, settings.zalo_user_list_max_offset
        )
        inbox.followers = followers
        jobs = Jobs(store, clock, publisher, settings.job_lease_s)
        followers.jobs = jobs  # the OA followers sync (hub.followers)
        jobs.register(FOLLOWERS_SYNC, followers.sync)
        contacts = Contacts(store, clock, publisher)
        contact_import = ContactImport(
            jobs, contacts, publisher, settings.contacts_import_max_bytes, settings.contacts_import_max_rows
        )
        journeys = Journeys(store, clock, oa_links, publisher, zns)
        inbox.journeys = journeys  # event_journey_acknowledged / event_journey_time_out
        return cls(
            settings=settings,
            clock=clock,
            store=store,
            redis=redis,
            event_log=event_log,
            sequence=sequence,
            publisher=publisher,
            directory=directory,
            audit=audit,
            jwt_secret=jwt_secret,
            embedded_server=server,
            http=http,
            oa_links=oa_links,
            threads=threads,
            chat=chat,
            replies=replies,
            tasks=tasks,
            presence=presence,
            assignment=assignment,
            labels=labels,
            spawn=spawn,
            calls=calls,
            dashboard=Dashboard(store, clock, event_log),
            missed_calls=missed_calls,
            telephony=Telephony(store, clock, audit, publisher),
            wallboards=Wallboards(store, clock, jwt_secret, publisher, audit),
            consents=consents,
            zns=zns,
            inbox=inbox,
            followers=followers,
            jobs=jobs,
            consent_bulk=ConsentBulk(store, consents, jobs, settings.zcc_bulk_per_s),
            outreach_reports=OutreachReports(store, clock),
            customers=Customers(store, threads, calls, consents, zns),
            zns_templates=zns_templates,
            contacts=contacts,
            contact_import=contact_import,
            journeys=journeys,
            zns_campaigns=ZnsCampaigns(store, clock, zns, zns_templates, jobs, settings.zns_campaign_per_s),
        )

    async def close(self) -> None:
        await self.jobs.stop()
        await self.inbox.marks.close()
        for task in list(self.tasks):
            task.cancel()
        await self.http.aclose()
        if self.redis is not None:
            await self.redis.aclose()
        await self.store.close()
        if self.embedded_server is not None:
            await asyncio.to_thread(self.embedded_server.stop)
