"""The risk group of a diagnosis made on imaging alone (S24, I11, I1). Without tissue,
necrosis, infiltrative growth and the nuclear grade and cellularity cannot be known
absent: imaging cannot characterise a PEComa (S24). A low (or indeterminate) group read
from such features is provisional on the tissue diagnosis (MISS-TISSUE-DIAGNOSIS), as the
treatment, the ICD-O-3 code and the surveillance schedule already were; the input is not
refused. Before, "Risk: low - all four high-risk features are known to be absent" was
shown waiting on nothing but the resection specimen."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.render.text import markdown_report

ON = dt.date(2024, 3, 20)
ABSENT = {"necrosis": "absent", "infiltrative_growth": "absent",
          "high_nuclear_grade_and_cellularity": "absent", "vascular_invasion": "absent",
          "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0}


def _case(method: str = "imaging_only", size_cm: float = 3.0,
          surgery: dict[str, Any] | None = None, **histology: str) -> Any:
    ihc = ({} if method == "imaging_only" else
           {"hmb45": "positive", "melan_a": "positive", "sma": "positive", "tfe3": "negative"})
    return parse_case({
        "diagnosis": {"method": method, "prior_diagnosis": "none"},
        "immunohistochemistry": ihc,
        "tumour": {"primary_site": "lung", "size": {"value": size_cm, "unit": "cm"}},
        "histology": {**ABSENT, **histology},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": surgery or {"status": "planned"},
    })


RESECTED = {"status": "performed", "date": "2024-02-01", "margin": "R0"}


class TestImagingOnly:
    @pytest.mark.parametrize("surgery", [None, {"status": "not_performed"}],
                             ids=["planned", "not performed"])
    def test_low_risk_waits_on_the_tissue_diagnosis(self, surgery: Any) -> None:
        """Every feature recorded absent, 3 cm: the group is still low (the input is
        read, not refused) but provisional on the tissue diagnosis, beside the
        resection specimen it already waited on, and the method is among the facts the
        group rests on. (A resection margin beside a diagnosis on imaging alone is
        refused already: a margin shows the tumour was examined on tissue.)"""
        a = assess(_case(surgery=surgery), ON)
        assert a.risk.group == "low"
        assert "MISS-TISSUE-DIAGNOSIS" in a.risk.item.conditional_on
        assert ("diagnosis.method", "imaging_only") in [
            (f.path, f.value) for f in a.risk.item.triggered_by]
        tissue = next(m for m in a.missing if m.id == "MISS-TISSUE-DIAGNOSIS")
        assert "RISK-LOW" in tissue.affects

    def test_indeterminate_waits_on_it_too(self) -> None:
        """Necrosis unknown, the others recorded absent: indeterminate (I1), asked for
        necrosis, and provisional on the tissue diagnosis for the features read absent."""
        a = assess(_case(necrosis="unknown"), ON)
        assert a.risk.group == "indeterminate"
        assert {"MISS-NECROSIS", "MISS-TISSUE-DIAGNOSIS"} <= set(a.risk.item.conditional_on)

    def test_a_feature_present_still_counts(self) -> None:
        """6 cm (S06) is measured on imaging: high risk, the safer group, which no
        tissue diagnosis would lower; it does not wait on it."""
        a = assess(_case(size_cm=6.0), ON)
        assert a.risk.group == "high"
        assert "MISS-TISSUE-DIAGNOSIS" not in a.risk.item.conditional_on

    def test_the_report_says_it_under_the_risk_group(self) -> None:
        md = markdown_report(assess(_case(), ON))
        risk = md.split("## Risk: low", 1)[1].split("| High-risk feature", 1)[0]
        assert "Provisional until supplied: MISS-RESECTION-SPECIMEN, MISS-TISSUE-DIAGNOSIS" \
            in risk


def test_a_tissue_diagnosis_does_not_wait_on_tissue() -> None:
    """The same tumour diagnosed on histology with the panel, resected: low risk, not
    provisional at all."""
    a = assess(_case("histology_with_ihc", surgery=RESECTED), ON)
    assert a.risk.group == "low"
    assert a.risk.item.conditional_on == ()
