"""Exports never hold a cell a spreadsheet would run as a formula (OWASP CSV injection).

Labels and actor names are typed by people; written raw, ``=HYPERLINK(…)`` in a label ran
when ``registry export`` was opened in a spreadsheet. Every text cell of every CSV export
now starts with a quote when it would start a formula, and an exported ``cases.csv``
imports into the same cases.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from pecoma.cli import app
from pecoma.registry.cells import FORMULA_STARTS, neutralise, restore
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import open_registry
from pecoma.web import WebConfig, create_app

from registry_support import high_risk

ON = dt.date(2026, 11, 28)
EVIL = ["=HYPERLINK(\"http://x.example\",\"y\")", "+1+cmd", "-2+3", "@SUM(1,1)"]


def formula_cells(path: Path) -> list[tuple[str, int, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return [(path.name, n, cell) for n, row in enumerate(csv.reader(f))
                for cell in row if cell.startswith(FORMULA_STARTS)]


@pytest.fixture
def registry(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
    repo = open_registry(url)
    for i, label in enumerate(EVIL, start=1):
        case = {**high_risk(), "label": label}
        record_case(repo, f"PEC-{i:04d}", case, on_date=ON, settings=default_settings(),
                    actor=EVIL[-i], source="=source")
    repo.close()
    return url


class TestNeutralise:
    @given(st.text(max_size=20))
    def test_restore_undoes_neutralise(self, text: str) -> None:
        assert restore(neutralise(text)) == text
        assert not str(neutralise(text)).startswith(FORMULA_STARTS)

    def test_only_text_is_touched(self) -> None:
        assert neutralise(-3) == -3
        assert neutralise(1.5) == 1.5
        assert neutralise("PEC-0001") == "PEC-0001"
        assert neutralise("=1") == "'=1"


class TestExports:
    def test_registry_export_csv(self, registry: str, tmp_path: Path) -> None:
        out = tmp_path / "export"
        done = CliRunner().invoke(app, ["registry", "export", "--format", "csv",
                                        "--output", str(out), "--database-url", registry])
        assert done.exit_code == 0, done.output
        files = sorted(out.glob("*.csv"))
        assert {f.name for f in files} >= {"cases.csv", "audit_log.csv"}
        assert [c for f in files for c in formula_cells(f)] == []
        audit = (out / "audit_log.csv").read_text(encoding="utf-8")
        assert "'@SUM(1,1)" in audit  # kept, quoted

    def test_exported_cases_import_unchanged(self, registry: str, tmp_path: Path) -> None:
        """The export's cases.csv is still a valid import file."""
        out = tmp_path / "export"
        runner = CliRunner()
        assert runner.invoke(app, ["registry", "export", "--format", "csv", "--output",
                                   str(out), "--database-url", registry]).exit_code == 0
        done = runner.invoke(app, ["registry", "import", str(out / "cases.csv"),
                                   "--on", str(ON), "--database-url", registry])
        assert done.exit_code == 0, done.output
        assert "4 good, 0 rejected" in done.output

    def test_worklist_csv(self, registry: str, tmp_path: Path) -> None:
        out = tmp_path / "worklist.csv"
        done = CliRunner().invoke(app, ["registry", "worklist", "--format", "csv", "-o",
                                        str(out), "--on", str(ON), "--database-url",
                                        registry])
        assert done.exit_code == 0, done.output
        assert formula_cells(out) == []
        repo = open_registry(registry)
        web = create_app(WebConfig(), today=lambda: ON)
        web.state.registry = repo
        with TestClient(web, base_url="http://localhost") as c:
            r = c.get("/registry/worklist.csv")
        repo.close()
        assert r.status_code == 200
        page = tmp_path / "web.csv"
        page.write_text(r.text, encoding="utf-8")
        assert formula_cells(page) == []
