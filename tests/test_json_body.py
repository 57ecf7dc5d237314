"""Request bodies are read by the standard library: the value (or the refusal) is the same
as ``json.loads``' for every body, except that JSON not sent as UTF-8 (RFC 8259), strings
holding a NUL or another control character (but tab, line feed and carriage return), half
a surrogate pair or U+FFFE/U+FFFF, and an object naming a key twice are refused (the
standard library reads them; no database stores a NUL, no JSON writer writes a lone
surrogate and no XML or PDF carries a control character: they had made a 500, a 503 or,
in UTF-16, a silent answer with no cards; a key named twice was read as its last value,
an EHR's own reader may have shown the first), and so are NaN, Infinity, -Infinity and a
number too large to be finite (1e400): no JSON (RFC 8259, section 6), though the standard
library reads them (a CDS Hooks call holding them had been answered with cards)."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pecoma.web.api import json_body
from pecoma.web.problems import ApiProblem


def _once(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Each key once, or ValueError (written out here, not taken from pecoma.jsonin)."""
    keys = [k for k, _v in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key named twice")
    return dict(pairs)


def standard(raw: bytes) -> tuple[str, str]:
    """What the standard library makes of ``raw``, a key named twice refused: ("ok", repr
    of the value) or ("refused",)."""
    try:
        return "ok", repr(json.loads(raw, object_pairs_hook=_once))
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return "refused", ""


def _odd(value: Any) -> bool:
    """Whether a string or key in ``value`` holds a character XML 1.0 cannot hold: a
    control character but tab, line feed and carriage return, a lone surrogate, U+FFFE or
    U+FFFF (written out here, not taken from pecoma.text)."""
    if isinstance(value, str):
        return any((ord(c) < 0x20 and c not in "\t\n\r") or "\ud800" <= c <= "\udfff"
                   or c in "\ufffe\uffff" for c in value)
    if isinstance(value, dict):
        return any(_odd(k) or _odd(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_odd(v) for v in value)
    return False


def _not_finite(value: Any) -> bool:
    """Whether ``value`` holds a number that is not finite (NaN, an infinity)."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_not_finite(v) for v in value.values())
    if isinstance(value, list):
        return any(_not_finite(v) for v in value)
    return False


def expected(raw: bytes) -> tuple[str, str]:
    """The standard library's verdict, with JSON not in UTF-8, odd text and numbers that
    are not finite refused."""
    if b"\x00" in raw or raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "refused", ""
    verdict = standard(raw)
    if verdict[0] == "ok" and (_odd(json.loads(raw)) or _not_finite(json.loads(raw))):
        return "refused", ""
    return verdict


def ours(raw: bytes) -> tuple[str, str]:
    try:
        return "ok", repr(json_body(raw))
    except ApiProblem as exc:
        assert exc.status == 400
        return "refused", ""


# repr() tells 1 from 1.0 and True from 1, and shows nan and -0.0: the same repr is the
# same value of the same types.
json_values = st.recursive(
    st.none() | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(json_values, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-32"]),
       st.booleans())
def test_every_value_reads_as_the_standard_library_reads_it(
    value: Any, encoding: str, ascii_only: bool
) -> None:
    raw = json.dumps(value, ensure_ascii=ascii_only).encode(encoding)
    assert ours(raw) == expected(raw)


@pytest.mark.parametrize("raw", [
    b'{"a": 1, "a": 2}',                        # a key named twice: refused
    b'{"a": {"b": 1}, "c": [{"b": 2, "b": 2}]}',  # even with the same value
    b"123456789012345678901234567890",          # beyond 64 bits: stays an exact integer
    b"-9223372036854775809",                     # just below the 64-bit range
    b"18446744073709551616",                     # just above it
    b'{"id": "1234567890123456789012"}',         # a long digit run inside a string
    b"1E400", b"-1e999", b"NaN", b"[Infinity, -Infinity]",  # no JSON numbers: refused
    b"1e308", b"-1.7976931348623157e308", b"4.9e-324", b"1e-400",  # finite: read
    b'"\\ud800"', b'"\\udfff x"',                # lone surrogates
    b"\xef\xbb\xbf{}",                           # byte-order mark
    b"\xff\xfe{\x00}\x00",                       # UTF-16
    b'"\xff"',                                   # not UTF-8
    b"[1,]", b"01", b"1.", b'"\t"', b"{", b"", b"   ",  # not JSON
    b"[" * 5000 + b"]" * 5000,                   # nesting beyond orjson's limit
    b'{"n": 1.0, "m": -0.0, "k": 0.1e1}',
])
def test_odd_bodies_read_as_the_standard_library_reads_them(raw: bytes) -> None:
    assert ours(raw) == expected(raw)


def test_an_integer_beyond_64_bits_is_not_rounded() -> None:
    """orjson alone would give the float 1.2345678901234568e+29."""
    value = json_body(b'{"size": 123456789012345678901234567890}')
    assert value == {"size": 123456789012345678901234567890}
    assert isinstance(value["size"], int)


@pytest.mark.parametrize(("raw", "where", "token"), [
    (b'{"size": NaN}', "size", "NaN"),
    (b'{"a": [1, {"b": -Infinity}]}', "a[1].b", "-Infinity"),
    (b'{"case": {"tumour": {"size": {"value": 1e400}}}}', "case.tumour.size.value", "1e400"),
    (b"Infinity", "(body)", "Infinity"),
])
def test_a_number_that_is_no_json_number_is_refused_naming_where(
        raw: bytes, where: str, token: str) -> None:
    """The standard library reads NaN and Infinity, and 1e400 as infinity; JSON holds
    none of them (RFC 8259): a 400 naming where the token stands (it had been read, and a
    CDS Hooks call answered with cards)."""
    with pytest.raises(ApiProblem) as exc:
        json_body(raw)
    assert exc.value.status == 400
    [issue] = exc.value.issues
    assert (issue.path, issue.value) == (where, token)
    assert issue.rule.startswith("must be a JSON number (RFC 8259)")


@pytest.mark.parametrize(("raw", "where"), [
    (b'{"context": {"patientId": "pat-1\\ud800"}}', "context.patientId"),
    (b'{"feedback": [{"userComment": "a\\u0000b"}]}', "feedback[0].userComment"),
    (b'{"k\\udc00": 1}', "k\\udc00"),  # shown escaped, as in the body
])
def test_odd_text_is_refused_naming_the_field(raw: bytes, where: str) -> None:
    with pytest.raises(ApiProblem) as exc:
        json_body(raw)
    assert exc.value.status == 400
    assert exc.value.issues[0].path == where


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_json_in_another_encoding_is_refused(encoding: str) -> None:
    """A PEComa patient's request in UTF-16 had been answered with no cards (the request's
    bytes were screened for PEComa words as UTF-8)."""
    with pytest.raises(ApiProblem) as exc:
        json_body(json.dumps({"hook": "patient-view"}).encode(encoding))
    assert "not UTF-8" in exc.value.detail


def test_a_pair_of_surrogates_and_an_escaped_backslash_read() -> None:
    assert json_body(b'{"a": "\\ud83d\\ude00", "b": "\\\\u0000"}') == {
        "a": "\U0001F600", "b": "\\u0000"}
