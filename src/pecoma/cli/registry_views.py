"""``pecoma registry`` commands that show the registry: the surveillance worklist, the
summary, survival, surveillance quality and the audit log.

The commands are plain functions; :mod:`pecoma.cli.registry` adds them to the group.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from pecoma.cli.common import (
    EXIT_INPUT,
    DataDirOption,
    DbOption,
    OnOption,
    OutputOption,
    SettingsOption,
    TextJson,
    fail,
    open_repo,
    out,
    parse_day,
    registry_errors,
    settings_from,
    write_out,
)
from pecoma.registry.worklist import (
    DEFAULT_RECENT_DAYS,
    SortKey,
    WorkItem,
    WorkStatus,
    evaluate,
    select,
    to_csv,
    to_ics,
    to_json,
)
from pecoma.render.layout import Block, TableOrBlocks, blocks

if TYPE_CHECKING:
    from pecoma.store import Repository
    from pecoma.store.repository.records import AuditView

# The store and the survival, quality and PDF modules are imported by the commands that
# use them, so that the rest of the command line starts quickly.

__all__ = ["audit_cmd", "quality_cmd", "summary_cmd", "survival_cmd", "worklist_cmd"]


class WorklistFormat(StrEnum):
    text = "text"
    csv = "csv"
    ics = "ics"
    json = "json"


# Rows of the worklist's text table by default: the table is for reading at a terminal
# (a whole registry of 100,000 rows takes a minute to lay out, and nobody reads it there).
TABLE_ROWS = 200


def worklist_cmd(
    on: OnOption = None,
    status: Annotated[
        list[WorkStatus] | None,
        typer.Option("--status", "-s", help="Only these statuses (repeat the option)."),
    ] = None,
    risk: Annotated[
        list[str] | None,
        typer.Option(
            "--risk",
            help="Only these risk groups: high, indeterminate, low, not_applicable.",
        ),
    ] = None,
    sort: Annotated[SortKey, typer.Option("--sort", help="Sort order.")] = SortKey.priority,
    descending: Annotated[bool, typer.Option("--desc", help="Reverse the order.")] = False,
    recent_days: Annotated[
        int,
        typer.Option(
            "--recent-days", min=0, max=366,
            help="A visit done this recently (by its planned examinations) shows the "
            "patient as 'done'."
        ),
    ] = DEFAULT_RECENT_DAYS,
    fmt: Annotated[
        WorklistFormat, typer.Option("--format", "-f", help="Output format.")
    ] = WorklistFormat.text,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help=f"Text table: the first N rows in the chosen order (default {TABLE_ROWS}; "
            "0: every row). CSV, JSON and calendar files always hold every row.",
        ),
    ] = TABLE_ROWS,
    output: OutputOption = None,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Every patient's next scan as of a date: overdue, due, upcoming, done, …"""
    day = parse_day(on)
    allowed_risk = ("high", "indeterminate", "low", "not_applicable")
    for r in risk or []:
        if r not in allowed_risk:
            fail(f"'--risk' must be one of {', '.join(allowed_risk)} (got {r!r})", 2)
    with registry_errors():
        from pecoma.registry.worklist import stored_worklist

        cfg = settings_from(settings)
        repo = open_repo(database_url_, data_dir)
        try:
            rows = stored_worklist(repo, day, cfg, recent_days)
        finally:
            repo.close()
        items = select(
            rows,
            statuses=status or [],
            risk_groups=risk or [],
            sort=sort,
            descending=descending,
        )
    if fmt is WorklistFormat.csv:
        write_out(to_csv(items), output)
    elif fmt is WorklistFormat.json:
        write_out(to_json(items, day), output)
    elif fmt is WorklistFormat.ics:
        write_out(to_ics(items, day, reminder_days=cfg.followup.calendar_reminder_days), output)
    else:
        shown = items if limit == 0 else items[:limit]
        title = f"Surveillance worklist as of {day.isoformat()}: {len(items)} patients"
        out.print(TableOrBlocks(_worklist_table(title, shown),
                                blocks(title, _worklist_blocks(shown)),
                                at_least=_WORKLIST_TABLE_WIDTH))
        if len(shown) < len(items):
            out.print(
                f"The first {len(shown):,} of {len(items):,} patients in this order; "
                "--limit 0 shows every row, --format csv or json writes them all to a file."
            )


#: The narrowest terminal the worklist's table is drawn in: narrower, its last columns
#: (why, alerts) would be squeezed to nothing, so each patient is written as a block.
_WORKLIST_TABLE_WIDTH: Final = 150


def _worklist_table(title: str, shown: Sequence[WorkItem]) -> Table:
    t = Table(title=title)
    for col in ("registry id", "status", "due", "latest", "imaging", "risk"):
        t.add_column(col, no_wrap=True)
    t.add_column("why")
    t.add_column("alerts")
    for i in shown:
        t.add_row(*map(escape, (
            i.registry_id, i.status.value, str(i.due or ""), str(i.latest or ""),
            "+".join(i.imaging), i.risk_group or "", i.reason,
            "; ".join(f"{a.level}: {a.title}" for a in i.alerts))))
    return t


