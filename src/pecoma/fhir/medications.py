"""Which systemic agent a medication resource names, and whether it was given.

One reading for every place a medication arrives: MedicationRequest,
MedicationAdministration and MedicationStatement in a record, and a draft order in a CDS
Hooks ``order-select`` context. The medication is taken from
``medicationCodeableConcept`` or from ``medicationReference`` resolved against a
contained resource (``#id``) or the resources the caller holds (bundle entries, draft
orders); a Medication resource is read by its ``code`` and its ingredients.

An agent is recognised by the project's own code, by an RxNorm code listed in
:data:`RXNORM_NAMES`, or by a name in the text or a coding's display
(:data:`pecoma.fhir.codes.AGENT_NAMES`): an EHR order for "10 ML doxorubicin
hydrochloride 2 MG/ML Injection" carries its ingredient in the display even when its
RxNorm code is a clinical-drug code not listed here.

A medication that cannot be identified at all (a reference that does not resolve, a local
reference ``#id`` that two different contained resources answer, no code and no text) is
reported by :func:`unreadable_medication` with the reason, so that a
caller never takes "not recognised" for "not an mTOR inhibitor" silently. So is one named
by a name pecoma cannot identify that something marks as possibly anticancer (a word
written as an investigational product's code, or ending as anticancer drugs' names do;
an mCODE cancer-related profile; a reason naming a cancer): no list of names is
complete, and a line given and not read would offer its drug again as a first line.

A medication applied where it acts (a topical sirolimus gel, an intravitreal injection,
an everolimus-eluting stent) is no systemic treatment: :func:`not_systemic` says so, once
for the FHIR reader and CDS Hooks ``order-select``, from what the record states as the
product's own (its name describing the product, coded or written, its form, its brand)
or its route only, never from a word in passing in a phrase (:func:`where_it_acts`).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pecoma.case import Agent
from pecoma.dates import range_rule
from pecoma.errors import show_value
from pecoma.fhir import codes as c
from pecoma.fhir.mcode import (
    CANCER_WORDS,
    PRIMARY_PROFILE,
    SECONDARY_PROFILE,
    concept_text,
    names_a_cancer,
    plain_words,
    profiles,
    statements,
)
from pecoma.fhir.references import (
    Resolver,
    no_resolver,
    parse_reference,
    resolver_for,
    server_key,
    unversioned,
)
from pecoma.text import name_form, odd_letters_shown, odd_words

__all__ = [
    "ALKYLATING_CLASS",
    "ANTICANCER_STEMS",
    "ANTINEOPLASTIC_CLASS",
    "ATC",
    "ATC_GROUPS",
    "ATC_NAMES",
    "DRUG_NAMES",
    "INGREDIENTS",
    "LOCAL_ROUTES",
    "MEDICATION_BY_ID",
    "MEDICATION_TYPES",
    "NOT_A_LINE",
    "NO_KNOWN_ALLERGY",
    "NO_KNOWN_ALLERGY_TEXTS",
    "OTHER_USES",
    "RXNORM",
    "RXNORM_INGREDIENT",
    "RXNORM_NAMES",
    "RXNORM_OTHER_NAMES",
    "DrugClass",
    "FirstDay",
    "Given",
    "Progression",
    "RepeatedLocalId",
    "Resolver",
    "StatusReason",
    "StopReason",
    "WhereItActs",
    "absent_dose_days",
    "agent_named",
    "agent_of",
    "agent_of_concept",
    "agents_named",
    "alkylating_named",
    "allergy_manifestations",
    "allergy_may_be_to_a_drug",
    "allergy_narratives",
    "allergy_substances",
    "atc_not_identified",
    "backwards_period",
    "backwards_periods",
    "blinded_arm",
    "classes_named",
    "classes_said",
    "code_records_no_allergy",
    "contained",
    "day_of",
    "days_of",
    "do_not_perform",
    "drug_classes",
    "drugs_named",
    "drugs_of",
    "first_day",
    "folded",
    "given",
    "ingredients_named",
    "may_have_been_given",
    "medication_concept",
    "mtor_class_named",
    "mtor_class_words",
    "mtor_group_coded",
    "names_a_known_drug",
    "names_something",
    "never_cleared_named",
    "no_resolver",
    "not_anticancer_named",
    "not_systemic",
    "not_taken_said",
    "other_uses",
    "reason_concepts",
    "reasons_not_read",
    "records_no_allergy",
    "regimen_names",
    "repeated_local_ids",
    "resolver_for",
    "server_key",
    "started_on",
    "status_reason",
    "stopped_after",
    "substances_said",
    "supply_run_out",
    "truncated_names",
    "unheld_medications",
    "unidentified_names",
    "unread_abbreviations",
    "unread_timing",
    "unread_words",
    "unreadable_medication",
    "unversioned",
    "where_it_acts",
]

RXNORM: Final = "http://www.nlm.nih.gov/research/umls/rxnorm"

#: The resource types that name a medication given, ordered or taken.
MEDICATION_TYPES: Final = ("MedicationRequest", "MedicationAdministration",
                           "MedicationStatement", "MedicationDispense")

#: RxNorm concepts (ingredients ``IN`` and brand names ``BN``) -> the ingredient name the
#: agent is then recognised by (:data:`pecoma.fhir.codes.AGENT_NAMES`). Only codes read in
#: a published source are listed; every other code falls back to the text and displays.
#: - 35302 sirolimus, 657797 temsirolimus, 258355 Rapamune (BN, sirolimus), 2586864
#:   Fyarro (BN, sirolimus protein-bound particles): the RxNorm value set
#:   ValueSet-med-gvhd-prophylaxis-vs of the NMDP CIBMTR reporting IG
#:   (github.com/nmdp-ig/cibmtr-reporting-ig, build/fsh-generated/resources/).
#: - 5657 ifosfamide, 217701 Ifex (BN, ifosfamide), 12574 gemcitabine, 40048
#:   carboplatin, 3002 cyclophosphamide: the same IG, input/fsh/terminology/medications/
#:   med-form2400-prep-regimen-valueset.fsh and med-cyclophosmamide-valueset.fsh.
#: - 3639 doxorubicin, 56946 paclitaxel (and 3002 cyclophosphamide): HL7 mCODE STU4 IG,
#:   input/fsh/EX_ExtendedExample.fsh (CancerRelatedMedicationRequest examples).
#: - 141704 everolimus (and 35302 sirolimus): the CCC19 REDCap-to-OMOP mapping of RxNorm
#:   concept codes (redcap2omop, drug_exposure choices "Everolimus", "Sirolimus").
#: - Clinical drugs of one mTOR inhibitor, each among the ``openfda.rxcui`` of a
#:   single-ingredient product of the openFDA NDC directory (api.fda.gov/drug/ndc.json):
#:   everolimus 845507, 845515, 998189, 1119400 (NDC 0054-0482, 72603-256, generic
#:   everolimus tablets); temsirolimus 722289 (NDC 68083-202, generic temsirolimus
#:   injection) and 725108 (NDC 0008-1179, Torisel); sirolimus 314230 (NDC 72603-409,
#:   oral solution), 349208 and 360110 (NDC 55111-654, tablets).
#: - 3995 epirubicin (ATC L01DB03 beside it), 714438 pazopanib, 2555 cisplatin, 194000
#:   capecitabine, 4179 etoposide, 4492 fluorouracil, 51499 irinotecan, 6851 methotrexate,
#:   32592 oxaliplatin, 357977 sunitinib (and 12574, 40048, 3002, 35302): the CPIC drug
#:   table (github.com/cpicpgx/cpic-data, db/drug.sql: each row an RxNorm ingredient, with
#:   its DrugBank and ATC codes).
#: - 72962 docetaxel: the HL7 Oncology Guideline and Coverage Authorization IG's example
#:   MedicationRequest DocetaxelMedRequestPHD (an mCODE CancerRelatedMedicationRequest,
#:   display "docetaxel"), as in a published OMOP-to-FHIR test record's MedicationStatement.
#: - 6718 melphalan, 134547 bendamustine: the NMDP CIBMTR reporting IG above,
#:   med-melphalan-valueset.fsh and med-form2400-prep-regimen-valueset.fsh.
RXNORM_NAMES: Final[Mapping[str, str]] = {
    "35302": "sirolimus",
    "258355": "sirolimus",
    "314230": "sirolimus",
    "349208": "sirolimus",
    "360110": "sirolimus",
    "2586864": "nab-sirolimus",
    "657797": "temsirolimus",
    "722289": "temsirolimus",
    "725108": "temsirolimus",
    "141704": "everolimus",
    "845507": "everolimus",
    "845515": "everolimus",
    "998189": "everolimus",
    "1119400": "everolimus",
    "3639": "doxorubicin",
    "3995": "epirubicin",
    "5657": "ifosfamide",
    "217701": "ifosfamide",
    "12574": "gemcitabine",
    "56946": "paclitaxel",
    "3002": "cyclophosphamide",
    "40048": "carboplatin",
    "72962": "docetaxel",
    "714438": "pazopanib",
    "2555": "cisplatin",
    "194000": "capecitabine",
    "4179": "etoposide",
    "4492": "fluorouracil",
    "51499": "irinotecan",
    "6851": "methotrexate",
    "32592": "oxaliplatin",
    "6718": "melphalan",
    "134547": "bendamustine",
    "357977": "sunitinib",
}

#: RxNorm concepts of substances that are no anticancer drug (an allergy to one rules no
#: PEComa drug out; a medication of one is no line), each read in a published source:
#: - 7980 Penicillin G: paciowg/sample-data-fsh, input/fsh/EX_jm_allergyInterolerance.fsh
#:   (an AllergyIntolerance of the PACIO sample data).
#: - 2551 ciprofloxacin, 1314891 Latex: cqframework/cpg-example-anthrax,
#:   input/fsh/test-cases/allergy-intolerances/allergy-15.fsh and allergy-4.fsh.
#: The RxNorm ingredient code (IN) of each mTOR inhibitor pecoma may propose, from
#: :data:`RXNORM_NAMES` (docs/fhir.md's table): written beside the project code on the
#: order it suggests, so that the EHR staging it can map it to an orderable.
RXNORM_INGREDIENT: Final[Mapping[Agent, str]] = {
    Agent.sirolimus: "35302", Agent.everolimus: "141704", Agent.temsirolimus: "657797"}


RXNORM_OTHER_NAMES: Final[Mapping[str, str]] = {
    "7980": "penicillin g",
    "2551": "ciprofloxacin",
    "1314891": "latex",
}


ATC: Final = "http://www.whocc.no/atc"

#: WHO ATC codes of the drugs pecoma names (the WHO Collaborating Centre for Drug
#: Statistics Methodology's ATC/DDD Index, www.whocc.no/atc_ddd_index). L01EG is the group
#: of mTOR kinase inhibitors: any other code in it (the group itself, ridaforolimus) is an
#: mTOR inhibitor pecoma has no agent for (:data:`pecoma.fhir.codes.MTOR_CLASS_WORDS`);
#: any other code under L01 (antineoplastic agents) is another systemic agent in a
#: medication (:data:`pecoma.fhir.codes.ANTINEOPLASTIC`), and a drug not identified in an
#: allergy entry (:func:`drug_classes`). Sirolimus and everolimus also have codes under
#: L04 (immunosuppressants: L04AA10 and L04AA18 before 2021, L04AH01 and L04AH02 since);
#: L01EG04 is sirolimus for cancer, given as the protein-bound (nab-) form. The codes in
#: use before the 2021 change (the protein kinase inhibitors moved from L01XE to L01E:
#: everolimus L01XE10 to L01EG02, temsirolimus L01XE09 to L01EG01, pazopanib L01XE11 to
#: L01EX03; ATC/DDD alterations 2021) are read too: EHR drug catalogues keep them, and
#: the code system's URI carries no version.
ATC_NAMES: Final[Mapping[str, str]] = {
    "L01DB": "anthracycline",
    "L01A": "alkylating agent",
    "L01AA": "nitrogen mustard analogue",
    "L04AA10": "sirolimus",
    "L04AA18": "everolimus",
    "L04AH01": "sirolimus",
    "L04AH02": "everolimus",
    "L01EG01": "temsirolimus",
    "L01EG02": "everolimus",
    "L01EG04": "nab-sirolimus",
    "L01XE09": "temsirolimus",
    "L01XE10": "everolimus",
    "L01DB01": "doxorubicin",
    "L01DB03": "epirubicin",
    "L01DB07": "mitoxantrone",
    "L01DA01": "dactinomycin",
    "L01DC01": "bleomycin",
    "L01DC03": "mitomycin",
    "L01DC04": "ixabepilone",
    "L01AA01": "cyclophosphamide",
    "L01AA02": "chlorambucil",
    "L01AA03": "melphalan",
    "L01AA06": "ifosfamide",
    "L01AA09": "bendamustine",
    "L01AB01": "busulfan",
    "L01AC01": "thiotepa",
    "L01AX03": "temozolomide",
    "L01AX04": "dacarbazine",
    "L01BA01": "methotrexate",
    "L01BA04": "pemetrexed",
    "L01BB04": "cladribine",
    "L01BB05": "fludarabine",
    "L01BC01": "cytarabine",
    "L01BC02": "fluorouracil",
    "L01BC05": "gemcitabine",
    "L01BC06": "capecitabine",
    "L01CD02": "docetaxel",
    "L01XA01": "cisplatin",
    "L01XA02": "carboplatin",
    "L01XA03": "oxaliplatin",
    # the protein kinase inhibitors pecoma names, by their codes since 2021 and before
    "L01EX03": "pazopanib",
    "L01XE11": "pazopanib",
    "L01EA01": "imatinib",
    "L01XE01": "imatinib",
    "L01EX01": "sunitinib",
    "L01XE04": "sunitinib",
    "L01EX02": "sorafenib",
    "L01XE05": "sorafenib",
    "L01EX05": "regorafenib",
    "L01XE21": "regorafenib",
    "L01EK01": "axitinib",
    "L01XE17": "axitinib",
}


def _atc_name(code: str) -> str | None:
    code = code.strip().upper()
    name = ATC_NAMES.get(code)
    if name is None and code.startswith("L01EG"):
        return "mtor inhibitor"
    if name is None and code.startswith("L01"):
        return c.ANTINEOPLASTIC
    return name


#: A reference to a Medication by its id (FHIR id: 1-64 of ``A-Za-z0-9-.``), relative or
#: an absolute URL without query or fragment.
MEDICATION_BY_ID: Final = re.compile(r"Medication/[A-Za-z0-9\-.]{1,64}")
_MEDICATION_REF: Final = re.compile(r"(?:https?://[^?#\s]+/)?Medication/[A-Za-z0-9\-.]{1,64}")


def unheld_medications(resources: Iterable[Mapping[str, Any]],
                       resolve: Resolver) -> list[str]:
    """The references to a Medication by id (``Medication/id``, or an absolute URL ending
    so) of the medication resources among ``resources`` (and of draft orders) that
    ``resolve`` cannot find, each once, sorted: what to ask the record's FHIR server for
    (:meth:`~pecoma.fhir.client.FhirClient.read_medications`, which never follows an
    absolute one to another server). Contained (``#id``) references are not listed: they
    resolve within the resource or not at all."""
    wanted: set[str] = set()
    for res in resources:
        if res.get("resourceType") not in MEDICATION_TYPES:
            continue
        ref = _medication_reference(res)
        if ref is not None and _MEDICATION_REF.fullmatch(ref) and resolve(ref) is None:
            wanted.add(ref)
    return sorted(wanted)


# ------------------------------------------------------------------------ identification


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


#: "m-TOR", "m TOR": the mTOR-inhibitor class however the name is split.
_M_TOR: Final = re.compile(r"(?<![a-z0-9])m[\s\-]+tor(?![a-z0-9])")


def folded(text: str) -> str:
    """``text`` in the form drug names are compared in (:func:`pecoma.text.name_form`):
    accents dropped and case folded, so that "Évérolimus", "ÉVÉROLIMUS" and "everolimus"
    are one name, a compatibility form (a ligature, a full-width letter) is its plain
    letters, and a format character (a zero-width space: "Siro\u200blimus") is no part
    of it. A letter of another alphabet stays one (:func:`_odd_words`)."""
    return name_form(text)


#: Words saying that a name is of a regimen, a cycle, a protocol or chemotherapy
#: (:data:`_REGIMEN_WORDS`, :func:`_regimen_mark`; C1D1 is cycle 1 day 1). "course" and
#: "protocol" are common words of other drugs' orders too ("Prednisone 5 day course",
#: "Hydration protocol"): :func:`_regimen_mark` weighs them.
_REGIMEN_WORD: Final = (r"(?:regimens?|cycles?|courses?|protocols?|chemo[a-z]*"
                        r"|c\d+\s*d\d+)(?![A-Za-z0-9])")
#: The regimen words that make an abbreviation standing before them a regimen's
#: (:func:`regimen_names`): "course" is not one ("Dox 7 day course" is doxycycline's).
_LICENSING_WORD: Final = (r"(?:regimens?|cycles?|protocols?|chemo[a-z]*|c\d+\s*d\d+)"
                          r"(?![A-Za-z0-9])")
#: No letter or digit before (a token's start) or after (its end).
_START: Final = r"(?<![A-Za-z0-9])"
_END: Final = r"(?![A-Za-z0-9])"
#: A regimen word following an abbreviation, after blanks or punctuation ("AI regimen",
#: "GD (cycle 2)", "ai-chemo").
_BEFORE_REGIMEN: Final = r"(?=[\s\-:,(/]*(?i:" + _LICENSING_WORD + "))"
_AFTER_ABBREVIATION: Final = re.compile(r"[\s\-:,(/]*(?i:" + _LICENSING_WORD + ")")
#: The same without "protocol": "MAID protocol" is as much medical assistance in dying's.
_AFTER_MAID: Final = re.compile(
    r"[\s\-:,(/]*(?i:(?:regimens?|cycles?|chemo[a-z]*|c\d+\s*d\d+)(?![A-Za-z0-9]))")
#: Between the two drugs of a pair written short: "/", "-", "+", "&", ",", blanks, "and",
#: "plus", "with", "then" ("AI plus DTIC", "Mesna with Dox").
_PAIR: Final = r"\s*(?:[-/+&,]\s*|\s(?:(?i:and|plus|with|then)\s+)?)"
#: A soft-tissue-sarcoma drug or regimen, by name or abbreviation: what an ambiguous
#: abbreviation paired with is a regimen's ("Dox/Ifos", "AI + Dacarbazine").
_SARCOMA_WORD: Final = (r"(?i:doxo?|doxorubicin|adriamycin|ifos?|ifosfamide|epi|epirubicin"
                         r"|dacarbazine|dtic|mesna|ai|aim|ei|maid|gem|gemcitabine|doc"
                         r"|docetaxel|gd)")
_PAIRED_AFTER: Final = re.compile(_PAIR + _SARCOMA_WORD + _END)
_PAIRED_BEFORE: Final = re.compile(_START + _SARCOMA_WORD + _PAIR + r"\Z")
#: The abbreviations that stand for other things too, and the drugs each is read as when
#: it is a regimen's: "AI" (doxorubicin with ifosfamide; the aromatase inhibitors),
#: "A&I", "A/I" (a clinic, a unit), "AIM" in small letters ("aim"), "EI", "MAID" (in
#: capitals, how Health Canada writes medical assistance in dying; "MAiD" is never read),
#: "Dox", "Doxo" (doxycycline's short form). Each is read as its drugs only paired with
#: another sarcoma drug or abbreviation ("Dox/Ifos", "AI + Mesna") or before a regimen
#: word ("AI regimen", "MAID cycle 1", "Dox cycle 2"; "protocol" not for MAID); alone it
#: is left as written (:func:`regimen_names`), a word pecoma does not identify
#: (:data:`LONE_ABBREVIATIONS`).
_AMBIGUOUS: Final = re.compile(
    _START + r"(?:(?P<maid>(?!MAiD)(?i:maid))|(?P<ai>(?i:aim?)|A\s*[/&]\s*I)|(?P<ei>(?i:ei))"
    r"|(?P<dox>(?i:doxo?)))" + _END)
_AMBIGUOUS_NAMES: Final[Mapping[str, str]] = {
    "maid": "doxorubicin ifosfamide dacarbazine", "ai": "doxorubicin ifosfamide",
    "ei": "epirubicin ifosfamide", "dox": "doxorubicin"}
#: The words an ambiguous abbreviation left alone is, folded: a name holding one may be of
#: a sarcoma regimen (:func:`_abbreviation_mark`). "aim" is not among them: "Aim for 2 L
#: fluids" is no drug's name.
LONE_ABBREVIATIONS: Final = frozenset({"ai", "ei", "maid", "dox", "doxo"})
#: The standard abbreviations of the soft-tissue-sarcoma regimens (the ESMO-EURACAN and
#: NCCN guidelines' names; the guideline's S14 doxorubicin with or without ifosfamide,
#: S15 epirubicin with ifosfamide) and of their drugs that stand for nothing else, as
#: order sets name them, each with the drugs it stands for: AIM (with mesna, in
#: capitals) and A+I, doxorubicin (Adriamycin) with ifosfamide; EPI-IFO (Epi/Ifo),
#: epirubicin with ifosfamide; Gem/Doc, and GD before a regimen word ("Gd", the
#: contrast agent, is none), gemcitabine with docetaxel; Ifo and Ifos, ifosfamide. Mesna,
#: a uroprotector given with ifosfamide, is no anticancer drug and is not named. Each is
#: a whole token (no letter or digit beside it: "AIM" is never read inside "MAIN");
#: "Epi" and "Gem" only paired with "Ifo" and "Doc" ("Epi" alone is epinephrine's). The
#: ambiguous ones (:data:`_AMBIGUOUS`) are read first, when paired or before a regimen
#: word.
_REGIMEN_ABBREVIATIONS: Final[tuple[tuple[re.Pattern[str], str], ...]] = tuple(
    (re.compile(pattern), names) for pattern, names in (
        (_START + r"(?:AIM|A\s*\+\s*I)" + _END, "doxorubicin ifosfamide"),
        (_START + r"(?i:epi" + _PAIR + r"ifo(?:s(?:famide)?)?)" + _END,
         "epirubicin ifosfamide"),
        (_START + r"(?:(?i:gem" + _PAIR + r"doc)|GD" + _END + _BEFORE_REGIMEN + ")" + _END,
         "gemcitabine docetaxel"),
        (_START + r"(?i:ifos?)" + _END, "ifosfamide"),
    ))
#: Names of drugs that an abbreviation beside them may be the short form of, beside those
#: pecoma identifies as no anticancer drug (:data:`pecoma.fhir.codes.
#: NOT_ANTICANCER_DRUG_NAMES`: doxycycline): the aromatase inhibitors ("letrozole (AI)",
#: "AI (aromatase inhibitor)"), the other endocrine drugs, and the drugs of medical
#: assistance in dying ("Midazolam (MAID)"). They only stop the reading of an abbreviation
#: (:func:`regimen_names`); how the drug itself is read does not change.
ABBREVIATION_OTHER_DRUGS: Final = (
    "letrozole", "anastrozole", "exemestane", "aromatase", "tamoxifen", "fulvestrant",
    "raloxifene", "goserelin", "leuprolide", "leuprorelin", "megestrol", "progestin",
    "medroxyprogesterone", "midazolam", "propofol", "rocuronium", "cisatracurium",
    "phenobarbital", "pentobarbital", "secobarbital", "bupivacaine", "doxepin",
    "doxazosin", "doxylamine", "doxapram")


def _regimen_name_read(name: str, other_drug: bool) -> tuple[str, list[str]]:
    """``name`` with its regimen abbreviations read (:func:`regimen_names`), and the
    abbreviations of a sarcoma regimen or drug left in it as written: the ambiguous ones
    alone, or, in a name of another drug (``other_drug``), every one but a gloss of that
    drug's name.

    The rule: a name holding a token that may be an anticancer drug is never silent. It
    is read as the drugs (the unambiguous forms), or the token is left (the name then
    gets the "drug not identified, may be anticancer" warnings: :func:`_abbreviation_mark`).
    Another drug named in the name decides only whether an ambiguous abbreviation is
    read, never whether it is dropped: only a gloss plainly explaining that drug's name
    (:func:`_gloss`: "Doxycycline (Dox)", "letrozole 2.5 mg (AI)", "AI (aromatase
    inhibitor)") is set aside; "Dox 75 mg/m2, ondansetron premed" keeps its "Dox"."""
    left: list[str] = []

    def ambiguous(m: re.Match[str]) -> str:
        kind = m.lastgroup or "dox"
        text = m.string
        after = _AFTER_MAID if kind == "maid" else _AFTER_ABBREVIATION
        written = m.group(0)
        lower_aim = kind == "ai" and written.lower() == "aim" and written != "AIM"
        licensed = (after.match(text, m.end()) is not None
                    or (not lower_aim and (_PAIRED_AFTER.match(text, m.end()) is not None
                                           or _PAIRED_BEFORE.search(text[:m.start()])
                                           is not None))
                    or (kind == "dox" and (_LIPOSOMAL_AFTER.match(text, m.end()) is not None
                                           or _DOX_PER_BODY_SURFACE.match(text, m.end())
                                           is not None
                                           or _LIPOSOMAL_BEFORE.search(text[:m.start()])
                                           is not None)))
        if written == "AIM" and not licensed:
            return written  # AIM in capitals stands for the regimen alone (below)
        if other_drug:
            # beside another drug's name: never read, and never dropped but for a gloss
            # of that name ("Doxycycline (Dox)", "letrozole (AI)")
            if _gloss(text, m.start(), m.end()):
                return " "
            if (licensed or written.lower() in LONE_ABBREVIATIONS or "/" in written
                    or "&" in written):
                left.append(written)
            return written
        if licensed:
            return _AMBIGUOUS_NAMES[kind]
        if written.lower() in LONE_ABBREVIATIONS or "/" in written or "&" in written:
            left.append(written)
        return written

    name = _AMBIGUOUS.sub(ambiguous, name)
    for pattern, names in _REGIMEN_ABBREVIATIONS:
        if other_drug:
            left += [m.group(0) for m in pattern.finditer(name)]
        else:
            name = pattern.sub(names, name)
    return name, left


#: "liposomal" (or "pegylated") beside "Dox": liposomal doxorubicin, which is doxorubicin
#: for the allergy check ("Dox liposomal", "liposomal Dox", "Dox (liposomal)").
_LIPOSOMAL_AFTER: Final = re.compile(r"[\s\-(]*(?i:liposomal|pegylated)" + _END)
_LIPOSOMAL_BEFORE: Final = re.compile(_START + r"(?i:liposomal|pegylated)[\s\-]*\Z")
#: A dose per body surface right after "Dox" ("Dox 75 mg/m2", "DOX 60 mg/m²"): a
#: cytotoxic's dosing, never doxycycline's (100 mg): doxorubicin. "Dox 100 mg" is left
#: as written (doxycycline's short form).
_DOX_PER_BODY_SURFACE: Final = re.compile(
    r"[\s:,]*[0-9]+(?:[.,][0-9]+)?\s*(?i:mg|g|mcg|µg)\s*/\s*(?i:m2|m²|m\^2|sq\.? ?m)"
    + _END)
#: A word or a number (a strength: "2.5", "0.2%").
_GLOSS_WORD: Final = re.compile(r"[0-9]+(?:[.,][0-9]+)?%?|[A-Za-z]+")


def _gloss_words(text: str) -> bool:
    """Whether ``text`` holds only what may stand between another drug's name and a
    bracket glossing it with an abbreviation ("Letrozole 2.5 mg tablet (AI)"), or after
    that name in a bracket explaining one ("AI (aromatase inhibitor)"): numbers,
    strengths, doses, forms and routes (:data:`_DOSE_WORDS`), "inhibitor", blanks,
    commas and slashes."""
    if re.sub(r"[\s,/]+", "", _GLOSS_WORD.sub("", text)):
        return False
    return all(w[0].isdigit() or w.lower() in _DOSE_WORDS
               or w.lower() in ("inhibitor", "inhibitors", "m")
               or _NUMBER_WORD.fullmatch(w.lower()) is not None
               for w in _GLOSS_WORD.findall(text))


def _gloss(text: str, start: int, end: int) -> bool:
    """Whether the abbreviation at ``text[start:end]`` plainly explains another drug's
    name (:data:`_OTHER_DRUG_NAMES`) rather than naming a drug of its own: in a bracket
    of its own right after that name, with only its strength and form between
    ("Doxycycline (Dox)", "letrozole (AI)", "Letrozole 2.5 mg tablet (AI)", "Midazolam
    (MAID)"); right after it ("aromatase inhibitor AI"); or followed by a bracket holding
    that name alone ("AI (aromatase inhibitor)", "Dox (doxycycline)"). Anything else
    ("Dox 75 mg/m2 (letrozole held)", "Dox 75 mg/m2 IV, ondansetron premed") is no gloss:
    the abbreviation stays, possibly an anticancer drug."""
    before, after = text[:start], text[end:]
    names = list(_OTHER_DRUG_NAMES_ANY_CASE.finditer(before))
    if names:
        between = before[names[-1].end():]
        opened = re.search(r"[(\[]\s*\Z", between)
        if opened is not None:
            if (re.match(r"\s*[)\]]", after) is not None
                    and _gloss_words(between[:opened.start()])):
                return True
        elif re.fullmatch(r"\s*(?i:inhibitors?)?\s*", between):
            return True
    inside = re.match(r"\s*[(\[]([^()\[\]]*)[)\]]", after)
    if inside is not None:
        said = inside.group(1)
        named = _OTHER_DRUG_NAMES_ANY_CASE.search(said)
        if (named is not None and not said[:named.start()].strip()
                and _gloss_words(said[named.end():])):
            return True
    return False


def regimen_names(name: str, other_drug: bool = False) -> str:
    """``name`` with each standard abbreviation of a soft-tissue-sarcoma regimen or of
    its drugs (:data:`_REGIMEN_ABBREVIATIONS`, :data:`_AMBIGUOUS`) written as the drugs
    it stands for: "AI regimen" as "doxorubicin ifosfamide regimen", "Dox/Ifos" as
    "doxorubicin/ifosfamide", "EPI-IFO cycle 1" as "epirubicin ifosfamide cycle 1",
    "MAID regimen" as "doxorubicin ifosfamide dacarbazine regimen". Every drug of a
    regimen so named is then read, and checked against the allergy list, one by one.
    An abbreviation that stands for other things too ("AI", "Dox", "MAID", "A&I") is read
    only paired or before a regimen word, and left as written alone ("letrozole (AI)",
    "Dox 100 mg PO BID", "MAID kit"). In the name of another drug (``other_drug``:
    :func:`_names_other_drug`) none is read, and none dropped but a gloss of that drug's
    name ("Doxycycline (Dox)" is doxycycline: :func:`_gloss`); the rest are left as
    written, possibly anticancer ("Dox 75 mg/m2 (letrozole held)")."""
    return _regimen_name_read(name, other_drug)[0]


#: The names that stop the reading of an abbreviation (:func:`_names_other_drug`).
_OTHER_DRUG_NAMES: Final = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(
        re.escape(n).replace(r"\-", r"[\s\-]?").replace(r"\ ", r"[\s\-]?")
        for n in sorted({*c.NOT_ANTICANCER_DRUG_NAMES, *ABBREVIATION_OTHER_DRUGS},
                        key=len, reverse=True))
    + r")(?:e?s)?(?![a-z0-9])")
