"""OMOP CDM 5.4 export: loaded into the 5.4 DDL (constraints on) on DuckDB and PostgreSQL,
a golden query on a fixture registry, pseudonymisation and month precision."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest

from pecoma.registry.omop import Demographics, omop_export, pseudonym
from pecoma.registry.outcomes import record_outcome
from pecoma.registry.service import record_case
from pecoma.settings import default_settings
from pecoma.store import Repository

from registry_support import ON, db_url, high_risk, low_risk, metastatic, repo

__all__ = ["db_url", "repo"]

DDL = resources.files("pecoma.registry").joinpath("data/omop54-subset.sql")
DEMO = {"H1": Demographics("female", 1971), "L1": Demographics("male", 1958),
        "M1": Demographics("unknown", 1980)}  # N1 has no year of birth


def add(repo: Repository, rid: str, case: dict[str, object]) -> None:
    record_case(repo, rid, case, on_date=ON, settings=default_settings(), actor="clinic",
                source="test")


@pytest.fixture
def fixture_registry(repo: Repository) -> Repository:
    """H1 high risk resected, local recurrence then death; L1 low risk resected; M1
    metastatic on everolimus, progression; N1 without demographics (left out)."""
    add(repo, "H1", high_risk())
    add(repo, "L1", low_risk())
    add(repo, "M1", metastatic("everolimus"))
    add(repo, "N1", high_risk())
    for rid, event, day, vital, found in (
        ("H1", "local_recurrence", "2026-01-10", None, "symptoms"),
        ("H1", "death", "2026-07-10", "dead_of_disease", None),
        ("M1", "progression", "2026-03-01", None, "scheduled_scan"),
    ):
        record_outcome(repo, rid, event, day, vital, found, on_date=ON, actor="dr-a")
    return repo


def export(repo: Repository, folder: Path, **kw: object) -> object:
    return omop_export(repo, folder, DEMO, ON, **kw)  # type: ignore[arg-type]


GOLDEN = """
    SELECT episode_concept_id, count(DISTINCT person_id) AS persons
    FROM episode GROUP BY episode_concept_id ORDER BY episode_concept_id
