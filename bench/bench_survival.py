"""Survival figures for N patients: reading the cohort and the outcomes, and the
Kaplan-Meier / log-rank estimates, per endpoint and grouping.

The registry is filled by bulk inserts of synthetic rows (patients, one case version and
one assessment each, outcomes for about half of them): the import path has its own
benchmark (bench_registry.py), and this one measures the survival read and estimates
alone. Prints figures; asserts nothing. ``--figure FILE.png`` also writes the RFS plot of
the synthetic cohort (the sample plot of docs/registry.md).

Run: .venv/bin/python bench/bench_survival.py [--patients N] [--backend sqlite|postgresql|both]
     [--figure FILE.png]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_registry import postgres_url, sqlite_url

from pecoma.registry.survival import Endpoint, Grouping, survival_report, to_figure
from pecoma.store import open_registry
from pecoma.store.models import CaseVersion, OutcomeRecord, Patient, StoredAssessment

ON = dt.date(2026, 11, 28)
NOW = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
# a stored assessment's output is ~15 kB of JSON: the read must cope with its real size
PADDING = [{"id": f"REC-{k}", "text": "x" * 200} for k in range(60)]
RISKS = (("high", "malignant", 3.0), ("indeterminate", "uncertain malignant potential", 8.0),
         ("low", "benign", 30.0))


def fill(url: str, n: int, seed: int = 7, *, realistic: bool = False) -> None:
    """n synthetic patients: resected localized tumours (a tenth metastatic), times to
    recurrence and death drawn by risk group, censored by the evaluation date. With
    ``realistic`` each case is a generated case of cases.py (every fact filled in)."""
    from cases import generate

    repo = open_registry(url)
    rng = random.Random(seed)
    generated = generate(n) if realistic else []
    patients: list[dict[str, Any]] = []
    cases: list[dict[str, Any]] = []
    assessments: list[dict[str, Any]] = []
    outcomes: list[dict[str, Any]] = []
    for i in range(1, n + 1):
        risk, folpe, scale = RISKS[rng.choices((0, 1, 2), (4, 1, 5))[0]]
        diagnosed = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randint(0, 5000))
        surgery = diagnosed + dt.timedelta(days=rng.randint(5, 40))
        stage = "metastatic" if rng.random() < 0.1 else "localized"
        patients.append({"id": i, "registry_id": f"S-{i:06d}", "created_at": NOW,
                         "created_by": "bench"})
        case = generated[i - 1] if realistic else {
            "diagnosis": {"date": diagnosed.isoformat()},
            "surgery": {"status": "performed", "date": surgery.isoformat()},
            "stage": {"status": stage}, "tumour": {"primary_site": "uterus"}}
        cases.append({"id": i, "patient_id": i, "version": 1, "digest": f"{i:064d}",
                      "source": "bench", "recorded_at": NOW, "recorded_by": "bench",
                      "case": case})
        assessments.append({
            "id": i, "patient_id": i, "case_version_id": i, "evaluated_on": ON,
            "knowledge_version": "bench", "engine_version": "bench",
            "settings_digest": "bench", "risk_group": risk, "disease_status": stage,
            "record_ids": [], "next_due": None, "reason": "bench", "created_at": NOW,
            "folpe_category": folpe, "icdo3_morphology": "8714/3",
            "created_by": "bench",
            "output": {"classifications": [{"id": "CLS-FOLPE-2005", "category": folpe,
                                            "determined": True},
                                           {"id": "CLS-ICDO3", "category": "8714/3",
                                            "determined": True}],
                       "recommendations": PADDING}})
        years = rng.expovariate(1 / scale)
        event_day = surgery + dt.timedelta(days=int(years * 365.25))
        if event_day <= ON:
            outcomes.append({"patient_id": i, "event": "local_recurrence",
                             "event_date": event_day, "found_by": "scheduled_scan",
                             "vital_status": None, "scan_id": None, "recorded_at": NOW,
                             "recorded_by": "bench"})
            death = event_day + dt.timedelta(days=rng.randint(100, 2000))
            if death <= ON and rng.random() < 0.5:
                outcomes.append({"patient_id": i, "event": "death", "event_date": death,
                                 "vital_status": "dead_of_disease", "found_by": None,
                                 "scan_id": None, "recorded_at": NOW,
                                 "recorded_by": "bench"})
        else:
            contact = surgery + dt.timedelta(days=rng.randint(30, max(31, (ON - surgery).days)))
            outcomes.append({"patient_id": i, "event": "last_contact",
                             "event_date": min(contact, ON),
                             "vital_status": "alive_without_disease",
                             "found_by": None, "scan_id": None, "recorded_at": NOW,
                             "recorded_by": "bench"})
    with repo.engine.begin() as conn:
        for model, rows in ((Patient, patients), (CaseVersion, cases),
                            (StoredAssessment, assessments), (OutcomeRecord, outcomes)):
            for k in range(0, len(rows), 5000):
                conn.execute(insert(model.__table__), rows[k:k + 5000])  # type: ignore[arg-type]
    repo.close()


def run(backend: str, url: str, n: int, figure: Path | None) -> None:
    load = os.getloadavg()
    print(f"\n{backend}: {n:,} patients (load average {load[0]:.2f} {load[1]:.2f} "
          f"{load[2]:.2f})")
    start = time.perf_counter()
    fill(url, n)
    print(f"  {'fill (bulk insert, not a pecoma path)':<44} {time.perf_counter() - start:8.2f} s")
    start = time.perf_counter()
    import lifelines  # noqa: F401  (once per process: the CLI pays it on every call)

    print(f"  {'import lifelines (once per process)':<44} {time.perf_counter() - start:8.2f} s")
    repo = open_registry(url)
    try:
        for endpoint in Endpoint:
            for grouping in Grouping:
                start = time.perf_counter()
                report = survival_report(repo, endpoint, grouping, ON)
                took = time.perf_counter() - start
                groups = ", ".join(f"{c.group} {c.n}" for c in report.curves)
                print(f"  {endpoint.value} by {grouping.value:<6} (read + estimate)"
                      f"{'':<14} {took:8.2f} s  ({groups})")
        start = time.perf_counter()
        rows = repo.cohort_rows()
        outcomes = repo.outcomes()
        print(f"  {'of which the read (cohort rows + outcomes)':<44} "
              f"{time.perf_counter() - start:8.2f} s  ({len(rows):,} rows, "
              f"{sum(map(len, outcomes.values())):,} outcomes)")
        if figure is not None:
            figure.write_bytes(to_figure(survival_report(repo, Endpoint.rfs, Grouping.risk,
                                                         ON), "png"))
            print(f"  figure written: {figure}")
    finally:
        repo.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--patients", type=int, default=100_000)
    p.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    p.add_argument("--figure", type=Path)
    a = p.parse_args()
    if a.backend in ("sqlite", "both"):
        with sqlite_url() as url:
            run("SQLite", url, a.patients, a.figure)
    if a.backend in ("postgresql", "both"):
        with postgres_url() as pg:
            if pg is None:
                print("\nPostgreSQL: not reachable, skipped")
            else:
                run("PostgreSQL", pg, a.patients, None)


if __name__ == "__main__":
    main()
