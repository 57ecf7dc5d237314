"""A result dated to the day is of that whole day, as one dated to the month or year is of
that whole period (FHIR dateTime precision).

The reader had compared a day alone (``2025-02-03``) as if it were that day's midnight, so
any result timed later the same day (``2025-02-03T10:00:00+09:00``) was "the later
result" and won silently: a gross pathology size of 9.5 cm, dated to the day, gave way to
a 4.0 cm measurement timed that morning, and the risk fell from high to low (S05, S06:
size above 5 cm is a high-risk feature) with no note; a necrosis reported present, dated
to the day, gave way to an "absent" timed that afternoon. Which of the two was made later
cannot be told, so two such results that disagree leave the fact unknown, with a note
naming both (the rule for results of one time, docs/fhir.md "Other rules of the reader"),
for every fact read "the later result wins": sizes, histology, margins, the disease
status.

A day alone says no time zone. A time of day is within it when the day it is written on,
in its own zone, is that day (``2025-02-03T05:00:00+09:00``, whose moment in UTC is on the
2nd), or when its moment in UTC is (``2025-02-02T20:00:00-05:00``, the 3rd in UTC, as a
server writing UTC would date it): either may be the day the record meant.

The records: the shipped example ``low-risk`` (a PEComa resected 2024-03-01, R0, every
high-risk feature absent, 3.2 cm: risk low) and the mCODE record
``tests/data/mcode/uterus-localized.json`` (localized from its denial of metastatic
history, a CancerDiseaseStatus "improved" of 2024-05-02).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Feature, Margin
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir import codes as c
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, prefetch_of

ON = dt.date(2026, 1, 15)
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
#: The gross pathology size, dated to the resection's day only.
DAY = "2024-03-01"


def low_risk(*results: dict[str, Any], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """The ``low-risk`` example without the resources ``drop`` names, with ``results``."""
    bundle = copy.deepcopy(example("low-risk"))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") not in drop]
    bundle["entry"] += [{"resource": copy.deepcopy(r)} for r in results]
    return bundle


def size(rid: str, cm: float, when: str, issued: str | None = None) -> dict[str, Any]:
    """An mCODE TumorSize of the PEComa: its longest dimension, ``cm``."""
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "21889-1"}]},
        "subject": {"reference": "Patient/pat-1002"},
        "effectiveDateTime": when,
        "component": [{
            "code": {"coding": [{"system": LOINC, "code": "33728-7"}]},
            "valueQuantity": {"value": cm, "unit": "cm", "system": c.UCUM, "code": "cm"}}]}
    if issued is not None:
        obs["issued"] = issued
    return obs


def necrosis(rid: str, present: bool, when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": c.PECOMA_SYSTEM, "code": "necrosis"}]},
            "subject": {"reference": "Patient/pat-1002"}, "effectiveDateTime": when,
            "valueCodeableConcept": {"coding": [{
                "system": c.PECOMA_SYSTEM, "code": "present" if present else "absent"}]}}


def sizes(*results: dict[str, Any]) -> dict[str, Any]:
    return low_risk(*results, drop=("tumour-size",))


def both_orders(one: dict[str, Any], other: dict[str, Any],
                make: Any = sizes) -> list[BundleCase]:
    """The record read with the two results in each order of the bundle's entries."""
    return [case_from_bundle(make(one, other), on=ON),
            case_from_bundle(make(other, one), on=ON)]


def noted(bc: BundleCase, fact: str, *where: str) -> bool:
    """Whether a note says the results at ``where`` disagree, so ``fact`` is unknown."""
    return any(n.startswith(f"{fact}:") and "disagree" in n and f"{fact} is unknown" in n
               and all(f"Observation/{w}" in n for w in where) for n in bc.notes)


