"""Medication records that say a drug was stopped, forbidden or given, whatever shape the
EHR sends them in: read by what they say, never dropped.

The record is the shipped mCODE example ``kidney-metastatic`` (metastatic PEComa of the
kidney, lung and brain metastases) with its medication and allergy entries removed and
one hand-written everolimus record added, read for 2025-06-01 by ``pecoma fhir to-case``
and assessed by ``pecoma assess``. With no systemic line the guideline's advice is the
mTOR inhibitor first (S02, S12, S13); after progression on an mTOR inhibitor it names no
next line; an mTOR inhibitor not tolerated leaves the anthracycline (S14, I15).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.fhir.reader import case_from_bundle

from allergy_support import EVEROLIMUS, SIROLIMUS, make_client, record
from cli_support import run_cli
from fhir_support import hook_request, prefetch_of

ON = dt.date(2025, 6, 1)
BASE = Path(__file__).parent / "data" / "mcode" / "kidney-metastatic.json"
SNOMED = "http://snomed.info/sct"
TERMINATION = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-termination-reason"
TREATMENT_TERMINATION = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                         "mcode-treatment-termination-reason")
MEDICATIONS = ("MedicationRequest", "MedicationAdministration", "MedicationStatement",
               "MedicationDispense", "AllergyIntolerance", "Medication")


def _bundle(resource: dict[str, Any]) -> dict[str, Any]:
    bundle = json.loads(BASE.read_text(encoding="utf-8"))
    patient = next(e["resource"]["id"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] not in MEDICATIONS]
    resource = {**resource, "subject": {"reference": f"Patient/{patient}"}}
    bundle["entry"].append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return bundle


def _everolimus_order(**fields: Any) -> dict[str, Any]:
    """Everolimus ordered and stopped, given 2024-09-03 to 2024-11-15."""
    return {"resourceType": "MedicationRequest", "id": "evero", "status": "stopped",
            "intent": "order", "medicationCodeableConcept": EVEROLIMUS,
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
                "start": "2024-09-03", "end": "2024-11-15"}}}}], **fields}


def _read(tmp: Path, resource: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """What ``pecoma fhir to-case --details`` reads, and the assessment's advice on the
    case it writes (id: strength)."""
    path = tmp / "bundle.json"
    path.write_text(json.dumps(_bundle(resource)), encoding="utf-8")
    run = run_cli("fhir", "to-case", "--details", "--on", ON.isoformat(), str(path))
    assert run.returncode == 0, run.stderr
    details: dict[str, Any] = json.loads(run.stdout)
    case = tmp / "case.json"
    case.write_text(json.dumps(details["case"]), encoding="utf-8")
    run = run_cli("assess", str(case), "--on", ON.isoformat(), "-f", "json")
    assert run.returncode == 0, run.stderr
    advice = {r["id"]: r["strength"] for r in json.loads(run.stdout)["recommendations"]}
    return details, advice


def _termination(code: str, display: str, url: str = TERMINATION) -> dict[str, Any]:
    return {"url": url, "valueCodeableConcept": {"coding": [
        {"system": SNOMED, "code": code, "display": display}]}}


# ------------------------------------------------ 1. mCODE's termination reason

@pytest.mark.parametrize("url", [TERMINATION, TREATMENT_TERMINATION])
def test_an_mcode_termination_reason_not_tolerated_rules_everolimus_out(
        tmp_path: Path, url: str) -> None:
    """Everolimus stopped, mCODE TerminationReason 407563006 Treatment not tolerated (the
    extension's STU1 and later names): an intolerance of everolimus, read as the same
    code as statusReason is. An mTOR-inhibitor intolerance rules every one out unless
    another is shown tolerated (I15): the anthracycline, no mTOR inhibitor first line."""
    order = _everolimus_order(extension=[_termination(
        "407563006", "Treatment not tolerated (situation)", url)])
    details, advice = _read(tmp_path, order)
    assert details["case"]["systemic"]["intolerances"] == [{"agent": "everolimus"}]
    assert any("mCODE terminationReason" in n and "intolerance of everolimus" in n
               for n in details["notes"])
    assert "REC-MTOR-FIRST-LINE" not in advice
    assert "SUPP-NAB-SIROLIMUS" not in advice
    assert "REC-ANTHRACYCLINE" in advice


def test_an_mcode_termination_reason_of_no_response_is_asked(tmp_path: Path) -> None:
    """266721009 Absent response to treatment: no intolerance, and a reason to check for
    progression on everolimus (as statusReason with that code): a note, and the line's
    progression asked, never silent."""
    order = _everolimus_order(extension=[_termination(
        "266721009", "Absent response to treatment (situation)")])
    details, advice = _read(tmp_path, order)
    assert "intolerances" not in details["case"]["systemic"]
    assert any("mCODE terminationReason" in n and "cannot tell whether this says the "
               "disease progressed" in n for n in details["notes"])
    assert "REC-NO-NEXT-LINE" not in advice  # progression not taken as read
    bc = case_from_bundle(_bundle(order), on=ON)
    assert bc.case.systemic.therapies[0].progressed.value == "unknown"


def test_an_mcode_termination_reason_not_recognised_is_listed(tmp_path: Path) -> None:
    """A code pecoma does not know, with no words: it cannot tell whether it says not
    tolerated, so the record is listed as a stop it cannot judge and whether mTOR
    inhibitors are contraindicated is asked (never dropped)."""
    order = _everolimus_order(extension=[{"url": TERMINATION, "valueCodeableConcept": {
        "coding": [{"system": SNOMED, "code": "999999999"}]}}])
    bc = case_from_bundle(_bundle(order), on=ON)
    assert [(x.where, x.agent.value) for x in bc.unclear_stops] == [
        ("MedicationRequest/evero", "everolimus")]
    assert any("mCODE terminationReason" in n and "cannot tell whether this says "
               "everolimus was not tolerated" in n for n in bc.notes)


# ------------------------------------------------ 2. an order not to give it

def _do_not_give(reason: str, status: str = "active") -> dict[str, Any]:
    return {"resourceType": "MedicationRequest", "id": "m1", "status": status,
            "intent": "order", "doNotPerform": True, "medicationCodeableConcept": EVEROLIMUS,
            "reasonCode": [{"text": reason}]}


def test_a_do_not_perform_order_makes_the_mtor_contraindication_asked(tmp_path: Path
                                                                       ) -> None:
    """An active 'do not give everolimus' order for interstitial lung disease: a recorded
    fact against everolimus, no line given. Whether mTOR inhibitors are contraindicated
    is found but not read, naming the order and its reason; the mTOR advice is
    conditional on it (MISS-MTOR-CONTRAINDICATED), never given as settled."""
    details, advice = _read(tmp_path, _do_not_give(
        "Contraindicated: severe interstitial lung disease"))
    why = details["found_not_read"]["systemic.mtor_inhibitor_contraindicated"]
    assert "MedicationRequest/m1" in why and "do-not-perform order" in why
    assert "interstitial lung disease" in why
    assert any("do-not-perform order" in x for x in details["not_read"])
    assert not any("not given (status" in x for x in details["not_read"])
    assert "REC-MTOR-FIRST-LINE" in advice
    path = tmp_path / "case.json"
    run = run_cli("assess", str(path), "--on", ON.isoformat(), "-f", "json")
    rec = next(r for r in json.loads(run.stdout)["recommendations"]
               if r["id"] == "REC-MTOR-FIRST-LINE")
    assert "MISS-MTOR-CONTRAINDICATED" in rec["conditional_on"]


def test_a_do_not_perform_order_for_an_intolerance_rules_the_drug_out(tmp_path: Path
                                                                      ) -> None:
    """'Do not give: grade 3 pneumonitis on everolimus': the intolerance words read as a
    statusReason's are: everolimus not tolerated, no mTOR inhibitor proposed (I15)."""
    details, advice = _read(tmp_path, _do_not_give("Grade 3 pneumonitis"))
    assert details["case"]["systemic"]["intolerances"] == [{"agent": "everolimus"}]
    assert "REC-MTOR-FIRST-LINE" not in advice


def test_a_lifted_do_not_perform_order_is_no_fact_against_the_drug() -> None:
    """Stopped, the order forbids nothing now: no question raised by it, but its reason
    for not being a line still says what it was."""
    bc = case_from_bundle(_bundle(_do_not_give("Contraindicated: ILD", "stopped")), on=ON)
    assert "systemic.mtor_inhibitor_contraindicated" not in bc.unreadable
    assert any("do-not-perform order" in x and "MedicationRequest/m1" in x
               for x in bc.not_read)


def test_order_select_warns_on_a_draft_of_a_drug_forbidden(tmp_path: Path) -> None:
    """The record holds an active do-not-perform order of everolimus: an everolimus draft
    (and a sirolimus one, which an everolimus intolerance would rule out, I15) gets a
    warning naming the order and its reason; the 'not contraindicated' Observation of
    the example is not kept beside it."""
    forbidden = {**_do_not_give("Contraindicated: severe interstitial lung disease"),
                 "subject": {"reference": "Patient/pat-1003"}}
    bundle = record(forbidden)
    client = make_client(tmp_path)
    for drug in (EVEROLIMUS, SIROLIMUS):
        body = hook_request("order-select", "pat-1003", prefetch=prefetch_of(bundle))
        body["context"].update({
            "selections": ["MedicationRequest/d1"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
                {"resource": {"resourceType": "MedicationRequest", "id": "d1",
                              "status": "draft", "intent": "order",
                              "subject": {"reference": "Patient/pat-1003"},
                              "medicationCodeableConcept": drug}}]}})
        r = client.post("/cds-services/pecoma-order-select", json=body)
        assert r.status_code == 200, r.text
        warned = [c for c in r.json()["cards"] if c["indicator"] in ("warning", "critical")
                  and "MedicationRequest/m1" in c["detail"]]
        assert warned, r.json()["cards"]
        assert "do-not-perform order" in warned[0]["detail"]
    bc = case_from_bundle(bundle, on=dt.date(2026, 12, 6))
    assert "systemic.mtor_inhibitor_contraindicated" in bc.set_aside


