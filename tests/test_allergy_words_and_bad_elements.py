"""An allergy entry's narrative words, and a malformed element of an entry not identified.

Two readings of the allergy list went too far.

* Words. Reading an entry's notes and reaction descriptions (so that "NKDA except
  sirolimus" rules sirolimus out, HAZ-187) had made every word there that pecoma cannot
  identify a possible drug: an NKDA entry noted "patient reports hives as a child", or a
  penicillin entry noted "rash as a child, confirmed by mother", became a drug allergy not
  identified, an intolerance of 'other'. The mTOR-inhibitor first line (S12, S13) turned
  provisional, the team's recorded "not contraindicated" was dropped and every sirolimus
  order was flagged: an explicit "no known drug allergy" read as an allergy to an unknown
  drug. What an entry says its substance is (its code, a reaction's substance) decides
  whether it is identified; its words add the drugs pecoma knows there (ruled out, I15),
  nothing else.
* Bad elements. An entry read as an intolerance of 'other' gives a fact, and was validated
  in full: one onset date "2020-13-45", or a reaction whose manifestation is not a list,
  refused the whole record (to-case exit 3, the CDS card "check not possible"), losing
  the risk, surgery and surveillance advice for a date that decides nothing. Only what
  decides the reading (status, category, code, a reaction's substance, the patient) is
  validated; another malformed element is a note quoting it, and the rest is read.

The record is the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa, no
systemic line, mTOR inhibitors recorded available and **not contraindicated**).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allergy_support import (
    ON,
    RXNORM,
    SIROLIMUS,
    SNOMED,
    allergy,
    make_client,
    order_select,
    patient_view,
    record,
    to_case,
)
from cli_support import run_cli


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("words"))


NKDA = {"coding": [{"system": SNOMED, "code": "409137002",
                    "display": "No known drug allergy"}], "text": "NKDA"}
PENICILLIN = {"coding": [{"system": RXNORM, "code": "7980", "display": "penicillin G"}]}
UNIDENTIFIED = {"text": "Allergy to drug"}

#: Entries whose words name no substance: each is read as before the words were read.
ORDINARY_WORDS = [
    pytest.param(allergy(code=NKDA, note=[{"text": "patient reports hives as a child"}]),
                 id="nkda-note-hives-as-a-child"),
    pytest.param(allergy(code=NKDA, note=[{"text": "Confirmed with patient 2025-03-01"}]),
                 id="nkda-note-confirmed-with-date"),
    pytest.param(allergy(code=NKDA, note=[{"text": "reviewed by pharmacist"}]),
                 id="nkda-note-reviewed"),
    pytest.param(allergy(code=PENICILLIN,
                         note=[{"text": "rash as a child, confirmed by mother"}]),
                 id="penicillin-note"),
    pytest.param(allergy(code=PENICILLIN, reaction=[{
        "description": "rash as a child, confirmed by mother",
        "manifestation": [{"text": "rash"}]}]), id="penicillin-description"),
]

#: Entries read as an intolerance of 'other' carrying an element that is not valid FHIR
#: R4 and that does not decide that reading.
BAD_ELEMENT = [
    pytest.param(allergy(code=UNIDENTIFIED, onsetDateTime="2020-13-45"), "onsetDateTime",
                 id="onset-2020-13-45"),
    pytest.param(allergy(code=UNIDENTIFIED, reaction=[{"manifestation": "rash"}]),
                 "reaction.0.manifestation", id="reaction-manifestation-not-a-list"),
]


def read_case(tmp: Path, bundle: dict[str, Any]) -> Any:
    """``pecoma fhir to-case`` of the bundle, with its exit code."""
    path = tmp / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return run_cli("fhir", "to-case", "--details", "--on", ON.isoformat(), str(path))


class TestWordsToCase:
    @pytest.mark.parametrize("entry", ORDINARY_WORDS)
    def test_words_naming_no_substance_change_nothing(self, tmp_path: Path,
                                                      entry: dict[str, Any]) -> None:
        """An NKDA entry still records no allergy and a penicillin entry is still
        penicillin: no intolerance row, and the team's 'not contraindicated' stands, so
        the mTOR-inhibitor first line is given as the guideline gives it (S12, S13)."""
        found = to_case(tmp_path, record(entry))
        systemic = found["case"]["systemic"]
        assert "intolerances" not in systemic
        assert systemic["mtor_inhibitor_contraindicated"] == "no"
        assert not any("cannot be read" in n for n in found["notes"])

    def test_nkda_with_a_note_naming_sirolimus_is_a_sirolimus_intolerance_only(
            self, tmp_path: Path) -> None:
        """"except sirolimus" names a drug pecoma knows: sirolimus is ruled out (I15). The
        NKDA code and the note's other words name no other substance, so no row 'other'
        is added beside it."""
        entry = allergy(code=NKDA, note=[{"text": "except sirolimus, reviewed by pharmacist"}])
        found = to_case(tmp_path, record(entry))
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "sirolimus"}]

    def test_nkda_whose_reaction_names_an_unknown_substance_is_not_identified(
            self, tmp_path: Path) -> None:
        """A reaction's substance is what the entry says its substance is: one pecoma
        cannot identify may be an mTOR inhibitor, so the entry is an intolerance of
        'other' and 'not contraindicated' is not kept (unknown is not absent)."""
        entry = allergy(code=NKDA, reaction=[{"substance": {"text": "Zortrex"},
                                              "manifestation": [{"text": "rash"}]}])
        systemic = to_case(tmp_path, record(entry))["case"]["systemic"]
        assert systemic["intolerances"] == [{"agent": "other"}]
        assert "mtor_inhibitor_contraindicated" not in systemic

    def test_a_drug_named_only_in_words_does_not_identify_the_entry(
            self, tmp_path: Path) -> None:
        """"Allergy to drug" noted "sirolimus pneumonitis": sirolimus is ruled out, and
        the entry's substance is still not identified (a row 'other' beside it): the note
        adds the drug it names, nothing else."""
        entry = allergy(code=UNIDENTIFIED, note=[{"text": "sirolimus pneumonitis"}])
        rows = to_case(tmp_path, record(entry))["case"]["systemic"]["intolerances"]
        assert rows == [{"agent": "sirolimus"}, {"agent": "other"}]


class TestWordsCds:
    @pytest.mark.parametrize("entry", ORDINARY_WORDS)
    def test_patient_view_is_as_without_the_entry(self, client: TestClient,
                                                  entry: dict[str, Any]) -> None:
        """The same advice as for the record without the entry: no fact more unknown."""
        plain = [c["summary"] for c in patient_view(client, record())]
        assert [c["summary"] for c in patient_view(client, record(entry))] == plain

    @pytest.mark.parametrize("entry", ORDINARY_WORDS)
    def test_a_sirolimus_order_is_not_flagged(self, client: TestClient,
                                              entry: dict[str, Any]) -> None:
        """No allergy card on a sirolimus draft: nothing on the list may be to it."""
        assert order_select(client, record(entry), SIROLIMUS) == []


class TestBadElementToCase:
    @pytest.mark.parametrize(("entry", "element"), BAD_ELEMENT)
    def test_the_record_is_read_and_the_element_quoted(
            self, tmp_path: Path, entry: dict[str, Any], element: str) -> None:
        """The entry is still an intolerance of 'other' (its code decides that), the rest
        of the record is read, and a note names the element not read."""
        run = read_case(tmp_path, record(entry))
        assert run.returncode == 0, run.stderr
        found = json.loads(run.stdout)
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "other"}]
        assert found["case"]["stage"]["status"] == "metastatic"
        assert any(n.startswith(f"AllergyIntolerance/a1: its element {element} is not valid")
                   for n in found["notes"])

    def test_a_malformed_code_still_refuses_the_record(self, tmp_path: Path) -> None:
        """The code decides the reading: a code that is not a CodeableConcept is refused,
        naming the field, as before."""
        run = read_case(tmp_path, record(allergy(code="Allergy to drug")))
        assert run.returncode == 3
        assert "AllergyIntolerance/a1.code" in run.stderr


class TestBadElementCds:
    @pytest.mark.parametrize(("entry", "element"), BAD_ELEMENT)
    def test_patient_view_still_assesses(self, client: TestClient, entry: dict[str, Any],
                                         element: str) -> None:
        """The risk and treatment card is given (never "check not possible" for a bad
        date on an allergy entry)."""
        cards = patient_view(client, record(entry))
        assert [c["summary"].split(":")[0] for c in cards] == [
            "PEComa (metastatic), risk not applicable"]

    @pytest.mark.parametrize(("entry", "element"), BAD_ELEMENT)
    def test_a_sirolimus_order_is_warned(self, client: TestClient, entry: dict[str, Any],
                                         element: str) -> None:
        """The entry may be to sirolimus: its draft gets the warning naming the entry."""
        cards = order_select(client, record(entry), SIROLIMUS)
        assert [c["indicator"] for c in cards] == ["warning"]
        assert cards[0]["summary"].startswith("Draft order of sirolimus could not be checked")
