"""A medication's dates written in its dosage timing are read the same for every kind of
record (fhir/medications.py: first_day, given, given_now).

R4 MedicationStatement.effective[x] is 0..1, and EHR medication lists (home and
patient-reported medications) often give a statement's dates only in
``dosage[].timing.repeat.boundsPeriod`` or ``timing.event``. MedicationRequest writes the
same timing under ``dosageInstruction``; a MedicationAdministration's one ``dosage`` has no
timing (its ``effective[x]`` is its date). The dates of a statement's dosage were never
read: an active everolimus statement to start on 1 June 2026 was read on 2026-01-15 as a
line given now, which (I15: another mTOR inhibitor tolerated) set aside a recorded
sirolimus intolerance and made an mTOR inhibitor the first-line advice; a past course lost
its first day (and the chemotherapy-before-mTOR-inhibitor alert with it); a course whose
dosing had ended was listed as given now.

The record is tests/data/mcode/kidney-metastatic.json: a renal PEComa with lung and brain
metastases, doxorubicin with ifosfamide from 2024-01-22, and an intolerance of sirolimus
(RxNorm 35302). Its everolimus order is taken out and the course under test put in.
Every expected fact below is written by hand from those records.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir.medications import FirstDay, Given, first_day, given, given_now
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import as_searched, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 1, 15)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
EVEROLIMUS = {"coding": [{"system": RXNORM, "code": "141704", "display": "everolimus"}]}
SUBJECT = {"reference": "urn:uuid:6f1f1a32-0c55-4a55-9f29-6c1f0d7d0001"}
KIDNEY = Path(__file__).parent / "data" / "mcode" / "kidney-metastatic.json"


def _timing(bounds: dict[str, Any] | None = None, events: list[str] | None = None,
            duration: dict[str, Any] | None = None) -> dict[str, Any]:
    repeat: dict[str, Any] = {"frequency": 1, "period": 1, "periodUnit": "d"}
    if bounds is not None:
        repeat["boundsPeriod"] = bounds
    if duration is not None:
        repeat["boundsDuration"] = duration
    timing: dict[str, Any] = {"repeat": repeat}
    if events is not None:
        timing["event"] = events
    return timing


def statement(status: str = "active", **timing: Any) -> dict[str, Any]:
    """An everolimus MedicationStatement dated only by its dosage's timing."""
    return {"resourceType": "MedicationStatement", "id": "evs", "status": status,
            "medicationCodeableConcept": EVEROLIMUS, "subject": SUBJECT,
            "dosage": [{"text": "10 mg orally once daily", "timing": _timing(**timing)}]}


def request(status: str = "active", **timing: Any) -> dict[str, Any]:
    """The same course as an order (its timing under ``dosageInstruction``)."""
    return {"resourceType": "MedicationRequest", "id": "evr", "status": status,
            "intent": "order", "medicationCodeableConcept": EVEROLIMUS, "subject": SUBJECT,
            "dosageInstruction": [{"text": "10 mg orally once daily",
                                   "timing": _timing(**timing)}]}


def administration(status: str, period: dict[str, str]) -> dict[str, Any]:
    """The same course as an administration: its one ``dosage`` has no timing, its
    ``effectivePeriod`` is its date."""
    return {"resourceType": "MedicationAdministration", "id": "eva", "status": status,
            "medicationCodeableConcept": EVEROLIMUS, "subject": SUBJECT,
            "effectivePeriod": period,
            "dosage": {"text": "10 mg orally", "route": {"text": "oral"}}}


def doses_on(record: dict[str, Any], *days: Any) -> dict[str, Any]:
    """``record`` with every dosage given as a list of dose days only (``timing.event``, no
    ``repeat``): the doses planned are those days and no others."""
    for dosage in record.get("dosage", record.get("dosageInstruction", [])):
        dosage["timing"] = {"event": list(days)}
    return record


def kidney_with(*resources: dict[str, Any]) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(KIDNEY.read_text("utf-8"))
    bundle["entry"] = [e for e in bundle["entry"] if e["resource"].get("id")
                       != "cancer-related-medication-request-everolimus"]
    bundle["entry"] += [{"resource": copy.deepcopy(r)} for r in resources]
    return bundle


def read(*resources: dict[str, Any]) -> BundleCase:
    return case_from_bundle(kidney_with(*resources), on=ON)


def refused(*resources: dict[str, Any], validate: Any = "engine") -> list[tuple[str, str]]:
    """The issues the reading of the kidney record with ``resources`` refuses it for."""
    with pytest.raises(InputError) as caught:
        case_from_bundle(kidney_with(*resources), on=ON, validate=validate)
    return [(i.path, i.value) for i in caught.value.issues]


def lines(bc: BundleCase) -> list[tuple[Agent, dt.date | None]]:
    return [(t.agent, t.started_on) for t in bc.case.systemic.therapies]


def ids(bc: BundleCase) -> set[str]:
    a = assess(bc.case, ON)
    return {i.id for i in (*a.recommendations, *a.alerts)}


CHEMO = (Agent.doxorubicin_ifosfamide, dt.date(2024, 1, 22))


