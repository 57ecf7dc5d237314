"""The case form: its controls, grouped as pathology and surgery reports are, and the
mapping between posted form fields and a :class:`~pecoma.case.Case`.

Every control is named by the field path of the case format (``tumour.size.value``,
``stage.metastases[0].site``), so an :class:`~pecoma.errors.FieldIssue` from
:func:`~pecoma.case.parse_case` lands next to the control it concerns. A blank control
or one left on "unknown" leaves the fact out of the case, which the case format reads as
unknown, never as absent.

Repeated facts (metastases, lines of systemic therapy, scans) come as numbered rows; a row
with nothing entered is ignored, and errors are mapped back from the case's list index to
the row the user filled. A blank row is offered only where the disease status needs one
(:attr:`RowSpec.show_for`); "add another" adds one (without JavaScript by posting the form
to ``/form``, which shows it again with every value kept and one more row).

What people type is read as they write it: a decimal comma (``3,5``) in every number, a
date as ``YYYY-MM-DD`` or with the month's name (``2 Dec 2026``); a numeric date in any
other order (``12/02/2026``) is refused because it reads two ways. "None of the four
worrisome features" (:data:`NONE_OF_FOUR`) sets the four histological features left
unknown to absent; a feature explicitly set to present is never overwritten: the form
says that the two contradict each other.

Every problem is reported in one pass: values that cannot be read, facts the case format
refuses, contradictions between facts (checked on the case with the unreadable values
left out), dates after the evaluation date and scans, each in words with the control's
label.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel

from pecoma.case import (
    MAX_MITOSES,
    MAX_SIZE_CM,
    Agent,
    Case,
    Diagnosis,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    FreeOfDisease,
    FusionStatus,
    Histology,
    IHCResult,
    Margin,
    Metastasis,
    MetastasisSite,
    Molecular,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    RemissionBy,
    Response,
    SizeUnit,
    Stage,
    SurgeryStatus,
    TherapySetting,
    Timing,
    VariantStatus,
    YesNo,
    parse_case,
)
from pecoma.dates import EARLIEST, LATEST, range_rule
from pecoma.engine.assess import check_dates
from pecoma.engine.schedule import ImagingEvent, Modality, ScanFinding, parse_imaging
from pecoma.errors import FieldIssue, InputError, show_value

__all__ = [
    "COMPANIONS",
    "CONTROLS",
    "EVALUATION_DATE",
    "FORM",
    "NONE_OF_FOUR",
    "WORRISOME_FOUR",
    "Control",
    "FormResult",
    "Group",
    "Option",
    "RowSpec",
    "case_to_values",
    "control_id",
    "form_to_case",
    "label_for",
    "more_rows",
    "parse_form_date",
    "parse_form_number",
]

EVALUATION_DATE = "on"
IMAGING = "imaging"
STATUS = "stage.status"
NONE_OF_FOUR = "none_of_four"
ROWS_SHOWN = "_rows."  # + a row prefix: how many rows the form showed (hidden field)
ADD_ROW = "_add"  # the "add another" button's name; its value is the row prefix

# The four worrisome features recorded as present/absent/unknown (size and mitoses are
# measured and entered as numbers).
WORRISOME_FOUR = (
    "histology.necrosis",
    "histology.infiltrative_growth",
    "histology.high_nuclear_grade_and_cellularity",
    "histology.vascular_invasion",
)

ControlKind = Literal["select", "number", "date", "text", "checkbox"]

# Words for enum values where the value itself does not read well.
_WORDS: dict[str, str] = {
    "unknown": "unknown (not reported)",
    "not_done": "not done",
    "gist": "GIST",
    "R0": "R0 — microscopically clear",
    "R1": "R1 — microscopic residual tumour",
    "R2": "R2 — macroscopic residual tumour",
    "uncertain": "uncertain (margin status unclear)",
    "histology_with_ihc": "histology with immunohistochemistry",
    "histology_without_ihc": "histology without immunohistochemistry",
    "imaging_only": "imaging only (no tissue)",
    "locally_advanced_unresectable": "locally advanced, unresectable",
    "nab_sirolimus": "nab-sirolimus",
    "doxorubicin_ifosfamide": "doxorubicin + ifosfamide",
    "epirubicin_ifosfamide": "epirubicin + ifosfamide",
    "gemcitabine_docetaxel": "gemcitabine + docetaxel",
    "other_chemotherapy": "other chemotherapy",
    "other_gynecologic": "other gynecologic site",
    "broad_ligament": "broad ligament",
    "soft_tissue": "soft tissue",
    "distant_lymph_node": "distant lymph node",
    "other_sarcoma": "other sarcoma",
    "not_assessed": "not assessed",
    "not_performed": "not performed",
    "not_evaluable": "not evaluable",
    "none": "none (PEComa from the start)",
    "chest_ct": "chest CT",
    "mri_primary": "MRI of the primary site",
    "chest_xray": "chest X-ray",
    "ct_primary": "CT of the primary site",
    "pet_ct": "PET-CT",
    "no_evidence_of_disease": "no evidence of disease",
    "pathogenic": "pathogenic or likely pathogenic variant",
    "vus": "variant of uncertain significance",
    "wild_type": "wild type (no variant found)",
}


def words(value: str) -> str:
    return _WORDS.get(value, value.replace("_", " "))


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Control:
    """One form control; ``name`` is the case field path (row controls: relative name)."""

    name: str
    label: str
    kind: ControlKind
    options: tuple[Option, ...] = ()
    default: str = ""
    unit: str | None = None
    help: str | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None
    companion: str | None = None  # a unit select shown on the same line
    hidden_label: bool = False  # the label is read by screen readers only


@dataclass(frozen=True, slots=True)
class RowSpec:
    """Repeated rows, e.g. ``stage.metastases[i].site``; ``key`` must be set in a used row.
    A blank row is offered when the disease status is one of ``show_for``."""

    prefix: str
    noun: str
    key: str
    controls: tuple[Control, ...]
    show_for: frozenset[str] = frozenset()

    def name(self, row: int, control: Control) -> str:
        return f"{self.prefix}[{row}].{control.name}"


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    legend: str
    controls: tuple[Control, ...]
    rows: RowSpec | None = None
    note: str | None = None


def _options(
    enum: type[StrEnum], blank: str | None = None, order: Iterable[str] | None = None
) -> tuple[Option, ...]:
    values = [e.value for e in enum]
    if order is not None:
        values = list(order)
    out = [Option("", blank)] if blank is not None else []
    out += [Option(v, words(v)) for v in values]
    return tuple(out)


def _unknown_first(enum: type[StrEnum]) -> tuple[Option, ...]:
    values = [e.value for e in enum]
    values.remove("unknown")
    return _options(enum, order=["unknown", *values])


def _describe(model: type[BaseModel], name: str) -> str | None:
    text = model.model_fields[name].description
    return text[0].upper() + text[1:] if text else None


def _select_unknown(name: str, label: str, enum: type[StrEnum], help: str | None = None) -> Control:
    return Control(name, label, "select", _unknown_first(enum), default="unknown", help=help)


def _feature(name: str, label: str, help: str | None = None) -> Control:
    return _select_unknown(f"histology.{name}", label, Feature, help)


def _ihc(name: str, label: str) -> Control:
    return _select_unknown(f"immunohistochemistry.{name}", label, IHCResult)


def _yes_no(name: str, label: str, help: str | None = None) -> Control:
    return _select_unknown(name, label, YesNo, help)


DATE_FORMS = "YYYY-MM-DD or day, month name, year (2026-12-02 or 2 Dec 2026)"
_DATE_HELP = f"As {DATE_FORMS}; leave empty when unknown."
_ROW_DATE_HELP = f"As {DATE_FORMS}."
_RELAPSED = frozenset({DiseaseStatus.recurrent.value, DiseaseStatus.metastatic.value})

FORM: tuple[Group, ...] = (
    Group(
        "case",
        "Case and evaluation",
        (
            Control(
                "label",
                "Case label",
                "text",
                help="A free label for the team (at most 80 characters). Never a patient "
                "name or record number.",
            ),
            Control(
                EVALUATION_DATE,
                "Evaluation date",
                "date",
                help="The date the guideline is applied on (surveillance is counted to it).",
                required=True,
            ),
        ),
    ),
    Group(
        "tumour",
        "Tumour and diagnosis",
        (
            Control(
                "tumour.primary_site",
                "Primary site",
                "select",
                _options(PrimarySite, blank="— choose —"),
                required=True,
            ),
            Control(
                "tumour.size.value",
                "Largest dimension",
                "number",
                minimum=0,
                maximum=MAX_SIZE_CM * 10,
                step="any",
                help=f"Leave empty when unknown; at most {MAX_SIZE_CM:g} cm.",
                companion="tumour.size.unit",
            ),
            Control(
                "tumour.size.unit",
                "Unit of the largest dimension",
                "select",
                _options(SizeUnit),
                default="cm",
                hidden_label=True,
            ),
            Control(
                "diagnosis.method",
                "How the diagnosis was made",
                "select",
                _unknown_first(DiagnosisMethod),
                default="unknown",
            ),
            Control("diagnosis.date", "Date of diagnosis", "date", help=_DATE_HELP),
            _select_unknown(
                "diagnosis.prior_diagnosis",
                "Earlier diagnosis of this tumour",
                PriorDiagnosis,
                _describe(Diagnosis, "prior_diagnosis"),
            ),
        ),
    ),
    Group(
        "histology",
        "Histology",
        (
            Control(
                NONE_OF_FOUR,
                "None of the four worrisome features: necrosis, infiltrative growth, high "
                "nuclear grade and cellularity, vascular invasion",
                "checkbox",
                help="Sets those of the four left unknown to absent; each can still be "
                "changed below. Size and mitoses are entered as numbers.",
            ),
            _feature("necrosis", "Necrosis"),
            _feature("infiltrative_growth", "Infiltrative growth"),
            _feature("high_nuclear_grade_and_cellularity", "High nuclear grade and cellularity"),
            _feature("vascular_invasion", "Vascular invasion"),
            _feature(
                "nuclear_pleomorphism_or_giant_cells",
                "Nuclear pleomorphism or giant cells",
                _describe(Histology, "nuclear_pleomorphism_or_giant_cells"),
            ),
            Control(
                "histology.mitoses_per_50_hpf",
                "Mitoses",
                "number",
                unit="per 50 HPF",
                minimum=0,
                maximum=MAX_MITOSES,
                step="any",
                help="Mitotic count per 50 high-power fields; leave empty when unknown.",
            ),
        ),
        note="Present: seen. Absent: looked for and not seen. Unknown: not reported.",
    ),
    Group(
        "ihc",
        "Immunohistochemistry",
        (
            _ihc("hmb45", "HMB-45"),
            _ihc("melan_a", "Melan-A"),
            _ihc("mitf", "MITF"),
            _ihc("cathepsin_k", "Cathepsin K"),
            _ihc("sma", "Smooth-muscle actin (SMA)"),
            _ihc("desmin", "Desmin"),
            _ihc("h_caldesmon", "h-Caldesmon"),
            _ihc("tfe3", "TFE3"),
        ),
    ),
    Group(
        "molecular",
        "Molecular findings",
        (
            _select_unknown("molecular.tsc1", "TSC1", VariantStatus),
            _select_unknown("molecular.tsc2", "TSC2", VariantStatus),
            _select_unknown(
                "molecular.tfe3_fusion",
                "TFE3 rearrangement",
                FusionStatus,
                _describe(Molecular, "tfe3_fusion"),
            ),
        ),
        note="Supplementary context from published series; the guideline's advice does not "
        "depend on these results.",
    ),
    Group(
        "stage",
        "Stage and metastases",
        (
            Control(
                "stage.status",
                "Disease status",
                "select",
                _options(DiseaseStatus, blank="— choose —"),
                required=True,
            ),
            _select_unknown("stage.lymph_nodes", "Regional lymph nodes", NodeStatus),
            _yes_no(
                "stage.extrapulmonary_disease",
                "Disease outside the lungs",
                _describe(Stage, "extrapulmonary_disease"),
            ),
            _yes_no("stage.resectable", "Resectable", _describe(Stage, "resectable")),
            _yes_no(
                "stage.complete_excision_feasible",
                "Complete excision of metastases feasible",
                _describe(Stage, "complete_excision_feasible"),
            ),
            Control(
                "stage.disease_free_interval_months",
                "Disease-free interval",
                "number",
                unit="months",
                minimum=0,
                maximum=600,
                step="any",
                help=_describe(Stage, "disease_free_interval_months"),
            ),
        ),
        rows=RowSpec(
            "stage.metastases",
            "Metastasis",
            "site",
            (
                Control(
                    "site",
                    "Site",
                    "select",
                    _options(MetastasisSite, blank="— none —"),
                ),
                Control("detected_on", "Detected on", "date", help=_ROW_DATE_HELP),
                Control(
                    "timing",
                    "Timing",
                    "select",
                    _unknown_first(Timing),
                    default="unknown",
                    help=_describe(Metastasis, "timing"),
                ),
            ),
            show_for=_RELAPSED,
        ),
    ),
    Group(
        "surgery",
        "Surgery",
        (
            Control(
                "surgery.status",
                "Surgery of the primary",
                "select",
                _unknown_first(SurgeryStatus),
                default="unknown",
            ),
            Control(
                "surgery.date",
                "Date of surgery",
                "date",
                help="Performed or planned date; " + _DATE_HELP[0].lower() + _DATE_HELP[1:],
            ),
            _select_unknown("surgery.margin", "Resection margin", Margin),
            Control(
                "primary_treatment_end",
                "End of curative treatment of the primary",
                "date",
                help=_describe(Case, "primary_treatment_end"),
            ),
        ),
        note=None,
    ),
    Group(
        "relapse",
        "After a relapse: free of disease again",
        (
            Control(
                "free_of_disease.since",
                "Free of disease since",
                "date",
                help=_describe(FreeOfDisease, "since"),
            ),
            Control(
                "free_of_disease.by",
                "Made free of disease by",
                "select",
                _options(RemissionBy, blank="— not given —"),
                help=_describe(FreeOfDisease, "by"),
            ),
        ),
        note="Only for recurrent or metastatic disease treated until no disease was "
        "detectable: surveillance restarts on the high-risk schedule from this date (I8). "
        "Leave empty while disease is present.",
    ),
    Group(
        "systemic",
        "Systemic therapy options",
        (
            _yes_no("systemic.mtor_inhibitor_available", "mTOR inhibitor available"),
            _yes_no("systemic.mtor_inhibitor_contraindicated", "mTOR inhibitor contraindicated"),
        ),
        rows=RowSpec(
            "systemic.therapies",
            "Therapy line",
            "agent",
            (
                Control("agent", "Agent", "select", _options(Agent, blank="— none —")),
                Control(
                    "setting",
                    "Setting",
                    "select",
                    _options(TherapySetting),
                    default=TherapySetting.advanced.value,
                ),
                Control("line", "Line", "number", minimum=1, maximum=20, step="1"),
                Control("started_on", "Started on", "date", help=_ROW_DATE_HELP),
                Control(
                    "best_response",
                    "Best response",
                    "select",
                    _unknown_first(Response),
                    default="unknown",
                ),
                _select_unknown("progressed", "Progressed", YesNo),
            ),
            show_for=_RELAPSED | {DiseaseStatus.locally_advanced_unresectable.value},
        ),
    ),
    Group(
        "imaging",
        "Imaging since the end of treatment",
        (),
        rows=RowSpec(
            IMAGING,
            "Scan",
            "modality",
            (
                Control("date", "Date", "date", help=_ROW_DATE_HELP),
                Control("modality", "Examination", "select", _options(Modality, blank="— none —")),
                Control(
                    "finding",
                    "Finding",
                    "select",
                    _options(ScanFinding, blank="not recorded"),
                ),
            ),
            show_for=_RELAPSED | {DiseaseStatus.localized.value},
        ),
        note="Surveillance scans done so far. The plan counts the next visits from the "
        "last real scan; a scan showing disease suspends the plan. With no scan entered the "
        "history counts as not given: the plan asks for it and puts a visit due now (I13). "
        "Not part of the case.",
    ),
)

_CONTROLS: dict[str, Control] = {c.name: c for g in FORM for c in g.controls}
CONTROLS: Mapping[str, Control] = _CONTROLS
COMPANIONS: frozenset[str] = frozenset(c.companion for c in _CONTROLS.values() if c.companion)
_ROWSPECS: dict[str, RowSpec] = {g.rows.prefix: g.rows for g in FORM if g.rows}
_ROW_NAME = re.compile(r"^(?P<prefix>[a-z_.]+)\[(?P<row>\d+)\]\.(?P<field>[a-z_]+)$", re.ASCII)
MAX_ROWS = 50
_FORM_ONLY = frozenset({EVALUATION_DATE, NONE_OF_FOUR})


def control_id(name: str) -> str:
    """The HTML id of the control named ``name`` (a case field path)."""
    return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _control_of(name: str) -> Control | None:
    """The control named ``name`` (a row control by its full name)."""
    if name in _CONTROLS:
        return _CONTROLS[name]
    m = _ROW_NAME.match(name)
    if m and m["prefix"] in _ROWSPECS:
        for c in _ROWSPECS[m["prefix"]].controls:
            if c.name == m["field"]:
                return c
    return None


# --------------------------------------------------------------------------------------
# Numbers and dates as people type them
# --------------------------------------------------------------------------------------

NUMBER_RULE = "must be a number, with a decimal point or a decimal comma (3.5 or 3,5)"
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$", re.ASCII)


def parse_form_number(text: str) -> str | None:
    """A number as typed, in the case format's notation (``3,5`` gives ``3.5``), or
    ``None`` when it is not a plain decimal number (``1.234,5``, ``3e2``, ``nan``)."""
    value = text.strip()
    if not _NUMBER.match(value):
        return None
    return value.replace(",", ".")


_MONTHS = {
    name: number
    for number, full in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
    for name in (full, full[:3])
} | {"sept": 9}
DATE_FORM_RULE = (
    f"must be a date as {DATE_FORMS}, between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$", re.ASCII)
_NAMED = re.compile(r"^(\d{1,2})[\s.-]*([A-Za-z]+)\.?[\s,.-]*(\d{4})$", re.ASCII)
_NUMERIC = re.compile(r"^(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{2,4})$", re.ASCII)


def _day(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _ambiguous(m: re.Match[str]) -> str:
    a, b, year = int(m[1]), int(m[2]), int(m[3])
    readings = [
        d.strftime("%d %b %Y").lstrip("0")
        for d in (_day(year, b, a), _day(year, a, b))
        if d is not None and len(m[3]) == 4
    ]
    if len(readings) == 2 and readings[0] != readings[1]:
        return (
            f"can be read as {readings[0]} or as {readings[1]}: write it as YYYY-MM-DD "
            f"or with the month's name (2 Dec 2026)"
        )
    return (
        f"{DATE_FORM_RULE} (a date in numbers only is read year first, so that it cannot be "
        "read two ways)"
    )


def parse_form_date(text: str) -> dt.date | str:
    """A date as typed (``2026-12-02``, ``2 Dec 2026``, ``2 December 2026``), or the rule
    it breaks. Numbers in another order (``12/02/2026``, ``02.12.2026``) are refused:
    they read differently from country to country."""
    value = text.strip()
    day: dt.date | None = None
    if m := _ISO.match(value):
        day = _day(int(m[1]), int(m[2]), int(m[3]))
    elif m := _NAMED.match(value):
        month = _MONTHS.get(m[2].lower())
        day = _day(int(m[3]), month, int(m[1])) if month else None
    elif m := _NUMERIC.match(value):
        return _ambiguous(m)
    if day is None:
        return DATE_FORM_RULE
    rule = range_rule(day)
    return day if rule is None else rule


def _readable(values: Mapping[str, str]) -> tuple[dict[str, str], list[FieldIssue]]:
    """The values in the case format's notation (point decimals, ISO dates), and an issue
    for each value that cannot be read; those are left out."""
    out: dict[str, str] = {}
    issues: list[FieldIssue] = []
    for name, value in values.items():
        c = _control_of(name)
        if c is None or not value or c.kind not in ("number", "date"):
            out[name] = value
        elif c.kind == "number":
            number = parse_form_number(value)
            if number is None:
                issues.append(FieldIssue(name, show_value(value), NUMBER_RULE))
            else:
                out[name] = number
        else:
            day = parse_form_date(value)
            if isinstance(day, str):
                issues.append(FieldIssue(name, show_value(value), day))
            else:
                out[name] = day.isoformat()
    return out, issues


def _none_of_four(values: dict[str, str], issues: list[FieldIssue]) -> None:
    """Apply "none of the four worrisome features": each of the four left unknown becomes
    absent; one set to present stays present and the contradiction is reported."""
    ticked = values.get(NONE_OF_FOUR, "")
    if ticked not in ("", "yes"):
        issues.append(FieldIssue(NONE_OF_FOUR, show_value(ticked), "must be ticked or not"))
        return
    if not ticked:
        return
    for name in WORRISOME_FOUR:
        state = values.get(name, "")
        if state in ("", Feature.unknown.value):
            values[name] = Feature.absent.value
        elif state == Feature.present.value:
            issues.append(
                FieldIssue(
                    name,
                    state,
                    "is present, but “None of the four worrisome features” is ticked: untick "
                    "that box, or change this feature",
                )
            )


# --------------------------------------------------------------------------------------
# Repeated rows
# --------------------------------------------------------------------------------------


def _row_indices(values: Mapping[str, str], spec: RowSpec) -> list[int]:
    return sorted(
        {
            int(m["row"])
            for name in values
            if (m := _ROW_NAME.match(name)) and m["prefix"] == spec.prefix
        }
    )


def _entered(values: Mapping[str, str], spec: RowSpec, row: int) -> dict[str, str]:
    """What a row holds beyond its defaults (empty: the row is not used)."""
    out: dict[str, str] = {}
    for c in spec.controls:
        value = values.get(spec.name(row, c), "")
        if value and value != c.default:
            out[c.name] = value
    return out


def rows_shown(values: Mapping[str, str], spec: RowSpec) -> int:
    """How many rows of ``spec`` the form showed when it was posted (its hidden field)."""
    text = values.get(ROWS_SHOWN + spec.prefix, "")
    return min(int(text), MAX_ROWS) if text.isdigit() and len(text) < 4 else 0


def row_count(values: Mapping[str, str], spec: RowSpec) -> int:
    """How many rows to show: every filled row, one blank row when the disease status
    needs these rows (:attr:`RowSpec.show_for`), and never fewer than were shown."""
    filled = max(
        (row + 1 for row in _row_indices(values, spec) if _entered(values, spec, row)),
        default=0,
    )
    blank = 1 if values.get(STATUS, "") in spec.show_for else 0
    return min(MAX_ROWS, max(rows_shown(values, spec), filled + blank))


def more_rows(form: Mapping[str, str]) -> dict[str, str]:
    """The values to show the form again with one more row of the group named by the
    "add another" button (``_add``), everything entered kept as typed."""
    values = _clean(form)
    spec = _ROWSPECS.get(form.get(ADD_ROW, "") if isinstance(form.get(ADD_ROW), str) else "")
    if spec is not None:
        more = max(rows_shown(values, spec) + 1, row_count(values, spec))
        values[ROWS_SHOWN + spec.prefix] = str(min(MAX_ROWS, more))
    return values


@dataclass
class FormResult:
    """The outcome of reading a posted form."""

    values: dict[str, str]
    case: Case | None = None
    on_date: dt.date | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    issues: list[FieldIssue] = field(default_factory=list)
    imaging: list[dict[str, str]] = field(default_factory=list)
    origins: dict[str, list[int]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.case is not None and self.on_date is not None and not self.issues


def _clean(form: Mapping[str, str]) -> dict[str, str]:
    """Only the known controls (and the rows' counters), trimmed; unknown names are
    dropped."""
    out: dict[str, str] = {}
    for name, raw in form.items():
        value = raw.strip() if isinstance(raw, str) else ""
        if name in _CONTROLS:
            out[name] = value
            continue
        if name.startswith(ROWS_SHOWN) and name[len(ROWS_SHOWN) :] in _ROWSPECS:
            out[name] = value
            continue
        m = _ROW_NAME.match(name)
        if m and m["prefix"] in _ROWSPECS and int(m["row"]) < MAX_ROWS:
            spec = _ROWSPECS[m["prefix"]]
            if any(c.name == m["field"] for c in spec.controls):
                out[name] = value
    return out


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    node = data
    *parents, last = path.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _rows(
    values: Mapping[str, str], spec: RowSpec, issues: list[FieldIssue]
) -> tuple[list[dict[str, str]], list[int]]:
    """The used rows as case data, and for each the row number it came from."""
    rows: list[dict[str, str]] = []
    origin: list[int] = []
    for row in _row_indices(values, spec):
        if not _entered(values, spec, row):
            continue
        given = {c.name: value for c in spec.controls if (value := values.get(spec.name(row, c)))}
        if not given.get(spec.key):
            key = next(c for c in spec.controls if c.name == spec.key)
            issues.append(
                FieldIssue(
                    f"{spec.prefix}[{row}].{spec.key}",
                    "(empty)",
                    f"is required when other facts of this {spec.noun.lower()} row are "
                    f"given (choose the {key.label.lower()})",
                )
            )
            continue
        rows.append(given)
        origin.append(row)
    return rows, origin


def _to_case_path(path: str, origins: Mapping[str, list[int]]) -> str:
    """Map ``stage.metastases[k]…`` (case index) back to the form row it came from."""
    m = re.match(r"^([a-z_.]+)\[(\d+)\](.*)$", path)
    if m and m[1] in origins:
        rows = origins[m[1]]
        k = int(m[2])
        if k < len(rows):
            return f"{m[1]}[{rows[k]}]{m[3]}"
    return path


def _control_for(path: str, values: Mapping[str, str]) -> str | None:
    """The name of the form control an issue path belongs to, if any."""
    if path in _CONTROLS or _ROW_NAME.match(path):
        return path
    for name in (*_CONTROLS, *values):
        if name.startswith(path + "."):
            return name
    spec = _ROWSPECS.get(path)
    if spec is not None:
        return f"{spec.prefix}[0].{spec.key}"
    parts = path.split(".")
    while len(parts) > 1:
        parts.pop()
        parent = ".".join(parts)
        if parent in _CONTROLS:
            return parent
    return None


# --------------------------------------------------------------------------------------
# Problems in plain words
# --------------------------------------------------------------------------------------


def label_for(path: str) -> str | None:
    """The form's label of a control name or case path (``Metastasis 2: Site`` for a
    row), or ``None`` when the form has no control for it."""
    if path in _CONTROLS:
        return _CONTROLS[path].label
    m = _ROW_NAME.match(path)
    if m and m["prefix"] in _ROWSPECS:
        spec = _ROWSPECS[m["prefix"]]
        control = _control_of(path)
        if control is not None:
            return f"{spec.noun} {int(m['row']) + 1}: {control.label}"
    return None


_ROW_FIELDS: dict[str, str] = {
    c.name: c.label for spec in _ROWSPECS.values() for c in spec.controls
}
_QUOTED = re.compile(r"'([^'\s]+)'")


def plain(text: str) -> str:
    """A rule in words: a quoted field path becomes the control's label, a quoted value
    with underscores its words (``'locally_advanced_unresectable'``)."""

    def word(m: re.Match[str]) -> str:
        token = m[1]
        label = label_for(token) or _ROW_FIELDS.get(token)
        if label is not None:
            return f"“{label}”"
        if "_" in token:
            return f"'{words(token)}'"
        return m[0]

    return _QUOTED.sub(word, text)


def issue_message(issue: FieldIssue) -> str:
    """An issue in words, for the line next to its control."""
    rule = issue.rule
    if rule == "is required":
        return "Required: choose or enter a value."
    rule = plain(rule)
    text = rule[0].upper() + rule[1:]
    if issue.value in ("(missing)", "(empty)") or issue.value.startswith(("{", "[")):
        return text + "."
    return f"{text} — entered: {issue.value}."


def _position(name: str) -> tuple[int, int, int]:
    """Where a control stands in the form (the error summary follows the form's order)."""
    m = _ROW_NAME.match(name)
    for gi, group in enumerate(FORM):
        for ci, c in enumerate(group.controls):
            if c.name == name:
                return gi, -1, ci
        if group.rows is not None and m and m["prefix"] == group.rows.prefix:
            for ci, c in enumerate(group.rows.controls):
                if c.name == m["field"]:
                    return gi, int(m["row"]), ci
    return len(FORM), 0, 0


# --------------------------------------------------------------------------------------
# Reading the form
# --------------------------------------------------------------------------------------

# Stand-ins for required facts that could not be read, chosen so that no contradiction
# depends on them: the case can still be checked for the contradictions among the rest.
_STAND_INS = {
    "tumour.primary_site": PrimarySite.other.value,
    "stage.status": DiseaseStatus.recurrent.value,
}
_ROW_STAND_INS = {"site": MetastasisSite.lung.value, "agent": Agent.other.value}
_STEP = re.compile(r"[a-z_]+|\[\d+\]")


def _leave_out(data: dict[str, Any], path: str) -> None:
    """Leave the fact at ``path`` out of ``data`` (a stand-in where it is required)."""
    if path in _STAND_INS:
        _put(data, path, _STAND_INS[path])
        return
    if path.startswith("tumour.size"):
        path = "tumour.size"
    elif path.startswith("free_of_disease.since"):
        path = "free_of_disease"
    steps = _STEP.findall(path)
    node: Any = data
    for step in steps[:-1]:
        if step.startswith("["):
            index = int(step[1:-1])
            if not isinstance(node, list) or index >= len(node):
                return
            node = node[index]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return
    last = steps[-1] if steps else ""
    if not isinstance(node, dict) or last not in node:
        return
    if last in _ROW_STAND_INS and len(steps) > 1 and steps[-2].startswith("["):
        node[last] = _ROW_STAND_INS[last]
    else:
        del node[last]


def _checked_apart(
    data: dict[str, Any], first: list[FieldIssue]
) -> tuple[Case | None, list[FieldIssue]]:
    """The case without the facts ``first`` refused, and the further problems found in
    it (contradictions among the facts that could be read)."""
    data = copy.deepcopy(data)
    reported = {i.path for i in first}
    found: list[FieldIssue] = []
    pending = first
    for _ in range(4):
        for issue in pending:
            _leave_out(data, issue.path)
        try:
            return parse_case(data, source="form"), found
        except InputError as exc:
            pending = list(exc.issues)
        found += [i for i in pending if i.path not in reported]
        reported |= {i.path for i in pending}
    return None, found


def form_to_case(form: Mapping[str, str]) -> FormResult:
    """Read a posted form into a case and an evaluation date, or into every problem it
    has, each attached to its control."""
    values = _clean(form)
    readable, early = _readable(values)
    _none_of_four(readable, early)
    result = FormResult({**values, **readable})
    issues: list[FieldIssue] = []

    data: dict[str, Any] = {"tumour": {}, "stage": {}}
    origins: dict[str, list[int]] = {}
    for name, value in readable.items():
        if not value or name in _FORM_ONLY or name.startswith(ROWS_SHOWN) or _ROW_NAME.match(name):
            continue
        if name == "tumour.size.value" or name == "tumour.size.unit":
            continue
        _put(data, name, value)
    size = readable.get("tumour.size.value", "")
    if size:
        data["tumour"]["size"] = {
            "value": size,
            "unit": readable.get("tumour.size.unit") or SizeUnit.cm.value,
        }
    for spec in _ROWSPECS.values():
        rows, origin = _rows(readable, spec, early)
        origins[spec.prefix] = origin
        if spec.prefix == IMAGING:
            result.imaging = rows
        elif rows:
            _put(data, spec.prefix, rows)
    result.origins = origins

    if not values.get(EVALUATION_DATE, ""):
        early.append(FieldIssue(EVALUATION_DATE, "(empty)", f"is required ({DATE_FORMS})"))
    elif EVALUATION_DATE in readable:
        result.on_date = dt.date.fromisoformat(readable[EVALUATION_DATE])
    case: Case | None = None
    try:
        case = parse_case(data, source="form")
    except InputError as exc:
        refused = list(exc.issues)
        issues += refused
        apart, further = _checked_apart(data, refused)
        issues += further
        checkable = apart
    else:
        checkable = case
    on = result.on_date
    if on is not None and checkable is not None:
        try:
            check_dates(checkable, on)
        except InputError as exc:
            issues += exc.issues
    if on is not None:
        try:
            parse_imaging(
                result.imaging,
                treatment_end=checkable.treatment_end if checkable is not None else None,
                on_date=on,
                source="imaging",
            )
        except InputError as exc:
            issues += exc.issues
    if early or issues:
        add_issues(result, early)
        add_issues(result, issues, origins)
        result.errors = dict(sorted(result.errors.items(), key=lambda kv: _position(kv[0])))
    else:
        result.case = case
    return result


def add_issues(
    result: FormResult,
    issues: Iterable[FieldIssue],
    origins: Mapping[str, list[int]] | None = None,
) -> None:
    """Attach issues to their controls (or to the form as a whole), each once."""
    for issue in issues:
        if origins is not None:
            issue = FieldIssue(_to_case_path(issue.path, origins), issue.value, issue.rule)
        if issue in result.issues:
            continue
        result.issues.append(issue)
        name = _control_for(issue.path, result.values)
        if name is None:
            where = label_for(issue.path) or "The case"
            result.general.append(f"{where}: {issue_message(issue)}")
        else:
            result.errors.setdefault(name, []).append(issue_message(issue))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def case_to_values(
    case: Case, on_date: dt.date | None = None, imaging: Iterable[ImagingEvent] = ()
) -> dict[str, str]:
    """The form values that show ``case`` and its imaging (for editing a case again)."""
    data = case.model_dump(mode="json", exclude={"format"})
    values: dict[str, str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict):
            for key, sub in node.items():
                walk(f"{prefix}.{key}" if prefix else key, sub)
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(f"{prefix}[{i}]", sub)
        elif node is not None:
            values[prefix] = _fmt(node)

    walk("", data)
    if on_date is not None:
        values[EVALUATION_DATE] = on_date.isoformat()
    for i, event in enumerate(imaging):
        values[f"{IMAGING}[{i}].date"] = event.date.isoformat()
        values[f"{IMAGING}[{i}].modality"] = event.modality.value
        if event.finding is not ScanFinding.not_recorded:
            values[f"{IMAGING}[{i}].finding"] = event.finding.value
    return values


def entered_facts(case: Case) -> list[tuple[str, str, str]]:
    """The facts of ``case`` that are known, as (group legend, label, value in words)."""
    values = case_to_values(case)
    out: list[tuple[str, str, str]] = []
    for group in FORM:
        for c in group.controls:
            if c.name in COMPANIONS or c.name not in values:
                continue
            value = values[c.name]
            if value == "unknown":
                continue
            text = _in_words(c, value)
            if c.companion and c.companion in values:
                text += f" {values[c.companion]}"
            elif c.unit:
                text += f" {c.unit}"
            out.append((group.legend, c.label, text))
        if group.rows is None:
            continue
        spec = group.rows
        for row in range(MAX_ROWS):
            parts = []
            for c in spec.controls:
                given = values.get(spec.name(row, c), "")
                if given and given != "unknown":
                    parts.append(f"{c.label.lower()} {_in_words(c, given)}")
            if not parts:
                break
            out.append((group.legend, f"{spec.noun} {row + 1}", "; ".join(parts)))
    return out


def _in_words(control: Control, value: str) -> str:
    for option in control.options:
        if option.value == value:
            return option.label
    return value


def default_values(on_date: dt.date) -> dict[str, str]:
    """A blank form: every fact unknown, the evaluation date set."""
    return {EVALUATION_DATE: on_date.isoformat()}
