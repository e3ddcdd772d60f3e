"""A week laid out as seven day columns of blocks (a person's timetable, the training calendar): each
item placed by its local start and end, overlapping items side by side in lanes. Pure layout."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any, Protocol

FIRST_HOUR, LAST_HOUR = 8, 22  # the week view shows 08:00-22:00


class Placed(Protocol):
    local_day: date
    local_start: time
    local_end: time


@dataclass(frozen=True)
class Block:
    """One item placed in a day column: top and height in percent of the visible hours."""

    course: str | None
    start: time
    end: time
    top: float
    height: float
    lane: int
    lanes: int
    recurring: bool
    item: Any = None  # what was placed (a class, a session), for the page to say more of it


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _layout_day(items: list[tuple[int, int, Any]], span: int) -> list[Block]:
    """Overlapping items share the column's width: each takes the first lane free at its start."""
    blocks: list[Block] = []
    cluster: list[tuple[int, int, Any, int]] = []
    lane_ends: list[int] = []

    def close() -> None:
        for s, e, occ, lane in cluster:
            blocks.append(Block(getattr(occ, "course", None), occ.local_start, occ.local_end, 100 * s / span, 100 * (e - s) / span, lane,
                                len(lane_ends), getattr(occ, "recurring", True), occ))

    cluster_end = -1
    for s, e, occ in sorted(items, key=lambda item: (item[0], item[1])):
        if cluster and s >= cluster_end:
            close()
            cluster, lane_ends = [], []
        lane = next((i for i, free_at in enumerate(lane_ends) if free_at <= s), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(e)
        else:
            lane_ends[lane] = e
        cluster_end = max(cluster_end, e) if cluster else e
        cluster.append((s, e, occ, lane))
    close()
    return blocks


def week_grid(occurrences: Iterable[Placed], monday: date, *, first_hour: int = FIRST_HOUR, last_hour: int = LAST_HOUR):
    """Seven (day, blocks) columns, and the items that fall outside the visible hours."""
    origin, span = first_hour * 60, (last_hour - first_hour) * 60
    by_day: dict[date, list[tuple[int, int, Any]]] = {monday + timedelta(days=i): [] for i in range(7)}
    outside = []
    for occ in occurrences:
        start, end = _minutes(occ.local_start) - origin, _minutes(occ.local_end) - origin
        if end <= start:  # runs past midnight: show it to the bottom of the day
            end = 24 * 60 - origin
        if occ.local_day not in by_day or end <= 0 or start >= span:
            outside.append(occ)
            continue
        by_day[occ.local_day].append((max(start, 0), min(end, span), occ))
    return [(day, _layout_day(items, span)) for day, items in by_day.items()], outside
