"""The FHIR reader's Conditions: the PEComa primary (coded, named, or made PEComa by an mCODE
histology result), its metastases (present or history), and the disease status derived
from them when no Observation states it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from pecoma.case import (
    Case,
    DiagnosisMethod,
    DiseaseStatus,
    MetastasisSite,
    PrimarySite,
    PriorDiagnosis,
    SurgeryStatus,
    Timing,
    case_timings,
    parse_case,
)
from pecoma.case.coherence import WORK_UP_MONTHS
from pecoma.dates import full_months_between
from pecoma.engine.facts import derive
from pecoma.errors import InputError, show_value
from pecoma.fhir import codes as c
from pecoma.fhir import mcode as m
from pecoma.fhir import medications as meds
from pecoma.fhir.ages import age_days
from pecoma.fhir.present_again import (
    active_metastases_contradict,
    explicit_free_contradicted,
    present_again,
)
from pecoma.fhir.reading import (
    BODY_SITE_EXTENSION,
    HISTORY_CLINICAL,
    OF_ONE_TIME,
    Order,
    PartialOnset,
    Reader,
    as_list,
    body_part_words,
    cervix_of,
    clinical_status,
    codings,
    condition_side,
    condition_sites,
    conditions_named,
    day_of,
    enum_extension,
    extension,
    extension_code,
    given_without_day,
    has_code,
    known_later,
    live_condition,
    reference_of,
    refuse_backwards,
    refuted_in_doubt,
    resolved,
    site_of,
    sites_named,
    status_notes,
    verification,
    words_only,
)
from pecoma.numbers import number_text
from pecoma.settings import default_settings

__all__ = [
    "NO_DISTANT_SPREAD",
    "cancers_given_for",
    "codes_own_organ",
    "derive_status",
    "names_benign_tumour",
    "names_other_tumour",
    "on_the_specimen",
    "read_conditions",
    "read_metastases",
    "same_tumour",
    "settle_entered_dates",
    "settle_partial_onsets",
    "settle_specimen_diagnosis",
    "surely_other_cancer",
    "the_pecoma",
]


def _is_pecoma(cond: Mapping[str, Any]) -> bool:
    """A Condition that codes or names PEComa itself (project code, ICD-O-3, or the name),
    in its code or in its mCODE histology-morphology-behavior extension (which mCODE
    binds to SNOMED CT morphologies and ICD-O-3: read by ICD-O-3 code or by its words,
    as the code is)."""
    morphology = (extension(cond, c.MCODE_MORPHOLOGY) or {}).get("valueCodeableConcept")
    return any(_codes_or_names_pecoma(x) for x in (cond.get("code"), morphology))


def _codes_or_names_pecoma(concept: Any) -> bool:
    """Whether a CodeableConcept codes PEComa (the project's code, ICD-O-3 8714/0 or
    8714/3) or names it in its text or displays (a SNOMED CT morphology is read by its
    display: pecoma knows no SNOMED CT code of PEComa), words read by the rule for a
    histology's words (:func:`histology_words`: "No evidence of PEComa", "PEComa-like"
    name none)."""
    return (has_code(concept, c.PECOMA_SYSTEM, c.CONDITION_PECOMA[0])
            or m.icdo3_pecoma(concept) is not None
            or histology_words(m.concept_text(concept))[0] is True)


def _words_name_pecoma(cond: Mapping[str, Any]) -> bool:
    """Whether a Condition's code or morphology extension names PEComa in words, read or
    not (negated, doubted, beside words pecoma does not know)."""
    morphology = (extension(cond, c.MCODE_MORPHOLOGY) or {}).get("valueCodeableConcept")
    return any(m.names_pecoma(m.lower_words(x)) for x in (cond.get("code"), morphology))


def _is_metastasis(cond: Mapping[str, Any]) -> bool:
    return (_codes_pecoma_spread(cond) or m.SECONDARY_PROFILE in m.profiles(cond)
            or m.is_secondary_code(cond.get("code")))


def _states_pecoma(cond: Mapping[str, Any]) -> bool:
    """A Condition whose own code or morphology extension states PEComa (a metastasis
    coded 8714/6 names its primary so, in its code or, as mCODE records a secondary's
    morphology, in its histology-morphology-behavior extension)."""
    morphology = (extension(cond, c.MCODE_MORPHOLOGY) or {}).get("valueCodeableConcept")
    return _is_pecoma(cond) or _codes_pecoma_spread(cond) or _codes_spread(morphology)


def _codes_pecoma_spread(cond: Mapping[str, Any]) -> bool:
    """A metastasis Condition whose code says it is the PEComa's spread (the project's
    code, ICD-O-3 8714/6): the PEComa histology it states, as a PEComa Condition's code
    states its own."""
    return _codes_spread(cond.get("code"))


def _codes_spread(concept: Any) -> bool:
    """Whether a CodeableConcept codes the PEComa's spread: the project's code, or ICD-O-3
    8714/6 (with or without the '/')."""
    return (has_code(concept, c.PECOMA_SYSTEM, c.CONDITION_METASTASIS[0])
            or any(system in c.ICDO3_SYSTEMS and code.replace("/", "").strip() == "87146"
                   for system, code in codings(concept)))


_NOT_CONFIRMED = frozenset({"provisional", "differential", "unconfirmed"})
_HISTORY = HISTORY_CLINICAL


def _related_condition(obs: Mapping[str, Any], r: Reader) -> Mapping[str, Any] | None:
    e = extension(obs, m.RELATED_CONDITION)
    return resolved(reference_of((e or {}).get("valueReference")), r)


def of_the_pecoma(cond: Mapping[str, Any], r: Reader) -> bool:
    """Whether a Condition a result is about (its focus, or mCODE's related condition) is
    the PEComa's: the PEComa Condition, another naming the PEComa, a metastasis, or one of
    the PEComa's own site or organ (the same tumour recorded again). Any other Condition
    (a breast cancer, its staging; a metastasis whose own histology names another tumour)
    is another disease; a further PEComa Condition is the
    PEComa's when it records the same tumour (:func:`the_pecoma`)."""
    if id(cond) in r.other_spread:
        return False
    if cond is r.primary or _is_metastasis(cond) or m.names_pecoma(
            m.lower_words(cond.get("code"))):
        return True
    return (same_tumour(cond, r.data.get("tumour", {}).get("primary_site"))
            or the_pecoma(cond, r) is True)


def cancers_given_for(resource: Mapping[str, Any], r: Reader) -> tuple[bool, list[str]]:
    """What a medication record (or the order it carries out) says it is given for, of the
    PEComa and the record's other present primary cancers (``Reader.other_cancers``, and
    the lesions set aside as another tumour's):
    whether a reason names the PEComa, and the other cancers its reasons name
    (:func:`pecoma.fhir.reading.conditions_named`). A ``reasonReference`` names the
    PEComa when it is the PEComa Condition, another coding or naming PEComa, or the same
    tumour recorded again (:func:`same_tumour`, :func:`the_pecoma`), or a metastasis read
    as the PEComa's (``Reader.pecoma_spread``: coded 8714/6, or naming no primary where no
    other primary cancer is recorded); another metastasis names
    the primary its ``condition-related`` extension gives; one set aside as another
    tumour's (``Reader.other_spread``) names that other cancer (given by its label). A
    ``reasonCode`` names the PEComa when it
    shares a coding with the PEComa Condition's code, or codes (ICD-O-3 8714, the
    project's code) or names PEComa. Anything else (no reason, a code of no cancer of the
    record, a Condition the record does not hold) names neither."""
    others = [(where, r.resolve(where)) for where in r.other_cancers]
    named = conditions_named(resource, others, r.resolve)
    site = r.data.get("tumour", {}).get("primary_site")
    pecoma = r.primary is not None and bool(
        conditions_named(resource, [("", r.primary)], r.resolve))
    for ref in as_list(resource.get("reasonReference")):
        target = resolved(reference_of(ref), r)
        if target is None or target.get("resourceType") != "Condition":
            continue
        if id(target) in r.other_spread:
            # its own histology names another tumour: not the PEComa's spread, a lesion
            # of another cancer, named as one
            named.append(r.other_spread[id(target)][0])
            continue
        if id(target) in r.pecoma_spread:
            # a metastasis the reader reads as the PEComa's (stage.metastases): the PEComa
            pecoma = True
            continue
        if _is_metastasis(target):
            related = extension(target, m.CONDITION_RELATED)
            target = resolved(reference_of((related or {}).get("valueReference")), r)
            if target is None:
                continue
            named += [where for where, found in others if found is target]
        pecoma = (pecoma or _is_pecoma(target) or same_tumour(target, site)
                  or the_pecoma(target, r) is True)
    for concept in as_list(resource.get("reasonCode")):
        pecoma = pecoma or (m.icdo3_pecoma(concept) is not None
                            or has_code(concept, c.PECOMA_SYSTEM, c.CONDITION_PECOMA[0])
                            or m.names_pecoma(m.lower_words(concept)))
    return pecoma, list(dict.fromkeys(named))


def about_conditions(obs: Mapping[str, Any], r: Reader) -> list[Mapping[str, Any]]:
    """The Conditions of the record a result names as what it is about: its ``focus``
    and mCODE's related-condition extension."""
    refs = [reference_of(ref) for ref in as_list(obs.get("focus"))]
    refs.append(reference_of((extension(obs, m.RELATED_CONDITION) or {}).get("valueReference")))
    found = [resolved(ref, r) for ref in refs]
    return [x for x in found if x is not None and x.get("resourceType") == "Condition"]


def _candidate_primary(cond: Mapping[str, Any]) -> bool:
    """A Condition that may be the primary cancer an unlinked histology result belongs to."""
    if _is_metastasis(cond) or not live_condition(cond):
        return False
    if m.PRIMARY_PROFILE in m.profiles(cond) or _is_pecoma(cond):
        return True
    for system, code in codings(cond.get("code")):
        if system in (m.ICD10CM, m.ICD10) and code[:1] in ("C", "D") and code[:3] < "D50":
            return True
    words = m.lower_words(cond.get("code"))
    return any(w in words for w in ("neoplasm", "tumour", "tumor", "sarcoma", "cancer",
                                    "malignan"))


#: Words naming a malignancy in a Condition's text or displays (a sarcoma is left out: the
#: PEComa itself is often recorded as one).
_MALIGNANT_WORDS: Final = re.compile(
    r"\b(?:malignant (?:neoplasm|tumou?r)|cancer|carcinom\w*|lymphom\w*|leuka?emi\w*|"
    r"melanom\w*|myelom\w*|blastom\w*)")
#: Words saying a Condition is no present malignancy of another organ: a history, a benign
#: tumour, a screening or an encounter, a symptom, a risk, a sarcoma (a present cancer
#: described as metastatic, high-risk or under surveillance stays one).
_NOT_PRESENT_WORDS: Final = re.compile(
    r"\b(?:history|benign|screening|encounter|pain|fatigue|hypertension|ana?emia|"
    r"cachexia|at risk|risk (?:of|for)|suspected|family|fear|in situ|sarcoma|pecoma|"
    r"basal cell|squamous cell carcinoma of (?:the )?skin)\b")
#: Words naming the organ of each PEComa primary site (a malignancy of that organ beside
#: the PEComa is taken as the same tumour).
_ORGAN_WORDS: Final = {
    "uterus": ("uter", "endometri", "corpus", "cervi", "womb"),
    "broad_ligament": ("ligament", "adnex"),
    "other_gynecologic": ("ovar", "vagin", "vulv"), "kidney": ("kidney", "renal"),
    "liver": ("liver", "hepat"), "retroperitoneum": ("retroperiton",),
    "lung": ("lung", "pulmon", "bronch"), "gastrointestinal": (
        "stomach", "gastr", "colon", "rect", "intestin", "bowel", "duoden", "jejun", "ile"),
    "bladder": ("bladder",), "soft_tissue": ("soft tissue", "connective"),
}


def _other_cancer(cond: Mapping[str, Any], pecoma_site: str | None) -> bool:
    """Whether a Condition is another primary cancer that may have spread: a malignancy
    coded (ICD-10 C00-C76, C80-C96, C44 skin cancers aside) or named as such, or an mCODE
    PrimaryCancerCondition; not resolved or inactive; not at the PEComa's own site nor
    the same tumour (:func:`same_tumour`). A benign or uncertain neoplasm (D codes), a
    history-of code (Z85), a symptom ("neoplasm related pain") is none."""
    if _is_metastasis(cond) or not live_condition(cond):
        return False
    if clinical_status(cond) in ("resolved", "inactive"):
        return False
    site = site_of(cond.get("bodySite"), PrimarySite)
    if site is not None and site == pecoma_site:
        return False
    if same_tumour(cond, pecoma_site):
        return False
    codes = _icd10_codes(cond)
    if codes:
        return any(_cancer_code_elsewhere(code, pecoma_site) for code in codes)
    words = m.lower_words(cond.get("code"))
    if _NOT_PRESENT_WORDS.search(words):
        return False
    return bool(_MALIGNANT_WORDS.search(words)) or (
        m.PRIMARY_PROFILE in m.profiles(cond) and not words)


def same_tumour(cond: Mapping[str, Any], pecoma_site: str | None) -> bool:
    """Whether a Condition beside the PEComa Condition records the same tumour: a
    malignancy of the PEComa's own organ, coded ICD-10 (C55 beside a uterine PEComa) with
    no code of a cancer elsewhere, or, not so coded, named a malignant neoplasm of that
    organ (the problem-list or encounter-diagnosis entry "Malignant neoplasm of uterus"
    beside a uterine PEComa). A metastasis, a benign lesion, a history, and any Condition
    beside a PEComa at a site the guideline does not name ('other': no organ to compare)
    is none."""
    if pecoma_site is None or _is_metastasis(cond):
        return False
    codes = _icd10_codes(cond)
    if codes:
        return (any(_same_organ_code(code, pecoma_site) for code in codes)
                and not any(_cancer_code_elsewhere(code, pecoma_site) for code in codes))
    words = m.lower_words(cond.get("code"))
    return (not _NOT_PRESENT_WORDS.search(words)
            and any(w in words for w in _ORGAN_WORDS.get(pecoma_site, ()))
            and (bool(_MALIGNANT_WORDS.search(words)) or m.PRIMARY_PROFILE in m.profiles(cond)))


def _icd10_codes(cond: Mapping[str, Any]) -> list[str]:
    return [code for system, code in codings(cond.get("code")) if system in (m.ICD10CM, m.ICD10)]


def _cancer_code_elsewhere(code: str, pecoma_site: str | None) -> bool:
    """An ICD-10 code of a primary cancer of another organ than the PEComa's. C44 skin, C48
    retroperitoneum and peritoneum, C49 soft tissue (where a PEComa is often billed),
    C77-C79 secondaries, C80 unspecified: none is another primary."""
    return (code[:1] == "C" and code[:3] not in ("C44", "C48", "C49", "C77", "C78", "C79", "C80")
            and not _same_organ_code(code, pecoma_site))


#: The ICD-10 categories (``C55``, ``C56``) whose every ICD-O-3 topography code names one
#: PEComa primary site (:data:`pecoma.fhir.codes.ICDO3_TOPOGRAPHY`): an ICD-10-CM code
#: finer or coarser than the topography table's (``C56.1``, the right ovary; ``C55``) is
#: read by its category. A category whose codes name different sites (C57: the broad
#: ligament, the fallopian tube) is read by its subcategory only.
def _category_sites() -> dict[str, str]:
    sites: dict[str, set[str]] = {}
    for code, site in c.ICDO3_TOPOGRAPHY.items():
        sites.setdefault(code[:3], set()).add(site)
    return {category: next(iter(named)) for category, named in sites.items()
            if len(named) == 1}


_CATEGORY_SITES: Final = _category_sites()
#: PEComa primary sites naming a region, not one organ (the gastrointestinal tract, the
#: retroperitoneum, the soft tissues, a site the guideline does not name): a malignancy
#: coded by another organ's code may be the PEComa itself, coded where it lies.
_REGION_SITES: Final = frozenset({
    PrimarySite.gastrointestinal.value, PrimarySite.retroperitoneum.value,
    PrimarySite.soft_tissue.value, PrimarySite.other.value})


def organ_of_code(code: str) -> str | None:
    """The PEComa primary site whose organ an ICD-10 (or ICD-10-CM) code names, by the
    ICD-O-3 topography table the site is read by (``C18.9``: gastrointestinal; ``C57.1``
    and ``C57.10``: the broad ligament; ``C55``: the uterus), or ``None`` (C76, C80, a
    code no site is mapped to)."""
    code = code.strip().upper()
    return c.icdo3_topography(code[:5]) or _CATEGORY_SITES.get(code[:3])


def _same_organ_code(code: str, pecoma_site: str | None) -> bool:
    return pecoma_site is not None and organ_of_code(code) == pecoma_site


def codes_own_organ(cond: Mapping[str, Any], pecoma_site: str | None) -> bool:
    """Whether a Condition (or a reason coded as one) carries an ICD-10 code of a
    malignancy of the PEComa's own organ (C64.9 beside a kidney PEComa), whatever else
    it codes."""
    return any(_same_organ_code(code, pecoma_site) for code in _icd10_codes(cond))


def names_other_tumour(concept: Any) -> bool:
    """Whether a CodeableConcept's text or displays name a tumour type other than PEComa
    (:data:`_OTHER_TUMOUR_WORDS`: a renal cell carcinoma, a GIST) and not PEComa: another
    tumour, whatever organ it is of (the organ names the PEComa only for a cancer named
    by its site alone)."""
    words = m.lower_words(concept)
    return bool(_OTHER_TUMOUR_WORDS.search(words)) and not m.names_pecoma(words)


def names_benign_tumour(concept: Any) -> bool:
    """Whether a CodeableConcept names a benign tumour of another type than PEComa
    (:data:`_BENIGN_WORDS`: a leiomyoma, a schwannoma) and no malignancy beside it (no
    word of one, no ICD-10 code of a malignant neoplasm, C00-C97, no code or name of
    PEComa): a tumour that is no cancer, though :func:`names_other_tumour` names it."""
    words = m.lower_words(concept)
    return (any(_BENIGN_WORDS.fullmatch(w) for w in re.findall(r"\w+", words))
            and not m.names_pecoma(words) and not _MALIGNANT_WORDS.search(words)
            and "sarcoma" not in words and m.icdo3_pecoma(concept) is None
            and not any(code.upper().startswith("C")
                        for code in _icd10_codes({"code": concept})))


def surely_other_cancer(cond: Mapping[str, Any], pecoma_site: str | None) -> bool:
    """Whether a Condition (or a reason coded as one) is surely another primary cancer than
    the PEComa: one :func:`_other_cancer` counts, beside a PEComa whose site is known and
    one organ (not a region: :data:`_REGION_SITES`), coded by an organ the topography
    table maps to another of the sites (not soft tissue nor the retroperitoneum, where a
    PEComa of any organ may be coded) or, not coded ICD-10, named as a cancer. A code of
    no mapped organ (C76, C26), a PEComa of unknown or regional site: it cannot be told,
    and ``False``."""
    if pecoma_site is None or pecoma_site in _REGION_SITES \
            or not _other_cancer(cond, pecoma_site):
        return False
    codes = _icd10_codes(cond)
    return not codes or any(
        _cancer_code_elsewhere(code, pecoma_site) and organ_of_code(code) not in (
            None, PrimarySite.soft_tissue.value, PrimarySite.retroperitoneum.value)
        for code in codes)


#: A histology statement about a Condition: where it stands in time, where it was read,
#: the PEComa it gives (``None``: another tumour) and what it codes or names.
_Histology = tuple[Order, str, str | None, str]

#: ICD-O-3 morphologies that name no tumour type: a neoplasm or a malignant tumour, of
#: some cell type or none (8000-8005), a sarcoma (8800), not otherwise specified. A PEComa
#: is one too, so a result coding one names no other tumour.
_ICDO3_UNSPECIFIED: Final = frozenset({"8000", "8001", "8002", "8003", "8004", "8005", "8800"})
#: Words naming a tumour other than PEComa in a histology result's text or displays (a
#: SNOMED CT morphology is read by its display): a sarcoma of a named kind, a carcinoma, a
#: leiomyoma, and other tumours a PEComa is taken for. "Sarcoma", "neoplasm" and "tumour"
#: alone name no other tumour (a malignant PEComa is a sarcoma).
_OTHER_TUMOUR_WORDS: Final = re.compile(
    r"\b(?:\w+sarcoma|(?:epithelioid|synovial|stromal|ewing|clear cell|alveolar soft part) "
    r"sarcoma|\w*carcinoma|\w*myoma|\w*lymphoma|\w*melanoma|\w*blastoma|\w*myeloma|"
    r"\w*mesothelioma|schwannoma|gist|gastrointestinal stromal tumou?r|"
    r"solitary fibrous tumou?r|leuka?emia)\b")


#: Words naming a benign tumour among ``_OTHER_TUMOUR_WORDS`` (a leiomyoma, a schwannoma).
_BENIGN_WORDS: Final = re.compile(r"\w*myoma|schwannoma")


#: Words of negation, doubt or hedging: a histology's words holding one anywhere are not
#: read (they may deny or doubt the tumour named: "PEComa cannot be excluded", "no
#: residual PEComa", "PEComa less likely", "PEComa-like", "PEComa versus leiomyosarcoma").
_DOUBT_WORDS: Final = re.compile(
    r"\b(?:no|not|non|none|nor|neither|without|negative|absent|absence|exclud\w*|ruled?"
    r"|unlikely|likely|less|favou?r\w*|disfavou?r\w*|doubt\w*|cannot|can|could|residual"
    r"|differential|vs|versus|suspicious|suspect\w*|possibl[ey]|probabl[ey]|like|against"
    r"|equivocal|indeterminate|uncertain|query|questionabl[ey]|consider\w*|rather|or"
    r"|may|might)\b|\?")
#: What may stand beside a tumour's name in a histology's words read as naming it: its
#: behaviour, "consistent with" and its like, "not otherwise specified", a SNOMED CT
#: display's tag, a few tumour qualifiers, its recurrence or spread (a Condition's words),
#: a site (``mcode``'s site words) and the small
#: words joining them. Any other word (another language, a statement about another
#: feature, a marker) leaves the words not read.
_BESIDE_A_NAME: Final = re.compile(
    r"\b(?:consistent with|in keeping with|compatible with"
    r"|nos|not otherwise specified|no (?:icd o )?subtype|morphologic abnormality|disorder"
    r"|uncertain malignant potential|hmb-45|melan a)\b")
_WORDS_BESIDE_A_NAME: Final = frozenset({
    "malignant", "benign", "epithelioid", "features", "diagnostic", "cell", "cells",
    "tumour", "tumor", "tumours", "tumors", "neoplasm", "secondary", "metastatic", "metastasis",
    "metastases", "recurrent", "recurrence", "local", "locally", "advanced", "spread",
    "deposit", "deposits", "primary", "positive", "grade", "high", "low", "small",
    "squamous", "basal", "clear", "endometrioid", "serous", "of", "the", "a", "an", "in",
    "and", "with", "from", "to", "left", "right", "upper", "lower", "lobe", "site",
    "pelvis", "pelvic", "abdomen", "abdominal",
    # where a resected tumour recurs: its organ's bed or fossa ("renal fossa",
    # "nephrectomy bed", "tumour bed", "surgical bed")
    "fossa", "bed", "surgical", "operative", "nephrectomy", "hysterectomy", "resection"})
_SITE_WORDS: Final = tuple(w for _x, words in (*m.PRIMARY_SITE_WORDS,
                                               *m.METASTASIS_SITE_WORDS) for w in words)


def histology_words(text: str) -> tuple[bool | None, list[str], str]:
    """What a histology's words (a result's value, a Condition's code or morphology, no
    code deciding) say: ``True`` PEComa, ``False`` another tumour, ``None`` not read; the
    other tumours named; and, when not read, why (naming the words). Read conservatively,
    the text as a whole: PEComa when the words name it (``mcode.PECOMA_WORDS``) and no
    other tumour (``_OTHER_TUMOUR_WORDS``); another tumour when they name one and not
    PEComa; either only when every other word may stand beside a name
    (``_BESIDE_A_NAME``, ``_WORDS_BESIDE_A_NAME``, a site word). A word of negation, doubt
    or hedging anywhere (``_DOUBT_WORDS``: "Malignant PEComa with lymphovascular invasion
    not identified", "PEComa cannot be excluded", "No residual PEComa", "PEComa is less
    likely"), or a word pecoma does not know ("kein Anhalt für PEComa"), leaves them not
    read: so is a denial in words alone ("No evidence of PEComa"), never taken as a
    revision nor as PEComa."""
    words = m.plain_words(text)
    pecoma = any(w in words for w in m.PECOMA_WORDS)
    others = _OTHER_TUMOUR_WORDS.findall(words)
    if not pecoma and not others:
        return None, others, "name no tumour type pecoma reads"
    if pecoma and others:
        return None, others, "name both PEComa and another tumour"
    rest = _BESIDE_A_NAME.sub(" ", _OTHER_TUMOUR_WORDS.sub(" ", words))
    for name in m.PECOMA_WORDS:
        rest = rest.replace(name, " ")
    doubt = [x.group() for x in _DOUBT_WORDS.finditer(rest)]
    unknown = [w for w in re.findall(r"[^\W\d_]+", rest)
               if w not in _WORDS_BESIDE_A_NAME and not w.startswith(_SITE_WORDS)
               and not _DOUBT_WORDS.fullmatch(w)]
    if doubt:
        return None, others, ("hold words of negation, doubt or hedging ("
                              + ", ".join(f"'{w}'" for w in dict.fromkeys(doubt)) + ")")
    if unknown:
        return None, others, ("hold words pecoma does not read beside the name ("
                              + ", ".join(f"'{w}'" for w in dict.fromkeys(unknown[:6])) + ")")
    return pecoma, others, ""


def _histology_said(obs: Mapping[str, Any]) -> tuple[bool | None, str, bool]:
    """What a HistologicBehaviorAndType result says (``True``: PEComa, ``False``: not
    PEComa, ``None``: neither can be told), how it is shown (what it codes or names;
    when ``None``, why it is not read), and whether what it names instead is only a
    benign tumour (a leiomyoma, a schwannoma; ICD-O-3 behaviour /0). A code decides over
    words: a value coding an ICD-O-3 morphology (bar those naming no tumour type,
    ``_ICDO3_UNSPECIFIED``) or the project's PEComa code says what it codes, PEComa for
    8714 with any behaviour (8714/6, of a metastasis specimen) or none, another tumour
    for any other, whatever its text says (a pathology line lists the differential it
    excluded: "leiomyosarcoma excluded"). With no such code its words are read by
    :func:`histology_words`: words it does not read (a denial, a doubt, a hedge, another
    language, naming both or neither), like a SNOMED CT code with no words pecoma knows
    or no value at all, say nothing pecoma can read of the histology: the result
    revises nothing (a metastasis stays one, the safer reading for disease)."""
    value = obs.get("valueCodeableConcept")
    if value is None and isinstance(obs.get("valueString"), str):
        value = {"text": obs["valueString"]}
    coded = ", ".join(code for _s, code in codings(value) if code)
    words = m.lower_words(value)
    shown = coded or show_value(words, 60)
    if not coded and not words:
        absent = ", ".join(code for _s, code in codings(obs.get("dataAbsentReason")))
        return None, ("histology result with no value"
                      + (f" (dataAbsentReason {absent})" if absent else "")
                      + ": it says nothing of the histology, and revises nothing"), False
    icdo3 = [plain for system, code in codings(value) if system in c.ICDO3_SYSTEMS
             and len(plain := code.replace("/", "").strip()) in (4, 5)
             and plain.isdigit() and plain[:1] in ("8", "9")]
    known = {x[:4] for x in icdo3} - _ICDO3_UNSPECIFIED
    if has_code(value, c.PECOMA_SYSTEM, c.CONDITION_PECOMA[0]):
        known.add("8714")
    if known:
        other = bool(known - {"8714"})
        if "8714" in known and other:
            return None, (f"histology {shown} that pecoma cannot read as PEComa nor as "
                          "another tumour (it codes both): it revises nothing"), False
        return not other, shown, other and all(
            x[4:] == "0" for x in icdo3 if x[:4] in known - {"8714"})
    says, others, why = histology_words(m.concept_text(value))
    if says is None:
        return None, (f"histology {shown} that pecoma cannot read as PEComa nor as another "
                      f"tumour: its words {why}; it revises nothing (code it, ICD-O-3)"), False
    return says, shown, not says and all(_BENIGN_WORDS.fullmatch(x) for x in others)


@dataclass
class _Histologies:
    """What the histology results say of each Condition (by identity): made PEComa (where
    from), not PEComa though it was or would be read so (why: the diagnosis revised), in
    doubt (the latest results disagree: an issue is raised), every statement of each
    (its own coding included), and the results of another tumour naming no Condition
    while several cancer Conditions could be meant (``unplaced``: settled once the PEComa
    is read, :func:`_unplaced_histology`)."""

    linked: dict[int, str] = field(default_factory=dict)
    revised: dict[int, str] = field(default_factory=dict)
    #: The latest result that revised each of ``revised`` (another tumour).
    revised_by: dict[int, _Histology] = field(default_factory=dict)
    doubted: set[int] = field(default_factory=set)
    said: dict[int, list[_Histology]] = field(default_factory=dict)
    unplaced: list[_Histology] = field(default_factory=list)
    #: The results that say nothing pecoma can read of the histology (why in ``r.why``),
    #: each with whether it could be the PEComa's (:func:`_may_name_pecoma`).
    unread: list[tuple[str, bool]] = field(default_factory=list)


def _stated_on(cond: Mapping[str, Any]) -> Order:
    """Where the histology a Condition codes or names itself stands in time, as a result
    would: the latest day it gives (onset, asserted date, recorded date); none, undated."""
    period = cond.get("onsetPeriod")
    days = [d for raw in (cond.get("onsetDateTime"),
                          period.get("start") if isinstance(period, dict) else None,
                          (extension(cond, c.ASSERTED_DATE) or {}).get("valueDateTime"),
                          cond.get("recordedDate"))
            if (d := day_of(raw)) is not None]
    return Order(max(days).isoformat() if days else "")


def _latest(statements: list[_Histology]) -> list[_Histology]:
    """The latest of a Condition's histology statements, by the rule for every result
    (:func:`pecoma.fhir.reading.known_later`): several when they are of one time."""
    kept: list[_Histology] = []
    for x in sorted(statements, key=lambda x: x[0]):
        kept = [*(y for y in kept if not known_later(y[0], x[0])), x]
    return kept


def _shown(x: _Histology) -> str:
    return f"{x[1]} ({x[2] or x[3]})"


def _described(obs: Mapping[str, Any], conditions: list[tuple[str, dict[str, Any]]],
               r: Reader) -> list[Mapping[str, Any]]:
    """The Conditions a histology result may describe: those it names (mCODE's
    related-condition extension, its ``focus``), else the record's cancer Conditions
    (:func:`_candidate_primary`: a result naming none, its specimen only, is the one
    cancer's). One: the Condition it describes."""
    named: list[Mapping[str, Any]] = []
    for x in about_conditions(obs, r):
        if not any(x is y for y in named):
            named.append(x)
    return named or [x for _w, x in conditions if _candidate_primary(x)]


def _elsewhere(obs: Mapping[str, Any], described: list[Mapping[str, Any]],
               r: Reader) -> str:
    """The site of a histology result's ``bodySite`` when it is another than that of
    each Condition it may describe, by the rule that tells two PEComa Conditions' sites
    apart (:func:`_same_record`: another organ, or the other side of one); '' when it
    states none, or one of them is at its site or states none pecoma can compare."""
    site = obs.get("bodySite")
    if not isinstance(site, dict) or not all(
            _same_record({"bodySite": [site]}, x, r) is False for x in described):
        return ""
    return show_value(m.lower_words(site) or ", ".join(
        code for _s, code in codings(site) if code), 40)


def _histology_links(conditions: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]],
                     r: Reader) -> _Histologies:
    """The Conditions mCODE HistologicBehaviorAndType results (LOINC 31206-6) are about,
    read as every result is: the latest wins (a corrected or amended result over the final
    one of its time). A result is about the Condition it names (its related-condition
    extension or its ``focus``), or, naming none, the record's one cancer Condition,
    whatever it says, bar a result naming none that is not PEComa and names only a benign
    tumour (a leiomyoma beside a uterine PEComa) or whose bodySite is another than the
    Condition's (:func:`_elsewhere`: a basal cell carcinoma of the skin): another lesion,
    listed as not read, never a revision of the PEComa. A Condition whose latest histology
    is PEComa is the PEComa; one whose latest names another tumour, or denies PEComa
    (:func:`_histology_said`), is not, even when an earlier result or its own code or
    morphology extension (a statement of the latest day the Condition gives) said PEComa:
    the diagnosis was revised. A result saying nothing
    pecoma can read of the histology (no value, neither PEComa nor another tumour) is
    not read, and revises nothing. Latest statements of one time that disagree leave the
    diagnosis in doubt: the Condition is not read, and the question is raised (which
    result stands). A metastasis Condition is read by the same rule, its code stating the
    PEComa's spread (the project's code, ICD-O-3 8714/6, or naming PEComa) counting as a
    PEComa statement, and its code or morphology extension naming another tumour as a
    statement of that tumour (:func:`_own_other_tumour`): one whose latest histology
    names another tumour (its own biopsy linked to it, or what it records itself: a second
    primary's adenocarcinoma) is not the PEComa's spread, and
    latest statements that disagree leave it in doubt (the question raised); one whose
    histology is PEComa, or says nothing pecoma can read, stays a metastasis."""
    out = _Histologies()
    held: dict[int, list[_Histology]] = {}
    for where, obs in observations:
        if r.kinds.get(id(obs)) != "histology":
            continue
        says_pecoma, shown, benign = _histology_said(obs)
        if says_pecoma is None:
            r.why[where] = shown
            out.unread.append((where, _may_name_pecoma(obs, r)))
            continue
        x = (r.orders.get(id(obs), Order("")), where,
             (m.icdo3_pecoma(obs.get("valueCodeableConcept")) or shown) if says_pecoma
             else None, shown)
        described = _described(obs, conditions, r)
        if says_pecoma is False and not about_conditions(obs, r):
            elsewhere = _elsewhere(obs, described, r)
            if benign or (described and elsewhere):
                r.why[where] = (
                    (f"a benign tumour ({shown})" if benign else
                     f"histology other than PEComa of another site ({elsewhere})")
                    + " naming no Condition: another lesion, not read as revising the "
                    "PEComa's diagnosis (if it is the PEComa's, the diagnosis was revised "
                    "and no PEComa advice applies: give its relatedCondition extension or "
                    "focus)")
                continue
        if len(described) != 1 and not says_pecoma:
            out.unplaced.append(x)
            continue
        if len(described) != 1:
            r.issue(f"{where}.extension(relatedCondition)", "(missing)",
                    f"must name the Condition it describes: {len(described)} cancer "
                    "Conditions could be meant")
            continue
        cond = described[0]
        if not about_conditions(obs, r):
            r.notes.append(f"{_shown(x)} names no Condition; read as describing "
                           f"{r.labels.get(id(cond), 'the one cancer Condition')}")
        held.setdefault(id(cond), []).append(x)
    for where, cond in conditions:
        results = held.get(id(cond), [])
        spread = _is_metastasis(cond)
        what = "a metastasis of the PEComa" if spread else "the PEComa"
        own: list[_Histology] = [
            (_stated_on(cond), where, "8714", "its code or morphology extension")
        ] if _states_pecoma(cond) else []
        if spread and live_condition(cond):
            own += _own_other_tumour(cond, where, r)
        out.said[id(cond)] = [*results, *own]
        latest = _latest([*results, *own])
        pecoma = [x for x in latest if x[2] is not None]
        other = [x for x in latest if x[2] is None]
        if pecoma and other and live_condition(cond):
            out.doubted.add(id(cond))
            r.issue(where, "(histology in doubt)",
                    f"cannot be read as {what}: {_shown(pecoma[-1])} and "
                    f"{_shown(other[-1])} disagree on its histology, and neither is the "
                    f"later ({OF_ONE_TIME}), so whether it is "
                    + ("the PEComa's spread" if spread else "a PEComa") + " is in "
                    "doubt: record which stands (a corrected or amended result, or a later "
                    "one); " + ("the disease status" if spread else "the diagnosis")
                    + " is never assumed")
        elif other:
            said = [x for x in [*results, *own] if x[2] is not None]
            aside = f" ({', '.join(map(_shown, said))} set aside)" if said else ""
            out.revised[id(cond)] = (
                f"its latest histology, {_shown(other[-1])}, is not PEComa"
                + (f": not {what}{aside}" if spread else
                   f": the diagnosis was revised{aside}" if said else ""))
            out.revised_by[id(cond)] = other[-1]
            r.why[where] = out.revised[id(cond)]
            r.used.update(x[1] for x in other if x not in own)
            for x in said:
                if x[1] != where:
                    r.why[x[1]] = (f"a PEComa histology revised by the later "
                                   f"{_shown(other[-1])}")
        elif pecoma:
            for x in results:
                if x[2] is None:
                    r.why[x[1]] = ("histology other than PEComa, revised by the later "
                                   f"{_shown(pecoma[-1])}")
                else:
                    r.used.add(x[1])
            for x in own:
                if x[2] is None:
                    # the Condition's own record of another tumour, revised as a result is:
                    # the record contradicts itself, said, never silently
                    r.notes.append(f"{_shown(x)}: histology other than PEComa, revised by "
                                   f"the later {_shown(pecoma[-1])}: {where} is kept as "
                                   f"{what}, but its own record still says otherwise: "
                                   "correct it in the EHR")
            found = [x for x in pecoma if x[1] != where]
            if found and not spread:
                out.linked[id(cond)] = _shown(found[-1])
    return out


