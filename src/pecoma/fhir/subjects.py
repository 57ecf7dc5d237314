"""Whose a resource is: the one reading of a ``subject`` / ``patient`` Reference.

A record is read for one patient (:class:`ThePatient`): the id the record is read for (a
CDS Hooks call's ``context.patientId``, a SMART launch's patient, else the bundle's
Patient), the identifiers its Patient resource carries, the FHIR servers its references
may name (the call's ``fhirServer``, the server of the Patient's ``fullUrl``) and the
record's ``fullUrl``\\ s. A Reference is then:

* **the patient's** (``this``): ``Patient/<id>`` (relative, or ``/_history/n``); an
  absolute ``<base>/Patient/<id>`` whose base is one of those servers; the ``fullUrl`` of
  the patient's Patient entry (a ``urn:uuid`` included); an ``identifier`` with the same
  system and value as one the Patient carries; or no reference at all (a ``display``
  only, as a search by ``patient=`` returns);
* **another patient's** (``other``, refused): ``Patient/<other id>`` on the same
  server; the fullUrl of another Patient entry; an identifier in a system the Patient
  carries with another value; a subject that is no patient (``Group/g1``);
* **not attributable** (``unknown``): pecoma cannot tell whose it is, so the resource is
  not read and its part of the record is taken as not read in full, with why: an
  identifier in a system the Patient does not carry, or with no Patient resource to
  compare it with; an absolute reference on another server (the same id there may be
  another person), or with no server to compare it with; a ``urn:uuid`` or a contained
  (``#``) reference that names no Patient entry; a malformed reference
  (``Patient/x/Patient/p1``, ``Patient/p1/``, a number); a subject that is not a
  Reference object.

The FHIR reader (:mod:`pecoma.fhir.reader`) and the CDS services (the record gathered,
the allergy check, the draft orders of ``order-select``) all decide with :meth:`ThePatient.of`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from pecoma.fhir.references import FHIR_ID as _ID
from pecoma.fhir.references import parse_reference, server_key, unversioned

__all__ = ["PART_OF_TYPE", "Attribution", "ThePatient", "named_patient", "named_patients",
           "parse_reference", "the_patient", "unattributed_parts"]

Whose = Literal["this", "other", "unknown"]

#: The part of the record (:data:`pecoma.fhir.searches.PARTS`) each resource type read
#: for its patient belongs to.
PART_OF_TYPE: Final[Mapping[str, str]] = {
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationStatement": "medications",
    "MedicationRequest": "medication_requests",
    "MedicationAdministration": "medication_administrations",
    "MedicationDispense": "medication_dispenses",
    "AllergyIntolerance": "allergies",
    "AdverseEvent": "allergies",
}

#: The elements of a resource that name its patient.
_KEYS: Final = ("subject", "patient")



@dataclass(frozen=True, slots=True)
class Attribution:
    """Whose a Reference (or a resource) is, and why when it is not the patient's."""

    whose: Whose
    why: str = ""
    #: What the reference says, safe to show (an identifier's value is never shown).
    shown: str = ""
    #: The element of the resource it was read from (``subject``, ``patient``).
    key: str = ""


_THIS: Final = Attribution("this")


def named_patients(resources: Iterable[Mapping[str, Any]]) -> set[str]:
    """The ids of the ``Patient/<id>`` the ``subject`` and ``patient`` of the resources read
    for a patient name literally: what a record with no Patient resource is checked by
    (it must name one patient only) and read for."""
    return {n for res in resources if res.get("resourceType") in PART_OF_TYPE
            for key in _KEYS if (n := named_patient(res.get(key))) is not None}


def named_patient(value: Any) -> str | None:
    """The id of ``Patient/<id>`` a Reference names literally (on any server), or ``None``:
    what a record with no Patient resource can be checked by (one id for all)."""
    if not isinstance(value, dict) or not isinstance(value.get("reference"), str):
        return None
    parsed = parse_reference(value["reference"])
    return parsed[2] if parsed is not None and parsed[1] == "Patient" else None


