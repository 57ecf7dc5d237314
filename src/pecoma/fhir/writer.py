""":class:`~pecoma.case.Case` -> FHIR R4 Bundle (the inverse of :mod:`pecoma.fhir.reader`).

An unknown fact is left out of the bundle (so a reader finds it "not found", never
"absent"); ``not_done`` immunohistochemistry and ``not_assessed`` lymph nodes are
Observations with the data-absent-reason ``not-performed``. Identifiers are stable and
derived from the position of each fact, so the same case gives the same bundle.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Final

from pecoma.case import (
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    IHCResult,
    Margin,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    Response,
    SurgeryStatus,
    Timing,
    Tumour,
    VariantStatus,
    YesNo,
)
from pecoma.fhir import codes as c

__all__ = ["bundle_from_case", "cervix_extension", "concept", "primary_site_concept",
           "resources_from_case", "site_concept"]

#: What a FHIR R4 string must hold at least one of (its regex ``[ \r\n\t\S]+``): a
#: space or a character that is no whitespace.
_FHIR_STRING: Final = re.compile(r"[ \r\n\t\S]")

_PROCEDURE_STATUS = {
    SurgeryStatus.performed: "completed",
    SurgeryStatus.planned: "preparation",
    SurgeryStatus.not_performed: "not-done",
}


def concept(code: str, display: str, *more: tuple[str, str, str]) -> dict[str, Any]:
    """A CodeableConcept with the project code first and standard codes after it."""
    codings = [{"system": c.PECOMA_SYSTEM, "code": code, "display": display}]
    if more:
        codings += [{"system": s, "code": k, "display": d} for s, k, d in more]
    return {"coding": codings, "text": display}


def site_concept(value: str) -> dict[str, Any]:
    display = value.replace("_", " ")
    snomed = c.BODY_SITE_SNOMED.get(value)
    more = [(c.SNOMED, snomed[0], snomed[1])] if snomed else []
    return concept(c.site_code(value), display, *more)


def primary_site_concept(tumour: Tumour) -> dict[str, Any]:
    """The primary's bodySite (the PEComa Condition's and the resection's): its site and,
    for a uterine primary, whether it arose in the cervix (``tumour.cervix``) as the code
    the reader reads as that answer (SNOMED CT cervix uteri, ICD-O-3 corpus uteri).
    Unknown adds nothing; 'no' beside another site is :func:`cervix_extension`'s."""
    site = site_concept(tumour.primary_site.value)
    if tumour.primary_site is PrimarySite.uterus and tumour.cervix is not YesNo.unknown:
        system, code, display = c.CERVIX_CODING[tumour.cervix.value]
        site["coding"].append({"system": system, "code": code, "display": display})
    return site


def cervix_extension(tumour: Tumour) -> list[dict[str, Any]]:
    """The project extension saying the primary did not arise in the cervix, for a primary
    outside the uterus recorded so ('yes' is refused there; no standard code says 'not
    the cervix' of an ovary or a vagina); nothing otherwise."""
    if tumour.primary_site is PrimarySite.uterus or tumour.cervix is not YesNo.no:
        return []
    return [{"url": c.EXT.PRIMARY_IN_CERVIX, "valueCode": tumour.cervix.value}]


_ALLERGY_STATUS = c.ALLERGY_CLINICAL
_ALLERGY_VERIFICATION = c.ALLERGY_VERIFICATION


def _code(value: str) -> str:
    return value.replace("_", "-")


class _Builder:
    def __init__(self, patient_id: str) -> None:
        self.patient_id = patient_id
        self.reference = f"Patient/{patient_id}"
        self.resources: list[dict[str, Any]] = []

    @property
    def subject(self) -> dict[str, str]:
        return {"reference": self.reference}  # a new dict for each resource

    def add(self, resource: dict[str, Any]) -> None:
        self.resources.append(resource)

    def observation(
        self, rid: str, code: tuple[str, str], value: dict[str, Any],
        *more: tuple[str, str, str], category: str = "exam"
    ) -> None:
        self.add({
            "resourceType": "Observation",
            "id": rid,
            "status": "final",
            "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY, "code": category}]}],
            "code": concept(code[0], code[1], *more),
            "subject": self.subject,
            **value,
        })


def _yes_no(value: YesNo) -> dict[str, Any]:
    return {"valueBoolean": value is YesNo.yes}


