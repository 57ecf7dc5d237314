"""The JSON API, version 1 (``/api/v1``): parse, call the engine, return JSON.

``POST /assess`` and ``POST /followup`` take either an envelope
``{"case": {...}, "on": "YYYY-MM-DD"}`` or a bare case (with ``?on=YYYY-MM-DD``); without
a date the server's today is used. ``on`` is the one query parameter any route here takes
(the others take none): another (``?ON=``, ``?date=``) or ``on`` twice is a 422 problem
naming it (:mod:`pecoma.web.query`), never a plan for the server's today.
Field paths in errors are relative to the body (``case.tumour.size`` in an envelope,
``tumour.size`` in a bare case). Every error is an ``application/problem+json``
document, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sys
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from pecoma.case import Case, parse_case
from pecoma.dates import date_rule, parse_day
from pecoma.engine import assess
from pecoma.engine.imaging import Modality, ScanFinding, parse_imaging
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.jsonin import (
    DUPLICATE_RULE,
    NUMBER_RULE,
    DuplicateKey,
    NotJsonNumber,
    finite_float,
    no_constant,
    non_number_at,
    repeated_key_at,
    unique_keys,
)
from pecoma.knowledge import load_knowledge
from pecoma.render.knowledge import knowledge_jsonable
from pecoma.settings import Settings
from pecoma.text import TEXT_RULE, escaped, odd_text_at
from pecoma.web.jsonout import FastJSONResponse
from pecoma.web.problems import PROBLEM_JSON, ApiProblem

__all__ = ["knowledge_jsonable", "router"]


def router() -> APIRouter:
    """A new router with the routes of this module (each application builds its own)."""
    r = APIRouter(prefix="/api/v1", tags=["api v1"])
    r.add_api_route(
        "/assess",
        assess_endpoint,
        methods=["POST"],
        summary="Assess one case",
        description="What the guideline recommends for the case as of the evaluation date, "
        "and why: the assessment document (format `pecoma-assessment/1`).",
        responses={
            200: {
                "description": "The assessment",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Assessment"}}
                },
            },
            **_ERRORS,
        },
        openapi_extra=_request_body(),
    )
    r.add_api_route(
        "/followup",
        followup_endpoint,
        methods=["POST"],
        summary="The dated surveillance plan of one case",
        description="The visits with their windows, imaging, status and provenance (format "
        "`pecoma-surveillance-plan/1`), counted from the end of treatment and re-anchored on "
        "the imaging given (`imaging`, envelope form only).",
        responses={
            200: {"description": "The surveillance plan", "content": {"application/json": {}}},
            **_ERRORS,
        },
        openapi_extra=_request_body({"imaging": _IMAGING_SCHEMA}),
    )
    r.add_api_route(
        "/schema",
        schema_endpoint,
        methods=["GET"],
        summary="JSON Schema of the case format",
    )
    r.add_api_route(
        "/rules",
        rules_endpoint,
        methods=["GET"],
        summary="The knowledge base: every record with its provenance",
    )
    r.add_api_route("/openapi.json", openapi_endpoint, methods=["GET"],
                    include_in_schema=False)
    return r


_PROBLEM = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed JSON", **_PROBLEM},
    413: {"description": "Request body too large", **_PROBLEM},
    415: {"description": "Content type is not JSON, or the body is sent with a content "
                         "coding (Content-Encoding other than identity)", **_PROBLEM},
    422: {"description": "The case or the date was rejected; `errors` names each field",
          **_PROBLEM},
}


def _request_body(extra: dict[str, Any] | None = None) -> dict[str, Any]:
    envelope: dict[str, Any] = {
        "type": "object",
        "required": ["case"],
        "additionalProperties": False,
        "properties": {
            "case": {"$ref": "#/components/schemas/Case"},
            "on": {"type": "string", "format": "date", "description": "evaluation date"},
            **(extra or {}),
        },
    }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"oneOf": [envelope, {"$ref": "#/components/schemas/Case"}]}
                }
            },
        },
        "parameters": [
            {
                "name": "on",
                "in": "query",
                "required": False,
                "schema": {"type": "string", "format": "date"},
                "description": "evaluation date (YYYY-MM-DD) for a bare case; default today",
            }
        ],
    }


def _problem(
    status: int, slug: str, detail: str, issues: list[FieldIssue] | None = None
) -> ApiProblem:
    return ApiProblem(status, slug, detail, issues or ())


async def read_json(request: Request) -> Any:
    """The JSON body, or a 415 / 400 problem.

    Read by the standard library, every object naming each key once: a key named twice
    is a 400 problem naming the key and where it is (a case, a CDS Hooks call: which
    value was meant? The last one is what ``json.loads`` and orjson keep, and an EHR's
    own reader may have shown the first: an allergy entry's ``code`` given twice had been
    read as its last value)."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise _problem(
            415,
            "unsupported-media-type",
            f"the body must be JSON sent as 'application/json' (got {ctype or 'no type'!r})",
        )
    return json_body(await request.body())


