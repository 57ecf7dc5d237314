"""The surveillance worklist: golden rows for a fixed registry and a fixed date."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from icalendar import Calendar

from pecoma.registry.service import record_case, record_scan
from pecoma.registry.worklist import (
    SortKey,
    WorkItem,
    WorkStatus,
    build_worklist,
    evaluate,
    select,
    to_csv,
    to_ics,
    to_json,
)
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo

__all__ = ["db_url", "repo"]

QUARTERS = ["2025-04-10", "2025-07-10", "2025-10-10", "2026-01-10", "2026-04-10",
            "2026-07-10", "2026-10-10"]


def scans(repo: Repository, rid: str, days: list[str], finding: str = "no_evidence_of_disease"
          ) -> None:
    for day in days:
        for modality in ("chest_ct", "mri_primary"):
            record_scan(repo, rid, day, modality, finding, on_date=ON, actor="radiology")


@pytest.fixture
def registry(repo: Repository) -> Repository:
    """Seven patients, one per worklist status."""
    s = default_settings()
    cases = {
        "W-01": high_risk(),               # operated 2025-01-10, never scanned: overdue
        "W-02": high_risk(),               # scanned quarterly until 2026-10-10: upcoming
        "W-03": high_risk(),               # last scan 18 days ago: done
        "W-04": high_risk("2026-08-01"),   # first visit window open: due
        "W-05": low_risk(),                # low risk, never scanned: overdue
        "W-06": metastatic(),              # disease present: no plan
        "W-07": high_risk(),               # first scan found metastasis: suspended
    }
    for rid, c in cases.items():
        record_case(repo, rid, c, on_date=ON, settings=s, actor="clinic", source="test")
    scans(repo, "W-02", QUARTERS)
    scans(repo, "W-03", [*QUARTERS[:-1], "2026-11-10"])
    scans(repo, "W-07", ["2025-04-10"], "metastasis")
    return repo


def worklist(repo: Repository, on: dt.date = ON) -> list[WorkItem]:
    return build_worklist(evaluate(repo.states(), on, default_settings()), on)


GOLDEN = [
    ("W-05", "overdue", "2024-07-01", "2024-09-01", 818, "low-frequent"),
    ("W-01", "overdue", "2025-04-10", "2025-05-10", 567, "high-intensive"),
    ("W-04", "due", "2026-11-01", "2026-12-01", None, "high-intensive"),
    ("W-02", "upcoming", "2027-01-10", "2027-02-10", None, "high-intensive"),
    ("W-03", "done", "2027-02-10", "2027-03-10", None, "high-intensive"),
    ("W-07", "suspended", None, None, None, None),
    ("W-06", "not_drawn", None, None, None, None),
]

GOLDEN_CSV = """\
registry_id,status,due,latest,days_overdue,visit,phase,imaging,last_scan,risk_group,disease_status,record,provenance,reason
W-05,overdue,2024-07-01,2024-09-01,818,1,low-frequent,chest_ct + mri_primary,,low,localized,SUPP-FU-LOW-SCHEDULE,supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021 · interpretation I3,"visit 1 (low-frequent), window 2024-07-01 to 2024-09-01"
W-01,overdue,2025-04-10,2025-05-10,567,1,high-intensive,chest_ct + mri_primary,,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 1 (high-intensive), window 2025-04-10 to 2025-05-10"
W-04,due,2026-11-01,2026-12-01,,1,high-intensive,chest_ct + mri_primary,,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 1 (high-intensive), window 2026-11-01 to 2026-12-01"
W-02,upcoming,2027-01-10,2027-02-10,,8,high-intensive,chest_ct + mri_primary,2026-10-10,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 8 (high-intensive), window 2027-01-10 to 2027-02-10"
W-03,done,2027-02-10,2027-03-10,,8,high-intensive,chest_ct + mri_primary,2026-11-10,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 7 done on 2026-11-10; next visit 8 (high-intensive), window 2027-02-10 to 2027-03-10"
W-07,suspended,,,,,,,2025-04-10,high,localized,FU-SUSPENDED-RECURRENCE,"guideline S17, S27 · ref [4], [3] · interpretation I8",Surveillance suspended: a scan found disease
W-06,not_drawn,,,,,,,,high,metastatic,FU-NO-PLAN-ACTIVE-DISEASE,"guideline S12, S17 · ref [1], [4], [3] · interpretation I6, I8",No surveillance calendar while disease is present
"""  # noqa: E501


def key(i: WorkItem) -> tuple[object, ...]:
    return (i.registry_id, i.status.value, i.due and i.due.isoformat(),
            i.latest and i.latest.isoformat(), i.days_overdue, i.phase)


class TestGolden:
    def test_rows_in_priority_order(self, registry: Repository) -> None:
        assert [key(i) for i in worklist(registry)] == GOLDEN

    def test_csv_export(self, registry: Repository) -> None:
        assert to_csv(worklist(registry)) == GOLDEN_CSV

    def test_every_row_keeps_its_provenance(self, registry: Repository) -> None:
        for item in worklist(registry):
            assert item.record and item.provenance, item.registry_id

    def test_a_week_later_the_due_visit_is_still_due_and_then_overdue(
        self, registry: Repository
    ) -> None:
        by_id = {i.registry_id: i for i in worklist(registry, dt.date(2026, 12, 1))}
        assert by_id["W-04"].status is WorkStatus.due
        by_id = {i.registry_id: i for i in worklist(registry, dt.date(2026, 12, 2))}
        assert by_id["W-04"].status is WorkStatus.overdue
        assert by_id["W-04"].days_overdue == 1

    def test_recording_the_scan_moves_the_patient_to_done(self, registry: Repository) -> None:
        scans(registry, "W-04", ["2026-11-27"])
        by_id = {i.registry_id: i for i in worklist(registry)}
        assert by_id["W-04"].status is WorkStatus.done
        assert by_id["W-04"].due == dt.date(2027, 2, 27)


class TestNotEvaluable:
    def test_case_dated_after_the_worklist_date_is_listed_with_the_reason(
        self, registry: Repository
    ) -> None:
        """A patient is never dropped: an unassessable case shows why."""
        items = {i.registry_id: i for i in worklist(registry, dt.date(2026, 7, 15))}
        assert items["W-04"].status is WorkStatus.not_evaluable
        assert "'surgery.date' must not be after the evaluation date" in items["W-04"].reason
        assert len(items) == 7

    def test_empty_registry(self, repo: Repository) -> None:
        assert worklist(repo) == []
        assert to_csv([]).count("\n") == 1


class TestSelect:
    def test_filter_by_status(self, registry: Repository) -> None:
        rows = select(worklist(registry), statuses=[WorkStatus.overdue, WorkStatus.due])
        assert [i.registry_id for i in rows] == ["W-05", "W-01", "W-04"]

    def test_filter_by_risk(self, registry: Repository) -> None:
        assert [i.registry_id for i in select(worklist(registry), risk_groups=["low"])] == [
            "W-05"]

    def test_sort_by_due_date(self, registry: Repository) -> None:
        rows = select(worklist(registry), sort=SortKey.due)
        assert [i.registry_id for i in rows] == [
            "W-05", "W-01", "W-04", "W-02", "W-03", "W-07", "W-06"]

    def test_sort_by_registry_id_descending(self, registry: Repository) -> None:
        rows = select(worklist(registry), sort=SortKey.registry_id, descending=True)
        assert [i.registry_id for i in rows] == [f"W-0{n}" for n in range(7, 0, -1)]


class TestExports:
    def test_json(self, registry: Repository) -> None:
        data = json.loads(to_json(worklist(registry), ON))
        assert data["format"] == "pecoma-worklist/1"
        assert data["evaluated_on"] == "2026-11-28"
        assert data["items"][2]["registry_id"] == "W-04"
        assert data["items"][2]["imaging"] == ["chest_ct", "mri_primary"]

    def test_ics_has_one_event_per_dated_scan(self, registry: Repository) -> None:
        cal = Calendar.from_ical(to_ics(worklist(registry), ON))
        events = list(cal.walk("VEVENT"))
        assert [str(e["summary"]) for e in events] == [
            "W-05: chest ct + mri primary (overdue)",
            "W-01: chest ct + mri primary (overdue)",
            "W-04: chest ct + mri primary (due)",
            "W-02: chest ct + mri primary (upcoming)",
            "W-03: chest ct + mri primary (done)",
        ]
        w04 = events[2]
        assert w04.decoded("dtstart") == dt.date(2026, 11, 1)
        assert w04.decoded("dtend") == dt.date(2026, 12, 2)  # the window, end exclusive
        assert str(w04["uid"]) == "pecoma-W-04-visit-1-2026-11-01@pecoma"
        assert "guideline S18" in str(w04["description"])

    def test_ics_is_byte_stable(self, registry: Repository) -> None:
        assert to_ics(worklist(registry), ON) == to_ics(worklist(registry), ON)