def _coded(code: str, display: str, snomed: str | None = None) -> dict[str, Any]:
    more = [(c.SNOMED, snomed, display)] if snomed else []
    return {"valueCodeableConcept": concept(code, display, *more)}


def _not_performed() -> dict[str, Any]:
    return {"dataAbsentReason": {"coding": [{"system": c.DATA_ABSENT, "code": "not-performed",
                                             "display": "Not Performed"}]}}


_FEATURE = {
    Feature.present: ("present", "Present", c.SNOMED_PRESENT),
    Feature.absent: ("absent", "Absent", c.SNOMED_ABSENT),
}
_RESULT = {
    IHCResult.positive: ("positive", "Positive", c.SNOMED_POSITIVE),
    IHCResult.negative: ("negative", "Negative", c.SNOMED_NEGATIVE),
}


def bundle_from_case(case: Case, patient_id: str = "pecoma-patient") -> dict[str, Any]:
    """A FHIR R4 collection Bundle carrying every known fact of ``case``."""
    entries = [{"fullUrl": f"{c.PECOMA_BASE}/{r['resourceType']}/{r['id']}", "resource": r}
               for r in resources_from_case(case, patient_id)]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def resources_from_case(case: Case, patient_id: str = "pecoma-patient"
                        ) -> list[dict[str, Any]]:
    """The resources of :func:`bundle_from_case`, in its order, without the bundle."""
    b = _Builder(patient_id)
    b.add({"resourceType": "Patient", "id": patient_id})
    _diagnosis(case, b)
    _tumour(case, b)
    _stage(case, b)
    _surgery(case, b)
    _systemic(case, b)
    _molecular(case, b)
    _free_of_disease(case, b)
    return b.resources


def _diagnosis(case: Case, b: _Builder) -> None:
    d = case.diagnosis
    extensions: list[dict[str, Any]] = []
    if d.method is not DiagnosisMethod.unknown:
        extensions.append({"url": c.EXT.DIAGNOSIS_METHOD, "valueCode": _code(d.method.value)})
    if d.prior_diagnosis is not PriorDiagnosis.unknown:
        extensions.append({"url": c.EXT.PRIOR_DIAGNOSIS,
                           "valueCode": _code(d.prior_diagnosis.value)})
    if d.date is not None:
        extensions.append({"url": c.ASSERTED_DATE, "valueDateTime": d.date.isoformat()})
    if case.label and _FHIR_STRING.search(case.label):
        # a FHIR string cannot be empty, nor be made of whitespace other than spaces (a
        # label of non-breaking spaces only): such a label is not carried
        extensions.append({"url": c.EXT.CASE_LABEL, "valueString": case.label})
    extensions += cervix_extension(case.tumour)
    more = []
    if case.stage.status is DiseaseStatus.metastatic:
        more.append((c.ICDO3_SYSTEM, "8714/3", "Perivascular epithelioid tumor, malignant"))
    cond: dict[str, Any] = {"resourceType": "Condition", "id": "pecoma-diagnosis"}
    if extensions:
        cond["extension"] = extensions
    cond.update({
        "clinicalStatus": {"coding": [{"system": c.CONDITION_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": c.CONDITION_VERIFICATION,
                                           "code": "confirmed"}]},
        "code": concept(*c.CONDITION_PECOMA, *more),
        "bodySite": [primary_site_concept(case.tumour)],
        "subject": b.subject,
    })
    b.add(cond)


def _tumour(case: Case, b: _Builder) -> None:
    size = case.tumour.size
    if size is not None:
        unit = size.unit.value
        b.observation("tumour-size", c.OBS_TUMOUR_SIZE, {"valueQuantity": {
            "value": size.value, "unit": unit, "system": c.UCUM, "code": unit}},
            (c.LOINC, c.LOINC_TUMOUR_SIZE, "Size Tumor"))
    h = case.histology
    for field, (code, display) in c.HISTOLOGY.items():
        state: Feature = getattr(h, field)
        if state is Feature.unknown:
            continue
        b.observation(f"histology-{code}", (code, display), _coded(*_FEATURE[state]),
                      category="laboratory")
    if h.mitoses_per_50_hpf is not None:
        b.observation("histology-mitoses", c.OBS_MITOSES, {"valueQuantity": {
            "value": h.mitoses_per_50_hpf, "unit": "mitoses per 50 HPF"}},
            category="laboratory")
    before = case.tumour.features_before_systemic_therapy
    if before is not YesNo.unknown:
        b.observation("features-before-systemic-therapy", c.OBS_FEATURES_BEFORE_SYSTEMIC,
                      _yes_no(before))
    ihc = case.immunohistochemistry
    for marker, (code, display) in c.IHC.items():
        result: IHCResult = getattr(ihc, marker)
        if result is IHCResult.unknown:
            continue
        value = _not_performed() if result is IHCResult.not_done else _coded(*_RESULT[result])
        b.observation(code, (code, display), value, category="laboratory")


