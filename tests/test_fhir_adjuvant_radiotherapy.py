"""Adjuvant radiotherapy given after the resection (`surgery.adjuvant_radiotherapy`) goes
to FHIR and comes back: a broad-ligament PEComa resected R0 years ago whose radiotherapy
was given is told so (REC-ADJ-RADIOTHERAPY-GIVEN), never asked again whether it was; a
record that does not say stays unknown and is asked (I30)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.case import parse_case
from pecoma.engine import assess
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

ON = dt.date(2026, 12, 7)


def case(given: str | None) -> dict[str, Any]:
    """Broad-ligament PEComa, 4 cm, R0 on 2019-03-15: S10 names radiotherapy for this
    site; more than 6 months later it is a decision taken or not at the time."""
    surgery: dict[str, Any] = {"status": "performed", "date": "2019-03-15", "margin": "R0"}
    if given is not None:
        surgery["adjuvant_radiotherapy"] = given
    return {"diagnosis": {"date": "2019-03-01", "method": "histology_with_ihc"},
            "tumour": {"primary_site": "broad_ligament", "size": {"value": 4, "unit": "cm"}},
            "stage": {"status": "localized"}, "surgery": surgery}


@pytest.mark.parametrize("given", ["yes", "no", "unknown", None])
def test_the_fact_comes_back_as_it_was_written(given: str | None) -> None:
    written = parse_case(case(given))
    back = case_from_bundle(bundle_from_case(written), on=ON).case
    assert back.surgery.adjuvant_radiotherapy == written.surgery.adjuvant_radiotherapy


def test_given_is_said_given_and_not_asked() -> None:
    """Radiotherapy recorded as given: the item says it was acted on, the question of
    whether it was given is not asked."""
    back = case_from_bundle(bundle_from_case(parse_case(case("yes"))), on=ON).case
    a = assess(back, ON)
    ids = {i.id for i in a.recommendations}
    assert "REC-ADJ-RADIOTHERAPY-GIVEN" in ids
    assert "MISS-ADJUVANT-RADIOTHERAPY" not in {m.id for m in a.missing}


def test_a_record_silent_on_it_asks() -> None:
    """Nothing recorded about radiotherapy: unknown, not absent; asked years after."""
    back = case_from_bundle(bundle_from_case(parse_case(case(None))), on=ON).case
    a = assess(back, ON)
    assert "MISS-ADJUVANT-RADIOTHERAPY" in {m.id for m in a.missing}
    assert "REC-ADJ-RADIOTHERAPY-GIVEN" not in {i.id for i in a.recommendations}