# ------------------------------------------------ 3. a plan carried out

@pytest.mark.parametrize("fields", [
    {"status": "stopped"},
    {"status": "stopped", "reportedBoolean": True},
    {"status": "completed"},
])
@pytest.mark.parametrize("intent", ["plan", "proposal"])
def test_a_plan_stopped_for_progression_is_a_line_that_progressed(
        tmp_path: Path, intent: str, fields: dict[str, Any]) -> None:
    """Everolimus of intent plan or proposal, stopped (or completed) for 'Disease
    progression' with its days past: carried out, not a future plan. Read as an order
    would be: a line that progressed, so the guideline names no next line
    (REC-NO-NEXT-LINE), never the mTOR inhibitor first line again."""
    plan = _everolimus_order(intent=intent, statusReason={"text": "Disease progression"},
                             **fields)
    details, advice = _read(tmp_path, plan)
    assert details["case"]["systemic"]["therapies"][0]["agent"] == "everolimus"
    if fields["status"] == "stopped":
        assert details["case"]["systemic"]["therapies"][0]["progressed"] == "yes"
        assert "REC-NO-NEXT-LINE" in advice
    assert "REC-MTOR-FIRST-LINE" not in advice or fields["status"] == "completed"


def test_a_reported_plan_still_active_stays_a_plan() -> None:
    """An active plan with reportedBoolean true and its days begun: R4's reported says the
    record is a secondary report, not that the drug was taken. Still a plan, never a line
    of everolimus the record does not show (it would raise ALERT-MTOR-GIVEN and ask of a
    progression on a drug never taken)."""
    plan = _everolimus_order(intent="plan", status="active", reportedBoolean=True)
    bc = case_from_bundle(_bundle(plan), on=ON)
    assert not bc.case.systemic.therapies
    assert [p.agent.value for p in bc.planned] == ["everolimus"]


