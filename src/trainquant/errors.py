"""The DomainError family and its rendering as RFC 9457 problem details."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://trainquant.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
        }
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class Invalid(DomainError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class Unauthorized(DomainError):
    status = 401
    title = "Not authenticated"
    type_slug = "unauthenticated"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    type_slug = "too-large"
