"""A Patient's ``deceased[x]`` given in a JSON type FHIR does not allow.

An interface engine sent ``"deceasedBoolean": "true"`` (a string) or
``"deceasedDateTime": 20260105`` (a number). The R4B models coerce both, and the reader
looked only for a string date or the JSON ``true``: the value was dropped without a word,
even with ``--full-validation``. The patient was read as alive: ``pecoma fhir careplan``
wrote a plan and patient-view gave the ordinary advice with nothing said, while the EHR
most likely meant that the patient died.

A value that is present but cannot be read is not absent: whether the patient has died is
unknown, never taken as alive (the rule for a fact found but not read: unknown, noted,
the value quoted; as for a ``deceased[x]`` given only as a data-absent-reason). What that
unknown does, the safer branch for each way out:

* ``pecoma fhir to-case`` reads the case (it holds no vital status) and says, in a note
  quoting the value, that whether the patient died is unknown and is to be checked;
* ``pecoma fhir careplan`` writes no plan (exit 3), as for a patient recorded as deceased,
  saying why and what to record: a surveillance plan is written only for a patient the
  record shows alive;
* the CDS services give a warning card saying it first, then the advice as for a living
  patient (the patient may be alive, and the team needs it), with that part of the record
  listed as not read, and propose no order until the record says.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import InputError
from pecoma.fhir.reader import Validation, case_from_bundle

from allergy_support import (
    DOXORUBICIN,
    ON,
    SIROLIMUS,
    allergy,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)
from cli_support import run_cli

#: ``deceased[x]`` in a JSON type FHIR does not allow, and how the value is quoted.
UNREADABLE = [
    pytest.param("deceasedBoolean", "true", "deceasedBoolean is 'true' (a string)",
                 id="boolean-as-string-true"),
    pytest.param("deceasedBoolean", "false", "deceasedBoolean is 'false' (a string)",
                 id="boolean-as-string-false"),
    pytest.param("deceasedBoolean", 1, "deceasedBoolean is 1 (a number)",
                 id="boolean-as-number"),
    pytest.param("deceasedDateTime", 20260105, "deceasedDateTime is 20260105 (a number)",
                 id="datetime-as-number"),
    pytest.param("deceasedDateTime", True, "deceasedDateTime is True (a boolean)",
                 id="datetime-as-boolean"),
]

DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"


def with_patient(**fields: Any) -> dict[str, Any]:
    """The example record (advanced kidney PEComa, no line given) with ``fields`` set on
    its Patient."""
    bundle = record()
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    patient.update(copy.deepcopy(fields))
    return bundle


def set_on_patient(**fields: Any) -> Any:
    def change(prefetch: dict[str, Any]) -> None:
        prefetch["patient"].update(copy.deepcopy(fields))
    return change


READ_IN_BOTH_MODES = [
    pytest.param(mode, *p.values, id=f"{mode}-{p.id}")
    for mode in ("engine", "full") for p in UNREADABLE
    # the full validation refuses a boolean dateTime by name (the test below)
    if not (mode == "full" and p.values[1] is True)
]


class TestToCase:
    @pytest.mark.parametrize(("validate", "element", "value", "quoted"), READ_IN_BOTH_MODES)
    def test_whether_the_patient_died_is_unknown_and_said(
            self, element: str, value: Any, quoted: str, validate: Validation) -> None:
        """Neither dead nor alive: unknown, with a note quoting the value and asking that
        it be checked; the rest of the record is read (in both validation modes: the
        full validation had let the coerced value through too)."""
        bc = case_from_bundle(with_patient(**{element: value}), validate=validate, on=ON)
        assert bc.deceased is None
        assert bc.vital_status_unknown is not None and quoted in bc.vital_status_unknown
        [note] = [n for n in bc.notes if n.startswith("Patient.deceased[x]")]
        assert "whether the patient has died cannot be read" in note and quoted in note
        assert "not taken as alive" in note
        assert bc.case.stage.status.value == "metastatic"

    def test_the_full_validation_refuses_a_boolean_date_naming_it(self) -> None:
        """A boolean where a dateTime belongs is invalid FHIR, and the full validation
        refuses the record naming the element (never read as alive either)."""
        with pytest.raises(InputError, match=r"deceasedDateTime' must be valid FHIR R4"):
            case_from_bundle(with_patient(deceasedDateTime=True), validate="full", on=ON)

    def test_a_value_of_the_right_type_is_read_as_before(self) -> None:
        """The reference points: false is alive (nothing said), true is a death."""
        alive = case_from_bundle(with_patient(deceasedBoolean=False), on=ON)
        assert alive.deceased is None and alive.vital_status_unknown is None
        assert not any(n.startswith("Patient.deceased[x]") for n in alive.notes)
        assert case_from_bundle(with_patient(deceasedBoolean=True), on=ON).deceased == "yes"

    def test_a_death_recorded_by_vital_status_is_still_a_death(self) -> None:
        """An Observation of vital status 'Dead' beside an unreadable deceased[x]: the
        death is recorded, so it is read as one (nothing is unknown about it)."""
        bundle = with_patient(deceasedBoolean="true")
        bundle["entry"].append({"resource": {
            "resourceType": "Observation", "id": "vital", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "75186-7"}]},
            "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct",
                                                 "code": "419099009"}]},
            "effectiveDateTime": "2026-10-02",
            "subject": {"reference": "Patient/pat-1003"}}})
        bc = case_from_bundle(bundle, on=ON)
        assert bc.deceased == "2026-10-02" and bc.vital_status_unknown is None

    def test_the_command_says_so(self, tmp_path: Path) -> None:
        """`pecoma fhir to-case` writes the case (exit 0) and prints the note."""
        path = tmp_path / "b.json"
        path.write_text(json.dumps(with_patient(deceasedBoolean="true")), "utf-8")
        run = run_cli("fhir", "to-case", "--on", ON.isoformat(), str(path))
        assert run.returncode == 0, run.stderr
        said = " ".join(run.stderr.split())
        assert ("note: Patient.deceased[x]: whether the patient has died cannot be read "
                "(Patient/pat-1003.deceasedBoolean is 'true' (a string), not true or false "
                "(a JSON boolean)): it is unknown, not taken as alive; check it before "
                "acting on this advice") in said


class TestCarePlan:
    @staticmethod
    def careplan(tmp_path: Path, bundle: dict[str, Any]) -> Any:
        path = tmp_path / "b.json"
        path.write_text(json.dumps(bundle), "utf-8")
        return run_cli("fhir", "careplan", "--on", ON.isoformat(), str(path))

    @pytest.mark.parametrize(("element", "value", "quoted"), UNREADABLE[::3])
    def test_no_plan_is_written_as_if_alive(self, tmp_path: Path, element: str,
                                            value: Any, quoted: str) -> None:
        """Refused (exit 3, nothing on stdout), as for a patient recorded as deceased,
        naming the element, the value and what to record (a plan had been written)."""
        run = self.careplan(tmp_path, with_patient(**{element: value}))
        assert run.returncode == 3 and run.stdout == ""
        said = " ".join(run.stderr.split())
        assert "has died is unknown" in said and quoted in said
        assert ("record it in Patient.deceased[x] (deceasedBoolean true or false, or "
                "deceasedDateTime the date of death)") in said

    def test_a_death_given_only_as_absent_writes_no_plan_either(self, tmp_path: Path) -> None:
        """One rule for 'whether the patient died is unknown': a data-absent-reason too
        (a plan had been written with only a note on stderr)."""
        run = self.careplan(tmp_path, with_patient(_deceasedBoolean={"extension": [
            {"url": DAR, "valueCode": "unknown"}]}))
        assert run.returncode == 3
        assert "data-absent-reason 'unknown'" in " ".join(run.stderr.split())

    def test_a_patient_recorded_alive_gets_the_plan(self, tmp_path: Path) -> None:
        """The reference point: deceasedBoolean false, the plan is written."""
        run = self.careplan(tmp_path, with_patient(deceasedBoolean=False))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["resourceType"] == "Bundle"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("vital"))


class TestCdsServices:
    def test_patient_view_says_it_first_and_gives_the_advice(self, client: TestClient) -> None:
        """The first card says whether the patient died is unknown, quoting the value;
        the assessment follows (the patient may be alive), its summary a warning listing
        the vital status among the parts not read."""
        cards = patient_view(client, record(), set_on_patient(deceasedBoolean="true"))
        assert cards[0]["indicator"] == "warning"
        assert cards[0]["summary"] == ("Whether this patient has died is unknown from the "
                                       "record: check it before acting on the PEComa advice")
        assert "deceasedBoolean is 'true' (a string)" in cards[0]["detail"]
        summary = cards[1]
        assert summary["summary"].startswith("PEComa (metastatic)")
        assert summary["indicator"] == "warning"
        assert "whether the patient has died:" in " ".join(summary["detail"].split())

    def test_a_death_given_only_as_absent_is_said_first_too(self, client: TestClient) -> None:
        """One rule: a data-absent-reason gets the same first card (it had been only a
        note inside the summary card's detail)."""
        cards = patient_view(client, record(), set_on_patient(_deceasedDateTime={
            "extension": [{"url": DAR, "valueCode": "unknown"}]}))
        assert cards[0]["summary"].startswith("Whether this patient has died is unknown")
        assert "data-absent-reason 'unknown'" in cards[0]["detail"]

    def test_order_select_proposes_nothing(self, client: TestClient) -> None:
        """A doxorubicin draft keeps its first-line warning, but no sirolimus order is
        proposed while whether the patient died is unknown, and the card says why."""
        cards = order_select(client, record(), DOXORUBICIN,
                             set_on_patient(deceasedDateTime=20260105))
        assert cards[0]["summary"].startswith("Whether this patient has died is unknown")
        assert not proposed(cards)
        assert ("No mTOR-inhibitor order is proposed:** whether the patient has died is "
                "unknown from the record") in details(cards)

    def test_the_allergy_check_still_holds(self, client: TestClient) -> None:
        """A sirolimus draft beside a sirolimus allergy stays critical."""
        def change(prefetch: dict[str, Any]) -> None:
            set_on_patient(deceasedBoolean="true")(prefetch)
            prefetch["allergies"] = {"resourceType": "Bundle", "type": "searchset",
                                     "entry": [{"resource": allergy(code=SIROLIMUS)}]}

        cards = order_select(client, record(), SIROLIMUS, change)
        assert critical(cards)
        assert any(c["summary"].startswith("Whether this patient has died is unknown")
                   for c in cards)

    def test_a_patient_recorded_alive_gets_the_proposal(self, client: TestClient) -> None:
        """The reference point: deceasedBoolean false, sirolimus is proposed."""
        cards = order_select(client, record(), DOXORUBICIN,
                             set_on_patient(deceasedBoolean=False))
        assert proposed(cards)
        assert not any("has died" in c["summary"] for c in cards)
