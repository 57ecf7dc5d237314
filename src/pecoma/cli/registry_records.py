"""``pecoma registry`` commands that enter data: create the registry, the import
template and import, a case, a scan or an outcome for one patient, the withdrawal of a
scan or an outcome entered in error, and the re-assessment of every patient (it stores
assessments).

The commands are plain functions; :mod:`pecoma.cli.registry` adds them to the group.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pecoma.cli.common import (
    EXIT_INPUT,
    ActorOption,
    DataDirOption,
    DbOption,
    OutputOption,
    SettingsOption,
    TextJson,
    WriteOnOption,
    actor_name,
    err,
    fail,
    open_repo,
    out,
    parse_day,
    read_text,
    registry_errors,
    settings_from,
    write_out,
)
from pecoma.jsonin import loads
from pecoma.registry.columns import COLUMNS, template_csv, template_xlsx

__all__ = [
    "add_case_cmd",
    "import_cmd",
    "init_cmd",
    "reassess_cmd",
    "record_outcome_cmd",
    "record_scan_cmd",
    "template_cmd",
    "withdraw_cmd",
]


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


def template_cmd(
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv or xlsx.")] = "csv",
    output: OutputOption = None,
) -> None:
    """Write the empty import template (the documented column layout)."""
    if fmt == "csv":
        write_out(template_csv(), output)
    elif fmt == "xlsx":
        if output is None and sys.stdout.isatty():
            fail("'--format xlsx' needs '--output FILE' (a workbook is binary)", 2)
        write_out(template_xlsx(), output)
    elif fmt == "columns":
        for c in COLUMNS:
            sys.stdout.write(f"{c.name}\t{c.help}\n")
    else:
        fail(f"'--format' must be csv, xlsx or columns (got {fmt!r})", 2)


def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .csv or .xlsx file in the template layout.")],
    all_or_nothing: Annotated[
        bool,
        typer.Option(
            "--all-or-nothing/--good-rows",
            help="Write nothing when any row is bad (default), or write the good rows.",
        ),
    ] = True,
    on: WriteOnOption = None,
    fmt: Annotated[TextJson, typer.Option("--format", "-f", help="Report format.")] = (
        TextJson.text
    ),
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Import cases: every row validated; a report of rejected cells; idempotent.

    The scans and outcomes tables of a registry export (``imaging_events.csv``,
    ``outcomes.csv``) are imported too, each row checked as ``record-scan`` and
    ``record-outcome`` check it."""
    from pecoma.registry.entries import EntriesReport, entry_table, import_entries
    from pecoma.registry.import_table import open_table
    from pecoma.registry.importer import ImportMode, ImportReport, import_file
    from pecoma.registry.workers import WORKERS

    day = parse_day(on, writes=True)
    mode = ImportMode.all_or_nothing if all_or_nothing else ImportMode.good_rows
    report: ImportReport | EntriesReport
    with registry_errors():
        cfg = settings_from(settings)
        with open_table(file) as table:
            entries = entry_table(table.header) is not None
        repo = open_repo(database_url_, data_dir)
        try:
            if entries:
                report = import_entries(repo, file, on_date=day, settings=cfg,
                                        actor=actor_name(actor), all_or_nothing=all_or_nothing)
            else:
                # The engine work of a large file in forked worker processes: they share
                # this process's pages, so memory stays within the goal (bench/RESULTS.md).
                report = import_file(
                    repo, file, on_date=day, settings=cfg, actor=actor_name(actor),
                    mode=mode, workers=WORKERS,
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
            # a refused row on stderr; a row written or kept with a note (an earlier value
            # or a withdrawn entry brought back, a correction kept) is part of what was
            # written: with the report, on stdout
            (out if line.startswith("  !") else err).print(
                line, highlight=False, markup=False, soft_wrap=True)
    if report.issues:
        raise typer.Exit(EXIT_INPUT)


def add_case_cmd(
    registry_id: Annotated[str, typer.Argument(help="The patient's pseudonymous registry id.")],
    case_file: Annotated[Path, typer.Argument(help="Case JSON file (see `pecoma schema`).")],
    on: WriteOnOption = None,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record a case version for one patient (a new patient is created)."""
    from pecoma.registry.service import record_case

    day = parse_day(on, writes=True)
    text = read_text(case_file, "case")
    data = loads(text, f"case in {case_file.name}")
    if not isinstance(data, dict):
        fail("the case file must hold a JSON object", EXIT_INPUT)
    with registry_errors():
        repo = open_repo(database_url_, data_dir)
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
    on: WriteOnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record an imaging event (surveillance scan) for a patient."""
    from pecoma.registry.service import record_scan

    day = parse_day(on, writes=True)
    with registry_errors():
        repo = open_repo(database_url_, data_dir)
        try:
            scan_id = record_scan(
                repo, registry_id, date, modality, finding, on_date=day, actor=actor_name(actor)
            )
        finally:
            repo.close()
    out.print("scan recorded" if scan_id is not None
              else "unchanged: this scan is already recorded", highlight=False, markup=False)


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
    on: WriteOnOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Record an outcome: last contact and vital status, recurrence, progression, death."""
    from pecoma.registry.outcomes import record_outcome

    day = parse_day(on, writes=True)
    with registry_errors():
        repo = open_repo(database_url_, data_dir)
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


def withdraw_cmd(
    registry_id: Annotated[str, typer.Argument(help="The patient's pseudonymous registry id.")],
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why the entry is withdrawn, in words (required)."),
    ],
    scan: Annotated[
        str | None,
        typer.Option("--scan", help="The number of the scan entered in error."),
    ] = None,
    outcome: Annotated[
        str | None,
        typer.Option("--outcome", help="The number of the outcome entered in error."),
    ] = None,
    on: WriteOnOption = None,
    settings: SettingsOption = None,
    database_url_: DbOption = None,
    data_dir: DataDirOption = None,
    actor: ActorOption = None,
) -> None:
    """Withdraw a scan or an outcome entered in error (a correction: withdraw, then record
    the right one). The entry stays in the audit log with the withdrawal."""
    from pecoma.registry.service import withdraw_entry

    if (scan is None) == (outcome is None):
        fail("give one of '--scan NUMBER' or '--outcome NUMBER' (the numbers are on the "
             "patient's page and in 'pecoma registry audit')", 2)
    day = parse_day(on, writes=True)
    kind, number = ("scan", scan) if scan is not None else ("outcome", outcome)
    with registry_errors():
        cfg = settings_from(settings)
        repo = open_repo(database_url_, data_dir)
        try:
            ids = withdraw_entry(repo, registry_id, kind, number, reason, on_date=day,
                                 actor=actor_name(actor), settings=cfg)
        finally:
            repo.close()
    out.print(
        f"{kind} {number} withdrawn as entered in error"
        + (f" (with the earlier entries it corrected: {', '.join(map(str, ids[:-1]))})"
           if len(ids) > 1 else ""),
        highlight=False,
        markup=False,
    )


def reassess_cmd(
    on: Annotated[
        str | None,
        typer.Option("--on", help="Evaluation date, YYYY-MM-DD, not after today unless "
                     "--dry-run (default: today)."),
    ] = None,
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

    day = parse_day(on, writes=not dry_run)
    with registry_errors():
        cfg = settings_from(settings)
        repo = open_repo(database_url_, data_dir)
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
