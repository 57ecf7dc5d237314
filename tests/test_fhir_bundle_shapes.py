"""Bundle shapes an EHR integration sends: search answers nested in a batch-response,
entries that hold only a response, and results given as components or contained results.

A FHIR R4 ``batch-response`` answers each search of the batch with a ``searchset`` Bundle
in ``entry.resource``. The reader counted such a Bundle among the resource types it never
reads ("ignored: Bundle ×2"): an active everolimus order and a temsirolimus intolerance
sent so were dropped without a word, and the assessment proposed a first-line mTOR
inhibitor and nab-sirolimus to a patient already on everolimus and intolerant of an mTOR
inhibitor. The resources of a nested Bundle are the record's, read with their fullUrls by
the rules of the Bundle that holds them; a nested answer that is not the whole result of
its search leaves the record not read in full, as a top-level one does.

An entry with no resource (FHIR R4 allows ``Bundle.entry.resource`` absent: a failed
request of a batch, a ``return=minimal`` answer) refused the whole record ("must be a
FHIR resource (got '(missing)')"). A failed request's part is unknown: the record is not
read in full, as with an OperationOutcome ``error`` entry; a request that did not fail
and returned nothing gives nothing to read.

Histology facts coded with the project's codes as components of a synoptic report
(LOINC 60568-3) were "a code the case does not record" and their facts "not found": a
necrosis present (S07) was lost. They are read as an immunostain panel's components are.
An HMB-45 result held contained in a DiagnosticReport (``result`` ``#hmb``) was only
"ignored: DiagnosticReport ×1", and the engine asked for the panel to be completed: the
report's contained results are read as results.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, Feature, IHCResult
from pecoma.engine import assess
from pecoma.errors import InputError, OtherPatientError
from pecoma.fhir.client import AllowList, FhirClient, FhirFetchError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.searches import incomplete
from pecoma.web.cds.discovery import ORDER_SELECT

from allergy_support import (
    EVEROLIMUS,
    PATIENT,
    RXNORM,
    SIROLIMUS,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    record,
    to_case,
)
from fhir_support import example, hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
TEMSIROLIMUS = {"coding": [{"system": RXNORM, "code": "657797", "display": "temsirolimus"}]}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("shapes"))


def everolimus_order(rid: str = "ev1") -> dict[str, Any]:
    """An active everolimus order of the patient, running since 2025-03-06."""
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active",
            "intent": "order", "medicationCodeableConcept": copy.deepcopy(EVEROLIMUS),
            "subject": {"reference": f"Patient/{PATIENT}"},
            "authoredOn": "2025-03-06",
            "dosageInstruction": [{"timing": {"repeat": {
                "boundsPeriod": {"start": "2025-03-06"}}}}]}


def searchset(*resources: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A search's answer: each resource a match, with its fullUrl."""
    return {"resourceType": "Bundle", "type": "searchset", "total": len(resources),
            "entry": [{"fullUrl": f"https://ehr.example/fhir/{r['resourceType']}/{r['id']}",
                       "resource": copy.deepcopy(r), "search": {"mode": "match"}}
                      for r in resources], **fields}


def batch_response(*answers: dict[str, Any]) -> dict[str, Any]:
    """The example record answered as a batch (each resource read with '200 OK'), and
    ``answers`` after it: entries as sent (a search's searchset in ``resource``, or a
    response alone)."""
    bundle = record()
    bundle["type"] = "batch-response"
    for entry in bundle["entry"]:
        entry["response"] = {"status": "200 OK"}
    bundle["entry"] += [copy.deepcopy(a) for a in answers]
    return bundle


def answered(resource: dict[str, Any]) -> dict[str, Any]:
    """A batch-response entry answering a search with ``resource`` (a searchset)."""
    return {"resource": resource, "response": {"status": "200 OK"}}


def failed(status: str, words: str | None = None) -> dict[str, Any]:
    """A batch-response entry of a request that failed: its status, and an
    OperationOutcome error saying ``words`` when given."""
    response: dict[str, Any] = {"status": status}
    if words is not None:
        response["outcome"] = {"resourceType": "OperationOutcome", "issue": [
            {"severity": "error", "code": "exception", "diagnostics": words}]}
    return {"response": response}


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


def ignored_types(bc: BundleCase) -> list[str]:
    return [said.split(" ")[0] for said in bc.ignored]


