"""A resection's day given as the patient's age (``performedAge``, ``performedRange``).

FHIR R4 lets a Procedure give when it was performed as an age. An age in days, placed
by the birth date, is one day: it is the resection's day, as an onset or abatement age
already is (the diagnosis, the day a metastasis resolved). An age of years, a range of
ages, or an age with a comparator ("<" 50 years) holds no single day: the surgery date
stays unknown and the note says why (never silently dropped, never a guessed day).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma.fhir.reader import case_from_bundle

from fhir_support import example

ON = dt.date(2026, 6, 1)
BIRTH = dt.date(1958, 9, 30)  # the example Patient's birthDate
UCUM = "http://unitsofmeasure.org"


def _age(value: int, code: str, comparator: str | None = None) -> dict[str, Any]:
    age: dict[str, Any] = {"value": value, "unit": code, "system": UCUM, "code": code}
    if comparator is not None:
        age["comparator"] = comparator
    return age


def _performed(**performed: Any) -> dict[str, Any]:
    bundle = copy.deepcopy(example("low-risk"))
    proc = next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Procedure")
    del proc["performedDateTime"]
    proc.update(performed)
    return bundle


@pytest.mark.parametrize("day", [dt.date(2024, 3, 1), dt.date(2023, 12, 31)])
def test_an_age_in_days_is_the_resection_s_day(day: dt.date) -> None:
    """An age of N days is the birth date plus N days: the surgery date, with a note."""
    days = (day - BIRTH).days
    bc = case_from_bundle(_performed(performedAge=_age(days, "d")), on=ON)
    assert bc.case.surgery.date == day
    assert any("performedAge" in n or "an age of" in n for n in bc.notes), bc.notes


@pytest.mark.parametrize(("performed", "why"), [
    ({"performedAge": _age(65, "a")}, "no single day"),
    ({"performedAge": _age(24000, "d", "<")}, "comparator"),
    ({"performedRange": {"low": _age(65, "a"), "high": _age(66, "a")}}, "no single day"),
])
def test_an_age_that_holds_no_single_day_is_said(performed: dict[str, Any], why: str) -> None:
    """An age of years, one with a comparator, a range of ages: the surgery date stays
    unknown, and the note names the age and why it gives no day."""
    bc = case_from_bundle(_performed(**performed), on=ON)
    assert bc.case.surgery.date is None
    said = [n for n in bc.notes if "surgery.date" in n]
    assert said and why in said[0] and "age" in said[0], bc.notes
