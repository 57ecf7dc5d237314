"""An mTOR inhibitor recorded as not tolerated (interpretation I15).

The intolerance rules that drug out, and every mTOR inhibitor unless the record shows the
patient tolerating another one: the latest mTOR-inhibitor line is of a drug not itself
recorded as not tolerated. A patient controlled on sirolimus with an everolimus
intolerance had been offered doxorubicin (S14) "when mTOR inhibitors cannot be used",
the line under way no longer said, and a recorded "not contraindicated" refused. Where
the class contraindication is derived from an intolerance, the items resting on it cite
I15 and name the intolerance, never a "contraindicated = yes" the team did not enter.
The FHIR reader and the CDS services apply the same rule to an allergy list and the
medication history.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.case import Agent, TherapyLine
from pecoma.engine.model import Assessment, Fact, Item
from pecoma.errors import InputError
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report
from pecoma.web.app import create_app
from pecoma.web.cds.allergies import drug_safety
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from pecoma.web.smart.record import Record, unread_stays_unknown

from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 12, 1)

#: Metastatic renal PEComa, liver and lung metastases found 2024-03-01, not resectable;
#: mTOR inhibitors available, the contraindication not recorded.
BASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 11, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2024-03-01"},
                             {"site": "lung", "detected_on": "2024-03-01"}],
              "extrapulmonary_disease": "yes", "resectable": "no"},
    "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
}


def line(agent: str, n: int | None = 1, start: str | None = "2024-03-20",
         progressed: str = "no", **more: str) -> dict[str, Any]:
    out: dict[str, Any] = {"agent": agent, "setting": "advanced", "progressed": progressed,
                           **more}
    if n is not None:
        out["line"] = n
    if start is not None:
        out["started_on"] = start
    return out


def case_of(therapies: list[dict[str, Any]], intolerant: list[str],
            contraindicated: str = "unknown", class_wide: str | None = None
            ) -> dict[str, Any]:
    """The record; ``class_wide``: the team's judgement recorded on every intolerance."""
    judged = {} if class_wide is None else {"class_wide": class_wide}
    return {**copy.deepcopy(BASE), "systemic": {
        "mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": contraindicated,
        # recorded absent: S14's option waits on the mTOR facts alone here (HAZ-528)
        "anthracycline_contraindicated": "no",
        "therapies": therapies, "intolerances": [{"agent": a, **judged} for a in intolerant]}}


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def ids(a: Assessment) -> set[str]:
    return set(a.record_ids())


def item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


#: Records whose facts show the patient tolerating another mTOR inhibitor.
TOLERATED: dict[str, dict[str, Any]] = {
    # the reported case: on sirolimus, responding; an everolimus intolerance recorded
    "on sirolimus, everolimus not tolerated": case_of([line("sirolimus")], ["everolimus"]),
    # everolimus stopped for intolerance, then sirolimus, responding
    "switched after the intolerance": case_of(
        [line("everolimus", 1, "2024-03-20"), line("sirolimus", 2, "2024-05-02")],
        ["everolimus"]),
    # the same, told by line numbers alone
    "switched, by line numbers": case_of(
        [line("everolimus", 1, None), line("sirolimus", 2, None)], ["everolimus"]),
    # two others not tolerated: the one given is still tolerated
    "two others not tolerated": case_of([line("sirolimus")], ["everolimus", "temsirolimus"]),
    "on temsirolimus, sirolimus not tolerated": case_of([line("temsirolimus")],
                                                        ["sirolimus"]),
    # neighbours of the one-drug reading: everolimus is another drug than either form of
    # sirolimus, and nab-sirolimus another drug than everolimus
    "on everolimus, nab-sirolimus not tolerated": case_of([line("everolimus")],
                                                          ["nab_sirolimus"]),
    "nab-sirolimus after everolimus, everolimus not tolerated": case_of(
        [line("everolimus", 1, "2024-03-20"), line("nab_sirolimus", 2, "2025-06-02")],
        ["everolimus"]),
}


