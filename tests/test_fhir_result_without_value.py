"""A result with no value pecoma can take leaves that one fact unknown; the rest of the
record is read.

FHIR R4 makes Observation.value[x] optional (0..1): an mCODE TumorSize gives its size in
components, and an EHR sends a final size whose longest dimension (LOINC 33728-7) was not
coded, only another dimension (33729-5). Such a result, and a final result of any code
pecoma reads given with no value and no dataAbsentReason (US Core asks for one or the
other, but a broken rule of a profile is no reason to drop the patient), had refused the
whole record: `to-case` exited 3 ("'...valueQuantity' must be a quantity with a numeric
value (got '(missing)')", pointing at an element a component-based TumorSize never
carries), and patient-view answered only "Nothing was assessed", so a metastatic
patient's first-line, allergy and margin cards disappeared. The fact is held by the
record in a form pecoma cannot read: it is listed **found but not read** (never "not
found"), unknown (I1: unknown is not absent; a size unknown leaves S06 open and the risk
indeterminate), and the rest is assessed.

A pathology panel (LOINC 60568-3 synoptic report) that gives a value of its own beside
its components ("See components", "Malignant PEComa") had its components dropped: the
necrosis, infiltrative growth and vascular invasion they give were "not found" and the
panel listed as "a code the case does not record (vital signs, laboratory...)". FHIR R4
allows a value beside components; the components are the pathologist's results all the
same, read as those of the same panel with no value of its own.

The record is tests/data/mcode/kidney-metastatic.json: a left renal PEComa (72 mm,
resected 2023-06-20, R1 by the operative note) with lung and brain metastases, one result
changed or added by hand.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import DiseaseStatus, Feature, IHCResult
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import run_cli
from fhir_support import as_searched, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 12, 7)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
KIDNEY = Path(__file__).parent / "data" / "mcode" / "kidney-metastatic.json"
SIZE_ID = "tumor-size-imaging-pecoma-k"
PATIENT = "Patient/cancer-patient-pecoma-k"
PRESENT, ABSENT = "52101004", "2667000"


def _kidney() -> dict[str, Any]:
    """The record as a FHIR server's search returns it (references ``Type/id``), as an
    EHR's CDS prefetch holds it."""
    return as_searched(json.loads(KIDNEY.read_text("utf-8")))


def _cm(value: float, code: str) -> dict[str, Any]:
    return {"code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "cm", "system": UCUM, "code": "cm"}}


def _size_given_as(**parts: Any) -> dict[str, Any]:
    """The record with its TumorSize (21889-1, final, 2023-05-15) given as ``parts``
    instead of its valueQuantity 72 mm."""
    bundle = _kidney()
    obs = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == SIZE_ID)
    del obs["valueQuantity"]
    obs.update(parts)
    return bundle


def _with(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle = _kidney()
    bundle["entry"].extend({"resource": r} for r in resources)
    return bundle


def _result(rid: str, system: str, code: str, **value: Any) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"reference": PATIENT}, "effectiveDateTime": "2023-06-25", **value}


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def _assessed_all_the_same(bc: BundleCase) -> None:
    """The rest of the record is read: the metastatic disease and the primary's site."""
    assert bc.case.stage.status is DiseaseStatus.metastatic
    assert bc.case.stage.metastases
    assert bc.case.tumour.primary_site.value == "kidney"


