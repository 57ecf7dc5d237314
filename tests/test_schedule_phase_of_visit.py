"""The phase a surveillance visit is labelled with: the one its due date falls in, as the
plan's phase table spans them (S18-S20, I2, I3, I4). Dates are not moved: each visit is
due the interval of the phase in force when its period started after the visit or scan it
counts from (a late scan of year 3 is followed 3 months later, never later than that);
a visit so dated past that phase's end is the next phase's visit, says which interval
dated it (``Visit.interval_from``), and the visits after it follow its phase's interval.
Before, such a visit kept the intensive label in year 4 while the phase table of the
same plan ended that phase at year 3."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pecoma import assess, parse_case
from pecoma.dates import add_months
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.model import to_jsonable
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.render.schedule import plan_rows
from pecoma.settings import FollowupSettings, Settings, default_settings

NED = ScanFinding.no_evidence_of_disease
SURGERY = dt.date(2023, 1, 31)  # intensive phase to 2026-01-31, six-monthly to 2028-01-31


def _case(risk: str, surgery: dt.date = SURGERY) -> Any:
    # high: larger than 5 cm (S06), otherwise without a high-risk feature; low: 3 cm
    return parse_case({
        "diagnosis": {"method": "histology_with_ihc"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "tumour": {"primary_site": "retroperitoneum",
                   "size": {"value": 5.1 if risk == "high" else 3, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": surgery.isoformat(), "margin": "R0"},
    })


def _plan(risk: str, on: dt.date, scans: list[dt.date] | None,
          conf: Settings | None = None, surgery: dt.date = SURGERY) -> SurveillancePlan:
    conf = conf or default_settings()
    case = _case(risk, surgery)
    imaging = None if scans is None else tuple(
        ImagingEvent(day, modality, NED)
        for day in scans for modality in (Modality.chest_ct, Modality.mri_primary))
    return plan_surveillance(case, assess(case, on, conf), on, imaging, conf)


def _d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


Row = tuple[int, str, str, str, str | None]


def _rows(plan: SurveillancePlan, first: int, last: int) -> list[Row]:
    """(number, phase, due, overdue after, the earlier phase whose interval dated it)."""
    return [(v.index, v.phase, v.due.isoformat(), v.latest.isoformat(), v.interval_from)
            for v in plan.visits if first <= v.index <= last]


def _conf(**followup: Any) -> Settings:
    values = {**default_settings().followup.model_dump(), **followup}
    return default_settings().model_copy(
        update={"followup": FollowupSettings.model_validate(values)})


def _assert_each_visit_in_its_phase(plan: SurveillancePlan) -> None:
    """Every visit, open, done, missed or cancelled, is due within the span the plan's
    phase table gives its phase (after it starts, on or before the day it ends), and one
    dated with an earlier phase's interval names that phase."""
    spans = {p.id: (p.starts, p.ends) for p in plan.phases}
    order = [p.id for p in plan.phases]
    for v in (*plan.visits, *plan.cancelled):
        starts, ends = spans[v.phase]
        assert starts < v.due and (ends is None or v.due <= ends), (v.index, v.phase, v.due)
        if v.interval_from is not None:
            assert order.index(v.interval_from) < order.index(v.phase), v.index


