"""A Condition's status is read only in the code system FHIR R4 binds it to.

FHIR R4 binds Condition.verificationStatus (required) to
http://terminology.hl7.org/CodeSystem/condition-ver-status and clinicalStatus to
.../condition-clinical. A ``refuted`` or ``entered-in-error`` (which set a Condition
aside), or an ``inactive``, ``resolved`` or ``remission`` (which make it history), coded
in another code system (a local one whose "refuted" may mean "pending review") is not
that status: pecoma cannot tell what it means. Each had dropped a lung metastasis, or made
it history, without a word: a metastatic patient lost the metastasis that decides the
metastatic-surgery advice (S16, S17), or was read as free of disease. Expected (docs/fhir.md;
the project's rule: keep the disease in view): the Condition is kept as current, and a
note names the field and the code, in to-case and on the cards' "How the record was read".

With no code system, the safer reading for disease decides: a metastasis is kept in view
(dropping present disease is the harm); the PEComa Condition ``refuted`` with no system is
neither read as the diagnosis (a refuted diagnosis read as current would bring PEComa
advice to a patient who may not have it) nor dropped with "no PEComa found": the record
is refused, naming the field and what it must say. Statuses in FHIR's own system keep
their meaning. The record is the shipped ``metastatic-lung-metachronous`` example: a
soft-tissue PEComa with one lung metastasis, ``metastasis-1``.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle

from allergy_support import ON, details, make_client, patient_view, record

LOCAL = "urn:oid:1.2.840.114350.1.13.0.1.7.4.698084.2"
VERIFIED = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
MET = "metastasis-1"
PRIMARY = "pecoma-diagnosis"


def status(system: str | None, code: str) -> dict[str, Any]:
    coding: dict[str, Any] = {"code": code}
    if system is not None:
        coding["system"] = system
    return {"coding": [coding]}


def bundle(rid: str, field: str, value: dict[str, Any], **more: Any) -> dict[str, Any]:
    b = record()
    res = next(e["resource"] for e in b["entry"] if e["resource"].get("id") == rid)
    res[field] = value
    res.update(more)
    return b


def read(b: dict[str, Any]) -> BundleCase:
    return case_from_bundle(b, on=ON, validate="full")


def refused(b: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        read(b)
    return [(i.path, i.value) for i in caught.value.issues]


#: A metastasis status that is not FHIR's: (field, value, the code not read so).
NOT_FHIR = [
    pytest.param("verificationStatus", status(LOCAL, "refuted"), "refuted",
                 id="refuted-local-system"),
    pytest.param("verificationStatus", status(None, "refuted"), "refuted",
                 id="refuted-no-system"),
    pytest.param("verificationStatus", status(LOCAL, "entered-in-error"),
                 "entered-in-error", id="entered-in-error-local-system"),
    pytest.param("verificationStatus", status(None, "entered-in-error"),
                 "entered-in-error", id="entered-in-error-no-system"),
    pytest.param("verificationStatus", status(CLINICAL, "refuted"), "refuted",
                 id="refuted-in-the-clinical-system"),
    pytest.param("clinicalStatus", status(LOCAL, "resolved"), "resolved",
                 id="resolved-local-system"),
    pytest.param("clinicalStatus", status(None, "resolved"), "resolved",
                 id="resolved-no-system"),
    pytest.param("clinicalStatus", status("http://other", "inactive"), "inactive",
                 id="inactive-other-system"),
    pytest.param("clinicalStatus", status(None, "remission"), "remission",
                 id="remission-no-system"),
]


def kept_note(rid: str, field: str, code: str) -> str:
    return f"Condition/{rid}: its {field} holds '{code}' "


class TestMetastasis:
    @pytest.mark.parametrize(("field", "value", "code"), NOT_FHIR)
    def test_the_metastasis_stays_present_disease_with_a_note(
            self, field: str, value: dict[str, Any], code: str) -> None:
        """Not FHIR's status: the lung metastasis is present disease (it had been dropped,
        or read as history), and a note names the field and the code, saying the
        Condition is kept as current."""
        got = read(bundle(MET, field, value))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        assert not any("history, not present disease" in n for n in got.notes)
        note = next(n for n in got.notes if n.startswith(kept_note(MET, field, code)))
        assert (f"not read as '{code}'; the Condition is kept as current, the disease kept "
                "in view (the safer reading)") in note
        assert f"Condition/{MET}" not in got.not_read

    def test_a_local_resolved_with_an_abatement_is_no_freedom_from_disease(self) -> None:
        """'resolved' in a local system beside an abatement date had made the patient free
        of disease since that day (the metastasis history): the clinicalStatus coded, if
        not in FHIR's system, is not read as resolved; the metastasis is present."""
        got = read(bundle(MET, "clinicalStatus", status(LOCAL, "resolved"),
                          abatementDateTime="2026-06-01"))
        assert got.case.free_of_disease is None
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]

    def test_fhirs_refuted_still_sets_the_metastasis_aside(self) -> None:
        """In condition-ver-status, 'refuted' is FHIR's: the metastasis is not read."""
        got = read(bundle(MET, "verificationStatus", status(VERIFIED, "refuted")))
        assert got.case.stage.metastases == ()
        assert "verificationStatus 'refuted'" in str(got.not_read)
        assert not any(n.startswith(kept_note(MET, "verificationStatus", "refuted"))
                       for n in got.notes)

    def test_fhirs_resolved_still_makes_the_metastasis_history(self) -> None:
        got = read(bundle(MET, "clinicalStatus", status(CLINICAL, "resolved")))
        assert any(n.startswith(f"Condition/{MET}: metastasis (lung) is 'resolved': history")
                   for n in got.notes)

    def test_a_local_refuted_beside_fhirs_confirmed_is_no_contradiction(self) -> None:
        """FHIR's 'confirmed' beside a local 'refuted': read as confirmed, and the local
        code named as not read (not as 'confirmed and refuted')."""
        value = {"coding": [{"system": VERIFIED, "code": "confirmed"},
                            {"system": LOCAL, "code": "refuted"}]}
        got = read(bundle(MET, "verificationStatus", value))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        assert not any("confirmed and refuted" in n for n in got.notes)
        assert any(n.startswith(kept_note(MET, "verificationStatus", "refuted"))
                   for n in got.notes)


