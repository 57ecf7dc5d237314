"""Which agent a medication resource names, and whether it was given (fhir/medications.py).

Expected agents are written by hand: the RxNorm ingredient codes are those listed, with
their published source, in RXNORM_NAMES; the names are those of codes.AGENT_NAMES.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given as hyp_given
from hypothesis import settings
from hypothesis import strategies as st

from pecoma.case import Agent
from pecoma.fhir import codes as c
from pecoma.fhir.medications import (
    ATC,
    RXNORM,
    FirstDay,
    Given,
    agent_of,
    agent_of_concept,
    drugs_named,
    drugs_of,
    first_day,
    given,
    medication_concept,
    resolver_for,
    started_on,
    unreadable_medication,
)
from pecoma.fhir.reader import Planned, case_from_bundle

from fhir_support import example


def _rx(code: str, display: str | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": RXNORM, "code": code}
    if display is not None:
        coding["display"] = display
    return {"coding": [coding]}


def _request(**extra: Any) -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "mr1", "status": "active",
            "intent": "order", "subject": {"reference": "Patient/p1"}, **extra}


class TestAgentOfConcept:
    @pytest.mark.parametrize(("code", "agent"), [
        ("35302", Agent.sirolimus),  # sirolimus (IN)
        ("258355", Agent.sirolimus),  # Rapamune (BN)
        ("2586864", Agent.nab_sirolimus),  # Fyarro (BN): protein-bound sirolimus
        ("657797", Agent.temsirolimus),
        ("141704", Agent.everolimus),
        ("3639", Agent.doxorubicin),
        ("5657", Agent.ifosfamide),
        ("12574", Agent.other_chemotherapy),  # gemcitabine alone is not a listed regimen
    ])
    def test_rxnorm_code_alone(self, code: str, agent: Agent) -> None:
        """An order coded by an RxNorm ingredient or brand alone, with no text, is read."""
        assert agent_of_concept(_rx(code)) is agent

    def test_rxnorm_clinical_drug_by_display(self) -> None:
        """A clinical-drug code not listed is read by its display (mCODE's own example)."""
        concept = _rx("1790099", "10 ML doxorubicin hydrochloride 2 MG/ML Injection")
        assert agent_of_concept(concept) is Agent.doxorubicin

    def test_unknown_code_without_text(self) -> None:
        """An RxNorm code the project does not know, with no text, names no agent."""
        assert agent_of_concept(_rx("161")) is None

    def test_other_system_same_code(self) -> None:
        """The code 35302 in another system is not sirolimus."""
        assert agent_of_concept({"coding": [{"system": "http://x", "code": "35302"}]}) is None

    def test_project_code(self) -> None:
        """The project's own agent code is read."""
        concept = {"coding": [{"system": c.PECOMA_SYSTEM, "code": "agent-pazopanib"}]}
        assert agent_of_concept(concept) is Agent.pazopanib

    @pytest.mark.parametrize(("text", "agent"), [
        ("Temsirolimus 25 mg IV weekly", Agent.temsirolimus),  # not plain sirolimus
        ("nab-sirolimus 100 mg/m2", Agent.nab_sirolimus),
        ("Afinitor (everolimus) 10 mg", Agent.everolimus),
        ("Doxorubicin and ifosfamide", Agent.doxorubicin_ifosfamide),
        ("epirubicin hydrochloride 2 MG/ML Injectable Solution", Agent.epirubicin),
        ("Ellence 50 mg", Agent.epirubicin),
        ("Pharmorubicin", Agent.epirubicin),
        # the same brand as most of Europe spells it (Farmorubicin, Farmorubicine,
        # Farmorubicina): had been read as no drug, no allergy or first-line card
        ("Farmorubicin 60 mg", Agent.epirubicin),
        ("FARMORUBICINE 50 mg", Agent.epirubicin),
        ("Farmorubicina 10 mg", Agent.epirubicin),
        ("Epirubicin + ifosfamide", Agent.epirubicin_ifosfamide),
    ])
    def test_names(self, text: str, agent: Agent) -> None:
        """Names in the text are read, the most specific first."""
        assert agent_of_concept({"text": text}) is agent

    @pytest.mark.parametrize(("text", "agent"), [
        # nab-sirolimus by its trial name (AMPECT): read as nothing, a patient who
        # progressed on it would be offered an mTOR inhibitor as if never given one
        ("ABI-009 100 mg/m2 IV days 1 and 8", Agent.nab_sirolimus),
        ("abi 009", Agent.nab_sirolimus),
        # anticancer drugs the guideline does not name: a line of another agent, not
        # "no systemic treatment"
        ("Pembrolizumab 200 mg IV q3w", Agent.other),
        ("KEYTRUDA 25 MG/ML Injectable Solution", Agent.other),
        ("cabozantinib 60 mg", Agent.other),
        ("Bevacizumab", Agent.other),
        # still the regimens they were
        ("irinotecan", Agent.other_chemotherapy),
        ("Everolimus with pembrolizumab (trial)", Agent.everolimus),
    ])
    def test_names_of_other_agents(self, text: str, agent: Agent) -> None:
        assert agent_of_concept({"text": text}) is agent

    @pytest.mark.parametrize(("code", "agent"), [
        ("L04AA10", Agent.sirolimus),
        ("L01EG01", Agent.temsirolimus),
        ("L01EG02", Agent.everolimus),
        ("L01DB01", Agent.doxorubicin),
        # epirubicin is an anthracycline: read as 'other chemotherapy' before, its line
        # was not anthracycline-based chemotherapy given (S14's option shown as untried)
        ("L01DB03", Agent.epirubicin),
        ("L01XE11", Agent.pazopanib),
        ("L01EG04", Agent.nab_sirolimus),  # sirolimus for cancer: the protein-bound form
        ("l01ff02", Agent.other),  # pembrolizumab: an antineoplastic pecoma does not list
        ("L01XC18", Agent.other),
    ])
    def test_atc_code_alone(self, code: str, agent: Agent) -> None:
        """A medication coded by WHO ATC alone (as European EHRs code them) is read."""
        assert agent_of_concept({"coding": [{"system": ATC, "code": code}]}) is agent

    @pytest.mark.parametrize("concept", [
        {"coding": [{"system": ATC, "code": "L01EG03"}]},
        {"coding": [{"system": ATC, "code": "L01EG"}]},
        {"text": "Ridaforolimus 40 mg"},
    ])
    def test_an_mtor_inhibitor_pecoma_has_no_agent_for_is_not_read_as_another_agent(
        self, concept: dict[str, Any]
    ) -> None:
        """The ATC group of mTOR inhibitors (L01EG) had been read as 'another
        antineoplastic': a line of an mTOR inhibitor counted as none. It is not an agent
        of the case format, so the record says it cannot be identified as a line."""
        assert agent_of_concept(concept) is None
        reason = unreadable_medication(_request(medicationCodeableConcept=concept))
        assert reason is not None and "mTOR inhibitor" in reason

    def test_atc_outside_antineoplastics_names_nothing(self) -> None:
        """N02BE01 (paracetamol) is no systemic anticancer agent."""
        assert agent_of_concept({"coding": [{"system": ATC, "code": "N02BE01"}]}) is None
        assert unreadable_medication(_request(medicationCodeableConcept={
            "coding": [{"system": ATC, "code": "L01FF02"}]})) is None

    def test_not_a_concept(self) -> None:
        """Anything but an object names no agent (never an exception)."""
        assert agent_of_concept("sirolimus") is None
        assert agent_of_concept({"coding": "sirolimus"}) is None


class TestAgentOf:
    def test_codeable_concept(self) -> None:
        """medicationCodeableConcept is read."""
        assert agent_of(_request(medicationCodeableConcept=_rx("35302"))) is Agent.sirolimus

    def test_reference_in_bundle(self) -> None:
        """medicationReference resolves against the resources the caller holds."""
        med = {"resourceType": "Medication", "id": "m1", "code": _rx("141704")}
        order = _request(medicationReference={"reference": "Medication/m1"})
        assert agent_of(order, resolver_for([med])) is Agent.everolimus

    def test_absolute_reference(self) -> None:
        """An absolute reference resolves to the Medication held by Type/id when its
        server is the record's (compared as FHIR compares bases: host in any case, a
        trailing slash aside), and names no drug when it is on another server or there
        is no server to compare it with: Medication/m1 there may be another drug. It had
        resolved by its last two parts whatever the server, so an order of another
        server's Medication/m1 was read as the temsirolimus held here."""
        med = {"resourceType": "Medication", "id": "m1", "code": _rx("657797")}
        order = _request(medicationReference={"reference": "https://ehr.example/fhir/"
                                                            "Medication/m1"})
        assert agent_of(order, resolver_for([med], None, ["https://EHR.example/fhir/"])) \
            is Agent.temsirolimus
        assert agent_of(order, resolver_for([med], None, ["https://other.example/fhir"])) \
            is None
        assert agent_of(order, resolver_for([med], None, ["https://ehr.example/r4"])) is None
        assert agent_of(order, resolver_for([med])) is None

    def test_full_url(self) -> None:
        """A urn:uuid reference resolves by the entry's fullUrl."""
        med = {"resourceType": "Medication", "code": _rx("3639")}
        order = _request(medicationReference={"reference": "urn:uuid:1234"})
        assert agent_of(order, resolver_for([], {"urn:uuid:1234": med})) is Agent.doxorubicin

    def test_contained(self) -> None:
        """A contained Medication (#id) resolves without the caller's help."""
        order = _request(
            contained=[{"resourceType": "Medication", "id": "med",
                        "code": {"text": "Sirolimus 1 mg tablet"}}],
            medicationReference={"reference": "#med"})
        assert agent_of(order) is Agent.sirolimus

    def test_ingredients(self) -> None:
        """A Medication coded only by its ingredients is read; two make the regimen."""
        med = {"resourceType": "Medication", "id": "m2", "ingredient": [
            {"itemCodeableConcept": _rx("3639")}, {"itemCodeableConcept": _rx("5657")}]}
        order = _request(medicationReference={"reference": "Medication/m2"})
        assert agent_of(order, resolver_for([med])) is Agent.doxorubicin_ifosfamide

    def test_mtor_never_hidden(self) -> None:
        """Where several drugs are named, an mTOR inhibitor among them is the reading."""
        med = {"resourceType": "Medication", "id": "m3", "ingredient": [
            {"itemCodeableConcept": _rx("3639")}, {"itemCodeableConcept": _rx("35302")}]}
        order = _request(medicationReference={"reference": "Medication/m3"})
        assert agent_of(order, resolver_for([med])) is Agent.sirolimus

    def test_reference_display(self) -> None:
        """An unresolved reference with a display is read by the display."""
        order = _request(medicationReference={"reference": "Medication/x",
                                              "display": "everolimus 10 MG Oral Tablet"})
        assert agent_of(order) is Agent.everolimus

    def test_unrelated_drug(self) -> None:
        """A drug the guideline does not concern names no agent."""
        assert agent_of(_request(medicationCodeableConcept={"text": "Paracetamol"})) is None

    def test_medication_concept(self) -> None:
        """The concept found is returned (the order's own, else the Medication's code)."""
        med = {"resourceType": "Medication", "id": "m1", "code": _rx("141704")}
        order = _request(medicationReference={"reference": "Medication/m1"})
        assert medication_concept(order, resolver_for([med])) == _rx("141704")
        assert medication_concept(_request()) is None


class TestUnreadable:
    def test_unresolved_reference(self) -> None:
        """A reference that resolves nowhere, with no display, cannot be read: say so."""
        order = _request(medicationReference={"reference": "Medication/gone"})
        reason = unreadable_medication(order)
        assert reason is not None and "Medication/gone" in reason

    def test_no_medication(self) -> None:
        """Neither element: cannot be read."""
        assert unreadable_medication(_request()) is not None

    def test_empty_concept(self) -> None:
        """A concept with neither code nor text cannot be read."""
        assert unreadable_medication(_request(medicationCodeableConcept={})) is not None

    def test_named_medication_is_readable_even_if_not_an_agent(self) -> None:
        """A medication named (text or display) is readable, agent or not: acetaminophen
        is not a PEComa agent, and the name says so."""
        named = {"coding": [{"system": RXNORM, "code": "161", "display": "acetaminophen"}]}
        assert unreadable_medication(_request(medicationCodeableConcept=named)) is None
        med = {"resourceType": "Medication", "id": "m1", "code": {"text": "Acetaminophen"}}
        order = _request(medicationReference={"reference": "Medication/m1"})
        assert unreadable_medication(order, resolver_for([med])) is None

    def test_only_an_unknown_code_is_not_readable(self) -> None:
        """Only an RxNorm code pecoma does not list (845509 could be a brand of an mTOR
        inhibitor as far as pecoma knows): not readable, and the reason names the code,
        so that a caller never takes it for "not an agent"."""
        reason = unreadable_medication(_request(medicationCodeableConcept=_rx("845509")))
        assert reason is not None and f"{RXNORM}|845509" in reason
        med = {"resourceType": "Medication", "id": "m1", "code": _rx("845509")}
        order = _request(medicationReference={"reference": "Medication/m1"})
        assert unreadable_medication(order, resolver_for([med])) is not None
        # a code pecoma knows is readable by itself
        assert unreadable_medication(_request(medicationCodeableConcept=_rx("35302"))) is None

    @pytest.mark.parametrize(("name", "agent"), [
        ("Afinitor 10 MG Oral Tablet", Agent.everolimus),
        ("Torisel 25 MG/ML Injectable Solution", Agent.temsirolimus),
        ("Rapamune 1 MG Oral Tablet", Agent.sirolimus),
        ("Doxil 2 MG/ML Injectable Suspension", Agent.doxorubicin),
    ])
    def test_brand_names_alone(self, name: str, agent: Agent) -> None:
        assert agent_of(_request(medicationCodeableConcept={"text": name})) is agent


class TestGiven:
    @pytest.mark.parametrize(("kind", "status", "expected"), [
        ("MedicationRequest", "active", Given.given),
        ("MedicationRequest", "completed", Given.given),
        ("MedicationRequest", "stopped", Given.given),  # started, then stopped
        ("MedicationRequest", "cancelled", Given.not_given),
        ("MedicationRequest", "draft", Given.planned),
        ("MedicationRequest", "entered-in-error", Given.error),
        ("MedicationRequest", "unknown", Given.unknown),
        ("MedicationAdministration", "completed", Given.given),
        ("MedicationAdministration", "in-progress", Given.given),
        ("MedicationAdministration", "not-done", Given.not_given),
        ("MedicationStatement", "active", Given.given),
        ("MedicationStatement", "intended", Given.planned),
        ("MedicationStatement", "not-taken", Given.not_given),
        ("MedicationStatement", "entered-in-error", Given.error),
        ("MedicationStatement", "bogus", Given.unknown),
        ("Observation", "final", Given.unknown),
    ])
    def test_status(self, kind: str, status: str, expected: Given) -> None:
        """The R4 status value sets decide, one row per status."""
        assert given({"resourceType": kind, "status": status, "intent": "order"}) is expected

    def test_plan_intent(self) -> None:
        """An active proposal or plan is not an order: planned, not given."""
        assert given(_request(intent="plan")) is Given.planned
        assert given(_request(intent="proposal")) is Given.planned
        # an option of a group and a patient's own request are no order either: an
        # everolimus 'option' read as given silenced the chemotherapy-first warning
        assert given(_request(intent="option")) is Given.planned
        assert given(_request(intent="directive")) is Given.planned
        assert given(_request(intent="original-order")) is Given.given

    def test_do_not_perform(self) -> None:
        """An order not to give the drug is not given."""
        assert given(_request(doNotPerform=True)) is Given.not_given

    @pytest.mark.parametrize("odd", [{"intent": []}, {"intent": {"x": 1}}, {"intent": 5},
                                     {"doNotPerform": "true"}, {"doNotPerform": []}])
    def test_malformed_order_fields_leave_it_unknown(self, odd: dict[str, object]) -> None:
        """An intent or doNotPerform of the wrong type (the EHR's record is malformed):
        whether the drug was ordered is unknown, never assumed, and nothing raises."""
        assert given(_request(**odd)) is Given.unknown

    def test_future_start(self) -> None:
        """An order starting after the evaluation day is planned."""
        order = _request(authoredOn="2026-12-20")
        assert given(order, dt.date(2026, 12, 1)) is Given.planned
        assert given(order, dt.date(2026, 12, 20)) is Given.given


    @pytest.mark.parametrize("order", [
        _request(authoredOn="2026-11-20", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2027-01"}}}}]),
        _request(authoredOn="2026-11-20", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2027"}}}}]),
        {"resourceType": "MedicationStatement", "status": "active",
         "effectivePeriod": {"start": "2027-01"}},
    ])
    def test_a_partial_start_after_the_day_is_planned(self, order: dict[str, Any]) -> None:
        """Read on 2026-12-06, a start written "2027-01" or "2027" can only fall after
        that day: the order was read as given (from the day it was written, 2026-11-20,
        or with no day at all). It is planned."""
        assert given(order, dt.date(2026, 12, 6)) is Given.planned

    def test_a_partial_start_spanning_the_day_may_have_started(self) -> None:
        """"2026-12" read on 2026-12-06 may be 1 December (started) or 20 December
        (not yet): neither given nor planned can be said, and it is neither. Read on
        the month's last day, it has started."""
        order = _request(authoredOn="2026-11-20", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2026-12"}}}}])
        assert given(order, dt.date(2026, 12, 6)) is Given.maybe_started
        assert given(order, dt.date(2026, 12, 31)) is Given.given
        assert given(order, dt.date(2026, 11, 30)) is Given.planned

    @pytest.mark.parametrize(("start", "on", "expected"), [
        # the date as written, in its own offset, is the day: 6 December in New York
        ("2026-12-06T23:30:00-05:00", dt.date(2026, 12, 6), Given.given),
        # 7 December in Tokyo but 6 December in UTC: within 6 December by the rule for
        # times (its day in its own zone, or its moment in UTC): begun, never a plan
        ("2026-12-07T01:00:00+09:00", dt.date(2026, 12, 6), Given.given),
        # 7 December in both: after 6 December
        ("2026-12-07T10:00:00+09:00", dt.date(2026, 12, 6), Given.planned),
    ])
    def test_a_start_s_day_is_the_date_written_in_its_own_offset(
            self, start: str, on: dt.date, expected: Given) -> None:
        """The rule for a dateTime with a time zone: its day is the date written in its
        own offset, as the reader takes every other day of the record; a time whose
        moment in UTC falls on or before the day read for is within it too (the rule
        for times of results), so a dose given at 01:00 in Tokyo on 7 December, 16:00
        UTC on 6 December, has begun when read for 6 December."""
        order = _request(dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": start}}}}])
        assert given(order, on) is expected


class TestStartedOn:
    def test_effective(self) -> None:
        """Administration and statement: effective[x]."""
        assert started_on({"resourceType": "MedicationAdministration",
                           "effectivePeriod": {"start": "2024-03-01T10:00:00Z"}}) == (
            dt.date(2024, 3, 1))
        assert started_on({"resourceType": "MedicationStatement",
                           "effectiveDateTime": "2024-03-02"}) == dt.date(2024, 3, 2)

    def test_request_dosage_bounds_over_authored(self) -> None:
        """Request: the dosage's bounds come before the day it was written."""
        order = _request(authoredOn="2024-01-05", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2024-01-10"}}}}])
        assert started_on(order) == dt.date(2024, 1, 10)
        assert started_on(_request(authoredOn="2024-01-05")) == dt.date(2024, 1, 5)

    def test_partial_date(self) -> None:
        """A partial date stays unknown."""
        assert started_on(_request(authoredOn="2024-01")) is None

    def test_a_partial_start_is_not_replaced_by_the_day_written(self) -> None:
        """An order written 2025-02-20 to start in March 2025: its start was read as
        2025-02-20 (authoredOn), a day the record never gave as the start. The start is
        March 2025, its day unknown; first_day gives the days it may be."""
        order = _request(authoredOn="2025-02-20", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2025-03"}}}}])
        assert started_on(order) is None
        assert first_day(order) == FirstDay(dt.date(2025, 3, 1), dt.date(2025, 3, 31),
                                            "2025-03")
        statement = {"resourceType": "MedicationStatement",
                     "effectivePeriod": {"start": "2024"}}
        assert first_day(statement) == FirstDay(dt.date(2024, 1, 1), dt.date(2024, 12, 31),
                                                "2024")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["35302", RXNORM, "#m", "Medication/m1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["resourceType", "status", "intent", "medicationCodeableConcept",
                         "medicationReference", "reference", "coding", "system", "code",
                         "text", "display", "contained", "id", "ingredient",
                         "itemCodeableConcept", "dosageInstruction", "timing", "repeat",
                         "boundsPeriod", "start", "event", "authoredOn",
                         "effectiveDateTime", "effectivePeriod", "dispenseRequest"]),
        inner, max_size=5),
    max_leaves=25)


class TestOddInput:
    @hyp_given(_JSON, _JSON)
    @settings(max_examples=300, deadline=None)
    def test_never_raises(self, resource: Any, other: Any) -> None:
        """Whatever an EHR sends as a medication (or a draft order), the functions answer
        and never raise."""
        resolve = resolver_for([other] if isinstance(other, dict) else [])
        if not isinstance(resource, dict):
            resource = {"value": resource}
        agent_of(resource, resolve)
        unreadable_medication(resource, resolve)
        medication_concept(resource, resolve)
        given(resource, dt.date(2026, 1, 1))
        started_on(resource)
        drugs_of(resource, resolve)


class TestDrugsNamed:
    @pytest.mark.parametrize(("concept", "drugs"), [
        (_rx("56946", "paclitaxel"), {"paclitaxel"}),  # RxNorm ingredient, listed
        (_rx("56946"), {"paclitaxel"}),  # the code alone
        ({"text": "Taxol 175 mg/m2 IV"}, {"paclitaxel"}),  # the brand names the drug
        (_rx("12574"), {"gemcitabine"}),
        ({"text": "Gemcitabine and docetaxel"}, {"gemcitabine", "docetaxel"}),
        ({"text": "Keytruda"}, {"pembrolizumab"}),
        ({"text": "Methotrexate 2.5 MG Oral Tablet"}, {"methotrexate"}),
        # a class or an unlisted L01 code names no drug one by one
        ({"coding": [{"system": ATC, "code": "L01XX99"}]}, set()),
        ({"text": "Anthracyclines"}, set()),
    ])
    def test_each_drug_by_name_brand_or_code(self, concept: dict[str, Any],
                                             drugs: set[str]) -> None:
        """Paclitaxel, gemcitabine and the other drugs pecoma files as 'other
        chemotherapy' or 'another agent' had no name of their own: an allergy to one
        could not be compared with an order of the same drug. Each is named by its
        ingredient, whatever name, brand or listed RxNorm code the record uses."""
        assert drugs_named(concept) == drugs

    def test_an_order_names_the_drugs_of_its_medication(self) -> None:
        """A draft by medicationReference to a contained Medication of paclitaxel names
        paclitaxel, as agent_of reads it."""
        order = _request(medicationReference={"reference": "#m"}, contained=[
            {"resourceType": "Medication", "id": "m", "code": _rx("56946", "paclitaxel")}])
        assert drugs_of(order) == {"paclitaxel"}


_RA_ICD = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M06.9",
                       "display": "Rheumatoid arthritis, unspecified"}]}


def _with_medication(reason: dict[str, Any] | None = None, *,
                     medication: dict[str, Any] | None = None,
                     conditions: tuple[dict[str, Any], ...] = (),
                     **extra: Any) -> dict[str, Any]:
    """``metastatic-lung-metachronous`` (metastatic, no systemic line, PEComa diagnosed
    2023-02-01) with the MedicationStatement of the EHR integrator's report: weekly
    methotrexate since 2025-01-10 (or ``medication``), its ``reason`` (``reasonCode`` or
    ``reasonReference``) given, and the Conditions given."""
    bundle = example("metastatic-lung-metachronous")
    statement: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": "mtx-ra", "status": "active",
        "medicationCodeableConcept": medication or {"coding": [{
            "system": RXNORM, "code": "105585",
            "display": "methotrexate 2.5 MG Oral Tablet"}],
            "text": "Methotrexate 15 mg PO weekly"},
        "effectivePeriod": {"start": "2025-01-10"},
        "dosage": [{"text": "15 mg orally once weekly", "timing": {"repeat": {
            "frequency": 1, "period": 1, "periodUnit": "wk"}}}],
        "subject": {"reference": "Patient/pat-1003"}, **extra}
    if reason is not None:
        statement.update(reason)
    bundle["entry"] += [{"resource": statement}, *({"resource": cond} for cond in conditions)]
    return bundle


