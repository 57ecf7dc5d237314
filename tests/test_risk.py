"""Risk thresholds: both edges of every named threshold, with each setting flipped."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from pecoma import ConfigError, assess, load_settings, parse_case
from pecoma.settings import default_settings

ON = dt.date(2026, 11, 28)
ABSENT = {"necrosis": "absent", "infiltrative_growth": "absent",
          "high_nuclear_grade_and_cellularity": "absent", "vascular_invasion": "absent",
          "nuclear_pleomorphism_or_giant_cells": "absent", "mitoses_per_50_hpf": 0}


def case(size_cm: float, site: str = "soft_tissue", **histology: Any) -> Any:
    """A localized tumour resected (R0), its features read on the specimen: a surgery not
    recorded would leave the pathology categories open up to malignant (I6)."""
    return parse_case({
        "tumour": {"primary_site": site, "size": {"value": size_cm, "unit": "cm"}},
        "histology": {**ABSENT, **histology},
        "stage": {"status": "localized"},
        "surgery": {"status": "performed", "margin": "R0"},
    })


def settings_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text)
    return path


def category(a: Any, cls_id: str) -> str:
    return next(c.category for c in a.classifications if c.id == cls_id)


@pytest.mark.parametrize(("size", "group"), [(4.9, "low"), (5.0, "low"), (5.01, "high"),
                                             (5.1, "high")])
def test_guideline_size_is_strictly_above_5_cm(size: float, group: str) -> None:
    assert assess(case(size), ON).risk.group == group


def test_guideline_size_inclusive_setting(tmp_path: Path) -> None:
    """With an inclusive size threshold, exactly 5.0 cm counts."""
    s = load_settings(settings_file(
        tmp_path, "[engine]\nguideline_size_cm = { value = 5.0, inclusive = true }\n"))
    assert assess(case(5.0), ON, s).risk.group == "high"
    assert assess(case(4.99), ON, s).risk.group == "low"


class TestTextsSayTheReadingInForce:
    """Whether a cut-off is inclusive is a setting (I24): the texts say the reading in
    force, and when a value exactly at the cut-off is counted by a reading other than the
    source's, the items it decides cite I24 and name the setting among their facts. The
    report had read "Tumour larger than 5 cm: present, 5 cm", cited S06 alone."""

    INCLUSIVE = ("[engine]\nguideline_size_cm = { value = 5.0, inclusive = true }\n"
                 "folpe_mitoses_per_50_hpf = { value = 1.0, inclusive = true }\n")

    def test_a_5_cm_tumour_counted_by_the_inclusive_setting(self, tmp_path: Path) -> None:
        """5.0 cm, inclusive: high risk, the feature titled "Tumour 5 cm or larger" (not
        "larger than 5 cm"), its provenance citing I24 beside S06, and the risk group's
        facts naming the setting and S06's own reading."""
        s = load_settings(settings_file(tmp_path, self.INCLUSIVE))
        a = assess(case(5.0), ON, s)
        assert a.risk.group == "high"
        size = next(f for f in a.risk.features if f.id == "RISK-SIZE")
        assert size.title == "Tumour 5 cm or larger"
        assert size.provenance.statements == ("S06",)
        assert "I24" in size.provenance.interpretations
        facts = {f.path: f.value for f in a.risk.item.triggered_by}
        assert facts["tumour.size"] == "5 cm"
        assert facts["settings.engine.guideline_size_cm"].startswith(
            "inclusive (a local setting): exactly 5 cm counts")
        assert "S06: larger than 5 cm" in facts["settings.engine.guideline_size_cm"]
        assert "I24" in a.risk.item.provenance.interpretations
        assert "I24" in {i.id for i in a.interpretations}

    def test_above_the_cut_off_the_setting_decides_nothing(self, tmp_path: Path) -> None:
        """5.1 cm is larger than 5 cm on either reading: the title says the reading in
        force, but nothing cites I24 or names the setting."""
        s = load_settings(settings_file(tmp_path, self.INCLUSIVE))
        a = assess(case(5.1), ON, s)
        size = next(f for f in a.risk.features if f.id == "RISK-SIZE")
        assert size.title == "Tumour 5 cm or larger"
        assert "I24" not in size.provenance.interpretations
        assert not any(f.path.startswith("settings.") for f in a.risk.item.triggered_by)
        assert "I24" not in {i.id for i in a.interpretations}

    def test_the_defaults_read_as_the_sources_do(self) -> None:
        """With the defaults (each source's own reading) a 5.0 cm tumour is titled
        "Tumour larger than 5 cm", absent, and nothing names a setting."""
        a = assess(case(5.0), ON)
        size = next(f for f in a.risk.features if f.id == "RISK-SIZE")
        assert (size.title, size.state) == ("Tumour larger than 5 cm", "absent")
        assert "I24" not in {i.id for i in a.interpretations}

    def test_folpe_mitoses_at_the_cut_off(self, tmp_path: Path) -> None:
        """1 per 50 HPF, inclusive: a worrisome feature, and the Folpe item's text says
        "mitoses 1 or more per 50 HPF" (it said "above 1 per 50 HPF"), cites I24 and
        names the setting beside the count."""
        s = load_settings(settings_file(tmp_path, self.INCLUSIVE))
        a = assess(case(2, necrosis="present", mitoses_per_50_hpf=1), ON, s)
        folpe = next(c for c in a.classifications if c.id == "CLS-FOLPE-2005")
        assert folpe.category == "malignant"
        assert "mitoses 1 or more per 50 HPF" in folpe.item.text
        assert "above 1 per 50 HPF" not in folpe.item.text
        assert "I24" in folpe.item.provenance.interpretations
        facts = {f.path: f.value for f in folpe.item.triggered_by}
        assert facts["histology.mitoses_per_50_hpf"] == "1/50 HPF"
        assert "exactly 1 per 50 HPF counts" in facts[
            "settings.engine.folpe_mitoses_per_50_hpf"]

    def test_bennett_read_strictly_by_a_setting(self, tmp_path: Path) -> None:
        """Bennett gives size 5 cm or larger (the default): set not inclusive, a 5.0 cm
        uterine tumour is left out of the count by the setting, which the Bennett item
        names; its text says "size larger than 5 cm"."""
        s = load_settings(settings_file(
            tmp_path, "[engine]\nbennett_size_cm = { value = 5.0, inclusive = false }\n"))
        a = assess(case(5.0, "uterus", necrosis="present", mitoses_per_50_hpf=3), ON, s)
        bennett = next(c for c in a.classifications if c.id == "CLS-BENNETT-2018")
        assert "size larger than 5 cm" in bennett.item.text
        facts = {f.path: f.value for f in bennett.item.triggered_by}
        assert facts["settings.engine.bennett_size_cm"].startswith(
            "not inclusive (a local setting): exactly 5 cm does not count")
        # the default, Bennett's own reading, names nothing
        a = assess(case(5.0, "uterus", necrosis="present", mitoses_per_50_hpf=3), ON)
        bennett = next(c for c in a.classifications if c.id == "CLS-BENNETT-2018")
        assert "size 5 cm or larger" in bennett.item.text
        assert not any(f.path.startswith("settings.") for f in bennett.item.triggered_by)

    def test_the_web_names_each_setting_in_words(self) -> None:
        """The web report shows a fact by its label, never its path: each cut-off's
        setting has one in plain words."""
        from pecoma.settings import CUT_OFFS
        from pecoma.web.summary import field_label

        for name in CUT_OFFS:
            label = field_label(f"settings.engine.{name}")
            assert "_" not in label and "local setting" in label, name

    def test_the_report_and_the_rules_listing_say_it(self, tmp_path: Path) -> None:
        """The Markdown report's risk table, and the rules listing with the settings,
        word the size from the setting."""
        from pecoma.knowledge import load_knowledge
        from pecoma.render.text import markdown_report

        s = load_settings(settings_file(tmp_path, self.INCLUSIVE))
        report = markdown_report(assess(case(5.0), ON, s))
        assert ("| Tumour 5 cm or larger | present | 5 cm | guideline S06 · ref [1] · "
                "interpretation I24 |") in report
        # the features table words the size as read; the risk group's facts name the
        # setting beside the source's own cut-off
        table = report.split("| High-risk feature |", 1)[1].split("### Supplementary")[0]
        assert "larger than 5 cm" not in table
        assert ("settings.engine.guideline_size_cm = inclusive (a local setting): exactly "
                "5 cm counts (the source, S06: larger than 5 cm, I24)") in report
        worded = load_knowledge().worded(s.wording())
        assert worded.records["RISK-SIZE"].title == "Tumour 5 cm or larger"


