"""What the reader recognises in records written the way EHRs and HL7 mCODE STU4 write them.

Codes and patterns, each with where it was read (the published mCODE STU4 IG,
``github.com/HL7/fhir-mCODE-ig``, ``input/fsh``; the FHIR R4 LOINC value set
``observation-codes``), and small pure functions that name a site, a metastasis, a
resection, a margin or a marker from a resource. The reader (fhir/reader.py) decides what
the case takes from them; docs/fhir.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from pecoma.case import Margin, MetastasisSite, PrimarySite
from pecoma.fhir import codes as c
from pecoma.fhir import staging_codes as sc
from pecoma.fhir.resection_codes import names_scope_excision, resection_code, scope_excision_code

ICD10CM: Final = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10: Final = "http://hl7.org/fhir/sid/icd-10"
HGNC_SYSTEMS: Final = frozenset({"http://www.genenames.org", "http://www.genenames.org/geneId",
                                 "https://www.genenames.org"})
_MCODE_SD: Final = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
#: mCODE extension linking an observation to its Condition (SD_Extensions.fsh).
RELATED_CONDITION: Final = _MCODE_SD + "mcode-related-condition"
#: Core extension linking a SecondaryCancerCondition to its primary (SD_Condition.fsh).
CONDITION_RELATED: Final = "http://hl7.org/fhir/StructureDefinition/condition-related"
PRIMARY_PROFILE: Final = _MCODE_SD + "mcode-primary-cancer-condition"
SECONDARY_PROFILE: Final = _MCODE_SD + "mcode-secondary-cancer-condition"
#: mCODE HistoryOfMetastaticCancer (SD_HistoryOfMetastaticCancer.fsh): an Observation.
HISTORY_PROFILE: Final = _MCODE_SD + "mcode-history-of-metastatic-cancer"
#: mCODE extensions qualifying a bodySite (SD_Extensions.fsh): its side, its part.
LATERALITY_QUALIFIER: Final = _MCODE_SD + "mcode-laterality-qualifier"
LOCATION_QUALIFIER: Final = _MCODE_SD + "mcode-location-qualifier"

# LOINC codes of the mCODE profiles (SD_*.fsh); TumorSize's own 21889-1 is
# codes.LOINC_TUMOUR_SIZE.
LOINC_LONGEST_DIMENSION: Final = "33728-7"  # TumorSize.component[tumorLongestDimension]
LOINC_HISTOLOGY_BEHAVIOR: Final = "31206-6"  # HistologicBehaviorAndType.code
LOINC_DISEASE_STATUS: Final = "97509-4"  # CancerDiseaseStatus.code
LOINC_GENOMIC_VARIANT: Final = "69548-6"  # GenomicVariant.code
LOINC_GENE_STUDIED: Final = "48018-6"  # component[gene-studied]
LOINC_CLINICAL_SIGNIFICANCE: Final = "53037-8"  # component[clinical-significance]
LOINC_PRESENT: Final = "LA9633-4"
LOINC_ABSENT: Final = "LA9634-2"
#: HistoryOfMetastaticCancer: SNOMED "History of metastatic malignant neoplasm" (valueBoolean
#: false = no history), SD_HistoryOfMetastaticCancer.fsh and EX_Basic.fsh.
SNOMED_HISTORY_OF_METASTATIC: Final = "1287652008"
#: Its descendants the IG's examples use (is-a 1287652008): "History of cancer metastatic
#: to liver" (EX_Basic.fsh, history-of-cancer-metastatic-to-liver); a code or a text
#: naming both a history and a metastasis is read as one too.
SNOMED_HISTORY_OF_METASTATIC_TO: Final = frozenset({"1098951000119108"})

#: CancerDiseaseStatus values (ConditionStatusTrendMaxVS, VS_Other.fsh) -> what they say.
DISEASE_STATUS_TREND: Final[Mapping[str, str]] = {
    "268910001": "improved",
    "359746009": "stable",
    "271299001": "worsened",
    "709137006": "undetermined",
    "550991000124107": "in full remission",
    "551001000124108": "in partial remission",
    "103338009": "in full remission",
    "103337004": "in partial remission",
    "399409002": "distant metastasis present",
    "260415000": "not detected",
}
SNOMED_DISTANT_METASTASIS_PRESENT: Final = "399409002"
#: The CancerDiseaseStatus values saying the disease is gone: a full remission, or "not
#: detected" (no evidence of disease).
DISEASE_STATUS_GONE: Final = frozenset({"550991000124107", "103338009", "260415000"})
#: The values saying disease is there: distant metastasis present, and a trend or a
#: partial remission (a disease that improves, stays stable or worsens is one still
#: there; only a full remission or "not detected" says it is gone). "Undetermined" says
#: neither.
DISEASE_STATUS_PRESENT: Final = frozenset({"399409002", "268910001", "359746009",
                                           "271299001", "551001000124108", "103337004"})

#: TNM staging (mCODE TNMDistantMetastasesCategory, TNMStageGroup; VS_Staging_TNM.fsh):
#: the codes of a distant metastases category (TNMDistantMetastasesStagingTypeMaxVS: LOINC
#: clinical, pathological, other; SNOMED CT "M category", "cM category", "pM category")
#: and of a stage group (TNMStageGroupStagingTypeMaxVS: LOINC clinical, pathological,
#: other; SNOMED CT "TNM stage grouping", clinical, pathological).
M_CATEGORY_CODES: Final = frozenset({("http://loinc.org", "21907-1"),
                                     ("http://loinc.org", "21901-4"),
                                     ("http://loinc.org", "21913-9"),
                                     ("http://snomed.info/sct", "277208005"),
                                     ("http://snomed.info/sct", "399387003"),
                                     ("http://snomed.info/sct", "371497001")})
#: The codes of a regional nodes category (TNMRegionalNodesCategory,
#: TNMRegionalNodesStagingTypeMaxVS: LOINC clinical 21906-3, pathological 21900-6, other
#: 21912-1; SNOMED CT "N category", "cN category", "pN category").
N_CATEGORY_CODES: Final = frozenset({("http://loinc.org", "21906-3"),
                                     ("http://loinc.org", "21900-6"),
                                     ("http://loinc.org", "21912-1"),
                                     ("http://snomed.info/sct", "277206009"),
                                     ("http://snomed.info/sct", "399534004"),
                                     ("http://snomed.info/sct", "371494008")})
STAGE_GROUP_CODES: Final = frozenset({("http://loinc.org", "21908-9"),
                                      ("http://loinc.org", "21902-2"),
                                      ("http://loinc.org", "21914-7"),
                                      ("http://snomed.info/sct", "399390009"),
                                      ("http://snomed.info/sct", "399537006"),
                                      ("http://snomed.info/sct", "399588009")})
#: An M category stating distant metastases, as a code (AJCC ``cM1``, UICC ``M1``) or in a
#: display ("American Joint Committee on Cancer cM1a (qualifier value)"): cM1, pM1, M1,
#: with or without a subcategory and a (0)/(1) suffix.
M1: Final = re.compile(r"(?<![a-z0-9])[cpy]?m1[a-d]?(?:\([01]\))?(?![a-z0-9])")
#: An M category stating none: M0, cM0, cM0(i+) (a pM0, which AJCC does not define, too).
M0: Final = re.compile(r"(?<![a-z0-9])[cpy]?m0(?:\s?\(i\+\))?(?![a-z0-9])")
#: An N category stating regional lymph-node metastasis, as a code (AJCC ``pN1``,
#: ``cN2a``, ``pN1a(sn)``, ``cN1mi``, ``ypN1``; UICC ``N1``) or in a display: N1 to N3.
N_POSITIVE: Final = re.compile(
    r"(?<![a-z0-9])(?:y?[cp])?n[1-3][a-c]?(?:mi)?(?:\((?:sn|f)\))?(?![a-z0-9])")
#: An N category stating none: N0, cN0, pN0 and their forms (``pN0(i+)``, ``pN0(mol+)``,
#: ``pN0a``). A ypN0 (after treatment before surgery) is not read: it does not say what
#: the nodes were at presentation.
N0: Final = re.compile(r"(?<![a-z0-9])[cp]?n0[ab]?(?:\s?\((?:i[+-]|mol[+-]|sn)\))?(?![a-z0-9])")
#: An N category saying the regional nodes cannot be assessed: NX, cNX, pNX.
NX: Final = re.compile(r"(?<![a-z0-9])[cp]?nx(?![a-z0-9])")
#: A stage group IV, as a code (``IV``, ``4``, ``IVB``, ``IVA1``) or in words ("Stage IVB",
#: "AJCC stage group IV").
STAGE_IV_CODE: Final = re.compile(r"(?:stage\s*)?(?:iv|4)[a-c]?[12]?")
STAGE_IV_WORDS: Final = re.compile(r"\bstage(?:\s+group)?\s+(?:iv|4)[a-c]?[12]?\b")
#: A stage group below IV: 0, 0a, 0is, IS, I-III with sub-groups (``IIIC1``, ``IB2``).
STAGE_BELOW_IV_CODE: Final = re.compile(r"(?:stage\s*)?(?:0(?:a|is)?|is|i{1,3}|[123])[a-e]?[1-3]?")
STAGE_BELOW_IV_WORDS: Final = re.compile(
    r"\bstage(?:\s+group)?\s+(?:0(?:a|is)?|is|i{1,3}|[123])[a-e]?[1-3]?\b")

#: Tumour-marker LOINC codes read in the FHIR R4 LOINC value set (observation-codes):
#: "HMB-45 Ag [Presence] in Tissue by Immune stain", "Desmin Ag [Presence] in Tissue by
#: Immune stain". Markers without a code listed here are read by name.
IHC_LOINC: Final[Mapping[str, str]] = {"10487-7": "hmb45", "10476-0": "desmin"}

#: Names of the markers in a test's text or display (lower case), most specific first.
IHC_NAMES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("hmb45", ("hmb-45", "hmb45", "hmb 45", "gp100", "pmel")),
    ("melan_a", ("melan-a", "melan a", "melana", "mart-1", "mart1")),
    ("h_caldesmon", ("caldesmon",)),
    ("cathepsin_k", ("cathepsin k", "cathepsin-k")),
    ("mitf", ("mitf", "microphthalmia")),
    ("sma", ("smooth muscle actin", "smooth-muscle actin", "actin.smooth muscle", "sma",
             "alpha-sma", "α-sma")),
    ("desmin", ("desmin",)),
    ("tfe3", ("tfe3", "tfe-3")),
)

#: HGNC gene ids of the molecular facts (genenames.org): TSC1, TSC2, TFE3.
HGNC_GENES: Final[Mapping[str, str]] = {"HGNC:12362": "tsc1", "HGNC:12363": "tsc2",
                                        "HGNC:11752": "tfe3"}

#: Clinical significance of a variant (LOINC answer list of 53037-8, as the mCODE GenomeX
#: examples code it, EX_GenomeX.fsh).
SIGNIFICANCE: Final[Mapping[str, str]] = {
    "LA6668-3": "pathogenic",
    "LA26332-9": "likely_pathogenic",
    "LA26333-7": "uncertain",
    "LA26334-5": "likely_benign",
    "LA6675-8": "benign",
}

#: Words of a site in a bodySite text or display (lower case) -> primary site. A
#: laterality ("Right kidney structure") or location qualifier does not change the organ.
PRIMARY_SITE_WORDS: Final[tuple[tuple[PrimarySite, tuple[str, ...]], ...]] = (
    (PrimarySite.broad_ligament, ("broad ligament",)),
    # the uterine cervix is part of the uterus ("cervix uteri", "corpus uteri"); "womb"
    # is its plain English name, "bowel" the intestine's
    (PrimarySite.uterus, ("uterus", "uterine", "uteri", "endometri", "myometri", "cervix",
                          "womb")),
    (PrimarySite.other_gynecologic, ("ovary", "ovarian", "vagina", "vulva", "vulval", "vulvar",
                                     "fallopian")),
    (PrimarySite.kidney, ("kidney", "renal")),
    (PrimarySite.liver, ("liver", "hepatic")),
    (PrimarySite.retroperitoneum, ("retroperiton",)),
    (PrimarySite.lung, ("lung", "pulmonary", "bronch")),
    (PrimarySite.bladder, ("bladder",)),
    (PrimarySite.gastrointestinal, ("stomach", "gastric", "intestin", "bowel", "colon",
                                    "rectum", "rectal", "duoden", "jejun", "ileum", "pancrea",
                                    "oesophag", "esophag")),
    (PrimarySite.soft_tissue, ("soft tissue", "subcutaneous", "skeletal muscle")),
)
METASTASIS_SITE_WORDS: Final[tuple[tuple[MetastasisSite, tuple[str, ...]], ...]] = (
    (MetastasisSite.lung, ("lung", "pulmonary")),
    (MetastasisSite.liver, ("liver", "hepatic")),
    (MetastasisSite.bone, ("bone",)),
    (MetastasisSite.brain, ("brain", "cerebr")),
    (MetastasisSite.peritoneum, ("periton",)),
    (MetastasisSite.distant_lymph_node, ("distant lymph node",)),
    (MetastasisSite.soft_tissue, ("soft tissue",)),
)

#: ICD-10-CM secondary malignant neoplasm codes (SecondaryCancerDisorderVS,
#: VS_CancerCondition.fsh) by prefix -> site; the rest of C78-C79 is 'other'.
_ICD10_SECONDARY: Final[tuple[tuple[str, MetastasisSite], ...]] = (
    ("C78.0", MetastasisSite.lung),
    ("C78.6", MetastasisSite.peritoneum),
    ("C78.7", MetastasisSite.liver),
    ("C79.3", MetastasisSite.brain),
    ("C79.5", MetastasisSite.bone),
)
#: SNOMED CT secondary malignant neoplasm codes naming a site (staging_codes.py says where
#: each id was read).
_SNOMED_SECONDARY: Final[Mapping[str, MetastasisSite]] = sc.SNOMED_SECONDARY_SITE
SNOMED_SECONDARY_DISEASE: Final = "128462008"  # "Secondary malignant neoplastic disease"

#: Words of a resection (a Procedure's code text or display).
RESECTION_WORDS: Final = (
    "hysterectomy", "nephrectomy", "hepatectomy", "lobectomy", "pneumonectomy",
    "segmentectomy", "cystectomy", "gastrectomy", "colectomy", "enterectomy",
    "pancreatectomy", "myomectomy", "resection", "excision", "metastasectomy")
#: Words naming a procedure that takes tissue (a biopsy, an aspiration, a core needle) or
#: treats it in place (an embolization, an ablation), British and US spellings alike
#: ("biopsied", "embolisation", "chemoembolization", "cryoablation", "ablative"): no
#: resection, unless words naming a resection stand beside them (:func:`resection_words`).
NOT_RESECTION: Final = re.compile(
    r"biops|aspirat|core needle|emboli[sz](?:ation|e|ed|ing)\b|\btace\b|ablat")
#: Of those, the ones that treat the tumour in place: beside a resection, which of them
#: removed the tumour cannot be told.
_TREATED_IN_PLACE: Final = re.compile(r"emboli[sz](?:ation|e|ed|ing)\b|\btace\b|ablat")
#: An excisional biopsy ("Excisional biopsy of renal mass", "excision biopsy"): a biopsy,
#: never a resection's words ("excision"), yet it may have removed the lesion whole.
EXCISIONAL_BIOPSY: Final = re.compile(r"\bexcision(?:al)? biops")
#: The words saying the tumour cannot be removed ("Tumour unresectable: encases iliac
#: vessels", "inoperable", "irresectable", "not resectable", "non-resectable", "could not
#: be resected"), one list for every reading of them (:data:`UNRESECTABLE`,
#: :data:`NOT_CARRIED_OUT`).
UNRESECTABLE_WORDS: Final = (
    r"unresectable|irresectable|inoperable|unoperable"
    r"|(?:not|non|un) (?:resectable|operable)"
    r"|(?:cannot|can not|could not|unable to) be (?:resected|removed|operated)"
    r"|not amenable to (?:resection|surgery)")
#: :data:`UNRESECTABLE_WORDS` as a pattern, on words in :func:`plain_words` form.
UNRESECTABLE: Final = re.compile(rf"\b(?:{UNRESECTABLE_WORDS})\b")
#: Words stating that an operation was not carried out: begun and stopped, only tried, the
#: abdomen opened and closed, the tumour found unresectable (:data:`UNRESECTABLE_WORDS`)
#: ("Aborted nephrectomy", "Nephrectomy abandoned", "Attempted laparoscopic nephrectomy",
#: "Open and close laparotomy", "Nephrectomy not performed", "Resection - tumour not
#: resectable"). Such an operation is read as a ``stopped`` one is, whatever its status.
NOT_CARRIED_OUT: Final = re.compile(
    r"\b(?:abort(?:ed)?|abandon(?:ed|ment)?|attempt(?:ed)?"
    rf"|{UNRESECTABLE_WORDS}"
    r"|open(?:ed)? ?(?:and|&|\+|/) ?clos(?:e|ed|ure)"
    r"|not (?:done|performed|carried out|completed|undertaken))\b")
#: Words putting a resection named beside a biopsy in doubt, besides a negation: a
#: resection not (yet) done, or one in place of which something else was done ("Biopsy;
#: nephrectomy planned", "Biopsy instead of nephrectomy").
_RESECTION_DEFERRED: Final = re.compile(
    r"\b(?:instead|rather than|in place of|deferr?ed|declined|refused|planned|scheduled"
    r"|cancel\w*|postponed|proposed|recommended|to follow)\b")


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty list (odd input never raises)."""
    return value if isinstance(value, list) else []


