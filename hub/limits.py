"""Request body limits, enforced while reading (a sender may lie about, or omit, Content-Length), and
JSON parsed with a bound on nesting."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from hub.errors import BadRequest, PayloadTooLarge
from hub.storable import depth


async def read_body(request: Request, limit: int) -> bytes:
    """The exact bytes received (signatures are over them); 413 past `limit`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


MAX_JSON_DEPTH = 64  # deeper is nobody's honest request (and BSON stops at 100)


def parse_json(raw: bytes) -> Any:
    """JSON or 400: malformed, or nested deeper than MAX_JSON_DEPTH."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels", "malformed_json") from None
    except ValueError as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}", "malformed_json") from None
    if depth(data) > MAX_JSON_DEPTH:
        raise BadRequest(f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels", "malformed_json")
    return data
