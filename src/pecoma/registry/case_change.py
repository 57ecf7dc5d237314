"""A new case version checked against what the registry already knows of the patient.

Four rules, checked inside the writing transaction (the patient locked) by
:meth:`~pecoma.store.repository.Repository.add_case_batches`:

- **No case after death.** No date of the new case (diagnosis, surgery, completion,
  end of treatment, metastasis detected, therapy started, free of disease) may be after
  the patient's recorded death: the registry would hold a patient who died before being
  diagnosed (an inverted OMOP observation period, a patient survival leaves out).
- **No case against the recorded scans and outcomes.** A new case version may not
  contradict a recorded scan or outcome the way recording that scan or outcome now would
  be refused: a surgery date (or, with none, an end of treatment) after a recorded scan,
  a diagnosis after a scan or an outcome, a surgery on or after a recorded recurrence or
  metastasis, no resection beside a recorded local recurrence. With such a case the
  patient could not be evaluated, and a scan that found disease would no longer be read
  (S27, S17). Each contradiction is named (the field, the scan or outcome, its date, and
  what to check); nothing is written. A contradiction the stored case had already does
  not refuse the new version (it may be the one correcting something else).
- **No case version dated before the current one.** A new case version is dated by the
  evaluation date it is recorded as of (the first assessment stored with it), and every
  view of the registry as of a date reads the version current then. One dated before the
  patient's current version would change, after the fact, the views of the days between
  (a figure re-run for an audit would no longer give what it gave, and a state the
  registry never held would appear in them): it is refused naming the registry id, the
  two dates and the version.
- **An import never makes a known fact unknown.** A fact the stored case records
  (any value but unknown) whose cell in the import row is empty, or whose column the
  file does not have, would become unknown in the new version: the row is refused,
  naming those columns. A cell filled with ``unknown`` says so on purpose and is taken.
  A row that holds, of a case, only the required cells, the same as the stored case's,
  and outcomes, records its outcomes and keeps the stored case (a file of last contacts).
  Such a row whose required cell differs from the stored case (a primary site written
  otherwise, a disease status now metastatic) would replace the case with one knowing
  only those cells: it is refused naming that cell, the row's and the stored value, and
  how to record either the outcome or a new version of the case (that alone: a cell the
  row leaves empty is never checked as a value it gives). Of a file imported before,
  such a row whose outcomes are all recorded already changes nothing and is kept, told
  (:meth:`~pecoma.store.repository.Repository.add_case_batches`).
  A case recorded whole (``add-case``, the web form) replaces the stored one as given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma.case import Case, dated_facts, parse_case
from pecoma.engine.imaging import imaging_floor
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.columns import COLUMNS, REGISTRY_ID, is_column
from pecoma.registry.outcomes import case_conflicts
from pecoma.store.repository import CaseSubmission, Recorded

__all__ = ["REQUIRED_CASE_COLUMNS", "case_check", "import_case_check", "lost_facts"]

REQUIRED_CASE_COLUMNS = tuple(c.name for c in COLUMNS if c.required and c.name != REGISTRY_ID)
"""The case columns every import row fills (beside the registry id)."""


def _leaves(node: Any, path: str = "") -> dict[str, Any]:
    """Column -> value of the non-empty leaves of nested case data (layout columns only)."""
    out: dict[str, Any] = {}
    if isinstance(node, dict):
        for k, v in node.items():
            out.update(_leaves(v, f"{path}.{k}" if path else str(k)))
    elif isinstance(node, list | tuple):
        for i, v in enumerate(node):
            out.update(_leaves(v, f"{path}[{i}]"))
    elif node is not None and not (isinstance(node, str) and not node.strip()) \
            and is_column(path):
        out[path] = node
    return out


def _known(value: Any) -> bool:
    return value is not None and str(value).strip().lower() not in ("", "unknown")


def lost_facts(stored: dict[str, Any], submitted: dict[str, Any]) -> list[str]:
    """The columns whose fact ``stored`` records and ``submitted`` (an import row's case,
    validated) leaves empty: they would become unknown. A cell given (``unknown``
    included), or a value the new case derives from another cell, is not lost."""
    given = _leaves(submitted)
    derived = _leaves(parse_case(submitted).model_dump(mode="json"))
    return [column for column, value in _leaves(stored).items()
            if _known(value) and column not in given and not _known(derived.get(column))]


def _death_issues(submitted: dict[str, Any], death: dt.date | None) -> list[FieldIssue]:
    if death is None:
        return []
    return [
        FieldIssue(path, day.isoformat(), f"must not be after the recorded death "
                   f"({death.isoformat()}): the patient cannot be diagnosed or treated "
                   "after death")
        for path, day in dated_facts(parse_case(submitted))
        # a metastasis recorded after the death may have been found before it (an entry
        # made late), and an operation known by the latest day it can have been may have
        # been done before it: only the days facts happened are checked against the death
        if day > death and not path.endswith("_on_or_before")
    ]


def _date_issues(sub: CaseSubmission, recorded: Recorded) -> list[FieldIssue]:
    """The new version dated (by its evaluation date) before the patient's current one."""
    if recorded.current is None:
        return []
    version, day = recorded.current
    on = sub.assessment.evaluated_on
    if on >= day:
        return []
    return [FieldIssue(
        "registry_id", show_value(sub.registry_id),
        f"has a current case version (version {version}) recorded on {day.isoformat()}, "
        f"and this one would be recorded as of {on.isoformat()} (the evaluation date), "
        "before it: the views of the registry as of the days between would change after "
        "the fact, and a figure re-run for an audit would no longer give what it gave. "
        f"Record it as of {day.isoformat()} or later (today by default); the new version "
        "was not written")]


