"""The knowledge base as one FHIR R4 PlanDefinition, versioned with the knowledge.

Shape (after the HL7 Clinical Practice Guidelines IG, documented in docs/fhir.md):

* ``url`` is :data:`~pecoma.fhir.codes.PLAN_DEFINITION_URL`, ``version`` the knowledge
  version; CarePlans and RequestGroups name it in ``instantiatesCanonical`` as
  ``url|version``.
* one top-level action per guideline section, one nested action per knowledge record;
* each record's action carries its text, a condition in words (``kind`` applicability,
  ``expression.language`` ``text/plain``: a narrative for people; the engine evaluates it),
  the evidence in the CPG IG's way: ``cqf-strengthOfRecommendation`` and
  ``cqf-qualityOfEvidence`` on the action, ``cpg-rationale`` (markdown), and
  ``documentation`` RelatedArtifacts naming the statements (S01-S28), the guideline refs
  [1]-[5] or the published references of supplementary items;
* ``relatedArtifact`` at the top lists the source and every reference.
"""

from __future__ import annotations

from typing import Any

from pecoma.engine.collect import provenance_of
from pecoma.fhir import codes as c
from pecoma.fhir.careplan import CPG_RATIONALE, provenance_extension, related_artifacts
from pecoma.knowledge import Knowledge, Record, load_knowledge
from pecoma.settings import Settings, default_settings

__all__ = ["APPLIES_WHEN", "CQF_QUALITY", "CQF_STRENGTH", "plan_definition", "strength_code"]

CQF_STRENGTH = "http://hl7.org/fhir/StructureDefinition/cqf-strengthOfRecommendation"
CQF_QUALITY = "http://hl7.org/fhir/StructureDefinition/cqf-qualityOfEvidence"
STRENGTH_SYSTEM = "http://terminology.hl7.org/CodeSystem/recommendation-strength"
PLAN_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/plan-definition-type"
SOURCE_TITLE = "Treatment of Perivascular Epithelioid Cell Tumor (PEComa), guideline summary"

_STRONG = frozenset({
    "treatment of choice", "standard of care", "recommended", "recommended for every patient",
    "required step", "attempt whenever possible", "applies to every patient",
    "critical pitfall",
})
_WEAK = frozenset({
    "consider", "consider; limited supporting data", "option", "alternative first line",
    "can be considered", "consider; the sarcoma team decides (I25)",
})

