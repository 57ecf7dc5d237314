"""The surveillance timeline of the web report and its PDF, as SVG written directly.

The same picture as ``pecoma.render.timeline`` (phases, visit windows coloured by status,
the scans done by finding, the start and the evaluation date), drawn without Matplotlib:
a report is answered in milliseconds, where a Matplotlib figure takes a few hundred. The
command line's SVG and PNG pictures stay with ``pecoma.render.timeline``.

The picture is 1000 units wide and scales to its box. In the PDF it spans the A4 text
column (about 186 mm), so a unit prints as 0.186 mm: the smallest type (13 units) prints
at about 6.9 pt, the labels (15 units) at about 7.9 pt. Text stays text; the output is
deterministic (the same plan gives the same bytes).
"""

from __future__ import annotations

import datetime as dt
from html import escape

from pecoma.engine.imaging import ScanFinding
from pecoma.engine.plan import SurveillancePlan
from pecoma.render.schedule import STATUS_COLOURS, STATUS_LABELS

__all__ = ["timeline_web_svg"]

W = 1000
LEFT, RIGHT = 118, 988
Y_PHASE, Y_VISIT, Y_SCAN, Y_AXIS = 62, 112, 152, 178
SMALL, LABEL, TITLE = 13, 15, 16
_PHASE_COLOURS = {"intensive": "#fde0dc", "frequent": "#fde0dc", "middle": "#fff3e0",
                  "yearly": "#e8f5e9"}
_FINDINGS: dict[ScanFinding, tuple[str, str, str]] = {
    ScanFinding.no_evidence_of_disease: ("circle", "#2e7d32", "no evidence of disease"),
    ScanFinding.equivocal: ("triangle", "#f9a825", "equivocal"),
    ScanFinding.local_recurrence: ("diamond", "#b71c1c", "local recurrence"),
    ScanFinding.metastasis: ("diamond", "#b71c1c", "metastasis"),
    ScanFinding.not_recorded: ("square", "#757575", "finding not recorded"),
}


def _t(x: float, y: float, text: str, size: int = SMALL, anchor: str = "start",
       fill: str = "#212121", weight: str = "normal") -> str:
    bold = ' font-weight="bold"' if weight == "bold" else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{bold}>{escape(text)}</text>')


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    r = 6.0
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{colour}" stroke="#212121"/>'
    if shape == "square":
        return (f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" '
                f'fill="{colour}" stroke="#212121"/>')
    if shape == "triangle":
        points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r:.1f} {x - r:.1f},{y + r:.1f}"
    else:  # diamond
        points = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
    return f'<polygon points="{points}" fill="{colour}" stroke="#212121"/>'


def _anchor_words(plan: SurveillancePlan) -> str:
    if plan.anchor_basis == "free_of_disease":
        return "free of disease again"
    if plan.anchor_basis == "surgery":
        return "surgery (end of treatment not recorded)"
    return "end of treatment"


def _subtitle(plan: SurveillancePlan) -> str:
    parts = [f"risk {plan.risk_group.replace('_', ' ')} → {plan.surveillance_group}-risk "
             "schedule"]
    if plan.anchor:
        parts.append(f"{_anchor_words(plan)} {plan.anchor.isoformat()}")
    nxt = plan.next_visit
    if plan.status == "suspended":
        parts.append("SUSPENDED: a scan found disease")
    elif nxt is not None:
        parts.append(f"next visit #{nxt.index} due {nxt.due.isoformat()}")
    parts.append(f"as of {plan.evaluated_on.isoformat()}")
    return " · ".join(parts)


def _fit(text: str, width: float, size: int = SMALL) -> str:
    """``text`` cut to what fits ``width`` units (an average glyph is ~0.56 em)."""
    room = int(width / (size * 0.56))
    if len(text) <= room:
        return text
    return text[: max(0, room - 1)].rstrip() + "…" if room > 3 else ""


def _not_drawn(plan: SurveillancePlan) -> str:
    lines = ["No dated surveillance plan can be drawn."]
    lines += [r.title for r in plan.reasons]
    height = 40 + 22 * len(lines)
    body = [_t(10, 24, "Surveillance plan", TITLE, weight="bold")]
    body += [_t(10, 50 + 22 * i, line, LABEL) for i, line in enumerate(lines)]
    return _svg(height, body)


def _svg(height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" '
            f'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">'
            + "".join(body) + "</svg>")


