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

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pecoma.case import Case, parse_case
from pecoma.engine import Assessment, assess
from pecoma.engine.assess import check_dates
from pecoma.errors import InputError, PecomaError, show_value
from pecoma.registry.columns import COLUMN_NAMES, COLUMNS, REGISTRY_ID, column_for_path
from pecoma.registry.outcomes import OUTCOME_COLUMNS, check_outcomes, outcomes_of_cells
from pecoma.registry.state import plan_and_state
from pecoma.settings import Settings
from pecoma.store.repository import (
    AddResult,
    AssessmentData,
    CaseSubmission,
    OutcomeData,
    OutcomeView,
    Repository,
    ScanView,
    case_digest,
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
    number: int
    cells: dict[str, Any]


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
        text = value.strip()
        return text or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _csv_table(text: str) -> tuple[list[str], list[RawRow]]:
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[RawRow] = []
    for number, record in enumerate(reader, start=1):
        if header is None:
            header = [h.strip() for h in record]
            continue
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            rows.append(RawRow(number, {"(row)": f"{len(record)} cells for "
                                        f"{len(header)} columns"}))
            continue
        rows.append(RawRow(number, {h: _cell(v) for h, v in zip(header, record, strict=False)}))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")
    if header is None:
        raise ImportFileError("the file is empty: a header row is needed (see the template)")
    return header, rows


def _xlsx_table(data: bytes) -> tuple[list[str], list[RawRow]]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ImportFileError(f"not a readable XLSX workbook ({type(exc).__name__})") from exc
    try:
        ws = wb["cases"] if "cases" in wb.sheetnames else wb.worksheets[0]
        it = ws.iter_rows(values_only=True)
        first = next(it, None)
        if first is None:
            raise ImportFileError("the sheet is empty: a header row is needed (see the template)")
        header = [str(h).strip() if h is not None else "" for h in first]
        while header and header[-1] == "":
            header.pop()
        rows: list[RawRow] = []
        for number, record in enumerate(it, start=2):
            if all(_cell(v) is None for v in record):
                continue  # an empty (perhaps only formatted) line
            extra = [v for v in record[len(header):] if _cell(v) is not None]
            if extra:
                rows.append(RawRow(number, {"(row)": "cells beyond the last named column"}))
                continue
            rows.append(
                RawRow(number, {h: _cell(v) for h, v in zip(header, record, strict=False)})
            )
            if len(rows) > MAX_ROWS:
                raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")
        return header, rows
    finally:
        wb.close()


def read_table(path: Path) -> tuple[list[str], list[RawRow]]:
    """The header and rows of a ``.csv`` or ``.xlsx`` file; :class:`ImportFileError` else."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError(
            f"'file' must be a .csv or .xlsx file (got {show_value(path.name)})"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ImportFileError(f"file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise ImportFileError(f"path is a directory, not a file: {path}") from exc
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from exc
    if suffix == ".xlsx":
        return _xlsx_table(data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportFileError("the CSV file must be UTF-8 text") from exc
    return _csv_table(text)


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
    assessment, which :func:`submissions` makes for the rows it stores.
    """
    good: list[PreparedRow] = []
    issues: list[RowIssue] = []
    first_row: dict[str, int] = {}
    for raw in rows:
        cells = raw.cells
        if all(v is None for v in cells.values()):
            continue  # an empty line
        if "(row)" in cells:
            issues.append(RowIssue(raw.number, "(row)", show_value(cells["(row)"]),
                                   "every cell must be under a named column"))
            continue
        row_issues: list[RowIssue] = []
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
        if row_issues:
            issues += row_issues
        elif case is not None and rid is not None:
            good.append(PreparedRow(raw.number, rid, submitted, case, a, tuple(outcomes)))
    return good, issues


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
    good: Sequence[PreparedRow], repo: Repository, on_date: dt.date
) -> tuple[list[PreparedRow], list[RowIssue]]:
    """The rows whose outcomes agree with the outcomes already stored, and the issues of
    the others."""
    if not any(row.outcomes for row in good):
        return list(good), []
    stored = repo.outcomes_by_registry_id()
    keep: list[PreparedRow] = []
    issues: list[RowIssue] = []
    for row in good:
        found = (_outcome_issues(row.number, row.submitted, stored.get(row.registry_id, ()),
                                 [o for o in row.outcomes
                                  if not any(o.same_fact(v)
                                             for v in stored.get(row.registry_id, ()))],
                                 on_date)
                 if row.outcomes else [])
        if found:
            issues += found
        else:
            keep.append(row)
    return keep, issues


