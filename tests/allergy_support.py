"""Support for the tests of what an allergy list names: one record, read by ``pecoma fhir
to-case`` and by the two CDS services.

The record is the shipped example ``metastatic-lung-metachronous``: metastatic PEComa of
the kidney, no systemic line given, mTOR inhibitors recorded available and **not
contraindicated** (the project's Observation). With nothing on the allergy list, a
doxorubicin draft gets the warning "Chemotherapy first line ..." (S02, S12) and the
suggestion "Replace with an mTOR inhibitor (here sirolimus, as an example draft; the team
chooses)"; the tests add the
hand-written entries they are about.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
PATIENT = "pat-1003"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}
EVEROLIMUS = {"coding": [{"system": RXNORM, "code": "141704", "display": "everolimus"}]}
DOXORUBICIN = {"coding": [{"system": RXNORM, "code": "3639", "display": "doxorubicin"}]}

Change = Callable[[dict[str, Any]], None]


def make_client(tmp: Path) -> TestClient:
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()), today=lambda: ON),
                      base_url="http://localhost")


def allergy(rid: str = "a1", **fields: Any) -> dict[str, Any]:
    """An active, confirmed medication AllergyIntolerance of the patient, with ``fields``
    (its ``code``, ``reaction``, ``note``)."""
    return {"resourceType": "AllergyIntolerance", "id": rid,
            "patient": {"reference": f"Patient/{PATIENT}"},
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "code": "confirmed"}]},
            "category": ["medication"], **fields}


def record(*resources: dict[str, Any]) -> dict[str, Any]:
    """The example record with ``resources`` added."""
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    assert patient_id(bundle) == PATIENT
    bundle["entry"] += [{"resource": copy.deepcopy(r)} for r in resources]
    return bundle


def to_case(tmp: Path, bundle: dict[str, Any]) -> dict[str, Any]:
    """What ``pecoma fhir to-case --details`` prints for the bundle."""
    path = tmp / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    run = run_cli("fhir", "to-case", "--details", "--on", ON.isoformat(), str(path))
    assert run.returncode == 0, run.stderr
    details: dict[str, Any] = json.loads(run.stdout)
    return details


def _post(client: TestClient, service: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def patient_view(client: TestClient, bundle: dict[str, Any],
                 change: Change | None = None) -> list[dict[str, Any]]:
    """The patient-view cards for the record (``change`` edits the prefetch)."""
    prefetch = prefetch_of(bundle)
    if change is not None:
        change(prefetch)
    return _post(client, PATIENT_VIEW, hook_request("patient-view", PATIENT,
                                                    prefetch=prefetch))


def order_select(client: TestClient, bundle: dict[str, Any], medication: dict[str, Any],
                 change: Change | None = None) -> list[dict[str, Any]]:
    """The order-select cards for a draft of ``medication`` (a CodeableConcept)."""
    prefetch = prefetch_of(bundle)
    if change is not None:
        change(prefetch)
    draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{PATIENT}"},
             "medicationCodeableConcept": medication}
    body = hook_request("order-select", PATIENT, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/d1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    return _post(client, ORDER_SELECT, body)


def proposed(cards: list[dict[str, Any]]) -> bool:
    """Whether a card proposes a drug (a suggestion drafting an order)."""
    return any("suggestions" in card for card in cards)


def critical(cards: list[dict[str, Any]]) -> list[str]:
    """The summaries of the critical cards."""
    return [c["summary"] for c in cards if c["indicator"] == "critical"]


def details(cards: list[dict[str, Any]]) -> str:
    return " ".join(" ".join(c["detail"].split()) for c in cards)
