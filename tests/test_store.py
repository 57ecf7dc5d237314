"""The store: migrations, SQLite set-up, the repository's use cases and the audit log.

Every test taking ``db_url`` or ``repo`` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.exc import DBAPIError

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.engine.model import to_jsonable
from pecoma.errors import ConfigError, FieldIssue, InputError
from pecoma.registry.stored import assessment_data
from pecoma.store import Repository, StoreError, database_url, open_registry
from pecoma.store.db import create_db_engine, current_revision, downgrade, head_revision, upgrade
from pecoma.store.models import AuditEntry, Base
from pecoma.store.rawjson import RawJSON
from pecoma.store.repository import (
    CaseSubmission,
    ScanData,
    case_digest,
    check_actor,
    check_registry_id,
)

from registry_support import (
    ON,
    db_url,
    empty_db_url,
    high_risk,
    low_risk,
    repo,
    ticking_clock,
    variant,
)
from scenario_tools import run as run_scenario
from scenario_tools import scenario_names

__all__ = ["db_url", "empty_db_url", "repo"]  # fixtures used by this module

TABLES = {"patient", "case_version", "assessment", "imaging_event", "audit_log", "api_token",
          "worklist_state", "cds_jti", "cds_report", "cds_card", "cds_feedback", "smart_launch",
          "web_session", "login_failure", "outcome_event", "board_decision", "imported_file",
          "entry_withdrawal"}


def submission(rid: str, data: dict, source: str = "test") -> CaseSubmission:
    case = parse_case(data)
    a = assess(case, ON)
    return CaseSubmission(rid, data, case_digest(case.model_dump(mode="json")), source,
                          assessment_data(a, None, "test"))


def no_conflict(_case: object, _death: object) -> list[FieldIssue]:
    """A scan check that finds nothing: the store's own behaviour, without the registry's
    rules of a scan's date (those are tested with ``record_scan``)."""
    return []


def tables(engine: sa.Engine) -> set[str]:
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


class TestMigrations:
    def test_upgrade_from_empty_creates_every_table(self, empty_db_url: str) -> None:
        """An empty database is brought to the head revision with every table."""
        engine = create_db_engine(empty_db_url)
        try:
            assert current_revision(engine) is None
            assert tables(engine) == set()
            upgrade(engine)
            assert current_revision(engine) == head_revision(engine) is not None
            assert tables(engine) == TABLES
        finally:
            engine.dispose()

    def test_downgrade_upgrade_round_trip(self, empty_db_url: str) -> None:
        """Down to base empties the schema (triggers too); up again restores it."""
        engine = create_db_engine(empty_db_url)
        try:
            upgrade(engine)
            downgrade(engine, "base")
            assert current_revision(engine) is None
            assert tables(engine) == set()
            upgrade(engine)
            assert tables(engine) == TABLES
            with engine.connect() as conn:
                assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        finally:
            engine.dispose()

    def test_models_match_migrations(self, empty_db_url: str) -> None:
        """Alembic autogenerate finds no difference between the models and the schema."""
        engine = create_db_engine(empty_db_url)
        try:
            upgrade(engine)
            with engine.connect() as conn:
                ctx = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(ctx, Base.metadata) == []
        finally:
            engine.dispose()

    @pytest.mark.postgres
    def test_assessments_are_compressed_with_lz4_on_postgresql(
        self, postgres_database: str
    ) -> None:
        """Revision 0010 stores new assessments with LZ4 on PostgreSQL (pglz took half the
        time of a large import); down to 0009 the column is back to the server's default
        method. Either way an assessment reads back exactly as it was stored. (Column
        compression is PostgreSQL's: SQLite has no such setting.)"""
        _lz4_from(postgres_database, "assessment", "output", "0009")
        r = open_registry(postgres_database)
        try:
            sub = submission("PEC-0001", high_risk())
            r.add_cases([sub], "registrar")
            with r.engine.connect() as conn:
                assert _compression(conn, "assessment", "output") == "l"
                stored = conn.execute(sa.text("SELECT output::text FROM assessment")).scalar_one()
            assert stored == sub.assessment.output.text
        finally:
            r.close()

    @pytest.mark.postgres
    def test_cds_reports_are_compressed_with_lz4_on_postgresql(
        self, postgres_database: str
    ) -> None:
        """Revision 0011 stores the reports behind CDS card links with LZ4 on PostgreSQL
        (pglz took the server twice the CPU per report, on the cores that answer the EHR);
        down to 0010 the column is back to the server's default method, and the
        assessments keep their LZ4. A report reads back exactly as it was stored."""
        from pecoma.store.cds import CdsStore

        _lz4_from(postgres_database, "cds_report", "text", "0010")
        r = open_registry(postgres_database)
        try:
            with r.engine.connect() as conn:
                assert _compression(conn, "cds_report", "text") == "l"
                assert _compression(conn, "assessment", "output") == "l"
            store = CdsStore(r.engine)
            token = CdsStore.new_token()
            text = "# Report\n\n" + "\n".join(f"- item {i}: résumé of the advice"
                                                 for i in range(400))
            store.issue([], [(token, text)])
            assert store.report(token) == text
        finally:
            r.close()

    def test_open_upgrades_automatically(self, empty_db_url: str) -> None:
        r = open_registry(empty_db_url)
        try:
            assert current_revision(r.engine) == head_revision(r.engine)
        finally:
            r.close()

    def test_open_without_migrating_refuses_an_empty_database(self, empty_db_url: str) -> None:
        with pytest.raises(StoreError, match="registry init"):
            open_registry(empty_db_url, migrate=False)


