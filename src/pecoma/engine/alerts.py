"""Alerts: diagnostic pitfalls (S24, S25), behaviour (S26, S27) and supplementary alerts.

Each rule takes the collector and the facts it reads, as values; see
:mod:`pecoma.engine.groups`.
"""

from __future__ import annotations

from pecoma.case import (
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    IHCResult,
    Margin,
    PriorDiagnosis,
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


def diagnosis_method(out: Collector, method: DiagnosisMethod) -> None:
    if method is DiagnosisMethod.imaging_only:
        out.add("ALERT-IMAGING-ONLY", [Fact("diagnosis.method", method)])
    elif method is DiagnosisMethod.unknown:
        out.missing("MISS-DIAGNOSIS-METHOD", affects=("ALERT-IMAGING-ONLY",))


def ihc_panel(
    out: Collector,
    hmb45: IHCResult,
    melan_a: IHCResult,
    mitf: IHCResult,
    sma: IHCResult,
    desmin: IHCResult,
    h_caldesmon: IHCResult,
) -> None:
    values = {"hmb45": hmb45, "melan_a": melan_a, "mitf": mitf, "sma": sma, "desmin": desmin,
              "h_caldesmon": h_caldesmon}
    missing_groups = [
        group for group in IHC_GROUPS if not any(values[m] in _DONE for m in group[1])
    ]
    if missing_groups:
        facts = [
            Fact(f"immunohistochemistry.{m}", values[m])
            for _name, markers in missing_groups
            for m in markers
        ]
        out.add("ALERT-IHC-INCOMPLETE", facts)


def history_and_behaviour(
    out: Collector,
    prior: PriorDiagnosis,
    status: DiseaseStatus,
    resected_margin: Margin | None,
    tfe3_positive: bool,
) -> None:
    """A prior diagnosis of another tumour (S25), an incomplete resection, TFE3 (supplementary)
    and long-term follow-up for all (S26, S27). ``resected_margin`` is the margin of a
    performed resection of localized disease, ``None`` otherwise."""
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
