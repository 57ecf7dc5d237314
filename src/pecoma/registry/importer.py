"""Import a registry file (CSV or XLSX, the layout of :mod:`pecoma.registry.columns`).

Every row is validated the same way as any other input: flat columns become a nested case,
:func:`~pecoma.case.parse_case` checks it and :func:`~pecoma.engine.assess` checks its
dates against the evaluation date. Each broken rule is reported with its row number (the
spreadsheet's: the header is row 1), column, value and what is allowed.

Optional outcome columns (``outcome.<event>.date`` and its ``vital_status`` or
``found_by``, see :data:`~pecoma.registry.outcomes.OUTCOME_COLUMNS`) record outcomes with
the row's case, checked like any outcome (against the row's case and the outcomes already
stored) and reported per cell; an outcome already stored is not recorded again.

Two modes: ``all-or-nothing`` (the default) writes nothing when any row is bad;
``good-rows`` writes the good rows and reports the bad ones. Either way the good rows go
in one transaction. Importing the same file twice changes nothing: a case identical to
the patient's latest version is not stored again.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pecoma import __version__
from pecoma.case import Case, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.assess import check_dates
from pecoma.errors import InputError, PecomaError, show_value
from pecoma.registry.cells import restore
from pecoma.registry.columns import COLUMN_NAMES, COLUMNS, REGISTRY_ID, column_for_path
from pecoma.registry.outcomes import OUTCOME_COLUMNS, check_outcomes, outcomes_of_cells
from pecoma.registry.state import plan_and_state
from pecoma.registry.stored import assessment_data
from pecoma.registry.workers import runner
from pecoma.settings import Settings
from pecoma.store.repository import (
    AddResult,
    CaseSubmission,
    OutcomeData,
    OutcomeView,
    Repository,
    ScanView,
    case_digest,
    case_text_digest,
    check_registry_id,
)

__all__ = [
    "ImportFileError",
    "ImportMode",
    "ImportReport",
    "PreparedRow",
    "RawRow",
    "RowIssue",
    "import_rows",
    "read_table",
    "validate_rows",
]

MAX_ROWS = 100_000
_INDEX = re.compile(r"\[(\d+)\]")
_REQUIRED = tuple(c.name for c in COLUMNS if c.required)


class ImportFileError(PecomaError):
    """The file cannot be read as a registry table at all (missing, not CSV/XLSX, …)."""


class ImportMode(StrEnum):
    all_or_nothing = "all-or-nothing"
    good_rows = "good-rows"


@dataclass(frozen=True, slots=True)
class RowIssue:
    """One rejected cell: spreadsheet row number (header = 1), column, value, rule."""

    row: int
    column: str
    value: str
    rule: str

    def __str__(self) -> str:
        return f"row {self.row}, column '{self.column}': {self.rule} (got {self.value})"

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class RawRow:
    """A row as read; ``problems`` are cells that cannot be read as a value at all
    (column, value, rule), e.g. a spreadsheet formula: the row is then rejected."""

    number: int
    cells: dict[str, Any]
    problems: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """A good row. ``assessment`` is ``None`` when validation only checked the dates (the
    case is then assessed when it is stored: an unchanged row never is)."""

    number: int
    registry_id: str
    submitted: dict[str, Any]
    case: Case
    assessment: Assessment | None
    outcomes: tuple[OutcomeData, ...] = ()


@dataclass(slots=True)
class ImportReport:
    """What an import read, rejected and wrote."""

    source: str
    mode: ImportMode
    rows: int = 0
    good: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    written: AddResult | None = None

    @property
    def rejected_rows(self) -> list[int]:
        return sorted({i.row for i in self.issues})

    @property
    def committed(self) -> bool:
        return self.written is not None

    def to_jsonable(self) -> dict[str, Any]:
        w = self.written
        return {
            "source": self.source,
            "mode": self.mode.value,
            "rows": self.rows,
            "good_rows": self.good,
            "rejected_rows": self.rejected_rows,
            "committed": self.committed,
            "new_patients": w.new_patients if w else 0,
            "new_case_versions": w.new_versions if w else 0,
            "unchanged": w.unchanged if w else 0,
            "new_outcomes": w.new_outcomes if w else 0,
            "issues": [i.to_dict() for i in self.issues],
        }

    def lines(self) -> list[str]:
        w = self.written
        out = [
            f"{self.source}: {self.rows} rows read, {self.good} good, "
            f"{len(self.rejected_rows)} rejected ({self.mode.value})"
        ]
        if w is not None:
            out.append(
                f"written: {w.new_patients} new patients, {w.new_versions} new case versions, "
                f"{w.unchanged} unchanged"
                + (f"; {w.new_outcomes} new outcomes" if w.new_outcomes else "")
            )
        else:
            out.append("nothing was written")
        out += [f"  - {i}" for i in self.issues]
        return out


# --- reading ------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    """A cell as the case format expects it; ``None`` for an empty cell."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        text = restore(value.strip())
        return text or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _csv_rows(reader: Any, header: list[str]) -> Iterator[RawRow]:
    for number, record in enumerate(_records(reader), start=2):
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            yield RawRow(number, {"(row)": f"{len(record)} cells for {len(header)} columns"})
        else:
            # an empty cell is most cells of a registry file: None without a call
            yield RawRow(number, {h: _cell(v) if v else None
                                  for h, v in zip(header, record, strict=False)})
        if number - 1 > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")


