"""A first systemic line other than an mTOR inhibitor for advanced disease is a departure
from the guideline whatever the drug (S02, S12: mTOR inhibitors are the first-line
treatment of choice; S13: ahead of conventional chemotherapy; S14: chemotherapy when they
cannot be used).

The warning ALERT-CHEMO-BEFORE-MTOR had been keyed on conventional chemotherapy alone: a
renal PEComa with unresectable liver metastases given pazopanib (or a checkpoint
inhibitor, recorded as another agent) first, while an mTOR inhibitor was available and
not contraindicated, got no alert, the progressing line was named nowhere in the report,
and CDS order-select let a pazopanib draft through without a card.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case.parse import parse_case
from pecoma.engine import assess
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 6)
SCENARIO = Path(__file__).parent / "scenarios" / "chemo-first-line-alert" / "case.json"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def first_line(agent: str, **systemic: str) -> dict[str, Any]:
    """Soft-tissue PEComa with an unresectable liver metastasis (2024-09-01), mTOR
    inhibitors available and not contraindicated, first advanced line ``agent``."""
    case = json.loads(SCENARIO.read_text(encoding="utf-8"))
    case["systemic"].update(systemic)
    case["systemic"]["therapies"] = [{"agent": agent, "line": 1, "started_on": "2024-10-01",
                                      "progressed": "yes"}]
    return case


def alert_of(case: dict[str, Any]) -> Any:
    a = assess(parse_case(case, "case.json"), ON)
    found = [x for x in a.alerts if x.id == "ALERT-CHEMO-BEFORE-MTOR"]
    return found[0] if found else None


@pytest.mark.parametrize("agent", ["pazopanib", "other", "doxorubicin",
                                   "gemcitabine_docetaxel", "trabectedin"])
def test_any_first_line_but_an_mtor_inhibitor_is_flagged_naming_the_drug(agent: str) -> None:
    alert = alert_of(first_line(agent))
    assert alert is not None, agent
    assert ("systemic.therapies.first_line", agent) in [
        (f.path, str(f.value)) for f in alert.triggered_by]
    assert {"S02", "S12", "S13"} <= set(alert.provenance.statements)


@pytest.mark.parametrize("agent", ["sirolimus", "nab_sirolimus", "everolimus", "temsirolimus"])
def test_an_mtor_inhibitor_first_is_no_departure(agent: str) -> None:
    assert alert_of(first_line(agent)) is None


@pytest.mark.parametrize("systemic", [{"mtor_inhibitor_available": "no"},
                                      {"mtor_inhibitor_contraindicated": "yes"}])
def test_no_departure_when_an_mtor_inhibitor_could_not_be_used(systemic: dict[str, str]) -> None:
    """S14: another line comes first when mTOR inhibitors are unavailable or
    contraindicated."""
    assert alert_of(first_line("pazopanib", **systemic)) is None


def _advanced_pazopanib_numbered_2(before: list[dict[str, Any]]) -> dict[str, Any]:
    case = first_line("pazopanib")
    case["systemic"]["therapies"] = [*before, {
        "agent": "pazopanib", "setting": "advanced", "line": 2, "started_on": "2024-10-01",
        "progressed": "unknown"}]
    return case


@pytest.mark.parametrize("before", [
    # everolimus after the operation of the primary, counted by the team as line 1
    [{"agent": "everolimus", "setting": "adjuvant", "line": 1, "started_on": "2023-04-01",
      "progressed": "no"}],
    # no earlier line recorded: the line numbered 2 is the earliest one recorded, line 1
    # is asked (below)
    [],
])
def test_the_first_line_for_advanced_disease_whatever_its_number(
    before: list[dict[str, Any]],
) -> None:
    """Pazopanib is the first treatment of the liver metastasis (2024-09-01), numbered 2
    (lines numbered across settings): it had no alert and was named nowhere, while
    numbered 1 it got one. An adjuvant line is no first line of advanced disease. With
    no line 1 recorded at all, line 1 may have been an mTOR inhibitor: the alert is kept
    (the safer error), names the line as entered rather than calling it the first, and is
    provisional on the earlier line (MISS-EARLIER-LINES, I19)."""
    alert = alert_of(_advanced_pazopanib_numbered_2(before))
    assert alert is not None
    facts = [(f.path, str(f.value)) for f in alert.triggered_by]
    if before:
        assert ("systemic.therapies.first_line", "pazopanib") in facts
        assert list(alert.conditional_on) == []
    else:
        assert ("systemic.therapies.first_line", "pazopanib") not in facts
        assert {("systemic.therapies[0].agent", "pazopanib"),
                ("systemic.therapies[0].line", "2")} <= set(facts)
        assert list(alert.conditional_on) == ["MISS-EARLIER-LINES"]
    # the earliest line for advanced disease is the first: sirolimus numbered 2, then
    # pazopanib numbered 3, is concordant
    case = _advanced_pazopanib_numbered_2(before)
    case["systemic"]["therapies"][-1].update(line=3, started_on="2025-06-01")
    case["systemic"]["therapies"].insert(-1, {"agent": "sirolimus", "setting": "advanced",
                                              "line": 2, "started_on": "2024-10-01",
                                              "progressed": "yes"})
    assert alert_of(case) is None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("departure")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()),
                                 today=lambda: dt.date(2026, 11, 28)),
                      base_url="http://localhost")


def order_select(drug: dict[str, Any]) -> dict[str, Any]:
    bundle = example("metastatic-lung-metachronous")  # advanced, mTOR possible, no line
    pid = patient_id(bundle)
    body = hook_request("order-select", pid)
    body["prefetch"] = prefetch_of(copy.deepcopy(bundle))
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"}, **drug}
    body["context"].update({"selections": ["MedicationRequest/draft-1"],
                            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                                            "entry": [{"resource": draft}]}})
    return body


@pytest.mark.parametrize(("concept", "words"), [
    ({"coding": [{"system": RXNORM, "code": "714438", "display": "pazopanib"}]}, "Pazopanib"),
    ({"text": "pembrolizumab 200 mg IV"}, "Another anticancer agent"),
])
def test_order_select_warns_on_a_non_mtor_first_line_draft(
    client: TestClient, concept: dict[str, Any], words: str
) -> None:
    r = client.post(f"/cds-services/{ORDER_SELECT}",
                    json=order_select({"medicationCodeableConcept": concept}))
    assert r.status_code == 200, r.text
    [card] = r.json()["cards"]
    assert card["indicator"] == "warning"
    assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
    assert card["summary"] == (f"{words} first line for advanced PEComa: the guideline puts "
                               "an mTOR inhibitor first")
    [suggestion] = card["suggestions"]
    assert suggestion["label"] == ("Replace with an mTOR inhibitor (here sirolimus, as an example "
                                   "draft; the team chooses)")
    assert suggestion["actions"][0]["description"] == \
        f"Remove the draft {words[0].lower() + words[1:]} order (MedicationRequest/draft-1)"


def test_an_mtor_inhibitor_draft_gets_no_first_line_card(client: TestClient) -> None:
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=order_select(
        {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "35302",
                                                   "display": "sirolimus"}]}}))
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == []
