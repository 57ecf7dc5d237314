"""Edges of "given now" (``medications.now_given``) and of placing a record by its dates
(``medications.given``), each of which had lost the allergy card of a drug the record
rules out:

- a dispense whose ``daysSupply`` runs past the calendar's end (a typo, 9,999,999 days)
  made reading the record fail, so patient-view and order-select gave no card at all; a
  supply that long covers the day;
- a ``daysSupply`` with a ``code`` written null fell back to no unit; a supply in years
  was not read;
- an administration given over days (``effectivePeriod`` to the day read for, an infusion
  over several days) was not given now unless it began that day;
- a record of status ``unknown`` whose first day is later (or a month holding the day)
  was neither planned nor given: it is placed by its dates as one given would be.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.fhir.medications import Given, given, now_given
from pecoma.fhir.reader import case_from_bundle

from fhir_support import example

ON = dt.date(2026, 11, 28)
SIROLIMUS = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                         "code": "35302", "display": "sirolimus"}]}
SUBJECT = {"reference": "Patient/pat-1003"}


def dispense(supply: dict[str, Any] | None, handed: str = "2026-11-01") -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "MedicationDispense", "id": "d-1",
                           "status": "completed", "medicationCodeableConcept": SIROLIMUS,
                           "subject": SUBJECT, "whenHandedOver": handed}
    if supply is not None:
        res["daysSupply"] = supply
    return res


@pytest.mark.parametrize("supply", [
    {"value": 9999999, "unit": "d"},          # past the calendar's end
    {"value": 30, "code": None, "unit": "d"},  # a null code: the unit is read
    {"value": 1, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"},  # a year
    {"value": 2, "unit": "mo"},
])
def test_a_supply_covering_the_day_is_given_now(supply: dict[str, Any]) -> None:
    now = now_given(dispense(supply), ON)
    assert now is not None and "given now" in now.how


@pytest.mark.parametrize("supply", [{"value": 7, "unit": "d"}, {"value": 1, "unit": "wk"}])
def test_a_supply_run_out_is_not(supply: dict[str, Any]) -> None:
    assert now_given(dispense(supply), ON) is None


def test_a_record_with_a_supply_past_the_calendar_is_read() -> None:
    """The whole record is read (it had raised OverflowError), the dispense running."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"].append({"resource": dispense({"value": 9999999, "unit": "d"})})
    read = case_from_bundle(bundle, on=ON)
    assert any("d-1" in p.where for p in read.running)


def administration(period: dict[str, str]) -> dict[str, Any]:
    return {"resourceType": "MedicationAdministration", "id": "ad-1", "status": "completed",
            "medicationCodeableConcept": SIROLIMUS, "subject": SUBJECT,
            "effectivePeriod": period}


@pytest.mark.parametrize("end", ["2026-11-28", "2026-11-29", "2026-11-28T18:00:00Z"])
def test_an_administration_over_days_up_to_the_day_is_given_now(end: str) -> None:
    assert now_given(administration({"start": "2026-11-26", "end": end}), ON) is not None


def test_an_administration_ended_before_the_day_is_not() -> None:
    """Ended 6 days before the day: the administration itself is not given now, but one
    dose alone within the longest usual interval between doses (21 days) may be the first
    of a line still going on: possibly given now, asked, never said as given; its next
    dose, due by 21 days after it, may be delayed for one such interval more (as a
    course's). Ended more than 42 days before the day (counted from its end, not its
    start): not given now."""
    recent = now_given(administration({"start": "2026-11-20", "end": "2026-11-22"}), ON)
    assert recent is not None and recent.unsure
    delayed = now_given(administration({"start": "2026-10-20", "end": "2026-10-22"}), ON)
    assert delayed is not None and delayed.unsure and "may be delayed" in delayed.how
    assert now_given(administration({"start": "2026-10-10", "end": "2026-10-12"}), ON) is None
    # begun 25 days before the day but ended 19 days before it: within 21 days of its end
    late = now_given(administration({"start": "2026-11-03", "end": "2026-11-09"}), ON)
    assert late is not None and late.unsure


def order(start: str, status: str) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "o-1", "status": status,
            "intent": "order", "medicationCodeableConcept": SIROLIMUS, "subject": SUBJECT,
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": start}}}}]}


@pytest.mark.parametrize(("start", "placed"), [
    ("2026-12-05", Given.planned),         # later: planned, whatever the status says
    ("2026-11", Given.maybe_started),      # a month holding the day: may have started
    ("2026-11-01", Given.unknown),         # begun: whether given is what is unknown
])
def test_a_status_unknown_is_placed_by_its_dates(start: str, placed: Given) -> None:
    assert given(order(start, "unknown"), ON) is placed
    # the same dates with a status under way place it alike
    assert given(order(start, "active"), ON) is (
        Given.given if placed is Given.unknown else placed)


def test_a_later_order_of_status_unknown_is_an_order_in_place() -> None:
    """Read in a record, it is listed among the planned orders (which patient-view checks
    against the allergy list), not lost between planned and given."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"].append({"resource": order("2026-12-05", "unknown")})
    read = case_from_bundle(bundle, on=ON)
    assert any("o-1" in p.where for p in read.planned)