def _records(reader: Any, first: int = 2) -> Iterator[list[str]]:
    """The CSV records; a record the parser refuses names its row (e.g. a cell longer
    than the parser's limit of ``csv.field_size_limit()`` characters)."""
    count = 0
    while True:
        try:
            record: list[str] = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            limit = csv.field_size_limit()
            reason = (f"a cell is longer than {limit} characters" if "field larger" in str(exc)
                      else f"the CSV cannot be parsed ({exc})")
            raise ImportFileError(f"row {first + count}: {reason}; no cell of the layout "
                                  "needs that much text") from exc
        except UnicodeDecodeError as exc:
            raise ImportFileError("the CSV file must be UTF-8 text") from exc
        count += 1
        yield record


@contextlib.contextmanager
def _csv_table(path: Path) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """The header and the rows of a CSV file, read as they are used (constant memory)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            first = f.readline()
        except UnicodeDecodeError as exc:
            raise ImportFileError("the CSV file must be UTF-8 text") from exc
        f.seek(0)
        delimiter = max((",", ";", "\t"), key=first.count)
        reader = csv.reader(f, delimiter=delimiter)
        head = next(_records(reader, first=1), None)
        if head is None:
            raise ImportFileError("the file is empty: a header row is needed (see the template)")
        header = [h.strip() for h in head]
        yield header, _csv_rows(reader, header)


_FORMULA_RULE = ("must hold a value, not a formula (copy the column and paste it as "
                 "values; a formula's result may be missing or out of date)")
_ERROR_RULE = "must hold a value, not a spreadsheet error (fix the cell or leave it empty)"


def _merged_ranges(path: Path, ws: Any) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only sheet as (min_col, min_row, max_col, max_row):
    openpyxl's read-only mode does not read them, so they come from the sheet's XML."""
    from defusedxml.ElementTree import iterparse
    from openpyxl.utils.cell import range_boundaries

    sheet = getattr(ws, "_worksheet_path", None)
    if not isinstance(sheet, str):
        return []
    out = []
    with zipfile.ZipFile(path) as z, z.open(sheet.lstrip("/")) as f:
        for _event, elem in iterparse(f):
            if elem.tag.endswith("}mergeCell") and elem.get("ref"):
                min_col, min_row, max_col, max_row = range_boundaries(str(elem.get("ref")))
                if None not in (min_col, min_row, max_col, max_row):
                    out.append((int(min_col or 0), int(min_row or 0), int(max_col or 0),
                                int(max_row or 0)))
            elif not elem.tag.endswith(("}mergeCells", "}mergeCell")):
                elem.clear()
    return out