#: When each record applies, in words (the engine's rules are the executable form).
APPLIES_WHEN: dict[str, str] = {
    "RISK-ASSESS": "Every case, before any adjuvant decision.",
    "RISK-SIZE": "The largest tumour dimension is above 5 cm.",
    "RISK-NECROSIS": "Tumour necrosis is reported present.",
    "RISK-INFILTRATIVE": "An infiltrative growth pattern is reported present.",
    "RISK-GRADE": "High nuclear grade and cellularity are reported present.",
    "RISK-HIGH": "At least one of the four high-risk features is present.",
    "RISK-LOW": "All four high-risk features are known and absent.",
    "RISK-INDETERMINATE": "No high-risk feature is present and at least one is unknown (I1).",
    "RISK-AFTER-SYSTEMIC-THERAPY": "Localized disease resected after a systemic therapy line "
    "started (or may have), no high-risk feature present, and the features not recorded "
    "as those before treatment (I17).",
    "RISK-NOT-APPLICABLE": "Recurrent or metastatic disease (by the facts, I6): stratification "
    "no longer applies (I8).",
    "RISK-NOT-APPLICABLE-UNRESECTABLE": "Unresectable locally advanced disease (by the "
    "facts, I6): stratification, which serves the adjuvant decision after resection, does "
    "not apply (I8).",
    "CLS-FOLPE-2005": "Every case: the Folpe 2005 criteria are counted, unknowns as a range.",
    "CLS-BENNETT-2018": "The primary site is gynecologic.",
    "CLS-ICDO3": "Every case: registry coding hint from the disease status, the lymph "
    "nodes, the diagnosis method and the Folpe (and, for gynecologic primaries, Bennett) "
    "categories.",
    "ALERT-CLASSIFICATIONS-DISAGREE": "Gynecologic primary whose Folpe 2005 and Bennett 2018 "
    "categories are both determined and differ.",
    "REC-RESECTION": "Localized disease not yet resected (or surgery status unknown).",
    "REC-RESECTION-DONE": "Localized disease resected with an R0 margin.",
    "REC-RERESECTION": "Localized disease resected with an R1 margin, the resection at most "
    "6 months before the evaluation date or its date not recorded (I30).",
    "REC-RERESECTION-DECIDED": "Localized disease, no relapse recorded, whose last "
    "resection left a margin not known to be clear (R1, uncertain or unknown), not recorded "
    "as beyond surgery, more than 6 months before the evaluation date (I30): re-excision a "
    "decision to confirm, whether it was decided asked.",
    "REC-RERESECTION-GROSS": "Localized disease resected with an R2 margin: gross tumour left.",
    "REC-RERESECTION-OPTION": "Localized disease resected with an uncertain or unknown "
    "margin, the resection at most 6 months before the evaluation date or its date not "
    "recorded (I30).",
    "REC-REFER-SURGERY": "Surgery is planned or to be decided.",
    "REC-ADJ-RADIOTHERAPY": "After resection at a high-risk anatomical site (e.g. broad "
    "ligament) or where complete margins are uncertain (R1, uncertain or unknown), "
    "radiotherapy not recorded as given and, for localized disease, the resection at most 6 "
    "months before the evaluation date or its date not recorded (I30).",
    "REC-ADJ-RADIOTHERAPY-DECIDED": "As for REC-ADJ-RADIOTHERAPY, for localized disease "
    "with no relapse recorded, the last resection more than 6 months before the evaluation "
    "date and radiotherapy not recorded as given (I30): a decision to confirm; whether it "
    "was given is asked unless recorded as not given.",
    "REC-ADJ-RADIOTHERAPY-GIVEN": "As for REC-ADJ-RADIOTHERAPY, with adjuvant radiotherapy "
    "recorded as given after the resection (I30): acted on.",
    "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION": "Localized disease resected with an R2 margin "
    "(gross tumour left): radiotherapy weighed once the resection is completed.",
    "REC-ADJ-RADIOTHERAPY-RECURRENCE": "A local recurrence (no distant metastasis) of a "
    "primary at a high-risk anatomical site, removed by surgery or that surgery can remove "
    "(I23).",
    "REC-ADJ-NODES-METS": "Positive lymph nodes or synchronous distant metastases, with the "
    "primary operated or to be operated, and no distant disease left that surgery cannot "
    "remove; provisional when the surgery status, a metastasis's timing or whether surgery "
    "can remove the metastases present is unknown.",
    "REC-ADJ-NODES-METS-AFTER-RERESECTION": "Positive lymph nodes or synchronous distant "
    "metastases, and the primary resected with an R2 margin (gross tumour left), not "
    "recorded as beyond surgery: S11 weighed once the resection is completed; provisional "
    "when whether surgery can remove the residue or the metastases is unknown.",
    "REC-ADJ-NODES-METS-GIVEN": "Positive lymph nodes or synchronous distant metastases, "
    "and a line of systemic treatment started after the operation (or recorded as "
    "adjuvant): S11 acted on.",
    "REC-NO-ADJUVANT-AFTER-RELAPSE": "Recurrent or metastatic disease free of disease again "
    "(I8), without nodes or metastases at presentation calling for S11.",
    "REC-NO-ADJUVANT-LOCALIZED": "Localized disease resected without gross tumour left "
    "(no R2), regional nodes not positive (provisional where not recorded or not "
    "assessed), high or indeterminate risk, or a course recorded as adjuvant (I28).",
    "REC-NO-ADJUVANT-AFTER-CLEARANCE": "Distant metastases present at presentation cleared "
    "by systemic or other treatment without an operation (I8): no S11, no relapse.",
    "REC-MTOR-FIRST-LINE": "Advanced disease (I6) shown malignant (I9: a malignant pathology "
    "category, recurrence, metastasis or nodal spread), or possibly malignant on a missing "
    "fact (a classification's unknown criterion, regional nodes unknown; "
    "then provisional on it, I25); mTOR inhibitors neither unavailable nor contraindicated, "
    "no progression on an mTOR inhibitor.",
    "REC-MTOR-MALIGNANCY-NOT-SHOWN": "Advanced disease (I6) not shown malignant (I9: no "
    "malignant pathology category, no recurrence, metastasis or nodal spread, regional nodes "
    "recorded free or not assessed (I10), and no missing fact that could make it "
    "malignant), mTOR inhibitors "
    "neither unavailable nor contraindicated, no progression on an mTOR inhibitor (I25).",
    "REC-ANTHRACYCLINE": "Advanced disease and mTOR inhibitors unavailable or "
    "contraindicated, no progression on anthracycline-based chemotherapy, doxorubicin not "
    "recorded as not tolerated.",
    "REC-NO-LINE-AFTER-ANTHRACYCLINE": "Advanced disease, mTOR inhibitors unavailable or "
    "contraindicated, that progressed on anthracycline-based chemotherapy.",
    "REC-UTERINE-EPI-IFO": "Advanced disease with a uterine primary (the cervix "
    "included; provisional for another gynecologic site not recorded as outside the "
    "cervix), no progression on a line holding epirubicin or ifosfamide (I26), and no "
    "drug of the regimen recorded as not tolerated.",
    "REC-UTERINE-EPI-IFO-PAST": "Advanced disease with a uterine primary (or another "
    "gynecologic site not recorded as outside the cervix) that progressed on a line "
    "holding epirubicin or ifosfamide (I26).",
    "REC-REGIMEN-NOT-TOLERATED": "Advanced disease where the guideline names a "
    "chemotherapy regimen (S14, or S15 for a uterine primary) holding a drug recorded as "
    "not tolerated.",
    "REC-NO-NEXT-LINE": "Advanced disease that progressed on an mTOR inhibitor.",
    "SUPP-AFTER-MTOR": "Advanced disease that progressed on an mTOR inhibitor.",
    "SUPP-NAB-SIROLIMUS": "Advanced disease shown malignant, or possibly malignant on a "
    "missing fact (provisional on it, I25), where an mTOR inhibitor is the first line "
    "(REC-MTOR-FIRST-LINE); not where malignancy is not shown.",
    "REC-LUNG-METASTASECTOMY": "Metachronous lung metastases, disease-free interval of at "
    "least 12 months, no disease outside the lungs, complete excision feasible.",
    "REC-LUNG-METASTASECTOMY-PENDING": "Lung metastases where a criterion of S16 is unknown "
    "and none is known to fail.",
    "REC-LUNG-METASTASECTOMY-NOT-MET": "Lung metastases where at least one criterion of S16 "
    "fails.",
    "REC-LUNG-METASTASECTOMY-NOT-POSSIBLE": "Lung metastases where the disease is recorded "
    "as not resectable, or complete excision as not feasible (a criterion of S16).",
    "REC-AGGRESSIVE-SURGERY": "Recurrent or metastatic disease, present, that surgery can "
    "remove.",
    "REC-PRIMARY-SITE-AFTER-CLEARANCE": "A patient free of disease after a relapse or "
    "locally advanced disease, cleared without surgery, whose primary was never removed "
    "(surgery not performed) (S17, S27, I27).",
    "REC-REFER-TRIALS": "Every case.",
    "ALERT-IMAGING-ONLY": "The diagnosis was made on imaging alone.",
    "ALERT-IHC-INCOMPLETE": "HMB-45, a melanocytic marker or a smooth-muscle marker has no "
    "result.",
    "ALERT-MELANOCYTIC-NEGATIVE": "A melanocytic marker (HMB-45, Melan-A, MITF) was "
    "tested and none is positive.",
    "ALERT-PRIOR-DIAGNOSIS": "The tumour carried another diagnosis before PEComa.",
    "ALERT-STATUS-FROM-FACTS": "The recorded disease status differs from the one the facts "
    "give (localized but not resectable; distant metastases listed) (I6).",
    "ALERT-CHEMO-BEFORE-MTOR": "Advanced disease shown malignant, or possibly malignant on a "
    "missing fact (provisional on it, I25), whose first systemic line is not an mTOR "
    "inhibitor (conventional chemotherapy, pazopanib, another agent) while mTOR inhibitors "
    "are neither unavailable nor contraindicated.",
    "ALERT-DRUG-INTOLERANCE": "A draft order (CDS Hooks order-select), or an order planned "
    "in the record and not given yet (patient-view), of a drug the patient's allergy list "
    "rules out, or of a drug pecoma cannot identify while the list rules drugs out, or "
    "that may be such a drug by its name cut short; or of a drug pecoma identifies that "
    "could not be checked against the list (entries not identified, or the list not read) "
    "(I15).",
    "ALERT-MTOR-LINE-WITHOUT-PROGRESSION": "Advanced disease, mTOR inhibitors recorded "
    "unavailable or contraindicated, and an mTOR-inhibitor line recorded without "
    "progression.",
    "ALERT-ANTHRACYCLINE-GIVEN": "Advanced disease (or possibly advanced) whose advice names "
    "anthracycline-based chemotherapy, with an anthracycline-based line recorded.",
    "ALERT-MTOR-GIVEN": "Advanced disease (or possibly advanced) whose advice is the "
    "first-line mTOR inhibitor, with an mTOR-inhibitor line recorded.",
    "ALERT-LINE-NOT-TOLERATED": "Advanced disease (or possibly advanced) whose latest "
    "line recorded, not progressed on and not recorded as ended, is of a drug (or a "
    "regimen holding a drug) also recorded as not tolerated (sirolimus and nab-sirolimus "
    "one drug; I15, I19).",
    "ALERT-LONG-TERM-FOLLOW-UP": "Every case.",
    "ALERT-INCOMPLETE-RESECTION": "Localized disease resected with an R1, uncertain or "
    "unknown margin (or recurrent, metastatic or locally advanced disease still present "
    "whose primary was resected with an R1 or uncertain margin; or free of disease since, "
    "the primary's margin not clear or the primary never removed, I27), and malignancy (a "
    "malignant category, relapse or positive nodes) established or left open by missing "
    "facts (a malignant category open, regional nodes unknown; I9).",
    "ALERT-RESIDUAL-HIGH-RISK": "Localized disease resected with an R1, uncertain or "
    "unknown margin (or free of disease since, the primary's margin not clear or the "
    "primary never removed, I27), a guideline high-risk feature present or unknown, the "
    "category at most uncertain malignant potential, regional nodes recorded free or not "
    "assessed (I9, I10).",
    "ALERT-RESIDUAL-UNCERTAIN-BEHAVIOUR": "Localized disease resected with an R1, "
    "uncertain or unknown margin (or free of disease since, the primary's margin not "
    "clear or the primary never removed, I27), no high-risk feature, the tumour benign or "
    "of uncertain malignant potential on the facts entered, regional nodes recorded free "
    "or not assessed (I9, I10).",
    "ALERT-GROSS-RESIDUAL": "Localized disease resected with an R2 margin (or recurrent, "
    "metastatic or locally advanced disease still present whose primary was), and "
    "malignancy (a malignant category, relapse or positive nodes) established or left "
    "open by missing facts (a malignant category open, regional nodes unknown or not "
    "assessed; I9).",
    "ALERT-GROSS-RESIDUAL-HIGH-RISK": "Localized disease resected with an R2 margin, a "
    "guideline high-risk feature present or unknown, the category at most uncertain "
    "malignant potential, regional nodes recorded free or not assessed (I9, I10).",
    "ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR": "Localized disease resected with an R2 "
    "margin, no high-risk feature, the tumour benign or of uncertain malignant potential "
    "on the facts entered, regional nodes recorded free or not assessed (I9, I10).",
    "SUPP-TFE3": "TFE3 immunohistochemistry is positive.",
    "SUPP-MELANOMA-MARKERS": "The tumour carried a diagnosis of melanoma before PEComa.",
    "SUPP-SMOOTH-MUSCLE-NEGATIVE": "A melanocytic marker positive and every smooth-muscle "
    "marker tested negative (an earlier melanoma not recorded).",
    "SUPP-TSC-ALTERED": "Advanced disease (or possibly advanced) with a pathogenic TSC1 or "
    "TSC2 variant.",
    "SUPP-TFE3-FUSION": "Advanced disease (or possibly advanced) with a TFE3 rearrangement.",
    "FU-HIGH-INTENSIVE": "High-risk surveillance (high, indeterminate, relapsed, "
    "node-positive or nodal status not recorded, or malignant by classification).",
    "FU-HIGH-SIX-MONTHLY": "High-risk surveillance, after the intensive years.",
    "FU-HIGH-YEARLY": "High-risk surveillance, after year 5.",
    "FU-CHEST-CT": "High-risk surveillance: at every visit.",
    "FU-MRI-PRIMARY": "High-risk surveillance: at every visit.",
    "FU-LOW-LESS-INTENSIVE": "Low risk, never relapsed.",
    "SUPP-FU-LOW-SCHEDULE": "Low risk, never relapsed (supplementary default schedule, I3).",
    "FU-INDETERMINATE": "Risk indeterminate and never relapsed.",
    "FU-NODES-POSITIVE": "Positive lymph nodes, risk low or indeterminate, never relapsed "
    "(I10).",
    "FU-NODES-UNKNOWN-LOW-RISK": "Nodal status not recorded, risk low, never relapsed "
    "(provisional on the nodal status, I10).",
    "FU-NODES-NOT-ASSESSED": "Lymph nodes recorded as not assessed, on the low-risk schedule, "
    "never relapsed (provisional on the nodal status, I10).",
    "FU-AFTER-RELAPSE": "Recurrent or metastatic disease, or unresectable locally advanced "
    "disease cleared without surgery; the plan counts from the date free of disease (I8).",
    "FU-MALIGNANT-LOW-RISK": "None of the four high-risk features, and a pathology "
    "classification determines the tumour malignant; never relapsed (I14).",
    "FU-MAY-BE-MALIGNANT-LOW-RISK": "None of the four high-risk features, and a pathology "
    "classification open on missing facts to a range that reaches malignant (provisional "
    "on them); never relapsed (I14).",
    "FU-MAY-BE-MALIGNANT-NOT-RESECTED": "None of the four high-risk features so far, the "
    "tumour not resected yet (or not recorded as resected), so a pathology classification "
    "is open to a range that reaches malignant until the resection specimen is examined "
    "(provisional on it); never relapsed (I6, I14).",
    "SUPP-FU-LOW-YEARLY": "Low-risk surveillance after the frequent years.",
    "FU-LOW-CHEST-CT": "Low-risk surveillance: at every visit, when the settings plan it "
    "(interpretation I12).",
    "FU-LOW-MRI-PRIMARY": "Low-risk surveillance: at every visit, when the settings plan it "
    "(interpretation I12).",
    "FU-SCAN-HISTORY-MISSING": "No scan history given once the first visit's window has "
    "passed (I13).",
    "FU-ADJUVANT-END-NOT-RECORDED": "Localized disease resected, a line recorded as "
    "adjuvant, and the end of curative treatment not recorded (I22).",
    "FU-SCANS-DURING-TREATMENT": "A scan dated from the surgery to before the end of "
    "curative treatment (I22).",
    "FU-LIFELONG": "Every dated surveillance plan (I4).",
    "FU-NO-ANCHOR": "The end of curative treatment is unknown.",
    "FU-NO-PLAN-ACTIVE-DISEASE": "Disease is present (advanced, recurrent or metastatic).",
    "FU-NO-PLAN-RESIDUAL-TUMOUR": "Localized disease resected with an R2 margin, not "
    "recorded as beyond surgery: residual tumour is present.",
    "FU-NO-PLAN-PRIMARY-IN-PLACE": "Localized disease whose surgery is not performed or "
    "planned, not recorded as beyond surgery: the primary tumour is in place (I20).",
    "FU-SUSPENDED-RECURRENCE": "A surveillance scan found local recurrence or metastasis.",
    "FU-EQUIVOCAL": "A surveillance scan was equivocal.",
    "FU-FINDING-NOT-RECORDED": "A surveillance scan has no recorded result.",
    "FU-IMAGING-INCOMPLETE": "A visit is done but a planned examination is not recorded.",
    "FU-IMAGING-INCOMPLETE-LOW": "A low-risk visit is done but an examination pecoma plans "
    "there (I12) is not recorded.",
}


