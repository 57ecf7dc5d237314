"""The Case: the one way into pecoma.

Every adapter (JSON file, web form, FHIR Bundle, CSV row) produces a :class:`Case` or an
:class:`~pecoma.errors.InputError` listing every broken rule with its field path, the value
given and what is allowed. Nothing downstream sees raw input.

Unknown is a value: a histology feature is ``present``, ``absent`` or ``unknown``; an
immunohistochemistry marker is ``positive``, ``negative``, ``not_done`` or ``unknown``; a
yes/no fact may be ``unknown``. Leaving a field out means ``unknown``, never ``absent``.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from pecoma.dates import full_months_between, range_rule
from pecoma.errors import FieldIssue, InputError, show_value

__all__ = [
    "MTOR_AGENTS",
    "Agent",
    "Case",
    "Diagnosis",
    "DiagnosisMethod",
    "DiseaseStatus",
    "Feature",
    "FreeOfDisease",
    "FusionStatus",
    "Histology",
    "IHCResult",
    "Immunohistochemistry",
    "Margin",
    "Metastasis",
    "MetastasisSite",
    "Molecular",
    "NodeStatus",
    "PrimarySite",
    "PriorDiagnosis",
    "RemissionBy",
    "Response",
    "Size",
    "SizeUnit",
    "Stage",
    "Surgery",
    "SurgeryStatus",
    "Systemic",
    "TherapyLine",
    "TherapySetting",
    "Timing",
    "Tumour",
    "VariantStatus",
    "YesNo",
    "parse_case",
    "parse_case_json",
]


class Feature(StrEnum):
    """A histology finding: seen, looked for and not seen, or not reported."""

    present = "present"
    absent = "absent"
    unknown = "unknown"


class YesNo(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class IHCResult(StrEnum):
    positive = "positive"
    negative = "negative"
    not_done = "not_done"
    unknown = "unknown"


class PrimarySite(StrEnum):
    uterus = "uterus"
    broad_ligament = "broad_ligament"
    other_gynecologic = "other_gynecologic"
    kidney = "kidney"
    liver = "liver"
    retroperitoneum = "retroperitoneum"
    lung = "lung"
    gastrointestinal = "gastrointestinal"
    bladder = "bladder"
    soft_tissue = "soft_tissue"
    other = "other"

    @property
    def gynecologic(self) -> bool:
        return self in _GYNECOLOGIC


_GYNECOLOGIC = frozenset(
    {PrimarySite.uterus, PrimarySite.broad_ligament, PrimarySite.other_gynecologic}
)


class SizeUnit(StrEnum):
    cm = "cm"
    mm = "mm"


class DiagnosisMethod(StrEnum):
    histology_with_ihc = "histology_with_ihc"
    histology_without_ihc = "histology_without_ihc"
    imaging_only = "imaging_only"
    unknown = "unknown"


class PriorDiagnosis(StrEnum):
    """A diagnosis the tumour carried before it was called PEComa."""

    none = "none"
    leiomyoma = "leiomyoma"
    leiomyosarcoma = "leiomyosarcoma"
    fibrosarcoma = "fibrosarcoma"
    gist = "gist"
    melanoma = "melanoma"
    other_sarcoma = "other_sarcoma"
    other = "other"
    unknown = "unknown"


class DiseaseStatus(StrEnum):
    localized = "localized"
    locally_advanced_unresectable = "locally_advanced_unresectable"
    recurrent = "recurrent"
    metastatic = "metastatic"


class SurgeryStatus(StrEnum):
    performed = "performed"
    planned = "planned"
    not_performed = "not_performed"
    unknown = "unknown"


class Margin(StrEnum):
    R0 = "R0"
    R1 = "R1"
    R2 = "R2"
    uncertain = "uncertain"
    unknown = "unknown"


class NodeStatus(StrEnum):
    positive = "positive"
    negative = "negative"
    not_assessed = "not_assessed"
    unknown = "unknown"


class MetastasisSite(StrEnum):
    lung = "lung"
    liver = "liver"
    bone = "bone"
    peritoneum = "peritoneum"
    distant_lymph_node = "distant_lymph_node"
    brain = "brain"
    soft_tissue = "soft_tissue"
    other = "other"


class Timing(StrEnum):
    synchronous = "synchronous"
    metachronous = "metachronous"
    unknown = "unknown"


class Agent(StrEnum):
    sirolimus = "sirolimus"
    nab_sirolimus = "nab_sirolimus"
    everolimus = "everolimus"
    temsirolimus = "temsirolimus"
    doxorubicin = "doxorubicin"
    doxorubicin_ifosfamide = "doxorubicin_ifosfamide"
    epirubicin_ifosfamide = "epirubicin_ifosfamide"
    ifosfamide = "ifosfamide"
    gemcitabine_docetaxel = "gemcitabine_docetaxel"
    dacarbazine = "dacarbazine"
    trabectedin = "trabectedin"
    pazopanib = "pazopanib"
    other_chemotherapy = "other_chemotherapy"
    other = "other"

    @property
    def is_mtor_inhibitor(self) -> bool:
        return self in MTOR_AGENTS

    @property
    def is_conventional_chemotherapy(self) -> bool:
        return self in _CHEMOTHERAPY


MTOR_AGENTS = frozenset(
    {Agent.sirolimus, Agent.nab_sirolimus, Agent.everolimus, Agent.temsirolimus}
)
_CHEMOTHERAPY = frozenset(
    {
        Agent.doxorubicin,
        Agent.doxorubicin_ifosfamide,
        Agent.epirubicin_ifosfamide,
        Agent.ifosfamide,
        Agent.gemcitabine_docetaxel,
        Agent.dacarbazine,
        Agent.trabectedin,
        Agent.other_chemotherapy,
    }
)


class TherapySetting(StrEnum):
    adjuvant = "adjuvant"
    advanced = "advanced"


class Response(StrEnum):
    complete = "complete"
    partial = "partial"
    stable = "stable"
    progression = "progression"
    not_evaluable = "not_evaluable"
    unknown = "unknown"


class VariantStatus(StrEnum):
    """A gene's alteration status from molecular testing (ACMG-style classes)."""

    pathogenic = "pathogenic"
    vus = "vus"
    wild_type = "wild_type"
    not_done = "not_done"
    unknown = "unknown"


class FusionStatus(StrEnum):
    """Whether a gene fusion (rearrangement) was found."""

    present = "present"
    absent = "absent"
    not_done = "not_done"
    unknown = "unknown"


class RemissionBy(StrEnum):
    """How a relapsed patient was made free of disease."""

    surgery = "surgery"
    systemic_therapy = "systemic_therapy"
    other = "other"
    unknown = "unknown"


# Enum members as module constants for the checks every case goes through: on Python 3.11
# reading a member off its class passes through the enum metaclass, several times slower.
_CM = SizeUnit.cm
_PERFORMED = SurgeryStatus.performed
_LOCALIZED = DiseaseStatus.localized
_METASTATIC = DiseaseStatus.metastatic
_LOCALLY_ADVANCED = DiseaseStatus.locally_advanced_unresectable
_METACHRONOUS, _SYNCHRONOUS = Timing.metachronous, Timing.synchronous
_ADVANCED_SETTING = TherapySetting.advanced
_PROGRESSION = Response.progression
_NO = YesNo.no


def _not_bool(value: Any) -> Any:
    """Refuse true/false where a number is expected (lax parsing would read true as 1)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


def _date_not_number(value: Any) -> Any:
    """Refuse numbers where a date is expected (lax parsing would read 0 as 1970-01-01)."""
    if isinstance(value, int | float):
        raise ValueError("must be a date as YYYY-MM-DD, not a number")
    return value


def _in_date_range(value: dt.date) -> dt.date:
    """Refuse dates outside the supported range (see :mod:`pecoma.dates`)."""
    rule = range_rule(value)
    if rule is not None:
        raise ValueError(rule)
    return value


def _no_control_characters(value: Any) -> Any:
    """Refuse control characters and lone surrogates (text that cannot be printed)."""
    if isinstance(value, str) and any(
        ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in value
    ):
        raise ValueError("must not contain control characters or unpaired surrogates")
    return value


Number = Annotated[float, BeforeValidator(_not_bool)]
Day = Annotated[dt.date, BeforeValidator(_date_not_number), AfterValidator(_in_date_range),
               Field(json_schema_extra={"formatMinimum": "1900-01-01",
                                        "formatMaximum": "2199-12-31"})]
Label = Annotated[str, BeforeValidator(_no_control_characters), Field(max_length=80)]

MAX_SIZE_CM = 100.0
MAX_MITOSES = 500.0

_STRICT = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)


class _Model(BaseModel):
    model_config = _STRICT


class Size(_Model):
    """Largest tumour dimension with its unit."""

    value: Annotated[
        float, Field(gt=0, description="largest dimension, in `unit`"),
        BeforeValidator(_not_bool),
    ]
    unit: SizeUnit

    @property
    def cm(self) -> float:
        return self.value if self.unit is _CM else self.value / 10.0

    @model_validator(mode="after")
    def _plausible(self) -> Size:
        if self.cm > MAX_SIZE_CM:
            raise ValueError(f"must be at most {MAX_SIZE_CM:g} cm ({MAX_SIZE_CM * 10:g} mm)")
        return self

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"


class Diagnosis(_Model):
    method: DiagnosisMethod = Field(
        DiagnosisMethod.unknown, description="how the PEComa diagnosis was made"
    )
    date: Annotated[Day | None, Field(description="date of the diagnosis")] = None
    prior_diagnosis: PriorDiagnosis = Field(
        PriorDiagnosis.unknown,
        description="a diagnosis the tumour carried before PEComa ('none' if it had none)",
    )


class Tumour(_Model):
    primary_site: PrimarySite
    size: Size | None = Field(None, description="largest dimension; leave out when unknown")


class Histology(_Model):
    necrosis: Feature = Feature.unknown
    infiltrative_growth: Feature = Feature.unknown
    high_nuclear_grade_and_cellularity: Feature = Feature.unknown
    vascular_invasion: Feature = Feature.unknown
    nuclear_pleomorphism_or_giant_cells: Feature = Field(
        Feature.unknown,
        description="nuclear pleomorphism or multinucleated giant cells (Folpe 2005)",
    )
    mitoses_per_50_hpf: Annotated[
        Annotated[float, Field(ge=0, le=MAX_MITOSES), BeforeValidator(_not_bool)] | None,
        Field(description="mitotic count per 50 high-power fields"),
    ] = None


class Immunohistochemistry(_Model):
    hmb45: IHCResult = IHCResult.unknown
    melan_a: IHCResult = IHCResult.unknown
    mitf: IHCResult = IHCResult.unknown
    cathepsin_k: IHCResult = IHCResult.unknown
    sma: IHCResult = IHCResult.unknown
    desmin: IHCResult = IHCResult.unknown
    h_caldesmon: IHCResult = IHCResult.unknown
    tfe3: IHCResult = IHCResult.unknown


class Metastasis(_Model):
    site: MetastasisSite
    detected_on: Day | None = None
    timing: Timing = Field(
        Timing.unknown,
        description="stated timing; derived from dates when detected_on and the end of "
        "primary treatment are known",
    )


class Stage(_Model):
    status: DiseaseStatus
    lymph_nodes: NodeStatus = NodeStatus.unknown
    metastases: tuple[Metastasis, ...] = ()
    extrapulmonary_disease: YesNo = Field(
        YesNo.unknown, description="disease outside the lungs other than the treated primary"
    )
    resectable: YesNo = Field(
        YesNo.unknown, description="surgery can remove the current disease"
    )
    complete_excision_feasible: YesNo = Field(
        YesNo.unknown, description="complete excision of all known metastatic foci is feasible"
    )
    disease_free_interval_months: Annotated[
        Annotated[float, Field(ge=0, le=600), BeforeValidator(_not_bool)] | None,
        Field(description="stated disease-free interval, used only when dates cannot give it"),
    ] = None


class Surgery(_Model):
    status: SurgeryStatus = SurgeryStatus.unknown
    date: Day | None = None
    margin: Margin = Margin.unknown


class TherapyLine(_Model):
    agent: Agent
    setting: TherapySetting = TherapySetting.advanced
    line: Annotated[int, Field(ge=1, le=20), BeforeValidator(_not_bool)] | None = None
    started_on: Day | None = None
    best_response: Response = Response.unknown
    progressed: YesNo = YesNo.unknown


class Systemic(_Model):
    mtor_inhibitor_available: YesNo = YesNo.unknown
    mtor_inhibitor_contraindicated: YesNo = YesNo.unknown
    therapies: tuple[TherapyLine, ...] = ()


class Molecular(_Model):
    """Molecular findings (supplementary knowledge; the guideline's advice does not use them)."""

    tsc1: VariantStatus = Field(VariantStatus.unknown, description="TSC1 alteration status")
    tsc2: VariantStatus = Field(VariantStatus.unknown, description="TSC2 alteration status")
    tfe3_fusion: FusionStatus = Field(
        FusionStatus.unknown, description="TFE3 gene rearrangement (fusion), by FISH or sequencing"
    )


class FreeOfDisease(_Model):
    """A relapsed patient made free of disease again (surveillance restarts from here, I8)."""

    since: Day = Field(description="date from which no disease was detectable")
    by: RemissionBy = Field(
        RemissionBy.unknown, description="what made the patient free of disease"
    )


class Case(_Model):
    """One patient's PEComa, as a multidisciplinary team would summarise it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"title": "pecoma case", "$comment": "pecoma case format 1"},
    )

    format: Literal["pecoma-case/1"] = "pecoma-case/1"
    label: Annotated[
        Label | None,
        Field(description="a free label for the team; never a patient name"),
    ] = None
    diagnosis: Diagnosis = Diagnosis()
    tumour: Tumour
    histology: Histology = Histology()
    immunohistochemistry: Immunohistochemistry = Immunohistochemistry()
    stage: Stage
    surgery: Surgery = Surgery()
    primary_treatment_end: Day | None = Field(
        None,
        description="end of curative treatment of the primary; the surgery date when left out",
    )
    systemic: Systemic = Systemic()
    molecular: Molecular = Molecular()
    free_of_disease: FreeOfDisease | None = Field(
        None,
        description="after recurrent or metastatic disease: free of disease again since a date, "
        "and how",
    )

    @property
    def treatment_end(self) -> dt.date | None:
        """End of curative treatment of the primary (I5), the anchor of surveillance."""
        if self.primary_treatment_end is not None:
            return self.primary_treatment_end
        if self.surgery.status is _PERFORMED:
            return self.surgery.date
        return None

    @property
    def latest_date(self) -> dt.date | None:
        """The latest date among the case's facts."""
        dates = [
            self.diagnosis.date,
            self.surgery.date if self.surgery.status is _PERFORMED else None,
            self.primary_treatment_end,
            *(m.detected_on for m in self.stage.metastases),
            *(t.started_on for t in self.systemic.therapies),
            self.free_of_disease.since if self.free_of_disease is not None else None,
        ]
        known = [d for d in dates if d is not None]
        return max(known) if known else None

    @model_validator(mode="after")
    def _coherent(self) -> Case:
        issues = list(_contradictions(self))
        if issues:
            raise _Contradictions(issues)
        return self


class _Contradictions(ValueError):
    def __init__(self, issues: list[FieldIssue]) -> None:
        self.issues = issues
        super().__init__("; ".join(str(i) for i in issues))


def _contradictions(case: Case) -> list[FieldIssue]:
    issues: list[FieldIssue] = []

    def add(path: str, value: object, rule: str) -> None:
        issues.append(FieldIssue(path, show_value(value), rule))

    stage = case.stage
    surgery = case.surgery
    status = stage.status
    surgery_status = surgery.status
    performed = surgery_status is _PERFORMED
    if status is _LOCALIZED:
        if stage.metastases:
            add(
                "stage.metastases",
                [m.site.value for m in stage.metastases],
                "must be empty when 'stage.status' is 'localized' (distant metastases make "
                "the disease metastatic)",
            )
        if stage.extrapulmonary_disease is YesNo.yes:
            add(
                "stage.extrapulmonary_disease",
                "yes",
                "must not be 'yes' when 'stage.status' is 'localized'",
            )
    if status is _METASTATIC and stage.extrapulmonary_disease is YesNo.no:
        outside = [m.site.value for m in stage.metastases if m.site is not MetastasisSite.lung]
        if outside:
            add(
                "stage.extrapulmonary_disease",
                "no",
                f"contradicts the metastases listed outside the lungs ({', '.join(outside)})",
            )
    if (
        status is _LOCALIZED
        and stage.resectable is YesNo.no
        and performed
        and surgery.margin is Margin.R0
    ):
        add(
            "stage.resectable",
            "no",
            "contradicts 'surgery.margin' 'R0' for localized disease (a completely resected "
            "tumour leaves no unresectable disease); leave 'stage.resectable' out, or record "
            "the residual or recurrent disease with its status",
        )
    if status is _LOCALLY_ADVANCED and stage.resectable is YesNo.yes:
        add(
            "stage.resectable",
            "yes",
            "must not be 'yes' when 'stage.status' is 'locally_advanced_unresectable'",
        )
    if not performed:
        if surgery.margin is not Margin.unknown:
            add(
                "surgery.margin",
                surgery.margin.value,
                f"can only be given when 'surgery.status' is 'performed' "
                f"(got status '{surgery_status.value}')",
            )
        if surgery_status is not SurgeryStatus.planned and surgery.date is not None:
            add(
                "surgery.date",
                surgery.date.isoformat(),
                "can only be given when 'surgery.status' is 'performed' or 'planned'",
            )
    diagnosed = case.diagnosis.date
    operated_on = surgery.date if performed else None
    if diagnosed and operated_on and operated_on < diagnosed:
        # The diagnosis date is when the tumour was first diagnosed (the resection
        # specimen included), so surgery before it is a data-entry error.
        add(
            "surgery.date",
            operated_on.isoformat(),
            f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})",
        )
    end = case.primary_treatment_end
    if end and operated_on and end < operated_on:
        add(
            "primary_treatment_end",
            end.isoformat(),
            f"must not be before 'surgery.date' ({operated_on.isoformat()})",
        )
    if end and diagnosed and end < diagnosed:
        add(
            "primary_treatment_end",
            end.isoformat(),
            f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})",
        )
    mets = stage.metastases
    if case.free_of_disease is not None:
        issues.extend(_free_of_disease_issues(case, operated_on))
    therapies = case.systemic.therapies
    if not mets and not therapies:
        return issues
    anchor = end if end is not None else operated_on
    for i, met in enumerate(mets):
        path = f"stage.metastases[{i}]"
        if met.detected_on and diagnosed and met.detected_on < diagnosed:
            add(
                f"{path}.detected_on",
                met.detected_on.isoformat(),
                f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})",
            )
        if not (met.detected_on and anchor):
            continue
        if met.timing is _METACHRONOUS and met.detected_on <= anchor:
            add(
                f"{path}.detected_on",
                met.detected_on.isoformat(),
                "a metachronous metastasis must be detected after the primary was "
                f"treated (treatment ended {anchor.isoformat()})",
            )
        if met.timing is _SYNCHRONOUS and met.detected_on > anchor:
            add(
                f"{path}.timing",
                "synchronous",
                "contradicts 'detected_on' after the end of primary treatment "
                f"({met.detected_on.isoformat()} > {anchor.isoformat()}); "
                "use 'metachronous' or leave timing out",
            )
    stated_dfi = stage.disease_free_interval_months
    dated = [m.detected_on for m in mets if m.detected_on] if stated_dfi is not None else []
    if stated_dfi is not None and anchor and dated and len(dated) == len(mets):
        by_dates = full_months_between(anchor, min(dated))
        if by_dates >= 0 and abs(by_dates - stated_dfi) >= 1:
            add(
                "stage.disease_free_interval_months",
                stated_dfi,
                f"contradicts the dates, which give {by_dates} whole months from the end of "
                "primary treatment to the first metastasis; leave it out or correct it",
            )
    seen: set[int] = set()
    for i, t in enumerate(therapies):
        if t.setting is _ADVANCED_SETTING and t.line is not None:
            if t.line in seen:
                add(
                    f"systemic.therapies[{i}].line",
                    t.line,
                    "must be unique among advanced-setting therapies",
                )
            seen.add(t.line)
        if t.started_on and diagnosed and t.started_on < diagnosed:
            add(
                f"systemic.therapies[{i}].started_on",
                t.started_on.isoformat(),
                f"must not be before 'diagnosis.date' ({diagnosed.isoformat()})",
            )
        if t.best_response is _PROGRESSION and t.progressed is _NO:
            add(
                f"systemic.therapies[{i}].progressed",
                "no",
                "contradicts 'best_response' 'progression'",
            )
    return issues


