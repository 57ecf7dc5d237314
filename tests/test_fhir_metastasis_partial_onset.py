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
that timing is recorded; the day stays unknown (never invented), so the disease-free
interval is known only within a range and asked (S16's 12 months never taken as met).
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
    The day is not invented; the note gives the interval's range and says it is asked.
    S11's postoperative treatment for metastases at presentation is not offered, the
    timing not asked; the interval is (MISS-DFI), S16 waiting on it."""
    bc = _read(onset)
    met = bc.case.stage.metastases[0]
    assert met.timing is Timing.metachronous
    assert met.detected_on is None and met.detected_on_or_before is None
    said = _note(bc)
    assert "metachronous" in said and months in said and "2024-04-09" in said
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
    assert "S16's interval is not met" in _note(bc)
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
