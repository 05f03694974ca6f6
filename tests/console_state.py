"""What a console holds, read over REST, and the reducer that keeps it current from live events.

The convergence tests (tests/test_convergence.py) read this state before an action, apply the events
the console received to it, and compare the result with a fresh read: the events must say everything
that changed for that console, no more and no less (the idea of Zulip's `verify_action`).

The state is plain JSON, one entry per thing a console shows:

- company: GET /api/company
- labels: GET /api/labels, by id
- threads: GET /api/threads (every status, as the role sees them), by id
- messages: GET /api/threads/{id}/messages, by thread then message id, for the threads whose history
  the console holds (see `apply`)
- members: GET /api/members, by id (owners and managers; None for a user)
- extensions: GET /api/extensions, number -> state, for the extensions whose state the role is told
- calls: GET /api/calls (history, live ones included), by id; live_calls: GET /api/calls/live, by id
- consents: GET /api/consents, by id
- zns: GET /api/zns/messages, by id (owners and managers; None for a user)
- wallboard_tokens: GET /api/wallboard-tokens, by id (owners and managers; None for a user)
- missed_calls: GET /api/missed-calls, by id (a user: the ones that rang them or are assigned to them)
- me: the member id the token speaks for (what decides whether a user still holds a missed call)
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx

SUPERVISORS = ("owner", "manager")
LIVE_CALL_STATES = ("queued", "ringing", "answered", "held")
THREAD_LIMIT = 200
MESSAGE_LIMIT = 100

State = dict[str, Any]


# -- reading the state over REST --------------------------------------------------------------------


async def fetch(http: httpx.AsyncClient, url: str, token: str, role: str) -> State:
    """Everything a console of `role` holds, as a fresh start would read it."""
    headers = {"Authorization": f"Bearer {token}"}
    supervisor = role in SUPERVISORS

    async def get(path: str, **params: Any) -> Any:
        response = await http.get(f"{url}{path}", headers=headers, params=params)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return response.json()

    async def nothing() -> None:
        return None

    (company, labels, threads, members, extensions, calls, live, consents, zns, tokens, missed) = await asyncio.gather(
        get("/api/company"),
        get("/api/labels"),
        get("/api/threads", limit=THREAD_LIMIT),
        get("/api/members") if supervisor else nothing(),
        get("/api/extensions"),
        get("/api/calls", limit=500),
        get("/api/calls/live"),
        get("/api/consents"),
        get("/api/zns/messages") if supervisor else nothing(),
        get("/api/wallboard-tokens") if supervisor else nothing(),
        get("/api/missed-calls", limit=500),
    )
    assert len(threads["threads"]) < THREAD_LIMIT, "more threads than one page: raise THREAD_LIMIT"
    pages = await asyncio.gather(
        *[get(f"/api/threads/{t['id']}/messages", limit=MESSAGE_LIMIT) for t in threads["threads"]]
    )
    for page in pages:
        assert page["next_before"] is None, "more messages than one page: raise MESSAGE_LIMIT"
    return {
        "company": company,
        "labels": by_id(labels["labels"]),
        "threads": by_id(threads["threads"]),
        "messages": {t["id"]: by_id(page["messages"]) for t, page in zip(threads["threads"], pages, strict=True)},
        "members": by_id(members["members"]) if members is not None else None,
        "extensions": {e["number"]: e["state"] for e in extensions["extensions"] if e["state"] is not None},
        "calls": by_id(without_customer_link(calls["calls"])),
        "live_calls": by_id(without_customer_link(live["calls"])),
        "consents": by_id(consents["consents"]),
        "zns": by_id(zns["messages"]) if zns is not None else None,
        "wallboard_tokens": by_id(tokens["wallboard_tokens"]) if tokens is not None else None,
        "missed_calls": by_id(without_customer_link(missed["missed_calls"])),
        "me": json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))["sub"],
        "supervisor": supervisor,
    }


def by_id(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["id"]: item for item in items}


def without_customer_link(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A call read over REST names its customer's thread (`thread_id`) when the reader may see it: a
    link worked out per reader at read time, which call events do not carry (the console finds it from
    the threads it holds, or asks GET /api/threads?phone=). Not part of what events must keep current."""
    return [{k: v for k, v in call.items() if k != "thread_id"} for call in calls]


# -- the reducer ------------------------------------------------------------------------------------


def thread_id_of(data: dict[str, Any]) -> str:
    """The thread an event is about: every thread event carries `thread_id` (schemas/events.py)."""
    return data["thread_id"]


