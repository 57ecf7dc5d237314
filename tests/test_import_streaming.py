"""A large import streams: memory stays that of one batch, and all-or-nothing still holds.

20,000 rows once peaked at 1.1 GB, every row's case, assessment and plan held at once
before one write. The file is now read once, row by row, each row checked, assessed and
written a batch at a time in one transaction: bench/import_memory.py measures the peak
(bench/RESULTS.md); here tracemalloc bounds the Python heap of a smaller import, and a
failure in a late batch leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry import importer
from pecoma.registry.import_table import read_table
from pecoma.registry.importer import ImportMode, import_file
from pecoma.settings import default_settings
from pecoma.store import Repository, StoreError

from registry_support import db_url, high_risk, low_risk, metastatic, repo, rows_of, write_csv

__all__ = ["db_url", "repo"]

ON = dt.date(2026, 11, 28)
KINDS = [high_risk(), low_risk(), metastatic()]


def big_csv(path: Path, rows: int) -> Path:
    return write_csv(path, rows_of({f"PEC-{i:05d}": KINDS[i % 3] for i in range(rows)}))


class TestStreaming:
    def test_batches_are_bounded(self, repo: Repository, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
        """Each write carries at most BATCH_ROWS rows, all in one call (one transaction)."""
        monkeypatch.setattr(importer, "BATCH_ROWS", 40)
        sizes: list[int] = []
        original = repo.add_case_batches

        def spy(batches, actor, *checks):  # type: ignore[no-untyped-def]
            def counted():  # type: ignore[no-untyped-def]
                for b in batches():
                    sizes.append(len(b))
                    yield b
            return original(counted, actor, *checks)

        monkeypatch.setattr(repo, "add_case_batches", spy)
        report = import_file(repo, big_csv(tmp_path / "c.csv", 130), on_date=ON,
                             settings=default_settings(), actor="t")
        assert report.written is not None and report.written.new_versions == 130
        assert sizes == [40, 40, 40, 10]
        assert repo.count()["patient"] == 130

    def test_failure_in_a_late_batch_writes_nothing(self, repo: Repository, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        """The third batch fails to write: the first two are rolled back with it. (On
        PostgreSQL case versions are written with COPY, on SQLite with INSERT.)"""
        from sqlalchemy import event

        monkeypatch.setattr(importer, "BATCH_ROWS", 20)
        before = repo.count()
        inserts = {"n": 0}

        @event.listens_for(repo.engine, "before_cursor_execute")
        def _fail(_c, _cur, statement, *_a):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("INSERT INTO CASE_VERSION"):
                inserts["n"] += 1
                if inserts["n"] == 3:
                    # the driver's own error class, as a full disk would raise it
                    raise repo.engine.dialect.dbapi.OperationalError("disk is full")

        if repo.dialect == "postgresql":
            import psycopg

            copy = psycopg.Cursor.copy

            def failing_copy(cur, statement, *a, **k):  # type: ignore[no-untyped-def]
                if str(statement).startswith("COPY case_version"):
                    inserts["n"] += 1
                    if inserts["n"] == 3:
                        raise psycopg.errors.DiskFull("disk is full")
                return copy(cur, statement, *a, **k)

            monkeypatch.setattr(psycopg.Cursor, "copy", failing_copy)
        with pytest.raises(StoreError):
            import_file(repo, big_csv(tmp_path / "c.csv", 70), on_date=ON,
                        settings=default_settings(), actor="t")
        event.remove(repo.engine, "before_cursor_execute", _fail)
        assert inserts["n"] == 3
        assert repo.count() == before

    def test_all_or_nothing_with_one_bad_row_at_the_end(self, repo: Repository,
                                                        tmp_path: Path) -> None:
        rows = rows_of({f"PEC-{i:05d}": KINDS[i % 3] for i in range(60)})
        rows[-1]["histology.necrosis"] = "maybe"
        path = write_csv(tmp_path / "c.csv", rows)
        report = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
        assert report.rejected_rows == [61] and not report.committed
        assert repo.count()["patient"] == 0
        good = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t",
                           mode=ImportMode.good_rows)
        assert good.written is not None and good.written.new_versions == 59


def test_heap_does_not_grow_with_the_file(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's heap importing 1,500 rows in batches of 100 stays far under the 70 MB
    the same import took when every row was held at once."""
    from pecoma.store import open_registry

    monkeypatch.setattr(importer, "BATCH_ROWS", 100)
    path = big_csv(tmp_path / "c.csv", 1500)
    repo = open_registry(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        tracemalloc.start()
        report = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t")
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        repo.close()
    assert report.written is not None and report.written.new_versions == 1500
    assert peak < 40 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def _stored(repo: Repository) -> dict[str, Any]:
    """What the registry holds, without ids and times (they depend on the write order)."""
    data = repo.export()
    drop = {"created_at", "recorded_at", "at", "entity_id"}
    tables = {name: sorted(json.dumps({k: v for k, v in row.items() if k not in drop},
                                       sort_keys=True) for row in rows)
              for name, rows in data.items()}
    states = sorted((r.registry_id, r.version, r.state) for r in repo.state_rows()
                    if r.state is not None)
    return {"tables": tables, "states": states}


class TestParallelImport:
    """The engine work of a large file runs in worker processes and the rows are written
    in bulk; what is stored must be exactly what importing the rows one at a time stores,
    and a bad row anywhere must still leave nothing written."""

    def _small(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # worker processes even for a few rows; several pieces of work and write batches
        monkeypatch.setattr(importer, "POOL_MIN_ROWS", 0)
        monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
        monkeypatch.setattr(importer, "BATCH_ROWS", 3)

    def test_same_rows_as_one_row_at_a_time(self, repo: Repository, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
        from pecoma.store import open_registry

        self._small(monkeypatch)
        cases = {f"PEC-{i:05d}": KINDS[i % 3] for i in range(7)}
        path = write_csv(tmp_path / "c.csv", rows_of(cases))
        report = import_file(repo, path, on_date=ON, settings=default_settings(),
                             actor="t", workers=2)
        assert report.written is not None and report.written.new_versions == 7

        header, raws = read_table(path)
        one = open_registry(f"sqlite:///{tmp_path / 'one.sqlite3'}")
        try:
            for raw in raws:  # the reference: one row per import, in this process
                single = importer.import_rows(one, header, [raw], source=path.name,
                                              on_date=ON, settings=default_settings(),
                                              actor="t", workers=1)
                assert single.written is not None and single.written.new_versions == 1
            expected = _stored(one)
        finally:
            one.close()
        got = _stored(repo)
        assert got == expected
        # by hand: 7 patients, each with one case version (row source kept), one
        # assessment (reason "import") and the three audit rows that record them
        assert len(got["tables"]["case_versions"]) == 7
        audit = [json.loads(r) for r in got["tables"]["audit_log"]]
        assert sorted((a["registry_id"], a["entity"]) for a in audit) == sorted(
            (rid, entity) for rid in cases for entity in ("patient", "case_version",
                                                          "assessment"))
        sources = sorted(json.loads(r)["source"] for r in got["tables"]["case_versions"])
        assert sources == sorted(f"c.csv row {n}" for n in range(2, 9))
        reasons = {json.loads(r)["reason"] for r in got["tables"]["assessments"]}
        assert reasons == {"import"}
        # every patient has its worklist state, computed from case version 1
        assert [(rid, v) for rid, v, _st in got["states"]] == [(rid, 1) for rid in cases]
        risks = [json.loads(r)["risk_group"] for r in sorted(
            got["tables"]["assessments"], key=lambda r: json.loads(r)["registry_id"])]
        assert risks == [st.risk_group for _rid, _v, st in got["states"]]

    def test_a_bad_row_in_the_middle_writes_nothing(self, repo: Repository, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        """Row 6 of 10 is bad: batches before it were already written in the transaction;
        all of it is rolled back and every row is still checked for the report. Row 10
        gives the patient of row 2 again with other facts: both rows are refused (which of
        the two holds the patient's facts is for the coordinator to say)."""
        self._small(monkeypatch)
        rows = rows_of({f"PEC-{i:05d}": KINDS[i % 3] for i in range(10)})
        rows[4]["histology.necrosis"] = "maybe"   # spreadsheet row 6
        rows[8]["registry_id"] = "PEC-00000"     # row 10: the patient of row 2 again
        before = repo.count()
        report = import_file(repo, write_csv(tmp_path / "c.csv", rows), on_date=ON,
                             settings=default_settings(), actor="t", workers=2)
        assert not report.committed
        assert report.rejected_rows == [2, 6, 10]
        assert [(i.row, i.column) for i in report.issues] == [
            (2, "registry_id"), (6, "histology.necrosis"), (10, "registry_id")]
        assert report.rows == 10 and report.good == 7
        assert repo.count() == before
        assert repo.state_rows() == []


def _pid_of(task: int) -> tuple[int, int]:
    import os

    return task, os.getpid()


class TestRunner:
    """The worker processes' runner keeps the tasks' order, wherever each task ran."""

    def test_forked_workers_and_tasks_done_here_keep_their_order(self) -> None:
        """Tasks 0, 3, 6, 9 are marked for this process: they run here (this process's
        id); the others run in the 2 forked workers (other ids); the results come back
        in task order."""
        import os

        from pecoma.registry.workers import runner

        with runner(_pid_of, 2, start="fork", here=lambda t: t % 3 == 0) as run:
            got = list(run(range(10)))
        assert [t for t, _pid in got] == list(range(10))
        assert [t for t, pid in got if pid == os.getpid()] == [0, 3, 6, 9]

    def test_reimport_with_workers_changes_nothing(self, repo: Repository, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
        """The same 7 rows imported twice with workers: the second import finds every row
        unchanged (done in this process, no engine work) and writes nothing."""
        monkeypatch.setattr(importer, "POOL_MIN_ROWS", 0)
        monkeypatch.setattr(importer, "CHUNK_ROWS", 2)
        monkeypatch.setattr(importer, "BATCH_ROWS", 3)
        path = write_csv(tmp_path / "c.csv",
                         rows_of({f"PEC-{i:05d}": KINDS[i % 3] for i in range(7)}))
        first = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t",
                            workers=2)
        assert first.written is not None and first.written.new_versions == 7
        before = _stored(repo)
        again = import_file(repo, path, on_date=ON, settings=default_settings(), actor="t",
                            workers=2)
        assert again.written is not None
        assert (again.written.new_versions, again.written.unchanged) == (0, 7)
        assert again.written.versions == {f"PEC-{i:05d}": 1 for i in range(7)}
        assert _stored(repo) == before
