"""An order still running of a drug the allergy list rules out gets the critical card on
patient-view, as a planned one does.

A sirolimus order active since last month (started, no end) beside a recorded sirolimus
allergy had no card at all: only orders planned and not given yet were checked against
the allergy list, and the same order written to start next week got the critical card.
The drug is given now: never recommending (nor staying silent about) a drug a recorded
intolerance rules out (I15) matters more for an order running than for one planned. The
allergy may have been recorded after the order began; the order is still in place.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the service's today is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}
PACLITAXEL = {"coding": [{"system": RXNORM, "code": "56946", "display": "paclitaxel"}]}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('running') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def _allergy(code: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "a-1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "category": ["medication"], "code": code,
            "patient": {"reference": "Patient/pat-1003"}}


def _order(drug: dict[str, Any], start: str = "2026-11-01", end: str | None = None,
           status: str = "active") -> dict[str, Any]:
    bounds = {"start": start, **({"end": end} if end else {})}
    return {"resourceType": "MedicationRequest", "id": "mr-1", "status": status,
            "intent": "order", "subject": {"reference": "Patient/pat-1003"},
            "authoredOn": "2026-10-30", "medicationCodeableConcept": drug,
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": bounds}}}]}


def _statement(drug: dict[str, Any], period: dict[str, str], status: str = "active"
               ) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": "ms-1", "status": status,
            "subject": {"reference": "Patient/pat-1003"},
            "medicationCodeableConcept": drug, "effectivePeriod": period}


def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    bundle["entry"] += [{"resource": r} for r in resources]
    return bundle


def _cards(client: TestClient, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _given_now(cards: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [c for c in cards if c["indicator"] == "critical"
            and c["summary"].startswith(f"Order of {name} given now in the record")]


Record = Callable[[], dict[str, Any]]


@pytest.mark.parametrize("running", [
    lambda: _order(SIROLIMUS),
    lambda: _statement(SIROLIMUS, {"start": "2026-10-01"}),
    lambda: _order(SIROLIMUS, end="2027-02-01"),
], ids=["order-no-end", "statement-no-end", "order-ending-later"])
def test_a_running_order_the_allergy_list_rules_out_gets_the_critical_card(
        client: TestClient, running: Record) -> None:
    """Sirolimus given now (an active order since 2026-11-01, an active statement since
    October, an order whose dosing ends in February) beside a sirolimus allergy: the
    critical card of ALERT-DRUG-INTOLERANCE (I15), naming the record and saying it is
    given now, not planned."""
    res = running()
    cards = _cards(client, _record(res, _allergy(SIROLIMUS)))
    [card] = _given_now(cards, "sirolimus")
    assert "allergy or intolerance to sirolimus" in card["summary"]
    assert f"{res['resourceType']}/{res['id']}: sirolimus, given now" in card["detail"]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
    assert not [c for c in cards if "planned in the record" in c["summary"]]


def test_a_running_order_of_a_drug_named_one_by_one_gets_the_card(client: TestClient
                                                                  ) -> None:
    """Paclitaxel ("other chemotherapy" to the case format) given now beside a
    paclitaxel allergy: the card names the drug, as a planned paclitaxel order's does."""
    cards = _cards(client, _record(_order(PACLITAXEL), _allergy(PACLITAXEL)))
    assert len(_given_now(cards, "paclitaxel")) == 1


@pytest.mark.parametrize("ended", [
    lambda: _statement(SIROLIMUS, {"start": "2026-06-01", "end": "2026-10-01"}),
    lambda: _order(SIROLIMUS, start="2026-06-01", end="2026-10-01"),
    lambda: _order(SIROLIMUS, status="stopped"),
    lambda: _order(SIROLIMUS, status="completed"),
], ids=["statement-ended", "order-ended", "stopped", "completed"])
def test_an_order_that_is_over_gets_no_given_now_card(client: TestClient,
                                                      ended: Record) -> None:
    """A sirolimus line that ended before today (its period over, stopped, completed) is
    a line given, not a drug given now: no 'given now' card (the allergy list's other
    consequences, for what is proposed, are unchanged)."""
    cards = _cards(client, _record(ended(), _allergy(SIROLIMUS)))
    assert not _given_now(cards, "sirolimus")


def test_no_card_when_no_allergy_rules_the_running_drug_out(client: TestClient) -> None:
    """The running sirolimus order beside a penicillin allergy only: no allergy card."""
    cards = _cards(client, _record(_order(SIROLIMUS), _allergy({"text": "Penicillin"})))
    assert not [c for c in cards if c["indicator"] == "critical"]


def test_the_reader_lists_the_order_given_now() -> None:
    """The FHIR reader keeps the running order apart from the planned ones: a line given
    (in the case) and an order given now (``BundleCase.running``), never planned."""
    bc = case_from_bundle(_record(_order(SIROLIMUS)), on=ON)
    assert [(p.where, p.agent.value) for p in bc.running] == [
        ("MedicationRequest/mr-1", "sirolimus")]
    assert bc.planned == ()
    assert [t.agent.value for t in bc.case.systemic.therapies] == ["sirolimus"]