@pytest.mark.parametrize(("size", "expected"), [(5.0, "uncertain malignant potential"),
                                                (5.1, "malignant")])
def test_folpe_size_edge(size: float, expected: str) -> None:
    """Folpe counts size > 5 cm: with necrosis, 5.0 cm is one feature, 5.1 cm two."""
    assert category(assess(case(size, necrosis="present"), ON), "CLS-FOLPE-2005") == expected


@pytest.mark.parametrize(("mitoses", "expected"), [(1, "uncertain malignant potential"),
                                                   (1.5, "malignant")])
def test_folpe_mitoses_edge(mitoses: float, expected: str) -> None:
    a = assess(case(2, necrosis="present", mitoses_per_50_hpf=mitoses), ON)
    assert category(a, "CLS-FOLPE-2005") == expected


def test_folpe_mitoses_inclusive_setting(tmp_path: Path) -> None:
    s = load_settings(settings_file(
        tmp_path, "[engine]\nfolpe_mitoses_per_50_hpf = { value = 1.0, inclusive = true }\n"))
    a = assess(case(2, necrosis="present", mitoses_per_50_hpf=1), ON, s)
    assert category(a, "CLS-FOLPE-2005") == "malignant"


@pytest.mark.parametrize(("size", "expected"), [(4.9, "uncertain malignant potential"),
                                                (5.0, "malignant")])
