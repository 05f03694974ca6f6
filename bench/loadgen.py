"""Posts webhooks at a fixed rate from its own process, and reports how they were answered.

    python -m bench.loadgen <json spec on stdin>

Spec: {"url", "kind": "zalo"|"pbx", "phase", "rate", "seconds", "sign": {...} | null, "users": [...]}.
Every payload carries `bench:<phase>:<n>:<sent monotonic ns>` (in the text, or the call id), which
the console fleet reads on receipt. Prints {"sent", "ok", "errors", "answer_p50_ms", "answer_p99_ms"}.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import sys
import time
from datetime import UTC, datetime

import httpx


def zalo_request(spec: dict, n: int) -> tuple[bytes, dict[str, str]]:
    sign = spec.get("sign")
    user = spec["users"][n % len(spec["users"])]
    marker = f"bench:{spec['phase']}:{n}:{time.monotonic_ns()}"
    payload = {
        "app_id": sign["app_id"] if sign else "bench",
        "user_id_by_app": "1",
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": sign["oa_id"] if sign else "oa"},
        "message": {"msg_id": secrets.token_hex(16), "text": marker},
        "timestamp": str(int(time.time() * 1000)),
    }
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if sign:
        mac = hashlib.sha256(sign["app_id"].encode() + raw + payload["timestamp"].encode() + sign["key"].encode())
        headers["X-ZEvent-Signature"] = "mac=" + mac.hexdigest()
    return raw, headers


def pbx_request(spec: dict, n: int) -> tuple[bytes, dict[str, str]]:
    marker = f"bench:{spec['phase']}:{n}:{time.monotonic_ns()}"
    event = {
        "call_id": marker,
        "event": "ringing",
        "occurred_at": datetime.now(UTC).isoformat(),
        "direction": "inbound",
        "from": "0912345678",
        "to": "19001234",
        "hotline": "19001234",
        "extension": str(101 + n % 20),
        "leg_id": f"leg-{n}",
    }
    raw = json.dumps(event).encode()
    headers = {"Content-Type": "application/json"}
    sign = spec.get("sign")
    if sign:
        stamp = int(time.time())
        mac = hmac.new(sign["secret"].encode(), f"{stamp}.".encode() + raw, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature"] = f"t={stamp},v1={mac}"
    return raw, headers


async def run(spec: dict) -> dict:
    build = zalo_request if spec["kind"] == "zalo" else pbx_request
    total = int(spec["rate"] * spec["seconds"])
    interval = 1.0 / spec["rate"]
    answers: list[float] = []
    errors: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as http:

        async def post(n: int) -> None:
            raw, headers = build(spec, n)
            start = time.perf_counter()
            try:
                response = await http.post(spec["url"], content=raw, headers=headers)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            answers.append((time.perf_counter() - start) * 1000)
            if status != "200":
                errors[status] = errors.get(status, 0) + 1

        begin = time.perf_counter()
        tasks = []
        for n in range(total):
            await asyncio.sleep(max(0.0, begin + n * interval - time.perf_counter()))
            tasks.append(asyncio.create_task(post(n)))
        await asyncio.gather(*tasks)
    answers.sort()
    return {
        "sent": total,
        "ok": total - sum(errors.values()),
        "errors": errors,
        "answer_p50_ms": round(answers[len(answers) // 2], 2) if answers else None,
        "answer_p99_ms": round(answers[int(len(answers) * 0.99)], 2) if answers else None,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.stdin.read())))), flush=True)
