"""FHIR in: a Condition's onset or abatement given as an age, placed by the birth date.

An ``onsetAge`` holds no day of its own, and was read as none even when the Patient's
``birthDate`` makes the days it may be certain: a further PEComa Condition with an age
onset was "not placed" against the day the metastases resolved (the safer reading), so
a patient whose second PEComa entry began, by the birth date, a year before that day was
not taken as free of disease; and an age that is no age (a negative one, 200 years, a
length in centimetres) was read as quietly as a good one.

The record is the kidney corpus (tests/data/mcode/kidney-metastatic.json): the Patient
born 1968-11-20, the liver metastasis resolved on 2024-03-05 and the only one left, so
that the patient would be free of disease since that day, and a further PEComa Condition
``rec``, active, of the same kidney. Expected, by hand, from the birth date: an age of N
years is the days from 1968-11-20 plus N years to 1968-11-20 plus N + 1 years less a day
(months and weeks alike, N days one day), a birth date given as a year widening it to
each of its days; all of them after 2024-03-05, the PEComa arose after the day (not free
of disease); all before, it is the PEComa recorded again (free of disease kept); holding
the day, it cannot be placed (not free of disease, said). Without a birth date, an age
holds no day, and the note says why. A bad age is refused naming the element.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus
from pecoma.errors import FieldIssue, InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

from allergy_support import (
    DOXORUBICIN,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
ABATED = dt.date(2024, 3, 5)
PATIENT = "cancer-patient-pecoma-k"
PRIMARY = "primary-cancer-condition-kidney"
LIVER = "secondary-cancer-condition-liver-resolved"
UCUM = "http://unitsofmeasure.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def _res(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == rid)


def _record() -> dict[str, Any]:
    """The corpus with only the liver metastasis (resolved 2024-03-05), no disease status,
    no everolimus order and no sirolimus allergy (as in
    test_fhir_recurrence_after_abatement)."""
    bundle: dict[str, Any] = json.loads((DATA / "kidney-metastatic.json").read_text("utf-8"))
    gone = {"secondary-cancer-condition-lung-mets", "secondary-cancer-condition-brain-mets",
            "cancer-related-medication-request-everolimus", "allergy-sirolimus-pecoma-k",
            "cancer-disease-status-worsened-pecoma-k"}
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"]["id"] not in gone]
    return bundle


def age(value: float, unit: str = "a") -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


def _with_further(onset: dict[str, Any], birth: str | None = "1968-11-20",
                  **patient: Any) -> dict[str, Any]:
    """The record with the further PEComa Condition ``rec`` whose onset is ``onset``."""
    bundle = _record()
    person = _res(bundle, PATIENT)
    if birth is None:
        del person["birthDate"]
    else:
        person["birthDate"] = birth
    person.update(patient)
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": "rec",
        "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
        "code": {"coding": [{"system": ICDO3, "code": "8714/3"}], "text": "PEComa"},
        "bodySite": [{"coding": [{"system": "http://snomed.info/sct", "code": "64033007",
                                  "display": "Kidney structure"}]}],
        "subject": _res(bundle, PRIMARY)["subject"], **onset}})
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _said(bc: BundleCase) -> str:
    (note,) = [n for n in bc.notes if n.startswith("free_of_disease not derived")]
    return note


def _free(bc: BundleCase) -> None:
    """Free of disease since the liver metastasis resolved: the further PEComa began
    before that day (the PEComa recorded again)."""
    assert bc.case.free_of_disease is not None
    assert bc.case.free_of_disease.since == ABATED
    assert not any(n.startswith("free_of_disease not derived") for n in bc.notes)


def _present(bc: BundleCase) -> None:
    """Not free of disease: the status metastatic, present disease (the safer reading)."""
    assert bc.case.free_of_disease is None
    assert bc.case.stage.status is DiseaseStatus.metastatic


class TestAFurtherPEComaPlacedByTheBirthDate:
    def test_an_age_whose_days_are_all_before_the_day(self) -> None:
        """Age 54: 2022-11-20 to 2023-11-19, all before 2024-03-05. The defect: it was
        'not placed' and the patient not taken as free of disease."""
        _free(_read(_with_further({"onsetAge": age(54)})))

    def test_an_age_whose_days_are_all_after_the_day(self) -> None:
        """Age 56: 2024-11-20 to 2025-11-19, after it: a PEComa arose after the day."""
        bc = _read(_with_further({"onsetAge": age(56)}))
        _present(bc)
        assert ("Condition/rec (onset given as an age of 56 years (2024-11-20 to "
                "2025-11-19 from the birthDate), after it) records a PEComa") in _said(bc)

    def test_an_age_whose_days_hold_the_day(self) -> None:
        """Age 55: 2023-11-20 to 2024-11-19 holds 2024-03-05: cannot be placed."""
        bc = _read(_with_further({"onsetAge": age(55)}))
        _present(bc)
        note = _said(bc)
        assert ("Condition/rec (onset given as an age of 55 years (2023-11-20 to "
                "2024-11-19 from the birthDate), holding that day)") in note
        assert "cannot be placed before or after that day" in note

    def test_holding_the_day_but_recorded_before_it(self) -> None:
        """Age 55 on a Condition recorded 2024-01-15: it began before the day (the
        recorded date is the latest it began), so the PEComa recorded again."""
        _free(_read(_with_further({"onsetAge": age(55), "recordedDate": "2024-01-15"})))

    @pytest.mark.parametrize(("value", "unit", "placed"), [
        (650, "mo", "before"),  # 2023-01-20 to 2023-02-19
        (663, "mo", "unplaced"),  # 2024-02-20 to 2024-03-19
        (664, "mo", "after"),  # 2024-03-20 to 2024-04-19
        (2884, "wk", "unplaced"),  # 2024-02-28 to 2024-03-05
        (2885, "wk", "after"),  # 2024-03-06 to 2024-03-12
        (20193, "d", "before"),  # 2024-03-04
        (20194, "d", "unplaced"),  # 2024-03-05, the day itself
        (20195, "d", "after"),  # 2024-03-06
        (54.9, "a", "before"),  # 54 whole years: 2022-11-20 to 2023-11-19
    ])
    def test_months_weeks_days_and_a_fraction(self, value: float, unit: str,
                                              placed: str) -> None:
        bc = _read(_with_further({"onsetAge": age(value, unit)}))
        if placed == "before":
            _free(bc)
        else:
            _present(bc)
            assert ("after it" in _said(bc)) is (placed == "after")

    @pytest.mark.parametrize(("low", "high", "placed"), [
        (50, 54, "before"),  # 2018-11-20 to 2023-11-19
        (54, 56, "unplaced"),  # 2022-11-20 to 2025-11-19
        (56, None, "after"),  # from 2024-11-20, no end
        (None, 54, "before"),  # from birth to 2023-11-19
    ])
    def test_a_range_of_ages(self, low: int | None, high: int | None, placed: str) -> None:
        ends = {k: age(v) for k, v in (("low", low), ("high", high)) if v is not None}
        bc = _read(_with_further({"onsetRange": ends}))
        if placed == "before":
            _free(bc)
        else:
            _present(bc)
            assert ("after it" in _said(bc)) is (placed == "after")

    @pytest.mark.parametrize(("years", "placed"), [(56, "unplaced"), (54, "before")])
    def test_a_birth_date_given_as_a_year(self, years: int, placed: str) -> None:
        """Born in 1968 (day unknown): age 56 is 2024-01-01 to 2025-12-30, which holds the
        day (born 1968-11-20 it was after it); age 54, 2022-01-01 to 2023-12-30, is still
        before it."""
        bc = _read(_with_further({"onsetAge": age(years)}, birth="1968"))
        if placed == "before":
            _free(bc)
        else:
            _present(bc)
            assert "2024-01-01 to 2025-12-30 from the birthDate), holding that day" in _said(bc)

    def test_a_birthday_on_29_february(self) -> None:
        """Born 1968-02-29: age 55 runs from 2023-02-28 (no 29 February that year: the
        earliest the birthday may be kept) to 2024-02-28, before the day."""
        _free(_read(_with_further({"onsetAge": age(55)}, birth="1968-02-29")))


class TestNoBirthDate:
    def test_the_age_holds_no_day_and_the_note_says_why(self) -> None:
        """No birthDate: age 54 holds no day; not placed (the safer reading), the note
        saying the birth date is not known."""
        bc = _read(_with_further({"onsetAge": age(54)}, birth=None))
        _present(bc)
        assert ("Condition/rec (onset given as an age of 54 years (the Patient's birth "
                f"date is not known: Patient/{PATIENT} gives no birthDate), which holds no "
                "day pecoma places)") in _said(bc)

    def test_a_patient_with_a_modifier_extension(self) -> None:
        """Its birthDate is not read (the extension may change what it means): the same,
        saying why."""
        bc = _read(_with_further({"onsetAge": age(54)}, modifierExtension=[
            {"url": "https://ehr.example/fhir/StructureDefinition/x", "valueBoolean": True}]))
        _present(bc)
        assert "carries a modifierExtension pecoma does not understand" in _said(bc)
        assert "its birthDate is not read" in _said(bc)

    def test_a_birth_date_masked(self) -> None:
        bc = _read(_with_further({"onsetAge": age(54)}, birth=None, _birthDate={
            "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                           "valueCode": "masked"}]}))
        _present(bc)
        assert "birthDate is not recorded (data-absent-reason 'masked')" in _said(bc)


def _refused(bundle: dict[str, Any], path: str) -> FieldIssue:
    with pytest.raises(InputError) as caught:
        _read(bundle)
    (issue,) = [i for i in caught.value.issues if i.path == path]
    return issue


class TestAnAgeThatIsNone:
    @pytest.mark.parametrize(("value", "at", "rule"), [
        (age(-1), "onsetAge.value", "must be an age from 0 to 130 years"),
        (age(131), "onsetAge.value", "must be an age from 0 to 130 years"),
        (age(1600, "mo"), "onsetAge.value", "(1600 months is 133 years)"),
        (age(54, "cm"), "onsetAge.code", "must be a unit of time pecoma reads"),
        (age(54, "h"), "onsetAge.code", "must be a unit of time pecoma reads"),
        ({"value": 54, "unit": "kg"}, "onsetAge.unit", "must be a unit of time"),
        ({"value": 54}, "onsetAge.unit", "must be a unit of time"),
        ({"value": "54", "unit": "a"}, "onsetAge.value", "must be a number"),
        ({"value": 54, "unit": "a", "system": "http://snomed.info/sct", "code": "a"},
         "onsetAge.system", "must be UCUM"),
    ], ids=["negative", "over-130", "months-over-130", "centimetres", "hours",
            "unit-word-kilograms", "no-unit", "text", "not-ucum"])
    def test_refused_naming_the_element(self, value: dict[str, Any], at: str,
                                        rule: str) -> None:
        issue = _refused(_with_further({"onsetAge": value}), f"Condition/rec.{at}")
        assert rule in issue.rule

    def test_years_written_as_a_word_are_read(self) -> None:
        """Boundary: no code, the unit 'years': an age in years (54: before)."""
        _free(_read(_with_further({"onsetAge": {"value": 54, "unit": "years"}})))

    def test_130_years_is_an_age(self) -> None:
        """Boundary: 130 years is the oldest age read (2098-11-20 on: after the day)."""
        _present(_read(_with_further({"onsetAge": age(130)})))

    def test_a_range_whose_high_is_below_its_low(self) -> None:
        issue = _refused(_with_further({"onsetRange": {"low": age(56), "high": age(54)}}),
                         "Condition/rec.onsetRange.high")
        assert "must not be below onsetRange.low (56 years)" in issue.rule

    def test_an_age_without_a_birth_date_is_still_checked(self) -> None:
        _refused(_with_further({"onsetAge": age(200)}, birth=None),
                 "Condition/rec.onsetAge.value")


class TestTheDiagnosisAndTheAbatement:
    def test_an_age_in_days_is_the_diagnosis_day(self) -> None:
        """The PEComa's onset given as 19899 days of age: 2023-05-15 (its onsetDateTime in
        the corpus), the diagnosis day, said in a note."""
        bundle = _record()
        primary = _res(bundle, PRIMARY)
        del primary["onsetDateTime"]
        primary["onsetAge"] = age(19899, "d")
        bc = _read(bundle)
        assert bc.case.diagnosis.date == dt.date(2023, 5, 15)
        assert any(n.startswith(f"diagnosis.date taken from Condition/{PRIMARY}'s onset, "
                                "given as an age of 19899 days") for n in bc.notes)

    def test_an_age_in_years_holds_no_diagnosis_day(self) -> None:
        """Age 54: a year of days, none the diagnosis day (never its first or last):
        the date stays unknown, the note giving the days."""
        bundle = _record()
        primary = _res(bundle, PRIMARY)
        del primary["onsetDateTime"]
        primary["onsetAge"] = age(54)
        bc = _read(bundle)
        assert bc.case.diagnosis.date is None
        said = (f"diagnosis.date not read: Condition/{PRIMARY}'s onset is given as an age "
                "of 54 years (2022-11-20 to 2023-11-19 from the birthDate), which holds no "
                "single day")
        assert any(n.startswith(said) for n in bc.notes)

    def test_an_abatement_age_in_days_is_the_day_it_resolved(self) -> None:
        """The liver metastasis resolved at 20194 days of age: 2024-03-05, free of
        disease since then."""
        bundle = _record()
        liver = _res(bundle, LIVER)
        del liver["abatementDateTime"]
        liver["abatementAge"] = age(20194, "d")
        _free(_read(bundle))

    def test_an_abatement_age_in_years_leaves_the_day_unknown(self) -> None:
        """Age 55: the day it resolved is not known (never guessed): free of disease is
        not derived, and with no disease status the record is refused asking for it, as
        for an abatement with no day; the note gives the days."""
        bundle = _record()
        liver = _res(bundle, LIVER)
        del liver["abatementDateTime"]
        liver["abatementAge"] = age(55)
        with pytest.raises(InputError) as caught:
            _read(bundle)
        assert [i.path for i in caught.value.issues] == ["stage.status"]

    def test_a_bad_abatement_age_is_refused(self) -> None:
        bundle = _record()
        liver = _res(bundle, LIVER)
        del liver["abatementDateTime"]
        liver["abatementAge"] = age(300)
        _refused(bundle, f"Condition/{LIVER}.abatementAge.value")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("onset-age"))


def _metastasis_age(value: float) -> Any:
    def change(prefetch: dict[str, Any]) -> None:
        for entry in prefetch["conditions"]["entry"]:
            if entry["resource"]["id"] == "metastasis-1":
                del entry["resource"]["onsetDateTime"]
                entry["resource"]["onsetAge"] = age(value)
    return change


class TestCdsServices:
    def test_patient_view_names_a_bad_age(self, client: TestClient) -> None:
        """A lung metastasis's onset at 200 years: the card lists the element and its
        rule (never a 500, never advice on a record that contradicts itself)."""
        cards = patient_view(client, record(), _metastasis_age(200))
        said = " ".join(c["detail"] for c in cards)
        assert "Condition/metastasis-1.onsetAge.value" in said
        assert "must be an age from 0 to 130 years" in said

    def test_order_select_proposes_nothing_on_it(self, client: TestClient) -> None:
        cards = order_select(client, record(), DOXORUBICIN, _metastasis_age(200))
        assert not proposed(cards)
