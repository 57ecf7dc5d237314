"""A resection of the primary whose margin is not recorded: unknown is not "no gross
tumour left".

An R2 margin (gross tumour left) means the patient was never free of disease: S16's
disease-free interval is 0 and its criterion is not met (I5), the residue is present
disease (no surveillance calendar, I18), and S11 is weighed once the resection is
completed. Before, a margin not recorded (left out, or ``unknown``) in metastatic disease
was read as if it were known not to be R2: lung metastasectomy was recommended outright
with an interval counted from the surgery, S11 was shown with no condition, the
question after an operation that came after the metastases said as a fact that it "left
no gross tumour", and a surveillance calendar was drawn with no word of the margin. Now
one rule (:func:`pecoma.engine.facts.gross_tumour_left`) says whether gross tumour was
left: yes (R2), no (R0, R1, uncertain) or unknown (not recorded); unknown asks the
margin (``MISS-PRIMARY-MARGIN`` after a relapse, ``MISS-MARGIN`` for localized disease)
and every item an R2 margin would change waits on it, the safer branch taken meanwhile.

``uncertain`` is read as the engine and the case format read it everywhere else: a
doubt between R0 and R1 (a close margin; what may be left is microscopic, I6), so it
does not put gross tumour in question and raises no such question.

The patient: an 8 cm soft-tissue PEComa with necrosis, infiltrative growth and high
grade, resected on 2024-02-01, IHC complete, mTOR inhibitors available; assessed on
2026-11-28.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case, plan_surveillance
from pecoma.engine.model import Assessment, Item
from pecoma.engine.plan import SurveillancePlan

from cli_support import run_cli

ON = dt.date(2026, 11, 28)
MARGIN_ASKED = "MISS-PRIMARY-MARGIN"
COMPLETION_ASKED = "MISS-PRIMARY-COMPLETION-MARGIN"
REMOVAL_ASKED = "MISS-FREE-AFTER-OPERATION"
DFI = "derived.disease_free_interval_months"
#: The surveillance items the schedule drawn from the operation consists of.
SCHEDULE = ("FU-HIGH-INTENSIVE", "FU-HIGH-SIX-MONTHLY", "FU-HIGH-YEARLY", "FU-CHEST-CT",
            "FU-MRI-PRIMARY")

#: One lung metastasis found on 2026-03-01, 25 months after the resection; no disease
#: outside the lungs, complete excision feasible, resectable: every other S16 criterion
#: is met. The primary's margin is not recorded.
METACHRONOUS: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive",
                             "desmin": "positive", "tfe3": "negative"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2026-03-01"}],
              "extrapulmonary_disease": "no", "complete_excision_feasible": "yes",
              "resectable": "yes"},
    "surgery": {"status": "performed", "date": "2024-02-01"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def _metachronous(margin: str | None = None, **stage: Any) -> dict[str, Any]:
    data = copy.deepcopy(METACHRONOUS)
    if margin is not None:
        data["surgery"]["margin"] = margin
    data["stage"].update(stage)
    return data


def _synchronous(margin: str | None) -> dict[str, Any]:
    """The same patient with the lung metastasis found on 2024-01-20, before the
    operation of 2024-02-01 (synchronous, I7); the record says nothing of whether the
    operation removed it (no free_of_disease)."""
    return _metachronous(margin, metastases=[{"site": "lung", "detected_on": "2024-01-20"}])


def _localized(margin: str | None) -> dict[str, Any]:
    """The primary alone, localized with positive regional nodes, resected on
    2024-02-01 (S11 applies to positive nodes)."""
    data = _metachronous(margin)
    data["stage"] = {"status": "localized", "lymph_nodes": "positive", "resectable": "yes"}
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _plan(data: dict[str, Any]) -> SurveillancePlan:
    case = parse_case(data)
    return plan_surveillance(case, assess(case, ON), ON)


def _items(a: Assessment) -> dict[str, Item]:
    return {i.id: i for i in (*a.recommendations, *a.alerts, *a.followup)}


def _missing(a: Assessment) -> set[str]:
    return {m.id for m in a.missing}


def _fact(item: Item, path: str) -> str:
    return next(f.value for f in item.triggered_by if f.path == path)


#: A margin not recorded: left out of the case, or recorded as unknown.
NOT_RECORDED = [pytest.param(None, id="left-out"), pytest.param("unknown", id="unknown")]


class TestMetachronousLungMetastasectomy:
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_metastasectomy_waits_on_the_margin(self, margin: str | None) -> None:
        """The reported case. Before: REC-LUNG-METASTASECTOMY, recommended,
        with the interval of 25 months counted from the surgery and no margin asked. With
        R2 the patient was never free of disease (interval 0): S16 would not be met. So
        S16 is undecided (REC-LUNG-METASTASECTOMY-PENDING, whose text keeps S17's removal
        whenever possible as the safer branch), provisional on the margin question."""
        a = _assess(_metachronous(margin))
        items = _items(a)
        assert "REC-LUNG-METASTASECTOMY" not in items
        assert "REC-LUNG-METASTASECTOMY-NOT-MET" not in items
        pending = items["REC-LUNG-METASTASECTOMY-PENDING"]
        assert pending.strength == "undecided: facts missing"
        assert pending.conditional_on == (MARGIN_ASKED,)
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert asked.field == "surgery.margin"
        assert "REC-LUNG-METASTASECTOMY" in asked.affects
        assert "R2" in asked.question and "R2" in asked.would_change
        assert "S17" in asked.meanwhile
        # the margin and the interval are said as they stand: counted from the surgery only
        # if it left no gross tumour
        assert _fact(pending, "surgery.margin") == "unknown"
        assert _fact(pending, DFI).startswith("25 months (dates) if the resection of the "
                                              "primary left no gross tumour")
        # meanwhile S17 stands: every focus removed whenever possible
        assert items["REC-AGGRESSIVE-SURGERY"].conditional_on == ()

    @pytest.mark.parametrize("months", [12, 20, 40])
    def test_stated_interval_waits_on_the_margin_as_a_dated_one_does(
            self, months: int) -> None:
        """An interval stated by the team (12 months or more; the metastasis undated) may
        be counted from the resection whose margin is not recorded, as the dates would
        be: had it left gross tumour (R2) the patient was never free of disease and the
        interval is 0 (I5). Advice follows the facts, not how the interval was entered.
        Before, the stated interval was taken as settling the margin: the metastasectomy
        was recommended outright, the margin never asked, and no residual-tumour alert
        shown, while the same facts with the interval given by dates waited on the
        margin. Now both wait: REC-LUNG-METASTASECTOMY-PENDING, provisional on
        MISS-PRIMARY-MARGIN, the interval said as counted only if no gross tumour was
        left; and the critical alert says tumour may have been left, provisional on the
        margin too."""
        for margin in (None, "unknown"):
            data = _metachronous(margin, metastases=[{"site": "lung",
                                                      "timing": "metachronous"}],
                                 disease_free_interval_months=months)
            a = _assess(data)
            items = _items(a)
            assert "REC-LUNG-METASTASECTOMY" not in items
            pending = items["REC-LUNG-METASTASECTOMY-PENDING"]
            assert MARGIN_ASKED in pending.conditional_on
            assert _fact(pending, "surgery.margin") == "unknown"
            assert _fact(pending, DFI).startswith(
                f"{months} months (stated) if the resection of the primary left no gross "
                "tumour")
            asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
            assert "REC-LUNG-METASTASECTOMY" in asked.affects
            alert = items["ALERT-INCOMPLETE-RESECTION"]
            assert alert.level == "critical"
            assert MARGIN_ASKED in alert.conditional_on
            assert "ALERT-GROSS-RESIDUAL" not in items

    def test_stated_interval_of_a_completed_resection_waits_on_its_margin(self) -> None:
        """The same for a completing resection recorded without its margin after an R2
        one: a stated interval does not say it removed the gross tumour the first left,
        so S16 waits on the completion's margin, asked; the first resection did leave
        gross tumour (R2 recorded), so the alert says so, provisional on the
        completion's margin."""
        data = _metachronous("R2", metastases=[{"site": "lung", "timing": "metachronous"}],
                             disease_free_interval_months=15)
        data["surgery"]["completion"] = {"date": "2024-03-01"}
        a = _assess(data)
        items = _items(a)
        assert "REC-LUNG-METASTASECTOMY" not in items
        assert COMPLETION_ASKED in items["REC-LUNG-METASTASECTOMY-PENDING"].conditional_on
        assert COMPLETION_ASKED in items["ALERT-GROSS-RESIDUAL"].conditional_on

    def test_interval_short_of_a_year_is_not_met_either_way(self) -> None:
        """A metastasis 8 months after the resection: S16's interval is not met whatever
        the margin (R2 would make it 0), so S16 is not met and does not wait on the
        margin (the margin is asked for the gross-residue alert alone)."""
        a = _assess(_metachronous(None, metastases=[{"site": "lung",
                                                     "detected_on": "2024-10-01"}]))
        items = _items(a)
        assert items["REC-LUNG-METASTASECTOMY-NOT-MET"].conditional_on == ()
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert asked.affects == ("ALERT-INCOMPLETE-RESECTION",)

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain"])
    def test_no_gross_tumour_left_unchanged(self, margin: str) -> None:
        """Controls: R0, R1 and uncertain (a doubt between R0 and R1: microscopic at
        most) left no gross tumour; every S16 criterion is met and the metastasectomy is
        recommended outright, with no margin question, as before."""
        a = _assess(_metachronous(margin))
        rec = _items(a)["REC-LUNG-METASTASECTOMY"]
        assert rec.conditional_on == ()
        assert _fact(rec, DFI) == "25 months (dates)"
        assert MARGIN_ASKED not in _missing(a)

    @pytest.mark.parametrize("completion", [None, {"date": "2024-03-01", "margin": "R2"}])
    def test_gross_tumour_left_unchanged(self, completion: dict[str, str] | None) -> None:
        """Controls: R2, not completed or completed by a resection that left R2 again:
        never free of disease, interval 0, S16 not met, the S27 gross-residue alert as a
        fact; nothing asked about the primary's margin."""
        data = _metachronous("R2")
        if completion is not None:
            data["surgery"] = {"status": "performed", "date": "2024-02-01", "margin": "R2",
                               "completion": completion}
        a = _assess(data)
        items = _items(a)
        rec = items["REC-LUNG-METASTASECTOMY-NOT-MET"]
        assert _fact(rec, DFI) == ("0 (gross tumour left by the resection: never free "
                                   "of disease)")
        assert items["ALERT-GROSS-RESIDUAL"].conditional_on == ()
        assert not {MARGIN_ASKED, COMPLETION_ASKED} & _missing(a)

    @pytest.mark.parametrize("completion", [{"date": "2024-03-01"},
                                            {"date": "2024-03-01", "margin": "unknown"}])
    def test_completion_without_margin_is_asked_not_read_as_r2(
            self, completion: dict[str, str]) -> None:
        """A completing resection recorded without its margin was done to remove the
        gross tumour the first left, and may have. Before, it was read as R2 as a fact:
        S16 "not met" with the interval "0 (never free of disease)", the critical
        "tumour was left behind" alert unconditional, and nothing asked (while localized
        disease asked the same margin). Now it is unknown, asked
        (MISS-PRIMARY-COMPLETION-MARGIN, naming the completing resection): the
        metastasectomy is PENDING on it (S17 still applies), the interval counted from
        the completing resection said with its condition, and the alert shown
        provisional on the answer, not as a fact."""
        data = _metachronous("R2")
        data["surgery"] = {"status": "performed", "date": "2024-02-01", "margin": "R2",
                           "completion": completion}
        a = _assess(data)
        items = _items(a)
        assert "REC-LUNG-METASTASECTOMY-NOT-MET" not in items
        pending = items["REC-LUNG-METASTASECTOMY-PENDING"]
        assert pending.conditional_on == (COMPLETION_ASKED,)
        assert _fact(pending, DFI).startswith(
            "24 months (dates) if the resection that completed the R2 one removed the "
            "gross tumour")
        assert items["ALERT-GROSS-RESIDUAL"].conditional_on == (COMPLETION_ASKED,)
        assert items["REC-AGGRESSIVE-SURGERY"].conditional_on == ()
        asked = next(m for m in a.missing if m.id == COMPLETION_ASKED)
        assert "further resection" in asked.question
        assert MARGIN_ASKED not in _missing(a)
        # recorded R0, the same case gets the metastasectomy outright
        data["surgery"]["completion"] = {"date": "2024-03-01", "margin": "R0"}
        assert _items(_assess(data))["REC-LUNG-METASTASECTOMY"].conditional_on == ()

    def test_no_calendar_while_the_metastasis_is_present(self) -> None:
        """The lung metastasis is present disease whatever the margin: no calendar, as
        before, and nothing in the plan waits on the margin."""
        plan = _plan(_metachronous(None))
        assert plan.status == "not_drawn"
        assert MARGIN_ASKED not in {m.id for m in plan.missing}

    def test_free_of_disease_again_asks_only_for_the_primary_s_bed(self) -> None:
        """Recorded free of disease after the metastasectomy: no disease is present and
        S16 is past, so the lung metastasectomy waits on nothing. The primary's margin
        still decides one item: free of disease on imaging does not show microscopic
        tumour gone from the primary's bed, so an R1 margin would keep the alert that
        tumour may have been left (I27); the margin is asked for that alert alone."""
        data = _metachronous(None)
        data["free_of_disease"] = {"since": "2026-05-01", "by": "surgery"}
        a = _assess(data)
        assert not {"REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING"} & set(
            _items(a))
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert asked.affects == ("ALERT-INCOMPLETE-RESECTION",)


