"""Reading a hook request: nesting depth measured on the bytes; the PEComa screen."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from pecoma.web.cds.requests import max_depth
from pecoma.web.cds.screen import mentions_pecoma, text_may_mention

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab\n', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.text(alphabet='[]{}"\\k', max_size=4), inner, max_size=3),
    max_leaves=30,
)


def depth(value: Any, level: int = 1) -> int:
    if isinstance(value, dict):
        return max([depth(v, level + 1) for v in value.values()] + [level])
    if isinstance(value, list):
        return max([depth(v, level + 1) for v in value] + [level])
    return level - 1


@given(JSON, st.booleans())
def test_depth_on_bytes_is_the_parsed_depth(value: Any, ascii_only: bool) -> None:
    """Brackets, quotes and backslashes inside strings never fool the byte count."""
    raw = json.dumps(value, ensure_ascii=ascii_only).encode()
    assert max_depth(raw) == depth(value)


@given(st.binary(max_size=64))
def test_depth_of_any_bytes_never_fails(raw: bytes) -> None:
    """Not JSON at all (an unpaired quote, a lone backslash): a number, never an error."""
    assert isinstance(max_depth(raw), int)
    assert max_depth(b'"\\') == 0


@given(JSON)
def test_text_screen_never_misses_what_the_resource_screen_sees(value: Any) -> None:
    """Whenever the structural look finds a PEComa marker, the byte look does too."""
    resource = {"resourceType": "Condition", "code": {"text": "perivascular epithelioid"},
                "note": value}
    for res in (resource, {"resourceType": "Observation", "x": value}):
        raw = json.dumps(res).encode()
        if mentions_pecoma([res]):
            assert text_may_mention(raw)


def test_escaped_text_is_looked_at() -> None:
    raw = b'{"resourceType": "Condition", "code": {"text": "\\u0050EComa"}}'
    assert text_may_mention(raw)
    assert mentions_pecoma([json.loads(raw)])
