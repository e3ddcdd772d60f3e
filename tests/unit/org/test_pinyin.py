"""The people picker's pinyin keys: huang / huangqing / hq find 黄清; Latin names as written."""

from __future__ import annotations

import pytest

from trainquant.org.pinyin import is_pinyin_query, keys, matches


def test_keys_by_hand():
    assert keys("黄清") == ("huangqing", "hq")
    assert keys("王婷楠") == ("wangtingnan", "wtn")
    assert keys("Daniel Hughes") == ("danielhughes", "dh")


@pytest.mark.parametrize(("q", "found"), [("huang", True), ("HuangQ", True), ("huang qing", True), ("hq", True), ("h", True),
                                          ("qing", False), ("wang", False), ("hqx", False)])
def test_a_query_matches_the_start_of_the_pinyin_or_the_initials(q, found):
    assert matches("黄清", q) is found


def test_only_ascii_letters_are_a_pinyin_query():
    assert is_pinyin_query("huang") and is_pinyin_query("huang qing")
    assert not is_pinyin_query("T0003") and not is_pinyin_query("黄") and not is_pinyin_query("  ")
