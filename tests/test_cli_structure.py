"""The command line's modules: no import cycle, each importable alone, and a quick start.

``pecoma assess`` and ``pecoma version`` must not import the web stack, the database, the
PDF, FHIR, survival, plotting, spreadsheet or HTTP libraries: those load only inside the
commands that use them. This is checked on what a real process imported, not on timing
(the timings are in bench/RESULTS.md, measured by bench/bench_cli.py).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "cli"
HIGH = Path(__file__).resolve().parent / "scenarios" / "margin-r1" / "case.json"

# Top-level packages that only some commands need.
HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "weasyprint",
    "fhir",
    "lifelines",
    "matplotlib",
    "numpy",
    "pandas",
    "scipy",
    "openpyxl",
    "httpx",
    "authlib",
    "joserfc",
    "jinja2",
    "multipart",
    "icalendar",
    "PIL",
)
GROUPS = ("core", "fhir", "registry", "tokens", "serve")

# Runs a command in this interpreter, then reports what it imported.
PROBE = """
import json, sys
sys.argv = ["pecoma", *sys.argv[1:]]
from pecoma.cli import main
try:
    main()
    code = 0
except SystemExit as stop:
    code = stop.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(HEAVY)))
print("\\nPROBE " + json.dumps({"code": code, "heavy": heavy}))
"""


def probe(*args: str, cwd: Path | None = None) -> tuple[int, list[str]]:
    code = PROBE.replace("HEAVY", repr(json.dumps(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
    )
    assert "PROBE " in done.stdout, done.stderr
    report = json.loads(done.stdout.rsplit("PROBE ", 1)[1])
    return report["code"], report["heavy"]


def cli_imports(path: Path) -> set[str]:
    """The ``pecoma.cli`` modules that a file imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "pecoma.cli":
                found |= {f"pecoma.cli.{a.name}" for a in node.names}
            elif node.module.startswith("pecoma.cli."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pecoma.cli")}
    return found


class TestImportGraph:
    def test_the_modules_are_the_expected_ones(self) -> None:
        names = {p.stem for p in CLI.glob("*.py")}
        assert names == {"__init__", "common", "main", *GROUPS}
        assert not list(CLI.parent.glob("cli_*.py")), "the old cli_*.py modules are back"

    def test_common_imports_no_other_cli_module(self) -> None:
        assert cli_imports(CLI / "common.py") == set()

    @pytest.mark.parametrize("group", GROUPS)
    def test_a_command_group_imports_only_common(self, group: str) -> None:
        assert cli_imports(CLI / f"{group}.py") <= {"pecoma.cli.common"}

    def test_main_assembles_the_groups_and_nothing_imports_main_but_the_package(self) -> None:
        assert cli_imports(CLI / "main.py") == {
            "pecoma.cli.common",
            *(f"pecoma.cli.{g}" for g in GROUPS),
        }
        for path in CLI.glob("*.py"):
            if path.stem not in ("__init__", "main"):
                assert "pecoma.cli.main" not in cli_imports(path), path.name

    def test_no_cycle(self) -> None:
        graph = {
            f"pecoma.cli.{p.stem}": cli_imports(p) for p in CLI.glob("*.py") if p.stem != "__init__"
        }
        done: set[str] = set()

        def visit(node: str, path: tuple[str, ...]) -> None:
            assert node not in path, " -> ".join((*path, node))
            if node in done:
                return
            for nxt in graph.get(node, ()):
                visit(nxt, (*path, node))
            done.add(node)

        for start in graph:
            visit(start, ())

    def test_the_checker_sees_a_cycle(self, tmp_path: Path) -> None:
        """The graph reader finds both spellings of an import (so the tests above can fail)."""
        f = tmp_path / "m.py"
        f.write_text(
            "from pecoma.cli import common\ndef f():\n    import pecoma.cli.main\n"
            "from pecoma.cli.registry import registry_app\n"
        )
        assert cli_imports(f) == {"pecoma.cli.common", "pecoma.cli.main", "pecoma.cli.registry"}


@pytest.mark.parametrize("module", ["common", "main", *GROUPS])
def test_each_module_imports_alone_without_the_heavy_libraries(module: str) -> None:
    """A fresh interpreter imports one module of the package and nothing heavy comes along."""
    code = (
        f"import json, sys\nimport pecoma.cli.{module}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & "
        f"set({list(HEAVY)!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


class TestQuickStart:
    def test_version(self) -> None:
        assert probe("version") == (0, [])

    @pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
    def test_assess(self, fmt: str) -> None:
        assert probe("assess", str(HIGH), "--on", "2026-11-28", "--format", fmt) == (0, [])

    def test_a_rejected_case(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text('{"tumour": {"primary_site": "moon"}}')
        assert probe("assess", str(bad)) == (3, [])

    def test_the_probe_sees_what_a_command_imports(self, tmp_path: Path) -> None:
        """The registry needs the database: the same probe reports it (it can fail)."""
        url = f"sqlite:///{tmp_path / 'r.sqlite3'}"
        code, heavy = probe("registry", "init", "--database-url", url)
        assert code == 0
        assert {"sqlalchemy", "alembic"} <= set(heavy)
