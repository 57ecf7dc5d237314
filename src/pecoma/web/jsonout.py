"""JSON responses of the API, written by orjson: the bytes ``json.dumps(to_jsonable(x))``
would give (compact, UTF-8), several times faster.

``to_jsonable`` (:mod:`pecoma.engine.model`) is the reference for the shape: named tuples
become objects keyed by field name, an :class:`~pecoma.engine.model.Item` is written flat
(its template's fields, then ``triggered_by`` and ``conditional_on``), a
:class:`~pecoma.engine.model.Provenance` also carries its ``label``, enums their value and
dates ISO 8601. orjson writes strings, numbers, lists, dicts, enums and dates itself and
asks :func:`_default` for the rest. A test holds the two byte for byte.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from starlette.responses import JSONResponse

from pecoma.engine.model import Item, Provenance

__all__ = ["FastJSONResponse", "dumps"]

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


class FastJSONResponse(JSONResponse):
    """A JSON response rendered by :func:`dumps` (pass the engine's values as they are)."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
