"""A drug class named only in an allergy entry's note, a medication search answered by
words about allergies, and "stopped taking ... because of progression".

The record (``allergy_support``): metastatic kidney PEComa, no systemic line given, mTOR
inhibitors recorded available and **not contraindicated**. With nothing on the allergy
list the mTOR-inhibitor first line holds (S12, S13) and a sirolimus draft gets no
critical card.

1. An entry to penicillin whose note says "Patient currently on antineoplastic therapy",
   or whose reaction description says "Reaction during alkylating agent infusion", ruled
   out every drug of the class named there: "mTOR inhibitor contraindicated: yes", every
   anticancer drug an intolerance, a sirolimus draft a critical card. Those words are not
   the allergen: the entry's own substance is penicillin. A class named only in the words
   of an entry whose substance is identified as something else now rules nothing out; the
   entry is one pecoma cannot settle (an intolerance of 'other', I15: asked), its words
   quoted, and a draft of a drug of that class "could not be checked". An entry whose
   substance is the class ("Antineoplastic agents") still rules every one out, and an
   entry recording no known allergy "except alkylating agents" rules the class out too.
2. A medication search answered only by "No known allergies" was a medication list read
   and empty. Words about allergies say nothing of medications: each search now has its
   own words that say its list is empty.
3. "Patient stopped taking everolimus because of disease progression" was read as
   non-adherence ("stopped taking"), so the progression on the drug was asked. It says
   the disease progressed and the patient stopped: progression on the drug, as "stopped
   because of progression" is.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, YesNo
from pecoma.fhir.allergies import read_allergy
from pecoma.fhir.medications import Progression, progression_said
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.searches import incomplete

from allergy_support import (
    DOXORUBICIN,
    ON,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    make_client,
    order_select,
    record,
)

#: RxNorm 7980 penicillin G: a substance that is no anticancer drug.
PENICILLIN = {"coding": [{"system": RXNORM, "code": "7980", "display": "Penicillin G"}],
              "text": "Penicillin"}
ON_THERAPY = "Patient currently on antineoplastic therapy"
DURING_INFUSION = "Reaction during alkylating agent infusion"
#: Penicillin entries whose words name a class of anticancer drugs that is not the
#: allergen (a note, a reaction's description).
NOTE_CLASS = allergy(code=PENICILLIN, note=[{"text": ON_THERAPY}])
REACTION_CLASS = allergy(code=PENICILLIN, reaction=[{
    "description": DURING_INFUSION, "manifestation": [{"text": "Urticaria"}]}])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("note-class"))


class TestClassNamedOnlyInWords:
    @pytest.mark.parametrize(("entry", "words"), [(NOTE_CLASS, ON_THERAPY),
                                                  (REACTION_CLASS, DURING_INFUSION)])
    def test_the_class_in_words_rules_nothing_out_and_is_asked(
            self, entry: dict[str, Any], words: str) -> None:
        """Penicillin is the allergen: no anticancer drug ruled out, no mTOR class; the
        entry is not settled either (the words may mean the class), its words quoted."""
        reading = read_allergy(entry)
        assert reading.agents == frozenset() and reading.ingredients == frozenset()
        assert not reading.rules_out_mtor and reading.classes == ()
        assert reading.unidentified
        assert any(words in x for x in reading.not_identified)

    def test_to_case_keeps_no_contraindication_and_asks(self) -> None:
        """Before: mTOR inhibitor contraindicated 'yes' and ten intolerances. Now: no
        contraindication read from the note; the entry is an intolerance of 'other'
        (I15 asks which drug) and the recorded 'no' is not kept (unknown, asked); the
        note quotes the entry's words."""
        read = case_from_bundle(record(NOTE_CLASS), on=ON)
        systemic = read.case.systemic
        assert systemic.mtor_inhibitor_contraindicated is YesNo.unknown
        assert [i.agent for i in systemic.intolerances] == [Agent.other]
        assert any(ON_THERAPY in n for n in read.notes)

    def test_a_sirolimus_draft_could_not_be_checked(self, client: TestClient) -> None:
        """No critical card naming the class; the draft could not be checked (asked)."""
        cards = order_select(client, record(NOTE_CLASS), SIROLIMUS)
        assert not critical(cards)
        assert [c for c in cards if "could not be checked" in c["summary"]]

    @pytest.mark.parametrize("code", [{"text": "Antineoplastic agents"},
                                      {"text": "ANTINEOPLASTIC AGENTS"}])
    def test_an_entry_to_the_class_still_rules_every_one_out(
            self, code: dict[str, Any]) -> None:
        """The class is the entry's substance: every mTOR inhibitor and doxorubicin out."""
        reading = read_allergy(allergy(code=code, note=[{"text": ON_THERAPY}]))
        assert reading.rules_out_mtor and Agent.doxorubicin in reading.agents
        assert not reading.unidentified

    def test_a_drug_allergy_not_identified_keeps_the_class_of_its_words(self) -> None:
        """"Allergy to drug" names no substance: the class its note names may be it, and
        is ruled out (the safer reading), the entry not identified as before."""
        reading = read_allergy(allergy(code={"text": "Allergy to drug"},
                                       note=[{"text": DURING_INFUSION}]))
        assert Agent.ifosfamide in reading.agents and reading.unidentified

    def test_no_known_allergy_except_the_class_rules_it_out(self) -> None:
        """The exception is the allergen: the alkylating agents are ruled out."""
        reading = read_allergy(allergy(code={"coding": [
            {"system": "http://snomed.info/sct", "code": "716186003",
             "display": "No known allergy"}]}, note=[{"text": "except alkylating agents"}]))
        assert reading.left_aside is None and Agent.ifosfamide in reading.agents

    def test_a_doxorubicin_entry_with_a_class_in_its_note(self) -> None:
        """Doxorubicin is the allergen: it is ruled out; the antineoplastic class its note
        names is not (sirolimus stays), and is asked."""
        reading = read_allergy(allergy(code=DOXORUBICIN, note=[{"text": ON_THERAPY}]))
        assert Agent.doxorubicin in reading.agents
        assert not reading.rules_out_mtor and reading.unidentified


