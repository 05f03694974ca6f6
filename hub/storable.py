"""What MongoDB can keep of a payload as parsed: BSON refuses NUL in keys, unpaired surrogates, integers
past 64 bits and nesting past 100 levels. A signed webhook is never refused for its shape, so such a
payload is kept as an escaped copy (and its exact bytes beside it)."""

from __future__ import annotations

import json
from typing import Any

import bson
from bson.errors import BSONError

MAX_DEPTH = 90  # below MongoDB's 100, leaving room for the document around the payload


def depth(value: Any) -> int:
    """How deeply `value` nests, found without recursion (the input may be hostile)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def storable(value: Any) -> bool:
    if depth(value) > MAX_DEPTH:
        return False
    try:
        bson.encode({"v": value})
    except (BSONError, OverflowError, UnicodeError, ValueError, TypeError):
        return False
    return True


def _text(value: str) -> str:
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\u0000")


def storable_copy(value: Any, level: int = 1) -> Any:
    """`value` with what BSON cannot hold escaped: strings and keys, big integers as text, and anything
    nested deeper than MAX_DEPTH as its JSON text."""
    if level > MAX_DEPTH:
        try:
            return json.dumps(value, ensure_ascii=True)[:100_000]
        except (RecursionError, ValueError):
            return "<nested too deeply to keep; see raw>"
    if isinstance(value, dict):
        return {
            _text(str(k)).replace(".", "\\u002e").lstrip("$") or "_": storable_copy(v, level + 1)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [storable_copy(v, level + 1) for v in value]
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return str(value)
    return value
