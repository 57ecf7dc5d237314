"""The case form's layout: its controls, grouped as pathology and surgery reports are
(:data:`FORM`), each named by the field path of the case format (``tumour.size.value``,
``stage.metastases[0].site``), and the index of controls by name.

The table is long because the form is: one declaration per control, read by the
template and by :mod:`pecoma.web.forms`, which maps posted values to a case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from enum import StrEnum

from pydantic import BaseModel

from pecoma.case import (
    MAX_MITOSES,
    MAX_SIZE_CM,
    Agent,
    Case,
    ClearedBy,
    Completion,
    Diagnosis,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    FreeOfDisease,
    FusionStatus,
    GrossResidueCleared,
    Histology,
    IHCResult,
    Intolerance,
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
    Surgery,
    SurgeryStatus,
    Systemic,
    TherapyLine,
    TherapySetting,
    Timing,
    Tumour,
    VariantStatus,
    YesNo,
)
from pecoma.engine.imaging import Modality, ScanFinding
from pecoma.numbers import ROW_NUMBER, number_text
from pecoma.web.form_controls import Control, Group, Option, RowSpec, words
from pecoma.web.form_input import DATE_FORMS

__all__ = [
    "COMPANIONS",
    "CONTROLS",
    "EVALUATION_DATE",
    "FORM",
    "IMAGING",
    "MAX_ROWS",
    "NONE_OF_FOUR",
    "ROWSPECS",
    "ROW_NAME",
    "STATUS",
    "WORRISOME_FOUR",
    "applies",
    "control_id",
    "control_of",
]

EVALUATION_DATE = "on"
IMAGING = "imaging"
STATUS = "stage.status"
NONE_OF_FOUR = "none_of_four"


# The four histology features the "none of these" box sets, recorded as
# present/absent/unknown: not the guideline's four high-risk features (S06–S09), which
# count size (entered as a number, as mitoses are) and not vascular invasion.
WORRISOME_FOUR = (
    "histology.necrosis",
    "histology.infiltrative_growth",
    "histology.high_nuclear_grade_and_cellularity",
    "histology.vascular_invasion",
)


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


def _describe(model: type[BaseModel], name: str, words: Mapping[str, str] | None = None
              ) -> str | None:
    """The field's description from the case format, capitalised, with ``words`` (a
    case-format key or record id written there, and what the form says instead: the
    field's label) replaced; each must be found, so a reworded description is noticed."""
    text = model.model_fields[name].description
    for said, shown in (words or {}).items():
        if text is None or said not in text:
            raise LookupError(f"{model.__name__}.{name}: no {said!r} in the description")
        text = text.replace(said, shown)
    return text[0].upper() + text[1:] if text else None


def _select_unknown(name: str, label: str, enum: type[StrEnum], help: str | None = None) -> Control:
    return Control(name, label, "select", _unknown_first(enum), default="unknown", help=help)


def _feature(name: str, label: str, help: str | None = None) -> Control:
    return _select_unknown(f"histology.{name}", label, Feature, help)


def _ihc(name: str, label: str) -> Control:
    return _select_unknown(f"immunohistochemistry.{name}", label, IHCResult)


def _yes_no(name: str, label: str, help: str | None = None) -> Control:
    return _select_unknown(name, label, YesNo, help)


