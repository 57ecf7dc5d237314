"""``pecoma registry`` commands that export the registry: the whole registry as JSON or
CSV, OMOP CDM tables and FHIR Bulk Data, the last two optionally pseudonymised.

The commands are plain functions; :mod:`pecoma.cli.registry` adds them to the group.
"""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from pecoma.cli.common import (
    EXIT_FILE,
    EXIT_INPUT,
    DataDirOption,
    DbOption,
    OnOption,
    OutputOption,
    err,
    fail,
    open_repo,
    out,
    parse_day,
    registry_errors,
    write_out,
)
from pecoma.registry.columns import columns_for, flatten

__all__ = ["export_cmd", "export_fhir_cmd", "export_omop_cmd"]


class DatePrecision(StrEnum):
    day = "day"
    month = "month"


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
        demo = read_demographics(demographics, day) if demographics is not None else {}
        repo = open_repo(database_url_, data_dir)
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
    if ex.persons_not_found:
        out.print(f"not used: {ex.persons_not_found} rows of the demographics file (their "
                  "registry_id names no patient of the registry)", highlight=False,
                  markup=False)
    err.print(f"written: {folder}", highlight=False, markup=False)


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
        repo = open_repo(database_url_, data_dir)
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
    from pecoma.registry.cells import csv_cell

    if isinstance(v, dict | list):
        return csv_cell(json.dumps(v, sort_keys=True, ensure_ascii=False))
    return csv_cell(v)


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
    layout; with ``imaging_events.csv`` and ``outcomes.csv`` it imports into another
    registry (:data:`MOVE_NOTE` says what does not).
    """
    from pecoma.knowledge import load_knowledge
    from pecoma.registry.entries import OUTCOME_TABLE, SCAN_TABLE

    with registry_errors():
        repo = open_repo(database_url_, data_dir)
        try:
            data = repo.export()
            version = load_knowledge().version
        finally:
            repo.close()
    if fmt is ExportFormat.json:
        doc = {"format": "pecoma-registry-export/1", "knowledge_version": version, **data}
        write_out(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", output)
        return
    if output is None:
        fail("'--format csv' needs '--output FOLDER' (it writes one file per table)", 2)
    latest: dict[str, dict[str, Any]] = {}
    for cv in data["case_versions"]:
        latest[cv["registry_id"]] = cv["case"]
    try:
        flat = [flatten(case, rid) for rid, case in sorted(latest.items())]
    except ValueError as exc:  # more items in one list than a file may carry
        fail(f"cases.csv cannot hold every case: {exc}; export as JSON", EXIT_INPUT)
    tables: dict[str, tuple[list[str], list[dict[str, Any]]]] = {
        "cases.csv": (columns_for(flat), flat),
    }
    fixed = {"imaging_events": list(SCAN_TABLE), "outcomes": list(OUTCOME_TABLE)}
    for name in ("patients", "case_versions", "assessments", "imaging_events", "outcomes",
                 "board_decisions", "audit_log"):
        rows = data[name]
        # the tables another registry imports keep their header when empty
        header = fixed.get(name) or (list(rows[0]) if rows else [])
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
    for line in MOVE_NOTE:
        err.print(line, highlight=False, markup=False)


#: What another registry imports from the CSV folder, and what it cannot, said on every
#: CSV export (docs/registry.md, Export).
MOVE_NOTE = (
    "to move the registry, import into the other one, in this order: cases.csv, "
    "imaging_events.csv, outcomes.csv ('pecoma registry import FILE' each); the "
    "worklist and the figures then read the same cases, scans and outcomes, as of the "
    "day of the move and later",
    "views dated before the move are not reproduced in the new registry: every case is "
    "recorded there as of the import's --on, and earlier case versions and their dates "
    "are not carried (run past worklists, summaries and quality figures here, or keep "
    "their reports)",
    "not imported (kept in this folder only): earlier case versions and stored "
    "assessments (each case is assessed again as it is imported), outcome entries "
    "corrected since (the entry that stands is imported), entries withdrawn as entered "
    "in error, board and CDS decisions, and the audit log",
)
