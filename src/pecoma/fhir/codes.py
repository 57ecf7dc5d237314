"""Code systems, codes and extension URLs of the FHIR mapping (the table in docs/fhir.md).

Standard codes (LOINC, SNOMED CT, ICD-O-3, UCUM, HL7 terminology) are used only where the
project is sure of them; every other concept has a code in the project's own code system
:data:`PECOMA_SYSTEM`. Writers emit the project code first and, where one is known, the
standard code beside it in the same CodeableConcept; readers accept either.
"""

from __future__ import annotations

import re
from typing import Final

from pecoma.case import Agent, MetastasisSite, PrimarySite

PECOMA_BASE: Final = "https://pecoma.example/fhir"
#: The project's code system: one stable URI, its concepts listed in docs/fhir.md.
PECOMA_SYSTEM: Final = f"{PECOMA_BASE}/CodeSystem/pecoma"
PLAN_DEFINITION_URL: Final = f"{PECOMA_BASE}/PlanDefinition/pecoma-guideline"

LOINC: Final = "http://loinc.org"
SNOMED: Final = "http://snomed.info/sct"
UCUM: Final = "http://unitsofmeasure.org"
ICDO3_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/icd-o-3"
#: The same code system as EHRs often send it: its OID (HL7 terminology, ICD-O-3) and
#: the older URI.
ICDO3_SYSTEMS: Final = frozenset({ICDO3_SYSTEM, "urn:oid:2.16.840.1.113883.6.43.1",
                                  "http://hl7.org/fhir/sid/icd-o-3"})
DATA_ABSENT: Final = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
CONDITION_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION: Final = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
#: The code systems FHIR R4 binds (required) an AllergyIntolerance's statuses to.
ALLERGY_CLINICAL: Final = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION: Final = ("http://terminology.hl7.org/CodeSystem/"
                               "allergyintolerance-verification")
OBSERVATION_CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
ASSERTED_DATE: Final = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
MCODE_MORPHOLOGY: Final = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
)

#: LOINC 21889-1 "Size Tumor" (the largest dimension, as cancer registries record it).
LOINC_TUMOUR_SIZE: Final = "21889-1"
#: ICD-O-3 morphology of PEComa: benign (/0) and malignant (/3).
ICDO3_MORPHOLOGIES: Final = frozenset({"8714/0", "8714/3"})

# SNOMED CT qualifier values for results.
SNOMED_PRESENT: Final = "52101004"
SNOMED_ABSENT: Final = "2667000"
SNOMED_POSITIVE: Final = "10828004"
SNOMED_NEGATIVE: Final = "260385009"

#: SNOMED CT body structures the project is sure of; the other sites have project codes only.
BODY_SITE_SNOMED: Final[dict[str, tuple[str, str]]] = {
    PrimarySite.uterus.value: ("35039007", "Uterine structure"),
    PrimarySite.kidney.value: ("64033007", "Kidney structure"),
    PrimarySite.liver.value: ("10200004", "Liver structure"),
    PrimarySite.lung.value: ("39607008", "Lung structure"),
    PrimarySite.bladder.value: ("89837001", "Urinary bladder structure"),
    MetastasisSite.bone.value: ("272673000", "Bone structure"),
    MetastasisSite.brain.value: ("12738006", "Brain structure"),
}

#: SNOMED CT body structures that are part of, or one side of, an organ above, or a
#: gynecologic organ the sites name: read as that site (a laterality or lobe does not
#: change the site; a known code decides the site, whatever its display says); written
#: only as the answer of ``tumour.cervix`` (:data:`CERVIX_CODING`).
BODY_SITE_SNOMED_PARTS: Final[dict[str, str]] = {
    "9846003": PrimarySite.kidney.value,  # Right kidney structure
    "18639004": PrimarySite.kidney.value,  # Left kidney structure
    "3341006": PrimarySite.lung.value,  # Right lung structure
    "44029006": PrimarySite.lung.value,  # Left lung structure
    "42400003": PrimarySite.lung.value,  # Structure of upper lobe of right lung
    "72481006": PrimarySite.lung.value,  # Middle lobe of right lung structure
    "266005": PrimarySite.lung.value,  # Structure of lower lobe of right lung
    "44714003": PrimarySite.lung.value,  # Structure of upper lobe of left lung
    "41224006": PrimarySite.lung.value,  # Structure of lower lobe of left lung
    # the uterus's parts: the cervix is part of the uterus (S15's uterine primary)
    "71252005": PrimarySite.uterus.value,  # Cervix uteri structure
    "2739003": PrimarySite.uterus.value,  # Endometrial structure
    # the gynecologic organs outside the uterus
    "34411009": PrimarySite.broad_ligament.value,  # Broad ligament structure
    "15497006": PrimarySite.other_gynecologic.value,  # Ovarian structure
    "31435000": PrimarySite.other_gynecologic.value,  # Fallopian tube structure
    "76784001": PrimarySite.other_gynecologic.value,  # Vaginal structure
    "45292006": PrimarySite.other_gynecologic.value,  # Vulval structure
}

_U, _BL, _OG = (PrimarySite.uterus.value, PrimarySite.broad_ligament.value,
                PrimarySite.other_gynecologic.value)
_GI = PrimarySite.gastrointestinal.value


def _codes(site: str, *codes: str) -> dict[str, str]:
    return dict.fromkeys(codes, site)


