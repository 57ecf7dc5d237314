"""Which surveillance rules apply (S18-S23, S26, I1, I3, I8).

The dated plan of visits is built from these rules by :mod:`pecoma.engine.schedule`.
"""

from __future__ import annotations

from pecoma.case import Case, DiseaseStatus, SurgeryStatus
from pecoma.engine.collect import Collector
from pecoma.engine.model import Fact, Risk

__all__ = ["surveillance"]

HIGH_RISK_RULES = (
    "FU-HIGH-INTENSIVE",
    "FU-HIGH-SIX-MONTHLY",
    "FU-HIGH-YEARLY",
    "FU-CHEST-CT",
    "FU-MRI-PRIMARY",
)
LOW_RISK_RULES = ("FU-LOW-LESS-INTENSIVE", "SUPP-FU-LOW-SCHEDULE")


def surveillance(case: Case, risk: Risk, out: Collector) -> None:
    group = (Fact("risk.group", risk.group),)
    relapsed = case.stage.status in (DiseaseStatus.recurrent, DiseaseStatus.metastatic)
    if relapsed:
        out.add("FU-AFTER-RELAPSE", [Fact("stage.status", case.stage.status)])
    conditional = risk.item.conditional_on if risk.group == "indeterminate" else ()
    if risk.group == "indeterminate" and not relapsed:
        out.add("FU-INDETERMINATE", group, conditional)
    out.add_all(HIGH_RISK_RULES if risk.surveillance_group == "high" else LOW_RISK_RULES, group)
    if (
        case.stage.status is DiseaseStatus.localized
        and case.surgery.status is SurgeryStatus.performed
        and case.treatment_end is None
    ):
        out.missing("MISS-TREATMENT-END", affects=tuple(i.id for i in out.followup))
