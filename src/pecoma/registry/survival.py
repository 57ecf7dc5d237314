"""Recurrence-free and overall survival of the registry's patients, by group.

Two endpoints, each measured in years (days / 365.25):

- **Overall survival (OS)**: from the diagnosis (the surgery date when the diagnosis date
  is not recorded) to death from any cause; patients alive are censored at the last date
  they were known alive: the latest of their last contacts, scans, recorded recurrences
  or progressions, the relapse their case dates and the diagnosis, surgery and
  free-of-disease dates of their case.
- **Recurrence-free survival (RFS)**: patients with a resection of a localized tumour
  only (a case that records the relapse and the resection before it included:
  :func:`registry_cohort`), from the surgery to the first relapse or death, whichever
  comes first; censored at the last date known alive. A relapse is any record that
  disease is present after the resection, as the worklist reads it
  (:func:`pecoma.registry.routine.relapses_after`): a local recurrence or distant
  metastasis, a progression after the resection, a last contact alive with disease after
  the day the resection left the patient free of disease
  (:func:`pecoma.registry.routine.free_from`; none after an R2 resection), a scan that
  found a recurrence or a metastasis, or the latest case version recording recurrent or
  metastatic disease, dated by its first metastasis detected
  (:func:`pecoma.registry.routine.case_relapse`). Each is dated by the day it was
  recorded: the relapse came then or earlier. A relapse the case records came no later
  than the day the first version recording it was stored, nor than the case's date free
  of disease again: the earlier of the two dates it (a later record, such as a contact
  alive with disease, never does). A relapse the case records that nothing known by the
  evaluation date dates leaves the patient out of RFS, counted. A resected primary with
  a metastasis whose timing is unknown (whether it was there at the resection, I29) is
  left out of RFS saying so.

Only what is recorded by the evaluation date counts (later outcomes are ignored, so a
figure as of a date is reproducible). A patient whose start date is unknown, or who has
no follow-up after it, is left out of the estimate and counted as such: unknown is never
taken for event-free.

Groups: the guideline risk group of the latest stored assessment (high, indeterminate,
low; I1) or its Folpe 2005 category. For each group: n, events, Kaplan–Meier estimates
with 95 % confidence intervals (Greenwood variance, log(-log) transform; not estimable,
and shown so, where the estimate is 100 % or 0 %: :data:`CI_NOT_ESTIMABLE`) and numbers at
risk at 1, 3, 5 and 10 years, median survival, and the median follow-up (reverse
Kaplan–Meier: censoring taken as the event), both the smallest time at which the curve is
at or below 50 % (:func:`km_median`). The log-rank test compares the groups shown.

Small numbers protect privacy: a group of fewer than ``min_cell`` patients shows no
estimate and is not drawn (its n is given as "< min_cell", and the figure's note names
it), and a count below it (events, numbers at risk) is shown as "< min_cell"; suppressed
groups are left out of the log-rank test. Where the figure's total n is printed beside
its groups (the PDF), :meth:`SurvivalReport.cells` gives it complementary suppression: a
group drawn keeps its n shown (the curve's steps and band would reveal it), so the total
is the count suppressed instead (:mod:`pecoma.registry.suppression`).
The estimates come from lifelines (imported only here).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from pecoma.registry.suppression import Cells, suppress

if TYPE_CHECKING:
    from pecoma.case import Case
    from pecoma.settings import Settings
    from pecoma.store.repository import OutcomeView, Repository

__all__ = [
    "CI_NOT_ESTIMABLE",
    "DEFAULT_MIN_CELL",
    "HORIZONS",
    "Endpoint",
    "GroupCurve",
    "Grouping",
    "Subject",
    "SurvivalReport",
    "analyse",
    "ci_not_estimable",
    "cohort",
    "km_median",
    "median_text",
    "registry_cohort",
    "survival_report",
    "to_figure",
    "to_json",
    "to_text",
]

DEFAULT_MIN_CELL = 5
HORIZONS = (1, 3, 5, 10)
YEAR = 365.25


class Endpoint(StrEnum):
    rfs = "rfs"
    os = "os"


class Grouping(StrEnum):
    risk = "risk"
    folpe = "folpe"


ENDPOINT_TITLES = {Endpoint.rfs: "Recurrence-free survival", Endpoint.os: "Overall survival"}
GROUPING_TITLES = {Grouping.risk: "guideline risk group", Grouping.folpe: "Folpe 2005 category"}
_ORDER = {
    Grouping.risk: ("high", "indeterminate", "low", "not_applicable"),
    Grouping.folpe: ("malignant", "uncertain malignant potential", "benign"),
}
_RECURRENCE = ("local_recurrence", "distant_metastasis")


@dataclass(frozen=True, slots=True)
class Subject:
    """One patient's time to event for one endpoint (``time`` in years)."""

    registry_id: str
    group: str
    time: float
    event: bool