_DATE_HELP = f"As {DATE_FORMS}; leave empty when unknown."
_ROW_DATE_HELP = f"As {DATE_FORMS}."
_RELAPSED = frozenset({DiseaseStatus.recurrent.value, DiseaseStatus.metastatic.value})
_NOT_METASTATIC = frozenset(s.value for s in DiseaseStatus) - {DiseaseStatus.metastatic.value}


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
                help="Where the tumour arose: 'uterus' is the uterine body or the uterine "
                "cervix (cervix uteri, part of the uterus); 'other gynecologic site' is a "
                "gynecologic site outside the uterus and the broad ligament (ovary, "
                "fallopian tube, vagina, vulva).",
                required=True,
            ),
            _yes_no(
                "tumour.cervix",
                "Arose in the uterine cervix",
                "For a gynecologic primary. The cervix is part of the uterus: a cervical "
                "primary is recorded as 'uterus' (S15's uterine option applies), and 'yes' "
                "is refused beside any other site. Beside 'other gynecologic site', 'no' "
                "says the primary is outside the uterus; unknown leaves open whether it is "
                "uterine, which is asked where it decides S15.",
            ),
            Control(
                "tumour.size.value",
                "Largest dimension",
                "number",
                minimum=0,
                maximum=MAX_SIZE_CM * 10,
                step="any",
                help=f"Leave empty when unknown; at most {number_text(MAX_SIZE_CM)} cm.",
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
            _select_unknown(
                "tumour.features_before_systemic_therapy",
                "Size and features recorded before any systemic therapy",
                YesNo,
                _describe(Tumour, "features_before_systemic_therapy"),
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
                "None of these histology features: necrosis, infiltrative growth, high "
                "nuclear grade and cellularity, vascular invasion",
                "checkbox",
                help="Sets those of these four left unknown to absent; each can still be "
                "changed below. They are not the guideline's four high-risk features "
                "(S06–S09): tumour size, one of those, is entered apart under Tumour, and "
                "vascular invasion is not one of them. Mitoses are entered as a number.",
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
            _select_unknown("stage.lymph_nodes", "Regional lymph nodes", NodeStatus,
                            help="Left unknown, surveillance follows the high-risk schedule "
                            "until it is answered (positive nodes would call for it); "
                            "choose not assessed when no nodes were examined."),
            _yes_no(
                "stage.extrapulmonary_disease",
                "Disease outside the lungs",
                _describe(Stage, "extrapulmonary_disease"),
            ),
            _yes_no(
                "stage.local_recurrence",
                "Local recurrence present",
                _describe(Stage, "local_recurrence", {
                    # the question the report asks, by the field's label
                    " (MISS-LOCAL-RECURRENCE)": ""}),
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
                    "detected_on_or_before",
                    "Detected on or before",
                    "date",
                    help=_describe(Metastasis, "detected_on_or_before"),
                ),
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
        "suspected",
        "Suspected metastases, not confirmed",
        (),
        rows=RowSpec(
            "stage.suspected_metastases",
            "Suspected metastasis",
            "site",
            (
                Control(
                    "site",
                    "Suspected, not confirmed metastasis — site",
                    "select",
                    _options(MetastasisSite, blank="— none —"),
                    help="Where a metastasis is suspected (on imaging, say) and not yet "
                    "confirmed or excluded.",
                ),
            ),
            show_for=_NOT_METASTATIC,
        ),
        note="A metastasis suspected and not confirmed is no present disease: enter a "
        "confirmed one under Stage and metastases. Beside disease not metastatic the "
        "report asks whether it is confirmed, and every treatment recommendation and the "
        "surveillance schedule are provisional on the answer.",
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
            Control(
                "surgery.date_on_or_before",
                "Surgery done on or before",
                "date",
                help=_describe(Surgery, "date_on_or_before",
                               {"'date'": "“Date of surgery”"}),
            ),
            _select_unknown("surgery.margin", "Resection margin", Margin),
            Control(
                "surgery.completion.date",
                "Completing resection after R2: date",
                "date",
                help=_describe(Surgery, "completion"),
            ),
            Control(
                "surgery.completion.margin",
                "Completing resection after R2: margin",
                "select",
                _options(Margin, blank="— no completing resection —"),
                help=_describe(Completion, "margin"),
            ),
            Control(
                "surgery.gross_residue_cleared.date",
                "Gross residue (R2) cleared without resection: date",
                "date",
                help=_describe(Surgery, "gross_residue_cleared", {
                    "needs 'margin' 'R2' (or a completing resection that left R2 again)":
                    "needs “Resection margin” R2 (or “Completing resection after R2: "
                    "margin” R2 again)",
                    "Cleared 'by' 'radiotherapy'": "Cleared by radiotherapy (“Gross "
                    "residue (R2) cleared without resection: by”)",
                    "A further resection that removed it is 'completion', not this":
                    "A further resection that removed it is entered as “Completing "
                    "resection after R2”, not here"}),
            ),
            Control(
                "surgery.gross_residue_cleared.by",
                "Gross residue (R2) cleared without resection: by",
                "select",
                _options(ClearedBy, blank="— not cleared / not recorded —"),
                help=_describe(GrossResidueCleared, "by"),
            ),
            _yes_no("surgery.adjuvant_radiotherapy", "Adjuvant radiotherapy given",
                    help=_describe(Surgery, "adjuvant_radiotherapy")),
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
        "After a relapse or advanced disease: free of disease",
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
        note="Only for recurrent, metastatic or unresectable locally advanced disease "
        "treated until no disease was detectable: surveillance restarts on the high-risk "
        "schedule from this date (I8). "
        "Leave empty while disease is present.",
    ),
    Group(
        "systemic",
        "Systemic therapy options",
        (
            _yes_no("systemic.mtor_inhibitor_available", "mTOR inhibitor available"),
            _yes_no("systemic.mtor_inhibitor_contraindicated", "mTOR inhibitor contraindicated"),
            _yes_no("systemic.anthracycline_contraindicated",
                    "Anthracyclines contraindicated (e.g. cardiac)",
                    help=_describe(Systemic, "anthracycline_contraindicated", {
                        # the alert by what the report says, not by its record id
                        "raises ALERT-LINE-NOT-TOLERATED naming it":
                        "raises an alert naming it, asking which is current"})),
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
                    _options(TherapySetting, blank="— choose —"),
                    help="Adjuvant: after the operation that removed the disease; "
                    "advanced: for recurrent, metastatic or unresectable disease. "
                    "Never assumed: a line with an agent needs it.",
                ),
                Control("line", "Line", "number", minimum=1, maximum=20, step="1"),
                Control("started_on", "Started on", "date", help=_ROW_DATE_HELP),
                Control(
                    "ended_on",
                    "Ended on",
                    "date",
                    help=_describe(TherapyLine, "ended_on"),
                ),
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
        "intolerances",
        "Drugs not tolerated",
        (),
        rows=RowSpec(
            "systemic.intolerances",
            "Intolerance",
            "agent",
            (Control("agent", "Drug", "select", _options(Agent, blank="— none —"),
                     help=_describe(Intolerance, "agent")),
             Control("class_wide", "Class-wide?", "select",
                     (Option("unknown", "unknown"), Option("yes", "yes"),
                      Option("no", "no (this drug only)")),
                     default="unknown", help=_describe(Intolerance, "class_wide"))),
            show_for=_RELAPSED | {DiseaseStatus.locally_advanced_unresectable.value},
        ),
        note="Active allergies or intolerances: every regimen holding the drug is ruled out "
        "(I15). Class-wide? is the team's judgement, for an mTOR inhibitor or an "
        "anthracycline only: an mTOR inhibitor listed rules out every one ('yes'), only "
        "that drug ('no'), or, left unknown, every one meanwhile (asked) unless the latest "
        "mTOR-inhibitor line is of another one, not listed; sirolimus and nab-sirolimus "
        "count as one drug; an anthracycline listed by the same rule: the other one too "
        "('yes'), not ('no'), or, left unknown, withheld meanwhile (asked) unless the "
        "latest anthracycline line is of the other one, not listed.",
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
        "last scan of the examination done longest ago, so that none drifts; a scan "
        "showing disease suspends the plan. With no scan entered the "
        "history counts as not given: the plan asks for it and puts a visit due now (I13). "
        "Not part of the case.",
    ),
)


