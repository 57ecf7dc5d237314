"""Resected localized disease: the guideline names no adjuvant systemic treatment (I28).

S05 asks for the high-risk features before the adjuvant decision; the guideline's adjuvant
considerations are S10 (radiotherapy at a high-risk site or with uncertain margins) and
S11 (postoperative chemotherapy or radiotherapy for positive nodes or metastases at
presentation) only. For high-risk localized disease resected R0 with negative nodes the
report had answered the board's commonest question ("high risk: adjuvant?") with nothing
after the risk step, and an adjuvant sirolimus course recorded passed without comment.
It now says, as REC-NO-ADJUVANT-AFTER-RELAPSE does after a relapse, that the guideline
names no adjuvant systemic treatment, and names a course recorded as outside it (a trial,
S28).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Fact, Item

ON = dt.date(2026, 11, 28)
SILENT = "REC-NO-ADJUVANT-LOCALIZED"
OUTSIDE = "derived.adjuvant_outside_guideline"

#: Retroperitoneal PEComa of 12 cm with all four high-risk features, resected R0 in 2024,
#: regional nodes negative.
HIGH: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 12, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2024-02-01", "margin": "R0"},
}
SIROLIMUS = {"agent": "sirolimus", "setting": "adjuvant", "started_on": "2024-03-01",
             "progressed": "no"}
#: The same primary at 3 cm with none of the four features: low risk.
LOW = {"tumour": {"primary_site": "retroperitoneum", "size": {"value": 3, "unit": "cm"}},
       "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                     "high_nuclear_grade_and_cellularity": "absent",
                     "vascular_invasion": "absent",
                     "nuclear_pleomorphism_or_giant_cells": "absent",
                     "mitoses_per_50_hpf": 0}}


def case_of(*courses: dict[str, Any], **parts: Any) -> dict[str, Any]:
    data = copy.deepcopy(HIGH)
    for key, value in parts.items():
        data[key] = {**data.get(key, {}), **value}
    if courses:
        data["systemic"] = {"therapies": list(courses)}
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def silent(a: Assessment) -> Item | None:
    return next((i for i in a.recommendations if i.id == SILENT), None)


class TestHighRisk:
    def test_the_silence_is_said_and_the_course_named_outside_it(self) -> None:
        """The board's case: all four features, R0, nodes negative, adjuvant sirolimus.
        The item says the guideline names no adjuvant systemic treatment (S05, S10, S11,
        S28; I28), with nothing to wait on; its facts name the risk group, the margin, the
        nodes and the sirolimus course, which the derived fact calls outside the
        guideline, the team's decision, best within a trial (S28)."""
        rec = silent(run(case_of(SIROLIMUS)))
        assert rec is not None
        assert rec.strength == "guideline silent"
        assert rec.conditional_on == ()
        assert rec.provenance.statements == ("S05", "S10", "S11", "S28")
        assert "I28" in rec.provenance.interpretations
        assert "names no adjuvant systemic treatment" in rec.text
        assert Fact("risk.group", "high") in rec.triggered_by
        assert Fact("systemic.therapies[0].agent", "sirolimus") in rec.triggered_by
        said = next(f.value for f in rec.triggered_by if f.path == OUTSIDE)
        assert said.startswith("sirolimus recorded as adjuvant treatment")
        assert "outside it" in said and "S28" in said

    def test_with_no_course_the_silence_alone(self) -> None:
        """High risk, no course: the item, no derived fact about a course."""
        rec = silent(run(case_of()))
        assert rec is not None
        assert not any(f.path == OUTSIDE for f in rec.triggered_by)

    def test_indeterminate_risk_raises_the_question_too(self) -> None:
        """Necrosis not recorded, none present: the risk is indeterminate (it may be high),
        so the question arises and the silence is said."""
        data = case_of(tumour={"size": {"value": 3, "unit": "cm"}},
                       histology={"necrosis": "unknown", "infiltrative_growth": "absent",
                                  "high_nuclear_grade_and_cellularity": "absent"})
        a = run(data)
        assert a.risk.group == "indeterminate"
        assert silent(a) is not None

    @pytest.mark.parametrize(("on", "s10"), [
        (dt.date(2024, 3, 20), "REC-ADJ-RADIOTHERAPY"),  # 7 weeks after the operation
        (ON, "REC-ADJ-RADIOTHERAPY-DECIDED"),  # years after it: a decision to confirm (I30)
    ])
    def test_beside_s10_at_a_high_risk_site(self, on: dt.date, s10: str) -> None:
        """Broad ligament: S10's radiotherapy is considered (its own item: in the weeks
        after the resection of 2024-02-01 as advice, more than 6 months after it as a
        decision to confirm, I30), and the guideline still names no adjuvant systemic
        treatment: both are shown."""
        a = assess(parse_case(case_of(tumour={"primary_site": "broad_ligament"})), on)
        assert s10 in a.record_ids()
        assert silent(a) is not None