def _check_outcomes_at(on_date: dt.date) -> Any:
    def check(case: dict[str, Any] | None, stored: tuple[OutcomeView, ...],
              scans: tuple[ScanView, ...], new: Sequence[OutcomeData]) -> list[OutcomeData]:
        return check_outcomes(case, stored, scans, new, on_date)

    return check


# --- importing ----------------------------------------------------------------------


def submissions(
    good: Sequence[PreparedRow],
    repo: Repository,
    on_date: dt.date,
    settings: Settings,
    source: str,
    reason: str = "import",
) -> tuple[list[CaseSubmission], dict[str, int]]:
    """Stored form of the good rows that differ from the latest stored version, each with
    its assessment and next due date as of ``on_date`` and the patient's worklist state
    (the plan is drawn once for both); and the rows identical to it (registry id ->
    version number), which are not written again.
    """
    latest = repo.latest_digests()
    todo = []
    identical: dict[str, int] = {}
    for row in good:
        digest = case_digest(row.case.model_dump(mode="json"))
        version, stored = latest.get(row.registry_id, (0, ""))
        if stored == digest and not row.outcomes:
            identical[row.registry_id] = version
        else:
            todo.append((row, digest))
    scans = repo.scans_by_registry_id() if todo else {}
    out = []
    for row, digest in todo:
        a = row.assessment or assess(row.case, on_date, settings)
        due, state = plan_and_state(row.case, a, on_date,
                                    scans.get(row.registry_id, ()), settings)
        out.append(
            CaseSubmission(
                registry_id=row.registry_id,
                submitted=row.submitted,
                digest=digest,
                source=f"{source} row {row.number}",
                assessment=AssessmentData.of(a, due, reason),
                state=state,
                outcomes=row.outcomes,
            )
        )
    return out, identical


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
) -> ImportReport:
    """Validate ``rows`` and write the good ones (all of them, or none: see ``mode``)."""
    report = ImportReport(source=source, mode=mode)
    report.rows = sum(1 for r in rows if any(v is not None for v in r.cells.values()))
    report.issues = header_issues(header)
    if report.issues:
        return report  # a wrong header makes every row doubtful: nothing is imported
    good, issues = validate_rows(rows, on_date, settings, assess_rows=False)
    good, stored_issues = _against_store(good, repo, on_date)
    issues = sorted([*issues, *stored_issues], key=lambda i: i.row)
    report.good = len(good)
    report.issues = issues
    if issues and mode is ImportMode.all_or_nothing:
        return report
    todo, identical = submissions(good, repo, on_date, settings, source)
    report.written = (
        repo.add_cases(todo, actor, _check_outcomes_at(on_date)) if todo else AddResult()
    )
    report.written.unchanged += len(identical)
    report.written.versions.update(identical)
    return report


def import_file(
    repo: Repository,
    path: Path,
    *,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    mode: ImportMode = ImportMode.all_or_nothing,
) -> ImportReport:
    """Read ``path`` (CSV or XLSX) and import it; see :func:`import_rows`."""
    header, rows = read_table(path)
    return import_rows(
        repo, header, rows, source=path.name, on_date=on_date, settings=settings,
        actor=actor, mode=mode,
    )
