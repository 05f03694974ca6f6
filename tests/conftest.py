"""Fixtures: one embedded MongoDB-compatible server and one Redis for the session, hub processes on them,
and helpers that make companies and members through the hub's own REST API."""

from __future__ import annotations

import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from hub import embedded
from hub.clock import SystemClock
from hub.runtime import Runtime
from hub.settings import Settings
from tests.browser import TcpProxy, launch
from tests.consoles import VIOLATIONS, TestConsole
from tests.fake_zalo import FakeZalo
from tests.servers import TEST_JWT_SECRET, HubProcess, RedisServer, free_port, hub_env
from tests.zalo_payloads import Oa

_phones = itertools.count(1)


def new_phone() -> str:
    return f"09{uuid.uuid4().int % 10**4:04d}{next(_phones):04d}"


@pytest.fixture(autouse=True)
def events_fit_the_catalogue() -> Iterator[None]:
    """Every event a test console received fits its model in schemas/events.py."""
    VIOLATIONS.clear()
    yield
    assert not VIOLATIONS, "events outside the catalogue (schemas/events.py):\n" + "\n".join(VIOLATIONS[:5])


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("servers")


@pytest.fixture(scope="session")
def mongo_uri(workdir: Path) -> Iterator[str]:
    server = embedded.start(workdir / "mongo", timeout_s=60)
    yield server.uri
    server.stop()


@pytest.fixture(scope="session")
def redis_url(workdir: Path) -> Iterator[str]:
    server = RedisServer.start(workdir)
    yield server.url
    server.stop()


def start_hub(workdir: Path, name: str, **settings: str) -> HubProcess:
    return HubProcess(port=free_port(), env=hub_env(**settings), log=workdir / f"{name}.log", cwd=workdir).start()


@contextlib.contextmanager
def hub_of_its_own(workdir: Path, mongo_uri: str, name: str, **settings: str) -> Iterator[HubProcess]:
    """A hub process with settings a test module needs, on database `name` of the session's server."""
    process = start_hub(workdir, name, mongodb_uri=mongo_uri, mongodb_db=name, **settings)
    try:
        yield process
    finally:
        process.stop()


@contextlib.asynccontextmanager
async def runtime_of(mongo_uri: str, db: str) -> AsyncIterator[Runtime]:
    """Direct access to a hub's database (to bootstrap companies as `hub bootstrap` does)."""
    rt = await _runtime(mongo_uri, db)
    try:
        yield rt
    finally:
        await rt.close()


@pytest_asyncio.fixture(scope="session")
async def fake_zalo() -> AsyncIterator[FakeZalo]:
    server = await FakeZalo().start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def clock_file(workdir: Path) -> Path:
    path = workdir / "clock-offset"
    path.write_text("0")
    return path


@pytest.fixture
def pair_clock(workdir: Path, hub_pair) -> Iterator[HubClock]:
    """Moves both processes of the pair's time together."""
    controller = HubClock(workdir / "pair-clock-offset")
    yield controller
    controller.set(0)


@pytest.fixture
def clock(clock_file: Path) -> Iterator[HubClock]:
    """Moves the single hub's time (hub.clock.OffsetClock); back to real time after the test."""
    controller = HubClock(clock_file)
    yield controller
    controller.set(0)


class HubClock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset_s = 0.0

    def set(self, offset_s: float) -> None:
        self.offset_s = offset_s
        self.path.write_text(str(offset_s))

    def advance(self, seconds: float) -> None:
        self.set(self.offset_s + seconds)


@pytest.fixture(scope="session")
def hub(workdir: Path, mongo_uri: str, fake_zalo: FakeZalo, clock_file: Path) -> Iterator[HubProcess]:
    """One hub process with in-memory fan-out, Zalo at the local fake, and a clock tests can move."""
    process = start_hub(
        workdir,
        "hub",
        mongodb_uri=mongo_uri,
        mongodb_db="hub_single",
        zalo_openapi_url=fake_zalo.url,
        zalo_oauth_url=fake_zalo.url,
        zalo_business_url=fake_zalo.url,
        clock_offset_file=str(clock_file),
        scheduler_interval_s="0.2",
        ping_interval_s="1",
        ping_timeout_s="1",
        wallboard_snapshot_s="0.5",
        call_finalize_grace_s="0.3",
        presence_heartbeat_s="0.2",
    )  # heartbeats all the time: what they write shows at once
    yield process
    process.stop()


@pytest.fixture(scope="session")
def hub_pair(
    workdir: Path, mongo_uri: str, redis_url: str, fake_zalo: FakeZalo
) -> Iterator[tuple[HubProcess, HubProcess]]:
    """Two hub processes sharing MongoDB and Redis, as behind a load balancer.

    The periodic log catch-up is pushed out of the tests' reach, so what arrives came by the Redis
    bus (or by the catch-up a resubscription triggers, which a test provokes on purpose)."""
    settings = {
        "mongodb_uri": mongo_uri,
        "mongodb_db": "hub_pair",
        "redis_url": redis_url,
        "catchup_interval_s": "600",
        "zalo_openapi_url": fake_zalo.url,
        "zalo_oauth_url": fake_zalo.url,
        "zalo_business_url": fake_zalo.url,
        "call_finalize_grace_s": "0.3",
        "clock_offset_file": str(workdir / "pair-clock-offset"),
        "scheduler_interval_s": "0.2",
    }
    (workdir / "pair-clock-offset").write_text("0")
    first = start_hub(workdir, "hub_a", **settings)
    second = start_hub(workdir, "hub_b", **settings)
    yield first, second
    first.stop()
    second.stop()


