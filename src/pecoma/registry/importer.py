"""Import a registry file (CSV or XLSX, the layout of :mod:`pecoma.registry.columns`).

The file is read by :mod:`pecoma.registry.import_table`. Every row is validated the same
way as any other input (:mod:`pecoma.registry.import_check`): flat columns become a nested
case, :func:`~pecoma.case.parse_case` checks it and :func:`~pecoma.engine.assess` checks
its dates against the evaluation date. Each broken rule is reported with its row number
(the spreadsheet's: the header is row 1), column, value and what is allowed. This module
holds the import itself: the engine work, shared by worker processes for a large file,
and the batched writes in one transaction.

Optional outcome columns (``outcome.<event>.date`` and its ``vital_status`` or
``found_by``, see :data:`~pecoma.registry.outcomes.OUTCOME_COLUMNS`) record outcomes with
the row's case, checked like any outcome (against the row's case and the outcomes already
stored) and reported per cell; an outcome already stored is not recorded again.

A row never makes a fact of the stored case unknown, nor dates a case after a recorded
death (:mod:`pecoma.registry.case_change`, checked as each batch is written): such a row
is reported like any bad row. A row of outcomes with only the required case cells, the
same as the stored case's, records its outcomes and keeps the stored case (checked
against it).

Two modes: ``all-or-nothing`` (the default) writes nothing when any row is bad;
``good-rows`` writes the good rows and reports the bad ones. Either way the good rows go
in one transaction, and every row goes through the same checks, so both report every
problem of the file in one pass: an all-or-nothing import that meets a bad row checks
and writes the rows after it all the same (the checks against the stored case run as a
batch is written) and rolls the transaction back at the end. Importing the same file
twice changes nothing: a case identical to the patient's latest version is not stored
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from pecoma import __version__
from pecoma.engine import assess
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.knowledge import load_knowledge
from pecoma.registry.case_change import REQUIRED_CASE_COLUMNS, import_case_check
from pecoma.registry.columns import REGISTRY_ID, column_kind
from pecoma.registry.import_check import (
    RowIssue,
    check_row,
    header_issues,
    is_empty,
    issues_of_outcomes,
    nest,
)
from pecoma.registry.import_table import (
    MAX_ROWS,
    ImportFileError,
    RawRow,
    open_table,
    table_digest,
)
from pecoma.registry.outcomes import OUTCOME_COLUMNS, check_outcomes, outcomes_of_cells
from pecoma.registry.state import NOT_EVALUABLE, plan_and_state
from pecoma.registry.stored import assessment_data
from pecoma.registry.workers import runner
from pecoma.settings import Settings
from pecoma.store.repository import (
    AddResult,
    CaseSubmission,
    FileImport,
    OutcomeData,
    OutcomeView,
    Repository,
    ScanData,
    ScanView,
    case_digest,
    case_text_digest,
    case_variant_rule,
    check_registry_id,
)

__all__ = ["BATCH_ROWS", "CHUNK_ROWS", "POOL_MIN_ROWS", "ImportMode", "ImportReport",
           "file_digest", "import_file", "import_rows"]


class ImportMode(StrEnum):
    all_or_nothing = "all-or-nothing"
    good_rows = "good-rows"



@dataclass(slots=True)
class ImportReport:
    """What an import read, rejected and wrote."""

    source: str
    mode: ImportMode
    #: The workbook's sheet read (``None``: a CSV file, or rows given as such).
    sheet: str | None = None
    rows: int = 0
    good: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    written: AddResult | None = None
    #: The rows refused with the whole file (a wrong header): none of them was checked.
    refused_with_file: list[int] = field(default_factory=list)
    #: Rows written whose patient cannot be evaluated with the data already stored (a
    #: new surgery date after recorded scans, say): the patient leaves the overdue, due
    #: and upcoming lists for 'not evaluable', so the import says so.
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[int]:
        """The rows rejected: those with an issue, and every row read when the header
        (row 1) refused the whole file."""
        if self.refused_with_file:
            return list(self.refused_with_file)
        return sorted({i.row for i in self.issues})

    @property
    def committed(self) -> bool:
        return self.written is not None

    def to_jsonable(self) -> dict[str, Any]:
        w = self.written
        return {
            "source": self.source,
            "sheet": self.sheet,
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
            "warnings": [i.to_dict() for i in self.warnings] if w else [],
        }

    def lines(self) -> list[str]:
        w = self.written
        read = self.source if self.sheet is None else f"{self.source}, sheet {self.sheet!r}"
        out = [
            f"{read}: {self.rows} rows read, {self.good} good, "
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
        if w is not None:
            out += [f"  ! {i}" for i in self.warnings]
        return out


def _against_store(
    row: _Done, stored: dict[str, tuple[OutcomeView, ...]],
    scans: dict[str, tuple[ScanData, ...]], on_date: dt.date
) -> list[RowIssue]:
    """The issues of a good row whose outcomes disagree with the outcomes and scans
    already stored for its patient (an outcome already stored is not new): reported in
    their cells, as any other, rather than stopping the whole import."""
    if not row.outcomes or row.submitted is None or row.outcomes_only:
        return []  # (a row of outcomes only is checked against the stored case)
    known = stored.get(row.registry_id, ())
    new = [o for o in row.outcomes if not any(o.same_fact(v) for v in known)]
    return issues_of_outcomes(row.number, row.submitted, known, new, on_date,
                              scans.get(row.registry_id, ()))


def _refused_outcomes(
    repo: Repository, rows: Sequence[_Done], stored: dict[str, tuple[OutcomeView, ...]],
    scans: dict[str, tuple[ScanData, ...]], on_date: dt.date
) -> list[RowIssue]:
    """The issues of refused rows of outcomes only whose outcomes disagree with the
    stored case, outcomes and scans: the checks a good one meets when it is written, so
    that a bad cell does not hide them (read after the import's transaction: SQLite
    allows no second reader while it writes)."""
    out: list[RowIssue] = []
    for row in rows:
        _exists, case = repo.latest_case(row.registry_id)
        if case is None:
            continue
        known = stored.get(row.registry_id, ())
        new = [o for o in row.outcomes if not any(o.same_fact(v) for v in known)]
        out += issues_of_outcomes(row.number, case, known, new, on_date,
                                  scans.get(row.registry_id, ()))
    return out


def _check_outcomes_at(on_date: dt.date) -> Any:
    def check(case: dict[str, Any] | None, stored: tuple[OutcomeView, ...],
              scans: tuple[ScanView, ...], new: Sequence[OutcomeData]) -> list[OutcomeData]:
        return check_outcomes(case, stored, scans, new, on_date, columns=True)

    return check


# --- importing ----------------------------------------------------------------------


BATCH_ROWS = 250
"""Rows written per batch (all batches in one transaction)."""
CHUNK_ROWS = 100
"""Rows per piece of engine work (parse, assess, plan) handed to a worker process."""
POOL_MIN_ROWS = 5000
"""Files with fewer rows (or bytes / 400 for a file) are assessed in this process."""


class _Rejected(Exception):
    """An all-or-nothing import met a bad row: the transaction is rolled back."""


@dataclass(frozen=True, slots=True)
class _Task:
    """One piece of engine work: rows with, per row, the row number a registry id was
    first seen on (duplicates), the stored (version, digest), the patient's scans, the
    version known unchanged, for a new id, a stored id it differs from only in letter
    case, and why the row is refused as one of rows of one patient that disagree
    (:func:`_conflicts`)."""

    rows: tuple[tuple[RawRow, dict[str, int], tuple[int, str] | None, tuple[Any, ...],
                      int | None, str | None, str | None], ...]
    on_date: dt.date
    settings: Settings
    source: str


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
    #: Why the patient cannot be evaluated with this case and the stored scans.
    unevaluable: str | None = None
    #: Outcomes with only the required case cells, for a stored patient: checked
    #: against the stored case when written (see :func:`_outcomes_only`).
    outcomes_only: bool = False


def _all_unchanged(task: _Task) -> bool:
    """Every row of ``task`` is known unchanged: it needs no engine work."""
    return all(same is not None for *_rest, same, _variant in task.rows)


def _engine_rows(task: _Task) -> list[_Done]:
    """Check, assess and plan the rows of ``task`` (pure: no database, no shared state;
    run in a worker process for a large file). A row identical to its patient's stored
    version is only checked."""
    out: list[_Done] = []
    for raw, first_row, stored, scans, same, variant, conflict in task.rows:
        if same is not None:  # known unchanged (see _unchanged): not parsed again
            out.append(_Done(raw.number, [], str(raw.cells[REGISTRY_ID]), identical=same))
            continue
        only = stored is not None and _outcomes_only(raw)
        row, issues = check_row(raw, {} if conflict else dict(first_row), task.on_date,
                                task.settings, False, outcomes_against_row=not only)
        if conflict is not None:
            rid = str(raw.cells.get(REGISTRY_ID)).strip()
            issues.insert(0, RowIssue(raw.number, REGISTRY_ID, show_value(rid), conflict))
            row = None
        if variant is not None:
            rid = str(raw.cells.get(REGISTRY_ID)).strip()
            issues.append(RowIssue(raw.number, REGISTRY_ID, show_value(rid),
                                   case_variant_rule([variant], stored=True)))
            row = None
        if row is None:
            # a refused row of outcomes only: its dated outcomes are still checked against
            # the stored case (see _refused_outcomes), so that one pass reports all
            dated = outcomes_of_cells({k: v for k, v in raw.cells.items()
                                       if k in OUTCOME_COLUMNS})[0] if only else []
            out.append(_Done(raw.number, issues, str(raw.cells.get(REGISTRY_ID)).strip(),
                             outcomes=tuple(dated), outcomes_only=only))
            continue
        digest = case_digest(row.case.model_dump(mode="json"))
        if stored is not None and stored[1] == digest and not row.outcomes:
            out.append(_Done(row.number, [], row.registry_id, row.submitted,
                             identical=stored[0]))
            continue
        unevaluable: str | None = None
        a = assess(row.case, task.on_date, task.settings)
        planned = plan_and_state(row.case, a, task.on_date, scans, task.settings)
        state = planned.state
        sub = CaseSubmission(
            registry_id=row.registry_id,
            submitted=row.submitted,
            digest=digest,
            source=f"{task.source} row {row.number}",
            assessment=assessment_data(a, planned.due, "import"),
            state=state,
            outcomes=row.outcomes,
            outcomes_only=only,
        )
        if scans and (state.plan_status == "not_evaluable"
                      or NOT_EVALUABLE in state.reason):
            unevaluable = state.reason
        out.append(_Done(row.number, [], row.registry_id, row.submitted, row.outcomes, sub,
                         unevaluable=unevaluable, outcomes_only=only))
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
    :data:`POOL_MIN_ROWS` rows is shared by that many worker processes, forked from
    this one (call it so only from a program that runs no other thread, such as the
    command line; see :mod:`pecoma.registry.workers`); what is stored is the same either
    way.
    """
    if len(rows) < POOL_MIN_ROWS:
        workers = 1
    return _import(repo, header, lambda: iter(rows), source=source,
                   digest=table_digest(header, rows),
                   on_date=on_date, settings=settings, actor=actor, mode=mode,
                   workers=workers)


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
        with open_table(path) as table:
            yield from table.rows

    with open_table(path) as table:
        header, sheet, merged = table.header, table.sheet, table.merged_header
    if path.suffix.lower() == ".csv" and _lines_over(path, MAX_ROWS + 1):
        # more lines than the row limit allows (a cell may span lines: counted exactly,
        # which refuses the file before any row is checked, assessed or written)
        with open_table(path) as table:
            for _row in table.rows:
                pass
    if path.stat().st_size < POOL_MIN_ROWS * 400:
        workers = 1
    return _import(repo, header, again, source=path.name, digest=file_digest(path),
                   on_date=on_date, settings=settings, actor=actor, mode=mode,
                   workers=workers, sheet=sheet, merged_header=merged)


