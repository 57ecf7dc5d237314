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
    return parse_case({
        "tumour": {"primary_site": site, "size": {"value": size_cm, "unit": "cm"}},
        "histology": {**ABSENT, **histology},
        "stage": {"status": "localized"},
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
    """The S10 site list is a setting."""
    s = load_settings(settings_file(tmp_path, '[engine]\nhigh_risk_sites = ["retroperitoneum"]\n'))
    ids = [i.id for i in assess(case(3, "retroperitoneum"), ON, s).recommendations]
    assert "REC-ADJ-RADIOTHERAPY" in ids
    ids = [i.id for i in assess(case(3, "retroperitoneum"), ON).recommendations]
    assert "REC-ADJ-RADIOTHERAPY" not in ids


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