def _xlsx_rows(cells_by_row: Iterator[Any], header: list[str],
               merged: list[tuple[int, int, int, int]]) -> Iterator[RawRow]:
    from openpyxl.utils import get_column_letter

    def name_of(col: int) -> str:
        return header[col - 1] if 0 < col <= len(header) and header[col - 1] else \
            f"column {get_column_letter(col)}"

    count = 0
    for number, cells in enumerate(cells_by_row, start=2):
        problems: list[tuple[str, str, str]] = []
        record: list[Any] = []
        for col, c in enumerate(cells, start=1):
            kind = getattr(c, "data_type", None)
            if kind == "f" or (kind != "s" and isinstance(c.value, str)
                               and c.value.startswith("=")):
                problems.append((name_of(col), show_value(c.value), _FORMULA_RULE))
                record.append(None)
            elif kind == "e":
                problems.append((name_of(col), show_value(c.value), _ERROR_RULE))
                record.append(None)
            else:
                record.append(c.value)
        for min_col, min_row, max_col, max_row in merged:
            if min_row <= number <= max_row:
                ref = (f"{get_column_letter(min_col)}{min_row}:"
                       f"{get_column_letter(max_col)}{max_row}")
                problems += [(name_of(col), "(merged cells)",
                              f"must not be part of merged cells ({ref}): unmerge them "
                              "and fill each cell") for col in range(min_col, max_col + 1)]
        if not problems and all(_cell(v) is None for v in record):
            continue  # an empty (perhaps only formatted) line
        extra = [v for v in record[len(header):] if _cell(v) is not None]
        if extra:
            yield RawRow(number, {"(row)": "cells beyond the last named column"})
        else:
            yield RawRow(number, {h: _cell(v) for h, v in zip(header, record, strict=False)},
                         tuple(problems))
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")


@contextlib.contextmanager
def _xlsx_table(path: Path) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """The header and the rows of the ``cases`` sheet (else the first), streamed."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        hidden = [s.title for s in wb.worksheets if s.sheet_state != "visible"]
        if hidden:
            names = ", ".join(repr(n) for n in hidden)
            raise ImportFileError(f"the workbook has hidden sheets ({names}): unhide or "
                                  "delete them, so that what is imported can be seen")
        ws = wb["cases"] if "cases" in wb.sheetnames else wb.worksheets[0]
        merged = _merged_ranges(path, ws)
        it = ws.iter_rows()
        first = next(it, None)
        if first is None:
            raise ImportFileError("the sheet is empty: a header row is needed (see the template)")
        header = [str(c.value).strip() if c.value is not None else "" for c in first]
        while header and header[-1] == "":
            header.pop()
        yield header, _xlsx_rows(it, header, merged)
    finally:
        wb.close()


@contextlib.contextmanager
def open_table(path: Path) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """The header and rows of a ``.csv`` or ``.xlsx`` file, read as the rows are used;
    :class:`ImportFileError` when it cannot be read as a table."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError(
            f"'file' must be a .csv or .xlsx file (got {show_value(path.name)})"
        )
    if not path.exists():
        raise ImportFileError(f"file not found: {path}")
    if path.is_dir():
        raise ImportFileError(f"path is a directory, not a file: {path}")
    try:
        with (_xlsx_table(path) if suffix == ".xlsx" else _csv_table(path)) as table:
            yield table
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from exc


def read_table(path: Path) -> tuple[list[str], list[RawRow]]:
    """The header and all rows of a ``.csv`` or ``.xlsx`` file (see :func:`open_table`)."""
    with open_table(path) as (header, rows):
        return header, list(rows)


# --- validating ---------------------------------------------------------------------


