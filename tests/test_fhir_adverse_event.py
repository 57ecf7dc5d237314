"""An AdverseEvent recording a reaction to a guideline drug, and a resource type that is
not FHIR R4.

An EHR integrator sent FHIR R4's own resource for an adverse reaction: an AdverseEvent,
actuality ``actual``, grade 3 pneumonitis, ``suspectEntity.instance`` the
MedicationStatement of everolimus. ``pecoma fhir to-case`` counted it among the types it
ignores, and the advice was an mTOR inhibitor as the first line and nab-sirolimus,
whereas the same reaction kept on the problem list ("Everolimus-induced pneumonitis")
rules every mTOR inhibitor out (I15, S13-S14: never recommend a drug with a recorded
intolerance). The rule (docs/fhir.md, docs/cds-hooks.md): an actual AdverseEvent whose
suspect is, or is a record of, a drug pecoma knows is read as the problem-list Condition
is; one whose suspect cannot be resolved may be to a drug pecoma proposes (an
intolerance of 'other', the contraindication asked); a ``potential`` one is no reaction.

The same integrator's server, moving to R5, sent a ``MedicationUsage`` (R5's
MedicationStatement) of everolimus: dropped silently, and ``--full-validation`` said only
"(got 'KeyError')". It is now listed as not a FHIR R4 resource type, the lines given are
not taken as fully known, and the full validation names the field, the value and what is
allowed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from allergy_support import (
    DOXORUBICIN,
    EVEROLIMUS,
    PATIENT,
    SIROLIMUS,
    critical,
    details,
    make_client,
    order_select,
    patient_view,
    proposed,
    record,
    to_case,
)
from cli_support import run_cli


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("adverse-event"))


def statement(concept: dict[str, Any], rid: str = "ms9") -> dict[str, Any]:
    """A completed MedicationStatement of the patient (a course given and stopped)."""
    return {"resourceType": "MedicationStatement", "id": rid, "status": "completed",
            "subject": {"reference": f"Patient/{PATIENT}"},
            "medicationCodeableConcept": concept,
            "effectivePeriod": {"start": "2024-09-03", "end": "2024-11-20"}}


def event(*suspects: dict[str, Any], actuality: str = "actual") -> dict[str, Any]:
    """An AdverseEvent of the patient: grade 3 pneumonitis, with ``suspects`` (each an
    ``instance``)."""
    return {"resourceType": "AdverseEvent", "id": "ae9", "actuality": actuality,
            "subject": {"reference": f"Patient/{PATIENT}"},
            "event": {"coding": [{"system": "http://snomed.info/sct", "code": "205237003",
                                  "display": "Pneumonitis"}], "text": "Grade 3 pneumonitis"},
            "date": "2024-11-15",
            "suspectEntity": [{"instance": s} for s in suspects]}


ON_EVEROLIMUS = event({"reference": "MedicationStatement/ms9"})


class TestToCase:
    def test_an_actual_event_suspecting_everolimus_is_an_intolerance(
            self, tmp_path: Path) -> None:
        """Everolimus given, then a pneumonitis it is suspected of: everolimus is not
        tolerated, which rules out every mTOR inhibitor unless another is shown tolerated
        (I15), as 'Everolimus-induced pneumonitis' on the problem list does."""
        found = to_case(tmp_path, record(statement(EVEROLIMUS), ON_EVEROLIMUS))
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "everolimus"}]
        assert found["case"]["systemic"].get("mtor_inhibitor_contraindicated") != "no"
        assert any(n.startswith("AdverseEvent/ae9: an adverse event that happened")
                   for n in found["notes"])

    @pytest.mark.parametrize(("suspect", "extra"), [
        pytest.param({"reference": "Medication/m9"},
                     {"resourceType": "Medication", "id": "m9", "code": SIROLIMUS},
                     id="a-medication"),
        pytest.param({"reference": "Substance/s9"},
                     {"resourceType": "Substance", "id": "s9", "code": {"text": "Sirolimus"}},
                     id="a-substance"),
        pytest.param({"display": "sirolimus"}, None, id="the-reference-display"),
    ])
    def test_a_suspect_naming_sirolimus_rules_it_out(
            self, tmp_path: Path, suspect: dict[str, Any], extra: dict[str, Any] | None
            ) -> None:
        """Sirolimus named by the Medication or Substance suspected, or by the suspect's
        words alone: sirolimus was not tolerated."""
        bundle = record(*([extra] if extra else []), event(suspect))
        found = to_case(tmp_path, bundle)
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "sirolimus"}]

    def test_a_potential_event_is_no_reaction(self, tmp_path: Path) -> None:
        """actuality 'potential': the reaction did not happen (a near miss): no
        intolerance, and the event is listed as not read with why; the record's 'mTOR
        inhibitor not contraindicated' stands."""
        found = to_case(tmp_path, record(statement(EVEROLIMUS),
                                         event({"reference": "MedicationStatement/ms9"},
                                               actuality="potential")))
        assert "intolerances" not in found["case"]["systemic"]
        assert found["case"]["systemic"]["mtor_inhibitor_contraindicated"] == "no"
        assert any(x.startswith("AdverseEvent: actuality 'potential'")
                   for x in found["not_read"])

    def test_a_suspect_not_in_the_record_may_be_an_mtor_inhibitor(
            self, tmp_path: Path) -> None:
        """The suspected drug's record is not in the bundle: it may be an mTOR inhibitor,
        so the event is an intolerance of 'other' and 'not contraindicated' is not kept
        (asked), as for an allergy entry whose substance cannot be read."""
        found = to_case(tmp_path, record(event({"reference": "MedicationStatement/gone"})))
        assert found["case"]["systemic"]["intolerances"] == [{"agent": "other"}]
        assert "mtor_inhibitor_contraindicated" not in found["case"]["systemic"]

    def test_a_procedure_suspected_is_no_drug(self, tmp_path: Path) -> None:
        """A reaction to a procedure (a bronchoscopy) says nothing of a drug: listed, and
        'not contraindicated' stands."""
        bundle = record({"resourceType": "Procedure", "id": "p9", "status": "completed",
                         "subject": {"reference": f"Patient/{PATIENT}"},
                         "code": {"text": "Bronchoscopy"}},
                        event({"reference": "Procedure/p9"}))
        found = to_case(tmp_path, bundle)
        assert "intolerances" not in found["case"]["systemic"]
        assert found["case"]["systemic"]["mtor_inhibitor_contraindicated"] == "no"
        assert any(x.startswith("AdverseEvent: its suspected cause is no drug pecoma "
                                "proposes (a Procedure)") for x in found["not_read"])


