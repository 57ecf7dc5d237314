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
stands, the one every figure reads, is imported. A correction is the same patient's same
event on the same day: a ``corrected_by`` naming anything else (no row, the row itself,
an id of several rows, another patient's, event's or day's row) is refused, as is a
repeated ``id``, and so is a corrected row whose correcting row is refused; a chain of
corrections ends at the row that stands, so every row of a loop is refused; and two
rows of one event on one day with different values, neither marked corrected, are
refused, never settled by their order or ids (:func:`_corrections`). A scan or outcome
recorded already is not recorded again, so importing a table twice changes nothing.

A table is a file as a cases file is: its committed import records the digest of its
cells (:func:`~pecoma.registry.import_table.table_digest`: the same table saved again by
a spreadsheet, other line ends, separator or byte order mark, is the same table), and
importing a table imported before never undoes a correction or a withdrawal
made since (the rule of :meth:`~pecoma.store.repository.Repository.add_case_batches`):
a row equal to an entry corrected or withdrawn since is not recorded and is named; a
table not imported before is the source's current word, and such a row is recorded and
named.

Every row is first checked on its own (its fields, its patient in the registry, a scan
against the patient's stored case, an outcome's ``corrected_by``); a column not of the
table refuses the whole file. The outcome rows are then checked in ONE transaction, by
date, each against the stored case, scans and outcomes and the rows before it (a death
before a stored scan, a last contact after a death, two deaths), whatever the other
rows' cells, so both modes report every problem in one pass: a row refused there is
reported with its column; in all-or-nothing mode, with any row refused, the transaction
is rolled back, nothing of the table written; with good rows the others are kept. A
scan row was checked against the stored facts already; each is written in its own
transaction, checked again (only a change made meanwhile can refuse it there, and the
rows before it are kept).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.import_check import RowIssue, is_empty
from pecoma.registry.import_table import RawRow, open_table, table_digest
from pecoma.registry.outcomes import parse_outcome, record_outcome_table
from pecoma.registry.service import record_scan, validate_scan
from pecoma.settings import Settings
from pecoma.store.repository import FileImport, OutcomeData, Repository, check_registry_id

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
    """Which export table ``header`` is (its needed columns all present; a column not of
    the export is named by :func:`_header_issues`), or ``None``: a file in the import
    layout of cases."""
    names = {h.strip() for h in header if h.strip()}
    for table, needed in _NEEDED.items():
        if set(needed) <= names:
            return table
    return None


def _header_issues(table: EntryTable, header: Sequence[str]) -> list[RowIssue]:
    """A column that is not one of the table's (added in a spreadsheet, say): the whole
    file is refused, as a cases file with an unknown column is."""
    name = "imaging_events.csv" if table is EntryTable.scans else "outcomes.csv"
    return [RowIssue(1, h.strip(), show_value(h.strip()),
                     f"is not a column of {name} of a registry export (its columns: "
                     f"{', '.join(_COLUMNS[table])})")
            for h in header if h.strip() and h.strip() not in _COLUMNS[table]]


@dataclass(slots=True)
class EntriesReport:
    """What an import of an export's scans or outcomes table read, refused and wrote."""

    source: str
    table: EntryTable
    all_or_nothing: bool
    sheet: str | None = None
    rows: int = 0
    #: the numbers of the rows read (all of them rejected when the header is refused)
    numbers: list[int] = field(default_factory=list)
    issues: list[RowIssue] = field(default_factory=list)
    written: int = 0
    unchanged: int = 0
    #: outcome rows a later entry corrected, left out (the correcting entry is imported)
    corrected: int = 0
    committed: bool = False
    #: rows not written again, or written bringing back an earlier value, named (an
    #: entry corrected or withdrawn as entered in error since)
    notes: list[RowIssue] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[int]:
        if any(i.row == 1 for i in self.issues):  # the header: every row
            return list(self.numbers)
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
            "warnings": [i.to_dict() for i in self.notes] if self.committed else [],
        }

    def lines(self) -> list[str]:
        read = self.source if self.sheet is None else f"{self.source}, sheet {self.sheet!r}"
        out = [
            f"{read} ({self.table.value} of a registry export): {self.rows} rows read, "
            f"{self.rows - len(self.rejected_rows) - self.corrected} good, "
            f"{len(self.rejected_rows)} rejected ({self.mode})",
            f"written: {self.written} new {self.table.value}, {self.unchanged} unchanged"
            + (f"; {self.corrected} corrected entries left out (each for the row of the "
               "file that stands at the end of its corrections: recorded, or named below)"
               if self.corrected else "")
            if self.committed else "nothing was written",
        ]
        out += [f"  - {i}" for i in self.issues]
        return out + ([f"  ! {i}" for i in self.notes] if self.committed else [])


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
        header = list(t.header)
        # an empty line (or one of empty cells) is no row, as in a file of cases
        rows = [r for r in t.rows if not is_empty(r)]
        report = EntriesReport(path.name, table, all_or_nothing, sheet=t.sheet,
                               rows=len(rows), numbers=[r.number for r in rows])
    report.issues += _header_issues(table, header)
    if report.issues:
        return report
    file = FileImport(path.name, table_digest(header, rows))
    good: list[tuple[RawRow, OutcomeData | None]] = []
    checked: dict[int, list[RowIssue]] = {}
    for row in rows:
        issues = [RowIssue(row.number, c, v, r) for c, v, r in row.problems]
        outcome: OutcomeData | None = None
        try:
            if table is EntryTable.scans:
                validate_scan(repo, str(_cell(row, "registry_id") or ""),
                              _cell(row, "performed_on"), _cell(row, "modality"),
                              _cell(row, "finding"), on_date=on_date)
            else:
                outcome = _check_outcome_row(repo, row)
        except InputError as exc:
            issues += _issues(table, row, exc)
        checked[row.number] = issues
        good.append((row, outcome))
    corrects: dict[int, int] = {}
    if table is EntryTable.outcomes:
        corrects = _corrections(rows, checked)
    report.issues += [i for issues in checked.values() for i in issues]
    good = [(row, o) for row, o in good
            if not checked[row.number] and row.number not in corrects]
    if table is EntryTable.outcomes:
        # every row is checked against the stored facts, whatever another row's cells:
        # with a row refused already, in all-or-nothing mode, nothing is written
        _write_outcomes(repo, report, good, file, on_date=on_date, actor=actor,
                        rollback=bool(report.issues) and all_or_nothing)
        report.issues += _left_out_refused(rows, corrects, report.issues)
        report.corrected = len(set(corrects) - set(report.rejected_rows))
    elif not (report.issues and all_or_nothing):
        again = repo.imported_before(file.digest)
        for row, _o in good:
            told: list[FieldIssue] = []
            try:
                if record_scan(repo, str(_cell(row, "registry_id")),
                               _cell(row, "performed_on"), _cell(row, "modality"),
                               _cell(row, "finding"), on_date=on_date, actor=actor,
                               settings=settings, told=told.append,
                               again=again) is not None:
                    report.written += 1
                else:
                    report.unchanged += 1
            except InputError as exc:
                report.issues += _issues(table, row, exc)
                continue
            report.notes += [RowIssue(row.number, i.path, i.value, i.rule) for i in told]
        repo.remember_file(file.digest, file.name, actor)
        report.committed = True
    report.issues.sort(key=lambda i: i.row)
    report.notes.sort(key=lambda i: i.row)
    return report


