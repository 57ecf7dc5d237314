"""Alerts: diagnostic pitfalls (S24, S25), behaviour (S26, S27) and supplementary alerts.

Each rule is a plain function of the case (and what was derived from it), writing into
the assessment's collector.
"""

from __future__ import annotations

from collections.abc import Iterable

from pecoma.case import (
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    FusionStatus,
    IHCResult,
    Margin,
    MetastasisSite,
    PriorDiagnosis,
    SurgeryStatus,
    VariantStatus,
    YesNo,
)
from pecoma.engine.collect import Collector
from pecoma.engine.facts import (
    Derived,
    bed_after_clearance,
    gross_tumour_left,
    gross_tumour_question,
    margin_facts,
)
from pecoma.engine.model import Fact, Risk
from pecoma.engine.risk import Malignancy

__all__ = [
    "IHC_GROUPS",
    "diagnosis_method",
    "history_and_behaviour",
    "ihc_panel",
    "ihc_panel_complete",
    "molecular",
    "require_tissue",
    "status_from_facts",
]

# The panel S24 calls essential: HMB-45, a melanocytic marker, a smooth-muscle marker.
IHC_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HMB-45", ("hmb45",)),
    ("melanocytic marker", ("melan_a", "mitf")),
    ("smooth-muscle marker", ("sma", "desmin", "h_caldesmon")),
)
_DONE = frozenset({IHCResult.positive, IHCResult.negative})


def _incomplete_groups(case: Case) -> list[tuple[str, tuple[str, ...]]]:
    ihc = case.immunohistochemistry
    done = _DONE
    hmb45 = ihc.hmb45 in done
    melanocytic = ihc.melan_a in done or ihc.mitf in done
    smooth_muscle = ihc.sma in done or ihc.desmin in done or ihc.h_caldesmon in done
    if hmb45 and melanocytic and smooth_muscle:
        return []
    return [
        group
        for group, ok in zip(IHC_GROUPS, (hmb45, melanocytic, smooth_muscle), strict=True)
        if not ok
    ]


def _no_melanocytic_result(case: Case) -> bool:
    """No melanocytic marker (HMB-45, Melan-A, MITF), the mark of PEComa, has a result:
    recorded as not done, or not recorded at all (unknown is not a result), the
    melanocytic differentiation is not shown."""
    ihc = case.immunohistochemistry
    return not (ihc.hmb45 in _DONE or ihc.melan_a in _DONE or ihc.mitf in _DONE)


def _any_marker_result(case: Case) -> bool:
    """Whether any immunohistochemistry marker has a result: a result can only come from
    tissue, so the diagnosis was not made on imaging alone, whatever the method says."""
    ihc = case.immunohistochemistry
    return any(getattr(ihc, name) in _DONE for name in type(ihc).model_fields)


def _melanocytic_negative(case: Case) -> bool:
    """A melanocytic marker (HMB-45, Melan-A, MITF) was tested and none is positive: the
    melanocytic differentiation that marks PEComa (WHO 2020) is not shown, whatever the
    smooth-muscle markers say (a leiomyosarcoma's profile)."""
    markers = [getattr(case.immunohistochemistry, m) for m in ("hmb45", "melan_a", "mitf")]
    return IHCResult.negative in markers and IHCResult.positive not in markers


def ihc_panel_complete(case: Case) -> bool:
    """Whether HMB-45, a melanocytic and a smooth-muscle marker all have a result."""
    return not _incomplete_groups(case)


def require_tissue(case: Case, out: Collector) -> None:
    """A diagnosis not confirmed on tissue with the immunohistochemistry panel makes
    every treatment recommendation conditional on the confirmation (S24, S25, I11): a
    diagnosis on imaging alone, a diagnosis method not recorded and no marker result at
    all (it may have been; a result shows tissue, and the panel is then judged as for a
    tissue diagnosis), histology without immunohistochemistry and no complete panel
    recorded (PEComa is mistaken for leiomyosarcoma and other sarcomas), no result for
    any melanocytic marker whatever the method says (unknown is not a result), or no
    melanocytic marker positive among those tested (the panel does not show PEComa).
    Call before the treatment rules run."""
    method = case.diagnosis.method
    incomplete = _incomplete_groups(case)
    if method is DiagnosisMethod.imaging_only:
        out.treatment_conditions = (out.missing("MISS-TISSUE-DIAGNOSIS"),)
    elif _melanocytic_negative(case):
        # the panel was done, complete or not, and shows no melanocytic differentiation
        out.treatment_conditions = (out.missing("MISS-MELANOCYTIC-EVIDENCE"),)
    elif not incomplete:
        return  # the panel's results are recorded: the diagnosis was made on tissue
    elif method is DiagnosisMethod.unknown and not _any_marker_result(case):
        # no marker result at all: the diagnosis may have been made on imaging alone
        out.treatment_conditions = (out.missing("MISS-DIAGNOSIS-METHOD"),)
    elif method is DiagnosisMethod.histology_without_ihc or _no_melanocytic_result(case):
        # without immunohistochemistry, or no melanocytic marker result recorded whatever
        # the method says (not done, or not recorded: 'with immunohistochemistry' and
        # every marker unknown confirms nothing; smooth-muscle markers alone are a
        # leiomyosarcoma's profile)
        out.treatment_conditions = (out.missing("MISS-IHC-CONFIRMATION"),)


