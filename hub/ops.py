"""Operations endpoints: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hub.api.routing import runtime


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok", "process": os.getpid()})  # which of `--workers N` answered


async def readyz(request: Request) -> Response:
    hub = runtime(request)
    checks: dict[str, str] = {}
    try:
        await hub.store.ping()
        checks["mongodb"] = "ok"
    except Exception as exc:
        checks["mongodb"] = f"unreachable: {type(exc).__name__}"
    if hub.redis is None:
        checks["redis"] = "not configured (in-memory fan-out)"
    else:
        try:
            await hub.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" or v.startswith("not configured") for v in checks.values())
    return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)


async def metrics(request: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


ROUTES = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
]
