"""The project's ``progressed`` extension on a line an EHR recorded (no ``therapy-setting``).

A MedicationStatement of sirolimus, stopped, carrying pecoma's own extension
``progressed`` = yes but not ``therapy-setting`` was read as a line of sirolimus with
``progressed`` dropped, without a note: the engine then asked whether the disease
progressed on it and kept the first-line mTOR advice as if no progression were recorded.
The extension is now read whichever way the line is read; records of one line saying
different things leave it unknown, with a note (never one of them silently).

Record: the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa, no
systemic line) with the medication records added by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from allergy_support import PATIENT, SIROLIMUS, record, to_case

PROGRESSED = "https://pecoma.example/fhir/StructureDefinition/progressed"


def statement(rid: str, start: str, end: str, progressed: str | None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "MedicationStatement", "id": rid, "status": "stopped",
        "subject": {"reference": f"Patient/{PATIENT}"},
        "medicationCodeableConcept": SIROLIMUS,
        "effectivePeriod": {"start": start, "end": end},
        "reasonReference": [{"reference": "Condition/metastasis-1"}]}
    if progressed is not None:
        res["extension"] = [{"url": PROGRESSED, "valueCode": progressed}]
    return res


def test_progressed_read_without_therapy_setting(tmp_path: Path) -> None:
    # sirolimus for the metastatic disease, the disease progressed on it (the record's
    # own extension): the line says so; the statement stopped on 2025-09-01 ends it
    out = to_case(tmp_path, record(statement("ms1", "2025-01-10", "2025-09-01", "yes")))
    assert out["case"]["systemic"]["therapies"] == [
        {"agent": "sirolimus", "started_on": "2025-01-10", "ended_on": "2025-09-01",
         "progressed": "yes"}]


def test_records_of_one_line_disagreeing_leave_it_unknown(tmp_path: Path) -> None:
    # two records of the one sirolimus line, one saying progressed, one not: which holds
    # is not known, so the line's progression is unknown (asked), and a note says why
    out = to_case(tmp_path, record(statement("ms1", "2025-01-10", "2025-05-01", "no"),
                                   statement("ms2", "2025-05-02", "2025-09-01", "yes")))
    # (unknown is the case format's default, which the case written leaves out); both
    # statements stopped, the line ends with the later one
    assert out["case"]["systemic"]["therapies"] == [
        {"agent": "sirolimus", "started_on": "2025-01-10", "ended_on": "2025-09-01"}]
    notes = " ".join(out["notes"])
    assert "say different things of progressed" in notes
    assert "MedicationStatement/ms1: no" in notes and "MedicationStatement/ms2: yes" in notes


def test_no_extension_no_progression_claimed(tmp_path: Path) -> None:
    # no extension: nothing is said of progression (the engine asks)
    out = to_case(tmp_path, record(statement("ms1", "2025-01-10", "2025-09-01", None)))
    assert "progressed" not in out["case"]["systemic"]["therapies"][0]


BEST_RESPONSE = "https://pecoma.example/fhir/StructureDefinition/best-response"
THERAPY_LINE = "https://pecoma.example/fhir/StructureDefinition/therapy-line"


def test_best_response_read_and_therapy_line_noted(tmp_path: Path) -> None:
    # the project's best-response on an EHR line is read as progressed is; its
    # therapy-line is not read (the line is placed by its first day), and a note says so
    res = statement("ms1", "2025-01-10", "2025-09-01", "yes")
    res["extension"] += [{"url": BEST_RESPONSE, "valueCode": "partial"},
                         {"url": THERAPY_LINE, "valuePositiveInt": 2}]
    out = to_case(tmp_path, record(res))
    assert out["case"]["systemic"]["therapies"] == [
        {"agent": "sirolimus", "started_on": "2025-01-10", "ended_on": "2025-09-01",
         "best_response": "partial", "progressed": "yes"}]
    assert any("MedicationStatement/ms1: the extension therapy-line is not read" in n
               for n in out["notes"])
