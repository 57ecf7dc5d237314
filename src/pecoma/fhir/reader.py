"""FHIR R4 Bundle -> :class:`~pecoma.case.Case`.

The bundle is checked in two steps. First its shape (a JSON object, ``resourceType``
``Bundle``, entries holding resources); then each resource the reader takes a fact from
(the Patient, the PEComa and metastasis Conditions, Observations with a mapped code, the
resection Procedure, MedicationStatements and AllergyIntolerances naming a known agent)
is validated with ``fhir.resources.R4B`` (wire-compatible with R4 4.0.1 for these
resources). Other resources (vital signs, laboratory results, encounters) are not read,
so not validated: that keeps the cost flat however much an EHR sends. A resource the
quick check (:mod:`pecoma.fhir.quickcheck`) finds plainly valid skips building its R4B
model (the verdict is the same; only the time differs). With
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
    RemissionBy,
    Response,
    SurgeryStatus,
    TherapySetting,
    Timing,
    parse_case,
)
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.fhir import codes as c
from pecoma.fhir import genomics
from pecoma.fhir import mcode as m
from pecoma.fhir import medications as meds
from pecoma.fhir.medications import agent_of_concept
from pecoma.fhir.quickcheck import plainly_valid

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
    "MedicationRequest",
    "MedicationAdministration",
    "AllergyIntolerance",
    "Medication",
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
    #: Resources of a read type that gave no fact, each with why (grouped by reason).
    not_read: tuple[str, ...] = ()
    #: Statements read as evidence only (mCODE CancerDiseaseStatus), newest last.
    evidence: tuple[str, ...] = ()


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
        "molecular.tsc1",
        "molecular.tsc2",
        "molecular.tfe3_fusion",
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
    """A site value from a bodySite list: project code, SNOMED CT, then the organ named in
    the text or display (a laterality or location qualifier does not change the organ);
    'other' if none of these; ``None`` when there is no bodySite."""
    if not isinstance(concept_list, list) or not concept_list:
        return None
    by_snomed = {v[0]: k for k, v in c.BODY_SITE_SNOMED.items()}
    allowed = {x.value for x in kind}
    words = m.PRIMARY_SITE_WORDS if kind is PrimarySite else m.METASTASIS_SITE_WORDS
    for concept in concept_list:
        code = _project_code(concept, "site-")
        if code is not None:
            value = code.replace("-", "_")
            if value in allowed:
                return value
        for system, snomed in _codings(concept):
            if system == c.SNOMED and by_snomed.get(snomed) in allowed:
                return by_snomed[snomed]
        named = m.first_match(m.lower_words(concept), words)
        if named is not None:
            return str(named.value)
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
    on: dt.date | None = None
    issues: list[FieldIssue] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    resolve: meds.Resolver = meds.no_resolver
    labels: dict[int, str] = field(default_factory=dict)
    #: Resources a fact was taken from, and why others were not read.
    used: set[str] = field(default_factory=set)
    why: dict[str, str] = field(default_factory=dict)
    evidence: list[tuple[str, str]] = field(default_factory=list)
    primary: Mapping[str, Any] | None = None
    present_metastases: int = 0
    history_without_end: bool = False
    distant_metastasis_stated: str | None = None
    no_metastatic_history: str | None = None
    kinds: dict[int, str | None] = field(default_factory=dict)
    agents: dict[int, Agent | None] = field(default_factory=dict)

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
    data: dict[str, Any], entries: list[tuple[int, dict[str, Any]]], mode: Validation,
    r: _Reader,
) -> None:
    """R4B validation: the whole Bundle (``full``), or each resource a fact was taken from
    and the Patient (``engine``, after reading: unrelated resources never make a bundle
    fail), or nothing (``none``)."""
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
        label = _label(i, res)
        if label not in r.used and res["resourceType"] != "Patient":
            continue
        if plainly_valid(res):
            continue  # certainly valid: the full validator would accept it
        try:
            get_fhir_model_class(res["resourceType"]).model_validate(res)
        except ValidationError as exc:
            r.issues.extend(_validation_issues(label, exc))
        except Exception as exc:  # the validator itself failed on odd input
            r.issue(label, type(exc).__name__, _VALIDATOR_FAILED)


def _is_pecoma(cond: Mapping[str, Any]) -> bool:
    """A Condition that codes or names PEComa itself (project code, ICD-O-3, mCODE
    morphology extension, or the name)."""
    concept = cond.get("code")
    if _has(concept, c.PECOMA_SYSTEM, c.CONDITION_PECOMA[0]):
        return True
    if m.icdo3_pecoma(concept) is not None:
        return True
    e = _ext(cond, c.MCODE_MORPHOLOGY)
    if e is not None and m.icdo3_pecoma(e.get("valueCodeableConcept")) is not None:
        return True
    words = m.lower_words(concept)
    return "pecoma" in words or "perivascular epithelioid" in words


def _is_metastasis(cond: Mapping[str, Any]) -> bool:
    concept = cond.get("code")
    return (_has(concept, c.PECOMA_SYSTEM, c.CONDITION_METASTASIS[0])
            or _has(concept, c.ICDO3_SYSTEM, "8714/6")
            or m.SECONDARY_PROFILE in m.profiles(cond)
            or m.is_secondary_code(concept))


def _live_condition(cond: Mapping[str, Any]) -> bool:
    for _system, code in _codings(cond.get("verificationStatus")):
        if code in _IGNORED_VERIFICATION:
            return False
    return True


_NOT_CONFIRMED = frozenset({"provisional", "differential", "unconfirmed"})
_HISTORY = frozenset({"inactive", "resolved", "remission"})


def _verification(cond: Mapping[str, Any]) -> str | None:
    for _system, code in _codings(cond.get("verificationStatus")):
        return code
    return None


def _clinical(cond: Mapping[str, Any]) -> str | None:
    for _system, code in _codings(cond.get("clinicalStatus")):
        return code
    return None


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


def _free_of_disease(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    raw = obs.get("valueDateTime")
    day = _date(raw)
    if day is None:
        if _absent_reason(obs) is None:
            r.issue(f"{where}.valueDateTime", raw if raw is not None else "(missing)",
                    "must be a full date (YYYY-MM-DD)")
        return
    value: dict[str, Any] = {"since": day.isoformat()}
    by = _enum_ext(obs, c.EXT.REMISSION_BY, [x.value for x in RemissionBy], where, r)
    if by is not None:
        value["by"] = by
    r.put("free_of_disease", value, where)


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
    c.OBS_FREE_OF_DISEASE[0]: _free_of_disease,
    **{code: _feature(f"histology.{f}") for f, (code, _d) in c.HISTOLOGY.items()},
    **{code: _ihc(f"immunohistochemistry.{m}") for m, (code, _d) in c.IHC.items()},
}


def _tumour_size(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE TumorSize: the longest dimension in component 33728-7 (no value[x]), or a
    plain valueQuantity."""
    if "valueQuantity" not in obs:
        for comp in _list(obs.get("component")):
            if isinstance(comp, dict) and m.has_loinc(comp.get("code"),
                                                      m.LOINC_LONGEST_DIMENSION):
                _size(r, comp, f"{where}.component(33728-7)")
                r.sources["tumour.size"] = where
                return
    _size(r, obs, where)


