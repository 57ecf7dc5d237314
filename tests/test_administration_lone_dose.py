"""One administration of an anticancer drug, recent: possibly given now, never "not given".

Given now was read for administrations given (``completed``) only from a course: the
latest dose and the wait since the one before. One dose alone (the only one recorded,
or the first after a long break) was "no course": not given now the day after it. Yet a
single nab-sirolimus infusion 10 days ago is most often the first dose of a line still
under way (days 1 and 8 every 21 days; a dose a week later may not be charted yet):
beside an allergy to sirolimus the patient-view card for a drug being given stayed
silent, and the line was not listed as running.

Expected, by hand: a lone dose given within one usual interval between doses of the
guideline's regimens (21 days: doxorubicin-based chemotherapy every 3 weeks,
nab-sirolimus days 1 and 8 every 21 days) before the evaluation date may be a line still
running: possibly given now (``Now.unsure``, the record not saying whether the line goes
on), and the question asked. Its next dose past and not recorded, it may be delayed, as
a course's last dose may: possibly given now for one such interval more
(``test_administration_lone_dose_delayed``). Later than that it is not read as given
now (a line going on would have had a further dose by then). A stop recorded since the
dose ends it.
Days read on 2026-11-28 (the service's today).
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
SUBJECT = {"reference": "Patient/pat-1003"}
NAB_SIROLIMUS = {"text": "nab-sirolimus (Fyarro) 100 mg/m2 IV"}
SIROLIMUS = {"text": "sirolimus"}


def administration(day: str, rid: str = "ma-1") -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": rid, "status": "completed",
            "subject": SUBJECT, "medicationCodeableConcept": NAB_SIROLIMUS,
            "effectiveDateTime": day}


@pytest.mark.parametrize("day", ["2026-11-18", "2026-11-07", "2026-11-27"])
def test_a_lone_recent_dose_is_possibly_given_now(day: str) -> None:
    """10, 21 and 1 days before 2026-11-28: within 21 days, possibly given now, asked;
    never said as given now (no rhythm is recorded)."""
    now = now_given(administration(day), ON, [])
    assert now is not None and now.unsure, now
    assert now.how.startswith("possibly given now"), now.how
    assert day in now.how and "21 days" in now.how
    assert now.ask


@pytest.mark.parametrize("day", ["2026-10-16", "2026-06-01"])
def test_a_lone_dose_longer_ago_is_not_given_now(day: str) -> None:
    """43 days and six months before: longer than a usual interval between doses and
    one more for a delayed dose, a line going on would show a later dose: not read as
    given now."""
    assert now_given(administration(day), ON, []) is None


def test_a_lone_dose_after_a_break_is_possibly_given_now() -> None:
    """A dose on 2026-11-18 after one in March (a break of months: no course): the lone
    latest dose may start a line again, possibly given now."""
    now = now_given(administration("2026-11-18"), ON, [dt.date(2026, 3, 2)])
    assert now is not None and now.unsure


def test_a_stop_recorded_ends_the_lone_dose() -> None:
    """The drug recorded stopped since the dose: not given now."""
    assert now_given(administration("2026-11-18"), ON, [], stopped=True) is None


def test_the_reader_lists_it_running_and_asks() -> None:
    """The reader lists the lone infusion as possibly given now and its note asks
    whether the line goes on; the line is read as given (nab-sirolimus)."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"].append({"resource": administration("2026-11-18")})
    bc = case_from_bundle(bundle, on=ON)
    assert [(p.where, p.unsure) for p in bc.running] == [("MedicationAdministration/ma-1",
                                                          True)]
    assert [t.agent.value for t in bc.case.systemic.therapies] == ["nab_sirolimus"]
    [note] = [n for n in bc.notes if n.startswith("MedicationAdministration/ma-1:")]
    assert "possibly given now" in note and "whether the line goes on" in note, note


def test_patient_view_warns_of_the_allergy(tmp_path: Any) -> None:
    """An allergy to sirolimus beside the lone infusion of 10 days ago: the critical
    card for a drug possibly given now (I15: a drug a recorded intolerance rules out is
    never let pass silently), as for a course under way."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"] += [{"resource": administration("2026-11-18")}, {"resource": {
        "resourceType": "AllergyIntolerance", "id": "a-1",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "category": ["medication"], "code": SIROLIMUS, "patient": SUBJECT}}]
    client = TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp_path}/r.db",
                                             cds=CdsSettings()), today=lambda: ON),
                        base_url="http://localhost")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    assert [c for c in r.json()["cards"] if c["indicator"] == "critical"
            and "possibly given now" in c["summary"]], r.json()["cards"]