def suspected_spread(case: Case, d: Derived, out: Collector) -> None:
    """A metastasis recorded as suspected, not confirmed, beside a disease not read as
    metastatic: whether the disease has spread is unknown (S02, S12, S16 against S01,
    S03), so every treatment recommendation and the surveillance schedule are provisional
    on whether it is confirmed, asked naming its sites. Call before the treatment rules
    run, after the classifications (the morphology code does not rest on it)."""
    suspected = case.stage.suspected_metastases
    if not suspected or d.status is DiseaseStatus.metastatic:
        return
    asked = suspected_asked(out, [m.site for m in suspected])
    out.treatment_conditions = (*out.treatment_conditions, asked)


def suspected_sites(sites: Iterable[MetastasisSite]) -> str:
    """The sites of suspected metastases in words, each once: "liver, bone"."""
    return ", ".join(dict.fromkeys(s.value.replace("_", " ") for s in sites))


def suspected_asked(out: Collector, sites: Iterable[MetastasisSite],
                    affects: Iterable[str] = ()) -> str:
    """The question whether the suspected metastases at ``sites`` are confirmed
    (MISS-SUSPECTED-METASTASIS), naming them, as a condition of ``affects``: beside a
    disease not read as metastatic, of every treatment recommendation
    (:func:`suspected_spread`); outside the lungs beside lung metastases, of S16's
    metastasectomy (:func:`pecoma.engine.pathway.metastasectomy`)."""
    return out.missing("MISS-SUSPECTED-METASTASIS", affects=affects,
                       about=(f"the suspected metastasis ({suspected_sites(sites)})",))


def status_from_facts(case: Case, d: Derived, out: Collector) -> None:
    """Say so when the advice follows a disease status derived from the facts (I6)."""
    if d.status_because:
        out.add(
            "ALERT-STATUS-FROM-FACTS",
            [Fact("stage.status", case.stage.status), *d.status_because, d.status_fact()],
        )


def diagnosis_method(case: Case, out: Collector) -> None:
    """The diagnosis on imaging alone (S24); a method not recorded is asked where it
    decides something: where the recorded marker results do not already show the
    diagnosis was made on tissue (a result can only come from tissue), it keeps every
    treatment recommendation conditional (:func:`require_tissue`). Call after it."""
    method = case.diagnosis.method
    if method is DiagnosisMethod.imaging_only:
        out.add("ALERT-IMAGING-ONLY", [Fact("diagnosis.method", method)])
    elif method is DiagnosisMethod.unknown and \
            "MISS-DIAGNOSIS-METHOD" in out.treatment_conditions:
        out.missing("MISS-DIAGNOSIS-METHOD", affects=("ALERT-IMAGING-ONLY",))


def _smooth_muscle_negative(case: Case) -> list[Fact]:
    """A melanocytic marker positive and every smooth-muscle marker tested negative (at
    least one tested): the facts, or nothing. Most PEComas co-express the two groups; a
    melanocytic profile alone is also melanoma's."""
    ihc = case.immunohistochemistry
    melanocytic = [m for m in ("hmb45", "melan_a", "mitf")
                   if getattr(ihc, m) is IHCResult.positive]
    muscle = [(m, getattr(ihc, m)) for m in ("sma", "desmin", "h_caldesmon")]
    tested = [(m, r) for m, r in muscle if r in _DONE]
    if not melanocytic or not tested or any(r is IHCResult.positive for _m, r in tested):
        return []
    return [*(Fact(f"immunohistochemistry.{m}", IHCResult.positive) for m in melanocytic),
            *(Fact(f"immunohistochemistry.{m}", r) for m, r in tested)]