def file_digest(path: Path) -> str:
    """The digest of the table ``path`` holds, read row by row (:func:`~pecoma.registry.
    import_table.table_digest`: its cells, not its bytes): what tells a file imported
    before (see :class:`~pecoma.store.repository.FileImport`)."""
    with open_table(path) as table:
        return table_digest(table.header, table.rows)


def _lines_over(path: Path, limit: int) -> bool:
    """Whether the file holds more than ``limit`` line breaks (counted in blocks)."""
    count = 0
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            count += block.count(b"\n")
            if count > limit:
                return True
    return False


def _first_rows(raw: RawRow, seen: dict[str, int]) -> tuple[dict[str, int], str]:
    """What :func:`~pecoma.registry.import_check.check_row` needs of the rows before
    ``raw`` (the row its registry id was first seen on, if any; ``seen`` is updated as
    :func:`~pecoma.registry.import_check.check_row` would), and the row's registry id
    (``""`` when it has none)."""
    if "(row)" in raw.cells:
        return {}, ""
    rid_raw = raw.cells.get(REGISTRY_ID)
    try:
        rid = check_registry_id("" if rid_raw is None else str(rid_raw))
    except InputError:
        return {}, ""
    key = rid.lower()
    if key in seen:
        return {key: seen[key]}, rid
    seen[key] = raw.number
    return {}, rid


