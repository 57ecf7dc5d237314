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
#: Four weeks after the operation of 2025-01-10 (the cases below): the time when
#: re-excision (S03) and adjuvant radiotherapy (S10) are decided, as the tests of their
#: wording are about. More than 6 months after the operation, with no relapse, they are
#: decisions to confirm instead (I30; tests/test_postoperative_decisions_age.py).
WEEKS_AFTER = dt.date(2025, 2, 7)
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
                                   "margin": "R1"}), WEEKS_AFTER)
        assert "REC-ADJ-RADIOTHERAPY" in a.record_ids()
        assert "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION" not in a.record_ids()


#: Every feature of the guideline (S06-S09) and of Folpe 2005 absent.
_BENIGN = {"necrosis": "absent", "infiltrative_growth": "absent",
           "high_nuclear_grade_and_cellularity": "absent", "vascular_invasion": "absent",
           "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0}


def _r(margin: str, **histology: Any) -> dict[str, Any]:
    """The 3 cm localized tumour with every feature absent (low risk, Folpe benign)
    unless ``histology`` says otherwise, resected with ``margin``; the residue
    resectable."""
    return localized(histology={**_BENIGN, **histology},
                     stage={"status": "localized", "lymph_nodes": "negative",
                            "resectable": "yes"},
                     surgery={"status": "performed", "date": "2025-01-10", "margin": margin})


#: The re-excision items of an R1 and of an R2 margin.
_REEXCISION = {"R1": "REC-RERESECTION", "R2": "REC-RERESECTION-GROSS"}


class TestReexcisionSaysS27OfMalignantPEComaOnly:
    """S27 says that *malignant* PEComa not completely removed will recur and metastasise;
    what the project takes as malignant is I9, and the residual-tumour alert is graded by
    it. The re-excision item is one text for benign and malignant tumours alike, so it
    rests on S03 (complete removal is the standard for every localized PEComa) and says
    S27's 'will recur and metastasise' of malignant PEComa only: a benign, low-risk tumour
    is not told it will relapse, nor is the S03 advice weakened."""

    @pytest.mark.parametrize("margin", ["R1", "R2"])
    def test_a_benign_low_risk_tumour_is_not_told_it_will_recur(self, margin: str) -> None:
        a = run(_r(margin), WEEKS_AFTER)
        assert a.risk.group == "low"
        assert {c.id: c.category for c in a.classifications}["CLS-FOLPE-2005"] == "benign"
        rec = item(a, _REEXCISION[margin])
        for sentence in f"{rec.text} {rec.rationale}".split(". "):
            if "will recur" in sentence:
                assert "malignant PEComa" in sentence, sentence
        # the scope of 'malignant' is the project's interpretation, cited on the item
        assert "I9" in rec.provenance.interpretations
        assert "interpretation I9" in rec.rationale
        # S03 stands on its own, for every tumour, with its force
        assert "standard for every localized PEComa" in rec.rationale
        assert "(S03)" in rec.rationale
        assert rec.strength == "standard not met"
        # the alert beside it says the same of S27 (I9), as the plain warning
        alert = next(i for i in a.alerts if "I9" in i.provenance.interpretations)
        assert alert.level == "warning"
        assert "is said of malignant PEComa" in alert.text

    @pytest.mark.parametrize("margin", ["R1", "R2"])
    def test_one_text_for_a_malignant_tumour(self, margin: str) -> None:
        """Mitoses 3 per 50 HPF and vascular invasion: Folpe malignant (two worrisome
        features). The item is the same; the critical alert beside it says the tumour
        counts as malignant."""
        malignant = run(_r(margin, mitoses_per_50_hpf=3, vascular_invasion="present"),
                        WEEKS_AFTER)
        benign = run(_r(margin), WEEKS_AFTER)
        assert {c.id: c.category for c in malignant.classifications}[
            "CLS-FOLPE-2005"] == "malignant"
        rid = _REEXCISION[margin]
        assert item(malignant, rid).rationale == item(benign, rid).rationale
        assert any(i.level == "critical" for i in malignant.alerts)


def test_every_rendering_of_the_reexcision_item_says_the_one_text(tmp_path: Any) -> None:
    """R1, low risk, Folpe benign, four weeks after the operation (WEEKS_AFTER): the
    terminal and Markdown reports, the CDS summary card
    and the FHIR RequestGroup show the re-excision item's reason as the record words it;
    none of them, nor the PDF (which shows no reasons), says that any PEComa left behind
    will recur and metastasise."""
    import io

    from fastapi.testclient import TestClient
    from rich.console import Console

    from pecoma.fhir.careplan import careplan_bundle
    from pecoma.fhir.writer import bundle_from_case
    from pecoma.knowledge import load_knowledge
    from pecoma.render.text import markdown_report, print_report
    from pecoma.web.app import create_app, make_templates
    from pecoma.web.cds.discovery import PATIENT_VIEW
    from pecoma.web.config import WebConfig
    from pecoma.web.pages import build_report_view
    from pecoma.web.pdf import render_pdf_html

    from fhir_support import patient_id, prefetch_of

    case = parse_case(_r("R1"))
    a = assess(case, WEEKS_AFTER)
    why = K.records["REC-RERESECTION"].rationale
    old = "PEComa left behind will recur"

    out = io.StringIO()
    print_report(a, Console(file=out, width=2000, color_system=None))
    terminal = " ".join(out.getvalue().replace("│", " ").split())
    markdown = markdown_report(a)
    plan = plan_surveillance(case, a, WEEKS_AFTER)
    pdf = render_pdf_html(make_templates(), build_report_view(case, a, load_knowledge(), plan), a)
    request_group = careplan_bundle(case, a, plan)["entry"][1]["resource"]
    action = next(x for x in request_group["action"] if x["id"] == "REC-RERESECTION")
    careplan_why = [e["valueMarkdown"] for e in action["extension"] if "rationale" in e["url"]]

    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}"),
                     today=lambda: WEEKS_AFTER)
    bundle = bundle_from_case(case)
    body = {"hook": "patient-view", "hookInstance": "d1577c69-dfbe-44ad-ba6d-3e05e953b2ea",
            "context": {"userId": "Practitioner/example", "patientId": patient_id(bundle)},
            "prefetch": prefetch_of(bundle)}
    with TestClient(app, base_url="http://localhost") as client:
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards = " ".join(c.get("detail", "") for c in r.json()["cards"])

    assert why in terminal and why in markdown and why in cards
    assert careplan_why == [why]
    for shown in (terminal, markdown, cards, pdf, json.dumps(request_group)):
        assert old not in shown