#: ICD-O-3 topography codes (the C00-C80 axis, as cancer registries code a primary site;
#: written ``C54.9`` or ``C549``) read as the site they name: a code listed decides the
#: site whatever its display says; a topography code not listed names no site pecoma
#: maps (bone C40-C41, skin C44, the peritoneum C48.1-C48.2: read by their words, else
#: 'other', noted). Each code as the SEER staging schemas list it (site-specific coding
#: modules and Summary Stage 2018 chapters of staging.seer.cancer.gov, NCI), the
#: digestive ranges as the SEER site recode table lists them; written only as the answer
#: of ``tumour.cervix`` (:data:`CERVIX_CODING`).
ICDO3_TOPOGRAPHY: Final[dict[str, str]] = {
    # vulva: labium majus, labium minus, clitoris, overlapping lesion, vulva NOS
    **_codes(_OG, "C51.0", "C51.1", "C51.2", "C51.8", "C51.9"),
    **_codes(_OG, "C52.9"),  # vagina, NOS
    # the uterus: the cervix (endocervix, exocervix, overlapping lesion, cervix uteri)
    # is part of it (S15's uterine primary), as is the corpus (isthmus uteri,
    # endometrium, myometrium, fundus uteri, overlapping lesion, corpus uteri)
    **_codes(_U, "C53.0", "C53.1", "C53.8", "C53.9"),
    **_codes(_U, "C54.0", "C54.1", "C54.2", "C54.3", "C54.8", "C54.9"),
    **_codes(_U, "C55.9"),  # uterus, NOS
    **_codes(_OG, "C56.9"),  # ovary
    **_codes(_OG, "C57.0"),  # fallopian tube
    **_codes(_BL, "C57.1"),  # broad ligament
    # round ligament, parametrium, uterine adnexa: gynecologic, outside the uterus
    **_codes(_OG, "C57.2", "C57.3", "C57.4"),
    # oesophagus, stomach, small intestine, colon, rectosigmoid, rectum, anus and anal
    # canal, pancreas (which the site's words count as gastrointestinal too)
    **_codes(_GI, "C15.0", "C15.1", "C15.2", "C15.3", "C15.4", "C15.5", "C15.8", "C15.9"),
    **_codes(_GI, "C16.0", "C16.1", "C16.2", "C16.3", "C16.4", "C16.5", "C16.6", "C16.8",
             "C16.9"),
    **_codes(_GI, "C17.0", "C17.1", "C17.2", "C17.3", "C17.8", "C17.9"),
    **_codes(_GI, *(f"C18.{d}" for d in range(10))),
    **_codes(_GI, "C19.9", "C20.9", "C21.0", "C21.1", "C21.2", "C21.8"),
    **_codes(_GI, "C25.0", "C25.1", "C25.2", "C25.3", "C25.4", "C25.7", "C25.8", "C25.9"),
    **_codes(PrimarySite.liver.value, "C22.0", "C22.1"),  # liver, intrahepatic bile duct
    # lung: main bronchus, upper, middle, lower lobe, overlapping lesion, lung NOS
    **_codes(PrimarySite.lung.value, "C34.0", "C34.1", "C34.2", "C34.3", "C34.8", "C34.9"),
    **_codes(PrimarySite.retroperitoneum.value, "C48.0"),
    # connective, subcutaneous and other soft tissues (head and neck to trunk, NOS)
    **_codes(PrimarySite.soft_tissue.value, "C49.0", "C49.1", "C49.2", "C49.3", "C49.4",
             "C49.5", "C49.6", "C49.8", "C49.9"),
    **_codes(PrimarySite.kidney.value, "C64.9"),
    # bladder: trigone, dome, walls, neck, ureteric orifice, urachus, overlapping, NOS
    **_codes(PrimarySite.bladder.value, *(f"C67.{d}" for d in range(10))),
}
_TOPOGRAPHY_CODE: Final = re.compile(r"(C[0-9]{2})\.?([0-9])")


def _topography(code: str) -> str:
    """An ICD-O-3 topography code written as the tables hold it (``C549`` is ``C54.9``);
    anything else as it is."""
    found = _TOPOGRAPHY_CODE.fullmatch(code.strip().upper())
    return code if found is None else f"{found[1]}.{found[2]}"


def icdo3_topography(code: str) -> str | None:
    """The site an ICD-O-3 topography code names (``C54.9`` or ``C549``), or ``None``."""
    return ICDO3_TOPOGRAPHY.get(_topography(code))


#: Whether a body-structure code says the primary arose in the uterine cervix
#: (``tumour.cervix``): 'yes' for the cervix, 'no' for the uterine body's parts (the
#: corpus, its endometrium, myometrium and fundus). The isthmus (the lower uterine
#: segment, next to the cervix), an overlapping lesion of the corpus and the uterus NOS
#: say neither. By code only, never by words.
CERVIX_BY_ICDO3: Final[dict[str, str]] = {
    **dict.fromkeys(("C53.0", "C53.1", "C53.8", "C53.9"), "yes"),
    **dict.fromkeys(("C54.1", "C54.2", "C54.3", "C54.9"), "no"),
}
CERVIX_BY_SNOMED: Final[dict[str, str]] = {
    "71252005": "yes",  # Cervix uteri structure
    "2739003": "no",  # Endometrial structure (the lining of the uterine body)
}


#: How a writer says ``tumour.cervix`` of a uterine primary: beside the site's own codes
#: on its bodySite, the code the reader reads as that answer (above). An answer of 'no'
#: beside another site (outside the uterus) has no standard code: the project extension
#: ``primary-in-cervix`` on the PEComa Condition carries it.
CERVIX_CODING: Final[dict[str, tuple[str, str, str]]] = {
    "yes": (SNOMED, "71252005", "Cervix uteri structure"),
    "no": (ICDO3_SYSTEM, "C54.9", "Corpus uteri"),
}


def cervix_said(system: str, code: str) -> str | None:
    """'yes' or 'no' when a coded body site says whether the primary is cervical."""
    if system == SNOMED:
        return CERVIX_BY_SNOMED.get(code)
    if system in ICDO3_SYSTEMS:
        return CERVIX_BY_ICDO3.get(_topography(code))
    return None


#: SNOMED CT codes that state a side: the laterality qualifiers (mCODE
#: ``lateralityQualifier``, a BodyStructure's ``locationQualifier``) and the one-sided
#: body structures above. A tumour of the other side is another lesion (bilateral renal
#: angiomyolipomas are common in tuberous sclerosis); never written.
SNOMED_SIDE: Final[dict[str, tuple[str, ...]]] = {
    "7771000": ("left",), "24028007": ("right",), "51440002": ("left", "right"),
    "18639004": ("left",), "9846003": ("right",),  # kidney
    "44029006": ("left",), "3341006": ("right",),  # lung
    "44714003": ("left",), "41224006": ("left",),  # left upper, lower lobe
    "42400003": ("right",), "72481006": ("right",), "266005": ("right",),  # right lobes
    "3654008": ("left",),  # lingulectomy of lung: the lingula is the left lung's
}