class TestTumourSizeWithoutItsLongestDimension:
    @pytest.mark.parametrize("parts", [
        {"component": [_cm(4, "33729-5")]},
        {"component": [_cm(4, "33729-5"), _cm(3, "33729-5")]},
        {},
    ], ids=["one-other-dimension", "two-other-dimensions", "no-value-no-component"])
    def test_the_size_is_found_but_not_read_and_the_rest_is_assessed(
            self, parts: dict[str, Any]) -> None:
        """A final TumorSize with no value[x] and no longest dimension: 4 cm across
        another dimension says only that the tumour's longest dimension is at least
        that, not its size (S06 asks whether it is above 5 cm: unknown). The size is
        unknown, listed found but not read (not "not found": the result is in the
        record, to be completed there), never refusing the record."""
        bc = _read(_size_given_as(**parts))
        assert bc.case.tumour.size is None
        assert "tumour.size" not in bc.not_found
        assert f"Observation/{SIZE_ID}" in bc.unreadable["tumour.size"]
        # the why names what is missing, not an element the result never carries
        assert "valueQuantity" not in bc.unreadable["tumour.size"]
        assert "longest dimension" in bc.unreadable["tumour.size"]
        _assessed_all_the_same(bc)

    def test_the_other_dimension_is_named_in_the_note(self) -> None:
        """The note quotes what the result does give (4 cm, component 33729-5), so the
        record can be corrected: the longest dimension is at least 4 cm."""
        bc = _read(_size_given_as(component=[_cm(4, "33729-5")]))
        said = [n for n in bc.notes if f"Observation/{SIZE_ID}" in n]
        assert any("33729-5" in n and "4 cm" in n for n in said), said

    def test_a_longest_dimension_still_gives_the_size(self) -> None:
        """Unchanged: a longest dimension 9.5 cm beside another of 6 cm is the size."""
        bc = _read(_size_given_as(component=[_cm(9.5, "33728-7"), _cm(6, "33729-5")]))
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5

    def test_to_case_reads_the_record(self, tmp_path: Path) -> None:
        """`pecoma fhir to-case` had exited 3 naming '...valueQuantity'; it prints the
        case and lists tumour.size as found but not read."""
        path = tmp_path / "b.json"
        path.write_text(json.dumps(_size_given_as(component=[_cm(4, "33729-5")])), "utf-8")
        run = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
        assert run.returncode == 0, run.stderr
        said = " ".join(run.stderr.split())
        assert f"found but not read (unknown, not absent): tumour.size: Observation/{SIZE_ID}" \
            in said, said
        assert json.loads(run.stdout)["stage"]["status"] == "metastatic"

    def test_patient_view_assesses_the_record(self, tmp_path: Path) -> None:
        """patient-view had given one card, "Nothing was assessed"; the metastatic
        patient is now assessed (first-line advice among the cards)."""
        client = TestClient(create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'r.db'}", cds=CdsSettings()),
            today=lambda: ON), base_url="http://localhost")
        bundle = _size_given_as(component=[_cm(4, "33729-5")])
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        cards = r.json()["cards"]
        assert not any("not possible" in c["summary"] or "Nothing was assessed" in c["detail"]
                       for c in cards), cards
        assert len(cards) > 1, cards


class TestResultOfAReadCodeWithoutValue:
    @pytest.mark.parametrize(("system", "code", "path"), [
        (PECOMA, "mitoses-per-50-hpf", "histology.mitoses_per_50_hpf"),
        (PECOMA, "necrosis", "histology.necrosis"),
        (LOINC, "10487-7", "immunohistochemistry.hmb45"),
        (PECOMA, "disease-free-interval", "stage.disease_free_interval_months"),
        (PECOMA, "resectable", "stage.resectable"),
        (PECOMA, "primary-treatment-end", "primary_treatment_end"),
    ], ids=["mitoses", "necrosis", "hmb45", "disease-free-interval", "resectable",
            "treatment-end"])
    def test_the_fact_is_found_but_not_read(self, system: str, code: str,
                                           path: str) -> None:
        """A final result with no value[x] and no dataAbsentReason: the fact is unknown
        (no mitotic count is 0, no necrosis result is no necrosis: I1), listed as found
        but not read naming the result, and the rest of the record is read (the record
        had been refused)."""
        bc = _read(_with(_result("r1", system, code)))
        assert path not in bc.not_found
        assert "Observation/r1" in bc.unreadable[path], bc.unreadable
        assert "no value" in bc.unreadable[path]
        assert any("Observation/r1" in n and "no value" in n for n in bc.notes), bc.notes
        _assessed_all_the_same(bc)

    def test_the_values_stay_unknown(self) -> None:
        """What each result would have given stays unknown in the case."""
        bc = _read(_with(_result("m", PECOMA, "mitoses-per-50-hpf"),
                         _result("n", PECOMA, "necrosis"), _result("h", LOINC, "10487-7")))
        assert bc.case.histology.mitoses_per_50_hpf is None
        assert bc.case.histology.necrosis is Feature.unknown
        assert bc.case.immunohistochemistry.hmb45 is IHCResult.unknown

    def test_a_later_result_without_value_makes_an_earlier_one_unknown(self) -> None:
        """Necrosis present on 2023-06-25, then a final result of 2023-07-01 with no
        value: the later result wins (as a later dataAbsentReason does), so necrosis is
        unknown again, never the earlier value kept silently."""
        later = _result("n2", PECOMA, "necrosis")
        later["effectiveDateTime"] = "2023-07-01"
        bc = _read(_with(_result("n1", PECOMA, "necrosis", valueCodeableConcept={
            "coding": [{"system": SNOMED, "code": PRESENT}]}), later))
        assert bc.case.histology.necrosis is Feature.unknown

    def test_a_disease_status_coded_two_ways_is_still_refused(self) -> None:
        """A value that contradicts itself (localized beside metastatic in one concept)
        is no missing value: the record is still refused, naming both."""
        bundle = _with(_result("ds", PECOMA, "disease-status", valueCodeableConcept={
            "coding": [{"system": PECOMA, "code": "localized"},
                       {"system": PECOMA, "code": "metastatic"}]}))
        with pytest.raises(InputError) as caught:
            _read(bundle)
        assert any("Observation/ds" in i.path and "metastatic" in i.value
                   for i in caught.value.issues), caught.value.issues


