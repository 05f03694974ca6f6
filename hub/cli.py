"""The `hub` command: serve, bootstrap a company, issue a token, prune the event log.

Every command works whether or not a hub is serving: with HUB_MONGODB_URI unset it uses the
embedded server already running on HUB_DATA_DIR, or starts one for the command's duration.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from hub import embedded, logs
from hub.auth import issue_token
from hub.clock import clock_from
from hub.errors import HubError
from hub.runtime import Runtime, StartupError
from hub.settings import Settings, get_settings

log = logging.getLogger("hub")


def _fail(message: str, code: int = 1) -> int:
    print(f"hub: {message}", file=sys.stderr)
    return code


async def _with_runtime(settings: Settings, work: Callable[[Runtime], Awaitable[Any]]) -> Any:
    runtime = await Runtime.open(settings, clock_from(settings.clock_offset_file))
    try:
        return await work(runtime)
    finally:
        await runtime.close()


def cmd_bootstrap(settings: Settings, args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> dict[str, Any]:
        company, member, password = await runtime.directory.bootstrap(
            args.company_code, args.company_name, args.owner_phone, args.owner_name, args.password
        )
        return {"company_id": company.id, "member_id": member.id, "password": password}

    print(json.dumps(asyncio.run(_with_runtime(settings, work))))
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> str:
        company = await runtime.directory.company_by_code(args.company_code)
        if company is None:
            raise HubError(f"no company with code {args.company_code!r}")
        member = await runtime.directory.member_by_phone(company.id, args.phone)
        if member is None:
            raise HubError(f"{args.phone} is not a member of {args.company_code}")
        principal = await runtime.directory.principal_for(member)
        return issue_token(runtime.jwt_secret, principal, runtime.clock.now(), args.ttl or settings.token_ttl_s)

    print(asyncio.run(_with_runtime(settings, work)))
    return 0


def cmd_prune_events(settings: Settings, args: argparse.Namespace) -> int:
    async def work(runtime: Runtime) -> int:
        company_id = None
        if args.company_code:
            company = await runtime.directory.company_by_code(args.company_code)
            if company is None:
                raise HubError(f"no company with code {args.company_code!r}")
            company_id = company.id
        cutoff = runtime.clock.now() - timedelta(seconds=args.older_than)
        return await runtime.event_log.prune(cutoff, company_id)

    removed = asyncio.run(_with_runtime(settings, work))
    print(json.dumps({"removed": removed}))
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from hub.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if workers > 1 and not settings.redis_url:
        return _fail(
            f"--workers {workers} needs HUB_REDIS_URL: the processes hand each other their events through "
            "Redis. Set it (a local `redis-server` will do), or serve with one worker.",
            2,
        )
    server = None
    if not settings.mongodb_uri:
        uri = embedded.running_uri(settings.data_dir.resolve())
        if uri is None:
            print(
                f"hub: starting the embedded MongoDB-compatible server in {settings.data_dir.resolve()} ...",
                file=sys.stderr,
            )
            server = embedded.start(settings.data_dir, settings.embedded_start_timeout_s)
            uri = server.uri
        settings = settings.model_copy(update={"mongodb_uri": uri})
        os.environ["HUB_MONGODB_URI"] = uri  # the workers read their settings from the environment
    # uvicorn re-raises SIGTERM after its graceful shutdown; turn it into a normal exit so the
    # embedded server below is stopped too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        print(
            f"hub: serving on http://{host}:{port} (MongoDB {settings.mongodb_uri}, "
            f"fan-out {'Redis' if settings.redis_url else 'in memory'}"
            + (f", {workers} worker processes" if workers > 1 else "")
            + ")",
            file=sys.stderr,
        )
        uvicorn.run(
            # Workers are separate processes: each builds its app from the environment (hub.app.worker_app).
            "hub.app:worker_app" if workers > 1 else create_app(settings),
            factory=workers > 1,
            workers=workers,
            host=host,
            port=port,
            loop="uvloop",
            http="httptools",
            ws="websockets-sansio",
            ws_per_message_deflate=False,
            log_config=None,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
    finally:
        if server is not None:
            server.stop()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="Real-time Zalo OA and PBX event hub")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="serve the hub (HTTP, webhooks, Socket.IO)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--workers", type=int, help="processes serving the port (default HUB_WORKERS, 1); needs Redis above 1"
    )
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("bootstrap", help="create a company and its owner; prints {company_id, member_id, password}")
    p.add_argument("--company-code", required=True)
    p.add_argument("--company-name", required=True)
    p.add_argument("--owner-phone", required=True)
    p.add_argument("--owner-name", required=True)
    p.add_argument("--password", help="the owner's password (generated and printed when omitted)")
    p.set_defaults(run=cmd_bootstrap)

    p = sub.add_parser("token", help="print a console token (JWT) for a member")
    p.add_argument("--company-code", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--ttl", type=int, help="lifetime in seconds (default HUB_TOKEN_TTL_S)")
    p.set_defaults(run=cmd_token)

    p = sub.add_parser("prune-events", help="drop event-log entries older than --older-than seconds")
    p.add_argument("--older-than", type=float, required=True, metavar="SECONDS")
    p.add_argument("--company-code")
    p.set_defaults(run=cmd_prune_events)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = get_settings()
    logs.configure(settings.log_level, settings.log_json and args.command == "serve")
    if args.command != "serve":
        logging.getLogger().setLevel(logging.WARNING)
    try:
        return args.run(settings, args)
    except (StartupError, embedded.EmbeddedServerError) as exc:
        return _fail(str(exc), 2)
    except HubError as exc:
        return _fail(exc.message)
    except KeyboardInterrupt:
        return 130
