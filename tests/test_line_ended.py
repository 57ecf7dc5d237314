"""A systemic therapy line's end date (``systemic.therapies[i].ended_on``).

The case format had no end of a line: whether a line was still given could not be told,
and ALERT-LINE-NOT-TOLERATED ("the latest line is of a drug also recorded as not
tolerated: which is current?") fired on any such line recorded with a response or as not
progressed on, even when the team knew it had been stopped, most often for the very
intolerance recorded. An optional end date now records that a line is over.

Expected, each by hand:
- c77 (everolimus from 2025-02-01, partial response, not progressed, beside an everolimus
  intolerance) with the line ended on 2026-06-01: the line is over, the intolerance is
  what stopped it; nothing to check, no alert (the advice already leaves the drug out);
- the same line with no end date recorded: an end not recorded is not taken as ended
  (unknown is not absent): the alert stays, as before;
- an end before the line's start is refused, naming the field, the value and the start;
  an end after the evaluation date is refused, naming the field and the date;
- a line's facts name its end when recorded (the alerts and items naming a line);
- the registry layout and the web form carry the field; the FHIR writer writes it as the
  MedicationStatement's effectivePeriod.end and the reader reads it back.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import InputError, assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 7)
DATA = Path(__file__).parent / "data" / "line_records"


def _c77(**line: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "c77.json").read_text())
    data["systemic"]["therapies"][0].update(line)
    return data


def _alert(a: Assessment) -> dict[str, str] | None:
    found = [x for x in a.alerts if x.id == "ALERT-LINE-NOT-TOLERATED"]
    return {f.path: str(f.value) for f in found[0].triggered_by} if found else None


def test_a_line_ended_beside_its_intolerance_raises_nothing() -> None:
    """Everolimus (partial response, not progressed) ended on 2026-06-01, everolimus
    recorded as not tolerated: the line is over; which is current is not in doubt."""
    case = parse_case(_c77(ended_on="2026-06-01"), on_date=ON)
    assert case.systemic.therapies[0].ended_on == dt.date(2026, 6, 1)
    assert _alert(assess(case, ON)) is None


def test_a_line_with_no_end_recorded_keeps_the_alert() -> None:
    """No end recorded is not 'ended': the responding line may still be given."""
    facts = _alert(assess(parse_case(_c77()), ON))
    assert facts is not None
    assert "systemic.therapies[0].ended_on" not in facts


def test_an_end_before_the_start_is_refused() -> None:
    """Ended 2025-01-15, started 2025-02-01: impossible, named with both dates."""
    with pytest.raises(InputError) as info:
        parse_case(_c77(ended_on="2025-01-15"))
    issues = {i.path: i for i in info.value.issues}
    issue = issues["systemic.therapies[0].ended_on"]
    assert issue.value == "'2025-01-15'"  # as the case's checks show a text
    assert "must not be before 'systemic.therapies[0].started_on' (2025-02-01)" in issue.rule


def test_an_end_before_the_diagnosis_is_refused_without_a_start() -> None:
    """No start recorded, ended 2020-01-01 while the PEComa was diagnosed on 2025-01-10:
    a line for this tumour cannot have ended five years before it was diagnosed (a wrong
    year, or another illness's treatment). A start that early is refused by the
    diagnosis-date rule; the end is refused by the same rule, named with the diagnosis
    date."""
    data = _c77(ended_on="2020-01-01")
    del data["systemic"]["therapies"][0]["started_on"]
    with pytest.raises(InputError) as info:
        parse_case(data)
    issues = {i.path: i for i in info.value.issues}
    issue = issues["systemic.therapies[0].ended_on"]
    assert issue.value == "'2020-01-01'"
    assert "must not be before 'diagnosis.date' (2025-01-10)" in issue.rule


def test_an_end_after_the_evaluation_date_is_refused() -> None:
    """Ended 2027-01-10, evaluated 2026-12-07: it has not happened yet."""
    with pytest.raises(InputError) as info:
        parse_case(_c77(ended_on="2027-01-10"), on_date=ON)
    issues = {i.path: i for i in info.value.issues}
    issue = issues["systemic.therapies[0].ended_on"]
    assert issue.value == "2027-01-10"
    assert "must not be after the evaluation date (2026-12-07)" in issue.rule


def test_an_end_not_a_date_is_refused() -> None:
    with pytest.raises(InputError) as info:
        parse_case(_c77(ended_on="June 2026"))
    assert "systemic.therapies[0].ended_on" in {i.path for i in info.value.issues}


def test_the_end_is_named_among_the_line_facts() -> None:
    """An mTOR-inhibitor line ended without an intolerance: ALERT-MTOR-GIVEN names the
    line as entered, its end included."""
    data = _c77(ended_on="2026-06-01")
    data["systemic"]["intolerances"] = []
    a = assess(parse_case(data), ON)
    named = {f.path: str(f.value) for x in [*a.alerts, *a.items()]
             for f in x.triggered_by}
    assert named.get("systemic.therapies[0].ended_on") == "2026-06-01"


def test_the_registry_layout_and_the_form_carry_it() -> None:
    from pecoma.registry.columns import COLUMN_NAMES
    from pecoma.web.form_layout import FORM

    assert "systemic.therapies[0].ended_on" in COLUMN_NAMES
    assert "ended_on" in repr(FORM)


def test_fhir_round_trip_keeps_the_end() -> None:
    """Written as the line's MedicationStatement effectivePeriod.end, read back."""
    from pecoma.fhir.reader import case_from_bundle
    from pecoma.fhir.writer import bundle_from_case

    case = parse_case(_c77(ended_on="2026-06-01"), on_date=ON)
    back = case_from_bundle(bundle_from_case(case), on=ON).case
    assert back.systemic.therapies[0].ended_on == dt.date(2026, 6, 1)


def _statement(status: str, end: str | None) -> dict[str, Any]:
    from allergy_support import EVEROLIMUS, PATIENT

    period = {"start": "2025-06-01", **({"end": end} if end else {})}
    return {"resourceType": "MedicationStatement", "id": "ms-1", "status": status,
            "subject": {"reference": f"Patient/{PATIENT}"},
            "medicationCodeableConcept": EVEROLIMUS, "effectivePeriod": period}


@pytest.mark.parametrize(("status", "end", "expected"), [
    ("stopped", "2026-06-01", dt.date(2026, 6, 1)),    # stopped that day: over
    ("completed", "2026-06-01", dt.date(2026, 6, 1)),  # completed that day: over
    ("active", "2027-06-01", None),                     # a planned end: still given
    ("active", "2026-06-01", None),                     # active: not read as ended
    ("stopped", None, None),                            # no day: the end not known
])
def test_an_ehr_statement_gives_its_end_only_when_over(
    status: str, end: str | None, expected: dt.date | None,
) -> None:
    """An EHR's MedicationStatement of everolimus: its effectivePeriod.end is the line's
    end only on a record whose status says the course is over; an end on one still
    active is a plan, never read as ended (unknown is not absent)."""
    from pecoma.fhir.reader import case_from_bundle

    from allergy_support import record

    bc = case_from_bundle(record(_statement(status, end)), on=ON)
    [line] = bc.case.systemic.therapies
    assert line.ended_on == expected


def test_the_web_form_reads_the_end_and_names_a_wrong_one() -> None:
    """The case form: an end date typed on a line is read onto the case; one before the
    line's start is refused on that row's field, nothing assessed."""
    from pecoma.web import forms

    posted = {"on": "2026-12-06", "tumour.primary_site": "retroperitoneum",
              "stage.status": "metastatic", "_rows.stage.metastases": "1",
              "stage.metastases[0].site": "liver",
              "stage.metastases[0].detected_on": "2025-01-10",
              "_rows.systemic.therapies": "1",
              "systemic.therapies[0].agent": "everolimus",
              "systemic.therapies[0].setting": "advanced",
              "systemic.therapies[0].started_on": "2025-02-01",
              "systemic.therapies[0].ended_on": "2026-06-01"}
    case = forms.form_to_case(posted).case
    assert case is not None
    assert case.systemic.therapies[0].ended_on == dt.date(2026, 6, 1)
    wrong = forms.form_to_case({**posted, "systemic.therapies[0].ended_on": "2025-01-15"})
    assert wrong.case is None
    assert "systemic.therapies[0].ended_on" in wrong.errors


def test_a_registry_row_carries_the_end() -> None:
    """A registry row's numbered column systemic.therapies[0].ended_on is read onto the
    line, as a date column."""
    from pecoma.registry.columns import column_kind
    from pecoma.registry.import_check import nest

    assert column_kind("systemic.therapies[0].ended_on") == "date"
    assert column_kind("stage.local_recurrence") == "choice"
    cells = {"tumour.primary_site": "retroperitoneum", "stage.status": "metastatic",
             "stage.metastases[0].site": "liver",
             "systemic.therapies[0].agent": "everolimus",
             "systemic.therapies[0].setting": "advanced",
             "systemic.therapies[0].started_on": "2025-02-01",
             "systemic.therapies[0].ended_on": "2026-06-01"}
    tree, _remap = nest(cells)
    assert parse_case(tree).systemic.therapies[0].ended_on == dt.date(2026, 6, 1)


def _h1(**line: Any) -> dict[str, Any]:
    """Uterine PEComa, localized, diagnosed 2024-01-10, resected R0 on 2024-06-01, no
    adjuvant radiotherapy; one doxorubicin line recorded in the adjuvant setting."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10"},
        "tumour": {"primary_site": "uterus", "size": {"value": 8.0, "unit": "cm"}},
        "histology": {"necrosis": "present"},
        "stage": {"status": "localized"},
        "surgery": {"status": "performed", "date": "2024-06-01", "margin": "R0",
                    "adjuvant_radiotherapy": "no"},
        "systemic": {"therapies": [{"agent": "doxorubicin", "setting": "adjuvant",
                                    "line": 1, **line}]},
    }


def test_an_adjuvant_line_ended_before_the_surgery_is_refused_without_a_start() -> None:
    """An 'adjuvant' line with no start that ended on 2024-03-01, three months before the
    operation of 2024-06-01, began before it too: pre-operative treatment, not adjuvant
    (I17). Refused at its setting as a start that early is, naming the end and the date of
    surgery, and pointing to the setting 'advanced'."""
    with pytest.raises(InputError) as err:
        parse_case(_h1(ended_on="2024-03-01"), on_date=ON)
    issue = next(i for i in err.value.issues if i.path == "systemic.therapies[0].setting")
    assert "'systemic.therapies[0].ended_on' (2024-03-01)" in issue.rule
    assert "'surgery.date' (2024-06-01)" in issue.rule
    assert "'advanced'" in issue.rule


def test_an_adjuvant_line_ended_after_the_surgery_is_accepted() -> None:
    """Control: the same line ended on 2024-10-01, after the operation, is no
    contradiction."""
    parse_case(_h1(ended_on="2024-10-01"), on_date=ON)


def _derived_end(a: Assessment) -> str:
    return str({f.path: f.value for f in a.derived}["derived.primary_treatment_end"])


def test_the_only_adjuvant_lines_end_is_the_end_of_curative_treatment() -> None:
    """Resected 2024-06-01, adjuvant radiotherapy recorded as not given, the one adjuvant
    line ended 2024-10-01: every part of the curative treatment has its end on the
    record, so the end of curative treatment is 2024-10-01 (I5, I22), said so in the
    derived fact; its end is neither reported 'not recorded' nor asked, and the visits
    count from it, not from the surgery."""
    a = assess(parse_case(_h1(ended_on="2024-10-01"), on_date=ON), ON)
    derived = _derived_end(a)
    assert derived.startswith("2024-10-01")
    assert "adjuvant" in derived
    ids = {i.id for i in a.items()} | {m.id for m in a.missing}
    assert not ids & {"MISS-ADJUVANT-END", "MISS-TREATMENT-END",
                      "FU-ADJUVANT-END-NOT-RECORDED"}


@pytest.mark.parametrize("radiotherapy", ["yes", "unknown"])
def test_an_adjuvant_lines_end_beside_radiotherapy_not_known_ended_stays_asked(
        radiotherapy: str) -> None:
    """Control: adjuvant radiotherapy given or not recorded, its end not recorded: the
    line's end is not the end of curative treatment (the radiotherapy may have ended
    later), so the end stays derived as 'on or after' and asked, as before."""
    data = _h1(ended_on="2024-10-01")
    data["surgery"]["adjuvant_radiotherapy"] = radiotherapy
    a = assess(parse_case(data, on_date=ON), ON)
    assert _derived_end(a).startswith("not recorded")


def test_an_adjuvant_line_without_its_end_keeps_the_end_asked() -> None:
    """Control: two adjuvant lines, one with no end recorded: the end of curative
    treatment is not known (unknown is not absent); asked, as before."""
    data = _h1(ended_on="2024-10-01")
    data["systemic"]["therapies"].append({"agent": "ifosfamide", "setting": "adjuvant",
                                          "started_on": "2024-07-01"})
    a = assess(parse_case(data, on_date=ON), ON)
    assert _derived_end(a).startswith("not recorded")
    assert "MISS-ADJUVANT-END" in {m.id for m in a.missing}


def test_an_adjuvant_line_ended_after_a_metastasis_was_found_keeps_the_end_asked() -> None:
    """Control: a lung metastasis found on 2024-09-01, before the adjuvant line's end on
    2024-10-01: the primary's curative treatment ended on a day not recorded before the
    line did, so its end is not taken from the line (the interval to the metastasis
    would be negative); asked, as before."""
    data = _h1(ended_on="2024-10-01", started_on="2024-07-01")
    data["stage"] = {"status": "metastatic", "resectable": "yes", "metastases": [
        {"site": "lung", "detected_on": "2024-09-01"}]}
    a = assess(parse_case(data, on_date=ON), ON)
    assert _derived_end(a).startswith("not recorded")
