"""order-select: a regimen drafted one agent a draft is replaced as one first line.

A CPOE order set writes a regimen one order per agent: the guideline's uterine regimen,
epirubicin with ifosfamide (S15), as a draft of epirubicin and a draft of ifosfamide.
Each draft got its own "first line" card and its own pre-selected suggestion "Replace
with an mTOR inhibitor", deleting only its own draft and creating a sirolimus draft:
accepting both left two sirolimus drafts (a double dose if both were signed), accepting
one left sirolimus beside the other cytotoxic draft, a combination nothing advises. CDS
Hooks applies a suggestion's actions together, and ``selectionBehavior`` ``at-most-one``
holds within one card only.

The clinical facts the tests hold: the patient of ``metastatic-lung-metachronous`` has
metastatic PEComa, no systemic line, mTOR inhibitors recorded available and not
contraindicated, and no allergy. The drafts of anticancer drugs selected together are
one first line departing from the guideline's (an mTOR inhibitor first: S02, S12, S13):
one warning names every one of them, and its one suggestion deletes each of them and
creates one mTOR-inhibitor proposal. The suggestion is offered only where it was for one
draft: not when the allergy list could not be read, not beside an mTOR-inhibitor draft
already in the order set. A draft of a drug that is no anticancer drug (ondansetron,
given with the chemotherapy) is no part of the line and is never deleted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import example, hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PECOMA = "https://pecoma.example/fhir/CodeSystem/pecoma"
FIRST_LINE = "Chemotherapy first line for advanced PEComa"
EPIRUBICIN = {"coding": [{"system": RXNORM, "code": "3995", "display": "Epirubicin"}]}
IFOSFAMIDE = {"coding": [{"system": RXNORM, "code": "5657"}]}
DOXORUBICIN = {"coding": [{"system": RXNORM, "code": "3639"}]}
DACARBAZINE = {"text": "Dacarbazine 250 mg/m2 IV"}
ONDANSETRON = {"text": "Ondansetron 8 mg IV"}
EVEROLIMUS = {"text": "Everolimus 10 mg tablet"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('regimen') / 'registry.db'}"
    return TestClient(create_app(WebConfig(database_url=url, cds=CdsSettings()),
                                 today=lambda: ON), base_url="http://localhost")


def call(drafts: list[tuple[str | None, dict[str, Any]]], *, selected: list[str] | None = None,
         allergies: Any = "empty", site: str | None = None) -> dict[str, Any]:
    """order-select with ``drafts`` (id, medication); ``selected``: the ids selected
    (every draft with an id by default; left out when a draft has none, every draft then
    counting as selected); ``allergies``: the prefetch's allergy list (an empty search by
    default); ``site``: the PEComa's primary site, as the project codes it
    (``site-lung``; the example's soft-tissue site by default)."""
    bundle = example(PATIENT)
    for entry in bundle["entry"]:
        if site is not None and entry["resource"].get("id") == "pecoma-diagnosis":
            entry["resource"]["bodySite"] = [{"coding": [{"system": PECOMA, "code": site}]}]
    pid = patient_id(bundle)
    entries = []
    for rid, med in drafts:
        draft: dict[str, Any] = {"resourceType": "MedicationRequest", "status": "draft",
                                 "intent": "order", "subject": {"reference": f"Patient/{pid}"},
                                 "medicationCodeableConcept": med}
        if rid is not None:
            draft["id"] = rid
        entries.append({"resource": draft})
    prefetch = prefetch_of(bundle)
    if allergies != "empty":
        prefetch["allergies"] = allergies
    body = hook_request("order-select", pid, prefetch=prefetch)
    body["context"]["draftOrders"] = {"resourceType": "Bundle", "type": "collection",
                                      "entry": entries}
    if all(rid is not None for rid, _m in drafts):
        body["context"]["selections"] = [
            f"MedicationRequest/{rid}" for rid in (selected or [r for r, _m in drafts])]
    return body


def first_line_cards(client: TestClient, body: dict[str, Any]) -> list[dict[str, Any]]:
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    return [c for c in r.json()["cards"] if "first line" in c["summary"]]


def deleted(suggestion: dict[str, Any]) -> list[str]:
    return [a["resourceId"] for a in suggestion["actions"] if a["type"] == "delete"]


def created(suggestion: dict[str, Any]) -> list[dict[str, Any]]:
    return [a["resource"] for a in suggestion["actions"] if a["type"] == "create"]


def sirolimus_proposal(resource: dict[str, Any]) -> bool:
    named = resource["medicationCodeableConcept"]["text"]
    return resource["intent"] == "proposal" and named.startswith("sirolimus")


@pytest.mark.parametrize(("anthracycline", "name"), [(EPIRUBICIN, "epirubicin"),
                                                     (DOXORUBICIN, "doxorubicin")],
                         ids=["epirubicin-ifosfamide-S15", "doxorubicin-ifosfamide"])
def test_two_drafts_of_a_regimen_get_one_card_replacing_both_with_one_mtor_draft(
    client: TestClient, anthracycline: dict[str, Any], name: str,
) -> None:
    """An anthracycline and ifosfamide drafted apart are one first line: one card naming
    both drafts, one pre-selected suggestion deleting both and creating one sirolimus
    proposal (never two, never sirolimus beside ifosfamide)."""
    [card] = first_line_cards(client, call([("d1", anthracycline), ("d5", IFOSFAMIDE)]))
    assert card["summary"].startswith(FIRST_LINE)
    assert card["selectionBehavior"] == "at-most-one"
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is True
    assert deleted(suggestion) == ["MedicationRequest/d1", "MedicationRequest/d5"]
    [proposal] = created(suggestion)
    assert sirolimus_proposal(proposal)
    assert (f"{name} (MedicationRequest/d1), ifosfamide (MedicationRequest/d5)"
            in card["detail"])


def test_three_drafts_of_a_regimen_are_deleted_by_one_suggestion(client: TestClient) -> None:
    """Doxorubicin, ifosfamide and dacarbazine drafted apart (three drafts): one card, one
    suggestion deleting the three and creating one mTOR-inhibitor proposal."""
    [card] = first_line_cards(client, call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE),
                                            ("dtic", DACARBAZINE)]))
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo",
                                   "MedicationRequest/dtic"]
    assert len(created(suggestion)) == 1
    for ident in ("MedicationRequest/dox", "MedicationRequest/ifo", "MedicationRequest/dtic"):
        assert ident in card["detail"].replace("\\", "")


