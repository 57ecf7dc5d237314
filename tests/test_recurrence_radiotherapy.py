"""Adjuvant radiotherapy after a local recurrence at a high-risk anatomical site (S10, I23).

S10 suggests considering adjuvant radiotherapy for tumours at high-risk anatomical sites
(the broad ligament) or where the margins are not assured, on limited data. It is tied
to the site and to the margins, not to a first presentation: a local recurrence at such a
site, removed or to be removed, gets the same consideration, with its force ("consider;
limited supporting data"). Distant metastases do not: their postoperative consideration
is S11's. The guideline's silence after a relapse (I8) is about adjuvant *systemic*
treatment, and the item that says so must not deny S10's local consideration.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pecoma import assess, load_settings, parse_case
from pecoma.engine.model import Assessment, Fact

ON = dt.date(2026, 12, 6)
RT = "REC-ADJ-RADIOTHERAPY-RECURRENCE"
SILENT = "REC-NO-ADJUVANT-AFTER-RELAPSE"


def broad_ligament(status: str = "recurrent", site: str = "broad_ligament",
                   free_by: str | None = None, **stage: Any) -> dict[str, Any]:
    """A 4 cm broad-ligament PEComa, no high-risk feature, resected R0 on 2025-01-20."""
    data: dict[str, Any] = {
        "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 4, "unit": "cm"}},
        "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                      "high_nuclear_grade_and_cellularity": "absent",
                      "vascular_invasion": "absent",
                      "nuclear_pleomorphism_or_giant_cells": "absent",
                      "mitoses_per_50_hpf": 0},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "desmin": "negative"},
        "stage": {"status": status, "lymph_nodes": "negative", **stage},
        "surgery": {"status": "performed", "date": "2025-01-20", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    }
    if free_by is not None:
        data["free_of_disease"] = {"since": "2026-05-10", "by": free_by}
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def item(a: Assessment, record_id: str) -> Any:
    return next(i for i in a.items() if i.id == record_id)


def rec_ids(a: Assessment) -> list[str]:
    return [i.id for i in a.recommendations]


def says_silence_is_systemic(a: Assessment) -> None:
    """The guideline's silence after a relapse is said of adjuvant systemic treatment,
    and the item says that S10's local consideration is shown where it applies."""
    text = item(a, SILENT).text
    assert "names no adjuvant systemic or maintenance treatment" in text
    assert "S10" in text
    assert "names no adjuvant or maintenance treatment" not in text


