"""Reading a hook request: nesting depth measured on the bytes; the PEComa screen."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
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


def _condition(code: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": "c-x1", "code": code,
            "subject": {"reference": "Patient/p-x1"}}


#: How a pathology report's text may write the words: a non-breaking space (pasted), two
#: spaces, a hyphen, a non-breaking hyphen, a dash, a line break, a thin space.
_BETWEEN = ("\u00a0", "  ", "-", "\u2011", " \u2013 ", "\n", "\u2009")


@pytest.mark.parametrize("between", _BETWEEN)
@pytest.mark.parametrize("ascii_only", [False, True], ids=["utf-8", "escaped"])
def test_the_words_with_any_blank_or_hyphen_are_screened_in(between: str,
                                                             ascii_only: bool) -> None:
    """'Perivascular<blank or hyphen>epithelioid cell tumour' in a Condition's text: the
    reader reads it as the PEComa, so neither look may screen the patient out. The byte
    look searched for the two words with one ASCII space and the resource look compared
    likewise: the patient had no cards at all. Sent as raw UTF-8 (as most servers do)
    and \\u-escaped."""
    res = _condition({"text": f"Perivascular{between}epithelioid cell tumour of uterus"})
    raw = json.dumps(res, ensure_ascii=ascii_only).encode("utf-8")
    assert text_may_mention(raw)
    assert mentions_pecoma([res])


def test_a_name_split_between_text_and_display_is_screened_in() -> None:
    """The reader reads a concept's text and displays together ('Perivascular' +
    'epithelioid cell tumour' names the PEComa), so the screen must too: it had looked
    at each string alone and screened the patient out."""
    from pecoma.fhir.mcode import lower_words, names_pecoma
    code = {"text": "Tumour, perivascular",
            "coding": [{"system": "http://snomed.info/sct", "code": "363346000",
                        "display": "epithelioid cell tumour"}]}
    assert names_pecoma(lower_words(code))  # what the reader decides on
    assert mentions_pecoma([_condition(code)])
    assert text_may_mention(json.dumps(_condition(code)).encode())


@pytest.mark.parametrize("text", ["Perivascular dermatitis", "Perivascular fibrosis",
                                  "Epithelioid sarcoma"])
def test_other_perivascular_words_are_not_a_pecoma(text: str) -> None:
    """'Perivascular' alone names no PEComa: such a record gets no cards (a full reading
    would only refuse it and show an error card to a patient without PEComa)."""
    assert not mentions_pecoma([_condition({"text": text})])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a loaded machine
@given(st.lists(st.sampled_from([" ", "\u00a0", "-", "\u2010", "\u2014", "\t", "\n",
                                 "\u202f", "\u3000"]), min_size=1, max_size=4),
       st.booleans(), st.sampled_from(["PERIVASCULAR", "Perivascular", "perivascular"]))
def test_the_byte_screen_never_misses_what_the_reader_names(
        between: list[str], ascii_only: bool, first: str) -> None:
    """Whatever blanks and hyphens stand between the words, the reader's text match
    names a PEComa, and the resource look and the byte look both let it through."""
    from pecoma.fhir.mcode import lower_words, names_pecoma
    code = {"text": f"{first}{''.join(between)}epithelioid cell tumour"}
    res = _condition(code)
    assert names_pecoma(lower_words(code))
    assert mentions_pecoma([res])
    assert text_may_mention(json.dumps(res, ensure_ascii=ascii_only).encode("utf-8"))
