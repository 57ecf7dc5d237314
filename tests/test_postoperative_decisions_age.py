"""Decisions that follow the resection of localized PEComa, long after it (I30).

Re-excision of a margin not clear (S03, S04) and adjuvant radiotherapy for a high-risk
site or margins not assured (S10) are decided in the weeks after the operation. Years
after an R1 hysterectomy with no relapse, the assessment still gave the critical "the
margins need a plan now", re-excision and referral for surgery as open actions, and
"Consider adjuvant radiotherapy"; the case format could not say that radiotherapy was
given. More than 6 months after the last resection, with no relapse recorded, each is
worded as a decision to confirm, the question asked; within 6 months the advice is that
of the time after the operation, unchanged.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import InputError, assess, parse_case
from pecoma.registry.columns import COLUMNS, flatten

#: Uterine PEComa, 11 cm with necrosis: hysterectomy with an R1 margin, nodes negative.
R1_UTERUS: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2018-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 11, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present", "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2018-03-15", "margin": "R1"},
}

#: Broad-ligament PEComa, 4 cm, no feature: R0, a high-risk site for S10.
R0_BROAD_LIGAMENT: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "broad_ligament", "size": {"value": 4, "unit": "cm"}},
    "histology": {"necrosis": "absent", "infiltrative_growth": "absent",
                  "high_nuclear_grade_and_cellularity": "absent", "mitoses_per_50_hpf": 0,
                  "vascular_invasion": "absent",
                  "nuclear_pleomorphism_or_giant_cells": "absent"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
}

SURGERY = {"R1": dt.date(2018, 3, 15), "R0": dt.date(2019, 3, 15)}
#: 6 months after each operation: the last day the advice is that of the time after it.
BOUND = {"R1": dt.date(2018, 9, 15), "R0": dt.date(2019, 9, 15)}


def run(data: dict[str, Any], on: dt.date, **surgery: Any) -> Any:
    case = copy.deepcopy(data)
    case["surgery"].update(surgery)
    return assess(parse_case(case), on)


def ids(a: Any) -> set[str]:
    return {i.id for i in (*a.recommendations, *a.alerts)}


def missing(a: Any) -> set[str]:
    return {m.id for m in a.missing}


@pytest.mark.parametrize("on", [dt.date(2018, 3, 16), dt.date(2018, 6, 1), BOUND["R1"]])
def test_r1_recent_surgery_advice_as_today(on: dt.date) -> None:
    """Within 6 months of the R1 resection the margins need a plan: re-excision discussed
    at a reference centre (S03, S04) and radiotherapy considered (S10), as before."""
    a = run(R1_UTERUS, on)
    assert {"REC-RERESECTION", "REC-REFER-SURGERY", "REC-ADJ-RADIOTHERAPY",
            "ALERT-INCOMPLETE-RESECTION"} <= ids(a)
    assert not {"REC-RERESECTION-DECIDED", "REC-ADJ-RADIOTHERAPY-DECIDED"} & ids(a)
    assert not {"MISS-REEXCISION-DECIDED", "MISS-ADJUVANT-RADIOTHERAPY"} & missing(a)


@pytest.mark.parametrize("on", [BOUND["R1"] + dt.timedelta(days=1), dt.date(2020, 1, 1),
                                dt.date(2026, 12, 7)])
def test_r1_long_after_surgery_decisions_to_confirm(on: dt.date) -> None:
    """A day past 6 months and later, no relapse recorded: re-excision and radiotherapy
    were decided at the time, or not; neither is an open action, neither is dropped.
    Each is worded as a decision to confirm, with its question; the guideline's force
    (re-excision: standard not met; radiotherapy: consider) stays."""
    a = run(R1_UTERUS, on)
    got = ids(a)
    assert not {"REC-RERESECTION", "REC-REFER-SURGERY", "REC-ADJ-RADIOTHERAPY"} & got
    assert {"REC-RERESECTION-DECIDED", "REC-ADJ-RADIOTHERAPY-DECIDED"} <= got
    assert {"MISS-REEXCISION-DECIDED", "MISS-ADJUVANT-RADIOTHERAPY"} <= missing(a)
    recs = {r.id: r for r in a.recommendations}
    assert recs["REC-RERESECTION-DECIDED"].strength == "standard not met"
    assert recs["REC-ADJ-RADIOTHERAPY-DECIDED"].strength.startswith("consider")
    assert "S04" in recs["REC-RERESECTION-DECIDED"].provenance.statements
    # tumour may have been left: the alert stands, no longer saying "now" unconditionally
    alert = next(x for x in a.alerts if x.id == "ALERT-INCOMPLETE-RESECTION")
    assert "need a plan now" not in alert.text


@pytest.mark.parametrize("margin", ["R1", "uncertain"])
def test_reexcision_recorded_beyond_surgery_not_asked(margin: str) -> None:
    """The team recorded no re-excision possible (stage.resectable no, I6): no
    re-excision item and no question about it, whenever the operation was."""
    case = copy.deepcopy(R1_UTERUS)
    case["stage"]["resectable"] = "no"
    case["surgery"]["margin"] = margin
    a = assess(parse_case(case), dt.date(2026, 12, 7))
    assert not {"REC-RERESECTION", "REC-RERESECTION-DECIDED",
                "REC-RERESECTION-OPTION"} & ids(a)
    assert "MISS-REEXCISION-DECIDED" not in missing(a)
    assert "REC-ADJ-RADIOTHERAPY-DECIDED" in ids(a)


@pytest.mark.parametrize("on", [dt.date(2019, 4, 1), BOUND["R0"]])
def test_r0_high_risk_site_recent_consider_as_today(on: dt.date) -> None:
    """R0 at the broad ligament, within 6 months: consider adjuvant radiotherapy (S10)."""
    a = run(R0_BROAD_LIGAMENT, on)
    assert "REC-ADJ-RADIOTHERAPY" in ids(a)
    assert "MISS-ADJUVANT-RADIOTHERAPY" not in missing(a)


@pytest.mark.parametrize("on", [BOUND["R0"] + dt.timedelta(days=1), dt.date(2026, 12, 7)])
def test_r0_high_risk_site_long_after_asks_whether_given(on: dt.date) -> None:
    """R0 at the broad ligament, past 6 months: whether radiotherapy was given is asked;
    the consideration is a decision to confirm, resting on the site and the time."""
    a = run(R0_BROAD_LIGAMENT, on)
    assert "REC-ADJ-RADIOTHERAPY" not in ids(a)
    item = next(r for r in a.recommendations if r.id == "REC-ADJ-RADIOTHERAPY-DECIDED")
    paths = {f.path: f.value for f in item.triggered_by}
    assert paths["tumour.primary_site"] == "broad_ligament"
    assert paths["surgery.date"] == "2019-03-15"
    assert "MISS-ADJUVANT-RADIOTHERAPY" in item.conditional_on


def test_treatment_end_after_surgery_named() -> None:
    """An end of curative treatment 3 months after an R0 resection, no systemic line:
    some treatment followed the operation; it is named beside the question."""
    case = copy.deepcopy(R0_BROAD_LIGAMENT)
    case["primary_treatment_end"] = "2019-06-30"
    a = assess(parse_case(case), dt.date(2026, 12, 7))
    item = next(r for r in a.recommendations if r.id == "REC-ADJ-RADIOTHERAPY-DECIDED")
    assert ("primary_treatment_end", "2019-06-30") in {(f.path, f.value) for f in item.triggered_by}


@pytest.mark.parametrize("data", [R1_UTERUS, R0_BROAD_LIGAMENT], ids=["R1", "R0-site"])
@pytest.mark.parametrize("on", [dt.date(2019, 12, 1), dt.date(2026, 12, 7)])
def test_radiotherapy_given_acted_on(data: dict[str, Any], on: dt.date) -> None:
    """Radiotherapy recorded as given: the consideration is acted on, not offered again,
    and not asked."""
    a = run(data, on, adjuvant_radiotherapy="yes")
    assert "REC-ADJ-RADIOTHERAPY-GIVEN" in ids(a)
    assert not {"REC-ADJ-RADIOTHERAPY", "REC-ADJ-RADIOTHERAPY-DECIDED"} & ids(a)
    assert "MISS-ADJUVANT-RADIOTHERAPY" not in missing(a)


def test_radiotherapy_not_given_long_after_not_asked() -> None:
    """Recorded as not given, years later: a decision to confirm, nothing asked."""
    a = run(R0_BROAD_LIGAMENT, dt.date(2026, 12, 7), adjuvant_radiotherapy="no")
    assert "REC-ADJ-RADIOTHERAPY-DECIDED" in ids(a)
    assert "MISS-ADJUVANT-RADIOTHERAPY" not in missing(a)


def test_r2_gross_tumour_unchanged_long_after() -> None:
    """Gross tumour left (R2) is disease in place, not a past decision: the further
    resection is still advised years later."""
    a = run(R1_UTERUS, dt.date(2026, 12, 7), margin="R2")
    assert "REC-RERESECTION-GROSS" in ids(a)
    assert "REC-RERESECTION-DECIDED" not in ids(a)


@pytest.mark.parametrize("status", ["planned", "not_performed", "unknown"])
def test_radiotherapy_given_without_operation_refused(status: str) -> None:
    """Adjuvant radiotherapy follows an operation: 'yes' without one is refused, naming
    the field, the value and what is allowed."""
    case = copy.deepcopy(R1_UTERUS)
    case["surgery"] = {"status": status, "adjuvant_radiotherapy": "yes"}
    with pytest.raises(InputError) as e:
        parse_case(case)
    assert "surgery.adjuvant_radiotherapy" in str(e.value)


def test_field_is_a_registry_column() -> None:
    """The registry file carries the new fact as a column."""
    case = copy.deepcopy(R0_BROAD_LIGAMENT)
    case["surgery"]["adjuvant_radiotherapy"] = "yes"
    assert "surgery.adjuvant_radiotherapy" in {c.name for c in COLUMNS}
    assert flatten(case, "R-1")["surgery.adjuvant_radiotherapy"] == "yes"


def test_web_form_enters_radiotherapy_given() -> None:
    """The web form has the field; 'yes' entered there is read into the case, and the
    years-old consideration is then said as acted on."""
    from pecoma.web import forms

    on = dt.date(2026, 12, 7)
    values = forms.case_to_values(parse_case(R0_BROAD_LIGAMENT), on)
    assert values.get("surgery.adjuvant_radiotherapy") == "unknown"
    values["surgery.adjuvant_radiotherapy"] = "yes"
    result = forms.form_to_case(values)
    assert result.case is not None, result.errors
    assert "REC-ADJ-RADIOTHERAPY-GIVEN" in ids(assess(result.case, on))


def test_registry_import_reads_radiotherapy_given() -> None:
    """A registry row with the column reads it; 'yes' with no operation names the column."""
    from pecoma.registry.import_check import validate_rows
    from pecoma.registry.import_table import RawRow
    from pecoma.settings import default_settings

    on = dt.date(2026, 12, 7)
    case = copy.deepcopy(R0_BROAD_LIGAMENT)
    case["surgery"]["adjuvant_radiotherapy"] = "yes"
    good, issues = validate_rows([RawRow(2, flatten(case, "PEC-1"))], on,
                                 default_settings(), assess_rows=False)
    assert not issues and len(good) == 1
    case["surgery"] = {"status": "planned", "adjuvant_radiotherapy": "yes"}
    good, issues = validate_rows([RawRow(2, flatten(case, "PEC-2"))], on,
                                 default_settings(), assess_rows=False)
    assert good == [] and [i.column for i in issues] == ["surgery.adjuvant_radiotherapy"]


@pytest.mark.parametrize("margin, margin_question", [
    ("R1", None), ("uncertain", "MISS-MARGIN-UNCERTAIN"), ("unknown", "MISS-MARGIN")])
@pytest.mark.parametrize("site", ["uterus", "soft_tissue", "broad_ligament"])
def test_margin_not_known_clear_long_after(margin: str, margin_question: str | None,
                                           site: str) -> None:
    """Years after a resection whose margin is not known to be clear (R1, uncertain, or
    not recorded: unknown is not R0), no relapse recorded: no referral for surgery and no
    re-excision as an action due now, whatever the site. Re-excision is a decision to
    confirm, waiting on whether it was decided and, for a margin not stated, on the
    margin; radiotherapy (S10) likewise. Each question names every item that waits on it
    (a margin not recorded had kept the referral for surgery eight years on)."""
    case = copy.deepcopy(R1_UTERUS)
    case["tumour"]["primary_site"] = site
    a = run(case, dt.date(2026, 12, 7), margin=margin)
    got = ids(a)
    assert not {"REC-RERESECTION", "REC-RERESECTION-OPTION", "REC-REFER-SURGERY",
                "REC-ADJ-RADIOTHERAPY", "REC-RESECTION-DONE"} & got
    assert {"REC-RERESECTION-DECIDED", "REC-ADJ-RADIOTHERAPY-DECIDED"} <= got
    recs = {r.id: r for r in a.recommendations}
    waits = set(recs["REC-RERESECTION-DECIDED"].conditional_on)
    assert waits == {"MISS-REEXCISION-DECIDED", *([margin_question] if margin_question else [])}
    affects = {m.id: set(m.affects) for m in a.missing}
    for item in (*a.recommendations, *a.alerts):
        for missing_id in item.conditional_on:
            assert item.id in affects[missing_id], (item.id, missing_id)

