"""Surveillance quality and concordance, with expected figures worked out by hand."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

import pytest

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.quality import (
    plans_before_relapse,
    registry_quality,
    surveillance_quality,
)
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.worklist import evaluate
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo, variant

__all__ = ["db_url", "repo"]


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def figures(repo: Repository) -> tuple[object, object]:
    s = default_settings()
    evaluated = evaluate(repo.states(), ON, s)
    return registry_quality(evaluated, repo.outcomes_by_registry_id(),
                            repo.recommendation_history(), ON, s,
                            before_relapse=plans_before_relapse(repo, evaluated, ON, s))


@pytest.fixture
def followed(repo: Repository) -> Repository:
    """H1: high risk, resected 2025-01-10, follow-up every 3-4 months (S18): visit 1
    window 2025-04-10..05-10, scanned 04-20 (on time, 10 days after due); visit 2
    re-anchored on that scan, window 2025-07-20..08-20, scanned 09-01 (12 days late,
    43 days after due). A local recurrence found at the 09-01 scan is recorded (as an
    outcome only): H1's routine surveillance stops there, its later visits count for
    nothing (they were counted missed).
    H2: high risk, resected 2025-09-01, never scanned: visits 1-4 (windows closing
    2026-01-01, 04-01, 07-01, 10-01) not done by 2026-11-28; visit 5 closes 2027-01-01."""
    add(repo, "H1", high_risk())
    for day in ("2025-04-20", "2025-09-01"):
        # both planned examinations (S21, S22): each keeps its own clock, and a visit
        # lacking one would leave it owed
        for modality in ("chest_ct", "mri_primary"):
            record_scan(repo, "H1", day, modality, "no_evidence_of_disease", on_date=ON,
                        actor="radiology")
    record_outcome(repo, "H1", "local_recurrence", "2025-09-01", None, "scheduled_scan",
                   on_date=ON, actor="dr-a")
    add(repo, "H2", high_risk("2025-09-01"))
    return repo


class TestSurveillanceQuality:
    def test_windows_delays_and_how_found(self, followed: Repository) -> None:
        q, _ = figures(followed)
        assert q.windows_closed == 6  # type: ignore[attr-defined]
        assert (q.on_time, q.early, q.late, q.missed) == (1, 0, 1, 4)  # type: ignore[attr-defined]
        assert str(q.inside_window) == "1/6 (16.7%)"  # type: ignore[attr-defined]
        assert q.median_delay == 26.5  # type: ignore[attr-defined]  # of 10 and 43 days
        assert q.median_lateness == 12  # type: ignore[attr-defined]
        assert q.recurrences_found == {"scheduled_scan": 1}  # type: ignore[attr-defined]
        assert str(q.at_scheduled_scan) == "1/1 (100.0%)"  # type: ignore[attr-defined]

    def test_nothing_counts_after_death(self, followed: Repository) -> None:
        """H2 died 2026-03-15: of its visits only visit 1 (window closed 2026-01-01)
        counts, missed; with H1's 2 done: 3 windows, 1 missed."""
        record_outcome(followed, "H2", "death", "2026-03-15", "dead_of_disease", None,
                       on_date=ON, actor="dr-a")
        q, _ = figures(followed)
        assert (q.windows_closed, q.missed) == (3, 1)  # type: ignore[attr-defined]

    def test_a_relapse_recorded_in_a_case_version_keeps_the_visits_before_it(
            self, repo: Repository) -> None:
        """H1's relapse (a lung metastasis found at the 2025-09-01 scan) recorded as a new
        case version, metastatic with no date free of disease, instead of as an outcome:
        no plan is drawn from that version, and H1's two visits before the relapse (one on
        time, one late) dropped out of the figures, which then looked better than the
        same patients' with the relapse recorded as an outcome. They are counted from the
        earlier version's plan until the relapse: the same figures either way."""
        add(repo, "H1", high_risk())
        for day in ("2025-04-20", "2025-09-01"):
            for modality in ("chest_ct", "mri_primary"):  # both planned examinations
                record_scan(repo, "H1", day, modality, "no_evidence_of_disease",
                            on_date=ON, actor="radiology")
        relapsed = high_risk()
        relapsed["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                             "resectable": "no",
                             "metastases": [{"site": "lung", "detected_on": "2025-09-01"}]}
        add(repo, "H1", relapsed)
        add(repo, "H2", high_risk("2025-09-01"))
        q, _ = figures(repo)
        assert q.windows_closed == 6  # type: ignore[attr-defined]
        assert (q.on_time, q.early, q.late, q.missed) == (1, 0, 1, 4)  # type: ignore[attr-defined]
        assert q.median_delay == 26.5  # type: ignore[attr-defined]

    def test_a_relapse_recorded_in_a_case_version_free_again_keeps_the_visits_before(
            self, repo: Repository) -> None:
        """A's relapse (a lung metastasis on 2025-01-10) is recorded as an outcome; B's as
        a new case version, metastatic and free of disease since 2025-03-01, as the
        worklist asks. B's plan now counts from 2025-03-01 (I8) and its visits of
        2022-2024 had dropped out of the figures. As of 2025-06-15 (no window of the new
        plan closed yet) both count the same windows: those of the first plan, closed
        before the relapse."""
        day = dt.date(2025, 6, 15)
        s = default_settings()
        first = low_risk("2022-01-10")
        first["diagnosis"]["date"] = "2022-01-03"
        for rid in ("A-1", "B-2"):
            record_case(repo, rid, first, on_date=dt.date(2022, 2, 1),
                        settings=s, actor="clinic", source="test")
            for scan in ("2022-06-01", "2023-01-15"):
                record_scan(repo, rid, scan, "chest_ct", "no_evidence_of_disease",
                            on_date=day, actor="radiology")
        record_outcome(repo, "A-1", "distant_metastasis", "2025-01-10", None, "scheduled_scan",
                       on_date=day, actor="dr-a")
        relapsed = copy.deepcopy(first)
        relapsed["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                             "metastases": [{"site": "lung", "detected_on": "2025-01-10"}]}
        relapsed["free_of_disease"] = {"since": "2025-03-01", "by": "surgery"}
        record_case(repo, "B-2", relapsed, on_date=day, settings=s, actor="clinic",
                    source="test")

        def windows(rid: str) -> tuple[int, int, int]:
            evaluated = [e for e in evaluate(repo.states(), day, s)
                         if e.state.registry_id == rid]
            q = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), day,
                                     plans_before_relapse(repo, evaluated, day, s))
            return q.windows_closed, q.missed, q.on_time + q.early + q.late

        assert windows("B-2") == windows("A-1")
        assert windows("A-1")[0] >= 4

    def test_unrecorded_way_found_is_kept_apart(self, repo: Repository) -> None:
        add(repo, "H2", high_risk())
        record_outcome(repo, "H2", "distant_metastasis", "2026-02-01", None, None,
                       on_date=ON, actor="dr-a")
        q, _ = figures(repo)
        assert q.recurrences_found == {"not_recorded": 1}  # type: ignore[attr-defined]
        assert str(q.at_scheduled_scan) == "0/0 (n/a)"  # type: ignore[attr-defined]


