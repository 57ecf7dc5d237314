"""What an item says holds for the patient it is shown to, and says whose it is.

Each record is one text for every patient it is produced for: it must not state as fact
what holds only for some of them (a primary still in place, a tumour that could not be
removed, a sarcoma, a systemic choice, a risk to stratify), and advice that is the
project's own carries the interpretation it rests on.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 5)
IHC = {"hmb45": "positive", "melan_a": "positive", "sma": "positive"}
MTOR_OK = {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"}


def run(data: dict[str, Any], on: dt.date = ON) -> Assessment:
    return assess(parse_case(data), on)


def item(a: Assessment, record_id: str) -> Any:
    return next(i for i in a.items() if i.id == record_id)


def localized(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-02",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 3, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent"},
        "immunohistochemistry": dict(IHC),
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R0"},
        "systemic": dict(MTOR_OK),
    }
    data.update(over)
    return data


class TestPriorDiagnosis:
    @pytest.mark.parametrize("prior", ["leiomyoma", "melanoma", "gist", "other"])
    def test_the_earlier_tumour_is_not_called_a_sarcoma(self, prior: str) -> None:
        rec = item(run(localized(diagnosis={"method": "histology_with_ihc",
                                            "date": "2025-01-02",
                                            "prior_diagnosis": prior})),
                   "ALERT-PRIOR-DIAGNOSIS")
        assert "Misdiagnosis as another sarcoma is common" not in rec.text
        assert {"S24", "S25"} <= set(rec.provenance.statements)

    def test_melanoma_the_shared_melanocytic_markers(self) -> None:
        """The guideline does not speak of melanoma; its pitfall, HMB-45 and Melan-A in
        both tumours, is published pathology and labelled so."""
        a = run(localized(diagnosis={"method": "histology_with_ihc", "date": "2025-01-02",
                                     "prior_diagnosis": "melanoma"}))
        rec = item(a, "SUPP-MELANOMA-MARKERS")
        assert rec.provenance.kind == "supplementary" and not rec.provenance.statements
        assert rec.provenance.sources and "HMB-45" in rec.text and "Melan-A" in rec.text

    def test_other_earlier_diagnoses_get_no_melanoma_note(self) -> None:
        a = run(localized(diagnosis={"method": "histology_with_ihc", "date": "2025-01-02",
                                     "prior_diagnosis": "leiomyosarcoma"}))
        assert "SUPP-MELANOMA-MARKERS" not in a.record_ids()


class TestGrossResidualRadiotherapy:
    """R2 leaves gross tumour: completing the resection comes first (S03); S10's
    radiotherapy is weighed after it, and worded so."""

    def test_worded_and_ordered_after_the_reexcision(self) -> None:
        a = run(localized(stage={"status": "localized", "lymph_nodes": "negative",
                                 "resectable": "yes"},
                          surgery={"status": "performed", "date": "2025-01-10",
                                   "margin": "R2"}))
        ids = [i.id for i in a.recommendations]
        assert "REC-ADJ-RADIOTHERAPY" not in ids
        assert ids.index("REC-RERESECTION") < ids.index(
            "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION")
        rec = item(a, "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION")
        assert rec.strength == "consider; limited supporting data"
        assert "S10" in rec.provenance.statements and rec.conditional_on == ()

    def test_r1_keeps_the_radiotherapy_consideration(self) -> None:
        a = run(localized(surgery={"status": "performed", "date": "2025-01-10",
                                   "margin": "R1"}))
        assert "REC-ADJ-RADIOTHERAPY" in a.record_ids()
        assert "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION" not in a.record_ids()
