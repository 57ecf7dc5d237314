"""The command line's modules: no import cycle, each importable alone, and a quick start.

``pecoma assess`` and ``pecoma version`` must not import the web stack, the database, the
PDF, FHIR, survival, plotting, spreadsheet or HTTP libraries (those load only inside the
commands that use them), nor the modules of the registry, fhir and token command groups
(those load when the group is named). This is checked on what a real process imported,
not on timing (the timings are in bench/RESULTS.md, measured by bench/bench_cli.py).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cli_support import run_cli

CLI = Path(__file__).resolve().parent.parent / "src" / "pecoma" / "cli"
HIGH = Path(__file__).resolve().parent / "scenarios" / "margin-r1" / "case.json"

# Top-level packages that only some commands need.
HEAVY = (
    "fastapi", "starlette", "uvicorn", "sqlalchemy", "alembic", "psycopg", "weasyprint",
    "fhir", "lifelines", "matplotlib", "numpy", "pandas", "scipy", "openpyxl", "httpx",
    "authlib", "joserfc", "jinja2", "multipart", "icalendar", "PIL",
)  # fmt: skip
GROUPS = ("core", "fhir", "registry", "tokens", "serve")
# The modules of the registry group's commands, assembled by ``registry`` alone.
REGISTRY_PARTS = ("registry_records", "registry_views", "registry_exports")
LAZY = {"pecoma.cli.fhir", "pecoma.cli.registry", "pecoma.cli.tokens",
        *(f"pecoma.cli.{p}" for p in REGISTRY_PARTS)}  # fmt: skip

# Runs a command in a fresh interpreter, then reports what that process imported.
PROBE = """
import json, sys
sys.argv = ["pecoma", *sys.argv[1:]]
from pecoma.cli import main
try:
    main()
    code = 0
except SystemExit as stop:
    code = stop.code