def test_a_regimen_beside_an_antiemetic_draft_deletes_the_regimen_only(
    client: TestClient,
) -> None:
    """Ondansetron drafted with the regimen (selected too) is no anticancer drug: it is
    neither part of the line nor deleted; the regimen's two drafts are replaced by one."""
    [card] = first_line_cards(client, call([("d1", EPIRUBICIN), ("anti", ONDANSETRON),
                                            ("d5", IFOSFAMIDE)]))
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1", "MedicationRequest/d5"]
    assert len(created(suggestion)) == 1
    assert "ondansetron" not in card["detail"].lower()


def test_a_regimen_when_the_allergy_list_is_unreadable_gets_one_card_and_no_suggestion(
    client: TestClient,
) -> None:
    """Allergy prefetch null and no FHIR server: nothing is proposed (a drug is proposed
    only from an allergy list read), on one card for the two drafts, saying why."""
    [card] = first_line_cards(client, call([("d1", EPIRUBICIN), ("d5", IFOSFAMIDE)],
                                           allergies=None))
    assert "suggestions" not in card
    assert "No mTOR-inhibitor order is proposed" in card["detail"]


def test_a_regimen_beside_an_mtor_draft_gets_one_card_and_no_suggestion(
    client: TestClient,
) -> None:
    """An everolimus draft already in the order set (not selected): no second mTOR
    inhibitor is proposed, on one card for the two chemotherapy drafts."""
    [card] = first_line_cards(client, call(
        [("d1", EPIRUBICIN), ("d5", IFOSFAMIDE), ("evero", EVEROLIMUS)],
        selected=["d1", "d5"]))
    assert "suggestions" not in card
    assert "already holds an mTOR-inhibitor order" in card["detail"]


def test_a_regimen_draft_without_an_id_stays_and_is_said_so(client: TestClient) -> None:
    """One of the two drafts carries no id (no selections: every draft selected): the one
    suggestion deletes the draft it can name, creates one proposal, and its label and the
    card say the other must be removed by hand."""
    [card] = first_line_cards(client, call([("d1", EPIRUBICIN), (None, IFOSFAMIDE)]))
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1"]
    assert len(created(suggestion)) == 1
    assert suggestion["label"].endswith("remove the chemotherapy draft without an id by hand")
    assert "1 of these 2 draft orders carries no id" in card["detail"]
    assert "**Remove the chemotherapy draft without an id by hand.**" in card["detail"]


# --- the order set's drafts not selected, and drafts whose drug is not identified --------
#
# order-select fires per selection: ``selections`` holds the order(s) just selected,
# ``draftOrders`` every draft of the ordering session (CDS Hooks 2.0.1). A clinician
# picking the regimen's agents one at a time sends epirubicin as a draft not selected
# beside ifosfamide selected. The line is the regimen: a replacement deleting only the
# selected draft left epirubicin beside the sirolimus proposal, pre-selected.

LOCAL_ONLY = {"coding": [{"system": "urn:oid:1.2.840.114350.1.13.0.1.7.2.698288",
                          "code": "123456"}]}


@pytest.mark.parametrize(("drafts", "selected", "line"), [
    ([("d1", EPIRUBICIN), ("d5", IFOSFAMIDE)], ["d5"], ["d1", "d5"]),
    ([("d1", EPIRUBICIN), ("d5", IFOSFAMIDE)], ["d1"], ["d1", "d5"]),
    ([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE), ("dtic", DACARBAZINE)], ["dtic"],
     ["dox", "ifo", "dtic"]),
    ([("d1", EPIRUBICIN), ("anti", ONDANSETRON), ("d5", IFOSFAMIDE)], ["anti", "d5"],
     ["d1", "d5"]),
], ids=["ifosfamide-selected-epirubicin-drafted-before", "epirubicin-selected-first",
        "third-agent-selected", "with-an-antiemetic-selected"])
def test_the_drafts_not_selected_of_the_line_are_named_and_replaced_with_it(
    client: TestClient, drafts: list[tuple[str, dict[str, Any]]], selected: list[str],
    line: list[str],
) -> None:
    """A chemotherapy draft of the order set, not selected, beside a selected one is the
    same first line (the regimen drafted one agent at a time): the one card names it, said
    not selected, and the one pre-selected suggestion deletes it with the selected ones
    and creates one sirolimus proposal; never sirolimus beside the other cytotoxic drug.
    Ondansetron is no anticancer drug: never part of the line, selected or not."""
    [card] = first_line_cards(client, call(drafts, selected=selected))
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is True
    assert sorted(deleted(suggestion)) == sorted(f"MedicationRequest/{i}" for i in line)
    [proposal] = created(suggestion)
    assert sirolimus_proposal(proposal)
    detail = card["detail"].replace("\\", "")
    for ident in line:
        said = f"MedicationRequest/{ident}{'' if ident in selected else ', not selected'})"
        assert said in detail
    assert "not among the orders selected" in detail
    assert "ondansetron" not in detail.lower()


def test_a_withdrawn_draft_not_selected_is_no_part_of_the_line(client: TestClient) -> None:
    """An epirubicin draft entered in error (it orders nothing) beside the selected
    ifosfamide is not of the line: not named, not deleted. A doxorubicin draft, not
    selected but ordering its drug, is (doxorubicin with ifosfamide): deleted too."""
    body = call([("gone", EPIRUBICIN), ("d1", DOXORUBICIN), ("d5", IFOSFAMIDE)],
                selected=["d5"])
    body["context"]["draftOrders"]["entry"][0]["resource"]["status"] = "entered-in-error"
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1", "MedicationRequest/d5"]
    assert "MedicationRequest/gone" not in card["detail"].replace("\\", "")


def _unresolved_reference(body: dict[str, Any], at: int) -> dict[str, Any]:
    """The draft at ``at`` made to reference a Medication nobody sent (and no server)."""
    draft = body["context"]["draftOrders"]["entry"][at]["resource"]
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/m9"}
    return body