class TestSynchronousMetastasisBeforeTheOperation:
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_question_no_longer_says_no_gross_tumour_was_left(
            self, margin: str | None) -> None:
        """The reported case. Before, MISS-FREE-AFTER-OPERATION read "The operation came
        after the metastases were found and left no gross tumour", a fact not in the
        record. It is still asked (the operation may have removed every focus, I21), in
        words true for R0 and for a margin not recorded alike, and the margin is asked
        beside it."""
        a = _assess(_synchronous(margin))
        removal = next(m for m in a.missing if m.id == REMOVAL_ASKED)
        assert "left no gross tumour" not in removal.question
        assert "does not say it left gross tumour" in removal.question
        assert MARGIN_ASKED in _missing(a)

    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_s11_provisional_on_the_margin(self, margin: str | None) -> None:
        """Before, S11 (REC-ADJ-NODES-METS) was shown with no condition, whereas with R2
        it is weighed once the resection is completed
        (REC-ADJ-NODES-METS-AFTER-RERESECTION). Now it is shown (the consideration is
        not withheld), provisional on the margin, the margin named among its facts; it
        holds whether or not the operation cleared the disease, so it does not wait on
        that question."""
        a = _assess(_synchronous(margin))
        s11 = _items(a)["REC-ADJ-NODES-METS"]
        assert s11.conditional_on == (MARGIN_ASKED,)
        assert _fact(s11, "surgery.margin") == "unknown"
        assert "REC-ADJ-NODES-METS-AFTER-RERESECTION" not in _items(a)

    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_surveillance_provisional_on_the_margin(self, margin: str | None) -> None:
        """Before, the calendar drawn from the operation (I21) waited only on whether it
        removed every focus; with R2 disease is present and no calendar is drawn (I18).
        Surveillance is not withheld meanwhile: the high-risk schedule is drawn from the
        operation, every phase and the assessment's schedule items provisional on both
        questions."""
        data = _synchronous(margin)
        items = _items(_assess(data))
        for rid in ("FU-AFTER-RELAPSE", *SCHEDULE):
            assert {MARGIN_ASKED, REMOVAL_ASKED} <= set(items[rid].conditional_on), rid
        plan = _plan(data)
        assert plan.status == "active"
        assert plan.anchor == dt.date(2024, 2, 1)
        assert {MARGIN_ASKED, REMOVAL_ASKED} <= {m.id for m in plan.missing}
        for phase in plan.phases:
            assert {MARGIN_ASKED, REMOVAL_ASKED} <= set(phase.item.conditional_on)

    def test_surgery_still_leads_the_decision(self) -> None:
        """The margin question does not move removal of every focus (S17) behind the
        systemic treatment: local treatment stays the first step."""
        ids = [i.id for i in _assess(_synchronous(None)).recommendations]
        assert ids.index("REC-AGGRESSIVE-SURGERY") < ids.index("REC-MTOR-FIRST-LINE")

    def test_r0_control_unchanged(self) -> None:
        """Control: with R0 no gross tumour was left; S11 is unconditional, the schedule
        waits only on whether the operation removed every focus, and the margin is not
        asked."""
        data = _synchronous("R0")
        a = _assess(data)
        items = _items(a)
        assert items["REC-ADJ-NODES-METS"].conditional_on == ()
        assert items["FU-HIGH-INTENSIVE"].conditional_on == (REMOVAL_ASKED,)
        assert MARGIN_ASKED not in _missing(a)
        assert _plan(data).status == "active"

    def test_r2_control_unchanged(self) -> None:
        """Control: with R2 gross tumour was left: disease is present (nothing asked
        about the clearance), S11 waits on completing the resection, the S27 alert is
        shown and no calendar is drawn."""
        data = _synchronous("R2")
        a = _assess(data)
        items = _items(a)
        assert "REC-ADJ-NODES-METS-AFTER-RERESECTION" in items
        assert "ALERT-GROSS-RESIDUAL" in items
        assert not {MARGIN_ASKED, REMOVAL_ASKED} & _missing(a)
        assert _plan(data).status == "not_drawn"