def _conflicts(case: Case, recorded: Recorded) -> dict[tuple[str, str], str]:
    """(case field, the scan or outcome) -> why the case contradicts that recorded scan
    or outcome: the rules ``record-scan`` keeps (a scan not before the surgery, or the
    end of curative treatment when no surgery is dated: :func:`imaging_floor`; not
    before the diagnosis) and ``record-outcome`` keeps (:func:`case_conflicts`)."""
    out: dict[tuple[str, str], str] = {}
    floor = imaging_floor(case)
    diagnosed = case.diagnosis.date
    for sc in recorded.scans:
        what = (f"the scan recorded on {sc.performed_on.isoformat()} ({sc.modality}, "
                f"{sc.finding})")
        if floor is not None and sc.performed_on < floor.day:
            field = "surgery.date" if floor.surgery else (
                "primary_treatment_end" if case.primary_treatment_end is not None
                else "surgery.completion.date")
            start = "the surgery" if floor.surgery else \
                "the end of curative treatment (no surgery date recorded)"
            out.setdefault((field, what), f"every scan of the registry is from {start} on "
                           "(recording one before it is refused)")
        if diagnosed is not None and sc.performed_on < diagnosed:
            out.setdefault(("diagnosis.date", what),
                           "a surveillance scan cannot precede the diagnosis (recording one "
                           "before it is refused)")
    for o in recorded.outcomes:
        if o.event == "death":
            continue  # the rule of no case after death says more
        found = f", found by {o.found_by}" if o.found_by else ""
        what = f"the {o.event} recorded on {o.event_date.isoformat()}{found}"
        for field, rule in case_conflicts(case, o.event, o.event_date):
            out.setdefault((field, what), f"that outcome {rule}")
    return out


def _value(case: Case, field: str) -> str:
    """The value the case gives ``field`` (one of the fields :func:`_conflicts` names)."""
    value: Any = case.model_dump(mode="json")
    for part in field.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "(empty)" if value is None else show_value(value)


def _record_issues(submitted: dict[str, Any], stored: dict[str, Any] | None,
                   recorded: Recorded) -> list[FieldIssue]:
    """The recorded scans and outcomes the new case contradicts and the stored one did
    not: with such a case the patient could not be evaluated, and a scan that found
    disease would no longer be read as one (S27, S17)."""
    if not recorded.scans and not recorded.outcomes:
        return []
    case = parse_case(submitted)
    before: dict[tuple[str, str], str] = {}
    if stored is not None:
        try:
            before = _conflicts(parse_case(stored, source="stored case"), recorded)
        except InputError:
            before = {}
    by_field: dict[str, list[tuple[str, str]]] = {}
    for (field, what), rule in _conflicts(case, recorded).items():
        if (field, what) not in before:
            by_field.setdefault(field, []).append((what, rule))
    issues = []
    for field, found in by_field.items():
        what, rule = found[0]  # the earliest scan, else outcome
        more = f" (and {len(found) - 1} more recorded)" if len(found) > 1 else ""
        issues.append(FieldIssue(
            field, _value(case, field),
            f"contradicts {what}{more}: {rule}. Check this value against the patient's "
            "records: if it is right, the recorded entry is the one wrong, and the stored "
            "case stays until that entry is corrected in the registry (recorded scans and "
            "outcome dates are kept as entered); the new case version was not written"))
    return issues


