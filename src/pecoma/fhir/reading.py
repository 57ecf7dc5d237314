"""What the FHIR reader's parts share: the state of one reading (:class:`Reader`: the
case data gathered, where each fact came from, the issues and notes) and the small
functions that read FHIR values (codings, dates, extensions, references, body sites).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple

from pecoma.case import Agent, MetastasisSite, PrimarySite
from pecoma.errors import FieldIssue, show_value
from pecoma.fhir import codes as c
from pecoma.fhir import mcode as m
from pecoma.fhir import medications as meds
from pecoma.fhir.ages import NO_PATIENT, Birth
from pecoma.fhir.medications import day_of
from pecoma.settings import EngineSettings

__all__ = [
    "FORBIDDEN",
    "HISTORY_CLINICAL",
    "IGNORED_VERIFICATION",
    "OF_ONE_TIME",
    "NotTolerated",
    "Order",
    "PartialOnset",
    "Planned",
    "Reader",
    "agreeing",
    "as_list",
    "bound_status",
    "cervix_of",
    "clinical_status",
    "codings",
    "condition_side",
    "condition_sides",
    "conditions_named",
    "day_of",
    "effective_time",
    "enum_extension",
    "extension",
    "extension_code",
    "has_code",
    "instant",
    "known_later",
    "live_condition",
    "modifier_urls",
    "project_code",
    "reference_of",
    "refuse_backwards",
    "refuted_in_doubt",
    "resolved",
    "same_resource",
    "site_of",
    "stated_side",
    "stated_sides",
    "status_notes",
    "time_order",
    "verification",
]

IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


@dataclass(frozen=True, slots=True)
class Planned:
    """A medication record of a known agent that is no line given because it is planned:
    an order drafted, proposed or planned, one whose first day is after the day read for
    (or may be), a statement of intent, a dispense being prepared. An order already in
    the record: a second one of its kind is not to be proposed. The same shape names a
    medication record given now (``BundleCase.running``: an order under way, or on hold,
    ``how`` saying since when)."""

    where: str  # MedicationRequest/mr-1
    agent: Agent
    how: str  # "to start 2027-01-10", "intent 'plan'", "status 'draft'"
    #: When ``agent`` stands for many drugs (other chemotherapy, another agent), the drugs
    #: it names (:func:`pecoma.fhir.medications.drugs_of`): what an allergy to one of them
    #: (paclitaxel) is compared with.
    drugs: frozenset[str] = frozenset()
    #: Given now but on hold (status ``on-hold``): suspended, it may be resumed at any time.
    held: bool = False
    #: Possibly given now: its status is ``unknown``, started, no end by the day read for
    #: (:attr:`pecoma.fhir.medications.Now.unsure`): read as given now, the safer reading.
    unsure: bool = False
    #: A topical product applied where it acts (a sirolimus gel:
    #: :func:`pecoma.fhir.medications.not_systemic`): checked against the allergy list as
    #: any order is, but no order in place of a systemic treatment.
    topical: bool = False

    def __str__(self) -> str:
        return (f"{self.where}: {'topical ' if self.topical else ''}"
                f"{self.agent.value.replace('_', ' ')}, {self.how}")


#: How :attr:`NotTolerated.reason` begins for an order not to give the drug (a
#: MedicationRequest ``doNotPerform``), not a drug stopped or held.
FORBIDDEN: Final = "do-not-perform order: "


@dataclass(frozen=True, slots=True)
class NotTolerated:
    """A medication record whose ``statusReason`` says its drug was not tolerated
    (:func:`pecoma.fhir.medications.status_reason`): an intolerance of the drug, read as
    an allergy entry naming it is (I15)."""

    where: str  # MedicationRequest/mr-1
    agent: Agent
    #: The drugs the record names one by one (:func:`pecoma.fhir.medications.drugs_of`).
    drugs: frozenset[str]
    reason: str  # the statusReason as the record words it


class PartialOnset(NamedTuple):
    """A metastasis whose onset is a partial date ("2025", "2025-04")."""

    where: str  # Condition/id
    written: str  # the date as written
    first: dt.date  # the first day it may be
    last: dt.date  # the last day it may be
    #: The Condition's recordedDate: it was found by then (bounds the days it may be
    #: when the record is read for no evaluation date).
    recorded: dt.date | None
    met: dict[str, Any]  # the metastasis read
    #: What the reading of its onset noted ("holds no single day"): said again where the
    #: days decide nothing, else one note says both.
    said: tuple[str, ...] = ()


@dataclass
class Reader:
    source: str
    on: dt.date | None = None
    #: The engine settings the case read is assessed with: what a note says the engine
    #: reads of the facts (S16's interval of a partial onset) is derived with them.
    engine: EngineSettings | None = None
    issues: list[FieldIssue] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    resolve: meds.Resolver = meds.no_resolver
    labels: dict[int, str] = field(default_factory=dict)
    #: Resources a fact was taken from, and why others were not read.
    used: set[str] = field(default_factory=set)
    why: dict[str, str] = field(default_factory=dict)
    #: Facts the record gave and the reader set aside (a 'no' to the mTOR-inhibitor
    #: contraindication beside an allergy it cannot identify, say), each with why: unknown,
    #: as a fact not found is, but found, so never said to be missing from the record.
    set_aside: dict[str, str] = field(default_factory=dict)
    #: Allergy entries a fact was taken from, each with what it was read as ("an
    #: intolerance of sirolimus", "an intolerance of 'other'"): only the elements that
    #: decide that reading are validated (:data:`pecoma.fhir.reader.ALLERGY_DECIDING`);
    #: another malformed element (an onset date, a reaction's severity) is noted.
    allergy_read: dict[str, str] = field(default_factory=dict)
    evidence: list[tuple[str, str]] = field(default_factory=list)
    primary: Mapping[str, Any] | None = None
    #: Where the PEComa Condition read as the primary is (``Condition/id``).
    primary_at: str | None = None
    present_metastases: int = 0
    #: Each resolved metastasis whose abatement gives no single day, when none is
    #: present: the element and value given (``None``: no abatement at all) and why it
    #: holds no day, in words (the disease status then cannot be derived).
    history_without_end: list[tuple[str | None, str]] = field(default_factory=list)
    #: Where the record says the disease is present again, or may be, after every
    #: metastasis resolved (a statement dated after their latest abatement, or one that
    #: cannot be placed against it: :func:`pecoma.fhir.present_again.present_again`): the
    #: patient is not taken as free of disease, the status is 'metastatic'.
    present_again: str | None = None
    distant_metastasis_stated: str | None = None
    #: The latest time's statements of distant spread (a disease status, an M category
    #: of M1), each with its time, where it is, what it says and whether that is that
    #: distant metastases are present: a later statement decides, two of one time that
    #: differ leave it undecided (``read_observations._spread_in_time``).
    spread_statements: list[tuple[Order, str, str, bool]] = field(default_factory=list)
    #: Every statement of distant spread so read, of any time (the project's disease
    #: status is weighed against each: :func:`pecoma.fhir.read_conditions.derive_status`).
    spread_all: list[tuple[Order, str, str, bool]] = field(default_factory=list)
    #: The latest statements of distant spread of one time that differ (what they say),
    #: or ``None``: whether distant metastases are present now is unknown.
    spread_disputed: str | None = None
    no_metastatic_history: str | None = None
    #: Why the Observations are not all read (the record's ``observations`` part not
    #: read in full: a search made by category, a bundle that is not the whole result),
    #: or ``None``: a distant metastasis or a stage IV among those not read is unknown,
    #: so the disease is never taken as localized from their absence.
    observations_unread: str | None = None
    #: Why the Conditions are not all read (the record's ``conditions`` part not read in
    #: full: a Condition whose patient cannot be confirmed, a bundle that is only the
    #: first page of its search), or ``None``: an active metastasis among those not read
    #: is unknown, so the patient is never taken as free of disease from the resolved
    #: metastases read (:func:`pecoma.fhir.read_conditions.read_metastases`).
    conditions_unread: str | None = None
    #: Where an mCODE HistoryOfMetastaticCancer (or a Condition coded as one) is read
    #: neither way because its code and its own words disagree (its value coded No with
    #: the text "Yes"): whether there is a history is unknown, so the disease is never
    #: taken as localized from a denial of metastatic history beside it.
    history_unread: str | None = None
    #: Where an mCODE HistoryOfMetastaticCancer states a history (no site or date), or
    #: where a distant metastasis was stated before a later disease status said otherwise.
    metastatic_history: str | None = None
    #: Where a stage group IV is recorded (an mCODE CancerStageGroup, or the primary
    #: Condition's stage): distant metastases or involved nodes, so never localized by a
    #: denial of metastatic history alone.
    stage_iv: str | None = None
    #: Every stage group IV, with its time (``None``: undated, as a Condition's own
    #: ``stage.summary`` is), weighed against the project's disease status
    #: (:func:`pecoma.fhir.read_conditions.derive_status`).
    stage_iv_all: list[tuple[Order | None, str]] = field(default_factory=list)
    #: The time of each project disease-status Observation read (by where it is).
    status_orders: dict[str, Order] = field(default_factory=dict)
    #: Where a TNM distant metastases category or a stage group is recorded that pecoma
    #: cannot read (a code it does not know): whether there are distant metastases is
    #: unknown, so never localized by a denial of metastatic history alone.
    staging_unread: str | None = None
    #: Every such staging result (an Observation, not a Condition's stage): placed against
    #: the day the patient would be free of disease since, as a statement that does not
    #: say the disease is gone (:mod:`pecoma.fhir.present_again`).
    staging_unread_all: list[str] = field(default_factory=list)
    #: Where a staging or disease-status result states distant spread (M1, stage IV,
    #: "distant metastasis present", or a staging value pecoma cannot read) while naming no
    #: Condition, beside another primary cancer of the record: not the PEComa's, nor
    #: none; the disease is never localized beside it, nor any status derived from it
    #: (:func:`pecoma.fhir.read_observations._not_attributed`).
    spread_unattributed: str | None = None
    #: The day of each result of :attr:`spread_unattributed` (``None``: undated), and
    #: where.
    spread_unattributed_days: list[tuple[dt.date | None, str]] = field(default_factory=list)
    #: Each TNM distant metastases category of M0 whose focus names the PEComa Condition
    #: (its day, ``None`` when undated, and where): the PEComa's own staging saying it
    #: has no distant metastasis. Dated on or after every result of
    #: :attr:`spread_unattributed`, it answers whose spread those state: not the
    #: PEComa's (an M category once M1 is not restaged M0).
    pecoma_m0: list[tuple[dt.date | None, str]] = field(default_factory=list)
    #: Where the record says the PEComa has recurred (the primary Condition's
    #: clinicalStatus ``recurrence`` or ``relapse``, or an active Condition naming its
    #: recurrence): the disease is not taken as localized.
    primary_recurred: str | None = None
    #: The metastasis Conditions of the PEComa, and where the record's other primary
    #: cancers are: read once the resection and the end of treatment are known
    #: (:func:`pecoma.fhir.read_conditions.read_metastases`).
    metastasis_conditions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    #: The live PEComa Conditions beside the one read as the primary (``primary``), by
    #: ``id``, with where: each the same tumour recorded again or not, as
    #: :func:`pecoma.fhir.read_conditions.the_pecoma` tells.
    further_pecoma: dict[int, str] = field(default_factory=dict)
    #: The further PEComa Conditions not in the past (clinicalStatus not resolved,
    #: inactive, remission), bar one read as the PEComa's recurrence, with where: one
    #: whose onset is after the day the patient would be free of disease says the PEComa
    #: is there again (:mod:`pecoma.fhir.present_again`).
    pecoma_beside: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    #: The Conditions not in the past naming PEComa in their words that were read neither
    #: as the PEComa nor as a metastasis ("Recurrence of PEComa in the nephrectomy
    #: bed": words pecoma does not read), with where: whether they say the disease is
    #: there is not known, so the patient is never taken as free of disease beside one
    #: that cannot be placed before that day (:mod:`pecoma.fhir.present_again`).
    pecoma_unread: list[tuple[str, Mapping[str, Any]]] = field(default_factory=list)
    #: Metastasis Conditions (by ``id``) whose latest histology names another tumour than
    #: PEComa: not the PEComa's spread, so nothing about them is the PEComa's. Each with
    #: where it is, and where and when the result that set it aside stands.
    other_spread: dict[int, tuple[str, str, Order]] = field(default_factory=dict)
    #: Metastasis Conditions (by ``id``) read as the PEComa's
    #: (:func:`pecoma.fhir.read_conditions.read_metastases`: linked to it, coded as its
    #: spread, or naming no primary where no other primary cancer is recorded): a course
    #: given for one is given for the PEComa.
    pecoma_spread: set[int] = field(default_factory=set)
    #: Conditions (by ``id``) whose latest histology names another tumour than PEComa (a
    #: renal cell carcinoma's own result), with why: none of them is the PEComa, so an
    #: operation or a metastasis naming one is not the PEComa's.
    other_histology: dict[int, str] = field(default_factory=dict)
    other_cancers: list[str] = field(default_factory=list)
    #: Where lymph-node involvement is recorded that cannot be placed before or after the
    #: resection (no onset date, only the day it was entered, or a resection with no
    #: date), with why: a relapse cannot be excluded, so the disease is never taken as
    #: localized from a denial of metastatic history.
    nodes_undated: str | None = None
    #: Facts whose day was taken from the day a Condition was recorded (no onset or
    #: asserted date): the latest it may be, not when it began.
    entered_dates: dict[str, dt.date] = field(default_factory=dict)
    #: Metastases whose onset is a partial date ("2025", "2025-04") (their timing
    #: decided where every day they may be gives the same:
    #: :func:`pecoma.fhir.read_conditions.settle_partial_onsets`).
    partial_onsets: list[PartialOnset] = field(default_factory=list)
    #: Resources (by identity) whose Bundle entry carries a modifierExtension: its URLs.
    entry_modifiers: dict[int, str] = field(default_factory=dict)
    #: The Patient's birth date (or why it is not known): it places an onset given as an
    #: age (:mod:`pecoma.fhir.ages`).
    birth: Birth = NO_PATIENT
    #: Patients (by identity) held in a Bundle whose ``meta`` says information was
    #: withheld from it (:func:`pecoma.fhir.searches.withheld_label`): why.
    withheld_bundles: dict[int, str] = field(default_factory=dict)
    #: Conditions set aside for a modifierExtension pecoma does not understand (its URLs)
    #: or a label saying information was withheld (the label): where, the resource, the
    #: URLs, the label (a PEComa among them is named if no other is found).
    modified_conditions: list[tuple[str, dict[str, Any], str, str]] = field(
        default_factory=list)
    #: Procedures set aside so (a modifierExtension, a label saying information was
    #: withheld): where, the resource, and why. A resection among them that may be the
    #: primary's leaves the surgery facts found but not read
    #: (:func:`pecoma.fhir.read_treatment.read_procedures`).
    modified_procedures: list[tuple[str, dict[str, Any], str]] = field(default_factory=list)
    #: The days of the resections of the primary recorded as done (those dated, and
    #: those given as the patient's age by the first day the age may be), in order: a
    #: tumour size measured after the first is not the primary's, bar its specimen's
    #: (:func:`pecoma.fhir.read_observations.read_at_presentation`).
    resection_days: list[dt.date] = field(default_factory=list)
    #: A resection given as the patient's age (no single day) among ``resection_days``:
    #: the first day it may be, and what gives it (its age and the days it may be).
    resection_ages: dict[dt.date, str] = field(default_factory=dict)
    kinds: dict[int, str | None] = field(default_factory=dict)
    agents: dict[int, Agent | None] = field(default_factory=dict)
    #: Each live observation's place in time (effective, issued, status), by ``id``.
    orders: dict[int, Order] = field(default_factory=dict)
    #: Every path :meth:`put` wrote, in order (what one handler gave: the paths after a mark).
    puts: list[str] = field(default_factory=list)
    #: Medication records that may be a line given but whose drug cannot be identified.
    unidentified: list[str] = field(default_factory=list)
    #: Medication records of a known agent whose first day, a partial date, spans the day
    #: read for: whether they had started is unknown.
    unknown_starts: list[str] = field(default_factory=list)
    #: Medication records given beside another present primary cancer, naming no reason
    #: that tells which cancer they were given for: each ``where: the question``.
    courses_in_doubt: list[str] = field(default_factory=list)
    #: Medication records of a drug given for diseases that are no cancer too, nothing
    #: saying it was given for a cancer (:func:`pecoma.fhir.medications.other_uses`):
    #: each ``where: the question``.
    purposes_unknown: list[str] = field(default_factory=list)
    #: Elements the reading refused in its own words (a medication's dosage timing it
    #: cannot read: :func:`pecoma.fhir.medications.unread_timing`), by path: the R4B
    #: validator's issues at them or within them are not said again.
    refused_elements: set[str] = field(default_factory=set)
    #: Medication records of a known agent planned, not (yet) given.
    planned: list[Planned] = field(default_factory=list)
    #: Medication records of a known agent given now (an order under way).
    running: list[Planned] = field(default_factory=list)
    #: Medication records whose statusReason says their drug was not tolerated.
    not_tolerated: list[NotTolerated] = field(default_factory=list)
    #: Medication records whose statusReason pecoma cannot tell is an intolerance or not.
    unclear_stops: list[NotTolerated] = field(default_factory=list)

    #: Facts the record holds but in a value pecoma cannot read (a size '9.5 x 6 cm',
    #: necrosis as valueInteger 1): each fact's path, with where and why (``why``). Found,
    #: not read: unknown, not absent, and not "not found" either.
    unreadable: dict[str, str] = field(default_factory=dict)

    def value_not_read(self, path: str, where: str) -> None:
        """Record that ``where`` gives ``path`` in a value that cannot be read (its why is
        ``self.why[where]``, already said in a note)."""
        self.unreadable.setdefault(path, f"{where}: {self.why.get(where, 'not read')}")

    def issue(self, where: str, value: object, rule: str) -> None:
        self.issues.append(FieldIssue(where, show_value(value), rule))

    def put(self, path: str, value: Any, where: str) -> None:
        node = self.data
        *parents, leaf = path.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[leaf] = value
        self.sources[path] = where
        self.puts.append(path)


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def codings(concept: Any) -> list[tuple[str, str]]:
    if not isinstance(concept, dict):
        return []
    out = []
    for coding in as_list(concept.get("coding")):
        if isinstance(coding, dict):
            out.append((str(coding.get("system") or ""), str(coding.get("code") or "")))
    return out


def has_code(concept: Any, system: str, code: str) -> bool:
    return (system, code) in codings(concept)


def project_code(concept: Any, prefix: str = "") -> str | None:
    for system, code in codings(concept):
        if system == c.PECOMA_SYSTEM and code.startswith(prefix):
            return code.removeprefix(prefix)
    return None


def extension(resource: Mapping[str, Any], url: str) -> dict[str, Any] | None:
    for e in as_list(resource.get("extension")):
        if isinstance(e, dict) and e.get("url") == url:
            return e
    return None


def extension_code(resource: Mapping[str, Any], url: str) -> str | None:
    e = extension(resource, url)
    if e is None:
        return None
    for key in ("valueCode", "valueString"):
        if isinstance(e.get(key), str):
            return str(e[key])
    code = project_code(e.get("valueCodeableConcept"))
    return code


#: The forms of a ``<element>[x]`` date (a Condition's onset, a Procedure's performed)
#: that hold no day: a date without its day, a period without one, text, an age, a
#: range of ages.
_WITHOUT_DAY: Final = {"DateTime": "a date without its day",
                       "Period": "a period without a usable day", "String": "text",
                       "Age": "an age", "Range": "a range of ages"}


def given_without_day(resource: Mapping[str, Any], element: str) -> str | None:
    """How ``<element>[x]`` is given, in words, when no day was read from it (``None``
    when it is not given): its day is then unknown, never taken from another date."""
    return next((form for suffix, form in _WITHOUT_DAY.items()
                 if element + suffix in resource), None)


def refuse_backwards(period: Any, where: str, at: str, reads: str, r: Reader) -> bool:
    """Refuse a Period of the resource at ``where`` (``at``: its element,
    ``effectivePeriod``) whose end is surely before its start, FHIR R4's invariant per-1,
    by the one check every period the reader reads goes through
    (:func:`pecoma.fhir.medications.backwards_period`), named at its end with the start
    and what is read from it (``reads``); said once however often the period is read.
    Whether it was refused."""
    found = meds.backwards_period(period, at, reads)
    for path, value, rule in found:
        named = f"{where}.{path}"
        if named not in r.refused_elements:
            r.issue(named, value, rule)
            r.refused_elements.add(named)
    return bool(found)


def reference_of(reference: Any) -> str | None:
    """The reference a Reference holds, without its version (``…/_history/3``)."""
    if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
        return meds.unversioned(str(reference["reference"]))
    return None


def conditions_named(resource: Mapping[str, Any],
                     conditions: Iterable[tuple[str, Mapping[str, Any] | None]],
                     resolve: meds.Resolver) -> list[str]:
    """Which of ``conditions`` (where, the Condition: the record's other primary cancers,
    the PEComa) a medication record or order gives as its reason, in their order: a
    ``reasonReference`` resolving to the Condition, or a ``reasonCode`` sharing a coding
    with the Condition's code (the order's diagnosis, C50.911). One reading for the
    orders of a CDS call and the medication records of the FHIR reader."""
    held = [(where, found) for where, found in conditions if found is not None]
    targets = [resolve(ref) for ref in (reference_of(x) for x in
                                        as_list(resource.get("reasonReference"))) if ref]
    coded = {pair for reason in as_list(resource.get("reasonCode"))
             for pair in codings(reason) if pair[1]}
    return [where for where, found in held
            if any(t is found for t in targets)
            or coded & set(codings(found.get("code")))]


def enum_extension(
    res: Mapping[str, Any], url: str, allowed: Iterable[str], where: str, r: Reader
) -> str | None:
    code = extension_code(res, url)
    if code is None:
        return None
    value = code.replace("-", "_")
    names = [a for a in allowed]
    if value not in names:
        r.issue(f"{where}.extension({url.rsplit('/', 1)[-1]})", code,
                f"must be one of {', '.join(n.replace('_', '-') for n in names)}")
        return None
    return value


def resolved(ref: str | None, r: Reader) -> Mapping[str, Any] | None:
    return None if ref is None else r.resolve(ref)


#: The FHIR R4 core extension giving a body site as a reference to a BodyStructure.
BODY_SITE_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/bodySite"


def condition_sites(cond: Mapping[str, Any], r: Reader) -> list[Any]:
    """A Condition's ``bodySite`` list; with none, the ``location`` and
    ``locationQualifier`` (its side, its part) of the BodyStructure its R4 ``bodySite``
    extension names, when the record holds it; else an empty list."""
    sites = as_list(cond.get("bodySite"))
    if sites:
        return sites
    found = resolved(reference_of((extension(cond, BODY_SITE_EXTENSION) or {}).get(
        "valueReference")), r)
    if found is None or found.get("resourceType") != "BodyStructure" \
            or not isinstance(found.get("location"), dict):
        return []
    return [found["location"], *as_list(found.get("locationQualifier"))]


def condition_sides(cond: Mapping[str, Any], r: Reader) -> frozenset[str] | None:
    """The sides a Condition (or a Procedure) states (:func:`stated_sides`): by its
    bodySite (or the BodyStructure it names) and by its code, which must agree; ``None``
    when they contradict each other (a code C64.1, the right kidney, beside a bodySite
    laterality left): its side is in doubt. A Procedure's words are an operation's
    (:func:`_words_sides`)."""
    operation = cond.get("resourceType") == "Procedure"
    sites = condition_sites(cond, r)
    both = _one_organ_each_side(sites) if operation else None
    return agreeing([both if both is not None else stated_sides(sites, operation),
                     stated_sides([cond.get("code")], operation)])


def _one_organ_each_side(sites: list[Any]) -> frozenset[str] | None:
    """Both sides, when an operation's body sites name one organ, each on one side, the
    two sides between them (a kidney left beside a kidney right: a bilateral nephrectomy
    recorded one bodySite per side); ``None`` otherwise (a right kidney beside a left
    adrenal gland names two organs: sides that disagree, in doubt)."""
    if len(sites) < 2:
        return None
    organs = {tuple(sites_named([x], PrimarySite)) for x in sites}
    sides = [stated_sides([x], True) for x in sites]
    if len(organs) != 1 or organs == {()} or any(x is None or len(x) != 1 for x in sides):
        return None
    return _BOTH if frozenset().union(*(x for x in sides if x is not None)) == _BOTH else None


def condition_side(cond: Mapping[str, Any], r: Reader) -> str | None:
    """The one side a Condition (or a Procedure) states (:func:`condition_sides`);
    ``None`` when it states none, or both, or sides that contradict each other."""
    sides = condition_sides(cond, r)
    return next(iter(sides)) if sides is not None and len(sides) == 1 else None


#: Words that state a side, and the sides each states: the lingula is the left lung's.
_SIDE_WORDS: Final = re.compile(
    r"\b(left|right|bilateral|lingula|lingular|lingulectomy)\b")
_WORD_SIDES: Final[dict[str, frozenset[str]]] = {
    "left": frozenset({"left"}), "right": frozenset({"right"}),
    "bilateral": frozenset({"left", "right"}), "lingula": frozenset({"left"}),
    "lingular": frozenset({"left"}), "lingulectomy": frozenset({"left"})}
#: Words stating both sides as one statement ("Right and left", a laterality's display;
#: "PEComa of both kidneys").
_BOTH_WORDS: Final = re.compile(r"\b(?:right and left|left and right)\b")
_BOTH_ORGANS: Final = re.compile(
    r"\bboth (?:sides|kidneys|lungs|ovaries|adnexa|tubes|fallopian tubes|adrenal glands)\b")
_BOTH: Final = frozenset({"left", "right"})


def agreeing(statements: Iterable[frozenset[str] | None]) -> frozenset[str] | None:
    """The sides several statements of one thing agree on: empty when none states a
    side; ``None`` when one contradicts itself or two state different sides (a right
    nephrectomy whose words name the left kidney too, "left kidney spared"; a bodySite
    right kidney beside one left adrenal gland): sides are never pooled, so a one-sided
    operation is never read as a bilateral one."""
    found: set[frozenset[str]] = set()
    for sides in statements:
        if sides is None:
            return None
        if sides:
            found.add(sides)
    return next(iter(found)) if len(found) == 1 else None if found else frozenset()


#: Words saying a side named beside them may be another part's than the one operated on
#: or affected: the organ kept ("left kidney spared", "right kidney normal") or the
#: patient's position ("left lateral decubitus", the position of a right nephrectomy).
_SIDE_OF_SOMETHING_ELSE: Final = re.compile(
    r"\b(?:spared|preserved|normal|intact|remaining|contralateral|uninvolved|unaffected|"
    r"decubitus|position(?:ed)?)\b")


def _words_sides(words: str, operation: bool = False) -> frozenset[str] | None:
    """The sides words state: one side, or both when they say so as one statement
    ("bilateral", "right and left"); ``None`` when they name sides that disagree. The
    words of an ``operation`` naming a side beside a word saying it may be another
    part's (:data:`_SIDE_OF_SOMETHING_ELSE`: "Radical nephrectomy (left kidney spared)")
    state no side at all (empty): the operation's side is then what its codes and body
    sites state, and none when they state none. (A lesion's words keep their side:
    "right kidney lesion; contralateral kidney normal" is the right kidney's.)"""
    said = {_WORD_SIDES[w] for w in _SIDE_WORDS.findall(words)}
    if operation and said and _SIDE_OF_SOMETHING_ELSE.search(words):
        return frozenset()
    if _BOTH_ORGANS.search(words):
        said.add(_BOTH)
    if said == {frozenset({"left"}), frozenset({"right"})} and _BOTH_WORDS.search(words):
        return _BOTH
    return agreeing(said)


def stated_sides(concepts: Iterable[Any], operation: bool = False
                 ) -> frozenset[str] | None:
    """The sides ('left', 'right') body sites or codes state: a laterality or location
    qualifier (the mCODE extensions, or a BodyStructure's ``locationQualifier``: SNOMED
    CT 7771000, 24028007, 51440002 "Right and left"), a one-sided SNOMED CT body
    structure ("Right kidney structure") or operation (3654008 "Lingulectomy of lung"), an
    ICD-10-CM code whose last character states the side
    (:data:`pecoma.fhir.codes.ICD10CM_SIDE`: C64.1, the right kidney; read under the WHO
    ICD-10 system too, which has no such codes), or the words
    ("bilateral" both, the lingula and a lingulectomy the left lung's); empty when they
    state none. Each code and each text is one statement, and they must agree
    (:func:`agreeing`): ``None`` when they state different sides (in doubt)."""
    statements: list[frozenset[str] | None] = []
    for concept in concepts:
        if not isinstance(concept, dict):
            continue
        qualifiers = [e.get("valueCodeableConcept") for e in as_list(concept.get("extension"))
                      if isinstance(e, dict)
                      and e.get("url") in (m.LATERALITY_QUALIFIER, m.LOCATION_QUALIFIER)]
        for x in (concept, *qualifiers):
            for system, code in codings(x):
                if system == c.SNOMED:
                    statements.append(frozenset(c.SNOMED_SIDE.get(code, ())))
                elif system in (m.ICD10CM, m.ICD10):
                    statements.append(frozenset(c.ICD10CM_SIDE.get(_dotted(code), ())))
            if isinstance(x, dict):
                statements.append(_words_sides(m.lower_words(x), operation))
    return agreeing(statements)


def _dotted(code: str) -> str:
    """An ICD-10-CM code with its dot ("C641" as "C64.1")."""
    code = code.strip().upper()
    return code if "." in code or len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def stated_side(concepts: Iterable[Any]) -> str | None:
    """The one side body sites state (:func:`stated_sides`); ``None`` when they state
    none, or both (bilateral), or sides that disagree."""
    sides = stated_sides(concepts)
    return next(iter(sides)) if sides is not None and len(sides) == 1 else None


#: Site values by SNOMED CT code: the organs' own codes and their sides and lobes.
_SITE_BY_SNOMED: Final[dict[str, str]] = {**c.BODY_SITE_SNOMED_PARTS,
                          **{code: site for site, (code, _) in c.BODY_SITE_SNOMED.items()}}


def _named_site(concept: Any, allowed: set[str], words: Any) -> str | None:
    """The site one bodySite concept names (project code, SNOMED CT, ICD-O-3 topography,
    then the organ named in its text or display), or ``None``."""
    code = project_code(concept, "site-")
    if code is not None:
        value = code.replace("-", "_")
        if value in allowed:
            return value
    for system, known in codings(concept):
        coded = (_SITE_BY_SNOMED.get(known) if system == c.SNOMED
                 else c.icdo3_topography(known) if system in c.ICDO3_SYSTEMS else None)
        if coded in allowed:
            return coded
    named = m.first_match(m.lower_words(concept), words)
    return None if named is None else str(named.value)


#: Words of a body site that name no body part of their own: a side, an aspect, a generic
#: noun, or a region or part of an organ named beside it (the pelvis of a uterine
#: tumour, a segment of the liver, the corpus of the uterus).
NOT_A_PART: Final = frozenset({
    "left", "right", "bilateral", "structure", "of", "the", "and", "region", "aspect",
    "lateral", "medial", "anterior", "posterior", "proximal", "distal", "upper", "lower",
    "body", "entire", "part", "side", "site", "tissue", "soft"})
_REGION_WORDS: Final = frozenset({
    "pelvis", "pelvic", "abdomen", "abdominal", "thorax", "thoracic", "chest", "trunk",
    "segment", "lobe", "corpus", "fundus", "wall", "cavity", "pole", "hilum", "hilar",
    "cortex", "cortical", "medulla", "capsule", "surface", "margin", "mass", "tumour",
    "tumor", "lesion", "primary", "organ"})


def body_part_words(concept: Any) -> str:
    """The words of a bodySite concept naming a body part of its own ("thigh"), beyond a
    side, an aspect or a region ("" when none): such a concept beside the organ may be
    the tumour's site."""
    words = re.findall(r"[a-z]+", m.lower_words(concept))
    return " ".join(w for w in words
                    if w not in NOT_A_PART and w not in _REGION_WORDS and len(w) > 2
                    and not w.isdigit())


def sites_named(concept_list: Any, kind: type[PrimarySite] | type[MetastasisSite]
                ) -> list[str]:
    """The distinct sites the concepts of a bodySite list name, in order (a concept that
    names none, such as a side given as a bodySite of its own, adds none)."""
    if not isinstance(concept_list, list):
        return []
    allowed = {x.value for x in kind}
    words = m.PRIMARY_SITE_WORDS if kind is PrimarySite else m.METASTASIS_SITE_WORDS
    named = (_named_site(concept, allowed, words) for concept in concept_list)
    return list(dict.fromkeys(site for site in named if site is not None))


def cervix_of(concept_list: Any) -> str | None:
    """Whether the codes of a primary's bodySite list say it arose in the uterine cervix:
    'yes' (cervix uteri), 'no' (a part of the uterine body), or ``None`` when no code says
    or codes disagree (the cervix beside the corpus: where it arose cannot be told)."""
    said = {answer for concept in as_list(concept_list)
            for system, code in codings(concept)
            if (answer := c.cervix_said(system, code)) is not None}
    return said.pop() if len(said) == 1 else None


def site_of(concept_list: Any, kind: type[PrimarySite] | type[MetastasisSite]) -> str | None:
    """A site value from a bodySite list: the first site a concept names (project code,
    SNOMED CT, ICD-O-3 topography, then the organ named in the text or display; a
    laterality or location qualifier does not change the organ); 'other' if none does;
    ``None`` when there is no bodySite."""
    if not isinstance(concept_list, list) or not concept_list:
        return None
    named = sites_named(concept_list, kind)
    return named[0] if named else "other"


def effective_time(resource: Mapping[str, Any]) -> str:
    """When an observation's result holds, as written: ``effectiveDateTime`` (or
    ``effectiveInstant``), else ``effectivePeriod.start``; ``""`` when undated
    (:func:`time_order` places it in time)."""
    for key in ("effectiveDateTime", "effectiveInstant"):
        if isinstance(resource.get(key), str):
            return str(resource[key])
    period = resource.get("effectivePeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return str(period["start"])
    return ""


def instant(raw: str) -> str:
    """A FHIR dateTime with a time zone as the same moment in UTC (ISO 8601, sortable);
    a date, a partial date, or text that does not parse, as written."""
    if "T" not in raw:
        return raw
    try:
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return raw
    if moment.tzinfo is None:
        return raw
    try:
        return moment.astimezone(dt.UTC).isoformat()
    except OverflowError:
        # the first or last hours of the calendar (0001-01-01T00:00:00+05:00) have no
        # UTC instant Python can hold: kept as written (a day outside the dates pecoma
        # accepts is refused, named, where it becomes a fact of the case)
        return raw


class Order(NamedTuple):
    """Where a result stands in time (sorted as a tuple: by its time, then when it was
    issued, then its status's rank)."""

    #: Its effective time (else when it was issued): a time with a zone as the moment in
    #: UTC (:func:`instant`, so that one moment written in two zones is one time), a date
    #: alone (a day, a month, a year) as written; ``""`` when undated.
    time: str
    #: When it was issued, in UTC; ``""`` when not said.
    issued: str = ""
    #: Its status's rank (a correction after the final result, a preliminary before it).
    rank: int = 1
    #: The day a time of day is written on, in its own zone (``2025-02-03`` for
    #: ``2025-02-03T01:00:00+09:00``, whose moment in UTC is on 2 February); ``""`` for a
    #: date alone or no time.
    day: str = ""


def time_order(raw: str, issued: str = "", rank: int = 1) -> Order:
    """The :class:`Order` of a result whose time is written ``raw`` (a FHIR date or
    dateTime, ``""`` when it has none), issued at ``issued`` (in UTC), of status rank
    ``rank``."""
    return Order(instant(raw), issued, rank, raw[:10] if "T" in raw else "")


def known_later(earlier: Order, later: Order) -> bool:
    """Whether ``later`` is known to be a later result than ``earlier``: a later effective
    time, or the same one and issued later, or issued at the same time (or neither saying
    when) and a correction of it. When only one says when it was issued, or nothing tells
    them apart, they are of one time and neither wins. A date alone is that whole period,
    a day as much as a month or a year (FHIR dateTime precision: ``2025-02-03`` is the
    whole day, not its midnight): a result dated within it (``2025-02-03T10:00:00+09:00``,
    ``2025-02-10``) is of one time with it, whatever either says of when it was issued or
    of its status (which of two results of one day, one timed and one not, was made later
    cannot be told, and a report issued later may be of the earlier time). A date alone
    says no time zone, so a time of day is within it when the day it is written on, in its
    own zone, is in the period, or its moment in UTC is (``2025-02-03T05:00:00+09:00``, on
    the 2nd in UTC, and ``2025-02-02T20:00:00-05:00``, on the 3rd in UTC, are both of one
    time with ``2025-02-03``); either way a time sorts before or after a date alone as
    this rule orders them. A result with no time at all (no ``effective[x]``, no
    ``issued``) cannot be placed before or after a dated one."""
    if bool(earlier.time) != bool(later.time):
        return False
    if earlier.time != later.time:
        return not _one_time(earlier, later) and later.time > earlier.time
    if bool(earlier.issued) != bool(later.issued):
        return False
    return (later.issued, later.rank) > (earlier.issued, earlier.rank)


#: Why neither of two results is the later one (:func:`known_later`), as notes say it.
OF_ONE_TIME: Final = (
    "the same effective time, or a date alone (a day, a month or a year) holding the "
    "other's time, and neither issued later nor a correction of the other; or one with no "
    "time at all, neither effective[x] nor issued")


#: A FHIR date alone: a year, a month or a day.
_DATE_ALONE: Final = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


def _one_time(one: Order, other: Order) -> bool:
    """Whether two different dated times are of one time: one is a date alone (a year, a
    month, a day) holding the other (a date within it, or a time of day written on a day
    within it, in its own zone or in UTC)."""
    short, long = sorted((one, other), key=lambda o: len(o.time))
    if not _DATE_ALONE.fullmatch(short.time):
        return False
    return any(written.startswith(short.time) for written in (long.time, long.day)
               if written)


#: The ``meta`` elements that say which version a server stored and when, not what the
#: resource says: two copies that differ only in them are one resource.
_VERSION_META: Final = frozenset({"versionId", "lastUpdated", "source"})


def _content(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = resource.get("meta")
    if not isinstance(meta, dict) or not _VERSION_META & meta.keys():
        return resource
    out = {k: v for k, v in resource.items() if k != "meta"}
    kept = {k: v for k, v in meta.items() if k not in _VERSION_META}
    if kept:
        out["meta"] = kept
    return out


def same_resource(one: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    """Whether two copies of a resource (one type and id, sent twice: two searches of a
    record may both hold it) say the same, so that either can be read for it: equal but
    for ``meta.versionId``, ``meta.lastUpdated`` and ``meta.source`` (one version sent
    by two searches may carry its time written two ways, "2026-01-01T00:00:00Z" and
    "2026-01-01T00:00:00.000+00:00", or only in one of them). Copies that differ in
    anything else (a status, a code, a profile), under one ``versionId`` or two, are not:
    which one a reference means cannot be told."""
    return one == other or _content(one) == _content(other)


def words_only(concept: Any) -> str | None:
    """The words of a status given with no code (its text, or a coding's display beside
    no code: "Refuted"), shown; ``None`` when it holds a code, or no words."""
    if not isinstance(concept, dict) or any(code for _sys, code in codings(concept)):
        return None
    words = m.concept_text(concept).strip()
    return show_value(words.replace("\n", "; "), 60) if words else None


def bound_status(field: str, concept: Any, system: str, removing: frozenset[str],
                 kept: str = "the entry is counted") -> tuple[list[str], list[str], str | None]:
    """A status as FHIR R4 binds it (required) to ``system``: the codes of its codings in
    that system, the codes of all its codings (for a contradiction), and the note for a
    code of ``removing`` (one that would set the resource aside, or make it history)
    written in another code system or in none, or ``None``. Such a code is not FHIR's (a
    local "refuted" may mean "pending review"; another resource's system copied by
    mistake; no system says no meaning): it never sets a resource aside, and the resource,
    read as ``kept`` says (the safer reading), is named; but not when a coding in
    ``system`` holds a code of ``removing`` itself (FHIR's own status sets the resource
    aside or makes it history, as a local copy of it says: an EHR sending FHIR's coding
    and its own), where no note is given. A status in words only (:func:`words_only`:
    "Refuted" as its text, or a coding's display with no code) is not read at all, and
    named the same way. The one reading of the statuses of AllergyIntolerance
    (:mod:`pecoma.fhir.allergies`) and Condition (:func:`verification`,
    :func:`clinical_status`)."""
    pairs = [(sys, code) for sys, code in codings(concept) if code]
    ours = [code for sys, code in pairs if sys == system]
    foreign = None if removing & set(ours) else next(
        ((sys, code) for sys, code in pairs if sys != system and code in removing), None)
    note = None
    if (words := words_only(concept)) is not None:
        note = (f"its {field} holds no code, only the words {words}: pecoma reads a "
                f"status by its code in {system} (the code system FHIR R4 binds it to), "
                f"never by words: not read; {kept} (the safer reading); check it in the "
                "record")
    if foreign is not None:
        where = (f"in the code system {show_value(foreign[0], 80)}" if foreign[0]
                 else "with no code system")
        note = (f"its {field} holds '{foreign[1]}' {where}, not in {system} (the code "
                f"system FHIR R4 binds it to): not read as '{foreign[1]}'; {kept} (the "
                "safer reading); check it in the record")
    return ours, [code for _sys, code in pairs], note


#: A Condition's statuses by the reading that keeps the disease in view, first: the codings
#: of one status are one meaning (FHIR CodeableConcept), so codings that disagree (confirmed
#: beside refuted, resolved beside active) are read the safer way whatever their order,
#: never by the first one, and said so (:func:`status_notes`).
VERIFICATION_ORDER: Final = ("confirmed", "unconfirmed", "provisional", "differential",
                             "refuted", "entered-in-error")
CLINICAL_ORDER: Final = ("recurrence", "relapse", "active", "remission", "inactive",
                         "resolved")
#: The clinicalStatus codes that make a Condition history, not present disease.
HISTORY_CLINICAL: Final = frozenset({"inactive", "resolved", "remission"})
#: A Condition's status fields: the code system FHIR R4 binds each to, the order of its
#: codes (the safer first), and the codes that set a Condition aside or make it history,
#: read only in that system (:func:`bound_status`).
_CONDITION_STATUSES: Final = {
    "verificationStatus": (c.CONDITION_VERIFICATION, VERIFICATION_ORDER,
                           IGNORED_VERIFICATION),
    "clinicalStatus": (c.CONDITION_CLINICAL, CLINICAL_ORDER, HISTORY_CLINICAL),
}
_KEPT: Final = "the Condition is kept as current, the disease kept in view"


def _status_of(cond: Mapping[str, Any], element: str, bare: bool = False) -> str | None:
    """A Condition's status read the safer way among its codings (:data:`VERIFICATION_ORDER`,
    :data:`CLINICAL_ORDER`): a code that would set it aside or make it history counts
    only in the code system FHIR R4 binds the field to; ``bare``: one with no code system
    counts too (a system left out is often FHIR's: :func:`refuted_in_doubt`)."""
    system, order, removing = _CONDITION_STATUSES[element]
    codes = [code for sys, code in codings(cond.get(element)) if code and (
        code not in removing or sys == system or (bare and not sys))]
    known = [code for code in order if code in codes]
    return known[0] if known else (codes[0] if codes else None)


def live_condition(cond: Mapping[str, Any]) -> bool:
    return verification(cond) not in IGNORED_VERIFICATION


def verification(cond: Mapping[str, Any]) -> str | None:
    """The verificationStatus read (:func:`_status_of`): ``refuted`` and
    ``entered-in-error`` only in condition-ver-status."""
    return _status_of(cond, "verificationStatus")


def clinical_status(cond: Mapping[str, Any]) -> str | None:
    """The clinicalStatus read (:func:`_status_of`): ``inactive``, ``resolved`` and
    ``remission`` only in condition-clinical."""
    return _status_of(cond, "clinicalStatus")


def refuted_in_doubt(cond: Mapping[str, Any]) -> tuple[str, str] | None:
    """A ``refuted`` or ``entered-in-error`` that may be FHIR's in the verificationStatus
    of a Condition still read as current (:func:`live_condition`): what it holds (short)
    and why whether the Condition stands cannot be told; ``None`` when it holds none, when
    FHIR's own status sets the Condition aside, or when FHIR's own status stands beside
    such a code with no system (FHIR's is read). The code is held with no code system,
    alone (a system left out is often FHIR's), or, in FHIR's own system or in none, beside
    a code that would keep the Condition: the codings of one status are one meaning, and
    FHIR's own 'refuted' is never outweighed by a code of another system, nor by its own
    'confirmed'. This matters for the PEComa diagnosis itself: read as current, a refuted
    diagnosis would bring PEComa advice to a patient who may not have it
    (:func:`pecoma.fhir.read_conditions.read_conditions` asks instead). A status in words
    only (:func:`words_only`: "Refuted" as its text, or a coding's display with no code) is
    as much in doubt: pecoma never reads a status by its words, so it cannot be read as
    confirmed."""
    system = c.CONDITION_VERIFICATION
    if (words := words_only(cond.get("verificationStatus"))) is not None:
        return (f"{words} in words only, with no code",
                f"a status in words only is not read (pecoma reads it by its code, never "
                f"by its words: {words} is not read, so the status is unknown)")
    pairs = [(sys, code) for sys, code in codings(cond.get("verificationStatus")) if code]
    removing = [(sys, code) for sys, code in pairs
                if code in IGNORED_VERIFICATION and sys in (system, "")]
    if not removing or not live_condition(cond):
        return None
    beside = [(sys, code) for sys, code in pairs if code not in IGNORED_VERIFICATION]
    fhirs = next(((sys, code) for sys, code in removing if sys == system), None)
    if fhirs is None and any(sys == system for sys, _code in beside):
        return None
    sys, code = fhirs or removing[0]
    if not beside:
        return (f"'{code}' with no code system",
                f"with no system pecoma cannot tell whether it is '{code}'")
    said = " and ".join(f"'{other}' {_in_system(where)}" for where, other in beside)
    return (f"'{code}' beside " + ", ".join(f"'{other}'" for _w, other in beside),
            f"its codings say '{code}' {_in_system(sys)} and {said}: the codings of one "
            f"status are one meaning, and a '{code}' that may be FHIR's is never "
            "outweighed by another code, so whether it stands cannot be told")


def _in_system(system: str) -> str:
    return f"in {show_value(system, 80)}" if system else "with no code system"


def status_notes(cond: Mapping[str, Any], kept: bool = True) -> list[str]:
    """What a Condition's statuses say two ways, with the reading taken, and each code that
    would set it aside or make it history written in another code system than FHIR's, or
    in none: not read so, the Condition kept as current (:func:`bound_status`; neither is
    said of its verificationStatus when not ``kept``: the caller says what it does
    instead)."""
    out = []
    for element, read in (("verificationStatus", verification(cond)),
                          ("clinicalStatus", clinical_status(cond))):
        system, _order, removing = _CONDITION_STATUSES[element]
        codes = sorted({code for sys, code in codings(cond.get(element))
                        if code and (code not in removing or sys == system)})
        if len(codes) > 1 and (kept or element != "verificationStatus"):
            out.append(f"its {element} says {' and '.join(codes)}: read as '{read}' (the "
                       "reading that keeps the disease in view); check it in the record")
        note = bound_status(element, cond.get(element), system, removing, _KEPT)[2]
        if note is not None and (kept or element != "verificationStatus"):
            out.append(note)
    return out


def modifier_urls(res: Mapping[str, Any], nested: bool = True) -> str:
    """The URLs of the modifierExtensions a resource carries, on itself and (``nested``)
    on any element within it (a component, a dosage), shortened ("" when it has none)."""
    if not nested:
        res = {"modifierExtension": res.get("modifierExtension")}
    urls: list[str] = []
    stack: list[Any] = [res]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found = node.get("modifierExtension")
            if isinstance(found, list) and found:
                urls += [str(x.get("url")) if isinstance(x, dict) else "?" for x in found]
            stack.extend(v for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, dict | list))
    return show_value(", ".join(urls), 120).strip("'\"") if urls else ""
