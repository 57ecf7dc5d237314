"""A resection of the primary coded by its procedure code alone, and what the cards say of
a procedure set aside.

A Coding's ``display`` is optional (FHIR R4): an EHR may send a nephrectomy as SNOMED CT
175905003, CPT 50230 or ICD-10-PCS 0TT10ZZ with no words. Read by words only, such a
nephrectomy of a kidney PEComa with an R1 margin was "not a resection of the primary
tumour": the critical R1 card disappeared and the summary proposed resecting a kidney
removed three years before, and no card said a Procedure had been set aside. The codes are
those of :mod:`pecoma.fhir.resection_codes` (each with its published source); a biopsy stays
a biopsy; a Procedure done for the PEComa whose code pecoma does not know is named on the
card, never silently dropped.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import PrimarySite, SurgeryStatus
from pecoma.engine import assess
from pecoma.fhir import case_from_bundle
from pecoma.fhir import mcode as m
from pecoma.fhir.reading import stated_sides
from pecoma.fhir.resection_codes import NOT_RESECTION_CODES, RESECTION_CODES, SYSTEMS
from pecoma.web import WebConfig, create_app
from pecoma.web.cds.discovery import PATIENT_VIEW

from fhir_support import as_searched, example, hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
ROOT = Path(__file__).resolve().parent
SCT = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
PCS = "http://www.cms.gov/Medicare/Coding/ICD10"
NEPHRECTOMY = "cancer-related-surgical-procedure-nephrectomy"
PECOMA = "primary-cancer-condition-kidney"


def kidney_record(code: dict[str, Any], *, reason: bool = True) -> dict[str, Any]:
    """A localized kidney PEComa (the mCODE kidney record without its metastases, with a
    HistoryOfMetastaticCancer stating none at diagnosis), resected on 2023-06-20 with a
    margin positive (R1, in the Procedure's note), the nephrectomy coded ``code`` and,
    with ``reason``, linked to the PEComa by ``reasonReference``."""
    record: dict[str, Any] = as_searched(json.loads(
        (ROOT / "data/mcode/kidney-metastatic.json").read_text()))
    pid = record["entry"][0]["resource"]["id"]
    kept = []
    for entry in record["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Condition" and res["id"] != PECOMA:
            continue  # the metastases
        if res["resourceType"] in ("Observation",) and res["id"].startswith("cancer-disease"):
            continue
        if res["resourceType"].startswith("Medication") or res["resourceType"] == "Medication":
            continue
        if res["id"] == NEPHRECTOMY:
            res["code"] = code
            if reason:
                res["reasonReference"] = [{"reference": f"Condition/{PECOMA}"}]
        kept.append(entry)
    kept.append({"resource": {
        "resourceType": "Observation", "id": "no-history-of-metastases", "status": "final",
        "code": {"coding": [{"system": SCT, "code": "1287652008"}]},
        "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2023-05-15",
        "valueBoolean": False, "focus": [{"reference": f"Condition/{PECOMA}"}]}})
    record["entry"] = kept
    return record


TEXT = {"text": "Radical nephrectomy, left"}
CODED = [
    pytest.param({"coding": [{"system": SCT, "code": "175905003"}]}, id="sct-total-nephrectomy"),
    pytest.param({"coding": [{"system": SCT, "code": "108022006"}]}, id="sct-kidney-excision"),
    pytest.param({"coding": [{"system": SCT, "code": "116033007"}]}, id="sct-radical"),
    pytest.param({"coding": [{"system": SCT, "code": "81516001"}]}, id="sct-partial"),
    pytest.param({"coding": [{"system": CPT, "code": "50230"}]}, id="cpt-50230"),
    pytest.param({"coding": [{"system": CPT, "code": "50220"}]}, id="cpt-50220"),
    pytest.param({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.12", "code": "50230"}]},
                 id="cpt-by-oid"),
    pytest.param({"coding": [{"system": PCS, "code": "0TT10ZZ"}]}, id="pcs-left-kidney"),
    pytest.param({"coding": [{"system": PCS, "code": "0TB14ZZ"}]}, id="pcs-partial-lap"),
    pytest.param({"coding": [{"system": "urn:oid:2.16.840.1.113883.6.4", "code": "0tt10zz"}]},
                 id="pcs-by-oid-lower-case"),
    pytest.param({"coding": [{"system": SCT, "code": "999999999"},
                             {"system": SCT, "code": "175905003"}]}, id="second-coding"),
]


class TestReadByCode:
    @pytest.mark.parametrize("code", CODED)
    def test_code_only_reads_as_the_text(self, code: dict[str, Any]) -> None:
        """The nephrectomy coded only by a resection code reads exactly as when named in
        words: performed on 2023-06-20, margin R1 from its note (the facts of the
        record, not of its shape)."""
        by_text = case_from_bundle(kidney_record(TEXT), on=ON).case.surgery
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert bc.case.surgery == by_text
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2023, 6, 20)
        assert bc.case.surgery.margin is not None and bc.case.surgery.margin.value == "R1"
        assert not any(line.startswith("Procedure: linked") for line in bc.not_read)

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": PCS, "code": "0TT10ZZ"}]}, id="pcs-left"),
        pytest.param({"text": "Radical nephrectomy, left"}, id="words-left")])
    def test_without_reason_the_organ_of_the_code_decides(self, code: dict[str, Any]) -> None:
        """No reasonReference: a code that removes the left kidney beside a left kidney
        PEComa is the resection of the primary, as the words 'nephrectomy, left' are.
        (A nephrectomy naming no side is asked about: :class:`TestTheOtherKidney`.)"""
        bc = case_from_bundle(kidney_record(code, reason=False), on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": SCT, "code": "116140006"}]}, id="sct-hysterectomy"),
        pytest.param({"coding": [{"system": CPT, "code": "58150"}]}, id="cpt-hysterectomy"),
        pytest.param({"coding": [{"system": PCS, "code": "0FT00ZZ"}]}, id="pcs-liver")])
    def test_another_organ_without_reason_is_not_the_primary(self, code: dict[str, Any]
                                                             ) -> None:
        """A hysterectomy or a liver resection, not linked to the kidney PEComa, is not
        its resection: listed as not read (a resection of another site)."""
        bc = case_from_bundle(kidney_record(code, reason=False), on=ON)
        assert "surgery.status" in bc.not_found
        assert any("not shown to be of the PEComa primary" in line and NEPHRECTOMY in line
                   for line in bc.not_read)

    @pytest.mark.parametrize("words", ["Renal biopsy", "Core needle biopsy of kidney",
                                       "Radiofrequency ablation of renal mass"])
    def test_a_biopsy_coded_as_a_resection_is_asked(self, words: str) -> None:
        """Words naming a biopsy or an ablation beside a nephrectomy code: the record
        contradicts itself, as a result whose code and words disagree does. The
        Procedure is never read as the resection (no resection is taken as done), and
        not taken for a plain biopsy either (the nephrectomy may have been done): its
        surgery facts are found but not read, so the surgery status is asked, a note
        names the code and the words that disagree, and the card names the Procedure."""
        code = {"text": words, "coding": [{"system": SCT, "code": "175905003"}]}
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert "surgery.status" not in bc.case.model_dump(exclude_defaults=True).get(
            "surgery", {})
        assert "surgery.status" in bc.unreadable
        assert any(line.startswith("Procedure: not read: its code (sct 175905003) names a "
                                   "resection") and NEPHRECTOMY in line
                   and "the code and its words disagree" in line for line in bc.not_read)
        assert any(f"its text '{words}' names none" in n for n in bc.notes)

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": CPT, "code": "50545"}]}, id="cpt-not-listed"),
        pytest.param({"coding": [{"system": SCT, "code": "387713003"}]}, id="sct-surgery"),
        pytest.param({"coding": [{"system": "urn:oid:1.2.3", "code": "NEPH-01"}]},
                     id="local-code")])
    def test_linked_but_unknown_code_is_said(self, code: dict[str, Any]) -> None:
        """A Procedure done for the PEComa (reasonReference) whose code pecoma does not
        know is not read as the resection (its kind is unknown, not 'no resection'):
        listed as linked to the PEComa with its code, and a note asks to check the
        surgery facts."""
        bc = case_from_bundle(kidney_record(code), on=ON)
        assert "surgery.status" in bc.not_found
        (line,) = [x for x in bc.not_read if NEPHRECTOMY in x]
        assert line.startswith("Procedure: linked to the PEComa, but its code (")
        assert code["coding"][0]["code"] in line
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a procedure for the PEComa")
                   and "surgery.status" in n for n in bc.notes)


KIDNEY = {"coding": [{"system": SCT, "code": "64033007", "display": "Kidney structure"}]}
LATERALITY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
RIGHT = {**KIDNEY, "extension": [{"url": LATERALITY, "valueCodeableConcept": {
    "coding": [{"system": SCT, "code": "24028007", "display": "Right"}]}}]}


LEFT_KIDNEY = {**KIDNEY, "extension": [{"url": LATERALITY, "valueCodeableConcept": {
    "coding": [{"system": SCT, "code": "7771000", "display": "Left"}]}}]}


def right_cancer_record(*, histology: bool) -> dict[str, Any]:
    """The left kidney PEComa record with a second Condition, an encounter diagnosis of
    a malignant neoplasm of the right kidney (ICD-10-CM C64.1, bodySite kidney with the
    mCODE lateralityQualifier right), with, when ``histology``, its own result: renal
    cell carcinoma (ICD-O-3 8312/3); the nephrectomy (R1 in its note) of the right
    kidney names it as its reason."""
    record = kidney_record({"coding": [{"system": SCT, "code": "175905003",
                                        "display": "Total nephrectomy"}]}, reason=False)
    pid = record["entry"][0]["resource"]["id"]
    operation = next(e["resource"] for e in record["entry"]
                     if e["resource"]["id"] == NEPHRECTOMY)
    operation["bodySite"] = [copy.deepcopy(RIGHT)]
    operation["reasonReference"] = [{"reference": "Condition/rcc"}]
    record["entry"].append({"resource": {
        "resourceType": "Condition", "id": "rcc",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "active"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "encounter-diagnosis"}]}],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C64.1",
                             "display": "Malignant neoplasm of right kidney"}]},
        "bodySite": [copy.deepcopy(RIGHT)], "subject": {"reference": f"Patient/{pid}"},
        "onsetDateTime": "2023-05-20"}})
    if histology:
        record["entry"].append({"resource": {
            "resourceType": "Observation", "id": "rcc-histology", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "31206-6"}]},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2023-06-20",
            "valueCodeableConcept": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "8312/3",
                "display": "Renal cell carcinoma, NOS"}]},
            "extension": [{"url": m.RELATED_CONDITION,
                           "valueReference": {"reference": "Condition/rcc"}}]}})
    return record


class TestTheOtherKidney:
    """A nephrectomy of the other side than the PEComa's. The record's PEComa is of the
    left kidney (C64.2, lateralityQualifier left). A right nephrectomy, even one done
    for a right renal cell carcinoma with its own histology, was read as the complete
    resection of the left PEComa: surgery performed, 'Complete resection achieved' and
    no resection advised for a tumour still in place (S01)."""

    @pytest.mark.parametrize("code, site", [
        pytest.param({"coding": [{"system": SCT, "code": "175905003"}]},
                     {"coding": [{"system": SCT, "code": "9846003",
                                  "display": "Right kidney structure"}]}, id="right-kidney-site"),
        pytest.param({"coding": [{"system": SCT, "code": "175905003"}]}, RIGHT,
                     id="laterality-qualifier"),
        pytest.param({"text": "Radical nephrectomy, right"}, None, id="words"),
        pytest.param({"coding": [{"system": PCS, "code": "0TT00ZZ"}]}, None,
                     id="pcs-right-kidney-code")])
    def test_a_right_nephrectomy_is_not_the_left_pecoma_s(
            self, code: dict[str, Any], site: dict[str, Any] | None) -> None:
        """A right nephrectomy naming no reason, its side given by its bodySite (a
        one-sided SNOMED CT structure, the mCODE lateralityQualifier), its words or its
        code (ICD-10-PCS 0TT00ZZ, resection of the right kidney): not the resection of
        the left PEComa; listed with both sides, and the resection still advised."""
        record = kidney_record(code, reason=False)
        operation = next(e["resource"] for e in record["entry"]
                         if e["resource"]["id"] == NEPHRECTOMY)
        if site is not None:
            operation["bodySite"] = [site]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert any(NEPHRECTOMY in x and "of the other side (its side: right; the "
                   "PEComa's: left)" in x for x in bc.not_read), bc.not_read
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION-DONE" not in ids
        assert "REC-RESECTION" in ids

    @pytest.mark.parametrize("histology", [True, False], ids=["rcc-histology", "c64-1-only"])
    def test_an_operation_for_a_right_kidney_cancer_is_not_the_resection(
            self, histology: bool) -> None:
        """The right nephrectomy's reason is a right kidney cancer (C64.1), with or
        without its own renal cell carcinoma histology: another tumour (another side,
        another histology), not the PEComa recorded again, so the operation is not its
        resection and the resection is advised."""
        bc = case_from_bundle(right_cancer_record(histology=histology), on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert any(NEPHRECTOMY in x and "not shown to be of the PEComa primary" in x
                   for x in bc.not_read), bc.not_read
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION-DONE" not in ids
        assert "REC-RESECTION" in ids

    def test_a_right_nephrectomy_naming_the_left_pecoma_is_asked(self) -> None:
        """A resection of the right kidney (ICD-10-PCS 0TT00ZZ) whose reasonReference is
        the left kidney PEComa: the record contradicts itself; the tumour is not taken as
        removed: surgery facts found but not read (never 'not found'), and a note asks
        to check the sides."""
        bc = case_from_bundle(kidney_record({"coding": [{"system": PCS, "code": "0TT00ZZ"}]}),
                              on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                   "check the side" in n for n in bc.notes), bc.notes
        assert "REC-RESECTION-DONE" not in [x.id for x in assess(bc.case, ON).recommendations]

    def test_a_nephrectomy_of_no_side_is_asked(self) -> None:
        """A total nephrectomy (SNOMED CT 175905003) naming no side and no reason, beside
        a PEComa of the left kidney: whether it removed the PEComa or the other kidney
        cannot be told. Not read as the resection (the tumour is not taken as removed),
        nor dropped: its surgery facts are found but not read and a note asks for the
        side. Before, it was read as the resection of the primary."""
        bc = case_from_bundle(kidney_record({"coding": [{"system": SCT, "code": "175905003"}]},
                                            reason=False), on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert any(NEPHRECTOMY in x and "side cannot be told" in x for x in bc.not_read), \
            bc.not_read
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                   "record the side of the operation" in n for n in bc.notes), bc.notes
        assert "REC-RESECTION-DONE" not in [x.id for x in assess(bc.case, ON).recommendations]


ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _resource(record: dict[str, Any], rid: str) -> dict[str, Any]:
    return next(e["resource"] for e in record["entry"] if e["resource"]["id"] == rid)


def pecoma_coded_alone(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with its left kidney PEComa stating its side by its code alone:
    ICD-10-CM C64.2 (malignant neoplasm of the left kidney) with no display, its bodySite
    the kidney with no laterality."""
    pecoma = _resource(record, PECOMA)
    pecoma["code"] = {"coding": [{"system": ICD10CM, "code": "C64.2"}]}
    pecoma["bodySite"] = [copy.deepcopy(KIDNEY)]
    return record


class TestSidesByCode:
    """The side an operation or a tumour states by its code, not only by its words. An
    ICD-10-CM code of a paired organ states its side in its last character (C64.1 the
    right kidney, C64.2 the left), a Coding's display is optional (FHIR R4), and an
    operation of both sides ("Resection of Bilateral Kidneys", ICD-10-PCS 0TT20ZZ;
    laterality SNOMED CT 51440002 "Right and left") or of the lingula (a part of the left
    lung only) states the PEComa's side too. Read by words only, a right nephrectomy done
    for a right kidney cancer coded C64.1 with no display was read as the complete
    resection of the left renal PEComa (no resection advised for a tumour in place), and
    a bilateral nephrectomy or a lingulectomy was asked about as of no side."""

    def test_a_nephrectomy_for_a_right_kidney_cancer_coded_alone_is_not_the_resection(
            self) -> None:
        """The nephrectomy (no side of its own) names as its reason a Condition coded
        ICD-10-CM C64.1 with no display and no bodySite: a cancer of the right kidney,
        another tumour than the left renal PEComa. Not its resection: the resection is
        advised."""
        record = right_cancer_record(histology=False)
        cancer = _resource(record, "rcc")
        cancer["code"] = {"coding": [{"system": ICD10CM, "code": "C64.1"}]}
        del cancer["bodySite"]
        del _resource(record, NEPHRECTOMY)["bodySite"]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert any(NEPHRECTOMY in x and "not shown to be of the PEComa primary" in x
                   for x in bc.not_read), bc.not_read
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION-DONE" not in ids
        assert "REC-RESECTION" in ids

    def test_a_right_nephrectomy_naming_a_pecoma_coded_left_is_asked(self) -> None:
        """The PEComa states its side by its code alone (C64.2, the left kidney); a
        resection of the right kidney (ICD-10-PCS 0TT00ZZ) names it as its reason: the
        record contradicts itself, the tumour is not taken as removed, and a note asks to
        check the sides."""
        record = pecoma_coded_alone(kidney_record(
            {"coding": [{"system": PCS, "code": "0TT00ZZ"}]}))
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                   "its side: right; the PEComa's: left" in n and "check the side" in n
                   for n in bc.notes), bc.notes

    def test_a_left_nephrectomy_beside_a_pecoma_coded_left_is_read(self) -> None:
        """The other way: the PEComa coded C64.2 alone, a resection of the left kidney
        (ICD-10-PCS 0TT10ZZ) naming no reason: the same side, the resection of the
        primary (before, the PEComa's side was not read and the operation was asked
        about as of a side that cannot be told)."""
        record = pecoma_coded_alone(kidney_record(
            {"coding": [{"system": PCS, "code": "0TT10ZZ"}]}, reason=False))
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2023, 6, 20)

    @pytest.mark.parametrize("code, site", [
        pytest.param({"coding": [{"system": PCS, "code": "0TT20ZZ"}]}, None, id="pcs-0TT20ZZ"),
        pytest.param({"coding": [{"system": SCT, "code": "1866009"}]}, None,
                     id="sct-1866009"),
        pytest.param({"text": "Bilateral nephrectomy"}, None, id="words"),
        pytest.param({"coding": [{"system": SCT, "code": "175905003"}]},
                     {**KIDNEY, "extension": [{"url": LATERALITY, "valueCodeableConcept": {
                         "coding": [{"system": SCT, "code": "51440002"}]}}]},
                     id="laterality-right-and-left")])
    def test_a_bilateral_nephrectomy_removed_the_left_pecoma(
            self, code: dict[str, Any], site: dict[str, Any] | None) -> None:
        """Both kidneys removed (by its code, its words or its laterality 'Right and
        left'), naming no reason, beside a left renal PEComa: the PEComa's kidney was
        removed, so it is the resection of the primary (before: asked as of no side,
        and a resection advised for a patient with no kidney left)."""
        record = kidney_record(code, reason=False)
        if site is not None:
            _resource(record, NEPHRECTOMY)["bodySite"] = [site]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert "surgery.status" not in bc.unreadable
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION" not in ids

    @pytest.mark.parametrize("code, read", [
        pytest.param("0BTH4ZZ", True, id="lingula"),
        pytest.param("0BTC4ZZ", False, id="right-upper-lobe")])
    def test_a_lingulectomy_is_of_the_left_lung(self, code: str, read: bool) -> None:
        """A PEComa of the left lung (bodySite SNOMED CT 44029006 Left lung structure):
        a resection of the lingula (ICD-10-PCS 0BTH4ZZ), a part of the left lung only,
        is of its side and read as its resection; a resection of the right upper lobe
        (0BTC4ZZ) is not."""
        record = kidney_record({"coding": [{"system": PCS, "code": code}]}, reason=False)
        pecoma = _resource(record, PECOMA)
        pecoma["code"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                                      "code": "8714/3"}]}
        pecoma["bodySite"] = [{"coding": [{"system": SCT, "code": "44029006"}]}]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.tumour.primary_site is PrimarySite.lung
        assert (bc.case.surgery.status is SurgeryStatus.performed) is read
        if read:
            assert not any("not stated" in n for n in bc.notes), bc.notes

    @pytest.mark.parametrize("reason", [False, True], ids=["no-reason", "reason"])
    def test_a_hysterectomy_naming_an_ovary_s_side_removed_the_uterus(
            self, reason: bool) -> None:
        """A uterine PEComa recorded with a right laterality (of a lateral wall), and a
        'Total hysterectomy with left oophorectomy' (SNOMED CT 739671004, no display),
        with or without its reasonReference to the PEComa: the uterus, one organ, is
        removed whole whatever side the ovary removed with it is of; the resection of the
        primary (before: not read, or a note calling the record self-contradicting, and
        a resection advised for a uterus already removed)."""
        record = json.loads((ROOT / "data/mcode/uterus-localized.json").read_text())
        pecoma = _resource(record, "primary-cancer-condition-uterus")
        pecoma["bodySite"][0]["extension"] = [{"url": LATERALITY, "valueCodeableConcept": {
            "coding": [{"system": SCT, "code": "24028007"}]}}]
        operation = _resource(record, "cancer-related-surgical-procedure-hysterectomy")
        operation["code"] = {"coding": [{"system": SCT, "code": "739671004"}]}
        if not reason:
            del operation["reasonReference"]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert not any("side" in n for n in bc.notes), bc.notes


