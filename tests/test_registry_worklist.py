"""The surveillance worklist: golden rows for a fixed registry and a fixed date; the stored
worklist against the recomputed one (generated registries, many dates), the refresh of
the stored states by every write, and stale versions."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gc
import io
import json
import random
from pathlib import Path

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from pecoma.registry.importer import import_file
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.state import compute_state, is_usable, versions
from pecoma.registry.worklist import (
    DEFAULT_RECENT_DAYS,
    Alert,
    SortKey,
    WorkItem,
    WorkStatus,
    apply_routine,
    build_worklist,
    evaluate,
    routine_facts,
    select,
    stored_worklist,
    to_csv,
    to_ics,
    to_json,
    worklist_uid,
)
from pecoma.settings import Settings, default_settings, load_settings
from pecoma.store import Repository
from pecoma.store.models import WorklistState
from pecoma.store.repository import ScanData, StateData

from registry_support import (
    ON,
    db_url,
    high_risk,
    indeterminate,
    low_risk,
    metastatic,
    record_unchecked,
    repo,
    rows_of,
    store_before_a_check,
    variant,
    write_csv,
)

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
        # each recorded after its treatment, as a registry is kept
        on = dt.date.fromisoformat(c["surgery"].get("date") or "2025-07-01")
        record_case(repo, rid, c, on_date=on, settings=s, actor="clinic", source="test")
    scans(repo, "W-02", QUARTERS)
    scans(repo, "W-03", [*QUARTERS[:-1], "2026-11-10"])
    scans(repo, "W-07", ["2025-04-10"], "metastasis")
    return repo


def worklist(repo: Repository, on: dt.date = ON) -> list[WorkItem]:
    return build_worklist(evaluate(repo.states(as_of=on), on, default_settings()), on)


#: W-07's first scan found a metastasis: the team decides now (critical), so it comes
#: before every routine visit; then the statuses in order, each by due date.
GOLDEN = [
    ("W-07", "suspended", None, None, None, None),
    ("W-05", "overdue", "2024-07-01", "2024-09-01", 818, "low-frequent"),
    ("W-01", "overdue", "2025-04-10", "2025-05-10", 567, "high-intensive"),
    ("W-04", "due", "2026-11-01", "2026-12-01", None, "high-intensive"),
    ("W-02", "upcoming", "2027-01-10", "2027-02-10", None, "high-intensive"),
    ("W-03", "done", "2027-02-10", "2027-03-10", None, "high-intensive"),
    ("W-06", "not_drawn", None, None, None, None),
]

GOLDEN_CSV = """\
registry_id,status,due,latest,days_overdue,visit,phase,imaging,last_scan,risk_group,disease_status,record,provenance,reason,alert_level,alerts
W-07,suspended,,,,,,,2025-04-10,high,localized,FU-SUSPENDED-RECURRENCE,"guideline S17, S27 · ref [4], [3] · interpretation I8",Surveillance suspended: a scan found disease,critical,critical: Surveillance suspended: a scan found disease [FU-SUSPENDED-RECURRENCE]
W-05,overdue,2024-07-01,2024-09-01,818,1,low-frequent,chest_ct + mri_primary,,low,localized,SUPP-FU-LOW-SCHEDULE,supplementary (not from the guideline) · ESMO-EURACAN-GENTURIS 2021 · interpretation I3,"visit 1 (low-frequent), window 2024-07-01 to 2024-09-01",,
W-01,overdue,2025-04-10,2025-05-10,567,1,high-intensive,chest_ct + mri_primary,,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 1 (high-intensive), window 2025-04-10 to 2025-05-10",,
W-04,due,2026-11-01,2026-12-01,,1,high-intensive,chest_ct + mri_primary,,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 1 (high-intensive), window 2026-11-01 to 2026-12-01",,
W-02,upcoming,2027-01-10,2027-02-10,,8,high-intensive,chest_ct + mri_primary,2026-10-10,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 8 (high-intensive), window 2027-01-10 to 2027-02-10",,
W-03,done,2027-02-10,2027-03-10,,8,high-intensive,chest_ct + mri_primary,2026-11-10,high,localized,FU-HIGH-INTENSIVE,guideline S18 · ref [1] · interpretation I2,"visit 7 done on 2026-11-10; next visit 8 (high-intensive), window 2027-02-10 to 2027-03-10",,
W-06,not_drawn,,,,,,,,not_applicable,metastatic,FU-NO-PLAN-ACTIVE-DISEASE,"guideline S12, S17 · ref [1], [4], [3] · interpretation I6, I8",No surveillance calendar while disease is present,,
"""  # noqa: E501


def key(i: WorkItem) -> tuple[object, ...]:
    return (i.registry_id, i.status.value, i.due and i.due.isoformat(),
            i.latest and i.latest.isoformat(), i.days_overdue, i.phase)


class TestGolden:
    def test_rows_in_priority_order(self, registry: Repository) -> None:
        assert [key(i) for i in worklist(registry)] == GOLDEN

    def test_csv_export(self, registry: Repository) -> None:
        """W-07's scan found disease: its row carries the critical alert (S17, S27) in the
        last two columns, as the web worklist shows it; the rows without alerts leave
        them empty."""
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


class TestCsvAlerts:
    """The worklist CSV carries each row's alerts as the web worklist shows them: the
    level in words and the title, with the record id (the columns added at the end, the
    earlier columns unchanged in name and order)."""

    ROW = WorkItem(
        "W-09", WorkStatus.done, dt.date(2027, 2, 10), dt.date(2027, 3, 10), None, 8,
        "high-intensive", ("chest_ct", "mri_primary"), dt.date(2026, 11, 10), "high",
        "localized", "FU-HIGH-INTENSIVE", "guideline S18 · ref [1] · interpretation I2",
        "visit 8 (high-intensive), window 2027-02-10 to 2027-03-10",
        (Alert("FU-IMAGING-INCOMPLETE", "Not every planned examination is recorded",
               "warning"),
         Alert("FU-EQUIVOCAL", "Equivocal scan: decide before the next routine visit",
               "critical")))

    def test_levels_and_alerts_of_a_row(self) -> None:
        """A missing MRI (S22, warning) and an equivocal scan (S26, S27, critical): the
        row's level is the most severe, critical, so a spreadsheet filtered on it finds
        the patient the team must decide on now; every alert is listed, in the row's
        order, with its own level."""
        [row] = list(csv.DictReader(io.StringIO(to_csv([self.ROW]))))
        assert row["alert_level"] == "critical"
        assert row["alerts"] == (
            "warning: Not every planned examination is recorded [FU-IMAGING-INCOMPLETE]; "
            "critical: Equivocal scan: decide before the next routine visit [FU-EQUIVOCAL]")

    def test_a_warning_alone_is_a_warning(self) -> None:
        item = dataclasses.replace(self.ROW, alerts=self.ROW.alerts[:1])
        [row] = list(csv.DictReader(io.StringIO(to_csv([item]))))
        assert row["alert_level"] == "warning"
        assert row["alerts"] == (
            "warning: Not every planned examination is recorded [FU-IMAGING-INCOMPLETE]")

    def test_no_alert_leaves_both_cells_empty(self) -> None:
        item = dataclasses.replace(self.ROW, alerts=())
        [row] = list(csv.DictReader(io.StringIO(to_csv([item]))))
        assert row["alert_level"] == "" and row["alerts"] == ""

    def test_earlier_columns_keep_their_names_and_order(self) -> None:
        header = to_csv([]).splitlines()[0].split(",")
        assert header == [
            "registry_id", "status", "due", "latest", "days_overdue", "visit", "phase",
            "imaging", "last_scan", "risk_group", "disease_status", "record", "provenance",
            "reason", "alert_level", "alerts"]


class TestNotEvaluable:
    def test_a_patient_recorded_after_the_worklist_date_is_not_on_it(
        self, registry: Repository
    ) -> None:
        """W-04's case was recorded on 2026-08-01: the worklist of 2026-07-15 does not
        know it yet (never a row that reads it as not evaluable, on a surgery date after
        that day); every patient recorded by then is listed."""
        items = {i.registry_id: i for i in worklist(registry, dt.date(2026, 7, 15))}
        assert "W-04" not in items
        assert len(items) == 6
        assert not any(i.status is WorkStatus.not_evaluable for i in items.values())

    def test_empty_registry(self, repo: Repository) -> None:
        assert worklist(repo) == []
        assert to_csv([]).count("\n") == 1


def adjuvant_before_surgery() -> dict[str, object]:
    """W-01's case (high risk, resected R0 2025-01-10) with a sirolimus line recorded as
    adjuvant but begun on 2025-01-08, after the diagnosis (2025-01-06) and before
    the surgery: an earlier release stored it;
    this one refuses it (an adjuvant line is begun on or after the surgery)."""
    c = high_risk()
    c["systemic"] = {"therapies": [{"agent": "sirolimus", "setting": "adjuvant",
                                    "started_on": "2025-01-08"}]}
    return c


class TestACaseStoredBeforeACheck:
    """A high-risk patient whose case, stored under an earlier release, fails a check added
    since: its first visit (due 2025-04-10, every 3-4 months: S18, I2) is overdue, but no
    visit can be dated now. It must not drop silently out of the work queue: the row
    carries a warning saying the stored case cannot be evaluated, why, and how to record a
    corrected version, and ranks before the routine visits (its visit is unknown, and may
    be overdue: unknown is not absent), on every surface the worklist is read from."""

    @pytest.fixture
    def upgraded(self, repo: Repository) -> Repository:
        store_before_a_check(repo, "W-01", adjuvant_before_surgery(), high_risk())
        record_case(repo, "W-05", low_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        record_case(repo, "W-06", metastatic(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        return repo

    def test_the_row_has_a_warning_that_says_why_and_what_to_do(
            self, upgraded: Repository) -> None:
        """Was: W-01 not_evaluable with no alert, listed last, after W-06 (no dated plan)."""
        rows = stored(upgraded)
        assert rows == reference(upgraded)  # the stored and the recomputed rows agree
        assert [(i.registry_id, i.status.value) for i in rows] == [
            ("W-01", "not_evaluable"), ("W-05", "overdue"), ("W-06", "not_drawn")]
        w01 = rows[0]
        assert "'systemic.therapies[0].setting' contradicts" in w01.reason
        [alert] = w01.alerts
        assert (alert.id, alert.level) == ("REGISTRY-CASE-NOT-EVALUABLE", "warning")
        assert alert.title.startswith("The stored case cannot be evaluated")
        assert "'systemic.therapies[0].setting' contradicts" in alert.title
        assert "record a corrected case version with 'pecoma registry add-case'" in alert.title

    def test_csv_and_json_carry_the_warning(self, upgraded: Repository) -> None:
        rows = stored(upgraded)
        [w01] = [r for r in csv.DictReader(io.StringIO(to_csv(rows)))
                 if r["registry_id"] == "W-01"]
        assert w01["alert_level"] == "warning"
        assert w01["alerts"].startswith("warning: The stored case cannot be evaluated")
        assert w01["alerts"].endswith("[REGISTRY-CASE-NOT-EVALUABLE]")
        item = json.loads(to_json(rows, ON))["items"][0]
        assert item["registry_id"] == "W-01"
        assert [(a["id"], a["level"]) for a in item["alerts"]] == [
            ("REGISTRY-CASE-NOT-EVALUABLE", "warning")]

    def test_the_calendar_keeps_a_tentative_event_saying_why(
            self, upgraded: Repository) -> None:
        """W-01's visit may be due (unknown is not absent): its calendar event is not
        cancelled but tentative, on the evaluation date, saying it cannot be dated and
        why; W-06 (disease present, no plan) has its event cancelled."""
        events = {str(e["summary"]).split(":")[0]: e for e in Calendar.from_ical(
            to_ics(stored(upgraded), ON, reminder_days=14)).walk("VEVENT")}
        w01 = events["W-01"]
        assert (str(w01["status"]), w01.decoded("dtstart")) == ("TENTATIVE", ON)
        assert str(w01["summary"]) == (
            "W-01: surveillance visit cannot be dated (not evaluable)")
        assert "'systemic.therapies[0].setting' contradicts" in str(w01["description"])
        assert str(events["W-06"]["status"]) == "CANCELLED"

    def test_ranked_after_the_decisions_of_now(self, upgraded: Repository) -> None:
        """A scan that found disease still comes first (S17, S27); the warning next."""
        record_case(upgraded, "W-07", high_risk(), on_date=ON,
                    settings=default_settings(), actor="clinic", source="test")
        scans(upgraded, "W-07", ["2025-04-10"], "metastasis")
        assert [i.registry_id for i in stored(upgraded)] == ["W-07", "W-01", "W-05", "W-06"]

    def test_a_corrected_version_clears_it(self, upgraded: Repository) -> None:
        """The line recorded as pre-operative (setting 'advanced', I17): W-01 is planned
        again, its first visit overdue, the warning gone."""
        c = adjuvant_before_surgery()
        c["systemic"]["therapies"][0]["setting"] = "advanced"  # type: ignore[index]
        record_case(upgraded, "W-01", c, on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        [w01] = [i for i in stored(upgraded) if i.registry_id == "W-01"]
        assert (w01.status, w01.due, w01.alerts) == (
            WorkStatus.overdue, dt.date(2025, 4, 10), ())


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


DEC_6 = dt.date(2026, 12, 6)


@pytest.fixture
def urgent(repo: Repository) -> Repository:
    """The four patients of a clinic's worklist as of 2026-12-06, and a fifth whose scan
    result was not recorded (every case localized, resected R0):

    - U-1 high risk, operated 2026-09-15, chest CT and MRI on 2026-12-02, the chest CT
      equivocal: its first visit is done, the next ahead ("done"), and the team must
      decide on the equivocal scan now (S26, S27: critical);
    - U-2 low risk, operated 2026-05-04, never scanned: visit 1 due 2026-09-04, latest
      2026-11-04 (I3): overdue by 32 days;
    - U-3 high risk, operated 2026-02-10, a chest CT on 2026-11-30 found a metastasis:
      the plan is suspended (S27, S17: critical);
    - U-4 high risk, operated 2026-08-20, never scanned: visit 1 due 2026-11-20, latest
      2026-12-20 (S18, I2): due;
    - U-5 high risk, operated 2026-08-20, chest CT and MRI on 2026-11-25, the chest CT's
      result not recorded (S26: a warning, but what it showed is unknown).
    """
    s = default_settings()
    for rid, c in {"U-1": high_risk("2026-09-15"), "U-2": low_risk("2026-05-04"),
                   "U-3": high_risk("2026-02-10"), "U-4": high_risk("2026-08-20"),
                   "U-5": high_risk("2026-08-20")}.items():
        record_case(repo, rid, c, on_date=DEC_6, settings=s, actor="clinic", source="test")
    for rid, day, chest in (("U-1", "2026-12-02", "equivocal"),
                            ("U-5", "2026-11-25", "not_recorded")):
        record_scan(repo, rid, day, "chest_ct", chest, on_date=DEC_6, actor="radiology")
        record_scan(repo, rid, day, "mri_primary", "no_evidence_of_disease", on_date=DEC_6,
                    actor="radiology")
    record_scan(repo, "U-3", "2026-11-30", "chest_ct", "metastasis", on_date=DEC_6,
                actor="radiology")
    return repo


class TestPriority:
    """The priority order is the order a nurse works the list in, top down: the scans
    the team must decide on now come before every routine visit."""

    def test_a_scan_that_found_disease_or_is_equivocal_comes_first(
            self, urgent: Repository) -> None:
        """Was: U-2 overdue, U-4 due, U-1 "done" (equivocal), U-3 suspended (metastasis)
        last, by status alone. Now: the metastasis, the equivocal scan, the result not
        recorded, then the routine visits by status (overdue, due)."""
        rows = stored(urgent, DEC_6)
        assert [(i.registry_id, i.status.value) for i in rows] == [
            ("U-3", "suspended"), ("U-1", "done"), ("U-5", "done"),
            ("U-2", "overdue"), ("U-4", "due")]
        assert rows[3].days_overdue == 32
        assert rows == reference(urgent, DEC_6)
        assert select(rows) == rows

    def test_every_alert_has_its_level(self, urgent: Repository) -> None:
        """A scan that found disease and an equivocal scan are critical (the team decides
        now, S26, S27), as on the report; a result not recorded is a warning."""
        levels = {i.registry_id: [(a.id, a.level) for a in i.alerts]
                  for i in stored(urgent, DEC_6)}
        assert levels["U-3"] == [("FU-SUSPENDED-RECURRENCE", "critical")]
        assert levels["U-1"] == [("FU-EQUIVOCAL", "critical")]
        assert levels["U-5"] == [("FU-FINDING-NOT-RECORDED", "warning")]
        assert levels["U-2"] == levels["U-4"] == []
        data = json.loads(to_json(stored(urgent, DEC_6), DEC_6))
        assert data["items"][0]["alerts"] == [{
            "id": "FU-SUSPENDED-RECURRENCE", "title": "Surveillance suspended: a scan found "
            "disease", "level": "critical"}]

    def test_the_other_orders_break_ties_by_priority(self, urgent: Repository) -> None:
        """By risk group: the high-risk patients in priority order, then U-2 (low)."""
        rows = select(stored(urgent, DEC_6), sort=SortKey.risk)
        assert [i.registry_id for i in rows] == ["U-3", "U-1", "U-5", "U-4", "U-2"]


def outcome(repo: Repository, rid: str, event: str, day: str, vital: str | None = None
            ) -> None:
    record_outcome(repo, rid, event, day, vital, None, on_date=DEC_6, actor="clinic")


class TestLostWithAFindingLeftOpen:
    """A patient lost to follow-up after a scan that found disease or an equivocal one is
    the patient the clinic must trace first (S17, S27; I16): the critical alert stays on
    the row, named in the reason, and ranks it first. After a death nothing is asked."""

    def test_the_critical_alert_stays_and_ranks_the_row_first(
            self, urgent: Repository) -> None:
        """Was: U-3 and U-1 listed last as "lost to follow-up", no alert, the metastasis
        and the equivocal scan named nowhere. Now: U-3 (the metastasis of 2026-11-30)
        first, U-1 (the equivocal chest CT of 2026-12-02) second, both lost to follow-up
        with their critical alert; U-5 (its result not recorded: a warning the priority
        order ranks among the decisions of now) third, the alert kept, as the priority
        order ranks it (it had been dropped, the row listed last)."""
        outcome(urgent, "U-3", "last_contact", "2026-12-01", "lost_to_follow_up")
        outcome(urgent, "U-1", "last_contact", "2026-12-03", "lost_to_follow_up")
        outcome(urgent, "U-5", "last_contact", "2026-12-03", "lost_to_follow_up")
        rows = stored(urgent, DEC_6)
        assert [(i.registry_id, i.status.value, [(a.id, a.level) for a in i.alerts])
                for i in rows] == [
            ("U-3", "lost_to_follow_up", [("FU-SUSPENDED-RECURRENCE", "critical")]),
            ("U-1", "lost_to_follow_up", [("FU-EQUIVOCAL", "critical")]),
            ("U-5", "lost_to_follow_up", [("FU-FINDING-NOT-RECORDED", "warning")]),
            ("U-2", "overdue", []), ("U-4", "due", [])]
        assert rows[0].reason == (
            "lost to follow-up (last contact 2026-12-01); a scan found disease that no "
            "case version records: trace the patient first, to return to the treatment "
            "pathway (S17, S27)")
        assert rows[1].reason == (
            "lost to follow-up (last contact 2026-12-03); an equivocal scan is not "
            "resolved: trace the patient first, for the team to decide on it (I16)")
        assert rows[2].reason == ("lost to follow-up (last contact 2026-12-03); a scan's "
                                  "result is not recorded: find it before the patient is "
                                  "traced")
        data = json.loads(to_json(rows, DEC_6))
        assert data["items"][0]["alerts"] == [{
            "id": "FU-SUSPENDED-RECURRENCE", "title": "Surveillance suspended: a scan found "
            "disease", "level": "critical"}]
        # After a death nothing is asked: U-3 died on 2026-12-04, deceased, no alert,
        # among the patients who left surveillance (deceased, then lost to follow-up).
        outcome(urgent, "U-3", "death", "2026-12-04", "dead_of_disease")
        rows = stored(urgent, DEC_6)
        assert [i.registry_id for i in rows] == ["U-1", "U-5", "U-2", "U-4", "U-3"]
        assert (rows[4].status.value, rows[4].alerts, rows[4].reason) == (
            "deceased", (), "died on 2026-12-04 (dead of disease)")


@pytest.fixture
def reported(urgent: Repository) -> Repository:
    """The clinic of :func:`urgent`, and A-1: high risk, resected R0 on 2026-02-10, chest
    CT and MRI free of disease on 2026-05-10 and 2026-08-10 (visits 1 and 2, S18): visit
    3 due 2026-11-10, latest 2026-12-10 (I2), due on 2026-12-06."""
    record_case(urgent, "A-1", high_risk("2026-02-10"), on_date=DEC_6,
                settings=default_settings(), actor="clinic", source="test")
    for day in ("2026-05-10", "2026-08-10"):
        for modality in ("chest_ct", "mri_primary"):
            record_scan(urgent, "A-1", day, modality, "no_evidence_of_disease",
                        on_date=DEC_6, actor="radiology")
    return urgent


def row(repo: Repository, rid: str) -> WorkItem:
    (item,) = [i for i in stored(repo, DEC_6) if i.registry_id == rid]
    return item


class TestARelapseRecordedAsAnOutcome:
    """A local recurrence recorded as an outcome that the latest case does not hold:
    routine visits are suspended (one rule, pecoma.registry.routine), and the row carries
    the critical alert a scan that found disease carries, ranking it among the decisions
    of now (S17, S27): it had been an ordinary suspended row, listed after the overdue and
    due patients, with no alert."""

    def test_the_row_is_suspended_with_a_critical_alert_ranked_first(
            self, urgent: Repository) -> None:
        outcome(urgent, "U-2", "local_recurrence", "2026-11-20")
        rows = stored(urgent, DEC_6)
        u2 = next(i for i in rows if i.registry_id == "U-2")
        assert u2.status is WorkStatus.suspended
        assert [(a.id, a.level) for a in u2.alerts] == [
            ("REGISTRY-DISEASE-NOT-IN-CASE", "critical")]
        assert "record it in a new case version" in u2.alerts[0].title
        # after the scan that found disease and the equivocal scan, before the rest
        assert [i.registry_id for i in rows][:3] == ["U-3", "U-1", "U-2"]


class TestLostAfterARelapseRecordedAsAnOutcome:
    """A relapse recorded as an outcome that the case does not hold, then the patient lost
    to follow-up: a known recurrence or metastasis no one has decided on, and the patient
    gone. That patient is the one to trace first (S17, S27), as after a scan that found
    disease or a contact alive with disease; the loss must not turn the critical row of
    the suspended plan into a plain closing row at the bottom of the list."""

    ALERT = ("REGISTRY-DISEASE-NOT-IN-CASE", "Relapse recorded as an outcome, but the case "
             "holds none: record it in a new case version", "critical")

    @staticmethod
    def relapse(repo: Repository, rid: str, event: str, day: str, found_by: str) -> None:
        record_outcome(repo, rid, event, day, None, found_by, on_date=DEC_6, actor="clinic")

    def test_a_metastasis_found_by_symptoms_then_lost_is_traced_first(
            self, urgent: Repository) -> None:
        """Was: U-2 suspended with the critical alert until the loss, then a plain
        "lost to follow-up (last contact 2026-11-10)" row, no alert, listed last. Now:
        lost to follow-up, the critical alert kept, the metastasis named and "trace the
        patient first" in the reason, ranked with the disease the case does not hold
        (after the scan that found disease and the equivocal scan); the recomputed
        worklist gives the same row, and the CSV export carries the alert."""
        self.relapse(urgent, "U-2", "distant_metastasis", "2026-09-01", "symptoms")
        outcome(urgent, "U-2", "last_contact", "2026-11-10", "lost_to_follow_up")
        rows = stored(urgent, DEC_6)
        assert [i.registry_id for i in rows] == ["U-3", "U-1", "U-2", "U-5", "U-4"]
        u2 = rows[2]
        assert (u2.status, u2.due, u2.visit) == (WorkStatus.lost_to_follow_up, None, None)
        assert [(a.id, a.title, a.level) for a in u2.alerts] == [self.ALERT]
        assert u2.reason == (
            "lost to follow-up (last contact 2026-11-10), and the distant metastasis "
            "recorded on 2026-09-01, found by symptoms, which the case does not hold: "
            "trace the patient first; record the new case version (recurrent or "
            "metastatic) so that the advice and the plan follow it (S17, S27)")
        assert select(apply_routine(reference(urgent, DEC_6),
                                    routine_facts(urgent, DEC_6))) == rows
        (line,) = [d for d in csv.DictReader(io.StringIO(to_csv(rows)))
                   if d["registry_id"] == "U-2"]
        assert (line["status"], line["alert_level"]) == ("lost_to_follow_up", "critical")
        assert line["alerts"].endswith("[REGISTRY-DISEASE-NOT-IN-CASE]")

    def test_a_recurrence_found_at_a_scheduled_scan_then_lost_is_traced_first(
            self, urgent: Repository) -> None:
        """U-4: a local recurrence found at a scheduled scan on 2026-11-21 (recorded as an
        outcome, not as the scan), lost to follow-up on 2026-11-30: was listed last; now
        the same critical row, before the result not recorded and every routine visit.
        Once a new case version records the recurrence, treated and free of disease
        since 2026-12-01, no disease is left open: the plain closing row, last."""
        self.relapse(urgent, "U-4", "local_recurrence", "2026-11-21", "scheduled_scan")
        outcome(urgent, "U-4", "last_contact", "2026-11-30", "lost_to_follow_up")
        rows = stored(urgent, DEC_6)
        assert [i.registry_id for i in rows] == ["U-3", "U-1", "U-4", "U-5", "U-2"]
        u4 = rows[2]
        assert u4.status is WorkStatus.lost_to_follow_up
        assert [(a.id, a.level) for a in u4.alerts] == [
            ("REGISTRY-DISEASE-NOT-IN-CASE", "critical")]
        assert u4.reason.startswith(
            "lost to follow-up (last contact 2026-11-30), and the local recurrence "
            "recorded on 2026-11-21, found by scheduled scan, which the case does not "
            "hold: trace the patient first")
        c = high_risk("2026-08-20")
        c["stage"] = {"status": "recurrent", "lymph_nodes": "negative"}
        c["free_of_disease"] = {"since": "2026-11-25", "by": "surgery"}
        record_case(urgent, "U-4", c, on_date=DEC_6, settings=default_settings(),
                    actor="clinic", source="test")
        u4 = row(urgent, "U-4")
        assert (u4.status, u4.alerts, u4.reason) == (
            WorkStatus.lost_to_follow_up, (), "lost to follow-up (last contact 2026-11-30)")
        assert [i.registry_id for i in stored(urgent, DEC_6)][-1] == "U-4"

    def test_after_a_death_nothing_is_asked(self, urgent: Repository) -> None:
        """A death after the metastasis: the patient left surveillance, nothing to trace."""
        self.relapse(urgent, "U-2", "distant_metastasis", "2026-09-01", "symptoms")
        outcome(urgent, "U-2", "death", "2026-11-10", "dead_of_disease")
        u2 = row(urgent, "U-2")
        assert (u2.status, u2.alerts, u2.reason) == (
            WorkStatus.deceased, (), "died on 2026-11-10 (dead of disease)")


class TestAliveWithDiseaseTheCaseDoesNotHold:
    """A last contact that says alive with disease after the resection, on a case that
    records no relapse: a relapse not recorded or a wrong vital status. Routine visits as
    if free of disease are the unsafe reading: they are suspended, as for a relapse
    recorded as an outcome, with a critical alert asking which (S17, S27)."""

    REASON = ("last contact on 2026-10-01 recorded alive with disease, which the case does "
              "not hold (no relapse in it): routine visits are suspended; record the "
              "recurrence or metastasis (what, found when) in a new case version, or "
              "correct the vital status (the last contact entered again on that day) "
              "(S17, S27)")
    ALERT = ("REGISTRY-DISEASE-NOT-IN-CASE", "Alive with disease recorded, but the case "
             "holds no disease: record the relapse in a new case version or correct the "
             "vital status", "critical")

    def test_routine_visits_are_suspended_with_a_critical_alert(
            self, reported: Repository) -> None:
        """Was: A-1 "due" (visit 3), no alert. Now: suspended, the contact named, the
        critical alert ranking it after the equivocal scan and before the result not
        recorded. U-4 (resected 2026-08-20) seen alive with disease on 2026-08-01, before
        the resection, contradicts nothing: visit 1 stays due. The contact entered again
        on the same day as alive without disease corrects it: A-1's visit 3 due again."""
        assert row(reported, "A-1").status is WorkStatus.due
        outcome(reported, "A-1", "last_contact", "2026-10-01", "alive_with_disease")
        outcome(reported, "U-4", "last_contact", "2026-08-01", "alive_with_disease")
        rows = stored(reported, DEC_6)
        assert [i.registry_id for i in rows] == ["U-3", "U-1", "A-1", "U-5", "U-2", "U-4"]
        a1, u4 = rows[2], rows[-1]
        assert (a1.status, a1.due, a1.visit, a1.reason) == (
            WorkStatus.suspended, None, None, self.REASON)
        assert [(a.id, a.title, a.level) for a in a1.alerts] == [self.ALERT]
        assert (u4.status, u4.visit, u4.alerts) == (WorkStatus.due, 1, ())
        outcome(reported, "A-1", "last_contact", "2026-10-01", "alive_without_disease")
        a1 = row(reported, "A-1")
        assert (a1.status, a1.visit, a1.alerts) == (WorkStatus.due, 3, ())

    def test_the_new_case_version_records_the_relapse(self, reported: Repository) -> None:
        """A lung metastasis found 2026-09-20, free of disease since 2026-10-15 after its
        removal: the case holds the contact of 2026-10-01; high-risk visits count from
        2026-10-15 (I8): visit 1 due 2027-01-15, upcoming. A contact alive with disease
        after that date contradicts the new version in turn."""
        outcome(reported, "A-1", "last_contact", "2026-10-01", "alive_with_disease")
        c = high_risk("2026-02-10")
        c["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                      "metastases": [{"site": "lung", "detected_on": "2026-09-20"}]}
        c["free_of_disease"] = {"since": "2026-10-15", "by": "surgery"}
        record_case(reported, "A-1", c, on_date=DEC_6, settings=default_settings(),
                    actor="clinic", source="test")
        a1 = row(reported, "A-1")
        assert (a1.status, a1.visit, a1.due, a1.alerts) == (
            WorkStatus.upcoming, 1, dt.date(2027, 1, 15), ())
        outcome(reported, "A-1", "last_contact", "2026-11-20", "alive_with_disease")
        a1 = row(reported, "A-1")
        assert a1.status is WorkStatus.suspended
        assert a1.reason.startswith("last contact on 2026-11-20 recorded alive with disease")

    def test_lost_to_follow_up_afterwards_keeps_the_alert(
            self, reported: Repository) -> None:
        """Lost to follow-up on 2026-11-01 after the contact alive with disease: the
        patient left surveillance, but the disease reported is still open: traced first,
        among the critical rows."""
        outcome(reported, "A-1", "last_contact", "2026-10-01", "alive_with_disease")
        outcome(reported, "A-1", "last_contact", "2026-11-01", "lost_to_follow_up")
        rows = stored(reported, DEC_6)
        assert [i.registry_id for i in rows] == ["U-3", "U-1", "A-1", "U-5", "U-2", "U-4"]
        a1 = rows[2]
        assert a1.status is WorkStatus.lost_to_follow_up
        assert a1.reason == (
            "lost to follow-up (last contact 2026-11-01), and the last contact on "
            "2026-10-01 recorded alive with disease, which the case does not hold (no "
            "relapse in it): trace the patient first; record the recurrence or "
            "metastasis (what, found when) in a new case version, or correct the vital "
            "status (the last contact entered again on that day) (S17, S27)")
        assert [(a.id, a.title, a.level) for a in a1.alerts] == [self.ALERT]


class TestExports:
    def test_json(self, registry: Repository) -> None:
        data = json.loads(to_json(worklist(registry), ON))
        assert data["format"] == "pecoma-worklist/1"
        assert data["evaluated_on"] == "2026-11-28"
        assert data["items"][3]["registry_id"] == "W-04"
        assert data["items"][3]["imaging"] == ["chest_ct", "mri_primary"]

    def test_ics_has_one_event_per_dated_scan(self, registry: Repository) -> None:
        """W-03's status 'done' is its previous visit's: the event is its next visit,
        still ahead (it was titled '(done)', as if the visit on the calendar were done).
        W-07 (a scan found disease) and W-06 (disease present, no plan) have no scan to
        book: their event is cancelled, so a calendar holding an earlier one drops it."""
        cal = Calendar.from_ical(to_ics(worklist(registry), ON, reminder_days=14))
        events = list(cal.walk("VEVENT"))
        assert [(str(e["summary"]), str(e.get("status", ""))) for e in events] == [
            ("W-07: no surveillance visit (suspended)", "CANCELLED"),
            ("W-05: surveillance visit 1: chest ct + mri primary (OVERDUE since "
             "2024-09-02)", ""),
            ("W-01: surveillance visit 1: chest ct + mri primary (OVERDUE since "
             "2025-05-11)", ""),
            ("W-04: surveillance visit 1: chest ct + mri primary (due)", ""),
            ("W-02: surveillance visit 8: chest ct + mri primary (upcoming)", ""),
            ("W-03: surveillance visit 8: chest ct + mri primary (upcoming, the previous "
             "visit done)", ""),
            ("W-06: no surveillance visit (not drawn)", "CANCELLED"),
        ]
        assert not events[0].walk("VALARM")  # nothing to remind of
        assert "Surveillance suspended: a scan found disease" in str(events[0]["description"])
        w04 = events[3]
        assert w04.decoded("dtstart") == dt.date(2026, 11, 1)
        assert w04.decoded("dtend") == dt.date(2026, 12, 2)  # the window, end exclusive
        assert str(w04["uid"]) == worklist_uid("W-04")
        assert "W-04" not in worklist_uid("W-04")  # hashed, as a plan's calendar key
        assert "guideline S18" in str(w04["description"])
        # The reminder rings 14 days before the window opens on 2026-11-01: 2026-10-18.
        [alarm] = w04.walk("VALARM")
        assert alarm.decoded("trigger") == -dt.timedelta(days=14)
        assert w04.decoded("dtstart") + alarm.decoded("trigger") == dt.date(2026, 10, 18)
        # W-01, overdue since 2025-05-11: its window and that reminder are past; the
        # event is on the evaluation date, ringing at its start.
        w01 = events[2]
        assert (w01.decoded("dtstart"), w01.decoded("dtend")) == (ON, ON + dt.timedelta(1))
        [alarm] = w01.walk("VALARM")
        assert alarm.decoded("trigger") == dt.timedelta(0)

    def test_ics_is_byte_stable(self, registry: Repository) -> None:
        first = to_ics(worklist(registry), ON, reminder_days=14)
        assert first == to_ics(worklist(registry), ON, reminder_days=14)


def imported(calendar: dict[str, Calendar], ics: bytes) -> dict[str, Calendar]:
    """A calendar after importing ``ics`` (RFC 5545): an event replaces the one of the
    same UID when its SEQUENCE is not lower; others are added. UID -> event."""
    out = dict(calendar)
    for ev in Calendar.from_ical(ics).walk("VEVENT"):
        uid = str(ev["uid"])
        old = out.get(uid)
        if old is None or int(ev.get("sequence", 0)) >= int(old.get("sequence", 0)):
            out[uid] = ev
    return out


class TestWorklistCalendarUpdates:
    """A coordinator imports the worklist calendar every day. Its events must update, not
    pile up: the UID had been made of the visit's number and due date, so a pathology
    review that changed the risk group renumbered the same scan (visit 16 became visit
    13: a second event), a scan recorded moved the due date (a second event), and an
    OVERDUE event, with its alarm, stayed forever once its scan was done, for the next
    export held only the next visit, under a new UID. Each patient's next scan is now one
    event whose UID never changes, its SEQUENCE growing with the evaluation date, and a
    patient with no scan dated has it cancelled."""

    def test_a_day_later_the_calendar_holds_one_event_per_patient(
            self, repo: Repository) -> None:
        """R-1, high risk, resected 2025-01-10, never scanned: visit 1 OVERDUE on
        2026-11-28. Scanned on 2026-11-30, then a pathology review on 2026-12-01 makes
        it low risk (the necrosis was not there): its next scan is another visit, on
        another window. R-2, high risk, then a metastasis recorded on 2026-12-02: no
        routine scan to book. After both imports the calendar holds one event for R-1,
        its next scan, no OVERDUE left, and R-2's event cancelled."""
        s = default_settings()
        for rid in ("R-1", "R-2"):
            record_case(repo, rid, high_risk(), on_date=dt.date(2025, 1, 10), settings=s,
                        actor="clinic", source="test")
        first = stored(repo, ON)
        assert [(i.registry_id, i.status.value, i.visit) for i in first] == [
            ("R-1", "overdue", 1), ("R-2", "overdue", 1)]
        cal = imported({}, to_ics(first, ON, reminder_days=14))
        later = dt.date(2026, 12, 5)
        for modality in ("chest_ct", "mri_primary"):
            record_scan(repo, "R-1", "2026-11-30", modality, "no_evidence_of_disease",
                        on_date=later, actor="radiology")
        reviewed = low_risk("2025-01-10")
        record_case(repo, "R-1", reviewed, on_date=dt.date(2026, 12, 1), settings=s,
                    actor="pathology", source="review")
        record_outcome(repo, "R-2", "distant_metastasis", "2026-12-02", None, "symptoms",
                       on_date=later, actor="clinic")
        second = stored(repo, later)
        r1 = next(i for i in second if i.registry_id == "R-1")
        assert (r1.status, r1.risk_group) == (WorkStatus.done, "low")
        cal = imported(cal, to_ics(second, later, reminder_days=14))
        assert sorted(cal) == sorted([worklist_uid("R-1"), worklist_uid("R-2")])
        e1, e2 = cal[worklist_uid("R-1")], cal[worklist_uid("R-2")]
        assert "OVERDUE" not in str(e1["summary"])
        assert (e1.decoded("dtstart"), e1.decoded("dtend")) == (
            r1.due, r1.latest + dt.timedelta(days=1))  # type: ignore[operator]
        assert int(e1["sequence"]) > 0
        assert str(e2["status"]) == "CANCELLED"
        assert "distant metastasis recorded on 2026-12-02" in str(e2["description"])

    def test_the_same_scan_renumbered_keeps_its_uid(self, repo: Repository) -> None:
        """The export of the same date, before and after a pathology review that
        changes R-1's risk group: its next scan, renumbered and redated, has the same
        UID; two patients never share one."""
        s = default_settings()
        record_case(repo, "R-1", high_risk(), on_date=dt.date(2025, 1, 10), settings=s,
                    actor="clinic", source="test")
        record_case(repo, "R-3", high_risk(), on_date=dt.date(2025, 1, 10), settings=s,
                    actor="clinic", source="test")
        scans(repo, "R-1", ["2025-06-10", "2025-12-10", "2026-06-10"])
        rows = stored(repo, ON)
        before = Calendar.from_ical(to_ics(rows, ON, reminder_days=14))
        record_case(repo, "R-1", low_risk("2025-01-10"), on_date=ON, settings=s,
                    actor="pathology", source="review")
        again = stored(repo, ON)
        after = Calendar.from_ical(to_ics(again, ON, reminder_days=14))
        # high risk: visit 6, 3 months after the scan of 2026-06-10 (S18); low risk:
        # visit 4, 4 months after it (I3): the same patient's next scan
        assert [(i.visit, i.due) for i in (rows + again) if i.registry_id == "R-1"] == [
            (6, dt.date(2026, 9, 10)), (4, dt.date(2026, 10, 10))]
        uids = [sorted(str(e["uid"]) for e in c.walk("VEVENT")) for c in (before, after)]
        assert uids[0] == uids[1] and len(set(uids[0])) == 2


# --- the stored worklist ------------------------------------------------------------


def stored(repo: Repository, on: dt.date = ON, settings: Settings | None = None,
           recent_days: int = DEFAULT_RECENT_DAYS) -> list[WorkItem]:
    return stored_worklist(repo, on, settings or default_settings(), recent_days)


def reference(repo: Repository, on: dt.date = ON, settings: Settings | None = None,
              recent_days: int = DEFAULT_RECENT_DAYS) -> list[WorkItem]:
    """Today's recomputed worklist: every patient's case version current on ``on``,
    assessed and planned as of ``on``."""
    return build_worklist(evaluate(repo.states(as_of=on), on, settings or default_settings()),
                          on, recent_days)


def usable(repo: Repository, on: dt.date = ON, settings: Settings | None = None) -> int:
    basis = versions(settings or default_settings())
    return sum(is_usable(r, on, basis) for r in repo.state_rows())


def edge_dates(items: list[WorkItem]) -> set[dt.date]:
    """The days on which a status can change: each window's first and last day, the day
    after, and the end of the 'done' period."""
    out: set[dt.date] = set()
    for i in items:
        for day in (i.due, i.latest, i.last_scan):
            if day is not None:
                out |= {day - dt.timedelta(days=1), day, day + dt.timedelta(days=1)}
        if i.last_scan is not None:
            out.add(i.last_scan + dt.timedelta(days=DEFAULT_RECENT_DAYS + 1))
    return out


def generated_registry(repo: Repository, n: int, seed: int, mri_alone: bool = False
                       ) -> None:
    """``n`` patients of every kind: high, low, indeterminate risk, metastatic, no anchor;
    scans on time, early, late, missed, not recorded, finding disease; case versions that
    move the end of treatment after recorded scans; dates near the evaluation date. With
    ``mri_alone``, some visits hold the MRI of the primary alone: the chest CT is then
    owed on its own clock (high risk), and its visit joined to the routine visit after
    it once that is due (HAZ-439); and each scan is recorded on its day, so that a state
    stored then is read on later days."""
    rng = random.Random(seed)
    s = default_settings()
    start = dt.date(2019, 1, 1)
    for k in range(n):
        rid = f"G-{k:03d}"
        surgery = start + dt.timedelta(days=rng.randint(0, (ON - start).days))
        kind = rng.choice(["high", "high", "low", "low", "indeterminate", "metastatic",
                           "undated"])
        if kind == "high":
            case = high_risk(surgery.isoformat())
        elif kind == "low":
            case = low_risk(surgery.isoformat())
        elif kind == "indeterminate":
            case = indeterminate(surgery.isoformat())
        elif kind == "metastatic":
            case = metastatic(rng.choice(["everolimus", None]))
        else:
            case = variant(high_risk(surgery.isoformat()), **{"surgery.date": None})
        for part in ("diagnosis",):
            if case[part].get("date") and case[part]["date"] > surgery.isoformat():
                case[part]["date"] = surgery.isoformat()
        # recorded after its treatment (a worklist of an earlier day does not know it)
        recorded = ON if kind in ("metastatic", "undated") else surgery
        record_case(repo, rid, case, on_date=recorded, settings=s, actor="clinic",
                    source="gen")
        if kind in ("metastatic", "undated") or surgery >= ON:
            continue
        day = surgery
        for _ in range(rng.randint(0, 8)):
            day += dt.timedelta(days=rng.choice([20, 60, 85, 92, 100, 125, 190, 400]))
            if day > ON:
                break
            finding = rng.choices(
                ["no_evidence_of_disease", "equivocal", "", "metastasis"],
                weights=[80, 8, 8, 2])[0]
            kinds = [("chest_ct",), ("chest_ct", "mri_primary")]
            for modality in rng.choice([*kinds, ("mri_primary",)] if mri_alone else kinds):
                # recorded on the day (the state stored then) or all on ON
                record_scan(repo, rid, day.isoformat(), modality, finding,
                            on_date=day if mri_alone else ON, actor="radiology")
        if rng.random() < 0.1 and day > surgery:
            # a case version with the surgery after the scans recorded so far: refused
            # now, but a registry may hold one written before that check
            later = min(ON, day + dt.timedelta(days=10)).isoformat()
            record_unchecked(repo, rid, variant(case, **{"surgery.date": later}))


class TestStoredWorklist:
    """The stored worklist gives exactly the rows of the recomputed one, on any date."""

    def test_golden_rows_from_the_stored_states(self, registry: Repository) -> None:
        assert [key(i) for i in stored(registry)] == GOLDEN
        assert to_csv(stored(registry)) == GOLDEN_CSV
        assert usable(registry) == 7  # nothing recomputed

    def test_the_garbage_collector_is_left_as_it_was(
        self, registry: Repository, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # the collector is paused only while the rows are made: enabled after, also when
        # reading fails; and one disabled by the caller stays disabled
        assert gc.isenabled()
        stored(registry)
        assert gc.isenabled()

        def fail(*args: object) -> list[tuple[object, ...]]:
            raise RuntimeError("read failed")

        monkeypatch.setattr(registry, "worklist_rows", fail)
        with pytest.raises(RuntimeError, match="read failed"):
            stored(registry)
        assert gc.isenabled()
        monkeypatch.undo()
        gc.disable()
        try:
            assert [key(i) for i in stored(registry)] == GOLDEN
            assert not gc.isenabled()
        finally:
            gc.enable()

    def test_same_rows_as_the_recomputed_worklist_on_every_edge(
        self, registry: Repository
    ) -> None:
        days = edge_dates(reference(registry)) | {dt.date(2026, 7, 15), dt.date(2040, 1, 1)}
        for day in sorted(days):
            assert stored(registry, day) == reference(registry, day), day

    @pytest.mark.parametrize(("seed", "mri_alone"), [(1, False), (2, False), (3, True)])
    def test_generated_registries_over_many_dates(self, repo: Repository, seed: int,
                                                  mri_alone: bool) -> None:
        """The stored and recomputed worklists agree on many dates: the status edges of
        every row, and the first and last day every stored state holds for (an owed
        examination's visit joined to the routine visit once due, HAZ-439)."""
        generated_registry(repo, 40, seed, mri_alone)
        states = [r.state for r in repo.state_rows() if r.state is not None]
        bounds = {day + dt.timedelta(days=k) for st in states
                  for day, k in ((st.valid_from, -1), (st.valid_from, 0),
                                 (st.valid_until, 0), (st.valid_until, 1))
                  if day is not None and (st.valid_until is not None or st.valid_from
                                          not in (st.last_scan, None))}
        expired = sum(st.valid_until is not None and st.valid_until < ON for st in states)
        assert usable(repo) == 40 - expired
        if mri_alone:  # an owed examination's visit, its state bounded, is among them
            assert any(st.valid_until is not None for st in states)
        rng = random.Random(seed)
        days = sorted(edge_dates(reference(repo)) - bounds)
        sample = rng.sample(days, min(60, len(days)))
        sample += rng.sample(sorted(bounds), min(40, len(bounds)))
        sample += [dt.date(2018, 6, 1), dt.date(2024, 2, 29), ON, dt.date(2045, 3, 1)]
        # The recomputed worklist of a day: every patient assessed once (the registry does
        # not change here), its rows then drawn with each "done" period.
        for day in sample:
            assessed = evaluate(repo.states(as_of=day), day, default_settings())
            for recent in (0, DEFAULT_RECENT_DAYS):
                assert stored(repo, day, recent_days=recent) == build_worklist(
                    assessed, day, recent), (day, recent)

    def test_every_status_is_covered_by_the_generated_registry(self, repo: Repository) -> None:
        generated_registry(repo, 40, 1)
        seen = {i.status for day in (dt.date(2024, 1, 1), ON) for i in stored(repo, day)}
        # leaving surveillance needs a recorded outcome: see test_registry_outcomes.py
        assert seen == set(WorkStatus) - {WorkStatus.deceased, WorkStatus.lost_to_follow_up}

    def test_before_a_patients_latest_date_the_patient_is_recomputed(
        self, registry: Repository
    ) -> None:
        """W-02 and W-03 were scanned after 2026-07-15: on that date their stored states
        do not hold (they are planned again with the scans done by then); W-04, operated
        on 2026-08-01 and recorded then, is not known yet."""
        day = dt.date(2026, 7, 15)
        assert usable(registry, day) == 4
        items = {i.registry_id: i for i in stored(registry, day)}
        assert "W-04" not in items
        assert items["W-02"].last_scan == dt.date(2026, 7, 10)
        assert items == {i.registry_id: i for i in reference(registry, day)}


class TestStoredStateRefresh:
    """Every write refreshes the patient's state in its own transaction."""

    def state_of(self, repo: Repository, rid: str) -> StateData | None:
        (row,) = [r for r in repo.state_rows() if r.registry_id == rid]
        assert row.current
        return row.state

    def fresh(self, repo: Repository, rid: str) -> StateData:
        """The patient's state computed afresh, stamped with the scan stamp read before
        its scans (as every writer stamps it)."""
        st = repo.state(rid)
        assert st is not None and st.case is not None
        return dataclasses.replace(compute_state(st.case, st.scans, ON, default_settings()),
                                   scan_stamp=st.scan_stamp)

    def test_new_case_version(self, registry: Repository) -> None:
        s = default_settings()
        record_case(registry, "W-05", variant(low_risk(), **{"tumour.size.value": 90}),
                    on_date=ON, settings=s, actor="clinic", source="test")
        state = self.state_of(registry, "W-05")
        assert state == self.fresh(registry, "W-05")
        assert state is not None and state.risk_group == "high"
        assert stored(registry) == reference(registry)

    def test_recorded_scan(self, registry: Repository) -> None:
        before = self.state_of(registry, "W-04")
        scans(registry, "W-04", ["2026-11-27"])
        after = self.state_of(registry, "W-04")
        assert after == self.fresh(registry, "W-04") != before
        # the stamp: two scans recorded (the chest CT and the MRI), none withdrawn
        assert after is not None and after.scan_stamp == 2
        assert after.last_done_on == dt.date(2026, 11, 27)
        assert stored(registry) == reference(registry)

    def test_import(self, repo: Repository, tmp_path: Path) -> None:
        path = write_csv(tmp_path / "cases.csv", rows_of({"I-1": high_risk(), "I-2": low_risk(),
                                                          "I-3": metastatic()}))
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.committed
        for rid in ("I-1", "I-2", "I-3"):
            assert self.state_of(repo, rid) == self.fresh(repo, rid)
        assert usable(repo) == 3
        assert stored(repo) == reference(repo)

    def test_a_scan_stored_without_a_state_leaves_the_patient_to_be_recomputed(
        self, registry: Repository
    ) -> None:
        """A writer that does not compute the state removes it: never a stale row."""
        registry.add_scan("W-01", ScanData(dt.date(2025, 4, 12), "chest_ct",
                                           "no_evidence_of_disease"), "radiology",
                          lambda _case, _death: [])
        (row,) = [r for r in registry.state_rows() if r.registry_id == "W-01"]
        assert row.state is None
        assert usable(registry) == 6
        assert stored(registry) == reference(registry)

    def test_a_state_computed_before_another_scan_is_not_stored(
        self, registry: Repository
    ) -> None:
        st = registry.state("W-01")
        assert st is not None and st.case is not None
        early = dataclasses.replace(compute_state(st.case, st.scans, ON, default_settings()),
                                    scan_stamp=st.scan_stamp)
        scans(registry, "W-01", ["2025-04-12"])
        assert registry.put_states([(st.patient_id, 1, early)]) == 0
        assert self.state_of(registry, "W-01") == self.fresh(registry, "W-01")


class TestStaleStates:
    """States computed with other versions are never used: recomputed, then refreshed."""

    def tamper(self, repo: Repository, **values: str) -> None:
        with repo.engine.begin() as conn:
            conn.execute(sa.update(WorklistState).values(**values))

    @pytest.mark.parametrize("column", ["knowledge_version", "engine_version",
                                        "settings_digest"])
    def test_other_versions_are_recomputed_and_reassess_refreshes_them(
        self, registry: Repository, column: str
    ) -> None:
        self.tamper(registry, **{column: "0.0.0-old"})
        assert usable(registry) == 0
        assert stored(registry) == reference(registry)
        reassess(registry, ON, default_settings(), "registrar")
        assert usable(registry) == 7
        assert stored(registry) == reference(registry)

    def test_other_settings_recompute_every_patient(
        self, registry: Repository, tmp_path: Path
    ) -> None:
        path = tmp_path / "settings.toml"
        path.write_text("[followup]\nhigh_intensive_due_months = 4\n")
        other = load_settings(path)
        assert usable(registry, settings=other) == 0
        for day in (ON, dt.date(2025, 6, 1), dt.date(2027, 3, 1)):
            assert stored(registry, day, other) == reference(registry, day, other)
        reassess(registry, ON, other, "registrar")
        assert usable(registry, settings=other) == 7
        assert stored(registry, ON, other) == reference(registry, ON, other)

    def test_patients_without_a_state_as_after_the_migration(
        self, registry: Repository
    ) -> None:
        with registry.engine.begin() as conn:
            conn.execute(sa.delete(WorklistState))
        assert usable(registry) == 0
        assert [key(i) for i in stored(registry)] == GOLDEN
        report = reassess(registry, ON, default_settings(), "registrar", store=False)
        assert report.stored == 0 and usable(registry) == 0  # a dry run writes nothing
        reassess(registry, ON, default_settings(), "registrar")
        assert usable(registry) == 7


class TestStoredAlerts:
    """The plan's alerts are part of the stored state: every write that changes them
    stores them, and a state that does not know them is never used."""

    def test_an_alert_comes_with_a_scan_and_leaves_with_a_settling_scan(
        self, repo: Repository
    ) -> None:
        """High risk, operated 2025-01-10: the first visit (window 2025-04-10 to
        2025-05-10) has an equivocal chest CT, so the plan asks for a decision (S26, S27);
        the next visit reads the chest CT again (no evidence of disease): settled."""
        record_case(repo, "A-1", high_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        (item,) = stored(repo)
        assert item.alerts == ()
        record_scan(repo, "A-1", "2025-04-10", "chest_ct", "equivocal", on_date=ON,
                    actor="radiology")
        record_scan(repo, "A-1", "2025-04-10", "mri_primary", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        assert usable(repo) == 1  # read from the stored state, not recomputed
        (item,) = stored(repo)
        assert [(a.id, a.title) for a in item.alerts] == [
            ("FU-EQUIVOCAL", "Equivocal scan: decide before the next routine visit")]
        assert json.loads(to_json([item], ON))["items"][0]["alerts"] == [
            {"id": "FU-EQUIVOCAL",
             "title": "Equivocal scan: decide before the next routine visit",
             "level": "critical"}]
        assert stored(repo) == reference(repo)
        scans(repo, "A-1", ["2025-07-10"])
        assert usable(repo) == 1
        (item,) = stored(repo)
        assert item.alerts == ()
        assert stored(repo) == reference(repo)

    def test_scans_of_another_modality_leave_the_row_overdue(self, repo: Repository
                                                             ) -> None:
        """High risk, operated 2025-01-10, chest CT and MRI on 2025-04-10, then only
        ultrasounds every 2-3 months: on 2026-10-01 the row is overdue for visit 2 (window
        2025-07-10 to 2025-08-10: 417 days past it, S18, I2), not "done" with the next
        visit on 2026-12-15; the calendar puts it on that day, overdue."""
        on = dt.date(2026, 10, 1)
        record_case(repo, "U-1", high_risk(), on_date=on, settings=default_settings(),
                    actor="clinic", source="test")
        scans(repo, "U-1", ["2025-04-10"])
        for day in ("2025-06-20", "2025-09-01", "2025-11-15", "2026-02-01", "2026-04-15",
                    "2026-07-01", "2026-09-15"):
            record_scan(repo, "U-1", day, "ultrasound", "no_evidence_of_disease",
                        on_date=on, actor="radiology")
        (item,) = stored(repo, on)
        assert (item.status, item.visit, item.due, item.latest, item.days_overdue) == (
            WorkStatus.overdue, 2, dt.date(2025, 7, 10), dt.date(2025, 8, 10), 417)
        assert item.last_scan == dt.date(2026, 9, 15)
        assert stored(repo, on) == reference(repo, on)
        (ev,) = Calendar.from_ical(to_ics([item], on, reminder_days=7)).walk("VEVENT")
        assert ev.decoded("DTSTART") == on and "OVERDUE" in str(ev["SUMMARY"])

    def test_an_equivocal_scan_on_the_surgery_date_is_an_alert(self, repo: Repository
                                                                ) -> None:
        """High risk, operated 2025-01-10, a chest CT on the surgery date reported
        equivocal: the worklist shows the alert from the stored state, as it would for the
        same finding at a visit (S26, S27)."""
        record_case(repo, "A-1", high_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        record_scan(repo, "A-1", "2025-01-10", "chest_ct", "equivocal", on_date=ON,
                    actor="radiology")
        assert usable(repo) == 1
        (item,) = stored(repo)
        assert [a.id for a in item.alerts] == ["FU-EQUIVOCAL"]
        assert stored(repo) == reference(repo)

    def test_states_without_their_alerts_are_recomputed(self, registry: Repository) -> None:
        """The states stored before revision 0009 have no alerts (NULL): not known, so not
        used; W-07's recurrence is still shown, and reassess stores them again."""
        with registry.engine.begin() as conn:
            conn.execute(sa.update(WorklistState).values(alerts=None))
        assert usable(registry) == 0
        by_id = {i.registry_id: i for i in stored(registry)}
        assert [a.id for a in by_id["W-07"].alerts] == ["FU-SUSPENDED-RECURRENCE"]
        assert stored(registry) == reference(registry)
        reassess(registry, ON, default_settings(), "registrar")
        assert usable(registry) == 7
        assert stored(registry) == reference(registry)

    def test_upgrading_a_registry_of_revision_0008_keeps_the_worklist(
            self, registry: Repository) -> None:
        """A registry written before revision 0009 (its states without alerts) is upgraded
        in place: nothing is read from a state without its alerts, so every patient is
        assessed again and the worklist is the recomputed one, W-07's recurrence included;
        reassess then stores the states again."""
        from pecoma.store.db import current_revision, downgrade, head_revision, upgrade

        downgrade(registry.engine, "0008")
        upgrade(registry.engine)
        assert current_revision(registry.engine) == head_revision(registry.engine)
        assert usable(registry) == 0
        by_id = {i.registry_id: i for i in stored(registry)}
        assert [a.id for a in by_id["W-07"].alerts] == ["FU-SUSPENDED-RECURRENCE"]
        assert stored(registry) == reference(registry)
        reassess(registry, ON, default_settings(), "registrar")
        assert usable(registry) == 7

    def test_a_date_before_the_state_holds_is_recomputed(self, registry: Repository) -> None:
        """W-02's state holds from its last scan, 2026-10-10. Its stored window is
        altered here: on ON the stored row is read (the altered window shows), on
        2026-09-01 the state does not hold and the patient is assessed again."""
        (row,) = [r for r in registry.state_rows() if r.registry_id == "W-02"]
        assert row.state is not None and row.state.valid_from == dt.date(2026, 10, 10)
        with registry.engine.begin() as conn:
            conn.execute(sa.update(WorklistState)
                         .where(WorklistState.patient_id == row.patient_id)
                         .values(due=dt.date(2000, 1, 1), latest=dt.date(2000, 2, 1)))
        on_stored = {i.registry_id: i for i in stored(registry)}
        assert on_stored["W-02"].due == dt.date(2000, 1, 1)  # the stored row was read
        day = dt.date(2026, 9, 1)
        assert usable(registry, day) == 5  # W-02, and W-03 scanned 2026-11-10, do not hold
        before = {i.registry_id: i for i in stored(registry, day)}
        # assessed again as of 2026-09-01 with the scans done by then (the 2026-10-10
        # scans are not known yet that day): never the altered window. By hand: the
        # scans of 2025-04-10 to 2026-07-10 did visits 1-6 on their due dates; visit 7
        # is due 3 months after the last, 2026-10-10, overdue after 2026-11-10 (S18,
        # I2); the last scan is 53 days old (more than 30): upcoming.
        w02 = before["W-02"]
        assert (w02.status, w02.visit, w02.due, w02.latest, w02.last_scan) == (
            WorkStatus.upcoming, 7, dt.date(2026, 10, 10), dt.date(2026, 11, 10),
            dt.date(2026, 7, 10))
        assert stored(registry, day) == reference(registry, day)


def relapsed(since: str = "2026-06-01") -> dict[str, object]:
    """A low-risk kidney primary resected 2024-03-01, a lung metastasis found 2026-04-15,
    free of disease since ``since`` after metastasectomy."""
    c = low_risk()
    c["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "lung", "detected_on": "2026-04-15"}]}
    c["free_of_disease"] = {"since": since, "by": "surgery"}
    return c


class TestAfterRelapse:
    """I8 in the registry: the stored state and the worklist count from the date free of
    disease again, on the high-risk schedule, from a CSV import as from a recorded case."""

    def test_free_of_disease_columns_are_in_the_layout(self) -> None:
        from pecoma.registry.columns import COLUMN_NAMES

        assert {"free_of_disease.since", "free_of_disease.by"} <= set(COLUMN_NAMES)

    def test_imported_relapse_is_on_the_worklist_from_that_date(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Free of disease 2026-06-01: high-risk visit 1 due 2026-09-01, overdue after
        2026-10-01; on 2026-11-28 it is 58 days overdue (no scan in the registry)."""
        path = write_csv(tmp_path / "cases.csv", rows_of({"R-1": relapsed()}))
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="import")
        assert report.committed
        (item,) = stored(repo)
        assert (item.registry_id, item.status.value, item.due, item.latest,
                item.days_overdue, item.phase) == (
            "R-1", "overdue", dt.date(2026, 9, 1), dt.date(2026, 10, 1), 58,
            "high-intensive")
        assert stored(repo) == reference(repo)

    def test_a_scan_after_the_date_moves_the_next_visit(self, repo: Repository) -> None:
        """A scan on 2026-09-05 fulfils visit 1 (window 2026-09-01 to 10-01); visit 2 is
        counted from it: due 2026-12-05, overdue after 2027-01-05; the scan is 84 days
        old on 2026-11-28 (more than 30): upcoming."""
        record_case(repo, "R-2", relapsed(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="test")
        scans(repo, "R-2", ["2026-09-05"])
        (item,) = stored(repo)
        assert (item.status.value, item.visit, item.due, item.latest, item.last_scan) == (
            "upcoming", 2, dt.date(2026, 12, 5), dt.date(2027, 1, 5), dt.date(2026, 9, 5))
        assert stored(repo) == reference(repo)


def undated_case(surgery: dict[str, object] | None = None,
                 **extra: object) -> dict[str, object]:
    """W-01's case (localized uterine PEComa, 8 cm with necrosis: high risk) with its
    surgery as given: by default performed, R0, its date not recorded."""
    c = high_risk()
    c["surgery"] = surgery if surgery is not None else {"status": "performed",
                                                         "margin": "R0"}
    c.update(extra)
    return c


class TestResectedWithoutSurgeryDate:
    """A resected high-risk tumour whose surgery date is not recorded: surveillance is
    owed for life (S18, S26) but no visit can be dated (FU-NO-ANCHOR), and its first
    visit (3-4 months after the operation) may be long overdue. The row must ask for the
    date (MISS-TREATMENT-END's question, a warning), rank before the routine visits, as a
    case that cannot be evaluated does, and keep its calendar event (tentative, asking
    for the date). A plan not drawn because disease or the tumour is present owes no
    surveillance visit: no alert, listed last, its event cancelled."""

    @pytest.fixture
    def clinic(self, repo: Repository) -> Repository:
        s = default_settings()
        for rid, c in {
            "W-01": undated_case(),          # resected R0, no date: owed, undated
            "W-05": low_risk(),              # low risk, never scanned: overdue
            "W-06": metastatic(),            # disease present: no surveillance owed
        }.items():
            record_case(repo, rid, c, on_date=ON, settings=s, actor="clinic", source="t")
        return repo

    def test_the_row_asks_for_the_date_and_ranks_before_the_routine_visits(
            self, clinic: Repository) -> None:
        """Was: W-01 not_drawn with no alert, listed after W-05's overdue visit."""
        rows = stored(clinic)
        assert rows == reference(clinic)  # the stored and the recomputed rows agree
        assert [(i.registry_id, i.status.value, [(a.id, a.level) for a in i.alerts])
                for i in rows] == [
            # the question that would date the plan, before W-05's overdue visit
            ("W-01", "not_drawn", [("MISS-TREATMENT-END", "warning")]),
            ("W-05", "overdue", []),
            # metastatic disease: imaging follows the treatment plan (S12, S17)
            ("W-06", "not_drawn", [])]
        assert rows[0].alerts[0].title == (
            "When did curative treatment of the primary end (or the surgery date)?")
        assert rows[0].record == "FU-NO-ANCHOR"

    def test_csv_and_json_carry_the_warning(self, clinic: Repository) -> None:
        rows = stored(clinic)
        by_id = {r["registry_id"]: r for r in csv.DictReader(io.StringIO(to_csv(rows)))}
        assert by_id["W-01"]["alert_level"] == "warning"
        assert by_id["W-01"]["alerts"] == (
            "warning: When did curative treatment of the primary end (or the surgery "
            "date)? [MISS-TREATMENT-END]")
        assert by_id["W-06"]["alert_level"] == ""
        item = json.loads(to_json(rows, ON))["items"][0]
        assert (item["registry_id"], item["alerts"][0]["level"]) == ("W-01", "warning")

    def test_the_calendar_keeps_a_tentative_event_asking_for_the_date(
            self, clinic: Repository) -> None:
        """Was: "W-01: no surveillance visit (not drawn)", STATUS:CANCELLED: the patient
        left the clinic calendar. W-06 (disease present) has its event cancelled."""
        events = {str(e["summary"]).split(":")[0]: e for e in Calendar.from_ical(
            to_ics(stored(clinic), ON, reminder_days=14)).walk("VEVENT")}
        w01 = events["W-01"]
        assert (str(w01["status"]), w01.decoded("dtstart")) == ("TENTATIVE", ON)
        assert str(w01["summary"]) == (
            "W-01: surveillance visit cannot be dated (not drawn)")
        assert "When did curative treatment of the primary end (or the surgery date)?" \
            in str(w01["description"])
        assert str(events["W-06"]["status"]) == "CANCELLED"

    def test_surgery_status_not_recorded_asks_whether_it_was_resected(
            self, clinic: Repository) -> None:
        """Surgery status unknown: the tumour may be out and its surveillance due; the
        question that would date the plan is whether (and when) it was resected."""
        record_case(clinic, "W-02", undated_case({"status": "unknown"}), on_date=ON,
                    settings=default_settings(), actor="clinic", source="t")
        rows = stored(clinic)
        assert rows == reference(clinic)
        w02 = next(i for i in rows if i.registry_id == "W-02")
        assert [(a.id, a.title) for a in w02.alerts] == [
            ("MISS-SURGERY-STATUS", "Has the tumour been resected, and when?")]
        assert [i.registry_id for i in rows] == ["W-01", "W-02", "W-05", "W-06"]

    def test_tumour_in_place_or_left_owes_no_visit_unless_its_removal_is_asked(
            self, clinic: Repository) -> None:
        """W-03 (surgery planned: tumour in place, I20) and W-04 (R2: gross tumour left,
        I18) owe no surveillance visit: no alert, listed last, events cancelled. W-07 (R2,
        then an end of primary treatment recorded) may have had the tumour removed:
        the question is a warning, ranked before the routine visits."""
        s = default_settings()
        r2 = {"status": "performed", "date": "2025-01-10", "margin": "R2"}
        record_case(clinic, "W-03", undated_case({"status": "planned"}), on_date=ON,
                    settings=s, actor="clinic", source="t")
        record_case(clinic, "W-04", undated_case(r2), on_date=ON, settings=s,
                    actor="clinic", source="t")
        record_case(clinic, "W-07", undated_case(r2, primary_treatment_end="2025-03-01"),
                    on_date=ON, settings=s, actor="clinic", source="t")
        rows = stored(clinic)
        assert rows == reference(clinic)
        assert [(i.registry_id, i.record, [a.id for a in i.alerts]) for i in rows] == [
            ("W-01", "FU-NO-ANCHOR", ["MISS-TREATMENT-END"]),
            ("W-07", "FU-NO-PLAN-RESIDUAL-TUMOUR", ["MISS-RESIDUAL-REMOVED"]),
            ("W-05", "SUPP-FU-LOW-SCHEDULE", []),
            ("W-03", "FU-NO-PLAN-PRIMARY-IN-PLACE", []),
            ("W-04", "FU-NO-PLAN-RESIDUAL-TUMOUR", []),
            ("W-06", "FU-NO-PLAN-ACTIVE-DISEASE", [])]
        events = {str(e["summary"]).split(":")[0]: str(e.get("status")) for e in
                  Calendar.from_ical(to_ics(rows, ON, reminder_days=14)).walk("VEVENT")}
        assert (events["W-03"], events["W-04"], events["W-07"]) == (
            "CANCELLED", "CANCELLED", "TENTATIVE")

    def test_recording_the_date_dates_the_plan(self, clinic: Repository) -> None:
        """Surgery on 2025-01-10, never scanned: visit 1 (3-4 months after, S18, I2) is
        overdue since 2025-05-10; the warning is gone."""
        record_case(clinic, "W-01", high_risk(), on_date=ON, settings=default_settings(),
                    actor="clinic", source="t")
        w01 = next(i for i in stored(clinic) if i.registry_id == "W-01")
        assert (w01.status.value, w01.due, w01.alerts) == (
            "overdue", dt.date(2025, 4, 10), ())

    def test_a_relapse_recorded_as_an_outcome_suspends_it(self, clinic: Repository) -> None:
        """A relapse recorded as an outcome the case does not hold: routine visits are
        suspended with the critical alert, as for a patient whose visits are dated."""
        record_outcome(clinic, "W-01", "local_recurrence", "2026-11-20", None, None,
                       on_date=ON, actor="clinic")
        w01 = stored(clinic)[0]
        assert w01.registry_id == "W-01" and w01.status is WorkStatus.suspended
        assert "REGISTRY-DISEASE-NOT-IN-CASE" in [a.id for a in w01.alerts]
