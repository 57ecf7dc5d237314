"""Terminal and Markdown reports of an assessment, for a clinician reading at a glance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pecoma.engine.model import (
    Assessment,
    Item,
    MissingFact,
    Risk,
    Source,
    UsedInterpretation,
)
from pecoma.render.layout import Block, TableOrBlocks, blocks

__all__ = [
    "SECTION_TITLES",
    "interpretations_table",
    "markdown_report",
    "print_report",
    "provisional_note",
    "provisional_words",
    "rich_report",
    "risk_group_text",
    "section_title",
    "sections_in_decision_order",
    "supplementary_sources",
]

SECTION_TITLES = {
    "risk": "Risk stratification",
    "localized": "Localized disease: surgery",
    "adjuvant": "Adjuvant treatment",
    "advanced": "Advanced disease: systemic treatment",
    "metastatic surgery": "Surgery of metastatic or recurrent disease",
    "sequencing": "Referral, trials and registries",
    "pitfalls": "Diagnostic pitfalls",
    "behaviour": "Biological behaviour",
    "follow-up": "Surveillance",
}

#: The surgery section's name where the disease is not localized: S04's referral for
#: surgical planning at a reference centre sits in it for metastatic and recurrent disease
#: too, which "Localized disease" would misname.
_SURGERY_NOT_LOCALIZED = "Surgery"


def section_title(section: str, a: Assessment) -> str:
    """A recommendation section's heading in the report of ``a``: as
    :data:`SECTION_TITLES` names it, the surgery section named for localized disease only
    where the disease (as the advice follows it) is localized."""
    if section == "localized" and a.disease_status != "localized":
        return _SURGERY_NOT_LOCALIZED
    return SECTION_TITLES[section]


#: Why stratification does not apply, by the risk record that says so (its text, in the
#: risk panel, explains it the same way).
_NOT_APPLICABLE_BECAUSE = {
    "RISK-NOT-APPLICABLE": "recurrent or metastatic disease",
    "RISK-NOT-APPLICABLE-UNRESECTABLE": "unresectable locally advanced disease",
}


def risk_group_text(risk: Risk) -> str:
    """The risk group as every report, the PDF and the CDS card word it: "high", "low",
    "indeterminate", or "not applicable: " and why (recurrent or metastatic disease, or
    unresectable locally advanced disease)."""
    if risk.group != "not_applicable":
        return risk.group
    because = _NOT_APPLICABLE_BECAUSE.get(risk.item.id)
    return f"not applicable: {because}" if because else "not applicable"


def sections_in_decision_order(a: Assessment) -> list[str]:
    """The recommendation sections in the order the decision at hand first reaches them
    (the assessment's recommendations are in decision order), then the others."""
    order = list(dict.fromkeys(i.section for i in a.recommendations if i.section in SECTION_TITLES))
    return order + [s for s in SECTION_TITLES if s not in order]

_RISK_STYLE = {
    "high": "bold red",
    "indeterminate": "bold yellow",
    "low": "bold green",
    "not_applicable": "bold",
}
_STATE_STYLE = {"present": "red", "absent": "green", "unknown": "yellow"}
_LEVEL_STYLE = {"critical": "bold red", "warning": "yellow", "info": "cyan"}


def _facts(item: Item) -> str:
    return ", ".join(f"{f.path} = {f.value}" for f in item.triggered_by)


def provisional_note(item: Item, questions: Mapping[str, str] | None = None) -> str | None:
    """What an item waits on, worded alike in every report: "Provisional until supplied:"
    and the missing facts, for a recommendation, an alert, a surveillance item or a
    classification (the ICD-O-3 code while the PEComa diagnosis is unconfirmed, I11);
    None when it waits on nothing. With ``questions``: see :func:`provisional_words`."""
    return provisional_words(item.conditional_on, questions)


def provisional_words(missing: Sequence[str],
                      questions: Mapping[str, str] | None = None) -> str | None:
    """"Provisional until supplied:" and the missing facts ``missing`` (their ids), None
    when there are none. With ``questions`` (missing fact id -> its question), each is
    followed by its question, for an output read without the report's list of missing
    facts beside it (the FHIR CarePlan)."""
    if not missing:
        return None
    asked = questions or {}
    return "Provisional until supplied: " + ", ".join(
        f"{m} ({asked[m]})" if m in asked else m for m in missing)


def supplementary_sources(a: Assessment) -> tuple[Source, ...]:
    """The published references of the supplementary knowledge an assessment shows (its
    items and its missing facts), each once, in reading order: every report names each in
    full where its items name it short ("Wagner et al. 2021 (AMPECT)")."""
    sources = {s.id: s for p in (*(i.provenance for i in a.items()),
                                 *(m.provenance for m in a.missing))
               for s in p.sources}
    return tuple(sources.values())


def _item_block(item: Item) -> RenderableType:
    style = "magenta" if item.provenance.kind == "supplementary" else "white"
    head = Text()
    if item.level:
        head.append(f"[{item.level.upper()}] ", style=_LEVEL_STYLE.get(item.level, ""))
    head.append(item.title, style=f"bold {style}")
    head.append(f"  ({item.strength})", style="dim")
    body = Text(item.text)
    why = Text("Why: ", style="dim").append(item.rationale)
    lines: list[RenderableType] = [head, body, why]
    if item.triggered_by:
        lines.append(Text("Because: ", style="dim").append(_facts(item)))
    note = provisional_note(item)
    if note:
        lines.append(Text(note, style="yellow"))
    lines.append(Text(item.provenance.label, style=f"dim {style}"))
    return Group(*lines, Text(""))


def _section(title: str, items: Iterable[Item]) -> Panel | None:
    blocks = [_item_block(i) for i in items]
    if not blocks:
        return None
    return Panel(Group(*blocks), title=title, title_align="left")


def rich_report(a: Assessment) -> list[RenderableType]:
    """The report as Rich renderables, in reading order."""
    out: list[RenderableType] = []
    header = Text()
    header.append("pecoma assessment", style="bold")
    if a.label:
        header.append(f" · {a.label}")
    header.append(
        f" · evaluated {a.evaluated_on.isoformat()} · disease {a.disease_status}"
        f" · knowledge {a.knowledge_version} · engine {a.engine_version}"
        f" · settings {a.settings_digest}",
        style="dim",
    )
    out.append(header)
    out.append(Panel(Text(a.intended_use, style="italic"), title="Intended use", style="cyan"))

    risk = Table(title=None, show_header=True, expand=True)
    risk.add_column("High-risk feature", overflow="fold")
    risk.add_column("State", overflow="fold")
    risk.add_column("Value", overflow="fold")
    risk.add_column("Source", style="dim", overflow="fold")
    features: list[Block] = []
    for f in a.risk.features:
        state = Text(f.state, style=_STATE_STYLE[f.state])
        risk.add_row(f.title, state, f.value, f.provenance.label)
        features.append((Text(f"{f.title}: ").append(state),
                         [("Value", f.value), ("Source", f.provenance.label)]))
    group = Text("Risk: ").append(
        risk_group_text(a.risk).upper(), style=_RISK_STYLE[a.risk.group]
    )
    cls_title = "Supplementary classifications (not from the guideline)"
    cls = Table(show_header=True, expand=True, title=cls_title)
    cls.add_column("System", overflow="fold")
    cls.add_column("Category", overflow="fold")
    cls.add_column("Source", style="dim magenta", overflow="fold")
    systems: list[Block] = []
    for c in a.classifications:
        category = Text(c.category)
        note = provisional_note(c.item)
        if note:
            category.append(f"\n{note}", style="yellow")
        cls.add_row(c.title, category, c.item.provenance.label)
        systems.append((Text(c.title, style="bold"), [
            ("Category", c.category), ("", Text(note or "", style="yellow")),
            ("Source", Text(c.item.provenance.label, style="magenta"))]))
    # the risk group is an item like any other: its text, why, facts, what it waits on
    # and its statements and interpretations, formatted as every other item is
    out.append(Panel(Group(group, _item_block(a.risk.item),
                           TableOrBlocks(risk, blocks(None, features)),
                           TableOrBlocks(cls, blocks(cls_title, systems))),
                     title="Risk", title_align="left"))

    if a.alerts:
        panel = _section("Alerts", a.alerts)
        if panel:
            out.append(panel)
    for section in sections_in_decision_order(a):
        panel = _section(
            section_title(section, a), [i for i in a.recommendations if i.section == section]
        )
        if panel:
            out.append(panel)
    panel = _section("Surveillance", a.followup)
    if panel:
        out.append(panel)
    if a.missing:
        out.append(_missing_table(a.missing))
    if a.interpretations:
        out.append(interpretations_table(a.interpretations))
    sources = supplementary_sources(a)
    if sources:
        # the items name each reference short: here in full, as every other report does
        title = "Supplementary references (published, not from the guideline)"
        t = Table(show_header=True, expand=True, title=title)
        t.add_column("Cited as", style="magenta", overflow="fold")
        t.add_column("Reference", overflow="fold")
        for s in sources:
            t.add_row(s.short, s.citation)
        out.append(TableOrBlocks(t, blocks(title, [
            (Text(s.short, style="magenta"), [("", s.citation)]) for s in sources])))
    return out


def interpretations_table(interpretations: Iterable[UsedInterpretation]) -> TableOrBlocks:
    """The project's interpretations an output used: a table of id and text where each of
    its words fits whole, else a block per interpretation."""
    title = "Interpretations used (project defaults)"
    t = Table(show_header=False, expand=True, title=title)
    t.add_column("id", style="bold", overflow="fold")
    t.add_column("text", overflow="fold")
    rows: list[Block] = []
    for i in interpretations:
        t.add_row(i.id, f"{i.title}: {i.text}")
        rows.append((Text(f"{i.id} {i.title}", style="bold"), [("", i.text)]))
    return TableOrBlocks(t, blocks(title, rows))


def _missing_table(missing: Iterable[MissingFact]) -> TableOrBlocks:
    """The missing facts: a table where each of its words fits whole, else a block per
    fact (its field path first, then what is asked, what it would change, what is done
    meanwhile and its source)."""
    title = "Missing facts: what each would change"
    t = Table(title=title, expand=True, show_lines=True)
    t.add_column("Fact", style="bold yellow", overflow="fold")
    t.add_column("Question", overflow="fold")
    t.add_column("Would change", overflow="fold")
    t.add_column("Meanwhile", overflow="fold")
    t.add_column("Source", style="dim", overflow="fold")
    rows: list[Block] = []
    for m in missing:
        t.add_row(m.field, m.question, m.would_change, m.meanwhile, m.provenance.label)
        rows.append((Text(m.field, style="bold yellow"), [
            ("Question", m.question), ("Would change", m.would_change),
            ("Meanwhile", m.meanwhile), ("Source", m.provenance.label)]))
    return TableOrBlocks(t, blocks(title, rows))


def print_report(a: Assessment, console: Console) -> None:
    for part in rich_report(a):
        console.print(part)


def _md_item(item: Item) -> list[str]:
    level = f"**{item.level.upper()}** " if item.level else ""
    lines = [f"- {level}**{item.title}** _({item.strength})_  ", f"  {item.text}  "]
    lines.append(f"  Why: {item.rationale}  ")
    if item.triggered_by:
        lines.append(f"  Because: {_facts(item)}  ")
    note = provisional_note(item)
    if note:
        lines.append(f"  {note}  ")
    lines.append(f"  Source: {item.provenance.label}")
    return lines


def markdown_report(a: Assessment, caveat: str | None = None) -> str:
    """The report as Markdown (for tumour-board notes and e-mail). ``caveat``: what the
    reader must know before reading any of it (the case was assessed as if a draft order
    were given), quoted under the title."""
    lines = [
        "# pecoma assessment" + (f": {a.label}" if a.label else ""),
        "",
        *([f"> {caveat}", ""] if caveat else []),
        f"Evaluated {a.evaluated_on.isoformat()} · disease {a.disease_status} · "
        f"knowledge {a.knowledge_version} · engine {a.engine_version} · "
        f"settings {a.settings_digest}",
        "",
        f"> **Intended use.** {a.intended_use}",
        "",
        f"## Risk: {risk_group_text(a.risk)}",
        "",
        *_md_item(a.risk.item),
        "",
        "| High-risk feature | State | Value | Source |",
        "|---|---|---|---|",
    ]
    for f in a.risk.features:
        lines.append(f"| {f.title} | {f.state} | {f.value} | {f.provenance.label} |")
    lines += ["", "### Supplementary classifications (not from the guideline)", ""]
    for c in a.classifications:
        note = provisional_note(c.item)
        lines.append(f"- **{c.title}**: {c.category} ({c.item.provenance.label})"
                     + (f"  \n  {note}" if note else ""))
    if a.alerts:
        lines += ["", "## Alerts", ""]
        for i in a.alerts:
            lines += _md_item(i)
    for section in sections_in_decision_order(a):
        items = [i for i in a.recommendations if i.section == section]
        if items:
            lines += ["", f"## {section_title(section, a)}", ""]
            for i in items:
                lines += _md_item(i)
    if a.followup:
        lines += ["", "## Surveillance", ""]
        for i in a.followup:
            lines += _md_item(i)
    if a.missing:
        lines += [
            "",
            "## Missing facts",
            "",
            "| Fact | Question | Would change | Meanwhile | Source |",
            "|---|---|---|---|---|",
        ]
        for m in a.missing:
            lines.append(
                f"| {m.field} | {m.question} | {m.would_change} | {m.meanwhile} | "
                f"{m.provenance.label} |"
            )
    if a.interpretations:
        lines += ["", "## Interpretations used", ""]
        for interp in a.interpretations:
            lines.append(f"- **{interp.id} {interp.title}.** {interp.text}")
    sources = supplementary_sources(a)
    if sources:
        lines += ["", "## Supplementary references", ""]
        for s in sources:
            lines.append(f"- {s.citation}")
    lines.append("")
    return "\n".join(lines)
