"""FHIR R4 Bundle -> :class:`~pecoma.case.Case`.

The bundle is checked in two steps. First its shape (a JSON object, ``resourceType``
``Bundle``, entries holding resources: the resources of a Bundle an entry holds, a search
answered in a batch-response, among them, and an entry of a response Bundle holding only
its response read by it: :mod:`pecoma.fhir.entries`); then each resource the reader
takes a fact from (the Patient, the PEComa and metastasis Conditions, Observations with a
mapped code, the resection Procedure, MedicationStatements and AllergyIntolerances naming
a known agent) is validated with ``fhir.resources.R4B`` (wire-compatible with R4 4.0.1 for these
resources). Other resources (vital signs, laboratory results, encounters) are not read,
so not validated: that keeps the cost flat however much an EHR sends. A resource the
quick check (:mod:`pecoma.fhir.quickcheck`) finds plainly valid skips building its R4B
model (the verdict is the same; only the time differs). With
``validate="full"`` the whole bundle is validated; with ``"none"`` only the shape and each
value read (types, dates, codes) are checked.

What the bundle does not say stays unknown, never absent, and is listed in
:attr:`BundleCase.not_found`. Every problem becomes a :class:`~pecoma.errors.FieldIssue`
naming the resource (``Observation/obs-7``), the element, the value and what is allowed.
The mapping table is docs/fhir.md.

This module holds the reading as a whole (shape, validation, the patient, what was not
found or not read); each kind of resource is read by its own module:
:mod:`pecoma.fhir.read_conditions`, :mod:`pecoma.fhir.read_observations` and
:mod:`pecoma.fhir.read_treatment`, sharing the state and value readers of
:mod:`pecoma.fhir.reading`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

import orjson
from pydantic import ValidationError

from pecoma.case import Agent, Case, SurgeryStatus, parse_case
from pecoma.errors import FieldIssue, InputError, OtherPatientError, show_value
from pecoma.fhir import codes as c
from pecoma.fhir import medications as meds
from pecoma.fhir import searches
from pecoma.fhir.ages import Birth
from pecoma.fhir.entries import answer, deleted, walk
from pecoma.fhir.medications import agent_of_concept
from pecoma.fhir.patient import PatientRead, read_patient
from pecoma.fhir.quickcheck import plainly_valid
from pecoma.fhir.r4_types import R4_TYPES
from pecoma.fhir.read_conditions import (
    derive_status,
    read_conditions,
    read_metastases,
    settle_entered_dates,
    settle_partial_onsets,
    settle_specimen_diagnosis,
)
from pecoma.fhir.read_observations import (
    NO_RESULT,
    live_observations,
    observation_kind,
    read_at_presentation,
    read_history_conditions,
    read_observations,
)
from pecoma.fhir.read_treatment import (
    read_allergies,
    read_medications,
    read_procedures,
    settle_line_settings,
)
from pecoma.fhir.reading import (
    NotTolerated,
    Planned,
    Reader,
    as_list,
    has_code,
    modifier_urls,
    same_resource,
)
from pecoma.fhir.references import type_named
from pecoma.fhir.subjects import (
    PART_OF_TYPE,
    Attribution,
    ThePatient,
    named_patients,
    the_patient,
    unattributed_parts,
)
from pecoma.settings import EngineSettings, Settings, default_settings

__all__ = [
    "READ_TYPES",
    "BundleCase",
    "NotTolerated",
    "Planned",
    "Validation",
    "agent_of",
    "case_from_bundle",
    "case_from_bundle_json",
    "fact_paths",
    "unread_parts",
]

Validation = Literal["engine", "full", "none"]


#: The resource types the engine reads; the others are ignored.
READ_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationStatement",
    "MedicationRequest",
    "MedicationAdministration",
    "MedicationDispense",
    "AllergyIntolerance",
    "AdverseEvent",
    "Medication",
)


@dataclass(frozen=True, slots=True)
class BundleCase:
    """A case read from a bundle, with where each fact came from and what was not found."""

    case: Case
    not_found: tuple[str, ...]
    sources: Mapping[str, str]
    patient_id: str | None
    ignored: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Resources of a read type that gave no fact, each with why (grouped by reason).
    not_read: tuple[str, ...] = ()
    #: Statements read as evidence only (mCODE CancerDiseaseStatus), newest last.
    evidence: tuple[str, ...] = ()
    #: Medication records that may be a line given but name no drug pecoma can identify
    #: (``where: why``): the lines of systemic therapy already given are then not known.
    unidentified_medications: tuple[str, ...] = ()
    #: Medication records of a known agent whose first day, a partial date, spans the day
    #: the record is read for (``"2026-12"`` read on 2026-12-06; ``where: what``):
    #: whether they had started is unknown, so they are no line, and the lines already
    #: given are not fully known.
    unknown_starts: tuple[str, ...] = ()
    #: Medication records given beside another present primary cancer whose bearing on
    #: the PEComa is unknown, each ``where: the question``: a course naming no reason
    #: that tells which cancer it was given for (an mTOR inhibitor among them is read as
    #: a line meanwhile, any other agent is not), or an mTOR inhibitor given for the other
    #: cancer (no line of the PEComa's, but it acts on the PEComa too: did the PEComa
    #: progress on it?). The lines already given are then not fully known.
    courses_in_doubt: tuple[str, ...] = ()
    #: Medication records of a drug pecoma reads as an anticancer agent that is given for
    #: diseases that are no cancer too (hydroxyurea for sickle cell disease, cladribine
    #: for multiple sclerosis), nothing in the record saying it was given for a cancer
    #: (:func:`pecoma.fhir.medications.other_uses`), each ``where: the question``: no line
    #: is read from them, nor are they taken for nothing; the lines already given are not
    #: fully known until what they were given for is recorded.
    purposes_unknown: tuple[str, ...] = ()
    #: Medication records of a known agent that are planned, not (yet) given (an order
    #: drafted, proposed or planned, one starting after the day read for, a statement of
    #: intent): no line, but an order in place; a second one of its kind is not proposed.
    planned: tuple[Planned, ...] = ()
    #: Medication records of a known agent given now, on the day read for (an order, a
    #: statement or an administration under way or on hold, started, with no end before
    #: that day: :func:`pecoma.fhir.medications.given_now`): lines given, and orders still
    #: running or held (:attr:`Planned.held`: they may be resumed at any time), which the
    #: CDS services check against the allergy list as they check planned ones.
    running: tuple[Planned, ...] = ()
    #: Medication records whose ``statusReason`` says their drug was not tolerated: each
    #: an intolerance of that drug, read with the allergy list
    #: (:func:`pecoma.fhir.allergies.read_allergies`).
    not_tolerated: tuple[NotTolerated, ...] = ()
    #: Medication records whose ``statusReason`` pecoma cannot tell is an intolerance or
    #: not ("mouth ulcers, could not continue"; :attr:`pecoma.fhir.medications.StopReason.unclear`):
    #: each a possible intolerance of its drug, noted and asked; a draft order of a drug it
    #: would rule out were it one cannot be checked against it (the CDS order-select
    #: warning).
    unclear_stops: tuple[NotTolerated, ...] = ()
    #: The parts of the record (:data:`pecoma.fhir.searches.PARTS`) not read in full, each
    #: with why: given by the caller (a CDS prefetch part the EHR did not send), or every
    #: part of a bundle that says it is not the whole result of its search. What they
    #: would give is unknown: with the allergies unread, 'mTOR inhibitor not
    #: contraindicated' is not kept; with a medication part unread, the lines already
    #: given are not fully known (:attr:`history_doubt`).
    unread: Mapping[str, str] = field(default_factory=dict)
    #: Facts the record holds in a value pecoma cannot read, each with where and why
    #: (a size '9.5 x 6 cm'): unknown, not absent, and not in :attr:`not_found`.
    unreadable: Mapping[str, str] = field(default_factory=dict)
    #: Facts the record gives that the reader set aside, each with why (a 'no' to the
    #: mTOR-inhibitor contraindication beside an allergy whose drug it cannot identify):
    #: unknown, and asked, but found, so not in :attr:`not_found`.
    set_aside: Mapping[str, str] = field(default_factory=dict)
    #: The record says the patient died (``Patient.deceased[x]``): the date given, or
    #: ``"yes"``; ``None`` otherwise. Treatment advice is then no decision at hand.
    deceased: str | None = None
    #: The record's other present primary cancers besides the PEComa (``Condition/id``):
    #: a result naming no Condition is not taken as the PEComa's beside them, and a drug
    #: ordered for one of them is no line of the PEComa to replace.
    other_cancers: tuple[str, ...] = ()
    #: The PEComa Condition read as the primary (``Condition/id``), or ``None``: a drug
    #: ordered for it (its ``reasonReference``, or a ``reasonCode`` sharing its code) is
    #: ordered for the PEComa.
    pecoma_condition: str | None = None
    #: Why whether the patient has died is unknown (``Patient.deceased[x]`` given only
    #: as a data-absent-reason, or in a value that cannot be read: the string ``"true"``,
    #: a number), or the Patient resource itself not read (the caller's ``unread`` naming
    #: the ``patient`` part: a CDS prefetch null, an OperationOutcome, a read that
    #: failed), or ``None``. Never read as alive: no care plan is written for the
    #: record, and the CDS services say so and propose nothing.
    vital_status_unknown: str | None = None

    @property
    def history_doubt(self) -> str | None:
        """Why the lines of systemic therapy already given are not fully known (a
        medication part of the record not read, a medication record whose drug pecoma
        cannot identify, one whose start or, beside another cancer or for a drug given
        for diseases that are no cancer too, whose purpose is unknown), or ``None``."""
        reasons = [f"{searches.PARTS[part]} could not be read"
                   for part in searches.MEDICATION_PARTS if part in self.unread]
        if self.unidentified_medications:
            reasons.append("a medication record names a drug pecoma cannot identify")
        if self.unknown_starts:
            reasons.append("whether a medication had started is unknown: "
                           + "; ".join(self.unknown_starts[:3])
                           + (f"; and {len(self.unknown_starts) - 3} more"
                              if len(self.unknown_starts) > 3 else ""))
        if self.courses_in_doubt:
            reasons.append("what medications given beside another primary cancer were "
                           "for is unknown: " + "; ".join(self.courses_in_doubt[:3])
                           + (f"; and {len(self.courses_in_doubt) - 3} more"
                              if len(self.courses_in_doubt) > 3 else ""))
        if self.purposes_unknown:
            reasons.append("what medications of drugs given for diseases that are no "
                           "cancer too were given for is unknown: "
                           + "; ".join(self.purposes_unknown[:3])
                           + (f"; and {len(self.purposes_unknown) - 3} more"
                              if len(self.purposes_unknown) > 3 else ""))
        return "; ".join(reasons) or None


def fact_paths() -> tuple[str, ...]:
    """Every case fact a bundle can supply that may be unknown (for ``not_found``)."""
    return (
        "diagnosis.method",
        "diagnosis.date",
        "diagnosis.prior_diagnosis",
        "tumour.size",
        *(f"histology.{f}" for f in c.HISTOLOGY),
        "histology.mitoses_per_50_hpf",
        *(f"immunohistochemistry.{m}" for m in c.IHC),
        "stage.lymph_nodes",
        "stage.extrapulmonary_disease",
        "stage.local_recurrence",
        "stage.resectable",
        "stage.complete_excision_feasible",
        "stage.disease_free_interval_months",
        "surgery.status",
        "surgery.date",
        "surgery.margin",
        "primary_treatment_end",
        "systemic.mtor_inhibitor_available",
        "systemic.mtor_inhibitor_contraindicated",
        "systemic.anthracycline_contraindicated",
        "molecular.tsc1",
        "molecular.tsc2",
        "molecular.tfe3_fusion",
    )


def agent_of(concept: Any) -> Agent | None:
    """The systemic agent a medication CodeableConcept names (see fhir/medications.py)."""
    return agent_of_concept(concept)


def _shape(data: Any, r: Reader) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str | None]]:
    """The resources of the record, each with where its entry stands, and the ``fullUrl``
    of each entry so read. The resources of a Bundle an entry holds (a search answered
    in a batch-response) are the record's, under their own entries' fullUrls
    (:func:`pecoma.fhir.entries.walk`); the nested Bundle itself is noted, never counted
    among the types not read. An entry of a batch-response, transaction-response or
    history holding only a response gives nothing to read: noted (a failed request leaves
    the record not read in full: :func:`pecoma.fhir.searches.incomplete`)."""
    if not isinstance(data, dict):
        r.issue("(bundle)", type(data).__name__, "must be a JSON object (a FHIR Bundle)")
        return [], {}
    if data.get("resourceType") != "Bundle":
        r.issue("resourceType", data.get("resourceType", "(missing)"), "must be 'Bundle'")
        return [], {}
    entries = data.get("entry", [])
    if not isinstance(entries, list):
        r.issue("Bundle.entry", type(entries).__name__, "must be a list of entries")
        return [], {}
    out = []
    urls: dict[str, str | None] = {}
    held = list(walk(data))
    # a history Bundle's DELETE entries carry no resource: the resource they name is
    # deleted, and no copy of it elsewhere in the Bundle is read
    gone = {deleted(h.entry) for h in held} - {None}
    for h in held:
        res = h.resource
        if res is None and deleted(h.entry) is not None:
            r.notes.append(f"{h.where}: {deleted(h.entry)} deleted (a history "
                           "entry): not read")
            continue
        if (isinstance(res, dict) and gone
                and f"{res.get('resourceType')}/{res.get('id')}" in gone):
            r.notes.append(f"{h.where}: {res.get('resourceType')}/{res.get('id')} "
                           "is deleted in this history: not read")
            continue
        said = answer(h.entry, h.bundle.get("type")) if res is None else None
        if said is not None:
            r.notes.append(
                f"{h.where}: a request that failed (response.status {said.status!r}): what "
                "it would have returned is not in the record, which is not read in full"
                if said.failed else
                f"{h.where}: a response with no resource (response.status "
                f"{said.status!r}): nothing to read")
            continue
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            r.issue(
                f"{h.where}.resource",
                res if res is not None else "(missing)",
                "must be a FHIR resource (a JSON object with 'resourceType')",
            )
            continue
        if h.nested is not None:
            inner = res.get("entry", [])
            if not isinstance(inner, list):
                r.issue(f"{h.where}.resource.entry", type(inner).__name__,
                        "must be a list of entries")
                continue
            kind = res.get("type")
            shown = f"a {kind[:40]} Bundle" if isinstance(kind, str) else "a Bundle"
            r.notes.append(f"{h.where}.resource: {shown} held in the record ({len(inner)} "
                           f"entr{'y' if len(inner) == 1 else 'ies'}): its resources are "
                           "read as the record's")
            continue
        if h.modifiers:  # on the entry: it modifies what the entry's resource means
            said_urls = modifier_urls({"modifierExtension": list(h.modifiers)})
            if said_urls:
                r.entry_modifiers[id(res)] = said_urls
        if res.get("resourceType") == "Patient":
            # a Bundle labelled as withheld from (REDACTED, SUBSETTED) may have had the
            # Patient's elements withheld: what it does not give is unknown
            label = searches.withheld_label(h.bundle) or (
                searches.withheld_label(data) if h.bundle is not data else None)
            if label is not None:
                r.withheld_bundles[id(res)] = label
        out.append((h.where, res))
        urls[h.where] = h.full_url
    return out, urls


def unread_parts(data: Mapping[str, Any],
                 given: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parts of the record not read in full, with why: those ``given`` (a CDS
    prefetch part the EHR did not send), and, when the bundle says it is not the whole
    result of its search (:func:`pecoma.fhir.searches.incomplete`: one page of several,
    an OperationOutcome saying entries were left out, a ``total`` that is no count or is
    above the matches held, whatever the Bundle's type), every part of it but the
    Patient: which part the rest would hold cannot be told; and when it says it may not
    hold the entire record (:func:`pecoma.fhir.searches.caveat`: Epic's 4119), the
    allergies (:data:`pecoma.fhir.searches.CAVEAT_PARTS`), the part a drug is proposed
    from only when it is read in full; and when an OperationOutcome in it says what is not
    known to leave a medication list whole (:func:`pecoma.fhir.searches.medication_caveat`:
    "Medications: Not on File"), the medication parts: the lines already given are then
    unknown, never none."""
    out = {part: why for part, why in (given or {}).items()}
    why = searches.incomplete(data)
    if why is not None:
        for part in searches.PARTS:
            if part != "patient":
                out.setdefault(part, f"the bundle is not the whole record: {why}")
    said = searches.caveat(data)
    if said is not None:
        for part in searches.CAVEAT_PARTS:
            out.setdefault(part, f"the bundle is not known to be the whole record: {said}")
    said = searches.medication_caveat(data, whole_record=True)
    if said is not None:
        for part in searches.MEDICATION_PARTS:
            out.setdefault(part, f"the bundle is not known to be the whole record: {said}")
    return out