class TestAnotherMtorInhibitorTolerated:
    """The class is not contraindicated when the record shows another one tolerated."""

    @pytest.mark.parametrize("name", sorted(TOLERATED))
    def test_the_line_keeps_the_mtor_advice_and_no_switch_is_offered(self, name: str
                                                                      ) -> None:
        """As for the same patient with no intolerance: the first-line mTOR advice, the
        line said to be the treatment under way (I19); S14 is not offered, since mTOR
        inhibitors are neither unavailable nor contraindicated for this patient."""
        a = run(TOLERATED[name])
        assert {"REC-MTOR-FIRST-LINE", "ALERT-MTOR-GIVEN"} <= ids(a), name
        assert "REC-ANTHRACYCLINE" not in ids(a), name
        assert "ALERT-MTOR-LINE-WITHOUT-PROGRESSION" not in ids(a), name

    def test_it_matches_the_patient_with_no_intolerance(self) -> None:
        """Same recommendations, alerts and questions as the control case without the
        everolimus intolerance: only the facts naming the drug ruled out differ."""
        with_ = run(TOLERATED["on sirolimus, everolimus not tolerated"])
        without = run(case_of([line("sirolimus")], []))
        assert with_.record_ids() == without.record_ids()

    def test_the_drug_not_tolerated_is_named_as_ruled_out(self) -> None:
        """The mTOR advice names everolimus as ruled out (the intolerance, the tolerated
        line, I15 cited), and ``derived`` says the class is not."""
        a = run(TOLERATED["on sirolimus, everolimus not tolerated"])
        rec = item(a, "REC-MTOR-FIRST-LINE")
        assert "I15" in rec.provenance.interpretations
        assert Fact("systemic.intolerances[0].agent", "everolimus") in rec.triggered_by
        assert Fact("systemic.therapies[0].agent", "sirolimus") in rec.triggered_by
        ruled = next(f for f in a.derived if f.path == "derived.mtor_inhibitors_ruled_out")
        assert ruled.value.startswith("everolimus only")
        assert "I15" in {i.id for i in a.interpretations}

    @pytest.mark.parametrize("intolerant", ["nab_sirolimus", "sirolimus"])
    def test_nab_sirolimus_is_not_proposed_beside_an_intolerance_of_it_or_of_sirolimus(
            self, intolerant: str) -> None:
        """nab-sirolimus not tolerated, or the sirolimus it holds: the supplementary
        nab-sirolimus item is withheld while the tolerated line (of everolimus, another
        drug: sirolimus and nab-sirolimus are one, I15) keeps its advice."""
        a = run(case_of([line("everolimus")], [intolerant]))
        assert "REC-MTOR-FIRST-LINE" in ids(a)
        assert "SUPP-NAB-SIROLIMUS" not in ids(a)

    def test_a_recorded_no_is_accepted(self) -> None:
        """'Not contraindicated' beside the everolimus intolerance is coherent when
        sirolimus is tolerated (it had been refused as contradicting I15): the mTOR advice
        then asks nothing about the contraindication."""
        a = run(case_of([line("sirolimus")], ["everolimus"], contraindicated="no"))
        rec = item(a, "REC-MTOR-FIRST-LINE")
        assert rec.conditional_on == ()
        assert "REC-ANTHRACYCLINE" not in ids(a)

    def test_a_progressed_line_still_shows_tolerance(self) -> None:
        """Progression is no intolerance: the disease progressed on the sirolimus given
        after the everolimus not tolerated; the guideline's silence after progression is
        said (REC-NO-NEXT-LINE), and a recorded no is accepted."""
        data = case_of([line("sirolimus", progressed="yes")], ["everolimus"],
                       contraindicated="no")
        a = run(data)
        assert "REC-NO-NEXT-LINE" in ids(a)
        assert "REC-ANTHRACYCLINE" not in ids(a)


#: Sirolimus and nab-sirolimus (sirolimus bound to albumin) are one drug (I15): a line of
#: one beside an intolerance of the other is a line of the drug not tolerated, not of
#: another mTOR inhibitor tolerated. nab-sirolimus had counted as another drug, so the
#: report offered the mTOR first line while the card, which rules nab-sirolimus out
#: beside a sirolimus intolerance, tagged that same advice "not for this patient".
ONE_DRUG: dict[str, dict[str, Any]] = {
    "on nab-sirolimus, sirolimus not tolerated": case_of([line("nab_sirolimus")],
                                                         ["sirolimus"]),
    "nab-sirolimus after sirolimus, sirolimus not tolerated": case_of(
        [line("sirolimus", 1, "2024-03-20"), line("nab_sirolimus", 2, "2025-06-02")],
        ["sirolimus"]),
    "on sirolimus, nab-sirolimus not tolerated": case_of([line("sirolimus")],
                                                         ["nab_sirolimus"]),
    "sirolimus after nab-sirolimus, nab-sirolimus not tolerated": case_of(
        [line("nab_sirolimus", 1, "2024-03-20"), line("sirolimus", 2, "2025-06-02")],
        ["nab_sirolimus"]),
}

#: Records where no other mTOR inhibitor is shown tolerated: the class stays ruled out.
NOT_SHOWN: dict[str, dict[str, Any]] = {
    **ONE_DRUG,
    "no line given": case_of([], ["sirolimus"]),
    "the drug given is the one not tolerated": case_of([line("sirolimus")], ["sirolimus"]),
    "both the drug given and another not tolerated": case_of(
        [line("sirolimus")], ["everolimus", "sirolimus"]),
    # sirolimus before everolimus, which was not tolerated: the earlier line shows
    # nothing of the class since
    "the other line was given before": case_of(
        [line("sirolimus", 1, "2023-01-10"), line("everolimus", 2, "2024-05-02")],
        ["everolimus"]),
    # which line is the latest cannot be told: the safer reading
    "order not recorded": case_of(
        [line("sirolimus", None, None), line("everolimus", None, None)], ["everolimus"]),
    "two lines on the same day": case_of(
        [line("sirolimus", None, "2024-05-02"), line("everolimus", None, "2024-05-02")],
        ["everolimus"]),
}


