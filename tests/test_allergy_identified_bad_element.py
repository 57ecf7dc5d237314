"""An allergy entry naming a drug pecoma knows, with another element malformed.

An AllergyIntolerance to sirolimus (RxNorm 35302) whose ``onsetDateTime`` was
"2024-13-45", a doxorubicin entry with a ``recordedDate`` "2024-99-01", or a temsirolimus
entry whose reaction's ``onset`` said "yesterday", refused the whole record: ``pecoma
fhir to-case`` exited 3, patient-view gave only "PEComa guideline check not possible",
and an order-select doxorubicin draft got that warning instead of any advice. The
intolerance itself was never in doubt: what decides it (its code, statuses, category,
patient) was valid. An entry whose drug pecoma could *not* identify was already read with
such a date (the element noted); the entry that names its drug, the one that matters
most, was not.

The entry is the recorded intolerance of that drug (I15: never suggest it; for an mTOR
inhibitor every one is ruled out unless another is shown tolerated), with a note naming
the element, its value, and that it was not read; the rest of the record is read. What
decides the reading (a ``clinicalStatus`` that is not a CodeableConcept, the project's
extension ``intolerance-class-wide`` holding a number) still refuses the record. A
malformed ``note`` or ``manifestation`` still holds words: a drug pecoma knows named
there is ruled out all the same (never hidden by the malformation).

The record is the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa of
the kidney, no systemic line, mTOR inhibitors recorded available and not
contraindicated): see ``allergy_support``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allergy_support import (
    DOXORUBICIN,
    EVEROLIMUS,
    ON,
    SIROLIMUS,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)
from cli_support import run_cli

TEMSIROLIMUS = {"text": "Temsirolimus (Torisel)"}
RASH = [{"text": "rash"}]

#: (entry, the drug it names, the row of systemic.intolerances, the element noted, the
#: value quoted): each names its drug by code or by text, each element decides nothing.
CASES = [
    pytest.param(allergy(code=SIROLIMUS, onsetDateTime="2024-13-45"), SIROLIMUS,
                 "sirolimus", "onsetDateTime", "2024-13-45", id="sirolimus-onset-month-13"),
    pytest.param(allergy(code={"text": "Everolimus"}, recordedDate="2024-99-01"), EVEROLIMUS,
                 "everolimus", "recordedDate", "2024-99-01", id="everolimus-text-recorded-date"),
    pytest.param(allergy(code=TEMSIROLIMUS, reaction=[{"manifestation": RASH,
                                                        "onset": "yesterday"}]),
                 TEMSIROLIMUS, "temsirolimus", "reaction.0.onset", "yesterday",
                 id="temsirolimus-reaction-onset"),
    pytest.param(allergy(code=DOXORUBICIN, reaction=[{"manifestation": "rash"}]), DOXORUBICIN,
                 "doxorubicin", "reaction.0.manifestation", "rash",
                 id="doxorubicin-manifestation-not-a-list"),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("identified-bad-element"))


def read_case(tmp: Path, bundle: dict[str, Any]) -> Any:
    """``pecoma fhir to-case --details`` of the bundle, with its exit code."""
    path = tmp / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return run_cli("fhir", "to-case", "--details", "--on", ON.isoformat(), str(path))


class TestToCase:
    @pytest.mark.parametrize(("entry", "drug", "agent", "element", "value"), CASES)
    def test_the_intolerance_is_read_and_the_element_noted(
            self, tmp_path: Path, entry: dict[str, Any], drug: dict[str, Any], agent: str,
            element: str, value: str) -> None:
        """The record is read (exit 0, the disease still metastatic from its
        Conditions); the entry is the one row of its drug; the note names the element,
        quotes the value and says it was not read (or, for words, read only for the
        drugs they name)."""
        run = read_case(tmp_path, record(entry))
        assert run.returncode == 0, run.stderr
        found = json.loads(run.stdout)
        assert found["case"]["systemic"]["intolerances"] == [{"agent": agent}]
        assert found["case"]["stage"]["status"] == "metastatic"
        [note] = [n for n in found["notes"]
                  if n.startswith(f"AllergyIntolerance/a1: its element {element} is not valid")]
        assert f"got '{value}'" in note
        assert f"read as an intolerance of {agent} all the same" in note

    @pytest.mark.parametrize(("entry", "drug", "agent", "element", "value"), CASES[:3])
    def test_an_mtor_inhibitor_named_leaves_no_not_contraindicated(
            self, tmp_path: Path, entry: dict[str, Any], drug: dict[str, Any], agent: str,
            element: str, value: str) -> None:
        """An intolerance of an mTOR inhibitor rules every one out (I15, no other one shown
        tolerated): the team's recorded 'not contraindicated' is not kept."""
        systemic = json.loads(read_case(tmp_path, record(entry)).stdout)["case"]["systemic"]
        assert systemic.get("mtor_inhibitor_contraindicated") != "no"

    def test_a_malformed_note_naming_a_drug_still_rules_it_out(self, tmp_path: Path) -> None:
        """A sirolimus entry whose ``note`` is a bare text (not a list of Annotations)
        saying "also everolimus": the record is read, and everolimus is ruled out beside
        sirolimus (a drug named in the entry's words is never hidden by the malformation)."""
        run = read_case(tmp_path, record(allergy(code=SIROLIMUS, note="also everolimus")))
        assert run.returncode == 0, run.stderr
        found = json.loads(run.stdout)
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "everolimus"},
                                                            {"agent": "sirolimus"}]
        assert any(n.startswith("AllergyIntolerance/a1: its element note is not valid")
                   and "read only for the drugs pecoma knows" in n for n in found["notes"])

    @pytest.mark.parametrize(("fields", "path"), [
        pytest.param({"clinicalStatus": "active"}, "AllergyIntolerance/a1.clinicalStatus",
                     id="clinical-status-not-a-concept"),
        pytest.param({"extension": [{
            "url": "https://pecoma.example/fhir/StructureDefinition/intolerance-class-wide",
            "valueCode": 5}]}, "AllergyIntolerance/a1.extension.0.valueCode",
            id="class-wide-judgement-a-number"),
    ])
    def test_what_decides_the_reading_still_refuses(self, tmp_path: Path,
                                                    fields: dict[str, Any], path: str) -> None:
        """Whether the entry is active, and the team's judgement whether the intolerance is
        of the class, decide what it rules out: malformed, the record is refused naming
        the element, as before."""
        run = read_case(tmp_path, record(allergy(code=SIROLIMUS, **fields)))
        assert run.returncode == 3
        assert path in run.stderr


