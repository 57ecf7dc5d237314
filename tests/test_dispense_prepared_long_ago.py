"""A dispense prepared long ago, whose handover day is not recorded, is not "possibly
given now" forever.

A dispense marked handed over (``completed``) with no ``whenHandedOver`` may have been
handed over on any day, so it is read as possibly given now (HAZ-346). It was read that
way whatever its ``whenPrepared``: sirolimus prepared on 2015-01-01 with 30 days' supply
was still "possibly given now" in 2026, and patient-view showed the critical card for a
drug from eleven years ago.

Now a dispense prepared on a known day is taken as handed over at most 30 days
(``HANDOVER_MARGIN``) after that day. Its supply (``daysSupply``, or 90 days when none is
given, ``UNSTATED_SUPPLY``) is counted from then. Once that last day has passed, the
dispense is over and the reader says so in a note. Until then it stays possibly given
now. The dates below are hand-placed, and the record is read on 2026-11-28.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.case import Agent
from pecoma.fhir.medications import now_given
from pecoma.fhir.reader import case_from_bundle

from fhir_support import example

ON = dt.date(2026, 11, 28)
SUBJECT = {"reference": "Patient/pat-1003"}
SIROLIMUS = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                         "code": "35302", "display": "sirolimus"}]}


def dispense(**fields: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationDispense", "id": "md-1", "status": "completed",
            "subject": SUBJECT, "medicationCodeableConcept": SIROLIMUS, **fields}


@pytest.mark.parametrize(("fields", "why"), [
    ({"whenPrepared": "2015-01-01", "daysSupply": {"value": 30, "unit": "d"}},
     "prepared in 2015, 30 days' supply: run out by 2015-03-01 at the latest"),
    ({"whenPrepared": "2015-01-01"}, "no supply given: 90 days, run out in 2015"),
    # 2026-07-01 + 30 days' margin + 90 days - 1: 2026-10-28, a month before the 28th
    ({"whenPrepared": "2026-07-01"}, "no supply given, prepared five months ago"),
    # 2026-09-01 + 30 + 30 - 1 = 2026-10-30: run out
    ({"whenPrepared": "2026-09-01", "daysSupply": {"value": 30, "unit": "d"}},
     "30 days' supply prepared three months ago"),
])
def test_a_dispense_prepared_long_ago_is_over(fields: dict[str, Any], why: str) -> None:
    assert now_given(dispense(**fields), ON) is None, why


@pytest.mark.parametrize(("fields", "why"), [
    # 2026-09-01 + 30 + 90 - 1 = 2026-11-29: may still be taken on the 28th
    ({"whenPrepared": "2026-09-01"}, "no supply given: 90 days may still run"),
    # 2026-10-01 + 30 + 30 - 1 = 2026-11-29
    ({"whenPrepared": "2026-10-01", "daysSupply": {"value": 30, "unit": "d"}},
     "handed over up to a month late, its 30 days may still run"),
    ({"whenPrepared": "2026-06-01", "daysSupply": {"value": 6, "unit": "mo"}},
     "six months' supply: 186 days"),
    # a month only: prepared up to 31 August, + 30 + 88 - 1 = 2026-12-26 (counted from
    # 1 August it would have run out on 2026-11-26: the later day is the safer)
    ({"whenPrepared": "2026-08", "daysSupply": {"value": 88, "unit": "d"}},
     "a month only: counted from its last day"),
    ({}, "no day at all: its timing unknown"),
])
def test_a_dispense_whose_bound_has_not_passed_is_possibly_given_now(
        fields: dict[str, Any], why: str) -> None:
    now = now_given(dispense(**fields), ON)
    assert now is not None and now.unsure, why
    assert now.how.startswith("possibly given now (status 'completed'")


def test_the_reader_says_the_dispense_prepared_long_ago_is_over() -> None:
    """The line stays a line given in the past (sirolimus); it is not listed as running,
    and a note says why: prepared on 2015-01-01, with 30 days' supply run out by
    2015-03-01 even if handed over a month late; asks for the handover day if it is
    taken now."""
    bundle = example("metastatic-lung-metachronous")
    bundle["entry"].append({"resource": dispense(
        whenPrepared="2015-01-01", daysSupply={"value": 30, "unit": "d"})})
    bc = case_from_bundle(bundle, on=ON)
    assert list(bc.running) == []
    assert [t.agent for t in bc.case.systemic.therapies] == [Agent.sirolimus]
    [note] = [n for n in bc.notes if n.startswith("MedicationDispense/md-1:")
              and "handed over" in n]
    assert "prepared 2015-01-01" in note
    assert "read as not taken now" in note
    assert "30 days after it was prepared" in note
    assert "run out by 2015-03-01" in note
    assert note.endswith("record the day it was handed over")