"""
# first occurrence: H1, L1, M1; recurrence: H1; regimen: M1 (everolimus); progression: M1
EXPECTED = [(32528, 3), (32529, 1), (32531, 1), (32677, 1)]


def rows(folder: Path, table: str) -> list[dict[str, str]]:
    with (folder / f"{table}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


class TestContent:
    def test_tables_and_left_out(self, fixture_registry: Repository, tmp_path: Path) -> None:
        ex = export(fixture_registry, tmp_path)
        assert ex.left_out == {"no year of birth (OMOP PERSON requires it)": 1}  # type: ignore[attr-defined]
        person = rows(tmp_path, "person")
        assert [(p["person_source_value"], p["year_of_birth"], p["gender_concept_id"])
                for p in person] == [("H1", "1971", "8532"), ("L1", "1958", "8507"),
                                     ("M1", "1980", "0")]
        cond = rows(tmp_path, "condition_occurrence")
        # uterine, 8 cm with necrosis: Folpe 2005 says malignant (two worrisome features),
        # Bennett 2018 uncertain malignant potential (fewer than three of its features);
        # the systems disagree, so no behaviour code is asserted: morphology 8714 alone,
        # of the uterus (C55.9), from the diagnosis
        assert (cond[0]["condition_source_value"], cond[0]["condition_start_date"]) == (
            "8714-C55.9", "2025-01-06")
        # 3 cm kidney tumour without worrisome features
        assert cond[1]["condition_source_value"].endswith("-C64.9")
        size = rows(tmp_path, "measurement")
        assert [(m["person_id"], m["value_as_number"]) for m in size] == [
            ("1", "80"), ("2", "30"), ("3", "120")]
        death = rows(tmp_path, "death")
        assert [(d["person_id"], d["death_date"], d["cause_source_value"]) for d in death] == [
            ("1", "2026-07-10", "dead_of_disease")]
        drug = rows(tmp_path, "drug_exposure")
        assert [(d["person_id"], d["drug_source_value"]) for d in drug] == [("3", "everolimus")]
        period = rows(tmp_path, "observation_period")
        assert period[0]["observation_period_end_date"] == "2026-07-10"  # H1: the death

    @pytest.mark.parametrize(("size", "mm"), [
        ({"value": 5.004, "unit": "cm"}, "50.04"),  # larger than 5 cm (S06): was 50.0
        ({"value": 50.04, "unit": "mm"}, "50.04"),
        ({"value": 5.000001, "unit": "cm"}, "50.00001"),
        ({"value": 5, "unit": "cm"}, "50"),  # at the cut-off (was 50.0: the same number)
        # never in exponent form (was 1e-06 and 1e-07): written as number_text writes it
        ({"value": 0.0000001, "unit": "cm"}, "0.000001"),
        ({"value": 0.0000001, "unit": "mm"}, "0.0000001"),
        ({"value": 99.99999999999999, "unit": "cm"}, "999.9999999999999"),
    ])
    def test_the_size_is_exported_exactly(self, repo: Repository, tmp_path: Path,
                                          size: dict[str, object], mm: str) -> None:
        """The measurement holds the size in mm exactly as recorded: rounded to 0.1 mm,
        a tumour larger than 5 cm (S06, high risk in pecoma) was exported as one of
        50.0 mm, on the cut-off, for whoever reads the export; a tiny one was written in
        exponent form (``1e-07``), which the case form and the registry import refuse."""
        case = high_risk()
        case["tumour"] = {**case["tumour"], "size": size}
        add(repo, "H1", case)
        export(repo, tmp_path)
        assert [m["value_as_number"] for m in rows(tmp_path, "measurement")] == [mm]

    def test_a_scan_extends_the_observation_period(self, fixture_registry: Repository,
                                                  tmp_path: Path) -> None:
        """L1's latest scan (2026-09-15) is a day it was known alive: its period runs to
        it (it had stopped at the case's latest date, as if followed no further); a scan
        after the export's date does not count."""
        from pecoma.registry.service import record_scan

        export(fixture_registry, tmp_path / "a")
        ended = rows(tmp_path / "a", "observation_period")[1]["observation_period_end_date"]
        assert ended < "2026-09-15"
        record_scan(fixture_registry, "L1", "2026-09-15", "chest_ct", "no_evidence_of_disease",
                    on_date=ON, actor="dr-a")
        export(fixture_registry, tmp_path / "b")
        period = rows(tmp_path / "b", "observation_period")
        assert period[1]["observation_period_end_date"] == "2026-09-15"

    def test_pseudonymised_month_precision(self, fixture_registry: Repository,
                                           tmp_path: Path) -> None:
        """The person carries the keyed hash, never the id; every date is a first of
        month; the same secret gives the same pseudonym (centres can be merged)."""
        secret = b"network-secret-of-32-bytes-long!"
        export(fixture_registry, tmp_path, secret=secret, month_precision=True)
        person = rows(tmp_path, "person")
        assert person[0]["person_source_value"] == pseudonym("H1", secret)
        assert pseudonym("H1", secret) != pseudonym("H1", b"another-secret-0123456789")
        text = "".join((tmp_path / f).read_text() for f in ("person.csv", "episode.csv"))
        assert "H1" not in text and "L1" not in text
        for table, column in (("condition_occurrence", "condition_start_date"),
                              ("death", "death_date"), ("episode", "episode_start_date")):
            for r in rows(tmp_path, table):
                assert r[column].endswith("-01"), (table, r[column])


def _load_duckdb(folder: Path) -> list[tuple[int, int]]:
    import duckdb

    con = duckdb.connect()
    con.execute(DDL.read_text(encoding="utf-8"))
    for table in ("person", "observation_period", "condition_occurrence", "measurement",
                  "procedure_occurrence", "drug_exposure", "death", "episode",
                  "episode_event"):
        con.execute(f"COPY {table} FROM '{folder / (table + '.csv')}' (HEADER, NULL '')")
    return [tuple(r) for r in con.execute(GOLDEN).fetchall()]  # type: ignore[misc]


class TestLoading:
    def test_duckdb(self, fixture_registry: Repository, tmp_path: Path) -> None:
        export(fixture_registry, tmp_path)
        assert _load_duckdb(tmp_path) == EXPECTED

    def test_duckdb_refuses_a_broken_file(self, fixture_registry: Repository,
                                          tmp_path: Path) -> None:
        """The constraints are on: an episode of an unknown person does not load."""
        import duckdb

        export(fixture_registry, tmp_path)
        with (tmp_path / "episode.csv").open("a", encoding="utf-8") as f:
            f.write("999,999,32528,2026-01-01,,,,,1,0,32879,x,\n")
        with pytest.raises(duckdb.Error):
            _load_duckdb(tmp_path)

    @pytest.mark.postgres
    def test_postgresql(self, fixture_registry: Repository, tmp_path: Path,
                        postgres_database: str) -> None:
        import psycopg
        from sqlalchemy.engine import make_url

        export(fixture_registry, tmp_path)
        url = make_url(postgres_database).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False)) as con:
            con.execute("CREATE SCHEMA omop; SET search_path TO omop")
            con.execute(DDL.read_text(encoding="utf-8"))
            for table in ("person", "observation_period", "condition_occurrence",
                          "measurement", "procedure_occurrence", "drug_exposure", "death",
                          "episode", "episode_event"):
                with (tmp_path / f"{table}.csv").open("rb") as f, con.cursor().copy(
                    f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)"
                ) as copy:
                    copy.write(f.read())
            got = con.execute(GOLDEN).fetchall()
        assert [tuple(r) for r in got] == EXPECTED


