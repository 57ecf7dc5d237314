"""A Patient carrying a modifierExtension, or whose information was withheld.

Every other resource carrying a modifierExtension pecoma does not understand is not read
(FHIR R4: a resource is never read as if its modifier were absent), and every other
resource labelled ``REDACTED`` or ``SUBSETTED`` is not read either; the Patient was
read silently in both cases:

* a Patient with a modifierExtension (on itself, or on its Bundle entry) had its
  ``deceasedBoolean false`` (or nothing) read as alive: the extension may say the
  record is not to be taken as it reads;
* a Patient labelled ``REDACTED`` (HL7 v3 ObservationValue: information removed for
  security or privacy reasons) or ``SUBSETTED`` (a copy with elements left out), held in
  a Bundle so labelled, or whose name reads "REDACTED" (a de-identified record), with
  no ``deceased[x]``: the patient was read as alive, though the element missing may be
  what was withheld.

Expected, by hand, as for a ``deceased[x]`` pecoma cannot read: whether the patient has
died is unknown, never taken as alive; ``to-case`` reads the rest of the record and says
so, ``careplan`` writes no plan, the CDS services say it first and propose no order. A
value the withheld Patient does give is read (what is there was not withheld), and a
modifierExtension within an element pecoma does not read (a contact) changes only that
element.

The record: the example ``metastatic-lung-metachronous`` (as in ``allergy_support``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.reader import BundleCase, case_from_bundle

from allergy_support import (
    DOXORUBICIN,
    ON,
    PATIENT,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
)
from cli_support import run_cli

MODIFIER = "https://ehr.example/fhir/StructureDefinition/record-status"
V3 = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue"
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
UNKNOWN = "Whether this patient has died is unknown from the record"
REDACTED = {"meta": {"security": [{"system": V3, "code": "REDACTED"}]}}
SUBSETTED = {"meta": {"tag": [{"system": V3, "code": "SUBSETTED"}]}}
A_MODIFIER = {"modifierExtension": [{"url": MODIFIER, "valueCode": "test-record"}]}


def _patient(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "Patient")


def with_patient(**fields: Any) -> dict[str, Any]:
    bundle = record()
    _patient(bundle).update(copy.deepcopy(fields))
    return bundle


def _read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


def _unknown(bc: BundleCase, said: str) -> None:
    """Neither dead nor alive, said with why; the rest of the record read."""
    assert bc.deceased is None
    assert bc.vital_status_unknown is not None and said in bc.vital_status_unknown
    [note] = [n for n in bc.notes if n.startswith("Patient.deceased[x]")]
    assert said in note and "not taken as alive" in note
    assert bc.case.stage.status.value == "metastatic"


class TestAModifierExtension:
    def test_on_the_patient_nothing_is_read_from_it(self) -> None:
        """deceasedBoolean false beside a modifierExtension: not read as alive; the
        Patient is listed among the resources not read, with why."""
        bc = _read(with_patient(deceasedBoolean=False, **A_MODIFIER))
        _unknown(bc, f"Patient/{PATIENT} carries a modifierExtension pecoma does not "
                     f"understand ({MODIFIER})")
        [listed] = [x for x in bc.not_read if x.startswith("Patient:")]
        assert "deceased[x] and birthDate not read" in listed
        assert f"Patient/{PATIENT}" in listed

    def test_a_death_beside_it_is_not_read_either(self) -> None:
        """deceasedBoolean true beside it: the extension may change what it means;
        unknown too (no advice is proposed either way)."""
        bc = _read(with_patient(deceasedBoolean=True, **A_MODIFIER))
        _unknown(bc, "modifierExtension")

    def test_on_its_bundle_entry(self) -> None:
        """A modifierExtension on the Patient's Bundle entry modifies what the entry's
        resource means: the same."""
        bundle = record()
        entry = next(e for e in bundle["entry"]
                     if e["resource"]["resourceType"] == "Patient")
        entry.update(copy.deepcopy(A_MODIFIER))
        _unknown(_read(bundle), f"modifierExtension pecoma does not understand ({MODIFIER})")

    def test_within_an_element_not_read_changes_only_that_element(self) -> None:
        """Boundary: a modifierExtension on a contact (FHIR: it modifies that contact)
        leaves the vital status read: alive, nothing said."""
        bc = _read(with_patient(contact=[{"name": {"family": "Example"}, **A_MODIFIER}]))
        assert bc.deceased is None and bc.vital_status_unknown is None

    def test_full_validation_reads_it_the_same(self) -> None:
        bc = case_from_bundle(with_patient(**A_MODIFIER), validate="full", on=ON)
        _unknown(bc, "modifierExtension")


class TestInformationWithheld:
    @pytest.mark.parametrize(("fields", "said"), [
        (REDACTED, f"Patient/{PATIENT} is labelled REDACTED (meta.security)"),
        (SUBSETTED, f"Patient/{PATIENT} is labelled SUBSETTED (meta.tag)"),
        ({"name": [{"text": "REDACTED"}]}, f"Patient/{PATIENT}'s name reads 'REDACTED'"),
        ({"name": [{"family": "[redacted]", "given": ["[redacted]"]}]},
         f"Patient/{PATIENT}'s name reads '[redacted]'"),
    ], ids=["redacted", "subsetted", "name-redacted", "name-redacted-in-brackets"])
    def test_no_deceased_is_unknown_not_alive(self, fields: dict[str, Any],
                                              said: str) -> None:
        """No deceased[x] in a Patient whose information was withheld: unknown, the note
        saying why (it had been read as alive)."""
        bc = _read(with_patient(**fields))
        _unknown(bc, said)
        assert "gives no deceased[x], which may be what was withheld" in (
            bc.vital_status_unknown or "")

    def test_a_bundle_labelled_redacted(self) -> None:
        """The Bundle holding the Patient labelled REDACTED: the same (the other parts of
        the record were already not read in full)."""
        bundle = record()
        bundle.update(copy.deepcopy(REDACTED))
        _unknown(_read(bundle), "the Bundle holding Patient/pat-1003 is labelled REDACTED")

    def test_a_deceased_given_masked_is_unknown(self) -> None:
        """FHIR's other mark of redacted data: the element sent with only a
        data-absent-reason 'masked' (withheld for security or privacy)."""
        bc = _read(with_patient(_deceasedBoolean={"extension": [
            {"url": DAR, "valueCode": "masked"}]}))
        _unknown(bc, "data-absent-reason 'masked'")

    @pytest.mark.parametrize(("value", "deceased"), [(False, None), (True, "yes")])
    def test_a_value_it_gives_is_read(self, value: bool, deceased: str | None) -> None:
        """Boundary: a deceasedBoolean the withheld Patient gives was not withheld: false
        is alive, true a death."""
        bc = _read(with_patient(deceasedBoolean=value, **REDACTED))
        assert bc.deceased == deceased and bc.vital_status_unknown is None

    def test_an_ordinary_patient_is_alive(self) -> None:
        """Reference point: no label, no deceased[x], a name: alive, nothing said."""
        bc = _read(record())
        assert bc.deceased is None and bc.vital_status_unknown is None
        assert not any(x.startswith("Patient:") for x in bc.not_read)


class TestCarePlan:
    @pytest.mark.parametrize("fields", [A_MODIFIER, REDACTED], ids=["modifier", "redacted"])
    def test_no_plan_is_written_as_if_alive(self, tmp_path: Path,
                                            fields: dict[str, Any]) -> None:
        """Refused (exit 3), as for any record leaving the vital status unknown."""
        path = tmp_path / "b.json"
        path.write_text(json.dumps(with_patient(**fields)), "utf-8")
        run = run_cli("fhir", "careplan", "--on", ON.isoformat(), str(path))
        assert run.returncode == 3 and run.stdout == ""
        assert "has died is unknown" in " ".join(run.stderr.split())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("patient-withheld"))


def set_on_patient(fields: dict[str, Any]) -> Any:
    def change(prefetch: dict[str, Any]) -> None:
        prefetch["patient"].update(copy.deepcopy(fields))
    return change


class TestCdsServices:
    @pytest.mark.parametrize("fields", [A_MODIFIER, REDACTED], ids=["modifier", "redacted"])
    def test_order_select_proposes_nothing(self, client: TestClient,
                                           fields: dict[str, Any]) -> None:
        """The doxorubicin draft keeps its first-line warning; no sirolimus order is
        proposed (it had been pre-selected), and the first card says why."""
        cards = order_select(client, record(), DOXORUBICIN, set_on_patient(fields))
        assert cards[0]["summary"].startswith(UNKNOWN)
        assert not proposed(cards)
        assert ("No mTOR-inhibitor order is proposed:** whether the patient has died is "
                "unknown from the record") in details(cards)

    @pytest.mark.parametrize(("fields", "said"), [
        (A_MODIFIER, "modifierExtension pecoma does not understand"),
        (REDACTED, "labelled REDACTED")], ids=["modifier", "redacted"])
    def test_patient_view_says_it_first(self, client: TestClient, fields: dict[str, Any],
                                        said: str) -> None:
        cards = patient_view(client, record(), set_on_patient(fields))
        assert cards[0]["summary"].startswith(UNKNOWN)
        assert said in cards[0]["detail"]

    def test_a_patient_recorded_alive_gets_the_proposal(self, client: TestClient) -> None:
        """Reference point: the same call with the Patient as sent, sirolimus proposed."""
        cards = order_select(client, record(), DOXORUBICIN, set_on_patient({}))
        assert proposed(cards)
        assert not any("has died" in c["summary"] for c in cards)