CAUSALITY = "http://terminology.hl7.org/CodeSystem/adverse-event-causality-assess"


def judged(instance: dict[str, Any], **causality: Any) -> dict[str, Any]:
    """A suspect with its causality (``assessment``, ``productRelatedness``)."""
    return {"instance": instance, "causality": [causality]}


def assessed(code: str) -> dict[str, Any]:
    """A WHO-UMC causality assessment (FHIR R4 adverse-event-causality-assess)."""
    return {"coding": [{"system": CAUSALITY, "code": code}]}


def with_suspects(*suspects: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """The grade 3 pneumonitis event, its suspects given whole (with their causality)."""
    return {**event(), "suspectEntity": list(suspects), **fields}


ON_MS9 = {"reference": "MedicationStatement/ms9"}


def systemic(tmp_path: Path, *resources: dict[str, Any]) -> dict[str, Any]:
    """The case's systemic part read from the example record, everolimus given (ms9),
    and ``resources``; the reader's notes and what it did not read beside it."""
    found = to_case(tmp_path, record(statement(EVEROLIMUS), *resources))
    return {**found["case"]["systemic"], "notes": found["notes"],
            "not_read": found["not_read"]}


class TestCausality:
    @pytest.mark.parametrize("said", [
        pytest.param({"assessment": assessed("Certain")}, id="certain"),
        pytest.param({"assessment": assessed("Probably-Likely")}, id="probable"),
        pytest.param({"assessment": {"text": "Possible"}}, id="possible"),
    ])
    def test_a_drug_judged_the_cause_is_ruled_out(
            self, tmp_path: Path, said: dict[str, Any]) -> None:
        """WHO-UMC certain, probable or possible: everolimus caused the pneumonitis as far
        as the assessor can say: not tolerated, every mTOR inhibitor out (I15)."""
        found = systemic(tmp_path, with_suspects(judged(ON_MS9, **said)))
        assert found["intolerances"] == [{"agent": "everolimus"}]

    @pytest.mark.parametrize("said", [
        pytest.param({"assessment": assessed("Unlikely")}, id="unlikely"),
        pytest.param({"assessment": assessed("Unassessable-Unclassifiable")},
                     id="unassessable"),
        pytest.param({"assessment": {"text": "Conditional"}}, id="conditional"),
    ])
    def test_a_drug_judged_an_unlikely_cause_is_asked_not_ruled_out(
            self, tmp_path: Path, said: dict[str, Any]) -> None:
        """WHO-UMC unlikely (another cause explains it better), or not yet assessable:
        the record does not show everolimus not tolerated, nor that it was tolerated.
        Not ruled out (no row everolimus, which would take out the mTOR class), but asked:
        a row 'other' keeps the advice proposing it provisional, and 'not
        contraindicated' is not kept; the note names the event and the causality."""
        found = systemic(tmp_path, with_suspects(judged(ON_MS9, **said)))
        assert found["intolerances"] == [{"agent": "other"}]
        assert "mtor_inhibitor_contraindicated" not in found
        assert any("Grade 3 pneumonitis (everolimus: causality" in n
                   and "ask whether it is one" in n for n in found["notes"])

    @pytest.mark.parametrize("said", [
        pytest.param({"assessment": {"text": "Not related"}}, id="not-related"),
        pytest.param({"assessment": {"text": "Excluded"}}, id="excluded"),
        pytest.param({"productRelatedness": "Not related"}, id="product-relatedness"),
    ])
    def test_a_drug_said_not_the_cause_rules_nothing_out(
            self, tmp_path: Path, said: dict[str, Any]) -> None:
        """The assessor wrote that everolimus did not cause it: no intolerance, as a
        statusReason saying 'no toxicity' is none; the event is listed as not read, and
        the record's 'mTOR inhibitor not contraindicated' stands."""
        found = systemic(tmp_path, with_suspects(judged(ON_MS9, **said)))
        assert "intolerances" not in found
        assert found["mtor_inhibitor_contraindicated"] == "no"
        assert any(x.startswith("AdverseEvent: its suspected drug is recorded as not its "
                                "cause: everolimus") for x in found["not_read"])

    def test_each_suspect_is_judged_by_its_own_causality(self, tmp_path: Path) -> None:
        """Two suspects: sirolimus judged certain, everolimus unlikely. Sirolimus is not
        tolerated (ruled out, and with it every mTOR inhibitor, I15); everolimus is only
        asked (a row 'other'), not read as a second intolerance."""
        found = systemic(tmp_path, with_suspects(
            judged(ON_MS9, assessment=assessed("Unlikely")),
            judged({"display": "sirolimus"}, assessment=assessed("Certain"))))
        assert found["intolerances"] == [{"agent": "sirolimus"}, {"agent": "other"}]


def mild_stomatitis(**fields: Any) -> dict[str, Any]:
    """A grade 1 stomatitis on everolimus: mild, non-serious, its outcome ``fields``."""
    return {**event(ON_MS9), "event": {"text": "Grade 1 stomatitis"},
            "severity": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                     "adverse-event-severity", "code": "mild"}]},
            "seriousness": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                        "adverse-event-seriousness",
                                        "code": "non-serious"}]}, **fields}