class TestLocalizedPrimary:
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_s11_and_schedule_provisional_on_the_margin(self, margin: str | None) -> None:
        """The same rule for localized disease, where the margin was already asked
        (MISS-MARGIN) for the re-excision and radiotherapy: S11 for positive nodes and
        the surveillance schedule were shown with no condition, whereas with R2 S11 is
        weighed after completing the resection and no calendar is drawn (I18). Both are
        now provisional on MISS-MARGIN; the question of metastatic disease is not
        asked."""
        data = _localized(margin)
        a = _assess(data)
        items = _items(a)
        assert items["REC-ADJ-NODES-METS"].conditional_on == ("MISS-MARGIN",)
        for rid in SCHEDULE:
            assert "MISS-MARGIN" in items[rid].conditional_on, rid
        assert MARGIN_ASKED not in _missing(a)
        plan = _plan(data)
        assert plan.status == "active"
        assert all("MISS-MARGIN" in p.item.conditional_on for p in plan.phases)

    def test_r0_control_unchanged(self) -> None:
        """Control: R0, nothing waits on the margin."""
        a = _assess(_localized("R0"))
        assert "MISS-MARGIN" not in _missing(a)
        assert _items(a)["REC-ADJ-NODES-METS"].conditional_on == ()


class TestCommandLine:
    def test_assess_report_asks_the_margin(self, tmp_path: Path) -> None:
        """``pecoma assess`` as the team runs it (text): before, the report recommended
        "Resect the metachronous lung metastases" and the word margin did not appear.
        Now it shows the metastasectomy as not known yet, provisional on the margin, and
        names the margin among its facts."""
        case = tmp_path / "case.json"
        case.write_text(json.dumps(_metachronous(None)), encoding="utf-8")
        r = run_cli("assess", str(case), "--on", ON.isoformat(), columns=200)
        assert r.returncode == 0, r.stderr
        assert "Resect the metachronous lung metastases" not in r.stdout
        assert "Whether the lung-metastasectomy criteria are met is not known yet" in r.stdout
        assert f"Provisional until supplied: {MARGIN_ASKED}" in r.stdout
        assert "surgery.margin = unknown" in r.stdout

    def test_followup_plan_waits_on_the_margin(self, tmp_path: Path) -> None:
        """``pecoma followup`` as the team runs it (JSON) on the synchronous case: the
        plan is drawn (active) and lists the margin among the facts it waits on."""
        case = tmp_path / "case.json"
        case.write_text(json.dumps(_synchronous("unknown")), encoding="utf-8")
        r = run_cli("followup", str(case), "--on", ON.isoformat(), "-f", "json")
        assert r.returncode == 0, r.stderr
        plan = json.loads(r.stdout)
        assert plan["status"] == "active"
        assert {MARGIN_ASKED, REMOVAL_ASKED} <= {m["id"] for m in plan["missing"]}