#: The same in any case, read in a name as written (:func:`_gloss`).
_OTHER_DRUG_NAMES_ANY_CASE: Final = re.compile(_OTHER_DRUG_NAMES.pattern, re.IGNORECASE)


def _names_other_drug(concept: Mapping[str, Any]) -> bool:
    """Whether a concept names or codes a drug pecoma identifies as none of the sarcoma
    regimens' (:func:`regimen_names` then reads no abbreviation in it): an RxNorm code
    that is none of the anticancer codes pecoma knows (:data:`RXNORM_NAMES`: RxNorm
    72965, letrozole), an ATC code outside those of :data:`ATC_NAMES` and L01, or a name
    of :data:`pecoma.fhir.codes.NOT_ANTICANCER_DRUG_NAMES` or
    :data:`ABBREVIATION_OTHER_DRUGS` in its text or displays."""
    texts = [concept.get("text")]
    for coding in _list(concept.get("coding")):
        if not isinstance(coding, dict):
            continue
        texts.append(coding.get("display"))
        code = coding.get("code")
        if not isinstance(code, str) or not code.strip():
            continue
        if coding.get("system") == RXNORM and code.strip() not in RXNORM_NAMES:
            return True
        if coding.get("system") == ATC and _atc_name(code) is None:
            return True
    return any(_OTHER_DRUG_NAMES.search(folded(t)) is not None
               for t in texts if isinstance(t, str))


def abbreviations_left(concept: Mapping[str, Any]) -> list[str]:
    """The abbreviations of a sarcoma regimen or drug a concept's text and displays hold
    that are not read as its drugs (:func:`regimen_names`): "Dox" in "Dox 100 mg PO BID",
    "AI" in "AI"; "Dox/Ifos" in "Ondansetron before Dox/Ifos cycle 1". Not the ambiguous
    ones glossing another drug's name ("Doxycycline (Dox)": doxycycline's, :func:`_gloss`)."""
    other = _names_other_drug(concept)
    texts = [concept.get("text"), *(cd.get("display") for cd in _list(concept.get("coding"))
                                    if isinstance(cd, dict))]
    return list(dict.fromkeys(w for t in texts if isinstance(t, str)
                              for w in _regimen_name_read(t, other)[1]))


def unread_abbreviations(resource: Mapping[str, Any],
                         resolve: Resolver = no_resolver) -> list[str]:
    """The abbreviations of a sarcoma regimen or drug in a medication's names that are not
    read as its drugs (:func:`abbreviations_left`), each once: beside an agent pecoma
    identifies ("Dacarbazine 1 g/m2 (Dox held)", "Ifosfamide + Dox, ondansetron
    premed") they are a part of the order pecoma could not check, which the CDS
    order-select service says (never silent)."""
    return list(dict.fromkeys(w for cc in _concepts(resource, resolve)
                              for w in abbreviations_left(cc)))


def _words(concept: Mapping[str, Any]) -> str:
    """The concept's text, displays and the names of its known RxNorm and ATC codes,
    :func:`folded` ("Évérolimus" read as "everolimus"; "m-TOR" as "mtor"), a regimen's
    or a drug's standard abbreviation written as its drugs (:func:`regimen_names`:
    "Dox/Ifos", "AIM"; none in a concept naming or coding another drug:
    :func:`_names_other_drug`): every drug name pecoma reads, in a medication, a draft
    order or an allergy entry, is read from these words."""
    other = _names_other_drug(concept)
    parts = ([regimen_names(concept["text"], other)] if isinstance(concept.get("text"), str)
             else [])
    for coding in _list(concept.get("coding")):
        if not isinstance(coding, dict):
            continue
        if isinstance(coding.get("display"), str):
            parts.append(regimen_names(coding["display"], other))
        code = coding.get("code")
        if not isinstance(code, str):
            continue
        system = coding.get("system")
        name = ((RXNORM_NAMES.get(code.strip()) or RXNORM_OTHER_NAMES.get(code.strip()))
                if system == RXNORM else _atc_name(code) if system == ATC else None)
        if name is not None:
            parts.append(name)
    return _M_TOR.sub("mtor", folded(" ".join(parts)))


def _project_agent(concept: Mapping[str, Any]) -> Agent | None:
    for coding in _list(concept.get("coding")):
        if isinstance(coding, dict) and coding.get("system") == c.PECOMA_SYSTEM:
            agent = c.AGENT_BY_CODE.get(str(coding.get("code")))
            if agent is not None:
                return agent
    return None


#: Two ingredients that make one of the case's combination regimens.
#: (Each drug also by its other languages' spellings: "doxorrubicina e ifosfamida".)
_COMBINATIONS: Final[tuple[tuple[tuple[str, ...], tuple[str, ...], Agent], ...]] = tuple(
    ((*one, *(o for n in one for o in c.OTHER_LANGUAGE_NAMES.get(n, ()))),
     (*other, *(o for n in other for o in c.OTHER_LANGUAGE_NAMES.get(n, ()))), agent)
    for one, other, agent in (
        (("doxorubicin", "adriamycin"), ("ifosfamide",), Agent.doxorubicin_ifosfamide),
        (("epirubicin",), ("ifosfamide",), Agent.epirubicin_ifosfamide),
        (("gemcitabine",), ("docetaxel",), Agent.gemcitabine_docetaxel),
    ))


_ANY_NAME: Final = re.compile("|".join(
    re.escape(n) for _agent, names in c.AGENT_NAMES for n in names))


def _agent_in(words: str) -> Agent | None:
    """The agent named in ``words``: an mTOR inhibitor first (the safety-relevant reading
    when several are named), then a combination regimen, then the first name known."""
    if not words or _ANY_NAME.search(words) is None:
        return None
    first = None
    for agent, names in c.AGENT_NAMES:
        if any(n in words for n in names):
            first = agent
            break
    if first is None or first.is_mtor_inhibitor:
        return first
    for one, other, agent in _COMBINATIONS:
        if any(n in words for n in one) and any(n in words for n in other):
            return agent
    return first


def agent_of_concept(concept: Any) -> Agent | None:
    """The agent a medication CodeableConcept names: project code, RxNorm code, then name."""
    if not isinstance(concept, dict):
        return None
    return _project_agent(concept) or _agent_in(_words(concept))


#: The agent each name of :data:`pecoma.fhir.codes.AGENT_NAMES` stands for, and one
#: pattern finding them all, the longest first: a name inside a longer one is read as the
#: longer one only ("sirolimus" in "temsirolimus" or "nab-sirolimus").
_AGENT_OF_NAME: Final[Mapping[str, Agent]] = {
    name: agent for agent, names in reversed(c.AGENT_NAMES) for name in names}
_EACH_NAME: Final = re.compile("|".join(
    re.escape(n) for n in sorted(_AGENT_OF_NAME, key=len, reverse=True)))


def agents_named(concept: Any) -> frozenset[Agent]:
    """Every agent a CodeableConcept names, for what an allergy rules out: each project
    code, and each name in its text, displays and known RxNorm and ATC codes (an RxNorm
    sirolimus coding with the text "Everolimus", or the text "Everolimus; sirolimus",
    names both), where :func:`agent_of_concept` gives one. Two drugs that make one of the
    case's regimens (doxorubicin and ifosfamide) are that regimen, as
    :func:`agent_of_concept` reads them, and the regimen stands for the drugs it holds."""
    if not isinstance(concept, dict):
        return frozenset()
    found = {agent for cd in _list(concept.get("coding"))
             if isinstance(cd, dict) and cd.get("system") == c.PECOMA_SYSTEM
             and (agent := c.AGENT_BY_CODE.get(str(cd.get("code")))) is not None}
    words = _words(concept)
    found |= {_AGENT_OF_NAME[m.group(0)] for m in _EACH_NAME.finditer(words)}
    one = _agent_in(words)
    if one is not None:
        found.add(one)
    held = [INGREDIENTS[a] for a in found if len(INGREDIENTS.get(a, ())) > 1]
    return frozenset(a for a in found if not (
        a in INGREDIENTS and any(INGREDIENTS[a] < drugs for drugs in held)))


class RepeatedLocalId(ValueError):
    """A local reference (``#id``) names two different contained resources: which one is
    meant cannot be told (FHIR R4: a contained resource's id is unique within its
    container)."""


def repeated_local_ids(resource: Mapping[str, Any]) -> list[tuple[int, str, int]]:
    """Each ``contained`` resource whose local id an earlier one, with other content,
    already carries: ``(index, id, index of the first)``. The same resource written twice
    under one id (equal in every element) is one. A reference ``#id`` to such an id could
    mean either: a resource holding one is refused where the record is read
    (:func:`contained`)."""
    first: dict[str, tuple[int, Mapping[str, Any]]] = {}
    out: list[tuple[int, str, int]] = []
    for i, res in enumerate(_list(resource.get("contained"))):
        rid = res.get("id") if isinstance(res, dict) else None
        if not isinstance(rid, str):
            continue
        held = first.setdefault(rid, (i, res))
        if held[0] != i and held[1] != res:
            out.append((i, rid, held[0]))
    return out


def contained(resource: Mapping[str, Any], reference: str) -> Mapping[str, Any] | None:
    """The resource of ``resource.contained`` a local reference (``#id``) names, or
    ``None`` when none carries that id; :class:`RepeatedLocalId` when two different ones
    do (never the first by chance). Every ``#id`` pecoma resolves is resolved here."""
    wanted = reference[1:]
    found: Mapping[str, Any] | None = None
    for i, res in enumerate(_list(resource.get("contained"))):
        if not (isinstance(res, dict) and res.get("id") == wanted):
            continue
        if found is None:
            found = res
        elif found != res:
            raise RepeatedLocalId(
                f"{reference!r} names two different contained resources (contained[{i}] "
                f"is another resource under the id {wanted!r}): which one is meant cannot "
                "be told")
    return found


def _medication_reference(resource: Mapping[str, Any]) -> str | None:
    ref = resource.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
        return str(ref["reference"])
    return None


def _medication(resource: Mapping[str, Any], resolve: Resolver) -> Mapping[str, Any] | None:
    reference = _medication_reference(resource)
    if reference is None:
        return None
    if reference.startswith("#"):
        return contained(resource, reference)
    found = resolve(reference)
    return found if isinstance(found, Mapping) else None


def _concepts(resource: Mapping[str, Any], resolve: Resolver) -> list[Mapping[str, Any]]:
    """Every CodeableConcept naming the medication: its own, then a Medication's; none when
    a local reference on the way names two different contained resources (the medication
    is then not identified: :func:`unreadable_medication` says why)."""
    try:
        return _named(resource, resolve)
    except RepeatedLocalId:
        return []


def _named(resource: Mapping[str, Any], resolve: Resolver) -> list[Mapping[str, Any]]:
    """:func:`_concepts`, raising :class:`RepeatedLocalId`."""
    out: list[Mapping[str, Any]] = []
    concept = resource.get("medicationCodeableConcept")
    if isinstance(concept, dict):
        out.append(concept)
    ref = resource.get("medicationReference")
    if isinstance(ref, dict) and isinstance(ref.get("display"), str):
        out.append({"text": ref["display"]})
    med = _medication(resource, resolve)
    # a Medication carrying a modifierExtension pecoma does not understand names nothing
    # it can rely on (the record referring to it is then not identified)
    if (med is not None and med.get("resourceType") == "Medication"
            and not med.get("modifierExtension")):
        out += _medication_concepts(med, resource, resolve, nested=True)
    return out


def _medication_concepts(med: Mapping[str, Any], holder: Mapping[str, Any],
                         resolve: Resolver, nested: bool) -> list[Mapping[str, Any]]:
    """A Medication's code and its ingredients' concepts: ``itemCodeableConcept``, or an
    ``itemReference`` to a Substance (its code) or to a Medication (its code and, one
    level down, its ingredients), resolved among the Medication's or its holder's
    ``contained`` resources, then as any reference; its display as text."""
    out: list[Mapping[str, Any]] = []
    if isinstance(med.get("code"), dict):
        out.append(med["code"])
    for ingredient in _list(med.get("ingredient")):
        if not isinstance(ingredient, dict):
            continue
        if isinstance(ingredient.get("itemCodeableConcept"), dict):
            out.append(ingredient["itemCodeableConcept"])
        ref = ingredient.get("itemReference")
        if not isinstance(ref, dict):
            continue
        if isinstance(ref.get("display"), str):
            out.append({"text": ref["display"]})
        target = ref.get("reference")
        if not isinstance(target, str):
            continue
        found = (contained(med, target) or contained(holder, target)
                 if target.startswith("#") else resolve(target))
        if not isinstance(found, Mapping):
            continue
        if found.get("resourceType") == "Substance" and isinstance(found.get("code"), dict):
            out.append(found["code"])
        elif found.get("resourceType") == "Medication":
            if nested:
                out += _medication_concepts(found, holder, resolve, nested=False)
            elif isinstance(found.get("code"), dict):
                out.append(found["code"])
    return out


def medication_concept(resource: Mapping[str, Any],
                       resolve: Resolver = no_resolver) -> Mapping[str, Any] | None:
    """The CodeableConcept that names the medication (resolved if by reference), if any."""
    concepts = _concepts(resource, resolve)
    return concepts[0] if concepts else None


def agent_of(resource: Mapping[str, Any], resolve: Resolver = no_resolver) -> Agent | None:
    """The systemic agent a medication resource (or draft order) names, if the project
    knows it. All the names found are read together (the concept, the reference's display,
    a Medication's code and ingredients), so a Medication of doxorubicin with ifosfamide is
    the combination, and any mTOR inhibitor named is never hidden behind another drug.
    A medication one of whose names holds a word with a letter other than a to z
    (:func:`_odd_words`: "Doxоrubicin" with a Cyrillic о beside "ifosfamide") names no
    agent pecoma can tell, whatever its other names and codes say: the word may be any
    drug (:func:`unreadable_medication` says so; :func:`agent_named` gives what the rest
    names)."""
    concepts = _concepts(resource, resolve)
    if _odd_words(concepts):
        return None
    return _agent_of_concepts(concepts)


def agent_named(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                ) -> Agent | None:
    """The agent a medication's names and codes name, read as :func:`agent_of` reads
    them, a word holding a letter other than a to z naming nothing (no name is read
    inside it): what a draft pecoma does not identify still names, for the allergy check
    (an RxNorm everolimus code beside a text "Evеrolimus" still names everolimus;
    "Tеmsirolimus" names nothing)."""
    return _agent_of_concepts(_concepts(resource, resolve))


def _odd_words(concepts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The words of a medication's names (:func:`_words`) holding a letter other than a to
    z once accents, case, compatibility forms and format characters are set aside
    (:func:`pecoma.text.odd_words`), each once."""
    return list(dict.fromkeys(w for cc in concepts for w in odd_words(_words(cc))))


def _agent_of_concepts(concepts: list[Mapping[str, Any]]) -> Agent | None:
    """The agent of :func:`agent_of`, each word holding a letter other than a to z read
    as naming nothing (a name inside it is not read: "tеmsirolimus" names no sirolimus)."""
    for concept in concepts:
        agent = _project_agent(concept)
        if agent is not None:
            return agent
    words = " ".join(_words(cc) for cc in concepts)
    odd = set(odd_words(words))
    return _agent_in(re.sub(r"\w+", lambda m: " " if m.group(0) in odd else m.group(0),
                            words) if odd else words)


def agents_beside(resource: Mapping[str, Any], agent: Agent,
                  resolve: Resolver = no_resolver) -> tuple[Agent, ...]:
    """The other agents a medication resource names beside ``agent`` (what
    :func:`agent_of` read it as) and that ``agent`` does not hold: everolimus and
    ifosfamide in one Medication are read as everolimus, and ifosfamide is here. A
    medication naming such a pair is no line pecoma can tell, and each drug it names is
    checked against the allergy list."""
    words = " ".join(_words(cc) for cc in _concepts(resource, resolve))
    if not words or _ANY_NAME.search(words) is None:
        return ()
    held = {d for d in INGREDIENTS.get(agent, frozenset())}
    named = [other for other, names in c.AGENT_NAMES
             if other is not agent and any(n in words for n in names)]
    return tuple(other for other in named
                 if other.value not in held
                 and not (INGREDIENTS.get(other, frozenset()) <= held and held)
                 and not (other.is_mtor_inhibitor and agent.is_mtor_inhibitor))


#: Words of a name saying the drug it names may not have been given: a placebo, or a
#: blinded arm ("Sirolimus or placebo (blinded)", "sirolimus/placebo", "Everolimus
#: double-blind"). Trial words that name the drug under trial itself ("Sirolimus (study
#: drug)") say it was given, and are not among them.
_BLINDED: Final = re.compile(r"(?<![a-z])(?:placebos?|blind(?:ed)?)(?![a-z])")


def blinded_arm(resource: Mapping[str, Any], resolve: Resolver = no_resolver) -> str | None:
    """What says that the agent a medication record names may not have been given: a
    placebo or a blinded arm named beside it (:data:`_BLINDED`), or ``None``. The patient
    received the drug or the placebo: whether the agent was given is not known, so the
    record is neither a line of it nor nothing; the one rule for every reader of a
    medication."""
    try:
        concepts = _named(resource, resolve)
    except RepeatedLocalId:
        return None
    for concept in concepts:
        found = _BLINDED.search(_words(concept))
        if found is not None:
            return (f"'{_shown(concept)}' speaks of a placebo or a blinded trial arm "
                    f"('{found.group(0)}')")
    return None


#: The drugs an agent of the case format is made of, each by the names that identify it:
#: an intolerance to one rules out every agent that holds it (ifosfamide: doxorubicin
#: with ifosfamide, epirubicin with ifosfamide, ifosfamide).
_DRUG_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "doxorubicin": dict(c.AGENT_NAMES)[Agent.doxorubicin],
    "epirubicin": dict(c.AGENT_NAMES)[Agent.epirubicin],
    "ifosfamide": dict(c.AGENT_NAMES)[Agent.ifosfamide],
    "gemcitabine": ("gemcitabine", *c.OTHER_LANGUAGE_NAMES["gemcitabine"], "gemzar"),
    "docetaxel": ("docetaxel", "taxotere"),
}
INGREDIENTS: Final[dict[Agent, frozenset[str]]] = {
    Agent.doxorubicin: frozenset({"doxorubicin"}),
    Agent.doxorubicin_ifosfamide: frozenset({"doxorubicin", "ifosfamide"}),
    Agent.epirubicin: frozenset({"epirubicin"}),
    Agent.epirubicin_ifosfamide: frozenset({"epirubicin", "ifosfamide"}),
    Agent.ifosfamide: frozenset({"ifosfamide"}),
    Agent.gemcitabine_docetaxel: frozenset({"gemcitabine", "docetaxel"}),
}


#: Brand and other names of drugs pecoma files under a catch-all agent, and the drug
#: each names (an allergy to Taxol is one to paclitaxel).
_OTHER_NAMES_OF: Final[Mapping[str, str]] = {
    "gemzar": "gemcitabine", "taxotere": "docetaxel", "taxol": "paclitaxel",
    "halaven": "eribulin", "actinomycin": "dactinomycin", "camptosar": "irinotecan",
    "oncovin": "vincristine", "temodar": "temozolomide", "keytruda": "pembrolizumab",
    "opdivo": "nivolumab", "yervoy": "ipilimumab", "avastin": "bevacizumab",
    "sutent": "sunitinib", "nexavar": "sorafenib", "cabometyx": "cabozantinib",
    "stivarga": "regorafenib", "lenvima": "lenvatinib", "gleevec": "imatinib",
    "glivec": "imatinib", "cytoxan": "cyclophosphamide", "endoxan": "cyclophosphamide",
    "endoxana": "cyclophosphamide", "procytox": "cyclophosphamide", "abraxane": "paclitaxel",
    "zepzelca": "lurbinectedin", "fludara": "fludarabine", "novantrone": "mitoxantrone",
    "tepadina": "thiotepa", "xpovio": "selinexor", "leustatin": "cladribine",
    "leukeran": "chlorambucil", "myleran": "busulfan", "busulfex": "busulfan",
    "ixempra": "ixabepilone", "hydroxycarbamide": "hydroxyurea", "hydrea": "hydroxyurea",
    "temodal": "temozolomide", "interferon alfa 2b": "interferon alfa-2b",
    "interferon alpha-2b": "interferon alfa-2b", "interferon alpha 2b": "interferon alfa-2b",
}


def _drug_names() -> dict[str, tuple[str, ...]]:
    """Every drug pecoma names one by one, by the names that identify it: the drugs of
    :data:`INGREDIENTS` and each drug it files under "other chemotherapy" or "another
    agent" (:data:`pecoma.fhir.codes.AGENT_NAMES`; an unlisted ATC L01 code names no
    drug)."""
    out = {drug: names for drug, names in _DRUG_NAMES.items()}
    for agent, names in c.AGENT_NAMES:
        if agent not in (Agent.other_chemotherapy, Agent.other):
            continue
        for name in names:
            if name != c.ANTINEOPLASTIC:
                drug = _OTHER_NAMES_OF.get(name) or c.ENGLISH_NAME_OF.get(name, name)
                out[drug] = tuple(dict.fromkeys((*out.get(drug, ()), name)))
    return out


#: Drugs by the names that identify them (:func:`_drug_names`): an allergy to one rules
#: out an order of that same drug, whatever agent pecoma files it under (paclitaxel and
#: gemcitabine are "other chemotherapy"), never an order of another drug filed under the
#: same agent (an allergy to vincristine says nothing of etoposide).
DRUG_NAMES: Final[Mapping[str, tuple[str, ...]]] = _drug_names()


def drugs_named(concept: Mapping[str, Any]) -> frozenset[str]:
    """The drugs of :data:`DRUG_NAMES` a concept names, by name or by an RxNorm code
    pecoma knows (56946: paclitaxel); classes name none here."""
    words = _words(concept)
    return frozenset(drug for drug, names in DRUG_NAMES.items()
                     if any(n in words for n in names))


def drugs_of(resource: Mapping[str, Any], resolve: Resolver = no_resolver) -> frozenset[str]:
    """The drugs of :data:`DRUG_NAMES` a medication resource (or draft order) names: its
    concept, its reference's display, a Medication's code and ingredients."""
    return frozenset(d for cc in _concepts(resource, resolve) for d in drugs_named(cc))


#: The blank forms of the short mTOR kinase inhibitors' codes, as whole words.
_MTOR_CODE_WITH_A_BLANK: Final = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(re.escape(w) for w in c.MTOR_CODES_WITH_A_BLANK)
    + r")(?![a-z0-9])")


def mtor_class_words(words: str) -> list[str]:
    """The words of ``words`` (:func:`_words`) naming the mTOR-inhibitor class or an mTOR
    inhibitor that is none of the case format's agents, as written in
    :data:`pecoma.fhir.codes.MTOR_CLASS_WORDS` (within words) and
    :data:`pecoma.fhir.codes.MTOR_CODES_WITH_A_BLANK` (whole words: "INK 128", "CC 223";
    a name pecoma reads otherwise would have dropped them as read, neither an agent nor
    a word left to mark)."""
    return ([w for w in c.MTOR_CLASS_WORDS if w in words]
            + [m.group(0) for m in _MTOR_CODE_WITH_A_BLANK.finditer(words)])


def mtor_class_named(concept: Mapping[str, Any]) -> bool:
    """Whether a concept names the mTOR-inhibitor class, or an mTOR inhibitor that is none
    of the case format's agents (:func:`mtor_class_words`)."""
    return bool(mtor_class_words(_words(concept)))


