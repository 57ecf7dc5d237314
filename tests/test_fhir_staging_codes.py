"""TNM staging and secondary-cancer sites coded by SNOMED CT alone, as mCODE's value sets
code them (a Coding's display is optional, FHIR R4 Datatypes, Coding).

The record is tests/data/mcode/uterus-localized.json: a resected uterine PEComa whose
mCODE HistoryOfMetastaticCancer, stated at diagnosis, is false, so without anything else
it reads as localized. A distant-metastases category or a stage group added to it must
give the same case whether it is coded by AJCC code, by SNOMED CT code or written out;
one pecoma cannot read must leave the disease unknown, never localized.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from pecoma.case import MetastasisSite, NodeStatus
from pecoma.engine import assess
from pecoma.errors import InputError
from pecoma.fhir import staging_codes as sc
from pecoma.fhir.reader import BundleCase, case_from_bundle

DATA = Path(__file__).parent / "data" / "mcode"
SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ON = dt.date(2026, 11, 28)


def corpus(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text("utf-8"))
    return data


def read(bundle: dict[str, Any]) -> BundleCase:
    return case_from_bundle(bundle, validate="full", on=ON)


def staging(code: tuple[str, str], value: dict[str, Any], rid: str = "tnm",
            when: str = "2026-10-01") -> dict[str, Any]:
    """A TNM staging Observation as mCODE writes one (code, value, no focus), dated after
    the diagnosis of 2024."""
    return {"resource": {
        "resourceType": "Observation", "id": rid, "status": "final",
        "code": {"coding": [{"system": code[0], "code": code[1]}]},
        "effectiveDateTime": when, "valueCodeableConcept": value,
        "subject": {"reference": "Patient/cancer-patient-pecoma-u"}}}


def with_staging(code: tuple[str, str], value: dict[str, Any],
                 when: str = "2026-10-01") -> dict[str, Any]:
    b = corpus("uterus-localized")
    b["entry"].append(staging(code, value, when=when))
    return b


#: A day after the diagnosis (2024-03-04) and before the resection (2024-04-09): a
#: clinical nodes category of then is the nodal status at presentation (one after the
#: resection is not).
PRE_OPERATIVE = "2024-03-20"


def code_only(code: str, system: str = SCT) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


#: The codes of a distant-metastases category Observation (mCODE
#: TNMDistantMetastasesStagingTypeMaxVS): clinical, pathological, unspecified.
M_OBSERVATION_CODES = [(LOINC, "21907-1"), (LOINC, "21901-4"), (LOINC, "21913-9"),
                       (SCT, "399387003"), (SCT, "371497001"), (SCT, "277208005")]
#: The codes of a stage-group Observation (TNMStageGroupStagingTypeMaxVS).
STAGE_OBSERVATION_CODES = [(LOINC, "21908-9"), (LOINC, "21902-2"), (LOINC, "21914-7"),
                           (SCT, "399390009"), (SCT, "399537006"), (SCT, "399588009")]


def _verhoeff_valid(number: str) -> bool:
    """SNOMED CT identifiers end in a Verhoeff check digit."""
    d = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
         [2, 3, 4, 0, 1, 7, 8, 9, 5, 6], [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
         [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
         [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
         [8, 7, 6, 5, 9, 3, 2, 1, 0, 4], [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
         [5, 8, 0, 3, 7, 9, 6, 1, 4, 2], [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
         [9, 4, 5, 3, 1, 2, 6, 8, 7, 0], [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
         [2, 7, 9, 3, 8, 0, 6, 4, 1, 5], [7, 0, 4, 6, 9, 1, 3, 2, 5, 8]]
    check = 0
    for i, digit in enumerate(reversed(number)):
        check = d[check][p[i % 8][int(digit)]]
    return check == 0


class TestShippedLists:
    @pytest.mark.parametrize("code", [*sc.SNOMED_M0, *sc.SNOMED_M1, *sc.SNOMED_STAGE_IV,
                                      *sc.SNOMED_STAGE_BELOW_IV, *sc.SNOMED_SECONDARY_SITE,
                                      *sc.SNOMED_N0, *sc.SNOMED_N_POSITIVE, *sc.SNOMED_NX])
    def test_every_id_is_a_well_formed_international_concept_id(self, code: str) -> None:
        """Each id was copied from a published value set (staging_codes.py names it): a
        digit mistyped while copying would fail SNOMED CT's Verhoeff check digit; the
        partition digits '00' say an International Edition concept."""
        assert code.isdigit() and _verhoeff_valid(code)
        assert code[-3:-1] == "00"

    def test_no_code_is_in_two_lists(self) -> None:
        """A code is M0 or M1, IV or below IV, never both."""
        assert not set(sc.SNOMED_M0) & set(sc.SNOMED_M1)
        assert not set(sc.SNOMED_STAGE_IV) & set(sc.SNOMED_STAGE_BELOW_IV)
        n_lists = [set(sc.SNOMED_N0), set(sc.SNOMED_N_POSITIVE), set(sc.SNOMED_NX)]
        assert sum(len(x) for x in n_lists) == len(set().union(*n_lists))


class TestDistantMetastasesCategory:
    @pytest.mark.parametrize("code", sorted(sc.SNOMED_M1))
    def test_every_m1_code_alone_makes_the_disease_metastatic(self, code: str) -> None:
        """cM1, pM1 and every sub-category coded by SNOMED CT with no display: distant
        metastases are present. Read before as 'states no distant metastasis', beside the
        denied history the patient was localized (re-resection advised, no mTOR
        inhibitor)."""
        bc = read(with_staging((LOINC, "21907-1"), code_only(code)))
        assert bc.case.stage.status.value == "metastatic"
        assert bc.sources["stage.status"] == "Observation/tnm"

    @pytest.mark.parametrize("obs_code", M_OBSERVATION_CODES)
    def test_every_m_category_observation_code_is_read(
            self, obs_code: tuple[str, str]) -> None:
        """The pM category (SNOMED CT 371497001), the unspecified M category and the LOINC
        'other' code are distant-metastases categories too; a pM1 under 371497001 had been
        'a code the case does not record', the patient localized."""
        bc = read(with_staging(obs_code, code_only("1229916009")))
        assert bc.case.stage.status.value == "metastatic"

    @pytest.mark.parametrize("value", [
        code_only("1229903009"),
        code_only("cM1", "http://cancerstaging.org"),
        {"text": "American Joint Committee on Cancer cM1 (qualifier value)"},
        {"coding": [{"system": SCT, "code": "1229903009",
                     "display": "American Joint Committee on Cancer cM1 (qualifier value)"}]},
    ], ids=["snomed-code", "ajcc-code", "text", "code-and-display"])
    def test_one_truth_in_three_shapes_gives_one_case(self, value: dict[str, Any]) -> None:
        """cM1 by SNOMED CT code, by AJCC code, in words, or both: the same case."""
        case = read(with_staging((SCT, "399387003"), value)).case
        assert case.stage.status.value == "metastatic"

    @pytest.mark.parametrize("code", sorted(sc.SNOMED_M0))
    def test_an_m0_code_alone_is_no_disease_status(self, code: str) -> None:
        """cM0 and cM0(i+) by code: no distant metastasis; the denied history makes the
        record localized, as before."""
        bc = read(with_staging((LOINC, "21907-1"), code_only(code)))
        assert bc.case.stage.status.value == "localized"
        assert any("states no distant metastasis" in x for x in bc.not_read)

    @pytest.mark.parametrize("value", [
        # the value set's own parent concept ("... clinical M category allowable value"),
        # no M category itself; a local code; an MX; a SNOMED M0 code shown as cM1
        code_only("1222587001"),
        code_only("M-99", "http://hospital.example/tnm"),
        {"text": "cMX"},
        {"coding": [{"system": SCT, "code": "1229901006", "display": "cM1"}]},
    ], ids=["parent-concept", "local-code", "mx", "code-and-display-disagree"])
    def test_a_category_pecoma_cannot_read_leaves_the_disease_unknown(
            self, value: dict[str, Any]) -> None:
        """An M category pecoma cannot read was 'states no distant metastasis' and the
        record localized. Whether there are distant metastases is unknown: the denied
        history no longer makes the record localized, and with nothing else the record
        is refused, naming the category and saying it cannot be read."""
        with pytest.raises(InputError) as exc:
            read(with_staging((LOINC, "21907-1"), value))
        assert "Observation/tnm records a TNM distant metastases category or a stage " \
               "group pecoma cannot read" in str(exc.value)

    def test_an_unread_category_beside_a_stated_status_is_said(self) -> None:
        """With the disease status recorded (pecoma#disease-status localized) the record
        reads, and the category pecoma could not read is listed and noted as unknown."""
        b = with_staging((LOINC, "21907-1"), code_only("M-99", "http://hospital.example/tnm"))
        b["entry"].append({"resource": {
            "resourceType": "Observation", "id": "status", "status": "final",
            "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                                 "code": "disease-status"}]},
            "valueCodeableConcept": {"coding": [{
                "system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                "code": "localized"}]},
            "effectiveDateTime": "2026-10-02",
            "subject": {"reference": "Patient/cancer-patient-pecoma-u"}}})
        bc = read(b)
        assert bc.case.stage.status.value == "localized"
        assert any("pecoma cannot read" in x and "Observation/tnm" in x for x in bc.not_read)
        assert any(n.startswith("Observation/tnm: the TNM distant metastases category")
                   and "unknown" in n for n in bc.notes)


#: The codes of a regional nodes category Observation (mCODE
#: TNMRegionalNodesStagingTypeMaxVS): clinical, pathological, other; N, cN, pN category.
N_OBSERVATION_CODES = [(LOINC, "21906-3"), (LOINC, "21900-6"), (LOINC, "21912-1"),
                       (SCT, "277206009"), (SCT, "399534004"), (SCT, "371494008")]
AJCC = "http://cancerstaging.org"


def nodes(bundle: dict[str, Any]) -> NodeStatus:
    return read(bundle).case.stage.lymph_nodes


class TestRegionalNodesCategory:
    """mCODE TNMRegionalNodesCategory on the resected uterine record (localized, R0, no
    nodal fact of its own): N1 to N3 are positive regional nodes, the fact S11 asks
    for ('consider postoperative chemotherapy or radiotherapy'); the category had been
    'a code the case does not record', the nodes unknown and S11 silent."""

    @pytest.mark.parametrize("obs_code", N_OBSERVATION_CODES)
    def test_every_regional_nodes_observation_code_is_read(
            self, obs_code: tuple[str, str]) -> None:
        bc = read(with_staging(obs_code, code_only("pN1", AJCC), PRE_OPERATIVE))
        assert bc.case.stage.lymph_nodes is NodeStatus.positive
        assert bc.sources["stage.lymph_nodes"] == "Observation/tnm"

    @pytest.mark.parametrize("value", [
        code_only("pN1", AJCC),
        code_only("1229951001"),
        {"coding": [{"system": SCT, "code": "1229951001",
                     "display": "American Joint Committee on Cancer pN1 (qualifier value)"}]},
        {"text": "pN1"},
    ], ids=["ajcc-code", "snomed-code", "code-and-display", "text"])
    def test_pn1_in_every_shape_gives_positive_nodes_and_s11(
            self, value: dict[str, Any]) -> None:
        """pN1 by the AJCC code the IG allows, by SNOMED CT code alone (NZHTS
        canshare-tnm-pn), with its display, or in words: positive nodes, and the
        assessment considers postoperative chemotherapy or radiotherapy (S11)."""
        case = read(with_staging((LOINC, "21900-6"), value)).case
        assert case.stage.lymph_nodes is NodeStatus.positive
        assert "REC-ADJ-NODES-METS" in assess(case, ON).record_ids()

    @pytest.mark.parametrize("code", sorted(sc.SNOMED_N_POSITIVE))
    def test_every_positive_snomed_code_alone_is_positive(self, code: str) -> None:
        assert nodes(with_staging((SCT, "371494008"), code_only(code))) is NodeStatus.positive

    @pytest.mark.parametrize("code", sorted(sc.SNOMED_N0))
    def test_every_n0_snomed_code_alone_is_negative(self, code: str) -> None:
        """cN0, pN0 (the IG's own examples 1229967007, 1229947003) and their forms,
        isolated tumour cells included: no regional lymph-node metastasis."""
        assert nodes(with_staging((SCT, "399534004"), code_only(code), PRE_OPERATIVE)
                     ) is NodeStatus.negative

    @pytest.mark.parametrize("value", [
        code_only("1229966003"), code_only("1229945006"), code_only("pNX", AJCC),
        {"text": "NX"}], ids=["cnx", "pnx", "ajcc-pnx", "text"])
    def test_nx_is_nodes_not_assessed_with_a_note(self, value: dict[str, Any]) -> None:
        """NX (the regional nodes cannot be assessed) is what the case format calls nodes
        not assessed (as the project's own Observation's dataAbsentReason not-performed
        is): never negative, still asked (MISS-NODES), and a note says so. It had been read
        as not recorded at all, which now means the high-risk schedule meanwhile (I10): NX
        is a fact the record states, not one it leaves out."""
        bc = read(with_staging((LOINC, "21900-6"), value))
        assert bc.case.stage.lymph_nodes is NodeStatus.not_assessed
        assert any(n.startswith("Observation/tnm: the TNM regional nodes category")
                   and "NX" in n and "not assessed" in n for n in bc.notes)
        assert "MISS-NODES" in assess(bc.case, ON).record_ids()

    @pytest.mark.parametrize("value", [
        # SNOMED CT 1229967007 is cN0 (the IG's own example), shown as pN1; the value
        # set's parent concept; a local code; ypN0 (after treatment before surgery)
        {"coding": [{"system": SCT, "code": "1229967007",
                     "display": "American Joint Committee on Cancer pN1 (qualifier value)"}]},
        code_only("1222590007"),
        code_only("N-99", "http://hospital.example/tnm"),
        code_only("ypN0", AJCC),
    ], ids=["code-and-display-disagree", "parent-concept", "local-code", "ypn0"])
    def test_a_category_pecoma_cannot_read_leaves_the_nodes_unknown(
            self, value: dict[str, Any]) -> None:
        """Never taken as N0: unknown, listed as not read and noted."""
        bc = read(with_staging((LOINC, "21900-6"), value))
        assert bc.case.stage.lymph_nodes is NodeStatus.unknown
        assert any("TNM regional nodes category" in x for x in bc.not_read)
        assert any(n.startswith("Observation/tnm: the TNM regional nodes category")
                   for n in bc.notes)

    def test_a_later_category_wins_and_one_of_one_time_that_disagrees_is_unknown(
            self) -> None:
        """The nodal status from two results, the project's own and a TNM category,
        follows the reader's rule for a fact given twice: the later wins (pN1 after a
        clinical 'negative'), and two of one time that disagree leave it unknown."""
        own = {"resource": {
            "resourceType": "Observation", "id": "own", "status": "final",
            "code": {"coding": [{"system": "https://pecoma.example/fhir/CodeSystem/pecoma",
                                 "code": "regional-lymph-nodes"}]},
            "valueCodeableConcept": {"coding": [{"system": SCT, "code": "260385009"}]},
            "effectiveDateTime": "2026-09-01",
            "subject": {"reference": "Patient/cancer-patient-pecoma-u"}}}
        later = with_staging((LOINC, "21900-6"), code_only("pN1", AJCC))
        later["entry"].append(own)
        assert nodes(later) is NodeStatus.positive
        same_time = copy.deepcopy(later)
        same_time["entry"][-1]["resource"]["effectiveDateTime"] = "2026-10-01"
        bc = read(same_time)
        assert bc.case.stage.lymph_nodes is NodeStatus.unknown
        assert any(n.startswith("stage.lymph_nodes:") and "disagree" in n for n in bc.notes)

    def test_another_cancers_category_is_not_the_pecomas(self) -> None:
        """A pN1 whose focus is another Condition (a breast cancer) is that cancer's: not
        read, and no later result of the PEComa's nodes."""
        b = with_staging((LOINC, "21900-6"), code_only("pN1", AJCC))
        b["entry"].append({"resource": {
            "resourceType": "Condition", "id": "breast", "clinicalStatus": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "resolved"}]},
            "code": {"coding": [{"system": ICD10CM, "code": "C50.911"}]},
            "subject": {"reference": "Patient/cancer-patient-pecoma-u"}}})
        b["entry"][-2]["resource"]["focus"] = [{"reference": "Condition/breast"}]
        bc = read(b)
        assert bc.case.stage.lymph_nodes is NodeStatus.unknown
        assert any("Observation/tnm" in x and "not the PEComa" in x for x in bc.not_read)


