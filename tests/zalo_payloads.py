"""Real-shaped Zalo webhook payloads (reference/zalo-oa.md section 2), signed as Zalo signs them."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx


def zalo_id() -> str:
    """Zalo ids are strings of numbers larger than 2^53."""
    return str(random.randint(2**60, 2**63 - 1))


def now_ms(offset_s: float = 0) -> str:
    return str(int((time.time() + offset_s) * 1000))


def sign(app_id: str, raw: bytes, timestamp: str, oa_secret_key: str) -> str:
    return "mac=" + hashlib.sha256(app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()).hexdigest()


@dataclass
class Oa:
    """One linked Official Account as Zalo sees it: ids, keys, and the hub's link id."""

    app_id: str
    oa_id: str
    oa_secret_key: str
    app_secret: str
    link_id: str = ""
    clock_offset_s: float = 0.0  # tests that move the hub's clock move Zalo's timestamps too

    @classmethod
    def new(cls) -> Oa:
        return cls(
            app_id=zalo_id(), oa_id=zalo_id(), oa_secret_key=secrets.token_hex(10), app_secret=secrets.token_hex(10)
        )

    # -- payloads ---------------------------------------------------------------------------------

    def ts(self) -> str:
        return now_ms(self.clock_offset_s)

    def user_message(
        self,
        user_id: str,
        kind: str = "text",
        text: str | None = "Xin chào shop",
        attachments: list[dict[str, Any]] | None = None,
        msg_id: str | None = None,
        **message: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"msg_id": msg_id or secrets.token_hex(16)}
        if text is not None:
            body["text"] = text
        if attachments is not None:
            body["attachments"] = attachments
        body.update(message)
        return {
            "app_id": self.app_id,
            "user_id_by_app": zalo_id(),
            "event_name": f"user_send_{kind}",
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "message": body,
            "timestamp": self.ts(),
        }

    def oa_echo(
        self,
        user_id: str,
        msg_id: str,
        text: str = "Dạ shop chào anh/chị",
        admin_id: str | None = None,
        kind: str = "text",
    ) -> dict[str, Any]:
        sender: dict[str, Any] = {"id": self.oa_id}
        if admin_id:
            sender["admin_id"] = admin_id
        return {
            "app_id": self.app_id,
            "event_name": f"oa_send_{kind}",
            "sender": sender,
            "recipient": {"id": user_id},
            "message": {"msg_id": msg_id, "text": text},
            "timestamp": self.ts(),
        }

    def received(self, user_id: str, msg_id: str) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_received_message",
            "sender": {"id": self.oa_id},
            "recipient": {"id": user_id},
            "message": {"msg_id": msg_id},
            "timestamp": self.ts(),
        }

    def seen(self, user_id: str, msg_ids: list[str]) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_seen_message",
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "message": {"msg_ids": msg_ids},
            "timestamp": self.ts(),
        }

    def reaction(self, user_id: str, msg_id: str, icon: str = "/-heart") -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_reacted_message",
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "message": {"msg_id": msg_id, "react_icon": icon},
            "timestamp": self.ts(),
        }

    def chat_now(self, user_id: str) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_click_chatnow",
            "oa_id": self.oa_id,
            "user_id": user_id,
            "user_id_by_app": zalo_id(),
            "timestamp": self.ts(),
        }

    def follow(self, user_id: str, follow: bool = True) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "follow" if follow else "unfollow",
            "oa_id": self.oa_id,
            "follower": {"id": user_id},
            "source": "oa_profile",
            "user_id_by_app": zalo_id(),
            "timestamp": self.ts(),
        }

    def submit_info(self, user_id: str, info: dict[str, Any]) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_submit_info",
            "sender": {"id": user_id},
            "recipient": {"id": self.oa_id},
            "info": info,
            "timestamp": self.ts(),
        }

    def tag(self, event_name: str, name: str, user_ids: list[str]) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": event_name,
            "oa_id": self.oa_id,
            "tag": {"name": name, "user_ids": user_ids},
            "timestamp": self.ts(),
        }

    def anonymous(self, anonymous_id: str, conversation_id: str, text: str = "Cho mình hỏi giá") -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "anonymous_send_text",
            "sender": {"id": anonymous_id},
            "recipient": {"id": self.oa_id},
            "message": {"msg_id": secrets.token_hex(16), "text": text, "conversation_id": conversation_id},
            "timestamp": self.ts(),
        }

    def consent_sent(self, phone: str, request_type: str = "SENT", created_ms: str | None = None) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "oa_send_consent",
            "oa_id": self.oa_id,
            "phone": phone,
            "request_type": request_type,
            "create_time": created_ms or self.ts(),
            "expired_time": "0",
            "timestamp": self.ts(),
        }

    def consent_reply(self, phone: str, answer: str = "ALLOW", expired_time: str | None = None) -> dict[str, Any]:
        """`expired_time`: epoch ms, "0" for no limit, None to leave it out (the hub then counts 30 days)."""
        payload = {
            "app_id": self.app_id,
            "event_name": "user_reply_consent",
            "oa_id": self.oa_id,
            "phone": phone,
            "user_consent": answer,
            "confirmed_time": self.ts(),
            "timestamp": self.ts(),
        }
        if expired_time is not None:
            payload["expired_time"] = expired_time
        return payload

    def zns_delivered(self, phone: str, msg_id: str, tracking_id: str, delivery_ms: str) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_received_message",
            "sender": {"id": self.oa_id},
            "recipient": {"id": phone},
            "message": {"msg_id": msg_id, "tracking_id": tracking_id, "delivery_time": delivery_ms},
            "timestamp": delivery_ms,
        }

    def zns_feedback(self, phone: str, msg_id: str, rate: int, note: str, feedbacks: list[str]) -> dict[str, Any]:
        return {
            "app_id": self.app_id,
            "event_name": "user_feedback",
            "sender": {"id": phone},
            "recipient": {"id": self.oa_id},
            "message": {
                "msg_id": msg_id,
                "rate": rate,
                "note": note,
                "feedbacks": feedbacks,
                "submit_time": self.ts(),
                "tracking_id": "",
            },
            "timestamp": self.ts(),
        }

    # -- delivery ---------------------------------------------------------------------------------

    def encode(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        raw = json.dumps(payload, ensure_ascii=False).encode()
        return raw, {
            "X-ZEvent-Signature": sign(self.app_id, raw, payload["timestamp"], self.oa_secret_key),
            "Content-Type": "application/json",
        }

    async def deliver(self, http: httpx.AsyncClient, hub_url: str, payload: dict[str, Any]) -> httpx.Response:
        raw, headers = self.encode(payload)
        return await http.post(f"{hub_url}/webhooks/zalo", content=raw, headers=headers)

    # -- ZNS journeys (reference section 11: the fields are a guess, as the hub reads them) ----------

    def journey_event(self, event_name: str, journey_id: str) -> dict[str, Any]:
        """event_journey_acknowledged (charged) or event_journey_time_out (ended)."""
        return {
            "app_id": self.app_id,
            "event_name": event_name,
            "oa_id": self.oa_id,
            "journey_id": journey_id,
            "timestamp": self.ts(),
        }


# Attachments of each user_send_* kind, shaped as the reference describes.
ATTACHMENTS: dict[str, list[dict[str, Any]]] = {
    "image": [
        {"type": "image", "payload": {"url": "https://photo.zdn.vn/a.jpg", "thumbnail": "https://photo.zdn.vn/t.jpg"}}
    ],
    "file": [
        {
            "type": "file",
            "payload": {
                "url": "https://f.zdn.vn/b.pdf",
                "name": "báo giá.pdf",
                "size": "20480",
                "checksum": "abc123",
                "type": "pdf",
            },
        }
    ],
    "sticker": [
        {"type": "sticker", "payload": {"url": "https://zalo-api.zadn.vn/s.png", "id": "bfe458bf64fa8da4d4eb"}}
    ],
    "location": [{"type": "location", "payload": {"coordinates": {"latitude": "10.7769", "longitude": "106.7009"}}}],
    "link": [
        {
            "type": "link",
            "payload": {"url": "https://shop.vn/p/1", "thumbnail": "https://shop.vn/t.jpg", "description": "Áo thun"},
        }
    ],
    "audio": [{"type": "audio", "payload": {"url": "https://voice.zdn.vn/v.aac"}}],
    "video": [
        {
            "type": "video",
            "payload": {
                "url": "https://video.zdn.vn/v.mp4",
                "thumbnail": "https://video.zdn.vn/t.jpg",
                "description": "clip",
            },
        }
    ],
    "gif": [{"type": "gif", "payload": {"url": "https://gif.zdn.vn/g.gif", "thumbnail": "https://gif.zdn.vn/t.gif"}}],
    "business_card": [
        {
            "type": "link",
            "payload": {
                "url": "https://zalo.me/0912345678",
                "thumbnail": "",
                "description": json.dumps({"phone": "0912345678", "qr": ""}),
            },
        }
    ],
}
