"""FHIR in: a free-of-disease record beside an active metastasis of the PEComa.

The record is pecoma's own bundle of a renal PEComa whose lung metastasis (found
2023-05-10) was removed, the patient free of disease since 2023-08-01 (the project's
``pecoma#free-of-disease`` Observation), with a further Condition: a liver metastasis,
ICD-10-CM C78.7, ``active`` and ``confirmed``. When the liver metastasis could not be
placed before 2023-08-01 (no onset, a recordedDate after it, an onsetAge with no birth
date, a partial date holding the day, text, an onsetPeriod running past it), the reader
kept the patient "free of disease, surveillance only" (REC-NO-ADJUVANT-AFTER-RELAPSE, I8)
with no word: no first-line mTOR inhibitor (S12), no metastasectomy question (S16).

Expected, each by hand: a metastasis Condition whose status is active is present now,
whenever it was found. One found after the day, or that cannot be placed before it, says
the disease came back, or may have; one found before it says the patient was not freed
of it, or that its status was not brought up to date. Either way the free-of-disease
record is not read, the disease taken as present (the safer reading: the advice is for
present disease) and the note names the Condition, its dates, the day and what to record.
A metastasis resolved (or refuted, or entered in error) leaves the record as it is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.case import DiseaseStatus
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.writer import bundle_from_case

ON = dt.date(2026, 12, 10)
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
FIRST_LINE = "REC-MTOR-FIRST-LINE"
FREE = "REC-NO-ADJUVANT-AFTER-RELAPSE"

RELAPSED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "kidney", "size": {"value": 9, "unit": "cm"}},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    "free_of_disease": {"since": "2023-08-01", "by": "surgery"},
}


def _with_liver(clinical: str = "active", verification: str = "confirmed",
                **dates: Any) -> dict[str, Any]:
    """The bundle pecoma writes for the case, and the liver metastasis ``liver-met``."""
    bundle = bundle_from_case(parse_case(RELAPSED))
    subject = next(e["resource"]["subject"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Condition")
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": "liver-met",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": verification}]},
        "code": {"coding": [{"system": ICD10CM, "code": "C78.7",
                             "display": "Secondary malignant neoplasm of liver"}],
                 "text": "Liver metastasis of PEComa"},
        "subject": subject, **dates}})
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


def _not_read_note(bc: BundleCase) -> str:
    (note,) = [n for n in bc.notes if n.startswith("free_of_disease not read")]
    return note


def _present(bc: BundleCase) -> None:
    """Not free of disease: metastatic, the liver metastasis present, the first-line
    mTOR inhibitor advised (S12), never "free of disease after relapse" (I8)."""
    assert bc.case.free_of_disease is None
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert [m.site.value for m in bc.case.stage.metastases] == ["liver"]
    ids = set(assess(bc.case, ON).record_ids())
    assert FIRST_LINE in ids and FREE not in ids


@pytest.mark.parametrize(("dates", "shown"), [
    ({}, "(no onset or recorded date)"),
    ({"recordedDate": "2025-05-01"}, "(no onset, recorded 2025-05-01, on or after that day)"),
    ({"onsetAge": {"value": 45, "unit": "a", "system": "http://unitsofmeasure.org",
                   "code": "a"}}, "(onset given as an age of 45 years"),
    ({"onsetDateTime": "2023-08"}, "(onset 2023-08, a partial date holding that day)"),
    ({"onsetString": "May 2025"}, "(onset given as text"),
    ({"onsetPeriod": {"start": "2023-07-01", "end": "2023-10-01"}},
     "(onset 2023-07-01 to 2023-10-01, a period running past that day or holding it)"),
], ids=["no-date", "recorded-later", "age", "partial-date", "text", "period"])
def test_one_that_cannot_be_placed_before_the_day(dates: dict[str, Any], shown: str) -> None:
    """The liver metastasis may have been found after 2023-08-01, and it is active now:
    the disease is taken as present, the note naming it, its dates and the day."""
    bundle = _with_liver(**dates)
    if "onsetAge" in dates:
        for e in bundle["entry"]:
            e["resource"].pop("birthDate", None)
    bc = _read(bundle)
    _present(bc)
    note = _not_read_note(bc)
    assert "Observation/" in note and "(free of disease since 2023-08-01)" in note
    assert f"Condition/liver-met, an active liver metastasis {shown}" in note
    assert "cannot be placed before that day" in note
    assert "the disease is taken as present" in note.lower()
    assert "clinicalStatus resolved" in note


def test_one_found_after_the_day() -> None:
    """Found on 2025-05-01, after the day: the disease is present again. The case model
    refused this (a metastasis found after the day); the record is now read the same
    safer way as a later statement of present disease."""
    bc = _read(_with_liver(onsetDateTime="2025-05-01"))
    _present(bc)
    assert ("Condition/liver-met, an active liver metastasis (onset 2025-05-01, after it), "
            "was found after that day: the disease is present again") in _not_read_note(bc)


def test_one_found_before_the_day_and_still_active() -> None:
    """Found on 2023-06-01, before the day, yet active now: either the patient was not
    freed of it or its status was not brought up to date; the safer reading is the
    disease present, and the note asks for it to be recorded as resolved if it is."""
    bc = _read(_with_liver(onsetDateTime="2023-06-01"))
    assert bc.case.free_of_disease is None
    assert [m.site.value for m in bc.case.stage.metastases] == ["liver"]
    note = _not_read_note(bc)
    assert "(onset 2023-06-01), was found before that day and is active now" in note


@pytest.mark.parametrize(("clinical", "verification", "dates"), [
    ("resolved", "confirmed", {"onsetDateTime": "2023-06-01",
                               "abatementDateTime": "2023-07-15"}),
    ("active", "refuted", {}),
    ("active", "entered-in-error", {}),
], ids=["resolved-before-the-day", "refuted", "entered-in-error"])
def test_one_that_is_history_or_not_so_keeps_the_record(
        clinical: str, verification: str, dates: dict[str, Any]) -> None:
    """A liver metastasis resolved before the day (2023-07-15) is one the patient was
    freed of; one refuted or entered in error is no metastasis: free of disease since
    2023-08-01 is kept."""
    bc = _read(_with_liver(clinical, verification, **dates))
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == dt.date(2023, 8, 1)
    assert not [n for n in bc.notes if n.startswith("free_of_disease not read")]


def test_pecoma_s_own_bundle_reads_back_free_of_disease() -> None:
    """pecoma writes the metastases of a case free of disease as resolved (the day each
    resolved is not in the case), so its own bundle reads back as the same case."""
    case = parse_case(RELAPSED)
    bundle = bundle_from_case(case)
    (met,) = [e["resource"] for e in bundle["entry"]
              if e["resource"]["id"].startswith("metastasis-")]
    assert met["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert case_from_bundle(bundle).case == case
