"""CDS Hooks: the lines of systemic therapy already given, however the EHR sends them.

Which line a drug would be depends on the lines already given: conventional chemotherapy
is a warning (S13, S14) only as the first line of advanced disease. So a medication part of
the record the EHR could not send, or a medication record naming its drug by a reference
to a Medication that nobody sent, leaves the history unknown, not empty: the warning says
it holds only if no line was given, nothing is proposed, and every recommendation naming
a drug is conditional. A Medication the search ``_include``s, or that the allowed FHIR
server gives by its id, is read like any other.

The patient of ``metastatic-lung-metachronous`` has metastatic PEComa, mTOR inhibitors
recorded available and not contraindicated, and no systemic line in the example: a
sirolimus order (active, 2026) added to the record is a first line already given, so a
doxorubicin draft is no longer a first line and gets no warning.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.fhir.codes import ext
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT, PATIENT_VIEW
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import (
    as_searched,
    bearer,
    example,
    fhir_server,
    hook_request,
    patient_id,
    prefetch_of,
)

ON = dt.date(2026, 11, 28)
PATIENT = "metastatic-lung-metachronous"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
MCODE = Path(__file__).parent / "data" / "mcode"

SIROLIMUS = {"resourceType": "Medication", "id": "sir-1",
             "code": {"coding": [{"system": RXNORM, "code": "35302"}]}}  # RxNorm only
DOXORUBICIN_DRAFT = {"medicationCodeableConcept": {"coding": [{"system": RXNORM,
                                                               "code": "3639"}]}}
OUTCOME = {"resourceType": "OperationOutcome",
           "issue": [{"severity": "error", "code": "exception"}]}


def _client(tmp: Path, fhir_servers: tuple[str, ...] = ()) -> TestClient:
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'registry.db'}",
        cds=CdsSettings(fhir_servers=fhir_servers)), today=lambda: ON), base_url="http://localhost")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return _client(tmp_path_factory.mktemp("history"))


def with_sirolimus_line(*, medication_sent: bool) -> dict[str, Any]:
    """The example patient's record with an active sirolimus order by reference."""
    bundle = copy.deepcopy(example(PATIENT))
    pid = patient_id(bundle)
    bundle["entry"].append({"resource": {
        "resourceType": "MedicationRequest", "id": "mr-sirolimus", "status": "active",
        "intent": "order", "subject": {"reference": f"Patient/{pid}"},
        "authoredOn": "2026-03-02", "medicationReference": {"reference": "Medication/sir-1"}}})
    if medication_sent:
        bundle["entry"].append({"resource": copy.deepcopy(SIROLIMUS)})
    return bundle


def order_select(prefetch: dict[str, Any] | None, pid: str, **extra: Any) -> dict[str, Any]:
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             **DOXORUBICIN_DRAFT}
    body = hook_request("order-select", pid, **extra)
    if prefetch is not None:
        body["prefetch"] = prefetch
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    return body


def cards_of(client: TestClient, body: dict[str, Any], service: str = ORDER_SELECT) -> Any:
    r = client.post(f"/cds-services/{service}", json=body)
    assert r.status_code == 200, r.text
    return r.json()["cards"]


def assert_conditional_warning(card: dict[str, Any]) -> None:
    """The first-line warning, said to hold only if no line was given, with no order."""
    assert card["indicator"] == "warning"
    assert card["source"]["topic"]["code"] == "ALERT-CHEMO-BEFORE-MTOR"
    assert "perhaps first line" in card["summary"]
    assert "**Conditional:** this holds only if the patient has had no systemic line" \
        in card["detail"]
    assert "suggestions" not in card
    assert "No mTOR-inhibitor order is proposed:** the lines of systemic therapy already " \
           "given are not fully known" in card["detail"]


