"""Procedure codes pecoma reads as a resection, and the organ each one removes (all or part).

A Coding's ``display`` is optional (FHIR R4 Coding): an EHR may send a nephrectomy as
SNOMED CT 175905003, CPT 50230 or ICD-10-PCS 0TT10ZZ alone. The codes below are the
resections of the organs the guideline's sites cover (kidney, uterus, liver, urinary
bladder, lung, the gastrointestinal tract, the retroperitoneum), each with the name its
terminology gives it, copied from a published value set, never written from memory:

* SNOMED CT, ICD-10-PCS, and CPT for the uterus and the bladder: the NLM Value Set
  Authority Center (VSAC) value sets of the CMS electronic clinical quality measures
  (Hysterectomy, Hysterectomy with No Residual Cervix, Cystectomy for Urology Care, Major
  Surgical Procedure, High Risk Procedures for AKI, General Surgery, Gynecological
  Surgery, Urological Surgery, Total Colectomy, Colonoscopy, Gastric Bypass Surgery,
  Head, Neck and Thoracic Surgeries with High Risk Airway Compromise), as expanded for
  the 2022 and 2026 measure updates; the names are the VSAC's (SNOMED CT fully specified
  names, the CMS ICD-10-PCS long titles, the AMA CPT descriptors).
* The SNOMED CT resections of the mCODE STU1 CancerRelatedSurgicalProcedureVS
  (``http://hl7.org/fhir/us/mcode/ValueSet/mcode-cancer-related-surgical-procedure-vs``,
  HL7 mCODE IG, tag STU1) that name one of these organs are all among them (Total,
  Radical, Partial nephrectomy; Hysterectomy, Total, Radical, Partial hysterectomy;
  Lobectomy of liver, Wedge resection of liver; Partial, Total, Radical cystectomy; Total
  lobectomy of lung, Bilobectomy, Total pneumonectomy; the colectomies and
  gastrectomies). mCODE STU2 and later bind any SNOMED CT surgical procedure, CPT or
  ICD-10-PCS code: a code of those not listed here is not read as a resection (below).
* CPT 50220 and 50230 (open nephrectomy; radical): the AMA descriptors as published by
  CMS (ASC payment addenda, short descriptor "Removal kidney open radical" for 50230).
* CPT 50543 (laparoscopic partial nephrectomy) and 50546 (laparoscopic nephrectomy,
  including partial ureterectomy), with the AMA descriptors as coding references quote
  them: 50546 from Coding Ahead's lookup
  (https://case2code.codingahead.com/cpt/codes/50546, "Official Description", AMA
  copyright), also its CPT 50546 page (https://www.codingahead.com/cpt-code-50546/) and
  RVU Edge (https://rvuedge.com/cpt-codes/surgery/50546/, "Laparoscopic nephrectomy");
  50543 from RVU Edge (https://rvuedge.com/cpt-codes/surgery/50543/, "Laparoscopic
  partial nephrectomy") and the CPT pages of codingmcw.happycovergirlco.com. Each
  removes the kidney or part of it, whichever source is read (one gives 50546 with a
  regional lymphadenectomy besides). CPT 50545 (the laparoscopic radical nephrectomy, as
  every source at hand describes it) is not listed: no source at hand quotes its
  descriptor, and the names here are copied, never written from memory; 50544 (no
  source at hand) neither.

Left out on purpose: biopsies and other diagnostic excisions (ICD-10-PCS qualifier X),
destructions and ablations, transplant and donor operations, exenterations and other
operations removing several organs (a nephrectomy with the ureter is a nephrectomy),
excisions of cysts, bullae, ulcers, septa, fistulas, fibroids, of the uterine cervix, of
the renal pelvis, of vessels, of a metastasis, codes of national SNOMED CT extensions,
and bariatric gastrectomies. A
Procedure coded only otherwise is not read as a resection; when it is linked to the
PEComa (``reasonReference``, an ICD-O-3 reason) the reader says so, so that the team can
check it (:mod:`pecoma.fhir.read_treatment`).

Set aside as not a resection (:data:`NOT_RESECTION_CODES`): excisions through a scope or
a natural opening, whose names say so (:func:`names_scope_excision`): hysteroscopic,
endoscopic, colonoscopic, sigmoidoscopic, proctoscopic, cystoscopic, transurethral,
transanal and vaginal excisions of a lesion, and the ICD-10-PCS Excision and Resection
rows of approach 7 "Via Natural or Artificial Opening" or 8 "... Endoscopic" (a
polypectomy, a TURBT, a ureteroscopic excision), except the uterus's Resection rows
(0UT97ZZ, 0UT98ZZ and their supracervical forms are hysterectomies: the CDC
severe-maternal-morbidity hysterectomy codes list 0UT90ZZ, 0UT94ZZ, 0UT97ZZ, 0UT98ZZ,
0UT9FZZ). Such an excision removes a lesion, not the organ or part of it with the intent
of the resection of S01, S03; the same words keep a Procedure from being one whatever
its code. A Procedure coded so is listed as not read (linked to the PEComa, with a note).
"""

from __future__ import annotations

import re
from typing import Final

from pecoma.case import PrimarySite

__all__ = [
    "NOT_RESECTION_CODES",
    "RESECTION_CODES",
    "SYSTEMS",
    "names_scope_excision",
    "resection_code",
    "scope_excision_code",
]

_SNOMED: Final = "http://snomed.info/sct"
_CPT: Final = "http://www.ama-assn.org/go/cpt"
_ICD10PCS: Final = "http://www.cms.gov/Medicare/Coding/ICD10"

#: The code systems read, under their FHIR URIs and their OIDs.
SYSTEMS: Final[dict[str, str]] = {
    _SNOMED: _SNOMED,
    _CPT: _CPT,
    "urn:oid:2.16.840.1.113883.6.12": _CPT,
    _ICD10PCS: _ICD10PCS,
    "urn:oid:2.16.840.1.113883.6.4": _ICD10PCS,
}

_K, _U, _L = PrimarySite.kidney, PrimarySite.uterus, PrimarySite.liver
_B, _P, _G = PrimarySite.bladder, PrimarySite.lung, PrimarySite.gastrointestinal
_R = PrimarySite.retroperitoneum

#: Words of an excision through a scope or a natural opening (hysteroscopic, transurethral,
#: colonoscopic, transanal, resectoscopic or transcervical, ICD-10-PCS approach 7 or 8
#: "Via Natural or Artificial Opening [Endoscopic]"), in :func:`pecoma.fhir.mcode.plain_words`
#: form. A laparoscopic or thoracoscopic operation is not one: ICD-10-PCS "Percutaneous
#: Endoscopic Approach", approach F "Via Natural or Artificial Opening With Percutaneous
#: Endoscopic Assistance", "laparoendoscopic" and "video-assisted endoscopic" are left out.
_SCOPE_WORDS: Final = re.compile(
    r"hysteroscop|resectoscop|transcervical|transurethral|\bturbt?\b|polypectomy|colonoscop"
    r"|cystoscop|sigmoidoscop|proctoscop|gastroscop|ureteroscop|enteroscop"
    r"|(?<!percutaneous )(?<!laparo)(?<!video-assisted )(?<!video assisted )endoscop"
    r"|via natural or artificial opening(?! with percutaneous)|transanal|vaginal excision")
#: Words of an operation that removes the whole organ, or a segment of it, whatever the
#: route (a vaginal or a natural-orifice hysterectomy, a transanal colectomy or total
#: mesorectal excision, a wedge resection or segmentectomy of the lung; ICD-10-PCS
#: "Resection of <body part>, Via Natural or Artificial Opening": root operation T is the
#: whole body part, a transanal proctectomy or a vaginal hysterectomy).
_WHOLE_ORGAN_WORDS: Final = re.compile(
    r"hysterectomy|nephrectomy|cystectomy|colectomy|proctectomy|gastrectomy|hepatectomy"
    r"|pneumonectomy|\blobectomy|segmentectomy|wedge resection|mesorectal"
    r"|\bresection of [a-z ]+(?:, [a-z ]+)?, via natural or artificial opening")


def names_scope_excision(words: str) -> bool:
    """Whether words (lower case, :func:`pecoma.fhir.mcode.plain_words` form) name an
    excision through a scope or a natural opening (a hysteroscopic or colonoscopic
    excision of a lesion, a polypectomy, a transurethral resection of a bladder tumour,
    a transanal local excision) and no operation removing the organ or a segment of it:
    such an excision is not the resection of a PEComa primary (S01, S03), whatever its
    code."""
    return _SCOPE_WORDS.search(words) is not None and _WHOLE_ORGAN_WORDS.search(words) is None


