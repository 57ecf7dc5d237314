"""Import the scans and outcomes tables of a registry export.

``pecoma registry export --format csv -o FOLDER`` writes ``cases.csv`` (every patient's
latest case, in the import layout) beside ``imaging_events.csv`` and ``outcomes.csv``.
A registry moved by that export is imported in that order: the cases, then the scans,
then the outcomes, so that an outcome found at a scheduled scan is linked to it again.
This module reads the last two files (told apart from a cases file by their header) and
records each row as ``record-scan`` and ``record-outcome`` do, through the same checks
(:func:`~pecoma.registry.service.record_scan`, :func:`~pecoma.registry.outcomes.
record_outcome`): one rule per entry, never a second copy. An outcome row that a later
entry corrected (its ``corrected_by`` filled) is left out and counted: the entry that
stands, the one every figure reads, is imported. A scan or outcome recorded already is
not recorded again, so importing a table twice changes nothing.

Every row is first checked on its own (its fields, its patient in the registry, a scan
against the patient's stored case): in all-or-nothing mode a bad row writes nothing. Each
entry is then written in its own transaction, checked again against the stored facts; a
row refused then is reported, the rows before it kept (import the table again once it is
put right: what is recorded already is not recorded twice).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.import_check import RowIssue
from pecoma.registry.import_table import RawRow, open_table
from pecoma.registry.outcomes import parse_outcome, record_outcome
from pecoma.registry.service import record_scan, validate_scan
from pecoma.settings import Settings
from pecoma.store.repository import Repository, check_registry_id

__all__ = ["OUTCOME_TABLE", "SCAN_TABLE", "EntriesReport", "EntryTable", "entry_table",
           "import_entries"]


class EntryTable(StrEnum):
    scans = "scans"
    outcomes = "outcomes"


#: The export's ``imaging_events.csv`` columns: the first four are the scan, the others
#: what the export adds (read, never imported: a new registry numbers its own entries).
SCAN_TABLE = ("id", "registry_id", "performed_on", "modality", "finding", "recorded_at",
              "recorded_by")
#: The export's ``outcomes.csv`` columns (``scan_id`` and ``corrected_by`` are derived
#: again as the outcomes are recorded).
OUTCOME_TABLE = ("id", "registry_id", "event", "event_date", "vital_status", "found_by",
                 "scan_id", "scan_performed_on", "corrected_by", "recorded_at", "recorded_by")
_NEEDED = {
    EntryTable.scans: ("registry_id", "performed_on", "modality"),
    EntryTable.outcomes: ("registry_id", "event", "event_date"),
}
_COLUMNS = {EntryTable.scans: SCAN_TABLE, EntryTable.outcomes: OUTCOME_TABLE}
#: a field of the recording function -> the export's column
_COLUMN_OF = {"date": {EntryTable.scans: "performed_on", EntryTable.outcomes: "event_date"}}


def entry_table(header: Sequence[str]) -> EntryTable | None:
    """Which export table ``header`` is (its needed columns, and only the export's own),
    or ``None``: a file in the import layout of cases."""
    names = [h.strip() for h in header if h.strip()]
    for table, needed in _NEEDED.items():
        if set(needed) <= set(names) and set(names) <= set(_COLUMNS[table]):
            return table
    return None


@dataclass(slots=True)
class EntriesReport:
    """What an import of an export's scans or outcomes table read, refused and wrote."""

    source: str
    table: EntryTable
    all_or_nothing: bool
    sheet: str | None = None
    rows: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    written: int = 0
    unchanged: int = 0
    #: outcome rows a later entry corrected, left out (the correcting entry is imported)
    corrected: int = 0
    committed: bool = False

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({i.row for i in self.issues})

    @property
    def mode(self) -> str:
        return "all-or-nothing" if self.all_or_nothing else "good-rows"

    def to_jsonable(self) -> dict[str, Any]:
        return {
            "source": self.source, "sheet": self.sheet, "table": self.table.value,
            "mode": self.mode, "rows": self.rows,
            "good_rows": self.rows - len(self.rejected_rows) - self.corrected,
            "rejected_rows": self.rejected_rows, "committed": self.committed,
            f"new_{self.table.value}": self.written, "unchanged": self.unchanged,
            "corrected_left_out": self.corrected,
            "issues": [i.to_dict() for i in self.issues],
        }

    def lines(self) -> list[str]:
        read = self.source if self.sheet is None else f"{self.source}, sheet {self.sheet!r}"
        out = [
            f"{read} ({self.table.value} of a registry export): {self.rows} rows read, "
            f"{self.rows - len(self.rejected_rows) - self.corrected} good, "
            f"{len(self.rejected_rows)} rejected ({self.mode})",
            f"written: {self.written} new {self.table.value}, {self.unchanged} unchanged"
            + (f"; {self.corrected} corrected entries left out (the entry that corrects "
               "each is imported)" if self.corrected else "")
            if self.committed else "nothing was written",
        ]
        return out + [f"  - {i}" for i in self.issues]


def _cell(row: RawRow, column: str) -> Any:
    value = row.cells.get(column)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _issues(table: EntryTable, row: RawRow, exc: InputError) -> list[RowIssue]:
    return [RowIssue(row.number, _COLUMN_OF.get(i.path, {}).get(table, i.path), i.value, i.rule)
            for i in exc.issues]


def import_entries(
    repo: Repository,
    path: Path,
    *,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    all_or_nothing: bool = True,
) -> EntriesReport:
    """Import ``path``, an export's ``imaging_events.csv`` or ``outcomes.csv`` (see the
    module's docstring); :class:`ValueError` when it is neither (:func:`entry_table`)."""
    with open_table(path) as t:
        table = entry_table(t.header)
        if table is None:
            raise ValueError(f"{path.name} is not a scans or outcomes table of an export")
        rows = list(t.rows)
        report = EntriesReport(path.name, table, all_or_nothing, sheet=t.sheet,
                               rows=len(rows))
    good: list[RawRow] = []
    for row in rows:
        if table is EntryTable.outcomes and _cell(row, "corrected_by") is not None:
            report.corrected += 1
            continue
        issues = [RowIssue(row.number, c, v, r) for c, v, r in row.problems]
        try:
            if table is EntryTable.scans:
                validate_scan(repo, str(_cell(row, "registry_id") or ""),
                              _cell(row, "performed_on"), _cell(row, "modality"),
                              _cell(row, "finding"), on_date=on_date)
            else:
                _check_outcome_row(repo, row)
        except InputError as exc:
            issues += _issues(table, row, exc)
        report.issues += issues
        if not issues:
            good.append(row)
    if report.issues and all_or_nothing:
        return report
    report.committed = True
    write: Callable[[RawRow], bool]
    if table is EntryTable.scans:
        def write(row: RawRow) -> bool:
            return record_scan(repo, str(_cell(row, "registry_id")),
                               _cell(row, "performed_on"), _cell(row, "modality"),
                               _cell(row, "finding"), on_date=on_date, actor=actor,
                               settings=settings) is not None
    else:
        def write(row: RawRow) -> bool:
            return bool(record_outcome(repo, str(_cell(row, "registry_id")),
                                       _cell(row, "event"), _cell(row, "event_date"),
                                       _cell(row, "vital_status"), _cell(row, "found_by"),
                                       on_date=on_date, actor=actor))
    for row in good:
        try:
            if write(row):
                report.written += 1
            else:
                report.unchanged += 1
        except InputError as exc:
            report.issues += _issues(table, row, exc)
    report.issues.sort(key=lambda i: i.row)
    return report


def _check_outcome_row(repo: Repository, row: RawRow) -> None:
    """The outcome's own fields and its patient; the stored facts are checked as it is
    written (:func:`record_outcome`)."""
    issues: list[FieldIssue] = []
    raw_id = _cell(row, "registry_id")
    try:
        rid = check_registry_id(str(raw_id or ""))
        if not repo.latest_case(rid)[0]:
            issues.append(FieldIssue(
                "registry_id", show_value(rid),
                "must be the id of a patient in the registry (import cases.csv of the "
                "export first)"))
    except InputError as exc:
        issues += exc.issues
    try:
        parse_outcome(_cell(row, "event"), _cell(row, "event_date"),
                      _cell(row, "vital_status"), _cell(row, "found_by"))
    except InputError as exc:
        issues += exc.issues
    if issues:
        raise InputError(issues, "outcome")
