"""Watch coverage of many learners at once, in NumPy: the same figures as ``video.plays_and_seeks`` then
``rules.learner_coverage`` per learner, for a million statements in seconds. Pure (NumPy only).

The reference stays the one-at-a-time path (``video``, ``rules``); ``tests/unit/learning/test_fast.py``
compares the two on random viewers and on the simulated year. Steps, each a sort and segmented scans:

1. statements to columns (``Columns.build``): learner, video, session, verb, wall seconds, positions,
   speed, visibility, idle-for; a missing number is NaN;
2. per player session in wall order: playing, speed and visibility carried forward from the statement
   that set them; a stretch between two consecutive statements while playing, from the first's
   position to the second's; an idle prompt makes idle everything after its moment that was closed up
   to it (a suffix minimum per session), splitting the stretch it falls in;
3. the exclusion reason of each piece (hidden, idle, too fast, implausible), as ``rules.exclusion_reason``;
4. one play at a time per learner (``rules.one_at_a_time``): a running maximum of the earlier-begun
   counted plays' ends, each later play keeping only its tail;
5. per learner and video, the union of the counted media within ``[0, length]``, its gaps for the
   completeness rule, and the excluded seconds per reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from trainquant.learning.packed import DTYPE, PLAYED, SEEK, STOP, Packed, extract
from trainquant.learning.rules import END_TOLERANCE_S, EPS, PLAUSIBILITY_TOLERANCE_S

REASONS = ("hidden", "idle", "too-fast", "implausible")


@dataclass
class Columns:
    learner: np.ndarray  # int64
    video: np.ndarray  # int64: index into ``videos`` (sorted activity ids)
    session: np.ndarray  # int64: rank of the session id (sorted)
    verb: np.ndarray  # int8
    wall: np.ndarray  # float64 seconds since the epoch
    order: np.ndarray  # int64: storage order, breaking ties of wall
    time: np.ndarray
    time_from: np.ndarray
    time_to: np.ndarray
    speed: np.ndarray  # NaN: unchanged
    hidden: np.ndarray  # int8: -1 unchanged, 0 visible, 1 hidden
    idle_for: np.ndarray  # NaN: none
    videos: list[str]

    @classmethod
    def build(cls, statements: Iterable[tuple[int, Mapping[str, Any], datetime]], videos: Sequence[str]) -> Columns:
        """(learner, statement, wall time) of video statements, in storage order; statements of other
        activities or without a session id are left out, as ``video.event_of`` leaves them."""
        def rows() -> Iterator[tuple[int, int, Mapping[str, Any], float, float]]:
            for order, (learner, doc, at) in enumerate(statements):
                wall = at.timestamp()
                yield order, learner, doc, wall, wall
        return cls.from_packed([extract(rows())], videos)

    @classmethod
    def from_packed(cls, blocks: Iterable[Packed], videos: Sequence[str], *, learners: Sequence[int] | None = None,
                    exclude: Sequence[int] = (), since: float | None = None, until: float | None = None) -> Columns:
        """The records of ``blocks`` about ``videos``: of ``learners`` only when given, none whose pk is
        in ``exclude`` (voided statements), stored within [since, until) when given (epoch seconds)."""
        index = {v: i for i, v in enumerate(sorted(videos))}
        wanted = np.asarray(sorted(set(learners)), dtype=np.int64) if learners is not None else None
        dropped = np.asarray(sorted(set(exclude)), dtype=np.int64)
        names: dict[str, int] = {}
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for block in blocks:
            if not len(block):
                continue
            r = block.records
            video = np.array([index.get(a, -1) for a in block.activities], dtype=np.int64)[r["activity"]]
            keep = video >= 0
            if wanted is not None:
                keep &= np.isin(r["learner"], wanted)
            if len(dropped):
                keep &= ~np.isin(r["pk"], dropped)
            if since is not None:
                keep &= r["stored"] >= since
            if until is not None:
                keep &= r["stored"] < until
            if not keep.any():
                continue
            local = r["session"][keep]
            numbers = np.full(len(block.sessions), -1, dtype=np.int64)  # only the sessions kept records name get a number
            for used in np.unique(local).tolist():
                numbers[used] = names.setdefault(block.sessions[used], len(names))
            parts.append((r[keep], video[keep], numbers[local]))
        records = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, dtype=DTYPE)
        rank = np.empty(len(names), dtype=np.int64)
        for position, name in enumerate(sorted(names)):
            rank[names[name]] = position
        session = rank[np.concatenate([p[2] for p in parts])] if parts else np.empty(0, dtype=np.int64)
        video = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, dtype=np.int64)
        floats = {name: np.ascontiguousarray(records[name], dtype=np.float64) for name in ("wall", "time", "time_from", "time_to", "speed", "idle_for")}
        return cls(learner=records["learner"].astype(np.int64), video=video, session=session, verb=records["verb"].astype(np.int8),
                   order=records["pk"].astype(np.int64), hidden=records["hidden"].astype(np.int8), videos=sorted(videos), **floats)


def _seg_cummax(values: np.ndarray, gid: np.ndarray) -> np.ndarray:
    """The running maximum of int64 ``values`` within each run of equal, increasing ``gid``: each group
    is rebased to start above the previous group's range (integers: no rounding, unlike float offsets)."""
    if len(values) == 0:
        return values.copy()
    starts = np.flatnonzero(np.r_[True, gid[1:] != gid[:-1]])
    run = np.cumsum(np.r_[True, gid[1:] != gid[:-1]]) - 1
    lo = np.minimum.reduceat(values, starts)[run]
    span = int((values - lo).max()) + 2
    if (int(run[-1]) + 1) * span >= 2**62:
        raise OverflowError("too many groups for one pass; split the learners")
    base = run.astype(np.int64) * span
    return np.maximum.accumulate(values - lo + base) - base + lo