class TestStageGroup:
    @pytest.mark.parametrize("code", sorted(sc.SNOMED_STAGE_IV))
    def test_every_stage_iv_code_alone_keeps_the_record_from_localized(
            self, code: str) -> None:
        """AJCC stage IV and its sub-groups by SNOMED CT code, no display: read before as
        'below IV' and the patient localized. Now refused, as stage IV in words is."""
        with pytest.raises(InputError) as exc:
            read(with_staging((LOINC, "21908-9"), code_only(code)))
        assert "Observation/tnm records stage IV" in str(exc.value)

    @pytest.mark.parametrize("obs_code", STAGE_OBSERVATION_CODES)
    def test_every_stage_group_observation_code_is_read(
            self, obs_code: tuple[str, str]) -> None:
        """A stage group IV under any code of mCODE's stage-group staging types."""
        with pytest.raises(InputError) as exc:
            read(with_staging(obs_code, code_only("1222837003")))
        assert "records stage IV" in str(exc.value)

    @pytest.mark.parametrize("code", sorted(sc.SNOMED_STAGE_BELOW_IV))
    def test_a_stage_below_iv_code_alone_changes_nothing(self, code: str) -> None:
        """Stage 0 to IIID by SNOMED CT code: below IV, the record stays localized."""
        bc = read(with_staging((LOINC, "21908-9"), code_only(code)))
        assert bc.case.stage.status.value == "localized"
        assert any("below IV" in x for x in bc.not_read)

    @pytest.mark.parametrize("value", [
        code_only("1222592004"),
        code_only("S-7", "http://hospital.example/stage"),
        {"coding": [{"system": SCT, "code": "1222806003", "display": "Stage IV"}]},
    ], ids=["parent-concept", "local-code", "code-and-display-disagree"])
    def test_a_stage_group_pecoma_cannot_read_leaves_the_disease_unknown(
            self, value: dict[str, Any]) -> None:
        """A stage group pecoma cannot read was 'below IV', the record localized: it may
        be IV, so the record is refused, naming it."""
        with pytest.raises(InputError) as exc:
            read(with_staging((LOINC, "21908-9"), value))
        assert "pecoma cannot read" in str(exc.value)

    @pytest.mark.parametrize(("summary", "said"), [
        (code_only("1222841004"), "records stage IV"),
        (code_only("S-7", "http://hospital.example/stage"), "pecoma cannot read"),
    ])
    def test_the_primary_conditions_stage_is_read_by_code(
            self, summary: dict[str, Any], said: str) -> None:
        """The stage on the PEComa Condition itself (Condition.stage.summary): stage IVB by
        SNOMED CT code alone, or a code pecoma cannot read, keeps the denied history from
        making it localized."""
        b = corpus("uterus-localized")
        cond = next(e["resource"] for e in b["entry"]
                    if e["resource"]["id"] == "primary-cancer-condition-uterus")
        cond["stage"] = [{"summary": summary}]
        with pytest.raises(InputError) as exc:
            read(b)
        assert said in str(exc.value)


