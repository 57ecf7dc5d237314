"""A metastasis Condition whose own histology names another tumour is no PEComa metastasis.

The shipped ``metastatic-lung-metachronous`` record: a soft-tissue PEComa resected in
2023 and a lung nodule, ``metastasis-1`` (coded the project's "Distant metastasis of
PEComa" and ICD-O-3 8714/6, onset 2024-10-20), read as a metachronous lung metastasis
(the metastatic pathway: metastasectomy S16/S17, mTOR inhibitor). A biopsy of that
nodule, an mCODE HistologicBehaviorAndType result (LOINC 31206-6) naming the Condition
(relatedCondition or focus), dated after it and saying primary lung adenocarcinoma, had
been listed as "histology other than PEComa of a metastasis" and the nodule still counted
as a PEComa metastasis: a patient with a localized PEComa and a second primary lung
cancer was advised as metastatic PEComa. The metastasis is read by the reader's one rule
for histology results (the latest wins; its own code a PEComa statement of its onset):
one whose latest histology names another tumour is not the PEComa's spread (listed with
why, said in a note, the disease status then following the rest of the record: a
statement of metastatic disease not known to be later than that biopsy, with no other
metastasis read, is asked, not taken); latest
statements that disagree are asked; one whose histology is PEComa, or says nothing
readable, stays a metastasis.
"""

from __future__ import annotations

import copy
from typing import Any, Final

import pytest

from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.web.smart.unreadable import unreadable

from allergy_support import ON, record

MET: Final = "metastasis-1"
ICDO3: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
SCT: Final = "http://snomed.info/sct"
RELATED: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-related-condition"
ADENO: Final = {"coding": [{"system": ICDO3, "code": "8140/3", "display": "Adenocarcinoma, NOS"}],
                "text": "Lung nodule biopsy: primary lung adenocarcinoma (TTF-1 positive)"}


def biopsy(value: dict[str, Any] | None, day: str = "2024-11-05", rid: str = "hist-met",
           link: str = "relatedCondition") -> dict[str, Any]:
    """A 31206-6 result of the lung nodule, naming ``metastasis-1`` by mCODE's
    related-condition extension or by ``focus``."""
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "31206-6"}]},
        "subject": {"reference": "Patient/pat-1003"}, "effectiveDateTime": day}
    if link == "focus":
        obs["focus"] = [{"reference": f"Condition/{MET}"}]
    else:
        obs["extension"] = [{"url": RELATED,
                             "valueReference": {"reference": f"Condition/{MET}"}}]
    if value is None:
        obs["dataAbsentReason"] = {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
            "code": "unknown"}]}
    else:
        obs["valueCodeableConcept"] = value
    return obs


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, on=ON, validate="full")


def listed(got: BundleCase, where: str) -> str:
    """The entry of ``not_read`` listing ``where`` (why it was not read)."""
    return next(x for x in got.not_read if f": {where})" in x or f" {where}," in x)


