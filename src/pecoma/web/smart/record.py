"""The patient's record, read from the EHR's FHIR server with the launch's access token.

One read of the Patient and one search per resource kind the reader may use (the
medication searches ``_include`` the Medications they name; one still missing is read by
its id), all through the allow-listed :class:`~pecoma.fhir.client.FhirClient` (the token
goes only to that server; paging stays on it; all the reads end within twice the
timeout). A search that fails (refused for want of a scope, an OperationOutcome, a
timeout) is named in :attr:`Record.failed`: what it would have given stays unknown, never
absent, and the page says so. Each search asks for
:data:`~pecoma.fhir.client.PAGE_COUNT` entries a page and reads at most
``smart.fhir_max_pages`` pages; one that runs past it, or that the EHR refuses as asked,
is named with that cause (:attr:`Record.causes`), not as a failure to try again later.
The Observation search so ended is made again by category
(:meth:`~pecoma.fhir.client.FhirClient.search_observations`); what it read is then only
part of the Observations (:attr:`Record.partial`), and the page says which categories
were read.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from pecoma.case import Case, YesNo
from pecoma.fhir.client import (
    PAGE_COUNT,
    FhirClient,
    FhirFetchError,
    Found,
    SearchRefused,
    ServerUrl,
    TooManyPages,
)
from pecoma.fhir.medications import (
    MEDICATION_TYPES,
    may_have_been_given,
    resolver_for,
    unheld_medications,
)
from pecoma.fhir.reading import same_resource
from pecoma.web.cds.allergies import drug_safety
from pecoma.web.smart.errors import LaunchError

__all__ = ["SEARCHES", "Record", "read_record", "unread_stays_unknown"]

#: The searches made for a patient: (resource kind, what it gives the case).
SEARCHES: tuple[tuple[str, str], ...] = (
    ("Condition", "the PEComa diagnosis, its site and date, metastases"),
    ("Observation", "size, histology, immunohistochemistry, margins and disease status"),
    ("Procedure", "the resection and its date"),
    ("MedicationRequest", "systemic treatment given"),
    ("MedicationAdministration", "systemic treatment given"),
    ("MedicationStatement", "systemic treatment given"),
    ("MedicationDispense", "systemic treatment given"),
    ("AllergyIntolerance", "intolerance of an mTOR inhibitor"),
)



@dataclass(frozen=True, slots=True)
class Record:
    """The record as a collection Bundle, and the searches that gave no usable answer."""

    bundle: dict[str, Any]
    failed: tuple[tuple[str, str], ...]  # (resource kind, what it would have given)
    #: Why a search of :attr:`failed` ended, by resource kind, when asking again will
    #: not change it (it ran past the page limit, the EHR refused it as asked).
    causes: dict[str, str] = field(default_factory=dict)
    #: The searches read only in part, by resource kind, with what was and was not read
    #: (the Observations read by category), in a clinician's words: what the rest would
    #: give is unknown.
    partial: dict[str, str] = field(default_factory=dict)
    #: What the FHIR client said of each search failed or read in part, by resource
    #: kind: the details for the integrator.
    details: dict[str, str] = field(default_factory=dict)


def _cause(exc: FhirFetchError, max_pages: int) -> str | None:
    """Why a search ended, in words, when asking again will not change it; else ``None``."""
    if isinstance(exc, TooManyPages):
        return (f"the EHR's answer runs to more than {max_pages} pages (of up to "
                f"{PAGE_COUNT} entries each): pecoma reads at most smart.fhir_max_pages "
                f"({max_pages}) pages, a setting pecoma's administrator can raise")
    if isinstance(exc, SearchRefused):
        return ("the EHR refused the search as pecoma asks it (an EHR may require a "
                "category or a code on it; what it answered is in the details for the "
                "integrator)")
    if isinstance(exc.__cause__, TooManyPages | SearchRefused):
        return _cause(exc.__cause__, max_pages)
    return None


async def read_record(server: ServerUrl, token: str, patient: str, *, timeout: float,
                      max_pages: int = 10,
                      transport: httpx.AsyncBaseTransport | None = None) -> Record:
    """Read the patient's record; :class:`LaunchError` when the Patient cannot be read.
    Each search reads at most ``max_pages`` pages of :data:`PAGE_COUNT` entries."""
    pid = quote(patient, safe="")
    async with FhirClient(server, token=token, timeout_seconds=timeout, transport=transport,
                          max_pages=max_pages,
                          deadline=time.monotonic() + 2 * timeout) as client:
        queries = [("Patient", f"Patient/{pid}")]
        queries += [(kind, f"{kind}?patient={pid}&_count={PAGE_COUNT}" + (
            f"&_include={kind}:medication" if kind in MEDICATION_TYPES else ""))
            for kind, _ in SEARCHES if kind != "Observation"]
        observations = client.search_observations(f"Observation?patient={pid}"
                                                  f"&_count={PAGE_COUNT}")
        results, found = await asyncio.gather(client.search_all(queries),
                                              _found(observations))
        at = 1 + [kind for kind, _ in SEARCHES].index("Observation")  # in SEARCHES' order
        queries.insert(at, ("Observation", ""))
        results.insert(at, found if isinstance(found, FhirFetchError) else found.resources)
        # a server that refuses _include is asked again without it
        again = [i for i, (_kind, query) in enumerate(queries)
                 if "&_include=" in query and isinstance(results[i], FhirFetchError)]
        if again:
            plain = await client.search_all([(queries[i][0], queries[i][1].split("&_include=")[0])
                                             for i in again])
            for i, result in zip(again, plain, strict=True):
                results[i] = result
        held = [r for result in results[1:] if not isinstance(result, FhirFetchError)
                for r in result]
        unheld = unheld_medications([r for r in held if may_have_been_given(r)],
                                    resolver_for(held, None, [server.base]))
        medications = await client.read_medications(unheld) if unheld else []
    patient_result = results[0]
    if isinstance(patient_result, FhirFetchError) or not patient_result:
        raise LaunchError(502, "The patient's record could not be read",
                          "The EHR's FHIR server gave no usable answer when asked for the "
                          "patient. Try again from the EHR.")
    resources: list[dict[str, Any]] = [r for r in patient_result
                                       if r.get("resourceType") == "Patient"][:1]
    failed: list[tuple[str, str]] = []
    causes: dict[str, str] = {}
    details: dict[str, str] = {}
    for (kind, gives), result in zip(SEARCHES, results[1:], strict=True):
        if isinstance(result, FhirFetchError):
            failed.append((kind, gives))
            details[kind] = str(result)
            cause = _cause(result, max_pages)
            if cause is not None:
                causes[kind] = cause
            continue
        # A search may _include other kinds (Medication); keep each resource once.
        resources += [r for r in result if r.get("resourceType") != "Patient"]
    resources += medications  # named by reference, not included: read by their ids
    # One resource sent twice (overlapping pages, an _include and a read) is kept once
    # (the reader's rule, same_resource); two different resources under one id are both
    # kept, so that the reader refuses the record naming the id, never the first page's
    # version standing for the other (an allergy resolved on one, active on the other).
    seen: dict[tuple[str, str], list[dict[str, Any]]] = {}
    entries = []
    for res in resources:
        key = (str(res.get("resourceType")), str(res.get("id")))
        if res.get("id") is not None:
            copies = seen.setdefault(key, [])
            if any(same_resource(other, res) for other in copies):
                continue
            copies.append(res)
        entry: dict[str, Any] = {"resource": res}
        if res.get("id") is not None:
            entry["fullUrl"] = f"{server.base}/{key[0]}/{key[1]}"
        entries.append(entry)
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    partial: dict[str, str] = {}
    if isinstance(found, Found) and found.partial:
        stopped = _cause(found.stopped, max_pages) if found.stopped is not None else None
        partial["Observation"] = (
            f"{stopped or 'the search for them all gave no usable answer'}; pecoma then "
            f"asked for them by category, and read those filed under "
            f"{', '.join(found.categories)}: any filed under another category, or under "
            "none, were not read, and what they would give stays unknown")
        details["Observation"] = found.partial
    return Record(bundle, tuple(failed), causes, partial, details)


async def _found(search: Any) -> Found | FhirFetchError:
    """The Observation search's answer, or its error."""
    try:
        found: Found = await search
    except FhirFetchError as exc:
        return exc
    return found


