"""One PEComa recorded twice: the mCODE primary cancer Condition beside a problem-list or
encounter-diagnosis Condition for the same tumour. Which of the two entries the reader
takes as the primary (the earlier onset) must not decide whether a resection or a
metastasis the record holds is the PEComa's.

The hysterectomy of tests/data/mcode/uterus-localized.json (2024-04-09, R0, bodySite the
uterus) gives the mCODE Condition as its reasonReference. With a second uterine PEComa
Condition dated three days earlier, the reader took the second as the primary and
dropped the hysterectomy ("a resection not shown to be of the PEComa primary"): surgery
status, date and margin were listed as "not found in the bundle", a resection was advised
(provisional) and no surveillance was planned for a high-risk patient resected R0 21
months earlier. A lung metastasis naming the other entry of a kidney PEComa as its
primary was dropped the same way ("a metastasis of another primary cancer").
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Margin, MetastasisSite, SurgeryStatus
from pecoma.engine import assess
from pecoma.engine.schedule import plan_surveillance
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, patient_id, prefetch_of

ON = dt.date(2026, 1, 15)
MCODE = Path(__file__).parent / "data" / "mcode"
HYSTERECTOMY = "Procedure/cancer-related-surgical-procedure-hysterectomy"
MCODE_UTERUS = "Condition/primary-cancer-condition-uterus"  # onset 2024-03-04
MCODE_KIDNEY = "Condition/primary-cancer-condition-kidney"  # onset 2023-05-15
DUPLICATE = "Condition/problem-pecoma"
SNOMED = "http://snomed.info/sct"
UTERUS = {"coding": [{"system": SNOMED, "code": "35039007", "display": "Uterine structure"}]}
KIDNEY = {"coding": [{"system": SNOMED, "code": "64033007", "display": "Kidney structure"}]}
LUNG = {"coding": [{"system": SNOMED, "code": "39607008", "display": "Lung structure"}]}


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MCODE / name).read_text("utf-8"))
    return data


def _resource(bundle: dict[str, Any], where: str) -> dict[str, Any]:
    kind, rid = where.split("/")
    return next(e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == kind and e["resource"]["id"] == rid)


def _duplicate(bundle: dict[str, Any], onset: str, site: dict[str, Any] | None,
               organ: str, clinical: str = "active") -> dict[str, Any]:
    """``bundle`` with a second PEComa Condition of its patient, as an EHR's
    encounter-diagnosis entry (ICD-O-3 8714/3, 'PEComa of <organ>')."""
    out = copy.deepcopy(bundle)
    subject = next(e["resource"]["subject"] for e in out["entry"]
                   if e["resource"]["resourceType"] == "Condition")
    cond: dict[str, Any] = {
        "resourceType": "Condition", "id": "problem-pecoma",
        "clinicalStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
            "code": clinical}]},
        "verificationStatus": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            "code": "confirmed"}]},
        "category": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/condition-category",
            "code": "encounter-diagnosis"}]}],
        "code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                             "code": "8714/3"}], "text": f"PEComa of {organ}"},
        "subject": copy.deepcopy(subject), "onsetDateTime": onset}
    if site is not None:
        cond["bodySite"] = [site]
    out["entry"].append({"fullUrl": f"http://example.org/fhir/{DUPLICATE}", "resource": cond})
    return out


def _uterus_twice(onset: str, reason: str, site: dict[str, Any] | None = UTERUS,
                  clinical: str = "active") -> dict[str, Any]:
    b = _duplicate(_load("uterus-localized.json"), onset, site, "uterus", clinical)
    _resource(b, HYSTERECTOMY)["reasonReference"] = [{"reference": reason}]
    return b


def _surgery_read(bc: BundleCase) -> None:
    """The hysterectomy read as the resection of the primary: done 2024-04-09, R0, taken
    from the Procedure, none of its facts "not found"."""
    assert bc.case.surgery.status is SurgeryStatus.performed
    assert bc.case.surgery.date == dt.date(2024, 4, 9)
    assert bc.case.surgery.margin is Margin.R0
    assert bc.sources["surgery.status"] == f"{HYSTERECTOMY}.status"
    assert not {"surgery.status", "surgery.date", "surgery.margin"} & set(bc.not_found)
    assert not any(HYSTERECTOMY in x for x in bc.not_read), bc.not_read


class TestAResectionForEitherEntry:
    def test_the_hysterectomy_is_the_resection_of_the_primary(self) -> None:
        """Two current, confirmed PEComa Conditions of the uterus are one tumour: the
        hysterectomy whose reasonReference names either is the resection of the primary,
        whichever entry is dated earlier (and so read as the primary): the duplicate
        dated before the mCODE Condition (2024-03-01) or after it (2024-03-10), the
        reason naming one or the other, all four read alike. Before, it was dropped
        whenever its reason was the entry not read as the primary."""
        for onset in ("2024-03-01", "2024-03-10"):
            for reason in (MCODE_UTERUS, DUPLICATE):
                _surgery_read(case_from_bundle(_uterus_twice(onset, reason), on=ON))

    def test_the_advice_is_that_of_the_record_without_the_duplicate(self) -> None:
        """The reproducer (duplicate dated 2024-03-01, the hysterectomy for the mCODE
        Condition): a 9.5 cm uterine PEComa resected R0 is high risk, the resection done
        (REC-RESECTION-DONE, no provisional REC-RESECTION), and the high-risk
        surveillance is dated, as for the record holding the mCODE Condition alone."""
        plans = []
        for bundle in (_uterus_twice("2024-03-01", MCODE_UTERUS),
                       _load("uterus-localized.json")):
            case = case_from_bundle(bundle, on=ON).case
            a = assess(case, ON)
            plans.append((a, plan_surveillance(case, a, ON)))
        (twice, twice_plan), (once, once_plan) = plans
        ids = [x.id for x in twice.recommendations]
        assert "REC-RESECTION-DONE" in ids
        assert "REC-RESECTION" not in ids
        assert ids == [x.id for x in once.recommendations]
        assert twice_plan.surveillance_group == "high"
        assert twice_plan.visits
        assert twice_plan.visits == once_plan.visits


class TestWhenItCannotBeTold:
    @pytest.mark.parametrize("site, clinical", [(None, "active"), (UTERUS, "resolved")],
                             ids=["duplicate-without-site", "duplicate-resolved"])
    def test_the_resection_is_listed_and_asked_never_not_found(
            self, site: dict[str, Any] | None, clinical: str) -> None:
        """The hysterectomy's reason is a second PEComa Condition that cannot be told to be
        the primary's tumour or another: it names no site, or it is resolved while the
        primary is current (a past tumour of the uterus?). The resection is not read as
        the primary's, nor dropped: it is listed as not read with why, its surgery facts
        are found but not read (never "not found"), and a note asks whether the two
        record one tumour. Before, it was listed as "not shown to be of the PEComa
        primary" and the surgery facts as not found in the bundle."""
        bc = case_from_bundle(_uterus_twice("2024-03-10", DUPLICATE, site, clinical), on=ON)
        assert bc.case.surgery.status is SurgeryStatus.unknown
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert not {"surgery.status", "surgery.date", "surgery.margin"} & set(bc.not_found)
        assert any(HYSTERECTOMY in x and "cannot be told" in x for x in bc.not_read), \
            bc.not_read
        assert any(n.startswith(HYSTERECTOMY) and f"record whether {DUPLICATE} is the same "
                   "tumour" in n for n in bc.notes), bc.notes


