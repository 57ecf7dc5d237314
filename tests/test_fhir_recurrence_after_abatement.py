"""FHIR in: metastases all resolved, then the PEComa back, said in ways the reader missed.

The record is the kidney corpus (tests/data/mcode/kidney-metastatic.json) with only its
liver metastasis left, resolved on 2024-03-05, no disease status, no mTOR order and no
sirolimus allergy. The reader derived ``free_of_disease.since`` 2024-03-05 from that
abatement, so the patient was told "free of disease after relapse, surveillance"
(REC-NO-ADJUVANT-AFTER-RELAPSE, I8) and not given the first-line mTOR inhibitor (S12,
S13), although the record said, later, that the disease was there:

- a second PEComa Condition whose clinicalStatus is FHIR's ``recurrence`` or ``relapse``
  (set aside as "a further PEComa Condition"), or one not in the past that arose after
  the abatement;
- a Condition worded "Recurrent PEComa, left renal fossa" (the site words made it "not
  the PEComa"), or naming PEComa in words pecoma cannot read at all;
- a TNM stage group IV (soft-tissue sarcoma: involved nodes or distant metastases), or a
  pM1 held contained as the stage group's member (not read, not listed);
- a "worsened" status over a period that began before the abatement and ran past it
  (placed before the day by its start).

Expected, each by hand: the patient is not taken as free of disease (the safer reading:
the advice is for present disease, where the disease is now is asked), with a note
naming the statement.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import DiseaseStatus
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
PRIMARY = "primary-cancer-condition-kidney"
PATIENT = "cancer-patient-pecoma-k"
STATUS = "cancer-disease-status-worsened-pecoma-k"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
AJCC = "http://cancerstaging.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
FIRST_LINE = "REC-MTOR-FIRST-LINE"
FREE = "REC-NO-ADJUVANT-AFTER-RELAPSE"
LATER = "2025-02-01"


def _res(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


def _record(*, status: bool = False) -> dict[str, Any]:
    """The corpus with only the liver metastasis (resolved 2024-03-05), no everolimus
    order, no sirolimus allergy, and its disease status only if ``status``."""
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    gone = {"secondary-cancer-condition-lung-mets", "secondary-cancer-condition-brain-mets",
            "cancer-related-medication-request-everolimus", "allergy-sirolimus-pecoma-k"}
    if not status:
        gone.add(STATUS)
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in gone]
    return bundle


def _add(bundle: dict[str, Any], resource: dict[str, Any]) -> dict[str, Any]:
    resource["subject"] = _res(bundle, PRIMARY)["subject"]
    bundle["entry"].append({"resource": resource})
    return bundle


def _condition(code: dict[str, Any], clinical: str = "active",
               onset: str | None = LATER) -> dict[str, Any]:
    """The record with a further Condition ``rec`` of the left kidney."""
    cond: dict[str, Any] = {
        "resourceType": "Condition", "id": "rec",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
        "code": code,
        "bodySite": [{"coding": [{"system": SNOMED, "code": "64033007",
                                  "display": "Kidney structure"}]}]}
    if onset is not None:
        cond["onsetDateTime"] = onset
    return _add(_record(), cond)


def _coded_pecoma(clinical: str, onset: str | None = LATER) -> dict[str, Any]:
    return _condition({"coding": [{"system": ICDO3, "code": "8714/3"}], "text": "PEComa"},
                      clinical, onset)


def _worded(text: str) -> dict[str, Any]:
    return _condition({"text": text})


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _ids(bc: BundleCase) -> set[str]:
    return set(assess(bc.case, ON).record_ids())


def _said(bc: BundleCase) -> str:
    (note,) = [n for n in bc.notes if n.startswith("free_of_disease not derived")]
    return note


def _present(bc: BundleCase) -> None:
    """Not free of disease; the disease metastatic (present again, where it is now
    asked), the first-line mTOR inhibitor advised (S12, S13), never "free of disease
    after relapse" (I8)."""
    assert bc.case.free_of_disease is None
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert bc.case.stage.metastases == ()
    ids = _ids(bc)
    assert FIRST_LINE in ids and FREE not in ids
    assert "MISS-METASTASIS-DETAILS" in ids


