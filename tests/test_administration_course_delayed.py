"""A course of administrations whose dose was delayed is not ended by the delay.

Given now, for a course of administrations given (``completed``), was read from the last
interval alone: the next dose due one last interval after the latest. A course whose
doses wait longer at times (a weekly course once delayed three weeks for neutropenia; a
day 1 and day 8 regimen every 21 days, resting a week between cycles) was read as ended
as soon as the wait after its latest dose outgrew the last interval, so beside an
allergy to its drug patient-view said nothing of a course still under way. And a dose
due two days ago and not recorded ended the course outright, though a dose delayed is
the commonest reason for it.

The safe reading: a rest the regimen takes at each cycle (a wait up to twice the
course's median wait) is its own rhythm, and the course is given now until one such
interval after its latest dose. A delay it has taken once is no end either, but it is no
rhythm the record states: after the regular interval, the dose due and not recorded may
be delayed: possibly given now (``Now.unsure``), for one interval more or as long as the
course was delayed before. Later it is over (a stop recorded ends it anyway: the
administrations after it are what the course is read from). A longest wait taken as the
course's interval had made doses a year apart "given now" for a year
(tests/test_administration_course_rhythm.py).

Days read on 2026-11-28 (the service's today), doses hand-placed.
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
TEMSIROLIMUS = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "657797", "display": "temsirolimus"}]}


def administration(day: str, rid: str) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": rid, "status": "completed",
            "subject": SUBJECT, "medicationCodeableConcept": TEMSIROLIMUS,
            "effectiveDateTime": day}


def course(*days: str) -> list[dict[str, Any]]:
    return [administration(day, f"ma-{i}") for i, day in enumerate(days)]


def _now(days: tuple[str, ...]) -> Any:
    """now_given of the latest dose, the others its course (as the reader passes them)."""
    dates = [dt.date.fromisoformat(d) for d in days]
    latest = max(dates)
    return now_given(administration(latest.isoformat(), "latest"), ON,
                     [d for d in dates if d != latest])


#: Weekly, then a dose delayed three weeks (15 October to 5 November), weekly again: the
#: latest dose on 19 November. The course has waited 21 days once: the dose due on 26
#: November may be delayed as that one was, possibly given now up to 10 December (it had
#: been read as over after 26 November).
DELAYED_ONCE = ("2026-10-01", "2026-10-08", "2026-10-15", "2026-11-05", "2026-11-12",
                "2026-11-19")
#: Day 1 and day 8 every 21 days: a week's rest between cycles. Latest dose 19 November
#: (day 8); the next cycle's day 1 is 3 December: under way on the 28th.
DAY_1_8_EVERY_21 = ("2026-10-01", "2026-10-08", "2026-10-22", "2026-10-29", "2026-11-12",
                    "2026-11-19")


def test_a_course_resting_between_cycles_is_given_now() -> None:
    """Day 1 and day 8 every 21 days: the 14-day rest recurs at each cycle, twice the
    7 days between its doses: the regimen's rhythm, stated as given now in the rest
    week."""
    now = _now(DAY_1_8_EVERY_21)
    assert now is not None and not now.unsure
    assert now.how.startswith("given now (status 'completed'")
    assert "the last dose 2026-11-19" in now.how
    assert "intervals of up to 14 days" in now.how
    assert "the next due by 2026-12-03" in now.how


def test_a_course_that_was_delayed_before_may_be_delayed_again() -> None:
    """Weekly, once delayed three weeks: the 21-day wait is a delay (three times the
    weekly rhythm), not the course's rhythm. On the 28th the weekly dose due on the 26th
    is not recorded: possibly given now, never stated as given, up to 10 December (as
    long as the course was delayed before); over after that."""
    now = _now(DELAYED_ONCE)
    assert now is not None and now.unsure
    assert now.how.startswith("possibly given now (status 'completed'")
    assert "intervals of 7 days" in now.how
    assert "the next, due by 2026-11-26, is not recorded: it may be delayed" in now.how
    assert "a wait of 21 days" in now.how
    late = now_given(administration("2026-11-19", "latest"), dt.date(2026, 12, 10),
                     [dt.date.fromisoformat(d) for d in DELAYED_ONCE[:-1]])
    assert late is not None and late.unsure
    assert now_given(administration("2026-11-19", "latest"), dt.date(2026, 12, 11),
                     [dt.date.fromisoformat(d) for d in DELAYED_ONCE[:-1]]) is None


def test_a_dose_due_and_not_recorded_may_be_delayed() -> None:
    """Weekly on 5, 12 and 19 November: the dose due on 26 November is not recorded two
    days later. It may be delayed, the course not ended: possibly given now."""
    now = _now(("2026-11-05", "2026-11-12", "2026-11-19"))
    assert now is not None and now.unsure
    assert now.how.startswith("possibly given now (status 'completed'")
    assert "due by 2026-11-26, is not recorded" in now.how


def test_two_intervals_with_no_dose_is_over() -> None:
    """Weekly up to 7 November, nothing for three weeks: over (as before)."""
    assert _now(("2026-10-24", "2026-10-31", "2026-11-07")) is None


def test_the_reader_and_patient_view_keep_the_delayed_course_possibly_given_now(
        tmp_path: Any) -> None:
    """The reader lists the latest dose of the delayed course as possibly given now, one
    line; an allergy to temsirolimus beside it gets the critical 'possibly given now'
    card."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"] += [{"resource": r} for r in course(*DELAYED_ONCE)]
    bc = case_from_bundle(bundle, on=ON)
    assert [(p.where, p.unsure) for p in bc.running] == [("MedicationAdministration/ma-5",
                                                          True)]
    assert [t.agent.value for t in bc.case.systemic.therapies] == ["temsirolimus"]
    bundle["entry"].append({"resource": {
        "resourceType": "AllergyIntolerance", "id": "a-1",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "category": ["medication"], "code": TEMSIROLIMUS, "patient": SUBJECT}})
    client = TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp_path}/r.db",
                                             cds=CdsSettings()), today=lambda: ON),
                        base_url="http://localhost")
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    assert [c for c in r.json()["cards"] if c["indicator"] == "critical"
            and c["summary"].startswith(
                "Order of temsirolimus possibly given now in the record")]