class TestADayAloneIsTheWholeDay:
    def test_a_size_dated_to_the_day_and_one_timed_that_day_disagree(self) -> None:
        """9.5 cm (gross pathology, dated to the day) and 4.0 cm timed that morning:
        which is later cannot be told, so the size is unknown, noted with both, and the
        risk is not low (a size above 5 cm is a high-risk feature, S06): indeterminate,
        followed on the high-risk schedule until the size is given. The 4.0 cm had won
        silently: risk low."""
        for bc in both_orders(size("gross", 9.5, DAY),
                              size("timed", 4.0, "2024-03-01T10:00:00+09:00")):
            assert bc.case.tumour.size is None
            assert "tumour.size" in bc.not_found
            assert noted(bc, "tumour.size", "gross", "timed")
            assert assess(bc.case, ON).risk.group == "indeterminate"

    def test_either_result_alone_gives_its_risk(self) -> None:
        """Control: alone, each is read: 9.5 cm high risk, 4.0 cm low."""
        high = case_from_bundle(sizes(size("gross", 9.5, DAY)), on=ON)
        low = case_from_bundle(sizes(size("timed", 4.0, "2024-03-01T10:00:00+09:00")), on=ON)
        assert assess(high.case, ON).risk.group == "high"
        assert assess(low.case, ON).risk.group == "low"

    def test_necrosis_dated_to_the_day_and_absent_timed_that_day(self) -> None:
        """Necrosis present (dated 2024-03-05) and absent (2024-03-05T15:00:00Z): unknown,
        noted; the 'absent' had won silently."""
        for bc in both_orders(necrosis("nec-day", True, "2024-03-05"),
                              necrosis("nec-timed", False, "2024-03-05T15:00:00Z"),
                              make=lambda *r: low_risk(*r, drop=("histology-necrosis",))):
            assert bc.case.histology.necrosis is Feature.unknown
            assert noted(bc, "histology.necrosis", "nec-day", "nec-timed")
            assert assess(bc.case, ON).risk.group != "low"

    @pytest.mark.parametrize("timed", [
        # written on the 1st in its own zone, the 29th of February in UTC
        "2024-03-01T05:00:00+09:00",
        # written on the 29th in its own zone, the 1st in UTC (a server writing UTC
        # would date it the 1st)
        "2024-02-29T20:00:00-05:00",
    ])
    def test_a_time_of_the_day_in_its_own_zone_or_in_utc_is_within_it(
            self, timed: str) -> None:
        """A day alone names no zone: a time whose own day, or whose day in UTC, is that
        day may be of it, so the two are of one time (the safer reading: unknown)."""
        for bc in both_orders(size("gross", 9.5, DAY), size("timed", 4.0, timed)):
            assert bc.case.tumour.size is None
            assert noted(bc, "tumour.size", "gross", "timed")

    def test_when_each_was_issued_does_not_order_them(self) -> None:
        """The one dated to the day issued later (the pathology report, two days on)
        says nothing of which measurement was made later that day: still unknown (issued
        orders two results of the same effective time only)."""
        for bc in both_orders(size("gross", 9.5, DAY, issued="2024-03-03T09:00:00Z"),
                              size("timed", 4.0, "2024-03-01T10:00:00+09:00",
                                   issued="2024-03-01T12:00:00+09:00")):
            assert bc.case.tumour.size is None


class TestWhatStillOrdersResults:
    def test_two_times_of_one_day_the_later_wins(self) -> None:
        """Two timed results of one day are two moments: the later wins, in either
        order, with no note."""
        for bc in both_orders(size("morning", 9.5, "2024-03-01T09:00:00+09:00"),
                              size("afternoon", 4.0, "2024-03-01T15:00:00+09:00")):
            assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 4.0
            assert bc.sources["tumour.size"] == "Observation/afternoon"
            assert not any(n.startswith("tumour.size:") for n in bc.notes)

    def test_a_time_of_the_next_day_is_later_than_the_day(self) -> None:
        """A day alone and a time of the next day (in its zone and in UTC): the time
        is later and wins, whichever comes first in the bundle."""
        for bc in both_orders(size("gross", 9.5, "2024-02-28"),
                              size("timed", 4.0, "2024-02-29T10:00:00+01:00")):
            assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 4.0
            assert not any("disagree" in n for n in bc.notes)

    def test_a_day_after_a_time_is_later_than_it(self) -> None:
        """A time of the 29th and a result dated to the next day alone: the day wins."""
        for bc in both_orders(size("timed", 4.0, "2024-02-29T10:00:00+01:00"),
                              size("gross", 9.5, DAY)):
            assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
            assert bc.sources["tumour.size"] == "Observation/gross"

    def test_results_of_one_day_that_agree_stand(self) -> None:
        """A day alone and a time of it giving the same size: read, no note."""
        for bc in both_orders(size("gross", 9.5, DAY),
                              size("timed", 9.5, "2024-03-01T10:00:00+09:00")):
            assert bc.case.tumour.size is not None and bc.case.tumour.size.value == 9.5
            assert not any(n.startswith("tumour.size:") for n in bc.notes)
            assert assess(bc.case, ON).risk.group == "high"


