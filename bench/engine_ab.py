"""The engine of another checkout, measured with the same loop as this one's.

Run: .venv/bin/python bench/engine_ab.py CHECKOUT [CHECKOUT ...]
e.g. git worktree add /tmp/before <commit>; .venv/bin/python bench/engine_ab.py /tmp/before .

Each checkout is measured in its own process (its ``src/`` first on the path): 20,000
warm-up cases of another seed, the median and p99 of ``parse_case`` + ``assess`` over
20,000 cases, then a 100,000-case batch. Run the checkouts one after the other, on a quiet
machine, to compare two versions of the engine on the same day.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_LOOP = r"""
import datetime as dt, gc, sys, time
sys.path.insert(0, sys.argv[1] + "/src"); sys.path.insert(0, sys.argv[2])
from cases import generate
import pecoma
from pecoma import assess, load_knowledge, parse_case
from pecoma.settings import default_settings
on = dt.date(2026, 11, 28)
s, k = default_settings(), load_knowledge()
cases, others = generate(100_000), generate(20_000, seed=4242)
gc.collect(); gc.freeze()
for c in others: assess(parse_case(c), on, s, k)
lat, clock = [], time.perf_counter_ns
gc.disable()
for c in cases[:20_000]:
    t0 = clock(); assess(parse_case(c), on, s, k); lat.append((clock() - t0) / 1000)
gc.enable()
lat.sort()
t0 = time.perf_counter()
for c in cases: assess(parse_case(c), on, s, k)
batch = time.perf_counter() - t0
print(f"{sys.argv[1]}: median {lat[len(lat) // 2]:.1f} µs, p99 {lat[int(len(lat) * 0.99)]:.1f} µs,"
      f" 100,000 cases {batch:.2f} s ({pecoma.__file__})")
"""


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = Path(__file__).resolve().parent
    for checkout in sys.argv[1:]:
        root = Path(checkout).resolve()
        if not (root / "src" / "pecoma").is_dir():
            sys.exit(f"{checkout}: no src/pecoma there")
        subprocess.run([sys.executable, "-c", _LOOP, str(root), str(here)], check=True)


if __name__ == "__main__":
    main()