class TestNodes:
    def test_positive_nodes_bring_s11_instead(self) -> None:
        """Positive nodes: S11's postoperative chemotherapy or radiotherapy is the
        guideline's, so the silence is not said."""
        a = run(case_of(stage={"lymph_nodes": "positive"}))
        assert "REC-ADJ-NODES-METS" in a.record_ids()
        assert silent(a) is None

    def test_positive_nodes_and_a_course_is_s11_acted_on(self) -> None:
        """Positive nodes and the adjuvant sirolimus: S11 acted on, not a course outside
        the guideline."""
        a = run(case_of(SIROLIMUS, stage={"lymph_nodes": "positive"}))
        assert "REC-ADJ-NODES-METS-GIVEN" in a.record_ids()
        assert silent(a) is None

    def test_nodes_not_recorded_or_not_assessed_leave_it_provisional(self) -> None:
        """Nodes unknown or not assessed: positive nodes would bring S11, so the item is
        provisional on the nodal status, which is asked (naming it among what it
        affects), the course too."""
        for nodes in ("unknown", "not_assessed"):
            a = run(case_of(SIROLIMUS, stage={"lymph_nodes": nodes}))
            rec = silent(a)
            assert rec is not None, nodes
            assert rec.conditional_on == ("MISS-NODES",), nodes
            assert SILENT in next(m for m in a.missing if m.id == "MISS-NODES").affects


class TestWhereNothingIsSaid:
    def test_low_risk_with_no_course(self) -> None:
        """Low risk and nothing recorded as adjuvant: the question does not arise."""
        a = run(case_of(**LOW))
        assert a.risk.group == "low"
        assert silent(a) is None

    def test_low_risk_with_a_course_names_it(self) -> None:
        """Low risk and an adjuvant course recorded all the same: the course is named as
        outside the guideline."""
        rec = silent(run(case_of(SIROLIMUS, **LOW)))
        assert rec is not None
        assert Fact("risk.group", "low") in rec.triggered_by
        assert any(f.path == OUTSIDE for f in rec.triggered_by)

    def test_gross_tumour_left_or_not_yet_resected(self) -> None:
        """R2 (completing the resection comes first, S03) or the operation only planned
        (the adjuvant decision follows it): not said."""
        assert silent(run(case_of(surgery={"margin": "R2", "date": "2024-02-01"},
                                  stage={"resectable": "yes"}))) is None
        assert silent(run(case_of(surgery={"status": "planned", "date": None,
                                           "margin": "unknown"}))) is None

    def test_after_a_relapse_the_relapse_item_speaks(self) -> None:
        """Free of disease after a resected local recurrence: I8's item, not this one."""
        data = case_of(stage={"status": "recurrent", "resectable": "yes"})
        data["free_of_disease"] = {"since": "2025-06-01", "by": "surgery"}
        a = run(data)
        assert silent(a) is None
        assert "REC-NO-ADJUVANT-AFTER-RELAPSE" in a.record_ids()
