"""Re-assessment after a knowledge or settings change, and the registry summary."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest

from pecoma.knowledge import parse_knowledge
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.summary import Ratio, summarise, summary_svg
from pecoma.registry.worklist import build_worklist, evaluate, stored_worklist
from pecoma.settings import Settings, default_settings, load_settings
from pecoma.store import Repository

from registry_support import (
    ALL_ABSENT,
    ON,
    db_url,
    high_risk,
    indeterminate,
    low_risk,
    metastatic,
    repo,
    variant,
)

__all__ = ["db_url", "repo"]


def size_only(surgery: str = "2025-01-10") -> dict:
    """Exactly 5 cm, every other feature absent: low risk under S06's "> 5 cm" (the
    default), high risk by size alone when the cut-off is inclusive (>= 5 cm)."""
    return variant(high_risk(surgery), histology=dict(ALL_ABSENT),
                   **{"tumour.size.value": 5.0})


def necrosis_at_5_cm() -> dict:
    """Exactly 5 cm with necrosis: high risk either way; size counts only when inclusive."""
    return variant(high_risk(), **{"tumour.size.value": 5.0})


def inclusive_size(tmp_path: Path) -> Settings:
    """The only change of S06's cut-off a settings file may make: 5 cm itself counts."""
    path = tmp_path / "settings.toml"
    path.write_text("[engine]\nguideline_size_cm = { value = 5.0, inclusive = true }\n")
    return load_settings(path)


def fill(repo: Repository, cases: dict[str, dict], on: dt.date = ON) -> None:
    for rid, c in cases.items():
        record_case(repo, rid, c, on_date=on, settings=default_settings(), actor="clinic",
                    source="test")


OPERATED = dt.date(2025, 1, 10)
"""The day the cases of ``high_risk()`` and ``size_only()`` were operated on, and
recorded (a view as of an earlier day reads the case version recorded by then)."""


