"""Errors the domain raises; the REST layer turns each into {"error": {"code", "message"}} with its status."""

from __future__ import annotations


class HubError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, details: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class BadRequest(HubError):
    status, code = 400, "bad_request"


class Unauthorized(HubError):
    status, code = 401, "unauthorized"


class Forbidden(HubError):
    status, code = 403, "forbidden"


class NotFound(HubError):
    status, code = 404, "not_found"


class Conflict(HubError):
    status, code = 409, "conflict"


class TooManyRequests(HubError):
    status, code = 429, "too_many_attempts"


class Unprocessable(HubError):
    status, code = 422, "invalid"


class PayloadTooLarge(HubError):
    status, code = 413, "too_large"


class LengthRequired(HubError):
    status, code = 411, "length_required"


class StorageUnavailable(HubError):
    status, code = 503, "storage_unavailable"