def test_bennett_size_edge(size: float, expected: str) -> None:
    """Bennett counts size >= 5 cm: with necrosis and mitoses, 5.0 cm makes three."""
    a = assess(case(size, "uterus", necrosis="present", mitoses_per_50_hpf=3), ON)
    assert category(a, "CLS-BENNETT-2018") == expected


def test_bennett_size_strict_setting(tmp_path: Path) -> None:
    s = load_settings(settings_file(
        tmp_path, "[engine]\nbennett_size_cm = { value = 5.0, inclusive = false }\n"))
    a = assess(case(5.0, "uterus", necrosis="present", mitoses_per_50_hpf=3), ON, s)
    assert category(a, "CLS-BENNETT-2018") == "uncertain malignant potential"


@pytest.mark.parametrize(("mitoses", "expected"), [(1, "uncertain malignant potential"),
                                                   (2, "malignant")])
def test_bennett_mitoses_edge(mitoses: float, expected: str) -> None:
    a = assess(case(6, "uterus", necrosis="present", mitoses_per_50_hpf=mitoses), ON)
    assert category(a, "CLS-BENNETT-2018") == expected


def test_bennett_only_for_gynecologic_primaries() -> None:
    ids = [c.id for c in assess(case(6, "kidney"), ON).classifications]
    assert "CLS-BENNETT-2018" not in ids
    ids = [c.id for c in assess(case(6, "broad_ligament"), ON).classifications]
    assert "CLS-BENNETT-2018" in ids