def outcome(code: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "adverse-event-outcome", "code": code}]}


class TestGrade:
    def test_a_mild_reaction_that_resolved_is_asked_not_ruled_out(
            self, tmp_path: Path) -> None:
        """A grade 1 stomatitis, mild and non-serious, resolved: the usual toxicity of a
        course managed by a dose reduction, not a drug the patient cannot take again.
        The mTOR class is not ruled out (the advice does not switch to doxorubicin);
        it is asked, the advice proposing it provisional meanwhile."""
        found = systemic(tmp_path, mild_stomatitis(outcome=outcome("resolved")))
        assert found["intolerances"] == [{"agent": "other"}]
        assert any("Grade 1 stomatitis (everolimus: recorded as mild and resolved)" in n
                   for n in found["notes"])

    def test_a_mild_reaction_followed_by_another_course_is_asked(
            self, tmp_path: Path) -> None:
        """A grade 1 stomatitis (outcome not recorded) on the first everolimus course,
        then everolimus begun again in 2025: the drug was given after the reaction, so
        the record does not show it cannot be given: asked, the class not ruled out."""
        again = {**statement(EVEROLIMUS, "ms8"),
                 "effectivePeriod": {"start": "2025-02-01", "end": "2025-04-01"}}
        found = systemic(tmp_path, again, mild_stomatitis())
        assert {"agent": "everolimus"} not in found["intolerances"]
        assert {"agent": "other"} in found["intolerances"]
        assert any("recorded as mild, the drug given again from 2025-02-01" in n
                   for n in found["notes"])

    def test_a_mild_reaction_on_a_course_still_given_is_asked(self, tmp_path: Path) -> None:
        """A grade 1 stomatitis on an everolimus course still under way (no outcome
        recorded): the patient goes on taking it, so it is not shown not tolerated:
        asked, the class not ruled out."""
        ongoing = {**statement(EVEROLIMUS, "ms8"), "status": "active",
                   "effectivePeriod": {"start": "2026-06-01"}}
        found = systemic(tmp_path, ongoing,
                         {**mild_stomatitis(), "date": "2026-08-01",
                          "suspectEntity": [{"instance": {"reference":
                                                          "MedicationStatement/ms8"}}]})
        assert {"agent": "everolimus"} not in found["intolerances"]
        assert any("recorded as mild, the drug given again from" in n
                   for n in found["notes"])

    @pytest.mark.parametrize("fields", [
        pytest.param({"outcome": outcome("resolved"), "severity": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                  "adverse-event-severity", "code": "severe"}]}},
                     id="severe-resolved"),
        pytest.param({"outcome": outcome("resolved"), "event": {"text": "Grade 3 stomatitis"}},
                     id="grade-3-in-words"),
        pytest.param({}, id="outcome-not-recorded"),
        pytest.param({"outcome": outcome("ongoing")}, id="ongoing"),
    ])
    def test_a_severe_or_unsettled_reaction_stays_ruled_out(
            self, tmp_path: Path, fields: dict[str, Any]) -> None:
        """Severe, a grade 3 in its words, or not known to be over: read as an
        intolerance (the safer reading for drug harm, as allergy entries are read)."""
        found = systemic(tmp_path, mild_stomatitis(**fields))
        assert found["intolerances"] == [{"agent": "everolimus"}]


