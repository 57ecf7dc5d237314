"""A local reference (``#id``) names one contained resource, or the record is not read.

FHIR R4 (references, contained resources): a contained resource is found by its local id
within its container, and that id is unique there. Two different resources contained
under one id make ``#id`` unresolvable: which one was meant cannot be told. Reading the
first one met let the order of two contained Medications decide whether a sirolimus
intolerance was seen: a draft of ``#m1`` holding Paracetamol then Sirolimus got no card.
So, as for two resources under one id in a bundle (docs/fhir.md, docs/cds-hooks.md): a
draft order holding such ids is a 400 naming the entry and the id, a record holding one
is refused naming the resource and the id, and any other ``#id`` pecoma resolves leaves
the medication not identified.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, no systemic line,
mTOR inhibitors recorded available and not contraindicated.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.errors import InputError
from pecoma.fhir.medications import agent_of, resolver_for, unreadable_medication
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of, searchset

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

PARACETAMOL = {"resourceType": "Medication", "id": "m1", "code": {"text": "Paracetamol"}}
SIROLIMUS = {"resourceType": "Medication", "id": "m1", "code": {"text": "Sirolimus"}}
EVEROLIMUS = {"resourceType": "Medication", "id": "m1", "code": {"text": "Everolimus"}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('local-ids') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def sirolimus_intolerance(pid: str) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "siro-intolerance",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/"
                          "allergyintolerance-verification", "code": "confirmed"}]},
            "category": ["medication"], "type": "intolerance",
            "code": {"coding": [{"system": RXNORM, "code": "35302",
                                 "display": "sirolimus"}]},
            "patient": {"reference": f"Patient/{pid}"}}


def order_select(draft_medication: dict[str, Any], *, intolerant: bool,
                 history: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
    """An order-select call for the example's patient: one draft (``draft-1``) with
    ``draft_medication`` merged in; the allergy list holds a confirmed sirolimus
    intolerance when ``intolerant``; ``history`` is added to the medication requests."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    if intolerant:
        prefetch["allergies"] = searchset([sirolimus_intolerance(pid)])
    if history:
        prefetch["medication_requests"] = searchset(
            [*(e["resource"] for e in prefetch["medication_requests"]["entry"]), *history])
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             **copy.deepcopy(draft_medication)}
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    return body


def cards_of(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def everolimus_line(pid: str, contained: list[dict[str, Any]]) -> dict[str, Any]:
    """A completed everolimus order of 2026 (a first line given), its Medication
    contained as ``#m1``."""
    return {"resourceType": "MedicationRequest", "id": "mr-old", "status": "completed",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "authoredOn": "2026-03-02", "contained": copy.deepcopy(contained),
            "medicationReference": {"reference": "#m1"}}


DOXORUBICIN = {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "3639"}]}}


class TestDraftOrders:
    @pytest.mark.parametrize("contained", [[PARACETAMOL, SIROLIMUS], [SIROLIMUS, PARACETAMOL]],
                             ids=["paracetamol-first", "sirolimus-first"])
    def test_two_medications_under_one_local_id_make_the_call_a_400(
        self, client: TestClient, contained: list[dict[str, Any]],
    ) -> None:
        """A draft of ``#m1`` holding Paracetamol and Sirolimus, both ``m1``, for a
        patient with a confirmed sirolimus intolerance: paracetamol first, the call got
        no card at all (the draft read as paracetamol); sirolimus first, the critical
        card. Which was ordered cannot be told: a 400 naming the entry and the id, in
        either order."""
        body = order_select({"contained": contained,
                             "medicationReference": {"reference": "#m1"}}, intolerant=True)
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        [issue] = r.json()["errors"]
        assert issue["path"] == "context.draftOrders.entry[0].resource.contained[1].id"
        assert issue["value"] == "'m1'"
        assert "'#m1' could mean either" in issue["rule"]

    def test_an_ingredient_under_a_repeated_local_id_makes_the_call_a_400(
        self, client: TestClient,
    ) -> None:
        """The same within a contained Medication's ingredient: ``#s1`` naming a
        Substance paracetamol and a Substance sirolimus. The draft had been read as
        "Combination tablet" (no agent, readable): no card."""
        med = {"resourceType": "Medication", "id": "m1", "code": {"text": "Combination tablet"},
               "ingredient": [{"itemReference": {"reference": "#s1"}}]}
        body = order_select({"contained": [
            med, {"resourceType": "Substance", "id": "s1", "code": {"text": "Paracetamol"}},
            {"resourceType": "Substance", "id": "s1", "code": {"text": "Sirolimus"}}],
            "medicationReference": {"reference": "#m1"}}, intolerant=True)
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        [issue] = r.json()["errors"]
        assert issue["path"] == "context.draftOrders.entry[0].resource.contained[2].id"