class TestALocalRecurrenceAtTheBroadLigament:
    def test_re_excised_and_free_of_disease_the_radiotherapy_consideration_is_shown(
            self) -> None:
        """Local recurrence re-excised, free of disease by surgery: S10 still reads on the
        broad ligament, a consideration on limited data, resting on the site."""
        a = run(broad_ligament(resectable="yes", free_by="surgery"))
        rt = item(a, RT)
        assert rt.strength == "consider; limited supporting data"
        assert rt.provenance.statements == ("S10",)
        assert "I23" in rt.provenance.interpretations
        assert Fact("tumour.primary_site", "broad_ligament") in rt.triggered_by
        assert Fact("free_of_disease.by", "surgery") in rt.triggered_by
        assert not rt.conditional_on
        # the guideline's silence on systemic treatment after relapse still stands, said
        # truthfully beside it
        assert SILENT in rec_ids(a)
        says_silence_is_systemic(a)

    def test_re_excision_advised_the_consideration_follows_it(self) -> None:
        """Local recurrence that surgery can remove: removal first (S17), radiotherapy
        weighed after it (S10), no systemic advice for a resectable recurrence."""
        a = run(broad_ligament(resectable="yes"))
        ids = rec_ids(a)
        assert ids.index("REC-AGGRESSIVE-SURGERY") < ids.index(RT)
        rt = item(a, RT)
        assert Fact("stage.resectable", "yes") in rt.triggered_by
        assert not rt.conditional_on
        assert rt.strength == "consider; limited supporting data"
        assert "REC-MTOR-FIRST-LINE" not in ids

    def test_resectability_unknown_the_consideration_waits_on_it(self) -> None:
        """Whether surgery can remove the recurrence is not recorded: the resection and
        the radiotherapy that would follow it are both provisional on the answer, and the
        radiotherapy comes after the systemic sequence shown meanwhile."""
        a = run(broad_ligament())
        assert "MISS-RESECTABLE" in item(a, RT).conditional_on
        ids = rec_ids(a)
        assert ids.index("REC-MTOR-FIRST-LINE") < ids.index(RT)

    def test_free_of_disease_how_not_recorded_asks(self) -> None:
        """Free of disease, how not recorded: an operation (then S10 applies) or other
        treatment (no resection for it to follow). Shown, provisional on the answer."""
        a = run(broad_ligament(resectable="yes", free_by="unknown"))
        assert "MISS-FREE-OF-DISEASE-BY" in item(a, RT).conditional_on
        missing = next(m for m in a.missing if m.id == "MISS-FREE-OF-DISEASE-BY")
        assert RT in missing.affects

    def test_not_removed_no_radiotherapy_after_a_resection(self) -> None:
        """Cleared by systemic treatment, or beyond surgery (advanced, I6): there is no
        resection for an adjuvant consideration to follow; the guideline's silence on
        adjuvant systemic treatment is said truthfully."""
        cleared = run(broad_ligament(resectable="yes", free_by="systemic_therapy"))
        assert RT not in rec_ids(cleared)
        says_silence_is_systemic(cleared)
        beyond = run(broad_ligament(resectable="no"))
        assert beyond.advanced is True
        assert RT not in rec_ids(beyond)
        assert "REC-MTOR-FIRST-LINE" in rec_ids(beyond)


class TestWhereS10DoesNotReach:
    def test_a_site_not_counted_high_risk_gets_no_radiotherapy(self) -> None:
        """A uterine primary is not among the high-risk sites: its re-excised recurrence
        gets no radiotherapy item, only the (truthful) silence."""
        a = run(broad_ligament(site="uterus", resectable="yes", free_by="surgery"))
        assert RT not in rec_ids(a)
        assert "REC-ADJ-RADIOTHERAPY" not in rec_ids(a)
        says_silence_is_systemic(a)

    def test_the_same_site_list_as_the_primary(self, tmp_path: Path) -> None:
        """The sites are those of the primary's S10 (the settings' high_risk_sites)."""
        path = tmp_path / "settings.toml"
        path.write_text('[engine]\nhigh_risk_sites = ["broad_ligament", "uterus"]\n')
        a = assess(parse_case(broad_ligament(site="uterus", resectable="yes",
                                             free_by="surgery")), ON, load_settings(path))
        assert Fact("tumour.primary_site", "uterus") in item(a, RT).triggered_by

    def test_distant_metastases_removed_get_no_s10(self) -> None:
        """A metachronous lung metastasis removed, free of disease: distant disease, not a
        local recurrence; S10 is not read for it, whatever the status label."""
        for status in ("metastatic", "recurrent"):
            a = run(broad_ligament(
                status=status, free_by="surgery", resectable="yes",
                extrapulmonary_disease="no", complete_excision_feasible="yes",
                metastases=[{"site": "lung", "detected_on": "2026-03-01"}]))
            assert RT not in rec_ids(a), status
            assert "REC-ADJ-RADIOTHERAPY" not in rec_ids(a), status
            says_silence_is_systemic(a)

    def test_distant_metastases_to_be_removed_get_no_s10(self) -> None:
        """Present metastases that surgery can remove: S17 and S16, no S10."""
        a = run(broad_ligament(
            status="recurrent", resectable="yes", extrapulmonary_disease="no",
            complete_excision_feasible="yes",
            metastases=[{"site": "lung", "detected_on": "2026-03-01"}]))
        assert "REC-AGGRESSIVE-SURGERY" in rec_ids(a)
        assert RT not in rec_ids(a)
        # the contrast: the same record with the recurrence local gets it
        assert RT in rec_ids(run(broad_ligament(resectable="yes")))
