"""A topical product of a systemic agent (a sirolimus gel) is no line of systemic treatment.

Patients with PEComa often have tuberous sclerosis complex, and topical sirolimus 0.2 %
gel (Hyftor) is the licensed treatment of its facial angiofibromas: an ordinary entry of
their medication list. The FHIR reader had read such a gel as a systemic sirolimus line,
with no note: the report said "An mTOR inhibitor is already recorded" (ALERT-MTOR-GIVEN)
and asked whether the disease progressed on it (MISS-MTOR-PROGRESSION: answered yes, the
first-line mTOR advice was gone, S12/S13), and CDS order-select gave no card on a
first-line doxorubicin draft. A medication applied where it acts (its route topical,
cutaneous, ophthalmic, otic; a coded product, a Medication.form or the brand saying a
gel, cream, ointment, lotion, eye drops) is no line: it is listed as found but not read,
with why, and noted. Anything saying it is systemic (an oral route, a tablet, a
transdermal route, "PO" in any dosage) keeps the line, and so does a route pecoma cannot
read (the reading before is kept); a dose form named in free text only never drops a
line (the line is read, with a note). A name that describes the product ("Sirolimus 0.2%
topical gel", "Sirolimus 0.1% ointment", "sirolimus intravitreal injection") says so as
the brand does; so does a drug-eluting stent, a device.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, mTOR inhibitors
recorded available and not contraindicated, and no systemic line: the first-line advice
is an mTOR inhibitor (REC-MTOR-FIRST-LINE), and a doxorubicin draft gets the warning that
the guideline puts an mTOR inhibitor first (ALERT-CHEMO-BEFORE-MTOR).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess
from pecoma.case import Agent
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
TOPICAL_ROUTE = {"coding": [{"system": SNOMED, "code": "6064005",
                             "display": "Topical route"}]}
ORAL_ROUTE = {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]}


def _rx(code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": RXNORM, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def statement(concept: dict[str, Any] | None = None, *, rid: str = "ms-1",
              routes: tuple[dict[str, Any], ...] = (), **extra: Any) -> dict[str, Any]:
    """An active MedicationStatement of 2026 (one dosage per route given)."""
    res: dict[str, Any] = {"resourceType": "MedicationStatement", "id": rid,
                           "status": "active", "effectivePeriod": {"start": "2026-03-01"},
                           **extra}
    if concept is not None:
        res["medicationCodeableConcept"] = concept
    if routes:
        res["dosage"] = [{"text": "twice daily", "route": route} for route in routes]
    return res


#: An Epic/Cerner-style statement of Hyftor, named four ways as
#: topical (its RxNorm display, its text, its route, a reason that is no cancer).
HYFTOR = statement(
    {"coding": [{"system": RXNORM, "code": "2626149",
                 "display": "sirolimus 2 MG/ML Topical Gel"}],
     "text": "HYFTOR 0.2 % topical gel"},
    rid="ms-hyftor", routes=(TOPICAL_ROUTE,),
    reasonCode=[{"coding": [{"system": SNOMED, "code": "403820004",
                             "display": "Facial angiofibroma"}]}])

#: A sirolimus gel in the record, however it says it is topical: each is no line.
TOPICAL: dict[str, list[dict[str, Any]]] = {
    "an EHR's Hyftor statement": [HYFTOR],
    "route coded only": [statement(_rx("35302"), routes=(
        {"coding": [{"system": SNOMED, "code": "6064005"}]},))],
    "route words only": [{
        "resourceType": "MedicationRequest", "id": "mr-1", "status": "active",
        "intent": "order", "authoredOn": "2026-03-01",
        "medicationCodeableConcept": {"text": "Sirolimus"},
        "dosageInstruction": [{"route": {"text": "Topical"}}]}],
    "cutaneous route of an administration": [{
        "resourceType": "MedicationAdministration", "id": "ma-1", "status": "completed",
        "effectiveDateTime": "2026-03-01", "medicationCodeableConcept": _rx("35302"),
        "dosage": {"route": {"coding": [{"system": SNOMED, "code": "448598008",
                                         "display": "Cutaneous route"}]}}}],
    "ophthalmic route": [statement({"text": "sirolimus"}, routes=(
        {"coding": [{"system": SNOMED, "code": "54485002"}], "text": "Both eyes"},))],
    "dose form in the display": [statement(_rx("2626149",
                                               "sirolimus 2 MG/ML Topical Gel"))],
    "a product's display with its brand": [statement(_rx(
        "2626149", "sirolimus 2 MG/ML Topical Gel [Hyftor]"))],
    "Medication.form by medicationReference": [
        statement(rid="ms-ref", medicationReference={"reference": "Medication/sir-gel"}),
        {"resourceType": "Medication", "id": "sir-gel", "code": _rx("35302"),
         "form": {"text": "Gel"}}],
    # the same product named generically, not by its brand: it had been read as a
    # systemic sirolimus line (ALERT-MTOR-GIVEN, the first-line advice provisional on
    # whether the disease progressed on it) while "Hyftor" was set aside
    "generic name, topical gel": [statement({"text": "Sirolimus 0.2% topical gel"})],
    "generic name, ointment": [statement({"text": "Sirolimus 0.1% ointment"})],
    "generic name, ointment, no space": [statement({"text": "Sirolimus 0.2% ointment"})],
    "generic name with its use after it": [statement(
        {"text": "Sirolimus 0.2% gel (for facial angiofibromas)"})],
    # an injection into the eye (uveitis) reaches the vitreous, not the blood
    "intravitreal injection by name": [statement(
        {"text": "sirolimus intravitreal injection"})],
    "intravitreal route": [statement({"text": "sirolimus"}, routes=(
        {"coding": [{"system": SNOMED, "code": "418401004",
                     "display": "Intravitreal route"}]},))],
    "brand only": [statement({"text": "Hyftor"})],
    "brand only, as the reference's display": [
        statement(medicationReference={"display": "HYFTOR"})],
}

#: The same shapes saying a systemic product, or a route pecoma cannot read: a line.
SYSTEMIC: dict[str, list[dict[str, Any]]] = {
    "oral route and tablet": [statement(_rx("349208", "sirolimus 1 MG Oral Tablet"),
                                        routes=(ORAL_ROUTE,))],
    "oral solution, no route": [statement({"text": "Rapamune 1 mg/mL oral solution"})],
    # a systemic route is never overridden by the name, nor a systemic name by the route
    "oral route beside a gel's name": [statement(
        _rx("2626149", "sirolimus 2 MG/ML Topical Gel"), routes=({"text": "Oral"},))],
    "topical route beside a tablet's name": [statement(
        _rx("349208", "sirolimus 1 MG Oral Tablet"), routes=(TOPICAL_ROUTE,))],
    "one dosage topical, another oral": [statement(_rx("35302"), routes=(
        TOPICAL_ROUTE, ORAL_ROUTE))],
    # a route pecoma cannot read keeps the reading before, whatever the name says
    "route words pecoma cannot read": [statement({"text": "Hyftor"}, routes=(
        {"text": "As directed"},))],
    "route code pecoma does not list": [statement({"text": "sirolimus gel"}, routes=(
        {"coding": [{"system": SNOMED, "code": "372466002"}]},))],
    # made to reach the blood through the skin
    "transdermal route": [statement({"text": "sirolimus gel"}, routes=(
        {"coding": [{"system": SNOMED, "code": "45890007",
                     "display": "Transdermal route"}]},))],
    "an oral gel": [statement({"text": "sirolimus oral gel"})],
    # a route under or into a tissue written in two words or with a hyphen: its second
    # half ("cutaneous", "ocular") had read as a local route, the line dropped
    "route 'Sub-cutaneous'": [statement(_rx("35302"), routes=({"text": "Sub-cutaneous"},))],
    "route 'Sub cutaneous'": [statement(_rx("35302"), routes=({"text": "Sub cutaneous"},))],
    "route 'Intra-ocular'": [statement(_rx("35302"), routes=({"text": "Intra-ocular"},))],
    "route 'Trans-dermal'": [statement(_rx("35302"), routes=({"text": "Trans-dermal"},))],
    # an intravitreal injection beside an oral dose in one name: the line is read
    "intravitreal and oral in one name": [statement(
        {"text": "sirolimus 440 micrograms intravitreal injection and 2 mg oral"})],
    "a gel cap, a product's description": [statement({"text": "sirolimus 1 mg gel cap"})],
    "Medication.form of a tablet": [
        statement(rid="ms-ref", medicationReference={"reference": "Medication/sir-tab"}),
        {"resourceType": "Medication", "id": "sir-tab", "code": _rx("35302"),
         "form": {"text": "Tablet"}}],
    "sirolimus alone": [statement(_rx("35302"))],
}


def _two_dosages(systemic: str) -> dict[str, Any]:
    """Sirolimus with a topical dosage (coded) and another saying ``systemic`` in its
    text only, with no route."""
    return statement({"text": "sirolimus"}, dosage=[
        {"text": "apply to face", "route": TOPICAL_ROUTE}, {"text": systemic}])


#: A real everolimus or sirolimus line whose record mentions a topical dose form in
#: passing, in free text only, or beside a dosage saying systemic (records met in review
#: and the class around them): each had been dropped as a topical product.
PASSING: dict[str, list[dict[str, Any]]] = {
    "barrier cream beside the everolimus RxNorm code": [statement(
        {"coding": [{"system": RXNORM, "code": "141704"}],
         "text": "everolimus 10 mg once daily (barrier cream for hand-foot)"})],
    "emollient cream in the text": [statement(
        {"text": "Everolimus 10 mg daily; emollient cream to rash"})],
    "eye clinic in the text": [statement(
        {"text": "Everolimus 10 mg (eye clinic to monitor)"})],
    "a gel cap": [statement({"text": "sirolimus 1 mg gel cap"})],
    "a local code's display that is a phrase": [statement(
        {"coding": [{"system": "urn:oid:1.2.3.4", "code": "EVE10",
                     "display": "Everolimus 10 mg (use barrier cream)"}]})],
    "the reference's display mentions a cream": [statement(
        medicationReference={"display": "everolimus 10 mg; urea cream for hands"})],
    "a topical route beside 'PO' in another dosage's text": [_two_dosages("2 mg PO daily")],
    "beside 'p.o.'": [_two_dosages("2 mg p.o. once a day")],
    "beside 'by mouth'": [_two_dosages("2 mg by mouth daily")],
    "beside 'IV'": [_two_dosages("25 mg IV weekly")],
    "beside 'SC'": [_two_dosages("100 mg SC weekly")],
    "beside 'oral'": [_two_dosages("oral, 2 mg daily")],
    "a coded gel beside a patient instruction 'take by mouth'": [statement(
        _rx("2626149", "sirolimus 2 MG/ML Topical Gel"),
        dosage=[{"patientInstruction": "Take 2 mg by mouth once daily"}])],
    "Medication.form gel beside a dosage 'PO'": [
        statement(rid="ms-ref", medicationReference={"reference": "Medication/sir-gel"},
                  dosage=[{"text": "2 mg PO daily"}]),
        {"resourceType": "Medication", "id": "sir-gel", "code": _rx("35302"),
         "form": {"text": "Gel"}}],
}


def bundle_with(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    pid = patient_id(bundle)
    for res in resources:
        res = copy.deepcopy(res)
        if res["resourceType"] != "Medication":
            res["subject"] = {"reference": f"Patient/{pid}"}
        bundle["entry"].append({"resource": res})
    return bundle


def read(*resources: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle_with(*resources), on=ON)


def where(resources: list[dict[str, Any]]) -> str:
    first = resources[0]
    return f"{first['resourceType']}/{first['id']}"


class TestReader:
    @pytest.mark.parametrize("name", list(TOPICAL))
    def test_a_topical_sirolimus_product_is_no_line(self, name: str) -> None:
        """No sirolimus line is read (there was one); the record is listed as found but
        not read, saying why, and a note names it."""
        resources = TOPICAL[name]
        bc = read(*resources)
        assert bc.case.systemic.therapies == (), name
        assert any("a topical sirolimus product, not a systemic treatment line" in x
                   and where(resources) in x for x in bc.not_read), bc.not_read
        assert any(n.startswith(f"{where(resources)}: sirolimus applied where it acts")
                   and "not read as a line of systemic treatment" in n
                   for n in bc.notes), bc.notes

    @pytest.mark.parametrize("name", list(TOPICAL))
    def test_the_first_line_advice_stays_an_mtor_inhibitor(self, name: str) -> None:
        """A patient who never had a systemic mTOR inhibitor: the advice is the mTOR
        inhibitor first (S12, S13), with no "already recorded" alert and no question
        whether the disease progressed on it (answered yes, it had removed the advice)."""
        a = assess(read(*TOPICAL[name]).case, ON)
        assert "REC-MTOR-FIRST-LINE" in [x.id for x in a.recommendations]
        assert "ALERT-MTOR-GIVEN" not in [x.id for x in a.alerts]
        assert "MISS-MTOR-PROGRESSION" not in [x.id for x in a.missing]

    @pytest.mark.parametrize("name", list(SYSTEMIC))
    def test_control_a_systemic_product_of_the_same_shape_stays_a_line(
            self, name: str) -> None:
        """Anything saying systemic, or a route pecoma cannot read: the line is read as
        before (a systemic route is never overridden by a topical word)."""
        bc = read(*SYSTEMIC[name])
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.sirolimus], name
        assert not any("topical" in x for x in bc.not_read), bc.not_read

    @pytest.mark.parametrize("name", [
        "Everolimus-eluting coronary stent",
        "XIENCE Sierra Everolimus Eluting Coronary Stent System",
        "Sirolimus-eluting stent (Cypher)"])
    def test_a_drug_eluting_stent_is_no_line(self, name: str) -> None:
        """A drug-eluting coronary stent is a device releasing the drug into the vessel
        wall where it is placed: no systemic treatment. It had been read as an everolimus
        line for advanced disease (ALERT-MTOR-GIVEN, the first-line mTOR advice and
        nab-sirolimus provisional on whether the disease progressed on it)."""
        bc = read(statement({"text": name}))
        assert bc.case.systemic.therapies == ()
        assert any("not a systemic treatment line" in x for x in bc.not_read), bc.not_read
        a = assess(bc.case, ON)
        assert "ALERT-MTOR-GIVEN" not in [x.id for x in a.alerts]
        assert "MISS-MTOR-PROGRESSION" not in [x.id for x in a.missing]
        [rec] = [x for x in a.recommendations if x.id == "REC-MTOR-FIRST-LINE"]
        assert rec.conditional_on == ()

    def test_a_topical_cytotoxic_is_no_line_either(self) -> None:
        """Fluorouracil cream (actinic keratoses) had been read as a line of other
        chemotherapy; an injection of it stays one."""
        bc = read(statement(_rx("4492", "fluorouracil 50 MG/ML Topical Cream")))
        assert bc.case.systemic.therapies == ()
        assert any("a topical fluorouracil product" in x for x in bc.not_read), bc.not_read

        bc = read(statement({"text": "fluorouracil 50 MG/ML Injectable Solution"}))
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.other_chemotherapy]

    def test_an_intolerance_recorded_on_a_topical_product_still_counts(self) -> None:
        """A gel stopped for an adverse reaction: no line, but the intolerance of
        sirolimus is kept (the safer reading, as an allergy entry naming sirolimus is,
        whatever the product; I15 then rules out every mTOR inhibitor), and the note says
        it was recorded on a topical product, for the team to correct the case if it was
        only a reaction of the skin to that product."""
        gel = statement({"text": "Hyftor 0.2 % gel"}, status="stopped",
                        statusReason=[{"text": "Adverse reaction"}])
        bc = read(gel)
        assert bc.case.systemic.therapies == ()
        assert [x.agent for x in bc.case.systemic.intolerances] == [Agent.sirolimus]
        assert any("read as an intolerance of sirolimus (a topical product, no line given)"
                   in n and "recorded on a topical product" in n for n in bc.notes), bc.notes


def _agent(resources: list[dict[str, Any]]) -> Agent:
    words = json.dumps(resources).lower()
    return Agent.everolimus if "everolimus" in words or "141704" in words else Agent.sirolimus


class TestPassingMention:
    """A topical dose form is read only from what the record states as the product's own
    or its route (a coded or worded route, a name describing the product, coded or
    written, ``Medication.form``, the brand Hyftor), never from a word in passing;
    and any dosage saying systemic, with or without a route, keeps the line. The rule
    had dropped a real everolimus line whose text mentioned a barrier cream, even beside
    the everolimus RxNorm code: the patient was told to start an mTOR inhibitor first
    line, unconditionally, with no "already given" alert and no question whether the
    disease progressed on it (the less safe error)."""

    @pytest.mark.parametrize("name", list(PASSING))
    def test_the_line_is_read(self, name: str) -> None:
        """The line is read as before the topical rule, and nothing is listed as a
        topical product."""
        resources = PASSING[name]
        bc = read(*resources)
        assert [t.agent for t in bc.case.systemic.therapies] == [_agent(resources)], name
        assert not any("topical" in x for x in bc.not_read), bc.not_read

    @pytest.mark.parametrize("name", list(PASSING))
    def test_the_advice_knows_the_mtor_inhibitor_was_given(self, name: str) -> None:
        """An mTOR inhibitor recorded as given: the report says so (ALERT-MTOR-GIVEN) and
        asks whether the disease progressed on it (MISS-MTOR-PROGRESSION), the question
        the first-line mTOR advice waits on (S12, S13)."""
        a = assess(read(*PASSING[name]).case, ON)
        assert "ALERT-MTOR-GIVEN" in [x.id for x in a.alerts]
        assert "MISS-MTOR-PROGRESSION" in [x.id for x in a.missing]
        [rec] = [x for x in a.recommendations if x.id == "REC-MTOR-FIRST-LINE"]
        assert "MISS-MTOR-PROGRESSION" in rec.conditional_on

    @pytest.mark.parametrize("name", [n for n in PASSING if n != "a gel cap"])
    def test_the_doubt_is_noted(self, name: str) -> None:
        """Where the record may say a topical product (a word in passing, or a topical
        route or form beside a dosage saying systemic), a note says what, that the line
        is read as systemic, the safer reading, and how to correct it."""
        resources = PASSING[name]
        bc = read(*resources)
        assert any(n.startswith(f"{where(resources)}: ")
                   and "read as a line of systemic treatment (the safer reading)" in n
                   and "if it was a topical product only, correct the record" in n
                   for n in bc.notes), bc.notes

    def test_a_topical_word_in_passing_beside_a_real_gel_is_no_doubt(self) -> None:
        """The rule cuts one way only: the Hyftor statement, whose text and dosage say
        nothing systemic, stays no line, with no note of doubt."""
        bc = read(HYFTOR)
        assert bc.case.systemic.therapies == ()
        assert not any("the safer reading" in n for n in bc.notes), bc.notes


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp: Path = tmp_path_factory.mktemp("topical")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()), today=lambda: ON),
                      base_url="http://localhost")


def _draft(rid: str, concept: dict[str, Any], pid: str,
           **extra: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "draft",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "medicationCodeableConcept": concept, **extra}


def order_select(client: TestClient, bundle: dict[str, Any], drafts: list[dict[str, Any]],
                 selected: str) -> list[dict[str, Any]]:
    pid = patient_id(bundle)
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle, include=True))
    body["context"].update({
        "selections": [f"MedicationRequest/{selected}"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": d} for d in drafts]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["cards"]
    return found


DOXORUBICIN = {"coding": [{"system": RXNORM, "code": "3639", "display": "doxorubicin"}],
               "text": "DOXOrubicin 75 mg/m2 IV q21d"}


class TestCdsHooks:
    @pytest.mark.parametrize("name", ["an EHR's Hyftor statement",
                                      "Medication.form by medicationReference",
                                      "brand only"])
    def test_a_doxorubicin_draft_keeps_its_warning_beside_a_sirolimus_gel(
            self, client: TestClient, name: str) -> None:
        """The gel is no mTOR inhibitor given: a first-line doxorubicin draft gets the
        warning that the guideline puts an mTOR inhibitor first, with its replacement
        (it had got no card at all)."""
        bundle = bundle_with(*TOPICAL[name])
        pid = patient_id(bundle)
        [card] = order_select(client, bundle, [_draft("d-1", DOXORUBICIN, pid)], "d-1")
        assert card["indicator"] == "warning"
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert card["summary"].startswith("Chemotherapy first line for advanced PEComa")
        assert card["suggestions"]

    def test_control_a_doxorubicin_draft_after_an_oral_sirolimus_line_gets_no_card(
            self, client: TestClient) -> None:
        """A systemic sirolimus line of the same shape: the draft is no first line."""
        bundle = bundle_with(*SYSTEMIC["oral route and tablet"])
        pid = patient_id(bundle)
        assert order_select(client, bundle, [_draft("d-1", DOXORUBICIN, pid)], "d-1") == []

    def test_patient_view_says_no_mtor_inhibitor_is_recorded(
            self, client: TestClient) -> None:
        """Beside the gel, patient-view gives the first-line mTOR advice, never "An
        mTOR inhibitor is already recorded"; the note on the gel is shown."""
        bundle = bundle_with(HYFTOR)
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        detail = " ".join(c["detail"] for c in r.json()["cards"])
        assert "An mTOR inhibitor is already recorded" not in detail
        assert "An mTOR inhibitor is the first-line" in detail
        assert "ms-hyftor: sirolimus applied where it acts" in detail
        assert "not read as a line of systemic treatment" in detail

    def test_a_gel_in_the_order_set_is_no_mtor_inhibitor_order(
            self, client: TestClient) -> None:
        """A Hyftor draft beside the selected doxorubicin draft: the order set holds no
        mTOR-inhibitor order, so the replacement is still proposed (it had been withheld:
        "the order set already holds an mTOR-inhibitor order")."""
        bundle = bundle_with()
        pid = patient_id(bundle)
        gel = _draft("d-gel", {"text": "Hyftor 0.2 % gel"}, pid,
                     dosageInstruction=[{"route": TOPICAL_ROUTE}])
        [card] = order_select(client, bundle, [_draft("d-1", DOXORUBICIN, pid), gel], "d-1")
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert "already holds an mTOR-inhibitor order" not in card["detail"]
        assert card["suggestions"]

    def test_a_planned_gel_is_no_mtor_inhibitor_order_in_place(
            self, client: TestClient) -> None:
        """A Hyftor order of intent 'plan' in the record: no mTOR inhibitor is "already
        planned", so the replacement of a doxorubicin draft is still proposed (it had
        been withheld: "the record already holds an mTOR inhibitor planned")."""
        planned = {"resourceType": "MedicationRequest", "id": "mr-gel", "status": "active",
                   "intent": "plan", "authoredOn": "2026-11-20",
                   "medicationCodeableConcept": {"text": "Hyftor"}}
        bundle = bundle_with(planned)
        pid = patient_id(bundle)
        [card] = order_select(client, bundle, [_draft("d-1", DOXORUBICIN, pid)], "d-1")
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
        assert "mTOR inhibitor planned" not in card["detail"]
        assert card["suggestions"]
        # still an order in the record, for the allergy check
        bc = read(planned)
        assert [(p.where, p.topical) for p in bc.planned] == [("MedicationRequest/mr-gel",
                                                               True)]

    def test_a_sirolimus_allergy_still_flags_a_gel_given_now(
            self, client: TestClient) -> None:
        """The gel is no line, but an order of it stays checked against the allergy list:
        beside an active sirolimus allergy, the gel given now gets the critical card,
        naming it topical (an allergy to sirolimus remains one, whatever the product)."""
        bundle = bundle_with(HYFTOR, {
            "resourceType": "AllergyIntolerance", "id": "a-sir",
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/"
                                           "CodeSystem/allergyintolerance-clinical",
                                           "code": "active"}]},
            "category": ["medication"], "code": _rx("35302", "sirolimus")})
        bundle["entry"][-1]["resource"]["patient"] = bundle["entry"][-1]["resource"].pop(
            "subject")
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        [critical] = [c for c in r.json()["cards"] if c["indicator"] == "critical"
                      and c["summary"].startswith("Order of sirolimus given now")]
        assert "MedicationStatement/ms-hyftor: topical sirolimus, given now" in (
            critical["detail"])

    def test_a_topical_cytotoxic_draft_is_no_first_line(self, client: TestClient) -> None:
        """A fluorouracil cream drafted for a skin lesion, coded as the product (RxNorm's
        display) or with a topical route, is no chemotherapy first line: no warning (it
        had got "Chemotherapy first line for advanced PEComa"). Named a cream by the words
        of its name alone ("fluorouracil 5 % cream", a product's description), it is the
        same product, read the same; a cream mentioned in passing in a phrase is read as
        the drug (never drops a line): the warning stands, the safer error."""
        bundle = bundle_with()
        pid = patient_id(bundle)
        coded = _draft("d-5fu", _rx("4492", "fluorouracil 50 MG/ML Topical Cream"), pid)
        assert order_select(client, bundle, [coded], "d-5fu") == []
        routed = _draft("d-5fu", {"text": "fluorouracil 5 % cream"}, pid,
                        dosageInstruction=[{"route": TOPICAL_ROUTE}])
        assert order_select(client, bundle, [routed], "d-5fu") == []
        text = _draft("d-5fu", {"text": "fluorouracil 5 % cream"}, pid)
        assert order_select(client, bundle, [text], "d-5fu") == []
        passing = _draft("d-5fu", {"text": "fluorouracil 750 mg IV; barrier cream"}, pid)
        [card] = order_select(client, bundle, [passing], "d-5fu")
        assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"

    @pytest.mark.parametrize("name", ["barrier cream beside the everolimus RxNorm code",
                                      "a topical route beside 'PO' in another dosage's "
                                      "text"])
    def test_a_doxorubicin_draft_after_an_mtor_line_mentioning_a_cream_gets_no_card(
            self, client: TestClient, name: str) -> None:
        """The everolimus (sirolimus) line is read: a doxorubicin draft is no first line,
        and no card proposes replacing it with an mTOR inhibitor already given (it had
        got "Chemotherapy first line for advanced PEComa", with that replacement)."""
        bundle = bundle_with(*PASSING[name])
        pid = patient_id(bundle)
        assert order_select(client, bundle, [_draft("d-1", DOXORUBICIN, pid)], "d-1") == []