def test_unknown_criteria_give_a_range_not_a_guess() -> None:
    """With mitoses and vascular invasion unknown, Folpe shows the possible range."""
    c = parse_case({"tumour": {"primary_site": "liver", "size": {"value": 3, "unit": "cm"}},
                    "histology": {"necrosis": "present", "infiltrative_growth": "absent",
                                  "high_nuclear_grade_and_cellularity": "absent",
                                  "nuclear_pleomorphism_or_giant_cells": "absent"},
                    "stage": {"status": "localized"}})
    a = assess(c, ON)
    folpe = next(x for x in a.classifications if x.id == "CLS-FOLPE-2005")
    assert not folpe.determined
    assert folpe.possible == ("uncertain malignant potential", "malignant")
    assert {"MISS-MITOSES", "MISS-VASCULAR-INVASION"} <= {m.id for m in a.missing}


def test_high_risk_sites_setting(tmp_path: Path) -> None:
    """Sites may be added to S10's list ("e.g. broad ligament"); the broad ligament stays."""
    s = load_settings(settings_file(
        tmp_path, '[engine]\nhigh_risk_sites = ["broad_ligament", "retroperitoneum"]\n'))
    ids = [i.id for i in assess(case(3, "retroperitoneum"), ON, s).recommendations]
    assert "REC-ADJ-RADIOTHERAPY" in ids
    ids = [i.id for i in assess(case(3, "broad_ligament"), ON, s).recommendations]
    assert "REC-ADJ-RADIOTHERAPY" in ids
    ids = [i.id for i in assess(case(3, "retroperitoneum"), ON).recommendations]
    assert "REC-ADJ-RADIOTHERAPY" not in ids


#: (the [engine] line, the setting named, what the message says is allowed, the source it
#: names, the value given). The cut-offs' values, Bennett's number of features and the
#: 12-month interval are the sources' own: S06 "tumour size > 5 cm"; Folpe et al. 2005
#: size > 5 cm and mitoses > 1/50 HPF; Bennett et al. 2018 size >= 5 cm, mitoses > 1/50
#: HPF, malignant with >= 3 features; S16 and I5 a disease-free interval of >= 1 year;
#: S10 names the broad ligament.
REFUSED = [
    ("guideline_size_cm = { value = 10.0, inclusive = false }", "guideline_size_cm.value",
     "must be 5 cm", "S06", "10.0"),
    ("guideline_size_cm = { value = 4.0, inclusive = true }", "guideline_size_cm.value",
     "must be 5 cm", "S06", "4.0"),
    ("guideline_size_cm = { value = 0.0, inclusive = false }", "guideline_size_cm.value",
     "must be 5 cm", "S06", "0.0"),
    ("folpe_size_cm = { value = 8.0, inclusive = false }", "folpe_size_cm.value",
     "must be 5 cm", "Folpe et al. 2005", "8.0"),
    ("folpe_mitoses_per_50_hpf = { value = 0.0, inclusive = false }",
     "folpe_mitoses_per_50_hpf.value", "must be 1 per 50 HPF", "Folpe et al. 2005", "0.0"),
    ("folpe_mitoses_per_50_hpf = { value = 4.0, inclusive = true }",
     "folpe_mitoses_per_50_hpf.value", "must be 1 per 50 HPF", "Folpe et al. 2005", "4.0"),
    ("bennett_size_cm = { value = 4.5, inclusive = true }", "bennett_size_cm.value",
     "must be 5 cm", "Bennett et al. 2018", "4.5"),
    ("bennett_mitoses_per_50_hpf = { value = 2.0, inclusive = false }",
     "bennett_mitoses_per_50_hpf.value", "must be 1 per 50 HPF", "Bennett et al. 2018", "2.0"),
    ("bennett_malignant_min_features = 2", "bennett_malignant_min_features",
     "must be 3 features", "Bennett et al. 2018", "2"),
    ("bennett_malignant_min_features = 4", "bennett_malignant_min_features",
     "must be 3 features", "Bennett et al. 2018", "4"),
    ("metastasectomy_min_dfi_months = 0", "metastasectomy_min_dfi_months",
     "must be 12 months", "S16", "0"),
    ("metastasectomy_min_dfi_months = 6", "metastasectomy_min_dfi_months",
     "must be 12 months", "S16", "6"),
    ("metastasectomy_min_dfi_months = 18", "metastasectomy_min_dfi_months",
     "must be 12 months", "S16", "18"),
    ('high_risk_sites = ["retroperitoneum"]', "high_risk_sites",
     "must include 'broad_ligament'", "S10", "['retroperitoneum']"),
    ("high_risk_sites = []", "high_risk_sites", "must include 'broad_ligament'", "S10", "[]"),
]


