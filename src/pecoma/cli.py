"""The ``pecoma`` command line: parse, call the library, render. No decisions here.

Exit codes: 0 done; 1 unexpected internal error; 2 wrong usage; 3 the input was rejected
(the message lists each field); 4 a file could not be read or written; 5 a settings or
knowledge file is malformed.

``--debug`` anywhere on the command line (or ``PECOMA_DEBUG=1``) prints the traceback of
an unexpected internal error after the message, for a useful defect report.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import traceback
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from pecoma import __version__, dates
from pecoma.case import Case, parse_case_json
from pecoma.engine import assess, to_jsonable
from pecoma.engine.model import Assessment
from pecoma.errors import ConfigError, InputError, KnowledgeError, PecomaError
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report, print_report
from pecoma.settings import Settings, load_settings

__all__ = ["EXIT_CONFIG", "EXIT_FILE", "EXIT_INPUT", "app", "main"]

EXIT_INPUT = 3
EXIT_FILE = 4
EXIT_CONFIG = 5

app = typer.Typer(
    name="pecoma",
    help="Decision support for the PEComa treatment guideline. It supports, and never "
    "replaces, a multidisciplinary sarcoma team. Add --debug (or set PECOMA_DEBUG=1) to "
    "print the traceback of an internal error.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

out = Console()
err = Console(stderr=True)


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def say_error(message: object, label: str = "error") -> None:
    """Print an error message; user-supplied text is escaped, never read as markup."""
    err.print(f"[bold red]{label}:[/] {escape(str(message))}", highlight=False)


def fail(message: str, code: int) -> NoReturn:
    say_error(message)
    raise typer.Exit(code)


def read_text(path: Path, what: str) -> str:
    """Read a user file, turning OS errors into a message (exit 4)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{what} file not found: {path}", EXIT_FILE)
    except IsADirectoryError:
        fail(f"{what} path is a directory, not a file: {path}", EXIT_FILE)
    except UnicodeDecodeError:
        fail(f"{what} file is not UTF-8 text: {path}", EXIT_FILE)
    except OSError as exc:
        fail(f"cannot read {what} file {path}: {exc.strerror}", EXIT_FILE)


def read_case(path: Path) -> Case:
    return parse_case_json(read_text(path, "case"), source=f"case in {path.name}")


def settings_from(path: Path | None) -> Settings:
    return load_settings(path)


def parse_day(value: str | None, option: str = "--on") -> dt.date:
    """The evaluation date: given explicitly, or today's date read here, at the edge."""
    if value is None:
        return dt.date.today()
    day = dates.parse_day(value)
    if day is None:
        fail(f"'{option}' {dates.DATE_RULE} (got {value!r})", 2)
    return day


SettingsOption = Annotated[
    Path | None,
    typer.Option("--settings", help="TOML settings file overriding the documented defaults."),
]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="Evaluation date, YYYY-MM-DD (default: today)."),
]


def emit_assessment(a: Assessment, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(to_jsonable(a), indent=2, ensure_ascii=False) + "\n")
    elif fmt is ReportFormat.markdown:
        sys.stdout.write(markdown_report(a))
    else:
        print_report(a, out)


