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
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pecoma.case import parse_case
from pecoma.errors import InputError

if TYPE_CHECKING:
    from pecoma.store.repository import OutcomeView, Repository

__all__ = ["MCODE", "build_bulk", "bulk_export", "write_bulk"]

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


def build_bulk(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    *,
    ids: Mapping[str, str] | None = None,
    month_precision: bool = False,
) -> tuple[dict[str, list[bytes]], dict[str, int]]:
    """The NDJSON lines of each resource type, and the patients left out by reason.
    ``ids``: registry id -> the id to export (pseudonyms); by default the registry id."""
    import orjson

    from pecoma.fhir.writer import bundle_from_case

    by_type: dict[str, list[bytes]] = {}
    left_out: dict[str, int] = {}
    for rid, data, _histology in patients:
        try:
            case = parse_case(data, source="stored case").model_copy(update={"label": None})
        except InputError:
            left_out["stored case not readable"] = left_out.get("stored case not readable",
                                                                0) + 1
            continue
        pid = (ids or {}).get(rid, rid)
        bundle = bundle_from_case(case, pid)
        resources: list[dict[str, Any]] = []
        for entry in bundle["entry"]:
            res = dict(entry["resource"])
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
            line = orjson.dumps(res)
            if month_precision:
                line = _DAY.sub(rb'"\1"', line)
            by_type.setdefault(res["resourceType"], []).append(line)
    return by_type, left_out


def write_bulk(by_type: Mapping[str, Sequence[bytes]], folder: Path,
               transaction_time: dt.datetime) -> Path:
    """``<Type>.ndjson`` per resource type and ``manifest.json`` (the ``$export``
    completion body, with relative file names)."""
    folder.mkdir(parents=True, exist_ok=True)
    output = []
    for kind in sorted(by_type):
        path = folder / f"{kind}.ndjson"
        with path.open("wb") as f:
            for line in by_type[kind]:
                f.write(line + b"\n")
        output.append({"type": kind, "url": path.name, "count": len(by_type[kind])})
    manifest = folder / "manifest.json"
    manifest.write_text(json.dumps({
        "transactionTime": transaction_time.isoformat(timespec="seconds"),
        "request": "pecoma registry export-fhir",
        "requiresAccessToken": False,
        "output": output,
        "error": [],
    }, indent=2) + "\n", encoding="utf-8")
    return manifest


def bulk_export(
    repo: Repository,
    folder: Path,
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    now: dt.datetime | None = None,
) -> tuple[dict[str, int], dict[str, int]]:
    """Read the registry and write the export; returns resources per type and the
    patients left out by reason."""
    from pecoma.registry.omop import pseudonym

    patients = repo.latest_cases()
    ids = {rid: pseudonym(rid, secret) for rid, _d, _h in patients} if secret else None
    by_type, left_out = build_bulk(patients, repo.outcomes_by_registry_id(), on_date,
                                   ids=ids, month_precision=month_precision)
    write_bulk(by_type, folder, now or dt.datetime.now(dt.UTC))
    return {k: len(v) for k, v in sorted(by_type.items())}, left_out
