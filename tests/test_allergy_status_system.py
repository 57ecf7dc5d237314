"""An allergy's status is read only in the code system FHIR R4 binds it to.

FHIR R4 binds AllergyIntolerance.verificationStatus (required) to
http://terminology.hl7.org/CodeSystem/allergyintolerance-verification and clinicalStatus
to .../allergyintolerance-clinical. A code spelled ``refuted``, ``entered-in-error``,
``inactive`` or ``resolved`` in another code system (a local one whose "refuted" is
displayed "Pending review", a Condition's system copied by mistake) or in none is not
that status: pecoma cannot tell what it means. Each had set a sirolimus allergy aside
without a word, and the order-select card proposed sirolimus, pre-selected, in place of a
doxorubicin draft. Expected (docs/fhir.md, docs/cds-hooks.md; the project's rule: never
propose a drug with a recorded or unreadable intolerance): the entry is counted (the
safer reading) and named, field and value, among the readings to check. A problem-list
Condition naming an allergy to sirolimus is read the same way under its own system.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.fhir.allergies import condition_intolerance, read_allergy
from pecoma.fhir.reader import case_from_bundle

from allergy_support import (
    DOXORUBICIN,
    ON,
    PATIENT,
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
)

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.1"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("status-system"))


def status(system: str | None, code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"code": code}
    if system is not None:
        coding["system"] = system
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


#: A sirolimus allergy whose status is coded outside its code system: (entry, the field,
#: the code that must not be read as FHIR's).
NOT_FHIR_STATUSES = [
    pytest.param("verificationStatus", status(LOCAL, "refuted", "Pending review"),
                 "refuted", id="refuted-local-system"),
    pytest.param("verificationStatus", status(CONDITION_VERIFICATION, "refuted"),
                 "refuted", id="refuted-condition-system"),
    pytest.param("verificationStatus", status(None, "refuted"), "refuted",
                 id="refuted-no-system"),
    pytest.param("verificationStatus", status(LOCAL, "entered-in-error"),
                 "entered-in-error", id="entered-in-error-local-system"),
    pytest.param("clinicalStatus", status("http://other", "inactive"), "inactive",
                 id="inactive-other-system"),
    pytest.param("clinicalStatus", status(None, "resolved"), "resolved",
                 id="resolved-no-system"),
]


def sirolimus_allergy(field: str, value: dict[str, Any]) -> dict[str, Any]:
    return allergy(code={"text": "Sirolimus"}, **{field: value})


class TestReadAllergy:
    @pytest.mark.parametrize(("field", "value", "code"), NOT_FHIR_STATUSES)
    def test_the_entry_is_counted_and_the_status_named(
            self, field: str, value: dict[str, Any], code: str) -> None:
        """Not FHIR's status: not left aside; the sirolimus intolerance stands, and the
        note names the field and the code not read."""
        got = read_allergy(sirolimus_allergy(field, value))
        assert got.left_aside is None
        assert got.agents == frozenset({Agent.sirolimus})
        assert got.doubt is not None
        assert got.doubt.startswith(f"its {field} holds '{code}' ")
        assert f"not read as '{code}'; the entry is counted (the safer reading)" in got.doubt

    def test_a_problem_list_allergy_refuted_under_another_system_counts(self) -> None:
        """A Condition "Allergy to sirolimus" whose verificationStatus is 'refuted' in a
        local system (not condition-ver-status) had been dropped: it is an intolerance of
        sirolimus, with the note."""
        condition = {
            "resourceType": "Condition", "id": "c9",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "verificationStatus": status(LOCAL, "refuted"),
            "code": {"coding": [{"system": SNOMED, "code": "294630006",
                                 "display": "Allergy to sirolimus"}]}}
        got = condition_intolerance(condition)
        assert got is not None
        assert got.agents == frozenset({Agent.sirolimus})
        assert got.doubt is not None and "not read as 'refuted'" in got.doubt


class TestToCase:
    @pytest.mark.parametrize(("field", "value", "code"), NOT_FHIR_STATUSES)
    def test_the_case_keeps_the_intolerance_with_a_note(
            self, field: str, value: dict[str, Any], code: str) -> None:
        bc = case_from_bundle(record(sirolimus_allergy(field, value)), on=ON)
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.sirolimus]
        assert any(n.startswith(f"AllergyIntolerance/a1: its {field} holds '{code}'")
                   for n in bc.notes)


class TestCdsServices:
    @pytest.mark.parametrize(("field", "value", "code"), NOT_FHIR_STATUSES)
    def test_no_mtor_inhibitor_is_proposed_beside_a_doxorubicin_draft(
            self, client: TestClient, field: str, value: dict[str, Any], code: str) -> None:
        """The finding's reproducer and its class: the warning "Chemotherapy first line
        ... Replace with an mTOR inhibitor (here sirolimus)" pre-selected had answered.
        With sirolimus not tolerated an anthracycline is the guideline's option (S14): no
        card, and above all no mTOR-inhibitor proposal."""
        cards = order_select(client, record(sirolimus_allergy(field, value)), DOXORUBICIN)
        assert not proposed(cards)
        assert not any("mTOR inhibitor first" in c["summary"] for c in cards)

    @pytest.mark.parametrize(("field", "value", "code"), NOT_FHIR_STATUSES[:3])
    def test_a_sirolimus_draft_is_critical(
            self, client: TestClient, field: str, value: dict[str, Any], code: str) -> None:
        cards = order_select(client, record(sirolimus_allergy(field, value)), SIROLIMUS)
        assert critical(cards) == ["Draft order of sirolimus: the record lists an allergy "
                                   "or intolerance to sirolimus"]

    def test_patient_view_does_not_advise_the_mtor_inhibitor(
            self, client: TestClient) -> None:
        """The summary had said "An mTOR inhibitor is the first-line systemic treatment"
        with no word of the entry."""
        entry = sirolimus_allergy("verificationStatus",
                                  status(LOCAL, "refuted", "Pending review"))
        summary, *rest = patient_view(client, record(entry))
        assert "An mTOR inhibitor is the first-line" not in summary["summary"]
        assert "its verificationStatus holds 'refuted'" in details([summary, *rest])


class TestStatusInWordsOnly:
    @pytest.mark.parametrize("value", [
        pytest.param({"text": "Refuted"}, id="text"),
        pytest.param({"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
            "display": "Refuted"}]}, id="display-only")])
    def test_the_intolerance_stands_and_the_words_are_named(
            self, value: dict[str, Any]) -> None:
        """A sirolimus allergy whose verificationStatus is 'Refuted' in words only (no
        code): never read by its words, the entry is counted (the safer reading: no
        sirolimus proposed), and, where it had said nothing, a note names the field and
        the words."""
        bc = case_from_bundle(record(sirolimus_allergy("verificationStatus", value)), on=ON)
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.sirolimus]
        assert any(n.startswith("AllergyIntolerance/a1: its verificationStatus holds no "
                                "code, only the words 'Refuted'") for n in bc.notes), bc.notes


class TestAnEpirubicinDraftCodedOnly:
    def test_an_epirubicin_allergy_makes_the_coded_draft_critical(
            self, client: TestClient) -> None:
        """A draft order coded only by epirubicin's RxNorm ingredient code (3995, no
        text) beside an allergy to epirubicin: the critical card, as for a draft written
        'epirubicin' (it had been 'not identified: check it against the allergy list')."""
        draft = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                             "code": "3995"}]}
        cards = order_select(client, record(allergy(code={"text": "Epirubicin"})), draft)
        assert any(s.startswith("Draft order of epirubicin: the record lists an allergy")
                   for s in critical(cards)), [c["summary"] for c in cards]