class TestPecomaCondition:
    @pytest.mark.parametrize(("field", "value", "code"), [
        p for p in NOT_FHIR if "no-system" not in str(p.id) or p.values[0] == "clinicalStatus"])
    def test_the_diagnosis_is_read_with_a_note(
            self, field: str, value: dict[str, Any], code: str) -> None:
        """The PEComa Condition 'refuted' or 'resolved' in another code system (or
        'resolved' with none): read as the current diagnosis (it had been dropped and
        the record refused as holding no PEComa), with the note."""
        got = read(bundle(PRIMARY, field, value))
        assert got.case.tumour.primary_site.value == "soft_tissue"
        assert any(n.startswith(kept_note(PRIMARY, field, code)) for n in got.notes)

    @pytest.mark.parametrize("code", ["refuted", "entered-in-error"])
    def test_refuted_with_no_system_is_asked(self, code: str) -> None:
        """'refuted' with no code system on the PEComa Condition: whether the diagnosis
        stands cannot be told. Read as current it would bring PEComa advice to a patient
        who may not have it; dropped, the record had said "no PEComa found". Refused,
        naming the field, the value and the code system it must be coded in."""
        issues = refused(bundle(PRIMARY, "verificationStatus", status(None, code)))
        assert issues[0] == (f"Condition/{PRIMARY}.verificationStatus",
                             f"\"'{code}' with no code system\"")
        assert not any(path == "Condition" for path, _v in issues)

    @pytest.mark.parametrize("code", ["refuted", "entered-in-error"])
    def test_fhirs_refuted_still_sets_the_diagnosis_aside(self, code: str) -> None:
        """FHIR's own 'refuted' (or 'entered-in-error'): the diagnosis is set aside and
        the record refused; the refusal names the Condition set aside and its status. It
        had said '(none found)': the user told to add a diagnosis the record holds."""
        with pytest.raises(InputError) as caught:
            read(bundle(PRIMARY, "verificationStatus", status(VERIFIED, code)))
        issue = next(i for i in caught.value.issues if i.path == "Condition")
        assert issue.value == f"'Condition/{PRIMARY}'"
        assert (f"Condition/{PRIMARY} records PEComa but is set aside: its "
                f"verificationStatus is '{code}'") in issue.rule


