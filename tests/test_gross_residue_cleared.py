"""Gross tumour left by the primary's resection (R2), cleared without a resection (I5).

A residue cleared by radiotherapy, an ablation or systemic treatment could not be
recorded: only a completing resection could, so MISS-GROSS-RESIDUE-CLEARED stayed open
for ever and S16's lung metastasectomy stayed pending whatever the record held. The case
now records the clearance (``surgery.gross_residue_cleared``: its date and how): the
patient is free of disease from that day, S16's disease-free interval is counted from it
to the first metastasis (I5, as from the end of curative treatment) and the question is
not asked. An undated clearance leaves the interval to a stated one, else asked.

The case is the golden scenario lung-metastasis-after-r2-resection: a retroperitoneal
primary resected R2 on 2024-02-01, one lung metastasis found on 2025-06-01, no disease
outside the lungs, complete excision feasible.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item
from pecoma.errors import InputError
from pecoma.registry.columns import COLUMN_NAMES, flatten
from pecoma.registry.importer import import_file
from pecoma.registry.routine import free_from_of
from pecoma.settings import default_settings
from pecoma.store import Repository
from pecoma.web.form_layout import FORM

from registry_support import ON as REGISTRY_ON
from registry_support import db_url, repo, write_csv

__all__ = ["db_url", "repo"]

CASE = Path(__file__).parent / "scenarios" / "lung-metastasis-after-r2-resection" / "case.json"
ON = dt.date(2026, 12, 7)
DFI = "derived.disease_free_interval_months"
CLEARED_ASKED = "MISS-GROSS-RESIDUE-CLEARED"
S16_IDS = ("REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-NOT-MET",
           "REC-LUNG-METASTASECTOMY-PENDING", "REC-LUNG-METASTASECTOMY-NOT-POSSIBLE")


def _case(cleared: dict[str, Any] | None, **stage: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(CASE.read_text())
    if cleared is not None:
        data["surgery"]["gross_residue_cleared"] = cleared
    data["stage"].update(stage)
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _s16(a: Assessment) -> Item:
    [item] = [i for i in a.recommendations if i.id in S16_IDS]
    return item


def _fact(item: Item, path: str) -> str:
    return {f.path: str(f.value) for f in item.triggered_by}[path]


def test_control_without_the_clearance_s16_is_not_met() -> None:
    """Control: R2 and nothing cleared it recorded, no interval stated: never free of
    disease, S16's interval 0, not met."""
    a = _assess(_case(None))
    assert _s16(a).id == "REC-LUNG-METASTASECTOMY-NOT-MET"


def test_cleared_by_radiotherapy_counts_the_interval_from_that_day() -> None:
    """Cleared by radiotherapy on 2024-05-01; the lung metastasis found 2025-06-01: 13
    whole months free of disease, at least S16's 12. Expected: the lung metastasectomy
    advised (REC-LUNG-METASTASECTOMY, unconditional), MISS-GROSS-RESIDUE-CLEARED not
    asked, the interval saying it counts from the clearance, its day and how, in the
    item and the derived facts alike; the clearance among the item's facts."""
    a = _assess(_case({"date": "2024-05-01", "by": "radiotherapy"}))
    item = _s16(a)
    assert item.id == "REC-LUNG-METASTASECTOMY"
    assert item.conditional_on == ()
    assert CLEARED_ASKED not in {m.id for m in a.missing}
    dfi = _fact(item, DFI)
    assert dfi == ("13 months (dates, counted from 2024-05-01, the day the gross tumour "
                   "the resection left (R2) was cleared by radiotherapy: free of disease "
                   "from then, I5)")
    assert {f.path: f.value for f in a.derived}[DFI] == dfi
    assert _fact(item, "surgery.gross_residue_cleared.date") == "2024-05-01"


