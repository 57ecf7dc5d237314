"""The case model: one pydantic model per part of a case (:class:`Case` holds them), each
field with its type, range and description. Every case built is coherent: its validator
runs the checks of :mod:`pecoma.case.coherence`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    model_validator,
)

from pecoma.case.coherence import (
    WORK_UP_MONTHS,
    Contradictions,
    after_evaluation_date,
    contradictions,
)
from pecoma.case.values import (
    ANTHRACYCLINES,
    MTOR_AGENTS,
    Agent,
    ClearedBy,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    FusionStatus,
    IHCResult,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    RemissionBy,
    Response,
    SizeUnit,
    SurgeryStatus,
    TherapySetting,
    Timing,
    VariantStatus,
    YesNo,
)
from pecoma.dates import (
    DATE_RULE,
    date_rule,
    day_text,
    month_named,
    no_such_day,
    range_rule,
    reached_months,
)
from pecoma.errors import FieldIssue
from pecoma.numbers import (
    FINITE_NUMBER_RULE,
    PLAIN_NUMBER_RULE,
    TOO_LARGE_RULE,
    number_text,
    parse_number,
)

__all__ = [
    "MAX_MITOSES",
    "MAX_SIZE_CM",
    "WORK_UP_MONTHS",
    "Case",
    "Day",
    "Diagnosis",
    "FreeOfDisease",
    "GrossResidueCleared",
    "Histology",
    "Immunohistochemistry",
    "Label",
    "Metastasis",
    "Molecular",
    "Number",
    "Size",
    "Stage",
    "Surgery",
    "SuspectedMetastasis",
    "Systemic",
    "TherapyLine",
    "Tumour",
    "class_drugs",
    "class_each_ruled_out",
    "class_judged",
    "class_ruled_out",
    "class_tolerated_line",
    "class_undecided",
    "lines_in_order",
    "mtor_class_ruled_out",
    "mtor_class_undecided",
    "mtor_each_ruled_out",
    "mtor_ruled_out",
    "mtor_tolerated_line",
    "opposed_judgements",
    "other_anthracyclines_not_tolerated",
]

# Enum members as module constants for the checks every case goes through: on Python 3.11
# reading a member off its class passes through the enum metaclass, several times slower.
_CM = SizeUnit.cm
_PERFORMED = SurgeryStatus.performed
_LUNG = MetastasisSite.lung



def _not_bool(value: Any) -> Any:
    """Refuse true/false where a number is expected (lax parsing would read true as 1), a
    number written as text other than a plain decimal (:mod:`pecoma.numbers`): lax
    parsing reads ``"4_5"`` as 45 (a digit separator) and ``"1e1"`` as 10, so a typo for
    4,5 cm had made a tumour of 45 cm (a JSON number such as ``1e1`` is a number), and
    a NaN or Infinity token, said so rather than as a bound it does not break ("must be
    greater than 0 (got nan)"), and a text of too many digits to be a finite number,
    named as written."""
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(FINITE_NUMBER_RULE)
    if isinstance(value, str):
        if parse_number(value, decimal_comma=False) is None:
            raise ValueError(PLAIN_NUMBER_RULE)
        if not math.isfinite(float(value)):
            # hundreds of digits (numbers run together, a pasted column): refused here,
            # as written, not as the Infinity the text becomes as a float ("must be at
            # most 100 cm (got Infinity)" named no text the user can find)
            raise ValueError(TOO_LARGE_RULE)
    return value


def _iso_day(value: Any) -> Any:
    """Only a date, or a text written YYYY-MM-DD (or the midnight of that day): lax parsing
    would read 0 or "0" as 1970-01-01 (seconds since 1970) and "1736121600" as
    2025-01-06."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and (text := day_text(value)) is not None:
        rule = date_rule(text)  # 2026-02-30: named as no day, not as a wrong format
        if rule != DATE_RULE:
            raise ValueError(rule)
        return text
    if isinstance(value, int | float):
        raise ValueError("must be a date as YYYY-MM-DD, not a number")
    named = month_named(value) if isinstance(value, str) else None
    if named is not None and no_such_day(*named) is None:
        # "15 Oct 2025", as the web form takes it: the same day in this format's words
        raise ValueError(f"must be a date as YYYY-MM-DD: write it "
                         f"{dt.date(*named).isoformat()}")
    raise ValueError("must be a date as YYYY-MM-DD (a time of 00:00 after it is accepted, "
                     "as date-and-time exports write the day)")


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
Day = Annotated[dt.date, BeforeValidator(_iso_day), AfterValidator(_in_date_range),
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
            # named by the number entered (a Size is only ever the case's tumour.size),
            # not by the whole object
            cm, mm = number_text(MAX_SIZE_CM), number_text(MAX_SIZE_CM * 10)
            raise Contradictions([FieldIssue(
                "tumour.size.value", number_text(self.value),
                f"must be at most {cm} cm ({mm} mm) (the unit given: {self.unit})")])
        return self

    def __str__(self) -> str:
        return f"{number_text(self.value)} {self.unit}"


class Diagnosis(_Model):
    method: DiagnosisMethod = Field(
        DiagnosisMethod.unknown, description="how the PEComa diagnosis was made"
    )
    date: Annotated[Day | None, Field(
        description="date the tumour was first diagnosed (for a tumour first diagnosed as "
        "another, the day of that first diagnosis)")] = None
    prior_diagnosis: PriorDiagnosis = Field(
        PriorDiagnosis.unknown,
        description="a diagnosis the tumour carried before PEComa ('none' if it had none)",
    )


class Tumour(_Model):
    primary_site: PrimarySite = Field(
        description="where the tumour arose: 'uterus' is the uterine body or the uterine "
        "cervix (cervix uteri, part of the uterus); 'other_gynecologic' a gynecologic site "
        "outside the uterus and the broad ligament (ovary, fallopian tube, vagina, vulva)")
    cervix: YesNo = Field(
        YesNo.unknown,
        description="for a gynecologic primary: whether it arose in the uterine cervix. "
        "The cervix is part of the uterus: a cervical primary is recorded as 'uterus' (S15's "
        "uterine option applies), and 'yes' is refused beside any other site. Beside "
        "'other_gynecologic', 'no' says the primary is outside the uterus; unknown leaves "
        "open whether it is uterine, which is asked where it decides S15",
    )
    size: Size | None = Field(None, description="largest dimension; leave out when unknown")
    features_before_systemic_therapy: YesNo = Field(
        YesNo.unknown,
        description="the size and histology features recorded describe the tumour before "
        "any systemic therapy (diagnostic imaging and biopsy), not a specimen resected "
        "after it; asked when a systemic therapy line started before the resection (I17)",
    )


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
    detected_on_or_before: Annotated[Day | None, Field(
        description="when the day it was detected is not known: the latest it can have "
        "been (the day it was recorded); the timing, the disease-free interval and whether "
        "it came at an earlier presentation than the lung metastases are then known only as "
        "far as that day settles them, and a stated fact that day contradicts is refused "
        "as beside the day it was found; a day after the day recorded as free of disease "
        "is refused (the metastasis may have been found after it)")] = None
    timing: Timing = Field(
        Timing.unknown,
        description="stated timing; derived from dates when detected_on and the end of "
        "primary treatment are known, except for a metastasis found less than 3 months "
        "after that end (before the first surveillance scan): it may have been present at "
        "presentation, so the stated timing decides, asked when not stated (I29)",
    )

    @model_validator(mode="after")
    def _found_by_then(self) -> Metastasis:
        day, latest = self.detected_on, self.detected_on_or_before
        if day is not None and latest is not None and day > latest:
            raise ValueError(f"'detected_on' ({day.isoformat()}) must be on or before "
                             f"'detected_on_or_before' ({latest.isoformat()})")
        return self


class SuspectedMetastasis(_Model):
    """A metastasis suspected and not confirmed: its site only (no present disease)."""

    site: MetastasisSite


class Stage(_Model):
    status: DiseaseStatus
    lymph_nodes: NodeStatus = NodeStatus.unknown
    metastases: tuple[Metastasis, ...] = ()
    suspected_metastases: tuple[SuspectedMetastasis, ...] = Field(
        (),
        description="the sites of metastases suspected and not confirmed (recorded as "
        "provisional, differential or unconfirmed): no present disease, so not in "
        "'metastases'; beside a disease not recorded as metastatic, whether each is "
        "confirmed is asked and the advice is provisional on the answer",
    )
    extrapulmonary_disease: YesNo = Field(
        YesNo.unknown,
        description="disease outside the lungs present now (the team's statement after "
        "staging), a local recurrence at the primary's site or bed included (the primary "
        "itself, removed or still in place, is read from the surgery, not from here); a "
        "metastasis outside the lungs listed, "
        "whenever it was found, may since have been removed or cleared (a staged "
        "metastasectomy, a complete response on systemic treatment), so 'no' records that "
        "none is present now and 'yes' that some is; left unknown beside one listed, it is "
        "asked and S16's metastasectomy waits on it (I5)",
    )
    local_recurrence: YesNo = Field(
        YesNo.unknown,
        description="a local recurrence (at the primary's site or bed) present now. 'no' "
        "beside the status 'recurrent' and lung metastases says the recurrence is the "
        "metastases alone (or a local recurrence was removed before): S16's lung "
        "metastasectomy is then weighed as for metastatic disease (I6), the status kept. "
        "'yes' is disease outside the lungs (S16 not met): refused beside "
        "'extrapulmonary_disease' 'no', beside the status 'localized' and beside a day "
        "recorded free of disease (a local recurrence treated is the relapse that records, "
        "'no' then). 'no' beside the status 'recurrent' with no "
        "metastasis listed and 'extrapulmonary_disease' 'no' is refused unless the patient "
        "is recorded free of disease: the recurrence would be recorded nowhere. Left unknown "
        "beside the status 'recurrent' and lung metastases, it is asked "
        "(MISS-LOCAL-RECURRENCE) and S16's metastasectomy waits on it",
    )
    resectable: YesNo = Field(
        YesNo.unknown, description="surgery can remove the current disease"
    )
    complete_excision_feasible: YesNo = Field(
        YesNo.unknown, description="complete excision of all known metastatic foci is feasible"
    )
    disease_free_interval_months: Annotated[
        Annotated[float, Field(ge=0, le=600), BeforeValidator(_not_bool)] | None,
        Field(description="stated disease-free interval, used when dates cannot give it "
              "and, shorter than the dates give, from an earlier relapse's treatment "
              "(whatever the status); for metastases found at more than one presentation "
              "(3 months or more apart), the months from the last curative treatment "
              "before the latest ones, at most those from the end of the primary's "
              "treatment to the latest (I5)"),
    ] = None

    @property
    def extrapulmonary_earlier(self) -> tuple[int, ...]:
        """The indices of the metastases outside the lungs found at an earlier presentation
        than the lung metastases listed (I5): found :data:`WORK_UP_MONTHS` or more before
        the latest lung metastasis. They may since have been removed or cleared, so
        whether they are present now is what 'extrapulmonary_disease' records. One
        undated, or found within the work-up of the latest lung metastasis or after it, is
        of the present presentation, and is not among them.

        A metastasis known only by the day it was recorded (``detected_on_or_before``)
        was found by that day: recorded that long before, it was found earlier. A lung
        metastasis known only so was found by that day too, perhaps long before it: one
        outside the lungs found that long before it may then be of the same presentation
        or an earlier one, and is among them.

        Whatever their days, whether disease outside the lungs is present now is the
        team's record; these tell only which question asks it when it is not recorded."""
        found = [day for m in self.metastases
                 if m.site is _LUNG and (day := m.detected_on or m.detected_on_or_before)]
        if not found:
            return ()
        latest = max(found)
        return tuple(i for i, m in enumerate(self.metastases)
                     if m.site is not _LUNG
                     and (day := m.detected_on or m.detected_on_or_before) is not None
                     and reached_months(day, latest, WORK_UP_MONTHS))


    @property
    def earlier_presentation(self) -> tuple[int, int] | None:
        """The indices of the first metastasis found and of the latest, when the latest
        was found :data:`WORK_UP_MONTHS` or more after the first (each by the day it was
        found, else the day it was recorded): the metastases listed were found at more
        than one presentation, the latest being the present one and the earlier ones an
        earlier relapse, which may have been treated before the present metastases were
        found. S16's interval then runs to the present metastases from the last curative
        treatment before them, which the primary's dates do not give: they bound it only
        by the latest day (I5). ``None`` when fewer than two are dated or all were found
        within the work-up of the first (one presentation).

        A metastasis known only by the day it was recorded may have been found long
        before: the latest known so may be of the first presentation. The metastases are
        then taken as possibly found at more than one (the interval is asked, and a stated
        one is held only to the latest day), never as certainly one."""
        found = [(day, i) for i, m in enumerate(self.metastases)
                 if (day := m.detected_on or m.detected_on_or_before) is not None]
        if len(found) < 2:
            return None
        (first, i), (last, j) = min(found), max(found)
        return (i, j) if reached_months(first, last, WORK_UP_MONTHS) else None


class Completion(_Model):
    date: Annotated[Day | None, Field(description="date of the completing resection")] = None
    margin: Margin = Field(Margin.unknown, description="margin of the completing resection")


class GrossResidueCleared(_Model):
    """Gross tumour left by the primary's resection (R2) cleared without a further
    resection: by radiotherapy, an ablation or systemic treatment with a complete
    response. The patient is free of disease from ``date``: the end of curative treatment
    of the primary, from which S16's disease-free interval counts (I5)."""

    date: Annotated[Day | None, Field(
        description="the day no gross tumour was detectable any more (the imaging that "
        "showed it cleared); left out when not known: S16's interval is then the one "
        "stated, else asked")] = None
    by: ClearedBy = Field(ClearedBy.unknown, description="what cleared it")


class Surgery(_Model):
    status: SurgeryStatus = SurgeryStatus.unknown
    date: Day | None = None
    date_on_or_before: Annotated[Day | None, Field(
        description="when the day of the resection done is not known: the latest it can "
        "have been (a record giving it as the patient's age: the last day of that age); "
        "not beside 'date'. Never counted as the day of the operation: the end of "
        "treatment, the surveillance calendar and the disease-free interval stay unknown "
        "(asked), as for an undated resection. More than 6 months before the evaluation "
        "date, the decisions that follow the resection of a localized primary are asked "
        "about rather than shown as due (I30); within 6 months the operation may be "
        "recent, and the day is asked")] = None
    margin: Margin = Margin.unknown
    completion: Completion | None = Field(
        None,
        description="a further resection that completed an R2 resection (its date and "
        "margin); the surgery's own date and R2 margin stay those of the first operation",
    )
    gross_residue_cleared: GrossResidueCleared | None = Field(
        None,
        description="gross tumour the resection left (final margin R2) cleared without a "
        "further resection (radiotherapy, an ablation, systemic treatment with a complete "
        "response): its date and how; needs 'margin' 'R2' (or a completing "
        "resection that left R2 again). The patient is free of disease from that date, "
        "the end of curative treatment of the primary: S16's disease-free interval counts "
        "from it (I5). Cleared 'by' 'radiotherapy' is refused beside "
        "'adjuvant_radiotherapy' 'no'. A further resection that removed it is "
        "'completion', not this",
    )
    adjuvant_radiotherapy: YesNo = Field(
        YesNo.unknown,
        description="whether adjuvant radiotherapy was given after the resection "
        "(S10); 'yes' needs the operation recorded as performed. Once it is more than "
        "6 months past, with no relapse recorded, the decisions that follow it are asked "
        "about rather than shown as due (I30)",
    )

    @property
    def final_margin(self) -> Margin:
        """The margin the resections left: the completing resection's when recorded. A
        completing resection whose margin is not recorded is not known to have removed the
        gross tumour the first one left: R2, the safer reading (the case asks)."""
        if self.completion is None:
            return self.margin
        if self.completion.margin is Margin.unknown:
            return Margin.R2
        return self.completion.margin


class TherapyLine(_Model):
    agent: Agent
    setting: TherapySetting = Field(
        TherapySetting.advanced,
        description="adjuvant: given after the operation that removed the disease (begun "
        "on or after 'surgery.date': an adjuvant line begun before it is refused); "
        "advanced: for recurrent, metastatic or unresectable disease, and the setting of "
        "pre-operative (neoadjuvant) treatment, a line begun before the resection (with "
        "'tumour.features_before_systemic_therapy', I17). A case file that leaves it out "
        "means advanced; a registry file or the web form never assumes it: a line with an "
        "agent and an empty setting is refused. In a localized case resected with no gross "
        "tumour left, a line for advanced disease begun after the resection is refused: "
        "record the recurrence, or the setting 'adjuvant'",
    )
    line: Annotated[int, Field(ge=1, le=20), BeforeValidator(_not_bool)] | None = None
    started_on: Day | None = None
    ended_on: Annotated[Day | None, Field(
        description="the day the line was stopped (not before 'started_on' nor the date "
        "of diagnosis, not after the evaluation date): the line is over. Left out, "
        "whether it is still given is not recorded, never taken as ended")] = None
    best_response: Response = Response.unknown
    progressed: YesNo = YesNo.unknown


class Intolerance(_Model):
    """A drug the patient does not tolerate (an active allergy or intolerance): it and
    every regimen holding it are ruled out (interpretation I15). Whether the intolerance
    is of the drug's class is the team's judgement, recorded on it (``class_wide``), and
    one rule reads it for both classes that have one, the mTOR inhibitors and the
    anthracyclines (:func:`class_ruled_out`): 'yes' rules out the class, 'no' that drug
    alone, and unknown the class meanwhile (the safer reading; the question is asked)
    unless the record shows another drug of the class tolerated
    (:func:`class_tolerated_line`); intolerances naming every drug of the class rule it
    out whatever is recorded on each. Sirolimus and nab-sirolimus are one drug
    (:func:`mtor_ruled_out`)."""

    agent: Agent = Field(description="the drug not tolerated (a regimen: either of its drugs)")
    class_wide: YesNo = Field(
        YesNo.unknown, description="the team's judgement whether the intolerance is of the "
        "drug's class, for an mTOR inhibitor (the mTOR inhibitors) or an anthracycline or "
        "a regimen holding one (the anthracyclines); unknown for any other drug. Unknown: "
        "every drug of the class is ruled out meanwhile, unless the latest line of the "
        "class is of another one, and the question is asked (for an anthracycline, the "
        "other anthracycline's regimen is withheld until the team records 'no'). 'no' "
        "(this drug only): the other drugs of the class are offered. 'yes': the class is "
        "ruled out")

    @property
    def drug_class(self) -> frozenset[Agent]:
        """The class ``class_wide`` speaks of: every mTOR inhibitor for one, the
        anthracyclines (doxorubicin, epirubicin) for an agent holding one; empty for any
        other agent (the field is then refused unless unknown)."""
        return self.agent.drug_class

    @property
    def drugs_ruled_out(self) -> frozenset[Agent]:
        """The single drugs this intolerance rules out by itself, whatever else the record
        holds (I15): its agent's, and, recorded as of the class (``class_wide`` 'yes'),
        every drug of the class. Read beside the rest of the record, one whose judgement
        is not recorded may rule out the class meanwhile (:meth:`Systemic.ruled_out_by`)."""
        if self.class_wide is YesNo.yes:
            return self.agent.drugs | self.drug_class
        return self.agent.drugs


def class_drugs(agents: Iterable[Agent], drug_class: frozenset[Agent]) -> frozenset[Agent]:
    """The drugs of ``drug_class`` these agents hold (a regimen's drug of the class), each
    with the agents that are the same drug (sirolimus and nab-sirolimus,
    :attr:`Agent.same_drug`): what intolerances of them rule out by themselves (I15)."""
    return frozenset(b for a in agents for d in a.drugs & drug_class for b in d.same_drug)


def class_tolerated_line(drug_class: frozenset[Agent], not_tolerated: Iterable[Agent],
                         therapies: Sequence[TherapyLine]) -> int | None:
    """The index in ``therapies`` of the line that shows the patient tolerating a drug of
    ``drug_class`` (the mTOR inhibitors, or the anthracyclines) other than those recorded
    as not tolerated (``not_tolerated``), or ``None`` (I15).

    It is the latest line of the class when its drug is not itself recorded as not
    tolerated: given after the drug that was not (or beside one never recorded as given),
    it shows the class is not what the patient cannot take. Whether that line was
    progressed on does not matter (progression is no intolerance). The safer reading is
    kept, the class ruled out, when the latest line of the class is of a drug not
    tolerated (the other drug was given before it), or when which line is the latest
    cannot be told (neither every start date nor every line number recorded, or two
    lines on the same day or number) while a line of a drug not tolerated is among them.
    Every drug recorded as not tolerated stays ruled out itself.

    Sirolimus and nab-sirolimus are one drug here (:attr:`Agent.same_drug`): a line of
    nab-sirolimus beside a sirolimus intolerance (or the reverse) is a line of the drug
    not tolerated, never of another mTOR inhibitor tolerated."""
    bad = class_drugs(not_tolerated, drug_class)
    lines = [(i, t) for i, t in enumerate(therapies) if t.agent.drugs & drug_class]
    if not bad or not lines:
        return None

    def of_bad(t: TherapyLine) -> bool:
        return (t.agent.drugs & drug_class) <= bad

    ok = [(i, t) for i, t in lines if not of_bad(t)]
    if not ok:
        return None
    latest = _latest_line(lines)
    if len(ok) == len(lines):
        # no line of a drug not tolerated: every line shows another one tolerated
        return (latest if latest is not None else ok[-1])[0]
    if latest is None or of_bad(latest[1]):
        return None
    return latest[0]


def class_each_ruled_out(drug_class: frozenset[Agent],
                         intolerances: Sequence[Intolerance]) -> bool:
    """Whether the drugs recorded as not tolerated are, each with its twin
    (:func:`class_drugs`), every drug of ``drug_class``: the class is then out whatever
    the team's judgement on each (I15), as one recorded as of the class makes it."""
    return class_drugs((x.agent for x in intolerances), drug_class) >= drug_class


def class_ruled_out(drug_class: frozenset[Agent], intolerances: Sequence[Intolerance],
                    therapies: Sequence[TherapyLine]) -> bool:
    """Whether the intolerances recorded rule out every drug of ``drug_class`` (the mTOR
    inhibitors, or the anthracyclines): the one rule of the class for both (I15). One
    recorded as of the class (``class_wide`` 'yes') does, and so do intolerances listing
    every drug of the class one by one, whatever is recorded on each
    (:func:`class_each_ruled_out`); one whose judgement is not recorded does (the safer
    reading, meanwhile) unless the record shows another drug of the class tolerated
    (:func:`class_tolerated_line`); one recorded as of that drug alone ('no') rules out
    that drug (and its twin) only."""
    of = [x for x in intolerances if x.agent.drugs & drug_class]
    if any(x.class_wide is YesNo.yes for x in of) or class_each_ruled_out(drug_class,
                                                                         intolerances):
        return True
    return (any(x.class_wide is YesNo.unknown for x in of)
            and class_tolerated_line(drug_class, (x.agent for x in of), therapies) is None)


def opposed_judgements(intolerances: Sequence[Intolerance]) -> tuple[tuple[int, int], ...]:
    """``(i, j)`` for each pair of intolerances of one drug of a class (sirolimus and
    nab-sirolimus one drug, a regimen counting for the drug of the class it holds:
    :func:`class_drugs`) that the team judges oppositely: ``intolerances[i]`` of the
    class ('yes'), ``intolerances[j]`` of that drug alone ('no'). Such a judgement is not
    known (I15): the safer one, of the class, is read meanwhile and the question asked
    as for one not recorded (:func:`class_undecided`). A judgement beside one not recorded
    is no contradiction."""
    pairs: list[tuple[int, int]] = []
    for i, x in enumerate(intolerances):
        if x.class_wide is not YesNo.yes:
            continue
        drugs = class_drugs([x.agent], x.drug_class)
        pairs += [(i, j) for j, y in enumerate(intolerances)
                  if y.class_wide is YesNo.no and y.drug_class == x.drug_class
                  and class_drugs([y.agent], y.drug_class) & drugs]
    return tuple(pairs)


def class_judged(drug_class: frozenset[Agent], intolerances: Sequence[Intolerance]) -> bool:
    """Whether an intolerance of a drug of ``drug_class`` is recorded as of the class
    ('yes') and no intolerance of the same drug is recorded as of that drug alone
    (:func:`opposed_judgements`): the team's judgement rules the class out."""
    opposed = {i for i, _j in opposed_judgements(intolerances)}
    return any(x.class_wide is YesNo.yes and i not in opposed
               for i, x in enumerate(intolerances) if x.agent.drugs & drug_class)


def class_undecided(drug_class: frozenset[Agent], intolerances: Sequence[Intolerance],
                    therapies: Sequence[TherapyLine]) -> bool:
    """Whether every drug of ``drug_class`` is ruled out only for want of the team's
    judgement (I15): the class is ruled out (:func:`class_ruled_out`), no intolerance of
    it is recorded as of the class without another of the same drug recorded as of that
    drug alone (:func:`class_judged`: judgements that contradict each other are no
    judgement, the safer one read meanwhile) and not every drug of it is itself recorded
    as not tolerated (:func:`class_each_ruled_out`: the answer would change nothing), so
    whether it is of the class is asked."""
    return (class_ruled_out(drug_class, intolerances, therapies)
            and not class_each_ruled_out(drug_class, intolerances)
            and not class_judged(drug_class, intolerances))


def mtor_tolerated_line(not_tolerated: Iterable[Agent],
                        therapies: Sequence[TherapyLine]) -> int | None:
    """The line showing an mTOR inhibitor tolerated beside those recorded as not
    tolerated (:func:`class_tolerated_line` for the mTOR inhibitors)."""
    return class_tolerated_line(MTOR_AGENTS, not_tolerated, therapies)


def other_anthracyclines_not_tolerated(agent: Agent, intolerances: Iterable[Intolerance]
                                       ) -> list[Agent]:
    """The agents recorded as not tolerated that hold another anthracycline than those
    ``agent`` holds (doxorubicin beside epirubicin, or a regimen holding one, whose
    culprit is not told), whether the intolerance is of the class not recorded
    (``class_wide`` unknown): it may rule ``agent`` out too (I15; read beside the lines
    given, :func:`class_ruled_out`). One recorded as of that drug alone ('no') leaves
    ``agent`` an option; one recorded as of the class ('yes') rules it out
    (:attr:`Intolerance.drugs_ruled_out`). Empty when ``agent`` holds no anthracycline."""
    own = agent.drugs & ANTHRACYCLINES
    if not own:
        return []
    return list(dict.fromkeys(x.agent for x in intolerances
                              if x.class_wide is YesNo.unknown
                              and x.agent.drugs & (ANTHRACYCLINES - own)))


def mtor_ruled_out(not_tolerated: Iterable[Agent]) -> frozenset[Agent]:
    """The mTOR inhibitors the ones recorded as not tolerated rule out by themselves
    (I15): each, with the agents that are the same drug (sirolimus and nab-sirolimus,
    :attr:`Agent.same_drug`). Every other one too unless another is shown tolerated
    (:func:`mtor_tolerated_line`)."""
    return class_drugs(not_tolerated, MTOR_AGENTS)


def _latest_line(lines: list[tuple[int, TherapyLine]]) -> tuple[int, TherapyLine] | None:
    """The latest of these lines (:func:`lines_in_order`); ``None`` when that cannot be
    told (a tie included)."""
    groups = lines_in_order([t for _i, t in lines])
    if groups is None or len(groups[-1]) > 1:
        return None
    return next(p for p in lines if p[1] is groups[-1][0])


def lines_in_order(lines: Sequence[TherapyLine]) -> list[list[TherapyLine]] | None:
    """These lines in the order they were given, when the record tells it: by start date
    when every one has it, else by line number when every one has it (a single line is
    in order by itself); lines of one start date are told apart by their line numbers
    when every one of them has one. Lines the record does not tell apart (one start date
    and no numbers telling them apart, or one number) make one group, whose order is not
    told: the first or the latest of them is not known (a combination given together, or
    an order not recorded), and a reader takes none of them by the order they were
    entered in. ``None`` when the order cannot be told at all: a line with neither a
    start date nor a line number beside another line, or start dates on some lines and
    numbers on others. The one rule of the order of lines, for every reader of the first
    or the latest line."""
    if len(lines) < 2:
        return [list(lines)] if lines else []
    if all(t.started_on is not None for t in lines):
        by_date = _grouped(lines, lambda t: t.started_on)
        return [g for same_day in by_date for g in (
            _grouped(same_day, lambda t: t.line)
            if all(t.line is not None for t in same_day) else [same_day])]
    if all(t.line is not None for t in lines):
        return _grouped(lines, lambda t: t.line)
    return None


def _grouped(lines: Sequence[TherapyLine], key: Callable[[TherapyLine], Any]
             ) -> list[list[TherapyLine]]:
    """``lines`` in groups of one ``key``, in its order (never ``None`` here)."""
    groups: dict[Any, list[TherapyLine]] = {}
    for t in sorted(lines, key=key):
        groups.setdefault(key(t), []).append(t)
    return list(groups.values())


def mtor_class_ruled_out(intolerances: Sequence[Intolerance],
                         therapies: Sequence[TherapyLine]) -> bool:
    """Whether the mTOR inhibitors recorded as not tolerated rule out every one
    (:func:`class_ruled_out` for the mTOR inhibitors, I15)."""
    return class_ruled_out(MTOR_AGENTS, intolerances, therapies)


def mtor_each_ruled_out(intolerances: Sequence[Intolerance]) -> bool:
    """Whether every mTOR inhibitor is itself recorded as not tolerated, each with its twin
    (:func:`class_each_ruled_out` for the mTOR inhibitors, I15)."""
    return class_each_ruled_out(MTOR_AGENTS, intolerances)


def mtor_class_undecided(intolerances: Sequence[Intolerance],
                         therapies: Sequence[TherapyLine]) -> bool:
    """Whether every mTOR inhibitor is ruled out only for want of the team's judgement
    (:func:`class_undecided` for the mTOR inhibitors, I15)."""
    return class_undecided(MTOR_AGENTS, intolerances, therapies)


class Systemic(_Model):
    mtor_inhibitor_available: YesNo = YesNo.unknown
    mtor_inhibitor_contraindicated: YesNo = Field(
        YesNo.unknown, description="as the team records it; left unknown, an mTOR "
        "inhibitor listed in 'intolerances' makes it 'yes' unless that intolerance is "
        "recorded as of that drug alone ('class_wide' 'no') or another one is shown "
        "tolerated (I15); every mTOR inhibitor listed, whatever 'class_wide' says on "
        "each, makes it 'yes'; 'no' beside such an intolerance is refused: record the team's "
        "judgement on the intolerance")
    anthracycline_contraindicated: YesNo = Field(
        YesNo.unknown, description="as the team records it: a contraindication to every "
        "anthracycline (doxorubicin, epirubicin), cardiac (a reduced left-ventricular "
        "ejection fraction, the cumulative dose already given) or other; 'yes' rules out "
        "every regimen holding one, as an anthracycline intolerance of the class does "
        "(I15): S14's doxorubicin and S15's epirubicin with ifosfamide are never proposed, "
        "the item saying so naming it; a line of one still given raises "
        "ALERT-LINE-NOT-TOLERATED naming it")
    therapies: tuple[TherapyLine, ...] = ()
    intolerances: tuple[Intolerance, ...] = Field(
        (), description="drugs not tolerated (active allergy or intolerance): every regimen "
        "holding one is ruled out (I15); empty when none is recorded; an mTOR inhibitor "
        "listed rules out every mTOR inhibitor ('class_wide' 'yes'), only that drug "
        "('class_wide' 'no'), or, the judgement not recorded, every one meanwhile unless "
        "the latest mTOR-inhibitor line is of another one, not itself listed (the patient "
        "tolerates it); sirolimus and nab-sirolimus count as one drug; an anthracycline "
        "listed (or a regimen holding one) by the same rule: the other anthracycline is "
        "ruled out too ('class_wide' 'yes'), not ('no'), or, the judgement not recorded, "
        "withheld meanwhile (its regimen not proposed and the question asked) unless the "
        "latest anthracycline line is of the other one, not itself listed; 'other', a drug "
        "the format names no agent for, may be an mTOR inhibitor or an anthracycline: the "
        "advice proposing either is provisional on which drug it is")

    def ruled_out_by(self, i: int) -> frozenset[Agent]:
        """The single drugs the intolerance ``intolerances[i]`` rules out, read beside the
        rest of the record (I15): those it rules out by itself
        (:attr:`Intolerance.drugs_ruled_out`), and, its judgement not recorded, every drug
        of its class when the class is ruled out (:func:`class_ruled_out`: meanwhile,
        unless another drug of the class is shown tolerated)."""
        x = self.intolerances[i]
        if x.class_wide is YesNo.unknown and x.drug_class and class_ruled_out(
                x.drug_class, self.intolerances, self.therapies):
            return x.drugs_ruled_out | x.drug_class
        return x.drugs_ruled_out

    @property
    def anthracycline_class_undecided(self) -> bool:
        """Every anthracycline is ruled out only for want of the team's judgement whether
        an intolerance of one is of the class (:func:`class_undecided`, I15): the other
        anthracycline is withheld meanwhile and the question asked."""
        return class_undecided(ANTHRACYCLINES, self.intolerances, self.therapies)

    @property
    def mtor_not_tolerated(self) -> tuple[int, ...]:
        """The indices in ``intolerances`` of the mTOR inhibitors not tolerated."""
        return tuple(i for i, x in enumerate(self.intolerances) if x.agent.is_mtor_inhibitor)

    @property
    def mtor_tolerated(self) -> int | None:
        """The index in ``therapies`` of the line showing another mTOR inhibitor
        tolerated beside one recorded as not tolerated (:func:`mtor_tolerated_line`)."""
        return mtor_tolerated_line((x.agent for x in self.intolerances), self.therapies)

    @property
    def mtor_class_ruled_out(self) -> bool:
        """The mTOR inhibitors recorded as not tolerated rule out every one
        (:func:`mtor_class_ruled_out`, I15)."""
        return mtor_class_ruled_out(self.intolerances, self.therapies)

    @property
    def mtor_each_ruled_out(self) -> bool:
        """Every mTOR inhibitor is itself recorded as not tolerated (each with its twin,
        :func:`mtor_each_ruled_out`, I15)."""
        return mtor_each_ruled_out(self.intolerances)

    @property
    def mtor_class_undecided(self) -> bool:
        """Every mTOR inhibitor is ruled out for want of the team's judgement whether an
        intolerance is of the class (:func:`mtor_class_undecided`, I15)."""
        return mtor_class_undecided(self.intolerances, self.therapies)

    @property
    def mtor_contraindication_derived(self) -> bool:
        """The contraindication is not recorded and the intolerances give it (I15)."""
        return self.mtor_inhibitor_contraindicated is YesNo.unknown and self.mtor_class_ruled_out

    @property
    def mtor_contraindication(self) -> YesNo:
        """The contraindication the advice follows: as recorded, or 'yes' where it is not
        and the intolerances give it (:attr:`mtor_contraindication_derived`, I15)."""
        if self.mtor_contraindication_derived:
            return YesNo.yes
        return self.mtor_inhibitor_contraindicated


class Molecular(_Model):
    """Molecular findings (supplementary knowledge; the guideline's advice does not use them)."""

    tsc1: VariantStatus = Field(VariantStatus.unknown, description="TSC1 alteration status")
    tsc2: VariantStatus = Field(VariantStatus.unknown, description="TSC2 alteration status")
    tfe3_fusion: FusionStatus = Field(
        FusionStatus.unknown, description="TFE3 gene rearrangement (fusion), by FISH or sequencing"
    )


class FreeOfDisease(_Model):
    """A patient made free of disease by the treatment of a relapse or of unresectable
    locally advanced disease (surveillance restarts from here, I8)."""

    since: Day = Field(description="date from which no disease was detectable")
    by: RemissionBy = Field(
        RemissionBy.unknown, description="what made the patient free of disease"
    )


#: The key of the validation context holding the evaluation date (see parse_case).
ON_DATE = "on_date"


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
        description="end of curative treatment of the primary (adjuvant radiotherapy or "
        "systemic treatment included); when left out, the surgery date, except that with "
        "a line recorded as adjuvant the end is unknown and asked (with adjuvant "
        "radiotherapy recorded as not given and every such line recorded with its end, "
        "no metastasis found by then: the latest of those ends), and with adjuvant "
        "radiotherapy recorded as given, or not recorded either way, the months from the "
        "surgery are only an upper bound of the disease-free interval, its end asked "
        "where it decides lung metastasectomy (S16)",
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
        """End of curative treatment of the primary (I5), the anchor of surveillance.
        Gross tumour left by the resection and cleared without a further one
        (``surgery.gross_residue_cleared``): the patient is free of disease from the day
        it was cleared, not before, whatever earlier end of treatment is recorded beside
        it; that day not recorded, the end of curative treatment recorded, else
        unknown (asked)."""
        cleared = self.surgery.gross_residue_cleared
        if cleared is not None and self.surgery.status is _PERFORMED:
            if cleared.date is None:
                return self.primary_treatment_end
            return max(cleared.date, self.primary_treatment_end or cleared.date)
        if self.primary_treatment_end is not None:
            return self.primary_treatment_end
        if self.surgery.status is _PERFORMED:
            if self.surgery.completion is not None:
                # counted from the resection that completed the R2 one (unknown if undated)
                operated = self.surgery.completion.date
            else:
                operated = self.surgery.date
            adjuvant = self.adjuvant_lines_end
            if operated is not None and adjuvant is not None:
                return max(operated, adjuvant)
            return operated
        return None

    @property
    def adjuvant_lines_end(self) -> dt.date | None:
        """The end of curative treatment of the primary that the adjuvant lines give when
        it is not recorded itself (I5, I22): the primary resected, adjuvant radiotherapy
        recorded as not given, and every line recorded as adjuvant to the primary (begun
        before any metastasis was found, or with no start) recorded with its end: the
        latest of those ends, when no metastasis was found by then. ``None`` otherwise (a
        line without its end, or radiotherapy given or not recorded, leaves the end
        unknown, asked)."""
        if (self.primary_treatment_end is not None or self.surgery.status is not _PERFORMED
                or self.surgery.adjuvant_radiotherapy is not YesNo.no):
            return None
        ends = [t.ended_on for t in self._primary_adjuvant_lines()]
        if not ends or any(end is None for end in ends):
            return None
        last = max(end for end in ends if end is not None)
        # a metastasis found by then: the treatment of the primary ended before the
        # line did, on a day not recorded (asked, as before)
        if any((day := m.detected_on or m.detected_on_or_before) is not None and day <= last
               for m in self.stage.metastases):
            return None
        return last

    def _primary_adjuvant_lines(self) -> list[TherapyLine]:
        """The lines recorded as adjuvant to the primary's resection: a line begun once a
        metastasis had been found is adjuvant to its treatment (after a metastasectomy),
        not part of the primary's (one known only by the day it was recorded was found by
        then: a line begun on or after that day began after it was found)."""
        found = [day for m in self.stage.metastases
                 if (day := m.detected_on or m.detected_on_or_before)]
        first = min(found) if found else None
        return [t for t in self.systemic.therapies
                if t.setting is TherapySetting.adjuvant
                and (first is None or t.started_on is None or t.started_on < first)]

    @property
    def treatment_end_not_before(self) -> dt.date | None:
        """When adjuvant treatment followed the surgery (a line recorded as adjuvant) and
        the end of curative treatment of the primary is not recorded: the earliest day
        that end can be (the latest start of such a line, else the surgery's day). The
        surgery date is then not the end: the disease-free interval and whether a
        metastasis was synchronous are not counted from it (I5, I7). A line begun on or
        after the day the first metastasis was found is not counted. ``None`` otherwise."""
        end = self.treatment_end
        if (self.primary_treatment_end is not None or end is None
                or self.adjuvant_lines_end is not None):
            return None
        starts = [t.started_on for t in self._primary_adjuvant_lines()]
        if not starts:
            return None
        return max([end, *(day for day in starts if day is not None)])

    @property
    def surveillance_end_not_before(self) -> dt.date | None:
        """The one rule for a surveillance plan counted from the operation (the resected
        localized primary, or the operation after which the metastases may all have been
        removed, I21) while a course recorded as adjuvant followed it and the end of
        curative treatment is not recorded: the earliest day that end can be (I22). The
        lines of :attr:`treatment_end_not_before`, and a line begun on or after the day of
        the operation even when a metastasis had been found before it: the postoperative
        treatment of that operation (S11), whose end the visits count from. ``None``
        otherwise. The disease-free interval and the timing of the metastases keep
        :attr:`treatment_end_not_before`."""
        not_before = self.treatment_end_not_before
        end = self.treatment_end
        if self.primary_treatment_end is not None or end is None:
            return not_before
        after = [t.started_on for t in self.systemic.therapies
                 if t.setting is TherapySetting.adjuvant
                 and t.started_on is not None and t.started_on >= end]
        if not after:
            return not_before
        return max([end, *after, *([not_before] if not_before is not None else [])])

    @property
    def latest_date(self) -> dt.date | None:
        """The latest date among the case's facts."""
        dates = [
            self.diagnosis.date,
            self.surgery.date if self.surgery.status is _PERFORMED else None,
            self.surgery.date_on_or_before,
            self.surgery.completion.date if self.surgery.completion is not None else None,
            (self.surgery.gross_residue_cleared.date
             if self.surgery.gross_residue_cleared is not None else None),
            self.primary_treatment_end,
            *(m.detected_on for m in self.stage.metastases),
            *(m.detected_on_or_before for m in self.stage.metastases),
            *(t.started_on for t in self.systemic.therapies),
            *(t.ended_on for t in self.systemic.therapies),
            self.free_of_disease.since if self.free_of_disease is not None else None,
        ]
        known = [d for d in dates if d is not None]
        return max(known) if known else None

    @model_validator(mode="after")
    def _coherent(self, info: ValidationInfo) -> Case:
        issues = list(contradictions(self))
        # With the evaluation date given (parse_case's on_date), the facts dated after it
        # are reported with the contradictions, in the same pass.
        on_date = info.context.get(ON_DATE) if isinstance(info.context, dict) else None
        if isinstance(on_date, dt.date):
            issues += after_evaluation_date(self, on_date)
        if issues:
            raise Contradictions(issues)
        return self
