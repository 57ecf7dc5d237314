"""The surveillance plan as a picture: phases, visit windows, scans and today's date.

One horizontal time axis from the end of treatment to the horizon. The top band shows
the phases (with their rhythm), the middle row each visit's window from due date to
latest date coloured by status, the bottom row the scans really done coloured by finding,
and a vertical line marks the evaluation date. A plan that cannot be dated gives a picture
that says why. The output is deterministic: fixed metadata, a fixed SVG hash salt, text
kept as text, and no date other than the plan's own.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from pecoma.engine.imaging import ScanFinding
from pecoma.engine.plan import SurveillancePlan
from pecoma.render.schedule import MODALITY_LABELS, STATUS_COLOURS, STATUS_LABELS

__all__ = ["timeline_figure", "timeline_png", "timeline_svg"]

_FINDING_STYLE: dict[ScanFinding, tuple[str, str, str]] = {
    ScanFinding.no_evidence_of_disease: ("o", "#2e7d32", "no evidence of disease"),
    ScanFinding.equivocal: ("^", "#f9a825", "equivocal"),
    ScanFinding.local_recurrence: ("*", "#b71c1c", "local recurrence"),
    ScanFinding.metastasis: ("*", "#b71c1c", "metastasis"),
    ScanFinding.not_recorded: ("s", "#757575", "finding not recorded"),
}
_PHASE_COLOURS = {"intensive": "#fde0dc", "frequent": "#fde0dc", "middle": "#fff3e0",
                  "yearly": "#e8f5e9"}
_RC: Any = {
    "svg.hashsalt": "pecoma-timeline",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "path.simplify": False,
}
_SVG_META = {"Date": None, "Creator": "pecoma", "Title": "PEComa surveillance plan"}
_PNG_META = {"Software": "pecoma", "Title": "PEComa surveillance plan"}

_Y_PHASE, _Y_VISIT, _Y_SCAN = 2.0, 1.0, 0.0


_EPOCH = dt.date(1970, 1, 1)


def _anchor_label(plan: SurveillancePlan) -> str:
    """What the plan counts from (I8: after a relapse, the date free of disease again)."""
    if plan.anchor_basis == "free_of_disease":
        return "free of disease again"
    if plan.anchor_basis == "surgery":
        return "surgery (end of treatment not recorded)"
    return "end of treatment"


def _num(day: dt.date) -> float:
    """Days since 1970-01-01: Matplotlib's date axis unit, without its converters."""
    return float((day - _EPOCH).days)


def _title(plan: SurveillancePlan) -> str:
    head = "PEComa surveillance plan"
    if plan.label:
        head += f" · {plan.label}"
    return head


def _subtitle(plan: SurveillancePlan) -> str:
    parts = [f"risk {plan.risk_group.replace('_', ' ')} → {plan.surveillance_group}-risk schedule"]
    if plan.anchor:
        parts.append(f"{_anchor_label(plan)} {plan.anchor.isoformat()}")
    nxt = plan.next_visit
    if plan.status == "suspended":
        parts.append("SUSPENDED: a scan found disease")
    elif nxt is not None:
        parts.append(f"next visit #{nxt.index} due {nxt.due.isoformat()} "
                     f"({STATUS_LABELS[nxt.status]})")
    parts.append(f"as of {plan.evaluated_on.isoformat()}")
    return " · ".join(parts)


def _not_drawn(fig: Figure, plan: SurveillancePlan) -> None:
    ax = fig.add_axes((0.02, 0.04, 0.96, 0.8))
    ax.set_axis_off()
    fig.suptitle(_title(plan), x=0.02, ha="left", fontsize=11, fontweight="bold")
    lines = ["No dated surveillance plan can be drawn.", ""]
    for r in plan.reasons:
        lines.append(r.title)
        lines += textwrap.wrap(r.text, 120)
        lines.append(f"Source: {r.provenance.label}")
        lines.append("")
    ax.text(0.0, 1.0, "\n".join(lines), ha="left", va="top", transform=ax.transAxes,
            fontsize=9)


def _footer(plan: SurveillancePlan) -> str:
    lines = [f"{p.title}: every {p.interval_months} months, overdue after "
             f"{p.overdue_months} — {p.item.provenance.label}" for p in plan.phases]
    imaging = {pi.record: pi for v in plan.visits[:1] for pi in v.imaging}
    lines += [f"Imaging {MODALITY_LABELS[pi.modality]}: {pi.provenance.label}"
              for pi in imaging.values()]
    if plan.interpretations:
        lines.append("Interpretations: " + "; ".join(f"{i.id} {i.title}"
                                                       for i in plan.interpretations))
    lines.append(f"knowledge {plan.knowledge_version} · settings {plan.settings_digest} · "
                 f"engine {plan.engine_version}")
    return "\n".join(lines)