class TestReassess:
    def test_nothing_changes_with_the_same_knowledge(self, repo: Repository) -> None:
        fill(repo, {"P-1": size_only(), "P-2": low_risk()})
        before = repo.count()
        report = reassess(repo, ON, default_settings(), "registrar")
        assert (report.patients, len(report.changes), report.unchanged, report.stored) == (
            2, 0, 2, 0)
        assert repo.count() == before  # same versions, same result: no duplicate rows

    def test_a_threshold_change_lists_risk_records_and_due_date(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        fill(repo, {"P-1": size_only(), "P-2": necrosis_at_5_cm(), "P-3": low_risk()})
        report = reassess(repo, ON, inclusive_size(tmp_path), "registrar")
        assert [c.registry_id for c in report.changes] == ["P-1", "P-2"]
        p1, p2 = report.changes
        # 5 cm now counts (>= 5 cm): high risk by size; surgery 2025-01-10, so the first
        # visit is due at 3 months (S18) instead of 4 (I3, low risk)
        assert (p1.risk_before, p1.risk_after) == ("low", "high")
        assert (p1.due_before, p1.due_after) == (dt.date(2025, 5, 10), dt.date(2025, 4, 10))
        # and, high risk after resection of localized disease, the guideline's silence on
        # adjuvant systemic treatment (I28)
        assert p1.added == ("FU-CHEST-CT", "FU-HIGH-INTENSIVE", "FU-HIGH-SIX-MONTHLY",
                            "FU-HIGH-YEARLY", "FU-MRI-PRIMARY", "REC-NO-ADJUVANT-LOCALIZED",
                            "RISK-HIGH", "RISK-SIZE")
        # the low-risk schedule with its examinations (I12)
        assert p1.removed == ("FU-LOW-CHEST-CT", "FU-LOW-LESS-INTENSIVE", "FU-LOW-MRI-PRIMARY",
                              "RISK-LOW", "SUPP-FU-LOW-SCHEDULE")
        assert p1.describe().startswith(
            "risk low -> high; next due 2025-05-10 -> 2025-04-10; added FU-CHEST-CT")
        # high by necrosis before and after, and now by size too: a record added, nothing else
        assert (p2.added, p2.removed, p2.risk_changed, p2.due_changed) == (
            ("RISK-SIZE",), (), False, False)
        assert p2.to_dict()["records_added"] == ["RISK-SIZE"]
        assert report.unchanged == 1

    def test_new_assessments_are_stored_and_audited(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        fill(repo, {"P-1": size_only()})
        before = repo.count()
        reassess(repo, ON, inclusive_size(tmp_path), "registrar")
        after = repo.count()
        assert after["assessment"] == before["assessment"] + 1
        assert after["audit_log"] == before["audit_log"] + 1
        last = repo.audit()[-1]
        assert (last.actor, last.entity, last.detail["reason"], last.detail["risk_group"]) == (
            "registrar", "assessment", "reassess", "high")
        # the next run compares with the stored re-assessment: nothing changed since
        again = reassess(repo, ON, inclusive_size(tmp_path), "registrar")
        assert (again.changes, again.stored) == ([], 0)
        # back to the default settings: changed again, and stored (other settings)
        back = reassess(repo, ON, default_settings(), "registrar")
        assert [c.risk_after for c in back.changes] == ["low"]
        assert back.stored == 1

    def test_dry_run_stores_nothing(self, repo: Repository, tmp_path: Path) -> None:
        fill(repo, {"P-1": size_only()})
        before = repo.count()
        report = reassess(repo, ON, inclusive_size(tmp_path), "registrar", store=False)
        assert len(report.changes) == 1 and report.stored == 0
        assert repo.count() == before

    def test_new_knowledge_version_is_recorded(self, repo: Repository) -> None:
        fill(repo, {"P-1": high_risk()})
        text = resources.files("pecoma.knowledge").joinpath("data/guideline.toml").read_text(
            encoding="utf-8")
        old = parse_knowledge(text).version
        newer = parse_knowledge(text.replace(f'version = "{old}"', 'version = "2099.1.1"', 1))
        assert newer.version == "2099.1.1"
        report = reassess(repo, ON, default_settings(), "registrar", knowledge=newer)
        assert report.knowledge_version == "2099.1.1"
        assert report.changes == []  # same records, same risk, same date
        state = repo.state("P-1")
        assert state is not None and state.latest is not None
        assert state.latest.knowledge_version == "2099.1.1"

    def test_a_patient_recorded_after_the_date_is_not_reassessed(self, repo: Repository
                                                                   ) -> None:
        """P-1's case was recorded on 2026-11-28: a re-assessment as of 2026-07-01 does
        not know it (never 'not evaluable' on a surgery date after that day)."""
        fill(repo, {"P-1": high_risk("2026-08-01")})
        report = reassess(repo, dt.date(2026, 7, 1), default_settings(), "registrar")
        assert (report.patients, report.not_evaluable, report.stored) == (0, [], 0)

    def test_scans_recorded_since_change_the_due_date(self, repo: Repository) -> None:
        fill(repo, {"P-1": high_risk()})
        for m in ("chest_ct", "mri_primary"):
            record_scan(repo, "P-1", "2025-04-12", m, "no_evidence_of_disease", on_date=ON,
                        actor="radiology")
        (change,) = reassess(repo, ON, default_settings(), "registrar").changes
        assert (change.due_before, change.due_after) == (dt.date(2025, 4, 10),
                                                         dt.date(2025, 7, 12))
        assert change.added == change.removed == ()


class TestReassessAsOfADate:
    """The next due date a re-assessment lists and stores is the worklist's for the same
    date: planned with the scans done by then, and none for a patient whose routine
    surveillance has stopped (a death, a relapse the case does not hold), which the
    report says instead."""

    def test_a_date_before_a_recorded_scan_plans_without_it(self, repo: Repository) -> None:
        """High risk, R0 resection on 2025-01-10: the first visit is due 3 months after
        it, on 2025-04-10 (S18). As of 2025-03-01 the scans of 2025-04-12 are not done
        yet, so that visit is still the next one, as the worklist of that date says; the
        re-assessment must neither list it as "(none)" nor store an empty next due."""
        fill(repo, {"P-1": high_risk()}, OPERATED)
        for m in ("chest_ct", "mri_primary"):
            record_scan(repo, "P-1", "2025-04-12", m, "no_evidence_of_disease", on_date=ON,
                        actor="radiology")
        day = dt.date(2025, 3, 1)
        (row,) = stored_worklist(repo, day, default_settings())
        assert row.due == dt.date(2025, 4, 10)
        report = reassess(repo, day, default_settings(), "registrar")
        assert report.not_evaluable == []
        assert [c.describe() for c in report.changes] == []  # due 2025-04-10 before too
        assert report.unchanged == 1
        stored = repo.state("P-1")
        assert stored is not None and stored.latest is not None
        assert stored.latest.next_due == dt.date(2025, 4, 10)

    def test_a_changed_due_date_as_of_a_past_date_is_stored_as_the_worklist_gives_it(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """5 cm, every feature absent: low risk, first visit 4 months after the surgery of
        2025-01-10 (I3); high risk when 5 cm counts (inclusive cut-off): 3 months, on
        2025-04-10 (S18). A scan recorded later (2025-06-01) does not count as of
        2025-03-01: the new assessment stores 2025-04-10, never an empty next due."""
        fill(repo, {"P-1": size_only()}, OPERATED)
        record_scan(repo, "P-1", "2025-06-01", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        day = dt.date(2025, 3, 1)
        report = reassess(repo, day, inclusive_size(tmp_path), "registrar")
        (change,) = report.changes
        assert (change.due_before, change.due_after) == (dt.date(2025, 5, 10),
                                                         dt.date(2025, 4, 10))
        stored = repo.state("P-1")
        assert stored is not None and stored.latest is not None
        assert stored.latest.next_due == dt.date(2025, 4, 10)
        (row,) = stored_worklist(repo, day, inclusive_size(tmp_path))
        assert row.due == dt.date(2025, 4, 10)

    def test_a_deceased_patient_has_left_surveillance_not_a_next_due_date(
        self, repo: Repository
    ) -> None:
        """A recorded death ends surveillance (S26): no next scan is due for the patient,
        in the worklist as in the re-assessment, which says so with the death."""
        fill(repo, {"P-1": high_risk()})
        record_outcome(repo, "P-1", "death", "2025-03-20", "dead_of_other_cause", on_date=ON,
                       actor="clinic")
        (row,) = stored_worklist(repo, ON, default_settings())
        assert (row.status.value, row.due) == ("deceased", None)
        (change,) = reassess(repo, ON, default_settings(), "registrar").changes
        assert (change.due_before, change.due_after) == (dt.date(2025, 4, 10), None)
        assert change.describe() == (
            "next due 2025-04-10 -> left surveillance (died on 2025-03-20 (dead of other "
            "cause))")
        assert change.to_dict()["next_due"] == {
            "before": "2025-04-10", "after": None,
            "instead": "left surveillance (died on 2025-03-20 (dead of other cause))"}
        stored = repo.state("P-1")
        assert stored is not None and stored.latest is not None
        assert stored.latest.next_due is None
        # the next run finds nothing changed
        again = reassess(repo, ON, default_settings(), "registrar")
        assert (again.changes, again.unchanged, again.stored) == ([], 1, 0)

    def test_a_relapse_the_case_does_not_hold_suspends_instead_of_a_next_due_date(
        self, repo: Repository
    ) -> None:
        """A distant metastasis recorded as an outcome of a localized case suspends
        routine visits until the case records it (S17, S27): the re-assessment lists
        the suspension, never a routine visit's date."""
        fill(repo, {"P-1": high_risk()})
        record_outcome(repo, "P-1", "distant_metastasis", "2025-03-20", found_by="symptoms",
                       on_date=ON, actor="clinic")
        (row,) = stored_worklist(repo, ON, default_settings())
        assert (row.status.value, row.due) == ("suspended", None)
        (change,) = reassess(repo, ON, default_settings(), "registrar").changes
        assert change.due_after is None
        assert change.describe().startswith(
            "next due 2025-04-10 -> suspended (distant metastasis recorded on 2025-03-20, "
            "found by symptoms, which the case does not hold")
        assert "next due" not in change.describe().split("->", 1)[1]


    def test_a_plan_suspended_by_a_scan_says_so_instead_of_none(
        self, repo: Repository
    ) -> None:
        """A scan that found metastasis suspends the plan (S27, S17): the worklist lists
        the patient suspended with its reason, and so does the re-assessment, never a
        silent "(none)"."""
        fill(repo, {"P-1": high_risk()})
        record_scan(repo, "P-1", "2025-04-12", "chest_ct", "metastasis", on_date=ON,
                    actor="radiology")
        (row,) = stored_worklist(repo, ON, default_settings())
        assert (row.status.value, row.due) == ("suspended", None)
        (change,) = reassess(repo, ON, default_settings(), "registrar").changes
        assert change.due_after is None
        assert change.describe().startswith(f"next due 2025-04-10 -> suspended ({row.reason}")
        assert "(none)" not in change.describe()


class TestSummary:
    @pytest.fixture
    def cases(self) -> dict[str, dict]:
        return {
            "S-1": high_risk(),
            "S-2": low_risk(),
            "S-3": indeterminate(),
            "S-4": metastatic("everolimus"),
            "S-5": metastatic("doxorubicin"),
            "S-6": metastatic(None),
        }

    def test_figures(self, repo: Repository, cases: dict[str, dict]) -> None:
        fill(repo, cases)
        s = default_settings()
        evaluated = evaluate(repo.states(), ON, s)
        summary = summarise(evaluated, build_worklist(evaluated, ON), ON, s)
        assert summary.patients == 6
        # the 3 metastatic patients: stratification no longer applies (I8)
        assert summary.by_risk == {"high": 1, "indeterminate": 1, "low": 1, "not_applicable": 3}
        assert summary.by_disease_status == {"localized": 3, "metastatic": 3}
        assert summary.by_worklist_status == {"overdue": 3, "not_drawn": 3}
        assert summary.overdue == Ratio(3, 3)
        assert summary.advanced == 3
        assert summary.first_line_mtor == Ratio(1, 2)
        assert summary.first_line_unrecorded == 1
        # low_risk() and indeterminate() record HMB-45 only
        assert summary.ihc_complete == Ratio(4, 6)
        data = summary.to_jsonable()
        assert data["first_line_mtor_in_advanced"]["share"] == 0.5
        assert data["ihc_panel_complete"]["share"] == round(4 / 6, 4)
        assert "first-line mTOR inhibitor in advanced disease (S02, S12, S13): 1/2 (50.0%)" \
            in "\n".join(summary.lines())

    def test_empty_registry_has_no_shares(self, repo: Repository) -> None:
        s = default_settings()
        summary = summarise([], [], ON, s)
        assert summary.overdue.value is None
        assert str(summary.first_line_mtor) == "0/0 (n/a)"

    def test_svg_chart_is_self_contained(self, repo: Repository, cases: dict[str, dict]) -> None:
        fill(repo, cases)
        s = default_settings()
        evaluated = evaluate(repo.states(), ON, s)
        svg = summary_svg(summarise(evaluated, build_worklist(evaluated, ON), ON, s))
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
        assert "high: 1" in titles and "not applicable: 3" in titles and "overdue: 3" in titles
        assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
        assert "<script" not in svg


def test_worker_processes_give_the_same_report_and_rows(
    repo: Repository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The engine work of a re-assessment shared by worker processes (here 2 patients a
    task, so 4 tasks) gives the report and stores the rows a single process gives."""
    from pecoma.registry import reassess as module
    from pecoma.store import open_registry

    monkeypatch.setattr(module, "TASK_PATIENTS", 2)
    cases = {"P-1": size_only(), "P-2": low_risk(), "P-3": high_risk(), "P-4": metastatic(),
             "P-5": indeterminate(), "P-6": size_only("2025-02-01"), "P-7": low_risk()}
    one = open_registry(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    try:
        fill(repo, cases)
        fill(one, cases)
        inclusive = inclusive_size(tmp_path)
        dry = reassess(repo, ON, inclusive, "registrar", store=False, workers=2)
        got = reassess(repo, ON, inclusive, "registrar", workers=2)
        expected = reassess(one, ON, inclusive, "registrar", workers=1)
        assert dry.to_jsonable() == {**got.to_jsonable(), "stored": 0}
        assert got.to_jsonable() == expected.to_jsonable()
        # by hand: the tumours of exactly 5 cm become high risk by size under an inclusive
        # cut-off (>= 5 cm), the others keep their group (8 cm counts either way, 3 cm
        # never); every patient gets an assessment made under the new settings
        assert sorted(c.registry_id for c in got.changes if c.risk_changed) == ["P-1", "P-6"]
        assert got.stored == 7
        states = {r.registry_id: r.state for r in repo.state_rows()}
        assert states == {r.registry_id: r.state for r in one.state_rows()}
        assert all(st is not None and st.settings_digest == inclusive.digest()
                   for st in states.values())
    finally:
        one.close()