class TestAFurtherPEComaCondition:
    """A second PEComa Condition beside the primary (its code ICD-O-3 8714/3)."""

    @pytest.mark.parametrize("clinical", ["recurrence", "relapse"])
    def test_its_status_says_the_pecoma_came_back(self, clinical: str) -> None:
        """FHIR's condition-clinical 'recurrence' / 'relapse' says the condition has come
        back: the PEComa recurred after the liver metastasis resolved (as the same status
        on the primary Condition is read). It had been set aside as "a further PEComa
        Condition" and the patient read free of disease since 2024-03-05."""
        bc = _read(_coded_pecoma(clinical))
        _present(bc)
        note = _said(bc)
        assert f"Condition/rec.clinicalStatus '{clinical}'" in note
        assert "the disease is present again" in note
        # read as the recurrence, so not listed as a Condition not read
        assert not [x for x in bc.not_read if "Condition/rec" in x]

    def test_one_arising_after_the_abatement(self) -> None:
        """A PEComa Condition, active, whose onset (2025-02-01) is after the liver
        metastasis resolved: a PEComa arose after the day the patient would be free of
        disease (a recurrence, or a new tumour), so the disease is there."""
        bc = _read(_coded_pecoma("active"))
        _present(bc)
        note = _said(bc)
        assert "Condition/rec (onset 2025-02-01, after it) records a PEComa" in note

    @pytest.mark.parametrize(("onset", "given"), [
        ({"onsetAge": {"value": 64, "unit": "a", "system": "http://unitsofmeasure.org",
                       "code": "a"}}, "an age"),
        ({"onsetRange": {"low": {"value": 64, "unit": "a"},
                         "high": {"value": 65, "unit": "a"}}}, "a range of ages"),
        ({"onsetString": "February 2025"}, "text"),
    ], ids=["age", "range", "string"])
    def test_an_onset_with_no_day_cannot_be_placed(self, onset: dict[str, Any],
                                                   given: str) -> None:
        """A PEComa Condition, active, whose onset is an age or a range of ages while the
        Patient gives no birthDate, or text: pecoma reads no day from it, so it may have
        arisen after the abatement. It had been read as the PEComa recorded again, as one
        with no onset is, and the patient kept free of disease. Expected: cannot be
        placed, so the safer reading, the disease present, said."""
        bundle = _coded_pecoma("active", onset=None)
        _res(bundle, "rec").update(onset)
        del _res(bundle, PATIENT)["birthDate"]
        bc = _read(bundle)
        _present(bc)
        note = _said(bc)
        assert f"Condition/rec (onset given as {given}" in note
        assert "cannot be placed before or after that day" in note

    def test_an_onset_with_no_day_recorded_before_the_day(self) -> None:
        """The same onsetAge (no birthDate) on a Condition recorded on 2024-01-15, before
        the metastasis resolved: it began before the day, so it speaks of the disease
        then (the PEComa recorded again). Expected: free of disease since the abatement,
        kept."""
        bundle = _coded_pecoma("active", onset=None)
        del _res(bundle, PATIENT)["birthDate"]
        _res(bundle, "rec").update(onsetAge={"value": 62, "unit": "a"},
                                   recordedDate="2024-01-15")
        bc = _read(bundle)
        assert bc.case.free_of_disease is not None
        assert bc.case.free_of_disease.since == dt.date(2024, 3, 5)

    def test_its_status_against_a_free_of_disease_record(self) -> None:
        """The team recorded the patient free of disease since 2024-04-01; the second
        PEComa Condition says 'recurrence' now. The free-of-disease record is held to the
        same statements: not read, the disease taken as present."""
        bundle = _add(_coded_pecoma("recurrence"), {
            "resourceType": "Observation", "id": "free-of-disease", "status": "final",
            "code": {"coding": [{"system": PECOMA, "code": "free-of-disease"}]},
            "valueDateTime": "2024-04-01"})
        bc = _read(bundle)
        assert bc.case.free_of_disease is None
        (note,) = [n for n in bc.notes if n.startswith("free_of_disease not read")]
        assert "Condition/rec.clinicalStatus 'recurrence'" in note
        assert FREE not in _ids(bc)


