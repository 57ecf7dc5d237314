"""Exports for N patients: OMOP CDM 5.4 CSVs and FHIR Bulk Data NDJSON, each timed whole
(read the registry, build, write), plain and pseudonymised with month precision.

The registry is filled by bulk inserts of the generated cases of bench/cases.py (one case
version and one assessment of realistic size each, outcomes for about half of the
patients; see bench_survival.py): the import has its own benchmark. Each export runs in
a fresh process, so that its peak resident memory (``ru_maxrss``) is its own; wall time
and the process's CPU time are both given (on a shared machine the CPU time moves less
with the load), and for the FHIR export, which writes registry-id ranges in worker
processes, the workers' CPU time and the largest worker's peak memory too (the export's
whole memory is at most the sum of the two peaks). After the FHIR export a sample of
2,000 resources, spread over the files, is validated under fhir.resources R4B (not
timed). Prints figures; asserts nothing but the sample's validity.

Run: .venv/bin/python bench/bench_exports.py [--patients N] [--backend sqlite|postgresql|both]
     [--url DATABASE_URL]  (a registry filled by an earlier run: exports only)
     [--workers N] (FHIR export worker processes) [--only omop|fhir]
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import postgres_url, sqlite_url

SECRET = b"bench-network-secret-0123456789abcdef"
SAMPLE = 2000


def _fill(url: str, n: int) -> None:
    from bench_survival import fill

    fill(url, n, realistic=True)


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _export(kind: str, url: str, n: int, folder: str, pseudonymised: bool,
            workers: int | None = None) -> dict[str, Any]:
    """One export in this (fresh) process: wall and CPU seconds (this process and its
    worker processes), rows, peak RSS of this process and of its largest worker."""
    from bench_survival import ON

    from pecoma.registry.fhir_bulk import bulk_export
    from pecoma.registry.omop import Demographics, omop_export
    from pecoma.store import open_registry

    kw: dict[str, Any] = {"secret": SECRET, "month_precision": True} if pseudonymised else {}
    repo = open_registry(url)
    demo = {f"S-{i:06d}": Demographics("female" if i % 2 else "male", 1950 + i % 50)
            for i in range(1, n + 1)}
    wall, cpu, apart = time.perf_counter(), time.process_time(), _children_cpu()
    if kind == "omop":
        rows = sum(omop_export(repo, Path(folder), demo, ON, **kw).counts().values())
    else:
        counts, _ = bulk_export(repo, Path(folder), ON, workers=workers,
                                now=dt.datetime(2026, 11, 28, tzinfo=dt.UTC), **kw)
        rows = sum(counts.values())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    apart = _children_cpu() - apart
    repo.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"wall": wall, "cpu": cpu, "cpu_workers": apart, "rows": rows, "peak_mb": peak,
            "worker_peak_mb": worker_peak}


def _in_fresh_process(fn: Any, *args: Any) -> Any:
    # not a multiprocessing.Pool: its processes are daemons, which may start none (the
    # FHIR export starts worker processes)
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def validate_sample(folder: Path, sample: int = SAMPLE) -> int:
    """Validate about ``sample`` resources, spread evenly over every NDJSON file, under
    fhir.resources R4B; returns how many were validated (raises on an invalid one)."""
    import orjson
    from fhir.resources.R4B import get_fhir_model_class

    files = sorted(folder.glob("*.ndjson"))
    total = sum(1 for f in files for _ in f.open("rb"))
    step = max(1, total // sample)
    checked = 0
    for f in files:
        model = get_fhir_model_class(f.stem)
        with f.open("rb") as lines:
            for k, line in enumerate(lines):
                if k % step == 0:
                    model.model_validate(orjson.loads(line))
                    checked += 1
    return checked


def run(backend: str, url: str, n: int, fill: bool = True, workers: int | None = None,
        kinds: tuple[str, ...] = ("omop", "fhir")) -> None:
    load = os.getloadavg()
    print(f"\n{backend}: {n:,} patients, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC "
          f"(load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f})")
    if fill:
        start = time.perf_counter()
        _in_fresh_process(_fill, url, n)
        print(f"  {'fill (bulk insert, not a pecoma path)':<44} "
              f"{time.perf_counter() - start:8.2f} s")
    with tempfile.TemporaryDirectory() as d:
        for kind, title in (("omop", "OMOP CSVs"), ("fhir", "FHIR Bulk NDJSON")):
            if kind not in kinds:
                continue
            for label, pseudonymised in (("plain", False),
                                         ("pseudonymised, month dates", True)):
                folder = str(Path(d) / f"{kind}-{int(pseudonymised)}")
                r = _in_fresh_process(_export, kind, url, n, folder, pseudonymised, workers)
                now_load = os.getloadavg()[0]
                cpu = f"CPU {r['cpu']:.2f} s"
                peak = f"peak {r['peak_mb']:.0f} MB"
                if r["cpu_workers"]:  # the FHIR export's worker processes
                    cpu += f" + workers {r['cpu_workers']:.2f} s"
                    peak += f" + worker {r['worker_peak_mb']:.0f} MB"
                print(f"  {title + ', ' + label:<44} {r['wall']:8.2f} s  ({cpu}, "
                      f"{r['rows']:,} rows, {peak}, load {now_load:.2f})")
                if kind == "fhir":
                    checked = validate_sample(Path(folder))
                    print(f"  {'':<44} {checked:,} sampled resources valid FHIR R4B")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--patients", type=int, default=100_000)
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--url", help="export this registry, filled by an earlier run with the "
                   "same --patients (no fill)")
    p.add_argument("--workers", type=int, help="FHIR export worker processes (default: "
                   "the export's own choice, up to 2)")
    p.add_argument("--only", choices=("omop", "fhir"), help="one export only")
    a = p.parse_args()
    kinds = (a.only,) if a.only else ("omop", "fhir")
    if a.url:
        run(a.url.split(":")[0], a.url, a.patients, fill=False, workers=a.workers, kinds=kinds)
        return
    if a.backend in ("sqlite", "both"):
        with sqlite_url() as url:
            run("SQLite", url, a.patients, workers=a.workers, kinds=kinds)
    if a.backend in ("postgresql", "both"):
        with postgres_url() as pg:
            if pg is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run("PostgreSQL", pg, a.patients, workers=a.workers, kinds=kinds)


if __name__ == "__main__":
    main()