_R, _L, _BOTH = ("right",), ("left",), ("left", "right")

#: ICD-10-CM codes whose last character states the side of a paired organ (the
#: tabular list's laterality: 1 right, 2 left, 3 bilateral where it exists): the lung
#: and bronchus (C34.x1, C34.x2), the kidney, renal pelvis and ureter (C64-C66, D30.0x,
#: D41.0x-D41.2x), the ovary (C56, D39.1x), the fallopian tube and the broad and round
#: ligaments (C57.0x-C57.2x), the adrenal gland (C74), and the secondary tumours of the
#: lung, kidney, ovary and adrenal gland (C78.0x, C79.0x, C79.6x, C79.7x). A Condition
#: coded so states its side as its words would (C64.1 with no display: the right
#: kidney); WHO ICD-10 has no such characters. C34.2, the middle lobe, is given no side
#: though only the right lung has one: sides are compared, not lobes, and a right upper
#: or lower lobectomy would then be read as removing a middle-lobe tumour.
ICD10CM_SIDE: Final[dict[str, tuple[str, ...]]] = {
    **{f"C34.{part}{n}": side for part in "01389" for n, side in (("1", _R), ("2", _L))},
    **{f"{stem}.{n}": side for stem in ("C64", "C65", "C66")
       for n, side in (("1", _R), ("2", _L))},
    "C56.1": _R, "C56.2": _L, "C56.3": _BOTH,
    **{f"{stem}{n}": side
       for stem in ("C57.0", "C57.1", "C57.2", "C74.0", "C74.1", "C74.9", "C78.0", "C79.0",
                    "C79.6", "C79.7", "D30.0", "D39.1", "D41.0", "D41.1", "D41.2")
       for n, side in (("1", _R), ("2", _L))},
    "C79.63": _BOTH,
}

#: Words that identify an agent in a medication's text or display, most specific first:
#: the ingredient's name, then brand names an order may carry alone.
#: The name an ATC code of an antineoplastic agent (L01) not listed by pecoma stands for
#: in a medication (a line of "another agent"). Written so that no text says it: the words
#: "antineoplastic agents" name the class (:data:`ANTINEOPLASTIC_CLASS_WORDS`), never one
#: drug.
ANTINEOPLASTIC: Final = "atc l01 drug not listed"

#: Words that name an mTOR inhibitor, or the class, that is none of the case format's
#: agents (an ATC code under L01EG pecoma does not list reads as "mtor inhibitor"): an
#: intolerance of one rules out every mTOR inhibitor; a line of one cannot be recorded.
#: Besides the rapamycin derivatives, the mTOR kinase inhibitors (mTORC1/2, the WHO INN
#: stem -sertib) given in cancer trials, each with its development codes (the synonyms of
#: its NCI Thesaurus entry): sapanisertib (TAK-228, MLN0128, INK128), vistusertib
#: (AZD2014) and onatasertib (CC-223). A line of one is at least a line not fully known,
#: never "no line". The substring test (:func:`pecoma.fhir.medications.mtor_class_named`)
#: reads each code as written here: with a hyphen, a blank or nothing, but for the short
#: INK128 and CC-223, whose blank forms are read as whole words only
#: (:data:`MTOR_CODES_WITH_A_BLANK`).
MTOR_CLASS_WORDS: Final = ("mtor", "rapalog", "ridaforolimus", "deforolimus", "zotarolimus",
                           "umirolimus", "biolimus",
                           "sapanisertib", "tak-228", "tak 228", "tak228", "mln0128",
                           "mln-0128", "mln 0128", "ink128", "ink-128",
                           "vistusertib", "azd2014", "azd-2014", "azd 2014",
                           "onatasertib", "cc-223", "cc223")
#: The development codes of :data:`MTOR_CLASS_WORDS` written with a blank that would read
#: inside other words as substrings ("pink 128"): "INK 128" (sapanisertib) and "CC 223"
#: (onatasertib), the NCI Thesaurus synonyms of these mTOR kinase inhibitors, read as
#: whole words (no letter or digit before or after). A volume written so ("5 cc 223")
#: is read as the drug too, the safer reading.
MTOR_CODES_WITH_A_BLANK: Final = ("ink 128", "cc 223")

