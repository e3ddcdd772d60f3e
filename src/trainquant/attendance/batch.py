"""Attended seconds for many (person, session) groups at once, with NumPy.

Same definitions as ``rules.attended`` (the reference, tested equal): after sorting, the state after
a punch is simply its kind, so an ``in`` is effective when the previous punch of the group was not
an ``in`` and an ``out`` when it was. Effective punches alternate, which pairs them without a loop.
Groups that overlap the person's teaching timetable are finished by the reference ``subtract``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

import numpy as np

from trainquant.attendance.rules import (
    FLAG_ABSENT,
    FLAG_DUPLICATE_IN,
    FLAG_NO_CHECKOUT,
    FLAG_OUT_WITHOUT_IN,
    FLAG_TIMETABLE_CONFLICT,
    Interval,
    clip_and_merge,
    subtract,
)

FLAG_BITS = {FLAG_NO_CHECKOUT: 1, FLAG_DUPLICATE_IN: 2, FLAG_OUT_WITHOUT_IN: 4, FLAG_TIMETABLE_CONFLICT: 8, FLAG_ABSENT: 16}


@dataclass
class BatchResult:
    attended: np.ndarray  # seconds, per group
    late: np.ndarray
    early: np.ndarray
    flags: np.ndarray  # bit mask, FLAG_BITS
    away: dict[int, list[tuple[int, int]]]  # group -> gaps between presences (epoch seconds)

    def flag_names(self, g: int) -> frozenset[str]:
        return frozenset(name for name, bit in FLAG_BITS.items() if self.flags[g] & bit)


def _dt(seconds: int) -> datetime:
    return datetime.fromtimestamp(int(seconds), UTC)


def attended_batch(
    group: np.ndarray,
    at: np.ndarray,
    is_out: np.ndarray,
    tiebreak: np.ndarray,
    win_start: np.ndarray,
    win_end: np.ndarray,
    credit_to_end: np.ndarray,
    teaching: dict[int, list[tuple[int, int]]] | None = None,
) -> BatchResult:
    """``group``, ``at`` (epoch seconds), ``is_out`` and ``tiebreak`` (event-id rank) describe punches;
    ``win_*`` and ``credit_to_end`` are per group (index = group id); ``teaching`` maps a group to its
    (start, end) classes in epoch seconds."""
    n_groups = len(win_start)
    attended = np.zeros(n_groups, dtype=np.int64)
    first = np.full(n_groups, -1, dtype=np.int64)
    last = np.full(n_groups, -1, dtype=np.int64)
    flags = np.zeros(n_groups, dtype=np.int64)
    away: dict[int, list[tuple[int, int]]] = {}

    if len(group):
        order = np.lexsort((tiebreak, is_out, at, group))
        g, t, o, tb = group[order], at[order], is_out[order].astype(bool), tiebreak[order]
        # The same event twice is one event.
        same = np.zeros(len(g), dtype=bool)
        same[1:] = (g[1:] == g[:-1]) & (t[1:] == t[:-1]) & (o[1:] == o[:-1]) & (tb[1:] == tb[:-1])
        keep = ~same
        g, t, o = g[keep], t[keep], o[keep]
        starts_group = np.ones(len(g), dtype=bool)
        starts_group[1:] = g[1:] != g[:-1]
        prev_in = np.zeros(len(g), dtype=bool)
        prev_in[1:] = ~o[:-1]
        prev_in[starts_group] = False
        eff_in = ~o & ~prev_in
        eff_out = o & prev_in
        np.bitwise_or.at(flags, g[~o & prev_in], FLAG_BITS[FLAG_DUPLICATE_IN])
        np.bitwise_or.at(flags, g[o & ~prev_in], FLAG_BITS[FLAG_OUT_WITHOUT_IN])

        eff = np.flatnonzero(eff_in | eff_out)
        eg, et, eo = g[eff], t[eff], o[eff]
        in_pos = np.flatnonzero(~eo)
        nxt = in_pos + 1
        has_next = nxt < len(eff)
        closed = np.zeros(len(in_pos), dtype=bool)
        closed[has_next] = eo[nxt[has_next]] & (eg[nxt[has_next]] == eg[in_pos[has_next]])
        iv_group = eg[in_pos]
        iv_start = et[in_pos]
        iv_end = np.empty(len(in_pos), dtype=np.int64)
        iv_end[closed] = et[nxt[closed]]
        open_ = ~closed
        if open_.any():
            og = iv_group[open_]
            np.bitwise_or.at(flags, og, FLAG_BITS[FLAG_NO_CHECKOUT])
            group_last = np.zeros(n_groups, dtype=np.int64)
            ends_group = np.ones(len(g), dtype=bool)
            ends_group[:-1] = g[:-1] != g[1:]
            group_last[g[ends_group]] = t[ends_group]
            close = np.where(credit_to_end[og], win_end[og], group_last[og])
            iv_end[open_] = np.maximum(iv_start[open_], close)
        # Clip to the session window.
        s = np.maximum(iv_start, win_start[iv_group])
        e = np.minimum(iv_end, win_end[iv_group])
        valid = e > s
        iv_group, s, e = iv_group[valid], s[valid], e[valid]
        np.add.at(attended, iv_group, e - s)
        if len(iv_group):
            gstart = np.ones(len(iv_group), dtype=bool)
            gstart[1:] = iv_group[1:] != iv_group[:-1]
            gend = np.ones(len(iv_group), dtype=bool)
            gend[:-1] = iv_group[:-1] != iv_group[1:]
            first[iv_group[gstart]] = s[gstart]
            last[iv_group[gend]] = e[gend]
        if len(iv_group) > 1:
            gap = (iv_group[1:] == iv_group[:-1]) & (s[1:] > e[:-1])
            for k in np.flatnonzero(gap):
                away.setdefault(int(iv_group[k]), []).append((int(e[k]), int(s[k + 1])))
        if teaching:
            _subtract_teaching(teaching, iv_group, s, e, attended, flags, win_start, win_end, away)

    present = first >= 0
    late = np.where(present, first - win_start, 0)
    early = np.where(present, win_end - last, 0)
    absent = attended == 0
    flags[absent] |= FLAG_BITS[FLAG_ABSENT]
    late[absent] = 0
    early[absent] = 0
    for g_ in np.flatnonzero(absent):
        away.pop(int(g_), None)
    return BatchResult(attended, late, early, flags, away)


def _subtract_teaching(teaching, iv_group, s, e, attended, flags, win_start, win_end, away) -> None:
    if not len(iv_group):
        return
    bounds = np.searchsorted(iv_group, np.arange(len(win_start) + 1))
    for gid, classes in teaching.items():
        lo, hi = bounds[gid], bounds[gid + 1]
        if lo == hi:
            continue
        ws, we = _dt(win_start[gid]), _dt(win_end[gid])
        cuts = clip_and_merge((Interval(_dt(a), _dt(b)) for a, b in classes), ws, we)
        if not cuts:
            continue
        present = [Interval(_dt(a), _dt(b)) for a, b in zip(s[lo:hi], e[lo:hi], strict=True)]
        kept, removed = subtract(clip_and_merge(present, ws, we), cuts)
        if removed:
            flags[gid] |= FLAG_BITS[FLAG_TIMETABLE_CONFLICT]
            attended[gid] = sum(i.seconds for i in kept)
            gaps = [(int(a.end.timestamp()), int(b.start.timestamp())) for a, b in pairwise(kept) if b.start > a.end]
            if gaps:
                away[gid] = gaps
            else:
                away.pop(gid, None)
