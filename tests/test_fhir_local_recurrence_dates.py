"""The project's ``local-recurrence`` Observation read with its date.

The record (``allergy_support``): metastatic kidney PEComa resected 2023-02-14, a lung
metastasis found 2024-10-20, the disease-status Observation coded ``recurrent`` here (so
whether a local recurrence is present too decides S16: MISS-LOCAL-RECURRENCE), and the
project's ``extrapulmonary-disease`` Observation 'no' (undated in the example). Expected
outcomes, written by hand (a fact is read for the time it was stated; unknown is not
absent; better ask than refuse a record the engine can ask about):

1. A "no local recurrence" stated on 2023-06-01, 16 months before the metastasis found
   2024-10-20, says nothing of the disease now: not read (noted), so
   MISS-LOCAL-RECURRENCE is still asked and S16 (resect the lung metastases) waits, as
   a "no disease outside the lungs" stated before a metastasis outside the lungs is. The
   same "no" stated 2026-11-01, after the metastasis was found, stands.
2. A local recurrence 'yes' beside an extrapulmonary-disease 'no' of another day is no
   contradiction to refuse: the later statement speaks of now. 'yes' on 2026-11-01 after
   'no' on 2024-10-25: the 'no' is not read (noted), the local recurrence stands (disease
   outside the lungs, S16 not met). 'no' on 2026-11-25 after 'yes' on 2024-11-01: the
   local recurrence 'yes' is not read (noted), the 'no' stands. When one of them has no
   date, which is later cannot be told: neither is read (noted), and both are asked. Only
   two stated on the same day still refuse the record (they contradict each other).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from pecoma.errors import InputError
from pecoma.fhir import codes as c
from pecoma.fhir.reader import case_from_bundle

from allergy_support import ON, PATIENT, make_client, patient_view, record


def local_recurrence(value: bool, when: str | None) -> dict[str, Any]:
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": "lr1", "status": "final",
        "code": {"coding": [{"system": c.PECOMA_SYSTEM, "code": "local-recurrence"}]},
        "subject": {"reference": f"Patient/{PATIENT}"}, "valueBoolean": value}
    if when is not None:
        obs["effectiveDateTime"] = when
    return obs


def recurrent(lr: dict[str, Any], extrapulmonary_on: str | None = None) -> dict[str, Any]:
    bundle = record(lr)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource.get("id") == "disease-status":
            resource["valueCodeableConcept"]["coding"][0]["code"] = "recurrent"
        if resource.get("id") == "extrapulmonary-disease" and extrapulmonary_on:
            resource["effectiveDateTime"] = extrapulmonary_on
    return bundle


class TestNoLocalRecurrenceStatedBefore:
    def test_a_no_before_the_metastasis_is_not_read(self) -> None:
        read = case_from_bundle(recurrent(local_recurrence(False, "2023-06-01")), on=ON)
        assert read.case.stage.local_recurrence.value == "unknown"
        assert any("Observation/lr1" in n and "2023-06-01" in n and "2024-10-20" in n
                   for n in read.notes)

    def test_s16_still_waits(self) -> None:
        client = make_client(Path(tempfile.mkdtemp()))
        [summary] = [card["summary"] for card in patient_view(
            client, recurrent(local_recurrence(False, "2023-06-01")))
            if card["summary"].startswith("PEComa")]
        assert "Resect the metachronous lung metastases" not in summary
        assert "not known yet" in summary

    def test_a_no_after_the_metastasis_stands(self) -> None:
        read = case_from_bundle(recurrent(local_recurrence(False, "2026-11-01")), on=ON)
        assert read.case.stage.local_recurrence.value == "no"


class TestLocalRecurrenceBesideNoExtrapulmonary:
    def test_a_later_yes_supersedes_an_older_no(self) -> None:
        read = case_from_bundle(recurrent(local_recurrence(True, "2026-11-01"),
                                          extrapulmonary_on="2024-10-25"), on=ON)
        assert read.case.stage.local_recurrence.value == "yes"
        assert read.case.stage.extrapulmonary_disease.value == "unknown"
        assert any("Observation/extrapulmonary-disease" in n and "2026-11-01" in n
                   for n in read.notes)

    def test_a_later_no_supersedes_an_older_yes(self) -> None:
        read = case_from_bundle(recurrent(local_recurrence(True, "2024-11-01"),
                                          extrapulmonary_on="2026-11-25"), on=ON)
        assert read.case.stage.extrapulmonary_disease.value == "no"
        assert read.case.stage.local_recurrence.value == "unknown"
        assert any("Observation/lr1" in n and "2026-11-25" in n for n in read.notes)

    def test_an_undated_one_leaves_both_asked(self) -> None:
        read = case_from_bundle(recurrent(local_recurrence(True, "2026-11-01")), on=ON)
        assert read.case.stage.extrapulmonary_disease.value == "unknown"
        assert read.case.stage.local_recurrence.value == "unknown"

    def test_patient_view_checks_the_record(self) -> None:
        client = make_client(Path(tempfile.mkdtemp()))
        cards = patient_view(client, recurrent(local_recurrence(True, "2026-11-01"),
                                               extrapulmonary_on="2024-10-25"))
        assert not [card for card in cards if "check not possible" in card["summary"]]

    def test_the_same_day_still_refuses(self) -> None:
        with pytest.raises(InputError, match=r"contradicts 'stage\.extrapulmonary_disease'"):
            case_from_bundle(recurrent(local_recurrence(True, "2026-11-01"),
                                       extrapulmonary_on="2026-11-01"), on=ON)
