"""A resection of a localized primary known only by the latest day it may have been
(``surgery.date_on_or_before``), and I30.

Decisions that follow the resection (re-excision of a margin not clear, S03/S04;
adjuvant radiotherapy, S10) are taken within 6 months of it; later, with no relapse
recorded, they are decisions to confirm, asked, not actions due now (I30). A FHIR record
may give the resection only as the patient's age (``performedAge``): a hysterectomy at 52
years, the patient born 1971-05-02, was done between 2023-05-02 and 2024-05-01. Its day is
unknown, but not when it may have been: on or before 2024-05-01. The case had no place for
that, so years later the re-excision and "consider adjuvant radiotherapy" were still shown
as due now, where the same case dated showed them as decisions to confirm.

Expected, each by hand:

- bound 2024-05-01, evaluated 2026-11-28: the operation was 30 months or more before, so
  more than 6 months: I30 applies (REC-RERESECTION-DECIDED, REC-ADJ-RADIOTHERAPY-DECIDED,
  their questions), the bound in the facts and the months given as "at least 30 months"
  (2024-05-01 to 2026-11-28 is 30 whole months).
- bound 2026-08-01, evaluated 2026-11-28 (under 4 months): the operation may have been
  within 6 months or long before; the advice of the time after the operation stands (the
  safer branch: the decision may still be open) and the day is asked (MISS-TREATMENT-END,
  whose would_change names I30).
- the bound is never a day: the surveillance anchor and the disease-free interval stay
  unknown (``treatment_end`` None, MISS-TREATMENT-END asked), as for an undated resection.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import InputError, assess, parse_case
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.knowledge import load_knowledge
from pecoma.web import WebConfig, create_app
from test_fhir_resection_given_as_age import _age, _read

ON = dt.date(2026, 11, 28)

#: Uterine PEComa, 11 cm with necrosis: hysterectomy with an R1 margin, nodes negative,
#: the day of the operation not recorded.
R1_UTERUS: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 11, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present", "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "localized", "lymph_nodes": "negative"},
    "surgery": {"status": "performed", "margin": "R1"},
}


def case(**surgery: Any) -> dict[str, Any]:
    data = copy.deepcopy(R1_UTERUS)
    data["surgery"].update(surgery)
    return data


def ids(a: Any) -> set[str]:
    return {i.id for i in (*a.recommendations, *a.alerts)}


def missing(a: Any) -> set[str]:
    return {m.id for m in a.missing}


def issues(data: dict[str, Any], on: dt.date | None = None) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_case(data, on_date=on) if on is not None else parse_case(data)
    return {i.path: i.rule for i in info.value.issues}


def test_bound_long_before_applies_i30() -> None:
    """Resected on or before 2024-05-01, seen 2026-11-28: 30 months at least, no relapse:
    re-excision and radiotherapy are decisions to confirm, asked (I30), as with the day."""
    a = assess(parse_case(case(date_on_or_before="2024-05-01")), ON)
    got = ids(a)
    assert not {"REC-RERESECTION", "REC-REFER-SURGERY", "REC-ADJ-RADIOTHERAPY"} & got
    assert {"REC-RERESECTION-DECIDED", "REC-ADJ-RADIOTHERAPY-DECIDED"} <= got
    assert {"MISS-REEXCISION-DECIDED", "MISS-ADJUVANT-RADIOTHERAPY"} <= missing(a)
    item = next(r for r in a.recommendations if r.id == "REC-RERESECTION-DECIDED")
    facts = {f.path: f.value for f in item.triggered_by}
    assert facts["surgery.date_on_or_before"] == "2024-05-01"
    assert facts["derived.months_since_resection"] == "at least 30 months"
    assert "surgery.date" not in facts


def test_bound_within_six_months_keeps_the_advice_and_asks_the_day() -> None:
    """On or before 2026-08-01, seen 2026-11-28: the operation may be within 6 months,
    the decisions still open: the advice of the time after the operation stands and the
    day is asked, its question saying it decides I30."""
    a = assess(parse_case(case(date_on_or_before="2026-08-01")), ON)
    got = ids(a)
    assert {"REC-RERESECTION", "REC-ADJ-RADIOTHERAPY"} <= got
    assert not {"REC-RERESECTION-DECIDED", "REC-ADJ-RADIOTHERAPY-DECIDED"} & got
    assert "MISS-TREATMENT-END" in missing(a)
    assert "I30" in load_knowledge().missing["MISS-TREATMENT-END"].would_change


def test_bound_six_months_to_the_day_is_not_past() -> None:
    """On or before 2026-05-28, seen 2026-11-28: the operation may have been that very
    day, 6 months before, still within I30's 6 months: not past."""
    a = assess(parse_case(case(date_on_or_before="2026-05-28")), ON)
    assert "REC-RERESECTION" in ids(a)
    assert "REC-RERESECTION-DECIDED" not in ids(a)


