"""The services pecoma offers (CDS Hooks 2.0 discovery) and the data each one reads."""

from __future__ import annotations

from typing import Any, Final

from pecoma.fhir.caveats import (
    MEDICATION_CANCERS,
    MEDICATION_STARTS,
    UNIDENTIFIED_MEDICATIONS,
    UNKNOWN_MEANING,
    VITAL_STATUS,
)
from pecoma.fhir.searches import MEDICATION_PARTS

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

#: The parts of a record named unknown besides the prefetch keys (what the record holds,
#: not what was sent), and what each part is in the words a card uses when it is
#: unknown: the FHIR reader's (:mod:`pecoma.fhir.caveats`), which the CarePlan uses too.
PREFETCH_MEANING: Final[dict[str, str]] = UNKNOWN_MEANING


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
