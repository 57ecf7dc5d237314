"""CDS Hooks safety: unknown stays unknown, no drug proposed against the allergy list,
orders recognised however the EHR names the drug.

Expected outputs are clinical facts: the patient of ``metastatic-lung-metachronous`` has
metastatic PEComa, no systemic line yet, mTOR inhibitors recorded available and not
contraindicated; so conventional chemotherapy drafted as the first line gets a warning
(S13, S14), and an mTOR-inhibitor order may be proposed only if the allergy list was read
and allows it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.medications import ATC
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import (
    example,
    fhir_server,
    hook_request,
    patient_id,
    prefetch_of,
    with_statement,
)

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('safety') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergy(code: dict[str, Any], category: str | None = "medication",
            status: str = "active") -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "AllergyIntolerance", "id": f"a-{abs(hash(str(code))) % 10_000}",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": status}]},
        "code": code, "patient": {"reference": "Patient/pat-1003"}}
    if category:
        res["category"] = [category]
    return res


def order(prefetch_change: Any = None, **medication: Any) -> dict[str, Any]:
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"}}
    extra_entries = medication.pop("entries", [])
    draft.update(medication)
    prefetch = prefetch_of(bundle)
    if prefetch_change is not None:
        prefetch_change(prefetch)
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}, *extra_entries]}})
    return body


def view(prefetch_change: Any = None) -> dict[str, Any]:
    """A patient-view call for the example's patient, its prefetch changed first."""
    bundle = example(PATIENT)
    prefetch = prefetch_of(bundle)
    if prefetch_change is not None:
        prefetch_change(prefetch)
    return hook_request("patient-view", patient_id(bundle), prefetch=prefetch)


def cards_of(client: TestClient, body: dict[str, Any], service: str = ORDER_SELECT) -> Any:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    return r.json()["cards"]


def only_the_pecoma(prefetch: dict[str, Any]) -> None:
    """The record reduced to the PEComa Condition: no Observation, no metastasis, so no
    disease status (the reader refuses to guess one)."""
    prefetch["observations"] = {"resourceType": "Bundle", "type": "searchset", "total": 0}
    kept = [e for e in prefetch["conditions"]["entry"]
            if e["resource"]["id"] == "pecoma-diagnosis"]
    prefetch["conditions"] = {"resourceType": "Bundle", "type": "searchset", "total": 1,
                              "entry": kept}


DOXORUBICIN = {"medicationCodeableConcept": {"text": "doxorubicin 75 mg/m2"}}
CLASS = "allergy or intolerance to the mTOR-inhibitor class"
#: The warning of a draft order that could not be checked against an allergy list not read.
NOT_AVAILABLE = "could not be checked: the allergy list was not available"


def first_line_card(cards: list[dict[str, Any]]) -> dict[str, Any]:
    """The first-line card of the doxorubicin draft when the allergy list could not be
    read, checking the one other card beside it: the warning that the draft itself could
    not be checked against that list (the list not read is never a list ruling nothing
    out)."""
    [card] = [c for c in cards if "first line for advanced PEComa" in c["summary"]]
    [unchecked] = [c for c in cards if c is not card]
    assert unchecked["summary"] == f"Draft order of doxorubicin {NOT_AVAILABLE}"
    assert unchecked["indicator"] == "warning" and "suggestions" not in unchecked
    return card


