"""The values a case fact takes: one enumeration per kind of fact. Unknown is a value
(``unknown``, ``not_done``), never the same as absent.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ANTHRACYCLINES",
    "MTOR_AGENTS",
    "Agent",
    "ClearedBy",
    "DiagnosisMethod",
    "DiseaseStatus",
    "Feature",
    "FusionStatus",
    "IHCResult",
    "Margin",
    "MetastasisSite",
    "NodeStatus",
    "PrimarySite",
    "PriorDiagnosis",
    "RemissionBy",
    "Response",
    "SizeUnit",
    "SurgeryStatus",
    "TherapySetting",
    "Timing",
    "VariantStatus",
    "YesNo",
]

class Feature(StrEnum):
    """A histology finding: seen, looked for and not seen, or not reported."""

    present = "present"
    absent = "absent"
    unknown = "unknown"


class YesNo(StrEnum):
    yes = "yes"
    no = "no"
    unknown = "unknown"


class IHCResult(StrEnum):
    positive = "positive"
    negative = "negative"
    not_done = "not_done"
    unknown = "unknown"


class PrimarySite(StrEnum):
    uterus = "uterus"
    broad_ligament = "broad_ligament"
    other_gynecologic = "other_gynecologic"
    kidney = "kidney"
    liver = "liver"
    retroperitoneum = "retroperitoneum"
    lung = "lung"
    gastrointestinal = "gastrointestinal"
    bladder = "bladder"
    soft_tissue = "soft_tissue"
    other = "other"

    @property
    def gynecologic(self) -> bool:
        return self in _GYNECOLOGIC


_GYNECOLOGIC = frozenset(
    {PrimarySite.uterus, PrimarySite.broad_ligament, PrimarySite.other_gynecologic}
)


class SizeUnit(StrEnum):
    cm = "cm"
    mm = "mm"


class DiagnosisMethod(StrEnum):
    histology_with_ihc = "histology_with_ihc"
    histology_without_ihc = "histology_without_ihc"
    imaging_only = "imaging_only"
    unknown = "unknown"


class PriorDiagnosis(StrEnum):
    """A diagnosis the tumour carried before it was called PEComa."""

    none = "none"
    leiomyoma = "leiomyoma"
    leiomyosarcoma = "leiomyosarcoma"
    fibrosarcoma = "fibrosarcoma"
    gist = "gist"
    melanoma = "melanoma"
    other_sarcoma = "other_sarcoma"
    other = "other"
    unknown = "unknown"


class DiseaseStatus(StrEnum):
    localized = "localized"
    locally_advanced_unresectable = "locally_advanced_unresectable"
    recurrent = "recurrent"
    metastatic = "metastatic"


class SurgeryStatus(StrEnum):
    performed = "performed"
    planned = "planned"
    not_performed = "not_performed"
    unknown = "unknown"


class Margin(StrEnum):
    R0 = "R0"
    R1 = "R1"
    R2 = "R2"
    uncertain = "uncertain"
    unknown = "unknown"


class NodeStatus(StrEnum):
    positive = "positive"
    negative = "negative"
    not_assessed = "not_assessed"
    unknown = "unknown"


class MetastasisSite(StrEnum):
    lung = "lung"
    liver = "liver"
    bone = "bone"
    peritoneum = "peritoneum"
    distant_lymph_node = "distant_lymph_node"
    brain = "brain"
    soft_tissue = "soft_tissue"
    other = "other"


class Timing(StrEnum):
    synchronous = "synchronous"
    metachronous = "metachronous"
    unknown = "unknown"


class Agent(StrEnum):
    sirolimus = "sirolimus"
    nab_sirolimus = "nab_sirolimus"
    everolimus = "everolimus"
    temsirolimus = "temsirolimus"
    doxorubicin = "doxorubicin"
    doxorubicin_ifosfamide = "doxorubicin_ifosfamide"
    epirubicin = "epirubicin"
    epirubicin_ifosfamide = "epirubicin_ifosfamide"
    ifosfamide = "ifosfamide"
    gemcitabine_docetaxel = "gemcitabine_docetaxel"
    dacarbazine = "dacarbazine"
    trabectedin = "trabectedin"
    pazopanib = "pazopanib"
    other_chemotherapy = "other_chemotherapy"
    other = "other"

    @property
    def is_mtor_inhibitor(self) -> bool:
        return self in MTOR_AGENTS

    @property
    def same_drug(self) -> frozenset[Agent]:
        """The agents that are this one's drug for what a recorded intolerance rules out
        (I15): sirolimus and nab-sirolimus (sirolimus bound to albumin) are one drug, an
        intolerance of either ruling out both, and a line of either showing no other mTOR
        inhibitor tolerated beside it; every other agent is its own drug."""
        return _SAME_DRUG.get(self, frozenset({self}))

    @property
    def is_conventional_chemotherapy(self) -> bool:
        return self in _CHEMOTHERAPY

    @property
    def is_anthracycline_based(self) -> bool:
        """Doxorubicin or epirubicin, alone or with ifosfamide (S14, S15)."""
        return self in ANTHRACYCLINE_AGENTS

    @property
    def drugs(self) -> frozenset[Agent]:
        """The single drugs it holds: a regimen's each, else itself."""
        return _REGIMEN_DRUGS.get(self, frozenset({self}))

    @property
    def drug_class(self) -> frozenset[Agent]:
        """The class an intolerance of it may be of (I15): every mTOR inhibitor for one,
        the anthracyclines (doxorubicin, epirubicin) for an agent holding one; empty for
        any other agent."""
        if self in MTOR_AGENTS:
            return MTOR_AGENTS
        if self in ANTHRACYCLINE_AGENTS:
            return ANTHRACYCLINES
        return frozenset()