@pytest.mark.parametrize(("body_of", "why"), [
    (lambda: call([("d1", DOXORUBICIN), ("d5", LOCAL_ONLY)]), "a code pecoma does not know"),
    (lambda: call([("d1", DOXORUBICIN), ("d5", LOCAL_ONLY)], selected=["d1"]),
     "a code pecoma does not know"),
    (lambda: _unresolved_reference(call([("d1", DOXORUBICIN), ("d5", IFOSFAMIDE)],
                                        selected=["d1"]), 1),
     "does not resolve to a Medication"),
    (lambda: call([("d1", DOXORUBICIN), ("d5", {"text": "IFOSFA 2 G"})], selected=["d1"]),
     "it may be ifosfamide"),
    (lambda: call([("d1", DOXORUBICIN), ("d5", {"text": "EVEROL 10 MG TAB"})],
                  selected=["d1"]), "it may be everolimus"),
    (lambda: call([("d1", DOXORUBICIN), ("d5", {"text": "XY-4471 2 g/m2 IV"})],
                  selected=["d1"]), "is written as an investigational product's code"),
], ids=["local-code-selected", "local-code-not-selected", "medication-not-resolved",
        "ifosfamide-cut-short", "everolimus-cut-short", "investigational-code"])
def test_a_draft_not_identified_in_the_order_set_is_named_and_nothing_is_pre_selected(
    client: TestClient, body_of: Any, why: str,
) -> None:
    """Beside a doxorubicin draft, a draft of the order set (selected or not) whose drug
    pecoma cannot identify may be the ifosfamide of the regimen (or an mTOR inhibitor,
    cut short): accepting the replacement leaves it beside the sirolimus proposal. The
    replacement card names it and why, says to check it and remove it by hand, and its
    suggestion, which cannot delete it, is not pre-selected and says so in its label."""
    [card] = first_line_cards(client, body_of())
    [suggestion] = card["suggestions"]
    assert suggestion["isRecommended"] is False
    assert suggestion["label"].endswith("check the draft whose drug pecoma could not identify")
    assert deleted(suggestion) == ["MedicationRequest/d1"]
    detail = card["detail"].replace("\\", "")
    assert "**The suggestion is not pre-selected:**" in detail
    assert "MedicationRequest/d5: " in detail and why in detail
    assert "**Check it, and remove it by hand if it is either.**" in detail


# --- the order set's drafts not selected that say what they are ordered for --------------
#
# A draft not selected is taken into the selected draft's line only when nothing says it
# is ordered for something else (advice follows the facts: the stated reason is one). The
# patient's PEComa is of soft tissue, its metastasis in the lung; the record holds no
# other cancer. Methotrexate 15 mg weekly is the drug of rheumatoid arthritis as much as
# a cytotoxic one; capecitabine, of a colon cancer.

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
METHOTREXATE = {"text": "Methotrexate 15 mg PO weekly"}
CAPECITABINE = {"text": "Capecitabine 1000 mg/m2 PO BID"}


