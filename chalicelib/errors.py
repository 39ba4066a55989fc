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
    """Over a limit; ``retry_after`` seconds until the next try can succeed (the Retry-After header)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: int, field: Optional[str] = None, **details):
        super().__init__(message, field=field, retry_after=max(1, int(retry_after)), **details)
        self.retry_after = max(1, int(retry_after))