#: Why a 95 % confidence interval is not given, by the estimate it would surround: the
#: Greenwood log(-log) interval is log(-log S) +- 1.96 SE, and log(-log S) has no value
#: at S = 1 (no event yet: Greenwood's variance is 0 too) nor at S = 0. lifelines gives
#: 1.0-1.0 and 0.0-0.0 there: a zero-width interval, certainty claimed from any number at
#: risk (no event among 6 patients followed throughout does not exclude, at the 5 % level,
#: a survival as low as 61 %: 0.05 ** (1 / 6)).
CI_NOT_ESTIMABLE = {
    1.0: "survival 100 % (no event by then): the Greenwood log(−log) interval cannot be "
         "computed there, and the true survival may be well below 100 % when few patients "
         "are at risk",
    0.0: "survival 0 % (no patient event-free by then): the Greenwood log(−log) interval "
         "cannot be computed there",
}


def ci_not_estimable(survival: float | None) -> str | None:
    """Why the 95 % interval around ``survival`` is not estimable (see
    :data:`CI_NOT_ESTIMABLE`), or ``None`` (it is, or there is no estimate)."""
    return None if survival is None else CI_NOT_ESTIMABLE.get(survival)


@dataclass(frozen=True, slots=True)
class AtHorizon:
    """The estimate at ``years``: ``survival`` (``None``: beyond the longest follow-up, or
    the group suppressed) and its 95 % interval (``None`` with an estimate: not estimable,
    :attr:`ci_not_estimable` says why)."""

    years: int
    at_risk: int
    survival: float | None
    lower: float | None
    upper: float | None

    @property
    def ci_not_estimable(self) -> str | None:
        return ci_not_estimable(self.survival)

    def text(self, words: bool = True) -> str:
        """THE estimate as printed, in percent (text, web page, PDF): "83.3 % (95 % CI
        27.3–97.5)", "100.0 % (95 % CI not estimable)", "—" when there is none; without
        ``words`` (a table whose header says "% (95 % CI)"): "83.3 (27.3–97.5)",
        "100.0 (CI not estimable)"."""
        if self.survival is None:
            return "—"
        if self.lower is None or self.upper is None:
            ci = "95 % CI not estimable" if words else "CI not estimable"
        else:
            bounds = f"{_pct(self.lower)}–{_pct(self.upper)}"
            ci = f"95 % CI {bounds}" if words else bounds
        return f"{_pct(self.survival)}{' %' if words else ''} ({ci})"


@dataclass(frozen=True, slots=True)
class GroupCurve:
    """One group's Kaplan–Meier curve and its figures (``suppressed``: n < min_cell)."""

    group: str
    n: int
    events: int
    suppressed: bool
    median: float | None  # years; None when not reached (or suppressed)
    median_follow_up: float | None
    horizons: tuple[AtHorizon, ...]
    times: tuple[float, ...] = ()
    survival: tuple[float, ...] = ()
    lower: tuple[float | None, ...] = ()  # None: not estimable (survival 1 or 0)
    upper: tuple[float | None, ...] = ()


@dataclass(frozen=True, slots=True)
class LogRank:
    statistic: float
    df: int
    p_value: float
    groups: tuple[str, ...]


