"""A local HTTP server that behaves like Zalo's OA API and OAuth server, as reference/zalo-oa.md documents.

Paths, the bare `access_token` header, form-encoded token refresh with `secret_key`, single-use
refresh tokens, and errors as HTTP 200 with {"error": <non-zero>, "message"}. Tests arrange it
(register an OA, expire tokens, make a user refuse) and read what it received.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.servers import free_port

_MESSAGES = {
    -216: "Access token is invalid",
    -230: "User has not interacted with the OA in the last 7 days",
    -213: "User has not followed OA",
    -201: "Parameters are invalid",
}


@dataclass
class FakeZalo:
    access_tokens: dict[str, str] = field(default_factory=dict)  # token -> app_id
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # single-use token -> app_id
    app_secrets: dict[str, str] = field(default_factory=dict)
    refusals: dict[str, int] = field(default_factory=dict)  # user_id -> Zalo error code
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    refreshes: list[dict[str, Any]] = field(default_factory=list)
    profile_requests: list[str] = field(default_factory=list)
    # user_id -> gate: the profile answer for that user waits until the test opens it (a slow Zalo).
    held_profiles: dict[str, asyncio.Event] = field(default_factory=dict)
    quota: dict[str, Any] = field(default_factory=lambda: {"quota_type": "reply", "remain": 7})
    consent_requests: list[dict[str, Any]] = field(default_factory=list)
    zns_sent: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    # -- arranging ------------------------------------------------------------------------------

    def register_oa(self, app_id: str, app_secret: str) -> tuple[str, str]:
        """A fresh token pair for an app, as the OA's owner would paste into the hub."""
        self.app_secrets[app_id] = app_secret
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.access_tokens[access] = app_id
        self.refresh_tokens[refresh] = app_id
        return access, refresh

    def expire_access_tokens(self, app_id: str) -> None:
        for token in [t for t, a in self.access_tokens.items() if a == app_id]:
            del self.access_tokens[token]

    def sent_to(self, user_id: str) -> list[dict[str, Any]]:
        return [s for s in self.sent if s["user_id"] == user_id]

    # -- the API ----------------------------------------------------------------------------------

    def _token_error(self, request: Request) -> JSONResponse | None:
        if request.headers.get("access_token") not in self.access_tokens:
            return JSONResponse({"error": -216, "message": _MESSAGES[-216]})
        return None

    async def _send(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        body = await request.json()
        user_id = body["recipient"]["user_id"]
        message = body["message"]
        if user_id in self.refusals:
            code = self.refusals[user_id]
            return JSONResponse({"error": code, "message": _MESSAGES.get(code, "refused")})
        if "text" in message and len(message["text"]) > 2000:
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        message_id = secrets.token_hex(16)
        self.sent.append(
            {
                "user_id": user_id,
                "message": message,
                "message_id": message_id,
                "access_token": request.headers["access_token"],
            }
        )
        return JSONResponse(
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": message_id, "user_id": user_id, "quota": dict(self.quota)},
            }
        )

    async def _user_detail(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        user_id = json.loads(request.query_params["data"])["user_id"]
        self.profile_requests.append(user_id)
        if gate := self.held_profiles.get(user_id):
            await gate.wait()
        profile = self.profiles.get(
            user_id,
            {"display_name": f"Khách {user_id[-4:]}", "avatar": f"https://s120.avatar.talk.zdn.vn/{user_id}.jpg"},
        )
        return JSONResponse(
            {"error": 0, "message": "Success", "data": {"user_id": user_id, "user_is_follower": True, **profile}}
        )

    async def _quota(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        return JSONResponse(
            {
                "error": 0,
                "message": "Success",
                "data": {"cs_reply": {"remain": self.quota.get("remain", 0), "total": 8}},
            }
        )

    async def _upload(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        form = await request.form()
        upload = form["file"]
        await upload.read()
        key = "attachment_id" if request.url.path.endswith("/image") else "token"
        return JSONResponse({"error": 0, "message": "Success", "data": {key: secrets.token_hex(8)}})

    async def _refresh(self, request: Request) -> JSONResponse:
        form = await request.form()
        app_id, refresh = form.get("app_id"), form.get("refresh_token")
        self.refreshes.append(
            {"app_id": app_id, "refresh_token": refresh, "secret_key": request.headers.get("secret_key")}
        )
        if (
            form.get("grant_type") != "refresh_token"
            or self.refresh_tokens.pop(str(refresh), None) != app_id
            or self.app_secrets.get(str(app_id)) != request.headers.get("secret_key")
        ):
            return JSONResponse(
                {
                    "error": -14014,
                    "error_name": "Invalid refresh token",
                    "error_reason": "refresh token is invalid or already used",
                    "error_description": "Invalid refresh token",
                }
            )
        access, new_refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.access_tokens[access] = str(app_id)
        self.refresh_tokens[new_refresh] = str(app_id)
        return JSONResponse({"access_token": access, "refresh_token": new_refresh, "expires_in": "90000"})

    async def _request_consent(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        body = await request.json()
        if body.get("reason_code") not in (101, 103, 105, 106, 107):
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        self.consent_requests.append(body)
        return JSONResponse({"error": 0, "message": "Success", "data": {}})

    async def _send_zns(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        body = await request.json()
        msg_id = secrets.token_hex(16)
        sent_time = str(int(__import__("time").time() * 1000))
        self.zns_sent.append({**body, "msg_id": msg_id, "sent_time": sent_time})
        return JSONResponse(
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "msg_id": msg_id,
                    "sent_time": sent_time,
                    "quota": {"dailyQuota": "500", "remainingQuota": "499"},
                },
            }
        )

    # -- serving ----------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self._send, methods=["POST"]),
                Route("/v3.0/oa/user/detail", self._user_detail, methods=["GET"]),
                Route("/v3.0/oa/quota/message", self._quota, methods=["POST"]),
                Route("/v2.0/oa/upload/image", self._upload, methods=["POST"]),
                Route("/v2.0/oa/upload/file", self._upload, methods=["POST"]),
                Route("/v4/oa/access_token", self._refresh, methods=["POST"]),
                Route("/v2.0/oa/call/requestconsent", self._request_consent, methods=["POST"]),
                Route("/message/template", self._send_zns, methods=["POST"]),
            ]
        )

    async def start(self) -> FakeZalo:
        port = free_port()
        self._server = uvicorn.Server(
            uvicorn.Config(self.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        )
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._server:
            self._server.should_exit = True
        if self._task:
            await self._task