class TestTheReportedCase:
    SCANS = ("2023-05-29", "2023-09-24", "2024-01-20", "2024-05-17", "2024-09-12",
             "2025-01-08", "2025-05-06", "2025-09-01")

    def test_visit_10_keeps_its_date_and_is_six_monthly(self) -> None:
        """High risk, surgery 2023-01-31; scans every ~118 days within their windows, the
        last 2025-09-01. #9 counts from it: due 2025-12-01 (3 months, intensive: the
        period starts on the scan, in year 3), overdue after 2026-01-01, not done.
        #10: the period from 2025-12-01 starts in year 3, so 3 months on, 2026-03-01
        (kept, the earlier scan), overdue after 2026-04-01; that date is after the
        intensive phase's end (2026-01-31): the six-monthly phase's first visit (S19),
        dated with the intensive interval. #11 six months after #10, 2026-09-01;
        #12 2027-03-01; #13 2027-09-01, still before 2028-01-31, so 6 months on, 2028-03-01,
        overdue after 2028-04-01 (7 months), is in year 6: yearly (S20), dated with the
        six-monthly interval; #15 12 months later, 2029-03-01."""
        plan = _plan("high", _d("2026-03-01"), [_d(s) for s in self.SCANS])
        assert [v.status for v in plan.visits[:8]] == ["done"] * 8
        assert _rows(plan, 9, 15) == [
            (9, "high-intensive", "2025-12-01", "2026-01-01", None),
            (10, "high-middle", "2026-03-01", "2026-04-01", "high-intensive"),
            (11, "high-middle", "2026-09-01", "2026-10-01", None),
            (12, "high-middle", "2027-03-01", "2027-04-01", None),
            (13, "high-middle", "2027-09-01", "2027-10-01", None),
            (14, "high-yearly", "2028-03-01", "2028-04-01", "high-middle"),
            (15, "high-yearly", "2029-03-01", "2029-04-01", None),
        ]
        tenth = plan.visits[9]
        assert (tenth.status, tenth.phase_index, tenth.record) == (
            "due", 1, "FU-HIGH-SIX-MONTHLY")
        assert [(p.id, p.ends) for p in plan.phases][:2] == [
            ("high-intensive", _d("2026-01-31")), ("high-middle", _d("2028-01-31"))]
        _assert_each_visit_in_its_phase(plan)

    def test_the_plan_says_which_interval_dated_the_visit(self) -> None:
        """The visit's note (every table: terminal, Markdown, web) and the JSON field
        ``interval_from`` say that #10 was dated with the intensive phase's 3 months."""
        plan = _plan("high", _d("2026-03-01"), [_d(s) for s in self.SCANS])
        rows = plan_rows(plan)
        assert rows[9]["Phase"] == "Every 6 months up to year 5"
        assert "due 3 months on, the interval of the earlier phase" in rows[9]["Notes"]
        assert "which ended 2026-01-31" in rows[9]["Notes"]
        assert "earlier phase" not in rows[10]["Notes"]
        visits = to_jsonable(plan)["visits"]
        assert [v["interval_from"] for v in visits[8:11]] == [None, "high-intensive", None]


class TestScanOnTime:
    def test_on_time_scan_after_the_due_date_near_the_end_of_year_3(self) -> None:
        """Surgery 2023-01-31, scans on every due date to 2025-07-31 (month 30); the visit
        due 2025-10-31 is done on time on 2025-11-15 (window to 2025-11-30). The scan is
        in year 3: 3 months on, 2026-02-15, overdue after 2026-03-15, after the intensive
        phase's end: six-monthly, dated with the intensive interval. Then 6 months on,
        2026-08-15."""
        grid = [add_months(SURGERY, 3 * k) for k in range(1, 11)]
        plan = _plan("high", _d("2025-12-01"), [*grid, _d("2025-11-15")])
        assert (plan.visits[10].due, plan.visits[10].timeliness) == (_d("2025-10-31"),
                                                                     "on_time")
        assert _rows(plan, 12, 13) == [
            (12, "high-middle", "2026-02-15", "2026-03-15", "high-intensive"),
            (13, "high-middle", "2026-08-15", "2026-09-15", None),
        ]
        _assert_each_visit_in_its_phase(plan)

    def test_on_the_grid_the_last_day_of_year_3_is_intensive(self) -> None:
        """The same on the grid (scan on 2025-10-31): the 12th intensive visit is due on
        the intensive phase's last day, 2026-01-31 (overdue after 2026-02-28), and is
        that phase's; the period starting that day is six-monthly: 2026-07-31. No label
        changes on the grid."""
        grid = [add_months(SURGERY, 3 * k) for k in range(1, 12)]
        plan = _plan("high", _d("2025-12-01"), grid)
        assert _rows(plan, 12, 13) == [
            (12, "high-intensive", "2026-01-31", "2026-02-28", None),
            (13, "high-middle", "2026-07-31", "2026-08-31", None),
        ]
        assert plan.visits[11].phase_index == 12


