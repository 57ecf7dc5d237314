"""Which of several results of one fact the FHIR reader takes: the nodal status at
presentation (S11) from a pathological and a clinical regional nodes category, a result
with no effective time, the dimensions of one tumour size, and the notes of allergy
entries that disagree whether an intolerance is of the class.

The record is tests/data/mcode/uterus-localized.json: a uterine PEComa diagnosed
2024-03-04, resected 2024-04-09 (R0), whose specimen measures 9.5 cm (its mCODE
TumorSize, 2024-04-10), with no nodal status of its own.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import NodeStatus
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
AJCC = "http://cancerstaging.org"
PATIENT = {"reference": "Patient/cancer-patient-pecoma-u"}
SIZE = "tumor-size-pathology-pecoma-u"
#: S11: positive lymph nodes at presentation, consider postoperative treatment.
S11 = "REC-ADJ-NODES-METS"


def uterus() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "uterus-localized.json").read_text("utf-8"))
    return data


def res(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"]
                                 if e["resource"].get("id") == rid)
    return found


def add(bundle: dict[str, Any], *resources: dict[str, Any]) -> dict[str, Any]:
    bundle["entry"] += [{"resource": x} for x in resources]
    return bundle


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def n_category(rid: str, loinc: str, value: dict[str, Any],
               when: str | None, issued: str | None = None) -> dict[str, Any]:
    """An mCODE TNMRegionalNodesCategory: pathological 21900-6, clinical 21906-3."""
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": loinc}]},
        "subject": PATIENT, "valueCodeableConcept": value,
        "focus": [{"reference": "Condition/primary-cancer-condition-uterus"}]}
    if when is not None:
        obs["effectiveDateTime"] = when
    if issued is not None:
        obs["issued"] = issued
    return obs


PN1 = {"coding": [{"system": AJCC, "code": "pN1"}]}
#: cN0 by the mCODE IG's own example code.
CN0 = {"coding": [{"system": SCT, "code": "1229967007", "display": "cN0"}]}
CNX = {"coding": [{"system": AJCC, "code": "cNX"}]}


class TestNodesAtPresentation:
    """S11 is about the nodes at presentation. The specimen's pN1 (2024-04-12) is that;
    a clinical category of a surveillance scan after the resection had replaced it as 'the
    later result': nodes read negative (or not assessed), S11 gone, no note."""

    def test_a_later_clinical_n0_does_not_replace_the_specimens_pn1(self) -> None:
        bc = read(add(uterus(), n_category("pn", "21900-6", PN1, "2024-04-12"),
                      n_category("cn", "21906-3", CN0, "2025-05-01")))
        assert bc.case.stage.lymph_nodes is NodeStatus.positive
        assert bc.sources["stage.lymph_nodes"] == "Observation/pn"
        assert S11 in assess(bc.case, ON).record_ids()
        assert any(n.startswith("Observation/cn: not read as stage.lymph_nodes")
                   and "Observation/pn" in n for n in bc.notes)
        assert any("Observation/cn" in x for x in bc.not_read)

    def test_a_later_clinical_nx_does_not_replace_the_specimens_pn1(self) -> None:
        bc = read(add(uterus(), n_category("pn", "21900-6", PN1, "2024-04-12"),
                      n_category("cn", "21906-3", CNX, "2025-05-01")))
        assert bc.case.stage.lymph_nodes is NodeStatus.positive
        assert S11 in assess(bc.case, ON).record_ids()

    def test_a_clinical_category_after_the_resection_is_not_the_presentations(
            self) -> None:
        """With no pathological category: a cN1 seen on a scan a year after the
        resection is what was seen then (a relapse is another question), not the nodes at
        presentation: set aside, noted, and the nodal status stays unknown (asked)."""
        bc = read(add(uterus(), n_category("cn", "21906-3",
                                           {"coding": [{"system": AJCC, "code": "cN1"}]},
                                           "2025-05-01")))
        assert bc.case.stage.lymph_nodes is NodeStatus.unknown
        assert any(n.startswith("Observation/cn: not read as stage.lymph_nodes")
                   and "2024-04-09" in n for n in bc.notes)
        # unchanged: before the resection it is read, and the specimen's pN0 after it wins
        pn0 = {"coding": [{"system": AJCC, "code": "pN0"}]}
        bc = read(add(uterus(), n_category("cn", "21906-3",
                                           {"coding": [{"system": AJCC, "code": "cN1"}]},
                                           "2024-03-10"),
                      n_category("pn", "21900-6", pn0, "2024-04-12")))
        assert bc.case.stage.lymph_nodes is NodeStatus.negative


