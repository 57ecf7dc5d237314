"""The first and last days of the calendar in a FHIR record: never a crash or a 500.

FHIR allows any year from 0001 to 9999, and EHRs built on .NET or Java write
``0001-01-01`` (their smallest date) for a day they do not know. pecoma accepts dates
between 1900-01-01 and 2199-12-31 (:mod:`pecoma.dates`). A PEComa Condition dated
0001-01-01 once stopped ``pecoma fhir to-case`` with an internal error and gave HTTP 500 on
patient-view (six months were counted back from it to tell another disease's staging
from the PEComa's); a result dated ``0001-01-01T00:00:00+05:00`` has no UTC instant Python
can hold. Each extreme date, in every date-bearing element the reader reads, must either
be read (the element gives no fact of the case, or a fact pecoma reads otherwise: a
medication started before the diagnosis, one starting after the day read for) or be
refused as a record problem naming the field and the range, exactly as the same date on a
metastasis or a procedure is.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import InputError
from pecoma.dates import EARLIEST, LATEST
from pecoma.fhir import case_from_bundle
from pecoma.web import WebConfig, create_app
from pecoma.web.cds.discovery import PATIENT_VIEW

from cli_support import run_cli
from fhir_support import as_searched, hook_request, prefetch_of

ON = dt.date(2026, 12, 6)
ROOT = Path(__file__).resolve().parent
RANGE_TEXT = "between 1900-01-01 and 2199-12-31"
#: The calendar's first and last days, as dates and as dateTimes whose offset puts them
#: outside what a UTC instant can hold.
EXTREMES = ("0001-01-01", "9999-12-31", "0001-01-01T00:00:00+05:00",
            "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _record() -> dict[str, Any]:
    """The mCODE kidney record (PEComa, metastases, a resection, a biopsy, a disease status,
    administrations, requests, an allergy), with every other kind of date the reader
    reads added: a MedicationStatement's period, a MedicationDispense's days, the
    project's primary-treatment-end result (effective, issued, value), an allergy's onset
    and recorded date, the Conditions' recorded dates, the PEComa's asserted date."""
    record: dict[str, Any] = json.loads((ROOT / "data/mcode/kidney-metastatic.json").read_text())
    patient = record["entry"][0]["resource"]
    subject = {"reference": f"Patient/{patient['id']}"}
    record["entry"] += [
        {"resource": {"resourceType": "MedicationStatement", "id": "ms-sirolimus",
                      "status": "completed", "subject": subject,
                      "medicationCodeableConcept": {"text": "sirolimus"},
                      "effectivePeriod": {"start": "2025-03-01", "end": "2025-06-01"}}},
        {"resource": {"resourceType": "MedicationDispense", "id": "md-everolimus",
                      "status": "completed", "subject": subject,
                      "medicationCodeableConcept": {"text": "everolimus"},
                      "whenPrepared": "2025-04-01",
                      "whenHandedOver": "2025-04-01T10:00:00+02:00"}},
        {"resource": {"resourceType": "Observation", "id": "primary-treatment-end",
                      "status": "final", "subject": subject,
                      "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/"
                                           "pecoma", "code": "primary-treatment-end"}]},
                      "effectiveDateTime": "2023-07-01T09:00:00-05:00",
                      "issued": "2023-07-02T09:00:00Z", "valueDateTime": "2023-07-01"}},
    ]
    for entry in record["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "AllergyIntolerance":
            res["onsetDateTime"] = "2024-01-01"
            res["recordedDate"] = "2024-01-02T08:00:00+01:00"
        if res["resourceType"] == "Condition" and "onsetDateTime" in res:
            res.setdefault("recordedDate", res["onsetDateTime"])
        if res["id"] == "primary-cancer-condition-kidney":
            res.setdefault("extension", []).append({
                "url": "http://hl7.org/fhir/StructureDefinition/condition-assertedDate",
                "valueDateTime": "2023-05-20"})
    return record


def _date_paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _date_paths(item, (*path, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _date_paths(item, (*path, i))
    elif isinstance(value, str) and _DATE.match(value):
        yield path


def _set(record: dict[str, Any], path: tuple[Any, ...], value: str) -> None:
    node: Any = record
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


RECORD = _record()


def _variants() -> list[tuple[str, tuple[Any, ...]]]:
    """Every date-bearing element of the record, named ``Type/id.element``, and the
    Patient's death and the PEComa's recorded date alone (no onset, no asserted date:
    the day the Condition was entered is then the diagnosis date read)."""
    out = []
    for path in _date_paths(RECORD):
        res = RECORD["entry"][path[1]]["resource"]
        name = f"{res['resourceType']}/{res['id']}." + ".".join(str(p) for p in path[3:])
        out.append((name, path))
    patient = next(i for i, e in enumerate(RECORD["entry"])
                   if e["resource"]["resourceType"] == "Patient")
    out.append(("Patient.deceasedDateTime",
                ("entry", patient, "resource", "deceasedDateTime")))
    out.append(("Condition/primary-cancer-condition-kidney.recordedDate (alone)",
                ("recorded-only",)))
    return out


VARIANTS = _variants()
#: Elements of FHIR type ``date`` (a time in them is invalid FHIR, refused as such) and
#: of type ``instant`` (a time and zone required).
_DATE_ONLY = ("birthDate",)
_INSTANT = ("issued",)
CASES = [(name, path, day) for name, path in VARIANTS for day in EXTREMES
         if ("T" not in day or not name.endswith(_DATE_ONLY))
         and ("T" in day or not name.endswith(_INSTANT))]
CASE_IDS = [f"{name}={day}" for name, _path, day in CASES]


def _with(path: tuple[Any, ...], day: str) -> dict[str, Any]:
    record = copy.deepcopy(RECORD)
    if path == ("recorded-only",):
        pecoma = next(e["resource"] for e in record["entry"]
                      if e["resource"]["id"] == "primary-cancer-condition-kidney")
        del pecoma["onsetDateTime"]
        pecoma["extension"] = [x for x in pecoma["extension"]
                               if not x["url"].endswith("condition-assertedDate")]
        pecoma["recordedDate"] = day
    else:
        _set(record, path, day)
    return record


def test_the_record_reads_as_it_stands() -> None:
    """The record the dates are put into is a readable PEComa record (else every
    refusal below could come from something else), and it holds each kind of date the
    docstring names."""
    bc = case_from_bundle(copy.deepcopy(RECORD), on=ON)
    assert bc.case.stage.metastases
    names = " ".join(name for name, _path in VARIANTS)
    for element in ("onsetDateTime", "recordedDate", "abatementDateTime", "effectiveDateTime",
                    "issued", "performedDateTime", "authoredOn", "effectivePeriod.start",
                    "whenHandedOver", "valueDateTime", "birthDate", "deceasedDateTime",
                    "boundsPeriod.start", "primary-cancer-condition-kidney.extension"):
        assert element in names, element


def _dates_in_range(value: Any) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _dates_in_range(item)
    elif isinstance(value, list):
        for item in value:
            _dates_in_range(item)
    elif isinstance(value, str) and _DATE.fullmatch(value):
        assert EARLIEST <= dt.date.fromisoformat(value) <= LATEST, value


class TestReader:
    @pytest.mark.parametrize(("name", "path", "day"), CASES, ids=CASE_IDS)
    def test_read_or_refused_by_the_range(self, name: str, path: tuple[Any, ...],
                                          day: str) -> None:
        """Either the record is read, and no day of the case lies outside the range, or
        it is refused naming a field and the range (the rule that refuses the same day
        on a metastasis or a procedure). Any other exception fails the test."""
        try:
            bc = case_from_bundle(_with(path, day), on=ON)
        except InputError as exc:
            assert any(RANGE_TEXT in issue.rule for issue in exc.issues), exc.issues
            return
        _dates_in_range(bc.case.model_dump(mode="json"))

    @pytest.mark.parametrize(("element", "day"), [
        ("onsetDateTime", "0001-01-01"), ("onsetDateTime", "9999-12-31"),
        ("onsetDateTime", "0001-01-01T00:00:00Z"), ("recordedDate", "0001-01-01"),
        ("recordedDate", "0001-01-01T00:00:00Z")])
    def test_the_pecomas_own_date_is_refused(self, element: str, day: str) -> None:
        """The PEComa's diagnosis date is a fact of the case: its onset, or its recorded
        date alone, on the calendar's first or last day is refused naming
        ``diagnosis.date``, the Condition and the range. (A recorded date alone of
        9999-12-31 is after the resection: not when the diagnosis was made, so the date
        is left unknown, with a note, as any such recorded date is.)"""
        path = (("recorded-only",) if element == "recordedDate" else
                next(p for n, p in VARIANTS
                     if n == "Condition/primary-cancer-condition-kidney.onsetDateTime"))
        with pytest.raises(InputError) as caught:
            case_from_bundle(_with(path, day), on=ON)
        (issue,) = caught.value.issues
        assert issue.path.startswith("diagnosis.date (from Condition/primary-cancer-condition"
                                     "-kidney")
        assert RANGE_TEXT in issue.rule


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{tmp_path_factory.mktemp('cds-dates') / 'registry.db'}"
    app = create_app(WebConfig(database_url=url), today=lambda: ON)
    with TestClient(app, raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c


class TestPatientView:
    @pytest.mark.parametrize(("name", "path", "day"), CASES, ids=CASE_IDS)
    def test_cards_never_a_500(self, client: TestClient, name: str, path: tuple[Any, ...],
                               day: str) -> None:
        """The same records through patient-view: a 200 with cards, never a 500 or an
        HTML body; a record refused gets the usual card saying the check was not possible,
        naming the range."""
        record = _with(path, day)
        pid = record["entry"][0]["resource"]["id"]
        body = hook_request("patient-view", pid, prefetch=prefetch_of(as_searched(record)))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text[:300]
        cards = r.json()["cards"]
        assert cards
        # the record is the patient's and read whole: what answers is the reading itself
        assert not any("check incomplete" in c["summary"] for c in cards), cards[0]
        refused = [c for c in cards if "check not possible" in c["summary"]]
        if refused:
            assert "2199-12-31" in refused[0]["detail"]

    @pytest.mark.parametrize("element", ["onsetDateTime", "recordedDate"])
    def test_the_pecoma_dated_0001(self, client: TestClient, element: str) -> None:
        """The reported record: the PEComa dated 0001-01-01 gives the card saying the
        check was not possible, naming diagnosis.date and the range."""
        path = (("recorded-only",) if element == "recordedDate" else
                next(p for n, p in VARIANTS
                     if n == "Condition/primary-cancer-condition-kidney.onsetDateTime"))
        record = _with(path, "0001-01-01")
        pid = record["entry"][0]["resource"]["id"]
        body = hook_request("patient-view", pid, prefetch=prefetch_of(as_searched(record)))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text[:300]
        (card,) = r.json()["cards"]
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert "diagnosis.date" in card["detail"] and "2199-12-31" in card["detail"]


class TestToCase:
    @pytest.mark.parametrize(("element", "day"), [
        ("onsetDateTime", "0001-01-01"), ("onsetDateTime", "9999-12-31"),
        ("recordedDate", "0001-01-01")])
    def test_refused_with_exit_3(self, tmp_path: Path, element: str, day: str) -> None:
        """``pecoma fhir to-case`` refuses the record (exit 3, a rejected bundle) naming
        diagnosis.date and the range; never "internal error" (exit 1)."""
        path = (("recorded-only",) if element == "recordedDate" else
                next(p for n, p in VARIANTS
                     if n == "Condition/primary-cancer-condition-kidney.onsetDateTime"))
        bundle = tmp_path / "b.json"
        bundle.write_text(json.dumps(_with(path, day)))
        run = run_cli("fhir", "to-case", str(bundle), "--on", ON.isoformat(), cwd=tmp_path,
                      columns=300)
        assert run.returncode == 3, run.stderr
        assert "internal error" not in run.stderr
        assert "diagnosis.date" in run.stderr and RANGE_TEXT in run.stderr