LEFT_ADRENAL = {"coding": [{"system": SCT, "code": "23451007", "display": "Adrenal gland"}],
                "extension": [{"url": LATERALITY, "valueCodeableConcept": {
                    "coding": [{"system": SCT, "code": "7771000", "display": "Left"}]}}]}
BOTH_SIDES = {"url": LATERALITY, "valueCodeableConcept": {
    "coding": [{"system": SCT, "code": "51440002", "display": "Right and left"}]}}


def lung_record(pecoma_code: dict[str, Any], site: dict[str, Any],
                operation: dict[str, Any]) -> dict[str, Any]:
    """The kidney record made a lung PEComa (its histology 8714/3 kept): the PEComa coded
    ``pecoma_code`` at ``site``, the operation coded ``operation``, naming no reason."""
    record = kidney_record(operation, reason=False)
    pecoma = _resource(record, PECOMA)
    pecoma["code"] = pecoma_code
    pecoma["bodySite"] = [site]
    return record


def _asked(bc: Any) -> None:
    """The resection is not read (the tumour not taken as removed) nor dropped: its
    surgery facts found but not read, and the resection still advised."""
    assert bc.case.surgery.status is not SurgeryStatus.performed
    assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
    ids = [x.id for x in assess(bc.case, ON).recommendations]
    assert "REC-RESECTION-DONE" not in ids
    assert "REC-RESECTION" in ids


