"""Zalo chat as consoles see it: threads (conversations) and messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator


class Customer(BaseModel):
    name: str | None = None
    avatar: str | None = None
    phone: str | None = None
    address: str | None = None
    info: dict[str, Any] | None = None  # user_submit_info as received
    phone_e164: str | None = None  # the phone in E.164: the customer page's key (hub.customers)
    phone_source: str | None = None  # "agent" when a member typed it (hub.customers); else the customer's


class ReplyWindowView(BaseModel):
    state: Literal["free", "charged", "blocked"]
    until: datetime | None = None


class LastMessage(BaseModel):
    id: str
    direction: Literal["in", "out"]
    kind: str
    text: str | None = None
    at: datetime


class ThreadSummary(BaseModel):
    id: str
    company_id: str
    oa_link_id: str
    oa_id: str
    user_id: str | None = None
    anonymous: bool = False
    customer: Customer
    follower: bool | None = None
    tags: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    status: Literal["open", "resolved"] = "open"
    assignee_id: str | None = None
    unread: int = 0
    last_message: LastMessage | None = None
    last_user_interaction_at: datetime | None = None
    reply_window: ReplyWindowView
    version: int
    created_at: datetime
    department_id: str | None = None
    queued_at: datetime | None = None  # waiting for an available agent (automatic assignment)
    resolved_at: datetime | None = None


class ThreadList(BaseModel):
    threads: list[ThreadSummary]


class Failure(BaseModel):
    code: int
    reason: str
    reason_vi: str
    zalo_message: str = ""


class Message(BaseModel):
    id: str
    thread_id: str
    direction: Literal["in", "out"]
    kind: str  # text, image, file, sticker, gif, link, audio, video, location, business_card, list, request_user_info
    text: str | None = None
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    quote_msg_id: str | None = None
    zalo_msg_id: str | None = None
    client_msg_id: str | None = None
    status: str  # received | sending | sent | delivered | seen | failed
    failure: Failure | None = None
    quota_type: str | None = None
    sent_by_member_id: str | None = None
    sent_via: str  # zalo_user | hub | zalo_oa (sent from Zalo's own tools)
    reactions: dict[str, str] = Field(default_factory=dict)
    at: datetime
    delivered_at: datetime | None = None  # Zalo's receipts, as message.updated tells them
    seen_at: datetime | None = None


class MessagePage(BaseModel):
    messages: list[Message]
    next_before: str | None = None  # pass as ?before= for older messages


class OutgoingAttachment(BaseModel):
    type: Literal["image", "file", "sticker"]
    url: str | None = None
    attachment_id: str | None = None  # image: from /upload/image
    token: str | None = None  # file: from /upload/file
    sticker_id: str | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _has_source(self) -> OutgoingAttachment:
        needed = {"image": self.url or self.attachment_id, "file": self.token, "sticker": self.sticker_id}
        if not needed[self.type]:
            raise ValueError(
                {
                    "image": "an image needs url or attachment_id",
                    "file": "a file needs token",
                    "sticker": "a sticker needs sticker_id",
                }[self.type]
            )
        return self


class SendMessage(BaseModel):
    client_msg_id: str = Field(min_length=1, max_length=100)
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    attachment: OutgoingAttachment | None = None
    quote_msg_id: str | None = None

    @model_validator(mode="after")
    def _one_body(self) -> SendMessage:
        if self.text is None and self.attachment is None:
            raise ValueError("send text or an attachment")
        if self.text is not None and self.attachment is not None and self.attachment.type != "image":
            raise ValueError("only an image may carry text")
        return self


class RequestInfo(BaseModel):
    client_msg_id: str | None = Field(default=None, max_length=100)
    title: str | None = Field(default=None, max_length=100)
    subtitle: str | None = Field(default=None, max_length=500)
    image_url: str | None = None


class Label(BaseModel):
    id: str
    name: str
    color: str | None = None


class LabelList(BaseModel):
    labels: list[Label]


class LabelCreate(BaseModel):
    name: str = Field(min_length=1, max_length=60)
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class LabelUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=60)
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class ThreadLabel(BaseModel):
    label_id: str


class AssignThread(BaseModel):
    member_id: str | None  # null: back to the queue (owner only)
