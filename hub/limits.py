"""Request body limits, enforced while reading (a sender may lie about, or omit, Content-Length)."""
from __future__ import annotations

from starlette.requests import Request

from hub.errors import PayloadTooLarge


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
