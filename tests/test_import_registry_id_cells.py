"""A workbook's ``registry_id`` read from a cell that is not text: a date cell (perhaps a
date of birth) or a number the spreadsheet rounded must never become a patient's id. A
number of up to 15 digits, held exactly, is read as the id it shows; everything else
is refused, naming the row, the column, the cell's value and what is allowed, and
nothing is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry.import_table import CODE_CELL_RULE
from pecoma.registry.importer import ImportMode, import_file
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import db_url, high_risk, repo, rows_of, write_xlsx

__all__ = ["db_url", "repo"]

ON = dt.date(2026, 11, 28)


def workbook(path: Path, *ids: Any) -> Path:
    """One high-risk case per id, each id written as the cell value given (a str stays
    a text cell; write_xlsx turns a YYYY-MM-DD text into a date cell, so a date is
    given as a datetime)."""
    rows = rows_of({f"ID-{n}": high_risk() for n in range(len(ids))})
    for row, rid in zip(rows, ids, strict=True):
        row["registry_id"] = rid
    return write_xlsx(path, rows)


def run(repo: Repository, path: Path, mode: ImportMode = ImportMode.all_or_nothing
        ) -> Any:
    return import_file(repo, path, on_date=ON, settings=default_settings(),
                       actor="importer", mode=mode)


@pytest.mark.parametrize(("cell", "shown"), [
    # a date cell: the spreadsheet's date, most likely a date of birth (an identifier)
    (dt.datetime(2020, 1, 1), "'2020-01-01'"),
    # a fraction: no code is written so
    (12345.5, "12345.5"),
    # 1e20: was read as the id '100000000000000000000', digits nobody typed
    (1e20, "1e+20"),
    # 17 digits: the workbook holds 1.234567890123457e+16, rounded (was the id
    # '12345678901234570', shared by 12345678901234567 and 12345678901234568); shown
    # as the cell holds it
    (12345678901234567, "1.234567890123457e+16"),
    (12345678901234568.0, "1.234567890123457e+16"),
    # 16 digits: beyond what a spreadsheet keeps of a number typed (15 digits)
    (1234567890123456, "1234567890123456"),
    (True, "True"),
    (-5, "-5"),
])
def test_a_date_or_inexact_number_cell_is_refused_and_nothing_written(
        repo: Repository, tmp_path: Path, cell: Any, shown: str) -> None:
    report = run(repo, workbook(tmp_path / "ids.xlsx", "PEC-0001", cell))
    assert [(i.row, i.column, i.value, i.rule) for i in report.issues] == [
        (3, "registry_id", shown, CODE_CELL_RULE)]
    assert "format the column as Text" in CODE_CELL_RULE
    assert report.committed is False
    assert repo.count()["patient"] == 0  # all or nothing: PEC-0001 is not written either


def test_good_rows_mode_writes_only_the_text_id(repo: Repository, tmp_path: Path) -> None:
    report = run(repo, workbook(tmp_path / "ids.xlsx", "PEC-0001", dt.datetime(2020, 1, 1)),
                 ImportMode.good_rows)
    assert report.rejected_rows == [3]
    assert [s.registry_id for s in repo.states()] == ["PEC-0001"]


def test_a_whole_number_the_spreadsheet_holds_exactly_is_its_id(
        repo: Repository, tmp_path: Path) -> None:
    """12345 and a 15-digit number (as many digits as a spreadsheet keeps) are read as
    the ids they show, as the same text would be."""
    report = run(repo, workbook(tmp_path / "ids.xlsx", 12345, 123456789012345.0))
    assert report.issues == []
    assert sorted(s.registry_id for s in repo.states()) == ["12345", "123456789012345"]


def test_two_long_numbers_never_merge_two_patients(repo: Repository, tmp_path: Path
                                                  ) -> None:
    """Was: 12345678901234567 (kidney) then 12345678901234568 (another file) were both
    read as '12345678901234570', the second patient's case a new version of the
    first's. Both files are refused; no patient is written."""
    for n, cell in enumerate((12345678901234567, 12345678901234568)):
        report = run(repo, workbook(tmp_path / f"big{n}.xlsx", cell))
        assert [i.column for i in report.issues] == ["registry_id"]
    assert repo.count()["patient"] == 0
