"""The assessment names the examinations the dated plan books at low-risk visits (I12).

The guideline names chest CT (S21) and MRI of the primary site (S22) for high-risk
patients only and no modality for low risk; planning them at low-risk visits is the
project's interpretation I12. The dated plan has always booked them; the assessment (and
the board summary built from it) must say so too, labelled as I12, as it lists S21/S22
for high risk: otherwise the board reads no imaging advice while the calendar books CT
and MRI.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.render.text import markdown_report
from pecoma.settings import FollowupSettings, Settings, default_settings

ON = dt.date(2026, 12, 10)
LOW_IMAGING = ("FU-LOW-CHEST-CT", "FU-LOW-MRI-PRIMARY")
HIGH_IMAGING = ("FU-CHEST-CT", "FU-MRI-PRIMARY")


def _case(necrosis: str = "absent") -> dict[str, Any]:
    """A 2.5 cm vulvar PEComa, N0, resected R0 in March 2025: every high-risk feature
    (S06-S09) and every Folpe criterion known absent, so low risk (I1) and a benign
    category that leaves the low-risk schedule (I14); necrosis present makes it high."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-02-20",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "other_gynecologic", "size": {"value": 2.5, "unit": "cm"}},
        "histology": {"necrosis": necrosis, "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2025-03-10", "margin": "R0"},
    }


def _settings(imaging: list[str] | None = None) -> Settings:
    base = default_settings()
    if imaging is None:
        return base
    followup = FollowupSettings.model_validate(
        {**base.followup.model_dump(), "low_risk_imaging": imaging})
    return base.model_copy(update={"followup": followup})


def _assess(data: dict[str, Any], conf: Settings) -> Assessment:
    return assess(parse_case(data), ON, conf)


class TestAssessmentNamesLowRiskImaging:
    def test_low_risk_lists_chest_ct_and_mri_labelled_i12(self) -> None:
        """Low risk with the default settings: the assessment's surveillance lists chest
        CT and MRI of the primary site, each citing I12 (the project's interpretation,
        not the guideline's advice for low risk) beside S21/S22, and I12 is among the
        interpretations the assessment says it used."""
        a = _assess(_case(), _settings())
        assert a.risk.group == "low" and a.risk.surveillance_group == "low"
        items = {i.id: i for i in a.followup}
        for record, statement in zip(LOW_IMAGING, ("S21", "S22"), strict=True):
            assert record in items, record
            assert "I12" in items[record].provenance.interpretations
            assert statement in items[record].provenance.statements
            assert "interpretation I12" in items[record].title
        assert not set(HIGH_IMAGING) & set(items)
        assert "I12" in {u.id for u in a.interpretations}

    def test_high_risk_keeps_the_guideline_imaging(self) -> None:
        """High risk (necrosis, S07): S21/S22 as the guideline gives them, no I12."""
        a = _assess(_case(necrosis="present"), _settings())
        ids = {i.id for i in a.followup}
        assert set(HIGH_IMAGING) <= ids
        assert not set(LOW_IMAGING) & ids

    @pytest.mark.parametrize("chosen", [[], ["chest_ct"], ["mri_primary"],
                                        ["chest_ct", "mri_primary"]])
    def test_assessment_and_plan_name_the_same_examinations(
            self, chosen: list[str]) -> None:
        """Whatever the setting low_risk_imaging chooses (I12 is configurable), the
        assessment lists exactly the examinations the dated plan books at each visit."""
        conf = _settings(chosen)
        case = parse_case(_case())
        a = assess(case, ON, conf)
        plan = plan_surveillance(case, a, ON, (), conf)
        booked = {pi.record for v in plan.visits for pi in v.imaging}
        listed = {i.id for i in a.followup if i.id in LOW_IMAGING}
        assert booked == listed
        assert len(listed) == len(chosen)

    def test_the_report_names_them(self) -> None:
        """The report the board reads titles both examinations with I12."""
        text = markdown_report(_assess(_case(), _settings()))
        assert "Chest CT at each low-risk visit (interpretation I12)" in text
        assert "MRI of the primary site at each low-risk visit (interpretation I12)" in text
