"""RFC 9457 problem details (``application/problem+json``) for every API error.

A problem carries ``type``, ``title``, ``status`` and ``detail``; an input problem adds
``errors: [{path, value, rule}]``, one entry per rejected field, the same
:class:`~pecoma.errors.FieldIssue` items the CLI prints.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.responses import JSONResponse

from pecoma.errors import FieldIssue

__all__ = ["PROBLEM_JSON", "PROBLEM_SCHEMA", "ApiProblem", "problem", "problem_body"]

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Malformed request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Request too large",
    415: "Unsupported media type",
    422: "The input was rejected",
    500: "Internal error",
    503: "Service unavailable",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "value", "rule"],
                "properties": {
                    "path": {"type": "string", "description": "field path, e.g. tumour.size"},
                    "value": {"type": "string", "description": "the value given"},
                    "rule": {"type": "string", "description": "what is allowed"},
                },
            },
        },
    },
}


def _text(value: str) -> str:
    """The text as valid UTF-8: a lone surrogate (JSON allows ``"\\ud800"``) is written out
    as its escape, so that quoting the input never breaks the response."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def problem_body(
    status: int,
    slug: str,
    detail: str,
    issues: Iterable[FieldIssue] = (),
    instance: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"urn:pecoma:problem:{slug}",
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": _text(detail),
    }
    if instance:
        body["instance"] = _text(instance)
    listed = [{k: _text(v) for k, v in i.to_dict().items()} for i in issues]
    if listed:
        body["errors"] = listed
    return body


def problem(
    status: int,
    slug: str,
    detail: str,
    issues: Iterable[FieldIssue] = (),
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response."""
    return JSONResponse(
        problem_body(status, slug, detail, issues, instance),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


class ApiProblem(Exception):
    """Raised by an API route; becomes an ``application/problem+json`` response."""

    def __init__(
        self, status: int, slug: str, detail: str, issues: Iterable[FieldIssue] = ()
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.issues = list(issues)