def _corrections(rows: Sequence[RawRow], checked: dict[int, list[RowIssue]]
                 ) -> dict[int, int]:
    """The outcome rows that another row of the file corrects (their ``corrected_by``
    filled, left out: the row at the end of the chain is imported in their place), each
    to the number of that row. A correction is the same patient's same event on the same day (the
    export fills ``corrected_by`` so, see
    :func:`~pecoma.store.repository.outcomes.corrected_by`): a ``corrected_by`` naming
    no row, the row itself, an id two rows have, or a row of another patient, event or
    day corrects nothing, and its row is refused (added to ``checked``), never left out
    unnamed. A repeated ``id`` is refused on each row after the first; every row of a
    loop of corrections (:func:`_loops`) is refused, none of it standing; so are rows of
    one event that disagree with none marked corrected (:func:`_conflicts`)."""
    first: dict[str, int] = {}
    numbers: dict[str, list[int]] = {}
    by_number = {r.number: r for r in rows}
    for row in rows:
        rid = _cell(row, "id")
        if rid is None:
            continue
        key = str(rid)
        numbers.setdefault(key, []).append(row.number)
        if key in first:
            checked[row.number].append(RowIssue(
                row.number, "id", show_value(rid),
                f"must appear only once in the file (also on row {first[key]}): a "
                "corrected_by naming it could not tell which row it means"))
        else:
            first[key] = row.number
    out: dict[int, int] = {}
    for row in rows:
        by = _cell(row, "corrected_by")
        if by is None:
            continue
        own, key = _cell(row, "id"), str(by)
        rule: str | None = None
        if own is not None and str(own) == key:
            rule = ("must be the id of another row of this file, the entry that corrects "
                    "this one: it is this row's own id, and a row cannot correct itself "
                    "(empty corrected_by to import this entry)")
        elif key not in numbers:
            rule = ("must be the id of another row of this file, the entry that corrects "
                    "this one, which is imported instead: no row has that id (put that row "
                    "back, or empty corrected_by to import this entry)")
        elif len(numbers[key]) > 1:
            rule = (f"names an id that more than one row has (rows "
                    f"{', '.join(map(str, numbers[key]))}): which of them corrects this "
                    "entry is not known (give each row its own id)")
        elif _cell(row, "event") == "death":
            rule = ("must be empty for a death: a death is recorded once, never corrected "
                    "by another entry")
        else:
            other = by_number[numbers[key][0]]
            if _event_key(other) != _event_key(row):
                rid, event, day = _event_key(other)
                rule = (f"must be the id of the row that corrects this entry: the same "
                        f"patient's same event on the same day; row {other.number} (id "
                        f"{key}) is {rid}'s {event} on {day}, not this row's, so it corrects "
                        "nothing here (give the id of the row that does, or empty "
                        "corrected_by to import this entry)")
        if rule is None:
            out[row.number] = numbers[key][0]
        else:
            checked[row.number].append(RowIssue(row.number, "corrected_by",
                                                show_value(by), rule))
    for loop in _loops(out):
        ring = " -> ".join(f"row {n} (id {_cell(by_number[n], 'id')})"
                           for n in (*loop, loop[0]))
        for n in loop:
            del out[n]
            checked[n].append(RowIssue(
                n, "corrected_by", show_value(_cell(by_number[n], "corrected_by")),
                f"must lead to the entry that stands, a row whose corrected_by is empty: "
                f"the corrections go round in a loop ({ring}), so none of these rows is "
                "the current entry and which one is not known (empty the corrected_by of "
                "the row that stands)"))
    _conflicts(rows, checked)
    return out