def _add_reason(unread: dict[str, str], part: str, why: str) -> None:
    """Say that ``part`` is not read in full, and why, beside what is said already (the
    caller may have said the same)."""
    if part not in unread:
        unread[part] = why
    elif why not in unread[part]:
        unread[part] += f"; and {why}"


def _unread(unread: Mapping[str, str], r: Reader) -> None:
    """What the parts not read leave unknown: a recorded 'mTOR inhibitor not
    contraindicated' when the allergies were not read in full (an allergy to sirolimus
    may be among what is missing)."""
    why = unread.get("allergies")
    if why is None:
        return
    if r.data.get("systemic", {}).get("mtor_inhibitor_contraindicated") == "no":
        del r.data["systemic"]["mtor_inhibitor_contraindicated"]
        del r.sources["systemic.mtor_inhibitor_contraindicated"]
        r.set_aside["systemic.mtor_inhibitor_contraindicated"] = (
            f"a 'no', not kept: the allergy list could not be read ({why})")
        r.notes.append("mTOR-inhibitor contraindication taken as unknown: the allergy list "
                       f"could not be read ({why})")


def _label(where: str, res: Mapping[str, Any]) -> str:
    """``Type/id``, or where the entry stands when the resource has no id."""
    rid = res.get("id")
    return f"{res['resourceType']}/{rid}" if isinstance(rid, str) else where


