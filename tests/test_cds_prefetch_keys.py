"""A resource is the record's whichever prefetch key the EHR sent it under.

``AllergyIntolerance/a1`` (sirolimus) sent twice with other
content, entered in error in the ``allergies`` key and active in the
``medication_requests`` key, was not refused as two resources under one id: an everolimus
draft got no card, and with the two copies swapped the critical card. Which key held which
copy decided. An active sirolimus allergy sent only in the ``medication_requests`` key,
beside an empty ``allergies`` search, was dropped without a word: the key holding no
MedicationRequest was "not the answer to its query", and everything it held was left out.

The facts the tests hold (docs/cds-hooks.md; FHIR names a resource by its type and id,
and CDS Hooks 2.0.1 leaves how a client fills a key to the client):

* a resource of a type its key's query does not ask for is read where it belongs, never
  dropped: an active sirolimus allergy so sent rules out every mTOR inhibitor (I15), and
  the key's own part, answering none of its query, is still listed as not read;
* two different resources under one type and id are refused naming both places, in one
  key or in two, or one read from the FHIR server; the bundle's order and the keys decide
  nothing: the active copy counts for the allergy check, whichever key holds it.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line; the draft orders everolimus (RxNorm 141704).
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

from allergy_support import allergy
from fhir_support import example, fhir_server, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
EVEROLIMUS = {"coding": [{"system": RXNORM, "code": "141704"}]}
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}
CRITICAL = ("Draft order of everolimus: the record lists an allergy or intolerance to an "
            "mTOR inhibitor (sirolimus)")
REPEATED = "must not repeat an id with other content"


def active() -> dict[str, Any]:
    return allergy("a1", code=SIROLIMUS)


def entered_in_error() -> dict[str, Any]:
    entry = allergy("a1", code=SIROLIMUS)
    entry["verificationStatus"]["coding"][0]["code"] = "entered-in-error"
    del entry["clinicalStatus"]
    return entry


def searchset(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"http://ehr.example/fhir/{r['resourceType']}/{r['id']}",
                       "resource": r, "search": {"mode": "match"}} for r in resources]}


#: A paracetamol order of the patient, completed: no drug of the guideline.
PARACETAMOL = {"resourceType": "MedicationRequest", "id": "mr-para", "status": "completed",
               "intent": "order", "subject": {"reference": f"Patient/{PATIENT}"},
               "authoredOn": "2026-03-01",
               "medicationCodeableConcept": {"text": "Paracetamol 1 g tablet"}}


def prefetch(allergies: list[dict[str, Any]], in_orders: list[dict[str, Any]],
             beside_an_order: bool = False) -> dict[str, Any]:
    """The example's prefetch (it holds no MedicationRequest), ``allergies`` in the
    allergies key and ``in_orders`` (of any type) in the medication_requests key, after a
    paracetamol order with ``beside_an_order``."""
    sent = prefetch_of(example(PATIENT))
    sent["allergies"] = searchset(*allergies)
    sent["medication_requests"] = searchset(
        *([PARACETAMOL] if beside_an_order else []), *in_orders)
    return sent


def body(hook: str, sent: dict[str, Any]) -> dict[str, Any]:
    pid = patient_id(example(PATIENT))
    out = hook_request(hook, pid, prefetch=copy.deepcopy(sent))
    if hook == "order-select":
        draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
                 "intent": "order", "subject": {"reference": f"Patient/{pid}"},
                 "medicationCodeableConcept": EVEROLIMUS}
        out["context"].update({
            "selections": ["MedicationRequest/d1"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": draft}]}})
    return out


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('keys') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def cards(client: TestClient, hook: str, sent: dict[str, Any]) -> list[dict[str, Any]]:
    service = ORDER_SELECT if hook == "order-select" else PATIENT_VIEW
    r = client.post(f"/cds-services/{service}", json=body(hook, sent))
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["cards"]
    return found


class TestTwoCopiesInTwoKeys:
    @pytest.mark.parametrize("beside_an_order", [False, True],
                             ids=["the-orders-key-holds-it-alone", "beside-an-order"])
    @pytest.mark.parametrize(("in_allergies", "in_orders"), [
        (entered_in_error, active), (active, entered_in_error)],
        ids=["active-in-the-orders-key", "active-in-the-allergies-key"])
    def test_the_active_copy_counts_whichever_key_holds_it(
            self, client: TestClient, in_allergies: Any, in_orders: Any,
            beside_an_order: bool) -> None:
        """The two bodies reported (the medication_requests key holding the copy
        alone): no card for one, the critical card for the other. Both: the critical card
        (a sirolimus intolerance rules out every mTOR inhibitor, I15), nothing
        proposed."""
        found = cards(client, "order-select",
                      prefetch([in_allergies()], [in_orders()], beside_an_order))
        assert [c["summary"] for c in found if c["indicator"] == "critical"] == [CRITICAL]
        assert not any("suggestions" in c for c in found)

    @pytest.mark.parametrize(("beside_an_order", "at"), [(False, 0), (True, 1)])
    def test_the_record_is_refused_naming_both_places(
            self, client: TestClient, beside_an_order: bool, at: int) -> None:
        """As two copies in one key are: the record cannot be read as one, and the card
        names the id and where each copy was sent."""
        [card] = cards(client, "patient-view",
                       prefetch([entered_in_error()], [active()], beside_an_order))
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert (f"`prefetch.allergies.entry[0]`: {REPEATED} (prefetch.medication_requests."
                f"entry[{at}] is another AllergyIntolerance/a1") in card["detail"]


class TestAResourceInAnotherKey:
    @pytest.mark.parametrize("beside_an_order", [False, True])
    def test_an_allergy_sent_only_in_the_orders_key_rules_its_drug_out(
            self, client: TestClient, beside_an_order: bool) -> None:
        """The allergies search empty, the active sirolimus allergy in the
        medication_requests key: alone there it was dropped (no card)."""
        found = cards(client, "order-select", prefetch([], [active()], beside_an_order))
        assert [c["summary"] for c in found if c["indicator"] == "critical"] == [CRITICAL]

    def test_a_key_holding_only_another_query_s_resources_is_still_not_read(
            self, client: TestClient) -> None:
        """The medication_requests key holding the allergy and no MedicationRequest: the
        allergy is read, and the orders are unknown, listed with why (a key wired to
        another query), never "no order"."""
        sent = prefetch([], [active()])
        head = cards(client, "patient-view", sent)[0]
        assert ("the medication orders: the EHR's answer is not the result of its query: "
                "it holds no MedicationRequest but AllergyIntolerance") in head["detail"]
        assert "**Conditional:**" in head["detail"]


def test_a_copy_read_from_the_fhir_server_is_checked_against_the_other_keys(
        tmp_path: Any) -> None:
    """The allergies prefetch null, the allowed FHIR server answering the allergy search
    with the active copy, the medication_requests key holding the copy entered in error:
    refused naming both, the active one counting."""
    sent = prefetch([], [entered_in_error()])
    sent["allergies"] = None
    served = copy.deepcopy(example(PATIENT))
    served["entry"].append({"resource": active()})
    with fhir_server(served) as (url, _rec):
        app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                   cds=CdsSettings(fhir_servers=(url,))), today=lambda: ON)
        client = TestClient(app, base_url="http://localhost")
        ordered, viewed = body("order-select", sent), body("patient-view", sent)
        ordered["fhirServer"] = viewed["fhirServer"] = url
        found = client.post(f"/cds-services/{ORDER_SELECT}", json=ordered).json()["cards"]
        [card] = client.post(f"/cds-services/{PATIENT_VIEW}", json=viewed).json()["cards"]
    assert [c["summary"] for c in found if c["indicator"] == "critical"] == [CRITICAL]
    assert ("(read from fhirServer)`: " + REPEATED) in card["detail"]
    assert "prefetch.medication_requests.entry[0] is another AllergyIntolerance/a1" \
        in card["detail"]
