"""Reading and checking a CDS Hooks 2.0.1 request body.

The body is read by the app's JSON reader (:func:`pecoma.web.api.read_json`: 415 for a
non-JSON type, 400 for bad or too deeply nested JSON, or an object naming a key twice)
and then must be an object no deeper than :data:`MAX_DEPTH`. The hook request's fields
are checked per the specification: ``hook`` names this service's hook; ``hookInstance``
is a UUID; ``context.patientId`` a FHIR id (``[A-Za-z0-9\\-.]{1,64}``, the Patient's
id alone, not a reference); ``userId`` (required by both hooks) a
``Type/id`` reference to a Practitioner, PractitionerRole, Patient or RelatedPerson;
``encounterId``, when given, a FHIR id; ``fhirServer``, ``fhirAuthorization`` and
``prefetch`` never inside ``context`` (other context fields are ignored: a hook gains
optional context fields in a minor version, which a service must take);
``fhirServer`` an http(s) URL; ``fhirAuthorization`` only with a ``fhirServer``, and then
with ``access_token`` (a bearer token: ASCII ``b64token``, RFC 6750), ``token_type``
"Bearer", ``expires_in``, ``scope`` and ``subject``; ``prefetch`` an object whose values
are FHIR resources or null.
Every rule broken is listed, by field, in one 400 problem.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from pecoma.errors import FieldIssue, show_value
from pecoma.web.api import read_json
from pecoma.web.bearer import BEARER_RULE, is_bearer_token
from pecoma.web.problems import ApiProblem

__all__ = ["MAX_DEPTH", "HookRequest", "check_request", "read_body"]

#: Deepest nesting accepted; FHIR resources in practice stay far below it.
MAX_DEPTH = 64
_USER = re.compile(r"(Practitioner|PractitionerRole|Patient|RelatedPerson)/[A-Za-z0-9\-.]{1,64}")
#: A FHIR id (R4 ``id``): what ``context.patientId`` is, the Patient's ``id`` alone.
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
#: Fields of the request itself (CDS Hooks 2.0.1 §Calling a CDS Service) that no hook
#: defines in its context: one sent inside ``context`` is refused, naming where it goes.
_REQUEST_LEVEL = ("fhirServer", "fhirAuthorization", "prefetch")
_LEFT_OUT = object()


_OTHER = bytes(b for b in range(256) if b not in b'[]{}"')  # all but brackets and quotes
_ONE_PAIR = bytes.maketrans(b"[]{}", b"()()")  # depth counts any opener and any closer
_ESCAPE = re.compile(rb"\\.", re.DOTALL)
_STEP = {ord("("): 1, ord(")"): -1}


def max_depth(raw: bytes, cap: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in JSON text (brackets in strings aside),
    or ``cap + 1`` when it is deeper than ``cap``; measured on the bytes before parsing.

    Escapes are dropped, then everything but brackets (each written as ``(`` or ``)``)
    and quotes. A string without a bracket in it is then an adjacent pair of quotes, and
    all of them go at once; when a quote is left (a string holding a bracket), what lies
    between a quote and the next is inside a string and goes (text that is not JSON is
    refused by the parser after). In the brackets left, each pass removes every empty
    pair, so a balanced text is gone after as many passes as it is deep (all at C speed,
    a few passes for a FHIR record); brackets that do not pair up are counted one by
    one."""
    text = (_ESCAPE.sub(b"", raw) if b"\\" in raw else raw).translate(_ONE_PAIR, _OTHER)
    syntax = text.replace(b'""', b"")
    if b'"' in syntax:
        syntax = b"".join(text.split(b'"')[::2])
    passes = 0
    rest = syntax
    while rest and passes <= cap:
        inner = rest.replace(b"()", b"")
        if len(inner) == len(rest):  # unpaired brackets: count them
            passes = max(itertools.accumulate(map(_STEP.__getitem__, syntax)), default=0)
            break
        rest = inner
        passes += 1
    return min(passes, cap + 1)


