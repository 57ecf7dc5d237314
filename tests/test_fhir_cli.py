"""``pecoma fhir``: to-case, from-case, careplan, export-plandefinition, run as a user would
(in this process, see ``cli_support``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.plandefinition import PlanDefinition

from pecoma.case import parse_case
from pecoma.fhir.careplan import validate_resources
from pecoma.knowledge import load_knowledge

from cli_support import CliRun, run_cli
from fhir_support import example


def pecoma(*args: str) -> CliRun:
    return run_cli(*args, columns=80)


def _contraindicated(data: dict[str, Any]) -> str:
    from pecoma.fhir.reader import case_from_bundle
    return case_from_bundle(data).case.systemic.mtor_inhibitor_contraindicated.value


def _write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


class TestToCase:
    def test_prints_the_case_and_what_was_not_found(self, tmp_path: Path) -> None:
        bundle = _write(tmp_path, "b.json", example("low-risk"))
        run = pecoma("fhir", "to-case", str(bundle))
        assert run.returncode == 0, run.stderr
        case = parse_case(json.loads(run.stdout))
        assert case.tumour.primary_site.value == "kidney"
        assert "not found in the bundle" in run.stderr
        assert "systemic.mtor_inhibitor_available" in run.stderr.replace("\n", "")

    def test_details(self, tmp_path: Path) -> None:
        bundle = _write(tmp_path, "b.json", example("advanced-mtor-contraindicated"))
        run = pecoma("fhir", "to-case", "--details", "--full-validation", str(bundle))
        assert run.returncode == 0, run.stderr
        data = json.loads(run.stdout)
        assert set(data) == {"case", "not_found", "sources", "notes", "evidence", "not_read",
                             "ignored", "unread", "found_not_read", "found_set_aside"}
        assert data["unread"] == {}  # a whole record: every part read
        # the sirolimus allergy is a row of the intolerances; the contraindication is
        # derived from it by the engine (I15), not written as recorded
        assert data["case"]["systemic"]["intolerances"] == [{"agent": "sirolimus"}]

    @pytest.mark.parametrize(("change", "why"), [
        ({"type": "searchset",
          "link": [{"relation": "next", "url": "https://ehr.example/fhir/x?page=2"}]},
         "only the first page"),
        ({"type": "searchset", "total": 99}, "entries were left out"),
        ({"type": "searchset", "entry": [{"resource": {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "warning", "code": "suppressed"}]},
            "search": {"mode": "outcome"}}]}, "warning: suppressed"),
    ])
    def test_an_incomplete_bundle_leaves_what_it_may_lack_unknown(
            self, tmp_path: Path, change: dict[str, Any], why: str) -> None:
        """The patient's record says mTOR inhibitors are not contraindicated; the bundle
        says it is one page of a search, or that the search left entries out. An allergy
        to sirolimus may be among what it did not send: the CDS services took the
        allergies as unread and the 'not contraindicated' as unknown, but to-case printed
        the case with 'no' and only a note. Now the same: the fact is unknown (found and
        set aside, with why: the record gave it, so it is not said to be missing), and
        stderr says which parts of the record were not read in full and why, and that
        the lines of systemic therapy already given are not fully known."""
        data = example("metastatic-lung-metachronous")
        assert _contraindicated(data) == "no"  # the complete record says no
        data["type"] = change["type"]
        data["entry"] += change.get("entry", [])
        for key in ("link", "total"):
            if key in change:
                data[key] = change[key]
        run = pecoma("fhir", "to-case", str(_write(tmp_path, "b.json", data)))
        assert run.returncode == 0, run.stderr
        case = json.loads(run.stdout)
        assert "mtor_inhibitor_contraindicated" not in case.get("systemic", {})
        err = " ".join(run.stderr.split())
        assert ("found but set aside (unknown, not absent): "
                "systemic.mtor_inhibitor_contraindicated: a 'no', not kept: the allergy list "
                "could not be read") in err
        listed = err.split("not found in the bundle")[1].split("found but")[0]
        assert "systemic.mtor_inhibitor_contraindicated" not in listed
        assert "not read in full (unknown, not absent): the allergies and intolerances" in err
        assert why in err
        assert "the lines of systemic therapy already given are not fully known" in err
        details = json.loads(pecoma("fhir", "to-case", "--details",
                                    str(_write(tmp_path, "b.json", data))).stdout)
        assert why in details["unread"]["allergies"]
        assert "systemic.mtor_inhibitor_contraindicated" in details["found_set_aside"]
        assert "systemic.mtor_inhibitor_contraindicated" not in details["not_found"]

    def test_server_makes_absolute_references_on_it_the_record_s(self, tmp_path: Path
                                                                 ) -> None:
        """A sirolimus administration naming https://ehr.example/fhir/Medication/m1, the
        bundle holding Medication m1 under a urn:uuid fullUrl: with no server to compare
        with, the reference may name another server's drug, so the line is not read and
        the output says why; --server naming the EHR it came from (any case, trailing
        slash) makes it the record's. A --server that is no base URL is refused, naming
        the option and the value, exit 2."""
        bundle = example("metastatic-lung-metachronous")
        bundle["entry"] += [
            {"fullUrl": "urn:uuid:5b0e7c56-8d44-4d2e-9b57-2f4f8f3c1a10",
             "resource": {"resourceType": "Medication", "id": "m1",
                          "code": {"text": "sirolimus 1 MG Oral Tablet"}}},
            {"resource": {"resourceType": "MedicationAdministration", "id": "ma1",
                          "status": "completed",
                          "subject": {"reference": "Patient/pat-1003"},
                          "medicationReference": {
                              "reference": "https://ehr.example/fhir/Medication/m1"},
                          "effectiveDateTime": "2025-02-03"}}]
        path = _write(tmp_path, "b.json", bundle)
        run = pecoma("fhir", "to-case", "--on", "2026-12-05", str(path))
        assert run.returncode == 0, run.stderr
        assert "therapies" not in json.loads(run.stdout).get("systemic", {})
        assert "only on the record's server" in run.stderr.replace("\n", " ")
        run = pecoma("fhir", "to-case", "--on", "2026-12-05", "--server",
                     "https://EHR.example/fhir/", str(path))
        assert run.returncode == 0, run.stderr
        assert [t["agent"] for t in json.loads(run.stdout)["systemic"]["therapies"]] == [
            "sirolimus"]
        for bad in ("ftp://ehr.example/fhir", "https://user@ehr.example/fhir", "ehr"):
            run = pecoma("fhir", "to-case", "--server", bad, str(path))
            assert run.returncode == 2, (bad, run.stderr)
            assert "'--server'" in run.stderr and bad in run.stderr
            assert "Traceback" not in run.stderr

    def test_rejected_bundle_exit_3_without_traceback(self, tmp_path: Path) -> None:
        bad = example("localized-high-risk")
        for e in bad["entry"]:
            if e["resource"].get("id") == "resection":
                e["resource"]["performedDateTime"] = "2020-01-01"
        run = pecoma("fhir", "to-case", str(_write(tmp_path, "bad.json", bad)))
        assert run.returncode == 3
        assert "surgery.date" in run.stderr and "Traceback" not in run.stderr

    def test_unparseable_json(self, tmp_path: Path) -> None:
        path = tmp_path / "b.json"
        path.write_text("{", encoding="utf-8")
        run = pecoma("fhir", "to-case", str(path))
        assert run.returncode == 3 and "must be valid JSON" in run.stderr

    def test_missing_file_exit_4(self, tmp_path: Path) -> None:
        run = pecoma("fhir", "to-case", str(tmp_path / "absent.json"))
        assert run.returncode == 4


class TestCarePlanAndExports:
    def test_careplan_from_a_case_file(self, tmp_path: Path) -> None:
        case = Path(__file__).resolve().parent.parent / "src/pecoma/examples/high-risk-uterine.json"
        run = pecoma("fhir", "careplan", str(case), "--on", "2026-11-28")
        assert run.returncode == 0, run.stderr
        bundle = json.loads(run.stdout)
        validate_resources(bundle)
        kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert kinds == ["CarePlan", "RequestGroup"]

    def test_careplan_says_in_words_what_is_provisional_and_what_cannot_be_dated(
        self, tmp_path: Path
    ) -> None:
        """From a case file, as a user runs it: gross tumour left by an R2 resection, its
        resectability unknown. Disease is present: `pecoma followup` dates no visit (I18),
        so the CarePlan holds no surveillance activity, the reason being a note; the
        advice to discuss completing the resection (S03) waits on whether surgery can
        remove the tumour, and its title and text say so."""
        case = Path(__file__).resolve().parent / "scenarios/margin-r2/case.json"
        run = pecoma("fhir", "careplan", str(case), "--on", "2026-11-28")
        assert run.returncode == 0, run.stderr
        bundle = json.loads(run.stdout)
        validate_resources(bundle)
        careplan, group = (e["resource"] for e in bundle["entry"])
        assert [x for x in careplan["activity"] if "detail" in x] == []
        assert any(n["text"].startswith("No surveillance calendar until the residual tumour "
                                        "is removed.") for n in careplan["note"])
        (action,) = [x for x in group["action"] if x["id"] == "REC-RERESECTION-GROSS"]
        assert action["title"].startswith("(provisional) ")
        assert ("Provisional until supplied: MISS-RESIDUAL-RESECTABLE (Can surgery remove "
                "the tumour left by the R2 resection?)") in action["textEquivalent"]

    def test_careplan_from_a_bundle_keeps_the_patient(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "b.json", example("low-risk"))
        out = tmp_path / "plan.json"
        run = pecoma("fhir", "careplan", str(path), "--on", "2026-11-28", "-o", str(out))
        assert run.returncode == 0, run.stderr
        careplan = json.loads(out.read_text("utf-8"))["entry"][0]["resource"]
        assert careplan["subject"] == {"reference": "Patient/pat-1002"}

    def test_careplan_from_a_bundle_reads_it_as_to_case_does(self, tmp_path: Path) -> None:
        """An order starting after the day read for is planned, not a line (the bundle had
        been read for no day: refused as a line starting after the evaluation date), and
        what the reader noted is said; a patient recorded as deceased gets no plan."""
        data = example("metastatic-lung-metachronous")
        pid = next(e["resource"]["id"] for e in data["entry"]
                   if e["resource"]["resourceType"] == "Patient")
        data["entry"].append({"resource": {
            "resourceType": "MedicationRequest", "id": "dox", "status": "active",
            "intent": "order", "medicationCodeableConcept": {"text": "doxorubicin"},
            "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {
                "start": "2026-12-20"}}}}],
            "subject": {"reference": f"Patient/{pid}"}}})
        path = _write(tmp_path, "b.json", data)
        run = pecoma("fhir", "careplan", str(path), "--on", "2026-12-10",
                     "-o", str(tmp_path / "plan.json"))
        assert run.returncode == 0, run.stderr
        assert "doxorubicin planned" in run.stderr
        patient = next(e["resource"] for e in data["entry"]
                       if e["resource"]["resourceType"] == "Patient")
        patient["deceasedDateTime"] = "2026-08-01"
        run = pecoma("fhir", "careplan", str(_write(tmp_path, "d.json", data)),
                     "--on", "2026-12-10")
        assert run.returncode == 3 and "died (2026-08-01)" in run.stderr

    def test_careplan_bad_date(self, tmp_path: Path) -> None:
        path = _write(tmp_path, "b.json", example("low-risk"))
        run = pecoma("fhir", "careplan", str(path), "--on", "28/11/2026")
        assert run.returncode == 2 and "YYYY-MM-DD" in run.stderr

    def test_from_case_round_trip(self, tmp_path: Path) -> None:
        case = Path(__file__).resolve().parent.parent / "src/pecoma/examples/metachronous-lung.json"
        run = pecoma("fhir", "from-case", str(case))
        assert run.returncode == 0, run.stderr
        bundle = json.loads(run.stdout)
        validate_resources(bundle)
        back = pecoma("fhir", "to-case", str(_write(tmp_path, "b.json", bundle)))
        assert back.returncode == 0
        original = parse_case(json.loads(case.read_text("utf-8")))
        assert parse_case(json.loads(back.stdout)) == original

    @pytest.mark.parametrize("command", ["from-case", "careplan"])
    @pytest.mark.parametrize("patient", ["a b/c", "../Patient/x", "x" * 65, ""])
    def test_a_patient_id_not_a_fhir_id_is_refused(self, command: str, patient: str) -> None:
        """--patient is written as Patient.id and in every reference to it: a space, a
        slash or 65 characters made a Bundle R4 refuses ("a b/c" as an id,
        "Patient/../Patient/x" as a reference), written with exit 0. It is refused,
        naming the option, the value and what a FHIR id may hold; nothing is written."""
        case = Path(__file__).resolve().parent.parent / "src/pecoma/examples/metachronous-lung.json"
        run = pecoma("fhir", command, str(case), "--patient", patient, "--on", "2026-12-01")
        assert run.returncode == 2, run.stdout[:200]
        assert "'--patient' must be a FHIR id" in run.stderr and "64" in run.stderr
        assert run.stdout == ""

    def test_a_patient_id_of_64_characters_is_written(self) -> None:
        """The control: the longest legal id is taken and the Bundle is valid."""
        case = Path(__file__).resolve().parent.parent / "src/pecoma/examples/metachronous-lung.json"
        run = pecoma("fhir", "from-case", str(case), "--patient", "p-1." + "x" * 60)
        assert run.returncode == 0, run.stderr
        validate_resources(json.loads(run.stdout))

    def test_export_plandefinition(self) -> None:
        run = pecoma("fhir", "export-plandefinition")
        assert run.returncode == 0, run.stderr
        pd = json.loads(run.stdout)
        PlanDefinition.model_validate(pd)
        assert pd["version"] == load_knowledge().version

    def test_export_plandefinition_quotes_the_settings_in_force(self, tmp_path: Path) -> None:
        """The PlanDefinition published for an EHR says the schedule the plans follow:
        with visits every 4 months in the first years (S18 allows 3-4), its action says 4."""
        f = tmp_path / "s.toml"
        f.write_text("[followup]\nhigh_intensive_due_months = 4\n"
                     "high_intensive_overdue_months = 4\n")
        run = pecoma("fhir", "export-plandefinition", "--settings", str(f))
        assert run.returncode == 0, run.stderr
        assert "every 4 months (overdue after 4)" in run.stdout
        assert "every 3 months" not in run.stdout
