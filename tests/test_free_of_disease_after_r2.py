"""Free of disease after a resection of the primary that left gross tumour (R2).

An R2 margin says the operation ended with macroscopic tumour in place. A record that the
patient was free of disease from the day of that very operation, with no completing
resection recorded, says the opposite: before, it was accepted, and the gross residue
vanished from everything (no alert that tumour was left, no re-resection, a normal
surveillance calendar from that day). Now the case is refused naming the margin, the
completing resection not recorded and the day free of disease, by every way in (case
file, command line, JSON API, web form, FHIR bundle), as the other contradictions are.

Free of disease from a later day is possible (a further operation, or systemic treatment,
removed or cleared the tumour left): it is accepted, and the R2 margin stays in the
reasoning (I27). Free of disease is seen on imaging, which cannot show microscopic tumour
gone from the primary's bed: the alert that tumour may have been left is shown, naming the
R2 margin and the day; where an operation made the patient free of disease, whether a
resection completing the R2 one removed the tumour, and with what margin, is asked.

The patient: a 9 cm renal PEComa with every high-risk feature (Folpe malignant), a
peritoneal metastasis found on 2024-01-05, the primary resected on 2024-02-01.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import InputError, assess, parse_case
from pecoma.engine.model import Assessment, Item
from pecoma.engine.schedule import plan_surveillance

from cli_support import run_cli

ON = dt.date(2026, 12, 10)
SURGERY_DAY = "2024-02-01"
ASKED = "MISS-RESIDUAL-REMOVAL"

CASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present",
                  "nuclear_pleomorphism_or_giant_cells": "present",
                  "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive",
                             "desmin": "negative", "tfe3": "negative", "mitf": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "peritoneum", "detected_on": "2024-01-05"}],
              "extrapulmonary_disease": "no", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": SURGERY_DAY, "margin": "R2"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    "free_of_disease": {"since": SURGERY_DAY, "by": "surgery"},
}


def _case(since: str = SURGERY_DAY, by: str = "surgery", **surgery: Any) -> dict[str, Any]:
    data = copy.deepcopy(CASE)
    data["free_of_disease"] = {"since": since, "by": by}
    data["surgery"].update(surgery)
    return data


def _rules(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        parse_case(data)
    return {i.path: i.rule for i in info.value.issues}


def _assess(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def _items(a: Assessment) -> dict[str, Item]:
    return {i.id: i for i in a.items()}


def _facts(item: Item) -> dict[str, str]:
    return {f.path: str(f.value) for f in item.triggered_by}


class TestRefusedOnTheDayOfTheR2Operation:
    def test_refused_naming_the_margin_the_completion_and_the_day(self) -> None:
        """R2 on 2024-02-01, free of disease by surgery from 2024-02-01, no completing
        resection: the operation that day ended with gross tumour in place, so the
        patient was not free of disease that day. The refusal names every field that
        takes part and says how to record what happened."""
        rule = _rules(_case())["free_of_disease.since"]
        assert "'surgery.margin' 'R2'" in rule
        assert "'surgery.completion'" in rule and "no completing resection" in rule
        assert "'free_of_disease.by' 'surgery'" in rule
        assert "2024-02-01" in rule and "gross tumour" in rule
        # what to do: record the completing resection, correct the margin, or the day
        assert "'surgery.completion.date'" in rule and "'surgery.completion.margin'" in rule
        assert "the later day the patient was free of disease" in rule

    @pytest.mark.parametrize("by", ["systemic_therapy", "other", "unknown"])
    def test_whatever_made_the_patient_free_of_disease(self, by: str) -> None:
        """However the team records the clearance, nothing makes gross tumour left at the
        end of an operation gone on that operation's day."""
        rule = _rules(_case(by=by))["free_of_disease.since"]
        assert "'surgery.margin' 'R2'" in rule and f"'free_of_disease.by' '{by}'" in rule

    def test_a_completing_resection_that_left_r2_again(self) -> None:
        """The completing resection of 2024-04-01 left R2 again: free of disease from that
        day is refused the same way, naming the completion's margin."""
        data = _case(since="2024-04-01", completion={"date": "2024-04-01", "margin": "R2"})
        rule = _rules(data)["free_of_disease.since"]
        assert "'surgery.completion.margin' 'R2'" in rule
        assert "completing resection left gross tumour again" in rule

    def test_free_of_disease_before_the_completing_resection(self) -> None:
        """Free of disease from a day before the resection that completed the R2 one: the
        gross tumour was still there; refused as a day before the primary's treatment."""
        data = _case(since="2024-03-01", completion={"date": "2024-04-01", "margin": "R0"})
        rule = _rules(data)["free_of_disease.since"]
        assert "must not be before 'surgery.completion.date' (2024-04-01)" in rule

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain", "unknown"])
    def test_completed_the_same_day_is_accepted(self, margin: str) -> None:
        """Controls: a completing resection recorded on the day (its margin R0, R1,
        uncertain, or not recorded) may have removed the tumour: accepted."""
        data = _case(completion={"date": SURGERY_DAY, "margin": margin})
        assert parse_case(data).free_of_disease is not None

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain", "unknown"])
    def test_other_margins_the_same_day_are_accepted(self, margin: str) -> None:
        """Controls: no gross tumour recorded as left (or the margin not recorded): the
        metastasis removed with the primary may have left the patient free of disease."""
        assert parse_case(_case(margin=margin)).free_of_disease is not None

    def test_a_later_day_is_accepted(self) -> None:
        assert parse_case(_case(since="2024-05-01")).free_of_disease is not None