class TestUnknownHistory:
    def test_known_empty_history_gets_the_plain_warning(self, client: TestClient) -> None:
        """The reference point: every medication search answered, none holds a line."""
        bundle = example(PATIENT)
        [card] = cards_of(client, order_select(prefetch_of(bundle), patient_id(bundle)))
        assert card["summary"].startswith("Chemotherapy first line for advanced PEComa")
        assert card["suggestions"]

    @pytest.mark.parametrize("key", ["medications", "medication_requests",
                                     "medication_administrations", "medication_dispenses"])
    @pytest.mark.parametrize("value", [None, OUTCOME])
    def test_a_medication_search_not_sent_leaves_the_history_unknown(
        self, client: TestClient, key: str, value: Any
    ) -> None:
        """One medication search null or an OperationOutcome (no fhirServer): a line may
        be there, so the warning is conditional and no mTOR order is proposed."""
        bundle = example(PATIENT)
        prefetch = prefetch_of(bundle)
        prefetch[key] = copy.deepcopy(value)
        [card] = cards_of(client, order_select(prefetch, patient_id(bundle)))
        assert_conditional_warning(card)

    def test_patient_view_makes_every_drug_conditional(self, client: TestClient) -> None:
        bundle = example(PATIENT)
        prefetch = prefetch_of(bundle)
        prefetch["medication_administrations"] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["indicator"] == "warning"
        detail = head["detail"]
        at = detail.index("**An mTOR inhibitor is the first-line")
        assert "**Conditional:** the lines of systemic therapy already given are not fully " \
               "known (the medication administrations could not be read)" in detail[at:]


class TestDispensedLine:
    """Oral mTOR inhibitors are dispensed by a pharmacy: a record may hold the dispense
    and no order. Such a line had not been read: a doxorubicin draft was then taken for
    the first line and a sirolimus draft proposed to a patient already on everolimus."""

    @staticmethod
    def _with_dispense(status: str) -> tuple[dict[str, Any], str]:
        bundle = copy.deepcopy(example(PATIENT))
        pid = patient_id(bundle)
        bundle["entry"].append({"resource": {
            "resourceType": "MedicationDispense", "id": "md-everolimus", "status": status,
            "subject": {"reference": f"Patient/{pid}"}, "whenHandedOver": "2026-03-02",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "141704"}]}}})
        return bundle, pid

    def test_a_dispensed_line_is_a_line_given(self, client: TestClient) -> None:
        bundle, pid = self._with_dispense("completed")
        cards = cards_of(client, order_select(prefetch_of(bundle), pid))
        assert not any("first line" in c["summary"] for c in cards)
        assert all("suggestions" not in c for c in cards)

    def test_a_dispense_being_prepared_is_no_line_yet(self, client: TestClient) -> None:
        """Still in preparation: not handed over, no line given."""
        bundle, pid = self._with_dispense("preparation")
        [card] = cards_of(client, order_select(prefetch_of(bundle), pid))
        assert card["summary"].startswith("Chemotherapy first line")

    def test_the_reader_gives_the_line_and_its_first_day(self) -> None:
        from pecoma.fhir.reader import case_from_bundle

        bundle, _pid = self._with_dispense("completed")
        [line] = case_from_bundle(bundle, on=ON).case.systemic.therapies
        assert (line.agent.value, str(line.started_on)) == ("everolimus", "2026-03-02")