#: Hyphens or dashes, one at least, with the single blanks around them, between two
#: letters (written so that no text makes it backtrack more than once over a run).
_HYPHENS: Final = re.compile(r"(?<=[^\W\d_]) ?(?:[\-\u2010-\u2015\u2212] ?)+(?=[^\W\d_])")


def plain_words(text: str) -> str:
    """``text`` in the one form every text match compares (the reader's and the CDS
    screen's): lower case, each run of blanks (any Unicode space: a non-breaking space
    pasted from a report, a tab, a line break) one space, and hyphens or dashes between
    two words one space ("Perivascular epithelioid" written with a non-breaking space,
    with two spaces or as "Perivascular-epithelioid" are alike; "HMB-45" keeps its
    hyphen)."""
    words = " ".join(text.split())
    if "-" in words or not words.isascii():
        words = _HYPHENS.sub(" ", words)
    return words.lower()


#: The words that name a PEComa, in :func:`plain_words` form.
PECOMA_WORDS: Final = ("pecoma", "perivascular epithelioid")


def names_pecoma(words: str) -> bool:
    """Whether words in :func:`plain_words` form name a PEComa (anywhere, negated or not:
    a histology's words are read by :func:`pecoma.fhir.read_conditions.histology_words`)."""
    return any(w in words for w in PECOMA_WORDS)