class TestWhatIsNoDrug:
    @pytest.mark.parametrize(("reference", "display"), [
        ("Procedure/p9", "CT-guided lung biopsy"),
        ("Device/d9", "Port-a-cath"),
        ("Immunization/i9", "Influenza vaccine"),
    ])
    def test_a_non_drug_suspect_with_a_display_is_no_drug(
            self, tmp_path: Path, reference: str, display: str) -> None:
        """A pneumothorax after a biopsy, an infected port, a vaccine reaction: the
        reference's display names what it is, not a drug: nothing ruled out, the record's
        'not contraindicated' kept, the event listed."""
        found = systemic(tmp_path, event({"reference": reference, "display": display}))
        assert "intolerances" not in found
        assert found["mtor_inhibitor_contraindicated"] == "no"
        assert any(x.startswith("AdverseEvent: its suspected cause is no drug pecoma "
                                "proposes") for x in found["not_read"])

    @pytest.mark.parametrize("drug", ["Dexamethasone", "Filgrastim", "Mesna"])
    def test_a_supportive_drug_reads_as_on_the_problem_list(
            self, tmp_path: Path, drug: str) -> None:
        """An antiemetic steroid, G-CSF or mesna suspected of a rash is no drug pecoma
        proposes: nothing ruled out and no 'which drug?' asked, as the same reaction on
        the problem list ('<drug>-induced rash') is not read: one reading of both."""
        condition = {"resourceType": "Condition", "id": "c9",
                     "subject": {"reference": f"Patient/{PATIENT}"},
                     "code": {"text": f"{drug}-induced rash"}}
        for extra in (event({"display": drug}), condition):
            found = systemic(tmp_path, extra)
            assert "intolerances" not in found, extra["resourceType"]
            assert found["mtor_inhibitor_contraindicated"] == "no"

    def test_a_regimen_named_adds_no_drug_not_identified(self, tmp_path: Path) -> None:
        """'AI regimen' with doxorubicin and ifosfamide: both drugs (and the regimen) are
        ruled out; the word 'regimen' is no further drug to ask about."""
        medication = {"resourceType": "Medication", "id": "m9",
                      "code": {"text": "AI regimen"},
                      "ingredient": [{"itemCodeableConcept": DOXORUBICIN},
                                     {"itemCodeableConcept": {"text": "ifosfamide"}}]}
        found = systemic(tmp_path, medication, event({"reference": "Medication/m9"}))
        assert {"agent": "other"} not in found["intolerances"]
        assert {"agent": "doxorubicin"} in found["intolerances"]


