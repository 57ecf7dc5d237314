"""Text reports and plans at 80 columns (a file or a pipe) and narrower: a table whose
words no longer fit its columns is written as a block per row, so that a date, a visit's
status, a missing fact and a provenance label are never broken by characters. Before, the
plan's eight-column visits table folded every cell at 80 columns: the date the plan counts
from read "2026-0" above "3-01", the status "upcomin" above "g", the source "supplem"
above "entary"; the assessment's tables broke "MISS-RESECTION-SPECIME" above "N"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from cli_support import run_cli

EXAMPLES = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "examples"
IMAGING_ONLY = EXAMPLES / "imaging-only.json"  # many histology facts unknown
LOW_RISK = EXAMPLES / "low-risk-kidney.json"  # resected 2023-03-01, low risk

DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _whole(words: str) -> re.Pattern[str]:
    """``words`` as they must read: each word whole, the words apart by spaces or line
    breaks only (a block wraps between words)."""
    return re.compile(r"\s+".join(re.escape(w) for w in words.split()))


def _md_rows(case: Path, on: str) -> list[list[str]]:
    md = run_cli("followup", str(case), "--on", on, "-f", "markdown").stdout
    return [[c.strip() for c in line.strip("|").split(" | ")]
            for line in md.splitlines() if re.match(r"\| \d+ \|", line)]


class TestPlanNarrow:
    @pytest.mark.parametrize("columns", [80, 60])
    @pytest.mark.parametrize("on", ["2026-03-01", "2025-06-01"])
    def test_each_visit_s_dates_status_and_source_whole(self, columns: int, on: str) -> None:
        """Each visit reads '#N due DATE, overdue after DATE: STATUS' on one line (the
        visit's window and status, as the plan computed them: the Markdown table of the
        same plan), and its phase, notes and source whole beneath; no cell is folded by
        characters and nothing is cut."""
        r = run_cli("followup", str(LOW_RISK), "--on", on, columns=columns)
        assert r.returncode == 0, r.stderr
        assert "…" not in r.stdout and "┃" not in r.stdout
        rows = _md_rows(LOW_RISK, on)
        assert len(rows) >= 3
        for number, phase, due, latest, _imaging, status, notes, source in rows:
            head = f"#{number} due {due}, overdue after {latest}: {status}"
            assert re.search("^" + _whole(head).pattern, r.stdout, re.M), head
            for label, text in (("Phase", phase), ("Notes", notes), ("Source", source)):
                if text:
                    assert _whole(f"{label}: {text}").search(r.stdout), (label, text)

    def test_the_evaluation_date_the_plan_counts_from_reads_whole(self) -> None:
        """The plan without a scan history counts from the evaluation date (I13): at 80
        columns every date printed is a whole date, never "2026-0" and "3-01"."""
        text = run_cli("followup", str(LOW_RISK), "--on", "2026-03-01", columns=80).stdout
        assert _whole("counted from 2026-03-01, the evaluation date").search(text)
        assert not re.search(r"\b\d{4}-\d?\s*$|^\s*\d?-?\d{2}\b[,\s]", text, re.M)
        plan = json.loads(run_cli("followup", str(LOW_RISK), "--on", "2026-03-01",
                                  "-f", "json").stdout)
        for v in plan["visits"]:
            assert v["due"] in DATE.findall(text) and v["latest"] in DATE.findall(text)

    @pytest.mark.parametrize("columns", [80, 60])
    def test_schedule_phases_whole(self, columns: int) -> None:
        """The schedule's phases: each a line of its dates and rhythm (the low-risk
        example resected 2024-03-01: every 4 months for 3 years, then yearly without end),
        its title and source whole beneath."""
        text = run_cli("followup", str(LOW_RISK), "--on", "2026-03-01", columns=columns).stdout
        for line in ("From 2024-03-01 until 2027-03-01: every 4 months, overdue after 6 months",
                     "From 2027-03-01, no end: every 12 months, overdue after 13 months"):
            assert re.search("^" + _whole(line).pattern, text, re.M), line
        assert _whole("Source: supplementary (not from the guideline) · "
                      "ESMO-EURACAN-GENTURIS 2021 · interpretation I3, I4").search(text)


class TestAssessmentNarrow:
    @pytest.mark.parametrize("columns", [80, 60])
    def test_each_missing_fact_and_its_source_whole(self, columns: int) -> None:
        """The missing facts: each field path alone on its line, each question and
        provenance label whole; every missing-fact id a classification waits on reads
        whole (it had folded as "MISS-RESECTION-SPECIME" above "N")."""
        r = run_cli("assess", str(IMAGING_ONLY), "--on", "2026-06-01", columns=columns)
        assert r.returncode == 0, r.stderr
        data = json.loads(run_cli("assess", str(IMAGING_ONLY), "--on", "2026-06-01",
                                  "-f", "json").stdout)
        text = r.stdout
        assert "…" not in text
        for m in data["missing"]:
            assert re.search(rf"^│?\s*{re.escape(m['field'])}\s*│?\s*$", text, re.M), m
            assert _whole(f"Question: {m['question']}").search(text), m["field"]
            assert _whole(f"Source: {m['provenance']['label']}").search(text), m["field"]
        ids = {i for c in data["classifications"] for i in c["item"]["conditional_on"]}
        assert "MISS-RESECTION-SPECIMEN" in ids
        for missing_id in ids:
            assert re.search(rf"(?<![\w-]){re.escape(missing_id)}(?![\w-])", text), missing_id
        # drawn as a table or as blocks, each word of a feature's source reads whole
        words = set(re.split(r"[\s│┃]+", text))
        for f in data["risk"]["features"]:
            assert set(f["provenance"]["label"].split()) <= words, f