async def read_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or an :class:`ApiProblem` (400 / 415)."""
    if max_depth(await request.body()) > MAX_DEPTH:
        raise ApiProblem(400, "malformed-json",
                         f"The body nests JSON more than {MAX_DEPTH} levels deep.",
                         [FieldIssue("(body)", "nesting", f"at most {MAX_DEPTH} levels")])
    body = await read_json(request)
    if not isinstance(body, dict):
        raise ApiProblem(400, "malformed-request", "The request body must be a JSON object.",
                         [FieldIssue("(body)", type(body).__name__, "must be a JSON object")])
    return body


@dataclass(frozen=True, slots=True)
class HookRequest:
    """The checked parts of a hook call the services use."""

    hook: str
    instance: str
    patient_id: str
    context: Mapping[str, Any]
    prefetch: Mapping[str, Any]
    fhir_server: str | None
    access_token: str | None


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _authorization(auth: Any, issues: list[FieldIssue]) -> str | None:
    if not isinstance(auth, dict):
        issues.append(FieldIssue("fhirAuthorization", _kind(auth), "must be an object"))
        return None
    token = auth.get("access_token")
    if not is_bearer_token(token):
        issues.append(FieldIssue("fhirAuthorization.access_token", "(not shown)",
                                 BEARER_RULE))
        token = None
    if not isinstance(auth.get("token_type"), str) or auth["token_type"].lower() != "bearer":
        issues.append(FieldIssue("fhirAuthorization.token_type", repr(auth.get("token_type")),
                                 "must be 'Bearer'"))
    expires = auth.get("expires_in")
    if isinstance(expires, bool) or not isinstance(expires, int) or expires <= 0:
        issues.append(FieldIssue("fhirAuthorization.expires_in", repr(expires),
                                 "must be a positive whole number of seconds"))
    for key in ("scope", "subject"):
        if not isinstance(auth.get(key), str) or not auth[key]:
            issues.append(FieldIssue(f"fhirAuthorization.{key}", _kind(auth.get(key)),
                                     "must be a non-empty string"))
    return token


def check_request(body: Mapping[str, Any], hook: str) -> HookRequest:
    """The checked request, or a 400 problem listing every rule broken."""
    issues: list[FieldIssue] = []
    if body.get("hook") != hook:
        issues.append(FieldIssue("hook", repr(body.get("hook", "(missing)"))[:60],
                                 f"must be '{hook}' for this service"))
    instance = body.get("hookInstance")
    try:
        if not isinstance(instance, str):
            raise ValueError
        uuid.UUID(instance)
    except ValueError:
        issues.append(FieldIssue("hookInstance", repr(instance)[:60], "must be a UUID string"))
    context = body.get("context")
    patient = None
    if not isinstance(context, dict):
        issues.append(FieldIssue("context", _kind(context), "must be an object"))
        context = {}
    else:
        patient = context.get("patientId")
        if not isinstance(patient, str) or not patient:
            issues.append(FieldIssue("context.patientId", _kind(patient),
                                     "must be a non-empty string"))
        elif not _FHIR_ID.fullmatch(patient):
            # a reference ('Patient/123'), a path or any text is no Patient.id: refused
            # naming the rule, not read as another patient's chart
            issues.append(FieldIssue("context.patientId", show_value(patient),
                                     "must be a FHIR id, the Patient's id alone (1 to 64 "
                                     "letters, digits, '-' or '.'; not a reference such as "
                                     "'Patient/123')"))
        user = context.get("userId")
        if user is None:  # required by patient-view and order-select (CDS Hooks 2.0.1)
            issues.append(FieldIssue("context.userId", "(missing)",
                                     "must be given: the user in the EHR, a reference such "
                                     "as 'Practitioner/123'"))
        elif not isinstance(user, str) or not _USER.fullmatch(user):
            issues.append(FieldIssue("context.userId", "(not shown)",
                                     "must be a reference such as 'Practitioner/123' "
                                     "(Practitioner, PractitionerRole, Patient or "
                                     "RelatedPerson)"))
        encounter = context.get("encounterId", _LEFT_OUT)
        if encounter is not _LEFT_OUT and not (isinstance(encounter, str)
                                               and _FHIR_ID.fullmatch(encounter)):
            # optional in both hooks (CDS Hooks 2.0.1: a string, the Encounter's FHIR id;
            # left out when there is none, never null or empty): not read, but checked as
            # the other context fields are, so a malformed context is never half-refused
            issues.append(FieldIssue("context.encounterId", show_value(encounter),
                                     "must be a FHIR id, the Encounter's id alone (1 to 64 "
                                     "letters, digits, '-' or '.'), or left out"))
        for key in _REQUEST_LEVEL:
            if key in context:
                # the request's own fields, never a hook's context field: ignored there,
                # the answer would say no FHIR server or prefetch was given
                issues.append(FieldIssue(f"context.{key}", "(not shown)",
                                         f"must not be inside context: '{key}' belongs at "
                                         "the top level of the request, beside 'context'"))
    server = body.get("fhirServer")
    if server is not None and (not isinstance(server, str)
                               or not server.lower().startswith(("https://", "http://"))):
        issues.append(FieldIssue("fhirServer", "(not shown)", "must be an http(s) URL"))
    token = None
    if body.get("fhirAuthorization") is not None:
        if server is None:
            issues.append(FieldIssue("fhirAuthorization", "(given)",
                                     "must not be given without fhirServer"))
        token = _authorization(body["fhirAuthorization"], issues)
    prefetch = body.get("prefetch")
    if prefetch is None:
        prefetch = {}
    elif not isinstance(prefetch, dict):
        issues.append(FieldIssue("prefetch", _kind(prefetch), "must be an object"))
        prefetch = {}
    else:
        for key, value in prefetch.items():
            if value is not None and not (isinstance(value, dict)
                                          and isinstance(value.get("resourceType"), str)):
                issues.append(FieldIssue(f"prefetch.{str(key)[:40]}", _kind(value),
                                         "must be a FHIR resource (an object with "
                                         "resourceType) or null"))
    if issues:
        raise ApiProblem(400, "invalid-hook-request",
                         f"The {hook} request breaks the CDS Hooks 2.0.1 rules.", issues)
    return HookRequest(hook=hook, instance=str(instance), patient_id=str(patient),
                       context=context, prefetch=prefetch,
                       fhir_server=server if isinstance(server, str) else None,
                       access_token=token)
