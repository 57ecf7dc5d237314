"""What an item's words cite is what its provenance cites, and what the report defines.

A report lists the project's interpretations an assessment rests on ("Interpretations
used", built from the provenance of every item and missing fact shown) so that a reader
can look up each I-number the items name. An item whose text named an interpretation its
provenance did not carry sent the reader to a definition the report did not give (I15
and I19 in the published experience after mTOR inhibitors, I9, I10 and I25 in the
question about the regional nodes, I23 beside the guideline's silence after a relapse).
An interpretation the engine cites only where it applies to the patient's facts (a
cut-off read by a setting, I24; the scope of S12 where malignancy is open, I25 on the
first-line alert; a drug not tolerated, I15) is cited on the item then, and its wording
does not name it otherwise.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest

from pecoma import assess, parse_case_json
from pecoma.engine.collect import provenance_of
from pecoma.engine.model import Assessment
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import load_knowledge

from followup_tools import load as load_golden_plan
from followup_tools import plan_of
from scenario_tools import run, scenario_names

K = load_knowledge()
ON = dt.date(2026, 11, 28)
_NAMED = re.compile(r"\bI(\d+)\b")


def _named(*words: str) -> set[str]:
    """The interpretations (I-numbers) ``words`` name."""
    return {f"I{n}" for w in words for n in _NAMED.findall(w)}


def _wordings() -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(record id, its words as shown, the interpretations its provenance carries) of
    every record and missing-fact record."""
    for r in K.records.values():
        yield r.id, " ".join((r.title, r.text, r.rationale, r.strength)), r.interpretations
    for m in K.missing.values():
        yield m.id, " ".join((m.question, m.would_change, m.meanwhile)), m.interpretations


class TestTheWordsCiteWhatTheProvenanceCarries:
    def test_every_interpretation_a_record_names_is_in_its_provenance(self) -> None:
        """Each interpretation a record's title, text, reason or strength, or a missing
        fact's question, what it would change and what is done meanwhile, names by number
        is one its provenance carries, so the report defines it."""
        wrong = {rid: sorted(_named(words) - set(cited))
                 for rid, words, cited in _wordings() if _named(words) - set(cited)}
        assert not wrong, wrong

    def test_a_guideline_record_cites_the_refs_of_its_statements(self) -> None:
        """S03 (complete resection with adequate margins) rests on refs [1] and [2]: the
        question whether the tumour an R2 resection left can be removed, resting on S03
        and S27, was labelled "ref [1], [4]". A guideline record cites every reference of
        the statements it carries, and no other."""
        wrong = {}
        for r in (*K.records.values(), *K.missing.values()):
            if r.provenance != "guideline":
                continue
            refs = {n for s in r.statements for n in K.statements[s].refs}
            if set(r.refs) != refs:
                wrong[r.id] = (sorted(r.refs), sorted(refs))
        assert not wrong, wrong
        label = provenance_of(K, "MISS-RESIDUAL-RESECTABLE").label
        assert label.startswith("guideline S03, S27 · ref [1], [2], [4]")

    def test_no_word_is_doubled(self) -> None:
        """The question whether the primary can be removed read "neither neither
        resection nor the postoperative consideration": no wording repeats a word."""
        doubled = {rid: m.group(0) for rid, words, _ in _wordings()
                   if (m := re.search(r"\b(\w+)\s+\1\b", words, re.IGNORECASE))}
        assert not doubled, doubled
        assert "neither resection nor" in K.missing["MISS-PRIMARY-RESECTABLE"].would_change


def _shown(a: Assessment) -> Iterator[tuple[str, str]]:
    """(id, words) of every item and missing fact an assessment shows."""
    for i in a.items():
        yield i.id, " ".join((i.title, i.text, i.rationale, i.strength))
    for m in a.missing:
        yield m.id, " ".join((m.question, m.would_change, m.meanwhile))