class TestNestedSearchAnswers:
    def test_a_batch_response_s_search_answers_are_read(self) -> None:
        """The everolimus order and the temsirolimus intolerance answered in searchset
        Bundles are the patient's, never 'ignored: Bundle': a line of everolimus is given,
        so the team is told an mTOR inhibitor is already given and asked whether the
        disease progressed on it (S12), and temsirolimus is not tolerated (I15)."""
        bundle = batch_response(answered(searchset(everolimus_order())),
                                answered(searchset(allergy("a-tem", code=TEMSIROLIMUS))))
        bc = read(bundle)
        assert "Bundle" not in ignored_types(bc)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.temsirolimus]
        ids = assess(bc.case, ON).record_ids()
        assert {"ALERT-MTOR-GIVEN", "MISS-MTOR-PROGRESSION"} <= set(ids)

    def test_an_allergy_answered_alone_rules_its_drug_out(self) -> None:
        """An everolimus allergy as the only nested answer: the everolimus intolerance is
        read (I15), the mTOR inhibitor is no longer advised as first line as it was for
        the record read as if it held no allergy, and whether the intolerance is of the
        class is asked."""
        bc = read(batch_response(answered(searchset(allergy(code=EVEROLIMUS)))))
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.everolimus]
        ids = assess(bc.case, ON).record_ids()
        assert "REC-MTOR-FIRST-LINE" not in ids
        assert "MISS-MTOR-INTOLERANCE" in ids

    @pytest.mark.parametrize("kind", ["searchset", "collection", "batch-response",
                                      "document"])
    def test_no_nested_bundle_is_counted_as_ignored(self, kind: str) -> None:
        """Whatever the nested Bundle's type, its resources are read; a note names it."""
        nested = searchset(allergy(code=SIROLIMUS))
        nested["type"] = kind
        bc = read(batch_response(answered(nested)))
        assert "Bundle" not in ignored_types(bc)
        assert [i.agent for i in bc.case.systemic.intolerances] == [Agent.sirolimus]
        assert any("Bundle.entry[23].resource" in n and "read as the record's" in n
                   for n in bc.notes)

    def test_a_bundle_nested_twice_is_read(self) -> None:
        """A collection holding the batch-response holding the searchset."""
        inner = batch_response(answered(searchset(everolimus_order())))
        outer = {"resourceType": "Bundle", "type": "collection",
                 "entry": [{"resource": inner}]}
        bc = read(outer)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]

    def test_a_nested_search_not_whole_leaves_the_record_not_read_in_full(self) -> None:
        """A nested answer with a next page: what its other pages hold is unknown (an
        allergy among it may rule a drug out), so every part but the patient is not read
        in full, naming the nested Bundle; the recorded 'not contraindicated' is not
        kept."""
        nested = searchset(allergy(code=TEMSIROLIMUS), total=2,
                           link=[{"relation": "next", "url": "https://ehr.example/p2"}])
        bc = read(batch_response(answered(nested)))
        assert set(bc.unread) == {"conditions", "observations", "procedures", "medications",
                                  "medication_requests", "medication_administrations",
                                  "medication_dispenses", "allergies"}
        assert "Bundle.entry[23].resource" in bc.unread["allergies"]
        assert "next" in bc.unread["allergies"]
        assert "systemic.mtor_inhibitor_contraindicated" not in bc.sources

    def test_a_nested_operation_outcome_error_leaves_the_record_not_read_in_full(
            self) -> None:
        """An OperationOutcome error inside a nested searchset says that search failed."""
        nested = searchset(everolimus_order())
        nested["entry"].append({"resource": {
            "resourceType": "OperationOutcome", "issue": [
                {"severity": "error", "code": "exception", "diagnostics": "timed out"}]},
            "search": {"mode": "outcome"}})
        bc = read(batch_response(answered(nested)))
        assert "allergies" in bc.unread and "error: exception" in bc.unread["allergies"]

    def test_the_same_resource_nested_and_at_the_top_is_read_once(self) -> None:
        """A search that ``_include``s the Patient sends it again: one resource, read
        once; an everolimus order sent twice is one line."""
        patient = next(e["resource"] for e in record()["entry"]
                       if e["resource"]["resourceType"] == "Patient")
        nested = searchset(everolimus_order())
        nested["entry"].append({"resource": copy.deepcopy(patient),
                                "search": {"mode": "include"}})
        bc = read(batch_response(answered(nested), answered(searchset(everolimus_order()))))
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]

    def test_two_different_resources_under_one_id_are_refused(self) -> None:
        """The top-level and a nested answer hold two different MedicationRequest/ev1: a
        reference to it could mean either."""
        stopped = everolimus_order()
        stopped["status"] = "stopped"
        bundle = batch_response(answered(searchset(everolimus_order())),
                                answered(searchset(stopped)))
        with pytest.raises(InputError) as exc:
            read(bundle)
        said = "\n".join(str(i) for i in exc.value.issues)
        assert "Bundle.entry[24].resource.entry[0]" in said
        assert "Bundle.entry[23].resource.entry[0]" in said

    def test_a_nested_resource_of_another_patient_is_refused(self) -> None:
        """A nested search answered for another patient: not this patient's record."""
        other = allergy(code=SIROLIMUS)
        other["patient"] = {"reference": "Patient/someone-else"}
        with pytest.raises(OtherPatientError):
            read(batch_response(answered(searchset(other))))

    def test_a_modifier_on_the_entry_holding_a_nested_bundle_leaves_it_unread(
            self) -> None:
        """A modifierExtension on the entry holding the searchset modifies what all it
        holds means: the order is not read, and the lines given are not fully known."""
        entry = answered(searchset(everolimus_order()))
        entry["modifierExtension"] = [{"url": "https://ehr.example/not-given",
                                       "valueBoolean": True}]
        bc = read(batch_response(entry))
        assert bc.case.systemic.therapies == ()
        assert "medication_requests" in bc.unread
        assert bc.history_doubt is not None

    def test_references_resolve_to_a_nested_entry_s_full_url(self) -> None:
        """An order naming its Medication by the urn:uuid of a nested entry."""
        order = everolimus_order()
        del order["medicationCodeableConcept"]
        order["medicationReference"] = {"reference": "urn:uuid:med-ev"}
        nested = searchset(order)
        nested["entry"].append({"fullUrl": "urn:uuid:med-ev", "resource": {
            "resourceType": "Medication", "id": "med-ev", "code": copy.deepcopy(EVEROLIMUS)},
            "search": {"mode": "include"}})
        bc = read(batch_response(answered(nested)))
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.everolimus]

    def test_the_search_signals_see_a_nested_answer(self) -> None:
        """The one rule of what a search result says of itself reads nested Bundles."""
        nested = searchset(allergy(), total=3)
        assert incomplete(batch_response(answered(nested))) is not None
        assert incomplete(batch_response(answered(searchset(allergy())))) is None

    def test_to_case_reads_the_nested_answers(self, tmp_path: Path) -> None:
        """The command line: the order and the intolerance are in the case."""
        found = to_case(tmp_path, batch_response(
            answered(searchset(everolimus_order())),
            answered(searchset(allergy("a-tem", code=TEMSIROLIMUS)))))
        assert [t["agent"] for t in found["case"]["systemic"]["therapies"]] == ["everolimus"]
        assert "temsirolimus" in [i["agent"] for i in found["case"]["systemic"]["intolerances"]]
        assert not any(said.startswith("Bundle") for said in found["ignored"])