class TestAllergyListDecidesTheProposal:
    def test_read_and_clear_the_mtor_order_is_proposed(self, client: TestClient) -> None:
        [card] = cards_of(client, order(**DOXORUBICIN))
        assert card["suggestions"][0]["label"].startswith("Replace with an mTOR inhibitor")

    @pytest.mark.parametrize("unreadable", [
        None,
        {"resourceType": "OperationOutcome",
         "issue": [{"severity": "error", "code": "exception"}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "fatal", "code": "timeout"}]}}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [],  # page 1 of more
         "link": [{"relation": "next", "url": "https://ehr.example/fhir/x?page=2"}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            # a warning that some entries were suppressed: the list is not whole
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "warning", "code": "incomplete"}]}}]},
        "absent",
    ])
    def test_unreadable_allergies_withhold_the_proposal(self, client: TestClient,
                                                         unreadable: Any) -> None:
        """Allergies null, an OperationOutcome, a failed search, only a first page, or not
        sent at all (no fhirServer): the warning stays, no order is proposed, and the card
        says why."""
        def change(prefetch: dict[str, Any]) -> None:
            if unreadable == "absent":
                del prefetch["allergies"]
            else:
                prefetch["allergies"] = copy.deepcopy(unreadable)

        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert card["indicator"] == "warning"
        assert "suggestions" not in card
        assert "No mTOR-inhibitor order is proposed" in card["detail"]
        assert "allergies and intolerances could not be read" in card["detail"]
        # and the recorded "not contraindicated" is not relied upon: the question is asked
        assert "systemic.mtor_inhibitor_contraindicated" in card["detail"]

    @pytest.mark.parametrize("incomplete", [
        # the server found 2 allergies and sent none, with no further page
        {"resourceType": "Bundle", "type": "searchset", "total": 2},
        {"resourceType": "Bundle", "type": "searchset", "total": 2, "entry": [
            {"resource": {"resourceType": "AllergyIntolerance", "id": "a-1",
                          "code": {"text": "Penicillin"}, "category": ["medication"],
                          "patient": {"reference": "Patient/pat-1003"}},
             "search": {"mode": "match"}}]},
        # an outcome entry saying entries were suppressed or not searched, as a warning
        # or as information (FHIR IssueType suppressed, too-costly)
        {"resourceType": "Bundle", "type": "searchset", "entry": [{
            "resource": {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "warning", "code": "suppressed"}]},
            "search": {"mode": "outcome"}}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{
            "resource": {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "information", "code": "too-costly"}]},
            "search": {"mode": "outcome"}}]},
        # entries withheld from this user (IssueType security, forbidden), as a warning:
        # an allergy the clinician may not see can still rule the drug out
        {"resourceType": "Bundle", "type": "searchset", "entry": [{
            "resource": {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "warning", "code": "security",
                                    "diagnostics": "Some results were filtered"}]},
            "search": {"mode": "outcome"}}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{
            "resource": {"resourceType": "OperationOutcome",
                         "issue": [{"severity": "information", "code": "forbidden"}]},
            "search": {"mode": "outcome"}}]},
    ])
    def test_an_allergy_search_the_ehr_says_is_incomplete_withholds_the_proposal(
            self, client: TestClient, incomplete: Any) -> None:
        """A search whose total is larger than the allergies it holds (and no next page),
        or whose OperationOutcome says entries were suppressed or too costly to return
        (whatever the severity), is not the whole allergy list: an allergy to sirolimus
        may be among those left out, so no mTOR-inhibitor order is proposed and the card
        says the allergies could not be read."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = copy.deepcopy(incomplete)

        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert "suggestions" not in card
        assert "No mTOR-inhibitor order is proposed" in card["detail"]
        assert "allergies and intolerances could not be read" in card["detail"]

    @pytest.mark.parametrize("malformed", [
        # a match whose resource was left out (masked by the EHR, say)
        {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"fullUrl": "https://ehr.example/fhir/AllergyIntolerance/9",
             "search": {"mode": "match"}}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": None}]},
        {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": {"id": "9", "code": {"text": "Sirolimus"}}}]},  # no resourceType
        {"resourceType": "Bundle", "type": "searchset", "entry": {"resource": {
            "resourceType": "AllergyIntolerance", "id": "9", "code": {"text": "Sirolimus"},
            "patient": {"reference": "Patient/pat-1003"}}}},  # entry not a list
    ])
    def test_an_allergy_search_with_an_entry_not_read_withholds_the_proposal(
            self, client: TestClient, malformed: Any) -> None:
        """An allergy search result holding an entry pecoma cannot read as a resource had
        been read as an empty list: the sirolimus draft was proposed though the entry
        left out may be an allergy to sirolimus. The part is unknown, saying why."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = copy.deepcopy(malformed)

        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert "suggestions" not in card
        assert "allergies and intolerances could not be read" in card["detail"]
        assert ("an entry that holds no FHIR resource" in card["detail"]
                or "'entry' is not a list of entries" in card["detail"])

    @pytest.mark.parametrize("wrong", [
        {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": {
            "resourceType": "Condition", "id": "c9", "code": {"text": "Hypertension"},
            "subject": {"reference": "Patient/pat-1003"}}}]},
        "the Patient",
    ])
    def test_an_answer_to_another_query_is_no_allergy_list(
            self, client: TestClient, wrong: Any) -> None:
        """The allergies key holding Conditions only, or the Patient (an EHR's prefetch
        keys wired to the wrong query) had been read as 'no allergy recorded': the
        sirolimus draft was proposed. It is no answer to the allergy search: unknown.
        (What it holds is read where it belongs: the Patient as the patient key sends it,
        one resource sent twice.)"""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = copy.deepcopy(
                prefetch["patient"] if wrong == "the Patient" else wrong)

        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert "suggestions" not in card
        assert "allergies and intolerances could not be read" in card["detail"]
        assert "no AllergyIntolerance" in card["detail"]

    @pytest.mark.parametrize("stated", [
        # a collection that states a total above its one entry (FHIR allows 'total' only
        # on a searchset or history: a search result sent under another type)
        {"resourceType": "Bundle", "type": "collection", "total": 5},
        # totals that are no count: how many the server found is unknown
        {"resourceType": "Bundle", "type": "searchset", "total": "3"},
        {"resourceType": "Bundle", "type": "searchset", "total": -1},
        {"resourceType": "Bundle", "type": "searchset", "total": 1.5},
        {"resourceType": "Bundle", "type": "searchset", "total": True},
    ])
    def test_an_allergy_list_whose_total_says_it_is_not_whole_withholds_the_proposal(
            self, client: TestClient, stated: dict[str, Any]) -> None:
        """One penicillin allergy, in a collection whose total says 5 were found, or
        under a total that is no count ("3", -1, 1.5, true): the total was read only on a
        searchset and only as a whole number, so the one entry was taken for the whole
        list and sirolimus proposed. An allergy to sirolimus may be among the rest:
        nothing is proposed, and the card says why."""
        penicillin = allergy({"text": "Penicillin"})

        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {**stated, "entry": [{"resource": penicillin}]}

        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert "suggestions" not in card
        assert "allergies and intolerances could not be read" in card["detail"]
        assert ("entries were left out" in card["detail"]
                or "'total' is not a count of matches" in card["detail"])

    def test_an_included_medication_sent_without_its_mode_is_no_match(
            self, client: TestClient) -> None:
        """A MedicationRequest search with total 2 holding one MedicationRequest and the
        Medication it names, neither entry with a search mode: the Medication was counted
        as the second match, so the order search was taken as whole and sirolimus
        proposed, though a second order (perhaps an mTOR inhibitor) was left out. Without
        a mode only the type searched for counts: 1 of 2, the history is not fully known
        and nothing is proposed. With total 1 the same entries are the whole result."""
        request = {"resourceType": "MedicationRequest", "id": "mr-1", "status": "completed",
                   "intent": "order", "subject": {"reference": "Patient/pat-1003"},
                   "medicationReference": {"reference": "Medication/m-1"},
                   "authoredOn": "2025-01-01"}
        medication = {"resourceType": "Medication", "id": "m-1",
                      "code": {"text": "ondansetron 8 mg tablet"}}

        def sent(total: int) -> Any:
            def change(prefetch: dict[str, Any]) -> None:
                prefetch["medication_requests"] = {
                    "resourceType": "Bundle", "type": "searchset", "total": total,
                    "entry": [{"resource": request}, {"resource": medication}]}
            return change

        [card] = cards_of(client, order(sent(2), **DOXORUBICIN))
        assert "suggestions" not in card
        assert "the search found 2 but sent 1" in card["detail"]
        assert card["summary"].startswith("Chemotherapy, perhaps first line")
        [whole] = cards_of(client, order(sent(1), **DOXORUBICIN))
        assert whole["summary"].startswith("Chemotherapy first line")
        assert whole["suggestions"][0]["label"].startswith("Replace with an mTOR inhibitor")

    def test_a_medication_search_the_ehr_says_is_incomplete_withholds_the_proposal(
            self, client: TestClient) -> None:
        """The same rule for every part of the record: a medication search whose total
        is larger than what it holds leaves the lines already given not fully known (an
        mTOR inhibitor may already have been given), so nothing is proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medications"]["total"] = len(prefetch["medications"]["entry"]) + 1

        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert "suggestions" not in card
        assert "lines of systemic therapy already given are not fully known" in card["detail"]

    @pytest.mark.parametrize(("code", "category"), [
        ({"coding": [{"system": "http://snomed.info/sct", "code": "409137002",
                      "display": "No known drug allergy"}]}, "medication"),
        ({"coding": [{"system": "http://snomed.info/sct", "code": "716186003",
                      "display": "No known allergy"}]}, None),
        ({"coding": [{"system": "http://snomed.info/sct", "code": "428607008"}]}, None),
        ({"coding": [{"system": "http://snomed.info/sct", "code": "429625007"}]}, "food"),
    ])
    def test_no_known_allergy_is_no_allergy(self, client: TestClient, code: dict[str, Any],
                                            category: str | None) -> None:
        """An entry coded SNOMED CT 'No known drug allergy' / 'No known allergy' (US Core
        AllergyIntolerance: how an EHR records that there is none) says the patient has no
        allergy: it is no drug allergy pecoma cannot identify, so the mTOR-inhibitor order
        is still proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(code, category)})

        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert card["suggestions"][0]["label"].startswith("Replace with an mTOR inhibitor")
        assert "could not be matched to a drug" not in card["detail"]

    @pytest.mark.parametrize("code", [
        {"coding": [{"system": RXNORM, "code": "35302"}]},          # sirolimus, RxNorm only
        {"coding": [{"system": RXNORM, "code": "258355"}]},         # Rapamune (brand)
        {"text": "Sirolimus"},
        {"coding": [{"system": RXNORM, "code": "141704", "display": "everolimus"}]},
    ])
    def test_recorded_mtor_intolerance_never_gets_an_mtor_proposal(
        self, client: TestClient, code: dict[str, Any]
    ) -> None:
        """An intolerance to sirolimus (or another mTOR inhibitor) however coded: the
        mTOR inhibitor is contraindicated, chemotherapy first is what the guideline then
        says (S14): no card proposes sirolimus."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(code)})

        for card in cards_of(client, order(change, **DOXORUBICIN)):
            assert "suggestions" not in card

    @pytest.mark.parametrize(("allergic_to", "draft", "says"), [
        ({"coding": [{"system": RXNORM, "code": "35302"}]},  # sirolimus
         {"medicationCodeableConcept": {"text": "sirolimus 2 mg"}},
         "allergy or intolerance to sirolimus"),
        ({"text": "Sirolimus"}, {"medicationCodeableConcept": {"text": "everolimus 10 mg"}},
         "allergy or intolerance to an mTOR inhibitor (sirolimus)"),
        ({"text": "Doxorubicin"}, DOXORUBICIN, "allergy or intolerance to doxorubicin"),
        ({"text": "Ifosfamide"},
         {"medicationCodeableConcept": {"text": "epirubicin and ifosfamide"}},
         "ifosfamide, which epirubicin ifosfamide contains"),
        ({"text": "Epirubicin"},
         {"medicationCodeableConcept": {"text": "epirubicin and ifosfamide"}},
         "epirubicin, which epirubicin ifosfamide contains"),
    ])
    def test_a_draft_of_a_drug_the_allergy_list_rules_out_gets_a_critical_card(
        self, client: TestClient, allergic_to: dict[str, Any], draft: dict[str, Any],
        says: str,
    ) -> None:
        """An order of sirolimus for a patient with a recorded sirolimus allergy got no
        card at all (order-select looked only at chemotherapy drafts), nor one of
        epirubicin with ifosfamide beside an ifosfamide allergy."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(allergic_to)})

        critical = [c for c in cards_of(client, order(change, **draft))
                    if c["indicator"] == "critical"]
        assert len(critical) == 1 and says in critical[0]["summary"] + critical[0]["detail"]
        assert "suggestions" not in critical[0]

    @pytest.mark.parametrize(("allergic_to", "says"), [
        ({"coding": [{"system": ATC, "code": "L01EG"}]}, CLASS),  # mTOR kinase inhibitors
        ({"coding": [{"system": ATC, "code": "L01EG03"}]}, CLASS),  # ridaforolimus
        ({"coding": [{"system": ATC, "code": "L01EG04"}]},  # sirolimus for cancer
         "allergy or intolerance to nab_sirolimus"),
        ({"text": "Ridaforolimus"}, CLASS),
        ({"text": "mTOR inhibitors"}, CLASS),
    ])
    def test_an_allergy_to_the_mtor_class_by_atc_or_name_rules_out_sirolimus(
        self, client: TestClient, allergic_to: dict[str, Any], says: str
    ) -> None:
        """An allergy coded with the ATC group of mTOR inhibitors (L01EG) had been read as
        'another antineoplastic', an identified drug that is not sirolimus: the doxorubicin
        card then proposed a sirolimus draft. One mTOR inhibitor ruled out rules out all."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(allergic_to)})

        for card in cards_of(client, order(change, **DOXORUBICIN)):
            assert "suggestions" not in card
        [card] = cards_of(client, order(change, medicationCodeableConcept={
            "coding": [{"system": ATC, "code": "L01EG04"}]}))
        assert card["indicator"] == "critical"
        assert says in card["summary"]

    def test_an_allergy_to_one_cytotoxic_rules_out_no_other(self, client: TestClient
                                                            ) -> None:
        """Vincristine and etoposide are both 'other chemotherapy' to the case format: an
        allergy to vincristine had ruled out 'other_chemotherapy', so an etoposide draft
        got a false critical card. It gets the first-line warning only."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Vincristine"})})

        cards = cards_of(client, order(change, medicationCodeableConcept={"text": "etoposide"}))
        assert [c["indicator"] for c in cards] == ["warning"]

    def test_the_allergy_card_survives_a_record_the_engine_refuses(
        self, client: TestClient
    ) -> None:
        """A doxorubicin draft for a patient allergic to doxorubicin, in a record whose
        diagnosis is dated after today (the engine refuses the case): the critical
        allergy card had been thrown away with the first-line check, leaving only the
        record's error card. The allergy check does not rest on the case."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Doxorubicin"})})
            for entry in prefetch["conditions"]["entry"]:
                for key in ("onsetDateTime", "recordedDate"):
                    if key in entry["resource"]:
                        entry["resource"][key] = "2027-05-01"

        cards = cards_of(client, order(change, **DOXORUBICIN))
        assert sorted(c["indicator"] for c in cards) == ["critical", "warning"]
        [critical] = [c for c in cards if c["indicator"] == "critical"]
        assert "allergy or intolerance to doxorubicin" in critical["summary"]

    def test_the_allergy_card_does_not_wait_for_a_complete_case(
        self, client: TestClient
    ) -> None:
        """A PEComa patient whose record gives no disease status (no status Observation,
        no metastasis Condition: common in an EHR's record) cannot be assessed, so the
        reader refuses the record; a sirolimus draft for that patient, allergic to
        everolimus, got no card at all. The allergy check does not rest on the case: the
        critical card is given (and the doxorubicin draft gets the record's error card
        and, with a doxorubicin allergy, the critical card too)."""
        def minimal(allergic_to: str) -> Any:
            def change(prefetch: dict[str, Any]) -> None:
                only_the_pecoma(prefetch)
                prefetch["allergies"]["entry"].append(
                    {"resource": allergy({"text": allergic_to})})
            return change

        [card] = cards_of(client, order(minimal("Everolimus"), medicationCodeableConcept={
            "text": "sirolimus 2 mg"}))
        assert card["indicator"] == "critical"
        assert "allergy or intolerance to an mTOR inhibitor (everolimus)" in card["summary"]
        cards = cards_of(client, order(minimal("Doxorubicin"), **DOXORUBICIN))
        assert sorted(c["indicator"] for c in cards) == ["critical", "warning"]
        [warning] = [c for c in cards if c["indicator"] == "warning"]
        assert "stage.status" in warning["detail"]  # the record's own problem, said

    def test_no_allergy_card_from_another_patient_s_allergies(self, client: TestClient
                                                              ) -> None:
        """The same refused record, its allergy entry naming another patient: whose
        allergy it is cannot be trusted, so no allergy card is given from it."""
        def change(prefetch: dict[str, Any]) -> None:
            only_the_pecoma(prefetch)
            entry = allergy({"text": "Everolimus"})
            entry["patient"] = {"reference": "Patient/someone-else"}
            prefetch["allergies"]["entry"].append({"resource": entry})

        cards = cards_of(client, order(change, medicationCodeableConcept={
            "text": "sirolimus 2 mg"}))
        assert not any(c["indicator"] == "critical" for c in cards)

    def test_two_versions_of_one_allergy_entry_are_not_resolved_by_order(
        self, client: TestClient
    ) -> None:
        """AllergyIntolerance/a1 sent twice, once resolved and once active (two versions
        of the entry, pages that overlap): the services kept the first one they met, so
        the sirolimus draft was proposed, and a sirolimus order got no card, while
        to-case refuses such a bundle. Which one holds cannot be told: the record's card
        names the repeated id, nothing is proposed, and the active version still rules
        sirolimus out."""
        def versions(first: str, second: str) -> Any:
            def change(prefetch: dict[str, Any]) -> None:
                for status in (first, second):
                    entry = allergy({"text": "Sirolimus"}, status=status)
                    entry["id"] = "a1"
                    prefetch["allergies"]["entry"].append({"resource": entry})
            return change

        for first, second in (("resolved", "active"), ("active", "resolved")):
            cards = cards_of(client, order(versions(first, second), **DOXORUBICIN))
            assert not any("suggestions" in c for c in cards)
            assert any("AllergyIntolerance/a1" in c["detail"]
                       and "must not repeat an id with other content" in c["detail"]
                       for c in cards)
            [card] = [c for c in cards_of(client, order(versions(first, second),
                      medicationCodeableConcept={"text": "sirolimus"}))
                      if c["indicator"] == "critical"]
            assert "allergy or intolerance to sirolimus" in card["summary"]

    def test_the_allergy_card_cites_its_knowledge_record(self, client: TestClient) -> None:
        """The critical allergy card named no knowledge record: no topic, no *Why:* nor
        *Source:*, and no record id stored with it (its feedback tied to nothing). It
        carries ALERT-DRUG-INTOLERANCE: the project's rule I15 (the guideline says
        nothing of allergies) beside the statements naming the drugs it concerns (S13,
        S14, S15); so does the card of a draft pecoma cannot check against the list."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Doxorubicin"})})

        [critical] = [c for c in cards_of(client, order(change, **DOXORUBICIN))
                      if c["indicator"] == "critical"]
        assert critical["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
        assert "*Source:* guideline S13, S14, S15 · ref [1], [3] · interpretation I15" \
            in critical["detail"]
        assert "*Why:*" in critical["detail"]
        assert "allergy or intolerance to doxorubicin" in critical["summary"]

        def sirolimus_allergy(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Sirolimus"})})

        cards = cards_of(client, order(sirolimus_allergy, medicationCodeableConcept={
            "coding": [{"system": "urn:oid:2.16.840.1.113883.6.88", "code": "35302"}]}))
        [unchecked] = [c for c in cards if "allergy list" in c["summary"]]
        assert unchecked["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"
        assert "interpretation I15" in unchecked["detail"]

    def test_the_allergy_card_s_record_is_stored_with_it(self, tmp_path: Any) -> None:
        """What the card said is stored with its record ids (feedback and the board's
        concordance figures name them): the allergy card's were empty."""
        from sqlalchemy import create_engine, text

        url = f"sqlite:///{tmp_path / 'r.db'}"
        app = TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                    today=lambda: ON), base_url="http://localhost")

        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Doxorubicin"})})

        cards_of(app, order(change, **DOXORUBICIN))
        with create_engine(url).connect() as db:
            rows = db.execute(text("SELECT indicator, record_ids FROM cds_card")).all()
        assert any(ind == "critical" and "ALERT-DRUG-INTOLERANCE" in str(ids)
                   for ind, ids in rows)

    def test_a_draft_not_identified_is_checked_against_the_allergy_list(
        self, client: TestClient
    ) -> None:
        """A draft pecoma cannot identify (RxNorm sirolimus under the RxNorm OID), for a
        patient allergic to sirolimus: no card at all had been given (the 'not identified'
        warning only shows when chemotherapy would be a first line, and the allergy makes
        the mTOR inhibitor contraindicated). It may be the drug the list rules out."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Sirolimus"})})

        cards = cards_of(client, order(change, medicationCodeableConcept={"coding": [
            {"system": "urn:oid:2.16.840.1.113883.6.88", "code": "35302"}]}))
        [card] = [c for c in cards if "allergy list" in c["summary"]]
        assert card["indicator"] == "warning"
        assert "MedicationRequest/draft-1" in card["detail"] and "sirolimus" in card["detail"]
        assert "suggestions" not in card

    def test_the_draft_s_id_cannot_spell_markdown_on_the_card(self, client: TestClient
                                                              ) -> None:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Sirolimus"})})

        body = order(change, medicationCodeableConcept={"text": "sirolimus"})
        body["context"]["draftOrders"]["entry"][0]["resource"]["id"] = "x](https://evil.example)"
        body["context"]["selections"] = ["MedicationRequest/x](https://evil.example)"]
        [card] = cards_of(client, body)
        assert card["indicator"] == "critical"
        assert "x](" not in card["detail"] and "x\\](" in card["detail"]  # escaped

    def test_no_allergy_no_critical_card(self, client: TestClient) -> None:
        cards = cards_of(client, order(**{"medicationCodeableConcept": {"text": "sirolimus"}}))
        assert not any(c["indicator"] == "critical" for c in cards)

    def test_an_allergy_named_in_its_reaction_is_read(self, client: TestClient) -> None:
        """Coded 'Allergy to drug' with the drug in reaction.substance: the sirolimus
        allergy was missed, and a doxorubicin draft got 'an mTOR inhibitor first'. Read,
        the mTOR inhibitors are contraindicated: doxorubicin draws no warning (S14), and a
        sirolimus draft a critical card."""
        def change(prefetch: dict[str, Any]) -> None:
            res = allergy({"coding": [{"system": "http://snomed.info/sct",
                                       "code": "416098002", "display": "Allergy to drug"}]})
            res["reaction"] = [{"substance": {"coding": [{"system": RXNORM,
                                                           "code": "35302"}]},
                                "manifestation": [{"text": "anaphylaxis"}]}]
            prefetch["allergies"]["entry"].append({"resource": res})

        assert cards_of(client, order(change, **DOXORUBICIN)) == []
        [card] = cards_of(client, order(change, **{
            "medicationCodeableConcept": {"text": "sirolimus 2 mg"}}))
        assert card["indicator"] == "critical" and "to sirolimus" in card["summary"]

    def test_resolved_intolerance_does_not_count(self, client: TestClient) -> None:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append(
                {"resource": allergy({"text": "sirolimus"}, status="resolved")})

        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert card["suggestions"]

    def test_unidentified_drug_allergy_withholds(self, client: TestClient) -> None:
        """A drug allergy pecoma cannot match (could be a brand of sirolimus): withheld."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(
                {"coding": [{"system": RXNORM, "code": "999999"}]})})

        cards = cards_of(client, order(change, **DOXORUBICIN))
        [card] = [c for c in cards if "Chemotherapy first line" in c["summary"]]
        assert "suggestions" not in card
        assert "could not be matched to a drug" in card["detail"]
        # and the draft itself could not be checked against the entry (a card of its own)
        [unchecked] = [c for c in cards if "could not be checked" in c["summary"]]
        assert unchecked["indicator"] == "warning" and "suggestions" not in unchecked

    def test_an_mtor_draft_not_checked_says_the_rule_as_it_is(self, client: TestClient
                                                              ) -> None:
        """A sirolimus draft beside a drug allergy pecoma cannot identify: the warning
        says what such an entry could do by I15 as it is, an intolerance of one mTOR
        inhibitor ruling out every one unless the medication history shows another one
        tolerated (it had said every one, without the exception)."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(
                {"coding": [{"system": RXNORM, "code": "999999"}]})})

        cards = cards_of(client, order(change, **{
            "medicationCodeableConcept": {"text": "sirolimus 2 mg"}}))
        [unchecked] = [c for c in cards if "could not be checked" in c["summary"]]
        assert ("an intolerance of one mTOR inhibitor rules out every one unless the "
                "medication history shows another one tolerated") in unchecked["detail"]

    @pytest.mark.parametrize("shape", ["one-resource", "bundle-without-type", "Next-link"])
    def test_an_allergy_list_that_may_not_be_whole_withholds(
            self, client: TestClient, shape: str) -> None:
        """The allergies prefetch sent as one AllergyIntolerance (penicillin) instead of
        the search Bundle, as a Bundle without its type, or with a paging link whose
        relation is written 'Next' (link relations are case-insensitive): each was read
        as the whole list, and sirolimus was proposed. None says the list is whole: the
        allergies are unknown and nothing is proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            listed = prefetch["allergies"]
            listed["entry"].append({"resource": allergy({"text": "Penicillin"})})
            if shape == "one-resource":
                prefetch["allergies"] = listed["entry"][-1]["resource"]
            elif shape == "bundle-without-type":
                del listed["type"]
            else:
                listed["link"] = [{"relation": "Next",
                                   "url": "https://ehr.example/fhir/AllergyIntolerance?p=2"}]

        cards = cards_of(client, order(change, **DOXORUBICIN))
        assert cards and not any("suggestions" in c for c in cards)

    @pytest.mark.parametrize("drug", ["sirolimus", "everolimus"])
    def test_a_contraindication_recorded_by_observation_rules_the_draft_out(
            self, client: TestClient, drug: str) -> None:
        """The record's mTOR-inhibitor contraindication recorded as the project's
        Observation (valueBoolean true), no allergy entry: patient-view and to-case read
        it (the anthracycline option instead), but a sirolimus or everolimus draft got no
        card at all: only AllergyIntolerance was checked. It rules every mTOR inhibitor
        out: a critical card naming where the record says so."""
        def change(prefetch: dict[str, Any]) -> None:
            for entry in prefetch["observations"]["entry"]:
                if entry["resource"]["id"] == "mtor-contraindicated":
                    entry["resource"]["valueBoolean"] = True

        [card] = cards_of(client, order(change, medicationCodeableConcept={"text": drug}))
        assert card["indicator"] == "critical"
        assert ("the record says mTOR inhibitors are contraindicated "
                "(Observation/mtor-contraindicated)") in card["summary"]

    def test_food_allergy_does_not_withhold(self, client: TestClient) -> None:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy(
                {"text": "peanut"}, category="food")})

        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert card["suggestions"]

    def test_patient_view_marks_the_mtor_recommendation_conditional(
        self, client: TestClient
    ) -> None:
        bundle = example(PATIENT)
        prefetch = prefetch_of(bundle)
        prefetch["allergies"] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["indicator"] == "warning"
        detail = head["detail"]
        at = detail.index("**An mTOR inhibitor is the first-line")
        assert "**Conditional:** the patient's allergies and intolerances could not be read" \
            in detail[at:]
        assert "the allergies and intolerances: the EHR sent no data" in detail


