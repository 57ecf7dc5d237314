"""FHIR in: the project's disease status 'localized' beside a statement of distant spread.

The record is the uterine corpus (tests/data/mcode/uterus-localized.json: a resected
uterine PEComa, no metastasis Condition, a denial of metastatic history) with the
project's own disease status 'localized' dated 2024-04-20 added, and its "improved"
CancerDiseaseStatus left out. The reader took the status as read whatever else the
record said: a TNM distant metastases category cM1, a CancerDiseaseStatus "distant
metastasis present", an AJCC stage group IV, or the PEComa Condition's own stage IV
summary, of the same day or up to a year later, were only listed as evidence, and the
patient was advised as for localized disease (a resection, the risk stratification),
never as for advanced disease (the first-line mTOR inhibitor, S02, S12).

Expected, each by hand, by the reader's rule for every result (the later result wins;
two of one time that disagree are never settled for the less serious one):
- a cM1 or "distant metastasis present" later than the status is the later result:
  the disease is 'metastatic', with a note naming both, and the advice is for
  metastatic disease;
- one of the status's time (the same day, or undated), or later but followed by a
  statement that leaves it undecided (a remission: a history of metastatic cancer),
  leaves which stands unknown: the record is refused naming both, never read as
  localized;
- a stage group IV (distant metastases or involved nodes) not known to be earlier
  than the status, or the PEComa Condition's own stage IV (undated), is refused
  naming both;
- a stage group IV known to be earlier than the status: the later status stands (stage
  IV of soft-tissue sarcoma may be involved nodes alone, which a status of localized
  disease does not contradict);
- a cM1 or "distant metastasis present" known to be earlier than the status, a day, a
  month or years before it: distant metastases once stated are not undone by a later
  status saying the disease has not spread distantly. The case format has no such
  disease: metastases removed or cleared leave a metastatic disease free of disease
  again (I8), never a localized one, so the later status is either that (to record as
  such) or wrong, and which cannot be told. Read as localized, a patient with distant
  metastases gets the localized pathway silently; read as metastatic, one the latest
  record says is free of distant disease gets the advice for present disease. As for a
  later statement of spread followed by a remission (refused above), the record is
  refused naming both and saying what to record; never read as localized.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import DiseaseStatus
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
ON = dt.date(2026, 6, 1)
STATUS_DAY = "2024-04-20"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
PRIMARY = "primary-cancer-condition-uterus"
FIRST_LINE = "REC-MTOR-FIRST-LINE"


def _localized() -> dict[str, Any]:
    """The uterine corpus with the project's disease status 'localized' of 2024-04-20
    and without its CancerDiseaseStatus "improved"."""
    bundle: dict[str, Any] = json.loads((DATA / "uterus-localized.json").read_text("utf-8"))
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["id"] != "cancer-disease-status-pecoma-u"]
    subject = next(e["resource"]["subject"] for e in bundle["entry"]
                   if e["resource"]["id"] == PRIMARY)
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "status-localized", "status": "final",
        "code": {"coding": [{"system": PECOMA, "code": "disease-status"}]},
        "subject": subject, "effectiveDateTime": STATUS_DAY,
        "valueCodeableConcept": {"coding": [{"system": PECOMA, "code": "localized"}]}}})
    return bundle


def _with(rid: str, code: dict[str, Any], value: dict[str, Any],
          day: str | None) -> dict[str, Any]:
    bundle = _localized()
    subject = bundle["entry"][-1]["resource"]["subject"]
    obs: dict[str, Any] = {"resourceType": "Observation", "id": rid, "status": "final",
                           "code": code, "subject": subject, "valueCodeableConcept": value}
    if day is not None:
        obs["effectiveDateTime"] = day
    bundle["entry"].append({"resource": obs})
    return bundle


def _m1(day: str | None) -> dict[str, Any]:
    return _with("m-category", {"coding": [{"system": LOINC, "code": "21907-1"}]},
                 {"text": "cM1"}, day)


def _distant(day: str | None) -> dict[str, Any]:
    return _with("disease-course", {"coding": [{"system": LOINC, "code": "97509-4"}]},
                 {"coding": [{"system": SNOMED, "code": "399409002"}]}, day)


def _stage_iv(day: str | None) -> dict[str, Any]:
    return _with("stage-group", {"coding": [{"system": LOINC, "code": "21908-9"}]},
                 {"coding": [{"system": SNOMED, "code": "1222837003",
                              "display": "AJCC stage IV"}]}, day)


def _condition_stage_iv() -> dict[str, Any]:
    bundle = _localized()
    cond = next(e["resource"] for e in bundle["entry"] if e["resource"]["id"] == PRIMARY)
    cond["stage"] = [{"summary": {"coding": [{"system": SNOMED, "code": "1222837003"}],
                                  "text": "Stage IV (distant metastases, lung)"}}]
    return bundle


def _status_on(bundle: dict[str, Any], day: str) -> dict[str, Any]:
    """The bundle with the disease status 'localized' dated ``day`` instead."""
    status = next(e["resource"] for e in bundle["entry"]
                  if e["resource"]["id"] == "status-localized")
    status["effectiveDateTime"] = day
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


#: A statement of distant metastases later than the status (the later result wins).
LATER: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "cM1-a-year-later": (lambda: _m1("2025-06-01"), "Observation/m-category"),
    "cM1-next-day": (lambda: _m1("2024-04-21"), "Observation/m-category"),
    "cM1-a-month-later": (lambda: _m1("2024-05-20"), "Observation/m-category"),
    "cM1-two-years-later": (lambda: _m1("2026-04-20"), "Observation/m-category"),
    "distant-metastasis-present-later": (lambda: _distant("2025-06-01"),
                                         "Observation/disease-course"),
}

#: Statements that disagree with the status and are not known to be earlier or later.
DISAGREE: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "cM1-same-day": (lambda: _m1(STATUS_DAY), "Observation/m-category"),
    "cM1-timed-within-the-day": (lambda: _m1("2024-04-20T10:00:00+02:00"),
                                 "Observation/m-category"),
    "cM1-undated": (lambda: _m1(None), "Observation/m-category"),
    "distant-metastasis-present-same-day": (lambda: _distant(STATUS_DAY),
                                            "Observation/disease-course"),
    "stage-iv-same-day": (lambda: _stage_iv(STATUS_DAY), "Observation/stage-group"),
    "stage-iv-later": (lambda: _stage_iv("2025-06-01"), "Observation/stage-group"),
    "stage-iv-undated": (lambda: _stage_iv(None), "Observation/stage-group"),
    "condition-stage-iv": (_condition_stage_iv, f"Condition/{PRIMARY}.stage[0]"),
}

#: A stage group IV known to be earlier than the status: the later status stands.
EARLIER: dict[str, Callable[[], dict[str, Any]]] = {
    "stage-iv-earlier": lambda: _stage_iv("2024-03-01"),
}

#: Distant metastases stated before the status, a day to years before it: refused.
SPREAD_BEFORE: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "cM1-the-day-before": (lambda: _m1("2024-04-19"), "Observation/m-category"),
    "cM1-timed-the-day-before": (lambda: _m1("2024-04-19T09:00:00+02:00"),
                                 "Observation/m-category"),
    "cM1-a-month-before": (lambda: _m1("2024-03-20"), "Observation/m-category"),
    "status-two-years-after-cM1": (lambda: _status_on(_m1(STATUS_DAY), "2026-04-20"),
                                   "Observation/m-category"),
    "distant-metastasis-present-the-day-before": (lambda: _distant("2024-04-19"),
                                                  "Observation/disease-course"),
    "status-a-year-after-distant-metastasis-present": (
        lambda: _status_on(_distant(STATUS_DAY), "2025-04-20"), "Observation/disease-course"),
}


def test_the_status_alone_is_localized() -> None:
    """The control: the status alone gives the localized pathway."""
    bc = _read(_localized())
    assert bc.case.stage.status is DiseaseStatus.localized


@pytest.mark.parametrize("kind", list(LATER))
def test_a_later_statement_of_distant_spread_wins(kind: str) -> None:
    """A later cM1 or "distant metastasis present": 'metastatic', a note naming both
    and saying the later result wins, the first-line mTOR inhibitor advised."""
    build, where = LATER[kind]
    bc = _read(build())
    assert bc.case.stage.status is DiseaseStatus.metastatic
    (note,) = [n for n in bc.notes if n.startswith("stage.status taken as 'metastatic'")]
    assert where in note and "Observation/status-localized" in note
    assert "the later result wins" in note
    assert FIRST_LINE in set(assess(bc.case, ON).record_ids())


@pytest.mark.parametrize("kind", list(DISAGREE))
def test_statements_that_disagree_are_refused_naming_both(kind: str) -> None:
    """Of one time (or the stage IV not known to be earlier): refused, the message
    naming the status and the statement; never read as localized."""
    build, where = DISAGREE[kind]
    with pytest.raises(InputError) as err:
        _read(build())
    said = str(err.value)
    assert "'stage.status'" in said
    assert "Observation/status-localized" in said and where in said


def test_a_later_spread_followed_by_a_remission_is_refused() -> None:
    """A cM1 a year after the status, then a full remission: a history of metastatic
    cancer after the status said localized; neither localized nor present now: asked."""
    bundle = _m1("2025-06-01")
    subject = bundle["entry"][-1]["resource"]["subject"]
    bundle["entry"].append({"resource": {
        "resourceType": "Observation", "id": "remission", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "97509-4"}]}, "subject": subject,
        "effectiveDateTime": "2025-12-01",
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "550991000124107"}]}}})
    with pytest.raises(InputError) as err:
        _read(bundle)
    assert "Observation/m-category" in str(err.value)


@pytest.mark.parametrize("kind", list(EARLIER))
def test_an_earlier_statement_leaves_the_later_status(kind: str) -> None:
    """Known to be earlier than the status: the later result, the status, stands."""
    bc = _read(EARLIER[kind]())
    assert bc.case.stage.status is DiseaseStatus.localized


@pytest.mark.parametrize("kind", list(SPREAD_BEFORE))
def test_a_localized_status_after_distant_spread_is_refused(kind: str) -> None:
    """A 'localized' status after a cM1 or "distant metastasis present": refused naming
    both, saying how to record metastases removed or cleared; never read as localized
    (it had been, silently)."""
    build, where = SPREAD_BEFORE[kind]
    with pytest.raises(InputError) as err:
        _read(build())
    said = str(err.value)
    assert "'stage.status'" in said
    assert "Observation/status-localized" in said and where in said
    assert "free-of-disease" in said


@pytest.mark.parametrize("day", ["2024-04-21", "2025-10-01"])
def test_a_locally_advanced_status_after_distant_spread_is_refused(day: str) -> None:
    """The same for the status 'locally-advanced-unresectable' (dated ``day``, after the
    cM1), which also says the disease has not spread distantly."""
    bundle = _status_on(_m1(STATUS_DAY), day)
    status = next(e["resource"] for e in bundle["entry"]
                  if e["resource"]["id"] == "status-localized")
    status["valueCodeableConcept"]["coding"][0]["code"] = "locally-advanced-unresectable"
    with pytest.raises(InputError) as err:
        _read(bundle)
    assert "Observation/m-category" in str(err.value)
