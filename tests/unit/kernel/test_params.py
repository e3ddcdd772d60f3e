"""Ids and dates parsed out of page text: anything a row or the calendar cannot hold is None, never an error."""

from __future__ import annotations

from datetime import date

import pytest

from trainquant.params import MAX_ID, parse_day, parse_id


@pytest.mark.parametrize(("text", "expected"), [
    ("42", 42), (" 7 ", 7), (str(MAX_ID), MAX_ID), (str(MAX_ID + 1), None), ("1180591620717411303424", None),
    ("0", None), ("-1", None), ("", None), (None, None), ("4e2", None), ("١٢", None), ("12abc", None),
])
def test_parse_id(text, expected):
    assert parse_id(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-09-01", date(2026, 9, 1)), ("0001-01-01", None), ("9999-12-31", None), ("2026-02-30", None), ("", None), (None, None),
])
def test_parse_day(text, expected):
    assert parse_day(text) == expected
