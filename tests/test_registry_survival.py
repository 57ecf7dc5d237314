"""Survival: the estimates checked against published textbook values, then the registry's
cohort rules (who is counted, from when, to what), suppression of small cells, and the
command line and summary page."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.survival import (
    Endpoint,
    Grouping,
    Subject,
    analyse,
    survival_report,
    to_figure,
    to_json,
    to_text,
)
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, empty_db_url, high_risk, low_risk, metastatic, repo

__all__ = ["db_url", "empty_db_url", "repo"]

DATA = Path(__file__).parent / "data" / "survival" / "freireich-6mp.csv"


def freireich() -> list[Subject]:
    with DATA.open(encoding="utf-8") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        return [Subject(f"F{i}", r["group"], float(r["weeks"]), r["event"] == "1")
                for i, r in enumerate(rows)]


class TestTextbookEstimates:
    """Freireich's 6-MP remission data: values printed in survival textbooks
    (Kleinbaum & Klein, Survival Analysis, 3rd ed., ch. 2; Klein & Moeschberger)."""

    @pytest.fixture(scope="class")
    def report(self) -> object:
        return analyse(freireich(), Endpoint.rfs, Grouping.risk, ON, min_cell=5)

    def curve(self, report: object, group: str) -> object:
        return next(c for c in report.curves if c.group == group)  # type: ignore[attr-defined]

    def test_product_limit_estimates_of_the_6mp_group(self, report: object) -> None:
        """S(t) at the 6-MP relapse times: 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448."""
        c = self.curve(report, "6-MP")
        got = {t: s for t, s in zip(c.times, c.survival, strict=True)}  # type: ignore[attr-defined]
        for t, s in {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538,
                     23: 0.448}.items():
            assert got[t] == pytest.approx(s, abs=5e-4), t

    def test_log_log_confidence_interval(self, report: object) -> None:
        """At 6 weeks: 0.857, Greenwood SE 0.0764, 95 % CI 0.620-0.952 (log(-log)
        transform, as printed for this data set); at 23 weeks recomputed by hand."""
        c = self.curve(report, "6-MP")
        i = c.times.index(6.0)  # type: ignore[attr-defined]
        assert c.lower[i] == pytest.approx(0.620, abs=1e-3)  # type: ignore[attr-defined]
        assert c.upper[i] == pytest.approx(0.952, abs=1e-3)  # type: ignore[attr-defined]
        # by hand at 23 weeks: Greenwood sum over the relapse times (n at risk, d relapses)
        s = 0.448
        risk = [(21, 3), (17, 1), (15, 1), (12, 1), (11, 1), (7, 1), (6, 1)]
        exact = math.prod((n - d) / n for n, d in risk)
        var = sum(d / (n * (n - d)) for n, d in risk)  # of log S
        half = 1.959964 * math.sqrt(var) / abs(math.log(exact))
        lo, hi = exact ** math.exp(half), exact ** math.exp(-half)
        assert exact == pytest.approx(s, abs=5e-4)
        j = c.times.index(23.0)  # type: ignore[attr-defined]
        assert c.lower[j] == pytest.approx(lo, abs=1e-6)  # type: ignore[attr-defined]
        assert c.upper[j] == pytest.approx(hi, abs=1e-6)  # type: ignore[attr-defined]

    def test_medians(self, report: object) -> None:
        """Median remission: 23 weeks on 6-MP, 8 weeks on placebo."""
        assert self.curve(report, "6-MP").median == 23  # type: ignore[attr-defined]
        assert self.curve(report, "placebo").median == 8  # type: ignore[attr-defined]

    def test_log_rank(self, report: object) -> None:
        """Log-rank chi-square 16.79 on 1 df, p = 0.00004 (Kleinbaum & Klein, ch. 2)."""
        lr = report.log_rank  # type: ignore[attr-defined]
        assert lr.statistic == pytest.approx(16.79, abs=0.01)
        assert lr.df == 1
        assert lr.p_value == pytest.approx(4.17e-5, rel=0.01)

    def test_numbers_at_risk(self, report: object) -> None:
        """Still in remission (at risk) at 1, 3, 5 and 10 (here weeks): counted by hand."""
        assert [h.at_risk for h in self.curve(report, "6-MP").horizons] == [  # type: ignore[attr-defined]
            21, 21, 21, 15]
        assert [h.at_risk for h in self.curve(report, "placebo").horizons] == [  # type: ignore[attr-defined]
            21, 17, 14, 8]

    def test_median_follow_up_is_reverse_km(self, report: object) -> None:
        """6-MP, censoring taken as the event, by hand: 20/21 at 6, x15/16 at 9, x14/15 at
        10, x12/13 at 11, x9/10 at 17, x8/9 at 19, x7/8 at 20 (0.538), x4/5 at 25 (0.431):
        the median follow-up is 25 weeks."""
        assert self.curve(report, "6-MP").median_follow_up == 25  # type: ignore[attr-defined]
        # placebo: nobody censored, the reverse curve never drops: not estimable
        assert self.curve(report, "placebo").median_follow_up is None  # type: ignore[attr-defined]


class TestSuppression:
    def test_small_group_shows_no_estimate(self) -> None:
        """A group of 4 with threshold 5: no curve, n shown as '< 5', left out of log-rank."""
        subjects = [*freireich(), *(Subject(f"S{i}", "tiny", 3.0 + i, True) for i in range(4))]
        r = analyse(subjects, Endpoint.rfs, Grouping.risk, ON, min_cell=5)
        tiny = next(c for c in r.curves if c.group == "tiny")
        assert tiny.suppressed and tiny.times == () and tiny.median is None
        assert r.log_rank is not None and "tiny" not in r.log_rank.groups
        text = to_text(r)
        assert "tiny: n < 5: suppressed" in text
        data = json.loads(to_json(r))
        (g,) = [g for g in data["groups"] if g["group"] == "tiny"]
        assert g["n"] == "<5" and g["at"] == [] and g["curve"]["time"] == []
        # not drawn, and the figure, the text and the JSON say so
        note = "Not drawn (fewer than 5 patients, no estimate shown): tiny."
        assert r.note == note and data["note"] == note and note in text
        assert note.encode() in to_figure(r, "svg")
        # the total 42 + 4 = 46 beside the drawn groups (21 and 21, kept: their curves
        # give them away) would give the 4, so the total is the count suppressed
        c = r.cells()
        assert [c.text(k) for k in ("n", "n:6-MP", "n:placebo", "n:tiny")] == [
            "suppressed", "21", "21", "< 5"]
        assert json.loads(to_json(analyse(freireich(), Endpoint.rfs, Grouping.risk, ON,
                                          min_cell=5)))["note"] is None

    def test_small_counts_shown_as_below_threshold(self) -> None:
        r = analyse(freireich(), Endpoint.rfs, Grouping.risk, ON, min_cell=10)
        # 6-MP: 8 at risk at... none below 10 among [21, 21, 21, 15]; placebo at 10: 8
        assert "at risk < 10" in to_text(r)


class TestAnIntervalThatCannotBeComputed:
    """The Greenwood log(-log) interval is log(-log S) +- 1.96 SE: it has no value at S = 1
    (no event yet) nor at S = 0. lifelines gives 1.0-1.0 and 0.0-0.0 there, which was
    printed as "100.0 % (95 % CI 100.0–100.0)": a zero-width interval, certainty claimed
    from 6 patients at risk, when no event among 6 does not exclude a survival as low as
    61 %. The small groups of a rare tumour's registry are exactly where that misleads.
    The interval is now shown as not estimable, saying why; an estimate with events keeps
    its interval."""

    #: high: no event before 2.5 y (6 at risk at 1 y), then one at 2.5 y among 4 at risk
    #: (S 0.75) and one at 4.5 y; low: no event at 1 y, the last patient's event at 3 y (S 0)
    SUBJECTS = (
        *(Subject(f"H{i}", "high", t, e) for i, (t, e) in enumerate(
            [(1.5, False), (2.0, False), (2.5, True), (3.0, False), (4.0, False),
             (4.5, True)])),
        *(Subject(f"L{i}", "low", t, e) for i, (t, e) in enumerate(
            [(0.5, False), (1.5, True), (3.0, True)])),
    )

    @pytest.fixture(scope="class")
    def report(self) -> object:
        return analyse(self.SUBJECTS, Endpoint.os, Grouping.risk, ON, min_cell=1)

    def at(self, report: object, group: str, years: int) -> object:
        c = next(c for c in report.curves if c.group == group)  # type: ignore[attr-defined]
        return next(h for h in c.horizons if h.years == years)

    def test_no_interval_at_100_or_0_percent(self, report: object) -> None:
        h1 = self.at(report, "high", 1)
        assert (h1.survival, h1.lower, h1.upper, h1.at_risk) == (  # type: ignore[attr-defined]
            1.0, None, None, 6)
        assert h1.ci_not_estimable.startswith(  # type: ignore[attr-defined]
            "survival 100 % (no event by then)")
        l3 = self.at(report, "low", 3)
        assert (l3.survival, l3.lower, l3.upper) == (0.0, None, None)  # type: ignore[attr-defined]
        assert l3.ci_not_estimable.startswith("survival 0 %")  # type: ignore[attr-defined]
        # with an event and survivors, the interval is given: S 0.75 at 3 y (one event
        # among 4 at risk), Greenwood var(log S) 1/(4 x 3), log(-log) transform
        h3 = self.at(report, "high", 3)
        half = 1.959964 * math.sqrt(1 / 12) / abs(math.log(0.75))
        assert h3.survival == pytest.approx(0.75)  # type: ignore[attr-defined]
        assert h3.lower == pytest.approx(0.75 ** math.exp(half))  # type: ignore[attr-defined]
        assert h3.upper == pytest.approx(0.75 ** math.exp(-half))  # type: ignore[attr-defined]
        assert h3.ci_not_estimable is None  # type: ignore[attr-defined]

    def test_text_and_json_say_not_estimable(self, report: object) -> None:
        text = to_text(report)  # type: ignore[arg-type]
        assert "   1 y: 100.0 % (95 % CI not estimable), at risk 6" in text
        assert "   3 y: 0.0 % (95 % CI not estimable), at risk 1" in text
        assert "   3 y: 75.0 % (95 % CI " in text
        assert "100.0–100.0" not in text and "0.0–0.0" not in text
        assert ("95 % CI not estimable at survival 100 % (no event by then): the Greenwood "
                "log(−log) interval cannot be computed there") in text
        data = json.loads(to_json(report))  # type: ignore[arg-type]
        high = next(g for g in data["groups"] if g["group"] == "high")
        assert high["at"][0]["lower"] is None and high["at"][0]["upper"] is None
        assert high["at"][0]["ci_not_estimable"].startswith("survival 100 %")
        assert high["at"][1]["ci_not_estimable"] is None
        # the curve: no bound where the survival is 1 (it had 1.0)
        curve = high["curve"]
        assert all(lo is None and hi is None
                   for s, lo, hi in zip(curve["survival"], curve["lower"], curve["upper"],
                                        strict=True) if s == 1.0)
        assert to_figure(report, "svg").startswith(b"<?xml")  # type: ignore[arg-type]

    def test_the_pdf_table_says_not_estimable(self, report: object) -> None:
        from pecoma.registry.summary_pdf import _survival_view

        view = _survival_view(report)  # type: ignore[arg-type]
        high = next(r for r in view["rows"] if r["group"] == "high")
        assert high["at"][0]["estimate"] == "100.0 (CI not estimable)"
        assert high["at"][1]["estimate"].startswith("75.0 (")
        assert view["ci_note"].startswith("95 % CI not estimable at survival 100 %")


# --- the registry ---------------------------------------------------------------------


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def outcome(repo: Repository, rid: str, event: str, date: str, vital: str | None = None,
            found: str | None = None) -> None:
    record_outcome(repo, rid, event, date, vital, found, on_date=ON, actor="dr-a")


@pytest.fixture
def cohort(repo: Repository) -> Repository:
    """H1 resected 2025-01-10 (high), recurrence 2026-01-10, death 2026-07-10.
    H2 resected 2025-01-10 (high), last contact alive 2026-01-10.
    L1 resected 2024-03-01 (low), a scan on 2025-03-01, nothing else.
    M1 metastatic (never resected; diagnosed 2025-06-01), died 2026-06-01.
    N1 resected 2025-01-10 (high), no follow-up at all."""
    add(repo, "H1", high_risk())
    add(repo, "H2", high_risk())
    add(repo, "L1", low_risk())
    add(repo, "M1", metastatic())
    add(repo, "N1", high_risk())
    outcome(repo, "H1", "local_recurrence", "2026-01-10", found="symptoms")
    outcome(repo, "H1", "death", "2026-07-10", "dead_of_disease")
    outcome(repo, "H2", "last_contact", "2026-01-10", "alive_without_disease")
    record_scan(repo, "L1", "2025-03-01", "chest_ct", "no_evidence_of_disease", on_date=ON,
                actor="radiology")
    outcome(repo, "M1", "death", "2026-06-01", "dead_of_disease")
    return repo


def years(a: str, b: str) -> float:
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days / 365.25


class TestCohortRules:
    def test_group_is_that_of_the_localized_decision(self, cohort: Repository) -> None:
        """H1's team later records the recurrence in the case itself (status recurrent):
        that assessment's risk group is 'not applicable', yet H1 stays in the high-risk
        group it was followed in (else every relapse would leave its group and the
        high-risk curve would show none); M1, advanced at presentation, was never
        stratified."""
        relapsed = high_risk()
        relapsed["stage"] = {**relapsed["stage"], "status": "recurrent"}  # type: ignore[dict-item]
        add(cohort, "H1", relapsed)
        groups = {row[1]: row[6] for row in cohort.cohort_rows()}
        assert groups["H1"] == "high"
        assert groups["M1"] == "not_applicable"

    def test_rfs_subjects(self, cohort: Repository) -> None:
        """RFS from surgery: H1 event at the recurrence, H2 censored at last contact, L1
        censored at its scan; M1 (no resection) and N1 (no follow-up) left out, counted."""
        from pecoma.registry.survival import cohort as subjects_of

        subjects, excluded = subjects_of(cohort.cohort_rows(), cohort.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        got = {s.registry_id: (s.group, round(s.time, 6), s.event) for s in subjects}
        assert got == {
            "H1": ("high", round(years("2025-01-10", "2026-01-10"), 6), True),
            "H2": ("high", round(years("2025-01-10", "2026-01-10"), 6), False),
            "L1": ("low", round(years("2024-03-01", "2025-03-01"), 6), False),
        }
        assert excluded == {"no resection of a localized tumour (not in RFS)": 1,
                            "no follow-up after the start date": 1}

    def test_a_resection_without_its_date_is_left_out_saying_so(
            self, cohort: Repository) -> None:
        """Resected, the day not recorded: RFS has no start. It had been counted under
        'no resection of a localized tumour', which it had."""
        from pecoma.registry.survival import cohort as subjects_of

        undated = high_risk()
        undated["surgery"] = {"status": "performed", "margin": "R0"}
        add(cohort, "U1", undated)
        subjects, excluded = subjects_of(cohort.cohort_rows(), cohort.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        assert "U1" not in {s.registry_id for s in subjects}
        assert excluded["resection date not recorded"] == 1
        assert excluded["no resection of a localized tumour (not in RFS)"] == 1  # M1 only

    def test_a_relapse_recorded_in_the_case_keeps_the_patient_in_rfs(
            self, cohort: Repository) -> None:
        """H1's recurrence recorded as a new case version (status recurrent, as the
        surveillance page tells the team to) took H1 out of RFS ('no resection of a
        localized tumour'): the high-risk curve lost its only event. The stage is that of
        the localized decision, as the group is."""
        from pecoma.registry.survival import cohort as subjects_of

        relapsed = high_risk()
        relapsed["stage"] = {**relapsed["stage"], "status": "recurrent"}  # type: ignore[dict-item]
        add(cohort, "H1", relapsed)
        subjects, excluded = subjects_of(cohort.cohort_rows(), cohort.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        got = {s.registry_id: (s.group, round(s.time, 6), s.event) for s in subjects}
        assert got["H1"] == ("high", round(years("2025-01-10", "2026-01-10"), 6), True)
        assert excluded["no resection of a localized tumour (not in RFS)"] == 1  # M1 only

    def test_a_relapse_recorded_only_in_a_case_version_is_an_event(
            self, cohort: Repository) -> None:
        """N1 (resected 2025-01-10) gets a new case version: a lung metastasis detected
        2025-09-01, free of disease again since 2026-02-01; no outcome is recorded. N1
        counted as recurrence-free up to 2026-02-01 (censored, 387 days). Its RFS event
        is the metastasis: 2025-01-10 to 2025-09-01 is 21 + 28 + 31 + 30 + 31 + 30 + 31 +
        31 + 1 = 234 days (to 31 January, then each month's days to 31 August, then 1
        September), 234 / 365.25 = 0.6407 years. R1 (resected 2025-01-10 R0, seen alive
        with disease 2026-03-01) gets a version recording a recurrence, which the case
        format does not date, and no recurrence outcome: the contact is a record that the
        disease was back by 2026-03-01, so R1's relapse is dated by it, an event at
        2026-03-01 (it had been left out as undated). R2 (resected 2025-01-10, seen alive
        without disease 2026-03-01) gets the same version, recorded on 2026-11-28 (ON):
        the recurrence came on or before that day, the first record holding it, so R2's
        event is dated by it, 687 days after the resection (the latest the relapse can
        have come; it had been left out, counted, as undated)."""
        from pecoma.registry.survival import cohort as subjects_of

        relapsed = high_risk()
        relapsed["stage"] = {"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2025-09-01"}]}
        relapsed["free_of_disease"] = {"since": "2026-02-01", "by": "surgery"}
        add(cohort, "N1", relapsed)
        add(cohort, "R1", high_risk())
        outcome(cohort, "R1", "last_contact", "2026-03-01", "alive_with_disease")
        recurrent = high_risk()
        recurrent["stage"] = {**recurrent["stage"], "status": "recurrent"}  # type: ignore[dict-item]
        add(cohort, "R1", recurrent)
        add(cohort, "R2", high_risk())
        outcome(cohort, "R2", "last_contact", "2026-03-01", "alive_without_disease")
        add(cohort, "R2", recurrent)
        subjects, excluded = subjects_of(cohort.cohort_rows(), cohort.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        got = {s.registry_id: (s.group, s.time, s.event) for s in subjects}
        assert got["N1"][0] == "high" and got["N1"][2] is True
        assert round(got["N1"][1] * 365.25) == 234
        assert got["N1"][1] == pytest.approx(0.6407, abs=1e-4)
        assert got["R1"] == ("high", years("2025-01-10", "2026-03-01"), True)
        assert got["R2"] == ("high", years("2025-01-10", "2026-11-28"), True)
        assert round(got["R2"][1] * 365.25) == 687
        assert excluded == {"no resection of a localized tumour (not in RFS)": 1}  # M1
        # the others as before (test_rfs_subjects)
        assert {k: v for k, v in got.items() if k not in ("N1", "R1", "R2")} == {
            "H1": ("high", years("2025-01-10", "2026-01-10"), True),
            "H2": ("high", years("2025-01-10", "2026-01-10"), False),
            "L1": ("low", years("2024-03-01", "2025-03-01"), False),
        }
        # OS is unchanged for N1: alive, censored at its free-of-disease date; R1 at its
        # last contact
        os_subjects, _ = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.os,
                                     Grouping.risk, ON)
        os_got = {s.registry_id: (s.time, s.event) for s in os_subjects}
        assert os_got["N1"] == (years("2025-01-06", "2026-02-01"), False)
        assert os_got["R1"] == (years("2025-01-06", "2026-03-01"), False)

    def test_a_relapse_in_the_case_counts_only_once_known(self, cohort: Repository) -> None:
        """As of 2025-08-01 N1's metastasis (detected 2025-09-01) has not been found: N1
        has no follow-up after its surgery by then, left out as H1 and H2 are (their
        outcomes come later; M1 was never resected); as of 2025-10-01 it is an event at
        2025-09-01."""
        from pecoma.registry.survival import cohort as subjects_of

        relapsed = high_risk()
        relapsed["stage"] = {"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2025-09-01"}]}
        add(cohort, "N1", relapsed)
        early, excluded = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.rfs,
                                      Grouping.risk, dt.date(2025, 8, 1))
        assert {s.registry_id for s in early} == {"L1"}  # its scan of 2025-03-01
        assert excluded == {"no resection of a localized tumour (not in RFS)": 1,
                            "no follow-up after the start date": 3}
        later, _ = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.rfs,
                               Grouping.risk, dt.date(2025, 10, 1))
        n1 = next(s for s in later if s.registry_id == "N1")
        assert (n1.time, n1.event) == (years("2025-01-10", "2025-09-01"), True)

    def test_free_of_disease_counts_as_known_alive(self, cohort: Repository) -> None:
        """N1 (no follow-up after its surgery) recorded free of disease again on
        2026-02-01 after a relapse: OS censors it then, not at its surgery."""
        from pecoma.registry.survival import cohort as subjects_of

        relapsed = high_risk()
        relapsed["stage"] = {"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2025-09-01"}]}
        relapsed["free_of_disease"] = {"since": "2026-02-01", "by": "surgery"}
        add(cohort, "N1", relapsed)
        subjects, _ = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.os,
                                  Grouping.risk, ON)
        got = {s.registry_id: (round(s.time, 6), s.event) for s in subjects}
        assert got["N1"] == (round(years("2025-01-06", "2026-02-01"), 6), False)

    def test_os_subjects(self, cohort: Repository) -> None:
        """OS from diagnosis: H1 died 2026-07-10, M1 died 2026-06-01 (diagnosed
        2025-06-01), H2 alive at last contact; L1 censored at its scan; N1 (nothing
        after its surgery, 4 days after diagnosis) censored at the surgery."""
        from pecoma.registry.survival import cohort as subjects_of

        subjects, _ = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.os,
                                  Grouping.risk, ON)
        got = {s.registry_id: (round(s.time, 6), s.event) for s in subjects}
        assert got["H1"] == (round(years("2025-01-06", "2026-07-10"), 6), True)
        assert got["M1"] == (round(years("2025-06-01", "2026-06-01"), 6), True)
        assert got["H2"] == (round(years("2025-01-06", "2026-01-10"), 6), False)
        assert got["L1"] == (round(years("2024-02-20", "2025-03-01"), 6), False)
        assert got["N1"] == (round(years("2025-01-06", "2025-01-10"), 6), False)

    def test_outcomes_after_the_evaluation_date_do_not_count(self, cohort: Repository) -> None:
        """As of 2026-03-01 H1's death (2026-07-10) has not happened yet."""
        from pecoma.registry.survival import cohort as subjects_of

        day = dt.date(2026, 3, 1)
        subjects, _ = subjects_of(cohort.cohort_rows(), cohort.outcomes(), Endpoint.os,
                                  Grouping.risk, day)
        h1 = next(s for s in subjects if s.registry_id == "H1")
        assert h1.event is False  # censored at the recurrence, the last date known alive

    def test_a_later_scan_does_not_change_a_past_date_s_figures(self, repo: Repository
                                                                ) -> None:
        """Two high-risk patients resected 2023-01-10, both scanned clear on 2024-06-01;
        the figures as of 2025-01-01 were computed, then a scan of S-2 on 2026-02-01 was
        recorded: as of 2025-01-01, S-2 lost every scan (only the latest was read, and it
        came after that date) and was censored at the start, or left out of RFS. A
        figure as of a date reads the scans known then: the same before and after."""
        day = dt.date(2025, 1, 1)
        case = high_risk("2023-01-10")
        case["diagnosis"]["date"] = "2023-01-02"
        for rid in ("S-1", "S-2"):
            record_case(repo, rid, case, on_date=dt.date(2024, 1, 1),
                        settings=default_settings(), actor="clinic", source="test")
            record_scan(repo, rid, "2024-06-01", "chest_ct", "no_evidence_of_disease",
                        on_date=dt.date(2024, 7, 1), actor="radiology")

        def figures() -> tuple[object, ...]:
            os_ = survival_report(repo, Endpoint.os, Grouping.risk, day, min_cell=1)
            rfs = survival_report(repo, Endpoint.rfs, Grouping.risk, day, min_cell=1)
            return (to_json(os_), to_json(rfs))

        before = figures()
        record_scan(repo, "S-2", "2026-02-01", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        assert figures() == before
        assert json.loads(str(before[1]))["groups"][0]["n"] == 2

    def test_a_scan_that_found_disease_is_a_relapse(self, repo: Repository) -> None:
        """S-1's scan of 2024-06-01 found a metastasis (the worklist suspends its plan):
        RFS counted no event, S-1 recurrence-free on the day disease was found, and the
        quality figures listed no recurrence. The scan is the relapse, found at a
        scheduled scan, until an outcome records it."""
        from pecoma.registry.quality import plans_before_relapse, surveillance_quality
        from pecoma.registry.worklist import evaluate

        case = high_risk("2023-01-10")
        case["diagnosis"]["date"] = "2023-01-02"
        record_case(repo, "S-1", case, on_date=dt.date(2024, 1, 1),
                    settings=default_settings(), actor="clinic", source="test")
        record_scan(repo, "S-1", "2024-06-01", "chest_ct", "metastasis",
                    on_date=dt.date(2024, 7, 1), actor="radiology")
        rfs = json.loads(str(to_json(survival_report(repo, Endpoint.rfs, Grouping.risk, ON,
                                                       min_cell=1))))
        assert rfs["groups"][0]["events"] == 1
        evaluated = evaluate(repo.states(), ON, default_settings())
        q = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), ON,
                                 plans_before_relapse(repo, evaluated, ON,
                                                      default_settings()))
        assert q.recurrences_found == {"scheduled_scan": 1}

    def test_folpe_grouping(self, cohort: Repository) -> None:
        """Folpe 2005: the high-risk uterine cases (8 cm, necrosis) are malignant; the
        3 cm kidney case with no worrisome feature is benign."""
        r = survival_report(cohort, Endpoint.rfs, Grouping.folpe, ON, min_cell=1)
        assert {c.group: c.n for c in r.curves} == {"malignant": 2, "benign": 1}


