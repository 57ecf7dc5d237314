"""Quality of care as far as the registry's data go: surveillance quality and concordance.

**Surveillance quality** (from every patient's plan as of the evaluation date, drawn with
the recorded scans; each patient counts while under routine surveillance only, by the
rule the worklist and the calendars apply (:mod:`pecoma.registry.routine`): a patient
who died or was lost counts until that date, one whose relapse is recorded, as an
outcome or in a case version, until the relapse):

- visits whose window has closed (latest date before the evaluation date): how many were
  done inside the window, early, late, or missed;
- the delay of the visits done: days from the due date to the first scan (median, and
  the median lateness of the late ones past the window's latest date);
- recurrences and metastases recorded, by how they were found: at a scheduled scan, by
  symptoms between scans, otherwise, or not recorded; from either source
  (:func:`pecoma.registry.routine.recorded_relapses`): an outcome, or the case version
  (a relapse only the case records is counted under "not recorded"; one a scan found,
  at a scheduled scan).

**Concordance** compares what the stored assessments recommended with what the patient's
latest case records as done. It measures, for each recommendation record and year (the
year of the first assessment that carried it), among the patients it was recommended
to: how many had the recommended treatment recorded (followed), a different one (not
followed, with the treatment recorded instead as the reason), or nothing recorded yet
(unknown). Only records with a treatment fact to compare are measured:

- ``REC-MTOR-FIRST-LINE``: first-line systemic therapy of advanced disease is an mTOR
  inhibitor (followed) or another agent (not followed);
- ``REC-RESECTION``: the surgery is recorded as performed (followed) or not performed
  (not followed).

Every other recommendation is listed with the number of patients it was given to and
"no recorded decision to compare".

**Decisions recorded** (``board_decision``: the tumour board's decisions, and the
clinicians' answers to CDS Hooks cards), for each recommendation record, year of the
decision and source (``board``, ``cds-hooks``): how many current decisions were recorded
(a superseded decision does not count; a board decision counts once per stored
assessment and recommendation, a CDS answer once per card and record), how many
accepted the recommendation (followed it), declined it or deferred it, the share
accepted, and the reasons for each decline and deferral by coded reason (free text is
never aggregated: it may name people).

Every figure carries its n; counts below ``min_cell`` are shown as "< min_cell", with
complementary suppression so that no suppressed count can be worked out from a total and
the other counts of its row (:mod:`pecoma.registry.suppression`: in a concordance row,
recommended = followed + not followed + not recorded, and not followed = its reasons; in a
decision row, decided = accepted + declined + deferred, and declined and deferred = their
reasons; in the surveillance quality, windows closed = visits done + missed, visits done =
on time + early + late, and the recurrences with the way found recorded = their ways); a
share is shown only when its numerator and denominator are both shown. The text and JSON
rendering is :mod:`pecoma.registry.quality_text`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pecoma.case import Case, SurgeryStatus
from pecoma.registry.routine import (
    RELAPSE_EVENTS,
    free_from_of,
    primary_as_resected,
    recorded_relapses,
    relapse_of,
    routine,
)
from pecoma.registry.summary import Ratio
from pecoma.registry.suppression import Cells, suppress
from pecoma.registry.worklist import Evaluated
from pecoma.settings import Settings

if TYPE_CHECKING:
    from pecoma.engine.plan import SurveillancePlan
    from pecoma.store.decisions import DecisionView
    from pecoma.store.repository import OutcomeView, Repository

__all__ = [
    "Concordance",
    "Decision",
    "DecisionRow",
    "DecisionSource",
    "RecordedDecision",
    "SurveillanceQuality",
    "concordance",
    "concordance_of",
    "decision_rows",
    "recorded_decisions",
    "recorded_treatment",
    "registry_decisions",
    "registry_quality",
    "surveillance_quality",
]

_FOUND = ("scheduled_scan", "symptoms", "other", "not_recorded")


@dataclass(slots=True)
class SurveillanceQuality:
    on_date: dt.date
    windows_closed: int = 0
    on_time: int = 0
    early: int = 0
    late: int = 0
    missed: int = 0
    delays: list[int] = field(default_factory=list)
    lateness: list[int] = field(default_factory=list)
    recurrences_found: dict[str, int] = field(default_factory=dict)

    @property
    def inside_window(self) -> Ratio:
        return Ratio(self.on_time, self.windows_closed)

    @property
    def median_delay(self) -> float | None:
        return statistics.median(self.delays) if self.delays else None

    @property
    def median_lateness(self) -> float | None:
        return statistics.median(self.lateness) if self.lateness else None

    @property
    def at_scheduled_scan(self) -> Ratio:
        known = sum(v for k, v in self.recurrences_found.items() if k != "not_recorded")
        return Ratio(self.recurrences_found.get("scheduled_scan", 0), known)

    def cells(self, min_cell: int) -> Cells:
        """The counts, suppressed for a shared report: windows closed = visits done +
        missed, visits done = on time + early + late, and the recurrences with the way
        found recorded = at a scheduled scan + symptoms + other."""
        found = {f"found:{k}": v for k, v in self.recurrences_found.items()}
        counts = {
            "windows_closed": self.windows_closed, "visits_done": len(self.delays),
            "on_time": self.on_time, "early": self.early, "late": self.late,
            "missed": self.missed, "found_known": self.at_scheduled_scan.denominator,
            **found, "found:scheduled_scan": self.at_scheduled_scan.numerator,
        }
        return suppress(counts, [
            ("windows_closed", ("visits_done", "missed")),
            ("visits_done", ("on_time", "early", "late")),
            ("found_known", ("found:scheduled_scan", "found:symptoms", "found:other")),
        ], min_cell)

    def to_jsonable(self, min_cell: int = 1) -> dict[str, Any]:
        from pecoma.registry.quality_text import quality_json

        return quality_json(self, min_cell)

    def lines(self, min_cell: int = 1) -> list[str]:
        from pecoma.registry.quality_text import quality_lines

        return [f"Surveillance quality as of {self.on_date.isoformat()}",
                *quality_lines(self, min_cell)]


def plans_before_relapse(repo: Repository, evaluated: Iterable[Evaluated],
                         on_date: dt.date, settings: Settings) -> dict[str, SurveillancePlan]:
    """The routine surveillance that ran before a relapse recorded as a case version, by
    registry id: for each patient whose case (the version in ``evaluated``: current on
    the date) records a relapse (disease present,
    or free of disease again: the latest case's plan then counts from that date, I8),
    the plan of the latest earlier case version that records none (when none does, of
    the primary as the case records its resection,
    :func:`pecoma.registry.routine.primary_as_resected`: a patient first registered
    after the relapse, or a registry moved with its latest versions), drawn as of
    ``on_date`` with the patient's scans. The quality figures count its visits until the
    relapse (when it is dated), as they count a patient's whose relapse is recorded as an
    outcome."""
    from pecoma.case import parse_case
    from pecoma.engine import assess
    from pecoma.errors import InputError
    from pecoma.registry.plan import plan_for

    out: dict[str, SurveillancePlan] = {}
    for e in evaluated:
        relapse = relapse_of(e.case) if e.case is not None else None
        if relapse is None:
            continue
        timeline = repo.timeline(e.state.registry_id)
        # the versions before the one read as of the date (a later one is not known yet)
        earlier = [c for c in (timeline.cases if timeline is not None else ())
                   if e.state.version is not None and c.version < e.state.version]
        cases = []
        for version in reversed(earlier):
            try:
                case = parse_case(version.case, source="stored case")
            except InputError:
                break  # that version cannot be read: nothing counted
            if relapse_of(case) is None:
                cases.append(case)
                break
        if not cases and e.case is not None:
            # no earlier version records the primary alone (first registered after the
            # relapse, or moved with the latest versions): the primary as the case records
            # its resection, the same facts an earlier version would hold
            primary = primary_as_resected(e.case)
            cases = [primary] if primary is not None else []
        for case in cases:
            try:
                plan = plan_for(case, assess(case, on_date, settings), on_date,
                                e.state.scans, settings)
            except InputError:
                continue  # that version cannot be planned as of the date: nothing counted
            out[e.state.registry_id] = plan
    return out


def surveillance_quality(
    evaluated: Iterable[Evaluated],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    on_date: dt.date,
    before_relapse: Mapping[str, SurveillancePlan],
) -> SurveillanceQuality:
    """Surveillance quality of the plans in ``evaluated`` (see the module docstring);
    ``outcomes`` by registry id; ``before_relapse``: the plans that ran before a relapse
    recorded as a case version (:func:`plans_before_relapse`), counted until it."""
    q = SurveillanceQuality(on_date)
    found = dict.fromkeys(_FOUND, 0)
    for e in evaluated:
        rid = e.state.registry_id
        mine = [o for o in outcomes.get(rid, ()) if o.event_date <= on_date]
        relapse = relapse_of(e.case) if e.case is not None else None
        # from either source: an outcome, or the case version (how found: not recorded)
        recorded = recorded_relapses(e.case, mine)
        if not any(not r.from_case for r in recorded) and any(
                sc.finding in ("local_recurrence", "metastasis")
                and sc.performed_on <= on_date for sc in e.state.scans):
            # a surveillance scan that found disease, not (yet) recorded as an outcome:
            # found at a scheduled scan (the relapse a case version records, that one)
            found["scheduled_scan"] += 1
        else:
            for one in recorded:
                found[one.found_by or "not_recorded"] += 1
        r = routine(relapse, mine, max((sc.performed_on for sc in e.state.scans
                                        if sc.performed_on <= on_date), default=None),
                    free_from_of(e.case) if e.case is not None else None)
        windows = [(v, r.runs_on(v.latest)) for v in (e.plan.visits if e.plan else ())]
        before = before_relapse.get(rid)
        if before is not None:
            # the earlier version's visits, routine until the relapse (when it is dated)
            dated = [d for d in (relapse.on if relapse else None,
                                 *(o.event_date for o in mine if o.event in RELAPSE_EVENTS))
                     if d is not None]
            cut = min(dated, default=None)
            windows += [(v, cut is not None and v.latest < cut) for v in before.visits]
        for v, counted in windows:
            if v.status == "cancelled" or v.latest >= on_date or not counted:
                continue
            q.windows_closed += 1
            if v.done_on is None:
                q.missed += 1
                continue
            q.delays.append((v.done_on - v.due).days)
            if v.timeliness == "on_time":
                q.on_time += 1
            elif v.timeliness == "early":
                q.early += 1
            else:
                q.late += 1
                q.lateness.append((v.done_on - v.latest).days)
    q.recurrences_found = {k: v for k, v in found.items() if v}
    return q


# --- concordance ------------------------------------------------------------------------

Verdict = Literal["followed", "not_followed", "unknown"]


@dataclass(frozen=True, slots=True)
class Decision:
    """What became of one recommendation for one patient, from one source."""

    record: str
    year: int
    verdict: Verdict
    reason: str | None
    source: str


DecisionSource = Callable[[Case, str, Settings], "tuple[Verdict, str | None] | None"]
"""``source(latest case, record id, settings)`` -> the verdict and the reason for a
deviation, or ``None`` when the source has nothing to compare for that record."""


def recorded_treatment(case: Case, record: str, settings: Settings) -> (
    tuple[Verdict, str | None] | None
):
    """The treatment recorded in the case, compared with the recommendation."""
    if record == "REC-MTOR-FIRST-LINE":
        from pecoma.engine.facts import derive

        first = derive(case, settings.engine).first_line
        if first is None:
            return "unknown", None
        if first.agent.is_mtor_inhibitor:
            return "followed", None
        return "not_followed", f"first line recorded: {first.agent.value}"
    if record == "REC-RESECTION":
        status = case.surgery.status
        if status is SurgeryStatus.performed:
            return "followed", None
        if status is SurgeryStatus.not_performed:
            return "not_followed", "surgery recorded as not performed"
        return "unknown", None
    return None


@dataclass(frozen=True, slots=True)
class ConcordanceRow:
    record: str
    year: int
    recommended: int
    followed: int
    not_followed: int
    unknown: int
    reasons: tuple[tuple[str, int], ...]
    compared: bool

    @property
    def share(self) -> Ratio:
        return Ratio(self.followed, self.followed + self.not_followed)

    def cells(self, min_cell: int) -> Cells:
        """The counts, suppressed for a shared report (``reason:<reason>`` for the
        reasons); recommended = followed + not followed + not recorded, not followed =
        its reasons, and the share's denominator = followed + not followed."""
        reasons = {f"reason:{k}": v for k, v in self.reasons}
        counts = {"recommended": self.recommended, "followed": self.followed,
                  "not_followed": self.not_followed, "unknown": self.unknown,
                  "recorded": self.followed + self.not_followed, **reasons}
        sums: list[tuple[str, tuple[str, ...]]] = []
        if self.compared:
            sums = [("recommended", ("followed", "not_followed", "unknown")),
                    ("recorded", ("followed", "not_followed")),
                    ("not_followed", tuple(reasons))]
        return suppress(counts, sums, min_cell)


@dataclass(frozen=True, slots=True)
class RecordedDecision:
    """One current decision about one recommendation (board or CDS Hooks)."""

    record: str
    day: dt.date
    decision: Literal["accepted", "declined", "deferred"]
    reason: str | None  # the reason's label
    source: str


@dataclass(frozen=True, slots=True)
class DecisionRow:
    record: str
    year: int
    source: str
    accepted: int
    declined: int
    deferred: int
    reasons: tuple[tuple[str, int], ...]  # ("declined: <reason>", n), …

    @property
    def decided(self) -> int:
        return self.accepted + self.declined + self.deferred

    @property
    def share(self) -> Ratio:
        return Ratio(self.accepted, self.decided)

    def cells(self, min_cell: int) -> Cells:
        """The counts, suppressed for a shared report (``reason:<reason>`` for the
        reasons); decided = accepted + declined + deferred, and declined and deferred =
        their reasons."""
        reasons = {f"reason:{k}": v for k, v in self.reasons}
        counts = {"decided": self.decided, "accepted": self.accepted,
                  "declined": self.declined, "deferred": self.deferred, **reasons}
        return suppress(counts, [
            ("decided", ("accepted", "declined", "deferred")),
            ("declined", tuple(k for k in reasons if k.startswith("reason:declined: "))),
            ("deferred", tuple(k for k in reasons if k.startswith("reason:deferred: "))),
        ], min_cell)


def decision_rows(decisions: Iterable[RecordedDecision], on_date: dt.date
                  ) -> list[DecisionRow]:
    """The decisions up to ``on_date`` by record, year of the decision and source."""
    groups: dict[tuple[str, int, str], list[RecordedDecision]] = {}
    for d in decisions:
        if d.day <= on_date:
            groups.setdefault((d.record, d.day.year, d.source), []).append(d)
    rows = []
    for (rec, year, source), mine in sorted(groups.items()):
        reasons: dict[str, int] = {}
        for d in mine:
            if d.decision != "accepted":
                key = f"{d.decision}: {d.reason or 'no reason given'}"
                reasons[key] = reasons.get(key, 0) + 1
        rows.append(DecisionRow(
            rec, year, source,
            sum(d.decision == "accepted" for d in mine),
            sum(d.decision == "declined" for d in mine),
            sum(d.decision == "deferred" for d in mine),
            tuple(sorted(reasons.items())),
        ))
    return rows


@dataclass(slots=True)
class Concordance:
    on_date: dt.date
    sources: tuple[str, ...]
    rows: list[ConcordanceRow] = field(default_factory=list)
    decisions: list[DecisionRow] = field(default_factory=list)

    def to_jsonable(self, min_cell: int = 1) -> dict[str, Any]:
        from pecoma.registry.quality_text import concordance_json

        return concordance_json(self, min_cell)

    def lines(self, min_cell: int = 1, name: Callable[[str], str] = str) -> list[str]:
        """The figures as text lines, each recommendation record as ``name`` says it
        (by default its id)."""
        from pecoma.registry.quality_text import concordance_lines

        return concordance_lines(self, min_cell, name)


def concordance(
    history: Mapping[str, Sequence[tuple[dt.date, Sequence[str]]]],
    cases: Mapping[str, Case],
    on_date: dt.date,
    settings: Settings,
    sources: Mapping[str, DecisionSource] | None = None,
) -> Concordance:
    """Concordance of the stored recommendations (registry id -> the assessments' dates
    and record ids, oldest first) with the decisions of ``sources`` (by default the
    treatment recorded in the patient's latest case)."""
    chosen = dict(sources or {"recorded treatment": recorded_treatment})
    decisions: list[Decision] = []
    recommended: dict[tuple[str, int], int] = {}
    for rid, assessments in history.items():
        first: dict[str, int] = {}
        for day, records in assessments:
            if day > on_date:
                continue
            for rec in records:
                if rec.startswith("REC-"):
                    first.setdefault(rec, day.year)
        case = cases.get(rid)
        for rec, year in first.items():
            recommended[(rec, year)] = recommended.get((rec, year), 0) + 1
            if case is None:
                continue
            for name, source in chosen.items():
                got = source(case, rec, settings)
                if got is not None:
                    decisions.append(Decision(rec, year, got[0], got[1], name))
    result = Concordance(on_date, tuple(chosen))
    for (rec, year), count in sorted(recommended.items()):
        mine = [d for d in decisions if d.record == rec and d.year == year]
        reasons: dict[str, int] = {}
        for d in mine:
            if d.verdict == "not_followed" and d.reason:
                reasons[d.reason] = reasons.get(d.reason, 0) + 1
        result.rows.append(ConcordanceRow(
            rec, year, count,
            sum(d.verdict == "followed" for d in mine),
            sum(d.verdict == "not_followed" for d in mine),
            sum(d.verdict == "unknown" for d in mine),
            tuple(sorted(reasons.items())),
            bool(mine),
        ))
    return result


def registry_quality(
    evaluated: Sequence[Evaluated],
    outcomes: Mapping[str, Sequence[OutcomeView]],
    history: Mapping[int, Sequence[tuple[dt.date, Sequence[str]]]],
    on_date: dt.date,
    settings: Settings,
    decisions: Iterable[RecordedDecision] = (),
    *,
    before_relapse: Mapping[str, SurveillancePlan],
) -> tuple[SurveillanceQuality, Concordance]:
    """Both figures of the registry, from its evaluated patients, their outcomes (by
    registry id), the stored assessments' records (by patient id) and the decisions
    recorded (see :func:`registry_decisions`)."""
    by_rid = {e.state.patient_id: e.state.registry_id for e in evaluated}
    cases = {e.state.registry_id: e.case for e in evaluated if e.case is not None}
    named = {by_rid[pid]: h for pid, h in history.items() if pid in by_rid}
    concord = concordance(named, cases, on_date, settings)
    concord.decisions = decision_rows(decisions, on_date)
    return surveillance_quality(evaluated, outcomes, on_date, before_relapse), concord


def concordance_of(repo: Repository, evaluated: Sequence[Evaluated], on_date: dt.date,
                   settings: Settings) -> Concordance:
    """The registry's concordance (recorded treatment and recorded decisions) alone."""
    by_rid = {e.state.patient_id: e.state.registry_id for e in evaluated}
    cases = {e.state.registry_id: e.case for e in evaluated if e.case is not None}
    named = {by_rid[pid]: h for pid, h in repo.recommendation_history().items()
             if pid in by_rid}
    concord = concordance(named, cases, on_date, settings)
    concord.decisions = decision_rows(registry_decisions(repo), on_date)
    return concord


def registry_decisions(repo: Repository) -> list[RecordedDecision]:
    """The registry's current decisions (board and CDS Hooks), for :func:`registry_quality`."""
    from pecoma.store.decisions import current_decisions

    return recorded_decisions(current_decisions(repo))


def recorded_decisions(views: Iterable[DecisionView]) -> list[RecordedDecision]:
    """The current decisions of the store as :class:`RecordedDecision` (reason labels)."""
    from pecoma.registry.decisions import reason_label

    out = []
    for v in views:
        if not v.current or v.decision not in ("accepted", "declined", "deferred"):
            continue
        at = v.decided_at
        day = (at.astimezone(dt.UTC) if at.tzinfo is not None else at).date()
        out.append(RecordedDecision(v.record_id, day, v.decision,  # type: ignore[arg-type]
                                    reason_label(v.reason_code) if v.reason_code else None,
                                    v.source))
    return out