def _stage(case: Case, b: _Builder) -> None:
    s = case.stage
    b.observation("disease-status", c.OBS_DISEASE_STATUS,
                  _coded(_code(s.status.value), s.status.value.replace("_", " ")))
    if s.lymph_nodes is NodeStatus.not_assessed:
        b.observation("lymph-nodes", c.OBS_LYMPH_NODES, _not_performed())
    elif s.lymph_nodes is not NodeStatus.unknown:
        key = IHCResult.positive if s.lymph_nodes is NodeStatus.positive else IHCResult.negative
        b.observation("lymph-nodes", c.OBS_LYMPH_NODES, _coded(*_RESULT[key]))
    for rid, code, value in (
        ("extrapulmonary-disease", c.OBS_EXTRAPULMONARY, s.extrapulmonary_disease),
        ("local-recurrence", c.OBS_LOCAL_RECURRENCE, s.local_recurrence),
        ("resectable", c.OBS_RESECTABLE, s.resectable),
        ("complete-excision-feasible", c.OBS_EXCISION_FEASIBLE, s.complete_excision_feasible),
    ):
        if value is not YesNo.unknown:
            b.observation(rid, code, _yes_no(value))
    if s.disease_free_interval_months is not None:
        b.observation("disease-free-interval", c.OBS_DFI, {"valueQuantity": {
            "value": s.disease_free_interval_months, "unit": "months", "system": c.UCUM,
            "code": "mo"}})
    for i, met in enumerate(s.metastases):
        cond: dict[str, Any] = {"resourceType": "Condition", "id": f"metastasis-{i + 1}"}
        if met.timing is not Timing.unknown:
            cond["extension"] = [{"url": c.EXT.METASTASIS_TIMING, "valueCode": met.timing.value}]
        # beside free_of_disease the metastases are those the patient was freed of:
        # resolved (the day each resolved is not in the case), never active, which a
        # reader takes as present now
        status = "active" if case.free_of_disease is None else "resolved"
        cond.update({
            "clinicalStatus": {"coding": [{"system": c.CONDITION_CLINICAL, "code": status}]},
            "verificationStatus": {"coding": [{"system": c.CONDITION_VERIFICATION,
                                               "code": "confirmed"}]},
            "code": concept(*c.CONDITION_METASTASIS, (c.ICDO3_SYSTEM, "8714/6",
                            "Perivascular epithelioid tumor, metastatic site")),
            "bodySite": [site_concept(met.site.value)],
            "subject": b.subject,
        })
        if met.detected_on is not None:
            cond["onsetDateTime"] = met.detected_on.isoformat()
        elif met.detected_on_or_before is not None:
            # the day it was recorded, no onset: read back as the latest it can have been
            cond["recordedDate"] = met.detected_on_or_before.isoformat()
        b.add(cond)
    for i, suspected in enumerate(s.suspected_metastases):
        # suspected, not confirmed: read back as a suspected metastasis, not present disease
        b.add({
            "resourceType": "Condition", "id": f"suspected-metastasis-{i + 1}",
            "clinicalStatus": {"coding": [{"system": c.CONDITION_CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": c.CONDITION_VERIFICATION,
                                               "code": "provisional"}]},
            "code": concept(*c.CONDITION_METASTASIS, (c.ICDO3_SYSTEM, "8714/6",
                            "Perivascular epithelioid tumor, metastatic site")),
            "bodySite": [site_concept(suspected.site.value)],
            "subject": b.subject,
        })