class TestResultsWithNoEffectiveTime:
    """A result with no effective[x] had counted as older than any dated one: the
    specimen's size, given only its ``issued`` time, lost to a pre-operative MRI, and
    an undated pN1 to a pre-operative cN0, silently."""

    def test_a_specimen_size_issued_after_an_mri_is_the_size(self) -> None:
        b = uterus()
        specimen = res(b, SIZE)
        del specimen["effectiveDateTime"]
        specimen["issued"] = "2024-04-15T10:00:00Z"
        mri = copy.deepcopy(specimen)
        del mri["issued"], mri["specimen"]
        mri.update(id="size-mri", effectiveDateTime="2024-03-01", method={"coding": [
            {"system": SCT, "code": "113091000", "display": "Magnetic resonance imaging"}]})
        mri["component"] = mri["component"][:1]
        mri["component"][0]["valueQuantity"]["value"] = 4.0
        bc = read(add(b, mri))
        assert bc.case.tumour.size is not None
        assert (bc.case.tumour.size.value, bc.case.tumour.size.unit) == (9.5, "cm")
        assert assess(bc.case, ON).risk.group == "high"

    def test_an_undated_size_that_differs_from_a_dated_one_leaves_the_size_unknown(
            self) -> None:
        b = uterus()
        specimen = res(b, SIZE)
        mri = copy.deepcopy(specimen)
        del specimen["effectiveDateTime"]
        del mri["specimen"]
        mri.update(id="size-mri", effectiveDateTime="2024-03-01")
        mri["component"] = mri["component"][:1]
        mri["component"][0]["valueQuantity"]["value"] = 4.0
        bc = read(add(b, mri))
        assert bc.case.tumour.size is None
        assert any(n.startswith("tumour.size:") and "Observation/size-mri" in n
                   and f"Observation/{SIZE}" in n and "no time at all" in n
                   for n in bc.notes)
        assert assess(bc.case, ON).risk.group != "low"
        # one that agrees changes nothing
        mri["component"][0]["valueQuantity"]["value"] = 9.5
        bc = read(b)
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
        assert not any(n.startswith("tumour.size:") for n in bc.notes)

    def test_an_issued_pn1_outweighs_a_preoperative_cn0(self) -> None:
        bc = read(add(uterus(), n_category("pn", "21900-6", PN1, None,
                                           issued="2024-04-15T10:00:00Z"),
                      n_category("cn", "21906-3", CN0, "2024-03-01")))
        assert bc.case.stage.lymph_nodes is NodeStatus.positive
        assert S11 in assess(bc.case, ON).record_ids()

    def test_an_undated_nodal_result_that_differs_leaves_the_nodes_unknown(self) -> None:
        """The project's own nodal Observation (no clinical or pathological kind) with
        no time at all beside a dated negative one: unknown, noted, never negative."""
        own = {"resourceType": "Observation", "id": "own", "status": "final",
               "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                                    "code": "regional-lymph-nodes"}]},
               "valueCodeableConcept": {"coding": [{"system": SCT, "code": "10828004"}]},
               "subject": PATIENT}
        dated = copy.deepcopy(own)
        dated.update(id="dated", effectiveDateTime="2024-04-12",
                     valueCodeableConcept={"coding": [{"system": SCT, "code": "260385009"}]})
        bc = read(add(uterus(), own, dated))
        assert bc.case.stage.lymph_nodes is NodeStatus.unknown
        assert any(n.startswith("stage.lymph_nodes:") and "Observation/own" in n
                   and "Observation/dated" in n for n in bc.notes)


