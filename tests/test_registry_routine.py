"""Routine surveillance, one rule (:mod:`pecoma.registry.routine`): the worklist, the
patient's calendar (``plan.ics``) and the surveillance quality figures stop a patient's
routine visits at the same date, whether the relapse is recorded as an outcome or in a
case version. Expected values worked out by hand from the schedule (high risk: a visit
every 3 months from the anchor, overdue a month later, S18, I2)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from pecoma.registry.outcomes import record_outcome
from pecoma.registry.quality import plans_before_relapse, surveillance_quality
from pecoma.registry.routine import case_relapse, routine
from pecoma.registry.service import record_case
from pecoma.registry.worklist import WorkItem, evaluate, stored_worklist
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.repository import OutcomeData
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, high_risk, repo

__all__ = ["db_url", "repo"]


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


def outcome(repo: Repository, rid: str, event: str, date: str) -> None:
    record_outcome(repo, rid, event, date, None, "symptoms", on_date=ON, actor="dr-a")


@pytest.fixture
def relapsed(repo: Repository) -> Repository:
    """Three high-risk patients, none scanned since treatment (2026-11-28):

    - OUT-1 (outcomes only): resected 2025-01-10, its case still localized; a local
      recurrence recorded 2025-12-15, a metastasis 2026-06-01. Its plan: visits due
      2025-04-10, 07-10, 10-10, 2026-01-10, 04-10, 07-10, 10-10, each overdue a month
      later. Routine surveillance stops at the first relapse, 2025-12-15: visits 1-3
      (closing 2025-05-10, 08-10, 11-10) belong to it, visit 4 on (closing 2026-02-10)
      does not.
    - CASE-2 (a case version only): resected 2025-01-10; a second case version records a
      lung metastasis detected 2025-12-15 (metastatic), no outcome. Disease present: no
      plan is drawn, no routine visit at all.
    - BOTH-3 (the case and an outcome): resected 2025-01-10, a lung metastasis detected
      2025-06-01, free of disease since 2025-09-01 (I8: a plan from that date, visits due
      2025-12-01, 2026-03-01, 06-01, 09-01, overdue a month later); the metastasis is
      also recorded as an outcome (the relapse the case holds, treated), and a local
      recurrence on 2026-05-20, which the case does not hold: routine surveillance stops
      there; visits 1-2 (closing 2026-01-01, 04-01) belong to it, visit 3 on (closing
      2026-07-01) does not.
    """
    add(repo, "OUT-1", high_risk())
    outcome(repo, "OUT-1", "local_recurrence", "2025-12-15")
    outcome(repo, "OUT-1", "distant_metastasis", "2026-06-01")
    add(repo, "CASE-2", high_risk())
    case = high_risk()
    case["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                     "metastases": [{"site": "lung", "detected_on": "2025-12-15"}]}
    add(repo, "CASE-2", case)
    both = high_risk()
    both["stage"] = {"status": "metastatic", "lymph_nodes": "negative",
                     "metastases": [{"site": "lung", "detected_on": "2025-06-01"}]}
    both["free_of_disease"] = {"since": "2025-09-01", "by": "surgery"}
    add(repo, "BOTH-3", both)
    outcome(repo, "BOTH-3", "distant_metastasis", "2025-06-01")
    outcome(repo, "BOTH-3", "local_recurrence", "2026-05-20")
    return repo


@pytest.fixture
def client(relapsed: Repository) -> Iterator[TestClient]:
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = relapsed
    with TestClient(app, base_url="http://localhost") as c:
        yield c


def calendar(client: TestClient, rid: str) -> list[tuple[str, str]]:
    """The patient's plan.ics: (latest date, status) of each visit."""
    r = client.get(f"/registry/patients/{rid}/plan.ics")
    assert r.status_code == 200
    return sorted((str(e["x-pecoma-latest"]), str(e["status"]))
                  for e in Calendar.from_ical(r.content).walk("VEVENT"))


def windows(repo: Repository, rid: str) -> tuple[int, int]:
    """The patient's surveillance quality: windows closed, missed."""
    evaluated = [e for e in evaluate(repo.states(), ON, default_settings())
                 if e.state.registry_id == rid]
    q = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), ON,
                             plans_before_relapse(repo, evaluated, ON, default_settings()))
    return q.windows_closed, q.missed


def row(repo: Repository, rid: str) -> WorkItem:
    return next(i for i in stored_worklist(repo, ON, default_settings())
                if i.registry_id == rid)