_MARKER_RESULT_WORDS = (("not performed", None), ("not done", None),
                        ("not detected", False), ("negative", False), ("absent", False),
                        ("positive", True), ("detected", True), ("present", True))
_NOT_TISSUE_MARKER = ("serum", "plasma", "antibod", " ab ", "titer", "titre", "blood")


def _marker(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    """A TumorMarkerTest (or any immune stain) of a marker the case records."""
    marker = m.ihc_marker(obs.get("code"))
    if marker is None:
        return
    path = f"immunohistochemistry.{marker}"
    if _absent_reason(obs) == "not-performed":
        r.put(path, "not_done", where)
        return
    value = obs.get("valueCodeableConcept")
    found = set(_codings(value))
    if found & (_YES | _POS):
        r.put(path, "positive", where)
        return
    if found & (_NO | _NEG):
        r.put(path, "negative", where)
        return
    text = m.lower_words(value) or str(obs.get("valueString") or "").lower()
    for word, result in _MARKER_RESULT_WORDS:
        if word in text:
            if result is None:
                r.put(path, "not_done", where)
            else:
                r.put(path, "positive" if result else "negative", where)
            return
    if _absent_reason(obs) is None:
        r.issue(f"{where}.value[x]", obs.get("valueCodeableConcept", obs.get("valueString",
                "(missing)")), "must code or say positive or negative (see docs/fhir.md)")


_LOINC_KINDS = {
    c.LOINC_TUMOUR_SIZE: "handler",
    m.LOINC_HISTOLOGY_BEHAVIOR: "histology",
    m.LOINC_DISEASE_STATUS: "status",
    m.LOINC_GENOMIC_VARIANT: "variant",
    **{code: "marker" for code in m.IHC_LOINC},
}


def _observation_kind(obs: Mapping[str, Any]) -> str | None:
    """What the reader takes from an Observation: 'handler', 'histology', 'status',
    'variant', 'history', 'implication', 'marker', 'margin', or ``None`` (not read).
    Called once per Observation: an EHR sends them by the thousand."""
    concept = obs.get("code")
    for system, code in _codings(concept):
        if system == c.PECOMA_SYSTEM and code in _OBSERVATIONS:
            return "handler"
        if system == c.LOINC and code in _LOINC_KINDS:
            return _LOINC_KINDS[code]
        if system == c.SNOMED and code == m.SNOMED_HISTORY_OF_METASTATIC:
            return "history"
    if "derivedFrom" in obs and genomics.implication_of(obs):
        return "implication"
    words = m.lower_words(concept)
    if not words:
        return None
    if m.first_match(words, m.IHC_NAMES) is not None and not any(
            w in f" {words} " for w in _NOT_TISSUE_MARKER):
        return "marker"
    if "margin" in words:
        return "margin"
    return None


def _observation_handler(obs: Mapping[str, Any]) -> _Handler | None:
    concept = obs.get("code")
    code = _project_code(concept)
    if code is not None and code in _OBSERVATIONS:
        return _OBSERVATIONS[code]
    if _has(concept, c.LOINC, c.LOINC_TUMOUR_SIZE):
        return _tumour_size
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
    data: Any, *, validate: Validation = "engine", source: str = "FHIR bundle",
    on: dt.date | None = None,
) -> BundleCase:
    """Read one patient's PEComa case from a FHIR R4 Bundle, or raise :class:`InputError`.

    ``on`` is the day the record is read for: a medication starting after it is planned,
    not given. Without it, start dates are not compared with any day.
    """
    r = _Reader(source, on=on)
    entries = _shape(data, r)
    if r.issues:
        raise InputError(r.issues, source)
    full_urls_all: dict[str, Mapping[str, Any]] = {}
    for i, res in entries:
        url = data["entry"][i].get("fullUrl")
        if isinstance(url, str):
            full_urls_all[url] = res
    resolve = meds.resolver_for([res for _i, res in entries], full_urls_all)
    r.resolve = resolve
    r.kinds = {id(res): _observation_kind(res) for _i, res in entries
               if res["resourceType"] == "Observation"}
    if validate == "full":
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
    r.resolve = resolve
    r.labels = {id(res): w for t in READ_TYPES for w, res in by_type[t]}

    observations = _live_observations(by_type["Observation"])
    _read_conditions(by_type["Condition"], observations, r)
    _read_observations(observations, r)
    _read_procedures(by_type["Procedure"], observations, r)
    _read_medications([x for t in meds.MEDICATION_TYPES for x in by_type[t]], r)
    _read_allergies(by_type["AllergyIntolerance"], r)
    _derive_status(r)
    if validate == "engine":
        read_issues, r.issues = r.issues, []
        _validate(data, entries, validate, r)
        r.issues.extend(read_issues)
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
        not_read=_not_read(by_type, r),
        evidence=tuple(text for _when, text in sorted(r.evidence, key=lambda e: e[0])),
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