@dataclass(frozen=True, slots=True)
class ThePatient:
    """The patient a record is read for (build it with :func:`the_patient`)."""

    id: str | None
    identifiers: frozenset[tuple[str, str]] = frozenset()
    servers: frozenset[str] = frozenset()
    full_urls: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: The Patient resources of the record that are this patient (by identity).
    resources: tuple[Mapping[str, Any], ...] = ()
    #: ``Patient/<id>`` when the id is a valid FHIR id: the usual Reference, told at once.
    own_reference: str | None = None

    def of(self, resource: Mapping[str, Any]) -> Attribution:
        """Whose a resource is, by its ``subject`` and ``patient`` (another patient's if
        either is; not attributable if either cannot be told; the patient's otherwise,
        also with neither)."""
        unknown: Attribution | None = None
        for key in _KEYS:
            if key not in resource:
                continue
            value = resource[key]
            if self._plainly_mine(value):
                continue
            found = self.whose(value)
            if found.whose == "other":
                return replace(found, key=key)
            if found.whose == "unknown" and unknown is None:
                unknown = replace(found, key=key)
        return unknown or _THIS

    def _plainly_mine(self, value: Any) -> bool:
        """``value`` is ``{"reference": "Patient/<id>"}`` (a display aside) naming no entry
        of the record: what :meth:`whose` says is the patient's, told without its steps."""
        return (self.own_reference is not None and isinstance(value, dict)
                and value.get("reference") == self.own_reference
                and "identifier" not in value and self.own_reference not in self.full_urls)

    def whose(self, value: Any) -> Attribution:
        """Whose one Reference is."""
        if not isinstance(value, dict):
            return Attribution("unknown", f"not a Reference (an object) but a "
                               f"{_kind(value)}", _kind(value))
        by_reference = by_identifier = None
        if "reference" in value:
            by_reference = self._by_reference(value["reference"])
        if "identifier" in value:
            by_identifier = self._by_identifier(value["identifier"])
        given = [a for a in (by_reference, by_identifier) if a is not None]
        for verdict in ("other", "this"):
            for a in given:
                if a.whose == verdict:
                    return a
        return given[0] if given else _THIS  # a display only: nothing says otherwise

    def _by_reference(self, ref: Any) -> Attribution:
        if not isinstance(ref, str):
            return Attribution("unknown", f"its reference is a {_kind(ref)}, not a string",
                               _kind(ref))
        shown = ref[:100]
        target = self.full_urls.get(ref) or self.full_urls.get(unversioned(ref))
        if target is not None:
            return self._target(target, shown)
        parsed = parse_reference(ref)
        if parsed is None:
            what = ("a reference to no entry of the record" if ref.startswith(("urn:", "#"))
                    else "a malformed reference")
            return Attribution("unknown", f"{what}: whose it is cannot be told", shown)
        base, kind, rid = parsed
        if kind != "Patient":
            return Attribution("other", f"refers to a {kind}, not to the patient", shown)
        if base and server_key(base) not in self.servers:
            where = ("another server than the record's" if self.servers else
                     "a server pecoma cannot compare with the record's (no fhirServer, and "
                     "no Patient entry with an absolute fullUrl)")
            return Attribution("unknown", f"an absolute reference on {where}: the same id "
                               "there may be another person", shown)
        if self.id is None:
            return Attribution("unknown", "no patient to compare it with", shown)
        if rid != self.id:
            return Attribution("other", f"refers to another patient than Patient/{self.id}",
                               shown)
        return Attribution("this", shown=shown)

    def _target(self, target: Mapping[str, Any], shown: str) -> Attribution:
        if any(target is p for p in self.resources):
            return Attribution("this", shown=shown)
        kind = target.get("resourceType")
        if kind != "Patient":
            return Attribution("other", f"refers to a {kind}, not to the patient", shown)
        if self.id is not None and target.get("id") == self.id:
            return Attribution("this", shown=shown)
        return Attribution("other", "refers to another Patient entry of the record", shown)

    def _by_identifier(self, identifier: Any) -> Attribution:
        if not isinstance(identifier, dict) or not isinstance(identifier.get("system"), str) \
                or not isinstance(identifier.get("value"), str):
            return Attribution("unknown", "an identifier without a system and a value",
                               "identifier")
        system = identifier["system"]
        shown = f"identifier of system {system[:80]} (value not shown)"
        if (system, identifier["value"]) in self.identifiers:
            return Attribution("this", shown=shown)
        if any(s == system for s, _v in self.identifiers):
            return Attribution("other", "an identifier the patient's Patient resource "
                               "carries with another value in this system: another "
                               "patient", shown)
        why = ("a system the patient's Patient resource does not carry" if self.resources
               else "no Patient resource of the patient in the record to compare it with")
        return Attribution("unknown", f"an identifier only, in {why}", shown)


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def the_patient(entries: Iterable[tuple[str | None, Mapping[str, Any]]],
                patient: str | None, server: str | None = None) -> ThePatient:
    """The patient of a record: ``entries`` are the record's ``(fullUrl, resource)``;
    ``patient`` the id it is read for (``None``: the record's own Patient, else the one
    patient its references name); ``server`` the FHIR server it was read from (a CDS
    call's ``fhirServer``), if any. With ``patient`` given, only a Patient resource of that
    id is the patient (another's identifiers are never taken for theirs)."""
    items = list(entries)
    urls = {url: res for url, res in items if isinstance(url, str)}
    patients = [(url, res) for url, res in items if res.get("resourceType") == "Patient"]
    pid = patient
    if pid is None:
        ids = {res["id"] for _u, res in patients if isinstance(res.get("id"), str)}
        if len(ids) == 1:
            pid = next(iter(ids))
        elif not patients:
            named = named_patients(res for _u, res in items)
            pid = next(iter(named)) if len(named) == 1 else None
    mine = [(url, res) for url, res in patients
            if (res.get("id") == pid if patient is not None else True)]
    identifiers = frozenset(
        (i["system"], i["value"]) for _u, res in mine for i in _list(res.get("identifier"))
        if isinstance(i, dict) and isinstance(i.get("system"), str)
        and isinstance(i.get("value"), str))
    servers = {server_key(server)} if server else set()
    for url, _res in mine:
        parsed = parse_reference(url) if isinstance(url, str) else None
        if parsed is not None and parsed[0] and parsed[1] == "Patient":
            servers.add(server_key(parsed[0]))
    own = f"Patient/{pid}" if pid is not None and _ID.fullmatch(pid) else None
    return ThePatient(id=pid, identifiers=identifiers, servers=frozenset(servers),
                      full_urls=urls, resources=tuple(res for _u, res in mine),
                      own_reference=own)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def unattributed_parts(found: Iterable[tuple[str, str, Attribution]]) -> dict[str, str]:
    """The parts of the record not read in full because resources of theirs could not be
    attributed to the patient: ``found`` holds ``(resource type, where, attribution)``
    of each such resource; each part says how many and why (a few named)."""
    by_part: dict[str, list[str]] = {}
    for kind, where, a in found:
        part = PART_OF_TYPE.get(kind)
        if part is not None:
            by_part.setdefault(part, []).append(f"{where}: {a.why}")
    out = {}
    for part, lines in by_part.items():
        more = f"; and {len(lines) - 3} more" if len(lines) > 3 else ""
        out[part] = (f"{len(lines)} entr{'y' if len(lines) == 1 else 'ies'} whose patient "
                     "cannot be confirmed, not read (" + "; ".join(lines[:3]) + more + ")")
    return out