#: Names of substances an allergy may be recorded to that are no anticancer drug and hold
#: none (each a whole word, plurals too: "dogs", "mangoes", "strawberries"; a hyphen or
#: blank in a name matches either, or nothing: "nonsteroidal anti-inflammatory"):
#: antibiotics, analgesics, contrast media, other common drugs, and the common allergens
#: that are no drug, by category (foods, animals, the environment, materials), each
#: category also by its own word ("food", "animal", "insect", "metal"). An allergy to one
#: of them is identified and rules no PEComa drug out; an allergy to a substance named
#: otherwise stays *not identified* (it may be to a drug pecoma proposes), and so does an
#: entry naming one of them beside a word pecoma cannot identify ("dogs and Zortrex").
#: Left out on purpose, so that an allergy to them is never cleared by its name: the
#: macrolide antibiotics (erythromycin, azithromycin, clarithromycin) and tacrolimus or
#: pimecrolimus (macrolides as sirolimus is), polysorbate 80 (temsirolimus's solvent) and
#: albumin (nab-sirolimus's carrier); and, among the allergens, none that a drug is made
#: of or carried in beyond those already listed (no gelatin, corn, starch, alcohol, dye
#: or serum: "horse serum" and "mouse protein" stay not identified, as antisera and
#: antibodies are drugs), nor "mustard" (the nitrogen mustards are alkylating drugs,
#: ifosfamide one of them). Written here as two lists: the drugs
#: (:data:`NOT_ANTICANCER_DRUG_NAMES`) and the allergens that are no drug
#: (:data:`ALLERGEN_NAMES`), which never identify a medication.
NOT_ANTICANCER_DRUG_NAMES: Final = (
    # penicillins and other beta-lactams
    "penicillin", "pcn", "amoxicillin", "ampicillin", "piperacillin", "flucloxacillin",
    "dicloxacillin", "augmentin", "co-amoxiclav", "clavulanate", "clavulanic acid",
    "beta-lactam", "cephalosporin",
    "cephalexin", "cefalexin", "cefazolin", "ceftriaxone", "cefuroxime", "cefaclor",
    "cefepime", "carbapenem", "meropenem", "imipenem",
    # other antibiotics
    "sulfa", "sulfonamide", "sulphonamide", "sulfamethoxazole", "trimethoprim",
    "co-trimoxazole", "bactrim", "septra", "ciprofloxacin", "levofloxacin",
    "moxifloxacin", "fluoroquinolone", "quinolone", "tetracycline", "doxycycline",
    "minocycline", "vancomycin", "clindamycin", "metronidazole", "nitrofurantoin",
    "gentamicin", "tobramycin", "aminoglycoside",
    # analgesics and anti-inflammatories
    "aspirin", "acetylsalicylic acid", "ibuprofen", "naproxen", "diclofenac", "ketorolac",
    "celecoxib", "nsaid", "non-steroidal anti-inflammatory", "paracetamol",
    "acetaminophen", "metamizole", "codeine", "morphine", "hydromorphone", "oxycodone",
    "hydrocodone", "tramadol", "fentanyl", "pethidine", "meperidine", "opioid", "opiate",
    # other common drugs
    "lisinopril", "enalapril", "ramipril", "captopril", "ace inhibitor", "statin",
    "atorvastatin", "simvastatin", "heparin", "enoxaparin", "warfarin", "metformin",
    "allopurinol", "carbamazepine", "phenytoin", "lamotrigine", "ondansetron",
    "metoclopramide", "lidocaine", "lignocaine", "iodinated contrast", "contrast media",
    "contrast medium", "contrast dye", "contrast", "radiocontrast", "iodine", "gadolinium",
    # drugs of other diseases whose names end as anticancer drugs' do (-mab, -nib,
    # -citabine, -uracil: pecoma.fhir.medications.ANTICANCER_STEMS); none is given for a
    # cancer (those that are, such as rituximab, ruxolitinib or denosumab, are not here)
    "adalimumab", "infliximab", "golimumab", "certolizumab", "ustekinumab", "secukinumab",
    "ixekizumab", "guselkumab", "risankizumab", "tildrakizumab", "dupilumab", "omalizumab",
    "mepolizumab", "benralizumab", "reslizumab", "tezepelumab", "tocilizumab",
    "sarilumab", "vedolizumab", "natalizumab", "ocrelizumab", "evolocumab", "alirocumab",
    "erenumab", "galcanezumab", "fremanezumab", "eptinezumab", "palivizumab",
    "nirsevimab", "eculizumab", "ravulizumab", "romosozumab", "belimumab", "anifrolumab",
    "canakinumab", "emicizumab", "tofacitinib", "baricitinib", "upadacitinib",
    "abrocitinib", "filgotinib", "deucravacitinib", "emtricitabine", "propylthiouracil",
    "methylthiouracil",
    # vidarabine, an antiviral (herpes simplex keratitis), ends as cytarabine and
    # fludarabine do (-arabine)
    "vidarabine",
)

#: The common allergens of :data:`NOT_ANTICANCER_NAMES` that are no drug: foods, animals,
#: the environment and materials. They identify what an *allergy* is to, never what a
#: *medication* is: beside a drug's name they say how it is taken, given or packed ("take
#: with milk", "contains lactose", "with food"), not which drug it is, so a medication
#: whose name holds one is read by its other words
#: (:func:`pecoma.fhir.medications.unidentified_names`).
ALLERGEN_NAMES: Final = (
    # foods
    "food", "peanut", "tree nut", "nut", "almond", "walnut", "cashew", "pecan", "hazelnut",
    "pistachio", "brazil nut", "macadamia", "shellfish", "seafood", "shrimp", "prawn",
    "crab", "lobster", "crayfish", "crustacean", "mussel", "oyster", "clam", "scallop",
    "squid", "mollusc", "mollusk", "fish", "egg", "milk", "dairy", "lactose", "soy", "soya",
    "wheat", "gluten", "sesame", "celery", "lupin", "fruit", "berry",
    "strawberry", "raspberry", "blueberry", "kiwi", "kiwifruit", "mango", "banana", "apple",
    "peach", "pear", "plum", "cherry", "apricot", "orange", "citrus", "lemon", "pineapple",
    "melon", "watermelon", "grape", "tomato", "avocado", "carrot", "garlic", "onion",
    "chocolate", "cocoa", "coffee", "meat", "red meat", "beef", "pork", "chicken", "spice",
    "cinnamon",
    # animals
    "animal", "pet", "cat", "dog", "horse", "rabbit", "guinea pig", "hamster", "mouse",
    "mice", "rat", "rodent", "bird", "feather", "cow", "goat", "sheep", "fur", "wool",
    "dander", "cat dander", "dog dander", "animal dander", "animal hair", "cat hair",
    "dog hair",
    # the environment: insects, plants, air, physical triggers
    "insect", "insect sting", "insect bite", "bee", "bee sting", "bee venom", "wasp",
    "hornet", "mosquito", "ant", "fire ant", "jellyfish", "pollen", "grass pollen", "grass",
    "tree pollen", "hay fever", "hayfever", "ragweed", "plant", "flower", "poison ivy",
    "house dust", "dust", "dust mite", "mite", "mould", "mold", "environmental",
    "seasonal", "perfume", "fragrance", "scent", "cosmetic", "makeup", "soap", "detergent",
    "smoke", "cigarette smoke", "chlorine", "sun", "sunlight", "cold", "heat",
    # materials
    "latex", "rubber", "nickel", "metal", "jewellery", "jewelry", "adhesive",
    "adhesive tape", "tape", "plaster", "band-aid", "bandaid", "elastoplast",
)