def _draw(fig: Figure, plan: SurveillancePlan) -> None:
    assert plan.anchor is not None and plan.horizon_end is not None
    ax = fig.add_axes((0.1, 0.36, 0.88, 0.46))
    fig.suptitle(_title(plan), x=0.02, y=0.97, ha="left", fontsize=11, fontweight="bold")
    fig.text(0.02, 0.89, _subtitle(plan), ha="left", fontsize=8.5)
    visits = (*plan.visits, *plan.cancelled)
    last = max([plan.horizon_end, plan.evaluated_on, *(v.latest for v in visits),
                *(e.date for e in plan.imaging)])
    start = min([plan.anchor, *(e.date for e in plan.imaging)])
    x0 = _num(start) - 45
    x1 = _num(last) + 45

    for p in plan.phases:
        ends = p.ends or last
        if p.starts > last:
            continue
        a, b = _num(p.starts), _num(min(ends, last))
        kind = p.id.rsplit("-", 1)[-1]
        ax.broken_barh([(a, b - a)], (_Y_PHASE - 0.32, 0.64),
                       facecolors=_PHASE_COLOURS.get(kind, "#e3f2fd"),
                       edgecolors="#9e9e9e", linewidth=0.5)
        chars = max(14, int((b - a) / (x1 - x0) * 160))
        label = f"every {p.interval_months} mo (overdue >{p.overdue_months})"
        ax.text((a + b) / 2, _Y_PHASE, textwrap.fill(f"{p.title} · {label}", chars),
                ha="center", va="center", fontsize=7, clip_on=True)

    for v in visits:
        a = _num(v.due)
        width = max(_num(v.latest + dt.timedelta(days=1)) - a, 4.0)
        colour = STATUS_COLOURS[v.status]
        ax.broken_barh([(a, width)], (_Y_VISIT - 0.22, 0.44), facecolors=colour,
                       edgecolors="#424242" if v.status != "cancelled" else "#bdbdbd",
                       linewidth=0.4, hatch="///" if v.status == "cancelled" else None)
        if v.status == "missed":
            ax.plot([a + width / 2], [_Y_VISIT], marker="x", color="white", markersize=5,
                    markeredgewidth=1.4)
        if v.done_on is not None:
            ax.plot([_num(v.done_on)], [_Y_VISIT + 0.34], marker="v", color=colour,
                    markersize=4)

    nxt = plan.next_visit
    if nxt is not None:
        ax.annotate(f"next #{nxt.index} · {nxt.due.isoformat()}",
                    xy=(_num(nxt.due), _Y_VISIT - 0.22), xytext=(0, -8),
                    textcoords="offset points", ha="center", va="top", fontsize=7,
                    arrowprops={"arrowstyle": "-", "color": "#424242", "linewidth": 0.6})

    if not plan.imaging:
        ax.text(_num(plan.anchor) + 20, _Y_SCAN, "no scans recorded", fontsize=7,
                color="#757575", va="center")
    for e in plan.imaging:
        marker, colour, _label = _FINDING_STYLE[e.finding]
        ax.plot([_num(e.date)], [_Y_SCAN], marker=marker, color=colour, markersize=7,
                markeredgecolor="#212121", markeredgewidth=0.4, linestyle="none")

    ax.axvline(_num(plan.anchor), color="#212121", linewidth=1.0)
    ax.axvline(_num(plan.evaluated_on), color="#1565c0", linewidth=1.2, linestyle="--")
    ax.text(_num(plan.evaluated_on), 2.55, f" today {plan.evaluated_on.isoformat()}",
            color="#1565c0", fontsize=7, ha="left", va="bottom")
    ax.text(_num(plan.anchor), -0.55, f" {_anchor_label(plan)} {plan.anchor.isoformat()}",
            fontsize=7, ha="left", va="bottom")
    ax.axvline(_num(plan.horizon_end), color="#9e9e9e", linewidth=0.8, linestyle=":")
    ax.text(_num(plan.horizon_end), -0.55, "horizon ", fontsize=7, color="#757575",
            ha="right", va="bottom")

    ax.set_xlim(x0, x1)
    ax.set_ylim(-0.6, 2.8)
    ax.set_yticks([_Y_SCAN, _Y_VISIT, _Y_PHASE], ["scans done", "visit windows", "phases"])
    years = range(_date_of(x0).year + 1, _date_of(x1).year + 1)
    ax.set_xticks([_num(dt.date(y, 1, 1)) for y in years], [str(y) for y in years])
    ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)

    handles: list[Any] = [Patch(facecolor=STATUS_COLOURS[s], edgecolor="#424242",
                                label=STATUS_LABELS[s], linewidth=0.4)
                          for s in ("done", "missed", "overdue", "due", "upcoming")]
    if plan.cancelled:
        handles.append(Patch(facecolor=STATUS_COLOURS["cancelled"], edgecolor="#bdbdbd",
                             hatch="///", label="cancelled", linewidth=0.4))
    seen: set[str] = set()
    for f in ScanFinding:
        marker, colour, label = _FINDING_STYLE[f]
        if label in seen or not any(e.finding is f for e in plan.imaging):
            continue
        seen.add(label)
        handles.append(Line2D([], [], marker=marker, color=colour, linestyle="none",
                              markeredgecolor="#212121", markeredgewidth=0.4,
                              label=f"scan: {label}"))
    handles.append(Line2D([], [], color="#1565c0", linestyle="--", label="today"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=6,
              fontsize=7, frameon=False)
    fig.text(0.02, 0.02, _footer(plan), ha="left", va="bottom", fontsize=6.5,
             color="#424242")


def _date_of(x: float) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(x))


def timeline_figure(plan: SurveillancePlan) -> Figure:
    """The picture as a Matplotlib figure (for embedding in other documents)."""
    with mpl.rc_context(_RC):
        height = 4.6 if plan.status != "not_drawn" else 2.4
        fig = Figure(figsize=(11.0, height), dpi=100)
        if plan.status == "not_drawn" or plan.anchor is None:
            _not_drawn(fig, plan)
        else:
            _draw(fig, plan)
    return fig


def timeline_svg(plan: SurveillancePlan) -> str:
    """The picture as SVG text; the same plan always gives the same bytes."""
    with mpl.rc_context(_RC):
        fig = timeline_figure(plan)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata=_SVG_META)
    return buf.getvalue()


def timeline_png(plan: SurveillancePlan, dpi: int = 150) -> bytes:
    """The picture as PNG bytes."""
    with mpl.rc_context(_RC):
        fig = timeline_figure(plan)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, metadata=_PNG_META)
    return buf.getvalue()
