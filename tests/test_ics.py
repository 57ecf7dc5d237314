"""The iCalendar export: parsed back it gives the same visits; UIDs are stable across
re-exports; nothing reads the clock; the case key never appears in the file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from pecoma import assess, parse_case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import ConfigError
from pecoma.render.ics import case_key_digest, plan_to_ics, visit_uid
from pecoma.settings import default_settings, load_settings

CASE = parse_case({
    "label": "ics test",
    "tumour": {"primary_site": "uterus", "size": {"value": 7, "unit": "cm"}},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R0"},
})
KEY = "MRN-0042"


def _plan(on: dt.date, *scans: ImagingEvent) -> SurveillancePlan:
    return plan_surveillance(CASE, assess(CASE, on), on, scans)


def _scan(day: str, modality: Modality = Modality.chest_ct,
          finding: ScanFinding = ScanFinding.no_evidence_of_disease) -> ImagingEvent:
    return ImagingEvent(dt.date.fromisoformat(day), modality, finding)


def _events(data: bytes) -> dict[str, dict[str, object]]:
    cal = Calendar.from_ical(data)
    out: dict[str, dict[str, object]] = {}
    for ev in cal.walk("VEVENT"):
        out[str(ev["UID"])] = {
            "start": ev.decoded("DTSTART"),
            "end": ev.decoded("DTEND"),
            "sequence": int(ev["SEQUENCE"]),
            "summary": str(ev["SUMMARY"]),
            "description": str(ev["DESCRIPTION"]),
            "status": str(ev["STATUS"]),
            "dtstamp": ev.decoded("DTSTAMP"),
            "phase": str(ev["X-PECOMA-PHASE"]),
        }
    return out


class TestPlanToIcs:
    def test_round_trip_gives_the_same_visits(self) -> None:
        """Every visit is one event: due date, window end, UID, modality and reason."""
        plan = _plan(dt.date(2025, 1, 10))
        events = _events(plan_to_ics(plan, KEY))
        assert len(events) == len(plan.visits) == 21
        for v in plan.visits:
            ev = events[visit_uid(KEY, v)]
            assert ev["start"] == v.due
            assert ev["end"] == v.latest + dt.timedelta(days=1)
            assert ev["phase"] == v.phase
            assert "chest CT" in str(ev["summary"]) and "MRI" in str(ev["summary"])
            assert v.provenance.label in str(ev["description"])
            assert f"overdue after {v.latest.isoformat()}" in str(ev["description"])

    def test_an_equivocal_scan_on_the_surgery_date_is_on_the_next_visit(self) -> None:
        """A chest CT on the surgery date reported equivocal calls for the team's decision
        before the first routine visit (I16); the plan alerts it, but the calendar, which
        a coordinator schedules from, said nothing: it is no visit's scan. The next open
        visit now carries it as an open alert; once a later chest CT is clear, no visit
        does."""
        plan = _plan(dt.date(2025, 2, 1), _scan("2025-01-10", finding=ScanFinding.equivocal))
        events = list(_events(plan_to_ics(plan, KEY)).values())
        nxt = plan.next_visit
        assert nxt is not None
        [first] = [e for e in events if e["start"] == nxt.due]
        assert "Open alert, to act on before this visit: " in str(first["description"])
        assert sum("Open alert" in str(e["description"]) for e in events) == 1
        settled = _plan(dt.date(2025, 6, 1), _scan("2025-01-10", finding=ScanFinding.equivocal),
                        _scan("2025-04-10"), _scan("2025-04-10", Modality.mri_primary))
        assert not any("Open alert" in str(e["description"])
                       for e in _events(plan_to_ics(settled, KEY)).values())

    def test_first_event(self) -> None:
        """The first event spans 2025-04-10 to 2025-05-10 inclusive."""
        data = plan_to_ics(_plan(dt.date(2025, 1, 10)), KEY).decode()
        assert "DTSTART;VALUE=DATE:20250410" in data
        assert "DTEND;VALUE=DATE:20250511" in data

    def test_reexport_with_one_more_scan_keeps_uids(self) -> None:
        """A new scan updates events (same UIDs, higher SEQUENCE); none is duplicated."""
        before = _events(plan_to_ics(_plan(dt.date(2025, 4, 1)), KEY))
        after = _events(plan_to_ics(
            _plan(dt.date(2025, 4, 20), _scan("2025-04-15"),
                  _scan("2025-04-15", Modality.mri_primary)), KEY))
        gone = set(before) - set(after)
        # Only a visit pushed past the 10-year horizon by the re-anchoring may drop out.
        assert all(before[u]["start"] > dt.date(2034, 1, 10) for u in gone), gone
        first = visit_uid(KEY, _plan(dt.date(2025, 1, 10)).visits[0])
        assert after[first]["start"] == before[first]["start"]
        assert after[first]["sequence"] > before[first]["sequence"]
        assert "done 2025-04-15" in str(after[first]["summary"])
        for uid, ev in after.items():
            if uid in before and uid != first:
                assert ev["sequence"] >= int(str(before[uid]["sequence"]))
                if ev["start"] != before[uid]["start"]:
                    assert ev["sequence"] > int(str(before[uid]["sequence"]))

    def test_unchanged_events_are_identical_when_only_status_changes(self) -> None:
        """Exporting the same plan on a later day changes DTSTAMP only."""
        a = _events(plan_to_ics(_plan(dt.date(2025, 2, 1)), KEY))
        b = _events(plan_to_ics(_plan(dt.date(2025, 3, 1)), KEY))
        assert set(a) == set(b)
        for uid in a:
            assert {k: v for k, v in a[uid].items() if k != "dtstamp"} == {
                k: v for k, v in b[uid].items() if k != "dtstamp"}

    def test_dtstamp_is_the_evaluation_date(self) -> None:
        """DTSTAMP comes from the plan's date, not the clock: same plan, same bytes."""
        plan = _plan(dt.date(2025, 2, 1))
        data = plan_to_ics(plan, KEY)
        assert data == plan_to_ics(plan, KEY)
        assert b"DTSTAMP:20250201T000000Z" in data

    def test_a_title_says_done_only_for_the_examinations_done(self) -> None:
        """Surgery 2025-01-10, high risk (S18, S21, S22): an ultrasound on 2025-04-15
        stands for neither chest CT nor MRI, so visit 1 is overdue as of 2025-06-01 (it
        was titled "chest CT + MRI primary site (done 2025-04-15)"), and the description
        says the ultrasound was all that was recorded. An MRI alone makes the visit
        done: the title names the MRI done and the chest CT not recorded."""
        plan = _plan(dt.date(2025, 6, 1), _scan("2025-04-15", Modality.ultrasound))
        ev = _events(plan_to_ics(plan, KEY))[visit_uid(KEY, plan.visits[0])]
        assert ev["summary"] == ("ics test: PEComa surveillance visit 1: chest CT + MRI "
                                 "primary site (OVERDUE since 2025-05-11)")
        assert str(ev["description"]).startswith(
            "OVERDUE since 2025-05-11, as of 2025-06-01: none of its examinations is "
            "recorded (only ultrasound 2025-04-15: not a planned examination).")
        plan = _plan(dt.date(2025, 6, 1), _scan("2025-04-15", Modality.mri_primary))
        ev = _events(plan_to_ics(plan, KEY))[visit_uid(KEY, plan.visits[0])]
        assert ev["summary"] == ("ics test: PEComa surveillance visit 1: MRI primary site "
                                 "(done 2025-04-15); chest CT not recorded")

    def test_an_overdue_visit_says_so_and_rings_on_the_evaluation_date(self) -> None:
        """Surgery 2025-01-10, high risk, no scan: visit 1 (due 2025-04-10, latest
        2025-05-10, S18, I2) is overdue as of 2025-06-01. It was exported on its past
        window with a reminder on 2025-03-27 and nothing saying overdue: an import showed
        nothing to act on. Now it is titled and described "OVERDUE since 2025-05-11" and
        is on 2025-06-01, ringing then; its window is still in the description."""
        plan = _plan(dt.date(2025, 6, 1))
        assert plan.visits[0].status == "overdue"
        cal = Calendar.from_ical(plan_to_ics(plan, KEY))
        ev = next(e for e in cal.walk("VEVENT")
                  if str(e["UID"]) == visit_uid(KEY, plan.visits[0]))
        assert str(ev["SUMMARY"]) == ("ics test: PEComa surveillance visit 1: chest CT + "
                                      "MRI primary site (OVERDUE since 2025-05-11)")
        assert str(ev["DESCRIPTION"]).startswith(
            "OVERDUE since 2025-05-11, as of 2025-06-01: no scan is recorded for this "
            "visit. Book the scan or record it.")
        assert "Due 2025-04-10; overdue after 2025-05-10" in str(ev["DESCRIPTION"])
        assert (ev.decoded("DTSTART"), ev.decoded("DTEND")) == (
            dt.date(2025, 6, 1), dt.date(2025, 6, 2))
        assert (str(ev["X-PECOMA-DUE"]), str(ev["X-PECOMA-LATEST"])) == (
            "2025-04-10", "2025-05-10")
        [alarm] = ev.walk("VALARM")
        assert alarm.decoded("TRIGGER") == dt.timedelta(0)  # at the start of 2025-06-01
        assert "OVERDUE since 2025-05-11" in str(alarm["DESCRIPTION"])
        # The scans done on 2025-06-03 are recorded: the same event goes back to its
        # window, titled done (late: both after 2025-05-10), as an update (a higher
        # SEQUENCE), no reminder.
        done = _plan(dt.date(2025, 6, 5), _scan("2025-06-03"),
                     _scan("2025-06-03", Modality.mri_primary))
        before = _events(plan_to_ics(plan, KEY))[visit_uid(KEY, plan.visits[0])]
        after = _events(plan_to_ics(done, KEY))[visit_uid(KEY, done.visits[0])]
        assert after["start"] == dt.date(2025, 4, 10)
        assert after["summary"] == ("ics test: PEComa surveillance visit 1: chest CT + "
                                    "MRI primary site (done 2025-06-03); chest CT + MRI "
                                    "primary site late (after 2025-05-10)")
        assert int(str(after["sequence"])) > int(str(before["sequence"]))

    def test_case_key_is_hashed(self) -> None:
        """The key (it may be a record number) never appears in the file."""
        data = plan_to_ics(_plan(dt.date(2025, 2, 1)), KEY)
        assert KEY.encode() not in data
        assert case_key_digest(KEY).encode() in data
        assert case_key_digest(KEY) != case_key_digest("MRN-0043")

    def test_suspended_plan_cancels_later_events(self) -> None:
        """After a recurrence, later visits are exported with STATUS:CANCELLED."""
        before = _events(plan_to_ics(_plan(dt.date(2025, 4, 1)), KEY))
        plan = _plan(dt.date(2025, 8, 1), _scan("2025-04-15"),
                     _scan("2025-04-15", Modality.mri_primary),
                     _scan("2025-07-15", finding=ScanFinding.metastasis))
        after = _events(plan_to_ics(plan, KEY))
        cancelled = {uid for uid, ev in after.items() if ev["status"] == "CANCELLED"}
        assert cancelled and cancelled <= set(before)
        for uid in cancelled:
            assert after[uid]["sequence"] > int(str(before[uid]["sequence"]))
            assert "Surveillance suspended" in str(after[uid]["description"])

    def test_a_late_scan_finding_disease_cancels_every_visit_of_the_previous_export(
            self) -> None:
        """High risk, resected 2025-01-10, chest CT and MRI clear on 2025-04-10: the export
        of 2025-05-01 holds visits 1 to 21, visit 21 due 2035-01-10 (3-monthly from
        2025-04-10 to 2028-01-10, 6-monthly to 2030-01-10, then yearly, within 10 years
        of the surgery). A chest CT finds metastasis on 2025-07-12, two days after visit 2
        was due: the plan is suspended (S27), and the next export cancels visits 3 to 21,
        on the dates the first export gave them. Counted from the day of that CT, visit 21
        fell after the horizon and was left out: the clinic's calendar kept it as a
        confirmed routine visit for a patient with metastases."""
        first = _plan(dt.date(2025, 5, 1), _scan("2025-04-10"),
                      _scan("2025-04-10", Modality.mri_primary))
        before = _events(plan_to_ics(first, KEY))
        plan = _plan(dt.date(2025, 7, 13), _scan("2025-04-10"),
                     _scan("2025-04-10", Modality.mri_primary),
                     _scan("2025-07-12", finding=ScanFinding.metastasis))
        after = _events(plan_to_ics(plan, KEY))
        last = f"{case_key_digest(KEY)}-visit-21@pecoma.invalid"
        assert before[last]["start"] == dt.date(2035, 1, 10)
        assert set(before) <= set(after)
        cancelled = sorted(int(uid.split("-visit-")[1].split("@")[0])
                           for uid, ev in after.items() if ev["status"] == "CANCELLED")
        assert cancelled == list(range(3, 22))
        assert after[last]["start"] == dt.date(2035, 1, 10)
        assert int(str(after[last]["sequence"])) > int(str(before[last]["sequence"]))

    def test_the_cancelled_visits_cover_exports_drawn_before_a_later_scan(self) -> None:
        """The same patient, exported on 2025-05-01 (visits 1 to 21, the last due
        2035-01-10). A chest CT and an MRI repeated on 2025-05-10, within a month of
        visit 1's scans, join visit 1 and count the plan from that day (each examination
        by its last scan at the visit): that export holds 20 visits. An MRI on 2025-05-20
        finds metastasis: the export after it cancels visit 21 of the first export too,
        on its date there."""
        clear = (_scan("2025-04-10"), _scan("2025-04-10", Modality.mri_primary))
        again = (_scan("2025-05-10"), _scan("2025-05-10", Modality.mri_primary))
        first = _events(plan_to_ics(_plan(dt.date(2025, 5, 1), *clear), KEY))
        second = _events(plan_to_ics(_plan(dt.date(2025, 5, 11), *clear, *again), KEY))
        plan = _plan(dt.date(2025, 5, 21), *clear, *again,
                     _scan("2025-05-20", Modality.mri_primary, ScanFinding.metastasis))
        after = _events(plan_to_ics(plan, KEY))
        last = f"{case_key_digest(KEY)}-visit-21@pecoma.invalid"
        assert last in first and last not in second
        assert set(first) | set(second) <= set(after)
        assert after[last]["status"] == "CANCELLED"
        assert after[last]["start"] == dt.date(2035, 1, 10)

    @pytest.mark.parametrize(("surgery", "why"), [
        ({"status": "performed"}, "start of surveillance is not known"),
        ({"status": "planned"}, "No surveillance calendar while the primary tumour is in place"),
    ])
    def test_plan_that_cannot_be_dated_says_why(self, surgery: dict[str, Any], why: str
                                                ) -> None:
        """No anchor (a resection without its date), or the primary still in place (I20):
        a valid calendar with no events and the reason in its description."""
        case = parse_case({"tumour": {"primary_site": "kidney"},
                           "stage": {"status": "localized"},
                           "surgery": surgery})
        on = dt.date(2025, 1, 10)
        plan = plan_surveillance(case, assess(case, on), on)
        cal = Calendar.from_ical(plan_to_ics(plan, KEY))
        assert cal.walk("VEVENT") == []
        assert why in str(cal["X-WR-CALDESC"])

    def test_empty_key_is_refused(self) -> None:
        with pytest.raises(ValueError, match="case_key"):
            plan_to_ics(_plan(dt.date(2025, 2, 1)), "")


