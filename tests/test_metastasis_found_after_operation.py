"""A metastasis found shortly after the operation, its timing not recorded (I29).

S11 asks to consider postoperative chemotherapy or radiotherapy when distant metastases
were present at presentation; I7 calls a metastasis found on or before the end of the
primary's curative treatment synchronous, one found later metachronous. A metastasis
found days or weeks after the operation is often one the staging work-up finds after it
(the chest CT done after the hysterectomy): it was very likely there at presentation. A
relapse cannot have been found in that time by surveillance, whose first scan comes some
3 months after the end of treatment (S18; the same window as I5's work-up). Read by the
dates alone it was called metachronous with a disease-free interval of 0 months (a
contradiction), and S11 was withheld without a question, while the same disease found a
week before the operation got S11.

So: found less than 3 months after the end of curative treatment, with no timing stated,
the timing is unknown and asked (the case's ``timing`` field); S11 is shown meanwhile,
provisional on the answer (the safer branch: a consideration is not silently lost). A
stated timing decides. From 3 months on, the dates decide as before (metachronous).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment
from pecoma.errors import InputError

ON = dt.date(2026, 12, 7)
SURGERY = "2026-06-01"
S11 = "REC-ADJ-NODES-METS"
ASKED = "MISS-METASTASIS-EARLY-TIMING"


def _case(detected_on: str, timing: str | None = None, site: str = "lung",
          end: str | None = None) -> dict[str, Any]:
    """A uterine PEComa of 10 cm with every high-risk feature, hysterectomy R0 on
    2026-06-01, one metastasis found on ``detected_on``, resectable."""
    met: dict[str, Any] = {"site": site, "detected_on": detected_on}
    if timing is not None:
        met["timing"] = timing
    case: dict[str, Any] = {
        "label": "met-after-operation",
        "diagnosis": {"method": "histology_with_ihc", "date": "2026-05-20",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "uterus", "size": {"value": 10, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative", "metastases": [met],
                  "extrapulmonary_disease": "no" if site == "lung" else "yes",
                  "resectable": "yes", "complete_excision_feasible": "yes"},
        "surgery": {"status": "performed", "date": SURGERY, "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    }
    if end is not None:
        case["primary_treatment_end"] = end
    return case


def _run(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def _derived(a: Assessment, path: str) -> str:
    return next(str(f.value) for f in a.derived if f.path == path)


#: Days found after the operation of 2026-06-01, less than 3 months: the work-up window.
WITHIN = ["2026-06-02", "2026-06-20", "2026-07-15", "2026-08-31"]
#: 3 months or more after it: a relapse by the dates (I7).
AFTER = ["2026-09-01", "2026-09-02", "2026-11-30"]


@pytest.mark.parametrize("site", ["lung", "liver"])
@pytest.mark.parametrize("day", WITHIN)
def test_within_three_months_the_timing_is_asked_and_s11_shown(day: str, site: str) -> None:
    """Found less than 3 months after the operation, timing not recorded: neither
    called metachronous nor synchronous; S11 is shown, provisional on the question, which
    names the field to record and says what it changes (S11)."""
    a = _run(_case(day, site=site))
    assert _derived(a, "derived.metastases[0].timing") == "unknown"
    [s11] = [r for r in a.recommendations if r.id == S11]
    assert ASKED in s11.conditional_on
    assert "I29" in s11.provenance.interpretations
    assert s11.strength == "consider"  # the guideline's force, unchanged
    [miss] = [m for m in a.missing if m.id == ASKED]
    assert miss.field == "stage.metastases[].timing"
    assert S11 in miss.affects
    assert "S11" in miss.would_change
    assert "I29" in miss.provenance.interpretations


@pytest.mark.parametrize("day", AFTER)
def test_from_three_months_the_dates_decide(day: str) -> None:
    """3 months or more after the operation: metachronous by the dates, a relapse that
    puts S11 in the past; nothing is asked about the timing."""
    a = _run(_case(day))
    assert _derived(a, "derived.metastases[0].timing") == "metachronous"
    assert S11 not in {r.id for r in a.recommendations}
    assert not {m.id for m in a.missing} & {ASKED, "MISS-METASTASIS-TIMING"}


@pytest.mark.parametrize("day", ["2026-05-25", SURGERY])
def test_on_or_before_the_operation_synchronous(day: str) -> None:
    """Found on or before the end of the primary's treatment: synchronous (I7), S11
    shown without a timing question."""
    a = _run(_case(day))
    assert _derived(a, "derived.metastases[0].timing") == "synchronous"
    [s11] = [r for r in a.recommendations if r.id == S11]
    assert ASKED not in s11.conditional_on


@pytest.mark.parametrize("day", WITHIN)
def test_stated_timing_decides_within_the_window(day: str) -> None:
    """The team's answer is taken: synchronous (found by the post-operative staging)
    gives S11 as a settled consideration; metachronous (an early relapse) withholds it."""
    sync = _run(_case(day, timing="synchronous"))
    assert _derived(sync, "derived.metastases[0].timing") == "synchronous"
    [s11] = [r for r in sync.recommendations if r.id == S11]
    assert not s11.conditional_on
    assert ASKED not in {m.id for m in sync.missing}
    meta = _run(_case(day, timing="metachronous"))
    assert _derived(meta, "derived.metastases[0].timing") == "metachronous"
    assert S11 not in {r.id for r in meta.recommendations}
    assert ASKED not in {m.id for m in meta.missing}


@pytest.mark.parametrize("day", AFTER)
def test_stated_synchronous_three_months_on_is_refused(day: str) -> None:
    """Beyond the window a stated 'synchronous' still contradicts the day it was found:
    refused, naming the field, the value and what is allowed."""
    with pytest.raises(InputError) as err:
        parse_case(_case(day, timing="synchronous"))
    text = str(err.value)
    assert "stage.metastases[0].timing" in text and "synchronous" in text
    assert "metachronous" in text


@pytest.mark.parametrize(("day", "asked"), [("2026-10-20", True), ("2026-11-14", True),
                                           ("2026-11-15", False), ("2026-12-01", False)])
def test_window_counts_from_the_end_of_curative_treatment(day: str, asked: bool) -> None:
    """Adjuvant treatment ended 2026-08-15: the window runs from that end (I7's anchor),
    not from the operation (2026-06-01)."""
    a = _run(_case(day, end="2026-08-15"))
    timing = _derived(a, "derived.metastases[0].timing")
    assert timing == ("unknown" if asked else "metachronous")
    assert (ASKED in {m.id for m in a.missing}) is asked
    assert (S11 in {r.id for r in a.recommendations}) is asked
