"""A decimal comma in a number cell, where it cannot be misread: a CSV file separated by
semicolons or tabs (what a spreadsheet set to a language with a decimal comma saves) is
read with ``9,5`` as 9.5, as the case form reads it (one rule, :mod:`pecoma.numbers`).
In a comma-separated file and in an XLSX text cell a comma in a number is refused (a
program writing thousands separators would make ``"1,234"`` of 1234), and the refusal
says that a decimal point is needed. Such a file had been refused whole with "must be a
valid number" and no word of the decimal point.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pecoma.numbers import IMPORT_NUMBER_RULE, parse_number
from pecoma.registry.columns import COLUMN_NAMES
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import read_table
from pecoma.settings import default_settings
from pecoma.web.form_input import parse_form_number

from registry_support import high_risk, rows_of, write_xlsx

ON = dt.date(2026, 11, 28)


def write(path: Path, delimiter: str, **cells: str) -> Path:
    [row] = rows_of({"PEC-0001": high_risk()})
    row.update(cells)
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.DictWriter(f, list(COLUMN_NAMES), delimiter=delimiter, extrasaction="ignore")
        w.writeheader()
        w.writerow(row)
    return path


def check(path: Path) -> tuple[list[Any], list[Any]]:
    _header, rows = read_table(path)
    return validate_rows(rows, ON, default_settings(), assess_rows=False)


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("size", "cm"), [("9,5", 9.5), ("0,8", 0.8), ("12", 12.0),
                                          ("9.5", 9.5), (",5", 0.5)])
def test_a_decimal_comma_in_a_semicolon_or_tab_separated_file(
    tmp_path: Path, delimiter: str, size: str, cm: float
) -> None:
    good, issues = check(write(tmp_path / "eu.csv", delimiter, **{"tumour.size.value": size}))
    assert issues == []
    assert good[0].case.tumour.size.value == cm


def test_mitoses_take_a_decimal_comma_too(tmp_path: Path) -> None:
    """Every number column, not the size alone."""
    good, issues = check(write(tmp_path / "eu.csv", ";",
                               **{"histology.mitoses_per_50_hpf": "2,5"}))
    assert issues == []
    assert good[0].case.histology.mitoses_per_50_hpf == 2.5


@pytest.mark.parametrize(("delimiter", "size"), [
    (",", "9,5"),      # quoted in a comma-separated file: 9.5, or 95 with a separator?
    (",", "1,234"),
    (";", "1.234,5"),  # two separators: which is the decimal?
    (";", "9,5,1"),
    (";", "9 cm"),
])
def test_a_number_that_can_be_misread_is_refused_saying_what_is_allowed(
    tmp_path: Path, delimiter: str, size: str
) -> None:
    good, issues = check(write(tmp_path / "x.csv", delimiter, **{"tumour.size.value": size}))
    assert good == []
    [issue] = issues
    assert (issue.column, issue.value, issue.rule) == (
        "tumour.size.value", repr(size), IMPORT_NUMBER_RULE)
    assert "decimal point (9.5)" in issue.rule


def test_an_xlsx_text_cell_with_a_comma_is_refused_saying_what_is_allowed(
    tmp_path: Path,
) -> None:
    [row] = rows_of({"PEC-0001": high_risk()})
    row["tumour.size.value"] = "9,5"  # a text cell: a number cell is read as a number
    _header, rows = read_table(write_xlsx(tmp_path / "x.xlsx", [row]))
    good, issues = validate_rows(rows, ON, default_settings(), assess_rows=False)
    assert good == []
    assert [(i.column, i.rule) for i in issues] == [("tumour.size.value", IMPORT_NUMBER_RULE)]


def test_a_size_out_of_range_keeps_its_own_rule(tmp_path: Path) -> None:
    """A number read is checked as before: the decimal-point rule is not said of it."""
    _good, issues = check(write(tmp_path / "eu.csv", ";", **{"tumour.size.value": "-1,5"}))
    assert [i.column for i in issues] == ["tumour.size.value"]
    assert issues[0].rule != IMPORT_NUMBER_RULE


@pytest.mark.parametrize(("text", "comma", "point"), [
    ("3,5", "3.5", None),        # a decimal comma: read where one is read, else refused
    ("3.5", "3.5", "3.5"),       # a decimal point is read everywhere
    (" 3,5 ", "3.5", None),      # spaces around are no part of the number
    ("-0,5", "-0.5", None),
    ("1,234", None, None),       # a decimal comma, or a thousands comma? refused
    ("1.234,5", None, None),     # both separators: which one is the decimal? refused
    ("3e2", None, None), ("nan", None, None), ("", None, None), (",", None, None),
])
def test_the_form_and_the_import_share_one_reading(
    text: str, comma: str | None, point: str | None
) -> None:
    """The case form reads a number as a semicolon-separated import file does (a decimal
    comma read), a comma-separated file or an XLSX text cell with a decimal point only;
    each reading written here by hand."""
    assert parse_form_number(text) == comma
    assert parse_number(text, decimal_comma=True) == comma
    assert parse_number(text, decimal_comma=False) == point


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("column", "typed", "decimal", "whole"), [
    # in a file whose decimal separator is the comma, the point separates thousands:
    # 5.000 is five thousand there, and five where a point is the decimal
    ("tumour.size.value", "5.000", "5,0 (or 5)", "5000"),
    ("tumour.size.value", "12.500", "12,5", "12500"),
    ("tumour.size.value", "1.250", "1,25", "1250"),
    ("histology.mitoses_per_50_hpf", "2.000", "2,0 (or 2)", "2000"),
])
def test_a_point_before_three_digits_beside_decimal_commas_is_refused_naming_both_readings(
    tmp_path: Path, delimiter: str, column: str, typed: str, decimal: str, whole: str
) -> None:
    """Neither reading is taken: the row is refused in the cell, saying how to write each
    (a size of 5 mm read as 5 m, or the reverse, changes the risk group)."""
    good, issues = check(write(tmp_path / "eu.csv", delimiter, **{column: typed}))
    assert good == []
    [issue] = issues
    assert (issue.column, issue.value) == (column, repr(typed))
    assert (f"write {decimal} if the point is a decimal point, or {whole} if it separates "
            "thousands") in issue.rule


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("column", "typed", "decimal", "whole"), [
    # a comma before exactly three digits is the thousands separator of English: 1,500
    # is fifteen hundred there, and one and a half where the comma is the decimal
    ("tumour.size.value", "1,500", "1.5", "1500"),
    ("tumour.size.value", "12,250", "12.25", "12250"),
    ("tumour.size.value", "5,000", "5.0 (or 5)", "5000"),
    ("histology.mitoses_per_50_hpf", "2,000", "2.0 (or 2)", "2000"),
])
def test_a_comma_before_three_digits_beside_decimal_commas_is_refused_naming_both_readings(
    tmp_path: Path, delimiter: str, column: str, typed: str, decimal: str, whole: str
) -> None:
    """A size of 1,500 mm read as 1.5 mm (or the reverse) changes the risk group: neither
    reading is taken, the cell is refused once, saying how to write each. 1,5 and 12,25
    (no group of three) keep their decimal reading."""
    good, issues = check(write(tmp_path / "eu.csv", delimiter, **{column: typed}))
    assert good == []
    [issue] = issues
    assert (issue.column, issue.value) == (column, repr(typed))
    assert (f"write {decimal} if the comma is a decimal comma, or {whole} if it separates "
            "thousands") in issue.rule
    for kept, number in (("1,5", 1.5), ("12,25", 12.25), ("0,500", 0.5)):
        good, issues = check(write(tmp_path / "eu.csv", delimiter,
                                   **{"tumour.size.value": kept}))
        assert issues == [] and good[0].case.tumour.size.value == number


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize(("size", "cm"), [("5.5", 5.5), ("5.25", 5.25), ("0.125", 0.125),
                                          ("5.0000", 5.0), ("5.000,5", None)])
def test_a_point_that_cannot_separate_thousands_stays_a_decimal_point(
    tmp_path: Path, delimiter: str, size: str, cm: float | None
) -> None:
    """One or two decimals, a leading 0 or four decimals are no thousands group: the point
    is read as a decimal point, as before. With a comma beside it (5.000,5) the number
    still has both separators and keeps that refusal."""
    good, issues = check(write(tmp_path / "eu.csv", delimiter, **{"tumour.size.value": size}))
    if cm is None:
        assert [(i.column, i.rule) for i in issues] == [("tumour.size.value",
                                                         IMPORT_NUMBER_RULE)]
        return
    assert issues == []
    assert good[0].case.tumour.size.value == cm


def test_where_a_comma_is_refused_the_point_is_the_decimal(tmp_path: Path) -> None:
    """A comma-separated file and an XLSX text cell take no decimal comma, so 5.000 has
    one reading there: 5.0."""
    good, issues = check(write(tmp_path / "en.csv", ",", **{"tumour.size.value": "5.000"}))
    assert issues == [] and good[0].case.tumour.size.value == 5.0
    [row] = rows_of({"PEC-0001": high_risk()})
    row["tumour.size.value"] = "5.000"
    _header, rows = read_table(write_xlsx(tmp_path / "x.xlsx", [row]))
    good, issues = validate_rows(rows, ON, default_settings(), assess_rows=False)
    assert issues == [] and good[0].case.tumour.size.value == 5.0


@pytest.mark.parametrize(("text", "comma", "point"), [
    ("5.000", None, "5.000"), ("12.500", None, "12.500"), ("-1.250", None, "-1.250"),
    ("123.456", None, "123.456"), ("5.5", "5.5", "5.5"), ("5.25", "5.25", "5.25"),
    ("0.125", "0.125", "0.125"), ("1234.567", "1234.567", "1234.567"),
    ("5.0000", "5.0000", "5.0000"), ("5,000", None, None),
])
def test_a_thousands_point_is_refused_by_the_one_reading(
    text: str, comma: str | None, point: str | None
) -> None:
    """The case form reads as a semicolon-separated file does: a thousands point (one to
    three digits, not 0, then three) is ambiguous wherever a decimal comma is read."""
    assert parse_form_number(text) == parse_number(text, decimal_comma=True) == comma
    assert parse_number(text, decimal_comma=False) == point


@pytest.mark.parametrize("delimiter", [",", ";"])
@pytest.mark.parametrize(("column", "text"), [
    ("tumour.size.value", "4_5"),   # a typo for 4,5: Python's float() reads 45 (S06: > 5 cm)
    ("tumour.size.value", "6_0"),   # 60 cm
    ("tumour.size.value", "1e1"),   # an exponent: 10 cm
    ("histology.mitoses_per_50_hpf", "1_0"),  # 10 mitoses, not 1,0
])
def test_a_digit_separator_or_an_exponent_is_refused_not_read_as_another_number(
    tmp_path: Path, delimiter: str, column: str, text: str
) -> None:
    """A number cell is a plain decimal: '4_5' had been stored and read as 45 cm, a kidney
    tumour of 4.5 cm (low risk) becoming high risk without a word."""
    good, issues = check(write(tmp_path / "x.csv", delimiter, **{column: text}))
    assert good == []
    assert [(i.column, i.value, i.rule) for i in issues] == [
        (column, repr(text), IMPORT_NUMBER_RULE)]