def _loops(corrects: dict[int, int]) -> list[list[int]]:
    """The loops of ``corrects`` (row -> the row correcting it): rows whose chain of
    corrections comes back to itself, so that no row of it stands. Each loop once, from
    its first row in the file; a row leading into a loop is not part of it (it is refused
    with the loop's rows, as a row whose correction is refused: :func:`_left_out_refused`)."""
    loops: list[list[int]] = []
    done: set[int] = set()
    for start in sorted(corrects):
        path: list[int] = []
        n = start
        while n in corrects and n not in done and n not in path:
            path.append(n)
            n = corrects[n]
        if n in path:
            loop = path[path.index(n):]
            first = loop.index(min(loop))
            loops.append(loop[first:] + loop[:first])
        done.update(path)
    return loops


def _conflicts(rows: Sequence[RawRow], checked: dict[int, list[RowIssue]]) -> None:
    """Two rows or more of the same patient's same event on the same day, none of them
    corrected (``corrected_by`` empty), that give different values (vital status, way
    found): the file says two things and does not say which stands (a corrected_by
    emptied in a spreadsheet, two tables put together). Each is refused, naming the
    others (added to ``checked``): never settled by the order of the rows nor by their
    ids. The same entry twice is recorded once, as ever."""
    standing: dict[tuple[str, str, str], list[RawRow]] = {}
    for row in rows:
        if _cell(row, "corrected_by") is None and _cell(row, "event") is not None:
            standing.setdefault(_event_key(row), []).append(row)

    def values(row: RawRow) -> tuple[str, str]:
        return (str(_cell(row, "vital_status") or ""), str(_cell(row, "found_by") or ""))

    for (rid, event, day), group in standing.items():
        if len({values(r) for r in group}) < 2:
            continue
        for row in group:
            others = ", ".join(f"row {r.number} (id {_cell(r, 'id')}: "
                               f"{' '.join(v for v in values(r) if v) or 'no value'})"
                               for r in group if r is not row)
            checked[row.number].append(RowIssue(
                row.number, "corrected_by", "(empty)",
                f"must name the entry that corrects this one when the file holds another "
                f"entry of {rid}'s {event} on {day} with another value ({others}) and "
                "none of them is marked corrected, so which one stands is not known "
                "(fill corrected_by of each row corrected with the id of the row that "
                "stands, or delete the wrong row)"))


