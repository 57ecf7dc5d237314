"""Surveillance plans as tables: plain rows (for HTML and PDF), Rich (terminal), Markdown.

``plan_rows`` is the one place that decides what a row of the plan shows; the Rich table,
the Markdown table and the web report all read it, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pecoma.engine.imaging import Modality
from pecoma.engine.model import Item
from pecoma.engine.plan import Phase, SurveillancePlan, Visit
from pecoma.render.layout import Block, TableOrBlocks, blocks
from pecoma.render.text import interpretations_table

__all__ = [
    "COLUMNS",
    "MODALITY_LABELS",
    "STATUS_COLOURS",
    "STATUS_LABELS",
    "counted_from_note",
    "counted_from_words",
    "markdown_plan",
    "owed_note",
    "plan_rows",
    "plan_table",
    "plan_visits",
    "print_plan",
    "rich_plan",
]

COLUMNS = ("#", "Phase", "Due", "Overdue after", "Imaging", "Status", "Notes", "Source")
_ONE_LINE = ("#", "Due", "Overdue after")

# The colour of each visit status in the timeline pictures (web SVG, command-line SVG/PNG).
STATUS_COLOURS = {
    "done": "#2e7d32",
    "missed": "#b71c1c",
    "overdue": "#e53935",
    "due": "#f9a825",
    "upcoming": "#90a4ae",
    "cancelled": "#d7dbdd",
}

STATUS_LABELS = {
    "done": "done",
    "missed": "missed",
    "overdue": "OVERDUE",
    "due": "due now",
    "upcoming": "upcoming",
    "cancelled": "cancelled",
}
STATUS_STYLES = {
    "done": "green",
    "missed": "red",
    "overdue": "bold red",
    "due": "bold yellow",
    "upcoming": "",
    "cancelled": "dim",
}
MODALITY_LABELS = {
    Modality.chest_ct: "chest CT",
    Modality.mri_primary: "MRI primary site",
    Modality.chest_xray: "chest X-ray",
    Modality.ct_primary: "CT primary site",
    Modality.pet_ct: "PET-CT",
    Modality.ultrasound: "ultrasound",
    Modality.other: "other imaging",
}
_PLAN_STATUS = {
    "active": "active",
    "suspended": "SUSPENDED",
    "not_drawn": "no dated plan",
}


def _imaging(v: Visit) -> str:
    parts = []
    for p in v.imaging:
        label = MODALITY_LABELS[p.modality]
        if v.status == "done":
            label += f" ✓ {p.done_on.isoformat()}" if p.done_on else " ✗ not recorded"
        parts.append(label)
    # at a joined visit, an examination done since the visit that lacked the owed one
    # and not due again counts as done (Visit.due_again)
    counted = [e for e, _ in v.done_within]
    parts += [f"{MODALITY_LABELS[e.modality]} ✓ {e.date.isoformat()}" for e in counted]
    extra = [e for e in v.scans
             if e.modality not in {p.modality for p in v.imaging} and e not in counted]
    # at a visit not done, such a scan stood for none of its examinations
    aside = "" if v.status == "done" else " (not a planned examination)"
    parts += [f"{MODALITY_LABELS[e.modality]} {e.date.isoformat()}{aside}" for e in extra]
    return " · ".join(parts)


def _status(v: Visit) -> str:
    text = STATUS_LABELS[v.status]
    if v.status == "done" and v.done_on is not None:
        text += f" {v.done_on.isoformat()}"
        late = v.late_imaging
        if late:
            text += " (late: " + ", ".join(MODALITY_LABELS[p.modality] for p in late) \
                + f" after {v.latest.isoformat()})"
        elif v.timeliness == "late":
            text += " (late)"
        elif v.timeliness == "early":
            text += " (early)"
    return text


def _notes(plan: SurveillancePlan, v: Visit, phases: Mapping[str, Phase]) -> str:
    notes = [f.title for f in v.flags]
    findings = sorted({e.finding.value.replace("_", " ") for e in v.scans})
    if findings:
        notes.insert(0, "finding: " + ", ".join(findings))
    owed = owed_note(plan, v)
    if owed:
        notes.append(owed)
    if v.reanchored and v.open:
        notes.append(counted_from_note(plan, v))
    earlier = phases.get(v.interval_from) if v.interval_from is not None else None
    if earlier is not None:
        # dated with the rhythm in force when it was counted (never later), it falls in
        # the next phase, whose rhythm the following visits keep
        ended = f", which ended {earlier.ends.isoformat()}" if earlier.ends else ""
        notes.append(f"due {earlier.interval_months} months on, the interval of the "
                     f"earlier phase ({earlier.title}{ended}) in force when counted; "
                     "the next visits follow this phase's")
    return "; ".join(notes)


def plan_rows(plan: SurveillancePlan) -> list[dict[str, str]]:
    """One plain row per visit, keyed by :data:`COLUMNS`, plus ``status`` (the visit's
    status value, for styling a row in HTML)."""
    phases = {p.id: p for p in plan.phases}
    return [
        {
            "#": str(v.index),
            "Phase": phases[v.phase].title if v.phase in phases else v.phase,
            "Due": v.due.isoformat(),
            "Overdue after": v.latest.isoformat(),
            "Imaging": _imaging(v),
            "Status": _status(v),
            "Notes": _notes(plan, v, phases),
            "Source": v.provenance.label,
            "status": v.status,
        }
        for v in plan.visits
    ]


def counted_from_note(plan: SurveillancePlan, v: Visit) -> str:
    """What visit ``v`` is counted from, the date and what it is, worded alike in every
    output (the tables' Notes, the calendar's events): the plan's anchor (the end of
    treatment, the date free of disease again, the surgery while the end of adjuvant
    treatment is not recorded), the evaluation date when no scan history was given (I13:
    no scan was done that day, and the note must not read as if one were), or the last
    scan of the planned examination done longest ago, which the next visit counts from
    (at the last visit done, or an earlier one when that visit lacked it)."""
    if not v.reanchored:
        basis = plan.anchor_words
    elif plan.history_missing and v.counted_from == plan.evaluated_on:
        basis = "the evaluation date: no scan history was given"
    else:
        basis = "the last scan of the examination done longest ago"
    return f"counted from {v.counted_from.isoformat()}, {basis}"


def owed_note(plan: SurveillancePlan, v: Visit) -> str:
    """For the visit of an examination still owed (``Visit.owed_since``), worded alike in
    every output: what is owed, the first visit that lacked it, the date it was last done
    (or the anchor when never done) and its own window, which dates the visit, so that a
    window sharing or before an earlier visit's reads as that examination's, not as a
    second routine visit; and, when the routine visit is joined to it
    (``Visit.joined_routine``), that routine visit's own window. Empty for any other
    visit."""
    if v.owed_since is None:
        return ""
    names = " and ".join(MODALITY_LABELS[m] for m in v.owed)
    if v.reanchored:
        since = f"last done {v.counted_from.isoformat()}"
    else:
        since = f"not done since {v.counted_from.isoformat()}, {plan.anchor_words}"
    window = (f"due {v.due.isoformat()} on its own clock, overdue after "
              f"{v.latest.isoformat()}")
    text = (f"{names} owed since visit #{v.owed_since}, the first visit done without it; {since}; "
            f"{window}")
    if v.joined_routine is None:
        return text + ": this visit is for it alone, not a second routine visit"
    due, latest = v.joined_routine
    others = " and ".join(MODALITY_LABELS[p.modality] for p in v.imaging
                          if p.modality not in v.owed)
    done = "".join(f"; the {MODALITY_LABELS[e.modality]} done {e.date.isoformat()} counts "
                   f"for it (due again {day.isoformat()} on its own clock)"
                   for e, day in v.done_within)
    return (text + f"; joined to the routine visit due {due.isoformat()}, overdue after "
            f"{latest.isoformat()}" + (f", for the {others}" if others else "") + done)


def counted_from_words(plan: SurveillancePlan) -> str:
    """Where the plan counts from, in words: the end of treatment, the date a relapsed
    patient became free of disease again (I8), or the surgery while the end of adjuvant
    treatment is not recorded (I22)."""
    if plan.anchor is None:
        return "the end of treatment (unknown)"
    return f"{plan.anchor_words} ({plan.anchor.isoformat()})"


def _header(plan: SurveillancePlan) -> Text:
    t = Text()
    t.append("pecoma surveillance plan", style="bold")
    if plan.label:
        t.append(f" · {plan.label}")
    t.append(f" · {_PLAN_STATUS[plan.status]}",
             style="bold red" if plan.status != "active" else "bold green")
    t.append(
        f" · risk {plan.risk_group}, {plan.surveillance_group}-risk schedule"
        f" · evaluated {plan.evaluated_on.isoformat()}"
        f" · knowledge {plan.knowledge_version} · settings {plan.settings_digest}",
        style="dim",
    )
    return t


def _visits_title(plan: SurveillancePlan) -> str:
    return f"Visits from {counted_from_words(plan)} to {plan.horizon_end or '—'}"


def plan_table(plan: SurveillancePlan) -> Table:
    """The visits as a Rich table, one row per visit, status coloured."""
    t = Table(title=_visits_title(plan), expand=True, show_lines=False)
    for col in COLUMNS:
        # the number and the dates stay whole on one line; every other cell wraps
        # between words (the header "Overdue after" on two lines, no wider than a date)
        t.add_column(col.replace("Overdue ", "Overdue\n"),
                     style="dim" if col == "Source" else None, no_wrap=col in _ONE_LINE,
                     overflow="ellipsis" if col in _ONE_LINE else "fold")
    nxt = plan.next_visit
    for row, v in zip(plan_rows(plan), plan.visits, strict=True):
        style = "bold" if nxt is not None and v.index == nxt.index else None
        t.add_row(
            *(Text(row[c], style=STATUS_STYLES[v.status]) if c == "Status" else row[c]
              for c in COLUMNS),
            style=style,
        )
    return t


def _visit_blocks(plan: SurveillancePlan) -> list[Block]:
    """A block per visit: its number, window and status on the first line, then its
    phase, imaging, notes and source, each labelled (the next visit's first line bold)."""
    nxt = plan.next_visit
    out: list[Block] = []
    for row, v in zip(plan_rows(plan), plan.visits, strict=True):
        head = Text(f"#{row['#']} due {row['Due']}, overdue after {row['Overdue after']}: ",
                    style="bold" if nxt is not None and v.index == nxt.index else "")
        head.append(row["Status"], style=STATUS_STYLES[v.status])
        out.append((head, [(c, row[c]) for c in ("Phase", "Imaging", "Notes", "Source")]))
    return out


def plan_visits(plan: SurveillancePlan) -> TableOrBlocks:
    """The visits for the terminal: :func:`plan_table` where each of its words fits whole,
    else a block per visit (a date, a status or a source is never broken)."""
    return TableOrBlocks(plan_table(plan), blocks(_visits_title(plan), _visit_blocks(plan)))


def _schedule(plan: SurveillancePlan) -> TableOrBlocks:
    """The phases of the schedule: a table where each of its words fits whole, else a
    block per phase."""
    t = Table(title="Schedule", expand=True)
    for col in ("Phase", "From", "Until", "Every", "Overdue after", "Source"):
        t.add_column(col, style="dim" if col == "Source" else None, overflow="fold")
    rows: list[Block] = []
    for p in plan.phases:
        until = p.ends.isoformat() if p.ends else "no end"
        t.add_row(p.title, p.starts.isoformat(), until, f"{p.interval_months} months",
                  f"{p.overdue_months} months", p.item.provenance.label)
        span = f" until {p.ends.isoformat()}" if p.ends else ", no end"
        rows.append((Text(f"From {p.starts.isoformat()}{span}: every {p.interval_months} "
                          f"months, overdue after {p.overdue_months} months"),
                     [("Phase", p.title), ("Source", p.item.provenance.label)]))
    return TableOrBlocks(t, blocks("Schedule", rows))


def _item_lines(item: Item) -> list[RenderableType]:
    style = "magenta" if item.provenance.kind == "supplementary" else "white"
    lines: list[RenderableType] = [
        Text(item.title, style=f"bold {style}"),
        Text(item.text),
    ]
    if item.triggered_by:
        lines.append(Text("Because: ", style="dim").append(
            ", ".join(f"{f.path} = {f.value}" for f in item.triggered_by)))
    if item.conditional_on:
        lines.append(Text("Provisional until supplied: " + ", ".join(item.conditional_on),
                          style="yellow"))
    lines.append(Text(item.provenance.label, style=f"dim {style}"))
    return lines


def rich_plan(plan: SurveillancePlan) -> list[RenderableType]:
    """The plan as Rich renderables, in reading order."""
    out: list[RenderableType] = [_header(plan)]
    reasons: list[RenderableType] = []
    for r in plan.reasons:
        reasons += [*_item_lines(r), Text("")]
    if reasons:
        out.append(Panel(Group(*reasons), title="Why this plan", title_align="left"))
    if plan.missing:
        missing: list[RenderableType] = []
        for m in plan.missing:
            missing += [Text(m.question, style="bold"),
                        Text("Would change: ", style="dim").append(m.would_change),
                        Text("Meanwhile: ", style="dim").append(m.meanwhile),
                        Text(f"{m.id} · {m.provenance.label}", style="dim"), Text("")]
        out.append(Panel(Group(*missing), title="Missing facts", title_align="left",
                         style="yellow"))
    if plan.phases:
        out.append(_schedule(plan))
    nxt = plan.next_visit
    if nxt is not None:
        line = Text("Next visit: ", style="bold")
        line.append(f"#{nxt.index} due {nxt.due.isoformat()}, overdue after "
                    f"{nxt.latest.isoformat()} — ")
        line.append(STATUS_LABELS[nxt.status], style=STATUS_STYLES[nxt.status])
        out.append(line)
    if plan.visits:
        out.append(plan_visits(plan))
    if plan.cancelled:
        out.append(Text(f"{len(plan.cancelled)} later visits are cancelled by the "
                        "suspension (calendar exports mark them cancelled).", style="dim"))
    if plan.flags:
        flags: list[RenderableType] = []
        for f in plan.flags:
            flags += [*_item_lines(f), Text("")]
        out.append(Panel(Group(*flags), title="Flags", title_align="left", style="yellow"))
    if plan.interpretations:
        out.append(interpretations_table(plan.interpretations))
    if plan.settings:
        out.append(Text("Settings used: " + ", ".join(
            f"{f.path.removeprefix('followup.')}={f.value}" for f in plan.settings), style="dim"))
    return out


def print_plan(plan: SurveillancePlan, console: Console) -> None:
    for part in rich_plan(plan):
        console.print(part)


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def markdown_plan(plan: SurveillancePlan) -> str:
    """The plan as Markdown (tumour-board notes, e-mail)."""
    lines = [
        "# pecoma surveillance plan" + (f": {plan.label}" if plan.label else ""),
        "",
        f"Status **{_PLAN_STATUS[plan.status]}** · risk {plan.risk_group}, "
        f"{plan.surveillance_group}-risk schedule · evaluated {plan.evaluated_on.isoformat()}"
        f" · knowledge {plan.knowledge_version} · settings {plan.settings_digest}",
        "",
    ]
    if plan.anchor is not None:
        lines += [f"Counted from {counted_from_words(plan)}.", ""]
    for r in plan.reasons:
        lines += [f"- **{r.title}.** {r.text}  ", f"  Source: {r.provenance.label}"]
    if plan.during_treatment:
        lines += ["", "Scans during treatment (no surveillance visit): " + "; ".join(
            f"{e.date.isoformat()} {e.modality.value.replace('_', ' ')}, "
            f"{e.finding.value.replace('_', ' ')}" for e in plan.during_treatment) + "."]
    if plan.missing:
        lines += ["", "## Missing facts", ""]
        for m in plan.missing:
            lines += [f"- **{_md(m.question)}** Would change: {_md(m.would_change)} "
                      f"Meanwhile: {_md(m.meanwhile)} ({m.id}; {m.provenance.label})"]
        lines.append("")
    nxt = plan.next_visit
    if nxt is not None:
        lines += ["", f"**Next visit:** #{nxt.index} due {nxt.due.isoformat()}, overdue after "
                  f"{nxt.latest.isoformat()} ({STATUS_LABELS[nxt.status]})"]
    if plan.visits:
        lines += ["", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        for row in plan_rows(plan):
            lines.append("| " + " | ".join(_md(row[c]) for c in COLUMNS) + " |")
    if plan.flags:
        lines += ["", "## Flags", ""]
        for f in plan.flags:
            lines.append(f"- **{f.title}.** {f.text} ({f.provenance.label})")
    if plan.interpretations:
        lines += ["", "## Interpretations used", ""]
        for i in plan.interpretations:
            lines.append(f"- **{i.id} {i.title}.** {i.text}")
    lines.append("")
    return "\n".join(lines)