class TestNestedAnswersInAPrefetch:
    def test_an_allergy_nested_in_the_allergy_prefetch_rules_its_drug_out(
            self, client: TestClient) -> None:
        """The allergy prefetch holds a penicillin allergy and, nested, a searchset with a
        sirolimus allergy: a sirolimus draft is critical (I15), as it is when the allergy
        is sent at the top."""
        penicillin = allergy("pen", code={"text": "penicillin"})

        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {
                "resourceType": "Bundle", "type": "collection", "entry": [
                    {"resource": penicillin},
                    {"resource": searchset(allergy("sir", code=SIROLIMUS))}]}

        assert critical(order_select(client, record(), SIROLIMUS, change))

    def test_a_nested_answer_not_whole_leaves_the_allergies_unknown(
            self, client: TestClient) -> None:
        """A nested allergy answer with a next page: the list is not read in full, and the
        card says so."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {
                "resourceType": "Bundle", "type": "collection", "entry": [
                    {"resource": searchset(allergy("pen", code={"text": "penicillin"}),
                                           link=[{"relation": "next",
                                                  "url": "https://ehr.example/p2"}])}]}

        cards = order_select(client, record(), SIROLIMUS, change)
        assert "allergies and intolerances could not be read" in details(cards)

    def test_a_batch_response_prefetch_is_no_search_answer(
            self, client: TestClient) -> None:
        """An allergy prefetch sent as a batch-response (the searchset inside it) is not
        taken as the list read: the allergies are unknown, said, and no drug proposed."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "batch-response",
                                     "entry": [answered(searchset(allergy(
                                         "pen", code={"text": "penicillin"})))]}

        cards = order_select(client, record(), SIROLIMUS, change)
        assert "allergies and intolerances could not be read" in details(cards)
        assert "batch-response" in details(cards)


