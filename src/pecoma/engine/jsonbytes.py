"""The one JSON writer for assessment values: compact UTF-8 JSON written by orjson.

Every result type is a frozen dataclass whose fields are its JSON form, in field order
(an :class:`~pecoma.engine.model.Item` is flat: its record's fields, then
``triggered_by`` and ``conditional_on``; a :class:`~pecoma.engine.model.Provenance`
carries its ``label``); tuples are arrays, enums their value, dates ISO 8601. orjson
writes all of these itself. Nothing is kept between calls.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from pecoma.engine.model import Assessment

__all__ = ["assessment_json", "dumps"]


def _unknown(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of any assessment value (or plain JSON data)."""
    return orjson.dumps(value, default=_unknown)


def assessment_json(a: Assessment, *, label: bool = True) -> str:
    """An assessment as JSON text; without its free ``label`` when ``label`` is false."""
    data = {f.name: getattr(a, f.name) for f in dataclasses.fields(a)}
    if not label:
        del data["label"]
    return dumps(data).decode()
