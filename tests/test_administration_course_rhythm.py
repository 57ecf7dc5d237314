"""The rhythm of a course of administrations is its usual wait, not its longest one.

Given now for a course of administrations took the longest wait ever seen between two
doses as the course's interval, and stated the drug as given (not "possibly") for that
whole wait after the latest dose:

- two administrations a year apart (2024-12-01, 2025-12-01) were "given now (... at
  intervals of 365 days ...)" on 2026-11-30, and "possibly given now" a year more;
- a three-weekly course resumed after six months' break (2025-01-01, then 2025-07-01 and
  2025-07-22) stayed "given now" to 2026-01-19, four months after its last three-weekly
  dose was due.

Pecoma does not know the dose was given then. It knows a rhythm the record shows again
and again. Now a wait of more than six weeks (``COURSE_BREAK``) separates two courses. The
course's rhythm is its median wait. A longer wait up to twice that (``RHYTHM_FACTOR``),
taken at least twice, is the regimen's own (the rest week of a day 1 and day 8 cycle). Any
other longer wait is a dose delayed: only "possibly given now", never stated as given. The
dates below are hand-written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma.fhir.medications import now_given

TEMSIROLIMUS = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                            "code": "657797", "display": "temsirolimus"}]}


def administration(day: str) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": "latest",
            "status": "completed", "medicationCodeableConcept": TEMSIROLIMUS,
            "effectiveDateTime": day}


def _now(on: str, *days: str) -> Any:
    """now_given of the latest dose, the others its course (as the reader passes them)."""
    *earlier, latest = days
    return now_given(administration(latest), dt.date.fromisoformat(on),
                     [dt.date.fromisoformat(d) for d in earlier])


def test_two_doses_a_year_apart_are_no_course_given_now() -> None:
    """A year between two doses is no rhythm of a course: the second dose alone is the
    latest course, one dose is no course: not given now on 2026-11-30, a year after it.
    On 2025-12-20, 19 days after it, the lone dose may be the first of a line started
    again: possibly given now, never given now (tests/test_administration_lone_dose.py)."""
    assert _now("2026-11-30", "2024-12-01", "2025-12-01") is None
    lone = _now("2025-12-20", "2024-12-01", "2025-12-01")
    assert lone is not None and lone.unsure


def test_a_course_resumed_after_a_break_follows_its_new_rhythm() -> None:
    """Resumed on 2025-07-01 after six months, three-weekly: the next due 2025-08-12.
    Given now to that day, possibly given now (a dose delayed) to 2025-09-02, and over
    after that (it was read as given now to 2026-01-19)."""
    days = ("2025-01-01", "2025-07-01", "2025-07-22")
    now = _now("2025-08-12", *days)
    assert now is not None and not now.unsure
    assert "intervals of 21 days" in now.how
    assert "the next due 2025-08-12" in now.how
    assert "a wait of 181 days after an earlier course" in now.how
    later = _now("2025-08-20", *days)
    assert later is not None and later.unsure
    assert later.how.startswith("possibly given now")
    assert _now("2025-09-03", *days) is None
    assert _now("2026-01-19", *days) is None


def test_one_outlier_wait_in_a_weekly_course_is_only_possibly_given_now() -> None:
    """Weekly, once a five-week wait (2026-09-03 to 2026-10-08, within a course): the
    median wait is 7 days; the 35-day wait is a delay. On 2026-11-05, 16 days after the
    latest dose, the drug is not stated as given now: possibly given now, the next dose
    due by 2026-10-29 not recorded; over once 35 days have passed."""
    days = ("2026-08-20", "2026-08-27", "2026-09-03", "2026-10-08", "2026-10-15",
            "2026-10-22")
    early = _now("2026-10-29", *days)
    assert early is not None and not early.unsure
    assert "intervals of 7 days" in early.how
    now = _now("2026-11-05", *days)
    assert now is not None and now.unsure
    assert now.how.startswith("possibly given now")
    assert "due by 2026-10-29, is not recorded" in now.how
    assert _now("2026-11-26", *days) is not None
    assert _now("2026-11-27", *days) is None


def test_a_wait_of_six_weeks_is_still_one_course() -> None:
    """Three-weekly, one cycle delayed three weeks (42 days): one course, the delay no
    rhythm: possibly given now, not given now, 30 days after the latest dose."""
    days = ("2026-07-01", "2026-07-22", "2026-09-02", "2026-09-23", "2026-10-14")
    now = _now("2026-11-13", *days)
    assert now is not None and now.unsure
    assert "intervals of 21 days" in now.how
    assert "a wait of 42 days" in now.how
