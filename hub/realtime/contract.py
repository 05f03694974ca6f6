"""The realtime contract as an AsyncAPI 3.0 document (/api/asyncapi.json), generated from the event
catalogue (schemas/events.py): how to connect, every event's name, payload and receivers, what a
console sends, and why a connection is refused."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from hub.realtime.connections import REFUSALS
from schemas import events

# Who receives each event (hub.rulebook computes it when the event is published).
RECEIVERS: dict[str, str] = {
    "thread.created": "the owners and the thread's assignee",
    "thread.updated": "the owners and the thread's assignee",
    "thread.assigned": "the owners, the new and the previous assignee; the new assignee receives the thread's "
    "events again if a move had taken it from them",
    "thread.removed": "the member the thread was taken from; nothing more of the thread reaches them",
    "reply_window.changed": "the owners and the thread's assignee",
    "message.created": "the owners and the thread's assignee",
    "message.updated": "the owners and the thread's assignee",
    "label.created": "every member",
    "label.updated": "every member",
    "label.removed": "every member",
    "department.created": "every member",
    "department.updated": "every member",
    "department.removed": "every member",
    "session.revoked": "the member whose account's password changed; their consoles are then disconnected and "
    "refused until they connect with a token issued since",
    "member.created": "owners and managers",
    "member.updated": "owners, managers and the member themself",
    "member.removed": "owners and managers; the removed member's consoles are then disconnected",
    "company.updated": "every member",
    "oa_link.created": "owners and managers",
    "oa_link.updated": "owners and managers",
    "wallboard.issued": "owners and managers",
    "hotline.created": "every member",
    "hotline.removed": "every member",
    "extension.created": "every member",
    "extension.removed": "every member",
    "wallboard.revoked": "owners and managers; wall displays using the token are then disconnected",
    "call.updated": "owners, managers and the members the call rang; wall displays a masked copy (outside "
    "numbers masked, no recordings)",
    "call.missed": "owners, managers and the members the call rang",
    "missed_call.updated": "owners, managers, the members the call rang, the member it is assigned to and, when it "
    "is assigned to someone else, the member it was assigned to",
    "extension.state": "owners, managers, the extension's member (also when it is given to them), and wall displays",
    "consent.updated": "owners, managers and the member who requested it",
    "zns.updated": "owners and managers",
    "zns.template_updated": "owners and managers",
    "job.updated": "owners, managers and the member who started the job",
    "seq.skipped": "nobody (a seq a concurrent attempt held; consoles never receive it)",
    "follower.updated": "owners and managers",
    "presence.updated": "owners and managers",
    "typing": "the other consoles that may see the thread",
    "thread.viewing": "the other consoles that may see the thread",
    "wallboard.counters": "wall displays",
    "wallboard.snapshot": "wall displays",
    "sync.done": "the console that connected with last_seq (or without), once its replay is complete",
    "sync.reset": "the console whose last_seq is older than the retained log: refetch over REST",
}
RECEIVERS.update(
    {
        "contact.created": "every member",
        "contact.updated": "every member",
        "contact.removed": "every member",
        "contacts.imported": "every member",
    }
)

_REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template=_REF)
    for name, sub in schema.pop("$defs", {}).items():
        schemas[name] = sub
    schemas[model.__name__] = schema
    return {"$ref": _REF.format(model=model.__name__)}


def _stored_payload(type_: str, model: type[BaseModel], schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["seq", "type", "company_id", "at", "data"],
        "additionalProperties": False,
        "properties": {
            "seq": {"type": "integer", "minimum": 1, "description": "per company; send the last one as last_seq"},
            "type": {"const": type_},
            "company_id": {"type": "string"},
            "at": {"type": "string", "format": "date-time"},
            "data": _schema(model, schemas),
        },
    }


def _operation_id(action: str, name: str) -> str:
    return action + "".join(part.capitalize() for part in name.replace("_", ".").split("."))


def asyncapi(title: str, version: str) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    channel_messages: dict[str, Any] = {}

    def add(name: str, action: str, payload: dict[str, Any], summary: str, description: str) -> None:
        key = name if action == "receive" else f"{name}.sent"
        messages[key] = {
            "name": name,
            "title": name,
            "summary": summary,
            "description": description,
            "contentType": "application/json",
            "payload": payload,
        }
        channel_messages[key] = {"$ref": f"#/components/messages/{key}"}
        operations[_operation_id(action, key)] = {
            "action": action,
            "channel": {"$ref": "#/channels/console"},
            "summary": summary,
            "description": description,
            "messages": [{"$ref": f"#/channels/console/messages/{key}"}],
        }

    for type_, model in events.STORED.items():
        add(
            type_,
            "receive",
            _stored_payload(type_, model, schemas),
            (model.__doc__ or type_).strip().splitlines()[0],
            f"Stored and sequenced; replayed after last_seq on reconnect. Received by {RECEIVERS[type_]}.",
        )
    for name, model in events.EPHEMERAL.items():
        add(
            name,
            "receive",
            _schema(model, schemas),
            (model.__doc__ or name).strip().splitlines()[0],
            f"Ephemeral: never stored, never replayed. Received by {RECEIVERS[name]}.",
        )
    for name, model in events.SENT.items():
        add(
            name,
            "send",
            _schema(model, schemas),
            f"A console sends {name}",
            'Sent with an acknowledgement: the answer is {"ok": true|false, ...}.',
        )
    refusals = "; ".join(f"`{code}`: {why}" for code, why in REFUSALS.items())
    add(
        "connect",
        "send",
        _schema(events.ConnectAuth, schemas),
        "Connect with auth {token, last_seq, status}",
        "The Socket.IO CONNECT packet's auth object. With last_seq the console first receives every entitled "
        "event after it, then sync.done (or sync.reset); live events follow.",
    )
    add(
        "connect_error",
        "receive",
        _schema(events.ConnectRefused, schemas),
        "Why the connection was refused",
        f"data.code: {refusals}. Only `starting` is worth retrying as it is.",
    )
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The hub's realtime channel for agent consoles and wall displays: Socket.IO (protocol 5, "
            "Engine.IO 4) on /socket.io/, JSON payloads. Every stored event is numbered per company "
            "(seq); a console reconnecting with auth.last_seq receives what it missed, in order, "
            "then sync.done. Each event reaches only the members the rules entitle.",
        },
        "servers": {
            "hub": {
                "host": "localhost:8080",
                "protocol": "ws",
                "pathname": "/socket.io/",
                "description": "The hub itself (HUB_PORT); wss behind TLS.",
                "security": [{"$ref": "#/components/securitySchemes/token"}],
            },
        },
        "defaultContentType": "application/json",
        "channels": {
            "console": {
                "address": "/",
                "title": "The Socket.IO default namespace",
                "description": "Every event a console or wall display receives or sends.",
                "messages": channel_messages,
            },
        },
        "operations": operations,
        "components": {
            "schemas": schemas,
            "messages": messages,
            "securitySchemes": {
                "token": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Sent as auth.token in the Socket.IO CONNECT packet: a member's token "
                    "(POST /api/auth/login) or a wallboard token.",
                },
            },
        },
    }
