"""A new case version checked against what the registry already knows of the patient.

Two rules, checked inside the writing transaction (the patient locked) by
:meth:`~pecoma.store.repository.Repository.add_case_batches`:

- **No case after death.** No date of the new case (diagnosis, surgery, completion,
  end of treatment, metastasis detected, therapy started, free of disease) may be after
  the patient's recorded death: the registry would hold a patient who died before being
  diagnosed (an inverted OMOP observation period, a patient survival leaves out).
- **An import never makes a known fact unknown.** A fact the stored case records
  (any value but unknown) whose cell in the import row is empty, or whose column the
  file does not have, would become unknown in the new version: the row is refused,
  naming those columns. A cell filled with ``unknown`` says so on purpose and is taken.
  A row that holds, of a case, only the required cells, the same as the stored case's,
  and outcomes, records its outcomes and keeps the stored case (a file of last contacts).
  Such a row whose required cell differs from the stored case (a primary site written
  otherwise, a disease status now metastatic) would replace the case with one knowing
  only those cells: it is refused naming that cell, the row's and the stored value, and
  how to record either the outcome or a new version of the case.
  A case recorded whole (``add-case``, the web form) replaces the stored one as given.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pecoma.case import dated_facts, parse_case
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.registry.columns import COLUMNS, REGISTRY_ID, is_column
from pecoma.store.repository import CaseSubmission

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
        # made late): only the day it was found is checked against the death
        if day > death and not path.endswith(".detected_on_or_before")
    ]


def case_check(sub: CaseSubmission, stored: dict[str, Any] | None, death: dt.date | None
               ) -> list[FieldIssue]:
    """A whole case (``add-case``, the web form): refused only when dated after the
    patient's recorded death."""
    return _death_issues(sub.submitted, death)


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
                      death: dt.date | None) -> list[FieldIssue] | None:
    """An import row's case against the stored one (see the module's rules): ``None``
    keeps the stored case (the row records its outcomes only), else the problems of
    storing it as the new version (none: store it)."""
    differing = _differing_required(stored, sub.submitted) \
        if stored is not None and sub.outcomes_only else None
    if differing == []:
        return None
    issues = _death_issues(sub.submitted, death)
    lost = lost_facts(stored, sub.submitted) if stored is not None else []
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