def strength_code(strength: str) -> dict[str, Any]:
    """The record's strength as a CodeableConcept: strong/weak where it maps, words always."""
    out: dict[str, Any] = {"text": strength}
    if strength in _STRONG:
        out["coding"] = [{"system": STRENGTH_SYSTEM, "code": "strong", "display": "Strong"}]
    elif strength in _WEAK:
        out["coding"] = [{"system": STRENGTH_SYSTEM, "code": "weak", "display": "Weak"}]
    return out


def _quality(record: Record) -> dict[str, Any]:
    if record.provenance == "supplementary":
        return {"text": "published evidence outside the guideline; see the cited references"}
    if "limited" in record.strength:
        return {"text": "limited supporting data (the guideline's words); not graded"}
    return {"text": "not graded by the guideline summary"}


def _action(record: Record, k: Knowledge) -> dict[str, Any]:
    p = provenance_of(k, record.id)
    texts = {s: k.statements[s].text for s in record.statements}
    when = APPLIES_WHEN.get(record.id, f"When the engine's rule for {record.id} fires.")
    action: dict[str, Any] = {
        "id": record.id,
        "extension": [
            {"url": CQF_STRENGTH, "valueCodeableConcept": strength_code(record.strength)},
            {"url": CQF_QUALITY, "valueCodeableConcept": _quality(record)},
            {"url": CPG_RATIONALE, "valueMarkdown": record.rationale},
            provenance_extension(p, record.id),
        ],
        "title": record.title,
        "description": record.text,
        "textEquivalent": record.text,
        "code": [{"coding": [{"system": c.PECOMA_SYSTEM, "code": f"record-{record.kind}",
                              "display": record.kind}], "text": record.kind}],
        "documentation": related_artifacts(p, texts),
        "condition": [{"kind": "applicability", "expression": {
            "description": when, "language": "text/plain", "expression": when}}],
    }
    if record.level is not None:
        action["priority"] = {"critical": "asap", "warning": "urgent"}.get(
            record.level, "routine")
    return action


