"""FHIR R4 in and out: Bundle -> Case, Case -> Bundle, Assessment -> CarePlan, knowledge ->
PlanDefinition. Resources are validated with ``fhir.resources.R4B`` (see docs/fhir.md)."""

from pecoma.fhir.codes import PECOMA_SYSTEM, PLAN_DEFINITION_URL
from pecoma.fhir.reader import BundleCase, case_from_bundle, case_from_bundle_json
from pecoma.fhir.writer import bundle_from_case

__all__ = [
    "PECOMA_SYSTEM",
    "PLAN_DEFINITION_URL",
    "BundleCase",
    "bundle_from_case",
    "case_from_bundle",
    "case_from_bundle_json",
]
