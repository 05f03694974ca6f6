"""Socket.IO connections: a console connects with `auth = {"token", "last_seq", "status"}`, is admitted
or refused with a code, joins its company's stream and rooms, and leaves."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import socketio

from hub.auth import InvalidToken, Principal, read_token
from hub.presence import Status
from hub.realtime.console import Console
from hub.realtime.delivery import Delivery
from hub.realtime.ephemeral import Ephemeral
from schemas.directory import Member, Role
from schemas.events import wallboard_key

log = logging.getLogger(__name__)

# A token's member as the company knows them now, or why the token is refused (a REFUSALS code).
Admit = Callable[[Principal], Awaitable[Member | str]]
WallboardValid = Callable[[str, str], Awaitable[bool]]

# Why a connection is refused (`data.code`): only `starting` is worth retrying as is.
REFUSALS = {
    "starting": "the hub is starting; retry",
    "bad_token": "the token is missing, malformed, expired or signed with another key; log in again",
    "member_removed": "the member no longer belongs to the company",
    "token_revoked": "the account's password changed since this token was issued; log in again",
    "wallboard_revoked": "the wallboard token was revoked; issue a new one",
    "bad_request": "last_seq must be a non-negative integer or null; status available or away",
}


def refused(message: str, code: str) -> socketio.exceptions.ConnectionRefusedError:
    """A refused connection, with why in words (`message`) and as `data.code` for programs (REFUSALS)."""
    return socketio.exceptions.ConnectionRefusedError(message, {"code": code})


async def refuse_while_starting(sid: str, environ: dict, auth: Any) -> None:
    raise refused(REFUSALS["starting"], "starting")


class Connections:
    def __init__(
        self,
        sio: socketio.AsyncServer,
        delivery: Delivery,
        ephemeral: Ephemeral,
        jwt_secret: str,
        admit: Admit,
        wallboard_valid: WallboardValid,
    ) -> None:
        self.sio = sio
        self._delivery = delivery
        self._ephemeral = ephemeral
        self._jwt_secret = jwt_secret
        self._admit = admit
        self._wallboard_valid = wallboard_valid

    async def connect(self, sid: str, environ: dict, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        try:
            principal: Principal = read_token(self._jwt_secret, auth.get("token"))
        except InvalidToken as exc:
            raise refused(str(exc), "bad_token") from None
        last_seq = auth.get("last_seq")
        if last_seq is not None and (not isinstance(last_seq, int) or isinstance(last_seq, bool) or last_seq < 0):
            raise refused("last_seq must be a non-negative integer or null", "bad_request")
        if principal.kind == "wallboard":
            await self._connect_wallboard(sid, principal, last_seq)
            return
        member = await self._admit(principal)
        if isinstance(member, str):
            raise refused(REFUSALS[member], member)
        try:
            status = Status(auth.get("status") or Status.available.value)
        except ValueError:
            raise refused("status must be available or away", "bad_request") from None
        if status is Status.offline:
            raise refused("status must be available or away", "bad_request")
        console = Console(
            sid=sid,
            member_id=member.id,
            company_id=member.company_id,
            role=member.role,
            connected_at=time.monotonic(),
            status=status,
        )
        await self._delivery.join(console)
        # The rest after connect returns: a client takes events only once its connection is acknowledged.
        self.sio.start_background_task(self._after_connect, console, last_seq)

    async def _after_connect(self, console: Console, last_seq: int | None) -> None:
        try:
            await self._ephemeral.joined(console)
        except Exception:
            log.exception("joining rooms or presence failed", extra={"sid": console.sid})
        await self._delivery.sync(console, last_seq)

    async def _connect_wallboard(self, sid: str, principal: Principal, last_seq: int | None) -> None:
        if not await self._wallboard_valid(principal.company_id, principal.member_id):
            raise refused("wallboard token revoked", "wallboard_revoked")
        console = Console(
            sid=sid,
            member_id=wallboard_key(principal.member_id),
            company_id=principal.company_id,
            role=Role.user,
            connected_at=time.monotonic(),
            is_wallboard=True,
        )
        await self._delivery.join(console)
        self.sio.start_background_task(self._delivery.sync, console, last_seq)

    async def disconnect(self, sid: str, *args: Any) -> None:
        console = self._delivery.leave(sid)
        if console is not None and not console.is_wallboard:
            await self._ephemeral.left(console)

    async def close_all(self) -> None:
        for sid in list(self._delivery.consoles):
            await self.sio.disconnect(sid, ignore_queue=True)