class TestAMetastasisNamingEitherEntry:
    def test_the_lung_metastasis_is_the_pecoma_s(self) -> None:
        """tests/data/mcode/kidney-metastatic.json with a second kidney PEComa Condition
        dated earlier (2023-05-01), read as the primary: the lung metastasis names the
        mCODE kidney Condition as its primary (condition-related). It is the PEComa's
        metastasis; it had been dropped as "a metastasis of another primary cancer"."""
        b = _duplicate(_load("kidney-metastatic.json"), "2023-05-01", KIDNEY, "kidney")
        bc = case_from_bundle(b, on=ON)
        assert bc.sources["tumour.primary_site"].startswith(DUPLICATE)
        assert MetastasisSite.lung in {x.site for x in bc.case.stage.metastases}
        assert not any("another primary cancer" in x for x in bc.not_read), bc.not_read


class TestPatientView:
    def test_the_card_says_the_resection_is_done(self, tmp_path: Path) -> None:
        """The CDS patient-view service reads the record with the same reader: for the
        reproducer its card had advised, provisionally, a complete resection for a
        uterus removed with R0 margins. Expected: 'Complete resection achieved', no
        resection advised."""
        client = TestClient(create_app(WebConfig(
            database_url=f"sqlite:///{tmp_path / 'cds.sqlite3'}", cds=CdsSettings()),
            today=lambda: ON), base_url="http://localhost")
        b = _uterus_twice("2024-03-01", MCODE_UTERUS)
        body = hook_request("patient-view", patient_id(b), prefetch=prefetch_of(b))
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        detail = " ".join(c["summary"] + c["detail"] for c in r.json()["cards"])
        assert "Complete resection achieved" in detail
        assert "Complete resection with adequate margins" not in detail


