"""Reading a registry file (CSV or XLSX, the layout of :mod:`pecoma.registry.columns`)
into rows of cells, streamed as they are used.

A cell that cannot be read as a value at all (a spreadsheet formula or error, part of
merged cells, text holding a character :data:`pecoma.text.TEXT_RULE` refuses, such as a
NUL) is kept as a problem of its row, for the per-cell report of
:mod:`pecoma.registry.import_check`; a file that cannot be read as a table raises
:class:`ImportFileError`. An XLSX cell that openpyxl reads as a Python time or duration
(a date before 1900, a time of day, a duration) is read as the spreadsheet shows it, so
that a refusal shows that value (:func:`_shown`). An identifier (``registry_id``) is
read from a text cell, or a number cell holding a whole number of at most 15 digits; a
date, time, boolean or other number cell there is a problem of its row
(:data:`CODE_CELL_RULE`): a date of birth or a rounded number never becomes an id.

A CSV row holding fewer cells than the header names columns (a file cut inside its last
row) is refused, never read with the missing cells empty (:func:`_short_row`), as a row
with a value right of the header is (:func:`_beyond_header`). What tells a table imported
before is its content as read, not its bytes (:func:`table_digest`).

A number cell of a CSV file separated by semicolons or tabs may hold a decimal comma
(``9,5``), as a spreadsheet set to such a language writes it; elsewhere a number takes a
decimal point (the rule, one for the import and the case form: :mod:`pecoma.numbers`).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import itertools
import json
import zipfile
import zlib
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from pecoma.errors import PecomaError, show_value
from pecoma.numbers import ambiguous_separator, parse_number
from pecoma.registry.cells import restore
from pecoma.registry.columns import column_kind
from pecoma.text import TEXT_RULE, shown, text_is_odd

__all__ = ["MAX_PACKING_RATIO", "MAX_ROWS", "MAX_UNPACKED_BYTES", "SHEET", "ImportFileError",
           "RawRow", "Table", "column_letters", "open_table", "read_table", "table_digest"]

MAX_ROWS = 100_000


class ImportFileError(PecomaError):
    """The file cannot be read as a registry table at all (missing, not CSV/XLSX, …)."""



class Table(NamedTuple):
    """A file opened as a table: its header, its rows (streamed) and, for a workbook, the
    title of the sheet read (``None`` for a CSV file) and the header's cells that are part
    of merged cells (``merged_header``: position, 1 for column A -> the merged range, as
    ``C1:D1``): a merge keeps only its first cell's text, so the others read empty."""

    header: list[str]
    rows: Iterator[RawRow]
    sheet: str | None = None
    merged_header: Mapping[int, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class RawRow:
    """A row as read; ``problems`` are cells that cannot be read as a value at all
    (column, value, rule), e.g. a spreadsheet formula: the row is then rejected."""

    number: int
    cells: dict[str, Any]
    problems: tuple[tuple[str, str, str], ...] = ()



def column_letters(position: int) -> str:
    """A spreadsheet's name of the column at ``position`` (1: A, 27: AA)."""
    letters = ""
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _beyond_header(number: int, position: int, value: Any, width: int) -> RawRow:
    """A row holding a value right of the header's last named column (at ``position``,
    1-based), for a CSV file and a workbook alike: refused whole, naming the column and
    what the header allows, so that no value under no column is silently left out. The
    row's cells are not read (``{"(row)": …}``)."""
    named = (f"the header row names columns A to {column_letters(width)} only" if width
             else "the header row names no column")
    rule = (f"must be empty: {named}, and a value under no named column cannot be "
            "imported (delete it, or move it under its column)")
    return RawRow(number, {"(row)": "a value beyond the header's columns"},
                  ((f"(column {position}, {column_letters(position)})", show_value(value), rule),))


def _short_row(cells: int, width: int) -> tuple[str, str, str]:
    """The problem of a CSV row holding fewer cells than the header names columns (a
    file cut inside its last row, a cell's separator lost): the row is refused, never
    read with its missing cells as empty (a value the file did not give)."""
    return ("(row)", f"{cells} cells",
            f"must have a cell for each of the header's {width} columns (empty ones "
            f"included, as a spreadsheet saves them): this row has {cells}, so the file "
            "may be cut short or a separator lost; save the file again whole, or fill "
            "the row")


def table_digest(header: Sequence[str], rows: Iterable[RawRow]) -> str:
    """What tells a table imported before (SHA-256, hex): its content as read, the same
    for the same cells whatever the file's line ends, separator, byte order mark,
    format (CSV or XLSX) or the order of its columns and rows. Each row that is not an
    empty line counts as its filled cells (column and value as text) and its problems;
    the header as its column names. A file saved again by a spreadsheet is the same
    table; a cell changed, a row added or removed makes another one. THE rule of every
    file the registry imports (cases, and an export's scans and outcomes tables)."""
    def text(value: Any) -> str:
        return value if isinstance(value, str) else str(value)

    def row_digest(r: RawRow) -> bytes:
        cells = sorted((k, text(v)) for k, v in r.cells.items() if v is not None)
        line = json.dumps([cells, sorted(r.problems)], ensure_ascii=False)
        return hashlib.sha256(line.encode("utf-8", "surrogatepass")).digest()

    # one digest a row (32 bytes: a file of 100,000 rows holds a few MB), sorted
    found = sorted(row_digest(r) for r in rows
                   if r.problems or any(v is not None for v in r.cells.values()))
    h = hashlib.sha256(json.dumps(sorted(c for c in header if c)).encode())
    for d in found:
        h.update(d)
    return h.hexdigest()


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


#: The most digits of a number cell read as an identifier: a spreadsheet keeps 15
#: significant digits of a number typed (the 16th and later become 0) and shows no more,
#: and every whole number below 10**15 is held exactly.
CODE_DIGITS = 15
#: What an identifier column (``registry_id``, the layout's one "code" column) takes from
#: a spreadsheet cell that is not text.
CODE_CELL_RULE = (
    "must be written as text: format the column as Text and type the ids again. A number "
    f"cell is read as an id only when it holds a whole number of at most {CODE_DIGITS} "
    "digits, which the spreadsheet keeps exactly; a date or time (perhaps a date of "
    "birth), TRUE/FALSE, or a number with a fraction, a minus sign or more digits (which "
    "the spreadsheet rounds, so two patients could share it) is refused")


def _not_a_code(value: Any) -> bool:
    """A spreadsheet cell's value that cannot be read as an identifier exactly (see
    :data:`CODE_CELL_RULE`): text and whole numbers of up to :data:`CODE_DIGITS`
    digits can."""
    if value is None or isinstance(value, str):
        return False
    if isinstance(value, bool):
        return True
    if isinstance(value, int | float):
        return not (float(value).is_integer() and 0 <= value < 10**CODE_DIGITS)
    return True  # a date, a time, a duration


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


def _csv_rows(reader: Any, header: list[str], path: Path, decimal_comma: bool,
              number_columns: Collection[str] = ()) -> Iterator[RawRow]:
    numbers = [h for h in header if h in number_columns or column_kind(h) == "number"
               ] if decimal_comma else []
    for number, record in enumerate(_records(reader, path), start=2):
        extra = next((i for i in range(len(header), len(record)) if record[i].strip()), None)
        if extra is not None:
            yield _beyond_header(number, extra + 1, record[extra], len(header))
            continue
        # an empty cell is most cells of a registry file: None without a call
        cells = {h: _cell(v) if v else None for h, v in zip(header, record, strict=False)}
        odd = _odd_cells(cells) if text_is_odd("".join(record)) else []
        if len(record) < len(header) and any(v.strip() for v in record):
            odd.append(_short_row(len(record), len(header)))
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
def _csv_table(path: Path, number_columns: Collection[str] = ()
               ) -> Iterator[tuple[list[str], Iterator[RawRow]]]:
    """The header and the rows of a CSV file, read as they are used (constant memory);
    the layout's number columns and ``number_columns`` read as numbers are."""
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
        yield header, _csv_rows(reader, header, path, decimal_comma=delimiter != ",",
                                number_columns=number_columns)


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


def _sheet_rows(ws: Any) -> Iterator[tuple[int, list[Any]]]:
    """The rows a read-only sheet holds, as (row number, the cells the row holds), read by
    openpyxl's own parser of a sheet, as its read-only rows are, but not padded: those
    rows fill each row out to its last cell (16,384 cells for one in column XFD) and stand
    an empty row for each row number skipped, so that a few kB of XML made hundreds of
    millions of cells. Here the work is that of the cells the file holds, whatever range
    the sheet declares."""
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    wb = ws.parent
    with ws._get_source() as source:
        parser = WorkSheetParser(source, ws._shared_strings, data_only=wb.data_only,
                                 epoch=wb.epoch, date_formats=wb._date_formats,
                                 timedelta_formats=wb._timedelta_formats)
        for number, cells in parser.parse():
            yield number, [ReadOnlyCell(ws, **c) for c in cells]


_OUT_OF_ORDER = ("not a spreadsheet program's file (a sheet lists its rows, and a row "
                 "its cells, in order); save it again from the spreadsheet program")


def _in_order(rows: Iterator[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """``rows``, refused when a row number or a cell's column does not follow the one
    before (openpyxl left out such a row, and kept the last of two cells in one place)."""
    previous = 0
    for number, cells in rows:
        if number <= previous:
            where = f"after row {previous}" if previous else "first"
            raise ImportFileError(f"row {number} is listed {where}: {_OUT_OF_ORDER}")
        column = 0
        for c in cells:
            if c.column <= column:
                raise ImportFileError(
                    f"row {number}: cell {column_letters(c.column)}{number} is listed after "
                    f"{column_letters(column)}{number}: {_OUT_OF_ORDER}")
            column = c.column
        previous = number
        yield number, cells


class _MergedRows:
    """The merged ranges covering each row, asked of rows in ascending order, as (column,
    range): for each of the header's ``width`` columns, and one more standing for every
    column right of them, the ranges over it by first row, and the one reaching furthest
    down of those begun. The work per row is that of the header's columns however many
    ranges a sheet declares (each range checked against every row had been millions of
    checks for a few kB of them)."""

    def __init__(self, ranges: list[tuple[int, int, int, int]], width: int) -> None:
        self._runs: dict[int, list[tuple[int, int, int, str]]] = {}
        for min_col, min_row, max_col, max_row in ranges:
            ref = (f"{column_letters(min_col)}{min_row}:"
                   f"{column_letters(max_col)}{max_row}")
            for key in range(min(min_col, width + 1), min(max_col, width + 1) + 1):
                column = max(min_col, key)  # right of the header: the range's first there
                self._runs.setdefault(key, []).append((min_row, column, max_row, ref))
        for runs in self._runs.values():
            runs.sort()  # by first row, then column: the leftmost range is named
        self._begun = dict.fromkeys(self._runs, 0)
        self._furthest: dict[int, tuple[int, str, int]] = {}

    def at(self, number: int) -> list[tuple[int, str]]:
        out = []
        for key, runs in self._runs.items():
            i = self._begun[key]
            while i < len(runs) and runs[i][0] <= number:
                _first, column, last, ref = runs[i]
                if key not in self._furthest or last > self._furthest[key][0]:
                    self._furthest[key] = (last, ref, column)
                i += 1
            self._begun[key] = i
            furthest = self._furthest.get(key)
            if furthest is not None and furthest[0] >= number:
                out.append((furthest[2], furthest[1]))
        return out


def _xlsx_rows(rows: Iterator[tuple[int, list[Any]]], header: list[str],
               merged: list[tuple[int, int, int, int]], day_zero: dt.date) -> Iterator[RawRow]:
    """The rows after the header: each cell read in the header's columns, a row with a
    value right of them refused (:func:`_beyond_header`) as soon as it is met."""
    width = len(header)
    covered = _MergedRows(merged, width)
    codes = [column_kind(h) == "code" for h in header]

    def name_of(col: int) -> str:
        return header[col - 1] if 0 < col <= width and header[col - 1] else \
            f"column {column_letters(col)}"

    count = 0
    for number, cells in rows:
        problems: list[tuple[str, str, str]] = []
        record: list[Any] = [None] * width
        beyond: Any = None
        for c in cells:
            col = c.column
            kind = getattr(c, "data_type", None)
            if col > width:
                if kind in ("f", "e") or _cell(c.value) is not None:
                    beyond = c
                    break
                continue  # an empty (perhaps only formatted) cell
            if kind == "f" or (kind != "s" and isinstance(c.value, str)
                               and c.value.startswith("=")):
                problems.append((name_of(col), show_value(c.value), _FORMULA_RULE))
            elif kind == "e":
                problems.append((name_of(col), show_value(c.value), _ERROR_RULE))
            elif codes[col - 1] and _not_a_code(c.value):
                # an identifier read from a date or number cell: never a date of birth
                # nor a rounded number taken as a patient's id
                # (a number as the cell holds it: 1e+20, 1.234567890123457e+16)
                seen = _shown(c, day_zero) if isinstance(c.value, dt.time | dt.timedelta) \
                    else c.value if isinstance(c.value, float) else _cell(c.value)
                problems.append((name_of(col), show_value(seen), CODE_CELL_RULE))
            elif isinstance(c.value, dt.time | dt.timedelta):
                record[col - 1] = _shown(c, day_zero)
            else:
                record[col - 1] = c.value
        problems += [(name_of(col), "(merged cells)",
                      f"must not be part of merged cells ({ref}): unmerge them and fill "
                      "each cell") for col, ref in covered.at(number)]
        if beyond is not None:
            value = beyond.value if beyond.data_type in ("f", "e") else _cell(beyond.value)
            yield _beyond_header(number, beyond.column, value, width)
        elif not problems and all(_cell(v) is None for v in record):
            continue  # an empty (perhaps only formatted) line
        else:
            cells_read = {h: _cell(v) for h, v in zip(header, record, strict=True)}
            yield RawRow(number, cells_read, (*problems, *_odd_cells(cells_read)))
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
            except _DAMAGED as exc:
                raise _damaged(exc) from exc
            it = _in_order(_read_or_damaged(_sheet_rows(ws)))
            first = next(it, None)
            if first is None:
                raise ImportFileError(
                    f"sheet {title!r} is empty: a header row is needed (see the template)")
            if first[0] != 1:  # no row 1: no header, and the row met is a row of data
                it = itertools.chain([first], it)
            named = {c.column: _header_cell(str(c.value)) for c in first[1]
                     if first[0] == 1 and c.value is not None}
            width = max((col for col, name in named.items() if name), default=0)
            # header cells merged with a named one: the merge kept only the first's text
            # (C1:D1 over the last named column C: D is a column, its name lost)
            over = [(a, b, f"{column_letters(a)}{top}:{column_letters(b)}{bottom}")
                    for a, top, b, bottom in merged if top <= 1 <= bottom and a <= width]
            width = max([width, *(b for _a, b, _ref in over)])
            header = [named.get(col, "") for col in range(1, width + 1)]
            in_header = {col: ref for a, b, ref in over for col in range(a, b + 1)}
            day_zero = _DAY_ZERO if wb.epoch == WINDOWS_EPOCH else wb.epoch.date()
            yield Table(header, _xlsx_rows(it, header, merged, day_zero), title,
                        MappingProxyType(in_header))
        except ImportFileError as exc:
            if str(exc).startswith(f"sheet {title!r}"):
                raise
            raise ImportFileError(f"sheet {title!r}: {exc}") from exc
    finally:
        wb.close()


@contextlib.contextmanager
def open_table(path: Path, sheet: str = SHEET, number_columns: Collection[str] = ()
               ) -> Iterator[Table]:
    """The header and rows of a ``.csv`` or ``.xlsx`` file, read as the rows are used, and
    the sheet read (a workbook's sheet named ``sheet``, else its only sheet: see
    :func:`_sheet_named`); :class:`ImportFileError` when it cannot be read as a table.
    The number cells of the import layout, and of ``number_columns`` (another file's,
    such as a year of birth), are read by :mod:`pecoma.numbers`' rule (a decimal comma
    in a CSV file separated by semicolons or tabs)."""
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
            with _csv_table(path, number_columns) as (header, rows):
                yield Table(header, rows)
    except OSError as exc:
        raise ImportFileError(f"cannot read {path}: {exc.strerror}") from exc


def read_table(path: Path) -> tuple[list[str], list[RawRow]]:
    """The header and all rows of a ``.csv`` or ``.xlsx`` file (see :func:`open_table`)."""
    with open_table(path) as table:
        return table.header, list(table.rows)