async def _runtime(mongo_uri: str, db: str, redis_url: str | None = None) -> Runtime:
    return await Runtime.open(
        Settings(
            mongodb_uri=mongo_uri, mongodb_db=db, jwt_secret=TEST_JWT_SECRET, redis_url=redis_url, validate_events=True
        ),
        SystemClock(),
    )


@pytest_asyncio.fixture(scope="session")
async def runtime(mongo_uri: str, hub: HubProcess) -> AsyncIterator[Runtime]:
    """Direct access to the single hub's database (to bootstrap companies as `hub bootstrap` does)."""
    rt = await _runtime(mongo_uri, "hub_single")
    yield rt
    await rt.close()


@pytest_asyncio.fixture(scope="session")
async def pair_runtime(
    mongo_uri: str, redis_url: str, hub_pair: tuple[HubProcess, HubProcess]
) -> AsyncIterator[Runtime]:
    """The pair's database, with the pair's seq counter; its publisher stores events but puts
    nothing on the bus (as an event a process's lost subscription never saw)."""
    rt = await _runtime(mongo_uri, "hub_pair", redis_url)
    yield rt
    await rt.close()


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=20) as client:
        yield client


@dataclass
class Person:
    member: dict[str, Any]
    phone: str
    password: str | None
    token: str

    @property
    def id(self) -> str:
        return self.member["id"]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Company:
    """A company made for one test, driven through one hub's REST API."""

    url: str
    http: httpx.AsyncClient
    id: str
    code: str
    owner: Person
    consoles: list[TestConsole] = field(default_factory=list)

    async def login(self, phone: str, password: str) -> str:
        response = await self.http.post(
            f"{self.url}/api/auth/login", json={"phone": phone, "password": password, "company_code": self.code}
        )
        assert response.status_code == 200, response.text
        return response.json()["token"]

    async def add(
        self,
        role: str,
        by: Person | None = None,
        url: str | None = None,
        department_id: str | None = None,
        name: str | None = None,
    ) -> Person:
        phone = new_phone()
        response = await self.http.post(
            f"{url or self.url}/api/members",
            headers=(by or self.owner).auth,
            json={"name": name or f"{role} {phone}", "phone": phone, "role": role, "department_id": department_id},
        )
        assert response.status_code == 201, response.text
        body = response.json()
        return Person(
            member=body["member"],
            phone=phone,
            password=body["password"],
            token=await self.login(phone, body["password"]),
        )

    def console(self, person: Person, url: str | None = None) -> TestConsole:
        console = TestConsole(url or self.url, person.token)
        self.consoles.append(console)
        return console


async def make_company(runtime: Runtime, url: str, http: httpx.AsyncClient) -> Company:
    code = "co" + uuid.uuid4().hex[:10]
    phone = new_phone()
    company, member, password = await runtime.directory.bootstrap(code, f"Company {code}", phone, "Owner", None)
    company_obj = Company(
        url=url,
        http=http,
        id=company.id,
        code=code,
        owner=Person(member=member.model_dump(mode="json"), phone=phone, password=password, token=""),
    )
    company_obj.owner.token = await company_obj.login(phone, password)
    return company_obj


@pytest_asyncio.fixture
async def company(runtime: Runtime, hub: HubProcess, http: httpx.AsyncClient) -> AsyncIterator[Company]:
    co = await make_company(runtime, hub.url, http)
    yield co
    for console in co.consoles:
        if console.client.connected:
            await console.disconnect()


async def link_oa(company: Company, fake_zalo: FakeZalo, department_id: str | None = None) -> Oa:
    """A Zalo OA linked to a company through the API, with tokens the fake Zalo accepts."""
    account = Oa.new()
    access, refresh = fake_zalo.register_oa(account.app_id, account.app_secret, account.oa_id)
    response = await company.http.post(
        f"{company.url}/api/oa-links",
        headers=company.owner.auth,
        json={
            "name": "Shop OA",
            "app_id": account.app_id,
            "oa_id": account.oa_id,
            "oa_secret_key": account.oa_secret_key,
            "app_secret": account.app_secret,
            "access_token": access,
            "refresh_token": refresh,
            "department_id": department_id,
        },
    )
    assert response.status_code == 201, response.text
    account.link_id = response.json()["id"]
    return account


@pytest_asyncio.fixture
async def oa(company: Company, fake_zalo: FakeZalo) -> Oa:
    return await link_oa(company, fake_zalo)


@pytest_asyncio.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium under Playwright, shared by the web console tests (each takes its own contexts)."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture
async def new_page(browser: Browser) -> AsyncIterator[Callable[[], Awaitable[Page]]]:
    """Opens a page in a browser profile of its own (one per person or device), all closed after the test;
    a page that throws fails it."""
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    async def new() -> Page:
        # The PC's clock is on another continent's time: the console must show the company's time zone.
        context = await browser.new_context(
            viewport={"width": 1440, "height": 900}, locale="vi-VN", timezone_id="America/New_York"
        )
        contexts.append(context)
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield new
    for context in contexts:
        await context.close()
    assert not errors, f"the page threw: {errors}"


@pytest_asyncio.fixture
async def network(hub: HubProcess) -> AsyncIterator[TcpProxy]:
    """The browser's way to the hub, which the test can cut and restore."""
    proxy = await TcpProxy(hub.port).start()
    yield proxy
    await proxy.stop()