#: Words naming a cancer (or the PEComa, or its family) in a text or display, in
#: :func:`plain_words` form: a reason so named is a cancer's, whatever its code.
CANCER_WORDS: Final = re.compile(
    r"neoplas|tumou?r|cancer|malignan|carcinom|carcinoid|sarcom|pecoma|perivascular "
    r"epithelioid|lymphom|leuk|melanom|myelom|blastom|metasta|oncolog|chemotherap|"
    r"angiomyolipom|lymphangioleiomyomatosis|mesotheliom|hodgkin|kaposi|myelodysplas|"
    r"myeloprolif|mycosis fungoides|waldenstr")
#: ICD-10 Z51.1 (ICD-10-CM Z51.11, Z51.12): an encounter for antineoplastic chemotherapy
#: or immunotherapy.
CHEMOTHERAPY_ENCOUNTER: Final = ("Z51.1",)


def names_a_cancer(concept: Any) -> bool:
    """Whether a CodeableConcept (a reason, a Condition's code) names a cancer, a neoplasm
    or its treatment: a word of :data:`CANCER_WORDS` in its text or displays ("Malignant
    PEComa", "Metastatic sarcoma", "Encounter for antineoplastic chemotherapy"), an ICD-10
    or ICD-10-CM code of the neoplasms (C00-D49) or of an encounter for chemotherapy
    (:data:`CHEMOTHERAPY_ENCOUNTER`), any ICD-O-3 code, or the project's PEComa or
    metastasis code. A code of another system alone (SNOMED CT with no display) names
    none pecoma can tell."""
    if CANCER_WORDS.search(lower_words(concept)):
        return True
    for system, code in codings(concept):
        code = code.strip().upper()
        if system in c.ICDO3_SYSTEMS or (system == c.PECOMA_SYSTEM and code.lower() in (
                c.CONDITION_PECOMA[0], c.CONDITION_METASTASIS[0])):
            return True
        if system in (ICD10CM, ICD10) and (
                code[:1] == "C" or (code[:1] == "D" and code[1:3].isdigit()
                                    and code[1:3] < "50")
                or code.startswith(CHEMOTHERAPY_ENCOUNTER)):
            return True
    return False