def _key(raw: RawRow) -> str | None:
    """The row's registry id in lower case (the letter case does not tell two patients
    apart), or ``None`` when the row has none that reads."""
    if "(row)" in raw.cells or is_empty(raw):
        return None
    rid_raw = raw.cells.get(REGISTRY_ID)
    try:
        return check_registry_id("" if rid_raw is None else str(rid_raw)).lower()
    except InputError:
        return None


def _cell(value: Any) -> Any:
    """A cell as compared between two rows: text stripped, an empty cell as none."""
    if isinstance(value, str):
        value = value.strip()
    return None if value == "" else value


def _read(column: str, value: Any) -> tuple[str, Any]:
    """A cell as the import reads it, for comparing two rows: a number column's cell that
    reads as a number is that number (72, "72" and "72.0" are the size the case holds),
    any other cell its text stripped; ``("", None)`` for an empty cell."""
    value = _cell(value)
    if value is None:
        return "", None
    if column_kind(column) in ("number", "integer") and not isinstance(value, bool):
        try:
            return "number", float(str(value))
        except ValueError:
            pass  # not a number: the row is refused for it, compared as its text
    return "text", str(value)


def _facts(raw: RawRow) -> dict[str, tuple[str, Any]]:
    """The row's filled cells but its registry id, as the import reads them
    (:func:`_read`): a number cell and the same number typed as text are one value."""
    out = {k: _read(k, v) for k, v in raw.cells.items() if k != REGISTRY_ID}
    return {k: v for k, v in out.items() if v[1] is not None}


