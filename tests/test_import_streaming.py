"""A large import streams: memory stays that of one batch, and all-or-nothing still holds.

20,000 rows once peaked at 1.1 GB, every row's case, assessment and plan held at once
before one write. The file is now read twice, row by row (validate; then assess and
write a batch at a time in one transaction): bench/import_memory.py measures the peak
(bench/RESULTS.md); here tracemalloc bounds the Python heap of a smaller import, and a
failure in a late batch leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import tracemalloc
from pathlib import Path

import pytest

from pecoma.registry import importer
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

        def spy(batches, actor, check=None):  # type: ignore[no-untyped-def]
            def counted():  # type: ignore[no-untyped-def]
                for b in batches():
                    sizes.append(len(b))
                    yield b
            return original(counted, actor, check)

        monkeypatch.setattr(repo, "add_case_batches", spy)
        report = import_file(repo, big_csv(tmp_path / "c.csv", 130), on_date=ON,
                             settings=default_settings(), actor="t")
        assert report.written is not None and report.written.new_versions == 130
        assert sizes == [40, 40, 40, 10]
        assert repo.count()["patient"] == 130

    def test_failure_in_a_late_batch_writes_nothing(self, repo: Repository, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
        """The third batch fails to write: the first two are rolled back with it."""
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

        with pytest.raises(StoreError):
            import_file(repo, big_csv(tmp_path / "c.csv", 70), on_date=ON,
                        settings=default_settings(), actor="t")
        event.remove(repo.engine, "before_cursor_execute", _fail)
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
