"""Pulling records from another system's REST API: what a pull is configured with, how one item of a
page becomes metric records, where the next page is, and how long to wait before trying again. Pure.

JSON paths are the common subset every system's documentation can be mapped to: ``$`` the item (or
the page) itself, ``.name`` a member, ``[n]`` an array element, e.g. ``$.teacher.ids[0]``; a member
whose name is not an identifier is written ``['name']``. Filters and wildcards are not supported: a
mapping names one value per field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

AUTH_STYLES = ("bearer", "basic", "api_key", "oauth2")
PAGINATION_STYLES = ("page", "offset", "cursor", "link")
# What each auth style needs among the (encrypted) credentials.
CREDENTIALS = {"bearer": ("token",), "basic": ("username", "password"), "api_key": ("api_key",), "oauth2": ("client_id", "client_secret")}

_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]|\['([^'\]]+)'\]")
MISSING = object()


class PathError(ValueError):
    pass


@lru_cache(maxsize=1024)
def parse_path(path: str) -> tuple[str | int, ...]:
    """``$.a.b[0]`` -> ("a", "b", 0); a path that is not of the supported subset raises PathError.
    Cached: a pull reads the same few paths from every item of every page."""
    if not isinstance(path, str) or not path.startswith("$"):
        raise PathError(f"{path!r} is not a JSON path: it starts with $")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            raise PathError(f"{path!r}: cannot read from position {pos} ({path[pos:]!r}); use .name, [n] or ['name']")
        steps.append(m.group(1) if m.group(1) is not None else int(m.group(2)) if m.group(2) is not None else m.group(3))
        pos = m.end()
    return tuple(steps)


def lookup(doc: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at ``steps``, or MISSING."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(doc, list) or step >= len(doc):
                return MISSING
            doc = doc[step]
        else:
            if not isinstance(doc, dict) or step not in doc:
                return MISSING
            doc = doc[step]
    return doc


@dataclass(frozen=True)
class Problem:
    """Why a configuration cannot work: a stable code (pages translate it), the message, its parameters."""

    code: str
    message: str
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RecordMap:
    """One metric read from each item: its key, and where its value is."""

    metric: str
    value: str


@dataclass(frozen=True)
class Mapping:
    """How an item becomes records. ``who`` is ``external_id`` (the system's own id of the person) or
    ``employee_no``; ``when`` is ``at`` (a moment) or ``period`` (``period_start`` and ``period_end``)."""

    items: str  # where the page's items are ("$" for a bare array)
    record_id: str
    who: str
    who_path: str
    records: tuple[RecordMap, ...]
    at: str | None = None
    period_start: str | None = None
    period_end: str | None = None
    cursor_field: str | None = None  # the item's change time, for the incremental cursor

    def problem(self) -> Problem | None:
        if self.who not in ("external_id", "employee_no"):
            return Problem("pull-who", "who is external_id or employee_no")
        if not self.records:
            return Problem("pull-no-records", "map at least one metric")
        if len({r.metric for r in self.records}) != len(self.records):
            return Problem("pull-metric-twice", "each metric is mapped once")
        if (self.at is None) == (self.period_start is None or self.period_end is None):
            return Problem("pull-when", "map at, or period_start and period_end")
        for name, path in self.paths():
            try:
                parse_path(path)
            except PathError as exc:
                return Problem("pull-path", f"{name}: {exc}", {"name": name, "detail": str(exc)})
        return None

    def paths(self) -> list[tuple[str, str]]:
        named = [("items", self.items), ("record_id", self.record_id), ("who_path", self.who_path),
                 ("at", self.at), ("period_start", self.period_start), ("period_end", self.period_end), ("cursor_field", self.cursor_field)]
        return [(n, p) for n, p in named if p is not None] + [(f"records.{r.metric}", r.value) for r in self.records]


def page_items(page: Any, mapping: Mapping) -> list[Any] | None:
    """The page's items, or None when the page has none where the mapping says (a page the mapping
    does not fit: the run stops there rather than reading nothing and moving on)."""
    found = lookup(page, parse_path(mapping.items))
    return found if isinstance(found, list) else None


def _text(value: Any) -> Any:
    # Ids are text in the metric store; a system that sends numeric ids is read as their digits.
    if isinstance(value, bool) or value is MISSING or value is None:
        return None
    return str(value) if isinstance(value, int | str) else value


def to_records(item: Any, mapping: Mapping) -> list[dict[str, Any]]:
    """The records of one item, as the batch API takes them. A field the item lacks is left out, so
    the store rejects that record with the reason and keeps it; the item's other records still count.
    With several metrics per item, each record's id is the item's id and the metric key."""
    base: dict[str, Any] = {}
    rid = _text(lookup(item, parse_path(mapping.record_id)))
    who = _text(lookup(item, parse_path(mapping.who_path)))
    if who is not None:
        base[mapping.who] = who
    for name in ("at", "period_start", "period_end"):
        path = getattr(mapping, name)
        if path is not None:
            value = lookup(item, parse_path(path))
            if value is not MISSING and value is not None:
                base[name] = value
    out = []
    for r in mapping.records:
        record = dict(base, metric=r.metric)
        if rid is not None:
            record["record_id"] = rid if len(mapping.records) == 1 else f"{rid}:{r.metric}"
        value = lookup(item, parse_path(r.value))
        if value is not MISSING:
            record["value"] = value
        out.append(record)
    return out


def item_cursor(item: Any, mapping: Mapping) -> datetime | None:
    if mapping.cursor_field is None:
        return None
    value = lookup(item, parse_path(mapping.cursor_field))
    return parse_time(value) if isinstance(value, str) else None


def parse_time(value: str) -> datetime | None:
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else None


# ---------------------------------------------------------------- pages


@dataclass(frozen=True)
class Paging:
    style: str  # page | offset | cursor | link
    size: int = 100
    page_param: str = "page"
    size_param: str = "per_page"  # page and link: per_page; offset and cursor: limit, by convention
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    next_cursor: str = "$.next_cursor"  # where a cursor page names the next one
    total: str | None = "$.total"  # where a page or offset page says how many there are, if it does

    def problem(self) -> Problem | None:
        if self.style not in PAGINATION_STYLES:
            return Problem("pull-paging-style", f"pagination is one of {', '.join(PAGINATION_STYLES)}", {"styles": ", ".join(PAGINATION_STYLES)})
        if not 1 <= self.size <= 10_000:
            return Problem("pull-page-size", "the page size is 1 to 10,000")
        for name, path in (("next_cursor", self.next_cursor), ("total", self.total)):
            if path is not None:
                try:
                    parse_path(path)
                except PathError as exc:
                    return Problem("pull-path", f"{name}: {exc}", {"name": name, "detail": str(exc)})
        return None


def first_position(p: Paging) -> dict[str, Any]:
    return {"page": 1} if p.style in ("page", "link") else {"offset": 0} if p.style == "offset" else {}


def request_url(url: str, p: Paging, position: dict[str, Any], *, since_param: str | None, since: str | None) -> str:
    """The URL of the page at ``position``. A link position is the URL the previous page linked to,
    taken as it is (it already carries the filter and size)."""
    if "url" in position:
        return str(position["url"])
    params: list[tuple[str, str]] = []
    if since_param and since:
        params.append((since_param, since))
    if p.style in ("page", "link"):
        params += [(p.page_param, str(position["page"])), (p.size_param, str(p.size))]
    elif p.style == "offset":
        params += [(p.offset_param, str(position["offset"])), (p.size_param, str(p.size))]
    else:
        params.append((p.size_param, str(p.size)))
        if position.get("cursor"):
            params.append((p.cursor_param, str(position["cursor"])))
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in {k2 for k2, _ in params}] + params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


_LINK = re.compile(r'<([^>]*)>\s*((?:;\s*[^;,]+)*)')


def link_next(header: str | None) -> str | None:
    """The ``rel="next"`` target of an RFC 8288 Link header."""
    if not header:
        return None
    for m in _LINK.finditer(header):
        params = [p.strip() for p in m.group(2).split(";") if p.strip()]
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "rel" and "next" in value.strip().strip('"').lower().split():
                return m.group(1)
    return None


def next_position(p: Paging, position: dict[str, Any], page: Any, items: list[Any], link: str | None) -> dict[str, Any] | None:
    """Where the page after this one is; None after the last."""
    if p.style == "link":
        return {"url": link} if link else None
    if p.style == "cursor":
        cursor = lookup(page, parse_path(p.next_cursor))
        return {"cursor": cursor} if isinstance(cursor, str) and cursor and items else None
    if not items:
        return None
    total = lookup(page, parse_path(p.total)) if p.total else MISSING
    if p.style == "page":
        number = int(position["page"])
        if isinstance(total, int) and number * p.size >= total:
            return None
        return {"page": number + 1}
    offset = int(position["offset"]) + len(items)
    if isinstance(total, int) and offset >= total:
        return None
    return {"offset": offset}


# ---------------------------------------------------------------- waiting


def retry_after(header: str | None, now: datetime) -> float | None:
    """Seconds a ``Retry-After`` header asks for (a number, or an HTTP date); None if it asks nothing."""
    if header is None or not header.strip():
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


def backoff(attempt: int, *, base: float, cap: float, jitter: float) -> float:
    """The wait before retry ``attempt`` (0 first): exponential, capped, with ``jitter`` in [0, 1)
    spreading it over its upper half so that clients retrying together do not stay together."""
    full = min(cap, base * (2 ** attempt))
    return full * (0.5 + jitter / 2)