def _help_in_labels(controls: tuple[Control, ...]) -> tuple[Control, ...]:
    """The help texts naming a neighbouring field by its label (a description written for
    the case's schema may name a field, e.g. ``detected_on``: the form says "Detected on")."""
    labels = {c.name.rsplit(".", 1)[-1]: c.label for c in controls}

    def label(m: re.Match[str]) -> str:
        key = m[1] or m[2]
        return f"“{labels[key]}”" if key in labels else m[0]

    def plain(text: str) -> str:
        # a key quoted ('started_on') is shown in the label's quotes alone
        return re.sub(r"'([a-z]+(?:_[a-z]+)+)'|\b([a-z]+(?:_[a-z]+)+)\b", label, text)

    return tuple(replace(c, help=plain(c.help)) if c.help else c for c in controls)


FORM = tuple(
    replace(g, controls=_help_in_labels(g.controls),
            rows=replace(g.rows, controls=_help_in_labels(g.rows.controls)) if g.rows else None)
    for g in FORM
)

_CONTROLS: dict[str, Control] = {c.name: c for g in FORM for c in g.controls}
CONTROLS: Mapping[str, Control] = _CONTROLS
COMPANIONS: frozenset[str] = frozenset(c.companion for c in _CONTROLS.values() if c.companion)
ROWSPECS: dict[str, RowSpec] = {g.rows.prefix: g.rows for g in FORM if g.rows}
ROW_NAME = re.compile(
    rf"^(?P<prefix>[a-z_.]+)\[(?P<row>{ROW_NUMBER})\]\.(?P<field>[a-z_]+)$", re.ASCII)
