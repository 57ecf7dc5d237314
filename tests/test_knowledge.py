"""The knowledge base: schema, cross-references, coverage of the statements."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pecoma.errors import KnowledgeError
from pecoma.knowledge import STATEMENT_IDS, load_knowledge, parse_knowledge

DATA = Path(__file__).resolve().parent.parent / "src/pecoma/knowledge/data/guideline.toml"
ENGINE = Path(__file__).resolve().parent.parent / "src/pecoma/engine"


class TestLoadKnowledge:
    def test_loads_and_has_a_version(self) -> None:
        """The bundled file passes its schema check and carries a dated version."""
        k = load_knowledge()
        assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", k.version)
        assert k.intended_use

    def test_every_statement_is_carried(self) -> None:
        """S01-S28 each have at least one record naming them."""
        carried = load_knowledge().statements_carried()
        assert tuple(carried) == STATEMENT_IDS
        assert all(carried[s] for s in STATEMENT_IDS), [s for s in carried if not carried[s]]

    def test_supplementary_items_have_full_citations(self) -> None:
        """Supplementary records cite published references with journal and year."""
        k = load_knowledge()
        for r in [*k.records.values(), *k.missing.values()]:
            if r.provenance == "supplementary":
                for src in r.sources:
                    assert re.search(r"(19|20)\d\d", k.references[src].citation)

    def test_engine_names_only_existing_records(self) -> None:
        """Every record id written in the engine's code exists in the knowledge base."""
        k = load_knowledge()
        known = set(k.records) | set(k.missing)
        pattern = re.compile(r'"((?:REC|RISK|ALERT|SUPP|FU|MISS|CLS)-[A-Z0-9-]+)"')
        named = {m for f in ENGINE.glob("*.py") for m in pattern.findall(f.read_text())}
        assert named, "the pattern found nothing: the test would be vacuous"
        assert named <= known, named - known


def _mutated(old: str, new: str) -> str:
    text = DATA.read_text()
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('version = "2026', 'version = "v2026', "version"),
        ('statements = ["S01", "S03"]', 'statements = ["S01", "S99"]', "unknown statement 'S99'"),
        ('refs = [1, 2]\nstrength = "standard of care"', 'refs = [1, 7]\nstrength = "x"', "1-5"),
        ('sources = ["folpe2005"]\nstrength', 'sources = ["nobody1999"]\nstrength',
         "unknown reference 'nobody1999'"),
        ('level = "critical"', 'level = "loud"', "level"),
        ('S28 = {', 'S29 = {', "S01-S28"),
        ('id = "REC-RESECTION-DONE"', 'id = "REC-RESECTION"', "used twice"),
        ('statements = ["S16"]\nrefs = [1]\ninterpretations = ["I5", "I7"]',
         'statements = ["S16"]\nrefs = [1]\ninterpretations = ["I99"]', "unknown interpretation"),
        ('statements = ["S15"]\nrefs = [3]', 'statements = ["S15"]\nrefs = [1]',
         "not references of its statements"),
    ],
)
def test_malformed_knowledge_is_rejected(old: str, new: str, message: str) -> None:
    """A broken knowledge file fails at load with a message naming the problem."""
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        parse_knowledge(_mutated(old, new), "test.toml")


def test_supplementary_record_without_sources_is_rejected() -> None:
    """Supplementary provenance without a published reference is a schema error."""
    text = _mutated('sources = ["folpe2005"]\nstrength', "strength")
    with pytest.raises(KnowledgeError, match="sources"):
        parse_knowledge(text, "test.toml")


def test_unparseable_file_is_rejected() -> None:
    with pytest.raises(KnowledgeError, match="not valid TOML"):
        parse_knowledge("[[records]\n", "broken.toml")


class TestWordingQuotesSettings:
    """The records that describe the schedule quote the settings they are drawn with
    (``{high_intensive_due_months}``), so no output says a rhythm other than the plan's."""

    def test_every_quoted_setting_is_a_setting(self) -> None:
        """Filled with the defaults, every schedule record says the defaults' rhythm and
        no slot is left; the records that quote settings are the schedule's."""
        from pecoma.settings import default_settings

        k = load_knowledge()
        worded = k.worded(default_settings().wording())
        quoting = {rid for rid, r in k.records.items() if r.quotes_settings}
        assert {"FU-HIGH-INTENSIVE", "FU-HIGH-SIX-MONTHLY", "FU-HIGH-YEARLY",
                "SUPP-FU-LOW-SCHEDULE", "SUPP-FU-LOW-YEARLY"} <= quoting
        # and the records naming a cut-off, in the reading in force (I24)
        assert {"RISK-SIZE", "CLS-FOLPE-2005", "CLS-BENNETT-2018"} <= quoting
        for r in worded.records.values():
            assert "{" not in r.title + r.text + r.rationale, r.id
        assert worded.records["FU-HIGH-INTENSIVE"].text == (
            "Surveillance visit every 3 months (overdue after 4) during the first 3 years "
            "after treatment.")

    def test_a_slot_that_names_no_setting_fails(self) -> None:
        """A misspelt setting in the wording is a knowledge error, not a text with braces."""
        from pecoma.settings import default_settings

        text = _mutated("every {high_intensive_due_months} months",
                        "every {high_intensive_due_month} months")
        with pytest.raises(KnowledgeError, match="high_intensive_due_month'"):
            parse_knowledge(text, "test.toml").worded(default_settings().wording())

    def test_only_follow_up_records_quote_settings(self) -> None:
        """A treatment recommendation may not quote a follow-up setting."""
        text = _mutated('text = "Surveillance visit every',
                        'text = "{low_due_months} Surveillance visit every')
        parse_knowledge(text, "test.toml")  # a follow-up record may
        rec = next(r for r in load_knowledge().records.values() if r.kind == "recommendation")
        text = _mutated(f'text = "{rec.text}"', f'text = "{{low_due_months}} {rec.text}"')
        with pytest.raises(KnowledgeError, match="only a follow-up record may quote"):
            parse_knowledge(text, "test.toml")

    def test_the_plan_definition_says_the_defaults_rhythm(self) -> None:
        """The FHIR PlanDefinition of the knowledge base carries no slot."""
        import json

        from pecoma.fhir.plandefinition import plan_definition

        data = json.dumps(plan_definition())
        assert "{high_intensive" not in data and "{low_" not in data
        assert "every 3 months (overdue after 4) during the first 3 years" in data
