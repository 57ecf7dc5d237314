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


#: A patient free of disease since 2023-08-01 (a lung metastasis found 2023-05-10, cleared
#: by systemic therapy), written to FHIR by pecoma: the free-of-disease Observation.
FREE_SINCE = "2023-08-01"
RELAPSED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2019-03-01"},
    "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
    "stage": {"status": "metastatic",
              "metastases": [{"site": "lung", "detected_on": "2023-05-10"}]},
    "surgery": {"status": "performed", "date": "2019-03-15", "margin": "R0"},
    "free_of_disease": {"since": FREE_SINCE, "by": "systemic_therapy"},
}


def free_with(lr: dict[str, Any], derived: bool = False) -> dict[str, Any]:
    """The relapsed patient's record with the local-recurrence Observation ``lr``;
    ``derived``: without the free-of-disease Observation and the disease status, the
    metastasis resolved on 2023-08-01 instead (free of disease, and the status
    'metastatic', derived from it)."""
    from pecoma import parse_case
    from pecoma.fhir.writer import bundle_from_case

    bundle = bundle_from_case(parse_case(RELAPSED))
    if derived:
        bundle["entry"] = [e for e in bundle["entry"]
                           if e["resource"].get("id") not in ("free-of-disease",
                                                              "disease-status")]
        for entry in bundle["entry"]:
            if entry["resource"].get("id") == "metastasis-1":
                entry["resource"]["abatementDateTime"] = FREE_SINCE
    lr = dict(lr, subject={"reference": "Patient/pecoma-patient"})
    bundle["entry"].append({"resource": lr})
    return bundle


class TestLocalRecurrenceBesideFreeOfDisease:
    """A local recurrence 'yes' beside free of disease (the team's Observation, or derived
    from resolved metastases) refused the whole record (the case format rejects the pair).
    Read by their dates, written by hand:

    - found on or before the day the patient became free of disease: the relapse that
      free-of-disease records, history: local_recurrence not 'yes' (not read, noted),
      free of disease since 2023-08-01 stands;
    - found after it: the disease is present again (as a metastasis found after that
      day): free of disease not taken (noted), the local recurrence 'yes' stands, and the
      advice is for present disease;
    - with no date: whether it came before or after cannot be told: local_recurrence
      unknown (asked), and free of disease not taken either (the safer reading, as for a
      statement of the disease that cannot be placed against that day).
    None refuses the record."""

    @pytest.mark.parametrize("derived", [False, True], ids=["observation", "derived"])
    @pytest.mark.parametrize("when", ["2023-05-01", FREE_SINCE])
    def test_found_on_or_before_the_day_is_history(self, when: str, derived: bool) -> None:
        read = case_from_bundle(free_with(local_recurrence(True, when), derived), on=ON)
        assert read.case.stage.local_recurrence.value == "unknown"
        assert read.case.free_of_disease is not None
        assert read.case.free_of_disease.since.isoformat() == FREE_SINCE
        assert any("Observation/lr1" in n and when in n and "history" in n
                   for n in read.notes)

    @pytest.mark.parametrize("derived", [False, True], ids=["observation", "derived"])
    def test_found_after_the_day_is_disease_present_again(self, derived: bool) -> None:
        read = case_from_bundle(free_with(local_recurrence(True, "2025-02-01"), derived),
                                on=ON)
        assert read.case.stage.local_recurrence.value == "yes"
        assert read.case.free_of_disease is None
        assert any("Observation/lr1" in n and "2025-02-01" in n and "present again" in n
                   for n in read.notes)

    @pytest.mark.parametrize("derived", [False, True], ids=["observation", "derived"])
    def test_undated_is_asked_not_refused(self, derived: bool) -> None:
        read = case_from_bundle(free_with(local_recurrence(True, None), derived), on=ON)
        assert read.case.stage.local_recurrence.value == "unknown"
        assert read.case.free_of_disease is None
        assert any("Observation/lr1" in n and "no date" in n for n in read.notes)

    def test_a_no_beside_free_of_disease_is_read(self) -> None:
        """No local recurrence, whatever its day, says what free of disease says."""
        read = case_from_bundle(free_with(local_recurrence(False, None)), on=ON)
        assert read.case.stage.local_recurrence.value == "no"
        assert read.case.free_of_disease is not None