class TestFirstDay:
    @pytest.mark.parametrize("timing", [
        {"bounds": {"start": "2026-06-01"}},
        {"events": ["2026-06-01", "2026-06-02"]},
        {"bounds": {"start": "2026-06-01T08:00:00+02:00", "end": "2026-12-01"}},
    ], ids=["bounds-start", "first-event", "bounds-datetime"])
    def test_a_statement_s_first_day_is_its_dosage_s_as_a_request_s(
            self, timing: dict[str, Any]) -> None:
        """1 June 2026 written only in the dosage timing (its bounds' start, or the first
        of its events): the first day of the statement, as of the order (it was none)."""
        june = FirstDay(dt.date(2026, 6, 1), dt.date(2026, 6, 1), "")
        for record in (statement(**timing), request(**timing)):
            day = first_day(record)
            assert day is not None and (day.earliest, day.latest) == (
                june.earliest, june.latest), record["resourceType"]

    def test_a_partial_dosage_start_gives_the_days_it_may_be(self) -> None:
        """A statement's dosage starting "2026-06": every day of June, never a day."""
        assert first_day(statement(bounds={"start": "2026-06"})) == FirstDay(
            dt.date(2026, 6, 1), dt.date(2026, 6, 30), "2026-06")

    def test_the_dosage_dates_a_statement_only_when_its_effective_does_not(self) -> None:
        """effective[x], the statement's own date, is read before its dosage's; a period
        naming only its end leaves the first day to the dosage (it was none); its
        dateAsserted (when the list was written) never stands for it."""
        dated = statement(bounds={"start": "2025-04-01"})
        dated["effectiveDateTime"] = "2025-03-06"
        open_start = statement(bounds={"start": "2025-03-06"})
        open_start["effectivePeriod"] = {"end": "2025-05-01"}
        for record in (dated, open_start):
            day = first_day(record)
            assert day is not None and day.day == dt.date(2025, 3, 6)
        undated = statement()
        undated["dateAsserted"] = "2025-01-10"
        assert first_day(undated) is None

    def test_one_course_has_one_first_day_in_every_kind_of_record(self) -> None:
        """Everolimus from 2025-03-06, as an order (dosageInstruction), a statement
        (dosage) and an administration (effectivePeriod; its one dosage, an object, has
        no timing): the same first day."""
        bounds = {"start": "2025-03-06", "end": "2025-05-01"}
        days = [first_day(r) for r in (
            request(bounds=bounds), statement(bounds=bounds),
            administration("completed", {"start": "2025-03-06T09:00:00Z"}))]
        assert [d.day if d is not None else None for d in days] == [dt.date(2025, 3, 6)] * 3


class TestGiven:
    def test_a_statement_starting_after_the_day_is_planned(self) -> None:
        """Active everolimus from 2026-06-01, read on 2026-01-15: not given yet, planned
        (it was a line given now); read on its first day, it is given."""
        record = statement(bounds={"start": "2026-06-01"})
        assert given(record, ON) is Given.planned
        assert given(record, dt.date(2026, 6, 1)) is Given.given

    def test_a_statement_s_dosage_end_ends_it_as_a_request_s_does(self) -> None:
        """An active statement whose dosage bounds ended before 2026-01-15 is over (it was
        read as given now); one whose bounds end that day, later, or not at all is under
        way. The same dates in an active order give the same answers."""
        for bounds, now in [
                ({"start": "2025-03-06", "end": "2025-05-01"}, False),  # ended in May
                ({"start": "2025-03-06", "end": "2025-05"}, False),  # ended with May
                ({"start": "2025-03-06", "end": "2026-01-15"}, True),  # last day today
                ({"start": "2025-03-06", "end": "2026-03-01"}, True),  # ends later
                ({"start": "2025-03-06"}, True)]:  # no end given: under way
            assert given_now(statement(bounds=bounds), ON) is now, bounds
            assert given_now(request(bounds=bounds), ON) is now, bounds

    def test_a_bounds_duration_is_read_alike_for_order_and_statement(self) -> None:
        """boundsDuration (28 days) gives no end day to the reader: the course started
        on its first event, 2025-03-06, and, no end read, is taken as under way (the
        safer reading, an order in place checked against the allergy list), for the
        statement as for the order."""
        timing: dict[str, Any] = {"events": ["2025-03-06"],
                                  "duration": {"value": 28, "unit": "d",
                                               "system": "http://unitsofmeasure.org",
                                               "code": "d"}}
        for record in (statement(**timing), request(**timing)):
            day = first_day(record)
            assert day is not None and day.day == dt.date(2025, 3, 6)
            assert given(record, ON) is Given.given
            assert given_now(record, ON)