def reason(text: str, system: str | None = None, code: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if system is not None:
        concept["coding"] = [{"system": system, "code": code}]
    return {"reasonCode": [concept]}


def with_reasons(body: dict[str, Any], at: int, reasons: dict[str, Any],
                 condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """The draft at ``at`` given ``reasons``; ``condition``, a Condition of the patient's
    added to the record (a reasonReference's target)."""
    body["context"]["draftOrders"]["entry"][at]["resource"].update(reasons)
    if condition is not None:
        who = {"reference": f"Patient/{body['context']['patientId']}"}
        condition = {**condition, "subject": who}
        body["prefetch"]["conditions"]["entry"].append({"resource": condition})
    return body


RHEUMATOID = {"resourceType": "Condition", "id": "ra", "clinicalStatus": {"coding": [{
    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]},
    "code": {"text": "Rheumatoid arthritis", "coding": [{"system": ICD10CM, "code": "M06.9"}]}}


@pytest.mark.parametrize(("medication", "reasons", "condition"), [
    (METHOTREXATE, reason("Rheumatoid arthritis", ICD10CM, "M06.9"), None),
    (METHOTREXATE, {"reasonReference": [{"reference": "Condition/ra"}]}, RHEUMATOID),
    (CAPECITABINE, reason("Malignant neoplasm of colon", ICD10CM, "C18.9"), None),
    (CAPECITABINE, reason("Colon cancer"), None),
], ids=["methotrexate-rheumatoid-arthritis-icd10", "methotrexate-rheumatoid-arthritis-condition",
        "capecitabine-colon-cancer-icd10-no-condition", "capecitabine-colon-cancer-named"])
def test_a_draft_not_selected_ordered_for_something_else_stays_out_of_the_line(
    client: TestClient, medication: dict[str, Any], reasons: dict[str, Any],
    condition: dict[str, Any] | None,
) -> None:
    """A draft not selected whose reason names a disease that is no cancer (rheumatoid
    arthritis, coded ICD-10-CM or recorded as a Condition it references) or another
    cancer (colon, by code or name, the record holding no Condition of it) is ordered for
    that, not for the PEComa: no part of the doxorubicin line, never deleted, never named
    "of this line". The selected doxorubicin alone is replaced, pre-selected as before.
    The PEComa is the lung's: a colon cancer is surely another organ's (beside a PEComa of
    a region, the soft tissues, it might be the PEComa coded where it lies)."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("other", medication)], selected=["dox"],
                             site="site-lung"), 1, reasons, condition)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is True
    detail = card["detail"].replace("\\", "")
    assert "MedicationRequest/other" not in detail
    assert "not among the orders selected" not in detail


@pytest.mark.parametrize("reasons", [
    reason("Rheumatoid arthritis", SNOMED, "69896004"),
    {"reasonReference": [{"reference": "Condition/not-held"}]},
], ids=["snomed-code-only", "condition-not-held"])
def test_a_draft_not_selected_whose_reason_cannot_be_read_is_named_and_kept(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """A draft not selected whose reason pecoma cannot read (a SNOMED CT code, which
    pecoma does not decide on; a Condition the record does not hold) may be of the line,
    or ordered for something else: unknown, not absent. The card names it as possibly of
    the line; the suggestion does not delete it, says to check it, and is not
    pre-selected."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("mtx", METHOTREXATE)], selected=["dox"]),
                        1, reasons)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is False
    assert suggestion["label"].endswith("check the draft whose reason pecoma could not read")
    detail = card["detail"].replace("\\", "")
    assert "**Possibly of this line:** a draft of the order set, not selected" in detail
    assert "MedicationRequest/mtx, chemotherapy: " in detail
    assert "remove it by hand if it is of this line" in detail
    assert "not among the orders selected" not in detail


@pytest.mark.parametrize("reasons", [
    {"reasonReference": [{"reference": "Condition/pecoma-diagnosis"}]},
    reason("PEComa, metastatic", "http://terminology.hl7.org/CodeSystem/icd-o-3", "8714/3"),
    reason("Perivascular epithelioid cell tumour"),
], ids=["the-pecoma-condition", "icd-o-3-8714", "named"])
def test_a_draft_not_selected_ordered_for_the_pecoma_is_of_the_line(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """A draft not selected whose reason is the PEComa (its Condition, ICD-O-3 8714, its
    name) is of the line (guard: the reason reading keeps the regimen drafted one agent
    at a time): deleted with the selected one, pre-selected."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"]),
                        1, reasons)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo"]
    assert suggestion["isRecommended"] is True


@pytest.mark.parametrize("status", ["completed", "stopped", "active", "on-hold"])
def test_an_order_not_selected_that_is_no_draft_is_never_deleted(
    client: TestClient, status: str,
) -> None:
    """draftOrders holds unsigned orders; an entry not selected whose status is no
    ``draft`` (an EHR breaking the contract) is an order signed or ended, not one of
    this session to take back: never of the line, never deleted."""
    body = call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"])
    body["context"]["draftOrders"]["entry"][1]["resource"]["status"] = status
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert "MedicationRequest/ifo" not in card["detail"].replace("\\", "")


def test_a_draft_not_identified_ordered_for_something_else_is_not_named(
    client: TestClient,
) -> None:
    """A draft whose drug pecoma cannot identify, not selected, whose reason is rheumatoid
    arthritis (ICD-10-CM M06.9) is ordered for that: not possibly of the line, so the
    replacement does not wait on it and stays pre-selected."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("d5", LOCAL_ONLY)], selected=["dox"]),
                        1, reason("Rheumatoid arthritis", ICD10CM, "M06.9"))
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is True
    assert "MedicationRequest/d5" not in card["detail"].replace("\\", "")


def icd10cm(code: str) -> dict[str, Any]:
    return {"reasonCode": [{"coding": [{"system": ICD10CM, "code": code}]}]}


@pytest.mark.parametrize(("site", "code"), [
    ("site-gastrointestinal", "C18.9"), ("site-gastrointestinal", "C16.9"),
    ("site-gastrointestinal", "C25.0"), ("site-broad-ligament", "C57.1"),
    ("site-broad-ligament", "C57.10"), ("site-other-gynecologic", "C56.9"),
    ("site-other-gynecologic", "C56.1"), ("site-uterus", "C55"), ("site-kidney", "C64.1"),
    ("site-soft-tissue", "C49.9"), ("site-soft-tissue", "C49.4"),
    ("site-retroperitoneum", "C48.0"),
], ids=["gi-colon", "gi-stomach", "gi-pancreas", "broad-ligament", "broad-ligament-cm-side",
        "ovary", "ovary-cm-right", "uterus", "kidney-cm-right", "soft-tissue",
        "soft-tissue-abdomen", "retroperitoneum"])
def test_a_draft_not_selected_for_a_malignancy_of_the_pecomas_own_organ_is_of_the_line(
    client: TestClient, site: str, code: str,
) -> None:
    """A draft not selected whose reason is the ICD-10(-CM) code of a malignancy of the
    PEComa's own organ (a colon code beside a gastrointestinal PEComa, C57.1 beside a
    broad-ligament one, C56 beside an ovarian one, C49 beside a soft-tissue one, C48.0
    beside a retroperitoneal one: the organ as the ICD-O-3 topography table reads the
    site) names the PEComa: of the line, deleted with the selected doxorubicin. Read as
    another cancer, the ifosfamide stayed, unnamed, beside the pre-selected sirolimus:
    the half line nothing advises."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"],
                             site=site), 1, icd10cm(code))
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo"]
    assert suggestion["isRecommended"] is True


def _possibly_of_the_line(card: dict[str, Any]) -> None:
    """The draft ``ifo`` named as possibly of the line, kept, the suggestion not
    pre-selected."""
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is False
    detail = card["detail"].replace("\\", "")
    assert "**Possibly of this line:** a draft of the order set, not selected" in detail
    assert "MedicationRequest/ifo, chemotherapy: " in detail


@pytest.mark.parametrize(("site", "code"), [
    ("site-other", "C55"), ("site-other", "C18.9"), ("site-soft-tissue", "C18.9"),
    ("site-soft-tissue", "C34.9"), ("site-gastrointestinal", "C34.9"),
    ("site-retroperitoneum", "C64.9"), ("site-lung", "C76.2"), ("site-lung", "C57.9"),
    ("site-lung", "C49.9"), ("site-uterus", "C48.0"),
], ids=["other-uterus-code", "other-colon-code", "soft-tissue-colon", "soft-tissue-lung",
        "gi-lung", "retroperitoneum-kidney", "lung-ill-defined-abdomen",
        "lung-female-genital-unspecified", "lung-soft-tissue-code",
        "uterus-retroperitoneum-code"])
def test_a_draft_not_selected_for_a_cancer_that_may_be_the_pecoma_is_named_and_kept(
    client: TestClient, site: str, code: str,
) -> None:
    """A reason that is a cancer code pecoma cannot tell from the PEComa is "cannot tell",
    not "another cancer": beside a PEComa of a site that is no one organ ('other', the
    soft tissues, the gastrointestinal tract, the retroperitoneum, where a PEComa may be
    coded by the organ it lies by), or a code of no mapped organ (C76, C57.9), or a soft-
    tissue or retroperitoneal code (where a PEComa of any organ may be billed). The draft
    is named, kept, and the suggestion not pre-selected (read as another cancer, it was
    left unnamed beside a pre-selected sirolimus)."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"],
                             site=site), 1, icd10cm(code))
    [card] = first_line_cards(client, body)
    _possibly_of_the_line(card)