def test_cli(db_url: str, fixture_registry: Repository, tmp_path: Path) -> None:
    from test_registry_cli import no_traceback, pecoma

    demo = tmp_path / "demo.csv"
    demo.write_text("registry_id,sex,year_of_birth\nH1,female,1971\nL1,male,1958\n")
    secret = tmp_path / "secret"
    secret.write_bytes(b"network-secret-of-32-bytes-long!")
    r = pecoma("registry", "export-omop", str(tmp_path / "out"), "--demographics", str(demo),
               "--pseudonymise", str(secret), "--dates", "month", "--on", "2026-11-28",
               "--database-url", db_url)
    assert r.returncode == 0, r.stderr
    assert "person: 2 rows" in r.stdout
    assert "left out: 2 (no year of birth (OMOP PERSON requires it))" in r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("registry_id,sex,year_of_birth\nH1,f,19x1\n")
    r = pecoma("registry", "export-omop", str(tmp_path / "o2"), "--demographics", str(bad),
               "--database-url", db_url)
    assert r.returncode == 3
    no_traceback(r)
    assert "'row 2: sex'" in r.stderr + r.stdout and "'row 2: year_of_birth'" in (
        r.stderr + r.stdout)
    # a spreadsheet's plain 'CSV' save (cp1252): named, exit 3 (it had been exit 1,
    # "internal error: UnicodeDecodeError")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"registry_id,sex,year_of_birth\nH1,f\xe9male,1970\n")
    r = pecoma("registry", "export-omop", str(tmp_path / "o3"), "--demographics", str(latin),
               "--database-url", db_url)
    assert r.returncode == 3
    no_traceback(r)
    assert "latin.csv" in r.stderr and "not UTF-8" in " ".join(r.stderr.split())




