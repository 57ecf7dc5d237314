"""A resection completed by a later one (after an R2 margin): the FHIR reader reads the
latest resection as the surgery, with the margin that belongs to it, or leaves the margin
unknown when it cannot tell; never the first operation's date with the second's margin."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pecoma.case import Margin
from pecoma.case.parse import parse_case
from pecoma.fhir import codes as c
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

_R2_CASE = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-02", "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 3, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative", "resectable": "yes"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R2"},
}


def _entry(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e for e in bundle["entry"] if e["resource"].get("id") == rid)


def _completed(second_margin_on: str | None, second_on: str | None = "2025-03-01"
               ) -> dict[str, Any]:
    """The R2 case's bundle with a second resection and a second margin Observation, R0
    (dated ``second_margin_on``, undated when None)."""
    case = parse_case(_R2_CASE)
    bundle = bundle_from_case(case)
    proc = copy.deepcopy(_entry(bundle, "resection"))
    proc["resource"]["id"] = "resection-2"
    proc["fullUrl"] += "-2"
    if second_on is None:
        del proc["resource"]["performedDateTime"]
    else:
        proc["resource"]["performedDateTime"] = second_on
    margin = copy.deepcopy(_entry(bundle, "resection-margin"))
    margin["resource"]["id"] = "resection-margin-2"
    margin["fullUrl"] += "-2"
    margin["resource"]["valueCodeableConcept"] = {
        "coding": [{"system": c.PECOMA_SYSTEM, "code": "R0"}], "text": "R0"}
    if second_margin_on is not None:
        margin["resource"]["effectiveDateTime"] = second_margin_on
    bundle["entry"] += [proc, margin]
    return bundle


class TestCompletingResection:
    def test_the_margin_observed_after_the_latest_resection_is_its_margin(self) -> None:
        # an R2 resection on 10 January, completed on 1 March, R0 reported on 3 March:
        # the surgery is the completing one with its R0 margin, not 10 January with R0
        read = case_from_bundle(_completed("2025-03-03"))
        assert read.case.surgery.date is not None
        assert read.case.surgery.date.isoformat() == "2025-03-01"
        assert read.case.surgery.margin is Margin.R0
        assert any("latest of several resections" in n for n in read.notes)

    def test_a_margin_observed_before_the_latest_resection_is_not_pinned_to_it(self) -> None:
        read = case_from_bundle(_completed("2025-02-01"))
        assert read.case.surgery.date is not None
        assert read.case.surgery.date.isoformat() == "2025-03-01"
        assert read.case.surgery.margin is Margin.unknown
        assert any("no margin can be tied to the latest resection" in n for n in read.notes)

    def test_an_undated_margin_with_two_resections_stays_unknown(self) -> None:
        # neither margin is dated: which resection each belongs to cannot be told
        read = case_from_bundle(_completed(None))
        assert read.case.surgery.margin is Margin.unknown

    def test_two_margins_of_one_day_that_differ_leave_it_unknown(self) -> None:
        # after the completing resection, R0 (coded) and "Positive margin" (a pathology
        # text) reported the same day: neither is the later, so the margin is unknown and
        # both are named; the entry order had decided (the first, R0: S27 hidden)
        bundle = _completed("2025-03-03")
        bundle["entry"].append({"resource": {
            "resourceType": "Observation", "id": "margin-text", "status": "final",
            "subject": _entry(bundle, "resection-margin")["resource"]["subject"],
            "code": {"text": "Resection margin status"}, "effectiveDateTime": "2025-03-03",
            "valueString": "Positive margin at the deep edge"}})
        read = case_from_bundle(bundle)
        assert read.case.surgery.margin is Margin.unknown
        assert any(n.startswith("surgery.margin: ") and "resection-margin-2" in n
                   and "Observation/margin-text" in n for n in read.notes)

    def test_an_undated_resection_leaves_date_and_margin_unknown(self) -> None:
        read = case_from_bundle(_completed("2025-03-03", second_on=None))
        assert read.case.surgery.date is None
        assert read.case.surgery.margin is Margin.unknown
        assert any("not all are dated" in n for n in read.notes)

    def test_a_dated_r2_margin_keeps_the_first_resection_and_its_completion(self) -> None:
        # the R2 margin observed on the day of the first operation: the case keeps the R2
        # resection as the surgery and the later one as its completion, with its R0
        bundle = _completed("2025-03-03")
        _entry(bundle, "resection-margin")["resource"]["effectiveDateTime"] = "2025-01-10"
        surgery = case_from_bundle(bundle).case.surgery
        assert surgery.date is not None and surgery.date.isoformat() == "2025-01-10"
        assert surgery.margin is Margin.R2
        assert surgery.completion is not None and surgery.completion.date is not None
        assert surgery.completion.date.isoformat() == "2025-03-01"
        assert surgery.completion.margin is Margin.R0

    def test_a_completion_round_trips(self) -> None:
        case = parse_case({**_R2_CASE, "surgery": {
            **_R2_CASE["surgery"], "completion": {"date": "2025-03-01", "margin": "R1"}}})
        assert case_from_bundle(bundle_from_case(case)).case.surgery == case.surgery


class TestResectionStatuses:
    """A resection recorded as done is the surgery, whatever a cancelled or planned
    record of it beside says; a margin with no resection recorded as done is left unknown
    with a note, never a refused record."""

    @staticmethod
    def _r0() -> dict[str, Any]:
        return bundle_from_case(parse_case({**_R2_CASE, "surgery": {
            "status": "performed", "date": "2025-01-10", "margin": "R0"}}))

    def test_a_cancelled_earlier_booking_does_not_hide_the_resection_done(self) -> None:
        # booked for 5 January and cancelled (not-done), done on 10 January: the patient
        # was operated on; read as not operated, the advice would be to resect (and the
        # margin had made the whole record refused)
        bundle = self._r0()
        cancelled = copy.deepcopy(_entry(bundle, "resection"))
        cancelled["fullUrl"] += "-cancelled"
        cancelled["resource"].update(id="resection-cancelled", status="not-done",
                                     performedDateTime="2025-01-05")
        bundle["entry"].append(cancelled)
        read = case_from_bundle(bundle)
        assert read.case.surgery.status.value == "performed"
        assert read.case.surgery.date is not None
        assert read.case.surgery.date.isoformat() == "2025-01-10"
        assert read.case.surgery.margin is Margin.R0
        assert any("not-done" in n and "resection-cancelled" in n for n in read.not_read)

    def test_the_latest_of_records_none_done_says_where_things_stand(self) -> None:
        # cancelled on 5 January, booked again (preparation) for 20 February: planned
        bundle = self._r0()
        _entry(bundle, "resection")["resource"].update(
            status="preparation", performedDateTime="2025-02-20")
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"].get("id") != "resection-margin"]
        cancelled = copy.deepcopy(_entry(bundle, "resection"))
        cancelled["fullUrl"] += "-cancelled"
        cancelled["resource"].update(id="resection-cancelled", status="not-done",
                                     performedDateTime="2025-01-05")
        bundle["entry"].append(cancelled)
        assert case_from_bundle(bundle).case.surgery.status.value == "planned"

    def test_status_unknown_and_a_margin_are_read_as_unknown_with_notes(self) -> None:
        bundle = self._r0()
        _entry(bundle, "resection")["resource"]["status"] = "unknown"
        read = case_from_bundle(bundle)
        assert read.case.surgery.status.value == "unknown"
        assert read.case.surgery.margin is Margin.unknown
        assert any("status 'unknown' does not say whether" in n for n in read.notes)
        assert any("a margin while no resection" in n for n in read.notes)

    def test_a_margin_without_the_operation_record_is_not_refused(self) -> None:
        bundle = self._r0()
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"]["resourceType"] != "Procedure"]
        read = case_from_bundle(bundle)
        assert read.case.surgery.status.value == "unknown"
        assert read.case.surgery.margin is Margin.unknown
        assert "surgery.status" in read.not_found

    @pytest.mark.parametrize("change", [
        {"status": "stopped"},
        {"outcome": {"coding": [{"system": "http://snomed.info/sct", "code": "385671000",
                                 "display": "Unsuccessful"}]}},
    ])
    def test_a_stopped_or_unsuccessful_resection_is_noted(self, change: dict[str, Any]
                                                          ) -> None:
        bundle = self._r0()
        _entry(bundle, "resection")["resource"].update(change)
        read = case_from_bundle(bundle)
        assert read.case.surgery.status.value == "performed"
        assert any("it may not have removed the tumour" in n for n in read.notes)
