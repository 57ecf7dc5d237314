"""A metastasis suspected outside the lungs beside confirmed lung metastases (S16).

S16 offers the resection of lung metastases only when the disease is confined to the
lungs (no disease outside them), the disease-free interval is 12 months or more and the
complete excision of every focus is feasible. A lesion suspected in the liver (or any
site outside the lungs) and not yet confirmed or excluded is exactly the unknown that
decides "confined to the lungs": if it is a metastasis, the operation is not the
guideline's. The report had recommended the metastasectomy outright and asked nothing,
the suspected lesion appearing nowhere (the question was asked only beside a disease not
metastatic), even with the team's "no disease outside the lungs" beside it (a statement
the suspected lesion puts in doubt: it may predate the lesion or not weigh it).

Expected, each by hand:
- the question whether the suspected metastasis is confirmed is asked, naming the site
  outside the lungs; S16's metastasectomy waits on it (REC-LUNG-METASTASECTOMY-PENDING,
  provisional on the question), as it waits on disease outside the lungs not recorded;
- a recorded "no disease outside the lungs" does not settle it: the item's facts say the
  site is suspected and that the "no" does not settle it;
- the rest of the advice for metastatic disease (the mTOR inhibitor first) does not rest
  on it: the first line is the same whether the lesion is confirmed or not;
- nothing is asked where the answer changes nothing for S16: disease outside the lungs
  recorded as present, an interval under 12 months, no lung metastasis at all;
- a suspected lung metastasis beside metastatic disease changes nothing for S16: if
  confirmed, it is another lung metastasis, the disease still confined to the lungs; the
  interval runs to the first metastasis found and the feasibility of a complete excision
  is the team's statement, asked when not recorded. Nothing is asked of it.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
ASKED = "MISS-SUSPECTED-METASTASIS"
PENDING = "REC-LUNG-METASTASECTOMY-PENDING"
OUTSIDE = ["liver", "bone", "peritoneum", "distant_lymph_node", "brain", "soft_tissue",
           "other"]


def patient(suspected: list[str], *, extrapulmonary: str | None = "no",
            lung_found: str = "2024-10-20", status: str = "metastatic",
            metastases: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A resected (R0, 2023-02-14) 8 cm soft-tissue PEComa with every high-risk
    feature; a lung metastasis found ``lung_found`` (20 months after surgery by
    default: S16's interval met), resectable, complete excision feasible; the sites
    ``suspected`` recorded as suspected metastases."""
    stage: dict[str, Any] = {
        "status": status, "lymph_nodes": "negative",
        "metastases": metastases if metastases is not None
        else [{"site": "lung", "detected_on": lung_found}],
        "resectable": "yes", "complete_excision_feasible": "yes",
        "suspected_metastases": [{"site": s} for s in suspected]}
    if extrapulmonary is not None:
        stage["extrapulmonary_disease"] = extrapulmonary
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": "2023-02-01",
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "present", "mitoses_per_50_hpf": 4},
        "immunohistochemistry": {"hmb45": "positive", "mitf": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "stage": stage,
        "surgery": {"status": "performed", "date": "2023-02-14", "margin": "R0"},
        "systemic": {"mtor_inhibitor_available": "yes",
                     "mtor_inhibitor_contraindicated": "no"},
    }


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(copy.deepcopy(data)), ON)


def items(a: Assessment) -> dict[str, Item]:
    return {i.id: i for i in a.items()}


def test_control_without_a_suspected_site_the_metastasectomy_is_recommended() -> None:
    """The bundled metachronous-lung case as it is: every S16 condition met."""
    got = items(run(patient([])))
    assert "REC-LUNG-METASTASECTOMY" in got
    assert got["REC-LUNG-METASTASECTOMY"].conditional_on == ()


@pytest.mark.parametrize("extrapulmonary", ["no", None])
@pytest.mark.parametrize("site", OUTSIDE)
def test_a_suspected_site_outside_the_lungs_holds_the_metastasectomy(
        site: str, extrapulmonary: str | None) -> None:
    """Whether the disease is confined to the lungs is unknown while the lesion is
    neither confirmed nor excluded: S16 waits on the question, which names the site."""
    a = run(patient([site], extrapulmonary=extrapulmonary))
    got = items(a)
    assert "REC-LUNG-METASTASECTOMY" not in got
    assert ASKED in got[PENDING].conditional_on
    miss = {m.id: m for m in a.missing}[ASKED]
    assert site.replace("_", " ") in miss.question
    assert PENDING in miss.affects
    # the first line for metastatic disease is the mTOR inhibitor either way
    assert ASKED not in got["REC-MTOR-FIRST-LINE"].conditional_on
    # what the answer changes and what is done meanwhile speak of S16 beside lung
    # metastases, not only of a disease not recorded as metastatic
    assert "S16" in miss.would_change and "lungs" in miss.meanwhile


@pytest.mark.parametrize("site", ["liver", "bone", "other"])
def test_no_disease_outside_the_lungs_recorded_does_not_settle_it(site: str) -> None:
    """The team's 'no' beside a site suspected outside the lungs: said not to settle
    it, the suspected site among the item's facts."""
    pending = items(run(patient([site], extrapulmonary="no")))[PENDING]
    said = [f.value for f in pending.triggered_by if f.path == "stage.suspected_metastases"]
    assert said and site.replace("_", " ") in said[0]
    assert "does not settle" in said[0]


def test_only_the_sites_outside_the_lungs_are_named() -> None:
    a = run(patient(["lung", "liver"]))
    miss = {m.id: m for m in a.missing}[ASKED]
    assert "liver" in miss.question and "lung" not in miss.question.split("Asked of")[1]


@pytest.mark.parametrize(("why", "data"), [
    ("disease outside the lungs recorded as present: S16 is not met whatever the lesion",
     patient(["liver"], extrapulmonary="yes")),
    ("the lung metastasis found 6 months after surgery: the interval is under 12 "
     "months, S16 is not met whatever the lesion",
     patient(["liver"], lung_found="2023-08-20")),
    ("no lung metastasis: S16 does not apply",
     patient(["liver"], metastases=[{"site": "bone", "detected_on": "2024-10-20"}],
             extrapulmonary="yes")),
])
def test_not_asked_where_the_answer_changes_nothing(why: str, data: dict[str, Any]) -> None:
    a = run(data)
    assert ASKED not in {m.id for m in a.missing}, why
    assert "REC-LUNG-METASTASECTOMY" not in items(a), why


@pytest.mark.parametrize("extrapulmonary", ["no", None])
def test_a_suspected_lung_metastasis_beside_lung_metastases_changes_nothing(
        extrapulmonary: str | None) -> None:
    """Confirmed, it is one more lung metastasis: the disease is still confined to the
    lungs, and the interval and the feasibility are what they are. Nothing is asked of
    it; S16 is decided as without it."""
    with_it = run(patient(["lung"], extrapulmonary=extrapulmonary))
    without = run(patient([], extrapulmonary=extrapulmonary))
    assert ASKED not in {m.id for m in with_it.missing}
    assert {i.id: i.conditional_on for i in with_it.items()} == {
        i.id: i.conditional_on for i in without.items()}


def test_a_suspected_lung_metastasis_beside_disease_outside_the_lungs_asks_nothing() -> None:
    """Metastatic disease in the liver only: a suspected lung lesion, confirmed, would
    be lung metastases beside disease outside the lungs, which S16 does not cover."""
    a = run(patient(["lung"], metastases=[{"site": "liver", "detected_on": "2024-10-20"}],
                    extrapulmonary="yes"))
    assert ASKED not in {m.id for m in a.missing}
