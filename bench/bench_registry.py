"""Registry: import, scan recording, worklist, re-assessment and summary for N patients.

Prints figures; asserts nothing. Runs on a temporary SQLite file and, when reachable, on
a freshly created PostgreSQL database (dropped afterwards).

The worklist is read from the stored states (``pecoma registry worklist``); the full
recomputation it replaces (every patient assessed and planned) is timed with
``--reference``, which also checks that both give the same rows. ``--quick`` leaves out
the re-assessment and summary steps (for large N).

Run: .venv/bin/python bench/bench_registry.py [--patients N] [--backend sqlite|postgresql|both]
     [--scans S] [--reference] [--quick]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cases import generate

from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import read_table
from pecoma.registry.importer import import_rows
from pecoma.registry.reassess import reassess
from pecoma.registry.service import record_scan
from pecoma.registry.summary import summarise
from pecoma.registry.workers import WORKERS
from pecoma.registry.worklist import (
    apply_routine,
    build_worklist,
    evaluate,
    routine_facts,
    stored_worklist,
    to_csv,
)
from pecoma.settings import Settings, default_settings
from pecoma.store import Repository, open_registry

ON = dt.date(2026, 11, 28)
ADMIN = os.environ.get("PECOMA_TEST_POSTGRES_URL",
                       "postgresql://postgres@127.0.0.1:5432/postgres")
T = TypeVar("T")


def timed(label: str, fn: Callable[[], T], per: int | None = None, unit: str = "") -> T:
    start = time.perf_counter()
    result, cpu, kids = cpu_of(fn)
    took = time.perf_counter() - start
    extra = ""
    if per:
        extra = f"  ({per / took:,.0f} {unit}/s, {took / per * 1e3:.3f} ms each)"
    if kids:
        extra += f"  (+ cpu {kids:.2f} s in worker processes)"
    print(f"  {label:<44} {took:8.2f} s  cpu {cpu:6.2f} s{extra}")
    return result


def web_worklist(repo: Repository) -> tuple[Callable[[], None], Callable[[], int]]:
    """(empty the cache, GET /registry/worklist?page=1) in-process: the server's time for
    the page with nothing cached (the stored worklist, sorting, the first 200 rows
    rendered)."""
    from fastapi.testclient import TestClient

    from pecoma.web.app import create_app
    from pecoma.web.config import WebConfig

    app = create_app(WebConfig(), today=lambda: ON)
    app.state.registry = repo
    client = TestClient(app, base_url="http://localhost")  # a host the server serves

    def reset() -> None:
        app.state.registry_cache = {}

    def get() -> int:
        r = client.get("/registry/worklist?page=1")
        assert r.status_code == 200, r.status_code
        return len(r.content)

    return reset, get


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as d:
        yield f"sqlite:///{Path(d) / 'bench.sqlite3'}"


@contextmanager
def postgres_url() -> Iterator[str | None]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"pecoma_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as c:
            c.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        yield None
        return
    try:
        url = make_url(ADMIN).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=3) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_file(n: int, folder: Path) -> Path:
    path = folder / f"registry-{n}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(COLUMN_NAMES), extrasaction="ignore")
        w.writeheader()
        for i, case in enumerate(generate(n)):
            w.writerow(flatten(case, f"PEC-{i:06d}"))
    return path


def cpu_of(fn: Callable[[], T]) -> tuple[T, float, float]:
    """``fn()``, with the CPU seconds of this process and of its finished children."""
    import resource

    def used() -> tuple[float, float]:
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime

    a = used()
    result = fn()
    b = used()
    return result, b[0] - a[0], b[1] - a[1]


def run_write_paths(backend: str, url: str, path: Path, n: int, workers: int) -> None:
    """Import, re-import and reassess (storing): wall, CPU and load for each."""
    import resource

    from pecoma.registry.importer import import_file

    s = default_settings()
    print(f"\n{backend}: {n:,} patients, {workers} worker process(es)")
    repo = open_registry(url)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("import (new rows)", lambda: import_file(repo, path, on_date=ON, settings=s,
                                                  actor="bench", workers=workers)),
        ("re-import, unchanged", lambda: import_file(repo, path, on_date=ON, settings=s,
                                                     actor="bench", workers=workers)),
        ("reassess (storing)", lambda: reassess(repo, ON, s, "bench", workers=workers)),
    ]
    for label, fn in steps:
        before = os.getloadavg()[0]
        start = time.perf_counter()
        result, cpu, kids = cpu_of(fn)
        took = time.perf_counter() - start
        print(f"  {label:<24} {took:7.1f} s wall, CPU {cpu:6.1f} s + workers {kids:6.1f} s, "
              f"load {before:.1f} -> {os.getloadavg()[0]:.1f}")
        written = getattr(result, "written", None)
        if written is not None:
            print(f"    {written.new_versions:,} new versions, {written.unchanged:,} unchanged")
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kid = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"  peak RSS: this process {me:.0f} MB, largest worker {kid:.0f} MB; "
          f"rows: {repo.count()}")
    repo.close()


def run(backend: str, url: str, path: Path, n: int, scans: int, *, reference: bool,
        quick: bool) -> None:
    s = default_settings()
    load = os.getloadavg()
    print(f"\n{backend}: {n:,} patients (load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f})")
    repo: Repository = timed("open + migrate (empty database)", lambda: open_registry(url))
    header, rows = timed("read CSV", lambda: read_table(path), n, "rows")
    if not quick:
        timed("validate rows (case model + engine)", lambda: validate_rows(rows, ON, s), n,
              "rows")
    # as the command line imports: the engine work in WORKERS forked processes
    report = timed(
        "import (validate + assess + plan + write)",
        lambda: import_rows(repo, header, rows, source=path.name, on_date=ON, settings=s,
                            actor="bench", workers=WORKERS),
        n, "rows",
    )
    if report.issues:
        print(f"  (rejected rows: {len(report.rejected_rows)}; first: {report.issues[0]})")
    again = timed(
        "re-import, unchanged (idempotent)",
        lambda: import_rows(repo, header, rows, source=path.name, on_date=ON, settings=s,
                            actor="bench", workers=WORKERS),
        n, "rows",
    )
    assert again.written is not None
    rng = random.Random(5)
    ids = [f"PEC-{i:06d}" for i in range(n)]
    states = {st.registry_id: st for st in repo.states(
        [r.patient_id for r in repo.state_rows()[:: max(1, n // max(scans, 1))]]
        if scans < n else None)}
    ids = sorted(states)

    def scan_once() -> None:
        for _ in range(scans):
            rid = rng.choice(ids)
            st = states[rid]
            surgery = (st.case or {}).get("surgery", {}).get("date") or "2026-01-01"
            start = dt.date.fromisoformat(surgery)
            day = start + dt.timedelta(days=rng.randint(1, max(1, (ON - start).days)))
            record_scan(repo, rid, min(day, ON), "chest_ct", "no_evidence_of_disease",
                        on_date=ON, actor="bench")

    timed(f"record {scans:,} scans, one transaction each", scan_once, scans, "scans")
    for k in range(3):
        items = timed(f"worklist, stored states (run {k + 1})",
                      lambda: stored_worklist(repo, ON, s), n, "patients")
    later = ON + dt.timedelta(days=200)
    timed("worklist, stored states, 200 days later",
          lambda: stored_worklist(repo, later, s), n, "patients")
    timed("worklist CSV", lambda: to_csv(items), n, "rows")
    reset, page = web_worklist(repo)
    for k in range(3):
        reset()
        timed(f"web GET /registry/worklist?page=1 (run {k + 1})", page)
    if reference:
        start = time.perf_counter()
        total = apply_routine(build_worklist(evaluate(repo.states(), ON, s), ON),
                              routine_facts(repo, ON))
        print(f"  {'worklist recomputed (load + assess + plan)':<44} "
              f"{time.perf_counter() - start:8.2f} s  ({len(total):,} rows)")
        print(f"    same rows as the stored worklist: {total == items}")
    if quick:
        print(f"  rows: {repo.count()}")
        repo.close()
        return
    loaded = timed("load states (latest case, scans, assessment)", repo.states, n, "patients")
    evaluated = timed("assess + plan every patient", lambda: evaluate(loaded, ON, s), n,
                      "patients")
    items = timed("build worklist", lambda: build_worklist(evaluated, ON), n, "patients")
    timed("summary (from the evaluated worklist)",
          lambda: summarise(evaluated, items, ON, s), n, "patients")
    timed("reassess (dry run)",
          lambda: reassess(repo, ON, s, "bench", store=False), n, "patients")
    timed("reassess (storing new assessments)",
          lambda: reassess(repo, ON, s, "bench"), n, "patients")
    inclusive = Settings.model_validate(
        {**s.model_dump(), "engine": {**s.engine.model_dump(),
                                      "guideline_size_cm": {"value": 5.0, "inclusive": True}}}
    )
    report = timed("reassess, new settings (stores every one)",
                   lambda: reassess(repo, ON, inclusive, "bench"), n, "patients")
    print(f"    {len(report.changes):,} patients changed, {report.stored:,} assessments stored")
    print(f"  rows: {repo.count()}")
    repo.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("n", nargs="?", type=int, default=10_000)
    ap.add_argument("--patients", type=int, default=None, help="N (same as the positional)")
    ap.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--scans", type=int, default=1_000)
    ap.add_argument("--reference", action="store_true",
                    help="also time the recomputed worklist and compare the rows")
    ap.add_argument("--quick", action="store_true",
                    help="import, scans and worklist only (no reassess, no summary)")
    ap.add_argument("--write-paths", action="store_true",
                    help="only import, re-import and reassess (storing), with CPU times")
    ap.add_argument("--workers", type=int, default=2,
                    help="worker processes of the import (with --write-paths)")
    args = ap.parse_args(argv)
    if args.patients is not None:
        args.n = args.patients
    with tempfile.TemporaryDirectory() as d:
        start = time.perf_counter()
        path = write_file(args.n, Path(d))
        print(f"generated {args.n:,} cases in {time.perf_counter() - start:.2f} s "
              f"({path.stat().st_size / 1e6:.1f} MB CSV)")
        if args.write_paths:
            if args.backend in ("sqlite", "both"):
                with sqlite_url() as url:
                    run_write_paths("SQLite (WAL)", url, path, args.n, args.workers)
            if args.backend in ("postgresql", "both"):
                with postgres_url() as pg:
                    if pg is not None:
                        run_write_paths("PostgreSQL", pg, path, args.n, args.workers)
            return
        if args.backend in ("sqlite", "both"):
            with sqlite_url() as url:
                run("SQLite (WAL)", url, path, args.n, args.scans,
                    reference=args.reference, quick=args.quick)
        if args.backend in ("postgresql", "both"):
            with postgres_url() as pg:
                if pg is None:
                    print("\nPostgreSQL: not reachable, skipped")
                else:
                    run("PostgreSQL", pg, path, args.n, args.scans,
                        reference=args.reference, quick=args.quick)


if __name__ == "__main__":
    main()


__all__: list[Any] = []