def header_issues(header: Sequence[str]) -> list[RowIssue]:
    """Problems with the header row (row 1): unknown, repeated or missing columns."""
    issues: list[RowIssue] = []
    seen: set[str] = set()
    for name in header:
        if name == "":
            issues.append(RowIssue(1, "(header)", "''", "every column needs a name"))
        elif name not in COLUMN_NAMES and name not in OUTCOME_COLUMNS:
            issues.append(
                RowIssue(1, name, show_value(name),
                         "is not a column of the registry layout (see the template)")
            )
        elif name in seen:
            issues.append(RowIssue(1, name, show_value(name), "must appear only once"))
        seen.add(name)
    for name in _REQUIRED:
        if name not in seen:
            issues.append(RowIssue(1, name, "(missing)", "is a required column"))
    return issues


def _nest(cells: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[int, int]]]:
    """Flat ``a.b[0].c`` cells -> a nested dict; list slots are packed (gaps removed).

    Returns the dict and, per list path, new index -> original slot (for error reports).
    """
    tree: dict[str, Any] = {}
    slots: dict[str, dict[int, dict[str, Any]]] = {}
    for name, value in cells.items():
        if value is None or name == REGISTRY_ID:
            continue
        m = _INDEX.search(name)
        if m:
            list_path = name[: m.start()]
            rest = name[m.end() + 1 :]
            slots.setdefault(list_path, {}).setdefault(int(m.group(1)), {})[rest] = value
            continue
        _put(tree, name.split("."), value)
    remap: dict[str, dict[int, int]] = {}
    for list_path, by_slot in slots.items():
        items = []
        remap[list_path] = {}
        for new, old in enumerate(sorted(by_slot)):
            item: dict[str, Any] = {}
            for rest, value in by_slot[old].items():
                _put(item, rest.split("."), value)
            items.append(item)
            remap[list_path][new] = old
        _put(tree, list_path.split("."), items)
    return tree, remap


def _put(tree: dict[str, Any], parts: list[str], value: Any) -> None:
    node = tree
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def _column(path: str, remap: dict[str, dict[int, int]]) -> str:
    m = _INDEX.search(path)
    if m:
        list_path = path[: m.start()]
        slot = remap.get(list_path, {}).get(int(m.group(1)), int(m.group(1)))
        path = f"{list_path}[{slot}]{path[m.end():]}"
    return column_for_path(path)


def validate_rows(
    rows: Iterable[RawRow], on_date: dt.date, settings: Settings, *, assess_rows: bool = True
) -> tuple[list[PreparedRow], list[RowIssue]]:
    """Good rows, and the issues of the bad ones (a row is good only with no issue).

    With ``assess_rows`` false, the engine's only check of a case, its dates against the
    evaluation date (:func:`~pecoma.engine.check_dates`), is made without the whole
    assessment (an import assesses only the rows it stores).
    """
    good: list[PreparedRow] = []
    issues: list[RowIssue] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        row, row_issues = _check_row(raw, first_row, on_date, settings, assess_rows)
        issues += row_issues
        if row is not None:
            good.append(row)
    return good, issues


def _is_empty(raw: RawRow) -> bool:
    return not raw.problems and all(v is None for v in raw.cells.values())


