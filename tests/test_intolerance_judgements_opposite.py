"""Two intolerances of the same drug judged oppositely by the team (class-wide 'yes' and
'no'). They had been accepted silently, one judgement set aside with nothing said; then
the case checks refused them, but only when both named the same agent: sirolimus 'yes'
beside nab-sirolimus 'no' (one drug, I15), or doxorubicin 'yes' beside doxorubicin with
ifosfamide 'no', were accepted, and the FHIR reader reads the same contradiction the
safer way with a note (read_treatment._judgements_differ). A registry row listing one
drug twice, judged at two dates, became unusable. Now one rule for every pair of the same
drug, whichever way the record comes in: the safer judgement (of the class) is taken and
a derived fact names both records and says so, for the team to record one judgement.
The case is an oncologist's record (tests/data/line_records/c67.json): metastatic
disease beyond surgery, sirolimus not tolerated."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

DATA = Path(__file__).parent / "data" / "line_records"
ON = dt.date(2026, 12, 7)
DIFFER = "derived.intolerance_judgements_differ"
MTOR_FIRST = {"REC-MTOR-FIRST-LINE", "REC-MTOR-MALIGNANCY-NOT-SHOWN"}


def _case(*intolerances: tuple[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "c67.json").read_text())
    if intolerances:
        data["systemic"]["intolerances"] = [
            {"agent": agent, "class_wide": judged} for agent, judged in intolerances]
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _derived(a: Assessment) -> dict[str, str]:
    return {f.path: f.value for f in a.derived}


@pytest.mark.parametrize("listed", [
    pytest.param((("sirolimus", "yes"), ("sirolimus", "no")), id="sirolimus-twice"),
    pytest.param((("sirolimus", "yes"), ("nab_sirolimus", "no")), id="sirolimus-nab"),
    pytest.param((("nab_sirolimus", "no"), ("sirolimus", "yes")), id="nab-first"),
])
def test_mtor_inhibitor_judged_both_ways_takes_the_class(
        listed: tuple[tuple[str, str], ...]) -> None:
    """The same drug (sirolimus and nab-sirolimus are one, I15) of the class and of that
    drug alone. Expected: accepted; the safer judgement taken, every mTOR inhibitor ruled
    out (the contraindication derived, S14's anthracycline offered, no mTOR inhibitor
    proposed); a derived fact naming both records, their judgements, and the reading
    taken."""
    a = _assess(_case(*listed))
    ids = {i.id for i in a.recommendations}
    assert "REC-ANTHRACYCLINE" in ids
    assert not ids & MTOR_FIRST
    derived = _derived(a)
    assert derived["derived.mtor_inhibitor_contraindicated"].startswith("yes")
    said = derived[DIFFER]
    yes_at = next(i for i, (_a, j) in enumerate(listed) if j == "yes")
    no_at = 1 - yes_at
    assert f"systemic.intolerances[{yes_at}]" in said
    assert f"systemic.intolerances[{no_at}]" in said
    assert "('yes')" in said and "('no')" in said
    assert "every mTOR inhibitor ruled out" in said


def test_anthracycline_and_its_regimen_judged_both_ways_takes_the_class() -> None:
    """Doxorubicin of the class, doxorubicin with ifosfamide of that drug alone: the
    regimen's anthracycline is doxorubicin, the same drug. Expected: accepted, the safer
    judgement taken (epirubicin ruled out too), the derived fact naming both."""
    a = _assess(_case(("doxorubicin", "yes"), ("doxorubicin_ifosfamide", "no")))
    said = _derived(a)[DIFFER]
    assert "systemic.intolerances[0] (doxorubicin)" in said
    assert "systemic.intolerances[1] (doxorubicin-ifosfamide)" in said
    assert "every anthracycline ruled out" in said
    # no anthracycline proposed: doxorubicin not tolerated, epirubicin of the class
    assert not {i.id for i in a.recommendations} & {"REC-ANTHRACYCLINE",
                                                     "REC-UTERINE-EPI-IFO"}


@pytest.mark.parametrize("judgements", [("yes", "unknown"), ("no", "no"), ("yes", "yes")])
def test_judgements_that_agree_or_leave_one_open_say_nothing(
    judgements: tuple[str, str],
) -> None:
    """A judgement beside one not recorded, or the same judgement twice, contradicts
    nothing: read as before, no derived fact of differing judgements."""
    a = _assess(_case(*(("sirolimus", j) for j in judgements)))
    assert a.recommendations
    assert DIFFER not in _derived(a)


@pytest.mark.parametrize("other", ["everolimus", "epirubicin"])
def test_different_drugs_judged_differently_say_nothing(other: str) -> None:
    """Sirolimus (or doxorubicin) of the class, another drug of that alone: two drugs,
    two judgements, no contradiction."""
    first = "doxorubicin" if other == "epirubicin" else "sirolimus"
    a = _assess(_case((first, "yes"), (other, "no")))
    assert DIFFER not in _derived(a)