def _event_key(row: RawRow) -> tuple[str, str, str]:
    """The patient, event and day of an outcome row as written (a date cell of a
    workbook as its day): a correction has all three of the row it corrects."""
    day = _cell(row, "event_date")
    if isinstance(day, dt.datetime):
        day = day.date()
    text = day.isoformat() if isinstance(day, dt.date) else str(day or "")[:10]
    return str(_cell(row, "registry_id") or ""), str(_cell(row, "event") or ""), text


def _left_out_refused(rows: Sequence[RawRow], corrects: dict[int, int],
                      issues: Sequence[RowIssue]) -> list[RowIssue]:
    """The rows left out for a correction that is itself refused (or left out for one
    that is): not imported either, and named, never counted as replaced by an entry that
    was not imported."""
    refused = {i.row for i in issues}
    by_number = {r.number: r for r in rows}
    out: list[RowIssue] = []
    changed = True
    while changed:
        changed = False
        for number, other in corrects.items():
            if other in refused and number not in refused:
                refused.add(number)
                changed = True
                out.append(RowIssue(
                    number, "corrected_by", show_value(_cell(by_number[number],
                                                             "corrected_by")),
                    f"not imported: the row that corrects this entry, row {other}, is "
                    "rejected, and a corrected entry is left out only for the entry that "
                    f"stands: fix row {other} and import the file again (or empty "
                    "corrected_by to import this entry)"))
    return out


def _write_outcomes(repo: Repository, report: EntriesReport,
                    good: Sequence[tuple[RawRow, OutcomeData | None]], file: FileImport, *,
                    on_date: dt.date, actor: str, rollback: bool) -> None:
    """Write the good outcome rows in one transaction, by date (a death before the other
    events of its day, as :func:`~pecoma.registry.outcomes.check_outcomes` orders them),
    each checked against the stored facts and the rows before it: a row refused there is
    reported, and in all-or-nothing mode nothing of the table is written. With
    ``rollback`` (other rows refused already) every row is checked, nothing written. A
    row equal to an entry corrected or withdrawn since is named (not recorded again when
    ``file`` was imported before)."""
    todo = sorted(((row, o) for row, o in good if o is not None),
                  key=lambda x: (x[1].event_date, x[1].event != "death", x[0].number))
    notes: list[RowIssue] = []

    def told(n: int, issues: list[FieldIssue]) -> None:
        notes.extend(RowIssue(todo[n][0].number, _NOTE_COLUMN[i.path.rsplit(".", 1)[-1]],
                              i.value, i.rule) for i in issues)

    results = record_outcome_table(
        repo, [(str(_cell(row, "registry_id")), o) for row, o in todo], on_date=on_date,
        actor=actor, all_or_nothing=report.all_or_nothing, file=file, told=told,
        rollback=rollback)
    for (row, _o), result in zip(todo, results, strict=True):
        if isinstance(result, InputError):
            report.issues += _issues(EntryTable.outcomes, row, result)
        elif result:
            report.written += 1
        else:
            report.unchanged += 1
    if rollback or (report.issues and report.all_or_nothing):
        report.written = report.unchanged = 0
        return
    refused = {i.row for i in report.issues}
    report.notes += [n for n in notes if n.row not in refused]
    report.committed = True


#: the part of an outcome's import column (``outcome.<event>.<part>``) -> the column of
#: the export's table
_NOTE_COLUMN = {"date": "event_date", "vital_status": "vital_status", "found_by": "found_by"}


def _check_outcome_row(repo: Repository, row: RawRow) -> OutcomeData:
    """The outcome's own fields and its patient; the stored facts are checked as it is
    written (:func:`record_outcome_table`)."""
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
    outcome: OutcomeData | None = None
    try:
        outcome = parse_outcome(_cell(row, "event"), _cell(row, "event_date"),
                                _cell(row, "vital_status"), _cell(row, "found_by"))
    except InputError as exc:
        issues += exc.issues
    if issues or outcome is None:
        raise InputError(issues, "outcome")
    return outcome
