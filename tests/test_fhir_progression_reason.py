"""A medication record stopped because the disease progressed on it (``statusReason``).

An everolimus MedicationStatement of a metastatic PEComa, ``stopped``, from 2026-09-10 to
2026-11-20, ``statusReason`` "Disease progression": the reader read the reason for
intolerance only, so the line was read with no ``progressed``, no note said what the
record gives, and the assessment kept the first-line mTOR advice provisional on "did the
disease progress on it?" (MISS-MTOR-PROGRESSION), a question the record answers.

A reason saying clearly that the disease progressed on the drug now reads the line's
``progressed`` as yes, quoted in a note (the team corrects the case if it is wrong). A
reason that only may say so (doubted, negated, asked, of something else, or coded as a
worsening or no response, which stable disease or a toxicity may be too) is not read as
progressed: a note quotes it, and the question stays.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess
from pecoma.case import Agent
from pecoma.fhir.medications import Progression, status_reason
from pecoma.fhir.reader import BundleCase, case_from_bundle

from fhir_support import example, patient_id

ON = dt.date(2026, 12, 6)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED = "http://snomed.info/sct"


def everolimus(reason: Any, kind: str = "MedicationStatement",
               status: str = "stopped") -> dict[str, Any]:
    """Everolimus (RxNorm 141704) from 2026-09-10 to 2026-11-20, stopped for ``reason``."""
    res: dict[str, Any] = {
        "resourceType": kind, "id": "eve-1", "status": status,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "141704",
                                                  "display": "everolimus"}]}}
    if kind == "MedicationRequest":
        res.update(intent="order", statusReason=reason, dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": "2026-09-10",
                                                    "end": "2026-11-20"}}}}])
    else:
        res.update(statusReason=[reason],
                   effectivePeriod={"start": "2026-09-10", "end": "2026-11-20"})
    return res


def read(*medications: dict[str, Any]) -> BundleCase:
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    pid = patient_id(bundle)
    for med in medications:
        bundle["entry"].append({"resource": {**med, "subject": {"reference": f"Patient/{pid}"}}})
    return case_from_bundle(bundle, on=ON)


CLEAR = [
    {"text": "Disease progression"},          # the record as reported
    {"text": "Progressive disease"},
    {"text": "Stopped: tumour progression on CT"},
    {"text": "PEComa progressed on everolimus"},
    {"text": "Stopped due to toxicity; disease progression"},  # both said
]
UNCLEAR = [
    {"text": "Suspected progression"},
    {"text": "Progression?"},
    {"text": "Possible progression, awaiting MRI"},
    {"text": "progression of neuropathy"},    # of something else
    {"coding": [{"system": SNOMED, "code": "271299001",
                 "display": "Patient's condition worsened"}]},
    {"coding": [{"system": SNOMED, "code": "266721009"}]},  # No response to treatment
]


class TestWhatTheReasonSays:
    @pytest.mark.parametrize("reason", CLEAR)
    def test_a_clear_progression(self, reason: dict[str, Any]) -> None:
        # read on a stopped everolimus record: a clear progression is read only on a
        # record that ended or is held, and only on its own drug
        # (tests/test_fhir_progression_overread.py)
        found = status_reason(everolimus(reason))
        assert found is not None and found.progression is Progression.clear

    @pytest.mark.parametrize("reason", UNCLEAR)
    def test_a_progression_to_check(self, reason: dict[str, Any]) -> None:
        found = status_reason({"statusReason": reason})
        assert found is not None and found.progression is Progression.unclear

    @pytest.mark.parametrize("reason", [{"text": "Course completed"},
                                        {"text": "grade 3 pneumonitis"},
                                        {"text": "Treatment in progress"},
                                        # denied: says nothing to read, nor to check
                                        {"text": "Stable disease, no progression"},
                                        {"text": "Stopped due to toxicity; no progression"}])
    def test_no_progression_said(self, reason: dict[str, Any]) -> None:
        found = status_reason({"statusReason": reason})
        assert found is not None and found.progression is None


class TestReader:
    @pytest.mark.parametrize("kind", ["MedicationStatement", "MedicationRequest"])
    def test_disease_progression_reads_progressed_yes(self, kind: str) -> None:
        """The record as reported: the everolimus line progressed (yes), the reason quoted;
        the assessment no longer asks whether it progressed on it."""
        bc = read(everolimus({"text": "Disease progression"}, kind))
        (line,) = bc.case.systemic.therapies
        assert line.agent is Agent.everolimus
        assert line.progressed is not None and line.progressed.value == "yes"
        assert any("'Disease progression'" in n and "progressed yes" in n
                   for n in bc.notes), bc.notes
        missing = {m.id for m in assess(bc.case, ON).missing}
        assert "MISS-MTOR-PROGRESSION" not in missing

    @pytest.mark.parametrize("reason", UNCLEAR[:2] + UNCLEAR[4:5])
    def test_an_unclear_reason_is_a_note_only(self, reason: dict[str, Any]) -> None:
        """Not read as progressed; a note quotes it and the question stays."""
        bc = read(everolimus(reason))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        assert any("cannot tell whether this says the disease progressed" in n
                   for n in bc.notes), bc.notes
        missing = {m.id for m in assess(bc.case, ON).missing}
        assert "MISS-MTOR-PROGRESSION" in missing

    def test_the_reference_point_without_a_reason(self) -> None:
        """No statusReason: progression unknown, asked."""
        med = everolimus({"text": "x"})
        del med["statusReason"]
        bc = read(med)
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        assert "MISS-MTOR-PROGRESSION" in {m.id for m in assess(bc.case, ON).missing}
