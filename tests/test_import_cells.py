"""Spreadsheet cells that hold no plain value are reported per cell, never read as unknown.

A formula without a cached value (openpyxl writes formulas so; so do scripts) was read as an
empty cell, so necrosis and margin became *unknown* and the row counted as good. Formula
cells, error cells (``#N/A``), merged cells and hidden sheets are now rejected with the
row and column. A property test imports one row whose cell holds each type openpyxl can
write: the import answers with a report, never an exception.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from pecoma.registry.columns import COLUMN_NAMES
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import ImportFileError, read_table

from registry_support import high_risk, rows_of, write_xlsx

ON = dt.date(2026, 11, 28)
EXAMPLES = int(os.environ.get("PECOMA_FUZZ_EXAMPLES", "0"))


def good_workbook(path: Path) -> Path:
    return write_xlsx(path, rows_of({"PEC-0001": high_risk(), "PEC-0002": high_risk()}))


def column_letter(name: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(list(COLUMN_NAMES).index(name) + 1)


def issues_of(path: Path) -> list[tuple[int, str, str]]:
    from pecoma.settings import default_settings

    _header, rows = read_table(path)
    _good, issues = validate_rows(rows, ON, default_settings(), assess_rows=False)
    return [(i.row, i.column, i.rule) for i in issues]


def edit(path: Path, change: Any) -> Path:
    wb = load_workbook(path)
    change(wb)
    wb.save(path)
    return path


class TestUnreadableCells:
    def test_formula_without_cached_value(self, tmp_path: Path) -> None:
        """Necrosis and margin as formulas: both cells rejected, the row is not good."""
        path = good_workbook(tmp_path / "f.xlsx")

        def formulas(wb: Workbook) -> None:
            ws = wb["cases"]
            ws[f"{column_letter('histology.necrosis')}2"] = '=IF(1=1,"present","absent")'
            ws[f"{column_letter('surgery.margin')}2"] = '="R1"'

        issues = issues_of(edit(path, formulas))
        assert {(row, col) for row, col, _ in issues} == {
            (2, "histology.necrosis"), (2, "surgery.margin")}
        assert all("not a formula" in rule for _, _, rule in issues)

    def test_error_cell(self, tmp_path: Path) -> None:
        path = good_workbook(tmp_path / "e.xlsx")

        def error(wb: Workbook) -> None:
            cell = wb["cases"][f"{column_letter('histology.necrosis')}3"]
            cell.value = "#N/A"
            cell.data_type = "e"

        issues = issues_of(edit(path, error))
        assert [(row, col) for row, col, _ in issues] == [(3, "histology.necrosis")]
        assert "spreadsheet error" in issues[0][2]

    def test_merged_cells(self, tmp_path: Path) -> None:
        """Two rows' margins merged: the second row would read as unknown; both are
        reported."""
        path = good_workbook(tmp_path / "m.xlsx")
        letter = column_letter("surgery.margin")
        issues = issues_of(edit(path, lambda wb: wb["cases"].merge_cells(
            f"{letter}2:{letter}3")))
        assert [(row, col) for row, col, _ in issues] == [
            (2, "surgery.margin"), (3, "surgery.margin")]
        assert all(f"{letter}2:{letter}3" in rule for _, _, rule in issues)

    @pytest.mark.parametrize("state", ["hidden", "veryHidden"])
    def test_hidden_sheet(self, tmp_path: Path, state: str) -> None:
        path = good_workbook(tmp_path / "h.xlsx")

        def hide(wb: Workbook) -> None:
            extra = wb.create_sheet("more cases")
            extra.sheet_state = state

        with pytest.raises(ImportFileError, match="hidden sheets \\('more cases'\\)"):
            read_table(edit(path, hide))

    def test_plain_workbook_still_reads(self, tmp_path: Path) -> None:
        assert issues_of(good_workbook(tmp_path / "ok.xlsx")) == []


class TestTimesAndDurations:
    """A cell openpyxl reads as a Python time or duration is reported as the spreadsheet
    shows it, never as ``datetime.time(0, 0)`` or ``datetime.timedelta(days=3)``."""

    @staticmethod
    def refused(path: Path) -> dict[str, tuple[str, str]]:
        from pecoma.settings import default_settings

        _header, rows = read_table(path)
        _good, issues = validate_rows(rows, ON, default_settings(), assess_rows=False)
        assert {i.row for i in issues} <= {2}
        return {i.column: (i.value, i.rule) for i in issues}

    def test_a_date_before_1900_a_duration_and_a_time(self, tmp_path: Path) -> None:
        """A spreadsheet stores 1899-12-31 as day 0, which openpyxl reads as the time
        00:00: it is the date 1899-12-31, refused with the range of dates. A duration of
        3 days in a date cell shows 72:00 (hours), a time of 06:00 in a size cell 06:00:
        neither is a date or a number."""
        path = good_workbook(tmp_path / "t.xlsx")

        def put(wb: Workbook) -> None:
            ws = wb["cases"]
            ws[f"{column_letter('diagnosis.date')}2"] = dt.date(1899, 12, 31)
            duration = ws[f"{column_letter('surgery.date')}2"]
            duration.value, duration.number_format = dt.timedelta(days=3), "[h]:mm:ss"
            ws[f"{column_letter('tumour.size.value')}2"] = dt.time(6, 0)

        refused = self.refused(edit(path, put))
        assert refused["diagnosis.date"] == (
            "'1899-12-31'", "must be between 1900-01-01 and 2199-12-31")
        assert refused["surgery.date"][0] == "'72:00'"
        assert refused["tumour.size.value"][0] == "'06:00'"
        assert set(refused) == {"diagnosis.date", "surgery.date", "tumour.size.value"}

    def test_day_0_of_the_1904_date_system_is_1904_01_01(self, tmp_path: Path) -> None:
        """A workbook counting dates from 1904 (as older Mac spreadsheets do) stores
        1904-01-01 as day 0: a date in the range, read as that date (it was refused)."""
        from openpyxl.utils.datetime import MAC_EPOCH

        path = good_workbook(tmp_path / "mac.xlsx")

        def put(wb: Workbook) -> None:
            wb.epoch = MAC_EPOCH
            ws = wb["cases"]
            ws[f"{column_letter('diagnosis.date')}2"] = dt.date(1904, 1, 1)

        path = edit(path, put)
        assert self.refused(path) == {}
        _header, rows = read_table(path)
        assert rows[0].cells["diagnosis.date"] == "1904-01-01"


CELL_VALUES = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=False, width=64),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31)),
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 31)),
    st.times(),
    st.timedeltas(min_value=dt.timedelta(0), max_value=dt.timedelta(days=3000)),
    st.sampled_from(["=1+1", "=NA()", '="present"', "=A1", "#N/A!", "#DIV/0!", "#REF!"]),
)


class TestEveryCellType:
    @settings(max_examples=EXAMPLES or 40, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(column=st.sampled_from(list(COLUMN_NAMES)), value=CELL_VALUES,
           error=st.booleans())
    def test_any_cell_gives_a_report(self, tmp_path: Path, column: str, value: Any,
                                     error: bool) -> None:
        """One cell of a good row replaced by any openpyxl value (or an error cell): the
        row is good or rejected with that cell named, never an exception."""
        path = good_workbook(tmp_path / "any.xlsx")

        def put(wb: Workbook) -> None:
            cell = wb["cases"][f"{column_letter(column)}2"]
            cell.value = value
            if error and isinstance(value, str) and value.startswith("#"):
                cell.data_type = "e"

        try:
            edit(path, put)
        except (ValueError, TypeError, OverflowError, IllegalCharacterError):
            return  # openpyxl itself refuses to write this value
        try:
            issues = issues_of(path)
        except ImportFileError:
            return  # a clear file-level message
        for row, col, rule in issues:
            assert row == 2 and rule, (row, col, rule)
        if isinstance(value, str) and value.startswith("="):
            assert (2, column) in {(r, c) for r, c, _ in issues}


def _rewritten(path: Path, part: str, change: Any) -> Path:
    """The workbook with one part's bytes changed by ``change`` (``None``: left out)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    out = path.with_name("damaged-" + path.name)
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            if name == part:
                data = change(data)
                if data is None:
                    continue
            z.writestr(name, data)
    return out