def _conflicts(rows: Callable[[], Iterator[RawRow]]) -> dict[int, str]:
    """Row number -> why it is refused, for each row of a patient that the file gives
    more than one row holding different values: which row is right is the file
    author's to say, so none of them is written (in either mode), each naming the rows
    whose values differ from its own and the columns that differ. Rows of one patient
    that all agree are left to the rule of one row per patient (the first is the
    patient's, the others refused). The file is read once more only when some registry
    id appears twice."""
    seen: dict[str, list[tuple[int, int]]] = {}
    for raw in rows():
        key = _key(raw)
        if key is not None:
            facts = _facts(raw)
            seen.setdefault(key, []).append((raw.number, hash(tuple(sorted(facts.items())))))
    split = {k for k, v in seen.items() if len({h for _n, h in v}) > 1}
    if not split:
        return {}
    cells: dict[str, dict[int, dict[str, tuple[str, Any]]]] = {}
    for raw in rows():
        key = _key(raw)
        if key in split:
            cells.setdefault(key, {})[raw.number] = _facts(raw)
    out: dict[int, str] = {}
    for by_row in cells.values():
        every = ", ".join(str(n) for n in by_row)
        written = "neither row is written" if len(by_row) == 2 \
            else f"none of its rows ({every}) is written"
        for number, mine in by_row.items():
            differ = [n for n, theirs in by_row.items() if theirs != mine]
            columns = sorted({c for n in differ for c in (*mine, *by_row[n])
                              if mine.get(c) != by_row[n].get(c)})
            many = len(differ) > 1
            out[number] = (
                "must appear only once in a file, whatever its letter case: "
                f"row{'s' if many else ''} {', '.join(str(n) for n in differ)} "
                f"give{'' if many else 's'} this patient other values "
                f"({', '.join(columns)}), so {written}; keep the row with the right values")
    return out


