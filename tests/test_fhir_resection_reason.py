"""The hysterectomy of a uterine PEComa, read whatever its reason says of it.

tests/data/mcode/uterus-localized.json holds a uterine PEComa (onset 2024-03-04) and its
hysterectomy: completed 2024-04-09, SNOMED CT 236886002, bodySite the uterus, outcome
"R0", its reasonReference the PEComa Condition. The uterus is gone. Before:

* a reasonReference the record could not resolve (an identifier or a display only, a
  Condition not sent, a ``urn:uuid`` no entry carries, a contained Condition) dropped the
  hysterectomy before its bodySite or code were looked at, while no reason at all, or a
  reasonCode, left it read;
* so did a reasonReference to the menorrhagia or the fibroid it was done for, the PEComa
  found on the specimen days later (the classic way a uterine PEComa is found: imaging
  cannot tell it from a leiomyoma, S24), while the same reason given as a reasonCode was
  read;
* a done resection set aside, or one carrying a modifierExtension, left its surgery facts
  "not found in the bundle", with no note, and a resection was advised for a uterus
  already removed (REC-RESECTION, REC-REFER-SURGERY);
* a resection ``stopped`` ("Aborted: tumour unresectable, encasing iliac vessels") was
  read as performed, its statusReason neither read nor quoted, and completing the
  resection and adjuvant radiotherapy were offered;
* an operation over two days (``performedPeriod``) was dated by its last day.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import Margin, SurgeryStatus, YesNo
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

ON = dt.date(2026, 6, 1)
MCODE = Path(__file__).parent / "data" / "mcode"
HYSTERECTOMY = "Procedure/cancer-related-surgical-procedure-hysterectomy"
PECOMA = "Condition/primary-cancer-condition-uterus"
PATIENT = {"reference": "Patient/cancer-patient-pecoma-u"}
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SURGERY = {"surgery.status", "surgery.date", "surgery.margin"}
MENORRHAGIA = {"coding": [{"system": ICD10CM, "code": "N92.0", "display": (
    "Excessive and frequent menstruation with regular cycle")}]}
FIBROID = {"coding": [{"system": ICD10CM, "code": "D25.9",
                       "display": "Leiomyoma of uterus, unspecified"}]}
COLON_CANCER = {"coding": [{"system": ICD10CM, "code": "C18.7",
                            "display": "Malignant neoplasm of sigmoid colon"}]}


def _record() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MCODE / "uterus-localized.json").read_text("utf-8"))
    return data


def _resource(bundle: dict[str, Any], where: str) -> dict[str, Any]:
    kind, rid = where.split("/")
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == kind and e["resource"]["id"] == rid)


def _hysterectomy(bundle: dict[str, Any]) -> dict[str, Any]:
    return _resource(bundle, HYSTERECTOMY)


def _with_condition(bundle: dict[str, Any], rid: str, code: dict[str, Any]) -> None:
    """A Condition ``rid`` of the patient (resolved since the operation, onset
    2023-10-01), and the hysterectomy done for it (its reasonReference)."""
    bundle["entry"].append({"fullUrl": f"http://example.org/fhir/Condition/{rid}",
                            "resource": {
        "resourceType": "Condition", "id": rid,
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": "resolved"}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "code": copy.deepcopy(code), "subject": dict(PATIENT),
        "onsetDateTime": "2023-10-01"}})
    _hysterectomy(bundle)["reasonReference"] = [{"reference": f"Condition/{rid}"}]


def _found_on_the_specimen(bundle: dict[str, Any]) -> None:
    """The PEComa diagnosed on the hysterectomy specimen: its Condition dated 2024-04-15,
    six days after the operation, and no earlier histology."""
    _resource(bundle, PECOMA)["onsetDateTime"] = "2024-04-15"
    _resource(bundle, "Observation/histologic-behavior-and-type-pecoma-u")[
        "effectiveDateTime"] = "2024-04-15"


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


def _recommended(bc: BundleCase) -> list[str]:
    return [x.id for x in assess(bc.case, ON).recommendations]


def _missing(bc: BundleCase) -> list[str]:
    return [x.id for x in assess(bc.case, ON).missing]


def _resected(bc: BundleCase) -> None:
    """The hysterectomy read as the resection of the primary: done 2024-04-09, R0, from
    the Procedure; no resection advised for a uterus removed."""
    assert bc.case.surgery.status is SurgeryStatus.performed, (bc.not_read, bc.notes)
    assert bc.case.surgery.date == dt.date(2024, 4, 9)
    assert bc.case.surgery.margin is Margin.R0
    assert bc.sources["surgery.status"] == f"{HYSTERECTOMY}.status"
    assert not SURGERY & set(bc.not_found)
    ids = _recommended(bc)
    assert "REC-RESECTION-DONE" in ids
    assert "REC-RESECTION" not in ids and "REC-REFER-SURGERY" not in ids


def _asked(bc: BundleCase, *words: str) -> None:
    """The hysterectomy set aside, never dropped: its surgery facts found but not read
    (never "not found"), the Procedure listed with why and a note naming it and ``words``;
    the surgery status unknown, asked (the tumour not taken as removed, nor as not
    removed)."""
    assert bc.case.surgery.status is SurgeryStatus.unknown
    assert set(bc.unreadable) >= SURGERY, bc.unreadable
    assert not SURGERY & set(bc.not_found)
    assert all(HYSTERECTOMY in bc.unreadable[path] for path in SURGERY)
    assert any(HYSTERECTOMY in x for x in bc.not_read), bc.not_read
    assert any(n.startswith(HYSTERECTOMY) and all(w in n for w in words)
               for n in bc.notes), bc.notes
    assert "MISS-SURGERY-STATUS" in _missing(bc)
    assert "REC-RESECTION-DONE" not in _recommended(bc)


class TestAReasonTheRecordDoesNotHold:
    @pytest.mark.parametrize("reason, shown", [
        pytest.param({"identifier": {"system": "urn:hosp:cond", "value": "C1"}},
                     "urn:hosp:cond", id="identifier-only"),
        pytest.param({"display": "Uterine PEComa"}, "Uterine PEComa", id="display-only"),
        pytest.param({"reference": "Condition/not-in-bundle"}, "Condition/not-in-bundle",
                     id="condition-not-sent"),
        pytest.param({"reference": "urn:uuid:0b1f8c1e-5d2a-4c55-9d4e-1f2a3b4c5d6e"},
                     "urn:uuid:0b1f8c1e", id="dangling-urn-uuid"),
        pytest.param({"reference": "#c9"}, "#c9", id="local-id-not-contained")])
    def test_the_hysterectomy_is_read_by_its_organ(self, reason: dict[str, Any],
                                                    shown: str) -> None:
        """FHIR R4 allows a Reference by identifier or display only; a Condition may be
        missing from what was sent. Such a reason says nothing against the PEComa: the
        hysterectomy of the uterus holding it is read as with no reason, its bodySite and
        code deciding (done 2024-04-09, R0), and a note says the reason was not found.
        Read as not found before, a resection was advised for a uterus removed."""
        b = _record()
        _hysterectomy(b)["reasonReference"] = [reason]
        bc = _read(b)
        _resected(bc)
        assert any(n.startswith(HYSTERECTOMY) and shown in n and "reasonReference" in n
                   for n in bc.notes), bc.notes

    def test_a_contained_condition_is_read_as_a_reason_code(self) -> None:
        """A reasonReference '#c1' to a Condition contained in the Procedure ("Uterine
        PEComa"): a copy of the reason inside the operation's record, read as a reason
        code is; it names no other tumour, so the hysterectomy is read by its organ."""
        b = _record()
        proc = _hysterectomy(b)
        proc["reasonReference"] = [{"reference": "#c1"}]
        proc["contained"] = [{"resourceType": "Condition", "id": "c1",
                              "code": {"text": "Uterine PEComa"}, "subject": PATIENT}]
        _resected(_read(b))

    def test_the_same_reading_as_no_reason(self) -> None:
        """Same facts, same reading: a reason not held gives the case that no reason
        gives."""
        unheld, none = _record(), _record()
        _hysterectomy(unheld)["reasonReference"] = [{"display": "Uterine PEComa"}]
        del _hysterectomy(none)["reasonReference"]
        assert _read(unheld).case == _read(none).case


class TestAHysterectomyForABenignCondition:
    @pytest.mark.parametrize("code", [MENORRHAGIA, FIBROID], ids=["menorrhagia", "fibroid"])
    def test_a_pecoma_found_on_the_specimen_was_removed(self, code: dict[str, Any]) -> None:
        """A hysterectomy done for menorrhagia (N92.0) or a fibroid (D25.9), the PEComa
        found on the specimen six days later: the uterus holding it was removed, so the
        hysterectomy is the resection of the primary, and the diagnosis is the specimen's
        (dated the day of the operation, by the rule for a diagnosis made on the resection
        specimen). Before, it was dropped when the reason was a Condition."""
        b = _record()
        _found_on_the_specimen(b)
        _with_condition(b, "benign", code)
        bc = _read(b)
        _resected(bc)
        assert bc.case.diagnosis.date == dt.date(2024, 4, 9)

    @pytest.mark.parametrize("code", [MENORRHAGIA, FIBROID], ids=["menorrhagia", "fibroid"])
    def test_a_reason_given_as_a_reference_or_as_a_code_reads_the_same(
            self, code: dict[str, Any]) -> None:
        """Same disease, same facts: the reason given as a Condition reads as the same
        reason given as a reasonCode."""
        by_reference, by_code = _record(), _record()
        for b in (by_reference, by_code):
            _found_on_the_specimen(b)
        _with_condition(by_reference, "benign", code)
        _hysterectomy(by_code)["reasonCode"] = [copy.deepcopy(code)]
        del _hysterectomy(by_code)["reasonReference"]
        assert _read(by_reference).case == _read(by_code).case

    @pytest.mark.parametrize("as_code", [False, True], ids=["reference", "reason-code"])
    def test_a_fibroid_operated_on_beside_a_known_pecoma_is_asked(self, as_code: bool
                                                                  ) -> None:
        """The PEComa diagnosed (2024-03-04) before an operation done for a fibroid: that
        operation may have removed the fibroid only, so it is not taken as the PEComa's
        resection, nor dropped: its surgery facts are found but not read, the note names
        the fibroid, and the surgery status is asked (the tumour not taken as removed).
        By reference or by code alike."""
        b = _record()
        if as_code:
            _hysterectomy(b)["reasonCode"] = [copy.deepcopy(FIBROID)]
            del _hysterectomy(b)["reasonReference"]
        else:
            _with_condition(b, "fibroid", FIBROID)
        bc = _read(b)
        _asked(bc, "Leiomyoma of uterus", "2024-03-04")

    def test_a_contained_fibroid_beside_a_known_pecoma_is_asked(self) -> None:
        """The same fibroid given as a Condition contained in the Procedure: read as its
        reason code is, so asked alike."""
        b = _record()
        proc = _hysterectomy(b)
        proc["reasonReference"] = [{"reference": "#c1"}]
        proc["contained"] = [{"resourceType": "Condition", "id": "c1",
                              "code": {"text": "Leiomyoma of uterus"}, "subject": PATIENT}]
        _asked(_read(b), "#c1", "Leiomyoma of uterus")


class TestAResectionForAnotherTumour:
    def test_a_hysterectomy_for_a_colon_cancer_is_asked_not_dropped(self) -> None:
        """A hysterectomy whose reasonReference is a sigmoid colon cancer (C18.7; removed
        en bloc with a cancer invading the uterus, say): not shown to be the PEComa's
        resection, its margin that cancer's, yet it removed the organ holding the PEComa.
        Set aside, its surgery facts found but not read with a note naming the reason
        (never "not found"), and the surgery status asked."""
        b = _record()
        _with_condition(b, "colon-cancer", COLON_CANCER)
        bc = _read(b)
        _asked(bc, "Condition/colon-cancer", "sigmoid colon")
        assert any("not shown to be of the PEComa primary" in x and HYSTERECTOMY in x
                   for x in bc.not_read), bc.not_read


class TestAResectionWithAModifierExtension:
    def test_its_surgery_facts_are_found_but_not_read(self) -> None:
        """A modifierExtension on the hysterectomy's performer: pecoma understands none,
        so the Procedure is not read. It was noted only: surgery facts 'not found', the
        Procedure missing from what was not read, and a resection advised. Now it is
        listed with why, its surgery facts found but not read, the status asked."""
        b = _record()
        _hysterectomy(b)["performer"] = [{
            "modifierExtension": [{"url": "http://example.org/planned-only",
                                   "valueBoolean": True}],
            "actor": {"display": "Dr Y"}}]
        bc = _read(b)
        _asked(bc, "modifierExtension", "http://example.org/planned-only")
        assert any("modifierExtension" in x and HYSTERECTOMY in x for x in bc.not_read)


ABORTED = {"text": "Aborted: tumour unresectable, encasing iliac vessels"}


class TestAStoppedResection:
    def test_stopped_with_no_margin_is_not_taken_as_performed(self) -> None:
        """A hysterectomy ``stopped`` ('Aborted: tumour unresectable, encasing iliac
        vessels') with no margin recorded: nothing says it removed the tumour. Read as
        performed, it brought completion of the resection and adjuvant radiotherapy, as
        for a tumour removed with margins unknown. The surgery status is unknown (asked),
        the statusReason quoted in the note, the resectability asked, never taken as
        resectable."""
        b = _record()
        proc = _hysterectomy(b)
        proc["status"] = "stopped"
        proc["statusReason"] = ABORTED
        del proc["outcome"]
        bc = _read(b)
        assert bc.case.surgery.status is SurgeryStatus.unknown
        assert bc.case.stage.resectable is not YesNo.yes
        assert any(n.startswith(HYSTERECTOMY) and ABORTED["text"] in n and "stopped" in n
                   for n in bc.notes), bc.notes
        ids = _recommended(bc)
        assert not {"REC-RESECTION-DONE", "REC-RERESECTION-OPTION",
                    "REC-ADJ-RADIOTHERAPY"} & set(ids), ids
        missing = _missing(bc)
        assert {"MISS-SURGERY-STATUS", "MISS-PRIMARY-RESECTABLE"} <= set(missing), missing

    def test_stopped_with_its_margin_recorded_is_read_and_its_reason_quoted(self) -> None:
        """Stopped with a margin recorded for it (R0 in its outcome): what it removed was
        examined, so it is read as performed with that margin, as before; its
        statusReason is quoted in the note."""
        b = _record()
        proc = _hysterectomy(b)
        proc["status"] = "stopped"
        proc["statusReason"] = {"text": "Stopped after the specimen was removed: bleeding"}
        bc = _read(b)
        assert bc.case.surgery.status is SurgeryStatus.performed
        assert bc.case.surgery.margin is Margin.R0
        assert any(n.startswith(HYSTERECTOMY) and "bleeding" in n for n in bc.notes), \
            bc.notes


class TestTheDayOfAnOperation:
    @pytest.mark.parametrize("start, end", [
        ("2024-04-09", "2024-04-12"),
        ("2024-04-09T23:30:00+02:00", "2024-04-10T02:30:00+02:00")],
        ids=["over-days", "past-midnight"])
    def test_it_is_the_day_it_started(self, start: str, end: str) -> None:
        """An operation given as a period (``performedPeriod``) took place on the day it
        started, as a result's ``effectivePeriod`` is dated by its start: the surveillance
        anchor and the windows counted from the operation start then. It was dated by
        the period's end."""
        b = _record()
        proc = _hysterectomy(b)
        del proc["performedDateTime"]
        proc["performedPeriod"] = {"start": start, "end": end}
        assert _read(b).case.surgery.date == dt.date(2024, 4, 9)