print("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class Probe:
    code: int
    heavy: list[str]  # the HEAVY packages imported
    cli: set[str]  # the pecoma.cli modules imported


def probe(*args: str) -> Probe:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert "PROBE " in done.stdout, done.stderr
    report = json.loads(done.stdout.rsplit("PROBE ", 1)[1])
    modules: list[str] = report["modules"]
    return Probe(
        report["code"],
        sorted({m.split(".")[0] for m in modules} & set(HEAVY)),
        {m for m in modules if m.startswith("pecoma.cli.")},
    )


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
        assert {p.stem for p in CLI.glob("*.py")} == {"__init__", "common", *GROUPS,
                                                    *REGISTRY_PARTS}
        assert not list(CLI.parent.glob("cli_*.py")), "the old cli_*.py modules are back"

    def test_common_imports_no_other_cli_module(self) -> None:
        assert cli_imports(CLI / "common.py") == set()

    @pytest.mark.parametrize("group", [g for g in GROUPS if g != "registry"])
    def test_a_command_group_imports_only_common(self, group: str) -> None:
        assert cli_imports(CLI / f"{group}.py") <= {"pecoma.cli.common"}

    def test_the_registry_group_imports_only_its_parts(self) -> None:
        assert cli_imports(CLI / "registry.py") == {
            f"pecoma.cli.{p}" for p in REGISTRY_PARTS}  # fmt: skip

    @pytest.mark.parametrize("part", REGISTRY_PARTS)
    def test_a_part_of_the_registry_group_imports_only_common(self, part: str) -> None:
        assert cli_imports(CLI / f"{part}.py") == {"pecoma.cli.common"}

    def test_the_package_assembles_every_group(self) -> None:
        assert cli_imports(CLI / "__init__.py") == {
            "pecoma.cli.common", *(f"pecoma.cli.{g}" for g in GROUPS)}  # fmt: skip

    def test_no_cycle(self) -> None:
        graph = {
            "pecoma.cli" if p.stem == "__init__" else f"pecoma.cli.{p.stem}": cli_imports(p)
            for p in CLI.glob("*.py")
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

    def test_the_reader_sees_every_spelling(self, tmp_path: Path) -> None:
        """Imports at the top, inside functions, and of the package (so the tests above
        can fail)."""
        f = tmp_path / "m.py"
        f.write_text("from pecoma.cli import common\ndef f():\n    import pecoma.cli.core\n"
                     "from pecoma.cli.registry import registry_app\n")  # fmt: skip
        assert cli_imports(f) == {"pecoma.cli.common", "pecoma.cli.core", "pecoma.cli.registry"}


@pytest.mark.parametrize(
    "module",
    ["pecoma.cli", *(f"pecoma.cli.{g}" for g in ("common", *GROUPS, *REGISTRY_PARTS))],
)
def test_each_module_imports_alone_without_the_heavy_libraries(module: str) -> None:
    """A fresh interpreter imports one module of the package and nothing heavy comes along."""
    code = f"import json, sys\nimport {module}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert not {m.split(".")[0] for m in json.loads(done.stdout)} & set(HEAVY)


class TestQuickStart:
    def test_version(self) -> None:
        p = probe("version")
        assert (p.code, p.heavy) == (0, [])
        assert not p.cli & LAZY, p.cli

    @pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
    def test_assess(self, fmt: str) -> None:
        p = probe("assess", str(HIGH), "--on", "2026-11-28", "--format", fmt)
        assert (p.code, p.heavy) == (0, [])
        assert not p.cli & LAZY, p.cli

    def test_a_rejected_case(self, tmp_path: Path) -> None:
        bad = tmp_path / "bad.json"
        bad.write_text('{"tumour": {"primary_site": "moon"}}')
        p = probe("assess", str(bad))
        assert (p.code, p.heavy) == (3, [])

    def test_the_probe_sees_what_a_command_imports(self, tmp_path: Path) -> None:
        """The registry needs the database and its group: the same probe reports both
        (so the tests above can fail)."""
        p = probe("registry", "init", "--database-url", f"sqlite:///{tmp_path / 'r.sqlite3'}")
        assert p.code == 0
        assert {"sqlalchemy", "alembic"} <= set(p.heavy)
        assert {"pecoma.cli.registry", *(f"pecoma.cli.{p}" for p in REGISTRY_PARTS)} <= p.cli


class TestLazyGroups:
    def test_help_lists_every_command_in_order(self) -> None:
        r = run_cli("--help")
        assert r.returncode == 0, r.stderr
        names = ["assess", "schema", "rules", "demo", "version", "serve", "followup",
                 "registry", "fhir", "token"]  # fmt: skip
        at = [r.stdout.index(f" {n} ") for n in names]
        assert at == sorted(at), r.stdout
        assert "The patient registry" in r.stdout and "FHIR R4 in and out" in r.stdout

    @pytest.mark.parametrize(
        ("group", "command"), [("registry", "worklist"), ("fhir", "to-case"), ("token", "create")]
    )
    def test_a_group_lists_its_commands(self, group: str, command: str) -> None:
        r = run_cli(group, "--help")
        assert r.returncode == 0, r.stderr
        assert command in r.stdout

    def test_an_unknown_command_is_a_usage_error(self) -> None:
        r = run_cli("registri")
        assert r.returncode == 2
        assert "No such command 'registri'. Did you mean 'registry'?" in r.stderr
        assert "Traceback" not in r.stderr


# Builds the web application in a fresh interpreter, then reports what it imported.
WEB_PROBE = """
import json, sys
from pecoma.web.app import create_app
from pecoma.web.config import WebConfig
create_app(WebConfig())
print("\\nPROBE " + json.dumps(sorted(sys.modules)))
"""


def test_the_web_app_starts_without_plotting_pdf_or_survival_libraries() -> None:
    """Each server process builds the app (``pecoma serve``, each of its workers): the
    timeline picture on the web is drawn as SVG text, the PDF and the survival figures
    load their libraries only when asked for, so none of them is imported at start-up
    (matplotlib and numpy were, through a colour table, until 2026-12-02)."""
    done = subprocess.run([sys.executable, "-c", WEB_PROBE], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert "PROBE " in done.stdout, done.stderr
    top = {m.split(".")[0] for m in json.loads(done.stdout.rsplit("PROBE ", 1)[1])}
    assert top & {"matplotlib", "numpy", "pandas", "scipy", "lifelines", "weasyprint",
                  "openpyxl", "PIL"} == set()