def plan_definition(
    knowledge: Knowledge | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """The knowledge base as a FHIR R4 PlanDefinition (JSON data); the schedule's wording
    quotes ``settings`` (the defaults when not given)."""
    k = (knowledge or load_knowledge()).worded(
        (settings or default_settings()).wording())
    sections: dict[str, list[Record]] = {}
    for r in k.records.values():
        sections.setdefault(r.section, []).append(r)
    artifacts: list[dict[str, Any]] = [
        {"type": "derived-from", "label": "source", "display": SOURCE_TITLE}
    ]
    artifacts += [
        {"type": "citation", "label": f"[{n}]", "display": f"guideline ref [{n}]",
         "citation": "Reference of the guideline summary; the source gives no reference list."}
        for n in range(1, 6)
    ]
    artifacts += [
        {"type": "citation", "label": ref.short, "display": ref.short, "citation": ref.citation}
        for ref in k.references.values()
    ]
    actions = []
    for i, (section, records) in enumerate(sections.items(), start=1):
        statements = sorted({s for r in records for s in r.statements})
        actions.append({
            "id": f"section-{i}",
            "title": section,
            "description": f"Guideline section '{section}'"
            + (f" (statements {', '.join(statements)})" if statements else ""),
            "action": [_action(r, k) for r in records],
        })
    return {
        "resourceType": "PlanDefinition",
        "id": "pecoma-guideline",
        "extension": [{"url": c.EXT.KNOWLEDGE_VERSION, "valueString": k.version}],
        "url": c.PLAN_DEFINITION_URL,
        "version": k.version,
        "name": "PecomaGuideline",
        "title": k.title,
        "type": {"coding": [{"system": PLAN_TYPE_SYSTEM, "code": "clinical-protocol",
                             "display": "Clinical Protocol"}]},
        "status": "active",
        "experimental": False,
        "publisher": "pecoma",
        "description": k.intended_use,
        "usage": "Decision support for a multidisciplinary sarcoma team; unknown facts are "
                 "reported as missing, never read as absent.",
        "relatedArtifact": artifacts,
        "action": actions,
    }