def timeline_web_svg(plan: SurveillancePlan) -> str:
    """The plan's timeline as an SVG document (no XML prolog)."""
    if plan.status == "not_drawn" or plan.anchor is None or plan.horizon_end is None:
        return _not_drawn(plan)
    visits = (*plan.visits, *plan.cancelled)
    last = max([plan.horizon_end, plan.evaluated_on, *(v.latest for v in visits),
                *(e.date for e in plan.imaging)])
    start = min([plan.anchor, *(e.date for e in plan.imaging)])
    d0 = start - dt.timedelta(days=45)
    span = max(1, (last - d0).days + 45)

    def x(day: dt.date) -> float:
        return LEFT + (RIGHT - LEFT) * (day - d0).days / span

    body = [_t(10, 20, "Surveillance plan" + (f" · {plan.label}" if plan.label else ""),
               TITLE, weight="bold"),
            _t(10, 40, _subtitle(plan), SMALL, fill="#424242")]
    for label, y in (("phases", Y_PHASE), ("visit windows", Y_VISIT), ("scans done", Y_SCAN)):
        body.append(_t(LEFT - 8, y + 5, label, LABEL, anchor="end"))
    # year ticks and grid
    for year in range(d0.year + 1, last.year + 2):
        day = dt.date(year, 1, 1)
        if not d0 <= day <= d0 + dt.timedelta(days=span):
            continue
        gx = x(day)
        body.append(f'<line x1="{gx:.1f}" y1="{Y_PHASE - 20}" x2="{gx:.1f}" y2="{Y_AXIS}" '
                    'stroke="#e0e0e0"/>')
        body.append(_t(gx, Y_AXIS + 16, str(year), SMALL, anchor="middle"))
    body.append(f'<line x1="{LEFT}" y1="{Y_AXIS}" x2="{RIGHT}" y2="{Y_AXIS}" stroke="#616161"/>')
    for p in plan.phases:
        if p.starts > last:
            continue
        a, b = x(p.starts), x(min(p.ends or last, last))
        kind = p.id.rsplit("-", 1)[-1]
        body.append(f'<rect x="{a:.1f}" y="{Y_PHASE - 14}" width="{max(b - a, 1):.1f}" '
                    f'height="28" fill="{_PHASE_COLOURS.get(kind, "#e3f2fd")}" '
                    'stroke="#9e9e9e"/>')
        label = _fit(f"{p.title} · every {p.interval_months} mo", b - a - 6)
        if label:
            body.append(_t((a + b) / 2, Y_PHASE + 5, label, SMALL, anchor="middle"))
    for v in visits:
        a = x(v.due)
        width = max(x(v.latest + dt.timedelta(days=1)) - a, 3.0)
        edge = "#bdbdbd" if v.status == "cancelled" else "#424242"
        body.append(f'<rect x="{a:.1f}" y="{Y_VISIT - 9}" width="{width:.1f}" height="18" '
                    f'fill="{STATUS_COLOURS[v.status]}" stroke="{edge}" stroke-width="0.6"/>')
        if v.status == "missed":
            body.append(_t(a + width / 2, Y_VISIT + 5, "×", LABEL, anchor="middle",
                           fill="#ffffff", weight="bold"))
    for e in plan.imaging:
        shape, colour, _ = _FINDINGS[e.finding]
        body.append(_marker(shape, x(e.date), Y_SCAN, colour))
    if not plan.imaging:
        body.append(_t(x(plan.anchor) + 8, Y_SCAN + 5, "no scans recorded", SMALL,
                       fill="#616161"))
    ax, tx = x(plan.anchor), x(plan.evaluated_on)
    body.append(f'<line x1="{ax:.1f}" y1="{Y_PHASE - 20}" x2="{ax:.1f}" y2="{Y_AXIS}" '
                'stroke="#212121" stroke-width="1.5"/>')
    body.append(f'<line x1="{tx:.1f}" y1="{Y_PHASE - 20}" x2="{tx:.1f}" y2="{Y_AXIS}" '
                'stroke="#1565c0" stroke-width="2" stroke-dasharray="6 4"/>')
    today = f"today {plan.evaluated_on.isoformat()}"
    flip = tx > RIGHT - 150
    body.append(_t(tx + (-4 if flip else 4), Y_SCAN + 5 if flip else Y_VISIT + 24, today,
                   SMALL, anchor="end" if flip else "start", fill="#1565c0"))
    # legend: the visit statuses, the findings of the scans shown, today (wraps)
    entries: list[tuple[str, str, str]] = [
        ("box", STATUS_COLOURS[s], STATUS_LABELS[s])
        for s in ("done", "missed", "overdue", "due", "upcoming")
    ]
    if plan.cancelled:
        entries.append(("box", STATUS_COLOURS["cancelled"], "cancelled"))
    seen: set[str] = set()
    for f in ScanFinding:
        shape, colour, label = _FINDINGS[f]
        if label not in seen and any(e.finding is f for e in plan.imaging):
            seen.add(label)
            entries.append((shape, colour, f"scan: {label}"))
    entries.append(("today", "#1565c0", "today"))
    lx, y = 10.0, Y_AXIS + 44
    for shape, colour, label in entries:
        room = 34 + len(label) * SMALL * 0.64
        if lx + room > W:
            lx, y = 10.0, y + 22
        if shape == "box":
            body.append(f'<rect x="{lx:.1f}" y="{y - 11}" width="14" height="12" '
                        f'fill="{colour}" stroke="#424242" stroke-width="0.6"/>')
        elif shape == "today":
            body.append(f'<line x1="{lx:.1f}" y1="{y - 5}" x2="{lx + 14:.1f}" y2="{y - 5}" '
                        'stroke="#1565c0" stroke-width="2" stroke-dasharray="4 3"/>')
        else:
            body.append(_marker(shape, lx + 7, y - 5, colour))
        body.append(_t(lx + 20, y, label, SMALL))
        lx += room
    body.append(_t(ax + 4, Y_AXIS - 4, f"{_anchor_words(plan)} {plan.anchor.isoformat()}",
                   SMALL))
    return _svg(int(y) + 12, body)
