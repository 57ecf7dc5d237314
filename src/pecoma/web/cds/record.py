"""The patient's record for one hook call: prefetch first, then the allowed FHIR server.

Each prefetch key (:data:`~.discovery.PREFETCH`) is one part of the record. A key that is
absent, ``null``, an OperationOutcome, a Bundle carrying an OperationOutcome saying the
search failed or left things out (:func:`pecoma.fhir.searches.failed_issues`: severity
error or fatal, a code such as ``incomplete``, ``suppressed``, ``timeout`` or
``throttled``, or words saying the results are limited or that entries were not
returned, excluded or withheld) or whose issues cannot be read (an ``issue`` that is no
list), a Bundle whose links or ``meta`` labels cannot be read, a Bundle of another type than
``searchset`` or ``collection`` (a history, a transaction: no search's answer), a Bundle
with a ``next`` page (only part of the result), or a Bundle whose ``total`` is no count or is
larger than the matches it holds, or one whose ``meta`` labels it ``REDACTED`` or
``SUBSETTED`` (:mod:`pecoma.fhir.searches`), or, for the allergies, a Bundle saying it may
not hold the entire record (Epic's 4119: :func:`pecoma.fhir.searches.caveat`) means the EHR
has **no data** for that part (not "nothing recorded"). Such a part is fetched from
``fhirServer`` with the template's query when the server is on the allow-list
(:mod:`pecoma.fhir.client`); when there is no server, the server is not allowed, or the
fetch fails (a search not answered by its whole searchset, the Patient read answered 404
or by anything but the Patient), the part stays **unknown** and the reason is kept, for
the cards to say. The resources an allergy search holds are kept even when it is not
the whole result (an intolerance held still rules its drug out; the part stays unknown,
so they clear nothing), as the FHIR reader reads an incomplete bundle; they are kept
beside the list then read from the server.
A resource is the record's whichever key holds it (FHIR names a resource by its type and
id): one of a type its key's query does not ask for (an AllergyIntolerance sent in the
``medication_requests`` key) is read where it belongs, whatever that key's answer, never
dropped, and every copy of a type and id, in any key or read from the server, is
compared with the others (:func:`_add`).
The resources of a Bundle an entry of a prefetch Bundle holds (a searchset nested in a
collection) are the answer's, named where they stand, as the FHIR reader reads them
(:func:`pecoma.fhir.entries.walk`); such a Bundle that is not the whole result of its
search makes its prefetch part unknown (:func:`pecoma.fhir.searches.incomplete`).
The medication templates ``_include`` the Medications their resources refer to; for a
record that may be a PEComa patient's, one still missing is read from the allowed
``fhirServer`` by its id (:func:`read_named_medications`). The ``fullUrl`` of each entry
is kept, so that a ``urn:uuid`` reference (a subject, a ``medicationReference``) resolves
as it does in a bundle given to ``pecoma fhir to-case``.
A search made of ``fhirServer`` asks for :data:`~pecoma.fhir.client.PAGE_COUNT` entries a
page and reads at most ``cds.fhir_max_pages`` pages: one that runs past it fails, and the
reason names the setting. The observations are searched by
:meth:`~pecoma.fhir.client.FhirClient.search_observations`: when the server refuses the
search by patient alone (an EHR that requires a category or code) or it runs past the page
limit, by category; the Observations so read are kept, and the part stays unknown, its
reason naming the categories read (those of any other category, or of none, are unknown).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pecoma.errors import FieldIssue
from pecoma.fhir import searches
from pecoma.fhir.client import (
    PAGE_COUNT,
    FhirClient,
    FhirFetchError,
    ServerNotAllowed,
    TooManyPages,
)
from pecoma.fhir.entries import Held, walk
from pecoma.fhir.medications import may_have_been_given, resolver_for, unheld_medications
from pecoma.fhir.reading import modifier_urls, same_resource
from pecoma.fhir.subjects import ThePatient, the_patient, unattributed_parts
from pecoma.web.cds.cards import md_text
from pecoma.web.cds.discovery import PREFETCH
from pecoma.web.cds.requests import HookRequest
from pecoma.web.cds.service import CdsService

__all__ = ["Record", "entries_of", "gather_record", "patient_of", "read_named_medications",
           "resources_of"]


@dataclass(slots=True)
class Record:
    """The resources read, and the parts of the record that are unknown, with why."""

    resources: list[dict[str, Any]] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)
    fetched: tuple[str, ...] = ()  # the parts read from the FHIR server, not the prefetch
    #: Two different resources sent under one type and id, each named where the EHR sent
    #: it (``prefetch.<key>.entry[i]``): the record cannot be read as one.
    conflicts: list[FieldIssue] = field(default_factory=list)
    #: Where each resource kept was sent, by (type, id).
    held: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = field(
        default_factory=dict)
    #: Each ``fullUrl`` an entry came with, and the resource kept for it (one resource
    #: sent twice, by two searches, may come under two fullUrls).
    urls: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Where the EHR first sent each ``fullUrl`` (``prefetch.<key>.entry[i]``).
    url_where: dict[str, str] = field(default_factory=dict)
    #: The modifierExtensions a prefetch Bundle's entry carries, by the identity of its
    #: resource: they modify what the resource means, and go with it into the bundle the
    #: FHIR reader reads (:meth:`bundle`) and into the allergy check.
    entry_modifiers: dict[int, list[Any]] = field(default_factory=dict)

    def entries(self) -> list[tuple[str | None, dict[str, Any]]]:
        """``(fullUrl, resource)`` of the record's bundle: each resource once with its
        first fullUrl, then the same resource object again under each other one (the
        FHIR reader reads one object once, and resolves every fullUrl to it)."""
        first: dict[int, str] = {}
        again: list[tuple[str | None, dict[str, Any]]] = []
        for url, res in self.urls.items():
            if id(res) in first:
                again.append((url, res))
            else:
                first[id(res)] = url
        return [(first.get(id(res)), res) for res in self.resources] + again

    def bundle(self) -> dict[str, Any]:
        entries = []
        for url, res in self.entries():
            entry: dict[str, Any] = {"resource": res} if url is None else {
                "fullUrl": url, "resource": res}
            if id(res) in self.entry_modifiers:
                entry["modifierExtension"] = self.entry_modifiers[id(res)]
            entries.append(entry)
        return {"resourceType": "Bundle", "type": "collection", "entry": entries}

    def entry_modifier_urls(self) -> dict[int, str]:
        """The URLs of the modifierExtensions of :attr:`entry_modifiers`, by the identity
        of the resource (what :func:`pecoma.fhir.allergies.read_allergies` takes)."""
        return {key: modifier_urls({"modifierExtension": said})
                for key, said in self.entry_modifiers.items()}


#: The resource type each prefetch key searches for, and the types its search may
#: ``_include``.
_SEARCHED: dict[str, tuple[str, tuple[str, ...]]] = {
    key: (template.split("?")[0].split("/")[0],
          ("Medication",) if "_include=" in template else ())
    for key, template in PREFETCH.items()
}


def no_data_reason(value: Any, key: str | None = None,
                   resources: list[dict[str, Any]] | None = None) -> str | None:
    """Why a prefetch value carries no data, or ``None`` when it does (a Bundle that is
    not the whole result of its search, or one that holds an entry with no resource:
    :mod:`pecoma.fhir.searches`; with ``key``, only the resources of the type its query
    searches for count as its matches); with ``key``, also a value that holds none of
    the resources its query searches for but others (it answers another query).
    ``resources``: the value's resources (:func:`resources_of`), when the caller has
    them already."""
    if value is None:
        return "the EHR sent no data for it (prefetch null or absent)"
    if not isinstance(value, dict):
        return "the EHR sent something other than a FHIR resource"
    if value.get("resourceType") == "OperationOutcome":
        return "the EHR could not provide it (OperationOutcome)"
    if value.get("resourceType") == "Bundle":
        if not isinstance(value.get("type"), str):
            return ("the EHR sent a Bundle without its type (FHIR requires one): whether it "
                    "is the whole result of the search cannot be told")
        if value["type"] not in searches.RESULT_TYPES:
            # a history holds versions, a transaction or batch what is to be written: no
            # answer to a search, so whether it holds the whole list cannot be told
            return (f"the EHR sent a Bundle of type '{value['type'][:40]}', not the result "
                    "of a search (a 'searchset', or a 'collection'): whether it holds the "
                    "whole result cannot be told")
        why = searches.incomplete(value, (_SEARCHED[key][0],) if key in _SEARCHED else None)
        if why is not None:
            return f"the EHR's answer is not known to be the whole result: {why}"
    if key in _SEARCHED:
        wanted, included = _SEARCHED[key]
        if resources is None:
            resources = resources_of(value)
        why = searches.foreign(resources, wanted, included)
        if why is not None:
            return f"the EHR's answer is not the result of its query: {why}"
        if "?" not in PREFETCH[key] and not any(
                res.get("resourceType") == wanted for res in resources):
            # a read (Patient/{{context.patientId}}) answered by nothing of the kind (an
            # empty searchset: a proxy turning a 404 into an empty search) did not read
            # the resource: not read, as a read answered 404 is, never 'nothing recorded'
            return (f"the EHR's answer holds no {wanted} (an empty search: the {wanted} "
                    "was not found, or not sent)")
    if value.get("resourceType") != "Bundle" and "?" in PREFETCH.get(key or "", ""):
        return ("the EHR sent one resource, not the Bundle its search returns: whether it "
                "is the whole result cannot be told")
    return None


def _held_anyway(value: Any, key: str) -> bool:
    """Whether a prefetch value that is not the whole result of its search is still an
    answer to it (a Bundle of a type, holding no resource of another query)."""
    if not (isinstance(value, dict) and value.get("resourceType") == "Bundle"
            and isinstance(value.get("type"), str)):
        return False
    wanted, included = _SEARCHED[key]
    return searches.foreign(resources_of(value), wanted, included) is None


def _a_resource(value: Any) -> bool:
    """Whether a value is a FHIR resource of the record (not an OperationOutcome, nor a
    Bundle: the resources of a Bundle held in an entry are the record's)."""
    return isinstance(value, dict) and isinstance(value.get("resourceType"), str) and (
        value["resourceType"] not in ("OperationOutcome", "Bundle"))


def _walked(key: str, value: Any) -> list[Held]:
    """The entries of a prefetch value that is a Bundle, each named where the EHR sent it
    (``prefetch.<key>.entry[i]``, ``prefetch.<key>.entry[i].resource.entry[j]`` for one
    in a Bundle an entry holds, as the FHIR reader reads it:
    :func:`pecoma.fhir.entries.walk`); none for any other value."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return walk(value, f"prefetch.{key}")
    return []


def _labelled(key: str, value: Any, walked: list[Held] | None = None,
              ) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The resources of a prefetch value (:func:`resources_of`), each with where the EHR
    sent it (:func:`_walked`; ``prefetch.<key>`` for a resource alone) and the fullUrl it
    came with (``None``: none). ``walked``: the value's :func:`_walked` entries, when the
    caller has them already."""
    if isinstance(value, dict) and value.get("resourceType") == "Bundle":
        return [(held.where, held.full_url, held.resource)
                for held in (_walked(key, value) if walked is None else walked)
                if _a_resource(held.resource)]
    return [(f"prefetch.{key}", None, value)] if _a_resource(value) else []


def resources_of(value: Any) -> list[dict[str, Any]]:
    """Resources of a prefetch value: a resource, or a Bundle of them (outcomes left out)."""
    return [res for _where, _url, res in _labelled("", value)]


def entries_of(value: Any) -> list[tuple[str | None, dict[str, Any]]]:
    """``(fullUrl, resource)`` of a prefetch value: a resource (no fullUrl), or a Bundle
    of them (outcomes left out)."""
    return [(url, res) for _where, url, res in _labelled("", value)]


async def gather_record(req: HookRequest, svc: CdsService, deadline: float) -> Record:
    """The record of the request's patient, with its unknown parts named. A medication
    search the server refuses with ``_include`` is asked again without it (the
    Medications are then read by :func:`read_named_medications`)."""
    record = Record()
    parts: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {}
    # what a prefetch value that is no answer to its query still holds, read whatever
    # is then fetched for its part: its resources of a type its query does not ask for
    # (an AllergyIntolerance sent in the medication_requests key), and, for the
    # allergies, every entry
    aside: dict[str, list[tuple[str, str | None, dict[str, Any]]]] = {}
    wanted: list[str] = []
    walked: dict[str, list[Held]] = {}  # each prefetch Bundle's entries, walked once
    for key in PREFETCH:
        value = req.prefetch.get(key)
        walked[key] = _walked(key, value)
        labelled = _labelled(key, value, walked[key])
        reason = no_data_reason(value, key, [res for _where, _url, res in labelled])
        if reason is None:
            parts[key] = labelled
        else:
            record.unknown[key] = reason
            wanted.append(key)
            if key == "allergies" and _held_anyway(value, key):
                # the entries an allergy search holds still rule drugs out when the
                # search is not whole (as the FHIR reader reads an incomplete bundle):
                # the part stays unknown, so they clear nothing
                aside[key] = labelled
            else:
                aside[key] = [held for held in labelled if _elsewhere(key, held[2])]
    if wanted and req.fhir_server:
        try:
            client = svc.fhir_client(req.fhir_server, req.access_token,
                                     max_pages=svc.settings.fhir_max_pages, deadline=deadline)
        except ServerNotAllowed:
            for key in wanted:
                record.unknown[key] += ("; the fhirServer named is not on this service's "
                                        "allow-list, so it was not asked")
        else:
            patient = quote(req.patient_id, safe="")
            queries = {key: _counted(PREFETCH[key].replace("{{context.patientId}}", patient))
                       for key in wanted}
            async with client:
                if "observations" in queries:
                    await _search_observations(client, queries.pop("observations"), parts,
                                               record)
                failed = await _search(client, queries, parts, record)
                plain = {key: queries[key].split("&_include=")[0] for key in failed
                         if "&_include=" in queries[key]}
                if plain:  # a failure again adds nothing to the reason already kept
                    await _search(client, plain, parts, record, say_failure=False)
    elif wanted:
        for key in wanted:
            record.unknown[key] += "; no fhirServer was given to fetch it from"
    for key in PREFETCH:
        _add(record, parts.get(key, []))
        _add(record, aside.get(key, []))
        if key in parts and key not in record.fetched:
            _keep_entry_modifiers(record, walked[key])
        elif aside.get(key):
            _keep_entry_modifiers(record, walked[key],
                                  {id(res) for _w, _u, res in aside[key]})
    return record


def _elsewhere(key: str, res: dict[str, Any]) -> bool:
    """Whether a resource sent under a prefetch key is of a type its query does not ask
    for (nor ``_include``): it belongs to another part of the record."""
    wanted, included = _SEARCHED[key]
    return res.get("resourceType") not in (wanted, *included)


def _keep_entry_modifiers(record: Record, walked: list[Held],
                          only: set[int] | None = None) -> None:
    """Keep the modifierExtensions a prefetch Bundle's entries carry (``walked``: its
    :func:`_walked` entries), with the resource kept for each
    (:attr:`Record.entry_modifiers`): the FHIR reader reads them on the entry as it does
    in a bundle given to ``pecoma fhir to-case``. ``only``: the identities of the
    resources whose entries count (those read from a Bundle that is no answer to its
    query), else every entry's."""
    for held in walked:
        # the modifiers of the entry and of those holding its Bundle
        said, res = list(held.modifiers), held.resource
        if not (said and isinstance(res, dict) and _a_resource(res)) or (
                only is not None and id(res) not in only):
            continue
        rid = res.get("id")
        kept = next((other for _w, other in record.held.get(
            (str(res.get("resourceType")), str(rid)), []) if same_resource(other, res)),
            res) if rid is not None else res
        record.entry_modifiers.setdefault(id(kept), []).extend(said)


def patient_of(record: Record, req: HookRequest) -> ThePatient:
    """The patient of the call in the record (:mod:`pecoma.fhir.subjects`, as the FHIR
    reader decides it), with the parts of the record holding a resource whose patient
    cannot be confirmed made unknown, with why: such a resource is not read, and what it
    would give is unknown, never absent (an allergy entry among them: no drug proposed)."""
    who = the_patient(record.entries(), req.patient_id, req.fhir_server)
    aside = [(str(res.get("resourceType")), f"{res.get('resourceType')}/{res.get('id')}",
              found) for res in record.resources if (found := who.of(res)).whose == "unknown"]
    for part, why in unattributed_parts(aside).items():
        record.unknown[part] = f"{record.unknown[part]}; and {why}" if part in \
            record.unknown else why
    return who


async def _search(client: FhirClient, queries: dict[str, str],
                  parts: dict[str, list[tuple[str, str | None, dict[str, Any]]]],
                  record: Record, *,
                  say_failure: bool = True) -> list[str]:
    """Run the queries of the unknown parts; a part read is no longer unknown. Returns the
    keys whose search failed (with the reason, when ``say_failure``)."""
    results = await client.search_all(list(queries.items()))
    failed = []
    for key, result in zip(queries, results, strict=True):
        if isinstance(result, FhirFetchError):
            if say_failure:
                record.unknown[key] += f"; {_said(result)}"
            failed.append(key)
        else:
            parts[key] = [(f"{key}[{i}] (read from fhirServer)", None, res)
                          for i, res in enumerate(result)]
            record.unknown.pop(key, None)
            record.fetched += (key,)
    return failed


def _counted(query: str) -> str:
    """A prefetch template's search asking for :data:`PAGE_COUNT` entries a page
    (``_count`` after the patient, so that the search asked again without its
    ``_include`` keeps it); a read is left as it is."""
    path, search, rest = query.partition("?")
    if not search:
        return query
    first, sep, others = rest.partition("&")
    return f"{path}?{first}&_count={PAGE_COUNT}{sep}{others}"


def _said(exc: FhirFetchError) -> str:
    """Why a fhirServer search failed, naming the setting when it ran past the page
    limit (asking again would stop at the same page)."""
    if isinstance(exc, TooManyPages) or isinstance(exc.__cause__, TooManyPages):
        return f"{exc} (pecoma reads at most cds.fhir_max_pages pages of a search)"
    return str(exc)


async def _search_observations(client: FhirClient, query: str,
                               parts: dict[str, list[tuple[str, str | None, dict[str, Any]]]],
                               record: Record) -> None:
    """The observations from the FHIR server (by category when it must be): a part read
    in full is no longer unknown; one read by category keeps what it read, and stays
    unknown, with the categories read."""
    try:
        found = await client.search_observations(query, "observations")
    except FhirFetchError as exc:
        record.unknown["observations"] += f"; {_said(exc)}"
        return
    parts["observations"] = [(f"observations[{i}] (read from fhirServer)", None, res)
                             for i, res in enumerate(found.resources)]
    record.fetched += ("observations",)
    if found.partial is None:
        record.unknown.pop("observations", None)
    else:
        limit = (" (pecoma reads at most cds.fhir_max_pages pages of a search)"
                 if isinstance(found.stopped, TooManyPages) else "")
        record.unknown["observations"] += (f"; read from fhirServer in part: "
                                           f"{found.partial}{limit}")


async def read_named_medications(record: Record, req: HookRequest, svc: CdsService,
                                 deadline: float, known: Sequence[dict[str, Any]] = ()
                                 ) -> None:
    """The Medications that the record's medication resources (those that may have been
    given) name by id but the record does not hold, read from the allowed ``fhirServer``
    (at most :data:`~pecoma.fhir.client.MEDICATION_READS_MAX`); one still missing leaves
    its line unidentified, and the FHIR reader says so. ``known``: Medications this call
    has read already (a draft order's), kept and not read again. Called only for a record
    that may be a PEComa patient's: nobody else's medications are asked for."""
    if known:
        _add(record, [(f"Medication/{m.get('id')} (read from fhirServer)", None, m)
                      for m in known if m.get("resourceType") == "Medication"])
    if not req.fhir_server:
        return
    unheld = unheld_medications([r for r in record.resources if may_have_been_given(r)],
                                resolver_for(record.resources, record.urls,
                                             [req.fhir_server]))
    if not unheld:
        return
    try:
        client = svc.fhir_client(req.fhir_server, req.access_token, max_pages=1,
                                 deadline=deadline)
    except ServerNotAllowed:
        return
    async with client:
        found = await client.read_medications(unheld)
    _add(record, [(f"Medication/{m.get('id')} (read from fhirServer)", None, m)
                  for m in found])


def _add(record: Record, resources: list[tuple[str, str | None, dict[str, Any]]]) -> None:
    """Append the resources not yet kept to the record, each with where it was sent and
    the fullUrl it came with: one sent twice (two searches may both hold it; the same
    content, or one version whose ``meta.lastUpdated`` is written two ways:
    :func:`pecoma.fhir.reading.same_resource`, the FHIR reader's rule) is kept once, under
    each fullUrl it came with; two different resources under one type and id are both
    kept, and the record names them where the EHR sent them (:attr:`Record.conflicts`:
    the record is then refused, as ``to-case`` refuses such a bundle, instead of the first
    one met standing for the other, an allergy resolved in one, active in the other; the
    allergy check reads both). Two different resources under one ``fullUrl`` are such a
    conflict too (a reference to it could mean either)."""
    for where, url, res in resources:
        rid = res.get("id")
        ident = (str(res.get("resourceType")), str(rid))
        same: dict[str, Any] | None = None
        if rid is not None:
            kept = record.held.setdefault(ident, [])
            same = next((other for _w, other in kept if same_resource(other, res)), None)
            if same is None:
                if kept:
                    name = md_text(f"{ident[0]}/{ident[1]}")[:100]
                    record.conflicts.append(FieldIssue(
                        where, name, f"must not repeat an id with other content "
                        f"({kept[0][0]} is another {name}: a reference to it could mean "
                        "either)"))
                kept.append((where, res))
        if same is None:
            record.resources.append(res)
            same = res
        if url is None:
            continue
        named = record.urls.setdefault(url, same)
        if named is not same and not same_resource(named, same) and not any(
                c.path == where for c in record.conflicts):
            # one fullUrl, two different resources: refused as the reader refuses it
            record.conflicts.append(FieldIssue(
                where, md_text(url)[:100], "must not repeat a fullUrl with other content "
                f"({record.url_where[url]} is another resource under it: a reference to "
                "it could mean either)"))
        record.url_where.setdefault(url, where)
