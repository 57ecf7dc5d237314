"""Text reports in a narrow terminal, or redirected to a file or another program (80
columns, Rich's width when the output is no terminal): nothing is cut; a table is drawn
where its words fit its columns, else written as blocks (tests/test_render_narrow_blocks.py).
Before, the tables' columns were cut with an ellipsis ("histology.ne…", "interpretati…",
"suppl…"), so neither the fact a question is about, nor an item's provenance (guideline or
supplementary), nor a visit's note could be read; only ``-o FILE`` (a wider console) showed
them whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_support import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "examples"
IMAGING_ONLY = EXAMPLES / "imaging-only.json"  # many histology facts unknown
LOW_RISK = EXAMPLES / "low-risk-kidney.json"


def _cells(text: str, title: str) -> list[list[str]]:
    """The rows of the table headed ``title`` in Rich's box drawing, each cell's lines
    joined without any whitespace (a folded word joins up again; words wrapped between
    lines lose their spaces, so compare with the spaces removed). A row starts at a
    rule line (``├``) or, in a table without rules, where the first cell is not blank."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if title in line)
    rows: list[list[str]] = []
    body = False
    for line in lines[start + 1:]:
        if line.startswith("┡"):
            body, rows = True, []
            continue
        if not body:
            continue
        if line.startswith(("└", "╵")) or not line.startswith(("│", "├")):
            break
        if line.startswith("├"):
            rows.append([])
            continue
        cells = ["".join(c.split()) for c in line.strip("│").split("│")]
        if not rows or not rows[-1] or (cells[0] and not title.startswith("Missing")):
            rows.append(["" for _ in cells])
        rows[-1] = [a + b for a, b in zip(rows[-1], cells, strict=True)]
    return [r for r in rows if r]


def _squeezed(text: str) -> str:
    return "".join(text.split())


class TestAssessmentAt80Columns:
    def test_nothing_is_cut(self) -> None:
        r = run_cli("assess", str(IMAGING_ONLY), "--on", "2026-06-01", columns=80)
        assert r.returncode == 0, r.stderr
        assert "…" not in r.stdout

    def test_each_fact_and_its_source_read_whole(self) -> None:
        """The missing-facts table, where its words fit its columns (narrower, a block per
        fact: tests/test_render_narrow_blocks.py): each row's Fact is the whole field path
        and its Source the whole provenance label, as the JSON report gives them."""
        text = run_cli("assess", str(IMAGING_ONLY), "--on", "2026-06-01", columns=300).stdout
        data = json.loads(run_cli("assess", str(IMAGING_ONLY), "--on", "2026-06-01",
                                  "-f", "json").stdout)
        rows = _cells(text, "Missing facts: what each would change")
        assert [(r[0], r[-1]) for r in rows] == [
            (_squeezed(m["field"]), _squeezed(m["provenance"]["label"]))
            for m in data["missing"]]
        assert any(r[0] == "histology.high_nuclear_grade_and_cellularity" for r in rows)


class TestPlanAt80Columns:
    @pytest.mark.parametrize("on", ["2025-06-01", "2031-06-01"])
    def test_a_wide_table_reads_each_visit_whole(self, on: str) -> None:
        """Where each word of the visits table fits its column, the table is drawn, its
        Phase, Imaging, Notes and Source whole, as in the Markdown table of the same plan
        (without a scan history the Notes are long, I13)."""
        r = run_cli("followup", str(LOW_RISK), "--on", on, columns=200)
        assert r.returncode == 0, r.stderr
        assert "…" not in r.stdout
        md = run_cli("followup", str(LOW_RISK), "--on", on, "-f", "markdown").stdout
        expected = [[_squeezed(c) for c in line.strip("|").split(" | ")]
                    for line in md.splitlines() if line[:3] in {f"| {n}" for n in range(10)}]
        rows = _cells(r.stdout, "Visits from")
        assert len(rows) == len(expected) >= 3
        assert rows == expected
