"""The CarePlan written from a FHIR record carries the caveats the CDS cards give the same
record.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa with mTOR
inhibitors recorded available and not contraindicated, and no systemic line: the
first-line mTOR advice (S02, S12) and nab-sirolimus stand unqualified. A medication
record naming a drug pecoma cannot identify ("XY-4471 200 mg IV", written as an
investigational product's code is) may be a line already given: which line the mTOR
inhibitor would be is then unknown, and the patient-view card says every drug it names is
"Conditional: the lines of systemic therapy already given are not fully known ...;
confirm before any order". The CarePlan Bundle, the artefact written into the EHR, said
nothing of it: its RequestGroup proposed both drugs with no condition and no note named
the record. Same record, same advice, same caveats, on every output.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.fhir.careplan import careplan_bundle, validate_resources
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import example, hook_request, patient_id, prefetch_of, with_statement

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
LINES = ("the lines of systemic therapy already given are not fully known (a medication "
         "record names a drug pecoma cannot identify)")
DRUGS = ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS")


def _unidentified() -> dict[str, Any]:
    """The record with an administration-like statement of 'XY-4471 200 mg IV' given in
    2024 (an investigational code: possibly an anticancer drug, pecoma cannot tell)."""
    return with_statement(copy.deepcopy(example(PATIENT)), "ms-xy", "XY-4471 200 mg IV",
                          "2024-10-01")


def _allergy_withheld() -> dict[str, Any]:
    """The record with an allergy entry carrying a modifierExtension: the entry cannot be
    read in full, so the allergy list is not read in full (an allergy to sirolimus may be
    what the entry says)."""
    bundle = copy.deepcopy(example(PATIENT))
    bundle["entry"].append({"resource": {
        "resourceType": "AllergyIntolerance", "id": "al-mod",
        "modifierExtension": [{"url": "https://ehr.example/fhir/withheld",
                               "valueBoolean": True}],
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
            "code": "active"}]},
        "code": {"text": "penicillin"},
        "patient": {"reference": f"Patient/{patient_id(bundle)}"}}})
    return bundle


def _careplan(bundle: dict[str, Any]) -> tuple[BundleCase, dict[str, Any], dict[str, Any]]:
    bc = case_from_bundle(bundle, on=ON)
    a = assess(bc.case, ON)
    plan = plan_surveillance(bc.case, a, ON)
    written = careplan_bundle(bc.case, a, plan, patient_id=bc.patient_id, reading=bc)
    validate_resources(written)
    careplan, group = (e["resource"] for e in written["entry"])
    return bc, careplan, group


def _action(group: dict[str, Any], record: str) -> dict[str, Any]:
    (action,) = [x for x in group["action"] if x["id"] == record]
    return action


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("caveats")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'r.db'}"),
                                 today=lambda: ON), base_url="http://localhost")


def _card_detail(client: TestClient, bundle: dict[str, Any]) -> str:
    body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    detail: str = r.json()["cards"][0]["detail"]
    return detail


class TestLinesNotFullyKnown:
    def test_every_drug_action_is_conditional(self) -> None:
        """The unidentified record leaves the lines not fully known: the mTOR-inhibitor
        first line and nab-sirolimus are conditional in the fields an EHR shows (title,
        description, text equivalent), with the reason and "confirm before any order",
        as the card says; an action naming no drug (the referral, S28) is not. Without
        that record (the lines known: none given) the mTOR advice stands unqualified."""
        _bc, careplan, group = _careplan(copy.deepcopy(example(PATIENT)))
        for record in DRUGS:
            assert not _action(group, record)["title"].startswith("(")
        assert "conditional" not in careplan["description"]
        _bc, careplan, group = _careplan(_unidentified())
        said = f"Conditional: {LINES}; confirm before any order."
        for record in DRUGS:
            action = _action(group, record)
            assert action["title"].startswith("(conditional) "), action["title"]
            assert action["description"].endswith(said)
            assert action["textEquivalent"].endswith(said)
        referral = _action(group, "REC-REFER-TRIALS")
        assert "Conditional" not in referral["description"]
        assert f"Every recommendation naming a drug is conditional: {LINES}" in (
            careplan["description"])

    def test_a_note_names_the_record_not_identified(self) -> None:
        """The team must be able to find the record to check it: a note of both the
        CarePlan and the RequestGroup names it (its id and the name it holds), as the
        card's list of the parts of the record not read does."""
        _bc, careplan, group = _careplan(_unidentified())
        for resource in (careplan, group):
            notes = [n["text"] for n in resource["note"]
                     if n["text"].startswith("Not known from the record")]
            assert len(notes) == 1
            assert "the drug of some medication records: MedicationStatement/ms-xy" in (
                notes[0])
            assert "'xy-4471'" in notes[0]
            assert "advice naming a drug is conditional" in notes[0]

    def test_the_card_and_the_careplan_give_the_same_condition(
            self, client: TestClient) -> None:
        """One reading of what the record leaves unsettled: the card's "Conditional:" on
        the mTOR advice and the CarePlan's are the same words."""
        bundle = _unidentified()
        detail = _card_detail(client, bundle)
        at = detail.index("**An mTOR inhibitor is the first-line")
        assert f"**Conditional:** {LINES}; confirm before any order." in detail[at:]
        _bc, _written, group = _careplan(bundle)
        assert f"Conditional: {LINES}; confirm before any order." in (
            _action(group, "REC-MTOR-FIRST-LINE")["description"])

    def test_the_command_writes_it(self, tmp_path: Path) -> None:
        """`pecoma fhir careplan BUNDLE` reads the record and passes what it leaves
        unknown to the CarePlan (a case file has no such reading)."""
        path = tmp_path / "record.json"
        path.write_text(json.dumps(_unidentified()), encoding="utf-8")
        run = run_cli("fhir", "careplan", str(path), "--on", ON.isoformat(), columns=80)
        assert run.returncode == 0, run.stderr
        group = json.loads(run.stdout)["entry"][1]["resource"]
        assert _action(group, "REC-MTOR-FIRST-LINE")["title"].startswith("(conditional) ")


class TestAllergiesNotReadInFull:
    def test_the_drug_actions_say_the_allergy_list_was_not_read(
            self, client: TestClient) -> None:
        """An allergy entry that cannot be read in full leaves the allergy list not read
        in full: a sirolimus allergy may be what it says. The reader already makes the
        recorded 'not contraindicated' unknown (the mTOR advice is provisional on it); the
        card also says the drug advice is conditional on the allergy list, and so must the
        CarePlan, with the same reason, and a note naming the part not read."""
        bundle = _allergy_withheld()
        bc, careplan, group = _careplan(bundle)
        why = bc.unread["allergies"]
        reason = f"the patient's allergies and intolerances could not be read ({why})"
        for record in DRUGS:
            action = _action(group, record)
            assert action["title"].startswith("(provisional; conditional) ")
            assert f"Conditional: {reason}; confirm before any order." in (
                action["description"])
        assert any(n["text"].startswith("Not known from the record") and
                   "the allergies and intolerances: " in n["text"]
                   for n in careplan["note"])
        detail = _card_detail(client, bundle)
        assert "**Conditional:** the patient's allergies and intolerances could not be read" \
            in detail
