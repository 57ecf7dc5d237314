"""The knowledge base as a listing, to audit it against the guideline's index: JSON data,
terminal tables and Markdown, each holding the same parts.

The parts: the guideline's statements (S01-S28, with the records carrying each), every
record (kind, title, strength, provenance named as every report names an item's:
:attr:`pecoma.engine.model.Provenance.label`), every missing-fact record (what pecoma
asks, what the answer would change, and what it does meanwhile: the safer branch it takes
while the fact is unknown, :func:`missing_listing`), the project's interpretations (I1-I26,
with the records citing each) and the published references of supplementary knowledge
(with the records resting on each). ``pecoma rules``, the web service's ``/api/v1/rules``
and its ``/rules`` page list them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import RenderableType
from rich.markup import escape
from rich.table import Table

from pecoma.engine.collect import provenance_of
from pecoma.knowledge import Knowledge

__all__ = [
    "MISSING_TITLE",
    "NOT_CITED",
    "MissingListing",
    "knowledge_jsonable",
    "knowledge_markdown",
    "knowledge_tables",
    "missing_listing",
]

#: Said of an interpretation no record cites: the engine cites it on an item when it
#: applies it to the patient's facts (a cut-off read by a setting, I24).
NOT_CITED = "no record: cited on an item when applied to its facts"


def knowledge_jsonable(k: Knowledge) -> dict[str, Any]:
    """The knowledge base as JSON data: records, missing-fact records, statements,
    published references and the project's interpretations."""
    return {
        "knowledge_version": k.version,
        "title": k.title,
        "intended_use": k.intended_use,
        "records": [r.model_dump(mode="json") for r in k.records.values()],
        "missing": [m.model_dump(mode="json") for m in k.missing.values()],
        "statements": {s: v.model_dump(mode="json") for s, v in k.statements.items()},
        "references": {s: v.model_dump(mode="json") for s, v in k.references.items()},
        "interpretations": {
            s: v.model_dump(mode="json") for s, v in k.interpretations.items()
        },
    }


@dataclass(frozen=True, slots=True)
class MissingListing:
    """A missing-fact record as the listings show it: the fact (its id and field), the
    question, what the answer would change, what pecoma does meanwhile, and its
    provenance named as every report names it."""

    id: str
    field: str
    question: str
    would_change: str
    meanwhile: str
    provenance: str


def missing_listing(k: Knowledge) -> list[MissingListing]:
    """Every missing-fact record of ``k`` (``k.missing``, the records the JSON listing
    holds), in the knowledge base's order."""
    return [MissingListing(m.id, m.field, " ".join(m.question.split()),
                           " ".join(m.would_change.split()), " ".join(m.meanwhile.split()),
                           provenance_of(k, m.id).label)
            for m in k.missing.values()]


#: The heading of the missing facts' part, in every listing.
MISSING_TITLE = ("Missing facts: what pecoma asks, what the answer would change, and what "
                 "it does meanwhile (the safer branch)")


def _refs(refs: tuple[int, ...]) -> str:
    return ", ".join(f"[{r}]" for r in refs)


def _table(title: str, *columns: tuple[str, int]) -> Table:
    """A table of three or four columns (name, share of the width), its first bold: on
    a terminal of 80 columns each keeps room for words, wrapped between them (a word
    longer than its column, an id, folds; nothing is cut)."""
    table = Table(title=title, expand=True)
    for n, (name, share) in enumerate(columns):
        table.add_column(name, style="bold" if n == 0 else None, ratio=share,
                         overflow="fold")
    return table


