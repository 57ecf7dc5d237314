"""SNOMED CT concepts of AJCC TNM staging and of secondary malignant neoplasms, as lists.

mCODE STU4 binds a TNMDistantMetastasesCategory's value to ``TNMDistantMetastasesCategoryVS``,
a TNMRegionalNodesCategory's to ``TNMRegionalNodesCategoryVS`` and a TNMStageGroup's value
to ``TNMStageGroupVS`` (``github.com/HL7/fhir-mCODE-ig``, ``input/fsh/VS_Staging_TNM.fsh``,
commit 543477b5): the SNOMED CT descendants of 1222587001 "American Joint Committee on
Cancer clinical M category allowable value" and 1222591006 "... pathological M category
allowable value", of 1222588006 and 1222590007 (the clinical and pathological N category
allowable values; 1222596001 ypN is not listed here), and of 1222592004, 1222593009 and
1222594003 (the clinical, pathological and yp stage-group allowable values). The IG defines
them by that rule and lists none; its own examples use 1229901006 cM0 (EX_Basic.fsh,
EX_ExtendedExample.fsh), 1229967007 cN0, 1229947003 pN0 (EX_ExtendedExample.fsh),
1229984001 cN3 (EX_Basic.fsh) and 1222806003 stage IIIC. Besides these, the IG allows the
AJCC codes themselves (system ``http://cancerstaging.org``, ``TNM...MaxVS``: ``cN1``,
``pN0``), read by their form in :mod:`pecoma.fhir.mcode`.

The concept ids below were read in value sets that enumerate those descendants from a
SNOMED CT edition: New Zealand's national terminology server (NZHTS, NZ Edition
``http://snomed.info/sct/21000210109``, which holds the International Edition's AJCC
concepts), ``https://nzhts.digital.health.nz/fhir/ValueSet/canshare-tnm-cm``,
``canshare-tnm-pm``, ``canshare-tnm-cn``, ``canshare-tnm-pn``,
``canshare-tnm-clinical-stage-group`` and ``canshare-tnm-pathological-stage-group``, as
expanded in the NZ ACT-NOW implementation guide (``github.com/davidhay25/actnow``,
``fsh-generated/resources/ValueSet-an-tnm-cm.json``, ``ValueSet-an-path-m.json``,
``ValueSet-an-tnm-cn.json``, ``ValueSet-an-path-n.json``, ``ValueSet-an-clin-tnmgroup.json``,
``ValueSet-an-path-tnmgroup.json``, commit 96ae0067). The mCODE examples' own codes agree
with them. Every id passes SNOMED CT's check digit (tests/test_fhir_staging_codes.py).

A code not listed here is **not** taken as M0, N0 or as a stage below IV: the reader says it
cannot read it (unknown), and a denial of metastatic history no longer makes the disease
localized beside it (fhir/read_observations.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from pecoma.case import MetastasisSite

#: AJCC M categories stating no distant metastasis (canshare-tnm-cm): cM0, cM0(i+). AJCC
#: has no pathological M0.
SNOMED_M0: Final[Mapping[str, str]] = {
    "1229901006": "cM0",
    "1229902004": "cM0(i+)",
}

#: AJCC M categories stating distant metastases (canshare-tnm-cm, canshare-tnm-pm): cM1 and
#: pM1 with their subcategories a-d and the (0)/(1) suffixes.
SNOMED_M1: Final[Mapping[str, str]] = {
    "1229903009": "cM1",
    "1229904003": "cM1a",
    "1229905002": "cM1a(0)",
    "1229906001": "cM1a(1)",
    "1229907005": "cM1b",
    "1229908000": "cM1b(0)",
    "1229909008": "cM1b(1)",
    "1229910003": "cM1c",
    "1229911004": "cM1c(0)",
    "1229912006": "cM1c(1)",
    "1229913001": "cM1d",
    "1229914007": "cM1d(0)",
    "1229915008": "cM1d(1)",
    "1229916009": "pM1",
    "1229917000": "pM1a",
    "1229918005": "pM1a(0)",
    "1229919002": "pM1a(1)",
    "1229920008": "pM1b",
    "1229921007": "pM1b(0)",
    "1229922000": "pM1b(1)",
    "1229923005": "pM1c",
    "1229924004": "pM1c(0)",
    "1229925003": "pM1c(1)",
    "1229926002": "pM1d",
    "1229927006": "pM1d(0)",
    "1229928001": "pM1d(1)",
}

#: AJCC N categories stating no regional lymph-node metastasis (canshare-tnm-cn,
#: canshare-tnm-pn): cN0, pN0 and their subcategories; isolated tumour cells, (i+), and
#: molecular findings, (mol+), are N0 in AJCC's rules.
SNOMED_N0: Final[Mapping[str, str]] = {
    "1229967007": "cN0",
    "1229971005": "cN0(i+)",
    "1229968002": "cN0a",
    "1229969005": "cN0b",
    "1229947003": "pN0",
    "1229949000": "pN0(i+)",
    "1229950000": "pN0(mol+)",
    "1229948008": "pN0a",
}

#: AJCC N categories stating regional lymph-node metastasis (the same value sets): N1 to
#: N3 with their subcategories, micrometastases (mi) and sentinel-node (sn) forms.
SNOMED_N_POSITIVE: Final[Mapping[str, str]] = {
    "1229973008": "cN1",
    "1229975001": "cN1a",
    "1229976000": "cN1b",
    "1229977009": "cN1c",
    "1229974002": "cN1mi",
    "1229978004": "cN2",
    "1229981009": "cN2a",
    "1229982002": "cN2b",
    "1229983007": "cN2c",
    "1229980005": "cN2mi",
    "1229984001": "cN3",
    "1229985000": "cN3a",
    "1229986004": "cN3b",
    "1229987008": "cN3c",
    "1229951001": "pN1",
    "1229954009": "pN1a",
    "1229953003": "pN1a(sn)",
    "1229955005": "pN1b",
    "1229956006": "pN1c",
    "1229952008": "pN1mi",
    "1229957002": "pN2",
    "1229959004": "pN2a",
    "1229960009": "pN2b",
    "1229961008": "pN2c",
    "1229958007": "pN2mi",
    "1229962001": "pN3",
    "1229963006": "pN3a",
    "1229964000": "pN3b",
    "1229965004": "pN3c",
}

#: AJCC N categories saying the regional nodes cannot be assessed: cNX, pNX.
SNOMED_NX: Final[Mapping[str, str]] = {
    "1229966003": "cNX",
    "1229945006": "pNX",
}

#: AJCC stage group IV and its sub-groups (canshare-tnm-clinical-stage-group,
#: canshare-tnm-pathological-stage-group).
SNOMED_STAGE_IV: Final[Mapping[str, str]] = {
    "1222837003": "IV",
    "1222838008": "IVA",
    "1222839000": "IVA1",
    "1222840003": "IVA2",
    "1222841004": "IVB",
    "1222842006": "IVC",
}

#: AJCC stage groups below IV (the same value sets, clinical and pathological together).
SNOMED_STAGE_BELOW_IV: Final[Mapping[str, str]] = {
    "1222605001": "0",
    "1222721004": "0a",
    "1222722006": "0is",
    "1222733009": "IS",
    "1222723001": "I",
    "1222724007": "IA",
    "1222725008": "IA1",
    "1222726009": "IA2",
    "1222727000": "IA3",
    "1222728005": "IB",
    "1222729002": "IB1",
    "1222730007": "IB2",
    "1222731006": "IC",
    "1222732004": "IE",
    "1222765007": "II",
    "1222772008": "II bulky",
    "1222766008": "IIA",
    "1222767004": "IIA1",
    "1222768009": "IIA2",
    "1222769001": "IIB",
    "1222770000": "IIC",
    "1222771001": "IIE",
    "1222801008": "III",
    "1222802001": "IIIA",
    "1222803006": "IIIA1",
    "1222804000": "IIIA2",
    "1222805004": "IIIB",
    "1222806003": "IIIC",
    "1222807007": "IIIC1",
    "1222809005": "IIIC2",
    "1222811001": "IIID",
}

#: SNOMED CT secondary malignant neoplasm disorders (descendants of 128462008, which the
#: mCODE SecondaryCancerDisorderVS includes by rule, VS_CancerCondition.fsh) -> the site
#: they name. Only concepts whose id and site three or more independent published sources
#: agree on are listed (the current International Edition names them "Metastatic malignant
#: neoplasm to <site> (disorder)"):
#:
#: * 94225005 brain: the mCODE IG's own example (EX_Basic.fsh, "Secondary malignant
#:   neoplasm of brain"); UZ Leuven's REO FHIR profile, LungCancerLocationOfMetastasis
#:   ("hersenen").
#: * 94391008 lung: REO LungCancerLocationOfMetastasis ("long"); Belgian eHealth
#:   ``https://www.ehealth.fgov.be/standards/fhir/terminology/ValueSet/be-vs-diagnostic-imaging-indication``
#:   ("Metastatic malignant neoplasm to lung (disorder)"); a Java example building a
#:   metastasis Condition ("Secondary malignant neoplasm of lung").
#: * 94381002 liver: REO ("lever"); Belgian eHealth be-vs-diagnostic-imaging-indication
#:   and a German oncology IG example ("Metastatic malignant neoplasm to liver (disorder)").
#: * 94222008 bone: REO ("bot"); HL7 Lithuania's prostate-imaging IG, Observation
#:   bone-metastasis-lt-prostate ("Secondary malignant neoplasm of bone (disorder)"); a
#:   German radiology report example and the mCODE trial-matching service's tests
#:   ("Secondary malignant neoplasm of bone").
#:
#: Other codes of the hierarchy (peritoneum, lymph nodes, adrenal, pleura, ...) are not
#: listed: no source was found that settles their ids. Such a code, with no bodySite or
#: words naming a site pecoma knows, is read as a metastasis whose site is unknown (taken
#: as 'other', said in a note).
SNOMED_SECONDARY_SITE: Final[Mapping[str, MetastasisSite]] = {
    "94225005": MetastasisSite.brain,
    "94391008": MetastasisSite.lung,
    "94381002": MetastasisSite.liver,
    "94222008": MetastasisSite.bone,
}