def lower_words(concept: Any) -> str:
    """A CodeableConcept's text and displays, as :func:`plain_words` ('' when none)."""
    return plain_words(concept_text(concept))


def concept_text(concept: Any) -> str:
    """A CodeableConcept's text and displays as written, one a line ('' when none): each
    a statement of its own for :func:`statements`."""
    if not isinstance(concept, dict):
        return ""
    parts = [str(concept["text"])] if isinstance(concept.get("text"), str) else []
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            parts.append(coding["display"])
    return "\n".join(parts)


def codings(concept: Any) -> list[tuple[str, str]]:
    """The (system, code) pairs of a CodeableConcept (strings; '' when absent)."""
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    return [(str(cd.get("system") or ""), str(cd.get("code") or ""))
            for cd in concept["coding"] if isinstance(cd, dict)]


def m_category(concept: Any) -> str | None:
    """What a TNM distant metastases category's value states: ``'M1'`` (distant
    metastases), ``'M0'`` (none), or ``None`` when pecoma cannot read it (a code it does not
    know and no words it reads, or codes and words that disagree): unknown, never M0.

    Read by SNOMED CT code (the AJCC concepts of mCODE's value set,
    :mod:`pecoma.fhir.staging_codes`), by AJCC or UICC code (``cM1``, ``M0``), or in the
    text and displays; a Coding's display is optional, so the code alone is enough."""
    said: set[str] = set()
    for system, code in codings(concept):
        if system == c.SNOMED and code in sc.SNOMED_M1:
            said.add("M1")
        elif system == c.SNOMED and code in sc.SNOMED_M0:
            said.add("M0")
        elif M1.fullmatch(code.lower()):
            said.add("M1")
        elif M0.fullmatch(code.lower()):
            said.add("M0")
    words = lower_words(concept)
    if M1.search(words):
        said.add("M1")
    elif M0.search(words):
        said.add("M0")
    return said.pop() if len(said) == 1 else None


def n_category(concept: Any) -> str | None:
    """What a TNM regional nodes category's value states: ``'positive'`` (N1 to N3),
    ``'negative'`` (N0), ``'NX'`` (the nodes cannot be assessed), or ``None`` when pecoma
    cannot read it (a code it does not know and no words it reads, or codes and words
    that disagree): unknown, never N0.

    Read as :func:`m_category` reads an M category: by SNOMED CT code
    (:mod:`pecoma.fhir.staging_codes`), by AJCC or UICC code (``pN1``, ``N0``), or in the
    text and displays."""
    said: set[str] = set()
    for system, code in codings(concept):
        if system == c.SNOMED and code in sc.SNOMED_N_POSITIVE:
            said.add("positive")
        elif system == c.SNOMED and code in sc.SNOMED_N0:
            said.add("negative")
        elif system == c.SNOMED and code in sc.SNOMED_NX:
            said.add("NX")
        elif N_POSITIVE.fullmatch(code.lower()):
            said.add("positive")
        elif N0.fullmatch(code.lower()):
            said.add("negative")
        elif NX.fullmatch(code.lower()):
            said.add("NX")
    words = lower_words(concept)
    said.update(name for name, pattern in (("positive", N_POSITIVE), ("negative", N0),
                                           ("NX", NX)) if pattern.search(words))
    return said.pop() if len(said) == 1 else None


def stage_group(concept: Any) -> str | None:
    """What a stage group's value (or a Condition.stage summary) states: ``'IV'``,
    ``'below IV'``, or ``None`` when pecoma cannot read it (unknown, never below IV).
    Read by SNOMED CT code (:mod:`pecoma.fhir.staging_codes`), by code (``IVB``, ``3``), or
    in words ("Stage IIIA")."""
    said: set[str] = set()
    for system, code in codings(concept):
        if system == c.SNOMED and code in sc.SNOMED_STAGE_IV:
            said.add("IV")
        elif system == c.SNOMED and code in sc.SNOMED_STAGE_BELOW_IV:
            said.add("below IV")
        elif STAGE_IV_CODE.fullmatch(code.lower()):
            said.add("IV")
        elif STAGE_BELOW_IV_CODE.fullmatch(code.lower()):
            said.add("below IV")
    words = lower_words(concept)
    if STAGE_IV_WORDS.search(words) or STAGE_IV_CODE.fullmatch(words):
        said.add("IV")
    elif STAGE_BELOW_IV_WORDS.search(words) or STAGE_BELOW_IV_CODE.fullmatch(words):
        said.add("below IV")
    return said.pop() if len(said) == 1 else None


