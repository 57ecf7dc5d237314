"""A medication stopped because the patient did not tolerate it (``statusReason``).

FHIR R4 records why a drug was stopped, held or not given in ``statusReason``
(MedicationRequest: one CodeableConcept; MedicationStatement and MedicationAdministration:
a list). A drug stopped for an intolerance is a drug the patient does not tolerate (I15):
it is ruled out as an allergy entry naming it rules it out, and an intolerance of one
mTOR inhibitor rules out every one unless another is shown tolerated. Stopping for
another reason (the disease progressed, the course was completed) says nothing of
tolerance. A reason pecoma cannot read either way keeps the line, says the record gives a
reason to check, and, for an mTOR inhibitor, asks whether mTOR inhibitors are
contraindicated instead of trusting a recorded "no".

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa and an Observation
saying mTOR inhibitors are available and not contraindicated: the first-line mTOR advice
(S13). An everolimus order stopped for grade 3 pneumonitis makes everolimus not tolerated:
no other mTOR inhibitor being shown tolerated, every one is ruled out (I15), so the mTOR
advice gives way to the anthracycline line the guideline names for that case (S14), and
the report no longer says the everolimus line is "the advice under way".
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.case import Agent, YesNo
from pecoma.fhir.medications import StopReason, status_reason
from pecoma.fhir.reader import BundleCase, case_from_bundle

from cli_support import run_cli
from fhir_support import example, patient_id

ON = dt.date(2026, 12, 6)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"
HL7_REASON = "http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason"

#: SNOMED CT 59037007 Drug intolerance (disorder), with the EHR's own words.
PNEUMONITIS = {"coding": [{"system": SNOMED, "code": "59037007",
                           "display": "Drug intolerance (disorder)"}],
               "text": "Stopped: grade 3 pneumonitis on everolimus"}


def _stopped(kind: str = "MedicationRequest", reason: Any = PNEUMONITIS,
             status: str = "stopped", code: str = "141704") -> dict[str, Any]:
    """An everolimus record (RxNorm 141704) of 2026, stopped for ``reason``."""
    res: dict[str, Any] = {
        "resourceType": kind, "id": "evero-1", "status": status,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}]}}
    if kind == "MedicationRequest":
        res.update(intent="order", statusReason=reason, dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2026-09-21",
                                                    "end": "2026-10-30"}}}}])
    else:
        res.update(statusReason=[reason],
                   effectivePeriod={"start": "2026-09-21", "end": "2026-10-30"})
    return res


def bundle_with(*medications: dict[str, Any]) -> dict[str, Any]:
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    pid = patient_id(bundle)
    for med in medications:
        bundle["entry"].append({"resource": {**med, "subject": {"reference": f"Patient/{pid}"}}})
    return bundle


def read(*medications: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle_with(*medications), on=ON)


class TestStatusReason:
    @pytest.mark.parametrize("reason", [
        PNEUMONITIS,
        {"coding": [{"system": SNOMED, "code": "59037007"}]},  # the code alone
        {"coding": [{"system": SNOMED, "code": "281647001"}]},  # Adverse reaction
        {"coding": [{"system": SNOMED, "code": "62014003"}]},  # Adverse reaction to drug
        {"coding": [{"system": HL7_REASON, "code": "sintol"}]},  # Suspected intolerance
        {"coding": [{"system": HL7_REASON, "code": "salg"}]},  # Allergy
        {"text": "grade 3 pneumonitis"},  # the mTOR inhibitors' own toxicity
        {"text": "Not tolerated"},  # "not" belongs to the phrase: no negation
        {"text": "Toxicity"},
        {"text": "No further treatment due to toxicity"},  # the negation is of treatment
        {"text": "Progressive disease; pneumonitis"},  # both: the intolerance counts
        # a negation of something else beside the toxicity had left it unread: it is of
        # its own statement only ("no progression" says nothing of the toxicity)
        {"text": "Stopped due to toxicity; no progression"},
        {"text": "Stopped due to toxicity, no progression"},
        {"text": "Stomatitis. No pneumonitis."},
        {"text": "No progression",  # the text and the display are statements of their own
         "coding": [{"system": SNOMED, "code": "59037007", "display": "Drug intolerance"}]},
    ])
    def test_an_intolerance(self, reason: dict[str, Any]) -> None:
        """Coded as an intolerance or an adverse reaction, or worded as one."""
        found = status_reason({"statusReason": reason})
        assert found is not None and found.kind is StopReason.intolerance

    @pytest.mark.parametrize("reason", [
        {"text": "Disease progression"},
        {"text": "Course completed"},
        {"text": "Patient choice"},
        {"coding": [{"system": HL7_REASON, "code": "surg"}]},  # scheduled for surgery
    ])
    def test_another_reason(self, reason: dict[str, Any]) -> None:
        """Plainly another reason: it says nothing of tolerance."""
        found = status_reason({"statusReason": reason})
        assert found is not None and found.kind is StopReason.other

    @pytest.mark.parametrize("reason", [
        {"text": "no toxicity"},  # negated: what it says of the drug cannot be told
        {"text": "Adverse events: none"},
        {"text": "Toxicity? No."},  # a bare "no" answers the words before it
        {"text": "Disease progression; no toxicity"},  # the only toxicity named is denied
        {"text": "grade 2 fatigue, dose held"},  # no word pecoma reads
        {"coding": [{"system": SNOMED, "code": "183966005"}]},  # a code it does not know
        {"coding": [{"system": HL7_REASON, "code": "drughigh"}]},  # drug level too high
    ])
    def test_a_reason_to_check(self, reason: dict[str, Any]) -> None:
        found = status_reason({"statusReason": reason})
        assert found is not None and found.kind is StopReason.unclear

    def test_no_reason(self) -> None:
        assert status_reason({"status": "stopped"}) is None
        assert status_reason({"statusReason": {"text": " "}}) is None


class TestReader:
    @pytest.mark.parametrize("kind", ["MedicationRequest", "MedicationStatement",
                                      "MedicationAdministration"])
    def test_stopped_for_intolerance_is_an_intolerance(self, kind: str) -> None:
        """The line stays (the drug was given), and everolimus is not tolerated: the
        'not contraindicated' of the Observation is dropped (no other mTOR inhibitor is
        shown tolerated), so the contraindication derives from the intolerance (I15)."""
        bc = read(_stopped(kind))
        sysm = bc.case.systemic
        assert [t.agent for t in sysm.therapies] == [Agent.everolimus]
        assert [x.agent for x in sysm.intolerances] == [Agent.everolimus]
        assert sysm.mtor_inhibitor_contraindicated is YesNo.unknown
        assert sysm.mtor_contraindication is YesNo.yes
        assert bc.sources["systemic.intolerances"] == f"{kind}/evero-1"
        assert any("read as an intolerance of everolimus" in n
                   and "grade 3 pneumonitis" in n for n in bc.notes), bc.notes

    def test_cancelled_for_an_allergy_is_an_intolerance_and_no_line(self) -> None:
        """An order cancelled before any dose because of an allergy: no line, but the
        drug is not tolerated all the same."""
        bc = read(_stopped(status="cancelled",
                           reason={"coding": [{"system": HL7_REASON, "code": "salg",
                                               "display": "Allergy"}]}))
        assert bc.case.systemic.therapies == ()
        assert [x.agent for x in bc.case.systemic.intolerances] == [Agent.everolimus]

    def test_a_reason_to_check_asks_whether_mtor_inhibitors_are_contraindicated(
            self) -> None:
        """Stopped for progression: no intolerance, the line and the recorded 'no' stay.
        Stopped for a reason pecoma cannot read either way: no intolerance is made up and
        the line stays, but the recorded 'no' is not relied upon (the question is
        asked), with a note quoting the reason."""
        bc = read(_stopped(reason={"text": "Disease progression"}))
        sysm = bc.case.systemic
        assert sysm.intolerances == ()
        assert [t.agent for t in sysm.therapies] == [Agent.everolimus]
        assert sysm.mtor_inhibitor_contraindicated is YesNo.no
        # the progression itself is read (tests/test_fhir_progression_reason.py), no
        # reason to check tolerance
        assert not any("statusReason" in n and "check it" in n for n in bc.notes), bc.notes

        bc = read(_stopped(reason={"text": "grade 2 fatigue, dose held"}))
        sysm = bc.case.systemic
        assert sysm.intolerances == ()
        assert [t.agent for t in sysm.therapies] == [Agent.everolimus]
        assert sysm.mtor_inhibitor_contraindicated is YesNo.unknown
        assert any("grade 2 fatigue" in n and "check it" in n for n in bc.notes), bc.notes
        missing = {m.id for m in assess(bc.case, ON).missing}
        assert "MISS-MTOR-CONTRAINDICATED" in missing

    def test_another_mtor_inhibitor_tolerated_later_keeps_the_class(self) -> None:
        """Everolimus stopped for pneumonitis, then a sirolimus line of its own: the
        class is tolerated, only everolimus is out (I15) and the 'no' is kept."""
        sirolimus = {"resourceType": "MedicationStatement", "id": "siro-1",
                     "status": "active", "effectivePeriod": {"start": "2026-11-02"},
                     "medicationCodeableConcept": {"coding": [{"system": RXNORM,
                                                               "code": "35302"}]}}
        sysm = read(_stopped(), sirolimus).case.systemic
        assert [x.agent for x in sysm.intolerances] == [Agent.everolimus]
        assert sysm.mtor_inhibitor_contraindicated is YesNo.no
        assert sysm.mtor_contraindication is YesNo.no


class TestToCaseAndAssess:
    def test_no_mtor_advice_after_an_mtor_inhibitor_stopped_for_intolerance(
            self, tmp_path: Path) -> None:
        """``pecoma fhir to-case`` then ``pecoma assess``: the mTOR advice and the
        'already recorded ... the advice under way' alert give way to the anthracycline
        option S14 names when mTOR inhibitors cannot be used."""
        bundle = tmp_path / "b.json"
        bundle.write_text(json.dumps(bundle_with(_stopped())), encoding="utf-8")
        run = run_cli("fhir", "to-case", "--on", ON.isoformat(), str(bundle))
        assert run.returncode == 0, run.stderr
        case = tmp_path / "case.json"
        case.write_text(run.stdout, encoding="utf-8")
        assert parse_case(json.loads(run.stdout)).systemic.intolerances[0].agent \
            is Agent.everolimus
        run = run_cli("assess", str(case), "--on", ON.isoformat(), "--format", "json")
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        ids = {i["id"] for i in report["recommendations"]} | {
            i["id"] for i in report["alerts"]}
        assert "REC-MTOR-FIRST-LINE" not in ids
        assert "SUPP-NAB-SIROLIMUS" not in ids
        assert "ALERT-MTOR-GIVEN" not in ids
        assert "REC-ANTHRACYCLINE" in ids