def without(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"] = [e for e in out["entry"] if e["resource"].get("id") != rid]
    return out


def status(value: str, day: str | None) -> dict[str, Any]:
    """The example's disease-status Observation valued ``value``, dated ``day`` (or not)."""
    obs = copy.deepcopy(next(e["resource"] for e in record()["entry"]
                             if e["resource"].get("id") == "disease-status"))
    obs["valueCodeableConcept"] = {"coding": [
        {"system": "https://pecoma.example/fhir/CodeSystem/pecoma", "code": value}]}
    if day is not None:
        obs["effectiveDateTime"] = day
    return obs


def with_status(bundle: dict[str, Any], obs: dict[str, Any]) -> dict[str, Any]:
    out = without(bundle, "disease-status")
    out["entry"].append({"resource": obs})
    return out



def status_later(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with its disease status ('metastatic') dated 2024-12-15, after every
    biopsy here: a statement not resting on the nodule alone, so the reading of the
    nodule itself is what is tested."""
    return with_status(bundle, status("metastatic", "2024-12-15"))


#: Biopsies of the nodule, after its onset, naming another tumour: by ICD-O-3 code, by a
#: SNOMED CT morphology's display, by text alone.
OTHER_TUMOUR = [
    pytest.param(ADENO, id="icdo3-adenocarcinoma"),
    pytest.param({"coding": [{"system": SCT, "code": "28899001",
                              "display": "Squamous cell carcinoma, no ICD-O subtype "
                                         "(morphologic abnormality)"}]},
                 id="snomed-squamous-cell-carcinoma"),
    pytest.param({"coding": [{"system": SCT, "code": "35917007",
                              "display": "Adenocarcinoma, no subtype (morphologic "
                                         "abnormality)"}]},
                 id="snomed-adenocarcinoma-no-subtype"),
    pytest.param({"text": "Small cell carcinoma of lung"}, id="text-small-cell-carcinoma"),
]


class TestAnotherTumoursBiopsy:
    @pytest.mark.parametrize("value", OTHER_TUMOUR)
    @pytest.mark.parametrize("link", ["relatedCondition", "focus"])
    def test_the_nodule_is_no_pecoma_metastasis(self, value: dict[str, Any],
                                                link: str) -> None:
        """The nodule's own later biopsy names another cancer: the lung nodule is not shown
        to be PEComa, so it is not in stage.metastases (it had been, the metastatic
        pathway following), it is listed as not read with why, and a note says so."""
        got = read(status_later(record(biopsy(value, link=link))))
        assert got.case.stage.metastases == ()
        why = listed(got, f"Condition/{MET}")
        assert "its latest histology, Observation/hist-met" in why
        assert "not a metastasis of the PEComa" in why
        assert any(n.startswith(f"Condition/{MET}: its latest histology") and
                   "left out of stage.metastases" in n for n in got.notes)

    def test_a_metastatic_status_resting_on_that_nodule_alone_is_asked(self) -> None:
        """The record's undated disease-status Observation says 'metastatic', and its only
        metastasis is the nodule now shown to be a lung adenocarcinoma (the PEComa removed
        R0, nodes negative): that status may have been recorded for the nodule, so it is
        not taken as fact. Taken, it gave the metastatic pathway unconditionally (an mTOR
        inhibitor as treatment of choice, nab-sirolimus, aggressive surgery) to a patient
        whose only known spread is another cancer. The status is asked, naming the
        Observation and the metastasis set aside; never assumed localized either."""
        with pytest.raises(InputError) as caught:
            read(record(biopsy(ADENO)))
        issue = next(i for i in caught.value.issues if i.path == "stage.status")
        assert "Observation/disease-status" in issue.rule
        assert f"Condition/{MET}" in issue.rule
        assert "Observation/hist-met" in issue.rule

    def test_with_no_other_source_of_the_status_the_record_asks_for_it(self) -> None:
        """With no disease-status Observation the status had been derived 'metastatic'
        from the nodule alone; not a PEComa metastasis, nothing else gives the status:
        the reader's refusal for stage.status applies (never assumed localized)."""
        with pytest.raises(InputError) as caught:
            read(without(record(biopsy(ADENO)), "disease-status"))
        assert "stage.status" in [i.path for i in caught.value.issues]

    @pytest.mark.parametrize("own", [False, True], ids=["its-biopsy", "its-morphology"])
    def test_the_refusal_names_the_metastasis_set_aside(self, own: bool) -> None:
        """No disease-status Observation, and the only metastasis set aside (by its
        biopsy, or by its own morphology extension 8140/3): the refusal for stage.status
        had said only that a metastasis Condition must give it, as if the record held
        none; it names the metastasis found and set aside, and why. The SMART page says
        the only metastases recorded were another cancer's."""
        bundle = (nodule(None, {"coding": [{"system": ICDO3, "code": "8140/3"}]}) if own
                  else record(biopsy(ADENO)))
        with pytest.raises(InputError) as caught:
            read(without(bundle, "disease-status"))
        issue = next(i for i in caught.value.issues if i.path == "stage.status")
        assert (f"every metastasis Condition the record holds was set aside as not the "
                f"PEComa's (Condition/{MET}: its latest histology, ") in issue.rule
        page = unreadable(caught.value.issues, [])
        assert any("the only metastases recorded were found to be another cancer's" in p
                   for p in page.points)

    def test_an_earlier_pecoma_biopsy_is_revised_by_the_later_one(self) -> None:
        """A PEComa biopsy (8714/6) of the nodule, then a corrected reading as
        adenocarcinoma: the later stands, the earlier is listed as revised."""
        first = biopsy({"coding": [{"system": ICDO3, "code": "8714/6"}]}, day="2024-10-25",
                       rid="hist-met-1")
        got = read(status_later(record(first, biopsy(ADENO))))
        assert got.case.stage.metastases == ()
        assert "revised by the later Observation/hist-met" in listed(
            got, "Observation/hist-met-1")


class TestTheLatestBiopsyDecides:
    @pytest.mark.parametrize("value", [
        pytest.param({"coding": [{"system": ICDO3, "code": "8714/6"}]}, id="8714-6"),
        pytest.param({"coding": [{"system": ICDO3, "code": "8714/3"}]}, id="8714-3"),
        pytest.param({"text": "Metastatic PEComa, HMB-45 positive"}, id="text-pecoma"),
    ])
    def test_a_later_pecoma_biopsy_keeps_the_metastasis(self, value: dict[str, Any]) -> None:
        """A first reading as adenocarcinoma revised by a later PEComa one (S25: PEComa
        is often first taken for another tumour): the lung metastasis stands, as it was,
        and the first reading is listed as revised."""
        later = biopsy(value, day="2024-12-01", rid="hist-met-2")
        got = read(record(biopsy(ADENO), later))
        assert [(x.site.value, str(x.detected_on)) for x in got.case.stage.metastases] == [
            ("lung", "2024-10-20")]
        assert "revised by the later Observation/hist-met-2" in listed(
            got, "Observation/hist-met")

    def test_a_later_result_saying_nothing_readable_revises_nothing(self) -> None:
        """A later result with no value (dataAbsentReason) says nothing of the histology:
        the adenocarcinoma stands, and the nodule is still no PEComa metastasis."""
        later = biopsy(None, day="2024-12-01", rid="hist-met-2")
        got = read(status_later(record(biopsy(ADENO), later)))
        assert got.case.stage.metastases == ()
        assert "no value" in listed(got, "Observation/hist-met-2")


def test_biopsies_of_one_time_that_disagree_are_asked() -> None:
    """A PEComa and an adenocarcinoma result of the nodule on the same day, neither a
    correction of the other: whether it is the PEComa's spread cannot be told; refused
    with the question, never read by the bundle's order."""
    same_day = biopsy({"coding": [{"system": ICDO3, "code": "8714/6"}]}, rid="hist-met-2")
    with pytest.raises(InputError) as caught:
        read(record(biopsy(ADENO), same_day))
    issue = next(i for i in caught.value.issues if i.path == f"Condition/{MET}")
    assert "cannot be read as a metastasis of the PEComa" in issue.rule
    assert "disagree on its histology" in issue.rule


def distant_metastasis_present(day: str | None) -> dict[str, Any]:
    """An mCODE CancerDiseaseStatus 'distant metastasis present' naming no Condition."""
    obs: dict[str, Any] = {
        "resourceType": "Observation", "id": "mcode-status", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "97509-4"}]},
        "subject": {"reference": "Patient/pat-1003"},
        "valueCodeableConcept": {"coding": [{"system": SCT, "code": "399409002"}]}}
    if day is not None:
        obs["effectiveDateTime"] = day
    return obs


class TestAStatusOfMetastaticBesideTheNoduleSetAside:
    """Whether 'metastatic' stands once the record's only metastasis (onset 2024-10-20)
    is shown by its biopsy (2024-11-05) to be another cancer: only a statement known to
    be later than that biopsy, or another metastasis, keeps it."""

    @pytest.mark.parametrize("day", [None, "2024-10-25", "2024-11-05"],
                             ids=["undated", "before-the-biopsy", "the-biopsy-day"])
    def test_a_status_not_later_than_the_biopsy_is_asked(self, day: str | None) -> None:
        """Undated, before the biopsy, or of its day (not known to be later): it may be
        the nodule's, so the status is asked, never the metastatic pathway as fact."""
        bundle = with_status(record(biopsy(ADENO)), status("metastatic", day))
        with pytest.raises(InputError) as caught:
            read(bundle)
        assert "stage.status" in [i.path for i in caught.value.issues]

    @pytest.mark.parametrize("day", [None, "2024-12-01"], ids=["undated", "later"])
    def test_an_mcode_distant_metastasis_statement_not_later_is_asked(
            self, day: str | None) -> None:
        """The same for mCODE's 'distant metastasis present' (no project status): taken
        only when known to be later than the biopsy."""
        bundle = without(record(biopsy(ADENO), distant_metastasis_present(day)),
                         "disease-status")
        if day is None:
            with pytest.raises(InputError) as caught:
                read(bundle)
            assert "Observation/mcode-status" in next(
                i.rule for i in caught.value.issues if i.path == "stage.status")
        else:
            assert read(bundle).case.stage.status.value == "metastatic"

    def test_a_status_dated_after_the_biopsy_is_kept(self) -> None:
        """Stated metastatic after the biopsy showed the nodule to be another cancer: a
        statement made knowing it, kept (the metastases are then asked by the engine)."""
        bundle = with_status(record(biopsy(ADENO)), status("metastatic", "2024-12-01"))
        got = read(bundle)
        assert got.case.stage.status.value == "metastatic"
        assert got.case.stage.metastases == ()

    @pytest.mark.parametrize("value", [
        pytest.param({"coding": [{"system": ICDO3, "code": "8714/3"}]}, id="pecoma-biopsy"),
        pytest.param(None, id="biopsy-with-no-value")])
    def test_a_pecoma_or_unreadable_biopsy_changes_nothing(
            self, value: dict[str, Any] | None) -> None:
        """The nodule stays a PEComa metastasis: the undated status stands as before,
        and the metastatic pathway with it."""
        got = read(record(biopsy(value)))
        assert got.case.stage.status.value == "metastatic"
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        recs = {x.id for x in assess(got.case, ON).recommendations}
        assert "REC-LUNG-METASTASECTOMY" in recs

    def test_another_metastasis_still_read_keeps_the_status(self) -> None:
        """A second metastasis, a liver one with no biopsy of another tumour: the status
        rests on it, and stands."""
        bundle = record(biopsy(ADENO))
        liver = copy.deepcopy(next(e["resource"] for e in bundle["entry"]
                                   if e["resource"].get("id") == MET))
        liver["id"] = "metastasis-2"
        liver["bodySite"] = [{"text": "liver"}]
        bundle["entry"].append({"resource": liver})
        got = read(bundle)
        assert got.case.stage.status.value == "metastatic"
        assert [x.site.value for x in got.case.stage.metastases] == ["liver"]

    def test_a_localized_status_is_not_touched(self) -> None:
        """Only a statement of metastatic disease is doubted: 'localized' stands."""
        got = read(with_status(record(biopsy(ADENO)), status("localized", None)))
        assert got.case.stage.status.value == "localized"


class TestWordsNotRead:
    """A biopsy of the nodule whose words pecoma does not read (a negation, a doubt or a
    hedge anywhere, or words it does not know) revises nothing: the nodule stays a PEComa
    metastasis (the safer reading for disease), the biopsy listed with why. Before, a
    negation of another feature, "cannot be excluded" or "no residual" was read as
    denying PEComa: a biopsy-proven metastasis dropped and metastasectomy withdrawn."""

    @pytest.mark.parametrize("text", [
        "Metastatic PEComa with lymphovascular invasion not identified",
        "Metastatic PEComa (TFE3 rearrangement not identified)",
        "Epithelioid tumour without necrosis consistent with metastatic PEComa",
        "Metastatic PEComa cannot be excluded",
        "No residual PEComa (post-everolimus)",
        "Kein Anhalt für PEComa-Metastase; primäres Adenokarzinom der Lunge",
    ])
    def test_the_nodule_stays_a_metastasis(self, text: str) -> None:
        got = read(record(biopsy({"text": text})))
        assert [(x.site.value, str(x.detected_on)) for x in got.case.stage.metastases] == [
            ("lung", "2024-10-20")]
        assert "revises nothing" in listed(got, "Observation/hist-met")
        assert "REC-LUNG-METASTASECTOMY" in {
            x.id for x in assess(got.case, ON).recommendations}


ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
MORPHOLOGY: Final = ("http://hl7.org/fhir/us/mcode/StructureDefinition/"
                     "mcode-histology-morphology-behavior")
#: The lung nodule coded by its site alone, as an EHR problem list codes a metastasis.
BY_SITE: Final = {"coding": [{"system": ICD10CM, "code": "C78.01",
                              "display": "Secondary malignant neoplasm of right lung"}]}


def nodule(code: dict[str, Any] | None = None,
           morphology: dict[str, Any] | None = None) -> dict[str, Any]:
    """``metastasis-1`` recoded ``code`` (by its site alone unless given), with mCODE's
    histology-morphology-behavior extension valued ``morphology`` when given."""
    bundle = record()
    met = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == MET)
    met["code"] = copy.deepcopy(code or BY_SITE)
    if morphology is not None:
        met["extension"] = [{"url": MORPHOLOGY, "valueCodeableConcept": morphology}]
    return bundle


#: A metastasis whose own Condition records another tumour: mCODE's morphology extension
#: (ICD-O-3, or a SNOMED CT morphology read by its display), or its own code's words.
OWN_OTHER_TUMOUR = [
    pytest.param(None, {"coding": [{"system": ICDO3, "code": "8140/3",
                                    "display": "Adenocarcinoma, NOS"}]},
                 id="morphology-icdo3-8140-3"),
    pytest.param(None, {"coding": [{"system": SCT, "code": "35917007",
                                    "display": "Adenocarcinoma, no subtype (morphologic "
                                               "abnormality)"}]},
                 id="morphology-snomed-adenocarcinoma"),
    pytest.param({"coding": [{"system": SCT, "code": "128462008",
                              "display": "Secondary malignant neoplastic disease"}]},
                 {"coding": [{"system": ICDO3, "code": "8140/3"}]},
                 id="generic-secondary-code-morphology-8140-3"),
    pytest.param({**BY_SITE, "text": "Metastatic adenocarcinoma to right lung"}, None,
                 id="code-text-adenocarcinoma"),
]


class TestTheMetastasisOwnHistology:
    """The lung nodule recorded with its histology on the Condition itself (mCODE records
    a secondary's morphology in the histology-morphology-behavior extension; an EHR's
    problem list often in the code's text) rather than as a separate biopsy result. It
    had been read as a PEComa metastasis with no note: the metastatic pathway (mTOR
    inhibitor first line, lung metastasectomy) for a PEComa whose only recorded spread is
    an adenocarcinoma. It is read by the one rule for a metastasis's histology: set aside
    as when its biopsy names another tumour."""

    @pytest.mark.parametrize(("code", "morphology"), OWN_OTHER_TUMOUR)
    def test_the_nodule_is_no_pecoma_metastasis(self, code: dict[str, Any] | None,
                                                morphology: dict[str, Any] | None) -> None:
        """Its own histology names another tumour: not in stage.metastases, listed as
        not read with why, and a note says so."""
        got = read(status_later(nodule(code, morphology)))
        assert got.case.stage.metastases == ()
        why = listed(got, f"Condition/{MET}")
        assert f"its latest histology, Condition/{MET}." in why
        assert "not a metastasis of the PEComa" in why
        assert any(n.startswith(f"Condition/{MET}: its latest histology") and
                   "left out of stage.metastases" in n for n in got.notes)

    @pytest.mark.parametrize(("code", "morphology"), OWN_OTHER_TUMOUR)
    def test_a_metastatic_status_resting_on_it_alone_is_asked(
            self, code: dict[str, Any] | None, morphology: dict[str, Any] | None) -> None:
        """The record's undated 'metastatic' status may have been recorded for that
        nodule: not taken (it gave mTOR first line and metastasectomy), asked, naming the
        status and the metastasis set aside; never assumed localized either."""
        with pytest.raises(InputError) as caught:
            read(nodule(code, morphology))
        issue = next(i for i in caught.value.issues if i.path == "stage.status")
        assert "Observation/disease-status" in issue.rule
        assert f"Condition/{MET}" in issue.rule

    def test_a_pecoma_code_beside_another_morphology_is_asked(self) -> None:
        """Its code says the PEComa's spread (the project's code and 8714/6) and its
        morphology extension an adenocarcinoma, both of its one day: which stands cannot
        be told, so it is asked, never read by the order of the elements."""
        bundle = record()
        met = next(e["resource"] for e in bundle["entry"] if e["resource"].get("id") == MET)
        met["extension"] = [{"url": MORPHOLOGY, "valueCodeableConcept": {
            "coding": [{"system": ICDO3, "code": "8140/3"}]}}]
        with pytest.raises(InputError) as caught:
            read(status_later(bundle))
        issue = next(i for i in caught.value.issues if i.path == f"Condition/{MET}")
        assert "disagree on its histology" in issue.rule

    def test_a_later_pecoma_biopsy_keeps_the_metastasis(self) -> None:
        """The morphology recorded as adenocarcinoma, then the nodule's biopsy read as a
        PEComa metastasis (8714/6) after the Condition's day: the later stands, as for
        two results (S25: PEComa is often first taken for another tumour)."""
        later = biopsy({"coding": [{"system": ICDO3, "code": "8714/6"}]}, day="2024-12-01")
        got = read(with_biopsy(nodule(None, {"coding": [{"system": ICDO3,
                                                          "code": "8140/3"}]}), later))
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]

    def test_the_morphology_revised_by_the_later_biopsy_is_noted(self) -> None:
        """The Condition's own morphology (8140/3) revised by the later PEComa biopsy: the
        record contradicts itself (its problem list still says adenocarcinoma), which is
        said in a note naming both, as a result so revised is listed; it had been kept
        silently."""
        later = biopsy({"coding": [{"system": ICDO3, "code": "8714/6"}]}, day="2024-12-01")
        got = read(with_biopsy(nodule(None, {"coding": [{"system": ICDO3,
                                                          "code": "8140/3"}]}), later))
        assert any(n.startswith(f"Condition/{MET}.extension(mcode-histology-morphology-"
                                "behavior) (8140/3): histology other than PEComa, revised "
                                "by the later Observation/hist-met (8714/6)")
                   for n in got.notes)

    @pytest.mark.parametrize("morphology", [
        pytest.param({"coding": [{"system": ICDO3, "code": "8714/3"}]}, id="pecoma-8714-3"),
        pytest.param({"coding": [{"system": ICDO3, "code": "8714/6"}]}, id="pecoma-8714-6"),
    ])
    def test_a_pecoma_morphology_changes_nothing(self, morphology: dict[str, Any]) -> None:
        """A morphology of PEComa: the nodule stays a PEComa metastasis, the undated
        status stands, the metastatic pathway with it."""
        got = read(nodule(None, morphology))
        assert got.case.stage.status.value == "metastatic"
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        assert "REC-LUNG-METASTASECTOMY" in {
            x.id for x in assess(got.case, ON).recommendations}

    @pytest.mark.parametrize("morphology", [
        pytest.param({"coding": [{"system": SCT, "code": "35917007"}]},
                     id="snomed-code-no-display"),
        pytest.param({"coding": [{"system": ICDO3, "code": "8000/6",
                                  "display": "Neoplasm, metastatic"}]},
                     id="neoplasm-metastatic-8000-6"),
    ])
    def test_a_morphology_not_read_changes_nothing_and_is_noted(
            self, morphology: dict[str, Any]) -> None:
        """A morphology pecoma cannot read (a SNOMED CT code with no words, a neoplasm
        not otherwise specified) is no other tumour (unknown is not another tumour): the
        nodule stays a PEComa metastasis (the safer reading for disease), and a note
        names the extension."""
        got = read(nodule(None, morphology))
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        assert any(n.startswith(f"Condition/{MET}.extension(mcode-histology-morphology-"
                                "behavior)") and "kept as the PEComa's" in n
                   for n in got.notes)

    def test_a_site_codes_words_not_read_are_quoted_not_called_a_histology(self) -> None:
        """C78.01 whose text reads "Lung metastasis, no evidence of adenocarcinoma": the
        words are not read (a negation), the nodule stays a PEComa metastasis, and the
        note quotes the words and why; it had called the site code C78.01 "histology
        C78.01" and advised coding it ICD-O-3, which a site code on a problem list is
        not."""
        got = read(nodule({**BY_SITE, "text": "Lung metastasis, no evidence of "
                                              "adenocarcinoma"}))
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        note = next(n for n in got.notes if n.startswith(f"Condition/{MET}.code:"))
        assert "'Lung metastasis, no evidence of adenocarcinoma'" in note
        assert "negation" in note
        assert "histology C78.01" not in note and "ICD-O-3" not in note

    def test_a_code_by_site_alone_changes_nothing(self) -> None:
        """C78.01 "Secondary malignant neoplasm of right lung" names no histology: the
        nodule is the PEComa's metastasis, as before."""
        got = read(nodule())
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        assert not any(n.startswith(f"Condition/{MET}.code") for n in got.notes)


def with_biopsy(bundle: dict[str, Any], *obs: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    out["entry"] += [{"resource": copy.deepcopy(x)} for x in obs]
    return out


RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"


def course(rid: str, rxcui: str, name: str, reason: str = f"Condition/{MET}",
           *more: str) -> dict[str, Any]:
    """A completed MedicationAdministration of ``name`` in 2024-11, given for ``reason``
    (and ``more``)."""
    return {"resourceType": "MedicationAdministration", "id": rid, "status": "completed",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxcui,
                                                      "display": name}]},
            "subject": {"reference": "Patient/pat-1003"},
            "effectivePeriod": {"start": "2024-11-20", "end": "2024-11-20"},
            "reasonReference": [{"reference": x} for x in (reason, *more)]}


class TestACourseGivenForTheNoduleSetAside:
    """A medication whose stated reason is the nodule set aside as another tumour (its
    biopsy a lung adenocarcinoma) was given for that cancer, not the PEComa: it had been
    read as the PEComa's line (doxorubicin then warned "chemotherapy before mTOR
    inhibitor" against the team; everolimus was taken as the PEComa's mTOR line, with no
    question whether the PEComa progressed on it). Read as a course given for another
    present primary cancer is."""

    def test_doxorubicin_for_it_is_no_line_of_the_pecomas(self) -> None:
        """No line of the PEComa's: listed as not read, noted (its anthracycline counts
        towards the cumulative dose), no chemotherapy-before-mTOR warning."""
        got = read(status_later(record(biopsy(ADENO), course("dox", "3639", "doxorubicin"))))
        assert got.case.systemic.therapies == ()
        assert f"given for another cancer (Condition/{MET}, its reason)" in listed(
            got, "MedicationAdministration/dox")
        assert any(n.startswith("MedicationAdministration/dox:") and
                   "cumulative anthracycline dose" in n for n in got.notes)
        alerts = {x.id for x in assess(got.case, ON).alerts}
        assert "ALERT-CHEMO-BEFORE-MTOR" not in alerts

    def test_everolimus_for_it_asks_whether_the_pecoma_progressed_on_it(self) -> None:
        """An mTOR inhibitor acts on the PEComa too: whether the PEComa progressed on it
        is asked, and the lines already given are not fully known."""
        got = read(status_later(record(biopsy(ADENO),
                                       course("eve", "141704", "everolimus"))))
        assert got.case.systemic.therapies == ()
        assert any("did the PEComa progress on everolimus" in x
                   for x in got.courses_in_doubt)
        assert got.history_doubt is not None

    def test_a_course_for_the_pecoma_metastasis_is_still_its_line(self) -> None:
        """The nodule not set aside (its biopsy PEComa): doxorubicin given for it is the
        PEComa's first line, as before."""
        pecoma = biopsy({"coding": [{"system": ICDO3, "code": "8714/6"}]})
        got = read(record(pecoma, course("dox", "3639", "doxorubicin")))
        assert [x.agent.value for x in got.case.systemic.therapies] == ["doxorubicin"]


    def test_a_course_naming_no_reason_is_asked_about(self) -> None:
        """Doxorubicin naming no reason, beside the nodule set aside as a lung
        adenocarcinoma (no primary of it recorded): it may have been given for that
        cancer, so which cancer it was given for is asked, and it is not claimed as the
        PEComa's first line meanwhile (it had been read as the PEComa's line, with the
        chemotherapy-before-mTOR warning against the team), as beside another primary
        cancer."""
        dox = course("dox", "3639", "doxorubicin")
        del dox["reasonReference"]
        got = read(status_later(record(biopsy(ADENO), dox)))
        assert got.case.systemic.therapies == ()
        assert any("which cancer was doxorubicin given for" in x
                   and f"the other tumour Condition/{MET} records" in x
                   for x in got.courses_in_doubt)
        assert got.history_doubt is not None
        assert "ALERT-CHEMO-BEFORE-MTOR" not in {x.id for x in assess(got.case, ON).alerts}

    def test_an_mtor_inhibitor_naming_no_reason_stays_a_line_and_is_asked_about(
            self) -> None:
        """Everolimus naming no reason beside the nodule set aside: read as a line (the
        PEComa is not taken as never treated with an mTOR inhibitor) and asked about."""
        eve = course("eve", "141704", "everolimus")
        del eve["reasonReference"]
        got = read(status_later(record(biopsy(ADENO), eve)))
        assert [x.agent.value for x in got.case.systemic.therapies] == ["everolimus"]
        assert any("which cancer was everolimus given for" in x
                   for x in got.courses_in_doubt)
        assert got.history_doubt is not None


def breast_cancer() -> dict[str, Any]:
    """An active, confirmed breast cancer (ICD-10-CM C50.911) of the example's patient."""
    return {"resourceType": "Condition", "id": "breast-ca",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"}]},
            "code": {"coding": [{"system": ICD10CM, "code": "C50.911",
                                 "display": "Malignant neoplasm of unspecified site of "
                                            "right female breast"}]},
            "subject": {"reference": "Patient/pat-1003"}, "onsetDateTime": "2025-09-01"}


class TestAMetastasisCodedAsThePecomasBesideAnotherCancer:
    """Beside another present primary cancer a metastasis naming no primary (no mCODE
    relatedPrimaryCancerCondition) cannot be taken as the PEComa's; but one whose own code
    is the PEComa's spread (ICD-O-3 8714/6, the project's code) names its primary so. It
    had refused the record: no assessment, and a "correct the record" card on every chart
    opening of a PEComa patient with a second cancer."""

    def test_it_is_read_as_the_pecomas(self) -> None:
        """The example's lung nodule (pecoma#metastasis, 8714/6) beside a breast cancer:
        the PEComa's lung metastasis, with a note."""
        got = read(record(breast_cancer()))
        assert [(x.site.value, str(x.detected_on)) for x in got.case.stage.metastases] == [
            ("lung", "2024-10-20")]
        assert any(n.startswith(f"Condition/{MET}: a metastasis naming no primary beside "
                                "another primary cancer (Condition/breast-ca), read as the "
                                "PEComa's") for n in got.notes)

    @pytest.mark.parametrize("code", ["8714/6", "87146"])
    def test_one_by_site_whose_morphology_codes_8714_6_is_read_as_the_pecomas(
            self, code: str) -> None:
        """C78.01 with mCODE's morphology extension ICD-O-3 8714/6 and no display (the
        usual ICD-O-3 form of a metastasis's morphology): its morphology names its
        primary, as 8714/3 or a display naming PEComa does. It had been refused for the
        missing relatedPrimaryCancerCondition."""
        got = read(with_biopsy(nodule(None, {"coding": [{"system": ICDO3, "code": code}]}),
                               breast_cancer()))
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        assert any(n.startswith(f"Condition/{MET}: a metastasis naming no primary beside "
                                "another primary cancer") for n in got.notes)

    def test_one_coded_by_site_alone_is_still_refused(self) -> None:
        """C78.01 names no primary: it may be the breast cancer's, so the record is
        refused naming the extension, as before."""
        with pytest.raises(InputError) as caught:
            read(with_biopsy(nodule(), breast_cancer()))
        assert f"Condition/{MET}.extension(relatedPrimaryCancerCondition)" in [
            i.path for i in caught.value.issues]


def adenocarcinoma_lesion() -> dict[str, Any]:
    """A second lung lesion, ``met-adeno`` (C78.02, naming no primary), whose mCODE
    morphology extension is ICD-O-3 8140/3 adenocarcinoma: set aside as another
    tumour's."""
    return {"resourceType": "Condition", "id": "met-adeno",
            "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "active"}]},
            "verificationStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                "code": "confirmed"}]},
            "code": {"coding": [{"system": ICD10CM, "code": "C78.02",
                                 "display": "Secondary malignant neoplasm of left lung"}]},
            "extension": [{"url": MORPHOLOGY, "valueCodeableConcept": {
                "coding": [{"system": ICDO3, "code": "8140/3"}]}}],
            "subject": {"reference": "Patient/pat-1003"}, "onsetDateTime": "2024-10-25"}


class TestACourseGivenForBothTheLesionSetAsideAndThePecomasMetastasis:
    """A course whose reasons name a lesion set aside as another tumour's (its morphology
    adenocarcinoma) and also a metastasis the reader itself reads as the PEComa's (coded
    8714/6, or by site alone with no other primary cancer recorded: no relatedPrimary
    extension) had been read as the other cancer's alone: doxorubicin given for the
    PEComa's lung metastasis was dropped (no "anthracycline given" alert, an
    anthracycline regimen offered as if none had been given), everolimus was not the
    PEComa's mTOR line. A reason naming the PEComa's metastasis names the PEComa: the
    course is the PEComa's line, given for both."""

    def test_doxorubicin_for_both_is_the_pecomas_line(self) -> None:
        """The example's nodule (8714/6, no relatedPrimary) and the adenocarcinoma lesion
        as reasons: doxorubicin is the PEComa's line, so the chemotherapy given before
        any mTOR inhibitor is known (its alert stands)."""
        got = read(record(adenocarcinoma_lesion(), course(
            "dox", "3639", "doxorubicin", "Condition/met-adeno", f"Condition/{MET}")))
        assert [x.agent.value for x in got.case.systemic.therapies] == ["doxorubicin"]
        assert "ALERT-CHEMO-BEFORE-MTOR" in {x.id for x in assess(got.case, ON).alerts}

    def test_a_metastasis_by_site_alone_read_as_the_pecomas_names_it(self) -> None:
        """The nodule coded C78.01 alone, naming no primary, with no other primary cancer
        recorded: the reader reads it as the PEComa's (stage.metastases), so a course
        given for it and the adenocarcinoma lesion is the PEComa's line too."""
        got = read(with_biopsy(nodule(), adenocarcinoma_lesion(), course(
            "dox", "3639", "doxorubicin", "Condition/met-adeno", f"Condition/{MET}")))
        assert [x.site.value for x in got.case.stage.metastases] == ["lung"]
        assert [x.agent.value for x in got.case.systemic.therapies] == ["doxorubicin"]

    def test_everolimus_for_both_is_the_pecomas_mtor_line(self) -> None:
        """Everolimus given for both is the PEComa's mTOR line (its alert), not a course
        of another cancer whose effect on the PEComa is asked."""
        got = read(record(adenocarcinoma_lesion(), course(
            "eve", "141704", "everolimus", "Condition/met-adeno", f"Condition/{MET}")))
        assert [x.agent.value for x in got.case.systemic.therapies] == ["everolimus"]
        assert got.courses_in_doubt == ()
        assert "ALERT-MTOR-GIVEN" in {x.id for x in assess(got.case, ON).alerts}

    def test_beside_a_breast_cancer_a_course_for_the_8714_6_metastasis_is_the_pecomas(
            self) -> None:
        """Beside a breast cancer the nodule coded 8714/6 is read as the PEComa's (its
        code names its primary): doxorubicin given for it is the PEComa's line, not
        asked as a course that names no cancer."""
        got = read(record(breast_cancer(), course("dox", "3639", "doxorubicin")))
        assert [x.agent.value for x in got.case.systemic.therapies] == ["doxorubicin"]
        assert got.courses_in_doubt == ()
        assert got.history_doubt is None
