"""Allergies an EHR sends by code alone, or as the immunosuppressant class.

A problem-list Condition "Allergy to sirolimus" sent as its SNOMED CT code alone (no
display, no text) was set aside as a Condition that is not the PEComa, and an mTOR
inhibitor was proposed; an allergy to the immunosuppressants written in words ("Immuno-
suppressants") or coded SNOMED CT 372823004 left sirolimus and everolimus (both ATC L04A
immunosuppressants) proposed, while the same class coded ATC L04A ruled them out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import Agent, YesNo
from pecoma.fhir.allergies import condition_intolerance, read_allergy
from pecoma.fhir.reader import case_from_bundle

SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
ON = dt.date(2025, 6, 1)
BASE = Path(__file__).parent / "data" / "mcode" / "kidney-metastatic.json"


def _bundle_with(resource: dict[str, Any]) -> dict[str, Any]:
    bundle = json.loads(BASE.read_text(encoding="utf-8"))
    patient = next(e["resource"]["id"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    bundle["entry"] = [e for e in bundle["entry"]
                       if e["resource"]["resourceType"] != "AllergyIntolerance"]
    resource = {**resource, "patient" if resource["resourceType"] == "AllergyIntolerance"
                else "subject": {"reference": f"Patient/{patient}"}}
    bundle["entry"].append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource})
    return bundle


def test_a_problem_list_sirolimus_allergy_sent_by_code_alone_rules_it_out() -> None:
    """SNOMED CT 294630006 (Allergy to sirolimus) with no words: sirolimus is not
    tolerated, read as the same entry with its words is (whether the intolerance holds
    for the class is then asked, I15: never 'no')."""
    condition = {"resourceType": "Condition", "id": "c-allergy",
                 "clinicalStatus": {"coding": [{
                     "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                     "code": "active"}]},
                 "code": {"coding": [{"system": SNOMED, "code": "294630006"}]}}
    reading = condition_intolerance(condition)
    assert reading is not None and Agent.sirolimus in reading.agents
    case = case_from_bundle(_bundle_with(condition), on=ON).case
    assert Agent.sirolimus in {i.agent for i in case.systemic.intolerances}
    assert case.systemic.mtor_inhibitor_contraindicated is not YesNo.no
    worded = {**condition, "code": {**condition["code"], "text": "Allergy to sirolimus"}}
    assert case_from_bundle(_bundle_with(worded), on=ON).case.systemic == case.systemic


@pytest.mark.parametrize("code", [
    {"text": "Immunosuppressants"},
    {"text": "Immunosuppressive agents"},
    {"coding": [{"system": SNOMED, "code": "372823004",
                 "display": "Immunosuppressant (substance)"}]},
    {"coding": [{"system": SNOMED, "code": "372823004"}]},
    {"coding": [{"system": ATC, "code": "L04A"}]},  # read so before: the reference
], ids=["words", "agents", "snomed", "snomed-code-only", "atc"])
def test_the_immunosuppressant_class_rules_out_the_mtor_inhibitors(
        code: dict[str, Any]) -> None:
    """Sirolimus (L04AA10) and everolimus (L04AA18) are immunosuppressants: an allergy to
    the class rules them out however it is written, as ATC L04A does."""
    allergy = {"resourceType": "AllergyIntolerance", "id": "a-immuno",
               "clinicalStatus": {"coding": [{
                   "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                   "code": "active"}]},
               "code": code}
    assert read_allergy(allergy).rules_out_mtor
    case = case_from_bundle(_bundle_with(allergy), on=ON).case
    assert case.systemic.mtor_inhibitor_contraindicated is YesNo.yes


PENICILLIN = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                          "code": "7980", "display": "Penicillin G"}]}


@pytest.mark.parametrize("note", [
    "No reaction to sirolimus",
    "Has taken everolimus for 2 years without any problem",
    "Tolerated doxorubicin without issue",
])
def test_a_drug_named_only_in_the_note_of_an_identified_entry_is_asked(note: str) -> None:
    """A penicillin allergy whose note names another drug (here as tolerated) records no
    allergy to that drug: it is neither ruled out nor cleared; the entry is asked about,
    its words quoted (as for a class named so, HAZ-491)."""
    allergy = {"resourceType": "AllergyIntolerance", "id": "a-pen",
               "clinicalStatus": {"coding": [{
                   "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                   "code": "active"}]},
               "code": PENICILLIN, "note": [{"text": note}]}
    reading = read_allergy(allergy)
    assert not (reading.agents & {Agent.sirolimus, Agent.everolimus, Agent.doxorubicin})
    assert reading.unidentified
    case = case_from_bundle(_bundle_with(allergy), on=ON).case
    assert not ({i.agent for i in case.systemic.intolerances}
                & {Agent.sirolimus, Agent.everolimus, Agent.doxorubicin})
    assert case.systemic.mtor_inhibitor_contraindicated is not YesNo.no


def test_a_drug_named_in_the_note_of_an_entry_naming_no_substance_is_ruled_out() -> None:
    """"Drug allergy" names no substance: the drug its note names is the allergen."""
    allergy = {"resourceType": "AllergyIntolerance", "id": "a-drug",
               "code": {"text": "Drug allergy"},
               "note": [{"text": "sirolimus: mouth ulcers and pneumonitis"}]}
    assert Agent.sirolimus in read_allergy(allergy).agents


@pytest.mark.parametrize("note", [
    "Sirolimus not tolerated: severe mucositis",
    "Sirolimus poorly tolerated",
    "Did not tolerate sirolimus",
    "Sirolimus was not well tolerated",
    "Patient didn't tolerate sirolimus",
])
def test_a_note_saying_a_drug_was_not_tolerated_still_rules_it_out(note: str) -> None:
    """"Not tolerated" is no word of tolerance: the note records an intolerance of
    sirolimus beside the penicillin, ruled out as before (HAZ-526 must not weaken it)."""
    allergy = {"resourceType": "AllergyIntolerance", "id": "a-pen",
               "code": PENICILLIN, "note": [{"text": note}]}
    assert Agent.sirolimus in read_allergy(allergy).agents
