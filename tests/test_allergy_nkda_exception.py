"""A "No known drug allergy" entry whose words name, as an exception, a drug pecoma does
not know.

An AllergyIntolerance coded SNOMED CT 409137002 "No known drug allergy" carrying the note
"except for Zortrex" (or "allergic to XY-123") was read as no allergy to anything: the
list was cleared, the team's 'mTOR inhibitor not contraindicated' stood, a doxorubicin
draft got "Replace with an mTOR inhibitor (sirolimus) draft" and a sirolimus draft no
card. The entry contradicts itself: it says there is a drug the patient reacts to, and
pecoma cannot tell which; it may be an mTOR inhibitor or an anthracycline under a name
pecoma does not list. Unknown is not absent: the entry is a drug allergy not identified,
an intolerance of 'other' (the engine then asks which drug it is and whether it is an
mTOR inhibitor or an anthracycline, I15), nothing is proposed, and a draft is warned that
it could not be checked.

What the words say is read narrowly (the over-reach the prose reading avoids,
tests/test_allergy_entry_prose.py): only what follows an exception ("except", "other
than", …) or an allergy stated ("allergic to", "reacted to", with no denial before it in
its clause), up to the end of the clause, and only when pecoma cannot identify it.
"patient denies", "reviewed", "no reaction to any medication" change nothing; "except
for carboplatin" names a drug pecoma knows and is read as an allergy to carboplatin.

The record is the shipped example ``metastatic-lung-metachronous`` (see
``allergy_support``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.allergies import read_allergy

from allergy_support import (
    DOXORUBICIN,
    RXNORM,
    SIROLIMUS,
    SNOMED,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)

NKDA = {"coding": [{"system": SNOMED, "code": "409137002",
                    "display": "No known drug allergy"}]}
CARBOPLATIN = {"coding": [{"system": RXNORM, "code": "40048", "display": "carboplatin"}]}

#: NKDA entries whose words name, as an exception or an allergy stated, something pecoma
#: cannot identify, and the word the note quotes.
CONTRADICTING = [
    pytest.param(allergy(code=NKDA, note=[{"text": "except for Zortrex"}]), "zortrex",
                 id="note-except-for"),
    pytest.param(allergy(code=NKDA, note=[{"text": "Pt allergic to XY-123 (hives)"}]), "xy",
                 id="note-allergic-to"),
    pytest.param(allergy(code=NKDA, reaction=[{"description": "NKDA other than Zortrex",
                                               "manifestation": [{"text": "rash"}]}]),
                 "zortrex", id="description-other-than"),
]

#: NKDA entries whose words name no substance: each still records none.
ORDINARY = [
    pytest.param(allergy(code=NKDA, note=[{"text": "patient denies"}]), id="patient-denies"),
    pytest.param(allergy(code=NKDA, note=[{"text": "reviewed"}]), id="reviewed"),
    pytest.param(allergy(code=NKDA, note=[{"text": "Patient denies allergies to any drugs"}]),
                 id="denies-allergies-to-any-drugs"),
    pytest.param(allergy(code=NKDA, note=[{"text": "No reaction to any medication, reviewed"}]),
                 id="no-reaction-to-any-medication"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("nkda-exception"))


class TestToCase:
    @pytest.mark.parametrize(("entry", "word"), CONTRADICTING)
    def test_the_entry_is_a_drug_allergy_not_identified(
            self, tmp_path: Path, entry: dict[str, Any], word: str) -> None:
        """One row 'other' (a drug the case format names no agent for: which drug, and
        whether it is an mTOR inhibitor or an anthracycline, is asked), the recorded 'not
        contraindicated' is not kept, the entry is not listed as "no known allergy", and
        the note names what could not be identified."""
        found = to_case(tmp_path, record(entry))
        systemic = found["case"]["systemic"]
        assert systemic["intolerances"] == [{"agent": "other"}]
        assert "mtor_inhibitor_contraindicated" not in systemic
        assert not any("no known allergy" in x for x in found["not_read"])
        assert any(n.startswith("AllergyIntolerance/a1: an allergy or intolerance that may be "
                                "to a drug, of a substance pecoma cannot identify")
                   and word in n
                   for n in found["notes"])

    @pytest.mark.parametrize("entry", ORDINARY)
    def test_ordinary_words_change_nothing(self, tmp_path: Path, entry: dict[str, Any]) -> None:
        """The entry still records no known allergy: no row, and 'not contraindicated'
        stands (S12, S13 as the guideline gives them)."""
        found = to_case(tmp_path, record(entry))
        systemic = found["case"]["systemic"]
        assert "intolerances" not in systemic
        assert systemic["mtor_inhibitor_contraindicated"] == "no"
        assert any("no known allergy" in x for x in found["not_read"])

    def test_an_exception_naming_a_drug_pecoma_knows_is_that_drug(self, tmp_path: Path) -> None:
        """Already so before: "except for carboplatin" names carboplatin (other
        chemotherapy), ruled out by name; no row 'other' is added for the word "for",
        and the mTOR inhibitors are untouched ('not contraindicated' stands)."""
        found = to_case(tmp_path, record(allergy(code=NKDA,
                                                 note=[{"text": "except for carboplatin"}])))
        systemic = found["case"]["systemic"]
        assert "intolerances" not in systemic  # carboplatin alone is no row of the case
        assert systemic["mtor_inhibitor_contraindicated"] == "no"


class TestCds:
    @pytest.mark.parametrize(("entry", "word"), CONTRADICTING)
    def test_nothing_is_proposed_and_a_sirolimus_draft_is_warned(
            self, client: TestClient, entry: dict[str, Any], word: str) -> None:
        """The doxorubicin draft gets no "Replace with an mTOR inhibitor" suggestion and
        names the entry to check; the sirolimus draft gets the warning that it could not
        be checked against it."""
        chemo = order_select(client, record(entry), DOXORUBICIN)
        assert not proposed(chemo)
        assert "could not be matched to a drug" in details(chemo)
        siro = order_select(client, record(entry), SIROLIMUS)
        assert [c["indicator"] for c in siro] == ["warning"]
        assert siro[0]["summary"].startswith("Draft order of sirolimus could not be checked")

    @pytest.mark.parametrize(("entry", "word"), CONTRADICTING[:1])
    def test_patient_view_makes_the_mtor_advice_conditional(
            self, client: TestClient, entry: dict[str, Any], word: str) -> None:
        """The mTOR-inhibitor first line waits on which drug the intolerance is of
        (MISS-INTOLERANCE-AGENT), as for any drug allergy not identified."""
        said = details(patient_view(client, record(entry)))
        assert "Conditional:" in said

    @pytest.mark.parametrize("entry", ORDINARY)
    def test_ordinary_words_leave_the_proposal(self, client: TestClient,
                                               entry: dict[str, Any]) -> None:
        """Nothing on the list may be to a drug: the doxorubicin draft is offered the
        sirolimus draft, and a sirolimus draft gets no card."""
        assert proposed(order_select(client, record(entry), DOXORUBICIN))
        assert order_select(client, record(entry), SIROLIMUS) == []

    def test_an_exception_naming_carboplatin_rules_out_carboplatin(self, client: TestClient
                                                                   ) -> None:
        """Already so before: a carboplatin draft beside "except for carboplatin" gets the
        critical allergy card (HAZ-081: a drug filed under other chemotherapy)."""
        entry = allergy(code=NKDA, note=[{"text": "except for carboplatin"}])
        assert critical(order_select(client, record(entry), CARBOPLATIN)) == [
            "Draft order of carboplatin: the record lists an allergy or intolerance to "
            "carboplatin (AllergyIntolerance/a1)"]


def nkda_noting(text: str) -> dict[str, Any]:
    """The entry an EHR records for "No Known Drug Allergies" (SNOMED CT 409137002), with
    one note."""
    return allergy(code={"coding": [{"system": SNOMED, "code": "409137002",
                                     "display": "No known history of drug allergy"}],
                         "text": "No Known Drug Allergies"},
                   note=[{"text": text}])


#: Notes an NKDA entry carries that name an ordinary allergy to something that is no
#: drug: a food, an animal, the environment, a material, a physical trigger. Code
#: 409137002 says no *drug* allergy, and such a note does not contradict it.
NOT_A_DRUG = [
    pytest.param("Allergic to dogs", id="dogs"),
    pytest.param("Allergic to horses", id="horses"),
    pytest.param("Allergic to feathers", id="feathers"),
    pytest.param("NKDA. Allergic to seafood (hives).", id="seafood-hives"),
    pytest.param("Allergic to strawberries", id="strawberries"),
    pytest.param("Allergic to kiwi", id="kiwi"),
    pytest.param("Allergic to mangoes", id="mangoes"),
    pytest.param("Allergic to perfume", id="perfume"),
    pytest.param("Allergic to insect bites", id="insect-bites"),
    pytest.param("Allergic to adhesive tape", id="adhesive-tape"),
    pytest.param("Allergic to band-aids", id="band-aids"),
    pytest.param("Sensitive to cold", id="cold"),
    pytest.param("Sensitive to sunlight", id="sunlight"),
    pytest.param("Allergic to cat hair since childhood", id="cat-hair-since-childhood"),
    pytest.param("Allergic to eggs, milk and cherries", id="a-list-of-foods"),
]

#: Notes naming, beside an ordinary allergen or alone, a word that may be a drug pecoma
#: cannot identify, and that word: the entry contradicts its code and stays an allergy
#: not identified (the safe direction: which drug it is, is asked).
MAY_BE_A_DRUG = [
    pytest.param("Allergic to dogs and Zortrex", "zortrex", id="dogs-and-a-drug"),
    pytest.param("Allergic to seafood, Zortrex", "zortrex", id="seafood-comma-a-drug"),
    pytest.param("Allergic to penicillin and XY-123", "xy", id="penicillin-and-a-drug"),
    pytest.param("Allergic to horse serum", "serum", id="horse-serum-an-antiserum"),
    pytest.param("Allergic to mouse protein", "protein", id="mouse-protein-an-antibody"),
    pytest.param("Allergic to mustards", "mustards", id="mustards-alkylating-drugs"),
]


class TestAnOrdinaryAllergyInTheNote:
    """An NKDA entry whose note names an allergy to a food, an animal, the environment or
    a material ("Allergic to dogs", "seafood", "adhesive tape", "Sensitive to cold") was
    read as an allergy to a drug pecoma cannot identify: a row 'other', the team's 'not
    contraindicated' dropped, the mTOR-inhibitor advice provisional on "which drug is
    it?" and nothing proposed. Code 409137002 says no drug allergy: such a note is what
    these entries usually carry. The common non-drug allergens are now read by name, by
    category; a word that may be a drug, beside them or alone, still makes the entry an
    allergy not identified (before, "penicillin and XY-123" was read as no allergy at
    all: a name pecoma knows hid the word beside it)."""

    @pytest.mark.parametrize("note", NOT_A_DRUG)
    def test_to_case_reads_no_drug_allergy(self, tmp_path: Path, note: str) -> None:
        """No row, 'not contraindicated' kept, the entry listed as recording no known
        allergy."""
        found = to_case(tmp_path, record(nkda_noting(note)))
        systemic = found["case"]["systemic"]
        assert "intolerances" not in systemic
        assert systemic["mtor_inhibitor_contraindicated"] == "no"
        assert any("no known allergy" in x for x in found["not_read"])

    @pytest.mark.parametrize("note", NOT_A_DRUG[:6])
    def test_order_select_proposes_sirolimus(self, client: TestClient, note: str) -> None:
        """Nothing on the list may be to a drug: the doxorubicin draft is offered the
        sirolimus draft, and a sirolimus draft gets no card."""
        entry = nkda_noting(note)
        assert proposed(order_select(client, record(entry), DOXORUBICIN))
        assert order_select(client, record(entry), SIROLIMUS) == []

    def test_patient_view_gives_the_mtor_advice_firm(self, client: TestClient) -> None:
        """'NKDA. Allergic to seafood (hives).': the mTOR-inhibitor first line is given
        as the guideline gives it, not provisional on which drug the entry is of."""
        said = details(patient_view(client, record(nkda_noting(
            "NKDA. Allergic to seafood (hives)."))))
        assert "MISS-INTOLERANCE-AGENT" not in said and "Conditional:" not in said

    @pytest.mark.parametrize(("note", "word"), MAY_BE_A_DRUG)
    def test_a_word_that_may_be_a_drug_is_still_not_identified(
            self, tmp_path: Path, note: str, word: str) -> None:
        """The row 'other', 'not contraindicated' dropped, and a note naming the word and
        saying it is a substance pecoma cannot identify."""
        found = to_case(tmp_path, record(nkda_noting(note)))
        systemic = found["case"]["systemic"]
        assert systemic["intolerances"] == [{"agent": "other"}]
        assert "mtor_inhibitor_contraindicated" not in systemic
        assert any(n.startswith("AllergyIntolerance/a1: an allergy or intolerance that may "
                                "be to a drug, of a substance pecoma cannot identify")
                   and word in n for n in found["notes"])

    @pytest.mark.parametrize(("note", "word"), MAY_BE_A_DRUG[:3])
    def test_nothing_is_proposed_beside_it(self, client: TestClient, note: str,
                                           word: str) -> None:
        chemo = order_select(client, record(nkda_noting(note)), DOXORUBICIN)
        assert not proposed(chemo)
        assert "could not be matched to a drug" in details(chemo)

    @pytest.mark.parametrize(("text", "unidentified"), [
        ("Seafood", False), ("Cat dander and dogs", False), ("Adhesive tape", False),
        ("Zortrex", True), ("Dogs and Zortrex", True), ("Horse serum", True)])
    def test_an_entry_coded_by_the_substance_reads_the_same(self, text: str,
                                                            unidentified: bool) -> None:
        """The same names in an entry's own code (no category given: it may be to a
        drug): an allergen pecoma reads is identified and rules no PEComa drug out; a word
        it cannot identify leaves the entry not identified."""
        reading = read_allergy(allergy(code={"text": text}, category=[]))
        assert reading.unidentified is unidentified
        assert not reading.agents
