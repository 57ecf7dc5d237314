"""An allergy list not read in full proposes no drug, on every path.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, no systemic line
yet, mTOR inhibitors recorded available and not contraindicated: a doxorubicin draft gets
the warning that the guideline puts an mTOR inhibitor first (S13, S14), and an
mTOR-inhibitor order may be proposed only when the allergy list was read in full and
allows it (docs/cds-hooks.md, "Drugs and the allergy list"). Each test below gives the
record one allergy entry, or one label on the allergy search, that leaves the list not read
in full: an allergy to sirolimus may be what was not read. Expected, by that rule: the
order-select card is a ``warning`` that proposes nothing and says why; the patient-view
summary is a ``warning`` whose mTOR advice is marked **Conditional:** and which lists the
allergies among the parts not read; ``pecoma fhir to-case`` says the same part is not read
in full and leaves 'mTOR inhibitor contraindicated' unknown (the record's "no" is not
relied upon). Each had proposed sirolimus while the list was not read in full.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, YesNo
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
V3_OBSERVATION_VALUE = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
PROPOSAL = "Replace with an mTOR inhibitor"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('in-full') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def allergy(text: str, **more: Any) -> dict[str, Any]:
    """An active, confirmed medication allergy of the example's patient."""
    pid = patient_id(example(PATIENT))
    return {"resourceType": "AllergyIntolerance", "id": "a", "category": ["medication"],
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
            "verificationStatus": {"coding": [{"system": VERIFICATION,
                                               "code": "confirmed"}]},
            "code": {"text": text}, "patient": {"reference": f"Patient/{pid}"}, **more}


def allergy_search(*entries: dict[str, Any], **more: Any) -> dict[str, Any]:
    """The allergies prefetch: a searchset of the entries given."""
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries),
            "entry": [{"resource": e, "search": {"mode": "match"}} for e in entries],
            **more}


def order_select(allergies: dict[str, Any],
                 draft: dict[str, Any] | None = None) -> dict[str, Any]:
    """The order-select request: the example's record, ``allergies`` as its allergies
    prefetch, one draft (doxorubicin unless said) selected."""
    bundle = example(PATIENT)
    pid = patient_id(bundle)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"] = copy.deepcopy(allergies)
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": "draft-1",
                          "status": "draft", "intent": "order",
                          "subject": {"reference": f"Patient/{pid}"},
                          **(draft or {"medicationCodeableConcept": {
                              "text": "doxorubicin 75 mg/m2"}})}}]}})
    return body


def patient_view(allergies: dict[str, Any]) -> dict[str, Any]:
    bundle = example(PATIENT)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"] = copy.deepcopy(allergies)
    return hook_request("patient-view", patient_id(bundle), prefetch=prefetch)


def to_case_bundle(*entries: dict[str, Any], **more: Any) -> dict[str, Any]:
    """The example's record as one Bundle, with the allergy entries added."""
    bundle = copy.deepcopy(example(PATIENT))
    bundle["entry"] += [{"resource": copy.deepcopy(e)} for e in entries]
    bundle.update(more)
    return bundle


def cards(client: TestClient, body: dict[str, Any], service: str) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["cards"]
    return found


def assert_withheld(client: TestClient, allergies: dict[str, Any], said: str) -> None:
    """What docs/cds-hooks.md promises for an allergy list not read in full, ``said``
    being the words of the reason on each card: the first-line card proposes nothing,
    and the draft itself gets the warning that it could not be checked against the list
    (a list not read in full rules nothing out, and clears nothing either)."""
    card, unchecked = cards(client, order_select(allergies), ORDER_SELECT)
    if "could not be checked" in card["summary"]:
        card, unchecked = unchecked, card
    assert unchecked["indicator"] == "warning"
    assert unchecked["summary"] == ("Draft order of doxorubicin could not be checked: the "
                                    "allergy list was not available")
    assert said in unchecked["detail"]
    assert "Check the patient's allergy list in the EHR before ordering" \
        in unchecked["detail"]
    assert card["indicator"] == "warning"
    assert "suggestions" not in card  # nothing is proposed
    assert "No mTOR-inhibitor order is proposed" in card["detail"]
    assert "allergies and intolerances could not be read" in card["detail"]
    assert said in card["detail"]
    summary, *rest = cards(client, patient_view(allergies), PATIENT_VIEW)
    assert summary["indicator"] == "warning"
    assert "**Conditional:** the patient's allergies and intolerances could not be read" \
        in summary["detail"]
    assert "**Parts of the record that could not be read**" in summary["detail"]
    assert said in summary["detail"]
    for other in rest:  # the part not read is listed on every card
        assert said in other["detail"]


