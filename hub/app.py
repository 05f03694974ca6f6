"""Assembles the hub: one ASGI app of Starlette routes and Socket.IO, with every piece named here.

`create_app()` builds it from settings (`uvicorn --factory hub.app:create_app` works too);
`hub serve` runs it under uvicorn, and so does the Procfile.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import AsyncIterator

import socketio
from pymongo.errors import OperationFailure, PyMongoError, WriteConcernError, WTimeoutError
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import fastjson, faults, logs, ops, pages, scheduler
from hub.api import account as account_api
from hub.api import audit as audit_api
from hub.api import auth as auth_api
from hub.api import calls as calls_api
from hub.api import campaigns as campaigns_api
from hub.api import company as company_api
from hub.api import consents as consents_api
from hub.api import contact_imports as contact_imports_api
from hub.api import contacts as contacts_api
from hub.api import customers as customers_api
from hub.api import dashboard as dashboard_api
from hub.api import followers as followers_api
from hub.api import jobs as jobs_api
from hub.api import journeys as journeys_api
from hub.api import labels as labels_api
from hub.api import members as members_api
from hub.api import oa_links as oa_links_api
from hub.api import reports as reports_api
from hub.api import threads as threads_api
from hub.api import zns_templates as zns_templates_api
from hub.api.routing import ApiRoute, error_response, openapi, starlette_routes
from hub.clock import Clock, clock_from
from hub.errors import HubError, StorageUnavailable, Unprocessable
from hub.realtime import contract
from hub.realtime.bus import make_bus
from hub.realtime.server import Realtime, socket_server
from hub.runtime import Runtime, StartupError
from hub.settings import Settings, get_settings
from webhooks import pbx as pbx_webhooks
from webhooks import zalo as zalo_webhooks

log = logging.getLogger(__name__)

API_ROUTES: list[ApiRoute] = [
    *auth_api.ROUTES,
    *account_api.ROUTES,
    *company_api.ROUTES,
    *members_api.ROUTES,
    *oa_links_api.ROUTES,
    *threads_api.ROUTES,
    *labels_api.ROUTES,
    *calls_api.ROUTES,
    *dashboard_api.ROUTES,
    *consents_api.ROUTES,
    *audit_api.ROUTES,
    *followers_api.ROUTES,
    *jobs_api.ROUTES,
    *reports_api.ROUTES,
    *customers_api.ROUTES,
    *zns_templates_api.ROUTES,
    *contact_imports_api.ROUTES,
    *contacts_api.ROUTES,
    *journeys_api.ROUTES,
    *campaigns_api.ROUTES,
]


class RequestContext:
    """Gives every HTTP request an id (X-Request-Id, taken from the caller when sent) for logs."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = logs.request_id.set(rid)
        answered = False

        async def send_with_id(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", rid.encode("latin-1")))
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Starlette's error handler answered 500 (and logged it with this id), then re-raised: the
            # server would only log it again, unnamed, and drop the connection.
            if not answered:
                raise
        finally:
            logs.request_id.reset(token)


async def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such route, a method the route lacks) in the API's error shape."""
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return JSONResponse(
        {"error": {"code": code, "message": str(exc.detail)}}, status_code=exc.status_code, headers=exc.headers
    )


async def _storage_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OperationFailure) and not isinstance(exc, (WriteConcernError, WTimeoutError)):
        # The database refused this request's query (a pattern too long, a value out of range): the
        # caller's mistake, not an outage.
        log.info("query refused by the database", extra={"error": repr(exc)[:500], "path": request.url.path})
        return error_response(
            Unprocessable("the database refused this query; narrow or shorten the filters", "query_refused")
        )
    log.error("storage unavailable", extra={"error": repr(exc), "path": request.url.path})
    return error_response(StorageUnavailable("storage is unavailable; retry shortly"))


async def _unexpected(request: Request, exc: Exception) -> Response:
    rid = logs.request_id.get()
    log.exception("unhandled error", extra={"path": request.url.path})
    return JSONResponse(
        {
            "error": {
                "code": "internal",
                "request_id": rid,
                "message": f"internal error; the hub's log has it under request id {rid}",
            }
        },
        status_code=500,
    )


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> ASGIApp:
    settings = settings or get_settings()
    clock = clock or clock_from(settings.clock_offset_file)
    faults.configure(settings.failpoints_file)
    bus = make_bus(settings.redis_url, settings.redis_channel, fastjson if settings.fast_json else None)
    sio = socket_server(settings, bus)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            runtime = await Runtime.open(settings, clock, bus)
        except StartupError as exc:
            log.error("cannot start: %s", exc)
            raise

        async def became_available(company_id: str) -> None:
            await runtime.assignment.drain(company_id)  # someone can take queued threads now

        realtime = Realtime(settings, sio, bus, runtime, became_available)
        app.state.hub = runtime
        app.state.realtime = realtime
        runtime.inbox.serve_requests(app, {route.name: route.endpoint for route in API_ROUTES if route.publishes})
        removed = await runtime.calls.forget_outside_numbers()
        if removed:
            log.info("outside numbers removed from extension states", extra={"count": removed})
        await realtime.start()
        jobs = [
            asyncio.create_task(scheduler.run(runtime), name="scheduler"),
            asyncio.create_task(scheduler.finalize_calls(runtime), name="finalize-calls"),
            asyncio.create_task(runtime.jobs.run_forever(settings.job_interval_s), name="jobs"),
        ]
        if settings.gc_tuning:
            # Start-up objects never die: keep the collector off them, and collect young objects
            # less often (each pass walks every connection's objects).
            gc.freeze()
            gc.set_threshold(50_000, 20, 20)
        log.info("hub ready", extra={"fanout": "redis" if settings.redis_url else "memory"})
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await realtime.stop()
            await runtime.close()

    document = openapi(API_ROUTES, "Zalo + PBX real-time hub", "0.1.0")
    realtime_document = contract.asyncapi("Zalo + PBX real-time hub: realtime channel", "0.1.0")

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(document)

    async def asyncapi_json(request: Request) -> Response:
        return JSONResponse(realtime_document)

    routes = [
        *ops.ROUTES,
        Route("/api/openapi.json", openapi_json, methods=["GET"]),
        Route("/api/asyncapi.json", asyncapi_json, methods=["GET"]),
        *starlette_routes(API_ROUTES),
        *zalo_webhooks.ROUTES,
        *pbx_webhooks.ROUTES,
        *pages.routes(settings.recording_hosts, settings.zalo_media_hosts),
    ]
    web = Starlette(
        routes=routes,
        exception_handlers={
            HTTPException: _http_error,
            HubError: _hub_error,
            PyMongoError: _storage_error,
            RedisError: _storage_error,
            Exception: _unexpected,
        },
        lifespan=lifespan,
    )
    # Outermost, around Starlette's own error handler, so a 500 keeps its request id in the log and the answer.
    return RequestContext(socketio.ASGIApp(sio, other_asgi_app=web, socketio_path="socket.io"))


def worker_app() -> ASGIApp:
    """The app of one of `hub serve --workers N`'s processes: settings and logging from the environment."""
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json)
    return create_app(settings)
