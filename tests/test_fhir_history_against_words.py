"""A history of metastatic cancer read against its own words.

mCODE records a patient's history of metastatic cancer as an Observation
(HistoryOfMetastaticCancer, SNOMED CT 1287652008 "History of metastatic malignant
neoplasm"): ``valueBoolean`` false says there is none, and beside no metastasis the
reader takes the disease as localized (resection and surveillance advice, no systemic
treatment). Its value was read alone: a value coded No (SNOMED CT 373067005) whose text
said "Yes", a value false beside the code's text "History of metastatic cancer: yes
(liver, 2019)" or an interpretation POS, or a code whose text named a relative's history
("Family history of metastatic cancer"), were all read as "no history", and the patient
as localized. Every other result is read against its words (HAZ-189: necrosis coded
Absent with the text "Present" is unknown, noted): the history is read the same way, so
that such a record says neither, with a note naming the resource and what disagrees, and
the disease is never taken as localized from it (the record is then refused naming it,
unless metastases or a status are recorded).

A Condition coded 1287652008 (a history kept on the problem list) was set aside as "not
the PEComa nor a metastasis of it", and the record's 'no history' Observation made the
patient localized; an Observation carrying mCODE's HistoryOfMetastaticCancer profile
with another code of its value set was not read at all. Both state a history now.

The record is ``tests/data/mcode/uterus-localized.json``: a resected uterine PEComa
recorded the mCODE way, whose 'no history of metastatic cancer' (valueBoolean false) is
what makes it localized.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import InputError
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig
from pecoma.web.smart.unreadable import unreadable

from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 11, 28)
SCT: Final = "http://snomed.info/sct"
HISTORY_ID: Final = "no-history-of-metastatic-cancer-pecoma-u"
WHERE: Final = f"Observation/{HISTORY_ID}"
PATIENT: Final = "cancer-patient-pecoma-u"
PROFILE: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-history-of-metastatic-cancer"
CORPUS: Final = Path(__file__).parent / "data" / "mcode" / "uterus-localized.json"

Change = Callable[[dict[str, Any]], None]


def uterus(change: Change | None = None, *added: dict[str, Any]) -> dict[str, Any]:
    """The corpus record, its 'no history' Observation changed by ``change``, with
    ``added`` resources."""
    bundle: dict[str, Any] = json.loads(CORPUS.read_text("utf-8"))
    for e in bundle["entry"]:
        if e["resource"].get("id") == HISTORY_ID and change is not None:
            change(e["resource"])
    bundle["entry"] += [{"resource": copy.deepcopy(r)} for r in added]
    return bundle


def coded_no_text_yes(obs: dict[str, Any]) -> None:
    del obs["valueBoolean"]
    obs["valueCodeableConcept"] = {"coding": [{"system": SCT, "code": "373067005",
                                               "display": "No"}], "text": "Yes"}


def code_text_yes(obs: dict[str, Any]) -> None:
    obs["code"]["text"] = "History of metastatic cancer: yes (liver, 2019)"


def interpretation_pos(obs: dict[str, Any]) -> None:
    obs["interpretation"] = [{"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
        "code": "POS"}]}]


def family_history(obs: dict[str, Any]) -> None:
    obs["code"]["text"] = "Family history of metastatic cancer"


def display_no_history_no_value(obs: dict[str, Any]) -> None:
    del obs["valueBoolean"]
    obs["code"]["coding"][0]["display"] = "No history of metastatic cancer"


#: (change, what the note says disagrees): each leaves the history read neither way.
DISAGREEING = [
    pytest.param(coded_no_text_yes, "its text 'Yes' says otherwise", id="coded-no-text-yes"),
    pytest.param(code_text_yes, "its code's text 'History of metastatic cancer: yes",
                 id="false-beside-code-text-yes"),
    pytest.param(interpretation_pos, "its interpretation 'POS' says otherwise",
                 id="false-beside-interpretation-pos"),
    pytest.param(family_history, "names a family history", id="family-history-text"),
    pytest.param(display_no_history_no_value, "its code's display 'No history of metastatic",
                 id="no-value-beside-display-no-history"),
]


def read(bundle: dict[str, Any]) -> Any:
    return case_from_bundle(bundle, on=ON)


class TestObservationAgainstItsWords:
    @pytest.mark.parametrize(("change", "said"), DISAGREEING)
    def test_the_disease_is_not_taken_as_localized(self, change: Change, said: str) -> None:
        """With nothing else giving the status, the record is refused naming the
        Observation and what disagrees (never localized, never a bare "not found")."""
        with pytest.raises(InputError) as exc:
            read(uterus(change))
        text = str(exc.value)
        assert f"{WHERE} records a history of metastatic cancer whose code and words " \
               "disagree" in text
        assert said in text

    @pytest.mark.parametrize(("change", "said"), DISAGREEING[:1])
    def test_a_status_recorded_beside_it_is_read_with_a_note(self, change: Change,
                                                             said: str) -> None:
        """A metastasis recorded beside it gives the status (metastatic) as before, and a
        note says the history is unknown and why."""
        metastasis = {"resourceType": "Condition", "id": "met-lung",
                      "meta": {"profile": [
                          "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                          "mcode-secondary-cancer-condition"]},
                      "clinicalStatus": {"coding": [{
                          "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                          "code": "active"}]},
                      "code": {"coding": [{"system": SCT, "code": "94391008",
                                           "display": "Secondary malignant neoplasm of lung"}]},
                      "bodySite": [{"coding": [{"system": SCT, "code": "39607008",
                                                "display": "Lung structure"}]}],
                      "onsetDateTime": "2026-10-01",
                      "subject": {"reference": f"Patient/{PATIENT}"}}
        bc = read(uterus(change, metastasis))
        assert bc.case.stage.status.value == "metastatic"
        assert any(n.startswith(f"{WHERE}: ") and said in n and "the fact is unknown" in n
                   for n in bc.notes)

    @pytest.mark.parametrize("change", [
        pytest.param(None, id="as-recorded"),
        pytest.param(lambda o: o["code"].update(text="No history of metastatic cancer"),
                     id="false-beside-code-text-no-history"),
        pytest.param(lambda o: (o.pop("valueBoolean"), o.update(valueCodeableConcept={
            "coding": [{"system": SCT, "code": "373067005", "display": "No"}]})),
            id="coded-no-display-no"),
    ])
    def test_words_that_restate_the_answer_are_no_disagreement(
            self, change: Change | None) -> None:
        """The reference point: "History of metastatic malignant neoplasm (situation)"
        names the question, "No history of metastatic cancer" beside false and "No" beside
        a value coded No restate the answer: localized, as before."""
        assert read(uterus(change)).case.stage.status.value == "localized"


class TestOtherShapesOfTheHistory:
    @staticmethod
    def _condition(code: dict[str, Any]) -> dict[str, Any]:
        return {"resourceType": "Condition", "id": "hx-c", "code": code,
                "clinicalStatus": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active"}]},
                "subject": {"reference": f"Patient/{PATIENT}"}}

    def test_a_condition_coded_as_the_history_states_one(self) -> None:
        """A Condition coded 1287652008 beside the 'no history' Observation: a history is
        stated, so the disease is not taken as localized, and the refusal names it."""
        code = {"coding": [{"system": SCT, "code": "1287652008",
                            "display": "History of metastatic malignant neoplasm (situation)"}]}
        with pytest.raises(InputError) as exc:
            read(uterus(None, self._condition(code)))
        assert "Condition/hx-c states a history of metastatic cancer" in str(exc.value)

    def test_a_condition_coded_as_the_history_whose_text_denies_it_is_unknown(self) -> None:
        """Coded 1287652008 with the text "No history of metastatic cancer": its code and
        its words disagree (HAZ-189), so it says neither, and the disease is still not
        taken as localized."""
        code = {"coding": [{"system": SCT, "code": "1287652008"}],
                "text": "No history of metastatic cancer"}
        with pytest.raises(InputError) as exc:
            read(uterus(None, self._condition(code)))
        assert "Condition/hx-c records a history of metastatic cancer whose code and words " \
               "disagree" in str(exc.value)

    def test_a_refuted_condition_says_nothing(self) -> None:
        """Entered in error, the Condition is not read: localized, as before."""
        code = {"coding": [{"system": SCT, "code": "1287652008"}]}
        cond = self._condition(code)
        cond["verificationStatus"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "entered-in-error"}]}
        assert read(uterus(None, cond)).case.stage.status.value == "localized"

    def test_the_mcode_profile_marks_the_history_whatever_its_code(self) -> None:
        """An Observation carrying the HistoryOfMetastaticCancer profile, coded with
        another concept of its value set (88701000119109 History of disseminated malignant
        neoplasm) and valued true, states a history: the 'no history' beside it no longer
        makes the disease localized."""
        obs = {"resourceType": "Observation", "id": "hx-disseminated", "status": "final",
               "meta": {"profile": [PROFILE]},
               "code": {"coding": [{"system": SCT, "code": "88701000119109",
                                    "display": "History of disseminated malignant neoplasm"}]},
               "valueBoolean": True, "effectiveDateTime": "2025-11-16",
               "subject": {"reference": f"Patient/{PATIENT}"}}
        with pytest.raises(InputError) as exc:
            read(uterus(None, obs))
        assert "Observation/hx-disseminated states a history of metastatic cancer" \
            in str(exc.value)


class TestPatientView:
    def test_the_card_names_the_history_and_what_disagrees(self, tmp_path: Path) -> None:
        """patient-view gives the card listing the problem (never the localized advice):
        the Observation and the words that disagree."""
        client = TestClient(create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'registry.db'}", cds=CdsSettings()),
            today=lambda: ON), base_url="http://localhost")
        bundle = uterus(coded_no_text_yes)
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=hook_request(
            "patient-view", PATIENT, prefetch=prefetch_of(bundle)))
        assert r.status_code == 200, r.text
        cards = r.json()["cards"]
        assert [c["indicator"] for c in cards] == ["warning"]
        assert "check not possible" in cards[0]["summary"]
        assert WHERE in cards[0]["detail"] and "its text 'Yes'" in cards[0]["detail"]


class TestSmartPage:
    def test_the_page_says_the_history_disagrees_with_itself(self) -> None:
        """The SMART launch's page for the record refused says why in a clinician's words:
        a history recorded whose code and words disagree (never "recorded without the
        site or the date", which is another record's problem)."""
        with pytest.raises(InputError) as exc:
            read(uterus(coded_no_text_yes))
        page = unreadable(exc.value.issues, [])
        [point] = [p for p in page.points if "cannot be told from the record" in p]
        assert "whose code and words disagree" in point
        assert "without the site" not in point