def _may_name_pecoma(obs: Mapping[str, Any], r: Reader) -> bool:
    """Whether a histology result pecoma does not read may be the PEComa's diagnosis: its
    value codes or names PEComa ("PEComa, Folpe category malignant"), or it is about a
    Condition that does (a refuted one too). One with no value, or naming no PEComa, about
    no such Condition ("Malignant spindle cell neoplasm" of a uterine cancer, a breast
    cancer's metastasis biopsy) is no PEComa found."""
    value = obs.get("valueCodeableConcept")
    if value is None and isinstance(obs.get("valueString"), str):
        value = {"text": obs["valueString"]}
    return (m.icdo3_pecoma(value) is not None or m.names_pecoma(m.lower_words(value))
            or any(_is_pecoma(x) for x in about_conditions(obs, r)))


def _own_other_tumour(cond: Mapping[str, Any], where: str, r: Reader) -> list[_Histology]:
    """What a metastasis Condition's own code and mCODE histology-morphology-behavior
    extension (mCODE records a secondary's morphology there) say of another tumour, read
    as a histology result's value is (:func:`_histology_said`: an ICD-O-3 morphology by
    its code, else the words): each naming another tumour (8140/3 adenocarcinoma,
    "Metastatic adenocarcinoma of lung") is a statement of the latest day the Condition
    gives, as its own PEComa code is (:func:`_stated_on`). A morphology of PEComa, or one
    pecoma cannot read, says no other tumour (unknown is not another tumour): the latter
    is noted, as is a code whose words name another tumour but are not read ("Metastatic
    adenocarcinoma versus PEComa"); a code naming no tumour type (one by site alone:
    "Secondary malignant neoplasm of lung") says nothing of the histology."""
    out: list[_Histology] = []
    morphology = (extension(cond, c.MCODE_MORPHOLOGY) or {}).get("valueCodeableConcept")
    for path, concept in ((f"{where}.code", cond.get("code")),
                          (f"{where}.extension(mcode-histology-morphology-behavior)",
                           morphology)):
        if not isinstance(concept, dict):
            continue
        says, shown, _benign = _histology_said({"valueCodeableConcept": concept})
        if says is False:
            # a Condition's code is shown by its words (C78.01 names no morphology)
            words = show_value(m.lower_words(concept), 60) if concept is not morphology else ""
            out.append((_stated_on(cond), path, None, words or shown))
        elif says is None and concept is morphology:
            r.notes.append(f"{path}: {shown}; the metastasis is kept as the PEComa's, not "
                           "set aside as another tumour")
        elif says is None and _OTHER_TUMOUR_WORDS.search(
                m.plain_words(m.concept_text(concept))):
            # a Condition's code (C78.01, a site) is no histology: its words are quoted
            # and why they are not read, with no advice to code it otherwise
            why = histology_words(m.concept_text(concept))[2] or shown
            text = concept.get("text")
            words = text if isinstance(text, str) and text else m.lower_words(concept)
            r.notes.append(f"{path}: its words {show_value(words, 100)} name "
                           f"another tumour but are not read ({why}); the metastasis is kept "
                           "as the PEComa's, not set aside as another tumour: if it is "
                           "another cancer's, record its histology (a 31206-6 result, or "
                           "mCODE's histology-morphology-behavior extension)")
    return out


