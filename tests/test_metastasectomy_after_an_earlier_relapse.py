"""S16 for lung metastases after an earlier relapse already treated: the disease-free
interval, and the disease outside the lungs, that describe the metastases being decided
on (I5).

A typical sarcoma-clinic history: the primary resected, a first metastasis found and
removed (with the primary, or years later), and new lung metastases years after that,
lung-only and resectable. Or a staged metastasectomy: lung and liver metastases found
together, the liver resected first (or cleared on an mTOR inhibitor), and the board now
deciding on the lungs. Every expected outcome below is a clinical fact, with its reason.
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
from pecoma.knowledge import load_knowledge
from pecoma.registry.columns import flatten
from pecoma.registry.import_check import validate_rows
from pecoma.registry.import_table import RawRow
from pecoma.settings import default_settings
from pecoma.web import forms

from cli_support import run_cli

ON = dt.date(2026, 6, 1)
MTOR_OK = {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"}


def patient(metastases: list[dict[str, str]], *, operated: str = "2019-03-20",
            diagnosed: str = "2019-02-20", **stage: Any) -> dict[str, Any]:
    """An 8 cm soft-tissue PEComa with every high-risk feature, resected R0 on
    ``operated``; metastatic, resectable, complete excision of every focus feasible."""
    return {
        "diagnosis": {"method": "histology_with_ihc", "date": diagnosed,
                      "prior_diagnosis": "none"},
        "tumour": {"primary_site": "soft_tissue", "size": {"value": 8, "unit": "cm"}},
        "histology": {"necrosis": "present", "infiltrative_growth": "present",
                      "high_nuclear_grade_and_cellularity": "present",
                      "vascular_invasion": "present", "mitoses_per_50_hpf": 6},
        "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive",
                                 "sma": "positive", "tfe3": "negative"},
        "stage": {"status": "metastatic", "lymph_nodes": "negative",
                  "metastases": metastases, "resectable": "yes",
                  "complete_excision_feasible": "yes", **stage},
        "surgery": {"status": "performed", "date": operated, "margin": "R0"},
        "systemic": dict(MTOR_OK),
    }


def lung(day: str) -> dict[str, str]:
    return {"site": "lung", "detected_on": day}


def liver(day: str) -> dict[str, str]:
    return {"site": "liver", "detected_on": day}


#: The primary and a synchronous lung metastasis removed in March 2019; a new lung
#: metastasis on 2026-04-15, 84 whole months after the operation; nothing outside the
#: lungs.
SYNCHRONOUS_THEN_NEW = patient([lung("2019-03-01"), lung("2026-04-15")],
                               extrapulmonary_disease="no")
#: A liver metastasis found 10 months after the primary (2015-12-01) and resected; lung
#: metastases in 2026; nothing outside the lungs now.
LIVER_2015_THEN_LUNG = patient([liver("2015-12-01"), lung("2026-03-01")],
                               operated="2015-02-01", diagnosed="2015-01-10",
                               extrapulmonary_disease="no")
#: A first lung metastasis 21 months after the primary (2021-01-10), resected; a new one
#: on 2026-04-15.
REPEAT_LUNG = patient([lung("2021-01-10"), lung("2026-04-15")],
                      extrapulmonary_disease="no")
#: Lung and liver metastases found together on 2022-06-01, 38 months after the primary;
#: the liver metastasis resected first, the lungs to be decided on.
STAGED = patient([lung("2022-06-01"), liver("2022-06-01")])


def run(data: dict[str, Any], on: dt.date = ON) -> Assessment:
    return assess(parse_case(data), on)


def lung_item(a: Assessment) -> Item:
    return next(i for i in a.recommendations if i.id.startswith("REC-LUNG-METASTASECTOMY"))


def advice(data: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    rec = lung_item(run(data))
    return rec.id, rec.conditional_on


def facts_of(rec: Item) -> set[tuple[str, str]]:
    return {(f.path, f.value) for f in rec.triggered_by}


def with_stage(data: dict[str, Any], **stage: Any) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out["stage"].update(stage)
    return out


class TestIntervalAtMoreThanOnePresentation:
    """Metastases found at more than one presentation (the latest found 3 months or more
    after the first): the present metastases are the latest, the earlier ones an earlier
    relapse that may have been removed before them. S16's interval runs to the present
    metastases from the last curative treatment before them; the primary's dates do not
    give it (I5)."""

    PENDING = ("REC-LUNG-METASTASECTOMY-PENDING", ("MISS-DFI-AFTER-RELAPSE",))

    @pytest.mark.parametrize("data", [SYNCHRONOUS_THEN_NEW, LIVER_2015_THEN_LUNG])
    def test_the_interval_is_asked_whichever_way_the_primarys_dates_fall(
            self, data: dict[str, Any]) -> None:
        """From the primary the dates give 0 months (a metastasis at presentation) or 10
        months to the first metastasis, and S16 had been reported 'not met' on them with
        nothing asked: an interval that does not describe the metastases being decided
        on, found 7 and 10 years after that first one was removed. The metastasectomy
        now waits on the interval after that relapse (not advised under S16 meanwhile),
        the item naming the first and the latest day, and S17's removal whenever
        possible stands."""
        a = run(data)
        rec = lung_item(a)
        assert (rec.id, rec.conditional_on) == self.PENDING
        mets = data["stage"]["metastases"]
        assert {("stage.metastases[0].detected_on", mets[0]["detected_on"]),
                ("stage.metastases[1].detected_on", mets[1]["detected_on"])} \
            <= facts_of(rec)
        shown = dict(facts_of(rec))["derived.disease_free_interval_months"]
        assert shown.startswith("unknown: the metastases were found at more than one "
                                "presentation")
        assert "REC-LUNG-METASTASECTOMY-NOT-MET" not in a.record_ids()
        assert "REC-AGGRESSIVE-SURGERY" in a.record_ids()
        assert "MISS-DFI-AFTER-RELAPSE" in {m.id for m in a.missing}

    def test_dates_from_the_primary_that_meet_s16_are_asked_as_before(self) -> None:
        """The first lung metastasis 21 months after the primary: the question had been
        asked already (the interval from the primary may be too long); it still is."""
        assert advice(REPEAT_LUNG) == self.PENDING

    @pytest.mark.parametrize(("data", "months"), [
        (SYNCHRONOUS_THEN_NEW, 84), (LIVER_2015_THEN_LUNG, 120), (REPEAT_LUNG, 62)])
    def test_the_true_interval_is_accepted_and_decides(
            self, data: dict[str, Any], months: int) -> None:
        """The interval since the earlier relapse's treatment (84 months since the 2019
        operation; 120 since the 2015 liver resection; 62 since the 2021
        metastasectomy), longer than the dates give from the primary to the first
        metastasis (0, 10 and 21 months): each had been refused as contradicting the
        dates, so the question could never be answered truthfully. Accepted, it meets
        S16 and the metastasectomy is advised outright, as for the same patient with
        only the present metastasis listed."""
        stated = with_stage(data, disease_free_interval_months=months)
        assert advice(stated) == ("REC-LUNG-METASTASECTOMY", ())
        shown = {f.path: f.value for f in run(stated).derived}
        assert shown["derived.disease_free_interval_months"] == f"{months} months (stated)"
        alone = with_stage(data, metastases=data["stage"]["metastases"][-1:])
        assert advice(alone) == ("REC-LUNG-METASTASECTOMY", ())

    def test_a_short_interval_after_the_earlier_relapse_is_not_met(self) -> None:
        """8 months since the earlier relapse's treatment: S16's interval criterion is not
        met, nothing asked (S17 still applies)."""
        a = run(with_stage(SYNCHRONOUS_THEN_NEW, disease_free_interval_months=8))
        assert lung_item(a).id == "REC-LUNG-METASTASECTOMY-NOT-MET"
        assert "MISS-DFI-AFTER-RELAPSE" not in {m.id for m in a.missing}

    def test_longer_than_the_months_to_the_latest_is_refused_naming_the_bound(
            self) -> None:
        """From the end of the primary's treatment (2019-03-20) to the latest metastasis
        (2026-04-15) are 84 whole months: the interval, from whichever treatment, cannot
        be longer. 85 is refused, the message naming that bound and the latest
        metastasis's day (not the first's 0 months); 84 is accepted."""
        with pytest.raises(InputError) as exc:
            parse_case(with_stage(SYNCHRONOUS_THEN_NEW, disease_free_interval_months=85))
        [issue] = exc.value.issues
        assert issue.path == "stage.disease_free_interval_months"
        assert "84 whole months" in issue.rule
        assert "latest metastasis" in issue.rule
        assert "'stage.metastases[1].detected_on' 2026-04-15" in issue.rule
        assert "cannot be longer" in issue.rule
        parse_case(with_stage(SYNCHRONOUS_THEN_NEW, disease_free_interval_months=84))

    def test_under_a_year_even_to_the_latest_is_not_met_without_a_question(
            self) -> None:
        """Primary resected 2025-01-10, lung metastases on 2025-03-01 and 2025-09-01:
        from the primary's treatment to the latest are 7 months, so whatever was treated
        in between the interval is under a year. S16 is not met, said as such ('at
        most'), and nothing is asked (no answer could change it)."""
        data = patient([lung("2025-03-01"), lung("2025-09-01")], operated="2025-01-10",
                       diagnosed="2025-01-02", extrapulmonary_disease="no")
        a = run(data)
        rec = lung_item(a)
        assert rec.id == "REC-LUNG-METASTASECTOMY-NOT-MET"
        assert ("derived.disease_free_interval_months", "7 months (dates, at most)") \
            in facts_of(rec)
        assert "MISS-DFI-AFTER-RELAPSE" not in {m.id for m in a.missing}

    def test_one_presentation_keeps_the_interval_from_the_primary(self) -> None:
        """Lung metastases found on 2026-04-15 and at the confirming scan six weeks later:
        one presentation. The dates from the primary decide as before: 84 months, S16
        met, nothing asked; a stated interval longer than the dates give to the first is
        still refused (85 > 84)."""
        data = patient([lung("2026-04-15"), lung("2026-05-28")],
                       extrapulmonary_disease="no")
        assert advice(data) == ("REC-LUNG-METASTASECTOMY", ())
        with pytest.raises(InputError, match="to the first metastasis"):
            parse_case(with_stage(data, disease_free_interval_months=85))

    def test_the_question_and_i5_say_so(self) -> None:
        """The question asks for the interval from the treatment of the earlier relapse
        to the present metastases, and says what holds meanwhile; I5 says the primary's
        dates do not give it and bound it by the latest metastasis."""
        kb = load_knowledge()
        q = kb.missing["MISS-DFI-AFTER-RELAPSE"]
        assert "more than one presentation" in q.question
        assert "present metastases" in q.question
        assert "not advised under S16 meanwhile" in q.meanwhile
        assert "S17" in q.meanwhile
        i5 = kb.interpretations["I5"].text
        assert "more than one presentation" in i5
        assert "latest metastasis found" in i5


class TestDiseaseOutsideTheLungsRemovedOrCleared:
    """'stage.extrapulmonary_disease' is disease outside the lungs present now, the team's
    statement after staging: a metastasis outside the lungs listed may have been removed
    or cleared since it was found, whether with the lung metastases or before them (I5)."""

    def test_left_unknown_it_is_asked_not_taken_as_present(self) -> None:
        """The staged patient, disease outside the lungs not recorded: it had been taken
        as present ('criteria not met', nothing asked), though the liver metastasis may
        have been resected first. Asked now (MISS-EXTRAPULMONARY), the item naming the
        liver metastasis and its day, and the metastasectomy waits on it (not advised
        meanwhile: the safer branch; S17 stands)."""
        a = run(STAGED)
        rec = lung_item(a)
        assert (rec.id, rec.conditional_on) == (
            "REC-LUNG-METASTASECTOMY-PENDING", ("MISS-EXTRAPULMONARY",))
        assert {("stage.metastases[1].site", "liver"),
                ("stage.metastases[1].detected_on", "2022-06-01")} <= facts_of(rec)
        assert "REC-LUNG-METASTASECTOMY-NOT-MET" not in a.record_ids()
        assert "REC-AGGRESSIVE-SURGERY" in a.record_ids()
        [asked] = [m for m in a.missing if m.id == "MISS-EXTRAPULMONARY"]
        assert "listed" in asked.question and "still present" in asked.question
        assert "not advised under S16 meanwhile" in asked.meanwhile

    @pytest.mark.parametrize("therapies", [
        [],
        # the liver metastasis cleared on sirolimus, the lung residue left
        [{"agent": "sirolimus", "setting": "advanced", "line": 1,
          "started_on": "2022-07-01", "best_response": "partial", "progressed": "no"}],
    ])
    def test_none_present_now_is_accepted_and_decides(
            self, therapies: list[dict[str, Any]]) -> None:
        """The team records none outside the lungs now (the liver resected first, or
        cleared on sirolimus): it had been refused as contradicting the liver metastasis
        listed. Accepted: with 38 months from the primary and complete excision feasible
        S16's criteria are met, and the metastasectomy is advised. Recorded as present,
        S16 is not met."""
        gone = with_stage(STAGED, extrapulmonary_disease="no")
        gone["systemic"]["therapies"] = therapies
        assert advice(gone) == ("REC-LUNG-METASTASECTOMY", ())
        assert advice(with_stage(STAGED, extrapulmonary_disease="yes"))[0] \
            == "REC-LUNG-METASTASECTOMY-NOT-MET"

    def test_one_found_after_the_lung_metastases_too(self) -> None:
        """A liver metastasis found three months after the lung one and resected: 'no' is
        accepted whatever the day; the interval counts to the lung metastases, a stated
        one answering the question of more than one presentation."""
        data = patient([lung("2022-06-01"), liver("2022-09-01")],
                       extrapulmonary_disease="no", disease_free_interval_months=38)
        assert advice(data) == ("REC-LUNG-METASTASECTOMY", ())

    def test_a_patient_free_of_all_disease_can_be_recorded_so(self) -> None:
        """Lung metastasis 2021, liver metastasis 2023 cleared on sirolimus, free of
        disease since 2024-06-01: the record of a patient in remission had to claim
        disease outside the lungs present (or leave it unknown); 'no' is accepted, and no
        metastasectomy is advised (no disease present, I8)."""
        data = patient([lung("2021-01-10"), liver("2023-05-01")],
                       extrapulmonary_disease="no", resectable="unknown")
        del data["stage"]["complete_excision_feasible"]
        data["systemic"]["therapies"] = [
            {"agent": "sirolimus", "line": 1, "started_on": "2023-06-01",
             "best_response": "complete", "progressed": "no"}]
        data["free_of_disease"] = {"since": "2024-06-01", "by": "systemic_therapy"}
        a = run(data)
        assert a.advanced is False
        assert not {i for i in a.record_ids() if i.startswith("REC-LUNG-METASTASECTOMY")}


#: Cases each refused by the case's checks before (a true interval after an earlier
#: relapse; none outside the lungs after a staged metastasectomy; a patient free of all
#: disease), with the advice each must now get.
ACCEPTED = {
    "interval-after-relapse": (with_stage(SYNCHRONOUS_THEN_NEW,
                                          disease_free_interval_months=84),
                               "REC-LUNG-METASTASECTOMY"),
    "staged-liver-resected": (with_stage(STAGED, extrapulmonary_disease="no"),
                              "REC-LUNG-METASTASECTOMY"),
}


class TestEveryWayIn:
    """The case file (CLI), the JSON API, the web form and the registry import take the
    same facts (the FHIR reader: tests/test_fhir_mcode.py)."""

    @pytest.mark.parametrize("name", sorted(ACCEPTED))
    def test_case_file(self, name: str, tmp_path: Path) -> None:
        data, expected = ACCEPTED[name]
        path = tmp_path / "case.json"
        path.write_text(json.dumps(data), "utf-8")
        r = run_cli("assess", str(path), "--on", ON.isoformat(), "-f", "json")
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        assert expected in [i["id"] for i in got["recommendations"]]

    @pytest.mark.parametrize("name", sorted(ACCEPTED))
    def test_json_api(self, name: str) -> None:
        from pecoma.web.app import create_app
        from pecoma.web.config import WebConfig

        data, expected = ACCEPTED[name]
        client = TestClient(create_app(WebConfig()), base_url="http://localhost")
        r = client.post(f"/api/v1/assess?on={ON.isoformat()}", json={"case": data})
        assert r.status_code == 200, r.text[:400]
        assert expected in [i["id"] for i in r.json()["recommendations"]]

    @pytest.mark.parametrize("name", sorted(ACCEPTED))
    def test_web_form(self, name: str) -> None:
        """The form filled without the fact refused before, then with it."""
        data, _expected = ACCEPTED[name]
        stage = data["stage"]
        without = with_stage(data)
        without["stage"].pop("disease_free_interval_months", None)
        without["stage"]["extrapulmonary_disease"] = "unknown"
        values = forms.case_to_values(parse_case(without), ON)
        if "disease_free_interval_months" in stage:
            values["stage.disease_free_interval_months"] = str(
                stage["disease_free_interval_months"])
        values["stage.extrapulmonary_disease"] = stage["extrapulmonary_disease"]
        result = forms.form_to_case(values)
        assert result.errors == {}
        assert result.case is not None
        assert result.case.stage.extrapulmonary_disease.value \
            == stage["extrapulmonary_disease"]
        assert result.case.stage.disease_free_interval_months \
            == stage.get("disease_free_interval_months")

    @pytest.mark.parametrize("name", sorted(ACCEPTED))
    def test_registry_import(self, name: str) -> None:
        data, _expected = ACCEPTED[name]
        row = RawRow(2, flatten(data, "PEC-0001"))
        good, issues = validate_rows([row], ON, default_settings(), assess_rows=False)
        assert issues == []
        assert len(good) == 1