def _local_results(report: Mapping[str, Any], element: str = "result") -> list[str]:
    """The local references (``#id``) among a DiagnosticReport's ``result`` (or another
    element's: an Observation's ``hasMember``)."""
    out = []
    for ref in as_list(report.get(element)):
        target = ref.get("reference") if isinstance(ref, dict) else None
        if isinstance(target, str) and target.startswith("#") and len(target) > 1:
            out.append(target)
    return out


def _report_results(report: Mapping[str, Any], where: str, element: str = "result"
                    ) -> list[tuple[str, dict[str, Any]]]:
    """``(where, Observation)`` of each result a DiagnosticReport holds contained and
    names by ``#id`` (``DiagnosticReport/dr1#hmb``): results of the record, read as an
    Observation of the record is (FHIR R4: a contained resource is part of its
    container; the report's results are its observations). So are the members an
    Observation holds contained and names in ``hasMember`` (``element``: an mCODE stage
    group's T, N and M categories, ``Observation/sg#m``)."""
    out = []
    for target in _local_results(report, element):
        found = meds.contained(report, target)
        if isinstance(found, dict) and found.get("resourceType") == "Observation":
            out.append((f"{where}{target}", found))
    return out


def _holds_no_result(container: Mapping[str, Any], where: str, element: str, r: Reader
                     ) -> bool:
    """Whether a DiagnosticReport or an Observation panel gives none of the results it
    holds contained: one entered in error, cancelled or registered (nothing available
    yet: :data:`NO_RESULT`, one rule for both). A contained result exists only within its
    container (FHIR R4: it is interpreted in the context of the resource holding it), so
    a container withdrawn withdraws it; said, naming the results held (``element``: the
    report's ``result``, the panel's ``hasMember``). A member that is a result of the
    record of its own stands on its own status."""
    status = container.get("status")
    if not isinstance(status, str) or status not in NO_RESULT:
        return False
    held = [at.removeprefix(where) for at, _res in _report_results(container, where, element)]
    if held:
        r.notes.append(f"{where}: status '{status}' ({NO_RESULT[status]}): the results it "
                       f"holds ({', '.join(held[:5])}) are not read")
    return True