def test_cleared_less_than_a_year_before_the_metastasis_is_not_met() -> None:
    """Cleared by systemic therapy on 2024-08-01: 10 months to 2025-06-01, short of 12.
    Expected: S16 not met, nothing asked of it."""
    a = _assess(_case({"date": "2024-08-01", "by": "systemic_therapy"}))
    item = _s16(a)
    assert item.id == "REC-LUNG-METASTASECTOMY-NOT-MET"
    assert item.conditional_on == ()
    assert _fact(item, DFI).startswith("10 months (dates, counted from 2024-08-01")


def test_undated_clearance_takes_the_stated_interval() -> None:
    """Cleared (by an ablation), its day not recorded, 14 months stated: what the stated
    interval counts from is recorded, so it is S16's interval, shown as stated (never
    'not taken as met'), and makes the lung metastasis metachronous as any stated
    interval above 0 does (I5, I7). Expected: the metastasectomy advised, nothing asked
    of it, the clearance question not asked."""
    a = _assess(_case({"by": "ablation"}, disease_free_interval_months=14))
    item = _s16(a)
    assert item.id == "REC-LUNG-METASTASECTOMY"
    assert item.conditional_on == ()
    assert CLEARED_ASKED not in {m.id for m in a.missing}
    assert _fact(item, DFI) == "14 months (stated)"
    assert _fact(item, "surgery.gross_residue_cleared.by") == "ablation"


def test_undated_clearance_and_no_interval_asks_the_interval() -> None:
    """Cleared, day and interval both not recorded: the interval is unknown (not 0: the
    tumour was cleared), S16 pending on MISS-DFI, never on the clearance question."""
    a = _assess(_case({"by": "radiotherapy"}))
    item = _s16(a)
    assert item.id == "REC-LUNG-METASTASECTOMY-PENDING"
    assert "MISS-DFI" in item.conditional_on
    assert "MISS-TREATMENT-END" in item.conditional_on
    assert CLEARED_ASKED not in {m.id for m in a.missing}


@pytest.mark.parametrize(("change", "path", "words"), [
    pytest.param({"margin": "R0"}, "surgery.gross_residue_cleared",
                 "'surgery.margin' is 'R2'", id="not-r2"),
    pytest.param({"date": "2024-03-01"}, "surgery.gross_residue_cleared.date",
                 "2024-02-01", id="before-surgery"),
])
def test_refused_where_it_cannot_be(change: dict[str, str], path: str, words: str) -> None:
    """A clearance beside a margin that left no gross tumour, or cleared before the
    operation that left the tumour, is refused naming the field, value and rule."""
    data = _case({"date": "2024-01-15", "by": "radiotherapy"})
    if "margin" in change:
        data["surgery"]["margin"] = change["margin"]
        data["surgery"]["gross_residue_cleared"]["date"] = "2024-05-01"
    with pytest.raises(InputError) as err:
        parse_case(data)
    issue = next(i for i in err.value.issues if i.path == path)
    assert words in issue.rule


def test_unknown_way_is_refused_by_name() -> None:
    """'by' outside its choices is named with the choices."""
    with pytest.raises(InputError) as err:
        parse_case(_case({"date": "2024-05-01", "by": "laser"}))
    issue = next(i for i in err.value.issues if i.path == "surgery.gross_residue_cleared.by")
    assert "radiotherapy" in issue.rule


def test_registry_row_and_web_form_record_both_fields(repo: Repository,
                                                      tmp_path: Path) -> None:
    """The registry columns surgery.gross_residue_cleared.date/.by and
    systemic.anthracycline_contraindicated import into the stored case as entered; the
    web form has a control for each."""
    data = _case({"date": "2024-05-01", "by": "radiotherapy"})
    data["systemic"]["anthracycline_contraindicated"] = "yes"
    row = flatten(data, "R2-CLEARED")
    write_csv(tmp_path / "r.csv", [row], list(COLUMN_NAMES))
    report = import_file(repo, tmp_path / "r.csv", on_date=REGISTRY_ON,
                         settings=default_settings(), actor="import")
    assert not report.issues, report.lines()
    timeline = repo.timeline("R2-CLEARED")
    assert timeline is not None
    stored = timeline.cases[-1].case
    assert stored["surgery"]["gross_residue_cleared"] == {"date": "2024-05-01",
                                                          "by": "radiotherapy"}
    assert stored["systemic"]["anthracycline_contraindicated"] == "yes"
    names = {c.name for g in FORM for c in g.controls}
    assert {"surgery.gross_residue_cleared.date", "surgery.gross_residue_cleared.by",
            "systemic.anthracycline_contraindicated"} <= names