# Two PEComas of one organ, each side stated: bilateral renal PEComas (angiomyolipomas)
# are common in tuberous sclerosis. The sides as the reader reads them for a size of the
# other side: a one-sided SNOMED CT body structure, the mCODE lateralityQualifier, the
# words of the Condition's code.
LATERALITY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"


def _site(code: str, display: str) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": code, "display": display}]}


def _qualified(site: dict[str, Any], side: str) -> dict[str, Any]:
    code = {"left": "7771000", "right": "24028007"}[side]
    return {**copy.deepcopy(site), "extension": [{
        "url": LATERALITY,
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code,
                                             "display": side.capitalize()}]}}]}


LEFT_KIDNEY = _site("18639004", "Left kidney structure")
RIGHT_KIDNEY = _site("9846003", "Right kidney structure")
LEFT_LUNG = _site("44029006", "Left lung structure")
RIGHT_LUNG = _site("3341006", "Right lung structure")
LEFT_LOWER_LOBE = _site("41224006", "Structure of lower lobe of left lung")
RIGHT_UPPER_LOBE = _site("42400003", "Structure of upper lobe of right lung")
NEPHRECTOMY = _site("175905003", "Nephrectomy")
LOBECTOMY = _site("173171007", "Lobectomy of lung")


def _second_pecoma(primary_site: dict[str, Any], primary_words: str,
                   other_site: dict[str, Any], other_words: str, operation: dict[str, Any],
                   clinical: str = "active") -> dict[str, Any]:
    """tests/data/mcode/uterus-localized.json made a PEComa of ``primary_site`` (the mCODE
    Condition, coded ICD-O-3 8714/3 'PEComa of <primary_words>', onset 2024-03-04: read
    as the primary) beside a second PEComa Condition of ``other_site`` ('PEComa of
    <other_words>', onset 2025-06-01), and the hysterectomy made ``operation`` of
    ``other_site``, completed 2025-07-01, its reasonReference the second Condition."""
    b = _duplicate(_load("uterus-localized.json"), "2025-06-01", other_site, other_words,
                   clinical)
    primary = _resource(b, MCODE_UTERUS)
    primary["code"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/icd-o-3",
                                   "code": "8714/3"}], "text": f"PEComa of {primary_words}"}
    primary["bodySite"] = [copy.deepcopy(primary_site)]
    operated = _resource(b, HYSTERECTOMY)
    operated["code"] = copy.deepcopy(operation)
    operated["bodySite"] = [copy.deepcopy(other_site)]
    operated["performedDateTime"] = "2025-07-01"
    operated["reasonReference"] = [{"reference": DUPLICATE}]
    return b


_OTHER_SIDE = [
    (LEFT_KIDNEY, "kidney", RIGHT_KIDNEY, "kidney", NEPHRECTOMY),
    (_qualified(KIDNEY, "left"), "kidney", _qualified(KIDNEY, "right"), "kidney",
     NEPHRECTOMY),
    (KIDNEY, "left kidney", KIDNEY, "right kidney", NEPHRECTOMY),
    (LEFT_LUNG, "lung", RIGHT_LUNG, "lung", LOBECTOMY),
    (LEFT_LOWER_LOBE, "lung", RIGHT_UPPER_LOBE, "lung", LOBECTOMY),
]
_OTHER_SIDE_IDS = ["kidney-snomed-one-sided", "kidney-laterality-qualifier", "kidney-words",
                   "lung-snomed-one-sided", "lung-lobes"]


