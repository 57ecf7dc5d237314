"""The Case: the one way into pecoma.

Every adapter (JSON file, web form, FHIR Bundle, CSV row) produces a :class:`Case` or an
:class:`~pecoma.errors.InputError` listing every broken rule with its field path, the value
given and what is allowed. Nothing downstream sees raw input.

Unknown is a value: a histology feature is ``present``, ``absent`` or ``unknown``; an
immunohistochemistry marker is ``positive``, ``negative``, ``not_done`` or ``unknown``; a
yes/no fact may be ``unknown``. Leaving a field out means ``unknown``, never ``absent``.

The package's parts: the values facts take (:mod:`pecoma.case.values`), the model
(:mod:`pecoma.case.model`), its coherence checks (:mod:`pecoma.case.coherence`) and the
parsers (:mod:`pecoma.case.parse`). This module is the public surface: import from here.
"""

from pecoma.case.coherence import dated_facts
from pecoma.case.model import (
    MAX_MITOSES,
    MAX_SIZE_CM,
    WORK_UP_MONTHS,
    Case,
    Completion,
    Diagnosis,
    FreeOfDisease,
    Histology,
    Immunohistochemistry,
    Intolerance,
    Metastasis,
    Molecular,
    Size,
    Stage,
    Surgery,
    Systemic,
    TherapyLine,
    Tumour,
    lines_in_order,
    mtor_class_ruled_out,
    mtor_class_undecided,
    mtor_each_ruled_out,
    mtor_ruled_out,
    mtor_tolerated_line,
    other_anthracyclines_not_tolerated,
)
from pecoma.case.parse import parse_case, parse_case_json, settings_not_chosen
from pecoma.case.values import (
    MTOR_AGENTS,
    Agent,
    DiagnosisMethod,
    DiseaseStatus,
    Feature,
    FusionStatus,
    IHCResult,
    Margin,
    MetastasisSite,
    NodeStatus,
    PrimarySite,
    PriorDiagnosis,
    RemissionBy,
    Response,
    SizeUnit,
    SurgeryStatus,
    TherapySetting,
    Timing,
    VariantStatus,
    YesNo,
)

__all__ = [
    "MAX_MITOSES",
    "MAX_SIZE_CM",
    "MTOR_AGENTS",
    "WORK_UP_MONTHS",
    "Agent",
    "Case",
    "Completion",
    "Diagnosis",
    "DiagnosisMethod",
    "DiseaseStatus",
    "Feature",
    "FreeOfDisease",
    "FusionStatus",
    "Histology",
    "IHCResult",
    "Immunohistochemistry",
    "Intolerance",
    "Margin",
    "Metastasis",
    "MetastasisSite",
    "Molecular",
    "NodeStatus",
    "PrimarySite",
    "PriorDiagnosis",
    "RemissionBy",
    "Response",
    "Size",
    "SizeUnit",
    "Stage",
    "Surgery",
    "SurgeryStatus",
    "Systemic",
    "TherapyLine",
    "TherapySetting",
    "Timing",
    "Tumour",
    "VariantStatus",
    "YesNo",
    "dated_facts",
    "lines_in_order",
    "mtor_class_ruled_out",
    "mtor_class_undecided",
    "mtor_each_ruled_out",
    "mtor_ruled_out",
    "mtor_tolerated_line",
    "other_anthracyclines_not_tolerated",
    "parse_case",
    "parse_case_json",
    "settings_not_chosen",
]
