"""Peak memory of ``pecoma registry import`` for a large file.

Run: .venv/bin/python bench/import_memory.py [--rows 100000] [--format csv|xlsx]
                                            [--mode all-or-nothing|good-rows]

Writes a CSV (or XLSX) of ``--rows`` distinct patients in the import layout (the bench's
seeded cases, bench/cases.py), imports it into a fresh SQLite registry with the real
command line in a subprocess, and prints the child's peak resident set size (ru_maxrss)
and the time taken. The goal (issue 14): at most 300 MB at 100,000 rows. The import's
engine work runs in worker processes for a large file: ru_maxrss is then the largest
single process, so the sum over the command and its workers is sampled too (every 0.2 s
from /proc; Linux only): their resident sizes (a page the forked workers share with the
command counts in each of them) and their proportional set sizes (each page once).
"""

from __future__ import annotations

import argparse
import csv
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from cases import generate  # noqa: E402

from pecoma.registry.columns import COLUMN_NAMES, flatten  # noqa: E402


def write_file(path: Path, rows: int) -> None:
    cases = generate(min(rows, 2000), seed=7)
    header = list(COLUMN_NAMES)
    if path.suffix == ".csv":
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, header, extrasaction="ignore")
            w.writeheader()
            for i in range(rows):
                w.writerow(flatten(cases[i % len(cases)], f"PEC-{i:06d}"))
        return
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("cases")
    ws.append(header)
    for i in range(rows):
        flat = flatten(cases[i % len(cases)], f"PEC-{i:06d}")
        ws.append([flat.get(h) for h in header])
    wb.save(path)


def tree_rss(pid: int, pss: bool = False) -> int:
    """Resident kB of ``pid`` and its descendants (0 for a process that is gone); with
    ``pss``, each page shared by n processes counts 1/n in each (proportional set size),
    so that pages forked workers share with the command are counted once."""
    total = 0
    source, field = ("smaps_rollup", "Pss:") if pss else ("status", "VmRSS:")
    try:
        with open(f"/proc/{pid}/{source}") as f:
            total += next((int(line.split()[1]) for line in f if line.startswith(field)),
                          0)
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            kids = [int(k) for k in f.read().split()]
    except (OSError, ValueError):
        return total
    return total + sum(tree_rss(k, pss) for k in kids)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    parser.add_argument("--mode", choices=["all-or-nothing", "good-rows"],
                        default="all-or-nothing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"cases.{args.format}"
        write_file(path, args.rows)
        url = f"sqlite:///{Path(tmp) / 'r.sqlite3'}"
        started = time.monotonic()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            child = subprocess.Popen(
                [sys.executable, "-m", "pecoma", "registry", "import", str(path), "--on",
                 "2026-11-28", f"--{args.mode}", "--database-url", url],
                stdout=out, stderr=err, text=True)
            tree_peak = tree_pss = 0
            while child.poll() is None:
                tree_peak = max(tree_peak, tree_rss(child.pid))
                tree_pss = max(tree_pss, tree_rss(child.pid, pss=True))
                time.sleep(0.2)
            took = time.monotonic() - started
            out.seek(0)
            err.seek(0)
            done = subprocess.CompletedProcess(child.args, child.returncode, out.read(),
                                               err.read())
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"rows: {args.rows} ({args.format}, {args.mode}), file "
              f"{path.stat().st_size / 1e6:.1f} MB")
        print(f"exit code: {done.returncode}; {done.stdout.strip().splitlines()[:2]}")
        if done.returncode:
            print(done.stderr[-2000:])
        print(f"peak RSS of the import: {peak_mb:.0f} MB (largest process); sum over the "
              f"command and its workers, sampled: {tree_peak / 1024:.0f} MB resident "
              f"({tree_pss / 1024:.0f} MB proportional); time {took:.1f} s")


if __name__ == "__main__":
    main()