class TestSidesInDoubt:
    """A resection is read as the PEComa's only when its side surely is the PEComa's
    (HAZ-229). Sides found anywhere in a Procedure were pooled, so a right nephrectomy
    whose words or other body sites named the left side too ("left kidney spared",
    "bilateral angiomyolipomas", a left adrenal gland) was read as bilateral, and so as
    the complete resection of a left renal PEComa still in place: surgery performed R0,
    'Complete resection achieved', no resection advised, no note."""

    @pytest.mark.parametrize("code, sites", [
        pytest.param({"text": "Right radical nephrectomy (left kidney spared)"}, None,
                     id="words-left-kidney-spared"),
        pytest.param({"text": "Right nephrectomy for bilateral angiomyolipomas"}, None,
                     id="words-bilateral-other-thing"),
        pytest.param({"coding": [{"system": SCT, "code": "175905003"}]},
                     [RIGHT, LEFT_ADRENAL], id="right-kidney-and-left-adrenal"),
        pytest.param({"coding": [{"system": PCS, "code": "0TT00ZZ"}]},
                     [{**KIDNEY, "extension": [BOTH_SIDES]}],
                     id="code-right-laterality-both")])
    def test_a_right_nephrectomy_naming_the_left_side_too_is_asked(
            self, code: dict[str, Any], sites: list[dict[str, Any]] | None) -> None:
        """Beside the left renal PEComa, a nephrectomy naming no reason whose sources
        disagree (its words say right, and left or bilateral of something else; its body
        sites a right kidney and a left adrenal gland; its code the right kidney and its
        laterality both): no bilateral operation is stated for the kidney, so the side is
        in doubt: not read as the resection, the side asked in a note."""
        record = kidney_record(code, reason=False)
        if sites is not None:
            _resource(record, NEPHRECTOMY)["bodySite"] = sites
        bc = case_from_bundle(record, on=ON)
        _asked(bc)
        # in doubt; or, where the only other side word names the kidney kept, not stated
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                   ("its side: in doubt" in n or "its side: not stated" in n)
                   for n in bc.notes), bc.notes

    @pytest.mark.parametrize("pecoma_code, operation, read", [
        pytest.param("C34.11", {"coding": [{"system": PCS, "code": "0BTF4ZZ"}]}, False,
                     id="upper-lobe-pecoma-right-lower-lobectomy"),
        pytest.param("C34.11", {"coding": [{"system": PCS, "code": "0BTC4ZZ"}]}, True,
                     id="upper-lobe-pecoma-right-upper-lobectomy"),
        pytest.param("C34.11", {"text": "Right pneumonectomy"}, True,
                     id="upper-lobe-pecoma-pneumonectomy"),
        pytest.param("C34.12", {"coding": [{"system": SCT, "code": "3654008"}],
                                "text": "Lingulectomy"}, False,
                     id="left-upper-lobe-pecoma-lingulectomy"),
        pytest.param("C34.32", {"coding": [{"system": PCS, "code": "0BTJ4ZZ"}]}, True,
                     id="lower-lobe-pecoma-lower-lobectomy")])
    def test_a_lung_operation_of_another_lobe_is_asked(
            self, pecoma_code: str, operation: dict[str, Any], read: bool) -> None:
        """A lung PEComa whose code states its lobe (ICD-10-CM C34.11, the right upper
        lobe) and an operation of its side on another lobe (a right lower lobectomy,
        ICD-10-PCS 0BTF4ZZ): the tumour may still be in place, so it is
        asked, never read as removed (the sides agreed, and it had been read as done,
        R0). The same lobe, or the whole lung, is the resection; a lingulectomy leaves
        the rest of a left upper lobe."""
        bc = case_from_bundle(lung_record(
            {"coding": [{"system": ICD10CM, "code": pecoma_code}]},
            {"coding": [{"system": SCT, "code": "39607008"}]}, operation), on=ON)
        assert bc.case.tumour.primary_site is PrimarySite.lung
        if read:
            assert bc.case.surgery.status is SurgeryStatus.performed
        else:
            assert bc.case.surgery.status is not SurgeryStatus.performed
            assert any("the PEComa's lobe" in x for x in [*bc.notes, *bc.not_read]), (
                bc.notes, bc.not_read)

    @pytest.mark.parametrize("sites, read", [
        ([RIGHT, LEFT_KIDNEY], True), ([LEFT_KIDNEY, RIGHT], True),
        ([RIGHT, LEFT_ADRENAL], False)], ids=["right-left", "left-right", "two-organs"])
    def test_a_bilateral_operation_recorded_one_body_site_per_side(
            self, sites: list[dict[str, Any]], read: bool) -> None:
        """A nephrectomy (no side in its code) whose body sites are the kidney with
        laterality right and the kidney with laterality left, beside the left renal
        PEComa: both kidneys removed, so the PEComa's (it had been asked, the sides said
        to disagree). A right kidney beside a left adrenal gland names two organs: in
        doubt, asked (guard)."""
        record = kidney_record({"coding": [{"system": SCT, "code": "175905003"}]},
                               reason=False)
        _resource(record, NEPHRECTOMY)["bodySite"] = sites
        bc = case_from_bundle(record, on=ON)
        if read:
            assert bc.case.surgery.status is SurgeryStatus.performed
        else:
            _asked(bc)

    @pytest.mark.parametrize("text", [
        "Radical nephrectomy (left kidney spared)", "Nephrectomy; normal left kidney",
        "Nephrectomy in left lateral decubitus position"])
    def test_a_side_word_of_something_else_states_no_side(self, text: str) -> None:
        """A nephrectomy whose only side word names the kidney kept or the patient's
        position (the left lateral decubitus is the position of a right nephrectomy),
        beside the left renal PEComa and naming no reason: its words state no side, so it
        is asked, never read as removing the left kidney (it had been read as done, R0)."""
        bc = case_from_bundle(kidney_record({"text": text}, reason=False), on=ON)
        _asked(bc)

    def test_a_nephron_sparing_nephrectomy_keeps_its_side(self) -> None:
        """A 'left nephron-sparing partial nephrectomy' states the left side (guard: the
        words of another part's side do not include 'sparing')."""
        bc = case_from_bundle(kidney_record(
            {"text": "Left nephron-sparing partial nephrectomy"}, reason=False), on=ON)
        assert bc.case.surgery.status is SurgeryStatus.performed

    @pytest.mark.parametrize("pecoma_code, site, operation, read", [
        pytest.param({"coding": [{"system": ICD10CM, "code": "C34.2"}]},
                     {"coding": [{"system": SCT, "code": "39607008"}]},
                     {"coding": [{"system": SCT, "code": "3654008"}], "text": "Lingulectomy"},
                     False, id="middle-lobe-pecoma-lingulectomy"),
        pytest.param({"coding": [{"system": ICD10CM, "code": "C34.2"}]},
                     {"coding": [{"system": SCT, "code": "39607008"}]},
                     {"coding": [{"system": PCS, "code": "0BTD4ZZ"}]},
                     False, id="middle-lobe-pecoma-middle-lobectomy"),
        pytest.param({"coding": [{"system": ICD10CM, "code": "C34.2"}]},
                     {"coding": [{"system": SCT, "code": "39607008"}]},
                     {"coding": [{"system": PCS, "code": "0BTF4ZZ"}]},
                     False, id="middle-lobe-pecoma-right-lower-lobectomy"),
        pytest.param({"text": "Malignant PEComa"},
                     {"coding": [{"system": SCT, "code": "44029006"}]},
                     {"coding": [{"system": SCT, "code": "3654008"}]},
                     True, id="left-lung-pecoma-lingulectomy-code-alone")])
    def test_a_lingulectomy_is_left_and_the_middle_lobe_right(
            self, pecoma_code: dict[str, Any], site: dict[str, Any],
            operation: dict[str, Any], read: bool) -> None:
        """A lingulectomy (SNOMED CT 3654008, or the word) removes the lingula of the
        left lung: by its code alone beside a left-lung PEComa it is of its side (before,
        asked as of no side). ICD-10-CM C34.2 is the middle lobe, which only the right
        lung has, but sides are compared, not lobes: given the right side, a right lower
        lobectomy (0BTF4ZZ) would be read as removing a middle-lobe tumour. So C34.2
        states no side, and beside it every one-sided lung operation (a lingulectomy, a
        middle or a lower lobectomy) is asked, never read as done."""
        bc = case_from_bundle(lung_record(pecoma_code, site, operation), on=ON)
        assert bc.case.tumour.primary_site is PrimarySite.lung
        assert (bc.case.surgery.status is SurgeryStatus.performed) is read
        if not read:
            assert any(NEPHRECTOMY in x for x in bc.not_read), bc.not_read

    @pytest.mark.parametrize("code", [
        pytest.param({"text": "Right salpingo-oophorectomy"}, id="words-one-side"),
        pytest.param({"coding": [{"system": SCT, "code": "29827000",
                                  "display": "Bilateral salpingo-oophorectomy"}]},
                     id="sct-bilateral"),
        pytest.param({"coding": [{"system": SCT, "code": "83152002",
                                  "display": "Oophorectomy"}]}, id="sct-no-side"),
        pytest.param({"text": "Right salpingo-oophorectomy, uterus preserved"},
                     id="words-naming-the-uterus-kept"),
        pytest.param({"text": "Bilateral salpingo-oophorectomy for uterine PEComa"},
                     id="words-naming-the-uterine-pecoma"),
        pytest.param({"text": "Right tubectomy"}, id="tubectomy")])
    @pytest.mark.parametrize("side", [None, "7771000"], ids=["no-side", "left"])
    def test_an_adnexal_operation_is_not_the_resection_of_a_uterine_pecoma(
            self, code: dict[str, Any], side: str | None) -> None:
        """The uterine PEComa (with or without a laterality of its own), and an
        operation on the ovaries or tubes alone naming it as its reason: the uterus
        holding the PEComa is left in place (S01, S03: the resection of the primary
        organ), so it is not its resection; the surgery facts are found but not read and
        a note says what was removed. Before, sides were not compared at the uterus for
        any operation, and the adnexal one was read as the complete resection."""
        record = json.loads((ROOT / "data/mcode/uterus-localized.json").read_text())
        if side is not None:
            pecoma = _resource(record, "primary-cancer-condition-uterus")
            pecoma["bodySite"][0]["extension"] = [{"url": LATERALITY, "valueCodeableConcept": {
                "coding": [{"system": SCT, "code": side}]}}]
        operation = _resource(record, "cancer-related-surgical-procedure-hysterectomy")
        operation["code"] = code
        operation.pop("bodySite", None)
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert any("an ovary or a tube, not the uterus holding the PEComa" in n
                   for n in bc.notes), bc.notes
        assert "REC-RESECTION-DONE" not in [x.id for x in assess(bc.case, ON).recommendations]

    @pytest.mark.parametrize("pecoma_code, site", [
        pytest.param({"coding": [{"system": ICD10CM, "code": "C64.9"}]},
                     {**KIDNEY, "extension": [BOTH_SIDES]}, id="laterality-both"),
        pytest.param({"text": "PEComa of both kidneys"}, KIDNEY, id="words-both-kidneys")])
    @pytest.mark.parametrize("operation, read", [
        pytest.param("0TT10ZZ", False, id="left-nephrectomy"),
        pytest.param("0TT20ZZ", True, id="bilateral-nephrectomy")])
    def test_a_pecoma_of_both_sides_is_not_removed_by_a_one_sided_operation(
            self, pecoma_code: dict[str, Any], site: dict[str, Any], operation: str,
            read: bool) -> None:
        """A renal PEComa recorded on both sides (coded C64.9, no side, with the
        laterality 'Right and left'; or 'PEComa of both kidneys'), and a resection naming
        it as its reason: one of the left kidney (ICD-10-PCS 0TT10ZZ) leaves the right
        kidney's tumour, so it is not taken as the complete resection (asked, the note
        saying the PEComa is recorded on both sides); one of both kidneys (0TT20ZZ)
        removed it. Before, the one-sided operation was read as the complete resection
        (the PEComa's side read as 'not stated')."""
        record = kidney_record({"coding": [{"system": PCS, "code": operation}]})
        pecoma = _resource(record, PECOMA)
        pecoma["bodySite"] = [site]
        pecoma["code"] = pecoma_code
        bc = case_from_bundle(record, on=ON)
        assert (bc.case.surgery.status is SurgeryStatus.performed) is read
        if not read:
            _asked(bc)
            assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                       "the PEComa is recorded on both sides" in n for n in bc.notes), \
                bc.notes

    @pytest.mark.parametrize("operation", ["0TT10ZZ", "0TT00ZZ"], ids=["left", "right"])
    def test_a_pecoma_whose_code_and_body_site_disagree_is_asked(self, operation: str) -> None:
        """The PEComa coded ICD-10-CM C64.1 (the right kidney, no display) while its
        bodySite's laterality is left: its own record contradicts itself, so its side is
        in doubt, and a resection of either kidney, naming no reason, is not taken as its
        resection: asked, the note naming the doubt. Before, the bodySite alone was
        read, silently: the left nephrectomy was the complete resection."""
        record = kidney_record({"coding": [{"system": PCS, "code": operation}]}, reason=False)
        _resource(record, PECOMA)["code"] = {"coding": [{"system": ICD10CM, "code": "C64.1"}]}
        bc = case_from_bundle(record, on=ON)
        _asked(bc)
        assert any(n.startswith(f"Procedure/{NEPHRECTOMY}: a resection") and
                   "the PEComa's: in doubt" in n for n in bc.notes), bc.notes

    def test_an_icd10cm_side_sent_under_who_icd10_is_read(self) -> None:
        """A nephrectomy (no side of its own) whose reason is a Condition coded C64.1
        under the WHO ICD-10 system, which has no C64.1 (C64 has no fourth character):
        the code is ICD-10-CM's right kidney, another tumour than the left renal PEComa,
        so the operation is not its resection and the resection is advised. Before, the
        side was read under the ICD-10-CM system only, and the nephrectomy taken as the
        complete resection of the left PEComa."""
        record = right_cancer_record(histology=False)
        cancer = _resource(record, "rcc")
        cancer["code"] = {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10",
                                      "code": "C64.1"}]}
        del cancer["bodySite"]
        del _resource(record, NEPHRECTOMY)["bodySite"]
        bc = case_from_bundle(record, on=ON)
        assert bc.case.surgery.status is not SurgeryStatus.performed
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION-DONE" not in ids
        assert "REC-RESECTION" in ids


