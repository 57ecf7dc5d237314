"""``pecoma registry …``: the patient registry from the command line.

Every command opens the registry (SQLite file by default, PostgreSQL by URL), brings its
schema up to date, runs one use case and renders the result. Errors become a message and
an exit code (see :mod:`pecoma.cli`); registry ids never go to a log.

Exit codes beyond the common ones: 3 also when an import rejected rows (the report lists
each cell), 4 when the import file or the database cannot be read or written.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from pecoma.cli.common import (
    EXIT_FILE,
    EXIT_INPUT,
    ActorOption,
    DataDirOption,
    DbOption,
    OnOption,
    OutputOption,
    SettingsOption,
    TextJson,
    actor_name,
    err,
    fail,
    out,
    parse_day,
    read_text,
    registry_errors,
    settings_from,
)
from pecoma.jsonin import loads
from pecoma.registry.columns import COLUMN_NAMES, COLUMNS, flatten, template_csv, template_xlsx
from pecoma.registry.worklist import (
    DEFAULT_RECENT_DAYS,
    SortKey,
    WorkStatus,
    build_worklist,
    evaluate,
    select,
    to_csv,
    to_ics,
    to_json,
)

if TYPE_CHECKING:
    from pecoma.store import Repository

# The store (SQLAlchemy, Alembic) and the export, survival and quality modules are imported
# by the commands that use them, so that the rest of the command line starts quickly.

__all__ = ["registry_app"]

registry_app = typer.Typer(
    name="registry",
    help="The patient registry: import cases, record scans, see who is due, re-assess.",
    no_args_is_help=True,
    add_completion=False,
)


def _open(url: str | None, data_dir: Path | None) -> Repository:
    from pecoma.store import database_url, open_registry

    return open_registry(database_url(url, {}, data_dir))


def _write_out(data: str | bytes, output: Path | None) -> None:
    if output is None:
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            sys.stdout.write(data)
        return
    try:
        if isinstance(data, bytes):
            output.write_bytes(data)
        else:
            output.write_text(data, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_FILE)
    err.print(f"written: {output}", highlight=False, markup=False)


@registry_app.command("init")
def init_cmd(database_url_: DbOption = None, data_dir: DataDirOption = None) -> None:
    """Create the registry database, or bring its schema up to date."""
    from pecoma.store import database_url, redact
    from pecoma.store.db import create_db_engine, current_revision, head_revision, upgrade

    with registry_errors():
        url = database_url(database_url_, {}, data_dir)
        engine = create_db_engine(url)
        try:
            before = current_revision(engine)
            upgrade(engine)
            after = current_revision(engine)
            head = head_revision(engine)
        finally:
            engine.dispose()
        state = "created" if before is None else ("upgraded" if before != after else "current")
        out.print(
            f"registry {redact(url)}: schema {state} (revision {after}, head {head})",
            highlight=False,
            markup=False,
        )


@registry_app.command("template")
def template_cmd(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or xlsx.")] = "csv",
    output: OutputOption = None,
) -> None:
    """Write the empty import template (the documented column layout)."""
    if fmt == "csv":
        _write_out(template_csv(), output)
    elif fmt == "xlsx":
        if output is None and sys.stdout.isatty():
            fail("'--format xlsx' needs '--output FILE' (a workbook is binary)", 2)
        _write_out(template_xlsx(), output)
    elif fmt == "columns":
        for c in COLUMNS:
            sys.stdout.write(f"{c.name}\t{c.help}\n")
    else:
        fail(f"'--format' must be csv, xlsx or columns (got {fmt!r})", 2)


@registry_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file in the template layout.")],
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing/--good-rows",
            help="Write nothing when any row is bad (default), or write the good rows.",
        ),
    ] = True,
    on: OnOption = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="Report format.")] = (
        TextJson.text
    ),
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Import cases: every row validated; a report of rejected cells; idempotent."""
    from pecoma.registry.importer import ImportMode, import_file

    day = parse_day(on)
    mode = ImportMode.all_or_nothing if all_or_nothing else ImportMode.good_rows
    with registry_errors():
        cfg = settings_from(settings)
        repo = _open(database_url_, data_dir)
        try:
            # One process: the engine work is not what an import waits for most (reading
            # and checking the rows is), and worker processes would double the memory
            # (about 400 MB instead of 200 MB at 100,000 rows; bench/RESULTS.md).
            report = import_file(
                repo, file, on_date=day, settings=cfg, actor=actor_name(actor), mode=mode,
            )
        finally:
            repo.close()
    if fmt is TextJson.json:
        sys.stdout.write(json.dumps(report.to_jsonable(), indent=2, ensure_ascii=False) + "\n")
    else:
        lines = report.lines()
        out.print(lines[0], highlight=False, markup=False)
        out.print(lines[1], highlight=False, markup=False)
        for line in lines[2:]:
            err.print(line, highlight=False, markup=False, soft_wrap=True)
    if report.issues:
        raise typer.Exit(EXIT_INPUT)


