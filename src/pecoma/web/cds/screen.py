"""A quick, conservative look for PEComa in a record before the full reading.

A patient is answered with no cards only when nothing in the record's Conditions and
Observations could name a PEComa: no code beginning ``8714`` (ICD-O-3 morphology, in any
code system or extension), no code of the project's own system, and no text or display
mentioning PEComa or a perivascular epithelioid cell tumour, compared as the reader
compares them (:func:`pecoma.fhir.mcode.plain_words`: any Unicode space, repeated blanks
or a hyphen between the words alike). Anything that might is read in full. This keeps
patients without PEComa cheap without ever skipping one who has it.

:func:`text_may_mention` answers the same question on the request's bytes at C speed:
when none of the markers occurs anywhere in the body (and the body uses no ``\\u``
escapes that could spell one), no resource from the prefetch can name a PEComa. The
markers are single words ("perivascular", not the two words and what stands between
them), so that no blank or hyphen between the words can hide one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pecoma.fhir import codes as c
from pecoma.fhir.mcode import lower_words, names_pecoma, plain_words

__all__ = ["mentions_pecoma", "text_may_mention"]

_MARKERS = (b"8714", b"pecoma", b"perivascular")


def text_may_mention(raw: bytes) -> bool:
    """False only when the JSON text cannot name a PEComa anywhere (see the module doc)."""
    low = raw.lower()
    # a backslash is found at C speed, a two-byte text some forty times slower
    return (b"\\" in low and b"\\u" in low) or any(marker in low for marker in _MARKERS)

_TYPES = ("Condition", "Observation")


def _mentions(value: Any) -> bool:
    stack = [value]
    perivascular = False
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            code = item.get("code")
            if isinstance(code, str) and code.startswith("8714"):
                return True
            if item.get("system") == c.PECOMA_SYSTEM:
                return True
            stack.extend(v for v in item.values() if isinstance(v, dict | list | str))
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and len(item) > 5:
            low = item.lower()
            if "pecoma" in low:
                return True
            perivascular = perivascular or "perivascular" in low
    # rare: the words compared as the reader compares them, each text alone and each
    # concept's text and displays together
    return perivascular and _named(value)


def _named(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if names_pecoma(lower_words(item)):
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and names_pecoma(plain_words(item)):
            return True
    return False


def mentions_pecoma(resources: Iterable[Mapping[str, Any]]) -> bool:
    """Whether any Condition or Observation could name a PEComa (see the module doc)."""
    return any(res.get("resourceType") in _TYPES and _mentions(res) for res in resources)
