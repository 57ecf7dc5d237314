"""A record holding the PEComa and another primary cancer: a result that names no
Condition or lesion is not taken as the PEComa's.

The record is the resected uterine PEComa of ``tests/data/mcode/uterus-localized.json``
(R0 hysterectomy on 2024-04-09, mCODE HistoryOfMetastaticCancer false: localized) with an
active, confirmed breast cancer added (ICD-10-CM C50.911), as the problem list of a
patient with two cancers holds it. The reader already refuses a metastasis Condition
naming no primary beside such a cancer (its spread cannot be told from the PEComa's); a
TNM M category, an mCODE CancerDiseaseStatus, a regional nodes category or a tumour size
naming nothing is just as ambiguous, and the mCODE profiles make their ``focus``
optional (many EHR staging forms leave it empty). So are a course of treatment naming no
reason (doxorubicin, everolimus: breast-cancer drugs too) and a stain or a gene result
naming no Condition. Every expected output below is the clinical reading of that record,
written by hand with its reason.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Agent, DiseaseStatus, NodeStatus
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from cli_support import CliRun, run_cli
from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 6, 1)
DATA = Path(__file__).parent / "data" / "mcode"
PATIENT = "cancer-patient-pecoma-u"
PECOMA = "Condition/primary-cancer-condition-uterus"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
PECOMA_CODES = "https://pecoma.example/fhir/CodeSystem/pecoma"


def uterus() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / "uterus-localized.json").read_text("utf-8"))
    return data


def breast(status: str = "active", onset: str = "2025-09-01") -> dict[str, Any]:
    """A confirmed breast cancer on the problem list (ICD-10-CM C50.911)."""
    return {
        "resourceType": "Condition", "id": "breast-ca",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": status}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "problem-list-item"}]}],
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "C50.911",
                             "display": "Malignant neoplasm of unspecified site of right "
                                        "female breast"}]},
        "subject": {"reference": f"Patient/{PATIENT}"}, "onsetDateTime": onset}


def staging(rid: str, code: str, value: dict[str, Any], day: str = "2025-09-10",
            **more: Any) -> dict[str, Any]:
    """An mCODE staging or disease-status Observation (LOINC ``code``), naming no
    Condition unless ``more`` gives a focus."""
    return {"resourceType": "Observation", "id": rid, "status": "final",
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": f"Patient/{PATIENT}"}, "effectiveDateTime": day,
            "valueCodeableConcept": value, **more}


#: AJCC cM1 (SNOMED CT, mCODE's value set) in an mCODE TNMDistantMetastasesCategory.
CM1 = ("21907-1", {"coding": [{"system": SNOMED, "code": "1229903009",
                               "display": "American Joint Committee on Cancer cM1"}]})
#: mCODE CancerDiseaseStatus "Distant metastasis present".
DISTANT = ("97509-4", {"coding": [{"system": SNOMED, "code": "399409002",
                                   "display": "Distant metastasis present"}]})
#: AJCC cM0: no distant metastasis.
CM0 = ("21907-1", {"coding": [{"system": SNOMED, "code": "1229901006",
                               "display": "American Joint Committee on Cancer cM0"}]})
#: AJCC pN1 in an mCODE TNMRegionalNodesCategory (pathological).
PN1 = ("21900-6", {"coding": [{"system": SNOMED, "code": "1229920008",
                               "display": "American Joint Committee on Cancer pN1"}]})


def with_(bundle: dict[str, Any], *resources: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"] += [{"resource": r} for r in resources]
    return out


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON)


def pecoma(tmp_path: Path, bundle: dict[str, Any], command: str = "to-case") -> CliRun:
    """``pecoma fhir to-case`` (or another ``fhir`` command) on ``bundle``, as a user
    runs it."""
    path = tmp_path / "record.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return run_cli("fhir", command, str(path), "--on", ON.isoformat(), columns=200)


def flat(text: str) -> str:
    return " ".join(text.split())


class TestDistantSpreadNamingNoCondition:
    """An M1 or a 'distant metastasis present' naming no Condition beside an active breast
    cancer: it may be the breast cancer's (its cM1 of 2025-09-10, eight months after the
    breast cancer was found) or the PEComa's. Taken as the PEComa's it had made the
    resected, localized PEComa metastatic: mTOR-inhibitor advice (S12-S14) and, at
    order-select, a breast-cancer doxorubicin order answered with "replace with
    sirolimus"."""

    @pytest.mark.parametrize(("rid", "result"), [("tnm-m-breast", CM1),
                                                 ("status-breast", DISTANT)])
    def test_it_is_not_taken_as_the_pecomas_and_the_status_is_asked(
            self, tmp_path: Path, rid: str, result: tuple[str, dict[str, Any]]) -> None:
        """Not the PEComa's spread, nor none: whether the PEComa has distant metastases is
        unknown, so its 'no history of metastatic cancer' cannot make it localized either
        (that denial is a history, not the staging of today). The disease status is a
        fact the case cannot hold as unknown, so the record is refused (exit 3), as a
        stage IV naming nothing is: the message names the result, the other cancer and
        the question (give the result's focus, or record the PEComa's metastases or
        status). It had been read as 'metastatic' (exit 0)."""
        run = pecoma(tmp_path, with_(uterus(), breast(), staging(rid, *result)))
        assert run.returncode == 3, run.stdout
        said = flat(run.stderr)
        assert (f"'stage.status' cannot be derived: Observation/{rid} states distant spread "
                "but names no Condition (no focus), and the record holds another primary "
                "cancer (Condition/breast-ca) besides the PEComa") in said
        assert "that result's focus (the Condition it is about" in said
        assert "metastatic" not in run.stdout

    def test_no_care_plan_is_written_from_it(self, tmp_path: Path) -> None:
        """``fhir careplan`` reads the record the same way: refused (exit 3) naming the
        cM1, no CarePlan of advanced disease written. It had written one (exit 0)."""
        run = pecoma(tmp_path, with_(uterus(), breast(), staging("tnm-m-breast", *CM1)),
                     "careplan")
        assert run.returncode == 3, run.stdout
        assert "Observation/tnm-m-breast states distant spread" in flat(run.stderr)
        assert "CarePlan" not in run.stdout

    def test_focused_on_the_pecoma_it_is_read(self, tmp_path: Path) -> None:
        """Control: the same cM1 whose focus is the PEComa Condition is the PEComa's: the
        disease is metastatic, beside the breast cancer as without it."""
        m1 = staging("tnm-m-pecoma", *CM1, focus=[{"reference": PECOMA}])
        run = pecoma(tmp_path, with_(uterus(), breast(), m1))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["stage"]["status"] == "metastatic"
        assert "stage.status taken as 'metastatic': Observation/tnm-m-pecoma" in flat(
            run.stderr)

    def test_focused_on_the_breast_cancer_it_is_not_read(self) -> None:
        """Control: a cM1 whose focus is the breast cancer is that cancer's: the PEComa stays
        localized, as its record says."""
        m1 = staging("tnm-m-breast", *CM1, focus=[{"reference": "Condition/breast-ca"}])
        assert read(with_(uterus(), breast(), m1)).case.stage.status is DiseaseStatus.localized

    def test_beside_a_resolved_breast_cancer_it_is_the_pecomas(self) -> None:
        """Control: a breast cancer recorded resolved is no present primary that may have
        spread (the rule the metastasis Conditions follow): an M1 naming nothing, dated
        after the PEComa's diagnosis, is read as the PEComa's, as in a record without
        another cancer."""
        got = read(with_(uterus(), breast("resolved", "2012-02-01"), staging("m1", *CM1)))
        assert got.case.stage.status is DiseaseStatus.metastatic

    def test_an_m0_naming_no_condition_changes_nothing(self) -> None:
        """Control: a cM0 naming nothing states no spread of either cancer: not read, and
        the PEComa stays localized by its denied history."""
        got = read(with_(uterus(), breast(), staging("tnm-m0", *CM0)))
        assert got.case.stage.status is DiseaseStatus.localized
        assert "Observation/tnm-m0" in str(got.not_read)

    def test_the_pecomas_own_metastasis_still_decides(self) -> None:
        """A lung metastasis Condition naming the PEComa as its primary makes the disease
        metastatic whatever the unattributed M1 beside it says: the M1 adds nothing and
        takes nothing away."""
        lung = {"resourceType": "Condition", "id": "lung-met",
                "extension": [{
                    "url": "http://hl7.org/fhir/StructureDefinition/condition-related",
                    "valueReference": {"reference": PECOMA}}],
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "verificationStatus": {"coding": [{"code": "confirmed"}]},
                "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                     "code": "C78.01"}]},
                "subject": {"reference": f"Patient/{PATIENT}"},
                "onsetDateTime": "2025-11-01"}
        got = read(with_(uterus(), breast(), staging("m1", *CM1), lung))
        assert got.case.stage.status is DiseaseStatus.metastatic
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]

    def test_a_recurrence_is_not_called_recurrent_beside_it(self) -> None:
        """The PEComa Condition says 'recurrence': without the M1 the status is
        'recurrent' (no status recorded, a recurrence named). Beside an M1 that may be the
        PEComa's, 'recurrent' may be metastatic disease (other advice, S12-S16): the
        status is asked, the record refused naming the M1, never guessed."""
        record = uterus()
        record["entry"] = [e for e in record["entry"]
                           if e["resource"]["id"] != "no-history-of-metastatic-cancer-pecoma-u"]
        for e in record["entry"]:
            if e["resource"]["id"] == "primary-cancer-condition-uterus":
                e["resource"]["clinicalStatus"] = {"coding": [{"code": "recurrence"}]}
        assert read(with_(record, breast())).case.stage.status is DiseaseStatus.recurrent
        with pytest.raises(InputError) as exc:
            read(with_(record, breast(), staging("m1", *CM1)))
        assert "Observation/m1 states distant spread but names no Condition" in str(exc.value)