_RELAPSED = (DiseaseStatus.recurrent, DiseaseStatus.metastatic)


def _free_of_disease_issues(case: Case, operated_on: dt.date | None) -> list[FieldIssue]:
    """``free_of_disease`` marks the end of a relapse (I8): only a recurrent or metastatic
    case can be free of disease *again*, and not before the facts of its disease."""
    fod = case.free_of_disease
    assert fod is not None
    status = case.stage.status
    if status not in _RELAPSED:
        hint = (
            "a localized case has never relapsed and is followed from "
            "'primary_treatment_end'"
            if status is _LOCALIZED
            else "the label says the tumour is present and cannot be removed; a primary "
            "removed after downstaging is 'localized', with its surgery and "
            "'primary_treatment_end'"
        )
        return [FieldIssue(
            "free_of_disease",
            show_value({"since": fod.since.isoformat(), "by": fod.by.value}),
            f"can only be given when 'stage.status' is 'recurrent' or 'metastatic' (got "
            f"'stage.status' '{status.value}'): it records a patient free of disease again "
            f"after a relapse; {hint}",
        )]
    since = fod.since
    where = "free_of_disease.since"
    before: list[tuple[str, dt.date | None]] = [
        ("diagnosis.date", case.diagnosis.date),
        ("primary_treatment_end", case.primary_treatment_end),
        ("surgery.date", operated_on),
        *((f"stage.metastases[{i}].detected_on", m.detected_on)
          for i, m in enumerate(case.stage.metastases)),
    ]
    return [
        FieldIssue(where, since.isoformat(),
                   f"must not be before '{path}' ({day.isoformat()}): the patient cannot be "
                   "free of disease before it")
        for path, day in before
        if day is not None and since < day
    ]


