"""Assessment -> CarePlan + RequestGroup, and the knowledge base as a PlanDefinition."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.plandefinition import PlanDefinition
from fhir.resources.R4B.requestgroup import RequestGroup

from pecoma import parse_case_json
from pecoma.engine import assess
from pecoma.engine.model import Item
from pecoma.engine.plan import SurveillancePlan, alert_level
from pecoma.engine.schedule import plan_surveillance
from pecoma.fhir import codes as c
from pecoma.fhir.careplan import careplan_bundle, validate_resources
from pecoma.fhir.plandefinition import (
    APPLIES_WHEN,
    CQF_QUALITY,
    CQF_STRENGTH,
    plan_definition,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.knowledge import load_knowledge

from fhir_support import EXAMPLES, example
from followup_tools import golden_names, plan_of, settings_of
from followup_tools import load as load_golden_plan
from scenario_tools import SCENARIOS, run, scenario_names, surveillance_plan

ON = dt.date(2026, 11, 28)
NAMES = scenario_names()


def _build(name: str) -> tuple[Any, Any, Any, dict[str, Any]]:
    bc = case_from_bundle(example(name))
    a = assess(bc.case, ON)
    plan = plan_surveillance(bc.case, a, ON)
    return bc, a, plan, careplan_bundle(bc.case, a, plan, patient_id=bc.patient_id)


def _resources(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    careplan = bundle["entry"][0]["resource"]
    group = bundle["entry"][1]["resource"]
    return careplan, group


def _provenance(extensions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in extensions if e["url"] == c.EXT.PROVENANCE]


class TestCarePlan:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_valid_r4b(self, name: str) -> None:
        """The bundle and each resource validate with fhir.resources R4B."""
        _bc, _a, _plan, bundle = _build(name)
        validate_resources(bundle)
        careplan, group = _resources(bundle)
        CarePlan.model_validate(careplan)
        RequestGroup.model_validate(group)

    def test_visits_become_timed_imaging_activities(self) -> None:
        """High risk: one activity per visit and examination, due..latest as the period."""
        _bc, _a, plan, bundle = _build("localized-high-risk")
        careplan, _group = _resources(bundle)
        timed = [x["detail"] for x in careplan["activity"] if "scheduledPeriod" in
                 x.get("detail", {})]
        assert plan.visits
        assert len(timed) == sum(len(v.imaging) for v in plan.visits)
        first = plan.visits[0]
        mine = [d for d in timed if d["scheduledPeriod"]["start"] == first.due.isoformat()]
        codes = sorted(d["code"]["coding"][0]["code"] for d in mine)
        assert codes == ["imaging-chest-ct", "imaging-mri-primary-site"]
        assert all(d["scheduledPeriod"]["end"] == first.latest.isoformat() for d in mine)
        for d in timed:
            statements = {e["valueString"] for p in _provenance(d["extension"])
                          for e in p["extension"] if e["url"] == "statement"}
            assert statements & {"S18", "S19", "S20", "S21", "S22", "S23", "S26"}

    def test_no_plan_while_disease_present(self) -> None:
        """Metastatic, read from a FHIR record: disease is present, so no surveillance is
        planned (S17: remove the disease; I8: high-risk surveillance only once free of
        it). No activity is written but the reference to the recommendations: no undated
        "surveillance visit" order. The reason is a note, and the follow-up rules are notes
        of what applies once surveillance can be dated."""
        _bc, a, plan, bundle = _build("metastatic-lung-metachronous")
        careplan, _group = _resources(bundle)
        assert plan.status == "not_drawn"
        assert [x for x in careplan["activity"] if "detail" in x] == []
        notes = [n["text"] for n in careplan["note"]]
        assert any(n.startswith("No surveillance calendar while disease is present.")
                   for n in notes)
        for f in a.followup:
            assert any(n.startswith("Once surveillance can be dated (no visit is dated now): "
                                    f"{f.title}.") for n in notes), f.id
        assert "no surveillance visit is dated now" in careplan["description"]

    def test_recommendations_keep_provenance(self) -> None:
        """Each RequestGroup action is an item, with statements/refs or sources."""
        _bc, a, _plan, bundle = _build("advanced-mtor-contraindicated")
        _careplan, group = _resources(bundle)
        ids = [x["id"] for x in group["action"]]
        assert ids == [a.risk.item.id, *(r.id for r in a.recommendations),
                       *(x.id for x in a.alerts)]
        for action in group["action"]:
            prov = _provenance(action["extension"])
            assert len(prov) == 1
            parts = {e["url"] for e in prov[0]["extension"]}
            assert ("statement" in parts and "guidelineRef" in parts) or "source" in parts
            assert action["documentation"]
        anthra = next(x for x in group["action"] if x["id"] == "REC-ANTHRACYCLINE")
        assert {d.get("label") for d in anthra["documentation"]} >= {"S14", "[1]"}
        supp = next(x for x in group["action"] if x["id"] == "SUPP-TFE3")
        assert any(d["type"] == "citation" and "Argani" in d.get("citation", "")
                   for d in supp["documentation"])

    def test_missing_facts_are_notes(self) -> None:
        """Necrosis left out of the record: a missing fact, noted in both resources."""
        source = example("low-risk")
        source["entry"] = [e for e in source["entry"]
                           if e["resource"].get("id") != "histology-necrosis"]
        bc = case_from_bundle(source)
        a = assess(bc.case, ON)
        bundle = careplan_bundle(bc.case, a, plan_surveillance(bc.case, a, ON))
        careplan, group = _resources(bundle)
        assert "MISS-NECROSIS" in {m.id for m in a.missing}
        for m in a.missing:
            assert any(m.id in n["text"] for n in careplan["note"])
            assert any(m.id in n["text"] for n in group["note"])

    def test_names_the_versioned_plandefinition(self) -> None:
        _bc, a, _plan, bundle = _build("low-risk")
        careplan, group = _resources(bundle)
        canonical = f"{c.PLAN_DEFINITION_URL}|{a.knowledge_version}"
        assert careplan["instantiatesCanonical"] == [canonical]
        assert group["instantiatesCanonical"] == [canonical]
        assert careplan["activity"][0]["reference"]["reference"] == f"RequestGroup/{group['id']}"

    def test_without_patient_id(self) -> None:
        """A case file has no patient: the subject is a display-only reference."""
        bc, a, plan, _bundle = _build("low-risk")
        bundle = careplan_bundle(bc.case, a, plan)
        validate_resources(bundle)
        assert "reference" not in bundle["entry"][0]["resource"]["subject"]


def _scenario(name: str) -> tuple[Any, SurveillancePlan, dict[str, Any], dict[str, Any]]:
    """The scenario's assessment and plan on 2026-11-28 (no scan history given), and the
    CarePlan and RequestGroup written from them, as ``pecoma fhir careplan`` writes them."""
    a = run(name)
    plan = surveillance_plan(a, name)
    case = parse_case_json((SCENARIOS / name / "case.json").read_text(encoding="utf-8"))
    careplan, group = _resources(careplan_bundle(case, a, plan))
    return a, plan, careplan, group


def _action_of(group: dict[str, Any], record: str) -> dict[str, Any]:
    actions: list[dict[str, Any]] = [x for x in group["action"] if x["id"] == record]
    (action,) = actions
    return action


def _details(careplan: dict[str, Any]) -> list[dict[str, Any]]:
    return [x["detail"] for x in careplan["activity"] if "detail" in x]


def _notes(careplan: dict[str, Any]) -> list[str]:
    return [n["text"] for n in careplan["note"]]


def _note_of(careplan: dict[str, Any], item: Item) -> str:
    """The CarePlan note that words ``item`` (its title, then its text)."""
    (note,) = [n for n in _notes(careplan) if f"{item.title}. {item.text} (" in n]
    return note


def _questions(a: Any, plan: SurveillancePlan) -> dict[str, str]:
    return {m.id: m.question for m in (*a.missing, *plan.missing)}


class TestProvisionalSaidInWords:
    """An item that waits on a missing fact is marked "Provisional until supplied" in the
    report, the PDF and the CDS card. An EHR shows a RequestGroup action's title,
    description and text equivalent, not pecoma's ``missing-fact`` extension: they say it
    too, with the missing fact and its question."""

    def test_mtor_first_line_waits_on_the_melanocytic_evidence(self) -> None:
        """HMB-45, Melan-A and MITF negative on a complete panel: the PEComa diagnosis is in
        doubt (I11). The mTOR inhibitor first line (S12, S13) is PEComa's treatment, so it
        holds only once melanocytic differentiation is shown: provisional on
        MISS-MELANOCYTIC-EVIDENCE, never stated as firm advice."""
        _a, _plan, _careplan, group = _scenario("ihc-melanocytic-negative")
        action = _action_of(group, "REC-MTOR-FIRST-LINE")
        assert action["title"] == (
            "(provisional) An mTOR inhibitor is the first-line systemic treatment")
        said = ("Provisional until supplied: MISS-MELANOCYTIC-EVIDENCE (No melanocytic marker "
                "tested (HMB-45, Melan-A, MITF) is positive: has the pathologist shown "
                "melanocytic differentiation")
        assert said in action["description"]
        assert said in action["textEquivalent"]
        assert {"url": c.EXT.MISSING_FACT, "valueString": "MISS-MELANOCYTIC-EVIDENCE"} in (
            action["extension"])

    def test_read_from_a_fhir_record(self) -> None:
        """A FHIR record whose necrosis Observation is missing: necrosis is unknown, not
        absent (I1), so the risk is indeterminate and the high-risk schedule is followed
        until it is supplied. The risk and the advice to stratify it say they are
        provisional on MISS-NECROSIS, with its question, and so does the follow-up note."""
        source = example("low-risk")
        source["entry"] = [e for e in source["entry"]
                           if e["resource"].get("id") != "histology-necrosis"]
        bc = case_from_bundle(source)
        a = assess(bc.case, ON)
        careplan, group = _resources(careplan_bundle(bc.case, a, plan_surveillance(bc.case, a,
                                                                                   ON)))
        (necrosis,) = [m for m in a.missing if m.id == "MISS-NECROSIS"]
        for record, title in (("RISK-INDETERMINATE", "Risk indeterminate"),
                              ("RISK-ASSESS", "Stratify the risk before any adjuvant decision")):
            action = _action_of(group, record)
            assert action["title"] == f"(provisional) {title}"
            assert (f"Provisional until supplied: MISS-NECROSIS ({necrosis.question})"
                    in action["textEquivalent"])
        (indeterminate,) = [f for f in a.followup if f.id == "FU-INDETERMINATE"]
        assert "Provisional until supplied: MISS-NECROSIS" in _note_of(careplan, indeterminate)

    def test_a_settled_item_is_not_marked(self) -> None:
        """Low risk, every feature recorded, R0: nothing the advice rests on is unknown, so
        no action says provisional (the mark means something only where it is true)."""
        a, _plan, _careplan, group = _scenario("low-risk-complete")
        settled = (a.risk.item, *a.recommendations, *a.alerts)
        assert not any(i.conditional_on for i in settled)
        for action in (_action_of(group, i.id) for i in settled):
            text = " ".join((action["title"], action["description"], action["textEquivalent"]))
            assert "rovisional" not in text, action["id"]

    def test_visits_counted_from_the_surgery_meanwhile_say_so(self) -> None:
        """Adjuvant treatment followed the surgery and its end is not recorded: surveillance
        counts from the end of curative treatment (S18), so the visits, counted from the
        surgery meanwhile (I22), are provisional on MISS-ADJUVANT-END: every open visit's
        description says so, with the question."""
        _a, plan, careplan, _group = _scenario("adjuvant-end-not-recorded")
        assert plan.next_visit is not None
        open_visits = [d for d in _details(careplan) if d["status"] == "not-started"]
        assert open_visits
        for d in open_visits:
            assert ("Provisional until supplied: MISS-ADJUVANT-END (Adjuvant treatment "
                    "followed the surgery: on what day did it") in d["description"]

    @pytest.mark.parametrize("name", NAMES)
    def test_every_provisional_item_says_so(self, name: str) -> None:
        """Every scenario: each item of the assessment that waits on a missing fact says
        "Provisional until supplied" with each of those facts and its question in its
        readable text: the risk, each recommendation and alert (the RequestGroup action's
        title, description and text equivalent) and each follow-up item (its CarePlan
        note). An item that waits on nothing says nothing of the kind."""
        a, plan, careplan, group = _scenario(name)
        questions = _questions(a, plan)
        for item in (a.risk.item, *a.recommendations, *a.alerts):
            action = _action_of(group, item.id)
            if not item.conditional_on:
                assert not action["title"].startswith("(provisional)"), item.id
                assert "Provisional until supplied" not in action["textEquivalent"], item.id
                continue
            assert action["title"] == f"(provisional) {item.title}"
            for field in ("description", "textEquivalent"):
                assert "Provisional until supplied: " in action[field], (item.id, field)
                for m in item.conditional_on:
                    assert m in action[field], (item.id, m)
                    if m in questions:
                        assert questions[m] in action[field], (item.id, m)
        for item in a.followup:
            note = _note_of(careplan, item)
            assert ("Provisional until supplied: " in note) == bool(item.conditional_on), item.id
            for m in item.conditional_on:
                assert m in note and questions.get(m, m) in note, (item.id, m)


#: Scenarios with disease present, for which `pecoma followup` dates no visit, and the
#: reason it gives.
_DISEASE_PRESENT = [
    ("localized-not-operated-resectability-unknown", "FU-NO-PLAN-PRIMARY-IN-PLACE"),
    ("margin-r2", "FU-NO-PLAN-RESIDUAL-TUMOUR"),
    ("recurrent-resectable", "FU-NO-PLAN-ACTIVE-DISEASE"),
]


class TestNoSurveillanceWithoutADatedPlan:
    """While disease is present the advice is to remove or treat it (S01, S03, S17), and
    no surveillance calendar is drawn (I18, I20, I8): the CarePlan proposes no surveillance
    visit, and what says so is a statement, not an order."""

    @pytest.mark.parametrize(("name", "reason"), _DISEASE_PRESENT)
    def test_disease_present_no_visit_is_proposed(self, name: str, reason: str) -> None:
        """A primary tumour not removed (I20), gross tumour left by an R2 resection (I18), a
        recurrence present (S17, I8): `pecoma followup` dates no visit and says why. The
        CarePlan agrees: no activity but the reference to the recommendations (no undated
        "surveillance visit" order, not even for the item that says there is no calendar);
        the reason is a note; the schedule of the risk group is a set of notes saying it
        applies once surveillance can be dated."""
        a, plan, careplan, _group = _scenario(name)
        assert plan.status == "not_drawn" and plan.next_visit is None
        assert reason in {r.id for r in plan.reasons}
        assert _details(careplan) == []
        (why,) = [r for r in plan.reasons if r.id == reason]
        assert _note_of(careplan, why).startswith(f"{why.title}.")
        reasons = {r.id for r in plan.reasons}
        schedule = [f for f in a.followup if f.id not in reasons]
        assert schedule  # the risk group's schedule, for after the disease is removed
        for f in schedule:
            assert _note_of(careplan, f).startswith(
                f"Once surveillance can be dated (no visit is dated now): {f.title}.")
        assert "no surveillance visit is dated now" in careplan["description"]
        assert "surveillance follows the" not in careplan["description"]

    @pytest.mark.parametrize("name", NAMES)
    def test_no_visit_unless_followup_dates_one(self, name: str) -> None:
        """Every scenario: the surveillance activities still to do are exactly the open
        visits of the plan `pecoma followup` draws, one per examination, each with its
        window; with no visit dated, there is none."""
        _a, plan, careplan, _group = _scenario(name)
        to_do = [d for d in _details(careplan) if d["status"] == "not-started"]
        expected = sum(max(len(v.imaging), 1) for v in plan.visits if v.open)
        assert len(to_do) == expected
        if plan.next_visit is None:
            assert _details(careplan) == []
        for d in to_do:
            assert d["scheduledPeriod"]["start"] and d["scheduledPeriod"]["end"]

    @pytest.mark.parametrize("name", ["recurrence-suspends", "metastasis-suspends-low-risk"])
    def test_a_plan_suspended_by_a_scan_that_found_disease(self, name: str) -> None:
        """A surveillance scan found disease: the plan stops there (S17, S27) and no visit
        is still to do. The visits done stay as history (completed; an examination not
        recorded at a visit done stays unknown, never completed); nothing is proposed,
        and the schedule items say they apply once surveillance can be dated again."""
        spec = load_golden_plan(name)["input"]
        plan = plan_of(name)
        case = parse_case_json(json.dumps(spec["case"]))
        a = assess(case, dt.date.fromisoformat(spec["on"]))
        careplan, _group = _resources(careplan_bundle(case, a, plan))
        assert plan.status == "suspended" and plan.next_visit is None
        assert {d["status"] for d in _details(careplan)} <= {"completed", "cancelled",
                                                              "unknown"}
        for d in _details(careplan):
            if d["status"] == "unknown":
                assert d["statusReason"]["text"].startswith("not recorded: the visit was done")
        assert careplan["note"][len(a.missing) + 1]["text"].startswith(
            "Surveillance suspended: a scan found disease.")
        reasons = {r.id for r in plan.reasons}
        for f in a.followup:
            if f.id not in reasons:
                assert _note_of(careplan, f).startswith("Once surveillance can be dated")


#: High risk (a 5.1 cm kidney PEComa, S06), R0 resection on 2024-01-15: the first visit
#: is due 2024-04-15, at the latest 2024-05-15 (S18, I2); chest CT and MRI of the primary
#: site at each visit (S21, S22).
_HIGH_RISK_R0 = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-05",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 5.1, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent",
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2024-01-15", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
}


def _with_scans(on: str, scans: list[tuple[str, str, str]]
                ) -> tuple[SurveillancePlan, dict[str, Any], dict[str, Any]]:
    """The high-risk R0 case's plan on ``on`` with the scans (date, modality, finding),
    and the CarePlan and RequestGroup written from it."""
    from pecoma.engine.imaging import parse_imaging

    case = parse_case_json(json.dumps(_HIGH_RISK_R0))
    day = dt.date.fromisoformat(on)
    a = assess(case, day)
    imaging = parse_imaging([{"date": d, "modality": m, "finding": f} for d, m, f in scans])
    plan = plan_surveillance(case, a, day, imaging)
    careplan, group = _resources(careplan_bundle(case, a, plan))
    validate_resources(careplan_bundle(case, a, plan))
    return plan, careplan, group


def _visit_details(careplan: dict[str, Any], index: int) -> dict[str, dict[str, Any]]:
    """The activities of surveillance visit ``index``, by their examination's code."""
    return {d["code"]["coding"][0]["code"]: d for d in _details(careplan)
            if d["description"].startswith(f"Surveillance visit {index} (")}


