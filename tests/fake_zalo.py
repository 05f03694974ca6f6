"""A local HTTP server that behaves like Zalo's OA API and OAuth server, as reference/zalo-oa.md documents.

Paths, the bare `access_token` header, form-encoded token refresh with `secret_key`, single-use
refresh tokens, and errors as HTTP 200 with {"error": <non-zero>, "message"}. Tests arrange it
(register an OA, expire tokens, make a user refuse) and read what it received.

OAuth v4 with PKCE (section 7): the permission page answers at once as if the OA's admin clicked
Allow (a redirect to redirect_uri with code, oa_id, state), or Deny for an app in `denying`; the code
lives 10 minutes, is single-use, and is exchanged only with the verifier whose S256 challenge the page
received. getoa and the OA quota API (section 8) answer from `oa_profiles` / `oa_quotas`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.servers import free_port

_MESSAGES = {
    -216: "Access token is invalid",
    -230: "User has not interacted with the OA in the last 7 days",
    -213: "User has not followed OA",
    -201: "Parameters are invalid",
}


# Every OA's templates unless a test arranges others: an ordinary one and an OTP one (reference section 10).
DEFAULT_TEMPLATES: dict[str, dict[str, Any]] = {
    "tpl-1": {
        "templateId": "tpl-1",
        "templateName": "Thông báo đơn hàng",
        "status": "ENABLE",
        "templateQuality": "HIGH",
        "templateTag": "TRANSACTION",
        "timeout": 7200000,
        "price": "300",
        "listParams": [],
    },
    "tpl-otp": {
        "templateId": "tpl-otp",
        "templateName": "Mã xác thực",
        "status": "ENABLE",
        "templateQuality": "HIGH",
        "templateTag": "OTP",
        "timeout": 15000,
        "price": "200",
        "listParams": [{"name": "otp", "require": True, "type": "STRING", "maxLength": 6, "minLength": 4}],
    },
}


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _oauth_error(code: int, name: str, reason: str) -> JSONResponse:
    """A failed token call: no tokens, error/error_name/error_reason at the top level (section 7)."""
    return JSONResponse({"error": code, "error_name": name, "error_reason": reason, "ref_doc": ""})


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
    # ZCC consent requests: a phone (84…) Zalo refuses with this code; the next N requests meet the rate limit.
    consent_refusals: dict[str, int] = field(default_factory=dict)
    consent_rate_limited: int = 0
    consent_gateway_errors: int = 0  # the next N requests are received, then answered 502 (the answer is lost)
    # OAuth: the OA each app's admin allows on the permission page, apps whose admin denies, codes
    # issued (code -> app_id, oa_id, challenge, issued at), answers to hand out instead of tokens.
    consenting_oa: dict[str, str] = field(default_factory=dict)  # app_id -> oa_id
    denying: set[str] = field(default_factory=set)
    codes: dict[str, tuple[str, str, str, float]] = field(default_factory=dict)
    permission_requests: list[dict[str, str]] = field(default_factory=list)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    exchange_answers: list[dict[str, Any]] = field(default_factory=list)
    token_oa: dict[str, str] = field(default_factory=dict)  # access or refresh token -> oa_id
    oa_profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # oa_id -> getoa data
    oa_quotas: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # oa_id -> quota rows
    code_life_s: float = 600.0
    # Followers (reference section 9): oa_id -> user_id -> detail, in the order getlist walks them (the
    # details also answer /user/detail); getlist queries as received; the next `rate_limited_calls` user
    # list or detail calls answer -32; a getlist at offset `hold_list_at` waits for `list_gate`.
    users: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    list_requests: list[dict[str, Any]] = field(default_factory=list)
    rate_limited_calls: int = 0
    rate_limited_answers: int = 0
    hold_list_at: int | None = None
    max_offset: int = 9951  # Zalo's (reference section 9); a test lowers it to see an OA larger than one listing
    list_gate: asyncio.Event = field(default_factory=asyncio.Event)
    list_held: asyncio.Event = field(default_factory=asyncio.Event)
    # ZNS templates (section 10): template_id -> its `template/info/v2` data (templateId, templateName, status,
    # listParams, ...); `template/all` lists them, paged. template_requests: the paths asked, in order.
    templates: dict[str, dict[str, Any]] = field(default_factory=lambda: dict(DEFAULT_TEMPLATES))
    template_requests: list[str] = field(default_factory=list)
    # ZNS journeys (section 11): token -> {phone, oa_id, journey_id, token_type, createdAt, expiredAt (epoch ms)};
    # get-token bodies as received; tokens Zalo calls invalid (-149) or expired (-150); templates a journey
    # token cannot send (-1491); phones get-token refuses with a code.
    journey_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    journey_requests: list[dict[str, Any]] = field(default_factory=list)
    invalid_journey_tokens: set[str] = field(default_factory=set)
    expired_journey_tokens: set[str] = field(default_factory=set)
    non_journey_templates: set[str] = field(default_factory=set)
    journey_refusals: dict[str, int] = field(default_factory=dict)
    # ZNS campaigns: the next ZNS sends answer these Zalo error codes, in order (-32 rate limit, -144 daily
    # quota, -216 token...), recorded in zns_refused, not in zns_sent; each send's receive time (monotonic).
    zns_answers: list[int] = field(default_factory=list)
    zns_refused: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _server: uvicorn.Server | None = None
    _task: asyncio.Task | None = None

    # -- arranging ------------------------------------------------------------------------------

    def register_oa(self, app_id: str, app_secret: str, oa_id: str | None = None) -> tuple[str, str]:
        """A fresh token pair for an app, as the OA's owner would paste into the hub."""
        self.app_secrets[app_id] = app_secret
        return self._issue_tokens(app_id, oa_id)

    def register_app(self, app_id: str, app_secret: str, oa_id: str, **profile: Any) -> None:
        """An app whose admin will allow `oa_id` on the permission page; getoa describes it with `profile`."""
        self.app_secrets[app_id] = app_secret
        self.consenting_oa[app_id] = oa_id
        self.oa_profiles[oa_id] = {**self.default_profile(oa_id), **profile}

    @staticmethod
    def default_profile(oa_id: str) -> dict[str, Any]:
        return {
            "oa_id": oa_id,
            "name": f"OA {oa_id[-4:]}",
            "description": "Cửa hàng",
            "oa_alias": f"oa{oa_id[-4:]}",
            "is_verified": True,
            "oa_type": 2,
            "cate_name": "Mua sắm",
            "num_follower": 1520,
            "avatar": f"https://s160-ava-talk.zadn.vn/{oa_id}.jpg",
            "cover": f"https://cover-talk.zadn.vn/{oa_id}.jpg",
            "package_name": "Gói Nâng cao",
            "package_valid_through_date": "31/12/2027",
            "package_auto_renew_date": "31/12/2027",
            "linked_zca": True,
        }

    def _issue_tokens(self, app_id: str, oa_id: str | None) -> tuple[str, str]:
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        self.access_tokens[access] = app_id
        self.refresh_tokens[refresh] = app_id
        if oa_id:
            self.token_oa[access] = self.token_oa[refresh] = oa_id
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
        if limited := self._rate_limited():
            return limited
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
        body = await request.json()
        if "quota_owner" in body:  # the OA's package allowances (section 8)
            oa_id = self.token_oa.get(request.headers["access_token"], "")
            rows = self.oa_quotas.get(oa_id) or [
                {
                    "asset_id": "asset-" + (oa_id or "0")[-4:],
                    "product_type": "cs",
                    "quota_type": "sub_quota",
                    "valid_through": "31/12/2027",
                    "total": 2000,
                    "remain": 1500,
                }
            ]
            return JSONResponse({"error": 0, "message": "Success", "data": rows})
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

    async def _access_token(self, request: Request) -> JSONResponse:
        """POST /v4/oa/access_token: grant_type refresh_token (section 3) or authorization_code (section 7)."""
        form = await request.form()
        if form.get("grant_type") == "authorization_code":
            return self._exchange(request, {k: str(v) for k, v in form.items()})
        return await self._refresh(request, form)

    def _exchange(self, request: Request, form: dict[str, str]) -> JSONResponse:
        self.exchanges.append({**form, "secret_key": request.headers.get("secret_key")})
        if self.exchange_answers:
            return JSONResponse(self.exchange_answers.pop(0))
        app_id = form.get("app_id", "")
        if self.app_secrets.get(app_id) != request.headers.get("secret_key"):
            return _oauth_error(-14002, "Invalid appId", "app_id or its secret key is wrong")
        issued = self.codes.pop(form.get("code", ""), None)  # single use, whatever follows
        if issued is None or issued[0] != app_id or time.monotonic() - issued[3] > self.code_life_s:
            # The codes of these two are forum reports only (reference section 7); the hub depends on none.
            return _oauth_error(-14014, "Invalid authorization code", "the code is invalid, expired or used")
        verifier = form.get("code_verifier", "")
        if _challenge(verifier) != issued[2]:
            return _oauth_error(-14012, "Invalid code verifier", "code_verifier does not match code_challenge")
        access, refresh = self._issue_tokens(app_id, issued[1])
        return JSONResponse({"access_token": access, "refresh_token": refresh, "expires_in": "90000"})

    async def _permission(self, request: Request) -> Response:
        """GET /v4/oa/permission: exactly app_id, redirect_uri, code_challenge, state (Zalo's SDK)."""
        query = dict(request.query_params)
        self.permission_requests.append(query)
        if sorted(query) != ["app_id", "code_challenge", "redirect_uri", "state"]:
            return PlainTextResponse(f"unexpected parameters {sorted(query)}", status_code=400)
        app_id = query["app_id"]
        oa_id = self.consenting_oa.get(app_id)
        if oa_id is None:
            return PlainTextResponse("-14002 Invalid appId", status_code=400)
        separator = "&" if "?" in query["redirect_uri"] else "?"
        if app_id in self.denying:
            # What Zalo sends on a denial is undocumented: here only the state comes back, no code.
            return RedirectResponse(f"{query['redirect_uri']}{separator}state={query['state']}", status_code=302)
        code = "code-" + secrets.token_urlsafe(16)
        self.codes[code] = (app_id, oa_id, query["code_challenge"], time.monotonic())
        target = f"{query['redirect_uri']}{separator}code={code}&oa_id={oa_id}&state={query['state']}"
        return RedirectResponse(target, status_code=302)

    async def _getoa(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        oa_id = self.token_oa.get(request.headers["access_token"], "")
        profile = self.oa_profiles.get(oa_id) or self.default_profile(oa_id or "0000")
        return JSONResponse({"error": 0, "message": "Success", "data": profile})

    async def _refresh(self, request: Request, form: Any) -> JSONResponse:
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
        access, new_refresh = self._issue_tokens(str(app_id), self.token_oa.get(str(refresh)))
        return JSONResponse({"access_token": access, "refresh_token": new_refresh, "expires_in": "90000"})

    async def _request_consent(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        body = await request.json()
        if body.get("reason_code") not in (101, 103, 105, 106, 107):
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        if self.consent_rate_limited > 0:
            self.consent_rate_limited -= 1
            return JSONResponse({"error": -32, "message": "The request exceeded the limit"})
        if code := self.consent_refusals.get(str(body.get("phone"))):
            return JSONResponse({"error": code, "message": _MESSAGES.get(code, "refused")})
        self.consent_requests.append(body)
        if self.consent_gateway_errors > 0:
            self.consent_gateway_errors -= 1
            return PlainTextResponse("Bad Gateway", status_code=502)
        return JSONResponse({"error": 0, "message": "Success", "data": {}})

    async def _send_zns(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        if "journey_token" in request.headers:
            return await self._send_in_journey(request)
        body = await request.json()
        received_at = __import__("time").monotonic()
        if self.zns_answers:
            code = self.zns_answers.pop(0)
            self.zns_refused.append({**body, "error": code, "received_at": received_at})
            return JSONResponse({"error": code, "message": _MESSAGES.get(code, "refused")})
        msg_id = secrets.token_hex(16)
        sent_time = str(int(__import__("time").time() * 1000))
        self.zns_sent.append({**body, "msg_id": msg_id, "sent_time": sent_time, "received_at": received_at})
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

    # -- followers, user list, tags (reference section 9) -------------------------------------------

    def arrange_users(self, oa_id: str, details: dict[str, dict[str, Any]]) -> None:
        """Users of an OA, in the order getlist walks them; each detail as /user/detail answers it
        (display_name, avatar, user_is_follower, user_last_interaction_date "DD/MM/YYYY", shared_info,
        tags_and_notes_info {tag_names, notes})."""
        known = self.users.setdefault(oa_id, {})
        for user_id, detail in details.items():
            known[user_id] = {"user_id": user_id, **detail}
            self.profiles[user_id] = known[user_id]

    def list_offsets(self, oa_id: str | None = None) -> list[int]:
        return [q["offset"] for q in self.list_requests if oa_id is None or q["oa_id"] == oa_id]

    def _rate_limited(self) -> JSONResponse | None:
        if self.rate_limited_calls > 0:
            self.rate_limited_calls -= 1
            self.rate_limited_answers += 1
            return JSONResponse({"error": -32, "message": "The request exceeded the rate limit of this app"})
        return None

    @staticmethod
    def _interacted_within(detail: dict[str, Any], period: str) -> bool:
        text = detail.get("user_last_interaction_date")
        if not text:
            return False
        day = datetime.strptime(text, "%d/%m/%Y").date()
        today = datetime.now(UTC).date()
        if period == "TODAY":
            return day == today
        if period == "YESTERDAY":
            return day == today - timedelta(days=1)
        if period in ("L7D", "L30D"):
            return day >= today - timedelta(days=7 if period == "L7D" else 30)
        start, _, end = period.partition(":")
        return datetime.strptime(start, "%Y_%m_%d").date() <= day <= datetime.strptime(end, "%Y_%m_%d").date()

    async def _user_list(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        query = json.loads(request.query_params["data"])
        oa_id = self.token_oa.get(request.headers["access_token"], "")
        offset, count = int(query.get("offset", 0)), int(query.get("count", 0))
        self.list_requests.append({**query, "oa_id": oa_id})
        if limited := self._rate_limited():
            return limited
        if offset < 0 or offset > self.max_offset or count < 1 or count > 50:
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        if self.hold_list_at is not None and offset == self.hold_list_at:
            self.list_held.set()
            await self.list_gate.wait()
        users = list(self.users.get(oa_id, {}).values())
        follower = query.get("is_follower")
        if follower is not None:  # several clients send the string "true"
            wanted = follower is True or str(follower).lower() == "true"
            users = [u for u in users if bool(u.get("user_is_follower")) == wanted]
        if query.get("tag_name"):
            users = [u for u in users if query["tag_name"] in (u.get("tags_and_notes_info") or {}).get("tag_names", [])]
        if query.get("last_interaction_period"):
            users = [u for u in users if self._interacted_within(u, query["last_interaction_period"])]
        page = users[offset : offset + count]
        return JSONResponse(
            {
                "error": 0,
                "message": "Success",
                "data": {
                    "total": len(users),
                    "count": len(page),
                    "offset": offset,
                    "users": [{"user_id": u["user_id"]} for u in page],
                },
            }
        )

    def _oa_of(self, request: Request) -> dict[str, dict[str, Any]]:
        return self.users.setdefault(self.token_oa.get(request.headers["access_token"], ""), {})

    async def _tags_of_oa(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        names = {
            n for u in self._oa_of(request).values() for n in (u.get("tags_and_notes_info") or {}).get("tag_names", [])
        }
        return JSONResponse({"error": 0, "message": "Success", "data": sorted(names)})

    async def _tag_follower(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        body = await request.json()
        user = self._oa_of(request).get(body.get("user_id", ""))
        if user is None or not body.get("tag_name"):
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        info = user.setdefault("tags_and_notes_info", {"tag_names": [], "notes": []})
        names = info.setdefault("tag_names", [])
        adding = request.url.path.endswith("/tagfollower")
        if adding and body["tag_name"] not in names:
            names.append(body["tag_name"])
        elif not adding and body["tag_name"] in names:
            names.remove(body["tag_name"])
        return JSONResponse({"error": 0, "message": "Success"})

    def _follower_routes(self) -> list[Route]:
        return [
            Route("/v3.0/oa/user/getlist", self._user_list, methods=["GET"]),
            Route("/v2.0/oa/tag/gettagsofoa", self._tags_of_oa, methods=["GET"]),
            Route("/v2.0/oa/tag/tagfollower", self._tag_follower, methods=["POST"]),
            Route("/v2.0/oa/tag/rmfollowerfromtag", self._tag_follower, methods=["POST"]),
        ]

    async def _template_all(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        self.template_requests.append(request.url.path)
        offset, limit = request.query_params.get("offset", "0"), request.query_params.get("limit", "100")
        if not (offset.isdigit() and limit.isdigit()) or not 1 <= int(limit) <= 100:
            return JSONResponse({"error": -201, "message": _MESSAGES[-201]})
        rows = [
            {
                "templateId": int(t["templateId"]) if str(t["templateId"]).isdigit() else t["templateId"],
                "templateName": t.get("templateName"),
                "createdTime": t.get("createdTime", 1735689600000),
                "status": t.get("status", "ENABLE"),
                "templateQuality": t.get("templateQuality", "UNDEFINED"),
            }
            for t in self.templates.values()
        ]
        page = rows[int(offset) : int(offset) + int(limit)]
        return JSONResponse({"error": 0, "message": "Success", "data": page, "metadata": {"total": len(rows)}})

    async def _template_info(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        self.template_requests.append(request.url.path)
        template = self.templates.get(request.query_params.get("template_id", ""))
        if template is None:
            return JSONResponse({"error": -109, "message": "Template ID is invalid"})
        return JSONResponse({"error": 0, "message": "Success", "data": template})

    # -- ZNS journeys (reference section 11) -------------------------------------------------------

    async def _journey_get_token(self, request: Request) -> JSONResponse:
        """POST /journey/get-token {"phone": "84…"} -> top level {error, message, token, journey_id}."""
        if error := self._token_error(request):
            return error
        body = await request.json()
        self.journey_requests.append(body)
        phone = str(body.get("phone") or "")
        if not phone.isdigit() or not phone.startswith("84"):
            return JSONResponse({"error": -108, "message": "Phone number is invalid"})
        if code := self.journey_refusals.get(phone):
            return JSONResponse({"error": code, "message": "refused"})
        token, journey_id = "jt-" + secrets.token_hex(16), str(secrets.randbelow(10**15))
        token_type = str(body.get("token_type") or "token_logistics_7")
        now_ms = int(time.time() * 1000)
        days = 30 if token_type.endswith("_30") else 7
        self.journey_tokens[token] = {
            "phone": phone,
            "oa_id": self.token_oa.get(request.headers["access_token"], ""),
            "journey_id": journey_id,
            "token_type": token_type,
            "createdAt": str(now_ms),
            "expiredAt": str(now_ms + days * 86_400_000),
        }
        return JSONResponse({"error": 0, "message": "Success", "token": token, "journey_id": journey_id})

    def _journey_refusal(self, journey_token: str) -> JSONResponse | None:
        if journey_token not in self.journey_tokens:
            return JSONResponse({"error": -148, "message": "Journey token not found"})
        if journey_token in self.invalid_journey_tokens:
            return JSONResponse({"error": -149, "message": "Journey token is invalid"})
        if journey_token in self.expired_journey_tokens:
            return JSONResponse({"error": -150, "message": "Journey token is expired"})
        return None

    async def _journey_check_token(self, request: Request) -> JSONResponse:
        if error := self._token_error(request):
            return error
        journey_token = request.headers.get("journey_token", "")
        if refusal := self._journey_refusal(journey_token):
            return refusal
        known = self.journey_tokens[journey_token]
        data = {
            "appId": self.access_tokens[request.headers["access_token"]],
            "oaId": known["oa_id"],
            "createdAt": known["createdAt"],
            "expiredAt": known["expiredAt"],
            "tokenType": known["token_type"],
        }
        return JSONResponse({"error": 0, "message": "Success", "data": data})

    async def _send_in_journey(self, request: Request) -> JSONResponse:
        """The ordinary template send with a `journey_token` header: recorded in zns_sent with that header."""
        journey_token = request.headers["journey_token"]
        body = await request.json()
        if refusal := self._journey_refusal(journey_token):
            return refusal
        if body.get("template_id") in self.non_journey_templates:
            return JSONResponse({"error": -1491, "message": "Journey token type is incompatible with the template"})
        if body.get("phone") != self.journey_tokens[journey_token]["phone"]:
            return JSONResponse({"error": -149, "message": "Journey token is invalid for this phone"})
        msg_id = secrets.token_hex(16)
        sent_time = str(int(time.time() * 1000))
        self.zns_sent.append({**body, "msg_id": msg_id, "sent_time": sent_time, "journey_token": journey_token})
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

    def _journey_routes(self) -> list[Route]:
        return [
            Route("/journey/get-token", self._journey_get_token, methods=["POST"]),
            Route("/journey/check-token", self._journey_check_token, methods=["GET"]),
        ]

    # -- serving ----------------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self._send, methods=["POST"]),
                Route("/v3.0/oa/user/detail", self._user_detail, methods=["GET"]),
                Route("/v3.0/oa/quota/message", self._quota, methods=["POST"]),
                Route("/v2.0/oa/upload/image", self._upload, methods=["POST"]),
                Route("/v2.0/oa/upload/file", self._upload, methods=["POST"]),
                Route("/v4/oa/access_token", self._access_token, methods=["POST"]),
                Route("/v4/oa/permission", self._permission, methods=["GET"]),
                Route("/v2.0/oa/getoa", self._getoa, methods=["GET"]),
                Route("/v2.0/oa/call/requestconsent", self._request_consent, methods=["POST"]),
                Route("/message/template", self._send_zns, methods=["POST"]),
                *self._follower_routes(),
                Route("/template/all", self._template_all, methods=["GET"]),
                Route("/template/info/v2", self._template_info, methods=["GET"]),
                *self._journey_routes(),
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
