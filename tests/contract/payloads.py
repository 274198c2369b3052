"""Hypothesis strategies for parser property tests: any JSON, and a documented payload with a
few of its fields deleted or replaced. A parser must answer each with a valid model or a clear
hub error, never an unhandled exception."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += _paths(inner, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn, fixture: Any) -> Any:
    """The payload with one to four fields deleted or replaced by any JSON."""
    payload = copy.deepcopy(fixture)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(payload)
        if not paths:
            break
        *parent_path, last = draw(st.sampled_from(paths))
        parent = payload
        for part in parent_path:
            parent = parent[part]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[last]
        else:
            parent[last] = draw(JSON)
    return payload
