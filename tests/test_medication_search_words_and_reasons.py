"""Medication searches answered by words, an allergy to the alkylating agents, stop reasons
coded or qualified, and a draft written "Dox 75 mg/m2".

The record (``allergy_support``): metastatic kidney PEComa, no systemic line given, mTOR
inhibitors recorded available and not contraindicated. With every search answered and
empty, a doxorubicin draft gets the first-line warning (S02, S12) and the suggestion to
replace it with an mTOR inhibitor.

1. A medication search answered by an OperationOutcome saying "Medications: Not on File"
   (a medication list never documented) was read as a list sent and empty: the history
   read as "no line given", the warning unconditional, sirolimus proposed. The rule of
   the allergy search now holds for the medication searches: only words known to say no
   more than an empty result ("No results found", Epic's 4101; and Epic's 4119 notice
   that it sends with every answer) leave the list whole; any other words make the lines
   already given unknown, asked, never "none".
2. An allergy entry "Alkylating agents" left a doxorubicin draft "could not be checked":
   doxorubicin is an anthracycline (ATC L01DB01), no alkylating agent (ATC L01A). The
   class is now identified as the anthracyclines are: it rules out ifosfamide,
   dacarbazine, trabectedin (its label: "an alkylating drug"), cyclophosphamide,
   temozolomide and the other alkylating drugs pecoma names, and clears doxorubicin.
3. A statusReason coded only SNOMED CT 407563006 "Treatment not tolerated (situation)"
   was not read: it is an intolerance, as its words are.
4. "Disease progression noted on CT; non-adherent" was read as progression on the drug.
   Non-adherence says the drug was not taken as prescribed: a progression then is not
   shown on the drug; it is asked, and the note says why.
5. A draft "Dox 75 mg/m2" got the "drug not identified" warnings. A dose per body surface
   (mg/m2) is a cytotoxic's dosing, never doxycycline's (100 mg): "Dox" followed by one
   is doxorubicin. "Dox 100 mg" stays not identified (doxycycline's short form), and
   doxycycline and doxazosin are no match.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, YesNo
from pecoma.fhir.medications import (
    Progression,
    StopReason,
    agents_named,
    progression_said,
    status_reason,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.searches import incomplete

from allergy_support import (
    DOXORUBICIN,
    ON,
    RXNORM,
    SNOMED,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    proposed,
    record,
    to_case,
)

FIRST_LINE = "Chemotherapy first line for advanced PEComa"
NOT_IDENTIFIED_FIRST = ("Draft order's drug not identified: if it is chemotherapy, the "
                        "guideline puts an mTOR inhibitor first")
IFOSFAMIDE = {"coding": [{"system": RXNORM, "code": "5657", "display": "ifosfamide"}]}
DACARBAZINE = {"coding": [{"system": RXNORM, "code": "3098", "display": "dacarbazine"}]}
CONDITIONAL = "**Conditional:** this holds only if the patient has had no systemic line"
EPIC_MESSAGES = "urn:oid:1.2.840.114350.1.13.0.1.7.2.657369"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("medication-words"))


def outcome_only(text: str, code: str | None = None) -> dict[str, Any]:
    """A searchset holding no resource, only an outcome entry whose issue says ``text``
    (in ``details.text``, as Epic sends it; an Epic message ``code`` beside it)."""
    details_: dict[str, Any] = {"text": text}
    if code is not None:
        details_["coding"] = [{"system": EPIC_MESSAGES, "code": code, "display": text}]
    return {"resourceType": "Bundle", "type": "searchset", "total": 0,
            "entry": [{"fullUrl": "urn:uuid:oo1", "search": {"mode": "outcome"},
                       "resource": {"resourceType": "OperationOutcome", "issue": [
                           {"severity": "information", "code": "informational",
                            "details": details_}]}}]}


MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration",
                    "MedicationDispense")
#: Words not known to say no more than an empty result: the list not whole.
NOT_WHOLE = ["Medications: Not on File", "Medication list not reviewed",
             "Medication history unknown", "Prüfen Sie die Medikation", "Check with pharmacy"]
#: Words saying no more than an empty search, and Epic's notice sent with every answer.
EPIC_4119 = ("This response includes information available to the authorized user at the "
             "time of the request. It may not contain the entire record available in the "
             "system.")
WHOLE = ["No results found", "Resource request returns no results.", "0 results",
         EPIC_4119]


class TestMedicationSearchWords:
    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", NOT_WHOLE)
    def test_words_not_known_leave_the_medication_list_not_whole(
            self, kind: str, words: str) -> None:
        """A list never documented is not a list empty: the reason quotes the words."""
        why = incomplete(outcome_only(words), (kind,))
        assert why is not None and words.split(":")[0] in why

    @pytest.mark.parametrize("kind", MEDICATION_TYPES)
    @pytest.mark.parametrize("words", WHOLE)
    def test_words_of_an_empty_answer_leave_it_whole(self, kind: str, words: str) -> None:
        """An empty result said in words, and Epic's notice (sent with every answer, so
        never a reason by itself: every Epic chart would otherwise be unchecked)."""
        assert incomplete(outcome_only(words), (kind,)) is None
        assert incomplete(outcome_only(words.split(".")[0], "4119"), (kind,)) is None

    def test_conditions_are_read_as_sent(self) -> None:
        """The rule is that of the lists a drug's check rests on; conditions as sent."""
        assert incomplete(outcome_only("Medications: Not on File"), ("Condition",)) is None

    @pytest.mark.parametrize("key", ["medications", "medication_requests",
                                     "medication_administrations", "medication_dispenses"])
    def test_order_select_takes_the_history_as_unknown(self, client: TestClient,
                                                       key: str) -> None:
        """The reported reproduction: a doxorubicin draft, one medication search answered
        only by "Medications: Not on File". Whether a line was given is unknown: the
        first-line warning holds only if none was, and no mTOR inhibitor is proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch[key] = outcome_only("Medications: Not on File")

        cards = order_select(client, record(), DOXORUBICIN, change)
        [card] = [c for c in cards if "perhaps first line" in c["summary"]]
        assert CONDITIONAL in card["detail"]
        assert not proposed(cards)
        assert "Not on File" in details(cards)

    def test_order_select_with_the_epic_notice_stays_whole(self, client: TestClient
                                                           ) -> None:
        """Epic's 4119 beside an empty medication search: read as sent (the plain
        warning, sirolimus proposed), as before."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medication_requests"] = outcome_only(EPIC_4119, "4119")

        cards = order_select(client, record(), DOXORUBICIN, change)
        assert proposed(cards)

    def test_to_case_takes_the_medications_as_unread(self, tmp_path: Path) -> None:
        """``pecoma fhir to-case``: the bundle holding that outcome leaves the medication
        parts unread and the earlier lines asked, never "none"."""
        bundle = record()
        bundle["entry"].append(copy.deepcopy(outcome_only("Medications: Not on File")
                                             ["entry"][0]))
        read = case_from_bundle(bundle, on=ON)
        assert "medications" in read.unread and "Not on File" in read.unread["medications"]
        assert read.history_doubt is not None
        out = to_case(tmp_path, bundle)
        assert "Not on File" in str(out)