def _validation_issues(where: str, exc: ValidationError) -> list[FieldIssue]:
    out = []
    for err in exc.errors(include_url=False)[:10]:
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        msg = str(err["msg"]).removeprefix("Value error, ")
        value = "(missing)" if err["type"] == "missing" else show_value(err.get("input"))
        out.append(FieldIssue(f"{where}.{loc}" if loc else where, value,
                              "must be valid FHIR R4: " + msg))
    return out


_VALIDATOR_FAILED = "must be valid FHIR R4 (the R4B validator could not read it)"
#: The R4 resource types FHIR R4B dropped (its validator has no model for them).
_R4B_TYPES: Final = R4_TYPES - {
    "EffectEvidenceSynthesis", "MedicinalProduct", "MedicinalProductAuthorization",
    "MedicinalProductContraindication", "MedicinalProductIndication",
    "MedicinalProductIngredient", "MedicinalProductInteraction",
    "MedicinalProductManufactured", "MedicinalProductPackaged",
    "MedicinalProductPharmaceutical", "MedicinalProductUndesirableEffect",
    "RiskEvidenceSynthesis", "SubstanceNucleicAcid", "SubstancePolymer",
    "SubstanceProtein", "SubstanceReferenceInformation", "SubstanceSourceMaterial",
    "SubstanceSpecification"}


def _validate(
    data: dict[str, Any], entries: list[tuple[str, dict[str, Any]]], mode: Validation,
    r: Reader, patient_aside: tuple[str, ...] = (),
) -> None:
    """R4B validation: the whole Bundle (``full``), or each resource a fact was taken from
    and the Patient (``engine``, after reading: unrelated resources never make a bundle
    fail; ``patient_aside``: elements of the Patient not read, said as unknown, which
    are left out of its validation), or nothing (``none``)."""
    if mode == "none":
        return
    from fhir.resources.R4B import get_fhir_model_class

    if mode == "full":
        # each entry's resource, and each resource it contains: a type R4 does not have
        # (a misspelt 'Medicaton', R4B's Ingredient) named, never the validator's failure
        held = [(f"{at}.resource", res) for at, res in entries]
        held += [(f"{at}.resource.contained[{i}]", x) for at, res in entries
                 for i, x in enumerate(res.get("contained") or [])
                 if isinstance(res.get("contained"), list) and isinstance(x, dict)]
        for at, res in held:
            if res.get("resourceType") not in R4_TYPES:
                r.issue(f"{at}.resourceType", str(res.get("resourceType")),
                        "must be a resource type of FHIR R4 (4.0.1), such as Patient, "
                        "Condition, Observation or MedicationStatement (R5's MedicationUsage "
                        "is MedicationStatement in R4)")
        # an R4 type R4B no longer has (MedicinalProduct, EffectEvidenceSynthesis): the
        # validator cannot check it, said so, never its failure's name alone
        for at, res in entries:
            if res["resourceType"] in R4_TYPES and res["resourceType"] not in _R4B_TYPES:
                r.issue(f"{at}.resource.resourceType", res["resourceType"],
                        "must be a resource type the full validation can check (FHIR R4B "
                        "dropped this R4 type): validate the record without "
                        "--full-validation, which reads only the types pecoma uses")
        if r.issues:
            return
        try:
            get_fhir_model_class("Bundle").model_validate(data)
        except ValidationError as exc:
            r.issues.extend(_validation_issues("Bundle", exc))
        except Exception as exc:  # the validator itself failed on odd input
            r.issue("Bundle", type(exc).__name__, _VALIDATOR_FAILED)
        return
    seen: dict[tuple[int, str], bool] = {}  # this record's text values already checked
    # a report whose contained result gave a fact ('DiagnosticReport/dr1#hmb') is validated
    containers = {used.partition("#")[0] for used in r.used if "#" in used}
    for at, res in entries:
        label = _label(at, res)
        if label not in r.used and label not in containers and (
                res["resourceType"] != "Patient"):
            continue
        if res["resourceType"] == "Patient" and patient_aside:
            res = {k: v for k, v in res.items() if k not in patient_aside}
        if plainly_valid(res, seen):
            continue  # certainly valid: the full validator would accept it
        try:
            get_fhir_model_class(res["resourceType"]).model_validate(res)
        except ValidationError as exc:
            found = _validation_issues(label, exc)
            if res["resourceType"] == "AllergyIntolerance" and label in r.allergy_read:
                found = _aside_from_allergy(label, res, found, r)
            r.issues.extend(found)
        except Exception as exc:  # the validator itself failed on odd input
            r.issue(label, type(exc).__name__, _VALIDATOR_FAILED)


#: The elements of an AllergyIntolerance that decide how it is read (an intolerance of the
#: drugs it names, or of 'other' when its substance is not identified): whose it is, its
#: statuses, its category, what it says its substance is (its code, each reaction's
#: substance, a reaction that cannot be read at all) and the project's extension
#: intolerance-class-wide (the team's judgement whether it is of the class).
ALLERGY_DECIDING: Final = frozenset({"patient", "clinicalStatus", "verificationStatus",
                                     "category", "code", "resourceType"})
#: The elements whose words add the drugs pecoma knows there (a note, a reaction's
#: description or manifestation): read as far as they hold words even when malformed.
_ALLERGY_WORDS: Final = frozenset({"note", "description", "manifestation"})


def _decides_allergy(path: str, allergy: Mapping[str, Any]) -> bool:
    """Whether a validation issue at ``path`` (below the resource) is in an element that
    decides an allergy entry's reading (:data:`ALLERGY_DECIDING`)."""
    parts = path.split(".")
    if not parts[0] or parts[0] in ALLERGY_DECIDING:
        return True
    if parts[0] == "reaction":
        return len(parts) <= 2 or parts[2] == "substance"
    if parts[0] == "extension":
        listed = allergy.get("extension")
        if len(parts) < 2 or not parts[1].isdigit() or not isinstance(listed, list) \
                or int(parts[1]) >= len(listed):
            return True
        said = listed[int(parts[1])]
        return not isinstance(said, dict) or said.get("url") == c.EXT.INTOLERANCE_CLASS_WIDE
    return False