class TestDiseaseRecordedAfterTheResection:
    """After a resection that left the patient free of disease, any later record that
    the disease is present is a relapse for RFS, dated by the day it was recorded: the
    records the worklist suspends routine visits for."""

    SIX = dt.date(2024, 6, 1)

    @pytest.fixture
    def six(self, repo: Repository) -> Repository:
        """Six low-risk kidney PEComas, diagnosed 2020-01-01, resected R0 2020-02-01,
        recorded 2020-03-01. S-001: progression 2021-02-01, then seen alive with disease
        2024-01-01. S-002: seen alive without disease 2024-01-01, alive with disease
        2024-03-01. S-003 to S-006: seen alive without disease 2024-01-01."""
        case = low_risk("2020-02-01")
        case["diagnosis"]["date"] = "2020-01-01"
        for i in range(1, 7):
            record_case(repo, f"S-00{i}", case, on_date=dt.date(2020, 3, 1),
                        settings=default_settings(), actor="clinic", source="test")

        def seen(rid: str, event: str, day: str, vital: str | None = None) -> None:
            record_outcome(repo, rid, event, day, vital, None, on_date=self.SIX, actor="dr")

        seen("S-001", "progression", "2021-02-01")
        seen("S-001", "last_contact", "2024-01-01", "alive_with_disease")
        seen("S-002", "last_contact", "2024-01-01", "alive_without_disease")
        seen("S-002", "last_contact", "2024-03-01", "alive_with_disease")
        for i in range(3, 7):
            seen(f"S-00{i}", "last_contact", "2024-01-01", "alive_without_disease")
        return repo

    def test_two_relapses_among_six(self, six: Repository) -> None:
        """RFS as of 2024-06-01, from the resection 2020-02-01, by hand:
        S-001 relapsed by its progression, 2021-02-01: 366 days (2020 is a leap year),
        366 / 365.25 = 1.0021 y; S-002 by its contact alive with disease, 2024-03-01:
        1,461 + 29 = 1,490 days = 4.0794 y; S-003 to S-006 censored at 2024-01-01:
        1,430 days = 3.9151 y. They read 0 events and 100 % at 3 years.
        Kaplan-Meier: 5/6 = 0.8333 from 1.0021 y; at 4.0794 y S-002 is the one at risk
        and relapses: 0, so the median is 4.08 y. At 3 years 83.3 %, Greenwood variance
        of log S 1/(6 x 5) = 1/30, se of log(-log S) = 0.18257 / 0.18232 = 1.00139,
        95 % CI exp(-exp(log(0.18232) +- 1.96 x 1.00139)) = 27.3-97.5 %. At risk at
        1 year 6 (S-001's relapse is just after it), at 3 years 5. Median follow-up
        (reverse Kaplan-Meier): 4 of the 5 at risk censored at 3.9151 y: 1/5, so 3.92 y."""
        r = survival_report(six, Endpoint.rfs, Grouping.risk, self.SIX, min_cell=1)
        (low,) = r.curves
        assert (low.group, low.n, low.events) == ("low", 6, 2)
        at3 = next(h for h in low.horizons if h.years == 3)
        assert at3.survival == pytest.approx(5 / 6)
        assert at3.lower == pytest.approx(0.27312, abs=1e-5)
        assert at3.upper == pytest.approx(0.97471, abs=1e-5)
        assert [h.at_risk for h in low.horizons] == [6, 5, 0, 0]
        assert low.median == pytest.approx(1490 / 365.25)
        assert low.median_follow_up == pytest.approx(1430 / 365.25)
        assert "low: n 6, events 2, median 4.08 y, median follow-up 3.92 y" in to_text(r)
        assert "3 y: 83.3 % (95 % CI 27.3–97.5), at risk 5" in to_text(r)

    def test_the_worklist_suspends_the_same_two(self, six: Repository) -> None:
        """The worklist of that day suspends S-001 (its progression) and S-002 (its
        contact alive with disease): the patients RFS counts as relapsed, on the same
        days."""
        from pecoma.registry.survival import cohort as subjects_of
        from pecoma.registry.worklist import stored_worklist

        items = stored_worklist(six, self.SIX, default_settings())
        suspended = {i.registry_id for i in items if i.status == "suspended"}
        subjects, excluded = subjects_of(six.cohort_rows(self.SIX), six.outcomes(),
                                         Endpoint.rfs, Grouping.risk, self.SIX)
        relapsed = {s.registry_id: s.time for s in subjects if s.event}
        assert suspended == set(relapsed) == {"S-001", "S-002"}
        assert relapsed == {"S-001": 366 / 365.25, "S-002": 1490 / 365.25}
        assert excluded == {}

    def test_overall_survival_is_unchanged(self, six: Repository) -> None:
        """OS from the diagnosis 2020-01-01: no one died; each censored at the last
        contact (S-002 2024-03-01: 1,521 days; the others 2024-01-01: 1,461 days)."""
        from pecoma.registry.survival import cohort as subjects_of

        subjects, _ = subjects_of(six.cohort_rows(self.SIX), six.outcomes(), Endpoint.os,
                                  Grouping.risk, self.SIX)
        assert {s.registry_id: (round(s.time * 365.25), s.event) for s in subjects} == {
            "S-001": (1461, False), "S-002": (1521, False), "S-003": (1461, False),
            "S-004": (1461, False), "S-005": (1461, False), "S-006": (1461, False)}

    def test_disease_before_the_resection_or_left_by_it_is_no_relapse(
            self, repo: Repository) -> None:
        """P1 (diagnosed 2025-01-06) progressed 2025-01-08 on treatment given before its
        resection 2025-01-10 (R0), seen alive without disease 2026-01-10: recurrence-free
        to then, censored. P2 resected R2 2025-01-10 (tumour left) and seen alive with
        disease 2026-01-10: disease was left, not come back; censored, as the worklist
        raises nothing for that contact either."""
        from pecoma.registry.survival import cohort as subjects_of

        add(repo, "P1", high_risk())
        outcome(repo, "P1", "progression", "2025-01-08")
        outcome(repo, "P1", "last_contact", "2026-01-10", "alive_without_disease")
        r2 = high_risk()
        r2["surgery"] = {"status": "performed", "date": "2025-01-10", "margin": "R2"}
        add(repo, "P2", r2)
        outcome(repo, "P2", "last_contact", "2026-01-10", "alive_with_disease")
        subjects, excluded = subjects_of(repo.cohort_rows(ON), repo.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        assert {s.registry_id: (s.time, s.event) for s in subjects} == {
            "P1": (years("2025-01-10", "2026-01-10"), False),
            "P2": (years("2025-01-10", "2026-01-10"), False)}
        assert excluded == {}

    def test_a_record_after_the_case_s_free_date_does_not_date_its_relapse(
            self, repo: Repository) -> None:
        """Q1 (resected 2025-01-10) is then recorded recurrent, free of disease again since
        2026-02-01 (the case does not date a recurrence), then a local recurrence on
        2026-06-01: that is a second relapse. The first came before 2026-02-01 (Q1 was
        free of it again by then; the version recording it was stored later, on
        2026-11-28): its event is dated 2026-02-01, 387 days after the resection, the
        latest the first relapse can have come. It was counted recurrence-free up to
        2026-06-01, after its first relapse, and then left out as undated although the
        case bounds it."""
        from pecoma.registry.survival import cohort as subjects_of

        recurrent = high_risk()
        recurrent["stage"] = {**recurrent["stage"], "status": "recurrent"}
        recurrent["free_of_disease"] = {"since": "2026-02-01", "by": "surgery"}
        add(repo, "Q1", high_risk())
        add(repo, "Q1", recurrent)
        outcome(repo, "Q1", "local_recurrence", "2026-06-01", found="symptoms")
        subjects, excluded = subjects_of(repo.cohort_rows(ON), repo.outcomes(),
                                         Endpoint.rfs, Grouping.risk, ON)
        assert [(s.registry_id, round(s.time * 365.25), s.event) for s in subjects] == [
            ("Q1", 387, True)]
        assert excluded == {}


class TestOutputs:
    def test_figure_formats(self, cohort: Repository) -> None:
        r = survival_report(cohort, Endpoint.os, Grouping.risk, ON, min_cell=1)
        svg = to_figure(r, "svg")
        assert svg.startswith(b"<?xml") and b"at risk" in svg
        assert to_figure(r, "png").startswith(b"\x89PNG")
        assert to_figure(r, "svg") == svg  # byte-stable

    def test_cli(self, db_url: str, cohort: Repository, tmp_path: Path) -> None:
        from test_registry_cli import no_traceback, pecoma

        r = pecoma("registry", "survival", "--endpoint", "os", "--by", "risk", "--on",
                   "2026-11-28", "--min-cell", "1", "--format", "json", "--database-url",
                   db_url)
        assert r.returncode == 0, r.stderr
        data = json.loads(r.stdout)
        # M1 is metastatic at presentation: risk stratification of the localized decision
        # does not apply to it, so it is not counted among the high-risk patients
        assert {g["group"]: g["n"] for g in data["groups"]} == {
            "high": 3, "low": 1, "not_applicable": 1}
        r = pecoma("registry", "survival", "--on", "2026-11-28", "--database-url", db_url)
        assert r.returncode == 0, r.stderr
        assert "suppressed (fewer than 5 patients)" in r.stdout
        out = tmp_path / "km.png"
        r = pecoma("registry", "survival", "--format", "png", "-o", str(out),
                   "--database-url", db_url)
        assert r.returncode == 0 and out.read_bytes().startswith(b"\x89PNG")
        r = pecoma("registry", "survival", "--min-cell", "-1", "--database-url", db_url)
        assert r.returncode == 2
        no_traceback(r)


@pytest.fixture
def client(cohort: Repository) -> Iterator[TestClient]:
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = cohort
    with TestClient(app, base_url="http://localhost") as c:
        yield c


class TestSummaryPage:
    def test_plot_and_numbers_at_risk(self, client: TestClient) -> None:
        page = client.get("/registry/summary").text
        assert "Recurrence-free survival" in page and "Overall survival" in page
        assert 'src="/registry/survival.svg?endpoint=rfs&amp;by=risk' in page
        assert "fewer than 5 patients" in page  # every group here is small: suppressed
        r = client.get("/registry/survival.svg?endpoint=os&by=folpe")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg")

    def test_an_interval_not_estimable_is_said_so(self, cohort: Repository) -> None:
        """Every group shown (min_cell 1): L1 (low risk) has no relapse by 1 y, so its
        100 % has no interval: the table says "CI not estimable" with why under it (it
        had "100.0 (100.0–100.0)")."""
        app = create_app(WebConfig(min_cell=1), today=lambda: ON)
        app.state.registry = cohort
        with TestClient(app, base_url="http://localhost") as c:
            page = unescape(c.get("/registry/summary").text)
        assert "100.0 (CI not estimable)" in page
        assert "100.0 (100.0–100.0)" not in page
        assert "95 % CI not estimable at survival 100 % (no event by then)" in page

    def test_bad_query_is_a_clear_400(self, client: TestClient) -> None:
        r = client.get("/registry/survival.svg?endpoint=dfs")
        assert r.status_code == 400 and "'endpoint' must be one of rfs, os" in unescape(r.text)


@pytest.mark.parametrize("position", [0, 1])
def test_migration_fills_the_classification_columns(empty_db_url: str, position: int) -> None:
    """A registry made before revision 0007: each assessment's Folpe category and ICD-O-3
    morphology are copied from its stored output (wherever they sit in the list; an
    undetermined category stays empty)."""
    import json as json_

    import sqlalchemy as sa

    from pecoma.store.db import create_db_engine, upgrade

    engine = create_db_engine(empty_db_url)
    try:
        upgrade(engine, "0003")
        classes = [{"id": "CLS-FOLPE-2005", "category": "malignant", "determined": True},
                   {"id": "CLS-ICDO3", "category": "8714/3", "determined": False}]
        if position:
            classes.reverse()
        now = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO patient (id, registry_id, created_at, created_by) "
                              "VALUES (1, 'P-1', :t, 'x')"), {"t": now})
            c.execute(sa.text(
                "INSERT INTO case_version (id, patient_id, version, \"case\", digest, source, "
                "recorded_at, recorded_by) VALUES (1, 1, 1, '{}', 'd', 's', :t, 'x')"),
                {"t": now})
            c.execute(sa.text(
                "INSERT INTO assessment (id, patient_id, case_version_id, evaluated_on, "
                "knowledge_version, engine_version, settings_digest, risk_group, "
                "disease_status, record_ids, next_due, output, reason, created_at, "
                "created_by) VALUES (1, 1, 1, :d, 'k', 'e', 's', 'high', 'localized', '[]', "
                "NULL, :o, 'r', :t, 'x')"),
                {"d": dt.date(2026, 11, 28), "t": now,
                 "o": json_.dumps({"classifications": classes})})
        upgrade(engine)
        with engine.connect() as c:
            got = c.execute(sa.text(
                "SELECT folpe_category, icdo3_morphology FROM assessment")).one()
        assert tuple(got) == ("malignant", None)
    finally:
        engine.dispose()