def knowledge_tables(k: Knowledge) -> list[RenderableType]:
    """The listing as terminal tables: records, missing facts, statements,
    interpretations, references."""
    t = _table(f"pecoma knowledge {k.version}: {len(k.records)} records",
               ("id", 3), ("title", 3), ("kind, strength", 2), ("provenance", 3))
    for r in k.records.values():
        t.add_row(*map(escape, (r.id, r.title, f"{r.kind}, {r.strength}",
                                provenance_of(k, r.id).label)))
    m = _table(f"{MISSING_TITLE}: {len(k.missing)} records", ("id", 2),
               ("question (field) · would change · meanwhile", 6), ("provenance", 2))
    for row in missing_listing(k):
        m.add_row(escape(row.id),
                  escape(f"{row.question} ({row.field})\nWould change: "
                         f"{row.would_change}\nMeanwhile: {row.meanwhile}"),
                  escape(row.provenance))
    carried = k.statements_carried()
    s = _table("Statements and the records that carry them", ("id", 1),
               ("text", 4), ("section · refs · records", 3))
    for sid, st in k.statements.items():
        records = escape(", ".join(carried[sid])) or "[red]none[/]"
        s.add_row(escape(sid), escape(st.text),
                  f"{escape(st.section)} · {escape(_refs(st.refs))} · {records}")
    cited = k.interpretations_cited()
    i = _table("Interpretations: the project's reading where the guideline is silent or "
               "ambiguous (not the guideline's words)", ("id", 1),
               ("text", 5), ("cited by", 2))
    for iid, it in k.interpretations.items():
        i.add_row(*map(escape, (iid, f"{it.title}: {it.text}",
                                ", ".join(cited[iid]) or NOT_CITED)))
    resting = k.references_cited()
    p = _table("Published references of supplementary knowledge (not from the guideline)",
               ("id", 1), ("citation", 5), ("cited by", 2))
    for rid, ref in k.references.items():
        p.add_row(*map(escape, (rid, f"{ref.short}: {ref.citation}", ", ".join(resting[rid]))))
    return [t, m, s, i, p]


def _cell(text: str) -> str:
    """Text in one Markdown table cell: on one line, a pipe escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def knowledge_markdown(k: Knowledge) -> str:
    """The listing as Markdown: the same parts as :func:`knowledge_tables`, with each
    record's text and rationale."""
    carried = k.statements_carried()
    cited = k.interpretations_cited()
    resting = k.references_cited()
    lines = [f"# pecoma knowledge {k.version}", "", f"{k.title}. {k.intended_use}", "",
             "## Guideline statements", "",
             "| Statement | Section | Text | Refs | Carried by |", "|---|---|---|---|---|"]
    lines += [f"| {sid} | {_cell(st.section)} | {_cell(st.text)} | {_refs(st.refs)} | "
              f"{', '.join(carried[sid]) or '**none**'} |" for sid, st in k.statements.items()]
    lines += ["", f"## Records ({len(k.records)})", "",
              "| Id | Kind | Title and text | Why | Strength | Provenance |",
              "|---|---|---|---|---|---|"]
    lines += [f"| `{r.id}` | {r.kind}{f' ({r.level})' if r.level else ''} | "
              f"**{_cell(r.title)}** {_cell(r.text)} | {_cell(r.rationale)} | "
              f"{_cell(r.strength)} | {_cell(provenance_of(k, r.id).label)} |"
              for r in k.records.values()]
    lines += ["", f"## Missing facts ({len(k.missing)})", "", f"{MISSING_TITLE}.", "",
              "| Id | Field | Question | Would change | Meanwhile | Provenance |",
              "|---|---|---|---|---|---|"]
    lines += [f"| `{row.id}` | `{_cell(row.field)}` | {_cell(row.question)} | "
              f"{_cell(row.would_change)} | {_cell(row.meanwhile)} | "
              f"{_cell(row.provenance)} |" for row in missing_listing(k)]
    lines += ["", "## Interpretations", "",
              "The project's reading where the guideline is silent or ambiguous (not the "
              "guideline's words).", ""]
    for iid, it in k.interpretations.items():
        lines += [f"### {iid} {it.title}", "", " ".join(it.text.split()), "",
                  f"Cited by: {', '.join(cited[iid]) or NOT_CITED}.", ""]
    lines += ["## Published references of supplementary knowledge", "",
              "Knowledge from outside the guideline, kept apart and labelled "
              "\"supplementary (not from the guideline)\".", ""]
    lines += [f"- **{rid}** ({ref.short}): {ref.citation} Cited by: "
              f"{', '.join(resting[rid])}." for rid, ref in k.references.items()]
    return "\n".join(lines) + "\n"