def test_localized_residue_cleared_by_radiotherapy() -> None:
    """Localized disease (no metastasis), R2 on 2024-02-01, the residue cleared by
    radiotherapy on 2024-05-01. Recorded facts rule out gross tumour now, so expected:
    no completing resection proposed (REC-RERESECTION-GROSS, whose text says disease is
    present), no 'tumour left behind' alert (the bed alert says tumour may have been
    left, I27, naming the clearance), S10's radiotherapy recorded as given, and a
    surveillance plan counted from the clearance day (not FU-NO-PLAN-RESIDUAL-TUMOUR)."""
    data = _case({"date": "2024-05-01", "by": "radiotherapy"})
    data["stage"] = {"status": "localized", "lymph_nodes": "negative", "resectable": "yes"}
    a = _assess(data)
    ids = {i.id for i in a.items()}
    assert not ids & {"REC-RERESECTION-GROSS", "ALERT-GROSS-RESIDUAL",
                      "FU-NO-PLAN-RESIDUAL-TUMOUR", "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION"}
    assert {"REC-ADJ-RADIOTHERAPY-GIVEN", "ALERT-INCOMPLETE-RESECTION",
            "FU-HIGH-INTENSIVE"} <= ids
    alert = next(i for i in a.alerts if i.id == "ALERT-INCOMPLETE-RESECTION")
    assert _fact(alert, "surgery.gross_residue_cleared.by") == "radiotherapy"
    assert {f.path: f.value for f in a.derived}["derived.primary_treatment_end"] == \
        "2024-05-01"
    assert "MISS-RESIDUAL-RESECTABLE" not in {m.id for m in a.missing}
    # the registry's day free of disease follows the same rule
    assert free_from_of(parse_case(data)) == dt.date(2024, 5, 1)


def test_cleared_by_radiotherapy_beside_no_radiotherapy_is_refused() -> None:
    """Gross residue recorded cleared by radiotherapy while 'surgery.adjuvant_radiotherapy'
    says 'no' radiotherapy was given after the resection: one of the two is wrong, and the
    report would otherwise say S10's radiotherapy was given (REC-ADJ-RADIOTHERAPY-GIVEN)
    against the record. Refused, naming both fields and what to record."""
    data = _case({"date": "2024-05-01", "by": "radiotherapy"})
    data["surgery"]["adjuvant_radiotherapy"] = "no"
    with pytest.raises(InputError) as err:
        parse_case(data)
    issue = next(i for i in err.value.issues
                 if i.path == "surgery.gross_residue_cleared.by")
    assert issue.value == "'radiotherapy'"
    assert "surgery.adjuvant_radiotherapy" in issue.rule
    assert "'no'" in issue.rule


@pytest.mark.parametrize("given", ["yes", "unknown"])
def test_cleared_by_radiotherapy_beside_radiotherapy_given_or_unknown(given: str) -> None:
    """Control: radiotherapy recorded as given, or not recorded, is no contradiction."""
    data = _case({"date": "2024-05-01", "by": "radiotherapy"})
    data["surgery"]["adjuvant_radiotherapy"] = given
    parse_case(data)