MTOR_AGENTS = frozenset(
    {Agent.sirolimus, Agent.nab_sirolimus, Agent.everolimus, Agent.temsirolimus}
)
_SIROLIMUS = frozenset({Agent.sirolimus, Agent.nab_sirolimus})
_SAME_DRUG = {Agent.sirolimus: _SIROLIMUS, Agent.nab_sirolimus: _SIROLIMUS}
_REGIMEN_DRUGS = {
    Agent.doxorubicin_ifosfamide: frozenset({Agent.doxorubicin, Agent.ifosfamide}),
    Agent.epirubicin_ifosfamide: frozenset({Agent.epirubicin, Agent.ifosfamide}),
}
ANTHRACYCLINE_AGENTS = frozenset(
    {Agent.doxorubicin, Agent.doxorubicin_ifosfamide, Agent.epirubicin,
     Agent.epirubicin_ifosfamide}
)
#: The anthracyclines themselves, the class an intolerance of one may be of (I15).
ANTHRACYCLINES = frozenset({Agent.doxorubicin, Agent.epirubicin})
_CHEMOTHERAPY = frozenset(
    {
        Agent.doxorubicin,
        Agent.doxorubicin_ifosfamide,
        Agent.epirubicin,
        Agent.epirubicin_ifosfamide,
        Agent.ifosfamide,
        Agent.gemcitabine_docetaxel,
        Agent.dacarbazine,
        Agent.trabectedin,
        Agent.other_chemotherapy,
    }
)


class TherapySetting(StrEnum):
    adjuvant = "adjuvant"
    advanced = "advanced"


class Response(StrEnum):
    complete = "complete"
    partial = "partial"
    stable = "stable"
    progression = "progression"
    not_evaluable = "not_evaluable"
    unknown = "unknown"


class VariantStatus(StrEnum):
    """A gene's alteration status from molecular testing (ACMG-style classes)."""

    pathogenic = "pathogenic"
    vus = "vus"
    wild_type = "wild_type"
    not_done = "not_done"
    unknown = "unknown"


class FusionStatus(StrEnum):
    """Whether a gene fusion (rearrangement) was found."""

    present = "present"
    absent = "absent"
    not_done = "not_done"
    unknown = "unknown"


class ClearedBy(StrEnum):
    """How gross tumour left by the primary's resection (R2) was cleared without a
    further resection."""

    radiotherapy = "radiotherapy"
    ablation = "ablation"
    systemic_therapy = "systemic_therapy"
    other = "other"
    unknown = "unknown"


class RemissionBy(StrEnum):
    """How a patient with a relapse or advanced disease was made free of disease."""

    surgery = "surgery"
    systemic_therapy = "systemic_therapy"
    other = "other"
    unknown = "unknown"
