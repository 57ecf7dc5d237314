"""Reading JSON input: text that is not JSON, or nested too deeply for the parser, becomes
an :class:`~pecoma.errors.InputError` naming the document, never a ``RecursionError``."""

from __future__ import annotations

import json
from typing import Any

from pecoma.errors import FieldIssue, InputError

__all__ = ["loads"]

_TOO_DEEP = "must be nested less deeply (arrays and objects inside each other)"


def loads(text: str | bytes, source: str) -> Any:
    """The JSON value of ``text``, or :class:`InputError` (path ``(json)``) from ``source``."""
    try:
        return json.loads(text)
    except RecursionError:
        raise InputError([FieldIssue("(json)", "deeply nested text", _TOO_DEEP)],
                         source) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [FieldIssue("(json)", "unparseable text", f"must be valid JSON: {exc}")], source
        ) from exc
