"""Export to the OMOP Common Data Model 5.4 with its oncology extension (EPISODE,
EPISODE_EVENT): one CSV per table, loadable into the 5.4 DDL (``data/omop54-subset.sql``).

From every patient's latest case and recorded outcomes:

==========================  =============================================================
PERSON                      one row per patient: year of birth and sex from the
                            demographics file (the registry records neither); a patient
                            without a year of birth is left out of every table, counted
OBSERVATION_PERIOD          from the diagnosis (or surgery) to the last date known alive (a
                            case date, an outcome or a scan done)
                            or the death
CONDITION_OCCURRENCE        the PEComa: ICD-O-3 histology/topography as source value
                            (``8714/3-C55.9``), concept 0 until mapped by the network
MEASUREMENT                 tumour size (largest dimension, mm)
PROCEDURE_OCCURRENCE        the resection, with its margin
DRUG_EXPOSURE               each systemic therapy with a start date
DEATH                       the recorded death and its cause
EPISODE                     disease first occurrence, each recurrence or metastasis (an
                            outcome, a surveillance scan that found it, or the case
                            version: its first metastasis detected), each progression,
                            each treatment regimen
EPISODE_EVENT               first occurrence -> its condition; regimen -> its drug
==========================  =============================================================

Concepts pecoma cannot map without the network's vocabulary are 0 ("no matching
concept") with the source value kept; the type of every record is "Registry". With
``pseudonymise`` the person's source value is a keyed hash of the registry id
(HMAC-SHA256 with the network's secret) instead of the id, and with ``month`` precision
every date is moved to the first day of its month. No free text is exported.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import hmac
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pecoma.case import Case, SizeUnit, SurgeryStatus, parse_case
from pecoma.errors import InputError
from pecoma.numbers import number_text
from pecoma.registry.routine import recorded_relapses

if TYPE_CHECKING:
    from pecoma.store.repository import OutcomeView, Repository, ScanData

__all__ = [
    "CONCEPTS",
    "TABLES",
    "Demographics",
    "OmopExport",
    "build_omop",
    "omop_export",
    "omop_rows",
    "pseudonym",
    "read_demographics",
    "write_omop",
]

# concept ids used (OMOP standard vocabulary; check against the network's release)
CONCEPTS: dict[str, int] = {
    "registry": 32879,  # Type Concept: Registry
    "female": 8532,
    "male": 8507,
    "millimeter": 8588,
    "disease_first_occurrence": 32528,
    "disease_recurrence": 32529,
    "treatment_regimen": 32531,
    "disease_progression": 32677,
    "condition_occurrence_id": 1147127,  # episode_event field: condition_occurrence
    "drug_exposure_id": 1147094,  # episode_event field: drug_exposure
}

TABLES: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth", "month_of_birth",
               "day_of_birth", "birth_datetime", "race_concept_id", "ethnicity_concept_id",
               "location_id", "provider_id", "care_site_id", "person_source_value",
               "gender_source_value", "gender_source_concept_id", "race_source_value",
               "race_source_concept_id", "ethnicity_source_value",
               "ethnicity_source_concept_id"),
    "observation_period": ("observation_period_id", "person_id",
                           "observation_period_start_date", "observation_period_end_date",
                           "period_type_concept_id"),
    "condition_occurrence": ("condition_occurrence_id", "person_id", "condition_concept_id",
                             "condition_start_date", "condition_start_datetime",
                             "condition_end_date", "condition_end_datetime",
                             "condition_type_concept_id", "condition_status_concept_id",
                             "stop_reason", "provider_id", "visit_occurrence_id",
                             "visit_detail_id", "condition_source_value",
                             "condition_source_concept_id", "condition_status_source_value"),
    "measurement": ("measurement_id", "person_id", "measurement_concept_id",
                    "measurement_date", "measurement_datetime", "measurement_time",
                    "measurement_type_concept_id", "operator_concept_id", "value_as_number",
                    "value_as_concept_id", "unit_concept_id", "range_low", "range_high",
                    "provider_id", "visit_occurrence_id", "visit_detail_id",
                    "measurement_source_value", "measurement_source_concept_id",
                    "unit_source_value", "unit_source_concept_id", "value_source_value",
                    "measurement_event_id", "meas_event_field_concept_id"),
    "procedure_occurrence": ("procedure_occurrence_id", "person_id", "procedure_concept_id",
                             "procedure_date", "procedure_datetime", "procedure_end_date",
                             "procedure_end_datetime", "procedure_type_concept_id",
                             "modifier_concept_id", "quantity", "provider_id",
                             "visit_occurrence_id", "visit_detail_id",
                             "procedure_source_value", "procedure_source_concept_id",
                             "modifier_source_value"),
    "drug_exposure": ("drug_exposure_id", "person_id", "drug_concept_id",
                      "drug_exposure_start_date", "drug_exposure_start_datetime",
                      "drug_exposure_end_date", "drug_exposure_end_datetime",
                      "verbatim_end_date", "drug_type_concept_id", "stop_reason", "refills",
                      "quantity", "days_supply", "sig", "route_concept_id", "lot_number",
                      "provider_id", "visit_occurrence_id", "visit_detail_id",
                      "drug_source_value", "drug_source_concept_id", "route_source_value",
                      "dose_unit_source_value"),
    "death": ("person_id", "death_date", "death_datetime", "death_type_concept_id",
              "cause_concept_id", "cause_source_value", "cause_source_concept_id"),
    "episode": ("episode_id", "person_id", "episode_concept_id", "episode_start_date",
                "episode_start_datetime", "episode_end_date", "episode_end_datetime",
                "episode_parent_id", "episode_number", "episode_object_concept_id",
                "episode_type_concept_id", "episode_source_value",
                "episode_source_concept_id"),
    "episode_event": ("episode_id", "event_id", "episode_event_field_concept_id"),
}

# ICD-O-3 topography of the case's primary sites (the site groups pecoma records)
TOPOGRAPHY: dict[str, str] = {
    "uterus": "C55.9", "broad_ligament": "C57.1", "other_gynecologic": "C57.9",
    "kidney": "C64.9", "liver": "C22.0", "retroperitoneum": "C48.0", "lung": "C34.9",
    "gastrointestinal": "C26.9", "bladder": "C67.9", "soft_tissue": "C49.9",
    "other": "C80.9",
}


@dataclass(frozen=True, slots=True)
class Demographics:
    sex: str  # female, male, unknown
    year_of_birth: int | None


DEMOGRAPHIC_COLUMNS = ("registry_id", "sex", "year_of_birth")
#: A year of birth: four ASCII digits, with a ".0" as a program writes a whole number
#: read as a decimal one (pandas, for a column with a blank cell).
_WHOLE_YEAR = re.compile(r"([0-9]{4})(?:\.0+)?")


def read_demographics(path: Path, on_date: dt.date | None = None) -> dict[str, Demographics]:
    """``registry_id,sex,year_of_birth`` rows of a CSV (commas, semicolons or tabs; UTF-8)
    or XLSX file, read as the registry's import reads a file (an empty line or a row of
    empty cells skipped; sex: female, male or unknown; year: a whole year, ``1960`` or
    ``1960.0`` as a spreadsheet program or pandas may write it, read as the import reads
    a number (:mod:`pecoma.numbers`: ``1960,0`` in a file separated by semicolons or
    tabs), empty = unknown, never after ``on_date``'s year), or :class:`InputError`
    naming each bad column or cell (a patient given twice included)."""
    from pecoma.errors import FieldIssue, show_value
    from pecoma.registry.import_check import is_empty
    from pecoma.registry.import_table import ImportFileError, open_table

    where = path.name  # and the sheet read, once known

    def refused(issues: list[FieldIssue]) -> InputError:
        return InputError(issues, f"demographics file {where}")

    latest = on_date.year if on_date is not None else 2100
    year_rule = (f"must be a whole year between 1900 and {latest} (1960, or 1960.0; "
                 "1960,0 in a CSV file separated by semicolons or tabs)")
    out: dict[str, Demographics] = {}
    first_row: dict[str, int] = {}
    issues: list[FieldIssue] = []
    try:
        with open_table(path, sheet="demographics", number_columns=("year_of_birth",)
                        ) as (header, rows, sheet, _merged):
            if sheet is not None:
                where = f"{path.name}, sheet {sheet!r}"
            unknown = [h for h in header if h not in DEMOGRAPHIC_COLUMNS]
            if unknown or "registry_id" not in header:
                allowed = ", ".join(DEMOGRAPHIC_COLUMNS)
                raise refused([FieldIssue(
                    "header", show_value(", ".join(header)),
                    f"must name the columns {allowed} (registry_id required; "
                    f"separated by commas, semicolons or tabs)"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else ""))])
            for r in rows:
                if is_empty(r):
                    continue  # an empty line, or a row of empty cells
                k = r.number
                issues += [FieldIssue(f"row {k}: {col}", value, rule)
                           for col, value, rule in r.problems]
                if "(row)" in r.cells:  # not read as a row: its problems say why
                    continue
                rid = str(r.cells.get("registry_id") or "").strip()
                sex = str(r.cells.get("sex") or "unknown").strip() or "unknown"
                year_cell = r.cells.get("year_of_birth")
                year_text = "" if year_cell is None else str(year_cell).strip()
                if not rid:
                    issues.append(FieldIssue(f"row {k}: registry_id", "''", "is required"))
                elif rid in first_row:
                    issues.append(FieldIssue(
                        f"row {k}: registry_id", show_value(rid),
                        f"must appear only once in the file (also in row {first_row[rid]})"))
                else:
                    first_row[rid] = k
                if sex not in ("female", "male", "unknown"):
                    issues.append(FieldIssue(f"row {k}: sex", show_value(sex),
                                             "must be female, male or unknown"))
                year: int | None = None
                if year_text and not any(col == "year_of_birth" for col, _v, _r
                                         in r.problems):  # (refused already: 1.960)
                    whole = _WHOLE_YEAR.fullmatch(year_text)
                    if whole is None or not 1900 <= int(whole[1]) <= latest:
                        issues.append(FieldIssue(f"row {k}: year_of_birth",
                                                 show_value(year_text), year_rule))
                    else:
                        year = int(whole[1])
                if rid:
                    out.setdefault(rid, Demographics(sex, year))
    except ImportFileError as exc:
        raise refused([FieldIssue("demographics", path.name, str(exc))]) from exc
    if issues:
        raise refused(issues)
    return out


def pseudonym(registry_id: str, secret: bytes) -> str:
    """The keyed hash of a registry id: the same for every export with the same secret,
    useless without it (HMAC-SHA256, first 32 hex digits)."""
    return hmac.new(secret, registry_id.encode(), hashlib.sha256).hexdigest()[:32]


@dataclass(slots=True)
class OmopExport:
    """The rows of each table (``tables``: only when built in memory, see
    :func:`build_omop`; a streamed export keeps the counts alone) and the patients left
    out, by reason."""

    tables: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    #: rows of the demographics file whose registry id names no patient of the registry
    persons_not_found: int = 0

    def counts(self) -> dict[str, int]:
        if self.rows:
            return dict(self.rows)
        return {t: len(rows) for t, rows in self.tables.items()}


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


class _Rows:
    """Appending a row to a table hands it on (``table`` -> ``(table, row)``)."""

    __slots__ = ("out", "table")

    def __init__(self, table: str, out: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.table = table
        self.out = out

    def append(self, row: tuple[Any, ...]) -> None:
        self.out.append((self.table, row))


def omop_rows(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    demographics: Mapping[str, Demographics],
    on_date: dt.date,
    left_out: dict[str, int],
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    last_scans: Mapping[str, dt.date] | None = None,
    disease_scans: Mapping[str, Sequence[ScanData]] | None = None,
) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The OMOP rows of the patients (registry id, latest case data, ICD-O-3 histology
    of the latest assessment), in the given order (person ids 1, 2, …), as (table, row),
    patient by patient; the patients left out are counted in ``left_out`` by reason.
    ``last_scans``: each patient's latest scan done by ``on_date``; ``disease_scans``:
    the scans done by then that found disease
    (:meth:`Repository.disease_scans <pecoma.store.repository.Repository.disease_scans>`),
    each relapse they record a recurrence episode
    (:func:`pecoma.registry.routine.recorded_relapses`).

    Every case is read through the case model again (``parse_case``): a case stored
    under an older case model that no longer validates is left out and counted."""
    ready: list[tuple[str, tuple[Any, ...]]] = []
    t = {table: _Rows(table, ready) for table in TABLES}
    reg = CONCEPTS["registry"]
    day = _month if month_precision else (lambda d: d)
    ids = dict.fromkeys(TABLES, 0)

    def next_id(table: str) -> int:
        ids[table] += 1
        return ids[table]

    def skip(reason: str) -> None:
        left_out[reason] = left_out.get(reason, 0) + 1

    person_id = 0
    for rid, data, histology in patients:
        demo = demographics.get(rid)
        if demo is None or demo.year_of_birth is None:
            skip("no year of birth (OMOP PERSON requires it)")
            continue
        try:
            case: Case = parse_case(data, source="stored case")
        except InputError:
            skip("stored case not readable")
            continue
        events = [o for o in outcomes.get(rid, ()) if o.event_date <= on_date]
        resected = (case.surgery.date if case.surgery.status is SurgeryStatus.performed
                    else None)
        start = case.diagnosis.date or resected
        if start is None:
            skip("no diagnosis or surgery date")
            continue
        if demo.year_of_birth > start.year:
            # a year of birth mistyped (the reader knows no diagnosis): never exported as a
            # person born after the disease
            skip("year of birth after the year of diagnosis or surgery")
            continue
        death = next((o for o in events if o.event == "death"), None)
        if death is not None and death.event_date < start:
            # (refused when recorded; a registry may hold it from before): the period
            # would end before it starts
            skip("death recorded before the diagnosis or surgery date")
            continue
        person_id += 1
        pid = person_id
        gender = CONCEPTS.get(demo.sex, 0)
        t["person"].append((
            pid, gender, demo.year_of_birth, None, None, None, 0, 0, None, None, None,
            pseudonym(rid, secret) if secret is not None else rid, demo.sex, None, None,
            None, None, None))
        # the latest day known alive: the case's dates, the outcomes and the scans done
        known = [d for d in (case.latest_date, (last_scans or {}).get(rid),
                             *(o.event_date for o in events))
                 if d is not None and d <= on_date]
        end = death.event_date if death is not None else max([start, *known])
        t["observation_period"].append((next_id("observation_period"), pid, day(start),
                                        day(end), reg))
        topo = TOPOGRAPHY.get(case.tumour.primary_site.value, "C80.9")
        source = f"{histology or '8714'}-{topo}"
        cond = next_id("condition_occurrence")
        t["condition_occurrence"].append((
            cond, pid, 0, day(start), None, None, None, reg, None, None, None, None, None,
            source, None, None))
        size = case.tumour.size
        if size is not None:
            # exactly, never rounded: 50.04 mm (larger than 5 cm, S06) is not 50.0 mm;
            # written as number_text writes it, never in exponent form (1e-07)
            mm = number_text(size.value if size.unit is SizeUnit.mm else float(
                Decimal(number_text(size.value)) * 10))
            t["measurement"].append((
                next_id("measurement"), pid, 0, day(resected or start), None, None, reg,
                None, mm, None, CONCEPTS["millimeter"], None, None, None, None, None,
                "tumour size, largest dimension", None, "mm", None, None, None, None))
        if resected is not None:
            t["procedure_occurrence"].append((
                next_id("procedure_occurrence"), pid, 0, day(resected), None, None, None,
                reg, None, None, None, None, None, "resection of the primary tumour", None,
                f"margin {case.surgery.margin.value}"))
        first = next_id("episode")
        t["episode"].append((first, pid, CONCEPTS["disease_first_occurrence"], day(start),
                             None, None, None, None, 1, 0, reg, "first occurrence", None))
        t["episode_event"].append((first, cond, CONCEPTS["condition_occurrence_id"]))
        # each recurrence or metastasis, from every source: an outcome, a scan that found
        # it, or the case version (its first metastasis detected), with each
        # progression, by date
        phases: list[tuple[dt.date, str, str]] = []
        scans = [sc for sc in (disease_scans or {}).get(rid, ()) if sc.performed_on <= on_date]
        for r in recorded_relapses(case, events, scans):
            if r.on is None:
                skip("relapse recorded in the case without a date (no recurrence episode)")
            elif r.on <= on_date:
                phases.append((r.on, "disease_recurrence", r.event))
        phases += [(o.event_date, "disease_progression", "progression")
                   for o in events if o.event == "progression"]
        number = {"disease_recurrence": 0, "disease_progression": 0}
        for when, kind, what in sorted(phases, key=lambda p: p[0]):
            number[kind] += 1
            t["episode"].append((
                next_id("episode"), pid, CONCEPTS[kind], day(when), None, None, None,
                first, number[kind], 0, reg, what, None))
        line = 0
        for therapy in case.systemic.therapies:
            if therapy.started_on is None:
                skip("systemic therapy without a start date (drug not exported)")
                continue
            line += 1
            drug = next_id("drug_exposure")
            started = day(therapy.started_on)
            # the end recorded, else the start (the end date is required): the verbatim
            # end and the regimen's end only when recorded
            ended = day(therapy.ended_on) if therapy.ended_on is not None else None
            t["drug_exposure"].append((
                drug, pid, 0, started, None, ended or started, None, ended, reg, None, None,
                None, None, None, None, None, None, None, None, therapy.agent.value, None,
                None, None))
            regimen = next_id("episode")
            t["episode"].append((
                regimen, pid, CONCEPTS["treatment_regimen"], started, None, ended, None,
                first, therapy.line or line, 0, reg, f"{therapy.setting.value} therapy",
                None))
            t["episode_event"].append((regimen, drug, CONCEPTS["drug_exposure_id"]))
        if death is not None:
            t["death"].append((pid, day(death.event_date), None, reg, 0,
                               death.vital_status, None))
        yield from ready
        ready.clear()


