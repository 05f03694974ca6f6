"""What every webhook route does first: read the raw body within the size limit."""
from __future__ import annotations

from starlette.requests import Request

from hub.errors import PayloadTooLarge


async def read_raw_body(request: Request, limit: int) -> bytes:
    """The exact bytes received (signatures are over them), refused past `limit` with 413."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