def _state(data: dict[str, Any], on: dt.date) -> Any:
    from pecoma.registry.state import plan_and_state
    from pecoma.settings import default_settings

    s = default_settings()
    case = parse_case(data)
    return plan_and_state(case, assess(case, on, s), on, (), s).now


class TestRegistry:
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_worklist_row_carries_the_margin_question(self, margin: str | None) -> None:
        """A localized primary resected with no margin recorded: its schedule is drawn
        provisional on the margin (with R2 no calendar would be drawn, I18). Before, the
        worklist row showed the visit as firm, alerts empty, no question, while the rows
        of the other provisional schedules carry their missing fact. Now the row carries
        MISS-MARGIN and its reason says it is provisional on the margin; the same for the
        synchronous case after the operation (MISS-PRIMARY-MARGIN); R0 carries none."""
        data = _localized(margin)
        data["stage"]["lymph_nodes"] = "negative"
        row = _state(data, dt.date(2024, 6, 1))
        assert row.plan_status == "active"
        assert "MISS-MARGIN" in row.alerts
        assert "provisional on the resection margin" in row.reason
        sync = _state(_synchronous(margin), dt.date(2024, 6, 1))
        assert MARGIN_ASKED in sync.alerts
        data["surgery"]["margin"] = "R0"
        assert not {"MISS-MARGIN", MARGIN_ASKED} & set(_state(data, dt.date(2024, 6, 1)).alerts)

    @pytest.mark.parametrize("surgery", [
        {"status": "performed", "date": "2024-02-01"},
        {"status": "performed", "date": "2024-02-01", "margin": "unknown"},
        {"status": "performed", "date": "2024-02-01", "margin": "R2",
         "completion": {"date": "2024-03-01"}},
        {"status": "performed", "date": "2024-02-01", "margin": "R2",
         "completion": {"date": "2024-03-01", "margin": "unknown"}},
    ])
    def test_free_from_not_known_while_the_margin_is_not(self, surgery: dict[str, Any]) -> None:
        """Before, the registry read a primary margin not recorded as free of disease
        from the surgery: a later contact 'alive with disease' was reported as a relapse
        the case does not hold and counted as a relapse event in RFS, though it may be
        the residue of an R2 resection. Now it follows the advice's rule (unknown is not
        'no gross tumour left'): no known day free of disease; R0/R1/uncertain give the
        day of the last resection."""
        from pecoma.registry.routine import free_from

        assert free_from(None, surgery) is None
        done = {**surgery, "margin": "R1"} if "completion" not in surgery else {
            **surgery, "completion": {"date": "2024-03-01", "margin": "R0"}}
        expected = dt.date(2024, 3, 1) if "completion" in surgery else dt.date(2024, 2, 1)
        assert free_from(None, done) == expected