def test_a_plan_not_carried_out_stays_a_plan() -> None:
    """An active plan, not reported: a future plan, no line."""
    plan = _everolimus_order(intent="plan", status="active")
    bc = case_from_bundle(_bundle(plan), on=ON)
    assert not bc.case.systemic.therapies
    assert [p.agent.value for p in bc.planned] == ["everolimus"]


# ------------------------------------------------ 4. an administration across the day

@pytest.mark.parametrize("moment", ["2025-06-02T01:00:00+09:00", "2025-06-01T22:00:00-08:00"])
def test_a_completed_administration_on_the_day_in_utc_or_its_zone_is_given(
        tmp_path: Path, moment: str) -> None:
    """Everolimus given (status completed) at a moment that is 2025-06-01 in UTC or in its
    own zone, the other day in the other: given on the day read for, a line started
    2025-06-01, never planned. Both read alike, east or west of UTC."""
    dose = {"resourceType": "MedicationAdministration", "id": "ma", "status": "completed",
            "medicationCodeableConcept": EVEROLIMUS, "effectiveDateTime": moment}
    details, _advice = _read(tmp_path, dose)
    assert details["case"]["systemic"]["therapies"] == [
        {"agent": "everolimus", "started_on": "2025-06-01"}]


def test_a_completed_administration_dated_later_is_never_planned() -> None:
    """Given (completed) but dated after the day read for in every zone: whether it was
    given by then is unknown, so the lines given are not fully known; never a plan."""
    dose = {"resourceType": "MedicationAdministration", "id": "ma", "status": "completed",
            "medicationCodeableConcept": EVEROLIMUS,
            "effectiveDateTime": "2025-06-03T10:00:00Z"}
    bc = case_from_bundle(_bundle(dose), on=ON)
    assert not any("planned" in x for x in bc.not_read)
    assert bc.unknown_starts


