"""A planned operation whose day passes after the case was stored: the registry's stored
worklist (what the command line, the web pages and every export read) asks about it from
the day after, as a recomputation does; and a planned day passed is asked in every stage
where it is recorded, not only for localized resectable disease."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from icalendar import Calendar

from pecoma import assess, parse_case
from pecoma.engine.schedule import plan_surveillance
from pecoma.registry.service import record_case
from pecoma.registry.worklist import (
    WorkStatus,
    build_worklist,
    evaluate,
    stored_worklist,
    to_ics,
)
from pecoma.settings import default_settings
from pecoma.store import Repository
from test_planned_operation_passed import ASKED, CASE

from cli_support import run_cli
from registry_support import db_url, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

RECORDED = dt.date(2023, 2, 2)   # twelve days before the planned operation
LATER = dt.date(2025, 6, 1)      # 28 months after it


def _row(rows: list[Any], rid: str = "P-01") -> Any:
    return next(r for r in rows if r.registry_id == rid)


def test_the_stored_row_asks_it_once_the_day_has_passed(repo: Repository) -> None:
    """Recorded before the operation (the registry's usual order), the stored state held
    for every later date: the row said "no calendar while the primary is in place" for
    years, no question, while the patient operated on had no surveillance. It holds up to
    the planned day now: on that day nothing is asked (still to come), the day after the
    stored worklist recomputes and asks, naming the day, as the reference path does."""
    s = default_settings()
    record_case(repo, "P-01", CASE, on_date=RECORDED, settings=s, actor="clinic",
                source="test")
    planned = dt.date(2023, 2, 14)
    # on the planned day: a plan still to come, nothing asked
    assert _row(stored_worklist(repo, planned, s)).alerts == ()
    for on in (planned + dt.timedelta(days=1), LATER):
        stored = _row(stored_worklist(repo, on, s))
        reference = _row(build_worklist(evaluate(repo.states(as_of=on), on, s), on))
        assert ASKED in {a.id for a in stored.alerts}, on
        assert [a.id for a in stored.alerts] == [a.id for a in reference.alerts], on
        # the row names the day its question is asked of (the question itself cannot)
        assert "2023-02-14" in stored.reason, on
        assert stored.reason == reference.reason, on


def test_the_row_ranks_first_and_keeps_a_tentative_event(repo: Repository) -> None:
    """A patient who may have been operated on years ago may be overdue for surveillance:
    the row ranks with the visits that cannot be dated, before the routine ones, and its
    calendar event is kept, tentative, with the question and the day (not cancelled as a
    patient whose tumour is known to be in place)."""
    s = default_settings()
    record_case(repo, "P-01", CASE, on_date=RECORDED, settings=s, actor="clinic",
                source="test")
    future = copy.deepcopy(CASE)
    future["surgery"] = {"status": "planned", "date": "2025-09-01"}
    record_case(repo, "P-02", future, on_date=RECORDED, settings=s, actor="clinic",
                source="test")
    rows = stored_worklist(repo, LATER, s)
    assert [r.registry_id for r in rows] == ["P-01", "P-02"]
    assert rows[1].alerts == () and rows[1].status is WorkStatus.not_drawn
    events = {str(e["uid"]).split("-next")[0]: e
              for e in Calendar.from_ical(to_ics(rows, LATER, reminder_days=7)).walk("VEVENT")}
    first, second = (next(e for e in events.values() if r.registry_id in str(e["summary"]))
                     for r in rows)
    assert str(first["status"]) == "TENTATIVE" and str(second["status"]) == "CANCELLED"
    assert "2023-02-14" in str(first["description"])
    assert "was the operation done" in str(first["description"])


def test_the_command_line_worklist_of_a_later_date_asks_it(db_url: str,
                                                           tmp_path: Path) -> None:
    """The same through the command line: imported on 2023-02-02, the worklist of
    2025-06-01 (text and JSON) carries the question and names the day."""
    db = ("--database-url", db_url)
    path = write_csv(tmp_path / "one.csv", rows_of({"P-01": CASE}))
    assert run_cli("registry", "init", *db).returncode == 0
    assert run_cli("registry", "import", str(path), "--on", RECORDED.isoformat(),
                   *db).returncode == 0
    r = run_cli("registry", "worklist", "--on", LATER.isoformat(), "-f", "json", *db)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout)["items"][0]
    assert ASKED in {a["id"] for a in row["alerts"]}
    assert "2023-02-14" in row["reason"]


# t1's high-risk case in other stages, the operation planned for 2023-02-14
def _staged(stage: dict[str, Any]) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    case["stage"] = stage
    return case


STAGES: dict[str, dict[str, Any]] = {
    # not removable: mTOR first line (S12); an operation planned (after downstaging?)
    "locally advanced": {"status": "locally_advanced_unresectable", "lymph_nodes": "negative"},
    "localized, not resectable": {"status": "localized", "resectable": "no",
                                  "lymph_nodes": "negative"},
    "metastatic": {"status": "metastatic", "lymph_nodes": "negative",
                   "metastases": [{"site": "lung", "detected_on": "2023-02-01",
                                   "timing": "synchronous"}]},
}


def test_every_stage_asks_it_and_shows_the_day() -> None:
    """An operation planned for an unresectable or metastatic tumour, its day 28 months
    past, was most likely done or dropped; if done, the first-line systemic advice and
    "no calendar" may be wrong. The day had vanished from the output, nothing asked. It is
    among the facts now, asked, and the plan's "no calendar while disease is present" is
    provisional on it, its day among the reason's facts."""
    for name, stage in STAGES.items():
        case = parse_case(_staged(stage))
        a = assess(case, LATER)
        asked = {m.id: m for m in a.missing}
        assert ASKED in asked, name
        assert "the operation planned for 2023-02-14" in asked[ASKED].question, name
        assert ("surgery.date", "2023-02-14, planned, passed") in {
            (f.path, str(f.value)) for f in a.derived}, name
        assert asked[ASKED].affects, name
        plan = plan_surveillance(case, a, LATER, (), default_settings())
        why = plan.reasons[-1]
        assert (plan.status, why.id) == ("not_drawn", "FU-NO-PLAN-ACTIVE-DISEASE"), name
        assert ASKED in why.conditional_on, name
        assert "2023-02-14, planned, passed" in {str(f.value) for f in why.triggered_by}, name
        # before the day: nothing asked
        assert ASKED not in {m.id for m in assess(case, dt.date(2023, 2, 10)).missing}, name


def test_the_question_is_labelled_by_the_surgery_status_control() -> None:
    """The form's "Date of surgery" is filled (the planned day): labelling the question so
    sent the reader to a field already entered. What is asked is whether the operation
    was done: the "Surgery of the primary" control (surgery.status)."""
    from pecoma.web.summary import field_label
    m = next(m for m in assess(parse_case(CASE), LATER).missing if m.id == ASKED)
    assert m.field == "surgery.status"
    assert field_label(m.field) == "Surgery of the primary"