SIROLIMUS_ALLERGY = allergy({"coding": [{"system": RXNORM, "code": "35302"}]})
PENICILLIN_ALLERGY = allergy({"text": "Penicillin"})
ALLERGY_SEARCH = "/fhir/AllergyIntolerance?patient=pat-1003&_count=200"


def searchset(*resources: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset",
            "entry": [{"resource": r} for r in resources], **more}


class TestAllergiesReadFromTheFhirServer:
    """The allergies not sent (prefetch null) are read from the allow-listed fhirServer, a
    real server on loopback whose allergy search answers as each test says: what could
    not be read in full is unknown, and no mTOR-inhibitor order is proposed."""

    @staticmethod
    def cards(tmp_path: Any, answer: Any) -> tuple[list[dict[str, Any]], list[str]]:
        """The cards for the doxorubicin draft, the allergies read from a server whose
        allergy search ``answer(base, path)`` answers; and the paths it was asked."""
        body = order(lambda prefetch: prefetch.update(allergies=None), **DOXORUBICIN)
        with fhir_server(example(PATIENT), answer=answer) as (url, rec):
            body["fhirServer"] = url
            app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'r.db'}",
                                       cds=CdsSettings(fhir_servers=(url,))),
                             today=lambda: ON)
            cards = cards_of(TestClient(app, base_url="http://localhost"), body)
        return cards, [path for path, _auth in rec.requests]

    @staticmethod
    def two_pages(relation: str) -> Any:
        """Penicillin on page 1, sirolimus on page 2, linked with ``relation``."""
        def answer(base: str, path: str) -> tuple[int, Any]:
            if path.endswith("&_page=2"):
                return 200, searchset(SIROLIMUS_ALLERGY)
            return 200, searchset(PENICILLIN_ALLERGY, link=[
                {"relation": relation, "url": f"{base}{ALLERGY_SEARCH.removeprefix('/fhir')}"
                                              "&_page=2"}])
        return answer

    @pytest.mark.parametrize("relation", ["Next", "NEXT"])
    def test_a_second_page_linked_next_in_any_case_is_read(self, tmp_path: Any,
                                                           relation: str) -> None:
        """The sirolimus allergy on page 2, linked "Next": page 2 was never asked for, and
        the card proposed a sirolimus draft to a patient allergic to it. Read, it rules
        the mTOR inhibitor out: chemotherapy first is then what the guideline says."""
        cards, asked = self.cards(tmp_path, self.two_pages(relation))
        assert asked == [ALLERGY_SEARCH, ALLERGY_SEARCH + "&_page=2"]
        assert cards == []

    def test_a_second_page_linked_next_is_read(self, tmp_path: Any) -> None:
        """Control: the usual "next" spelling."""
        cards, asked = self.cards(tmp_path, self.two_pages("next"))
        assert asked == [ALLERGY_SEARCH, ALLERGY_SEARCH + "&_page=2"]
        assert cards == []

    @pytest.mark.parametrize("answer", [
        (204, b""), (200, b""), (200, None), (200, {}),
        (200, PENICILLIN_ALLERGY),  # one resource, not the search's Bundle
        (200, {"resourceType": "Bundle", "entry": [{"resource": PENICILLIN_ALLERGY}]}),
        # page 1 says 2 were found and links back to itself
        (200, searchset(PENICILLIN_ALLERGY, total=2, link=[
            {"relation": "next", "url": "SELF"}])),
        # a next link with no url
        (200, searchset(PENICILLIN_ALLERGY, link=[{"relation": "next",
                                                    "href": "http://x/y"}])),
    ], ids=["204", "empty-body", "null", "empty-object", "one-resource",
            "bundle-without-type", "next-to-itself", "next-without-url"])
    def test_an_allergy_list_not_read_in_full_withholds_the_proposal(
            self, tmp_path: Any, answer: tuple[int, Any]) -> None:
        """Each of these answers was read as the whole allergy list (no allergy, or only
        penicillin) and the card proposed a sirolimus draft: the allergy to sirolimus may
        be what the server did not send. The list could not be read: the card says so
        and proposes nothing."""
        def serve(base: str, path: str) -> tuple[int, Any]:
            status, data = answer
            if isinstance(data, dict) and data.get("link", [{}])[0].get("url") == "SELF":
                data = {**data, "link": [{"relation": "next", "url": base + path[5:]}]}
            return status, data

        cards, asked = self.cards(tmp_path, serve)
        card = first_line_card(cards)
        assert asked == [ALLERGY_SEARCH]
        assert "suggestions" not in card
        assert "No mTOR-inhibitor order is proposed" in card["detail"]
        assert "allergies and intolerances could not be read" in card["detail"]

    def test_an_allergy_list_read_in_full_allows_the_proposal(self, tmp_path: Any) -> None:
        """Control: a searchset holding only penicillin, read in full, lets the card
        propose the mTOR inhibitor (so the tests above withhold it for the answer's sake)."""
        [card], _asked = self.cards(tmp_path, lambda base, path: (
            200, searchset(PENICILLIN_ALLERGY, total=1)))
        assert card["suggestions"][0]["label"].startswith("Replace with an mTOR inhibitor")