def _outcomes_only(raw: RawRow) -> bool:
    """The row records outcomes and, of a case, fills only the required cells (the other
    case cells empty or not in the file): a file of last contacts, say."""
    if raw.problems or "(row)" in raw.cells:
        return False
    outcomes = False
    for name, value in raw.cells.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if name in OUTCOME_COLUMNS:
            outcomes = True
        elif name != REGISTRY_ID and name not in REQUIRED_CASE_COLUMNS:
            return False
    return outcomes


def _stamped(sub: CaseSubmission, stamps: dict[str, int]) -> CaseSubmission:
    """The submission with its state stamped with the patient's scan stamp read before
    the scans it was computed from (none for a patient not stored: 0)."""
    if sub.state is None:
        return sub
    return replace(sub, state=replace(sub.state, scan_stamp=stamps.get(sub.registry_id, 0)))


def _unchanged(raw: RawRow, stored: str | None, outcome_columns: Sequence[str]) -> bool:
    """The row holds exactly the case data stored as its patient's latest version, which
    passed the same checks as of an earlier date (``stored``: see
    :meth:`~pecoma.store.repository.Repository.import_basis`): it is good and unchanged
    without being parsed again. A row with a cell problem or an outcome is never."""
    if stored is None or raw.problems or "(row)" in raw.cells:
        return False
    if any(raw.cells.get(c) is not None for c in outcome_columns):
        return False
    submitted, _remap = nest(raw.cells)
    return case_text_digest(submitted) == stored


