"""The resources of the FHIR Bulk Data export, patient by patient, as NDJSON lines, with
the mCODE profiles each resource conforms to declared in ``meta.profile``.

Each patient's latest case goes through the same writer as ``pecoma fhir from-case``
(:func:`pecoma.fhir.writer.resources_from_case`), without the case's free label; resource
ids are prefixed with the patient's id so that they are unique in the export. The
recorded outcomes add a CancerDiseaseStatus observation each (recurrence, metastasis or
progression: worsened; a last contact alive without disease: in full remission; alive
with disease: undetermined), so does each surveillance scan that found a relapse
(worsened, on the scan's day: :func:`pecoma.registry.routine.relapse_scans`, the scans
OMOP's recurrences are read from), and the death sets ``Patient.deceasedDateTime``.
Resource ids longer than FHIR allows (64 characters) are shortened
(:func:`resource_id`), the references following. With a network secret the
patient id is the keyed hash of the registry id (see
:func:`pecoma.registry.omop.pseudonym`); with ``month`` precision every date is reduced
to its month (``2025-01``, a valid FHIR date).

The files are written in :mod:`pecoma.registry.fhir_bulk_files`, the whole export in
:mod:`pecoma.registry.fhir_bulk`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from orjson import Fragment, dumps

from pecoma.case import parse_case
from pecoma.errors import InputError
from pecoma.fhir.writer import resources_from_case
from pecoma.registry.omop import pseudonym
from pecoma.registry.routine import recorded_relapses, relapse_scans

if TYPE_CHECKING:
    from pecoma.store.repository import OutcomeView, ScanData

__all__ = ["FHIR_ID", "MCODE", "build_bulk", "bulk_lines", "fhir_id", "resource_id"]

_MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
MCODE: dict[str, str] = {
    "Patient": _MCODE + "mcode-cancer-patient",
    "primary": _MCODE + "mcode-primary-cancer-condition",
    "secondary": _MCODE + "mcode-secondary-cancer-condition",
    "tumour-size": _MCODE + "mcode-tumor-size",
    "disease-status": _MCODE + "mcode-cancer-disease-status",
    "surgery": _MCODE + "mcode-cancer-related-surgical-procedure",
    # mCODE 1.0 profiled medication statements (later versions profile requests and
    # administrations, which the registry does not record)
    "medication": _MCODE + "mcode-cancer-related-medication-statement|1.0.0",
}
# each profile's ``meta`` serialised once, spliced into every resource (orjson.Fragment)
_META = {p: Fragment(dumps({"profile": [p]})) for p in MCODE.values()}
_LOINC_DISEASE_STATUS = ("97509-4", "Cancer disease progression")
_STATUS = {
    "worsened": ("271299001", "Patient's condition worsened"),
    "remission": ("550991000124107", "Malignant neoplasm in full remission"),
    "undetermined": ("709137006", "Patient condition undetermined"),
}


def _status_parts() -> tuple[bytes, bytes, bytes, bytes, dict[str, bytes]]:
    """A CancerDiseaseStatus observation serialised with marks where its variable parts
    go (its id, the patient's, the diagnosis's, date, status), cut into the constant
    pieces between them;
    the last piece of each status carries its coding. Built from the very dict a
    resource is serialised from, so the spliced lines are those ``dumps`` gives."""
    marks = {s: f"\x00{s}\x00" for s in ("id", "pid", "focus", "date", "status")}
    text = dumps({
        "resourceType": "Observation", "id": marks["id"],
        "meta": {"profile": [MCODE["disease-status"]]},
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org",
                             "code": _LOINC_DISEASE_STATUS[0],
                             "display": _LOINC_DISEASE_STATUS[1]}]},
        "subject": {"reference": f"Patient/{marks['pid']}"},
        "focus": [{"reference": f"Condition/{marks['focus']}"}],
        "effectiveDateTime": marks["date"],
        "valueCodeableConcept": marks["status"],
    }).decode()
    # orjson writes U+0000 as \u0000: the marks as they appear in the text
    cut = {s: m.replace("\x00", "\\u0000") for s, m in marks.items()}
    head, rest = text.split(cut["id"], 1)
    mid1, rest = rest.split(cut["pid"], 1)
    mid2, rest = rest.split(cut["focus"], 1)
    mid3, rest = rest.split(cut["date"], 1)
    before, after = rest.split(f'"{cut["status"]}"', 1)
    tails = {
        status: (before + dumps({"coding": [{"system": "http://snomed.info/sct",
                                             "code": code, "display": display}]}
                                ).decode() + after).encode()
        for status, (code, display) in _STATUS.items()
    }
    return head.encode(), mid1.encode(), mid2.encode(), mid3.encode(), tails


_S_HEAD, _S_SUBJECT, _S_FOCUS, _S_DATE, _S_TAIL = _status_parts()


# the day of a full date as a JSON string "YYYY-MM-DD" (the writer and the outcomes give
# dates so): "-DD" before a quote, found first (a '-' is rarer than a quote), then the rest
# checked behind it; replaced by nothing, which Python's re does without calling back.
# In JSON a quote after a digit closes a string and is never followed by a digit, so two
# such dates never overlap.
_DAY = re.compile(rb'-\d\d(?=")(?<="\d{4}-\d\d-\d\d)')


def _profile(resource: dict[str, Any], local_id: str) -> str | None:
    kind = resource["resourceType"]
    if kind == "Patient":
        return MCODE["Patient"]
    if kind == "Condition":
        return MCODE["secondary" if local_id.startswith("metastasis") else "primary"]
    if kind == "Observation" and local_id == "tumour-size":
        return MCODE["tumour-size"]
    if kind == "Procedure":
        return MCODE["surgery"]
    if kind == "MedicationStatement":
        return MCODE["medication"]
    return None


def _status(o: OutcomeView) -> str | None:
    if o.event in ("local_recurrence", "distant_metastasis", "progression"):
        return "worsened"
    if o.event == "last_contact":
        return {"alive_without_disease": "remission",
                "alive_with_disease": "undetermined"}.get(o.vital_status or "")
    return None


FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")
"""A FHIR R4 resource id: at most 64 letters, digits, '-' and '.'."""

_ID_MAX = 64
_ID_HASH = 10  # hex digits of SHA-256 ending an id that had to be shortened


def _short(long_id: str) -> str:
    """``long_id`` when FHIR allows its length (64 characters), else its first 53
    characters, '-' and 10 hex digits of its SHA-256: still readable, the same in every
    export, and two long ids never share one (the digest is of the whole id)."""
    if len(long_id) <= _ID_MAX:
        return long_id
    digest = hashlib.sha256(long_id.encode()).hexdigest()[:_ID_HASH]
    return f"{long_id[:_ID_MAX - _ID_HASH - 1]}-{digest}"


def resource_id(pid: str, local: str) -> str:
    """The id of a patient's resource in the export: the patient's id, '-' and the
    writer's id for it (``pecoma-diagnosis``, ``histology-…``, ``status-3``), shortened
    as :func:`_short` says when longer than FHIR allows."""
    return _short(f"{pid}-{local}")


def fhir_id(registry_id: str) -> str:
    """The FHIR id of a patient in the plain export: the registry id itself when FHIR
    allows it (letters, digits, '-', '.', at most 64); otherwise (a registry id may hold
    '_') the id with each other character as '-', followed by 8 hex digits of its
    SHA-256, so that two registry ids never share a FHIR id, shortened as
    :func:`_short` says when longer than FHIR allows."""
    if FHIR_ID.fullmatch(registry_id):
        return registry_id
    digest = hashlib.sha256(registry_id.encode()).hexdigest()[:8]
    return _short(f"{re.sub(r'[^A-Za-z0-9.-]', '-', registry_id)}-{digest}")


def _lines(
    rid: str,
    data: dict[str, Any],
    outcomes: Sequence[OutcomeView],
    on_date: dt.date,
    secret: bytes | None,
    scans: Sequence[ScanData] = (),
) -> list[tuple[str, bytes]] | None:
    """The FHIR resources of one patient as (resource type, NDJSON line), built from
    that patient's data alone (``scans``: those that found disease), or ``None`` when the
    stored case no longer reads under the case model."""
    try:
        case = parse_case(data, source="stored case").model_copy(update={"label": None})
    except InputError:
        return None
    pid = pseudonym(rid, secret) if secret is not None else fhir_id(rid)
    events = [o for o in outcomes if o.event_date <= on_date]
    death = next((o for o in events if o.event == "death"), None)
    lines: list[tuple[str, bytes]] = []
    for res in resources_from_case(case, pid):  # the resources are ours alone: changed
        kind = res["resourceType"]
        local = res["id"]
        if kind != "Patient":
            res["id"] = resource_id(pid, local)
        profile = _profile(res, local)
        if profile is not None:
            res["meta"] = _META[profile]
        if kind == "Patient" and death is not None:
            res["deceasedDateTime"] = death.event_date.isoformat()
        lines.append((kind, dumps(res)))
    # the ids as in a JSON string (letters, digits, '-', '.': nothing to escape)
    p = pid.encode()
    focus = resource_id(pid, "pecoma-diagnosis").encode()
    # numbered by the outcome (those without a status skipped), then the scans
    statuses = [(k, o.event_date, s) for k, o in enumerate(events, start=1)
                if (s := _status(o)) is not None]
    # each surveillance scan that found a relapse, worsened on the scan's day, when it
    # found a new one (OMOP's episode) or the status before it is not worsened: a scan
    # after a contact alive without disease is then the latest status, even when OMOP
    # counts it as the relapse seen again; a scan seeing a relapse again with nothing
    # between adds nothing
    done = [sc for sc in scans if sc.performed_on <= on_date]
    new = {r.scan_on for r in recorded_relapses(case, events, done)}
    for k, sc in enumerate(relapse_scans(case, done), start=len(events) + 1):
        before = [(day, st) for _k, day, st in statuses if day <= sc.performed_on]
        if sc.performed_on in new or not before or max(before)[1] != "worsened":
            statuses.append((k, sc.performed_on, "worsened"))
    for k, day, status in statuses:
        lines.append(("Observation", b"".join((
            _S_HEAD, resource_id(pid, f"status-{k}").encode(), _S_SUBJECT, p, _S_FOCUS,
            focus, _S_DATE, day.isoformat().encode(), _S_TAIL[status]))))
    # the writer's only references are to the patient, the statuses' to the diagnosis
    # (its id as above)
    return lines


def _to_months(ndjson: bytes) -> bytes:
    """Every full date (a JSON string ``"YYYY-MM-DD"``) reduced to its month, in one
    line or in many (a date never spans a line break)."""
    return _DAY.sub(b"", ndjson)


_UNREADABLE = "stored case not readable"


def bulk_lines(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    left_out: dict[str, int],
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    scans: Mapping[str, Sequence[ScanData]] | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Each resource of the patients as (resource type, NDJSON line), patient by patient;
    the patients left out are counted in ``left_out`` by reason. With ``secret`` the
    patient id is the keyed hash of the registry id, else the registry id; ``scans``: the
    patients' scans that found disease
    (:meth:`Repository.disease_scans <pecoma.store.repository.Repository.disease_scans>`).

    Every case is read through the case model again (``parse_case``): the stored data
    were validated when written, but a case stored under an older case model that no
    longer validates is left out and counted, never exported half-read. The resources
    are the FHIR writer's plain dicts serialised directly (no FHIR model objects); the
    tests validate every resource of a fixture registry under fhir.resources R4B."""
    for rid, data, _histology in patients:
        lines = _lines(rid, data, outcomes.get(rid, ()), on_date, secret,
                       (scans or {}).get(rid, ()))
        if lines is None:
            left_out[_UNREADABLE] = left_out.get(_UNREADABLE, 0) + 1
            continue
        for kind, line in lines:
            yield kind, _to_months(line) if month_precision else line


def build_bulk(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    scans: Mapping[str, Sequence[ScanData]] | None = None,
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """The NDJSON lines of each resource type in memory (for small registries and
    tests), and the patients left out by reason."""
    by_type: dict[str, list[bytes]] = {}
    left_out: dict[str, int] = {}
    for kind, line in bulk_lines(patients, outcomes, on_date, left_out, secret=secret,
                                 month_precision=month_precision, scans=scans):
        by_type.setdefault(kind, []).append(line)
    return by_type, left_out