def _check_row(
    raw: RawRow, first_row: dict[str, int], on_date: dt.date, settings: Settings,
    assess_rows: bool,
) -> tuple[PreparedRow | None, list[RowIssue]]:
    """One row: the good row, or its issues (``first_row`` tracks registry ids seen)."""
    cells = raw.cells
    if _is_empty(raw):
        return None, []  # an empty line
    if "(row)" in cells:
        return None, [RowIssue(raw.number, "(row)", show_value(cells["(row)"]),
                               "every cell must be under a named column")]
    row_issues = [RowIssue(raw.number, column, value, rule)
                  for column, value, rule in raw.problems]
    rid_raw = cells.get(REGISTRY_ID)
    rid: str | None = None
    try:
        rid = check_registry_id("" if rid_raw is None else str(rid_raw))
    except InputError as exc:
        value = "(missing)" if rid_raw is None else exc.issues[0].value
        row_issues.append(RowIssue(raw.number, REGISTRY_ID, value, exc.issues[0].rule))
    if rid is not None:
        if rid in first_row:
            row_issues.append(
                RowIssue(raw.number, REGISTRY_ID, show_value(rid),
                         f"must appear only once in a file (also on row {first_row[rid]})")
            )
        else:
            first_row[rid] = raw.number
    outcome_cells = {k: v for k, v in cells.items() if k in OUTCOME_COLUMNS}
    outcomes, outcome_issues = outcomes_of_cells(outcome_cells)
    row_issues += [RowIssue(raw.number, i.path, i.value, i.rule) for i in outcome_issues]
    if outcome_cells:
        cells = {k: v for k, v in cells.items() if k not in OUTCOME_COLUMNS}
    submitted, remap = _nest(cells)
    case: Case | None = None
    a: Assessment | None = None
    try:
        case = parse_case(submitted, source=f"row {raw.number}")
        if assess_rows:
            a = assess(case, on_date, settings)
        else:
            check_dates(case, on_date)
    except InputError as exc:
        row_issues += [
            RowIssue(raw.number, _column(i.path, remap), i.value, i.rule) for i in exc.issues
        ]
    if case is not None and outcomes and not row_issues:
        row_issues += _outcome_issues(raw.number, submitted, (), outcomes, on_date)
    if row_issues or case is None or rid is None:
        return None, row_issues
    return PreparedRow(raw.number, rid, submitted, case, a, tuple(outcomes)), []


def _outcome_issues(
    number: int,
    case_data: dict[str, Any],
    stored: Sequence[OutcomeView],
    outcomes: Sequence[OutcomeData],
    on_date: dt.date,
) -> list[RowIssue]:
    """The row's outcomes checked against its case and the stored outcomes, each issue
    in the column of the outcome's date."""
    try:
        check_outcomes(case_data, stored, (), outcomes, on_date, columns=True)
    except InputError as exc:
        return [RowIssue(number, i.path, i.value, i.rule) for i in exc.issues]
    return []


def _against_store(
    row: _Done, stored: dict[str, tuple[OutcomeView, ...]], on_date: dt.date
) -> list[RowIssue]:
    """The issues of a good row whose outcomes disagree with the outcomes already stored
    for its patient (an outcome already stored is not new)."""
    if not row.outcomes or row.submitted is None:
        return []
    known = stored.get(row.registry_id, ())
    new = [o for o in row.outcomes if not any(o.same_fact(v) for v in known)]
    return _outcome_issues(row.number, row.submitted, known, new, on_date)


def _check_outcomes_at(on_date: dt.date) -> Any:
    def check(case: dict[str, Any] | None, stored: tuple[OutcomeView, ...],
              scans: tuple[ScanView, ...], new: Sequence[OutcomeData]) -> list[OutcomeData]:
        return check_outcomes(case, stored, scans, new, on_date)

    return check


# --- importing ----------------------------------------------------------------------


BATCH_ROWS = 1000
"""Rows written per batch (all batches in one transaction)."""
CHUNK_ROWS = 250
"""Rows per piece of engine work (parse, assess, plan) handed to a worker process."""
POOL_MIN_ROWS = 5000
"""Files with fewer rows (or bytes / 400 for a file) are assessed in this process."""


class _Rejected(Exception):
    """An all-or-nothing import met a bad row: the transaction is rolled back."""


@dataclass(frozen=True, slots=True)
class _Task:
    """One piece of engine work: rows with, per row, the row number a registry id was
    first seen on (duplicates), the stored (version, digest) and the patient's scans."""

    rows: tuple[tuple[RawRow, dict[str, int], tuple[int, str] | None, tuple[Any, ...],
                      int | None], ...]
    on_date: dt.date
    settings: Settings
    source: str
    write: bool


@dataclass(frozen=True, slots=True)
class _Done:
    """A row after the engine: its issues, or what is stored of it (``None`` when it is
    identical to the stored version, ``identical``, or not needed)."""

    number: int
    issues: list[RowIssue]
    registry_id: str = ""
    submitted: dict[str, Any] | None = None
    outcomes: tuple[OutcomeData, ...] = ()
    submission: CaseSubmission | None = None
    identical: int | None = None