class TestTheSaferReading:
    """Every mTOR inhibitor stays ruled out where no other one is shown tolerated."""

    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_the_class_is_ruled_out_and_said_to_be_derived(self, name: str) -> None:
        """S14's option, resting on the contraindication derived from the intolerance:
        it cites I15 and names the intolerance (it had shown a recorded 'yes')."""
        a = run(NOT_SHOWN[name])
        assert "REC-ANTHRACYCLINE" in ids(a), name
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"}.isdisjoint(ids(a)), name
        rec = item(a, "REC-ANTHRACYCLINE")
        assert "I15" in rec.provenance.interpretations, name
        assert any(f.path.startswith("systemic.intolerances[") for f in rec.triggered_by)
        assert any(f.path == "derived.mtor_inhibitor_contraindicated" for f in a.derived)

    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_a_routine_no_beside_the_intolerance_is_refused(self, name: str) -> None:
        """'Not contraindicated' beside an intolerance whose judgement is not recorded on
        it (a routine 'no', entered before the intolerance was known, as most records
        carry it) is no judgement of the intolerance: refused as a contradiction, naming
        both fields and how to record the judgement (it had been read as "of that drug
        alone", re-opening the class with no question)."""
        data = copy.deepcopy(NOT_SHOWN[name])
        data["systemic"]["mtor_inhibitor_contraindicated"] = "no"
        with pytest.raises(InputError) as exc:
            parse_case(data)
        said = str(exc.value)
        assert "systemic.mtor_inhibitor_contraindicated' 'no'" in said, said
        assert ".class_wide' 'no'" in said, said
        assert exc.value.issues[0].path.startswith("systemic.intolerances["), name

    @pytest.mark.parametrize("contraindicated", ["no", "unknown"])
    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_a_recorded_no_is_the_team_s_judgement_of_that_drug_alone(
            self, name: str, contraindicated: str) -> None:
        """Each intolerance recorded as of that drug alone ('class_wide' 'no'): the
        first-line mTOR advice given (S12, S13) and S14 not, nothing asked about the
        class, the drug not tolerated named as ruled out and never proposed:
        nab-sirolimus not beside an intolerance of it or of sirolimus, no line of it said
        to be the treatment under way. A 'no' recorded beside it is coherent."""
        data = copy.deepcopy(NOT_SHOWN[name])
        data["systemic"]["mtor_inhibitor_contraindicated"] = contraindicated
        for x in data["systemic"]["intolerances"]:
            x["class_wide"] = "no"
        a = run(data)
        assert "REC-MTOR-FIRST-LINE" in ids(a), name
        assert {"REC-ANTHRACYCLINE", "REC-REGIMEN-NOT-TOLERATED"}.isdisjoint(ids(a)), name
        assert "MISS-MTOR-INTOLERANCE" not in {m.id for m in a.missing}, name
        rec = item(a, "REC-MTOR-FIRST-LINE")
        assert "I15" in rec.provenance.interpretations, name
        listed = [x["agent"] for x in data["systemic"]["intolerances"]]
        assert all(Fact(f"systemic.intolerances[{i}].agent", agent) in rec.triggered_by
                   and Fact(f"systemic.intolerances[{i}].class_wide", "no") in rec.triggered_by
                   for i, agent in enumerate(listed)), name
        ruled = next(f for f in a.derived if f.path == "derived.mtor_inhibitors_ruled_out")
        assert " only (recorded as not tolerated)" in ruled.value, name
        assert "the team records the intolerance as of that drug alone" in ruled.value
        assert not any(f.path == "derived.mtor_inhibitor_contraindicated"
                       for f in a.derived), name
        out = {"sirolimus", "nab_sirolimus"} if {"sirolimus", "nab_sirolimus"} & set(listed) \
            else set(listed)
        assert ("SUPP-NAB-SIROLIMUS" in ids(a)) == ("nab_sirolimus" not in out), name
        given = [f.value for i in a.alerts if i.id == "ALERT-MTOR-GIVEN"
                 for f in i.triggered_by if f.path.endswith(".agent")]
        assert not set(given) & out, name

    def test_the_reported_case_switches_to_another_mtor_inhibitor(self) -> None:
        """The reported case: uterine PEComa, everolimus stopped for intolerance, the team
        records the intolerance as of that drug alone: an mTOR inhibitor is the first line,
        everolimus named as the one ruled out; the everolimus line is not said to be the
        treatment under way."""
        data = case_of([line("everolimus", 1, "2025-03-20", best_response="not_evaluable")],
                       ["everolimus"], contraindicated="no", class_wide="no")
        data["tumour"]["primary_site"] = "uterus"
        a = run(data)
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"} <= ids(a)
        assert {"REC-ANTHRACYCLINE", "ALERT-MTOR-GIVEN"}.isdisjoint(ids(a))
        ruled = next(f for f in a.derived if f.path == "derived.mtor_inhibitors_ruled_out")
        assert ruled.value.startswith("everolimus only (recorded as not tolerated)")

    def test_the_output_says_which_reading_was_made(self) -> None:
        """The derived fact says why the class is out: the later line is of the drug not
        tolerated; or which line is the latest cannot be told (the safer reading)."""
        before = run(NOT_SHOWN["the other line was given before"])
        fact = next(f for f in before.derived
                    if f.path == "derived.mtor_inhibitor_contraindicated")
        assert "latest mTOR-inhibitor line is of a drug not tolerated" in fact.value
        unsure = run(NOT_SHOWN["order not recorded"])
        fact = next(f for f in unsure.derived
                    if f.path == "derived.mtor_inhibitor_contraindicated")
        assert "the safer reading" in fact.value