class TestEngineSettingsWithinTheSources:
    """A settings file cannot move the engine away from the statement or reference its
    items cite: each cut-off's value, Bennett's number of features, S16's 12 months and
    S10's broad ligament are refused otherwise, naming the setting, what is allowed, the
    source and the value given. Whether a cut-off is inclusive, and sites added to the
    broad ligament, are what the sources leave open and stay settings."""

    @pytest.mark.parametrize(("line", "name", "allowed", "source", "given"), REFUSED,
                             ids=[r[0].split(" = ")[0] + "=" + r[4] for r in REFUSED])
    def test_each_value_outside_its_source_is_refused(
        self, tmp_path: Path, line: str, name: str, allowed: str, source: str, given: str
    ) -> None:
        with pytest.raises(ConfigError) as info:
            load_settings(settings_file(tmp_path, f"[engine]\n{line}\n"))
        message = str(info.value)
        assert message.startswith(f"settings.toml: 'engine.{name}' {allowed} ("), message
        assert source in message and message.endswith(f"(got {given})"), message

    def test_the_reported_size_is_refused_with_its_statement(self, tmp_path: Path) -> None:
        """A 10 cm cut-off would call an 8 cm tumour low risk while the risk items cite
        S06 ("tumour size > 5 cm"): refused, the whole message written out."""
        with pytest.raises(ConfigError) as info:
            load_settings(settings_file(
                tmp_path, "[engine]\nguideline_size_cm = { value = 10.0, inclusive = false }\n"))
        assert str(info.value) == (
            "settings.toml: 'engine.guideline_size_cm.value' must be 5 cm (S06: tumour size "
            "> 5 cm; only 'inclusive' is a setting) (got 10.0)")

    def test_a_cut_off_that_is_not_a_table_is_refused_plainly(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError) as info:
            load_settings(settings_file(tmp_path, "[engine]\nguideline_size_cm = 5\n"))
        assert str(info.value) == (
            "settings.toml: 'engine.guideline_size_cm' must be a table "
            "(e.g. { value = 5.0, inclusive = false }) (got 5)")

    @pytest.mark.parametrize("name", ["guideline_size_cm", "folpe_size_cm",
                                      "folpe_mitoses_per_50_hpf", "bennett_size_cm",
                                      "bennett_mitoses_per_50_hpf"])
    @pytest.mark.parametrize("inclusive", [True, False])
    def test_inclusive_stays_a_setting(self, tmp_path: Path, name: str,
                                       inclusive: bool) -> None:
        """Published restatements differ on > versus >=: either is accepted, the value
        written as the source's (an integer 5 reads as 5.0)."""
        value = 1 if "mitoses" in name else 5
        s = load_settings(settings_file(
            tmp_path, f"[engine]\n{name} = {{ value = {value}, inclusive = "
            f"{str(inclusive).lower()} }}\n"))
        cut = getattr(s.engine, name)
        assert (cut.value, cut.inclusive) == (float(value), inclusive)

    def test_defaults_are_the_sources_values(self) -> None:
        e = default_settings().engine
        assert (e.guideline_size_cm.value, e.folpe_size_cm.value, e.bennett_size_cm.value) == (
            5.0, 5.0, 5.0)
        assert (e.folpe_mitoses_per_50_hpf.value, e.bennett_mitoses_per_50_hpf.value) == (
            1.0, 1.0)
        assert (e.bennett_malignant_min_features, e.metastasectomy_min_dfi_months) == (3, 12)
        assert e.high_risk_sites == ("broad_ligament",)