def _search_answered(page: dict[str, Any]) -> list[dict[str, Any]]:
    """The resources the FHIR client reads from a server answering an allergy search
    with ``page``."""
    async def go() -> list[dict[str, Any]]:
        async with FhirClient.for_server(
            "https://ehr.example.org/fhir", AllowList.parse(["https://ehr.example.org/fhir"]),
            transport=httpx.MockTransport(lambda request: httpx.Response(200, json=page)),
        ) as client:
            return await client.search("AllergyIntolerance?patient=p1", "allergies")
    with ThreadPoolExecutor(1) as pool:  # no event loop of this thread is assumed
        return pool.submit(asyncio.run, go()).result()


class TestDraftOrdersHoldNoBundle:
    def test_a_bundle_held_in_draft_orders_is_refused(self, client: TestClient) -> None:
        """order-select's draftOrders holds the drafts themselves: a sirolimus draft in a
        Bundle held in one of its entries had been passed over (no card for a draft of a
        drug the patient may not tolerate); it is refused, naming the entry, never read
        past its checks."""
        draft = {"resourceType": "MedicationRequest", "id": "d1", "status": "draft",
                 "intent": "order", "subject": {"reference": f"Patient/{PATIENT}"},
                 "medicationCodeableConcept": copy.deepcopy(SIROLIMUS)}
        body = hook_request("order-select", PATIENT, prefetch=prefetch_of(record()))
        body["context"].update({
            "selections": ["MedicationRequest/d1"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "Bundle", "type": "collection",
                              "entry": [{"resource": draft}]}}]}})
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 400
        assert "context.draftOrders.entry[0].resource" in r.text


class TestNestedAnswersFromAFhirServer:
    def test_the_resources_of_a_nested_answer_are_read(self) -> None:
        """A server's page holding a searchset in an entry: its allergies are the
        answer's (the allergy check sees the sirolimus allergy)."""
        page = {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": allergy("pen", code={"text": "penicillin"})},
            {"resource": searchset(allergy("sir", code=SIROLIMUS))}]}
        assert [r["id"] for r in _search_answered(page)] == ["pen", "sir"]

    def test_a_nested_answer_not_whole_is_no_usable_answer(self) -> None:
        """The nested searchset has a next page: the search is not read in full."""
        nested = searchset(allergy("sir", code=SIROLIMUS),
                           link=[{"relation": "next", "url": "https://ehr.example.org/p2"}])
        page = {"resourceType": "Bundle", "type": "searchset", "entry": [
            {"resource": allergy("pen", code={"text": "penicillin"})},
            {"resource": nested}]}
        with pytest.raises(FhirFetchError, match=re.escape("Bundle.entry[1].resource")):
            _search_answered(page)