_NOT_READ_SHOWN = 5


def _not_read(by_type: Mapping[str, list[tuple[str, dict[str, Any]]]],
              r: _Reader) -> tuple[str, ...]:
    """Every resource of a read type that gave nothing, grouped by why (a few shown each)."""
    reasons: dict[str, list[str]] = {}
    for kind in READ_TYPES:
        if kind in ("Patient", "Medication"):
            continue
        for where, _res in by_type[kind]:
            if where in r.used:
                continue
            why = r.why.get(where, _DEFAULT_WHY.get(kind, "nothing the case records"))
            reasons.setdefault(f"{kind}: {why}", []).append(where)
    out = []
    for why, labels in reasons.items():
        shown = ", ".join(labels[:_NOT_READ_SHOWN])
        more = f" and {len(labels) - _NOT_READ_SHOWN} more" if len(labels) > _NOT_READ_SHOWN else ""
        out.append(f"{why} ({len(labels)}: {shown}{more})")
    return tuple(out)


_DEFAULT_WHY = {
    "Condition": "not the PEComa nor a metastasis of it",
    "Observation": "a code the case does not record (vital signs, laboratory, ...)",
    "Procedure": "not a resection of the primary tumour",
    "MedicationStatement": "not a systemic agent of the guideline",
    "MedicationRequest": "not a systemic agent of the guideline",
    "MedicationAdministration": "not a systemic agent of the guideline",
    "AllergyIntolerance": "not to an mTOR inhibitor",
}


# ------------------------------------------------------------------------- conditions


def _ref(reference: Any) -> str | None:
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return str(reference["reference"])
    return None


def _target(ref: str | None, r: _Reader) -> Mapping[str, Any] | None:
    return None if ref is None else r.resolve(ref)


def _related_condition(obs: Mapping[str, Any], r: _Reader) -> Mapping[str, Any] | None:
    e = _ext(obs, m.RELATED_CONDITION)
    return _target(_ref((e or {}).get("valueReference")), r)


def _candidate_primary(cond: Mapping[str, Any]) -> bool:
    """A Condition that may be the primary cancer an unlinked histology result belongs to."""
    if _is_metastasis(cond) or not _live_condition(cond):
        return False
    if m.PRIMARY_PROFILE in m.profiles(cond):
        return True
    for system, code in _codings(cond.get("code")):
        if system in (m.ICD10CM, m.ICD10) and code[:1] in ("C", "D") and code[:3] < "D50":
            return True
    words = m.lower_words(cond.get("code"))
    return any(w in words for w in ("neoplasm", "tumour", "tumor", "sarcoma", "cancer",
                                    "malignan"))


