"""Alerts: diagnostic pitfalls (S24, S25), behaviour (S26, S27) and supplementary alerts."""

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
from pecoma.engine.collect import Collector, Effects
from pecoma.engine.memo import rule_group
from pecoma.engine.model import Fact
from pecoma.knowledge import Knowledge

__all__ = ["IHC_GROUPS", "alerts", "ihc_panel_complete"]

# The panel S24 calls essential: HMB-45, a melanocytic marker, a smooth-muscle marker.
IHC_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("HMB-45", ("hmb45",)),
    ("melanocytic marker", ("melan_a", "mitf")),
    ("smooth-muscle marker", ("sma", "desmin", "h_caldesmon")),
)
_DONE = frozenset({IHCResult.positive, IHCResult.negative})
_LOCALIZED = DiseaseStatus.localized  # module constants: cheaper than the class attribute
_PERFORMED = SurgeryStatus.performed
_POSITIVE = IHCResult.positive


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


def alerts(case: Case, out: Collector) -> None:
    k = out.knowledge
    diagnosis, ihc, surg, status = case.diagnosis, case.immunohistochemistry, case.surgery, (
        case.stage.status
    )
    out.apply(_method_alert(k, diagnosis.method))
    out.apply(_ihc_alert(k, ihc.hmb45, ihc.melan_a, ihc.mitf, ihc.sma, ihc.desmin,
                         ihc.h_caldesmon))
    out.apply(
        _other_alerts(
            k,
            diagnosis.prior_diagnosis,
            status,
            surg.margin
            if status is _LOCALIZED and surg.status is _PERFORMED
            else None,
            ihc.tfe3 is _POSITIVE,
        )
    )


@rule_group(maxsize=64)
def _method_alert(knowledge: Knowledge, method: DiagnosisMethod) -> Effects:
    out = Collector(knowledge)
    if method is DiagnosisMethod.imaging_only:
        out.add("ALERT-IMAGING-ONLY", [Fact("diagnosis.method", method)])
    elif method is DiagnosisMethod.unknown:
        out.missing("MISS-DIAGNOSIS-METHOD", affects=("ALERT-IMAGING-ONLY",))
    return out.effects()


@rule_group(maxsize=8192)
def _ihc_alert(
    knowledge: Knowledge,
    hmb45: IHCResult,
    melan_a: IHCResult,
    mitf: IHCResult,
    sma: IHCResult,
    desmin: IHCResult,
    h_caldesmon: IHCResult,
) -> Effects:
    out = Collector(knowledge)
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
    return out.effects()


@rule_group(maxsize=2048)
def _other_alerts(
    knowledge: Knowledge,
    prior: PriorDiagnosis,
    status: DiseaseStatus,
    resected_margin: Margin | None,
    tfe3_positive: bool,
) -> Effects:
    """``resected_margin`` is the margin of a performed resection of localized disease,
    ``None`` otherwise."""
    out = Collector(knowledge)
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
    return out.effects()