def _aside_from_allergy(label: str, allergy: Mapping[str, Any], found: list[FieldIssue],
                        r: Reader) -> list[FieldIssue]:
    """The issues of an allergy entry read (:attr:`Reader.allergy_read`) that refuse the
    record: those in an element deciding its reading. Each other one (an onset date, a
    recordedDate, a reaction's severity or manifestation) is a note quoting it: the
    intolerance does not depend on it, the drugs the entry names stay ruled out, and the
    rest of the record is read (unknown stays local to the fact)."""
    kept = []
    for issue in found:
        below = issue.path.removeprefix(label).removeprefix(".")
        if _decides_allergy(below if issue.path != label else "", allergy):
            kept.append(issue)
            continue
        words = bool(_ALLERGY_WORDS.intersection(below.split(".")))
        r.notes.append(f"{label}: its element {below} is not valid FHIR R4 "
                       f"({issue.rule.removeprefix('must be valid FHIR R4: ')}; got "
                       f"{issue.value}): "
                       + ("read only for the drugs pecoma knows that its words name"
                          if words else "not read")
                       + "; it does not decide the entry, read as "
                       f"{r.allergy_read[label]} all the same")
    return kept


def _check_subject(res: Mapping[str, Any], where: str, who: ThePatient,
                   foreign: list[FieldIssue]) -> Attribution:
    """Whose a resource is (:meth:`ThePatient.of`); another patient's is an issue."""
    found = who.of(res)
    if found.whose == "other":
        mine = f"Patient/{who.id}" if who.id is not None else "its Patient"
        foreign.append(FieldIssue(
            f"{where}.{found.key}", show_value(found.shown),
            f"must refer to the bundle's patient ({mine}); a bundle holds one patient's "
            f"record ({found.why})"))
    return found


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block (then as before).

    Reading a large record walks a freshly parsed JSON tree (a 5,000-entry record is some
    100,000 objects, none in a reference cycle) while allocating: a collection triggered
    then traverses the whole tree, and one read in four took 85-145 ms instead of 17-26 ms
    (bench/RESULTS.md). Nothing the reader makes needs the collector; it runs afterwards
    as usual. The state is per process: a caller that had it off keeps it off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def case_from_bundle(
    data: Any, *, validate: Validation = "engine", source: str = "FHIR bundle",
    on: dt.date | None = None, unread: Mapping[str, str] | None = None,
    patient: str | None = None, server: str | None = None,
    settings: Settings | None = None,
) -> BundleCase:
    """Read one patient's PEComa case from a FHIR R4 Bundle, or raise :class:`InputError`.

    ``on`` is the day the record is read for: a medication starting after it is planned,
    not given. Without it, start dates are not compared with any day (an order starting
    next month is then read as a line given): every reading made for advice passes the
    evaluation date (``pecoma fhir`` commands' ``--on``, the CDS services' and the SMART
    app's clock, read at the edge); nothing here reads today's date. ``unread``: the
    parts of the record (:data:`pecoma.fhir.searches.PARTS`) the caller could not read,
    with why; a bundle that says it is not the whole result of its search adds every
    part (:func:`unread_parts`). What they would give stays unknown
    (:attr:`BundleCase.unread`). ``patient``: the id of the patient the record is read
    for (a CDS Hooks call's ``context.patientId``): a Patient resource of another id, or a
    resource read that refers to another patient, is refused
    (:class:`~pecoma.errors.OtherPatientError`); ``server``: the FHIR server the record
    was read from (a CDS Hooks call's ``fhirServer``), whose absolute references to the
    patient are theirs. ``settings``: those the case will be assessed with (the defaults
    when left out): a note saying what the engine reads of a fact is derived with them.
    A resource that cannot be attributed to the patient (:mod:`pecoma.fhir.subjects`) is
    not read: it is listed in ``not_read`` and its part of the record is not read in full
    (:attr:`BundleCase.unread`).
    """
    with _no_cycle_collection():
        return _read(data, validate, source, on, unread, patient, server,
                     engine=(settings or default_settings()).engine)


