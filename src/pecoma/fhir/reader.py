"""FHIR R4 Bundle -> :class:`~pecoma.case.Case`.

The bundle is checked in two steps. First its shape (a JSON object, ``resourceType``
``Bundle``, entries holding resources); then each resource the reader takes a fact from
(the Patient, the PEComa and metastasis Conditions, Observations with a mapped code, the
resection Procedure, MedicationStatements and AllergyIntolerances naming a known agent)
is validated with ``fhir.resources.R4B`` (wire-compatible with R4 4.0.1 for these
resources). Other resources (vital signs, laboratory results, encounters) are not read,
so not validated: that keeps the cost flat however much an EHR sends. With
``validate="full"`` the whole bundle is validated; with ``"none"`` only the shape and each
value read (types, dates, codes) are checked.

What the bundle does not say stays unknown, never absent, and is listed in
:attr:`BundleCase.not_found`. Every problem becomes a :class:`~pecoma.errors.FieldIssue`
naming the resource (``Observation/obs-7``), the element, the value and what is allowed.
The mapping table is docs/fhir.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from pecoma.case import (
    Agent,
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    Response,
    SurgeryStatus,
    TherapySetting,
    Timing,
    parse_case,
)
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.fhir import codes as c
from pecoma.fhir.medications import agent_of_concept

__all__ = [
    "READ_TYPES",
    "BundleCase",
    "Validation",
    "agent_of",
    "case_from_bundle",
    "case_from_bundle_json",
    "fact_paths",
]

Validation = Literal["engine", "full", "none"]

#: The resource types the engine reads; the others are ignored.
READ_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationStatement",
    "AllergyIntolerance",
)

_IGNORED_OBS_STATUS = frozenset({"entered-in-error", "cancelled"})
_IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


@dataclass(frozen=True, slots=True)
class BundleCase:
    """A case read from a bundle, with where each fact came from and what was not found."""

    case: Case
    not_found: tuple[str, ...]
    sources: Mapping[str, str]
    patient_id: str | None
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


def fact_paths() -> tuple[str, ...]:
    """Every case fact a bundle can supply that may be unknown (for ``not_found``)."""
    return (
        "diagnosis.method",
        "diagnosis.date",
        "diagnosis.prior_diagnosis",
        "tumour.size",
        *(f"histology.{f}" for f in c.HISTOLOGY),
        "histology.mitoses_per_50_hpf",
        *(f"immunohistochemistry.{m}" for m in c.IHC),
        "stage.lymph_nodes",
        "stage.extrapulmonary_disease",
        "stage.resectable",
        "stage.complete_excision_feasible",
        "stage.disease_free_interval_months",
        "surgery.status",
        "surgery.date",
        "surgery.margin",
        "primary_treatment_end",
        "systemic.mtor_inhibitor_available",
        "systemic.mtor_inhibitor_contraindicated",
    )


# ---------------------------------------------------------------------- small functions


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    out = []
    for coding in _list(concept.get("coding")):
        if isinstance(coding, dict):
            out.append((str(coding.get("system") or ""), str(coding.get("code") or "")))
    return out


def _texts(concept: Any) -> list[str]:
    if not isinstance(concept, dict):
        return []
    out = [str(concept["text"])] if concept.get("text") else []
    for coding in _list(concept.get("coding")):
        if isinstance(coding, dict) and coding.get("display"):
            out.append(str(coding["display"]))
    return out


def _has(concept: Any, system: str, code: str) -> bool:
    return (system, code) in _codings(concept)


def _project_code(concept: Any, prefix: str = "") -> str | None:
    for system, code in _codings(concept):
        if system == c.PECOMA_SYSTEM and code.startswith(prefix):
            return code.removeprefix(prefix)
    return None


def _date(value: Any) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime; partial dates stay unknown."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _ext(resource: Mapping[str, Any], url: str) -> dict[str, Any] | None:
    for e in _list(resource.get("extension")):
        if isinstance(e, dict) and e.get("url") == url:
            return e
    return None


def _ext_code(resource: Mapping[str, Any], url: str) -> str | None:
    e = _ext(resource, url)
    if e is None:
        return None
    for key in ("valueCode", "valueString"):
        if isinstance(e.get(key), str):
            return str(e[key])
    code = _project_code(e.get("valueCodeableConcept"))
    return code


def _ref_id(reference: Any) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return str(reference["reference"])
    return None


def agent_of(concept: Any) -> Agent | None:
    """The systemic agent a medication CodeableConcept names (see fhir/medications.py)."""
    return agent_of_concept(concept)


def _site(concept_list: Any, kind: type[PrimarySite] | type[MetastasisSite]) -> str | None:
    """A site value from a bodySite list: project code, then SNOMED CT; 'other' if neither."""
    if not isinstance(concept_list, list) or not concept_list:
        return None
    by_snomed = {v[0]: k for k, v in c.BODY_SITE_SNOMED.items()}
    allowed = {m.value for m in kind}
    for concept in concept_list:
        code = _project_code(concept, "site-")
        if code is not None:
            value = code.replace("-", "_")
            if value in allowed:
                return value
        for system, snomed in _codings(concept):
            if system == c.SNOMED and by_snomed.get(snomed) in allowed:
                return by_snomed[snomed]
    return "other"


def _effective(resource: Mapping[str, Any]) -> str:
    for key in ("effectiveDateTime", "issued"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return str(period["start"])
    return ""


# ------------------------------------------------------------------------- the reader


@dataclass
class _Reader:
    source: str
    issues: list[FieldIssue] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def issue(self, where: str, value: object, rule: str) -> None:
        self.issues.append(FieldIssue(where, show_value(value), rule))

    def put(self, path: str, value: Any, where: str) -> None:
        node = self.data
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
        self.sources[path] = where


def _shape(data: Any, r: _Reader) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(data, dict):
        r.issue("(bundle)", type(data).__name__, "must be a JSON object (a FHIR Bundle)")
        return []
    if data.get("resourceType") != "Bundle":
        r.issue("resourceType", data.get("resourceType", "(missing)"), "must be 'Bundle'")
        return []
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        r.issue("Bundle.entry", type(entries).__name__, "must be a list of entries")
        return []
    out = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            r.issue(
                f"Bundle.entry[{i}].resource",
                res if res is not None else "(missing)",
                "must be a FHIR resource (a JSON object with 'resourceType')",
            )
            continue
        out.append((i, res))
    return out


def _label(i: int, res: Mapping[str, Any]) -> str:
    rid = res.get("id")
    return f"{res['resourceType']}/{rid}" if isinstance(rid, str) else f"Bundle.entry[{i}]"


def _validation_issues(where: str, exc: ValidationError) -> list[FieldIssue]:
    out = []
    for err in exc.errors(include_url=False)[:10]:
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = "(missing)" if err["type"] == "missing" else show_value(err.get("input"))
        out.append(FieldIssue(f"{where}.{loc}" if loc else where, value,
                              "must be valid FHIR R4: " + msg))
    return out


_VALIDATOR_FAILED = "must be valid FHIR R4 (the R4B validator could not read it)"


def _validate(
    data: dict[str, Any], entries: list[tuple[int, dict[str, Any]]], mode: Validation, r: _Reader
) -> None:
    if mode == "none":
        return
    from fhir.resources.R4B import get_fhir_model_class

    if mode == "full":
        try:
            get_fhir_model_class("Bundle").model_validate(data)
        except ValidationError as exc:
            r.issues.extend(_validation_issues("Bundle", exc))
        except Exception as exc:  # the validator itself failed on odd input
            r.issue("Bundle", type(exc).__name__, _VALIDATOR_FAILED)
        return
    for i, res in entries:
        if not _engine_reads(res):
            continue
        kind = res["resourceType"]
        try:
            get_fhir_model_class(kind).model_validate(res)
        except ValidationError as exc:
            r.issues.extend(_validation_issues(_label(i, res), exc))
        except Exception as exc:  # the validator itself failed on odd input
            r.issue(_label(i, res), type(exc).__name__, _VALIDATOR_FAILED)


def _engine_reads(res: Mapping[str, Any]) -> bool:
    """Whether the reader takes a fact from ``res`` (only those are validated by default).

    An EHR's Observation search returns vital signs and laboratory results by the
    hundred; validating each with fhir.resources would cost far more than the assessment.
    """
    kind = res.get("resourceType")
    if kind == "Patient":
        return True
    if kind == "Condition":
        return _is_pecoma(res) or _is_metastasis(res)
    if kind == "Observation":
        return _observation_handler(res) is not None
    if kind == "Procedure":
        return _has(res.get("code"), c.PECOMA_SYSTEM, c.PROCEDURE_RESECTION[0])
    if kind == "MedicationStatement":
        return agent_of(res.get("medicationCodeableConcept")) is not None
    if kind == "AllergyIntolerance":
        agent = agent_of(res.get("code"))
        return agent is not None and agent.is_mtor_inhibitor
    return False


def _is_pecoma(cond: Mapping[str, Any]) -> bool:
    concept = cond.get("code")
    if _has(concept, c.PECOMA_SYSTEM, c.CONDITION_PECOMA[0]):
        return True
    if any(_has(concept, c.ICDO3_SYSTEM, m) for m in c.ICDO3_MORPHOLOGIES):
        return True
    e = _ext(cond, c.MCODE_MORPHOLOGY)
    return e is not None and any(
        _has(e.get("valueCodeableConcept"), c.ICDO3_SYSTEM, m) for m in c.ICDO3_MORPHOLOGIES
    )


def _is_metastasis(cond: Mapping[str, Any]) -> bool:
    concept = cond.get("code")
    return _has(concept, c.PECOMA_SYSTEM, c.CONDITION_METASTASIS[0]) or _has(
        concept, c.ICDO3_SYSTEM, "8714/6"
    )


def _live_condition(cond: Mapping[str, Any]) -> bool:
    for _system, code in _codings(cond.get("verificationStatus")):
        if code in _IGNORED_VERIFICATION:
            return False
    return True


def _check_subject(
    res: Mapping[str, Any], where: str, patient: str | None, full_urls: set[str], r: _Reader
) -> None:
    if patient is None:
        return
    for key in ("subject", "patient"):
        ref = _ref_id(res.get(key))
        if ref is None:
            continue
        if ref != f"Patient/{patient}" and not ref.endswith(f"/Patient/{patient}") and (
            ref not in full_urls
        ):
            r.issue(f"{where}.{key}", ref, f"must refer to the bundle's patient (Patient/"
                    f"{patient}); a bundle holds one patient's record")


_YES = frozenset({(c.PECOMA_SYSTEM, "yes"), (c.SNOMED, "373066001"),
                  ("http://terminology.hl7.org/CodeSystem/v2-0136", "Y")})
_NO = frozenset({(c.PECOMA_SYSTEM, "no"), (c.SNOMED, "373067005"),
                 ("http://terminology.hl7.org/CodeSystem/v2-0136", "N")})
_POS = frozenset({(c.PECOMA_SYSTEM, "positive"), (c.SNOMED, c.SNOMED_POSITIVE),
                  (c.PECOMA_SYSTEM, "present"), (c.SNOMED, c.SNOMED_PRESENT)})
_NEG = frozenset({(c.PECOMA_SYSTEM, "negative"), (c.SNOMED, c.SNOMED_NEGATIVE),
                  (c.PECOMA_SYSTEM, "absent"), (c.SNOMED, c.SNOMED_ABSENT)})


def _absent_reason(obs: Mapping[str, Any]) -> str | None:
    dar = obs.get("dataAbsentReason")
    for system, code in _codings(dar):
        if system == c.DATA_ABSENT:
            return code
    return "unknown" if dar is not None else None


def _binary(obs: Mapping[str, Any], where: str, r: _Reader, kind: str) -> bool | None:
    """True / False from valueBoolean or a coded yes/no, positive/negative, present/absent."""
    if isinstance(obs.get("valueBoolean"), bool):
        return bool(obs["valueBoolean"])
    concept = obs.get("valueCodeableConcept")
    if concept is not None:
        found = set(_codings(concept))
        if found & (_YES | _POS):
            return True
        if found & (_NO | _NEG):
            return False
        r.issue(f"{where}.valueCodeableConcept", _codings(concept),
                f"must code {kind} (see docs/fhir.md)")
        return None
    if _absent_reason(obs) is None:
        r.issue(f"{where}.value[x]", "(missing)",
                "must be valueBoolean or valueCodeableConcept, or carry a dataAbsentReason")
    return None


def _quantity(obs: Mapping[str, Any], where: str, r: _Reader) -> tuple[float, str] | None:
    q = obs.get("valueQuantity")
    if isinstance(q, dict) and isinstance(q.get("value"), int | float):
        unit = q.get("code") or q.get("unit") or ""
        return float(q["value"]), str(unit)
    if isinstance(obs.get("valueInteger"), int):
        return float(obs["valueInteger"]), ""
    if _absent_reason(obs) is None:
        r.issue(f"{where}.valueQuantity", obs.get("valueQuantity", "(missing)"),
                "must be a quantity with a numeric value")
    return None


# Observation handlers: project code -> function(reader, obs, where).
_Handler = Callable[[_Reader, Mapping[str, Any], str], None]


def _yes_no(path: str) -> _Handler:
    def handle(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
        value = _binary(obs, where, r, "yes or no")
        if value is not None:
            r.put(path, "yes" if value else "no", where)
    return handle


def _feature(path: str) -> _Handler:
    def handle(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
        value = _binary(obs, where, r, "present or absent")
        if value is not None:
            r.put(path, "present" if value else "absent", where)
    return handle


def _ihc(path: str) -> _Handler:
    def handle(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
        reason = _absent_reason(obs)
        if reason == "not-performed":
            r.put(path, "not_done", where)
            return
        value = _binary(obs, where, r, "positive or negative")
        if value is not None:
            r.put(path, "positive" if value else "negative", where)
    return handle


def _nodes(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    if _absent_reason(obs) == "not-performed":
        r.put("stage.lymph_nodes", NodeStatus.not_assessed.value, where)
        return
    value = _binary(obs, where, r, "positive or negative")
    if value is not None:
        r.put("stage.lymph_nodes", "positive" if value else "negative", where)


def _coded(path: str, allowed: Iterable[str], element: str) -> _Handler:
    values = {v.replace("_", "-"): v for v in allowed}

    def handle(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
        if _absent_reason(obs) is not None:
            return
        code = _project_code(obs.get("valueCodeableConcept"))
        if code is None or code not in values:
            r.issue(f"{where}.valueCodeableConcept", code or obs.get("valueCodeableConcept"),
                    f"must be a {element} code of {c.PECOMA_SYSTEM}: "
                    f"{', '.join(sorted(values))}")
            return
        r.put(path, values[code], where)
    return handle


def _size(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    q = _quantity(obs, where, r)
    if q is None:
        return
    value, unit = q
    if unit not in ("cm", "mm"):
        r.issue(f"{where}.valueQuantity.code", unit or "(missing)",
                "must be the UCUM unit 'cm' or 'mm'")
        return
    r.put("tumour.size", {"value": value, "unit": unit}, where)


def _mitoses(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    q = _quantity(obs, where, r)
    if q is not None:
        r.put("histology.mitoses_per_50_hpf", q[0], where)


def _dfi(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    q = _quantity(obs, where, r)
    if q is None:
        return
    value, unit = q
    if unit in ("a", "year", "years"):
        value *= 12
    elif unit not in ("mo", "month", "months"):
        r.issue(f"{where}.valueQuantity.code", unit or "(missing)",
                "must be the UCUM unit 'mo' (months) or 'a' (years)")
        return
    r.put("stage.disease_free_interval_months", value, where)


def _treatment_end(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    raw = obs.get("valueDateTime")
    day = _date(raw)
    if day is None:
        if _absent_reason(obs) is None:
            r.issue(f"{where}.valueDateTime", raw if raw is not None else "(missing)",
                    "must be a full date (YYYY-MM-DD)")
        return
    r.put("primary_treatment_end", day.isoformat(), where)


_OBSERVATIONS: dict[str, _Handler] = {
    c.OBS_DISEASE_STATUS[0]: _coded(
        "stage.status", [s.value for s in DiseaseStatus], "disease-status"),
    c.OBS_LYMPH_NODES[0]: _nodes,
    c.OBS_EXTRAPULMONARY[0]: _yes_no("stage.extrapulmonary_disease"),
    c.OBS_RESECTABLE[0]: _yes_no("stage.resectable"),
    c.OBS_EXCISION_FEASIBLE[0]: _yes_no("stage.complete_excision_feasible"),
    c.OBS_DFI[0]: _dfi,
    c.OBS_TREATMENT_END[0]: _treatment_end,
    c.OBS_MARGIN[0]: _coded(
        "surgery.margin", [m.value for m in Margin if m is not Margin.unknown], "margin"),
    c.OBS_MITOSES[0]: _mitoses,
    c.OBS_TUMOUR_SIZE[0]: _size,
    c.OBS_MTOR_AVAILABLE[0]: _yes_no("systemic.mtor_inhibitor_available"),
    c.OBS_MTOR_CONTRA[0]: _yes_no("systemic.mtor_inhibitor_contraindicated"),
    **{code: _feature(f"histology.{f}") for f, (code, _d) in c.HISTOLOGY.items()},
    **{code: _ihc(f"immunohistochemistry.{m}") for m, (code, _d) in c.IHC.items()},
}


def _observation_handler(obs: Mapping[str, Any]) -> _Handler | None:
    concept = obs.get("code")
    code = _project_code(concept)
    if code is not None and code in _OBSERVATIONS:
        return _OBSERVATIONS[code]
    if _has(concept, c.LOINC, c.LOINC_TUMOUR_SIZE):
        return _size
    return None


_PROCEDURE_STATUS = {
    "completed": SurgeryStatus.performed,
    "in-progress": SurgeryStatus.performed,
    "stopped": SurgeryStatus.performed,
    "preparation": SurgeryStatus.planned,
    "on-hold": SurgeryStatus.planned,
    "not-done": SurgeryStatus.not_performed,
    "unknown": SurgeryStatus.unknown,
}


def _enum_ext(
    res: Mapping[str, Any], url: str, allowed: Iterable[str], where: str, r: _Reader
) -> str | None:
    code = _ext_code(res, url)
    if code is None:
        return None
    value = code.replace("-", "_")
    names = [a for a in allowed]
    if value not in names:
        r.issue(f"{where}.extension({url.rsplit('/', 1)[-1]})", code,
                f"must be one of {', '.join(n.replace('_', '-') for n in names)}")
        return None
    return value


def case_from_bundle(
    data: Any, *, validate: Validation = "engine", source: str = "FHIR bundle"
) -> BundleCase:
    """Read one patient's PEComa case from a FHIR R4 Bundle, or raise :class:`InputError`."""
    r = _Reader(source)
    entries = _shape(data, r)
    if r.issues:
        raise InputError(r.issues, source)
    _validate(data, entries, validate, r)
    if r.issues:
        raise InputError(r.issues, source)

    patients = [(i, res) for i, res in entries if res["resourceType"] == "Patient"]
    if len(patients) > 1:
        ids = sorted({str(res.get("id")) for _i, res in patients})
        if len(ids) > 1:
            r.issue("Bundle.entry (Patient)", f"{len(ids)} patients",
                    "must hold exactly one patient's record")
            raise InputError(r.issues, source)
    patient_id = None
    full_urls: set[str] = set()
    if patients:
        pid = patients[0][1].get("id")
        patient_id = str(pid) if isinstance(pid, str) else None
        for i, _res in patients:
            entry = data["entry"][i]
            if isinstance(entry.get("fullUrl"), str):
                full_urls.add(entry["fullUrl"])

    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {t: [] for t in READ_TYPES}
    ignored: dict[str, int] = {}
    for i, res in entries:
        kind = res["resourceType"]
        where = _label(i, res)
        if kind not in by_type:
            ignored[kind] = ignored.get(kind, 0) + 1
            continue
        _check_subject(res, where, patient_id, full_urls, r)
        by_type[kind].append((where, res))

    _read_conditions(by_type["Condition"], r)
    _read_observations(by_type["Observation"], r)
    _read_procedures(by_type["Procedure"], r)
    _read_medications(by_type["MedicationStatement"], r)
    _read_allergies(by_type["AllergyIntolerance"], r)

    if "stage.status" not in r.sources:
        if r.data.get("stage", {}).get("metastases"):
            r.put("stage.status", DiseaseStatus.metastatic.value, "derived: metastasis Condition")
            r.notes.append("stage.status taken as 'metastatic' from the metastasis Conditions")
        else:
            r.issue("stage.status", "(not found)",
                    f"must be given by an Observation coded {c.PECOMA_SYSTEM}|"
                    f"{c.OBS_DISEASE_STATUS[0]} (or a metastasis Condition); the disease "
                    "status is never assumed")
    if r.issues:
        raise InputError(r.issues, source)
    try:
        case = parse_case(r.data, source)
    except InputError as exc:
        raise InputError(
            [FieldIssue(_where(i.path, r.sources), i.value, i.rule) for i in exc.issues], source
        ) from exc
    not_found = _not_found(case, r.sources)
    return BundleCase(
        case=case,
        not_found=not_found,
        sources=dict(r.sources),
        patient_id=patient_id,
        ignored=tuple(f"{k} ×{n}" for k, n in sorted(ignored.items())),
        notes=tuple(r.notes),
    )


