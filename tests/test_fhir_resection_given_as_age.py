"""A resection of the primary recorded by the patient's age only (``performedAge``), and
the results measured after it.

The uterine record (tests/data/mcode/uterus-localized.json, the patient born 1971-05-02)
has its hysterectomy performed on 2024-04-09 and the specimen measured 9.5 cm (reported
2024-04-10); no other feature of the risk is present, so the size alone makes the risk
high (S06: > 5 cm). A surveillance MRI two years later (2026-06-01) measured 2.1 cm:
tests/test_fhir_mcode.py::TestSizeAfterTheResection holds that, the resection dated,
this later size is not the primary's (it may be a recurrence, residual disease or
another lesion).

With the hysterectomy's day given only as the patient's age (FHIR R4 ``performedAge``),
the resection was left out of the days the reader places results against
(``Reader.resection_days``), as if no resection had been done: the MRI's 2.1 cm, the
latest size, was read as the primary's and the risk fell from high to low (the low-risk
surveillance schedule). Likewise a clinical N category after the operation was read as
the nodal status at presentation.

Expected, each by hand: an age places the resection among the days it may be (an age of
52 years: 2023-05-02 to 2024-05-01; of 635 months: 2024-04-02 to 2024-05-01). A result is
before the resection only when it is on or before the first of those days; otherwise it
may be after it, and the rules for a result after the resection apply from that first
day (the safer reading: a size that may be another lesion's is never taken for the
primary's). So the MRI is never the primary's size. The specimen's 9.5 cm of 2024-04-10
is within the report days (90) of every day of the month-wide age, so it stands and the
risk stays high; with the year-wide age it may be more than 90 days after the operation,
so it is not read either: the size is unknown (asked), the risk not low, never 2.1 cm.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 11, 28)
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
PATIENT_U = {"reference": "Patient/cancer-patient-pecoma-u"}
HYSTERECTOMY = "cancer-related-surgical-procedure-hysterectomy"
MRI = {"coding": [{"system": SNOMED, "code": "113091000",
                   "display": "Magnetic resonance imaging"}]}


def _uterus(performed: dict[str, Any] | None) -> dict[str, Any]:
    """The uterine record, every other feature of the risk reported absent and no
    mitoses (the size alone decides the risk), the hysterectomy's day given by
    ``performed`` (``None``: its performedDateTime, 2024-04-09), and the MRI of
    2026-06-01 measuring 2.1 cm."""
    bundle: dict[str, Any] = json.loads((DATA / "uterus-localized.json").read_text("utf-8"))
    proc = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == HYSTERECTOMY)
    if performed is not None:
        del proc["performedDateTime"]
        proc.update(performed)
    absent = [{"resourceType": "Observation", "id": f"feature-{code}", "status": "final",
               "code": {"coding": [{"system": PECOMA, "code": code}]},
               "subject": PATIENT_U, "effectiveDateTime": "2024-04-10",
               "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000",
                                                    "display": "Absent"}]}}
              for code in ("necrosis", "infiltrative-growth",
                           "high-nuclear-grade-and-cellularity", "vascular-invasion",
                           "nuclear-pleomorphism-or-giant-cells")]
    mitoses = {"resourceType": "Observation", "id": "mitoses", "status": "final",
               "code": {"coding": [{"system": PECOMA, "code": "mitoses-per-50-hpf"}]},
               "subject": PATIENT_U, "effectiveDateTime": "2024-04-10",
               "valueQuantity": {"value": 0}}
    mri = {"resourceType": "Observation", "id": "mri-2026", "status": "final",
           "meta": {"profile": [
               "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-tumor-size"]},
           "code": {"coding": [{"system": "http://loinc.org", "code": "21889-1"}]},
           "subject": PATIENT_U, "method": MRI, "effectiveDateTime": "2026-06-01",
           "component": [{"code": {"coding": [{"system": "http://loinc.org",
                                               "code": "33728-7"}]},
                          "valueQuantity": {"value": 2.1, "unit": "cm", "system": UCUM,
                                            "code": "cm"}}]}
    bundle["entry"] += [{"resource": r} for r in [*absent, mitoses, mri]]
    return bundle


def _age(value: int, code: str) -> dict[str, Any]:
    return {"performedAge": {"value": value, "unit": code, "system": UCUM, "code": code}}


def _read(performed: dict[str, Any] | None) -> BundleCase:
    return case_from_bundle(_uterus(performed), validate="full", on=ON)


def test_control_dated_the_specimen_size_stands() -> None:
    """The hysterectomy dated: the MRI's 2.1 cm is set aside, the 9.5 cm stands, the risk
    is high (as tests/test_fhir_mcode.py holds)."""
    bc = _read(None)
    size = bc.case.tumour.size
    assert size is not None and size.value == 9.5
    assert assess(bc.case, ON).risk.group == "high"


def test_an_age_in_months_keeps_the_specimen_size_and_sets_the_mri_aside() -> None:
    """performedAge 635 months (2024-04-02 to 2024-05-01): the MRI of 2026 is after every
    day the resection may be, so not the primary's; the specimen's 9.5 cm of 2024-04-10 is
    within 90 days of each, so it stands: the risk stays high (it was low)."""
    bc = _read(_age(635, "mo"))
    assert bc.case.surgery.date is None  # a month holds no single day
    size = bc.case.tumour.size
    assert size is not None and (size.value, size.unit.value) == (9.5, "cm")
    assert any(n.startswith("Observation/mri-2026: not read as tumour.size")
               and "2024-04-02" in n and "an age of" in n for n in bc.notes), bc.notes
    assert assess(bc.case, ON).risk.group == "high"


def test_an_age_in_years_leaves_the_size_unknown_never_the_mri() -> None:
    """performedAge 52 years (2023-05-02 to 2024-05-01): the MRI is set aside; the
    specimen's size of 2024-04-10 may be more than 90 days after the operation, so it is
    not read either (the safer reading): the size is unknown, asked, and the risk is not
    low; never 2.1 cm."""
    bc = _read(_age(52, "a"))
    assert bc.case.tumour.size is None
    assert "tumour.size" in bc.not_found
    assert assess(bc.case, ON).risk.group != "low"


@pytest.mark.parametrize("performed", [None, _age(635, "mo"), _age(52, "a")])
def test_a_clinical_n_category_after_the_operation_is_not_at_presentation(
        performed: dict[str, Any] | None) -> None:
    """A clinical N1 of 2026-06-01 (after every day the hysterectomy may be) is what was
    seen then, not the nodal status at presentation: not read as it, as with the
    resection dated (``None``: the control)."""
    bundle = _uterus(performed)
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "cn1-2026", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "21906-3"}]},
        "subject": PATIENT_U, "effectiveDateTime": "2026-06-01",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "1229967007",
                                             "display": "cN1"}]}}})
    bc = case_from_bundle(copy.deepcopy(bundle), validate="full", on=ON)
    assert bc.sources.get("stage.lymph_nodes") != "Observation/cn1-2026"
    assert any(n.startswith("Observation/cn1-2026: not read as stage.lymph_nodes")
               and "the resection of the primary" in n for n in bc.notes), bc.notes