@dataclass(slots=True)
class SurvivalReport:
    endpoint: Endpoint
    grouping: Grouping
    on_date: dt.date
    min_cell: int
    curves: list[GroupCurve] = field(default_factory=list)
    log_rank: LogRank | None = None
    excluded: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return (f"{ENDPOINT_TITLES[self.endpoint]} by {GROUPING_TITLES[self.grouping]}, "
                f"as of {self.on_date.isoformat()}")

    def cells(self) -> Cells:
        """The counts, suppressed with the report's ``min_cell``: ``n`` (the patients of
        every group), ``n:<group>``, ``events:<group>``, ``at_risk:<group>:<years>`` and
        ``excluded:<reason>``; n = the groups' n, and the n of a group drawn is kept."""
        counts = {"n": sum(c.n for c in self.curves)}
        for c in self.curves:
            counts[f"n:{c.group}"] = c.n
            counts[f"events:{c.group}"] = c.events
            for h in c.horizons:
                counts[f"at_risk:{c.group}:{h.years}"] = h.at_risk
        counts.update({f"excluded:{k}": v for k, v in self.excluded.items()})
        return suppress(counts, [("n", tuple(f"n:{c.group}" for c in self.curves))],
                        self.min_cell,
                        keep=(f"n:{c.group}" for c in self.curves if not c.suppressed))

    @property
    def ci_note(self) -> str | None:
        """Why an interval shown is not estimable (see :data:`CI_NOT_ESTIMABLE`), once per
        reason, or ``None`` when every interval shown is given."""
        why = {h.ci_not_estimable for c in self.curves if not c.suppressed
               for h in c.horizons} - {None}
        if not why:
            return None
        return "95 % CI not estimable at " + "; at ".join(
            w for w in CI_NOT_ESTIMABLE.values() if w in why) + "."

    @property
    def note(self) -> str | None:
        """What the figure leaves out: the groups under ``min_cell`` patients."""
        hidden = [c.group for c in self.curves if c.suppressed]
        if not hidden:
            return None
        return (f"Not drawn (fewer than {self.min_cell} patients, no estimate shown): "
                f"{', '.join(hidden)}.")


# --- from the registry to subjects ------------------------------------------------------


def _days(a: dt.date, b: dt.date) -> float:
    return (b - a).days / YEAR


def cohort(
    rows: Iterable[Sequence[Any]],
    outcomes: Mapping[int, Sequence[OutcomeView]],
    endpoint: Endpoint,
    grouping: Grouping,
    on_date: dt.date,
) -> tuple[list[Subject], dict[str, int]]:
    """The subjects of ``endpoint`` from :meth:`Repository.cohort_rows` and the
    patients' outcomes, and the number of patients left out, by reason."""
    subjects: list[Subject] = []
    excluded: dict[str, int] = {}

    def skip(reason: str) -> None:
        excluded[reason] = excluded.get(reason, 0) + 1

    from pecoma.registry.routine import case_relapse, free_from, relapses_after

    for (pid, rid, diagnosed, s_status, s_date, stage, risk, folpe, determined,
         last_scan, free_since, latest_stage, detected, disease_scan, surgery,
         relapse_recorded) in rows:
        group = risk if grouping is Grouping.risk else (folpe if determined else None)
        if not group:
            skip(f"{GROUPING_TITLES[grouping]} not determined")
            continue
        events = [o for o in outcomes.get(pid, ()) if o.event_date <= on_date]
        # a relapse is recorded as an outcome, or in a case version (the latest records
        # recurrent or metastatic disease): both count
        relapse = case_relapse(latest_stage, detected, free_since)
        relapsed_on = relapse.on if relapse is not None and relapse.on is not None \
            and relapse.on <= on_date else None
        resected = s_date if s_status == "performed" else None
        if endpoint is Endpoint.rfs:
            if s_status == "performed" and stage == "localized" and resected is None:
                # resected, the day not recorded: RFS has no start (unknown, not absent)
                skip("resection date not recorded")
                continue
            if stage == TIMING_UNKNOWN:
                skip("timing of a metastasis unknown: whether it was there at the "
                     "resection (not in RFS)")
                continue
            if resected is None or stage != "localized":
                skip("no resection of a localized tumour (not in RFS)")
                continue
            start = resected
        else:
            start = diagnosed or resected
            if start is None:
                skip("start date not recorded")
                continue
        death = next((o.event_date for o in events if o.event == "death"), None)
        if endpoint is Endpoint.rfs:
            # disease recorded after the resection, as the worklist reads it: a recurrence
            # or metastasis, a progression after the resection, a last contact alive with
            # disease after the day the resection left none, a scan that found disease;
            # each on the day it was recorded (the relapse may have come earlier)
            found = [o.event_date for o in events if o.event in _RECURRENCE]
            found += [o.event_date for o in relapses_after(
                events, start, free_from(None, surgery))]
            if disease_scan is not None:
                found.append(disease_scan)
            if relapse is not None and relapse_recorded is not None \
                    and relapse_recorded <= on_date:
                # the first version recording the relapse was stored then, and the case's
                # date free of disease again is after it: the relapse came by the earlier
                # of the two (never dated by a later record)
                found.append(min(relapse_recorded, relapse.free_since or relapse_recorded))
            elif relapse is not None and relapse.on is None and not any(
                    relapse.free_since is None or d <= relapse.free_since for d in found):
                # the case records a relapse and nothing dates it (a record after its date
                # free of disease again is of a later relapse): when the patient stopped
                # being recurrence-free is unknown, never taken as not yet
                skip("relapse recorded in the case without a date")
                continue
            firsts = [*found, *(o.event_date for o in events if o.event == "death")]
            if relapsed_on is not None:
                firsts.append(relapsed_on)
            end_event = min(firsts) if firsts else None
        else:
            end_event = death
        if end_event is not None:
            if end_event < start:
                skip("event before the start date")
                continue
            subjects.append(Subject(rid, group, _days(start, end_event), True))
            continue
        known = [d for d in (last_scan, diagnosed, resected, free_since, relapsed_on)
                 if d is not None and d <= on_date]
        known += [o.event_date for o in events]
        last_alive = max(known) if known else None
        if last_alive is None or last_alive <= start:
            skip("no follow-up after the start date")
            continue
        subjects.append(Subject(rid, group, _days(start, last_alive), False))
    return subjects, excluded