def _activity_of(careplan: dict[str, Any], detail: dict[str, Any]) -> dict[str, Any]:
    (activity,) = [x for x in careplan["activity"] if x.get("detail") is detail]
    return activity


class TestWhatThePlanFoundReachesTheCarePlan:
    """The CarePlan said "completed" of every examination of a visit done, and held none
    of the plan's flags: an MRI of the primary site never done read as done, an equivocal
    scan that needs the team's decision now (I16) and a result never recorded were not in
    the Bundle at all, and a late visit read as plainly done. An EHR reading the CarePlan
    must see what the plan, its reports and its calendar say."""

    def test_an_examination_not_recorded_is_not_completed(self) -> None:
        """Visit 1 (due 2024-04-15) with the chest CT only: the MRI of the primary site
        (S22) looks for local recurrence, which the chest CT (S21) does not. The CT is
        completed; the MRI is not: its status is unknown (whether it was done is not
        known), with the reason in words, and the plan's check (FU-IMAGING-INCOMPLETE:
        check it was done, or book it) is an action of the RequestGroup, urgent as every
        output's warning, and said on the visit."""
        _plan, careplan, group = _with_scans(
            "2024-06-01", [("2024-04-15", "chest_ct", "no_evidence_of_disease")])
        visit = _visit_details(careplan, 1)
        ct, mri = visit["imaging-chest-ct"], visit["imaging-mri-primary-site"]
        assert ct["status"] == "completed" and "[done 2024-04-15]" in ct["description"]
        assert mri["status"] == "unknown"
        assert mri["statusReason"]["text"] == (
            "not recorded: the visit was done on 2024-04-15 without this examination")
        assert "[done" not in mri["description"]
        action = _action_of(group, "FU-IMAGING-INCOMPLETE")
        assert action["priority"] == "urgent"
        assert action["title"] == "Not every planned examination is recorded"
        for d in (ct, mri):
            assert "Flag: Not every planned examination is recorded." in d["description"]
        assert "To act on now" in careplan["description"]
        assert "Not every planned examination is recorded (warning)" in (
            careplan["description"])

    def test_an_equivocal_scan_needs_a_decision_now(self) -> None:
        """The chest CT of visit 1 is equivocal: the team decides on it now, not at the
        next routine visit (S26, S27, I16), critical in every output. The RequestGroup
        holds it as an action of priority asap, with its provenance (I16); the CT's
        activity gives its finding (outcome and words) and the flag."""
        _plan, careplan, group = _with_scans(
            "2024-06-01", [("2024-04-15", "chest_ct", "equivocal"),
                           ("2024-04-15", "mri_primary", "no_evidence_of_disease")])
        action = _action_of(group, "FU-EQUIVOCAL")
        assert action["priority"] == "asap"
        interpretations = {e["valueString"] for p in _provenance(action["extension"])
                           for e in p["extension"] if e["url"] == "interpretation"}
        assert "I16" in interpretations
        ct = _visit_details(careplan, 1)["imaging-chest-ct"]
        assert _activity_of(careplan, ct)["outcomeCodeableConcept"] == [
            {"text": "CT of the chest 2024-04-15: equivocal"}]
        assert "Finding: CT of the chest 2024-04-15: equivocal." in ct["description"]
        assert "Flag: Equivocal scan: decide before the next routine visit." in (
            ct["description"])
        assert "Equivocal scan: decide before the next routine visit (critical)" in (
            careplan["description"])

    def test_a_result_not_recorded_is_not_read_as_normal(self) -> None:
        """The chest CT of visit 1 has no recorded result: an unknown result is not a
        normal one. The activity says the result was not recorded, and the plan's flag
        (FU-FINDING-NOT-RECORDED) is an urgent action."""
        _plan, careplan, group = _with_scans(
            "2024-06-01", [("2024-04-15", "chest_ct", "not_recorded"),
                           ("2024-04-15", "mri_primary", "no_evidence_of_disease")])
        assert _action_of(group, "FU-FINDING-NOT-RECORDED")["priority"] == "urgent"
        ct = _visit_details(careplan, 1)["imaging-chest-ct"]
        assert _activity_of(careplan, ct)["outcomeCodeableConcept"] == [
            {"text": "CT of the chest 2024-04-15: result not recorded"}]
        assert "Flag: Scan result not recorded." in ct["description"]

    def test_a_late_examination_says_late(self) -> None:
        """Visit 1 is due 2024-04-15 and overdue after 2024-05-15 (S18, I2); both scans
        were done on 2024-05-30: completed, late, as the calendar says."""
        _plan, careplan, _group = _with_scans(
            "2024-06-01", [("2024-05-30", "chest_ct", "no_evidence_of_disease"),
                           ("2024-05-30", "mri_primary", "no_evidence_of_disease")])
        for d in _visit_details(careplan, 1).values():
            assert d["status"] == "completed"
            assert d["statusReason"]["text"] == (
                "late: done 2024-05-30, after the latest date 2024-05-15")
            assert "[done 2024-05-30, late (after 2024-05-15)]" in d["description"]

    def test_a_flag_settled_later_stays_on_its_visit(self) -> None:
        """Visit 1 lacks its MRI, visit 2 (due 2024-07-15) has both examinations: the
        check is settled (a later visit was done), so it is no longer an action to take
        now, but visit 1's history still says the MRI was not recorded."""
        plan, careplan, group = _with_scans(
            "2024-08-01", [("2024-04-15", "chest_ct", "no_evidence_of_disease"),
                           ("2024-07-15", "chest_ct", "no_evidence_of_disease"),
                           ("2024-07-15", "mri_primary", "no_evidence_of_disease")])
        assert "FU-IMAGING-INCOMPLETE" not in {a.id for a in plan.alerts}
        assert "FU-IMAGING-INCOMPLETE" not in {x["id"] for x in group["action"]}
        mri = _visit_details(careplan, 1)["imaging-mri-primary-site"]
        assert mri["status"] == "unknown"
        assert "Flag: Not every planned examination is recorded." in mri["description"]
        assert "To act on now" not in careplan["description"]

    def test_a_scan_of_another_modality_is_said_not_done(self) -> None:
        """Visit 2 of the golden plan had an ultrasound, a chest X-ray, which S21 ranks
        below CT, and the MRI: the MRI is completed; the chest CT was not done, so it is
        not completed, and the ultrasound and the chest X-ray, which stand for no planned
        examination, are named with what they found, never as the chest CT."""
        spec = load_golden_plan("other-modalities-fulfil-no-visit")["input"]
        plan = plan_of("other-modalities-fulfil-no-visit")
        case = parse_case_json(json.dumps(spec["case"]))
        a = assess(case, dt.date.fromisoformat(spec["on"]))
        careplan, _group = _resources(careplan_bundle(case, a, plan))
        visit = _visit_details(careplan, 2)
        ct, mri = visit["imaging-chest-ct"], visit["imaging-mri-primary-site"]
        assert mri["status"] == "completed" and ct["status"] == "unknown"
        assert "outcomeCodeableConcept" not in _activity_of(careplan, ct)
        other = ("Other imaging at this visit: ultrasound 2025-06-20: no evidence of disease; "
                 "chest X-ray 2025-07-15: no evidence of disease.")
        assert other in ct["description"] and other in mri["description"]

    def test_visits_overdue_are_to_act_on_now(self) -> None:
        """Visit 1 done (2024-04-15, both examinations), nothing since: on 2025-06-01 the
        visits due 2024-07-15 to 2025-04-15 have no scan. A high-risk patient out of
        surveillance for a year (S18, S26) is something to act on now, as `pecoma
        followup` headlines it and the report's summary lists it ("Surveillance imaging
        missed or overdue", a warning): an urgent RequestGroup action with the visits in
        words, named in the CarePlan's "To act on now". The same plan a year earlier,
        visit 1 done on time, has no such action: nothing is late."""
        _plan, careplan, group = _with_scans(
            "2024-06-01", [("2024-04-15", "chest_ct", "no_evidence_of_disease"),
                           ("2024-04-15", "mri_primary", "no_evidence_of_disease")])
        assert [x for x in group["action"] if x["id"] == "alert-visits-late"] == []
        assert "missed or overdue" not in careplan["description"]
        plan, careplan, group = _with_scans(
            "2025-06-01", [("2024-04-15", "chest_ct", "no_evidence_of_disease"),
                           ("2024-04-15", "mri_primary", "no_evidence_of_disease")])
        late = [v.index for v in plan.visits if v.status in ("overdue", "missed")]
        assert late[:2] == [2, 3]  # due 2024-07-15 and 2024-10-15: no scan recorded
        action = _action_of(group, "alert-visits-late")
        assert action["priority"] == "urgent"
        assert action["title"] == "Surveillance imaging missed or overdue"
        assert action["description"].startswith("No scan is recorded for visit 2 ")
        assert "(due 2024-07-15, overdue after 2024-08-15)" in action["description"]
        assert action["description"].endswith("Book the scan or record it.")
        assert "S18" in {x["label"] for x in action["documentation"]}
        assert "To act on now" in careplan["description"]
        assert "Surveillance imaging missed or overdue (warning)" in careplan["description"]

    @pytest.mark.parametrize("name", golden_names())
    def test_every_flag_and_alert_of_the_plan_is_in_the_bundle(self, name: str) -> None:
        """Every golden plan: each of the plan's alerts is a RequestGroup action at the
        level every output gives it; each visit's flags are said on its activities;
        the flags of the scans at the start of surveillance are notes; and no
        examination not recorded is completed."""
        spec = load_golden_plan(name)["input"]
        plan = plan_of(name)
        case = parse_case_json(json.dumps(spec["case"]))
        a = assess(case, dt.date.fromisoformat(spec["on"]), settings_of(spec.get("settings")))
        careplan, group = _resources(careplan_bundle(case, a, plan))
        for alert in plan.alerts:
            action = _action_of(group, alert.id)
            assert action["priority"] == {"critical": "asap", "warning": "urgent"}[
                alert_level(alert.id)]
        details = iter(_details(careplan))
        for v in plan.visits:
            for p in v.imaging or (None,):
                d = next(details)
                for f in v.flags:
                    assert f"Flag: {f.title}. {f.text}" in d["description"], (v.index, f.id)
                if v.status == "done" and p is not None and p.done_on is None:
                    assert d["status"] == "unknown", v.index
        for f in plan.baseline_flags:
            assert any(n.startswith(f"At the start of surveillance: {f.title}.")
                       for n in _notes(careplan)), f.id


