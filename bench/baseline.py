"""The bare relay the hub is measured against: Starlette + python-socketio, the same webhooks in, the
same rooms out, and nothing else — no signature, no storage, no permissions, no ordering, no replay.

    python -m bench.baseline --port 8100

A console connects with auth {"room": "<member id>"} and joins that room. POST /setup {"threads":
{zalo user id: member id}, "owner": member id} tells it who gets each thread's messages.
"""

from __future__ import annotations

import argparse
import gc
import json

import socketio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub import fastjson

sio = socketio.AsyncServer(async_mode="asgi", json=fastjson, logger=False, engineio_logger=False)
routes_of: dict[str, str] = {}
owner: dict[str, str] = {}


@sio.on("connect")
async def connect(sid: str, environ: dict, auth: dict | None) -> None:
    await sio.enter_room(sid, (auth or {}).get("room", "nobody"))


async def setup(request: Request) -> JSONResponse:
    body = await request.json()
    routes_of.update(body["threads"])
    owner["id"] = body["owner"]
    return JSONResponse({"ok": True})


async def zalo(request: Request) -> JSONResponse:
    event = json.loads(await request.body())
    user = event["sender"]["id"]
    await sio.emit("message", event, to=[owner.get("id", "owner"), routes_of.get(user, "nobody")])
    return JSONResponse({"ok": True})


async def pbx(request: Request) -> JSONResponse:
    await sio.emit("call", json.loads(await request.body()), to="wallboards")
    return JSONResponse({"ok": True})


web = Starlette(
    routes=[
        Route("/setup", setup, methods=["POST"]),
        Route("/webhooks/zalo", zalo, methods=["POST"]),
        Route("/webhooks/pbx", pbx, methods=["POST"]),
        Route("/healthz", lambda r: JSONResponse({"ok": True})),
    ]
)
app = socketio.ASGIApp(sio, other_asgi_app=web, socketio_path="socket.io")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8100)
    args = parser.parse_args()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
