"""A medication record stopped for a reason pecoma cannot judge, checked against every
order: the orders the record holds on patient-view as the drafts on order-select, every
drug concerned named.

Everolimus stopped for "mouth ulcers, could not continue" (stomatitis, the commonest
toxicity of the mTOR inhibitors; pecoma cannot tell whether it says the drug was not
tolerated) would, were it an intolerance, rule out every mTOR inhibitor (I15).
order-select warned on a sirolimus draft beside it, but patient-view said nothing of a
sirolimus order already written in the record, planned or under way: the same order,
unchecked, passed in silence once saved. And a draft naming two drugs each of which such
a record would rule out got a warning naming the first drug and its record only.

One rule in one place (``pecoma.web.cds.allergies.unjudged_stops_card``, on
``DrugSafety.unjudged``): each order, drafted or in the record, whose drugs such records
would rule out gets one warning naming every drug concerned and every record, its drug
and its reason; a reason read as an intolerance keeps the critical card alone.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the service's today is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
SUBJECT = {"reference": "Patient/pat-1003"}
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DRUGS = {
    "sirolimus": {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]},
    "everolimus": {"coding": [{"system": RXNORM, "code": "141704",
                               "display": "everolimus"}]},
    "doxorubicin": {"coding": [{"system": RXNORM, "code": "3639",
                                "display": "doxorubicin"}]},
}
MOUTH_ULCERS = "mouth ulcers, could not continue"
HYPERGLYCAEMIA = "severe hyperglycaemia"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('unjudged-orders') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def _stopped(drug: str, reason: str, rid: str = "s1") -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "stopped",
            "intent": "order", "subject": SUBJECT, "medicationCodeableConcept": DRUGS[drug],
            "statusReason": {"text": reason},
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
                "start": "2025-07-01", "end": "2025-09-01"}}}}]}


def _order(drug: str, status: str, start: str, rid: str = "o1") -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": rid, "status": status,
            "intent": "order", "subject": SUBJECT, "medicationCodeableConcept": DRUGS[drug],
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
                "start": start}}}}]}


def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    bundle["entry"] += [{"resource": r} for r in resources]
    return bundle


def _warnings(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if c["indicator"] == "warning"
            and "stopped for a reason pecoma cannot judge" in c["summary"]]


def _patient_view(client: TestClient, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _order_select(client: TestClient, bundle: dict[str, Any], draft: dict[str, Any]
                  ) -> list[dict[str, Any]]:
    body = hook_request("order-select", "pat-1003", prefetch=prefetch_of(bundle))
    body["context"].update({
        "selections": [f"MedicationRequest/{draft['id']}"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


# ---------------------------------------------------------------- patient-view

#: mTOR-inhibitor orders in the record, and how the card says them: the same order a
#: draft check would have warned on, once written. An order given now or on hold is a
#: line given: of sirolimus, it would show the class tolerated after everolimus (I15), so
#: those are of everolimus itself, restarted; the saved draft is of sirolimus.
ORDERS = {
    "given now": ("everolimus", _order("everolimus", "active", "2025-10-01")),
    "planned": ("sirolimus", _order("sirolimus", "draft", "2026-12-05")),
    "on hold": ("everolimus", _order("everolimus", "on-hold", "2025-10-01")),
}


@pytest.mark.parametrize("said", list(ORDERS))
def test_patient_view_warns_on_an_order_in_the_record(client: TestClient, said: str
                                                      ) -> None:
    """An mTOR-inhibitor order in the record beside everolimus stopped for mouth ulcers:
    were that an intolerance, it would rule the order out (I15). The order could not be
    checked against it: a warning naming the order, the record stopped, its drug and its
    reason, as order-select says of a draft. Nothing read rules it out: no critical
    card."""
    drug, order = ORDERS[said]
    cards = _patient_view(client, _record(_stopped("everolimus", MOUTH_ULCERS), order))
    [card] = _warnings(cards)
    assert card["summary"] == (f"Order of {drug} {said} in the record could not be "
                               "checked against 1 medication record stopped for a reason "
                               "pecoma cannot judge")
    assert "MedicationRequest/o1" in card["detail"]
    assert "MedicationRequest/s1 (everolimus" in card["detail"]
    assert MOUTH_ULCERS in card["detail"]
    assert "if that was an intolerance, the record lists" in card["detail"]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
    assert not [c for c in cards if c["indicator"] == "critical"]


def test_patient_view_says_nothing_of_an_order_the_reason_would_not_rule_out(
        client: TestClient) -> None:
    """A doxorubicin order beside everolimus stopped for mouth ulcers: an everolimus
    intolerance would not rule doxorubicin out."""
    cards = _patient_view(client, _record(_stopped("everolimus", MOUTH_ULCERS),
                                          _order("doxorubicin", "active", "2025-10-01")))
    assert not _warnings(cards)


def test_patient_view_a_reason_read_as_intolerance_keeps_the_critical_card_alone(
        client: TestClient) -> None:
    """"Grade 3 stomatitis" says not tolerated: the critical card on the everolimus
    order given now, and no warning that it could not be checked beside it."""
    cards = _patient_view(client, _record(_stopped("everolimus", "Grade 3 stomatitis"),
                                          ORDERS["given now"][1]))
    assert [c for c in cards if c["indicator"] == "critical"
            and c["summary"].startswith("Order of everolimus given now in the record")]
    assert not _warnings(cards)


# ---------------------------------------------------------------- every drug named

def test_a_draft_of_two_drugs_names_both_and_every_record(client: TestClient) -> None:
    """One draft naming sirolimus and doxorubicin; everolimus stopped for mouth ulcers
    (would rule out sirolimus, I15) and doxorubicin stopped for severe hyperglycaemia
    (would rule out doxorubicin): one warning naming both drugs and both records. It
    had named sirolimus and the everolimus record only."""
    bundle = _record(_stopped("everolimus", MOUTH_ULCERS, "s1"),
                     _stopped("doxorubicin", HYPERGLYCAEMIA, "s2"))
    draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
             "intent": "order", "subject": SUBJECT,
             "medicationCodeableConcept": {"text": "sirolimus and doxorubicin"}}
    [card] = _warnings(_order_select(client, bundle, draft))
    assert card["summary"] == ("Draft order of sirolimus and doxorubicin could not be "
                               "checked against 2 medication records stopped for a reason "
                               "pecoma cannot judge")
    assert "MedicationRequest/s1 (everolimus" in card["detail"]
    assert "MedicationRequest/s2 (doxorubicin" in card["detail"]
    assert MOUTH_ULCERS in card["detail"] and HYPERGLYCAEMIA in card["detail"]