def staging_value(obs: Mapping[str, Any]) -> Any:
    """A staging result's value as a CodeableConcept: its ``valueCodeableConcept``, or its
    ``valueString`` as the words of one ("IV", "Stage IV", "M1"); ``None`` when it has
    neither (no value, or a value of another type: unread, never below IV or M0)."""
    concept = obs.get("valueCodeableConcept")
    if concept is None and isinstance(obs.get("valueString"), str):
        return {"text": obs["valueString"]}
    return concept


def staging_value_shown(obs: Mapping[str, Any]) -> str:
    """A staging result's value as a note shows it: its words, else its codes, else the
    type of value it has ("(no value)" when none)."""
    concept = staging_value(obs)
    said = lower_words(concept) or ", ".join(code for _s, code in codings(concept) if code)
    if said:
        return said
    other = next((k for k in obs if k.startswith("value") and k != "valueCodeableConcept"),
                 None)
    return f"(a {other}, not a code or words)" if other else "(no value)"


def states_m1(concept: Any) -> bool:
    """Whether a TNM M category's value states distant metastases (M1, cM1, pM1, M1a...)."""
    return m_category(concept) == "M1"


def states_stage_iv(concept: Any) -> bool:
    """Whether a stage group's value (or a Condition.stage summary) is stage IV."""
    return stage_group(concept) == "IV"


def has_loinc(concept: Any, code: str) -> bool:
    return (c.LOINC, code) in codings(concept)


def profiles(resource: Mapping[str, Any]) -> list[str]:
    meta = resource.get("meta")
    if not isinstance(meta, dict) or not isinstance(meta.get("profile"), list):
        return []
    return [str(p).split("|")[0] for p in meta["profile"]]


def icdo3_pecoma(concept: Any) -> str | None:
    """'8714/0' or '8714/3' when the concept codes PEComa in ICD-O-3 (with or without '/')."""
    for system, code in codings(concept):
        if system in c.ICDO3_SYSTEMS:
            plain = code.replace("/", "").strip()
            if plain in ("87140", "87143"):
                return f"8714/{plain[-1]}"
    return None


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for a row of names: each begins a word (a short name is the whole word,
    or its plural)."""
    plain = [plain_words(n) for n in names]  # in the form the words are compared in
    parts = [re.escape(n) + (r"s?(?![a-z0-9])" if len(n) <= 5 else "") for n in plain]
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(parts) + ")")


_COMPILED: dict[tuple[tuple[Any, tuple[str, ...]], ...],
                tuple[re.Pattern[str], tuple[tuple[Any, re.Pattern[str]], ...]]] = {}


def first_match(words: str, table: tuple[tuple[Any, tuple[str, ...]], ...]) -> Any:
    """The first key of ``table`` one of whose names begins a word of ``words``."""
    if not words:
        return None
    compiled = _COMPILED.get(table)
    if compiled is None:
        every = _pattern(tuple(n for _k, names in table for n in names))
        compiled = _COMPILED[table] = (every, tuple((k, _pattern(v)) for k, v in table))
    every, rows = compiled
    if every.search(words) is None:  # the usual case: one search, nothing named
        return None
    for key, pattern in rows:
        if pattern.search(words):
            return key
    return None


def metastasis_site(condition: Mapping[str, Any]) -> MetastasisSite | None:
    """The site a secondary-cancer Condition's code names (ICD-10-CM, SNOMED CT, words)."""
    concept = condition.get("code")
    for system, code in codings(concept):
        if system in (ICD10CM, ICD10):
            for prefix, site in _ICD10_SECONDARY:
                if code.startswith(prefix):
                    return site
        if system == c.SNOMED and code in _SNOMED_SECONDARY:
            return _SNOMED_SECONDARY[code]
    named: MetastasisSite | None = first_match(lower_words(concept), METASTASIS_SITE_WORDS)
    return named


def secondary_site_said(concept: Any) -> str:
    """What a secondary cancer's code says of its site when :func:`metastasis_site` reads
    none: ``'other'`` (an ICD-10 C78-C79 code naming a site the guideline does not
    distinguish: mediastinum, adrenal gland, ...), ``'unknown'`` (a code pecoma does not
    know, which may name any site, the lung among them), or ``'none'`` (no site named:
    SNOMED CT 128462008, ICD-10 C79.9, no code)."""
    said = "none"
    for system, code in codings(concept):
        if system in (ICD10CM, ICD10):
            if code[:3] in ("C78", "C79") and not code.startswith("C79.9"):
                said = "other" if said == "none" else said
        elif system in (c.PECOMA_SYSTEM, *c.ICDO3_SYSTEMS) or not code:
            continue
        elif not (system == c.SNOMED and code == SNOMED_SECONDARY_DISEASE):
            return "unknown"
    return said


def is_secondary_code(concept: Any) -> bool:
    """A secondary malignant neoplasm by ICD-10-CM C77-C79, SNOMED CT, or by its words."""
    for system, code in codings(concept):
        if system in (ICD10CM, ICD10) and code[:3] in ("C77", "C78", "C79"):
            return True
        if system == c.SNOMED and (code in _SNOMED_SECONDARY or code == SNOMED_SECONDARY_DISEASE):
            return True
    words = lower_words(concept)
    return any(w in words for w in ("secondary malignant", "metastasis", "metastases",
                                    "metastatic to"))


def is_lymph_node_code(concept: Any) -> bool:
    """ICD-10-CM C77: secondary malignant neoplasm of lymph nodes (regional or distant)."""
    return any(system in (ICD10CM, ICD10) and code.startswith("C77")
               for system, code in codings(concept)) or (
        "lymph node" in lower_words(concept) and "distant" not in lower_words(concept))


#: SNOMED CT lymph-node body structures a secondary cancer's bodySite may name (the mCODE
#: way: the disorder coded 128462008, the site in bodySite): "Structure of lymph node",
#: "Pelvic lymph node group", "Abdominal lymph node group", "Structure of abdominal lymph
#: node". Other lymph-node structures are read by their words ("Lymph node structure of
#: trunk").
SNOMED_LYMPH_NODE: Final = frozenset({"59441001", "245294005", "245284000", "818991007"})


def is_lymph_node_site(body_sites: Any) -> bool:
    """A bodySite list naming a lymph node (a code above, or "lymph node" in its text or
    displays) and not saying it is distant: as :func:`is_lymph_node_code` reads a code,
    regional or distant not stated."""
    concepts = [x for x in as_list(body_sites) if isinstance(x, dict)]
    words = " ".join(lower_words(x) for x in concepts)
    if "distant" in words:
        return False
    return "lymph node" in words or any(
        system == c.SNOMED and code in SNOMED_LYMPH_NODE
        for x in concepts for system, code in codings(x))


