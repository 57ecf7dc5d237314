"""A fact found in the record and set aside is not said to be missing from it.

The FHIR reader sets aside a recorded "mTOR inhibitor not contraindicated" (an
Observation saying no) beside an allergy entry it cannot identify: the entry may be to an
mTOR inhibitor, so the 'no' is not kept and the fact stays unknown (the engine asks
it). The CDS patient-view card then listed the fact under "Not found in the record",
which is untrue: the record gave it, and it was set aside for a reason the team needs
to see (to correct the allergy entry, or confirm the contraindication), not to add.

Expected, each by hand:
- the fact is not among those not found (BundleCase.not_found), and is among those set
  aside, with why (an allergy that cannot be identified);
- the card lists it under its own heading, "Found but set aside", with the reason; it is
  not under "Not found in the record";
- a fact really absent is still listed as not found (the disease-free interval, say).

The record is the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa,
mTOR inhibitors recorded available and not contraindicated) with one allergy entry
whose drug pecoma cannot identify.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.reader import case_from_bundle

from allergy_support import ON, allergy, make_client, patient_view, record

CONTRA = "systemic.mtor_inhibitor_contraindicated"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("set-aside"))


def bundle() -> dict[str, object]:
    return record(allergy(code={"text": "Zortrexib"}))


def section(detail: str, heading: str) -> str:
    """The paragraph of a card's detail that starts with the bold ``heading``."""
    m = re.search(rf"\*\*{re.escape(heading)}\*\*(.*?)(?:\n\n|$)", detail, re.S)
    return m[1] if m else ""


def test_the_reader_says_it_was_set_aside_not_that_it_was_not_found() -> None:
    bc = case_from_bundle(copy.deepcopy(bundle()), on=ON)
    assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"
    assert CONTRA not in bc.not_found
    assert CONTRA in bc.set_aside
    assert "allergy" in bc.set_aside[CONTRA] and "identif" in bc.set_aside[CONTRA]
    # a fact the record does not give is still not found
    assert "stage.disease_free_interval_months" in bc.not_found


def test_the_card_lists_it_under_its_own_heading_with_why(client: TestClient) -> None:
    cards = patient_view(client, bundle())
    head = cards[0]["detail"]
    assert CONTRA not in section(head, "Not found in the record")
    aside = section(head, "Found but set aside")
    assert f"`{CONTRA}`" in aside and "identif" in aside
    # what is really absent stays under "Not found in the record"
    assert "stage.disease_free_interval_months" in section(head, "Not found in the record")


def test_a_record_with_nothing_set_aside_has_no_such_heading(client: TestClient) -> None:
    """The example as shipped: its 'no' is kept; nothing set aside, no heading."""
    plain = record()
    bc = case_from_bundle(copy.deepcopy(plain), on=ON)
    assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "no"
    assert not bc.set_aside
    assert "Found but set aside" not in " ".join(c["detail"] for c in
                                                 patient_view(client, plain))


def test_the_command_line_says_so_too(tmp_path: Path) -> None:
    """``pecoma fhir to-case --details`` gives the set-aside facts apart, with why."""
    from allergy_support import to_case

    found = to_case(tmp_path, bundle())
    assert CONTRA not in found["not_found"]
    assert CONTRA in found["found_set_aside"]
