"""The registry's quality figures as text and JSON: surveillance quality and concordance
(:mod:`pecoma.registry.quality` works them out). Every count goes through its figure's
cells (:mod:`pecoma.registry.suppression`), so the text, the web page, the JSON and the
PDF show the same counts suppressed the same way for a given ``min_cell`` (1: nothing
suppressed)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pecoma.registry.summary import Ratio
from pecoma.registry.suppression import Cells

if TYPE_CHECKING:
    from pecoma.registry.quality import (
        Concordance,
        ConcordanceRow,
        DecisionRow,
        SurveillanceQuality,
    )

__all__ = ["concordance_json", "concordance_lines", "quality_json", "quality_lines"]


def _median(value: float | None, c: Cells, key: str, unit: str) -> str:
    if c.counts[key] == 0 or value is None:
        return "n/a (none)"
    if not c.shown(key):
        return f"not shown (n {c.text(key)})"
    return f"{value:g} {unit} (n {c.counts[key]})"


def quality_lines(q: SurveillanceQuality, min_cell: int) -> list[str]:
    """The surveillance quality figures as lines (the PDF, the web page and the text); a
    median is not shown when its n is suppressed."""
    c = q.cells(min_cell)
    found = ", ".join(f"{k.replace('_', ' ')} {c.text(f'found:{k}')}" for k in
                      q.recurrences_found) or "none recorded"
    return [
        f"Visits whose window has closed: {c.text('windows_closed')}; done inside the "
        f"window {c.ratio_text('on_time', 'windows_closed')}; early {c.text('early')}, "
        f"late {c.text('late')}, missed {c.text('missed')}",
        f"Median delay from the due date to the scan: "
        f"{_median(q.median_delay, c, 'visits_done', 'days')}",
        f"Median lateness past the window: {_median(q.median_lateness, c, 'late', 'days')}",
        f"Recurrences and metastases by how they were found: {found}",
        f"Found at a scheduled scan, of those with the way recorded: "
        f"{c.ratio_text('found:scheduled_scan', 'found_known')}",
    ]


def _median_json(value: float | None, c: Cells, key: str) -> float | str | None:
    return value if c.shown(key) else "suppressed"


def quality_json(q: SurveillanceQuality, min_cell: int) -> dict[str, Any]:
    """The surveillance quality figures for JSON (a suppressed count or median reads
    ``"<min_cell"`` or ``"suppressed"``, a share with a suppressed part ``"suppressed"``)."""
    c = q.cells(min_cell)
    return {
        "evaluated_on": q.on_date.isoformat(),
        "visits_with_window_closed": c.json("windows_closed"),
        "inside_window": _share_json(c, "on_time", "windows_closed"),
        "early": c.json("early"), "late": c.json("late"), "missed": c.json("missed"),
        "visits_done": c.json("visits_done"),
        "median_delay_days": _median_json(q.median_delay, c, "visits_done"),
        "median_days_late": _median_json(q.median_lateness, c, "late"),
        "late_visits": c.json("late"),
        "recurrences_by_how_found": {k: c.json(f"found:{k}") for k in q.recurrences_found},
        "found_at_scheduled_scan": _share_json(c, "found:scheduled_scan", "found_known"),
    }


def concordance_json(concord: Concordance, min_cell: int) -> dict[str, Any]:
    """The concordance for JSON, every count through its row's cells."""
    return {
        "evaluated_on": concord.on_date.isoformat(),
        "sources": list(concord.sources),
        "measures": "per recommendation record and year of first recommendation: "
                    "patients recommended, recorded treatment followed it or not, or "
                    "not recorded",
        "rows": [_row_json(r, r.cells(min_cell)) for r in concord.rows],
        "decisions_measure": "per recommendation record, year of the decision and "
                             "source (board, cds-hooks): current decisions recorded, "
                             "accepted (followed), declined, deferred, and the reasons "
                             "for each decline and deferral",
        "decisions": [_decision_json(d, d.cells(min_cell)) for d in concord.decisions],
    }



def concordance_lines(concord: Concordance, min_cell: int,
                      name: Callable[[str], str] = str) -> list[str]:
    """The concordance as text lines (the text output and the web page), each
    recommendation record as ``name`` says it (the web page: by its title)."""
    out = [f"Concordance as of {concord.on_date.isoformat()} (sources: "
           f"{', '.join(concord.sources)})"]
    for r in concord.rows:
        c = r.cells(min_cell)
        head = f"{name(r.record)} {r.year}: recommended to {c.text('recommended')}"
        if not r.compared:
            out.append(f"{head}; no recorded decision to compare")
            continue
        reasons = "; ".join(f"{k} ({c.text(f'reason:{k}')})" for k, _ in r.reasons)
        out.append(f"{head}; followed {c.text('followed')}, not followed "
                   f"{c.text('not_followed')}, not recorded {c.text('unknown')}; "
                   f"followed {_share_text(c, 'followed', 'recorded')} of those "
                   "recorded" + (f"; reasons: {reasons}" if reasons else ""))
    out.append(f"Decisions recorded as of {concord.on_date.isoformat()} (tumour board and "
               "CDS Hooks answers; current decisions, by year of the decision)")
    if not concord.decisions:
        out.append("no decision recorded yet")
    for d in concord.decisions:
        c = d.cells(min_cell)
        reasons = "; ".join(f"{k} ({c.text(f'reason:{k}')})" for k, _ in d.reasons)
        out.append(f"{name(d.record)} {d.year} {d.source}: decided {c.text('decided')}; "
                   f"accepted {c.text('accepted')}, declined {c.text('declined')}, "
                   f"deferred {c.text('deferred')}; accepted "
                   f"{_share_text(c, 'accepted', 'decided')}"
                   + (f"; reasons: {reasons}" if reasons else ""))
    return out


def _share_text(c: Cells, numerator: str, denominator: str) -> str:
    """"x %", "n/a" (nothing to divide by) or "suppressed"."""
    if not c.shown(numerator, denominator):
        return "suppressed"
    share = c.share(numerator, denominator)
    return "n/a" if share is None else f"{share:.1%}"


def _share_json(c: Cells, numerator: str, denominator: str) -> dict[str, Any] | str:
    if not c.shown(numerator, denominator):
        return "suppressed"
    return Ratio(c.counts[numerator], c.counts[denominator]).to_dict()


def _row_json(r: ConcordanceRow, c: Cells) -> dict[str, Any]:
    return {
        "record": r.record, "year": r.year, "recommended": c.json("recommended"),
        "compared": r.compared,
        "followed": c.json("followed") if r.compared else None,
        "not_followed": c.json("not_followed") if r.compared else None,
        "unknown": c.json("unknown") if r.compared else None,
        "share_followed": _share_json(c, "followed", "recorded") if r.compared else None,
        "reasons": [{"reason": k, "n": c.json(f"reason:{k}")} for k, _ in r.reasons],
    }


def _decision_json(d: DecisionRow, c: Cells) -> dict[str, Any]:
    return {
        "record": d.record, "year": d.year, "source": d.source,
        "decided": c.json("decided"), "accepted": c.json("accepted"),
        "declined": c.json("declined"), "deferred": c.json("deferred"),
        "share_accepted": _share_json(c, "accepted", "decided"),
        "reasons": [{"reason": k, "n": c.json(f"reason:{k}")} for k, _ in d.reasons],
    }
