"""The query string: a route answers only the query parameters it takes, each given once.

A route declares what it takes in its signature (``on: str | None = None``) or, for a
parameter it reads itself, among its OpenAPI ``parameters`` (``"in": "query"``).
:func:`known_query` refuses anything else before the route runs: a name it does not take
(``ON``, ``date``, ``on_date``: a misspelt date was read as no date, and the answer was
made for the server's today), a value without a name (``?=2025-06-01``), a parameter
given twice (which of the two was meant?). Under ``/api/`` the refusal is a 422 problem
document naming each parameter, its value and what is allowed; a page or a file answers
the 400 page with the same list (:mod:`pecoma.web.error_handlers`).

A page or a file ignores the parameters that mail and messaging services, link trackers
and caches add to the links they pass on (:func:`added_in_transit`: ``utm_source``,
``fbclid``, ``_``): a clinician opening a board's report link from an e-mail gets the
page. The JSON API takes none of them: a program writes its own addresses.

Every router that :func:`pecoma.web.app.add_router` adds is checked. The routes that
receive parameters from other systems are not: the SMART launch and its OAuth callback
(an EHR's ``iss`` and ``launch``, an authorisation server's ``session_state``, ``iss``
and ``error_uri``, per their specifications), the CDS Hooks service (the EHR calls it;
no parameter changes a card) and the health probes.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from pecoma.errors import FieldIssue, show_value
from pecoma.text import escaped

__all__ = ["QueryRefused", "added_in_transit", "known_query", "taken_by"]


class QueryRefused(Exception):
    """A query names a parameter its route does not take, or one twice."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        super().__init__("; ".join(map(str, issues)))
        self.issues = issues


def _declared(dependant: Dependant) -> Iterable[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _declared(sub)


def taken_by(route: APIRoute) -> tuple[str, ...]:
    """The query parameters ``route`` takes: those of its signature and those its
    OpenAPI ``parameters`` declare ``in: query``, sorted."""
    documented = (route.openapi_extra or {}).get("parameters", [])
    names = {*_declared(route.dependant),
             *(p["name"] for p in documented if p.get("in") == "query")}
    return tuple(sorted(names))


#: Parameters that link trackers and caches add to an address (Google Analytics'
#: ``utm_*``, click ids, Mailchimp's, a cache buster ``_``): never a page's own.
_IN_TRANSIT: frozenset[str] = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "gbraid", "wbraid", "mc_cid", "mc_eid", "_ga",
    "_gl", "_"})


def added_in_transit(name: str) -> bool:
    """Whether ``name`` is a parameter that a link tracker or a cache adds to an address
    on its way (see the module docstring)."""
    return name.startswith("utm_") or name in _IN_TRANSIT


def _name(name: str) -> str:
    """A parameter's name as a message shows it: escaped, at most 60 characters."""
    text = escaped(name)
    return text if len(text) <= 60 else text[:59] + "…"


def _allowed(names: tuple[str, ...]) -> str:
    return f"allowed: {', '.join(names)}" if names else "this address takes none"


async def known_query(request: Request) -> None:
    """THE rule for every checked route: each query parameter is one the route takes,
    named, and given once; otherwise :class:`QueryRefused` naming each one."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    taken = taken_by(route) if isinstance(route, APIRoute) else ()
    params = request.query_params
    page = not request.url.path.startswith("/api/")
    issues: list[FieldIssue] = []
    for name in params:  # each name once, in the order first given
        if page and name not in taken and added_in_transit(name):
            continue
        values = params.getlist(name)
        value = show_value(values[0] if len(values) == 1 else values)
        if not name:
            issues.append(FieldIssue("(query)", value, "is a value without a parameter "
                                     f"name ({_allowed(taken)})"))
        elif name not in taken:
            issues.append(FieldIssue(_name(name), value, "is not a query parameter of "
                                     f"this address ({_allowed(taken)})"))
        elif len(values) > 1:
            issues.append(FieldIssue(name, value, "must be given at most once"))
    if issues:
        raise QueryRefused(issues)
