"""Registry import: the number of a list's item in a column's name (``[1]`` in
``stage.metastases[1].site``) is read only as the layout writes it.

A header naming ``stage.metastases[01].site`` (or ``[001]``, ``[+1]``, ``[ 1]``, an
Arabic-Indic ``[١]``, a full-width ``[１]``) was taken as a column of item 1: beside
``stage.metastases[1].site`` both cells were put in the same metastasis, the later
column's value silently replacing the other (a liver metastasis recorded in ``[1]``
became the bone one of ``[01]``; the liver one was lost, with nothing said, and the
file imported). Such a header is now refused naming the column, the number written and
how an item's number is written, and nothing of the file is written, CSV or workbook.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pecoma.registry.columns import COLUMN_NAMES, column_kind, flatten, is_column
from pecoma.registry.import_check import RowIssue, header_issues
from pecoma.registry.importer import ImportMode, import_file
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.forms import ROW_NUMBER_RULE

from registry_support import ON, db_url, metastatic, repo, write_csv, write_xlsx

__all__ = ["db_url", "repo"]

Writer = Callable[[Path, list[dict[str, Any]], list[str] | None], Path]
WRITERS = [pytest.param(write_csv, id="csv"), pytest.param(write_xlsx, id="xlsx")]
ITEM_RULE = ("the number of a list's item is written in the digits 0 to 9 without a sign, "
             "spaces or leading zeros (0, 1, 2 … 99; [0] is the first item)")


def refusal(column: str, number: str) -> RowIssue:
    return RowIssue(1, column, repr(column),
                    f"has the item number {number!r} in brackets, which the import cannot "
                    f"read: {ITEM_RULE}")


def run(repo: Repository, path: Path, mode: ImportMode) -> Any:
    return import_file(repo, path, on_date=ON, settings=default_settings(), actor="importer",
                       mode=mode)


def two_metastases() -> dict[str, Any]:
    """A metastatic case (lung metastasis in [0]) with a liver metastasis in [1] and a
    bone one under a column numbered [01]."""
    row = flatten(metastatic(), "PEC-0001")
    row["stage.metastases[1].site"] = "liver"
    row["stage.metastases[01].site"] = "bone"
    return row


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("mode", [ImportMode.all_or_nothing, ImportMode.good_rows])
def test_a_column_numbered_01_beside_1_is_refused_and_nothing_written(
    repo: Repository, tmp_path: Path, write: Writer, mode: ImportMode
) -> None:
    """Before: imported, the patient stored with two metastases, lung and bone: the
    liver metastasis of [1] silently replaced by [01]'s bone. Now the header is refused
    (every row with it, in both modes) and no patient is written."""
    columns = [*COLUMN_NAMES, "stage.metastases[01].site"]
    path = write(tmp_path / ("m.csv" if write is write_csv else "m.xlsx"),
                 [two_metastases()], columns)
    report = run(repo, path, mode)
    assert report.issues == [refusal("stage.metastases[01].site", "01")]
    assert not report.committed
    assert repo.count()["patient"] == 0
    assert repo.timeline("PEC-0001") is None


@pytest.mark.parametrize("write", WRITERS)
@pytest.mark.parametrize("number", ["01", "001", "00", "+1", " 1", "١", "１", "²", "", "1.0"])
def test_an_item_number_not_written_canonically_is_refused_naming_it(
    repo: Repository, tmp_path: Path, write: Writer, number: str
) -> None:
    """Alone too (no [1] beside it): [01] was read as item 1 and [١] (int() reads
    Arabic-Indic digits) likewise; [00] as item 0. Each is refused, naming the column and
    the number as written."""
    column = f"stage.metastases[{number}].site"
    row = flatten(metastatic(), "PEC-0001")
    row[column] = "liver"
    path = write(tmp_path / ("one.csv" if write is write_csv else "one.xlsx"), [row],
                 [*COLUMN_NAMES, column])
    report = run(repo, path, ImportMode.all_or_nothing)
    assert report.issues == [refusal(column, number)]
    assert repo.count()["patient"] == 0


def test_an_item_beyond_the_last_slot_is_named_with_the_rule() -> None:
    """[100] is written canonically but beyond the 100 slots a file may carry: refused
    with the same rule (it had been "not a column of the registry layout")."""
    assert header_issues(["registry_id", "systemic.therapies[100].agent"])[:1] == [
        refusal("systemic.therapies[100].agent", "100")]


@pytest.mark.parametrize("number", ["01", "001", "٠", "١", "１", "²", "+1"])
def test_is_column_takes_only_canonical_item_numbers(number: str) -> None:
    name = f"stage.metastases[{number}].site"
    assert not is_column(name)
    assert column_kind(name) is None
    assert is_column("stage.metastases[1].site")
    assert is_column("stage.metastases[0].site")
    assert is_column("stage.metastases[10].site")
    assert is_column("stage.metastases[99].site")
    assert not is_column("stage.metastases[100].site")


def test_a_canonical_file_with_more_slots_still_imports(repo: Repository,
                                                        tmp_path: Path) -> None:
    """The rule refuses nothing the layout writes: items [1] and [10] are read as the
    second and third metastases (empty slots between are ignored)."""
    row = flatten(metastatic(), "PEC-0001")
    row["stage.metastases[1].site"] = "liver"
    row["stage.metastases[10].site"] = "bone"
    path = write_csv(tmp_path / "ok.csv", [row], [*COLUMN_NAMES, "stage.metastases[10].site"])
    report = run(repo, path, ImportMode.all_or_nothing)
    assert report.issues == [] and report.committed
    timeline = repo.timeline("PEC-0001")
    assert timeline is not None
    sites = [m["site"] for m in timeline.cases[-1].case["stage"]["metastases"]]
    assert sites == ["lung", "liver", "bone"]


@pytest.mark.parametrize(("text", "number"), [
    ("0", 0), ("1", 1), ("99", 99), ("100", 100),
    ("01", None), ("00", None), ("+1", None), (" 1", None), ("", None), ("١", None),
    ("１", None), ("²", None), ("-1", None), ("1 ", None)])
def test_one_rule_for_the_form_and_the_import(text: str, number: int | None) -> None:
    """One reading of a row (or item) number for the case form and the registry import,
    and one wording of its rule."""
    from pecoma.numbers import row_number

    assert row_number(text) == number
    assert ROW_NUMBER_RULE == ("a row number is written in the digits 0 to 9 without a "
                               "sign, spaces or leading zeros (0, 1, 2 … 99)")