#: Classes of drugs by the names an allergy list writes them, and the drugs of
#: :data:`INGREDIENTS` each holds (an allergy to the class is one to each of them): the
#: anthracyclines (ATC L01DB) and the alkylating agents (ATC L01A, L01AA).
CLASS_DRUGS: Final[Mapping[str, tuple[str, ...]]] = {
    "anthracycline": ("doxorubicin", "epirubicin"),
    "alkylating agent": ("ifosfamide",),
    "alkylating drug": ("ifosfamide",),
    "nitrogen mustard analogue": ("ifosfamide",),
    "oxazaphosphorine": ("ifosfamide",),
}


def ingredients_named(concept: Mapping[str, Any]) -> frozenset[str]:
    """The drugs of :data:`INGREDIENTS` a medication concept names (by name or RxNorm),
    or holds by a class it names (:data:`CLASS_DRUGS`)."""
    words = _words(concept)
    return frozenset(
        [drug for drug, names in _DRUG_NAMES.items() if any(n in words for n in names)]
        + [drug for name, drugs in CLASS_DRUGS.items() if name in words for drug in drugs])


def classes_named(concept: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """``(class, drug)`` for each drug of :data:`INGREDIENTS` a concept holds only by a
    class it names (:data:`CLASS_DRUGS`: "Anthracyclines" holds doxorubicin and
    epirubicin), not by the drug's own name: what the cards say the record lists."""
    words = _words(concept)
    by_name = {drug for drug, names in _DRUG_NAMES.items() if any(n in words for n in names)}
    return tuple((name, drug) for name, drugs in CLASS_DRUGS.items() if name in words
                 for drug in drugs if drug not in by_name)


_SEPARATOR: Final = r"[\s\-]*"


def _names_pattern(names: Iterable[str]) -> str:
    """One pattern matching any of ``names``, longest first, each name's hyphens and
    blanks matching a hyphen, blanks or nothing ("co-amoxiclav", "co amoxiclav"). The
    names share their prefixes (a trie), so that a long text is read in one pass."""
    root: dict[str, Any] = {}
    for name in names:
        node = root
        for i, part in enumerate(re.split(r"[\s\-]+", name.strip())):
            for atom in ([_SEPARATOR] if i else []) + [re.escape(ch) for ch in part]:
                node = node.setdefault(atom, {})
        node[""] = {}  # a name ends here

    def render(node: dict[str, Any]) -> str:
        alternatives = [atom + render(child) for atom, child in node.items() if atom]
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else (
            "(?:" + "|".join(alternatives) + ")")
        return f"(?:{body})?" if "" in node else body
    return render(root)


def _with_plurals(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` and the plural of each ending in a consonant and ``y`` ("strawberry",
    "strawberries"): the patterns take every other plural as the name and ``s`` or
    ``es``."""
    names = tuple(names)
    return names + tuple(f"{n[:-1]}ies" for n in names
                         if len(n) > 2 and n.endswith("y") and n[-2] not in "aeiou")


#: The substances that are no anticancer drug, with their plurals.
_NOT_ANTICANCER_NAMES: Final = _with_plurals(c.NOT_ANTICANCER_NAMES)
_NOT_ANTICANCER: Final = re.compile(
    r"(?<![a-z0-9])(?:" + _names_pattern(_NOT_ANTICANCER_NAMES) + r")(?:e?s)?(?![a-z0-9])")


#: The drugs among them (no food, animal, environment or material: those say how a drug is
#: taken or packed, never which drug a medication is: :data:`pecoma.fhir.codes.
#: ALLERGEN_NAMES`).
_NOT_ANTICANCER_DRUG: Final = re.compile(
    r"(?<![a-z0-9])(?:" + _names_pattern(_with_plurals(c.NOT_ANTICANCER_DRUG_NAMES))
    + r")(?:e?s)?(?![a-z0-9])")


def not_anticancer_named(concept: Mapping[str, Any]) -> str | None:
    """The substance a concept names that is no anticancer drug and holds none
    (:data:`pecoma.fhir.codes.NOT_ANTICANCER_NAMES`, or an RxNorm code of
    :data:`RXNORM_OTHER_NAMES`), or ``None``: "Penicillin G" names penicillin; "Allergy
    to drug" names nothing."""
    found = _NOT_ANTICANCER.search(_words(concept))
    return found.group(0) if found else None


#: The classes of :data:`CLASS_DRUGS` an entry naming is identified by: the
#: anthracyclines. Those it holds beyond doxorubicin and epirubicin (daunorubicin,
#: idarubicin, valrubicin) are no drug pecoma proposes or files under an agent, and none
#: is an mTOR inhibitor (a draft of one is not identified, its name ending in -rubicin,
#: and gets the "drug not identified" warning); an entry naming the class rules out
#: doxorubicin, epirubicin and the regimens holding them, and leaves nothing that may be
#: another drug of pecoma's advice.
CLASSES_IDENTIFIED: Final = ("anthracycline", "anthracycline antibiotic",
                              *c.ALKYLATING_CLASS_WORDS, *c.ANTINEOPLASTIC_CLASS_WORDS)

#: The alkylating agents and the antineoplastic agents (:func:`drug_classes`) are
#: identified too: an entry naming one, in words or by an ATC group, rules out every drug
#: pecoma knows in it, and clears the drugs that are none (doxorubicin is no alkylating
#: agent).
#: Every name pecoma reads a substance by, and the words that name none.
_READ_NAMES: Final = frozenset(
    {n for _agent, names in c.AGENT_NAMES for n in names} | set(c.MTOR_CLASS_WORDS)
    | {"mtor inhibitor"} | set(_NOT_ANTICANCER_NAMES) | set(c.ALLERGY_FILLER_WORDS)
    | set(CLASSES_IDENTIFIED))
#: Each name at each place it starts, overlaps included ("iodinated contrast" and
#: "contrast media" in "iodinated contrast media").
_READ: Final = re.compile(r"(?<!\w)(?=((?:" + _names_pattern(_READ_NAMES)
                          + r")(?:e?s)?(?!\w)))")


def unread_words(concept: Mapping[str, Any]) -> tuple[str, ...]:
    """What a concept names that pecoma cannot identify: the words of its text and
    displays left once the names it reads are taken out (the agents, the mTOR-inhibitor
    class, :data:`pecoma.fhir.codes.NOT_ANTICANCER_NAMES`) with the words that name no
    substance (:data:`pecoma.fhir.codes.ALLERGY_FILLER_WORDS`, numbers, single letters).
    A concept with no name but a code pecoma does not know gives that code. Empty when
    everything it names is identified, or when it names nothing at all; at most the
    first five words otherwise.

    "Penicillin G benzathine" and "Sulfamethoxazole/Trimethoprim" leave nothing;
    "Penicillin; tacrolimus" leaves ``tacrolimus``, "Non-penicillin antibiotic" leaves
    ``non`` and ``antibiotic``; "Sirоlimus" with a Cyrillic о leaves ``sir\u043elimus``,
    its odd letter escaped (:func:`pecoma.text.odd_letters_shown`)."""
    words = _words(concept)
    # an ATC group pecoma does not resolve in full, or an L01 code it does not list, is
    # not identified whatever name it reads beside it (unknown is not absent)
    groups = atc_not_identified(concept)
    if not names_something(words):
        if _project_agent(concept) is not None or drug_classes(concept):
            return groups
        return tuple(f"{cd.get('system')}|{cd.get('code')}" for cd in _list(concept.get("coding"))
                     if isinstance(cd, dict) and cd.get("code") is not None)
    rest = (w.group(0) for w in re.finditer(r"\w+", _gaps(words)))
    unread = (w for w in rest if not (w.isascii() and (w.isdigit() or len(w) == 1)))
    # a word with a letter other than a to z is given with that letter escaped
    # ('sir\u043elimus'): as it looks, it would read as the name it imitates
    return (*groups, *(odd_letters_shown(w)[0]
                       for w in itertools.islice(unread, _UNREAD_SHOWN - len(groups))))


def _gaps(words: str) -> str:
    """The text of ``words`` (:func:`_words`) outside every name pecoma reads a substance
    by, and outside the words that name none (:data:`_READ`)."""
    gaps, done = [], 0
    for found in _READ.finditer(words):
        start, end = found.span(1)
        if start > done:
            gaps.append(words[done:start])
        done = max(done, end)
    gaps.append(words[done:])
    return " ".join(gaps)


#: At most so many words not identified are given (the first ones): enough to say what.
_UNREAD_SHOWN: Final = 5


@dataclass(frozen=True, slots=True)
class DrugClass:
    """A class of drugs an allergy entry names, in words or by an ATC group
    (:func:`drug_classes`): each drug pecoma knows in it is ruled out, as an entry naming
    it one by one would rule it out."""

    #: How a card names it: "antineoplastic agents", "alkylating agents",
    #: "cytotoxic antibiotics and related substances (ATC L01D)".
    name: str
    #: The names of the drugs pecoma knows in it, each read as an entry naming it.
    members: tuple[str, ...]
    #: It holds every mTOR inhibitor (those pecoma has no agent for too).
    mtor: bool = False
    #: Drugs some allergy lists count in it that it does not hold by its definition: not
    #: ruled out, and a draft of one could not be checked against the entry (asked).
    unsure: tuple[str, ...] = ()
    #: Whether pecoma knows every drug in it it may propose or name; an ATC group or code
    #: it cannot resolve in full leaves the entry not identified (unknown is not absent).
    resolved: bool = True


#: The agents of the case format by the names their drugs are read by.
_AGENT_DRUGS: Final = ("sirolimus", "nab-sirolimus", "everolimus", "temsirolimus",
                       "doxorubicin", "epirubicin", "ifosfamide", "gemcitabine", "docetaxel",
                       "dacarbazine", "trabectedin", "pazopanib")
#: Every antineoplastic agent pecoma knows (ATC L01): the agents of the case format and
#: every drug of :data:`DRUG_NAMES` but the interferons, which are immunostimulants (ATC
#: L03AB05 interferon alfa-2b; the peginterferons L03AB), not antineoplastic agents.
ANTINEOPLASTIC_CLASS: Final = DrugClass(
    name="antineoplastic agents", mtor=True,
    members=tuple(dict.fromkeys((*_AGENT_DRUGS, *(
        d for d in sorted(DRUG_NAMES) if d not in {"interferon alfa-2b", "peginterferon"})))))
#: The alkylating agents (ATC L01A): ifosfamide, dacarbazine (L01AX04), cyclophosphamide,
#: melphalan, bendamustine, chlorambucil, busulfan, thiotepa, temozolomide; trabectedin
#: (its US label, section 12.1: "an alkylating drug that binds guanine residues in the
#: minor groove of DNA") and lurbinectedin (an alkylating drug like it), mitomycin (an
#: alkylating antibiotic). The platinum compounds (cisplatin, carboplatin, oxaliplatin) are
#: ATC L01XA, not L01A: "alkylating-like" to some lists only, so whether an entry naming
#: the class means them is asked, never assumed either way.
ALKYLATING_CLASS: Final = DrugClass(
    name="alkylating agents",
    members=("ifosfamide", "dacarbazine", "trabectedin", "cyclophosphamide", "melphalan",
             "bendamustine", "chlorambucil", "busulfan", "thiotepa", "temozolomide",
             "lurbinectedin", "mitomycin"),
    unsure=("cisplatin", "carboplatin", "oxaliplatin"))
#: The ATC group of the alkylating agents. Each of its subgroups is read by its hierarchy
#: (:func:`_atc_group`: L01AB holds busulfan, not dacarbazine, L01AX04).
_ATC_ALKYLATING: Final = "L01A"
#: The names of the subgroups of L01A (WHO ATC/DDD Index), for the cards: each holds the
#: drugs of :data:`ATC_NAMES` under it and others pecoma does not list (L01AB treosulfan
#: and mannosulfan beside busulfan), so an entry naming one is not identified beside the
#: drugs it rules out.
_ATC_ALKYLATING_SUBGROUPS: Final[Mapping[str, str]] = {
    "L01AA": "nitrogen mustard analogues",
    "L01AB": "alkyl sulfonates",
    "L01AC": "ethylene imines",
    "L01AD": "nitrosoureas",
    "L01AG": "epoxides",
    "L01AX": "other alkylating agents",
}
#: The oxazaphosphorines, a subgroup of the nitrogen mustards no ATC group names:
#: cyclophosphamide, ifosfamide and trofosfamide, which pecoma does not list.
_OXAZAPHOSPHORINES: Final = DrugClass(
    name="oxazaphosphorines", members=("cyclophosphamide", "ifosfamide"), resolved=False)
#: The words of a class name that name no subclass beside "antineoplastic" (each whole,
#: a plural too): "Antineoplastic agents", "Allergy to antineoplastic drugs".
_NO_SUBCLASS: Final = frozenset(c.ALLERGY_FILLER_WORDS)
#: ATC groups pecoma resolves in full (every drug it knows in each is in
#: :data:`ATC_NAMES` under it; the WHO ATC/DDD Index), with their names: L01D holds
#: dactinomycin (L01DA01), the anthracyclines and mitoxantrone (L01DB), bleomycin,
#: mitomycin and ixabepilone (L01DC); L01E the protein kinase inhibitors, the mTOR kinase
#: inhibitors (L01EG) among them, as L01XE did before 2021; L04AH the mTOR kinase
#: inhibitors among the immunosuppressants (sirolimus, everolimus).
ATC_GROUPS: Final[Mapping[str, str]] = {
    "L01D": "cytotoxic antibiotics and related substances",
    "L01DB": "anthracyclines and related substances",
    "L01E": "protein kinase inhibitors",
    "L01EG": "mTOR kinase inhibitors",
    "L01XE": "protein kinase inhibitors (their group before 2021)",
    "L04AH": "mTOR kinase inhibitors",
}
#: The ATC groups holding the mTOR inhibitors: L01EG, L01XE before 2021, L04AH; and every
#: group above one of them (L01, L01E, L01X, L04, L04A, L).
_MTOR_GROUPS: Final = ("L01EG", "L01XE", "L04AH")
#: So many characters make an ATC code of one substance (L01EG02); fewer, a group.
_ATC_SUBSTANCE: Final = 7


def _atc_group(code: str) -> DrugClass | None:
    """The class an ATC code names when it is a group, or a code under L01 pecoma does
    not list (a drug not identified), or ``None`` (a substance it lists, a code outside
    the groups holding its drugs): its drugs are those of :data:`ATC_NAMES` under it."""
    if code == "L01":
        return ANTINEOPLASTIC_CLASS
    if code == _ATC_ALKYLATING:
        return ALKYLATING_CLASS
    if code.startswith("L01EG") or (len(code) >= _ATC_SUBSTANCE and code in ATC_NAMES):
        return None  # an mTOR inhibitor (the class, read by its name) or a drug listed
    members = tuple(dict.fromkeys(n for k, n in ATC_NAMES.items()
                                  if len(k) >= _ATC_SUBSTANCE and k.startswith(code)))
    if not code.startswith("L01") and not members:
        return None
    mtor = any(g.startswith(code) for g in _MTOR_GROUPS)
    known = ATC_GROUPS.get(code)
    name = known or _ATC_ALKYLATING_SUBGROUPS.get(code)
    return DrugClass(name=f"{name} (ATC {code})" if name else f"ATC {code}",
                     members=members, mtor=mtor, resolved=known is not None)


def _antineoplastic_named(words: str) -> tuple[bool, tuple[str, ...]]:
    """Whether ``words`` name every antineoplastic agent (the word alone or beside words
    naming no substance: :data:`_NO_SUBCLASS`), and the phrases where the word stands
    beside another, naming a subclass ("antineoplastic - alkylating agents",
    "antineoplastic antibiotics", "alkylating antineoplastics"): the subclass is read
    by its own name, never as the whole class."""
    tokens = re.findall(r"[a-z0-9]+", words)
    whole, beside = False, []
    for i, token in enumerate(tokens):
        if not any(token.startswith(w) for w in c.ANTINEOPLASTIC_CLASS_WORDS):
            continue
        around = [t for t in (tokens[i - 1] if i else None,
                              tokens[i + 1] if i + 1 < len(tokens) else None)
                  if t is not None and t not in _NO_SUBCLASS
                  and t.removesuffix("s") not in _NO_SUBCLASS]
        if around:
            beside.append(" ".join(tokens[max(i - 1, 0):i + 2]))
        else:
            whole = True
    return whole, tuple(beside)


def _subgroups_named(words: str) -> list[DrugClass]:
    """The subgroups of the alkylating agents ``words`` name
    (:data:`pecoma.fhir.codes.ALKYLATING_SUBGROUP_WORDS`), each read as its ATC group."""
    out: list[DrugClass] = []
    for name, code in c.ALKYLATING_SUBGROUP_WORDS:
        if name in words:
            group = _atc_group(code) if code is not None else _OXAZAPHOSPHORINES
            out += [group] if group is not None else []
    return out


def drug_classes(concept: Mapping[str, Any]) -> tuple[DrugClass, ...]:
    """The classes of drugs an allergy entry's concept names: the antineoplastic agents
    (:data:`pecoma.fhir.codes.ANTINEOPLASTIC_CLASS_WORDS`, ATC L01), the alkylating
    agents (:data:`pecoma.fhir.codes.ALKYLATING_CLASS_WORDS`, ATC L01A and its
    subgroups), and each ATC group by its hierarchy: a group holds every drug of
    :data:`ATC_NAMES` whose code starts with it (L01DB holds doxorubicin L01DB01). A group
    pecoma does not resolve in full (L01X, L04AA, L), or a code under L01 it does not
    list, is a class not resolved: its drugs pecoma knows are ruled out, and the entry is
    not identified (:func:`atc_not_identified`)."""
    words = _words(concept)
    out: list[DrugClass] = []
    if _antineoplastic_named(words)[0]:
        out.append(ANTINEOPLASTIC_CLASS)
    if any(w in words for w in c.ALKYLATING_CLASS_WORDS):
        out.append(ALKYLATING_CLASS)
    out += _subgroups_named(words)
    codes = _atc_codes(concept)
    if _immunosuppressants_named(concept, words):
        codes.append(_ATC_IMMUNOSUPPRESSANTS)  # read as the ATC group it is
    out += [k for code in codes if (k := _atc_group(code)) is not None]
    return tuple(dict.fromkeys(out))


#: The immunosuppressants (ATC L04A), which hold sirolimus (L04AA10) and everolimus
#: (L04AA18): an entry naming the class in words ("Immunosuppressants", "Immunosuppressive
#: agents") or coded SNOMED CT 372823004 (Immunosuppressant (substance)) is read as that
#: ATC group, as one coded L04A is.
_ATC_IMMUNOSUPPRESSANTS: Final = "L04A"
_IMMUNOSUPPRESSANT_WORDS: Final = ("immunosuppressant", "immunosuppressive agent",
                                   "immunosuppressive drug", "immunosuppressive medication")
_SNOMED_IMMUNOSUPPRESSANT: Final = "372823004"


def _immunosuppressants_named(concept: Mapping[str, Any], words: str) -> bool:
    return any(w in words for w in _IMMUNOSUPPRESSANT_WORDS) or any(
        isinstance(cd, dict) and cd.get("system") == c.SNOMED
        and cd.get("code") == _SNOMED_IMMUNOSUPPRESSANT
        for cd in _list(concept.get("coding")))


#: The words of :data:`pecoma.fhir.codes.MTOR_CLASS_WORDS` naming the class itself (the
#: others name one drug of it).
_MTOR_CLASS_ITSELF: Final = ("mtor", "rapalog")


def classes_said(concept: Mapping[str, Any]) -> tuple[str, ...]:
    """The classes of drugs a concept names (:func:`drug_classes`, the classes of
    :data:`CLASS_DRUGS`, the mTOR inhibitors by the class's own words), as the cards name
    them: what an allergy entry's words ("Patient currently on antineoplastic therapy")
    may name beside a substance they are not."""
    words = _words(concept)
    # "antineoplastic" beside other words ("on antineoplastic therapy") names no class an
    # entry's substance is read as (:func:`_antineoplastic_named`), but words about the
    # entry that mention it may still concern those drugs: said, asked
    whole, beside = _antineoplastic_named(words)
    return tuple(dict.fromkeys((
        *(k.name for k in drug_classes(concept)),
        *((ANTINEOPLASTIC_CLASS.name,) if whole or beside else ()),
        *(f"{name}s" for name in CLASS_DRUGS if name in words),
        *(("mTOR inhibitors",) if any(w in words for w in _MTOR_CLASS_ITSELF) else ()))))


def _atc_codes(concept: Mapping[str, Any]) -> list[str]:
    return [cd["code"].strip().upper() for cd in _list(concept.get("coding"))
            if isinstance(cd, dict) and cd.get("system") == ATC
            and isinstance(cd.get("code"), str) and cd["code"].strip()]


def atc_not_identified(concept: Mapping[str, Any]) -> tuple[str, ...]:
    """What a concept names as a class pecoma does not resolve in full: its ATC codes of
    such a class, or of a drug under L01 pecoma does not list (:func:`drug_classes`), as
    ``system|code``; the name of a subgroup of the alkylating agents holding drugs it
    does not list ("nitrogen mustard", unless coded so too); and "antineoplastic" beside
    a subclass named by no class pecoma reads ("antineoplastic antibiotics")."""
    codes = [(code, k) for code in _atc_codes(concept)
             if (k := _atc_group(code)) is not None]
    words = _words(concept)
    # every subgroup holds drugs pecoma does not list (trofosfamide, chlormethine)
    subgroups = [name for name, code in c.ALKYLATING_SUBGROUP_WORDS
                 if name in words and code not in {code for code, _k in codes}]
    subclass = (bool(codes) or any(w in words for w in c.ALKYLATING_CLASS_WORDS)
                or any(name in words for name, _code in c.ALKYLATING_SUBGROUP_WORDS)
                or any(name in words for name in CLASS_DRUGS))
    return (*(f"{ATC}|{code}" for code, k in codes if not k.resolved), *subgroups,
            *(() if subclass else _antineoplastic_named(words)[1]))


def alkylating_named(concept: Mapping[str, Any]) -> bool:
    """Whether a concept names the alkylating agents (:data:`ALKYLATING_CLASS`)."""
    return ALKYLATING_CLASS in drug_classes(concept)


def mtor_group_coded(concept: Mapping[str, Any]) -> bool:
    """Whether a concept is coded with an ATC group that holds the mTOR inhibitors
    (L01EG, L01XE before 2021, L04AH, and every group above one of them)."""
    return any(k.mtor for code in _atc_codes(concept)
               if (k := _atc_group(code)) is not None)


def allergy_substances(allergy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The concepts an AllergyIntolerance names its substance by: its code, then each
    reaction's substance (a code such as 'Allergy to drug' leaves the drug to it)."""
    out = [allergy.get("code")]
    out += [reaction.get("substance") for reaction in _list(allergy.get("reaction"))
            if isinstance(reaction, dict)]
    return [concept for concept in out if isinstance(concept, dict)]


def allergy_narratives(allergy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The words an AllergyIntolerance adds in prose, each as a concept with that text:
    each reaction's ``description`` ("Sirolimus: pneumonitis") and each ``note``'s text
    ("except sirolimus"). They are read as the code's text is: a drug named there is
    named by the entry, and a word pecoma cannot identify leaves it not identified."""
    said = [reaction.get("description") for reaction in _list(allergy.get("reaction"))
            if isinstance(reaction, dict)]
    said += [note.get("text") if isinstance(note, dict) else note
             for note in _loose(allergy.get("note"))]
    return [{"text": text} for text in said if isinstance(text, str)]


def allergy_manifestations(allergy: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The manifestations of an AllergyIntolerance's reactions (what the reaction was:
    "urticaria", "pneumonitis after sirolimus"). A drug named there is named by the entry;
    the other words are symptoms, not substances, and leave nothing unidentified."""
    return [concept if isinstance(concept, dict) else {"text": concept}
            for reaction in _list(allergy.get("reaction")) if isinstance(reaction, dict)
            for concept in _loose(reaction.get("manifestation"))
            if isinstance(concept, dict | str)]


def _loose(value: Any) -> list[Any]:
    """The items of a list element, read as far as it holds words when it is malformed (one
    item given alone, a text where a structure belongs): what an allergy entry says in
    words adds the drugs pecoma knows there, and a malformed note or manifestation
    (noted by the reader) must not hide a drug it names."""
    return value if isinstance(value, list) else [] if value is None else [value]


def names_something(words: str) -> bool:
    """Whether a text names anything (a letter or a digit; blanks and dashes do not)."""
    return any(ch.isalnum() for ch in words)


#: SNOMED CT codes an AllergyIntolerance records that the patient has no known allergy
#: by (US Core's way to say none): 716186003 No known allergy, 409137002 No known drug
#: allergy, 428607008 No known environmental allergy, 429625007 No known food allergy.
NO_KNOWN_ALLERGY: Final = frozenset({"716186003", "409137002", "428607008", "429625007"})


#: How a text records that there is no known allergy, each whole (after lower case, dots
#: and brackets dropped, blanks collapsed): the phrase, its abbreviation, or both.
_NO_KNOWN: Final = (("no known allergies", "nka"), ("no known allergy", "nka"),
                    ("no known drug allergies", "nkda"), ("no known drug allergy", "nkda"),
                    ("no known medication allergies", "nkma"),
                    ("no known medication allergy", "nkma"),
                    ("no known food allergies", "nkfa"), ("no known food allergy", "nkfa"),
                    ("no known environmental allergies", ""),
                    ("no known environmental allergy", ""))
NO_KNOWN_ALLERGY_TEXTS: Final = frozenset(
    {p for p, _a in _NO_KNOWN} | {a for _p, a in _NO_KNOWN if a}
    | {f"{p} {a}" for p, a in _NO_KNOWN if a})
#: The words a text may hold beside a SNOMED CT no-known-allergy code, with the words
#: that name no substance: "No known allergy (situation)", "NKDA".
_NO_KNOWN_WORDS: Final = re.compile(
    r"(?<!\w)(?:" + _names_pattern({"no", "known", "none", "environmental", "nka", "nkda",
                                     "nkma", "nkfa", *c.ALLERGY_FILLER_WORDS})
    + r")(?:e?s)?(?!\w)")


def _says_no_known_allergy(text: str, coded: bool) -> bool:
    plain = " ".join(re.sub(r"[.()\[\]]", " ", folded(text).replace(".", "")).split())
    if plain in NO_KNOWN_ALLERGY_TEXTS:
        return True
    return coded and not re.findall(r"\w+", _NO_KNOWN_WORDS.sub(" ", plain))


def names_a_known_drug(concept: Mapping[str, Any]) -> bool:
    """Whether a concept names a drug pecoma knows: an agent of the case format (the
    catch-all ones by the drug named), a drug one of them holds, a drug of
    :data:`DRUG_NAMES`, the mTOR-inhibitor class or an ATC group holding it, or a
    substance near an mTOR inhibitor (:data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`)."""
    return bool(agents_named(concept) or ingredients_named(concept) or drugs_named(concept)
                or mtor_class_named(concept) or mtor_group_coded(concept)
                or never_cleared_named(concept) is not None)


def _no_known_allergy_code(coding: Mapping[str, Any]) -> bool:
    """Whether ``coding`` is a SNOMED CT no-known-allergy code (a code that is no string,
    a list say, is none)."""
    code = coding.get("code")
    return (coding.get("system") == c.SNOMED and isinstance(code, str)
            and code in NO_KNOWN_ALLERGY)


def code_records_no_allergy(code: Any) -> bool:
    """Whether an AllergyIntolerance's ``code`` says no allergy is known, and no more:
    one of :data:`NO_KNOWN_ALLERGY` (SNOMED CT), its text and displays then saying no
    more ("No known allergy (situation)"), or its text and every display one of
    :data:`NO_KNOWN_ALLERGY_TEXTS` exactly ("NKDA", "No known drug allergies"); a coding
    with no display must be a SNOMED CT no-known-allergy code. "NKDA except sirolimus"
    says more."""
    if not isinstance(code, dict):
        return False
    codings = [cd for cd in _list(code.get("coding")) if isinstance(cd, dict)]
    coded = any(_no_known_allergy_code(cd) for cd in codings)
    texts = [t for t in [code.get("text"), *(cd.get("display") for cd in codings)]
             if isinstance(t, str) and names_something(t)]
    if not coded and not texts:
        return False
    if any(not isinstance(cd.get("display"), str) and cd.get("code") is not None
           and not _no_known_allergy_code(cd) for cd in codings):
        return False
    return all(_says_no_known_allergy(t, coded) for t in texts)


#: Words of an entry's prose saying that what follows, in the same clause, is a substance
#: the patient reacts to: an exception ("NKDA except for Zortrex", "other than XY-123") or
#: an allergy stated ("allergic to Zortrex", "reacted to XY-123").
_EXCEPTION: Final = re.compile(
    r"(?<!\w)(?:except(?:\s+for)?|with\s+the\s+exception\s+of|other\s+than|apart\s+from|"
    r"aside\s+from|excluding|besides)(?!\w)")
_STATED: Final = re.compile(
    r"(?<!\w)(?:allergic|allerg(?:y|ies)|intoleran(?:t|ce)|hypersensitiv(?:e|ity)|"
    r"sensitive|reactions?|reacted)\s+(?:to|of)(?!\w)")
#: Words that turn an allergy stated around when they stand before it in its clause
#: ("denies allergy to any drug", "no reaction to contrast").
_DENYING: Final = frozenset({"no", "not", "denies", "denied", "deny", "nil", "none",
                             "without", "never", "negative"})
#: Words naming no substance in what follows an exception or an allergy stated ("except
#: for", "any"), and the words of when and how it was found ("since childhood", "as a
#: child", "after eating", "on contact"): none is a drug's name, and a word beside them
#: that pecoma cannot identify is still said.
_FUNCTION_WORDS: Final = frozenset({
    "for", "the", "a", "an", "as", "any", "all", "some", "in", "on", "at", "by", "his",
    "her", "their", "its", "from", "after", "when", "since", "childhood", "child", "ago",
    "year", "years", "yrs", "age", "old", "was", "is", "were", "only", "also", "very",
    "slightly", "previously", "prior", "past", "once", "lifelong", "known", "eating",
    "contact", "exposure", "touching", "bites", "stings", "pt", "patient", "reports",
    "states", "reviewed", "confirmed", "verified", "documented", "updated", "pharmacist",
    "but", *_DENYING})


def substances_said(text: str) -> tuple[str, ...]:
    """What a text names as a substance the patient reacts to that pecoma cannot identify:
    the words following an exception ("except for Zortrex") or an allergy stated
    ("allergic to XY-123") up to the end of its statement (``.``, ``;``, a bracket or a
    line's end: a list such as "dogs, cats, Zortrex" is read whole) that name no
    substance pecoma reads (:func:`unread_words`: a drug it
    knows, or one that is no anticancer drug, "dogs", "seafood", "adhesive tape", are read
    by name), nor when or how it was found ("since childhood"). Each word is judged: "dogs
    and Zortrex" names ``zortrex``, "penicillin and XY-123" ``xy``. An allergy stated that
    a word before it in its clause turns around ("denies allergy to any drug", "no
    reaction to contrast", a denial in its clause: up to a comma too) names nothing;
    words that only word the entry ("except as
    above" names ``above``: whatever it is, it is not "none") do. At most five words."""
    lowered = folded(text)
    out: list[str] = []
    for pattern in (_EXCEPTION, _STATED):
        for found in pattern.finditer(lowered):
            before = re.split(r"[.;,()\n]", lowered[:found.start()])[-1]
            if pattern is _STATED and _DENYING.intersection(re.findall(r"\w+", before)):
                continue
            what = {"text": re.split(r"[.;()\n]", lowered[found.end():])[0]}
            out += [w for w in unread_words(what) if w not in _FUNCTION_WORDS]
    return tuple(dict.fromkeys(out))[:_UNREAD_SHOWN]


#: The fewest letters a word must have to be read as the beginning of a drug's name
#: (:func:`truncated_names`): "EVEROL" is, "EVE" is not.
_TRUNCATED_MIN: Final = 5

_LETTERS: Final = re.compile(r"[a-z]+")

#: The words a catalogue writes beside a drug's name cut short that say how much, in what
#: form, how and how often, never what (:func:`truncated_names`): units, dose forms,
#: routes, salts and frequencies, in English and, folded, as French and German catalogues
#: abbreviate them ("cpr", "comprime", "gelule", "amp", "lsg"). Single letters and
#: numbers are such words too.
_DOSE_WORDS: Final = frozenset({
    # units and strengths
    "mg", "mcg", "ug", "g", "gm", "gram", "grams", "ml", "iu", "unit", "units", "mmol",
    "micrograms", "microgram", "milligram", "milligrams", "per", "dose", "doses",
    # dose forms and packs
    "tab", "tabs", "tablet", "tablets", "cap", "caps", "capsule", "capsules", "inj",
    "injection", "injectable", "sol", "soln", "solution", "susp", "suspension", "oral",
    "infusion", "inf", "vial", "vials", "amp", "ampoule", "ampule", "syringe", "bag",
    "powder", "pwd", "conc", "concentrate", "for", "film", "coated", "fc", "dispersible",
    "disp", "er", "sr", "xr", "pack", "box", "liquid", "syrup", "drops", "cpr",
    "comprime", "comprimes", "gelule", "gelules", "flacon", "lsg", "loesung", "losung",
    "tbl", "tabl", "filmtabl", "kps", "pulver", "lyo", "lyophilisate",
    # how a dose form releases the drug
    "extended", "delayed", "modified", "prolonged", "controlled", "immediate", "release",
    "enteric", "chewable", "effervescent", "orodispersible",
    # routes and how often
    "po", "iv", "ivpb", "im", "sc", "sq", "subcut", "intravenous", "by", "mouth",
    "daily", "once", "twice", "weekly", "day", "days", "week", "cycle", "bid", "tid",
    "qid", "qd", "od", "bd", "hs", "prn", "stat",
    # salts
    "hcl", "hydrochloride", "sodium", "sulfate", "sulphate", "citrate", "phosphate",
})


def _word_readings() -> dict[str, tuple[Agent, frozenset[str]] | None]:
    """Each word pecoma knows in a drug's or a substance's name (:data:`_READ_NAMES`,
    :data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`, :data:`CLASS_DRUGS`, the words that
    word an allergy or an order) and what it reads as: a one-word name of an agent, the
    agent and the drugs a draft naming it is checked by (as :func:`agent_of_concept` and
    :func:`drugs_named` read it); any other word, ``None``."""
    out: dict[str, tuple[Agent, frozenset[str]] | None] = {}
    for name in (*_READ_NAMES, *c.NEVER_CLEARED_NAMES, *CLASS_DRUGS, *_FUNCTION_WORDS):
        for word in _LETTERS.findall(name):
            out.setdefault(word, None)
    for _agent, names in c.AGENT_NAMES:
        for name in names:
            agent = agent_of_concept({"text": name})
            if _LETTERS.fullmatch(name) and agent is not None:
                out[name] = (agent, drugs_named({"text": name}))
    return out


_WORD_READINGS: Final = _word_readings()


def truncated_names(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                    ) -> tuple[tuple[str, Agent, frozenset[str]], ...]:
    """The drugs a medication (a draft order) may name by the beginning of their name
    only, as a catalogue cuts a name ("EVEROL 10 MG TAB"): ``(word, agent, drugs)`` for
    each word of its names (:func:`folded`) of :data:`_TRUNCATED_MIN` letters or more
    that is no word pecoma knows and is the beginning of the names of one drug only
    (every name beginning so reads as the same agent and drugs: "RAPAM", rapamycin and
    Rapamune, is sirolimus) and of no other word pecoma knows. "CARBO" alone is
    carboplatin; "PARACET" (paracetamol, no anticancer drug) is no such word, nor is
    "FLUORO" (fluorouracil and the fluoroquinolones) or "DOX" (too short). A medication
    that names an agent (:func:`agent_of`) has none: it is read as that agent. The
    reading is cautious, not an identification: a word may be a drug pecoma does not
    know that begins alike. So the word must be the whole of the product's name, every
    other word of its names being a number, a single letter or a word of how much, in
    what form, how or how often (:data:`_DOSE_WORDS`: "EVEROL 10 MG TAB", "RAPAM 1 MG",
    "PACLI", "METHOTREX"): a word beside it that names something else makes it another
    product whose name begins alike ("CARBO MEDICINALIS 250 MG TAB", activated charcoal;
    "CYCLO 3 FORT GELULE"; "CYCLO-PROGYNOVA 2 MG")."""
    if agent_of(resource, resolve) is not None:
        return ()
    words = " ".join(_words(cc) for cc in _concepts(resource, resolve))
    out: dict[tuple[Agent, frozenset[str]], str] = {}
    every = _LETTERS.findall(words)
    for word in every:
        if len(word) < _TRUNCATED_MIN or word in _WORD_READINGS:
            continue
        if any(w != word and len(w) > 1 and w not in _DOSE_WORDS for w in every):
            continue  # a name of its own beside the word: another product
        readings = {r for known, r in _WORD_READINGS.items() if known.startswith(word)}
        if len(readings) == 1 and (one := readings.pop()) is not None:
            out.setdefault(one, word)
    return tuple((word, agent, drugs) for (agent, drugs), word in out.items())


def records_no_allergy(allergy: Mapping[str, Any]) -> bool:
    """Whether an AllergyIntolerance records no known allergy, and nothing else: no
    allergy to anything, not one whose drug is unknown.

    Its code records none (:func:`code_records_no_allergy`), no reaction names a
    substance, and no reaction's description, manifestation or note names a drug pecoma
    knows (:func:`names_a_known_drug`). Narrative words that name no drug pecoma knows
    ("patient reports hives as a child", "Confirmed with patient 2025-03-01", "reviewed
    by pharmacist") say nothing of the substance: the entry still records none. "NKDA
    except sirolimus", "No known drug allergy" with sirolimus (or a drug pecoma does not
    know) as the reaction's substance, a reaction described "Sirolimus: pneumonitis", a
    note "except sirolimus", or a note naming a substance pecoma cannot identify as an
    exception or an allergy stated ("except for Zortrex": :func:`substances_said`)
    records an allergy."""
    if any(_words(concept) or _list(concept.get("coding"))
           for concept in allergy_substances(allergy)[1:]):
        return False
    if any(names_a_known_drug(concept) for concept in [*allergy_narratives(allergy),
                                                       *allergy_manifestations(allergy)]):
        return False
    if any(substances_said(str(said["text"])) for said in allergy_narratives(allergy)):
        return False  # "NKDA except for Zortrex": the entry contradicts itself
    return code_records_no_allergy(allergy.get("code"))


#: AllergyIntolerance categories of substances that may be drugs (R4
#: allergy-intolerance-category): a biologic (albumin, a vaccine, an antibody) is given
#: as a medication is.
_DRUG_CATEGORIES: Final = frozenset({"medication", "biologic"})


def allergy_may_be_to_a_drug(allergy: Mapping[str, Any]) -> bool:
    """Whether an AllergyIntolerance may be to a drug: category ``medication`` or
    ``biologic``, or no usable category (absent, empty, or no category code given as
    text)."""
    category = allergy.get("category")
    codes = ({c.strip().lower() for c in category if isinstance(c, str) and c.strip()}
             if isinstance(category, list) else set())
    return not codes or bool(codes & _DRUG_CATEGORIES)


_NEVER_CLEARED: Final = re.compile(
    r"(?<!\w)(?:" + _names_pattern(c.NEVER_CLEARED_NAMES) + r")(?:e?s)?(?!\w)")


def never_cleared_named(concept: Mapping[str, Any]) -> str | None:
    """The substance near an mTOR inhibitor a concept names
    (:data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`), or ``None``."""
    found = _NEVER_CLEARED.search(_words(concept))
    return found.group(0) if found else None


# ----------------------------------------------------- a drug named but not identified


#: A number, or a number with a letter before it or a unit after it: "10", "0", "m2" (of
#: mg/m2), "10mg", "q21d", "d8". Such a word names no drug.
_NUMBER_WORD: Final = re.compile(r"[a-z]?[0-9]+[a-z]{0,3}")
_FILLER: Final = frozenset(c.ALLERGY_FILLER_WORDS)
#: A word written as an investigational product's code is (a development code, as trial
#: and early-access records name a drug): two to six letters, a hyphen or none, three to
#: eight digits, a letter perhaps: RAD001, CCI-779, ABI-009, MK-2206, AZD2014. The letters
#: are no unit or dose word, nor the prefix of a catalogue's or a batch's number (NDC,
#: lot, ref). A code written with a blank between its letters and its digits ("TAK 228",
#: "AZD 2014", as pecoma's own lists write "CCI 779" and "RAD 001") is one word here
#: (:data:`_SPACED_CODE`).
_PRODUCT_CODE: Final = re.compile(r"([a-z]{2,6})(?:-| )?[0-9]{3,8}[a-z]?")
_NOT_PRODUCT_CODES: Final = frozenset({"ndc", "lot", "ref", "rx", "no", "nr", "id", "din",
                                       "pzn", "cip", "ean", "sku", "batch", "item", "code"})
#: Words after a number that make it a strength, a volume or a duration, not a code's
#: digits ("Advil 200 mg", "Zortrex 500 ml", "over 120 minutes").
_AMOUNT_AFTER: Final = (r"(?:mg|mcg|µg|ug|g|gm|grams?|kg|ml|l|iu|units?|mmol|meq|"
                        r"micrograms?|milligrams?|%|h|hrs?|hours?|min|mins|minutes?|days?|"
                        r"weeks?)(?![a-z])")
#: A development code written with blanks between its letters and its digits: two to six
#: capital letters as written (a brand written in small letters beside its strength,
#: "Advil 200", is not read so), blanks, three to eight digits and a letter perhaps, no
#: unit or duration after them ("ADVIL 200 MG" is a strength). Single letters and one or
#: two digits are never one ("Vitamin D 1000", "Q 12 H"), nor letters that are a dose,
#: unit or catalogue word (:data:`_NOT_PRODUCT_CODES`, :data:`_DOSE_WORDS`).
_SPACED_CODE: Final = re.compile(
    r"(?<![A-Za-z0-9])([A-Z]{2,6})[ \t]+([0-9]{3,8}[A-Za-z]?)(?![A-Za-z0-9])"
    r"(?!(?i:[ \t]*" + _AMOUNT_AFTER + r"))")
#: The endings of the international nonproprietary names (INN) of anticancer drugs, from
#: the WHO's stems (The use of stems in the selection of International Nonproprietary
#: Names (INN) for pharmaceutical substances, WHO INN Programme): -rubicin (antineoplastic
#: antibiotics, daunorubicin group), -platin (platinum derivatives), -taxel (taxane
#: derivatives), -tinib and -nib (kinase inhibitors: -tinib, -rafenib, -anib), -ciclib
#: (cyclin-dependent kinase inhibitors), -parib (PARP inhibitors), -lisib (PI3K
#: inhibitors), -degib (SMO antagonists), -zomib (proteasome inhibitors), -fosfamide and
#: -mustine (alkylating agents), -trexate and -trexed (folic acid analogues), -citabine
#: (cytarabine and azacitidine derivatives), -uracil, -tecan (topoisomerase I
#: inhibitors), -poside (podophyllotoxin derivatives), -mab (monoclonal antibodies),
#: -sertib (serine/threonine kinase inhibitors: the mTOR kinase inhibitors sapanisertib,
#: vistusertib and onatasertib, ipatasertib, capivasertib), -arabine (arabinofuranosyl
#: derivatives: cytarabine, fludarabine, nelarabine, clofarabine), -antrone
#: (anthraquinone derivatives: mitoxantrone, pixantrone), -tepa (thiotepa derivatives),
#: -ectedin (ecteinascidin derivatives: trabectedin, lurbinectedin), -nexor (the
#: selective inhibitors of nuclear export: selinexor, eltanexor), and
#: -limus, the ending of the rapamycin derivatives (-rolimus: the mTOR inhibitors) and of
#: the other macrolide immunosuppressants (tacrolimus and pimecrolimus, which pecoma
#: knows: :data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`). Some stems hold drugs of other
#: diseases too (-mab, -nib, -citabine and -arabine antivirals, -uracil thyroid
#: antagonists): those
#: pecoma lists (:data:`pecoma.fhir.codes.NOT_ANTICANCER_NAMES`: adalimumab, tofacitinib,
#: vidarabine, ...) are identified as no anticancer drug; a name pecoma does not know ending so is
#: still read as possibly anticancer, the safer reading. Each ending also as the other
#: European languages write it (-fosfamid, -fosfamida, -mustina, -platino: a vowel added
#: or the final e dropped). Longest first: the one a word is said to end with.
ANTICANCER_STEMS: Final = ("fosfamide", "citabine", "arabine", "antrone", "ectedin",
                           "rubicin", "mustine", "trexate", "trexed", "ciclib", "platin",
                           "uracil", "sertib", "limus", "taxel", "tinib", "parib", "lisib",
                           "degib", "zomib", "tecan", "poside", "nexor", "tepa", "nib",
                           "mab")
_STEMS: Final = tuple((stem, re.compile(
    "[a-z]{3,}" + (stem[:-1] if stem.endswith("e") else stem) + "[aeo]?"))
    for stem in ANTICANCER_STEMS)
#: Words of a name saying it is a drug under trial: whatever it is, it may be an
#: anticancer drug.
_TRIAL_WORDS: Final = re.compile(
    r"investigational|(?:study|trial|protocol) (?:drug|medication|medicine|agent|product)"
    r"|blinded")
#: mCODE's profiles of a medication record given for a cancer: CancerRelatedMedication
#: Request and Administration (``mcode-cancer-related-medication-request``,
#: ``-administration``; STU1's ``-statement``), and any profile so named.
_CANCER_RELATED: Final = re.compile(r"cancer-?related-?medication")


def _names_no_drug(part: str) -> bool:
    """Whether one word (or one part of a hyphenated word) of a medication's name names
    no drug: a number, a single letter, a dose with its unit ("10mg", "m2"), a word of how
    much, in what form, how or how often (:data:`_DOSE_WORDS`: "daily", "film",
    "coated"), or a word that names no substance (``ALLERGY_FILLER_WORDS``)."""
    return (len(part) <= 1 or part in _DOSE_WORDS or part in _FILLER
            or _NUMBER_WORD.fullmatch(part) is not None)


def _unidentified(concepts: Iterable[Mapping[str, Any]]) -> list[str]:
    """The words of ``concepts`` (a medication's names) that name a drug pecoma cannot
    identify, each once, in their order: left once every name pecoma reads a substance
    by (:func:`_gaps`) and the substances near an mTOR inhibitor
    (:data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`) are taken out, but for the words
    that name no drug (:func:`_names_no_drug`)."""
    out: list[str] = []
    for concept in concepts:
        words = _words(concept)
        if not names_something(words):
            continue
        rest = _NEVER_CLEARED.sub(" ", _gaps(words))
        codes = _spaced_codes(concept)
        found = list(re.finditer(r"[^\W_]+(?:-[^\W_]+)*", rest))
        skip = False
        for i, one in enumerate(found):
            if skip:
                skip = False
                continue
            word = one.group(0)
            after = found[i + 1] if i + 1 < len(found) else None
            if (after is not None and (word, after.group(0)) in codes
                    and not rest[one.end():after.start()].strip()):
                out.append(f"{word} {after.group(0)}")  # "tak 228": one code
                skip = True
            elif not all(_names_no_drug(part) for part in word.split("-")):
                out.append(word)
    return list(dict.fromkeys(out))


def _spaced_codes(concept: Mapping[str, Any]) -> frozenset[tuple[str, str]]:
    """The development codes a concept's text and displays write with a blank between
    letters and digits (:data:`_SPACED_CODE`: "TAK 228"), each as its letters and its
    digits in small letters."""
    texts = [concept.get("text"), *(cd.get("display") for cd in _list(concept.get("coding"))
                                    if isinstance(cd, dict))]
    return frozenset(
        (letters, digits) for text in texts if isinstance(text, str)
        for m in _SPACED_CODE.finditer(text)
        if (letters := folded(m.group(1))) not in _NOT_PRODUCT_CODES | _DOSE_WORDS | _FILLER
        and (digits := folded(m.group(2))))


def unidentified_names(resource: Mapping[str, Any],
                       resolve: Resolver = no_resolver) -> tuple[str, ...]:
    """What a medication record (or a draft order) names that pecoma cannot identify, when
    its names identify no drug: the words of its names (its concept, its reference's
    display, a Medication's code and ingredients; :func:`folded`) left once every name
    pecoma reads is taken out (the agents, the mTOR-inhibitor class), with the words that
    name no drug (numbers, single letters, doses and units, the words of how much, in
    what form, how and how often: "10 mg daily", "film-coated tablets", "75 mg/m2").
    "Zortrex 5 mg tablet" gives ``zortrex``, "Vitamin D3 1000 IU" ``vitamin``, "XY-4471"
    ``xy-4471`` (a hyphenated word is one). A name that holds a drug pecoma identifies as no
    anticancer drug (:data:`pecoma.fhir.codes.NOT_ANTICANCER_NAMES`, or
    :data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`: "Ondansetron (chemotherapy-induced
    nausea)", "Tacrolimus 1 mg") is read as that drug, and one of an agent as the agent:
    nothing. At most the first five words."""
    concepts = _concepts(resource, resolve)
    if agent_of(resource, resolve) is not None or _names_a_substance(concepts):
        return ()
    return tuple(_unidentified(concepts))[:_UNREAD_SHOWN]


def _names_a_substance(concepts: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a medication's names name a drug pecoma identifies as no anticancer drug
    (:data:`pecoma.fhir.codes.NOT_ANTICANCER_DRUG_NAMES`,
    :data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`). A food, an animal, something of the
    environment or a material (:data:`pecoma.fhir.codes.ALLERGEN_NAMES`: "take with
    milk", "contains lactose", "with food") identifies an allergy's substance, never a
    medication: it says how the drug is taken, not which drug it is."""
    return any(_NOT_ANTICANCER_DRUG.search(_words(cc)) is not None
               or never_cleared_named(cc) is not None for cc in concepts)


def _profile_mark(resource: Mapping[str, Any]) -> str | None:
    for profile in profiles(resource):
        if _CANCER_RELATED.search(profile.lower()):
            return f"its profile is mCODE's cancer-related medication ({profile})"
    return None


def _reference(value: Any) -> str | None:
    return (unversioned(str(value["reference"])) if isinstance(value, dict)
            and isinstance(value.get("reference"), str) else None)


def _cancer_condition(cond: Mapping[str, Any]) -> bool:
    """Whether a Condition is a cancer's: its code names one (:func:`pecoma.fhir.mcode.
    names_a_cancer`), or its mCODE histology-morphology-behavior extension does, or its
    profile is mCODE's primary or secondary cancer condition."""
    morphology = [e.get("valueCodeableConcept") for e in _list(cond.get("extension"))
                  if isinstance(e, dict) and e.get("url") == c.MCODE_MORPHOLOGY]
    return (any(names_a_cancer(x) for x in [cond.get("code"), *morphology])
            or bool({PRIMARY_PROFILE, SECONDARY_PROFILE} & set(profiles(cond))))


def _reason_mark(resource: Mapping[str, Any], resolve: Resolver) -> str | None:
    """The reason of a medication record, or of the order it carries out (an
    administration's ``request``, a dispense's ``authorizingPrescription``, a statement's
    ``basedOn``, when ``resolve`` finds that MedicationRequest), that names the PEComa, a
    cancer or a neoplasm: a ``reasonCode`` (:func:`pecoma.fhir.mcode.names_a_cancer`), a
    ``reasonReference`` whose display names one or whose Condition is a cancer's
    (:func:`_cancer_condition`); ``None`` when none does."""
    holders = [resource]
    for ref in [resource.get("request"), *_list(resource.get("authorizingPrescription")),
                *_list(resource.get("basedOn"))]:
        where = _reference(ref)
        order = resolve(where) if where is not None else None
        if order is not None and order.get("resourceType") == "MedicationRequest":
            holders.append(order)
    for holder in holders:
        for concept in _list(holder.get("reasonCode")):
            if names_a_cancer(concept):
                return f"its reason names a cancer (reasonCode '{_shown(concept)}')"
        for ref in _list(holder.get("reasonReference")):
            where = _reference(ref)
            found = resolve(where) if where is not None else None
            said = ref.get("display") if isinstance(ref, dict) else None
            if (isinstance(said, str) and names_a_cancer({"text": said})) or (
                    found is not None and found.get("resourceType") == "Condition"
                    and _cancer_condition(found)):
                return f"its reason names a cancer (reasonReference {where or said})"
    return None


def _name_mark(words: list[str]) -> str | None:
    """What, in the words of a medication's name that pecoma cannot identify
    (:func:`_unidentified`), has the form of a drug's name that may be an anticancer
    drug: a word written as an investigational product's code is (:data:`_PRODUCT_CODE`),
    or one ending as the INN of anticancer drugs do (:data:`ANTICANCER_STEMS`)."""
    for word in words:
        code = _PRODUCT_CODE.fullmatch(word)
        if code is not None and code.group(1) not in _NOT_PRODUCT_CODES | _DOSE_WORDS:
            return (f"'{word}' is written as an investigational product's code is (letters, "
                    "then digits)")
    for word in words:
        for stem, pattern in _STEMS:
            if any(pattern.fullmatch(part) for part in word.split("-")):
                return f"'{word}' ends as the names of anticancer drugs do (-{stem})"
    return None


def _treatment_mark(words: list[str]) -> str | None:
    """A word of cancer treatment ("chemotherapy", "antineoplastic": those of a reason,
    :data:`pecoma.fhir.mcode.CANCER_WORDS`) among the words of a medication's name pecoma
    cannot identify (a drug under trial: :func:`_trial_mark`)."""
    said = next((w for w in words if CANCER_WORDS.search(w.replace("-", " "))), None)
    if said is not None:
        return f"its name speaks of cancer treatment ('{said}')"
    return None


#: A regimen word (:data:`_REGIMEN_WORD`) in a medication's names, folded.
_REGIMEN_WORDS: Final = re.compile(r"(?<![a-z0-9])" + _REGIMEN_WORD)
#: Words of a supportive-care purpose or drug that a "course" or "protocol" is often of
#: ("Prednisone 5 day course", "Insulin sliding scale protocol", "Hydration protocol",
#: "Saline flush per protocol", "Pre-chemo hydration"): beside them those words, and
#: "pre-chemo", mark nothing (:func:`_regimen_mark`).
_SUPPORTIVE_CARE: Final = re.compile(
    r"(?<![a-z0-9])(?:hydrations?|hydrate|fluids?|flush(?:es)?|saline|sodium chloride|nacl"
    r"|dextrose|glucose|insulins?|sliding scale|antiemetics?|anti[\s\-]?emetics?"
    r"|steroids?|corticosteroids?|prednis(?:one|olone)|methylprednisolone|dexamethasone"
    r"|hydrocortisone|antibiotics?|antibacterials?|antivirals?|antifungals?|prep"
    r"|bowel prep|premed(?:ication)?s?|taper(?:ing)?"
    r"|potassium|magnesium|electrolytes?|vitamins?|iron|transfusions?|physiotherapy"
    r"|rehabilitation|anticoagula(?:nt|tion)s?)(?![a-z0-9])")
#: "pre-chemo", "prechemo": what is given before chemotherapy, not chemotherapy.
_PRE_CHEMO: Final = re.compile(r"(?<![a-z0-9])pre[\s\-]?chemo[a-z]*(?![a-z0-9])")
#: Words of how a supportive-care course is given that may stand beside it and name no
#: drug ("take with food", "sliding scale").
_SUPPORTIVE_HOW: Final = frozenset({"take", "taken", "give", "given", "start", "stop",
                                    "sliding", "scale", "x"})


def _only_supportive(concepts: Iterable[Mapping[str, Any]]) -> bool:
    """Whether a medication's names reduce to supportive-care words
    (:data:`_SUPPORTIVE_CARE`), regimen words ("course", "protocol", "pre-chemo") and
    words naming no drug (numbers, doses, units, routes, how often: those
    :func:`_unidentified` leaves out): "Hydration protocol", "Prednisone 5 day course",
    "Insulin sliding scale protocol". Any other word pecoma does not identify ("VIDE
    course 3 with hydration", "VAC course (steroid premed)", "EpiDox course with
    dexamethasone", "EURO EWING protocol, premedication") may be an anticancer regimen's
    name: ``False``."""
    text = " ".join(_words(cc) for cc in concepts)
    if _SUPPORTIVE_CARE.search(text) is None:
        return False
    for word in _unidentified(concepts):
        rest = _REGIMEN_WORDS.sub(" ", _PRE_CHEMO.sub(" ", _SUPPORTIVE_CARE.sub(" ", word)))
        if any(w not in _SUPPORTIVE_HOW for w in re.findall(r"[^\W_]+", rest)):
            return False
    return True


def _regimen_mark(concepts: Iterable[Mapping[str, Any]]) -> str | None:
    """A word saying a medication's name is of a regimen, a cycle, a protocol or
    chemotherapy ("regimen", "cycle", "C1D1", "protocol", "chemo") anywhere in its names
    (:func:`_words`; "cycle" is among the words of how often, so the whole name is
    searched): an order set's name for a regimen pecoma cannot identify ("VAC regimen",
    "Cycle 1 Day 1") may be of anticancer drugs. "course" and "protocol" are no such word,
    and "pre-chemo" none, only when the name reduces to supportive care
    (:func:`_only_supportive`: "Prednisone 5 day course", "Hydration protocol", "Pre-chemo
    hydration"); a word left that pecoma does not identify keeps the mark ("VIDE course 3
    with hydration", "VAC protocol with antiemetics"). "chemo" otherwise always is one."""
    text = " ".join(_words(cc) for cc in concepts)
    supportive = _only_supportive(concepts)
    for found in _REGIMEN_WORDS.finditer(text):
        word = found.group(0)
        if supportive and (word.startswith(("course", "protocol"))
                           or (word.startswith("chemo")
                               and _PRE_CHEMO.match(text, max(0, found.start() - 4))
                               is not None)):
            continue
        return f"its name speaks of a regimen or a cycle of treatment ('{word}')"
    return None


def _abbreviation_mark(concepts: Iterable[Mapping[str, Any]]) -> str | None:
    """An abbreviation of a sarcoma regimen or drug in a medication's names that is not
    read as its drugs (:func:`abbreviations_left`: "Dox" alone, doxycycline's short form
    too; "Dox/Ifos" in another drug's name): the name may be of an anticancer drug, and
    pecoma cannot tell which."""
    left = [w for cc in concepts for w in abbreviations_left(cc)]
    if left:
        return (f"'{left[0]}' may stand for a sarcoma regimen or drug (doxorubicin, "
                "ifosfamide, epirubicin) or for another drug, and pecoma cannot tell which")
    return None


#: A dose by body-surface area ("75 mg/m2", "1.2 g/m²", "250 mg per m2", "mg/sqm"): how
#: cytotoxic drugs are dosed.
_BODY_SURFACE_DOSE: Final = re.compile(
    r"(?<![A-Za-z])(?i:mg|mcg|\u00b5g|ug|g|units?|iu)\s*(?:/|per\s+)\s*"
    r"(?i:m\s*(?:2|\u00b2|\^\s*2)|sq\.?\s*m|sqm|square\s+met(?:re|er)s?)(?![A-Za-z0-9])")


def _body_surface_mark(concepts: Iterable[Mapping[str, Any]]) -> str | None:
    """A dose by body-surface area in a medication's names (:data:`_BODY_SURFACE_DOSE`)
    beside a word pecoma cannot identify: how cytotoxic drugs are dosed, so the name may
    be of an anticancer drug ("Dox 75 mg/m2 (doxycycline allergy noted)")."""
    for concept in concepts:
        texts = [concept.get("text"), *(cd.get("display") for cd in _list(concept.get(
            "coding")) if isinstance(cd, dict))]
        for text in texts:
            found = _BODY_SURFACE_DOSE.search(text) if isinstance(text, str) else None
            if found is not None:
                return (f"it is dosed by body-surface area ('{found.group(0)}'), as "
                        "anticancer drugs are")
    return None


def _trial_mark(concepts: Iterable[Mapping[str, Any]]) -> str | None:
    """Words of a drug under trial ("investigational", "study drug", "blinded") in a
    medication's names (:func:`_words`; "drug" is among the words that name no substance,
    so the whole name is searched). They mark the name whatever else it names: the drug
    under trial is none of the drugs named beside it (a comparator, a premedication, a
    diluent, contrast given with it: "Study drug with ondansetron premedication"), unless
    they name one drug that is no anticancer drug and nothing else
    (:func:`_studied_drug`: "Ondansetron (study drug)")."""
    text = " ".join(_words(cc) for cc in concepts).replace("-", " ")
    found = _TRIAL_WORDS.search(text)
    if found is not None and _studied_drug(text) is None:
        return f"its name speaks of a drug under trial ('{found.group(0)}')"
    return None


#: Words that may stand beside the words of a drug under trial and the one drug they
#: name (:func:`_studied_drug`) without naming another: how the trial names its drug.
_STUDY_LABELS: Final = frozenset({"drug", "drugs", "medication", "medications", "medicine",
                                  "medicines", "agent", "agents", "product", "products"})
#: Blanks and hyphens within a name, written as one blank ("co-amoxiclav", "co amoxiclav").
_NOT_ANTICANCER_DRUG_SPACES: Final = re.compile(r"[\s\-]+")


def _studied_drug(text: str) -> str | None:
    """The drug that is no anticancer drug (:data:`pecoma.fhir.codes.
    NOT_ANTICANCER_DRUG_NAMES`) that the words of a drug under trial name, when they name
    it alone: "Ondansetron (study drug)", "study drug: ondansetron", "Investigational
    ondansetron 8 mg tablet". ``text`` is a medication's names (:func:`_words`); once
    that one drug's name and the trial words (:data:`_TRIAL_WORDS`) are taken out, only
    numbers, single letters, words of how much, in what form, how or how often
    (:data:`_DOSE_WORDS`) and the words naming the trial's product ("drug", "agent") may
    be left. Any other word leaves the drug under trial unknown: a second drug, a word
    joining one to another ("with", "and", "or", "vs", "plus"), a premedication, a
    placebo, a diluent, a word pecoma cannot identify. ``None`` then."""
    named = {_NOT_ANTICANCER_DRUG_SPACES.sub(" ", m.group(0))
             for m in _NOT_ANTICANCER_DRUG.finditer(text)}
    if len(named) != 1:
        return None
    rest = _TRIAL_WORDS.sub(" ", _NOT_ANTICANCER_DRUG.sub(" ", text))
    if any(not (len(w) <= 1 or w in _DOSE_WORDS or w in _STUDY_LABELS
                or _NUMBER_WORD.fullmatch(w)) for w in re.findall(r"[^\W_]+", rest)):
        return None
    return named.pop()


def _anticancer_mark(resource: Mapping[str, Any], concepts: list[Mapping[str, Any]],
                     resolve: Resolver) -> str | None:
    """Why a medication record whose name pecoma cannot identify may be of an anticancer
    drug (:func:`unreadable_medication` tells), or ``None``: its name identifies an
    agent, or holds no word pecoma cannot identify, or nothing marks it. A word with the
    form of an anticancer drug's name (:func:`_name_mark`: "RAD001", "zortrexinib") or a
    word of a drug under trial (:func:`_trial_mark`: "Investigational drug, take with
    milk", "Study drug with ondansetron") marks it whatever else it names; the rest
    (:func:`_treatment_mark`, an mCODE cancer-related profile, a reason naming a cancer:
    :func:`_reason_mark`) mark only a name that identifies no drug (a food or an
    excipient identifies none: :func:`_names_a_substance`): "Ondansetron
    (chemotherapy-induced nausea)" under mCODE's cancer-related profile is ondansetron,
    supportive care."""
    words = _unidentified(concepts)
    if agent_of(resource, resolve) is not None:
        return None
    if not words:
        # no word left that names a drug ("Cycle 1 Day 1"): a regimen's words still say
        # that it is of drugs pecoma cannot name, unless it names a drug that is none
        regimen = None if _names_a_substance(concepts) else _regimen_mark(concepts)
        return (None if regimen is None else
                f"its name names no drug pecoma identifies, and {regimen}: it may be of "
                "anticancer drugs")
    mark = (_name_mark(words) or _abbreviation_mark(concepts) or _trial_mark(concepts)
            or _body_surface_mark(concepts))
    if mark is None and not _names_a_substance(concepts):
        mark = (_treatment_mark(words) or _regimen_mark(concepts) or _profile_mark(resource)
                or _reason_mark(resource, resolve))
    if mark is None:
        return None
    shown = ", ".join(f"'{w}'" for w in words[:_UNREAD_SHOWN])
    return (f"its name holds {shown}, which pecoma does not identify, and {mark}: it may "
            "be an anticancer drug")


def other_uses(resource: Mapping[str, Any], resolve: Resolver = no_resolver) -> str | None:
    """Why a medication record (or a draft order) is not known to be an anticancer
    treatment although pecoma identifies its drug, or ``None``: every drug it names is
    one given for diseases that are no cancer too
    (:data:`pecoma.fhir.codes.OTHER_DISEASE_USES`: cladribine for multiple sclerosis,
    hydroxyurea for sickle cell disease, the interferons alfa for chronic hepatitis), it
    carries no project code of an agent (a line recorded as one of the case's agents is
    one), and nothing in it says it was given for a cancer: no word of a cancer or its
    treatment in its names ("Hydroxyurea (chemotherapy)"), no reason naming one, on it
    or on the order it carries out (:func:`_reason_mark`; the PEComa Condition is one),
    no mCODE cancer-related profile (:func:`_profile_mark`). Such a course may have
    been given for the other disease: it is neither a line of the PEComa's nor nothing,
    and what it was given for is asked. The one rule for the FHIR reader and the CDS
    order-select service; a line typed into a case is the clinician's own and is read as
    typed."""
    concepts = _concepts(resource, resolve)
    if (agent_of(resource, resolve) not in (Agent.other_chemotherapy, Agent.other)
            or any(_project_agent(cc) is not None for cc in concepts)):
        return None
    drugs = sorted({d for cc in concepts for d in drugs_named(cc)})
    if not drugs or any(d not in c.OTHER_DISEASE_USES for d in drugs):
        return None
    names = " ".join(_words(cc) for cc in concepts).replace("-", " ")
    if (CANCER_WORDS.search(names) or _profile_mark(resource)
            or _reason_mark(resource, resolve)):
        return None
    uses = (c.OTHER_DISEASE_USES[drugs[0]] if len(drugs) == 1
            else "; ".join(f"{d}: {c.OTHER_DISEASE_USES[d]}" for d in drugs))
    named = " and ".join(drugs)
    return (f"{named} {'is' if len(drugs) == 1 else 'are'} {OTHER_USES} ({uses}), and "
            "nothing in it says it is given for a cancer (no reason, word or mCODE profile "
            "naming one)")


#: How :func:`other_uses` says that a drug is given for diseases that are no cancer too
#: (the words a card finds its reason by).
OTHER_USES: Final = "given for diseases that are no cancer too"


def unreadable_medication(resource: Mapping[str, Any],
                          resolve: Resolver = no_resolver) -> str | None:
    """Why the medication of ``resource`` cannot be identified, or ``None`` if it can be read.

    "Can be read" means a name (text or display) or a code pecoma knows says what the
    medication is, whether or not it is a PEComa agent; an unresolved reference with no
    display, neither code nor text, or only codes pecoma does not know (an RxNorm code of
    a brand it does not list could be an mTOR inhibitor) cannot be read; nor can a
    medication whose local reference (``#id``, to the Medication or to an ingredient)
    names two different contained resources, whatever else it says; nor one whose names
    hold a word with a letter other than a to z, whatever else they say
    (:func:`_odd_words`: "Sirоlimus" with a Cyrillic о, a name in another alphabet);
    nor one whose name holds a drug pecoma cannot identify that something marks as
    possibly anticancer
    (:func:`_anticancer_mark`: "XY-4471 10 mg daily", "Zortrex" for a "Malignant
    PEComa"). A name pecoma cannot identify with no such mark ("Zortrex" alone) is read:
    no agent of the guideline (:func:`unidentified_names` gives its words).
    """
    reference = _medication_reference(resource)
    try:
        concepts = _named(resource, resolve)
    except RepeatedLocalId as exc:
        return str(exc)
    odd = _odd_words(concepts)
    if odd:
        written, letters = odd_letters_shown(odd[0])
        return (f"its name holds '{written}', written with a letter that is no letter a to "
                f"z ({letters}): a drug's name written so (a look-alike letter of another "
                "alphabet, or another alphabet) cannot be identified, so it may be any drug")
    words = " ".join(_words(cc) for cc in concepts)
    unlisted = mtor_class_words(words)
    if unlisted and agent_of(resource, resolve) is None:
        return (f"it names an mTOR inhibitor ({unlisted[0]}) that is none of the agents "
                "pecoma records, so its line cannot be recorded")
    if reference is not None and _medication(resource, resolve) is None and not any(
        _words(cc) or _list(cc.get("coding")) for cc in concepts
    ):
        where = (" (an absolute reference names a Medication held here only on the "
                 "record's server: the server read from, or the server of the Patient's "
                 "fullUrl)" if (parsed := parse_reference(reference)) and parsed[0] else "")
        return (f"medicationReference {reference!r} does not resolve to a Medication among "
                f"the resources given{where}")
    if any(names_something(_words(concept)) or _project_agent(concept) is not None
           for concept in concepts):
        # named: read, unless its name holds a drug pecoma cannot identify that may be
        # an anticancer drug (:func:`_anticancer_mark`)
        return _anticancer_mark(resource, concepts, resolve)
    held = resource.get("medicationReference")
    if reference is None and "medicationCodeableConcept" not in resource:
        if isinstance(held, dict) and held:
            return (f"its medicationReference ({show_value(held, 80)}) has neither a "
                    "reference nor a display: it names no medication pecoma can read")
        return "neither medicationCodeableConcept nor medicationReference is given"
    codes = [f"{cd.get('system')}|{cd.get('code')}" for cc in concepts
             for cd in _list(cc.get("coding")) if isinstance(cd, dict) and cd.get("code")]
    if codes:
        return (f"coded only by {', '.join(codes[:3])}, a code pecoma does not know, with "
                "no name")
    own = resource.get("medicationCodeableConcept")
    stray = ({k: v for k, v in own.items() if k not in _CONCEPT_ELEMENTS}
             if isinstance(own, dict) else {})
    if stray and not any(_words(cc) for cc in concepts):
        # {"display": "Everolimus 10 mg tablet"}: a name where a CodeableConcept has none
        return (f"its medicationCodeableConcept has neither a coding nor a text; it holds "
                f"{show_value(stray, 80)}, which a CodeableConcept does not have (FHIR R4 "
                "names a drug in its text or a coding's display, or in "
                "medicationReference.display), so it is not read")
    return "the medication has neither a code nor a text"


#: The elements of a FHIR R4 CodeableConcept.
_CONCEPT_ELEMENTS: Final = frozenset({"id", "extension", "coding", "text"})


# ---------------------------------------------------------------------- where it acts


#: SNOMED CT routes of administration (the FHIR R4 value set route-codes) that apply a
#: drug where it acts, on the skin, the eye or the ear: 6064005 Topical route, 448598008
#: Cutaneous route, 54485002 Ophthalmic route, 446105004 Conjunctival route, 10547007
#: Otic route, 418401004 Intravitreal route (an injection into the eye). Any other
#: SNOMED CT route code (oral, intravenous, transdermal: a transdermal product is made to
#: reach the blood) is no such route.
LOCAL_ROUTES: Final = frozenset({"6064005", "448598008", "54485002", "446105004",
                                 "10547007", "418401004"})
#: Words of a route or a dose form saying it is applied where it acts: the routes above,
#: the dose forms of the skin, eye and ear (gel, cream, ointment, lotion, eye or ear
#: drops), an injection into the vitreous. "Subcutaneous", "intraocular",
#: "subconjunctival" are not among them. Read in a route and in ``Medication.form``; in a
#: medication's name only where the name describes the product (:func:`_product_forms`),
#: never as a word in passing ("everolimus 10 mg (barrier cream for hand-foot)"
#: mentions a cream).
_LOCAL_WORDS: Final = re.compile(
    r"(?<![a-z])(?:topical|cutaneous|ophthalmic|ocular|conjunctival|otic|eyes?|ears?|"
    r"gels?|creams?|ointments?|lotions?|intra[\s-]*vitreal)(?![a-z])")
#: An injection or implant into the eye's vitreous: applied where it acts, though its
#: words hold "intra..." and "injection", which otherwise say systemic
#: (:data:`_NOT_LOCAL_WORDS`; :func:`_says_systemic` leaves them out).
_INTO_THE_EYE: Final = re.compile(
    r"(?<![a-z])intra[\s-]*vitreal(?:\s+(?:injections?|implants?|inserts?))?"
    r"(?![a-z])")
#: Words of a device that releases the drug where it is placed (an everolimus-eluting
#: coronary stent): no medication taken, no systemic treatment.
_DEVICE_WORDS: Final = re.compile(r"(?<![a-z])(?:eluting|stents?)(?![a-z])")
#: Hyftor, the sirolimus gel for the facial angiofibromas of tuberous sclerosis: a
#: product's own name, read wherever the medication is named.
_TOPICAL_BRANDS: Final = re.compile(r"(?<![a-z])hyftor(?![a-z])")
#: A name (a coding's display, a concept's text) that describes a product (as RxNorm's
#: clinical and branded drugs do: ingredient, strength, then dose form, a brand in
#: brackets after it) ending with a dose form of the skin or the eye, or an injection
#: into the eye: "sirolimus 2 MG/ML Topical Gel", "... Ophthalmic Solution", "... Topical
#: Gel [Hyftor]", "Sirolimus 0.2% topical gel", "Sirolimus 0.1% ointment", "sirolimus
#: intravitreal injection". A name holding a semicolon or a bracket before its end (once
#: a bracket or parenthesis closing it is set aside: "everolimus 10 mg (barrier cream for
#: hand-foot)" is "everolimus 10 mg") is a phrase, not a product's description
#: (:func:`_product_forms`).
_LOCAL_FORM_AT_END: Final = re.compile(
    r"(?<![a-z])(?:topical|cutaneous|ophthalmic|otic|gels?|creams?|ointments?|lotions?|"
    r"(?:eye|ear) drops?|intra[\s-]*vitreal)(?:\s+[a-z]+)?\s*(?:\[[^\]\[]*\])?\s*$")
#: Words of a route, a product or a dosage that it reaches, or may reach, the blood:
#: swallowed, injected or infused, through the skin by design (transdermal, a patch),
#: through a mucosa, into a body cavity; "systemic" itself; the usual abbreviations (PO,
#: p.o., IV, i.v., SC, s.c., IM, SL, per os). One of them anywhere keeps the reading of a
#: systemic treatment (an "oral gel" is swallowed, a "gel cap" too); so does a route into
#: or under a tissue however written ("Sub-cutaneous", "Intra-ocular", "intralesional"),
#: whose second half must not read as a local route.
_NOT_LOCAL_WORDS: Final = re.compile(
    r"oral|mouth|swallow|tablet|capsule|pill|inject|infus|sub[\s-]*cut|intra[\s-]*[a-z]|"
    r"trans[\s-]*derm|patch|lingual|buccal|mucos|nasal|inhal|nebuli|rectal|suppositor|vagin|"
    r"enteral|gastr|jejun|duoden|arteri|periton|thecal|vesic|systemic|bolus|syringe|vial|"
    r"softgel|gelcap|per os|"
    r"(?<![a-z])(?:po|p\.o|iv|i\.v|ivpb|im|i\.m|sc|s\.c|sq|subq|sl|ng|peg|caps?)"
    r"(?![a-z])")


def _dosages(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """Each dosage of a medication record: MedicationStatement ``dosage``,
    MedicationRequest and MedicationDispense ``dosageInstruction`` (lists),
    MedicationAdministration ``dosage`` (one)."""
    out: list[Mapping[str, Any]] = []
    for key in ("dosage", "dosageInstruction"):
        held = resource.get(key)
        out += [d for d in (held if isinstance(held, list) else [held])
                if isinstance(d, dict)]
    return out


#: Where each kind of record holds the dosages its dates are read from (:func:`_bounds`).
_DOSAGE_LISTS: Final[Mapping[str, str]] = {"MedicationStatement": "dosage",
                                           "MedicationRequest": "dosageInstruction"}
#: The elements of a ``Timing`` that schedule no dose beside its listed days: its id,
#: the days (``event``, and ``_event``, their ids) and its ``repeat``. Any other may
#: schedule doses after the last day listed: a ``code`` (QD, BID, a text: R4 has it
#: understood as "a complete statement of whatever is specified in the structured timing
#: data", so a schedule the listed days may be only the start of), an extension or
#: modifierExtension, an element R4 does not have.
_DAYS_ONLY: Final = frozenset({"id", "event", "_event", "repeat"})
#: The elements of a ``Timing.repeat`` that schedule no dose: its id and its bounds
#: (``boundsPeriod``, whose end is read; ``boundsDuration``, ``boundsRange``). R4 bounds
#: are "a duration for the length of the timing schedule, a range of possible length, or
#: outer bounds for start and/or end limits of the timing schedule": they limit the
#: schedule, never add a dose, so beside listed days alone the last day listed ends the
#: course. Any other (a frequency, a period, a count, a day of the week or a time of day;
#: an extension; a ``_`` sibling) may schedule doses after the last day listed.
_REPEAT_DAYS_ONLY: Final = frozenset({"id", "boundsPeriod", "boundsDuration",
                                      "boundsRange"})
#: The elements of a ``boundsPeriod`` read as dates: its id, start and end.
_PERIOD_DAYS_ONLY: Final = frozenset({"id", "start", "end"})


def _extended(value: Any) -> bool:
    """Whether ``value`` (a Timing, or any element within it) holds an extension or a
    modifierExtension anywhere: on the Timing, inside its repeat or bounds, or on a
    primitive's ``_`` sibling (``"_end": {"extension": [data-absent-reason]}``, an end
    said unknown). The reader reads none, so what it says of the schedule is unknown."""
    if isinstance(value, list):
        return any(_extended(v) for v in value)
    if not isinstance(value, dict):
        return False
    return bool(value.get("extension")) or bool(value.get("modifierExtension")) or any(
        _extended(v) for v in value.values())


def _absent_days(timing: Mapping[str, Any]) -> list[int]:
    """The places of ``timing.event`` whose day is said absent: a null (or no value) whose
    ``_event`` entry holds an extension (FHIR R4 JSON's form of a primitive with no value,
    such as a data-absent-reason "unknown"). Such a dose day is unknown, not malformed;
    a null with no extension is no day (:func:`unread_timing`)."""
    events, notes = timing.get("event"), timing.get("_event")
    if not isinstance(notes, list):
        return []
    events = events if isinstance(events, list) else []
    return [j for j, note in enumerate(notes)
            if (j >= len(events) or events[j] is None) and isinstance(note, dict)
            and note.get("extension")]


def absent_dose_days(resource: Mapping[str, Any]) -> list[str]:
    """The dose days of a statement's ``dosage`` or a request's ``dosageInstruction`` said
    absent (:func:`_absent_days`), each by its path below the resource
    (``dosageInstruction.0.timing.event.0``): unknown days, not read."""
    key = _DOSAGE_LISTS.get(str(resource.get("resourceType")))
    held = resource.get(key) if key is not None else None
    if not isinstance(held, list):
        return []
    return [f"{key}.{i}.timing.event.{j}" for i, dosage in enumerate(held)
            if isinstance(dosage, dict) and isinstance(dosage.get("timing"), dict)
            for j in _absent_days(dosage["timing"])]


def _bounds(resource: Mapping[str, Any]) -> list[tuple[Any, list[Any], bool]]:
    """The ``timing.repeat.boundsPeriod`` and the ``timing.event`` days of each dosage of a
    medication record (:func:`_dosages`), and whether its timing may give doses beyond
    those days: a ``repeat`` holding more than its bounds (:data:`_REPEAT_DAYS_ONLY`), a
    boundsPeriod holding more than its start and end (:data:`_PERIOD_DAYS_ONLY`: an end
    said unknown by its ``_end``), a ``code`` or any other element beside the days
    (:data:`_DAYS_ONLY`), an extension anywhere in the timing (:func:`_extended`), or a
    day said absent (:func:`_absent_days`, which may be the last; left out of the days);
    ``(None, [], False)`` for a dosage that gives none. A boundsDuration or boundsRange
    beside the days alone gives no dose beyond them (R4 bounds only limit a schedule).

    One rule for every kind: MedicationRequest ``dosageInstruction[].timing`` and
    MedicationStatement ``dosage[].timing`` alike (a statement often gives its dates only
    there, R4 ``effective[x]`` being 0..1). A MedicationAdministration's one ``dosage``
    has no timing (R4): its ``effective[x]`` is its date, and a timing written there is
    never read (:func:`unread_timing` names what is not)."""
    if resource.get("resourceType") == "MedicationAdministration":
        return []
    out: list[tuple[Any, list[Any], bool]] = []
    for dosage in _dosages(resource):
        timing = dosage.get("timing")
        timing = timing if isinstance(timing, dict) else {}
        repeat = timing.get("repeat", {})
        absent = _absent_days(timing)
        events = [e for j, e in enumerate(_list(timing.get("event"))) if j not in absent]
        bounds = repeat.get("boundsPeriod") if isinstance(repeat, dict) else None
        beyond = (bool(timing.keys() - _DAYS_ONLY) or bool(absent) or _extended(timing)
                  or not isinstance(repeat, dict) or bool(repeat.keys() - _REPEAT_DAYS_ONLY)
                  or (bounds is not None and (not isinstance(bounds, dict)
                                              or bool(bounds.keys() - _PERIOD_DAYS_ONLY))))
        out.append((bounds, events, beyond))
    return out


def _dosage_end(bounds: Any, events: list[Any], beyond: bool) -> FirstDay | None:
    """The last day of one dosage (:func:`_bounds`): the end of its boundsPeriod; else,
    when nothing in its timing may give a dose beyond them, the last of its
    ``timing.event`` days (its last dose planned); else ``None``, no end given (in doubt,
    the course is not ended: the safer reading for an allergy check)."""
    end = days_of(bounds.get("end")) if isinstance(bounds, dict) else None
    if end is not None or beyond:
        return end
    days = [d for d in (days_of(e) for e in events) if d is not None]
    return max(days, key=lambda d: (d.latest, d.earliest)) if days else None


_DATE_RULE: Final = ("must be a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or a "
                     "day with its time): the medication's dates are read from it")


def unread_timing(resource: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """The elements a statement's ``dosage`` or a request's ``dosageInstruction`` holds
    for the medication's dates (:func:`first_day`, :func:`given_now`) that cannot be
    read: each as ``(path below the resource, value, what is allowed)``, the path written
    as the R4 validator writes it (``dosage.0.timing.event.1``). A dosage list written as
    one object, a dosage, timing, repeat or boundsPeriod that is no object, an event list
    that is no list, an event or a bounds' start or end that is no date (a null, a
    number: the R4B validator accepts both) would otherwise be dropped without a word, and
    the course dated by what is left. A MedicationAdministration's ``dosage.timing``
    (no element of R4: its date is its ``effective[x]``, required) is never read, and
    named here. A period whose end is before its start is named by
    :func:`backwards_periods`."""
    kind = str(resource.get("resourceType"))
    out: list[tuple[str, Any, str]] = []
    dosage = resource.get("dosage")
    if kind == "MedicationAdministration" and isinstance(dosage, dict) and (
            "timing" in dosage):
        return [("dosage.timing", dosage["timing"],
                 "must not be given: a MedicationAdministration's dosage has no timing in "
                 "FHIR R4; the administration is dated by its effectiveDateTime or "
                 "effectivePeriod (required)")]
    key = _DOSAGE_LISTS.get(kind)
    if key is None or key not in resource:
        return out
    held = resource[key]
    if not isinstance(held, list):
        return [*out, (key, held, "must be a list of Dosage objects (FHIR R4: 0..*), even "
                                  "of one")]
    for i, dosage in enumerate(held):
        at = f"{key}.{i}"
        if not isinstance(dosage, dict):
            out.append((at, dosage, "must be a Dosage (a JSON object)"))
            continue
        timing = dosage.get("timing", {})
        if not isinstance(timing, dict):
            out.append((f"{at}.timing", timing, "must be a Timing (a JSON object)"))
            continue
        events = timing.get("event", [])
        if not isinstance(events, list):
            out.append((f"{at}.timing.event", events, "must be a list of dateTimes"))
        else:
            absent = _absent_days(timing)  # a day said unknown, not malformed
            out += [(f"{at}.timing.event.{j}", e, _DATE_RULE)
                    for j, e in enumerate(events)
                    if days_of(e) is None and j not in absent]
        repeat = timing.get("repeat", {})
        bounds = repeat.get("boundsPeriod", {}) if isinstance(repeat, dict) else None
        if not isinstance(repeat, dict):
            out.append((f"{at}.timing.repeat", repeat, "must be a Timing.repeat (a JSON "
                                                       "object)"))
        elif not isinstance(bounds, dict):
            out.append((f"{at}.timing.repeat.boundsPeriod", bounds,
                        "must be a Period (a JSON object with start and end)"))
        else:
            out += [(f"{at}.timing.repeat.boundsPeriod.{k}", bounds[k], _DATE_RULE)
                    for k in ("start", "end") if k in bounds and days_of(bounds[k]) is None]
    return out


def backwards_periods(resource: Mapping[str, Any]) -> list[tuple[str, Any, str]]:
    """The periods of a medication record whose end is before its start
    (:func:`backwards_period`: the ``effectivePeriod`` of a statement or an administration, a
    dosage's ``boundsPeriod``, a request's ``dispenseRequest.validityPeriod``, whose start
    may be its first day), each named at its end as :func:`unread_timing` names an
    element: the record contradicts itself, and its end decides whether the drug is given
    now. Only for a record that is read: one entered in error, or not given (a cancelled
    order), decides nothing by its dates, and is not checked."""
    kind = str(resource.get("resourceType"))
    out: list[tuple[str, Any, str]] = []
    if kind in ("MedicationStatement", "MedicationAdministration"):
        out += backwards_period(resource.get("effectivePeriod"), "effectivePeriod")
    dispense = resource.get("dispenseRequest") if kind == "MedicationRequest" else None
    if isinstance(dispense, dict):
        out += backwards_period(dispense.get("validityPeriod"),
                                "dispenseRequest.validityPeriod")
    held = resource.get(_DOSAGE_LISTS.get(kind, ""))
    for i, dosage in enumerate(held if isinstance(held, list) else []):
        timing = dosage.get("timing") if isinstance(dosage, dict) else None
        repeat = timing.get("repeat") if isinstance(timing, dict) else None
        if isinstance(repeat, dict):
            out += backwards_period(repeat.get("boundsPeriod"),
                              f"{_DOSAGE_LISTS[kind]}.{i}.timing.repeat.boundsPeriod")
    return out


def _instant(value: Any) -> dt.datetime | None:
    """The instant a FHIR dateTime with its time and offset names ("2025-07-01T00:30:00+02:00"
    is 2025-06-30 22:30 UTC); ``None`` for a date, a partial date, or anything else."""
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        found = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return found if found.tzinfo is not None else None


_MEDICATION_DATES: Final = ("the medication's dates, and whether it is given now, are "
                            "read from it")


def backwards_period(period: Any, at: str, reads: str = _MEDICATION_DATES
                     ) -> list[tuple[str, Any, str]]:
    """A Period whose end is surely before its start (FHIR R4's invariant per-1: start <=
    end), named at its end, the rule naming its start and what is read from the period
    (``reads``: a medication's dates by default; an operation's day for a Procedure's
    ``performedPeriod``); else nothing. Two dateTimes with their times are compared as
    the instants they name (:func:`_instant`: the offsets may differ, "+02:00" and "Z");
    else each is read as the days it may be (:func:`days_of`: a date, a partial date). A
    day outside the dates pecoma accepts (:func:`pecoma.dates.range_rule`: 0001-01-01,
    9999-12-31) is left to the rule that refuses it naming the range, the cause of the
    disorder."""
    if not isinstance(period, dict):
        return []
    start, end = days_of(period.get("start")), days_of(period.get("end"))
    if start is None or end is None or any(
            range_rule(day) for day in (start.earliest, end.latest)):
        return []
    begun, ended = _instant(period.get("start")), _instant(period.get("end"))
    if (ended >= begun if begun is not None and ended is not None
            else end.latest >= start.earliest):
        return []
    return [(f"{at}.end", period["end"],
             f"must not be before {at}.start ({start.written}): a FHIR R4 Period ends on "
             f"or after its start (per-1); {reads}")]


def _routes(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The route of each dosage of a medication record that gives one."""
    return [d["route"] for d in _dosages(resource)
            if isinstance(d.get("route"), dict) and d["route"]]


def _dosage_words(dosage: Mapping[str, Any]) -> str:
    """What a dosage says in words besides its route: its text, its instruction to the
    patient, its additional instructions and its method (text and displays)."""
    parts = [str(dosage[key]) for key in ("text", "patientInstruction")
             if isinstance(dosage.get(key), str)]
    concepts = [*_list(dosage.get("additionalInstruction")), dosage.get("method")]
    parts += [_words(cc) for cc in concepts if isinstance(cc, dict)]
    return folded(" ".join(parts))


def _says_systemic(words: str) -> bool:
    """Whether ``words`` (:func:`folded`) say, or may say, that the drug reaches the
    blood (:data:`_NOT_LOCAL_WORDS`), an injection into the eye (:data:`_INTO_THE_EYE`)
    set aside."""
    return _NOT_LOCAL_WORDS.search(_INTO_THE_EYE.sub(" ", words)) is not None


def _route_is_local(route: Mapping[str, Any]) -> bool:
    """Whether a route says the drug is applied where it acts, and nothing else: a code of
    :data:`LOCAL_ROUTES` or a word of :data:`_LOCAL_WORDS`, no other SNOMED CT route code
    and no word of :data:`_NOT_LOCAL_WORDS`. A route pecoma cannot read ("as directed", a
    code it does not know) is not one."""
    coded = {str(cd.get("code")).strip() for cd in _list(route.get("coding"))
             if isinstance(cd, dict) and cd.get("system") == c.SNOMED}
    words = _words(route)
    if coded - LOCAL_ROUTES or _says_systemic(words):
        return False
    return bool(coded) or _LOCAL_WORDS.search(words) is not None


def _product_forms(concept: Mapping[str, Any]) -> list[str]:
    """The names of ``concept`` (its text, its codings' displays) that describe a product
    applied where it acts: one ending with a dose form of the skin or the eye, or an
    injection into it (:data:`_LOCAL_FORM_AT_END`), and saying nothing systemic
    ("sirolimus 1 mg gel cap" is swallowed); or a device releasing the drug where it is
    placed (:data:`_DEVICE_WORDS`: "Everolimus-eluting coronary stent"). Brackets and
    parentheses closing a name are set aside first; a name still holding a semicolon or
    a bracket is a phrase, read as no product's description."""
    names = [concept.get("text"), *(cd.get("display") for cd in _list(concept.get("coding"))
                                    if isinstance(cd, dict))]
    out: list[str] = []
    for name in names:
        if not isinstance(name, str):
            continue
        body = folded(name).strip()
        while (shorter := re.sub(r"\s*(?:\[[^\]\[]*\]|\([^)(]*\))\s*$", "", body)) != body:
            body = shorter
        if not body or ";" in body or "(" in body or "[" in body:
            continue
        if _DEVICE_WORDS.search(body) or (_LOCAL_FORM_AT_END.search(body)
                                          and not _says_systemic(body)):
            out.append(name)
    return list(dict.fromkeys(out))


@dataclass(frozen=True, slots=True)
class WhereItActs:
    """How a medication record is read for where its drug acts (:func:`where_it_acts`)."""

    #: what says it is a product applied where it acts, nothing saying otherwise: no line
    topical: str | None = None
    #: what may say so, read as a systemic treatment all the same (the safer reading):
    #: a topical word in the free text only, or a topical product beside a systemic word
    doubt: str | None = None


def where_it_acts(resource: Mapping[str, Any],
                  resolve: Resolver = no_resolver) -> WhereItActs:
    """Whether a medication record (or a draft order) is of a product applied where it
    acts, on the skin, the eye or the ear, and not given as a systemic treatment (a
    topical sirolimus gel for facial angiofibromas).

    Only what the record states as the product's own or as its route says so: a route of
    a dosage that is such a route (:data:`LOCAL_ROUTES`, or its words: "Topical", "Both
    eyes", "Intravitreal"); a name, coded or written, that describes such a product
    (:func:`_product_forms`: "sirolimus 2 MG/ML Topical Gel", "Sirolimus 0.2% topical
    gel", "Sirolimus 0.1% ointment", "sirolimus intravitreal injection", "Everolimus-
    eluting coronary stent", a device); ``Medication.form`` naming such a dose form
    ("Gel", "Eye drops"); or Hyftor, the product's own name: the same product named by
    its brand or generically is read the same. A dose form mentioned in passing in a
    phrase ("everolimus 10 mg (barrier cream for hand-foot)", "Everolimus 10 mg daily;
    emollient cream to rash") never does: the line is read, with a doubt to note.
    Anything in the record that says, or may say, systemic keeps the line, with
    a doubt to note when it stands beside a topical product: a route that is no such route
    (oral, intravenous, transdermal, another route code, or one pecoma cannot read, "As
    directed"), or a word of :data:`_NOT_LOCAL_WORDS` ("PO", "p.o.", "by mouth", "IV",
    "SC", "oral", "tablet", "gel cap") in the medication's names, its form or any dosage,
    with or without a route ("2 mg PO daily")."""
    try:
        concepts = _named(resource, resolve)
        med = _medication(resource, resolve)
    except RepeatedLocalId:
        return WhereItActs()
    form = med.get("form") if med is not None else None
    forms = [form] if isinstance(form, dict) else []
    routes = _routes(resource)
    local = [f"route '{_shown(route)}'" for route in routes if _route_is_local(route)]
    local += [f"'{d}'" for cc in concepts for d in _product_forms(cc)]
    local += [f"form '{_shown(f)}'" for f in forms if _LOCAL_WORDS.search(_words(f))]
    local += [f"'{_shown(cc)}'" for cc in concepts if _TOPICAL_BRANDS.search(_words(cc))]
    systemic = [f"route '{_shown(route)}'" for route in routes
                if not _route_is_local(route)]
    systemic += [f"'{_shown(cc)}'" for cc in [*concepts, *forms]
                 if _says_systemic(_words(cc))]
    systemic += [f"dosage '{text}'" for d in _dosages(resource)
                 if _says_systemic(text := _dosage_words(d))]
    local, systemic = list(dict.fromkeys(local)), list(dict.fromkeys(systemic))
    if local and not systemic:
        return WhereItActs(topical=", ".join(local))
    if local:
        return WhereItActs(doubt=f"{', '.join(local)} may say a topical product, but "
                           f"{', '.join(systemic)} may say it was given as a systemic "
                           "treatment")
    passing = [f"'{_shown(cc)}'" for cc in concepts if _LOCAL_WORDS.search(_words(cc))]
    if passing and not systemic:
        return WhereItActs(doubt=f"{', '.join(dict.fromkeys(passing))} names a topical "
                           "dose form in its words only (no route, coded product or "
                           "Medication.form says a topical product)")
    return WhereItActs()


def not_systemic(resource: Mapping[str, Any],
                 resolve: Resolver = no_resolver) -> str | None:
    """What says a medication record (or a draft order) is of a product applied where it
    acts and not given as a systemic treatment (:func:`where_it_acts`): ``None`` when
    nothing says so, or when anything in the record says, or may say, systemic."""
    return where_it_acts(resource, resolve).topical


# ------------------------------------------------------------------------- given or not


class Given(StrEnum):
    """Whether a medication resource says the agent was given."""

    given = "given"  # given, being given, or given then stopped
    not_given = "not_given"  # refused, not done, cancelled before any dose
    planned = "planned"  # proposed, planned or drafted, not yet given
    unknown = "unknown"  # the status does not say
    error = "error"  # entered in error: the resource is to be ignored
    #: given if it has started, but whether it had by the day read for is unknown: its
    #: first day, a partial date ("2026-12"), spans that day; an administration is dated
    #: on a later day; a plan stopped does not show it was ever carried out
    maybe_started = "maybe_started"


_STATUS: Final[Mapping[str, Mapping[str, Given]]] = {
    # R4 medicationrequest-status
    "MedicationRequest": {
        "active": Given.given, "completed": Given.given, "stopped": Given.given,
        "on-hold": Given.given, "cancelled": Given.not_given, "draft": Given.planned,
        "entered-in-error": Given.error, "unknown": Given.unknown,
    },
    # R4 medication-admin-status
    "MedicationAdministration": {
        "completed": Given.given, "in-progress": Given.given, "on-hold": Given.given,
        "stopped": Given.given, "not-done": Given.not_given,
        "entered-in-error": Given.error, "unknown": Given.unknown,
    },
    # R4 medicationdispense-status: handed over (or partly, then stopped) is given; being
    # prepared or held is not yet
    "MedicationDispense": {
        "completed": Given.given, "stopped": Given.given, "in-progress": Given.planned,
        "preparation": Given.planned, "on-hold": Given.planned,
        "cancelled": Given.not_given, "declined": Given.not_given,
        "entered-in-error": Given.error, "unknown": Given.unknown,
    },
    # R4 medication-statement-status
    "MedicationStatement": {
        "active": Given.given, "completed": Given.given, "stopped": Given.given,
        "on-hold": Given.given, "intended": Given.planned, "not-taken": Given.not_given,
        "entered-in-error": Given.error, "unknown": Given.unknown,
    },
}

#: MedicationRequest intents that are not orders to give the drug (R4: an ``option`` is
#: one choice of a group, a ``directive`` the patient's or a relative's request).
_PLAN_INTENTS: Final = frozenset({"proposal", "plan", "option", "directive"})


def given(resource: Mapping[str, Any], on_date: dt.date | None = None) -> Given:
    """Whether the agent of ``resource`` was given, by its status, intent and dates.

    An order (MedicationRequest, intent ``order`` and its kinds) that is active or
    completed counts as given; a proposal or plan counts as planned, unless it shows it
    was carried out (:func:`_carried_out`: completed, or stopped after its dosage's
    start), then read as an order is, or may have been (stopped, not showing it started:
    :attr:`Given.maybe_started`); an order not to give the drug (``doNotPerform``) is
    not given, whatever its status (but entered in error) and intent. A time whose day
    in its own zone is after ``on_date`` but whose moment in UTC is not is within
    (:func:`_utc_day`). An administration its status says was given, dated after
    ``on_date``, may or may not have been given by then (:attr:`Given.maybe_started`),
    never planned. With ``on_date``, a medication whose first day (:func:`first_day`)
    lies after that day is planned, not given, also when written as a partial date all
    of whose days are later ("2027-01" read on 2026-12-06); one whose partial first day
    spans ``on_date`` ("2026-12") may or may not have started:
    :attr:`Given.maybe_started`. A record of status ``unknown``
    is placed by its dates alike.
    """
    kind = str(resource.get("resourceType"))
    table = _STATUS.get(kind)
    if table is None:
        return Given.unknown
    status = table.get(str(resource.get("status")), Given.unknown)
    if (kind == "MedicationRequest" and resource.get("doNotPerform") is True
            and status is not Given.error):
        return Given.not_given  # an order not to give it, whatever its status and intent
    if status is Given.given and kind == "MedicationRequest":
        intent, do_not = resource.get("intent"), resource.get("doNotPerform")
        if not isinstance(intent, str | None) or not isinstance(do_not, bool | None):
            return Given.unknown  # malformed: whether it was an order to give is unknown
        if intent in _PLAN_INTENTS:
            status = _carried_out(resource, on_date)
            if status is not Given.given:
                return status
    # a record of status 'unknown' is placed by its dates as one given would be: one
    # whose first day is later is planned whatever its status says (it cannot have been
    # given yet), never neither planned nor given
    if status in (Given.given, Given.unknown) and on_date is not None:
        start = first_day(resource)
        if start is None or _utc_day(start.written, on_date) is not None:
            return status
        done = kind == "MedicationAdministration" and status is Given.given
        if start.earliest > on_date:
            # an administration its status says was given is never a plan: given on a day
            # after the one read for, whether it was given by then is unknown
            return Given.maybe_started if done else Given.planned
        if start.latest > on_date:
            return Given.maybe_started
    return status


def _carried_out(resource: Mapping[str, Any], on_date: dt.date | None) -> Given:
    """Whether a MedicationRequest of a plan intent (:data:`_PLAN_INTENTS`) whose status
    says given (active, on hold, stopped, completed) shows it was carried out.

    ``completed`` (R4: all it implied has occurred): carried out, read as an order is, by
    its dates. ``stopped`` (R4: halted before all the administrations occurred, which
    may be none): carried out only when its dosage says a day it started
    (:func:`_dosage_start`) not after ``on_date`` and nothing says it never started;
    its reason saying so ("Plan changed before start", :data:`_NEVER_STARTED`) is not
    given; a refusal (SNOMED CT 105480006, "refused", "declined"), no dosage start, or
    one after ``on_date``, cannot tell: :attr:`Given.maybe_started`, no line and the
    lines given not fully known. Active or on hold: planned (``reportedBoolean`` says
    the record is a secondary report, not that the drug was taken)."""
    status = resource.get("status")
    if status == "completed":
        return Given.given
    if status != "stopped":
        return Given.planned
    concepts, _from = reason_concepts(resource)
    words = "\n".join(concept_text(x) for x in concepts)
    if _NEVER_STARTED.search(words):
        return Given.not_given
    refused = _REFUSED.search(words) or any(
        (coding.get("system"), coding.get("code")) == (c.SNOMED, "105480006")
        for x in concepts for coding in _list(x.get("coding")) if isinstance(coding, dict))
    start = _dosage_start(resource)
    if refused or start is None or (on_date is not None and start.earliest > on_date):
        return Given.maybe_started
    return Given.given


#: Words of a plan's reason saying its drug was never started ("Plan changed before
#: start", "never started", "not commenced").
_NEVER_STARTED: Final = re.compile(
    r"\b(?:never|not|nor)\s+(?:been\s+)?(?:started|begun|commenced|given|taken|initiated)"
    r"|\bbefore\s+(?:the\s+)?(?:start|starting|first\s+dose|initiation|commencing)\b",
    re.IGNORECASE)
#: Words of a plan's reason saying the patient refused it: before or after its first
#: dose, the record does not say.
_REFUSED: Final = re.compile(r"\b(?:refus|declin)", re.IGNORECASE)


def _utc_day(written: str, on_date: dt.date) -> dt.date | None:
    """The day in UTC of a dateTime written with its offset whose day in its own zone is
    after ``on_date`` but whose moment in UTC is not ("2025-06-02T01:00:00+09:00" read
    for 2025-06-01: 2025-06-01), or ``None``: within the days read for by the rule for
    times (a time is within a period when its day in its own zone is, or its moment in
    UTC is), and dated by its UTC day there."""
    if len(written) <= 10:
        return None
    try:
        moment = dt.datetime.fromisoformat(written.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    if moment.date() <= on_date:
        return None
    try:
        utc = moment.astimezone(dt.UTC).date()
    except OverflowError:  # the first day of year 1 east of UTC: before every day read for
        return None
    return utc if on_date >= utc else None


#: What a medication record says when it is no line given: in error, refused or
#: cancelled, or only planned.
NOT_A_LINE: Final = frozenset({Given.error, Given.not_given, Given.planned})

#: The status of a medication record still under way (R4): an order or a statement
#: ``active``, an administration ``in-progress``; or held (``on-hold``: suspended, it
#: may be resumed at any time, FHIR R4 medicationrequest-status).
_UNDER_WAY: Final[Mapping[str, frozenset[str]]] = {
    "MedicationRequest": frozenset({"active", "on-hold"}),
    "MedicationStatement": frozenset({"active", "on-hold"}),
    "MedicationAdministration": frozenset({"in-progress", "on-hold"})}

#: The status a record of status ``unknown`` is read as when whether it is given now is
#: asked: the one under way of its kind (the safer reading, said as possibly given now).
_AS_IF_UNDER_WAY: Final[Mapping[str, str]] = {
    "MedicationRequest": "active", "MedicationStatement": "active",
    "MedicationAdministration": "in-progress", "MedicationDispense": "completed"}

#: Days in one unit of a dispense's ``daysSupply`` (UCUM code or unit as written; no
#: unit: days, as its name says). A month is read as 31 days and a year as 366: the
#: longer supply, the safer reading for an allergy check.
_SUPPLY_DAYS: Final[Mapping[str, int]] = {
    "d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7,
    "mo": 31, "month": 31, "months": 31, "a": 366, "year": 366, "years": 366}


@dataclass(frozen=True, slots=True)
class Now:
    """How a medication record is given now, on the day read for (:func:`now_given`)."""

    #: In a few words, with its status and dates: "given now (status 'active' since
    #: 2026-11-01, not ended by 2026-11-28)".
    how: str
    #: On hold (status ``on-hold``): suspended, it may be resumed at any time.
    held: bool = False
    #: It may be given now, and the record does not say: its status is ``unknown``, or it
    #: gives no day it was handed over or given (its timing unknown), or a dose due is not
    #: recorded (it may be delayed).
    unsure: bool = False
    #: What the record lacks for it to be settled, when it is unsure for want of a date
    #: or a dose ("record the day it was handed over").
    ask: str = ""


def _supply_days(quantity: Any) -> int | None:
    """The days a dispense's ``daysSupply`` covers (:data:`_SUPPLY_DAYS`), or ``None``
    when it gives none pecoma reads."""
    if not isinstance(quantity, dict):
        return None
    value = quantity.get("value")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    unit = next((u for u in (quantity.get("code"), quantity.get("unit"))
                 if isinstance(u, str) and u.strip()), "d")
    factor = _SUPPLY_DAYS.get(unit.strip().lower()) if isinstance(unit, str) else None
    return None if factor is None else max(1, int(-(-value * factor // 1)))


#: The longest pecoma reads a dispense prepared as waiting to be handed over, when the
#: record gives no day it was handed over: 30 days (a prescription not collected in a
#: month is commonly returned to stock).
HANDOVER_MARGIN: Final = dt.timedelta(days=30)

#: The supply pecoma reads a dispense as holding when it gives no ``daysSupply`` it
#: reads, only to bound how long one prepared and never said handed over may be taken:
#: 90 days (the longest supply commonly dispensed at once; the longer, the safer for an
#: allergy check).
UNSTATED_SUPPLY: Final = 90


def supply_run_out(resource: Mapping[str, Any], on_date: dt.date) -> dt.date | None:
    """For a dispense that gives no day it was handed over (no ``whenHandedOver``) but
    the day it was prepared (``whenPrepared``, its latest day), the last day it may still
    be taken, when that is before ``on_date``: handed over up to
    :data:`HANDOVER_MARGIN` after it was prepared, its supply (``daysSupply``,
    :func:`_supply_days`, else :data:`UNSTATED_SUPPLY`) counted from then. ``None``
    otherwise (it may be taken on ``on_date``, or it gives its day, or no day at all)."""
    if days_of(resource.get("whenHandedOver")) is not None:
        return None
    prepared = days_of(resource.get("whenPrepared"))
    if prepared is None:
        return None
    days = _supply_days(resource.get("daysSupply")) or UNSTATED_SUPPLY
    span = HANDOVER_MARGIN + dt.timedelta(days=days - 1)
    if span.days > (dt.date.max - prepared.latest).days:
        return None
    last = prepared.latest + span
    return last if last < on_date else None


def _supply_now(resource: Mapping[str, Any], on_date: dt.date, status: str) -> Now | None:
    """How a dispense handed over (``completed``) is taken now, or ``None``: handed over on
    ``on_date``, or its ``daysSupply`` (:func:`_supply_days`) counted from the day it was
    handed over (``whenHandedOver``, its latest day for a partial date) still covering
    ``on_date``. One that gives no day it was handed over (no ``whenHandedOver``) may have
    been handed over that day: possibly given now (:attr:`Now.unsure`), its timing
    unknown, never a line of the past only; but one prepared (``whenPrepared``, its
    latest day) so long ago that it was handed over by :data:`HANDOVER_MARGIN` after it,
    its supply (``daysSupply``, else :data:`UNSTATED_SUPPLY`) counted from then run out
    before ``on_date`` (:func:`supply_run_out`), is over (``None``; the reader's note
    says it is read so)."""
    handed = days_of(resource.get("whenHandedOver"))
    if handed is None:
        if supply_run_out(resource, on_date) is not None:
            return None
        prepared = days_of(resource.get("whenPrepared"))
        after = f", prepared {prepared.written}" if prepared is not None else ""
        return Now(f"possibly given now (status '{status}'{after}, handed over on a day the "
                   "record does not give: whether it is taken now is unknown)", unsure=True,
                   ask="record the day it was handed over")
    if handed.earliest > on_date:
        return None
    if handed.latest >= on_date:
        return Now(f"given now (status '{status}', handed over {handed.written})")
    days = _supply_days(resource.get("daysSupply"))
    if days is None:
        return None
    # a supply so long that its last day is past the calendar's end covers the day
    last = (handed.latest + dt.timedelta(days=days - 1)
            if days - 1 <= (dt.date.max - handed.latest).days else dt.date.max)
    if last < on_date:
        return None
    return Now(f"given now (status '{status}', handed over {handed.written} with {days} "
               f"days' supply, lasting to {last})")


#: The longest wait between two administrations given that pecoma reads as one course:
#: six weeks (a three-weekly cycle delayed by three weeks; no regimen of the guideline
#: waits longer between doses). A longer wait separates two courses: the doses before it
#: are an earlier course, and set no rhythm of the latest.
COURSE_BREAK: Final = dt.timedelta(days=42)
#: The longest usual wait between two doses of the guideline's regimens: three weeks
#: (doxorubicin-based chemotherapy every 21 days; nab-sirolimus on days 1 and 8 every 21
#: days rests 14). A dose given alone (no course recorded) within it of the day read may
#: be the first of a line still running: possibly given now, asked.
LONE_DOSE_INTERVAL: Final = dt.timedelta(days=21)

#: How many times the course's rhythm (the median wait between its doses, the lower of
#: the two middle ones) a wait between two of its doses may be and still be the
#: regimen's own, when the course has waited so at least twice (the rest week of a day 1
#: and day 8 cycle every 21 days, twice the week between its doses, at each cycle): a
#: longer one, or one taken once, is a dose delayed.
RHYTHM_FACTOR: Final = 2


def _doses_now(resource: Mapping[str, Any], on_date: dt.date, status: str,
               earlier: Sequence[dt.date] | None, stopped: bool = False) -> Now | None:
    """How an administration given (``completed``) shows its drug given now, or ``None``:
    given on ``on_date``, or the latest of a course given at intervals (``earlier``: the
    days of the drug's other administrations given, none after it; ``None``: a later one
    stands for the course).

    The course is the doses since the latest wait longer than :data:`COURSE_BREAK` (the
    doses before are an earlier course); one dose alone is no course. Its rhythm is the
    median wait between its doses (the lower middle one); a longer wait up to
    :data:`RHYTHM_FACTOR` times the rhythm, taken at least twice, is the regimen's own
    (the rest between cycles of a day 1 and day 8 regimen every 21 days), any other
    longer one a dose delayed. The course
    is given now until one regular interval (the longest of the regimen's own waits)
    after its latest dose. That dose past and not recorded, it may be delayed: possibly
    given now (:attr:`Now.unsure`), never said as given, for one regular interval more,
    or up to the longest delay the course has already taken, unless a stop of the drug
    is recorded (``stopped``). One that gives no day it was given (no ``effective[x]``
    pecoma reads a day from) may have been given that day: possibly given now, its
    timing unknown. One dose alone (the only one, or the first after a break) given
    within :data:`LONE_DOSE_INTERVAL` before ``on_date`` may be the first of a line still
    running: possibly given now, whether the line goes on asked (unless a stop is
    recorded); longer ago it is not given now."""
    start = first_day(resource)
    if start is None:
        return Now(f"possibly given now (status '{status}', given on a day the record does "
                   "not give: whether it is given now is unknown)", unsure=True,
                   ask="record the day it was given")
    day = start.day
    if day is None or day > on_date or earlier is None:
        return None
    if day == on_date:
        return Now(f"given now (status '{status}', given {start.written})")
    period = resource.get("effectivePeriod")
    end = days_of(period.get("end")) if isinstance(period, dict) else None
    if end is not None and end.latest >= on_date:
        # given over days (an infusion over several days) up to the day read for
        return Now(f"given now (status '{status}', given from {start.written} to "
                   f"{end.written})")
    days = sorted({d for d in earlier if d < day} | {day})
    gaps = [b - a for a, b in itertools.pairwise(days)]
    # the latest course: the waits since the latest one longer than a course's longest
    broke = next((g for g in reversed(gaps) if g > COURSE_BREAK), None)
    course = list(itertools.takewhile(lambda g: g <= COURSE_BREAK, reversed(gaps)))
    if not course:
        # one dose alone (after a break, or the only one) is no course, but it may be the
        # first of a line still running: its next dose due within one usual interval,
        # then possibly delayed, as a course's (below); never said as given
        last = end.latest if end is not None else day  # an infusion over days: its end
        usual, delayed = LONE_DOSE_INTERVAL, None
        due = last + usual
        given = (f"one dose given {day}, no course recorded"
                 f"{f', after a wait of {broke.days} days' if broke is not None else ''}")
        if stopped:
            return None
        if due >= on_date:
            return Now(f"possibly given now (status '{status}': {given}; within "
                       f"{usual.days} days of it, the longest usual interval between "
                       "doses, the line may go on)", unsure=True,
                       ask="record whether the line goes on (the next dose given, or that "
                       "it stopped)")
    else:
        rhythm = sorted(course)[(len(course) - 1) // 2]
        # a longer wait is the regimen's own when it recurs (the rest at each cycle), and
        # is at most RHYTHM_FACTOR times the rhythm; one taken once is a dose delayed
        longer = [g for g in course if rhythm < g <= rhythm * RHYTHM_FACTOR]
        regular = [g for g in course if g <= rhythm] + (longer if len(longer) > 1 else [])
        usual = max(regular)
        delayed = max((g for g in course if g > usual), default=None)
        due = day + usual
        every = (f"at intervals of {usual.days} days" if min(regular) == usual
                 else f"at intervals of up to {usual.days} days")
        since = (f", since a wait of {broke.days} days after an earlier course"
                 if broke is not None else "")
        given = f"given {every}{since}, the last dose {day}"
        if due >= on_date:
            return Now(f"given now (status '{status}': {given}, the next due "
                       f"{'by ' if min(regular) != usual else ''}{due})")
    # the dose due is not recorded yet: it may be delayed, the line not ended (no stop
    # recorded), for one regular interval more, or as long as it was delayed before
    if stopped or max(due + usual, day + (delayed or usual)) < on_date:
        return None
    before = (f", as a dose was delayed before (a wait of {delayed.days} days)"
              if delayed is not None else "")
    return Now(f"possibly given now (status '{status}': {given}; the next, due by {due}, "
               f"is not recorded: it may be delayed{before})", unsure=True,
               ask="record the dose given, or that the course stopped")


def now_given(resource: Mapping[str, Any], on_date: dt.date | None,
              earlier: Sequence[dt.date] | None = (), stopped: bool = False) -> Now | None:
    """Whether, and how, the drug of ``resource`` is being given on ``on_date``, or is on
    hold then; ``None`` when it is not. The one rule of "given now":

    - an order to give it (:func:`given`), a statement or an administration still under
      way (status ``active``; ``in-progress``) or held (``on-hold``: an order suspended
      may be resumed at any time, so it is an order in place), started by then, and with
      no end before it: the end of ``effectivePeriod``, else the last day of every dosage
      (:func:`_dosage_end`: its ``timing.repeat.boundsPeriod.end``, or the last of its
      ``timing.event`` days when no repeat schedules more; :func:`_bounds`: a request's
      ``dosageInstruction``, a statement's ``dosage``), read alike beside an
      ``effectiveDateTime`` and an ``effectivePeriod`` with no end (which says no end,
      and contradicts none). An end written as a month or a year lasts to its last day.
      Without ``on_date`` an end given is taken as passed. A status under way does not
      outlast the dates: a course whose last day has passed is over;
    - a dispense handed over (``completed``) on that day, or whose ``daysSupply``, from
      the day it was handed over, covers it (:func:`_supply_now`); one that gives no day
      it was handed over is possibly given now (:attr:`Now.unsure`: its timing unknown);
    - an administration given (``completed``) on that day, or the latest of a course of
      administrations given at intervals whose next dose is not yet past
      (:func:`_doses_now`; ``earlier``: the days of the drug's other administrations
      given, ``None`` when a later one stands for the course; the interval, the longest
      the course has waited between two doses), or whose next dose, past and not
      recorded, may be delayed (possibly given now, for one interval more, unless a stop
      of the drug is recorded: ``stopped``, :func:`stopped_after`); one that gives no day
      it was given is possibly given now;
    - a record of status ``unknown``, read as its kind's status under way would be
      (:data:`_AS_IF_UNDER_WAY`): the status does not say whether it goes on, so it may
      (:attr:`Now.unsure`; unknown is not absent, the safer reading)."""
    kind = str(resource.get("resourceType"))
    status = resource.get("status")
    if not isinstance(status, str):
        return None
    unsure = status == "unknown"
    read = _AS_IF_UNDER_WAY.get(kind) if unsure else status
    if read is None:
        return None
    record = {**resource, "status": read} if unsure else resource
    if kind == "MedicationDispense" or (kind == "MedicationAdministration"
                                        and read == "completed"):
        if on_date is None or given(record, on_date) is not Given.given:
            return None
        now = (_supply_now(record, on_date, status) if kind == "MedicationDispense"
               else _doses_now(record, on_date, status, earlier, stopped))
        if now is None or now.unsure or not unsure:
            return now
        return Now(now.how.replace("given now", "possibly given now", 1), unsure=True)
    if read not in _UNDER_WAY.get(kind, frozenset()) or (
            given(record, on_date) is not Given.given):
        return None
    period = resource.get("effectivePeriod")
    end = days_of(period.get("end")) if isinstance(period, dict) else None
    ends = [end] if end is not None else [_dosage_end(*t) for t in _bounds(resource)]
    if ends and None not in ends and (on_date is None or max(
            e.latest for e in ends if e is not None) < on_date):
        return None  # its last day has passed
    start = first_day(resource)
    since = f" since {start.written}" if start is not None else ""
    held = read == "on-hold"
    if unsure:
        until = f", no end by {on_date}" if on_date is not None else ""
        how = (f"possibly given now (status 'unknown'{since}{until}: the record does not "
               "say whether it goes on)")
    else:
        until = f", not ended by {on_date}" if on_date is not None else ""
        how = (("on hold, it may be resumed at any time" if held else "given now")
               + f" (status '{status}'{since}{until})")
    return Now(how, held=held, unsure=unsure)


def given_now(resource: Mapping[str, Any], on_date: dt.date | None,
              earlier: Sequence[dt.date] | None = (), stopped: bool = False) -> bool:
    """Whether the drug of ``resource`` is being given on ``on_date``, or is on hold then
    (:func:`now_given`, the one rule)."""
    return now_given(resource, on_date, earlier, stopped) is not None


def stopped_after(resource: Mapping[str, Any], day: dt.date) -> bool:
    """Whether ``resource`` records its drug stopped (status ``stopped``) not before
    ``day``: with no end given, or an end on or after it (an end written as a month or
    a year lasting to its last day). A course stopped and ended before ``day`` is an
    earlier course, no stop of one given since."""
    if resource.get("status") != "stopped":
        return False
    period = resource.get("effectivePeriod")
    end = days_of(period.get("end")) if isinstance(period, dict) else None
    ends = [end] if end is not None else [_dosage_end(*t) for t in _bounds(resource)]
    return not ends or None in ends or max(e.latest for e in ends if e is not None) >= day


def may_have_been_given(resource: Mapping[str, Any]) -> bool:
    """Whether ``resource`` is a medication record whose drug may have been given (its
    status is not one of :data:`NOT_A_LINE`): a line that may count."""
    return resource.get("resourceType") in MEDICATION_TYPES and (
        given(resource) not in NOT_A_LINE)


class StopReason(StrEnum):
    """What a medication record's ``statusReason`` says of the drug (why it was stopped,
    held, not given)."""

    intolerance = "intolerance"  # the drug was not tolerated: an intolerance of it
    other = "other"  # plainly something else: progression, a course completed, surgery
    unclear = "unclear"  # a reason given that pecoma cannot read as either


@dataclass(frozen=True, slots=True)
class StatusReason:
    """A medication record's ``statusReason``: what it says, and as the record words it.
    ``progression``: whether it says the disease progressed on the drug
    (:func:`progression_said`), whatever it says of tolerance."""

    kind: StopReason
    shown: str
    progression: Progression | None = None
    #: The elements it is read from ("statusReason", "mCODE terminationReason",
    #: "reasonCode": :func:`reason_concepts`).
    said_in: str = "statusReason"


class Progression(StrEnum):
    """What a ``statusReason`` says of the disease progressing on the drug."""

    clear = "clear"  # "Disease progression", "Progressive disease", "progressed on it"
    unclear = "unclear"  # "suspected progression", "no progression?", a coded worsening


#: HL7 terminology medicationrequest-status-reason (R4 MedicationRequest.statusReason's
#: example value set): ``salg`` Allergy and ``sintol`` Suspected intolerance say the drug
#: is not tolerated; the other codes give another reason (try another treatment first,
#: clarification, admission, lab interference, patient not available, pregnancy, a drug
#: interaction, duplicate therapy, surgery, washout). ``drughigh`` (drug level too high)
#: is in neither: a reason to check.
STATUS_REASON: Final = "http://terminology.hl7.org/CodeSystem/medicationrequest-status-reason"
_INTOLERANCE_CODES: Final = frozenset({
    (STATUS_REASON, "salg"), (STATUS_REASON, "sintol"),
    # SNOMED CT 59037007 Drug intolerance, 281647001 Adverse reaction, 62014003 Adverse
    # reaction to drug (adverse drug effect), 407563006 Treatment not tolerated (mCODE's
    # treatment termination reasons)
    (c.SNOMED, "59037007"), (c.SNOMED, "281647001"), (c.SNOMED, "62014003"),
    (c.SNOMED, "407563006"),
})
_OTHER_CODES: Final = frozenset((STATUS_REASON, code) for code in (
    "altchoice", "clarif", "hospadm", "labint", "non-avail", "preg", "sddi", "sdupther",
    "surg", "washout")) | frozenset((c.SNOMED, code) for code in (
    # mCODE's treatment termination reasons that are no intolerance: 182992009 Treatment
    # completed, 266721009 Absent response to treatment, 58848006 Lack of drug action
    # (both also a reason to check for progression, _WORSENED_CODES), 160932005 Financial
    # problem, 105480006 Refusal of treatment by patient, 107724000 Patient transfer,
    # 309846006 Treatment not available
    "182992009", "266721009", "58848006", "160932005", "105480006", "107724000",
    "309846006"))
#: Words saying the drug was not tolerated: an intolerance, a toxicity, an adverse
#: reaction or one of the mTOR inhibitors' own (pneumonitis, stomatitis).
_INTOLERANCE: Final = (
    r"(?:intolera|(?:not|unable to|failed to) (?:be )?tolerat|poorly tolerat|toxic|"
    r"adverse|side[\s\-]?effect|allerg|hypersensitiv|anaphyla|pneumonitis|stomatitis|"
    r"mucositis)")
_INTOLERANCE_WORDS: Final = re.compile(_INTOLERANCE)
#: Those words negated, by a word at most three words before them ("no toxicity",
#: "without significant adverse events"; "not tolerated" is no negation) or after them
#: ("toxicity: none", "adverse events ruled out"): what the reason says of the drug
#: cannot be told.
_NEGATED: Final = re.compile(
    r"(?<![a-z])(?:no|not(?! (?:be )?tolerat)|non|without|none|den(?:y|ies|ied)|"
    r"free of)(?![a-z])(?:\W+[a-z0-9]+){0,2}?\W*" + _INTOLERANCE
    + "|" + _INTOLERANCE + r"[a-z]*(?:\W+[a-z0-9]+){0,2}?\W+(?:no|none|absent|negative|"
    r"ruled out|not (?:seen|present|found|observed))(?![a-z])")
#: Words giving another reason: the disease progressed or responded, the course was
#: completed, the patient chose, a change of drug or dose, surgery, a supply problem.
_OTHER_WORDS: Final = re.compile(
    r"progress|relapse|recurren|complet|finish|end of (?:treatment|therapy|course)|"
    r"remission|respon|no evidence of disease|patient(?:'s)? (?:choice|preference|"
    r"request|decision|wish)|declin|refus|cost|insurance|coverage|reimburs|duplicate|"
    r"switch|changed to|replaced|surgery|operation|admission|admitted|hospitali|pregnan|"
    r"breast[\s\-]?feed|unavailab|not available|supply|shortage|death|died|deceased|"
    r"transfer|interaction|dose (?:change|adjust|reduc)|wash[\s\-]?out")


#: Words saying the disease progressed, in :func:`pecoma.fhir.mcode.plain_words` form:
#: "Disease progression", "Progressive disease", "progressed on everolimus",
#: "tumour progressing" ("pseudoprogression" and "in progress" are not).
_PROGRESSION_WORDS: Final = re.compile(
    r"(?<![a-z])(?:progress(?:ion|ed|ing)|progressive (?:disease|tumou?r|pecoma|"
    r"metasta\w*|lesions?|sarcoma|cancer|malignan\w*))(?![a-z])")
#: A treatment that moved on ("progressed to maintenance dosing", "progressed to oral
#: therapy", "treatment progressed as planned"): no progression of the disease, unless
#: the statement names the disease (:data:`_DISEASE_NAMED`: "disease progressed to the
#: lungs").
_MOVED_ON: Final = re.compile(r"(?<![a-z])progress(?:ed|ing) (?:to|as)(?![a-z])")
_DISEASE_NAMED: Final = re.compile(
    r"(?<![a-z])(?:disease|tumou?rs?|pecoma|cancer|malignan\w*|metasta\w*|lesions?|"
    r"sarcoma|neoplasm|nodules?|mass|recurren\w*|relapse\w*)(?![a-z])")
#: A negation that plainly governs the progression, the statement saying the disease did
#: not progress: "no progression", "without progression", "no evidence of disease
#: progression", "free of progression", "progression-free" (not "progression-free
#: survival", which may give when it ended), "has not progressed", "progression: none".
_DENIAL_FILLER: Final = (r"(?:evidence|signs?|features?|findings?|radiological|radiographic|"
                  r"clinical|further|disease|tumou?r|of|for|any|interval|new|definite|"
                  r"obvious|significant|measurable|documented|recist|local|distant)")
_PROGRESSION_DENIAL: Final = re.compile(
    r"(?<![a-z])(?:(?:no|without|nil|absent|negative for|free of|den(?:y|ies|ied))"
    r"(?: " + _DENIAL_FILLER + r"){0,3} progress(?:ion|ed|ing)"
    r"|(?:not|never|n't)(?: yet)? (?:progressed|progressing)"
    r"|progression free(?! survival)"
    r"|progression\W+(?:none|nil|absent|negative|not (?:seen|present|found|observed|"
    r"detected))(?![a-z])"
    r")(?![a-z])")
#: A negation anywhere else in a statement of progression: what it denies cannot be told
#: ("Disease progression (not confirmed)", "Clinical progression, not radiological").
_PROGRESSION_DENIED: Final = re.compile(
    r"(?<![a-z])(?:no|not|non|without|none|nil|den(?:y|ies|ied)|free of|free|negative|"
    r"absent|n't)(?![a-z])")
#: The places the disease grows in, in :func:`pecoma.fhir.mcode.plain_words` form, and
#: the words that may stand between "progression of|in" and the disease ("progression of
#: lung metastases", "of the known liver lesions", "of liver and lung metastases").
_PLACES: Final = (
    r"lungs?|liver|bones?|peritoneum|abdomen|pelvis|lymph nodes?|nodes|brain|adrenals?|"
    r"adrenal glands?|kidneys?|retroperitoneum|chest|pleura|spine|skeleton|soft tissues?|"
    r"uterus")
_DISEASE_PLACE: Final = r"(?:" + _PLACES + r")"
_DISEASE_QUALIFIER: Final = (
    r"(?:the|known|existing|multiple|target|residual|metastatic|primary|local|distant|"
    r"pulmonary|hepatic|osseous|skeletal|bony|spinal|peritoneal|abdominal|intra abdominal|"
    r"pelvic|nodal|lymph node|cerebral|adrenal|renal|retroperitoneal|thoracic|pleural|"
    r"soft tissue|uterine|" + _PLACES + r")")
#: What the progression "of|in" is the disease's: the disease named after at most three
#: of those words ("of the tumour", "of lung metastases", "in the liver lesions"), or a
#: place the disease grows in ("in the liver", "in the lungs and bone"), nothing but a
#: linking word after it ("in the liver on CT"; "in the lung fibrosis" is not), and no
#: word after the disease making it another thing ("of tumour-related pain").
_DISEASE_PROGRESSING: Final = (
    r"(?:" + _DISEASE_QUALIFIER + r"(?:,? and|,)? ){0,3}(?:disease|tumou?rs?|pecoma|"
    r"cancer|malignan\w*|metasta\w*|lesions?|sarcoma|neoplasms?)(?![a-z])(?! (?:related|"
    r"associated|induced|caused|symptoms?|pain|markers?)(?![a-z]))"
    r"|(?<=in )(?:the )?" + _DISEASE_PLACE + r"(?:(?:,? and|,) (?:the )?"
    + _DISEASE_PLACE + r")*(?![a-z])(?! (?!(?:and|on|at|with|despite|after|following|"
    r"while|during|under|since|by|per|noted|seen|confirmed|as)(?![a-z]))[a-z])")
#: Words that make a statement of progression something else than a finding: a negation,
#: a guess or a question, a plan, a response ("suspected progression", "progression?",
#: "to rule out progression", "no progression?"), or the progression of something else
#: than the disease ("progression of neuropathy"; the disease is named by
#: :data:`_DISEASE_PROGRESSING`), or the reason a drug was begun
#: ("started for disease progression on doxorubicin": the progression was on another).
_PROGRESSION_DOUBT: Final = re.compile(
    r"(?<![a-z])(?:suspect\w*|suspicio\w*|possibl[ey]|probabl[ey]|likely|query|queried|questionabl[ey]|"
    r"equivocal|uncertain|unclear|unconfirmed|indeterminate|concern\w*|rule[sd]? out|"
    r"r/o|versus|vs|or|if|unless|whether|await\w*|pending|may|might|could|risk|fear\w*|"
    r"prevent\w*|mixed|stable|respon\w*|pseudo\w*|survival|pfs|start(?:s|ed|ing)?|"
    r"began|begun|begin\w*|initiat\w*|commenc\w*|introduc\w*)(?![a-z])|\?"
    r"|progress\w* (?:of|in) (?!" + _DISEASE_PROGRESSING + r")")
#: Words placing the progression in a time off the drug ("progression after stopping",
#: "drug holiday; disease progression later"): whether it progressed on the drug cannot
#: be told, wherever they stand in the reason.
_OFF_THE_DRUG: Final = re.compile(
    r"(?<![a-z])(?:after (?:stopping|discontinu\w*|cessation|withdrawal|the end)|"
    r"(?:drug|treatment|therapy) (?:holiday|break|interruption|pause)|"
    r"off (?:the )?(?:drug|treatment|therapy|medication)|while off|since stopping|"
    r"once stopped)(?![a-z])")
#: Words saying the drug was not taken as prescribed ("non-adherent", "poor compliance",
#: "not taking as prescribed", "missed doses", "stopped taking it"): a progression then
#: is no progression shown on the drug (it may be of the doses not taken), wherever they
#: stand in the reason. Whether it progressed on the drug is asked
#: (:func:`not_taken_said`). "Stopped taking" followed, in the same words, by the
#: progression as its cause ("stopped taking everolimus because of disease progression",
#: "stopped taking it due to progressive disease") says the disease progressed and the
#: patient stopped, as "stopped because of progression" does: no such words.
_STOPPED_FOR_PROGRESSION: Final = (
    r"(?:(?: [a-z0-9/+]+){0,4}? (?:because(?: of)?|due to|owing to|as a result of|"
    r"on account of|for) (?:[a-z]+ ){0,3}?progress(?:ion|ed|ing|ive)(?![a-z]))")
_NOT_TAKEN: Final = re.compile(
    r"(?<![a-z])(?:non ?(?:adheren\w*|complian\w*|complie\w*)|"
    r"(?:poor|partial|low|sub ?optimal|variable|inconsistent|limited|questionable) "
    r"(?:adheren\w*|complian\w*)|not (?:adherent|compliant)|"
    r"(?:not|wasn't|was not|isn't|is not) (?:taking|taken)(?: (?:it|the (?:drug|medication|"
    r"tablets?|pills?)))? (?:as (?:prescribed|directed)|regularly)|"
    r"(?:missed|skipped|omitted) (?:\w+ )?(?:doses?|tablets?|pills?)|"
    r"(?:stopped|quit|ceased) taking(?!" + _STOPPED_FOR_PROGRESSION + r")|"
    r"self[ -]?discontinu\w*)(?![a-z])")
#: Those words denied, by a negation just before them ("no missed doses", "has not missed
#: any doses", "not non-adherent", "never missed doses") or by words after them saying
#: there is none ("non-compliance ruled out", "not taking as prescribed was excluded",
#: "non-adherence denied", "missed doses: none"), in the same sentence ("Adherent? No,
#: missed doses" denies nothing): the drug was taken as prescribed, no non-adherence;
#: the whole denial is taken out of the reason before it is read for one
#: (:func:`_adherence_spoken`), as a denied progression is (:func:`_progression_spoken`).
_NOT_TAKEN_DENIAL: Final = re.compile(
    r"(?<![a-z])(?:no|not|never|without|zero|nil|den(?:y|ies|ied)) " + _NOT_TAKEN.pattern
    + r"|" + _NOT_TAKEN.pattern + r"(?: (?:was|were|is|are|has been|have been|been))?"
    r"[ :,]+(?:ruled out|excluded|denied|none|absent)(?![a-z])")
#: Words placing a progression on a drug ("progression on doxorubicin", "despite
#: everolimus"): the drug named after them must be the record's own.
_ON_A_DRUG: Final = re.compile(
    r"(?<![a-z])(?:on|under|despite|during|with|after|following|while (?:on|taking)|"
    r"of)(?: [a-z0-9/+\-]+){0,3}")
#: The statuses of a record that ended or is held, by resource type: a progression
#: read on the drug only there (an active, intended or drafted one has not failed; a
#: dispense only stopped: handed over says nothing of an end).
_ENDED_OR_HELD: Final[Mapping[str, frozenset[str]]] = {
    "MedicationStatement": frozenset({"stopped", "completed", "on-hold"}),
    "MedicationRequest": frozenset({"stopped", "completed", "on-hold"}),
    "MedicationAdministration": frozenset({"stopped", "completed", "on-hold"}),
    "MedicationDispense": frozenset({"stopped"}),
}
#: Codes saying the patient's condition worsened, or that the drug did not work, without
#: saying the disease progressed on it (SNOMED CT 271299001 Patient's condition worsened,
#: mCODE's cancer disease status; 266721009 No response to treatment, in mCODE's
#: treatment termination reasons: stable disease is no response too; 58848006 Lack of
#: drug action, mCODE STU1's): a reason to check.
_WORSENED_CODES: Final = frozenset({(c.SNOMED, "271299001"), (c.SNOMED, "266721009"),
                                    (c.SNOMED, "58848006")})


#: mCODE's extension TerminationReason (STU1 ``mcode-termination-reason``; STU2 on,
#: TreatmentTerminationReason ``mcode-treatment-termination-reason``), on
#: MedicationRequest and MedicationAdministration (MedicationStatement in STU1): why the
#: drug was stopped, read as a ``statusReason`` is (:func:`reason_concepts`).
TERMINATION_REASONS: Final = frozenset(
    f"http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-{name}"
    for name in ("termination-reason", "treatment-termination-reason"))


def do_not_perform(resource: Mapping[str, Any]) -> bool:
    """Whether ``resource`` is an order not to give its drug that is, or may be, in force:
    a MedicationRequest ``doNotPerform`` true of status ``active``, ``on-hold`` or
    ``unknown`` (a recorded fact against the drug, whatever its intent). One stopped,
    completed, cancelled, drafted or entered in error forbids nothing now."""
    return (resource.get("resourceType") == "MedicationRequest"
            and resource.get("doNotPerform") is True
            and resource.get("status") in ("active", "on-hold", "unknown"))


def reason_concepts(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                    ) -> tuple[list[Mapping[str, Any]], str]:
    """The reasons a medication record gives for its drug being stopped, held or not
    given, as CodeableConcepts, and the elements they come from in words: its
    ``statusReason`` (MedicationRequest: one; MedicationStatement and
    MedicationAdministration: a list; MedicationDispense: ``statusReasonCodeableConcept``),
    mCODE's termination reason (:data:`TERMINATION_REASONS`, its ``valueCodeableConcept``)
    and, for an order not to give the drug (:func:`do_not_perform`), its ``reasonCode``
    and ``reasonReference`` (why it is not to be given: the Condition or Observation it
    names, resolved by ``resolve``, or its display: :func:`_referenced_reasons`). The one
    reading of them all (:func:`status_reason`, :func:`progression_said`,
    :func:`not_taken_said`)."""
    found: list[tuple[str, Mapping[str, Any]]] = []
    given_ = resource.get("statusReason", resource.get("statusReasonCodeableConcept"))
    found += [("statusReason", x) for x in (given_ if isinstance(given_, list) else [given_])
              if isinstance(x, dict)]
    found += [("mCODE terminationReason", x["valueCodeableConcept"])
              for x in _list(resource.get("extension"))
              if isinstance(x, dict) and x.get("url") in TERMINATION_REASONS
              and isinstance(x.get("valueCodeableConcept"), dict)]
    if do_not_perform(resource):
        found += [("reasonCode", x) for x in _list(resource.get("reasonCode"))
                  if isinstance(x, dict)]
        found += [("reasonReference", x) for x in _referenced_reasons(resource, resolve)[0]]
    return [x for _f, x in found], " and ".join(dict.fromkeys(f for f, _x in found))


def _referenced_reasons(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                        ) -> tuple[list[Mapping[str, Any]], list[str]]:
    """The reasons a MedicationRequest's ``reasonReference`` names, as CodeableConcepts
    (the Condition's ``code``, the Observation's ``code`` and ``valueCodeableConcept``,
    resolved by ``resolve``; else the reference's ``display`` as text), and the
    references whose reason cannot be read (neither resolved nor displayed)."""
    concepts: list[Mapping[str, Any]] = []
    unread: list[str] = []
    for ref in _list(resource.get("reasonReference")):
        if not isinstance(ref, dict):
            continue
        target = ref.get("reference")
        found = resolve(target) if isinstance(target, str) else None
        held = [x for x in ((found.get("code"), found.get("valueCodeableConcept"))
                            if found is not None else ()) if isinstance(x, dict)]
        display = ref.get("display")
        if not held and isinstance(display, str) and display.strip():
            held = [{"text": display}]
        if held:
            concepts += held
        else:
            unread.append(target if isinstance(target, str) else "a reference with no target")
    return concepts, unread


def reasons_not_read(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                     ) -> list[str]:
    """The ``reasonReference`` targets of an order not to give the drug whose reason
    pecoma cannot read (not in the record, no display): a reason named, never 'none'."""
    return _referenced_reasons(resource, resolve)[1] if do_not_perform(resource) else []


def _progression_spoken(statement: str) -> str:
    """``statement`` without the words that say no progression of the disease: a
    treatment that moved on (:data:`_MOVED_ON`, no disease named) and a plain denial
    (:data:`_PROGRESSION_DENIAL`)."""
    if _DISEASE_NAMED.search(statement) is None:
        statement = _MOVED_ON.sub(" ~ ", statement)
    return _PROGRESSION_DENIAL.sub(" ~ ", statement)


def _other_drug_named(statement: str, resource: Mapping[str, Any],
                      resolve: Resolver) -> bool:
    """Whether ``statement`` places the progression on a drug the record is not of
    ("progression on doxorubicin" on a sirolimus record)."""
    own = _record_agents(resource, resolve)
    for m in _ON_A_DRUG.finditer(statement):
        named = agents_named({"text": m.group(0)})
        if named - own:
            return True
    return False


def _record_agents(resource: Mapping[str, Any], resolve: Resolver = no_resolver
                    ) -> frozenset[Agent]:
    """Every agent a medication record names (its concepts, a Medication's code and
    ingredients), a combination standing for the drugs it holds too."""
    found = frozenset(a for cc in _concepts(resource, resolve) for a in agents_named(cc))
    held = frozenset(a for a in Agent if any(
        INGREDIENTS.get(a, frozenset()) and INGREDIENTS.get(a, frozenset())
        <= INGREDIENTS.get(b, frozenset()) for b in found))
    return found | held


def _adherence_spoken(words: str) -> str:
    """``words`` (:func:`pecoma.fhir.mcode.plain_words` form) without a denied
    non-adherence (:data:`_NOT_TAKEN_DENIAL`: "no missed doses", "non-compliance ruled
    out")."""
    return _NOT_TAKEN_DENIAL.sub(" ~ ", words)


def not_taken_said(resource: Mapping[str, Any]) -> str | None:
    """The words of a medication record's ``statusReason`` saying the drug was not taken
    as prescribed (:data:`_NOT_TAKEN`: "non-adherent", "missed doses"; not when denied,
    :data:`_NOT_TAKEN_DENIAL`: "no missed doses"), or ``None``."""
    concepts, _from = reason_concepts(resource)
    found = _NOT_TAKEN.search(_adherence_spoken(plain_words(
        "\n".join(concept_text(x) for x in concepts))))
    return found.group(0) if found else None


def progression_said(resource: Mapping[str, Any],
                     resolve: Resolver = no_resolver) -> Progression | None:
    """Whether a medication record's ``statusReason`` says the disease progressed on its
    drug.

    :attr:`Progression.clear` when a statement of its words says so ("Disease
    progression", "Stopped: progressive disease", "PEComa progressed on everolimus") and
    nothing in that statement doubts it, negates it, makes it another thing's progression
    ("progression of neuropathy"), places it on another drug ("on doxorubicin") or gives
    it as what the drug was started for, no intolerance is said in the same statement,
    nothing in the reason places it off the drug ("after stopping", "drug holiday") or
    says the drug was not taken as prescribed ("non-adherent": :func:`not_taken_said`; a
    denied non-adherence, "no missed doses", is none, and is no negation of the
    progression's statement either), and
    the record ended or is held (:data:`_ENDED_OR_HELD`: a drug still given, or planned,
    has not failed).

    ``None`` when its words say no progression at all: a plain denial ("no progression",
    "without progression", "progression-free", "has not progressed") or a treatment that
    moved on ("progressed to maintenance dosing", "progressed as planned"), or no word of
    progression.

    :attr:`Progression.unclear` otherwise: any other statement of progression
    ("suspected progression", "no progression?", "Disease progression (not confirmed)",
    "Clinical progression, not radiological", "progression-free survival 6 months",
    a clear one on a record still active), or a reason coded as a worsening or no
    response (:data:`_WORSENED_CODES`). A progression of a toxicity ("progressive
    pneumonitis") is no word of the disease's progression: ``None`` here, the toxicity
    read by :func:`status_reason`."""
    concepts, _from = reason_concepts(resource, resolve)
    text = "\n".join(concept_text(x) for x in concepts)
    found = []
    for x in (_adherence_spoken(x) for x in statements(text)):
        spoken = _progression_spoken(x)
        if _PROGRESSION_WORDS.search(spoken) is not None:
            found.append(x)
        elif _PROGRESSION_WORDS.search(x) is not None and (
                _PROGRESSION_DOUBT.search(x) is not None):
            found.append(x)  # a denial asked or doubted: "no progression?"
    off = (_OFF_THE_DRUG.search(plain_words(text)) is not None
           or not_taken_said(resource) is not None)
    ended = str(resource.get("status")) in _ENDED_OR_HELD.get(
        str(resource.get("resourceType")), frozenset())
    if ended and not off and any(
            _PROGRESSION_DOUBT.search(x) is None and _PROGRESSION_DENIED.search(x) is None
            and _INTOLERANCE_WORDS.search(x) is None
            and not _other_drug_named(x, resource, resolve) for x in found):
        return Progression.clear
    coded = {(str(cd.get("system")), str(cd.get("code")).strip()) for x in concepts
             for cd in _list(x.get("coding")) if isinstance(cd, dict)}
    return Progression.unclear if found or coded & _WORSENED_CODES else None


def status_reason(resource: Mapping[str, Any],
                  resolve: Resolver = no_resolver) -> StatusReason | None:
    """What a medication record's ``statusReason`` says of its drug, or ``None`` when it
    gives none: every reason :func:`reason_concepts` finds (its ``statusReason``, mCODE's
    termination reason, the ``reasonCode`` of an order not to give it), read alike.

    A reason coded as an intolerance (SNOMED CT 59037007, 281647001, 62014003; HL7
    ``salg``, ``sintol``) or worded as one ("grade 3 pneumonitis", "toxicity") is an
    :attr:`StopReason.intolerance`, unless a negation stands beside those words ("no
    toxicity"): then it is :attr:`StopReason.unclear`, as is a reason that names
    nothing pecoma reads. A negation says nothing beyond its own statement
    (:func:`pecoma.fhir.mcode.statements`): "Stopped due to toxicity; no progression" is
    an intolerance. One coded or worded as another reason ("Disease progression",
    "Course completed") is :attr:`StopReason.other`."""
    concepts, said_in = reason_concepts(resource, resolve)
    shown = [_shown(x) for x in concepts]
    if not any(shown):
        return None
    words = " ".join(_words(x) for x in concepts)
    coded = {(str(cd.get("system")), str(cd.get("code")).strip()) for x in concepts
             for cd in _list(x.get("coding")) if isinstance(cd, dict)}
    said = "; ".join(s for s in shown if s)
    toxic = [x for x in statements("\n".join(concept_text(x) for x in concepts))
             if _INTOLERANCE_WORDS.search(x)]
    negated = [x for x in toxic if _NEGATED.search(x)]
    progression = progression_said(resource, resolve)
    if len(negated) < len(toxic):
        return StatusReason(StopReason.intolerance, said, progression, said_in)
    if negated:
        return StatusReason(StopReason.unclear, said, progression, said_in)
    if coded & _INTOLERANCE_CODES:
        return StatusReason(StopReason.intolerance, said, progression, said_in)
    if coded & _OTHER_CODES or _OTHER_WORDS.search(words):
        return StatusReason(StopReason.other, said, progression, said_in)
    return StatusReason(StopReason.unclear, said, progression, said_in)


def _shown(concept: Mapping[str, Any]) -> str:
    """A reason as the record words it: its text, else its displays, else its codes."""
    if isinstance(concept.get("text"), str) and names_something(concept["text"]):
        return str(concept["text"])
    codings = [cd for cd in _list(concept.get("coding")) if isinstance(cd, dict)]
    shown = [str(cd["display"]) for cd in codings if isinstance(cd.get("display"), str)]
    shown = shown or [f"{cd.get('system')}|{cd.get('code')}" for cd in codings
                      if cd.get("code") is not None]
    return "; ".join(shown)


def day_of(value: Any) -> dt.date | None:
    """The calendar day of a FHIR date or dateTime; partial dates stay unknown.

    A dateTime's day is the date as written, in its own offset
    (``2026-12-06T23:30:00-05:00`` is 6 December): the clinical day where it was
    recorded, as a date-only value of the same record would say it. Every day the FHIR
    reader takes (diagnosis, surgery, results, a medication's first day) is read so, and
    compared as such with the day a record is read for."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class FirstDay:
    """A medication's first day as its record writes it: one day (:attr:`day`), or for a
    partial date ("2027-01", "2027") the first and the last day it may be."""

    earliest: dt.date
    latest: dt.date
    written: str

    @property
    def day(self) -> dt.date | None:
        """The day itself, or ``None`` when a partial date leaves it open."""
        return self.earliest if self.earliest == self.latest else None


_PARTIAL: Final = re.compile(r"(\d{4})(?:-(\d{2}))?")


def days_of(value: Any) -> FirstDay | None:
    """The days a FHIR date or dateTime may be: the day it names (:func:`day_of`), or
    every day of the month (``2027-01``) or year (``2027``) a partial date names;
    ``None`` for anything else."""
    day = day_of(value)
    if day is not None:
        return FirstDay(day, day, str(value))
    found = _PARTIAL.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        return None
    year, month = int(found.group(1)), found.group(2)
    if year < 1 or (month is not None and not 1 <= int(month) <= 12):
        return None
    if month is None:
        return FirstDay(dt.date(year, 1, 1), dt.date(year, 12, 31), str(value))
    last = calendar.monthrange(year, int(month))[1]
    return FirstDay(dt.date(year, int(month), 1), dt.date(year, int(month), last),
                    str(value))


def _period_start(period: Any) -> FirstDay | None:
    return days_of(period.get("start")) if isinstance(period, dict) else None


def first_day(resource: Mapping[str, Any]) -> FirstDay | None:
    """The first day of the medication, as exactly as the resource says it (a partial
    date as the days it may be).

    MedicationAdministration: ``effective[x]``. MedicationDispense: ``whenHandedOver``,
    then ``whenPrepared``. MedicationStatement: ``effective[x]``, then the dosage's
    ``timing.repeat.boundsPeriod.start`` or first ``timing.event`` (:func:`_bounds`).
    MedicationRequest: the dosage's (``dosageInstruction``) the same way, then
    ``dispenseRequest.validityPeriod.start``, then ``authoredOn``. A start written as a
    partial date is the start: the day the order was written never stands for it.
    """
    kind = resource.get("resourceType")
    if kind == "MedicationDispense":
        return days_of(resource.get("whenHandedOver")) or days_of(
            resource.get("whenPrepared"))
    day = days_of(resource.get("effectiveDateTime")) or _period_start(
        resource.get("effectivePeriod"))
    if day is not None:
        return day
    day = _dosage_start(resource)
    if day is not None:
        return day
    if kind != "MedicationRequest":
        return None
    dispense = resource.get("dispenseRequest")
    if isinstance(dispense, dict):
        start = _period_start(dispense.get("validityPeriod"))
        if start is not None:
            return start
    return days_of(resource.get("authoredOn"))


def _dosage_start(resource: Mapping[str, Any]) -> FirstDay | None:
    """The first day the dosage of ``resource`` gives (its ``timing.repeat.boundsPeriod``
    start or first ``timing.event``, :func:`_bounds`), or ``None``."""
    starts: list[FirstDay] = []
    for bounds, events, _repeats in _bounds(resource):
        start = _period_start(bounds)
        if start is not None:
            starts.append(start)
        starts.extend(d for d in (days_of(e) for e in events) if d is not None)
    if starts:
        # the first of several starts: no earlier than the earliest any may be, no later
        # than the latest the earliest-ending one may be; written as that first start
        # (the other days are later doses, not first days)
        first = min(starts, key=lambda d: (d.earliest, d.latest))
        return FirstDay(first.earliest, min(d.latest for d in starts), first.written)
    return None


def started_on(resource: Mapping[str, Any], on_date: dt.date | None = None
               ) -> dt.date | None:
    """The first day of the medication (:func:`first_day`) when the resource names the
    day itself; a partial date stays unknown. With ``on_date``, a time whose day in its
    own zone is after it but whose moment in UTC is not is dated by its UTC day
    (:func:`_utc_day`: given by then, by the rule :func:`given` follows)."""
    start = first_day(resource)
    if start is None:
        return None
    utc = _utc_day(start.written, on_date) if on_date is not None else None
    return utc or start.day


def medication_concepts(resource: Mapping[str, Any],
                        resolve: Resolver = no_resolver) -> list[Mapping[str, Any]]:
    """Every CodeableConcept naming the medication of a medication record (its own, its
    reference's display, a Medication's code and ingredients, resolved by reference or
    among its ``contained`` resources): what :func:`agent_of` reads, for a reading that
    needs the words themselves (the drug an AdverseEvent suspects,
    :func:`pecoma.fhir.allergies.adverse_event_intolerance`). Empty when none is named or
    a local reference on the way names two different contained resources."""
    return _concepts(resource, resolve)
