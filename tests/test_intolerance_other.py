"""An intolerance recorded with the agent 'other' is never dropped (I15).

'other' is a drug the case format names no agent for: a brand name (Fyarro, Afinitor,
Torisel), an mTOR inhibitor without an agent of its own (ridaforolimus), or a drug that
is neither an mTOR inhibitor nor an anthracycline. Until the team says which, it may rule
out the drug the advice proposes: the intolerance is named among the facts of every item
proposing an mTOR inhibitor (S12) or an anthracycline (S14, S15), each provisional on the
question which drug it is (MISS-INTOLERANCE-AGENT), never an unconditional
recommendation. The FHIR reader records an allergy whose substance it cannot identify as
such an intolerance (tests/test_allergy_not_identified_row.py); the same facts give the
same advice whichever way they come in (case file, web form, import, FHIR).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item, to_jsonable
from pecoma.registry.columns import flatten
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import read_table
from pecoma.settings import default_settings
from pecoma.web.forms import case_to_values, form_to_case

from registry_support import write_csv

ON = dt.date(2026, 12, 10)
ASKED = "MISS-INTOLERANCE-AGENT"
OTHER = ("systemic.intolerances[0].agent", "other")


def _case(site: str = "soft_tissue", available: str = "yes", contraindicated: str = "no",
          intolerances: list[dict[str, str]] | None = None,
          therapies: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Metastatic PEComa (peritoneum, 2024, unresectable) after an R0 resection in 2022,
    the panel confirming the diagnosis; one drug not tolerated, recorded as 'other'."""
    systemic: dict[str, Any] = {
        "mtor_inhibitor_available": available,
        "intolerances": [{"agent": "other"}] if intolerances is None else intolerances,
    }
    if contraindicated != "unknown":
        systemic["mtor_inhibitor_contraindicated"] = contraindicated
    if therapies:
        systemic["therapies"] = therapies
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2022-01-10",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": site, "size": {"value": 10, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present"},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "mitf": "positive", "sma": "positive"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": [{"site": "peritoneum", "detected_on": "2024-03-01"}],
                  "extrapulmonary_disease": "yes", "resectable": "no",
                  "complete_excision_feasible": "no"},
        "surgery": {"status": "performed", "date": "2022-02-01", "margin": "R0"},
        "systemic": systemic,
    }


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _item(a: Assessment, record: str) -> Item:
    return next(i for i in a.recommendations if i.id == record)


def _waits_and_names(a: Assessment, record: str) -> None:
    item = _item(a, record)
    assert ASKED in item.conditional_on, record
    assert OTHER in {(f.path, f.value) for f in item.triggered_by}, record
    missing = next(m for m in a.missing if m.id == ASKED)
    assert record in missing.affects


