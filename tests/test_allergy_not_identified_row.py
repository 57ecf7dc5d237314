"""A drug allergy entry whose substance pecoma cannot identify is an intolerance of 'other'.

The case format records a drug not tolerated that it names no agent for as an
intolerance of ``other``; the engine then names it and asks which drug it is
(``MISS-INTOLERANCE-AGENT``): it may be an mTOR inhibitor or an anthracycline (a brand
name, a code pecoma does not know), so the advice proposing either (S12, S14, S15) is
provisional on the answer (I15). The FHIR reader (``pecoma fhir to-case``, the case the
CDS services assess) only left the mTOR-inhibitor contraindication unknown beside such an
entry: with mTOR inhibitors unavailable, S14's doxorubicin came out unconditional beside
an allergy nobody could read, while the same facts entered by hand got the question.

The rule (docs/fhir.md): each drug allergy entry the reader cannot identify (the entries
:attr:`pecoma.fhir.allergies.AllergyList.unidentified` lists, the ones that already keep
the contraindication unknown) gives one row ``{"agent": "other"}``, with a note naming
the entry; entries left aside (inactive, refuted, entered in error) and entries
identified (penicillin, a food named) give none. Same facts, same advice, whichever way in.

The record is the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa,
no systemic line, mTOR inhibitors recorded available and not contraindicated).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.writer import bundle_from_case

from allergy_support import (
    DOXORUBICIN,
    ON,
    PATIENT,
    RXNORM,
    SNOMED,
    allergy,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)

ASKED = "MISS-INTOLERANCE-AGENT"
OTHER = {"agent": "other"}
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("not-identified"))


def mtor_unavailable(bundle: dict[str, Any]) -> dict[str, Any]:
    """The record with its Observation 'mTOR inhibitor available' saying no."""
    for e in bundle["entry"]:
        if e["resource"].get("id") == "mtor-available":
            e["resource"]["valueBoolean"] = False
    return bundle


def no_category(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with no category."""
    del entry["category"]
    return entry


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(copy.deepcopy(bundle), on=ON)


def item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.recommendations if i.id == record_id)


#: Drug allergy entries the reader cannot identify (each already kept the
#: contraindication unknown): any of them may be an mTOR inhibitor or an anthracycline.
NOT_IDENTIFIED = [
    pytest.param(allergy(code={"coding": [{"system": SNOMED, "code": "416098002",
                                           "display": "Allergy to drug"}]}),
                 id="allergy-to-drug-no-substance"),
    # a brand pecoma does not list (it may be Caelyx's generic, or Fyarro's)
    pytest.param(allergy(code={"text": "Zortrexib"}), id="a-drug-pecoma-does-not-list"),
    pytest.param(allergy(code={"coding": [{"system": RXNORM, "code": "845509"}]}),
                 id="rxnorm-code-pecoma-does-not-know"),
    # an RxNorm code is a drug's whatever the category (a mistyped category)
    pytest.param(allergy(code={"coding": [{"system": RXNORM, "code": "845509"}]},
                         category=["food"]), id="rxnorm-code-under-food"),
    pytest.param(allergy(code={"text": "Penicillin; XY-123"}), id="penicillin-and-unknown"),
    # the adverse effect of antineoplastic and immunosuppressive drugs on the problem list
    pytest.param({"resourceType": "Condition", "id": "a1",
                  "subject": {"reference": f"Patient/{PATIENT}"},
                  "code": {"coding": [{"system": ICD10CM, "code": "T45.1X5A"}]}},
                 id="problem-list-t45-1x5-no-drug"),
]