class TestLineByReference:
    def test_medication_not_sent_leaves_the_history_unknown(self, client: TestClient) -> None:
        """Before: the order was read as no line at all, and the card proposed sirolimus
        to a patient on sirolimus. Now the record is named and nothing is proposed."""
        bundle = with_sirolimus_line(medication_sent=False)
        [card] = cards_of(client, order_select(prefetch_of(bundle), patient_id(bundle)))
        assert_conditional_warning(card)
        assert "MedicationRequest/mr-sirolimus: medicationReference 'Medication/sir-1' does " \
               "not resolve" in card["detail"]

    def test_patient_view_names_the_record_and_makes_drugs_conditional(
        self, client: TestClient
    ) -> None:
        bundle = with_sirolimus_line(medication_sent=False)
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["indicator"] == "warning"
        assert "- the drug of some medication records: MedicationRequest/mr-sirolimus" \
            in head["detail"]
        assert "**Conditional:** the lines of systemic therapy already given are not fully " \
               "known (a medication record names a drug pecoma cannot identify)" in head["detail"]

    def test_included_medication_is_read(self, client: TestClient) -> None:
        """The Medication in the search result (``_include``): sirolimus was the first
        line, so the doxorubicin draft is not a first line: no card."""
        bundle = with_sirolimus_line(medication_sent=True)
        prefetch = prefetch_of(bundle, include=True)
        assert prefetch["medication_requests"]["entry"][-1]["search"] == {"mode": "include"}
        assert cards_of(client, order_select(prefetch, patient_id(bundle))) == []

    def test_medication_read_from_the_allowed_server(self, tmp_path: Path) -> None:
        """Not included: read from the allow-listed loopback FHIR server by its id, with
        the EHR's token, and nothing else is asked."""
        bundle = with_sirolimus_line(medication_sent=True)
        prefetch = prefetch_of(bundle)
        with fhir_server(bundle, token="tok-m") as (url, rec):
            body = order_select(prefetch, patient_id(bundle), fhirServer=url,
                                fhirAuthorization=bearer("tok-m"))
            cards = cards_of(_client(tmp_path, (url,)), body)
        assert cards == []
        assert rec.requests == [("/fhir/Medication/sir-1", "Bearer tok-m")]

    def test_a_medication_the_draft_and_the_history_share_is_read_once(
        self, tmp_path: Path
    ) -> None:
        """A doxorubicin draft and a doxorubicin administration naming the same Medication,
        sent by nobody: it is read once for the draft and kept for the history."""
        bundle = copy.deepcopy(example(PATIENT))
        pid = patient_id(bundle)
        bundle["entry"] += [
            {"resource": {"resourceType": "Medication", "id": "doxo-1", "code": {
                "coding": [{"system": RXNORM, "code": "3639"}]}}},
            {"resource": {"resourceType": "MedicationAdministration", "id": "ma-1",
                          "status": "completed", "subject": {"reference": f"Patient/{pid}"},
                          "effectiveDateTime": "2026-02-01",
                          "medicationReference": {"reference": "Medication/doxo-1"}}}]
        prefetch = prefetch_of(bundle)
        with fhir_server(bundle, token="tok-m") as (url, rec):
            body = order_select(prefetch, pid, fhirServer=url,
                                fhirAuthorization=bearer("tok-m"))
            body["context"]["draftOrders"]["entry"][0]["resource"].pop(
                "medicationCodeableConcept")
            body["context"]["draftOrders"]["entry"][0]["resource"]["medicationReference"] = {
                "reference": "Medication/doxo-1"}
            cards = cards_of(_client(tmp_path, (url,)), body)
        assert cards == []  # doxorubicin already given: the draft is no first line
        assert rec.requests == [("/fhir/Medication/doxo-1", "Bearer tok-m")]

    def test_absolute_reference_is_read_only_from_the_record_s_server(
        self, tmp_path: Path
    ) -> None:
        """``https://<fhirServer>/Medication/sir-1`` is read from that server; the same
        reference on another server is never followed: the history stays unknown."""
        bundle = with_sirolimus_line(medication_sent=True)
        for elsewhere in (False, True):
            with fhir_server(bundle) as (url, rec):
                prefetch = prefetch_of(bundle)
                [line] = [e["resource"] for e in prefetch["medication_requests"]["entry"]
                          if e["resource"]["id"] == "mr-sirolimus"]
                server = "https://elsewhere.example/fhir" if elsewhere else url
                line["medicationReference"]["reference"] = f"{server}/Medication/sir-1"
                body = order_select(prefetch, patient_id(bundle), fhirServer=url)
                cards = cards_of(_client(tmp_path, (url,)), body)
            if elsewhere:
                assert rec.requests == []
                [card] = cards
                assert_conditional_warning(card)
            else:
                assert cards == []
                assert [p for p, _a in rec.requests] == ["/fhir/Medication/sir-1"]

    def test_medication_known_only_by_an_unknown_code_leaves_the_history_unknown(
        self, client: TestClient
    ) -> None:
        """The Medication is there, coded only by an RxNorm code pecoma does not list:
        it could be an mTOR inhibitor's brand, so the line is not taken as absent."""
        bundle = with_sirolimus_line(medication_sent=True)
        for e in bundle["entry"]:
            if e["resource"]["id"] == "sir-1":
                e["resource"]["code"] = {"coding": [{"system": RXNORM, "code": "845509"}]}
        [card] = cards_of(client, order_select(prefetch_of(bundle, include=True),
                                               patient_id(bundle)))
        assert_conditional_warning(card)
        # (card text quoted from the record is Markdown-escaped: the bar is written \\|)
        assert f"{RXNORM}\\|845509, a code pecoma does not know" in card["detail"]

    @pytest.mark.parametrize("reference", [
        "Patient?name=smith&_count=500&x=/Medication/a",
        "Patient/other-patient/Medication/b",
        "{url}/Observation?code=x&y=/Medication/c",
        "{url}/Patient/other/Medication/d",
    ])
    def test_a_reference_is_never_turned_into_another_query(
        self, tmp_path: Path, reference: str
    ) -> None:
        """Only ``Medication/<id>`` (relative, or under the server's base) is ever read:
        a reference shaped as a search or another patient's path asks nothing."""
        bundle = with_sirolimus_line(medication_sent=False)
        with fhir_server(bundle) as (url, rec):
            prefetch = prefetch_of(bundle)
            [line] = [e["resource"] for e in prefetch["medication_requests"]["entry"]
                      if e["resource"]["id"] == "mr-sirolimus"]
            line["medicationReference"]["reference"] = reference.format(url=url)
            body = order_select(prefetch, patient_id(bundle), fhirServer=url)
            [card] = cards_of(_client(tmp_path, (url,)), body)
        assert rec.requests == []
        assert_conditional_warning(card)

    def test_medication_the_server_lacks_stays_unknown(self, tmp_path: Path) -> None:
        bundle = with_sirolimus_line(medication_sent=False)
        with fhir_server(bundle) as (url, rec):
            body = order_select(prefetch_of(bundle), patient_id(bundle), fhirServer=url)
            [card] = cards_of(_client(tmp_path, (url,)), body)
        assert [p for p, _a in rec.requests] == ["/fhir/Medication/sir-1"]
        assert_conditional_warning(card)