class TestOrdersRecognised:
    """Doxorubicin named every way an EHR may: each draft gets the warning."""

    @pytest.mark.parametrize("medication", [
        {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "3639"}]}},
        {"medicationReference": {"reference": "#med"},
         "contained": [{"resourceType": "Medication", "id": "med",
                        "code": {"coding": [{"system": RXNORM, "code": "3639"}]}}]},
        {"medicationReference": {"reference": "Medication/m1"},
         "entries": [{"resource": {"resourceType": "Medication", "id": "m1",
                                   "code": {"coding": [{"system": RXNORM, "code": "3639"}]}}}]},
        {"medicationReference": {"reference": "Medication/m2", "display": "Doxorubicin"}},
    ])
    def test_doxorubicin_however_named(self, client: TestClient,
                                       medication: dict[str, Any]) -> None:
        [card] = cards_of(client, order(**medication))
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert "Draft order: doxorubicin." in card["detail"]

    @pytest.mark.parametrize("change", [
        {"doNotPerform": True},  # an order NOT to give doxorubicin
        {"status": "entered-in-error"},
        {"status": "cancelled"},
    ])
    def test_a_draft_that_gives_nothing_gets_no_card(self, client: TestClient,
                                                     change: dict[str, Any]) -> None:
        """A draft saying doxorubicin must not be given (doNotPerform), or one withdrawn
        (entered in error, cancelled), got 'chemotherapy first line' and a suggestion to
        delete it and draft sirolimus; a doNotPerform sirolimus draft beside a sirolimus
        allergy got a critical card. Nothing is to be given: no card."""
        assert cards_of(client, order(**DOXORUBICIN, **change)) == []

        def allergic(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Sirolimus"})})

        body = order(allergic, medicationCodeableConcept={"text": "sirolimus"}, **change)
        assert cards_of(client, body) == []

    def test_a_draft_naming_its_medication_by_urn_uuid(self, client: TestClient) -> None:
        """A draft whose medicationReference is the urn:uuid fullUrl of a Medication in the
        same draft Bundle (as EHRs write transaction bundles) got 'drug not identified'."""
        med = {"fullUrl": "urn:uuid:0b4f6c1e-2a33-4b8a-9d77-1f3c2d5e6a7b",
               "resource": {"resourceType": "Medication",
                            "code": {"coding": [{"system": RXNORM, "code": "3639"}]}}}
        [card] = cards_of(client, order(
            medicationReference={"reference": "urn:uuid:0b4f6c1e-2a33-4b8a-9d77-1f3c2d5e6a7b"},
            entries=[med]))
        assert "Draft order: doxorubicin." in card["detail"]

    @pytest.mark.parametrize("name", ["irinotecan 125 mg/m2", "Vincristine sulfate 1 MG/ML",
                                      "etoposide", "temozolomide 150 mg"])
    def test_other_cytotoxics_are_chemotherapy(self, client: TestClient, name: str) -> None:
        """Irinotecan and vincristine orders were read as 'not a systemic agent of the
        guideline': no card, though S13 puts mTOR inhibitors before all conventional
        chemotherapy."""
        [card] = cards_of(client, order(medicationCodeableConcept={"text": name}))
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"

    def test_unresolvable_reference_is_not_a_silent_no(self, client: TestClient) -> None:
        [card] = cards_of(client, order(medicationReference={"reference": "Medication/zz"}))
        assert card["indicator"] == "warning"
        assert "could not identify the drug of MedicationRequest/draft-1" in card["detail"]
        assert "suggestions" not in card

    def test_another_server_s_medication_is_not_the_one_held(self, client: TestClient
                                                            ) -> None:
        """A draft naming https://other-ehr.example/fhir/Medication/m1 beside a Medication
        m1 of this record (ondansetron, no PEComa drug) was read as ondansetron: no card,
        whatever the other server's m1 is (doxorubicin, say). Another server's id may be
        another drug: the draft is not identified, and says so."""
        ondansetron = {"resource": {"resourceType": "Medication", "id": "m1",
                                    "code": {"text": "ondansetron 8 MG Oral Tablet"}}}
        [card] = cards_of(client, order(
            medicationReference={"reference": "https://other-ehr.example/fhir/Medication/m1"},
            entries=[ondansetron]))
        assert card["indicator"] == "warning"
        assert "could not identify the drug of MedicationRequest/draft-1" in card["detail"]

    def test_reference_read_from_the_allowed_server(self, tmp_path: Any) -> None:
        """Medication/m9 sent by nobody: read from the allow-listed FHIR server (with the
        token), and the doxorubicin draft gets its warning."""
        import httpx

        seen: list[tuple[str, str | None]] = []

        def handler(request: httpx.Request) -> httpx.Response:
            seen.append((request.url.path, request.headers.get("authorization")))
            if request.url.path == "/fhir/Medication/m9":
                return httpx.Response(200, json={"resourceType": "Medication", "id": "m9",
                                                 "code": {"coding": [{"system": RXNORM,
                                                                      "code": "3639"}]}})
            return httpx.Response(404)

        app = create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'r.db'}",
            cds=CdsSettings(fhir_servers=("https://ehr.example.org/fhir",))),
            today=lambda: ON)
        app.state.cds.transport = httpx.MockTransport(handler)
        body = order(medicationReference={"reference": "Medication/m9"})
        body["fhirServer"] = "https://ehr.example.org/fhir"
        body["fhirAuthorization"] = {"access_token": "tok", "token_type": "Bearer",
                                     "expires_in": 300, "scope": "patient/*.read",
                                     "subject": "pecoma"}
        [card] = cards_of(TestClient(app, base_url="http://localhost"), body)
        assert "Draft order: doxorubicin." in card["detail"]
        assert seen == [("/fhir/Medication/m9", "Bearer tok")]

    def test_mtor_order_by_rxnorm_is_quiet(self, client: TestClient) -> None:
        body = order(medicationCodeableConcept={"coding": [{"system": RXNORM,
                                                            "code": "35302"}]})
        assert cards_of(client, body) == []


