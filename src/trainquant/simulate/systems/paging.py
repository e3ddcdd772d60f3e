"""A simulated system's items in (updated_at, id) order, and the four ways of cutting them into pages
(page, offset, cursor, Link), with the 400s a strict system answers to bad parameters."""

from __future__ import annotations

import base64
import bisect
import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

if TYPE_CHECKING:
    from trainquant.simulate.systems.server import SystemConfig

Page = tuple[Any, dict[str, str], list[dict[str, Any]]]  # body, extra headers, the items served


class BadRequest(Exception):
    """A query the system answers with 400."""


def parse_instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:  # a naive instant has no place in an order that mixes offsets
        raise ValueError(f"{text!r} has no UTC offset")
    return moment


class Catalogue:
    """The items in (updated_at, id) order, and the four ways of cutting them into pages."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        keyed = []
        for item in items:
            if not isinstance(item.get("id"), str) or not isinstance(item.get("updated_at"), str):
                raise ValueError(f"every item needs a str id and a str updated_at: {item!r}")
            keyed.append(((parse_instant(item["updated_at"]), item["id"]), item))
        keyed.sort(key=lambda pair: pair[0])
        self.keys, self.items = [key for key, _ in keyed], [item for _, item in keyed]
        if len({item_id for _, item_id in self.keys}) != len(self.keys):
            raise ValueError("item ids repeat")

    def _first_after(self, since: datetime | None) -> int:
        return 0 if since is None else bisect.bisect_right(self.keys, since, key=lambda key: key[0])

    def page(self, config: SystemConfig, params: dict[str, str], base_url: str) -> Page:
        since = _since(params.get("updated_since"))
        if config.pagination == "cursor":
            limit, start = _size(params, "limit", config), self._first_after(since)
            if "cursor" in params:
                cursor_since, after = _decode_cursor(params["cursor"])
                if "updated_since" in params and cursor_since != since:
                    raise BadRequest("updated_since differs from the one the cursor was issued for")
                since = cursor_since
                start = max(self._first_after(since), bisect.bisect_right(self.keys, after))
            chunk = self.items[start : start + limit]
            more = start + limit < len(self.items)
            return {"results": chunk, "next_cursor": _encode_cursor(since, self.keys[start + limit - 1]) if more else None}, {}, chunk
        start = self._first_after(since)
        total = len(self.items) - start
        if config.pagination == "offset":
            offset, limit = _integer(params, "offset", 0, 0), _size(params, "limit", config)
            chunk = self.items[start + offset : start + offset + limit]
            return {"items": chunk, "offset": offset, "limit": limit, "total": total}, {}, chunk
        page, per_page = _integer(params, "page", 1, 1), _size(params, "per_page", config)
        chunk = self.items[start + (page - 1) * per_page :][:per_page]
        if config.pagination == "page":
            return {"data": chunk, "page": page, "per_page": per_page, "total": total}, {}, chunk
        # GitHub-style: several relations in one header, so a client has to pick rel="next" out of them.
        links = ([(page + 1, "next")] if page * per_page < total else []) + ([(page - 1, "prev")] if page > 1 else [])
        header = ", ".join(f'<{base_url}?{urlencode(params | {"page": str(number)})}>; rel="{rel}"' for number, rel in links)
        return chunk, ({"Link": header} if header else {}), chunk


def _integer(params: dict[str, str], name: str, default: int, minimum: int) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    if re.fullmatch(r"-?[0-9]{1,15}", raw) is None or int(raw) < minimum:
        raise BadRequest(f"{name} must be an integer >= {minimum}, not {raw!r}")
    return int(raw)


def _size(params: dict[str, str], name: str, config: SystemConfig) -> int:
    return min(_integer(params, name, config.page_size, 1), config.max_page_size)


def _since(raw: str | None) -> datetime | None:
    try:
        return None if raw is None else parse_instant(raw)
    except ValueError as exc:
        raise BadRequest(f"updated_since must be an ISO 8601 instant with an offset, not {raw!r}") from exc


def _encode_cursor(since: datetime | None, after: tuple[datetime, str]) -> str:
    # The last key served, not an index or a server-side handle: valid across restarts, and past items added later.
    position = {"after": [after[0].isoformat(), after[1]], "since": None if since is None else since.isoformat()}
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _decode_cursor(raw: str) -> tuple[datetime | None, tuple[datetime, str]]:
    try:
        position = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        moment, item_id = position["after"]
        if not isinstance(item_id, str):
            raise TypeError(item_id)
        return (None if position["since"] is None else parse_instant(position["since"])), (parse_instant(moment), item_id)
    except (ValueError, TypeError, KeyError) as exc:
        raise BadRequest("malformed cursor") from exc
