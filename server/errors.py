"""Errors whose message is safe to show a user, each with a protocol code."""
from __future__ import annotations

from .shapes import ErrorBody

HTTP_STATUS = {
    "bad_request": 400,
    "too_long": 413,
    "busy": 409,
    "unknown_backend": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "rate_limited": 429,
    "quota": 429,
    "not_found": 404,
    "unavailable": 503,
    "internal": 500,
}


class ChatError(Exception):
    """An error with a protocol `code` and a sentence a person can read."""

    def __init__(self, code: str, message: str):
        assert code in HTTP_STATUS, code
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.code]

    def to_dict(self) -> ErrorBody:
        return {"code": self.code, "message": self.message}

    def ack(self) -> dict:
        return {"ok": False, "error": self.to_dict()}


class BackendError(ChatError):
    """A failure of the model or the upstream API, already reworded for a user."""