class TestSourcesInWords:
    """Every output labels the low-risk schedule supplementary, not from the guideline
    (I3, ESMO-EURACAN-GENTURIS 2021), and the imaging at low-risk visits the project's
    interpretation (I12): the CarePlan says it in its readable fields, not only in the
    provenance extension."""

    def test_low_risk_visits_name_their_sources(self) -> None:
        """Low risk: the guideline gives no schedule (S23); the visits every 4 months, then
        yearly, are soft-tissue-sarcoma practice (I3). Chest CT and MRI are named by the
        guideline for high-risk patients only (S21, S22): at low-risk visits they are the
        project's choice (I12). Each visit says both; the schedule's and the examinations'
        items are notes with their sources."""
        a, plan, careplan, _group = _scenario("low-risk-complete")
        visits = _details(careplan)
        assert visits and plan.surveillance_group == "low"
        supplementary = ("supplementary default, not from the guideline (supplementary (not "
                         "from the guideline) · ESMO-EURACAN-GENTURIS 2021 · interpretation I3")
        for d in visits:
            assert (f"Schedule: Low-risk schedule from soft-tissue-sarcoma practice — "
                    f"{supplementary})" in d["description"]
                    or f"Schedule: Low risk: yearly after the first years, without end — "
                    f"{supplementary}, I4)" in d["description"])
            assert ("— project's interpretation (I12), not the guideline's advice for low "
                    "risk (guideline S2") in d["description"]
        for record in ("SUPP-FU-LOW-SCHEDULE", "FU-LOW-CHEST-CT", "FU-LOW-MRI-PRIMARY"):
            (item,) = [f for f in a.followup if f.id == record]
            assert item.provenance.label in _note_of(careplan, item)
        assert "ESMO-EURACAN-GENTURIS 2021" in _note_of(
            careplan, next(f for f in a.followup if f.id == "SUPP-FU-LOW-SCHEDULE"))

    def test_a_low_risk_visit_without_imaging_is_labelled_too(self) -> None:
        """Settings that plan no examination at low-risk visits (I12 is the project's
        choice, and the settings can change it): each visit is one appointment, still
        saying that its schedule is supplementary, not from the guideline (I3)."""
        settings = settings_of({"low_risk_imaging": []})
        case = parse_case_json((SCENARIOS / "low-risk-complete" / "case.json").read_text())
        a = assess(case, ON, settings)
        plan = plan_surveillance(case, a, ON, None, settings)
        careplan, _group = _resources(careplan_bundle(case, a, plan))
        visits = _details(careplan)
        assert visits and all(d["kind"] == "Appointment" for d in visits)
        for d in visits:
            assert "supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021" in (
                d["description"])

    def test_high_risk_visits_are_the_guideline_s(self) -> None:
        """High risk: the rhythm (S18-S20) and the examinations (S21, S22) are the
        guideline's own: no supplementary or interpretation I12 label on them. That both
        examinations are at every visit is the project's reading (I31): the guideline names
        the examinations, not the visits that hold them."""
        _a, plan, careplan, _group = _scenario("size-5.1cm-high-risk")
        visits = _details(careplan)
        assert visits and plan.surveillance_group == "high"
        for d in visits:
            assert "upplementary" not in d["description"]
            assert "I12" not in d["description"]
            assert ("Examination: Chest CT at each visit (interpretation I31) — recommended "
                    "(guideline S21 · ref [1] · interpretation I31)" in d["description"]
                    or "Examination: MRI of the primary site at each visit (interpretation "
                    "I31) — recommended (guideline S22 · ref [1] · interpretation I31)"
                    in d["description"])

    def test_the_low_risk_schedule_ahead_is_labelled_too(self) -> None:
        """R2, low risk: no visit is dated while the tumour is present (I18); the low-risk
        schedule that will apply once it is removed is still labelled supplementary (I3)
        and its imaging the project's interpretation (I12)."""
        a, _plan, careplan, _group = _scenario("margin-r2")
        for record in ("SUPP-FU-LOW-SCHEDULE", "FU-LOW-CHEST-CT", "FU-LOW-MRI-PRIMARY"):
            (item,) = [f for f in a.followup if f.id == record]
            assert item.provenance.label in _note_of(careplan, item)
        notes = " ".join(_notes(careplan))
        assert "supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021" in notes
        assert "interpretation I12" in notes

    @pytest.mark.parametrize("name", NAMES)
    def test_every_source_in_words(self, name: str) -> None:
        """Every scenario: each visit's description names the source of its schedule and
        of its examination (their provenance labels: "supplementary (not from the
        guideline) · …", "interpretation I…"), and each follow-up item's note its own."""
        a, plan, careplan, _group = _scenario(name)
        phases = {p.id: p.item for p in plan.phases}
        by_record = {f.id: f for f in a.followup}
        details = iter(_details(careplan))
        for v in plan.visits:
            for p in v.imaging or (None,):
                d = next(details)
                phase = phases[v.phase]
                assert (f"Schedule: {phase.title} — {phase.strength} ({v.provenance.label})"
                        in d["description"])
                if p is not None:
                    exam = by_record[p.record]
                    assert (f"Examination: {exam.title} — {exam.strength} "
                            f"({p.provenance.label})" in d["description"])
        for f in a.followup:
            assert f"({f.provenance.label})." in _note_of(careplan, f)


