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
        assert any(n.startswith("AllergyIntolerance/a1: a drug allergy or intolerance whose "
                                "substance cannot be read") and word in n
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