@pytest.mark.parametrize("concepts, sides", [
    ([{"coding": [{"system": SCT, "code": "3654008"}]}], {"left"}),
    ([{"coding": [{"system": ICD10CM, "code": "C34.2"}]}], set()),
    ([{"text": "Right radical nephrectomy (left kidney spared)"}], None),
    ([{"text": "Bilateral nephrectomy"}], {"left", "right"}),
    ([{"coding": [{"system": SCT, "code": "51440002", "display": "Right and left"}]}],
     {"left", "right"}),
    ([RIGHT, LEFT_ADRENAL], None)])
def test_sides_are_never_pooled(concepts: list[Any], sides: set[str] | None) -> None:
    """Each code and each text states its sides, and they must agree: a lingulectomy is
    left, the middle lobe (C34.2) no side, 'bilateral' and 'Right and left' both; words or
    body sites naming different sides are in doubt (``None``), never both."""
    assert stated_sides(concepts) == sides


@pytest.mark.parametrize("concepts, operation, sides", [
    ([{"text": "Radical nephrectomy (left kidney spared)"}], True, set()),
    ([{"text": "Left nephrectomy in right lateral decubitus position"}], True, set()),
    ([{"text": "Right kidney lesion; contralateral kidney normal"}], False, {"right"}),
    ([{"text": "Right renal mass, contralateral kidney normal"},
      {"coding": [{"system": ICD10CM, "code": "C64.1"}]}], False, {"right"}),
    ([{"text": "Nephrectomy, remaining kidney normal"}, RIGHT], True, {"right"})])