def margin(rid: str, code: str, when: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": c.PECOMA_SYSTEM, "code": "resection-margin"}]},
            "subject": {"reference": "Patient/pat-1002"}, "effectiveDateTime": when,
            "valueCodeableConcept": {"coding": [{"system": c.PECOMA_SYSTEM, "code": code}]}}


class TestOtherFactsReadLatest:
    def test_margins_of_one_day_that_differ_leave_the_margin_unknown(self) -> None:
        """R0 dated to the resection's day and R1 timed that evening: unknown, noted
        with both (never the timed one by chance; an R1 asks about re-excision, S03)."""
        for bc in both_orders(margin("m-day", "R0", DAY),
                              margin("m-timed", "R1", "2024-03-01T18:00:00+01:00"),
                              make=lambda *r: low_risk(*r, drop=("resection-margin",))):
            assert bc.case.surgery.margin is Margin.unknown
            assert any(n.startswith("surgery.margin:") and "Observation/m-day" in n
                       and "Observation/m-timed" in n for n in bc.notes)

    def test_a_distant_metastasis_and_an_improvement_of_one_day(self) -> None:
        """mCODE CancerDiseaseStatus 'distant metastasis present' timed on 2 May, and
        'improved' dated to that day: which is the later statement cannot be told. The
        disease is neither taken as metastatic nor as localized: its status is asked
        (the record refused with the question), the note naming both. It had been
        'metastatic' when the metastasis statement was the timed one, and asked when it
        was the day's, by the order the two were sorted in."""
        for present, improved in (("2024-05-02T10:00:00+02:00", "2024-05-02"),
                                  ("2024-05-02", "2024-05-02T10:00:00+02:00")):
            bundle = uterus_with_status(present, improved)
            with pytest.raises(InputError) as exc:
                case_from_bundle(bundle, on=ON)
            asked = [str(i) for i in exc.value.issues if i.path == "stage.status"]
            assert len(asked) == 1
            assert "Observation/status-spread" in asked[0]
            assert "Observation/cancer-disease-status-pecoma-u" in asked[0]
            assert "neither is the later result" in asked[0]

    def test_a_later_day_still_decides_the_disease_status(self) -> None:
        """Control: 'distant metastasis present' the day after 'improved' is the later
        statement: metastatic."""
        bc = case_from_bundle(uterus_with_status("2024-05-03", "2024-05-02"), on=ON)
        assert bc.case.stage.status.value == "metastatic"


def uterus_with_status(present: str, improved: str) -> dict[str, Any]:
    """The mCODE uterus record, its CancerDiseaseStatus 'improved' dated ``improved``,
    with one saying 'distant metastasis present' dated ``present``."""
    path = Path(__file__).parent / "data" / "mcode" / "uterus-localized.json"
    bundle: dict[str, Any] = json.loads(path.read_text("utf-8"))
    status = next(e["resource"] for e in bundle["entry"]
                  if e["resource"]["id"] == "cancer-disease-status-pecoma-u")
    status["effectiveDateTime"] = improved
    spread = copy.deepcopy(status)
    spread.update(id="status-spread", effectiveDateTime=present, valueCodeableConcept={
        "coding": [{"system": SCT, "code": "399409002",
                    "display": "Distant metastasis present (finding)"}]})
    bundle["entry"].append({"resource": spread})
    return bundle


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("cds")
    return TestClient(create_app(WebConfig(database_url=f"sqlite:///{tmp / 'registry.db'}",
                                           cds=CdsSettings()), today=lambda: ON),
                      base_url="http://localhost")


class TestPatientView:
    def test_the_card_shows_the_disagreement_not_a_low_risk(self, client: TestClient) -> None:
        """The 9.5 cm of the day and the 4.0 cm timed that morning on patient-view: the
        summary says the risk is indeterminate (never low), and the card says how the
        record was read: the two sizes disagree, so the size is unknown."""
        bundle = sizes(size("gross", 9.5, DAY), size("timed", 4.0, "2024-03-01T10:00:00+09:00"))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
            "patient-view", "pat-1002", prefetch=prefetch_of(bundle)))
        assert r.status_code == 200, r.text
        cards = r.json()["cards"]
        summary = cards[0]["summary"]
        assert "risk indeterminate" in summary and "risk low" not in summary
        detail = " ".join(cards[0]["detail"].split())
        assert "Observation/gross" in detail and "Observation/timed" in detail
        assert "disagree and neither is the later result, so tumour.size is unknown" in detail
