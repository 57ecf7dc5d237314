"""What an allergy entry says in words: a reaction's description, a manifestation, a note.

An EHR integrator recorded a "No known drug allergy" entry (SNOMED CT 409137002) carrying
a reaction described "Sirolimus: pneumonitis" (manifestation Pneumonitis); or a note
"except sirolimus (pneumonitis 2025)"; or a manifestation text "pneumonitis after
sirolimus". Each was read as no allergy to anything ("records no known allergy") and the
list cleared: a doxorubicin draft got "Replace with an mTOR inhibitor (sirolimus) draft",
a sirolimus draft no card. A penicillin entry whose reaction was described "also
sirolimus - pneumonitis" was cleared as penicillin too: ``reaction.description`` and
``note`` were never read.

An NKDA entry that says anything more than "none" records something (docs/cds-hooks.md:
"one that says more ... is read for what it names"). What an entry says in prose is read
as its code's text is: a drug named there is ruled out (never recommend a drug with a
recorded intolerance, I15, S13-S14). What the entry says its substance is (its code, a
reaction's substance) decides whether it is identified: a substance pecoma cannot identify
there leaves it not identified ("could not be checked", no drug proposed: unknown is not
absent). The words of a description, a note or a manifestation add the drugs they name and
nothing else: "see the paper chart" names no substance, and an NKDA entry carrying it
still records none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allergy_support import (
    DOXORUBICIN,
    EVEROLIMUS,
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


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("prose"))


NKDA = {"coding": [{"system": SNOMED, "code": "409137002",
                    "display": "No known drug allergy"}]}
PENICILLIN = {"coding": [{"system": RXNORM, "code": "7980", "display": "penicillin G"}]}
PNEUMONITIS = {"coding": [{"system": SNOMED, "code": "205237003", "display": "Pneumonitis"}]}

#: Entries naming sirolimus only in their words.
SIROLIMUS_IN_WORDS = [
    pytest.param(allergy(code=NKDA, reaction=[{"description": "Sirolimus: pneumonitis",
                                               "manifestation": [PNEUMONITIS]}]),
                 id="nkda-reaction-description"),
    pytest.param(allergy(code=NKDA, note=[{"text": "except sirolimus (pneumonitis 2025)"}]),
                 id="nkda-note"),
    pytest.param(allergy(code=NKDA, reaction=[{"manifestation": [
        {"text": "pneumonitis after sirolimus"}]}]), id="nkda-manifestation-text"),
    pytest.param(allergy(code=PENICILLIN, reaction=[{
        "description": "also sirolimus - pneumonitis", "manifestation": [PNEUMONITIS]}]),
        id="penicillin-reaction-description"),
]


class TestToCase:
    @pytest.mark.parametrize("entry", SIROLIMUS_IN_WORDS)
    def test_sirolimus_named_in_words_is_an_intolerance(self, tmp_path: Path,
                                                        entry: dict[str, Any]) -> None:
        """Sirolimus is a row of the intolerances; the entry is not set aside as "no
        known allergy", and the recorded 'not contraindicated' is not kept."""
        found = to_case(tmp_path, record(entry))
        systemic = found["case"]["systemic"]
        assert {"agent": "sirolimus"} in systemic["intolerances"]
        assert systemic.get("mtor_inhibitor_contraindicated") != "no"
        assert not any("no known allergy" in x for x in found["not_read"])

    def test_an_nkda_entry_saying_more_that_names_nothing_known_is_not_identified(
            self, tmp_path: Path) -> None:
        """'No known drug allergy' whose reaction's substance is "Zortrex" names a drug
        pecoma does not know: the entry could be to an mTOR inhibitor, so 'not
        contraindicated' is not
        kept (asked), the entry is an intolerance of 'other' (a drug the case format names
        no agent for, so the engine asks which drug it is, I15), and the note says what
        could not be identified. (The reaction carries its manifestation, which FHIR R4
        requires: the entry gives a fact, so it is validated.)"""
        entry = allergy(code=NKDA, reaction=[{"substance": {"text": "Zortrex"},
                                              "description": "Zortrex: rash",
                                              "manifestation": [{"text": "rash"}]}])
        found = to_case(tmp_path, record(entry))
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "other"}]
        assert any("AllergyIntolerance/a1: an allergy or intolerance that may be to a drug, "
                   "of a substance pecoma cannot identify" in n and "zortrex" in n
                   for n in found["notes"])

    def test_nkda_with_a_plain_manifestation_still_records_none(self, tmp_path: Path
                                                                ) -> None:
        """The reference point: "urticaria" is how a reaction is worded, no more; the
        entry still records none and 'not contraindicated' stands."""
        entry = allergy(code=NKDA, reaction=[{"manifestation": [{"text": "urticaria"}]}])
        found = to_case(tmp_path, record(entry))
        assert found["case"]["systemic"]["mtor_inhibitor_contraindicated"] == "no"
        assert any("no known allergy" in x for x in found["not_read"])