class TestQuestionWording:
    def test_would_change_names_s16_only_for_metastases_after_the_resection(self) -> None:
        """In the synchronous case S16 is not met whatever the margin, yet
        MISS-PRIMARY-MARGIN said R0 'decides the lung metastasectomy'. Now the text says
        it changes only what waits on it in the case, and ties S16 to lung metastases
        found after the resection."""
        a = _assess(_synchronous(None))
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert "REC-LUNG-METASTASECTOMY-PENDING" not in asked.affects
        assert asked.would_change.startswith("What it changes is only what waits on it")
        assert "for lung metastases found after the resection" in asked.would_change


#: Relapsed disease in which S16 is settled by other facts, and the case the margin
#: decides S16 in: lung metastases 5 months after the resection (interval short of a
#: year whatever the margin); disease outside the lungs too; lung metastases 15 months
#: after it (the interval met only if no gross tumour was left).
SETTLED_OR_NOT = [
    pytest.param({"metastases": [{"site": "lung", "detected_on": "2024-07-01"}]},
                 id="lung-5-months"),
    pytest.param({"metastases": [{"site": "lung", "detected_on": "2026-03-01"},
                                 {"site": "liver", "detected_on": "2026-03-01"}],
                  "extrapulmonary_disease": "yes"}, id="extrapulmonary"),
    pytest.param({"metastases": [{"site": "lung", "detected_on": "2025-05-01"}]},
                 id="lung-15-months"),
]