class TestTheReaderAddsARowOfOther:
    @pytest.mark.parametrize("entry", NOT_IDENTIFIED)
    def test_one_row_of_other_naming_the_entry(self, tmp_path: Path,
                                               entry: dict[str, Any]) -> None:
        """The entry may be to an mTOR inhibitor or an anthracycline: the case gets the
        row the case format has for a drug it names no agent for, and a note names the
        entry and the row; the contraindication stays unknown, as before (a recorded
        'no' is not kept beside an allergy nobody could read)."""
        found = to_case(tmp_path, record(entry))
        systemic = found["case"]["systemic"]
        assert systemic["intolerances"] == [OTHER]
        assert "mtor_inhibitor_contraindicated" not in systemic
        where = f"{entry['resourceType']}/a1"
        assert any(n.startswith(f"{where}: ") and "systemic.intolerances[0]" in n
                   and "'other'" in n for n in found["notes"]), found["notes"]
        assert found["sources"]["systemic.intolerances"] == where

    def test_one_row_per_entry(self) -> None:
        """Two entries nobody could read are two drugs not identified: two rows, each
        note naming its own entry and row."""
        bc = read(record(allergy("a1", code={"text": "Zortrexib"}),
                         allergy("a2", code={"text": "Drug allergy"})))
        assert [x.agent.value for x in bc.case.systemic.intolerances] == ["other", "other"]
        assert any(n.startswith("AllergyIntolerance/a1: ") and "systemic.intolerances[0]" in n
                   for n in bc.notes)
        assert any(n.startswith("AllergyIntolerance/a2: ") and "systemic.intolerances[1]" in n
                   for n in bc.notes)

    def test_a_drug_named_beside_a_word_not_identified_gives_both_rows(self) -> None:
        """"Doxorubicin; XY-123": doxorubicin is ruled out (its row, as before), and
        XY-123 may be another drug the advice proposes (sirolimus): a row of 'other'
        after it."""
        bc = read(record(allergy(code={"text": "Doxorubicin; XY-123"})))
        assert [x.agent.value for x in bc.case.systemic.intolerances] == [
            "doxorubicin", "other"]
        assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"

    @pytest.mark.parametrize("entry", [
        # identified: no anticancer drug, none held
        pytest.param(allergy(code={"text": "Penicillin"}), id="penicillin"),
        # a food named, no category, and a food under 'food' whose name pecoma has no
        # list for: no drug allergy
        pytest.param(no_category(allergy(code={"text": "Peanut"})), id="peanut"),
        pytest.param(allergy(code={"text": "Strawberries"}, category=["food"]),
                     id="food-category-named"),
        pytest.param(allergy(code={"text": "Zortrexib"}, category=["environment"]),
                     id="environment-category-named"),
        # not an allergy now, or never one
        pytest.param(allergy(code={"text": "Zortrexib"}, clinicalStatus={"coding": [
            {"system": _CLINICAL, "code": "inactive"}]}), id="inactive"),
        pytest.param(allergy(code={"text": "Zortrexib"}, verificationStatus={"coding": [
            {"system": _VERIFICATION, "code": "refuted"}]}), id="refuted"),
        pytest.param(allergy(code={"text": "Zortrexib"}, verificationStatus={"coding": [
            {"system": _VERIFICATION, "code": "entered-in-error"}]}), id="entered-in-error"),
        pytest.param(allergy(code={"text": "NKDA"}), id="no-known-drug-allergy"),
    ])
    def test_no_row_for_an_entry_identified_or_left_aside(
            self, entry: dict[str, Any]) -> None:
        """The reference point: an entry identified as no PEComa drug, a food or
        environment entry that names what it is, or one inactive, refuted, entered in
        error or recording no allergy, gives no row, and 'not contraindicated' stands."""
        systemic = read(record(entry)).case.systemic
        assert systemic.intolerances == ()
        assert systemic.mtor_inhibitor_contraindicated.value == "no"