class TestThePatientOfTheCall:
    """Every card is about context.patientId: a prefetch that is another patient's record
    (an EHR that filled the prefetch for the wrong chart) gives no advice."""

    def test_a_record_of_another_patient_gives_no_advice(self, client: TestClient) -> None:
        """The prefetch is Patient/pat-1003's record, the call is for Patient/p-other: the
        summary card advised resecting pat-1003's lung metastases to the chart of
        p-other, and order-select proposed a sirolimus draft for p-other. The record is
        refused naming the mismatch; nothing is advised or proposed."""
        bundle = example(PATIENT)
        body = hook_request("patient-view", "p-other", prefetch=prefetch_of(bundle))
        cards = cards_of(client, body, PATIENT_VIEW)
        assert [c["indicator"] for c in cards] == ["warning"]
        assert "metastas" not in cards[0]["summary"]
        assert "Patient/p-other" in cards[0]["detail"]
        body = order(**DOXORUBICIN)
        body["context"]["patientId"] = "p-other"
        body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = {
            "reference": "Patient/p-other"}
        cards = cards_of(client, body)
        assert not any("suggestions" in c for c in cards)
        assert not any(c["source"].get("topic", {}).get("code") == "ALERT-CHEMO-BEFORE-MTOR"
                       for c in cards)

    def test_an_allergy_of_another_patient_gives_no_allergy_card(self, client: TestClient
                                                                  ) -> None:
        """The same mismatch, with an allergy to sirolimus in the other patient's record:
        no critical card for the sirolimus draft (it is not this patient's allergy)."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"]["entry"].append({"resource": allergy({"text": "Sirolimus"})})

        body = order(change, medicationCodeableConcept={"text": "sirolimus"})
        body["context"]["patientId"] = "p-other"
        body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = {
            "reference": "Patient/p-other"}
        assert not any(c["indicator"] == "critical" for c in cards_of(client, body))

    def test_a_draft_for_another_patient_is_refused(self, client: TestClient) -> None:
        """A selected draft whose subject is another patient than context.patientId: a 400
        naming the field, not a card (nor a replacement draft) for the wrong chart."""
        body = order(**DOXORUBICIN)
        body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = {
            "reference": "Patient/p-other"}
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400
        assert r.headers["content-type"].startswith("application/problem+json")
        assert any("draftOrders" in e["path"] and "subject" in e["path"]
                   for e in r.json()["errors"])


    MRN = "https://pecoma.example/fhir/NamingSystem/example-mrn"

    @staticmethod
    def sirolimus_allergy_of(patient: dict[str, Any]) -> Any:
        """A prefetch change: an active allergy to sirolimus whose patient is ``patient``."""
        def change(prefetch: dict[str, Any]) -> None:
            entry = allergy({"coding": [{"system": RXNORM, "code": "35302",
                                         "display": "sirolimus"}]})
            entry["patient"] = patient
            prefetch["allergies"]["entry"].append({"resource": entry})
        return change

    def test_an_identifier_of_another_patient_is_another_patient_s_data(
        self, client: TestClient
    ) -> None:
        """An allergy to sirolimus naming its patient by identifier only, with another
        MRN (PAT-7777) in the system of the Patient's MRN (PAT-1003): it was read as this
        patient's, and a sirolimus draft got a critical card from another patient's
        allergy. It is another patient's entry: the first card says so, nothing is
        assessed, and the MRN is not shown. On order-select the sirolimus draft is not
        cleared either: this patient's allergy list, holding another patient's entry, was
        not read as the patient's, so the draft could not be checked (the warning)."""
        change = self.sirolimus_allergy_of(
            {"identifier": {"system": self.MRN, "value": "PAT-7777"}})
        for body, service in (
                (order(change, medicationCodeableConcept={"text": "sirolimus"}), ORDER_SELECT),
                (hook_request("patient-view", "pat-1003", prefetch=prefetch_of(example(
                    PATIENT))), PATIENT_VIEW)):
            if service == PATIENT_VIEW:
                change(body["prefetch"])
            card, *rest = cards_of(client, body, service)
            assert card["summary"] == ("PEComa check not done: the record sent for this "
                                       "chart holds another patient's data")
            assert "AllergyIntolerance/" in card["detail"]
            assert "PAT-7777" not in card["detail"]
            assert [(c["indicator"], c["summary"]) for c in rest] == (
                [("warning", f"Draft order of sirolimus {NOT_AVAILABLE}")]
                if service == ORDER_SELECT else [])
            assert not any("PAT-7777" in c["detail"] for c in rest)

    def test_an_identifier_that_cannot_be_matched_withholds_the_proposal(
        self, client: TestClient
    ) -> None:
        """The same allergy identified in a system the Patient does not carry: whose it
        is cannot be told, so it is not read (no critical card from it) and the allergy
        list is not read in full: no mTOR-inhibitor draft is proposed, with the reason."""
        change = self.sirolimus_allergy_of(
            {"identifier": {"system": "urn:oid:1.2.3", "value": "PAT-7777"}})
        card = first_line_card(cards_of(client, order(change, **DOXORUBICIN)))
        assert "suggestions" not in card
        assert "No mTOR-inhibitor order is proposed" in card["detail"]
        assert "patient cannot be confirmed" in card["detail"]

    def test_a_wrong_patient_entry_is_not_called_a_missing_part(self, client: TestClient
                                                                ) -> None:
        """The patient prefetch null and an allergy entry of Patient/pat-2: the card said
        "PEComa check incomplete … Reopen the chart once they can be read", the other
        patient's entry one bullet among the parts missing. It says the record holds
        another patient's data."""
        prefetch = prefetch_of(example(PATIENT))
        prefetch["patient"] = None
        entry = allergy({"text": "penicillin"})
        entry["patient"] = {"reference": "Patient/pat-2"}
        prefetch["allergies"]["entry"].append({"resource": entry})
        [card] = cards_of(client, hook_request("patient-view", "pat-1003",
                                               prefetch=prefetch), PATIENT_VIEW)
        assert "another patient's data" in card["summary"]
        assert "Reopen the chart" not in card["detail"]
        assert "Patient/pat-2" in card["detail"]

    def test_urn_uuid_subjects_are_resolved_through_the_prefetch(self, client: TestClient
                                                                  ) -> None:
        """Every subject written as the urn:uuid under which a search included the
        Patient: the record was refused (21 problems) because the fullUrls were dropped,
        while to-case read the same bundle. The record is read: the lung metastases are
        to be resected (the example's headline)."""
        urn = "urn:uuid:7c2a3b7e-1f9a-4a3e-9d2b-3c5b0f1a2b3c"
        prefetch = prefetch_of(example(PATIENT))
        for value in prefetch.values():
            for entry in value.get("entry", []):
                for key in ("subject", "patient"):
                    if key in entry["resource"]:
                        entry["resource"][key] = {"reference": urn}
        prefetch["conditions"]["entry"].append(
            {"fullUrl": urn, "resource": copy.deepcopy(prefetch["patient"]),
             "search": {"mode": "include"}})
        [card] = cards_of(client, hook_request("patient-view", "pat-1003",
                                               prefetch=prefetch), PATIENT_VIEW)
        assert card["indicator"] == "info"
        assert "Resect the metachronous lung metastases" in card["summary"]

    def test_an_absolute_subject_is_the_patient_s_only_on_the_fhir_server(
        self, client: TestClient
    ) -> None:
        """The metastasis Condition's subject on https://other-ehr.example, another
        server than the call's fhirServer (the same id there may be another person): it
        was read. It is not; the card says the conditions were not read in full. On the
        call's own fhirServer it is read (the example's headline)."""
        prefetch = prefetch_of(example(PATIENT))
        for entry in prefetch["conditions"]["entry"]:
            if entry["resource"]["id"] == "metastasis-1":
                entry["resource"]["subject"] = {
                    "reference": "https://other-ehr.example/fhir/Patient/pat-1003"}
        for server, read in (("https://pecoma.example/fhir", False),
                             ("https://other-ehr.example/fhir", True)):
            body = hook_request("patient-view", "pat-1003", prefetch=prefetch,
                                fhirServer=server)
            [card] = cards_of(client, body, PATIENT_VIEW)
            assert ("Resect the metachronous lung metastases" in card["summary"]) is read
            assert ("Condition/metastasis-1" in card["detail"]) is not read

    @pytest.mark.parametrize("subject", [
        "Patient/p-other", [{"reference": "Patient/p-other"}], {"reference": 9},
        {"identifier": {"system": MRN, "value": "PAT-9"}}])
    def test_a_draft_subject_that_is_no_reference_or_another_patient_s_is_refused(
        self, client: TestClient, subject: Any
    ) -> None:
        """A selected draft whose subject is a string, a list, a Reference with a number,
        or an identifier of another MRN passed the "draft for another patient" check, and
        the card proposed a sirolimus draft for context.patientId: a 400 naming the
        field."""
        body = order(**DOXORUBICIN)
        body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = subject
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        [error] = r.json()["errors"]
        assert error["path"] == "context.draftOrders.entry[0].resource.subject"
        assert "PAT-9" not in r.text

    def test_a_draft_for_the_patient_by_urn_uuid_is_the_patient_s(self, client: TestClient
                                                                    ) -> None:
        """A selected draft whose subject is the urn:uuid fullUrl of a Patient entry
        (pat-1003) in draftOrders was a 400 "for another patient". It is the patient's:
        the doxorubicin draft gets the first-line warning."""
        urn = "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001"
        patient = next(e["resource"] for e in example(PATIENT)["entry"]
                       if e["resource"]["resourceType"] == "Patient")
        body = order(**DOXORUBICIN, entries=[{"fullUrl": urn, "resource": patient}])
        body["context"]["draftOrders"]["entry"][0]["resource"]["subject"] = {
            "reference": urn}
        [card] = cards_of(client, body)
        assert card["summary"].startswith("Chemotherapy first line for advanced PEComa")

    def test_one_full_url_for_two_draft_medications_refuses_the_call(
            self, client: TestClient) -> None:
        """The selected draft names its Medication by urn:uuid, and draftOrders holds two
        different Medications under that fullUrl (ondansetron, then doxorubicin): the
        last was taken, with no word that the other could be meant. A 400 naming the
        entry; the same Medication twice is read (the doxorubicin warning)."""
        urn = "urn:uuid:bbbbbbbb-0000-4000-8000-000000000002"
        dox = {"resourceType": "Medication",
               "code": {"coding": [{"system": RXNORM, "code": "3639"}]}}
        ondansetron = {"resourceType": "Medication", "code": {"text": "ondansetron 8 mg"}}
        same = order(medicationReference={"reference": urn},
                     entries=[{"fullUrl": urn, "resource": dox},
                              {"fullUrl": urn, "resource": copy.deepcopy(dox)}])
        [card] = cards_of(client, same)
        assert "Draft order: doxorubicin." in card["detail"]
        body = order(medicationReference={"reference": urn},
                     entries=[{"fullUrl": urn, "resource": ondansetron},
                              {"fullUrl": urn, "resource": dox}])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        [error] = r.json()["errors"]
        assert error["path"] == "context.draftOrders.entry[2].fullUrl"
        assert "entry[1] is another resource under it" in error["rule"]

    def test_an_unselected_draft_for_another_patient_refuses_the_call(
        self, client: TestClient
    ) -> None:
        """An unselected sirolimus draft for Patient/p-other beside the selected
        doxorubicin draft: it counted as "the order set already holds an mTOR-inhibitor
        order" and the card proposed nothing. draftOrders are the current patient's
        ordering session (CDS Hooks 2.0.1 order-select): a draft for someone else makes
        the call a 400 naming it, as a selected one does."""
        other = {"resourceType": "MedicationRequest", "id": "draft-2", "status": "draft",
                 "intent": "order", "subject": {"reference": "Patient/p-other"},
                 "medicationCodeableConcept": {"text": "sirolimus 2 mg"}}
        body = order(**DOXORUBICIN, entries=[{"resource": other}])
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400, r.text
        assert [e["path"] for e in r.json()["errors"]] == [
            "context.draftOrders.entry[1].resource.subject"]


