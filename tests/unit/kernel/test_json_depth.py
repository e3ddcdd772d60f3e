"""``deps.json_depth``: the nesting of a JSON text, read from its bytes without parsing or recursion."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.jsonbody import json_depth

# Text that looks like structure: brackets, quotes and backslashes inside strings must not count.
tricky = st.lists(st.sampled_from([*'[]{}"\\/abc名\n\t', "\\u005b", "\\\\"]), max_size=8).map("".join)
values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), tricky),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(tricky, inner, max_size=4)),
    max_leaves=40,
)


def reference_depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max((reference_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((reference_depth(v) for v in value), default=0)
    return 0


@settings(max_examples=500)
@given(values, st.booleans())
def test_the_depth_of_any_document_is_what_parsing_it_would_give(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only, separators=(",", ":") if ascii_only else None).encode()
    assert json_depth(text) == reference_depth(value)


@pytest.mark.parametrize("depth", [1, 64, 256, 1024, 100_000])
def test_deep_documents_are_measured_without_recursion(depth):
    assert json_depth(b"[" * depth + b"]" * depth) == depth
    assert json_depth(b'{"a":' * depth + b"1" + b"}" * depth) == depth


def test_brackets_in_strings_and_escapes_do_not_count():
    assert json_depth(rb'{"a": "[[[{{{", "b": "\"[[", "c": "\\", "d": [1]}') == 2
    assert json_depth(b"1") == json_depth(b"") == json_depth(b'"x"') == 0