def _condition(rid: str, code: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "code": code,
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "subject": {"reference": "Patient/pat-1003"}}


_ON = dt.date(2026, 12, 6)


class TestGivenForAnotherCondition:
    @pytest.mark.parametrize(("reason", "conditions", "said"), [
        ({"reasonCode": [_RA_ICD]}, (),
         "reasonCode 'M06.9 Rheumatoid arthritis, unspecified'"),
        # a problem-list Condition, coded SNOMED CT and ICD-10-CM as US Core records it
        ({"reasonReference": [{"reference": "Condition/ra-1"}]},
         (_condition("ra-1", {"coding": [
             {"system": "http://snomed.info/sct", "code": "69896004",
              "display": "Rheumatoid arthritis"}, *_RA_ICD["coding"]],
             "text": "Rheumatoid arthritis"}),),
         "Condition/ra-1 'Rheumatoid arthritis'"),
        # WHO ICD-10: lupus nephritis
        ({"reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                      "code": "M32.1"}], "text": "Lupus nephritis"}]}, (),
         "reasonCode 'Lupus nephritis'"),
    ])
    def test_a_drug_given_for_a_condition_that_is_no_cancer_is_no_line(
            self, reason: dict[str, Any], conditions: tuple[dict[str, Any], ...],
            said: str) -> None:
        """Weekly methotrexate for rheumatoid arthritis (reasonCode M06.9, or a
        reasonReference to the arthritis Condition) was read as a PEComa line of other
        chemotherapy from 2025-01-10, with no note: order-select then lost its S13
        warning on a first-line doxorubicin order. The record says the drug is given for
        a condition that is not a cancer: no line, listed as not read with that reason,
        and noted (the cards show the notes)."""
        bc = case_from_bundle(_with_medication(reason, conditions=conditions), on=_ON)
        assert bc.case.systemic.therapies == ()
        assert bc.history_doubt is None  # the lines given are known: none
        [line] = [n for n in bc.not_read if "MedicationStatement/mtx-ra" in n]
        assert line.startswith("MedicationStatement: methotrexate given for a condition "
                               f"that is not a cancer ({said}): not a line of PEComa "
                               "treatment")
        assert ("MedicationStatement/mtx-ra: methotrexate given for a condition that is not "
                f"a cancer ({said}): not read as a line of PEComa treatment; if it was "
                "given for the PEComa, correct the case") in bc.notes

    def test_an_administration_takes_the_reason_of_its_order(self) -> None:
        """EHRs name the reason on the order, not on each administration: methotrexate
        given (an administration naming no reason) under the order for rheumatoid
        arthritis (its ``request``) is given for the arthritis: no line, the order's
        reason quoted. It had been a line of other chemotherapy from 2025-01-10."""
        bundle = example("metastatic-lung-metachronous")
        drug = {"coding": [{"system": RXNORM, "code": "105585",
                            "display": "methotrexate 2.5 MG Oral Tablet"}]}
        bundle["entry"] += [
            {"resource": {"resourceType": "MedicationRequest", "id": "mtx-order",
                          "status": "completed", "intent": "order",
                          "medicationCodeableConcept": drug, "reasonCode": [_RA_ICD],
                          "authoredOn": "2025-01-10",
                          "subject": {"reference": "Patient/pat-1003"}}},
            {"resource": {"resourceType": "MedicationAdministration", "id": "mtx-given",
                          "status": "completed", "medicationCodeableConcept": drug,
                          "request": {"reference": "MedicationRequest/mtx-order"},
                          "effectivePeriod": {"start": "2025-01-10"},
                          "subject": {"reference": "Patient/pat-1003"}}}]
        bc = case_from_bundle(bundle, on=_ON)
        assert bc.case.systemic.therapies == ()
        assert ("MedicationAdministration/mtx-given: methotrexate given for a condition "
                "that is not a cancer (reasonCode 'M06.9 Rheumatoid arthritis, "
                "unspecified'): not read as a line of PEComa treatment; if it was given for "
                "the PEComa, correct the case") in bc.notes

    def test_planned_for_another_condition_stays_an_order_in_place(self) -> None:
        """A methotrexate order for rheumatoid arthritis not yet started (intent 'plan'):
        no line, and still an order in place, named by its drug, so that the allergy
        check of orders in the record sees it (a methotrexate allergy rules it out)."""
        bundle = example("metastatic-lung-metachronous")
        bundle["entry"].append({"resource": {
            "resourceType": "MedicationRequest", "id": "mtx-plan", "status": "active",
            "intent": "plan", "subject": {"reference": "Patient/pat-1003"},
            "medicationCodeableConcept": {"text": "Methotrexate 15 mg PO weekly"},
            "reasonCode": [_RA_ICD], "authoredOn": "2026-12-01"}})
        bc = case_from_bundle(bundle, on=_ON)
        assert bc.case.systemic.therapies == ()
        assert bc.planned == (Planned("MedicationRequest/mtx-plan", Agent.other_chemotherapy,
                                      "intent 'plan'", frozenset({"methotrexate"})),)

    def test_an_mtor_inhibitor_for_another_condition_stays_a_line_with_a_note(self) -> None:
        """Sirolimus for kidney transplant rejection (ICD-10-CM T86.11): the PEComa may
        have grown on it (the guideline's next line depends on it), so it stays a line,
        as a sirolimus begun before the diagnosis does; the note says why and asks for a
        correction if it did not."""
        bundle = _with_medication({"reasonCode": [{"coding": [{
            "system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "T86.11",
            "display": "Kidney transplant rejection"}]}]}, medication=_rx("35302", "sirolimus"))
        bc = case_from_bundle(bundle, on=_ON)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.sirolimus]
        assert any(n.startswith("MedicationStatement/mtx-ra: sirolimus given for a "
                                "condition that is not a cancer (reasonCode "
                                "'T86.11 Kidney transplant rejection'): read as a line all "
                                "the same") for n in bc.notes)

    def test_an_anthracycline_for_another_condition_stays_a_line_with_a_note(self) -> None:
        """Doxorubicin is given for a cancer only: a reason coded as no cancer is more
        likely a wrong code than a line to forget. Dropped, the line would let S14 offer
        doxorubicin as if never given (no ALERT-ANTHRACYCLINE-GIVEN, cumulative dose
        unseen); it stays a line, with the note asking for a correction."""
        bundle = _with_medication({"reasonCode": [_RA_ICD]},
                                  medication=_rx("3639", "doxorubicin"))
        bc = case_from_bundle(bundle, on=_ON)
        assert [t.agent for t in bc.case.systemic.therapies] == [Agent.doxorubicin]
        assert any("doxorubicin given for a condition that is not a cancer" in n
                   and "read as a line all the same" in n for n in bc.notes)

    @pytest.mark.parametrize("reason", [
        None,  # no reason: read as before
        {"reasonReference": [{"reference": "Condition/pecoma-diagnosis"}]},  # the PEComa
        {"reasonReference": [{"reference": "Condition/not-sent"}]},  # not in the record
        {"reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                     "code": "C49.9"}]}]},  # malignant neoplasm
        {"reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                     "code": "Z51.11", "display": "Encounter for "
                                     "antineoplastic chemotherapy"}]}]},
        # SNOMED CT only: pecoma cannot tell a cancer from no cancer by it
        {"reasonCode": [{"coding": [{"system": "http://snomed.info/sct",
                                     "code": "69896004"}]}]},
        # one reason no cancer, another the PEComa's
        {"reasonCode": [_RA_ICD],
         "reasonReference": [{"reference": "Condition/pecoma-diagnosis"}]},
        {"reasonCode": [{"coding": _RA_ICD["coding"], "text": "Paraneoplastic arthritis"}]},
    ])
    def test_control_a_reason_that_is_a_cancer_or_unknown_keeps_the_line(
            self, reason: dict[str, Any] | None) -> None:
        """Control (as before the change): no reason, the PEComa, a cancer, a reason not
        in the record or one pecoma cannot decide on: the drug is a line of other
        chemotherapy from 2025-01-10 (never dropped on a guess)."""
        bc = case_from_bundle(_with_medication(reason), on=_ON)
        assert [(t.agent, t.started_on) for t in bc.case.systemic.therapies] == [
            (Agent.other_chemotherapy, dt.date(2025, 1, 10))]