class TestConcordance:
    def test_mtor_first_line_and_resection(self, repo: Repository) -> None:
        """M1 (everolimus first line) followed REC-MTOR-FIRST-LINE, M2 (doxorubicin) did
        not, M3 has no first line recorded; R1 was recommended resection (surgery
        planned) and a later version records it performed: followed."""
        add(repo, "M1", metastatic("everolimus"))
        add(repo, "M2", metastatic("doxorubicin"))
        add(repo, "M3", metastatic(None))
        add(repo, "R1", variant(high_risk(), surgery={"status": "planned"}))
        add(repo, "R1", high_risk())
        _, c = figures(repo)
        rows = {(r.record, r.year): r for r in c.rows}  # type: ignore[attr-defined]
        mtor = rows[("REC-MTOR-FIRST-LINE", 2026)]
        assert (mtor.recommended, mtor.followed, mtor.not_followed, mtor.unknown) == (3, 1, 1, 1)
        assert mtor.reasons == (("first line recorded: doxorubicin", 1),)
        assert str(mtor.share) == "1/2 (50.0%)"
        res = rows[("REC-RESECTION", 2026)]
        assert (res.recommended, res.followed, res.not_followed) == (1, 1, 0)
        trials = rows[("REC-REFER-TRIALS", 2026)]
        assert not trials.compared and trials.recommended == 4

    def test_small_counts_suppressed_in_shared_output(self, repo: Repository) -> None:
        add(repo, "M2", metastatic("doxorubicin"))
        _, c = figures(repo)
        text = "\n".join(c.lines(min_cell=5))  # type: ignore[attr-defined]
        assert "REC-MTOR-FIRST-LINE 2026: recommended to < 5" in text
        data = c.to_jsonable(min_cell=5)  # type: ignore[attr-defined]
        row = next(r for r in data["rows"] if r["record"] == "REC-MTOR-FIRST-LINE")
        assert row["not_followed"] == "<5"


def test_cli(db_url: str, followed: Repository, tmp_path: Path) -> None:
    from test_registry_cli import pecoma

    r = pecoma("registry", "quality", "--on", "2026-11-28", "--format", "json",
               "--min-cell", "1", "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["surveillance"]["inside_window"] == {"numerator": 1, "denominator": 6,
                                                     "share": 0.1667}
    r = pecoma("registry", "quality", "--on", "2026-11-28", "--min-cell", "1",
               "--database-url", db_url)
    assert ("Visits whose window has closed: 6; done inside the window 1/6 (16.7%); "
            "early 0, late 1, missed 4") in r.stdout