MODIFIER = [{"url": "https://ehr.example/fhir/StructureDefinition/not-confirmed",
             "valueBoolean": True}]


class TestAnEntryWithAModifierExtension:
    """F1: a Penicillin entry carrying a modifierExtension. The FHIR reader set it aside
    ("not read in full"), while the CDS allergy check read it as penicillin and proposed
    sirolimus, the summary `info`."""

    def test_the_cds_cards_withhold_the_proposal(self, client: TestClient) -> None:
        assert_withheld(client, allergy_search(allergy("Penicillin",
                                                        modifierExtension=MODIFIER)),
                        "AllergyIntolerance/a: it carries a modifierExtension")

    def test_one_on_a_reaction_or_on_the_entry_counts_too(self, client: TestClient
                                                          ) -> None:
        """Within the entry (a reaction) or on the prefetch Bundle's entry: the same."""
        within = allergy("Penicillin", reaction=[{
            "manifestation": [{"text": "rash"}], "modifierExtension": MODIFIER}])
        assert_withheld(client, allergy_search(within), "AllergyIntolerance/a: it carries")
        on_entry = allergy_search(allergy("Penicillin"))
        on_entry["entry"][0]["modifierExtension"] = MODIFIER
        assert_withheld(client, on_entry, "AllergyIntolerance/a: it carries")

    def test_to_case_leaves_the_contraindication_unknown(self) -> None:
        """The record says "not contraindicated"; the entry not read may be to sirolimus."""
        within = allergy("Penicillin", reaction=[{
            "manifestation": [{"text": "rash"}], "modifierExtension": MODIFIER}])
        bc = case_from_bundle(to_case_bundle(within), on=ON)
        assert bc.unread["allergies"].startswith(
            "AllergyIntolerance/a: it carries a modifierExtension")
        assert bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.unknown


class TestWhatTheEntriesHeldRuleOut:
    def test_a_sirolimus_draft_beside_an_intolerance_read_still_gets_the_critical_card(
            self, client: TestClient) -> None:
        """A list not read in full does not hide what the entries read rule out: a
        confirmed sirolimus intolerance in a search whose OperationOutcome says entries
        were suppressed makes a sirolimus draft a critical card. Once the list was not
        read in full, the entries it held had been dropped, and the draft got no card."""
        suppressed = {"resource": {"resourceType": "OperationOutcome", "issue": [
            {"severity": "warning", "code": "suppressed"}]}, "search": {"mode": "outcome"}}
        listed = allergy_search(allergy("Sirolimus"))
        listed["entry"].append(suppressed)
        found = cards(client, order_select(listed, {"medicationCodeableConcept": {
            "text": "sirolimus 2 mg"}}), ORDER_SELECT)
        assert [c["indicator"] for c in found] == ["critical"]
        assert found[0]["summary"] == ("Draft order of sirolimus: the record lists an "
                                       "allergy or intolerance to sirolimus")