# --- the estimates ------------------------------------------------------------------------


_V = TypeVar("_V", float, float | None)


def _step(times: Sequence[float], values: Sequence[_V], t: float) -> _V:
    """The step function's value at ``t`` (right-continuous, starting at the first)."""
    out = values[0]
    for x, v in zip(times, values, strict=True):
        if x > t:
            break
        out = v
    return out


#: How far above one half a computed Kaplan–Meier estimate may lie and still be taken as
#: one half (:func:`km_median`): the product of n factors computed in floating point is
#: off by at most about n × 1.1e-16 (3/6 is computed as 0.5000000000000001), well below
#: this for any registry (n < 10^6), and an estimate this close to one half prints as
#: 50.0 % whichever it is.
MEDIAN_TOLERANCE = 1e-9


def km_median(times: Sequence[float], events: Sequence[bool]) -> float | None:
    """THE median of a Kaplan–Meier curve, for every output (text, JSON, web page, PDF)
    and for the median follow-up (the reverse curve: ``events`` negated): the smallest
    time t at which the estimate S(t) is at most one half (at or below 50 %, within
    :data:`MEDIAN_TOLERANCE`), ``None`` when the curve never comes down to one half
    ("not reached"). A curve lying at exactly 50 % from an event on has its median at
    that event's time (the standard definition; R's survfit and SAS would give the
    midpoint to the next event time instead). A censored time equal to an event time is
    at risk at that event (the Kaplan–Meier convention)."""
    order = sorted(zip(times, events, strict=True), key=lambda te: te[0])
    at_risk = len(order)
    survival = 1.0
    i = 0
    while i < len(order):
        t = order[i][0]
        j = i
        while j < len(order) and order[j][0] == t:
            j += 1
        died = sum(1 for _t, e in order[i:j] if e)
        if died:
            survival *= 1 - died / at_risk
            if survival <= 0.5 + MEDIAN_TOLERANCE:
                return float(t)
        at_risk -= j - i
        i = j
    return None