def _unplaced_histology(histologies: _Histologies, where: str, cond: Mapping[str, Any],
                        r: Reader) -> None:
    """Results of another tumour naming no Condition while several cancer Conditions
    could be meant, once the PEComa (``where``) is read: one known to be earlier than the
    PEComa's latest histology revises nothing; a later one (or not known to be earlier)
    is read by the rule for any result naming no Condition beside another present
    primary cancer (``Reader.other_cancers``): whose it is cannot be told, so it is not
    taken as the PEComa's, said in a note with what it would change; with no other
    present primary cancer, the PEComa's diagnosis is in doubt (asked, never assumed)."""
    said = [x for x in histologies.said.get(id(cond), []) if x[2] is not None]
    for x in histologies.unplaced:
        if x not in _latest([*said, x]):
            r.why[x[1]] = ("histology other than PEComa naming no Condition, earlier than "
                           f"{_shown(_latest(said)[-1])}")
        elif r.other_cancers:
            r.why[x[1]] = ("histology other than PEComa naming no Condition, beside another "
                           f"primary cancer ({r.other_cancers[0]}): whose it is cannot be told")
            r.notes.append(
                f"{_shown(x)} names another tumour than PEComa and no Condition, and the "
                f"record holds another primary cancer ({r.other_cancers[0]}) besides the "
                f"PEComa ({where}), so whose histology it is cannot be told: not read as the "
                "PEComa's. If it is the PEComa's, the diagnosis was revised and no PEComa "
                "advice applies: give its relatedCondition extension or focus")
        else:
            r.issue(where, "(histology in doubt)",
                    f"cannot be read as the PEComa: {_shown(x)} names another tumour than "
                    "PEComa and no Condition, several cancer Conditions could be meant, and "
                    "it is not known to be earlier than the PEComa's histology, so whether it "
                    "is a PEComa is in doubt: record the Condition it describes (its mCODE "
                    "relatedCondition extension or focus); the diagnosis is never assumed")


def _onset(cond: Mapping[str, Any], where: str, fact: str, r: Reader) -> dt.date | None:
    """When the condition began: onset, then the asserted date (when it was first
    asserted: the diagnosis), then the recorded date. An onset given in a form that holds
    no day (text, a month, an age of some years: the days it may be from the birth date,
    :func:`pecoma.fhir.ages.age_days`, said in the note) leaves the day unknown: the
    recorded date, the day it was entered, is not taken for it; an age in days is its
    day. A day taken from the recorded date is said in a note
    (the condition may have begun earlier), and :func:`settle_entered_dates` drops such a
    diagnosis day when the record's resection comes before it."""
    period = cond.get("onsetPeriod")
    # a period that ends before it starts contradicts itself on the day read from it (a
    # metastasis's detection day decides its timing and the disease-free interval, S16):
    # refused, naming both ends, as a resection's performedPeriod is
    refuse_backwards(period, where, "onsetPeriod", f"{fact} is read from it", r)
    asserted = extension(cond, c.ASSERTED_DATE) or {}
    for raw in (cond.get("onsetDateTime"),
                period.get("start") if isinstance(period, dict) else None,
                asserted.get("valueDateTime")):
        day = day_of(raw)
        if day is not None:
            return day
    given = given_without_day(cond, "onset")
    age = age_days(cond, "onset", where, r.birth, r) if given is not None else None
    if age is not None and age.day is not None:
        r.notes.append(f"{fact} taken from {where}'s onset, given as {age}")
        return age.day
    if given is not None:
        # an age of weeks, months or years is several days: no day of its own
        r.notes.append(f"{fact} not read: {where}'s onset is given as "
                       f"{given if age is None else age}, which holds no single day (its "
                       "recorded date, the day it was entered, is not taken for it)")
        return None
    day = day_of(cond.get("recordedDate"))
    if day is not None:
        r.notes.append(f"{fact} taken from {where}'s recordedDate, the day it was recorded "
                       "(no onset date): it may have been earlier")
        r.entered_dates[fact] = day
    return day


def _partial_onset(cond: Mapping[str, Any]) -> meds.FirstDay | None:
    """The days a metastasis's onset written as a partial date may be ("2025": every day
    of 2025; "2025-04": every day of April 2025), read where :func:`_onset` reads a day
    (``onsetDateTime``, ``onsetPeriod.start``, the asserted date); ``None`` when it gives a
    day or no partial date."""
    period = cond.get("onsetPeriod")
    asserted = extension(cond, c.ASSERTED_DATE) or {}
    for raw in (cond.get("onsetDateTime"),
                period.get("start") if isinstance(period, dict) else None,
                asserted.get("valueDateTime")):
        span = meds.days_of(raw)
        if span is not None:
            return span if span.day is None else None
    return None


def _end_shown(case: Case) -> str:
    """The end of the primary's curative treatment the timing is counted from, as a note
    says it."""
    not_before = case.treatment_end_not_before
    if not_before is not None:
        end = ("the end of the primary's curative treatment (not recorded: adjuvant "
               f"treatment followed the surgery of {not_before.isoformat()})")
    elif case.treatment_end is not None:
        end = f"the end of the primary's curative treatment ({case.treatment_end.isoformat()})"
    else:
        end = "the end of the primary's curative treatment (not recorded)"
    diagnosed = case.diagnosis.date
    return end if diagnosed is None else f"{end}, the diagnosis ({diagnosed.isoformat()})"


def _timing_on(case: Case, i: int, day: dt.date) -> Timing:
    """The timing the engine's rule gives metastasis ``i`` of ``case`` were it found on
    ``day`` (:func:`pecoma.case.case_timings`)."""
    mets = list(case.stage.metastases)
    mets[i] = mets[i].model_copy(update={"detected_on": day})
    stage = case.stage.model_copy(update={"metastases": tuple(mets)})
    return case_timings(case.model_copy(update={"stage": stage}))[i]


def _interval_decided(case: Case, r: Reader, months: str) -> str:
    """What the engine reads of the disease-free interval once a metastasis with a
    partial onset is recorded as found on or before the last day it may be
    (:func:`pecoma.engine.facts.derive`, with the settings the case is assessed with,
    ``Reader.engine``, else the defaults: S16's minimum among them): not met, met, or
    asked, said with why."""
    engine = r.engine if r.engine is not None else default_settings().engine
    on = r.on
    minimum = engine.metastasectomy_min_dfi_months
    d = derive(case, engine, on)
    if d.dfi_met is False and d.dfi_source == "dates, at most":
        return (f"{months}, so at most {number_text(d.dfi_months or 0)} months whatever "
                f"the day: short of S16's {minimum} months, the interval is not met (not "
                "asked)")
    if d.dfi_met is None and Timing.synchronous in d.timings and not d.earlier_presentation:
        return (f"{months} to this one, but another metastasis was present at "
                "presentation: the interval is 0 (I5, I7), S16's not met")
    if d.dfi_met is None:
        return (f"{months}: the case holds only the last day it may have been found, which "
                f"bounds the interval from above; reaching S16's {minimum} months, that "
                "bound does not decide it, so S16's interval is asked (never taken as "
                "met from a range of days): record the day it was found or the interval "
                "(stage.disease_free_interval_months)")
    if d.dfi_met and d.radiotherapy_end_open:
        return (f"{months}; with the case's other facts the engine reads it as {d.dfi_text} "
                "from the operation, but adjuvant radiotherapy followed it (or may have) and "
                "its end is not recorded: counted from that end the interval may fall "
                f"short of S16's {minimum} months, so it is asked (I5)")
    return (f"{months}; with the case's other facts the engine reads it as {d.dfi_text}: "
            f"S16's interval {'met' if d.dfi_met else 'not met'}")


