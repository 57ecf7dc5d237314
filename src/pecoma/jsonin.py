"""Reading JSON input: text that is not JSON, nested too deeply for the parser, naming a
key twice in one object, or holding a string that breaks :data:`pecoma.text.TEXT_RULE` (an
escaped NUL or other control character) becomes an :class:`~pecoma.errors.InputError`
naming the document (and the string's place), never a ``RecursionError``, a value silently
dropped, or a text one database stores and another refuses. A key named twice is named
by its place (:func:`repeated_key_at`)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

from pecoma.errors import FieldIssue, InputError
from pecoma.text import TEXT_RULE, escaped, odd_text_at, shown

__all__ = ["DUPLICATE_RULE", "NUMBER_RULE", "DuplicateKey", "NotJsonNumber", "finite_float",
           "loads", "no_constant", "non_number_at", "repeated_key_at", "unique_keys"]

_TOO_DEEP = "must be nested less deeply (arrays and objects inside each other)"
DUPLICATE_RULE = "must name each key once in an object"


class DuplicateKey(ValueError):
    """An object of the JSON text names a key twice (the standard reader keeps the last
    value silently: which was meant?)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {key!r} appears twice in one object")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook``: the object, or :class:`DuplicateKey`."""
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise DuplicateKey(key)
            seen.add(key)
    return out


#: The rule a number that is no JSON number breaks (RFC 8259, section 6).
NUMBER_RULE = ("must be a JSON number (RFC 8259): NaN, Infinity and -Infinity are not JSON, "
               "and a number must be finite (1e400 is read as infinity)")


class NotJsonNumber(ValueError):
    """The text writes ``NaN``, ``Infinity`` or ``-Infinity`` (which Python's reader
    accepts, and JSON does not hold), or a number too large to be finite (``1e400``)."""

    def __init__(self, token: str) -> None:
        super().__init__(f"{token[:40]} is not a JSON number")
        self.token = token


def no_constant(token: str) -> float:
    """``json.loads``' ``parse_constant``: ``NaN``, ``Infinity`` and ``-Infinity`` are
    refused (:class:`NotJsonNumber`)."""
    raise NotJsonNumber(token)


def finite_float(token: str) -> float:
    """``json.loads``' ``parse_float``: the number, or :class:`NotJsonNumber` when it is
    too large to be finite (``1e400``)."""
    value = float(token)
    if math.isinf(value):
        raise NotJsonNumber(token)
    return value


class _NotNumber:
    """A number that is no JSON number, marked where it stands (:func:`non_number_at`)."""

    def __init__(self, token: str) -> None:
        self.token = token


def _marked_float(token: str) -> Any:
    value = float(token)
    return _NotNumber(token) if math.isinf(value) else value


def _first(value: Any, path: str,
           here: Callable[[Any, str], tuple[str, str] | None]) -> tuple[str, str] | None:
    """The first value, in document order, of which ``here`` says something (with its
    path), walking objects and arrays."""
    found = here(value, path)
    if found is not None:
        return found
    if isinstance(value, dict):
        items: Any = ((f"{path}.{k}" if path else k, v) for k, v in value.items())
    elif isinstance(value, list):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for inner, item in items:
        found = _first(item, inner, here)
        if found is not None:
            return found
    return None


def _non_number(value: Any, path: str) -> tuple[str, str] | None:
    return (path, value.token) if isinstance(value, _NotNumber) else None


def non_number_at(text: str | bytes) -> tuple[str, str] | None:
    """Where JSON ``text`` first writes a number that is no JSON number (``NaN``,
    ``Infinity``, ``-Infinity``, ``1e400``), in document order: its path (written as
    :func:`pecoma.text.escaped`; ``""`` for the whole text) and the token; ``None`` when
    the text cannot be walked. Read again for the message only, once
    :class:`NotJsonNumber` was raised."""
    try:
        found = _first(json.loads(text, parse_constant=_NotNumber,
                                  parse_float=_marked_float), "", _non_number)
    except (RecursionError, ValueError):
        return None
    return None if found is None else (escaped(found[0]), found[1])


class _Repeats(dict[str, Any]):
    """An object that names :attr:`key` twice (see :func:`repeated_key_at`)."""

    key: str = ""


def _marking(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) == len(pairs):
        return out
    marked = _Repeats(out)
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


def _repeat(value: Any, path: str) -> tuple[str, str] | None:
    if isinstance(value, _Repeats):
        return (f"{path}.{value.key}" if path else value.key), value.key
    return None


def repeated_key_at(text: str | bytes) -> tuple[str, str] | None:
    """Where valid JSON ``text`` first names a key twice in one object, in document
    order: the key's path (``prefetch.allergies.entry[0].resource.code``, written as
    :func:`pecoma.text.escaped`) and the key; ``None`` if no object does. Read again for
    the message only, once :class:`DuplicateKey` was raised (``None`` too when the text
    nests too deeply to be walked: the key is then named without its place)."""
    try:
        found = _first(json.loads(text, object_pairs_hook=_marking), "", _repeat)
    except RecursionError:
        return None
    return None if found is None else (escaped(found[0]), found[1])


def loads(text: str | bytes, source: str) -> Any:
    """The JSON value of ``text``, or :class:`InputError` (path ``(json)``) from ``source``."""
    try:
        value = json.loads(text, object_pairs_hook=unique_keys)
    except RecursionError:
        raise InputError([FieldIssue("(json)", "deeply nested text", _TOO_DEEP)],
                         source) from None
    except DuplicateKey as exc:
        at, key = repeated_key_at(text) or ("(json)", exc.key)
        raise InputError([FieldIssue(at, f"the key {key!r} twice", DUPLICATE_RULE)],
                         source) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [FieldIssue("(json)", "unparseable text", f"must be valid JSON: {exc}")], source
        ) from exc
    odd = odd_text_at(value)
    if odd is not None:
        raise InputError([FieldIssue(escaped(odd[0]) or "(json)", shown(odd[1]), TEXT_RULE)],
                         source)
    return value
