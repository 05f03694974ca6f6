"""Passwords (argon2id) and console tokens (JWT, one company per token)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from schemas.directory import Role

_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(12)


class InvalidToken(Exception):
    """Missing, expired, forged or malformed token."""


@dataclass(frozen=True)
class Principal:
    """Who a token speaks for: one member of one company, or (kind "wallboard") one wall display,
    whose `member_id` is the wallboard token's id."""

    member_id: str
    company_id: str
    role: Role
    kind: str = "member"
    # The account's token generation the token was issued in (claim `gen`; tokens of an earlier
    # generation are revoked: a password change starts a new one). None: not from a token (a journaled
    # request the hub re-does, the CLI), not checked.
    token_gen: int | None = None


def issue_token(secret: str, principal: Principal, now: datetime, ttl_s: int) -> str:
    claims = {
        "sub": principal.member_id,
        "cid": principal.company_id,
        "role": principal.role.value,
        "kind": "member",
        "gen": principal.token_gen or 0,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_s)).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(secret: str, token: str | None) -> Principal:
    if not token or not isinstance(token, str):
        raise InvalidToken("missing token")
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "cid"]})
        if claims.get("kind") == "wallboard":
            return Principal(member_id=claims["sub"], company_id=claims["cid"], role=Role.user, kind="wallboard")
        return Principal(
            member_id=claims["sub"],
            company_id=claims["cid"],
            role=Role(claims["role"]),
            token_gen=int(claims.get("gen", 0)),
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("token expired") from exc
    except (jwt.InvalidTokenError, KeyError, ValueError) as exc:
        raise InvalidToken("invalid token") from exc