class TestCds:
    @pytest.mark.parametrize(("entry", "drug", "agent", "element", "value"), CASES)
    def test_patient_view_assesses_and_quotes_the_element(
            self, client: TestClient, entry: dict[str, Any], drug: dict[str, Any], agent: str,
            element: str, value: str) -> None:
        """The risk and treatment card is given (never "check not possible" for a bad date
        on an allergy entry), and "How the record was read" names the element."""
        cards = patient_view(client, record(entry))
        assert cards[0]["summary"].startswith("PEComa (metastatic), risk not applicable")
        assert not any("check not possible" in c["summary"] for c in cards)
        assert f"its element {element} is not valid FHIR R4" in details(cards)

    @pytest.mark.parametrize(("entry", "drug", "agent", "element", "value"), CASES)
    def test_a_draft_of_the_drug_is_critical(self, client: TestClient, entry: dict[str, Any],
                                             drug: dict[str, Any], agent: str, element: str,
                                             value: str) -> None:
        """A draft of the drug the entry names gets the critical allergy card, and no card
        says the check was not possible."""
        cards = order_select(client, record(entry), drug)
        assert critical(cards) and f"allergy or intolerance to {agent}" in critical(cards)[0]
        assert not any("check not possible" in c["summary"] for c in cards)

    @pytest.mark.parametrize(("entry", "drug", "agent", "element", "value"), CASES[:3])
    def test_no_mtor_inhibitor_is_proposed_in_place_of_doxorubicin(
            self, client: TestClient, entry: dict[str, Any], drug: dict[str, Any], agent: str,
            element: str, value: str) -> None:
        """With every mTOR inhibitor ruled out (I15), a doxorubicin draft is what the
        guideline then says (S14): nothing is proposed in its place, and the draft is
        assessed (no "check not possible")."""
        cards = order_select(client, record(entry), DOXORUBICIN)
        assert not proposed(cards)
        assert not any("check not possible" in c["summary"] for c in cards)
