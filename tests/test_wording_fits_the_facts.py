"""What an item says holds for the patient it is shown to, and says whose it is.

Each record is one text for every patient it is produced for: it must not state as fact
what holds only for some of them (a primary still in place, a tumour that could not be
removed, a sarcoma, a systemic choice, a risk to stratify), and advice that is the
project's own carries the interpretation it rests on.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest

from pecoma import assess, load_knowledge, parse_case, plan_surveillance
from pecoma.engine.model import Assessment

K = load_knowledge()
ON = dt.date(2026, 12, 5)
IHC = {"hmb45": "positive", "melan_a": "positive", "sma": "positive"}
MTOR_OK = {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"}


def example(name: str) -> dict[str, Any]:
    text = resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


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


class TestMetastaticSurgery:
    def test_the_primary_resected_years_ago_is_not_to_be_removed_again(self) -> None:
        """The bundled example: primary resected R0 in 2023, a lung metastasis in 2024.
        S17's removal is of the disease present; the primary only if still in place."""
        a = run(example("metachronous-lung"))
        rec = item(a, "REC-AGGRESSIVE-SURGERY")
        words = f"{rec.title} {rec.text}".lower()
        assert "removal of the primary and" not in words
        assert "if it is still in place" in words
        assert rec.strength == "attempt whenever possible"


class TestAfterRelapse:
    def test_an_r0_primary_is_not_said_to_have_been_unremovable(self) -> None:
        """After a metastasectomy, with the primary resected R0, the reason given for
        high-risk surveillance must not say that the primary could not be removed."""
        data = example("metachronous-lung")
        data["free_of_disease"] = {"since": "2025-01-20", "by": "surgery"}
        rec = item(run(data), "FU-AFTER-RELAPSE")
        assert "a primary that could not be removed was never assessed" not in rec.text
        assert "after a primary that could not be removed" in rec.text


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


def test_tfe3_in_a_localized_resected_tumour_names_no_systemic_choice() -> None:
    ihc = {**IHC, "tfe3": "positive"}
    a = run(localized(immunohistochemistry=ihc))
    assert a.advanced is False
    rec = item(a, "SUPP-TFE3")
    assert "weigh it in systemic choices" not in rec.text
    assert "if the disease is, or becomes, advanced" in rec.text


def test_features_asked_in_metastatic_disease_do_not_speak_of_a_risk_to_stratify() -> None:
    """Metastatic disease: the risk is not stratified (I8); the features are asked for
    the pathology categories only, and the missing facts say so."""
    data = localized(histology={"infiltrative_growth": "absent", "mitoses_per_50_hpf": 0},
                     stage={"status": "metastatic", "lymph_nodes": "negative",
                            "resectable": "no",
                            "metastases": [{"site": "liver", "detected_on": "2025-01-08"}]})
    a = run(data)
    assert a.risk.group == "not_applicable"
    asked = {m.id: m for m in a.missing}
    assert {"MISS-NECROSIS", "MISS-GRADE"} <= set(asked)
    for mid in ("MISS-NECROSIS", "MISS-GRADE"):
        assert "; the risk cannot be low" not in asked[mid].meanwhile, mid
        assert "where the risk is stratified" in asked[mid].meanwhile, mid


def test_equivocal_scan_advice_is_labelled_as_the_projects_reading() -> None:
    """The guideline (S26, S27) says nothing of equivocal findings: re-imaging at a short
    interval or a biopsy, and counting on from the scan, is the project's reading."""
    rec = K.records["FU-EQUIVOCAL"]
    assert rec.interpretations == ("I16",)
    assert "I16" in K.interpretations
    assert "interpretation I16" in rec.text
    case = parse_case(localized())
    from pecoma.engine.imaging import parse_imaging

    history = parse_imaging([{"date": "2025-04-10", "modality": "chest_ct",
                              "finding": "equivocal"}])
    plan = plan_surveillance(case, assess(case, ON), ON, imaging=history)
    flag = next(f for f in plan.flags if f.id == "FU-EQUIVOCAL")
    assert "I16" in flag.provenance.interpretations


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
        assert ids.index("REC-RERESECTION-GROSS") < ids.index(
            "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION")
        rec = item(a, "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION")
        assert rec.strength == "consider; limited supporting data"
        assert "S10" in rec.provenance.statements and rec.conditional_on == ()

    def test_r1_keeps_the_radiotherapy_consideration(self) -> None:
        a = run(localized(surgery={"status": "performed", "date": "2025-01-10",
                                   "margin": "R1"}))
        assert "REC-ADJ-RADIOTHERAPY" in a.record_ids()
        assert "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION" not in a.record_ids()