#: mCODE CancerDiseaseStatus values naming no spread either way: a trend, a remission,
#: "not detected" (ConditionStatusTrendVS, and the remission codes of later mCODE).
TRENDS = [
    pytest.param({"coding": [{"system": SNOMED, "code": "268910001",
                              "display": "Patient's condition improved"}]}, id="improved"),
    pytest.param({"coding": [{"system": SNOMED, "code": "359746009",
                              "display": "Patient's condition stable"}]}, id="stable"),
    pytest.param({"coding": [{"system": SNOMED, "code": "550991000124107",
                              "display": "Malignant neoplasm in full remission"}]},
                 id="full-remission"),
    pytest.param({"coding": [{"system": SNOMED, "code": "260415000",
                              "display": "Not detected"}]}, id="not-detected"),
]


class TestThePecomasOwnStagingBesideIt:
    """The refusal of HAZ-205 asked to "record ... its disease status", but a status
    recorded the mCODE way, naming the PEComa Condition, did not lift it, nor did the
    PEComa's own cM0, and the message did not name the one code that did
    (``pecoma#disease-status``). The PEComa's own distant metastases category naming it,
    dated on or after the unattributed M1, is its staging: an M0 there says that M1 is
    not the PEComa's (an M category once M1 is not restaged M0), and the status follows
    from the rest of the record as without the other cancer. A CancerDiseaseStatus naming
    the PEComa decides it only as 'distant metastasis present': a trend or a remission
    says how the disease goes, not whether it spread (a PEComa whose metastases are in
    remission is metastatic disease free of disease, not localized). The message names
    exactly what to record, with the codes."""

    def test_the_refusal_names_what_to_record(self, tmp_path: Path) -> None:
        """The refusal names the project's disease-status code and its values, the mCODE
        distant metastases category with its LOINC and SNOMED CT codes, the PEComa
        Condition to name as its focus and the day from which it answers the cM1."""
        run = pecoma(tmp_path, with_(uterus(), breast(), staging("tnm-m-breast", *CM1)))
        assert run.returncode == 3, run.stdout
        said = flat(run.stderr)
        assert (f"an Observation coded {PECOMA_CODES}|disease-status valued by a code of the "
                "same system (localized, locally-advanced-unresectable, recurrent, "
                "metastatic)") in said
        assert ("the PEComa's own distant metastases category (mCODE "
                "TNMDistantMetastasesCategory, LOINC 21907-1) whose focus is the PEComa "
                f"Condition ({PECOMA}), dated on or after 2025-09-10: cM0 (SNOMED CT "
                "1229901006) says it has none") in said
        assert "only as 'distant metastasis present' (SNOMED CT 399409002)" in said

    @pytest.mark.parametrize("day", ["2025-09-10", "2026-05-01"])
    def test_the_pecomas_own_m0_dated_no_earlier_lifts_it(self, tmp_path: Path,
                                                         day: str) -> None:
        """A cM0 naming the PEComa, of the cM1's day or later: the cM1 is not the
        PEComa's, and the PEComa is localized by its denied history, as without the
        breast cancer (to-case exit 0, a note naming both results)."""
        m0 = staging("tnm-m-pecoma", *CM0, day=day, focus=[{"reference": PECOMA}])
        run = pecoma(tmp_path, with_(uterus(), breast(), staging("tnm-m-breast", *CM1), m0))
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["stage"]["status"] == "localized"
        assert ("Observation/tnm-m-breast: distant spread naming no Condition, beside "
                "another primary cancer (Condition/breast-ca), not taken as the PEComa's: "
                "the PEComa's own distant metastases category (Observation/tnm-m-pecoma, "
                "dated on or after 2025-09-10) is M0") in flat(run.stderr)

    def test_a_care_plan_is_written_beside_it(self, tmp_path: Path) -> None:
        """``fhir careplan`` reads it the same way: a CarePlan of the localized PEComa."""
        m0 = staging("tnm-m-pecoma", *CM0, day="2026-05-01", focus=[{"reference": PECOMA}])
        run = pecoma(tmp_path, with_(uterus(), breast(), staging("tnm-m-breast", *CM1), m0),
                     "careplan")
        assert run.returncode == 0, run.stderr
        assert any(e["resource"]["resourceType"] == "CarePlan"
                   for e in json.loads(run.stdout)["entry"])

    @pytest.mark.parametrize("day", ["2024-04-20", None])
    def test_an_m0_dated_before_or_undated_says_nothing_of_it(self, day: str | None) -> None:
        """The PEComa's cM0 of its staging in 2024 (or undated) says nothing of a cM1 of
        2025: the PEComa may have spread since. Still refused, naming the cM1."""
        m0 = staging("tnm-m-pecoma", *CM0, day=day or "", focus=[{"reference": PECOMA}])
        if day is None:
            del m0["effectiveDateTime"]
        with pytest.raises(InputError) as exc:
            read(with_(uterus(), breast(), staging("tnm-m-breast", *CM1), m0))
        assert "Observation/tnm-m-breast states distant spread" in str(exc.value)

    def test_an_m0_naming_no_condition_does_not_lift_it(self) -> None:
        """A cM0 naming nothing, even of a later day, may be the breast cancer's: it says
        nothing of the PEComa."""
        m0 = staging("tnm-m0", *CM0, day="2026-05-01")
        with pytest.raises(InputError) as exc:
            read(with_(uterus(), breast(), staging("tnm-m-breast", *CM1), m0))
        assert "Observation/tnm-m-breast states distant spread" in str(exc.value)

    @pytest.mark.parametrize("value", TRENDS)
    def test_a_trend_or_remission_naming_the_pecoma_does_not_decide_it(
            self, value: dict[str, Any]) -> None:
        """A CancerDiseaseStatus naming the PEComa, dated after the cM1, of a trend, a
        remission or 'not detected': whether the PEComa spread is still unknown (in full
        remission after metastases it is metastatic disease free of disease); refused,
        the message saying what decides it."""
        status = staging("status-pecoma", "97509-4", value, day="2026-05-01",
                         focus=[{"reference": PECOMA}])
        with pytest.raises(InputError) as exc:
            read(with_(uterus(), breast(), staging("tnm-m-breast", *CM1), status))
        said = flat(str(exc.value))
        assert "Observation/tnm-m-breast states distant spread" in said
        assert "'improved', 'stable', 'not detected' or a remission says how the" in said

    def test_distant_metastasis_present_naming_the_pecoma_decides_it(self) -> None:
        """Control: 'distant metastasis present' naming the PEComa is its own statement of
        spread: metastatic, beside the breast cancer as without it."""
        status = staging("status-pecoma", *DISTANT, day="2026-05-01",
                         focus=[{"reference": PECOMA}])
        got = read(with_(uterus(), breast(), staging("tnm-m-breast", *CM1), status))
        assert got.case.stage.status is DiseaseStatus.metastatic

    def test_the_projects_disease_status_decides_it(self) -> None:
        """Control: the project's disease-status Observation is the status recorded."""
        status = {"resourceType": "Observation", "id": "ds", "status": "final",
                  "code": {"coding": [{"system": PECOMA_CODES, "code": "disease-status"}]},
                  "subject": {"reference": f"Patient/{PATIENT}"},
                  "effectiveDateTime": "2026-05-01",
                  "valueCodeableConcept": {"coding": [{"system": PECOMA_CODES,
                                                       "code": "localized"}]}}
        got = read(with_(uterus(), breast(), staging("tnm-m-breast", *CM1), status))
        assert got.case.stage.status is DiseaseStatus.localized