# The figures of H1 and H2 (see ``followed``): 6 windows closed = 2 done (H1: 1 on time
# + 0 early + 1 late) + 4 missed (H2); 1 recurrence, found at a scheduled scan.
SHOWN = ("Visits whose window has closed: 6; done inside the window 1/6 (16.7%); early 0, "
         "late 1, missed 4")
# threshold 5: 1, 1, 4 and the 2 done are "< 5"; 6 = done + missed has two unknowns, so
# nothing else goes
AT_5 = ("Visits whose window has closed: 6; done inside the window < 5/6; early 0, "
        "late < 5, missed < 5")
# threshold 3: the 2 done is "< 3" and 6 - 4 missed would give it, so missed (the only
# other non-zero part) is suppressed too
TRIALS = "Refer to a sarcoma reference centre; offer a trial or registry"  # its title
AT_3 = ("Visits whose window has closed: 6; done inside the window < 3/6; early 0, "
        "late < 3, missed suppressed")


def _page(repo: Repository, min_cell: int) -> str:
    from fastapi.testclient import TestClient

    from pecoma.web.app import create_app
    from pecoma.web.config import WebConfig

    app = create_app(WebConfig(min_cell=min_cell), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        return c.get("/registry/summary").text


def test_summary_page_shows_both(followed: Repository) -> None:
    page = _page(followed, 1)
    assert SHOWN in page
    assert "Median delay from the due date to the scan: 26.5 days (n 2)" in page
    assert (f"“{TRIALS}” 2026: recommended to 2; no recorded decision"
            in page)  # H1, H2


class TestQualitySuppressed:
    """The surveillance quality figures on the web page, in the JSON and in the text get
    the PDF's suppression (one rendering, :mod:`pecoma.registry.quality_text`)."""

    def test_web(self, followed: Repository) -> None:
        page = _page(followed, 5)
        assert AT_5.replace("<", "&lt;") in page, page
        assert "Median delay from the due date to the scan: not shown (n &lt; 5)" in page
        assert "scheduled scan &lt; 5" in page
        assert "16.7" not in page and "26.5" not in page
        page = _page(followed, 3)
        assert AT_3.replace("<", "&lt;") in page, page
        assert "missed 4" not in page

    def test_json_and_text(self, db_url: str, followed: Repository) -> None:
        from test_registry_cli import pecoma

        args = ("registry", "quality", "--on", "2026-11-28", "--database-url", db_url)
        r = pecoma(*args, "--format", "json", "--min-cell", "3")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["surveillance"] == {
            "evaluated_on": "2026-11-28", "visits_with_window_closed": 6,
            "inside_window": "suppressed", "early": 0, "late": "<3", "missed": "suppressed",
            "visits_done": "<3", "median_delay_days": "suppressed",
            "median_days_late": "suppressed", "late_visits": "<3",
            "recurrences_by_how_found": {"scheduled_scan": "<3"},
            "found_at_scheduled_scan": "suppressed",
        }
        r = pecoma(*args, "--format", "json")  # the default threshold, 5
        data = json.loads(r.stdout)["surveillance"]
        assert (data["late"], data["missed"], data["inside_window"]) == ("<5", "<5",
                                                                         "suppressed")
        r = pecoma(*args, "--min-cell", "3")
        assert AT_3 in r.stdout, r.stdout
        assert "Median lateness past the window: not shown (n < 3)" in r.stdout


class TestComplementarySuppression:
    """:func:`pecoma.registry.suppression.suppress`, the one rule behind the PDF, the web
    page and the JSON, on hand-made counts (threshold 5)."""

    def test_only_primary_when_nothing_can_be_subtracted(self) -> None:
        from pecoma.registry.suppression import suppress

        # 3 < 5 is suppressed; the total 3 too, so nothing is left to subtract from
        c = suppress({"total": 3, "a": 3, "b": 0}, [("total", ("a", "b"))], 5)
        assert [c.text(k) for k in ("total", "a", "b")] == ["< 5", "< 5", "0"]
        assert c.json("a") == "<5" and not c.complementary

    def test_next_smallest_part_of_a_shown_total(self) -> None:
        from pecoma.registry.suppression import suppress

        # 20 = 3 + 6 + 11: with 20, 6 and 11 shown the 3 is 20 - 17; the next smallest
        # (6) is suppressed too, so 3 + 6 = 9 has two unknowns; 11 and 20 stay
        c = suppress({"total": 20, "a": 3, "b": 6, "c": 11},
                     [("total", ("a", "b", "c"))], 5)
        assert [c.text(k) for k in ("total", "a", "b", "c")] == [
            "20", "< 5", "suppressed", "11"]
        assert c.json("b") == "suppressed"
        assert c.share("c", "total") == 11 / 20
        assert c.share("b", "total") is None
        assert c.ratio_text("a", "total") == "< 5/20"

    def test_total_when_no_other_part_is_non_zero(self) -> None:
        from pecoma.registry.suppression import suppress

        # a total that is not the sum of its shown parts (a patient counted without a
        # case to compare): 7 with parts 3 and 0 would give 3 by subtraction
        c = suppress({"total": 7, "a": 3, "b": 0}, [("total", ("a", "b"))], 5)
        assert [c.text(k) for k in ("total", "a", "b")] == ["suppressed", "< 5", "0"]

    def test_kept_parts_are_not_chosen(self) -> None:
        from pecoma.registry.suppression import suppress

        # a survival figure: n 6 = high 4 (drawn: its curve gives its n away, so kept) +
        # low 2 ("< 3"); 6 - 4 would give the 2, and high may not go, so the total does
        c = suppress({"n": 6, "high": 4, "low": 2}, [("n", ("high", "low"))], 3,
                     keep=("high",))
        assert [c.text(k) for k in ("n", "high", "low")] == ["suppressed", "4", "< 3"]
        # a kept total with only kept other parts: the smallest kept part goes after all
        c = suppress({"n": 9, "a": 4, "b": 2, "c": 3}, [("n", ("a", "b", "c"))], 3,
                     keep=("n", "a", "c"))
        assert [c.text(k) for k in ("n", "a", "b", "c")] == ["9", "4", "< 3", "suppressed"]

    def test_linked_sums(self) -> None:
        from pecoma.registry.suppression import suppress

        # decided 11 = accepted 7 + declined 4, declined 4 = reason x 1 + reason y 3:
        # declined, x and y are "< 5"; 11 - 7 would give the 4, so accepted goes too
        c = suppress({"decided": 11, "accepted": 7, "declined": 4, "x": 1, "y": 3},
                     [("decided", ("accepted", "declined")), ("declined", ("x", "y"))], 5)
        assert [c.text(k) for k in ("decided", "accepted", "declined", "x", "y")] == [
            "11", "suppressed", "< 5", "< 5", "< 5"]
        # closed 17 = done 9 + missed 8, done 9 = on time 4 + late 5: 9 - 5 would give
        # the 4, so late (the smallest other) goes; done and closed stay shown
        c = suppress({"closed": 17, "done": 9, "missed": 8, "on_time": 4, "late": 5},
                     [("closed", ("done", "missed")), ("done", ("on_time", "late"))], 5)
        assert [c.text(k) for k in ("closed", "done", "missed", "on_time", "late")] == [
            "17", "9", "8", "< 5", "suppressed"]
        # closed 12 = done 9 + missed 3: missed is "< 5", so done goes (12 - 9); done
        # = on time 6 + late 3 ("< 5") then has two unknowns, so nothing more goes
        c = suppress({"closed": 12, "done": 9, "missed": 3, "on_time": 6, "late": 3},
                     [("closed", ("done", "missed")), ("done", ("on_time", "late"))], 5)
        assert [c.text(k) for k in ("closed", "done", "missed", "on_time", "late")] == [
            "12", "suppressed", "< 5", "6", "< 5"]
        # a suppressed total whose parts are all shown would be their sum: t 20 = a 3 +
        # x 6 + e 11 hides x (the smallest other part); x 6 = p 6 + q 0 would then give
        # x, so p goes too
        c = suppress({"t": 20, "a": 3, "x": 6, "e": 11, "p": 6, "q": 0},
                     [("t", ("a", "x", "e")), ("x", ("p", "q"))], 5)
        assert [c.text(k) for k in ("t", "a", "x", "e", "p", "q")] == [
            "20", "< 5", "suppressed", "11", "suppressed", "0"]

    def test_concordance_row_and_share(self) -> None:
        from pecoma.registry.quality import ConcordanceRow

        # recommended 12 = followed 9 + not followed 3 + not recorded 0; shown 12 and 9
        # and the share 75 % would each give the 3: followed is suppressed, and the share
        r = ConcordanceRow("REC-MTOR-FIRST-LINE", 2026, 12, 9, 3, 0,
                           (("first line recorded: doxorubicin", 3),), True)
        c = r.cells(5)
        assert [c.text(k) for k in ("recommended", "followed", "not_followed", "unknown")] \
            == ["12", "suppressed", "< 5", "0"]
        # the share's denominator, followed + not followed = 12, leaves two unknowns
        assert c.ratio_text("followed", "recorded") == "suppressed/12"