def dated_facts(case: Case) -> list[tuple[str, dt.date]]:
    """Every date in the case with its field path (for checks against the evaluation date)."""
    out: list[tuple[str, dt.date]] = []
    if case.diagnosis.date:
        out.append(("diagnosis.date", case.diagnosis.date))
    if case.surgery.date and case.surgery.status is SurgeryStatus.performed:
        out.append(("surgery.date", case.surgery.date))
    if case.primary_treatment_end:
        out.append(("primary_treatment_end", case.primary_treatment_end))
    for i, met in enumerate(case.stage.metastases):
        if met.detected_on:
            out.append((f"stage.metastases[{i}].detected_on", met.detected_on))
    for i, t in enumerate(case.systemic.therapies):
        if t.started_on:
            out.append((f"systemic.therapies[{i}].started_on", t.started_on))
    if case.free_of_disease is not None:
        out.append(("free_of_disease.since", case.free_of_disease.since))
    return out


def _loc_to_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith("function-"):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "(case)"


_FRIENDLY = {
    "missing": "is required",
    "extra_forbidden": "is not a field of the case format (check the spelling)",
}


def issues_from_validation(exc: ValidationError) -> list[FieldIssue]:
    """Translate a pydantic error into field issues (path, value, rule)."""
    issues: list[FieldIssue] = []
    for err in exc.errors(include_url=False):
        ctx_err = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_err, _Contradictions):
            issues.extend(ctx_err.issues)
            continue
        path = _loc_to_path(tuple(err["loc"]))
        kind = err["type"]
        rule = _FRIENDLY.get(kind)
        if rule is None:
            msg = str(err["msg"])
            msg = msg.removeprefix("Value error, ")
            if msg.startswith("must "):
                rule = msg
            else:
                rule = "must be valid: " + msg[0].lower() + msg[1:] if msg else "is invalid"
            if msg.startswith("Input should be"):
                rule = "must be " + msg.removeprefix("Input should be ").strip()
        value = "(missing)" if kind == "missing" else show_value(err.get("input"))
        issues.append(FieldIssue(path, value, rule))
    return issues


def parse_case(data: Any, source: str = "case") -> Case:
    """Validate a mapping into a :class:`Case`, or raise :class:`InputError`."""
    if not isinstance(data, dict):
        raise InputError(
            [FieldIssue("(case)", show_value(type(data).__name__), "must be a JSON object")],
            source,
        )
    try:
        case: Case = _validate(data)
    except ValidationError as exc:
        raise InputError(issues_from_validation(exc), source) from exc
    return case


_validate = Case.__pydantic_validator__.validate_python


def parse_case_json(text: str | bytes, source: str = "case") -> Case:
    """Parse JSON text into a :class:`Case`, or raise :class:`InputError`."""
    from pecoma.jsonin import loads

    try:
        return parse_case(loads(text, source), source)
    except RecursionError:
        raise InputError([FieldIssue("(case)", "deeply nested text",
                                     "must be nested less deeply")], source) from None