def _resection(case: Case, b: _Builder, rid: str, status: str, day: dt.date | None,
               latest: dt.date | None = None) -> None:
    """A resection Procedure of the primary, dated when ``day`` is known; else, with
    ``latest``, the latest day it can have been (a project extension, no performed[x])."""
    proc: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": rid,
        "status": status,
        "code": concept(*c.PROCEDURE_RESECTION),
        "subject": b.subject,
        "bodySite": [primary_site_concept(case.tumour)],
    }
    if day is not None:
        proc["performedDateTime"] = day.isoformat()
    elif latest is not None:
        proc["extension"] = [{"url": c.EXT.PERFORMED_ON_OR_BEFORE,
                              "valueDate": latest.isoformat()}]
    b.add(proc)


def _surgery(case: Case, b: _Builder) -> None:
    surg = case.surgery
    status = _PROCEDURE_STATUS.get(surg.status)
    if status is not None:
        _resection(case, b, "resection", status, surg.date, surg.date_on_or_before)
    completion = surg.completion
    # with a completing resection each margin is dated with its operation, so that a
    # reader ties it to the resection it belongs to
    dated = {"effectiveDateTime": surg.date.isoformat()} \
        if completion is not None and surg.date is not None else {}
    if surg.margin is not Margin.unknown:
        b.observation("resection-margin", c.OBS_MARGIN,
                      {**_coded(surg.margin.value, f"margin {surg.margin.value}"), **dated},
                      category="laboratory")
    if completion is not None and status is not None:
        _resection(case, b, "resection-completion", status, completion.date)
        if completion.margin is not Margin.unknown:
            when = {"effectiveDateTime": completion.date.isoformat()} \
                if completion.date is not None else {}
            b.observation("resection-completion-margin", c.OBS_MARGIN,
                          {**_coded(completion.margin.value,
                                    f"margin {completion.margin.value}"), **when},
                          category="laboratory")
    cleared = surg.gross_residue_cleared
    if cleared is not None:
        # how it was cleared as the value ('unknown' too: cleared, means not recorded),
        # the day it was seen cleared as the effective time, left out when not known
        when = {"effectiveDateTime": cleared.date.isoformat()} \
            if cleared.date is not None else {}
        b.observation("gross-residue-cleared", c.OBS_GROSS_RESIDUE_CLEARED,
                      {**_coded(_code(cleared.by.value), cleared.by.value.replace("_", " ")),
                       **when})
    if surg.adjuvant_radiotherapy is not YesNo.unknown:
        b.observation("adjuvant-radiotherapy", c.OBS_ADJUVANT_RADIOTHERAPY,
                      _yes_no(surg.adjuvant_radiotherapy))
    if case.primary_treatment_end is not None:
        b.observation("primary-treatment-end", c.OBS_TREATMENT_END,
                      {"valueDateTime": case.primary_treatment_end.isoformat()})


def _systemic(case: Case, b: _Builder) -> None:
    sysm = case.systemic
    if sysm.mtor_inhibitor_available is not YesNo.unknown:
        b.observation("mtor-available", c.OBS_MTOR_AVAILABLE,
                      _yes_no(sysm.mtor_inhibitor_available))
    if sysm.mtor_inhibitor_contraindicated is not YesNo.unknown:
        b.observation("mtor-contraindicated", c.OBS_MTOR_CONTRA,
                      _yes_no(sysm.mtor_inhibitor_contraindicated))
    if sysm.anthracycline_contraindicated is not YesNo.unknown:
        b.observation("anthracycline-contraindicated", c.OBS_ANTHRACYCLINE_CONTRA,
                      _yes_no(sysm.anthracycline_contraindicated))
    for i, t in enumerate(sysm.therapies):
        # a line another line came after (started later, or numbered later) is over: a
        # new line replaces the one before it; the others' course is not known
        followed = any(u.started_on > t.started_on for u in sysm.therapies
                       if u.started_on is not None and t.started_on is not None) or any(
            u.line > t.line for u in sysm.therapies
            if u.line is not None and t.line is not None)
        extensions: list[dict[str, Any]] = [
            {"url": c.EXT.THERAPY_SETTING, "valueCode": t.setting.value}
        ]
        if t.line is not None:
            extensions.append({"url": c.EXT.THERAPY_LINE, "valuePositiveInt": t.line})
        if t.best_response is not Response.unknown:
            extensions.append({"url": c.EXT.BEST_RESPONSE,
                               "valueCode": _code(t.best_response.value)})
        if t.progressed is not YesNo.unknown:
            extensions.append({"url": c.EXT.PROGRESSED, "valueCode": t.progressed.value})
        med: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": f"therapy-{i + 1}",
            "extension": extensions,
            "status": "completed" if followed or t.ended_on is not None else "unknown",
            "medicationCodeableConcept": concept(c.agent_code(t.agent),
                                                 t.agent.value.replace("_", " ")),
            "subject": b.subject,
        }
        period = {**({"start": t.started_on.isoformat()} if t.started_on else {}),
                  **({"end": t.ended_on.isoformat()} if t.ended_on else {})}
        if period:
            med["effectivePeriod"] = period
        b.add(med)
    for i, x in enumerate(sysm.intolerances):
        # the team's judgement whether it is of the drug's class (I15), where recorded
        judged = ([{"url": c.EXT.INTOLERANCE_CLASS_WIDE, "valueCode": x.class_wide.value}]
                  if x.class_wide is not YesNo.unknown else [])
        b.add({
            "resourceType": "AllergyIntolerance",
            "id": f"intolerance-{i + 1}",
            **({"extension": judged} if judged else {}),
            "clinicalStatus": {"coding": [{"system": _ALLERGY_STATUS, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": _ALLERGY_VERIFICATION,
                                               "code": "confirmed"}]},
            "category": ["medication"],
            "code": concept(c.agent_code(x.agent), x.agent.value.replace("_", " ")),
            "patient": b.subject,
        })