def _import(
    repo: Repository,
    header: Sequence[str],
    rows: Callable[[], Iterator[RawRow]],
    *,
    source: str,
    digest: str,
    on_date: dt.date,
    settings: Settings,
    actor: str,
    mode: ImportMode,
    workers: int = 1,
    sheet: str | None = None,
    merged_header: Mapping[int, str] | None = None,
) -> ImportReport:
    report = ImportReport(source=source, mode=mode, sheet=sheet)
    report.issues = header_issues(header, merged_header or {})
    if report.issues:
        # a wrong header makes every row doubtful: nothing is imported, every row refused
        report.refused_with_file = [r.number for r in rows() if not is_empty(r)]
        report.rows = len(report.refused_with_file)
        return report
    # the workers are forked before the registry's data is read: they hold none of it
    with runner(_engine_rows, workers, start="fork", here=_all_unchanged) as run:
        basis = repo.import_basis(__version__, on_date, load_knowledge().version)
        # each patient's scan stamp, read before its scans, goes with the state computed
        # from them: the state is stored only if no scan was recorded or withdrawn since
        stamps, scans = repo.stamped_scans()
        outcome_columns = [h for h in header if h in OUTCOME_COLUMNS]
        stored = (repo.outcomes_by_registry_id()
                  if any(h in OUTCOME_COLUMNS for h in header) else {})
        identical: dict[str, int] = {}
        numbers: dict[str, int] = {}  # registry id -> its row, for the rows written
        refused_only: list[_Done] = []  # refused rows of outcomes only (_refused_outcomes)
        strict = mode is ImportMode.all_or_nothing
        spelt = {rid.lower(): rid for rid in basis}  # (one of a stored pair is enough)

        conflicts = _conflicts(rows)

        def tasks() -> Iterator[_Task]:
            seen: dict[str, int] = {}
            chunk: list[tuple[RawRow, dict[str, int], tuple[int, str] | None,
                              tuple[Any, ...], int | None, str | None, str | None]] = []
            for raw in rows():
                if is_empty(raw):
                    continue
                first, rid = _first_rows(raw, seen)
                known = basis.get(rid)
                conflict = conflicts.get(raw.number)
                if known is not None and not first and conflict is None \
                        and _unchanged(raw, known[2], outcome_columns):
                    chunk.append((RawRow(raw.number, {REGISTRY_ID: rid}), {}, None, (), known[0],
                                  None, None))
                else:
                    variant = spelt.get(rid.lower()) if rid and known is None else None
                    chunk.append((raw, first, known[:2] if known else None, scans.get(rid, ()),
                                  None, variant, conflict))
                if len(chunk) >= CHUNK_ROWS:
                    yield _Task(tuple(chunk), on_date, settings, source)
                    chunk = []
            if chunk:
                yield _Task(tuple(chunk), on_date, settings, source)

        def batches(run: Callable[[Iterable[_Task]], Iterator[list[_Done]]]
                    ) -> Iterator[list[CaseSubmission]]:
            # (again, from the start, should the transaction be retried)
            report.rows = report.good = 0
            report.issues = []
            report.warnings = []
            identical.clear()
            numbers.clear()
            refused_only.clear()
            batch: list[CaseSubmission] = []
            for done in run(tasks()):
                for d in done:
                    report.rows += 1
                    issues = d.issues
                    if not issues:
                        issues = _against_store(d, stored, scans, on_date)
                    elif d.outcomes_only and d.outcomes:
                        refused_only.append(d)  # checked once the transaction is over
                    if issues:
                        report.issues += issues
                        continue
                    report.good += 1
                    if d.identical is not None:
                        identical[d.registry_id] = d.identical
                    else:
                        # written even after a bad row of an all-or-nothing import: the
                        # checks against the stored case run as it is written, so that
                        # every problem is reported (the transaction is rolled back)
                        if d.submission is None:
                            raise ImportFileError(f"row {d.number} was not assessed")
                        batch.append(_stamped(d.submission, stamps))
                        numbers[d.registry_id] = d.number
                        if d.unevaluable is not None:
                            report.warnings.append(RowIssue(
                                d.number, REGISTRY_ID, d.registry_id,
                                "written, but with the scans already recorded the patient "
                                f"cannot be evaluated ({d.unevaluable}): listed as not "
                                "evaluable until the case or the scans are corrected"))
                while len(batch) >= BATCH_ROWS:
                    yield batch[:BATCH_ROWS]
                    batch = batch[BATCH_ROWS:]
            while batch:
                yield batch[:BATCH_ROWS]
                batch = batch[BATCH_ROWS:]
            if strict and report.issues:
                raise _Rejected

        def refused(sub: CaseSubmission, issues: list[FieldIssue]) -> None:
            # a row refused as its batch is written (against the stored case or death)
            number = numbers[sub.registry_id]
            report.issues += [RowIssue(number, i.path, i.value, i.rule) for i in issues]
            report.warnings = [w for w in report.warnings if w.row != number]
            report.good -= 1

        def corrected(sub: CaseSubmission, notes: list[FieldIssue]) -> None:
            # a row's case or outcome equal to one a later entry replaced: the later one
            # kept (a file imported before) or the earlier brought back (a new file)
            number = numbers[sub.registry_id]
            report.warnings += [RowIssue(number, i.path, i.value, i.rule) for i in notes]

        try:
            report.written = repo.add_case_batches(lambda: batches(run), actor,
                                                   _check_outcomes_at(on_date),
                                                   import_case_check, refused, corrected,
                                                   FileImport(source, digest))
        except _Rejected:
            report.issues += _refused_outcomes(repo, refused_only, stored, scans, on_date)
            report.issues.sort(key=lambda i: i.row)
            return report
        finally:
            numbers.clear()
        report.issues += _refused_outcomes(repo, refused_only, stored, scans, on_date)
        report.issues.sort(key=lambda i: i.row)
    report.written.unchanged += len(identical)
    report.written.versions.update(identical)
    return report
