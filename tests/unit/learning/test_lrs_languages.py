"""Accept-Language and the one language a canonical statement keeps (learning/xapi/output.py
``accepted_languages``, ``pick_language``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.learning.xapi.output import accepted_languages, pick_language

# --- Accept-Language -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", " ", ",", " , ;q=1"])
def test_no_languages(header):
    assert accepted_languages(header) == []


def test_languages_by_q_value():
    assert accepted_languages("fr;q=0.3, zh-CN, de;q=0.7, en;q=0.9") == ["zh-cn", "en", "de", "fr"]


def test_equal_q_values_keep_header_order():
    assert accepted_languages("da, en-gb;q=0.8, en;q=0.8, fr;q=0.8") == ["da", "en-gb", "en", "fr"]
    assert accepted_languages("zh, en, fr") == ["zh", "en", "fr"]
    assert accepted_languages("fr;q=1.0, en") == ["fr", "en"]


@pytest.mark.parametrize("header", ["en;q=0", "en;q=0.0", "en; q=0.000"])
def test_q_zero_is_dropped(header):
    assert accepted_languages(header) == []
    assert accepted_languages(header + ", fr;q=0.1") == ["fr"]


@pytest.mark.parametrize("q", ["abc", "", "0.5.1", "high"])
def test_a_malformed_q_counts_as_zero(q):
    assert accepted_languages(f"en;q={q}, fr;q=0.5") == ["fr"]


def test_spaces_and_case_in_the_header():
    assert accepted_languages(" en-US ; q = 0.7 , FR ") == ["fr", "en-us"]
    assert accepted_languages("en;Q=0.2, de;q=0.4") == ["de", "en"]
    assert accepted_languages("*;q=0.1, de") == ["de", "*"]


_TAGS = ["en", "en-us", "zh-cn", "zh", "fr", "de-de", "*"]
_QS = [None, "1", "0.9", "0.5", "0.5", "0.001", "0", "x"]


@given(st.lists(st.tuples(st.sampled_from(_TAGS), st.sampled_from(_QS)), max_size=6, unique_by=lambda e: e[0]))
def test_languages_are_a_stable_sort_by_q(entries):
    header = ", ".join(tag if q is None else f"{tag};q={q}" for tag, q in entries)
    weight = {None: 1.0, "1": 1.0, "0.9": 0.9, "0.5": 0.5, "0.001": 0.001, "0": 0.0, "x": 0.0}
    kept = [(tag, weight[q]) for tag, q in entries if weight[q] > 0]
    # Python's sort is stable: ties stay in header order.
    assert accepted_languages(header) == [tag for tag, _ in sorted(kept, key=lambda e: -e[1])]


def test_pick_exact_match_ignoring_case():
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["zh-cn"]) == {"zh-CN": "b"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["en-us"]) == {"en-US": "a"}


def test_pick_exact_match_before_a_same_primary_subtag():
    assert pick_language({"zh-TW": "t", "zh-CN": "c"}, ["zh-cn"]) == {"zh-CN": "c"}


def test_pick_by_primary_subtag_either_way():
    assert pick_language({"en-US": "a", "zh-TW": "t"}, ["zh-cn"]) == {"zh-TW": "t"}
    assert pick_language({"en-US": "a", "zh-CN": "c"}, ["zh"]) == {"zh-CN": "c"}
    assert pick_language({"fr": "f", "en": "e"}, ["en-gb"]) == {"en": "e"}


def test_pick_follows_preference_order():
    assert pick_language({"en-US": "a", "fr": "f"}, ["fr", "en-us"]) == {"fr": "f"}
    assert pick_language({"en-US": "a", "fr": "f"}, ["de", "en-us", "fr"]) == {"en-US": "a"}
    # Each tag is tried exactly, then by its primary subtag, before the next tag.
    assert pick_language({"en-US": "a", "fr": "f"}, ["en-gb", "fr"]) == {"en-US": "a"}


def test_pick_star_takes_the_first_entry():
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["*"]) == {"en-US": "a"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["*", "zh-cn"]) == {"en-US": "a"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["zh-cn", "*"]) == {"zh-CN": "b"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["de", "*"]) == {"en-US": "a"}


def test_pick_falls_back_to_the_first_entry():
    assert pick_language({"de-DE": "d", "en-US": "a"}, ["fr", "ja"]) == {"de-DE": "d"}
    assert pick_language({"de-DE": "d", "en-US": "a"}, []) == {"de-DE": "d"}


def test_pick_from_an_empty_map():
    assert pick_language({}, ["en"]) == {}
    assert pick_language({}, []) == {}


_MAPS = st.dictionaries(st.sampled_from(["en", "en-US", "en-GB", "zh-CN", "zh-TW", "fr", "und"]), st.text(max_size=3), max_size=5)
_PREFERRED = st.lists(st.sampled_from(["en", "en-us", "zh-cn", "zh", "fr", "de", "*"]), max_size=4)


@given(_MAPS, _PREFERRED)
def test_pick_is_one_entry_of_the_map(language_map, preferred):
    picked = pick_language(language_map, preferred)
    assert len(picked) == (1 if language_map else 0)
    assert picked.items() <= language_map.items()
