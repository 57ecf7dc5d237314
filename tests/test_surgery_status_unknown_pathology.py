"""A localized tumour whose surgery is not recorded: the pathology read meanwhile (I6).

Features read on a biopsy or on imaging cannot show a feature absent from the whole
tumour, so for a resection planned the pathology categories and the ICD-O-3 hint are left
open up to malignant and surveillance follows the high-risk schedule meanwhile (I6, I14).
A surgery status not recorded ('unknown') covers the tumour not yet resected; before, it
settled Folpe as 'benign' and the ICD-O-3 hint as 8714/0, both determined, with the
low-risk schedule, giving an incomplete record a definite benign registry code that a
planned resection would not get. Now it takes the planned resection's safer branch,
provisional on the surgery status, whose question says what it would change.

The patient: a 4 cm hepatic PEComa, localized, nodes negative, every feature recorded
absent, mitoses 0, IHC complete.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 10)
ASKED = "MISS-SURGERY-STATUS"


def _assess(surgery: dict[str, Any], **stage: Any) -> Assessment:
    return assess(parse_case({
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "liver", "size": {"value": 4, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "desmin": "negative",
                                 "tfe3": "negative"},
        "stage": {"status": "localized", "lymph_nodes": "negative", **stage},
        "surgery": surgery,
    }), ON)


def _classification(a: Assessment, cls: str) -> tuple[str, bool, tuple[str, ...]]:
    c = next(c for c in a.classifications if c.id == cls)
    return c.category, c.determined, c.item.conditional_on


def _ids(items: Any) -> set[str]:
    return {i.id for i in items}


class TestUnknownTakesThePlannedBranch:
    def test_categories_left_open_provisional_on_the_status(self) -> None:
        a = _assess({"status": "unknown"})
        assert _classification(a, "CLS-FOLPE-2005") == (
            "benign to malignant", False, (ASKED,))
        category, determined, _ = _classification(a, "CLS-ICDO3")
        assert (category, determined) == ("8714/0 or 8714/3 (per final diagnosis)", False)
        assert ASKED in a.risk.item.conditional_on

    def test_high_risk_surveillance_meanwhile(self) -> None:
        """The risk group stays low on the features entered, provisional; surveillance
        follows the high-risk schedule meanwhile (I14), provisional on the status; no
        low-risk schedule is drawn. The reason is that the tumour may not be resected yet
        (FU-MAY-BE-MALIGNANT-NOT-RESECTED), not the mitotic count or vascular invasion,
        both recorded here (FU-MAY-BE-MALIGNANT-LOW-RISK)."""
        a = _assess({"status": "unknown"})
        assert (a.risk.group, a.risk.surveillance_group) == ("low", "high")
        followup = {i.id: i for i in a.followup}
        assert followup["FU-MAY-BE-MALIGNANT-NOT-RESECTED"].conditional_on == (ASKED,)
        assert "FU-MAY-BE-MALIGNANT-LOW-RISK" not in followup
        assert ASKED in followup["FU-HIGH-INTENSIVE"].conditional_on
        assert not {"FU-LOW-LESS-INTENSIVE", "SUPP-FU-LOW-SCHEDULE"} & _ids(a.followup)

    def test_the_same_reading_as_a_planned_resection(self) -> None:
        """Planned and unknown give the same categories, risk and schedule; only the
        question differs (the specimen, or whether it was resected)."""
        unknown, planned = _assess({"status": "unknown"}), _assess({"status": "planned"})
        for cls in ("CLS-FOLPE-2005", "CLS-ICDO3"):
            assert _classification(unknown, cls)[:2] == _classification(planned, cls)[:2]
        assert unknown.risk.surveillance_group == planned.risk.surveillance_group == "high"
        assert "MISS-RESECTION-SPECIMEN" in planned.risk.item.conditional_on

    def test_the_question_says_what_it_would_change(self) -> None:
        a = _assess({"status": "unknown"})
        asked = next(m for m in a.missing if m.id == ASKED)
        assert {"CLS-FOLPE-2005", "RISK-LOW", "FU-MAY-BE-MALIGNANT-NOT-RESECTED"} <= set(
            asked.affects)
        assert "pathology categories, the ICD-O-3 hint and a low risk" in asked.would_change
        assert "high-risk schedule meanwhile" in asked.meanwhile
        assert {"I6", "I14"} <= set(asked.provenance.interpretations)


class TestControls:
    def test_resected_settles_benign(self) -> None:
        """Resected (R0): the features are the specimen's; Folpe benign and 8714/0
        determined, low-risk schedule, as before."""
        a = _assess({"status": "performed", "date": "2024-02-01", "margin": "R0"})
        assert _classification(a, "CLS-FOLPE-2005") == ("benign", True, ())
        assert _classification(a, "CLS-ICDO3")[:2] == ("8714/0", True)
        assert a.risk.surveillance_group == "low"

    def test_a_feature_present_is_high_risk_whatever_the_status(self) -> None:
        a = assess(parse_case({
            "tumour": {"primary_site": "liver", "size": {"value": 6, "unit": "cm"}},
            "stage": {"status": "localized", "lymph_nodes": "negative"},
        }), ON)
        assert a.risk.group == "high"

    @pytest.mark.parametrize("status", ["recurrent", "metastatic"])
    def test_relapsed_disease_is_malignant_whatever_the_status(self, status: str) -> None:
        """After a relapse the ICD-O-3 hint is 8714/3 (I9), the surgery status aside."""
        metastases = ([{"site": "lung", "detected_on": "2025-01-01"}]
                      if status == "metastatic" else [])
        a = _assess({"status": "unknown"}, status=status, metastases=metastases)
        assert _classification(a, "CLS-ICDO3")[:2] == ("8714/3", True)
