"""Errors every layer may raise; the API layer maps each to its HTTP status.

Messages are written for the caller: they name the field and the reason, and
never carry a secret.
"""
from __future__ import annotations

from typing import Optional


class ServiceError(Exception):
    status = 500
    code = "internal_error"

    def __init__(self, message: str, *, field: Optional[str] = None, **details):
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details
        self.headers: dict[str, str] = {}

    def to_body(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        body.update(self.details)
        return body


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class Busy(ServiceError):
    """Too much contention to commit now; the platform's retry will succeed."""

    status = 503
    code = "busy"


class TooManyRequests(ServiceError):
    """An abuse limit was reached; ``Retry-After`` says when the next window opens."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, **details):
        retry_after = max(1, int(retry_after))
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after
        self.headers = {"Retry-After": str(retry_after)}


class NotConfigured(ServiceError):
    """The deployment lacks a setting this needs (an admin token, a signing key): refused, never defaulted."""

    status = 503
    code = "not_configured"
