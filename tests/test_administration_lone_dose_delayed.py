"""A lone dose whose next dose is late: as uncertain as a course whose next dose is late.

A course of two or more doses is possibly given now for one regular interval after its
next dose fell due (the dose may be delayed, never said as given). A lone dose (the only
one recorded, or the first after a break) had no such allowance: possibly given now only
up to 21 days after it, the day its next 3-weekly dose fell due, then "not given now" —
while doses on 2026-10-21 and 2026-11-11 (the same last dose) were "possibly given now"
on 2026-12-06.

Expected, by hand (unknown is not absent; one rule for the last dose of a line): the lone
dose's regular interval is the longest usual interval between doses of the guideline's
regimens (21 days, ``LONE_DOSE_INTERVAL``); its next dose is due by then, and once it is
past and not recorded the dose may be delayed: possibly given now for one such interval
more (up to 42 days after the dose), asked, never said as given; a stop recorded ends it.
Read on 2026-12-06.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.fhir.medications import now_given

ON = dt.date(2026, 12, 6)
DOXORUBICIN = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                           "code": "3639", "display": "doxorubicin"}]}


def administration(day: dt.date) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": "d1", "status": "completed",
            "subject": {"reference": "Patient/pat-1003"},
            "medicationCodeableConcept": DOXORUBICIN, "effectiveDateTime": day.isoformat()}


@pytest.mark.parametrize("days_ago", [22, 25, 42])
def test_a_lone_dose_past_its_next_due_day_may_be_delayed(days_ago: int) -> None:
    """25 days ago (2026-11-11): the next dose was due by 2026-12-02, 4 days ago, and is
    not recorded: possibly given now, the next dose may be delayed, asked."""
    day = ON - dt.timedelta(days=days_ago)
    now = now_given(administration(day), ON, [])
    assert now is not None and now.unsure, now
    assert now.how.startswith("possibly given now"), now.how
    assert "may be delayed" in now.how
    assert (day + dt.timedelta(days=21)).isoformat() in now.how
    assert now.ask


def test_the_same_allowance_as_a_course_with_that_last_dose() -> None:
    """Doses on 2026-10-21 and 2026-11-11 and the lone dose of 2026-11-11: both
    possibly given now on 2026-12-06."""
    last = dt.date(2026, 11, 11)
    course = now_given(administration(last), ON, [dt.date(2026, 10, 21)])
    lone = now_given(administration(last), ON, [])
    assert course is not None and course.unsure
    assert lone is not None and lone.unsure


def test_beyond_one_interval_more_it_is_not_given_now() -> None:
    """43 days after the dose: longer than the due day and one regular interval more."""
    assert now_given(administration(ON - dt.timedelta(days=43)), ON, []) is None


def test_a_stop_recorded_ends_it() -> None:
    assert now_given(administration(ON - dt.timedelta(days=25)), ON, [],
                     stopped=True) is None