def settle_partial_onsets(r: Reader, source: str) -> None:
    """The timing of each metastasis whose onset is a partial date
    (:attr:`Reader.partial_onsets`; "a partial date counts as the days it may be"):
    the engine's own rule for a day found (:func:`pecoma.case.case_timings`, I7, I29),
    applied to the first and the last day it may be, where both give the same (the rule
    is a step in time, so every day between gives it too). The days it may be end at the
    evaluation date the record is read for (it was found by then), else at the
    Condition's recordedDate. The day stays unknown (never invented).

    The timing so decided is recorded (``stage.metastases[i].timing``) with its source
    saying it is derived, not stated, unless the engine reads the same without the day.
    Metachronous, the last day it may be is recorded as ``detected_on_or_before`` (true
    of every day), which the engine reads as "at most": the disease-free interval is then
    short of S16's (the engine's setting) whatever the day, or asked, never taken as met.
    With no evaluation date and no recordedDate it is not recorded (that day may be after
    the day the case is assessed): the interval is asked. A timing stated on the record
    is kept; where the days disagree, nothing is decided and the note says why. A case
    the record does not yet make is left to the parse that refuses it.

    Each such metastasis gets one note: the days its onset may be, the day found not
    read (nor taken from its recordedDate), the timing decided or not and why, and what
    the engine then reads of the disease-free interval (:func:`_interval_decided`: not
    met, asked, or met), from the case as recorded."""
    if not r.partial_onsets:
        return
    try:
        case = parse_case(r.data, source)
    except InputError:
        for onset in r.partial_onsets:
            r.notes.extend(onset.said)  # nothing decided: the onset as read
        return
    listed = r.data.get("stage", {}).get("metastases", [])
    read = case_timings(case)
    counted_from = (case.treatment_end if case.treatment_end_not_before is None
                    else None)
    end_shown = _end_shown(case)
    decided: list[tuple[dict[str, Any], str, str]] = []
    bounded: list[tuple[dict[str, Any], dt.date, str]] = []
    # notes said once the case so decided is taken: (the note, the interval's months
    # when the engine's reading of it ends the note, the note if it is not taken)
    said: list[tuple[str, str | None, str]] = []
    for onset in r.partial_onsets:
        where, written, first, last, recorded, met = onset[:6]
        i = next((k for k, x in enumerate(listed) if x is met), None)
        if i is None or met.get("timing", Timing.unknown.value) != Timing.unknown.value:
            r.notes.extend(onset.said)  # not among the metastases read, or stated
            continue
        unread = (f"the day the {met.get('site', 'other')} metastasis was found is not read "
                  "from it, nor taken from its recordedDate (the day it was entered)")
        limit, by = ((r.on, "the evaluation date") if r.on is not None
                     else (recorded, "its recordedDate"))
        if limit is not None and limit < first:
            r.notes.append(f"{where}: its onset {written} holds no single day and is after "
                           f"{by} ({limit.isoformat()}): {unread}; neither its timing nor "
                           "the disease-free interval is decided from it (both asked): "
                           "record the day it was found or its timing")
            continue
        end = last if limit is None else min(last, limit)
        cut = f", {by} the last" if end < last else ""
        shown = f"{written} ({first.isoformat()} to {end.isoformat()}{cut})"
        timing = _timing_on(case, i, first)
        if timing is Timing.unknown or _timing_on(case, i, end) is not timing:
            r.notes.append(f"{where}: its onset {shown} is not one day: {unread}. The days "
                           f"it may be do not all give one timing against {end_shown} and "
                           f"the {WORK_UP_MONTHS} work-up months after it (I7, I29): its "
                           "timing is not decided from it, nor the disease-free interval "
                           "(both asked): record the day it was found or its timing")
            continue
        derived = (f"{where} (derived, not stated: every day its onset {written} may be "
                   "gives it)")
        if read[i] is not timing:
            decided.append((met, timing.value, derived))
        opening = (f"{where}: its onset {shown} is not one day: {unread}. Every day it may "
                   f"be gives the same timing against {end_shown}: ")
        refused = (f"{where}: its onset {shown} is not one day: {unread}. Every day it may "
                   f"be gives the timing {timing.value}, but that contradicts another fact "
                   "of the record: not kept, its timing and the disease-free interval "
                   "asked: record the day it was found or its timing")
        if timing is Timing.synchronous:
            said.append((f"{opening}read as present at presentation (timing synchronous, "
                         "I7)", None, refused))
            continue
        if counted_from is not None:
            low = max(full_months_between(counted_from, first), 0)
            high = max(full_months_between(counted_from, end), 0)
            months = (f"between {low} and {high} months" if low < high
                      else f"{high} months")
        else:
            months = "not given by the dates (the end of the primary's treatment not recorded)"
        opening += ("read as a relapse after it (timing metachronous, I7). The "
                    "disease-free interval counted to the day it was found is ")
        if limit is None:
            said.append((f"{opening}{months}, and the last day it may be "
                         f"({last.isoformat()}) is not recorded as the day it was found by "
                         "(no evaluation date, no recordedDate: it may be after the day the "
                         "case is assessed), so the interval is asked: record the day it "
                         "was found or the interval (stage.disease_free_interval_months)",
                         None, refused))
            continue
        bounded.append((met, end, f"{where} (derived, not stated: the last day its "
                                  f"onset {written} may be{cut})"))
        said.append((opening, f"{months} (found on or before {end.isoformat()}, "
                     "recorded as detected_on_or_before)", refused))
    index = {id(x): k for k, x in enumerate(listed)}
    for met, value, derived in decided:
        met["timing"] = value
        r.sources[f"stage.metastases[{index[id(met)]}].timing"] = derived
    added = []
    for met, day, derived in bounded:
        if "detected_on_or_before" not in met:
            met["detected_on_or_before"] = day.isoformat()
            r.sources[f"stage.metastases[{index[id(met)]}].detected_on_or_before"] = derived
            added.append(met)
    try:
        settled = parse_case(r.data, source)
    except InputError:
        # the case refuses a timing so decided beside another fact: none is kept, and
        # the refusal is left to the facts as recorded
        for met, _timing, _derived in decided:
            met.pop("timing", None)
            r.sources.pop(f"stage.metastases[{index[id(met)]}].timing", None)
        for met in added:
            met.pop("detected_on_or_before", None)
            r.sources.pop(f"stage.metastases[{index[id(met)]}].detected_on_or_before",
                          None)
        r.notes.extend(refused for _text, _months, refused in said)
        return
    r.notes.extend(text if months is None else text + _interval_decided(settled, r, months)
                   for text, months, _refused in said)