def _histology_links(conditions: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]],
                     r: _Reader) -> dict[int, str]:
    """Conditions made PEComa by an mCODE HistologicBehaviorAndType (LOINC 31206-6) coded
    ICD-O-3 8714/x: id(condition) -> where the histology came from."""
    out: dict[int, str] = {}
    for where, obs in observations:
        if r.kinds.get(id(obs)) != "histology":
            continue
        morphology = m.icdo3_pecoma(obs.get("valueCodeableConcept"))
        if morphology is None:
            r.why[where] = "histology other than PEComa (ICD-O-3 8714/x)"
            continue
        r.used.add(where)
        cond = _related_condition(obs, r)
        if cond is None:
            candidates = [x for _w, x in conditions if _candidate_primary(x)]
            if len(candidates) != 1:
                r.issue(f"{where}.extension(relatedCondition)", "(missing)",
                        f"must name the Condition it describes: {len(candidates)} cancer "
                        "Conditions could be meant")
                continue
            cond = candidates[0]
            r.notes.append(f"{where} ({morphology}) names no Condition; read as describing "
                           f"{r.labels.get(id(cond), 'the one cancer Condition')}")
        out[id(cond)] = f"{where} ({morphology})"
    return out


def _onset(cond: Mapping[str, Any]) -> dt.date | None:
    """When the condition began: onset, then the asserted date, then the recorded date."""
    period = cond.get("onsetPeriod")
    asserted = _ext(cond, c.ASSERTED_DATE) or {}
    for raw in (cond.get("onsetDateTime"),
                period.get("start") if isinstance(period, dict) else None,
                asserted.get("valueDateTime"), cond.get("recordedDate")):
        day = _date(raw)
        if day is not None:
            return day
    return None


