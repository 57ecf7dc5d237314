"""A later line of a class the disease progressed on, its own outcome not recorded.

Metastatic retroperitoneal PEComa. Either the disease progressed on an mTOR inhibitor
and a later mTOR-inhibitor line follows, or (mTOR inhibitors contraindicated) it
progressed on doxorubicin and a later anthracycline line follows (doxorubicin with
ifosfamide, epirubicin, epirubicin with ifosfamide). Whether the disease progressed on
that later line is not recorded.

The guideline names no line after progression on an mTOR inhibitor, nor after
progression on anthracycline-based chemotherapy where mTOR inhibitors cannot be used
(S12-S14, S28), and the progression on the earlier line stands whatever line of the
class came after (the class taken as one, I15; a second anthracycline course, I26). So:
- the guideline's silence after progression is said whatever the later line's outcome;
  the answer only decides whether that line is named beside it as the treatment under
  way (I19). The silence is therefore not provisional on the question (it had been, for
  both classes, though no answer could change it);
- the question is still asked (the team should know whether the line under way is
  working), naming the line, and its would_change and meanwhile say exactly that: the
  silence stays either way. For the anthracyclines it had said the silence would then
  "not be the advice at hand", which the rule made false.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

ON = dt.date(2026, 12, 7)
ASKED = "MISS-LATEST-LINE-PROGRESSION"

#: (earlier agent progressed on, later agent, silence item, derived fact of the line
#: under way, mTOR inhibitor contraindicated)
CLASSES: dict[str, tuple[str, str, str, str, bool]] = {
    "sirolimus then everolimus": ("sirolimus", "everolimus", "REC-NO-NEXT-LINE",
                                  "derived.mtor_after_progression", False),
    "everolimus then nab-sirolimus": ("everolimus", "nab_sirolimus", "REC-NO-NEXT-LINE",
                                      "derived.mtor_after_progression", False),
    "doxorubicin then doxorubicin with ifosfamide": (
        "doxorubicin", "doxorubicin_ifosfamide", "REC-NO-LINE-AFTER-ANTHRACYCLINE",
        "derived.anthracycline_after_progression", True),
    "doxorubicin then epirubicin": (
        "doxorubicin", "epirubicin", "REC-NO-LINE-AFTER-ANTHRACYCLINE",
        "derived.anthracycline_after_progression", True),
    "doxorubicin then epirubicin with ifosfamide": (
        "doxorubicin", "epirubicin_ifosfamide", "REC-NO-LINE-AFTER-ANTHRACYCLINE",
        "derived.anthracycline_after_progression", True),
}


def patient(kind: str, latest: str | None) -> dict[str, Any]:
    first, second, _silence, _derived, blocked = CLASSES[kind]
    line2: dict[str, Any] = {"agent": second, "line": 2, "setting": "advanced",
                             "started_on": "2025-09-01"}
    if latest is not None:
        line2["progressed"] = latest
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "retroperitoneum", "size": {"value": 12, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "desmin": "negative",
                                 "tfe3": "negative"},
        "stage": {"status": "metastatic",
                  "metastases": [{"site": "lung", "detected_on": "2025-01-01"},
                                 {"site": "liver", "detected_on": "2025-01-01"}],
                  "extrapulmonary_disease": "yes", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "performed", "date": "2023-02-01", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": "yes" if blocked else "no",
                     "therapies": [
                         {"agent": first, "line": 1, "setting": "advanced",
                          "started_on": "2025-02-01", "progressed": "yes"},
                         line2]},
    }


def run(kind: str, latest: str | None) -> Assessment:
    return assess(parse_case(patient(kind, latest)), ON)


@pytest.mark.parametrize("kind", list(CLASSES))
def test_asked_naming_the_line_and_saying_the_silence_stays(kind: str) -> None:
    _first, second, silence, _derived, _blocked = CLASSES[kind]
    a = run(kind, None)
    miss = {m.id: m for m in a.missing}[ASKED]
    assert second.replace("_", " with " if "_ifosfamide" in second else "-") in miss.question
    assert silence in miss.affects
    assert "not the advice at hand" not in miss.would_change
    assert "stays" in miss.would_change and "under way" in miss.would_change
    assert "provisional" not in miss.meanwhile


@pytest.mark.parametrize("kind", list(CLASSES))
def test_the_silence_is_not_provisional_on_it(kind: str) -> None:
    silence = CLASSES[kind][2]
    a = run(kind, None)
    assert all(ASKED not in i.conditional_on for i in a.items())
    assert silence in {i.id for i in a.recommendations}


@pytest.mark.parametrize("kind", list(CLASSES))
def test_no_answer_changes_an_item_only_the_line_under_way(kind: str) -> None:
    """unknown, not progressed, progressed: the same items with the same conditions;
    'not progressed' alone names the line as the treatment under way."""
    derived = CLASSES[kind][3]
    got = {v: run(kind, v) for v in (None, "no", "yes")}
    shown = {v: {i.id: i.conditional_on for i in a.items()} for v, a in got.items()}
    assert shown[None] == shown["no"] == shown["yes"]
    silence = CLASSES[kind][2]

    def named(a: Assessment) -> bool:
        item = {i.id: i for i in a.recommendations}[silence]
        return any(f.path == derived for f in item.triggered_by)

    assert named(got["no"]) and not named(got["yes"]) and not named(got[None])
    assert ASKED not in {m.id for m in got["no"].missing}
    assert ASKED not in {m.id for m in got["yes"].missing}