ALKYLATING_TEXT = allergy(code={"text": "Alkylating agents"})
#: ATC L01A ALKYLATING AGENTS, the class coded without words.
ALKYLATING_CODED = allergy(code={"coding": [{"system": "http://www.whocc.no/atc",
                                             "code": "L01A"}]})


class TestAlkylatingClass:
    @pytest.mark.parametrize("entry", [ALKYLATING_TEXT, ALKYLATING_CODED])
    def test_doxorubicin_is_checked_and_not_ruled_out(self, client: TestClient,
                                                      entry: dict[str, Any]) -> None:
        """Doxorubicin is no alkylating agent: the draft is checked, gets the plain
        first-line warning, no "could not be checked" card and no critical card."""
        cards = order_select(client, record(entry), DOXORUBICIN)
        assert not critical(cards)
        assert not [c for c in cards if "could not be checked" in c["summary"]]
        assert [c for c in cards if c["summary"].startswith(FIRST_LINE)]

    @pytest.mark.parametrize("entry", [ALKYLATING_TEXT, ALKYLATING_CODED])
    @pytest.mark.parametrize("drug", [IFOSFAMIDE, DACARBAZINE,
                                      {"text": "Trabectedin 1.5 mg/m2"},
                                      {"text": "Cyclophosphamide 500 mg/m2"},
                                      {"text": "Temozolomide 150 mg/m2"},
                                      {"text": "AI regimen"}])
    def test_an_alkylating_drug_is_ruled_out(self, client: TestClient,
                                             entry: dict[str, Any],
                                             drug: dict[str, Any]) -> None:
        """Ifosfamide, dacarbazine, trabectedin, cyclophosphamide, temozolomide, and a
        regimen holding ifosfamide: the critical card (an mTOR inhibitor, no alkylating
        agent, may still be proposed in its place)."""
        cards = order_select(client, record(entry), drug)
        [summary] = critical(cards)
        assert "the record lists an allergy or intolerance to" in summary


