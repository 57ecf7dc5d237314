"""The summary for the board, and the plain words a clinician reads instead of field paths.

The summary stands at the top of the report page and of the PDF:

- **Alerts by severity**, critical first: the assessment's alerts with their own level,
  and what the surveillance plan found that needs the team (``PLAN_ALERT_LEVELS``): a
  scan that found disease, an equivocal scan, missing or incomplete imaging, a visit
  missed or overdue. Ties keep the engine's order. The report's "Alerts" section shows
  the same list as cards (:attr:`SummaryAlert.item`, the plan's with their level), so the
  summary's links land there and the two agree.
- **The risk** group, or "not applicable" and why (:func:`~pecoma.render.text.risk_group_text`).
- **The top actions** (``TOP_ACTIONS``) of the guideline in the engine's decision order
  (``pecoma.engine.order``), except that the systemic treatment of advanced disease comes
  before a postoperative consideration (:func:`~pecoma.engine.order.board_order`: the
  mTOR inhibitor is the treatment of choice, over chemotherapy, S12, S13), each marked
  provisional when a missing fact holds it. Alerts are never cut: all are listed.
- **The missing facts ranked by how much each would change** (``MISSING_TIERS``): first
  what decides whether the recommendations apply at all (the tissue diagnosis), then what
  could change the risk group, then what a recommended treatment is provisional on, then
  what changes the surveillance plan, last what only changes an alert or supplementary
  context. Within a tier the guideline's facts come before supplementary ones, then the
  fact that more items depend on, then the engine's order.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pecoma.engine.collect import DIAGNOSIS_CONDITIONS
from pecoma.engine.model import Assessment, Fact, Item, MissingFact, Provenance
from pecoma.engine.order import board_order
from pecoma.engine.plan import ALERT_LEVELS, LATE_VISITS_TITLE, SurveillancePlan, alert_level
from pecoma.knowledge import load_knowledge
from pecoma.numbers import number_text
from pecoma.render.text import risk_group_text
from pecoma.web import form_controls

__all__ = [
    "LATE_VISITS_ANCHOR",
    "LEVEL_ORDER",
    "MISSING_TIERS",
    "PLAN_ALERT_LEVELS",
    "TOP_ACTIONS",
    "BoardSummary",
    "RankedMissing",
    "SummaryAlert",
    "board_summary",
    "fact_words",
    "field_label",
    "plan_alert_items",
    "rank_missing",
    "value_words",
]

Level = Literal["critical", "warning", "info"]
LEVEL_ORDER: dict[str, int] = {"critical": 0, "warning": 1, "info": 2}
TOP_ACTIONS = 3

#: What the surveillance plan found, as alerts, with the levels of the plan's alerts
#: (:data:`pecoma.engine.plan.ALERT_LEVELS`, the same on the registry's pages): a scan
#: that found disease and an equivocal scan both need the team's decision now (S26,
#: S27); missing imaging is a warning: the plan cannot be trusted until it is recorded.
PLAN_ALERT_LEVELS: Mapping[str, Level] = ALERT_LEVELS

#: The tiers of the missing-fact ranking, most decisive first: (tier, what it changes).
MISSING_TIERS: tuple[tuple[int, str], ...] = (
    (0, "decides whether the recommendations apply at all"),
    (1, "could change the risk group"),
    (2, "could change the treatment"),
    (3, "could change the surveillance plan"),
    (4, "changes an alert or supplementary context only"),
)
_TIER_WORDS = dict(MISSING_TIERS)
_DIAGNOSIS = DIAGNOSIS_CONDITIONS


@dataclass(frozen=True, slots=True)
class SummaryAlert:
    level: Level
    title: str
    text: str
    anchor: str  # where the full card is on the report page
    provenance: Provenance
    #: The alert's card in the report's "Alerts" section (a plan's alert with its level);
    #: None for the visits missed or overdue, carded from this summary alert itself.
    item: Item | None = None


#: The anchor of the card of the visits missed or overdue (no knowledge record of its own).
LATE_VISITS_ANCHOR = "alert-visits-late"


@dataclass(frozen=True, slots=True)
class RankedMissing:
    fact: MissingFact
    label: str  # the fact in the form's words
    tier: int
    changes: str  # what the tier means, in words


@dataclass(frozen=True, slots=True)
class BoardSummary:
    alerts: tuple[SummaryAlert, ...]
    risk: str  # "high", "low", "indeterminate" or "not applicable: " and why
    risk_group: str
    actions: tuple[Item, ...]
    more_actions: int
    missing: tuple[RankedMissing, ...]

    @property
    def card_ids(self) -> tuple[str, ...]:
        """The ids of the items carded among the alerts (not repeated elsewhere)."""
        return tuple(x.item.id for x in self.alerts if x.item is not None)

    def levelled(self, item: Item) -> Item:
        """``item`` as an alert (with its level) when it is one of the alerts."""
        for x in self.alerts:
            if x.item is not None and x.item.id == item.id:
                return x.item
        return item


# --------------------------------------------------------------------------- plain words

#: Labels of the facts the engine derives or names that have no form control.
_EXTRA_LABELS: dict[str, str] = {
    "tumour.size": "Largest dimension",
    "primary_treatment_end": "End of curative treatment of the primary",
    "derived.primary_treatment_end": "End of curative treatment of the primary (derived)",
    "derived.surveillance_counted_from": "Surveillance counted from (derived)",
    "derived.advanced": "Advanced disease (derived)",
    "derived.disease_status": "Disease status (derived from the facts)",
    "derived.disease_present": "Disease present now (derived)",
    "derived.disease_free_interval_months": "Disease-free interval in months (derived)",
    "derived.lung_metastases": "Lung metastases (derived)",
    "derived.extrapulmonary_disease": "Disease outside the lungs (derived)",
    "derived.size_cm": "Largest dimension in cm (derived)",
    "derived.regimen_withheld": "Regimen withheld for a recorded intolerance (derived)",
    "derived.regimen_past":
        "Regimen not offered after progression on a drug it holds (derived, I26)",
    "derived.malignancy": "Malignant on the facts entered (derived, I9)",
    "derived.anthracycline_intolerance":
        "Another anthracycline recorded as not tolerated (derived)",
    "derived.other_line": "A line of a drug the case format names no agent for (derived)",
    "derived.earlier_lines": "Lines for advanced disease before S14's option (derived)",
    "derived.lines_not_recorded": "Line numbers not recorded below a recorded one (derived)",
    "derived.adjuvant_outside_guideline":
        "Adjuvant course outside the guideline (derived, I28)",
    "derived.mtor_inhibitor_contraindicated":
        "mTOR inhibitor contraindicated (derived from an intolerance)",
    "derived.mtor_inhibitors_ruled_out":
        "mTOR inhibitors ruled out by an intolerance (derived)",
    "derived.intolerance_judgements_differ":
        "Intolerances of one drug judged of the class and of that drug alone (derived)",
    "derived.after_mtor_classes":
        "Published options after mTOR inhibitors not tolerated or given already (derived)",
    "settings.engine.guideline_size_cm": "Size cut-off of S06 (local setting)",
    "settings.engine.folpe_size_cm": "Folpe size cut-off (local setting)",
    "settings.engine.folpe_mitoses_per_50_hpf": "Folpe mitotic cut-off (local setting)",
    "settings.engine.bennett_size_cm": "Bennett size cut-off (local setting)",
    "settings.engine.bennett_mitoses_per_50_hpf": "Bennett mitotic cut-off (local setting)",
    "risk.group": "Risk group",
    "classification.folpe_2005": "Folpe 2005 category",
    "classification.bennett_2018": "Bennett 2018 category",
    "followup.horizon_years": "Years of surveillance listed",
    "stage.metastases": "Metastases",
    "stage.metastases[].detected_on": "Date each metastasis was detected",
    # the missing facts asking whether an intolerance is of the drug's class (I15)
    "systemic.intolerances.class_wide": "Drug not tolerated: class-wide?",
    # the missing fact asking which drug an intolerance recorded as 'other' is (I15)
    "systemic.intolerances.agent": "Drug not tolerated: which drug?",
    "imaging": "Surveillance scans",
    "molecular": "Molecular tests (TSC1, TSC2, TFE3)",
    "systemic.therapies.progressed": "Progression on a systemic therapy",
    "systemic.therapies.first_line": "First-line systemic therapy",
    "systemic.therapies.agent": "Systemic therapy agent",
}
_INDEXED = re.compile(r"^(?P<head>[a-z_.]+)\[(?P<row>\d*)\]\.(?P<field>[a-z_0-9]+)$")
_INDEXED_NOUNS = {
    "derived.metastases": "Metastasis",
    "visit": "Visit",
    "imaging": "Scan",
    "stage.metastases": "Metastasis",
}


def _humane(name: str) -> str:
    words = name.rsplit(".", 1)[-1].replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else "Fact"


def field_label(path: str) -> str:
    """A case or derived fact path in the form's words: never the path itself."""
    if path in _EXTRA_LABELS:
        return _EXTRA_LABELS[path]
    from pecoma.web.pages import label_of  # the form's own labels (pages imports this)

    label = label_of(path)
    if label != path:
        return label
    m = _INDEXED.match(path)
    if m:
        noun = _INDEXED_NOUNS.get(m["head"], _humane(m["head"]))
        row = f" {int(m['row']) + (0 if m['head'] == 'visit' else 1)}" if m["row"] else ""
        return f"{noun}{row}: {_humane(m['field']).lower()}"
    return _humane(path)


