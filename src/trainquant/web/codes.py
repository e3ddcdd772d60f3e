"""What a page says for a stable error code, in its language: each domain registers its texts, and
the error page (and any row error) shows the registered text, the service's English message only
for a code no domain has words for yet. A text is a function of the error's extra fields."""

from __future__ import annotations

from collections.abc import Callable, Mapping

Text = Callable[[Mapping], str]
TEXTS: dict[str, Text] = {}


def register(texts: Mapping[str, Text]) -> None:
    """Add a domain's texts. A code means one thing everywhere: registering it twice is a mistake."""
    twice = sorted(set(texts) & set(TEXTS))
    if twice:
        raise ValueError(f"error codes registered twice: {', '.join(twice)}")
    TEXTS.update(texts)


def text_for(code: str | None, params: Mapping | None = None) -> str | None:
    text = TEXTS.get(code or "")
    return text(params or {}) if text else None


def error_text(err) -> str:
    """A DomainError in the page's language."""
    return text_for(getattr(err, "code", None), getattr(err, "extra", None)) or err.message