class TestRecordsAsEhrsSendThem:
    def test_an_order_starting_after_today_is_planned_not_a_line(self, client: TestClient
                                                                 ) -> None:
        """An active sirolimus order placed today to start on 2027-01-15 (after the
        service's today, 2026-11-28): the services read it as a line already given,
        dated after today, and the engine refused the whole record ('Nothing was
        assessed'). It is a line planned, as to-case --on reads it: the patient is
        assessed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medication_requests"]["entry"].append({"resource": {
                "resourceType": "MedicationRequest", "id": "mr-future", "status": "active",
                "intent": "order", "subject": {"reference": "Patient/pat-1003"},
                "medicationCodeableConcept": {"text": "sirolimus 2 mg"},
                "dosageInstruction": [{"timing": {"repeat": {
                    "boundsPeriod": {"start": "2027-01-15"}}}}]}})

        bundle = example(PATIENT)
        prefetch = prefetch_of(bundle)
        change(prefetch)
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["summary"].startswith("PEComa (metastatic)")
        assert "Nothing was assessed" not in head["detail"]


    def test_no_second_mtor_draft_beside_one_already_drafted(self, client: TestClient
                                                             ) -> None:
        """Doxorubicin and sirolimus drafted in one order set: the doxorubicin card
        suggested drafting sirolimus, a second mTOR-inhibitor order beside the one the
        clinician wrote. The warning stays (S13); no second draft is proposed, and the
        card says why."""
        sirolimus = {"resourceType": "MedicationRequest", "id": "draft-2",
                     "status": "draft", "intent": "order",
                     "subject": {"reference": "Patient/pat-1003"},
                     "medicationCodeableConcept": {"text": "sirolimus 2 mg"}}
        body = order(**DOXORUBICIN, entries=[{"resource": sirolimus}])
        for selected in (["MedicationRequest/draft-1"],
                         ["MedicationRequest/draft-1", "MedicationRequest/draft-2"]):
            body["context"]["selections"] = selected
            [card] = cards_of(client, body)
            assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
            assert "suggestions" not in card
            assert "already holds an mTOR-inhibitor order (MedicationRequest/draft-2)" \
                in card["detail"]


    @staticmethod
    def _sirolimus_planned(how: str) -> Any:
        """A sirolimus order in the record, not yet given: active to start after today
        (2026-11-28), an order with intent 'plan', or one saved as a draft."""
        def change(prefetch: dict[str, Any]) -> None:
            res: dict[str, Any] = {
                "resourceType": "MedicationRequest", "id": "mr-siro", "status": "active",
                "intent": "order", "subject": {"reference": "Patient/pat-1003"},
                "medicationCodeableConcept": {"coding": [
                    {"system": RXNORM, "code": "35302", "display": "sirolimus"}]},
                "authoredOn": "2026-11-25"}
            if how == "to start 2026-12-10":
                res["dosageInstruction"] = [{"timing": {"repeat": {
                    "boundsPeriod": {"start": "2026-12-10"}}}}]
            elif how == "intent 'plan'":
                res["intent"] = "plan"
            else:
                res["status"] = "draft"
            prefetch["medication_requests"]["entry"].append({"resource": res})
        return change

    @pytest.mark.parametrize("how", ["to start 2026-12-10", "intent 'plan'",
                                     "status 'draft'"])
    def test_an_mtor_order_planned_in_the_record_is_not_proposed_again(
            self, client: TestClient, how: str) -> None:
        """A sirolimus order already in the record, not yet given (starting after today,
        a plan, a saved draft), and a doxorubicin draft: the card offered to draft a
        second sirolimus order and never named the first. The warning stays (S13); no
        second mTOR-inhibitor order is proposed, and the card names the one in place."""
        [card] = cards_of(client, order(self._sirolimus_planned(how), **DOXORUBICIN))
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert "suggestions" not in card
        assert ("the record already holds an mTOR inhibitor planned, not yet given "
                f"(MedicationRequest/mr-siro: sirolimus, {how})") in card["detail"]

    def test_patient_view_names_the_mtor_order_already_planned(self, client: TestClient
                                                              ) -> None:
        """Metastases not resectable, so an mTOR inhibitor is the first line, and a
        sirolimus order with intent 'plan' in the record: the card advised starting an
        mTOR inhibitor as if none were planned. The advice stays (the guideline's, and
        the order is not given yet: it may be cancelled), but the summary says it is
        already planned and the recommendation names the order, to be reviewed rather
        than written again."""
        def change(prefetch: dict[str, Any]) -> None:
            for entry in prefetch["observations"]["entry"]:
                if entry["resource"]["id"] in ("resectable", "complete-excision-feasible"):
                    entry["resource"]["valueBoolean"] = False
            self._sirolimus_planned("intent 'plan'")(prefetch)

        head = cards_of(client, view(change), PATIENT_VIEW)[0]
        assert ("(already planned) An mTOR inhibitor is the first-line systemic treatment"
                in head["summary"])
        assert ("**Already planned in the record** (not given yet): "
                "MedicationRequest/mr-siro: sirolimus, intent 'plan'; review that order "
                "rather than writing another.") in head["detail"]

    @pytest.mark.parametrize("how", ["to start 2026-12-10", "intent 'plan'"])
    def test_a_planned_order_the_allergy_list_rules_out_gets_the_critical_card(
            self, client: TestClient, how: str) -> None:
        """A sirolimus order in the record, not given yet, beside a recorded sirolimus
        allergy: the chart showed nothing about it (only drafts were checked against the
        allergy list). patient-view now gives the critical allergy card naming the order,
        under the same knowledge record as order-select's (I15)."""
        def change(prefetch: dict[str, Any]) -> None:
            self._sirolimus_planned(how)(prefetch)
            prefetch["allergies"]["entry"].append({"resource": allergy({"coding": [
                {"system": RXNORM, "code": "35302", "display": "sirolimus"}]})})

        cards = cards_of(client, view(change), PATIENT_VIEW)
        [card] = [c for c in cards if c["indicator"] == "critical"
                  and c["summary"].startswith("Order of sirolimus planned in the record")]
        assert "MedicationRequest/mr-siro" in card["detail"]
        assert "allergy or intolerance to sirolimus" in card["summary"]
        assert card["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    def test_no_card_for_a_planned_order_no_allergy_rules_out(self, client: TestClient
                                                             ) -> None:
        """The same planned order with a penicillin allergy only: no allergy card."""
        def change(prefetch: dict[str, Any]) -> None:
            self._sirolimus_planned("intent 'plan'")(prefetch)
            prefetch["allergies"]["entry"].append(
                {"resource": allergy({"text": "Penicillin"})})

        cards = cards_of(client, view(change), PATIENT_VIEW)
        assert not [c for c in cards if c["summary"].startswith("Order of sirolimus planned")]

    @staticmethod
    def _doxorubicin_ordered(start: str) -> Any:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medication_requests"]["entry"].append({"resource": {
                "resourceType": "MedicationRequest", "id": "mr-f", "status": "active",
                "intent": "order", "subject": {"reference": "Patient/pat-1003"},
                "medicationCodeableConcept": {"text": "doxorubicin 75 mg/m2 IV"},
                "authoredOn": "2026-11-20", "dosageInstruction": [{"timing": {"repeat": {
                    "boundsPeriod": {"start": start}}}}]}})
        return change

    def test_a_start_written_as_a_later_month_is_a_line_planned(self, client: TestClient
                                                               ) -> None:
        """Today 2026-11-28, a doxorubicin order written 2026-11-20 to start in January
        2027 ("2027-01"): it was read as a first line given on 2026-11-20, so the chart
        warned "chemotherapy recorded first line" and a new doxorubicin draft got no
        card. It is planned, not given: no such warning, and the draft is warned about
        as the first line."""
        change = self._doxorubicin_ordered("2027-01")
        cards = cards_of(client, view(change), PATIENT_VIEW)
        assert not any(c.get("source", {}).get("topic", {}).get("code")
                       == "ALERT-CHEMO-BEFORE-MTOR" for c in cards)
        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert card["summary"].startswith("Chemotherapy first line for advanced PEComa")

    def test_a_start_written_as_this_month_leaves_the_lines_given_unknown(
            self, client: TestClient) -> None:
        """"2026-11" read on 2026-11-28: the order may have started on the 1st or start on
        the 30th. It was a line given on 2026-11-20 (no card for a doxorubicin draft). It
        is neither a line given nor none: the draft's warning holds only if no line was
        given, nothing is proposed, and the card says which order and why."""
        change = self._doxorubicin_ordered("2026-11")
        [card] = cards_of(client, order(change, **DOXORUBICIN))
        assert card["summary"].startswith("Chemotherapy, perhaps first line")
        assert "suggestions" not in card
        assert ("whether a medication had started is unknown: MedicationRequest/mr-f: "
                "doxorubicin from 2026-11, which may be before or after 2026-11-28"
                ) in card["detail"]
        head = cards_of(client, view(change), PATIENT_VIEW)[0]
        assert head["indicator"] == "warning"
        assert "whether some medications had started" in head["detail"]

    def test_one_medication_included_by_two_searches_is_one_resource(
            self, client: TestClient) -> None:
        """Medication/m1, version 3, included by the order search and by the
        administration search, its meta.lastUpdated written two ways (one time): the
        whole record was refused as two resources under one id, naming
        'Bundle.entry[n]', a place in pecoma's own merged bundle that no EHR sent. One
        version is one resource: the record is assessed. A copy whose content differs
        under the same version is refused, named by the prefetch key and entry the EHR
        sent it in, with its id."""
        def medication(last_updated: str, code: str = "4492") -> dict[str, Any]:
            return {"resourceType": "Medication", "id": "m1",
                    "meta": {"versionId": "3", "lastUpdated": last_updated},
                    "code": {"coding": [{"system": RXNORM, "code": code,
                                         "display": "fluorouracil"}]}}

        def sent(second: dict[str, Any]) -> Any:
            return _medication_in_two_searches(
                "Medication/m1", {"resource": medication("2026-01-01T00:00:00Z")},
                {"resource": second})

        body = view(sent(medication("2026-01-01T00:00:00.000+00:00")))
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["summary"].startswith("PEComa (metastatic)")
        other = medication("2026-01-01T00:00:00Z", code="3639")  # doxorubicin's code
        [card] = cards_of(client, view(sent(other)), PATIENT_VIEW)
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert ("`prefetch.medication_administrations.entry[1]`: must not repeat an id with "
                "other content (prefetch.medication_requests.entry[1] is another "
                "Medication/m1") in card["detail"]
        assert "Bundle.entry" not in card["detail"]


    def test_one_full_url_for_two_resources_is_refused(self, client: TestClient) -> None:
        """The order search and the administration search each include a Medication under
        the fullUrl urn:uuid:…, fluorouracil in one and doxorubicin in the other: the
        record kept the first, to-case the last. It is refused, named where the EHR sent
        it; the same Medication under that fullUrl twice is assessed."""
        url = "urn:uuid:3c9d2e1f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"

        def medication(code: str) -> dict[str, Any]:
            return {"resourceType": "Medication",
                    "code": {"coding": [{"system": RXNORM, "code": code}]}}

        def sent(second: dict[str, Any]) -> Any:
            return _medication_in_two_searches(
                url, {"fullUrl": url, "resource": medication("4492")},
                {"fullUrl": url, "resource": second})

        head = cards_of(client, view(sent(medication("4492"))), PATIENT_VIEW)[0]
        assert head["summary"].startswith("PEComa (metastatic)")
        [card] = cards_of(client, view(sent(medication("3639"))), PATIENT_VIEW)
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert ("`prefetch.medication_administrations.entry[1]`: must not repeat a fullUrl "
                "with other content (prefetch.medication_requests.entry[1] is another "
                "resource under it") in card["detail"]