class TestPlanDefinition:
    def test_valid_and_versioned(self) -> None:
        pd = plan_definition()
        PlanDefinition.model_validate(pd)
        k = load_knowledge()
        assert pd["version"] == k.version
        assert pd["url"] == c.PLAN_DEFINITION_URL

    def test_every_record_is_an_action_with_evidence(self) -> None:
        """Each record: condition in words, strength, quality, rationale, artifacts."""
        k = load_knowledge()
        actions = {a["id"]: a for s in plan_definition()["action"] for a in s["action"]}
        assert set(actions) == set(k.records)
        for rid, action in actions.items():
            urls = [e["url"] for e in action["extension"]]
            assert CQF_STRENGTH in urls and CQF_QUALITY in urls, rid
            assert "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale" in urls
            words = action["condition"][0]["expression"]["description"]
            assert words == APPLIES_WHEN[rid]
            assert action["documentation"], rid

    def test_every_record_has_its_condition_in_words(self) -> None:
        """A record added to the knowledge base must get its words here too."""
        assert set(load_knowledge().records) <= set(APPLIES_WHEN)

    def test_strength_codes(self) -> None:
        actions = {a["id"]: a for s in plan_definition()["action"] for a in s["action"]}

        def strength(rid: str) -> dict[str, Any]:
            ext = next(e for e in actions[rid]["extension"] if e["url"] == CQF_STRENGTH)
            value: dict[str, Any] = ext["valueCodeableConcept"]
            return value

        assert strength("REC-MTOR-FIRST-LINE")["coding"][0]["code"] == "strong"
        assert strength("REC-ADJ-RADIOTHERAPY")["coding"][0]["code"] == "weak"
        assert "coding" not in strength("REC-NO-NEXT-LINE")

    def test_statements_all_carried(self) -> None:
        """Every statement S01-S28 appears in the PlanDefinition's documentation."""
        labels = {d.get("label") for s in plan_definition()["action"] for a in s["action"]
                  for d in a["documentation"]}
        assert {f"S{i:02d}" for i in range(1, 29)} <= labels