# ------------------------------------------------ 5. what a plan or a do-not-perform order
# does not show

REFUSAL = {"coding": [{"system": SNOMED, "code": "105480006",
                       "display": "Refusal of treatment by patient"}]}


@pytest.mark.parametrize("intent", ["order", "plan"])
def test_a_do_not_perform_order_of_status_unknown_is_no_line(intent: str) -> None:
    """'Do not give everolimus' (interstitial lung disease), status unknown: an order not
    to give the drug is never a line of it, whatever its status. Read as a line it would
    raise ALERT-MTOR-GIVEN and ask whether the disease progressed on a drug forbidden;
    the contraindication is asked instead, and no note calls it given."""
    order = {**_do_not_give("Contraindicated: severe interstitial lung disease",
                            "unknown"), "intent": intent}
    bc = case_from_bundle(_bundle(order), on=ON)
    assert not bc.case.systemic.therapies
    assert "systemic.mtor_inhibitor_contraindicated" in bc.unreadable
    assert not any("read as given" in n or "stays a line given" in n for n in bc.notes)
    assert any("do-not-perform order" in x for x in bc.not_read)


def test_a_plan_stopped_by_a_refusal_is_no_line(tmp_path: Path) -> None:
    """An everolimus plan stopped, statusReason 105480006 Refusal of treatment by patient,
    its period due from 2024-09-03, no dose recorded: the patient may never have taken
    it. No line of everolimus (no ALERT-MTOR-GIVEN, no question of progression on it);
    whether it was taken cannot be told, so the lines given are not fully known and the
    mTOR first line is conditional, never settled on a history the record cannot show."""
    plan = {"resourceType": "MedicationRequest", "id": "m1", "status": "stopped",
            "intent": "plan", "medicationCodeableConcept": EVEROLIMUS,
            "authoredOn": "2024-09-03", "statusReason": REFUSAL,
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
                "start": "2024-09-03"}}}}]}
    details, advice = _read(tmp_path, plan)
    assert "therapies" not in details["case"].get("systemic", {})
    assert "REC-MTOR-FIRST-LINE" in advice
    bc = case_from_bundle(_bundle(plan), on=ON)
    assert bc.unknown_starts and bc.history_doubt is not None
    assert not bc.planned  # stopped: no order of it in place either