SHEET = "xl/worksheets/sheet1.xml"


class TestDamagedWorkbooks:
    """A workbook damaged in its parts (as a failed download or an odd writer leaves it) is
    'not a readable XLSX workbook', never an internal error or a 500."""

    @pytest.mark.parametrize("part, change", [
        (SHEET, lambda b: b[: len(b) // 2]),  # truncated XML
        (SHEET, lambda b: b.replace(b"</sheetData>",
                                    b"</sheetData><mergeCells count=\"1\">"
                                    b"<mergeCell ref=\"garbage\"/></mergeCells>")),
        ("xl/workbook.xml", lambda b: b[:-20]),
        (SHEET, lambda b: None),  # the sheet itself missing
        (SHEET, lambda b: b.replace(b"<c r=\"A2\"", b"<c r=\"ZZZZZZZZ2\"", 1)),
    ], ids=["truncated-sheet", "bad-merge-ref", "truncated-workbook", "no-sheet",
            "bad-cell-ref"])
    def test_is_named_unreadable(self, tmp_path: Path, part: str, change: Any) -> None:
        path = _rewritten(good_workbook(tmp_path / "d.xlsx"), part, change)
        with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
            issues_of(path)

    def test_a_number_cell_that_is_no_number(self, tmp_path: Path) -> None:
        import re

        def spoil(b: bytes) -> bytes:
            return re.sub(rb'(<c r="[A-Z]+2"[^>]*t="n"[^>]*><v>)[^<]*', rb"\1abc", b, count=1) \
                if re.search(rb'<c r="[A-Z]+2"[^>]*t="n"', b) else \
                re.sub(rb'(<c r="[A-Z]+2"(?: s="\d+")?><v>)[^<]*', rb"\1abc", b, count=1)

        path = _rewritten(good_workbook(tmp_path / "n.xlsx"), SHEET, spoil)
        with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
            issues_of(path)

    def test_rows_beyond_the_declared_range_are_read(self, tmp_path: Path) -> None:
        """A writer that leaves a stale <dimension ref="A1:…2"> on a sheet of three rows:
        the third row is read all the same, never silently left out."""
        import re

        def stale(b: bytes) -> bytes:
            out, n = re.subn(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:BM2"/>', b)
            assert n == 1
            return out

        path = _rewritten(good_workbook(tmp_path / "s.xlsx"), SHEET, stale)
        _header, rows = read_table(path)
        assert [r.number for r in rows] == [2, 3]


def _packed(path: Path, part: str, data: bytes) -> Path:
    """The workbook with ``part`` replaced by ``data``, every part deflated."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i.filename) for i in z.infolist()}
    parts[part] = data
    out = path.with_name("packed-" + path.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, blob in parts.items():
            z.writestr(name, blob)
    return out


class TestOversizedWorkbooks:
    """A workbook of a few tens of kB whose sheet unpacks to 40 MB of blank space was read
    to its end (the web upload's byte limit counts packed bytes): a small upload could keep
    a server busy and its memory full. Such a workbook is refused before it is unpacked."""

    def test_a_part_packed_far_tighter_than_a_spreadsheet_is_refused(self, tmp_path: Path
                                                                      ) -> None:
        import zipfile

        good = good_workbook(tmp_path / "b.xlsx")
        with zipfile.ZipFile(good) as z:
            sheet = z.read(SHEET)
        bomb = sheet.replace(b"</sheetData>", b" " * (40 * 2**20) + b"</sheetData>")
        path = _packed(good, SHEET, bomb)
        assert path.stat().st_size < 200_000
        with pytest.raises(ImportFileError,
                           match=r"unpacks to 40 MB from [\d,]+ bytes \(more than 200 times\)"):
            read_table(path)

    def test_a_workbook_larger_than_the_bound_is_refused(self, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
        from pecoma.registry import import_table

        path = good_workbook(tmp_path / "c.xlsx")
        monkeypatch.setattr(import_table, "MAX_UNPACKED_BYTES", 10_000)
        with pytest.raises(ImportFileError, match=r"unpacks to 0 MB .*split it, or import it "
                                                  r"as CSV"):
            read_table(path)

    def test_a_spreadsheet_program_packing_is_read(self, tmp_path: Path) -> None:
        """The same rows, packed as writers pack them: read as before."""
        import zipfile

        good = good_workbook(tmp_path / "d.xlsx")
        with zipfile.ZipFile(good) as z:
            sheet = z.read(SHEET)
        path = _packed(good, SHEET, sheet)
        assert [r.number for r in read_table(path)[1]] == [r.number for r in read_table(good)[1]]


class TooMuchWork(Exception):
    """The reader ran more of its code than the file's cells call for."""


@contextlib.contextmanager
def work_budget(lines: int) -> Iterator[None]:
    """Fails with :class:`TooMuchWork` once more than ``lines`` lines have run of the
    registry file reader and of openpyxl's read-only rows: what a read costs, counted,
    not timed (the count is the same on any machine)."""
    import sys

    import openpyxl.worksheet._read_only as read_only

    from pecoma.registry import import_table

    sources = {import_table.__file__, read_only.__file__}
    count = 0

    def in_frame(frame: Any, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > lines:
                raise TooMuchWork(f"more than {lines} lines run")
        return in_frame

    def on_call(frame: Any, event: str, arg: Any) -> Any:
        return in_frame if frame.f_code.co_filename in sources else None

    before = sys.gettrace()
    sys.settrace(on_call)
    try:
        yield
    finally:
        sys.settrace(before)


def _with_rows(path: Path, rows: str, *, head: str = "") -> Path:
    """The workbook with ``rows`` (sheet XML) after its own rows, and its declared
    dimension replaced by ``head`` when given."""
    import re

    def change(b: bytes) -> bytes:
        b = b.replace(b"</sheetData>", rows.encode() + b"</sheetData>")
        return re.sub(rb'<dimension ref="[^"]*" ?/>', head.encode(), b) if head else b

    return _rewritten(path, SHEET, change)


def lines_for(rows: int) -> int:
    """What reading the good workbook's header and two rows (about 4,500 lines), and
    ``rows`` rows more, may cost: a row read runs a few lines per column of the header
    (some 80: about 300 lines), a row refused at its first cell right of the header fewer. A
    row padded out to column XFD ran 16,384 cells, several lines each."""
    return 10_000 + 1_000 * rows


class TestTheWorkIsThatOfTheCellsHeld:
    """A 4.5 kB workbook whose 29,000 rows each held one value in column XFD (the last)
    kept a server core busy for minutes before being refused: openpyxl's read-only rows
    pad every row out to its last cell, and the reader visited all 16,384 cells of each
    (about 475 million for the file); a row numbered far down stood an empty row for each
    number skipped. The reader now visits only the cells the file holds, and refuses a
    value right of the header's columns as soon as it meets it, naming its row and
    column, as it does in a CSV file."""

    def test_a_value_in_column_xfd_on_every_row_is_refused_at_the_cost_of_its_cells(
        self, tmp_path: Path
    ) -> None:
        """300 rows each holding 1 in XFD: each row refused, naming column XFD, the value
        and the header's columns (A to the template's last, named from the template so
        that a column added to it keeps the check), within the work of the cells held;
        the two good rows stay good."""
        from openpyxl.utils import get_column_letter

        last = get_column_letter(len(COLUMN_NAMES))
        rows = "".join(f'<row r="{n}"><c r="XFD{n}"><v>1</v></c></row>'
                       for n in range(4, 304))
        path = _with_rows(good_workbook(tmp_path / "x.xlsx"), rows)
        with work_budget(lines_for(300)):
            issues = issues_of(path)
        assert [(row, col) for row, col, _ in issues] == [
            (n, "(column 16384, XFD)") for n in range(4, 304)]
        assert all(rule.startswith(f"must be empty: the header row names columns A to "
                                   f"{last} only") for _, _, rule in issues)
        _header, read = read_table(path)
        assert read[2].problems[0][1] == "1"

    def test_a_row_numbered_far_down_costs_one_row(self, tmp_path: Path) -> None:
        """A row numbered 1,048,576 (the last a sheet has) after rows 2 and 3: read as
        that row, without an empty row for each number between."""
        far = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>PEC-0099</t></is></c></row>'
        path = _with_rows(good_workbook(tmp_path / "f.xlsx"), far)
        with work_budget(lines_for(1)):
            _header, rows = read_table(path)
        assert [r.number for r in rows] == [2, 3, 1_048_576]
        assert rows[2].cells["registry_id"] == "PEC-0099"

    def test_a_declared_dimension_of_the_whole_sheet_costs_nothing(self, tmp_path: Path
                                                                   ) -> None:
        """A sheet declaring the whole of a sheet (A1:XFD1048576) as its range: the rows
        it holds are read, no more."""
        path = _with_rows(good_workbook(tmp_path / "d.xlsx"), "",
                          head='<dimension ref="A1:XFD1048576"/>')
        with work_budget(lines_for(0)):
            _header, rows = read_table(path)
        assert [r.number for r in rows] == [2, 3]

    def test_many_merged_ranges_cost_per_row_the_header_s_columns(self, tmp_path: Path
                                                                   ) -> None:
        """2,000 merged ranges right of the header, each over rows 2 to 301, beside 300
        rows: each row reported once for the merged cells right of the header (from
        column CA), not checked against every range (600,000 checks)."""
        rows = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>PEC-{n:04d}</t></is>'
                       f'</c></row>' for n in range(4, 302))
        merges = "".join(f'<mergeCell ref="{c}2:{c}301"/>' for c in
                         (column_letter_at(k) for k in range(100, 2100)))

        def change(b: bytes) -> bytes:
            return b.replace(b"</sheetData>", rows.encode() + b"</sheetData>").replace(
                b"</worksheet>", f'<mergeCells count="2000">{merges}</mergeCells>'
                                 "</worksheet>".encode())

        path = _rewritten(good_workbook(tmp_path / "m.xlsx"), SHEET, change)
        with work_budget(lines_for(298)):
            _header, read = read_table(path)
        assert [r.number for r in read] == list(range(2, 302))
        assert all([(p[0], p[1]) for p in r.problems] == [("column CV", "(merged cells)")]
                   for r in read)
        assert "(CV2:CV301)" in read[0].problems[0][2]

    def test_a_blank_text_right_of_the_header_is_an_empty_cell(self, tmp_path: Path
                                                               ) -> None:
        """Spaces in a cell right of the header are no value, as in a CSV file."""
        blank = '<row r="4"><c r="CA4" t="inlineStr"><is><t>   </t></is></c></row>'
        path = _with_rows(good_workbook(tmp_path / "b.xlsx"), blank)
        assert [r.number for r in read_table(path)[1]] == [2, 3]

    @pytest.mark.parametrize("rows, message", [
        ('<row r="2"><c r="A2" t="inlineStr"><is><t>PEC-0009</t></is></c></row>',
         "row 2 is listed after row 3"),
        ('<row r="4"><c r="B4" t="inlineStr"><is><t>x</t></is></c>'
         '<c r="A4" t="inlineStr"><is><t>PEC-0009</t></is></c></row>',
         "row 4: cell A4 is listed after B4"),
    ], ids=["row-again", "cells-out-of-order"])
    def test_rows_or_cells_out_of_order_are_refused(self, tmp_path: Path, rows: str,
                                                    message: str) -> None:
        """A row listed again after a later one was left out whole (openpyxl's read-only
        rows skip it), and of two cells in one place the first: data silently dropped. No
        spreadsheet program writes a sheet so; it is refused, naming the row."""
        path = _with_rows(good_workbook(tmp_path / "o.xlsx"), rows)
        with pytest.raises(ImportFileError, match=f"sheet 'cases': {message}: not a "
                                                  "spreadsheet program's file"):
            read_table(path)


def column_letter_at(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position)