def _localized_r2(operated: str, cleared: dict[str, str]) -> dict[str, Any]:
    """A localized retroperitoneal PEComa resected R2 on ``operated``, the gross residue
    recorded cleared without a further resection."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10"},
        "tumour": {"primary_site": "retroperitoneum", "size": {"value": 8.0, "unit": "cm"}},
        "histology": {"necrosis": "present"},
        "stage": {"status": "localized", "lymph_nodes": "negative"},
        "surgery": {"status": "performed", "date": operated, "margin": "R2",
                    "adjuvant_radiotherapy": "yes", "gross_residue_cleared": cleared},
    }


def test_cleared_residue_within_six_months_gets_r1_advice() -> None:
    """R2 on 2026-09-01, the residue cleared by radiotherapy on 2026-11-20, assessed
    2026-12-07 (3 months after the operation). Imaging cannot show microscopic tumour
    gone: the bed is at best as after R1, so expected R1's advice: REC-RERESECTION
    ("Margins not clear: discuss completing the resection", S03) and REC-REFER-SURGERY
    (S04), their facts naming the clearance; never R2's "gross tumour left" item."""
    data = _localized_r2("2026-09-01", {"date": "2026-11-20", "by": "radiotherapy"})
    data["diagnosis"]["date"] = "2026-05-10"
    a = _assess(data)
    ids = {i.id for i in a.recommendations}
    assert {"REC-RERESECTION", "REC-REFER-SURGERY"} <= ids
    assert "REC-RERESECTION-GROSS" not in ids
    item = next(i for i in a.recommendations if i.id == "REC-RERESECTION")
    assert _fact(item, "surgery.margin") == "R2"
    assert _fact(item, "surgery.gross_residue_cleared.by") == "radiotherapy"
    assert _fact(item, "surgery.gross_residue_cleared.date") == "2026-11-20"
    assert "MISS-RESIDUAL-RESECTABLE" not in {m.id for m in a.missing}


def test_cleared_residue_past_six_months_asks_whether_reexcision_was_decided() -> None:
    """R2 on 2024-01-20, the residue cleared by ablation (no date), assessed 2026-12-07:
    more than 6 months after the operation, no relapse. As for R1 then (I30): expected
    REC-RERESECTION-DECIDED, provisional on MISS-REEXCISION-DECIDED, its facts naming the
    clearance; no MISS-MARGIN (the margin is recorded)."""
    a = _assess(_localized_r2("2024-01-20", {"by": "ablation"}))
    item = next(i for i in a.recommendations if i.id == "REC-RERESECTION-DECIDED")
    assert "MISS-REEXCISION-DECIDED" in item.conditional_on
    assert _fact(item, "surgery.gross_residue_cleared.by") == "ablation"
    assert _fact(item, "surgery.gross_residue_cleared.date") == "unknown"
    ids = {i.id for i in a.recommendations}
    assert not ids & {"REC-RERESECTION-GROSS", "REC-RERESECTION"}
    assert "MISS-MARGIN" not in {m.id for m in a.missing}


def _cleared_message(surgery: dict[str, Any]) -> str:
    from pecoma.web.form_messages import issue_message
    data = _localized_r2("2024-01-20", {"date": "2024-05-01", "by": "ablation"})
    data["surgery"].update(surgery)
    with pytest.raises(InputError) as err:
        parse_case(data)
    issue = next(i for i in err.value.issues if i.path == "surgery.gross_residue_cleared")
    return issue_message(issue)


def test_refusal_beside_r1_names_the_margin_once_and_no_raw_path() -> None:
    """A clearance beside margin R1 (no gross tumour was left): the form's message names
    “Resection margin” once with the 'R1' entered, and the completing resection by its
    form labels, never a raw path such as 'surgery.completion'."""
    text = _cleared_message({"margin": "R1"})
    assert text.count("“Resection margin”") == 1
    assert "'R1'" in text
    assert "“Completing resection after R2: date”" in text
    assert "surgery." not in text


def test_refusal_after_a_completing_r0_names_the_completion_margin() -> None:
    """R2, then a completing resection R0 on 2024-03-01, then a clearance: the margin at
    fault is the completing resection's R0 (it removed the tumour), so the message names
    “Completing resection after R2: margin” and 'R0', not the first margin's R2 as if it
    were the reason."""
    text = _cleared_message({"completion": {"date": "2024-03-01", "margin": "R0"}})
    assert "“Completing resection after R2: margin”" in text
    assert "'R0'" in text
    assert "“Resection margin”" not in text
    assert "surgery." not in text