def codings(*pairs: tuple[str | None, str]) -> dict[str, Any]:
    """A status of several codings, (system, code) each (``None``: no system)."""
    return {"coding": [status(system, code)["coding"][0] for system, code in pairs]}


class TestPecomaRefutedBesideAnotherCode:
    """FHIR's own 'refuted' (or 'entered-in-error') on the PEComa Condition beside a code
    that would keep it (a local 'confirmed', as an EHR sends its own coding beside FHIR's)
    had been read as confirmed, with only a note ('read as confirmed, the reading that
    keeps the disease in view'), while a bare 'refuted' refused the record: the stronger
    evidence got the weaker response. For the diagnosis itself, keeping the disease in
    view means assuming it. Expected: never outweighed by a local code (nor by FHIR's own
    'confirmed'); whether the diagnosis stands is asked, as for the bare code."""

    @pytest.mark.parametrize("value", [
        pytest.param(codings((VERIFIED, "refuted"), (LOCAL, "confirmed")),
                     id="fhir-refuted-local-confirmed"),
        pytest.param(codings((LOCAL, "confirmed"), (VERIFIED, "refuted")),
                     id="local-confirmed-first"),
        pytest.param(codings((VERIFIED, "entered-in-error"), (LOCAL, "confirmed")),
                     id="fhir-entered-in-error-local-confirmed"),
        pytest.param(codings((VERIFIED, "refuted"), (VERIFIED, "confirmed")),
                     id="fhir-refuted-fhir-confirmed"),
        pytest.param(codings((None, "refuted"), (LOCAL, "confirmed")),
                     id="bare-refuted-local-confirmed"),
        pytest.param(codings((None, "refuted"), (None, "confirmed")),
                     id="bare-refuted-bare-confirmed"),
    ])
    def test_the_diagnosis_is_asked_not_assumed(self, value: dict[str, Any]) -> None:
        """Refused, naming the field, what it holds and where it must be coded; not
        '(none found)': the record does hold the diagnosis."""
        with pytest.raises(InputError) as caught:
            read(bundle(PRIMARY, "verificationStatus", value))
        issue = next(i for i in caught.value.issues
                     if i.path == f"Condition/{PRIMARY}.verificationStatus")
        code = "entered-in-error" if "entered-in-error" in str(value) else "refuted"
        assert issue.value.startswith(f"\"'{code}' beside 'confirmed'")
        assert f"must say one status coded in {VERIFIED}" in issue.rule
        assert "the diagnosis is never assumed" in issue.rule
        assert not any(i.path == "Condition" for i in caught.value.issues)


#: FHIR's own status beside a local copy of the same (Epic and Cerner send both):
#: (field, value, the code, what the metastasis then is).
SAID_TWICE = [
    pytest.param("clinicalStatus", codings((CLINICAL, "resolved"), (LOCAL, "resolved")),
                 "resolved", id="resolved-fhir-and-local"),
    pytest.param("clinicalStatus", codings((LOCAL, "inactive"), (CLINICAL, "inactive")),
                 "inactive", id="inactive-local-and-fhir"),
    pytest.param("clinicalStatus", codings((CLINICAL, "resolved"), (LOCAL, "inactive")),
                 "inactive", id="resolved-fhir-inactive-local"),
    pytest.param("verificationStatus", codings((VERIFIED, "refuted"), (LOCAL, "refuted")),
                 "refuted", id="refuted-fhir-and-local"),
    pytest.param("verificationStatus",
                 codings((VERIFIED, "entered-in-error"), (None, "entered-in-error")),
                 "entered-in-error", id="entered-in-error-fhir-and-bare"),
]