class TestTheAdviceWaitsOnWhichDrug:
    def test_mtor_first_line_is_provisional_and_names_the_intolerance(self) -> None:
        """mTOR inhibitors available and recorded as not contraindicated: the drug not
        tolerated may be one (Fyarro is nab-sirolimus), so S12's first line and
        nab-sirolimus are provisional on which drug it is, naming the intolerance."""
        a = _assess(_case())
        _waits_and_names(a, "REC-MTOR-FIRST-LINE")
        _waits_and_names(a, "SUPP-NAB-SIROLIMUS")
        missing = next(m for m in a.missing if m.id == ASKED)
        assert "mTOR inhibitor" in missing.question and "anthracycline" in missing.question
        assert missing.field == "systemic.intolerances.agent"

    def test_the_contraindication_unknown_is_asked_as_well(self) -> None:
        """The contraindication left unknown keeps its own question beside this one."""
        a = _assess(_case(contraindicated="unknown"))
        item = _item(a, "REC-MTOR-FIRST-LINE")
        assert {"MISS-MTOR-CONTRAINDICATED", ASKED} <= set(item.conditional_on)

    def test_anthracycline_option_is_provisional(self) -> None:
        """mTOR inhibitors unavailable: S14's doxorubicin can be considered, provisional
        on the question (the drug may be doxorubicin under a brand name, Caelyx)."""
        a = _assess(_case(available="no"))
        _waits_and_names(a, "REC-ANTHRACYCLINE")

    def test_uterine_epirubicin_ifosfamide_is_provisional(self) -> None:
        """A uterine primary: S15's epirubicin with ifosfamide waits on it too."""
        a = _assess(_case(site="uterus"))
        _waits_and_names(a, "REC-UTERINE-EPI-IFO")
        _waits_and_names(a, "REC-MTOR-FIRST-LINE")

    def test_after_mtor_progression_the_published_classes_wait_on_it(self) -> None:
        """Progression on sirolimus: the published options (anthracycline-based
        chemotherapy among them) are provisional on which drug it is."""
        a = _assess(_case(therapies=[{"agent": "sirolimus", "setting": "advanced",
                                      "started_on": "2024-04-01", "progressed": "yes"}]))
        _waits_and_names(a, "SUPP-AFTER-MTOR")

    def test_chemotherapy_first_line_alert_waits_on_it(self) -> None:
        """A doxorubicin first line: the alert that an mTOR inhibitor was possible rests
        on none being ruled out, and the drug not tolerated may be one (then S14's
        chemotherapy was the option): it is provisional on which drug it is, naming the
        intolerance, as the mTOR advice is (I15). The order-select card on a chemotherapy
        draft shows this alert."""
        a = _assess(_case(therapies=[{"agent": "doxorubicin", "setting": "advanced",
                                      "started_on": "2024-04-01"}]))
        alert = next(x for x in a.alerts if x.id == "ALERT-CHEMO-BEFORE-MTOR")
        assert ASKED in alert.conditional_on
        assert OTHER in {(f.path, f.value) for f in alert.triggered_by}
        assert "ALERT-CHEMO-BEFORE-MTOR" in next(m for m in a.missing if m.id == ASKED).affects

    def test_no_other_intolerance_asks_nothing(self) -> None:
        """An intolerance of a drug the format names (ifosfamide) is read as that drug:
        no question, the mTOR advice unconditional."""
        a = _assess(_case(intolerances=[{"agent": "ifosfamide"}]))
        assert ASKED not in {m.id for m in a.missing}
        assert not _item(a, "REC-MTOR-FIRST-LINE").conditional_on

    def test_the_intolerance_is_in_the_json_report(self) -> None:
        """The report a program reads names the intolerance and the question."""
        text = json.dumps(to_jsonable(_assess(_case())))
        assert "systemic.intolerances[0].agent" in text and ASKED in text


def _advice(a: Assessment) -> list[tuple[str, tuple[str, ...]]]:
    return [(i.id, i.conditional_on) for i in a.recommendations]


class TestSameAdviceWhicheverWayIn:
    @pytest.mark.parametrize("available", ["yes", "no"])
    def test_web_form(self, available: str) -> None:
        """The case shown on the web form and posted back gives the same advice."""
        data = _case(available=available)
        case = parse_case(data)
        posted = form_to_case(case_to_values(case, ON))
        assert posted.case is not None, posted.errors
        from_form = assess(posted.case, ON)
        assert _advice(from_form) == _advice(assess(case, ON))
        assert ASKED in {m.id for m in from_form.missing}

    def test_registry_import(self, tmp_path: Path) -> None:
        """The case as a row of a registry file gives the same advice."""
        data = _case()
        path = write_csv(tmp_path / "rows.csv", [flatten(data, "P-1")])
        _header, rows = read_table(path)
        good, issues = validate_rows(rows, ON, default_settings())
        assert not issues and len(good) == 1
        assert good[0].assessment is not None
        assert _advice(good[0].assessment) == _advice(_assess(data))
        assert ASKED in {m.id for m in good[0].assessment.missing}