@registry_app.command("add-case")
def add_case_cmd(
    registry_id: Annotated[str, typer.Argument(help="The patient's pseudonymous registry id.")],
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `pecoma schema`).")],
    on: OnOption = None,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record a case version for one patient (a new patient is created)."""
    from pecoma.registry.service import record_case

    day = parse_day(on)
    text = read_text(case_file, "case")
    data = loads(text, f"case in {case_file.name}")
    if not isinstance(data, dict):
        fail("the case file must hold a JSON object", EXIT_INPUT)
    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            result = record_case(
                repo,
                registry_id,
                data,
                on_date=day,
                settings=settings_from(settings),
                actor=actor_name(actor),
                source=f"file {case_file.name}",
            )
        finally:
            repo.close()
    if result.new_versions:
        out.print(
            f"case version {next(iter(result.versions.values()))} recorded",
            highlight=False,
            markup=False,
        )
    else:
        out.print("unchanged: identical to the latest case version", highlight=False, markup=False)


@registry_app.command("record-scan")
def record_scan_cmd(
    registry_id: Annotated[str, typer.Argument(help="The patient's pseudonymous registry id.")],
    date: Annotated[str, typer.Option("--date", help="Date of the scan, YYYY-MM-DD.")],
    modality: Annotated[str, typer.Option("--modality", help="e.g. chest_ct, mri_primary.")],
    finding: Annotated[
        str | None,
        typer.Option(
            "--finding",
            help="no_evidence_of_disease, equivocal, local_recurrence or metastasis "
            "(left out: not recorded).",
        ),
    ] = None,
    on: OnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record an imaging event (surveillance scan) for a patient."""
    from pecoma.registry.service import record_scan

    day = parse_day(on)
    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            record_scan(
                repo, registry_id, date, modality, finding, on_date=day, actor=actor_name(actor)
            )
        finally:
            repo.close()
    out.print("scan recorded", highlight=False, markup=False)