class TestAppendOnly:
    @pytest.mark.parametrize("table", ["audit_log", "case_version"])
    @pytest.mark.parametrize("verb", ["UPDATE", "DELETE"])
    def test_history_cannot_be_rewritten(self, repo: Repository, table: str, verb: str) -> None:
        """A trigger refuses UPDATE and DELETE on case versions and the audit log."""
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        sql = {
            "UPDATE": f"UPDATE {table} SET id = id",
            "DELETE": f"DELETE FROM {table}",
        }[verb]
        with pytest.raises(DBAPIError, match="append-only"), repo.engine.begin() as conn:
            conn.exec_driver_sql(sql)
        assert repo.count()[table] > 0


class TestSqlite:
    def test_wal_foreign_keys_and_busy_timeout(self, tmp_path: Path) -> None:
        r = open_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
        try:
            with r.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 10_000
        finally:
            r.close()

    def test_data_directory_is_created(self, tmp_path: Path) -> None:
        url = database_url(None, {}, tmp_path / "new" / "dir")
        r = open_registry(url)
        r.close()
        assert (tmp_path / "new" / "dir" / "pecoma.sqlite3").is_file()


class TestDatabaseUrl:
    def test_explicit_wins(self) -> None:
        env = {"PECOMA_DATABASE_URL": "postgresql://x@h/db"}
        assert database_url("sqlite:///a.sqlite3", env) == "sqlite:///a.sqlite3"

    def test_environment_next(self) -> None:
        assert database_url(None, {"PECOMA_DATABASE_URL": "postgresql://x@h/db"}) == (
            "postgresql://x@h/db"
        )

    def test_data_dir_default(self) -> None:
        assert database_url(None, {}) == "sqlite:///data/pecoma.sqlite3"
        assert database_url(None, {"PECOMA_DATA_DIR": "/srv/p"}) == (
            "sqlite:////srv/p/pecoma.sqlite3"
        )

    @pytest.mark.parametrize("url", ["mysql://u@h/db", "not a url"])
    def test_unsupported_urls_are_config_errors(self, url: str) -> None:
        with pytest.raises(ConfigError, match="database URL"):
            open_registry(url)

    def test_unreachable_server_is_a_store_error(self) -> None:
        with pytest.raises(StoreError, match="cannot open"):
            open_registry("postgresql://nobody@127.0.0.1:1/none")


class TestRegistryId:
    @pytest.mark.parametrize("value", ["PEC-0001", "42", "a1", "X" * 39 + "1", "site.7_b"])
    def test_accepted(self, value: str) -> None:
        assert check_registry_id(value) == value

    @pytest.mark.parametrize(
        "value", ["John Smith", "Smith", "", " ", "-PEC1", "PEC 1", "X" * 40 + "1", "é1", None]
    )
    def test_rejected_with_field_value_and_rule(self, value: object) -> None:
        """Names (no digit, spaces) and odd codes are refused, naming the field."""
        with pytest.raises(InputError) as info:
            check_registry_id(value)
        (issue,) = info.value.issues
        assert issue.path == "registry_id"
        assert "never a name" in issue.rule


class TestActor:
    @pytest.mark.parametrize("value", ["dr.who", "Dr Zoë Müller", "lab-system@site"])
    def test_accepted(self, value: str) -> None:
        assert check_actor(value) == value

    @pytest.mark.parametrize("value", ["a\x01b", "a\nb", "a\x7fb", "a\x85b", "\ud800x", "",
                                       "x" * 81])
    def test_refused_naming_the_field(self, value: str) -> None:
        """The audit log keeps who made a change: a control character (from a header or
        the command line) was stored as given."""
        with pytest.raises(InputError) as info:
            check_actor(value)
        (issue,) = info.value.issues
        assert issue.path == "actor"