@pytest.mark.parametrize("reasons", [
    {"reasonCode": {"coding": [{"system": ICD10CM, "code": "M06.9"}]}},
    {"reasonReference": "Condition/ra"},
    {"reasonReference": {"reference": "Condition/ra"}},
    {"reasonCode": "M06.9"},
    {"reasonCode": None},
], ids=["reason-code-object", "reason-reference-string", "reason-reference-object",
        "reason-code-string", "reason-code-null"])
def test_a_draft_not_selected_whose_reason_is_no_list_is_named_and_kept(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """``reasonCode`` and ``reasonReference`` are arrays (R4, 0..*); a reason sent in
    another shape says something pecoma cannot read, not that there is none (read as no
    reason, the draft, ordered for rheumatoid arthritis, was deleted by the pre-selected
    suggestion): named with the value as sent, kept, not pre-selected."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"]),
                        1, reasons, RHEUMATOID)
    [card] = first_line_cards(client, body)
    _possibly_of_the_line(card)
    assert "not a list" in card["detail"]


@pytest.mark.parametrize("code", ["Z51.11", "Z51.12"])
def test_a_draft_not_selected_for_an_encounter_for_chemotherapy_is_of_the_line(
    client: TestClient, code: str,
) -> None:
    """Z51.11 (encounter for antineoplastic chemotherapy, the usual associated diagnosis of
    a US chemotherapy order) and Z51.12 (immunotherapy) name no disease the order is for:
    as no reason stated, the draft is of the line, deleted with the selected one."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"]),
                        1, icd10cm(code))
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo"]
    assert suggestion["isRecommended"] is True


def test_an_encounter_for_chemotherapy_beside_another_disease_keeps_the_draft_out(
    client: TestClient,
) -> None:
    """Z51.11 says nothing of what the chemotherapy is for: beside rheumatoid arthritis
    (M06.9) the order is for that, not of the line, never deleted."""
    reasons = {"reasonCode": [{"coding": [{"system": ICD10CM, "code": "Z51.11"}]},
                              {"coding": [{"system": ICD10CM, "code": "M06.9"}]}]}
    body = with_reasons(call([("dox", DOXORUBICIN), ("mtx", METHOTREXATE)], selected=["dox"]),
                        1, reasons)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is True
    assert "MedicationRequest/mtx" not in card["detail"].replace("\\", "")


# --- a selected draft whose every reason names something else ------------------------
#
# The first-line warning says the drafted drug departs from the guideline's first line
# for advanced PEComa. A drug ordered, by every reason the order gives, for a disease that
# is no cancer (methotrexate for rheumatoid arthritis) is no line of the PEComa's: the
# warning, and a suggestion deleting the order, would be false. One ordered for another
# cancer the record does not hold (capecitabine for colon cancer beside a lung PEComa) is
# that cancer's line: the card says so and proposes no replacement (as for a cancer the
# record holds). A reason pecoma cannot read keeps the warning (unknown is not absent).


@pytest.mark.parametrize(("reasons", "condition"), [
    (reason("Rheumatoid arthritis", ICD10CM, "M06.9"), None),
    ({"reasonReference": [{"reference": "Condition/ra"}]}, RHEUMATOID),
], ids=["icd10-code", "condition-referenced"])
def test_a_selected_draft_ordered_for_no_cancer_gets_no_first_line_card(
    client: TestClient, reasons: dict[str, Any], condition: dict[str, Any] | None,
) -> None:
    """Methotrexate selected, ordered for rheumatoid arthritis: no first-line card, no
    suggestion deleting it; and the record is read (no card saying it could not be
    checked: the allergy list is empty, methotrexate no drug of the guideline's)."""
    body = with_reasons(call([("mtx", METHOTREXATE)], site="site-lung"), 0, reasons,
                        condition)
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["cards"] == []


def test_a_selected_draft_not_identified_ordered_for_no_cancer_gets_no_first_line_card(
    client: TestClient,
) -> None:
    """A selected draft whose drug pecoma cannot identify, ordered for rheumatoid
    arthritis: no "if it is chemotherapy" first-line warning (the allergy check still
    says it could not check the drug)."""
    body = with_reasons(call([("d5", LOCAL_ONLY)], site="site-lung"), 0,
                        reason("Rheumatoid arthritis", ICD10CM, "M06.9"))
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    assert not any("mTOR inhibitor first" in c["summary"] for c in r.json()["cards"])