class TestWhetherTheIntoleranceIsOfTheClass:
    """Left unrecorded, whether an intolerance of one mTOR inhibitor is of the class or
    of that drug alone is asked (I15): the class stays ruled out meanwhile (the safer
    reading) and the advice resting on it is provisional on the answer. The report had
    offered S14's chemotherapy with no missing fact, a patient taken off the treatment of
    choice for one drug's side effect without the question being put."""

    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_the_question_is_asked_and_s14_waits_on_it(self, name: str) -> None:
        a = run(NOT_SHOWN[name])
        [asked] = [m for m in a.missing if m.id == "MISS-MTOR-INTOLERANCE"]
        assert asked.field == "systemic.intolerances.class_wide"
        assert "REC-ANTHRACYCLINE" in asked.affects, name
        assert "MISS-MTOR-INTOLERANCE" in item(a, "REC-ANTHRACYCLINE").conditional_on
        # meanwhile no mTOR inhibitor is proposed
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"}.isdisjoint(ids(a)), name

    def test_the_question_says_what_it_would_change_and_what_is_done_meanwhile(
            self) -> None:
        a = run(NOT_SHOWN["no line given"])
        [asked] = [m for m in a.missing if m.id == "MISS-MTOR-INTOLERANCE"]
        assert "specific to that drug" in asked.question
        assert "the class" in asked.question
        assert "an mTOR inhibitor other than the one not tolerated is the first-line " \
            "treatment of choice (S12, S13)" in asked.would_change
        assert "S14" in asked.would_change
        assert "Every mTOR inhibitor is ruled out (the safer reading, I15)" in asked.meanwhile
        assert "I15" in asked.provenance.interpretations
        report = markdown_report(a)
        assert "No missing facts" not in report
        assert asked.question in report
        # not asked where the answer changes nothing: the team recorded the class
        # contraindicated, or mTOR inhibitors are unavailable (S14 stands either way), or
        # another mTOR inhibitor is shown tolerated (the class is not out)
        for field, value in (("mtor_inhibitor_contraindicated", "yes"),
                             ("mtor_inhibitor_available", "no")):
            data = case_of([], ["sirolimus"])
            data["systemic"][field] = value
            other = run(data)
            assert "REC-ANTHRACYCLINE" in ids(other), field
            assert "MISS-MTOR-INTOLERANCE" not in {m.id for m in other.missing}, field
        tolerated = run(TOLERATED["on sirolimus, everolimus not tolerated"])
        assert "MISS-MTOR-INTOLERANCE" not in {m.id for m in tolerated.missing}

    def test_the_regimen_withheld_and_the_silence_after_it_wait_on_it_too(self) -> None:
        """Doxorubicin not tolerated too (S14 withheld), or progressed on already (the
        guideline's silence): each rests on the class being out, so each is provisional."""
        withheld = run(case_of([], ["sirolimus", "doxorubicin"]))
        assert "MISS-MTOR-INTOLERANCE" in item(withheld, "REC-REGIMEN-NOT-TOLERATED"
                                               ).conditional_on
        after = run(case_of([line("doxorubicin", progressed="yes")], ["sirolimus"]))
        assert "MISS-MTOR-INTOLERANCE" in item(after, "REC-NO-LINE-AFTER-ANTHRACYCLINE"
                                               ).conditional_on