class TestNodesNamingNoCondition:
    def test_a_pn1_naming_no_condition_leaves_the_nodes_unknown(self) -> None:
        """A pN1 of the hysterectomy's day naming no Condition, beside the breast cancer:
        whose nodes cannot be told, so the nodal status (S11) stays unknown and is asked,
        with a note saying why and what to record. It had been read as the PEComa's
        positive nodes."""
        got = read(with_(uterus(), breast(), staging("tnm-n", *PN1, day="2024-04-09")))
        assert got.case.stage.lymph_nodes is NodeStatus.unknown
        assert "stage.lymph_nodes" in got.not_found
        assert any(n.startswith("Observation/tnm-n: not read as stage.lymph_nodes: it names "
                                "no Condition (no focus) and the record holds another "
                                "primary cancer (Condition/breast-ca)") for n in got.notes)

    def test_focused_on_the_pecoma_it_is_read(self) -> None:
        """Control: the same pN1 whose focus is the PEComa Condition: positive nodes."""
        n1 = staging("tnm-n", *PN1, day="2024-04-09", focus=[{"reference": PECOMA}])
        assert read(with_(uterus(), breast(), n1)).case.stage.lymph_nodes is NodeStatus.positive


def _size(cm: float, day: str, **where: Any) -> dict[str, Any]:
    """An mCODE TumorSize of ``cm``, naming no lesion unless ``where`` gives a focus or
    a bodySite."""
    return {"resourceType": "Observation", "id": "tumor-size-2", "status": "final",
            "code": {"coding": [{"system": LOINC, "code": "21889-1"}]},
            "subject": {"reference": f"Patient/{PATIENT}"}, "effectiveDateTime": day,
            "valueQuantity": {"value": cm, "unit": "cm", "system": "http://unitsofmeasure.org",
                              "code": "cm"}, **where}


def _absent(code: str) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": f"h-{code}", "status": "final",
            "code": {"coding": [{"system": PECOMA_CODES, "code": code}]},
            "subject": {"reference": f"Patient/{PATIENT}"}, "effectiveDateTime": "2024-04-10",
            "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "2667000",
                                                 "display": "Absent"}]}}


def low_risk_but_the_size() -> dict[str, Any]:
    """The uterine record without its pathology size, every other high-risk feature
    recorded absent (necrosis, infiltrative growth, high nuclear grade and cellularity,
    vascular invasion, pleomorphism) and 0 mitoses per 50 HPF (project codes), beside a
    breast cancer found in 2023: the size alone decides whether the risk is low (S06:
    > 5 cm is a high-risk feature)."""
    record = uterus()
    record["entry"] = [e for e in record["entry"]
                       if e["resource"]["id"] != "tumor-size-pathology-pecoma-u"]
    features = ["necrosis", "infiltrative-growth", "high-nuclear-grade-and-cellularity",
                "vascular-invasion", "nuclear-pleomorphism-or-giant-cells"]
    mitoses = {"resourceType": "Observation", "id": "mitoses", "status": "final",
               "code": {"coding": [{"system": PECOMA_CODES, "code": "mitoses-per-50-hpf"}]},
               "subject": {"reference": f"Patient/{PATIENT}"},
               "effectiveDateTime": "2024-04-10", "valueQuantity": {"value": 0}}
    return with_(record, breast(onset="2023-01-10"), *map(_absent, features), mitoses)


class TestSizeNamingNoLesion:
    """A 2.1 cm tumour size of 2024-02-20 (before the hysterectomy), no focus and no
    bodySite, beside the breast cancer: the breast lesion's or the PEComa's cannot be
    told. Read as the PEComa's it made the risk LOW and the surveillance low-risk; a
    PEComa larger than 5 cm is high risk (S06)."""

    def test_it_is_not_read_and_the_risk_is_not_low(self, tmp_path: Path) -> None:
        """``fhir to-case``: the size is left out (unknown, listed as not found, a note
        saying why and what to record); ``assess``: the risk is indeterminate, not low,
        surveillance follows the high-risk schedule meanwhile (said), and the size is
        asked (MISS-SIZE). It had been 2.1 cm and LOW."""
        run = pecoma(tmp_path, with_(low_risk_but_the_size(), _size(2.1, "2024-02-20")))
        assert run.returncode == 0, run.stderr
        case = json.loads(run.stdout)
        assert "size" not in case["tumour"]
        said = flat(run.stderr)
        assert ("note: Observation/tumor-size-2: not read as tumour.size: it names no "
                "lesion (no focus on the PEComa Condition, no bodySite) and the record "
                "holds another primary cancer (Condition/breast-ca) besides the PEComa") in said
        assert "give its focus (the PEComa Condition) or bodySite if it is the PEComa's" \
            in said
        path = tmp_path / "case.json"
        path.write_text(run.stdout, encoding="utf-8")
        report = run_cli("assess", str(path), "--on", ON.isoformat(), "--format", "json")
        assert report.returncode == 0, report.stderr
        result = json.loads(report.stdout)
        assert result["risk"]["group"] == "indeterminate"
        assert result["risk"]["unknown"] == ["tumour.size"]
        assert "Surveillance follows the high-risk schedule" in result["risk"]["item"]["text"]
        assert "MISS-SIZE" in [m["id"] for m in result["missing"]]

    @pytest.mark.parametrize("where", [
        {"focus": [{"reference": PECOMA}]},
        {"bodySite": {"coding": [{"system": SNOMED, "code": "35039007",
                                  "display": "Uterine structure"}]}},
    ])
    def test_naming_the_pecoma_or_its_site_it_is_read(self, where: dict[str, Any]) -> None:
        """Control: the same size whose focus is the PEComa Condition, or whose bodySite is
        the uterus (the PEComa's site, not the breast's), is the PEComa's: 2.1 cm read,
        and with every other feature absent the risk is low."""
        got = read(with_(low_risk_but_the_size(), _size(2.1, "2024-02-20", **where)))
        size = got.case.tumour.size
        assert size is not None and size.value == 2.1
        assert assess(got.case, ON).risk.group == "low"

    def test_without_another_cancer_it_is_read(self) -> None:
        """Control: without the breast cancer a size naming nothing is the PEComa's, as
        before (the only tumour of the record)."""
        record = low_risk_but_the_size()
        record["entry"] = [e for e in record["entry"] if e["resource"]["id"] != "breast-ca"]
        size = read(with_(record, _size(2.1, "2024-02-20"))).case.tumour.size
        assert size is not None and size.value == 2.1


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('another-primary') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def cards(client: TestClient, body: dict[str, Any], service: str) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()["cards"]
    return out