def _worklist_blocks(shown: Sequence[WorkItem]) -> list[Block]:
    """The worklist in a narrow terminal: a block per patient, its first line the
    table's short columns, then why it is where it is and each alert on lines of their
    own, wrapped, never cut."""
    rows: list[Block] = []
    for i in shown:
        head = [i.registry_id, i.status.value]
        if i.due is not None:
            head.append(f"due {i.due}")
        if i.latest is not None:
            head.append(f"latest {i.latest}")
        if i.risk_group:
            head.append(f"risk {i.risk_group}")
        lines = [("imaging", "+".join(i.imaging)), ("why", i.reason)]
        lines += [(a.level, a.title) for a in i.alerts]
        rows.append((Text("  ".join(head)), lines))
    return rows


MinCellOption = Annotated[
    int,
    typer.Option(
        "--min-cell",
        envvar="PECOMA_MIN_CELL",
        min=1,
        max=1000,
        show_envvar=True,
        help="Suppress groups and counts below this many patients (privacy).",
    ),
]


class SummaryFormat(StrEnum):
    text = "text"
    json = "json"
    svg = "svg"
    pdf = "pdf"


def summary_cmd(
    on: OnOption = None,
    fmt: Annotated[
        SummaryFormat,
        typer.Option(
            "--format",
            "-f",
            help="Output format (pdf: "
            "with survival and surveillance quality, "
            "small counts suppressed).",
        ),
    ] = (SummaryFormat.text),
    output: OutputOption = None,
    min_cell: MinCellOption = 5,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Counts by risk group and disease status, overdue rate, guideline concordance
    (with the decisions recorded by the tumour board and through CDS Hooks)."""
    from pecoma.registry.quality import concordance_of
    from pecoma.registry.summary import summarise, summary_svg
    from pecoma.registry.worklist import stored_worklist
    from pecoma.store.cds import CdsStore

    day = parse_day(on)
    if fmt is SummaryFormat.pdf and output is None:
        fail("--format pdf needs --output FILE (a PDF is not written to a terminal)", EXIT_INPUT)
    with registry_errors():
        cfg = settings_from(settings)
        repo = open_repo(database_url_, data_dir)
        try:
            states = repo.states(as_of=day)
            feedback = CdsStore(repo.engine).feedback()
            evaluated = evaluate(states, day, cfg)
            concord = concordance_of(repo, evaluated, day, cfg)
            # the worklist as the web's summary and `registry worklist` give it: a
            # deceased or lost patient is counted as such, never by the old plan
            summary = summarise(evaluated, stored_worklist(repo, day, cfg), day, cfg, feedback)
            if fmt is SummaryFormat.pdf:
                pdf = _summary_pdf(repo, summary, concord, evaluated, day, min_cell, cfg)
        finally:
            repo.close()
    if fmt is SummaryFormat.pdf:
        write_out(pdf, output)
    elif fmt is SummaryFormat.json:
        data = {
            **summary.to_jsonable(),
            "min_cell": min_cell,
            "concordance": concord.to_jsonable(min_cell),
        }
        write_out(json.dumps(data, indent=2) + "\n", output)
    elif fmt is SummaryFormat.svg:
        write_out(summary_svg(summary), output)
    else:
        write_out("\n".join([*summary.lines(), "", *concord.lines(min_cell)]) + "\n", output)


def _summary_pdf(repo: Repository, summary: Any, concord: Any, evaluated: Any, day: Any,
                 min_cell: int, cfg: Any) -> bytes:
    from pecoma.registry.quality import plans_before_relapse, surveillance_quality
    from pecoma.registry.summary_pdf import summary_pdf, survival_reports

    quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), day,
                                   plans_before_relapse(repo, evaluated, day, cfg))
    return summary_pdf(summary, quality, concord,
                       survival_reports(repo, day, min_cell, cfg), min_cell)


class SurvivalFormat(StrEnum):
    text = "text"
    json = "json"
    png = "png"
    svg = "svg"


class EndpointChoice(StrEnum):
    rfs = "rfs"
    os = "os"


class GroupingChoice(StrEnum):
    risk = "risk"
    folpe = "folpe"


def survival_cmd(
    endpoint: Annotated[
        EndpointChoice,
        typer.Option(
            "--endpoint",
            "-e",
            help="rfs (recurrence-free, from surgery) or os (overall, from diagnosis).",
        ),
    ] = EndpointChoice.rfs,
    by: Annotated[
        GroupingChoice, typer.Option("--by", help="Guideline risk group or Folpe 2005 category.")
    ] = GroupingChoice.risk,
    on: OnOption = None,
    min_cell: MinCellOption = 5,
    fmt: Annotated[SurvivalFormat, typer.Option("--format", "-f", help="Output format.")] = (
        SurvivalFormat.text
    ),
    output: OutputOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    settings: SettingsOption = None,
) -> None:
    """Kaplan-Meier survival by group: 95 % CI, numbers at risk, median follow-up, log-rank."""
    from pecoma.registry.survival import (
        Endpoint,
        Grouping,
        survival_report,
        to_figure,
        to_json,
        to_text,
    )

    day = parse_day(on)
    with registry_errors():
        repo = open_repo(database_url_, data_dir)
        try:
            report = survival_report(
                repo, Endpoint(endpoint.value), Grouping(by.value), day, min_cell,
                settings_from(settings),
            )
        finally:
            repo.close()
    if fmt is SurvivalFormat.json:
        write_out(to_json(report), output)
    elif fmt in (SurvivalFormat.png, SurvivalFormat.svg):
        write_out(to_figure(report, fmt.value), output)
    else:
        write_out(to_text(report), output)


def quality_cmd(
    on: OnOption = None,
    min_cell: MinCellOption = 5,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")] = (
        TextJson.text
    ),
    output: OutputOption = None,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Surveillance quality (visits in their window, delays, how recurrences were found)
    and concordance of recorded treatment with the stored recommendations."""
    from pecoma.registry.quality import (
        plans_before_relapse,
        registry_decisions,
        registry_quality,
    )

    day = parse_day(on)
    with registry_errors():
        cfg = settings_from(settings)
        repo = open_repo(database_url_, data_dir)
        try:
            evaluated = evaluate(repo.states(as_of=day), day, cfg)
            outcomes = repo.outcomes_by_registry_id()
            history = repo.recommendation_history()
            decisions = registry_decisions(repo)
            before = plans_before_relapse(repo, evaluated, day, cfg)
        finally:
            repo.close()
        quality, concord = registry_quality(
            evaluated, outcomes, history, day, cfg, decisions, before_relapse=before
        )
    if fmt is TextJson.json:
        data = {
            "format": "pecoma-quality/1",
            "min_cell": min_cell,
            "surveillance": quality.to_jsonable(min_cell),
            "concordance": concord.to_jsonable(min_cell),
        }
        write_out(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
    else:
        write_out("\n".join([*quality.lines(min_cell), "", *concord.lines(min_cell)]) + "\n",
                   output)


def audit_cmd(
    limit: Annotated[int, typer.Option("--limit", min=1, max=1_000_000,
                                       help="The last N entries.")] = 50,
    patient: Annotated[str | None, typer.Option(
        "--patient", help="Only the entries of this patient (their registry id).")] = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="Output format.")] = (
        TextJson.text
    ),
    output: OutputOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show the last entries of the audit log (who, when, what, which entity), each in
    full."""
    with registry_errors():
        repo = open_repo(database_url_, data_dir)
        try:
            entries = (repo.audit(limit) if patient is None
                       else repo.patient_audit(patient, limit))
        finally:
            repo.close()
    if entries is None:
        fail(f"'--patient' names no patient of the registry (got {patient!r})", EXIT_INPUT)
    if fmt is TextJson.json:
        data = {"format": "pecoma-audit/1", "patient": patient,
                "entries": [_audit_jsonable(e) for e in entries]}
        write_out(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
        return
    whose = f" of {patient}" if patient is not None else ""
    title = f"Audit log{whose}: last {len(entries)} entries"
    t = Table(title=title)
    for col in ("#", "when (UTC)", "who", "action", "entity"):
        t.add_column(col, overflow="fold")
    # what was recorded, whole: wrapped between words, a word longer than the column
    # (a digest) folded, never cut
    t.add_column("detail", overflow="fold")
    rows: list[Block] = []
    for e in entries:
        cells = (str(e.id), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.action,
                 f"{e.entity} {e.entity_id}")
        detail = json.dumps(e.detail, sort_keys=True, ensure_ascii=False)
        t.add_row(*(Text(c) for c in (*cells, detail)))
        # in a block, each key of the detail on a line of its own, its value as JSON
        rows.append((Text(f"#{cells[0]} {cells[1]} UTC  {cells[2]}  {cells[3]}  {cells[4]}"),
                     [(key, json.dumps(e.detail[key], ensure_ascii=False))
                      for key in sorted(e.detail)]))
    view = TableOrBlocks(t, blocks(title, rows), at_least=_AUDIT_TABLE_WIDTH,
                         whole_words=False)
    if output is None:
        out.print(view)
        return
    buffer = io.StringIO()
    Console(file=buffer, width=_AUDIT_TABLE_WIDTH, no_color=True, highlight=False).print(view)
    write_out(buffer.getvalue(), output)


#: The narrowest terminal the audit log's table is drawn in: narrower, an entry is a block,
#: its detail on lines of its own.
_AUDIT_TABLE_WIDTH: Final = 120


def _audit_jsonable(e: AuditView) -> dict[str, Any]:
    """An audit entry whole: its time in UTC (ISO 8601), who, what, the row it concerns
    and the detail recorded, as stored."""
    at = e.at.astimezone(dt.UTC) if e.at.tzinfo else e.at.replace(tzinfo=dt.UTC)
    return {"id": e.id, "at": at.isoformat(), "actor": e.actor, "action": e.action,
            "entity": e.entity, "entity_id": e.entity_id, "detail": e.detail}
