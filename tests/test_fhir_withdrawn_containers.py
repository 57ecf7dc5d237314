"""Results held inside a container that does not stand.

A result held ``contained`` in another resource exists only within it (FHIR R4,
References, contained resources: interpreted only in the context of the resource that
holds it). A pathology report entered in error, cancelled, or only registered (nothing
available yet) therefore gives none of the results it holds: that was already so for a
DiagnosticReport, but the members an Observation panel holds contained (``hasMember``
``#nec``) were read whatever the panel's status, so a withdrawn "necrosis present" made a
localized PEComa high risk (S07) and sent the patient to intensive surveillance. One rule
now serves both containers; a member the panel names that is a result of its own in the
record (not contained) stands on its own status.

A result set aside for its status (an Observation entered in error or cancelled, the
withdrawn panel itself) is listed as not read for that status, never as "a code the case
does not record", which sent the integrator to change a correct coding.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma.case import Feature
from pecoma.engine import assess
from pecoma.fhir.reader import BundleCase, case_from_bundle

from fhir_support import example

PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PATIENT = "Patient/pat-1002"
ON = dt.date(2025, 6, 1)

#: The container's statuses that withdraw what it holds, with the words the listing uses.
WITHDRAWN = {"entered-in-error": "entered in error", "cancelled": "cancelled",
             "registered": "no result yet"}


def _necrosis_present(rid: str = "nec") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": PECOMA, "code": "necrosis"}],
                     "text": "Tumour necrosis"},
            "effectiveDateTime": "2025-01-06",
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "52101004",
                                                 "display": "Present"}]}}


def _mitoses(value: float, rid: str = "mit") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": PECOMA, "code": "mitoses-per-50-hpf"}]},
            "effectiveDateTime": "2025-01-06",
            "valueQuantity": {"value": value, "unit": "/50 HPF"}}


def _container(kind: str, status: str, *held: dict[str, Any]) -> dict[str, Any]:
    """A synoptic panel (members by ``hasMember``) or a pathology report (by ``result``)
    holding ``held`` contained, each named ``#id``."""
    refs = [{"reference": f"#{res['id']}"} for res in held]
    base: dict[str, Any] = {"resourceType": kind, "id": "panel", "status": status,
                            "subject": {"reference": PATIENT},
                            "effectiveDateTime": "2025-01-06", "contained": list(held)}
    if kind == "Observation":
        return {**base, "code": {"coding": [{"system": LOINC, "code": "60568-3",
                                             "display": "Pathology Synoptic report"}]},
                "hasMember": refs}
    return {**base, "code": {"coding": [{"system": LOINC, "code": "60567-5"}]},
            "result": refs}


def _record(*added: dict[str, Any]) -> dict[str, Any]:
    """The localized low-risk uterine record with no necrosis nor mitotic count of its own,
    and ``added``."""
    bundle = copy.deepcopy(example("low-risk"))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id") not in (
        "histology-necrosis", "histology-mitoses")]
    for res in added:
        if res["resourceType"] in ("Observation", "DiagnosticReport"):
            res.setdefault("subject", {"reference": PATIENT})
        bundle["entry"].append({"resource": res})
    return bundle


def _listed(bc: BundleCase, where: str) -> list[str]:
    return [line for line in bc.not_read if where in line]


CONTAINERS = ["Observation", "DiagnosticReport"]


class TestAContainerThatStands:
    @pytest.mark.parametrize("kind", CONTAINERS)
    @pytest.mark.parametrize("status", ["final", "amended", "corrected"])
    def test_its_contained_results_are_read(self, kind: str, status: str) -> None:
        """The control: necrosis present and 4 mitoses held in a panel or report that
        stands are the record's results; necrosis present makes the tumour high risk."""
        bc = case_from_bundle(_record(_container(kind, status, _necrosis_present(),
                                                 _mitoses(4))))
        assert bc.case.histology.necrosis is Feature.present
        assert bc.case.histology.mitoses_per_50_hpf == 4
        assert bc.sources["histology.necrosis"] == f"{kind}/panel#nec"
        assert assess(bc.case, ON).risk.group == "high"