@app.command("assess")
def assess_cmd(
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `pecoma schema`).")],
    on: OnOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    settings: SettingsOption = None,
) -> None:
    """What the guideline recommends for one case, and why."""
    case = read_case(case_file)
    a = assess(case, parse_day(on), settings_from(settings))
    emit_assessment(a, fmt)


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of the case format."""
    sys.stdout.write(json.dumps(Case.model_json_schema(), indent=2) + "\n")


@app.command("rules")
def rules_cmd(
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="text or json.")
    ] = ReportFormat.text,
) -> None:
    """List the knowledge base: every record with its statements and provenance."""
    k = load_knowledge()
    if fmt is ReportFormat.json:
        data = {
            "knowledge_version": k.version,
            "records": [r.model_dump(mode="json") for r in k.records.values()],
            "missing": [m.model_dump(mode="json") for m in k.missing.values()],
            "statements": {s: v.model_dump(mode="json") for s, v in k.statements.items()},
        }
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        return
    t = Table(title=f"pecoma knowledge {k.version}: {len(k.records)} records", expand=True)
    t.add_column("id", style="bold", no_wrap=True)
    t.add_column("kind")
    t.add_column("title")
    t.add_column("provenance")
    for r in k.records.values():
        prov = (
            f"guideline {', '.join(r.statements)} · ref {', '.join(map(str, r.refs))}"
            if r.provenance == "guideline"
            else "supplementary · " + "; ".join(k.references[s].short for s in r.sources)
        )
        t.add_row(r.id, r.kind, r.title, prov)
    out.print(t)
    carried = k.statements_carried()
    s = Table(title="Statements and the records that carry them", expand=True)
    s.add_column("statement", style="bold")
    s.add_column("section")
    s.add_column("records")
    for sid, ids in carried.items():
        s.add_row(sid, k.statements[sid].section, ", ".join(ids) or "[red]none[/]")
    out.print(s)


def example_files() -> list[tuple[str, str]]:
    """The bundled example cases: (name, JSON text)."""
    folder = resources.files("pecoma").joinpath("examples")
    return sorted(
        (entry.name.removesuffix(".json"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


@app.command("demo")
def demo_cmd(
    on: Annotated[
        str, typer.Option("--on", help="Evaluation date for the examples, YYYY-MM-DD.")
    ] = "2026-11-28",
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    only: Annotated[
        str | None, typer.Option("--only", help="Run only the example with this name.")
    ] = None,
) -> None:
    """Run the bundled example cases through the engine."""
    day = parse_day(on)
    examples = example_files()
    if only is not None:
        names = [n for n, _ in examples]
        examples = [(n, t) for n, t in examples if n == only]
        if not examples:
            fail(f"'--only' must be one of {', '.join(names)} (got {only!r})", 2)
    for name, text in examples:
        if fmt is ReportFormat.text:
            out.rule(f"example: {name}")
        a = assess(parse_case_json(text, source=f"example {name}"), day)
        emit_assessment(a, fmt)


@app.command("version")
def version_cmd() -> None:
    """Print the engine and knowledge versions."""
    out.print(f"pecoma {__version__} · knowledge {load_knowledge().version}")


# --- command groups of other modules: one line each -----------------------------------
# (each module defines `register(app: typer.Typer) -> None`)
__import__("pecoma.cli_web", fromlist=["register"]).register(app)
__import__("pecoma.cli_registry", fromlist=["register"]).register(app)
__import__("pecoma.cli_followup", fromlist=["register"]).register(app)
__import__("pecoma.cli_fhir", fromlist=["register"]).register(app)
__import__("pecoma.cli_token", fromlist=["register"]).register(app)
# --- end of command groups --------------------------------------------------------------


DEBUG_FLAG = "--debug"


def _debug_requested(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> bool:
    """Whether to print tracebacks; removes ``--debug`` from ``argv`` (before any ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    found = DEBUG_FLAG in argv[1:end]
    if found:
        argv[1:end] = [a for a in argv[1:end] if a != DEBUG_FLAG]
    return found or environ.get("PECOMA_DEBUG", "").strip().lower() in ("1", "true", "yes")


def main() -> None:
    """Console entry point: every error becomes a message and an exit code."""
    debug = _debug_requested(sys.argv, os.environ)
    try:
        app()
    except InputError as exc:
        say_error(exc)
        sys.exit(EXIT_INPUT)
    except (ConfigError, KnowledgeError) as exc:
        say_error(exc)
        sys.exit(EXIT_CONFIG)
    except PecomaError as exc:
        say_error(exc)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: never a traceback unless asked
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}. This is a defect in pecoma; "
            "please report it with the command you ran (without patient data)"
            + ("; the traceback follows." if debug else
               f". Run it again with {DEBUG_FLAG} (or PECOMA_DEBUG=1) to see where it "
               "happened."),
            highlight=False,
        )
        if debug:
            traceback.print_exception(exc, file=sys.stderr)
        sys.exit(1)
