"""A progression on an anthracycline stands whatever anthracycline line came after: the
class taken as one, as for the mTOR inhibitors (I15, I26).

S14 names anthracycline-based chemotherapy (doxorubicin) as a first line to consider when
mTOR inhibitors cannot be used; the guideline names no line after progression on it.
Epirubicin is an anthracycline, as doxorubicin is: after progression on one, a line of
the other (or the same drug again) is a second course of the same class, resistance
possibly shared and the cumulative dose adding up (I26), never a reason to read S14's
first line as still to try. A later anthracycline line recorded as not progressed had
undone the progression (the latest line decided): S14's doxorubicin was offered plainly
as a first line to a patient whose disease had grown on doxorubicin, and the guideline's
silence was not said. As for the mTOR inhibitors (derived.mtor_after_progression,
HAZ-279), the progression stands: REC-NO-LINE-AFTER-ANTHRACYCLINE is said, the later line
named beside it as the treatment under way if the disease is controlled on it, whether to
continue it the sarcoma team's decision (I19). Whatever the order of the lines, the
answer is the same, so their order is not asked.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 6)
SILENCE = "REC-NO-LINE-AFTER-ANTHRACYCLINE"
UNDER_WAY = "derived.anthracycline_after_progression"

#: Metastatic PEComa, a liver metastasis not resectable; mTOR inhibitors unavailable, so
#: S14's anthracycline option is the guideline's first line.
CASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2025-01-05"}],
              "extrapulmonary_disease": "yes", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2023-03-25", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "no", "mtor_inhibitor_contraindicated": "no"},
}

#: (the line progressed on, the later line not progressed) of the anthracycline class
PAIRS = [
    pytest.param("doxorubicin", "doxorubicin", id="doxorubicin-again"),
    pytest.param("doxorubicin", "epirubicin", id="doxorubicin-then-epirubicin"),
    pytest.param("doxorubicin", "doxorubicin_ifosfamide", id="doxorubicin-then-regimen"),
    pytest.param("epirubicin_ifosfamide", "doxorubicin", id="regimen-then-doxorubicin"),
    pytest.param("doxorubicin_ifosfamide", "epirubicin_ifosfamide",
                 id="regimen-then-other-regimen"),
]


def _run(lines: list[dict[str, Any]], site: str = "kidney") -> Assessment:
    data = copy.deepcopy(CASE)
    data["tumour"]["primary_site"] = site
    data["systemic"]["therapies"] = [{"setting": "advanced", **x} for x in lines]
    return assess(parse_case(data), ON)


def _item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


def _dated(failed: str, later: str) -> list[dict[str, Any]]:
    return [{"agent": failed, "line": 1, "started_on": "2025-02-01", "progressed": "yes",
             "best_response": "progression"},
            {"agent": later, "line": 2, "started_on": "2025-08-01", "progressed": "no",
             "best_response": "partial"}]


@pytest.mark.parametrize("site", ["kidney", "uterus"])
@pytest.mark.parametrize(("failed", "later"), PAIRS)
def test_the_progression_stands_whatever_anthracycline_line_came_after(
        failed: str, later: str, site: str) -> None:
    """Progressed on an anthracycline line, another anthracycline line since and the
    disease controlled on it: S14's first line is in the past (the class taken as one,
    I15, I26); the guideline's silence is said, never S14's doxorubicin as a first line
    to consider, and the later line is named beside the silence as the treatment under
    way (I19)."""
    a = _run(_dated(failed, later), site)
    assert "REC-ANTHRACYCLINE" not in a.record_ids()
    silence = _item(a, SILENCE)
    assert silence.conditional_on == ()
    said = {f.path: f.value for f in silence.triggered_by}
    assert said["systemic.therapies[1].agent"] == later
    assert "treatment under way" in said[UNDER_WAY]
    assert "sarcoma team" in said[UNDER_WAY]
    assert {"I15", "I19"} <= set(silence.provenance.interpretations)


@pytest.mark.parametrize(("failed", "later"), PAIRS)
def test_the_order_of_the_lines_decides_nothing_and_is_not_asked(
        failed: str, later: str) -> None:
    """Neither dated nor numbered, in either order typed in: the same advice, the
    silence said, the order not asked (it would change nothing)."""
    lines = [{"agent": failed, "progressed": "yes"}, {"agent": later, "progressed": "no"}]
    results = []
    for order in (lines, lines[::-1]):
        a = _run(order)
        assert "MISS-LINE-ORDER" not in {m.id for m in a.missing}
        assert _item(a, SILENCE).conditional_on == ()
        results.append(sorted(i.id for i in (*a.recommendations, *a.alerts)))
    assert results[0] == results[1]


def test_a_line_given_before_the_progression_is_not_named_under_way() -> None:
    """Epirubicin given first and stopped without progression, then doxorubicin the
    disease progressed on: the earlier line is past, not the treatment under way."""
    a = _run([{"agent": "epirubicin", "line": 1, "started_on": "2025-01-01",
               "progressed": "no"},
              {"agent": "doxorubicin", "line": 2, "started_on": "2025-06-01",
               "progressed": "yes"}])
    said = {f.path for f in _item(a, SILENCE).triggered_by}
    assert UNDER_WAY not in said


def test_without_a_progression_the_latest_line_is_the_option_under_way() -> None:
    """No anthracycline line progressed on: S14's option stands, as before (the rule is
    about a progression on the class, not about any anthracycline given)."""
    a = _run([{"agent": "doxorubicin", "line": 1, "started_on": "2025-02-01",
               "progressed": "no"}])
    assert "REC-ANTHRACYCLINE" in a.record_ids()
    assert SILENCE not in a.record_ids()
