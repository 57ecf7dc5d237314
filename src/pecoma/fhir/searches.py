"""What a FHIR search result says about itself: whether it is the whole result.

A Bundle is not the whole result when it has a ``next`` link (one page of several), when
an OperationOutcome entry says the search failed (severity ``error`` or ``fatal``) or
left things out (code ``incomplete``, ``suppressed``, ``too-costly``, or ``security`` or
``forbidden``: entries withheld from this user, or ``timeout`` or ``throttled``: the
server stopped short, whatever its severity: "some allergies were suppressed", "some
records were filtered for security" or "search timed out; partial results returned" is
a warning; or, whatever its code, an issue whose words say the results are limited or
partial, "Results limited to active allergies"), when its
``total`` (the number of matches the server found) is larger than the matches it holds
and there is no further page, or when its ``total`` is no count at all (``"3"``, ``-1``,
``2.5``: how many the server found is unknown), or when the Bundle's ``meta`` carries a
label saying information was withheld from it (:func:`withheld_label`: ``REDACTED``,
``SUBSETTED``). The ``total`` is read whatever the
Bundle's type: FHIR allows it only on a searchset or a history, so a ``collection`` that
states one is a search result sent under another type, and one stating more than it
holds says that entries were left out just as a searchset would. A match is an entry
whose ``search.mode`` is ``match``; an entry with no mode is a match only when it holds
a resource of the type searched for (:func:`matches`): the Medications a medication
search ``_include``s are no matches, whether or not the server marks them ``include``.
What the rest would hold (an allergy, a line of therapy) is unknown, never absent:
:func:`incomplete` says why. The CDS services take such a prefetch part as unread
(:mod:`pecoma.web.cds.record`); the FHIR reader takes every part of a bundle that says
so as unread (``pecoma fhir to-case``); both then read the record the same way
(:attr:`pecoma.fhir.reader.BundleCase.unread`); the FHIR client refuses such a page
(:mod:`pecoma.fhir.client`)."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any, Final

__all__ = ["MEDICATION_PARTS", "PARTS", "RESULT_TYPES", "bad_total", "failed_issues",
           "foreign", "has_next", "incomplete", "left_out", "matches", "next_urls",
           "outcome_issues", "unusable_entry", "withheld_label"]

#: The parts of one patient's record, each the answer to one search (the CDS services'
#: prefetch keys), in the words a reader of the output is told which one was not read.
PARTS: Final[Mapping[str, str]] = {
    "patient": "the patient resource",
    "conditions": "the conditions (diagnoses, metastases)",
    "observations": "the observations (tumour size, pathology, markers, status)",
    "procedures": "the procedures (resections)",
    "medications": "the medication statements",
    "medication_requests": "the medication orders",
    "medication_administrations": "the medication administrations",
    "medication_dispenses": "the medication dispenses (pharmacy)",
    "allergies": "the allergies and intolerances",
}

#: The Bundle types that answer a search: a ``searchset`` (FHIR R4), or a ``collection``
#: of the results (some EHRs send their prefetch so). A ``history``, a ``transaction``, a
#: ``batch`` or a ``document`` answers no search: the CDS services do not read such a
#: prefetch part, and the FHIR client refuses such a page.
RESULT_TYPES: Final = ("searchset", "collection")

#: The parts that give the lines of systemic therapy already given.
MEDICATION_PARTS: Final = ("medications", "medication_requests",
                           "medication_administrations", "medication_dispenses")

#: Issue codes of an OperationOutcome saying a search left things out, whatever the
#: severity (FHIR R4 IssueType: incomplete, suppressed, too-costly; security and
#: forbidden: entries the user may not see were withheld from the result; timeout and
#: throttled: the server stopped short, or was asked too much at once, so what it sent
#: may be partial).
_LEFT_OUT = frozenset({"incomplete", "suppressed", "too-costly", "security", "forbidden",
                       "timeout", "throttled"})

#: Words of an issue's ``diagnostics`` or ``details.text`` saying the results sent are
#: limited or partial ("Results limited to active allergies", "partial results
#: returned"), whatever the issue's code (``processing``, ``informational``, ...).
_LIMITED: Final = re.compile(
    r"(?<![a-z])(?:limit(?:s|ed|ing)?|partial(?:ly)?|truncat\w*|incomplete|subset\w*|"
    r"not all|omit\w*|restrict\w*|filter\w*|suppress\w*|first \d+|only (?:the )?first)"
    r"(?![a-z])")


def _says_limited(issue: Mapping[str, Any]) -> bool:
    """Whether an issue's own words (``diagnostics``, ``details.text``) say the results
    sent are limited or partial."""
    details = issue.get("details")
    said = [issue.get("diagnostics"),
            details.get("text") if isinstance(details, dict) else None]
    return any(isinstance(t, str) and _LIMITED.search(t.lower()) is not None for t in said)


#: The code system of the labels below (HL7 v3 ObservationValue, as FHIR R4 names it;
#: ``http://hl7.org/fhir/v3/ObservationValue`` is its STU3 name), and a label sent
#: without a system.
_OBSERVATION_VALUE: Final = frozenset({
    "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "http://hl7.org/fhir/v3/ObservationValue", None})

#: Labels saying information was left out of what was sent (FHIR R4: security-labels.html
#: and the value set common-tags, both from HL7 v3 ObservationValue): ``REDACTED``, a
#: security label, "information removed ... for security reasons" (FHIR R4 uses it where
#: search results are withheld from the user); ``SUBSETTED``, the tag a ``_summary`` or
#: ``_elements`` result carries (search.html), "some information has been removed from the
#: source object ... the content may not be suitable for use". Either is read in
#: ``meta.security`` or ``meta.tag``: the same words in the other list say the same thing.
WITHHELD_LABELS: Final[Mapping[str, str]] = {
    "REDACTED": "information was withheld from it for security or privacy reasons",
    "SUBSETTED": "some of its information was left out of the copy sent",
}


def withheld_label(resource: Mapping[str, Any]) -> str | None:
    """Why a resource (a Bundle, or one of its resources) says, by a label in its
    ``meta`` (:data:`WITHHELD_LABELS`), that it is not the whole of what the server holds
    (``"labelled REDACTED: ..."``), or ``None``."""
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        return None
    for key in ("security", "tag"):
        labels = meta.get(key)
        for label in labels if isinstance(labels, list) else []:
            if not isinstance(label, dict) or label.get("system") not in _OBSERVATION_VALUE:
                continue
            code = label.get("code")
            if isinstance(code, str) and code in WITHHELD_LABELS:
                return f"labelled {code} (meta.{key}): {WITHHELD_LABELS[code]}"
    return None


def _entries(bundle: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = bundle.get("entry")
    return [e for e in (entries if isinstance(entries, list) else []) if isinstance(e, dict)]


def failed_issues(outcome: Mapping[str, Any]) -> list[str]:
    """The issues of an OperationOutcome saying a search failed or left things out
    (``severity: code``), or none: severity ``error`` or ``fatal``; a code of
    :data:`_LEFT_OUT` whatever the severity (``timeout`` and ``throttled`` included: a
    warning "partial results returned" is no whole result); or, whatever the code, words
    saying the results are limited or partial (:data:`_LIMITED`)."""
    issues = outcome.get("issue")
    return [f"{x.get('severity')}: {x.get('code')}"
            for x in (issues if isinstance(issues, list) else [])
            if isinstance(x, dict) and (x.get("severity") in ("error", "fatal")
                                        or x.get("code") in _LEFT_OUT or _says_limited(x))]


def outcome_issues(bundle: Mapping[str, Any]) -> list[tuple[int, list[str]]]:
    """``(entry index, issues)`` of each OperationOutcome entry of a Bundle saying the
    search failed or left things out."""
    out = []
    for i, entry in enumerate(_entries(bundle)):
        res = entry.get("resource")
        if isinstance(res, dict) and res.get("resourceType") == "OperationOutcome":
            said = failed_issues(res)
            if said:
                out.append((i, said))
    return out


def next_urls(bundle: Mapping[str, Any]) -> list[Any]:
    """The ``url`` of each ``next`` link of a Bundle, as sent (``None`` when a link has
    none). The relation is read in any case (RFC 8288: ``Next`` is ``next``); the
    prefetch check and the FHIR client both read the links here."""
    links = bundle.get("link")
    return [link.get("url") for link in (links if isinstance(links, list) else [])
            if isinstance(link, dict) and isinstance(link.get("relation"), str)
            and link["relation"].strip().lower() == "next"]


def has_next(bundle: Mapping[str, Any]) -> bool:
    """Whether the Bundle is one page of several (a ``next`` link)."""
    return bool(next_urls(bundle))


def matches(bundle: Mapping[str, Any], searched: Collection[str] | None = None) -> int:
    """The entries of a Bundle that are matches of the search: search mode ``match``, or
    no mode and a resource of a type searched for (``searched``: the types the query asks
    for; when not known, any type but OperationOutcome). ``include`` and ``outcome``
    entries are not matches, nor an entry with no mode holding another type (the
    Medication a MedicationRequest search ``_include``s, sent without its mode)."""
    count = 0
    for entry in _entries(bundle):
        search = entry.get("search")
        mode = search.get("mode") if isinstance(search, dict) else None
        res = entry.get("resource")
        kind = res.get("resourceType") if isinstance(res, dict) else None
        if mode == "match" or (mode is None and kind != "OperationOutcome" and (
                searched is None or kind in searched)):
            count += 1
    return count


def bad_total(bundle: Mapping[str, Any]) -> str | None:
    """Why a Bundle's ``total`` is no count (FHIR ``unsignedInt``: a whole number from 0),
    or ``None`` when it is one or is not given. How many the search found is then
    unknown, so whether the Bundle holds them all is unknown too."""
    total = bundle.get("total")
    if total is None or (isinstance(total, int) and not isinstance(total, bool)
                         and total >= 0):
        return None
    try:
        shown = json.dumps(total)
    except (TypeError, ValueError):  # not from JSON: said by its type
        shown = type(total).__name__
    return (f"its 'total' is not a count of matches (a whole number from 0; got "
            f"{shown[:40]}): how many the search found is unknown")


def left_out(bundle: Mapping[str, Any], held: int | None = None,
             searched: Collection[str] | None = None) -> tuple[int, int] | None:
    """``(total, held)`` when a Bundle's ``total`` (whatever its type) is larger than the
    matches it holds (``held``: the matches of all its pages, if read over several;
    else :func:`matches` with ``searched``) and it has no further page; else ``None``."""
    total = bundle.get("total")
    if bad_total(bundle) is not None or not isinstance(total, int) or has_next(bundle):
        return None
    count = matches(bundle, searched) if held is None else held
    return (total, count) if total > count else None


def unusable_entry(bundle: Mapping[str, Any]) -> str | None:
    """Why an entry of a Bundle cannot be read, or ``None``: its ``entry`` is not a list,
    or an entry holds no FHIR resource (no object with a ``resourceType``: a match the
    server left out or masked). What that entry held is unknown."""
    entries = bundle.get("entry")
    if entries is None:
        return None
    if not isinstance(entries, list):
        return "its 'entry' is not a list of entries"
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            return f"Bundle.entry[{i}] is an entry that holds no FHIR resource"
    return None


def foreign(resources: Sequence[Mapping[str, Any]], wanted: str,
            included: tuple[str, ...] = ()) -> str | None:
    """Why ``resources``, the answer to a search for ``wanted`` (with ``included`` types
    it may ``_include``), answers another query, or ``None``: it holds resources, and
    none of the type searched for (a prefetch key wired to the wrong query). OperationOutcome
    entries are not counted."""
    kinds = {str(r.get("resourceType")) for r in resources} - {"OperationOutcome"}
    if not kinds or wanted in kinds or kinds <= set(included):
        return None
    return (f"it holds no {wanted} but {', '.join(sorted(kinds)[:3])}: it answers "
            "another query")


def incomplete(bundle: Mapping[str, Any],
               searched: Collection[str] | None = None) -> str | None:
    """Why a Bundle is not the whole result of its search, or ``None`` when nothing says
    so: a label in its ``meta`` saying information was withheld (:func:`withheld_label`),
    an entry that holds no resource, an OperationOutcome entry saying the search
    failed or left things out, a ``next`` link, a ``total`` that is no count, a
    ``total`` above the matches held (``searched``: the types the query asks for, when
    known; see :func:`matches`)."""
    reasons = []
    label = withheld_label(bundle)
    if label is not None:
        reasons.append(f"the Bundle is {label}")
    unusable = unusable_entry(bundle)
    if unusable is not None:
        reasons.append(unusable)
    failed = outcome_issues(bundle)
    if failed:
        reasons.append("the search failed or left entries out (OperationOutcome in the "
                       f"Bundle: {'; '.join(failed[0][1][:3])})")
    if has_next(bundle):
        reasons.append("only the first page of the search was sent (a 'next' link)")
    malformed = bad_total(bundle)
    if malformed is not None:
        reasons.append(malformed)
    short = left_out(bundle, searched=searched)
    if short is not None:
        reasons.append(f"the search found {short[0]} but sent {short[1]} (its 'total'): "
                       "entries were left out")
    return "; ".join(reasons) or None
