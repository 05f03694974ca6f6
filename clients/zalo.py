"""Zalo OA API client (httpx, async): consultation messages, user detail, quota, uploads, token refresh.

Zalo answers errors as HTTP 200 with {"error": <non-zero>, "message": ...}; this client raises
`ZaloError` carrying the code and an agent-facing reason from `REASONS` (reference section 3).
Tokens are the caller's business (hub.oa_links refreshes them); every base URL is a setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

# Zalo error code -> (English, Vietnamese) reason an agent can act on.
REASONS: dict[int, tuple[str, str]] = {
    -32: (
        "Zalo's rate limit for this app was reached; try again in a minute.",
        "Đã vượt giới hạn gọi API của Zalo; thử lại sau một phút.",
    ),
    -201: ("Zalo rejected the message as invalid (bad parameter).", "Zalo từ chối: tham số không hợp lệ."),
    -213: ("The customer does not follow the Official Account.", "Khách hàng chưa quan tâm Official Account."),
    -216: (
        "The OA's access token is invalid; reconnect the OA.",
        "Access token của OA không hợp lệ; hãy kết nối lại OA.",
    ),
    -220: (
        "The OA's access token has expired; reconnect the OA.",
        "Access token của OA đã hết hạn; hãy kết nối lại OA.",
    ),
    -230: (
        "The customer has not interacted with the OA in the last 7 days; only a ZNS template can reach them.",
        "Khách hàng không tương tác với OA trong 7 ngày qua; chỉ có thể gửi tin mẫu ZNS.",
    ),
    -232: (
        "The customer's interaction has expired for this message type.",
        "Tương tác của khách hàng đã hết hạn cho loại tin này.",
    ),
    -234: ("This message type cannot be sent at night.", "Không được gửi loại tin này vào ban đêm."),
    -244: ("The customer has restricted this type of message.", "Khách hàng đã chặn loại tin nhắn này."),
    -320: (
        "The OA has no billing wallet; set one up in Zalo Cloud Account.",
        "OA chưa có ví thanh toán; hãy thiết lập ví Zalo Cloud Account.",
    ),
    -321: ("The OA's billing wallet is empty; top it up.", "Ví thanh toán của OA đã hết tiền; hãy nạp thêm."),
    -133: ("ZNS messages cannot be sent between 22:00 and 06:00.", "Không được gửi tin ZNS từ 22:00 đến 06:00."),
}

TOKEN_ERRORS = frozenset({-216, -220})


def reason_for(code: int, message: str = "") -> tuple[str, str]:
    if code in REASONS:
        return REASONS[code]
    return (f"Zalo refused the request ({code}: {message}).", f"Zalo từ chối yêu cầu ({code}: {message}).")


class ZaloError(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.zalo_message = message
        self.reason, self.reason_vi = reason_for(code, message)
        super().__init__(f"Zalo error {code}: {message}")

    @property
    def is_token_error(self) -> bool:
        return self.code in TOKEN_ERRORS

    def as_failure(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "zalo_message": self.zalo_message,
            "reason": self.reason,
            "reason_vi": self.reason_vi,
        }


class ZaloUnreachable(ZaloError):
    """Zalo did not answer (network, timeout, 5xx). `maybe_delivered`: the request may have reached Zalo (a
    read timeout, a gateway's 5xx, an unreadable answer) — a send must then not be repeated blindly; False
    only when it never left (no connection)."""

    def __init__(self, detail: str, maybe_delivered: bool = True) -> None:
        super().__init__(0, detail)
        self.maybe_delivered = maybe_delivered
        self.reason = f"Zalo could not be reached ({detail}); try again."
        self.reason_vi = f"Không kết nối được Zalo ({detail}); hãy thử lại."

    def as_failure(self) -> dict[str, Any]:
        return {**super().as_failure(), "maybe_delivered": self.maybe_delivered}


def worth_another_attempt(failure: dict[str, Any] | None) -> bool:
    """Whether a refused send may simply be sent again: Zalo's rate limit (-32), or no connection at all. An
    answer lost after the request left (maybe delivered) is not: sending again could deliver it twice."""
    failure = failure or {}
    return failure.get("code") == -32 or (failure.get("code") == 0 and failure.get("maybe_delivered") is False)


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in_s: int


class ZaloClient:
    def __init__(self, http: httpx.AsyncClient, openapi_url: str, oauth_url: str, business_url: str) -> None:
        self._http = http
        self._openapi = openapi_url.rstrip("/")
        self._oauth = oauth_url.rstrip("/")
        self._business = business_url.rstrip("/")

    async def _json(self, method: str, url: str, **kwargs: Any) -> Any:
        """Zalo's answer as JSON; no answer, a 5xx or an unreadable body is ZaloUnreachable (worth a retry)."""
        try:
            response = await self._http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ZaloUnreachable(type(exc).__name__, maybe_delivered=False) from exc
        except httpx.HTTPError as exc:  # sent, then no (whole) answer
            raise ZaloUnreachable(type(exc).__name__) from exc
        if response.status_code >= 500:
            raise ZaloUnreachable(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise ZaloUnreachable(f"unreadable answer, HTTP {response.status_code}") from exc

    async def _call(self, method: str, url: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["access_token"] = token
        body = await self._json(method, url, headers=headers, **kwargs)
        error = body.get("error", 0)
        if error not in (0, "0", None):
            raise ZaloError(int(error), str(body.get("message") or body.get("error_description") or ""))
        return body

    # -- consultation messages (POST /v3.0/oa/message/cs) ----------------------------------------

    async def send_message(self, token: str, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """Send one consultation message; returns Zalo's `data` ({message_id, user_id, quota})."""
        body = await self._call(
            "POST",
            f"{self._openapi}/v3.0/oa/message/cs",
            token,
            json={"recipient": {"user_id": user_id}, "message": message},
        )
        return body.get("data") or {}

    @staticmethod
    def text(text: str, quote_message_id: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"text": text}
        if quote_message_id:
            message["quote_message_id"] = quote_message_id
        return message

    @staticmethod
    def image(url: str | None = None, attachment_id: str | None = None, text: str | None = None) -> dict[str, Any]:
        element: dict[str, Any] = {"media_type": "image"}
        if attachment_id:
            element["attachment_id"] = attachment_id
        else:
            element["url"] = url
        message: dict[str, Any] = {
            "attachment": {"type": "template", "payload": {"template_type": "media", "elements": [element]}}
        }
        if text:
            message["text"] = text
        return message

    @staticmethod
    def file(token: str) -> dict[str, Any]:
        return {"attachment": {"type": "file", "payload": {"token": token}}}

    @staticmethod
    def sticker(sticker_id: str) -> dict[str, Any]:
        return {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "media",
                    "elements": [{"media_type": "sticker", "attachment_id": sticker_id}],
                },
            }
        }

    @staticmethod
    def request_user_info(title: str, subtitle: str, image_url: str) -> dict[str, Any]:
        return {
            "attachment": {
                "type": "template",
                "payload": {
                    "template_type": "request_user_info",
                    "elements": [{"title": title, "subtitle": subtitle, "image_url": image_url}],
                },
            }
        }

    # -- users, quota, uploads -----------------------------------------------------------------

    async def user_detail(self, token: str, user_id: str) -> dict[str, Any]:
        body = await self._call(
            "GET", f"{self._openapi}/v3.0/oa/user/detail", token, params={"data": json.dumps({"user_id": user_id})}
        )
        return body.get("data") or {}

    async def quota(self, token: str, user_id: str) -> dict[str, Any]:
        body = await self._call("POST", f"{self._openapi}/v3.0/oa/quota/message", token, json={"user_id": user_id})
        return body.get("data") or {}

    async def upload_image(self, token: str, filename: str, content: bytes, content_type: str) -> str:
        """Upload an image (<= 1 MB); returns the attachment_id (valid 7 days)."""
        body = await self._call(
            "POST", f"{self._openapi}/v2.0/oa/upload/image", token, files={"file": (filename, content, content_type)}
        )
        return str(body["data"]["attachment_id"])

    async def upload_file(self, token: str, filename: str, content: bytes, content_type: str) -> str:
        """Upload a file (<= 5 MB); returns the token to send it with (valid 7 days)."""
        body = await self._call(
            "POST", f"{self._openapi}/v2.0/oa/upload/file", token, files={"file": (filename, content, content_type)}
        )
        return str(body["data"]["token"])

    # -- ZCC call consent and ZNS --------------------------------------------------------------

    async def request_consent(self, token: str, phone: str, call_type: str, reason_code: int) -> dict[str, Any]:
        body = await self._call(
            "POST",
            f"{self._openapi}/v2.0/oa/call/requestconsent",
            token,
            json={"phone": phone, "call_type": call_type, "reason_code": reason_code},
        )
        return body.get("data") or {}

    async def send_zns(
        self, token: str, phone: str, template_id: str, template_data: dict[str, Any], tracking_id: str
    ) -> dict[str, Any]:
        """Send one ZNS template message by phone; returns `data` ({msg_id, sent_time, quota})."""
        body = await self._call(
            "POST",
            f"{self._business}/message/template",
            token,
            json={
                "phone": phone,
                "template_id": template_id,
                "template_data": template_data,
                "tracking_id": tracking_id,
            },
        )
        return body.get("data") or {}

    async def zns_templates(self, token: str, offset: int = 0, limit: int = 100) -> tuple[list[dict[str, Any]], int]:
        """One page of the OA's ZNS templates (reference section 10): `data[] {templateId, templateName,
        createdTime, status, templateQuality}` and `metadata.total`; `limit` is at most 100."""
        body = await self._call(
            "GET", f"{self._business}/template/all", token, params={"offset": offset, "limit": min(limit, 100)}
        )
        data = body.get("data") or []
        rows = [row for row in data if isinstance(row, dict)] if isinstance(data, list) else []
        total = (body.get("metadata") or {}).get("total")
        return rows, int(total) if isinstance(total, int | str) and str(total).isdigit() else len(rows)

    async def zns_template(self, token: str, template_id: str) -> dict[str, Any]:
        """One ZNS template with its `listParams` (reference section 10, `template/info/v2`)."""
        body = await self._call("GET", f"{self._business}/template/info/v2", token, params={"template_id": template_id})
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    # -- the OA itself (reference section 8) ----------------------------------------------------

    async def oa_info(self, token: str) -> dict[str, Any]:
        """GET /v2.0/oa/getoa: name, avatar, num_follower, is_verified, package_name, ..."""
        body = await self._call("GET", f"{self._openapi}/v2.0/oa/getoa", token)
        return body.get("data") or {}

    async def oa_quotas(self, token: str) -> list[dict[str, Any]]:
        """The OA's package allowances: [{product_type, quota_type, valid_through, total, remain}]."""
        body = await self._call("POST", f"{self._openapi}/v3.0/oa/quota/message", token, json={"quota_owner": "OA"})
        data = body.get("data") or []
        return [q for q in data if isinstance(q, dict)] if isinstance(data, list) else []

    # -- OAuth v4 with PKCE (reference section 7) -----------------------------------------------

    def permission_url(self, app_id: str, redirect_uri: str, code_challenge: str, state: str) -> str:
        """Zalo's permission page, with exactly the four parameters of Zalo's SDK (S256 is implicit)."""
        query = httpx.QueryParams(
            {"app_id": app_id, "redirect_uri": redirect_uri, "code_challenge": code_challenge, "state": state}
        )
        return f"{self._oauth}/v4/oa/permission?{query}"

    async def exchange_code(self, app_id: str, app_secret: str, code: str, code_verifier: str) -> TokenPair:
        """The authorization code for the OA's tokens; any answer without tokens is a ZaloError."""
        return await self._token_call(
            app_secret,
            {"code": code, "app_id": app_id, "grant_type": "authorization_code", "code_verifier": code_verifier},
        )

    # -- tokens (POST https://oauth.zaloapp.com/v4/oa/access_token) -----------------------------

    async def refresh(self, app_id: str, app_secret: str, refresh_token: str) -> TokenPair:
        return await self._token_call(
            app_secret, {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}
        )

    async def _token_call(self, app_secret: str, form: dict[str, str]) -> TokenPair:
        """Tokens come at the top level (no `data`); a failure names itself in error_name/error_reason."""
        body = await self._json(
            "POST", f"{self._oauth}/v4/oa/access_token", headers={"secret_key": app_secret}, data=form
        )
        if not isinstance(body, dict):
            body = {}
        try:
            return TokenPair(
                access_token=str(body["access_token"]),
                refresh_token=str(body["refresh_token"]),
                expires_in_s=int(body.get("expires_in") or 90000),  # a string, "90000"
            )
        except (KeyError, ValueError, TypeError):
            code = body.get("error")
            words = [
                str(body[k]) for k in ("error_name", "error_reason", "error_description", "message") if body.get(k)
            ]
            detail = "; ".join(dict.fromkeys(words))
            try:
                number = int(code) if code not in (None, "", 0, "0") else -1
            except (TypeError, ValueError):
                number = -1
            if number == -1:  # no error code either (reference section 7: treat as "reconnect")
                detail = f"answered without tokens ({sorted(body)})" + (f": {detail}" if detail else "")
            raise ZaloError(number, detail) from None

    # -- followers and tags (reference section 9) --------------------------------------------------

    async def user_list(
        self,
        token: str,
        offset: int,
        count: int,
        is_follower: bool | None = None,
        last_interaction_period: str | None = None,
        tag_name: str | None = None,
    ) -> dict[str, Any]:
        """GET /v3.0/oa/user/getlist: one page of the OA's users, `{total, count, offset, users: [{user_id}]}`.

        `offset` is 0-based (at most 9951), `count` at most 50; `last_interaction_period` is TODAY,
        YESTERDAY, L7D, L30D or YYYY_MM_DD:YYYY_MM_DD. Only `user_id` of each user is relied on."""
        query: dict[str, Any] = {"offset": offset, "count": count}
        if is_follower is not None:
            query["is_follower"] = is_follower
        if last_interaction_period:
            query["last_interaction_period"] = last_interaction_period
        if tag_name:
            query["tag_name"] = tag_name
        body = await self._call(
            "GET", f"{self._openapi}/v3.0/oa/user/getlist", token, params={"data": json.dumps(query)}
        )
        data = body.get("data") or {}
        return data if isinstance(data, dict) else {}

    async def oa_tags(self, token: str) -> list[str]:
        """GET /v2.0/oa/tag/gettagsofoa: the OA's tag names (a flat list, or objects with `tag_name`:
        sources disagree, both are read)."""
        body = await self._call("GET", f"{self._openapi}/v2.0/oa/tag/gettagsofoa", token)
        data = body.get("data") or []
        names = []
        for item in data if isinstance(data, list) else []:
            name = item.get("tag_name") or item.get("name") if isinstance(item, dict) else item
            if name:
                names.append(str(name))
        return names

    async def tag_user(self, token: str, user_id: str, tag_name: str) -> None:
        """POST /v2.0/oa/tag/tagfollower (creates a missing tag, by one reading of the sources)."""
        await self._call(
            "POST", f"{self._openapi}/v2.0/oa/tag/tagfollower", token, json={"user_id": user_id, "tag_name": tag_name}
        )

    async def untag_user(self, token: str, user_id: str, tag_name: str) -> None:
        """POST /v2.0/oa/tag/rmfollowerfromtag."""
        await self._call(
            "POST",
            f"{self._openapi}/v2.0/oa/tag/rmfollowerfromtag",
            token,
            json={"user_id": user_id, "tag_name": tag_name},
        )

    # -- ZNS journeys (reference section 11 "Journey") -------------------------------------------

    async def journey_token(self, token: str, phone: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST {business}/journey/get-token {"phone": "84…"}: a journey token for one phone. Zalo answers at the
        top level: {error, message, token, journey_id}. `extra` carries fields whose names are uncertain (the
        token type's, hub.journeys)."""
        return await self._call(
            "POST", f"{self._business}/journey/get-token", token, json={"phone": phone, **(extra or {})}
        )

    async def check_journey_token(self, token: str, journey_token: str) -> dict[str, Any]:
        """GET {business}/journey/check-token with the `journey_token` header: `data {appId, oaId, createdAt,
        expiredAt}` (epoch ms strings; `tokenType` by one source)."""
        body = await self._call(
            "GET", f"{self._business}/journey/check-token", token, headers={"journey_token": journey_token}
        )
        data = body.get("data")
        return data if isinstance(data, dict) else {}

    async def send_zns_in_journey(
        self,
        token: str,
        journey_token: str,
        phone: str,
        template_id: str,
        template_data: dict[str, Any],
        tracking_id: str,
    ) -> dict[str, Any]:
        """A ZNS template sent within a journey: the ordinary send with the `journey_token` header; returns
        `data` ({msg_id, sent_time, quota})."""
        body = await self._call(
            "POST",
            f"{self._business}/message/template",
            token,
            headers={"journey_token": journey_token},
            json={
                "phone": phone,
                "template_id": template_id,
                "template_data": template_data,
                "tracking_id": tracking_id,
            },
        )
        return body.get("data") or {}


# Journey token errors (reference section 11), as an operator can act on them.
REASONS.update(
    {
        -148: (
            "Zalo does not know this journey token; create a new journey for the customer.",
            "Zalo không tìm thấy token hành trình này; hãy tạo hành trình mới cho khách hàng.",
        ),
        -149: (
            "Zalo says this journey token is invalid; create a new journey for the customer.",
            "Zalo báo token hành trình không hợp lệ; hãy tạo hành trình mới cho khách hàng.",
        ),
        -1491: (
            "This template cannot be sent with this type of journey token; pick a template of the journey's type.",
            "Mẫu tin này không dùng được với loại token hành trình này; hãy chọn mẫu đúng loại hành trình.",
        ),
        -150: (
            "The journey token has expired; create a new journey to send more messages.",
            "Token hành trình đã hết hạn; hãy tạo hành trình mới để gửi thêm tin.",
        ),
    }
)
