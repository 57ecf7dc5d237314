"""Export as FHIR Bulk Data: the ``$export`` layout, one NDJSON file per resource type and
a manifest, with the mCODE profiles each resource conforms to declared in
``meta.profile``.

Each patient's latest case goes through the same writer as ``pecoma fhir from-case``
(:func:`pecoma.fhir.writer.bundle_from_case`), without the case's free label; resource
ids are prefixed with the patient's id so that they are unique in the export. The
recorded outcomes add a CancerDiseaseStatus observation each (recurrence, metastasis or
progression: worsened; a last contact alive without disease: in full remission; alive
with disease: undetermined) and the death sets ``Patient.deceasedDateTime``. With a
network secret the patient id is the keyed hash of the registry id (see
:func:`pecoma.registry.omop.pseudonym`); with ``month`` precision every date is reduced
to its month (``2025-01``, a valid FHIR date).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from pecoma.case import parse_case
from pecoma.errors import InputError

if TYPE_CHECKING:
    from pecoma.store.repository import OutcomeView, Repository

__all__ = ["MCODE", "build_bulk", "bulk_export", "bulk_lines", "write_bulk"]

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
_LOINC_DISEASE_STATUS = ("97509-4", "Cancer disease progression")
_STATUS = {
    "worsened": ("271299001", "Patient's condition worsened"),
    "remission": ("550991000124107", "Malignant neoplasm in full remission"),
    "undetermined": ("709137006", "Patient condition undetermined"),
}
# a full date as a JSON string (the writer and the outcomes give dates as YYYY-MM-DD)
_DAY = re.compile(rb'"(\d{4}-\d{2})-\d{2}"')


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


_FHIR_ID = re.compile(r"[A-Za-z0-9.-]{1,64}")


def fhir_id(registry_id: str) -> str:
    """The FHIR id of a patient in the plain export: the registry id itself when FHIR
    allows it (letters, digits, '-', '.'); otherwise (a registry id may hold '_') the id
    with each other character as '-', followed by 8 hex digits of its SHA-256, so that
    two registry ids never share a FHIR id."""
    if _FHIR_ID.fullmatch(registry_id):
        return registry_id
    digest = hashlib.sha256(registry_id.encode()).hexdigest()[:8]
    return f"{re.sub(r'[^A-Za-z0-9.-]', '-', registry_id)}-{digest}"


def bulk_lines(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    left_out: dict[str, int],
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
) -> Iterator[tuple[str, bytes]]:
    """Each resource of the patients as (resource type, NDJSON line), patient by patient;
    the patients left out are counted in ``left_out`` by reason. With ``secret`` the
    patient id is the keyed hash of the registry id, else the registry id.

    Every case is read through the case model again (``parse_case``): the stored data
    were validated when written, but a case stored under an older case model that no
    longer validates is left out and counted, never exported half-read. The resources
    are the FHIR writer's plain dicts serialised directly (no FHIR model objects); the
    tests validate every resource of a fixture registry under fhir.resources R4B."""
    import orjson

    from pecoma.fhir.writer import bundle_from_case
    from pecoma.registry.omop import pseudonym

    dumps = orjson.dumps
    for rid, data, _histology in patients:
        try:
            case = parse_case(data, source="stored case").model_copy(update={"label": None})
        except InputError:
            left_out["stored case not readable"] = left_out.get("stored case not readable",
                                                                0) + 1
            continue
        pid = pseudonym(rid, secret) if secret is not None else fhir_id(rid)
        bundle = bundle_from_case(case, pid)
        resources: list[dict[str, Any]] = []
        for entry in bundle["entry"]:
            res = entry["resource"]  # the bundle is ours alone: changed in place
            local = res["id"]
            if res["resourceType"] != "Patient":
                res["id"] = f"{pid}-{local}"
            profile = _profile(res, local)
            if profile is not None:
                res["meta"] = {"profile": [profile]}
            resources.append(res)
        events = [o for o in outcomes.get(rid, ()) if o.event_date <= on_date]
        for k, o in enumerate(events, start=1):
            status = _status(o)
            if status is None:
                continue
            code, display = _STATUS[status]
            resources.append({
                "resourceType": "Observation", "id": f"{pid}-status-{k}",
                "meta": {"profile": [MCODE["disease-status"]]},
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org",
                                     "code": _LOINC_DISEASE_STATUS[0],
                                     "display": _LOINC_DISEASE_STATUS[1]}]},
                "subject": {"reference": f"Patient/{pid}"},
                "focus": [{"reference": f"Condition/{pid}-pecoma-diagnosis"}],
                "effectiveDateTime": o.event_date.isoformat(),
                "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                                     "code": code, "display": display}]},
            })
        death = next((o for o in events if o.event == "death"), None)
        if death is not None:
            resources[0]["deceasedDateTime"] = death.event_date.isoformat()
        # the writer's only references are to the patient: nothing to rewrite
        for res in resources:
            line = dumps(res)
            if month_precision:
                line = _DAY.sub(rb'"\1"', line)
            yield res["resourceType"], line


def build_bulk(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """The NDJSON lines of each resource type in memory (for small registries and
    tests), and the patients left out by reason."""
    by_type: dict[str, list[bytes]] = {}
    left_out: dict[str, int] = {}
    for kind, line in bulk_lines(patients, outcomes, on_date, left_out, secret=secret,
                                 month_precision=month_precision):
        by_type.setdefault(kind, []).append(line)
    return by_type, left_out


def write_bulk(lines: Iterable[tuple[str, bytes]], folder: Path,
               transaction_time: dt.datetime) -> dict[str, int]:
    """``<Type>.ndjson`` per resource type and ``manifest.json`` (the ``$export``
    completion body, with relative file names), written as the lines come; returns the
    resources per type. The files are written aside and moved into ``folder`` only when
    all are complete: a failed export leaves no partial file."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    files: dict[str, BinaryIO] = {}
    pending: dict[str, list[bytes]] = {}
    counts: dict[str, int] = {}

    def flush(kind: str) -> None:
        lines_of = pending[kind]
        files[kind].write(b"\n".join(lines_of) + b"\n")
        counts[kind] += len(lines_of)
        lines_of.clear()

    try:
        try:
            for kind, line in lines:
                waiting = pending.get(kind)
                if waiting is None:
                    files[kind] = (work / f"{kind}.ndjson").open("wb")
                    waiting = pending[kind] = []
                    counts[kind] = 0
                waiting.append(line)
                if len(waiting) >= 2000:
                    flush(kind)
            for kind, waiting in pending.items():
                if waiting:
                    flush(kind)
        finally:
            for f in files.values():
                f.close()
        output = [{"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]}
                  for kind in sorted(counts)]
        (work / "manifest.json").write_text(json.dumps({
            "transactionTime": transaction_time.isoformat(timespec="seconds"),
            "request": "pecoma registry export-fhir",
            "requiresAccessToken": False,
            "output": output,
            "error": [],
        }, indent=2) + "\n", encoding="utf-8")
        for kind in sorted(counts):
            (work / f"{kind}.ndjson").replace(folder / f"{kind}.ndjson")
        (work / "manifest.json").replace(folder / "manifest.json")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {k: counts[k] for k in sorted(counts)}


def bulk_export(
    repo: Repository,
    folder: Path,
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    now: dt.datetime | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Read the registry and write the export, streaming (one patient in memory at a
    time); returns resources per type and the patients left out by reason."""
    left_out: dict[str, int] = {}
    lines = bulk_lines(repo.iter_latest_cases(), repo.outcomes_by_registry_id(), on_date,
                       left_out, secret=secret, month_precision=month_precision)
    counts = write_bulk(lines, folder, now or dt.datetime.now(dt.UTC))
    return counts, left_out