#: RxNorm ingredient codes (TTY IN) of drugs pecoma names, each with its published source
#: in RXNORM_NAMES, and the drug each names (pazopanib, an agent of its own, below).
_INGREDIENT_CODES = [
    ("3995", "epirubicin"), ("72962", "docetaxel"),
    ("2555", "cisplatin"), ("194000", "capecitabine"), ("4179", "etoposide"),
    ("4492", "fluorouracil"), ("51499", "irinotecan"), ("6851", "methotrexate"),
    ("32592", "oxaliplatin"), ("6718", "melphalan"), ("134547", "bendamustine"),
    ("357977", "sunitinib"),
]


def _administration(rid: str, code: str, day: str) -> dict[str, Any]:
    """A completed MedicationAdministration of the example's patient, coded by its RxNorm
    ingredient code alone (no display, no text)."""
    return {"resourceType": "MedicationAdministration", "id": rid, "status": "completed",
            "subject": {"reference": "Patient/pat-1003"}, "effectiveDateTime": day,
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}


class TestIngredientCodesOfTheNamedDrugs:
    """An EHR feed coding each medication by its RxNorm ingredient code only: epirubicin
    (3995) and docetaxel (72962) were not identified, so an epirubicin-ifosfamide line
    was read as ifosfamide alone (the anthracycline given lost, its intolerance check
    with it) and gemcitabine-docetaxel as 'other chemotherapy'."""

    @pytest.mark.parametrize(("code", "drug"), _INGREDIENT_CODES)
    def test_the_code_alone_names_the_drug(self, code: str, drug: str) -> None:
        assert drugs_named(_rx(code)) == frozenset({drug})

    @pytest.mark.parametrize(("code", "agent"), [
        ("3995", Agent.epirubicin), ("72962", Agent.other_chemotherapy),
        ("714438", Agent.pazopanib), ("2555", Agent.other_chemotherapy),
        ("357977", Agent.other)])
    def test_the_code_alone_gives_the_agent(self, code: str, agent: Agent) -> None:
        """Docetaxel and cisplatin alone are other chemotherapy; pazopanib is the case's
        own agent; sunitinib an agent the guideline does not name."""
        assert agent_of_concept(_rx(code)) is agent

    @pytest.mark.parametrize(("first", "second", "regimen"), [
        ("3995", "5657", Agent.epirubicin_ifosfamide),
        ("12574", "72962", Agent.gemcitabine_docetaxel)])
    def test_the_regimen_is_read_from_the_codes(self, first: str, second: str,
                                               regimen: Agent) -> None:
        """Epirubicin and ifosfamide given the same day, gemcitabine on day 1 and
        docetaxel on day 8 (the usual schedule): one line of the regimen, from its first
        day."""
        bundle = example("metastatic-lung-metachronous")
        bundle["entry"] += [{"resource": _administration("a1", first, "2025-07-01")},
                            {"resource": _administration("a2", second, "2025-07-08"
                                                         if second == "72962"
                                                         else "2025-07-01")}]
        bc = case_from_bundle(bundle, on=_ON)
        assert [(t.agent, t.started_on) for t in bc.case.systemic.therapies] == [
            (regimen, dt.date(2025, 7, 1))]
        assert bc.unidentified_medications == ()