def outcome_only(text: str) -> dict[str, Any]:
    """A searchset holding only an outcome entry whose issue says ``text``."""
    return {"resourceType": "Bundle", "type": "searchset", "total": 0,
            "entry": [{"search": {"mode": "outcome"}, "resource": {
                "resourceType": "OperationOutcome", "issue": [
                    {"severity": "information", "code": "informational",
                     "details": {"text": text}}]}}]}


MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration",
                    "MedicationDispense")


class TestEachSearchItsOwnWords:
    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", ["No known allergies", "NKDA", "No allergies found",
                                       "All allergies were returned"])
    def test_allergy_words_leave_a_medication_list_not_whole(self, kind: str,
                                                             words: str) -> None:
        """Words about allergies say nothing of medications: the lines given unknown."""
        why = incomplete(outcome_only(words), (kind,))
        assert why is not None and words in why

    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", ["No medications on file", "No medications found",
                                       "No medications", "Patient has no medications",
                                       "No results found"])
    def test_words_saying_the_medication_list_is_empty(self, kind: str, words: str) -> None:
        """Words saying the whole medication list is empty leave it whole (read, empty)."""
        assert incomplete(outcome_only(words), (kind,)) is None

    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", ["No active medications", "No current medications",
                                       "Medications: Not on File"])
    def test_words_about_part_of_the_list_are_not_whole(self, kind: str,
                                                        words: str) -> None:
        """"No active medications" says nothing of the lines stopped or completed, which
        are what the history rests on; "Not on File" is a list never documented."""
        assert incomplete(outcome_only(words), (kind,)) is not None

    @pytest.mark.parametrize("words", ["No medications on file", "No active medications"])
    def test_medication_words_leave_an_allergy_list_not_whole(self, words: str) -> None:
        assert incomplete(outcome_only(words), ("AllergyIntolerance",)) is not None

    @pytest.mark.parametrize("words", ["No known allergies", "NKDA", "No results found"])
    def test_allergy_words_still_leave_the_allergy_list_whole(self, words: str) -> None:
        assert incomplete(outcome_only(words), ("AllergyIntolerance",)) is None

    def test_order_select_takes_the_history_as_unknown(self, client: TestClient) -> None:
        """The medication orders answered "No known allergies": the first-line warning is
        conditional (whether a line was given is unknown), no mTOR inhibitor proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medication_requests"] = outcome_only("No known allergies")

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert [c for c in cards if "perhaps first line" in c["summary"]]
        assert not any("suggestions" in c for c in cards)


def stopped(text: str, status: str = "stopped") -> dict[str, Any]:
    return {"resourceType": "MedicationStatement", "status": status,
            "statusReason": [{"text": text}]}


class TestStoppedTakingBecauseOfProgression:
    @pytest.mark.parametrize("text", [
        "Patient stopped taking everolimus because of disease progression",
        "Stopped taking due to progression",
        "Patient stopped taking it due to progressive disease",
        "Stopped taking sirolimus because of tumour progression on CT",
    ])
    def test_read_as_progression_on_the_drug(self, text: str) -> None:
        """The disease progressed and the patient stopped: progression on the drug."""
        assert progression_said(stopped(text)) is Progression.clear

    @pytest.mark.parametrize("text", [
        "Patient stopped taking everolimus; disease progression later",
        "Stopped taking everolimus. Disease progression on CT",
        "Disease progression after missed doses",
        "Stopped taking because of progression; non-adherent",
        "Stopped taking everolimus because of side effects; progression",
    ])
    def test_not_taken_stays_asked(self, text: str) -> None:
        """Stopped taking with no reason given (then a progression), missed doses,
        non-adherence: the progression is not shown on the drug (asked)."""
        assert progression_said(stopped(text)) is Progression.unclear

    def test_the_line_reads_progressed(self) -> None:
        bundle = record({"resourceType": "MedicationStatement", "id": "ev1",
                         "status": "stopped", "subject": {"reference": "Patient/pat-1003"},
                         "medicationCodeableConcept": {"coding": [
                             {"system": RXNORM, "code": "141704"}]},
                         "effectivePeriod": {"start": "2026-03-02", "end": "2026-09-01"},
                         "statusReason": [{"text": "Patient stopped taking everolimus "
                                                   "because of disease progression"}]})
        read = case_from_bundle(copy.deepcopy(bundle), on=ON)
        [line] = read.case.systemic.therapies
        assert line.progressed is YesNo.yes