class TestEntriesHoldingOnlyAResponse:
    ALL_PARTS: frozenset[str] = frozenset({
        "conditions", "observations", "procedures", "medications", "medication_requests",
        "medication_administrations", "medication_dispenses", "allergies"})

    def test_failed_requests_leave_the_record_not_read_in_full(self) -> None:
        """Two searches of the batch failed (500, an OperationOutcome error): what they
        would have returned is unknown, an allergy to an mTOR inhibitor or a line given
        among it. The record is read, every part but the patient not in full (as with an
        OperationOutcome error entry), naming the entry, its status and its outcome; the
        recorded 'not contraindicated' is not kept."""
        bc = read(batch_response(
            failed("500 Internal Server Error", "Query AllergyIntolerance?patient=x failed"),
            failed("500 Internal Server Error", "Query MedicationRequest?patient=x failed")))
        assert set(bc.unread) == self.ALL_PARTS
        said = bc.unread["allergies"]
        assert "Bundle.entry[23]" in said and "500" in said and "error: exception" in said
        assert "systemic.mtor_inhibitor_contraindicated" not in bc.sources
        assert bc.history_doubt is not None

    def test_a_404_leaves_the_record_not_read_in_full(self) -> None:
        """A transaction-response entry '404 Not Found' with no outcome."""
        bundle = batch_response(failed("404 Not Found"))
        bundle["type"] = "transaction-response"
        bc = read(bundle)
        assert set(bc.unread) == self.ALL_PARTS
        assert "404 Not Found" in bc.unread["allergies"]

    def test_a_request_that_did_not_fail_gives_nothing_to_read(self) -> None:
        """'201 Created' with no resource (return=minimal): nothing to read, noted; the
        record is read whole."""
        bc = read(batch_response({"response": {"status": "201 Created",
                                               "location": "Observation/o9/_history/1"}}))
        assert bc.unread == {}
        assert any("Bundle.entry[23]" in n and "201 Created" in n and "nothing to read" in n
                   for n in bc.notes)

    def test_a_status_that_cannot_be_read_is_taken_as_failed(self) -> None:
        """A response whose status is no HTTP status: whether the request failed cannot
        be told, so what it would have returned is unknown."""
        bc = read(batch_response({"response": {"status": "done"}}))
        assert set(bc.unread) == self.ALL_PARTS

    def test_an_entry_with_neither_resource_nor_response_is_still_refused(self) -> None:
        """A malformed entry (no resource, no response, no DELETE request) is refused as
        before, naming it."""
        with pytest.raises(InputError) as exc:
            read(batch_response({"fullUrl": "urn:uuid:x"}))
        assert "Bundle.entry[23].resource" in str(exc.value.issues[0])

    def test_a_response_entry_outside_a_response_bundle_is_refused(self) -> None:
        """FHIR allows a response only in a batch-response, a transaction-response or a
        history: in a collection an entry with no resource stays malformed."""
        bundle = record()
        bundle["entry"].append({"response": {"status": "200 OK"}})
        with pytest.raises(InputError):
            read(bundle)

    def test_a_deleted_resource_in_a_history_leaves_the_rest_whole(self) -> None:
        """A history's DELETE entry (no resource, '204'): the resource deleted is not read,
        and the rest of the record is read whole (it had made every part unread)."""
        bundle = copy.deepcopy(example("localized-high-risk"))
        bundle["type"] = "history"
        bundle["entry"].append({"request": {"method": "DELETE",
                                            "url": "Observation/histology-necrosis"},
                                "response": {"status": "204"}})
        bc = read(bundle)
        assert bc.case.histology.necrosis is Feature.unknown
        assert bc.unread == {}