class TestRecord:
    def test_a_history_record_with_a_repeated_local_id_refuses_the_record(
        self, client: TestClient,
    ) -> None:
        """A completed order of ``#m1`` holding Paracetamol and Everolimus, both ``m1``:
        it had been read as paracetamol (no line), and the doxorubicin draft got
        "Chemotherapy first line" with a sirolimus draft proposed, though an everolimus
        line may have been given. The record is refused as a bundle with two resources
        under one id is: one card naming the resource and the id, nothing proposed."""
        pid = patient_id(example(PATIENT))
        body = order_select(DOXORUBICIN, intolerant=False,
                            history=[everolimus_line(pid, [PARACETAMOL, EVEROLIMUS])])
        [card] = cards_of(client, body)
        assert card["indicator"] == "warning"
        assert "check not possible" in card["summary"]
        assert "`MedicationRequest/mr-old.contained[1].id`" in card["detail"]
        assert "'#m1' could mean either" in card["detail"]
        assert "suggestions" not in card

    def test_to_case_refuses_the_bundle_naming_the_resource_and_the_id(self) -> None:
        """``pecoma fhir to-case`` read the same order as paracetamol, with nothing in
        ``unread`` and no note."""
        bundle = example(PATIENT)
        bundle["entry"].append({"resource": everolimus_line(
            patient_id(bundle), [PARACETAMOL, EVEROLIMUS])})
        with pytest.raises(InputError) as caught:
            case_from_bundle(bundle, on=ON)
        [issue] = caught.value.issues
        assert issue.path == "MedicationRequest/mr-old.contained[1].id"
        assert issue.value == "'m1'"

    def test_a_resource_of_a_type_never_read_is_left_alone(self) -> None:
        """An Encounter holding two contained resources under one id names nothing
        pecoma reads: the record is read as before."""
        bundle = example(PATIENT)
        bundle["entry"].append({"resource": {
            "resourceType": "Encounter", "id": "enc-local-ids", "status": "finished",
            "class": {"code": "AMB"}, "subject": {"reference": f"Patient/{patient_id(bundle)}"},
            "contained": [{"resourceType": "Location", "id": "l1", "name": "A"},
                          {"resourceType": "Location", "id": "l1", "name": "B"}]}})
        assert case_from_bundle(bundle, on=ON).case.systemic.therapies == ()


class TestResolver:
    def test_a_medication_held_by_id_whose_ingredient_id_repeats_is_not_identified(
        self,
    ) -> None:
        """A Medication resolved by ``Medication/combo`` (a prefetch's or a bundle's)
        whose ingredient ``#s1`` names two different contained Substances: read as
        "Combination tablet" (paracetamol the ingredient), it had been readable and no
        agent. Not identified, with why."""
        med = {"resourceType": "Medication", "id": "combo",
               "code": {"text": "Combination tablet"},
               "contained": [
                   {"resourceType": "Substance", "id": "s1", "code": {"text": "Paracetamol"}},
                   {"resourceType": "Substance", "id": "s1", "code": {"text": "Sirolimus"}}],
               "ingredient": [{"itemReference": {"reference": "#s1"}}]}
        order = {"resourceType": "MedicationRequest", "status": "draft", "intent": "order",
                 "medicationReference": {"reference": "Medication/combo"}}
        resolve = resolver_for([med])
        assert agent_of(order, resolve) is None
        why = unreadable_medication(order, resolve)
        assert why is not None and "'#s1' names two different contained resources" in why


class TestOrdinaryPaths:
    """What a unique local id gave before, it still gives."""

    @pytest.mark.parametrize("contained", [[SIROLIMUS], [SIROLIMUS, copy.deepcopy(SIROLIMUS)],
                                           [PARACETAMOL | {"id": "p1"}, SIROLIMUS]],
                             ids=["one", "one-written-twice", "two-ids"])
    def test_a_contained_sirolimus_draft_gets_the_intolerance_card(
        self, client: TestClient, contained: list[dict[str, Any]],
    ) -> None:
        """A draft of ``#m1``, Sirolimus (alone, the same resource written twice, or
        beside a Paracetamol under another id), for a patient with a confirmed sirolimus
        intolerance: the critical card."""
        body = order_select({"contained": contained,
                             "medicationReference": {"reference": "#m1"}}, intolerant=True)
        critical = [c for c in cards_of(client, body) if c["indicator"] == "critical"]
        assert len(critical) == 1
        assert critical[0]["summary"] == ("Draft order of sirolimus: the record lists an "
                                          "allergy or intolerance to sirolimus")

    def test_a_contained_everolimus_line_is_a_line_given(self, client: TestClient) -> None:
        """An everolimus line given (its Medication contained under a unique id): the
        doxorubicin draft is not the first line, so no first-line warning."""
        pid = patient_id(example(PATIENT))
        body = order_select(DOXORUBICIN, intolerant=False,
                            history=[everolimus_line(pid, [EVEROLIMUS])])
        assert cards_of(client, body) == []
        bundle = example(PATIENT)
        bundle["entry"].append({"resource": everolimus_line(pid, [EVEROLIMUS])})
        [line] = case_from_bundle(bundle, on=ON).case.systemic.therapies
        assert line.agent is Agent.everolimus