class TestOneRuleEverywhere:
    def test_a_relapse_recorded_as_outcomes(self, relapsed: Repository,
                                            client: TestClient) -> None:
        """The quality figures counted OUT-1's visits 4-7 as missed, after its relapse (7
        windows, 7 missed); the calendar and the worklist took the latest relapse
        (2026-06-01), so visits 4 and 5 (closing 2026-02-10, 05-10) stayed confirmed.
        All three now stop at the first relapse, 2025-12-15."""
        item = row(relapsed, "OUT-1")
        assert item.status.value == "suspended" and item.due is None
        assert item.reason.startswith("local recurrence recorded on 2025-12-15, found by "
                                      "symptoms, which the case does not hold")
        events = calendar(client, "OUT-1")
        kept = [latest for latest, status in events if status == "CONFIRMED"]
        assert kept == ["2025-05-10", "2025-08-10", "2025-11-10"]
        assert all(status == "CANCELLED" for latest, status in events
                   if latest >= "2025-12-15")
        assert windows(relapsed, "OUT-1") == (3, 3)

    def test_the_calendar_says_why_a_visit_was_cancelled(self, client: TestClient) -> None:
        """OUT-1's visits after its relapse of 2025-12-15 are cancelled because of that
        relapse; the calendar had given the plan's first reason instead (that surveillance
        has no end date), which says nothing of why the visit is off."""
        r = client.get("/registry/patients/OUT-1/plan.ics")
        cancelled = [str(e["description"]) for e in Calendar.from_ical(r.content).walk("VEVENT")
                     if str(e["status"]) == "CANCELLED"]
        assert cancelled
        for text in cancelled:
            why = next(line for line in text.splitlines() if line.startswith("Cancelled: "))
            assert why.startswith("Cancelled: local recurrence recorded on 2025-12-15"), why
            assert "routine visits are suspended" in why

    def test_a_relapse_recorded_in_a_case_version(self, relapsed: Repository,
                                                  client: TestClient) -> None:
        """CASE-2's case records the metastasis: no routine visit now (the plan is not
        drawn while disease is present). The visits before the relapse (1-3, closing
        before 2025-12-15) were routine surveillance, counted from the earlier case
        version's plan as OUT-1's are from its plan: the same disease gives the same
        figures whichever way the relapse was recorded (they had counted no window)."""
        item = row(relapsed, "CASE-2")
        assert item.status.value == "not_drawn" and item.due is None
        assert item.reason == "No surveillance calendar while disease is present"
        assert calendar(client, "CASE-2") == []
        assert windows(relapsed, "CASE-2") == windows(relapsed, "OUT-1") == (3, 3)

    def test_a_treated_relapse_in_the_case_and_a_new_one_as_an_outcome(
            self, relapsed: Repository, client: TestClient) -> None:
        """BOTH-3: the metastasis of 2025-06-01, recorded both ways, is the one the case
        holds as treated: it stops nothing. The recurrence of 2026-05-20 stops routine
        surveillance on the worklist and the calendar, and now in the quality figures
        too (they counted visits 3 and 4, closing 2026-07-01 and 10-01, as missed: 4
        windows, 4 missed). Before the metastasis, the resected primary's routine
        surveillance ran from 2025-01-10: its first visit (due 2025-04-10, closing
        2025-05-10, before the metastasis of 2025-06-01) is counted, missed, as CASE-2's
        are from its earlier version: the case records that resection, so the figures do
        not depend on whether a localized version was stored first (3 windows, 3
        missed)."""
        item = row(relapsed, "BOTH-3")
        assert item.status.value == "suspended"
        assert item.reason.startswith("local recurrence recorded on 2026-05-20")
        events = calendar(client, "BOTH-3")
        assert [latest for latest, status in events if status == "CONFIRMED"] == [
            "2026-01-01", "2026-04-01"]
        assert all(status == "CANCELLED" for latest, status in events
                   if latest >= "2026-05-20")
        assert windows(relapsed, "BOTH-3") == (3, 3)


