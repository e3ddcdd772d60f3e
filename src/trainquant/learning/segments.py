"""Media ranges in seconds, and the xAPI video profile's ``played-segments`` text they are sent as. Pure.

Unions are what coverage is made of: re-watching a part, or giving it twice, never counts it twice.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

SEGMENT_SEPARATOR = "[,]"
BOUND_SEPARATOR = "[.]"
# Plain decimals (and exponents) only: float() also takes "1_000", "nan", "infinity" and non-ASCII
# digits, none of which a player writes.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NOT_FINITE = {"nan", "inf", "infinity"}

# A media range [start, end] in seconds, start <= end.
Interval = tuple[float, float]


class SegmentError(ValueError):
    """A ``played-segments`` text that is not ``start[.]end`` pairs joined by ``[,]``."""


# --- played-segments -----------------------------------------------------------------------------------


def _bound(raw: str, index: int, which: str) -> float:
    text = raw.strip()
    if not _NUMBER.fullmatch(text):
        if text.lower().lstrip("+-") in _NOT_FINITE:
            raise SegmentError(f"segment {index}: {which} {raw!r} is not a finite number")
        raise SegmentError(f"segment {index}: {which} {raw!r} is not a number")
    value = float(text)
    if not math.isfinite(value):  # "1e999"
        raise SegmentError(f"segment {index}: {which} {raw!r} is not a finite number")
    if value < 0:
        raise SegmentError(f"segment {index}: {which} {raw!r} is negative")
    return value + 0.0  # "-0" is 0.0, not -0.0


def parse_segments(text: str) -> list[Interval]:
    """The xAPI video profile's ``played-segments``: ``"0.000[.]12.000[,]14.000[.]21.000"``.

    Returns the pairs in the order written, neither merged nor clipped; an empty (or blank) text is
    ``[]``. Each pair is finite, non-negative and has ``start <= end`` (``start == end`` is allowed, a
    zero-length segment). Anything else raises :class:`SegmentError` naming the segment (1-based) and why.
    """
    if not text.strip():
        return []
    segments: list[Interval] = []
    for index, part in enumerate(text.split(SEGMENT_SEPARATOR), start=1):
        if not part.strip():
            raise SegmentError(f"segment {index} is empty (a stray {SEGMENT_SEPARATOR!r}?)")
        bounds = part.split(BOUND_SEPARATOR)
        if len(bounds) != 2:
            raise SegmentError(f"segment {index}: expected 'start{BOUND_SEPARATOR}end', got {part!r}")
        start, end = _bound(bounds[0], index, "start"), _bound(bounds[1], index, "end")
        if end < start:
            raise SegmentError(f"segment {index}: end {end:g} is before start {start:g}")
        segments.append((start, end))
    return segments


# --- intervals -----------------------------------------------------------------------------------------


def _checked(intervals: Iterable[Interval]) -> list[Interval]:
    out = []
    for start, end in intervals:
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ValueError(f"interval ({start}, {end}) is not finite")
        if end < start:
            raise ValueError(f"interval ({start}, {end}) ends before it starts")
        out.append((start, end))
    return out


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union as sorted, disjoint, non-empty intervals; touching or overlapping ones are joined.

    Zero-length intervals cover nothing and are dropped. The result depends only on the set of
    intervals, not their order. Raises ``ValueError`` on a non-finite or reversed interval.
    """
    merged: list[Interval] = []
    for start, end in sorted(_checked(intervals)):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def union_length(intervals: Iterable[Interval]) -> float:
    """Length of the union: an overlap, or a part given twice, is counted once.

    Invariant: ``0 <= union_length(xs) <= sum of the lengths``; independent of order (the pieces are
    summed with ``math.fsum`` in sorted order, so the same set always gives the same float).
    """
    return math.fsum(end - start for start, end in merge(intervals))


def clip(intervals: Iterable[Interval], lo: float, hi: float) -> list[Interval]:
    """The union of ``intervals`` within ``[lo, hi]``, merged (see :func:`merge`)."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi < lo:
        raise ValueError(f"clip bounds [{lo}, {hi}] are not a finite range")
    return merge((max(start, lo), min(end, hi)) for start, end in _checked(intervals) if end > lo and start < hi)


def subtract(intervals: Iterable[Interval], removed: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` minus the union of ``removed``, merged (see :func:`merge`).

    Invariant: ``union_length(result) == union_length(intervals) - union_length(intersection)``, and no
    point of the result lies inside ``removed``.
    """
    cuts = merge(removed)
    out: list[Interval] = []
    j = 0
    for start, end in merge(intervals):
        # Cuts wholly before this interval are before every later one too (both lists are sorted).
        while j < len(cuts) and cuts[j][1] <= start:
            j += 1
        cursor = start
        k = j
        while k < len(cuts) and cuts[k][0] < end:
            cut_start, cut_end = cuts[k]
            if cut_start > cursor:
                out.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
            if cursor >= end:
                break
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out