class TestGrossResidueAlertAfterRelapse:
    """The critical gross-residue alert (S27: "the residual tumour needs a plan now")
    after a relapse with the primary's margin not recorded. Before, the alert was
    dropped for a margin not recorded, as if no gross tumour had been left, and the
    margin was asked only where S16 waited on it: lung metastases 5 months after the
    resection, or disease outside the lungs, got no question and no alert, while R2 got
    the critical alert. Then the safer reading was shown provisional on
    MISS-PRIMARY-MARGIN but worded as a fact not recorded ("The resection left gross
    tumour behind (R2)", ALERT-GROSS-RESIDUAL). Now the alert keeps its critical level
    (the disease has metastasised, I9) and is provisional on the margin, asked whenever
    the alert waits on it, but says what is known: tumour may have been left
    (ALERT-INCOMPLETE-RESECTION, as for localized disease with the margin not recorded;
    I9: every level says whether tumour was left, R2, or may have been)."""

    @pytest.mark.parametrize("stage", SETTLED_OR_NOT)
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_alert_provisional_on_the_margin(self, margin: str | None,
                                             stage: dict[str, Any]) -> None:
        a = _assess(_metachronous(margin, **stage))
        items = _items(a)
        assert "ALERT-GROSS-RESIDUAL" not in items
        alert = items["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical"
        assert alert.title == "Malignant tumour may have been left behind"
        assert "may have been left" in alert.text
        assert "left gross tumour behind" not in alert.text
        assert alert.conditional_on == (MARGIN_ASKED,)
        assert _fact(alert, "surgery.margin") == "unknown"
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert "ALERT-INCOMPLETE-RESECTION" in asked.affects
        # the question says what the alert does on either answer, and meanwhile
        assert "the alert says that gross tumour was left" in asked.would_change
        assert "the alert that tumour may have been left gives way" in asked.would_change
        assert "alert that tumour may have been left is shown provisional" in asked.meanwhile

    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_s16_settled_by_other_facts_does_not_wait(self, margin: str | None) -> None:
        """Where other facts settle S16 (interval under a year; disease outside the
        lungs), S16 is not met whatever the margin: it does not wait on the question,
        which is asked for the alert only."""
        for stage in SETTLED_OR_NOT[:2]:
            a = _assess(_metachronous(margin, **stage.values[0]))
            items = _items(a)
            assert items["REC-LUNG-METASTASECTOMY-NOT-MET"].conditional_on == ()
            asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
            assert asked.affects == ("ALERT-INCOMPLETE-RESECTION",)

    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_synchronous_metastasis_too(self, margin: str | None) -> None:
        """A metastasis found before the operation, nothing recorded of whether the
        operation removed it: the alert too waits on the margin, beside S11."""
        a = _assess(_synchronous(margin))
        assert _items(a)["ALERT-INCOMPLETE-RESECTION"].conditional_on == (MARGIN_ASKED,)
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert {"ALERT-INCOMPLETE-RESECTION", "REC-ADJ-NODES-METS"} <= set(asked.affects)

    @pytest.mark.parametrize("margin", NOT_RECORDED)
    @pytest.mark.parametrize("months", [5, 25])
    def test_a_stated_interval_does_not_settle_the_alert(
            self, margin: str | None, months: int) -> None:
        """The team states an interval before the metastases (5, 25 months): it may be
        counted from the resection whose margin is not recorded, which does not say
        whether tumour was left. Before, a stated interval above 0 dropped the alert and
        the question, while the same facts with the interval given by dates kept both.
        Now the alert that tumour may have been left is shown, provisional on the margin,
        whichever way the interval was entered (a stated 0 too)."""
        stage = {"metastases": [{"site": "lung", "detected_on": "2026-03-01"}],
                 "disease_free_interval_months": months}
        for m in (months, 0):
            a = _assess(_metachronous(margin, **{**stage, "disease_free_interval_months": m}))
            assert _items(a)["ALERT-INCOMPLETE-RESECTION"].conditional_on == (MARGIN_ASKED,)
            assert "ALERT-GROSS-RESIDUAL" not in _items(a)

    @pytest.mark.parametrize("stage", SETTLED_OR_NOT)
    def test_r2_control_unchanged(self, stage: dict[str, Any]) -> None:
        """Control: R2 gives the critical alert as a fact, nothing asked."""
        a = _assess(_metachronous("R2", **stage))
        assert _items(a)["ALERT-GROSS-RESIDUAL"].conditional_on == ()
        assert MARGIN_ASKED not in _missing(a)

    @pytest.mark.parametrize("stage", SETTLED_OR_NOT)
    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain"])
    def test_no_gross_tumour_controls_unchanged(self, margin: str,
                                                stage: dict[str, Any]) -> None:
        """Controls: R0 gives no residue alert; R1 and uncertain the alert that tumour may
        have been left (not the gross one), unconditional; no margin asked."""
        a = _assess(_metachronous(margin, **stage))
        items = _items(a)
        assert "ALERT-GROSS-RESIDUAL" not in items
        assert MARGIN_ASKED not in _missing(a)
        if margin == "R0":
            assert "ALERT-INCOMPLETE-RESECTION" not in items
        else:
            assert items["ALERT-INCOMPLETE-RESECTION"].conditional_on == ()

    @pytest.mark.parametrize("stage", SETTLED_OR_NOT)
    @pytest.mark.parametrize("margin", NOT_RECORDED)
    def test_free_of_disease_asks_the_margin_for_the_primary_s_bed(
            self, margin: str | None, stage: dict[str, Any]) -> None:
        """Recorded free of disease since the metastasectomy: no gross tumour is left
        now, so the gross-residue alert is not shown. Before, no alert and no question
        at all, as if the margin could not matter; but free of disease is seen on
        imaging, which cannot show microscopic tumour gone from the primary's bed, and a
        recorded R1 margin now keeps its alert (I27). So the margin not recorded is
        asked, and the alert that tumour may have been left is shown provisional on it
        (critical: the disease has metastasised, I9), naming the day free of disease."""
        data = _metachronous(margin, **stage)
        data["free_of_disease"] = {"since": "2026-05-01", "by": "surgery"}
        a = _assess(data)
        items = _items(a)
        assert "ALERT-GROSS-RESIDUAL" not in items
        alert = items["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical"
        assert alert.conditional_on == (MARGIN_ASKED,)
        assert _fact(alert, "surgery.margin") == "unknown"
        assert _fact(alert, "free_of_disease.since") == "2026-05-01"
        assert "I27" in alert.provenance.interpretations
        assert MARGIN_ASKED in _missing(a)