def _engine_rows(task: _Task) -> list[_Done]:
    """Check, assess and plan the rows of ``task`` (pure: no database, no shared state;
    run in a worker process for a large file). A row identical to its patient's stored
    version is only checked."""
    out: list[_Done] = []
    for raw, first_row, stored, scans, same in task.rows:
        if same is not None:  # known unchanged (see _unchanged): not parsed again
            out.append(_Done(raw.number, [], str(raw.cells[REGISTRY_ID]), identical=same))
            continue
        row, issues = _check_row(raw, dict(first_row), task.on_date, task.settings, False)
        if row is None:
            out.append(_Done(raw.number, issues))
            continue
        digest = case_digest(row.case.model_dump(mode="json"))
        if stored is not None and stored[1] == digest and not row.outcomes:
            out.append(_Done(row.number, [], row.registry_id, row.submitted,
                             identical=stored[0]))
            continue
        sub: CaseSubmission | None = None
        if task.write:
            a = assess(row.case, task.on_date, task.settings)
            due, state = plan_and_state(row.case, a, task.on_date, scans, task.settings)
            sub = CaseSubmission(
                registry_id=row.registry_id,
                submitted=row.submitted,
                digest=digest,
                source=f"{task.source} row {row.number}",
                assessment=assessment_data(a, due, "import"),
                state=state,
                outcomes=row.outcomes,
            )
        out.append(_Done(row.number, [], row.registry_id, row.submitted, row.outcomes, sub))
    return out


def import_rows(
    repo: Repository,
    header: Sequence[str],
    rows: Sequence[RawRow],
    *,
    source: str,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    mode: ImportMode = ImportMode.all_or_nothing,
    workers: int = 1,
) -> ImportReport:
    """Validate ``rows`` and write the good ones (all of them, or none: see ``mode``).

    ``workers`` above 1: the engine work (parse, assess, plan) of at least
    :data:`POOL_MIN_ROWS` rows is shared by that many worker processes (started with
    ``spawn``: the calling program's main module must be import-safe); what is stored
    is the same either way.
    """
    if len(rows) < POOL_MIN_ROWS:
        workers = 1
    return _import(repo, header, lambda: iter(rows), source=source, on_date=on_date,
                   settings=settings, actor=actor, mode=mode, workers=workers)


def import_file(
    repo: Repository,
    path: Path,
    *,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    mode: ImportMode = ImportMode.all_or_nothing,
    workers: int = 1,
) -> ImportReport:
    """Read ``path`` (CSV or XLSX) and import it; see :func:`import_rows` (a file of
    fewer than about 400 bytes per :data:`POOL_MIN_ROWS` rows is assessed in this process).

    The file is read once, row by row, in one transaction: each row is checked, and the
    good ones are assessed and written in batches of :data:`BATCH_ROWS`; memory stays that
    of a few batches, whatever the number of rows. A bad row in an all-or-nothing import
    rolls the transaction back (the remaining rows are still checked for the report).
    """

    def again() -> Iterator[RawRow]:
        with open_table(path) as (_header, rows):
            yield from rows

    with open_table(path) as (header, _rows):
        pass
    if path.stat().st_size < POOL_MIN_ROWS * 400:
        workers = 1
    return _import(repo, header, again, source=path.name, on_date=on_date,
                   settings=settings, actor=actor, mode=mode, workers=workers)


def _first_rows(raw: RawRow, seen: dict[str, int]) -> tuple[dict[str, int], str]:
    """What :func:`_check_row` needs of the rows before ``raw`` (the row its registry id
    was first seen on, if any; ``seen`` is updated as :func:`_check_row` would), and the
    row's registry id (``""`` when it has none)."""
    if "(row)" in raw.cells:
        return {}, ""
    rid_raw = raw.cells.get(REGISTRY_ID)
    try:
        rid = check_registry_id("" if rid_raw is None else str(rid_raw))
    except InputError:
        return {}, ""
    if rid in seen:
        return {rid: seen[rid]}, rid
    seen[rid] = raw.number
    return {}, rid


