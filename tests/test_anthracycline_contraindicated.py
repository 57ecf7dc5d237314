"""An anthracycline contraindication recorded in the case (S14, S15, I15).

A cardiac contraindication to anthracyclines (a reduced left-ventricular ejection
fraction, the cumulative dose already given) could not be recorded: the case format had
a contraindication field for the mTOR inhibitors only, so with mTOR inhibitors out the
engine proposed doxorubicin (S14), and for a uterine primary epirubicin with ifosfamide
(S15), to a patient who must not have either. ``systemic.anthracycline_contraindicated``
'yes' now rules out every anthracycline and every regimen holding one on the one path an
anthracycline intolerance of the class takes (I15): the regimens are withheld by
REC-REGIMEN-NOT-TOLERATED naming the contraindication, and the guideline's other advice
(the mTOR inhibitor, first line where it can be given, S12/S13) is kept.

The case is an oncologist's record (tests/data/line_records/c67.json): metastatic
disease beyond surgery, retroperitoneal primary.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.errors import InputError

DATA = Path(__file__).parent / "data" / "line_records"
ON = dt.date(2026, 12, 7)
CONTRA = "systemic.anthracycline_contraindicated"


def _case(contra: str, *, available: str = "no", site: str = "retroperitoneum",
          therapies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "c67.json").read_text())
    data["tumour"]["primary_site"] = site
    data["systemic"] = {"mtor_inhibitor_available": available,
                        "mtor_inhibitor_contraindicated": "no",
                        "anthracycline_contraindicated": contra,
                        "therapies": therapies or []}
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _ids(a: Assessment) -> set[str]:
    return {i.id for i in a.recommendations}


def _facts(a: Assessment, rid: str) -> dict[str, str]:
    item = next(i for i in a.recommendations if i.id == rid)
    return {f.path: str(f.value) for f in item.triggered_by}


def test_unknown_keeps_s14() -> None:
    """Control: mTOR inhibitors unavailable, no anthracycline contraindication recorded:
    S14's doxorubicin is the option the guideline gives (REC-ANTHRACYCLINE)."""
    a = _assess(_case("unknown"))
    assert "REC-ANTHRACYCLINE" in _ids(a)
    assert "REC-REGIMEN-NOT-TOLERATED" not in _ids(a)


def test_contraindicated_withholds_doxorubicin() -> None:
    """mTOR inhibitors unavailable, anthracyclines contraindicated (say an LVEF of 40%).
    Expected: doxorubicin never proposed (no REC-ANTHRACYCLINE); REC-REGIMEN-NOT-TOLERATED
    instead, naming the recorded contraindication and the regimen withheld, with nothing
    asked (the record rules the class out by itself)."""
    a = _assess(_case("yes"))
    assert "REC-ANTHRACYCLINE" not in _ids(a)
    facts = _facts(a, "REC-REGIMEN-NOT-TOLERATED")
    assert facts[CONTRA] == "yes"
    assert facts["derived.regimen_withheld"] == "doxorubicin (S14)"
    item = next(i for i in a.recommendations if i.id == "REC-REGIMEN-NOT-TOLERATED")
    assert item.conditional_on == ()
    assert "contraindicat" in item.text


def test_uterine_primary_withholds_epirubicin_with_ifosfamide_too() -> None:
    """A uterine primary: S15's epirubicin with ifosfamide holds an anthracycline too.
    Expected: neither S14's nor S15's regimen proposed, both named as withheld."""
    a = _assess(_case("yes", site="uterus"))
    assert not _ids(a) & {"REC-ANTHRACYCLINE", "REC-UTERINE-EPI-IFO"}
    withheld = [f.value for i in a.recommendations if i.id == "REC-REGIMEN-NOT-TOLERATED"
                for f in i.triggered_by if f.path == "derived.regimen_withheld"]
    assert set(withheld) == {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}


def test_mtor_inhibitor_stays_the_first_line() -> None:
    """mTOR inhibitors available: the guideline's treatment of choice (S12, S13) is
    untouched by an anthracycline contraindication, and S14's option never appears."""
    a = _assess(_case("yes", available="yes"))
    assert "REC-MTOR-FIRST-LINE" in _ids(a)
    assert "REC-ANTHRACYCLINE" not in _ids(a)


def test_after_mtor_progression_the_published_options_say_why() -> None:
    """Progression on everolimus: the guideline is silent (REC-NO-NEXT-LINE) and the
    published experience (SUPP-AFTER-MTOR) names classes. Expected: the anthracyclines
    said not proposed because they are recorded as contraindicated; the other classes
    (gemcitabine with docetaxel, VEGFR inhibitors) not touched."""
    a = _assess(_case("yes", available="yes", therapies=[
        {"agent": "everolimus", "setting": "advanced", "line": 1,
         "started_on": "2025-02-01", "best_response": "progression", "progressed": "yes"}]))
    assert "REC-NO-NEXT-LINE" in _ids(a)
    said = _facts(a, "SUPP-AFTER-MTOR")["derived.after_mtor_classes"]
    assert said.startswith("anthracycline-based chemotherapy: anthracyclines not "
                           "proposed: recorded as contraindicated (I15)")
    assert "gemcitabine" not in said and "VEGFR" not in said


def test_bad_value_is_named() -> None:
    """A value outside yes/no/unknown is refused naming the field, value and choices."""
    with pytest.raises(InputError) as err:
        parse_case(_case("maybe"))
    issue = next(i for i in err.value.issues if i.path == CONTRA)
    assert "maybe" in issue.value and "yes" in issue.rule


def _alert(a: Assessment, rid: str) -> Any:
    return next((i for i in a.alerts if i.id == rid), None)


_DOXORUBICIN_UNDER_WAY = [{"agent": "doxorubicin", "setting": "advanced",
                           "started_on": "2026-09-01", "best_response": "stable",
                           "progressed": "no"}]


def test_doxorubicin_line_still_given_is_flagged() -> None:
    """An anthracycline contraindication recorded while a doxorubicin line is still given
    (stable disease, not progressed, no end recorded): the contraindication rules the
    drug out (I15) just as an anthracycline intolerance of the class does, and that
    intolerance raises ALERT-LINE-NOT-TOLERATED for a line under way. A cardiotoxic drug
    given against a recorded contraindication must not pass unflagged: the same alert,
    naming the line and the contraindication, so the team checks which record is current."""
    a = _assess(_case("yes", therapies=_DOXORUBICIN_UNDER_WAY))
    alert = _alert(a, "ALERT-LINE-NOT-TOLERATED")
    assert alert is not None
    facts = {f.path: str(f.value) for f in alert.triggered_by}
    assert facts[CONTRA] == "yes"
    assert facts["systemic.therapies[0].agent"] == "doxorubicin"
    assert "contraindicated" in alert.text


def test_doxorubicin_line_without_contraindication_is_not_flagged() -> None:
    """Control: the same line with the contraindication recorded 'no': nothing rules the
    drug out, no such alert."""
    a = _assess(_case("no", therapies=_DOXORUBICIN_UNDER_WAY))
    assert _alert(a, "ALERT-LINE-NOT-TOLERATED") is None


def test_ended_doxorubicin_line_is_not_flagged() -> None:
    """The line recorded as ended (stopped, most often for the contraindication itself):
    nothing to check, as for an intolerance."""
    ended = [{**_DOXORUBICIN_UNDER_WAY[0], "ended_on": "2026-11-01"}]
    a = _assess(_case("yes", therapies=ended))
    assert _alert(a, "ALERT-LINE-NOT-TOLERATED") is None