class TestLateScansAcrossPhaseEnds:
    """A late scan re-anchors the plan: the next visit is due the interval of the phase
    in force on the scan's day after it (never later), labelled with the phase its due
    date falls in; the one after follows that phase's interval."""

    @pytest.mark.parametrize(
        ("label", "risk", "conf", "grid", "late", "expected"),
        [
            # high risk, year 3: the visit due 2025-10-31 (window to 2025-11-30) done late
            # on 2025-12-05, in year 3: 3 months on, 2026-03-05 (overdue after
            # 2026-04-05), after 2026-01-31: six-monthly; then 2026-09-05
            ("high year 3", "high", {}, [3 * k for k in range(1, 11)], "2025-12-05",
             [("high-middle", "2026-03-05", "2026-04-05", "high-intensive"),
              ("high-middle", "2026-09-05", "2026-10-05", None)]),
            # high risk, year 5: on the grid to month 48 (2027-01-31); the visit due
            # 2027-07-31 (window to 2027-08-31) done late on 2027-09-10, in year 5: 6
            # months on, 2028-03-10 (overdue after 2028-04-10), after 2028-01-31: yearly;
            # then 2029-03-10 (overdue after 13 months, 2029-04-10)
            ("high year 5", "high", {}, [*(3 * k for k in range(1, 13)), 42, 48],
             "2027-09-10",
             [("high-yearly", "2028-03-10", "2028-04-10", "high-middle"),
              ("high-yearly", "2029-03-10", "2029-04-10", None)]),
            # low risk (I3: every 4 months, overdue after 6, for 3 years): on the grid to
            # month 28 (2025-05-31); the visit due 2025-09-30 (window to 2025-11-30) done
            # late on 2025-12-10: 4 months on, 2026-04-10 (overdue after 2026-06-10),
            # after 2026-01-31: yearly; then 2027-04-10 (overdue after 2027-05-10)
            ("low year 3", "low", {}, [4 * k for k in range(1, 8)], "2025-12-10",
             [("low-yearly", "2026-04-10", "2026-06-10", "low-frequent"),
              ("low-yearly", "2027-04-10", "2027-05-10", None)]),
            # low risk 6-monthly for 5 years: on the grid to month 48 (2027-01-31); the
            # visit due 2027-07-31 (overdue after 6: a window of one day) done late on
            # 2027-08-20: 6 months on, 2028-02-20, after 2028-01-31: yearly; then
            # 2029-02-20 (overdue after 2029-03-20)
            ("low year 5", "low", {"low_due_months": 6, "low_overdue_months": 6,
                                   "low_frequent_years": 5},
             [6 * k for k in range(1, 9)], "2027-08-20",
             [("low-yearly", "2028-02-20", "2028-02-20", "low-frequent"),
              ("low-yearly", "2029-02-20", "2029-03-20", None)]),
        ],
    )
    def test_the_visit_after_a_late_scan(
        self, label: str, risk: str, conf: dict[str, int], grid: list[int], late: str,
        expected: list[tuple[str, str, str, str | None]],
    ) -> None:
        scans = [add_months(SURGERY, m) for m in grid] + [_d(late)]
        plan = _plan(risk, _d(late) + dt.timedelta(days=1), scans, _conf(**conf))
        done = [v for v in plan.visits if v.status == "done"]
        assert len(done) == len(scans), label
        assert done[-1].timeliness == "late", label
        following = plan.visits[len(done):len(done) + 2]
        assert [v.counted_from for v in following] == [_d(late)] * 2, label
        assert [(v.phase, v.due.isoformat(), v.latest.isoformat(), v.interval_from)
                for v in following] == expected, label
        _assert_each_visit_in_its_phase(plan)


