"""Engine benchmark: per-case latency and batch throughput, beside a bare-Python baseline.

Run: .venv/bin/python bench/bench_engine.py [--batch 100000] [--latency 20000]
                                            [--processes N]
Measures validation (parse_case) plus the full assessment, without the surveillance plan,
on seeded generated cases; prints figures (no pass/fail).

Every case is computed afresh: the engine keeps nothing from one case for the next (only
the knowledge base, compiled once when loaded). The bare-Python baseline (bench/baseline.py:
the same decisions over plain dicts, without validation or provenance) is measured in the
same run, so the two figures are comparable whatever the machine's speed that hour.

The engine and the baseline run in separate loops (interleaving them would measure each
with the other's data in the processor caches). The inputs are generated before any
timing and set aside from the garbage collector (gc.freeze): a real batch reads its cases
one by one and does not hold 100,000 of them in memory while it works.

The batch runs on one core, then split over N worker processes (default: every
core), as a batch job would use the machine (the engine is pure, so the work splits
without coordination).
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


def _latency(cases: list[dict[str, object]], fn: object) -> list[float]:
    """Per-case times in µs, garbage collector paused."""
    call = fn  # type: ignore[assignment]
    clock = time.perf_counter_ns
    out = []
    gc.disable()
    try:
        for c in cases:
            t0 = clock()
            call(c)  # type: ignore[operator]
            out.append((clock() - t0) / 1000)
    finally:
        gc.enable()
    return out


def _line(name: str, values: list[float], note: str = "") -> str:
    return (f"  {name:<22} median {statistics.median(values):7.1f} µs   "
            f"p99 {pct(values, 0.99):7.1f} µs{note}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=100_000)
    ap.add_argument("--latency", type=int, default=20_000)
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    settings, knowledge = default_settings(), load_knowledge()
    print(f"pecoma engine benchmark · {platform.python_implementation()} "
          f"{platform.python_version()} · {platform.machine()} · knowledge {knowledge.version}")

    def engine(c: dict[str, object]) -> None:
        assess(parse_case(c), ON, settings, knowledge)

    cases = generate(max(args.batch, args.latency))
    gc.collect()
    gc.freeze()  # inputs made before timing, set aside from the collector

    for c in cases[:200]:  # imports, first calls
        engine(c)
        assess_plain(c)
    timed = _latency(cases[: args.latency], engine)
    base = _latency(cases[: args.latency], assess_plain)
    print(f"per case, {args.latency} cases (parse + assess, no surveillance plan):")
    print(_line("engine", timed, "   (every case computed afresh)"))
    print(_line("baseline", base, "   (bare Python, same decisions, no validation/provenance)"))
    print(f"  engine / baseline (medians): "
          f"{statistics.median(timed) / statistics.median(base):.0f}×")

    batch = cases[: args.batch]
    t0 = time.perf_counter()
    for c in batch:
        engine(c)
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
    print("goal: engine median ≤ 100 µs per case (parse + assess), every case afresh")


if __name__ == "__main__":
    main()