# thread.assigned is the summary plus who moved it, and every thread event names its thread: neither is
# part of the summary GET /api/threads gives.
EVENT_FIELDS = ("thread_id", "from_member_id", "to_member_id", "by_member_id", "auto")


def reduce(state: State, envelopes: list[dict[str, Any]]) -> State:
    """The state after the events, applied in seq order (a seq already applied is skipped)."""
    state = copy.deepcopy(state)
    applied: set[int] = set()
    for envelope in sorted(envelopes, key=lambda e: e["seq"]):
        if envelope["seq"] not in applied:
            applied.add(envelope["seq"])
            apply(state, envelope)
    return state


def apply(state: State, envelope: dict[str, Any]) -> None:
    """One event. Threads and calls carry a `version`: a view older than the one held is ignored (two
    changes of one thread may publish in the other order), as the web console does."""
    kind, data = envelope["type"], envelope["data"]
    if kind in ("thread.created", "thread.updated", "thread.assigned"):
        thread_id = thread_id_of(data)
        summary = {k: v for k, v in data.items() if k not in EVENT_FIELDS}
        known = state["threads"].get(thread_id)
        if known is None or known["version"] <= summary["version"]:
            state["threads"][thread_id] = summary
        if kind == "thread.created":
            state["messages"].setdefault(thread_id, {})  # a new thread: its whole history arrives as events
        # A thread that reaches this console by assignment (or an update) comes without its history: a
        # console reads the messages when it opens the thread, so they are not the events' to say.
    elif kind == "thread.removed":
        thread_id = thread_id_of(data)
        state["threads"].pop(thread_id, None)
        state["messages"].pop(thread_id, None)
    elif kind == "reply_window.changed":
        thread = state["threads"].get(thread_id_of(data))
        if thread is not None:
            thread["reply_window"] = {"state": data["state"], "until": data["until"]}
    elif kind == "message.created":
        messages = state["messages"].get(data["thread_id"])
        if messages is not None:
            messages[data["id"]] = data
    elif kind == "message.updated":
        message = state["messages"].get(data["thread_id"], {}).get(data["message_id"])
        if message is not None:
            message.update({k: v for k, v in data.items() if k not in ("message_id", "thread_id")})
    elif kind in ("label.created", "label.updated"):
        state["labels"][data["id"]] = data
    elif kind in ("department.created", "department.updated", "department.removed", "session.revoked"):
        pass  # departments are not part of this state; session.revoked closes the console
    elif kind == "label.removed":
        state["labels"].pop(data["id"], None)
    elif kind == "company.updated":
        state["company"] = data
    elif kind in ("member.created", "member.updated"):
        if state["members"] is None and kind == "member.updated":
            # A user is told of their own record only: an extension no longer theirs has no state for them
            # (the one they were given comes as extension.state).
            state["extensions"] = {n: s for n, s in state["extensions"].items() if n == data.get("extension")}
        if state["members"] is not None:
            state["members"][data["id"]] = data
            if data.get("extension"):
                # A supervisor is told every extension's state as it moves (extension.state); one the
                # directory has just gained, and whose state no event has told, is idle.
                state["extensions"].setdefault(data["extension"], "idle")
    elif kind == "member.removed":
        if state["members"] is not None:
            state["members"].pop(data["id"], None)
    elif kind == "call.updated":
        # Calls are keyed by the record's `id` (the one REST lists them by; `call_id` is the PBX's).
        known = state["calls"].get(data["id"])
        if known is None or known["version"] <= data["version"]:
            state["calls"][data["id"]] = data
            if data["state"] in LIVE_CALL_STATES:
                state["live_calls"][data["id"]] = data
            else:
                state["live_calls"].pop(data["id"], None)
    elif kind == "call.missed":
        pass  # an alert to show; the call record itself changes by its call.updated (its follow-up by missed_call.updated)
    elif kind == "missed_call.updated":
        known = state["missed_calls"].get(data["id"])
        if known is None or known["version"] <= data["version"]:
            # a user holds the ones that rang them or are assigned to them: one assigned away leaves
            if state["supervisor"] or state["me"] in data["members"] or data["assignee_id"] == state["me"]:
                state["missed_calls"][data["id"]] = data
            else:
                state["missed_calls"].pop(data["id"], None)
    elif kind == "extension.state":
        state["extensions"][data["extension"]] = data["state"]
    elif kind == "consent.updated":
        state["consents"][data["id"]] = data
    elif kind == "zns.updated":
        if state["zns"] is not None:
            state["zns"][data["id"]] = data
    elif kind == "zns.template_updated":
        pass  # templates have no list over REST yet: nothing a console holds
    elif kind == "job.updated":
        pass  # jobs are shown from GET /api/jobs by the screen that started them: not part of this state
    elif kind == "wallboard.revoked":
        if state["wallboard_tokens"] is not None:
            state["wallboard_tokens"].pop(data["id"], None)
    elif kind == "wallboard.issued":
        if state["wallboard_tokens"] is not None:
            state["wallboard_tokens"][data["id"]] = data
    elif kind in ("hotline.created", "hotline.removed"):
        pass  # hotlines are not part of the state this reducer holds
    elif kind == "extension.created":
        if state["members"] is not None:  # a supervisor sees every extension's state; a free one is idle
            state["extensions"].setdefault(data["number"], "idle")
    elif kind == "extension.removed":
        if state["members"] is not None:
            state["extensions"].pop(data["number"], None)
            if data["state"] is not None:  # the PBX still reports it: listed as one the directory lacks
                state["extensions"][data["number"]] = data["state"]
    elif kind == "follower.updated":
        pass  # the followers screen is not part of the state this reducer holds (it reads its own page)
    elif kind in ("contact.created", "contact.updated", "contact.removed", "contacts.imported"):
        pass  # contacts are not part of the state this reducer holds (tests/test_contacts.py follows them)
    else:
        raise AssertionError(f"an event type the reducer does not know: {kind}")


