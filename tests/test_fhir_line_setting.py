"""A line of treatment an EHR records without its setting (the project's extension
``therapy-setting``), begun after the resection of a primary read as localized that left no
gross tumour, is read as adjuvant, said in a note.

The case format reads a line without its setting as one for advanced disease; since a line
for advanced disease after a localized resection is refused as a contradiction, the
project's own mCODE uterine record with a doxorubicin course ordered six weeks after the
hysterectomy (R0, no relapse recorded) had been refused whole, and the CDS services had
answered it with an error card. Read as adjuvant, the surveillance plan counts from the end
of that treatment, asked (I22).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.engine import assess
from pecoma.fhir.reader import case_from_bundle

ON = dt.date(2026, 12, 6)
RECORD = Path(__file__).parent / "data" / "mcode" / "uterus-localized.json"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def with_doxorubicin(start: str) -> dict[str, Any]:
    bundle = copy.deepcopy(json.loads(RECORD.read_text(encoding="utf-8")))
    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationRequest", "id": "dox-1", "status": "completed",
        "intent": "order", "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "3639",
                                                  "display": "doxorubicin"}]},
        "authoredOn": start,
        "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": start}}}}]}})
    return bundle


def test_a_course_after_a_localized_resection_is_read_as_adjuvant() -> None:
    bc = case_from_bundle(with_doxorubicin("2024-05-21"), on=ON)
    [line] = bc.case.systemic.therapies
    assert (line.agent.value, line.setting.value) == ("doxorubicin", "adjuvant")
    assert any("is read as adjuvant" in n and "record the recurrence" in n
               for n in bc.notes), bc.notes
    a = assess(bc.case, ON)
    assert "MISS-ADJUVANT-END" in {m.id for m in a.missing}  # I22: when did it end?


def test_a_course_before_the_resection_keeps_the_case_formats_reading() -> None:
    """Begun before the operation, a course is no adjuvant one: read as the case format
    reads a line without its setting (I17 then asks about the specimen's features)."""
    bc = case_from_bundle(with_doxorubicin("2024-03-01"), on=ON)
    assert all(t.setting.value != "adjuvant" for t in bc.case.systemic.therapies)
    assert not any("is read as adjuvant" in n for n in bc.notes)


@pytest.mark.parametrize("site", ["liver"])
def test_a_course_beside_metastases_is_for_advanced_disease(site: str) -> None:
    """With a metastasis in the record the disease is not localized: the line keeps the
    case format's reading, for advanced disease."""
    bundle = with_doxorubicin("2025-06-01")
    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    bundle["entry"].append({"resource": {
        "resourceType": "Condition", "id": "met-1",
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                       "condition-clinical", "code": "active"}]},
        "verificationStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                           "condition-ver-status", "code": "confirmed"}]},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C78.7",
                             "display": "Secondary malignant neoplasm of liver"}]},
        "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": "2025-05-10"}})
    bc = case_from_bundle(bundle, on=ON)
    assert bc.case.stage.status.value == "metastatic"
    [line] = bc.case.systemic.therapies
    assert line.setting.value == "advanced"


def test_a_course_stated_adjuvant_but_begun_before_the_resection_is_refused() -> None:
    """A course the record states as adjuvant (the project's extension) but begun on
    2024-03-20, before the hysterectomy of 2024-04-09: adjuvant treatment follows the
    operation, so the record contradicts itself. It is refused as the case format refuses
    it, naming the resource, the setting and the dates, and saying how pre-operative
    treatment is recorded; never read as treatment that followed the surgery (I22)."""
    from pecoma.errors import InputError
    from pecoma.fhir import codes

    bundle = with_doxorubicin("2024-03-20")
    bundle["entry"][-1]["resource"]["extension"] = [
        {"url": codes.EXT.THERAPY_SETTING, "valueCode": "adjuvant"}]
    with pytest.raises(InputError) as info:
        case_from_bundle(bundle, on=ON)
    [issue] = info.value.issues
    assert issue.path.startswith("systemic.therapies[0].setting")
    assert "MedicationRequest/dox-1" in issue.path
    assert "(2024-03-20), before 'surgery.date' (2024-04-09)" in issue.rule
    assert "neoadjuvant" in issue.rule and "'advanced'" in issue.rule
    # with no setting stated, the same course keeps the case format's reading
    del bundle["entry"][-1]["resource"]["extension"]
    bc = case_from_bundle(bundle, on=ON)
    assert [t.setting.value for t in bc.case.systemic.therapies] == ["advanced"]


def _with_outcome(bundle: dict[str, Any], outcome: str | None) -> dict[str, Any]:
    """The hysterectomy's outcome (where its margin is read from) replaced, or removed."""
    [proc] = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "Procedure"]
    if outcome is None:
        del proc["outcome"]
    else:
        proc["outcome"] = {"text": outcome}
    return bundle


class TestMarginNotRecorded:
    """The resection's margin decides whether a line begun after it was adjuvant: with
    gross tumour left (R2) the line treated disease still present. The engine reads a
    margin not recorded as unknown (it may have been R2: asked, never read as no gross
    tumour left); the reader had read the line as adjuvant "after a resection that left
    no gross tumour" with no word of the margin."""

    @pytest.mark.parametrize("start", ["2024-05-21", "2025-03-01"])
    def test_the_note_says_the_margin_is_not_recorded_and_what_r2_would_mean(
            self, start: str) -> None:
        """No margin in the record: the line is still read as adjuvant (the case format
        has no setting to leave asked; 'advanced' would be refused once R0 or R1 is
        recorded, and adjuvant also asks when the treatment ended), but the note says the
        margin is not recorded, that the reading holds only if no gross tumour was left,
        and that with gross tumour left (R2) the setting is 'advanced'; the report asks
        the margin (MISS-MARGIN) and the surveillance waits on it."""
        bc = case_from_bundle(_with_outcome(with_doxorubicin(start), None), on=ON)
        [line] = bc.case.systemic.therapies
        assert line.setting.value == "adjuvant"
        [note] = [n for n in bc.notes if "is read as adjuvant" in n]
        assert "surgery.margin is not recorded" in note, note
        assert "only if the resection left no gross tumour" in note
        assert "if it left gross tumour (R2)" in note and "'advanced'" in note
        a = assess(bc.case, ON)
        missing = {m.id for m in a.missing}
        assert {"MISS-MARGIN", "MISS-ADJUVANT-END"} <= missing

    def test_control_a_recorded_r0_margin_says_nothing_of_it(self) -> None:
        """R0 recorded: the line is adjuvant, and the note raises no doubt on the margin."""
        bc = case_from_bundle(with_doxorubicin("2024-05-21"), on=ON)
        [note] = [n for n in bc.notes if "is read as adjuvant" in n]
        assert "not recorded" not in note and "R2" not in note

    def test_control_gross_tumour_left_keeps_the_line_for_advanced_disease(self) -> None:
        """R2 recorded: the line treated the disease left, read as the case format reads
        a line without its setting (advanced), never adjuvant."""
        bundle = _with_outcome(with_doxorubicin("2024-05-21"),
                               "Macroscopic residual tumour (R2)")
        bc = case_from_bundle(bundle, on=ON)
        assert bc.case.surgery.margin.value == "R2"
        [line] = bc.case.systemic.therapies
        assert line.setting.value == "advanced"
        assert not any("is read as adjuvant" in n for n in bc.notes)