class TestTheKidneyRecord:
    def test_a_course_to_start_in_june_is_planned_and_the_intolerance_stands(self) -> None:
        """Active everolimus statement, dosage from 2026-06-01, read on 2026-01-15: no line
        of everolimus (the chemotherapy is the only line), the statement planned, "to
        start 2026-06-01". No mTOR inhibitor has been tolerated, so the sirolimus
        intolerance rules every one out (I15): no first-line mTOR advice, none said to be
        given; anthracycline-based chemotherapy (S14) is the option, and it was given."""
        bc = read(statement(bounds={"start": "2026-06-01"}))
        assert lines(bc) == [CHEMO]
        assert bc.running == ()
        assert [(p.where, p.agent, p.how) for p in bc.planned if p.agent is Agent.everolimus
                ] == [("MedicationStatement/evs", Agent.everolimus, "to start 2026-06-01")]
        assert not any("shows another one tolerated" in n for n in bc.notes)
        found = ids(bc)
        assert "REC-MTOR-FIRST-LINE" not in found and "ALERT-MTOR-GIVEN" not in found
        assert {"REC-ANTHRACYCLINE", "ALERT-ANTHRACYCLINE-GIVEN"} <= found

    @pytest.mark.parametrize("status", ["completed", "active"])
    def test_a_past_course_keeps_its_first_day_and_the_sequencing_alert(
            self, status: str) -> None:
        """Everolimus from 2025-03-06 to 2025-05-01 in the dosage only: a line from
        2025-03-06 (its day was lost), after the doxorubicin-ifosfamide line of 2024, so
        chemotherapy was given first while an mTOR inhibitor was possible
        (ALERT-CHEMO-BEFORE-MTOR, which had gone). Its dosing over, it is not given now,
        whatever its status says."""
        bc = read(statement(status, bounds={"start": "2025-03-06", "end": "2025-05-01"}))
        assert lines(bc) == [CHEMO, (Agent.everolimus, dt.date(2025, 3, 6))]
        assert bc.running == ()
        assert "ALERT-CHEMO-BEFORE-MTOR" in ids(bc)

    def test_an_active_course_with_no_end_is_given_now_since_its_first_day(self) -> None:
        """Everolimus from 2025-03-06, no end: given now, since that day."""
        bc = read(statement(bounds={"start": "2025-03-06"}))
        assert [(p.where, p.how) for p in bc.running] == [
            ("MedicationStatement/evs",
             "given now (status 'active' since 2025-03-06, not ended by 2026-01-15)")]

    @pytest.mark.parametrize("statuses", [
        ("completed", "completed", "completed"), ("active", "active", "in-progress")],
        ids=["completed", "under-way-status"])
    def test_one_course_as_order_statement_or_administration_is_one_line(
            self, statuses: tuple[str, str, str]) -> None:
        """The same everolimus course, 2025-03-06 to 2025-05-01, whichever record the EHR
        sends it as (with a status saying it is over, or still under way): the same line
        with the same first day, not given now (its dates ended), and the same advice
        (the sequencing alert; everolimus tolerated, so only sirolimus ruled out)."""
        bounds = {"start": "2025-03-06", "end": "2025-05-01"}
        readings = [read(record) for record in (
            request(statuses[0], bounds=bounds), statement(statuses[1], bounds=bounds),
            administration(statuses[2], {"start": "2025-03-06T09:00:00Z",
                                         "end": "2025-05-01T09:00:00Z"}))]
        assert [lines(bc) for bc in readings] == [
            [CHEMO, (Agent.everolimus, dt.date(2025, 3, 6))]] * 3
        assert [bc.running for bc in readings] == [()] * 3
        for bc in readings:
            assert {"ALERT-CHEMO-BEFORE-MTOR", "ALERT-MTOR-GIVEN"} <= ids(bc)


class TestPatientView:
    def test_the_card_checks_the_planned_course_against_the_intolerance(
            self, tmp_path: Path) -> None:
        """CDS Hooks reads the prefetch with the same reader: the everolimus statement to
        start 2026-06-01 is an order planned that the sirolimus intolerance rules out (the
        critical card), not a line given that reopens mTOR inhibitors; no card offers an
        mTOR inhibitor as the first line."""
        client = TestClient(create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'registry.db'}", cds=CdsSettings()),
            today=lambda: ON), base_url="http://localhost")
        bundle = as_searched(kidney_with(statement(bounds={"start": "2026-06-01"})))
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        cards: list[dict[str, Any]] = r.json()["cards"]
        planned = [c for c in cards if c["indicator"] == "critical"
                   and c["summary"].startswith("Order of everolimus planned in the record")]
        assert len(planned) == 1 and "sirolimus" in planned[0]["summary"]
        assert not any("An mTOR inhibitor is the first-line" in c.get("detail", "")
                       for c in cards)
        assert not any("given now" in c["summary"] for c in cards)


PAST_DOSES = ("2025-03-06", "2025-04-06", "2025-05-06")


class TestDosesListedOnly:
    """A dosage given only as its dose days (``timing.event``, no ``repeat`` scheduling
    more): its last day is the course's last (no dose is due after it), as a boundsPeriod
    end is; the course's first day is the first dose, said as that one day."""

    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    def test_the_last_dose_listed_ends_the_course(self, make: Any) -> None:
        """Doses on 6 March, 6 April and 6 May 2025, status active: over by 2026-01-15 (it
        was given now), still under way on its last dose day, 2025-05-06; a last dose
        written as a month lasts to its end; and a status under way does not outlast the
        dates, as with a bounds' end."""
        record = doses_on(make(), *PAST_DOSES)
        assert not given_now(record, ON)
        assert given_now(record, dt.date(2025, 5, 6))
        assert not given_now(record, dt.date(2025, 5, 7))
        by_month = doses_on(make(), "2025-03-06", "2025-05")
        assert given_now(by_month, dt.date(2025, 5, 31))
        assert not given_now(by_month, dt.date(2025, 6, 1))

    def test_doses_repeated_from_the_events_have_no_end(self) -> None:
        """The same days with a repeat scheduling doses from them (once a day) and no
        bounds: no end is written, so the course is under way (the safer reading, as
        before); a repeat holding only its bounds schedules nothing, and the last dose day
        ends it."""
        repeated = statement(events=list(PAST_DOSES))
        assert given_now(repeated, ON)
        bounded = doses_on(statement(), *PAST_DOSES)
        bounded["dosage"][0]["timing"]["repeat"] = {"boundsPeriod": {"start": "2025-03-06"}}
        assert not given_now(bounded, ON)

    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    def test_several_dose_days_give_one_first_day(self, make: Any) -> None:
        """The first day is the first dose, written as that day (it was the list
        '2025-03-06, 2025-04-06, 2025-05-06'), whatever order the days are listed in."""
        record = doses_on(make(), "2025-05-06", "2025-03-06", "2025-04-06")
        assert first_day(record) == FirstDay(dt.date(2025, 3, 6), dt.date(2025, 3, 6),
                                             "2025-03-06")

    def test_a_course_of_past_doses_is_a_line_not_given_now(self) -> None:
        """Active everolimus statement, doses listed from 2025-03-06 to 2025-05-06, read
        on 2026-01-15: a line from 2025-03-06 (after the chemotherapy of 2024: the
        sequencing alert), not given now (no card for an order in place)."""
        bc = read(doses_on(statement(), *PAST_DOSES))
        assert lines(bc) == [CHEMO, (Agent.everolimus, dt.date(2025, 3, 6))]
        assert bc.running == ()
        assert "ALERT-CHEMO-BEFORE-MTOR" in ids(bc)

    def test_given_now_since_names_the_first_day_only(self) -> None:
        """Two dosages, one 2025-03-06 to 2025-04-01, one open from 2025-04-02: given now
        (one has no end), since 2025-03-06 (it said 'since 2025-03-06, 2025-04-02'); the
        same for doses repeated daily from listed days; and a course to start on listed
        future days is 'to start' its first."""
        two = statement(bounds={"start": "2025-03-06", "end": "2025-04-01"})
        two["dosage"].append({"text": "5 mg", "timing": _timing(
            bounds={"start": "2025-04-02"})})
        repeated = statement(events=list(PAST_DOSES))
        for record in (two, repeated):
            assert [(p.where, p.how) for p in read(record).running] == [
                ("MedicationStatement/evs",
                 "given now (status 'active' since 2025-03-06, not ended by 2026-01-15)")]
        later = read(doses_on(statement(), "2026-06-01", "2026-07-01"))
        assert [p.how for p in later.planned if p.agent is Agent.everolimus] == [
            "to start 2026-06-01"]