class TestNoScanHistory:
    def test_a_visit_put_on_the_last_day_of_year_3_is_intensive(self) -> None:
        """Without a scan history (I13) the next visit is put on the evaluation date:
        2026-01-31 is the intensive phase's last day, so it is intensive (overdue after
        2026-02-28, one month); it has no interval to name. The next, the period from the
        phase's end being six-monthly, is 6 months on: 2026-07-31."""
        plan = _plan("high", _d("2026-01-31"), None)
        assert _rows(plan, 1, 2) == [
            (1, "high-intensive", "2026-01-31", "2026-02-28", None),
            (2, "high-middle", "2026-07-31", "2026-08-31", None),
        ]
        _assert_each_visit_in_its_phase(plan)


    def test_low_risk_last_day_of_the_four_monthly_phase(self) -> None:
        """Low risk (I3: every 4 months, overdue after 6, for 3 years), operated on
        2023-03-15, no scan history, evaluated 2026-03-15: the 4-monthly phase's last day.
        The visit due that day is that phase's last visit (a visit due on the day a phase
        ends is that phase's), so its window is that phase's too: overdue after
        2026-05-15, two months, as on the grid's visit due that day (2025-11-15 + 4
        months). Before, it was labelled 4-monthly but given the yearly window (overdue
        after 2026-04-15). The period counted from it starts when the 4-monthly phase
        is over: the next visit is yearly, 2027-03-15 (overdue after 2027-04-15)."""
        surgery = _d("2023-03-15")
        plan = _plan("low", surgery + dt.timedelta(days=1096), None, surgery=surgery)
        assert plan.evaluated_on == _d("2026-03-15")
        assert _rows(plan, 1, 2) == [
            (1, "low-frequent", "2026-03-15", "2026-05-15", None),
            (2, "low-yearly", "2027-03-15", "2027-04-15", None),
        ]
        assert plan.visits[0].provenance == plan.phases[0].item.provenance
        # the same visit on the grid of a full scan history: the same window
        grid = [add_months(surgery, 4 * k) for k in range(1, 9)]  # to 2025-11-15
        on_grid = _plan("low", _d("2026-03-15"), grid, surgery=surgery)
        assert _rows(on_grid, 9, 10) == [
            (9, "low-frequent", "2026-03-15", "2026-05-15", None),
            (10, "low-yearly", "2027-03-15", "2027-04-15", None),
        ]
        _assert_each_visit_in_its_phase(plan)

    @pytest.mark.parametrize("risk", ["high", "low"])
    @pytest.mark.parametrize("days", range(1080, 1110))
    def test_the_window_is_the_labelled_phase_s(self, risk: str, days: int) -> None:
        """Whatever the evaluation date about the end of the first phase, the visit put
        on it (I13) has the window of the phase it is labelled with (overdue after the
        phase's overdue months less its interval), so label, source and window agree."""
        plan = _plan(risk, SURGERY + dt.timedelta(days=days), None)
        first = plan.visits[0]
        phase = next(p for p in plan.phases if p.id == first.phase)
        assert first.due == plan.evaluated_on
        assert first.latest == add_months(first.due,
                                          phase.overdue_months - phase.interval_months)
        assert first.provenance == phase.item.provenance


class TestSettingsCountAsThePlanDates:
    @pytest.mark.parametrize("low_years", [3, 4])
    def test_low_risk_five_monthly(self, low_years: int) -> None:
        """Low risk every 5 months (I3 allows 4-6), which divides neither 3 nor 4 years:
        the last period starting in the frequent phase starts at month 35 (or 45) and
        gives a visit at month 40 (or 50), after the phase's end: a yearly visit dated 5
        months on; then yearly, month 52 (or 62). The S23 check
        (``interval_in_force``, visits per year) counts the months the plan dates."""
        conf = _conf(low_due_months=5, low_overdue_months=6, low_frequent_years=low_years)
        last = 12 * low_years - 1 - (12 * low_years - 1) % 5  # 35 or 45
        assert conf.followup.interval_in_force("low", last) == 5
        assert conf.followup.interval_in_force("low", last + 5) == 12
        anchor = _d("2020-03-15")
        plan = _plan("low", anchor, [], conf, surgery=anchor)
        months = []
        month = 0
        while (month := month + conf.followup.interval_in_force("low", month)) <= 120:
            months.append(month)
        assert [v.due for v in plan.visits] == [add_months(anchor, m) for m in months]
        labels = {m: (v.phase, v.interval_from) for m, v in zip(months, plan.visits,
                                                                  strict=True)}
        assert labels[last] == ("low-frequent", None)
        assert labels[last + 5] == ("low-yearly", "low-frequent")
        assert labels[last + 17] == ("low-yearly", None)
        _assert_each_visit_in_its_phase(plan)


@st.composite
def _histories(draw: st.DrawFn) -> tuple[str, dt.date, list[dt.date], dt.date]:
    risk = draw(st.sampled_from(["high", "low"]))
    anchor = draw(st.dates(min_value=dt.date(2012, 1, 1), max_value=dt.date(2022, 12, 31)))
    day, scans = anchor, []
    for gap in draw(st.lists(st.integers(60, 400), max_size=14)):
        day = day + dt.timedelta(days=gap)
        scans.append(day)
    return risk, anchor, scans, day + dt.timedelta(days=draw(st.integers(1, 400)))


class TestEveryVisitInItsPhase:
    @given(history=_histories())
    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_any_scan_history(self, history: tuple[str, dt.date, list[dt.date],
                                                   dt.date]) -> None:
        """Whatever the scans (early, on time, late, missed visits), every visit of the
        plan is labelled with the phase its due date falls in, as the plan's own phase
        table spans them."""
        risk, anchor, scans, on = history
        _assert_each_visit_in_its_phase(_plan(risk, on, scans, surgery=anchor))