class TestAContradictoryStatus:
    """F2: a sirolimus entry whose verificationStatus is both confirmed and refuted had
    been left aside as refuted, and sirolimus proposed. It is counted (the safer reading,
    as an entry both active and inactive is), with a note naming the contradiction."""

    @staticmethod
    def _both() -> dict[str, Any]:
        return allergy("Sirolimus", verificationStatus={"coding": [
            {"system": VERIFICATION, "code": "confirmed"},
            {"system": VERIFICATION, "code": "refuted"}]})

    def test_to_case_counts_it_and_says_why(self) -> None:
        bc = case_from_bundle(to_case_bundle(self._both()), on=ON)
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.sirolimus]
        assert ("AllergyIntolerance/a: its verificationStatus says both 'confirmed' and "
                "'refuted': the entry is counted (the safer reading); check it in the "
                "record") in bc.notes

    def test_no_sirolimus_is_proposed_and_a_sirolimus_draft_is_critical(
            self, client: TestClient) -> None:
        listed = allergy_search(self._both())
        found = cards(client, order_select(listed), ORDER_SELECT)
        assert all(PROPOSAL not in s["label"] for c in found
                   for s in c.get("suggestions", []))
        [card] = cards(client, order_select(listed, {"medicationCodeableConcept": {
            "text": "sirolimus 2 mg"}}), ORDER_SELECT)
        assert card["indicator"] == "critical"
        assert "allergy or intolerance to sirolimus" in card["summary"]

    def test_the_summary_card_names_the_contradiction(self, client: TestClient) -> None:
        """The list was read in full (the entry is counted): `info`, the mTOR inhibitor
        not the headline, the contradiction among the readings to check."""
        summary, *_ = cards(client, patient_view(allergy_search(self._both())),
                            PATIENT_VIEW)
        assert "says both 'confirmed' and 'refuted'" in summary["detail"]
        assert "An mTOR inhibitor is the first-line" not in summary["summary"]

    def test_a_clinical_status_both_active_and_inactive_is_named_too(self) -> None:
        """Counted before too, but silently."""
        both = allergy("Penicillin", clinicalStatus={"coding": [
            {"system": CLINICAL, "code": "inactive"},
            {"system": CLINICAL, "code": "active"}]})
        bc = case_from_bundle(to_case_bundle(both), on=ON)
        assert any(n.startswith("AllergyIntolerance/a: its clinicalStatus says both "
                                "'active' and 'inactive'") for n in bc.notes)


class TestALabelSayingInformationWasWithheld:
    """F9: FHIR R4 security labels (v3-ObservationValue): REDACTED, information removed
    for security reasons; SUBSETTED, some information removed from the copy sent. An
    allergy search so labelled had been read as a complete, empty list."""

    @pytest.mark.parametrize(("meta", "said"), [
        ({"security": [{"system": V3_OBSERVATION_VALUE, "code": "REDACTED"}]},
         "the Bundle is labelled REDACTED (meta.security)"),
        ({"tag": [{"system": V3_OBSERVATION_VALUE, "code": "SUBSETTED"}]},
         "the Bundle is labelled SUBSETTED (meta.tag)"),
    ])
    def test_a_labelled_search_withholds_the_proposal(
            self, client: TestClient, meta: dict[str, Any], said: str) -> None:
        assert_withheld(client, allergy_search(meta=meta), said)

    def test_a_labelled_entry_withholds_the_proposal(self, client: TestClient) -> None:
        redacted = allergy("Penicillin", meta={"security": [
            {"system": V3_OBSERVATION_VALUE, "code": "REDACTED"}]})
        assert_withheld(client, allergy_search(redacted),
                        "AllergyIntolerance/a: it is labelled REDACTED (meta.security)")

    def test_to_case_reads_a_labelled_bundle_as_not_whole(self) -> None:
        bc = case_from_bundle(to_case_bundle(meta={"tag": [
            {"system": V3_OBSERVATION_VALUE, "code": "SUBSETTED"}]}), on=ON)
        assert "labelled SUBSETTED" in bc.unread["allergies"]
        assert bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.unknown


class TestAListReadInFullStillGetsItsProposal:
    def test_a_penicillin_allergy_with_a_label_that_withholds_nothing(
            self, client: TestClient) -> None:
        """The control: a confirmed penicillin allergy, its search and entry labelled
        only as restricted (v3 Confidentiality R, no information withheld): the list is
        read in full, so the mTOR-inhibitor order is proposed (nothing withholds it)."""
        restricted = {"security": [{
            "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
            "code": "R"}]}
        listed = allergy_search(allergy("Penicillin", meta=restricted), meta=restricted)
        [card] = cards(client, order_select(listed), ORDER_SELECT)
        assert card["indicator"] == "warning"
        assert card["suggestions"][0]["label"].startswith(PROPOSAL)
        summary, *_ = cards(client, patient_view(listed), PATIENT_VIEW)
        assert summary["indicator"] == "info"
        assert "**Conditional:**" not in summary["detail"]