def test_an_operations_side_word_of_something_else_is_no_statement(
        concepts: list[Any], operation: bool, sides: set[str]) -> None:
    """An operation's words naming a side beside a word saying it may be another part's
    (the kidney spared, the patient's position) state no side: the operation's side is
    what its codes and body sites state (a bodySite right kidney), and none when they
    state none. A lesion's or a tumour's words keep their side: "right kidney lesion;
    contralateral kidney normal" is the right kidney's (read as in doubt, a size of the
    other side had been taken as the PEComa's, and a nephrectomy done for a right renal
    mass as removing a left PEComa)."""
    assert stated_sides(concepts, operation) == sides

@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cds-resection') / 'registry.db'}"
    app = create_app(WebConfig(database_url=url), today=lambda: ON)
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def cards(client: TestClient, record: dict[str, Any]) -> list[dict[str, Any]]:
    pid = record["entry"][0]["resource"]["id"]
    r = client.post(f"/cds-services/{PATIENT_VIEW}",
                    json=hook_request("patient-view", pid, prefetch=prefetch_of(record)))
    assert r.status_code == 200, r.text[:300]
    out: list[dict[str, Any]] = r.json()["cards"]
    return out


class TestPatientView:
    @pytest.mark.parametrize("code", CODED[:1] + CODED[4:5] + CODED[7:8])
    def test_the_r1_card_stays(self, client: TestClient, code: dict[str, Any]) -> None:
        """The coded nephrectomy gives the same cards as the one named in words: the
        critical card that tumour may have been left behind (R1 margin), and no summary
        proposing a first resection of a kidney already removed."""
        by_text = cards(client, kidney_record(TEXT))
        coded = cards(client, kidney_record(code))
        assert [(c["indicator"], c["summary"]) for c in coded] == \
            [(c["indicator"], c["summary"]) for c in by_text]
        assert any(c["indicator"] == "critical" and "left behind" in c["summary"]
                   for c in coded)
        assert "Complete resection with adequate margins" not in coded[0]["summary"]

    def test_a_procedure_set_aside_is_on_the_card(self, client: TestClient) -> None:
        """A Procedure for the PEComa whose code pecoma does not know, and the biopsy of
        the record, are named on the summary card with why they were set aside, so the
        team can check that none of them removed the tumour (before, only the command
        line's stderr said so)."""
        got = cards(client, kidney_record({"coding": [{"system": CPT, "code": "50545"}]}))
        summary = next(c for c in got if c["summary"].startswith("PEComa ("))
        detail = summary["detail"]
        assert "**Procedures not read as the resection of the primary**" in detail
        assert "linked to the PEComa, but its code (cpt 50545)" in detail
        assert NEPHRECTOMY.replace("-", "-") in detail.replace("\\", "")
        assert "biopsy-lung-pecoma-k" in detail.replace("\\", "")

    def test_nothing_set_aside_says_nothing(self, client: TestClient) -> None:
        """A record whose only Procedure is the resection read: no such section."""
        record = kidney_record(TEXT)
        record["entry"] = [e for e in record["entry"]
                           if e["resource"]["id"] != "biopsy-lung-pecoma-k"]
        summary = cards(client, record)[0]
        assert "Procedures not read as the resection" not in summary["detail"]


