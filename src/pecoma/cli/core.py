"""The commands on one case and on the knowledge base: ``assess``, ``followup``, ``demo``,
``schema``, ``rules``, ``version``.

Parse, call the library, render; nothing is decided here. The surveillance planner loads
when ``followup`` runs, and the calendar and picture libraries only when it is asked for
those formats.
"""

from __future__ import annotations

import io
import json
import sys
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, assert_never

import typer
from rich.console import Console
from rich.markup import escape

from pecoma import __version__
from pecoma.case import Case, parse_case_json
from pecoma.cli.common import (
    EXIT_CONFIG,
    EXIT_FILE,
    EXIT_INPUT,
    OnOption,
    SettingsOption,
    fail,
    out,
    parse_day,
    read_case,
    read_imaging,
    settings_from,
)
from pecoma.engine import assess, to_jsonable
from pecoma.engine.model import Assessment
from pecoma.errors import ConfigError, InputError, KnowledgeError
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report, print_report

if TYPE_CHECKING:
    from pecoma.engine.plan import SurveillancePlan

__all__ = [
    "FollowupFormat",
    "ReportFormat",
    "assess_cmd",
    "demo_cmd",
    "followup_cmd",
    "render_plan",
    "rules_cmd",
    "schema_cmd",
    "version_cmd",
]


class ReportFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"


def emit_assessment(a: Assessment, fmt: ReportFormat) -> None:
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(to_jsonable(a), indent=2, ensure_ascii=False) + "\n")
    elif fmt is ReportFormat.markdown:
        sys.stdout.write(markdown_report(a))
    else:
        print_report(a, out)


def assess_cmd(
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `pecoma schema`).")],
    on: OnOption = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Report format.")
    ] = ReportFormat.text,
    settings: SettingsOption = None,
) -> None:
    """What the guideline recommends for one case, and why."""
    day = parse_day(on)
    case = read_case(case_file, day)
    a = assess(case, day, settings_from(settings))
    emit_assessment(a, fmt)


def schema_cmd() -> None:
    """Print the JSON Schema of the case format."""
    sys.stdout.write(json.dumps(Case.model_json_schema(), indent=2) + "\n")


def rules_cmd(
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="text, json or markdown.")
    ] = ReportFormat.text,
    settings: SettingsOption = None,
) -> None:
    """List the knowledge base: the guideline's statements, every record with its strength
    and provenance, every missing fact with what pecoma does meanwhile, the project's
    interpretations and the published references."""
    from pecoma.render.knowledge import knowledge_jsonable, knowledge_markdown, knowledge_tables

    # the schedule's wording quotes the settings in force, as the plans drawn with them do
    k = load_knowledge().worded(settings_from(settings).wording())
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(knowledge_jsonable(k), indent=2, ensure_ascii=False) + "\n")
    elif fmt is ReportFormat.markdown:
        sys.stdout.write(knowledge_markdown(k))
    elif fmt is ReportFormat.text:
        for table in knowledge_tables(k):
            out.print(table)
    else:  # a format added to ReportFormat must be rendered here, never shown as text
        assert_never(fmt)


def example_files() -> list[tuple[str, str]]:
    """The bundled example cases: (name, JSON text)."""
    folder = resources.files("pecoma").joinpath("examples")
    return sorted(
        (entry.name.removesuffix(".json"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".json")
    )


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


def version_cmd() -> None:
    """Print the engine and knowledge versions."""
    out.print(f"pecoma {__version__} · knowledge {load_knowledge().version}")


# --- followup --------------------------------------------------------------------------


class FollowupFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    ics = "ics"
    svg = "svg"
    png = "png"


def render_plan(
    plan: SurveillancePlan, fmt: FollowupFormat, case_key: str, reminder_days: int | None = None
) -> bytes | None:
    """The plan in ``fmt`` as bytes, or None for the terminal table (printed directly);
    a calendar reminds ``reminder_days`` before each window (default: the default
    settings)."""
    if fmt is FollowupFormat.json:
        return (json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    if fmt is FollowupFormat.markdown:
        from pecoma.render.schedule import markdown_plan

        return markdown_plan(plan).encode()
    # Calendar and picture libraries load only when asked for, to keep every command quick.
    if fmt is FollowupFormat.ics:
        from pecoma.render.ics import plan_to_ics

        return plan_to_ics(plan, case_key, reminder_days=reminder_days)
    if fmt is FollowupFormat.svg:
        from pecoma.render.timeline import timeline_svg

        return timeline_svg(plan).encode()
    if fmt is FollowupFormat.png:
        from pecoma.render.timeline import timeline_png

        return timeline_png(plan)
    return None


def _write(data: bytes, output: Path | None, fmt: FollowupFormat) -> None:
    if output is None:
        if fmt is FollowupFormat.png and sys.stdout.isatty():
            fail("a PNG picture is not written to a terminal: give '--output FILE'", 2)
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {escape(str(output))}: {exc.strerror}", EXIT_FILE)


def followup_cmd(
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `pecoma schema`).")],
    imaging: Annotated[
        Path | None,
        typer.Option(
            "--imaging",
            help="Imaging history: JSON list of {date, modality, finding} (or "
            '{"imaging": [...]}), or CSV with the header date,modality,finding.',
        ),
    ] = None,
    on: OnOption = None,
    fmt: Annotated[
        FollowupFormat,
        typer.Option("--format", "-f", help="text, json, markdown, ics, svg or png."),
    ] = FollowupFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file, not stdout.")
    ] = None,
    settings: SettingsOption = None,
    case_key: Annotated[
        str | None,
        typer.Option(
            "--case-key",
            help="Stable key of the case for calendar UIDs (default: the case file's name "
            "without extension). It is hashed; it never appears in the file.",
        ),
    ] = None,
) -> None:
    """The dated surveillance plan of one case: visits, windows, status, calendar, picture."""
    from pecoma.engine.schedule import plan_surveillance
    from pecoma.render.schedule import print_plan

    day = parse_day(on)
    try:
        case = read_case(case_file, day)
        conf = settings_from(settings)
        # Without --imaging the scan history was not given (I13): not a history of no scans.
        events = read_imaging(imaging, case, day) if imaging is not None else None
        assessment = assess(case, day, conf)
        plan = plan_surveillance(case, assessment, day, events, conf)
    except InputError as exc:
        fail(escape(str(exc)), EXIT_INPUT)
    except (ConfigError, KnowledgeError) as exc:
        fail(escape(str(exc)), EXIT_CONFIG)
    data = render_plan(plan, fmt, case_key or case_file.stem, conf.followup.calendar_reminder_days)
    if data is None:
        if output is None:
            print_plan(plan, out)
            return
        buffer = io.StringIO()
        print_plan(plan, Console(file=buffer, width=140, no_color=True, highlight=False))
        data = buffer.getvalue().encode()
    _write(data, output, fmt)
    if output is not None and plan.status == "not_drawn":
        fail_soft = "; ".join(r.title for r in plan.reasons)
        out.print(f"[yellow]no dated plan:[/] {escape(fail_soft)}", highlight=False)
