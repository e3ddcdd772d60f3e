"""What every training rule answers with when it says no."""

from __future__ import annotations

import unicodedata


class Refused(Exception):
    """A rule says no. ``kind`` is how the caller answers: conflict (409), forbidden (403), invalid (422);
    ``code`` is the stable reason pages translate, ``params`` what the translation fills in."""

    def __init__(self, kind: str, message: str, *, field: str | None = None, code: str | None = None, params: dict | None = None):
        super().__init__(message)
        self.kind, self.message, self.field, self.code = kind, message, field, code or kind
        self.params = params or {}


def name_key(value: str | None) -> str:
    """A person's name as typed, made comparable: width, spacing and case do not make two people."""
    return " ".join(unicodedata.normalize("NFKC", value or "").split()).casefold()