class TestLeftSurveillance:
    """A patient who died or is lost to follow-up has no next scan on the worklist and
    the patient's page ('deceased', 'lost to follow-up'); plan.ics still held every
    visit whose window had closed unscanned as an OVERDUE event on the evaluation date,
    confirmed, with a reminder, saying "Book the scan or record it": a scan asked for a
    patient whose recorded death rules it out. Only the visits after the stop were
    cancelled."""

    @pytest.fixture
    def left(self, repo: Repository) -> Iterator[TestClient]:
        """DEAD-1 and LOST-1, high risk, resected 2025-01-10, never scanned: visits
        close 2025-05-10, 08-10, 11-10, 2026-02-10, 05-10, 08-10, 11-10 (due a month
        earlier), and on to the plan's horizon. DEAD-1 died 2026-09-01; LOST-1's last
        contact, 2025-12-15, says lost to follow-up."""
        add(repo, "DEAD-1", high_risk())
        record_outcome(repo, "DEAD-1", "death", "2026-09-01", "dead_of_other_cause", None,
                       on_date=ON, actor="dr-a")
        add(repo, "LOST-1", high_risk())
        record_outcome(repo, "LOST-1", "last_contact", "2025-12-15", "lost_to_follow_up",
                       None, on_date=ON, actor="dr-a")
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        with TestClient(app, base_url="http://localhost") as c:
            yield c

    @staticmethod
    def events(client: TestClient, rid: str) -> list[Any]:
        r = client.get(f"/registry/patients/{rid}/plan.ics")
        assert r.status_code == 200
        return list(Calendar.from_ical(r.content).walk("VEVENT"))

    def test_after_a_death_nothing_is_booked(self, left: TestClient) -> None:
        """Every visit of DEAD-1 not done is cancelled, because of the death: none is
        dated on the evaluation date, none is overdue, none rings, none says to book."""
        events = self.events(left, "DEAD-1")
        assert len(events) > 7  # the plan's visits to its horizon
        for e in events:
            assert str(e["status"]) == "CANCELLED"
            assert "OVERDUE" not in str(e["summary"])
            assert "Book the scan" not in str(e["description"])
            assert "Cancelled: died on 2026-09-01" in str(e["description"])
            assert not e.walk("VALARM")
            assert e.decoded("dtstart") != ON

    def test_lost_to_follow_up_shows_the_missed_visits_as_missed(
            self, left: TestClient) -> None:
        """LOST-1 left surveillance on 2025-12-15 (the worklist: no next scan). Its
        visits 1-3, closed before then unscanned, were missed while it was followed:
        shown on their own window as missed (the quality figures count them so), with
        no reminder and nothing to book; visit 4 on is cancelled."""
        events = sorted(self.events(left, "LOST-1"), key=lambda e: str(e["x-pecoma-latest"]))
        got = [(str(e["x-pecoma-latest"]), str(e["status"]), e.decoded("dtstart").isoformat())
               for e in events]
        assert got[:4] == [
            ("2025-05-10", "CONFIRMED", "2025-04-10"),
            ("2025-08-10", "CONFIRMED", "2025-07-10"),
            ("2025-11-10", "CONFIRMED", "2025-10-10"),
            ("2026-02-10", "CANCELLED", "2026-01-10"),
        ]
        assert all(status == "CANCELLED" for _latest, status, _start in got[3:])
        for e in events:
            assert "OVERDUE" not in str(e["summary"]) and not e.walk("VALARM")
            assert "Book the scan" not in str(e["description"])
        assert [str(e["summary"]).endswith("(missed)") for e in events[:3]] == [True] * 3
        assert windows(left.app.state.registry, "LOST-1") == (3, 3)  # type: ignore[attr-defined]

    @staticmethod
    def plan_rows(client: TestClient, rid: str, on: str) -> list[tuple[str, str]]:
        """The patient page's surveillance plan table as of ``on``: (latest date, status
        cell) of each row."""
        import re
        from html import unescape

        r = client.get(f"/registry/patients/{rid}?on={on}")
        assert r.status_code == 200
        table = r.text.split('aria-label="Surveillance plan"', 1)[1].split("</table>", 1)[0]
        rows = []
        for tr in re.findall(r"<tr><td>.*?</tr>", table, flags=re.S):
            cells = [unescape(re.sub(r"<[^>]+>", "", c)).strip()
                     for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
            rows.append((cells[2], cells[3]))
        return rows

    def test_the_page_cancels_what_the_calendar_cancels(self, left: TestClient) -> None:
        """DEAD-1 died 2026-09-01. As of 2026-11-28 the page listed its visits as
        overdue (window closed unscanned), due and upcoming beside 'Deceased' while its
        plan.ics cancelled every one of them: the page follows the calendar's rule now.
        Every visit shown is cancelled, saying why; none is overdue, due or upcoming."""
        rows = self.plan_rows(left, "DEAD-1", ON.isoformat())
        assert len(rows) >= 7  # visits closing 2025-05-10 ... 2026-11-10 at least
        for _latest, status in rows:
            assert status.lower().startswith("cancelled"), status
            assert "died on 2026-09-01" in status
        ics = {latest for latest, status in calendar(left, "DEAD-1") if status == "CANCELLED"}
        assert {latest for latest, _status in rows} <= ics

    def test_the_page_shows_the_visits_missed_before_a_loss(self, left: TestClient) -> None:
        """LOST-1 left surveillance on 2025-12-15: as on its calendar, visits 1-3 (closed
        2025-05-10, 08-10, 11-10 unscanned while followed) are missed, visit 4 on
        (closing 2026-02-10) cancelled; none is overdue, due or upcoming."""
        rows = self.plan_rows(left, "LOST-1", ON.isoformat())
        assert [(latest, status.lower()) for latest, status in rows[:3]] == [
            ("2025-05-10", "missed"), ("2025-08-10", "missed"), ("2025-11-10", "missed")]
        assert rows[3][0] == "2026-02-10"
        assert all(status.lower().startswith("cancelled") for _latest, status in rows[3:])


class TestTheRule:
    """:func:`routine` and :func:`case_relapse` on hand-made facts."""

    def test_the_relapse_a_case_dates(self) -> None:
        """Dated by its first metastasis only when every metastasis is dated, whether
        the status is metastatic or recurrent with metastases listed (the same relapse,
        I6); a recurrent case with none listed (a local recurrence) gives no date; a
        localized one, none."""
        d1, d2 = dt.date(2026, 3, 1), dt.date(2026, 1, 1)
        assert case_relapse("metastatic", [d1, d2], None).on == d2  # type: ignore[union-attr]
        assert case_relapse("metastatic", [d1, None], None).on is None  # type: ignore[union-attr]
        assert case_relapse("recurrent", [d1], None).on == d1  # type: ignore[union-attr]
        assert case_relapse("recurrent", [], None).on is None  # type: ignore[union-attr]
        assert case_relapse("localized", [d1], None) is None
        assert case_relapse("locally_advanced_unresectable", [], None) is None

    def test_a_death_after_a_relapse(self) -> None:
        """Listed as deceased (the patient left surveillance), routine visits stopped at
        the relapse, the earlier of the two."""
        outcomes = [OutcomeData("distant_metastasis", dt.date(2026, 2, 1)),
                    OutcomeData("death", dt.date(2026, 9, 1), "dead_of_disease")]
        r = routine(None, outcomes, None)
        assert (r.stop, r.until) == ("deceased", dt.date(2026, 2, 1))
        assert r.runs_on(dt.date(2026, 1, 31)) and not r.runs_on(dt.date(2026, 2, 1))

    def test_a_relapse_the_case_holds_without_a_date_free_of_disease(self) -> None:
        """Disease present since the case's first metastasis (the earlier of it and the
        outcome); with no date known at all, routine surveillance runs on no day."""
        case = case_relapse("metastatic", [dt.date(2026, 4, 1)], None)
        later = [OutcomeData("distant_metastasis", dt.date(2026, 5, 1))]
        r = routine(case, later, None)
        assert (r.stop, r.until) == ("suspended", dt.date(2026, 4, 1))
        # held by the case: no alert that the case lacks it (a relapse recorded only as
        # an outcome, on a case that holds none, is one)
        assert not r.not_in_case
        assert routine(None, later, None).not_in_case
        undated = routine(case_relapse("recurrent", [], None), [], None)
        assert undated.stop == "suspended" and undated.until is None
        assert not undated.runs_on(dt.date(2000, 1, 1))

    def test_a_contact_alive_with_disease_after_the_day_free_of_disease(self) -> None:
        """The case holds the patient free of disease from its resection (R0 on
        2026-01-10; a completing resection's day, its margin R0; never after a resection
        that left gross tumour, R2 or a completion whose margin is not recorded, nor
        without one) or from its date free of disease again. A contact alive with disease
        after that day stops routine visits on its day (S17, S27); before it, disease
        was there."""
        from pecoma.case import parse_case
        from pecoma.registry.routine import free_from, free_from_of

        r0 = {"status": "performed", "date": "2026-01-10", "margin": "R0"}
        assert free_from(None, r0) == dt.date(2026, 1, 10)
        assert free_from(dt.date(2026, 6, 1), r0) == dt.date(2026, 6, 1)
        assert free_from(None, {**r0, "margin": "R2"}) is None
        assert free_from(None, {**r0, "margin": "R2", "completion": {
            "date": "2026-02-01", "margin": "R0"}}) == dt.date(2026, 2, 1)
        assert free_from(None, {**r0, "margin": "R2", "completion": {
            "date": "2026-02-01"}}) is None
        assert free_from(None, {"status": "planned", "date": "2026-01-10"}) is None
        assert free_from_of(parse_case(high_risk("2026-01-10"))) == dt.date(2026, 1, 10)
        contact = [OutcomeData("last_contact", dt.date(2026, 5, 1), "alive_with_disease")]
        r = routine(None, contact, None, dt.date(2026, 1, 10))
        assert (r.stop, r.until, r.reported) == ("suspended", dt.date(2026, 5, 1),
                                                 dt.date(2026, 5, 1))
        assert r.runs_on(dt.date(2026, 4, 30)) and not r.runs_on(dt.date(2026, 5, 1))
        assert routine(None, contact, None, dt.date(2026, 5, 1)).stop is None
        assert routine(None, contact, None, None).stop is None

    def test_no_outcome_that_ends_it(self) -> None:
        contact = [OutcomeData("last_contact", dt.date(2026, 5, 1), "alive_without_disease")]
        r = routine(None, contact, None)
        assert r.stop is None and r.runs_on(dt.date(2040, 1, 1))