#: Every name of :data:`NOT_ANTICANCER_DRUG_NAMES` (the drugs, each of which also
#: identifies a medication as no anticancer drug) and :data:`ALLERGEN_NAMES` (what is no
#: drug): what an allergy may be recorded to that is no anticancer drug.
NOT_ANTICANCER_NAMES: Final = NOT_ANTICANCER_DRUG_NAMES + ALLERGEN_NAMES

#: Substances near an mTOR inhibitor, left out of :data:`NOT_ANTICANCER_NAMES` on
#: purpose: the macrolide antibiotics, tacrolimus and pimecrolimus (macrolides as
#: sirolimus is), polysorbate 80 (temsirolimus's solvent) and albumin (nab-sirolimus's
#: carrier). An entry naming one is never cleared, whatever its category (an albumin
#: allergy filed as ``biologic`` or ``environment`` included).
NEVER_CLEARED_NAMES: Final = (
    "macrolide", "erythromycin", "azithromycin", "clarithromycin", "roxithromycin",
    "fidaxomicin", "tacrolimus", "pimecrolimus", "polysorbate", "albumin",
)

#: Names of the class of the alkylating agents (ATC L01A) as an allergy list writes it
#: ("Alkylating agents", "Alkylating antineoplastics"; a subgroup is no name of the
#: class: :data:`ALKYLATING_SUBGROUP_WORDS`).
ALKYLATING_CLASS_WORDS: Final = (
    "alkylating agent", "alkylating drug", "alkylating antineoplastic",
    "alkylating chemotherapy")

#: Names of subgroups of the alkylating agents as an allergy list writes them, each with
#: the ATC group it names (the WHO ATC/DDD Index: L01AA nitrogen mustard analogues) or,
#: for a pharmacological subgroup the ATC does not name, ``None`` (the oxazaphosphorines:
#: cyclophosphamide, ifosfamide, trofosfamide): an entry naming one names that subgroup,
#: never every alkylating agent.
ALKYLATING_SUBGROUP_WORDS: Final[tuple[tuple[str, str | None], ...]] = (
    ("nitrogen mustard", "L01AA"), ("oxazaphosphorine", None))

#: Names of the class of every antineoplastic agent (ATC L01 ANTINEOPLASTIC AGENTS) as an
#: allergy list writes it ("Antineoplastic agents", Epic's drug-class allergen
#: "ANTINEOPLASTIC AGENTS", "Antineoplastics", "Antineoplastic drugs"): the class holds
#: every anticancer drug pecoma may propose. The word names the class only when it stands
#: alone or beside words naming no substance ("Allergy to antineoplastic drugs"): beside a
#: subclass, before it as drug-class allergen lists write the parent first
#: ("ANTINEOPLASTIC - ALKYLATING AGENTS", "ANTINEOPLASTIC - ANTHRACYCLINES") or after it
#: ("Alkylating antineoplastics"), it names that subclass only
#: (:func:`pecoma.fhir.medications.drug_classes`).
ANTINEOPLASTIC_CLASS_WORDS: Final = ("antineoplastic",)

#: Words an allergy's text or display may hold beside the substances it names that name
#: no substance themselves (each a whole word, plurals too): how the entry is worded
#: ("Allergy to", "drugs", a SNOMED CT semantic tag), a salt, a dose form or a route
#: ("Penicillin G benzathine", "amoxicillin 500 MG Oral Capsule"), the reaction. Numbers and single
#: letters name none either. Any other word left once the names pecoma knows are taken
#: out (tacrolimus, a drug it does not list, a negation such as "non-") is a part of the
#: entry that is *not identified*: the entry is not cleared by the names beside it.
ALLERGY_FILLER_WORDS: Final = (
    # how an entry is worded
    "allergy", "allergies", "allergic", "intolerance", "intolerant", "hypersensitivity",
    "sensitivity", "reaction", "adverse", "to", "of", "and", "or", "with", "containing",
    "drug", "medication", "medicine", "agent", "class", "group", "family", "type",
    "product", "preparation", "derivative", "substance", "finding", "disorder",
    "situation", "dietary", "nos", "propensity", "history", "suspected", "possible",
    "reported",
    # salts, dose forms and routes
    "benzathine", "procaine", "potassium", "sodium", "hydrochloride", "hcl", "sulfate",
    "sulphate", "trihydrate", "oral", "tablet", "capsule", "injection", "injectable",
    "solution", "suspension", "iv", "intravenous", "topical", "mg", "ml", "mcg", "unit",
    # the reaction, as free text often adds it ("Penicillin (rash)", "Sirolimus
    # (drug-induced pneumonitis)")
    "rash", "hives", "urticaria", "anaphylaxis", "anaphylactic", "angioedema", "swelling",
    "itching", "itch", "pruritus", "flushing", "nausea", "vomiting", "diarrhea",
    "diarrhoea", "gi", "upset", "stomach", "dyspnea", "dyspnoea", "shortness", "breath",
    "wheezing", "bronchospasm", "hypotension", "shock", "fever", "headache", "dizziness",
    "pneumonitis", "stomatitis", "mucositis", "blisters", "stevens", "johnson", "syndrome",
    "induced", "mild", "moderate", "severe",
)

