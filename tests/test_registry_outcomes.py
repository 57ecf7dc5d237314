"""Outcomes: recorded append-only with their audit entry, contradictions refused with the
field named, a deceased or lost patient leaving the worklist with the reason shown."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError

from pecoma.errors import InputError
from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.registry.importer import ImportMode, ImportReport, import_file
from pecoma.registry.outcomes import closure, parse_outcome, record_outcome
from pecoma.registry.service import record_case, record_scan
from pecoma.registry.worklist import stored_worklist
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.store.repository import OutcomeData
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo, write_csv

__all__ = ["db_url", "repo"]


def add(repo: Repository, rid: str, case: dict[str, object], on: dt.date = ON) -> None:
    record_case(repo, rid, case, on_date=on, settings=default_settings(), actor="clinic",
                source="test")


def outcome(repo: Repository, rid: str, event: str, date: str, vital: str | None = None,
            found: str | None = None) -> list[int]:
    return record_outcome(repo, rid, event, date, vital, found, on_date=ON, actor="dr-a")


def paths(exc: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [i.path for i in exc.value.issues]


class TestParse:
    def test_last_contact_needs_an_alive_or_lost_status(self) -> None:
        """A last contact without vital status is refused: the status is the point of it."""
        with pytest.raises(InputError) as e:
            parse_outcome("last_contact", "2026-01-01")
        assert paths(e) == ["vital_status"]
        # nothing given is said so, not shown as Python's None
        assert str(e.value.issues[0]).endswith("(got nothing)")
        assert "alive_without_disease" in e.value.issues[0].rule

    def test_death_needs_a_cause(self) -> None:
        with pytest.raises(InputError) as e:
            parse_outcome("death", "2026-01-01", "alive_with_disease")
        assert paths(e) == ["vital_status"]
        assert "dead_of_disease" in e.value.issues[0].rule

    @pytest.mark.parametrize(("event", "status", "allowed", "never"), [
        # 'alive' is no status: the rule offered dead_of_disease for a last contact,
        # which was then refused; it now names the last contact's statuses only
        ("last_contact", "alive", "alive_without_disease, alive_with_disease, "
         "lost_to_follow_up", "dead_of"),
        ("last_contact", "dead_of_disease", "alive_without_disease, alive_with_disease, "
         "lost_to_follow_up", "dead_of"),
        # and a death is offered a death's causes only
        ("death", "dead", "dead_of_disease, dead_of_other_cause", "alive"),
        ("death", "lost_to_follow_up", "dead_of_disease, dead_of_other_cause", "alive"),
    ])
    def test_a_bad_vital_status_is_offered_only_what_the_event_takes(
        self, event: str, status: str, allowed: str, never: str
    ) -> None:
        with pytest.raises(InputError) as e:
            parse_outcome(event, "2026-01-01", status)
        [issue] = e.value.issues
        assert issue.path == "vital_status"
        assert f"must be one of {allowed} for a" in issue.rule
        assert never not in issue.rule.split("(")[0]

    @pytest.mark.parametrize(("event", "status", "found"), [
        ("last_contact", "alive_with_disease", "scan"),
        ("death", "dead_of_disease", "symptoms"),
    ])
    def test_a_way_found_for_a_contact_or_a_death_is_never_offered_values(
        self, event: str, status: str, found: str
    ) -> None:
        """A last contact or a death has no way found: a bad one was told the values of
        a recurrence's (scheduled_scan, …), then refused again when one was given."""
        with pytest.raises(InputError) as e:
            parse_outcome(event, "2026-01-01", status, found)
        [issue] = e.value.issues
        assert (issue.path, issue.rule) == ("found_by", f"must be left out for a {event}")

    def test_every_bad_field_is_named(self) -> None:
        with pytest.raises(InputError) as e:
            parse_outcome("relapse", "01/02/2026", "fine", "luck")
        assert paths(e) == ["event", "date", "vital_status", "found_by"]

    @pytest.mark.parametrize("text", ["0001-01-01", "1800-01-01", "2200-01-01",
                                      "2026-W01-1", "20260101", "1736121600",
                                      "2026-01-01T10:00", "２０２６-０１-０１"])
    def test_a_date_outside_the_range_or_not_yyyy_mm_dd_is_refused(self, text: str) -> None:
        """Outcome dates follow the rule of every other date (1900-2199, YYYY-MM-DD):
        '2026-W01-1' was stored as 2025-12-29 and '1736121600' as 1736-12-16."""
        with pytest.raises(InputError) as e:
            parse_outcome("local_recurrence", text)
        assert paths(e) == ["date"]
        assert e.value.issues[0].rule == ("must be a date as YYYY-MM-DD between 1900-01-01 "
                                          "and 2199-12-31")

    def test_the_midnight_of_a_day_is_that_day(self) -> None:
        assert parse_outcome("local_recurrence", "2026-01-01 00:00:00").event_date == \
            dt.date(2026, 1, 1)

    def test_found_by_may_be_left_unrecorded(self) -> None:
        """How a recurrence was found may be unknown: stored as not recorded, never guessed."""
        o = parse_outcome("local_recurrence", "2026-01-01")
        assert o.found_by is None and o.vital_status is None