def read_conditions(conditions: list[tuple[str, dict[str, Any]]],
                     observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    histologies = _histology_links(conditions, observations, r)
    linked, revised = histologies.linked, histologies.revised
    r.other_histology.update(revised)
    # A Condition coded or named as a metastasis is one, even when it names PEComa
    # ("metastasis of PEComa to the lung"); the primary is the PEComa that is not. One
    # whose latest histology is another tumour, or in doubt, is none.
    # A status that sets a Condition aside or makes it history counts only in the code
    # system FHIR R4 binds it to (pecoma.fhir.reading.bound_status): a metastasis 'refuted'
    # or 'resolved' in a local system, or in none, is kept in view, with a note. A PEComa
    # Condition 'refuted' (or 'entered-in-error') with no code system, or FHIR's own
    # 'refuted' beside a code that would keep it (a local 'confirmed'), is neither read as
    # the diagnosis nor dropped: a system left out is often FHIR's, FHIR's own status is
    # never outweighed by another code, and a refuted PEComa read as current would bring
    # PEComa advice to a patient who may not have it; the diagnosis is never assumed, so
    # it is asked (below) when no other Condition holds it.
    unsure = {id(x): held for _w, x in conditions
              if (held := refuted_in_doubt(x)) is not None
              and (id(x) in linked or (_is_pecoma(x) and not _is_metastasis(x)))}
    primary = [(w, x) for w, x in conditions if live_condition(x) and (
        id(x) in linked or _is_pecoma(x)) and not _is_metastasis(x)
        and id(x) not in revised and id(x) not in histologies.doubted
        and id(x) not in unsure]
    mets = [(w, x) for w, x in conditions if live_condition(x) and _is_metastasis(x)
            and id(x) not in revised and id(x) not in histologies.doubted]
    for w, x in conditions:
        if live_condition(x) and _is_metastasis(x) and id(x) in revised:
            by = histologies.revised_by[id(x)]
            r.other_spread[id(x)] = (w, by[1], by[0])
            r.notes.append(f"{w}: {revised[id(x)]}; left out of stage.metastases, and the "
                           "disease status follows the rest of the record (a statement "
                           "of metastatic disease not later than that result is asked)")
    for where, cond in conditions:
        r.notes += [f"{where}: {said}"
                    for said in status_notes(cond, kept=id(cond) not in unsure)]
        if not live_condition(cond):
            r.why[where] = f"verificationStatus '{verification(cond)}'"
        elif id(cond) in unsure:
            r.why[where] = (f"verificationStatus {unsure[id(cond)][0]}: whether the PEComa "
                            "diagnosis it records stands cannot be told")
    aside = [(w, url, withheld) for w, x, url, withheld in r.modified_conditions
             if live_condition(x) and _is_pecoma(x) and not _is_metastasis(x)]
    if not primary and aside:
        # the record holds the diagnosis, set aside for what may change its meaning or
        # for information withheld from it: named, never said absent
        where, url, withheld = aside[0]
        if url:
            r.issue(f"{where}.modifierExtension", url,
                    "is not understood by pecoma, so this PEComa Condition was not read (a "
                    "modifierExtension may change what it means: FHIR forbids reading it as "
                    "if absent); the guideline check needs the diagnosis read: check the "
                    "Condition with the team that keeps the record")
        else:
            r.issue(f"{where}.meta", withheld,
                    "says information was withheld from this PEComa Condition, so it was "
                    "not read; the guideline check needs the whole diagnosis: check the "
                    "Condition with the team that keeps the record")
        return
    if not primary and any(id(x) in histologies.doubted and not _is_metastasis(x)
                           for _w, x in conditions):
        return  # the question is raised: which histology stands
    if not primary and unsure:
        where, cond = next((w, x) for w, x in conditions if id(x) in unsure)
        shown, why = unsure[id(cond)]
        r.issue(f"{where}.verificationStatus", shown,
                f"must say one status coded in {c.CONDITION_VERIFICATION} (the code system "
                f"FHIR R4 binds it to): {why}, and the guideline check needs whether the "
                "PEComa diagnosis stands; the diagnosis is never assumed, nor dropped "
                "unsaid: record its verificationStatus with its system (confirmed, or "
                "refuted)")
        return
    if not primary:
        # a Condition whose morphology extension pecoma cannot read as PEComa (a SNOMED CT
        # code alone: pecoma lists none for PEComa) is named, with how it is read
        unread = [f"; {w}.extension(mcode-histology-morphology-behavior) holds "
                  f"{show_value(m.lower_words(value) or codings(value), 80)}, which pecoma "
                  "does not read as PEComa (it reads that extension by ICD-O-3 code or by "
                  "its words, and knows no SNOMED CT code of PEComa)"
                  for w, x in conditions if live_condition(x) and not (
                      _is_metastasis(x) and _states_pecoma(x)) and (
                      value := (extension(x, c.MCODE_MORPHOLOGY) or {}).get(
                          "valueCodeableConcept"))]
        # what names PEComa but was set aside (a refuted Condition) or not read (a result
        # naming PEComa, or about a Condition naming it, whose words pecoma does not read)
        # is named: the record is never said to hold none; a result not read that names
        # no PEComa is listed apart, never as a PEComa found
        found = [(w,
                  f"; {w} records PEComa but is set aside: its verificationStatus is "
                  f"'{verification(x)}'") for w, x in conditions
                 if not live_condition(x) and not _is_metastasis(x)
                 and (_is_pecoma(x) or id(x) in linked)]
        found += [(w, f"; {w} is not read: {r.why[w]}")
                  for w, pecoma in histologies.unread if pecoma and w in r.why]
        if not found:
            # a metastasis stating PEComa (8714/6, or the PEComa's morphology) is the
            # PEComa's spread: named as found, never said to be no PEComa; the primary's
            # Condition is what the check reads (site, features), and it is missing
            found += [(w, f"; {w} records a metastasis of PEComa, but the record holds no "
                       "Condition of its primary tumour (whose site and features the "
                       "guideline check reads)") for w, x in conditions
                      if live_condition(x) and _is_metastasis(x) and _states_pecoma(x)]
        found += [("", f"; {w}, a result naming no PEComa, is not read: {r.why[w]}")
                  for w, pecoma in histologies.unread if not pecoma and w in r.why]
        r.issue("Condition", ", ".join(x for x, _y in found[:3] if x) or "(none found)",
                "the bundle must hold the PEComa diagnosis: a Condition coded ICD-O-3 8714/0 "
                f"or 8714/3 ({c.ICDO3_SYSTEM}) or {c.PECOMA_SYSTEM}|pecoma, or naming PEComa "
                "('PEComa', 'perivascular epithelioid') in its code or in its mCODE "
                "histology-morphology-behavior extension, or an mCODE "
                "HistologicBehaviorAndType Observation (LOINC 31206-6) coding 8714/x for it, "
                "the latest for it" + "".join(unread[:1])
                + "".join(y for _x, y in found[:3])
                + "".join(f"; {w} is not read as PEComa: {revised[id(x)]}"
                          for w, x in conditions
                          if id(x) in revised and not _is_metastasis(x)))
        return
    # A confirmed diagnosis before a provisional one, the PEComa before a record of its
    # recurrence, one not in the past (resolved, inactive) before one that is, then the
    # earliest onset (the diagnosis, not a later record of it): the bundle's order
    # decides nothing.
    primary.sort(key=lambda wx: (
        verification(wx[1]) in _NOT_CONFIRMED,
        bool(_RECURRENCE_WORDS.search(m.lower_words(wx[1].get("code")))),
        clinical_status(wx[1]) in _HISTORY, _onset_key(wx[1])))
    where, cond = primary[0]
    # two PEComas of one standing (neither a recurrence or spread) at different sites, or
    # on the two sides of one organ: two primaries
    rivals = [w for w, x in primary[1:]
              if _standing(x) == (*_standing(cond)[:2], False)
              and _same_record(x, cond, r) is False]
    if rivals:
        r.issue("Condition", f"({1 + len(rivals)} PEComa Conditions)",
                f"cannot be read: {where} and {rivals[0]} name PEComa at different primary "
                "sites (or the two sides of one organ), both current, so which is the "
                "primary cannot be told; record the "
                "other as a metastasis (mCODE SecondaryCancerCondition) or its "
                "clinicalStatus as resolved")
        return
    r.used.add(where)
    r.primary, r.primary_at = cond, where
    sites = condition_sites(cond, r)
    site = site_of(sites, PrimarySite)
    named = sites_named(sites, PrimarySite)
    ref = (extension(cond, BODY_SITE_EXTENSION) or {}).get("valueReference")
    if site is None and ref is not None:
        # the site given only as a reference to a BodyStructure the record does not hold:
        # the primary site (a fact every case has) cannot be read, and is never guessed
        r.issue(f"{where}.extension(bodySite)", reference_of(ref) or ref,
                "must name a BodyStructure the bundle holds, whose location is read as "
                "the primary site (or the site must be coded in Condition.bodySite): the "
                "record holds no such BodyStructure, so the primary site cannot be read")
    elif site is None:
        r.issue(f"{where}.bodySite", "(missing)",
                "must name the primary site (project site code, SNOMED CT body structure, "
                "or the organ in its text; see docs/fhir.md)")
    elif len(named) > 1:
        # the order of a list says nothing (FHIR bodySite 0..*): the first is no more the
        # primary than the second, and the site decides advice (S15's uterine options)
        r.issue(f"{where}.bodySite", f"({', '.join(named)})",
                "must name one primary site: the PEComa Condition names several, so where "
                "it arose cannot be told; keep the primary's site (a side or location "
                "belongs in its qualifier) and record the others as metastases (mCODE "
                "SecondaryCancerCondition)")
    else:
        source = f"{where}.bodySite" if cond.get("bodySite") else f"{where}.extension(bodySite)"
        r.put("tumour.primary_site", site, source)
        if not cond.get("bodySite"):
            r.notes.append(f"{where}: the primary site read from the location of "
                           f"{reference_of(ref)}, the BodyStructure its bodySite extension "
                           "names")
        cervix = _cervix(cond, where, site, cervix_of(sites), r)
        if cervix is not None:
            r.put("tumour.cervix", cervix[0], cervix[1] or source)
        if site == PrimarySite.other.value:
            r.notes.append(f"{where}.bodySite names no site the guideline distinguishes: "
                           "read as 'other'")
        else:
            # a concept beside the organ naming a body part pecoma does not map (the thigh
            # beside the uterus) may be the tumour's site: said, for the team to check
            beside = [shown for concept in sites
                      if not sites_named([concept], PrimarySite)
                      and (shown := body_part_words(concept))]
            if beside:
                r.notes.append(f"{where}.bodySite also names {', '.join(beside)}, which "
                               f"pecoma does not read as a site: read as {site}; check the "
                               "primary site")
    for i, stage in enumerate(as_list(cond.get("stage"))):
        if not isinstance(stage, dict) or not isinstance(stage.get("summary"), dict):
            continue
        group = m.stage_group(stage["summary"])
        if group == "IV":
            r.stage_iv = r.stage_iv or f"{where}.stage[{i}]"
            r.stage_iv_all.append((None, f"{where}.stage[{i}]"))
        elif group is None:
            said = m.lower_words(stage["summary"]) or ", ".join(
                code for _s, code in codings(stage["summary"]) if code) or "(no value)"
            r.staging_unread = r.staging_unread or f"{where}.stage[{i}]"
            r.notes.append(f"{where}.stage[{i}].summary {show_value(said, 60)} is a stage "
                           "pecoma cannot read: whether it is stage IV is unknown; the "
                           "disease is not taken as localized from a denial of metastatic "
                           "history beside it")
    day = _onset(cond, where, "diagnosis.date", r)
    if day is not None:
        r.put("diagnosis.date", day.isoformat(), where)
    # the diagnosis is confirmed only when no coding of its status says otherwise (a
    # metastasis coded both ways is read as present, the safer way there; for the
    # diagnosis the safer way asks how it was made)
    doubt = sorted({code for _s, code in codings(cond.get("verificationStatus"))}
                   & _NOT_CONFIRMED)
    confirmed = not doubt
    if not confirmed:
        r.notes.append(f"{where}: the PEComa diagnosis is '{doubt[0]}', not "
                       "confirmed; diagnosis.method stays unknown until it is confirmed "
                       "(how was the diagnosis made: histology with immunohistochemistry?)")
    method = enum_extension(cond, c.EXT.DIAGNOSIS_METHOD, [x.value for x in DiagnosisMethod],
                       where, r)
    if confirmed and method is not None and method != DiagnosisMethod.unknown.value:
        r.put("diagnosis.method", method, where)
    prior = enum_extension(cond, c.EXT.PRIOR_DIAGNOSIS, [p.value for p in PriorDiagnosis], where, r)
    if prior is not None and prior != PriorDiagnosis.unknown.value:
        r.put("diagnosis.prior_diagnosis", prior, where)
    label = extension(cond, c.EXT.CASE_LABEL)
    if label is not None and isinstance(label.get("valueString"), str):
        r.data["label"] = label["valueString"]
    if id(cond) in linked:
        r.notes.append(f"{where} is the PEComa: histology from {linked[id(cond)]}")
    if clinical_status(cond) in _RECURRED:
        r.primary_recurred = f"{where}.clinicalStatus '{clinical_status(cond)}'"
    for other_where, other in primary[1:]:
        r.why[other_where] = f"a further PEComa Condition ({where} is read)"
        r.further_pecoma[id(other)] = other_where
        if r.primary_recurred is not None or clinical_status(other) in _HISTORY:
            continue
        # a further PEComa Condition whose clinicalStatus (FHIR's condition-clinical
        # 'recurrence', 'relapse': the status it has now) or whose words say the PEComa
        # came back is its recurrence, as the primary's own status is
        if clinical_status(other) in _RECURRED:
            r.primary_recurred = (f"{other_where}.clinicalStatus "
                                  f"'{clinical_status(other)}', a recurrence of the PEComa")
        elif _RECURRENCE_WORDS.search(m.lower_words(other.get("code"))):
            r.primary_recurred = f"{other_where}, a recurrence of the PEComa"
        else:
            continue
        r.used.add(other_where)
    # the further PEComa Conditions not in the past (bar the one read as its recurrence),
    # and the Conditions naming PEComa in words not read as it: each placed against the
    # day the patient would be free of disease (pecoma.fhir.present_again)
    r.pecoma_beside = [(w, x) for w, x in primary[1:]
                       if clinical_status(x) not in _HISTORY and w not in r.used]
    r.pecoma_unread = [(w, x) for w, x in conditions
                       if live_condition(x) and x is not cond and not _is_metastasis(x)
                       and id(x) not in r.further_pecoma and id(x) not in revised
                       and id(x) not in unsure and clinical_status(x) not in _HISTORY
                       and _words_name_pecoma(x)]
    for w, unread_cond in r.pecoma_unread:
        said = histology_words(m.concept_text(unread_cond.get("code")))[2] or "are not read as it"
        r.why.setdefault(w, f"names PEComa, but its words {said}: whether it records the "
                         "PEComa or its recurrence is not known")
    r.other_cancers = [w for w, x in conditions
                       if x is not cond and id(x) not in linked and not _is_pecoma(x)
                       and _other_cancer(x, site)]
    r.metastasis_conditions = mets
    _unplaced_histology(histologies, where, cond, r)


_CERVIX_EXTENSION: Final = c.EXT.PRIMARY_IN_CERVIX.rsplit("/", 1)[-1]


def _cervix(cond: Mapping[str, Any], where: str, site: str, coded: str | None,
            r: Reader) -> tuple[str, str | None] | None:
    """Whether the primary arose in the uterine cervix (``tumour.cervix``), and where that
    was read (``None``: the bodySite): the code of a uterine primary's bodySite (the
    cervix, or a part of the uterine body) and the project extension ``primary-in-cervix``
    (``yes``, ``no`` or ``unknown``). Where they disagree, or the extension says the
    cervix beside a site outside the uterus (the cervix is part of the uterus), the
    answer cannot be told: unknown, with a note. ``None`` when nothing says."""
    coded = coded if site == PrimarySite.uterus.value else None
    stated = extension_code(cond, c.EXT.PRIMARY_IN_CERVIX)
    at = f"{where}.extension({_CERVIX_EXTENSION})"
    if stated is not None and stated not in ("yes", "no", "unknown"):
        r.notes.append(f"{at} holds {show_value(stated, 40)}, not one of yes, no, unknown: "
                       "not read")
        stated = None
    if stated is None or stated == "unknown":
        return None if coded is None else (coded, None)
    if stated == "yes" and site != PrimarySite.uterus.value:
        r.notes.append(f"{at} says the primary arose in the uterine cervix, but its "
                       f"bodySite is read as {site}, outside the uterus (the cervix is part "
                       "of the uterus): whether it arose in the cervix is left unknown; "
                       "check the primary site")
        return None
    if coded is not None and coded != stated:
        r.notes.append(f"{at} says '{stated}' whether the primary arose in the uterine "
                       f"cervix, but the code of its bodySite says '{coded}': left unknown; "
                       "check the primary site")
        return None
    return stated, at


def _standing(cond: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    """What the reader compares of two PEComa Conditions beside their sites: whether each
    is only suspected (verificationStatus provisional, differential, unconfirmed), in the
    past (clinicalStatus inactive, resolved, remission), or names a recurrence or spread."""
    words = m.lower_words(cond.get("code"))
    return (verification(cond) in _NOT_CONFIRMED, clinical_status(cond) in _HISTORY,
            bool(_RECURRENCE_WORDS.search(words) or _SPREAD_WORDS.search(words)))


def _same_record(other: Mapping[str, Any], cond: Mapping[str, Any], r: Reader) -> bool | None:
    """Whether the PEComa Condition ``other`` records the same tumour as the PEComa
    Condition ``cond``, by their primary sites (the one rule that tells the same tumour
    recorded twice, a problem-list entry beside the mCODE primary cancer Condition, from
    two primaries): ``True`` when their sites read the same organ, of the same side or
    neither stating one, and they are of one standing (:func:`_standing`); ``False`` when
    they read different organs, or both state a side (:func:`condition_side`, the rule
    that tells a size of the other side) and the sides differ: two primaries (bilateral
    renal PEComas are common in tuberous sclerosis; :func:`read_conditions` refuses two
    current ones); ``None`` when it cannot be told (a site not read, or 'other', which
    names no organ to compare; one side stated, the other not; one site shared but a
    different standing: a past tumour of that organ, a recurrence, one only
    suspected)."""
    site = site_of(condition_sites(other, r), PrimarySite)
    own = site_of(condition_sites(cond, r), PrimarySite)
    if site is None or own is None:
        return None
    side, own_side = condition_side(other, r), condition_side(cond, r)
    if site != own or (side is not None and own_side is not None and side != own_side):
        return False
    if site == PrimarySite.other.value or (side is None) != (own_side is None) \
            or _standing(other) != _standing(cond):
        return None
    return True


def the_pecoma(cond: Mapping[str, Any], r: Reader) -> bool | None:
    """Whether a Condition a record gives as its reason (a Procedure's
    ``reasonReference``) is the PEComa read as the primary: the PEComa Condition itself, a
    further PEComa Condition recording the same tumour (:func:`_same_record`: whichever of
    two entries for one tumour was read as the primary, a reason naming the other is the
    PEComa's), or a Condition recording it again (:func:`same_tumour`: C55 beside a uterine
    PEComa). ``None`` when a further PEComa Condition cannot be told to be the same tumour
    or another; ``False`` for a metastasis and any other Condition: one whose own latest
    histology names another tumour (``Reader.other_histology``: a renal cell carcinoma's
    result), or a malignancy of the PEComa's organ on the other side (both sides stated,
    :func:`condition_side`: C64.1, the right kidney, beside a left renal PEComa)."""
    if r.primary is None:
        return False
    if cond is r.primary:
        return True
    if id(cond) in r.further_pecoma:
        return _same_record(cond, r.primary, r)
    if _is_metastasis(cond) or id(cond) in r.other_histology:
        return False
    side, own = condition_side(cond, r), condition_side(r.primary, r)
    return (same_tumour(cond, r.data.get("tumour", {}).get("primary_site"))
            and (side is None or own is None or side == own))


def _onset_key(cond: Mapping[str, Any]) -> str:
    """The onset as text that sorts by date (none: last)."""
    onset = cond.get("onsetDateTime")
    return onset if isinstance(onset, str) else "~"


def _said_on(path: str, observations: list[tuple[str, dict[str, Any]]],
             r: Reader) -> tuple[str, dt.date] | None:
    """Where the record states the fact ``path`` (an Observation read before) and the day
    it was stated (its effective day, else its period's start, else issued), or
    ``None`` when no Observation gave it or it has no day."""
    where = r.sources.get(path)
    obs = next((o for w, o in observations if w == where), None)
    if where is None or obs is None:
        return None
    said = (day_of(obs.get("effectiveDateTime"))
            or day_of((obs.get("effectivePeriod") or {}).get("start"))
            or day_of(obs.get("issued")))
    return None if said is None else (where, said)


def _found_after(present: list[dict[str, Any]], day: dt.date,
                 outside_the_lungs: bool) -> list[tuple[str, str]]:
    """(site, day found) of the present metastases found after ``day``."""
    return sorted({(met["site"], met["detected_on"]) for met in present
                   if (not outside_the_lungs or met["site"] != MetastasisSite.lung.value)
                   and isinstance(met.get("detected_on"), str)
                   and dt.date.fromisoformat(met["detected_on"]) > day})


def _unread(path: str, where: str, why: str, r: Reader) -> None:
    """Take back the fact ``path`` read from ``where``: found, not read (listed as such,
    never as not found), for ``why``."""
    *parents, leaf = path.split(".")
    node = r.data
    for name in parents:
        node = node.get(name, {})
    node.pop(leaf, None)
    r.sources.pop(path, None)
    r.why[where] = why
    r.value_not_read(path, where)


#: The facts of now a 'no' of which, stated before a present metastasis was found, is
#: not read (:func:`_stated_before_the_present_metastases`): the path, whether only a
#: metastasis outside the lungs counts, what the 'no' denies, the metastases it counts.
_NONE_BEFORE_THE_METASTASES: Final = (
    ("stage.extrapulmonary_disease", True, "disease outside the lungs", " outside the lungs"),
    ("stage.local_recurrence", False, "local recurrence", ""),
)


def _latest_of_local_recurrence_and_no_extrapulmonary(
        observations: list[tuple[str, dict[str, Any]]], r: Reader) -> None:
    """A local recurrence 'yes' beside no disease outside the lungs ('no'), each from an
    Observation: two statements of different days do not contradict each other, the
    later one says what is present now, and the older one is not read (noted). When one
    has no day, which is later cannot be told: neither is read (noted), so both are
    asked. Stated on one day, they contradict each other, and the case's rule refuses
    the record (:mod:`pecoma.case.coherence`)."""
    recurrence, extrapulmonary = "stage.local_recurrence", "stage.extrapulmonary_disease"
    stage = r.data.get("stage", {})
    if stage.get("local_recurrence") != "yes" or stage.get("extrapulmonary_disease") != "no":
        return
    wheres = {w for w, _o in observations}
    if r.sources.get(recurrence) not in wheres or r.sources.get(extrapulmonary) not in wheres:
        return
    yes, no = _said_on(recurrence, observations, r), _said_on(extrapulmonary, observations, r)
    if yes is not None and no is not None and yes[1] == no[1]:
        return
    said = {recurrence: "a local recurrence", extrapulmonary: "no disease outside the lungs"}
    if yes is None or no is None:
        for path in (recurrence, extrapulmonary):
            where = str(r.sources.get(path))
            _unread(path, where, "beside a statement of the other fact with no day", r)
            r.notes.append(
                f"{where}: {said[path]}, beside a statement of the other fact (a local "
                "recurrence is disease outside the lungs) of which one has no date: "
                "which is the later cannot be told, so neither is read, and both are asked")
        return
    older, newer = (extrapulmonary, recurrence) if no[1] < yes[1] else (recurrence,
                                                                        extrapulmonary)
    (where, day), (later, later_day) = (no, yes) if older == extrapulmonary else (yes, no)
    _unread(older, where, f"superseded by {later}, stated later", r)
    r.notes.append(
        f"{where}: {said[older]}, stated on {day.isoformat()}, superseded by {later} "
        f"stated on {later_day.isoformat()} ({said[newer]}): not read, the later "
        "statement says what is present now")


def _local_recurrence_against(since: dt.date, free: str,
                              observations: list[tuple[str, dict[str, Any]]],
                              r: Reader) -> tuple[str, str] | None:
    """A local recurrence 'yes' (the project's Observation) beside free of disease since
    ``since`` (``free``: the free-of-disease record as the note names it), placed by the
    day it was stated (:func:`_said_on`). Found on or before that day, it is the relapse
    the patient became free of: history, not read (noted), and ``None``. Found after it,
    the disease is present again; with no day, it may be: where it is and the note
    saying so, the patient then not taken as free of disease (the safer reading), and
    the undated one not read either (asked). ``None`` when there is no such 'yes'."""
    path = "stage.local_recurrence"
    where = r.sources.get(path)
    if r.data.get("stage", {}).get("local_recurrence") != "yes" \
            or where not in {w for w, _o in observations}:
        return None
    stated = _said_on(path, observations, r)
    if stated is not None and stated[1] <= since:
        _unread(path, where, "a local recurrence found on or before the day the patient "
                "became free of disease: history", r)
        r.notes.append(
            f"{where}: a local recurrence found on {stated[1].isoformat()}, on or before "
            f"the day the patient became free of disease ({free}, since "
            f"{since.isoformat()}): history, the relapse the patient became free of, not "
            "read as present now")
        return None
    head = (f"free_of_disease not {free} (free of disease since {since.isoformat()}): "
            f"{where} ")
    if stated is not None:
        return str(where), (
            f"{head}states a local recurrence found on {stated[1].isoformat()}, after that "
            "day: the disease is present again. The disease is taken as present (the "
            "safer reading: the advice is for present disease); if the patient is free "
            "of disease again, record since when (an Observation coded "
            f"{c.PECOMA_SYSTEM}|{c.OBS_FREE_OF_DISEASE[0]} valued a day after it)")
    _unread(path, where, "a local recurrence with no date, beside free of disease", r)
    return str(where), (
        f"{head}states a local recurrence with no date: whether it is the relapse the "
        "patient became free of or disease present again cannot be told, so neither is "
        "read: the disease is taken as possibly present (the safer reading: the advice "
        "is for present disease) and whether a local recurrence is present now is "
        "asked; record the day it was found (effectiveDateTime)")


def _stated_before_the_present_metastases(
        present: list[dict[str, Any]], observations: list[tuple[str, dict[str, Any]]],
        r: Reader) -> None:
    """Facts of S16 stated on a day before a metastasis the record holds as present was
    found say nothing of it, and are not read (noted), so they are asked:

    - no disease outside the lungs (``stage.extrapulmonary_disease`` 'no') stated before
      a metastasis outside the lungs was found: never taken as none. A 'no' on or after
      the day (a staged metastasectomy, the liver resected first) stands;
    - no local recurrence (``stage.local_recurrence`` 'no', a fact of now) stated before
      a metastasis was found: it says nothing of whether the primary's site recurred
      with them (the same rule);
    - a disease-free interval (``stage.disease_free_interval_months``) stated before a
      metastasis was found: the interval of an earlier presentation (a relapse treated
      years ago), not of the metastases decided on now.

    A fact stated with no day stands."""
    for path, outside, what, scope in _NONE_BEFORE_THE_METASTASES:
        stated = _said_on(path, observations, r)
        if stated is None or r.data.get("stage", {}).get(path.split(".")[1]) != "no":
            continue
        where, said = stated
        later = _found_after(present, said, outside_the_lungs=outside)
        if later:
            _unread(path, where, f"stated before the metastasis{scope} the record holds "
                    "as present was found", r)
            found = ", ".join(f"{site} found {day}" for site, day in later)
            r.notes.append(
                f"{where}: no {what}, stated on {said.isoformat()}, before the "
                f"metastasis{scope} the record holds as present ({found}): not read, so "
                f"whether {what} is present now is asked (record it again as of now)")
    _latest_of_local_recurrence_and_no_extrapulmonary(observations, r)
    interval = "stage.disease_free_interval_months"
    stated = _said_on(interval, observations, r)
    if stated is not None and interval.split(".")[1] in r.data.get("stage", {}):
        where, said = stated
        later = _found_after(present, said, outside_the_lungs=False)
        if later:
            _unread(interval, where, "stated before the metastases the record holds as "
                    "present were found: the interval of an earlier presentation", r)
            found = ", ".join(f"{site} found {day}" for site, day in later)
            r.notes.append(
                f"{where}: a disease-free interval stated on {said.isoformat()}, before "
                f"the metastases the record holds as present ({found}): the interval of "
                "an earlier presentation, not read, so the interval to the present "
                "metastases is asked (S16)")


def _cancer_shown(where: str, r: Reader) -> str:
    """Another primary cancer as a refusal names it: where it is, and each of its statuses
    given in words only (:func:`words_only`), which is not read (the cancer is counted as
    current, the safer reading), so that the reader of a refusal built on a cancer whose
    words say "Refuted" is told why it counts."""
    cond = r.resolve(where) or {}
    unread = [f"its {element} in words only ({words}) is not read"
              for element in ("verificationStatus", "clinicalStatus")
              if (words := words_only(cond.get(element))) is not None]
    return where if not unread else (
        f"{where}: {' and '.join(unread)}, so it is counted as a current cancer")


def read_metastases(r: Reader, observations: list[tuple[str, dict[str, Any]]]) -> None:
    """The PEComa's metastasis Conditions (:func:`read_conditions` finds them), read after
    the resection and the end of the primary's treatment, which tell lymph-node
    involvement at presentation from a nodal relapse. A metastasis naming no primary
    cannot be taken as the PEComa's beside another primary cancer, unless its own code
    or morphology extension states PEComa (8714/6, the project's code: it names its
    primary so; the extension is needed only for a metastasis coded by site alone).
    Metastases all resolved, each with its abatement date, make the patient free of
    disease since the latest, unless the record says the disease is present again after
    it, or may be (:func:`pecoma.fhir.present_again.present_again`): none is derived
    then, and the resolved metastases are history, not listed as present disease. A
    free-of-disease Observation is held to the same statements first
    (:func:`_free_contradicted`), and to the metastases read as active
    (:func:`_free_beside_active`)."""
    _free_contradicted(r, observations)
    other_cancers = r.other_cancers
    present: list[dict[str, Any]] = []
    active: list[tuple[str, Mapping[str, Any], str]] = []
    history: list[tuple[dict[str, Any], dt.date | None]] = []
    undated: list[tuple[str | None, str]] = []  # resolved, with no day they resolved
    paths: list[str] = []
    for where, cond in r.metastasis_conditions:
        related = extension(cond, m.CONDITION_RELATED)
        target = resolved(reference_of((related or {}).get("valueReference")), r)
        of_primary = None if target is None else the_pecoma(target, r)
        if target is not None and r.primary is not None and of_primary is False:
            r.why[where] = "a metastasis of another primary cancer"
            continue
        if target is not None and of_primary is None:
            # a PEComa's spread whichever PEComa Condition it names: read (the safer way)
            r.notes.append(f"{where}: a metastasis of {r.labels.get(id(target), 'a PEComa')}"
                           ", a PEComa Condition that cannot be told to be the same tumour as "
                           "the one read as the primary: read as the PEComa's")
        if target is None and other_cancers and _states_pecoma(cond):
            # its own code names its primary (8714/6): the extension is needed only for a
            # metastasis coded by site alone
            r.notes.append(f"{where}: a metastasis naming no primary beside another "
                           f"primary cancer ({other_cancers[0]}), read as the PEComa's: its "
                           "own code or morphology extension states PEComa")
        elif target is None and other_cancers and clinical_status(cond) in _HISTORY:
            r.why[where] = ("a resolved metastasis naming no primary, beside another primary "
                            f"cancer ({other_cancers[0]})")
            continue
        elif target is None and other_cancers:
            r.issue(f"{where}.extension(relatedPrimaryCancerCondition)", "(missing)",
                    "must name the primary cancer of this metastasis: the record holds "
                    f"another primary cancer ({_cancer_shown(other_cancers[0], r)}) besides "
                    "the PEComa, so the metastasis cannot be taken as the PEComa's")
            continue
        r.pecoma_spread.add(id(cond))
        if _suspected(cond, where, r):
            continue
        noted = len(r.notes)
        if _nodal(cond):
            day, relapse, doubt = _nodes_found(cond, where, r)
            if relapse is None:
                _nodes_at_presentation(cond, where, doubt, r)
                continue
            site = MetastasisSite.other.value
            entered = False  # a relapse is never dated by the day it was entered
            r.notes.append(f"{where}: lymph-node involvement found {day} after the primary's "
                           f"treatment ({relapse}): a relapse, not nodes at presentation; read "
                           "as a metastasis at site 'other' (regional or distant not stated)")
        else:
            site = _metastasis_site(cond, where, r)
            fact = f"the {site} metastasis's detection date"
            day = _onset(cond, where, fact, r)
            entered = r.entered_dates.pop(fact, None) is not None
        met: dict[str, Any] = {"site": site}
        span = _partial_onset(cond) if day is None and not _nodal(cond) else None
        if span is not None:
            # the days it may be: its timing is decided once the end of the primary's
            # treatment is known (settle_partial_onsets), never a day invented. What
            # _onset said of the onset ("holds no single day") is said there, in one
            # note with what the days decide
            onset_read = tuple(r.notes[noted:])
            del r.notes[noted:]
            r.partial_onsets.append(PartialOnset(where, span.written, span.earliest,
                                                 span.latest,
                                                 day_of(cond.get("recordedDate")), met,
                                                 onset_read))
        if day is not None and entered:
            # only the day it was entered: found on or before it, the exact day unknown
            met["detected_on_or_before"] = day.isoformat()
            r.notes.append(f"{where}: read as detected on or before {day.isoformat()} "
                           "(detected_on_or_before; detected_on unknown): the timing and "
                           "the disease-free interval count from it only as far as that "
                           "settles them, else they are asked")
        elif day is not None:
            met["detected_on"] = day.isoformat()
        timing = enum_extension(cond, c.EXT.METASTASIS_TIMING, [t.value for t in Timing], where, r)
        if timing is not None:
            met["timing"] = timing
        r.used.add(where)
        paths.append(where)
        status = clinical_status(cond)
        abated = any(k.startswith("abatement") for k in cond)
        # an abatement makes a metastasis with no status history (FHIR con-4): a period
        # ending before it starts contradicts itself on when it resolved
        refuse_backwards(cond.get("abatementPeriod"), where, "abatementPeriod",
                         "whether the metastasis resolved, and when, is read from it", r)
        if status is None and abated and (
                words := words_only(cond.get("clinicalStatus"))) is not None:
            # a status that could not be read never makes present disease history: the
            # abatement beside it is in doubt, the metastasis kept in view
            r.notes.append(f"{where}: its clinicalStatus in words only ({words}) is not "
                           "read, and an abatement beside it is not read as resolved: a "
                           "status not read never makes the disease history; the metastasis "
                           f"is kept as present disease (the safer reading); record whether "
                           f"the {site} metastasis is active or resolved (a clinicalStatus "
                           "code)")
        elif status is None and abated and cond.get("clinicalStatus") is not None \
                and not codings(cond.get("clinicalStatus")):
            # a status sent but holding neither a code nor words (a data-absent-reason:
            # unknown) is a status not known, not an absent one: kept in view, as in words
            r.notes.append(f"{where}: its clinicalStatus is sent without a code or words "
                           "(not known), and an abatement beside it is not read as "
                           "resolved: a status not read never makes the disease history; "
                           "the metastasis is kept as present disease (the safer reading); "
                           f"record whether the {site} metastasis is active or resolved (a "
                           "clinicalStatus code)")
        elif (status is None and not codings(cond.get("clinicalStatus")) and abated):
            # FHIR (con-4): a Condition that has abated is not active (one whose status is
            # coded, if not in FHIR's system, is kept in view: its note asks)
            status = "resolved"
            r.notes.append(f"{where}: no clinicalStatus, but an abatement: read as resolved")
        if status in _HISTORY:
            day, no_day = _abated_on(cond, where, site, r)
            history.append((met, day))
            if day is None:
                undated.append(no_day)
            r.notes.append(f"{where}: metastasis ({site}) is '{status}': history, "
                           "not present disease (not in stage.metastases while others are "
                           "present)")
        else:
            present.append(met)
            active.append((where, cond, site))
    _free_beside_active(r, active)
    _free_not_read(r, lambda since, where: _local_recurrence_against(
        since, f"read from {where}", observations, r))
    stated_free = r.data.get("free_of_disease", {}).get("since")
    if history and not present:
        ends = [d for _met, d in history]
        if all(d is not None for d in ends):
            since = max(d for d in ends if d is not None)
            # free of disease since they resolved, unless a statement of the disease's
            # presence is dated after that day, or cannot be placed against it
            if stated_free is not None and since.isoformat() <= stated_free:
                pass  # a free-of-disease Observation read (not contradicted) says since when
            elif (again := present_again(since, observations, r)) is None \
                    and r.conditions_unread is not None:
                # free of disease only from a condition list read in full: an active
                # metastasis among the Conditions not read would be present disease
                r.present_again = "the Conditions not all read"
                r.notes.append(_not_derived_unread(since, r.conditions_unread))
            elif again is None and r.observations_unread is not None:
                # and from Observations read in full: a disease status saying the disease
                # is present (progression, distant metastasis present), or an M1, among
                # those not read would make it present again
                r.present_again = "the Observations not all read"
                r.notes.append(_not_derived_unread(since, r.observations_unread,
                                                   "Observations"))
            elif again is None and (again := _local_recurrence_against(
                    since, "derived from the resolved metastases", observations,
                    r)) is not None:
                r.present_again, said = again
                r.notes.append(said)
            elif again is None:
                r.put("free_of_disease", {"since": since.isoformat()}, ", ".join(paths))
                r.notes.append("free_of_disease.since taken from the latest abatement date "
                               "of the resolved metastases; how (surgery or systemic "
                               "therapy) is unknown")
                r.present_again = None  # a statement before that day spoke of them
            else:
                r.present_again, said = again
                r.notes.append(said)
        else:
            r.history_without_end = undated
    # Present disease only; resolved metastases count when nothing is present any more
    # and the patient is free of disease since they resolved (present again, where it is
    # now is not known: none is listed).
    metastases = present or ([] if r.present_again else [met for met, _day in history])
    if metastases:
        r.put("stage.metastases", metastases, ", ".join(paths))
    _stated_before_the_present_metastases(present, observations, r)
    r.present_metastases = len(present)


#: What a resource of each part not read in full could say that makes the disease present.
_UNREAD_WOULD_SAY: Final = {
    "Conditions": "an active metastasis among those not read would be present disease",
    "Observations": ("a disease status saying the disease is present (progression, distant "
                     "metastasis present) or a distant metastasis (M1) among those not read "
                     "would make it present again"),
}


def _not_derived_unread(since: dt.date, why: str, part: str = "Conditions") -> str:
    """The note saying that the patient is not taken as free of disease from the resolved
    metastases read, the ``part`` (the Conditions, or the Observations) not all read
    (``why``), what is done meanwhile and what to record."""
    return ("free_of_disease not derived from the resolved metastases (their latest "
            f"abatement date, {since.isoformat()}): the {part} were not all read "
            f"({why}), and {_UNREAD_WOULD_SAY[part]}, so whether the patient is free of "
            "disease is unknown. The disease is "
            "taken as possibly present (the safer reading: the advice is for present "
            "disease), the resolved metastases as history, not listed as present disease, "
            f"and where the disease is now is asked; send the {part} in full, or, if the "
            "patient is free of disease, record since when (an Observation coded "
            f"{c.PECOMA_SYSTEM}|{c.OBS_FREE_OF_DISEASE[0]} valued the day it became so)")


def _abated_on(cond: Mapping[str, Any], where: str, site: str, r: Reader
               ) -> tuple[dt.date | None, tuple[str | None, str]]:
    """The day a metastasis resolved: its ``abatementDateTime``, or an abatement given as
    an age in days (:func:`pecoma.fhir.ages.age_days`); an age of some years holds no
    single day, said (the day stays unknown: never the first or last it may be). With no
    day, the element and value given (``None``: no abatement) and why it holds none."""
    day = day_of(cond.get("abatementDateTime"))
    if day is not None:
        return day, (None, "")
    age = age_days(cond, "abatement", where, r.birth, r)
    if age is not None and age.day is not None:
        r.notes.append(f"{where}: the {site} metastasis resolved on {age.day.isoformat()}, "
                       f"its abatement given as {age}")
        return age.day, (None, "")
    if age is not None:
        r.notes.append(f"{where}: the day the {site} metastasis resolved is not known: its "
                       f"abatement is given as {age}, which holds no single day")
        at = "abatementAge" if "abatementAge" in cond else "abatementRange"
        return None, (f"{where}.{at}", f"{where}.{at} is {age}, which holds no single day")
    return None, _abatement_without_day(cond, where)


#: How an ``abatement[x]`` other than a dateTime with its day or an age gives no day.
_ABATEMENT_FORMS: Final = {"abatementString": "text", "abatementPeriod": "a period"}


def _abatement_without_day(cond: Mapping[str, Any], where: str) -> tuple[str | None, str]:
    """The abatement of a resolved metastasis that gives no day (a dateTime of a year or
    a month, text, ...): the element and its value, and why it holds no single day; or
    that none is given."""
    for at in ("abatementDateTime", *_ABATEMENT_FORMS):
        if at not in cond:
            continue
        given = f"{where}.{at} {show_value(cond[at])}"
        value = cond[at]
        if at != "abatementDateTime":
            form = _ABATEMENT_FORMS[at]
        elif isinstance(value, str) and re.fullmatch(r"\d{4}", value):
            form = "a year"
        elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", value):
            form = "a month"
        else:
            form = "not a date pecoma reads (YYYY-MM-DD, with its day)"
        return given, f"{given} is {form}, which holds no single day"
    return None, f"{where} gives no abatement (no abatementDateTime)"


def _free_contradicted(r: Reader, observations: list[tuple[str, dict[str, Any]]]) -> None:
    """A free-of-disease Observation is not read when a statement of the disease's
    presence is dated after its day, or cannot be placed against it
    (:func:`pecoma.fhir.present_again.explicit_free_contradicted`)."""
    _free_not_read(r, lambda since, where: explicit_free_contradicted(
        since, where, observations, r))


def _free_beside_active(r: Reader, active: list[tuple[str, Mapping[str, Any], str]]) -> None:
    """A free-of-disease Observation is not read beside a metastasis of the PEComa read as
    active (present now, whenever it was found:
    :func:`pecoma.fhir.present_again.active_metastases_contradict`)."""
    _free_not_read(r, lambda since, where: active_metastases_contradict(
        since, where, active, r))


def _free_not_read(r: Reader,
                   contradiction: Callable[[dt.date, str], tuple[str, str] | None]) -> None:
    """Set aside the free-of-disease Observation read, if any, when ``contradiction``
    (given its day and where it is) finds what says the disease is present: the disease
    is then taken as present, the safer reading, and the note says why."""
    where = r.sources.get("free_of_disease")
    if where is None:
        return
    since = dt.date.fromisoformat(r.data["free_of_disease"]["since"])
    again = contradiction(since, where)
    if again is not None:
        del r.data["free_of_disease"], r.sources["free_of_disease"]
        r.present_again, said = again
        r.notes.append(said)


def _metastasis_site(cond: Mapping[str, Any], where: str, r: Reader) -> str:
    """The site of a metastasis: its bodySite, else its code, else 'other' (noted, saying
    whether the site is unknown or named as one the guideline does not distinguish)."""
    site = site_of(cond.get("bodySite"), MetastasisSite)
    if site in (None, MetastasisSite.other.value):
        by_code = m.metastasis_site(cond)
        if by_code is not None:
            return str(by_code.value)
    other = MetastasisSite.other.value
    if site not in (None, other):
        return str(site)
    if site == other:
        r.notes.append(f"{where}.bodySite names a site the guideline does not distinguish, "
                       "or one pecoma cannot read: its site is taken as 'other' (a lung "
                       "metastasis would change the advice, S16)")
        return other
    said = m.secondary_site_said(cond.get("code"))
    if said == "unknown":
        shown = ", ".join(f"{code} ({system})" for system, code in codings(cond.get("code"))
                          if code)
        r.notes.append(f"{where} is coded {show_value(shown, 80)}, a code pecoma does not know "
                       "and which may name any site: the metastasis's site is unknown, taken "
                       "as 'other'; a lung metastasis would change the advice (S16): record "
                       "its site (bodySite)")
    elif said == "other":
        r.notes.append(f"{where} names a site the guideline does not distinguish: read as "
                       "'other'")
    else:
        r.notes.append(f"{where} names no site: its site is taken as 'other'")
    return other


def _nodes_found(cond: Mapping[str, Any], where: str,
                 r: Reader) -> tuple[dt.date | None, str | None, str | None]:
    """When lymph-node involvement was found (``None``: not known), what it was found
    after when that was after the primary's treatment, and why that cannot be told.

    Found after the resection recorded as done, or after the end of the primary's
    treatment, it is a relapse (I7), not positive nodes at presentation (S11). A day no
    later than the PEComa's own diagnosis (nodes found in the resection specimen,
    reported with it) is at presentation, as is any day when no resection is recorded as
    done and no end of treatment is given. With a resection, a Condition with no day, or
    only the day it was entered (after the resection: the nodes may have been found
    before it), or a resection with no day, cannot be placed before or after it."""
    fact = "the lymph-node involvement's detection date"
    day = _onset(cond, where, fact, r)
    entered = r.entered_dates.pop(fact, None) is not None
    surgery = r.data.get("surgery", {})
    done = surgery.get("status") == SurgeryStatus.performed.value
    ends = [(f"the resection, {surgery.get('date')}", surgery.get("date") if done else None),
            (f"primary_treatment_end, {r.data.get('primary_treatment_end')}",
             r.data.get("primary_treatment_end"))]
    if not done and not any(isinstance(end, str) for _what, end in ends):
        return day, None, None
    if day is None:
        return None, None, "it has no onset date"
    diagnosed = r.data.get("diagnosis", {}).get("date")
    if (isinstance(diagnosed, str) and "diagnosis.date" not in r.entered_dates
            and day.isoformat() <= diagnosed):
        return day, None, None
    after = next((what for what, end in ends
                  if isinstance(end, str) and day.isoformat() > end), None)
    if after is not None and entered:
        return day, None, (f"its only date, {day}, is the day it was entered, after "
                           f"{after}")
    if after is None and done and not isinstance(surgery.get("date"), str):
        return day, None, "the resection recorded as done has no date"
    return day, after, None


def _nodes_at_presentation(cond: Mapping[str, Any], where: str, doubt: str | None,
                           r: Reader) -> None:
    """Lymph-node involvement not shown to be a relapse: positive regional nodes (an
    Observation of the nodal status, read before, stands). When it cannot be placed
    before or after the resection (``doubt``: why), it may be a relapse: the disease is
    then never derived as localized (:func:`derive_status`), said in a note."""
    if clinical_status(cond) in _HISTORY:
        r.why[where] = "resolved lymph-node involvement"
        return
    if "stage.lymph_nodes" not in r.sources:
        r.put("stage.lymph_nodes", "positive", where)
    r.notes.append(f"{where}: lymph-node involvement (regional or distant not "
                   "stated) read as positive regional lymph nodes")
    r.used.add(where)
    if doubt is not None:
        r.nodes_undated = r.nodes_undated or f"{where} ({doubt})"
        r.notes.append(f"{where}: whether the lymph-node involvement was there at "
                       f"presentation or is a relapse after the primary's treatment cannot "
                       f"be told ({doubt}); the disease is not taken as localized")


def settle_entered_dates(r: Reader) -> None:
    """A diagnosis day taken from the day the Condition was entered (no onset date) that
    falls after the resection read, or after a line of treatment begins: the diagnosis was
    made before them, so that day is no diagnosis date; it is dropped (unknown), with a
    note, and the record is read (it had been refused)."""
    entered = r.entered_dates.get("diagnosis.date")
    if entered is None:
        return
    # the facts that cannot come before the diagnosis: the resection, a line of treatment
    dated = [("the resection", r.data.get("surgery", {}).get("date"))]
    dated += [("a line of systemic therapy", t.get("started_on"))
              for t in r.data.get("systemic", {}).get("therapies", [])
              if isinstance(t, dict)]
    before = [(what, day) for what, day in dated
              if isinstance(day, str) and day < entered.isoformat()]
    if not before:
        return
    what, day = min(before, key=lambda wd: wd[1])
    del r.data["diagnosis"]["date"]
    r.sources.pop("diagnosis.date", None)
    r.notes.append(f"diagnosis.date not read: the day its Condition was entered "
                   f"({entered.isoformat()}) is after {what} ({day}), so it is "
                   "not when the diagnosis was made; the date stays unknown")


#: How long after a resection of the primary a diagnosis may be dated and still be the
#: resection specimen's (the pathology report, a reference pathologist's review).
SPECIMEN_REPORT_DAYS: Final = 90


def on_the_specimen(diagnosed: dt.date, operated: dt.date) -> bool:
    """Whether a diagnosis dated ``diagnosed`` is that of the specimen of a resection done
    on ``operated``: of its day, or up to :data:`SPECIMEN_REPORT_DAYS` after it (the day
    of the pathology report)."""
    return 0 <= (diagnosed - operated).days <= SPECIMEN_REPORT_DAYS


def settle_specimen_diagnosis(r: Reader) -> None:
    """A diagnosis dated by its onset or asserted date after the resection of the primary
    recorded as done, within :data:`SPECIMEN_REPORT_DAYS`: the PEComa was diagnosed on
    the resection specimen (a uterine PEComa found in the hysterectomy of a presumed
    leiomyoma), the day given being the pathology report's. The diagnosis date is taken
    as the day of the resection, with a note keeping the day given; the record is read
    (it had been refused as surgery before diagnosis). A diagnosis dated longer after
    the resection is left to the case's rule, which refuses it."""
    diagnosed = r.data.get("diagnosis", {}).get("date")
    surgery = r.data.get("surgery", {})
    operated = surgery.get("date")
    if ("diagnosis.date" in r.entered_dates  # the day entered: settle_entered_dates
            or not isinstance(diagnosed, str) or not isinstance(operated, str)
            or surgery.get("status") != SurgeryStatus.performed.value):
        return
    after = (dt.date.fromisoformat(diagnosed) - dt.date.fromisoformat(operated)).days
    if after == 0 or not on_the_specimen(dt.date.fromisoformat(diagnosed),
                                         dt.date.fromisoformat(operated)):
        return
    given = r.sources.get("diagnosis.date", "the record")
    resection = r.sources.get("surgery.date", "the resection")
    r.put("diagnosis.date", operated, f"{given} (diagnosed on the specimen of {resection})")
    r.notes.append(f"diagnosis.date taken as {operated}, the day of the resection "
                   f"({resection}): {given} dates the diagnosis {diagnosed}, {after} day(s) "
                   "after it, so the PEComa was diagnosed on the resection specimen (the day "
                   "given is the pathology report's)")


def _recurred(r: Reader) -> None:
    """A status read as localized while the record says the PEComa has recurred: the
    recurrence is taken (the status recorded may be the one at diagnosis), and said."""
    said = r.primary_recurred
    status = r.data.get("stage", {}).get("status")
    if said is None or status != DiseaseStatus.localized.value:
        return
    was = r.sources.get("stage.status", "the record")
    r.put("stage.status", DiseaseStatus.recurrent.value, said)
    r.notes.append(f"stage.status taken as 'recurrent', not 'localized' ({was}): {said} "
                   "says the PEComa has recurred (the safer reading; a status recorded at "
                   "diagnosis does not say it has not)")


def _suspected(cond: Mapping[str, Any], where: str, r: Reader) -> bool:
    """A metastasis only suspected (verificationStatus provisional, differential or
    unconfirmed) is no present disease: not read, listed and said, as a PEComa diagnosis
    not confirmed is not taken as confirmed."""
    status = verification(cond)
    if status not in _NOT_CONFIRMED:
        return False
    site = _suspected_site(cond)
    r.why[where] = f"a suspected metastasis ({site}): verificationStatus '{status}'"
    if _nodal(cond):
        r.notes.append(f"{where}: a suspected metastasis ({site}, verificationStatus "
                       f"'{status}') is not read as present disease until it is confirmed")
        return True
    # whether the disease has spread is unknown: asked (the case's suspected metastases)
    suspected = r.data.get("stage", {}).get("suspected_metastases", [])
    shown = site if site != "site not named" else MetastasisSite.other.value
    named = [w for w in (r.sources.get("stage.suspected_metastases"), where) if w]
    r.put("stage.suspected_metastases", [*suspected, {"site": shown}], ", ".join(named))
    r.notes.append(f"{where}: a suspected metastasis ({site}, verificationStatus "
                   f"'{status}') is not read as present disease until it is confirmed; it "
                   "is recorded in stage.suspected_metastases, and beside a disease not "
                   "read as metastatic whether it is confirmed is asked, the advice "
                   "provisional on the answer (outside the lungs beside lung "
                   "metastases, S16's lung metastasectomy waits on the answer)")
    return True


def _suspected_site(cond: Mapping[str, Any]) -> str:
    """The site a metastasis Condition names, for saying which one is suspected."""
    if _nodal(cond):
        return "lymph nodes"
    site = site_of(cond.get("bodySite"), MetastasisSite)
    if site in (None, MetastasisSite.other.value):
        by_code = m.metastasis_site(cond)
        if by_code is not None:
            return str(by_code.value)
    return site or "site not named"


def _nodal(cond: Mapping[str, Any]) -> bool:
    """Lymph-node involvement, regional or distant not stated (read as positive regional
    nodes): coded or named so (ICD-10 C77, "lymph node" in its code's words), or, the
    mCODE way, a secondary cancer whose bodySite is a lymph node and whose code names no
    other site; never when its bodySite names a site of distant metastasis (a distant
    lymph node, the lung), nor when its code says distant."""
    if _site_named(cond):
        return False
    concept = cond.get("code")
    if m.is_lymph_node_code(concept):
        return True
    return (m.is_lymph_node_site(cond.get("bodySite")) and m.metastasis_site(cond) is None
            and "distant" not in m.lower_words(concept))


def _site_named(cond: Mapping[str, Any]) -> bool:
    site = site_of(cond.get("bodySite"), MetastasisSite)
    return site not in (None, MetastasisSite.other.value)


#: clinicalStatus codes saying the cancer came back (HL7 condition-clinical).
_RECURRED: Final = ("recurrence", "relapse")
_RECURRENCE_WORDS: Final = re.compile(r"\b(?:recurren\w*|relaps\w*)")
#: Words saying a PEComa Condition records its spread, not a second primary.
_SPREAD_WORDS: Final = re.compile(r"\b(?:metasta\w*|spread|deposits?|secondar\w*)")


def _spread_answered(r: Reader) -> None:
    """Another cancer's spread answered by the PEComa's own staging: when every result of
    ``r.spread_unattributed`` (distant spread naming no Condition beside another primary
    cancer) is dated, and a TNM distant metastases category of M0 whose focus is the
    PEComa Condition is dated on or after the latest of them, that spread is not the
    PEComa's (its M category, once M1, is not restaged M0): the results are left as not
    the PEComa's, noted, and the status is derived from the rest of the record as in a
    record without the other cancer. An M0 dated before them, or undated, says nothing of
    them (the PEComa may have spread since)."""
    days = r.spread_unattributed_days
    if r.spread_unattributed is None or not days or any(d is None for d, _w in days):
        return
    latest = max(d for d, _w in days if d is not None)
    answer = next((where for day, where in reversed(r.pecoma_m0)
                   if day is not None and day >= latest), None)
    if answer is None:
        return
    r.notes.append(f"{', '.join(w for _d, w in days)}: distant spread naming no Condition, "
                   f"beside another primary cancer ({r.other_cancers[0]}), not taken as the "
                   f"PEComa's: the PEComa's own distant metastases category ({answer}, "
                   f"dated on or after {latest.isoformat()}) is M0")
    r.spread_unattributed = None


def _what_to_record(r: Reader) -> str:
    """What the record may give to settle whether the PEComa has distant metastases beside
    another cancer's spread naming no Condition, with the codes (HAZ-205)."""
    days = [d for d, _w in r.spread_unattributed_days if d is not None]
    since = (f"dated on or after {max(days).isoformat()}"
             if days and len(days) == len(r.spread_unattributed_days) else
             "dated on or after that result (give it its date)")
    pecoma = r.labels.get(id(r.primary)) if r.primary is not None else None
    values = ", ".join(v.value.replace("_", "-") for v in DiseaseStatus)
    return (f"record one of: that result's focus (the Condition it is about, "
            f"{r.other_cancers[0]} if it is that cancer's); the PEComa's disease status, an "
            f"Observation coded {c.PECOMA_SYSTEM}|{c.OBS_DISEASE_STATUS[0]} valued by a code "
            f"of the same system ({values}); the PEComa's metastases (mCODE "
            "SecondaryCancerCondition naming its primary); or the PEComa's own distant "
            "metastases category (mCODE TNMDistantMetastasesCategory, LOINC 21907-1) whose "
            f"focus is the PEComa Condition ({pecoma or 'the PEComa Condition'}), {since}: "
            "cM0 (SNOMED CT 1229901006) says it has none (the status then follows from "
            "the rest of the record, as without the other cancer), cM1 (1229903009) that "
            "it has. An "
            "mCODE CancerDiseaseStatus (LOINC 97509-4) naming the PEComa decides this only "
            "as 'distant metastasis present' (SNOMED CT 399409002): 'improved', 'stable', "
            "'not detected' or a remission says how the disease goes, not whether it "
            "spread; the disease status is never assumed")


def _spread_set_aside(r: Reader, where: str) -> str | None:
    """Why a statement that the disease is metastatic (``where``: a disease-status
    Observation, or a result stating distant metastasis present) is not taken as fact:
    every metastasis Condition the record held was set aside, its latest histology naming
    another tumour (``Reader.other_spread``), none other is read, and the statement is not
    known to be later than each result that set one aside (undated, or of their time or
    before): it may have been recorded for the nodule now shown to be another cancer.
    ``None``: the statement stands (later than those results, another metastasis read,
    or none set aside)."""
    if not r.other_spread or r.metastasis_conditions or r.data.get("stage", {}).get(
            "metastases"):
        return None
    said = next((r.orders.get(i) for i, w in r.labels.items() if w == where), None)
    day = said[0] if said and said[0] else "undated"
    earlier = [(cond, by) for cond, by, at in r.other_spread.values()
               if said is None or not (said > at and known_later(at, said))]
    if not earlier:
        return None
    cond, by = earlier[0]
    return (f"cannot be taken from {where} ({day}) alone: it states the disease metastatic, "
            "but every metastasis Condition the record holds was set aside as not the "
            f"PEComa's ({cond}: its latest histology, {by}, names another tumour), and "
            f"{where} is not known to be later than {by}, so it may have been recorded for "
            "that lesion, now shown to be another cancer; record the disease status again "
            f"dated after {by}, or the PEComa's metastases (mCODE SecondaryCancerCondition, "
            "with onset and clinicalStatus); the disease status is never assumed")


def _found_but_not_settling(r: Reader) -> str:
    """What the record says of the disease's course that was read, when none of it gives
    the disease status (an M0, a stage group below IV, "not detected", a remission): said,
    so that a refusal never reads as if the record held nothing."""
    said = [text for _day, text in sorted(r.evidence)] + [
        f"{where}: {why}" for where, why in r.why.items() if why.endswith("not a disease status")]
    if not said:
        return ""
    found = "; ".join(said[:_EVIDENCE_SHOWN])
    more = f" and {len(said) - _EVIDENCE_SHOWN} more" if len(said) > _EVIDENCE_SHOWN else ""
    return (f". Found: {found}{more}; none of these tells the status: an M0 or a "
            "stage group below IV says how the tumour was staged, and 'not detected' or a "
            "remission how the disease goes, not whether the PEComa never spread (localized) "
            "or spread and was cleared (free of disease after metastases)")


#: How many results of the disease's course a refusal names.
_EVIDENCE_SHOWN: Final = 4


#: The project's disease statuses that say the disease has not spread distantly.
NO_DISTANT_SPREAD: Final = frozenset({DiseaseStatus.localized.value,
                                      DiseaseStatus.locally_advanced_unresectable.value})


def _status_outweighed(r: Reader, stated: str) -> bool:
    """Whether the project's disease status read (``stated``), one saying the disease
    has not spread distantly (``NO_DISTANT_SPREAD``), is outweighed by
    a statement of distant spread, weighed by the rule for every result (the later wins;
    two of one time that differ are never settled for the less serious one):

    - a statement that distant metastases are present (an M1, "distant metastasis
      present": ``Reader.spread_all``, weighed with the status by
      ``read_observations._spread_in_time``) of the status's time, or later but followed
      by a statement leaving it undecided (a trend, a remission: a history of
      metastatic cancer): the status is not taken, and the record is refused naming
      both (which stands is the question);
    - one later than the status, and still the latest: the later result wins, the
      disease is 'metastatic', noted;
    - one earlier than the status, a day or years before it: distant metastases once
      stated are not undone by a later status saying the disease has not spread
      distantly. Metastases removed or cleared leave a metastatic disease free of
      disease again (I8), never a localized one, so the later status is that or wrong,
      and which cannot be told: refused naming both, saying what to record (as for a
      later statement of spread followed by a remission, the less serious reading is
      never taken, nor the more serious one guessed for a patient the latest record
      says has no distant disease);
    - a stage group IV (an Observation, or the PEComa Condition's own stage summary,
      which is undated) not known to be earlier than the status: distant metastases or
      involved nodes beside a status saying neither, refused naming both (one earlier
      leaves the later status: stage IV may be involved nodes alone).

    Returns whether the status was replaced or refused."""
    value = r.data["stage"]["status"]
    mine = r.status_orders.get(stated)
    same: list[tuple[str, str]] = []
    later: list[tuple[str, str]] = []
    earlier: list[tuple[str, str]] = []
    for order, where, said, present in r.spread_all:
        if not present:
            continue  # not distant spread
        if mine is not None and known_later(order, mine):
            earlier.append((where, said))
            continue
        (later if mine is not None and known_later(mine, order) else same).append(
            (where, said))
    if same or (later and r.distant_metastasis_stated is None):
        other, said = (same or later)[-1]
        why = ("neither is the later result" if same else
               f"{other} is later, but a statement after it leaves whether they are "
               "present now undecided (a history of metastatic cancer)")
        del r.data["stage"]["status"], r.sources["stage.status"]
        r.issue("stage.status", value,
                f"cannot be read from {stated} (disease status '{value}') beside {other} "
                f"({said}): they differ on whether distant metastases are present, and "
                f"{why}, so the less serious is never taken; record the disease status "
                "again (with the metastases present now, mCODE SecondaryCancerCondition, "
                "if there are any), or correct the record that is wrong; the disease status "
                "is never assumed")
        return True
    if later:
        other = r.distant_metastasis_stated or later[-1][0]
        said = dict(later).get(other, "distant metastasis present")
        r.put("stage.status", DiseaseStatus.metastatic.value, other)
        r.notes.append(f"stage.status taken as 'metastatic': {other} ({said}) is later than "
                       f"the disease status '{value}' of {stated} and states distant "
                       "metastasis present (the later result wins); record the metastases "
                       "present now (mCODE SecondaryCancerCondition, with onset and "
                       "clinicalStatus), or the disease status again if that statement is "
                       "wrong")
        return True
    if earlier:
        other, said = earlier[-1]
        del r.data["stage"]["status"], r.sources["stage.status"]
        r.issue("stage.status", value,
                f"cannot be read from {stated} (disease status '{value}') beside {other} "
                f"({said}), which is earlier: distant metastases once stated are not "
                "undone by a later status saying the disease has not spread distantly, "
                "and the less serious is never taken. If the metastases were removed or "
                "cleared, record the disease status 'metastatic' with a "
                "pecoma#free-of-disease Observation (the day) and the metastases "
                "(mCODE SecondaryCancerCondition) resolved; if they are present, the "
                "status 'metastatic' and the metastases; if the statement of distant "
                "metastases is wrong, correct it; the disease status is never assumed")
        return True
    for group_order, where in r.stage_iv_all:
        if group_order is not None and mine is not None and known_later(group_order, mine):
            continue  # an earlier stage IV: the later status wins
        when = "undated" if group_order is None else "not known to be earlier than it"
        del r.data["stage"]["status"], r.sources["stage.status"]
        r.issue("stage.status", value,
                f"cannot be read from {stated} (disease status '{value}') beside {where}, "
                f"which records stage IV (distant metastases, or involved lymph nodes) and "
                f"is {when}: the two disagree, which stands cannot be told and the less "
                "serious is never taken; record the disease status again, and the "
                "metastases (mCODE SecondaryCancerCondition) or the lymph-node status if "
                "there are any, or correct the stage; the disease status is never assumed")
        return True
    return False


def derive_status(r: Reader) -> None:
    stated = r.sources.get("stage.status")
    if stated is not None and r.data["stage"]["status"] in NO_DISTANT_SPREAD \
            and _status_outweighed(r, stated):
        return
    if stated is not None and r.data["stage"]["status"] == DiseaseStatus.metastatic.value:
        doubt = _spread_set_aside(r, stated)
        if doubt is not None:
            del r.data["stage"]["status"], r.sources["stage.status"]
            r.issue("stage.status", DiseaseStatus.metastatic.value, doubt)
            return
    if "stage.status" in r.sources:
        _recurred(r)
        return
    _spread_answered(r)
    stated = r.distant_metastasis_stated
    doubt = None if stated is None else _spread_set_aside(r, stated)
    if r.present_metastases and r.primary_recurred is not None:
        # the PEComa recurred, and metastases are present: the status a team records as
        # 'recurrent', which may mean a local recurrence beside them (disease outside the
        # lungs, S16). Read so, the advice follows the metastases (metastatic, I6) and
        # whether a local recurrence is present too is asked where it decides (HAZ-400)
        r.put("stage.status", DiseaseStatus.recurrent.value, r.primary_recurred)
        r.notes.append(f"stage.status taken as 'recurrent': {r.primary_recurred}, beside "
                       "the metastasis Conditions (metastatic disease, I6; a local "
                       "recurrence may be present too)")
    elif r.present_metastases:
        r.put("stage.status", DiseaseStatus.metastatic.value, "derived: metastasis Condition")
        r.notes.append("stage.status taken as 'metastatic' from the metastasis Conditions")
    elif stated is not None and doubt is not None:
        r.issue("stage.status", "(not found)", doubt)
    elif r.distant_metastasis_stated is not None:
        r.put("stage.status", DiseaseStatus.metastatic.value, r.distant_metastasis_stated)
        r.notes.append(f"stage.status taken as 'metastatic': {r.distant_metastasis_stated} "
                       "states distant metastasis present")
    elif "free_of_disease" in r.sources:
        r.put("stage.status", DiseaseStatus.metastatic.value, "derived: resolved metastases")
        r.notes.append("stage.status taken as 'metastatic' (resolved metastases); the patient "
                       "is free of disease since free_of_disease.since")
    elif r.present_again is not None and not r.metastasis_conditions:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: the free-of-disease record is not read ({r.present_again} "
                "says the disease is present again after it, or may), and neither a "
                "metastasis Condition nor a disease status says what the disease is; record "
                "the disease status (and the metastases present now, mCODE "
                "SecondaryCancerCondition); the disease status is never assumed")
    elif r.present_again is not None:
        r.put("stage.status", DiseaseStatus.metastatic.value,
              f"derived: resolved metastases, and {r.present_again}")
        r.notes.append("stage.status taken as 'metastatic' (metastases, all resolved, and "
                       f"{r.present_again} saying the disease is present again or may be): "
                       "where the disease is now is not recorded, so it is asked")
    elif r.history_without_end:
        given = [at for at, _why in r.history_without_end if at is not None]
        said = "; ".join(why for _at, why in r.history_without_end[:_EVIDENCE_SHOWN])
        more = len(r.history_without_end) - _EVIDENCE_SHOWN
        r.issue("stage.status", "; ".join(given[:_EVIDENCE_SHOWN]) or "(not found)",
                "cannot be derived: the metastasis Conditions are resolved but the day "
                f"the patient became free of disease is not known ({said}"
                f"{f' and {more} more' if more > 0 else ''}); record it (each "
                "metastasis's abatementDateTime with its day), or the disease status")
    elif (r.no_metastatic_history is not None and r.metastatic_history is None
          and r.history_unread is None
          and r.stage_iv is None and r.staging_unread is None and r.nodes_undated is None
          and r.spread_unattributed is None
          and not r.data.get("stage", {}).get("metastases")
          and r.observations_unread is not None):
        # localized only from what the record does not hold: a distant metastasis or a
        # stage IV among the Observations not read would say otherwise
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.no_metastatic_history} states no history of "
                "metastatic cancer, but the Observations were not all read "
                f"({r.observations_unread}), and a distant metastasis or stage IV among "
                "those not read would say otherwise; record the disease status; the "
                "disease status is never assumed")
    elif (r.no_metastatic_history is not None and r.metastatic_history is None
          and r.history_unread is None
          and r.stage_iv is None and r.staging_unread is None and r.nodes_undated is None
          and r.spread_unattributed is None
          and not r.data.get("stage", {}).get("metastases")):
        # a history stated anywhere in the record outweighs one denied (the safer reading);
        # so does lymph-node involvement that may be a relapse
        r.put("stage.status", DiseaseStatus.localized.value, r.no_metastatic_history)
        r.notes.append(f"stage.status taken as 'localized': {r.no_metastatic_history} states "
                       "no history of metastatic cancer; resectability is not assumed")
        _recurred(r)
    elif r.spread_unattributed is not None:
        # another cancer's spread, or the PEComa's: no status is derived from it or beside
        # it (a recurrence read as 'recurrent' may be metastatic disease)
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.spread_unattributed} states distant spread but names "
                "no Condition (no focus), and the record holds another primary cancer "
                f"({r.other_cancers[0]}) besides the PEComa, so it cannot be taken as the "
                "PEComa's, nor as none: whether the PEComa has distant metastases is "
                f"unknown; {_what_to_record(r)}")
    elif r.primary_recurred is not None:
        r.put("stage.status", DiseaseStatus.recurrent.value, r.primary_recurred)
        r.notes.append(f"stage.status taken as 'recurrent': {r.primary_recurred}")
    elif r.spread_disputed is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.spread_disputed}, so whether distant metastases "
                "are present now is unknown; record the disease status, or the metastases "
                "present now (mCODE SecondaryCancerCondition, with onset and "
                "clinicalStatus); the disease status is never assumed")
    elif r.metastatic_history is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.metastatic_history} states a history of metastatic "
                "cancer but names no site, date or whether it is present now; record the "
                "metastases (mCODE SecondaryCancerCondition, with onset and clinicalStatus) "
                "or the disease status; the disease status is never assumed")
    elif r.history_unread is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.history_unread} records a history of metastatic "
                f"cancer whose code and words disagree ({r.why.get(r.history_unread, '')}), "
                "so the disease cannot be taken as localized; correct that record, or record "
                "the metastases (mCODE SecondaryCancerCondition) or the disease status; the "
                "disease status is never assumed")
    elif r.stage_iv is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.stage_iv} records stage IV (distant metastases, or "
                "involved lymph nodes) but no metastasis or disease status; record the "
                "metastases (mCODE SecondaryCancerCondition, with onset and clinicalStatus), "
                "the lymph-node status, or the disease status; the disease status is never "
                "assumed")
    elif r.staging_unread is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.staging_unread} records a TNM distant metastases "
                "category or a stage group pecoma cannot read (a code it does not know), so "
                "whether there are distant metastases is unknown and the disease cannot be "
                "taken as localized; record the metastases (mCODE SecondaryCancerCondition), "
                "the stage in a code pecoma reads (docs/fhir.md), or the disease status; the "
                "disease status is never assumed")
    elif r.nodes_undated is not None:
        r.issue("stage.status", "(not found)",
                f"cannot be derived: {r.nodes_undated} records lymph-node involvement that "
                "may have been found at presentation or be a relapse after the primary's "
                "treatment, so the disease cannot be taken as localized; record when it was "
                "found (its onset), or the disease status; the disease status is never "
                "assumed")
    elif r.other_spread:
        # a metastasis was found, and set aside: said, never "none found"
        cond, by, _at = next(iter(r.other_spread.values()))
        r.issue("stage.status", "(not found)",
                "cannot be derived: every metastasis Condition the record holds was set "
                f"aside as not the PEComa's ({cond}: its latest histology, {by}, names "
                "another tumour), and nothing else states the disease status; record it "
                f"(an Observation coded {c.PECOMA_SYSTEM}|{c.OBS_DISEASE_STATUS[0]}), or the "
                "PEComa's metastases (mCODE SecondaryCancerCondition, with onset and "
                "clinicalStatus); the disease status is never assumed")
    else:
        r.issue("stage.status", "(not found)",
                f"must be given by an Observation coded {c.PECOMA_SYSTEM}|"
                f"{c.OBS_DISEASE_STATUS[0]}, a metastasis Condition (mCODE "
                "SecondaryCancerCondition), an mCODE CancerDiseaseStatus 'distant metastasis "
                "present', or an mCODE HistoryOfMetastaticCancer stating none; the disease "
                f"status is never assumed{_found_but_not_settling(r)}"
                + (f". Found but not read: {r.unreadable['stage.status']}"
                   if "stage.status" in r.unreadable else ""))