def test_a_year_of_other_digits_is_named_not_a_crash(tmp_path: Path) -> None:
    """'19²1' and Arabic-Indic digits pass str.isdigit() but are no year, and int() does
    not read 5,000 digits: the row and the column are named, as for any bad year (int()
    once raised on all three)."""
    from pecoma.errors import InputError
    from pecoma.registry.omop import read_demographics

    path = tmp_path / "demo.csv"
    path.write_text("registry_id,sex,year_of_birth\nH1,female,19²1\nL1,male,١٩٥٨\n"
                    f"M1,male,{'9' * 5000}\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_demographics(path)
    assert [(i.path, i.rule) for i in caught.value.issues] == [
        ("row 2: year_of_birth", "must be a whole year between 1900 and 2100 (1960, or 1960.0; "
         "1960,0 in a CSV file separated by semicolons or tabs)"),
        ("row 3: year_of_birth", "must be a whole year between 1900 and 2100 (1960, or 1960.0; "
         "1960,0 in a CSV file separated by semicolons or tabs)"),
        ("row 4: year_of_birth", "must be a whole year between 1900 and 2100 (1960, or 1960.0; "
         "1960,0 in a CSV file separated by semicolons or tabs)"),
    ]


class TestDemographicsFile:
    """The demographics file is read as the registry's import reads a file: every
    problem named, nothing resolved silently (a research network would receive it)."""

    @staticmethod
    def refused(path: Path, on: str | None = None) -> list[tuple[str, str, str]]:
        import datetime as dt

        from pecoma.errors import InputError
        from pecoma.registry.omop import read_demographics

        with pytest.raises(InputError) as caught:
            read_demographics(path, dt.date.fromisoformat(on) if on else None)
        return [(i.path, i.value, i.rule) for i in caught.value.issues]

    def test_not_utf8_is_named_not_an_internal_error(self, tmp_path: Path) -> None:
        """A spreadsheet's plain 'CSV' save writes 'é' as byte 0xe9: the file and the
        encoding are named (it had ended in 'internal error: UnicodeDecodeError')."""
        path = tmp_path / "demo.csv"
        path.write_bytes(b"registry_id,sex,year_of_birth\nH1,f\xe9male,1970\n")
        ((where, value, rule),) = self.refused(path)
        assert (where, value) == ("demographics", "demo.csv")
        assert "byte 0xe9 is not UTF-8 text" in rule and "CSV UTF-8" in rule

    def test_a_patient_given_twice_is_refused(self, tmp_path: Path) -> None:
        """Two rows for PEC-0002 that disagree (male 1960, female 1961): which is right
        cannot be told; the later one had silently won."""
        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,year_of_birth\nPEC-0002,male,1960\n"
                        "PEC-0002,female,1961\n", encoding="utf-8")
        assert self.refused(path) == [
            ("row 3: registry_id", "'PEC-0002'",
             "must appear only once in the file (also in row 2)")]

    def test_the_header_is_checked(self, tmp_path: Path) -> None:
        """A misspelt column (yob) had given every patient 'no year of birth' and exit 0:
        the header is refused naming the unknown column and the columns allowed."""
        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,yob\nH1,female,1970\n", encoding="utf-8")
        ((where, _value, rule),) = self.refused(path)
        assert where == "header"
        assert "registry_id, sex, year_of_birth" in rule and "unknown: yob" in rule

    def test_a_workbook_is_read_from_its_demographics_sheet_whatever_its_case(
        self, tmp_path: Path
    ) -> None:
        """A notes sheet before the data is not read as the data: the sheet named
        demographics is (letter case and spaces around it do not matter), and a workbook
        of several sheets none so named is refused naming them and the name expected."""
        from openpyxl import Workbook

        from pecoma.registry.omop import read_demographics

        def book(second: str) -> Path:
            wb = Workbook()
            notes = wb.active
            assert notes is not None
            notes.title = "Notes"
            notes.append(["Fill the Demographics sheet"])
            data = wb.create_sheet(second)
            data.append(["registry_id", "sex", "year_of_birth"])
            data.append(["H1", "female", 1970])
            path = tmp_path / f"{second.strip()}.xlsx"
            wb.save(path)
            return path

        assert read_demographics(book("Demographics ")) == {"H1": Demographics("female", 1970)}
        ((where, value, rule),) = self.refused(book("Data"))
        assert (where, value) == ("demographics", "Data.xlsx")
        assert rule.startswith("the workbook has 2 sheets ('Notes', 'Data') and none is "
                               "named 'demographics'")

    def test_semicolons_are_read_as_in_the_import(self, tmp_path: Path) -> None:
        """A file separated by semicolons, as the import takes it, is read (it had said
        'registry_id is required' on every row)."""
        from pecoma.registry.omop import read_demographics

        path = tmp_path / "demo.csv"
        path.write_text("registry_id;sex;year_of_birth\nH1;female;1970\n", encoding="utf-8")
        assert read_demographics(path) == {"H1": Demographics("female", 1970)}

    def test_cells_beyond_the_header_are_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,year_of_birth\nH1,female,1970,1,2\n",
                        encoding="utf-8")
        ((where, value, rule),) = self.refused(path)
        assert (where, value) == ("row 2: (column 4, D)", "'1'")
        assert rule.startswith("must be empty: the header row names columns A to C only")

    def test_a_year_after_the_export_date_is_refused(self, tmp_path: Path) -> None:
        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,year_of_birth\nH1,female,2030\n", encoding="utf-8")
        assert self.refused(path, "2026-03-01") == [
            ("row 2: year_of_birth", "'2030'",
             "must be a whole year between 1900 and 2026 (1960, or 1960.0; "
             "1960,0 in a CSV file separated by semicolons or tabs)")]

    def test_empty_lines_and_rows_of_empty_cells_are_skipped(self, tmp_path: Path) -> None:
        """Blank lines at the end (an editor's) and a row of separators only (a
        spreadsheet's formatted empty row) had stopped the export with 'registry_id is
        required (got '')' for each; the import skips them, and so does this file."""
        from pecoma.registry.omop import read_demographics

        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,year_of_birth\nH1,female,1970\n\n,,\n"
                        "L1,male,1958\n\n\n", encoding="utf-8")
        assert read_demographics(path) == {"H1": Demographics("female", 1970),
                                           "L1": Demographics("male", 1958)}
        # a row with a year but no registry id is no empty row: still refused
        path.write_text("registry_id,sex,year_of_birth\n,,1970\n", encoding="utf-8")
        assert self.refused(path) == [("row 2: registry_id", "''", "is required")]

    @pytest.mark.parametrize("sep", [";", "\t"])
    def test_a_decimal_comma_year_is_read_where_the_import_reads_one(
        self, tmp_path: Path, sep: str
    ) -> None:
        """A spreadsheet set to a language with a decimal comma saves a year column
        holding a blank as 1960,0 in a file separated by semicolons (or tabs): the import
        reads that comma as a decimal one, the demographics file refused it. The same
        number rule now reads it as 1960; a number that reads two ways (1.960: 1,96 or
        1960?) is refused as the import refuses it, and 1960,5 is still no whole year."""
        from pecoma.registry.omop import read_demographics

        path = tmp_path / "demo.csv"
        path.write_text(f"registry_id{sep}sex{sep}year_of_birth\r\nH1{sep}female{sep}"
                        f"1960,0\r\nL1{sep}male{sep}1958,00\r\n", encoding="utf-8-sig")
        assert read_demographics(path) == {"H1": Demographics("female", 1960),
                                           "L1": Demographics("male", 1958)}
        path.write_text(f"registry_id{sep}sex{sep}year_of_birth\nH1{sep}female{sep}1.960\n"
                        f"L1{sep}male{sep}1960,5\n", encoding="utf-8")
        [(col, value, rule), later] = self.refused(path, "2026-03-01")
        assert (col, value) == ("row 2: year_of_birth", "'1.960'")
        assert rule.startswith("is ambiguous where a decimal comma is read")
        assert later[0] == "row 3: year_of_birth"
        assert later[2].startswith("must be a whole year between 1900 and 2026")

    def test_a_decimal_comma_year_in_a_comma_separated_file_is_refused(
        self, tmp_path: Path
    ) -> None:
        """In a file separated by commas a comma cannot be a decimal one ("1,960" may be
        a thousands separator): refused, the rule saying where a decimal comma is read."""
        path = tmp_path / "demo.csv"
        path.write_text('registry_id,sex,year_of_birth\nH1,female,"1960,0"\n',
                        encoding="utf-8")
        [(col, value, rule)] = self.refused(path, "2026-03-01")
        assert (col, value) == ("row 2: year_of_birth", "'1960,0'")
        assert "1960,0 in a CSV file separated by semicolons or tabs" in rule

    def test_a_year_written_with_a_decimal_zero_is_that_year(self, tmp_path: Path) -> None:
        """pandas writes a year column holding a blank as 1960.0: it had been refused as
        'must be a year between 1900 and 2026', though 1960 is; a year with another
        decimal is refused saying a whole year is needed."""
        from pecoma.registry.omop import read_demographics

        path = tmp_path / "demo.csv"
        path.write_text("registry_id,sex,year_of_birth\nH1,female,1960.0\nL1,male,\n",
                        encoding="utf-8")
        assert read_demographics(path) == {"H1": Demographics("female", 1960),
                                           "L1": Demographics("male", None)}
        path.write_text("registry_id,sex,year_of_birth\nH1,female,1960.5\n"
                        "L1,male,1960.\n", encoding="utf-8")
        assert self.refused(path, "2026-03-01") == [
            ("row 2: year_of_birth", "'1960.5'",
             "must be a whole year between 1900 and 2026 (1960, or 1960.0; "
             "1960,0 in a CSV file separated by semicolons or tabs)"),
            ("row 3: year_of_birth", "'1960.'",
             "must be a whole year between 1900 and 2026 (1960, or 1960.0; "
             "1960,0 in a CSV file separated by semicolons or tabs)")]