@pytest.mark.parametrize("intent", ["plan", "proposal"])
def test_a_plan_stopped_before_it_started_is_not_given(intent: str) -> None:
    """A proposal stopped with no dates, its reason 'Plan changed before start: chose
    trial': the record says the drug was never started. Not given, no line."""
    plan = {"resourceType": "MedicationRequest", "id": "m1", "status": "stopped",
            "intent": intent, "medicationCodeableConcept": EVEROLIMUS,
            "statusReason": {"text": "Plan changed before start: chose trial"}}
    bc = case_from_bundle(_bundle(plan), on=ON)
    assert not bc.case.systemic.therapies
    assert not any("stays a line given" in n for n in bc.notes)


def test_a_plan_stopped_with_no_start_is_not_known_to_be_given() -> None:
    """A plan stopped, no dose day, no reason: R4's stopped is halted before all the
    administrations occurred, which may be none. No line; whether it was taken is asked
    through the lines given not being fully known."""
    plan = {"resourceType": "MedicationRequest", "id": "m1", "status": "stopped",
            "intent": "proposal", "medicationCodeableConcept": EVEROLIMUS}
    bc = case_from_bundle(_bundle(plan), on=ON)
    assert not bc.case.systemic.therapies
    assert bc.unknown_starts


@pytest.mark.parametrize("reference", [
    {"display": "Everolimus-induced pneumonitis"},
    {"reference": "urn:uuid:cond-ild"},
])
def test_a_do_not_perform_orders_reason_reference_is_read(reference: dict[str, Any]
                                                          ) -> None:
    """'Do not give everolimus', its reason given as reasonReference to a Condition
    'Everolimus-induced pneumonitis' (by its display, or resolved in the bundle): read as
    reasonCode is, an intolerance of everolimus, which rules every mTOR inhibitor out
    (I15); never 'no reason given'."""
    order = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
             "intent": "order", "doNotPerform": True,
             "medicationCodeableConcept": EVEROLIMUS, "reasonReference": [reference]}
    bundle = _bundle(order)
    order_subject = next(e["resource"]["id"] for e in bundle["entry"]
                                   if e["resource"]["resourceType"] == "Patient")
    bundle["entry"].append({"fullUrl": "urn:uuid:cond-ild", "resource": {
        "resourceType": "Condition", "id": "cond-ild",
        "subject": {"reference": f"Patient/{order_subject}"},
        "code": {"text": "Everolimus-induced pneumonitis"}}})
    bc = case_from_bundle(bundle, on=ON)
    assert [x.agent.value for x in bc.case.systemic.intolerances] == ["everolimus"]
    assert not any("no reason given" in n for n in [*bc.notes, *bc.not_read])


def test_a_do_not_perform_reason_not_read_is_never_called_none() -> None:
    """A reasonReference that does not resolve and has no display: a reason is named that
    pecoma could not read; the note says so, never 'no reason given'."""
    order = {"resourceType": "MedicationRequest", "id": "m1", "status": "active",
             "intent": "order", "doNotPerform": True,
             "medicationCodeableConcept": EVEROLIMUS,
             "reasonReference": [{"reference": "Condition/elsewhere"}]}
    bc = case_from_bundle(_bundle(order), on=ON)
    said = [*bc.notes, *bc.not_read]
    assert not any("no reason given" in n for n in said)
    assert any("reasonReference" in n and "not read" in n for n in said)
    assert "systemic.mtor_inhibitor_contraindicated" in bc.unreadable


