"""A disease-free interval stated by the team is held to the same rule as one the dates
give, beside the primary's margin (S16, I5, I9).

The cases are a sarcoma oncologist's: a uterine PEComa resected on 2023-06-01, one
metachronous lung metastasis, nothing outside the lungs, resectable, complete excision
feasible; assessed on 2026-12-07.

- The primary's margin not recorded, the interval stated (30 months) instead of dated:
  the lung metastasectomy was recommended outright and the margin never asked, while the
  same facts with the interval dated waited on the margin. A resection that left gross
  tumour (R2) never made the patient free of disease (interval 0), and a stated interval
  may be counted from that resection just as the dates are: the advice must not depend
  on how the interval was entered.
- With the margin not recorded after a relapse, the critical alert said "The resection
  left gross tumour behind (R2)", a fact nobody recorded; it must say tumour may have been
  left, as it does for localized disease (I9).
- A stated 30 months beside a recorded R2 margin with no completing resection: the
  derived facts showed "30 months (stated)" while S16's item used 0, silently. The case
  was then refused, but that was too strong: the gross tumour left may have been cleared
  without a resection (radiotherapy, systemic treatment), which the case format cannot
  record, and the refusal steered users to state 0 (S16 "not met", wrong for such a
  patient). The stated interval is now accepted and shown, one value in the derived facts
  and in S16's item, never taken as met while what cleared the tumour is not recorded:
  S16 waits on that question (MISS-GROSS-RESIDUE-CLEARED), the safer branch.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
SCENARIOS = Path(__file__).parent / "scenarios"
DFI = "derived.disease_free_interval_months"
MARGIN_ASKED = "MISS-PRIMARY-MARGIN"
S16_IDS = {"REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING",
           "REC-LUNG-METASTASECTOMY-NOT-MET", "REC-LUNG-METASTASECTOMY-NOT-POSSIBLE"}

#: The reported case: the interval stated, the lung metastasis undated, the margin
#: recorded as unknown.
STATED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "prior_diagnosis": "unknown"},
    "tumour": {"primary_site": "uterus"},
    "histology": {"necrosis": "unknown"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                             "desmin": "positive"},
    "stage": {"status": "metastatic",
              "metastases": [{"site": "lung", "timing": "metachronous"}],
              "disease_free_interval_months": 30,
              "extrapulmonary_disease": "no", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": "2023-06-01", "margin": "unknown"},
    "systemic": {"mtor_inhibitor_available": "yes",
                 "mtor_inhibitor_contraindicated": "no"},
}


def _case(margin: str = "unknown", **changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(STATED)
    data["surgery"]["margin"] = margin
    data["stage"].update(changes)
    return data


def _dated(margin: str = "unknown") -> dict[str, Any]:
    """The same patient with the interval given by the dates: the metastasis found on
    2025-12-01, 30 months after the resection."""
    data = _case(margin)
    del data["stage"]["disease_free_interval_months"]
    data["stage"]["metastases"] = [{"site": "lung", "detected_on": "2025-12-01"}]
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _items(a: Assessment) -> dict[str, Item]:
    return {i.id: i for i in (*a.recommendations, *a.alerts, *a.followup)}


def _fact(item: Item, path: str) -> str:
    return next(f.value for f in item.triggered_by if f.path == path)


def _derived(a: Assessment, path: str) -> str:
    return next(f.value for f in a.derived if f.path == path)


class TestStatedIntervalWithTheMarginNotRecorded:
    @pytest.mark.parametrize("dated_surgery", [True, False], ids=["surgery-dated",
                                                                  "surgery-undated"])
    def test_metastasectomy_waits_on_the_margin(self, dated_surgery: bool) -> None:
        """Margin unknown, 30 months stated: with R2 the patient was never free of
        disease, so S16's interval is not taken as met. Expected: not recommended but
        undecided (REC-LUNG-METASTASECTOMY-PENDING), provisional on the primary's margin,
        which is asked and names S16 among what it changes; the interval is said as
        holding only if no gross tumour was left."""
        data = _case()
        if not dated_surgery:
            del data["surgery"]["date"]
        a = _assess(data)
        items = _items(a)
        assert "REC-LUNG-METASTASECTOMY" not in items
        pending = items["REC-LUNG-METASTASECTOMY-PENDING"]
        assert MARGIN_ASKED in pending.conditional_on
        assert _fact(pending, "surgery.margin") == "unknown"
        assert _fact(pending, DFI).startswith(
            "30 months (stated) if the resection of the primary left no gross tumour")
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert "REC-LUNG-METASTASECTOMY" in asked.affects
        # S17's removal of every focus whenever possible still stands meanwhile
        assert "REC-AGGRESSIVE-SURGERY" in items

    def test_same_advice_whether_the_interval_is_stated_or_dated(self) -> None:
        """The same facts give the same S16 decision and the same question whichever way
        the interval was entered."""
        stated, dated = _assess(_case()), _assess(_dated())
        assert set(_items(stated)) & S16_IDS == set(_items(dated)) & S16_IDS \
            == {"REC-LUNG-METASTASECTOMY-PENDING"}
        assert MARGIN_ASKED in {m.id for m in stated.missing} & {m.id for m in dated.missing}

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain"])
    def test_controls_no_gross_tumour_left(self, margin: str) -> None:
        """Controls: a margin that left no gross tumour (R0; R1 or uncertain, what may be
        left is microscopic): the stated 30 months meet S16 with the other criteria, the
        metastasectomy is recommended, and the margin is not asked."""
        a = _assess(_case(margin))
        rec = _items(a)["REC-LUNG-METASTASECTOMY"]
        assert rec.conditional_on == ()
        assert _fact(rec, DFI) == "30 months (stated)"
        assert MARGIN_ASKED not in {m.id for m in a.missing}

    def test_stated_interval_under_a_year_is_not_met_either_way(self) -> None:
        """Control: 8 months stated is short of S16's year whatever the margin (R2 would
        make it 0): S16 is not met and does not wait on the margin."""
        a = _assess(_case(disease_free_interval_months=8))
        items = _items(a)
        assert items["REC-LUNG-METASTASECTOMY-NOT-MET"].conditional_on == ()
        asked = next(m for m in a.missing if m.id == MARGIN_ASKED)
        assert "REC-LUNG-METASTASECTOMY" not in asked.affects


class TestResidualAlertWithTheMarginNotRecorded:
    @pytest.mark.parametrize("data", [pytest.param(_dated(), id="dated"),
                                      pytest.param(_case(), id="stated")])
    def test_says_tumour_may_have_been_left(self, data: dict[str, Any]) -> None:
        """Metastatic disease (malignant for S27, I9), the primary's margin not recorded.
        Expected: the critical alert, kept as the safer branch and provisional on the
        margin, saying tumour may have been left, as for localized disease with the
        margin not recorded; never "the resection left gross tumour behind (R2)"."""
        a = _assess(data)
        items = _items(a)
        assert "ALERT-GROSS-RESIDUAL" not in items
        alert = items["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical"
        assert alert.title == "Malignant tumour may have been left behind"
        assert "may have been left" in alert.text
        assert "left gross tumour behind" not in alert.text
        assert alert.conditional_on == (MARGIN_ASKED,)
        assert _fact(alert, "surgery.margin") == "unknown"

    def test_r2_recorded_still_says_gross_tumour_was_left(self) -> None:
        """Control: an R2 margin recorded (the interval dated) keeps the alert that gross
        tumour was left, as a fact, with nothing asked."""
        a = _assess(_dated("R2"))
        alert = _items(a)["ALERT-GROSS-RESIDUAL"]
        assert alert.level == "critical"
        assert "left gross tumour behind (R2)" in alert.text
        assert alert.conditional_on == ()


CLEARED_ASKED = "MISS-GROSS-RESIDUE-CLEARED"
# (a completing resection, or the clearance of the tumour left, recorded with its day,
# answers it: the text says how each is recorded)
NOT_TAKEN_AS_MET = ("30 months (stated; the resection of the primary left gross tumour (R2) "
                    "and neither a resection that removed it nor its clearance is "
                    "recorded: not taken as met; a completing resection, if there was one, "
                    "is recorded as the surgery's completion, tumour cleared otherwise "
                    "(radiotherapy, an ablation, systemic treatment) as the gross residue "
                    "cleared, with its day, I5)")


class TestStatedIntervalBesideGrossTumourLeft:
    def test_accepted_and_s16_waits_on_what_cleared_the_tumour(self) -> None:
        """30 months stated beside an R2 margin and no completing resection. The tumour
        left may have been cleared by radiotherapy or systemic treatment, which the case
        cannot record, so the case is accepted (it had been refused, and its message
        steered to stating 0, which makes S16 'not met'). Expected: S16 neither met nor
        not met but pending (REC-LUNG-METASTASECTOMY-PENDING) on the question what
        removed or cleared the residual tumour, and when, that question naming S16 and
        the stated 30 months; the interval shown as stated, with why it is not taken as
        met, the same value in the derived facts and in S16's item; the R2 margin among
        the item's facts."""
        a = _assess(_case("R2"))
        items = _items(a)
        assert not set(items) & {"REC-LUNG-METASTASECTOMY",
                                 "REC-LUNG-METASTASECTOMY-NOT-MET",
                                 "REC-LUNG-METASTASECTOMY-NOT-POSSIBLE"}
        pending = items["REC-LUNG-METASTASECTOMY-PENDING"]
        assert pending.conditional_on == (CLEARED_ASKED,)
        assert _fact(pending, "surgery.margin") == "R2"
        assert _fact(pending, DFI) == NOT_TAKEN_AS_MET
        assert _derived(a, DFI) == NOT_TAKEN_AS_MET
        asked = next(m for m in a.missing if m.id == CLEARED_ASKED)
        assert "REC-LUNG-METASTASECTOMY" in asked.affects
        assert "what removed or cleared the residual tumour" in asked.question
        assert asked.question.endswith(
            "Asked of: the disease-free interval stated, 30 months.")
        assert "radiotherapy" in asked.would_change
        assert "not taken as meeting S16's interval criterion" in asked.meanwhile
        # the margin is recorded (R2): it is not asked; the residual alert stays
        assert MARGIN_ASKED not in {m.id for m in a.missing}
        assert "ALERT-GROSS-RESIDUAL" in items

    def test_completion_that_left_r2_again_waits_too(self) -> None:
        """A completing resection that left R2 again, 30 months stated: the same reading,
        the completion's margin among the facts."""
        data = _case("R2")
        data["surgery"]["completion"] = {"date": "2023-08-01", "margin": "R2"}
        a = _assess(data)
        pending = _items(a)["REC-LUNG-METASTASECTOMY-PENDING"]
        assert pending.conditional_on == (CLEARED_ASKED,)
        assert _fact(pending, "surgery.completion.margin") == "R2"
        assert _fact(pending, DFI) == NOT_TAKEN_AS_MET

    def test_stated_interval_short_of_a_year_is_not_met_either_way(self) -> None:
        """8 months stated beside R2: under S16's 12 months whether or not the tumour was
        cleared (0 if not). Expected: S16 not met, nothing asked of it, the stated value
        shown with the R2 margin."""
        a = _assess(_case("R2", disease_free_interval_months=8))
        item = _items(a)["REC-LUNG-METASTASECTOMY-NOT-MET"]
        assert item.conditional_on == ()
        assert _fact(item, DFI).startswith("8 months (stated; the resection of the primary "
                                           "left gross tumour (R2)")
        assert "short of S16's interval either way" in _fact(item, DFI)
        assert _derived(a, DFI) == _fact(item, DFI)
        assert CLEARED_ASKED not in {m.id for m in a.missing}

    def test_registry_row_of_the_review_is_accepted(self) -> None:
        """The scenario lung-metastasis-after-r2-resection with 12 months stated (a
        retroperitoneal primary resected R2 on 2024-02-01, a lung metastasis found on
        2025-06-01): it could be neither imported nor reassessed. Expected: accepted,
        S16 pending on what cleared the tumour, 12 months shown as stated."""
        data = json.loads((SCENARIOS / "lung-metastasis-after-r2-resection"
                           / "case.json").read_text())
        data["stage"]["disease_free_interval_months"] = 12
        a = _assess(data)
        pending = _items(a)["REC-LUNG-METASTASECTOMY-PENDING"]
        assert CLEARED_ASKED in pending.conditional_on
        assert _fact(pending, DFI).startswith("12 months (stated;")

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain"])
    def test_completion_that_removed_the_tumour_is_accepted(self, margin: str) -> None:
        """Control: a completing resection that left no gross tumour: the interval may
        count from it; accepted and used (S16 met)."""
        data = _case("R2")
        data["surgery"]["completion"] = {"date": "2023-08-01", "margin": margin}
        a = _assess(data)
        assert _fact(_items(a)["REC-LUNG-METASTASECTOMY"], DFI) == "30 months (stated)"

    @pytest.mark.parametrize("data", [
        pytest.param(_case("R2", disease_free_interval_months=0), id="stated-0"),
        pytest.param(_dated("R2"), id="dated-30-months"),
    ])
    def test_one_value_for_the_interval(self, data: dict[str, Any]) -> None:
        """R2 with a stated 0 (accepted), or with dates that would give 30 months: the
        interval is 0, the patient never free of disease, and the derived facts say the
        same value as S16's item (before, the derived facts showed the 30 months the
        dates give while S16 used 0)."""
        a = _assess(data)
        item = _items(a)["REC-LUNG-METASTASECTOMY-NOT-MET"]
        never_free = "0 (gross tumour left by the resection: never free of disease)"
        assert _fact(item, DFI) == never_free
        assert _derived(a, DFI) == never_free