def _where(path: str, sources: Mapping[str, str]) -> str:
    src = sources.get(path)
    if src is None:
        for key, value in sources.items():
            if path.startswith(key):
                src = value
                break
    return f"{path} (from {src})" if src else path


def _not_found(case: Case, sources: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for path in fact_paths():
        if path in sources:
            continue
        if path == "stage.disease_free_interval_months" and not case.stage.metastases:
            continue
        if path == "primary_treatment_end" and case.treatment_end is not None:
            continue
        if path in ("surgery.date", "surgery.margin") and case.surgery.status not in (
            SurgeryStatus.performed, SurgeryStatus.planned, SurgeryStatus.unknown
        ):
            continue
        if path == "surgery.margin" and case.surgery.status is SurgeryStatus.planned:
            continue
        out.append(path)
    return tuple(out)


def _read_conditions(conditions: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    primary = [(w, x) for w, x in conditions if _live_condition(x) and _is_pecoma(x)]
    mets = [(w, x) for w, x in conditions if _live_condition(x) and _is_metastasis(x)]
    if not primary:
        r.issue("Condition", "(none found)",
                "the bundle must hold the PEComa diagnosis: a Condition coded ICD-O-3 8714/0 "
                f"or 8714/3 ({c.ICDO3_SYSTEM}) or {c.PECOMA_SYSTEM}|pecoma")
    else:
        where, cond = primary[0]
        site = _site(cond.get("bodySite"), PrimarySite)
        if site is None:
            r.issue(f"{where}.bodySite", "(missing)",
                    "must name the primary site (project site code or SNOMED CT body "
                    "structure; see docs/fhir.md)")
        else:
            r.put("tumour.primary_site", site, f"{where}.bodySite")
        asserted = _ext(cond, c.ASSERTED_DATE)
        raw = (asserted or {}).get("valueDateTime") or cond.get("recordedDate") or cond.get(
            "onsetDateTime"
        )
        day = _date(raw)
        if day is not None:
            r.put("diagnosis.date", day.isoformat(), where)
        method = _enum_ext(cond, c.EXT.DIAGNOSIS_METHOD,
                           [m.value for m in DiagnosisMethod], where, r)
        if method is not None and method != DiagnosisMethod.unknown.value:
            r.put("diagnosis.method", method, where)
        prior = _enum_ext(cond, c.EXT.PRIOR_DIAGNOSIS, [p.value for p in PriorDiagnosis],
                          where, r)
        if prior is not None and prior != PriorDiagnosis.unknown.value:
            r.put("diagnosis.prior_diagnosis", prior, where)
        label = _ext(cond, c.EXT.CASE_LABEL)
        if label is not None and isinstance(label.get("valueString"), str):
            r.data["label"] = label["valueString"]
    metastases = []
    for where, cond in mets:
        site = _site(cond.get("bodySite"), MetastasisSite)
        if site is None:
            site = MetastasisSite.other.value
            r.notes.append(f"{where} has no bodySite: its site is taken as 'other'")
        met: dict[str, Any] = {"site": site}
        day = _date(cond.get("onsetDateTime") or cond.get("recordedDate"))
        if day is not None:
            met["detected_on"] = day.isoformat()
        timing = _enum_ext(cond, c.EXT.METASTASIS_TIMING, [t.value for t in Timing], where, r)
        if timing is not None:
            met["timing"] = timing
        metastases.append(met)
    if metastases:
        r.put("stage.metastases", metastases, ", ".join(w for w, _x in mets))


def _read_observations(observations: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    live = [(w, o) for w, o in observations if str(o.get("status")) not in _IGNORED_OBS_STATUS]
    # Later observations win: sort by their effective time, stable on bundle order.
    live.sort(key=lambda wo: _effective(wo[1]))
    for where, obs in live:
        handler = _observation_handler(obs)
        if handler is not None:
            handler(r, obs, where)


def _read_procedures(procedures: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    resections = [
        (w, p) for w, p in procedures
        if _has(p.get("code"), c.PECOMA_SYSTEM, c.PROCEDURE_RESECTION[0])
        and p.get("status") != "entered-in-error"
    ]
    if not resections:
        return
    resections.sort(key=lambda wp: str(wp[1].get("performedDateTime") or ""))
    where, proc = resections[0]
    status = _PROCEDURE_STATUS.get(str(proc.get("status")), SurgeryStatus.unknown)
    r.put("surgery.status", status.value, f"{where}.status")
    raw = proc.get("performedDateTime")
    period = proc.get("performedPeriod")
    if raw is None and isinstance(period, dict):
        raw = period.get("end") or period.get("start")
    day = _date(raw)
    if day is not None and status in (SurgeryStatus.performed, SurgeryStatus.planned):
        r.put("surgery.date", day.isoformat(), f"{where}.performed[x]")


def _read_medications(meds: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    therapies = []
    paths = []
    for where, med in meds:
        if med.get("status") in ("entered-in-error", "not-taken", "intended"):
            continue
        agent = agent_of(med.get("medicationCodeableConcept"))
        if agent is None:
            continue
        t: dict[str, Any] = {"agent": agent.value}
        setting = _enum_ext(med, c.EXT.THERAPY_SETTING, [s.value for s in TherapySetting],
                            where, r)
        if setting is not None:
            t["setting"] = setting
        line = _ext(med, c.EXT.THERAPY_LINE)
        if line is not None:
            t["line"] = line.get("valuePositiveInt", line.get("valueInteger"))
        period = med.get("effectivePeriod")
        raw = med.get("effectiveDateTime")
        if raw is None and isinstance(period, dict):
            raw = period.get("start")
        day = _date(raw)
        if day is not None:
            t["started_on"] = day.isoformat()
        response = _enum_ext(med, c.EXT.BEST_RESPONSE, [x.value for x in Response], where, r)
        if response is not None:
            t["best_response"] = response
        progressed = _enum_ext(med, c.EXT.PROGRESSED, ["yes", "no", "unknown"], where, r)
        if progressed is not None:
            t["progressed"] = progressed
        therapies.append(t)
        paths.append(where)
    if therapies:
        r.put("systemic.therapies", therapies, ", ".join(paths))


def _read_allergies(allergies: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    for where, allergy in allergies:
        if not _live_condition(allergy):
            continue
        status = {code for _s, code in _codings(allergy.get("clinicalStatus"))}
        if status & {"inactive", "resolved"}:
            continue
        agent = agent_of(allergy.get("code"))
        if agent is not None and agent.is_mtor_inhibitor:
            # An allergy or intolerance to an mTOR inhibitor is a contraindication; it
            # outweighs an observation that says otherwise (the safer reading).
            r.put("systemic.mtor_inhibitor_contraindicated", "yes", where)
            r.notes.append(f"{where}: intolerance of {agent.value} read as an mTOR-inhibitor "
                           "contraindication")
            return


def case_from_bundle_json(
    text: str | bytes, *, validate: Validation = "engine", source: str = "FHIR bundle"
) -> BundleCase:
    """Parse JSON text into a case, or raise :class:`InputError`."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [FieldIssue("(json)", "unparseable text", f"must be valid JSON: {exc}")], source
        ) from exc
    return case_from_bundle(data, validate=validate, source=source)