class TestSameAdviceWhicheverWayIn:
    def test_mtor_unavailable_the_anthracycline_waits_on_which_drug(self) -> None:
        """mTOR inhibitors unavailable: S14's doxorubicin had come out unconditional
        beside an allergy nobody could read (it may be to doxorubicin, under a brand
        pecoma does not list). It is now provisional on which drug it is, naming the
        intolerance, as the same facts entered by hand are (I15)."""
        bc = read(mtor_unavailable(record(allergy(code={"text": "Zortrexib"}))))
        a = assess(bc.case, ON)
        anthracycline = item(a, "REC-ANTHRACYCLINE")
        assert ASKED in anthracycline.conditional_on
        assert ("systemic.intolerances[0].agent", "other") in {
            (f.path, f.value) for f in anthracycline.triggered_by}
        assert "REC-ANTHRACYCLINE" in next(m for m in a.missing if m.id == ASKED).affects

    def test_mtor_available_the_mtor_advice_waits_on_which_drug(self) -> None:
        """mTOR inhibitors available: S12's first line and nab-sirolimus wait on the
        question, beside the contraindication asked (the 'no' not kept)."""
        a = assess(read(record(allergy(code={"text": "Zortrexib"}))).case, ON)
        for record_id in ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"):
            assert ASKED in item(a, record_id).conditional_on, record_id
        assert "MISS-MTOR-CONTRAINDICATED" in item(a, "REC-MTOR-FIRST-LINE").conditional_on

    @pytest.mark.parametrize("available", ["yes", "no"])
    def test_a_case_entered_by_hand_and_read_back_gives_the_same_advice(
            self, available: str) -> None:
        """A case recording an intolerance of 'other' (the contraindication not
        recorded), written as FHIR and read back: the same rows, the same advice. The
        written entry had been read back as no intolerance at all."""
        data = {
            "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-10",
                          "prior_diagnosis": "none"},
            "tumour": {"primary_site": "soft_tissue", "size": {"value": 10, "unit": "cm"}},
            "histology": {"necrosis": "present", "infiltrative_growth": "present",
                          "high_nuclear_grade_and_cellularity": "present"},
            "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                     "mitf": "positive", "sma": "positive"},
            "stage": {"status": "metastatic", "lymph_nodes": "negative",
                      "metastases": [{"site": "peritoneum", "detected_on": "2024-03-01"}],
                      "extrapulmonary_disease": "yes", "resectable": "no",
                      "complete_excision_feasible": "no"},
            "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
            "systemic": {"mtor_inhibitor_available": available, "intolerances": [OTHER]},
        }
        by_hand = parse_case(data)
        back = case_from_bundle(bundle_from_case(by_hand), on=ON).case
        assert back.systemic.intolerances == by_hand.systemic.intolerances
        advice = [(i.id, i.conditional_on) for i in assess(by_hand, ON).recommendations]
        assert [(i.id, i.conditional_on) for i in assess(back, ON).recommendations] == advice
        assert any(ASKED in c for _id, c in advice)


class TestTheCardsSayTheSame:
    def test_patient_view_gives_the_anthracycline_as_conditional_with_the_question(
            self, client: TestClient) -> None:
        """mTOR inhibitors unavailable: the card gives S14's doxorubicin provisional on
        the engine's question, which it asks, and conditional on checking the entry; the
        summary never heads with it as settled."""
        cards = patient_view(client, mtor_unavailable(
            record(allergy(code={"text": "Zortrexib"}))))
        summary = cards[0]
        assert "anthracycline" not in summary["summary"].lower() \
            or "(conditional)" in summary["summary"]
        said = details([summary])
        start = said.index("**Anthracycline-based chemotherapy can be considered")
        block = said[start:said.index("**Refer to a sarcoma reference centre", start)]
        # provisional on the entry's question, beside the anthracycline contraindication's
        # own question (MISS-ANTHRACYCLINE-CONTRAINDICATED: not recorded in this record)
        provisional = block.split("*Provisional until supplied* (see the missing facts): ")[1]
        assert ASKED in provisional.split(" **")[0].split(", ")
        assert "**Conditional:** 1 drug allergy or intolerance entry" in block
        assert "which drug is it?" in said
        assert "AllergyIntolerance/a1" in said

    def test_order_select_proposes_nothing_and_asks_which_drug(
            self, client: TestClient) -> None:
        """A doxorubicin draft as first line: the card warns that the guideline puts an
        mTOR inhibitor first, but proposes none beside the entry (it may be to one), and
        says the mTOR advice waits on which drug the entry is, as the engine does."""
        cards = order_select(client, record(allergy(code={"text": "Zortrexib"})), DOXORUBICIN)
        assert not proposed(cards)
        said = details(cards)
        assert "No mTOR-inhibitor order is proposed" in said
        assert "which drug is it?" in said