_ENGLISH_AGENT_NAMES: Final[tuple[tuple[Agent, tuple[str, ...]], ...]] = (
    (Agent.nab_sirolimus, ("nab-sirolimus", "nab sirolimus", "albumin-bound sirolimus",
                           "sirolimus protein-bound", "fyarro",
                           # its name in the trials (AMPECT) and early-access records
                           "abi-009", "abi 009", "abi009")),
    # the mTOR inhibitors' development codes, as trial and early-access records write
    # them: CCI-779 temsirolimus, RAD001 everolimus (each a synonym of its drug in the
    # NCI Thesaurus; "Aliases: RAD001" in the Handbook of Targeted Cancer Therapy and
    # Immunotherapy's everolimus entry; the RADIANT trials are "RAD001 in Advanced
    # Neuroendocrine Tumors")
    (Agent.temsirolimus, ("temsirolimus", "torisel", "cci-779", "cci 779", "cci779")),
    (Agent.everolimus, ("everolimus", "afinitor", "votubia", "zortress", "certican",
                        "rad001", "rad-001", "rad 001")),
    (Agent.sirolimus, ("sirolimus", "rapamycin", "rapamune", "hyftor")),
    (Agent.doxorubicin_ifosfamide, ("doxorubicin and ifosfamide", "doxorubicin/ifosfamide",
                                    "doxorubicin + ifosfamide", "doxorubicin-ifosfamide")),
    (Agent.epirubicin_ifosfamide, ("epirubicin and ifosfamide", "epirubicin/ifosfamide",
                                   "epirubicin + ifosfamide", "epirubicin-ifosfamide")),
    (Agent.gemcitabine_docetaxel, ("gemcitabine and docetaxel", "gemcitabine/docetaxel",
                                   "gemcitabine + docetaxel", "gemcitabine-docetaxel")),
    # doxorubicin's brands: Adriamycin (US), Adriblastina (Pfizer, Italy: AIFA's
    # register) and Adriblastin (Pfizer, Germany and Switzerland); the liposomal forms
    # Doxil, Caelyx and Myocet are read as doxorubicin (an anthracycline given)
    (Agent.doxorubicin, ("doxorubicin", "adriamycin", "adriblastina", "adriblastin", "doxil",
                         "caelyx", "myocet")),
    (Agent.epirubicin, ("epirubicin", "ellence", "pharmorubicin", "farmorubicin",
                        "farmorubicine", "farmorubicina")),
    # Mitoxana: ifosfamide's brand in the UK (Baxter; the eMC's SmPC)
    (Agent.ifosfamide, ("ifosfamide", "ifex", "holoxan", "mitoxana")),
    # DTIC, dacarbazine's usual abbreviation (dimethyl-triazeno-imidazole-carboxamide),
    # and its brands DTIC-Dome (Bayer, US: Drugs@FDA) and Déticène (France: the ANSM's
    # base de données publique des médicaments)
    (Agent.dacarbazine, ("dacarbazine", "dtic-dome", "dtic", "deticene")),
    # ET-743 (ecteinascidin 743): trabectedin's development code (its NCI Thesaurus
    # synonyms)
    (Agent.trabectedin, ("trabectedin", "yondelis", "ecteinascidin", "et-743", "et743")),
    (Agent.pazopanib, ("pazopanib", "votrient")),
    (Agent.other_chemotherapy, ("gemcitabine", "docetaxel", "paclitaxel",
                                "cyclophosphamide", "cisplatin", "carboplatin", "eribulin",
                                "gemzar", "taxotere", "taxol", "halaven",
                                # other cytotoxics a sarcoma team may order: conventional
                                # chemotherapy for S13, never "not a systemic agent"
                                "irinotecan", "topotecan", "vincristine", "vinblastine",
                                "vinorelbine", "etoposide", "temozolomide", "methotrexate",
                                "dactinomycin", "actinomycin", "oxaliplatin", "fluorouracil",
                                "capecitabine", "cabazitaxel", "pemetrexed", "mitomycin",
                                "bleomycin", "melphalan", "bendamustine", "camptosar",
                                "oncovin", "temodar",
                                # cyclophosphamide's brands: Cytoxan (US: Drugs@FDA),
                                # Endoxan (Baxter: Germany, Switzerland, Australia),
                                # Endoxana (UK: the eMC's SmPC), Procytox (Canada:
                                # Health Canada's Drug Product Database); Abraxane,
                                # nab-paclitaxel (Drugs@FDA)
                                "cytoxan", "endoxana", "endoxan", "procytox",
                                "abraxane",
                                # cytotoxics of other cancers, each with its brand
                                # (Drugs@FDA): lurbinectedin (Zepzelca; an
                                # ecteinascidin, as trabectedin is, but not it),
                                # fludarabine (Fludara) and cytarabine, mitoxantrone
                                # (Novantrone; an anthracenedione, ATC L01DB07, no
                                # anthracycline of S14), thiotepa (Tepadina)
                                "lurbinectedin", "zepzelca", "fludarabine", "fludara",
                                "cytarabine", "mitoxantrone", "novantrone", "thiotepa",
                                "tepadina",
                                # more cytotoxics of other cancers, each with its brands:
                                # cladribine (Leustatin, Drugs@FDA; a purine analogue,
                                # ATC L01BB04), chlorambucil (Leukeran) and busulfan
                                # (Myleran, Busulfex: alkylating agents, L01AA02, L01AB01,
                                # Drugs@FDA), ixabepilone (Ixempra, Drugs@FDA; an
                                # epothilone, L01DC04), hydroxyurea (INN hydroxycarbamide,
                                # Hydrea, Drugs@FDA; L01XX05), and Temodal, temozolomide's
                                # brand in the European Union (the EMA's EPAR; Temodar in
                                # the US)
                                "cladribine", "leustatin", "chlorambucil", "leukeran",
                                "busulfan", "myleran", "busulfex", "ixabepilone", "ixempra",
                                "hydroxyurea", "hydroxycarbamide", "hydrea", "temodal")),
    # Systemic anticancer agents the guideline does not name (immunotherapy, other
    # targeted drugs): a line of "another agent", never "no systemic treatment given".
    # ANTINEOPLASTIC stands for an ATC L01 code pecoma does not list (medications._words).
    (Agent.other, (ANTINEOPLASTIC, "pembrolizumab", "nivolumab", "ipilimumab",
                   "atezolizumab", "durvalumab", "avelumab", "dostarlimab", "cemiplimab",
                   "keytruda", "opdivo", "yervoy", "sunitinib", "sorafenib", "cabozantinib",
                   "regorafenib", "lenvatinib", "imatinib", "anlotinib", "axitinib",
                   "bevacizumab", "avastin", "olaratumab", "tazemetostat", "nirogacestat",
                   "sutent", "nexavar", "cabometyx", "stivarga", "lenvima", "gleevec",
                   "glivec",
                   # selinexor (Xpovio, Drugs@FDA), an inhibitor of nuclear export
                   "selinexor", "xpovio",
                   # interferon alfa-2b (Intron A, Drugs@FDA: hairy cell leukaemia,
                   # melanoma, follicular lymphoma, Kaposi sarcoma; ATC L03AB05), an
                   # immunotherapy; "alpha" as often written
                   "interferon alfa-2b", "interferon alfa 2b", "interferon alpha-2b",
                   "interferon alpha 2b",
                   # the pegylated interferons alfa (peginterferon alfa-2a, Pegasys;
                   # peginterferon alfa-2b, PegIntron and Sylatron; ropeginterferon
                   # alfa-2b, Besremi: Drugs@FDA), each its own drug, not interferon
                   # alfa-2b as the name holds it
                   "peginterferon")),
)