class TestAddCases:
    def test_new_patient_version_assessment_and_audit(self, repo: Repository) -> None:
        result = repo.add_cases([submission("PEC-1", high_risk())], "alice")
        assert (result.new_patients, result.new_versions, result.unchanged) == (1, 1, 0)
        assert repo.count() == {
            "patient": 1, "case_version": 1, "assessment": 1, "imaging_event": 0,
            "audit_log": 3,
        }
        entries = repo.audit()
        assert [(e.action, e.entity, e.actor) for e in entries] == [
            ("create", "patient", "alice"),
            ("create", "case_version", "alice"),
            ("create", "assessment", "alice"),
        ]
        assert entries[1].detail["version"] == 1
        assert entries[2].detail["risk_group"] == "high"
        assert all(e.patient_id == entries[0].entity_id for e in entries)

    def test_identical_case_is_not_stored_again(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        before = repo.count()
        result = repo.add_cases([submission("PEC-1", high_risk(), "again")], "bob")
        assert (result.new_patients, result.new_versions, result.unchanged) == (0, 0, 1)
        assert repo.count() == before

    def test_equal_after_validation_counts_as_identical(self, repo: Repository) -> None:
        """'8' and 8 are the same size once validated: no new version."""
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        same = variant(high_risk(), **{"tumour.size.value": "8"})
        assert repo.add_cases([submission("PEC-1", same)], "alice").unchanged == 1

    def test_changed_case_is_a_new_version(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        changed = variant(high_risk(), **{"tumour.size.value": 9})
        result = repo.add_cases([submission("PEC-1", changed)], "bob")
        assert result.versions == {"PEC-1": 2}
        t = repo.timeline("PEC-1")
        assert t is not None
        assert [c.version for c in t.cases] == [1, 2]
        assert t.cases[0].case["tumour"]["size"]["value"] == 8  # version 1 untouched
        assert [c.recorded_by for c in t.cases] == ["alice", "bob"]

    def test_a_batch_is_one_transaction(self, repo: Repository) -> None:
        """A batch with a duplicate patient is refused whole: nothing is written."""
        subs = [submission("PEC-1", high_risk()), submission("PEC-1", low_risk())]
        with pytest.raises(StoreError):
            repo.add_cases(subs, "alice")
        assert repo.count()["patient"] == 0

    def test_bad_actor_is_refused(self, repo: Repository) -> None:
        with pytest.raises(InputError, match="actor"):
            repo.add_cases([submission("PEC-1", high_risk())], "  ")


class TestScans:
    def test_scan_of_unknown_patient_is_an_input_error(self, repo: Repository) -> None:
        with pytest.raises(InputError) as info:
            repo.add_scan("PEC-9", ScanData(ON, "chest_ct", "no_evidence_of_disease"), "a",
                          no_conflict)
        assert info.value.issues[0].path == "registry_id"
        assert repo.count()["imaging_event"] == 0
        assert repo.count()["audit_log"] == 0

    def test_scan_is_stored_with_its_audit_entry(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        scan = ScanData(dt.date(2025, 4, 12), "chest_ct", "no_evidence_of_disease")
        scan_id = repo.add_scan("PEC-1", scan, "carol", no_conflict)
        last = repo.audit()[-1]
        assert (last.action, last.entity, last.entity_id, last.actor) == (
            "create", "imaging_event", scan_id, "carol"
        )
        assert last.detail == {"performed_on": "2025-04-12", "modality": "chest_ct",
                               "finding": "no_evidence_of_disease"}
        state = repo.state("PEC-1")
        assert state is not None and state.scans == (scan,)

    def test_the_same_scan_sent_twice_is_recorded_once(self, repo: Repository) -> None:
        """A form sent twice (double click, back and resubmit) or a command run again: the
        same day, examination and finding are one scan (it had been stored twice, with two
        audit entries); another finding that day is another scan."""
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        scan = ScanData(dt.date(2025, 4, 12), "chest_ct", "no_evidence_of_disease")
        assert repo.add_scan("PEC-1", scan, "carol", no_conflict) is not None
        audits = len(repo.audit())
        assert repo.add_scan("PEC-1", scan, "carol", no_conflict) is None
        assert repo.count()["imaging_event"] == 1 and len(repo.audit()) == audits
        other = ScanData(dt.date(2025, 4, 12), "mri_primary", "no_evidence_of_disease")
        assert repo.add_scan("PEC-1", other, "carol", no_conflict) is not None


class TestReading:
    def test_states_give_latest_version_scans_and_assessment(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-2", low_risk()), submission("PEC-1", high_risk())], "a")
        repo.add_cases([submission("PEC-1", variant(high_risk(), **{"surgery.margin": "R1"}))],
                       "a")
        repo.add_scan("PEC-2", ScanData(dt.date(2024, 7, 1), "mri_primary", "equivocal"), "a",
                      no_conflict)
        states = repo.states()
        assert [s.registry_id for s in states] == ["PEC-1", "PEC-2"]
        assert states[0].version == 2
        assert states[0].case is not None and states[0].case["surgery"]["margin"] == "R1"
        assert states[0].latest is not None
        assert states[0].latest.case_version_id == states[0].case_version_id
        assert states[1].scans == (ScanData(dt.date(2024, 7, 1), "mri_primary", "equivocal"),)

    def test_export_holds_every_table(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        repo.add_scan("PEC-1", ScanData(dt.date(2025, 4, 12), "chest_ct", "equivocal"), "a",
                      no_conflict)
        data = repo.export()
        assert {k: len(v) for k, v in data.items()} == {
            "patients": 1, "case_versions": 1, "assessments": 1, "imaging_events": 1,
            "outcomes": 0, "board_decisions": 0, "audit_log": 4,
        }
        assert data["case_versions"][0]["case"] == high_risk()
        assert data["audit_log"][0]["at"] == "2026-11-28T09:00:00+00:00"

    def test_last_change_sees_a_write_that_commits_after_a_newer_id(
            self, repo: Repository) -> None:
        """Caches of whole-registry figures (the web worklist, survival) are keyed by
        ``last_change``. On PostgreSQL a write may take its id from the sequence before
        another write and commit after it: the newest id is then unchanged, but the
        registry has changed, so the key must change too."""
        repo.add_cases([submission("PEC-1", high_risk())], "a")
        repo.add_cases([submission("PEC-2", low_risk())], "a")
        before = repo.last_change()
        with repo.engine.begin() as conn:  # the late commit of an earlier-numbered write
            conn.execute(sa.insert(AuditEntry).values(
                id=-1, at=dt.datetime(2026, 11, 28, tzinfo=dt.UTC), actor="a",
                action="create", entity="patient", entity_id=1, patient_id=None, detail={}))
        after = repo.last_change()
        assert after != before
        assert after[1] == before[1]  # the newest id alone would not have shown it

    def test_timeline_of_unknown_patient_is_none(self, repo: Repository) -> None:
        assert repo.timeline("PEC-404") is None
        assert repo.state("PEC-404") is None


def test_clock_is_injected(tmp_path: Path) -> None:
    """Audit times come from the repository's clock, not from the system."""
    r = open_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}",
                      clock=ticking_clock(dt.datetime(2030, 1, 1, tzinfo=dt.UTC)))
    try:
        r.add_cases([submission("PEC-1", high_risk())], "alice")
        assert next(e.at.replace(tzinfo=dt.UTC) for e in r.audit()) == dt.datetime(
            2030, 1, 1, tzinfo=dt.UTC
        )
    finally:
        r.close()


class TestStoredAssessmentJson:
    """Assessments are stored as orjson text: the JSON of ``to_jsonable`` without the
    label, byte for byte in its compact form."""

    @pytest.mark.parametrize("name", scenario_names())
    def test_same_json_as_to_jsonable(self, name: str) -> None:
        a = run_scenario(name)
        data = assessment_data(a, None, "test")
        assert isinstance(data.output, RawJSON)
        reference = to_jsonable(a)
        del reference["label"]
        assert data.output.text == json.dumps(reference, separators=(",", ":"),
                                              ensure_ascii=False)

    def test_read_back_as_data(self, repo: Repository) -> None:
        repo.add_cases([submission("PEC-1", high_risk())], "alice")
        (stored,) = repo.export()["assessments"]
        reference = to_jsonable(assess(parse_case(high_risk()), ON))
        del reference["label"]
        assert stored["output"] == json.loads(json.dumps(reference))


def _compression(conn: sa.Connection, table: str, column: str) -> str:
    """A PostgreSQL column's compression method: "l" for LZ4, "" for the server's default."""
    return str(conn.execute(sa.text(
        "SELECT attcompression FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
        "AND attname = :c"), {"t": table, "c": column}).scalar_one())


def _lz4_from(db_url: str, table: str, column: str, before: str) -> None:
    """The newest schema compresses ``table.column`` with LZ4; down to revision ``before``
    it is back to the server's default method (then upgraded again by the caller)."""
    engine = create_db_engine(db_url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            assert _compression(conn, table, column) == "l"
        downgrade(engine, before)
        with engine.connect() as conn:
            assert _compression(conn, table, column) == ""
    finally:
        engine.dispose()