def _medication_in_two_searches(reference: str, first: dict[str, Any],
                                second: dict[str, Any]) -> Any:
    """A prefetch change: the order search and the administration search each hold a line
    naming ``reference`` and include a Medication entry (``first``, ``second``: the entry
    with its fullUrl, if any, and resource), as EHRs answer ``_include``."""
    def change(prefetch: dict[str, Any]) -> None:
        prefetch["medication_requests"] = {
            "resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [
                {"resource": {"resourceType": "MedicationRequest", "id": "mr1",
                              "status": "completed", "intent": "order",
                              "subject": {"reference": "Patient/pat-1003"},
                              "medicationReference": {"reference": reference},
                              "authoredOn": "2025-01-01"},
                 "search": {"mode": "match"}},
                {**first, "search": {"mode": "include"}}]}
        prefetch["medication_administrations"] = {
            "resourceType": "Bundle", "type": "searchset", "total": 1, "entry": [
                {"resource": {"resourceType": "MedicationAdministration",
                              "id": "ma1", "status": "completed",
                              "subject": {"reference": "Patient/pat-1003"},
                              "medicationReference": {"reference": reference},
                              "effectiveDateTime": "2025-01-02"},
                 "search": {"mode": "match"}},
                {**second, "search": {"mode": "include"}}]}
    return change


class TestNotPecoma:
    def test_patient_without_pecoma_gets_no_card(self, client: TestClient) -> None:
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p9"}},
            {"resource": {"resourceType": "Condition", "id": "c1",
                          "code": {"text": "Essential hypertension"},
                          "subject": {"reference": "Patient/p9"}}}]}
        body = hook_request("patient-view", "p9", prefetch=prefetch_of(bundle))
        assert cards_of(client, body, PATIENT_VIEW) == []

    def test_pecoma_named_only_in_an_observation_is_read(self, client: TestClient) -> None:
        """A Condition coded only by ICD-10 with the 8714/3 histology in an Observation is
        not screened out (it goes to the reader)."""
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p8"}},
            {"resource": {"resourceType": "Condition", "id": "c1", "code": {"coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C64.1"}]},
                "subject": {"reference": "Patient/p8"}}},
            {"resource": {"resourceType": "Observation", "id": "o1", "status": "final",
                          "code": {"coding": [{"system": "http://loinc.org",
                                               "code": "31206-6"}]},
                          "valueCodeableConcept": {"coding": [{
                              "system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                              "code": "8714/3"}]},
                          "subject": {"reference": "Patient/p8"}}}]}
        body = hook_request("patient-view", "p8", prefetch=prefetch_of(bundle))
        assert cards_of(client, body, PATIENT_VIEW) != []

    def test_pecoma_histology_corrected_to_another_tumour_gets_no_pecoma_advice(
            self, client: TestClient) -> None:
        """The kidney tumour's 8714/3 histology corrected later to renal cell carcinoma
        (8312/3): the chart holds no PEComa, so no PEComa advice (no mTOR inhibitor, no
        risk); the one card says the check was not possible and why: the diagnosis was
        revised (the reader's refusal, as ``pecoma fhir to-case`` gives it)."""
        def histology(rid: str, code: str, day: str, status: str) -> dict[str, Any]:
            return {"resource": {
                "resourceType": "Observation", "id": rid, "status": status,
                "extension": [{"url": "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                                      "mcode-related-condition",
                               "valueReference": {"reference": "Condition/c1"}}],
                "code": {"coding": [{"system": "http://loinc.org", "code": "31206-6"}]},
                "effectiveDateTime": day,
                "valueCodeableConcept": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": code}]},
                "subject": {"reference": "Patient/p7"}}}
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "Patient", "id": "p7"}},
            {"resource": {"resourceType": "Condition", "id": "c1", "code": {"coding": [
                {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C64.1"}]},
                "bodySite": [{"text": "kidney"}], "onsetDateTime": "2024-01-05",
                "subject": {"reference": "Patient/p7"}}},
            histology("o1", "8714/3", "2024-01-10", "final"),
            histology("o2", "8312/3", "2024-02-01", "corrected")]}
        body = hook_request("patient-view", "p7", prefetch=prefetch_of(bundle))
        [card] = cards_of(client, body, PATIENT_VIEW)
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert ("Condition/c1 is not read as PEComa: its latest histology, Observation/o2 "
                "(8312/3), is not PEComa: the diagnosis was revised") in card["detail"]


def test_two_chemotherapy_drafts_are_one_first_line_on_one_card(client: TestClient) -> None:
    """Doxorubicin and dacarbazine drafted together are one first line (each replaced alone,
    two sirolimus proposals had followed): one card naming both drafts, one suggestion
    deleting both, and a report of the case assessed with the line."""
    body = order(**DOXORUBICIN)
    body["context"]["draftOrders"]["entry"].append({"resource": {
        "resourceType": "MedicationRequest", "id": "draft-2", "status": "draft",
        "intent": "order", "medicationCodeableConcept": {"text": "dacarbazine"},
        "subject": {"reference": "Patient/pat-1003"}}})
    body["context"]["selections"].append("MedicationRequest/draft-2")
    [card] = cards_of(client, body)
    assert ("doxorubicin (MedicationRequest/draft-1), dacarbazine (MedicationRequest/draft-2)"
            in card["detail"].replace("\\", ""))
    [suggestion] = card["suggestions"]
    assert [a.get("resourceId") for a in suggestion["actions"]] == [
        "MedicationRequest/draft-1", "MedicationRequest/draft-2", None]
    report = client.get(card["links"][0]["url"].removeprefix("http://127.0.0.1:8000"))
    assert report.status_code == 200 and "mtor inhibitor" in report.text.lower()


class TestDeceased:
    """Patient.deceased[x] is a modifier: a patient the record says died gets no advice
    and no proposed order (a first-line card proposing sirolimus had been shown)."""

    @staticmethod
    def died(prefetch: dict[str, Any]) -> None:
        prefetch["patient"]["deceasedDateTime"] = "2026-10-01"

    def test_patient_view_says_so_and_advises_nothing(self, client: TestClient) -> None:
        [card] = cards_of(client, view(self.died), PATIENT_VIEW)
        assert card["indicator"] == "warning"
        assert "died (2026-10-01)" in card["summary"]
        assert "suggestions" not in card

    def test_a_chemotherapy_draft_gets_no_proposal(self, client: TestClient) -> None:
        cards = cards_of(client, order(self.died, **DOXORUBICIN))
        assert [c["summary"] for c in cards] == [
            "The record says this patient died (2026-10-01): no PEComa advice"]
        assert all("suggestions" not in c for c in cards)

    def test_the_allergy_check_still_holds(self, client: TestClient) -> None:
        def died_allergic(prefetch: dict[str, Any]) -> None:
            self.died(prefetch)
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                     "total": 1, "entry": [{"resource": allergy(
                                         {"text": "doxorubicin"})}]}
        cards = cards_of(client, order(died_allergic, **DOXORUBICIN))
        assert any(c["indicator"] == "critical" for c in cards)
        assert any("died" in c["summary"] for c in cards)


class TestEveryDrugOfADraftIsChecked:
    """A draft whose Medication holds an mTOR inhibitor and another drug is read as the
    mTOR inhibitor; the other drug had gone unchecked: no critical card for it beside an
    allergy to it."""

    RX = "http://www.nlm.nih.gov/research/umls/rxnorm"

    def combination(self, second: str) -> dict[str, Any]:
        return {"contained": [{"resourceType": "Medication", "id": "m", "ingredient": [
                    {"itemCodeableConcept": {"coding": [{"system": self.RX, "code": "141704"}],
                                             "text": "everolimus"}},
                    {"itemCodeableConcept": {"text": second}}]}],
                "medicationReference": {"reference": "#m"}}

    @staticmethod
    def allergic_to(text: str) -> Any:
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                     "total": 1, "entry": [{"resource": allergy(
                                         {"text": text})}]}
        return change

    def test_an_allergy_to_the_second_drug_is_a_critical_card(
            self, client: TestClient) -> None:
        cards = cards_of(client, order(self.allergic_to("ifosfamide"),
                                       **self.combination("ifosfamide")))
        critical = [c for c in cards if c["indicator"] == "critical"]
        assert len(critical) == 1 and "ifosfamide" in critical[0]["summary"]

    def test_ingredients_by_reference_are_read(self, client: TestClient) -> None:
        """Medication.ingredient.itemReference (to a contained Medication) is read like
        itemCodeableConcept: it had been ignored, and no card came for either drug."""
        draft = {"contained": [
            {"resourceType": "Medication", "id": "evero",
             "code": {"coding": [{"system": self.RX, "code": "141704"}]}},
            {"resourceType": "Medication", "id": "ifo", "code": {"text": "ifosfamide"}},
            {"resourceType": "Medication", "id": "m", "code": {"text": "Study regimen"},
             "ingredient": [{"itemReference": {"reference": "#evero"}},
                            {"itemReference": {"reference": "#ifo"}}]}],
            "medicationReference": {"reference": "#m"}}
        cards = cards_of(client, order(self.allergic_to("ifosfamide"), **draft))
        critical = [c for c in cards if c["indicator"] == "critical"]
        assert len(critical) == 1 and "ifosfamide" in critical[0]["summary"]

    def test_without_the_allergy_no_critical_card(self, client: TestClient) -> None:
        cards = cards_of(client, order(self.allergic_to("penicillin"),
                                       **self.combination("ifosfamide")))
        assert all(c["indicator"] != "critical" for c in cards)