class TestOpenEffectivePeriod:
    """An ``effectivePeriod`` with no end says no end: it contradicts no end written in
    the dosage, which is read as it is beside an ``effectiveDateTime``."""

    @pytest.mark.parametrize("dated", [
        {"effectivePeriod": {"start": "2025-03-06"}},
        {"effectiveDateTime": "2025-03-06"},
        {"effectivePeriod": {"start": "2025-03"}},
    ], ids=["open-period", "date-time", "open-period-partial-start"])
    def test_a_dosage_end_ends_the_course_beside_either_effective(
            self, dated: dict[str, Any]) -> None:
        """Active, from 2025-03-06, dosage bounds ended 2025-05-01 (or last dose
        2025-05-06): not given now on 2026-01-15 (beside the open period it was); bounds
        ending 2026-03-01: given now."""
        for dosing, now in [
                (statement(bounds={"start": "2025-03-06", "end": "2025-05-01"}), False),
                (doses_on(statement(), *PAST_DOSES), False),
                (statement(bounds={"start": "2025-03-06", "end": "2026-03-01"}), True)]:
            record = {**dosing, **dated}
            assert given_now(record, ON) is now, (dated, dosing["dosage"])
        # a period with its own end says when the statement's drug was taken, as before:
        # ending 2026-03-01, under way beside dosage bounds ended in 2025
        record = statement(bounds={"start": "2025-03-06", "end": "2025-05-01"})
        record["effectivePeriod"] = {"start": "2025-03-06", "end": "2026-03-01"}
        assert given_now(record, ON)

    def test_in_the_kidney_record_the_course_is_a_line_over(self) -> None:
        """Active statement, effectivePeriod from 2025-03-06 with no end, dosage ended
        2025-05-01: a line from 2025-03-06, not given now (it was)."""
        record = statement(bounds={"start": "2025-03-06", "end": "2025-05-01"})
        record["effectivePeriod"] = {"start": "2025-03-06"}
        bc = read(record)
        assert lines(bc) == [CHEMO, (Agent.everolimus, dt.date(2025, 3, 6))]
        assert bc.running == ()


def undated_administration(timing: dict[str, Any]) -> dict[str, Any]:
    """An everolimus administration under way with no effective[x] and a timing in its
    dosage, where R4 has no element for it."""
    return {"resourceType": "MedicationAdministration", "id": "eva",
            "status": "in-progress", "medicationCodeableConcept": EVEROLIMUS,
            "subject": SUBJECT, "dosage": {"text": "10 mg", "timing": timing}}


class TestNoTimingOnAnAdministration:
    @pytest.mark.parametrize("timing", [
        _timing(bounds={"start": "2026-06-01"}), {"event": ["2026-06-01"]},
        _timing(bounds={"start": "2025-03-06", "end": "2025-05-01"})],
        ids=["future-bounds", "future-event", "ended-bounds"])
    def test_an_administration_is_not_dated_by_a_dosage_timing(
            self, timing: dict[str, Any]) -> None:
        """An administration is dated by its effective[x] only: a timing in its dosage
        gives it no first day and no end (it was planned for 2026-06-01, or over in
        2025): with no effective[x] its first day is unknown."""
        record = undated_administration(timing)
        assert first_day(record) is None
        assert given(record, ON) is Given.given
        assert given_now(record, ON)

    @pytest.mark.parametrize("validate", ["engine", "none"])
    def test_the_record_is_refused_naming_the_timing_and_the_date(
            self, validate: str) -> None:
        """Read as a record (it was read 'planned: its first day, 2026-06-01', without a
        word): refused, naming its dosage.timing and the effective[x] that dates an
        administration, also with validation off."""
        with pytest.raises(InputError) as caught:
            case_from_bundle(kidney_with(undated_administration(
                _timing(bounds={"start": "2026-06-01"}))), on=ON, validate=validate)
        issues = [(i.path, i.rule) for i in caught.value.issues]
        assert [p for p, _rule in issues] == ["MedicationAdministration/eva.dosage.timing"]
        assert "effectiveDateTime or effectivePeriod" in issues[0][1]