def kidney_with_lung_metastasis(code: dict[str, Any]) -> dict[str, Any]:
    """tests/data/mcode/kidney-metastatic.json, its right-lung metastasis (ICD-10-CM
    C78.01 in the corpus) coded ``code``."""
    b = corpus("kidney-metastatic")
    met = next(e["resource"] for e in b["entry"]
               if e["resource"]["id"] == "secondary-cancer-condition-lung-mets")
    met["code"] = code
    return b


class TestSecondaryCancerSite:
    @pytest.mark.parametrize(("code", "site"), sorted(sc.SNOMED_SECONDARY_SITE.items()))
    def test_a_snomed_secondary_neoplasm_code_alone_names_its_site(
            self, code: str, site: MetastasisSite) -> None:
        """Secondary malignant neoplasm of lung, liver, bone, brain by SNOMED CT code with
        no display: the site the code names. Lung, liver and bone had been 'names no
        site', taken as 'other' (the lung-metastasectomy check, S16, skipped)."""
        bc = read(kidney_with_lung_metastasis(code_only(code)))
        sites = [x.site for x in bc.case.stage.metastases]
        assert site in sites
        assert not any("secondary-cancer-condition-lung-mets names no site" in n
                       for n in bc.notes)

    def test_the_lung_by_snomed_code_gives_the_case_and_advice_of_icd10(self) -> None:
        """The same lung metastasis by SNOMED CT 94391008 alone, by ICD-10-CM C78.01 alone
        and by its text alone: one case, one assessment. The S16 assessment is among it
        (here waiting on whether disease outside the lungs is present now, the record
        listing a brain metastasis and stating nothing of it, I5); with the site taken as
        'other' it had been missing."""
        shapes = [code_only("94391008"), code_only("C78.01", ICD10CM),
                  {"text": "Metastatic malignant neoplasm to lung"}]
        cases = [read(kidney_with_lung_metastasis(s)).case for s in shapes]
        assert cases[0].stage.metastases == cases[1].stage.metastases \
            == cases[2].stage.metastases
        plans = [assess(c, ON).record_ids() for c in cases]
        assert plans[0] == plans[1] == plans[2]
        assert "REC-LUNG-METASTASECTOMY-PENDING" in plans[0]
        assert cases[0].stage.metastases[0].site is MetastasisSite.lung

    def test_a_code_pecoma_does_not_know_says_the_site_is_unknown(self) -> None:
        """A secondary cancer coded with a code pecoma does not know names a site, perhaps
        the lung: taken as 'other' (the case has no unknown site), but the note says the
        site is unknown and that the lung would change the advice, never 'names no
        site'."""
        bc = read(kidney_with_lung_metastasis(code_only("MET-LUNG", "http://hospital.example/dx")))
        note = next(n for n in bc.notes if "secondary-cancer-condition-lung-mets" in n
                    and "site" in n)
        assert "site is unknown" in note and "S16" in note
        assert "names no site" not in note

    def test_the_generic_code_still_names_no_site(self) -> None:
        """Control: SNOMED CT 128462008 (secondary malignant neoplastic disease) with no
        bodySite names no site, and says so."""
        bc = read(kidney_with_lung_metastasis(code_only("128462008")))
        assert any("secondary-cancer-condition-lung-mets names no site" in n
                   for n in bc.notes)

    def test_a_body_site_pecoma_cannot_read_is_said(self) -> None:
        """The mCODE way (128462008, the site in bodySite) with a body structure pecoma
        does not know: the site is taken as 'other' and a note says so (it had been
        silent)."""
        b = kidney_with_lung_metastasis(code_only("128462008"))
        met = next(e["resource"] for e in b["entry"]
                   if e["resource"]["id"] == "secondary-cancer-condition-lung-mets")
        met["bodySite"] = [code_only("XYZ", "http://hospital.example/site")]
        bc = read(copy.deepcopy(b))
        assert any("secondary-cancer-condition-lung-mets.bodySite names a site" in n
                   for n in bc.notes)