def case_check(sub: CaseSubmission, stored: dict[str, Any] | None, recorded: Recorded
               ) -> list[FieldIssue]:
    """A whole case (``add-case``, the web form): refused when recorded as of a day before
    the patient's current version, dated after the patient's recorded death, or when it
    contradicts a recorded scan or outcome."""
    return (_date_issues(sub, recorded) + _death_issues(sub.submitted, recorded.death)
            + _record_issues(sub.submitted, stored, recorded))


def _differing_required(stored: dict[str, Any], submitted: dict[str, Any]
                        ) -> list[tuple[str, Any, Any]] | None:
    """The required columns whose value differs between the stored case and the row's,
    as (column, row's value, stored value); ``None`` when the stored case cannot be read."""
    try:
        old = _leaves(parse_case(stored, source="stored case").model_dump(mode="json"))
    except InputError:
        return None
    new = _leaves(parse_case(submitted).model_dump(mode="json"))
    return [(c, new.get(c), old.get(c)) for c in REQUIRED_CASE_COLUMNS
            if old.get(c) != new.get(c)]


def _differs_issue(column: str, value: Any, stored: Any) -> FieldIssue:
    shown = "(empty)" if stored is None else show_value(stored)
    return FieldIssue(
        column, show_value(value),
        f"differs from the stored case ({shown}); a row that fills no case cell but "
        f"{', '.join(REQUIRED_CASE_COLUMNS)} records outcomes only and must repeat the "
        "stored values. A recurrence, metastasis or progression found since is an outcome: "
        "give it in the outcome columns (or 'pecoma registry record-outcome'); to record a "
        "new version of the case, fill its other case cells as well (cases.csv of 'pecoma "
        "registry export --format csv -o FOLDER' holds the stored values) or record the "
        "whole case with 'pecoma registry add-case'")


def import_case_check(sub: CaseSubmission, stored: dict[str, Any] | None,
                      recorded: Recorded) -> list[FieldIssue] | None:
    """An import row's case against the stored one (see the module's rules): ``None``
    keeps the stored case (the row records its outcomes only), else the problems of
    storing it as the new version (none: store it)."""
    differing = _differing_required(stored, sub.submitted) \
        if stored is not None and sub.outcomes_only else None
    if differing == []:
        return None
    lost = lost_facts(stored, sub.submitted) if stored is not None else []
    # a cell the row leaves empty is named once, as one it would make unknown: never as
    # a value the row gives that contradicts a recorded scan or outcome (a row of
    # outcomes only was told its case recorded no resection, which the stored case did)
    issues = _date_issues(sub, recorded) + [
        i for i in (_death_issues(sub.submitted, recorded.death)
                    + _record_issues(sub.submitted, stored, recorded))
        if i.path not in lost]
    if lost and differing:
        # the cells the row does fill are the problem, not the ones it leaves empty
        issues += [_differs_issue(*d) for d in differing]
    elif lost:
        required = ", ".join(REQUIRED_CASE_COLUMNS)
        issues.append(FieldIssue(
            ", ".join(lost), "(empty)",
            f"would become unknown: the patient's stored case records {len(lost)} "
            f"fact{'s' if len(lost) != 1 else ''} that this row leaves empty (blank cells "
            "or columns not in the file), and a new case version replaces the whole case. "
            "Fill them in (cases.csv of 'pecoma registry export --format csv -o FOLDER' "
            "holds the stored values), write 'unknown' in a coded cell that is unknown "
            "now, or record the whole case with 'pecoma registry add-case'; to record "
            f"only the row's outcomes, leave every case cell but {required} empty"))
    return issues