@registry_app.command("record-outcome")
def record_outcome_cmd(
    registry_id: Annotated[str, typer.Argument(help="The patient's pseudonymous registry id.")],
    event: Annotated[
        str,
        typer.Option(
            "--event",
            help="last_contact, local_recurrence, distant_metastasis, progression or death.",
        ),
    ],
    date: Annotated[
        str,
        typer.Option(
            "--date",
            help="Date of the event (of death, of last contact, of detection), YYYY-MM-DD.",
        ),
    ],
    vital_status: Annotated[
        str | None,
        typer.Option(
            "--vital-status",
            help="For last_contact: alive_without_disease, "
            "alive_with_disease or lost_to_follow_up; for death: dead_of_disease or "
            "dead_of_other_cause.",
        ),
    ] = None,
    found_by: Annotated[
        str | None,
        typer.Option(
            "--found-by",
            help="For a recurrence or progression: scheduled_scan, "
            "symptoms or other (left out: not recorded).",
        ),
    ] = None,
    on: OnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record an outcome: last contact and vital status, recurrence, progression, death."""
    from pecoma.registry.outcomes import record_outcome

    day = parse_day(on)
    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            ids = record_outcome(
                repo,
                registry_id,
                event,
                date,
                vital_status,
                found_by,
                on_date=day,
                actor=actor_name(actor),
            )
        finally:
            repo.close()
    out.print(
        "outcome recorded" if ids else "unchanged: this outcome is already recorded",
        highlight=False,
        markup=False,
    )


class WorklistFormat(StrEnum):
    text = "text"
    csv = "csv"
    ics = "ics"
    json = "json"


# Rows of the worklist's text table by default: the table is for reading at a terminal
# (a whole registry of 100,000 rows takes a minute to lay out, and nobody reads it there).
TABLE_ROWS = 200


@registry_app.command("worklist")
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
            "--recent-days", min=0, max=366, help="A scan this recent makes the patient 'done'."
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
        repo = _open(database_url_, data_dir)
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
        _write_out(to_csv(items), output)
    elif fmt is WorklistFormat.json:
        _write_out(to_json(items, day), output)
    elif fmt is WorklistFormat.ics:
        _write_out(to_ics(items, day, reminder_days=cfg.followup.calendar_reminder_days), output)
    else:
        shown = items if limit == 0 else items[:limit]
        t = Table(title=f"Surveillance worklist as of {day.isoformat()}: {len(items)} patients")
        for col in ("registry id", "status", "due", "latest", "imaging", "risk"):
            t.add_column(col, no_wrap=True)
        t.add_column("why")
        t.add_column("alerts")
        for i in shown:
            t.add_row(
                *map(
                    escape,
                    (
                        i.registry_id,
                        i.status.value,
                        str(i.due or ""),
                        str(i.latest or ""),
                        "+".join(i.imaging),
                        i.risk_group or "",
                        i.reason,
                        "; ".join(a.title for a in i.alerts),
                    ),
                )
            )
        out.print(t)
        if len(shown) < len(items):
            out.print(
                f"The first {len(shown):,} of {len(items):,} patients in this order; "
                "--limit 0 shows every row, --format csv or json writes them all to a file."
            )


@registry_app.command("reassess")
def reassess_cmd(
    on: OnOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List the changes without storing assessments.")
    ] = False,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="Report format.")] = (
        TextJson.text
    ),
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Run every latest case through the current knowledge; list what changed."""
    from pecoma.registry.reassess import reassess
    from pecoma.registry.workers import WORKERS

    day = parse_day(on)
    with registry_errors():
        cfg = settings_from(settings)
        repo = _open(database_url_, data_dir)
        try:
            report = reassess(repo, day, cfg, actor_name(actor), store=not dry_run,
                              workers=WORKERS)
        finally:
            repo.close()
    if fmt is TextJson.json:
        sys.stdout.write(json.dumps(report.to_jsonable(), indent=2, ensure_ascii=False) + "\n")
        return
    out.print(
        f"re-assessed {report.patients} patients as of {day.isoformat()} with knowledge "
        f"{report.knowledge_version}: {len(report.changes)} changed, {report.unchanged} "
        f"unchanged, {len(report.not_evaluable)} not evaluable; {report.stored} assessments "
        "stored",
        highlight=False,
        markup=False,
    )
    for c in report.changes:
        out.print(
            f"  {c.registry_id}: {c.describe()}", highlight=False, markup=False, soft_wrap=True
        )
    for rid, why in report.not_evaluable:
        out.print(f"  {rid}: not evaluable: {why}", highlight=False, markup=False, soft_wrap=True)


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


@registry_app.command("summary")
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
    from pecoma.store.cds import CdsStore

    day = parse_day(on)
    if fmt is SummaryFormat.pdf and output is None:
        fail("--format pdf needs --output FILE (a PDF is not written to a terminal)", EXIT_INPUT)
    with registry_errors():
        cfg = settings_from(settings)
        repo = _open(database_url_, data_dir)
        try:
            states = repo.states()
            feedback = CdsStore(repo.engine).feedback()
            evaluated = evaluate(states, day, cfg)
            concord = concordance_of(repo, evaluated, day, cfg)
            summary = summarise(evaluated, build_worklist(evaluated, day), day, cfg, feedback)
            if fmt is SummaryFormat.pdf:
                pdf = _summary_pdf(repo, summary, concord, evaluated, day, min_cell)
        finally:
            repo.close()
    if fmt is SummaryFormat.pdf:
        _write_out(pdf, output)
    elif fmt is SummaryFormat.json:
        data = {
            **summary.to_jsonable(),
            "min_cell": min_cell,
            "concordance": concord.to_jsonable(min_cell),
        }
        _write_out(json.dumps(data, indent=2) + "\n", output)
    elif fmt is SummaryFormat.svg:
        _write_out(summary_svg(summary), output)
    else:
        _write_out("\n".join([*summary.lines(), "", *concord.lines(min_cell)]) + "\n", output)


def _summary_pdf(repo: Repository, summary: Any, concord: Any, evaluated: Any, day: Any,
                 min_cell: int) -> bytes:
    from pecoma.registry.quality import surveillance_quality
    from pecoma.registry.summary_pdf import summary_pdf, survival_reports

    quality = surveillance_quality(evaluated, repo.outcomes_by_registry_id(), day)
    return summary_pdf(summary, quality, concord, survival_reports(repo, day, min_cell),
                       min_cell)


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


@registry_app.command("survival")
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
        repo = _open(database_url_, data_dir)
        try:
            report = survival_report(
                repo, Endpoint(endpoint.value), Grouping(by.value), day, min_cell
            )
        finally:
            repo.close()
    if fmt is SurvivalFormat.json:
        _write_out(to_json(report), output)
    elif fmt in (SurvivalFormat.png, SurvivalFormat.svg):
        _write_out(to_figure(report, fmt.value), output)
    else:
        _write_out(to_text(report), output)


@registry_app.command("quality")
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
    from pecoma.registry.quality import registry_decisions, registry_quality

    day = parse_day(on)
    with registry_errors():
        cfg = settings_from(settings)
        repo = _open(database_url_, data_dir)
        try:
            states = repo.states()
            outcomes = repo.outcomes_by_registry_id()
            history = repo.recommendation_history()
            decisions = registry_decisions(repo)
        finally:
            repo.close()
        quality, concord = registry_quality(
            evaluate(states, day, cfg), outcomes, history, day, cfg, decisions
        )
    if fmt is TextJson.json:
        data = {
            "format": "pecoma-quality/1",
            "min_cell": min_cell,
            "surveillance": quality.to_jsonable(min_cell),
            "concordance": concord.to_jsonable(min_cell),
        }
        _write_out(json.dumps(data, indent=2, ensure_ascii=False) + "\n", output)
    else:
        _write_out("\n".join([*quality.lines(min_cell), "", *concord.lines(min_cell)]) + "\n",
                   output)


class DatePrecision(StrEnum):
    day = "day"
    month = "month"


@registry_app.command("export-omop")
def export_omop_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder for the CSV files (one per table).")],
    demographics: Annotated[
        Path | None,
        typer.Option(
            "--demographics",
            help="CSV of registry_id,sex,year_of_birth (the "
            "registry records neither; OMOP PERSON needs the year of birth).",
        ),
    ] = None,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--pseudonymise",
            help="File holding the network's secret: person "
            "source values become keyed hashes of the registry ids.",
        ),
    ] = None,
    precision: Annotated[
        DatePrecision,
        typer.Option("--dates", help="day, or month (every date moved to the first of its month)."),
    ] = DatePrecision.day,
    on: OnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """OMOP CDM 5.4 CSVs with the oncology extension (EPISODE, EPISODE_EVENT)."""
    from pecoma.registry.omop import omop_export, read_demographics

    day = parse_day(on)
    secret = _secret(secret_file)
    with registry_errors():
        demo = read_demographics(demographics) if demographics is not None else {}
        repo = _open(database_url_, data_dir)
        try:
            ex = omop_export(
                repo,
                folder,
                demo,
                day,
                secret=secret,
                month_precision=precision is DatePrecision.month,
            )
        finally:
            repo.close()
    for table, n in ex.counts().items():
        out.print(f"{table}: {n} rows", highlight=False, markup=False)
    for reason, n in sorted(ex.left_out.items()):
        out.print(f"left out: {n} ({reason})", highlight=False, markup=False)
    err.print(f"written: {folder}", highlight=False, markup=False)