class TestCdsServices:
    @staticmethod
    def _with_event(prefetch: dict[str, Any]) -> None:
        """The EHR sends the AdverseEvent (and the everolimus record it suspects) among
        its answers."""
        prefetch["medications"]["entry"].append({"resource": statement(EVEROLIMUS)})
        prefetch["conditions"]["entry"].append({"resource": ON_EVEROLIMUS})

    @staticmethod
    def _events(actuality: str) -> Callable[[dict[str, Any]], None]:
        """The EHR sends, under the problem-list key (read in full), an AdverseEvent
        naming everolimus as its suspect (the course given elsewhere, not in the record);
        ``actuality``: whether the reaction happened."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["conditions"]["entry"].append(
                {"resource": event({"display": "everolimus"}, actuality=actuality)})
        return change

    def test_a_sirolimus_draft_is_critical_and_nothing_proposed(
            self, client: TestClient) -> None:
        """Everolimus not tolerated rules every mTOR inhibitor out (I15): a sirolimus
        draft gets the critical card, and no mTOR inhibitor is proposed beside a
        doxorubicin draft."""
        siro = order_select(client, record(), SIROLIMUS, self._with_event)
        assert len(critical(siro)) == 1
        assert "everolimus" in critical(siro)[0]

    def test_a_doxorubicin_draft_is_offered_no_mtor_inhibitor(
            self, client: TestClient) -> None:
        """No line given yet, everolimus not tolerated (the event happened): every mTOR
        inhibitor is ruled out (I15), so a doxorubicin first line is offered none. The
        same event recorded as 'potential' (no reaction) leaves the mTOR inhibitor the
        guideline's first choice, offered beside the draft (S13): the first assertion
        holds because of the event, the allergy list being read in full."""
        assert not proposed(order_select(client, record(), DOXORUBICIN,
                                         self._events("actual")))
        assert proposed(order_select(client, record(), DOXORUBICIN,
                                     self._events("potential")))

    def test_patient_view_gives_no_mtor_first_line(self, client: TestClient) -> None:
        """The engine's advice follows the case read from the same record: mTOR
        inhibitors ruled out, the anthracycline-based line instead (S14)."""
        said = details(patient_view(client, record(), self._with_event))
        assert "mTOR inhibitors are unavailable or contraindicated" in said
        assert "AdverseEvent/ae9" in said

    def test_an_everolimus_refill_beside_a_mild_resolved_reaction_is_not_critical(
            self, client: TestClient) -> None:
        """A grade 1 stomatitis, mild, resolved, on the everolimus course: not an
        intolerance, so the refill is no drug the record rules out (no critical card);
        it is asked: the card says the draft could not be checked and names the event
        and why."""
        def change(prefetch: dict[str, Any]) -> None:
            prefetch["medications"]["entry"].append({"resource": statement(EVEROLIMUS)})
            prefetch["conditions"]["entry"].append(
                {"resource": mild_stomatitis(outcome=outcome("resolved"))})
        cards = order_select(client, record(), EVEROLIMUS, change)
        assert not critical(cards)
        assert "AdverseEvent/ae9 is an adverse event whose drug is asked, not read as not " \
               "tolerated: Grade 1 stomatitis (everolimus: recorded as mild and resolved)" \
               in details(cards)


MEDICATION_USAGE = {
    "resourceType": "MedicationUsage", "id": "mu9", "status": "recorded",
    "subject": {"reference": f"Patient/{PATIENT}"},
    "medication": {"concept": EVEROLIMUS},
    "effectivePeriod": {"start": "2024-09-03", "end": "2025-01-20"}}


class TestNotR4:
    def test_listed_and_the_lines_given_not_fully_known(self, tmp_path: Path) -> None:
        """An R5 MedicationUsage of everolimus is not read (pecoma reads R4), but it may
        record a line given: the medication part is not read in full, so the lines given
        are not taken as fully known."""
        found = to_case(tmp_path, record(MEDICATION_USAGE))
        assert any(x.startswith("'MedicationUsage': not a FHIR R4 resource type")
                   for x in found["not_read"])
        assert "not a FHIR R4 resource type" in found["unread"]["medications"]
        assert not any("MedicationUsage" in x for x in found["ignored"])

    def test_full_validation_names_the_field_the_value_and_what_is_allowed(
            self, tmp_path: Path) -> None:
        bundle = record(MEDICATION_USAGE)
        at = len(bundle["entry"]) - 1
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        run = run_cli("fhir", "to-case", "--full-validation", "--on", "2026-12-06", str(path))
        said = " ".join(run.stderr.split())
        assert run.returncode == 3
        assert f"'Bundle.entry[{at}].resource.resourceType' must be a resource type of FHIR " \
               "R4" in said
        assert "(got 'MedicationUsage')" in said
        assert "KeyError" not in said and "Traceback" not in said

    def test_full_validation_names_an_r4_type_its_validator_cannot_check(
            self, tmp_path: Path) -> None:
        """MedicinalProduct is R4, but R4B (the validator) dropped it: the refusal says
        so, naming the field, never the validator's failure alone ('KeyError')."""
        bundle = record({"resourceType": "MedicinalProduct", "id": "mp9"})
        at = len(bundle["entry"]) - 1
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        run = run_cli("fhir", "to-case", "--full-validation", "--on", "2026-12-06", str(path))
        said = " ".join(run.stderr.split())
        assert run.returncode == 3
        assert f"'Bundle.entry[{at}].resource.resourceType' must be a resource type the " \
               "full validation can check (FHIR R4B dropped this R4 type)" in said
        assert "KeyError" not in said

    def test_full_validation_names_a_type_not_r4_inside_contained(
            self, tmp_path: Path) -> None:
        """A contained Medication misspelt 'Medicaton': named with its place, never the
        validator's failure alone ('KeyError')."""
        statement_ = {**statement({"text": "x"}), "contained": [
            {"resourceType": "Medicaton", "id": "m1", "code": EVEROLIMUS}],
            "medicationReference": {"reference": "#m1"}}
        del statement_["medicationCodeableConcept"]
        bundle = record(statement_)
        at = len(bundle["entry"]) - 1
        path = tmp_path / "bundle.json"
        path.write_text(json.dumps(bundle), encoding="utf-8")
        run = run_cli("fhir", "to-case", "--full-validation", "--on", "2026-12-06", str(path))
        said = " ".join(run.stderr.split())
        assert run.returncode == 3
        assert f"'Bundle.entry[{at}].resource.contained[0].resourceType' must be a " \
               "resource type of FHIR R4" in said
        assert "(got 'Medicaton')" in said
        assert "KeyError" not in said