"""A row control's name as the form writes it: the row number in ASCII digits, without a
sign, spaces or leading zeros (:data:`~pecoma.numbers.ROW_NUMBER`, as the registry's
columns). ``[01]`` is not row 1 (it would be read as row 1 but looked up as ``[1]``, and
so dropped): a name written otherwise is refused, never read."""
MAX_ROWS = 100
"""Rows the form reads per repeated group (more are refused, never left out): a century
of yearly scans, or twice-yearly scans for half of one."""


#: Facts of the stage that apply to recurrent or metastatic disease only: the statuses for
#: which the form offers rows of metastases (their ``show_for``).
RELAPSED_ONLY: frozenset[str] = frozenset({
    "stage.extrapulmonary_disease",
    "stage.local_recurrence",
    "stage.complete_excision_feasible",
    "stage.disease_free_interval_months",
})


def applies(path: str, case: Case) -> bool:
    """Whether the fact at ``path`` can matter for ``case``'s disease status: the facts
    of :data:`RELAPSED_ONLY` for recurrent or metastatic disease (or metastases listed)
    only; whether surgery can remove the disease (``stage.resectable``) except for
    localized disease resected with an R0 margin (the case's checks refuse 'no' there,
    and 'yes' changes nothing). Every other fact applies. Used to list the facts a
    record did not give; a fact the engine asks about is listed whatever this says."""
    stage = case.stage
    relapsed = stage.status.value in _RELAPSED or bool(stage.metastases)
    if path in RELAPSED_ONLY:
        return relapsed
    if path == "stage.resectable" and not relapsed:
        surgery = case.surgery
        return not (stage.status is DiseaseStatus.localized
                    and surgery.status is SurgeryStatus.performed
                    and surgery.final_margin is Margin.R0)
    return True


def control_id(name: str) -> str:
    """The HTML id of the control named ``name`` (a case field path)."""
    return "f-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def control_of(name: str) -> Control | None:
    """The control named ``name`` (a row control by its full name)."""
    if name in _CONTROLS:
        return _CONTROLS[name]
    m = ROW_NAME.match(name)
    if m and m["prefix"] in ROWSPECS:
        for c in ROWSPECS[m["prefix"]].controls:
            if c.name == m["field"]:
                return c
    return None
