"""A medication record given whose day is not in the record may be given now.

A dispense handed over (``completed``) that gives no day it was handed over
(``whenHandedOver``) and no supply was read as a line of the past only: not given now,
so beside an allergy to its drug patient-view gave no card, although the patient may
have collected it this morning. Its timing is unknown, and unknown is not absent: it is
read as possibly given now (``Now.unsure``), as a record of status ``unknown`` already
is, with a note asking for the day, and the critical card is worded "possibly given
now". So is an administration given (``completed``) that gives no day it was given.

A dispense that gives the day it was handed over keeps its reading (handed over a week
ago, no supply: not given now), as ``tests/test_cds_course_taken_now.py`` holds.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and no systemic
line in the example; the day read for (the service's today) is 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
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
SIROLIMUS = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                         "code": "35302", "display": "sirolimus"}]}


def dispense(status: str = "completed", **dates: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationDispense", "id": "md-1", "status": status,
            "subject": SUBJECT, "medicationCodeableConcept": SIROLIMUS, **dates}


def administration(**dates: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": "ma-1", "status": "completed",
            "subject": SUBJECT, "medicationCodeableConcept": SIROLIMUS, **dates}


def _record(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    bundle["entry"] += [{"resource": r} for r in resources]
    return bundle


ALLERGY = {"resourceType": "AllergyIntolerance", "id": "a-1",
           "clinicalStatus": {"coding": [{
               "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
               "code": "active"}]},
           "category": ["medication"], "code": SIROLIMUS, "patient": SUBJECT}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('timing-unknown') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


#: Dispenses handed over, no day given: each may have been handed over today.
UNDATED = {
    "no-date-at-all": dispense(),
    # a supply given, but no day to count it from
    "supply-no-handover-day": dispense(daysSupply={"value": 30, "unit": "d"}),
    # prepared last month: handed over on or after that day, which day is not said
    "prepared-only": dispense(whenPrepared="2026-10-20"),
    # status unknown, read as handed over: the same, said once as possibly given now
    "status-unknown": dispense(status="unknown"),
}


@pytest.mark.parametrize("name", list(UNDATED))
def test_a_dispense_handed_over_on_no_day_given_is_possibly_given_now(name: str) -> None:
    """Handed over (its status says so) on a day the record does not give: it may have
    been today, so it is possibly given now, never read as over."""
    now = now_given(UNDATED[name], ON)
    assert now is not None
    assert now.unsure
    assert now.how.startswith("possibly given now (status ")
    assert "handed over on a day the record does not give" in now.how
    assert "possibly possibly" not in now.how


def test_an_administration_given_on_no_day_given_is_possibly_given_now() -> None:
    now = now_given(administration(), ON)
    assert now is not None and now.unsure
    assert "given on a day the record does not give" in now.how


def test_the_reader_reads_it_as_a_line_possibly_given_now_and_says_so() -> None:
    """The line stays a line given (sirolimus, its start unknown); it is listed as
    possibly given now (``BundleCase.running``, ``unsure``), and a note asks for the day."""
    bc = case_from_bundle(_record(dispense()), on=ON)
    assert [(p.where, p.agent, p.unsure) for p in bc.running] == [
        ("MedicationDispense/md-1", Agent.sirolimus, True)]
    assert [t.agent for t in bc.case.systemic.therapies] == [Agent.sirolimus]
    [note] = [n for n in bc.notes if n.startswith("MedicationDispense/md-1:")]
    assert "handed over on a day the record does not give" in note
    assert "record the day it was handed over" in note


def test_a_dispense_handed_over_last_week_with_no_supply_keeps_its_reading() -> None:
    """The day is given: handed over a week ago, no supply said: not given now (as
    before; how long it lasts is not said, and the day it was handed over is known)."""
    assert now_given(dispense(whenHandedOver="2026-11-21"), ON) is None


def test_patient_view_gives_the_possibly_given_now_card(client: TestClient) -> None:
    """Beside an allergy to sirolimus, the undated sirolimus dispense gets the critical
    card of ALERT-DRUG-INTOLERANCE worded 'possibly given now' (it was none)."""
    bundle = _record(dispense(), ALLERGY)
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    [card] = [c for c in r.json()["cards"] if c["indicator"] == "critical"
              and c["summary"].startswith("Order of sirolimus possibly given now")]
    assert "MedicationDispense/md-1: sirolimus, possibly given now" in card["detail"]
    assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
