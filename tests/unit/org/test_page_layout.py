"""Layout helpers of the HR pages: the week view's placement of classes and the department tree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from trainquant.org.pages import department_tree
from trainquant.org.schemas import DepartmentRead, OccurrenceRead
from trainquant.web.weekgrid import week_grid

MONDAY = date(2026, 8, 31)


def occ(day: date, start: time, end: time, course: str = "c", recurring: bool = True) -> OccurrenceRead:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return OccurrenceRead(starts_at=at, ends_at=at, local_day=day, local_start=start, local_end=end, course=course, recurring=recurring)


def blocks_of(days, day: date):
    return dict(days)[day]


def test_seven_days_from_monday():
    days, outside = week_grid([], MONDAY)
    assert [d for d, _ in days] == [MONDAY + timedelta(days=i) for i in range(7)]
    assert all(blocks == [] for _, blocks in days) and outside == []


@pytest.mark.parametrize(
    ("start", "end", "top", "height"),
    [
        (time(8, 0), time(9, 0), 0.0, 100 / 14),
        (time(9, 0), time(10, 30), 100 / 14, 150 / 14),
        (time(21, 0), time(22, 0), 1300 / 14, 100 / 14),
        (time(7, 0), time(9, 0), 0.0, 100 / 14),  # clipped at 08:00
        (time(21, 30), time(23, 0), 1350 / 14, 50 / 14),  # clipped at 22:00
        (time(21, 0), time(0, 0), 1300 / 14, 100 / 14),  # ends at midnight
    ],
)
def test_blocks_are_placed_by_start_and_length(start, end, top, height):
    days, outside = week_grid([occ(MONDAY, start, end)], MONDAY)
    (block,) = blocks_of(days, MONDAY)
    assert block.top == pytest.approx(top) and block.height == pytest.approx(height)
    assert (block.lane, block.lanes) == (0, 1) and outside == []


def test_classes_outside_the_visible_hours_or_week_are_listed_apart():
    early = occ(MONDAY, time(6, 0), time(7, 30))
    late = occ(MONDAY, time(22, 0), time(23, 0))
    next_week = occ(date(2026, 9, 7), time(9, 0), time(10, 0))
    days, outside = week_grid([early, late, next_week], MONDAY)
    assert outside == [early, late, next_week]
    assert all(blocks == [] for _, blocks in days)


def test_overlapping_classes_share_the_width():
    a = occ(MONDAY, time(9, 0), time(11, 0), "a")
    b = occ(MONDAY, time(10, 0), time(12, 0), "b")
    c = occ(MONDAY, time(11, 0), time(12, 0), "c")  # a has ended: c reuses lane 0
    d = occ(MONDAY, time(14, 0), time(15, 0), "d")  # a new cluster, full width again
    days, _ = week_grid([d, c, b, a], MONDAY)
    placed = {blk.course: (blk.lane, blk.lanes) for blk in blocks_of(days, MONDAY)}
    assert placed == {"a": (0, 2), "b": (1, 2), "c": (0, 2), "d": (0, 1)}


def test_one_off_classes_keep_their_flag():
    days, _ = week_grid([occ(date(2026, 9, 2), time(18, 0), time(19, 0), recurring=False)], MONDAY)
    (block,) = blocks_of(days, date(2026, 9, 2))
    assert block.recurring is False


def dept(id_: int, code: str, parent: int | None, count: int) -> DepartmentRead:
    return DepartmentRead(id=id_, code=code, name=code, name_en=None, kind="teaching", parent_id=parent, employee_count=count)


def test_department_tree_orders_children_under_parents_with_subtree_counts():
    rows = department_tree([dept(1, "Z-ROOT", None, 1), dept(2, "A-CHILD", 1, 5), dept(3, "B-GRAND", 2, 2), dept(4, "M-OTHER", None, 3)])
    assert [(r.department.code, r.depth, r.headcount) for r in rows] == [
        ("M-OTHER", 0, 3),
        ("Z-ROOT", 0, 8),
        ("A-CHILD", 1, 7),
        ("B-GRAND", 2, 2),
    ]


def test_department_tree_never_loses_a_department():
    # A cycle cannot be made through the service, but rows edited by hand must still show.
    rows = department_tree([dept(1, "A", 2, 1), dept(2, "B", 1, 1), dept(3, "C", 99, 1)])
    assert sorted(r.department.code for r in rows) == ["A", "B", "C"]