@pytest.fixture(scope="module")
def client() -> TestClient:
    from pecoma.web import WebConfig, create_app

    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


class TestEveryWayInGivesTheSameAnswer:
    """The refusal reaches the user whichever way the case comes in: a clear message
    naming the fields, never an assessment, a 500 or a traceback."""

    @pytest.mark.parametrize("command", ["assess", "followup"])
    def test_command_line(self, tmp_path: Path, command: str) -> None:
        path = tmp_path / "case.json"
        path.write_text(json.dumps(_case()), encoding="utf-8")
        run = run_cli(command, str(path), "--on", ON.isoformat(), columns=400)
        assert run.returncode == 3, run.stdout
        assert "'free_of_disease.since' contradicts 'surgery.margin' 'R2'" in run.stderr
        assert "Traceback" not in run.stderr and "FU-" not in run.stdout

    @pytest.mark.parametrize("endpoint", ["/api/v1/assess", "/api/v1/followup"])
    def test_json_api(self, client: TestClient, endpoint: str) -> None:
        r = client.post(endpoint, json={"case": _case(), "on": ON.isoformat()})
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        (error,) = [e for e in r.json()["errors"]
                    if e["path"] == "case.free_of_disease.since"]
        assert "'surgery.margin' 'R2'" in error["rule"]
        assert "Traceback" not in r.text

    def test_web_form(self, client: TestClient) -> None:
        """The form shows the problem at the free-of-disease date, in words (the labels
        of the margin and of the completing resection's fields), and the report page
        answers with the form again, not an error page."""
        from pecoma.web import forms

        accepted = parse_case(_case(since="2024-05-01"))
        values = forms.case_to_values(accepted, ON)
        values["free_of_disease.since"] = SURGERY_DAY
        result = forms.form_to_case(values)
        assert result.case is None
        (message,) = result.errors["free_of_disease.since"]
        assert "“Resection margin” 'R2'" in message
        assert "“Completing resection after R2: date”" in message
        r = client.post("/report", data=values)
        assert r.status_code < 500
        assert "gross tumour in place" in " ".join(r.text.split())

    def test_fhir_bundle(self, tmp_path: Path) -> None:
        """A bundle whose free-of-disease Observation carries the day of the R2
        resection: refused on reading, naming the Observation; a later day is read."""
        from pecoma.fhir.reader import case_from_bundle
        from pecoma.fhir.writer import bundle_from_case

        bundle = bundle_from_case(parse_case(_case(since="2024-05-01")))
        assert case_from_bundle(bundle).case.free_of_disease is not None
        (obs,) = [e["resource"] for e in bundle["entry"]
                  if e["resource"]["resourceType"] == "Observation"
                  and e["resource"]["code"]["coding"][0]["code"] == "free-of-disease"]
        obs["valueDateTime"] = SURGERY_DAY
        with pytest.raises(InputError) as info:
            case_from_bundle(bundle)
        assert any(i.path.startswith("free_of_disease.since")
                   and "'R2'" in i.rule for i in info.value.issues)
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        run = run_cli("fhir", "to-case", str(path), columns=400)
        assert run.returncode == 3, run.stdout
        assert "free_of_disease.since" in run.stderr and "'R2'" in run.stderr
        assert "Traceback" not in run.stderr


