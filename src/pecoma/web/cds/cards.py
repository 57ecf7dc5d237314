"""CDS Hooks cards: how each is written, and the answer that collects them.

Spec rules kept here: optional fields are omitted (never null or empty); ``summary`` is
under 140 characters; ``indicator`` is info, warning or critical; every card has a
``source`` with label and URL (``source_url`` setting) and names the knowledge version.
The label says what the card's items are, as every rendering of an item says it
(:attr:`~pecoma.engine.model.Provenance.label`): guideline statements with their
references, the project's interpretations by number, supplementary knowledge by its
published references (:func:`source_label`); a card about a supplementary item says so
in its summary too, where a clinician reads first.
Cards may link to the full report (stored in the registry database behind an
unguessable token, under the public ``base_url``) and, with ``smart_links``, to the SMART
launch of pecoma (``/smart/launch``). What each card said is stored, without patient data,
for feedback checks and audit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pecoma.engine.model import Item, MissingFact
from pecoma.fhir import codes as c
from pecoma.fhir.caveats import MEDICATION_DOUBTS
from pecoma.fhir.medications import MEDICATION_TYPES
from pecoma.fhir.read_treatment import NAME_NOT_IDENTIFIED
from pecoma.fhir.reader import BundleCase
from pecoma.knowledge import load_knowledge
from pecoma.store.cds import CardRecord, CdsStore
from pecoma.web.cds.discovery import MEDICATION_KEYS, PREFETCH_MEANING
from pecoma.web.cds.service import CdsService
from pecoma.web.vital_status import vital_status_warning

__all__ = ["NOTES_SHOWN", "NOTE_CHARS", "PROVISIONAL", "SUMMARY_MAX", "SUPPLEMENTARY_TAG",
           "Answer", "Indicator", "listed", "md_drugs_set_aside", "md_item", "md_missing",
           "md_not_found", "md_notes", "md_set_aside", "md_text", "md_unknown",
           "source_label", "tagged", "waits"]

SUMMARY_MAX = 139
NOTES_SHOWN = 12
"""The reader's notes a card shows at most (the rest are counted)."""
NOTE_CHARS = 300
"""A note's characters a card shows at most (it may quote the record)."""
Indicator = Literal["info", "warning", "critical"]