def resection_words(words: str) -> str | None:
    """What a Procedure's words (in :func:`plain_words` form) name, by one rule for every
    reading of them: ``"resection"``; ``"none"`` (a biopsy, an aspiration, an ablation,
    an embolization, an excisional biopsy: :data:`NOT_RESECTION`, and no resection);
    ``"doubt"`` (a resection beside an ablation or an embolization, or beside a biopsy
    and a negation or a word deferring it, "Biopsy; nephrectomy not possible",
    "Biopsy instead of nephrectomy": which was done cannot be told); ``None`` (neither).
    A resection beside a biopsy of something else is the resection ("Nephrectomy with
    lymph node biopsy", "Nephrectomy; biopsy of para-aortic node", "Radical nephrectomy
    after prior biopsy", "Nephrectomy/adrenal biopsy"): an operation report names the
    nodes sampled with it. Words saying the operation was not carried out
    (:data:`NOT_CARRIED_OUT`) are no negation here: such a resection is read as a
    ``stopped`` one ("Nephrectomy abandoned; biopsy taken")."""
    body = EXCISIONAL_BIOPSY.sub("biopsy", words)
    resection = (any(w in body for w in RESECTION_WORDS)
                 or _ECTOMY.search(body) is not None)
    if NOT_RESECTION.search(body) is None:
        return "resection" if resection else None
    if not resection:
        return "none"
    rest = NOT_CARRIED_OUT.sub(" ", body)
    if (_TREATED_IN_PLACE.search(body) or NEGATION.search(rest)
            or _RESECTION_DEFERRED.search(rest)):
        return "doubt"
    return "resection"


def is_resection(procedure: Mapping[str, Any]) -> bool:
    """A Procedure whose code names a resection (not a biopsy, ablation, embolization):
    by its words, or by a resection code of :mod:`pecoma.fhir.resection_codes` (SNOMED
    CT, CPT, ICD-10-PCS; a display is optional). Words naming a biopsy, an aspiration,
    an ablation or an embolization and no resection, or a resection in doubt
    (:func:`resection_words`), keep it no resection, whatever its code; so do an
    excision through a scope or a natural opening (:func:`scope_excision`)."""
    kind = resection_words(lower_words(procedure.get("code")))
    if kind in ("none", "doubt") or scope_excision(procedure):
        return False
    return kind == "resection" or coded_resection(procedure) is not None


def not_resection(procedure: Mapping[str, Any]) -> bool:
    """Whether a Procedure's words name a biopsy, an aspiration, an ablation or an
    embolization and no resection (:func:`resection_words`): no resection, whatever its
    code. An excisional biopsy is not one: it may have removed the lesion whole."""
    words = lower_words(procedure.get("code"))
    return resection_words(words) == "none" and EXCISIONAL_BIOPSY.search(words) is None


def not_carried_out(procedure: Mapping[str, Any]) -> bool:
    """Whether a Procedure's words say the operation was not carried out
    (:data:`NOT_CARRIED_OUT`)."""
    return NOT_CARRIED_OUT.search(lower_words(procedure.get("code"))) is not None


def scope_excision(procedure: Mapping[str, Any]) -> bool:
    """Whether a Procedure is an excision through a scope or a natural opening
    (hysteroscopic, transurethral, colonoscopic, endoscopic, transanal, a polypectomy):
    by its words, whatever its code, unless they name an operation removing the organ or
    a segment of it (a vaginal hysterectomy); or by a code of
    :data:`pecoma.fhir.resection_codes.NOT_RESECTION_CODES` (a display is optional).
    Such an excision is not the resection of the primary."""
    if names_scope_excision(lower_words(procedure.get("code"))):
        return True
    return any(scope_excision_code(system, code) is not None
               for system, code in codings(procedure.get("code")))


def coded_resection(procedure: Mapping[str, Any]) -> tuple[PrimarySite, str] | None:
    """The organ and name of the first resection code a Procedure's code carries."""
    for system, code in codings(procedure.get("code")):
        found = resection_code(system, code)
        if found is not None:
            return found
    return None


_ECTOMY: Final = re.compile(r"ectomy\b")


_ORGAN_BY_OPERATION: Final[tuple[tuple[PrimarySite, tuple[str, ...]], ...]] = (
    (PrimarySite.uterus, ("hysterectomy", "myomectomy")),
    (PrimarySite.kidney, ("nephrectomy",)),
    (PrimarySite.liver, ("hepatectomy",)),
    (PrimarySite.lung, ("pneumonectomy", "segmentectomy")),
    (PrimarySite.bladder, ("cystectomy",)),
)


def resected_organ(procedure: Mapping[str, Any]) -> PrimarySite | None:
    """The organ a resection's code names: by the organ's name, then by the operation,
    then by a resection code (:mod:`pecoma.fhir.resection_codes`)."""
    words = lower_words(procedure.get("code"))
    organ: PrimarySite | None = first_match(words, PRIMARY_SITE_WORDS)
    if organ is None:
        organ = first_match(words, _ORGAN_BY_OPERATION)
    if organ is None:
        coded = coded_resection(procedure)
        organ = coded[0] if coded is not None else None
    return organ


#: An R classification, in :func:`plain_words` form ("R1", "r 1", "Resection R0").
_R_CLASS: Final = re.compile(r"\br\s?([012])\b")
#: A word that may turn a statement around ("no positive staining", "negative margins could
#: not be obtained", "margins free: no", "not R0"): a result text holding one is not read
#: by the words it matched (the immunostains' results and the margins alike). In a margin
#: (and a stop reason) it turns around only the statement it stands in (:func:`statements`):
#: those texts hold other findings ("no lymphovascular invasion"). An immunostain's result
#: text is read whole: a statement beside a result speaks of the result's worth ("No
#: tumour in the section", "No internal control").
NEGATION: Final = re.compile(
    r"\b(?:no|not|non|without|lacks?|lacking|absence|equivocal|cannot|never|neither|nor)\b")
#: Where a text's statements part: a sentence's end, a ';', a line break, and a ', '
#: before an absence said of its own ("margins clear, no lymphovascular invasion"). A ', '
#: before anything else continues the statement ("margins free except the deep margin,
#: which is close"; "margins clear, not certain").
_STATEMENT_END: Final = re.compile(
    r"(?<=[.!?])\s+|\s*[;\n\r\u2028\u2029]\s*"
    r"|,\s+(?=(?:and\s+)?(?:no|without)\s+\w)", re.IGNORECASE)
