"""The registry summary: who is in it, who is overdue, and how care follows the guideline.

Figures (all as of one evaluation date, from every patient's latest case):

- patients by guideline risk group (S05-S09, I1) and by disease status;
- worklist statuses and the overdue rate: overdue patients among those with an active
  plan (statuses overdue, due, upcoming, done);
- first-line mTOR inhibitor in advanced disease (S02, S12, S13): among advanced cases
  (I6) whose first-line systemic therapy is recorded, the share that received an mTOR
  inhibitor; advanced cases without a recorded first line are counted apart, as unknown;
- complete immunohistochemistry panel (S24): the share of cases with HMB-45, a melanocytic
  and a smooth-muscle marker all resulted (:func:`pecoma.engine.alerts.ihc_panel_complete`);
- the EHR's answer to the CDS order-select warning "mTOR inhibitor before chemotherapy"
  (S13, S14), from the clinicians' feedback (``cds_feedback``): suggestions accepted among
  the outcomes reported, and the override reasons given (all dates: feedback carries no
  patient identifier, so it is not tied to the patients above).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pecoma.engine.alerts import ihc_panel_complete
from pecoma.engine.facts import derive
from pecoma.registry.suppression import Cells, suppress
from pecoma.registry.worklist import Evaluated, WorkItem, WorkStatus
from pecoma.settings import Settings
from pecoma.store.cds import FeedbackRecord

__all__ = ["Ratio", "Summary", "summarise", "summary_svg"]

_ACTIVE = (WorkStatus.overdue, WorkStatus.due, WorkStatus.upcoming, WorkStatus.done)


@dataclass(frozen=True, slots=True)
class Ratio:
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return None if self.denominator == 0 else self.numerator / self.denominator

    def __str__(self) -> str:
        v = self.value
        share = "n/a" if v is None else f"{v:.1%}"
        return f"{self.numerator}/{self.denominator} ({share})"

    def to_dict(self) -> dict[str, Any]:
        v = self.value
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "share": None if v is None else round(v, 4),
        }


@dataclass(slots=True)
class Summary:
    on_date: dt.date
    patients: int
    by_risk: dict[str, int] = field(default_factory=dict)
    by_disease_status: dict[str, int] = field(default_factory=dict)
    by_worklist_status: dict[str, int] = field(default_factory=dict)
    overdue: Ratio = Ratio(0, 0)
    advanced: int = 0
    advanced_unknown: int = 0
    first_line_mtor: Ratio = Ratio(0, 0)
    first_line_unrecorded: int = 0
    ihc_complete: Ratio = Ratio(0, 0)
    cds_mtor_accepted: Ratio = Ratio(0, 0)
    cds_override_reasons: dict[str, int] = field(default_factory=dict)

    def cells(self, min_cell: int) -> Cells:
        """The patient counts, suppressed for a shared report (``risk:<group>``,
        ``status:<disease status>``, ``worklist:<status>``; ``not_evaluable`` is the one
        count of the patients without an evaluable case, a part of every breakdown).

        The sums: patients = the risk groups = the disease statuses = the worklist
        statuses; patients = evaluable + not evaluable; evaluable = the risk groups (and
        the disease statuses) of the evaluable patients, the denominator of the
        complete-panel share; the active plans = overdue + due + upcoming + done, the
        denominator of the overdue rate."""
        ne = "not evaluable"
        risk = {f"risk:{k}": v for k, v in self.by_risk.items() if k != ne}
        status = {f"status:{k}": v for k, v in self.by_disease_status.items() if k != ne}
        work = {f"worklist:{k.value}": self.by_worklist_status.get(k.value, 0)
                for k in WorkStatus if k in _ACTIVE or k.value in self.by_worklist_status}
        not_evaluable = self.by_risk.get(ne, 0)
        counts = {
            "patients": self.patients, "evaluable": self.patients - not_evaluable,
            "not_evaluable": not_evaluable, **risk, **status, **work,
            "active": self.overdue.denominator, "ihc_complete": self.ihc_complete.numerator,
        }
        active = tuple(f"worklist:{k.value}" for k in _ACTIVE)
        return suppress(counts, [
            ("patients", ("evaluable", "not_evaluable")),
            ("evaluable", tuple(risk)),
            ("evaluable", tuple(status)),
            ("patients", tuple(work)),
            ("active", active),
        ], min_cell)

    def to_jsonable(self) -> dict[str, Any]:
        return {
            "format": "pecoma-registry-summary/1",
            "evaluated_on": self.on_date.isoformat(),
            "patients": self.patients,
            "by_risk_group": self.by_risk,
            "by_disease_status": self.by_disease_status,
            "by_worklist_status": self.by_worklist_status,
            "overdue_rate": self.overdue.to_dict(),
            "advanced_cases": self.advanced,
            "advanced_unknown": self.advanced_unknown,
            "first_line_mtor_in_advanced": {
                **self.first_line_mtor.to_dict(),
                "first_line_not_recorded": self.first_line_unrecorded,
                "statements": ["S02", "S12", "S13"],
            },
            "ihc_panel_complete": {**self.ihc_complete.to_dict(), "statements": ["S24"]},
            "cds_mtor_before_chemotherapy": {
                "accepted": self.cds_mtor_accepted.to_dict(),
                "override_reasons": self.cds_override_reasons,
                "statements": ["S13", "S14"],
            },
        }

    def lines(self) -> list[str]:
        def counts(d: dict[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in d.items()) or "none"

        return [
            f"Registry summary as of {self.on_date.isoformat()}: {self.patients} patients",
            f"risk group: {counts(self.by_risk)}",
            f"disease status: {counts(self.by_disease_status)}",
            f"worklist: {counts(self.by_worklist_status)}",
            f"overdue rate (among active plans): {self.overdue}",
            f"advanced cases (I6): {self.advanced} (advanced status unknown: "
            f"{self.advanced_unknown})",
            f"first-line mTOR inhibitor in advanced disease (S02, S12, S13): "
            f"{self.first_line_mtor}; first line not recorded: {self.first_line_unrecorded}",
            f"complete IHC panel (S24): {self.ihc_complete}",
            f"CDS 'mTOR inhibitor first' suggestion accepted (S13, S14): "
            f"{self.cds_mtor_accepted}; override reasons: "
            f"{counts(self.cds_override_reasons)}",
        ]


_RISK_ORDER = ("high", "indeterminate", "low", "not_applicable", "not evaluable")


def summarise(
    evaluated: Sequence[Evaluated],
    worklist: Sequence[WorkItem],
    on_date: dt.date,
    settings: Settings,
    feedback: Sequence[FeedbackRecord] = (),
) -> Summary:
    """The figures of the registry as of ``on_date`` (see the module docstring)."""
    s = Summary(on_date=on_date, patients=len(evaluated))
    risk: Counter[str] = Counter()
    status: Counter[str] = Counter()
    advanced = mtor = recorded = unrecorded = unknown = 0
    ihc_yes = ihc_all = 0
    for e in evaluated:
        if e.assessment is None or e.case is None:
            risk["not evaluable"] += 1
            status["not evaluable"] += 1
            continue
        risk[e.assessment.risk.group] += 1
        status[e.assessment.disease_status] += 1  # the status the advice follows (I6)
        ihc_all += 1
        ihc_yes += ihc_panel_complete(e.case)
        if e.assessment.advanced is None:
            unknown += 1
        elif e.assessment.advanced:
            advanced += 1
            first = derive(e.case, settings.engine).first_line
            if first is None:
                unrecorded += 1
            else:
                recorded += 1
                mtor += first.agent.is_mtor_inhibitor
    s.by_risk = {k: risk[k] for k in _RISK_ORDER if risk[k]}
    s.by_disease_status = dict(sorted(status.items()))
    w: Counter[str] = Counter(i.status.value for i in worklist)
    s.by_worklist_status = {k.value: w[k.value] for k in WorkStatus if w[k.value]}
    active = sum(w[k.value] for k in _ACTIVE)
    s.overdue = Ratio(w[WorkStatus.overdue.value], active)
    s.advanced = advanced
    s.advanced_unknown = unknown
    s.first_line_mtor = Ratio(mtor, recorded)
    s.first_line_unrecorded = unrecorded
    s.ihc_complete = Ratio(ihc_yes, ihc_all)
    mtor_cards = [f for f in feedback if "ALERT-CHEMO-BEFORE-MTOR" in f.record_ids]
    s.cds_mtor_accepted = Ratio(sum(f.outcome == "accepted" for f in mtor_cards),
                                len(mtor_cards))
    reasons = Counter(f.override_code or "(none given)" for f in mtor_cards
                      if f.outcome == "overridden")
    s.cds_override_reasons = dict(sorted(reasons.items()))
    return s


# --- the chart ----------------------------------------------------------------------

_COLOURS = {
    "high": "#b2182b", "indeterminate": "#ef8a62", "low": "#67a9cf", "not evaluable": "#999999",
    "overdue": "#b2182b", "due": "#ef8a62", "upcoming": "#67a9cf", "done": "#1a9850",
    "suspended": "#762a83", "not_drawn": "#999999", "not_evaluable": "#cccccc",
}


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )


def _bars(title: str, data: dict[str, int], x: int, y: int, width: int) -> list[str]:
    out = [f'<text x="{x}" y="{y}" font-weight="bold">{_esc(title)}</text>']
    top = max(data.values(), default=0) or 1
    label_w, bar_w = 120, width - 170
    for n, (key, value) in enumerate(data.items()):
        yy = y + 14 + n * 24
        length = round(bar_w * value / top)
        colour = _COLOURS.get(key, "#4d4d4d")
        label = _esc(key.replace("_", " "))
        out.append(
            f'<text x="{x}" y="{yy + 13}">{label}</text>'
            f'<rect x="{x + label_w}" y="{yy}" width="{length}" height="18" fill="{colour}">'
            f"<title>{label}: {value}</title></rect>"
            f'<text x="{x + label_w + length + 6}" y="{yy + 13}">{value}</text>'
        )
    return out


def summary_svg(s: Summary) -> str:
    """A self-contained SVG bar chart: risk groups and worklist statuses (no scripts)."""
    width = 420
    rows = max(len(s.by_risk), 1) + max(len(s.by_worklist_status), 1)
    height = 60 + rows * 24 + 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        'font-size="12">',
        f"<title>Registry summary as of {s.on_date.isoformat()}</title>",
    ]
    parts += _bars("Patients by risk group", s.by_risk, 10, 16, width)
    y2 = 16 + 14 + max(len(s.by_risk), 1) * 24 + 24
    parts += _bars("Worklist status", s.by_worklist_status, 10, y2, width)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