def unread_stays_unknown(case: Case, record: Record, unidentified: Sequence[str] = (),
                         in_doubt: Sequence[str] = (), purposes: Sequence[str] = ()
                         ) -> tuple[Case, tuple[str, ...], tuple[str, ...]]:
    """The case with what the record cannot vouch for made unknown again.

    An mTOR inhibitor is known to be tolerated only when the allergy list was read and
    nothing on it could concern one (the rule of :mod:`pecoma.web.cds.allergies`): when
    the AllergyIntolerance search failed, or a drug allergy could not be matched to a
    drug, ``mtor_inhibitor_contraindicated`` goes back to unknown whatever an Observation
    says (a ``yes`` stays: it is the safer value), so that no mTOR inhibitor is suggested
    without the question being asked. Medication searches that failed, and the medication
    records whose drug could not be identified (``unidentified``), and those given beside
    another primary cancer whose bearing on the PEComa is asked (``in_doubt``:
    :attr:`pecoma.fhir.reader.BundleCase.courses_in_doubt`), and those of a drug given
    for diseases that are no cancer too whose purpose is asked (``purposes``:
    :attr:`pecoma.fhir.reader.BundleCase.purposes_unknown`), are warned about: the form
    holds only the lines read. Returns the case, the paths made unknown and the
    warnings to show.
    """
    kinds = {kind for kind, _ in record.failed}
    allergies = [e["resource"] for e in record.bundle["entry"]
                 if e["resource"].get("resourceType") in ("AllergyIntolerance", "Condition",
                                                          "AdverseEvent")]
    safety = drug_safety(allergies, "the EHR gave no usable answer to the AllergyIntolerance "
                         "search" if "AllergyIntolerance" in kinds else None,
                         therapies=case.systemic.therapies,
                         resolve=resolver_for([e["resource"] for e in record.bundle["entry"]]))
    # the mTOR inhibitor a line shows tolerated beside one the list names (I15), or any
    reason = safety.withheld(safety.mtor_first_line)
    paths: list[str] = []
    notes: list[str] = []
    said = case.systemic.mtor_inhibitor_contraindicated
    if reason is not None and said is not YesNo.yes:
        although = " although the record says no" if said is YesNo.no else ""
        notes.append(f"'mTOR inhibitor contraindicated' is left unknown{although}: {reason}. "
                     "Ask whether the patient tolerates sirolimus, everolimus or "
                     "temsirolimus.")
        systemic = case.systemic.model_copy(
            update={"mtor_inhibitor_contraindicated": YesNo.unknown})
        case = case.model_copy(update={"systemic": systemic})
        paths.append("systemic.mtor_inhibitor_contraindicated")
    if kinds & set(MEDICATION_TYPES):
        notes.append("Some medication records could not be read: enter every line of "
                     "systemic treatment the patient has had before asking for the report "
                     "(a line not entered is taken as not given).")
    if unidentified:
        notes.append(f"{len(unidentified)} medication record(s) name a drug pecoma cannot "
                     f"identify ({'; '.join(unidentified[:3])}): enter every line of "
                     "systemic treatment the patient has had before asking for the report "
                     "(a line not entered is taken as not given).")
    if in_doubt:
        notes.append(f"{len(in_doubt)} medication record(s) given beside another primary "
                     f"cancer leave a question ({'; '.join(in_doubt[:3])}): answer it, and "
                     "enter every line of the PEComa's systemic treatment before asking for "
                     "the report (a line not entered is taken as not given).")
    if purposes:
        notes.append(f"{len(purposes)} medication record(s) of a drug given for diseases "
                     f"that are no cancer too leave a question ({'; '.join(purposes[:3])}): "
                     "if it was given for the PEComa, enter it as a line of systemic "
                     "treatment before asking for the report (a line not entered is taken "
                     "as not given).")
    return case, tuple(paths), tuple(notes)
