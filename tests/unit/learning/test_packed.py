"""Packed video columns (learning/packed.py): however the statements are cut into blocks, and however
the blocks are merged, the columns read from them are the ones read from all the statements at once;
records survive their bytes; a filter leaves out exactly what it names."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.learning.test_fast import T0, VIDEOS, _doc, statement
from trainquant.learning.fast import Columns
from trainquant.learning.packed import Packed, concat, extract

FIELDS = ("learner", "video", "session", "verb", "wall", "order", "time", "time_from", "time_to", "speed", "hidden", "idle_for")


def _rows(events: list[dict]) -> list[tuple[int, int, dict, float, float]]:
    return [(pk, e["learner"], _doc(e), (T0 + timedelta(milliseconds=e["wall_ms"])).timestamp(),
             (T0 + timedelta(milliseconds=e["wall_ms"])).timestamp()) for pk, e in enumerate(events, start=1)]


def _same(a: Columns, b: Columns) -> None:
    oa, ob = np.argsort(a.order, kind="stable"), np.argsort(b.order, kind="stable")
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name)[oa], getattr(b, name)[ob], err_msg=name)


@settings(max_examples=150, deadline=None)
@given(st.lists(statement, max_size=40), st.lists(st.integers(0, 40), max_size=6), st.booleans())
def test_any_cut_into_blocks_and_any_merge_read_the_same(events, cuts, merge):
    rows = _rows(events)
    whole = Columns.from_packed([extract(rows)], VIDEOS)
    bounds = sorted({0, len(rows), *(min(c, len(rows)) for c in cuts)})
    parts = [extract(rows[a:b]) for a, b in pairwise(bounds)]
    again = [Packed.from_bytes(p.activities, p.sessions, p.to_bytes()) for p in parts]  # as stored and read back
    _same(Columns.from_packed([concat(again)] if merge else again, VIDEOS), whole)


@settings(max_examples=100, deadline=None)
@given(st.lists(statement, min_size=1, max_size=40), st.data())
def test_filters_leave_out_exactly_what_they_name(events, data):
    rows = _rows(events)
    learners = data.draw(st.lists(st.integers(0, 2), max_size=3))
    exclude = data.draw(st.lists(st.integers(1, len(rows)), max_size=5))
    since = (T0 + timedelta(milliseconds=data.draw(st.integers(0, 400_000)))).timestamp()
    got = Columns.from_packed([extract(rows)], VIDEOS, learners=learners, exclude=exclude, since=since)
    kept = [r for r in rows if r[1] in learners and r[0] not in exclude and r[3] >= since]
    _same(got, Columns.from_packed([extract(kept)], VIDEOS))