@registry_app.command("export-fhir")
def export_fhir_cmd(
    folder: Annotated[Path, typer.Argument(help="Folder for the NDJSON files and manifest.")],
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--pseudonymise",
            help="File holding the network's secret: patient ids "
            "become keyed hashes of the registry ids.",
        ),
    ] = None,
    precision: Annotated[
        DatePrecision, typer.Option("--dates", help="day, or month (dates reduced to YYYY-MM).")
    ] = DatePrecision.day,
    on: OnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """FHIR Bulk Data NDJSON (one file per resource type) with mCODE profiles declared."""
    from pecoma.registry.fhir_bulk import bulk_export

    day = parse_day(on)
    secret = _secret(secret_file)
    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            counts, left_out = bulk_export(
                repo, folder, day, secret=secret, month_precision=precision is DatePrecision.month
            )
        finally:
            repo.close()
    for kind, n in counts.items():
        out.print(f"{kind}: {n} resources", highlight=False, markup=False)
    for reason, n in sorted(left_out.items()):
        out.print(f"left out: {n} ({reason})", highlight=False, markup=False)
    err.print(f"written: {folder}", highlight=False, markup=False)


def _secret(secret_file: Path | None) -> bytes | None:
    if secret_file is None:
        return None
    try:
        secret = secret_file.read_bytes().strip()
    except OSError as exc:
        fail(f"cannot read the secret file {secret_file}: {exc.strerror}", EXIT_FILE)
    if len(secret) < 16:
        fail(
            f"'--pseudonymise' needs a secret of at least 16 bytes (got {len(secret)})", EXIT_INPUT
        )
    return secret


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def _csv_text(header: list[str], rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, header, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _csv_cell(v) for k, v in r.items()})
    return buf.getvalue()