class TestDerivedContraindicationProvenance:
    """A contraindication derived from an intolerance is shown as derived (I15)."""

    #: Unresectable retroperitoneal PEComa, sirolimus not tolerated, no line given.
    UNRESECTABLE: ClassVar[dict[str, Any]] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2026-06-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "retroperitoneum", "size": {"value": 14, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "stage": {"status": "locally_advanced_unresectable", "lymph_nodes": "negative",
                  "resectable": "no"},
        "surgery": {"status": "not_performed"},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "intolerances": [{"agent": "sirolimus"}]},
    }

    def test_the_anthracycline_item_cites_i15_and_names_the_intolerance(self) -> None:
        """It had said "systemic.mtor_inhibitor_contraindicated = yes" as if entered, with
        no word of the intolerance or of I15."""
        a = run(self.UNRESECTABLE)
        rec = item(a, "REC-ANTHRACYCLINE")
        assert "I15" in rec.provenance.interpretations
        assert "I15" in rec.provenance.label
        assert Fact("systemic.intolerances[0].agent", "sirolimus") in rec.triggered_by
        assert Fact("systemic.mtor_inhibitor_contraindicated", "yes") not in rec.triggered_by
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.mtor_inhibitor_contraindicated"].startswith(
            "yes: sirolimus recorded as not tolerated")
        assert "I15" in {i.id for i in a.interpretations}
        report = markdown_report(a)
        assert "systemic.intolerances[0].agent = sirolimus" in report
        # entered by the team, it is the team's fact: shown as recorded, no I15
        data = copy.deepcopy(self.UNRESECTABLE)
        data["systemic"]["mtor_inhibitor_contraindicated"] = "yes"
        recorded = run(data)
        rec = item(recorded, "REC-ANTHRACYCLINE")
        assert Fact("systemic.mtor_inhibitor_contraindicated", "yes") in rec.triggered_by
        assert "I15" not in rec.provenance.interpretations
        assert not any(f.path == "derived.mtor_inhibitor_contraindicated"
                       for f in recorded.derived)

    def test_the_case_keeps_what_the_team_entered(self) -> None:
        """The field stays as entered (unknown); the contraindication the advice follows
        is derived beside it."""
        sysm = parse_case(self.UNRESECTABLE).systemic
        assert sysm.mtor_inhibitor_contraindicated.value == "unknown"
        assert sysm.mtor_contraindication.value == "yes"
        assert sysm.mtor_contraindication_derived

    def test_each_item_resting_on_it_cites_i15(self) -> None:
        """The guideline's silence after progression on doxorubicin, where mTOR
        inhibitors are out by the intolerance, rests on it too."""
        data = copy.deepcopy(self.UNRESECTABLE)
        data["systemic"]["therapies"] = [{"agent": "doxorubicin", "started_on": "2026-07-01",
                                          "progressed": "yes"}]
        rec = item(run(data), "REC-NO-LINE-AFTER-ANTHRACYCLINE")
        assert "I15" in rec.provenance.interpretations
        assert Fact("systemic.intolerances[0].agent", "sirolimus") in rec.triggered_by