def _finite(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else float(x)


def _bound(survival: float, bound: float) -> float | None:
    """A bound of the 95 % interval around ``survival``; ``None`` where it is not
    estimable (see :data:`CI_NOT_ESTIMABLE`: lifelines' 1.0-1.0, 0.0-0.0, or no value)."""
    return None if ci_not_estimable(survival) is not None else _finite(bound)


def _curve(group: str, subjects: Sequence[Subject], min_cell: int) -> GroupCurve:
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]

    n = len(subjects)
    events = sum(s.event for s in subjects)
    durations = [s.time for s in subjects]
    observed = [s.event for s in subjects]
    at_risk = [sum(1 for d in durations if d >= h) for h in HORIZONS]
    if n < min_cell:
        return GroupCurve(group, n, events, True, None, None,
                          tuple(AtHorizon(h, r, None, None, None)
                                for h, r in zip(HORIZONS, at_risk, strict=True)))
    km = KaplanMeierFitter().fit(durations, observed, alpha=0.05)
    sf = km.survival_function_
    ci = km.confidence_interval_survival_function_
    times = tuple(float(t) for t in sf.index)
    surv = tuple(float(v) for v in sf.iloc[:, 0])
    lo = tuple(_bound(v, float(b)) for v, b in zip(surv, ci.iloc[:, 0], strict=True))
    hi = tuple(_bound(v, float(b)) for v, b in zip(surv, ci.iloc[:, 1], strict=True))
    longest = max(durations)
    horizons = tuple(
        AtHorizon(h, r, _step(times, surv, h), _step(times, lo, h), _step(times, hi, h))
        if h <= longest else AtHorizon(h, r, None, None, None)
        for h, r in zip(HORIZONS, at_risk, strict=True)
    )
    return GroupCurve(
        group, n, events, False, km_median(durations, observed),
        km_median(durations, [not e for e in observed]), horizons, times, surv, lo, hi,
    )


def analyse(
    subjects: Sequence[Subject],
    endpoint: Endpoint,
    grouping: Grouping,
    on_date: dt.date,
    min_cell: int = DEFAULT_MIN_CELL,
    excluded: Mapping[str, int] | None = None,
) -> SurvivalReport:
    """Kaplan–Meier curves per group and the log-rank test between the groups shown."""
    report = SurvivalReport(endpoint, grouping, on_date, min_cell,
                            excluded=dict(excluded or {}))
    by_group: dict[str, list[Subject]] = {}
    for s in subjects:
        by_group.setdefault(s.group, []).append(s)
    order = _ORDER[grouping]
    groups = sorted(by_group, key=lambda g: (order.index(g) if g in order else len(order), g))
    report.curves = [_curve(g, by_group[g], min_cell) for g in groups]
    shown = [c.group for c in report.curves if not c.suppressed]
    if len(shown) >= 2:
        from lifelines.statistics import (  # type: ignore[import-untyped]
            multivariate_logrank_test,
        )

        chosen = [s for g in shown for s in by_group[g]]
        result = multivariate_logrank_test(
            [s.time for s in chosen], [s.group for s in chosen], [s.event for s in chosen])
        report.log_rank = LogRank(float(result.test_statistic), len(shown) - 1,
                                  float(result.p_value), tuple(shown))
    return report


def registry_cohort(repo: Repository, on_date: dt.date,
                    settings: Settings | None = None) -> list[tuple[Any, ...]]:
    """:meth:`Repository.cohort_rows`, with the resected primary of a patient whose
    stored versions all record the relapse (first registered after it, or a registry
    moved with its latest versions only): the case records the resection and a relapse
    after it (:func:`pecoma.registry.routine.primary_as_resected`), so the patient's
    stage is that of a resected localized tumour, and the risk group, when no stored
    assessment stratified the primary, is the one the engine gives that primary
    (``settings``: the registry's, else the defaults). The same facts give the same row
    whichever version or assessment is the newest; a primary the engine cannot assess
    as of the date has no group (left out, counted). A case recording the resection on a
    day and a metastasis whose timing is unknown gets the stage :data:`TIMING_UNKNOWN`:
    left out of RFS saying so (whether the metastasis was there at the resection is not
    known, I29), not as a patient whose tumour was never resected."""
    from pecoma.case import parse_case
    from pecoma.engine import assess
    from pecoma.errors import InputError
    from pecoma.registry.routine import primary_as_resected
    from pecoma.settings import default_settings

    rows = repo.cohort_rows(on_date)
    relapsed = [row[0] for row in rows if row[5] in ("recurrent", "metastatic")]
    if not relapsed:
        return rows
    cfg = settings or default_settings()
    cases = repo.latest_case_data(relapsed)
    out: list[tuple[Any, ...]] = []
    for row in rows:
        data = cases.get(row[0]) if row[5] in ("recurrent", "metastatic") else None
        try:
            case = parse_case(data, source="stored case") if data is not None else None
        except InputError:
            case = None  # a stored version the case format no longer reads: as it is
        primary = primary_as_resected(case) if case is not None else None
        if case is not None and primary is None and _timing_unknown(case):
            out.append((*row[:5], TIMING_UNKNOWN, *row[6:]))
            continue
        if primary is None:
            out.append(row)
            continue
        group = row[6]
        if group in (None, "not_applicable"):
            try:
                group = assess(primary, on_date, cfg).risk.group
            except InputError:
                group = None  # its facts dated after the date: not known then
        out.append((*row[:5], "localized", group, *row[7:]))
    return out


