"""Alerts: diagnostic pitfalls (S24, S25), behaviour (S26, S27) and supplementary alerts.

Each rule is a plain function of the case (and what was derived from it), writing into
the assessment's collector.
"""

from __future__ import annotations

from pecoma.case import (
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    IHCResult,
    Margin,
    PriorDiagnosis,
    SurgeryStatus,
)
from pecoma.engine.collect import Collector
from pecoma.engine.model import Fact

__all__ = [
    "IHC_GROUPS",
    "diagnosis_method",
    "history_and_behaviour",
    "ihc_panel",
    "ihc_panel_complete",
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


def ihc_panel_complete(case: Case) -> bool:
    """Whether HMB-45, a melanocytic and a smooth-muscle marker all have a result."""
    return not _incomplete_groups(case)


def diagnosis_method(case: Case, out: Collector) -> None:
    method = case.diagnosis.method
    if method is DiagnosisMethod.imaging_only:
        out.add("ALERT-IMAGING-ONLY", [Fact("diagnosis.method", method)])
    elif method is DiagnosisMethod.unknown:
        out.missing("MISS-DIAGNOSIS-METHOD", affects=("ALERT-IMAGING-ONLY",))


def ihc_panel(case: Case, out: Collector) -> None:
    """The panel S24 calls essential: each marker group without a result."""
    missing_groups = _incomplete_groups(case)
    if missing_groups:
        ihc = case.immunohistochemistry
        facts = [
            Fact(f"immunohistochemistry.{m}", getattr(ihc, m))
            for _name, markers in missing_groups
            for m in markers
        ]
        out.add("ALERT-IHC-INCOMPLETE", facts)


def history_and_behaviour(case: Case, out: Collector) -> None:
    """A prior diagnosis of another tumour (S25), an incomplete resection (S27), TFE3
    (supplementary) and long-term follow-up for all (S26)."""
    prior = case.diagnosis.prior_diagnosis
    status = case.stage.status
    surgery = case.surgery
    resected_margin = (
        surgery.margin
        if status is DiseaseStatus.localized and surgery.status is SurgeryStatus.performed
        else None
    )
    tfe3_positive = case.immunohistochemistry.tfe3 is IHCResult.positive
    if prior is PriorDiagnosis.unknown:
        out.missing("MISS-PRIOR-DIAGNOSIS", affects=("ALERT-PRIOR-DIAGNOSIS",))
    elif prior is not PriorDiagnosis.none:
        out.add("ALERT-PRIOR-DIAGNOSIS", [Fact("diagnosis.prior_diagnosis", prior)])
    if resected_margin is not None:
        margin = Fact("surgery.margin", resected_margin)
        if resected_margin in (Margin.R1, Margin.R2, Margin.uncertain):
            out.add("ALERT-INCOMPLETE-RESECTION", [margin])
        elif resected_margin is Margin.unknown:
            out.add("ALERT-INCOMPLETE-RESECTION", [margin], [out.missing("MISS-MARGIN")])
    if tfe3_positive:
        out.add("SUPP-TFE3", [Fact("immunohistochemistry.tfe3", "positive")])
    out.add("ALERT-LONG-TERM-FOLLOW-UP", [Fact("stage.status", status)])
