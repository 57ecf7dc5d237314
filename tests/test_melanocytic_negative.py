"""A tumour whose melanocytic markers were tested and none is positive (S24, S25, I11).

PEComa is recognised by its melanocytic differentiation (HMB-45, Melan-A, MITF) beside
smooth-muscle markers (S24), and taking it for another sarcoma is common and delays the
right treatment (S25). A panel done and negative for every melanocytic marker tested is
stronger evidence against PEComa than a panel not done, so it gets at least the warning
a panel not done gets (a pitfall alert, shown in the board summary), and everything that
rests on the tumour being a PEComa waits on the confirmation (I11): the treatment, the
ICD-O-3 code (8714/0 is PEComa's code, a leiomyosarcoma is coded otherwise) and the
surveillance schedule (a leiomyosarcoma followed on the low-risk PEComa plan is
under-followed).

The rule, simply: a melanocytic marker tested (positive or negative) and none positive.
One negative and the others not done is the same doubt; one positive among them supports
PEComa; none tested (not done or unknown) is the incomplete panel, not this alert.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.web.summary import board_summary

ON = dt.date(2026, 12, 10)
ALERT = "ALERT-MELANOCYTIC-NEGATIVE"
DOUBT = "MISS-MELANOCYTIC-EVIDENCE"
NOT_DONE = "MISS-IHC-CONFIRMATION"
LOW_SCHEDULE = ("FU-LOW-LESS-INTENSIVE", "SUPP-FU-LOW-SCHEDULE", "FU-LOW-CHEST-CT",
                "FU-LOW-MRI-PRIMARY")
HIGH_SCHEDULE = ("FU-HIGH-INTENSIVE", "FU-HIGH-SIX-MONTHLY", "FU-HIGH-YEARLY",
                 "FU-CHEST-CT", "FU-MRI-PRIMARY")
LEVELS = {"info": 0, "warning": 1, "critical": 2}


def _case(hmb45: str, melan_a: str, mitf: str, size_cm: float = 3) -> dict[str, Any]:
    """A 3 cm kidney tumour resected R0 in January 2026, N0, every high-risk feature and
    Folpe criterion absent (low risk, benign), smooth-muscle actin positive, diagnosed
    on histology with immunohistochemistry: only the melanocytic markers vary."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2026-01-01",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "kidney", "size": {"value": size_cm, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0},
        "immunohistochemistry": {"hmb45": hmb45, "melan_a": melan_a, "mitf": mitf,
                                 "cathepsin_k": "positive", "sma": "positive",
                                 "desmin": "negative", "h_caldesmon": "negative"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2026-01-10", "margin": "R0"},
    }


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _pitfall_level(a: Assessment) -> int:
    """The highest level among the diagnostic pitfall alerts (S24, S25)."""
    return max((LEVELS[i.level or "info"] for i in a.alerts if i.section == "pitfalls"),
               default=-1)


class TestTheWarning:
    def test_every_marker_negative_gets_a_pitfall_warning(self) -> None:
        """HMB-45, Melan-A and MITF all negative: a warning of the diagnostic pitfalls,
        citing S24 and S25 and the project's reading I11, naming the three results."""
        a = _assess(_case("negative", "negative", "negative"))
        alert = next(i for i in a.alerts if i.id == ALERT)
        assert alert.level == "warning"
        assert alert.section == "pitfalls"
        assert alert.strength == "pitfall"
        assert {"S24", "S25"} <= set(alert.provenance.statements)
        assert "I11" in alert.provenance.interpretations
        assert {(f.path, f.value) for f in alert.triggered_by} == {
            ("immunohistochemistry.hmb45", "negative"),
            ("immunohistochemistry.melan_a", "negative"),
            ("immunohistochemistry.mitf", "negative")}

    def test_at_least_as_prominent_as_markers_not_done(self) -> None:
        """The same tumour with the markers not done gets ALERT-IHC-INCOMPLETE (a
        warning); negative for every one is stronger evidence against PEComa, so its
        pitfall alert is at least as severe."""
        negative = _assess(_case("negative", "negative", "negative"))
        not_done = _assess(_case("not_done", "not_done", "not_done"))
        assert "ALERT-IHC-INCOMPLETE" in {i.id for i in not_done.alerts}
        assert _pitfall_level(negative) >= _pitfall_level(not_done) >= LEVELS["warning"]

    def test_the_board_summary_shows_it(self) -> None:
        """The board reads the warning in the summary at the top of the report."""
        summary = board_summary(_assess(_case("negative", "negative", "negative")))
        shown = [x for x in summary.alerts if x.anchor == f"#item-{ALERT}"]
        assert len(shown) == 1 and shown[0].level == "warning"

    @pytest.mark.parametrize(("markers", "doubt"), [
        (("negative", "negative", "negative"), True),
        (("negative", "negative", "not_done"), True),   # two negative, one not done
        (("not_done", "negative", "unknown"), True),    # the only one tested, negative
        (("negative", "negative", "positive"), False),  # one positive supports PEComa
        (("positive", "negative", "negative"), False),
        (("not_done", "not_done", "not_done"), False),  # none tested: incomplete panel
        (("unknown", "unknown", "unknown"), False),     # unknown is no result
    ])
    def test_the_rule_a_marker_tested_and_none_positive(
            self, markers: tuple[str, str, str], doubt: bool) -> None:
        """The alert stands exactly where the diagnosis waits on melanocytic evidence:
        a melanocytic marker tested and none positive (one rule, one missing fact)."""
        a = _assess(_case(*markers))
        assert (ALERT in {i.id for i in a.alerts}) is doubt
        assert (DOUBT in {m.id for m in a.missing}) is doubt