class TestTheOtherSideIsAnotherTumour:
    """A left-kidney PEComa read as the primary and a right-kidney PEComa with a right
    nephrectomy naming it: the two were merged as one tumour recorded twice (the organ
    alone compared), and the right nephrectomy read as the resection of the unresected
    left tumour: 'Complete resection achieved', no resection advised."""

    @pytest.mark.parametrize("primary_site, primary_words, other_site, other_words, operation",
                             _OTHER_SIDE, ids=_OTHER_SIDE_IDS)
    def test_two_current_pecomas_of_two_sides_are_refused(
            self, primary_site: dict[str, Any], primary_words: str,
            other_site: dict[str, Any], other_words: str, operation: dict[str, Any]) -> None:
        """Both current and confirmed, on the two sides of one organ: two primaries, as
        two current PEComas at different organs are; which is the primary cannot be told,
        so the record is refused with both Conditions named, never read as one tumour
        resected."""
        b = _second_pecoma(primary_site, primary_words, other_site, other_words, operation)
        with pytest.raises(InputError) as exc:
            case_from_bundle(b, on=ON)
        text = str(exc.value)
        assert MCODE_UTERUS in text and DUPLICATE in text, text
        assert "the two sides of one organ" in text, text

    @pytest.mark.parametrize("primary_site, primary_words, other_site, other_words, operation",
                             _OTHER_SIDE, ids=_OTHER_SIDE_IDS)
    def test_the_operation_of_a_past_pecoma_of_the_other_side_is_not_the_resection(
            self, primary_site: dict[str, Any], primary_words: str,
            other_site: dict[str, Any], other_words: str, operation: dict[str, Any]) -> None:
        """The other side's PEComa resolved (removed by the operation naming it): another
        tumour than the current one read as the primary, so the operation is not the
        primary's resection (listed as not shown to be of the PEComa primary), the
        surgery unknown and the resection advised (S01/S03). Before, it was listed as
        'cannot be told' the same tumour, as if a side said nothing."""
        b = _second_pecoma(primary_site, primary_words, other_site, other_words, operation,
                           clinical="resolved")
        bc = case_from_bundle(b, on=ON)
        assert bc.case.surgery.status is SurgeryStatus.unknown
        assert any(HYSTERECTOMY in x and "not shown to be of the PEComa primary" in x
                   for x in bc.not_read), bc.not_read
        ids = [x.id for x in assess(bc.case, ON).recommendations]
        assert "REC-RESECTION" in ids
        assert "REC-RESECTION-DONE" not in ids


class TestOneSideNotStated:
    @pytest.mark.parametrize("primary_site, primary_words, other_site, other_words, operation", [
        (LEFT_KIDNEY, "kidney", KIDNEY, "kidney", NEPHRECTOMY),
        (KIDNEY, "kidney", RIGHT_KIDNEY, "kidney", NEPHRECTOMY),
        (_qualified(KIDNEY, "left"), "kidney", KIDNEY, "kidney", NEPHRECTOMY),
        (KIDNEY, "kidney", KIDNEY, "right kidney", NEPHRECTOMY),
        (LEFT_LUNG, "lung", LUNG, "lung", LOBECTOMY),
    ], ids=["primary-left-other-none", "primary-none-other-right", "qualifier-left-other-none",
            "words-right-primary-none", "lung-left-other-none"])
    def test_the_operation_is_listed_and_asked_never_read_as_done(
            self, primary_site: dict[str, Any], primary_words: str,
            other_site: dict[str, Any], other_words: str, operation: dict[str, Any]) -> None:
        """One of two current PEComa Conditions of one organ states a side, the other
        none: whether they are one tumour or the two sides cannot be told. The operation
        naming the second is not read as the primary's resection, nor dropped: listed with
        why, its surgery facts found but not read, the question asked, and no 'resection
        done'. Before, the two were one tumour and the operation the primary's resection."""
        b = _second_pecoma(primary_site, primary_words, other_site, other_words, operation)
        bc = case_from_bundle(b, on=ON)
        assert bc.case.surgery.status is SurgeryStatus.unknown
        assert {"surgery.status", "surgery.date", "surgery.margin"} <= set(bc.unreadable)
        assert any(HYSTERECTOMY in x and "cannot be told" in x for x in bc.not_read), \
            bc.not_read
        assert any(n.startswith(HYSTERECTOMY) and f"record whether {DUPLICATE} is the same "
                   "tumour" in n for n in bc.notes), bc.notes
        assert "REC-RESECTION-DONE" not in [x.id for x in assess(bc.case, ON).recommendations]