class TestTwoTreatmentsInOneRecord:
    def test_no_line_is_read_and_the_history_is_in_doubt(self) -> None:
        from pecoma.fhir.reader import case_from_bundle
        bundle = with_statement(copy.deepcopy(example(PATIENT)), "combo",
                                "everolimus with doxorubicin", "2025-06-01")
        bc = case_from_bundle(bundle, on=dt.date(2026, 11, 28))
        assert all(t.agent.value not in ("everolimus", "doxorubicin")
                   for t in bc.case.systemic.therapies)
        assert bc.history_doubt is not None and "identify" in bc.history_doubt
        assert any("everolimus, doxorubicin together" in n for n in bc.notes)


def _with(*resources: tuple[str, dict[str, Any]]) -> Any:
    """A prefetch change adding each ``(prefetch key, resource)``."""
    def change(prefetch: dict[str, Any]) -> None:
        for key, res in resources:
            prefetch[key]["entry"].append({"resource": copy.deepcopy(res)})
    return change


def _allergy_to(rid: str, code: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An active, confirmed medication allergy of the patient, as the EHR integrator's
    bundles record it."""
    res = allergy(code)
    res["id"] = rid
    res["verificationStatus"] = {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
        "code": "confirmed"}]}
    return "allergies", res


PACLITAXEL = {"coding": [{"system": RXNORM, "code": "56946", "display": "paclitaxel"}]}


class TestAnAllergyRulesOutThatSameDrug:
    @pytest.mark.parametrize(("allergic_to", "draft", "drug"), [
        # the integrator's bundles: RxNorm 56946 both sides; "Gemcitabine" by text beside
        # a draft coded RxNorm 12574 only
        (PACLITAXEL, {"medicationCodeableConcept": PACLITAXEL}, "paclitaxel"),
        ({"text": "Gemcitabine"},
         {"medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "12574"}]}},
         "gemcitabine"),
        # the brand on one side, the ingredient on the other
        ({"text": "Taxol"}, {"medicationCodeableConcept": {"text": "paclitaxel 175 mg/m2 IV"}},
         "paclitaxel"),
        # another agent than chemotherapy: no first-line card, the allergy card only
        ({"text": "Pembrolizumab"},
         {"medicationCodeableConcept": {"text": "Keytruda 200 mg IV every 3 weeks"}},
         "pembrolizumab"),
    ])
    def test_a_draft_of_the_drug_an_allergy_names_gets_the_critical_card(
            self, client: TestClient, allergic_to: dict[str, Any], draft: dict[str, Any],
            drug: str) -> None:
        """An active allergy to paclitaxel (or gemcitabine, or pembrolizumab) and a draft
        of that same drug: no allergy card at all, because both are 'other
        chemotherapy' (or 'another agent') to the case format and an allergy to such an
        agent was compared by the agent only, and so dropped. The drug itself rules the
        order out: one critical card naming the allergy entry and the draft."""
        cards = cards_of(client, order(_with(_allergy_to("a-1", allergic_to)), **draft))
        [critical] = [c for c in cards if c["indicator"] == "critical"]
        assert critical["summary"] == (f"Draft order of {drug}: the record lists an allergy "
                                       f"or intolerance to {drug} (AllergyIntolerance/a-1)")
        assert critical["detail"].startswith(f"MedicationRequest/draft-1 orders {drug}; ")
        assert critical["source"]["topic"]["code"] == "ALERT-DRUG-INTOLERANCE"

    def test_a_planned_order_of_the_drug_an_allergy_names_gets_the_critical_card(
            self, client: TestClient) -> None:
        """The integrator's record: a paclitaxel allergy and a paclitaxel order with
        intent 'plan'. patient-view gave only its summary card (a planned everolimus
        beside a sirolimus allergy gets the critical card). Now the planned order of the
        drug the allergy names gets it too, naming the order and the entry."""
        planned = {"resourceType": "MedicationRequest", "id": "plan-pacli",
                   "status": "active", "intent": "plan",
                   "medicationCodeableConcept": PACLITAXEL, "authoredOn": "2026-11-20",
                   "subject": {"reference": "Patient/pat-1003"}}
        cards = cards_of(client, view(_with(_allergy_to("a-pacli", PACLITAXEL),
                                            ("medication_requests", planned))), PATIENT_VIEW)
        [critical] = [c for c in cards if c["indicator"] == "critical"]
        assert critical["summary"] == (
            "Order of paclitaxel planned in the record: the record lists an allergy or "
            "intolerance to paclitaxel (AllergyIntolerance/a-pacli)")
        assert critical["detail"].startswith(
            "MedicationRequest/plan-pacli: other chemotherapy, intent 'plan' is not given yet")

    def test_a_draft_not_identified_is_checked_against_a_drug_allergy(
            self, client: TestClient) -> None:
        """A draft whose drug pecoma cannot identify (RxNorm under its OID), for a patient
        allergic to paclitaxel: no card said it could not be checked, since the list of
        what the allergies rule out left paclitaxel out. It is named now."""
        cards = cards_of(client, order(_with(_allergy_to("a-1", PACLITAXEL)),
                                       medicationCodeableConcept={"coding": [{
                                           "system": "urn:oid:2.16.840.1.113883.6.88",
                                           "code": "56946"}]}))
        [card] = [c for c in cards if c["summary"] == "Draft order's drug not identified: "
                  "check it against the allergy list"]
        assert "which rule out: paclitaxel." in card["detail"]

    def test_control_an_allergy_to_one_drug_rules_out_no_other_of_its_agent(
            self, client: TestClient) -> None:
        """Control: paclitaxel and docetaxel are both 'other chemotherapy'; an allergy to
        paclitaxel gives no allergy card on a docetaxel draft (the first-line warning
        only)."""
        cards = cards_of(client, order(_with(_allergy_to("a-1", PACLITAXEL)),
                                       medicationCodeableConcept={"text": "docetaxel"}))
        assert [c["indicator"] for c in cards] == ["warning"]


_RA = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M06.9",
                   "display": "Rheumatoid arthritis, unspecified"}]}
#: The integrator's MedicationStatement: weekly methotrexate for rheumatoid arthritis.
_MTX_RA = {"resourceType": "MedicationStatement", "id": "mtx-ra", "status": "active",
           "medicationCodeableConcept": {"coding": [{
               "system": RXNORM, "code": "105585",
               "display": "methotrexate 2.5 MG Oral Tablet"}],
               "text": "Methotrexate 15 mg PO weekly"},
           "effectivePeriod": {"start": "2025-01-10"}, "reasonCode": [_RA],
           "dosage": [{"text": "15 mg orally once weekly", "timing": {"repeat": {
               "frequency": 1, "period": 1, "periodUnit": "wk"}}}],
           "subject": {"reference": "Patient/pat-1003"}}


class TestADrugGivenForAnotherCondition:
    @pytest.mark.parametrize("reason", [
        {"reasonCode": [_RA]},
        {"reasonCode": None, "reasonReference": [{"reference": "Condition/ra-1"}]},
    ])
    def test_methotrexate_for_arthritis_is_no_line(self, client: TestClient,
                                                   reason: dict[str, Any]) -> None:
        """Weekly methotrexate for rheumatoid arthritis (reasonCode M06.9, or a
        reasonReference to the arthritis Condition) in the record of a patient with
        metastatic PEComa and no systemic line: it was read as a first line of
        chemotherapy, so a doxorubicin draft got no card (the S13 warning lost) and the
        chart showed a false 'chemotherapy recorded first line' alert. It is no line of
        PEComa treatment: the draft gets the first-line warning with its proposal, the
        chart no such alert."""
        statement = {k: v for k, v in {**_MTX_RA, **reason}.items() if v is not None}
        ra = {"resourceType": "Condition", "id": "ra-1", "code": {**_RA, "text":
                                                                  "Rheumatoid arthritis"},
              "clinicalStatus": {"coding": [{
                  "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                  "code": "active"}]}, "subject": {"reference": "Patient/pat-1003"}}
        change = _with(("medications", statement), ("conditions", ra))
        [card] = cards_of(client, order(change, medicationCodeableConcept={"coding": [
            {"system": RXNORM, "code": "3639", "display": "doxorubicin"}]}))
        assert card["summary"] == ("Chemotherapy first line for advanced PEComa: the "
                                   "guideline puts an mTOR inhibitor first")
        assert [s["label"] for s in card["suggestions"]] == [
            ("Replace with an mTOR inhibitor (here sirolimus, as an example "
             "draft; the team chooses)")]
        assert ("MedicationStatement/mtx-ra: methotrexate given for a condition that is "
                "not a cancer (") in card["detail"]  # said, not silently dropped
        cards = cards_of(client, view(change), PATIENT_VIEW)
        assert not any(c.get("source", {}).get("topic", {}).get("code")
                       == "ALERT-CHEMO-BEFORE-MTOR" for c in cards)

    def test_a_methotrexate_allergy_still_flags_a_planned_order_for_arthritis(
            self, client: TestClient) -> None:
        """The reason takes the drug out of the PEComa lines, never out of the allergy
        check: a methotrexate order for arthritis with intent 'plan', beside a recorded
        methotrexate allergy, gets the critical card."""
        planned = {**_MTX_RA, "resourceType": "MedicationRequest", "id": "mtx-plan",
                   "status": "active", "intent": "plan", "authoredOn": "2026-11-20"}
        for key in ("effectivePeriod", "dosage"):
            planned.pop(key)
        cards = cards_of(client, view(_with(
            _allergy_to("a-mtx", {"text": "Methotrexate"}),
            ("medication_requests", planned))), PATIENT_VIEW)
        [critical] = [c for c in cards if c["indicator"] == "critical"]
        assert critical["summary"] == (
            "Order of methotrexate planned in the record: the record lists an allergy or "
            "intolerance to methotrexate (AllergyIntolerance/a-mtx)")


def test_why_the_history_is_not_fully_known_spells_no_link() -> None:
    """The reason the lines already given are not fully known names the record's
    resources by their ids (the EHR's text): on the card it is escaped, as every word
    from the record is; a link it spelled had been written as a link."""
    from pecoma.case import Agent
    from pecoma.web.cds.allergies import drug_safety

    why = drug_safety([], None, history="MedicationRequest/[x](http://evil.example) "
                      "has no start date").withheld(Agent.sirolimus)
    assert why is not None and "evil.example" in why
    assert "](http" not in why.replace("\\](http", "")
