"""Assessment values as compact UTF-8 JSON, written by orjson.

The bytes are those of ``json.dumps(to_jsonable(x), separators=(",", ":"),
ensure_ascii=False)``: :func:`~pecoma.engine.model.to_jsonable` is the reference for the
shape (named tuples become objects keyed by field name, an
:class:`~pecoma.engine.model.Item` is written flat with ``triggered_by`` and
``conditional_on``, a :class:`~pecoma.engine.model.Provenance` carries its ``label``,
enums their value, dates ISO 8601). orjson writes strings, numbers, lists, dicts, enums
and dates itself and asks :func:`_default` for the rest, several times faster than
building the dictionaries first. Nothing is kept between calls. A test holds the two
equal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from pecoma.engine.model import Assessment, Item, Provenance

__all__ = ["assessment_json", "dumps"]

_OPTIONS = orjson.OPT_PASSTHROUGH_DATACLASS


def _default(value: Any) -> Any:
    if isinstance(value, Item):
        template = value.template
        out: dict[str, Any] = dict(zip(template._fields, template, strict=True))
        out["triggered_by"] = value.triggered_by
        out["conditional_on"] = value.conditional_on
        return out
    fields = getattr(value, "_fields", None)
    if fields is not None and isinstance(value, tuple):
        return dict(zip(fields, value, strict=True))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        if isinstance(value, Provenance):
            out["label"] = value.label
        return out
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON of any assessment value (or plain JSON data)."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def assessment_json(a: Assessment, *, label: bool = True) -> str:
    """An assessment as JSON text; without its free ``label`` when ``label`` is false."""
    data = dict(zip(a._fields, a, strict=True))
    if not label:
        del data["label"]
    return dumps(data).decode()