class TestContradictions:
    def test_death_before_diagnosis(self, repo: Repository) -> None:
        """Diagnosed 2025-01-06: a death on 2024-12-31 is impossible."""
        add(repo, "PEC-1", high_risk())
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "death", "2024-12-31", "dead_of_disease")
        assert paths(e) == ["date"]
        assert "before the diagnosis (2025-01-06)" in e.value.issues[0].rule

    def test_recurrence_before_surgery(self, repo: Repository) -> None:
        """Resected 2025-01-10: a recurrence found 2025-01-08 (or that day) is refused."""
        add(repo, "PEC-1", high_risk())
        for day in ("2025-01-08", "2025-01-10"):
            with pytest.raises(InputError) as e:
                outcome(repo, "PEC-1", "local_recurrence", day, found="symptoms")
            assert paths(e) == ["date"]
            assert "after the surgery (2025-01-10)" in e.value.issues[0].rule

    def test_local_recurrence_without_resection(self, repo: Repository) -> None:
        """Metastatic, never operated: there is no local recurrence to record."""
        add(repo, "PEC-3", metastatic())
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-3", "local_recurrence", "2026-01-01")
        assert paths(e) == ["event"]

    def test_follow_up_after_death(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        outcome(repo, "PEC-1", "death", "2026-03-01", "dead_of_other_cause")
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "last_contact", "2026-04-01", "alive_without_disease")
        assert paths(e) == ["date"]
        assert "after the recorded death (2026-03-01)" in e.value.issues[0].rule

    def test_death_before_a_recorded_contact(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        outcome(repo, "PEC-1", "last_contact", "2026-05-01", "alive_without_disease")
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "death", "2026-04-01", "dead_of_disease")
        assert paths(e) == ["date"]
        assert "latest recorded follow-up (last_contact on 2026-05-01)" in e.value.issues[0].rule

    def test_no_scan_after_death(self, repo: Repository) -> None:
        """Died 2026-03-01: a scan dated 2026-04-01 is follow-up after death, refused."""
        add(repo, "PEC-1", high_risk())
        outcome(repo, "PEC-1", "death", "2026-03-01", "dead_of_other_cause")
        with pytest.raises(InputError) as e:
            record_scan(repo, "PEC-1", "2026-04-01", "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="radiology")
        assert paths(e) == ["date"]
        assert "after the recorded death (2026-03-01)" in e.value.issues[0].rule

    def test_death_before_a_recorded_scan(self, repo: Repository) -> None:
        """A scan on 2026-05-04 shows the patient alive: a death on 2026-04-01 is refused."""
        add(repo, "PEC-1", high_risk())
        record_scan(repo, "PEC-1", "2026-05-04", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "death", "2026-04-01", "dead_of_disease")
        assert paths(e) == ["date"]
        assert "scan (chest_ct) on 2026-05-04" in e.value.issues[0].rule

    def test_one_death_only(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        outcome(repo, "PEC-1", "death", "2026-03-01", "dead_of_disease")
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "death", "2026-03-02", "dead_of_disease")
        assert "event" in paths(e)

    def test_future_date(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-1", "last_contact", "2026-12-01", "alive_without_disease")
        assert paths(e) == ["date"]

    def test_unknown_patient(self, repo: Repository) -> None:
        with pytest.raises(InputError) as e:
            outcome(repo, "PEC-404", "last_contact", "2026-01-01", "alive_without_disease")
        assert paths(e) == ["registry_id"]

    def test_refused_outcome_writes_nothing(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        before = repo.count()["audit_log"]
        with pytest.raises(InputError):
            outcome(repo, "PEC-1", "death", "2024-01-01", "dead_of_disease")
        assert repo.count()["audit_log"] == before
        assert repo.outcomes() == {}


class TestStored:
    def test_outcome_and_audit_entry_in_one_write(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        (oid,) = outcome(repo, "PEC-1", "last_contact", "2026-06-01", "alive_without_disease")
        t = repo.timeline("PEC-1")
        assert t is not None
        assert [(o.id, o.event, o.event_date, o.vital_status) for o in t.outcomes] == [
            (oid, "last_contact", dt.date(2026, 6, 1), "alive_without_disease")]
        entry = t.audit[-1]
        assert (entry.entity, entry.entity_id, entry.actor) == ("outcome_event", oid, "dr-a")

    def test_same_outcome_twice_is_stored_once(self, repo: Repository) -> None:
        add(repo, "PEC-1", high_risk())
        assert outcome(repo, "PEC-1", "last_contact", "2026-06-01", "alive_with_disease")
        assert outcome(repo, "PEC-1", "last_contact", "2026-06-01", "alive_with_disease") == []

    def test_recurrence_links_the_scan_that_found_it(self, repo: Repository) -> None:
        """A local recurrence on the day of a scan showing it is linked to that scan."""
        add(repo, "PEC-1", high_risk())
        record_scan(repo, "PEC-1", "2026-02-01", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="radiology")
        scan_id = record_scan(repo, "PEC-1", "2026-05-04", "mri_primary", "local_recurrence",
                              on_date=ON, actor="radiology")
        outcome(repo, "PEC-1", "local_recurrence", "2026-05-04", found="scheduled_scan")
        outcome(repo, "PEC-1", "distant_metastasis", "2026-07-01", found="symptoms")
        t = repo.timeline("PEC-1")
        assert t is not None
        assert [o.scan_id for o in t.outcomes] == [scan_id, None]

    @pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
    def test_outcomes_are_append_only(self, repo: Repository, verb: str) -> None:
        add(repo, "PEC-1", high_risk())
        outcome(repo, "PEC-1", "last_contact", "2026-06-01", "alive_without_disease")
        sql = {"UPDATE": "UPDATE outcome_event SET id = id",
               "DELETE": "DELETE FROM outcome_event"}[verb]
        with pytest.raises(DBAPIError, match="append-only"), repo.engine.begin() as conn:
            conn.exec_driver_sql(sql)
        assert len(repo.outcomes()) == 1


class TestLeavingTheWorklist:
    def test_deceased_and_lost_leave_with_the_reason(self, repo: Repository) -> None:
        """PEC-1 died, PEC-2 was lost: both listed last with why; PEC-3 unchanged."""
        add(repo, "PEC-1", high_risk())
        add(repo, "PEC-2", low_risk())
        add(repo, "PEC-3", metastatic())
        outcome(repo, "PEC-1", "death", "2026-09-01", "dead_of_disease")
        outcome(repo, "PEC-2", "last_contact", "2026-08-15", "lost_to_follow_up")
        items = {i.registry_id: i for i in stored_worklist(repo, ON, default_settings())}
        assert items["PEC-1"].status.value == "deceased"
        assert items["PEC-1"].reason == "died on 2026-09-01 (dead of disease)"
        assert items["PEC-1"].due is None
        assert items["PEC-2"].status.value == "lost_to_follow_up"
        assert items["PEC-2"].reason == "lost to follow-up (last contact 2026-08-15)"
        assert items["PEC-3"].status.value == "not_drawn"
        order = [i.registry_id for i in stored_worklist(repo, ON, default_settings())]
        assert order[-2:] == ["PEC-1", "PEC-2"]

    def test_found_again_returns_to_the_worklist(self, repo: Repository) -> None:
        add(repo, "PEC-2", low_risk())
        outcome(repo, "PEC-2", "last_contact", "2026-08-15", "lost_to_follow_up")
        outcome(repo, "PEC-2", "last_contact", "2026-10-01", "alive_without_disease")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value not in ("lost_to_follow_up", "deceased")

    def test_a_scan_after_the_last_contact_brings_the_patient_back(self, repo: Repository
                                                                   ) -> None:
        """'Lost with nothing recorded after it': a scan recorded after the last contact
        is something recorded after it. The patient stayed 'lost' with no next visit (the
        surveillance quality figures too stopped counting the visits)."""
        add(repo, "PEC-2", low_risk())
        outcome(repo, "PEC-2", "last_contact", "2025-08-01", "lost_to_follow_up")
        record_scan(repo, "PEC-2", "2025-07-01", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="clinic")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value == "lost_to_follow_up"  # the scan came before the contact
        record_scan(repo, "PEC-2", "2025-10-01", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="clinic")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value not in ("lost_to_follow_up", "deceased")
        assert item.due is not None and item.last_scan == dt.date(2025, 10, 1)
        lost = [OutcomeData("last_contact", dt.date(2025, 8, 1), "lost_to_follow_up")]
        assert closure(lost, dt.date(2025, 10, 1)) is None
        assert closure(lost, dt.date(2025, 8, 1)) is not None

    def test_a_relapse_recorded_as_an_outcome_suspends_routine_visits(
            self, repo: Repository) -> None:
        """A distant metastasis recorded as an outcome left the patient 'overdue' for a
        routine visit of the disease-free plan, with no alert: staff were told to book
        routine follow-up for known metastatic disease. Until the case records the
        relapse, the routine plan is suspended, with why and what to record."""
        add(repo, "PEC-1", high_risk(), dt.date(2025, 1, 10))  # recorded when operated
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value == "overdue"  # high risk, no scan history: due now (I13)
        outcome(repo, "PEC-1", "distant_metastasis", "2026-11-01", found="symptoms")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value == "suspended" and item.due is None
        assert item.reason.startswith("distant metastasis recorded on 2026-11-01, found by "
                                      "symptoms, which the case does not hold")
        # a worklist of a day before the outcome does not know of it yet
        (before,) = stored_worklist(repo, dt.date(2026, 10, 1), default_settings())
        assert before.status.value != "suspended"
        # the new case version records the metastasis: the plan follows the case
        relapsed = high_risk()
        relapsed["stage"] = {"status": "metastatic", "metastases": [
            {"site": "liver", "detected_on": "2026-11-01"}]}
        add(repo, "PEC-1", relapsed)
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value == "not_drawn"  # disease present: no routine visit
        assert "which the case does not hold" not in item.reason

    def test_the_relapse_a_case_records_as_treated_does_not_suspend(
            self, repo: Repository) -> None:
        """Free of disease again since 2026-03-01 (I8): the metastasis of 2025-09-01 is
        the one treated, and the plan counts from 2026-03-01; a new one after it is not
        in the case yet."""
        case = high_risk()
        case["stage"] = {"status": "metastatic", "metastases": [
            {"site": "lung", "detected_on": "2025-09-01"}]}
        case["free_of_disease"] = {"since": "2026-03-01", "by": "surgery"}
        add(repo, "PEC-1", case)
        outcome(repo, "PEC-1", "distant_metastasis", "2025-09-01", found="scheduled_scan")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value in ("overdue", "due", "upcoming")
        outcome(repo, "PEC-1", "local_recurrence", "2026-10-15", found="symptoms")
        (item,) = stored_worklist(repo, ON, default_settings())
        assert item.status.value == "suspended"
        assert item.reason.startswith("local recurrence recorded on 2026-10-15")

    def test_a_worklist_of_a_past_date_knows_only_the_scans_done_by_then(
            self, repo: Repository) -> None:
        """As of 2025-06-01 a scan of 2025-12-01 had not been done: the patient was 'not
        evaluable' ('imaging[1].date must not be after …') instead of on the worklist of
        that day, as an outcome dated later does not count either."""
        add(repo, "PEC-1", high_risk(), dt.date(2025, 1, 10))  # recorded when operated
        for day in ("2025-04-12", "2025-12-01"):
            record_scan(repo, "PEC-1", day, "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="radiology")
        (then,) = stored_worklist(repo, dt.date(2025, 6, 1), default_settings())
        assert then.status.value in ("upcoming", "due", "overdue")
        assert then.last_scan == dt.date(2025, 4, 12)
        (now,) = stored_worklist(repo, ON, default_settings())
        assert now.last_scan == dt.date(2025, 12, 1)

    def test_a_death_after_the_evaluation_date_does_not_count_yet(self) -> None:
        outcomes = [OutcomeData("death", dt.date(2026, 9, 1), "dead_of_disease")]
        assert closure(outcomes) is not None
        assert closure([o for o in outcomes if o.event_date <= dt.date(2026, 8, 1)]) is None


@pytest.fixture
def client(repo: Repository) -> Iterator[TestClient]:
    add(repo, "PEC-1", high_risk())
    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    with TestClient(app, base_url="http://localhost") as c:
        yield c


class TestWebForm:
    def test_record_and_see_it(self, client: TestClient) -> None:
        assert client.get("/registry/patients/PEC-1/outcome").status_code == 200
        r = client.post("/registry/patients/PEC-1/outcome", data={
            "event": "death", "date": "2026-09-01", "vital_status": "dead_of_disease"},
            follow_redirects=False)
        assert r.status_code == 303
        page = client.get("/registry/patients/PEC-1").text
        assert "died on 2026-09-01 (dead of disease)" in page
        assert "Deceased" in page

    def test_the_calendar_of_a_patient_who_died_cancels_the_visits_after(
            self, client: TestClient) -> None:
        """The patient's plan.ics still held every visit to 2029 as confirmed, with
        reminders, after a recorded death: a team calendar kept calling for scans of a
        patient who had died. Visits after the death are now cancelled (calendars drop
        them) and ring no reminder."""
        from icalendar import Calendar

        def events() -> list[tuple[str, str, bool]]:
            r = client.get("/registry/patients/PEC-1/plan.ics")
            assert r.status_code == 200
            return [(str(e["x-pecoma-latest"]), str(e["status"]),
                     any(c.name == "VALARM" for c in e.subcomponents))
                    for e in Calendar.from_ical(r.content).walk("VEVENT")]

        before = events()
        assert any(status == "CONFIRMED" and latest > "2026-09-01"
                   for latest, status, _ in before)
        r = client.post("/registry/patients/PEC-1/outcome", data={
            "event": "death", "date": "2026-09-01", "vital_status": "dead_of_disease"},
            follow_redirects=False)
        assert r.status_code == 303
        after = events()
        assert len(after) == len(before)
        late = [(status, alarm) for latest, status, alarm in after if latest >= "2026-09-01"]
        assert late and all(s == "CANCELLED" and not alarm for s, alarm in late)

    def test_the_calendar_drops_routine_visits_after_a_relapse_recorded_as_an_outcome(
            self, client: TestClient) -> None:
        """As on the worklist: a metastasis recorded only as an outcome suspends the
        routine visits of the patient's calendar too (they stayed confirmed)."""
        from icalendar import Calendar

        r = client.post("/registry/patients/PEC-1/outcome", data={
            "event": "distant_metastasis", "date": "2026-09-01", "found_by": "symptoms"},
            follow_redirects=False)
        assert r.status_code == 303
        ics = client.get("/registry/patients/PEC-1/plan.ics")
        late = [str(e["status"]) for e in Calendar.from_ical(ics.content).walk("VEVENT")
                if str(e["x-pecoma-latest"]) >= "2026-09-01"]
        assert late and set(late) == {"CANCELLED"}

    def test_contradiction_shown_next_to_the_field(self, client: TestClient) -> None:
        r = client.post("/registry/patients/PEC-1/outcome", data={
            "event": "local_recurrence", "date": "2025-01-02", "found_by": "symptoms"})
        assert r.status_code == 422
        assert 'id="outcome-date-err"' in r.text
        assert "after the surgery (2025-01-10)" in r.text

    def test_unknown_patient_is_404(self, client: TestClient) -> None:
        assert client.get("/registry/patients/PEC-9/outcome").status_code == 404


class TestOnePatientsOutcomes:
    """The patient's page and its ``plan.ics`` read the relapses of every patient in the
    registry (one unfiltered read) to use one patient's: the cost grew with the registry
    and nothing kept another patient's outcomes from being used. Every read of the
    outcomes they make is now filtered to the patient."""

    def test_the_page_and_the_calendar_read_only_this_patients_outcomes(
            self, repo: Repository) -> None:
        import sqlalchemy as sa

        # five other patients first, each with a relapse, a contact and a death; then
        # the patient shown, T-6, with a metastasis of its own (its patient id is 6)
        for k in range(1, 6):
            add(repo, f"O-{k}", high_risk())
            outcome(repo, f"O-{k}", "local_recurrence", "2025-06-01", found="symptoms")
            outcome(repo, f"O-{k}", "last_contact", "2025-07-01", "alive_with_disease")
            outcome(repo, f"O-{k}", "death", "2025-08-01", "dead_of_disease")
        add(repo, "T-6", high_risk())
        outcome(repo, "T-6", "distant_metastasis", "2026-09-01", found="symptoms")
        pid = next(r.patient_id for r in repo.state_rows() if r.registry_id == "T-6")
        app = create_app(WebConfig(), today=lambda: ON)
        app.state.registry = repo
        seen: list[tuple[str, tuple[object, ...]]] = []

        def note(conn: object, cursor: object, statement: str, parameters: object,
                 context: object, executemany: bool) -> None:
            if "outcome_event" in statement:
                values = (tuple(parameters.values()) if isinstance(parameters, dict)
                          else tuple(parameters or ()))  # type: ignore[arg-type]
                seen.append((statement, values))

        sa.event.listen(repo.engine, "before_cursor_execute", note)
        try:
            with TestClient(app, base_url="http://localhost") as c:
                for path in ("/registry/patients/T-6", "/registry/patients/T-6/plan.ics"):
                    seen.clear()
                    r = c.get(path)
                    assert r.status_code == 200, path
                    assert seen, path  # the outcomes are read ...
                    for statement, values in seen:  # ... each read filtered to T-6
                        assert "T-6" in values or pid in values, (path, statement, values)
                page = c.get("/registry/patients/T-6").text
        finally:
            sa.event.remove(repo.engine, "before_cursor_execute", note)
        # and what is shown is T-6's own: its metastasis suspends its routine visits
        assert "distant metastasis recorded on 2026-09-01" in page
        assert "2025-08-01" not in page and "died on" not in page


def test_outcome_form_needs_the_clinician_role() -> None:
    from pecoma.web.auth import Role, needed_role

    cfg = WebConfig(auth="on")
    assert needed_role("POST", "/registry/patients/P-1/outcome", cfg) is Role.clinician
    assert needed_role("GET", "/registry/patients/P-1/outcome", cfg) is Role.reader


def test_cli_record_outcome(db_url: str, tmp_path: Path) -> None:
    """The command records, says so, and refuses a contradiction with the field named."""
    from test_registry_cli import no_traceback, pecoma

    from registry_support import rows_of

    db = ("--database-url", db_url)
    good = write_csv(tmp_path / "c.csv", rows_of({"PEC-0001": high_risk()}))
    assert pecoma("registry", "import", str(good), "--on", "2026-11-28", *db).returncode == 0
    r = pecoma("registry", "record-outcome", "PEC-0001", "--event", "last_contact", "--date",
               "2026-10-01", "--vital-status", "lost_to_follow_up", "--on", "2026-11-28", *db)
    assert r.returncode == 0, r.stderr
    assert "outcome recorded" in r.stdout
    r = pecoma("registry", "record-outcome", "PEC-0001", "--event", "death", "--date",
               "2024-01-01", "--vital-status", "dead_of_disease", "--on", "2026-11-28", *db)
    assert r.returncode == 3
    no_traceback(r)
    assert "'date'" in r.stderr + r.stdout
    r = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "csv", *db)
    assert "lost_to_follow_up" in r.stdout


def _died_on_the_command_line(db_url: str, tmp_path: Path, *rids: str) -> tuple[str, ...]:
    """The database options of a registry of high-risk ``rids`` imported by the command
    line, the last of whom died on 2026-10-01 (recorded by the command line)."""
    from test_registry_cli import pecoma

    from registry_support import rows_of

    db = ("--database-url", db_url)
    good = write_csv(tmp_path / "c.csv", rows_of(dict.fromkeys(rids, high_risk())))
    assert pecoma("registry", "import", str(good), "--on", "2026-11-28", *db).returncode == 0
    r = pecoma("registry", "record-outcome", rids[-1], "--event", "death", "--date",
               "2026-10-01", "--vital-status", "dead_of_disease", "--on", "2026-11-28", *db)
    assert r.returncode == 0, r.stderr
    return db


def test_cli_summary_counts_the_deceased_as_such(db_url: str, tmp_path: Path) -> None:
    """`registry summary` counted a patient who died by the plan left behind (overdue 2 of
    2, against the worklist's overdue 1, deceased 1): the overdue rate a coordinator reads
    was wrong. It now counts from the worklist `registry worklist` and the web give."""
    import json

    from test_registry_cli import pecoma

    db = _died_on_the_command_line(db_url, tmp_path, "PEC-0001", "PEC-0002")
    listed = pecoma("registry", "worklist", "--on", "2026-11-28", "--format", "json", *db)
    statuses = sorted(i["status"] for i in json.loads(listed.stdout)["items"])
    assert statuses == ["deceased", "overdue"]  # high risk, no scan history: due now (I13)
    r = pecoma("registry", "summary", "--on", "2026-11-28", "--format", "json", *db)
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout)
    assert figures["by_worklist_status"] == {"overdue": 1, "deceased": 1}
    assert figures["overdue_rate"]["numerator"] == 1
    assert figures["overdue_rate"]["denominator"] == 1


def test_outcomes_are_in_the_export(db_url: str, tmp_path: Path) -> None:
    """`registry export` said 'the whole registry' but held no outcome: a registry moved
    through it lost every death and recurrence. Both exports now carry them."""
    import csv
    import json

    from test_registry_cli import pecoma

    db = _died_on_the_command_line(db_url, tmp_path, "PEC-0001")
    r = pecoma("registry", "export", *db)
    assert r.returncode == 0, r.stderr
    [death] = json.loads(r.stdout)["outcomes"]
    assert (death["registry_id"], death["event"], death["event_date"],
            death["vital_status"]) == ("PEC-0001", "death", "2026-10-01", "dead_of_disease")
    r = pecoma("registry", "export", "--format", "csv", "-o", str(tmp_path / "out"), *db)
    assert r.returncode == 0, r.stderr
    with (tmp_path / "out" / "outcomes.csv").open(newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["registry_id"], row["event"], row["event_date"]) == (
        "PEC-0001", "death", "2026-10-01")


def test_the_export_names_each_entry_and_the_one_a_correction_replaced(
    repo: Repository, db_url: str, tmp_path: Path
) -> None:
    """A metastasis imported as found at a scheduled scan, corrected the same day to
    'symptoms': the dump held both rows with no id, so nothing told the current one
    (the docs: 'the later id is the current one'), and 'withdraw --scan N' had no number
    to read. Every scan and outcome now carries its id, an outcome the id of the entry
    correcting it (empty when it stands), and the scan that found it."""
    import csv
    import json

    from test_registry_cli import pecoma

    db = ("--database-url", db_url)
    add(repo, "PEC-1", high_risk())
    scan = record_scan(repo, "PEC-1", "2026-02-20", "chest_ct", "metastasis", on_date=ON,
                       actor="clinic")
    [first] = outcome(repo, "PEC-1", "distant_metastasis", "2026-02-20",
                      found="scheduled_scan")
    [second] = outcome(repo, "PEC-1", "distant_metastasis", "2026-02-20", found="symptoms")
    [contact] = outcome(repo, "PEC-1", "last_contact", "2026-03-01", "alive_with_disease")
    r = pecoma("registry", "export", *db)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert [s["id"] for s in data["imaging_events"]] == [scan]
    rows = [(o["id"], o["found_by"], o["scan_id"], o["corrected_by"])
            for o in data["outcomes"]]
    assert rows == [(first, "scheduled_scan", scan, second), (second, "symptoms", scan, None),
                    (contact, None, None, None)]
    r = pecoma("registry", "export", "--format", "csv", "-o", str(tmp_path / "out"), *db)
    assert r.returncode == 0, r.stderr
    with (tmp_path / "out" / "outcomes.csv").open(newline="") as f:
        got = [(row["id"], row["found_by"], row["corrected_by"]) for row in csv.DictReader(f)]
    assert got == [(str(first), "scheduled_scan", str(second)), (str(second), "symptoms", ""),
                   (str(contact), "", "")]
    with (tmp_path / "out" / "imaging_events.csv").open(newline="") as f:
        assert [row["id"] for row in csv.DictReader(f)] == [str(scan)]


class TestImportColumns:
    """Optional ``outcome.<event>.*`` columns: same rules, reported per cell."""

    COLUMNS = ("registry_id", *COLUMN_NAMES[1:], "outcome.last_contact.date",
               "outcome.last_contact.vital_status", "outcome.local_recurrence.date",
               "outcome.local_recurrence.found_by", "outcome.death.date",
               "outcome.death.vital_status")

    def run(self, repo: Repository, path: Path, rows: list[dict[str, object]],
            mode: ImportMode = ImportMode.all_or_nothing) -> ImportReport:
        write_csv(path, rows, list(self.COLUMNS))
        return import_file(repo, path, on_date=ON, settings=default_settings(),
                           actor="import", mode=mode)

    def test_outcomes_imported_with_the_case_and_once_only(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        row = {**flatten(high_risk(), "PEC-1"), "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_with_disease",
               "outcome.local_recurrence.date": "2026-06-01",
               "outcome.local_recurrence.found_by": "scheduled_scan"}
        report = self.run(repo, tmp_path / "a.csv", [row])
        assert report.written is not None and report.written.new_outcomes == 2
        assert "2 new outcomes" in report.lines()[1]
        again = self.run(repo, tmp_path / "a.csv", [row])
        assert again.written is not None and again.written.new_outcomes == 0
        assert [o.event for o in repo.outcomes_by_registry_id()["PEC-1"]] == [
            "local_recurrence", "last_contact"]

    def test_re_importing_a_file_keeps_a_correction_made_since(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """Imported 'alive without disease' on 2026-10-01, corrected on the patient's page
        to 'alive with disease' for that day, the file imported again the same day: the
        import stored 'alive without disease' once more, as the latest entry, so every
        reader took the old value back. Now the correction stands, and the report says
        why the row's value was not recorded."""
        row = {**flatten(high_risk(), "PEC-1"), "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        self.run(repo, tmp_path / "a.csv", [row])
        outcome(repo, "PEC-1", "last_contact", "2026-10-01", "alive_with_disease")
        again = self.run(repo, tmp_path / "a.csv", [row])
        assert again.written is not None and again.written.new_outcomes == 0
        [o] = repo.outcomes_by_registry_id()["PEC-1"]
        assert o.vital_status == "alive_with_disease"
        [note] = again.warnings
        assert (note.row, note.column, note.value) == (
            2, "outcome.last_contact.vital_status", "'alive_without_disease'")
        assert "corrected since (vital status now 'alive_with_disease')" in note.rule
        # entered again by hand, the first value corrects the correction back
        outcome(repo, "PEC-1", "last_contact", "2026-10-01", "alive_without_disease")
        [o] = repo.outcomes_by_registry_id()["PEC-1"]
        assert o.vital_status == "alive_without_disease"

    def test_a_newer_file_that_changes_an_outcome_back_records_it_and_says_so(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """'alive without disease' on 2026-10-01 imported, corrected on the patient's page
        to 'alive with disease', then another file (the source's next extract, never
        imported) gives 'alive without disease' again: it was not recorded, the source's
        value lost. A file new to the registry is the source's current word: recorded
        (correcting the correction back), the report saying so."""
        row = {**flatten(high_risk(), "PEC-1"), "outcome.last_contact.date": "2026-10-01",
               "outcome.last_contact.vital_status": "alive_without_disease"}
        self.run(repo, tmp_path / "a.csv", [row])
        outcome(repo, "PEC-1", "last_contact", "2026-10-01", "alive_with_disease")
        later = self.run(repo, tmp_path / "b.csv", [row, {
            **flatten(low_risk(), "PEC-2"), "outcome.last_contact.date": "2026-10-01",
            "outcome.last_contact.vital_status": "alive_without_disease"}])
        assert later.written is not None and later.written.new_outcomes == 2
        [o] = repo.outcomes_by_registry_id()["PEC-1"]
        assert o.vital_status == "alive_without_disease"
        [note] = later.warnings
        assert (note.row, note.column, note.value) == (
            2, "outcome.last_contact.vital_status", "'alive_without_disease'")
        assert note.rule.startswith(
            "recorded, bringing back an earlier value: this last contact on 2026-10-01 had "
            "been corrected (vital status 'alive_with_disease'), and this file was not "
            "imported before")

    @pytest.mark.parametrize("mode", list(ImportMode))
    def test_an_outcomes_only_row_made_a_new_version_is_refused_in_its_cell(
        self, repo: Repository, tmp_path: Path, mode: ImportMode
    ) -> None:
        """PEC-1 is stored knowing only its site and status (localized) and died on
        2026-03-01. A row of outcomes with status 'metastatic' becomes a new version (the
        stored case records nothing more to lose), and its last contact on 2026-05-01 is
        after the death. The whole import stopped with one error and no report, in
        good-rows mode too (PEC-2, a good row, not written). It is a rejected cell like
        any other: all-or-nothing writes nothing, good-rows writes PEC-2 only."""
        self.run(repo, tmp_path / "a.csv", [
            {"registry_id": "PEC-1", "tumour.primary_site": "kidney",
             "stage.status": "localized"}])
        outcome(repo, "PEC-1", "death", "2026-03-01", "dead_of_disease")
        rows: list[dict[str, object]] = [
            {"registry_id": "PEC-1", "tumour.primary_site": "kidney",
             "stage.status": "metastatic", "outcome.last_contact.date": "2026-05-01",
             "outcome.last_contact.vital_status": "alive_with_disease"},
            flatten(low_risk(), "PEC-2"),
        ]
        report = self.run(repo, tmp_path / "b.csv", rows, mode)
        assert [(i.row, i.column, i.value) for i in report.issues] == [
            (2, "outcome.last_contact.date", "2026-05-01")]
        assert "after the recorded death (2026-03-01)" in report.issues[0].rule
        assert (report.rows, report.good, report.rejected_rows) == (2, 1, [2])
        state = repo.state("PEC-1")
        assert state is not None and state.version == 1  # no version of the refused row
        assert [o.event for o in repo.outcomes_by_registry_id()["PEC-1"]] == ["death"]
        if mode is ImportMode.good_rows:
            assert report.written is not None and report.written.new_patients == 1
            assert repo.state("PEC-2") is not None
        else:
            assert report.written is None and repo.state("PEC-2") is None

    def test_bad_cells_named_with_row_and_column(self, repo: Repository, tmp_path: Path) -> None:
        """Row 2: death before diagnosis; row 3: a status that is not one; nothing written."""
        rows = [
            {**flatten(high_risk(), "PEC-1"), "outcome.death.date": "2024-01-01",
             "outcome.death.vital_status": "dead_of_disease"},
            {**flatten(low_risk(), "PEC-2"), "outcome.last_contact.date": "2026-01-01",
             "outcome.last_contact.vital_status": "well"},
            {**flatten(low_risk(), "PEC-3"), "outcome.local_recurrence.found_by": "symptoms"},
        ]
        report = self.run(repo, tmp_path / "b.csv", rows)
        assert [(i.row, i.column) for i in report.issues] == [
            (2, "outcome.death.date"), (3, "outcome.last_contact.vital_status"),
            (4, "outcome.local_recurrence.date")]
        assert "before the diagnosis (2025-01-06)" in report.issues[0].rule
        assert report.written is None and repo.count()["patient"] == 0

    def test_every_problem_of_an_outcome_in_one_report(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """One bad cell hid the other checks of its outcome: an empty date hid the bad
        vital status, a bad 'found_by' hid a recurrence dated before the diagnosis and
        the surgery (high_risk: diagnosed 2025-01-06, resected 2025-01-10). The report
        is to list every problem of the file in one pass."""
        rows = [
            {**flatten(high_risk(), "PEC-1"), "outcome.last_contact.vital_status": "alive"},
            {**flatten(high_risk(), "PEC-2"), "outcome.local_recurrence.date": "2024-12-01",
             "outcome.local_recurrence.found_by": "scan"},
            {**flatten(high_risk(), "PEC-3"), "outcome.death.date": "2024-12-01",
             "outcome.death.vital_status": "alive"},
        ]
        report = self.run(repo, tmp_path / "a.csv", rows)
        got = [(i.row, i.column, i.rule.split(" (")[0]) for i in report.issues]
        assert got == [
            (2, "outcome.last_contact.date", "is required when a outcome.last_contact.* "
             "cell is filled"),
            (2, "outcome.last_contact.vital_status", "must be one of alive_without_disease, "
             "alive_with_disease, lost_to_follow_up for a last contact"),
            (3, "outcome.local_recurrence.found_by", "must be one of scheduled_scan, "
             "symptoms, other"),
            (3, "outcome.local_recurrence.date", "must not be before the diagnosis"),
            (3, "outcome.local_recurrence.date", "must be after the surgery"),
            (4, "outcome.death.vital_status", "must be one of dead_of_disease, "
             "dead_of_other_cause for a death"),
            (4, "outcome.death.date", "must not be before the diagnosis"),
        ]
        assert report.written is None and repo.count()["patient"] == 0

    def test_a_row_of_outcomes_only_is_checked_against_the_stored_case_despite_a_bad_cell(
        self, repo: Repository, tmp_path: Path
    ) -> None:
        """A row of outcomes only (the stored case's site and status) is checked against
        the stored case when written; a bad 'found_by' kept it from being written, so its
        recurrence dated before the stored diagnosis and surgery was reported only once
        the cell was fixed, in a second import."""
        add(repo, "PEC-1", high_risk())
        case = high_risk()
        row = {"registry_id": "PEC-1", "tumour.primary_site": case["tumour"]["primary_site"],
               "stage.status": "localized", "outcome.local_recurrence.date": "2024-12-01",
               "outcome.local_recurrence.found_by": "scan"}
        report = self.run(repo, tmp_path / "a.csv", [row], ImportMode.good_rows)
        got = [(i.row, i.column, i.rule.split(" (")[0]) for i in report.issues]
        assert got == [
            (2, "outcome.local_recurrence.found_by", "must be one of scheduled_scan, "
             "symptoms, other"),
            (2, "outcome.local_recurrence.date", "must not be before the diagnosis"),
            (2, "outcome.local_recurrence.date", "must be after the surgery"),
        ]
        assert repo.outcomes_by_registry_id().get("PEC-1", ()) == ()

    @pytest.mark.parametrize(("stored", "cells", "column", "rule"), [
        # PEC-1 died on 2026-03-01 (recorded earlier): a later contact in a file
        ("death", {"outcome.last_contact.date": "2026-05-01",
                   "outcome.last_contact.vital_status": "alive_without_disease"},
         "outcome.last_contact.date", "after the recorded death (2026-03-01)"),
        # PEC-1 had a scan on 2026-02-20: a death on 2026-01-01 in a file stopped the
        # whole good-rows import with an error and no report (the web: a bare 422)
        ("scan", {"outcome.death.date": "2026-01-01",
                  "outcome.death.vital_status": "dead_of_disease"},
         "outcome.death.date", "latest recorded follow-up (scan (chest_ct) on 2026-02-20)"),
    ], ids=["stored-outcome", "stored-scan"])
    def test_contradiction_with_what_is_stored_is_reported_in_its_cell(
        self, repo: Repository, tmp_path: Path, stored: str, cells: dict[str, str],
        column: str, rule: str,
    ) -> None:
        """An outcome in a file that contradicts what is stored for its patient is a
        rejected cell like any other, and good-rows mode still writes the other row."""
        add(repo, "PEC-1", high_risk())
        if stored == "death":
            outcome(repo, "PEC-1", "death", "2026-03-01", "dead_of_disease")
        else:
            record_scan(repo, "PEC-1", "2026-02-20", "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="clinic")
        rows = [{**flatten(high_risk(), "PEC-1"), **cells}, flatten(low_risk(), "PEC-2")]
        report = self.run(repo, tmp_path / "c.csv", rows, ImportMode.good_rows)
        assert [(i.row, i.column) for i in report.issues] == [(2, column)]
        assert rule in report.issues[0].rule
        assert report.written is not None and report.written.new_patients == 1