#: Drugs pecoma reads as anticancer agents (:data:`AGENT_NAMES`, each by its name in
#: :data:`pecoma.fhir.medications.DRUG_NAMES`) that are given for diseases that are no
#: cancer too, each with those uses as their labels name them (Drugs@FDA): a course of
#: one whose record says nothing of a cancer may have been given for one of them, so it
#: is neither read as a line of the PEComa's nor dropped, and what it was given for is
#: asked (:func:`pecoma.fhir.medications.other_uses`). Cladribine: Mavenclad tablets for
#: relapsing multiple sclerosis (Leustatin, the injection, for hairy-cell leukaemia);
#: hydroxyurea: Droxia and Siklos for sickle cell anaemia (Hydrea for chronic myeloid
#: leukaemia and head and neck cancers; it is given for the myeloproliferative neoplasms
#: too); interferon alfa-2b: Intron A for chronic hepatitis B and C and condylomata
#: acuminata beside its cancers; the peginterferons: Pegasys and PegIntron for chronic
#: hepatitis B and C (Sylatron for melanoma, Besremi for polycythaemia vera).
OTHER_DISEASE_USES: Final[dict[str, str]] = {
    "cladribine": "multiple sclerosis",
    "hydroxyurea": "sickle cell disease",
    "interferon alfa-2b": "chronic hepatitis B and C",
    "peginterferon": "chronic hepatitis B and C",
}

#: The drugs' international nonproprietary names (INN) as other European languages spell
#: them, where the English name does not already match them: names are matched inside
#: the words of a name, accents folded (:func:`pecoma.fhir.medications.folded`), so the
#: French "doxorubicine", the Italian "doxorubicina" or the Spanish "cisplatino" are read
#: by the English name already, while the German "Ifosfamid" (and with it the Spanish and
#: Italian "ifosfamida"), the Spanish "Doxorrubicina" or the Italian "ciclofosfamide" are
#: not. Each English name (as :data:`AGENT_NAMES` writes it) -> its other spellings, from
#: the national drug lists' INN forms: German drops the final -e (Ifosfamid,
#: Gemcitabin, Etoposid; -at for -ate: Methotrexat), Spanish, Italian and Portuguese end
#: in -a or -o and may change a letter (doxorrubicina, epirrubicina, ciclofosfamida,
#: metotrexato, metotressato, bleomicina, mitomicina, melfalan), Dutch and the Nordic
#: languages write cyclofosfamide, cyklofosfamid, methotrexaat. A spelling here reads as
#: the English name's drug everywhere a name is read (orders, medication history, allergy
#: entries); the cards name the drug in English.
OTHER_LANGUAGE_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "ifosfamide": ("ifosfamid",),
    "cyclophosphamide": ("cyclophosphamid", "ciclofosfamid", "cyclofosfamid",
                         "cyklofosfamid"),
    "doxorubicin": ("doxorrubicin",),
    "epirubicin": ("epirrubicin",),
    "gemcitabine": ("gemcitabin",),
    "dacarbazine": ("dacarbazin",),
    "vincristine": ("vincristin",),
    "vinblastine": ("vinblastin",),
    "vinorelbine": ("vinorelbin",),
    "etoposide": ("etoposid",),
    "temozolomide": ("temozolomid",),
    "methotrexate": ("methotrexat", "metotrexat", "metotressat"),
    "dactinomycin": ("dactinomicin",),
    "capecitabine": ("capecitabin",),
    "bendamustine": ("bendamustin",),
    "mitomycin": ("mitomicin",),
    "bleomycin": ("bleomicin",),
    "melphalan": ("melfalan",),
    "fludarabine": ("fludarabin",),
    "cytarabine": ("cytarabin", "citarabin"),
    "mitoxantrone": ("mitoxantron",),
}

#: The English name each spelling of :data:`OTHER_LANGUAGE_NAMES` stands for.
ENGLISH_NAME_OF: Final[dict[str, str]] = {
    other: name for name, others in OTHER_LANGUAGE_NAMES.items() for other in others}


def _with_other_languages(
        names: tuple[tuple[Agent, tuple[str, ...]], ...],
) -> tuple[tuple[Agent, tuple[str, ...]], ...]:
    """``names`` with each English name followed by its other spellings
    (:data:`OTHER_LANGUAGE_NAMES`)."""
    return tuple((agent, tuple(n for name in listed
                               for n in (name, *OTHER_LANGUAGE_NAMES.get(name, ()))))
                 for agent, listed in names)


#: Words that identify an agent in a medication's text or display, most specific first
#: (the ingredient's name, then brand names an order may carry alone), with the other
#: languages' spellings of each ingredient (:data:`OTHER_LANGUAGE_NAMES`).
AGENT_NAMES: Final = _with_other_languages(_ENGLISH_AGENT_NAMES)

_EXT_BASE: Final = f"{PECOMA_BASE}/StructureDefinition"


def ext(name: str) -> str:
    """The URL of a project extension."""
    return f"{_EXT_BASE}/{name}"