#: The stage :func:`registry_cohort` gives a patient whose case records the resection of
#: the primary on a day and a metastasis whose timing is unknown, none there at the
#: resection known (I29): RFS cannot start at the resection, and the reason says why.
TIMING_UNKNOWN = "metastasis_timing_unknown"


def _timing_unknown(case: Case) -> bool:
    """``case`` records a dated resection of its primary and a metastasis whose timing
    is unknown (none known synchronous)."""
    from pecoma.case.timing import case_timings
    from pecoma.case.values import SurgeryStatus, Timing

    timings = case_timings(case)
    return (case.surgery.status is SurgeryStatus.performed and case.surgery.date is not None
            and Timing.unknown in timings and Timing.synchronous not in timings)


def survival_report(
    repo: Repository,
    endpoint: Endpoint,
    grouping: Grouping,
    on_date: dt.date,
    min_cell: int = DEFAULT_MIN_CELL,
    settings: Settings | None = None,
) -> SurvivalReport:
    """The registry's survival figures as of ``on_date`` (:func:`registry_cohort`)."""
    subjects, excluded = cohort(registry_cohort(repo, on_date, settings), repo.outcomes(),
                                endpoint, grouping, on_date)
    return analyse(subjects, endpoint, grouping, on_date, min_cell, excluded)


# --- rendering ----------------------------------------------------------------------------


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def median_text(x: float | None) -> str:
    """A median of survival or of follow-up in years, as the text, JSON, web page and
    PDF show it: "not reached" when ``None`` (the curve never falls to 50 %)."""
    return "not reached" if x is None else f"{x:.2f} y"


def to_text(r: SurvivalReport) -> str:
    lines = [r.title, ""]
    cells = r.cells()
    for c in r.curves:
        n = cells.text(f"n:{c.group}")
        if c.suppressed:
            lines.append(f"{c.group}: n {n}: suppressed (fewer than {r.min_cell} patients)")
            continue
        lines.append(
            f"{c.group}: n {n}, events {cells.text(f'events:{c.group}')}, median "
            f"{median_text(c.median)}, median follow-up {median_text(c.median_follow_up)}")
        for h in c.horizons:
            est = h.text()
            at_risk = cells.text(f"at_risk:{c.group}:{h.years}")
            lines.append(f"  {h.years:>2} y: {est}, at risk {at_risk}")
    if not r.curves:
        lines.append("no patient with the facts this endpoint needs")
    lr = r.log_rank
    lines.append("")
    if lr is not None:
        lines.append(f"log-rank test ({', '.join(lr.groups)}): chi-square {lr.statistic:.2f}, "
                     f"df {lr.df}, p = {lr.p_value:.4g}")
    else:
        lines.append("log-rank test: not computed (fewer than two groups shown)")
    for reason in sorted(r.excluded):
        lines.append(f"left out: {cells.text(f'excluded:{reason}')} ({reason})")
    if r.ci_note:
        lines.append(r.ci_note)
    if r.note:
        lines.append(r.note)
    return "\n".join(lines) + "\n"