@pytest.mark.parametrize("reasons", [
    reason("Malignant neoplasm of colon", ICD10CM, "C18.9"),
    reason("Colon cancer"),
], ids=["icd10-code", "named"])
def test_a_selected_draft_ordered_for_another_cancer_is_not_replaced(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """Capecitabine selected, ordered for a colon cancer beside a lung PEComa: the card
    says the draft is ordered for another cancer and proposes nothing (never deletes
    another cancer's order)."""
    body = with_reasons(call([("cap", CAPECITABINE)], site="site-lung"), 0, reasons)
    [card] = first_line_cards(client, body)
    assert "suggestions" not in card or not card["suggestions"]
    detail = card["detail"].replace("\\", "")
    assert "ordered for another cancer" in detail and "not replaced" in detail


def test_a_selected_draft_whose_reason_says_nothing_readable_keeps_the_warning(
    client: TestClient,
) -> None:
    """No reason (and no other cancer in the record): nothing says the drug is for
    anything but the PEComa, its first line: the warning and its suggestion stay (guard
    of the rule above)."""
    body = call([("mtx", METHOTREXATE)], site="site-lung")
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/mtx"]


@pytest.mark.parametrize(("reasons", "shown"), [
    (reason("Rheumatoid arthritis", SNOMED, "69896004"), "Rheumatoid arthritis"),
    (reason("Rheumatoid arthritis"), "Rheumatoid arthritis"),
    ({"reasonReference": [{"reference": "Condition/not-held"}]}, "Condition/not-held"),
    ({"reasonReference": [{"reference": "Condition/pecoma-diagnosis"}],
      **reason("Rheumatoid arthritis", ICD10CM, "M06.9")}, "Rheumatoid arthritis"),
], ids=["snomed-code-only", "named-only", "condition-not-held",
        "pecoma-condition-and-rheumatoid-arthritis"])
def test_a_selected_draft_whose_reason_cannot_be_placed_is_asked_about(
    client: TestClient, reasons: dict[str, Any], shown: str,
) -> None:
    """Methotrexate selected whose reason pecoma cannot place (rheumatoid arthritis in
    words or SNOMED CT only, a Condition the record does not hold) or that names the
    PEComa and rheumatoid arthritis: it may be the arthritis's methotrexate. Unknown is
    not absent: the card is "perhaps first line", shows the reason, asks what the draft
    is for, and proposes nothing (a suggestion deleting it had been pre-selected, the
    reason never shown), as a draft not selected with such reasons is never deleted."""
    body = with_reasons(call([("mtx", METHOTREXATE)], site="site-lung"), 0, reasons)
    [card] = first_line_cards(client, body)
    assert "perhaps first line" in card["summary"]
    assert not card.get("suggestions")
    detail = card["detail"].replace("\\", "")
    assert "**What is it for?**" in detail and shown in detail
    assert "**No mTOR-inhibitor order is proposed:** what a draft of this line" in detail


# --- reasons naming the PEComa and something else -------------------------------------
#
# A draft's reasons that name the PEComa and another disease (rheumatoid arthritis, a
# colon cancer beside a kidney PEComa) cannot tell whether it is of the line: it may be
# the rheumatoid arthritis's methotrexate, written with the cancer's diagnosis beside.
# Read by "any reason naming the PEComa wins", it was deleted by the pre-selected
# suggestion. Two codings of one reason that disagree are read as two reasons are.

PECOMA_REASON = {"reference": "Condition/pecoma-diagnosis"}
RA_CODE = {"coding": [{"system": ICD10CM, "code": "M06.9", "display": "Rheumatoid arthritis"}]}
KIDNEY_CODE = {"system": ICD10CM, "code": "C64.9"}
COLON_CODE = {"system": ICD10CM, "code": "C18.9"}


@pytest.mark.parametrize(("site", "reasons"), [
    (None, {"reasonReference": [PECOMA_REASON], "reasonCode": [RA_CODE]}),
    ("site-kidney", {"reasonCode": [{"coding": [KIDNEY_CODE]}, {"coding": [COLON_CODE]}]}),
    ("site-kidney", {"reasonCode": [{"coding": [KIDNEY_CODE, COLON_CODE]}]}),
    ("site-kidney", {"reasonCode": [{"coding": [KIDNEY_CODE]}, RA_CODE]}),
    ("site-lung", {"reasonCode": [{"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "8714/3"},
        COLON_CODE]}]}),
], ids=["pecoma-condition-and-rheumatoid-arthritis", "kidney-and-colon-two-reasons",
        "kidney-and-colon-one-reason-two-codings", "kidney-and-rheumatoid-arthritis",
        "pecoma-morphology-and-colon-one-reason"])
def test_a_draft_not_selected_for_the_pecoma_and_something_else_is_named_and_kept(
    client: TestClient, site: str | None, reasons: dict[str, Any],
) -> None:
    """A draft not selected whose reasons name the PEComa (its Condition, a code of its
    own organ, ICD-O-3 8714/3) and another disease (rheumatoid arthritis, M06.9; a colon
    cancer, C18.9, beside a kidney or lung PEComa) may be of the line or ordered for the
    other: cannot tell. Named as possibly of the line, not deleted, the suggestion not
    pre-selected (it had been deleted, pre-selected; as two codings of one reason, kept
    out unnamed)."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"],
                             site=site), 1, reasons)
    [card] = first_line_cards(client, body)
    _possibly_of_the_line(card)


@pytest.mark.parametrize("reasons", [
    reason("Renal cell carcinoma"),
    reason("Renal cell carcinoma", ICD10CM, "C64.9"),
], ids=["named", "kidney-code-named"])
def test_a_draft_not_selected_for_another_tumour_type_of_the_same_organ_stays_out(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """Beside a kidney PEComa, a draft not selected ordered for a renal cell carcinoma
    (named, or coded C64.9 with that name) is for another cancer: a tumour type other
    than PEComa is no PEComa whatever its organ. It stays out, unnamed, never deleted;
    the doxorubicin alone is replaced, pre-selected (it had been taken into the line and
    deleted)."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"],
                             site="site-kidney"), 1, reasons)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox"]
    assert suggestion["isRecommended"] is True
    assert "MedicationRequest/ifo" not in card["detail"].replace("\\", "")


