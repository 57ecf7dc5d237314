"""A draft order of a drug whose class a recorded intolerance rules out: one grading for
the mTOR inhibitors and the anthracyclines (interpretation I15).

The assessment reads an intolerance of an mTOR inhibitor or of an anthracycline by one
rule (``pecoma.case.class_ruled_out``): the team's judgement not recorded, every drug of
the class is ruled out meanwhile, the safer reading, unless the latest line of the class
is of another drug (the patient tolerates it). The order-select check had graded the two
classes apart in that same situation: a draft of another mTOR inhibitor got the critical
card, a draft of the other anthracycline only a warning, read without the lines given.

The grade is the critical card for both. Clinical reason: a draft of a drug the record
rules out gets the critical card, and here the record, read by the rule the assessment
itself follows, rules the drug out: the assessment withholds it and never proposes it.
The anthracycline intolerance whose class is not known may be cardiotoxicity (the
cumulative dose), a harm a second anthracycline adds to; a warning would grade lower
than the mTOR case a drug the same rule withholds, and lower than the advice beside it.
The card says the drug is ruled out meanwhile for want of the team's judgement, and what
recording it as of that drug alone changes. Where the judgement is 'no', or the latest
line of the class shows another drug tolerated, the class is not ruled out and the
draft gets no card of the class, for either class alike.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import parse_case
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"

#: Metastatic uterine PEComa, a liver metastasis not resectable; mTOR inhibitors
#: available, their contraindication not recorded.
UTERINE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2025-01-05"}],
              "extrapulmonary_disease": "yes", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2023-03-25", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes"},
}

SIROLIMUS = ("35302", "sirolimus")
TEMSIROLIMUS = ("657777", "temsirolimus")
DOXORUBICIN = ("3639", "doxorubicin")
EPIRUBICIN = ("3995", "epirubicin")

#: (the drug recorded as not tolerated, the draft of another drug of its class)
OTHER_OF_THE_CLASS = [
    pytest.param("everolimus", SIROLIMUS, id="mtor-everolimus-sirolimus"),
    pytest.param("sirolimus", TEMSIROLIMUS, id="mtor-sirolimus-temsirolimus"),
    pytest.param("doxorubicin", EPIRUBICIN, id="anthracycline-doxorubicin-epirubicin"),
    pytest.param("epirubicin", DOXORUBICIN, id="anthracycline-epirubicin-doxorubicin"),
    pytest.param("epirubicin_ifosfamide", DOXORUBICIN,
                 id="anthracycline-regimen-doxorubicin"),
]


def _case(agent: str, class_wide: str, lines: list[dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    data = copy.deepcopy(UTERINE)
    data["systemic"]["intolerances"] = [{"agent": agent, "class_wide": class_wide}]
    if lines:
        data["systemic"]["therapies"] = lines
    return data


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("class-rule-drafts")
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'cds.sqlite3'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")


def _cards(client: TestClient, data: dict[str, Any], drug: tuple[str, str]
           ) -> list[dict[str, Any]]:
    """The order-select cards for a draft of ``drug`` (RxNorm code, name)."""
    bundle = bundle_from_case(parse_case(data))
    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             "medicationCodeableConcept": {"coding": [{
                 "system": RXNORM, "code": drug[0], "display": drug[1]}], "text": drug[1]}}
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle, include=True))
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def _class_cards(cards: list[dict[str, Any]], drug: str) -> list[dict[str, Any]]:
    """The cards of the allergy check about the draft of ``drug``."""
    return [c for c in cards if c["summary"].startswith(f"Draft order of {drug}")]


@pytest.mark.parametrize(("agent", "drug"), OTHER_OF_THE_CLASS)
def test_unjudged_the_other_drug_of_the_class_is_critical_meanwhile(
        client: TestClient, agent: str, drug: tuple[str, str]) -> None:
    """The judgement whether the intolerance is of the class not recorded: the class is
    ruled out meanwhile (I15), as the assessment withholds it, so the draft of another
    drug of the class gets the critical card of a drug the record rules out, saying it is
    ruled out meanwhile and what recording the intolerance as of that drug alone
    changes. For both classes alike."""
    cards = _class_cards(_cards(client, _case(agent, "unknown"), drug), drug[1])
    assert [c["indicator"] for c in cards] == ["critical"], cards
    card = cards[0]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
    assert agent.replace("_", " with ") in card["summary"]
    assert "meanwhile" in card["detail"].split("\n\n")[0]
    assert "of that drug alone" in card["detail"].split("\n\n")[0]


@pytest.mark.parametrize(("agent", "drug"), OTHER_OF_THE_CLASS)
def test_recorded_of_the_class_it_is_critical_without_the_question(
        client: TestClient, agent: str, drug: tuple[str, str]) -> None:
    """The intolerance recorded as of the class: the drug is ruled out, nothing is
    meanwhile."""
    cards = _class_cards(_cards(client, _case(agent, "yes"), drug), drug[1])
    assert [c["indicator"] for c in cards] == ["critical"], cards
    assert "meanwhile" not in cards[0]["detail"].split("\n\n")[0]


@pytest.mark.parametrize(("agent", "drug"), OTHER_OF_THE_CLASS)
def test_recorded_of_that_drug_alone_the_other_drug_gets_no_card(
        client: TestClient, agent: str, drug: tuple[str, str]) -> None:
    """The team records the intolerance as of that drug alone: the other drug of the
    class is an option, and its draft gets no card of the allergy list."""
    assert _class_cards(_cards(client, _case(agent, "no"), drug), drug[1]) == []


def _line(agent: str, n: int, progressed: str) -> dict[str, Any]:
    return {"agent": agent, "line": n, "setting": "advanced", "progressed": progressed,
            "best_response": "progression" if progressed == "yes" else "partial"}


@pytest.mark.parametrize(("agent", "given", "drug"), [
    pytest.param("everolimus", "sirolimus", SIROLIMUS, id="mtor"),
    pytest.param("doxorubicin", "epirubicin_ifosfamide", EPIRUBICIN, id="anthracycline"),
])
def test_the_other_drug_shown_tolerated_since_gets_no_card(
        client: TestClient, agent: str, given: str, drug: tuple[str, str]) -> None:
    """The drug not tolerated given first, then another drug of the class, the latest
    line of the class: the patient tolerates that one (I15: the class is not ruled out,
    the assessment offers it), so a draft of it gets no card of the allergy list, for
    either class."""
    data = _case(agent, "unknown", [_line(agent, 1, "yes"), _line(given, 2, "no")])
    assert _class_cards(_cards(client, data, drug), drug[1]) == []


@pytest.mark.parametrize(("agent", "drug"), [
    pytest.param("everolimus", ("141704", "everolimus"), id="mtor"),
    pytest.param("doxorubicin", DOXORUBICIN, id="anthracycline"),
])
@pytest.mark.parametrize("class_wide", ["unknown", "no", "yes"])
def test_the_drug_itself_stays_critical_whatever_the_judgement(
        client: TestClient, agent: str, drug: tuple[str, str], class_wide: str) -> None:
    """The drug recorded as not tolerated is ruled out itself, whatever is recorded of its
    class: the critical card naming it, nothing of a class meanwhile."""
    cards = _class_cards(_cards(client, _case(agent, class_wide), drug), drug[1])
    assert [c["indicator"] for c in cards] == ["critical"], cards
    assert f"intolerance to {agent}" in cards[0]["summary"]
    assert "meanwhile" not in cards[0]["detail"].split("\n\n")[0]