def test_a_person_born_after_the_diagnosis_is_left_out(repo: Repository) -> None:
    """A year of birth after the year of diagnosis (a mistyped year) is never exported as
    a person born after the disease: left out and counted, as a death before the
    diagnosis is. Rows naming no patient of the registry are counted too."""
    from pecoma.registry.omop import build_omop

    add(repo, "H1", high_risk())  # diagnosed in 2025
    ex = build_omop(repo.iter_latest_cases(), {}, {"H1": Demographics("female", 2026),
                                                   "X9": Demographics("male", 1950)}, ON)
    assert ex.tables["person"] == []
    assert ex.left_out == {"year of birth after the year of diagnosis or surgery": 1}
    assert ex.persons_not_found == 1


def test_a_line_ended_gives_the_exposures_end(repo: Repository, tmp_path: Path) -> None:
    """Everolimus from 2025-07-01 ended 2026-02-01: the drug exposure ends on that day
    (its verbatim end too) and so does the regimen's episode. With no end recorded, the
    exposure's end (required) is its start and the verbatim end is left empty, as
    before: an end not recorded is not made up."""
    ended = metastatic("everolimus")
    ended["systemic"]["therapies"][0]["ended_on"] = "2026-02-01"  # type: ignore[index]
    add(repo, "M1", ended)
    add(repo, "M2", metastatic("everolimus"))
    omop_export(repo, tmp_path, {"M1": Demographics("unknown", 1980),
                                 "M2": Demographics("unknown", 1981)}, ON)
    drug = rows(tmp_path, "drug_exposure")
    assert [(d["drug_exposure_start_date"], d["drug_exposure_end_date"],
             d["verbatim_end_date"]) for d in drug] == [
        ("2025-07-01", "2026-02-01", "2026-02-01"), ("2025-07-01", "2025-07-01", "")]
    regimens = [e for e in rows(tmp_path, "episode")
                if e["episode_source_value"] == "advanced therapy"]
    assert [e["episode_end_date"] for e in regimens] == ["2026-02-01", ""]