#: The first word of a part that cannot be a statement of its own: it says something of
#: the statement before it ("Margins clear. Not certain.", "R0; close at the deep aspect",
#: "Toxicity; but not severe"), or the part is a bare answer to it ("Toxicity? No.").
_GOES_ON: Final = re.compile(
    r"(?:not|but|except|apart|other than|however|although|though|which|close|closest"
    r"|uncertain|equivocal|possibl[ey]|probabl[ey]|likely|questionabl[ey]|query|cannot"
    r"|unable|unless|if|\?)(?![a-z0-9])|(?:no|none|nil|yes)\W*$")


def statements(text: str) -> list[str]:
    """The statements of a text, each in :func:`plain_words` form: a negation or a
    qualification in one says nothing of another ("Margins positive; no lymphovascular
    invasion": the "no" is of the invasion). A part that begins with a word saying
    something of the statement before it (``_GOES_ON``: "not", "but", "except", "close",
    "equivocal", "possibly", ...) belongs to that statement."""
    out: list[str] = []
    for part in _STATEMENT_END.split(text):
        words = plain_words(part)
        if out and _GOES_ON.match(words):
            out[-1] = f"{out[-1]} {words}"
        elif words:
            out.append(words)
    return out


#: Words that make a margin a plan, a wish or a guess, not a finding ("R0 intended",
#: "clear margins were attempted", "margin possibly involved?").
_MARGIN_QUALIFIED: Final = re.compile(
    r"\b(?:intend\w*|plann\w*|aim\w*|attempt\w*|expect\w*|hop\w*|goal|if|unless|whether"
    r"|possibl[ey]|probabl[ey]|likely|suspect\w*|suspicious|query|questionabl[ey]|pending"
    r"|await\w*|unable|fail\w*)\b|\?")
#: "No tumour at the margin", "no residual tumour": a clear margin said with its own "no";
#: read as "margins clear" (a close margin or an exception beside it still reads uncertain).
_NO_TUMOUR_AT_MARGIN: Final = re.compile(
    r"\bno (?:residual )?tumou?r (?:at|on|to) (?:the |any )?(?:\w+ )?margins?\b"
    r"|\bno residual tumou?r\b")
_R2_WORDS: Final = re.compile(r"\b(?:gross|macroscopic) residual\b")
_R1_WORDS: Final = re.compile(
    r"\b(?:margins? positive|positive margins?|margins? involved|involved margins?"
    r"|tumou?r at (?:the )?margins?|microscopic residual"
    # the margin named by its place ("tumour at the deep margin", "tumour extends to
    # inked deep margin", "the deep margin is involved", "positive deep margin")
    r"|tumou?r (?:extends |extending |reaches |reaching |is |present )?(?:at|to|into|on) "
    r"(?:the )?(?:[a-z]+ ){0,3}margins?"
    r"|(?:positive|involved) (?:(?!for\b)[a-z]+ ){1,3}margins?"
    # the margin's status said of it ("surgical margins are positive", "margin status:
    # involved by tumour", "deep margin: tumour present", "deep margin involvement")
    r"|margins?:? (?:status:? )?(?:is |are |was |were )?(?:focally )?(?:positive|involved)"
    r"|margins?:? tumou?r (?:present|seen|identified)"
    r"|margins? involvement|involvement of (?:the )?(?:[a-z]+ ){0,3}margins?"
    # the tumour cut through or at the inked surface ("tumour transected", "tumour at ink")
    r"|tumou?r (?:is |was )?transected|transected tumou?r"
    r"|tumou?r (?:extends |extending |is |present )?(?:at|to|on|touch\w*) (?:the )?ink(?:ed)?)\b")
#: Tumour said to be left without saying whether microscopic (R1) or gross (R2)
#: ("incomplete resection", "residual tumour present"): not R0, nor either R class.
TUMOUR_LEFT: Final = re.compile(
    r"\b(?:incomplete(?:ly)? (?:resect\w*|excis\w*|remov\w*)|(?:resected|excised|removed) "
    r"incompletely|incompletely (?:resected|excised|removed)|residual tumou?r (?:is )?"
    r"(?:present|seen|identified|remains?)|tumou?r (?:remains|was left|left behind))\b")
#: A distance from the margin or the ink ("tumour 1 mm from the deep margin", "distance to
#: closest margin: 0 mm"): 0 is the tumour at the margin, another is a margin whose
#: clearance is not said.
_DISTANCE: Final = re.compile(r"\b(\d+(?:\.\d+)?) ?(?:mm|cm)\b")
_R0_WORDS: Final = re.compile(
    r"\b(?:margins?:? (?:status:? )?(?:negative|clear|free|uninvolved)|negative margins?"
    r"|clear margins?|free margins?|uninvolved margins?)\b")
_CLOSE: Final = re.compile(r"\bclose\b")
_EXCEPT: Final = re.compile(r"\b(?:except|but|apart from|other than)\b")


def margin_in_text(text: str) -> Margin | None:
    """An R classification or a plain margin statement in a finding's text, whatever its
    case (``None`` when it names none), each statement of it (:func:`statements`) read
    alone. A statement that names a margin but negates or qualifies it ("negative margins
    could not be obtained", "margins free: no", "not R0", "R0 intended") or names two R
    classes, or that names the margin and says nothing pecoma reads of it beside a
    negation or qualification ("deep margin not assessable"), is ``Margin.unknown``: it
    is never read as the opposite, nor as either; the reader notes it and the margin is
    asked for, and so is one that names the margin in words pecoma does not read ("deep
    margin: see comment") or says tumour was left without saying whether microscopic or
    gross ("incomplete resection", "residual tumour present": not R0, nor R1 or R2 told).
    "No tumour at the margin" says a clear margin; a tumour at the margin or the ink, or
    0 mm from it, an involved one ("positive deep margin", "tumour transected"); another
    distance from it an uncertain one. A negation in another statement says nothing of
    the margin ("Margins positive; no lymphovascular invasion" is R1). Statements that
    differ leave it unknown ("Margins clear. Margin positive at the deep edge."), never
    the more reassuring; but for a close or uncertain margin: beside clear margins it is
    the margin (as "margins free except the deep margin, which is close" is), beside
    residual tumour (R1, R2) that is."""
    read = [_margin_stated(low) for low in statements(text)]
    said = {found for found in read if found is not None}
    if said & {Margin.R1, Margin.R2}:
        said.discard(Margin.uncertain)  # residual tumour beside a close margin
    if Margin.uncertain in said:
        said.discard(Margin.R0)  # a close margin beside clear ones
    if not said:
        return None
    return said.pop() if len(said) == 1 else Margin.unknown