class TestTimingThatCannotBeRead:
    """A dosage timing element pecoma reads a medication's dates from that is no date, no
    list or no object is refused, naming it and its value; it was dropped without a word
    (the R4B validator lets a null or a number through as an event, and a planned
    record, from which no fact comes, was not validated at all)."""

    @pytest.mark.parametrize(("events", "bad"), [
        ([None, 5, "2026-06-01"], [("event.0", "None"), ("event.1", "5")]),
        (["2026-06-01", "2026-13-45"], [("event.1", "'2026-13-45'")]),
        (["2026-06-01", True], [("event.1", "True")]),
    ], ids=["null-and-number", "no-such-day", "boolean"])
    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    @pytest.mark.parametrize("validate", ["engine", "none"])
    def test_an_event_that_is_no_date(self, events: list[Any], bad: list[tuple[str, str]],
                                      make: Any, validate: str) -> None:
        """Future doses beside entries that are no date: refused (the course was read as
        planned for 2026-06-01, the bad entries gone)."""
        record = doses_on(make(), *events)
        key = "dosage" if record["resourceType"] == "MedicationStatement" else (
            "dosageInstruction")
        where = f"{record['resourceType']}/{record['id']}.{key}.0.timing."
        assert refused(record, validate=validate) == [(where + p, v) for p, v in bad]

    @pytest.mark.parametrize(("change", "path"), [
        (lambda r: r.update(dosage=r["dosage"][0]), "dosage"),
        (lambda r: r["dosage"].__setitem__(1, "10 mg daily"), "dosage.1"),
        (lambda r: r["dosage"][1].update(timing="daily"), "dosage.1.timing"),
        (lambda r: r["dosage"][1]["timing"].update(event="2026-06-01"),
         "dosage.1.timing.event"),
        (lambda r: r["dosage"][1]["timing"].update(repeat=[]), "dosage.1.timing.repeat"),
        (lambda r: r["dosage"][1]["timing"]["repeat"].update(boundsPeriod="2026-06-01"),
         "dosage.1.timing.repeat.boundsPeriod"),
        (lambda r: r["dosage"][1]["timing"]["repeat"]["boundsPeriod"].update(end=5),
         "dosage.1.timing.repeat.boundsPeriod.end"),
    ], ids=["dosage-object", "dosage-text", "timing-text", "event-text", "repeat-list",
            "bounds-text", "bounds-end-number"])
    def test_a_dosage_shape_that_cannot_be_read(self, change: Any, path: str) -> None:
        """A statement to start 2026-06-01 (planned, so never validated), its dosage
        written as one object, or a second dosage beside it with one element malformed:
        refused, naming that element once (it was read as planned without a word, the
        malformed dosage dropped)."""
        record = statement(bounds={"start": "2026-06-01"})
        if path != "dosage":
            record["dosage"].append(copy.deepcopy(record["dosage"][0]))
        change(record)
        assert [p for p, _v in refused(record)] == [f"MedicationStatement/evs.{path}"]

    def test_a_bad_day_of_a_line_given_is_said_once(self) -> None:
        """A course given (its record validated too) with an event that is no day: one
        issue for it, in the reader's words, not the validator's as well."""
        with pytest.raises(InputError) as caught:
            case_from_bundle(kidney_with(doses_on(statement(), "2025-03-06", "2025-13-45")),
                             on=ON)
        assert [(i.path, i.rule.split(":")[0]) for i in caught.value.issues] == [
            ("MedicationStatement/evs.dosage.0.timing.event.1",
             "must be a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or a day with "
             "its time)")]


GTS = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
DAR = {"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
       "valueCode": "unknown"}
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}


def with_timing(record: dict[str, Any], **more: Any) -> dict[str, Any]:
    """``record`` with its first dosage's timing given ``more`` elements beside its days."""
    key = "dosage" if record["resourceType"] == "MedicationStatement" else (
        "dosageInstruction")
    record[key][0]["timing"].update(more)
    return record


