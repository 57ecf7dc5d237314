"""Opposite class judgements on intolerances of one drug are no judgement (I15).

Sirolimus recorded as not tolerated of the class ('yes') and, on another record, of that
drug alone ('no') (or nab-sirolimus 'no', the same drug) had been read as 'yes' with
nothing asked: the advice came out unconditional, whereas the same intolerance with no
judgement recorded is asked (MISS-MTOR-INTOLERANCE) and the advice provisional on it. The
only trace was a derived fact no clinician looks at, and the contraindication's fact said
"the intolerance of the class as the team records it". Now a contradiction is read as an
unknown judgement with the safer reading meanwhile: the same question, naming both
records, the items provisional on it, the text report and the CDS card saying so.

Beside it, two S16 fixes: a stated interval beside a resection that left gross tumour no
longer makes an undated metastasis metachronous (the interval S16 does not trust), and the
question what cleared that tumour says plainly how to record the answer (a completing
resection, or the gross residue cleared without one).

The case is an oncologist's record (tests/data/line_records/c67.json): metastatic disease
beyond surgery; the S16 case is the golden scenario lung-metastasis-after-r2-stated-interval.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment

from allergy_support import SIROLIMUS, allergy, details, make_client, patient_view, record
from cli_support import run_cli

DATA = Path(__file__).parent / "data" / "line_records"
R2_CASE = Path(__file__).parent / "scenarios" / "lung-metastasis-after-r2-stated-interval"
ON = dt.date(2026, 12, 7)


def _case(*intolerances: tuple[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "c67.json").read_text())
    data["systemic"]["intolerances"] = [
        {"agent": agent, "class_wide": judged} for agent, judged in intolerances]
    # recorded absent: S14's option waits on the intolerance judgements alone here (the
    # anthracycline contraindication left unknown is asked beside it, HAZ-528)
    data["systemic"].setdefault("anthracycline_contraindicated", "no")
    return data


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _item(a: Assessment, rid: str) -> Any:
    return next(i for i in a.recommendations if i.id == rid)


@pytest.mark.parametrize("listed", [
    pytest.param((("sirolimus", "yes"), ("sirolimus", "no")), id="sirolimus-twice"),
    pytest.param((("sirolimus", "yes"), ("nab_sirolimus", "no")), id="sirolimus-nab"),
    pytest.param((("nab_sirolimus", "no"), ("sirolimus", "yes")), id="nab-first"),
])
def test_mtor_judged_both_ways_is_asked_as_unknown(
        listed: tuple[tuple[str, str], ...]) -> None:
    """Expected, as for sirolimus with no judgement recorded: every mTOR inhibitor ruled
    out meanwhile (S14's anthracycline shown, no mTOR inhibitor proposed), S14 provisional
    on MISS-MTOR-INTOLERANCE, whose question names both records and their judgements; the
    contraindication's fact says the judgements contradict each other, never that the
    team records the class."""
    a = _assess(_case(*listed))
    unknown = _assess(_case(("sirolimus", "unknown")))
    s14 = _item(a, "REC-ANTHRACYCLINE")
    assert "MISS-MTOR-INTOLERANCE" in s14.conditional_on
    assert "MISS-MTOR-INTOLERANCE" in _item(unknown, "REC-ANTHRACYCLINE").conditional_on
    assert not {i.id for i in a.recommendations} & {"REC-MTOR-FIRST-LINE",
                                                   "SUPP-NAB-SIROLIMUS"}
    asked = next(m for m in a.missing if m.id == "MISS-MTOR-INTOLERANCE")
    assert "REC-ANTHRACYCLINE" in asked.affects
    assert "('yes')" in asked.question and "('no')" in asked.question
    assert "contradict" in asked.question
    contra = {f.path: f.value for f in s14.triggered_by}["derived.mtor_inhibitor_contraindicated"]
    assert "contradict" in contra and "meanwhile" in contra
    assert "as the team records it" not in contra


def test_judged_both_ways_beside_a_judgement_of_the_class_is_not_asked() -> None:
    """Everolimus recorded of the class, uncontradicted, rules the class out by itself:
    the sirolimus records judged both ways change nothing, so nothing is asked."""
    a = _assess(_case(("sirolimus", "yes"), ("sirolimus", "no"), ("everolimus", "yes")))
    assert "MISS-MTOR-INTOLERANCE" not in {m.id for m in a.missing}
    assert not _item(a, "REC-ANTHRACYCLINE").conditional_on


def test_anthracycline_judged_both_ways_withholds_epirubicin_and_asks() -> None:
    """A uterine primary, mTOR inhibitors unavailable: doxorubicin recorded of the class
    and, on another record, of that drug alone. Expected, as for doxorubicin with no
    judgement: S15's epirubicin with ifosfamide withheld meanwhile, the item provisional on
    MISS-ANTHRACYCLINE-INTOLERANCE, the question naming both records. (A regimen holding
    ifosfamide not tolerated would rule S15 out by itself, whatever the judgement.)"""
    data = _case(("doxorubicin", "yes"), ("doxorubicin", "no"))
    data["tumour"]["primary_site"] = "uterus"
    data["systemic"]["mtor_inhibitor_available"] = "no"
    a = _assess(data)
    withheld = _item(a, "REC-REGIMEN-NOT-TOLERATED")
    assert "MISS-ANTHRACYCLINE-INTOLERANCE" in withheld.conditional_on
    assert "REC-UTERINE-EPI-IFO" not in {i.id for i in a.recommendations}
    asked = next(m for m in a.missing if m.id == "MISS-ANTHRACYCLINE-INTOLERANCE")
    assert "systemic.intolerances[0] (doxorubicin)" in asked.question
    assert "contradict" in asked.question
    said = {f.path: f.value for f in withheld.triggered_by}["derived.anthracycline_intolerance"]
    assert "recorded both ways" in said


def test_text_report_shows_the_question(tmp_path: Path) -> None:
    """The text report a clinician reads: S14 marked provisional on the question, and the
    question asked of both records."""
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_case(("sirolimus", "yes"), ("sirolimus", "no"))))
    out = run_cli("assess", str(path), "--on", ON.isoformat(), columns=200).stdout
    assert "Provisional until supplied: MISS-MTOR-INTOLERANCE" in out
    assert "the judgements contradict each other" in out


def test_cds_card_shows_the_question(tmp_path: Path) -> None:
    """A FHIR record: sirolimus class-wide 'yes', nab-sirolimus class-wide 'no' (one
    drug). The summary card counts the fact unknown, its detail asks the question naming
    both, and the reader's note says the judgements contradict each other."""
    def cw(v: str) -> list[dict[str, str]]:
        return [{"url": codes.EXT.INTOLERANCE_CLASS_WIDE, "valueCode": v}]
    from pecoma.fhir import codes
    bundle = record(allergy("a1", code=SIROLIMUS, extension=cw("yes")),
                    allergy("a2", code={"text": "nab-sirolimus (Fyarro)"},
                            extension=cw("no")))
    cards = patient_view(make_client(tmp_path), bundle)
    assert any("fact(s) unknown" in c["summary"] for c in cards)
    text = details(cards)
    assert "MISS-MTOR-INTOLERANCE" in text or "Class-wide?" in text
    assert "the judgements contradict each other" in text
    assert "AllergyIntolerance/a1" in text and "AllergyIntolerance/a2" in text


def test_stated_interval_beside_r2_does_not_make_an_undated_metastasis_metachronous(
        ) -> None:
    """R2 resection, nothing completing it, 14 months stated, the lung metastasis with no
    date. The stated interval is not S16's (what cleared the gross tumour is asked), so it
    does not decide the timing either: unknown, asked (MISS-METASTASIS-TIMING)."""
    data = json.loads((R2_CASE / "case.json").read_text())
    del data["stage"]["metastases"][0]["detected_on"]
    a = assess(parse_case(data), dt.date(2026, 11, 28))
    derived = {f.path: f.value for f in a.derived}
    assert derived["derived.metastases[0].timing"] == "unknown"
    assert "MISS-METASTASIS-TIMING" in {m.id for m in a.missing}
    # R0 with the same stated interval: metachronous from it, as before
    data["surgery"]["margin"] = "R0"
    b = assess(parse_case(data), dt.date(2026, 11, 28))
    assert {f.path: f.value for f in b.derived}["derived.metastases[0].timing"] == \
        "metachronous"


def test_gross_residue_question_says_what_can_answer_it() -> None:
    """A completing resection, or a clearance without a resection recorded as the gross
    residue cleared (surgery.gross_residue_cleared), answers it; radiotherapy is never
    to be recorded as a completion."""
    data = json.loads((R2_CASE / "case.json").read_text())
    a = assess(parse_case(data), dt.date(2026, 11, 28))
    asked = next(m for m in a.missing if m.id == "MISS-GROSS-RESIDUE-CLEARED")
    assert asked.field == "surgery.gross_residue_cleared"
    assert "Never record a clearance without a resection as a completion" in asked.question
    assert "counted from it" in asked.would_change
    dfi = {f.path: f.value for f in a.derived}["derived.disease_free_interval_months"]
    assert "until it is" not in dfi and "as the gross residue cleared" in dfi
