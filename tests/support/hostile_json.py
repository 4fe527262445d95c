"""Hypothesis strategies for JSON from outside, shared by the fuzz tests of each entry point
(console websocket, REST API, App Server): arbitrary JSON, and the values that broke something once."""

from __future__ import annotations

import json

from hypothesis import strategies as st

# Text as JSON can carry it: any code point, lone surrogates (written "\ud800") and NUL included.
any_text = st.text(st.characters(exclude_categories=()), max_size=20)
json_scalars = st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=5),
    max_leaves=12,
)
# Around the limits of our inputs (a note's 500 characters, a reply's 4,000, a frame's 64 KiB).
huge_strings = st.builds(
    lambda char, length: char * length,
    st.sampled_from(["x", "好", "\x00", "\ud800"]),
    st.sampled_from([499, 501, 2_001, 3_999, 4_001, 20_000, 70_000]),
)
# Nesting around the policy's 32 levels (cs_project.json_input) and far beyond, within what
# json.dumps can write back (Python's recursion limit).
deep_values = st.integers(min_value=30, max_value=900).map(lambda depth: json.loads("[" * depth + "]" * depth))
# Text PostgreSQL cannot hold, numbers beyond its columns and beyond JSON (1e400 reads as
# infinity), the wrong types.
edge_texts = st.sampled_from(["", " ", "\x00", "a\x00b", "\ud800", "x\udfffy"])
edge_numbers = st.sampled_from([2**31, 2**63, -(2**63) - 1, 2**70, 1e400, -1e400, float("nan"), -1, 0, 1.5, True])
edge_values = edge_texts | edge_numbers
# What replaces a field of a valid document: the edge cases about as often as arbitrary JSON.
hostile_values = st.one_of(
    edge_texts,
    edge_numbers,
    huge_strings,
    deep_values,
    json_values,
    st.dictionaries(any_text | edge_values.map(str), edge_values, min_size=1, max_size=3),
)


def nested_text(depth: int) -> str:
    """JSON text of ``depth`` nested arrays, built as text: no Python object that deep is ever made."""
    return "[" * depth + "]" * depth