def test_conditions_not_sent_is_an_incomplete_record_not_a_bad_one(
    client: TestClient,
) -> None:
    """The Conditions an OperationOutcome while an Observation names the PEComa: the
    reader cannot build a case, because a part is missing, not because the record is
    wrong: the card says what could not be read and asks for no correction."""
    bundle = example(PATIENT)
    prefetch = prefetch_of(bundle)
    pid = patient_id(bundle)
    prefetch["conditions"] = copy.deepcopy(OUTCOME)
    prefetch["observations"]["entry"].append({"resource": {
        "resourceType": "Observation", "id": "hbt-1", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "31206-6"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "valueCodeableConcept": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": "8714/3"}]}}})
    body = hook_request("patient-view", pid, prefetch=prefetch)
    [card] = cards_of(client, body, PATIENT_VIEW)
    assert card["summary"].startswith("PEComa check incomplete")
    assert "Nothing was assessed" in card["detail"]
    assert "correct the record" not in card["detail"]
    assert "- the conditions (diagnoses, metastases): the EHR could not provide it" \
        in card["detail"]


class TestMcodeCorpus:
    """The mCODE corpus (tests/data/mcode), sent as a FHIR server's search results."""

    def test_localized_uterine_record(self, client: TestClient) -> None:
        """A resected uterine PEComa, high risk (test_fhir_mcode reads why): the head card
        says so and nothing is unknown."""
        import json

        bundle = as_searched(json.loads((MCODE / "uterus-localized.json").read_text()))
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert head["summary"].startswith("PEComa (localized), risk high")
        assert "could not be read" not in head["detail"]

    @pytest.mark.parametrize("how", ["included", "from the server", "missing"])
    def test_metastatic_kidney_record_with_its_doxorubicin_by_reference(
        self, tmp_path: Path, how: str
    ) -> None:
        """Doxorubicin given by MedicationAdministrations naming a Medication: included,
        or read from the server, it is read (no unknown part); missing, the records are
        named and drug advice is conditional."""
        import json

        bundle = as_searched(json.loads((MCODE / "kidney-metastatic.json").read_text()))
        pid = patient_id(bundle)
        prefetch = prefetch_of(bundle, include=how == "included")
        with fhir_server(bundle) as (url, rec):
            extra = {"fhirServer": url} if how == "from the server" else {}
            body = hook_request("patient-view", pid, prefetch=prefetch, **extra)
            head = cards_of(_client(tmp_path, (url,)), body, PATIENT_VIEW)[0]
        assert head["summary"].startswith("PEComa (metastatic)")
        if how == "missing":
            assert head["indicator"] == "warning"
            assert "MedicationAdministration/medication-administration-doxorubicin-c1: " \
                   "medicationReference 'Medication/medication-doxorubicin' does not " \
                   "resolve" in head["detail"]
            assert "**Conditional:** the lines of systemic therapy already given are not " \
                   "fully known" in head["detail"]
        else:
            assert "could not be read" not in head["detail"]
            assert "not fully known" not in head["detail"]
        if how == "from the server":
            assert [p for p, _a in rec.requests] == ["/fhir/Medication/medication-doxorubicin"]
        else:
            assert rec.requests == []


class TestReadingsShown:
    """What the reader assumed is on the card the clinician reads (it was said only on
    the command line): a status read as given, an intolerance read as a class
    contraindication, a resolved metastasis taken as history, the disease status taken
    from the metastases."""

    def test_the_kidney_record_s_readings_are_on_the_summary_card(self, client: TestClient
                                                                   ) -> None:
        import json

        bundle = as_searched(json.loads((MCODE / "kidney-metastatic.json").read_text()))
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        head = cards_of(client, body, PATIENT_VIEW)[0]
        detail = head["detail"]
        # a lung and a brain metastasis, and whether disease outside the lungs is present
        # now not recorded (an observation, I5): the lung metastasectomy waits on it and
        # heads the card, provisional; everolimus given after a sirolimus intolerance: the
        # patient tolerates another mTOR inhibitor, so only sirolimus is ruled out (I15,
        # the case file's rule), and the card names sirolimus as ruled out, with
        # nab-sirolimus (one drug)
        assert head["summary"].startswith("PEComa (metastatic), risk not applicable: "
                                          "(provisional) Whether the lung-metastasectomy "
                                          "criteria are met is not known yet"), head["summary"]
        assert "An mTOR inhibitor is the first-line" in detail
        assert ("**Ruled out by the allergy list:** sirolimus only (and nab-sirolimus, the "
                "same drug); everolimus") in detail
        readings = detail[detail.index("**How the record was read**"):]
        assert "intolerance of sirolimus read; it rules out every mTOR inhibitor unless" \
            in readings
        assert ("rules out sirolimus only (and nab-sirolimus, the same drug: nab-sirolimus "
                "is sirolimus bound to albumin): the latest mTOR-inhibitor line, of "
                "everolimus") in readings
        assert "metastasis (liver) is 'resolved': history, not present disease" in readings
        assert "stage.status taken as 'metastatic' from the metastasis Conditions" \
            in readings

    def test_the_ehr_s_words_cannot_spell_markdown(self, client: TestClient) -> None:
        """A note quotes the record (here an unknown drug's name in an intolerance): it
        reaches the card as plain text, never a link, an image, emphasis or HTML."""
        bundle = copy.deepcopy(example(PATIENT))
        pid = patient_id(bundle)
        bundle["entry"].append({"resource": {
            "resourceType": "MedicationStatement", "id": "ms-x", "status": "unknown",
            "subject": {"reference": f"Patient/{pid}"},
            "effectiveDateTime": "2026-01-05",
            "medicationCodeableConcept": {"text": "sirolimus"}}})
        body = hook_request("patient-view", pid, prefetch=prefetch_of(bundle))
        body["prefetch"]["medications"]["entry"][0]["resource"]["status"] = \
            "[x](javascript:alert(1)) **b** <img src=x> `c`\n# h"
        r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
        assert r.status_code == 200, r.text
        detail = r.json()["cards"][0]["detail"]
        [note] = [line for line in detail.splitlines() if "read as given" in line]
        markup = re.sub(r"\\.", "", note)  # what Markdown would read as markup
        assert not set(markup) & set("[]*<>`#"), markup
        assert "\\[x\\](javascript:alert(1)) \\*\\*b\\*\\* \\<img src=x\\> \\`c\\` \\# h" in detail

    def test_a_note_quoting_a_long_text_is_cut(self, client: TestClient) -> None:
        bundle = copy.deepcopy(example(PATIENT))
        pid = patient_id(bundle)
        bundle["entry"].append({"resource": {
            "resourceType": "MedicationStatement", "id": "ms-x", "status": "x" * 100_000,
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2026-01-05",
            "medicationCodeableConcept": {"text": "sirolimus"}}})
        body = hook_request("patient-view", pid, prefetch=prefetch_of(bundle))
        detail = cards_of(client, body, PATIENT_VIEW)[0]["detail"]
        [note] = [line for line in detail.splitlines() if "xxxx" in line]
        assert len(note) <= 302 and note.endswith("…")


class TestAskingTheServer:
    def test_one_time_budget_for_every_read_of_a_call(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every FHIR read of one hook call shares one deadline (a slow server never
        makes the EHR wait for each read in turn): with no time left, nothing is asked,
        and the parts stay unknown with the reason on the card."""
        import time

        from pecoma.web.cds.service import CdsService

        monkeypatch.setattr(CdsService, "fhir_deadline", lambda self: time.monotonic() - 1)
        bundle = with_sirolimus_line(medication_sent=True)
        prefetch = prefetch_of(bundle)
        prefetch["medication_requests"] = None
        with fhir_server(bundle) as (url, rec):
            body = order_select(prefetch, patient_id(bundle), fhirServer=url)
            [card] = cards_of(_client(tmp_path, (url,)), body)
        assert rec.requests == []
        assert "no time was left for the medication\\_requests query" in card["detail"]
        assert_conditional_warning(card)

    def test_a_patient_without_pecoma_has_no_medication_read(self, tmp_path: Path) -> None:
        """Medications are read only for a record that may be a PEComa patient's: a
        patient with hypertension and forty orders by reference costs no request."""
        pid = "other-1"
        entries: list[dict[str, Any]] = [
            {"resource": {"resourceType": "Patient", "id": pid}},
            {"resource": {"resourceType": "Condition", "id": "c1",
                          "subject": {"reference": f"Patient/{pid}"},
                          "code": {"coding": [{"system": "http://snomed.info/sct",
                                               "code": "59621000",
                                               "display": "Essential hypertension"}]}}}]
        entries += [{"resource": {
            "resourceType": "MedicationRequest", "id": f"mr{i}", "status": "active",
            "intent": "order", "subject": {"reference": f"Patient/{pid}"},
            "medicationReference": {"reference": f"Medication/m{i}"}}} for i in range(40)]
        bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", pid, prefetch=prefetch_of(bundle),
                                fhirServer=url)
            assert cards_of(_client(tmp_path, (url,)), body, PATIENT_VIEW) == []
        assert rec.requests == []

    def test_medication_reads_are_bounded(self, tmp_path: Path) -> None:
        """Thirty lines by reference to Medications not sent: at most MEDICATION_READS_MAX
        are read; the rest stay unidentified and the history unknown."""
        from pecoma.fhir.client import MEDICATION_READS_MAX

        bundle = copy.deepcopy(example(PATIENT))
        pid = patient_id(bundle)
        bundle["entry"] += [{"resource": {
            "resourceType": "MedicationAdministration", "id": f"ma{i}", "status": "completed",
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": "2026-01-05",
            "medicationReference": {"reference": f"Medication/x{i:02d}"}}} for i in range(30)]
        with fhir_server(bundle) as (url, rec):
            body = hook_request("patient-view", pid, prefetch=prefetch_of(bundle),
                                fhirServer=url)
            head = cards_of(_client(tmp_path, (url,)), body, PATIENT_VIEW)[0]
        assert len(rec.requests) == MEDICATION_READS_MAX
        assert "not fully known" in head["detail"]

    def test_a_search_refused_with_include_is_asked_again_without(
        self, tmp_path: Path
    ) -> None:
        """A server that refuses ``_include`` (400) still gives the orders: the search is
        asked again without it, and the Medication is then read by its id."""
        import httpx

        bundle = with_sirolimus_line(medication_sent=True)
        pid = patient_id(bundle)
        orders = [e["resource"] for e in bundle["entry"]
                  if e["resource"]["resourceType"] == "MedicationRequest"]
        asked: list[str] = []

        def handler(request: httpx.Request) -> httpx.Response:
            asked.append(str(request.url))
            if "_include" in str(request.url):
                return httpx.Response(400, json={"resourceType": "OperationOutcome"})
            if request.url.path == "/fhir/MedicationRequest":
                return httpx.Response(200, json={
                    "resourceType": "Bundle", "type": "searchset",
                    "entry": [{"resource": r} for r in orders]})
            if request.url.path == "/fhir/Medication/sir-1":
                return httpx.Response(200, json=SIROLIMUS)
            return httpx.Response(404)

        client = _client(tmp_path, ("https://ehr.example.org/fhir",))
        client.app.state.cds.transport = httpx.MockTransport(handler)  # type: ignore[attr-defined]
        prefetch = prefetch_of(bundle)
        prefetch["medication_requests"] = None
        body = order_select(prefetch, pid, fhirServer="https://ehr.example.org/fhir")
        assert cards_of(client, body) == []
        assert [u.split("?")[0].removeprefix("https://ehr.example.org") for u in asked] == [
            "/fhir/MedicationRequest", "/fhir/MedicationRequest", "/fhir/Medication/sir-1"]


class TestCardWording:
    def test_a_broken_record_stays_a_broken_record_when_allergies_are_unsent(
        self, client: TestClient
    ) -> None:
        """The PEComa Condition has no bodySite (an error of the record) and the
        allergies were not sent: the allergies cannot supply a site, so the card asks for
        the record to be corrected, and still lists the part not read."""
        bundle = copy.deepcopy(example(PATIENT))
        for e in bundle["entry"]:
            if e["resource"]["id"] == "pecoma-diagnosis":
                del e["resource"]["bodySite"]
        prefetch = prefetch_of(bundle)
        prefetch["allergies"] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        [card] = cards_of(client, body, PATIENT_VIEW)
        assert card["summary"].startswith("PEComa guideline check not possible")
        assert "correct the record" in card["detail"]
        assert "- the allergies and intolerances: the EHR sent no data" in card["detail"]

    @pytest.mark.parametrize(("key", "drugs_conditional"), [
        ("observations", False), ("procedures", False),
        ("allergies", True), ("medication_requests", True)])
    def test_the_unknown_parts_say_drug_advice_is_conditional_only_when_it_is(
        self, client: TestClient, key: str, drugs_conditional: bool
    ) -> None:
        bundle = example(PATIENT)
        prefetch = prefetch_of(bundle)
        prefetch[key] = None
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch)
        head = cards_of(client, body, PATIENT_VIEW)[0]
        assert "**Parts of the record that could not be read**" in head["detail"]
        said = "advice naming a drug is conditional" in head["detail"]
        assert said is drugs_conditional
        assert ("**Conditional:**" in head["detail"]) is drugs_conditional

    def test_a_drug_at_the_head_of_the_summary_says_conditional_first(
        self, client: TestClient
    ) -> None:
        """mTOR inhibitor contraindicated: the headline is anthracycline (S14); with the
        medication orders unknown it is conditional, said before the title (a summary
        longer than 140 characters is cut at its end)."""
        bundle = example("advanced-mtor-contraindicated")
        prefetch = prefetch_of(bundle)
        plain = cards_of(client, hook_request("patient-view", patient_id(bundle),
                                              prefetch=prefetch), PATIENT_VIEW)[0]
        assert "Anthracycline-based chemotherapy" in plain["summary"]
        assert "(conditional)" not in plain["summary"]
        prefetch["medication_requests"] = None
        head = cards_of(client, hook_request("patient-view", patient_id(bundle),
                                             prefetch=prefetch), PATIENT_VIEW)[0]
        assert "(conditional) Anthracycline-based chemotherapy" in head["summary"]


@pytest.mark.parametrize("category", [
    [{"coding": [{"code": "medication"}]}], [["medication"]], [None], "medication"])
def test_an_allergy_category_written_oddly_may_still_be_a_drug(
    client: TestClient, category: Any
) -> None:
    """An allergy coded only by a code pecoma does not know, its category not a list of
    codes: answered (never a 500), and taken as possibly a drug: no order is proposed."""
    bundle = example(PATIENT)
    prefetch = prefetch_of(bundle)
    prefetch["allergies"]["entry"].append({"resource": {
        "resourceType": "AllergyIntolerance", "id": "odd", "category": category,
        "code": {"coding": [{"system": RXNORM, "code": "845509"}]},
        "patient": {"reference": f"Patient/{patient_id(bundle)}"}}})
    cards = cards_of(client, order_select(prefetch, patient_id(bundle)))
    assert not any("suggestions" in card for card in cards)
    assert any("could not be matched to a drug" in card["detail"] for card in cards)


class TestLineAlreadyGiven:
    """A patient already on an mTOR inhibitor is not told to start one, and is asked
    whether the disease progressed on it: after progression the guideline names no next
    line (REC-NO-NEXT-LINE), so the first-line advice holds only if it did not."""

    def test_patient_on_sirolimus_is_asked_about_progression(self, client: TestClient
                                                             ) -> None:
        bundle = with_sirolimus_line(medication_sent=True)
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        head = cards_of(client, body, PATIENT_VIEW)[0]
        summary, detail = head["summary"], head["detail"]
        assert "Start an mTOR" not in detail
        assert "**An mTOR inhibitor is the first-line systemic treatment**" in detail
        assert "fact(s) unknown" in summary
        assert "Has the disease progressed on the mTOR inhibitor already recorded?" in detail
        assert "**After progression on an mTOR inhibitor" not in detail
        # the advice itself says it is provisional, not only the list at the bottom
        advice = detail[detail.index("**An mTOR inhibitor is the first-line"):]
        assert advice.index("*Provisional until supplied* (see the missing facts): "
                            "MISS-MTOR-PROGRESSION") < advice.index("**Missing facts**")

    def test_the_answer_decides(self, client: TestClient) -> None:
        """Progression recorded (pecoma's own extensions on the order, as its FHIR writer
        records a line): the guideline's silence is said instead, and nothing asks about
        progression."""
        bundle = with_sirolimus_line(medication_sent=True)
        order = next(e["resource"] for e in bundle["entry"]
                     if e["resource"]["id"] == "mr-sirolimus")
        order["extension"] = [{"url": ext("therapy-setting"), "valueCode": "advanced"},
                              {"url": ext("progressed"), "valueCode": "yes"}]
        body = hook_request("patient-view", patient_id(bundle),
                            prefetch=prefetch_of(bundle, include=True))
        detail = cards_of(client, body, PATIENT_VIEW)[0]["detail"]
        assert "**After progression on an mTOR inhibitor the guideline names no next " \
               "line**" in detail
        assert "first-line systemic treatment**" not in detail
        assert "Has the disease progressed" not in detail