class TestReexportProperty:
    @given(gaps=st.lists(st.integers(20, 200), min_size=1, max_size=8),
           extra=st.integers(20, 200))
    @settings(max_examples=30, deadline=None)
    def test_done_visits_unchanged_when_a_later_scan_is_added(
        self, gaps: list[int], extra: int
    ) -> None:
        """A scan after the last done visit's window leaves every earlier done or missed
        visit's event unchanged (UID, dates, sequence) and keeps every earlier UID."""
        day, scans = dt.date(2025, 1, 10), []
        for gap in gaps:
            day += dt.timedelta(days=gap)
            scans += [_scan(day.isoformat()), _scan(day.isoformat(), Modality.mri_primary)]
        # The new scan comes after the window of the last done visit and more than a
        # window's width (1 month here) after its scans: a scan within either would join
        # that visit, and rightly change it.
        done = [v for v in _plan(day, *scans).visits if v.status == "done"]
        later = max(day + dt.timedelta(days=31), done[-1].latest) + dt.timedelta(days=extra)
        on = later + dt.timedelta(days=1)
        before_plan = _plan(on, *scans)
        after_plan = _plan(on, *scans, _scan(later.isoformat()))
        before = _events(plan_to_ics(before_plan, KEY))
        after = _events(plan_to_ics(after_plan, KEY))
        for v in before_plan.visits:
            if v.status in ("done", "missed"):
                uid = visit_uid(KEY, v)
                assert {k: x for k, x in after[uid].items() if k != "dtstamp"} == {
                    k: x for k, x in before[uid].items() if k != "dtstamp"}
        horizon = before_plan.horizon_end
        assert horizon is not None
        for uid in set(before) - set(after):
            assert before[uid]["start"] > dt.date(horizon.year - 1, horizon.month, 1)


