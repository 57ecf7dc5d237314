"""Engine benchmark: per-case latency and batch throughput, beside a bare-Python baseline.

Run: .venv/bin/python bench/bench_engine.py [--batch 100000] [--latency 20000]
                                            [--processes N]
Measures validation (parse_case) plus the full assessment, without the surveillance plan,
on seeded generated cases; prints figures (no pass/fail). The batch runs on one core, then
split over N worker processes (default: every core), as a batch job would use the machine
(the engine is pure, so the work splits without coordination).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from baseline import assess_plain
from cases import generate

from pecoma import assess, load_knowledge, parse_case
from pecoma.settings import default_settings

ON = dt.date(2026, 11, 28)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


_BATCH: list[dict[str, object]] = []  # inherited by forked workers: no pickling of cases


def _assess_chunk(chunk: list[dict[str, object]]) -> int:
    settings, knowledge = default_settings(), load_knowledge()
    for c in chunk:
        assess(parse_case(c), ON, settings, knowledge)
    return len(chunk)


def _assess_range(bounds: tuple[int, int]) -> int:
    return _assess_chunk(_BATCH[bounds[0]:bounds[1]])


def _warm_worker() -> None:
    _assess_chunk(generate(200, seed=1))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--latency", type=int, default=20_000)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    settings, knowledge = default_settings(), load_knowledge()
    print(f"pecoma engine benchmark · {platform.python_implementation()} "
          f"{platform.python_version()} · {platform.machine()} · knowledge {knowledge.version}")

    cases = generate(max(args.batch, args.latency))
    for c in cases[:500]:  # warm-up
        assess(parse_case(c), ON, settings, knowledge)
        assess_plain(c)

    gc.disable()
    lat, base = [], []
    clock = time.perf_counter_ns
    for c in cases[: args.latency]:
        t0 = clock()
        assess(parse_case(c), ON, settings, knowledge)
        t1 = clock()
        assess_plain(c)
        t2 = clock()
        lat.append((t1 - t0) / 1000)
        base.append((t2 - t1) / 1000)
    gc.enable()
    print(f"per case, {args.latency} cases (parse + assess, no surveillance plan):")
    print(f"  engine    median {statistics.median(lat):7.1f} µs   p99 {pct(lat, 0.99):7.1f} µs")
    print(f"  baseline  median {statistics.median(base):7.1f} µs   p99 {pct(base, 0.99):7.1f} µs"
          "   (bare Python, same decisions, no validation/provenance)")

    batch = cases[: args.batch]
    t0 = time.perf_counter()
    for c in batch:
        assess(parse_case(c), ON, settings, knowledge)
    engine_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in batch:
        assess_plain(c)
    base_s = time.perf_counter() - t0
    print(f"batch of {len(batch)} cases on one core:")
    print(f"  engine    {engine_s:6.2f} s   ({len(batch) / engine_s:9.0f} cases/s)")
    print(f"  baseline  {base_s:6.2f} s   ({len(batch) / base_s:9.0f} cases/s)")
    if args.processes > 1:
        n = args.processes
        size = -(-len(batch) // (n * 8))
        ranges = [(i, min(i + size, len(batch))) for i in range(0, len(batch), size)]
        _BATCH[:] = batch
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(n, initializer=_warm_worker) as pool:
            pool.map(_assess_chunk, [generate(200, seed=2)] * n)  # workers started and warm
            t0 = time.perf_counter()
            done = sum(pool.map(_assess_range, ranges))
            par_s = time.perf_counter() - t0
        print(f"batch of {done} cases on {n} worker processes (chunks of {size}):")
        print(f"  engine    {par_s:6.2f} s   ({done / par_s:9.0f} cases/s)")
    print("goals: median ≤ 50 µs per case; 100,000-case batch < 5 s")


if __name__ == "__main__":
    main()
