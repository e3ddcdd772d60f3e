"""The LRS's canonical activity definitions (learning/xapi/facts.py ``merge_definition``): what a later
statement's definition adds to what is known, by hand-worked cases and properties."""

from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from trainquant.learning.xapi.facts import merge_definition

# --- merge_definition ----------------------------------------------------------------------------------


def test_merge_with_nothing_known_is_the_new_definition():
    assert merge_definition(None, {"name": {"en-US": "A"}, "type": "http://t.example/a"}) == {"name": {"en-US": "A"}, "type": "http://t.example/a"}
    assert merge_definition({}, {"moreInfo": "http://m.example/"}) == {"moreInfo": "http://m.example/"}


def test_merge_adds_languages_and_replaces_a_repeated_one():
    known = {"name": {"en-US": "Safety", "de-DE": "Sicherheit"}, "description": {"en-US": "Old"}}
    seen = {"name": {"zh-CN": "安全", "en-US": "Safety 101"}, "description": {"fr-FR": "Nouveau"}}
    assert merge_definition(known, seen) == {
        "name": {"en-US": "Safety 101", "de-DE": "Sicherheit", "zh-CN": "安全"},
        "description": {"en-US": "Old", "fr-FR": "Nouveau"},
    }


def test_merge_extensions_key_by_key():
    known = {"extensions": {"http://e.example/a": 1, "http://e.example/b": {"x": 1}}}
    seen = {"extensions": {"http://e.example/b": {"y": 2}, "http://e.example/c": [3]}}
    # Each extension's value is replaced whole by the newer one, not merged inside.
    assert merge_definition(known, seen) == {"extensions": {"http://e.example/a": 1, "http://e.example/b": {"y": 2}, "http://e.example/c": [3]}}


def test_merge_replaces_other_properties_and_keeps_unmentioned_ones():
    known = {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "moreInfo": "http://m.example/old",
        "interactionType": "choice",
        "correctResponsesPattern": ["golf"],
        "choices": [{"id": "golf", "description": {"en-US": "Golf"}}, {"id": "tetris", "description": {"en-US": "Tetris"}}],
    }
    seen = {
        "moreInfo": "http://m.example/new",
        "correctResponsesPattern": ["tetris"],
        "choices": [{"id": "tetris", "description": {"zh-CN": "俄罗斯方块"}}],
    }
    assert merge_definition(known, seen) == {
        "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
        "moreInfo": "http://m.example/new",
        "interactionType": "choice",
        "correctResponsesPattern": ["tetris"],
        "choices": [{"id": "tetris", "description": {"zh-CN": "俄罗斯方块"}}],
    }


def test_merge_a_language_map_over_none():
    assert merge_definition({"type": "http://t.example/a"}, {"name": {"en": "A"}}) == {"type": "http://t.example/a", "name": {"en": "A"}}


def test_merge_does_not_touch_its_inputs():
    known = {"name": {"en-US": "A"}, "extensions": {"http://e.example/a": 1}}
    seen = {"name": {"zh-CN": "甲"}, "extensions": {"http://e.example/b": 2}}
    known_before, seen_before = copy.deepcopy(known), copy.deepcopy(seen)
    merge_definition(known, seen)
    assert known == known_before
    assert seen == seen_before


_LANGUAGE_MAPS = st.dictionaries(st.sampled_from(["en", "en-US", "zh-CN", "fr", "de-DE"]), st.text(max_size=5), max_size=4)
_DEFINITIONS = st.fixed_dictionaries(
    {},
    optional={
        "name": _LANGUAGE_MAPS,
        "description": _LANGUAGE_MAPS,
        "extensions": st.dictionaries(st.sampled_from(["http://e.example/a", "http://e.example/b"]), st.integers(), max_size=2),
        "type": st.sampled_from(["http://t.example/a", "http://t.example/b"]),
        "moreInfo": st.sampled_from(["http://m.example/1", "http://m.example/2"]),
    },
)


@given(_DEFINITIONS, _DEFINITIONS)
def test_merge_keeps_the_newest_value_of_everything(known, seen):
    merged = merge_definition(known, seen)
    assert set(merged) == set(known) | set(seen)
    for key in ("name", "description", "extensions"):
        if key in seen:
            assert set(merged[key]) == set(known.get(key, {})) | set(seen[key])
            for entry, value in merged[key].items():
                assert value == (seen[key][entry] if entry in seen[key] else known[key][entry])
        elif key in known:
            assert merged[key] == known[key]
    for key in ("type", "moreInfo"):
        if key in seen or key in known:
            assert merged[key] == seen.get(key, known.get(key))
    assert merge_definition(merged, seen) == merged  # the same statement again changes nothing