class TestTable:
    def test_every_entry_is_a_resection_of_a_guideline_site(self) -> None:
        """Each code names an organ pecoma reads as a primary site, under a known system,
        and no entry is a biopsy, a destruction, a transplant or a diagnostic excision
        (ICD-10-PCS: medical and surgical section 0, root operation Resection T or
        Excision B, qualifier not X 'Diagnostic')."""
        systems = set(SYSTEMS.values())
        for (system, code), (organ, name) in RESECTION_CODES.items():
            assert system in systems and isinstance(organ, PrimarySite), code
            low = name.lower()
            assert not any(w in low for w in ("biops", "destruction", "transplant",
                                              "donor", "diagnostic", "ablation")), name
            if system == PCS:
                assert len(code) == 7 and code[0] == "0" and code[2] in "TB", code
                assert code[6] != "X" and name.startswith(("Resection of", "Excision of"))
            else:
                assert code.isdigit(), code

    @pytest.mark.parametrize(("code", "name"), [
        ("50543", "Laparoscopy, surgical; partial nephrectomy"),
        ("50546", "Laparoscopy, surgical; nephrectomy, including partial ureterectomy"),
    ])
    def test_the_laparoscopic_nephrectomies_are_resections_of_the_kidney(
        self, code: str, name: str
    ) -> None:
        """A laparoscopic (or robot-assisted) partial nephrectomy or nephrectomy sent as
        CPT alone was not read as a resection: the case said the surgery was not found and
        the team was asked, although the EHR had recorded it. Names as the AMA gives them
        (sources in pecoma.fhir.resection_codes)."""
        assert RESECTION_CODES[(CPT, code)] == (PrimarySite.kidney, name)
        bc = case_from_bundle(kidney_record({"coding": [{"system": CPT, "code": code}]}),
                              on=ON)
        assert bc.case.surgery == case_from_bundle(kidney_record(TEXT), on=ON).case.surgery
        assert bc.case.surgery.status is SurgeryStatus.performed

    def test_the_reported_codes_are_listed(self) -> None:
        """The codes of the reported records, with their published names."""
        assert RESECTION_CODES[(SCT, "175905003")] == (PrimarySite.kidney,
                                                        "Total nephrectomy (procedure)")
        assert RESECTION_CODES[(PCS, "0TT10ZZ")] == (PrimarySite.kidney,
                                                      "Resection of Left Kidney, Open Approach")
        assert RESECTION_CODES[(CPT, "50230")][0] is PrimarySite.kidney
        assert RESECTION_CODES[(SCT, "236886002")] == (PrimarySite.uterus,
                                                        "Hysterectomy (procedure)")


def test_the_uterine_record_coded_only() -> None:
    """The mCODE uterine record's hysterectomy coded SNOMED CT 236886002 with no words
    reads as the words do (the site of the guideline's broad-ligament and uterine
    statements)."""
    record = json.loads((ROOT / "data/mcode/uterus-localized.json").read_text())
    words = case_from_bundle(copy.deepcopy(record), on=ON).case.surgery
    for entry in record["entry"]:
        if entry["resource"]["resourceType"] == "Procedure":
            entry["resource"]["code"] = {"coding": [{"system": SCT, "code": "236886002"}]}
    assert case_from_bundle(record, on=ON).case.surgery == words
    assert words.status is SurgeryStatus.performed


# ------------------------------------------------ excisions through a scope or an opening

