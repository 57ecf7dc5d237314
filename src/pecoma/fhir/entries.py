"""The entries of a Bundle as FHIR R4 lays them out: Bundles held in entries, and entries
that hold a response and no resource.

A Bundle entry's ``resource`` may be any resource, a Bundle too: a ``batch-response``
answers each search of the batch with a ``searchset`` Bundle in ``entry.resource``, and a
``collection`` may hold a document or a search result. The resources of such a nested
Bundle are the record's, each under its own entry's ``fullUrl``; :func:`walk` gives every
entry, those of nested Bundles after the entry holding them, each with where it stands
(``Bundle.entry[12].resource.entry[0]``) and the modifierExtensions of the entries holding
it (a modifier on the entry holding a Bundle modifies what all it holds means). The FHIR
reader (:mod:`pecoma.fhir.reader`), the CDS services' prefetch (:mod:`pecoma.web.cds.record`)
and what a search result says of itself (:mod:`pecoma.fhir.searches`) read entries by it.

FHIR R4 allows ``entry.resource`` absent (0..1). In a ``batch-response``, a
``transaction-response`` or a ``history`` (the Bundle types whose entries carry a
``response``) an entry with a ``response`` and no resource is a request answered with
nothing to read (``201 Created`` under ``return=minimal``, a history's DELETE ``204``) or a
request that failed (``500``, ``404``: :func:`answer`), whose ``response.outcome`` says why.
What a failed request would have returned is unknown: the record is then not read in full
(:func:`pecoma.fhir.searches.incomplete`). An entry with neither a resource nor such a
response is malformed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, NamedTuple

__all__ = ["RESPONSE_TYPES", "Answer", "Held", "answer", "deleted", "nested_bundles", "walk"]

#: The Bundle types whose entries carry a ``response`` (FHIR R4 bdl-4).
RESPONSE_TYPES: Final = ("batch-response", "transaction-response", "history")


class Held(NamedTuple):
    """One entry of a Bundle, or of a Bundle held in one of its entries (a tuple: a
    record holds them by the thousand)."""

    #: Where the entry stands (``Bundle.entry[3]``, ``Bundle.entry[12].resource.entry[0]``).
    where: str
    #: The entry as sent (not necessarily an object).
    entry: Any
    #: The entry's resource as sent (``None`` when it holds none).
    resource: Any
    #: The Bundle whose entry it is.
    bundle: Mapping[str, Any]
    #: The modifierExtensions of the entry and of the entries holding its Bundle.
    modifiers: tuple[Any, ...] = ()

    @property
    def full_url(self) -> str | None:
        url = self.entry.get("fullUrl") if isinstance(self.entry, dict) else None
        return url if isinstance(url, str) else None

    @property
    def nested(self) -> Mapping[str, Any] | None:
        """The Bundle the entry holds, or ``None``."""
        res = self.resource
        return res if isinstance(res, dict) and res.get("resourceType") == "Bundle" else None


def walk(bundle: Mapping[str, Any], at: str = "Bundle") -> list[Held]:
    """Every entry of ``bundle`` in order, each entry holding a Bundle followed by that
    Bundle's entries (and theirs). ``at`` names the Bundle (``prefetch.allergies``). An
    ``entry`` that is not a list holds no entries (the caller says so)."""
    out: list[Held] = []
    # (Bundle, its name, the modifiers of the entries holding it, the next entry's index)
    stack: list[tuple[Mapping[str, Any], str, tuple[Any, ...], int]] = [(bundle, at, (), 0)]
    while stack:
        held_in, name, outer, start = stack.pop()
        entries = held_in.get("entry")
        entries = entries if isinstance(entries, list) else []
        for i in range(start, len(entries)):
            entry = entries[i]
            where = f"{name}.entry[{i}]"
            if not isinstance(entry, dict):
                out.append(Held(where, entry, None, held_in, outer))
                continue
            said = entry.get("modifierExtension")
            mods = outer + tuple(said) if isinstance(said, list) else outer
            res = entry.get("resource")
            out.append(Held(where, entry, res, held_in, mods))
            if isinstance(res, dict) and res.get("resourceType") == "Bundle":
                # the rest of this Bundle after the Bundle it holds
                stack.append((held_in, name, outer, i + 1))
                stack.append((res, f"{where}.resource", mods, 0))
                break
    return out


def nested_bundles(bundle: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """``(where, Bundle)`` of each Bundle held in an entry of ``bundle`` (not deeper)."""
    entries = bundle.get("entry")
    return [(f"Bundle.entry[{i}].resource", res)
            for i, entry in enumerate(entries if isinstance(entries, list) else [])
            if isinstance(entry, dict) and isinstance(res := entry.get("resource"), dict)
            and res.get("resourceType") == "Bundle"]


def deleted(entry: Any) -> str | None:
    """``Type/id`` of the resource a Bundle entry's DELETE request names (a history's
    entry for a deleted resource), else ``None``."""
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict) or request.get("method") != "DELETE":
        return None
    url = request.get("url")
    if not isinstance(url, str):
        return None
    parts = url.split("?")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the response of an entry holding no resource says."""

    #: The status as sent (shortened), or what was sent instead.
    status: str
    #: Whether the request failed (an HTTP status from 400, or a status that is no HTTP
    #: status: whether it failed cannot be told).
    failed: bool
    #: The ``response.outcome`` when it is an OperationOutcome (why it failed).
    outcome: Mapping[str, Any] | None


#: An HTTP status code at the start of ``response.status`` (FHIR R4: "SHALL start with a
#: 3 digit HTTP code").
_STATUS: Final = re.compile(r"\s*([1-5]\d\d)(?!\d)")


def answer(entry: Any, bundle_type: Any) -> Answer | None:
    """What an entry holding no resource answers, when it is a response of a Bundle of
    :data:`RESPONSE_TYPES` (an entry with a ``response`` object); ``None`` otherwise (a
    DELETE of a history is :func:`deleted`'s; another entry with no resource is
    malformed)."""
    if not isinstance(entry, dict) or entry.get("resource") is not None or (
            bundle_type not in RESPONSE_TYPES):
        return None
    response = entry.get("response")
    if not isinstance(response, dict):
        return None
    status = response.get("status")
    found = _STATUS.match(status) if isinstance(status, str) else None
    outcome = response.get("outcome")
    outcome = outcome if isinstance(outcome, dict) and (
        outcome.get("resourceType") == "OperationOutcome") else None
    shown = (" ".join(status.split())[:60] if isinstance(status, str)
             else "(missing)" if status is None else f"{type(status).__name__} {status!r}"[:60])
    return Answer(shown, found is None or int(found.group(1)) >= 400, outcome)