class TestTheReportDefinesWhatItsItemsCite:
    @pytest.mark.parametrize("name", scenario_names())
    def test_every_interpretation_named_is_listed(self, name: str) -> None:
        """Every scenario: each interpretation an item or a missing fact shown names is
        in the assessment's list of interpretations used, which every report prints."""
        a = run(name)
        used = {i.id for i in a.interpretations}
        missing = {rid: sorted(_named(words) - used)
                   for rid, words in _shown(a) if _named(words) - used}
        assert not missing, missing

    def test_the_nodes_question_brings_its_interpretations(self) -> None:
        """High risk, regional nodes not recorded: MISS-NODES says what positive nodes
        would change and what is done meanwhile, the high-risk schedule (I10) and the
        tumour taken as possibly malignant (I9, I25): all three are defined in the report
        and its provenance says so."""
        a = run("nodes-unknown")
        (nodes,) = [m for m in a.missing if m.id == "MISS-NODES"]
        assert {"I9", "I10", "I25"} <= set(nodes.provenance.interpretations)
        assert nodes.provenance.label == "guideline S11 · ref [3] · interpretation I9, I10, I25"
        assert {"I9", "I10", "I25"} <= {i.id for i in a.interpretations}

    def test_the_silence_after_a_relapse_cites_s10_and_i23(self) -> None:
        """Free of disease after a metastasectomy: the guideline names no adjuvant
        treatment after a relapse (I8), and the item says that its radiotherapy
        consideration of a high-risk site (S10) is shown beside it after a local
        recurrence removed there (I23): it rests on both, and cites both."""
        a = run("relapse-free-after-metastasectomy")
        (item,) = [r for r in a.recommendations if r.id == "REC-NO-ADJUVANT-AFTER-RELAPSE"]
        assert "S10" in item.provenance.statements
        assert {"I8", "I23"} <= set(item.provenance.interpretations)
        assert {"I8", "I23"} <= {i.id for i in a.interpretations}


class TestAReasonForEitherScheduleCitesThePlansOwn:
    """"Scan history not given" and "No dated plan" are said of both schedules and cited
    S18 (the high-risk schedule) beside S23 (less intensive monitoring at low risk) on
    every plan: a high-risk plan's reason cited the low-risk statement, a low-risk plan's
    the high-risk one. Each cites the statement of its plan's schedule (and S26: long-term
    follow-up for every patient)."""

    def test_no_scan_history_on_a_high_risk_plan(self) -> None:
        plan = plan_of("scan-history-missing-2019")
        assert plan.surveillance_group == "high"
        (reason,) = [r for r in plan.reasons if r.id == "FU-SCAN-HISTORY-MISSING"]
        assert reason.provenance.statements == ("S18", "S26")
        assert reason.provenance.label == (
            "guideline S18, S26 · ref [1], [4], [2] · interpretation I13")

    def test_no_anchor_on_a_high_risk_plan(self) -> None:
        plan = plan_of("no-anchor-date-missing")
        assert plan.surveillance_group == "high"
        (reason,) = [r for r in plan.reasons if r.id == "FU-NO-ANCHOR"]
        assert reason.provenance.statements == ("S18", "S26")

    @pytest.mark.parametrize(("record", "surgery"), [
        ("FU-SCAN-HISTORY-MISSING", {"status": "performed", "date": "2019-03-15",
                                     "margin": "R0"}),
        ("FU-NO-ANCHOR", {"status": "performed", "margin": "R0"}),
    ])
    def test_on_a_low_risk_plan(self, record: str, surgery: dict[str, str]) -> None:
        """Low risk (the golden high-risk case, resected in 2019, without its necrosis):
        the reason cites S23 and S26, not S18; with no surgery date, no plan can be dated
        (FU-NO-ANCHOR)."""
        spec = load_golden_plan("scan-history-missing-2019")["input"]
        data = json.loads(json.dumps(spec["case"]))
        data["histology"] = {"necrosis": "absent", "infiltrative_growth": "absent",
                             "high_nuclear_grade_and_cellularity": "absent",
                             "vascular_invasion": "absent",
                             "nuclear_pleomorphism_or_giant_cells": "absent",
                             "mitoses_per_50_hpf": 0}
        data["stage"]["lymph_nodes"] = "negative"
        data["surgery"] = surgery
        data.pop("primary_treatment_end", None)
        case = parse_case_json(json.dumps(data))
        a = assess(case, ON)
        plan = plan_surveillance(case, a, ON)
        assert plan.surveillance_group == "low"
        (reason,) = [r for r in plan.reasons if r.id == record]
        assert reason.provenance.statements == ("S23", "S26")
        assert reason.provenance.refs == (1, 4, 2)
