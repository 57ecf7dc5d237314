"""A primary site written in plain English.

"Womb" is the plain English (and a common UK record's) name of the uterus; "bowel" that of
the intestine. A uterine PEComa whose bodySite read "Womb" was taken as site 'other':
the uterine advice (S15, epirubicin with ifosfamide; the Bennett 2018 gynecologic
criteria) was lost, though "uterine body" or "corpus uteri" gave it. The same disease gets
the same advice whatever label was picked: the plain names are read as the organ, in any
case; nothing else is guessed.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma.case import PrimarySite
from pecoma.engine import assess
from pecoma.fhir.reader import case_from_bundle

from fhir_support import example

ON = dt.date(2026, 6, 1)


def _sited(name: str, text: str) -> dict[str, Any]:
    """Example ``name`` with its PEComa Condition's bodySite given as ``text`` alone."""
    bundle = copy.deepcopy(example(name))
    cond = next(e["resource"] for e in bundle["entry"]
                if e["resource"].get("id") == "pecoma-diagnosis")
    cond["bodySite"] = [{"text": text}]
    return bundle


@pytest.mark.parametrize("text", ["Womb", "womb", "WOMB", "Body of womb", "Womb, fundus",
                                  "Uterus body", "Uterine body", "Corpus uteri"])
def test_the_uterus_by_its_plain_names(text: str) -> None:
    """Each names the uterus: the primary site is the uterus, with no note of 'other'."""
    bc = case_from_bundle(_sited("low-risk", text), on=ON)
    assert bc.case.tumour.primary_site is PrimarySite.uterus
    assert not any("read as 'other'" in n for n in bc.notes)


@pytest.mark.parametrize("text", ["Small bowel", "Large bowel", "BOWEL"])
def test_the_intestine_by_its_plain_name(text: str) -> None:
    bc = case_from_bundle(_sited("low-risk", text), on=ON)
    assert bc.case.tumour.primary_site is PrimarySite.gastrointestinal


@pytest.mark.parametrize("text", ["Womb", "Uterine body"])
def test_a_metastatic_uterine_pecoma_written_womb_gets_the_uterine_advice(text: str) -> None:
    """Metastatic PEComa of the uterus: S15's epirubicin with ifosfamide and the Bennett
    2018 gynecologic criteria are offered whichever name the record used."""
    bc = case_from_bundle(_sited("metastatic-lung-metachronous", text), on=ON)
    ids = set(assess(bc.case, ON).record_ids())
    assert {"REC-UTERINE-EPI-IFO", "CLS-BENNETT-2018"} <= ids
