"""Reading a registry file (CSV or XLSX, the layout of :mod:`pecoma.registry.columns`)
into rows of cells, streamed as they are used.

A cell that cannot be read as a value at all (a spreadsheet formula or error, part of
merged cells, text holding a character :data:`pecoma.text.TEXT_RULE` refuses, such as a
NUL) is kept as a problem of its row, for the per-cell report of
:mod:`pecoma.registry.import_check`; a file that cannot be read as a table raises
:class:`ImportFileError`. An XLSX cell that openpyxl reads as a Python time or duration
(a date before 1900, a time of day, a duration) is read as the spreadsheet shows it, so
that a refusal shows that value (:func:`_shown`).

A number cell of a CSV file separated by semicolons or tabs may hold a decimal comma
(``9,5``), as a spreadsheet set to such a language writes it; elsewhere a number takes a
decimal point (the rule, one for the import and the case form: :mod:`pecoma.numbers`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pecoma.errors import PecomaError, show_value
from pecoma.numbers import ambiguous_separator, parse_number
from pecoma.registry.cells import restore
from pecoma.registry.columns import column_kind
from pecoma.text import TEXT_RULE, shown, text_is_odd

__all__ = ["MAX_PACKING_RATIO", "MAX_ROWS", "MAX_UNPACKED_BYTES", "SHEET", "ImportFileError",
           "RawRow", "Table", "open_table", "read_table"]

MAX_ROWS = 100_000


class ImportFileError(PecomaError):
    """The file cannot be read as a registry table at all (missing, not CSV/XLSX, …)."""



class Table(NamedTuple):
    """A file opened as a table: its header, its rows (streamed) and, for a workbook, the
    title of the sheet read (``None`` for a CSV file)."""

    header: list[str]
    rows: Iterator[RawRow]
    sheet: str | None = None


@dataclass(frozen=True, slots=True)
class RawRow:
    """A row as read; ``problems`` are cells that cannot be read as a value at all
    (column, value, rule), e.g. a spreadsheet formula: the row is then rejected."""

    number: int
    cells: dict[str, Any]
    problems: tuple[tuple[str, str, str], ...] = ()



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


def _clock(seconds: float) -> str:
    """A time of day or a duration as a spreadsheet shows it: hours and minutes (and
    seconds when there are any), the hours of a duration counted on past 24 (72:00)."""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    hours, rest = divmod(abs(total), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _shown(cell: Any, day_zero: dt.date) -> Any:
    """A cell that openpyxl reads as a Python time or duration, as the spreadsheet shows
    it. A number below 1 in a date format is day 0 of the workbook's date system
    (1899-12-31, as a spreadsheet writes a date before 1900; 1904-01-01 in the 1904 system)
    at that time of day; in a time format it is a time of day ("06:00"); a number in a
    duration format is a duration ("72:00" for 3 days)."""
    from openpyxl.styles.numbers import is_datetime

    value = cell.value
    if isinstance(value, dt.timedelta):
        return _clock(value.total_seconds())
    if is_datetime(cell.number_format) in ("date", "datetime"):
        return dt.datetime.combine(day_zero, value)
    return _clock(value.hour * 3600 + value.minute * 60 + value.second)


def _header_cell(text: str) -> str:
    """A header cell, the spaces around it taken off; one holding a character the text
    rule refuses is kept whole (stripping would take some of them off, ``\x1f`` or
    ``\x0b`` after a column name, and let it pass), to be refused with its position
    (:func:`~pecoma.registry.import_check.header_issues`)."""
    return text if text_is_odd(text) else text.strip()


def _odd_cells(cells: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The text cells breaking :data:`~pecoma.text.TEXT_RULE`, as row problems."""
    return [(h, shown(v), TEXT_RULE) for h, v in cells.items()
            if isinstance(v, str) and text_is_odd(v)]


def _csv_rows(reader: Any, header: list[str], path: Path, decimal_comma: bool
              ) -> Iterator[RawRow]:
    numbers = [h for h in header if column_kind(h) == "number"] if decimal_comma else []
    for number, record in enumerate(_records(reader, path), start=2):
        if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
            yield RawRow(number, {"(row)": f"{len(record)} cells for {len(header)} columns"})
            continue
        # an empty cell is most cells of a registry file: None without a call
        cells = {h: _cell(v) if v else None for h, v in zip(header, record, strict=False)}
        odd = _odd_cells(cells) if text_is_odd("".join(record)) else []
        for h in numbers:
            value = cells.get(h)
            if not isinstance(value, str):
                continue
            two_ways = ambiguous_separator(value, decimal_comma=True)
            if two_ways:  # 5.000 or 1,500 beside decimal commas: which is meant?
                odd.append((h, shown(value), two_ways))
            elif "," in value:
                cells[h] = parse_number(value, decimal_comma=True) or value
        yield RawRow(number, cells, tuple(odd))
        if number - 1 > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")


