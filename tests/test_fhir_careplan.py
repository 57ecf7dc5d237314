"""Assessment -> CarePlan + RequestGroup, and the knowledge base as a PlanDefinition."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fhir.resources.R4B.careplan import CarePlan
from fhir.resources.R4B.plandefinition import PlanDefinition
from fhir.resources.R4B.requestgroup import RequestGroup

from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.fhir import codes as c
from pecoma.fhir.careplan import careplan_bundle, validate_resources
from pecoma.fhir.plandefinition import (
    APPLIES_WHEN,
    CQF_QUALITY,
    CQF_STRENGTH,
    plan_definition,
)
from pecoma.fhir.reader import case_from_bundle
from pecoma.knowledge import load_knowledge

from fhir_support import EXAMPLES, example

ON = dt.date(2026, 11, 28)


def _build(name: str) -> tuple[Any, Any, Any, dict[str, Any]]:
    bc = case_from_bundle(example(name))
    a = assess(bc.case, ON)
    plan = plan_surveillance(bc.case, a, ON)
    return bc, a, plan, careplan_bundle(bc.case, a, plan, patient_id=bc.patient_id)


def _resources(bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    careplan = bundle["entry"][0]["resource"]
    group = bundle["entry"][1]["resource"]
    return careplan, group


def _provenance(extensions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in extensions if e["url"] == c.EXT.PROVENANCE]


class TestCarePlan:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_valid_r4b(self, name: str) -> None:
        """The bundle and each resource validate with fhir.resources R4B."""
        _bc, _a, _plan, bundle = _build(name)
        validate_resources(bundle)
        careplan, group = _resources(bundle)
        CarePlan.model_validate(careplan)
        RequestGroup.model_validate(group)

    def test_visits_become_timed_imaging_activities(self) -> None:
        """High risk: one activity per visit and examination, due..latest as the period."""
        _bc, _a, plan, bundle = _build("localized-high-risk")
        careplan, _group = _resources(bundle)
        timed = [x["detail"] for x in careplan["activity"] if "scheduledPeriod" in
                 x.get("detail", {})]
        assert plan.visits
        assert len(timed) == sum(len(v.imaging) for v in plan.visits)
        first = plan.visits[0]
        mine = [d for d in timed if d["scheduledPeriod"]["start"] == first.due.isoformat()]
        codes = sorted(d["code"]["coding"][0]["code"] for d in mine)
        assert codes == ["imaging-chest-ct", "imaging-mri-primary-site"]
        assert all(d["scheduledPeriod"]["end"] == first.latest.isoformat() for d in mine)
        for d in timed:
            statements = {e["valueString"] for p in _provenance(d["extension"])
                          for e in p["extension"] if e["url"] == "statement"}
            assert statements & {"S18", "S19", "S20", "S21", "S22", "S23", "S26"}

    def test_no_plan_while_disease_present(self) -> None:
        """Metastatic: no dated visits; the follow-up rules and the reason are there."""
        _bc, a, plan, bundle = _build("metastatic-lung-metachronous")
        careplan, _group = _resources(bundle)
        assert plan.status == "not_drawn"
        assert not any("scheduledPeriod" in x.get("detail", {}) for x in careplan["activity"])
        rule_ids = {e["valueString"] for x in careplan["activity"] if "detail" in x
                    for e in x["detail"]["extension"] if e["url"] == c.EXT.RECORD_ID}
        assert rule_ids == {f.id for f in a.followup}
        assert any("No surveillance calendar" in n["text"] for n in careplan["note"])

    def test_recommendations_keep_provenance(self) -> None:
        """Each RequestGroup action is an item, with statements/refs or sources."""
        _bc, a, _plan, bundle = _build("advanced-mtor-contraindicated")
        _careplan, group = _resources(bundle)
        ids = [x["id"] for x in group["action"]]
        assert ids == [a.risk.item.id, *(r.id for r in a.recommendations),
                       *(x.id for x in a.alerts)]
        for action in group["action"]:
            prov = _provenance(action["extension"])
            assert len(prov) == 1
            parts = {e["url"] for e in prov[0]["extension"]}
            assert ("statement" in parts and "guidelineRef" in parts) or "source" in parts
            assert action["documentation"]
        anthra = next(x for x in group["action"] if x["id"] == "REC-ANTHRACYCLINE")
        assert {d.get("label") for d in anthra["documentation"]} >= {"S14", "[1]"}
        supp = next(x for x in group["action"] if x["id"] == "SUPP-TFE3")
        assert any(d["type"] == "citation" and "Argani" in d.get("citation", "")
                   for d in supp["documentation"])

    def test_missing_facts_are_notes(self) -> None:
        """Necrosis left out of the record: a missing fact, noted in both resources."""
        source = example("low-risk")
        source["entry"] = [e for e in source["entry"]
                           if e["resource"].get("id") != "histology-necrosis"]
        bc = case_from_bundle(source)
        a = assess(bc.case, ON)
        bundle = careplan_bundle(bc.case, a, plan_surveillance(bc.case, a, ON))
        careplan, group = _resources(bundle)
        assert "MISS-NECROSIS" in {m.id for m in a.missing}
        for m in a.missing:
            assert any(m.id in n["text"] for n in careplan["note"])
            assert any(m.id in n["text"] for n in group["note"])

    def test_names_the_versioned_plandefinition(self) -> None:
        _bc, a, _plan, bundle = _build("low-risk")
        careplan, group = _resources(bundle)
        canonical = f"{c.PLAN_DEFINITION_URL}|{a.knowledge_version}"
        assert careplan["instantiatesCanonical"] == [canonical]
        assert group["instantiatesCanonical"] == [canonical]
        assert careplan["activity"][0]["reference"]["reference"] == f"RequestGroup/{group['id']}"

    def test_without_patient_id(self) -> None:
        """A case file has no patient: the subject is a display-only reference."""
        bc, a, plan, _bundle = _build("low-risk")
        bundle = careplan_bundle(bc.case, a, plan)
        validate_resources(bundle)
        assert "reference" not in bundle["entry"][0]["resource"]["subject"]


class TestPlanDefinition:
    def test_valid_and_versioned(self) -> None:
        pd = plan_definition()
        PlanDefinition.model_validate(pd)
        k = load_knowledge()
        assert pd["version"] == k.version
        assert pd["url"] == c.PLAN_DEFINITION_URL

    def test_every_record_is_an_action_with_evidence(self) -> None:
        """Each record: condition in words, strength, quality, rationale, artifacts."""
        k = load_knowledge()
        actions = {a["id"]: a for s in plan_definition()["action"] for a in s["action"]}
        assert set(actions) == set(k.records)
        for rid, action in actions.items():
            urls = [e["url"] for e in action["extension"]]
            assert CQF_STRENGTH in urls and CQF_QUALITY in urls, rid
            assert "http://hl7.org/fhir/uv/cpg/StructureDefinition/cpg-rationale" in urls
            words = action["condition"][0]["expression"]["description"]
            assert words == APPLIES_WHEN[rid]
            assert action["documentation"], rid

    def test_every_record_has_its_condition_in_words(self) -> None:
        """A record added to the knowledge base must get its words here too."""
        assert set(load_knowledge().records) <= set(APPLIES_WHEN)

    def test_strength_codes(self) -> None:
        actions = {a["id"]: a for s in plan_definition()["action"] for a in s["action"]}

        def strength(rid: str) -> dict[str, Any]:
            ext = next(e for e in actions[rid]["extension"] if e["url"] == CQF_STRENGTH)
            value: dict[str, Any] = ext["valueCodeableConcept"]
            return value

        assert strength("REC-MTOR-FIRST-LINE")["coding"][0]["code"] == "strong"
        assert strength("REC-ADJ-RADIOTHERAPY")["coding"][0]["code"] == "weak"
        assert "coding" not in strength("REC-NO-NEXT-LINE")

    def test_statements_all_carried(self) -> None:
        """Every statement S01-S28 appears in the PlanDefinition's documentation."""
        labels = {d.get("label") for s in plan_definition()["action"] for a in s["action"]
                  for d in a["documentation"]}
        assert {f"S{i:02d}" for i in range(1, 29)} <= labels