def _histology_record(*drop: str) -> dict[str, Any]:
    """The localized high-risk uterine record without the results ``drop`` names."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") not in drop]
    return bundle


def _component(code: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"code": {"coding": [{"system": PECOMA, "code": code}]}, **value}


def _synoptic(*components: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "synoptic", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "60568-3",
                                 "display": "Pathology Synoptic report"}]},
            "subject": {"reference": "Patient/pat-1001"},
            "effectiveDateTime": "2025-01-06", "component": list(components)}


PRESENT = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "52101004",
                                                "display": "Present"}]}}
ABSENT = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000",
                                               "display": "Absent"}]}}


class TestHistologyAsComponents:
    NECROSIS = ("histology-necrosis", "histology-infiltrative-growth")

    def test_necrosis_present_in_a_synoptic_report_is_read(self) -> None:
        """Necrosis present (S07) and infiltrative growth absent, given as components of a
        synoptic report with the project's codes: read as a panel's stains are, each named
        by its component; the tumour is high risk, not indeterminate."""
        bundle = _histology_record(*self.NECROSIS)
        bundle["entry"].append({"resource": _synoptic(
            _component("necrosis", PRESENT), _component("infiltrative-growth", ABSENT))})
        bc = case_from_bundle(bundle)
        assert bc.case.histology.necrosis is Feature.present
        assert bc.case.histology.infiltrative_growth is Feature.absent
        assert bc.sources["histology.necrosis"] == "Observation/synoptic.component[0]"
        assert "histology.necrosis" not in bc.not_found
        assert assess(bc.case, ON).risk.group == "high"

    def test_a_component_value_that_cannot_be_read_is_found_not_read(self) -> None:
        """Necrosis as valueInteger 1: found, not read, naming the component."""
        bundle = _histology_record(*self.NECROSIS)
        bundle["entry"].append({"resource": _synoptic(
            _component("necrosis", {"valueInteger": 1}))})
        bc = case_from_bundle(bundle)
        assert bc.case.histology.necrosis is Feature.unknown
        assert "histology.necrosis" not in bc.not_found
        assert bc.unreadable["histology.necrosis"].startswith(
            "Observation/synoptic.component[0]")

    def test_a_fact_not_read_from_a_component_is_found_not_read(self) -> None:
        """A margin given as a component (the reader reads the margin with the resection
        only from a result of its own): found, not read, naming the component, never
        'not found'."""
        bundle = _histology_record("resection-margin")
        bundle["entry"].append({"resource": _synoptic(_component("resection-margin", {
            "valueCodeableConcept": {"coding": [{"system": PECOMA, "code": "R0"}]}}))})
        bc = case_from_bundle(bundle)
        assert "surgery.margin" not in bc.not_found
        assert bc.unreadable["surgery.margin"].startswith("Observation/synoptic.component[0]")

    def test_stains_and_histology_in_one_panel_are_both_read(self) -> None:
        """A panel with an HMB-45 stain and necrosis: both read."""
        bundle = _histology_record("histology-necrosis", "ihc-hmb45")
        bundle["entry"].append({"resource": _synoptic(
            _component("ihc-hmb45", {"valueCodeableConcept": {"coding": [
                {"system": PECOMA, "code": "positive"}]}}),
            _component("necrosis", PRESENT))})
        bc = case_from_bundle(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.positive
        assert bc.case.histology.necrosis is Feature.present


def _report(*, status: str = "final", subject: str = "Patient/pat-1001",
            contained_subject: str | None = None) -> dict[str, Any]:
    hmb = {"resourceType": "Observation", "id": "hmb", "status": "final",
           "code": {"coding": [{"system": LOINC, "code": "10487-7",
                                "display": "HMB-45 Ag [Presence] in Tissue by Immune stain"}]},
           "effectiveDateTime": "2025-01-06",
           "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004",
                                                "display": "Positive"}]}}
    if contained_subject is not None:
        hmb["subject"] = {"reference": contained_subject}
    return {"resourceType": "DiagnosticReport", "id": "dr1", "status": status,
            "code": {"coding": [{"system": LOINC, "code": "60567-5"}]},
            "subject": {"reference": subject}, "effectiveDateTime": "2025-01-06",
            "contained": [hmb], "result": [{"reference": "#hmb"}]}


class TestContainedReportResults:
    def test_a_contained_hmb45_result_is_read(self) -> None:
        """HMB-45 positive held only inside the pathology report: read (S24's melanocytic
        evidence), named as the report's contained result; the report is not 'ignored'."""
        bundle = _histology_record("ihc-hmb45")
        bundle["entry"].append({"resource": _report()})
        bc = case_from_bundle(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.positive
        assert bc.sources["immunohistochemistry.hmb45"] == "DiagnosticReport/dr1#hmb"
        assert "DiagnosticReport" not in ignored_types(bc)

    @pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
    def test_a_report_withdrawn_gives_no_result(self, status: str) -> None:
        """A report entered in error or cancelled: its contained results are not read."""
        bundle = _histology_record("ihc-hmb45")
        bundle["entry"].append({"resource": _report(status=status)})
        bc = case_from_bundle(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown
        assert any("DiagnosticReport/dr1" in n and status in n for n in bc.notes)

    def test_a_report_of_another_patient_is_refused(self) -> None:
        """The report names another patient: refused as any resource read would be."""
        bundle = _histology_record("ihc-hmb45")
        bundle["entry"].append({"resource": _report(subject="Patient/someone-else")})
        with pytest.raises(OtherPatientError):
            case_from_bundle(bundle)

    def test_a_contained_result_of_another_patient_is_refused(self) -> None:
        bundle = _histology_record("ihc-hmb45")
        bundle["entry"].append({"resource": _report(contained_subject="Patient/other")})
        with pytest.raises(OtherPatientError):
            case_from_bundle(bundle)

    def test_a_modifier_on_the_report_leaves_its_results_unread(self) -> None:
        bundle = _histology_record("ihc-hmb45")
        report = _report()
        report["modifierExtension"] = [{"url": "https://ehr.example/x", "valueBoolean": True}]
        bundle["entry"].append({"resource": report})
        bc = case_from_bundle(bundle)
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown
        assert any("DiagnosticReport/dr1" in n and "modifierExtension" in n
                   for n in bc.notes)
