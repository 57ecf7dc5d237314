"""An order on hold of a drug the allergy list rules out gets the critical card, as a
running one does.

A sirolimus MedicationRequest ``on-hold`` (intent ``order``, started last month, no end)
beside a recorded sirolimus allergy had no card on patient-view: only orders planned and
not given yet, and orders ``active`` (given now), were checked against the allergy list.
An order on hold is suspended, not ended (FHIR R4 medicationrequest-status: "actions
implied by the prescription are to be temporarily halted, but are expected to continue
later"): it can be resumed at any time, by anyone, without a new order being written, so
no order-select check would ever see it again. It gets the same critical card as an
active one (ALERT-DRUG-INTOLERANCE, I15), worded "on hold"; so does a statement or an
administration on hold. The case reads it as before: a line given (the course started),
not ended, now with a note saying it is on hold.

An order on hold with intent ``plan``, or whose first day is still to come, is a planned
order and already got the "planned" card: shown here too.

The record is the shipped example ``metastatic-lung-metachronous`` (see
``allergy_support``; the service's today is 2026-12-06).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.reader import case_from_bundle

from allergy_support import (
    ON,
    PATIENT,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    make_client,
    patient_view,
    record,
    to_case,
)

PACLITAXEL = {"coding": [{"system": RXNORM, "code": "56946", "display": "paclitaxel"}]}
SUBJECT = {"reference": f"Patient/{PATIENT}"}


def request(drug: dict[str, Any], *, status: str = "on-hold", intent: str = "order",
            start: str = "2026-11-01", end: str | None = None) -> dict[str, Any]:
    bounds = {"start": start, **({"end": end} if end else {})}
    return {"resourceType": "MedicationRequest", "id": "mr-1", "status": status,
            "intent": intent, "subject": SUBJECT, "authoredOn": "2026-10-30",
            "medicationCodeableConcept": drug,
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": bounds}}}]}


def statement(drug: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "id": "ms-1", "status": "on-hold",
            "subject": SUBJECT, "medicationCodeableConcept": drug,
            "effectivePeriod": {"start": "2026-10-01"}}


def administration(drug: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": "mad-1", "status": "on-hold",
            "subject": SUBJECT, "medicationCodeableConcept": drug,
            "effectivePeriod": {"start": "2026-11-01"}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("on-hold"))


class TestPatientView:
    @pytest.mark.parametrize("held", [
        pytest.param(request(SIROLIMUS), id="request-order"),
        pytest.param(statement(SIROLIMUS), id="statement"),
        pytest.param(administration(SIROLIMUS), id="administration"),
    ])
    def test_a_held_order_the_allergy_list_rules_out_is_critical(
            self, client: TestClient, held: dict[str, Any]) -> None:
        """Sirolimus on hold beside a sirolimus allergy: the critical card of
        ALERT-DRUG-INTOLERANCE naming the record, saying it is on hold and may be
        resumed."""
        cards = patient_view(client, record(held, allergy(code=SIROLIMUS)))
        [card] = [c for c in cards if c["indicator"] == "critical"]
        assert card["summary"] == ("Order of sirolimus on hold in the record: the record "
                                   "lists an allergy or intolerance to sirolimus")
        assert f"{held['resourceType']}/{held['id']}: sirolimus, on hold" in card["detail"]
        assert "may be resumed at any time" in card["detail"]
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    def test_a_held_order_of_a_drug_named_one_by_one_is_critical(self, client: TestClient
                                                                 ) -> None:
        """Paclitaxel ("other chemotherapy") on hold beside a paclitaxel allergy: the card
        names the drug (HAZ-081)."""
        cards = patient_view(client, record(request(PACLITAXEL), allergy(code=PACLITAXEL)))
        assert critical(cards) == [
            "Order of paclitaxel on hold in the record: the record lists an allergy or "
            "intolerance to paclitaxel (AllergyIntolerance/a1)"]

    @pytest.mark.parametrize("held", [
        pytest.param(request(SIROLIMUS, intent="plan"), id="intent-plan"),
        pytest.param(request(SIROLIMUS, start="2027-01-05"), id="starting-later"),
    ])
    def test_a_held_order_not_started_is_a_planned_one(self, client: TestClient,
                                                       held: dict[str, Any]) -> None:
        """Already so before: an order on hold of intent plan, or whose first day is to
        come, is planned and gets the planned card."""
        cards = patient_view(client, record(held, allergy(code=SIROLIMUS)))
        assert critical(cards) == [
            "Order of sirolimus planned in the record: the record lists an allergy or "
            "intolerance to sirolimus"]

    def test_a_held_order_that_has_ended_gets_no_card(self, client: TestClient) -> None:
        """Its dosing period ended in October: a line given and over, no order in place."""
        ended = request(SIROLIMUS, start="2026-06-01", end="2026-10-01")
        assert critical(patient_view(client, record(ended, allergy(code=SIROLIMUS)))) == []

    def test_no_card_when_no_allergy_rules_the_drug_out(self, client: TestClient) -> None:
        """Sirolimus on hold beside a penicillin allergy only: no allergy card."""
        cards = patient_view(client, record(request(SIROLIMUS),
                                            allergy(code={"text": "Penicillin"})))
        assert critical(cards) == []


class TestReader:
    def test_the_held_order_is_a_line_given_and_an_order_in_place(self) -> None:
        """A course on hold was started and has not ended: one sirolimus line from
        2026-11-01 with no end, the record listed among the orders in place
        (``BundleCase.running``, held), never among the planned ones."""
        bc = case_from_bundle(record(request(SIROLIMUS)), on=ON)
        assert [(t.agent.value, t.started_on) for t in bc.case.systemic.therapies] == [
            ("sirolimus", ON.replace(month=11, day=1))]
        assert [(p.where, p.agent.value, p.held) for p in bc.running] == [
            ("MedicationRequest/mr-1", "sirolimus", True)]
        assert bc.planned == ()

    def test_to_case_notes_the_order_on_hold(self, tmp_path: Path) -> None:
        """``pecoma fhir to-case`` says the line is on hold and may be resumed."""
        found = to_case(tmp_path, record(request(SIROLIMUS)))
        assert [t["agent"] for t in found["case"]["systemic"]["therapies"]] == ["sirolimus"]
        assert any(n.startswith("MedicationRequest/mr-1: sirolimus on hold")
                   and "may be resumed at any time" in n for n in found["notes"])

    def test_an_active_order_is_not_held(self) -> None:
        """The reference point: an active order is given now, not held."""
        bc = case_from_bundle(record(request(SIROLIMUS, status="active")), on=ON)
        assert [p.held for p in bc.running] == [False]