def test_a_progression_by_termination_reason_is_quoted_from_it() -> None:
    """Everolimus stopped, no statusReason, mCODE termination reason 'Progressive
    disease': the progression is read, and the note names the element it came from."""
    order = _everolimus_order(extension=[{"url": TERMINATION, "valueCodeableConcept": {
        "text": "Progressive disease"}}])
    bc = case_from_bundle(_bundle(order), on=ON)
    notes = [n for n in bc.notes if "Progressive disease" in n]
    assert notes and all("statusReason" not in n for n in notes)
    assert any("mCODE terminationReason 'Progressive disease'" in n for n in notes)


def test_a_completed_administration_on_a_later_full_day_is_worded_so() -> None:
    """Everolimus given (completed) on 2025-06-02, a full date after the day read for: the
    note says it was given on a later day, not that the date is partial."""
    dose = {"resourceType": "MedicationAdministration", "id": "ma", "status": "completed",
            "medicationCodeableConcept": EVEROLIMUS, "effectiveDateTime": "2025-06-02"}
    bc = case_from_bundle(_bundle(dose), on=ON)
    said = [n for n in [*bc.notes, *bc.not_read] if "MedicationAdministration/ma" in n]
    assert said
    assert not any("partial date" in n or "may be after" in n for n in said)
    assert any("given" in n and "2025-06-02" in n and "after 2025-06-01" in n for n in said)


def test_order_select_does_not_call_a_do_not_perform_order_stopped(tmp_path: Path) -> None:
    """The warning on a sirolimus draft beside an order not to give everolimus names the
    order as one not to give it, not as a drug 'stopped or held'."""
    forbidden = {**_do_not_give("Contraindicated: severe interstitial lung disease"),
                 "subject": {"reference": "Patient/pat-1003"}}
    client = make_client(tmp_path)
    body = hook_request("order-select", "pat-1003", prefetch=prefetch_of(record(forbidden)))
    body["context"].update({
        "selections": ["MedicationRequest/d1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection", "entry": [
            {"resource": {"resourceType": "MedicationRequest", "id": "d1",
                          "status": "draft", "intent": "order",
                          "subject": {"reference": "Patient/pat-1003"},
                          "medicationCodeableConcept": SIROLIMUS}}]}})
    r = client.post("/cds-services/pecoma-order-select", json=body)
    assert r.status_code == 200, r.text
    warned = [c for c in r.json()["cards"] if "MedicationRequest/m1" in c["detail"]]
    assert warned
    assert all("stopped or held" not in c["detail"] for c in warned)


def test_a_progression_given_as_a_do_not_perform_reason_is_not_lost() -> None:
    """'Do not give everolimus: disease progression on everolimus': no line of everolimus
    is in the record, but the reason says one was given and the disease progressed on
    it. The lines given are then not fully known (a line may be missing), and the note
    says so; never read as a first line still to offer without a question."""
    bc = case_from_bundle(_bundle(_do_not_give("Disease progression on everolimus")),
                          on=ON)
    assert not bc.case.systemic.therapies
    assert any("MedicationRequest/m1" in x and "progressed" in x for x in bc.unknown_starts)
    assert bc.history_doubt is not None


def test_a_do_not_perform_order_of_a_drug_with_no_question_says_check() -> None:
    """'Do not give paclitaxel': pecoma has no question for whether other chemotherapy is
    contraindicated, so the note says to check it, never that it 'is asked'."""
    paclitaxel = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                              "code": "56946", "display": "paclitaxel"}]}
    order = {**_do_not_give("Contraindicated: neuropathy"),
             "medicationCodeableConcept": paclitaxel}
    bc = case_from_bundle(_bundle(order), on=ON)
    said = [n for n in bc.notes if "do-not-perform order" in n]
    assert said and not any("contraindicated is asked" in n for n in said)
