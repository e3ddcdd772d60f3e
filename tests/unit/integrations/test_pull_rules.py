"""Pull rules: JSON paths, items into records, the next page, waiting (``integrations/pull/rules.py``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.integrations.pull.rules import (
    MISSING,
    Mapping,
    Paging,
    PathError,
    Problem,
    RecordMap,
    backoff,
    first_position,
    item_cursor,
    link_next,
    lookup,
    next_position,
    page_items,
    parse_path,
    request_url,
    retry_after,
    to_records,
)

RATINGS = Mapping(items="$.data", record_id="$.id", who="external_id", who_path="$.teacher.id",
                  records=(RecordMap("teaching.rating.overall", "$.scores.overall"), RecordMap("teaching.rating.interaction", "$.scores['class interaction']")),
                  at="$.rated_at", cursor_field="$.updated_at")


def test_paths_of_the_supported_subset():
    assert parse_path("$") == ()
    assert parse_path("$.a.b[0].c") == ("a", "b", 0, "c")
    assert parse_path("$['class interaction'][2]") == ("class interaction", 2)
    for bad in ("a.b", "$.", "$..a", "$[*]", "$.a[?(@.x)]", "$[-1]"):
        with pytest.raises(PathError):
            parse_path(bad)


def test_lookup_says_missing_rather_than_raising():
    doc = {"a": [{"b": 1}], "n": None}
    assert lookup(doc, ("a", 0, "b")) == 1
    assert lookup(doc, ("n",)) is None
    assert lookup(doc, ("a", 1)) is MISSING
    assert lookup(doc, ("a", "b")) is MISSING
    assert lookup(doc, ("x",)) is MISSING
    assert lookup([1, 2], ("x",)) is MISSING


def test_an_item_with_two_metrics_gives_two_records_with_their_own_ids():
    item = {"id": 77, "teacher": {"id": "T-9"}, "scores": {"overall": 4.6, "class interaction": "4.8"},
            "rated_at": "2026-03-02T10:00:00+08:00", "updated_at": "2026-03-02T10:05:00+08:00"}
    assert to_records(item, RATINGS) == [
        {"external_id": "T-9", "at": "2026-03-02T10:00:00+08:00", "metric": "teaching.rating.overall", "record_id": "77:teaching.rating.overall", "value": 4.6},
        {"external_id": "T-9", "at": "2026-03-02T10:00:00+08:00", "metric": "teaching.rating.interaction",
         "record_id": "77:teaching.rating.interaction", "value": "4.8"},
    ]
    assert item_cursor(item, RATINGS) == datetime(2026, 3, 2, 2, 5, tzinfo=UTC)


def test_a_field_the_item_lacks_is_left_out_for_the_store_to_reject_with_its_reason():
    got = to_records({"id": "x", "scores": {"overall": 5}}, RATINGS)
    assert got[0] == {"metric": "teaching.rating.overall", "record_id": "x:teaching.rating.overall", "value": 5}
    assert "value" not in got[1]
    assert item_cursor({"updated_at": "yesterday"}, RATINGS) is None
    assert item_cursor({"updated_at": "2026-03-02T10:05:00"}, RATINGS) is None  # no offset: not a moment


def test_a_mapping_names_its_problems():
    assert RATINGS.problem() is None
    assert Mapping("$", "$.id", "who", "$.t", (RecordMap("crm.leads", "$.n"),), at="$.at").problem() == Problem("pull-who", "who is external_id or employee_no")
    assert Mapping("$", "$.id", "employee_no", "$.t", (), at="$.at").problem().code == "pull-no-records"  # type: ignore[union-attr]
    assert Mapping("$", "$.id", "employee_no", "$.t", (RecordMap("crm.leads", "$.n"),)).problem().code == "pull-when"  # type: ignore[union-attr]
    bad_path = Mapping("$", "$.id", "employee_no", "$.t", (RecordMap("crm.leads", "n"),), at="$.at").problem()
    assert bad_path is not None and bad_path.code == "pull-path" and bad_path.params["name"] == "records.crm.leads"


def test_page_items_refuses_a_page_the_mapping_does_not_fit():
    assert page_items({"data": [1, 2]}, RATINGS) == [1, 2]
    assert page_items({"items": [1, 2]}, RATINGS) is None
    assert page_items([1, 2], Mapping("$", "$.id", "employee_no", "$.t", (RecordMap("crm.leads", "$.n"),), at="$.at")) == [1, 2]


def test_request_urls_for_each_style_keep_the_configured_query():
    base = "https://crm.example/api/v1/leads?region=east&page=9"
    page = Paging("page", size=50)
    assert request_url(base, page, first_position(page), since_param="updated_since", since="2026-01-01T00:00:00+08:00") == \
        "https://crm.example/api/v1/leads?region=east&updated_since=2026-01-01T00%3A00%3A00%2B08%3A00&page=1&per_page=50"
    offset = Paging("offset", size=20, size_param="limit")
    assert request_url(base, offset, {"offset": 40}, since_param=None, since=None) == \
        "https://crm.example/api/v1/leads?region=east&page=9&offset=40&limit=20"
    cursor = Paging("cursor", size_param="limit")
    assert request_url(base, cursor, {}, since_param="since", since=None).endswith("page=9&limit=100")
    assert request_url(base, cursor, {"cursor": "abc=="}, since_param=None, since=None).endswith("limit=100&cursor=abc%3D%3D")
    link = Paging("link")
    assert request_url(base, link, {"url": "https://crm.example/next?p=2"}, since_param="s", since="x") == "https://crm.example/next?p=2"


def test_link_headers_as_rfc_8288_writes_them():
    assert link_next('<https://a/x?page=2>; rel="next", <https://a/x?page=9>; rel="last"') == "https://a/x?page=2"
    assert link_next('<https://a/x?page=9>; rel="last", <https://a/x?page=3>; rel=next') == "https://a/x?page=3"
    assert link_next('<https://a/1>; rel="prev next"') == "https://a/1"
    assert link_next('<https://a/1>; rel="prev"') is None
    assert link_next(None) is None and link_next("") is None


def test_next_positions():
    page = Paging("page", size=2)
    assert next_position(page, {"page": 1}, {"total": 5}, [1, 2], None) == {"page": 2}
    assert next_position(page, {"page": 3}, {"total": 5}, [5], None) is None
    assert next_position(page, {"page": 3}, {}, [5], None) == {"page": 4}  # no total: until an empty page
    assert next_position(page, {"page": 4}, {}, [], None) is None
    offset = Paging("offset", size=2)
    assert next_position(offset, {"offset": 2}, {"total": 5}, [3, 4], None) == {"offset": 4}
    assert next_position(offset, {"offset": 4}, {"total": 5}, [5], None) is None
    cursor = Paging("cursor")
    assert next_position(cursor, {}, {"next_cursor": "c2"}, [1], None) == {"cursor": "c2"}
    assert next_position(cursor, {"cursor": "c2"}, {"next_cursor": None}, [1], None) is None
    assert next_position(cursor, {"cursor": "c2"}, {"next_cursor": "c3"}, [], None) is None  # an empty page ends it
    link = Paging("link")
    assert next_position(link, {"page": 1}, [1], [1], "https://a/2") == {"url": "https://a/2"}
    assert next_position(link, {"url": "https://a/2"}, [1], [1], None) is None


@given(st.integers(0, 400), st.integers(1, 50))
def test_page_and_offset_walks_visit_every_item_once(total, size):
    # Reference: the items split into consecutive slices of ``size``.
    items = list(range(total))
    for style, key in (("page", "page"), ("offset", "offset")):
        p = Paging(style, size=size)
        position: dict | None = first_position(p)
        seen: list[int] = []
        while position is not None:
            start = (position["page"] - 1) * size if key == "page" else position["offset"]
            chunk = items[start:start + size]
            seen += chunk
            position = next_position(p, position, {"total": total}, chunk, None)
        assert seen == items


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
    assert retry_after("7", now) == 7.0
    assert retry_after("Tue, 01 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after("Tue, 01 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after("soon", now) is None and retry_after(None, now) is None and retry_after(" ", now) is None


@given(st.integers(0, 30), st.floats(0, 0.999))
def test_backoff_grows_to_its_cap_and_stays_in_the_upper_half(attempt, jitter):
    wait = backoff(attempt, base=0.5, cap=60.0, jitter=jitter)
    full = min(60.0, 0.5 * 2 ** attempt)
    assert full / 2 <= wait <= full