def _panel(**own: Any) -> dict[str, Any]:
    """A synoptic pathology report (LOINC 60568-3) giving necrosis present, infiltrative
    growth absent and vascular invasion present in components, with ``own`` beside."""
    def part(code: str, answer: str) -> dict[str, Any]:
        return {"code": {"coding": [{"system": PECOMA, "code": code}]},
                "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": answer}]}}
    return _result("syn1", LOINC, "60568-3", component=[
        part("necrosis", PRESENT), part("infiltrative-growth", ABSENT),
        part("vascular-invasion", PRESENT)], **own)


class TestPanelWithAValueOfItsOwn:
    @pytest.mark.parametrize("own", [
        {}, {"valueString": "See components"},
        {"valueCodeableConcept": {"text": "Malignant PEComa"}},
        {"dataAbsentReason": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                    "data-absent-reason", "code": "unknown"}]}},
    ], ids=["no-value", "value-string", "value-text", "data-absent-reason"])
    def test_its_components_are_read(self, own: dict[str, Any]) -> None:
        """The components are the pathologist's results whatever the panel says of
        itself: necrosis present, infiltrative growth absent, vascular invasion present
        (S05-S09's features), each from its component, and the panel is no "code the case
        does not record"."""
        bc = _read(_with(_panel(**copy.deepcopy(own))))
        assert bc.case.histology.necrosis is Feature.present
        assert bc.case.histology.infiltrative_growth is Feature.absent
        assert bc.case.histology.vascular_invasion is Feature.present
        assert bc.sources["histology.necrosis"] == "Observation/syn1.component[0]"
        assert not any("Observation/syn1" in s for s in bc.not_read), \
            bc.not_read


def test_a_disease_status_without_value_is_named_when_nothing_else_gives_it() -> None:
    """The low-risk example (localized only by its disease-status Observation) with that
    Observation's value removed: nothing else gives the status, which is never assumed,
    so the record is refused for stage.status as before; the refusal names the result
    found with no value instead of reading as if the record held none."""
    from fhir_support import example

    bundle = example("low-risk")
    obs = next(e["resource"] for e in bundle["entry"]
               if e["resource"].get("id") == "disease-status")
    del obs["valueCodeableConcept"]
    with pytest.raises(InputError) as caught:
        case_from_bundle(bundle, on=ON)
    rules = [i.rule for i in caught.value.issues if i.path == "stage.status"]
    assert rules and "Found but not read: Observation/disease-status: the result gives no " \
        "value" in rules[0], caught.value.issues
