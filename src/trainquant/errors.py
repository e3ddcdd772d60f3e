"""The DomainError family and its rendering as RFC 9457 problem details.

Every error carries a stable ``code`` (a slug such as ``session-started``): the API puts it in the
problem body and pages translate it (``web/errors.py``), so no caller ever matches message text.
``message`` is the English detail for logs and API clients; ``errors`` name fields, each with a code.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status = 400
    title = "Bad request"
    type_slug = "bad-request"
    code = "bad-request"  # a subclass names its own (its type_slug unless it says otherwise); an instance may be more precise

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in cls.__dict__:
            cls.code = cls.type_slug

    def __init__(self, message: str, *, code: str | None = None, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.errors = errors or []
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://trainquant.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.message,
            "code": self.code,
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