PLANNED_ON = dt.date(2025, 2, 1)
PROC = "scope-1"


def planned_record(code: dict[str, Any], *, site: str = "uterus",
                   reason: bool = False, status: str = "completed") -> dict[str, Any]:
    """The shipped uterine example (a high-risk localized PEComa, resection coded with the
    project's code) with its resection still planned for 2025-03-01 and no margin, the
    primary at ``site``, and a Procedure ``code`` done on 2025-01-20 (``status``),
    linked to the PEComa only with ``reason``."""
    record = example("localized-high-risk")
    kept = []
    for entry in record["entry"]:
        res = entry["resource"]
        if res["id"] == "resection-margin":
            continue
        if res["resourceType"] in ("Condition", "Procedure") and res.get("bodySite"):
            res["bodySite"] = [{"coding": [{"system": "https://pecoma.example/fhir/"
                                            "CodeSystem/pecoma", "code": f"site-{site}"}],
                                "text": site}]
        if res["id"] == "resection":
            res["status"] = "preparation"
            res["performedDateTime"] = "2025-03-01"
        kept.append(entry)
    proc: dict[str, Any] = {
        "resourceType": "Procedure", "id": PROC, "status": status, "code": code,
        "subject": {"reference": "Patient/pat-1001"}, "performedDateTime": "2025-01-20"}
    if reason:
        proc["reasonReference"] = [{"reference": "Condition/pecoma-diagnosis"}]
    kept.append({"resource": proc})
    record["entry"] = kept
    return record


SCOPE_CODED = [
    pytest.param({"coding": [{"system": SCT, "code": "265065000"}]}, "uterus",
                 id="sct-endoscopic-excision-lesion-uterus"),
    pytest.param({"coding": [{"system": SCT, "code": "176895001"}]}, "uterus",
                 id="sct-vaginal-excision-lesion-uterus"),
    pytest.param({"coding": [{"system": PCS, "code": "0DBN8ZZ"}]}, "gastrointestinal",
                 id="pcs-colonoscopic-sigmoid"),
    pytest.param({"coding": [{"system": PCS, "code": "0dbp7zz"}]}, "gastrointestinal",
                 id="pcs-transanal-rectum-lower-case"),
    pytest.param({"coding": [{"system": SCT, "code": "446170008"}]}, "gastrointestinal",
                 id="sct-colonoscopic-excision"),
    pytest.param({"coding": [{"system": SCT, "code": "42527001"}]}, "gastrointestinal",
                 id="sct-endoscopic-excision-stomach"),
    pytest.param({"coding": [{"system": PCS, "code": "0DB68ZZ"}]}, "gastrointestinal",
                 id="pcs-B-stomach-endoscopic"),
    pytest.param({"coding": [{"system": SCT, "code": "386791007"}]}, "bladder",
                 id="sct-turbt"),
    pytest.param({"coding": [{"system": PCS, "code": "0TBB8ZZ"}]}, "bladder",
                 id="pcs-transurethral-bladder"),
    pytest.param({"coding": [{"system": PCS, "code": "0TB18ZZ"}]}, "kidney",
                 id="pcs-ureteroscopic-kidney"),
    pytest.param({"coding": [{"system": SCT, "code": "999999999"},
                             {"system": SCT, "code": "386792000"}]}, "bladder",
                 id="second-coding-transurethral"),
    # words alone, or words beside a resection code: the words decide, as a biopsy's do
    pytest.param({"text": "Hysteroscopic excision of uterine lesion"}, "uterus",
                 id="words-hysteroscopic"),
    pytest.param({"text": "TURBT"}, "bladder", id="words-turbt"),
    pytest.param({"text": "Transurethral resection of bladder tumour",
                  "coding": [{"system": SCT, "code": "64063003"}]}, "bladder",
                 id="words-transurethral-beside-cystectomy-code"),
    pytest.param({"text": "Colonoscopic polypectomy",
                  "coding": [{"system": PCS, "code": "0DTN0ZZ"}]}, "gastrointestinal",
                 id="words-polypectomy-beside-colectomy-code"),
    pytest.param({"text": "Endoscopic mucosal resection of gastric lesion"},
                 "gastrointestinal", id="words-endoscopic"),
    pytest.param({"text": "Cystoscopic excision of bladder lesion"}, "bladder",
                 id="words-cystoscopic"),
    pytest.param({"coding": [{"system": PCS, "code": "0DBN8ZZ", "display":
                              "Excision of Sigmoid Colon, Via Natural or Artificial "
                              "Opening Endoscopic"}]}, "gastrointestinal",
                 id="pcs-with-its-display"),
]


class TestScopeExcision:
    """An excision through a scope or a natural opening (hysteroscopic, colonoscopic,
    transurethral, a polypectomy) is not the resection of a PEComa primary (S01, S03):
    such a Procedure of the primary's organ, done before the resection booked for the
    PEComa, had been read as that resection, so the advice to resect and to refer
    disappeared and adjuvant radiotherapy and a surveillance calendar were offered while
    the tumour was still in place."""

    @pytest.mark.parametrize(("code", "site"), SCOPE_CODED)
    def test_the_planned_resection_stands(self, code: dict[str, Any], site: str) -> None:
        """The resection of the PEComa stays planned for 2025-03-01; the excision is
        listed as not read, saying what it is."""
        bc = case_from_bundle(planned_record(code, site=site), on=PLANNED_ON)
        assert bc.case.tumour.primary_site.value == site
        assert bc.case.surgery.status is SurgeryStatus.planned
        assert bc.case.surgery.date == dt.date(2025, 3, 1)
        (line,) = [x for x in bc.not_read if PROC in x]
        assert line.startswith("Procedure: an excision through a scope or a natural opening")
        assert "not the resection of the primary" in line

    @pytest.mark.parametrize("site", ["uterus", "gastrointestinal"])
    def test_the_advice_is_still_to_resect(self, site: str) -> None:
        """The reported records: the uterine example with a hysteroscopic excision coded
        SNOMED CT 265065000 alone, and its gastrointestinal twin with a colonoscopic one
        coded ICD-10-PCS 0DBN8ZZ alone. The tumour is in place: resection and referral
        are advised (S01, S03), no adjuvant radiotherapy, no margin alert or question,
        and the surveillance says no calendar is drawn with the primary in place."""
        code = ({"coding": [{"system": SCT, "code": "265065000"}]} if site == "uterus"
                else {"coding": [{"system": PCS, "code": "0DBN8ZZ"}]})
        bc = case_from_bundle(planned_record(code, site=site), on=PLANNED_ON)
        ids = {i.id for i in assess(bc.case, PLANNED_ON).items()}
        assert {"REC-RESECTION", "REC-REFER-SURGERY", "FU-NO-PLAN-PRIMARY-IN-PLACE"} <= ids
        assert not ids & {"REC-ADJ-RADIOTHERAPY", "ALERT-INCOMPLETE-RESECTION",
                          "MISS-MARGIN"}

    @pytest.mark.parametrize(("code", "site"), [SCOPE_CODED[0], SCOPE_CODED[7],
                                                SCOPE_CODED[11]])
    def test_linked_to_the_pecoma_it_is_said(self, code: dict[str, Any], site: str) -> None:
        """Done for the PEComa (reasonReference), such an excision is still not read as
        the resection (its intent and extent are not those of S01's resection), but it is
        listed as linked to the PEComa and a note asks the team to check the surgery
        facts, as for a code pecoma does not know."""
        bc = case_from_bundle(planned_record(code, site=site, reason=True), on=PLANNED_ON)
        assert bc.case.surgery.status is SurgeryStatus.planned
        (line,) = [x for x in bc.not_read if PROC in x]
        assert line.startswith("Procedure: linked to the PEComa, but an excision through a "
                               "scope or a natural opening")
        assert any(n.startswith(f"Procedure/{PROC}: a procedure for the PEComa that is an "
                                "excision through a scope")
                   and "surgery.status" in n for n in bc.notes)

    @pytest.mark.parametrize("code", [
        pytest.param({"coding": [{"system": PCS, "code": "0UT97ZZ"}]}, id="pcs-vaginal"),
        pytest.param({"coding": [{"system": PCS, "code": "0UT9FZZ"}]}, id="pcs-lavh"),
        pytest.param({"coding": [{"system": SCT, "code": "1304071003"}]}, id="sct-vnotes"),
        pytest.param({"text": "Endoscopic vaginal natural orifice transluminal "
                              "hysterectomy"}, id="words-vnotes"),
        pytest.param({"coding": [{"system": PCS, "code": "0UT97ZZ", "display":
                                  "Resection of Uterus, Via Natural or Artificial "
                                  "Opening"}]}, id="pcs-vaginal-with-display"),
        pytest.param({"coding": [{"system": PCS, "code": "0UT94ZZ", "display":
                                  "Resection of Uterus, Percutaneous Endoscopic "
                                  "Approach"}]}, id="pcs-laparoscopic-with-display"),
    ])
    def test_a_hysterectomy_by_any_route_is_a_resection(self, code: dict[str, Any]) -> None:
        """A vaginal, laparoscopically assisted or natural-orifice hysterectomy removes
        the uterus: linked to the PEComa, it is the resection done (the scope words of
        its route do not make it an excision of a lesion; ICD-10-PCS 'Percutaneous
        Endoscopic' is laparoscopic)."""
        bc = case_from_bundle(planned_record(code, reason=True), on=PLANNED_ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2025, 1, 20)


