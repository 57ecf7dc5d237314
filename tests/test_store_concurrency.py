"""Two real processes importing and recording scans at once lose nothing, and leave no
stale worklist state.

SQLite (WAL, busy timeout, write lock taken when a transaction begins) and PostgreSQL
(row locks, ``ON CONFLICT``, retried deadlocks) must both serialise the writers.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
from pathlib import Path
from typing import Any

from pecoma.registry.importer import ImportMode, import_file
from pecoma.registry.service import record_scan
from pecoma.registry.worklist import build_worklist, evaluate, stored_worklist
from pecoma.settings import default_settings
from pecoma.store import open_registry

from registry_support import ON, db_url, high_risk, low_risk, rows_of, write_csv

__all__ = ["db_url"]

SEEDED = 10
OWN = 60
SHARED = 40
SCANS = 25


def worker(url: str, name: str, own: str, shared: str, barrier: Any, first_shared: bool) -> None:
    """One process: import its own file and the shared one, recording scans in between."""
    repo = open_registry(url)
    s = default_settings()
    files = [Path(shared), Path(own)] if first_shared else [Path(own), Path(shared)]
    barrier.wait()
    for n, f in enumerate(files):
        report = import_file(repo, f, on_date=ON, settings=s, actor=name,
                             mode=ImportMode.all_or_nothing)
        assert not report.issues, report.lines()
        for i in range(SCANS // 2 + (n * (SCANS % 2))):
            k = n * 100 + i
            # each process its own examination: the same scan twice is recorded once
            record_scan(
                repo, f"SEED-{k % SEEDED:03d}", ON - dt.timedelta(days=k + 1),
                "chest_ct" if name == "proc-a" else "mri_primary",
                "no_evidence_of_disease", on_date=ON, actor=name,
            )
    repo.close()


def test_two_processes_lose_nothing(db_url: str, tmp_path: Path) -> None:
    seed = open_registry(db_url)
    s = default_settings()
    seed_file = write_csv(tmp_path / "seed.csv",
                          rows_of({f"SEED-{i:03d}": high_risk() for i in range(SEEDED)}))
    assert import_file(seed, seed_file, on_date=ON, settings=s, actor="seed").written
    files = {}
    for who in ("a", "b"):
        files[who] = write_csv(
            tmp_path / f"{who}.csv",
            rows_of({f"{who.upper()}-{i:04d}": low_risk() for i in range(OWN)}),
        )
    shared = write_csv(
        tmp_path / "shared.csv",
        rows_of({f"SH-{i:04d}": high_risk() for i in range(SHARED)}),
    )
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [
        ctx.Process(target=worker, args=(db_url, "proc-a", str(files["a"]), str(shared),
                                         barrier, True)),
        ctx.Process(target=worker, args=(db_url, "proc-b", str(files["b"]), str(shared),
                                         barrier, False)),
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0, 0]

    patients = SEEDED + 2 * OWN + SHARED
    counts = seed.count()
    assert counts["patient"] == patients
    assert counts["case_version"] == patients  # the shared file's second import added nothing
    assert counts["assessment"] == patients
    assert counts["imaging_event"] == 2 * SCANS
    assert counts["audit_log"] == 3 * patients + 2 * SCANS
    audit = seed.audit()
    assert sum(e.entity == "imaging_event" for e in audit) == 2 * SCANS
    assert {e.actor for e in audit if e.entity == "imaging_event"} == {"proc-a", "proc-b"}
    # every shared patient was created exactly once, by one of the two processes
    created = [e for e in audit if e.entity == "patient"]
    assert len(created) == patients
    # the stored worklist states were written by both processes: none is stale
    rows = seed.state_rows()
    assert all(r.state is None or r.current for r in rows)
    assert sum(r.state is not None for r in rows) == patients
    assert stored_worklist(seed, ON, s) == build_worklist(evaluate(seed.states(), ON, s), ON)
    seed.close()


def opener(url: str, barrier: Any) -> None:
    barrier.wait()
    repo = open_registry(url)
    assert repo.count()["patient"] == 0
    repo.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(db_url: str) -> None:
    """The first migrates; the others wait for it and find the schema current."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(3)
    procs = [ctx.Process(target=opener, args=(db_url, barrier)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