def _ffill(values: np.ndarray, valid: np.ndarray, group_start: np.ndarray, default: float) -> np.ndarray:
    """Each row's last valid value up to it within its group (``default`` before any)."""
    n = len(values)
    idx = np.where(valid | group_start, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    out = values[idx].astype(np.float64)
    out[~valid[idx]] = default
    return out


@dataclass(frozen=True)
class Figures:
    """Per (learner, video): watched seconds, complete, excluded seconds per reason; per learner: study seconds."""

    watched: dict[tuple[int, str], float]
    complete: dict[tuple[int, str], bool]
    excluded: dict[tuple[int, str], dict[str, float]]


def coverage_all(c: Columns, *, lengths: Mapping[str, float], max_speeds: Mapping[str, float]) -> Figures:
    """Coverage of every (learner, video) that has statements, as ``rules.learner_coverage`` gives it
    for each learner (videos of one speed limit judged together, as ``learning.service`` does)."""
    videos = c.videos
    length = np.array([lengths[v] for v in videos])
    limit = np.array([max_speeds[v] for v in videos])
    # 2. stretches, per session in wall order
    o = np.lexsort((c.order, c.wall, c.session, c.video, c.learner))
    L, V, S, verb, wall = c.learner[o], c.video[o], c.session[o], c.verb[o], c.wall[o]
    t, tf, tt, sp, hd, idle_for = c.time[o], c.time_from[o], c.time_to[o], c.speed[o], c.hidden[o], c.idle_for[o]
    n = len(o)
    first = np.ones(n, dtype=bool)
    first[1:] = (L[1:] != L[:-1]) | (V[1:] != V[:-1]) | (S[1:] != S[:-1])
    here = np.where(verb == SEEK, tf, t)
    jumped = (verb == SEEK) & ~np.isnan(tf) & ~np.isnan(tt)
    after = np.where(jumped, tt, here)  # the position from which playing continues
    switch = (verb == PLAYED) | (verb == STOP)
    playing = _ffill((verb == PLAYED).astype(np.float64), switch, first, 0.0) > 0.5
    speed = _ffill(sp, ~np.isnan(sp), first, 1.0)
    hidden = _ffill(hd.astype(np.float64), hd >= 0, first, 0.0) > 0.5
    prev = np.arange(n) - 1
    has_prev = ~first
    pp = np.where(has_prev, prev, 0)
    start_pos = np.where(playing[pp] & has_prev, after[pp], np.nan)
    ok = has_prev & ~np.isnan(start_pos) & ~np.isnan(here) & (here >= start_pos) & (wall >= wall[pp])
    k = np.flatnonzero(ok)
    mf, mt, ws, we = start_pos[k], here[k], wall[pp][k], wall[k]
    pspeed, phidden, pL, pV, pS = speed[pp][k], hidden[pp][k], L[k], V[k], S[k]
    # idle: a prompt at event j makes idle all after since_j of the stretches closed at or before j
    origin = wall.min() if n else 0.0
    us = np.rint((wall - origin) * 1e6).astype(np.int64)
    never = int(us.max()) + 1 if n else 1  # after every statement: no idle prompt
    since = np.where(np.isnan(idle_for), never, np.rint((wall - np.nan_to_num(idle_for, nan=0.0) - origin) * 1e6)).astype(np.int64)
    last = np.ones(n, dtype=bool)
    last[:-1] = first[1:]
    grp = np.cumsum(last[::-1]) - 1  # groups numbered from the end, increasing in the reversed scan
    suffix = -_seg_cummax(-since[::-1], grp)[::-1]  # the earliest prompt moment from each statement on
    cut = np.where(suffix[k] >= never, np.inf, suffix[k] / 1e6 + origin)
    whole_idle = cut <= ws
    split = (cut > ws) & (cut < we)
    wall_s = we - ws
    # the cut's fraction of the stretch, only where the stretch is split (elsewhere the cut may be
    # infinite, and 0 x inf would warn)
    share = np.divide(cut - ws, wall_s, out=np.zeros_like(ws), where=split & (wall_s > 0))
    mid = mf + (mt - mf) * share
    # pieces: the stretch whole (idle or not), or its two parts
    keep = ~split
    pieces = [
        (mf[keep], mt[keep], ws[keep], we[keep], whole_idle[keep], keep),
        (mf[split], mid[split], ws[split], cut[split], np.zeros(split.sum(), dtype=bool), split),
        (mid[split], mt[split], cut[split], we[split], np.ones(split.sum(), dtype=bool), split),
    ]
    PMF = np.concatenate([p[0] for p in pieces])
    PMT = np.concatenate([p[1] for p in pieces])
    PWS = np.concatenate([p[2] for p in pieces])
    PWE = np.concatenate([p[3] for p in pieces])
    PIDLE = np.concatenate([p[4] for p in pieces])
    sel = [np.flatnonzero(p[5]) for p in pieces]
    PSP = np.concatenate([pspeed[s] for s in sel])
    PHID = np.concatenate([phidden[s] for s in sel])
    PL = np.concatenate([pL[s] for s in sel])
    PV = np.concatenate([pV[s] for s in sel])
    PS = np.concatenate([pS[s] for s in sel])
    # pieces that continue one another in a session (a heartbeat between them, nothing else changed) are
    # one play, as video._joined makes them
    oj = np.lexsort((PWE, PWS, PS, PV, PL))
    PMF, PMT, PWS, PWE, PIDLE, PSP, PHID, PL, PV, PS = (a[oj] for a in (PMF, PMT, PWS, PWE, PIDLE, PSP, PHID, PL, PV, PS))
    cont = np.zeros(len(PMF), dtype=bool)
    cont[1:] = ((PL[1:] == PL[:-1]) & (PV[1:] == PV[:-1]) & (PS[1:] == PS[:-1]) & (PWS[1:] == PWE[:-1]) & (PMF[1:] == PMT[:-1])
                & (PSP[1:] == PSP[:-1]) & (PHID[1:] == PHID[:-1]) & (PIDLE[1:] == PIDLE[:-1]))
    heads = np.flatnonzero(~cont)
    tails = np.r_[heads[1:] - 1, len(PMF) - 1] if len(PMF) else heads
    PMT, PWE = PMT[tails], PWE[tails]
    PMF, PWS, PIDLE, PSP, PHID, PL, PV, PS = (a[heads] for a in (PMF, PWS, PIDLE, PSP, PHID, PL, PV, PS))
    # 3. reasons (the first that applies), with the speed limit of the play's video
    lim = limit[PV]
    reason = np.full(len(PMF), -1, dtype=np.int8)
    implausible = (PMT - PMF) > (PWE - PWS) * PSP + PLAUSIBILITY_TOLERANCE_S + EPS
    for code, mask in ((3, implausible), (2, lim < PSP), (1, PIDLE), (0, PHID)):
        reason[mask] = code
    # 4. one at a time per learner, among the plays of one speed limit (as learning.service judges them)
    group = PL * 64 + np.searchsorted(np.unique(limit), lim)
    o2 = np.lexsort((PSP, PWE, PMT, PMF, PS, PV, PWS, group))
    PMF, PMT, PWS, PWE, PSP, PV, reason, group = PMF[o2], PMT[o2], PWS[o2], PWE[o2], PSP[o2], PV[o2], reason[o2], group[o2]
    counted = reason < 0
    m = len(PMF)
    gfirst = np.ones(m, dtype=bool)
    gfirst[1:] = group[1:] != group[:-1]
    gid = np.cumsum(gfirst) - 1
    ends_us = np.rint((PWE - origin) * 1e6).astype(np.int64)
    floor = ends_us.min() - 1 if m else 0
    held = _seg_cummax(np.where(counted, ends_us, floor), gid)
    held_us = np.r_[floor, held[:-1]] if m else held
    held_before = np.where(gfirst | (held_us <= floor), -np.inf, held_us / 1e6 + origin)
    wall_p = PWE - PWS
    cut_at = counted & (wall_p > 0) & (held_before > PWS)
    frac = np.divide(held_before - PWS, wall_p, out=np.zeros_like(PWS), where=cut_at)  # only where it is used (-inf elsewhere)
    new_from = np.where(cut_at, np.where(held_before < PWE, np.minimum(PMF + (PMT - PMF) * frac, PMT), PMT), PMF)
    # 5. union per (learner, video) of counted media within [0, length]
    vlen = length[PV]
    lo = np.clip(new_from, 0, vlen)
    hi = np.clip(PMT, 0, vlen)
    learner_of = (group // 64)
    lv = learner_of * len(videos) + PV
    use = counted & (hi > lo)
    u_lv, u_lo, u_hi = lv[use], lo[use], hi[use]
    o3 = np.lexsort((u_lo, u_lv))
    u_lv, u_lo, u_hi = u_lv[o3], u_lo[o3], u_hi[o3]
    q = len(u_lv)
    ufirst = np.ones(q, dtype=bool)
    ufirst[1:] = u_lv[1:] != u_lv[:-1]
    uid = np.cumsum(ufirst) - 1
    runmax = _seg_cummax(np.rint(u_hi * 1e6).astype(np.int64), uid) / 1e6 if q else u_hi
    before = np.r_[-np.inf, runmax[:-1]] if q else runmax
    before = np.where(ufirst, -np.inf, before)
    gain = np.maximum(0.0, u_hi - np.maximum(u_lo, before))
    keys, starts = np.unique(u_lv, return_index=True)
    watched = np.add.reduceat(gain, starts) if q else np.array([])
    # completeness: the gaps (before the first piece, between pieces, after the last) outside the ends
    vid = keys % len(videos)
    lens = length[vid]
    gap_lo = np.where(ufirst, 0.0, np.maximum(before, 0.0))
    gap_hi = u_lo
    tail_lo = runmax[np.r_[starts[1:] - 1, q - 1]] if q else np.array([])
    g_lo = np.concatenate([gap_lo, tail_lo])
    g_hi = np.concatenate([gap_hi, lens])
    g_key = np.concatenate([uid, np.arange(len(keys))])
    g_len = length[np.concatenate([vid[uid], vid])]
    real = g_hi > g_lo
    g_lo, g_hi, g_key, g_len = g_lo[real], g_hi[real], g_key[real], g_len[real]
    head_end = np.minimum(g_len, END_TOLERANCE_S)
    tail_start = np.maximum(0.0, g_len - END_TOLERANCE_S)
    inner = np.maximum(0.0, np.minimum(g_hi, tail_start) - np.maximum(g_lo, head_end))
    middle_gap = np.bincount(g_key, weights=inner, minlength=len(keys))
    missing = lens - watched
    complete = (middle_gap <= EPS) & (missing <= END_TOLERANCE_S + EPS) & (watched > 0)
    # excluded seconds per reason (whole pieces, clipped to the length)
    ex_len = np.clip(PMT, 0, vlen) - np.clip(PMF, 0, vlen)
    out_w: dict[tuple[int, str], float] = {}
    out_c: dict[tuple[int, str], bool] = {}
    out_e: dict[tuple[int, str], dict[str, float]] = {}
    for key_, w, comp in zip(keys.tolist(), watched.tolist(), complete.tolist(), strict=True):
        k2 = (key_ // len(videos), videos[key_ % len(videos)])
        out_w[k2], out_c[k2] = min(w, lengths[k2[1]]), comp
    for r, name in enumerate(REASONS):
        mask = reason == r
        if mask.any():
            sums = np.bincount(lv[mask], weights=ex_len[mask])
            for key_ in np.flatnonzero(sums):
                k2 = (int(key_) // len(videos), videos[int(key_) % len(videos)])
                out_e.setdefault(k2, dict.fromkeys(REASONS, 0.0))[name] = float(sums[key_])
    return Figures(out_w, out_c, out_e)