class TestLoadSettings:
    def test_defaults_are_documented_values(self) -> None:
        s = default_settings()
        assert s.engine.guideline_size_cm.value == 5.0
        assert not s.engine.guideline_size_cm.inclusive
        assert s.followup.high_intensive_years == 3
        assert s.followup.horizon_years == 10

    def test_unknown_setting_is_rejected(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match=r"'engine\.size' is not a setting"):
            load_settings(settings_file(tmp_path, "[engine]\nsize = 3\n"))

    def test_bad_value_is_rejected(self, tmp_path: Path) -> None:
        with pytest.raises(ConfigError, match="high_intensive_overdue_months"):
            load_settings(settings_file(
                tmp_path, "[followup]\nhigh_intensive_overdue_months = 2\n"))

    def test_settings_change_the_digest(self, tmp_path: Path) -> None:
        s = load_settings(settings_file(tmp_path, "[followup]\nhorizon_years = 12\n"))
        assert s.digest() != default_settings().digest()


class TestTheRiskGroupInEveryReport:
    """The risk group is an item like any other: the terminal and Markdown reports show
    it with its reason, what it waits on and its statements and interpretations (S05-S09
    with I1; after a relapse S05 with I8, the high-risk schedule then being the project's
    reading, not the guideline's words; I17 for features read after systemic treatment),
    as the web page, the PDF, the CDS card and the FHIR RequestGroup do."""

    @pytest.mark.parametrize(
        ("scenario", "record", "label", "waits_on"),
        [
            ("margin-r1", "RISK-LOW",
             "guideline S05, S06, S07, S08, S09 · ref [1] · interpretation I1", ""),
            ("recurrent-resectable", "RISK-NOT-APPLICABLE",
             "guideline S05 · ref [1] · interpretation I8", ""),
            ("locally-advanced", "RISK-NOT-APPLICABLE-UNRESECTABLE",
             "guideline S05 · ref [1] · interpretation I6, I8", ""),
            ("indeterminate-folpe-malignant", "RISK-INDETERMINATE",
             "guideline S05, S06, S07, S08, S09 · ref [1] · interpretation I1", "MISS-SIZE"),
            ("sirolimus-before-resection", "RISK-AFTER-SYSTEMIC-THERAPY",
             "guideline S05, S06, S07, S08, S09 · ref [1] · interpretation I1, I17",
             "MISS-FEATURES-BEFORE-SYSTEMIC-THERAPY"),
        ],
    )
    def test_markdown_and_terminal_name_its_sources(
        self, scenario: str, record: str, label: str, waits_on: str
    ) -> None:
        import io

        from rich.console import Console

        from pecoma.render.text import markdown_report, print_report

        from scenario_tools import run

        a = run(scenario)
        assert a.risk.item.id == record
        assert a.risk.item.provenance.label == label
        # Markdown: under the risk heading, before the features table
        md = markdown_report(a)
        head = md.split("## Risk: ", 1)[1].split("| High-risk feature |", 1)[0]
        assert a.risk.item.text in head
        assert f"Why: {a.risk.item.rationale}" in head
        assert f"Source: {label}" in head
        assert (f"Provisional until supplied: {waits_on}" in head) == bool(waits_on)
        # terminal: the risk panel, before its features table
        out = io.StringIO()
        print_report(a, Console(file=out, width=2000, color_system=None))
        words = " ".join(out.getvalue().replace("│", " ").split())
        panel = words.split("Risk: ", 1)[1].split("High-risk feature", 1)[0]
        assert a.risk.item.rationale in panel
        assert label in panel
        assert (f"Provisional until supplied: {waits_on}" in panel) == bool(waits_on)
