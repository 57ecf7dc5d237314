"""CDS Hooks: an mTOR inhibitor the record says was stopped for an intolerance.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, mTOR inhibitors
recorded available and not contraindicated. The record adds an everolimus order
(RxNorm 141704) ``stopped`` with the ``statusReason`` SNOMED CT 59037007 Drug
intolerance, "grade 3 pneumonitis". Everolimus is then not tolerated and, no other mTOR
inhibitor being shown tolerated, every mTOR inhibitor is ruled out (I15), as it is for
an AllergyIntolerance naming everolimus:

* patient-view: no first-line mTOR advice, and the everolimus line is not called "the
  advice under way" (ALERT-MTOR-GIVEN);
* order-select: a sirolimus draft gets the critical card of a drug the record rules out.

The same order stopped for disease progression rules nothing out: the reference point.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
INTOLERANCE = {"coding": [{"system": "http://snomed.info/sct", "code": "59037007",
                           "display": "Drug intolerance (disorder)"}],
               "text": "Stopped: grade 3 pneumonitis on everolimus"}
PROGRESSION = {"text": "Disease progression"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("stopped")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()), today=lambda: ON),
                      base_url="http://localhost")


def record(reason: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationRequest", "id": "evero-1", "status": "stopped",
        "intent": "order", "subject": {"reference": f"Patient/{patient_id(bundle)}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "141704",
                                                  "display": "everolimus"}]},
        "statusReason": reason, "authoredOn": "2026-09-20",
        "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
            "start": "2026-09-21", "end": "2026-10-30"}}}}]}})
    return bundle


def cards(client: TestClient, service: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["cards"]
    return found


def patient_view(client: TestClient, reason: dict[str, Any]) -> list[dict[str, Any]]:
    bundle = record(reason)
    body = hook_request("patient-view", patient_id(bundle))
    body["prefetch"] = prefetch_of(bundle)
    return cards(client, PATIENT_VIEW, body)


def sirolimus_draft(client: TestClient, reason: dict[str, Any],
                    rxnorm: str = "35302") -> list[dict[str, Any]]:
    """The cards on a draft of sirolimus (or of the drug of ``rxnorm``)."""
    bundle = record(reason)
    pid = patient_id(bundle)
    draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm}]}}
    body = hook_request("order-select", pid)
    body["prefetch"] = prefetch_of(bundle)
    body["context"].update({
        "selections": ["MedicationRequest/d1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    return cards(client, ORDER_SELECT, body)


def details(found: list[dict[str, Any]]) -> str:
    return " ".join(c["detail"] for c in found)


class TestPatientView:
    def test_no_mtor_advice_after_an_mtor_inhibitor_not_tolerated(
            self, client: TestClient) -> None:
        """Stopped for progression (no intolerance): the progression is read from the
        statusReason (tests/test_fhir_progression_reason.py), so the advice is the one
        after progression on an mTOR inhibitor (S28), never the intolerance's (S14).
        Stopped for pneumonitis, no mTOR inhibitor is advised, and the line is not called
        the advice under way; the anthracycline option of S14 is shown, and the note
        quotes why the record stopped everolimus."""
        [summary] = patient_view(client, PROGRESSION)
        assert "After progression on an mTOR inhibitor" in summary["detail"]
        assert "Anthracycline-based chemotherapy can be considered" not in summary["detail"]

        detail = details(patient_view(client, INTOLERANCE))
        assert "An mTOR inhibitor is the first-line" not in detail
        assert "advice under way" not in detail
        assert "Anthracycline-based chemotherapy can be considered" in detail
        assert "grade 3 pneumonitis" in detail


class TestOrderSelect:
    def test_a_sirolimus_draft_after_everolimus_not_tolerated_is_critical(
            self, client: TestClient) -> None:
        """Stopped for progression, a sirolimus draft gets no card. Stopped for
        pneumonitis, it gets the allergy check's critical card: everolimus not tolerated
        rules out every mTOR inhibitor, sirolimus included (I15)."""
        assert sirolimus_draft(client, PROGRESSION) == []

        [card] = sirolimus_draft(client, INTOLERANCE)
        assert card["indicator"] == "critical"
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
        assert card["summary"].startswith("Draft order of sirolimus:")
        assert "everolimus" in card["summary"]

    def test_an_everolimus_draft_after_toxicity_beside_no_progression_is_critical(
            self, client: TestClient) -> None:
        """Everolimus stopped "due to toxicity; no progression": the "no" is of the
        progression, not of the toxicity. It had been read as a reason to check, and a new
        everolimus draft got no card; it is an intolerance of everolimus, and the draft
        gets the critical card, as it does after "Toxicity (stomatitis), not progression"."""
        for text in ("Stopped due to toxicity; no progression",
                     "Toxicity (stomatitis), not progression"):
            [card] = sirolimus_draft(client, {"text": text}, rxnorm="141704")
            assert card["indicator"] == "critical"
            assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
            assert card["summary"].startswith("Draft order of everolimus:")
