"""A MongoDB update applied in memory, for the document the hub just updated on the server.

The hot path (hub.threads.update) updates a thread on the condition that it is still at the version
the hub read; when that update matched, the stored document is exactly the read one with the update
applied, so the hub computes it here instead of reading it back (one round trip and one server-side
lookup less per chat message). Only the operators the hub's updates use are known; anything else
raises `Unsupported` and the caller reads the document back. The result goes through BSON once, so its
datetimes are what a read would give (milliseconds, UTC) — tests/test_doc_update.py compares it with
the server's own result for every operator.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from bson import BSON
from bson.codec_options import CodecOptions

AS_READ: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)  # as hub.store's client decodes


class Unsupported(Exception):
    """An update this module does not apply: read the document back instead."""


def _parent(doc: dict[str, Any], path: str, create: bool) -> tuple[dict[str, Any] | None, str]:
    *parents, last = path.split(".")
    node: Any = doc
    for part in parents:
        child = node.get(part)
        if child is None and part not in node:
            if not create:
                return None, last
            child = node[part] = {}
        if not isinstance(child, dict):
            raise Unsupported(f"{path}: {part} is not a document")
        node = child
    return node, last


def _max(current: Any, value: Any) -> Any:
    if current is None:  # BSON orders null (and a missing field) below every date and number
        return value
    if isinstance(current, datetime) and isinstance(value, datetime):
        return max(current, value)
    if isinstance(current, int | float) and isinstance(value, int | float) and not isinstance(current, bool):
        return max(current, value)
    raise Unsupported("$max across types")


def _push(current: Any, spec: Any) -> list[Any]:
    items = list(current) if isinstance(current, list) else []
    if current is not None and not isinstance(current, list):
        raise Unsupported("$push onto a non-array")
    if isinstance(spec, dict) and "$each" in spec:
        if set(spec) - {"$each", "$slice"}:
            raise Unsupported("$push modifiers other than $each and $slice")
        items += list(spec["$each"])
        size = spec.get("$slice")
        if size is not None:
            items = items[size:] if size < 0 else items[:size]
        return items
    if isinstance(spec, dict) and any(key.startswith("$") for key in spec):
        raise Unsupported("$push modifier")
    return items + [spec]


def _add_to_set(current: Any, spec: Any) -> list[Any]:
    if current is not None and not isinstance(current, list):
        raise Unsupported("$addToSet onto a non-array")
    items = list(current or [])
    values = spec["$each"] if isinstance(spec, dict) and "$each" in spec else [spec]
    for value in values:
        if isinstance(value, dict | list):
            raise Unsupported("$addToSet of a document or array")
        if value not in items:
            items.append(value)
    return items


def _pull(current: Any, spec: Any) -> Any:
    if isinstance(spec, dict | list) or not isinstance(current, list):
        raise Unsupported("$pull by condition, or from a non-array")
    return [item for item in current if item != spec]


def apply(doc: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """`doc` after `update` (operators $set, $unset, $inc, $max, $push, $addToSet, $pull), as a read gives it."""
    after = copy.deepcopy(doc)
    seen: set[str] = set()
    for operator, fields in update.items():
        for path, value in fields.items():
            if any(path == other or path.startswith(other + ".") or other.startswith(path + ".") for other in seen):
                raise Unsupported(f"{path}: two operators on one path")  # the server refuses such updates
            seen.add(path)
            parent, name = _parent(after, path, create=operator != "$unset")
            if parent is None:
                continue  # $unset of something absent
            current = parent.get(name)
            if operator == "$set":
                parent[name] = copy.deepcopy(value)
            elif operator == "$unset":
                parent.pop(name, None)
            elif operator == "$inc":
                if not isinstance(value, int) or not isinstance(current, int | None) or isinstance(current, bool):
                    raise Unsupported("$inc other than an integer")
                parent[name] = (current or 0) + value
            elif operator == "$max":
                parent[name] = _max(current, value) if name in parent else value
            elif operator == "$push":
                parent[name] = _push(current, value)
            elif operator == "$addToSet":
                parent[name] = _add_to_set(current, value)
            elif operator == "$pull":
                if name in parent:
                    parent[name] = _pull(current, value)
            else:
                raise Unsupported(operator)
    return BSON.encode(after).decode(AS_READ)