def _noting(patients: Iterable[tuple[str, dict[str, Any], str | None]], seen: set[str]
            ) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    for patient in patients:
        seen.add(patient[0])
        yield patient


def build_omop(
    patients: Iterable[tuple[str, dict[str, Any], str | None]],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    demographics: Mapping[str, Demographics],
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
    last_scans: Mapping[str, dt.date] | None = None,
    disease_scans: Mapping[str, Sequence[ScanData]] | None = None,
) -> OmopExport:
    """The OMOP rows of the patients in memory (for small registries and tests)."""
    ex = OmopExport({t: [] for t in TABLES})
    seen: set[str] = set()
    for table, row in omop_rows(_noting(patients, seen), outcomes, demographics, on_date,
                                ex.left_out, secret=secret, month_precision=month_precision,
                                last_scans=last_scans, disease_scans=disease_scans):
        ex.tables[table].append(row)
    ex.persons_not_found = sum(rid not in seen for rid in demographics)
    return ex


def write_omop(rows: Iterable[tuple[str, tuple[Any, ...]]], folder: Path) -> dict[str, int]:
    """One CSV per table (header row; empty cell = NULL; dates YYYY-MM-DD), written as
    the rows come; returns the rows per table. The files are written aside and moved
    into ``folder`` only when all are complete: a failed export leaves no partial file."""
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=folder))
    counts = dict.fromkeys(TABLES, 0)
    try:
        with contextlib.ExitStack() as stack:
            writers = {}
            for table, columns in TABLES.items():
                f = stack.enter_context(
                    (work / f"{table}.csv").open("w", newline="", encoding="utf-8"))
                w = csv.writer(f, lineterminator="\n")
                w.writerow(columns)
                writers[table] = w.writerow
            for table, row in rows:
                writers[table](row)
                counts[table] += 1
        for table in TABLES:
            (work / f"{table}.csv").replace(folder / f"{table}.csv")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return counts


def omop_export(
    repo: Repository,
    folder: Path,
    demographics: Mapping[str, Demographics],
    on_date: dt.date,
    *,
    secret: bytes | None = None,
    month_precision: bool = False,
) -> OmopExport:
    """Read the registry, build and write the OMOP tables into ``folder``, streaming
    (one patient in memory at a time); the export carries the counts, not the rows."""
    ex = OmopExport()
    seen: set[str] = set()
    rows = omop_rows(_noting(repo.iter_latest_cases(), seen), repo.outcomes_by_registry_id(),
                     demographics, on_date, ex.left_out, secret=secret,
                     month_precision=month_precision,
                     last_scans=repo.last_scan_dates(on_date),
                     disease_scans=repo.disease_scans(on_date))
    ex.rows = write_omop(rows, folder)
    ex.persons_not_found = sum(rid not in seen for rid in demographics)
    return ex