def clean(value: Any) -> Any:
    """Drop None, empty strings, lists and objects (CDS Hooks: omit, never null)."""
    if isinstance(value, dict):
        out = {k: clean(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [clean(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value


#: What the summary of a card about supplementary knowledge ends with, never cut off.
SUPPLEMENTARY_TAG = " (supplementary, not from the guideline)"


#: What a summary says first of advice that waits on a missing fact (:func:`waits`).
PROVISIONAL = "provisional"


def waits(items: Iterable[Item]) -> bool:
    """Whether advice resting on ``items`` waits on a missing fact (one of them is
    conditional on it): the summary saying it then begins with :data:`PROVISIONAL`
    (:func:`tagged`), as its detail says "*Provisional until supplied*"."""
    return any(i.conditional_on for i in items)


def tagged(text: str, tags: Sequence[str]) -> str:
    """``text`` with what qualifies it said first, in brackets ("(provisional) Malignant
    tumour was left behind"): said first, as a summary is cut at its end."""
    return f"({'; '.join(tags)}) {text}" if tags else text


def summary_text(text: str, tail: str = "") -> str:
    """``text`` on one line, cut to fit the summary's length with ``tail`` kept whole after
    it (a summary is cut, its provenance never is)."""
    text, room = " ".join(text.split()), SUMMARY_MAX - len(tail)
    return (text if len(text) <= room else text[: room - 1].rstrip() + "…") + tail


def _ids(letter: str, ids: Iterable[str]) -> str:
    """Statement (``S``) or interpretation (``I``) ids in order, three or more in a row
    as a range ("S05, S18–S20, S26")."""
    numbers = sorted({int(i[1:]) for i in ids})
    width = 2 if letter == "S" else 1
    runs: list[list[int]] = []
    for n in numbers:
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])

    def name(n: int) -> str:
        return f"{letter}{n:0{width}d}"

    return ", ".join(f"{name(r[0])}–{name(r[-1])}" if len(r) > 2 else
                     ", ".join(name(n) for n in r) for r in runs)


def source_label(items: Sequence[Item], version: str) -> str:
    """A card's ``source.label``: what its items are, and the knowledge version. One item,
    or items of one provenance, are named as every rendering names an item
    (:attr:`Provenance.label`: guideline statements and references, the project's
    interpretations by number, supplementary knowledge by its published references).
    Items of several provenances (the summary card) are named together, short: the
    guideline's statements, the interpretations, the supplementary references (each
    item's own source is in the card's detail). A card of no item (a record that cannot
    be read) is the service's: "PEComa guideline"."""
    provenances = list(dict.fromkeys(i.provenance for i in items))
    if not provenances:
        what = "PEComa guideline"
    elif len(provenances) == 1:
        what = provenances[0].label
    else:
        statements = [s for p in provenances for s in p.statements]
        interpretations = [i for p in provenances for i in p.interpretations]
        sources = dict.fromkeys(s.short for p in provenances for s in p.sources)
        parts = ([f"guideline {_ids('S', statements)}"] if statements else []) + (
            [f"interpretation {_ids('I', interpretations)}"] if interpretations else []) + (
            ["supplementary (not from the guideline) · " + "; ".join(sources)]
            if sources else [])
        what = " · ".join(parts)
    return f"pecoma · {what} · knowledge {version}"


def listed(lines: list[str], most: int = 20) -> str:
    """At most ``most`` lines of a list, and how many more there are."""
    more = len(lines) - most
    return "\n".join(lines[:most]) + (f"\n- … and {more} more" if more > 0 else "")


def md_item(item: Item) -> str:
    lines = [f"**{item.title}** — {item.text}", "", f"*Why:* {item.rationale}",
             "", f"*Source:* {item.provenance.label}"]
    if item.conditional_on:
        lines += ["", "*Provisional until supplied* (see the missing facts): "
                  + ", ".join(item.conditional_on)]
    lines += [f"  \n{src.citation}" for src in item.provenance.sources]
    return "\n".join(lines)


def md_missing(missing: Iterable[MissingFact], only: tuple[str, ...] | None = None) -> str:
    chosen = [m for m in missing if only is None or m.id in only]
    if not chosen:
        return ""
    lines = ["", "**Missing facts** (unknown, not absent):"]
    for m in chosen:
        lines.append(f"- `{m.field}`: {m.question} *Would change:* {m.would_change} "
                     f"*Meanwhile:* {m.meanwhile}")
    return "\n".join(lines)


def md_not_found(bc: BundleCase) -> str:
    """The facts the record does not give: not found, found in a value that cannot be
    read, or found and set aside, with why (each said apart: the last two are there to
    correct or confirm, not to add)."""
    out = ""
    if bc.not_found:
        out += ("\n\n**Not found in the record** (treated as unknown): "
                + ", ".join(f"`{p}`" for p in bc.not_found))
    if bc.unreadable:
        out += ("\n\n**Found but not read** (a value pecoma cannot read; treated as "
                "unknown): " + ", ".join(f"`{p}`" for p in bc.unreadable))
    if bc.set_aside:
        out += ("\n\n**Found but set aside** (treated as unknown): "
                + "; ".join(f"`{p}`: {md_text(_cut(why))}" for p, why in bc.set_aside.items()))
    return out


_MARKDOWN = str.maketrans({ch: "\\" + ch for ch in "\\`*_[]<>!|~#"})


def md_text(text: str) -> str:
    """Text that may hold the EHR's own words, as plain Markdown text on one line: no
    emphasis, link, image, HTML or code it could spell."""
    return " ".join(text.split()).translate(_MARKDOWN)


def md_notes(bc: BundleCase) -> str:
    """How the reader read the record where the team should know it (a status read as
    given, an intolerance read as a class contraindication, a provisional diagnosis, …):
    at most :data:`NOTES_SHOWN` of the reader's notes, and how many more there are."""
    if not bc.notes:
        return ""
    return ("\n\n**How the record was read** (readings to check):\n"
            + listed([f"- {md_text(_cut(n))}" for n in bc.notes], NOTES_SHOWN))


def md_set_aside(bc: BundleCase) -> str:
    """The Procedures of the record not read as the resection of the primary, each group
    with why (a biopsy, a resection of another site, one linked to the PEComa whose code
    pecoma does not know): the surgery facts rest on what was read, so the team sees
    what was left aside and can check that none of it removed the tumour."""
    lines = [f"- {md_text(_cut(line.removeprefix('Procedure: ')))}"
             for line in bc.not_read if line.startswith("Procedure: ")]
    if not lines:
        return md_drugs_set_aside(bc)
    return ("\n\n**Procedures not read as the resection of the primary** (check that none "
            "of them removed the tumour):\n" + listed(lines, NOTES_SHOWN)
            + md_drugs_set_aside(bc))


def md_drugs_set_aside(bc: BundleCase) -> str:
    """The medication records read as no line because their names hold words pecoma
    does not identify, nothing marking them as anticancer drugs ("Zortrex 5 mg"): the
    lines already given rest on what was read, so the team sees each such record, by its
    words, and can check that none is an anticancer drug given for the PEComa (a name
    pecoma does not know is not a drug it knows to be no line)."""
    lines = []
    for line in bc.not_read:
        kind, _sep, why = line.partition(": ")
        if kind not in MEDICATION_TYPES or NAME_NOT_IDENTIFIED not in why:
            continue
        # "its name holds 'zortrex', which pecoma does not identify: ... (1: Medication
        # Statement/ms1)": the words and the records, the records never cut off
        words = why.partition(NAME_NOT_IDENTIFIED)[0].removeprefix("its name holds ")
        said = _cut(f"{kind}: its name holds {words.rstrip(', ')}")
        records = why[why.rfind(" ("):].strip() if why.endswith(")") else ""
        lines.append(f"- {md_text(said)} {md_text(records)}".rstrip())
    if not lines:
        return ""
    return ("\n\n**Medication records whose drug pecoma did not identify** (read as no "
            "line of systemic therapy; check that none is an anticancer drug given for the "
            "PEComa, and name it so if it is):\n" + listed(lines, NOTES_SHOWN))


def _cut(text: str) -> str:
    return text if len(text) <= NOTE_CHARS else text[: NOTE_CHARS - 1] + "…"


def md_unknown(unknown: dict[str, str]) -> str:
    """The parts of the record pecoma could not read, each with why (never "none"). The
    reasons may quote the EHR's or the FHIR server's answer (an OperationOutcome's
    severity and code, a ``total``, resource types), so they are escaped here, where every
    card writes them (:func:`md_text`)."""
    if not unknown:
        return ""
    drugs = unknown.keys() & {*MEDICATION_KEYS, "allergies", *MEDICATION_DOUBTS}
    lines = ["", "", "**Parts of the record that could not be read** (unknown, not absent: "
             "the facts they would give are taken as unknown"
             + (", and advice naming a drug is conditional):" if drugs else "):")]
    lines += [f"- {PREFETCH_MEANING.get(k, k)}: {md_text(why)}" for k, why in unknown.items()]
    return "\n".join(lines)


@dataclass
class Answer:
    """The cards of one hook call, stored with their report when the call is answered."""

    svc: CdsService
    service: str
    instance: str
    cards: list[dict[str, Any]] = field(default_factory=list)
    records: list[CardRecord] = field(default_factory=list)
    reports: dict[str, str] = field(default_factory=dict)  # report text -> link token
    #: The record sent holds another patient's data (:meth:`other_patient_card`).
    other_patient: bool = False

    def links(self, report: str | None) -> list[dict[str, Any]]:
        """The card's links: its own report (one token per distinct report) and, when
        set, the SMART launch."""
        out: list[dict[str, Any]] = []
        if self.svc.base_url is None:
            return out  # never a link to an address that is no public one (0.0.0.0)
        if report and self.svc.settings.report_links:
            token = self.reports.get(report) or self.reports.setdefault(
                report, CdsStore.new_token())
            out.append({"label": "Full pecoma report", "type": "absolute",
                        "url": f"{self.svc.base_url}/cds-services/reports/{token}"})
        if self.svc.settings.smart_links:
            out.append({"label": "Open the case in pecoma", "type": "smart",
                        "url": f"{self.svc.base_url}/smart/launch"})
        return out

    def card(
        self, *, summary: str, indicator: Indicator, detail: str, version: str,
        record_ids: tuple[str, ...], topic: Item | None = None,
        links: list[dict[str, Any]] | None = None, suggestions: list[dict[str, Any]] | None = None,
        override_reasons: list[dict[str, str]] | None = None, items: Sequence[Item] = (),
    ) -> dict[str, Any]:
        """A card; ``items``: the knowledge items it shows, whose provenance its source
        label names (by default its ``topic``). A card whose items are all supplementary
        says so at the end of its summary (:data:`SUPPLEMENTARY_TAG`). A card about a
        ``topic`` whose items wait on a missing fact (an alert taking the safer reading of
        a margin not recorded) says first that it is provisional (:func:`waits`), as the
        summary card says of its headline: an EHR shows the summary first, and a finding
        the record does not state must not read as one."""
        card_uuid = str(uuid.uuid4())
        shown = tuple(items) or ((topic,) if topic is not None else ())
        source: dict[str, Any] = {"label": source_label(shown, version),
                                  "url": self.svc.settings.source_url}
        if topic is not None:
            source["topic"] = {"system": c.PECOMA_SYSTEM, "code": topic.id,
                               "display": topic.title}
        outside = bool(shown) and all(i.provenance.kind == "supplementary" for i in shown)
        if topic is not None and waits(shown):
            summary = tagged(summary, [PROVISIONAL])
        text = summary_text(summary, SUPPLEMENTARY_TAG if outside else "")
        card: dict[str, Any] = {
            "uuid": card_uuid, "summary": text, "indicator": indicator,
            "detail": detail + f"\n\n*pecoma knowledge {version}.*",
            "source": source, "links": links or [],
        }
        if suggestions:
            card["suggestions"] = suggestions
            card["selectionBehavior"] = "at-most-one"
        if override_reasons:
            card["overrideReasons"] = override_reasons
        self.records.append(CardRecord(
            uuid=card_uuid, service=self.service, hook_instance=self.instance,
            indicator=indicator, summary=text, record_ids=record_ids,
            knowledge_version=version,
            suggestions=tuple(str(s["uuid"]) for s in suggestions or ()),
            override_reasons=tuple(f"{r['system']}|{r['code']}" for r in override_reasons or ()),
        ))
        cleaned: dict[str, Any] = clean(card)
        self.cards.append(cleaned)
        return cleaned

    def unknown_card(self, unknown: dict[str, str], what: str) -> None:
        """A warning that parts of the record could not be read, and what that leaves open."""
        version = load_knowledge().version
        self.card(summary=f"PEComa check incomplete: {len(unknown)} part(s) of the record "
                  "could not be read",
                  indicator="warning", version=version, record_ids=(),
                  detail=what + md_unknown(unknown))

    def vital_status_card(self, bc: BundleCase) -> bool:
        """The first card when the record says the patient died, or does not say whether
        in a value pecoma can read (the rule of :mod:`pecoma.web.vital_status`, shared
        with the SMART launch page); whether the advice follows it (False after a recorded
        death: nothing else is given but the allergy check of a draft)."""
        said = vital_status_warning(bc, proposes_orders=True, again="reopen the chart")
        if said is None:
            return True
        self.card(summary=md_text(said.summary), indicator="warning",
                  version=load_knowledge().version, record_ids=(), detail=md_text(said.detail))
        return said.advice_follows

    def other_patient_card(self, foreign: list[str], rest: list[str],
                           unknown: dict[str, str]) -> None:
        """A warning that the record sent for this chart holds another patient's data
        (``foreign``: those entries; ``rest``: the record's other problems): nothing is
        assessed, and it is said first, not as one problem among others."""
        version = load_knowledge().version
        detail = ("The record the EHR sent for this chart (context.patientId) holds data of "
                  "another patient. Nothing was assessed and nothing is proposed: advice "
                  "built from it could be another patient's. Check which patient's data the "
                  "EHR sends for this chart before relying on decision support here."
                  "\n\n**Another patient's data:**\n" + listed(foreign))
        if rest:
            detail += "\n\n**Other problems in the record:**\n" + listed(rest)
        self.card(summary="PEComa check not done: the record sent for this chart holds "
                  "another patient's data", indicator="warning", version=version,
                  record_ids=(), detail=detail + md_unknown(unknown))
        self.other_patient = True

    def error_card(self, issues: list[str], count: int, tail: str = "") -> None:
        version = load_knowledge().version
        head = (f"pecoma could not read this patient's record ({count} problem"
                f"{'s' if count != 1 else ''}). Nothing was assessed; correct the record "
                "and reopen the chart.")
        self.card(summary=f"PEComa guideline check not possible: {count} problem(s) in the "
                  "FHIR record", indicator="warning", detail=f"{head}\n\n{listed(issues)}{tail}",
                  version=version, record_ids=())

    def result(self) -> dict[str, Any]:
        return {"cards": self.cards}