_GENES = {"tsc1": ("HGNC:12362", "TSC1"), "tsc2": ("HGNC:12363", "TSC2"),
          "tfe3_fusion": ("HGNC:11752", "TFE3")}
_SIGNIFICANCE = {VariantStatus.pathogenic: ("LA6668-3", "Pathogenic"),
                 VariantStatus.vus: ("LA26333-7", "Uncertain significance")}


def _molecular(case: Case, b: _Builder) -> None:
    """Each known molecular fact as an mCODE GenomicVariant (LOINC 69548-6)."""
    mol = case.molecular
    for name, value in (("tsc1", mol.tsc1), ("tsc2", mol.tsc2),
                        ("tfe3_fusion", mol.tfe3_fusion)):
        if value.value == "unknown":
            continue
        hgnc, symbol = _GENES[name]
        fusion = name == "tfe3_fusion"
        obs: dict[str, Any] = {
            "resourceType": "Observation",
            "id": f"genomic-variant-{symbol.lower()}",
            "status": "final",
            "category": [{"coding": [{"system": c.OBSERVATION_CATEGORY,
                                      "code": "laboratory"}]}],
            "code": {"coding": [{"system": c.LOINC, "code": "69548-6",
                                 "display": "Genetic variant assessment"}],
                     "text": f"{symbol} fusion" if fusion else f"{symbol} variant"},
            "subject": b.subject,
            "component": [{"code": {"coding": [{"system": c.LOINC, "code": "48018-6",
                                                "display": "Gene studied [ID]"}]},
                           "valueCodeableConcept": {"coding": [
                               {"system": "http://www.genenames.org", "code": hgnc,
                                "display": symbol}]}}],
        }
        if value.value == "not_done":
            obs["dataAbsentReason"] = _not_performed()["dataAbsentReason"]
        elif value.value in ("wild_type", "absent"):
            obs["valueCodeableConcept"] = {"coding": [{"system": c.LOINC, "code": "LA9634-2",
                                                       "display": "Absent"}]}
        else:
            obs["valueCodeableConcept"] = {"coding": [{"system": c.LOINC, "code": "LA9633-4",
                                                       "display": "Present"}]}
            if not fusion:
                code, display = _SIGNIFICANCE[VariantStatus(value.value)]
                obs["component"].append({
                    "code": {"coding": [{"system": c.LOINC, "code": "53037-8",
                                         "display": "Genetic variation clinical "
                                                    "significance [Imp]"}]},
                    "valueCodeableConcept": {"coding": [{"system": c.LOINC, "code": code,
                                                         "display": display}]}})
        b.add(obs)


def _free_of_disease(case: Case, b: _Builder) -> None:
    fod = case.free_of_disease
    if fod is None:
        return
    b.observation("free-of-disease", c.OBS_FREE_OF_DISEASE,
                  {"valueDateTime": fod.since.isoformat()})
    b.resources[-1]["extension"] = [
        {"url": c.EXT.REMISSION_BY, "valueCode": fod.by.value.replace("_", "-")}]