#: What in JSON text can spell a character :data:`pecoma.text.TEXT_RULE` refuses: the escape
#: of a control character but tab, line feed and carriage return (``\b`` and ``\f`` too),
#: of half a surrogate pair or of U+FFFE/U+FFFF, or those two written as they are (a raw
#: control character is no JSON at all).
_ODD_ESCAPE = re.compile(
    rb"\\(?:[bf]|u(?:000[0-8bBcCeEfF]|001[0-9a-fA-F]|[dD][89a-fA-F]|[fF]{3}[eEfF]))"
    rb"|\xef\xbf[\xbe\xbf]")


def json_body(raw: bytes) -> Any:
    """The JSON value of a request body, or a 400 problem (see :func:`read_json`).

    JSON between systems is UTF-8 (RFC 8259, 8.1): a body in UTF-16 or UTF-32 (a NUL byte,
    which UTF-8 JSON never holds, or their byte-order mark) is refused, not read. So is a
    string (or key) holding a character :data:`pecoma.text.TEXT_RULE` refuses, written as
    an escape (``\\u0000``, ``\\u0001``, ``\\ud800``): no database stores a NUL, no JSON
    writer writes half a surrogate pair, and no XML or PDF carries a control character;
    the same rule as for every form, command-line argument and imported cell. ``NaN``,
    ``Infinity`` and ``-Infinity``, which Python's reader takes, are no JSON (RFC 8259,
    section 6), nor is a number too large to be finite (``1e400``): refused, named by
    where they stand."""
    if not raw.strip():
        raise _problem(400, "malformed-json", "the body is empty; send a case as JSON")
    if b"\x00" in raw or raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise _problem(400, "malformed-json", "the body is not UTF-8 text (UTF-16 or "
                       "UTF-32?); JSON is sent as UTF-8 (RFC 8259)")
    value = _parsed(raw)
    # every match holds a backslash or the lead byte of U+FFFE/U+FFFF, each found at C
    # speed: a body with neither is not searched (the search took longer than parsing)
    if (b"\\" in raw or b"\xef" in raw) and _ODD_ESCAPE.search(raw):
        odd = odd_text_at(value)
        if odd is not None:
            # shown escaped, as in the body: the character itself cannot be written back
            where = escaped(odd[0]) or "(body)"
            raise _problem(400, "malformed-json", f"'{where}' holds a control character, "
                           "half a surrogate pair or a non-character",
                           [FieldIssue(where, "an escaped control character, lone "
                                       "surrogate or non-character", TEXT_RULE)])
    return value


def _parsed(raw: bytes) -> Any:
    try:
        return json.loads(raw, object_pairs_hook=unique_keys, parse_constant=no_constant,
                          parse_float=finite_float)
    except NotJsonNumber as exc:
        # Python's reader takes NaN and Infinity; JSON (RFC 8259) holds neither, and an
        # infinite size or dose is no value any check can weigh
        at, token = non_number_at(raw) or ("(body)", exc.token)
        where = at or "(body)"
        raise _problem(400, "malformed-json", f"the body is not valid JSON: '{where}' is "
                       f"{token[:40]}, not a JSON number",
                       [FieldIssue(where, token[:40], NUMBER_RULE)]) from None
    except DuplicateKey as exc:
        at, key = repeated_key_at(raw) or ("(body)", exc.key)
        where = "" if at == "(body)" else f" (at {at})"
        raise _problem(400, "malformed-json", f"the body names the key {key!r} twice in "
                       f"one object{where}", [FieldIssue(at, f"the key {key!r} twice",
                                                         DUPLICATE_RULE)]) from None
    except UnicodeDecodeError:
        raise _problem(400, "malformed-json", "the body is not UTF-8 text") from None
    except RecursionError:
        raise _problem(400, "malformed-json", "the body nests JSON too deeply") from None
    except ValueError as exc:
        reason = str(exc)
        if "integer string conversion" in reason:  # Python's limit on digits in an int
            reason = f"a number has more than {sys.get_int_max_str_digits()} digits"
        raise _problem(
            400,
            "malformed-json",
            f"the body is not valid JSON: {reason}",
            [FieldIssue("(body)", "unparseable text", f"must be valid JSON: {reason}")],
        ) from None


def _date(value: Any, path: str) -> dt.date:
    day = parse_day(value)
    if day is not None:
        return day
    raise _problem(
        422,
        "invalid-input",
        "the evaluation date was rejected",
        [FieldIssue(path, show_value(value), date_rule(value))],
    )


def query_date(request: Request) -> str | None:
    """The ``on`` query parameter (given once, and the query names nothing else: the
    route's check, :func:`pecoma.web.query.known_query`)."""
    return request.query_params.get("on")