class TestFhirsStatusWithALocalCopy:
    @pytest.mark.parametrize(("field", "value", "code"), SAID_TWICE)
    def test_no_note_says_the_status_was_not_read(
            self, field: str, value: dict[str, Any], code: str) -> None:
        """FHIR's own coding sets the metastasis aside or makes it history, and it is
        read so; the local copy had added the note "not read as '<code>'; the Condition is
        kept as current", the opposite of what was done. No such note now."""
        got = read(bundle(MET, field, value))
        assert not any(n.startswith(kept_note(MET, field, code)) for n in got.notes)
        assert not any("kept as current" in n and f"Condition/{MET}" in n
                       for n in got.notes)
        if field == "clinicalStatus":
            assert any(n.startswith(f"Condition/{MET}: metastasis (lung) is ")
                       and "history, not present disease" in n for n in got.notes)
        else:
            assert got.case.stage.metastases == ()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("condition-status-system"))


class TestCdsServices:
    @pytest.mark.parametrize(("field", "value", "code"), [NOT_FHIR[0], NOT_FHIR[5]])
    def test_how_the_record_was_read_names_the_status(
            self, client: TestClient, field: str, value: dict[str, Any], code: str) -> None:
        cards = patient_view(client, bundle(MET, field, value))
        assert f"its {field} holds '{code}' in the code system" in details(cards)
        assert "the Condition is kept as current" in details(cards)


#: A verificationStatus in words only: the text, or a coding of FHIR's system with a
#: display and no code.
IN_WORDS = [
    pytest.param({"text": "Refuted"}, id="text"),
    pytest.param({"coding": [{"system": VERIFIED, "display": "Refuted"}]}, id="display-only"),
]