class TestDaysWithASchedule:
    """R4 Timing: a ``code`` is "a complete statement of whatever is specified in the
    structured timing data" (QD: the listed days may be only the first of a daily
    schedule), and a repeat's frequency or period, an extension anywhere in the timing
    (on a primitive's ``_`` sibling too: an end said unknown) or an element the reader does
    not read may schedule doses after the days listed in ``event``. The last day listed
    ends the course only when nothing else in the timing may give a later dose: in doubt
    the course is not ended (an order in place, checked against the allergy list). It was
    read as ended beside a code or an extension on the timing; then (F4) still beside an
    end said unknown or an extension inside the boundsPeriod. Bounds (boundsPeriod,
    boundsDuration, boundsRange) only limit a schedule, R4 "the length of the timing
    schedule ... or outer bounds": beside the listed days alone they add no dose, and the
    last day listed ends the course (F5: a bound kept a finished cycle given now for
    ever)."""

    @pytest.mark.parametrize("more", [
        {"code": {"coding": [{"system": GTS, "code": "QD"}], "text": "DAILY"}},
        {"code": {"coding": [{"system": GTS, "code": "BID"}]}},
        {"code": {"coding": [{"system": GTS, "code": "WK"}]}},
        {"code": {"text": "DAILY"}},
        {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
        {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                    "boundsDuration": {"value": 28, "unit": "d",
                                       "system": "http://unitsofmeasure.org",
                                       "code": "d"}}},
        {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/"
                               "timing-daysOfCycle", "valueInteger": 1}]},
        {"modifierExtension": [{"url": "http://example.org/fhir/repeat-until-stopped",
                                "valueBoolean": True}]},
        {"repeat": {"boundsPeriod": {"start": "2025-03-06"},
                    "extension": [{"url": "http://example.org/fhir/schedule",
                                   "valueString": "daily"}]}},
        {"repeat": {"boundsPeriod": {"start": "2025-03-06", "_end": {"extension": [DAR]}}}},
        {"repeat": {"boundsPeriod": {"start": "2025-03-06", "extension": [
            {"url": "http://example.org/fhir/ongoing", "valueBoolean": True}]}}},
        {"repeat": {"boundsPeriod": {"start": "2025-03-06", "_start": {"extension": [
            {"url": "http://example.org/fhir/note", "valueString": "and on"}]}}}},
        {"repeat": {"_count": {"extension": [DAR]}}},
        {"repeat": {"boundsDuration": {"value": 28, "unit": "d", "extension": [
            {"url": "http://example.org/fhir/renewed", "valueBoolean": True}]}}},
        {"_event": [None, None, {"extension": [DAR]}]},
    ], ids=["code-QD", "code-BID", "code-WK", "code-text-only", "repeat-frequency",
            "frequency-and-bounds-duration", "timing-extension",
            "timing-modifier-extension", "repeat-extension", "bounds-end-said-unknown",
            "bounds-period-extension", "bounds-start-extension", "count-said-unknown",
            "bounds-duration-extension", "last-day-extension"])
    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    def test_the_last_day_listed_does_not_end_a_course_said_to_go_on(
            self, make: Any, more: dict[str, Any]) -> None:
        """Active, doses listed from 2025-03-06 to 2025-05-06 with a schedule beside them
        (daily, twice a day, weekly; daily within 28 days, which the reader gives no end
        day from) or an extension it does not read anywhere in the timing (on the
        timing, its repeat, its bounds, a bounds' end said unknown by a
        data-absent-reason, a count said unknown, the last day's ``_event`` twin): given
        now on 2026-01-15, no end being given (it was over on 2025-05-06); its first day
        is still the first listed."""
        record = with_timing(doses_on(make(), *PAST_DOSES), **more)
        assert given_now(record, ON)
        day = first_day(record)
        assert day is not None and day.day == dt.date(2025, 3, 6)

    def test_a_bounds_end_still_ends_a_course_with_a_code(self) -> None:
        """The code beside a boundsPeriod ending 2025-05-01: the bounds' end is the
        course's (outer limits of the schedule), so over on 2026-01-15."""
        record = with_timing(doses_on(statement(), *PAST_DOSES),
                             code={"coding": [{"system": GTS, "code": "QD"}]},
                             repeat={"boundsPeriod": {"start": "2025-03-06",
                                                      "end": "2025-05-01"}})
        assert not given_now(record, ON)

    @pytest.mark.parametrize("repeat", [
        {"boundsDuration": {"value": 21, "unit": "d", "system": "http://unitsofmeasure.org",
                            "code": "d"}},
        {"boundsDuration": {"value": 2, "unit": "a", "system": "http://unitsofmeasure.org",
                            "code": "a"}},
        {"boundsRange": {"high": {"value": 6, "unit": "mo",
                                  "system": "http://unitsofmeasure.org", "code": "mo"}}},
        {"id": "r1", "boundsPeriod": {"start": "2025-03-06"}},
    ], ids=["bounds-duration-21d", "bounds-duration-2a", "bounds-range", "open-bounds"])
    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    def test_bounds_beside_the_days_alone_do_not_extend_the_course(
            self, make: Any, repeat: dict[str, Any]) -> None:
        """Active, doses listed 2025-03-06 to 2025-05-06 and a repeat holding only bounds
        (21 days, 2 years, up to 6 months; a boundsPeriod with no end): no frequency,
        period or code, so the doses are the listed days and the bound can only cut them
        short, never add one. Over on 2025-05-06, so not given now on 2026-01-15 (it was
        given now for ever beside a boundsDuration or boundsRange); read on the last day
        listed it is given now."""
        record = with_timing(doses_on(make(), *PAST_DOSES), repeat=repeat)
        assert not given_now(record, ON)
        assert given_now(record, dt.date(2025, 5, 6))
        day = first_day(record)
        assert day is not None and day.day == dt.date(2025, 3, 6)

    @pytest.mark.parametrize("timing", [
        {"event": ["2025-10-01T09:00:00Z"],
         "code": {"coding": [{"system": GTS, "code": "QD"}], "text": "DAILY"}},
        {"event": ["2025-10-01T09:00:00Z"],
         "repeat": {"boundsPeriod": {"start": "2025-10-01", "_end": {"extension": [DAR]}}}},
    ], ids=["code-QD", "bounds-end-said-unknown"])
    def test_the_daily_sirolimus_order_against_the_allergy_gets_the_critical_card(
            self, tmp_path: Path, timing: dict[str, Any]) -> None:
        """An active sirolimus order whose timing lists its first dose (2025-10-01) and
        says QD, or whose bounds' end is said unknown (a data-absent-reason on ``_end``),
        read on 2026-01-15 beside the kidney record's sirolimus intolerance: the order is
        in place, so patient-view gives the critical card 'Order of sirolimus given now in
        the record' (it gave none: the order was read as ended on its one listed day)."""
        order = {"resourceType": "MedicationRequest", "id": "sir", "status": "active",
                 "intent": "order", "authoredOn": "2025-10-01",
                 "medicationCodeableConcept": SIROLIMUS, "subject": SUBJECT,
                 "dosageInstruction": [{"text": "2 mg daily", "timing": timing}]}
        critical = [c["summary"] for c in _patient_view(tmp_path, kidney_with(order))
                    if c["indicator"] == "critical"]
        assert any(s.startswith("Order of sirolimus given now in the record")
                   and "sirolimus" in s.split(":", 1)[1] for s in critical), critical

    def test_a_finished_cycle_with_a_bound_gets_no_card_months_later(
            self, tmp_path: Path) -> None:
        """One docetaxel cycle, day 1 and day 8 (2025-06-02, 2025-06-09) with a 21-day
        boundsDuration, its order left active, and a docetaxel intolerance recorded; read
        on 2026-01-15: the cycle ended on 2025-06-09 (a bound adds no dose), so it is no
        order given now and no card calls it one (a critical 'given now ... stop it' card
        was raised)."""
        docetaxel = {"coding": [{"system": RXNORM, "code": "72962",
                                 "display": "docetaxel"}]}
        order = {"resourceType": "MedicationRequest", "id": "doc", "status": "active",
                 "intent": "order", "authoredOn": "2025-06-02",
                 "medicationCodeableConcept": docetaxel, "subject": SUBJECT,
                 "dosageInstruction": [{"text": "75 mg/m2", "timing": {
                     "event": ["2025-06-02", "2025-06-09"],
                     "repeat": {"boundsDuration": {
                         "value": 21, "unit": "d", "system": "http://unitsofmeasure.org",
                         "code": "d"}}}}]}
        bundle = kidney_with(order)
        allergy = next(copy.deepcopy(e["resource"]) for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "AllergyIntolerance")
        allergy.update(id="docetaxel-intolerance", code=docetaxel)
        bundle["entry"].append({"resource": allergy})
        assert not given_now(order, ON)
        assert [c["summary"] for c in _patient_view(tmp_path, bundle)
                if "given now" in c["summary"] and "docetaxel" in c["summary"]] == []


