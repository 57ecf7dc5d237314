"""Exports for N patients: OMOP CDM 5.4 CSVs and FHIR Bulk Data NDJSON, each timed whole
(read the registry, build, write), plain and pseudonymised with month precision.

The registry is filled by bulk inserts of the generated cases of bench/cases.py (one case
version and one assessment of realistic size each, outcomes for about half of the
patients; see bench_survival.py): the import has its own benchmark. Prints figures;
asserts nothing.

Run: .venv/bin/python bench/bench_exports.py [--patients N] [--backend sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import postgres_url, sqlite_url
from bench_survival import ON, fill

from pecoma.registry.fhir_bulk import bulk_export
from pecoma.registry.omop import Demographics, omop_export
from pecoma.store import open_registry

SECRET = b"bench-network-secret-0123456789abcdef"


def run(backend: str, url: str, n: int) -> None:
    load = os.getloadavg()
    print(f"\n{backend}: {n:,} patients (load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f})")
    start = time.perf_counter()
    fill(url, n, realistic=True)
    print(f"  {'fill (bulk insert, not a pecoma path)':<44} {time.perf_counter() - start:8.2f} s")
    repo = open_registry(url)
    demo = {f"S-{i:06d}": Demographics("female" if i % 2 else "male", 1950 + i % 50)
            for i in range(1, n + 1)}
    try:
        with tempfile.TemporaryDirectory() as d:
            for label, kw in (("plain", {}),
                              ("pseudonymised, month dates",
                               {"secret": SECRET, "month_precision": True})):
                start = time.perf_counter()
                ex = omop_export(repo, Path(d) / "omop", demo, ON, **kw)  # type: ignore[arg-type]
                took = time.perf_counter() - start
                rows = sum(ex.counts().values())
                print(f"  OMOP CSVs, {label:<32} {took:8.2f} s  ({rows:,} rows)")
                start = time.perf_counter()
                counts, _ = bulk_export(repo, Path(d) / "fhir", ON,
                                        now=dt.datetime(2026, 11, 28, tzinfo=dt.UTC),
                                        **kw)  # type: ignore[arg-type]
                took = time.perf_counter() - start
                print(f"  FHIR Bulk NDJSON, {label:<26} {took:8.2f} s  "
                      f"({sum(counts.values()):,} resources)")
    finally:
        repo.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--patients", type=int, default=100_000)
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    a = p.parse_args()
    if a.backend in ("sqlite", "both"):
        with sqlite_url() as url:
            run("SQLite", url, a.patients)
    if a.backend in ("postgresql", "both"):
        with postgres_url() as pg:
            if pg is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run("PostgreSQL", pg, a.patients)


if __name__ == "__main__":
    main()