def _read(data: Any, validate: Validation, source: str, on: dt.date | None,
          given_unread: Mapping[str, str] | None, expected: str | None,
          server: str | None, modified: Mapping[int, str] | None = None, *,
          engine: EngineSettings) -> BundleCase:
    """``modified``: resources (by identity) found, on a first reading, to carry a
    modifierExtension within an element (a component, a dosage): read again without
    them."""
    r = Reader(source, on=on, engine=engine)
    entries, full_url = _shape(data, r)
    if r.issues:
        raise InputError(r.issues, source)
    # One resource sent twice (the same content, or one version whose meta.lastUpdated
    # is written two ways) is read once, as the first copy; two different resources
    # under one id are refused: which one a reference means cannot be told, and never
    # the first by chance.
    seen: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    copy_of: dict[str, dict[str, Any]] = {}  # where an entry stands -> the resource read
    kept: list[tuple[str, dict[str, Any]]] = []
    for at, res in entries:
        rid = res.get("id")
        key = (str(res.get("resourceType")), rid if isinstance(rid, str) else "")
        first = seen.get(key) if isinstance(rid, str) else None
        if first is None:
            if isinstance(rid, str):
                seen[key] = (at, res)
            copy_of[at] = res
            kept.append((at, res))
        elif same_resource(first[1], res):
            copy_of[at] = first[1]
        else:
            r.issue(at, f"{key[0]}/{key[1]}",
                    f"must not repeat an id with other content ({first[0]} "
                    f"is another {key[0]}/{key[1]}: a reference to it could mean either)")
    if r.issues:
        raise InputError(r.issues, source)
    entries = kept
    # every entry's fullUrl names the resource read for it (a copy sent twice: each)
    urls = [(full_url[at], res) for at, res in copy_of.items()]
    unread = unread_parts(data, given_unread)
    # one fullUrl names one resource: two different resources under it are refused (a
    # reference to it could mean either), as two under one id are
    full_urls_all: dict[str, Mapping[str, Any]] = {}
    url_entry: dict[str, str] = {}
    for at, res in copy_of.items():
        url = full_url[at]
        if url is None:
            continue
        held = full_urls_all.get(url)
        if held is None:
            full_urls_all[url] = res
            url_entry[url] = at
        elif held is not res and not same_resource(held, res):
            r.issue(f"{at}.fullUrl", url[:100],
                    f"must not repeat a fullUrl with other content ({url_entry[url]} is "
                    "another resource under it: a reference to it could mean either)")
    # one local id names one contained resource: a resource read holding two different
    # ones under one id is refused, as two under one id in the bundle are (a reference
    # '#id' could mean either); resources of types never read are left alone, bar a
    # DiagnosticReport whose results it holds contained
    for where, res in entries:
        if res["resourceType"] not in READ_TYPES and not (
                res["resourceType"] == "DiagnosticReport" and _local_results(res)):
            continue
        for index, local, first_at in meds.repeated_local_ids(res):
            r.issue(f"{_label(where, res)}.contained[{index}].id", local,
                    f"must not repeat a contained resource's id with other content "
                    f"(contained[{first_at}] is another resource under it: a reference "
                    f"'#{local}' could mean either)")
    if r.issues:
        raise InputError(r.issues, source)
    r.kinds = {id(res): observation_kind(res) for _at, res in entries
               if res["resourceType"] == "Observation"}
    if validate == "full":
        _validate(data, entries, validate, r)
        if r.issues:
            raise InputError(r.issues, source)

    patients = [(at, res) for at, res in entries if res["resourceType"] == "Patient"]
    if len(patients) > 1:
        ids = sorted({str(res.get("id")) for _i, res in patients})
        if len(ids) > 1:
            r.issue("Bundle.entry (Patient)", f"{len(ids)} patients",
                    "must hold exactly one patient's record")
            raise OtherPatientError(r.issues, list(r.issues), source)
    patient_id = None
    found_patient = PatientRead()
    if patients:
        pid = patients[0][1].get("id")
        patient_id = str(pid) if isinstance(pid, str) else None
        found_patient = read_patient(
            patients[0][1], _label(*patients[0]), r.entry_modifiers.get(id(patients[0][1]), ""),
            r.withheld_bundles.get(id(patients[0][1])), r)
    deceased, vital_unknown = found_patient.deceased, found_patient.vital_unknown
    r.birth = found_patient.birth
    if deceased is None and vital_unknown is None and "patient" in unread:
        # the Patient the caller could not read (a CDS prefetch null, an
        # OperationOutcome, a read that failed) says nothing of whether the patient
        # died: unknown, as an unreadable deceased[x] is, never taken as alive (the
        # caller lists the part not read, with why: no note says it again)
        vital_unknown = f"the Patient resource could not be read: {unread['patient']}"
        if not patients:
            r.birth = Birth(None, vital_unknown)

    if expected is not None and patient_id is not None and patient_id != expected:
        r.issue("Patient.id", patient_id, f"must be the patient the record is read for "
                f"(Patient/{expected}): this is another patient's record")
        raise OtherPatientError(r.issues, list(r.issues), source)
    if expected is not None and patient_id is None:
        patient_id = expected  # every resource read must refer to that patient
    if patient_id is None and not patients:
        # no Patient resource to check against: the resources read must still all be
        # one patient's (a search across patients would merge their records)
        subjects = sorted(f"Patient/{named}"
                          for named in named_patients(res for _i, res in entries))
        if len(subjects) > 1:
            r.issue("Bundle.entry (subject)", ", ".join(subjects[:5]),
                    f"must refer to one patient (the resources refer to {len(subjects)}): "
                    "a bundle holds one patient's record")
            raise OtherPatientError(r.issues, list(r.issues), source)
    who = the_patient([(url, res) for url, res in urls], expected, server)
    any_modifier = _mentions_modifiers(data)
    # an absolute medicationReference resolves only on the record's servers
    resolve = meds.resolver_for([res for _i, res in entries], full_urls_all, who.servers)

    by_type: dict[str, list[tuple[str, dict[str, Any]]]] = {t: [] for t in READ_TYPES}
    ignored: dict[str, int] = {}
    # a resource of a type FHIR R4 does not have (R5's MedicationUsage) is listed as not
    # read; what it holds cannot be told, a medication among it, so the lines given are
    # not taken as fully known
    not_r4 = [(at, res) for at, res in entries if res["resourceType"] not in R4_TYPES]
    for at, res in not_r4:
        _add_reason(unread, "medications",
                    f"{at}: {_label(at, res)[:80]} is not a FHIR R4 resource type "
                    f"({show_value(res['resourceType'])}): what it holds is not read (it may "
                    "record a medication given)")
    foreign: list[FieldIssue] = []
    unattributed: list[tuple[str, str, Attribution]] = []
    # the record's resources, then the results a DiagnosticReport holds contained, each
    # judged as a resource of the record is (whose, modifiers, labels, focus)
    queue = [(_label(at, res), res) for at, res in entries]
    for where, res in queue:
        kind = res["resourceType"]
        report = kind == "DiagnosticReport" and bool(_local_results(res))
        if kind not in by_type and not report:
            if kind in R4_TYPES:
                ignored[kind] = ignored.get(kind, 0) + 1
            continue
        found = _check_subject(res, where, who, foreign)
        if found.whose == "unknown":
            # a report's results are observations: that part is not read in full
            unattributed.append(("Observation" if report else kind, where, found))
            continue
        if found.whose == "this":
            if kind == "AllergyIntolerance":
                # read in full or set aside by the allergy reading, the one the CDS
                # services make (pecoma.fhir.allergies.not_read_in_full: a modifierExtension
                # anywhere in it or on its entry, a label saying it was withheld)
                by_type[kind].append((where, res))
                continue
            modifier = ((any_modifier and modifier_urls(res, nested=False))
                        or r.entry_modifiers.get(id(res), "")
                        or (modified or {}).get(id(res), ""))
            label = searches.withheld_label(res) if kind != "Patient" else None
            if (modifier or label) and kind != "Patient":
                # a modifier pecoma does not understand may change what the resource
                # means (FHIR: never read as if it were absent), and a label saying
                # information was withheld from it (REDACTED, SUBSETTED) says it is not
                # whole: not read, said so; a medication left out leaves its part of the
                # record unknown
                why = (f"it carries a modifierExtension pecoma does not understand "
                       f"({modifier}), which may change what it means" if modifier
                       else f"it is {label}")
                r.notes.append(f"{where}: not read: {why}")
                if kind == "Condition":
                    r.modified_conditions.append((where, res, modifier, label or ""))
                elif kind == "Procedure":
                    r.modified_procedures.append((where, res, why))
                part = PART_OF_TYPE.get(kind)
                if part in searches.MEDICATION_PARTS:
                    _add_reason(unread, part, f"{where}: {why}")
                continue
            if report:
                if _holds_no_result(res, where, "result", r):
                    continue
                for at, result in _report_results(res, where):
                    r.kinds[id(result)] = observation_kind(result)
                    queue.append((at, result))
                continue
            about = _focus_elsewhere(res, who, resolve)
            if about is not None and about.whose == "other":
                # FHIR: the focus is who or what the result is about, when not the subject
                r.notes.append(f"{where}: not read: its focus ({about.shown}) is not this "
                               f"patient ({about.why})")
                continue
            if about is not None:  # a patient that cannot be confirmed, as for a subject
                unattributed.append((kind, where, replace(
                    about, why=f"its focus: {about.why}", key="focus")))
                continue
            by_type[kind].append((where, res))
            if kind == "Observation" and not _holds_no_result(res, where, "hasMember", r):
                # its members held contained are results of the record too
                for at, member in _report_results(res, where, "hasMember"):
                    r.kinds[id(member)] = observation_kind(member)
                    queue.append((at, member))
    for part, why in unattributed_parts(unattributed).items():
        _add_reason(unread, part, why)
    r.resolve = resolve
    r.labels = {id(res): w for t in READ_TYPES for w, res in by_type[t]}
    if deceased is None:
        deceased = _dead_by_observation(by_type["Observation"], r)
        if deceased is not None:
            vital_unknown = None  # a death recorded by an Observation of vital status

    observations = live_observations(by_type["Observation"], r)
    r.conditions_unread = unread.get("conditions")
    # known before the metastases are read: free of disease is never derived from the
    # resolved ones beside Observations not all read (a disease status among them may
    # say the disease is present)
    r.observations_unread = unread.get("observations")
    read_conditions(by_type["Condition"], observations, r)
    read_history_conditions(by_type["Condition"], r)
    read_observations(observations, r)
    read_procedures(by_type["Procedure"], observations, r)
    read_at_presentation(observations, r)  # after the resection: what was seen later is not
    # after the resection: a nodal relapse is no nodes at presentation
    read_metastases(r, observations)
    settle_specimen_diagnosis(r)  # before the lines of treatment are dated against it
    medication_records = [x for t in meds.MEDICATION_TYPES for x in by_type[t]]
    read_medications(medication_records, r)
    # a Condition naming an allergy or adverse reaction to a drug (the problem list) is
    # read with the allergy list (pecoma.fhir.allergies.condition_intolerance)
    # and an AdverseEvent suspecting a drug (pecoma.fhir.allergies.adverse_event_intolerance)
    aside = read_allergies([*by_type["AllergyIntolerance"], *by_type["Condition"],
                            *by_type["AdverseEvent"]], r, medication_records)
    if aside is not None:
        _add_reason(unread, "allergies", aside)
    _unread(unread, r)
    derive_status(r)
    settle_line_settings(r)  # once the status is read: a line after a localized resection
    settle_entered_dates(r)
    if modified is None and any_modifier:
        # a modifierExtension within an element of a resource read (rare: looked for in
        # those only): the record is read again without it
        # (an allergy entry's are looked for by the allergy reading itself)
        inner = {id(res): said for t in READ_TYPES if t != "AllergyIntolerance"
                 for where, res in by_type[t] if where in r.used and (said := modifier_urls(res))}
        if inner:
            return _read(data, validate, source, on, given_unread, expected, server, inner,
                         engine=engine)
    if validate == "engine":
        read_issues, r.issues = r.issues, []
        # an element of the Patient not read is said as unknown, not refused as well
        _validate(data, entries, validate, r, found_patient.aside)
        # an element the reading refused is said once, in the reading's words
        r.issues = [issue for issue in r.issues if not any(
            issue.path == path or issue.path.startswith(f"{path}.")
            for path in r.refused_elements)]
        r.issues.extend(read_issues)
    if foreign:
        raise OtherPatientError([*foreign, *r.issues], foreign, source)
    if r.issues:
        # what was set aside may hold what is missing: said, unless the caller already
        # knows that part was not read
        r.issues.extend(FieldIssue(f"{where}.{found.key}", show_value(found.shown),
                                   f"was not read: its patient cannot be confirmed "
                                   f"({found.why})")
                        for kind, where, found in unattributed
                        if PART_OF_TYPE.get(kind) not in (given_unread or {}))
        raise InputError(r.issues, source)
    # a metastasis's onset given as a month or a year: its timing, where every day it may
    # be gives the same, once the end of the primary's treatment is known
    settle_partial_onsets(r, source)
    try:
        case = parse_case(r.data, source)
    except InputError as exc:
        raise InputError(
            [FieldIssue(_where(i.path, r.sources), i.value, i.rule) for i in exc.issues], source
        ) from exc
    unreadable = {path: why for path, why in r.unreadable.items() if path not in r.sources}
    set_aside = {path: why for path, why in r.set_aside.items() if path not in r.sources}
    not_found = tuple(p for p in _not_found(case, r.sources)
                      if p not in unreadable and p not in set_aside)
    return BundleCase(
        case=case,
        not_found=not_found,
        sources=dict(r.sources),
        patient_id=patient_id,
        ignored=tuple(f"{k} ×{n}" for k, n in sorted(ignored.items())),
        notes=tuple(r.notes),
        not_read=(*_not_r4_read(not_r4), *_not_read(by_type, r, unattributed)),
        evidence=tuple(text for _when, text in sorted(r.evidence, key=lambda e: e[0])),
        unidentified_medications=tuple(r.unidentified),
        unknown_starts=tuple(r.unknown_starts),
        courses_in_doubt=tuple(r.courses_in_doubt),
        purposes_unknown=tuple(r.purposes_unknown),
        planned=tuple(r.planned),
        running=tuple(r.running),
        not_tolerated=tuple(r.not_tolerated),
        unclear_stops=tuple(r.unclear_stops),
        unread=unread,
        unreadable=unreadable,
        set_aside=set_aside,
        deceased=deceased,
        other_cancers=tuple(r.other_cancers),
        pecoma_condition=r.primary_at,
        vital_status_unknown=vital_unknown,
    )