def _stop(end: str | None) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationRequest", "id": "stop-1",
                           "status": "stopped", "intent": "order", "subject": SUBJECT,
                           "medicationCodeableConcept": TEMSIROLIMUS,
                           "authoredOn": "2026-11-01"}
    if end is not None:
        res["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": {
            "start": "2026-11-01", "end": end}}}}]
    return res


@pytest.mark.parametrize(("end", "running"), [
    (None, []),            # the order stopped, no end given: a stop recorded, no delay read
    ("2026-11-20", []),    # stopped the day after the latest dose
    ("2026-11-10", [("MedicationAdministration/ma-2", True)]),  # ended before 19 Nov:
    # an earlier stop, the course went on after it, and its dose due may be delayed
])
def test_a_stop_recorded_since_the_latest_dose_ends_the_course(
        end: str | None, running: list[tuple[str, bool]]) -> None:
    """Weekly on 5, 12 and 19 November, the dose of 26 November not recorded: with the
    temsirolimus order recorded stopped since the latest dose, the course is over (a
    stop recorded); with the order's stop dated before that dose, the dose due may be
    delayed (possibly given now)."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"] += [{"resource": r} for r in (
        *course("2026-11-05", "2026-11-12", "2026-11-19"), _stop(end))]
    bc = case_from_bundle(bundle, on=ON)
    assert [(p.where, p.unsure) for p in bc.running] == running


def test_the_reader_says_the_dose_due_may_be_delayed() -> None:
    """Weekly on 5, 12 and 19 November, nothing since: the latest dose listed as possibly
    given now, and a note asking for the dose given or the stop."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"] += [{"resource": r} for r in course("2026-11-05", "2026-11-12",
                                                        "2026-11-19")]
    bc = case_from_bundle(bundle, on=ON)
    assert [(p.where, p.unsure) for p in bc.running] == [("MedicationAdministration/ma-2",
                                                          True)]
    [note] = [n for n in bc.notes if n.startswith("MedicationAdministration/ma-2:")]
    assert "the next, due by 2026-11-26, is not recorded: it may be delayed" in note
    assert note.endswith("record the dose given, or that the course stopped")
