"""Start-up of the command line: wall time of ``pecoma version`` and ``pecoma assess``.

Each command is a fresh process of the installed console script (``.venv/bin/pecoma``),
timed from start to exit, beside a bare ``python -c pass`` and ``python -c "import
pecoma"`` in the same run. The commands take turns (one run of each, then the next
round) so that a change in the machine's load touches all of them alike. Goal: median
≤ 0.3 s for both commands.

    .venv/bin/python bench/bench_cli.py [--runs 5] [--other OTHER/.venv/bin/pecoma]

``--other`` also times another installation's console script (another checkout, e.g. the
code before a change) in the same rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PECOMA = str(Path(sys.executable).with_name("pecoma"))
CASE = str(ROOT / "src" / "pecoma" / "examples" / "high-risk-uterine.json")

COMMANDS: dict[str, list[str]] = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import pecoma'": [sys.executable, "-c", "import pecoma"],
    "pecoma version": [PECOMA, "version"],
    "pecoma assess case.json": [PECOMA, "assess", CASE, "--on", "2026-11-28"],
    "pecoma assess case.json -f json": [PECOMA, "assess", CASE, "--on", "2026-11-28", "-f", "json"],
}


def wall(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command, capture_output=True, check=False, env={**os.environ, "COLUMNS": "120"}
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--other", type=Path, help="another installation's pecoma script")
    args = parser.parse_args()
    if args.other is not None:
        other = str(args.other)
        COMMANDS["other: pecoma version"] = [other, "version"]
        COMMANDS["other: pecoma assess case.json"] = [other, "assess", CASE, "--on", "2026-11-28"]
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    for command in COMMANDS.values():  # warm the file cache
        wall(command)
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):
        for name, command in COMMANDS.items():
            times[name].append(wall(command))
    base = statistics.median(times["python -c pass"])
    print(f"{'command':34s} {'median':>9s} {'min':>9s} {'max':>9s} {'× bare':>7s}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(
            f"{name:34s} {med * 1000:7.0f} ms {min(ts) * 1000:6.0f} ms "
            f"{max(ts) * 1000:6.0f} ms {med / base:6.1f}×"
        )
    print(f"load average after:  {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
