"""The realtime contract: /api/asyncapi.json passes the official AsyncAPI parser, and it names every event
the hub publishes or emits (an event type without a model in schemas/events.py fails here)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from hub.realtime.contract import RECEIVERS
from schemas import events
from tests.conftest import Company

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = ROOT / "tests" / "contract"


def _strings(node: ast.AST | None) -> set[str]:
    """The string constants an expression may evaluate to (`"a" if x else "b"` gives both)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _strings(node.body) | _strings(node.orelse)
    return set()


def _names_in_code() -> set[str]:
    """Every event name where the hub publishes or emits one: publish(company, name, data, audience),
    (name, data, audience) items for publish_many, sio.emit(name, ...), an announced ephemeral event,
    and the placeholder's name."""
    found: set[str] = set()
    for path in (ROOT / "hub").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                name, args = node.func.attr, node.args
                if name in ("publish", "_publish") and len(args) >= 2:
                    found |= _strings(args[1])
                elif name == "emit" and args:
                    found |= _strings(args[0])
                elif name == "_announce" and len(args) >= 3:
                    found |= _strings(args[2])
            elif isinstance(node, ast.Tuple) and len(node.elts) == 3:
                found |= {s for s in _strings(node.elts[0]) if "." in s}
            elif isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "PLACEHOLDER" for t in node.targets):
                found |= _strings(node.value)
    return found


def test_every_event_the_code_names_is_in_the_catalogue() -> None:
    named = _names_in_code()
    assert {
        "thread.created",
        "thread.updated",
        "message.created",
        "call.updated",
        "typing",
        "sync.done",
        "seq.skipped",
    } <= named, "the scan no longer finds the hub's events: fix NAMED"
    missing = named - set(events.STORED) - set(events.EPHEMERAL)
    assert not missing, f"events without a model in schemas/events.py: {sorted(missing)}"


def test_every_event_says_who_receives_it() -> None:
    assert set(events.STORED) | set(events.EPHEMERAL) <= set(RECEIVERS)


async def test_asyncapi_document_passes_the_official_parser(company: Company, tmp_path: Path) -> None:
    response = await company.http.get(f"{company.url}/api/asyncapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["asyncapi"] == "3.0.0"
    messages = document["components"]["messages"]
    for name in [*events.STORED, *events.EPHEMERAL]:
        assert name in messages, f"{name} is not in /api/asyncapi.json"
    refusal = json.dumps(messages["connect_error"])
    for code in ("starting", "bad_token", "member_removed", "token_revoked", "wallboard_revoked", "bad_request"):
        assert code in refusal
    node = shutil.which("node")
    if node is None or not (CONTRACT / "node_modules" / "@asyncapi" / "parser").exists():
        pytest.fail("the AsyncAPI parser is not installed: run `make test` (it runs npm ci --prefix tests/contract)")
    path = tmp_path / "asyncapi.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [node, str(CONTRACT / "validate-asyncapi.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CONTRACT,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_parser_refuses_a_broken_document(tmp_path: Path) -> None:
    """The check can fail: a document whose operation names a message that does not exist is refused."""
    from hub.realtime.contract import asyncapi

    document = asyncapi("t", "1")
    document["operations"]["receiveTyping"]["messages"] = [{"$ref": "#/channels/console/messages/nope"}]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [shutil.which("node") or "node", str(CONTRACT / "validate-asyncapi.mjs"), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=CONTRACT,
    )
    assert result.returncode == 1 and "invalid-ref" in result.stdout
