"""Two intolerances of the same drug judged oppositely by the team (class-wide 'yes' and
'no'): the record was accepted silently and read the safer way, one judgement set aside
with nothing said. The case checks refuse it as they refuse other contradictions (a line
'progressed: no' with progression as its best response), naming both fields. Refusal,
not a question: the two records cannot both be the team's judgement, one field decides
whether the other drugs of the class are offered, and the fix is a one-field correction.
The case is an oncologist's record (tests/data/line_records/c67.json)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.errors import InputError

DATA = Path(__file__).parent / "data" / "line_records"


def _case() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "c67.json").read_text())
    return data


def test_yes_and_no_for_the_same_drug_is_refused_naming_both() -> None:
    case = _case()
    assert [x["class_wide"] for x in case["systemic"]["intolerances"]] == ["yes", "no"]
    with pytest.raises(InputError) as exc:
        parse_case(case)
    [issue] = exc.value.issues
    assert issue.path == "systemic.intolerances[1].class_wide"
    assert issue.value == "no"
    assert "'systemic.intolerances[0].class_wide' 'yes'" in issue.rule
    assert "'sirolimus'" in issue.rule
    # what is allowed is said
    assert "'yes'" in issue.rule and "'no'" in issue.rule and "'unknown'" in issue.rule


@pytest.mark.parametrize("judgements", [("yes", "unknown"), ("no", "no"), ("yes", "yes")])
def test_judgements_that_agree_or_leave_one_open_are_accepted(
    judgements: tuple[str, str],
) -> None:
    """A judgement beside one not recorded, or the same judgement twice, contradicts
    nothing: read as before (the class ruled out with 'yes')."""
    case = _case()
    for x, judged in zip(case["systemic"]["intolerances"], judgements, strict=True):
        x["class_wide"] = judged
    a = assess(parse_case(case), dt.date(2026, 12, 7))
    assert a.recommendations


def test_different_drugs_judged_differently_are_accepted() -> None:
    """Sirolimus of the class, everolimus of that drug alone: two drugs, two judgements."""
    case = _case()
    case["systemic"]["intolerances"][1]["agent"] = "everolimus"
    parse_case(case)