class TestOneRuleForCaseAndFhir:
    """The same facts give the same advice from a case file and from a FHIR record."""

    @pytest.mark.parametrize("name", sorted({**TOLERATED, **NOT_SHOWN}))
    def test_a_record_written_and_read_back_gives_the_case_s_advice(self, name: str
                                                                     ) -> None:
        data = {**TOLERATED, **NOT_SHOWN}[name]
        case = parse_case(data)
        read = case_from_bundle(bundle_from_case(case)).case
        from_fhir, from_case = assess(read, ON), assess(case, ON)
        assert from_fhir.record_ids() == from_case.record_ids(), name
        # the same facts behind each item: the intolerance read is a row of the case
        # (it had been read as a recorded contraindication, the drug not kept)
        assert [(i.id, i.triggered_by, i.provenance) for i in from_fhir.recommendations] \
            == [(i.id, i.triggered_by, i.provenance) for i in from_case.recommendations]
        # and the mTOR inhibitors' place rests on I15, read from either
        assert all("I15" in i.provenance.interpretations for i in from_fhir.recommendations
                   if i.id in ("REC-ANTHRACYCLINE", "REC-MTOR-FIRST-LINE")), name

    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_an_observed_no_beside_an_allergy_is_not_taken_as_the_team_s_judgement(
            self, name: str) -> None:
        """In a FHIR record the mTOR contraindication observed 'no' beside an allergy
        that does not record the intolerance as of that drug alone (no extension
        intolerance-class-wide) is not the team's judgement of it: set aside, as a case
        file refuses it; the safer reading is kept, every mTOR inhibitor out, and the
        report asks whether the intolerance is of the class."""
        data = copy.deepcopy(NOT_SHOWN[name])
        data["systemic"]["mtor_inhibitor_contraindicated"] = "no"
        for x in data["systemic"]["intolerances"]:
            x["class_wide"] = "no"
        bundle = bundle_from_case(parse_case(data))
        for e in bundle["entry"]:
            if e["resource"]["resourceType"] == "AllergyIntolerance":
                e["resource"].pop("extension")
        bc = case_from_bundle(bundle)
        assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "unknown", bc.notes
        assert any("the report asks it" in n for n in bc.notes), bc.notes
        # found and set aside, derived from the intolerance: never listed as not found
        # (the card's "Not found in the record" had named it)
        assert "systemic.mtor_inhibitor_contraindicated" not in bc.not_found
        a = assess(bc.case, ON)
        assert "REC-MTOR-FIRST-LINE" not in ids(a), name
        assert "MISS-MTOR-INTOLERANCE" in item(a, "REC-ANTHRACYCLINE").conditional_on

    @pytest.mark.parametrize("class_wide", ["yes", "no"])
    @pytest.mark.parametrize("contraindicated", ["unknown", "no"])
    @pytest.mark.parametrize("name", sorted(NOT_SHOWN))
    def test_the_judgement_on_the_intolerance_goes_through_a_fhir_record(
            self, name: str, contraindicated: str, class_wide: str) -> None:
        """The team's judgement recorded on the intolerance is written to the
        AllergyIntolerance (extension intolerance-class-wide) and read back: the case
        read is the case written, with the same advice (the FHIR record had lost the
        answer to MISS-MTOR-INTOLERANCE, and kept asking it, S14 in place of S12).
        Of that drug alone: the mTOR first line; of the class: S14, nothing asked."""
        if class_wide == "yes" and contraindicated == "no":
            return  # refused: the two judgements contradict each other
        data = case_of([], [], contraindicated=contraindicated)
        data["systemic"] = {**copy.deepcopy(NOT_SHOWN[name]["systemic"]),
                            "mtor_inhibitor_contraindicated": contraindicated}
        for x in data["systemic"]["intolerances"]:
            x["class_wide"] = class_wide
        case = parse_case(data)
        bundle = bundle_from_case(case)
        written = [e["resource"].get("extension") for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "AllergyIntolerance"]
        assert all(ext == [{"url": "https://pecoma.example/fhir/StructureDefinition/"
                                   "intolerance-class-wide", "valueCode": class_wide}]
                   for ext in written), written
        bc = case_from_bundle(bundle)
        assert bc.case.systemic == case.systemic, bc.notes
        from_fhir, from_case = assess(bc.case, ON), assess(case, ON)
        assert from_fhir.record_ids() == from_case.record_ids(), name
        expected = "REC-MTOR-FIRST-LINE" if class_wide == "no" else "REC-ANTHRACYCLINE"
        assert expected in ids(from_fhir), name
        assert "MISS-MTOR-INTOLERANCE" not in {m.id for m in from_fhir.missing}, name

    def test_an_unidentified_allergy_beside_it_still_drops_the_no(self) -> None:
        """An allergy whose substance cannot be read may be to another mTOR inhibitor: a
        recorded 'no' is not kept beside it, whatever else the list names (it had been
        kept beside an mTOR intolerance with another one shown tolerated)."""
        data = case_of([line("sirolimus")], ["everolimus"], contraindicated="no")
        bundle = bundle_from_case(parse_case(data))
        bundle["entry"].append({"resource": {
            "resourceType": "AllergyIntolerance", "id": "unknown-drug",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "category": ["medication"], "code": {"text": "XY-123"},
            "patient": {"reference": next(
                f"Patient/{e['resource']['id']}" for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient")}}})
        bc = case_from_bundle(bundle)
        assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"
        assert "MISS-MTOR-CONTRAINDICATED" in {m.id for m in assess(bc.case, ON).missing}

    def test_the_reported_record_keeps_the_mtor_advice(self) -> None:
        """From FHIR as from the case file: sirolimus given, everolimus not tolerated."""
        case = parse_case(TOLERATED["on sirolimus, everolimus not tolerated"])
        bc = case_from_bundle(bundle_from_case(case))
        a = assess(bc.case, ON)
        assert {"REC-MTOR-FIRST-LINE", "ALERT-MTOR-GIVEN"} <= ids(a)
        assert "REC-ANTHRACYCLINE" not in ids(a)
        assert any("rules out everolimus only" in n for n in bc.notes)

    def test_the_allergy_check_follows_the_same_rule(self) -> None:
        """The CDS allergy check: with sirolimus given after an everolimus allergy, only
        everolimus is ruled out; without that line, every mTOR inhibitor; a sirolimus
        allergy rules out nab-sirolimus, which holds it."""
        allergy = {"resourceType": "AllergyIntolerance", "id": "a1",
                   "clinicalStatus": {"coding": [{"code": "active"}]},
                   "category": ["medication"], "code": {"text": "everolimus"}}
        given = (TherapyLine(agent=Agent.sirolimus, line=1),)
        safety = drug_safety([allergy], None, therapies=given)
        assert safety.ruled_out(Agent.sirolimus) is None
        assert safety.ruled_out(Agent.everolimus) is not None
        alone = drug_safety([allergy], None)
        assert alone.ruled_out(Agent.sirolimus) is not None
        siro = {**allergy, "code": {"text": "sirolimus"}}
        other = drug_safety([siro], None, therapies=(TherapyLine(agent=Agent.everolimus),))
        assert other.ruled_out(Agent.everolimus) is None
        assert other.ruled_out(Agent.nab_sirolimus) is not None


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("mtor")
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'cds.sqlite3'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")


class TestPatientView:
    def test_the_card_heads_with_the_mtor_line_and_names_the_drug_ruled_out(
            self, client: TestClient) -> None:
        """The patient-view card of the reported record: the mTOR advice heads it, not
        doxorubicin, not tagged as ruled out; everolimus is named as the drug out."""
        bundle = bundle_from_case(parse_case(TOLERATED["on sirolimus, everolimus not "
                                                       "tolerated"]))
        body = hook_request("patient-view", "pecoma-patient",
                            prefetch=prefetch_of(bundle, include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        head = r.json()["cards"][0]
        assert "An mTOR inhibitor is the first-line systemic treatment" in head["summary"]
        assert "not for this patient" not in head["summary"]
        assert "Anthracycline" not in head["summary"]
        assert "**Ruled out by the allergy list:** everolimus only; sirolimus" \
            in head["detail"]


class TestSirolimusAndNabSirolimusAreOneDrug:
    """nab-sirolimus is sirolimus bound to albumin: one drug for what an intolerance rules
    out (I15), in the engine, the case checks, the FHIR reader, the CDS cards and the
    SMART form alike."""

    @pytest.mark.parametrize("name", sorted(ONE_DRUG))
    def test_the_report_says_they_are_one_drug(self, name: str) -> None:
        """The derived contraindication says why the line given shows nothing: the drug
        given and the one not tolerated are one drug (the reading made, said)."""
        a = run(ONE_DRUG[name])
        fact = next(f for f in a.derived if f.path == "derived.mtor_inhibitor_contraindicated")
        assert "are one drug" in fact.value, name
        assert not any(f.path == "derived.mtor_inhibitors_ruled_out" for f in a.derived)

    def test_the_twin_of_the_drug_not_tolerated_is_named_as_ruled_out(self) -> None:
        """Everolimus tolerated beside a nab-sirolimus intolerance: the class stays the
        advice; nab-sirolimus is out, and sirolimus with it (one drug), in the report and
        in the allergy check."""
        a = run(TOLERATED["on everolimus, nab-sirolimus not tolerated"])
        ruled = next(f for f in a.derived if f.path == "derived.mtor_inhibitors_ruled_out")
        assert ruled.value.startswith("nab-sirolimus only (recorded as not tolerated) and "
                                      "sirolimus, the same drug")
        allergy = {"resourceType": "AllergyIntolerance", "id": "a1",
                   "clinicalStatus": {"coding": [{"code": "active"}]},
                   "category": ["medication"], "code": {"text": "nab-sirolimus"}}
        safety = drug_safety([allergy], None,
                             therapies=(TherapyLine(agent=Agent.everolimus, line=1),))
        assert safety.mtor_tolerated is Agent.everolimus
        assert safety.ruled_out(Agent.everolimus) is None
        assert safety.ruled_out(Agent.nab_sirolimus) is not None
        assert safety.ruled_out(Agent.sirolimus) is not None  # had been allowed
        # a line of sirolimus beside it shows no other one tolerated: every one is out
        again = drug_safety([allergy], None,
                            therapies=(TherapyLine(agent=Agent.sirolimus, line=1),))
        assert again.mtor_tolerated is None
        assert again.ruled_out(Agent.everolimus) is not None

    @pytest.mark.parametrize("name", sorted(ONE_DRUG))
    def test_the_fhir_reader_says_the_line_is_of_the_same_drug(self, name: str) -> None:
        """The reader's note asks the team to check the intolerance against the line of
        its twin (it had said only the drug named was ruled out); an observed 'no' is not
        kept."""
        case = parse_case(ONE_DRUG[name])
        bc = case_from_bundle(bundle_from_case(case))
        assert any(" given although " in n and "being the same drug as" in n
                   for n in bc.notes), bc.notes
        assert not any("only" in n for n in bc.notes if "intolerance (" in n)
        assert bc.case.systemic.mtor_contraindication.value == "yes"

    @pytest.mark.parametrize("name", sorted(ONE_DRUG))
    def test_the_smart_form_gives_the_report_s_advice(self, name: str) -> None:
        """The SMART form's case (the record read, what the allergy list cannot vouch for
        made unknown) gives the case file's advice: every mTOR inhibitor out, S14."""
        case = parse_case(ONE_DRUG[name])
        bundle = bundle_from_case(case)
        form, _paths, _notes = unread_stays_unknown(case_from_bundle(bundle).case,
                                                    Record(bundle, ()))
        a = assess(form, ON)
        assert a.record_ids() == run(ONE_DRUG[name]).record_ids(), name
        assert "REC-ANTHRACYCLINE" in ids(a) and "REC-MTOR-FIRST-LINE" not in ids(a)


#: The card and the report side by side: the record, the recommendation that heads both,
#: and what the card's detail says of the mTOR inhibitors ruled out ('' for nothing).
SIDE_BY_SIDE: dict[str, tuple[dict[str, Any], str, str]] = {
    **{name: (data, "REC-ANTHRACYCLINE", "") for name, data in ONE_DRUG.items()},
    "nab-sirolimus after everolimus, everolimus not tolerated": (
        TOLERATED["nab-sirolimus after everolimus, everolimus not tolerated"],
        "REC-MTOR-FIRST-LINE", "**Ruled out by the allergy list:** everolimus only; "),
    "on everolimus, nab-sirolimus not tolerated": (
        TOLERATED["on everolimus, nab-sirolimus not tolerated"], "REC-MTOR-FIRST-LINE",
        "**Ruled out by the allergy list:** nab-sirolimus only (and sirolimus, the same "
        "drug); everolimus"),
}

#: How the summary card names each recommendation that can head it here.
_HEADS = {"REC-ANTHRACYCLINE": "Anthracycline-based chemotherapy can be considered",
          "REC-MTOR-FIRST-LINE": "An mTOR inhibitor is the first-line systemic treatment"}


class TestTheCardAndTheReportAgree:
    @pytest.mark.parametrize("name", sorted(SIDE_BY_SIDE))
    def test_the_card_heads_with_the_report_s_advice_never_tagged_ruled_out(
            self, client: TestClient, name: str) -> None:
        """The report (the engine on the record read) and the patient-view card give the
        same advice: the card heads with the report's systemic advice and never tags
        advice the report gives as "not for this patient" (it had, for a sirolimus
        intolerance with a nab-sirolimus line: the report offered the mTOR first line, the
        card called it ruled out by the sirolimus nab-sirolimus holds)."""
        data, head_id, named = SIDE_BY_SIDE[name]
        bundle = bundle_from_case(parse_case(data))
        report = assess(case_from_bundle(bundle).case, ON)
        assert head_id in ids(report), name
        other = ({"REC-ANTHRACYCLINE", "REC-MTOR-FIRST-LINE"} - {head_id}).pop()
        assert other not in ids(report), name
        body = hook_request("patient-view", "pecoma-patient",
                            prefetch=prefetch_of(bundle, include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        # the summary card, and beside it one critical card exactly when the latest line
        # (written 'unknown', no end: possibly given now) is of the drug the allergy list
        # rules out: the cases where the report's advice is S14's (sirolimus and
        # nab-sirolimus are one drug); an earlier line another followed is over (written
        # 'completed') and gets none
        cards = r.json()["cards"]
        summaries = [c for c in cards if c["summary"].startswith("PEComa (")]
        assert len(summaries) == 1, (name, [c["summary"] for c in cards])
        head = summaries[0]
        # the report's warning that the latest line is of the drug recorded as not
        # tolerated (which is current is for the team to check, I15) has its own card
        # exactly when the report gives it
        asked = [c for c in cards if c["summary"].startswith("The latest line recorded is")]
        assert len(asked) == (1 if "ALERT-LINE-NOT-TOLERATED" in ids(report) else 0), name
        others = [c for c in cards if c is not head and c not in asked]
        assert len(others) == (1 if head_id == "REC-ANTHRACYCLINE" else 0), (
            name, [c["summary"] for c in others])
        assert all(c["indicator"] == "critical" and "possibly given now" in c["summary"]
                   for c in others), name
        assert _HEADS[head_id] in head["summary"], (name, head["summary"])
        assert _HEADS[other] not in head["summary"], name
        assert "not for this patient" not in head["summary"].lower(), name
        assert "Not for this patient as recorded" not in head["detail"], name
        if named:
            assert named in head["detail"], name
        else:
            assert "Ruled out by the allergy list" not in head["detail"], name


class TestTheRuleAsItIsSaid:
    """Every text says I15 as it now is; a contraindication the team recorded stands."""

    def test_a_recorded_yes_stands_with_no_derived_fact_saying_otherwise(self) -> None:
        """Contraindication recorded 'yes' by the team beside an everolimus intolerance
        and a later sirolimus line: the team's 'yes' stands (S14's option) and the report
        no longer shows, beside it, the derived fact "not every mTOR inhibitor" that read
        as contradicting it."""
        data = case_of([line("everolimus", 1, "2024-03-20"),
                        line("sirolimus", 2, "2025-06-02")], ["everolimus"],
                       contraindicated="yes")
        a = run(data)
        assert "REC-ANTHRACYCLINE" in ids(a) and "REC-MTOR-FIRST-LINE" not in ids(a)
        rec = item(a, "REC-ANTHRACYCLINE")
        assert Fact("systemic.mtor_inhibitor_contraindicated", "yes") in rec.triggered_by
        assert not any(f.path.startswith("derived.mtor") for f in a.derived)
        assert "not every mTOR inhibitor" not in markdown_report(a)
        # left unknown, the same record shows the derived fact and keeps the mTOR advice
        data["systemic"]["mtor_inhibitor_contraindicated"] = "unknown"
        assert any(f.path == "derived.mtor_inhibitors_ruled_out" for f in run(data).derived)

    def test_the_allergy_alert_says_the_rule_as_it_is(self) -> None:
        """ALERT-DRUG-INTOLERANCE had said an intolerance of any mTOR inhibitor rules an
        mTOR inhibitor ordered out, and that pecoma never proposes one: it does, beside
        an intolerance of another with a third shown tolerated."""
        text = load_knowledge().records["ALERT-DRUG-INTOLERANCE"].text
        assert "unless the team records that intolerance as of that drug alone or the " \
            "record shows another one tolerated" in text
        assert "sirolimus and nab-sirolimus count as one drug" in text
        i15 = load_knowledge().interpretations["I15"].text
        assert "count as two drugs" not in i15
        assert "Sirolimus and nab-sirolimus (sirolimus bound to albumin) count as one drug" \
            in i15