#: Resource types an Observation's focus names when the result is about another person.
_OTHER_PEOPLE: Final = frozenset({"RelatedPerson", "FamilyMemberHistory", "Group"})


def _focus_elsewhere(res: Mapping[str, Any], who: ThePatient,
                     resolve: meds.Resolver) -> Attribution | None:
    """Whose the focus of an Observation is, when it may not be this patient: ``other``
    when it names another person (a relative, a family history, a group, another
    Patient), ``unknown`` when it names a Patient that cannot be confirmed as this one.
    What a focus names is found by the one rule for references
    (:func:`pecoma.fhir.references.type_named`: relative, an entry's fullUrl or
    ``urn:uuid``, absolute, versioned), and a Patient is judged as a ``subject`` is
    (:meth:`ThePatient.whose`). A focus on the tumour, a specimen or a condition is this
    patient's: ``None``."""
    if res.get("resourceType") != "Observation":
        return None
    for ref in as_list(res.get("focus")):
        target = ref.get("reference") if isinstance(ref, dict) else None
        if not isinstance(target, str):
            continue
        kind = type_named(target, resolve)
        if kind in _OTHER_PEOPLE:
            return Attribution("other", f"a {kind}: another person",
                               show_value(target, 80).strip("'\""))
        if kind == "Patient":
            found = who.whose({"reference": target})
            if found.whose != "this":
                return found
    return None