class TestWhatRestsOnTheDiagnosis:
    def test_the_icdo3_code_is_provisional(self) -> None:
        """8714/0 is PEComa's code: shown provisional on the confirmation, and the
        missing fact names it among what it affects."""
        a = _assess(_case("negative", "negative", "negative"))
        icdo = next(c for c in a.classifications if c.id == "CLS-ICDO3")
        assert DOUBT in icdo.item.conditional_on
        missing = next(m for m in a.missing if m.id == DOUBT)
        assert "CLS-ICDO3" in missing.affects
        assert "ICD-O-3" in missing.would_change and "surveillance" in missing.would_change

    def test_the_low_risk_schedule_is_provisional(self) -> None:
        """Low risk: every item of the low-risk schedule waits on the confirmation (the
        PEComa plan may under-follow another sarcoma), and the missing fact names each."""
        a = _assess(_case("negative", "negative", "negative"))
        assert a.risk.surveillance_group == "low"
        items = {i.id: i for i in a.followup}
        missing = next(m for m in a.missing if m.id == DOUBT)
        for record in LOW_SCHEDULE:
            assert DOUBT in items[record].conditional_on, record
            assert record in missing.affects, record

    def test_the_high_risk_schedule_is_provisional_too(self) -> None:
        """7 cm (S06): the high-risk schedule waits on the same confirmation."""
        a = _assess(_case("negative", "negative", "negative", size_cm=7))
        items = {i.id: i for i in a.followup}
        for record in HIGH_SCHEDULE:
            assert DOUBT in items[record].conditional_on, record

    def test_the_dated_plan_says_the_same(self) -> None:
        """`pecoma followup`: the plan's phases and its low-risk reason wait on the
        confirmation, and the plan lists the question."""
        case = parse_case(_case("negative", "negative", "negative"))
        a = assess(case, ON)
        plan = plan_surveillance(case, a, ON, None)
        assert plan.phases and all(DOUBT in p.item.conditional_on for p in plan.phases)
        reason = next(r for r in plan.reasons if r.id == "FU-LOW-LESS-INTENSIVE")
        assert DOUBT in reason.conditional_on
        assert DOUBT in {m.id for m in plan.missing}

    def test_markers_not_done_make_them_provisional_alike(self) -> None:
        """One rule for every diagnosis not yet confirmed (I11): markers not done leave
        the code and the schedule provisional on MISS-IHC-CONFIRMATION."""
        a = _assess(_case("not_done", "not_done", "not_done"))
        icdo = next(c for c in a.classifications if c.id == "CLS-ICDO3")
        assert NOT_DONE in icdo.item.conditional_on
        assert all(NOT_DONE in i.conditional_on for i in a.followup
                   if i.id in LOW_SCHEDULE)

    def test_a_confirmed_diagnosis_leaves_them_unconditional(self) -> None:
        """HMB-45 positive: the code and the schedule stand as they are."""
        a = _assess(_case("positive", "positive", "positive"))
        icdo = next(c for c in a.classifications if c.id == "CLS-ICDO3")
        assert icdo.category == "8714/0" and not icdo.item.conditional_on
        assert not any(i.conditional_on for i in a.followup if i.id in LOW_SCHEDULE)
        assert ALERT not in {i.id for i in a.alerts}