def to_jsonable(r: SurvivalReport) -> dict[str, Any]:
    cells = r.cells()
    return {
        "format": "pecoma-survival/1",
        "endpoint": r.endpoint.value,
        "grouping": r.grouping.value,
        "evaluated_on": r.on_date.isoformat(),
        "time_unit": "years",
        "min_cell": r.min_cell,
        "groups": [
            {
                "group": c.group, "n": cells.json(f"n:{c.group}"),
                "events": cells.json(f"events:{c.group}") if not c.suppressed else None,
                "suppressed": c.suppressed,
                "median": c.median, "median_follow_up": c.median_follow_up,
                "at": [{"years": h.years, "at_risk": cells.json(f"at_risk:{c.group}:{h.years}"),
                        "survival": h.survival,
                        "lower": h.lower, "upper": h.upper,
                        "ci_not_estimable": h.ci_not_estimable}
                       for h in c.horizons] if not c.suppressed else [],
                "curve": {"time": list(c.times), "survival": list(c.survival),
                          "lower": list(c.lower), "upper": list(c.upper)},
            }
            for c in r.curves
        ],
        "log_rank": None if r.log_rank is None else {
            "statistic": r.log_rank.statistic, "df": r.log_rank.df,
            "p_value": r.log_rank.p_value, "groups": list(r.log_rank.groups)},
        "excluded": {k: cells.json(f"excluded:{k}") for k in sorted(r.excluded)},
        "note": r.note,
    }


def to_json(r: SurvivalReport) -> str:
    return json.dumps(to_jsonable(r), indent=2, ensure_ascii=False) + "\n"


_COLOURS = ("#b2182b", "#ef8a62", "#2166ac", "#67a9cf", "#4d4d4d")


def to_figure(r: SurvivalReport, fmt: str = "svg") -> bytes:
    """The curves with their 95 % bands and the numbers-at-risk table under them."""
    import matplotlib as mpl

    with mpl.rc_context(_RC):
        return _draw(r, fmt)


_RC: Any = {
    "svg.hashsalt": "pecoma-survival",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "path.simplify": False,
}


def _draw(r: SurvivalReport, fmt: str) -> bytes:
    from matplotlib.figure import Figure

    shown = [c for c in r.curves if not c.suppressed]
    cells = r.cells()
    fig = Figure(figsize=(8, 5.2 + 0.25 * len(r.curves)))
    ax = fig.add_axes((0.1, 0.18 + 0.04 * len(r.curves), 0.86, 0.72 - 0.04 * len(r.curves)))
    horizon = max([10.0, *(c.times[-1] for c in shown if c.times)])
    for i, c in enumerate(shown):
        colour = _COLOURS[i % len(_COLOURS)]
        # the curve ends at the group's longest follow-up (lifelines' timeline starts at 0)
        # no band where the interval is not estimable (a zero-width one would claim
        # certainty): NaN leaves a gap
        xs, ys = list(c.times), list(c.survival)
        lo = [math.nan if v is None else v for v in c.lower]
        hi = [math.nan if v is None else v for v in c.upper]
        if xs and xs[0] > 0:
            xs, ys, lo, hi = [0.0, *xs], [1.0, *ys], [math.nan, *lo], [math.nan, *hi]
        ax.step(xs, ys, where="post", color=colour, label=f"{c.group} (n {c.n})")
        ax.fill_between(xs, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
    ax.set_xlim(0, min(horizon, 15.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("years")
    ax.set_ylabel(ENDPOINT_TITLES[r.endpoint].lower())
    ax.set_title(r.title, fontsize=10)
    if shown:
        ax.legend(loc="lower left", fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no group large enough to show", ha="center", transform=ax.transAxes)
    ax.grid(alpha=0.3)
    # numbers at risk, under the axis
    y = 0.02 + 0.035 * len(r.curves)
    fig.text(0.01, y + 0.035, "at risk", fontsize=8, weight="bold")
    for years in HORIZONS:
        fig.text(0.1 + 0.86 * years / min(horizon, 15.0) - 0.01, y + 0.035, f"{years} y",
                 fontsize=8)
    for c in r.curves:
        fig.text(0.01, y, c.group[:14], fontsize=8)
        for at in c.horizons:
            fig.text(0.1 + 0.86 * at.years / min(horizon, 15.0) - 0.01, y,
                     cells.text(f"at_risk:{c.group}:{at.years}"), fontsize=8)
        y -= 0.035
    if r.note:
        fig.text(0.1, 0.965, r.note, fontsize=8, style="italic")
    buf = io.BytesIO()
    meta: dict[str, Any] = (
        {"Date": None, "Creator": "pecoma", "Title": r.title} if fmt == "svg"
        else {"Software": "pecoma", "Title": r.title}
    )
    fig.savefig(buf, format=fmt, metadata=meta, dpi=110)
    return buf.getvalue()