def ihc_panel(case: Case, out: Collector) -> None:
    """The panel S24 calls essential: a melanocytic marker tested and none positive
    (:func:`_melanocytic_negative`), which puts the PEComa diagnosis in doubt (S24, S25,
    I11: a warning at least as prominent as a panel not done, whichever markers were
    tested, one negative and the others not done alike); each marker group without a
    result; and a melanocytic profile with every smooth-muscle marker tested negative,
    which is also melanoma's (supplementary), unless an earlier melanoma already raises
    it."""
    if _melanocytic_negative(case):
        ihc = case.immunohistochemistry
        out.add("ALERT-MELANOCYTIC-NEGATIVE", [
            Fact(f"immunohistochemistry.{m}", getattr(ihc, m))
            for m in ("hmb45", "melan_a", "mitf")])
    profile = _smooth_muscle_negative(case)
    if profile and case.diagnosis.prior_diagnosis is not PriorDiagnosis.melanoma:
        out.add("SUPP-SMOOTH-MUSCLE-NEGATIVE", profile)
    missing_groups = _incomplete_groups(case)
    if missing_groups:
        ihc = case.immunohistochemistry
        facts = [
            Fact(f"immunohistochemistry.{m}", getattr(ihc, m))
            for _name, markers in missing_groups
            for m in markers
        ]
        out.add("ALERT-IHC-INCOMPLETE", facts)


def history_and_behaviour(
    case: Case,
    d: Derived,
    scope: Malignancy,
    risk: Risk,
    out: Collector,
) -> None:
    """A prior diagnosis of another tumour (S24, S25; melanoma's shared markers,
    supplementary), an incomplete resection (S27, with the level the evidence gives it,
    I9: critical for malignancy shown or left open, a warning for the guideline's
    high-risk features, and saying whether tumour was left, R2, or may have been; for a
    patient free of disease since, that it may have been left at the primary's bed, I27),
    TFE3 (supplementary) and long-term follow-up for all (S26)."""
    prior = case.diagnosis.prior_diagnosis
    status = case.stage.status
    surgery = case.surgery
    # the primary's resection left tumour, or may have: whatever the disease status, what
    # the margin records (R1, R2, uncertain; a completing resection whose margin is not
    # recorded after an R2 one: R2, the gross tumour the first left not known removed),
    # and with the margin not recorded, tumour that may have been left, at the level the
    # evidence gives, provisional on the margin question: unknown is neither "none left"
    # nor "gross tumour left" stated as a fact (I5, I9, I18); for recurrent, metastatic or
    # locally advanced disease recorded free of disease since, what it may have left at
    # the primary's bed (bed_after_clearance, I27)
    localized = status is DiseaseStatus.localized
    resected_margin = (
        surgery.final_margin
        if surgery.status is SurgeryStatus.performed and (localized or d.free_since is None)
        else None
    )
    gross_open = gross_tumour_left(case) is YesNo.unknown
    tfe3_positive = case.immunohistochemistry.tfe3 is IHCResult.positive
    if prior is PriorDiagnosis.unknown:
        out.missing("MISS-PRIOR-DIAGNOSIS", affects=("ALERT-PRIOR-DIAGNOSIS",))
    elif prior is not PriorDiagnosis.none:
        # "do not delay mTOR-targeted treatment" holds once the PEComa is confirmed (I11)
        out.add("ALERT-PRIOR-DIAGNOSIS", [Fact("diagnosis.prior_diagnosis", prior)],
                list(out.treatment_conditions))
        if prior is PriorDiagnosis.melanoma:
            # the pitfall there is the shared melanocytic markers (supplementary)
            out.add("SUPP-MELANOMA-MARKERS", [Fact("diagnosis.prior_diagnosis", prior)])
    # free of disease since: on imaging, which cannot show microscopic tumour gone from
    # the primary's bed; the margin stays a fact, worded as tumour that may have been
    # left (I27)
    bed = bed_after_clearance(case, d)
    facts: list[Fact] = []
    conditional: list[str] = []
    left = False
    applied: tuple[str, ...] = ()
    if bed is not None:
        facts = list(bed.facts)
        conditional = [out.missing(bed.asked)] if bed.asked is not None else []
        applied = ("I27",)
    elif resected_margin is not None and resected_margin is not Margin.R0:
        facts = margin_facts(case)
        # a completing resection whose margin is not recorded may have removed the gross
        # tumour the first left, or not: the safer reading (tumour left, R2 worded: the
        # first did leave it) is shown provisional on the margin; a primary's margin not
        # recorded may have left tumour, worded so (never "left gross tumour" as a fact),
        # provisional on the margin too
        conditional = ([out.missing(gross_tumour_question(case, d))]
                       if gross_open and (surgery.completion is not None or not localized)
                       else [] if resected_margin is not Margin.unknown
                       else [out.missing("MISS-MARGIN")])
        # R2 leaves gross tumour: said as left, not as possibly left
        left = resected_margin is Margin.R2
    if facts:
        # I9: malignant on the facts, or may still be on missing facts, a category's
        # criteria or the regional nodes not recorded (the safer branch, the critical
        # alert, provisional on them); nodes recorded as not assessed are no evidence
        # (I10): the warning the other facts give, provisional on them
        evidence, open_on = scope.evidence, scope.open_on
        # A guideline high-risk feature (S06-S09) present, or unknown, with the category at
        # most uncertain malignant potential: aggressive behaviour is predicted, malignancy
        # is not shown (I9), so the warning worded for it.
        high_risk = [Fact(f.field, f.value) for f in risk.features if f.state == "present"]
        high_risk_open = risk.item.conditional_on if risk.group == "indeterminate" else ()
        critical, feature_warning, warning = (
            ("ALERT-GROSS-RESIDUAL", "ALERT-GROSS-RESIDUAL-HIGH-RISK",
             "ALERT-GROSS-RESIDUAL-UNCERTAIN-BEHAVIOUR")
            if left else
            ("ALERT-INCOMPLETE-RESECTION", "ALERT-RESIDUAL-HIGH-RISK",
             "ALERT-RESIDUAL-UNCERTAIN-BEHAVIOUR"))
        if evidence:
            out.add(critical, [*facts, *evidence, *high_risk], conditional, applied)
        elif open_on:
            nodes = ([Fact("stage.lymph_nodes", case.stage.lymph_nodes)]
                     if "MISS-NODES" in open_on else [])
            out.add(critical, [*facts, *high_risk, *nodes],
                    [*conditional, *(out.missing(m, affects=(critical,)) for m in open_on)],
                    applied)
        else:
            shown = feature_warning if high_risk or high_risk_open else warning
            # nodes not assessed: asked, since positive nodes would make it critical
            nodes = ([Fact("stage.lymph_nodes", case.stage.lymph_nodes)]
                     if scope.asked else [])
            out.add(shown, [*facts, *high_risk, *nodes],
                    [*conditional, *(() if high_risk else dict.fromkeys(high_risk_open)),
                     *(out.missing(m, affects=(shown,)) for m in scope.asked)], applied)
    fusion = case.molecular.tfe3_fusion
    if tfe3_positive and not (fusion is FusionStatus.absent or (
            fusion is FusionStatus.present and d.advanced is not False)):
        # the molecular confirmation it asks for: once done, its result speaks instead
        # (SUPP-TFE3-FUSION where systemic treatment is at stake; a stain not borne out
        # when absent)
        out.add("SUPP-TFE3", [Fact("immunohistochemistry.tfe3", "positive")])
    out.add("ALERT-LONG-TERM-FOLLOW-UP", [d.status_fact()])