class EXT:
    """Project extension URLs (documented in docs/fhir.md)."""

    DIAGNOSIS_METHOD: Final = ext("diagnosis-method")
    PRIOR_DIAGNOSIS: Final = ext("prior-diagnosis")
    CASE_LABEL: Final = ext("case-label")
    METASTASIS_TIMING: Final = ext("metastasis-timing")
    THERAPY_SETTING: Final = ext("therapy-setting")
    THERAPY_LINE: Final = ext("therapy-line")
    BEST_RESPONSE: Final = ext("best-response")
    PROGRESSED: Final = ext("progressed")
    PROVENANCE: Final = ext("provenance")
    KNOWLEDGE_VERSION: Final = ext("knowledge-version")
    RECORD_ID: Final = ext("record-id")
    MISSING_FACT: Final = ext("missing-fact")
    REMISSION_BY: Final = ext("remission-by")
    INTOLERANCE_CLASS_WIDE: Final = ext("intolerance-class-wide")
    PRIMARY_IN_CERVIX: Final = ext("primary-in-cervix")
    PERFORMED_ON_OR_BEFORE: Final = ext("performed-on-or-before")


# Observation codes of the project code system: (code, display, case field).
OBS_DISEASE_STATUS: Final = ("disease-status", "Disease status (PEComa)")
OBS_LYMPH_NODES: Final = ("regional-lymph-nodes", "Regional lymph node status")
OBS_EXTRAPULMONARY: Final = ("extrapulmonary-disease", "Disease outside the lungs")
OBS_LOCAL_RECURRENCE: Final = ("local-recurrence", "Local recurrence present")
OBS_RESECTABLE: Final = ("resectable", "Current disease resectable")
OBS_EXCISION_FEASIBLE: Final = (
    "complete-excision-feasible", "Complete excision of all metastatic foci feasible")
OBS_DFI: Final = ("disease-free-interval", "Stated disease-free interval")
OBS_TREATMENT_END: Final = ("primary-treatment-end", "End of curative treatment of the primary")
OBS_ADJUVANT_RADIOTHERAPY: Final = (
    "adjuvant-radiotherapy", "Adjuvant radiotherapy given after the resection of the primary")
OBS_FREE_OF_DISEASE: Final = (
    "free-of-disease", "Free of disease again after recurrent or metastatic disease")
OBS_MARGIN: Final = ("resection-margin", "Resection margin (R classification)")
OBS_MITOSES: Final = ("mitoses-per-50-hpf", "Mitotic count per 50 high-power fields")
OBS_TUMOUR_SIZE: Final = ("tumour-size", "Largest tumour dimension")
OBS_MTOR_AVAILABLE: Final = ("mtor-inhibitor-available", "mTOR inhibitor available")
OBS_MTOR_CONTRA: Final = ("mtor-inhibitor-contraindicated", "mTOR inhibitor contraindicated")
OBS_ANTHRACYCLINE_CONTRA: Final = (
    "anthracycline-contraindicated", "Every anthracycline contraindicated")
OBS_GROSS_RESIDUE_CLEARED: Final = (
    "gross-residue-cleared", "Gross tumour left by the resection cleared without a further "
    "resection")
OBS_FEATURES_BEFORE_SYSTEMIC: Final = (
    "features-before-systemic-therapy",
    "Tumour size and histology features recorded before systemic therapy")

#: Histology features: case field -> (project code, display).
HISTOLOGY: Final[dict[str, tuple[str, str]]] = {
    "necrosis": ("necrosis", "Tumour necrosis"),
    "infiltrative_growth": ("infiltrative-growth", "Infiltrative growth pattern"),
    "high_nuclear_grade_and_cellularity": (
        "high-nuclear-grade-and-cellularity", "High nuclear grade and cellularity"),
    "vascular_invasion": ("vascular-invasion", "(Lympho)vascular invasion"),
    "nuclear_pleomorphism_or_giant_cells": (
        "nuclear-pleomorphism-or-giant-cells",
        "Nuclear pleomorphism or multinucleated giant cells"),
}

#: Immunohistochemistry markers: case field -> (project code, display).
IHC: Final[dict[str, tuple[str, str]]] = {
    "hmb45": ("ihc-hmb45", "HMB-45 immunohistochemistry"),
    "melan_a": ("ihc-melan-a", "Melan-A immunohistochemistry"),
    "mitf": ("ihc-mitf", "MITF immunohistochemistry"),
    "cathepsin_k": ("ihc-cathepsin-k", "Cathepsin K immunohistochemistry"),
    "sma": ("ihc-sma", "Smooth-muscle actin immunohistochemistry"),
    "desmin": ("ihc-desmin", "Desmin immunohistochemistry"),
    "h_caldesmon": ("ihc-h-caldesmon", "h-Caldesmon immunohistochemistry"),
    "tfe3": ("ihc-tfe3", "TFE3 immunohistochemistry"),
}

CONDITION_PECOMA: Final = ("pecoma", "Perivascular epithelioid cell tumour (PEComa)")
CONDITION_METASTASIS: Final = ("metastasis", "Distant metastasis of PEComa")
PROCEDURE_RESECTION: Final = ("resection", "Resection of the primary PEComa")
IMAGING_CHEST_CT: Final = ("imaging-chest-ct", "CT of the chest")
IMAGING_MRI_PRIMARY: Final = ("imaging-mri-primary-site", "MRI of the primary site")
IMAGING_OTHER: Final = ("imaging-as-planned", "Imaging as planned by the sarcoma team")
SURVEILLANCE_VISIT: Final = ("surveillance-visit", "PEComa surveillance visit")


def site_code(value: str) -> str:
    """Project code of a primary or metastatic site (one code per enum value)."""
    return "site-" + value.replace("_", "-")


def agent_code(agent: Agent) -> str:
    """Project code of a systemic agent."""
    return "agent-" + agent.value.replace("_", "-")


AGENT_BY_CODE: Final[dict[str, Agent]] = {agent_code(a): a for a in Agent}
