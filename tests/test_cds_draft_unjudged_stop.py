"""order-select: a draft after a medication record stopped for a reason pecoma cannot
judge is never passed in silence.

Everolimus stopped for "mouth ulcers, could not continue": the reader itself says it
cannot tell whether this says the drug was not tolerated and asks, yet a sirolimus draft
got no card at all. Mouth ulcers are stomatitis, the commonest toxicity of the mTOR
inhibitors, and an intolerance of one rules out every one unless another is shown
tolerated (I15). Unknown is not absent: the draft could not be checked against that
record, and the warning names it and its reason and what it would rule out were it an
intolerance, as one does for an allergy entry pecoma cannot identify. The check is the
one allergy check (``DrugSafety``), that record read as an intolerance of its drug.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the service's today is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, prefetch_of

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
    "doxorubicin": {"coding": [{"system": RXNORM, "code": "3639",
                                "display": "doxorubicin"}]},
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('draft-unjudged') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def _allergy(drug: str) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": "a-1",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                "code": "active"}]},
            "category": ["medication"], "code": DRUGS[drug], "patient": SUBJECT}


def _stopped(drug: str, reason: str, kind: str = "MedicationRequest",
             status: str = "stopped") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": kind, "id": "s1", "status": status,
                           "subject": SUBJECT, "medicationCodeableConcept": DRUGS[drug],
                           "statusReason": ({"text": reason} if kind == "MedicationRequest"
                                            else [{"text": reason}])}
    if kind == "MedicationRequest":
        res["intent"] = "order"
        res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {
            "start": "2025-07-01", "end": "2025-09-01"}}}}]
    else:
        res["effectivePeriod"] = {"start": "2025-07-01", "end": "2025-09-01"}
    return res


def _draft(**medication: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
            "intent": "order", "subject": SUBJECT, **medication}


def _cards(client: TestClient, prefetch: dict[str, Any], draft: dict[str, Any]
           ) -> list[dict[str, Any]]:
    body = hook_request("order-select", "pat-1003", prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/d1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    bundle["entry"] += [{"resource": r} for r in resources]
    return bundle


# ---------------------------------------------------------------- a reason not judged

#: Reasons that may be a toxicity of the drug, or not: pecoma cannot tell.
UNJUDGED = ["mouth ulcers, could not continue", "severe hyperglycaemia", "lung changes on CT"]


def _unjudged_warnings(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in cards if c["indicator"] == "warning"
            and "stopped for a reason pecoma cannot judge" in c["summary"]]


@pytest.mark.parametrize("reason", UNJUDGED)
@pytest.mark.parametrize("kind", ["MedicationRequest", "MedicationStatement"])
@pytest.mark.parametrize("draft", ["sirolimus", "temsirolimus", "everolimus"])
def test_an_mtor_draft_after_a_course_stopped_for_a_reason_not_judged_is_warned(
        client: TestClient, reason: str, kind: str, draft: str) -> None:
    """Everolimus stopped for a reason pecoma cannot tell is an intolerance or not: an
    mTOR-inhibitor draft (everolimus itself, or another one the class rule would rule
    out, I15) could not be checked against it. The warning names the record and its
    reason, and what it would rule out were it an intolerance; never silence."""
    bundle = _record(_stopped("everolimus", reason, kind))
    cards = _cards(client, prefetch_of(bundle), _draft(medicationCodeableConcept=DRUGS[draft]))
    [card] = _unjudged_warnings(cards)
    assert card["summary"].startswith(f"Draft order of {draft} could not be checked")
    assert f"{kind}/s1 (everolimus" in card["detail"]
    assert reason in card["detail"]
    assert "if that was an intolerance, the record lists" in card["detail"]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
    # no critical card: nothing read rules the draft out
    assert not [c for c in cards if c["indicator"] == "critical"]


def test_a_draft_the_reason_would_not_rule_out_gets_no_such_warning(client: TestClient
                                                                     ) -> None:
    """A doxorubicin draft after everolimus stopped for mouth ulcers: an everolimus
    intolerance would not rule doxorubicin out, so nothing is said of that record."""
    bundle = _record(_stopped("everolimus", UNJUDGED[0]))
    cards = _cards(client, prefetch_of(bundle),
                   _draft(medicationCodeableConcept=DRUGS["doxorubicin"]))
    assert not _unjudged_warnings(cards)


@pytest.mark.parametrize("reason", ["Disease progression", "Course completed"])
def test_a_reason_plainly_other_than_intolerance_gets_no_warning(client: TestClient,
                                                                 reason: str) -> None:
    bundle = _record(_stopped("everolimus", reason))
    cards = _cards(client, prefetch_of(bundle),
                   _draft(medicationCodeableConcept=DRUGS["sirolimus"]))
    assert not _unjudged_warnings(cards)


def test_a_reason_read_as_intolerance_keeps_the_critical_card_alone(client: TestClient
                                                                    ) -> None:
    """"Grade 3 stomatitis" says not tolerated: the critical card, and no warning that
    the draft could not be checked beside it."""
    bundle = _record(_stopped("everolimus", "Grade 3 stomatitis"))
    cards = _cards(client, prefetch_of(bundle),
                   _draft(medicationCodeableConcept=DRUGS["sirolimus"]))
    assert [c for c in cards if c["indicator"] == "critical"]
    assert not _unjudged_warnings(cards)


def test_the_reader_lists_the_record_stopped_for_a_reason_not_judged() -> None:
    bc = case_from_bundle(_record(_stopped("everolimus", UNJUDGED[0])), on=ON)
    assert [(x.where, x.agent.value, x.reason) for x in bc.unclear_stops] == [
        ("MedicationRequest/s1", "everolimus", UNJUDGED[0])]
    assert bc.not_tolerated == ()