class TestCdsServices:
    @pytest.mark.parametrize("entry", SIROLIMUS_IN_WORDS)
    def test_no_sirolimus_is_proposed_and_its_draft_is_critical(
            self, client: TestClient, entry: dict[str, Any]) -> None:
        """Every mTOR inhibitor is ruled out (I15, no other one shown tolerated): the
        doxorubicin draft is what the guideline then says (S14), nothing is proposed in
        its place; the sirolimus draft is critical."""
        chemo = order_select(client, record(entry), DOXORUBICIN)
        assert not proposed(chemo)
        assert not any(c["summary"].startswith("Doxorubicin first line") for c in chemo)
        assert critical(order_select(client, record(entry), SIROLIMUS)) == [
            "Draft order of sirolimus: the record lists an allergy or intolerance to "
            "sirolimus"]

    @pytest.mark.parametrize("entry", SIROLIMUS_IN_WORDS[:2])
    def test_patient_view_gives_no_mtor_advice(self, client: TestClient,
                                               entry: dict[str, Any]) -> None:
        said = details(patient_view(client, record(entry)))
        assert "mTOR inhibitors are unavailable or contraindicated" in said

    @pytest.mark.parametrize("entry", [
        pytest.param(allergy(code=NKDA, reaction=[{"substance": {"text": "Zortrex"},
                                                   "description": "Zortrex: rash"}]),
                     id="nkda-substance-unknown-drug"),
    ])
    def test_what_cannot_be_identified_withholds_the_proposal(
            self, client: TestClient, entry: dict[str, Any]) -> None:
        """An NKDA entry whose reaction names a substance pecoma cannot identify: no drug
        is proposed, the card names the entry to check, and a sirolimus draft gets the
        warning that it could not be checked against it."""
        chemo = order_select(client, record(entry), DOXORUBICIN)
        assert not proposed(chemo)
        assert "could not be matched to a drug" in details(chemo)
        siro = order_select(client, record(entry), SIROLIMUS)
        assert [c["indicator"] for c in siro] == ["warning"]
        assert "AllergyIntolerance/a1" in details(siro)

    def test_a_note_naming_a_drug_on_any_entry_rules_it_out(self, client: TestClient
                                                             ) -> None:
        """Not only NKDA entries: a penicillin entry whose note says the patient also
        reacted to everolimus rules everolimus out."""
        entry = allergy(code=PENICILLIN, note=[{"text": "Also reacted to everolimus"}])
        assert critical(order_select(client, record(entry), EVEROLIMUS))

    @pytest.mark.parametrize("entry", [
        pytest.param(allergy(code=PENICILLIN, reaction=[{"description": "Hives",
                                                         "manifestation": [PNEUMONITIS]}]),
                     id="penicillin-described-hives"),
        pytest.param(allergy(code=NKDA, reaction=[{"manifestation": [{"text": "urticaria"}]}]),
                     id="nkda-manifestation-urticaria"),
        # was asserted not identified: narrative words name no substance
        pytest.param(allergy(code=NKDA, note=[{"text": "see the paper chart"}]),
                     id="nkda-note-naming-no-substance"),
        pytest.param(allergy(code=NKDA, reaction=[{"description": "Zortrex: rash"}]),
                     id="nkda-description-naming-no-known-drug"),
    ])
    def test_words_that_name_no_substance_clear_as_before(
            self, client: TestClient, entry: dict[str, Any]) -> None:
        """The reference point: a description or manifestation that only words the
        reaction changes nothing: the sirolimus draft is proposed."""
        assert proposed(order_select(client, record(entry), DOXORUBICIN))