def value_words(value: Any) -> str:
    """A fact's value as a clinician reads it: no Python reprs, no snake_case codes."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, tuple | list | set | frozenset):
        return ", ".join(value_words(v) for v in value) or "none"
    text = str(value)
    return re.sub(r"\b([a-z0-9]+(?:_[a-z0-9]+)+)\b", lambda m: form_controls.words(m[1]), text)


def fact_words(fact: Fact) -> tuple[str, str]:
    """(label, value) of a fact an item rests on."""
    return field_label(fact.path), value_words(fact.value)


# --------------------------------------------------------------------------- the summary


def plan_alert_items(plan: SurveillancePlan) -> tuple[Item, ...]:
    """The plan's alerts (its one list of what the team must act on now) as cards, each
    with its level (:func:`~pecoma.engine.plan.alert_level`, as on the registry's pages)."""
    return tuple(dataclasses.replace(i, level=alert_level(i.id)) for i in plan.alerts)


def _plan_alerts(plan: SurveillancePlan | None) -> list[SummaryAlert]:
    if plan is None:
        return []
    out: list[SummaryAlert] = []
    for i in plan_alert_items(plan):
        out.append(SummaryAlert(alert_level(i.id), i.title, i.text, f"#item-{i.id}",
                                i.provenance, i))
    words = plan.late_words  # the CarePlan lists the same alert (pecoma.fhir.careplan)
    if words is not None:
        out.append(SummaryAlert("warning", LATE_VISITS_TITLE, words,
                                f"#{LATE_VISITS_ANCHOR}", plan.late[0].provenance))
    return out


def _tier(m: MissingFact, a: Assessment, plan: SurveillancePlan | None) -> int:
    """The tier of ``m``: what the records it affects (shown now or not) are."""
    if m.id in _DIAGNOSIS:
        return 0
    records = load_knowledge().records
    kinds = {(r.kind, r.provenance) for rid in m.affects if (r := records.get(rid)) is not None}
    if m.id in a.risk.item.conditional_on or any(kind == "risk" for kind, _ in kinds):
        return 1
    if ("recommendation", "guideline") in kinds or any(
        m.id in i.conditional_on for i in a.recommendations if i.provenance.kind == "guideline"
    ):
        return 2
    if any(kind == "followup" for kind, _ in kinds) or any(
        m.id in i.conditional_on for i in a.followup
    ):
        return 3
    if plan is not None and any(pm.id == m.id for pm in plan.missing):
        return 3
    return 4


def rank_missing(a: Assessment, plan: SurveillancePlan | None = None) -> tuple[RankedMissing, ...]:
    """Every missing fact (the assessment's, then the plan's), most decisive first."""
    facts: dict[str, MissingFact] = {m.id: m for m in a.missing}
    if plan is not None:
        for m in plan.missing:
            facts.setdefault(m.id, m)
    ranked = sorted(
        enumerate(facts.values()),
        key=lambda pair: (
            _tier(pair[1], a, plan),
            pair[1].provenance.kind != "guideline",
            -len(pair[1].affects),
            pair[0],
        ),
    )
    return tuple(
        RankedMissing(m, field_label(m.field), t, _TIER_WORDS[t])
        for _, m in ranked
        for t in (_tier(m, a, plan),)
    )


def board_summary(a: Assessment, plan: SurveillancePlan | None = None) -> BoardSummary:
    alerts = []
    for i in a.alerts:
        level: Level = i.level if i.level in LEVEL_ORDER else "warning"  # type: ignore[assignment]
        card = i if i.level == level else dataclasses.replace(i, level=level)
        alerts.append(SummaryAlert(level, i.title, i.text, f"#item-{i.id}", i.provenance, card))
    alerts += _plan_alerts(plan)
    alerts.sort(key=lambda x: LEVEL_ORDER[x.level])  # stable: ties keep their order
    guideline = [i for i in board_order(a.recommendations) if i.provenance.kind == "guideline"]
    return BoardSummary(
        alerts=tuple(alerts),
        risk=risk_group_text(a.risk),
        risk_group=a.risk.group,
        actions=tuple(guideline[:TOP_ACTIONS]),
        more_actions=max(0, len(a.recommendations) - TOP_ACTIONS),
        missing=rank_missing(a, plan),
    )
