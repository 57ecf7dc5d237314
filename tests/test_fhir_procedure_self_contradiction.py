"""A Procedure that contradicts itself is never read by one half of it.

* A resection code whose own words name a diagnostic sampling or a biopsy: which operation
  was done cannot be told, as for a result whose code and words disagree. Read as the
  resection by its code, such a sampling two weeks before the nephrectomy became "an
  earlier resection", and the pre-operative tumour size measured between them was set
  aside as "measured after the resection of the primary": a high-risk feature (S06)
  lost. It is asked instead: not the resection, its surgery facts found but not read, a
  note naming the code and the words.
* A ``performedPeriod`` whose end is before its start breaks FHIR R4's invariant per-1:
  the day of the operation (which dates the surveillance, S18-S20) cannot be read from
  it. The record is refused naming the element and both ends, as a medication's period
  ending before it starts is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.errors import InputError
from pecoma.fhir import case_from_bundle
from test_fhir_resection_codes import NEPHRECTOMY, PECOMA, SCT, kidney_record

ON = dt.date(2026, 12, 6)
#: The nephrectomy as the kidney record codes it (SNOMED CT 175905003 Total nephrectomy).
NEPHRECTOMY_CODE = {"text": "Radical nephrectomy, left",
                    "coding": [{"system": SCT, "code": "175905003"}]}


def _with_sampling(display: str) -> dict[str, Any]:
    """The kidney record (nephrectomy 2023-06-20, R1; tumour 72 mm on imaging of
    2023-05-15) with a Procedure of 2023-05-01 for the PEComa coded as a nephrectomy
    (SNOMED CT 175905003) whose display says ``display``."""
    record = kidney_record(NEPHRECTOMY_CODE)
    pid = record["entry"][0]["resource"]["id"]
    record["entry"].append({"resource": {
        "resourceType": "Procedure", "id": "sampling", "status": "completed",
        "code": {"coding": [{"system": SCT, "code": "175905003", "display": display}]},
        "subject": {"reference": f"Patient/{pid}"}, "performedDateTime": "2023-05-01",
        "reasonReference": [{"reference": f"Condition/{PECOMA}"}]}})
    return record


class TestResectionCodeAndWordsDisagree:
    def test_a_sampling_coded_as_a_nephrectomy_is_asked(self) -> None:
        """The sampling is not the resection: the nephrectomy of 2023-06-20 is (with its
        R1 margin), so the 72 mm measured on 2023-05-15, before it, is the tumour's size
        (> 5 cm: a high-risk feature, S06). The sampling is listed as not read with
        both its code and its words, and a note asks to check the surgery facts."""
        bc = case_from_bundle(_with_sampling("Diagnostic renal mass sampling"), on=ON)
        case = bc.case
        assert case.surgery.date == dt.date(2023, 6, 20)
        assert case.surgery.margin is not None and case.surgery.margin.value == "R1"
        assert case.tumour.size is not None and case.tumour.size.value == 72
        assert bc.sources["surgery.status"] == f"Procedure/{NEPHRECTOMY}.status"
        (line,) = [x for x in bc.not_read if "Procedure/sampling" in x]
        assert "names a resection" in line and "'Diagnostic renal mass sampling'" in line
        assert "the code and its words disagree" in line
        (note,) = [n for n in bc.notes if n.startswith("Procedure/sampling: ")]
        assert f"read from Procedure/{NEPHRECTOMY} alone; check them" in note
        # a display naming the operation its code names, or a resection beside a biopsy,
        # is no disagreement: read as a resection (the latest, 2023-06-20, the surgery)
        for display in ("Total nephrectomy", "Nephrectomy with lymph node biopsy"):
            bc = case_from_bundle(_with_sampling(display), on=ON)
            assert not any("disagree" in n for n in (*bc.notes, *bc.not_read)), display
            assert bc.case.surgery.date == dt.date(2023, 6, 20)

    @pytest.mark.parametrize("display", [
        "D&C", "D & C", "D and C", "Hysteroscopy", "Cystoscopy",
        "Examination under anaesthesia"])
    def test_a_dilatation_and_curettage_or_a_look_through_a_scope_is_asked(
            self, display: str) -> None:
        """"D&C" (dilatation and curettage, as it is usually written), or a look through a
        scope or under anaesthesia, beside a resection code: no operation removing the
        organ, so the code and its words disagree. It had been read as an earlier
        resection by its code, and the 72 mm measured after it set aside (S06 lost).
        Expected as for a sampling: asked, the nephrectomy of 2023-06-20 the surgery, the
        size read."""
        bc = case_from_bundle(_with_sampling(display), on=ON)
        assert bc.case.surgery.date == dt.date(2023, 6, 20)
        assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 72
        (line,) = [x for x in bc.not_read if "Procedure/sampling" in x]
        assert f"'{display}'" in line and "the code and its words disagree" in line

    @pytest.mark.parametrize("display", [
        "Laparoscopic nephrectomy", "Cystoscopy and nephrectomy"])
    def test_a_resection_named_beside_a_scope_is_no_disagreement(self, display: str) -> None:
        """Boundary of the words above: a display naming the resection beside a scope
        is the resection (no disagreement), read as one (the latest, 2023-06-20)."""
        bc = case_from_bundle(_with_sampling(display), on=ON)
        assert not any("disagree" in n for n in (*bc.notes, *bc.not_read))
        assert bc.case.surgery.date == dt.date(2023, 6, 20)


class TestPerformedPeriodReversed:
    @pytest.mark.parametrize(("start", "end"), [("2023-06-21", "2023-06-20"),
                                                ("2023-06-20T10:00:00Z",
                                                 "2023-06-20T08:00:00Z")])
    def test_a_period_ending_before_it_starts_is_refused(self, start: str, end: str
                                                         ) -> None:
        """FHIR R4 per-1: a Period ends on or after its start. The nephrectomy's period
        ends before it starts (by a day, or by hours on one day): the record is refused,
        the element and both ends named, never read by one end silently. The same
        operation over two days in order is read, dated by its start."""
        record = kidney_record(NEPHRECTOMY_CODE)
        for entry in record["entry"]:
            if entry["resource"]["id"] == NEPHRECTOMY:
                del entry["resource"]["performedDateTime"]
                entry["resource"]["performedPeriod"] = {"start": "2023-06-20",
                                                        "end": "2023-06-21"}
        assert case_from_bundle(record, on=ON).case.surgery.date == dt.date(2023, 6, 20)
        record = kidney_record(NEPHRECTOMY_CODE)
        for entry in record["entry"]:
            if entry["resource"]["id"] == NEPHRECTOMY:
                del entry["resource"]["performedDateTime"]
                entry["resource"]["performedPeriod"] = {"start": start, "end": end}
        with pytest.raises(InputError) as caught:
            case_from_bundle(record, on=ON)
        (issue,) = [i for i in caught.value.issues if "performedPeriod" in i.path]
        assert issue.path == f"Procedure/{NEPHRECTOMY}.performedPeriod.end"
        assert end in issue.value
        assert f"must not be before performedPeriod.start ({start[:10]}" in issue.rule
        assert "per-1" in issue.rule