#: A doxorubicin draft written for the breast cancer (its reasonReference).
DOXORUBICIN = {"resourceType": "MedicationRequest", "id": "draft-dox", "status": "draft",
               "intent": "order",
               "medicationCodeableConcept": {"coding": [{
                   "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "3639",
                   "display": "doxorubicin"}]},
               "reasonReference": [{"reference": "Condition/breast-ca"}],
               "subject": {"reference": f"Patient/{PATIENT}"}}


class TestCdsServices:
    """The CDS services read the record as ``fhir to-case`` does (prefetch)."""

    def test_patient_view_gives_no_advanced_disease_advice(self, client: TestClient) -> None:
        """patient-view on the record with the breast cancer's cM1 naming nothing: one
        warning card saying the status cannot be derived, naming the cM1, the other
        cancer and what to record; no mTOR-inhibitor advice (S12-S14), which the M1 had
        brought."""
        record = with_(uterus(), breast(), staging("tnm-m-breast", *CM1))
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(record)), PATIENT_VIEW)
        assert [c["indicator"] for c in got] == ["warning"]
        detail = flat(got[0]["detail"])
        assert ("Observation/tnm-m-breast states distant spread but names no Condition (no "
                "focus), and the record holds another primary cancer (Condition/breast-ca)"
                ) in detail
        assert "mTOR" not in json.dumps(got)

    def test_order_select_proposes_nothing_in_place_of_the_breast_cancer_order(
            self, client: TestClient) -> None:
        """order-select on the doxorubicin draft written for the breast cancer: no
        "chemotherapy first line for advanced PEComa" warning, no suggestion (it had
        proposed deleting the draft and drafting sirolimus); the card says the record's
        status cannot be derived and why."""
        record = with_(uterus(), breast(), staging("tnm-m-breast", *CM1))
        body = hook_request("order-select", PATIENT, prefetch=prefetch_of(record))
        body["context"].update({
            "selections": ["MedicationRequest/draft-dox"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": DOXORUBICIN}]}})
        got = cards(client, body, ORDER_SELECT)
        assert got, "a card says why the order could not be checked"
        assert not any(c.get("suggestions") for c in got)
        assert not any("first line" in c["summary"] for c in got)
        assert any("Observation/tnm-m-breast states distant spread" in flat(c["detail"])
                   for c in got)

    def test_patient_view_names_what_to_record(self, client: TestClient) -> None:
        """The warning card names the codes that settle it (the project's disease status,
        the PEComa's own distant metastases category and its focus)."""
        record = with_(uterus(), breast(), staging("tnm-m-breast", *CM1))
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(record)), PATIENT_VIEW)
        detail = flat(got[0]["detail"]).replace("\\", "")
        assert f"{PECOMA_CODES}|disease-status" in detail
        assert "LOINC 21907-1" in detail and "1229901006" in detail

    def test_patient_view_assesses_beside_the_pecomas_own_m0(self,
                                                             client: TestClient) -> None:
        """With the PEComa's own cM0 dated after the cM1, patient-view assesses the
        localized PEComa: no advanced-disease advice, no refusal."""
        m0 = staging("tnm-m-pecoma", *CM0, day="2026-05-01", focus=[{"reference": PECOMA}])
        record = with_(uterus(), breast(), staging("tnm-m-breast", *CM1), m0)
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(record)), PATIENT_VIEW)
        assert got[0]["summary"].startswith("PEComa (localized)")
        assert "mTOR" not in got[0]["summary"]

    def test_patient_view_asks_the_size(self, client: TestClient) -> None:
        """patient-view on the record whose only size names no lesion beside the breast
        cancer: risk indeterminate (not low), the size asked, and the note saying why it
        was not read."""
        record = with_(low_risk_but_the_size(), _size(2.1, "2024-02-20"))
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(record)), PATIENT_VIEW)
        text = flat(json.dumps(got))
        assert "risk indeterminate" in got[0]["summary"]
        assert "risk low" not in text.lower()
        assert "MISS-SIZE" in text
        assert "Observation/tumor-size-2: not read as tumour.size: it names no lesion" in text


def headline(card: dict[str, Any]) -> str:
    """A card's summary without the "(provisional) " that says its advice waits on a
    missing fact (the tests below are about what the card says it is)."""
    return str(card["summary"]).removeprefix("(provisional) ")


