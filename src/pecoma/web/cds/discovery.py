"""The services pecoma offers (CDS Hooks 2.0 discovery) and the data each one reads."""

from __future__ import annotations

from typing import Any, Final

from pecoma.fhir.searches import MEDICATION_PARTS, PARTS

__all__ = ["CASE_PARTS", "MEDICATION_CANCERS", "MEDICATION_KEYS", "MEDICATION_STARTS",
           "ORDER_SELECT", "PATIENT_VIEW", "PREFETCH", "PREFETCH_MEANING", "SERVICES",
           "UNIDENTIFIED_MEDICATIONS", "VITAL_STATUS", "discovery"]

PATIENT_VIEW: Final = "pecoma-patient-view"
ORDER_SELECT: Final = "pecoma-order-select"
SERVICES: Final = {PATIENT_VIEW: "patient-view", ORDER_SELECT: "order-select"}

#: Prefetch templates: every resource type the FHIR reader uses (the medication searches
#: with the Medications they refer to). A key the EHR sends as null or as an
#: OperationOutcome is fetched from ``fhirServer`` (when allowed) with the same query,
#: else that part of the record is unknown.
PREFETCH: Final[dict[str, str]] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}"
                   "&_include=MedicationStatement:medication",
    "medication_requests": "MedicationRequest?patient={{context.patientId}}"
                           "&_include=MedicationRequest:medication",
    "medication_administrations": "MedicationAdministration?patient={{context.patientId}}"
                                  "&_include=MedicationAdministration:medication",
    "medication_dispenses": "MedicationDispense?patient={{context.patientId}}"
                            "&_include=MedicationDispense:medication",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}

#: The prefetch keys whose resources make up the case itself (diagnosis, tumour, stage,
#: surgery): without one of them a record may fail to give a case at all.
CASE_PARTS: Final = frozenset({"patient", "conditions", "observations", "procedures"})

#: The prefetch keys that give the lines of systemic therapy already given.
MEDICATION_KEYS: Final = MEDICATION_PARTS

#: The part of a record named unknown when medication records name drugs pecoma cannot
#: identify (not a prefetch key: what the record holds, not what was sent).
UNIDENTIFIED_MEDICATIONS: Final = "unidentified_medications"

#: The part of a record named unknown when a medication's first day, a partial date,
#: spans today (not a prefetch key either): whether it had started is unknown.
MEDICATION_STARTS: Final = "medication_starts"

#: The part of a record named unknown when the Patient does not say whether the patient
#: has died in a value pecoma can read (not a prefetch key either:
#: :attr:`pecoma.fhir.reader.BundleCase.vital_status_unknown`).
VITAL_STATUS: Final = "vital_status"

#: The part of a record named unknown when, beside another present primary cancer, a
#: medication record does not say which cancer it was given for, or an mTOR inhibitor
#: was given for the other cancer (not a prefetch key either): the questions asked.
MEDICATION_CANCERS: Final = "medication_cancers"

#: What each prefetch key is, in the words a card uses when it is unknown (the parts of a
#: record the FHIR reader names, :data:`pecoma.fhir.searches.PARTS`).
PREFETCH_MEANING: Final[dict[str, str]] = {
    **PARTS,
    UNIDENTIFIED_MEDICATIONS: "the drug of some medication records",
    MEDICATION_STARTS: "whether some medications had started",
    VITAL_STATUS: "whether the patient has died",
    MEDICATION_CANCERS: "what some medications given beside another primary cancer were "
                        "for",
}


def discovery(knowledge_version: str) -> dict[str, Any]:
    """The discovery document."""
    return {"services": [
        {
            "hook": "patient-view",
            "id": PATIENT_VIEW,
            "title": "PEComa guideline assessment",
            "description": "Risk, guideline recommendations, alerts, missing facts and "
            f"surveillance for a patient with PEComa (pecoma knowledge {knowledge_version}).",
            "prefetch": dict(PREFETCH),
            "usageRequirements": "Reads the PEComa Condition (ICD-O-3 8714/0 or 8714/3), "
            "Observations, Procedures, medications and AllergyIntolerances; see the "
            "mapping table in the service documentation.",
        },
        {
            "hook": "order-select",
            "id": ORDER_SELECT,
            "title": "PEComa: mTOR inhibitor before chemotherapy",
            "description": "Warns when a draft order starts conventional chemotherapy as the "
            "first line for advanced PEComa while mTOR inhibitors are neither unavailable "
            f"nor contraindicated (S13, S14; pecoma knowledge {knowledge_version}).",
            "prefetch": dict(PREFETCH),
        },
    ]}