_NO_RESULT = frozenset({VariantStatus.unknown, VariantStatus.not_done})
_NO_FUSION_RESULT = frozenset({FusionStatus.unknown, FusionStatus.not_done})


def molecular(case: Case, d: Derived, mtor_decided: bool, out: Collector) -> None:
    """What published experience says about TSC1/TSC2 and TFE3 findings, shown where
    systemic treatment is at stake (supplementary; the guideline's advice is unchanged).
    ``mtor_decided``: an mTOR inhibitor is being recommended as first line, so a test
    result would add to what is shown; without one the test is asked for."""
    if d.advanced is False:
        return
    m = case.molecular
    shown = False
    altered = [
        Fact(f"molecular.{gene}", "pathogenic")
        for gene, status in (("tsc1", m.tsc1), ("tsc2", m.tsc2))
        if status is VariantStatus.pathogenic
    ]
    if altered:
        out.add("SUPP-TSC-ALTERED", altered)
        shown = True
    if m.tfe3_fusion is FusionStatus.present:
        out.add("SUPP-TFE3-FUSION", [Fact("molecular.tfe3_fusion", "present")])
        shown = True
    untested = (
        m.tsc1 in _NO_RESULT or m.tsc2 in _NO_RESULT or m.tfe3_fusion in _NO_FUSION_RESULT
    )
    if mtor_decided and not shown and untested:
        out.missing("MISS-MOLECULAR", affects=("SUPP-TSC-ALTERED", "SUPP-TFE3-FUSION"))