def test_the_bound_is_no_day_for_surveillance_or_the_interval() -> None:
    """An upper bound is never counted as the day of the operation: the end of treatment
    stays unknown (surveillance undated, the interval not counted), asked."""
    parsed = parse_case(case(date_on_or_before="2024-05-01"))
    assert parsed.treatment_end is None
    assert "MISS-TREATMENT-END" in missing(assess(parsed, ON))


def test_beside_the_date_refused_naming_both() -> None:
    rule = issues(case(date="2024-04-09", date_on_or_before="2024-05-01"))[
        "surgery.date_on_or_before"]
    assert "'surgery.date'" in rule


@pytest.mark.parametrize("status", ["planned", "not_performed", "unknown"])
def test_only_for_an_operation_done(status: str) -> None:
    data = case(date_on_or_before="2024-05-01", status=status, margin="unknown")
    rule = issues(data)["surgery.date_on_or_before"]
    assert "'performed'" in rule and status in rule


def test_after_the_evaluation_date_refused() -> None:
    got = issues(case(date_on_or_before="2026-12-01"), on=ON)
    assert "surgery.date_on_or_before" in got
    assert "evaluation date" in got["surgery.date_on_or_before"]


def test_before_the_diagnosis_refused() -> None:
    """The operation was on or before the bound; a bound before the diagnosis puts it
    before the diagnosis, which a resection specimen dates."""
    data = case(date_on_or_before="2024-05-01")
    data["diagnosis"]["date"] = "2024-06-01"
    assert "'diagnosis.date'" in issues(data)["surgery.date_on_or_before"]


@pytest.mark.parametrize(("performed", "bound"), [
    (_age(52, "a"), dt.date(2024, 5, 1)),     # 52 years: 2023-05-02 to 2024-05-01
    (_age(635, "mo"), dt.date(2024, 5, 1)),   # 635 months: 2024-04-02 to 2024-05-01
])
def test_fhir_age_gives_the_bound(performed: dict[str, Any], bound: dt.date) -> None:
    """The last day the age may be is the bound; no day is taken for the operation."""
    bc = _read(performed)
    assert bc.case.surgery.date is None
    assert bc.case.surgery.date_on_or_before == bound
    assert "performed[x]" in bc.sources["surgery.date_on_or_before"]


def test_fhir_dated_resection_gives_no_bound() -> None:
    bc = _read(None)
    assert bc.case.surgery.date == dt.date(2024, 4, 9)
    assert bc.case.surgery.date_on_or_before is None


def test_fhir_roundtrip_keeps_the_bound() -> None:
    """Written, the bound is the resection's extension (no performed[x]); read back, it
    is the bound again, never a day."""
    parsed = parse_case(case(date_on_or_before="2024-05-01"))
    bundle = bundle_from_case(parsed)
    [proc] = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "Procedure"]
    assert not any(k.startswith("performed") for k in proc)
    back = case_from_bundle(bundle, on=ON).case
    assert back.surgery.date is None
    assert back.surgery.date_on_or_before == dt.date(2024, 5, 1)


def test_fhir_bound_not_a_date_is_not_read_and_said() -> None:
    parsed = parse_case(case(date_on_or_before="2024-05-01"))
    bundle = bundle_from_case(parsed)
    [proc] = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "Procedure"]
    proc["extension"][0]["valueDate"] = "2024-05"
    bc = case_from_bundle(bundle, on=ON)
    assert bc.case.surgery.date_on_or_before is None
    assert any("performed-on-or-before is not read" in n for n in bc.notes), bc.notes


WEB = {"on": "2026-11-28", "tumour.primary_site": "uterus", "stage.status": "localized",
       "surgery.status": "performed", "surgery.margin": "R1"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


def test_web_form_takes_the_bound(client: TestClient) -> None:
    """Entered on the form, the bound long before applies I30 (the decision to confirm)."""
    r = client.post("/report", data={**WEB, "surgery.date_on_or_before": "2024-05-01"})
    assert r.status_code == 200, r.text[:2000]
    assert "REC-RERESECTION-DECIDED" in r.text


def test_web_form_bound_beside_the_date_refused_by_its_label(client: TestClient) -> None:
    r = client.post("/report", data={**WEB, "surgery.date": "2024-04-09",
                                     "surgery.date_on_or_before": "2024-05-01"})
    assert r.status_code == 422
    assert "Surgery done on or before" in r.text