def _csv_cell(v: Any) -> Any:
    from pecoma.registry.cells import neutralise

    if isinstance(v, dict | list):
        return neutralise(json.dumps(v, sort_keys=True, ensure_ascii=False))
    return "" if v is None else neutralise(v)


@registry_app.command("export")
def export_cmd(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help="json or csv.")] = (
        ExportFormat.json
    ),
    output: OutputOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Export the whole registry: JSON (one document) or CSV (a folder of tables).

    The CSV folder's ``cases.csv`` holds every patient's latest case in the import
    layout, so it can be imported into another registry.
    """
    from pecoma.knowledge import load_knowledge

    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            data = repo.export()
            version = load_knowledge().version
        finally:
            repo.close()
    if fmt is ExportFormat.json:
        doc = {"format": "pecoma-registry-export/1", "knowledge_version": version, **data}
        _write_out(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
        return
    if output is None:
        fail("'--format csv' needs '--output FOLDER' (it writes one file per table)", 2)
    latest: dict[str, dict[str, Any]] = {}
    for cv in data["case_versions"]:
        latest[cv["registry_id"]] = cv["case"]
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
        "cases.csv": (
            list(COLUMN_NAMES),
            [flatten(case, rid) for rid, case in sorted(latest.items())],
        ),
    }
    for name in ("patients", "case_versions", "assessments", "imaging_events", "audit_log"):
        rows = data[name]
        header = list(rows[0]) if rows else []
        if name == "assessments":
            rows = [{k: v for k, v in r.items() if k != "output"} for r in rows]
            header = [h for h in header if h != "output"]
        tables[f"{name}.csv"] = (header, rows)
    try:
        output.mkdir(parents=True, exist_ok=True)
        for fname, (header, rows) in tables.items():
            (output / fname).write_text(_csv_text(header, rows), encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", EXIT_FILE)
    err.print(f"written: {len(tables)} files in {output}", highlight=False, markup=False)


@registry_app.command("audit")
def audit_cmd(
    limit: Annotated[int, typer.Option("--limit", min=1, help="The last N entries.")] = 50,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show the last entries of the audit log (who, when, what, which entity)."""
    with registry_errors():
        repo = _open(database_url_, data_dir)
        try:
            entries = repo.audit(limit)
        finally:
            repo.close()
    t = Table(title=f"Audit log: last {len(entries)} entries")
    for col in ("#", "when (UTC)", "who", "action", "entity", "detail"):
        t.add_column(col)
    for e in entries:
        t.add_row(
            *map(
                escape,
                (
                    str(e.id),
                    e.at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor,
                    e.action,
                    f"{e.entity} {e.entity_id}",
                    json.dumps(e.detail, sort_keys=True),
                ),
            )
        )
    out.print(t)