class TestDraftForAnotherCancer:
    """The PEComa is metastatic by its own staging (a cM1 whose focus is the PEComa
    Condition) and the record holds the breast cancer; a doxorubicin draft, no systemic
    line yet: the guideline puts an mTOR inhibitor first for the PEComa (S12-S14)."""

    @staticmethod
    def body(draft: dict[str, Any], status: str = "active") -> dict[str, Any]:
        m1 = staging("tnm-m-pecoma", *CM1, focus=[{"reference": PECOMA}])
        record = with_(uterus(), breast(status), m1)
        body = hook_request("order-select", PATIENT, prefetch=prefetch_of(record))
        body["context"].update({
            "selections": ["MedicationRequest/draft-dox"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": draft}]}})
        return body

    @pytest.mark.parametrize("reason", [
        {"reasonReference": [{"reference": "Condition/breast-ca"}]},
        {"reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                     "code": "C50.911"}]}]},
    ])
    def test_a_draft_for_the_breast_cancer_is_not_replaced(
            self, client: TestClient, reason: dict[str, Any]) -> None:
        """The draft names the breast cancer as its reason (its Condition, or its ICD-10-CM
        code): it is that cancer's treatment, not a first line of the PEComa to delete.
        The warning stays (the PEComa's own first line is an mTOR inhibitor), with no
        suggestion, saying why. It had proposed deleting the draft and drafting
        sirolimus."""
        draft = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"} | reason
        got = cards(client, self.body(draft), ORDER_SELECT)
        warned = [c for c in got if "first line for advanced PEComa" in c["summary"]]
        assert len(warned) == 1
        assert not warned[0].get("suggestions")
        assert ("No mTOR-inhibitor order is proposed:** the draft is ordered for another "
                "cancer (Condition/breast-ca, its reason): it is not replaced") in warned[0][
                    "detail"]

    def test_a_draft_naming_no_reason_asks_which_cancer_and_proposes_nothing(
            self, client: TestClient) -> None:
        """The same draft naming no reason: beside the breast cancer it may be that
        cancer's (doxorubicin is a breast-cancer drug), so which cancer it is for is
        asked, as for a course of the record naming no reason: the warning is "perhaps
        first line" and nothing replaces it (a suggestion deleting it for sirolimus had
        been offered, never asking)."""
        draft = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"}
        got = cards(client, self.body(draft), ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        assert headline(warned).startswith("Chemotherapy, perhaps first line, for advanced "
                                            "PEComa")
        assert not warned.get("suggestions")
        detail = flat(warned["detail"]).replace("\\", "")
        assert ("which cancer is doxorubicin ordered for, the PEComa or Condition/breast-ca?"
                in detail)
        assert "**No mTOR-inhibitor order is proposed:** which cancer a draft of this line" \
            in detail

    def test_a_regimen_drafted_apart_naming_no_reason_is_asked_about_whole(
            self, client: TestClient) -> None:
        """Doxorubicin selected and cyclophosphamide not selected, neither naming a reason
        (AC, the usual breast-cancer regimen) beside the breast cancer: one card naming
        both, asking which cancer they are for, no suggestion (it had deleted both and
        created sirolimus, pre-selected)."""
        dox = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"}
        cyclo = {**dox, "id": "draft-cyclo", "medicationCodeableConcept": {
            "text": "Cyclophosphamide 600 mg/m2 IV"}}
        body = self.body(dox)
        body["context"]["draftOrders"]["entry"].append({"resource": cyclo})
        got = cards(client, body, ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        assert "perhaps first line" in warned["summary"]
        assert not warned.get("suggestions")
        detail = flat(warned["detail"]).replace("\\", "")
        assert ("no reason of MedicationRequest/draft-dox, MedicationRequest/draft-cyclo says "
                "which cancer they are ordered for") in detail

    def test_a_draft_naming_no_reason_is_replaced(self, client: TestClient) -> None:
        """Control: the same draft naming no reason beside a breast cancer recorded as
        resolved (no other present primary cancer) is the PEComa's first line: the
        warning proposes an mTOR-inhibitor draft in its place, provisional (the record
        says nothing of whether an mTOR inhibitor is available or contraindicated:
        MISS-MTOR-AVAILABLE, MISS-MTOR-CONTRAINDICATED), so not pre-selected."""
        draft = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"}
        got = cards(client, self.body(draft, status="resolved"), ORDER_SELECT)
        suggestions = [s for c in got for s in c.get("suggestions", [])]
        assert [s["label"] for s in suggestions] == [
            "(provisional) Replace with an mTOR inhibitor (here sirolimus, as an example "
            "draft; the team chooses)"]
        assert suggestions[0]["isRecommended"] is False

    def test_a_draft_for_the_pecoma_is_replaced(self, client: TestClient) -> None:
        """Control: the same draft naming the PEComa Condition as its reason is the
        PEComa's first line: the warning proposes an mTOR-inhibitor draft in its place.
        The record says nothing of whether an mTOR inhibitor is available or
        contraindicated, so the advice waits on MISS-MTOR-AVAILABLE and
        MISS-MTOR-CONTRAINDICATED: the suggestion says it is provisional and is not the
        one the EHR pre-selects."""
        draft = DOXORUBICIN | {"reasonReference": [{"reference": PECOMA}]}
        got = cards(client, self.body(draft), ORDER_SELECT)
        suggestions = [s for c in got for s in c.get("suggestions", [])]
        assert [s["label"] for s in suggestions] == [
            "(provisional) Replace with an mTOR inhibitor (here sirolimus, as an example "
            "draft; the team chooses)"]
        assert suggestions[0]["isRecommended"] is False

    @pytest.mark.parametrize(("reason", "shown"), [
        ({"reasonCode": [{"coding": [{"system": SNOMED, "code": "254837009"}]}]},
         "254837009"),
        ({"reasonReference": [{"reference": "Condition/unknown-x"}]}, "Condition/unknown-x"),
        ({"reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                      "code": "C76.0"}]}]}, "C76.0"),
    ], ids=["snomed-breast-cancer", "condition-not-held", "c76-no-organ"])
    def test_a_draft_whose_reason_cannot_be_placed_asks_which_cancer(
            self, client: TestClient, reason: dict[str, Any], shown: str) -> None:
        """A selected doxorubicin whose reason pecoma cannot place (a SNOMED CT breast
        cancer, a Condition the record does not hold, C76.0 of no organ) beside the breast
        cancer is at least as uncertain as one giving no reason: which cancer it is for is
        asked, its reason shown, nothing proposed. It had been "first line for advanced
        PEComa" with a suggestion deleting it, the reason never shown."""
        draft = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"} | reason
        got = cards(client, self.body(draft), ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        assert headline(warned).startswith("Chemotherapy, perhaps first line")
        assert not warned.get("suggestions")
        detail = flat(warned["detail"]).replace("\\", "")
        assert ("which cancer is doxorubicin ordered for, the PEComa or Condition/breast-ca?"
                in detail)
        assert "the reasons of MedicationRequest/draft-dox (" in detail and shown in detail

    def test_a_draft_naming_the_pecoma_and_the_breast_cancer_asks_which_cancer(
            self, client: TestClient) -> None:
        """A selected doxorubicin whose reasons are the PEComa Condition and the breast
        cancer's: it may be for either (the FHIR reader reads such a course as the
        PEComa's too), so which cancer is asked, both reasons shown, nothing proposed. It
        had been called "ordered for another cancer", the PEComa reason never shown."""
        draft = DOXORUBICIN | {"reasonReference": [{"reference": PECOMA},
                                                   {"reference": "Condition/breast-ca"}]}
        got = cards(client, self.body(draft), ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        assert headline(warned).startswith("Chemotherapy, perhaps first line")
        assert not warned.get("suggestions")
        detail = flat(warned["detail"]).replace("\\", "")
        assert PECOMA in detail and "which cancer is doxorubicin ordered for" in detail
        assert "ordered for another cancer" not in detail

    def test_a_draft_not_selected_for_the_pecoma_and_the_breast_cancer_is_named(
            self, client: TestClient) -> None:
        """Doxorubicin selected for the PEComa, and cyclophosphamide not selected whose
        reasons are the PEComa and the breast cancer: the cyclophosphamide may be the
        breast cancer's, or of this line. It is named as possibly of the line with its
        reasons, and kept; the suggestion replaces the doxorubicin only, not pre-selected
        (the cyclophosphamide had been left out unnamed, a sirolimus beside it one click
        away)."""
        dox = DOXORUBICIN | {"reasonReference": [{"reference": PECOMA}]}
        cyclo = DOXORUBICIN | {"id": "draft-cyclo", "medicationCodeableConcept": {
            "text": "Cyclophosphamide 600 mg/m2 IV"}, "reasonReference": [
                {"reference": PECOMA}, {"reference": "Condition/breast-ca"}]}
        body = self.body(dox)
        body["context"]["draftOrders"]["entry"].append({"resource": cyclo})
        got = cards(client, body, ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        [suggestion] = warned["suggestions"]
        assert suggestion["isRecommended"] is False
        assert [a["resourceId"] for a in suggestion["actions"] if a["type"] == "delete"] == [
            "MedicationRequest/draft-dox"]
        detail = flat(warned["detail"]).replace("\\", "")
        assert "**Possibly of this line:**" in detail
        assert "MedicationRequest/draft-cyclo" in detail and "Condition/breast-ca" in detail

    def test_a_draft_for_the_pecoma_beside_one_naming_no_reason_is_the_pecomas(
            self, client: TestClient) -> None:
        """Doxorubicin selected for the PEComa (its reason), ifosfamide not selected naming
        no reason: the doxorubicin alone is a first line other than an mTOR inhibitor,
        whatever the ifosfamide is for. The card is not "perhaps", does not say it holds
        only if the ifosfamide is the PEComa's; the ifosfamide is named as possibly of the
        line and kept; the doxorubicin's replacement is offered, not pre-selected (none
        had been)."""
        dox = DOXORUBICIN | {"reasonReference": [{"reference": PECOMA}]}
        ifo = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"} | {
            "id": "draft-ifo", "medicationCodeableConcept": {"text": "Ifosfamide 2 g IV"}}
        body = self.body(dox)
        body["context"]["draftOrders"]["entry"].append({"resource": ifo})
        got = cards(client, body, ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        assert headline(warned).startswith("Chemotherapy first line for advanced PEComa")
        [suggestion] = warned["suggestions"]
        assert suggestion["isRecommended"] is False
        assert [a["resourceId"] for a in suggestion["actions"] if a["type"] == "delete"] == [
            "MedicationRequest/draft-dox"]
        detail = flat(warned["detail"]).replace("\\", "")
        assert "This warning holds only if" not in detail
        assert "**Possibly of this line:**" in detail and "MedicationRequest/draft-ifo" in detail


# ------------------------------------------------------------ courses of treatment

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
#: A reason naming the breast cancer: its Condition, or its ICD-10-CM code.
FOR_BREAST: dict[str, Any] = {"reasonReference": [{"reference": "Condition/breast-ca"}]}
FOR_BREAST_CODE: dict[str, Any] = {
    "reasonCode": [{"coding": [{"system": ICD10CM, "code": "C50.911"}]}]}


def course(rid: str, code: str, name: str, *, kind: str = "MedicationStatement",
           status: str = "completed", start: str = "2025-10-01",
           **more: Any) -> dict[str, Any]:
    """A course of ``name`` (RxNorm ``code``) begun on ``start``, naming no reason unless
    ``more`` gives one."""
    res: dict[str, Any] = {
        "resourceType": kind, "id": rid, "status": status,
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code,
                                                  "display": name}]},
        "subject": {"reference": f"Patient/{PATIENT}"}}
    if kind == "MedicationRequest":
        res.update(intent="order", authoredOn=start, dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": {"start": start}}}}])
    else:
        res["effectivePeriod"] = {"start": start}
    return res | more


def doxorubicin(**more: Any) -> dict[str, Any]:
    return course("dox", "3639", "doxorubicin", **more)


def everolimus(**more: Any) -> dict[str, Any]:
    return course("evero", "141704", "everolimus", **more)


def metastatic(*resources: dict[str, Any], other: bool = True) -> dict[str, Any]:
    """The uterine record made metastatic by the PEComa's own staging (a cM1 whose focus
    is the PEComa Condition), with the active breast cancer (unless ``other`` is False)
    and ``resources``: advanced PEComa with no line recorded for it, so an mTOR inhibitor
    is the first line (S12-S14)."""
    m1 = staging("tnm-m-pecoma", *CM1, focus=[{"reference": PECOMA}])
    return with_(uterus(), *([breast()] if other else []), m1, *resources)


def assessed(tmp_path: Path, bundle: dict[str, Any]) -> tuple[CliRun, dict[str, Any]]:
    """``pecoma fhir to-case`` on ``bundle``, then ``pecoma assess`` of the case it wrote
    (JSON), as a user runs them."""
    run = pecoma(tmp_path, bundle)
    assert run.returncode == 0, run.stderr
    path = tmp_path / "case.json"
    path.write_text(run.stdout, encoding="utf-8")
    report = run_cli("assess", str(path), "--on", ON.isoformat(), "--format", "json")
    assert report.returncode == 0, report.stderr
    result: dict[str, Any] = json.loads(report.stdout)
    return run, result


def ids(result: dict[str, Any], key: str) -> list[str]:
    return [i["id"] for i in result[key]]


class TestCourseForTheOtherCancer:
    """A course whose reason names the breast cancer is that cancer's treatment, not a
    line of the PEComa's. Read as one it had changed the PEComa's advice: a doxorubicin
    course made chemotherapy the PEComa's first line (ALERT-CHEMO-BEFORE-MTOR, 'not
    guideline-concordant'), and an everolimus course (everolimus with exemestane is a
    breast-cancer treatment) made the first-line mTOR advice 'the treatment under way'."""

    @pytest.mark.parametrize("reason", [FOR_BREAST, FOR_BREAST_CODE])
    def test_doxorubicin_for_the_breast_cancer_is_no_line(
            self, tmp_path: Path, reason: dict[str, Any]) -> None:
        """``fhir to-case``: no line in the case, the course listed as not read with why,
        and a note saying so and that an anthracycline counts towards the cumulative dose
        whichever cancer it was for (the lines given are known: none for the PEComa).
        ``assess``: the first-line mTOR advice, no 'chemotherapy first line' alert. It had
        been a doxorubicin line and that alert."""
        run, result = assessed(tmp_path, metastatic(doxorubicin(**reason)))
        assert "therapies" not in json.loads(run.stdout).get("systemic", {})
        said = flat(run.stderr)
        assert ("not read: MedicationStatement: doxorubicin given for another cancer "
                "(Condition/breast-ca, its reason): not a line of PEComa treatment") in said
        assert ("note: MedicationStatement/dox: doxorubicin (started 2025-10-01) given for "
                "another cancer (Condition/breast-ca, its reason): not read as a line of "
                "PEComa treatment; an anthracycline counts towards the patient's cumulative "
                "anthracycline dose whichever cancer it was given for") in said
        assert "not fully known" not in said
        assert "ALERT-CHEMO-BEFORE-MTOR" not in ids(result, "alerts")
        assert "REC-MTOR-FIRST-LINE" in ids(result, "recommendations")

    def test_everolimus_for_the_breast_cancer_is_no_line_but_is_asked_about(self) -> None:
        """Everolimus with exemestane ordered for the breast cancer, given now: no line of
        the PEComa's (no 'mTOR inhibitor already recorded', no question whether the PEComa
        progressed on a line of its own). But an mTOR inhibitor acts on the PEComa too:
        whether the PEComa progressed on it is asked, and the lines given are not fully
        known meanwhile (the mTOR advice conditional on the cards). The order stays one
        given now, checked against the allergy list. It had been the PEComa's everolimus
        line."""
        exemestane = course("exe", "258494", "exemestane", kind="MedicationRequest",
                            status="active", **FOR_BREAST)
        got = read(metastatic(everolimus(kind="MedicationRequest", status="active",
                                         **FOR_BREAST), exemestane))
        assert got.case.systemic.therapies == ()
        assert got.courses_in_doubt == (
            "MedicationRequest/evero: did the PEComa progress on everolimus (started "
            "2025-10-01), an mTOR inhibitor given for another cancer (Condition/breast-ca)?",)
        assert got.history_doubt is not None
        assert [p.where for p in got.running] == ["MedicationRequest/evero"]
        a = assess(got.case, ON)
        assert "ALERT-MTOR-GIVEN" not in [x.id for x in a.alerts]
        assert "MISS-MTOR-PROGRESSION" not in [x.id for x in a.missing]

    def test_an_administration_of_the_breast_cancers_order_is_no_line(self) -> None:
        """EHRs name the reason on the order: an administration of doxorubicin naming no
        reason, carrying out an order for the breast cancer (its ``request``), is that
        order's course: no line, no question. It had been a doxorubicin line."""
        order = course("dox-order", "3639", "doxorubicin", kind="MedicationRequest",
                       **FOR_BREAST)
        given = course("dox-given", "3639", "doxorubicin", kind="MedicationAdministration",
                       request={"reference": "MedicationRequest/dox-order"})
        got = read(metastatic(order, given))
        assert got.case.systemic.therapies == ()
        assert got.courses_in_doubt == ()
        assert "ALERT-CHEMO-BEFORE-MTOR" not in [x.id for x in assess(got.case, ON).alerts]

    def test_an_intolerance_is_the_patients_whatever_the_cancer(self) -> None:
        """Everolimus for the breast cancer stopped for grade 3 pneumonitis: no line of
        the PEComa's, but the patient does not tolerate everolimus (I15), whichever cancer
        it was given for: read as not tolerated, so no mTOR inhibitor is proposed unless
        another is shown tolerated."""
        stopped = everolimus(status="stopped", statusReason=[{"text": "grade 3 pneumonitis"}],
                             **FOR_BREAST)
        got = read(metastatic(stopped))
        assert got.case.systemic.therapies == ()
        assert [(x.where, x.agent) for x in got.not_tolerated] == [
            ("MedicationStatement/evero", Agent.everolimus)]
        assert [x.agent for x in got.case.systemic.intolerances] == [Agent.everolimus]


class TestCourseNamingNoReason:
    """A course naming no reason beside the breast cancer: the breast cancer's or the
    PEComa's, it cannot be told. Which cancer it was given for is asked, with the safer
    reading meanwhile for the advice resting on it."""

    def test_chemotherapy_is_no_line_and_which_cancer_is_asked(self, tmp_path: Path) -> None:
        """Doxorubicin from 2025-10-01, no reason: not claimed as the PEComa's first line
        (no 'chemotherapy first line' alert), not silently dropped either: ``fhir
        to-case`` says the lines given are not fully known and asks which cancer it was
        given for, with a note. It had been the PEComa's doxorubicin line and that
        alert."""
        run, result = assessed(tmp_path, metastatic(doxorubicin()))
        assert "therapies" not in json.loads(run.stdout).get("systemic", {})
        said = flat(run.stderr)
        assert ("the lines of systemic therapy already given are not fully known (what "
                "medications given beside another primary cancer were for is unknown: "
                "MedicationStatement/dox: which cancer was doxorubicin given for (started "
                "2025-10-01): the PEComa, or Condition/breast-ca?)") in said
        assert ("note: MedicationStatement/dox: no reason of it tells which cancer it was "
                "given for, and the record holds another primary cancer (Condition/breast-ca)"
                " besides the PEComa") in said
        assert "Not read meanwhile as a line of the PEComa's" in said
        assert "ALERT-CHEMO-BEFORE-MTOR" not in ids(result, "alerts")

    def test_an_mtor_inhibitor_is_read_as_a_line_and_which_cancer_is_asked(self) -> None:
        """Everolimus from 2025-10-01, no reason: the PEComa is not taken as never treated
        with an mTOR inhibitor (the safer reading: the line is read, 'mTOR inhibitor
        already recorded', and whether the disease progressed on it is asked, the
        first-line advice provisional on it), and which cancer it was given for is asked.
        It had been read as a line with no question."""
        got = read(metastatic(everolimus()))
        assert [t.agent.value for t in got.case.systemic.therapies] == ["everolimus"]
        assert got.courses_in_doubt == (
            "MedicationStatement/evero: which cancer was everolimus given for (started "
            "2025-10-01): the PEComa, or Condition/breast-ca?",)
        a = assess(got.case, ON)
        assert "ALERT-MTOR-GIVEN" in [x.id for x in a.alerts]
        first = next(r for r in a.recommendations if r.id == "REC-MTOR-FIRST-LINE")
        assert "MISS-MTOR-PROGRESSION" in first.conditional_on

    def test_patient_view_asks_it_and_makes_the_drug_advice_conditional(
            self, client: TestClient) -> None:
        """patient-view on the record with the doxorubicin course naming no reason: no
        'first line other than an mTOR inhibitor' card (it had been one); the summary is a
        warning, its first-line mTOR advice '(conditional)', saying the lines given are
        not fully known and asking which cancer the doxorubicin was given for."""
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(metastatic(doxorubicin()))),
                    PATIENT_VIEW)
        assert not any("A first line other than an mTOR inhibitor" in c["summary"]
                       for c in got)
        summary = got[0]
        assert summary["indicator"] == "warning"
        assert summary["summary"].startswith("PEComa (metastatic), risk not applicable: "
                                             "(conditional) An mTOR inhibitor is the "
                                             "first-line systemic treatment")
        detail = flat(summary["detail"])
        assert ("**Conditional:** the lines of systemic therapy already given are not fully "
                "known (what medications given beside another primary cancer were for is "
                "unknown: MedicationStatement/dox: which cancer was doxorubicin given for "
                "(started 2025-10-01): the PEComa, or Condition/breast-ca?)") in detail
        assert ("- what some medications given beside another primary cancer were for: "
                "MedicationStatement/dox: which cancer was doxorubicin given for") in \
            summary["detail"]

    def test_order_select_warns_on_a_new_chemotherapy_draft(self, client: TestClient) -> None:
        """order-select on a doxorubicin draft, the record holding the doxorubicin course
        naming no reason: that course may be the breast cancer's, so the draft may be the
        PEComa's first line: the warning is given ('perhaps first line', why it is not
        known), and no mTOR inhibitor is proposed in its place. It had given no card: the
        course was taken as the PEComa's first line already."""
        body = hook_request("order-select", PATIENT,
                            prefetch=prefetch_of(metastatic(doxorubicin())))
        draft = {k: v for k, v in DOXORUBICIN.items() if k != "reasonReference"}
        body["context"].update({
            "selections": ["MedicationRequest/draft-dox"],
            "draftOrders": {"resourceType": "Bundle", "type": "collection",
                            "entry": [{"resource": draft}]}})
        got = cards(client, body, ORDER_SELECT)
        [warned] = [c for c in got if "for advanced PEComa" in c["summary"]]
        # the record gives neither the mTOR inhibitors' availability nor a contraindication
        # (MISS-MTOR-AVAILABLE, MISS-MTOR-CONTRAINDICATED): the advice waits on them, and
        # the summary says so first
        assert warned["summary"].startswith("(provisional) Chemotherapy, perhaps first line, "
                                            "for advanced PEComa")
        assert not warned.get("suggestions")
        assert "which cancer was doxorubicin given for (started 2025-10-01)" in flat(
            warned["detail"])


class TestCourseControls:
    """What stays as it was."""

    @pytest.mark.parametrize("reason", [
        {"reasonReference": [{"reference": PECOMA}]},
        {"reasonCode": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                                     "code": "8714/3"}]}]},
        # given for both cancers: it is the PEComa's line too
        {"reasonReference": [{"reference": PECOMA}, {"reference": "Condition/breast-ca"}]},
    ])
    def test_a_course_given_for_the_pecoma_is_its_line(self, reason: dict[str, Any]) -> None:
        """A reason naming the PEComa (its Condition, or ICD-O-3 8714/3): the PEComa's
        doxorubicin line, beside the breast cancer as without it; nothing asked."""
        got = read(metastatic(doxorubicin(**reason)))
        assert [t.agent.value for t in got.case.systemic.therapies] == ["doxorubicin"]
        assert got.history_doubt is None

    def test_without_another_cancer_a_course_naming_no_reason_is_the_pecomas(self) -> None:
        """Without the breast cancer, doxorubicin naming no reason is the PEComa's first
        line, as before: chemotherapy first line while an mTOR inhibitor was possible."""
        got = read(metastatic(doxorubicin(), other=False))
        assert [t.agent.value for t in got.case.systemic.therapies] == ["doxorubicin"]
        assert got.history_doubt is None
        assert "ALERT-CHEMO-BEFORE-MTOR" in [x.id for x in assess(got.case, ON).alerts]

    def test_an_order_planned_for_the_other_cancer_stays_an_order_in_place(self) -> None:
        """An everolimus order drafted for the breast cancer: no line (planned), still an
        order in place, so the cards propose no second mTOR inhibitor beside it; nothing
        asked (it is not given)."""
        planned = everolimus(kind="MedicationRequest", status="draft", **FOR_BREAST)
        got = read(metastatic(planned))
        assert [(p.where, p.agent) for p in got.planned] == [
            ("MedicationRequest/evero", Agent.everolimus)]
        assert got.case.systemic.therapies == ()
        assert got.history_doubt is None


# ------------------------------------------------------ immunostains and gene results

HMB45 = "Observation/tumor-marker-test-hmb45-pecoma-u"
TSC2 = "genomic-variant-tsc2-pecoma-u"


def edited(bundle: dict[str, Any], rid: str, **changes: Any) -> dict[str, Any]:
    """``bundle`` with the resource ``rid`` updated by ``changes``."""
    out = copy.deepcopy(bundle)
    for e in out["entry"]:
        if e["resource"].get("id") == rid:
            e["resource"].update(changes)
    return out


class TestImmunostainsNamingNoCondition:
    """The uterine record's stains (HMB-45 and Melan-A positive, SMA positive, desmin
    negative, TFE3 not done) name no Condition (no focus), as the mCODE examples and most
    laboratory feeds send them. Beside the breast cancer, whose tumour was stained cannot
    be told: every marker the case records is also stained in other cancers' work-up
    (HMB-45, Melan-A and MITF in melanoma's; SMA, desmin and h-caldesmon in many tumours'
    and in breast biopsies, where SMA shows the myoepithelial cells; TFE3 and cathepsin K
    in renal cell carcinoma's). Read as the PEComa's, another tumour's stains completed the
    panel S24 asks for (I11): the PEComa diagnosis taken as confirmed and the advice no
    longer conditional on it, for a PEComa whose own panel is not in the record."""

    def test_they_are_not_read_and_the_panel_is_asked(self, tmp_path: Path) -> None:
        """``fhir to-case``: no marker result in the case, each stain listed as not read
        with a note naming the other cancer and what to record; ``assess``: the panel is
        incomplete (ALERT-IHC-INCOMPLETE) and how the diagnosis was made is asked, every
        recommendation conditional on it meanwhile (no marker result shows tissue). They
        had been read: panel complete, nothing asked."""
        run, result = assessed(tmp_path, with_(uterus(), breast()))
        case = json.loads(run.stdout)
        assert "immunohistochemistry" not in case
        said = flat(run.stderr)
        assert (f"note: {HMB45}: not read as the PEComa's: an immunostain naming no "
                "Condition (no focus), and the record holds another primary cancer "
                "(Condition/breast-ca) besides the PEComa, so whose tumour it is of cannot "
                "be told (HMB-45, Melan-A and MITF also mark melanoma") in said
        assert "give its focus (the PEComa Condition) if it is the PEComa's" in said
        assert "ALERT-IHC-INCOMPLETE" in ids(result, "alerts")
        assert "MISS-DIAGNOSIS-METHOD" in ids(result, "missing")

    def test_one_focused_on_the_pecoma_is_read(self) -> None:
        """Control: HMB-45 whose focus is the PEComa Condition is the PEComa's stain:
        positive, beside the breast cancer as without it."""
        got = read(edited(with_(uterus(), breast()), HMB45.split("/")[1],
                          focus=[{"reference": PECOMA}]))
        assert got.case.immunohistochemistry.hmb45.value == "positive"
        assert got.sources["immunohistochemistry.hmb45"] == HMB45

    def test_one_focused_on_the_breast_cancer_is_not_read(self) -> None:
        """A stain whose focus is the breast cancer is that cancer's, whatever else the
        record holds: not the PEComa's HMB-45 (it had been read as the PEComa's)."""
        got = read(edited(with_(uterus(), breast()), HMB45.split("/")[1],
                          focus=[{"reference": "Condition/breast-ca"}]))
        assert got.case.immunohistochemistry.hmb45.value == "unknown"
        assert any(line.startswith("Observation: an immunostain about Condition/breast-ca, "
                                   "not the PEComa") for line in got.not_read)

    def test_without_another_cancer_they_are_read(self) -> None:
        """Control: the PEComa is the record's only tumour: its stains are read as
        before."""
        ihc = read(uterus()).case.immunohistochemistry
        assert (ihc.hmb45.value, ihc.melan_a.value, ihc.sma.value, ihc.desmin.value) == (
            "positive", "positive", "positive", "negative")


class TestGeneResultsNamingNoCondition:
    """The uterine record's somatic TSC2 variant (pathogenic) and its TSC1/TFE3 pertinent
    negative name no Condition. Tumour sequencing finds TSC1 and TSC2 variants in other
    cancers too (bladder, liver, kidney, breast: a metastatic breast cancer is routinely
    sequenced) and a TFE3 rearrangement defines a renal cell carcinoma: beside the breast
    cancer, whose tumour was sequenced cannot be told. Read as the PEComa's, another
    tumour's variant gave the PEComa's advice its molecular context (SUPP-TSC-ALTERED,
    SUPP-TFE3-FUSION, which may turn a team from the mTOR inhibitor) and a wild type left
    the PEComa's own testing unasked (MISS-MOLECULAR)."""

    def test_a_somatic_variant_naming_no_condition_is_not_read(self) -> None:
        """Metastatic PEComa beside the breast cancer: the molecular facts stay unknown
        (each result listed as not read, with a note), no 'TSC1/TSC2 alteration found',
        and whether the PEComa was tested is asked where the mTOR inhibitor is advised.
        The TSC2 variant had been read: SUPP-TSC-ALTERED, nothing asked."""
        got = read(metastatic())
        assert got.case.molecular.tsc2.value == "unknown"
        assert got.case.molecular.tfe3_fusion.value == "unknown"
        assert any(n.startswith(f"Observation/{TSC2}: not read as the PEComa's: a gene "
                                "variant result naming no Condition (no focus)")
                   for n in got.notes)
        a = assess(got.case, ON)
        assert "SUPP-TSC-ALTERED" not in [x.id for x in a.alerts]
        assert "MISS-MOLECULAR" in [x.id for x in a.missing]

    def test_a_tfe3_rearrangement_test_naming_no_condition_is_not_read(self) -> None:
        """A TFE3 break-apart FISH naming no Condition, positive, beside the breast
        cancer: a rearrangement is also a renal cell carcinoma's: not read as the PEComa's
        fusion (SUPP-TFE3-FUSION would weigh against the mTOR rationale)."""
        fish = {"resourceType": "Observation", "id": "tfe3-fish", "status": "final",
                "code": {"text": "TFE3 (Xp11.23) break-apart FISH"},
                "method": {"text": "Fluorescence in situ hybridization (FISH)"},
                "subject": {"reference": f"Patient/{PATIENT}"},
                "effectiveDateTime": "2024-04-25",
                "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": "10828004",
                                                     "display": "Positive"}]}}
        record = metastatic(fish)
        record["entry"] = [e for e in record["entry"] if e["resource"]["id"] !=
                           "genomic-variant-pertinent-negative-tsc1-tfe3-pecoma-u"]
        got = read(record)
        assert got.case.molecular.tfe3_fusion.value == "unknown"
        assert any(line.startswith("Observation: a TFE3 rearrangement test naming no "
                                   "Condition, beside another primary cancer")
                   for line in got.not_read)

    def test_a_germline_variant_is_read(self) -> None:
        """No change for a germline variant (genomic source class LA6683-2 Germline): it
        is the patient's own, in every tumour, so it cannot be the other tumour's alone;
        a germline TSC2 pathogenic variant is tuberous sclerosis, in which PEComas arise
        TSC-altered. Read as before: molecular.tsc2 pathogenic, SUPP-TSC-ALTERED shown."""
        germline = {"code": {"coding": [{"system": LOINC, "code": "48002-0"}]},
                    "valueCodeableConcept": {"coding": [{"system": LOINC,
                                                         "code": "LA6683-2",
                                                         "display": "Germline"}]}}
        record = metastatic()
        for e in record["entry"]:
            if e["resource"]["id"] == TSC2:
                e["resource"]["component"] = [
                    *[x for x in e["resource"]["component"]
                      if x["code"]["coding"][0]["code"] != "48002-0"], germline]
        got = read(record)
        assert got.case.molecular.tsc2.value == "pathogenic"
        assert "SUPP-TSC-ALTERED" in [x.id for x in assess(got.case, ON).alerts]

    def test_without_another_cancer_they_are_read(self) -> None:
        """Control: the PEComa the only tumour: TSC2 pathogenic, TSC1 wild type, no TFE3
        fusion, as before."""
        mol = read(metastatic(other=False)).case.molecular
        assert (mol.tsc1.value, mol.tsc2.value, mol.tfe3_fusion.value) == (
            "wild_type", "pathogenic", "absent")


class TestCdsMarkers:
    def test_patient_view_shows_the_panel_incomplete(self, client: TestClient) -> None:
        """patient-view on the localized record beside the breast cancer: the panel
        incomplete card (its stains not taken as the PEComa's), and the summary says why
        they were not read. It had given no such card."""
        got = cards(client, hook_request("patient-view", PATIENT,
                                         prefetch=prefetch_of(with_(uterus(), breast()))),
                    PATIENT_VIEW)
        assert "Immunohistochemistry panel incomplete" in [c["summary"] for c in got]
        assert (f"{HMB45}: not read as the PEComa's: an immunostain naming no Condition"
                in flat(json.dumps(got)))