def _records(reader: Any, path: Path, first: int = 2) -> Iterator[list[str]]:
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
            raise ImportFileError(_not_utf8_at(path)) from exc
        count += 1
        yield record


_NOT_UTF8 = ("the CSV file must be UTF-8 text: save it as 'CSV UTF-8' (a spreadsheet's "
             "plain 'CSV' may write another encoding)")


def _not_utf8_at(path: Path) -> str:
    """The message naming the row and byte of the first text that is not UTF-8."""
    data = path.read_bytes()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        return (f"row {row}: byte 0x{data[exc.start]:02x} is not UTF-8 text; {_NOT_UTF8}")
    return _NOT_UTF8


@contextlib.contextmanager
def _csv_table(path: Path) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """The header and the rows of a CSV file, read as they are used (constant memory)."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        try:
            first = f.readline()
        except UnicodeDecodeError as exc:
            raise ImportFileError(_not_utf8_at(path)) from exc
        f.seek(0)
        delimiter = max((",", ";", "\t"), key=first.count)
        reader = csv.reader(f, delimiter=delimiter)
        head = next(_records(reader, path, first=1), None)
        if head is None:
            raise ImportFileError("the file is empty: a header row is needed (see the template)")
        header = [_header_cell(h) for h in head]
        while header and header[-1] == "":  # trailing delimiters, as spreadsheets save them
            header.pop()
        # a semicolon or a tab between cells leaves the comma free to be a decimal one
        yield header, _csv_rows(reader, header, path, decimal_comma=delimiter != ",")


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
               merged: list[tuple[int, int, int, int]], day_zero: dt.date) -> Iterator[RawRow]:
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
            elif isinstance(c.value, dt.time | dt.timedelta):
                record.append(_shown(c, day_zero))
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
            cells = {h: _cell(v) for h, v in zip(header, record, strict=False)}
            yield RawRow(number, cells, (*problems, *_odd_cells(cells)))
        count += 1
        if count > MAX_ROWS:
            raise ImportFileError(f"the file has more than {MAX_ROWS} rows; split it")


#: What reading a damaged workbook raises (bad zip or XML, a missing part, a cell value or
#: reference that is no number): the file, not pecoma, is at fault.
_DAMAGED = (zipfile.BadZipFile, KeyError, ValueError, IndexError, TypeError, EOFError,
            SyntaxError, zlib.error)


def _damaged(exc: BaseException) -> ImportFileError:
    return ImportFileError(f"not a readable XLSX workbook ({type(exc).__name__})")


def _read_or_damaged(rows: Iterator[Any]) -> Iterator[Any]:
    """``rows``, a damaged part of the workbook met while streaming them said as such."""
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except _DAMAGED as exc:
            raise _damaged(exc) from exc
        yield row


#: Day 0 of a workbook's 1900 date system, the day before 1900-01-01 (a spreadsheet shows it
#: as 1900-01-00).
_DAY_ZERO = dt.date(1899, 12, 31)

MAX_UNPACKED_BYTES = 512 * 1024 * 1024
"""The most a workbook may unpack to, all its parts together (a sheet of 100,000 rows of
the registry's columns is well under 200 MB of XML)."""
MAX_PACKING_RATIO = 200
"""The most a part of over 1 MB may unpack to, in times its packed size (a spreadsheet
program's sheet packs 10–30 times; a few hundred kB that unpack to gigabytes are made to
exhaust the server)."""


def _check_unpacked(path: Path) -> None:
    """Refuse a workbook whose parts would unpack to far more than a registry export does,
    before any of it is unpacked (the sizes a part declares bound what is read of it)."""
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except _DAMAGED as exc:
        raise _damaged(exc) from exc
    total = sum(p.file_size for p in parts)
    if total > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            f"the workbook unpacks to {total / 2**20:,.0f} MB (at most "
            f"{MAX_UNPACKED_BYTES // 2**20} MB is read): split it, or import it as CSV")
    for p in parts:
        if p.file_size > 2**20 and p.file_size > MAX_PACKING_RATIO * max(1, p.compress_size):
            raise ImportFileError(
                f"part {show_value(p.filename)} of the workbook unpacks to "
                f"{p.file_size / 2**20:,.0f} MB from {p.compress_size:,} bytes (more than "
                f"{MAX_PACKING_RATIO} times): not a spreadsheet program's file; save it "
                "again from the spreadsheet program, or import it as CSV")


