"""The own-wording rule: the knowledge says the guideline in the project's words and does
not paste the source's sentences.

tests/data/own_wording/source-runs.txt holds a fingerprint of every run of
:data:`RUN` consecutive words of the source document (the guideline summary the knowledge
carries): the first 16 hex digits of the SHA-256 of the run's words, normalized by
:func:`words`. The source's sentences themselves are not kept in the repository. A text
that repeats a run of that length of the source, whatever its case, punctuation or
spelling (-ize or -ise, tumor or tumour), is found by looking its own runs up.

To refresh the fingerprints from the source document:
`python tests/wording_tools.py --write SOURCE.txt`.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

#: The number of consecutive source words a text may not repeat. Shorter runs are the
#: guideline's own terms and figures, which restating it cannot avoid ("every 3-4 months
#: for the first 2-3 years" is 10 words).
RUN = 12

RUNS_FILE = Path(__file__).resolve().parent / "data" / "own_wording" / "source-runs.txt"

#: American spellings of the source read as the knowledge's British ones.
_SPELLING = {"tumor": "tumour", "tumors": "tumours", "behavior": "behaviour",
             "behaviors": "behaviours"}


def words(text: str) -> list[str]:
    """The words of ``text``: lower case, letters and digits only, one spelling."""
    out = []
    for w in re.findall(r"[a-z0-9]+", text.lower()):
        w = _SPELLING.get(w, w)
        out.append(w.replace("iz", "is"))
    return out


def runs(text: str) -> Iterator[tuple[str, str]]:
    """Each run of :data:`RUN` consecutive words of ``text``: (fingerprint, the words)."""
    w = words(text)
    for i in range(len(w) - RUN + 1):
        run = " ".join(w[i:i + RUN])
        yield hashlib.sha256(run.encode()).hexdigest()[:16], run


def source_runs() -> frozenset[str]:
    """The fingerprints of the source's runs."""
    lines = RUNS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def repeated(text: str, source: frozenset[str]) -> list[str]:
    """The runs of ``text`` that the source holds (empty when it holds none)."""
    return [run for print_, run in runs(text) if print_ in source]


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] != "--write":
        sys.exit("usage: python tests/wording_tools.py --write SOURCE.txt")
    text = Path(sys.argv[2]).read_text(encoding="utf-8")
    prints = sorted({p for p, _ in runs(text)})
    header = [
        f"# Fingerprints of every run of {RUN} consecutive words of the guideline summary",
        "# (see tests/wording_tools.py); not the source's words.",
    ]
    RUNS_FILE.parent.mkdir(parents=True, exist_ok=True)
    RUNS_FILE.write_text("\n".join([*header, *prints]) + "\n", encoding="utf-8")
    print(f"{len(prints)} runs written")


if __name__ == "__main__":
    main()
