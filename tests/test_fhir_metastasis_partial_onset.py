"""A metastasis whose onset an EHR gives as a year or a month ("2025", "2025-04").

tests/data/mcode/uterus-localized.json holds a uterine PEComa and its hysterectomy
(completed 2024-04-09, R0); an mCODE SecondaryCancerCondition of the lung is added, its
``onsetDateTime`` a partial date, as EHRs send a metastasis whose day was not entered.
Before, such an onset was read as no detection date at all: the timing was unknown and
asked ("was it present at presentation?"), and S11's postoperative chemotherapy or
radiotherapy "for metastases at presentation" was offered for a metastasis found a year
after surgery. A partial date counts as the days it may be (docs/fhir.md): where every
one of them gives the same timing by the engine's rule (I7: on or before the end of the
primary's curative treatment synchronous; 3 months or more after it metachronous, I29),
that timing is recorded, its source saying it is derived; the day stays unknown (never
invented). Metachronous, the last day it may be, and never after the evaluation date, is
recorded as the day it was found on or before: the disease-free interval is then at most
what that day gives, short of S16's interval whatever the day, or asked (never taken as
met).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import Timing
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

ON = dt.date(2026, 12, 7)
MCODE = Path(__file__).parent / "data" / "mcode"
LUNG_METASTASIS = "Condition/lung-metastasis"


def _record(onset: str) -> dict[str, Any]:
    """The mCODE example, its statements of no metastatic history removed, with a lung
    metastasis (mCODE SecondaryCancerCondition, SNOMED CT 94391008) whose onset is
    ``onset``."""
    data: dict[str, Any] = json.loads((MCODE / "uterus-localized.json").read_text("utf-8"))
    data["entry"] = [e for e in data["entry"] if e["resource"]["id"] not in (
        "no-history-of-metastatic-cancer-pecoma-u", "cancer-disease-status-pecoma-u")]
    data["entry"].append({"fullUrl": "http://example.org/fhir/Condition/lung-metastasis",
                          "resource": {
        "resourceType": "Condition", "id": "lung-metastasis",
        "meta": {"profile": [
            "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"]},
        "extension": [{
            "url": "http://hl7.org/fhir/StructureDefinition/condition-related",
            "valueReference": {"reference": "Condition/primary-cancer-condition-uterus"}}],
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "problem-list-item"}]}],
        "code": {"coding": [{"system": "http://snomed.info/sct", "code": "94391008",
                             "display": "Secondary malignant neoplasm of lung"}]},
        "subject": {"reference": "Patient/cancer-patient-pecoma-u"},
        "onsetDateTime": onset}})
    return data


def _read(onset: str) -> BundleCase:
    return case_from_bundle(_record(onset), validate="none", on=ON)


def _note(bc: BundleCase) -> str:
    return next(n for n in bc.notes if n.startswith(f"{LUNG_METASTASIS}: its onset"))


@pytest.mark.parametrize("onset, months", [("2025", "between 8 and 20 months"),
                                           ("2025-04", "between 11 and 12 months")])
def test_every_day_after_the_resection_is_metachronous(onset: str, months: str) -> None:
    """Every day of 2025 (of April 2025) is more than 3 months after the hysterectomy of
    2024-04-09, the end of the primary's treatment: metachronous whatever the day (I7).
    The day is not invented (found on or before the last day it may be, 2025-12-31 or
    2025-04-30, from which the interval may reach 12 months); the note gives the
    interval's range and says it is asked. S11's postoperative treatment for metastases
    at presentation is not offered, the timing not asked; the interval is (MISS-DFI),
    S16 waiting on it. Both facts are shown as derived, not stated."""
    bc = _read(onset)
    met = bc.case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on is None
    assert met.detected_on_or_before == {"2025": dt.date(2025, 12, 31),
                                         "2025-04": dt.date(2025, 4, 30)}[onset]
    assert "derived, not stated" in bc.sources["stage.metastases[0].timing"]
    assert "derived, not stated" in bc.sources["stage.metastases[0].detected_on_or_before"]
    said = _note(bc)
    assert "metachronous" in said and months in said and "2024-04-09" in said
    # one note, saying which way the interval goes: asked (the case holds only an upper
    # bound of the day found), never that it "is not met ..., else asked"
    assert "S16's interval is asked" in said and "never taken as met" in said
    assert [n for n in bc.notes if LUNG_METASTASIS in n] == [said]
    a = assess(bc.case, ON)
    ids = {r.id for r in a.recommendations}
    missing = {m.id for m in a.missing}
    assert "REC-ADJ-NODES-METS" not in ids
    assert "MISS-METASTASIS-TIMING" not in missing
    assert "MISS-DFI" in missing
    assert "REC-LUNG-METASTASECTOMY" not in ids


def test_a_range_all_under_twelve_months_does_not_meet_s16() -> None:
    """February 2025: every day is 3 months or more after 2024-04-09 (metachronous) and
    under 12 months after it (at most 10 full months): S16's interval is not met
    whatever the day, so it is not asked. The case says the metastasis was found on or
    before 2025-02-28 (true of every day it may be), never a day invented."""
    bc = _read("2025-02")
    met = bc.case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on is None
    assert met.detected_on_or_before == dt.date(2025, 2, 28)
    assert "between 9 and 10 months" in _note(bc)
    assert "found on or before 2025-02-28" in _note(bc)
    # at most 10 months whatever the day: the note says not met, not asked
    assert "at most 10 months whatever the day" in _note(bc)
    assert "the interval is not met (not asked)" in _note(bc)
    assert [n for n in bc.notes if LUNG_METASTASIS in n] == [_note(bc)]
    a = assess(bc.case, ON)
    assert "MISS-DFI" not in {m.id for m in a.missing}
    assert not {"REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING"} & {
        r.id for r in a.recommendations}


def test_every_day_before_the_resection_is_synchronous() -> None:
    """March 2024, every day before the hysterectomy of 2024-04-09: present at
    presentation (synchronous), as a day found then would be."""
    bc = _read("2024-03")
    assert bc.case.stage.metastases[0].timing is Timing.synchronous
    assert "synchronous" in _note(bc)


@pytest.mark.parametrize("onset", ["2024-04", "2024-07", "2024"])
def test_days_on_both_sides_decide_nothing(onset: str) -> None:
    """April 2024 holds the day of the operation; July 2024 holds days before and after
    the first surveillance scan (3 months after 2024-04-09: I29, present at presentation
    or an early relapse); 2024 holds both. The timing is not decided (asked, the safer
    branch as before), and a note says why."""
    bc = _read(onset)
    assert bc.case.stage.metastases[0].timing is Timing.unknown
    assert "not decided" in _note(bc)
    assert "MISS-METASTASIS-TIMING" in {m.id for m in assess(bc.case, ON).missing}


@pytest.mark.parametrize("onset", ["2026-12", "2026"])
def test_the_onset_holding_the_evaluation_date_ends_at_it(onset: str) -> None:
    """December 2026 (and 2026) holds the evaluation date, 2026-12-07: the metastasis was
    found by then, so the days it may be end there. Before, the last day of the month
    (year), 2026-12-31, was recorded as the day it was found on or before, after the
    evaluation date, and the case was refused at assessment. Now it is found on or
    before 2026-12-07, metachronous (every day from 2026-01-01 is more than 3 months after
    the hysterectomy of 2024-04-09); from 2024-04-09 to 2026-12-07 the interval may be
    more than 12 months: asked (MISS-DFI), not taken as met."""
    bc = _read(onset)
    met = bc.case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on_or_before == ON
    assert "the evaluation date the last" in _note(bc)
    a = assess(bc.case, ON)  # not refused
    assert "MISS-DFI" in {m.id for m in a.missing}
    assert "REC-LUNG-METASTASECTOMY" not in {r.id for r in a.recommendations}


def test_no_evaluation_date_ends_the_days_at_the_recorded_date() -> None:
    """Read for no evaluation date, the Condition's recordedDate (2026-12-03) ends the
    days the onset "2026-12" may be: found on or before it."""
    data = _record("2026-12")
    data["entry"][-1]["resource"]["recordedDate"] = "2026-12-03"
    met = case_from_bundle(data, validate="none").case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on_or_before == dt.date(2026, 12, 3)


def test_no_date_to_end_the_days_records_none() -> None:
    """Read for no evaluation date and with no recordedDate, the last day "2026-12" may
    be (2026-12-31) may be after the day the case is assessed: it is not recorded (the
    interval is asked); the timing, metachronous whatever the day, still is."""
    bc = case_from_bundle(_record("2026-12"), validate="none")
    met = bc.case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on_or_before is None
    assert "is not recorded as the day it was found by" in _note(bc)
    assert "MISS-DFI" in {m.id for m in assess(bc.case, ON).missing}