class TestStatusInWordsOnly:
    """A status given in words, with no code: 'Refuted' as the verificationStatus's text,
    or a coding's display with no code. The PEComa Condition had been read as a confirmed
    diagnosis without a word (full metastatic PEComa advice), while the same 'refuted'
    with no code system was refused; a metastasis and an allergy were kept (the safer
    reading) without a word either."""

    @pytest.mark.parametrize("value", IN_WORDS)
    def test_the_pecoma_condition_is_asked(self, value: dict[str, Any]) -> None:
        """Words are never read as a status: whether the diagnosis stands cannot be told
        (the words say it was refuted), so the record is refused naming the field and
        the words, never read as a confirmed PEComa."""
        issues = refused(bundle(PRIMARY, "verificationStatus", value))
        assert issues[0] == (f"Condition/{PRIMARY}.verificationStatus",
                             "\"'Refuted' in words only, with no code\"")

    @pytest.mark.parametrize("value", IN_WORDS)
    def test_the_metastasis_is_kept_with_a_note(self, value: dict[str, Any]) -> None:
        """The lung metastasis stays present disease (the safer reading), and a note
        names the field and the words not read."""
        got = read(bundle(MET, "verificationStatus", value))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        note = next(n for n in got.notes if n.startswith(
            f"Condition/{MET}: its verificationStatus holds no code, only the words "
            "'Refuted'"))
        assert "not read; the Condition is kept as current" in note

    def test_a_clinical_status_in_words_is_named(self) -> None:
        """'Resolved' as the metastasis's clinicalStatus text: not read as history (the
        metastasis stays present disease), named in a note."""
        got = read(bundle(MET, "clinicalStatus", {"text": "Resolved"}))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        assert any(n.startswith(f"Condition/{MET}: its clinicalStatus holds no code, only "
                                "the words 'Resolved'") for n in got.notes), got.notes

    @pytest.mark.parametrize("words", ["Active", "Recurrence", "Resolved"])
    def test_an_abatement_beside_a_clinical_status_in_words_keeps_the_metastasis(
            self, words: str) -> None:
        """The lung metastasis's clinicalStatus in words only, beside an
        abatementDateTime (2025-03-01): the words are not read, so its status is unknown,
        and a status not read never makes present disease history. The metastasis stays
        present disease (the safer reading: the patient is not free of disease), and the
        note says the abatement was not read as resolved. Before, the words were taken as
        no clinicalStatus and the abatement made the patient free of disease since
        2025-03-01, under a note saying the metastasis was kept as current."""
        got = read(bundle(MET, "clinicalStatus", {"text": words},
                          abatementDateTime="2025-03-01"))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        assert got.case.free_of_disease is None
        assert any(n.startswith(f"Condition/{MET}: its clinicalStatus in words only "
                                f"('{words}') is not read, and an abatement beside it is "
                                "not read as resolved") for n in got.notes), got.notes
        assert not any("read as resolved" in n and "no clinicalStatus" in n
                       for n in got.notes)

    @pytest.mark.parametrize("status", [
        {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                        "valueCode": "unknown"}]},
        {"text": "  "}], ids=["data-absent-reason", "blank-words"])
    def test_an_abatement_beside_a_clinical_status_sent_unknown_keeps_the_metastasis(
            self, status: dict[str, Any]) -> None:
        """The lung metastasis's clinicalStatus sent but saying nothing (a
        data-absent-reason 'unknown', or blank words) beside an abatementDateTime: a
        status not known, not an absent one, so the abatement does not make present
        disease history, as for a status in words. The metastasis stays present disease
        (the patient is not free of disease) and the note never says there is no
        clinicalStatus. Before, it was read as resolved and the patient free of disease
        since 2025-03-01."""
        got = read(bundle(MET, "clinicalStatus", status, abatementDateTime="2025-03-01"))
        assert [m.site.value for m in got.case.stage.metastases] == ["lung"]
        assert got.case.free_of_disease is None
        assert any(n.startswith(f"Condition/{MET}: its clinicalStatus is sent without a "
                                "code or words") for n in got.notes), got.notes
        assert not any("no clinicalStatus" in n for n in got.notes), got.notes

    def test_a_pecoma_confirmed_in_words_is_said_not_read(self) -> None:
        """'Confirmed' as the PEComa's verificationStatus text: refused, and the message
        says the words were not read (the status is unknown), never that 'Confirmed' may
        refute the diagnosis."""
        with pytest.raises(InputError) as caught:
            read(bundle(PRIMARY, "verificationStatus", {"text": "Confirmed"}))
        text = str(caught.value)
        assert "'Confirmed' is not read, so the status is unknown" in text
        assert "may refute" not in text

    def test_a_refusal_counting_another_cancer_refuted_in_words_says_so(self) -> None:
        """A lung metastasis coded by site alone (ICD-10-CM C78.00) and naming no primary,
        beside a breast cancer (C50.911) whose verificationStatus is 'Refuted' in words
        only: the words are not read, so the breast cancer counts as another primary
        cancer (the safer reading), and the metastasis cannot be taken as the PEComa's:
        refused. The message says why a cancer the record calls refuted counts: its
        status in words only was not read."""
        b = bundle(MET, "code", {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                             "code": "C78.00"}]})
        b["entry"].append({"resource": {
            "resourceType": "Condition", "id": "breast-ca",
            "clinicalStatus": status(CLINICAL, "active"),
            "verificationStatus": {"text": "Refuted"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                 "code": "C50.911"}]},
            "subject": {"reference": "Patient/pat-1003"}, "onsetDateTime": "2022-05-01"}})
        with pytest.raises(InputError) as caught:
            read(b)
        assert ("another primary cancer (Condition/breast-ca: its verificationStatus in "
                "words only ('Refuted') is not read, so it is counted as a current "
                "cancer)") in str(caught.value)