def case_and_date(
    payload: Any, query_on: str | None, today: dt.date, extra: frozenset[str] = frozenset()
) -> tuple[Case, dt.date, str, dict[str, Any]]:
    """The case, the evaluation date, the path prefix of the case and any extra fields."""
    if not isinstance(payload, dict):
        raise _problem(
            422,
            "invalid-input",
            "the body must be a JSON object",
            [FieldIssue("(body)", show_value(type(payload).__name__), "must be a JSON object")],
        )
    allowed = frozenset({"case", "on"}) | extra
    if "case" in payload:
        unknown = sorted(set(payload) - allowed)
        if unknown:
            raise _problem(
                422,
                "invalid-input",
                "the request has fields it does not know",
                [
                    FieldIssue(
                        k,
                        show_value(payload[k]),
                        f"is not a field of the request (allowed: {', '.join(sorted(allowed))})",
                    )
                    for k in unknown
                ],
            )
        prefix = "case."
        data = payload["case"]
        body_on = payload.get("on")
        extras = {k: payload[k] for k in extra if k in payload}
    else:
        prefix = ""
        data = payload
        body_on = None
        extras = {}
    on = today
    if body_on is not None and query_on is not None and str(body_on) != query_on:
        raise _problem(
            422,
            "invalid-input",
            "two different evaluation dates were given",
            [FieldIssue("on", show_value(body_on), f"contradicts the query's on={query_on}")],
        )
    if body_on is not None:
        on = _date(body_on, "on")
    elif query_on is not None:
        on = _date(query_on, "on")
    try:
        # the dates against the evaluation date with the case's own checks, in one pass
        case = parse_case(data, source="case", on_date=on)
    except InputError as exc:
        raise _problem(
            422,
            "invalid-case",
            f"the case was rejected ({len(exc.issues)} problem(s)); see 'errors'",
            [_prefixed(i, prefix) for i in exc.issues],
        ) from None
    return case, on, prefix, extras


def _prefixed(issue: FieldIssue, prefix: str) -> FieldIssue:
    if not prefix:
        return issue
    path = prefix.rstrip(".") if issue.path == "(case)" else prefix + issue.path
    return FieldIssue(path, issue.value, issue.rule)


def run_assessment(case: Case, on: dt.date, settings: Settings, prefix: str) -> Assessment:
    """The engine's assessment; a date-check rejection becomes a 422 problem."""
    try:
        return assess(case, on, settings)
    except InputError as exc:
        raise _problem(
            422,
            "invalid-case",
            f"the case was rejected ({len(exc.issues)} problem(s)); see 'errors'",
            [_prefixed(i, prefix) for i in exc.issues],
        ) from None


async def assess_endpoint(request: Request) -> JSONResponse:
    payload = await read_json(request)
    today: dt.date = request.app.state.today()
    case, on, prefix, _ = case_and_date(payload, query_date(request), today)
    result = run_assessment(case, on, request.app.state.settings, prefix)
    return FastJSONResponse(result)


_IMAGING_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "imaging done since the surgery (scans before the end of treatment are "
    "read as scans during treatment, I22)",
    "items": {
        "type": "object",
        "required": ["date", "modality"],
        "additionalProperties": False,
        "properties": {
            "date": {"type": "string", "format": "date"},
            "modality": {"enum": [m.value for m in Modality]},
            "finding": {"enum": [f.value for f in ScanFinding]},
        },
    },
}


async def followup_endpoint(request: Request) -> JSONResponse:
    payload = await read_json(request)
    today: dt.date = request.app.state.today()
    case, on, prefix, extras = case_and_date(
        payload, query_date(request), today, frozenset({"imaging"})
    )
    settings: Settings = request.app.state.settings
    try:
        # No "imaging" key: the scan history was not given (I13); [] is a history without
        # scans.
        imaging = (
            parse_imaging(extras["imaging"], case=case, on_date=on)
            if "imaging" in extras
            else None
        )
    except InputError as exc:
        raise _problem(
            422,
            "invalid-imaging",
            f"the imaging history was rejected ({len(exc.issues)} problem(s)); see 'errors'",
            exc.issues,
        ) from None
    result = run_assessment(case, on, settings, prefix)
    plan = plan_surveillance(case, result, on, imaging=imaging, settings=settings)
    return FastJSONResponse(plan.to_dict())


async def openapi_endpoint(request: Request) -> JSONResponse:
    """The OpenAPI document (:mod:`pecoma.web.openapi`)."""
    return JSONResponse(request.app.openapi())


async def schema_endpoint() -> JSONResponse:
    return JSONResponse(Case.model_json_schema())


async def rules_endpoint(request: Request) -> JSONResponse:
    settings: Settings = request.app.state.settings
    return JSONResponse(knowledge_jsonable(load_knowledge().worded(settings.wording())))