class TestAWithdrawnContainer:
    @pytest.mark.parametrize("kind", CONTAINERS)
    @pytest.mark.parametrize("status", sorted(WITHDRAWN))
    def test_gives_none_of_the_results_it_holds(self, kind: str, status: str) -> None:
        """A panel or report entered in error, cancelled or registered (no result yet):
        the necrosis and mitoses it holds are not the patient's results. Necrosis and the
        mitotic count stay unknown (asked), never 'present': the tumour is not made high
        risk by a withdrawn finding."""
        bc = case_from_bundle(_record(_container(kind, status, _necrosis_present(),
                                                 _mitoses(4))))
        assert bc.case.histology.necrosis is Feature.unknown
        assert bc.case.histology.mitoses_per_50_hpf is None
        assert "histology.necrosis" in bc.not_found
        assert assess(bc.case, ON).risk.group != "high"

    @pytest.mark.parametrize("kind", CONTAINERS)
    @pytest.mark.parametrize("status", sorted(WITHDRAWN))
    def test_the_note_names_the_container_its_status_and_what_it_held(
            self, kind: str, status: str) -> None:
        """Said as for a withdrawn report: the container, its status, the results held."""
        bc = case_from_bundle(_record(_container(kind, status, _necrosis_present(),
                                                 _mitoses(4))))
        said = [n for n in bc.notes if n.startswith(f"{kind}/panel: status '{status}'")]
        assert said, bc.notes
        assert "#nec" in said[0] and "#mit" in said[0] and "not read" in said[0]

    @pytest.mark.parametrize("status", sorted(WITHDRAWN))
    def test_a_member_that_is_a_result_of_its_own_stands(self, status: str) -> None:
        """A member the withdrawn panel names that is a result of the record (not held
        contained) stands on its own status: its necrosis present is read."""
        panel = _container("Observation", status)
        panel["hasMember"] = [{"reference": "Observation/nec"}]
        bc = case_from_bundle(_record(panel, _necrosis_present()))
        assert bc.case.histology.necrosis is Feature.present
        assert bc.sources["histology.necrosis"] == "Observation/nec"


class TestAWithdrawnResultIsListedByItsStatus:
    @pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
    def test_a_result_of_the_record(self, status: str) -> None:
        """A necrosis result entered in error or cancelled: not read, listed for its
        status (the necrosis code is recognised; the result does not stand)."""
        nec = _necrosis_present()
        nec["status"] = status
        bc = case_from_bundle(_record(nec))
        assert bc.case.histology.necrosis is Feature.unknown
        listed = _listed(bc, "Observation/nec")
        assert listed and WITHDRAWN[status] in listed[0], bc.not_read
        assert "does not record" not in listed[0]

    @pytest.mark.parametrize("kind", CONTAINERS)
    @pytest.mark.parametrize("status", ["entered-in-error", "cancelled"])
    def test_a_result_held_in_a_container_that_stands(self, kind: str, status: str) -> None:
        """A final report holding a necrosis result that is itself withdrawn: not read,
        listed as the container's result, for its own status."""
        nec = _necrosis_present()
        nec["status"] = status
        bc = case_from_bundle(_record(_container(kind, "final", nec, _mitoses(1))))
        assert bc.case.histology.necrosis is Feature.unknown
        assert bc.case.histology.mitoses_per_50_hpf == 1
        listed = _listed(bc, f"{kind}/panel#nec")
        assert listed and WITHDRAWN[status] in listed[0], bc.not_read
        assert "does not record" not in listed[0]

    @pytest.mark.parametrize("status", sorted(WITHDRAWN))
    def test_the_panel_is_listed_by_its_status(self, status: str) -> None:
        """The withdrawn panel itself is listed as not read for its status, never as 'a
        code the case does not record'."""
        bc = case_from_bundle(_record(_container("Observation", status,
                                                 _necrosis_present())))
        listed = _listed(bc, "Observation/panel")
        assert listed and WITHDRAWN[status] in listed[0], bc.not_read
        assert "does not record" not in listed[0]