SHEET = "cases"
"""The name of the sheet a workbook is imported from (the template's)."""


def _sheet_named(titles: list[str], name: str) -> int:
    """The index of the sheet to read: the one named ``name`` whatever its letter case and
    the spaces around it, else the only sheet; :class:`ImportFileError` naming the sheets
    when several are so named, or when there are several and none is."""
    key = name.casefold()
    named = [i for i, t in enumerate(titles) if t.strip().casefold() == key]
    listed = ", ".join(repr(t) for t in titles)
    if len(named) == 1:
        return named[0]
    if len(named) > 1:
        found = ", ".join(repr(titles[i]) for i in named)
        raise ImportFileError(
            f"the workbook has {len(named)} sheets named {name!r} ({found}): keep one, "
            "so that it is clear which is imported")
    if len(titles) == 1:
        return 0
    if not titles:  # a sheet part missing or damaged: openpyxl lists none
        raise ImportFileError("not a readable XLSX workbook (no worksheet)")
    raise ImportFileError(
        f"the workbook has {len(titles)} sheets ({listed}) and none is named {name!r}: name "
        f"the sheet to import {name!r} (letter case and spaces around it do not matter), as "
        "the template does, or delete the other sheets")


@contextlib.contextmanager
def _xlsx_table(path: Path, sheet: str) -> Iterator[Table]:
    """The header and the rows of the sheet named ``sheet`` (:func:`_sheet_named`),
    streamed; every row the sheet holds, whatever range it declares. A workbook that would
    unpack to far more than a registry export is refused first (:func:`_check_unpacked`).
    An error met reading the sheet names it."""
    from openpyxl import load_workbook
    from openpyxl.utils.datetime import WINDOWS_EPOCH

    _check_unpacked(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (*_DAMAGED, OSError) as exc:
        raise _damaged(exc) from exc
    try:
        hidden = [s.title for s in wb.worksheets if s.sheet_state != "visible"]
        if hidden:
            names = ", ".join(repr(n) for n in hidden)
            raise ImportFileError(f"the workbook has hidden sheets ({names}): unhide or "
                                  "delete them, so that what is imported can be seen")
        ws = wb.worksheets[_sheet_named(list(wb.sheetnames), sheet)]
        title = ws.title
        try:
            try:
                merged = _merged_ranges(path, ws)
                ws.reset_dimensions()  # a writer's stale <dimension> would hide rows
            except _DAMAGED as exc:
                raise _damaged(exc) from exc
            it = _read_or_damaged(ws.iter_rows())
            first = next(it, None)
            if first is None:
                raise ImportFileError(
                    f"sheet {title!r} is empty: a header row is needed (see the template)")
            header = [_header_cell(str(c.value)) if c.value is not None else "" for c in first]
            while header and header[-1] == "":
                header.pop()
            day_zero = _DAY_ZERO if wb.epoch == WINDOWS_EPOCH else wb.epoch.date()
            yield Table(header, _xlsx_rows(it, header, merged, day_zero), title)
        except ImportFileError as exc:
            if str(exc).startswith(f"sheet {title!r}"):
                raise
            raise ImportFileError(f"sheet {title!r}: {exc}") from exc
    finally:
        wb.close()


@contextlib.contextmanager
def open_table(path: Path, sheet: str = SHEET) -> Iterator[Table]:
    """The header and rows of a ``.csv`` or ``.xlsx`` file, read as the rows are used, and
    the sheet read (a workbook's sheet named ``sheet``, else its only sheet: see
    :func:`_sheet_named`); :class:`ImportFileError` when it cannot be read as a table."""
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
        if suffix == ".xlsx":
            with _xlsx_table(path, sheet) as table:
                yield table
        else:
            with _csv_table(path) as (header, rows):
                yield Table(header, rows)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from exc


def read_table(path: Path) -> tuple[list[str], list[RawRow]]:
    """The header and all rows of a ``.csv`` or ``.xlsx`` file (see :func:`open_table`)."""
    with open_table(path) as table:
        return table.header, list(table.rows)