def _mentions_modifiers(data: Any) -> bool:
    """Whether the key ``modifierExtension`` appears anywhere in the record, by one pass
    of the JSON writer. A record without it (nearly every one) needs no look inside each
    resource read: that look was a fifth of the reading of a CDS call's record. A record
    the writer cannot write (an integer beyond 64 bits, nesting deeper than it goes) is
    looked into as before."""
    try:
        return b'"modifierExtension"' in orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is one
        return True


#: LOINC 75186-7 "Vital status"; SNOMED CT 419099009 "Dead".
_VITAL_STATUS: Final = "75186-7"
_DEAD: Final = "419099009"


def _dead_by_observation(observations: list[tuple[str, dict[str, Any]]],
                         r: Reader) -> str | None:
    """The day (or ``"yes"``) an Observation of vital status says the patient died, noted;
    ``None`` when none does."""
    for where, obs in observations:
        if not has_code(obs.get("code"), c.LOINC, _VITAL_STATUS):
            continue
        if obs.get("status") in ("entered-in-error", "cancelled"):
            continue
        if has_code(obs.get("valueCodeableConcept"), c.SNOMED, _DEAD):
            when = obs.get("effectiveDateTime")
            said = when.strip()[:40] if isinstance(when, str) and when.strip() else "yes"
            r.used.add(where)
            r.notes.append(f"{where}: vital status 'dead': the patient is recorded as "
                           f"deceased ({said})")
            return said
    return None


def case_from_bundle_json(
    text: str | bytes, *, validate: Validation = "engine", source: str = "FHIR bundle",
    on: dt.date | None = None, settings: Settings | None = None,
) -> BundleCase:
    """Parse JSON text into a case, or raise :class:`InputError`."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(
            [FieldIssue("(json)", "unparseable text", f"must be valid JSON: {exc}")], source
        ) from exc
    return case_from_bundle(data, validate=validate, source=source, on=on, settings=settings)


def _where(path: str, sources: Mapping[str, str]) -> str:
    src = sources.get(path)
    if src is None:
        for key, value in sources.items():
            if path.startswith(key):
                src = value
                break
    return f"{path} (from {src})" if src else path


def _not_found(case: Case, sources: Mapping[str, str]) -> tuple[str, ...]:
    out = []
    for path in fact_paths():
        if path in sources:
            continue
        if path == "stage.disease_free_interval_months" and not case.stage.metastases:
            continue
        if path == "primary_treatment_end" and case.treatment_end is not None:
            continue
        if path in ("surgery.date", "surgery.margin") and case.surgery.status not in (
            SurgeryStatus.performed, SurgeryStatus.planned, SurgeryStatus.unknown
        ):
            continue
        if path == "surgery.margin" and case.surgery.status is SurgeryStatus.planned:
            continue
        if path == "systemic.mtor_inhibitor_contraindicated" and case.systemic.mtor_not_tolerated:
            continue  # derived from the intolerance read (I15), an observation set aside
        out.append(path)
    return tuple(out)


_NOT_READ_SHOWN = 5


def _not_read(by_type: Mapping[str, list[tuple[str, dict[str, Any]]]],
              r: Reader, unattributed: list[tuple[str, str, Attribution]]
              ) -> tuple[str, ...]:
    """Every resource of a read type that gave nothing, grouped by why (a few shown each);
    first those whose patient cannot be confirmed."""
    reasons: dict[str, list[str]] = {}
    for kind, where, found in unattributed:
        reasons.setdefault(f"{kind}: its patient cannot be confirmed ({found.why})",
                           []).append(where)
    # a Procedure set aside for a modifierExtension or a label is listed too: a
    # resection among them leaves the surgery facts found but not read
    aside = {"Procedure": [(where, res) for where, res, _why in r.modified_procedures]}
    for kind in READ_TYPES:
        if kind == "Medication":
            continue
        for where, _res in [*by_type[kind], *aside.get(kind, [])]:
            if where in r.used or (kind == "Patient" and where not in r.why):
                continue  # a Patient is listed only when set aside
            why = r.why.get(where, _DEFAULT_WHY.get(kind, "nothing the case records"))
            reasons.setdefault(f"{kind}: {why}", []).append(where)
    out = []
    for why, labels in reasons.items():
        shown = ", ".join(labels[:_NOT_READ_SHOWN])
        more = f" and {len(labels) - _NOT_READ_SHOWN} more" if len(labels) > _NOT_READ_SHOWN else ""
        out.append(f"{why} ({len(labels)}: {shown}{more})")
    return tuple(out)


def _not_r4_read(not_r4: list[tuple[str, dict[str, Any]]]) -> tuple[str, ...]:
    """The resources of a type FHIR R4 does not have, grouped by type (a few shown)."""
    by_kind: dict[str, list[str]] = {}
    for at, res in not_r4:
        by_kind.setdefault(str(res["resourceType"]), []).append(at)
    return tuple(
        f"{show_value(kind)}: not a FHIR R4 resource type, not read (what it holds may be "
        f"a medication: the lines given are not fully known) ({len(ats)}: "
        f"{', '.join(ats[:_NOT_READ_SHOWN])}"
        + (f" and {len(ats) - _NOT_READ_SHOWN} more" if len(ats) > _NOT_READ_SHOWN else "")
        + ")" for kind, ats in by_kind.items())


_DEFAULT_WHY = {
    "Condition": "not the PEComa nor a metastasis of it",
    "Observation": "a code the case does not record (vital signs, laboratory, ...)",
    "Procedure": "not a resection of the primary tumour",
    "MedicationStatement": "not a systemic agent of the guideline",
    "MedicationRequest": "not a systemic agent of the guideline",
    "MedicationAdministration": "not a systemic agent of the guideline",
    "MedicationDispense": "not a systemic agent of the guideline",
    "AllergyIntolerance": "not to an mTOR inhibitor",
    "AdverseEvent": "its suspected cause is no mTOR inhibitor",
}