class TestLinkedResectionStands:
    """A resection of the primary's organ recorded as done outweighs one linked to the
    PEComa that is not done (booked, on hold, cancelled): the organ was removed, and a
    first version that took the tumour as still in place then (the linked record standing)
    dropped the margin, advised resecting again and drew no surveillance calendar for a
    patient whose nephrectomy was recorded done."""

    @pytest.mark.parametrize("status", ["preparation", "on-hold", "unknown"])
    def test_a_done_hysterectomy_outweighs_a_linked_one_not_done(self, status: str) -> None:
        record = planned_record({"coding": [{"system": SCT, "code": "236886002"}]})
        for entry in record["entry"]:
            if entry["resource"]["id"] == "resection":
                entry["resource"]["status"] = status
        bc = case_from_bundle(record, on=PLANNED_ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2025, 1, 20)
        ids = {i.id for i in assess(bc.case, PLANNED_ON).items()}
        assert "REC-RESECTION" not in ids

    def test_linked_it_is_the_resection(self) -> None:
        """The same hysterectomy linked to the PEComa is the resection done (a done one
        outweighs one still planned)."""
        record = planned_record({"coding": [{"system": SCT, "code": "236886002"}]},
                                reason=True)
        bc = case_from_bundle(record, on=PLANNED_ON)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.date == dt.date(2025, 1, 20)

    def test_with_no_linked_record_the_organ_decides(self) -> None:
        """With no resection linked to the PEComa in the record, a hysterectomy of a
        uterine PEComa is its resection, as before (TestReadByCode)."""
        record = planned_record({"coding": [{"system": SCT, "code": "236886002"}]})
        record["entry"] = [e for e in record["entry"] if e["resource"]["id"] != "resection"]
        bc = case_from_bundle(record, on=PLANNED_ON)
        assert bc.case.surgery.status is SurgeryStatus.performed


class TestKeyholeAndWholeOrgan:
    """The words of an excision through a natural opening do not catch keyhole surgery
    (laparoendoscopic, video-assisted endoscopic, a thoracoscopic wedge resection) nor an
    operation removing the whole organ by such a route (ICD-10-PCS root operation T: a
    transanal proctectomy, a gastrectomy): a first version had set them aside, so the
    resection of a kidney, a retroperitoneal or a rectal PEComa was lost."""

    @pytest.mark.parametrize("words", [
        "Laparoendoscopic single-site excision of renal mass",
        "Video-assisted endoscopic excision of retroperitoneal mass",
        "Endoscopic wedge resection of lung lesion",
    ])
    def test_keyhole_surgery_is_no_scope_excision(self, words: str) -> None:
        assert not m.scope_excision({"code": {"text": words}})
        assert m.is_resection({"code": {"text": words}})

    @pytest.mark.parametrize("code", ["0DTP7ZZ", "0DTP8ZZ", "0DTN8ZZ", "0DT68ZZ", "0TTB8ZZ"])
    def test_a_whole_organ_by_a_natural_opening_is_a_resection(self, code: str) -> None:
        proc = {"code": {"coding": [{"system": PCS, "code": code}]}}
        assert m.is_resection(proc) and not m.scope_excision(proc)

    @pytest.mark.parametrize("words", ["Transcervical resection of uterine tumour",
                                       "Resectoscopic excision of uterine mass"])
    def test_a_transcervical_excision_is_one(self, words: str) -> None:
        """The same operation as the hysteroscopic excision, named otherwise."""
        assert m.scope_excision({"code": {"text": words}})
        assert not m.is_resection({"code": {"text": words}})


class TestScopeTable:
    def test_names_and_lists_agree(self) -> None:
        """Every resection code's published name is read as a resection by its words, and
        every code set aside as an excision through a scope or an opening is so by its
        name: a record reads the same with or without the code's display. ICD-10-PCS
        Excision rows (root operation B, part of a body part) of approach 7 or 8 are all
        set aside; Resection rows (root operation T, the whole body part: 0UT97ZZ, a
        vaginal hysterectomy in the CDC list; 0DTP8ZZ, a transanal proctectomy) are kept."""
        for (system, code), (_organ, name) in RESECTION_CODES.items():
            words = {"coding": [{"system": system, "code": code, "display": name}]}
            assert m.is_resection({"code": words}), name
            assert not m.scope_excision({"code": words}), name
            if system == PCS and code[4] in "78":
                # root operation T (Resection): the whole body part, by any route (a
                # vaginal hysterectomy, a transanal proctectomy)
                assert code[2] == "T", code
        for (system, code), (_organ, name) in NOT_RESECTION_CODES.items():
            assert m.scope_excision({"code": {"text": name}}), name
            assert not m.is_resection({"code": {"coding": [{"system": system,
                                                              "code": code}]}}), code
        for (system, code) in [(SCT, "265065000"), (SCT, "446170008"), (SCT, "386791007"),
                               (SCT, "78133002"), (SCT, "42527001"), (PCS, "0DBN8ZZ"),
                               (PCS, "0TBB8ZZ"), (PCS, "0TB08ZZ"), (PCS, "0TB18ZZ")]:
            assert (system, code) in NOT_RESECTION_CODES
            assert (system, code) not in RESECTION_CODES


@pytest.mark.parametrize("code, sides", [
    ("C64.1", {"right"}), ("C64.2", {"left"}), ("C641", {"right"}), ("C34.12", {"left"}),
    ("C34.91", {"right"}), ("C56.3", {"left", "right"}), ("C57.02", {"left"}),
    ("C78.01", {"right"}), ("C64.9", set()), ("C55", set())])
def test_an_icd10cm_code_states_its_side(code: str, sides: set[str]) -> None:
    """The ICD-10-CM laterality character, by the tabular list: 1 right, 2 left, 3
    bilateral (C56.3, both ovaries); C64.9 (unspecified kidney) and C55 (uterus, unpaired)
    state none. A code sent without its dot (C641) is the same code."""
    assert stated_sides([{"coding": [{"system": ICD10CM, "code": code}]}]) == sides
