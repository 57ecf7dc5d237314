"""Whether an mTOR inhibitor is available, and whether it is contraindicated, are asked
only where the answer can change the advice shown.

The answers decide between S12/S13's mTOR inhibitor as the first line and S14's
anthracycline-based chemotherapy, and whether a first line of another drug departs from
that order (ALERT-CHEMO-BEFORE-MTOR). Once the disease has progressed on an mTOR
inhibitor, the guideline names no next line (REC-NO-NEXT-LINE) whatever the answers: the
first-line mTOR advice is not shown, S14's option is not reached, and a question saying
"meanwhile the mTOR inhibitor stays the first-line recommendation" contradicts the report
(a reader may take it that an mTOR inhibitor is still advised after progression on one).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 7)
USE_QUESTIONS = ("MISS-MTOR-AVAILABLE", "MISS-MTOR-CONTRAINDICATED")


def _case(site: str, lines: list[dict[str, Any]], available: str | None,
          contraindicated: str | None) -> dict[str, Any]:
    """A kidney or uterine PEComa with necrosis, resected R0, a metachronous lung
    metastasis that can be removed, and the systemic lines given."""
    systemic: dict[str, Any] = {"therapies": lines}
    if available is not None:
        systemic["mtor_inhibitor_available"] = available
    if contraindicated is not None:
        systemic["mtor_inhibitor_contraindicated"] = contraindicated
    return {
        "label": "mtor-questions",
        "diagnosis": {"method": "histology_with_ihc", "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 8.5, "unit": "cm"}},
        "histology": {"necrosis": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2025-09-01"}],
                  "extrapulmonary_disease": "no", "resectable": "yes",
                  "complete_excision_feasible": "yes"},
        "surgery": {"status": "performed", "date": "2024-05-01", "margin": "R0"},
        "systemic": systemic,
    }


def _run(case: dict[str, Any]) -> Assessment:
    return assess(parse_case(case), ON)


def _advice(a: Assessment) -> list[tuple[str, str]]:
    """What the clinician is told to do or weigh: the recommendations and alerts."""
    return [("rec", i.id) for i in a.recommendations] + [("alert", i.id) for i in a.alerts]


MTOR_AGENTS = ("sirolimus", "everolimus", "temsirolimus", "nab_sirolimus")
SITES = ("kidney", "uterus")
#: unknown available / contraindicated: None leaves the field out of the record
UNKNOWN_PAIRS = [("yes", None), (None, "no"), (None, None)]


def _progressed_line(agent: str) -> dict[str, Any]:
    return {"agent": agent, "setting": "advanced", "line": 1, "started_on": "2025-10-01",
            "progressed": "yes"}


@pytest.mark.parametrize(("agent", "site", "pair"),
                         list(itertools.product(MTOR_AGENTS, SITES, UNKNOWN_PAIRS)))
def test_not_asked_after_progression_on_an_mtor_inhibitor(
        agent: str, site: str, pair: tuple[str | None, str | None]) -> None:
    """Progressed on the only line, an mTOR inhibitor: the guideline's silence is the
    advice, no mTOR first-line item is shown, and neither question is asked."""
    available, contraindicated = pair
    a = _run(_case(site, [_progressed_line(agent)], available, contraindicated))
    ids = {r.id for r in a.recommendations}
    assert "REC-NO-NEXT-LINE" in ids
    assert not ids & {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS", "REC-ANTHRACYCLINE"}
    assert not {m.id for m in a.missing} & set(USE_QUESTIONS)


@pytest.mark.parametrize(("agent", "site"), list(itertools.product(MTOR_AGENTS, SITES)))
def test_after_progression_the_answers_change_nothing(agent: str, site: str) -> None:
    """Why the questions are not asked there: every answer gives the same advice."""
    outcomes = {
        tuple(_advice(_run(_case(site, [_progressed_line(agent)], av, co))))
        for av, co in itertools.product(("yes", "no", None), ("yes", "no", None))
    }
    assert len(outcomes) == 1


def test_adjuvant_course_recurred_on_is_progression_too() -> None:
    """Everolimus given after the resection, the disease recurring on it (recorded as
    progressed): the guideline names no next line, and the questions are not asked."""
    line = {"agent": "everolimus", "setting": "adjuvant", "started_on": "2024-06-01",
            "progressed": "yes"}
    a = _run(_case("kidney", [line], None, None))
    assert "REC-NO-NEXT-LINE" in {r.id for r in a.recommendations}
    assert not {m.id for m in a.missing} & set(USE_QUESTIONS)


#: Cases where the answers do change the advice: the questions stay, each a condition of
#: an item the answer changes, with the item's id among what it affects.
STILL_ASKED: dict[str, list[dict[str, Any]]] = {
    # no line yet: the mTOR inhibitor is the first line, S14's option if it cannot be used
    "no line": [],
    # an mTOR inhibitor whose outcome is not recorded: the first-line advice, provisional
    "everolimus outcome unknown": [{"agent": "everolimus", "setting": "advanced",
                                    "started_on": "2025-10-01"}],
    # a first line of doxorubicin, then an mTOR inhibitor progressed on: the alert that
    # chemotherapy came first while an mTOR inhibitor was possible rests on the answers
    "doxorubicin first, then everolimus progressed": [
        {"agent": "doxorubicin", "setting": "advanced", "line": 1,
         "started_on": "2025-10-01", "progressed": "yes"},
        {"agent": "everolimus", "setting": "advanced", "line": 2,
         "started_on": "2026-02-01", "progressed": "yes"}],
}


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize("name", list(STILL_ASKED))
def test_still_asked_where_the_answer_changes_the_advice(name: str, site: str) -> None:
    lines = STILL_ASKED[name]
    a = _run(_case(site, lines, None, None))
    asked = {m.id: m for m in a.missing if m.id in USE_QUESTIONS}
    assert set(asked) == set(USE_QUESTIONS)
    items = [*a.recommendations, *a.alerts]
    for mid, m in asked.items():
        held = [i.id for i in items if mid in i.conditional_on]
        assert held, f"{mid} is asked but no item shown rests on it"
        assert set(held) <= set(m.affects)
    # the answer 'contraindicated' changes what is shown
    blocked = _run(_case(site, lines, None, "yes"))
    assert _advice(blocked) != _advice(a)


def test_alert_only_wording_does_not_claim_a_first_line_mtor_advice() -> None:
    """Progressed on everolimus after a first line of doxorubicin: the questions stand for
    the alert alone, and what they say meanwhile must not present the mTOR inhibitor as
    the first-line recommendation unconditionally."""
    a = _run(_case("kidney", STILL_ASKED["doxorubicin first, then everolimus progressed"],
                   None, None))
    assert "REC-MTOR-FIRST-LINE" not in {r.id for r in a.recommendations}
    for m in a.missing:
        if m.id in USE_QUESTIONS:
            assert m.affects == ("ALERT-CHEMO-BEFORE-MTOR",)
            assert not m.meanwhile.startswith("The mTOR inhibitor stays")
            assert "alert" in m.would_change


ANTHRACYCLINE_QUESTIONS = ("MISS-ANTHRACYCLINE-PROGRESSION",
                           "MISS-ANTHRACYCLINE-ADJUVANT-RELAPSE",
                           "MISS-ANTHRACYCLINE-INTOLERANCE", "MISS-IFOSFAMIDE-PROGRESSION",
                           "MISS-MTOR-PROGRESSION", "MISS-MTOR-ADJUVANT-RELAPSE",
                           *USE_QUESTIONS)
ANTHRACYCLINE_LINES = {
    "doxorubicin progressed": [{"agent": "doxorubicin", "setting": "advanced",
                                "started_on": "2025-10-01", "progressed": "yes"}],
    "doxorubicin outcome unknown": [{"agent": "doxorubicin", "setting": "advanced",
                                     "started_on": "2025-10-01"}],
    "adjuvant doxorubicin outcome unknown": [{"agent": "doxorubicin", "setting": "adjuvant",
                                              "started_on": "2024-06-01"}],
    "epirubicin with ifosfamide progressed": [{"agent": "epirubicin_ifosfamide",
                                               "setting": "advanced",
                                               "started_on": "2025-10-01",
                                               "progressed": "yes"}],
    "everolimus then doxorubicin progressed": [
        {"agent": "everolimus", "setting": "advanced", "line": 1,
         "started_on": "2025-10-01", "progressed": "yes"},
        {"agent": "doxorubicin", "setting": "advanced", "line": 2,
         "started_on": "2026-02-01", "progressed": "yes"}],
}


@pytest.mark.parametrize("site", SITES)
@pytest.mark.parametrize(("available", "contraindicated"),
                         [("no", None), (None, "yes"), ("yes", "no"), (None, None)])
@pytest.mark.parametrize("name", list(ANTHRACYCLINE_LINES))
def test_anthracycline_and_mtor_questions_each_hold_an_item_shown(
        name: str, available: str | None, contraindicated: str | None, site: str) -> None:
    """The anthracycline counterparts, and the mTOR questions beside them: whichever
    branch the advice takes (S14's option, the silence after it, the silence after an
    mTOR inhibitor), each such question asked is a condition of an item shown."""
    a = _run(_case(site, ANTHRACYCLINE_LINES[name], available, contraindicated))
    items = [*a.recommendations, *a.alerts]
    for m in a.missing:
        if m.id in ANTHRACYCLINE_QUESTIONS:
            assert any(m.id in i.conditional_on for i in items), (
                f"{m.id} asked but no item shown rests on it")