def _unchanged(raw: RawRow, stored: str | None, outcome_columns: Sequence[str]) -> bool:
    """The row holds exactly the case data stored as its patient's latest version, which
    passed the same checks as of an earlier date (``stored``: see
    :meth:`~pecoma.store.repository.Repository.import_basis`): it is good and unchanged
    without being parsed again. A row with a cell problem or an outcome is never."""
    if stored is None or raw.problems or "(row)" in raw.cells:
        return False
    if any(raw.cells.get(c) is not None for c in outcome_columns):
        return False
    submitted, _remap = _nest(raw.cells)
    return case_text_digest(submitted) == stored


def _import(
    repo: Repository,
    header: Sequence[str],
    rows: Callable[[], Iterator[RawRow]],
    *,
    source: str,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    mode: ImportMode,
    workers: int = 1,
) -> ImportReport:
    report = ImportReport(source=source, mode=mode)
    report.issues = header_issues(header)
    if report.issues:
        report.rows = sum(1 for r in rows() if not _is_empty(r))
        return report  # a wrong header makes every row doubtful: nothing is imported
    basis = repo.import_basis(__version__, on_date)
    scans = repo.scans_by_registry_id()
    outcome_columns = [h for h in header if h in OUTCOME_COLUMNS]
    stored = (repo.outcomes_by_registry_id()
              if any(h in OUTCOME_COLUMNS for h in header) else {})
    identical: dict[str, int] = {}
    strict = mode is ImportMode.all_or_nothing

    def tasks() -> Iterator[_Task]:
        seen: dict[str, int] = {}
        chunk: list[tuple[RawRow, dict[str, int], tuple[int, str] | None,
                          tuple[Any, ...], int | None]] = []
        for raw in rows():
            if _is_empty(raw):
                continue
            first, rid = _first_rows(raw, seen)
            known = basis.get(rid)
            if known is not None and not first and _unchanged(raw, known[2], outcome_columns):
                chunk.append((RawRow(raw.number, {REGISTRY_ID: rid}), {}, None, (), known[0]))
            else:
                chunk.append((raw, first, known[:2] if known else None, scans.get(rid, ()),
                              None))
            if len(chunk) >= CHUNK_ROWS:
                yield _Task(tuple(chunk), on_date, settings, source,
                            not (strict and report.issues))
                chunk = []
        if chunk:
            yield _Task(tuple(chunk), on_date, settings, source,
                        not (strict and report.issues))

    def batches(run: Callable[[Iterable[_Task]], Iterator[list[_Done]]]
                ) -> Iterator[list[CaseSubmission]]:
        # (again, from the start, should the transaction be retried)
        report.rows = report.good = 0
        report.issues = []
        identical.clear()
        batch: list[CaseSubmission] = []
        for done in run(tasks()):
            for d in done:
                report.rows += 1
                issues = d.issues
                if not issues:
                    issues = _against_store(d, stored, on_date)
                if issues:
                    report.issues += issues
                    continue
                report.good += 1
                if d.identical is not None:
                    identical[d.registry_id] = d.identical
                elif not (strict and report.issues):
                    if d.submission is None:
                        raise ImportFileError(f"row {d.number} was not assessed")
                    batch.append(d.submission)
            if strict and report.issues:
                batch = []  # nothing more is written: the transaction is rolled back
            while len(batch) >= BATCH_ROWS:
                yield batch[:BATCH_ROWS]
                batch = batch[BATCH_ROWS:]
        while batch:
            yield batch[:BATCH_ROWS]
            batch = batch[BATCH_ROWS:]
        if strict and report.issues:
            raise _Rejected

    with runner(_engine_rows, workers) as run:
        try:
            report.written = repo.add_case_batches(lambda: batches(run), actor,
                                                   _check_outcomes_at(on_date))
        except _Rejected:
            return report
    report.written.unchanged += len(identical)
    report.written.versions.update(identical)
    return report