class TestWordsNamingARecurrenceAndItsSite:
    """A Condition whose code is only words naming the PEComa's recurrence."""

    @pytest.mark.parametrize("text", ["Recurrent PEComa, left renal fossa",
                                      "Recurrent PEComa in the nephrectomy bed"])
    def test_read_as_the_recurrence(self, text: str) -> None:
        """The renal fossa and the nephrectomy bed are where a renal PEComa recurs after
        nephrectomy: words naming a site beside the PEComa's name and its recurrence are
        its recurrence ("Recurrent PEComa" alone was read so). They had made the
        Condition "not the PEComa nor a metastasis of it", the patient free of disease."""
        bc = _read(_worded(text))
        _present(bc)
        assert "Condition/rec, a recurrence of the PEComa" in _said(bc)

    def test_words_not_read_never_leave_the_patient_free_silently(self) -> None:
        """"Possible recurrent PEComa, renal fossa": a hedge pecoma does not read as the
        PEComa (nor as none). Whether the PEComa is back is not known, so the patient is
        not taken as free of disease (the safer reading), and the note and the listing
        say why."""
        bc = _read(_worded("Possible recurrent PEComa, renal fossa"))
        _present(bc)
        note = _said(bc)
        assert "Condition/rec (onset 2025-02-01, after it) names PEComa in words" in note
        assert "whether the disease is there is not known" in note
        (listed,) = [x for x in bc.not_read if "Condition/rec" in x]
        assert "names PEComa" in listed and "'possible'" in listed


def _stage(code: str, value: dict[str, Any], **more: Any) -> dict[str, Any]:
    return _add(_record(), {
        "resourceType": "Observation", "id": "sg", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "effectiveDateTime": LATER, "valueCodeableConcept": value, **more})


class TestStageGroupIV:
    """A TNM stage group IV assigned after the liver metastasis resolved."""

    def test_a_later_stage_iv_says_the_disease_is_there(self) -> None:
        """Stage IV of soft-tissue sarcoma is involved nodes or distant metastases: one
        assigned on 2025-02-01 says the disease was there then. It had been listed as
        evidence while the patient was read free of disease since 2024-03-05."""
        bc = _read(_stage("21908-9", {"coding": [{"system": AJCC, "code": "4",
                                                  "display": "IV"}]}))
        _present(bc)
        note = _said(bc)
        assert "Observation/sg (dated 2025-02-01, after it) states the TNM stage group" in note

    def test_a_contained_m1_member_is_read(self) -> None:
        """A pathological stage group whose hasMember is a pM1 held contained (a contained
        resource is part of its container): read as the distant metastases category it
        is, listed in the evidence; it had been neither read nor listed."""
        member = {"resourceType": "Observation", "id": "m1", "status": "final",
                  "code": {"coding": [{"system": LOINC, "code": "21901-4"}]},
                  "valueCodeableConcept": {"coding": [{"system": AJCC, "code": "pM1",
                                                       "display": "M1"}]},
                  "effectiveDateTime": LATER}
        bundle = _stage("21902-2", {"coding": [{"system": AJCC, "code": "4", "display": "IV"}]},
                        contained=[member], hasMember=[{"reference": "#m1"}])
        member["subject"] = _res(bundle, PRIMARY)["subject"]
        bc = _read(bundle)
        assert bc.case.free_of_disease is None
        assert any("Observation/sg#m1" in e and "distant metastases" in e for e in bc.evidence)
        assert "Observation/sg#m1" in _said(bc)


class TestAPeriodRunningPastTheDay:
    """A "worsened" CancerDiseaseStatus over a period, the liver metastasis resolved on
    2024-03-05."""

    def _worsened(self, period: dict[str, str]) -> BundleCase:
        bundle = _record(status=True)
        obs = _res(bundle, STATUS)
        obs.pop("effectiveDateTime")
        obs["effectivePeriod"] = period
        return _read(bundle)

    def test_a_period_holding_the_day_cannot_be_placed_before_it(self) -> None:
        """2024-02-01 to 2025-03-01: the disease worsened over a time that runs a year past
        the abatement. Placed before the day by its start, it had left the patient free
        of disease; it cannot be placed before it: the safer reading, said; and the
        evidence shows the period (it had said "undated")."""
        bc = self._worsened({"start": "2024-02-01", "end": "2025-03-01"})
        _present(bc)
        note = _said(bc)
        assert "effective 2024-02-01 to 2025-03-01, a period running past that day" in note
        assert "cannot be placed before or after that day" in note
        assert any(e.startswith("2024-02-01 to 2025-03-01: cancer disease status")
                   for e in bc.evidence)

    def test_a_period_with_no_end_is_ongoing(self) -> None:
        """Only a start (2024-02-01) before the abatement: FHIR reads a period with no end
        as ongoing, so it may run past the day: not placed before it."""
        bc = self._worsened({"start": "2024-02-01"})
        _present(bc)
        assert "a period with no end is ongoing" in _said(bc)
