"""A course the record shows being taken now counts as given now, whatever its kind.

Beside an allergy to the drug, patient-view raised the critical card for an order or a
statement under way, and for a dispense still in the pharmacy (``in-progress``: planned),
but not for:

- a dispense handed over (``completed``) yesterday or today with a supply covering today:
  the patient holds the drug and is taking it now; the state less safe than a dispense
  still being prepared was the quieter one;
- administrations given (``completed``) week after week up to today: each one is
  completed, the course is not;
- a statement, an order or an administration of status ``unknown``, started and with no
  end: the status does not say whether the drug goes on, so it may (unknown is not
  absent); the card is taken, worded as possibly given now.

Never letting a drug a recorded intolerance rules out pass silently (I15) matters most
for a drug being taken. The rule is the reader's one rule of "given now"
(``pecoma.fhir.medications.now_given``), which ``BundleCase.running`` holds.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the service's today is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.medications import now_given
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
SUBJECT = {"reference": "Patient/pat-1003"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DRUGS = {
    "sirolimus": {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]},
    "temsirolimus": {"coding": [{"system": RXNORM, "code": "657797",
                                 "display": "temsirolimus"}]},
    "everolimus": {"coding": [{"system": RXNORM, "code": "141704",
                               "display": "everolimus"}]},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('taken-now') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def _allergy(drug: str) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "a-1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                "code": "confirmed"}]},
            "category": ["medication"], "code": DRUGS[drug], "patient": SUBJECT}


def dispense(drug: str, handed: str | None, supply: dict[str, Any] | None = None,
             status: str = "completed", rid: str = "md-1") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationDispense", "id": rid,
                           "status": status, "subject": SUBJECT,
                           "medicationCodeableConcept": DRUGS[drug]}
    if handed is not None:
        res["whenHandedOver"] = handed
    if supply is not None:
        res["daysSupply"] = supply
    return res


def days(n: float, code: str = "d") -> dict[str, Any]:
    return {"value": n, "unit": code, "system": "http://unitsofmeasure.org", "code": code}


def administration(drug: str, day: str, rid: str, status: str = "completed"
                   ) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": rid, "status": status,
            "subject": SUBJECT, "medicationCodeableConcept": DRUGS[drug],
            "effectiveDateTime": day}


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


def _order_cards(cards: list[dict[str, Any]], name: str, said: str = "given now"
                 ) -> list[dict[str, Any]]:
    return [c for c in cards if c["indicator"] == "critical"
            and c["summary"].startswith(f"Order of {name} {said} in the record")]


# ---------------------------------------------------------------- dispensed, administered

TAKEN_NOW = {
    # handed over yesterday, 30 days' supply: the patient takes it now
    "dispensed-yesterday-30-days": lambda d: [dispense(d, "2026-11-27", days(30))],
    # handed over this morning, in its own offset
    "dispensed-today": lambda d: [dispense(d, "2026-11-28T09:00:00+01:00", days(30))],
    # handed over today with no supply given: the drug is in the patient's hands today
    "dispensed-today-no-supply": lambda d: [dispense(d, "2026-11-28")],
    # a supply of 4 weeks handed over on 3 November lasts to 30 November
    "dispensed-4-weeks": lambda d: [dispense(d, "2026-11-03", days(4, "wk"))],
    # a month's supply handed over on 30 October (a month read as 31 days, the longer)
    "dispensed-a-month": lambda d: [dispense(d, "2026-10-30", days(1, "mo"))],
    # weekly infusions up to this morning
    "weekly-up-to-today": lambda d: [administration(d, day, f"ma-{i}") for i, day in
                                     enumerate(("2026-11-14", "2026-11-21", "2026-11-28"))],
    # weekly infusions, the last one six days ago: the next is due in a day
    "weekly-next-due": lambda d: [administration(d, day, f"ma-{i}") for i, day in
                                  enumerate(("2026-11-08", "2026-11-15", "2026-11-22"))],
    # three-weekly, listed out of order, the last one 20 days ago
    "three-weekly-unordered": lambda d: [administration(d, day, f"ma-{i}") for i, day in
                                         enumerate(("2026-11-08", "2026-10-18"))],
    # one administration today
    "given-today": lambda d: [administration(d, "2026-11-28", "ma-1")],
}


@pytest.mark.parametrize("drug", ["sirolimus", "temsirolimus"])
@pytest.mark.parametrize("course", list(TAKEN_NOW), ids=list(TAKEN_NOW))
def test_a_course_taken_now_beside_its_allergy_gets_the_critical_card(
        client: TestClient, course: str, drug: str) -> None:
    """The drug handed over with a supply covering today, or administered at intervals up
    to today, is given now: beside an allergy to it, one critical card of
    ALERT-DRUG-INTOLERANCE (I15) names the record standing for the course, as for an
    active order; never one card per administration."""
    resources = TAKEN_NOW[course](drug)
    cards = _cards(client, _record(*resources, _allergy(drug)))
    [card] = _order_cards(cards, drug)
    assert f"allergy or intolerance to {drug}" in card["summary"]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
    latest = max(resources, key=lambda r: str(r.get("effectiveDateTime", "")))
    assert f"{latest['resourceType']}/{latest['id']}: {drug}, given now" in card["detail"]


OVER = {
    # 30 days handed over on 1 October: finished on 30 October
    "supply-ended": [dispense("sirolimus", "2026-10-01", days(30))],
    # handed over a week ago, no supply given: how long it lasts is not said
    "no-supply-last-week": [dispense("sirolimus", "2026-11-21")],
    # a supply in a unit pecoma does not read
    "supply-in-packs": [dispense("sirolimus", "2026-11-21", days(2, "pack"))],
    # still in the pharmacy: the planned card, not "given now"
    "being-prepared": [dispense("sirolimus", "2026-11-27", days(30), status="in-progress")],
    # weekly up to three weeks ago: over
    "weekly-ended": [administration("sirolimus", day, f"ma-{i}") for i, day in
                     enumerate(("2026-10-24", "2026-10-31", "2026-11-07"))],
    # one administration 50 days ago, longer than a usual interval between doses and one
    # more for a delayed next dose (a lone dose of 10 or 30 days ago may be a line still
    # running, possibly given now: tests/test_administration_lone_dose*.py)
    "single-dose-past": [administration("sirolimus", "2026-10-09", "ma-1")],
    # not given
    "not-done-today": [administration("sirolimus", "2026-11-28", "ma-1", status="not-done")],
}


@pytest.mark.parametrize("course", list(OVER), ids=list(OVER))
def test_a_course_not_shown_taken_now_gets_no_given_now_card(client: TestClient,
                                                             course: str) -> None:
    """A supply run out, a course of doses past its next due day, a single past dose, a
    dispense not handed over: not given now (the allergy list's other consequences, for
    what is proposed, are unchanged)."""
    cards = _cards(client, _record(*OVER[course], _allergy("sirolimus")))
    assert not _order_cards(cards, "sirolimus")
    assert not _order_cards(cards, "sirolimus", "possibly given now")


def test_the_reader_lists_the_latest_administration_as_the_course_given_now() -> None:
    """``BundleCase.running`` holds the latest administration of a weekly course, saying
    how it is read; every administration stays a line given (one line)."""
    bc = case_from_bundle(_record(*TAKEN_NOW["weekly-next-due"]("temsirolimus")), on=ON)
    assert [(p.where, p.how) for p in bc.running] == [
        ("MedicationAdministration/ma-2",
         "given now (status 'completed': given at intervals of 7 days, the last dose "
         "2026-11-22, the next due 2026-11-29)")]
    assert [t.agent.value for t in bc.case.systemic.therapies] == ["temsirolimus"]


def test_the_reader_says_how_long_a_dispensed_supply_lasts() -> None:
    bc = case_from_bundle(_record(dispense("sirolimus", "2026-11-27", days(30))), on=ON)
    assert [(p.where, p.how, p.unsure) for p in bc.running] == [
        ("MedicationDispense/md-1", "given now (status 'completed', handed over 2026-11-27 "
         "with 30 days' supply, lasting to 2026-12-26)", False)]


# ---------------------------------------------------------------- status unknown

def _unknown(kind: str, drug: str = "sirolimus", end: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": kind, "id": "u-1", "status": "unknown",
                           "subject": SUBJECT, "medicationCodeableConcept": DRUGS[drug]}
    if kind == "MedicationRequest":
        res["intent"] = "order"
        res["authoredOn"] = "2026-11-15"
        if end is not None:
            res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {
                "start": "2026-11-15", "end": end}}}}]
    else:
        res["effectivePeriod"] = {"start": "2026-11-15", **({"end": end} if end else {})}
    return res


UNKNOWN_KINDS = ["MedicationStatement", "MedicationRequest", "MedicationAdministration"]


@pytest.mark.parametrize("drug", ["sirolimus", "everolimus"])
@pytest.mark.parametrize("kind", UNKNOWN_KINDS)
def test_a_course_of_unknown_status_started_and_not_ended_gets_the_card(
        client: TestClient, kind: str, drug: str) -> None:
    """Status ``unknown``, started on 15 November, no end: the record does not say whether
    the drug goes on, so it may be given now. Unknown is not absent: the critical card is
    taken, worded as possibly given now, and says why."""
    cards = _cards(client, _record(_unknown(kind, drug), _allergy(drug)))
    [card] = _order_cards(cards, drug, "possibly given now")
    assert f"{kind}/u-1: {drug}, possibly given now (status 'unknown'" in card["detail"]
    assert "does not say whether it goes on" in card["detail"]
    assert not _order_cards(cards, drug)


@pytest.mark.parametrize("kind", UNKNOWN_KINDS)
def test_a_course_of_unknown_status_ended_before_today_gets_no_card(
        client: TestClient, kind: str) -> None:
    """Status ``unknown`` but its dates end on 20 November: over by today whatever its
    status, no 'possibly given now' card."""
    cards = _cards(client, _record(_unknown(kind, end="2026-11-20"), _allergy("sirolimus")))
    assert not _order_cards(cards, "sirolimus", "possibly given now")


def test_an_unknown_status_with_a_plan_intent_is_no_course_given() -> None:
    """An order of intent ``plan`` is no order to give, whatever its status: not given
    now (the rule reads the record as its status under way would be)."""
    plan = {**_unknown("MedicationRequest"), "intent": "plan"}
    assert now_given(plan, ON) is None
    assert now_given(_unknown("MedicationRequest"), ON) is not None
