"""Metastases found before an operation, the patient's state after it not recorded (I21).

An operation that left no gross tumour and came after every metastasis listed was found
may have removed every known focus. Unknown is not absent: the record says neither that
the patient is free of disease since nor that disease was left, so the engine asks
(MISS-FREE-AFTER-OPERATION), takes the disease as present meanwhile (the safer reading:
its treatment is shown) and says so on every item that rests on it, and does not stop
surveillance (the high-risk schedule of I8 is drawn from the operation, provisional).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case, plan_surveillance
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 1)
ASK = "MISS-FREE-AFTER-OPERATION"
#: The items that treat the disease as present: each waits on the question.
PRESENT_DISEASE = ("REC-AGGRESSIVE-SURGERY", "REC-REFER-SURGERY", "REC-MTOR-FIRST-LINE",
                   "SUPP-NAB-SIROLIMUS")

#: An 8 cm necrotic retroperitoneal PEComa, one liver metastasis found on 2026-05-20,
#: surgery on 2026-06-20 with an R0 margin; the disease is recorded as resectable and
#: excision of all foci feasible. Whether the operation removed the liver metastasis is
#: not recorded (no free_of_disease).
BASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2026-06-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 8, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "absent"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2026-05-20"}],
              "extrapulmonary_disease": "yes", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": "2026-06-20", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def _case(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = data
        for p in parents:
            node = node[p]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _item(a: Assessment, record_id: str) -> Any:
    return next(i for i in (*a.recommendations, *a.alerts, *a.followup) if i.id == record_id)


def _asked(a: Assessment) -> bool:
    return any(m.id == ASK for m in a.missing)


class TestAsked:
    def test_reported_case_asks_and_marks_present_disease_advice_provisional(self) -> None:
        """The reported case: the liver metastasis was found a month before the R0
        operation and the record does not say whether the patient is free of disease
        after it. The question is asked; S17, the referral for surgery, the mTOR
        inhibitor and nab-sirolimus (all for present disease) wait on it; S11 stands
        either way and does not."""
        a = _assess(_case())
        assert _asked(a)
        miss = next(m for m in a.missing if m.id == ASK)
        assert set(PRESENT_DISEASE) <= set(miss.affects)
        for rid in PRESENT_DISEASE:
            assert ASK in _item(a, rid).conditional_on, rid
        assert ASK not in _item(a, "REC-ADJ-NODES-METS").conditional_on
        assert "I21" in {i.id for i in a.interpretations}

    def test_says_the_disease_is_taken_as_present(self) -> None:
        """The derived facts say the disease is taken as present, and why."""
        a = _assess(_case())
        present = [f for f in a.derived if f.path == "derived.disease_present"]
        assert present and present[0].value.startswith("yes, taken as present")

    def test_surgery_stays_first_in_the_decision_order(self) -> None:
        """The question makes surgery and systemic treatment provisional alike: removal of
        every focus stays the first step (S17), before systemic treatment."""
        ids = [i.id for i in _assess(_case()).recommendations]
        assert ids.index("REC-AGGRESSIVE-SURGERY") < ids.index("REC-MTOR-FIRST-LINE")

    def test_surveillance_items_provisional(self) -> None:
        """The surveillance the answer would restart (I8) waits on it too."""
        a = _assess(_case())
        for rid in ("FU-AFTER-RELAPSE", "FU-HIGH-INTENSIVE"):
            assert ASK in _item(a, rid).conditional_on, rid

    def test_plan_not_stopped_meanwhile(self) -> None:
        """Before the fix the plan was not drawn (disease present), so a patient who is in
        fact free of disease after the operation had no visits at all. Meanwhile the
        high-risk schedule counts from the operation, provisional on the question."""
        case = parse_case(_case())
        plan = plan_surveillance(case, assess(case, ON), ON)
        assert plan.status == "active"
        assert plan.surveillance_group == "high"
        assert plan.anchor == dt.date(2026, 6, 20)
        assert any(m.id == ASK for m in plan.missing)
        assert all(ASK in p.item.conditional_on for p in plan.phases)

    @pytest.mark.parametrize("label", ["metastatic", "recurrent"])
    def test_same_facts_same_advice_whatever_the_label(self, label: str) -> None:
        """A metastasis listed makes the disease metastatic whatever the status label
        (I6): the question and the provisional advice are the same. (Found after the
        diagnosis, 2026-06-01, and before the operation: a recurrent label is admitted.)"""
        a = _assess(_case(stage__status=label, stage__metastases=[
            {"site": "liver", "detected_on": "2026-06-10"}]))
        assert _asked(a)
        assert ASK in _item(a, "REC-MTOR-FIRST-LINE").conditional_on

    def test_detected_on_the_day_of_the_operation(self) -> None:
        """A metastasis found on the day of the operation (at surgery) may have been
        removed by it."""
        assert _asked(_assess(_case(stage__metastases=[
            {"site": "peritoneum", "detected_on": "2026-06-20"}])))

    def test_stated_synchronous_without_dates(self) -> None:
        """A metastasis stated synchronous (present at presentation), undated: it may have
        been removed by the operation."""
        assert _asked(_assess(_case(stage__metastases=[
            {"site": "liver", "timing": "synchronous"}])))

    def test_margin_not_recorded(self) -> None:
        """A margin not recorded may have been R0: still asked."""
        assert _asked(_assess(_case(surgery__margin="unknown")))

    def test_synchronous_lung_metastasis_metastasectomy_provisional(self) -> None:
        """A synchronous lung metastasis: S16's criteria are not met (no disease-free
        interval), and that item too rests on the metastasis being still there."""
        a = _assess(_case(stage__metastases=[{"site": "lung", "detected_on": "2026-05-20"}],
                          stage__extrapulmonary_disease="no"))
        assert _asked(a)
        assert ASK in _item(a, "REC-LUNG-METASTASECTOMY-NOT-MET").conditional_on

    def test_resectability_unknown(self) -> None:
        """With resectability not recorded S17 waits on both questions."""
        a = _assess(_case(stage__resectable="unknown",
                          stage__complete_excision_feasible="unknown"))
        conditions = _item(a, "REC-AGGRESSIVE-SURGERY").conditional_on
        assert "MISS-RESECTABLE" in conditions and ASK in conditions


class TestNotAsked:
    def test_free_of_disease_recorded(self) -> None:
        """The answer recorded (free of disease since the operation, by surgery): no
        question, no advice for present disease, S11 and I8 surveillance."""
        a = _assess(_case(free_of_disease={"since": "2026-06-20", "by": "surgery"}))
        assert not _asked(a)
        ids = set(a.record_ids())
        assert not ids & set(PRESENT_DISEASE)
        assert {"REC-ADJ-NODES-METS", "FU-AFTER-RELAPSE"} <= ids

    def test_metachronous_metastasis(self) -> None:
        """A metastasis found after the operation: the operation did not remove it, the
        disease is present, nothing to ask."""
        a = _assess(_case(stage__metastases=[{"site": "liver", "detected_on": "2026-09-01"}]))
        assert not _asked(a)
        assert not _item(a, "REC-MTOR-FIRST-LINE").conditional_on

    def test_one_metastasis_found_after_the_operation(self) -> None:
        """Several metastases, one found after the operation: that one at least is
        present."""
        assert not _asked(_assess(_case(stage__metastases=[
            {"site": "liver", "detected_on": "2026-05-20"},
            {"site": "lung", "detected_on": "2026-10-01"}])))

    def test_stated_metachronous(self) -> None:
        assert not _asked(_assess(_case(stage__metastases=[
            {"site": "liver", "timing": "metachronous"}])))

    def test_gross_tumour_left(self) -> None:
        """An R2 margin left gross tumour: disease is present."""
        assert not _asked(_assess(_case(surgery__margin="R2")))

    @pytest.mark.parametrize("field", ["resectable", "complete_excision_feasible"])
    def test_current_disease_beyond_surgery(self, field: str) -> None:
        """The current disease recorded as beyond surgery: it is there."""
        other = "complete_excision_feasible" if field == "resectable" else "resectable"
        data = _case(**{f"stage__{field}": "no", f"stage__{other}": "unknown"})
        assert not _asked(_assess(data))

    def test_line_measured_after_the_operation(self) -> None:
        """A line started after the operation on which the disease was measured
        responding: disease was left."""
        assert not _asked(_assess(_case(systemic__therapies=[
            {"agent": "sirolimus", "setting": "advanced", "line": 1,
             "started_on": "2026-07-15", "best_response": "partial", "progressed": "no"}])))

    @pytest.mark.parametrize("setting", ["advanced", None])
    def test_complete_response_after_the_operation(self, setting: str | None) -> None:
        """A complete response can only be measured on disease present when the line
        began: a line started after the operation with a complete response says the
        operation left disease, so whether it removed every focus is not asked (it had
        been). Whether that line has since cleared the disease is free_of_disease with its
        date (I8); without it the disease is taken as present, as for any complete
        response without that record: no schedule waits on the operation's question. A
        complete response on a line begun before the operation says nothing of what the
        operation left: the question stays."""
        line = {"agent": "sirolimus", "line": 1, "started_on": "2026-07-15",
                "best_response": "complete", "progressed": "no"}
        if setting is not None:  # a line recorded with no setting: not adjuvant
            line["setting"] = setting
        a = _assess(_case(systemic__therapies=[line]))
        assert not _asked(a)
        assert ASK not in _item(a, "FU-AFTER-RELAPSE").conditional_on
        before = {**line, "setting": "advanced", "started_on": "2026-06-05"}
        assert _asked(_assess(_case(systemic__therapies=[before])))

    def test_a_complete_response_on_an_adjuvant_line_says_nothing_left(self) -> None:
        """Records write an uneventful adjuvant course as a complete response: an adjuvant
        line begun after the operation treats no measured disease, so its 'complete' does
        not say the operation left disease. The question stays, and the plan is drawn from
        the operation, provisional (a first version had dropped both: every advice for
        present disease unconditional and no plan)."""
        line = {"agent": "doxorubicin", "setting": "adjuvant", "line": 1,
                "started_on": "2026-07-15", "best_response": "complete", "progressed": "no"}
        a = _assess(_case(systemic__therapies=[line]))
        assert _asked(a)
        assert ASK in _item(a, "FU-AFTER-RELAPSE").conditional_on

    @pytest.mark.parametrize("status", ["planned", "not_performed"])
    def test_no_operation(self, status: str) -> None:
        """No operation done: nothing could have removed the metastasis."""
        data = _case(surgery={"status": status})
        assert not _asked(_assess(data))


END = "MISS-ADJUVANT-END"
#: Doxorubicin recorded as adjuvant, begun after the operation (S11's postoperative
#: treatment), its end not recorded.
POSTOP = {"agent": "doxorubicin", "setting": "adjuvant", "line": 1, "started_on": "2026-07-15"}


class TestPostoperativeLineWithoutEnd:
    """The plan I21 draws counts from the operation; a line recorded as adjuvant after it
    is that operation's postoperative treatment, and surveillance counts from its end
    (I22). Until the end is recorded the one I22 rule applies, as after a localized
    resection: the end is asked, the visits count from the operation provisionally and the
    phases from the line's start. Before, no end was asked and the plan counted from the
    operation as if treatment had ended there."""

    @pytest.mark.parametrize("started_on", ["2026-07-15", "2026-06-20", None])
    def test_the_end_is_asked_beside_the_clearance(self, started_on: str | None) -> None:
        """Begun after the operation, on its day, or undated: the end is unknown and the
        schedule waits on it as well as on whether the operation cleared the disease; the
        advice for present disease waits on the clearance alone."""
        line = {**POSTOP, "started_on": started_on}
        if started_on is None:
            del line["started_on"]
        a = _assess(_case(systemic__therapies=[line]))
        assert _asked(a)
        assert any(m.id == END for m in a.missing)
        for rid in ("FU-HIGH-INTENSIVE", "FU-HIGH-SIX-MONTHLY", "FU-HIGH-YEARLY"):
            assert {ASK, END} <= set(_item(a, rid).conditional_on), rid
        assert END not in _item(a, "REC-MTOR-FIRST-LINE").conditional_on
        # an advanced line after the operation, its response not recorded, treats
        # disease: no adjuvant course, its end not asked
        a = _assess(_case(systemic__therapies=[{**line, "agent": "sirolimus",
                                                 "setting": "advanced"}]))
        assert _asked(a)
        assert not any(m.id == END for m in a.missing)

    def test_plan_counts_from_the_operation_provisionally_then_from_the_end(self) -> None:
        """While the end is unknown the visits count from the operation (2026-06-20), the
        phases from the line's start (2026-07-15), every phase waiting on the end, and the
        plan says so. Once the end is recorded (2026-11-01) the plan counts from it and a
        response scan during the chemotherapy (2026-09-20) is a scan during treatment,
        kept and no visit."""
        scan = [ImagingEvent(dt.date(2026, 9, 20), Modality.chest_ct,
                             ScanFinding.no_evidence_of_disease)]
        on = dt.date(2026, 12, 10)
        case = parse_case(_case(systemic__therapies=[POSTOP]))
        plan = plan_surveillance(case, assess(case, on), on, scan)
        assert plan.status == "active"
        assert plan.anchor == dt.date(2026, 6, 20)
        assert plan.anchor_basis == "surgery"
        assert {ASK, END} <= {m.id for m in plan.missing}
        assert any(r.id == "FU-ADJUVANT-END-NOT-RECORDED" for r in plan.reasons)
        assert all({ASK, END} <= set(p.item.conditional_on) for p in plan.phases)
        # the six-monthly phase after three years, counted from the line's start
        assert plan.phases[1].starts == dt.date(2029, 7, 15)

        ended = parse_case(_case(systemic__therapies=[POSTOP],
                                 primary_treatment_end="2026-11-01"))
        plan = plan_surveillance(ended, assess(ended, on), on, scan)
        assert plan.anchor == dt.date(2026, 11, 1)
        assert plan.anchor_basis == "treatment_end"
        assert END not in {m.id for m in plan.missing}
        assert [e.date for e in plan.during_treatment] == [dt.date(2026, 9, 20)]
        assert all(v.done_on is None for v in plan.visits)
