"""Surveillance plans: time per case to draw the plan and to render it.

Prints figures; asserts nothing. Run: .venv/bin/python bench/bench_schedule.py [N]
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.schedule import plan_surveillance
from pecoma.render.ics import plan_to_ics
from pecoma.render.schedule import plan_rows
from pecoma.render.timeline import timeline_png, timeline_svg

ON = dt.date(2026, 11, 28)
HISTOLOGY = {
    "high": {"necrosis": "present"},
    "low": {"necrosis": "absent", "infiltrative_growth": "absent",
            "high_nuclear_grade_and_cellularity": "absent"},
    "indeterminate": {"necrosis": "absent"},
}


def make_inputs(n: int, seed: int = 7) -> list[tuple[Any, tuple[ImagingEvent, ...]]]:
    rng = random.Random(seed)
    inputs = []
    for i in range(n):
        risk = ("high", "low", "indeterminate")[i % 3]
        anchor = ON - dt.timedelta(days=rng.randint(30, 12 * 365))
        case = parse_case({
            "tumour": {"primary_site": "soft_tissue", "size": {"value": 3, "unit": "cm"}},
            "histology": HISTOLOGY[risk],
            "stage": {"status": "localized", "lymph_nodes": "negative"},
            "surgery": {"status": "performed", "date": anchor.isoformat(), "margin": "R0"},
        })
        scans, day = [], anchor
        while True:
            day += dt.timedelta(days=rng.randint(60, 420))
            if day > ON:
                break
            for modality in (Modality.chest_ct, Modality.mri_primary):
                scans.append(ImagingEvent(day, modality, ScanFinding.no_evidence_of_disease))
        inputs.append((case, tuple(scans)))
    return inputs


def timed(label: str, fn: Callable[[], object], count: int) -> None:
    samples = []
    for _ in range(3):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) / count)
    best = min(samples)
    print(f"{label:<44} {best * 1e3:9.3f} ms/case  ({1 / best:10.0f} cases/s, "
          f"median of 3 runs {statistics.median(samples) * 1e3:.3f} ms)")


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    inputs = make_inputs(n)
    assessed = [(c, s, assess(c, ON)) for c, s in inputs]
    plans = [plan_surveillance(c, a, ON, s) for c, s, a in assessed]
    visits = sum(len(p.visits) for p in plans)
    scans = sum(len(s) for _, s in inputs)
    print(f"{n} cases (high, low, indeterminate in turn), {scans} scans, {visits} visits "
          f"({visits / n:.1f} per plan)")
    timed("plan_surveillance (assessment given)",
          lambda: [plan_surveillance(c, a, ON, s) for c, s, a in assessed], n)
    timed("plan_surveillance, no scan",
          lambda: [plan_surveillance(c, a, ON, ()) for c, _s, a in assessed], n)
    timed("plan_surveillance, no history given (I13)",
          lambda: [plan_surveillance(c, a, ON) for c, _s, a in assessed], n)
    timed("assess + plan_surveillance",
          lambda: [plan_surveillance(c, assess(c, ON), ON, s) for c, s in inputs], n)
    timed("plan.to_dict (JSON data)", lambda: [p.to_dict() for p in plans], n)
    timed("plan_rows (table rows)", lambda: [plan_rows(p) for p in plans], n)
    timed("plan_to_ics", lambda: [plan_to_ics(p, f"case-{i}") for i, p in enumerate(plans)], n)
    few = plans[: max(3, n // 100)]
    timed("timeline_svg", lambda: [timeline_svg(p) for p in few], len(few))
    timed("timeline_png", lambda: [timeline_png(p) for p in few], len(few))


if __name__ == "__main__":
    main()