# --- patients first registered after a relapse ---------------------------------------


def relapsed_after_resection(case: dict[str, object], detected: str,
                             free: str | None = None) -> dict[str, object]:
    """``case`` as a referral centre first records it: the resected primary's facts kept,
    the disease now metastatic (a lung metastasis found on ``detected``), removed and
    free of disease again since ``free``."""
    out = dict(case)
    out["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                    "metastases": [{"site": "lung", "detected_on": detected}],
                    "extrapulmonary_disease": "no"}
    if free is not None:
        out["free_of_disease"] = {"since": free, "by": "surgery"}
    return out


def quality(repo: Repository) -> tuple[dict[str, Any], int]:
    """The registry's surveillance quality figures, and the number of visits of N1's
    plan before its relapse that they count."""
    from pecoma.registry.quality import plans_before_relapse, surveillance_quality
    from pecoma.registry.worklist import evaluate

    evaluated = evaluate(repo.states(), ON, default_settings())
    before = plans_before_relapse(repo, evaluated, ON, default_settings())
    q = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), ON, before)
    n1 = before.get("N1")
    closed = sum(1 for v in (n1.visits if n1 else ()) if v.latest < dt.date(2025, 9, 1))
    return q.to_jsonable(), closed


class TestRelapsedAtRegistration:
    """A patient first registered after a relapse has one case version only, and its
    stored assessment's risk group is 'not applicable' (I8). The case still records the
    resected primary (surgery performed on a day, its histology) and a metastasis found
    after it. RFS had left every such patient out ('no resection of a localized
    tumour'): only the patients who relapsed were dropped, so RFS read 100 % with no
    event. The resection and the relapse are in the case: the patient enters RFS at the
    resection, with the event at the first metastasis found, in the risk group the
    primary's recorded features give."""

    def test_relapsed_patients_count_from_their_resection(self, repo: Repository) -> None:
        """P1: high risk (8 cm, necrosis), resected 2025-01-10, a lung metastasis found
        2026-03-01 (14 months later: metachronous), free of disease again 2026-05-01:
        an RFS event at 2026-03-01, 415 days = 1.1362 y after the resection (21 days of
        January, 334 to 31 December, 60 to 1 March), group high.
        P2: low risk (3 cm, every feature absent, nodes negative), resected 2024-03-01,
        a lung metastasis 2025-06-01: an event at 457 days (2024 a leap year after
        February), group low.
        P3: the same as P1 but the metastasis found 2025-02-20, 41 days after the
        surgery, in its work-up: whether it was there at the resection is unknown (I29):
        left out, counted, saying so.
        M1: metastatic at presentation, never resected: left out, counted.
        H2: resected, a clear contact 2026-01-10: censored, group high."""
        from pecoma.registry.survival import registry_cohort

        add(repo, "P1", relapsed_after_resection(high_risk(), "2026-03-01", "2026-05-01"))
        add(repo, "P2", relapsed_after_resection(low_risk(), "2025-06-01", "2025-08-01"))
        add(repo, "P3", relapsed_after_resection(high_risk(), "2025-02-20", "2025-04-01"))
        add(repo, "M1", metastatic())
        add(repo, "H2", high_risk())
        outcome(repo, "H2", "last_contact", "2026-01-10", "alive_without_disease")
        from pecoma.registry.survival import cohort as subjects_of

        rows = registry_cohort(repo, ON, default_settings())
        subjects, excluded = subjects_of(rows, repo.outcomes(), Endpoint.rfs, Grouping.risk,
                                         ON)
        got = {s.registry_id: (s.group, round(s.time * 365.25), s.event) for s in subjects}
        assert got == {"P1": ("high", 415, True), "P2": ("low", 457, True),
                       "H2": ("high", 365, False)}
        assert excluded == {
            "no resection of a localized tumour (not in RFS)": 1,  # M1
            "timing of a metastasis unknown: whether it was there at the resection "
            "(not in RFS)": 1}  # P3
        report = survival_report(repo, Endpoint.rfs, Grouping.risk, ON, min_cell=1)
        high = next(c for c in report.curves if c.group == "high")
        assert (high.n, high.events) == (2, 1)
        # OS: P1 in the group its primary was followed in, not 'not applicable'
        os_rows, _ = subjects_of(rows, repo.outcomes(), Endpoint.os, Grouping.risk, ON)
        assert {s.registry_id: s.group for s in os_rows}["P1"] == "high"

    def test_the_figures_read_the_same_after_a_move(
            self, tmp_path: Path, repo: Repository, _sqlite_registry_template: Path) -> None:
        """The source registry holds N1's localized case (assessed high) and a later
        version recording the metastasis found 2025-09-01; the moved registry holds only
        the latest version (the export carries it alone). Same facts, same figures: RFS
        by risk group and by Folpe category and OS alike (N1 an event 234 days after its
        resection, in group high)."""
        import shutil

        from pecoma.store import open_registry

        shutil.copyfile(_sqlite_registry_template, tmp_path / "moved.sqlite3")
        moved = open_registry(f"sqlite:///{tmp_path / 'moved.sqlite3'}")
        source = repo
        try:
            latest = relapsed_after_resection(high_risk(), "2025-09-01", "2026-02-01")
            for target in (source, moved):
                add(target, "H2", high_risk())
                outcome(target, "H2", "last_contact", "2026-01-10", "alive_without_disease")
            add(source, "N1", high_risk())
            add(source, "N1", latest)
            add(moved, "N1", latest)
            for endpoint in Endpoint:
                for grouping in Grouping:
                    a = to_json(survival_report(source, endpoint, grouping, ON, min_cell=1))
                    b = to_json(survival_report(moved, endpoint, grouping, ON, min_cell=1))
                    assert a == b, (endpoint, grouping)
            report = survival_report(moved, Endpoint.rfs, Grouping.risk, ON, min_cell=1)
            assert [(c.group, c.n, c.events) for c in report.curves] == [("high", 2, 1)]
            # the quality figures count N1's visits before its relapse alike: the plan of
            # its primary, from the earlier version or from the latest one's resection
            before = {name: quality(r) for name, r in (("source", source), ("moved", moved))}
            assert before["moved"][0] == before["source"][0]
            assert before["moved"][1] == before["source"][1] > 0  # N1's closed windows
        finally:
            moved.close()

    @staticmethod
    def resected_2023(recurrent: bool) -> dict[str, Any]:
        """High risk (8 cm, necrosis), diagnosed 2023-02-01 and resected 2023-02-14; with
        ``recurrent`` the case records a local recurrence, which the case format does not
        date."""
        case = high_risk("2023-02-14")
        case["diagnosis"] = {**case["diagnosis"], "date": "2023-02-01"}
        if recurrent:
            case["stage"] = {"status": "recurrent", "lymph_nodes": "negative",
                             "local_recurrence": "yes"}
        return case

    def test_an_undated_recurrence_is_dated_by_the_version_recording_it(
            self, repo: Repository) -> None:
        """R7 is first registered on 2024-10-25 with a recurrence (resected 2023-02-14);
        R8 has a localized version of 2023-03-01 and the same recurrent version of
        2024-10-25. The recurrence came on or before 2024-10-25, the day the first version
        recording it was stored: the event is at 619 days (2023-02-14 to 2024-10-25). A
        last contact 'alive with disease' on 2025-06-01 is later evidence, not the
        relapse's date: it had moved the event to 838 days (219 days of recurrence-free
        time invented); before it was recorded the patients were left out as 'relapse
        recorded in the case without a date' although the case version dates it."""
        from pecoma.registry.survival import cohort as subjects_of
        from pecoma.registry.survival import registry_cohort

        cfg = default_settings()
        record_case(repo, "R7", self.resected_2023(recurrent=True), on_date=dt.date(2024, 10, 25),
                    settings=cfg, actor="clinic", source="test")
        record_case(repo, "R8", self.resected_2023(recurrent=False),
                    on_date=dt.date(2023, 3, 1),
                    settings=cfg, actor="clinic", source="test")
        record_case(repo, "R8", self.resected_2023(recurrent=True), on_date=dt.date(2024, 10, 25),
                    settings=cfg, actor="clinic", source="test")
        for rid in ("R7", "R8"):
            record_outcome(repo, rid, "last_contact", "2025-06-01", "alive_with_disease",
                           None, on_date=dt.date(2025, 6, 2), actor="dr-a")
        for on in (dt.date(2025, 5, 1), dt.date(2025, 7, 1)):
            subjects, excluded = subjects_of(registry_cohort(repo, on, cfg), repo.outcomes(),
                                             Endpoint.rfs, Grouping.risk, on)
            got = {s.registry_id: (s.group, round(s.time * 365.25), s.event)
                   for s in subjects}
            assert got == {"R7": ("high", 619, True), "R8": ("high", 619, True)}, on
            assert excluded == {}, on

    def test_a_metastasis_of_unknown_timing_says_so_when_left_out(
            self, repo: Repository) -> None:
        """P3: resected 2025-01-10, a lung metastasis found 2025-02-20, 41 days later in
        the work-up, timing not stated: whether it was there at the resection is unknown
        (I29), so RFS cannot start at the resection. The primary was resected: the
        reason given had been 'no resection of a localized tumour'; it names the unknown
        timing now. M1 (never resected) keeps its reason."""
        from pecoma.registry.survival import cohort as subjects_of
        from pecoma.registry.survival import registry_cohort

        add(repo, "P3", relapsed_after_resection(high_risk(), "2025-02-20", "2025-04-01"))
        add(repo, "M1", metastatic())
        subjects, excluded = subjects_of(registry_cohort(repo, ON, default_settings()),
                                         repo.outcomes(), Endpoint.rfs, Grouping.risk, ON)
        assert subjects == []
        assert excluded == {
            "no resection of a localized tumour (not in RFS)": 1,  # M1
            "timing of a metastasis unknown: whether it was there at the resection "
            "(not in RFS)": 1}  # P3