# -- what must hold of any state ----------------------------------------------------------------------


def inconsistencies(state: State) -> list[tuple[str, Any, Any]]:
    """Rules a state must keep whatever the events: (path, what the rule expects, what is there). A field
    left stale on both paths (REST and event alike) converges, but breaks one of these."""
    found: list[tuple[str, Any, Any]] = []
    for thread_id, thread in state["threads"].items():
        where = f"threads.{thread_id}"
        if (thread["status"] == "resolved") != (thread["resolved_at"] is not None):
            found.append(
                (
                    f"{where}.resolved_at",
                    f"set exactly when resolved (status {thread['status']})",
                    thread["resolved_at"],
                )
            )
        if thread["queued_at"] is not None and (thread["assignee_id"] is not None or thread["status"] != "open"):
            found.append((f"{where}.queued_at", "only while open and unassigned", thread["queued_at"]))
        messages = state["messages"].get(thread_id)
        if messages and thread["last_message"] and thread["last_message"]["id"] not in messages:
            found.append((f"{where}.last_message.id", "one of the thread's messages", thread["last_message"]["id"]))
        for message_id, message in (messages or {}).items():
            if message["thread_id"] != thread_id:
                found.append((f"messages.{thread_id}.{message_id}.thread_id", thread_id, message["thread_id"]))
    for call_id, call in state["live_calls"].items():
        if call["state"] not in LIVE_CALL_STATES or state["calls"].get(call_id) != call:
            found.append((f"live_calls.{call_id}", "a live call, as the history has it", call["state"]))
    return found


# -- comparing --------------------------------------------------------------------------------------

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def instant(value: Any) -> Any:
    """A time written either way (`...Z` or `...+00:00`) is one instant: compare instants, not spellings."""
    if isinstance(value, str) and _ISO.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).isoformat()
    return value


def differences(expected: Any, got: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Where `got` (the reduced state) differs from `expected` (a fresh read): (path, expected, got)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        found = []
        for key in sorted(set(expected) | set(got), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in got:
                found.append((where, expected[key], "<missing>"))
            elif key not in expected:
                found.append((where, "<missing>", got[key]))
            else:
                found.extend(differences(expected[key], got[key], where))
        return found
    if isinstance(expected, list) and isinstance(got, list) and len(expected) == len(got):
        return [
            d for i, (e, g) in enumerate(zip(expected, got, strict=True)) for d in differences(e, g, f"{path}[{i}]")
        ]
    return [] if instant(expected) == instant(got) else [(path, expected, got)]


def compare(fresh: State, reduced: State) -> list[tuple[str, Any, Any]]:
    """Differences between a fresh read and the reduced state. Messages are compared for the threads whose
    history the reduced state holds (a thread gained by assignment is read when opened)."""
    fresh = {**fresh, "messages": {t: m for t, m in fresh["messages"].items() if t in reduced["messages"]}}
    return differences(fresh, reduced)