def _read_conditions(conditions: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    linked = _histology_links(conditions, observations, r)
    # A Condition coded or named as a metastasis is one, even when it names PEComa
    # ("metastasis of PEComa to the lung"); the primary is the PEComa that is not.
    primary = [(w, x) for w, x in conditions if _live_condition(x) and (
        id(x) in linked or (_is_pecoma(x) and not _is_metastasis(x)))]
    mets = [(w, x) for w, x in conditions
            if _live_condition(x) and _is_metastasis(x) and id(x) not in linked]
    for where, cond in conditions:
        if not _live_condition(cond):
            r.why[where] = f"verificationStatus '{_verification(cond)}'"
    if not primary:
        r.issue("Condition", "(none found)",
                "the bundle must hold the PEComa diagnosis: a Condition coded ICD-O-3 8714/0 "
                f"or 8714/3 ({c.ICDO3_SYSTEM}) or {c.PECOMA_SYSTEM}|pecoma, or an mCODE "
                "HistologicBehaviorAndType Observation (LOINC 31206-6) coding 8714/x for it")
        return
    # A confirmed diagnosis before a provisional one.
    primary.sort(key=lambda wx: _verification(wx[1]) in _NOT_CONFIRMED)
    where, cond = primary[0]
    r.used.add(where)
    r.primary = cond
    site = _site(cond.get("bodySite"), PrimarySite)
    if site is None:
        r.issue(f"{where}.bodySite", "(missing)",
                "must name the primary site (project site code, SNOMED CT body structure, "
                "or the organ in its text; see docs/fhir.md)")
    else:
        r.put("tumour.primary_site", site, f"{where}.bodySite")
        if site == PrimarySite.other.value:
            r.notes.append(f"{where}.bodySite names no site the guideline distinguishes: "
                           "read as 'other'")
    day = _onset(cond)
    if day is not None:
        r.put("diagnosis.date", day.isoformat(), where)
    confirmed = _verification(cond) not in _NOT_CONFIRMED
    if not confirmed:
        r.notes.append(f"{where}: the PEComa diagnosis is '{_verification(cond)}', not "
                       "confirmed; diagnosis.method stays unknown until it is confirmed "
                       "(how was the diagnosis made: histology with immunohistochemistry?)")
    method = _enum_ext(cond, c.EXT.DIAGNOSIS_METHOD, [x.value for x in DiagnosisMethod],
                       where, r)
    if confirmed and method is not None and method != DiagnosisMethod.unknown.value:
        r.put("diagnosis.method", method, where)
    prior = _enum_ext(cond, c.EXT.PRIOR_DIAGNOSIS, [p.value for p in PriorDiagnosis], where, r)
    if prior is not None and prior != PriorDiagnosis.unknown.value:
        r.put("diagnosis.prior_diagnosis", prior, where)
    label = _ext(cond, c.EXT.CASE_LABEL)
    if label is not None and isinstance(label.get("valueString"), str):
        r.data["label"] = label["valueString"]
    if id(cond) in linked:
        r.notes.append(f"{where} is the PEComa: histology from {linked[id(cond)]}")
    for other_where, _other in primary[1:]:
        r.why[other_where] = f"a further PEComa Condition ({where} is read)"
    _read_metastases(mets, r)


def _read_metastases(mets: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    present: list[dict[str, Any]] = []
    history: list[tuple[dict[str, Any], dt.date | None]] = []
    paths: list[str] = []
    for where, cond in mets:
        related = _ext(cond, m.CONDITION_RELATED)
        target = _target(_ref((related or {}).get("valueReference")), r)
        if target is not None and r.primary is not None and target is not r.primary:
            r.why[where] = "a metastasis of another primary cancer"
            continue
        if m.is_lymph_node_code(cond.get("code")) and not _site_named(cond):
            if _clinical(cond) not in _HISTORY:
                r.put("stage.lymph_nodes", "positive", where)
                r.notes.append(f"{where}: lymph-node involvement (regional or distant not "
                               "stated) read as positive regional lymph nodes")
                r.used.add(where)
            else:
                r.why[where] = "resolved lymph-node involvement"
            continue
        site = _site(cond.get("bodySite"), MetastasisSite)
        if site in (None, MetastasisSite.other.value):
            by_code = m.metastasis_site(cond)
            if by_code is not None:
                site = by_code.value
        if site is None:
            site = MetastasisSite.other.value
            r.notes.append(f"{where} names no site: its site is taken as 'other'")
        met: dict[str, Any] = {"site": site}
        day = _onset(cond)
        if day is not None:
            met["detected_on"] = day.isoformat()
        timing = _enum_ext(cond, c.EXT.METASTASIS_TIMING, [t.value for t in Timing], where, r)
        if timing is not None:
            met["timing"] = timing
        r.used.add(where)
        paths.append(where)
        if _clinical(cond) in _HISTORY:
            history.append((met, _date(cond.get("abatementDateTime"))))
            r.notes.append(f"{where}: metastasis ({site}) is '{_clinical(cond)}': history, "
                           "not present disease (not in stage.metastases while others are "
                           "present)")
        else:
            present.append(met)
    # Present disease only; resolved metastases count when nothing is present any more
    # (the patient is then free of disease since they resolved).
    metastases = present or [met for met, _day in history]
    if metastases:
        r.put("stage.metastases", metastases, ", ".join(paths))
    r.present_metastases = len(present)
    if history and not present:
        ends = [d for _met, d in history]
        if all(d is not None for d in ends):
            since = max(d for d in ends if d is not None)
            r.put("free_of_disease", {"since": since.isoformat()}, ", ".join(paths))
            r.notes.append("free_of_disease.since taken from the latest abatement date of the "
                           "resolved metastases; how (surgery or systemic therapy) is unknown")
        else:
            r.history_without_end = True


def _site_named(cond: Mapping[str, Any]) -> bool:
    site = _site(cond.get("bodySite"), MetastasisSite)
    return site not in (None, MetastasisSite.other.value)


# ----------------------------------------------------------------------- observations


def _live_observations(
    observations: list[tuple[str, dict[str, Any]]],
) -> list[tuple[str, dict[str, Any]]]:
    live = [(w, o) for w, o in observations if str(o.get("status")) not in _IGNORED_OBS_STATUS]
    # Later observations win: sort by their effective time, stable on bundle order.
    live.sort(key=lambda wo: _effective(wo[1]))
    return live


def _read_observations(observations: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    variants: list[tuple[str, dict[str, Any]]] = []
    implications: dict[str, str] = {}
    for where, obs in observations:
        kind = r.kinds.get(id(obs))
        if kind is None or kind in ("histology", "margin"):
            continue
        if kind == "handler":
            handler = _observation_handler(obs)
            if handler is not None:
                handler(r, obs, where)
                r.used.add(where)
        elif kind == "marker":
            _marker(r, obs, where)
            r.used.add(where)
        elif kind == "status":
            _disease_status(r, obs, where)
        elif kind == "history":
            if obs.get("valueBoolean") is False:
                r.no_metastatic_history = where
                r.used.add(where)
            else:
                r.why[where] = "a history of metastatic cancer without site or date"
        elif kind == "variant":
            variants.append((where, obs))
        elif kind == "implication":
            for ref, significance in genomics.implication_of(obs):
                implications[ref] = significance
            r.used.add(where)
    reading = genomics.read_variants(variants, implications)
    for name, value in reading.facts.items():
        r.put(f"molecular.{name}", value, reading.sources[name])
    r.used.update(w for w, _o in variants if w in set(reading.sources.values()))
    for where, _obs in variants:
        if where not in r.used:
            r.why[where] = "a variant of a gene other than TSC1, TSC2 or TFE3"
    r.notes.extend(reading.notes)


def _disease_status(r: _Reader, obs: Mapping[str, Any], where: str) -> None:
    """mCODE CancerDiseaseStatus: evidence of the trend, listed; never a stage by itself,
    except 'distant metastasis present', which makes the disease metastatic."""
    concept = obs.get("valueCodeableConcept")
    said = None
    # Observations come in time order: the latest statement decides.
    r.distant_metastasis_stated = None
    for system, code in _codings(concept):
        if system == c.SNOMED and code in m.DISEASE_STATUS_TREND:
            said = m.DISEASE_STATUS_TREND[code]
            if code == m.SNOMED_DISTANT_METASTASIS_PRESENT:
                r.distant_metastasis_stated = where
    said = said or m.lower_words(concept) or "(no value)"
    day = _date(obs.get("effectiveDateTime"))
    when = day.isoformat() if day else "undated"
    r.evidence.append((when, f"{when}: cancer disease status '{said}' ({where})"))
    r.used.add(where)


def _derive_status(r: _Reader) -> None:
    if "stage.status" in r.sources:
        return
    if r.present_metastases:
        r.put("stage.status", DiseaseStatus.metastatic.value, "derived: metastasis Condition")
        r.notes.append("stage.status taken as 'metastatic' from the metastasis Conditions")
    elif r.distant_metastasis_stated is not None:
        r.put("stage.status", DiseaseStatus.metastatic.value, r.distant_metastasis_stated)
        r.notes.append(f"stage.status taken as 'metastatic': {r.distant_metastasis_stated} "
                       "states distant metastasis present")
    elif "free_of_disease" in r.sources:
        r.put("stage.status", DiseaseStatus.metastatic.value, "derived: resolved metastases")
        r.notes.append("stage.status taken as 'metastatic' (resolved metastases); the patient "
                       "is free of disease since free_of_disease.since")
    elif r.history_without_end:
        r.issue("stage.status", "(not found)",
                "cannot be derived: the metastasis Conditions are resolved but give no "
                "abatementDateTime; record when the patient became free of disease, or the "
                "disease status")
    elif r.no_metastatic_history is not None and not r.data.get("stage", {}).get("metastases"):
        r.put("stage.status", DiseaseStatus.localized.value, r.no_metastatic_history)
        r.notes.append(f"stage.status taken as 'localized': {r.no_metastatic_history} states "
                       "no history of metastatic cancer; resectability is not assumed")
    else:
        r.issue("stage.status", "(not found)",
                f"must be given by an Observation coded {c.PECOMA_SYSTEM}|"
                f"{c.OBS_DISEASE_STATUS[0]}, a metastasis Condition (mCODE "
                "SecondaryCancerCondition), an mCODE CancerDiseaseStatus 'distant metastasis "
                "present', or an mCODE HistoryOfMetastaticCancer stating none; the disease "
                "status is never assumed")


# ------------------------------------------------------------------------- procedures


def _for_primary(proc: Mapping[str, Any], r: _Reader) -> bool:
    """Whether a resection Procedure is of the PEComa primary."""
    reasons = [_target(_ref(x), r) for x in _list(proc.get("reasonReference"))]
    known = [x for x in reasons if x is not None]
    if known:
        return any(x is r.primary for x in known)
    if _list(proc.get("reasonReference")):
        return False  # a reason the bundle does not hold: not assumed to be the PEComa
    if any(m.icdo3_pecoma(x) for x in _list(proc.get("reasonCode"))):
        return True
    primary_site = r.data.get("tumour", {}).get("primary_site")
    site = _site(proc.get("bodySite"), PrimarySite)
    if site is not None and site != PrimarySite.other.value:
        return bool(site == primary_site)
    organ = m.resected_organ(proc)
    # Neither linked nor naming an organ (the mCODE profile alone says cancer-related,
    # not which cancer): not taken as the resection of the primary.
    return organ is not None and organ.value == primary_site


def _read_procedures(procedures: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    resections = []
    for w, p in procedures:
        if p.get("status") == "entered-in-error":
            r.why[w] = "entered in error"
            continue
        if _has(p.get("code"), c.PECOMA_SYSTEM, c.PROCEDURE_RESECTION[0]):
            resections.append((w, p))
        elif m.is_resection(p):
            if _for_primary(p, r):
                resections.append((w, p))
            else:
                r.why[w] = ("a resection not shown to be of the PEComa primary (its "
                            "reasonReference, bodySite or name says another site, or "
                            "nothing)")
    if not resections:
        return
    resections.sort(key=lambda wp: str(wp[1].get("performedDateTime") or _period_of(wp[1])))
    where, proc = resections[0]
    r.used.add(where)
    for other, _p in resections[1:]:
        r.why[other] = f"a later resection ({where} is read as the resection of the primary)"
    status = _PROCEDURE_STATUS.get(str(proc.get("status")), SurgeryStatus.unknown)
    r.put("surgery.status", status.value, f"{where}.status")
    raw = proc.get("performedDateTime") or _period_of(proc)
    day = _date(raw)
    if day is not None and status in (SurgeryStatus.performed, SurgeryStatus.planned):
        r.put("surgery.date", day.isoformat(), f"{where}.performed[x]")
    if status is SurgeryStatus.performed and "surgery.margin" not in r.sources:
        _margin(proc, where, observations, r)


def _period_of(proc: Mapping[str, Any]) -> str:
    period = proc.get("performedPeriod")
    if isinstance(period, dict):
        return str(period.get("end") or period.get("start") or "")
    return ""


def _margin(proc: Mapping[str, Any], where: str,
            observations: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    """The margin from the Procedure's outcome or notes, or a margin Observation's finding."""
    texts = [(where, f"{where}.outcome", m.lower_words(proc.get("outcome")))]
    texts += [(where, f"{where}.note", str(n.get("text") or "")) for n in _list(proc.get("note"))
              if isinstance(n, dict)]
    for w, obs in observations:
        if r.kinds.get(id(obs)) == "margin":
            texts.append((w, w, m.lower_words(obs.get("valueCodeableConcept"))
                          or str(obs.get("valueString") or "")))
    for label, w, text in texts:
        found = m.margin_in_text(text) if text else None
        if found is not None:
            r.put("surgery.margin", found.value, w)
            r.used.add(label)
            return


# ------------------------------------------------------------------------ medications


def _agent(med: Mapping[str, Any], r: _Reader) -> Agent | None:
    """The agent of a medication resource, read once per resource."""
    key = id(med)
    if key not in r.agents:
        r.agents[key] = meds.agent_of(med, r.resolve)
    return r.agents[key]


def _read_medications(records: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    own: list[tuple[str, dict[str, Any], Agent]] = []
    given: list[tuple[str, dict[str, Any], Agent]] = []
    for where, med in records:
        agent = _agent(med, r)
        if agent is None:
            why = meds.unreadable_medication(med, r.resolve)
            if why is not None:
                r.why[where] = f"medication not identified: {why}"
                r.notes.append(f"{where}: {why}; if it is a systemic agent, its line is "
                               "missing")
            continue
        state = meds.given(med, r.on)
        if state in (meds.Given.error, meds.Given.not_given, meds.Given.planned):
            r.why[where] = f"{agent.value} {state.value.replace('_', ' ')} (status "\
                           f"'{med.get('status')}')"
            continue
        if state is meds.Given.unknown and _ext(med, c.EXT.THERAPY_SETTING) is None:
            r.notes.append(f"{where}: status '{med.get('status')}' does not say whether "
                           f"{agent.value} was given; read as given")
        if _ext(med, c.EXT.THERAPY_SETTING) is not None:
            own.append((where, med, agent))
        else:
            given.append((where, med, agent))
    therapies = [_own_line(where, med, agent, r) for where, med, agent in own]
    paths = [where for where, _m, _a in own]
    for line, wheres in _lines(given, r):
        therapies.append(line)
        paths.extend(wheres)
    r.used.update(paths)
    if therapies:
        r.put("systemic.therapies", therapies, ", ".join(paths))


def _own_line(where: str, med: Mapping[str, Any], agent: Agent, r: _Reader) -> dict[str, Any]:
    """A line as the project's writer records it (its extensions say setting and result)."""
    t: dict[str, Any] = {"agent": agent.value}
    setting = _enum_ext(med, c.EXT.THERAPY_SETTING, [s.value for s in TherapySetting],
                        where, r)
    if setting is not None:
        t["setting"] = setting
    line = _ext(med, c.EXT.THERAPY_LINE)
    if line is not None:
        t["line"] = line.get("valuePositiveInt", line.get("valueInteger"))
    day = meds.started_on(med)
    if day is not None:
        t["started_on"] = day.isoformat()
    response = _enum_ext(med, c.EXT.BEST_RESPONSE, [x.value for x in Response], where, r)
    if response is not None:
        t["best_response"] = response
    progressed = _enum_ext(med, c.EXT.PROGRESSED, ["yes", "no", "unknown"], where, r)
    if progressed is not None:
        t["progressed"] = progressed
    return t


#: Orders of two agents started this close are read as one combination regimen.
_SAME_REGIMEN_DAYS = 7
_PAIRS = {
    frozenset({Agent.doxorubicin, Agent.ifosfamide}): Agent.doxorubicin_ifosfamide,
}


def _lines(records: list[tuple[str, dict[str, Any], Agent]],
           r: _Reader) -> list[tuple[dict[str, Any], list[str]]]:
    """One line per agent from an EHR's orders, administrations and statements (many
    records of one drug are one line, from the first day), with doxorubicin and
    ifosfamide (or gemcitabine and docetaxel) started within a week read as the
    combination."""
    groups: dict[Agent, list[tuple[str, dt.date | None]]] = {}
    words: dict[Agent, str] = {}
    for where, med, agent in records:
        groups.setdefault(agent, []).append((where, meds.started_on(med)))
        concept = meds.medication_concept(med, r.resolve)
        words[agent] = words.get(agent, "") + " " + m.lower_words(concept)
    starts = {a: min((d for _w, d in v if d is not None), default=None)
              for a, v in groups.items()}
    # Gemcitabine and docetaxel are each 'other chemotherapy' alone; together a regimen.
    other = words.get(Agent.other_chemotherapy, "")
    if "gemcitabine" in other and "docetaxel" in other:
        groups[Agent.gemcitabine_docetaxel] = groups.pop(Agent.other_chemotherapy)
        starts[Agent.gemcitabine_docetaxel] = starts.pop(Agent.other_chemotherapy)
        r.notes.append("gemcitabine and docetaxel read as the gemcitabine-docetaxel regimen")
    for pair, combined in _PAIRS.items():
        a, b = sorted(pair)
        if a in groups and b in groups:
            da, db = starts[a], starts[b]
            if da is not None and db is not None and abs((da - db).days) <= _SAME_REGIMEN_DAYS:
                groups[combined] = groups.pop(a) + groups.pop(b)
                starts[combined] = min(da, db)
                starts.pop(a)
                starts.pop(b)
                r.notes.append(f"{a.value} and {b.value} started within "
                               f"{_SAME_REGIMEN_DAYS} days read as {combined.value}")
    out = []
    for agent, recs in groups.items():
        line: dict[str, Any] = {"agent": agent.value}
        if starts[agent] is not None:
            line["started_on"] = starts[agent].isoformat()  # type: ignore[union-attr]
        if len(recs) > 1:
            r.notes.append(f"{agent.value}: {len(recs)} records read as one line")
        out.append((line, [w for w, _d in recs]))
    out.sort(key=lambda lw: str(lw[0].get("started_on") or "9999"))
    return out


# -------------------------------------------------------------------------- allergies


def _allergy_agent(allergy: Mapping[str, Any]) -> Agent | str | None:
    """The mTOR inhibitor an allergy names, 'class' for the drug class, or ``None``."""
    concept = allergy.get("code")
    agent = agent_of_concept(concept)
    if agent is not None and agent.is_mtor_inhibitor:
        return agent
    words = m.lower_words(concept)
    if "mtor" in words or "rapalog" in words:
        return "class"
    return None


def _read_allergies(allergies: list[tuple[str, dict[str, Any]]], r: _Reader) -> None:
    unreadable = []
    for where, allergy in allergies:
        if not _live_condition(allergy):
            r.why[where] = f"verificationStatus '{_verification(allergy)}'"
            continue
        status = {code for _s, code in _codings(allergy.get("clinicalStatus"))}
        if status & {"inactive", "resolved"}:
            r.why[where] = "inactive or resolved"
            continue
        agent = _allergy_agent(allergy)
        if agent is None:
            concept = allergy.get("code")
            if not m.lower_words(concept) and not any(code for _s, code in _codings(concept)):
                unreadable.append(where)
            continue
        # An allergy or intolerance to an mTOR inhibitor is a contraindication; it
        # outweighs an observation that says otherwise (the safer reading).
        r.put("systemic.mtor_inhibitor_contraindicated", "yes", where)
        r.used.add(where)
        what = "mTOR inhibitors" if agent == "class" else getattr(agent, "value", agent)
        r.notes.append(f"{where}: intolerance of {what} read as an mTOR-inhibitor "
                       "contraindication")
        return
    for where in unreadable:
        r.why[where] = "the substance is not named (no code, no text)"
        r.notes.append(f"{where}: an allergy or intolerance whose substance cannot be read; "
                       "an mTOR-inhibitor contraindication cannot be ruled out")
    if unreadable and r.data.get("systemic", {}).get("mtor_inhibitor_contraindicated") == "no":
        del r.data["systemic"]["mtor_inhibitor_contraindicated"]
        del r.sources["systemic.mtor_inhibitor_contraindicated"]
        r.notes.append("systemic.mtor_inhibitor_contraindicated: a 'no' is not kept while an "
                       "allergy cannot be read; it stays unknown")


def case_from_bundle_json(
    text: str | bytes, *, validate: Validation = "engine", source: str = "FHIR bundle",
    on: dt.date | None = None,
) -> BundleCase:
    """Parse JSON text into a case, or raise :class:`InputError`."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [FieldIssue("(json)", "unparseable text", f"must be valid JSON: {exc}")], source
        ) from exc
    return case_from_bundle(data, validate=validate, source=source, on=on)