class TestFreeOfDiseaseFromALaterDay:
    def test_by_an_operation_the_r2_margin_stays_and_the_removal_is_asked(self) -> None:
        """Free of disease by surgery from 2024-05-01, three months after the R2 resection,
        no completing resection recorded. Whether that operation completed the resection,
        and with what margin, decides whether tumour may be left at the primary's bed:
        asked. Meanwhile the critical alert that tumour may have been left (S27; the
        disease has metastasised, I9) names the R2 margin, the day and how, and cites I27.
        The gross-residue alert and the re-resection are not shown: the patient is free
        of disease now."""
        a = _assess(_case(since="2024-05-01"))
        items = _items(a)
        alert = items["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical"
        assert alert.conditional_on == (ASKED,)
        facts = _facts(alert)
        assert facts["surgery.margin"] == "R2"
        assert facts["free_of_disease.since"] == "2024-05-01"
        assert facts["free_of_disease.by"] == "surgery"
        assert "I27" in alert.provenance.interpretations
        assert not {"ALERT-GROSS-RESIDUAL", "REC-RERESECTION-GROSS",
                    "REC-MTOR-FIRST-LINE"} & set(items)
        asked = next(m for m in a.missing if m.id == ASKED)
        assert asked.field == "surgery.completion"
        assert "ALERT-INCOMPLETE-RESECTION" in asked.affects

    def test_the_calendar_counts_from_the_day_free_of_disease(self) -> None:
        """High-risk surveillance after metastatic disease, from 2024-05-01 (I8): the
        first visit was due three months later."""
        case = parse_case(_case(since="2024-05-01"))
        a = assess(case, ON)
        plan = plan_surveillance(case, a, ON, [])
        assert plan.status == "active"
        assert plan.visits[0].due == dt.date(2024, 8, 1)

    def test_cleared_by_systemic_therapy_nothing_to_ask(self) -> None:
        """A complete response on sirolimus cleared the tumour left: no resection removed
        it, so no margin is asked; the alert that tumour may have been left stays, since
        imaging cannot show microscopic tumour gone (I27)."""
        data = _case(since="2024-09-01", by="systemic_therapy")
        data["systemic"]["therapies"] = [{"agent": "sirolimus", "line": 1,
                                          "started_on": "2024-03-01",
                                          "best_response": "complete", "progressed": "no"}]
        a = _assess(data)
        alert = _items(a)["ALERT-INCOMPLETE-RESECTION"]
        assert alert.conditional_on == ()
        assert _facts(alert)["free_of_disease.by"] == "systemic_therapy"
        assert ASKED not in {m.id for m in a.missing}

    def test_how_not_recorded_asks_the_removal_too(self) -> None:
        a = _assess(_case(since="2024-05-01", by="unknown"))
        assert _items(a)["ALERT-INCOMPLETE-RESECTION"].conditional_on == (ASKED,)

    def test_a_completing_resection_recorded_decides(self) -> None:
        """Controls: the completing resection recorded R0 leaves no alert and asks
        nothing; recorded R1, the alert stands on that margin, unconditional."""
        r0 = _assess(_case(since="2024-04-01", completion={"date": "2024-04-01",
                                                           "margin": "R0"}))
        assert not {"ALERT-INCOMPLETE-RESECTION", "ALERT-GROSS-RESIDUAL"} & set(_items(r0))
        assert ASKED not in {m.id for m in r0.missing}
        r1 = _assess(_case(since="2024-04-01", completion={"date": "2024-04-01",
                                                           "margin": "R1"}))
        alert = _items(r1)["ALERT-INCOMPLETE-RESECTION"]
        assert alert.conditional_on == ()
        assert _facts(alert)["surgery.completion.margin"] == "R1"

    def test_without_free_of_disease_the_gross_residue_alert_is_unchanged(self) -> None:
        """Control: the same R2 resection with no date free of disease: tumour was left,
        the critical gross-residue alert, as before."""
        data = _case()
        del data["free_of_disease"]
        alert = _items(_assess(data))["ALERT-GROSS-RESIDUAL"]
        assert alert.level == "critical" and alert.conditional_on == ()
