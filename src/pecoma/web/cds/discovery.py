"""The services pecoma offers (CDS Hooks 2.0 discovery) and the data each one reads."""

from __future__ import annotations

from typing import Any, Final

__all__ = ["ORDER_SELECT", "PATIENT_VIEW", "PREFETCH", "SERVICES", "discovery"]

PATIENT_VIEW: Final = "pecoma-patient-view"
ORDER_SELECT: Final = "pecoma-order-select"
SERVICES: Final = {PATIENT_VIEW: "patient-view", ORDER_SELECT: "order-select"}

#: Prefetch templates: every resource type the FHIR reader uses. A key the EHR sends as
#: null or as an OperationOutcome is fetched from ``fhirServer`` (when allowed) with the
#: same query, else that part of the record is unknown.
PREFETCH: Final[dict[str, str]] = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "procedures": "Procedure?patient={{context.patientId}}",
    "medications": "MedicationStatement?patient={{context.patientId}}",
    "medication_requests": "MedicationRequest?patient={{context.patientId}}",
    "medication_administrations": "MedicationAdministration?patient={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}

#: What each prefetch key is, in the words a card uses when it is unknown.
PREFETCH_MEANING: Final[dict[str, str]] = {
    "patient": "the patient resource",
    "conditions": "the conditions (diagnoses, metastases)",
    "observations": "the observations (tumour size, pathology, markers, status)",
    "procedures": "the procedures (resections)",
    "medications": "the medication statements",
    "medication_requests": "the medication orders",
    "medication_administrations": "the medication administrations",
    "allergies": "the allergies and intolerances",
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