def _patient_view(tmp_path: Path, bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The cards patient-view gives for ``bundle`` (searched and prefetched) on 2026-01-15."""
    client = TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp_path / 'registry.db'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")
    searched = as_searched(bundle)
    body = hook_request("patient-view", patient_id(searched),
                        prefetch=prefetch_of(searched, include=True))
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def absent_first(make: Any, *days: Any, notes: list[Any] | None = None) -> dict[str, Any]:
    """``make()`` with its doses listed as ``None`` then ``days``, the ``None`` said
    absent by a data-absent-reason in ``_event`` (R4 JSON's form of a primitive array
    entry with no value), or with the ``_event`` given as ``notes``."""
    record = doses_on(make(), None, *days)
    with_timing(record, _event=[{"extension": [DAR]}] + [None] * len(days)
                if notes is None else notes)
    return record


class TestADoseDaySaidAbsent:
    """``"event": [null]`` with its ``_event`` twin holding an extension is valid R4 JSON:
    a dose day recorded as unknown. It is read as such (the course's dates from its other
    dates, or unknown; its last day unknown, so not ended), with a note; the bundle was
    refused whole. A null with no extension is no day, and stays refused."""

    @pytest.mark.parametrize("make", [statement, request], ids=["statement", "request"])
    def test_an_unknown_day_beside_listed_days(self, make: Any) -> None:
        """Unknown day, then 2025-03-06 to 2025-05-06: first day 2025-03-06 (from the days
        known); given now on 2026-01-15, as the unknown day may be the last."""
        record = absent_first(make, *PAST_DOSES)
        day = first_day(record)
        assert day is not None and day.day == dt.date(2025, 3, 6)
        assert given_now(record, ON)

    def test_the_record_is_read_with_a_note(self) -> None:
        """The kidney record with that statement: read (it was refused), a line of
        everolimus from 2025-03-06 given now, and a note naming the day said absent."""
        bc = read(absent_first(statement, *PAST_DOSES))
        assert lines(bc) == [CHEMO, (Agent.everolimus, dt.date(2025, 3, 6))]
        assert [p.where for p in bc.running] == ["MedicationStatement/evs"]
        assert [n for n in bc.notes if n.startswith(
            "MedicationStatement/evs.dosage.0.timing.event.0: a dose day said absent")]

    @pytest.mark.parametrize("validate", ["engine", "none"])
    def test_an_order_with_its_only_day_unknown_is_dated_by_its_authoring(
            self, validate: str) -> None:
        """An active order whose one dose day is unknown, written 2025-09-01: read, its
        first day the day it was written (as for an order with no dosage dates), given
        now; the same with the ``event`` array left out and only ``_event`` given."""
        for record in (absent_first(request), with_timing(request(), _event=[
                {"extension": [DAR]}])):
            record["authoredOn"] = "2025-09-01"
            record["dosageInstruction"][0]["timing"].pop("repeat", None)
            day = first_day(record)
            assert day is not None and day.day == dt.date(2025, 9, 1)
            assert given_now(record, ON)
            bc = case_from_bundle(kidney_with(record), on=ON, validate=validate)
            assert (Agent.everolimus, dt.date(2025, 9, 1)) in lines(bc)

    @pytest.mark.parametrize("notes", [
        None, [None], [{"id": "d1"}], [{"extension": []}], {"extension": [DAR]}],
        ids=["no-twin", "twin-null", "twin-id-only", "twin-empty-extension",
             "twin-no-list"])
    def test_a_null_day_with_no_extension_is_still_refused(self, notes: Any) -> None:
        """A null dose day whose ``_event`` entry holds no extension (none at all, a
        null, an id alone, an empty list; an ``_event`` that is no list): no day, and no
        day said absent, so refused naming it."""
        record = doses_on(request(), None, "2026-06-01")
        if notes is not None:
            with_timing(record, _event=notes)
        assert refused(record) == [
            ("MedicationRequest/evr.dosageInstruction.0.timing.event.0", "None")]


class TestAPeriodEndingBeforeItStarts:
    """A medication period whose end is before its start breaks FHIR R4's Period invariant
    (per-1: start <= end): the record contradicts itself, and its end decides whether the
    drug is given now (the allergy check, the I15 reading of an mTOR inhibitor tolerated).
    An everolimus statement 'completed', effectivePeriod 2025-07-01 to 2025-06-01, had been
    read as a line started 2025-07-01 without a word."""

    @pytest.mark.parametrize("make, path, end", [
        (lambda: {**statement("completed"),
                  "effectivePeriod": {"start": "2025-07-01", "end": "2025-06-01"}},
         "MedicationStatement/evs.effectivePeriod.end", "2025-06-01"),
        (lambda: administration("completed", {"start": "2025-07-01", "end": "2025-06-01"}),
         "MedicationAdministration/eva.effectivePeriod.end", "2025-06-01"),
        (lambda: statement(bounds={"start": "2025-07-01", "end": "2025-06-01"}),
         "MedicationStatement/evs.dosage.0.timing.repeat.boundsPeriod.end", "2025-06-01"),
        (lambda: request(bounds={"start": "2025-07", "end": "2025-06-30"}),
         "MedicationRequest/evr.dosageInstruction.0.timing.repeat.boundsPeriod.end",
         "2025-06-30"),
    ], ids=["statement", "administration", "statement-dosage", "order-partial-start"])
    def test_the_record_is_refused_naming_the_end(self, make: Any, path: str,
                                                  end: str) -> None:
        """Refused, naming the end (before every day the start may be); never read."""
        assert refused(make()) == [(path, repr(end))]

    @pytest.mark.parametrize("period", [
        {"start": "2025-07-01", "end": "2025-07-01"},  # one day
        {"start": "2025-07", "end": "2025-07-10"},  # the month may begin before the end
    ], ids=["same-day", "partial-start"])
    def test_a_period_that_may_be_in_order_is_read(self, period: dict[str, str]) -> None:
        """Control: an end on the start's day, or within the month a partial start names,
        is no contradiction: the everolimus line is read."""
        bc = read({**statement("completed"), "effectivePeriod": period})
        assert Agent.everolimus in [a for a, _d in lines(bc)]

    @pytest.mark.parametrize("period", [
        {"start": "2025-07-01T00:30:00+02:00", "end": "2025-06-30T23:30:00Z"},
        {"start": "2025-07-01T01:00:00+09:00", "end": "2025-06-30T20:00:00-05:00"},
    ], ids=["one-hour-infusion", "nine-hours"])
    def test_times_with_other_offsets_are_compared_as_instants(
            self, period: dict[str, str]) -> None:
        """Two dateTimes with their times name instants (FHIR R4 per-1 compares them):
        00:30 at +02:00 is 22:30 UTC the day before, so an end at 23:30 UTC is an hour
        after the start, though its calendar day is written earlier; 01:00 at +09:00 is
        16:00 UTC, and 20:00 at -05:00 is 01:00 UTC the next day. A valid record, read:
        before, it was refused as ending before it starts."""
        bc = read(administration("completed", period))
        assert Agent.everolimus in [a for a, _d in lines(bc)]

    def test_times_ending_before_the_start_are_refused(self) -> None:
        """Control: an end an hour before the start, both in UTC, is refused."""
        period = {"start": "2025-07-01T10:00:00Z", "end": "2025-07-01T09:00:00Z"}
        assert refused(administration("completed", period)) == [
            ("MedicationAdministration/eva.effectivePeriod.end", "'2025-07-01T09:00:00Z'")]

    @pytest.mark.parametrize("make", [
        lambda: {**statement("entered-in-error"),
                 "effectivePeriod": {"start": "2025-07-15", "end": "2025-06-01"}},
        lambda: request("cancelled", bounds={"start": "2025-07-15", "end": "2025-07-01"}),
        lambda: administration("not-done", {"start": "2025-07-15", "end": "2025-06-01"}),
    ], ids=["statement-entered-in-error", "order-cancelled", "administration-not-done"])
    def test_a_record_set_aside_is_not_checked(self, make: Any) -> None:
        """A record entered in error is set aside, a cancelled order or an administration
        not done was never given: their dates decide nothing (no line, nothing given
        now), so a period ending before it starts in them refuses nothing; the rest of
        the record is read (the kidney record's doxorubicin-ifosfamide line). Before,
        the whole record was refused, and no assessment given."""
        bc = read(make())
        assert lines(bc) == [CHEMO]

    @pytest.mark.parametrize("timing", [
        {"event": ["2025-02-30"]},
        {"repeat": {"boundsPeriod": {"start": "2025-07-15", "end": "2025-13-01"}}},
        {"event": [None]},
    ], ids=["impossible-event", "impossible-bound", "null-event"])
    @pytest.mark.parametrize("status", ["entered-in-error", "not-taken"])
    def test_a_record_set_aside_is_not_checked_for_its_dosage_dates(
            self, timing: dict[str, Any], status: str) -> None:
        """An everolimus statement entered in error or not taken decides nothing by its
        dates (no line, nothing given now), its dosage timing's neither: a date there
        that cannot be read (30 February, month 13, a null) refuses nothing, and the rest
        of the record is read (the doxorubicin-ifosfamide line). Before, the whole record
        was refused ("the medication's dates are read from it"), and no assessment
        given."""
        bc = read({**statement(status), "effectivePeriod": {"start": "2025-07-15"},
                   "dosage": [{"timing": timing}]})
        assert lines(bc) == [CHEMO]