REASON_CODED = {"coding": [{"system": SNOMED, "code": "407563006"}]}


class TestStatusReasons:
    def test_treatment_not_tolerated_by_its_code_alone(self) -> None:
        """SNOMED CT 407563006 Treatment not tolerated: an intolerance, as its words."""
        found = status_reason({"statusReason": REASON_CODED})
        assert found is not None and found.kind is StopReason.intolerance

    def test_treatment_not_tolerated_read_on_the_record(self) -> None:
        """An everolimus order stopped so: everolimus not tolerated (I15)."""
        bundle = record({"resourceType": "MedicationRequest", "id": "ev1",
                         "status": "stopped", "intent": "order",
                         "subject": {"reference": "Patient/pat-1003"},
                         "medicationCodeableConcept": {"coding": [
                             {"system": RXNORM, "code": "141704"}]},
                         "authoredOn": "2026-03-02", "statusReason": REASON_CODED})
        read = case_from_bundle(bundle, on=ON)
        assert [t.agent for t in read.not_tolerated] == [Agent.everolimus]

    @pytest.mark.parametrize("text", [
        "Disease progression noted on CT; non-adherent",
        "Disease progression noted on CT; nonadherence",
        "Progressive disease, patient non-compliant with medication",
        "Disease progression; not taking as prescribed",
        "Disease progression. Poor adherence.",
        "Disease progression after missed doses",
    ])
    def test_progression_beside_non_adherence_is_not_on_the_drug(self, text: str) -> None:
        """The drug was not taken as prescribed: whether the disease progressed on it is
        unknown (asked), never read as a progression on it."""
        stopped = {"resourceType": "MedicationStatement", "status": "stopped",
                   "statusReason": [{"text": text}]}
        assert progression_said(stopped) is Progression.unclear

    def test_plain_progression_is_still_clear(self) -> None:
        stopped = {"resourceType": "MedicationStatement", "status": "stopped",
                   "statusReason": [{"text": "Disease progression noted on CT"}]}
        assert progression_said(stopped) is Progression.clear

    def test_the_note_says_why(self) -> None:
        bundle = record({"resourceType": "MedicationStatement", "id": "ev1",
                         "status": "stopped", "subject": {"reference": "Patient/pat-1003"},
                         "medicationCodeableConcept": {"coding": [
                             {"system": RXNORM, "code": "141704"}]},
                         "effectivePeriod": {"start": "2026-03-02", "end": "2026-09-01"},
                         "statusReason": [{"text": "Disease progression noted on CT; "
                                                   "non-adherent"}]})
        read = case_from_bundle(bundle, on=ON)
        [line] = read.case.systemic.therapies
        assert line.progressed is YesNo.unknown  # asked, never "yes"
        notes = " ".join(read.notes)
        assert "not taken as prescribed" in notes and "non-adherent" in notes


class TestDoxWithADose:
    @pytest.mark.parametrize("text", ["Dox 75 mg/m2", "DOX 60 mg/m²", "dox 75mg/m2 IV q21d",
                                      "Doxo 75 mg/m2"])
    def test_dox_with_a_dose_per_body_surface_is_doxorubicin(self, text: str) -> None:
        assert agents_named({"text": text}) == {Agent.doxorubicin}

    @pytest.mark.parametrize("text", ["Dox 100 mg PO BID x 14 days", "Doxycycline 100 mg",
                                      "Doxazosin 4 mg", "Doxycycline 100 mg/m2",
                                      "Doxycycline (Dox) 100 mg"])
    def test_other_drugs_are_no_match(self, text: str) -> None:
        """Doxycycline's short form with its dose in mg, and the names holding 'dox'."""
        assert Agent.doxorubicin not in agents_named({"text": text})

    def test_the_draft_gets_the_doxorubicin_card(self, client: TestClient) -> None:
        cards = order_select(client, record(), {"text": "Dox 75 mg/m2"})
        summaries = [c["summary"] for c in cards]
        assert [s for s in summaries if s.startswith(FIRST_LINE)]
        assert NOT_IDENTIFIED_FIRST not in summaries
        assert proposed(cards)