def _margin_stated(statement: str) -> Margin | None:
    """The margin one statement in :func:`plain_words` form says (:func:`margin_in_text`)."""
    low = _NO_TUMOUR_AT_MARGIN.sub("margins clear", statement)
    found = _margin_said(low)
    if found is None:
        # the margin named in words pecoma does not read ("deep margin: see comment"): it
        # may say otherwise than another statement, never taken as agreeing
        return Margin.unknown if "margin" in low else None
    if NEGATION.search(low) or _MARGIN_QUALIFIED.search(low):
        return Margin.unknown
    return found


def _margin_said(low: str) -> Margin | None:
    """The margin a text in :func:`plain_words` form names, by its words alone."""
    classes = {Margin(f"R{x}") for x in _R_CLASS.findall(low)}
    if classes:
        return classes.pop() if len(classes) == 1 else Margin.unknown
    if _R2_WORDS.search(low):
        return Margin.R2
    named = "margin" in low or re.search(r"\bink(?:ed)?\b", low) is not None
    distances = [float(x) for x in _DISTANCE.findall(low)] if named else []
    if _R1_WORDS.search(low) or 0 in distances:
        return Margin.R1
    if TUMOUR_LEFT.search(low):
        return Margin.unknown
    # a close or uncertain margin named anywhere, or a clear one with an exception
    # ("margins free except the deep margin, which is close"): not assured
    if "margin" in low and (_CLOSE.search(low) or "uncertain" in low):
        return Margin.uncertain
    if _R0_WORDS.search(low):
        # a clear margin with an exception, or with the tumour's distance from it given
        # ("Margins free (closest 0.1 mm)": a close margin, its clearance not assured)
        return Margin.uncertain if _EXCEPT.search(low) or distances else Margin.R0
    return Margin.uncertain if distances else None


def ihc_marker(concept: Any) -> str | None:
    """The case's IHC marker a test code names: LOINC code first, then the marker's name."""
    for system, code in codings(concept):
        if system == c.LOINC and code in IHC_LOINC:
            return IHC_LOINC[code]
    marker: str | None = first_match(lower_words(concept), IHC_NAMES)
    return marker


def ihc_markers_named(concept: Any) -> list[str]:
    """Every marker of the case a test's text or displays name, each once ("Melanoma
    cocktail (HMB-45, Melan-A)": hmb45 and melan_a; "Melan-A (MART-1)": melan_a)."""
    words = lower_words(concept)
    return [key for key, names in IHC_NAMES if first_match(words, ((key, names),))]


#: Words of a test of a gene, not of its protein, in a test's name or method: in situ
#: hybridisation (FISH, CISH, SISH), a rearrangement or fusion, sequencing, PCR. A test so
#: named is no immunostain, whatever marker it names.
MOLECULAR_TEST_WORDS: Final = re.compile(
    r"\b(?:fish|c?ish|sish|in[- ]situ hybridi[sz]ation|break[- ]?apart|rearrang\w*|fusions?"
    r"|translocations?|ngs|sequencing|rt-?pcr|pcr|gene)\b")
#: Words of an immunostain in a test's name or method.
IMMUNOSTAIN_WORDS: Final = re.compile(
    r"\b(?:ihc|immunohisto\w*|immune stain|immunostain\w*|immunoperoxidase)\b")
#: Words of a test for a rearrangement (a break-apart probe, a fusion), not of a mutation
#: or of a gene's copy number.
REARRANGEMENT_WORDS: Final = re.compile(
    r"\b(?:break[- ]?apart|rearrang\w*|fusions?|translocations?)\b")
#: Words of an in situ hybridisation (FISH, CISH, SISH): a TFE3 FISH is, in PEComa
#: practice, the break-apart test for its rearrangement, unless it names a copy number.
IN_SITU_WORDS: Final = re.compile(r"\b(?:fish|c?ish|sish|in situ hybridi[sz]ation)\b")
COPY_NUMBER_WORDS: Final = re.compile(
    r"\b(?:amplifi\w*|copy number|gains?|deletions?|polysomy)\b")


def genes(concept: Any) -> list[str]:
    """The molecular-fact genes ('tsc1', 'tsc2', 'tfe3') a gene-studied concept names: by
    its HGNC codes, else by its words (:func:`gene_disagreement` says when they
    disagree)."""
    out = [gene for gene in _coded_genes(concept) if gene in _GENE_SYMBOLS]
    return out or _worded_genes(concept)


_GENE_SYMBOLS: Final = ("tsc1", "tsc2", "tfe3")


def _coded_genes(concept: Any) -> list[str]:
    """The genes a concept's HGNC codings name: a molecular-fact gene by its symbol
    ('tsc1'; its id, or its symbol written as the code), any other by its id
    ('HGNC:1100')."""
    out = []
    for system, code in codings(concept):
        if system in HGNC_SYSTEMS and code:
            key = code if code.upper().startswith("HGNC:") else f"HGNC:{code}"
            out.append(HGNC_GENES.get(key.upper()) or (
                code.lower() if code.lower() in _GENE_SYMBOLS else key))
    return out


def _worded_genes(concept: Any) -> list[str]:
    """The molecular-fact genes a concept's text and displays name by their symbols."""
    words = lower_words(concept).replace("-", "")
    return [name for name in _GENE_SYMBOLS if re.search(rf"\b{name}\b", words)]


def gene_disagreement(concept: Any) -> tuple[str, str] | None:
    """The genes a gene-studied concept's HGNC codes name and those its own words name
    (its text, a display), shown, when they disagree (``HGNC:12362``, TSC1, beside the
    text "TSC2"; a code of another gene beside words naming TSC2); ``None`` when they
    agree, or either says none."""
    coded = _coded_genes(concept)
    worded = _worded_genes(concept)
    if not coded or not worded or set(coded) == set(worded):
        return None
    codes = [code for system, code in codings(concept) if system in HGNC_SYSTEMS and code]
    shown = [code if gene.upper() in (code.upper(), f"HGNC:{code}".upper())
             else f"{code} ({gene.upper()})" for code, gene in zip(codes, coded, strict=True)]
    return (", ".join(dict.fromkeys(shown)), ", ".join(g.upper() for g in worded))
