"""``pecoma followup``: the dated surveillance plan of one case, in five formats.

Parse, call the library, render; nothing is decided here. Exit codes follow
:mod:`pecoma.cli`: 3 when the case or the imaging history is rejected, 4 when a file
cannot be read or written, 5 for a malformed settings or knowledge file.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from pecoma.cli import (
    EXIT_CONFIG,
    EXIT_FILE,
    EXIT_INPUT,
    OnOption,
    SettingsOption,
    fail,
    out,
    parse_day,
    read_case,
    read_text,
    settings_from,
)
from pecoma.engine import assess
from pecoma.engine.schedule import (
    ImagingEvent,
    SurveillancePlan,
    parse_imaging,
    parse_imaging_csv,
    plan_surveillance,
)
from pecoma.errors import ConfigError, InputError, KnowledgeError
from pecoma.jsonin import loads
from pecoma.render.schedule import markdown_plan, print_plan

__all__ = ["FollowupFormat", "read_imaging", "register", "render_plan"]


class FollowupFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    ics = "ics"
    svg = "svg"
    png = "png"


def read_imaging(
    path: Path, treatment_end: dt.date | None = None, on_date: dt.date | None = None
) -> tuple[ImagingEvent, ...]:
    """An imaging history file: JSON (a list, or ``{"imaging": [...]}``) or CSV, with its
    dates checked against the end of treatment and the evaluation date when given."""
    text = read_text(path, "imaging history")
    source = f"imaging history in {path.name}"
    if path.suffix.lower() == ".csv":
        return parse_imaging_csv(text, source=source, treatment_end=treatment_end,
                                 on_date=on_date)
    data = loads(text, source)
    return parse_imaging(data, source=source, treatment_end=treatment_end, on_date=on_date)


def render_plan(plan: SurveillancePlan, fmt: FollowupFormat, case_key: str,
                reminder_days: int | None = None) -> bytes | None:
    """The plan in ``fmt`` as bytes, or None for the terminal table (printed directly);
    a calendar reminds ``reminder_days`` before each window (default: the default
    settings)."""
    if fmt is FollowupFormat.json:
        return (json.dumps(plan.to_dict(), indent=2, ensure_ascii=False) + "\n").encode()
    if fmt is FollowupFormat.markdown:
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
    day = parse_day(on)
    try:
        case = read_case(case_file)
        conf = settings_from(settings)
        # Without --imaging the scan history was not given (I13): not a history of no scans.
        events = (
            read_imaging(imaging, case.treatment_end, day) if imaging is not None else None
        )
        assessment = assess(case, day, conf)
        plan = plan_surveillance(case, assessment, day, events, conf)
    except InputError as exc:
        fail(escape(str(exc)), EXIT_INPUT)
    except (ConfigError, KnowledgeError) as exc:
        fail(escape(str(exc)), EXIT_CONFIG)
    data = render_plan(plan, fmt, case_key or case_file.stem,
                       conf.followup.calendar_reminder_days)
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


def register(app: typer.Typer) -> None:
    """Add ``pecoma followup`` to the command line."""
    app.command("followup")(followup_cmd)