#: (system, code) -> (the organ, the code's name in its terminology), as published.
_LISTED: Final[dict[tuple[str, str], tuple[PrimarySite, str]]] = {
    (_SNOMED, "442919002"): (_K, "Adrenal sparing radical nephrectomy (procedure)"),
    (_SNOMED, "765472003"): (_K, "Excision of left kidney (procedure)"),
    (_SNOMED, "69762004"): (_K, "Excision of lesion of kidney (procedure)"),
    (_SNOMED, "51870000"): (
        _K,
        "Excision of lesion of kidney with partial nephrectomy (procedure)"),
    (_SNOMED, "722274008"): (_K, "Excision of neoplasm of kidney (procedure)"),
    (_SNOMED, "765473008"): (_K, "Excision of right kidney (procedure)"),
    (_SNOMED, "49780003"): (_K, "Heminephrectomy (procedure)"),
    (_SNOMED, "175916005"): (_K, "Heminephrectomy for duplex kidney (procedure)"),
    (_SNOMED, "175908001"): (_K, "Heminephrectomy for horseshoe kidney (procedure)"),
    (_SNOMED, "287730002"): (_K, "Kidney - local excision (procedure)"),
    (_SNOMED, "108022006"): (_K, "Kidney excision (procedure)"),
    (_SNOMED, "698869007"): (_K, "Laparoscopic bilateral total nephrectomy (procedure)"),
    (_SNOMED, "440446009"): (
        _K,
        "Laparoscopic excision of kidney and partial excision of ureter (procedure)"),
    (_SNOMED, "439964001"): (
        _K,
        "Laparoscopic excision of kidney and total excision of ureter (procedure)"),
    (_SNOMED, "1119317007"): (_K, "Laparoscopic excision of part of left kidney (procedure)"),
    (_SNOMED, "1119318002"): (_K, "Laparoscopic excision of part of right kidney (procedure)"),
    (_SNOMED, "446990000"): (_K, "Laparoscopic excision of ureter and kidney (procedure)"),
    (_SNOMED, "439739008"): (_K, "Laparoscopic partial excision of kidney (procedure)"),
    (_SNOMED, "708929007"): (
        _K,
        "Laparoscopic partial excision of kidney using robotic assistance (procedure)"),
    (_SNOMED, "439235001"): (_K, "Laparoscopic radical nephrectomy (procedure)"),
    (_SNOMED, "712998006"): (
        _K,
        "Laparoscopic radical nephrectomy using robotic assistance (procedure)"),
    (_SNOMED, "446296004"): (_K, "Laparoscopic total excision of kidney (procedure)"),
    (_SNOMED, "1017217001"): (_K, "Laparoscopic total excision of left kidney (procedure)"),
    (_SNOMED, "1017216005"): (_K, "Laparoscopic total excision of right kidney (procedure)"),
    (_SNOMED, "736617005"): (_K, "Local excision of lesion of kidney (procedure)"),
    (_SNOMED, "175918006"): (_K, "Lower polar partial nephrectomy (procedure)"),
    (_SNOMED, "236140002"): (_K, "Middle partial nephrectomy (procedure)"),
    (_SNOMED, "361249003"): (_K, "Nephrectomy with excision of perirenal tissue (procedure)"),
    (_SNOMED, "81516001"): (_K, "Partial nephrectomy (procedure)"),
    (_SNOMED, "116033007"): (_K, "Radical nephrectomy (procedure)"),
    (_SNOMED, "116166009"): (_K, "Radical nephrectomy AND ipsilateral adrenalectomy (procedure)"),
    (_SNOMED, "714031000"): (_K, "Single port laparoscopic nephrectomy (procedure)"),
    (_SNOMED, "1866009"): (_K, "Total excision of bilateral kidneys (procedure)"),
    (_SNOMED, "444083005"): (_K, "Total excision of left kidney (procedure)"),
    (_SNOMED, "443869003"): (_K, "Total excision of right kidney (procedure)"),
    (_SNOMED, "175905003"): (_K, "Total nephrectomy (procedure)"),
    (_SNOMED, "175917001"): (_K, "Upper polar partial nephrectomy (procedure)"),
    (_SNOMED, "116141005"): (_U, "Abdominal hysterectomy (procedure)"),
    (_SNOMED, "302191001"): (
        _U,
        "Abdominal hysterectomy and left salpingo-oophorectomy (procedure)"),
    (_SNOMED, "302190000"): (
        _U,
        "Abdominal hysterectomy and right salpingo-oophorectomy (procedure)"),
    (_SNOMED, "413144006"): (_U, "Abdominal hysterectomy with conservation of ovaries (procedure)"),
    (_SNOMED, "265065000"): (_U, "Endoscopic excision of lesion of uterus (procedure)"),
    (_SNOMED, "1304071003"): (
        _U,
        "Endoscopic vaginal natural orifice transluminal hysterectomy (procedure)"),
    (_SNOMED, "88218008"): (_U, "Excision of lesion of uterus (procedure)"),
    (_SNOMED, "359983000"): (_U, "Heaney operation for vaginal hysterectomy (procedure)"),
    (_SNOMED, "236886002"): (_U, "Hysterectomy (procedure)"),
    (_SNOMED, "236887006"): (_U, "Laparoscopic hysterectomy (procedure)"),
    (_SNOMED, "236891001"): (_U, "Laparoscopic radical hysterectomy (procedure)"),
    (_SNOMED, "708878003"): (
        _U,
        "Laparoscopic radical hysterectomy using robotic assistance (procedure)"),
    (_SNOMED, "431316002"): (_U, "Laparoscopic subtotal hysterectomy (procedure)"),
    (_SNOMED, "236889009"): (_U, "Laparoscopic supracervical hysterectomy (procedure)"),
    (_SNOMED, "414575003"): (
        _U,
        "Laparoscopic total abdominal hysterectomy and bilateral salpingo-oophorectomy "
        "(procedure)"),
    (_SNOMED, "236888001"): (_U, "Laparoscopic total hysterectomy (procedure)"),
    (_SNOMED, "708877008"): (
        _U,
        "Laparoscopic total hysterectomy using robotic assistance (procedure)"),
    (_SNOMED, "1303414001"): (_U, "Laparoscopic vaginal hysterectomy (procedure)"),
    (_SNOMED, "708985003"): (
        _U,
        "Laparoscopic vaginal hysterectomy using robotic assistance (procedure)"),
    (_SNOMED, "75835007"): (_U, "Laparoscopic-assisted vaginal hysterectomy (procedure)"),
    (_SNOMED, "441820006"): (
        _U,
        "Laparoscopic-assisted vaginal hysterectomy with bilateral salpingo-oophorectomy "
        "(procedure)"),
    (_SNOMED, "359977003"): (_U, "Mayo operation for vaginal hysterectomy (procedure)"),
    (_SNOMED, "450692005"): (_U, "Open excision of lesion of uterus (procedure)"),
    (_SNOMED, "387643005"): (_U, "Partial hysterectomy (procedure)"),
    (_SNOMED, "307771009"): (_U, "Radical abdominal hysterectomy (procedure)"),
    (_SNOMED, "116142003"): (_U, "Radical hysterectomy (procedure)"),
    (_SNOMED, "35955002"): (_U, "Radical vaginal hysterectomy (procedure)"),
    (_SNOMED, "176795006"): (_U, "Subtotal abdominal hysterectomy (procedure)"),
    (_SNOMED, "1187630003"): (_U, "Subtotal hysterectomy via vaginal approach (procedure)"),
    (_SNOMED, "387644004"): (_U, "Supracervical hysterectomy (procedure)"),
    (_SNOMED, "739669004"): (
        _U,
        "Supracervical hysterectomy with left salpingo-oophorectomy (procedure)"),
    (_SNOMED, "29529008"): (
        _U,
        "Supracervical hysterectomy with removal of both tubes and ovaries (procedure)"),
    (_SNOMED, "739670003"): (
        _U,
        "Supracervical hysterectomy with right salpingo-oophorectomy (procedure)"),
    (_SNOMED, "116143008"): (_U, "Total abdominal hysterectomy (procedure)"),
    (_SNOMED, "116144002"): (
        _U,
        "Total abdominal hysterectomy with bilateral salpingo-oophorectomy (procedure)"),
    (_SNOMED, "116140006"): (_U, "Total hysterectomy (procedure)"),
    (_SNOMED, "767610009"): (_U, "Total hysterectomy via vaginal approach (procedure)"),
    (_SNOMED, "739671004"): (_U, "Total hysterectomy with left oophorectomy (procedure)"),
    (_SNOMED, "740515000"): (_U, "Total hysterectomy with left salpingectomy (procedure)"),
    (_SNOMED, "739673001"): (_U, "Total hysterectomy with left salpingo-oophorectomy (procedure)"),
    (_SNOMED, "86477000"): (
        _U,
        "Total hysterectomy with removal of both tubes and ovaries (procedure)"),
    (_SNOMED, "739672006"): (_U, "Total hysterectomy with right oophorectomy (procedure)"),
    (_SNOMED, "740514001"): (_U, "Total hysterectomy with right salpingectomy (procedure)"),
    (_SNOMED, "739674007"): (_U, "Total hysterectomy with right salpingo-oophorectomy (procedure)"),
    (_SNOMED, "27950001"): (_U, "Total hysterectomy with unilateral removal of ovary (procedure)"),
    (_SNOMED, "31545000"): (_U, "Total hysterectomy with unilateral removal of tube (procedure)"),
    (_SNOMED, "59750000"): (
        _U,
        "Total hysterectomy with unilateral removal of tube and ovary (procedure)"),
    (_SNOMED, "446679008"): (
        _U,
        "Total laparoscopic excision of uterus by abdominal approach (procedure)"),
    (_SNOMED, "387646002"): (_U, "Uterine fundectomy (procedure)"),
    (_SNOMED, "176895001"): (_U, "Vaginal excision of lesion of uterus (procedure)"),
    (_SNOMED, "265056007"): (_U, "Vaginal hysterectomy (procedure)"),
    (_SNOMED, "413145007"): (_U, "Vaginal hysterectomy with conservation of ovaries (procedure)"),
    (_SNOMED, "359980002"): (_U, "Vaginal panhysterectomy (procedure)"),
    (_SNOMED, "72106008"): (_L, "Excision of lesion of liver (procedure)"),
    (_SNOMED, "107963000"): (_L, "Excision of liver (procedure)"),
    (_SNOMED, "426989003"): (_L, "Excision of multiple lesions of liver (procedure)"),
    (_SNOMED, "307615003"): (_L, "Extended left hemihepatectomy (procedure)"),
    (_SNOMED, "307010009"): (_L, "Extended right hemihepatectomy (procedure)"),
    (_SNOMED, "700196009"): (_L, "Extracorporeal resection of liver (procedure)"),
    (_SNOMED, "63816008"): (_L, "Hepatectomy, total left lobectomy (procedure)"),
    (_SNOMED, "61326000"): (_L, "Hepatectomy, total right lobectomy (procedure)"),
    (_SNOMED, "74180003"): (_L, "Hepatectomy, trisegmentectomy (procedure)"),
    (_SNOMED, "736758005"): (
        _L,
        "Laparoscopic excision of lateral segment of left lobe of liver (procedure)"),
    (_SNOMED, "1255424002"): (
        _L,
        "Laparoscopic excision of part of liver using robotic assistance (procedure)"),
    (_SNOMED, "897702006"): (_L, "Laparoscopic extended left hemihepatectomy (procedure)"),
    (_SNOMED, "897703001"): (_L, "Laparoscopic extended right hemihepatectomy (procedure)"),
    (_SNOMED, "708589000"): (_L, "Laparoscopic resection of segment of liver (procedure)"),
    (_SNOMED, "708889005"): (
        _L,
        "Laparoscopic segmentectomy of liver using robotic assistance (procedure)"),
    (_SNOMED, "715805005"): (_L, "Laparoscopic sub-segmentectomy of liver (procedure)"),
    (_SNOMED, "897705008"): (_L, "Laparoscopic trisegmentectomy of left lobe of liver (procedure)"),
    (_SNOMED, "897706009"): (
        _L,
        "Laparoscopic trisegmentectomy of right lobe of liver (procedure)"),
    (_SNOMED, "708590009"): (_L, "Laparoscopic wedge resection of liver (procedure)"),
    (_SNOMED, "708818009"): (
        _L,
        "Laparoscopic wedge resection of liver using robotic assistance (procedure)"),
    (_SNOMED, "85946004"): (_L, "Lobectomy of liver (procedure)"),
    (_SNOMED, "15257006"): (
        _L,
        "Lobectomy of liver with partial excision of adjacent lobes (procedure)"),
    (_SNOMED, "71273005"): (_L, "Partial hepatectomy (procedure)"),
    (_SNOMED, "713519000"): (_L, "Partial lobectomy of liver (procedure)"),
    (_SNOMED, "174430004"): (_L, "Resection of segment of liver (procedure)"),
    (_SNOMED, "17203000"): (_L, "Total hepatectomy (procedure)"),
    (_SNOMED, "174431000"): (_L, "Wedge resection of liver (procedure)"),
    (_SNOMED, "287722003"): (_B, "Cystectomy - wedge resection (procedure)"),
    (_SNOMED, "386793005"): (
        _B,
        "Cystoscopy and transurethral resection of lesion of urinary bladder (procedure)"),
    (_SNOMED, "386791007"): (
        _B,
        "Cystoscopy and transurethral resection of neoplasm of urinary bladder (procedure)"),
    (_SNOMED, "287723008"): (_B, "Excision of dome of urinary bladder (procedure)"),
    (_SNOMED, "57639000"): (_B, "Excision of lesion of urinary bladder (procedure)"),
    (_SNOMED, "447308003"): (_B, "Excision of urethra and urinary bladder (procedure)"),
    (_SNOMED, "108034003"): (_B, "Excision of urinary bladder (procedure)"),
    (_SNOMED, "176158003"): (
        _B,
        "Flexible cystoscopic excision of lesion of urinary bladder (procedure)"),
    (_SNOMED, "73966002"): (_B, "Hemicystectomy (procedure)"),
    (_SNOMED, "446586007"): (_B, "Laparoscopic partial excision of urinary bladder (procedure)"),
    (_SNOMED, "1287977006"): (_B, "Laparoscopic radical cystectomy (procedure)"),
    (_SNOMED, "708928004"): (
        _B,
        "Laparoscopic radical cystectomy using robotic assistance (procedure)"),
    (_SNOMED, "447307008"): (_B, "Laparoscopic total excision of urinary bladder (procedure)"),
    (_SNOMED, "176143006"): (_B, "Open excision of lesion of urinary bladder (procedure)"),
    (_SNOMED, "287726000"): (_B, "Open excision of neoplasm of urinary bladder (procedure)"),
    (_SNOMED, "288013007"): (_B, "Open excision of urinary bladder (procedure)"),
    (_SNOMED, "236213005"): (_B, "Partial cystectomy with excision of urachal remnant (procedure)"),
    (_SNOMED, "90648000"): (
        _B,
        "Partial cystectomy with reimplantation of ureter into urinary bladder (procedure)"),
    (_SNOMED, "85175006"): (_B, "Partial cystectomy, complicated (procedure)"),
    (_SNOMED, "112902005"): (_B, "Partial urinary cystectomy (procedure)"),
    (_SNOMED, "64063003"): (_B, "Radical cystectomy (procedure)"),
    (_SNOMED, "176155000"): (
        _B,
        "Rigid cystoscopy and transurethral resection of lesion of urinary bladder "
        "(procedure)"),
    (_SNOMED, "176108005"): (_B, "Simple cystectomy (procedure)"),
    (_SNOMED, "63016009"): (_B, "Total resection of urinary bladder (procedure)"),
    (_SNOMED, "1197529002"): (
        _B,
        "Transurethral en bloc excision of neoplasm of urinary bladder (procedure)"),
    (_SNOMED, "386792000"): (
        _B,
        "Transurethral excision of neoplasm of urinary bladder (procedure)"),
    (_SNOMED, "287708003"): (_B, "Transurethral excision of urinary bladder (procedure)"),
    (_SNOMED, "173170008"): (_P, "Bilobectomy of lung (procedure)"),
    (_SNOMED, "735015005"): (_P, "Complete excision of left lung (procedure)"),
    (_SNOMED, "91596000"): (
        _P,
        "Complete excision of lung with mediastinal dissection (procedure)"),
    (_SNOMED, "735016006"): (_P, "Complete excision of right lung (procedure)"),
    (_SNOMED, "232646009"): (_P, "Completion pneumonectomy (procedure)"),
    (_SNOMED, "77648009"): (_P, "Excision of lesion of lung (procedure)"),
    (_SNOMED, "287430001"): (_P, "Excision of lung or bronchus (procedure)"),
    (_SNOMED, "739139005"): (_P, "Excision of middle and lower lobe of right lung (procedure)"),
    (_SNOMED, "739141006"): (_P, "Excision of middle and upper lobe of right lung (procedure)"),
    (_SNOMED, "736974006"): (_P, "Excision of middle lobe of right lung (procedure)"),
    (_SNOMED, "173172000"): (_P, "Excision of segment of lung (procedure)"),
    (_SNOMED, "232636007"): (_P, "Excision of segment of middle lobe of right lung (procedure)"),
    (_SNOMED, "232642006"): (_P, "Extrapericardial pneumonectomy (procedure)"),
    (_SNOMED, "232644007"): (_P, "Extrapleural pneumonectomy (procedure)"),
    (_SNOMED, "43232006"): (_P, "Extrapleural pneumonectomy with empyemectomy (procedure)"),
    (_SNOMED, "232643001"): (_P, "Intrapericardial pneumonectomy (procedure)"),
    (_SNOMED, "3654008"): (_P, "Lingulectomy of lung (procedure)"),
    (_SNOMED, "726426008"): (_P, "Lobectomy of lower lobe of left lung (procedure)"),
    (_SNOMED, "726425007"): (_P, "Lobectomy of lower lobe of right lung (procedure)"),
    (_SNOMED, "173171007"): (_P, "Lobectomy of lung (procedure)"),
    (_SNOMED, "232641004"): (
        _P,
        "Lobectomy of lung with excision of part of adjacent lobe (procedure)"),
    (_SNOMED, "726427004"): (_P, "Lobectomy of upper lobe of left lung (procedure)"),
    (_SNOMED, "726428009"): (_P, "Lobectomy of upper lobe of right lung (procedure)"),
    (_SNOMED, "119746007"): (_P, "Lung excision (procedure)"),
    (_SNOMED, "287310004"): (_P, "Lung tumor excision (procedure)"),
    (_SNOMED, "232634005"): (_P, "Multiple wedge excisions of lung (procedure)"),
    (_SNOMED, "173178001"): (_P, "Open excision of lesion of lung (procedure)"),
    (_SNOMED, "359615001"): (_P, "Partial lobectomy of lung (procedure)"),
    (_SNOMED, "232645008"): (_P, "Pleuropneumonectomy (procedure)"),
    (_SNOMED, "232647000"): (_P, "Pneumonectomy with tracheobronchoplasty (procedure)"),
    (_SNOMED, "232633004"): (_P, "Single wedge excision of lung (procedure)"),
    (_SNOMED, "1338057004"): (
        _P,
        "Thoracoscopic excision of lobe of lung using robotic assistance (procedure)"),
    (_SNOMED, "75935006"): (_P, "Thoracoscopic lobectomy of lung (procedure)"),
    (_SNOMED, "119000"): (_P, "Thoracoscopic partial lobectomy of lung (procedure)"),
    (_SNOMED, "25321000"): (_P, "Thoracoscopic pneumonectomy (procedure)"),
    (_SNOMED, "444188003"): (_P, "Thoracoscopic wedge resection of lung (procedure)"),
    (_SNOMED, "359623004"): (_P, "Total lobectomy of lung (procedure)"),
    (_SNOMED, "49795001"): (_P, "Total pneumonectomy (procedure)"),
    (_SNOMED, "711415002"): (
        _P,
        "Video assisted thoracoscopy for major lung resection (procedure)"),
    (_SNOMED, "232632009"): (_P, "Wedge excision of lung (procedure)"),
    (_SNOMED, "265414003"): (_G, "Abdominoperineal resection of rectum (procedure)"),
    (_SNOMED, "4558008"): (_G, "Anterior resection of rectum (procedure)"),
    (_SNOMED, "174241004"): (
        _G,
        "Anterior resection of rectum and anastomosis of colon to rectum using staples "
        "(procedure)"),
    (_SNOMED, "448143009"): (
        _G,
        "Anterior resection of rectum and total excision of mesorectum (procedure)"),
    (_SNOMED, "315328007"): (_G, "Anterior resection of rectum with anastomosis (procedure)"),
    (_SNOMED, "448050005"): (
        _G,
        "Colectomy and side to side anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "446170008"): (_G, "Colonoscopic excision of lesion of large intestine (procedure)"),
    (_SNOMED, "1304049008"): (_G, "Colonoscopy and full thickness resection of colon (procedure)"),
    (_SNOMED, "1304045002"): (_G, "Colonoscopy and full thickness resection of rectum (procedure)"),
    (_SNOMED, "1304050008"): (
        _G,
        "Colonoscopy and full thickness resection of small intestine (procedure)"),
    (_SNOMED, "439878001"): (_G, "Completion gastrectomy (procedure)"),
    (_SNOMED, "85217002"): (_G, "Distal subtotal gastrectomy (procedure)"),
    (_SNOMED, "73759005"): (_G, "Duodenectomy (procedure)"),
    (_SNOMED, "43750003"): (_G, "Endoscopic excision of lesion of duodenum (procedure)"),
    (_SNOMED, "78133002"): (_G, "Endoscopic excision of lesion of large intestine (procedure)"),
    (_SNOMED, "42527001"): (_G, "Endoscopic excision of lesion of stomach (procedure)"),
    (_SNOMED, "609279008"): (_G, "Endoscopic excision of tissue of large intestine (procedure)"),
    (_SNOMED, "609281005"): (_G, "Endoscopic excision of tissue of stomach (procedure)"),
    (_SNOMED, "1263735008"): (
        _G,
        "Endoscopic microsurgical excision of rectum by transanal approach (procedure)"),
    (_SNOMED, "307583008"): (_G, "Excision of cecum (procedure)"),
    (_SNOMED, "23968004"): (_G, "Excision of colon (procedure)"),
    (_SNOMED, "174059005"): (_G, "Excision of colon and rectum (procedure)"),
    (_SNOMED, "787109009"): (_G, "Excision of entire colon and entire rectum (procedure)"),
    (_SNOMED, "1263412009"): (_G, "Excision of entire pyloric portion of stomach (procedure)"),
    (_SNOMED, "87279008"): (_G, "Excision of lesion of colon (procedure)"),
    (_SNOMED, "88888008"): (_G, "Excision of lesion of duodenum (procedure)"),
    (_SNOMED, "173903007"): (_G, "Excision of lesion of jejunum (procedure)"),
    (_SNOMED, "9121000"): (_G, "Excision of lesion of large intestine (procedure)"),
    (_SNOMED, "79764004"): (_G, "Excision of lesion of rectum (procedure)"),
    (_SNOMED, "265425007"): (_G, "Excision of lesion of rectum by transanal approach (procedure)"),
    (_SNOMED, "1264200003"): (
        _G,
        "Excision of lesion of rectum by transanal minimal invasive surgery (procedure)"),
    (_SNOMED, "66343001"): (_G, "Excision of lesion of small intestine (procedure)"),
    (_SNOMED, "32327002"): (_G, "Excision of lesion of stomach (procedure)"),
    (_SNOMED, "33507007"): (
        _G,
        "Excision of malignant tumor of rectum by transanal approach (procedure)"),
    (_SNOMED, "444165004"): (
        _G,
        "Excision of part of colon and excision of terminal ileum with ileocolic anastomosis "
        "(procedure)"),
    (_SNOMED, "443909001"): (
        _G,
        "Excision of part of colon with mobilization of splenic flexure (procedure)"),
    (_SNOMED, "12827003"): (_G, "Excision of part of rectum (procedure)"),
    (_SNOMED, "443908009"): (_G, "Excision of part of rectum by perineal approach (procedure)"),
    (_SNOMED, "712880008"): (_G, "Excision of proximal stomach using laparoscope (procedure)"),
    (_SNOMED, "448156002"): (_G, "Excision of rectum by transanal approach (procedure)"),
    (_SNOMED, "442806002"): (
        _G,
        "Excision of rectum with anastomosis of colon to anus and creation of colonic "
        "reservoir (procedure)"),
    (_SNOMED, "53442002"): (_G, "Excision of stomach structure (procedure)"),
    (_SNOMED, "64289008"): (_G, "Excision of tumor of stomach (procedure)"),
    (_SNOMED, "235325001"): (_G, "Extended left hemicolectomy (procedure)"),
    (_SNOMED, "174071004"): (_G, "Extended right hemicolectomy (procedure)"),
    (_SNOMED, "174073001"): (
        _G,
        "Extended right hemicolectomy and anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "174072006"): (
        _G,
        "Extended right hemicolectomy and end-to-end anastomosis (procedure)"),
    (_SNOMED, "359575000"): (_G, "Gastrectomy with jejunal transposition (procedure)"),
    (_SNOMED, "83857006"): (_G, "Gastroduodenectomy (procedure)"),
    (_SNOMED, "446228006"): (_G, "Hand-assisted laparoscopic extended left colectomy (procedure)"),
    (_SNOMED, "447166008"): (_G, "Hand-assisted laparoscopic extended right colectomy (procedure)"),
    (_SNOMED, "446222007"): (_G, "Hand-assisted laparoscopic left colectomy (procedure)"),
    (_SNOMED, "446223002"): (_G, "Hand-assisted laparoscopic right colectomy (procedure)"),
    (_SNOMED, "40234006"): (_G, "Hemigastrectomy (procedure)"),
    (_SNOMED, "112860004"): (_G, "Hemigastrectomy by abdominal approach (procedure)"),
    (_SNOMED, "46936007"): (_G, "Hemigastrectomy by thoracic approach (procedure)"),
    (_SNOMED, "400988008"): (_G, "High anterior resection of rectum (procedure)"),
    (_SNOMED, "43344006"): (_G, "Hofmeister operation, gastrectomy (procedure)"),
    (_SNOMED, "275162000"): (_G, "Hofmeister valved gastrectomy (procedure)"),
    (_SNOMED, "173948006"): (_G, "Ileectomy and anastomosis of duodenum to ileum (procedure)"),
    (_SNOMED, "173950003"): (_G, "Ileectomy and anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "173949003"): (_G, "Ileectomy and anastomosis of ileum to ileum (procedure)"),
    (_SNOMED, "173947001"): (_G, "Ileectomy and anastomosis of stomach to ileum (procedure)"),
    (_SNOMED, "276190007"): (_G, "Ileocolic resection (procedure)"),
    (_SNOMED, "22324003"): (
        _G,
        "Jejunectomy, resection of a segment or all of jejunum (procedure)"),
    (_SNOMED, "708920006"): (
        _G,
        "Laparoscopic anterior resection of rectum using robotic assistance (procedure)"),
    (_SNOMED, "711229004"): (_G, "Laparoscopic distal subtotal gastrectomy (procedure)"),
    (_SNOMED, "1260402001"): (
        _G,
        "Laparoscopic excision of entire pyloric portion of stomach (procedure)"),
    (_SNOMED, "1220549001"): (_G, "Laparoscopic excision of ileum (procedure)"),
    (_SNOMED, "1220546008"): (_G, "Laparoscopic excision of jejunum (procedure)"),
    (_SNOMED, "445838004"): (
        _G,
        "Laparoscopic excision of lesion of stomach by intragastric approach (procedure)"),
    (_SNOMED, "443480008"): (_G, "Laparoscopic excision of part of colon (procedure)"),
    (_SNOMED, "708627007"): (_G, "Laparoscopic excision of small intestine (procedure)"),
    (_SNOMED, "712992007"): (
        _G,
        "Laparoscopic low anterior resection of rectum using robotic assistance (procedure)"),
    (_SNOMED, "708643000"): (
        _G,
        "Laparoscopic proximal subtotal gastrectomy using robotic assistance (procedure)"),
    (_SNOMED, "787108001"): (
        _G,
        "Laparoscopic restorative proctocolectomy with ileal pouch anal anastomosis "
        "(procedure)"),
    (_SNOMED, "1303413007"): (_G, "Laparoscopic sigmoid colectomy (procedure)"),
    (_SNOMED, "787874000"): (_G, "Laparoscopic total colectomy (procedure)"),
    (_SNOMED, "713165008"): (
        _G,
        "Laparoscopic total colectomy with ileo-rectal anastomosis (procedure)"),
    (_SNOMED, "708987006"): (_G, "Laparoscopic total gastrectomy (procedure)"),
    (_SNOMED, "307586000"): (_G, "Laparoscopic transverse colectomy (procedure)"),
    (_SNOMED, "446830003"): (_G, "Laparoscopic wedge resection of lesion of stomach (procedure)"),
    (_SNOMED, "90527009"): (_G, "Laparoscopic-assisted anterior resection of rectum (procedure)"),
    (_SNOMED, "41330009"): (_G, "Laparoscopic-assisted left colectomy (procedure)"),
    (_SNOMED, "708631001"): (
        _G,
        "Laparoscopic-assisted low anterior resection of rectum (procedure)"),
    (_SNOMED, "50774009"): (_G, "Laparoscopic-assisted right colectomy (procedure)"),
    (_SNOMED, "1390003"): (_G, "Laparoscopic-assisted sigmoid colectomy (procedure)"),
    (_SNOMED, "107944001"): (_G, "Large intestine excision (procedure)"),
    (_SNOMED, "82619000"): (_G, "Left colectomy (procedure)"),
    (_SNOMED, "174093009"): (
        _G,
        "Left hemicolectomy and end to end anastomosis of colon to rectum (procedure)"),
    (_SNOMED, "174094003"): (
        _G,
        "Left hemicolectomy and end-to-end anastomosis of colon to colon (procedure)"),
    (_SNOMED, "315324009"): (_G, "Left hemicolectomy with anastomosis (procedure)"),
    (_SNOMED, "709192002"): (_G, "Local excision of lesion of duodenum (procedure)"),
    (_SNOMED, "443918004"): (_G, "Local excision of malignant neoplasm of stomach (procedure)"),
    (_SNOMED, "287784004"): (_G, "Local excision of rectum (procedure)"),
    (_SNOMED, "314592008"): (_G, "Low anterior resection of rectum (procedure)"),
    (_SNOMED, "448474003"): (
        _G,
        "Low anterior resection of rectum and total excision of mesorectum (procedure)"),
    (_SNOMED, "173722008"): (_G, "Maki's pylorus-preserving gastrectomy (procedure)"),
    (_SNOMED, "11626008"): (_G, "Miles operation, complete proctectomy (procedure)"),
    (_SNOMED, "54747001"): (_G, "Multiple segmental resections of large intestine (procedure)"),
    (_SNOMED, "73978003"): (_G, "Multiple segmental resections of small intestine (procedure)"),
    (_SNOMED, "1220548009"): (_G, "Open excision of ileum (procedure)"),
    (_SNOMED, "1220544006"): (_G, "Open excision of jejunum (procedure)"),
    (_SNOMED, "174247000"): (_G, "Open excision of lesion of rectum (procedure)"),
    (_SNOMED, "303401008"): (
        _G,
        "Parks panproctocolectomy, anastomosis of ileum to anus and creation of pouch "
        "(procedure)"),
    (_SNOMED, "32044008"): (_G, "Partial colectomy by abdominal approach (procedure)"),
    (_SNOMED, "13327002"): (_G, "Partial colectomy by transanal approach (procedure)"),
    (_SNOMED, "44378008"): (_G, "Partial colectomy with anastomosis (procedure)"),
    (_SNOMED, "173849004"): (_G, "Partial excision of duodenum (procedure)"),
    (_SNOMED, "27010001"): (_G, "Partial excision of large intestine (procedure)"),
    (_SNOMED, "54357003"): (_G, "Partial excision of small intestine (procedure)"),
    (_SNOMED, "445831005"): (
        _G,
        "Partial excision of stomach and jejunal transposition and excision of intestine "
        "(procedure)"),
    (_SNOMED, "173720000"): (
        _G,
        "Partial gastrectomy and anastomosis of stomach to transposed jejunum (procedure)"),
    (_SNOMED, "359579006"): (_G, "Partial gastrectomy with jejunal transposition (procedure)"),
    (_SNOMED, "287818002"): (_G, "Partial gastroduodenectomy (procedure)"),
    (_SNOMED, "116027003"): (_G, "Partial jejunectomy (procedure)"),
    (_SNOMED, "173899000"): (
        _G,
        "Partial jejunectomy and anastomosis of duodenum to colon (procedure)"),
    (_SNOMED, "173898008"): (
        _G,
        "Partial jejunectomy and anastomosis of jejunum to ileum (procedure)"),
    (_SNOMED, "43075005"): (_G, "Partial resection of colon (procedure)"),
    (_SNOMED, "367453007"): (_G, "Partial resection of intestine with anastomosis (procedure)"),
    (_SNOMED, "26565004"): (_G, "Polya operation, gastrectomy (procedure)"),
    (_SNOMED, "45220009"): (_G, "Posterior resection of rectum (procedure)"),
    (_SNOMED, "174240003"): (_G, "Proctectomy and anastomosis of colon to anus (procedure)"),
    (_SNOMED, "174321006"): (_G, "Proctoscopic excision of lesion of rectum (procedure)"),
    (_SNOMED, "116175006"): (_G, "Proximal subtotal gastrectomy (procedure)"),
    (_SNOMED, "83371007"): (_G, "Proximal subtotal gastrectomy by abdominal approach (procedure)"),
    (_SNOMED, "9102008"): (_G, "Proximal subtotal gastrectomy by thoracic approach (procedure)"),
    (_SNOMED, "287816003"): (_G, "Radical gastrectomy (procedure)"),
    (_SNOMED, "55966001"): (_G, "Rankin operation, complete proctectomy (procedure)"),
    (_SNOMED, "359587007"): (_G, "Resection of cecum and terminal ileum (procedure)"),
    (_SNOMED, "87677003"): (_G, "Resection of rectum (procedure)"),
    (_SNOMED, "53003006"): (_G, "Resection of splenic flexure of colon (procedure)"),
    (_SNOMED, "10002003"): (_G, "Resection of stomach fundus (procedure)"),
    (_SNOMED, "83985009"): (_G, "Resection of stomach with gastrojejunal anastomosis (procedure)"),
    (_SNOMED, "307193005"): (_G, "Resection of terminal ileum (procedure)"),
    (_SNOMED, "359571009"): (_G, "Right colectomy (procedure)"),
    (_SNOMED, "315321001"): (
        _G,
        "Right hemicolectomy and anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "174080004"): (
        _G,
        "Right hemicolectomy and end to end anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "174081000"): (
        _G,
        "Right hemicolectomy and side-to-side anastomosis of ileum to transverse colon "
        "(procedure)"),
    (_SNOMED, "1260408002"): (_G, "Segmental excision of duodenum (procedure)"),
    (_SNOMED, "84604002"): (_G, "Sigmoid colectomy (procedure)"),
    (_SNOMED, "174101001"): (
        _G,
        "Sigmoid colectomy and anastomosis of colon to rectum (procedure)"),
    (_SNOMED, "174100000"): (
        _G,
        "Sigmoid colectomy and end-to-end anastomosis of ileum to rectum (procedure)"),
    (_SNOMED, "315326006"): (_G, "Sigmoid colectomy with anastomosis (procedure)"),
    (_SNOMED, "445892000"): (
        _G,
        "Sigmoidoscopic excision of lesion of large intestine (procedure)"),
    (_SNOMED, "1304057006"): (
        _G,
        "Sigmoidoscopy and full thickness resection of colon (procedure)"),
    (_SNOMED, "1304053005"): (
        _G,
        "Sigmoidoscopy and full thickness resection of rectum (procedure)"),
    (_SNOMED, "107938000"): (_G, "Small intestine excision (procedure)"),
    (_SNOMED, "440715006"): (_G, "Stapled transanal resection of rectum (procedure)"),
    (_SNOMED, "307654002"): (_G, "Subtotal colectomy with cecorectal anastomosis (procedure)"),
    (_SNOMED, "307659007"): (_G, "Subtotal colectomy with ileorectal anastomosis (procedure)"),
    (_SNOMED, "307656000"): (_G, "Subtotal colectomy with ileosigmoid anastomosis (procedure)"),
    (_SNOMED, "49209004"): (_G, "Subtotal gastrectomy (procedure)"),
    (_SNOMED, "1260433004"): (_G, "Subtotal gastrectomy using robotic assistance (procedure)"),
    (_SNOMED, "80294005"): (
        _G,
        "Total abdominal colectomy with rectal mucosectomy and ileoanal anastomosis "
        "(procedure)"),
    (_SNOMED, "26390003"): (_G, "Total colectomy (procedure)"),
    (_SNOMED, "173848007"): (_G, "Total excision of duodenum (procedure)"),
    (_SNOMED, "90856004"): (_G, "Total excision of small intestine (procedure)"),
    (_SNOMED, "26452005"): (_G, "Total gastrectomy (procedure)"),
    (_SNOMED, "173714001"): (
        _G,
        "Total gastrectomy and excision of surrounding tissue (procedure)"),
    (_SNOMED, "1260434005"): (_G, "Total gastrectomy using robotic assistance (procedure)"),
    (_SNOMED, "287809004"): (_G, "Total gastroduodenectomy (procedure)"),
    (_SNOMED, "116026007"): (_G, "Total jejunectomy (procedure)"),
    (_SNOMED, "173897003"): (
        _G,
        "Total jejunectomy and anastomosis of duodenum to colon (procedure)"),
    (_SNOMED, "173896007"): (
        _G,
        "Total jejunectomy and anastomosis of duodenum to ileum (procedure)"),
    (_SNOMED, "173895006"): (
        _G,
        "Total jejunectomy and anastomosis of stomach to ileum (procedure)"),
    (_SNOMED, "235364003"): (_G, "Total proctectomy (procedure)"),
    (_SNOMED, "65291007"): (_G, "Total resection of large intestine (procedure)"),
    (_SNOMED, "443665007"): (_G, "Transanal disk excision of rectum (procedure)"),
    (_SNOMED, "430798009"): (
        _G,
        "Transanal resection of rectum and anastomosis using staples (procedure)"),
    (_SNOMED, "26925005"): (_G, "Transverse colectomy (procedure)"),
    (_SNOMED, "174087001"): (
        _G,
        "Transverse colectomy and anastomosis of ileum to colon (procedure)"),
    (_SNOMED, "174086005"): (_G, "Transverse colectomy and end-to-end anastomosis (procedure)"),
    (_SNOMED, "315322008"): (_G, "Transverse colectomy with anastomosis (procedure)"),
    (_SNOMED, "445884009"): (_G, "Wedge resection of colon (procedure)"),
    (_SNOMED, "307009004"): (_G, "Wedge resection of rectum (procedure)"),
    (_SNOMED, "90410003"): (_G, "Wedge resection of stomach (procedure)"),
    (_SNOMED, "120175002"): (_R, "Excision from retroperitoneum (procedure)"),
    (_SNOMED, "8951004"): (_R, "Excision of lesion of retroperitoneum (procedure)"),
    (_CPT, "50220"): (
        _K,
        "Nephrectomy, including partial ureterectomy, any open approach including rib "
        "resection"),
    (_CPT, "50230"): (
        _K,
        "Nephrectomy, including partial ureterectomy, any open approach including rib "
        "resection; radical, with regional lymphadenectomy and/or vena caval thrombectomy"),
    (_CPT, "50543"): (_K, "Laparoscopy, surgical; partial nephrectomy"),
    (_CPT, "50546"): (_K, "Laparoscopy, surgical; nephrectomy, including partial ureterectomy"),
    (_CPT, "58570"): (
        _U,
        "Laparoscopy, surgical, with total hysterectomy, for uterus 250 g or less"),
    (_CPT, "58571"): (
        _U,
        "Laparoscopy, surgical, with total hysterectomy, for uterus 250 g or less; with "
        "removal of tube(s) and/or ovary(s)"),
    (_CPT, "58572"): (
        _U,
        "Laparoscopy, surgical, with total hysterectomy, for uterus greater than 250 g"),
    (_CPT, "58573"): (
        _U,
        "Laparoscopy, surgical, with total hysterectomy, for uterus greater than 250 g; with "
        "removal of tube(s) and/or ovary(s)"),
    (_CPT, "58550"): (
        _U,
        "Laparoscopy, surgical, with vaginal hysterectomy, for uterus 250 g or less"),
    (_CPT, "58552"): (
        _U,
        "Laparoscopy, surgical, with vaginal hysterectomy, for uterus 250 g or less; with "
        "removal of tube(s) and/or ovary(s)"),
    (_CPT, "58553"): (
        _U,
        "Laparoscopy, surgical, with vaginal hysterectomy, for uterus greater than 250 g"),
    (_CPT, "58554"): (
        _U,
        "Laparoscopy, surgical, with vaginal hysterectomy, for uterus greater than 250 g; "
        "with removal of tube(s) and/or ovary(s)"),
    (_CPT, "56308"): (
        _U,
        "Laparoscopy, surgical; with vaginal hysterectomy with or without removal of tube(s),"
        " with or without removal of ovary(s) (laparoscopic assisted vaginal hysterectomy)"),
    (_CPT, "58150"): (
        _U,
        "Total abdominal hysterectomy (corpus and cervix), with or without removal of "
        "tube(s), with or without removal of ovary(s)"),
    (_CPT, "58260"): (_U, "Vaginal hysterectomy, for uterus 250 g or less"),
    (_CPT, "58262"): (
        _U,
        "Vaginal hysterectomy, for uterus 250 g or less; with removal of tube(s), and/or "
        "ovary(s)"),
    (_CPT, "58290"): (_U, "Vaginal hysterectomy, for uterus greater than 250 g"),
    (_CPT, "58291"): (
        _U,
        "Vaginal hysterectomy, for uterus greater than 250 g; with removal of tube(s) and/or "
        "ovary(s)"),
    (_CPT, "51570"): (_B, "Cystectomy, complete; (separate procedure)"),
    (_CPT, "51555"): (
        _B,
        "Cystectomy, partial; complicated (eg, postradiation, previous surgery, difficult "
        "location)"),
    (_CPT, "51550"): (_B, "Cystectomy, partial; simple"),
    (_ICD10PCS, "0TB10ZZ"): (_K, "Excision of Left Kidney, Open Approach"),
    (_ICD10PCS, "0TB13ZZ"): (_K, "Excision of Left Kidney, Percutaneous Approach"),
    (_ICD10PCS, "0TB14ZZ"): (_K, "Excision of Left Kidney, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0TB17ZZ"): (_K, "Excision of Left Kidney, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0TB18ZZ"): (
        _K,
        "Excision of Left Kidney, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0TB00ZZ"): (_K, "Excision of Right Kidney, Open Approach"),
    (_ICD10PCS, "0TB03ZZ"): (_K, "Excision of Right Kidney, Percutaneous Approach"),
    (_ICD10PCS, "0TB04ZZ"): (_K, "Excision of Right Kidney, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0TB07ZZ"): (_K, "Excision of Right Kidney, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0TB08ZZ"): (
        _K,
        "Excision of Right Kidney, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0TT20ZZ"): (_K, "Resection of Bilateral Kidneys, Open Approach"),
    (_ICD10PCS, "0TT24ZZ"): (
        _K,
        "Resection of Bilateral Kidneys, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0TT10ZZ"): (_K, "Resection of Left Kidney, Open Approach"),
    (_ICD10PCS, "0TT14ZZ"): (_K, "Resection of Left Kidney, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0TT00ZZ"): (_K, "Resection of Right Kidney, Open Approach"),
    (_ICD10PCS, "0TT04ZZ"): (_K, "Resection of Right Kidney, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0UT90ZZ"): (_U, "Resection of Uterus, Open Approach"),
    (_ICD10PCS, "0UT94ZZ"): (_U, "Resection of Uterus, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0UT90ZL"): (_U, "Resection of Uterus, Supracervical, Open Approach"),
    (_ICD10PCS, "0UT94ZL"): (
        _U,
        "Resection of Uterus, Supracervical, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0UT97ZL"): (
        _U,
        "Resection of Uterus, Supracervical, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0UT98ZL"): (
        _U,
        "Resection of Uterus, Supracervical, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0UT9FZL"): (
        _U,
        "Resection of Uterus, Supracervical, Via Natural or Artificial Opening With "
        "Percutaneous Endoscopic Assistance"),
    (_ICD10PCS, "0UT97ZZ"): (_U, "Resection of Uterus, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0UT98ZZ"): (
        _U,
        "Resection of Uterus, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0UT9FZZ"): (
        _U,
        "Resection of Uterus, Via Natural or Artificial Opening With Percutaneous Endoscopic "
        "Assistance"),
    (_ICD10PCS, "0FB20ZZ"): (_L, "Excision of Left Lobe Liver, Open Approach"),
    (_ICD10PCS, "0FB00ZZ"): (_L, "Excision of Liver, Open Approach"),
    (_ICD10PCS, "0FB10ZZ"): (_L, "Excision of Right Lobe Liver, Open Approach"),
    (_ICD10PCS, "0FT20ZZ"): (_L, "Resection of Left Lobe Liver, Open Approach"),
    (_ICD10PCS, "0FT00ZZ"): (_L, "Resection of Liver, Open Approach"),
    (_ICD10PCS, "0FT10ZZ"): (_L, "Resection of Right Lobe Liver, Open Approach"),
    (_ICD10PCS, "0TBB0ZZ"): (_B, "Excision of Bladder, Open Approach"),
    (_ICD10PCS, "0TBB7ZZ"): (_B, "Excision of Bladder, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0TBB8ZZ"): (
        _B,
        "Excision of Bladder, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0TTB0ZZ"): (_B, "Resection of Bladder, Open Approach"),
    (_ICD10PCS, "0TTB4ZZ"): (_B, "Resection of Bladder, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0TTB7ZZ"): (_B, "Resection of Bladder, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0TTB8ZZ"): (
        _B,
        "Resection of Bladder, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0BBJ0ZZ"): (_P, "Excision of Left Lower Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BBJ4ZZ"): (
        _P,
        "Excision of Left Lower Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBL0ZZ"): (_P, "Excision of Left Lung, Open Approach"),
    (_ICD10PCS, "0BBL4ZZ"): (_P, "Excision of Left Lung, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBG0ZZ"): (_P, "Excision of Left Upper Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BBG4ZZ"): (
        _P,
        "Excision of Left Upper Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBH0ZZ"): (_P, "Excision of Lung Lingula, Open Approach"),
    (_ICD10PCS, "0BBH4ZZ"): (_P, "Excision of Lung Lingula, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBF0ZZ"): (_P, "Excision of Right Lower Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BBF4ZZ"): (
        _P,
        "Excision of Right Lower Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBK0ZZ"): (_P, "Excision of Right Lung, Open Approach"),
    (_ICD10PCS, "0BBK4ZZ"): (_P, "Excision of Right Lung, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBD0ZZ"): (_P, "Excision of Right Middle Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BBD4ZZ"): (
        _P,
        "Excision of Right Middle Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BBC0ZZ"): (_P, "Excision of Right Upper Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BBC4ZZ"): (
        _P,
        "Excision of Right Upper Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTJ0ZZ"): (_P, "Resection of Left Lower Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BTJ4ZZ"): (
        _P,
        "Resection of Left Lower Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTL0ZZ"): (_P, "Resection of Left Lung, Open Approach"),
    (_ICD10PCS, "0BTL4ZZ"): (_P, "Resection of Left Lung, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTG0ZZ"): (_P, "Resection of Left Upper Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BTG4ZZ"): (
        _P,
        "Resection of Left Upper Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTH0ZZ"): (_P, "Resection of Lung Lingula, Open Approach"),
    (_ICD10PCS, "0BTH4ZZ"): (_P, "Resection of Lung Lingula, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTF0ZZ"): (_P, "Resection of Right Lower Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BTF4ZZ"): (
        _P,
        "Resection of Right Lower Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTK0ZZ"): (_P, "Resection of Right Lung, Open Approach"),
    (_ICD10PCS, "0BTK4ZZ"): (_P, "Resection of Right Lung, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTD0ZZ"): (_P, "Resection of Right Middle Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BTD4ZZ"): (
        _P,
        "Resection of Right Middle Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0BTC0ZZ"): (_P, "Resection of Right Upper Lung Lobe, Open Approach"),
    (_ICD10PCS, "0BTC4ZZ"): (
        _P,
        "Resection of Right Upper Lung Lobe, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBK0ZZ"): (_G, "Excision of Ascending Colon, Open Approach"),
    (_ICD10PCS, "0DBK4ZZ"): (_G, "Excision of Ascending Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBK7ZZ"): (_G, "Excision of Ascending Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBK8ZZ"): (
        _G,
        "Excision of Ascending Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBH0ZZ"): (_G, "Excision of Cecum, Open Approach"),
    (_ICD10PCS, "0DBH4ZZ"): (_G, "Excision of Cecum, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBH7ZZ"): (_G, "Excision of Cecum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBH8ZZ"): (_G, "Excision of Cecum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBM0ZZ"): (_G, "Excision of Descending Colon, Open Approach"),
    (_ICD10PCS, "0DBM4ZZ"): (_G, "Excision of Descending Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBM7ZZ"): (_G, "Excision of Descending Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBM8ZZ"): (
        _G,
        "Excision of Descending Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DB90ZZ"): (_G, "Excision of Duodenum, Open Approach"),
    (_ICD10PCS, "0DB97ZZ"): (_G, "Excision of Duodenum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBB0ZZ"): (_G, "Excision of Ileum, Open Approach"),
    (_ICD10PCS, "0DBB7ZZ"): (_G, "Excision of Ileum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBB8ZZ"): (_G, "Excision of Ileum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBA0ZZ"): (_G, "Excision of Jejunum, Open Approach"),
    (_ICD10PCS, "0DBA7ZZ"): (_G, "Excision of Jejunum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBA8ZZ"): (
        _G,
        "Excision of Jejunum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBE0ZZ"): (_G, "Excision of Large Intestine, Open Approach"),
    (_ICD10PCS, "0DBE4ZZ"): (_G, "Excision of Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBE7ZZ"): (_G, "Excision of Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBE8ZZ"): (
        _G,
        "Excision of Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBG0ZZ"): (_G, "Excision of Left Large Intestine, Open Approach"),
    (_ICD10PCS, "0DBG4ZZ"): (
        _G,
        "Excision of Left Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBG7ZZ"): (
        _G,
        "Excision of Left Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBG8ZZ"): (
        _G,
        "Excision of Left Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBP0ZZ"): (_G, "Excision of Rectum, Open Approach"),
    (_ICD10PCS, "0DBP7ZZ"): (_G, "Excision of Rectum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBP8ZZ"): (
        _G,
        "Excision of Rectum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBF0ZZ"): (_G, "Excision of Right Large Intestine, Open Approach"),
    (_ICD10PCS, "0DBF4ZZ"): (
        _G,
        "Excision of Right Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBF7ZZ"): (
        _G,
        "Excision of Right Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBF8ZZ"): (
        _G,
        "Excision of Right Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBN0ZZ"): (_G, "Excision of Sigmoid Colon, Open Approach"),
    (_ICD10PCS, "0DBN4ZZ"): (_G, "Excision of Sigmoid Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBN7ZZ"): (_G, "Excision of Sigmoid Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBN8ZZ"): (
        _G,
        "Excision of Sigmoid Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DB80ZZ"): (_G, "Excision of Small Intestine, Open Approach"),
    (_ICD10PCS, "0DB87ZZ"): (_G, "Excision of Small Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DB88ZZ"): (
        _G,
        "Excision of Small Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DB60ZZ"): (_G, "Excision of Stomach, Open Approach"),
    (_ICD10PCS, "0DB67ZZ"): (_G, "Excision of Stomach, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DB68ZZ"): (
        _G,
        "Excision of Stomach, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DBL0ZZ"): (_G, "Excision of Transverse Colon, Open Approach"),
    (_ICD10PCS, "0DBL4ZZ"): (_G, "Excision of Transverse Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DBL7ZZ"): (_G, "Excision of Transverse Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DBL8ZZ"): (
        _G,
        "Excision of Transverse Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTK0ZZ"): (_G, "Resection of Ascending Colon, Open Approach"),
    (_ICD10PCS, "0DTK4ZZ"): (_G, "Resection of Ascending Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTK7ZZ"): (_G, "Resection of Ascending Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTK8ZZ"): (
        _G,
        "Resection of Ascending Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTH0ZZ"): (_G, "Resection of Cecum, Open Approach"),
    (_ICD10PCS, "0DTH4ZZ"): (_G, "Resection of Cecum, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTH7ZZ"): (_G, "Resection of Cecum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTH8ZZ"): (
        _G,
        "Resection of Cecum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTM0ZZ"): (_G, "Resection of Descending Colon, Open Approach"),
    (_ICD10PCS, "0DTM4ZZ"): (_G, "Resection of Descending Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTM7ZZ"): (
        _G,
        "Resection of Descending Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTM8ZZ"): (
        _G,
        "Resection of Descending Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DT90ZZ"): (_G, "Resection of Duodenum, Open Approach"),
    (_ICD10PCS, "0DT97ZZ"): (_G, "Resection of Duodenum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DT98ZZ"): (
        _G,
        "Resection of Duodenum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTB0ZZ"): (_G, "Resection of Ileum, Open Approach"),
    (_ICD10PCS, "0DTB7ZZ"): (_G, "Resection of Ileum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTB8ZZ"): (
        _G,
        "Resection of Ileum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTA0ZZ"): (_G, "Resection of Jejunum, Open Approach"),
    (_ICD10PCS, "0DTA7ZZ"): (_G, "Resection of Jejunum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTA8ZZ"): (
        _G,
        "Resection of Jejunum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTE0ZZ"): (_G, "Resection of Large Intestine, Open Approach"),
    (_ICD10PCS, "0DTE4ZZ"): (_G, "Resection of Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTE7ZZ"): (_G, "Resection of Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTE8ZZ"): (
        _G,
        "Resection of Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTG0ZZ"): (_G, "Resection of Left Large Intestine, Open Approach"),
    (_ICD10PCS, "0DTG4ZZ"): (
        _G,
        "Resection of Left Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTG7ZZ"): (
        _G,
        "Resection of Left Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTG8ZZ"): (
        _G,
        "Resection of Left Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTP0ZZ"): (_G, "Resection of Rectum, Open Approach"),
    (_ICD10PCS, "0DTP7ZZ"): (_G, "Resection of Rectum, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTP8ZZ"): (
        _G,
        "Resection of Rectum, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTF0ZZ"): (_G, "Resection of Right Large Intestine, Open Approach"),
    (_ICD10PCS, "0DTF4ZZ"): (
        _G,
        "Resection of Right Large Intestine, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTF7ZZ"): (
        _G,
        "Resection of Right Large Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTF8ZZ"): (
        _G,
        "Resection of Right Large Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTN0ZZ"): (_G, "Resection of Sigmoid Colon, Open Approach"),
    (_ICD10PCS, "0DTN4ZZ"): (_G, "Resection of Sigmoid Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTN7ZZ"): (_G, "Resection of Sigmoid Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTN8ZZ"): (
        _G,
        "Resection of Sigmoid Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DT80ZZ"): (_G, "Resection of Small Intestine, Open Approach"),
    (_ICD10PCS, "0DT87ZZ"): (_G, "Resection of Small Intestine, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DT88ZZ"): (
        _G,
        "Resection of Small Intestine, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DT60ZZ"): (_G, "Resection of Stomach, Open Approach"),
    (_ICD10PCS, "0DT70ZZ"): (_G, "Resection of Stomach, Pylorus, Open Approach"),
    (_ICD10PCS, "0DT77ZZ"): (
        _G,
        "Resection of Stomach, Pylorus, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DT78ZZ"): (
        _G,
        "Resection of Stomach, Pylorus, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DT67ZZ"): (_G, "Resection of Stomach, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DT68ZZ"): (
        _G,
        "Resection of Stomach, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0DTL0ZZ"): (_G, "Resection of Transverse Colon, Open Approach"),
    (_ICD10PCS, "0DTL4ZZ"): (_G, "Resection of Transverse Colon, Percutaneous Endoscopic Approach"),
    (_ICD10PCS, "0DTL7ZZ"): (
        _G,
        "Resection of Transverse Colon, Via Natural or Artificial Opening"),
    (_ICD10PCS, "0DTL8ZZ"): (
        _G,
        "Resection of Transverse Colon, Via Natural or Artificial Opening Endoscopic"),
    (_ICD10PCS, "0WBH0ZZ"): (_R, "Excision of Retroperitoneum, Open Approach"),
}

#: The codes of excisions through a scope or a natural opening, by their published names
#: (:func:`names_scope_excision`): SNOMED CT endoscopic, hysteroscopic, colonoscopic,
#: sigmoidoscopic, proctoscopic, cystoscopic, transurethral, transanal and vaginal
#: excisions of a lesion (265065000 Endoscopic excision of lesion of uterus, 446170008
#: Colonoscopic excision of lesion of large intestine, 386791007 TURBT, ...), ICD-10-PCS
#: Excision (B) rows of approach 7 or 8 (0DBN8ZZ, a colonoscopic polypectomy of the
#: sigmoid; 0TBB8ZZ, a transurethral excision of the bladder); Resection (T) rows, the
#: whole body part, are kept (0UT97ZZ a vaginal hysterectomy, in the CDC
#: severe-maternal-morbidity hysterectomy codes; 0DTP8ZZ a transanal proctectomy). Not a
#: resection of the primary: a Procedure coded only so is said to be such an excision
#: (and, linked to the PEComa, listed for the team to check), never read as the resection.
NOT_RESECTION_CODES: Final[dict[tuple[str, str], tuple[PrimarySite, str]]] = {
    key: value for key, value in _LISTED.items() if names_scope_excision(value[1].lower())}

#: (system, code) -> (the organ resected, the code's name in its terminology).
RESECTION_CODES: Final[dict[tuple[str, str], tuple[PrimarySite, str]]] = {
    key: value for key, value in _LISTED.items() if key not in NOT_RESECTION_CODES}


def _listed(system: object, code: object) -> tuple[tuple[str, str], tuple[PrimarySite, str]] | None:
    if not isinstance(system, str) or not isinstance(code, str):
        return None
    known = SYSTEMS.get(system.strip())
    if known is None:
        return None
    key = (known, code.strip().upper() if known == _ICD10PCS else code.strip())
    found = _LISTED.get(key)
    return None if found is None else (key, found)


def scope_excision_code(system: object, code: object) -> tuple[PrimarySite, str] | None:
    """The organ and name of a code of :data:`NOT_RESECTION_CODES`, else ``None``."""
    found = _listed(system, code)
    return found[1] if found is not None and found[0] in NOT_RESECTION_CODES else None


def resection_code(system: object, code: object) -> tuple[PrimarySite, str] | None:
    """The organ and name of a resection code of :data:`RESECTION_CODES`, else ``None``."""
    found = _listed(system, code)
    return found[1] if found is not None and found[0] in RESECTION_CODES else None