def test_a_draft_not_selected_for_a_kidney_cancer_named_by_site_is_of_the_line(
    client: TestClient,
) -> None:
    """Guard: beside a kidney PEComa, "Malignant neoplasm of kidney" names no tumour type,
    only the PEComa's organ: the PEComa coded where it lies, of the line, deleted with
    the selected doxorubicin."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"],
                             site="site-kidney"), 1, reason("Malignant neoplasm of kidney"))
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo"]
    assert suggestion["isRecommended"] is True


# --- drafts that cannot be told apart, or read ------------------------------------------


def test_two_different_drafts_under_one_id_refuse_the_call(client: TestClient) -> None:
    """Two different drafts both ``MedicationRequest/d1`` (doxorubicin, and methotrexate
    for rheumatoid arthritis): a selection, and a ``delete``, name either. The suggestion
    had deleted MedicationRequest/d1 twice. A 400 naming the second entry's id, as for two
    drafts under one fullUrl."""
    body = with_reasons(call([("d1", DOXORUBICIN), ("d1", METHOTREXATE)]), 1,
                        reason("Rheumatoid arthritis", ICD10CM, "M06.9"))
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["path"] == "context.draftOrders.entry[1].resource.id"
    assert "entry[0] is another resource under MedicationRequest/d1" in error["rule"]


def test_one_draft_sent_twice_is_one_draft(client: TestClient) -> None:
    """Guard: the same doxorubicin draft sent twice under its id is one draft, named and
    deleted once."""
    [card] = first_line_cards(client, call([("d1", DOXORUBICIN), ("d1", DOXORUBICIN)]))
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1"]


MODIFIER = [{"url": "http://example.org/do-not-dispense-trial-placebo", "valueBoolean": True}]


def test_a_selected_draft_carrying_a_modifier_extension_is_not_read(
    client: TestClient,
) -> None:
    """A doxorubicin draft carrying a modifierExtension pecoma does not understand (it may
    change what the order means: a placebo arm, not to dispense) is not read as a plain
    doxorubicin order: no suggestion deletes it; the card says its drug could not be
    identified, and why (it had been deleted by a pre-selected suggestion)."""
    body = call([("d1", DOXORUBICIN)])
    body["context"]["draftOrders"]["entry"][0]["resource"]["modifierExtension"] = MODIFIER
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    got = r.json()["cards"]
    assert not [s for c in got for s in c.get("suggestions", [])]
    assert any("modifierExtension pecoma does not understand" in c["detail"] for c in got)
    assert not any(c["summary"].startswith(FIRST_LINE) for c in got)


def test_a_draft_not_selected_carrying_a_modifier_extension_is_named_and_kept(
    client: TestClient,
) -> None:
    """Beside the selected doxorubicin, an ifosfamide draft carrying a modifierExtension
    pecoma does not understand is named as a draft pecoma could not read, never deleted,
    the suggestion not pre-selected (it had been deleted with the doxorubicin)."""
    body = call([("d1", DOXORUBICIN), ("d5", IFOSFAMIDE)], selected=["d1"])
    body["context"]["draftOrders"]["entry"][1]["resource"]["modifierExtension"] = MODIFIER
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1"]
    assert suggestion["isRecommended"] is False
    detail = card["detail"].replace("\\", "")
    assert "MedicationRequest/d5: it carries a modifierExtension pecoma does not understand" \
        in detail


def test_a_selected_draft_whose_bundle_entry_carries_a_modifier_extension_is_not_read(
    client: TestClient,
) -> None:
    """A modifierExtension on the draft's Bundle entry, not on the draft, modifies the
    entry's resource just as well (FHIR: never ignored when not understood): the
    doxorubicin draft is named as not read, and no suggestion deletes it (it had been
    read as a plain doxorubicin order and deleted by a pre-selected suggestion)."""
    body = call([("d1", DOXORUBICIN)])
    body["context"]["draftOrders"]["entry"][0]["modifierExtension"] = MODIFIER
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    got = r.json()["cards"]
    assert not [s for c in got for s in c.get("suggestions", [])]
    assert any("modifierExtension pecoma does not understand" in c["detail"] for c in got)
    assert not any(c["summary"].startswith(FIRST_LINE) for c in got)


def test_a_draft_not_selected_whose_bundle_entry_carries_a_modifier_extension_is_kept(
    client: TestClient,
) -> None:
    """Beside the selected doxorubicin, an ifosfamide draft whose Bundle entry carries a
    modifierExtension is named as a draft pecoma could not read and never deleted; the
    suggestion is not pre-selected."""
    body = call([("d1", DOXORUBICIN), ("d5", IFOSFAMIDE)], selected=["d1"])
    body["context"]["draftOrders"]["entry"][1]["modifierExtension"] = MODIFIER
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/d1"]
    assert suggestion["isRecommended"] is False
    detail = card["detail"].replace("\\", "")
    assert "MedicationRequest/d5: it carries a modifierExtension pecoma does not understand" \
        in detail


def sirolimus_allergy(pid: str) -> dict[str, Any]:
    """The prefetch's allergy search holding one active, confirmed intolerance of
    sirolimus (RxNorm 35302)."""
    entry = {"resourceType": "AllergyIntolerance", "id": "al1",
             "patient": {"reference": f"Patient/{pid}"},
             "clinicalStatus": {"coding": [{
                 "system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                 "code": "active"}]},
             "verificationStatus": {"coding": [{
                 "system": "http://terminology.hl7.org/CodeSystem/"
                           "allergyintolerance-verification", "code": "confirmed"}]},
             "category": ["medication"],
             "code": {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}}
    return {"resourceType": "Bundle", "type": "searchset", "total": 1,
            "entry": [{"resource": entry}]}


@pytest.mark.parametrize("where", ["entry", "resource", "dosage"])
def test_a_draft_carrying_a_modifier_extension_is_still_checked_against_the_allergy_list(
    client: TestClient, where: str,
) -> None:
    """A "Sirolimus 2 mg" draft carrying a modifierExtension (on its Bundle entry, on
    itself or on its dosage) beside a recorded, active, confirmed sirolimus intolerance.
    The extension may change what the order means (pecoma still does not read the order
    for the first-line advice), but not which drug it names: the drug is sirolimus, and
    the record rules sirolimus out (I15). The critical intolerance card is due, as for the
    same draft without the extension; it had got only a warning that its drug was not
    identified, a recorded intolerance let pass at warning level. No card beside it says
    the drug could not be identified. Beside an intolerance of doxorubicin only, nothing
    rules sirolimus out: no critical card, and the order, not read, keeps the warning
    that it could not be checked (what the extension means is unknown)."""
    pid = patient_id(example(PATIENT))
    other = sirolimus_allergy(pid)
    other["entry"][0]["resource"]["code"] = DOXORUBICIN
    for allergies, ruled_out in ((sirolimus_allergy(pid), True), (other, False)):
        body = call([("d1", {"text": "Sirolimus 2 mg"})], allergies=allergies)
        entry = body["context"]["draftOrders"]["entry"][0]
        if where == "entry":
            entry["modifierExtension"] = MODIFIER
        elif where == "resource":
            entry["resource"]["modifierExtension"] = MODIFIER
        else:
            entry["resource"]["dosageInstruction"] = [{"text": "2 mg daily",
                                                       "modifierExtension": MODIFIER}]
        r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
        assert r.status_code == 200, r.text
        got = r.json()["cards"]
        critical = [c["summary"] for c in got if c["indicator"] == "critical"]
        assert not [s for c in got for s in c.get("suggestions", [])]
        if ruled_out:
            assert critical == ["Draft order of sirolimus: the record lists an allergy or "
                                "intolerance to sirolimus"]
            assert not any("not identified" in c["summary"] for c in got)
        else:
            assert critical == []
            assert any(c["summary"] == "Draft order's drug not identified: check it against "
                       "the allergy list" and "modifierExtension pecoma does not understand"
                       in c["detail"] for c in got)


@pytest.mark.parametrize("intent", [True, "orders", None, 1])
def test_a_draft_whose_intent_is_no_intent_code_refuses_the_call(
    client: TestClient, intent: Any,
) -> None:
    """``intent`` is an R4 code (proposal, plan, order, ...); ``true``, a misspelt code,
    null or a number is an order pecoma cannot read: a 400 naming the field, as for
    ``status`` (it had been accepted silently)."""
    body = call([("d1", DOXORUBICIN)])
    body["context"]["draftOrders"]["entry"][0]["resource"]["intent"] = intent
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["path"] == "context.draftOrders.entry[0].resource.intent"


@pytest.mark.parametrize("rid", [5, None, ["d2"]], ids=["number", "null", "list"])
def test_a_draft_whose_id_is_no_string_refuses_the_call(client: TestClient, rid: Any) -> None:
    """A FHIR ``id`` is a string: two drafts both ``"id": 5`` (ifosfamide, and
    methotrexate for rheumatoid arthritis) had passed the repeated-id check, the card
    calling "MedicationRequest/5" of a line "replaced, whole" while its label said to
    remove it by hand. A 400 naming the field, as for ``intent``."""
    body = call([("d1", DOXORUBICIN), ("d2", IFOSFAMIDE)], selected=["d1"])
    body["context"]["draftOrders"]["entry"][1]["resource"]["id"] = rid
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 400, r.text
    [error] = r.json()["errors"]
    assert error["path"] == "context.draftOrders.entry[1].resource.id"
    assert "FHIR id" in error["rule"]


def test_a_draft_whose_medication_carries_a_modifier_extension_says_so(
    client: TestClient,
) -> None:
    """A doxorubicin draft naming a Medication (in the draft orders' Bundle) that carries
    a modifierExtension: the Medication has a name, so the card must not say it has
    "neither a code nor a text"; it names the Medication's modifierExtension, and
    nothing deletes the draft."""
    body = call([("d1", DOXORUBICIN)])
    draft = body["context"]["draftOrders"]["entry"][0]["resource"]
    del draft["medicationCodeableConcept"]
    draft["medicationReference"] = {"reference": "Medication/m1"}
    body["context"]["draftOrders"]["entry"].append({"resource": {
        "resourceType": "Medication", "id": "m1", "code": {"text": "Doxorubicin"},
        "modifierExtension": MODIFIER}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    got = r.json()["cards"]
    assert not [s for c in got for s in c.get("suggestions", [])]
    text = " ".join(c["detail"] for c in got).replace("\\", "")
    assert ("the Medication it names (Medication/m1) carries a modifierExtension pecoma "
            "does not understand") in text
    assert "neither a code nor a text" not in text


def test_an_mtor_draft_carrying_a_modifier_extension_gets_no_second_one_beside_it(
    client: TestClient,
) -> None:
    """Beside the selected doxorubicin, the order set's sirolimus draft carries a
    modifierExtension: its drug is sirolimus (only what the order means is not read), so
    it may be the mTOR-inhibitor order already: nothing is proposed beside it (a second
    sirolimus draft had been offered: a duplicate order one click away)."""
    body = call([("d1", DOXORUBICIN), ("d2", {"text": "Sirolimus 2 mg tablet"})],
                selected=["d1"])
    body["context"]["draftOrders"]["entry"][1]["resource"]["modifierExtension"] = MODIFIER
    [card] = first_line_cards(client, body)
    assert not card.get("suggestions")
    assert ("the order set already holds an mTOR-inhibitor order (MedicationRequest/d2)"
            in card["detail"].replace("\\", ""))


@pytest.mark.parametrize("reasons", [
    {"reasonReference": [{"reference": "Condition/pecoma-diagnosis"},
                         {"reference": "Condition/metastasis-1"}]},
    {"reasonReference": [{"reference": "Condition/metastasis-1"}]},
    reason("Distant metastasis of PEComa", "http://terminology.hl7.org/CodeSystem/icd-o-3",
           "8714/6"),
], ids=["pecoma-and-its-metastasis", "its-metastasis", "icdo3-metastatic-pecoma"])
def test_a_draft_not_selected_for_the_pecomas_own_metastasis_is_of_the_line(
    client: TestClient, reasons: dict[str, Any],
) -> None:
    """Ifosfamide not selected, ordered for the PEComa and its lung metastasis (the
    record's Condition/metastasis-1, coded as the PEComa's distant metastasis, ICD-O-3
    8714/6), or for that metastasis alone: every reason is the PEComa's. It joins the
    selected doxorubicin's line, deleted with it, pre-selected (it had been "possibly of
    this line", the regimen replaced by half)."""
    body = with_reasons(call([("dox", DOXORUBICIN), ("ifo", IFOSFAMIDE)], selected=["dox"]),
                        1, reasons)
    [card] = first_line_cards(client, body)
    [suggestion] = card["suggestions"]
    assert deleted(suggestion) == ["MedicationRequest/dox", "MedicationRequest/ifo"]
    assert "Possibly of this line" not in card["detail"]


@pytest.mark.parametrize(("medication", "reasons", "shown"), [
    (METHOTREXATE, reason("Leiomyoma of uterus", ICD10CM, "D25.9"), "Leiomyoma of uterus"),
    (METHOTREXATE, reason("Vestibular schwannoma"), "Vestibular schwannoma"),
    (DOXORUBICIN, reason("Uterine leiomyoma"), "Uterine leiomyoma"),
], ids=["leiomyoma-d25", "schwannoma-named", "doxorubicin-leiomyoma-named"])
def test_a_selected_draft_ordered_for_a_benign_tumour_is_asked_about(
    client: TestClient, medication: dict[str, Any], reasons: dict[str, Any], shown: str,
) -> None:
    """A chemotherapy draft selected for a leiomyoma of the uterus (D25.9) or a
    schwannoma: no anticancer drug is given for a benign tumour, and a PEComa is often
    first taken for a leiomyoma (S24, S25), so the order may well be the PEComa's first
    line. Neither "another cancer" (a benign tumour is none) nor silence (the warning
    that the guideline puts an mTOR inhibitor first would be lost): the card is "perhaps
    first line", shows the reason, asks what the draft is for, and proposes nothing."""
    body = with_reasons(call([("d1", medication)], site="site-uterus"), 0, reasons)
    [card] = first_line_cards(client, body)
    assert "perhaps first line" in card["summary"]
    assert not card.get("suggestions")
    detail = card["detail"].replace("\\", "")
    assert "**What is it for?**" in detail and shown in detail
    assert "another cancer" not in detail