def test_calendar_name_escapes_backslash_semicolon_and_comma() -> None:
    """A label with '\\', ';' and ',' is written escaped as TEXT in X-WR-CALNAME (so a
    calendar program reads the same name back), never raw."""
    label = "ward 3\\b; desk, left"
    case = parse_case({**CASE.model_dump(mode="json"), "label": label})
    on = dt.date(2026, 11, 28)
    data = plan_to_ics(plan_surveillance(case, assess(case, on), on, ()), KEY)
    unfolded = data.decode().replace("\r\n ", "")
    assert "X-WR-CALNAME:PEComa surveillance: ward 3\\\\b\\; desk\\, left\r\n" in unfolded


class TestTitleAndReminder:
    """Each event names the patient and the visit, spans the visit's window, and reminds
    a set number of days before the window opens."""

    def _first(self, data: bytes, plan: SurveillancePlan) -> Any:
        cal = Calendar.from_ical(data)
        uid = visit_uid(KEY, plan.visits[0])
        return next(e for e in cal.walk("VEVENT") if str(e["UID"]) == uid)

    def test_event_for_a_visit(self) -> None:
        """Surgery 2025-01-10, high risk: visit 1 is due 2025-04-10 and overdue after
        2025-05-10 (3-4 months, S18). With a 10-day reminder the alarm is set 10 days
        before 2025-04-10, i.e. it rings on 2025-03-31."""
        plan = _plan(dt.date(2025, 1, 10))
        ev = self._first(plan_to_ics(plan, KEY, reminder_days=10), plan)
        assert ev.decoded("DTSTART") == dt.date(2025, 4, 10)
        assert ev.decoded("DTEND") == dt.date(2025, 5, 11)  # the last day 2025-05-10 included
        assert str(ev["SUMMARY"]) == (
            "ics test: PEComa surveillance visit 1: chest CT + MRI primary site")
        [alarm] = ev.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm["TRIGGER"].params["RELATED"] == "START"
        assert alarm.decoded("TRIGGER") == -dt.timedelta(days=10)
        assert ev.decoded("DTSTART") + alarm.decoded("TRIGGER") == dt.date(2025, 3, 31)
        assert "ics test" in str(alarm["DESCRIPTION"])

    def test_default_reminder_comes_from_the_settings(self) -> None:
        """The documented default (followup.calendar_reminder_days = 14)."""
        plan = _plan(dt.date(2025, 1, 10))
        unfolded = plan_to_ics(plan, KEY).decode().replace("\r\n ", "")
        assert "TRIGGER;RELATED=START:-P14D" in unfolded
        assert default_settings().followup.calendar_reminder_days == 14

    def test_zero_days_rings_when_the_window_opens(self) -> None:
        plan = _plan(dt.date(2025, 1, 10))
        [alarm] = self._first(plan_to_ics(plan, KEY, reminder_days=0), plan).walk("VALARM")
        assert alarm.decoded("TRIGGER") == dt.timedelta(0)

    def test_label_given_names_the_patient(self) -> None:
        """A registry passes its pseudonymous id; the UID stays the same."""
        plan = _plan(dt.date(2025, 1, 10))
        ev = self._first(plan_to_ics(plan, KEY, label="PEC-0042"), plan)
        assert str(ev["SUMMARY"]).startswith("PEC-0042: PEComa surveillance visit 1: ")
        assert str(ev["UID"]) == visit_uid(KEY, plan.visits[0])

    def test_no_label(self) -> None:
        case = parse_case({**CASE.model_dump(mode="json"), "label": None})
        on = dt.date(2025, 1, 10)
        plan = plan_surveillance(case, assess(case, on), on, ())
        ev = self._first(plan_to_ics(plan, KEY), plan)
        assert str(ev["SUMMARY"]).startswith("PEComa surveillance visit 1: ")

    def test_done_and_cancelled_visits_do_not_remind(self) -> None:
        """Visit 1 done on 2025-04-15; a metastasis on 2025-07-15 cancels later visits:
        neither the done nor a cancelled visit rings."""
        plan = _plan(dt.date(2025, 8, 1), _scan("2025-04-15"),
                     _scan("2025-04-15", Modality.mri_primary),
                     _scan("2025-07-15", finding=ScanFinding.metastasis))
        cal = Calendar.from_ical(plan_to_ics(plan, KEY))
        by_uid = {str(e["UID"]): e for e in cal.walk("VEVENT")}
        assert plan.visits[0].status == "done"
        assert by_uid[visit_uid(KEY, plan.visits[0])].walk("VALARM") == []
        assert plan.cancelled
        for v in plan.cancelled:
            assert by_uid[visit_uid(KEY, v)].walk("VALARM") == []

    @pytest.mark.parametrize("days", [-1, 366])
    def test_reminder_out_of_range_is_refused(self, days: int) -> None:
        expected = rf"'reminder_days' must be 0 to 365 days \(got {days}\)"
        with pytest.raises(ValueError, match=expected):
            plan_to_ics(_plan(dt.date(2025, 2, 1)), KEY, reminder_days=days)

    def test_settings_file_sets_the_reminder(self, tmp_path: Path) -> None:
        conf = tmp_path / "s.toml"
        conf.write_text("[followup]\ncalendar_reminder_days = 3\n", encoding="utf-8")
        assert load_settings(conf).followup.calendar_reminder_days == 3
        conf.write_text("[followup]\ncalendar_reminder_days = -2\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="calendar_reminder_days"):
            load_settings(conf)


@given(days=st.integers(0, 365), offset=st.integers(0, 4000))
@settings(max_examples=25, deadline=None)
def test_every_open_visit_reminds_once_and_spans_its_window(days: int, offset: int) -> None:
    """Whatever the reminder and the evaluation date: an event per visit spanning exactly
    its window, one reminder on each visit still to be done, none on the others; a visit
    overdue as of the evaluation date is on that date, ringing at its start (its window
    and the reminder before it are past)."""
    on = dt.date(2025, 1, 10) + dt.timedelta(days=offset)
    plan = _plan(on)
    cal = Calendar.from_ical(plan_to_ics(plan, KEY, reminder_days=days))
    by_uid = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    assert len(by_uid) == len(plan.visits) + len(plan.cancelled)
    for v in (*plan.visits, *plan.cancelled):
        ev = by_uid[visit_uid(KEY, v)]
        alarms = ev.walk("VALARM")
        if v.status == "overdue":
            assert ev.decoded("DTSTART") == on
            assert ev.decoded("DTEND") == on + dt.timedelta(days=1)
            assert [a.decoded("TRIGGER") for a in alarms] == [dt.timedelta(0)]
            continue
        assert ev.decoded("DTSTART") == v.due
        assert ev.decoded("DTEND") == v.latest + dt.timedelta(days=1)
        if v.open:
            assert [a.decoded("TRIGGER") for a in alarms] == [-dt.timedelta(days=days)]
        else:
            assert alarms == []


def test_label_with_separators_is_read_back_whole() -> None:
    """A label with ';', ',' and '\\' is escaped in the title and read back unchanged."""
    label = "ward 3\\b; desk, left"
    plan = _plan(dt.date(2025, 1, 10))
    cal = Calendar.from_ical(plan_to_ics(plan, KEY, label=label))
    first = next(e for e in cal.walk("VEVENT")
                 if str(e["UID"]) == visit_uid(KEY, plan.visits[0]))
    assert str(first["SUMMARY"]).startswith(f"{label}: PEComa surveillance visit 1: ")
    assert str(first.walk("VALARM")[0]["DESCRIPTION"]).endswith(str(first["SUMMARY"]))