class TestDimensionsOfOneSize:
    def test_an_additional_dimension_larger_than_the_longest_is_the_size(self) -> None:
        """Dimensions entered in the wrong components (longest 4 cm, additional 9.5 cm):
        the size is the largest dimension, noted; the 4 cm had been read, silently."""
        b = uterus()
        comps = res(b, SIZE)["component"]
        comps[0]["valueQuantity"]["value"], comps[1]["valueQuantity"]["value"] = 4.0, 9.5
        bc = read(b)
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
        assert any(n.startswith(f"Observation/{SIZE}: an additional dimension (9.5 cm")
                   and "4.0 cm" in n for n in bc.notes)
        assert assess(bc.case, ON).risk.group == "high"
        # the record's own sizes (9.5 cm longest, 6 cm additional): no note
        assert not any("additional dimension" in n for n in read(uterus()).notes)

    @pytest.mark.parametrize("values", [(3.0, 9.5), (9.5, 3.0)])
    def test_two_longest_dimensions_that_disagree_give_the_larger_noted(
            self, values: tuple[float, float]) -> None:
        """One TumorSize with two longest-dimension components (33728-7), 3 cm and
        9.5 cm: the size is the larger (a size above 5 cm is a high-risk feature, S06:
        the smaller would call the risk too low), and a note names both. The first
        component had been read and the second passed over silently: 3 cm listed first
        gave a 3 cm tumour."""
        b = uterus()
        comps = res(b, SIZE)["component"]
        second = copy.deepcopy(comps[0])
        comps[0]["valueQuantity"]["value"], second["valueQuantity"]["value"] = values
        comps.insert(1, second)
        bc = read(b)
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
        assert any(n.startswith(f"Observation/{SIZE}: two longest dimensions")
                   and "3.0 cm" in n and "9.5 cm" in n and "disagree" in n
                   for n in bc.notes)
        assert assess(bc.case, ON).risk.group == "high"

    def test_two_longest_dimensions_that_agree_say_nothing(self) -> None:
        """Control: the longest dimension written twice, 9.5 cm both: no note."""
        b = uterus()
        comps = res(b, SIZE)["component"]
        comps.insert(1, copy.deepcopy(comps[0]))
        bc = read(b)
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
        assert not any("longest dimension" in n for n in bc.notes)


EXT = "https://pecoma.example/fhir/StructureDefinition/intolerance-class-wide"


def intolerance(rid: str, text: str, class_wide: str) -> dict[str, Any]:
    return {"resourceType": "AllergyIntolerance", "id": rid, "patient": PATIENT,
            "type": "intolerance", "code": {"text": text},
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/"
                                           "CodeSystem/allergyintolerance-clinical",
                                           "code": "active"}]},
            "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/"
                                               "CodeSystem/allergyintolerance-verification",
                                               "code": "confirmed"}]},
            "extension": [{"url": EXT, "valueCode": class_wide}]}


class TestAllergyEntriesThatDisagree:
    def test_each_entry_is_quoted_as_it_is_and_the_reading_said_once(self) -> None:
        """Two entries of everolimus, one 'no', one 'yes': the 'no' entry had been
        described as recording 'yes'. Both judgements are kept as rows, so that the
        engine reads the class as ruled out meanwhile and asks which holds (HAZ-433);
        collapsed to 'yes' alone, the contradiction was asked of nobody."""
        bc = read(add(uterus(), intolerance("a5", "Everolimus", "no"),
                      intolerance("a5b", "Everolimus (Afinitor)", "yes")))
        assert sorted(x.class_wide.value for x in bc.case.systemic.intolerances) == [
            "no", "yes"]
        own = [n for n in bc.notes if n.startswith("AllergyIntolerance/a5:")]
        assert own and "'no'" in own[0] and "'yes'" not in own[0]
        both = [n for n in bc.notes if n.startswith("everolimus: the entries")]
        assert len(both) == 1
        assert "AllergyIntolerance/a5 'no'" in both[0]
        assert "AllergyIntolerance/a5b 'yes'" in both[0]
