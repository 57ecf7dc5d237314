"""``order-select``: a drug other than an mTOR inhibitor drafted as the first line for
advanced PEComa (conventional chemotherapy, pazopanib, another anticancer agent).

A draft MedicationRequest is recognised by ``medicationCodeableConcept`` or by
``medicationReference`` (contained, among the draft orders or the prefetch, or a
``Medication/id`` read from the allowed FHIR server), by RxNorm code or by name
(:mod:`pecoma.fhir.medications`).
When a draft order starts such a drug while the patient's advanced PEComa has had no
systemic line and mTOR inhibitors are neither unavailable nor contraindicated, the card
warns (S02, S12-S14) and, only when the allergy list allows it
(:mod:`.allergies`), proposes an mTOR-inhibitor order in its place; otherwise it says
why nothing is proposed. The drafts of such drugs are one first line together (a
regimen an order set writes one order per agent: epirubicin and ifosfamide, S15), the
order set's drafts not selected included when a selected one starts the line (agents
picked one at a time) and nothing says they are ordered for something else
(:func:`~pecoma.fhir.read_treatment.order_given_for`; one whose reason pecoma cannot
read, or whose reasons name the PEComa and something else, is named as possibly of the
line, and stays): one card names them all, and its one suggestion deletes each and
creates one mTOR-inhibitor proposal. Beside another present primary cancer of the
record, a line holding a draft whose reasons name neither cancer gets the card asking
which cancer it is for, nothing proposed in its place (it may be the other cancer's
regimen). A draft whose drug cannot be identified, or that carries a modifierExtension
(not read), is never taken for "not chemotherapy" silently: for such a patient
the card says it could not be checked, and a replacement card names every such draft of
the order set (it may be of the line, and would stay), its suggestion then not pre-selected.
A selected draft whose every reason names something else gets no first-line card of the
PEComa's: a disease that is no cancer (methotrexate for rheumatoid arthritis, a
leiomyoma), none at all; another cancer, the card of a line ordered for that cancer,
never replaced. One whose reasons pecoma cannot place, or that name the PEComa and
something else (rheumatoid arthritis, another cancer of the record), gets the card asking
what it is for, its reasons shown, nothing proposed in its place, as one giving no reason
beside another present primary cancer does.

Every selected draft of a drug pecoma identifies is checked against the allergy list, one
not read for a modifierExtension by the drug it names (the extension may change what the
order means, not which drug it names): a critical card when an entry read rules it out,
whatever else could not be read (the rest of the list, whether the patient has a
PEComa); a warning when a draft naming no drug pecoma identifies may be, by its name cut
short, a drug the list rules out. When the
check cannot be settled (the list not read, or entries pecoma cannot identify: unknown
is never taken for "nothing recorded") a warning says so for the drafts of the drugs
pecoma's own advice concerns (:func:`~pecoma.web.cds.allergies.guideline_drug`: the mTOR
inhibitors, doxorubicin, epirubicin, ifosfamide and their regimens), given as systemic
products (:func:`~pecoma.fhir.medications.not_systemic`), read so by name or, cut short,
possibly so ("may be"); and for a draft whose drug pecoma cannot identify at all. Beside a
list not read, any other order (methotrexate, a fluorouracil cream) is left to the EHR's
own check; beside entries pecoma cannot identify, which may be to any drug, every draft
of a drug it identifies, given as a systemic product, gets the warning (one rule).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, Final, NamedTuple

from starlette.requests import Request

from pecoma.case import (
    Agent,
    Case,
    TherapyLine,
    TherapySetting,
)
from pecoma.engine import assess
from pecoma.engine.model import Assessment, Fact
from pecoma.errors import FieldIssue, InputError, show_value
from pecoma.fhir import codes as c
from pecoma.fhir.allergies import CATCH_ALL
from pecoma.fhir.client import ServerNotAllowed
from pecoma.fhir.medications import (
    OTHER_USES,
    RXNORM,
    RXNORM_INGREDIENT,
    Resolver,
    agent_named,
    agent_of,
    agents_beside,
    drugs_of,
    not_systemic,
    other_uses,
    repeated_local_ids,
    resolver_for,
    truncated_names,
    unheld_medications,
    unread_abbreviations,
    unreadable_medication,
)
from pecoma.fhir.read_treatment import names_the_pecoma, order_given_for, ordered_for_no_cancer
from pecoma.fhir.reading import conditions_named, modifier_urls, same_resource
from pecoma.fhir.subjects import the_patient
from pecoma.fhir.writer import concept
from pecoma.knowledge import load_knowledge
from pecoma.render.text import markdown_report
from pecoma.web.cds.allergies import (
    DrugSafety,
    Unjudged,
    class_meanwhile_words,
    drug_name,
    guideline_drug,
    intolerance_item,
    md_unsettled,
    ruled_out_card,
    unjudged_of,
    unjudged_stops_card,
)
from pecoma.web.cds.cards import (
    Answer,
    md_item,
    md_missing,
    md_not_found,
    md_notes,
    md_text,
    md_unknown,
)
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.patient_view import read_record
from pecoma.web.cds.record import entries_of, resources_of
from pecoma.web.cds.requests import HookRequest, check_request
from pecoma.web.cds.service import CdsService
from pecoma.web.problems import ApiProblem

__all__ = ["OVERRIDE_REASONS", "SUGGESTED", "order_select"]

OVERRIDE_REASONS: Final[tuple[tuple[str, str], ...]] = (
    ("mtor-unavailable", "No mTOR inhibitor is available for this patient"),
    ("mtor-contraindicated", "mTOR inhibitor contraindicated (not yet recorded)"),
    ("clinical-trial", "Treatment within a clinical trial protocol"),
    ("team-decision", "Sarcoma team decision, documented in the record"),
)

#: The mTOR inhibitor a replacement order drafts. The guideline names the class, not an
#: agent (S02, S12, S13); sirolimus is pecoma's example draft, said so on the card, its
#: suggestion and the draft itself: the sarcoma team chooses the agent and dose.
SUGGESTED: Final = Agent.sirolimus

#: How the card and its suggestion name the draft: an mTOR inhibitor, sirolimus only as
#: pecoma's example (no interpretation or setting chooses it).
EXAMPLE_DRAFT: Final = "an mTOR inhibitor (here sirolimus, as an example draft; the team chooses)"

#: Why the draft names sirolimus, said on the card beside the guideline's advice.
EXAMPLE_WHY: Final = ("The guideline names mTOR inhibitors, not an agent (S02, S12, S13): "
                      "the sirolimus of the suggested draft is pecoma's example, not the "
                      "guideline's choice; the sarcoma team chooses the mTOR inhibitor and "
                      "its dose.")

def _full_urls(bundle: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The resources of the draftOrders Bundle by their ``fullUrl`` (a ``urn:uuid``
    reference's target); two different resources under one fullUrl are a 400 (a
    reference to it could mean either)."""
    entries = bundle.get("entry")
    out: dict[str, Mapping[str, Any]] = {}
    first: dict[str, int] = {}
    for i, e in enumerate(entries if isinstance(entries, list) else []):
        if not (isinstance(e, dict) and isinstance(e.get("fullUrl"), str)
                and isinstance(e.get("resource"), dict)):
            continue
        url, res = e["fullUrl"], e["resource"]
        held = out.setdefault(url, res)
        first.setdefault(url, i)
        if held is not res and not same_resource(held, res):
            raise _bad_draft(f"context.draftOrders.entry[{i}].fullUrl", url,
                             "must not repeat a fullUrl with other content (entry"
                             f"[{first[url]}] is another resource under it: a reference to "
                             "it could mean either)")
    return out


#: Draft statuses that order nothing to be given (R4 medicationrequest-status).
_WITHDRAWN: Final = frozenset({"cancelled", "entered-in-error"})


#: The codes of a MedicationRequest's ``intent`` (R4 medicationrequest-intent).
_INTENTS: Final = ("proposal", "plan", "order", "original-order", "reflex-order",
                   "filler-order", "instance-order", "option")


def _gives(draft: Mapping[str, Any]) -> bool:
    """Whether a draft orders its drug to be given: not an order that it must not be
    (``doNotPerform``), nor one withdrawn (cancelled, entered in error)."""
    return draft.get("doNotPerform") is not True and draft.get("status") not in _WITHDRAWN


def _not_understood(draft: Mapping[str, Any], resolve: Resolver) -> str | None:
    """Why a draft is not read, or ``None``: it carries a modifierExtension (on itself or
    on an element within it, a dosage, a contained Medication), or the Medication its
    ``medicationReference`` names does, which pecoma understands none of (FHIR: an
    application must not ignore a modifier extension it does not understand; it may
    change what the order means, as for the record's resources). Such a draft is named
    as a draft whose drug pecoma cannot identify is: never deleted, never read as
    chemotherapy or as no line, the suggestion beside it not pre-selected."""
    said = modifier_urls(draft)
    if said:
        return (f"it carries a modifierExtension pecoma does not understand ({said}), "
                "which may change what the order means")
    ref = draft.get("medicationReference")
    where = ref.get("reference") if isinstance(ref, dict) else None
    med = resolve(where) if isinstance(where, str) and not where.startswith("#") else None
    said = modifier_urls(med) if med is not None and med.get(
        "resourceType") == "Medication" else ""
    return (f"the Medication it names ({where}) carries a modifierExtension pecoma does "
            f"not understand ({said}), which may change what the order means"
            if said else None)


def _drug_of(draft: Mapping[str, Any], resolve: Resolver) -> Agent | None:
    """The agent a draft orders (:func:`~pecoma.fhir.medications.agent_of`), or ``None``
    when pecoma cannot identify it or does not read the draft (:func:`_not_understood`)."""
    return None if _not_understood(draft, resolve) else agent_of(draft, resolve)


def _why_unread(draft: Mapping[str, Any], resolve: Resolver) -> str | None:
    """Why pecoma reads no drug in a draft (:func:`_not_understood`, then
    :func:`~pecoma.fhir.medications.unreadable_medication`), or ``None``."""
    return _not_understood(draft, resolve) or unreadable_medication(draft, resolve)


def _bad_draft(path: str, value: Any, rule: str) -> ApiProblem:
    return ApiProblem(400, "invalid-hook-request", "context.draftOrders holds a draft order "
                      "pecoma cannot read.", [FieldIssue(path, show_value(value), rule)])


def _check_drafts(orders: Mapping[str, Any]) -> None:
    """Refuse (400, naming the field) a draft Bundle whose entries cannot be read as the
    orders they are: ``entry`` not a list, an entry holding no FHIR resource, or a draft
    MedicationRequest whose ``doNotPerform`` or ``status`` has the wrong JSON type (the
    string ``"true"`` is not FHIR's ``true``: read as absent, a "do not give" order had
    drawn a card about giving the drug) or whose ``intent`` is no R4 intent code, or a
    draft MedicationRequest or Medication holding two different ``contained`` resources
    under one id (a reference ``#id`` could mean either), a Bundle held in an entry (the
    drafts are the Bundle's own resources), or two different resources of
    the Bundle under one ``Type/id`` (a selection, and a suggestion's ``delete``, name a
    draft by it: either could be meant, and a ``delete`` of one had been offered twice),
    or a resource whose ``id`` is no string (a FHIR id is one: ``5`` escaped that check).
    Such orders were dropped, or misread, without a word."""
    entries = orders.get("entry")
    if entries is None:
        return
    if not isinstance(entries, list):
        raise _bad_draft("context.draftOrders.entry", entries, "must be a list of Bundle "
                         "entries, each holding one draft order in 'resource'")
    by_id: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise _bad_draft(f"context.draftOrders.entry[{i}]", entry, "must be a Bundle "
                             "entry holding a FHIR resource (an object with "
                             "'resourceType') in 'resource'")
        if res["resourceType"] == "Bundle":
            # draftOrders holds the drafts themselves: those of a Bundle held in an entry
            # would escape these checks (and had been passed over without a word)
            raise _bad_draft(f"context.draftOrders.entry[{i}].resource", "Bundle",
                             "must be a draft order itself (a MedicationRequest and the "
                             "Medications it names), not a Bundle of them")
        if "id" in res and not isinstance(res["id"], str):
            raise _bad_draft(f"context.draftOrders.entry[{i}].resource.id", res["id"],
                             "must be a FHIR id (a string such as 'd1'): a selection, or a "
                             "suggestion removing the draft, names it by its id")
        if isinstance(res.get("id"), str):
            named = f"{res['resourceType']}/{res['id']}"
            first_at, held = by_id.setdefault(named, (i, res))
            if held is not res and not same_resource(held, res):
                raise _bad_draft(f"context.draftOrders.entry[{i}].resource.id", res["id"],
                                 f"must not repeat a Type/id with other content (entry"
                                 f"[{first_at}] is another resource under {named}: a "
                                 "selection, or a suggestion removing it, could mean "
                                 "either)")
        if res["resourceType"] not in ("MedicationRequest", "Medication"):
            continue
        where = f"context.draftOrders.entry[{i}].resource"
        for at, local, first_at in repeated_local_ids(res):
            # '#id' could mean either: never the first by chance (a paracetamol before a
            # sirolimus under one id had hidden a sirolimus intolerance)
            raise _bad_draft(f"{where}.contained[{at}].id", local, "must not repeat a "
                             f"contained resource's id with other content (contained"
                             f"[{first_at}] is another resource under it: a reference "
                             f"'#{local}' could mean either)")
        if res["resourceType"] != "MedicationRequest":
            continue
        if "doNotPerform" in res and not isinstance(res["doNotPerform"], bool):
            raise _bad_draft(f"{where}.doNotPerform", res["doNotPerform"], "must be a FHIR "
                             "boolean: true or false, not a string or other value")
        if "status" in res and not isinstance(res["status"], str):
            raise _bad_draft(f"{where}.status", res["status"], "must be a FHIR code (a "
                             "string such as 'draft')")
        if "intent" in res and res["intent"] not in _INTENTS:
            raise _bad_draft(f"{where}.intent", res["intent"], "must be a FHIR code of R4 "
                             "medicationrequest-intent: " + ", ".join(_INTENTS))


def _draft_orders(req: HookRequest) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The selected draft MedicationRequests that order their drug to be given, and every
    resource of the draft Bundle."""
    orders = req.context.get("draftOrders")
    if not isinstance(orders, dict) or orders.get("resourceType") != "Bundle":
        raise ApiProblem(400, "invalid-hook-request", "context.draftOrders must be a FHIR "
                         "Bundle.", [FieldIssue("context.draftOrders", "(not a Bundle)",
                                                "must be a FHIR Bundle of draft orders")])
    selections = req.context.get("selections")
    if selections is not None and not (isinstance(selections, list)
                                       and all(isinstance(s, str) for s in selections)):
        raise ApiProblem(400, "invalid-hook-request", "context.selections must be a list of "
                         "references.", [FieldIssue("context.selections", "(invalid)",
                                                    "must be a list of 'Type/id' strings")])
    if selections == []:
        # order-select fires when the clinician selects one or more orders; an empty
        # list selects none, and reading it as "every draft" would card orders nobody
        # selected
        raise ApiProblem(400, "invalid-hook-request", "context.selections names no order.",
                         [FieldIssue("context.selections", "[]", "must name at least one "
                                     "selected order ('Type/id' of an order in "
                                     "context.draftOrders): the order-select hook is "
                                     "called when one or more orders are selected")])
    _check_drafts(orders)
    _check_subjects(req, orders)
    orders = _entry_modifiers_carried(orders)
    # one resource sent twice under its Type/id (different ones are refused above) is one
    # draft: named, and deleted, once
    seen: dict[str, dict[str, Any]] = {}
    everything = [res for res in resources_of(orders) if not isinstance(res.get("id"), str)
                  or seen.setdefault(f"{res.get('resourceType')}/{res['id']}", res) is res]
    chosen = None if selections is None else _selected(selections, everything)
    out = [res for res in everything if res.get("resourceType") == "MedicationRequest"
           and (chosen is None or f"MedicationRequest/{res.get('id')}" in chosen)
           and _gives(res)]
    return out, everything


def _entry_modifiers_carried(orders: Mapping[str, Any]) -> dict[str, Any]:
    """The draft Bundle with each entry's modifierExtension carried onto a copy of the
    entry's resource: a Bundle entry's modifierExtension modifies what the entry holds
    (FHIR: never to be ignored when not understood), so its draft is named as one pecoma
    does not read (:func:`_not_understood`), as when the draft itself carries one (a
    doxorubicin draft whose entry bore one had been deleted by a pre-selected
    suggestion)."""
    entries = orders.get("entry")
    if not isinstance(entries, list) or not any(
            isinstance(e, dict) and e.get("modifierExtension") for e in entries):
        return dict(orders)
    carried = []
    for entry in entries:
        mods = entry.get("modifierExtension") if isinstance(entry, dict) else None
        if mods:
            res = entry["resource"]
            own = res.get("modifierExtension")
            said = (own if isinstance(own, list) else [own] if own else []) + (
                mods if isinstance(mods, list) else [mods])
            entry = {**entry, "resource": {**res, "modifierExtension": said}}
        carried.append(entry)
    return {**orders, "entry": carried}


def _selected(selections: list[str], drafts: list[dict[str, Any]]) -> set[str]:
    """The ``Type/id`` of the orders selected (a version ``/_history/n`` names the order);
    a 400 naming each selection that names no order of ``draftOrders``: a selected order
    pecoma does not hold would otherwise go unchecked, with no card to say so."""
    held = {f"{r.get('resourceType')}/{r.get('id')}" for r in drafts}
    chosen: set[str] = set()
    issues = []
    for i, ref in enumerate(selections):
        named = ref.split("/_history/", 1)[0]
        if named in held:
            chosen.add(named)
        else:
            issues.append(FieldIssue(f"context.selections[{i}]", show_value(ref),
                                     "must name an order of context.draftOrders "
                                     "('Type/id' of one of its entries)"))
    if issues:
        raise ApiProblem(400, "invalid-hook-request", "context.selections names an order "
                         "that context.draftOrders does not hold.", issues)
    return chosen


#: What a draft order's subject may be, said in a 400.
_SUBJECTS: Final = ("Patient/<context.patientId>, <fhirServer>/Patient/<context.patientId>, "
                    "the fullUrl of that Patient's entry (urn:uuid), or an identifier (system "
                    "and value) the Patient prefetch carries")


def _check_subjects(req: HookRequest, orders: Mapping[str, Any]) -> None:
    """Every draft order, selected or not, is for the patient of the call, or the call is
    a 400 naming each one that is not (or that pecoma cannot confirm is). CDS Hooks 2.0.1
    order-select: ``draftOrders`` holds the unsigned orders of the clinician's ordering
    session for the patient in context, and services take the unselected ones into
    account (an mTOR inhibitor already drafted): a draft for someone else means the call
    is not one patient's, so none of it is used. Whose a subject is is decided as the
    FHIR reader decides it (:mod:`pecoma.fhir.subjects`): ``urn:uuid`` subjects resolve
    through the fullUrls of ``draftOrders`` and the prefetch."""
    held = [pair for value in req.prefetch.values() for pair in entries_of(value)]
    drafts = orders.get("entry")
    entries = drafts if isinstance(drafts, list) else []
    who = the_patient([*held, *entries_of(orders)], req.patient_id, req.fhir_server)
    issues: list[FieldIssue] = []
    other = False
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict):
            continue
        for key in ("subject", "patient"):
            if key not in res:
                continue
            value, path = res[key], f"context.draftOrders.entry[{i}].resource.{key}"
            if not isinstance(value, dict) or not isinstance(value.get("reference", ""), str) \
                    or not isinstance(value.get("identifier", {}), dict):
                issues.append(FieldIssue(path, _json_type(value), "must be a FHIR Reference: an "
                                         "object whose 'reference' is a string (or with an "
                                         "'identifier' object)"))
                continue
            found = who.whose(value)
            if found.whose == "other":
                other = True
                issues.append(FieldIssue(path, md_text(found.shown)[:100], "must refer to the "
                                         f"patient of the call (context.patientId): "
                                         f"{found.why}"))
            elif found.whose == "unknown":
                issues.append(FieldIssue(path, md_text(found.shown)[:100], "must refer to the "
                                         "patient of the call (context.patientId) in a way "
                                         f"pecoma can confirm ({found.why}): {_SUBJECTS}"))
    if issues:
        raise ApiProblem(400, "invalid-hook-request",
                         "A draft order is for another patient than context.patientId."
                         if other else "A draft order's patient cannot be confirmed to be "
                         "context.patientId.", issues)


def _json_type(value: Any) -> str:
    """A subject that is no Reference, shown by its JSON type (it may name a patient)."""
    if isinstance(value, dict):
        return "object with a non-string reference or a non-object identifier"
    return "null" if value is None else {"str": "string", "list": "array", "bool": "boolean",
                                         "int": "number", "float": "number"}.get(
        type(value).__name__, type(value).__name__)


async def _fetch_medications(req: HookRequest, orders: list[dict[str, Any]],
                             resolve: Resolver, svc: CdsService,
                             deadline: float) -> list[dict[str, Any]]:
    """Medications the drafts reference but nobody sent, read from the allowed FHIR
    server (nothing when there is no server, it is not allowed, or it fails)."""
    wanted = unheld_medications(orders, resolve)
    if not wanted or not req.fhir_server:
        return []
    try:
        client = svc.fhir_client(req.fhir_server, req.access_token, max_pages=1,
                                 deadline=deadline)
    except ServerNotAllowed:
        return []
    async with client:
        return await client.read_medications(wanted)


def _first_line_case(case: Case, agent: Agent, on: dt.date) -> Case | None:
    """The case as if the draft were given, starting ``on`` (the day of the call: the
    order is being signed now, after whatever the record holds, never before the
    resection); None when it would not be the first line."""
    if any(t.setting is TherapySetting.advanced for t in case.systemic.therapies):
        return None
    draft = TherapyLine(agent=agent, line=1, started_on=on)
    systemic = case.systemic.model_copy(update={"therapies": (*case.systemic.therapies, draft)})
    return case.model_copy(update={"systemic": systemic})


def _stays(drug: str, unnamed: int, drafts: int) -> str:
    """What the card says when ``unnamed`` of the ``drafts`` it replaces carry no id: a
    ``delete`` cannot name them, so they stay beside the proposal."""
    one = unnamed == 1
    which = ("This draft order carries" if drafts == 1 else
             f"{unnamed} of these {drafts} draft orders carr{'ies' if one else 'y'}")
    return (f"{which} no id, so pecoma cannot name {'it' if one else 'them'} for removal "
            "(CDS Hooks: a `delete` action names its resource by a relative reference, "
            "`MedicationRequest/<id>`): accepting the suggestion adds an mTOR-inhibitor "
            f"proposal beside {'it' if one else 'them'}. **Remove the {drug} "
            f"draft{'' if one else 's'} {'' if unnamed == drafts else 'without an id '}"
            "by hand.**")


def _unknown_stay(unknown: list[tuple[Mapping[str, Any], str]]) -> str:
    """What the card says of the order set's drafts whose drug pecoma cannot identify
    (:func:`_not_identified`) beside its suggestion: they may be of the line (or an mTOR
    inhibitor, a name cut short), the suggestion leaves them, so it is not pre-selected."""
    one = len(unknown) == 1
    named = "; ".join(f"{_ident(draft)}: {md_text(why)}" for draft, why in unknown)
    return (f"**The suggestion is not pre-selected:** pecoma could not identify the drug of, "
            f"or does not read, {'a draft' if one else f'{len(unknown)} drafts'} of the "
            f"order set ({named}). "
            f"{'It' if one else 'They'} may be chemotherapy of this line, or an mTOR "
            f"inhibitor already, and accepting the suggestion leaves {'it' if one else 'them'} "
            "beside the mTOR-inhibitor proposal. "
            + ("**Check it, and remove it by hand if it is either.**" if one else
               "**Check them, and remove by hand any that is either.**"))


def _unplaced_stay(unplaced: list[tuple[Mapping[str, Any], Agent, str]],
                   suggested: bool) -> str:
    """What the card says of the order set's drafts not selected whose reasons pecoma
    cannot read, or name the PEComa and something else
    (:func:`~pecoma.fhir.read_treatment.order_given_for`), or that give none beside
    another primary cancer of the record when a selected draft of the line names the
    PEComa: they may be of the
    line, or ordered for something else; the suggestion leaves them, so it is not
    pre-selected."""
    one = len(unplaced) == 1
    named = "; ".join(f"{_ident(draft)}, {_drug_words(agent)}: {md_text(why)}"
                      for draft, agent, why in unplaced)
    return (f"**Possibly of this line:** {'a draft' if one else f'{len(unplaced)} drafts'} "
            f"of the order set, not selected, give{'s' if one else ''} no reason saying "
            f"{'it is' if one else 'they are'} for the PEComa alone (a reason pecoma "
            "cannot read, reasons naming the PEComa and something else, none beside "
            "another primary cancer, or none for a drug given for diseases that are no "
            f"cancer too: {named}): "
            f"{'it' if one else 'each'} may be of this line, or "
            "ordered for something else. "
            + (("**The suggestion leaves it and is not pre-selected:** check it, and "
                "remove it by hand if it is of this line." if one else
                "**The suggestion leaves them and is not pre-selected:** check them, and "
                "remove by hand any that is of this line.")
               if suggested else f"Nothing removes {'it' if one else 'them'}."))


def _drug_words(agent: Agent) -> str:
    """How a card names a draft's drug: 'chemotherapy' for conventional chemotherapy (as
    the guideline does, S13), else the drug ('pazopanib', 'another anticancer agent')."""
    if agent.is_conventional_chemotherapy:
        return "chemotherapy"
    return "another anticancer agent" if agent is Agent.other else agent.value.replace("_", " ")


def _replacement(drafts: list[tuple[Mapping[str, Any], Agent]], patient_id: str, drug: str,
                 provisional: bool, unknown: int, unplaced: int) -> dict[str, Any]:
    """The one suggestion for the ``drafts`` of a first line (:func:`_drug_words`:
    ``drug``), replaced together: delete every one of them and create one mTOR-inhibitor
    proposal (CDS Hooks: a suggestion's actions are applied together; one suggestion
    per draft had left two sirolimus proposals, or sirolimus beside the ifosfamide of an
    epirubicin and ifosfamide regimen drafted one agent a draft). A draft with no id
    cannot be named for a delete, so it stays, and the label says so (the card too,
    :func:`_stays`). When the advice it rests on is ``provisional`` (it waits on a missing
    fact), the label begins "(provisional) " and ``isRecommended`` is false: CDS Hooks
    makes ``isRecommended`` the suggestion the EHR pre-selects, and pecoma never marks as
    recommended what it itself says is not settled. Nor when ``unknown`` drafts of the
    order set name a drug pecoma cannot identify: they may be of the line, and stay (the
    label and the card say to check them, :func:`_unknown_stay`); nor when ``unplaced``
    drafts of the order set, not selected, give reasons pecoma cannot read: they may be of
    the line, and stay (:func:`_unplaced_stay`)."""
    proposal = {
        "resourceType": "MedicationRequest",
        "status": "draft",
        "intent": "proposal",
        # the project code, and the RxNorm ingredient the EHR can map to an orderable
        "medicationCodeableConcept": concept(
            c.agent_code(SUGGESTED), "sirolimus (mTOR inhibitor)",
            (RXNORM, RXNORM_INGREDIENT[SUGGESTED], SUGGESTED.value)),
        "subject": {"reference": f"Patient/{patient_id}"},
        "note": [{"text": f"Proposed by pecoma in place of first-line {drug}: the guideline "
                          "makes an mTOR inhibitor the first line (S12, S13) and names no "
                          "agent; sirolimus is pecoma's example, not the guideline's choice. "
                          "Choose the mTOR inhibitor and dose with the sarcoma team."}],
    }
    actions: list[dict[str, Any]] = [
        {"type": "delete", "resourceId": f"MedicationRequest/{order['id']}",
         "description": f"Remove the draft {_drug_words(agent)} order "
                        f"(MedicationRequest/{order['id']})"}
        for order, agent in drafts if _nameable(order)]
    actions.append({"type": "create", "resource": proposal,
                    "description": "Draft an mTOR-inhibitor order for review (sirolimus as "
                                   "pecoma's example; the team chooses the agent)"})
    unnamed = len(drafts) - (len(actions) - 1)
    mark = PROVISIONAL if provisional else ""
    if unnamed == len(drafts):
        label = (f"{mark}Add {EXAMPLE_DRAFT}; remove the {drug} "
                 f"draft{'' if unnamed == 1 else 's'} by hand")
    elif unnamed:
        label = (f"{mark}Replace with {EXAMPLE_DRAFT}; remove the {drug} "
                 f"draft{'' if unnamed == 1 else 's'} without an id by hand")
    else:
        label = f"{mark}Replace with {EXAMPLE_DRAFT}"
    if unknown:
        label += (f"; check the draft{'' if unknown == 1 else 's'} whose drug pecoma could "
                  "not identify")
    if unplaced:
        label += (f"; check the draft{'' if unplaced == 1 else 's'} whose reason pecoma "
                  "could not read")
    return {"label": label, "uuid": str(uuid.uuid4()),
            "isRecommended": not provisional and not unknown and not unplaced,
            "actions": actions}


#: How a suggestion resting on provisional advice begins (the words of the FHIR
#: RequestGroup's provisional actions).
PROVISIONAL: Final = "(provisional) "


def _nameable(order: Mapping[str, Any]) -> bool:
    """Whether a draft carries an id a ``delete`` action can name it by
    (``MedicationRequest/<id>``, a relative reference: a ``fullUrl`` such as a
    ``urn:uuid`` is none)."""
    return isinstance(order.get("id"), str) and bool(order["id"])


def _alerting(case: Case, agent: Agent, svc: CdsService) -> Assessment | None:
    trial = _first_line_case(case, agent, svc.today())
    if trial is None:
        return None
    a = assess(trial, svc.today(), svc.engine_settings())
    return a if any(x.id == "ALERT-CHEMO-BEFORE-MTOR" for x in a.alerts) else None


def _line_of(agents: list[Agent]) -> Agent:
    """The first line drafts of ``agents`` make together, as the case records a line:
    their one agent; the regimen their drugs make (epirubicin and ifosfamide drafted one
    agent a draft, as an order set writes the uterine regimen of S15: epirubicin with
    ifosfamide); else the first draft's agent (the card names every draft)."""
    distinct = list(dict.fromkeys(agents))
    if len(distinct) == 1:
        return distinct[0]
    drugs = frozenset(d for a in distinct for d in a.drugs)
    return next((r for r in Agent if len(r.drugs) > 1 and r.drugs == drugs), distinct[0])


def _mtor_drafted(drafted: list[dict[str, Any]], resolve: Resolver) -> str | None:
    """The first draft of the order set (selected or not) that orders an mTOR inhibitor
    given as a systemic treatment, as ``MedicationRequest/id``, or ``None``: a topical
    product of one (:func:`~pecoma.fhir.medications.not_systemic`) is none. One carrying
    a modifierExtension pecoma does not read (:func:`_not_understood`) counts, as does one
    naming an mTOR inhibitor beside a word with a letter other than a to z
    (:func:`~pecoma.fhir.medications.agent_named`): it may be an mTOR-inhibitor order
    already, and a second beside it would be a duplicate."""
    for res in drafted:
        if res.get("resourceType") != "MedicationRequest" or not _gives(res):
            continue
        agent = agent_named(res, resolve)
        if (agent is not None and agent.is_mtor_inhibitor
                and not_systemic(res, resolve) is None):
            return md_text(f"MedicationRequest/{res.get('id')}")
    return None


def _for_another_cancer(order: Mapping[str, Any], others: tuple[str, ...],
                        resolve: Resolver) -> str | None:
    """The record's other primary cancer (``others``: ``BundleCase.other_cancers``) a
    draft names as its reason, or ``None``: a ``reasonReference`` to its Condition, or a
    ``reasonCode`` sharing a coding with that Condition's code (the order's diagnosis,
    C50.911; :func:`pecoma.fhir.reading.conditions_named`, as the FHIR reader reads a
    medication record's reason). Such a drug is ordered for that cancer: no line of the
    PEComa to replace."""
    named = conditions_named(order, ((where, resolve(where)) for where in others), resolve)
    return named[0] if named else None


class Line(NamedTuple):
    """The drafts of one first line: ``drafts``, the order set's drafts (each with its
    agent) that make it together, one selected at least; ``chosen``, the ``id()`` of
    the selected drafts; ``unknown``, the order set's drafts whose drug pecoma cannot
    identify (:func:`_not_identified`, each with why), which may be of the line;
    ``unplaced``, the order set's drafts not selected, each with its agent, whose reasons
    pecoma cannot read (:func:`~pecoma.fhir.read_treatment.order_given_for`, the reasons
    shown): they may be of the line, or ordered for something else, and stay;
    ``asked``, the drafts of the line, each with its agent and the reasons shown, that
    give no reason beside another present primary cancer of the record (``beside``,
    ``BundleCase.other_cancers``), or, selected, give reasons pecoma cannot place or that
    name the PEComa and something else: what they are for is asked, and nothing replaces
    them."""

    drafts: list[tuple[Mapping[str, Any], Agent]]
    chosen: set[int]
    unknown: list[tuple[Mapping[str, Any], str]]
    unplaced: list[tuple[Mapping[str, Any], Agent, str]]
    asked: list[tuple[Mapping[str, Any], Agent, str]]
    beside: tuple[str, ...]


def _not_identified(drafts: list[dict[str, Any]],
                    resolve: Resolver) -> list[tuple[Mapping[str, Any], str]]:
    """The drafts among ``drafts`` whose drug pecoma cannot identify, each with why: one
    it cannot read (:func:`~pecoma.fhir.medications.unreadable_medication`: a local code
    only, a reference that does not resolve, a name it cannot identify that something
    marks as possibly anticancer, "XY-4471"), or whose name may be a drug's cut short
    (:func:`~pecoma.fhir.medications.truncated_names`: "IFOSFA 2 G"). Either may be a
    drug of the line a replacement deletes: it would stay beside the proposal."""
    out: list[tuple[Mapping[str, Any], str]] = []
    for draft in drafts:
        if _drug_of(draft, resolve) is not None:
            continue
        why = _why_unread(draft, resolve)
        if why is None:
            why = "; ".join(f"its name holds \"{word}\", the beginning of the name of "
                            f"{drug_name(agent, drugs)}: it may be {drug_name(agent, drugs)}"
                            for word, agent, drugs in truncated_names(draft, resolve)) or None
        if why is not None:
            out.append((draft, why))
    return out


def _which_cancer(line: Line) -> str:
    """What the card asks of the drafts of ``line`` whose reasons do not say what they
    are ordered for (``line.asked``): beside another present primary cancer of the record
    (``line.beside``), which cancer, as the FHIR reader asks it of a course (doxorubicin
    with cyclophosphamide may be the other cancer's regimen; one whose reason is "Breast
    cancer" too); else whether a selected draft whose reasons pecoma cannot place, or
    that name the PEComa and something else (methotrexate for the PEComa and rheumatoid
    arthritis), or that gives none and orders a drug given for diseases that are no
    cancer too (:func:`~pecoma.fhir.medications.other_uses`: hydroxyurea, sickle cell
    disease), is for the PEComa. Each reason given, and each such drug's other uses, is
    shown; the card holds only if they are for the PEComa."""
    one = len(line.asked) == 1
    names = " and ".join(dict.fromkeys(agent.value.replace("_", " ")
                                       for _d, agent, _why in line.asked))
    uses = [md_text(why) for _d, _agent, why in line.asked if OTHER_USES in why]
    bare = [_ident(draft) for draft, _agent, why in line.asked
            if not why or OTHER_USES in why]
    given = [f"{_ident(draft)} ({md_text(why)})" for draft, _agent, why in line.asked
             if why and OTHER_USES not in why]
    unsaid = " and ".join(
        ([f"no reason of {', '.join(bare)} says"] if bare else [])
        + ([f"the reasons of {', '.join(given)} do not say"] if given else []))
    why_asked = "; ".join(
        (["a reason pecoma cannot place, or the PEComa and something else"] if given else [])
        + uses)
    cancers = " or ".join(md_text(x) for x in line.beside)
    question = (f"**Which cancer {'is it' if one else 'are they'} for?** The record holds "
                f"another primary cancer ({cancers}) besides the PEComa, and {unsaid} which "
                f"cancer {'it is' if one else 'they are'} ordered for: which cancer is "
                f"{names} ordered for, the PEComa or {cancers}?"
                + "".join(f" ({u})" for u in uses) if line.beside else
                f"**What {'is it' if one else 'are they'} for?** {unsaid[0].upper()}"
                f"{unsaid[1:]} whether {'it is' if one else 'they are'} ordered for the "
                f"PEComa ({why_asked}): is {names} ordered for the PEComa alone?")
    return (f"{question} This warning holds only if {'it is' if one else 'they are'} for "
            f"the PEComa, and nothing is proposed in {'its' if one else 'their'} place. "
            f"Give {'its reason' if one else 'their reasons'} (reasonCode or "
            "reasonReference: the PEComa Condition"
            + (", or the other cancer's)." if line.beside else ")."))


def _asked_why(line: Line) -> str:
    """Why nothing is proposed in place of drafts whose cancer is asked
    (:func:`_which_cancer`)."""
    one = len(line.asked) == 1
    drafts = "a draft" if one else f"{len(line.asked)} drafts"
    if not line.beside:
        return (f"what {drafts} of this line {'is' if one else 'are'} ordered for is not "
                "known (asked above): an order for something else is never replaced")
    return (f"which cancer {drafts} of this line "
            f"{'is' if one else 'are'} ordered for is not known (the PEComa, or "
            + " or ".join(md_text(x) for x in line.beside)
            + ", asked above): another cancer's order is never replaced")


def _warn(answer: Answer, a: Assessment, line: Line, req: HookRequest, safety: DrugSafety,
          tail: str, mtor_drafted: str | None, other_cancer: str | None) -> None:
    """The first-line warning for ``line.drafts``, the drafts of the order set that make
    one first line together, one selected at least (each agent of a regimen drafted
    apart, ordered for the PEComa or, said so, for ``other_cancer``; those not selected
    named so), ``a`` the case assessed as if that line were given: one card naming them
    all, and at most one suggestion replacing them all with one mTOR-inhibitor proposal
    (:func:`_replacement`), offered on the same conditions as for one draft. Drafts of
    the order set whose drug pecoma cannot identify (``line.unknown``) are named beside
    the suggestion, which is then not pre-selected: they may be of the line, and stay."""
    drafts = line.drafts
    alert = next(x for x in a.alerts if x.id == "ALERT-CHEMO-BEFORE-MTOR")
    # the advice as the engine gives it for this case (provisional on what it waits on),
    # with its provenance like every item on a card; never a record it did not give (an
    # mTOR inhibitor the team's to consider, I25, is no first line to replace a draft
    # with): without it the card has the alert alone and proposes nothing
    rec = next((r for r in a.recommendations if r.id == "REC-MTOR-FIRST-LINE"), None)
    shown = (alert,) if rec is None else (alert, rec)
    drug = " and ".join(dict.fromkeys(_drug_words(agent) for _d, agent in drafts))
    many = len(drafts) > 1
    planned = safety.planned_orders(SUGGESTED)
    reasons = [f"the draft{'s are' if many else ' is'} ordered for another cancer ("
               f"{md_text(other_cancer)}, {'their' if many else 'its'} reason): "
               f"{'they are' if many else 'it is'} not replaced; the order of the two "
               "cancers' treatments is for the teams treating them to decide"
               if other_cancer is not None else None,
               safety.withheld(SUGGESTED),
               _asked_why(line) if line.asked else None,
               f"the order set already holds an mTOR-inhibitor order ({mtor_drafted})"
               if mtor_drafted is not None else None,
               "the record already holds an mTOR inhibitor planned, not yet given ("
               + md_text("; ".join(str(p) for p in planned)) + ")" if planned else None]
    if rec is None:
        reasons.append("the engine gives no mTOR inhibitor as the first line here")
    withheld = "; and ".join(r for r in reasons if r is not None) or None
    # what the advice the suggestion rests on waits on (the alert and the recommendation)
    waits_on = list(dict.fromkeys(c for x in shown for c in x.conditional_on))
    unselected = [_ident(order) for order, _agent in drafts if id(order) not in line.chosen]
    detail = "\n\n".join(md_item(x) for x in shown) + (
        "\n\nDraft orders, taken together as one first line: " + ", ".join(
            f"{agent.value.replace('_', ' ')} ({_ident(order)}"
            f"{'' if id(order) in line.chosen else ', not selected'})"
            for order, agent in drafts)
        + "." if many else f"\n\nDraft order: {drafts[0][1].value.replace('_', ' ')}.")
    if unselected:
        one = len(unselected) == 1
        detail += (f"\n\n{', '.join(unselected)} {'is' if one else 'are'} not among the "
                   f"orders selected: {'it is a draft' if one else 'they are drafts'} of the "
                   "same order set, and of this line (a regimen drafted one agent at a "
                   "time): the line is taken"
                   + (" whole." if withheld is not None else ", and replaced, whole."))
    if line.unplaced:
        detail += "\n\n" + _unplaced_stay(line.unplaced, withheld is None)
    if line.asked:
        detail += "\n\n" + _which_cancer(line)
    if safety.history is not None:
        detail += ("\n\n**Conditional:** this holds only if the patient has had no systemic "
                   "line for advanced disease (see below why that is not known). Check the "
                   "lines already given first.")
    if withheld is not None:
        detail += f"\n\n**No mTOR-inhibitor order is proposed:** {withheld}."
    else:
        detail += f"\n\n**The suggested draft:** {EXAMPLE_WHY}"
        if waits_on:
            detail += ("\n\n**The suggestion is provisional and not pre-selected:** the "
                       "advice it rests on waits on " + ", ".join(waits_on)
                       + " (see the missing facts); supply "
                       + ("it" if len(waits_on) == 1 else "them") + " before accepting it.")
        unnamed = sum(not _nameable(order) for order, _agent in drafts)
        if unnamed:
            detail += "\n\n" + _stays(drug, unnamed, len(drafts))
        if line.unknown:
            detail += "\n\n" + _unknown_stay(line.unknown)
    detail += md_missing(a.missing, tuple(waits_on)) + tail
    answer.card(
        summary=(f"{drug.capitalize()}, perhaps first line, for advanced PEComa: the guideline "
                 "puts an mTOR inhibitor first" if safety.history is not None or line.asked
                 else
                 f"{drug.capitalize()} first line for advanced PEComa: the guideline puts an "
                 "mTOR inhibitor first"),
        indicator="warning", detail=detail, version=a.knowledge_version,
        record_ids=tuple(x.id for x in shown), topic=alert, items=shown,
        links=answer.links(markdown_report(a, _as_if_given(drafts))),
        suggestions=None if withheld is not None else [_replacement(
            drafts, req.patient_id, drug, provisional=bool(waits_on),
            unknown=len(line.unknown), unplaced=len(line.unplaced))],
        override_reasons=[{"system": c.PECOMA_SYSTEM, "code": code, "display": text}
                          for code, text in OVERRIDE_REASONS],
    )


def _as_if_given(drafts: list[tuple[Mapping[str, Any], Agent]]) -> str:
    """What the report a first-line warning links to says first: the first line it names
    is the draft orders of the order set, assessed as if given, not a line the record holds
    (the report is read, printed, for the tumour board, apart from the card)."""
    many = len(drafts) > 1
    named = ", ".join(f"{agent.value.replace('_', ' ')} ({_ident(order)})"
                      for order, agent in drafts)
    return (f"**Draft order{'s' if many else ''} assessed as if given.** The first line "
            f"this report names is the draft order{'s' if many else ''} of the order set "
            f"({named}), assessed as if given to show what the guideline says of "
            f"{'them' if many else 'it'}: not a line the record holds.")


#: A draft, the agent it is read as (or one named beside it), and the drugs it names when
#: that agent stands for many (other chemotherapy, another agent): what its allergy check
#: compares.
Checked = tuple[Mapping[str, Any], Agent, frozenset[str]]


def _checked(order: Mapping[str, Any], agent: Agent, resolve: Resolver) -> list[Checked]:
    """Every drug a draft names, to check against the allergy list: the agent it is read
    as and those named beside it (everolimus with ifosfamide in one Medication); an
    agent standing for many drugs is checked by the drugs the draft names (paclitaxel),
    as an allergy to one of them rules out that drug, not the agent."""
    drugs = drugs_of(order, resolve)
    return [(order, a, drugs if a in CATCH_ALL else frozenset())
            for a in (agent, *agents_beside(order, agent, resolve))]


#: A draft pecoma identifies no drug of, a word of its names that is the beginning of one
#: drug's name only (:func:`pecoma.fhir.medications.truncated_names`: "everol"), and
#: that drug's agent and drugs.
Possibly = tuple[Mapping[str, Any], str, Agent, frozenset[str]]


def _allergy_cards(answer: Answer, checked: list[Checked], safety: DrugSafety,
                   possibly: list[Possibly], resolve: Resolver) -> None:
    """The allergy check of the drafts: a critical card per draft and reason (one reason
    said once for a draft), a warning for a draft that may be a drug the list rules out
    (its name cut short: ``possibly``), then the warning for drafts not checked against
    the list (not read, or entries pecoma cannot identify), of the drugs pecoma's advice
    concerns given as systemic products only (:func:`_unsettled`), and only for a patient
    not screened out as perhaps without PEComa (``safety.pecoma_unknown``: what the
    entries read rule out is said whatever else could not be read)."""
    said: set[tuple[int, str]] = set()
    for draft, agent, drugs in checked:
        why = safety.ruled_out(agent, drugs)
        if why is not None and (id(draft), why) not in said:
            said.add((id(draft), why))
            _intolerance(answer, draft, agent, drugs, why, safety)
    for draft, word, agent, drugs in possibly:
        why = safety.ruled_out(agent, drugs)
        if why is not None:
            _possibly_ruled_out(answer, draft, word, agent, drugs, why)
    for draft, agent, drugs in checked:
        unsure = safety.unsure_of(drugs)
        if unsure and safety.ruled_out(agent, drugs) is None:
            _class_unsure(answer, draft, unsure)
    # every drug of one draft that records stopped for a reason pecoma cannot judge
    # would rule out, named on one warning (the rule patient-view follows for the
    # orders in the record: unjudged_of)
    drafts: dict[int, tuple[Mapping[str, Any], list[tuple[Agent, frozenset[str]]]]] = {}
    for draft, agent, drugs in checked:
        drafts.setdefault(id(draft), (draft, []))[1].append((agent, drugs))
    for draft, pairs in drafts.values():
        concerned = unjudged_of(safety, pairs)
        if concerned:
            _unjudged_stops(answer, draft, concerned)
    # a draft read as its drugs whose name holds an abbreviation not read beside them
    # ("Dacarbazine 1 g/m2 (Dox held)"): that part could not be checked, never silent
    for draft in {id(d): d for d, _a, _ds in checked}.values():
        left = unread_abbreviations(draft, resolve) if _drug_of(draft, resolve) else []
        if left:
            _partly_unchecked(answer, draft, left, checked, safety)
    if safety.pecoma_unknown:
        return  # not known to be a PEComa patient: what the entries read rule out only
    _not_checked(answer, [x for x in checked if _unsettled(x[0], x[1], safety, resolve)],
                 [x for x in possibly if _unsettled(x[0], x[2], safety, resolve)], safety)


def _class_unsure(answer: Answer, draft: Mapping[str, Any],
                  unsure: list[tuple[str, str, str]]) -> None:
    """A warning for a draft of a drug a class an allergy entry names may or may not hold
    (``unsure``: ``(where, class, drug)``; cisplatin beside "Alkylating agents": the
    platinum compounds are ATC L01XA, not L01A, but some lists count them "alkylating-
    like"): whether the entry means it cannot be told, so the draft could not be checked
    against it; the team asks. Never the critical card, never silence."""
    ident = md_text(f"MedicationRequest/{draft.get('id')}") if draft.get("id") \
        else "the draft order"
    drugs = ", ".join(sorted({d for _w, _k, d in unsure}))
    classes = " and ".join(dict.fromkeys(k for _w, k, _d in unsure))
    wheres = ", ".join(dict.fromkeys(md_text(w) for w, _k, _d in unsure))
    item = intolerance_item(Fact("draft order", drugs),
                            Fact("allergy list", f"an allergy or intolerance to {classes} "
                                                 f"({wheres})"))
    answer.card(
        summary=(f"Draft order of {drugs} could not be checked against the allergy to "
                 f"{classes}"),
        indicator="warning", version=load_knowledge().version,
        detail=(f"{ident} orders {drugs}. The record lists an allergy or intolerance to "
                f"{classes} ({wheres}); {drugs} is not one of them by its ATC class (the "
                "platinum compounds are L01XA, the alkylating agents L01A), but some "
                "allergy lists count it with them, so pecoma cannot tell whether the entry "
                f"covers {drugs}. Ask what the entry means before ordering.\n\n"
                + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _partly_unchecked(answer: Answer, draft: Mapping[str, Any], left: list[str],
                      checked: list[Checked], safety: DrugSafety) -> None:
    """A warning for a draft pecoma reads as its drugs whose name also holds an
    abbreviation of a sarcoma regimen or drug it does not read (``left``: "Dox" beside
    "Dacarbazine 1 g/m2", or beside ondansetron): it may be doxorubicin, ifosfamide or
    epirubicin, or another drug, so that part of the draft could not be checked against
    the allergy list. Given while the list rules drugs out, or could not be read, or holds
    entries pecoma cannot identify (as for a draft not identified: :func:`_unchecked`);
    with nothing to check it against, the EHR's own check has what pecoma has."""
    listed = sorted({a.value.replace("_", " ") for a in safety.intolerant}
                    | safety.ingredients | {d for _w, d in safety.drugs}
                    | ({"mTOR inhibitors"} if safety.mtor_class else set()))
    if safety.unreadable is not None:
        against = f"the allergy list, which could not be read ({md_text(safety.unreadable)})"
    elif listed:
        against = f"the record's allergies and intolerances, which rule out: {', '.join(listed)}"
    elif safety.unidentified_entries:
        against = (f"the allergy entries pecoma cannot identify "
                   f"({_entries_shown(safety.unidentified_entries)})")
    else:
        return
    read = " and ".join(dict.fromkeys(drug_name(a, ds) for d, a, ds in checked
                                      if d is draft))
    words = ", ".join(f"'{md_text(w)}'" for w in left)
    item = intolerance_item(Fact("draft order", f"read as {read}; not read: {words}"),
                            Fact("allergy list", against))
    answer.card(
        summary=("Draft order could not be fully checked against the allergy list: part "
                 "of its name is not identified"),
        indicator="warning", version=load_knowledge().version,
        detail=(f"pecoma read {_ident(draft)} as {read}, but its name also holds {words}, "
                "which may stand for a sarcoma regimen or drug (doxorubicin, ifosfamide, "
                "epirubicin) or for another drug, and pecoma cannot tell which: that part "
                f"of the draft was not checked against {against}. Check the draft against "
                "them before ordering.\n\n" + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _unsettled(draft: Mapping[str, Any], agent: Agent, safety: DrugSafety,
               resolve: Resolver) -> bool:
    """Whether a draft read as ``agent`` (or possibly so) is one the "could not be
    checked" warning is for: no entry read rules it out (that is the critical card, or the
    "may be" one), nothing says the product is applied where it acts
    (:func:`~pecoma.fhir.medications.not_systemic`: a sirolimus gel is no concern of the
    mTOR rules), and either the list holds drug allergy entries pecoma cannot identify
    (any of them may be to the drug ordered, whichever drug it is: one rule for every
    drug) or pecoma's advice concerns the drug
    (:func:`~pecoma.web.cds.allergies.guideline_drug`: a list not read alone warns of
    those drugs only)."""
    return (safety.ruled_out(agent) is None
            and (bool(safety.unidentified_entries) or guideline_drug(agent))
            and not_systemic(draft, resolve) is None)


def _possibly_ruled_out(answer: Answer, order: Mapping[str, Any], word: str, agent: Agent,
                        drugs: frozenset[str], why: str) -> None:
    """A warning for a draft pecoma identifies no drug of, whose name holds the beginning
    of the name of one drug the allergy list rules out ("EVEROL 10 MG TAB" beside a
    sirolimus intolerance): it may be that drug, cut short, and pecoma cannot tell. A
    warning, not the critical card: the drug is not identified."""
    ident = md_text(f"MedicationRequest/{order.get('id')}") if order.get("id") \
        else "the draft order"
    name = drug_name(agent, drugs)
    item = intolerance_item(Fact("draft order", f"{word} (possibly {name})"),
                            Fact("allergy list", why))
    answer.card(
        summary=f"Draft order may be of {name}, which the allergy list rules out: check it",
        indicator="warning", version=load_knowledge().version,
        detail=(f"pecoma identifies no drug in {ident}, but its name holds "
                f"\"{md_text(word)}\", the beginning of the name of {name} and of no other "
                f"drug pecoma knows: it may be {name}, its name cut short. If it is, {why}. "
                "Check which drug the draft orders before ordering.\n\n"
                + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _unjudged_stops(answer: Answer, order: Mapping[str, Any],
                    concerned: list[Unjudged]) -> None:
    """A warning for a draft whose drugs medication records stopped for a reason pecoma
    cannot judge would rule out were that reason an intolerance (``concerned``:
    :func:`~pecoma.web.cds.allergies.unjudged_of`): everolimus stopped for "mouth
    ulcers, could not continue" beside a sirolimus draft. The one card
    (:func:`~pecoma.web.cds.allergies.unjudged_stops_card`), naming every drug and record."""
    ident = md_text(f"MedicationRequest/{order.get('id')}") if order.get("id") \
        else "the draft order"
    unjudged_stops_card(answer, concerned, order="Draft order", said="", ident=ident,
                        check="before ordering")


def _intolerance(answer: Answer, order: Mapping[str, Any], agent: Agent,
                 drugs: frozenset[str], why: str, safety: DrugSafety) -> None:
    """A critical card for a draft of a drug the patient's allergy list rules out (``why``:
    the agent itself, a drug it holds or names, or any drug of its class, an mTOR
    inhibitor or an anthracycline, after an intolerance of another one: one rule for both
    classes, :meth:`DrugSafety.class_out`). The class ruled out only for want of the
    team's judgement is the same critical card, as the assessment withholds the drug
    meanwhile (I15); it says so, and what recording that judgement changes."""
    # the id is the EHR's: it must not spell Markdown on the card
    ident = md_text(f"MedicationRequest/{order.get('id')}") if order.get("id") \
        else "the draft order"
    name = drug_name(agent, drugs)
    meanwhile = (" " + class_meanwhile_words(agent)
                 if why == safety.class_why(agent) and safety.class_meanwhile(agent)
                 else "")
    ruled_out_card(
        answer, order="draft order", name=name, why=why,
        summary=f"Draft order of {name}: {why}",
        detail=(f"{ident} orders {name}; {why}.{meanwhile} Check the record before "
                "ordering: pecoma never proposes a drug a recorded intolerance or "
                "contraindication rules out."))


def _not_checked(answer: Answer, drafts: list[Checked], possibly: list[Possibly],
                 safety: DrugSafety) -> None:
    """One warning for the drafts (:func:`_unsettled`: read as a drug pecoma's advice
    concerns, or possibly so by a name cut short) that the allergy list can neither rule
    in nor out: the list could not be read (null, an OperationOutcome, a search failed or
    not whole, an entry not read in full: :func:`_list_not_read`), or drug allergy
    entries pecoma could not identify may be to it (an mTOR inhibitor's brand coded only,
    say): pecoma cannot tell, so it says the drafts could not be checked, and why.
    Unknown is not absent: a list not read is never taken for a list that rules nothing
    out."""
    drafts = [(d, a, drugs) for d, a, drugs in drafts if safety.ruled_out(a, drugs) is None]
    if not drafts and not possibly:
        return
    if safety.unreadable is not None:
        _list_not_read(answer, drafts, possibly, safety)
        return
    entries = safety.unidentified_entries
    if not entries:
        return
    subject, idents, many = _drafts_said(drafts, possibly)
    names = _all_names(drafts, possibly)
    shown = _entries_shown(entries)
    n, one = len(entries), len(entries) == 1
    item = intolerance_item(Fact("draft order", names),
                            Fact("allergy entries not identified", shown))
    answer.card(
        summary=(f"{subject} could not be checked against {n} allergy "
                 f"entr{'y' if one else 'ies'} pecoma cannot identify"),
        indicator="warning", version=load_knowledge().version,
        detail=(f"{idents} order{'' if many else 's'} {names}.{_cut_short(possibly)} {n} "
                f"drug allergy or intolerance entr{'y' if one else 'ies'} in the record "
                f"({shown}) could not be matched to a drug by pecoma, so the "
                f"draft{'s' if many else ''} could not be checked "
                f"against {'it' if one else 'them'}: {'it' if one else 'one'} may be to "
                f"{names}" + _mtor_rule(drafts, possibly) + "."
                + "".join(f" {md_text(w)} is an adverse event whose drug is asked, not read "
                          f"as not tolerated: {md_text(why)}." for w, why in safety.asked)
                + " Check the entries before ordering.\n\n" + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _drafts_said(drafts: list[Checked], possibly: list[Possibly]) -> tuple[str, str, bool]:
    """How a card's summary begins for ``drafts`` (read as their drugs) and ``possibly``
    (drafts that may be a drug, cut short), the drafts themselves (the EHR's ids
    escaped), and whether they are more than one."""
    names, idents = _drafts_named(drafts)
    maybe = ", ".join(sorted({drug_name(a, drugs) for _d, _w, a, drugs in possibly}))
    ids = list(dict.fromkeys([*(i for i in idents.split(", ") if i),
                              *(_ident(d) for d, _w, _a, _drugs in possibly)]))
    if drafts and possibly:
        subject = f"Draft order of {names}, and one that may be of {maybe},"
    elif possibly:
        subject = f"Draft order that may be of {maybe}"
    else:
        subject = f"Draft order of {names}"
    return subject, ", ".join(ids), len(ids) > 1


def _ident(order: Mapping[str, Any]) -> str:
    """A draft as a card names it (the EHR's id escaped)."""
    return md_text(f"MedicationRequest/{order.get('id')}") if order.get("id") else "a draft"


def _all_names(drafts: list[Checked], possibly: list[Possibly]) -> str:
    """The drugs of ``drafts`` and, said so, those ``possibly`` may be."""
    names, _idents = _drafts_named(drafts)
    maybe = sorted({drug_name(a, drugs) for _d, _w, a, drugs in possibly})
    return ", ".join([*([names] if names else []), *(f"possibly {m}" for m in maybe)])


def _cut_short(possibly: list[Possibly]) -> str:
    """Why each draft of ``possibly`` may be its drug: its name cut short."""
    return "".join(
        f" pecoma identifies no drug in {_ident(d)}, but its name holds \"{md_text(w)}\", "
        f"the beginning of the name of {drug_name(a, drugs)} and of no other drug pecoma "
        f"knows: it may be {drug_name(a, drugs)}, its name cut short."
        for d, w, a, drugs in possibly)


def _drafts_named(drafts: list[Checked]) -> tuple[str, str]:
    """The drugs of ``drafts`` (each once, sorted) and the drafts themselves, as a card
    names them (the EHR's ids escaped)."""
    names = ", ".join(sorted({drug_name(a, drugs) for _d, a, drugs in drafts}))
    idents = ", ".join(_ident(d) for d, _a, _drugs in drafts)
    return names, idents


def _entries_shown(entries: tuple[str, ...]) -> str:
    """The allergy entries not identified, the first five by their ids."""
    return ", ".join(md_text(w) for w in entries[:5]) + (
        f" and {len(entries) - 5} more" if len(entries) > 5 else "")


def _mtor_rule(drafts: list[Checked], possibly: list[Possibly]) -> str:
    """What an intolerance could rule out when a draft is (or may be) of an mTOR
    inhibitor (I15)."""
    if not any(a.is_mtor_inhibitor for a in [*(a for _d, a, _x in drafts),
                                             *(a for _d, _w, a, _x in possibly)]):
        return ""
    return (" (an intolerance of one mTOR inhibitor rules out every one unless the "
            "medication history shows another one tolerated)")


def _list_not_read(answer: Answer, drafts: list[Checked], possibly: list[Possibly],
                   safety: DrugSafety) -> None:
    """The warning for drafts of the drugs pecoma's advice concerns, or possibly of one
    (:func:`_unsettled`), when the allergy list could not be read (``safety.unreadable``:
    prefetch null or an OperationOutcome and no server to read it from, a search failed,
    partial or carrying a caveat, an entry not read in full): they could not be checked
    against it, and the allergy list in the EHR must be checked before ordering. The
    same warning, under the same record, as for drafts beside entries pecoma cannot
    identify."""
    subject, idents, many = _drafts_said(drafts, possibly)
    names = _all_names(drafts, possibly)
    why = md_text(safety.unreadable or "")
    entries = safety.unidentified_entries
    held = ("" if not entries else
            f" Of the entries it did read, {len(entries)} could not be matched to a drug "
            f"by pecoma ({_entries_shown(entries)}).")
    item = intolerance_item(Fact("draft order", names),
                            Fact("allergy list not read", safety.unreadable or ""))
    answer.card(
        summary=f"{subject} could not be checked: the allergy list was not available",
        indicator="warning", version=load_knowledge().version,
        detail=(f"{idents} order{'' if many else 's'} {names}.{_cut_short(possibly)} The "
                f"patient's allergies and intolerances could not be read ({why}), so pecoma "
                f"could not check the draft{'s' if many else ''} against them: an allergy or "
                f"intolerance to {names} may be recorded that pecoma did not see"
                + _mtor_rule(drafts, possibly)
                + f".{held} **Check the patient's allergy list in the EHR before "
                "ordering.**\n\n" + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _unchecked(answer: Answer, order: Mapping[str, Any], why: str,
               safety: DrugSafety, checked: list[Checked]) -> None:
    """A warning for a draft whose drug pecoma cannot identify while the allergy list rules
    drugs out: it may be one of them, and pecoma cannot tell; or while the list could not
    be read, or holds entries pecoma cannot identify (:func:`_nothing_known`): pecoma
    knows neither the drug nor what the list rules out. None for a draft not read (a
    modifierExtension) whose named drug the list rules out (``checked``): its critical
    card says so, and "not identified" beside it would contradict it."""
    if any(draft is order and safety.ruled_out(agent, drugs) is not None
           for draft, agent, drugs in checked):
        return
    listed = sorted({a.value.replace("_", " ") for a in safety.intolerant}
                    | safety.ingredients | {d for _w, d in safety.drugs}
                    | ({"mTOR inhibitors"} if safety.mtor_class else set()))
    ident = _ident(order)
    if not listed:
        if not safety.pecoma_unknown:
            _nothing_known(answer, ident, why, safety)
        return
    item = intolerance_item(Fact("allergy list rules out", ", ".join(listed)))
    answer.card(
        summary="Draft order's drug not identified: check it against the allergy list",
        indicator="warning", version=load_knowledge().version,
        detail=(f"pecoma could not identify the drug of {ident} ({md_text(why)}), so it could "
                "not check it against the record's allergies and intolerances, which rule "
                f"out: {', '.join(listed)}. Check the draft against them before ordering."
                "\n\n" + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


def _nothing_known(answer: Answer, ident: str, why: str, safety: DrugSafety) -> None:
    """A warning for a draft whose drug pecoma cannot identify beside an allergy list it
    could not read, or holding entries it cannot identify: neither the drug nor what the
    list rules out is known, and both are to be checked in the EHR. Nothing when the list
    was read and every entry identified (the EHR's own check then has what pecoma has)."""
    entries = safety.unidentified_entries
    if safety.unreadable is not None:
        said = f"the allergy list could not be read ({md_text(safety.unreadable)})"
        summary = ("Draft order's drug not identified, and the allergy list was not "
                   "available: check both")
    elif entries:
        said = (f"{len(entries)} drug allergy or intolerance entr"
                f"{'y' if len(entries) == 1 else 'ies'} in the record could not be matched "
                f"to a drug by pecoma ({_entries_shown(entries)})")
        summary = ("Draft order's drug not identified, beside allergy entries pecoma cannot "
                   "identify: check both")
    else:
        return
    item = intolerance_item(Fact("draft order", f"not identified ({why})"),
                            Fact("allergy list", said))
    answer.card(
        summary=summary, indicator="warning", version=load_knowledge().version,
        detail=(f"pecoma could not identify the drug of {ident} ({md_text(why)}), and {said}: "
                "it could check the draft against nothing. Check in the EHR which drug the "
                "draft orders, and the patient's allergy list, before ordering.\n\n"
                + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )


async def order_select(body: dict[str, Any], request: Request, svc: CdsService) -> Answer:
    req = check_request(body, "order-select")
    answer = Answer(svc, ORDER_SELECT, req.instance)
    orders, drafted = _draft_orders(req)
    # the order set's drafts that give their drug, selected or not: the ones not selected
    # belong to a line a selected draft starts (CDS Hooks: draftOrders is the ordering
    # session, to be taken into account); an entry not selected that is no draft (an
    # order completed, stopped or active: an EHR breaking the hook's contract) is none
    chosen = {id(order) for order in orders}
    session = [res for res in drafted
               if res.get("resourceType") == "MedicationRequest" and _gives(res)
               and (id(res) in chosen or res.get("status") == "draft")]
    held = [*drafted, *(r for v in req.prefetch.values() for r in resources_of(v))]
    # one resolver for drafts and record alike: a reference names an entry by its
    # fullUrl, the prefetch's (a Medication an EHR includes under its absolute URL) as
    # the draftOrders Bundle's (FHIR R4 Bundle, resolving references); a fullUrl sent
    # with two different resources is refused when the record is read
    by_url: dict[str, Mapping[str, Any]] = {}
    for value in req.prefetch.values():
        for url, res in entries_of(value):
            if url is not None:
                by_url.setdefault(url, res)
    by_url.update(_full_urls(req.context["draftOrders"]))
    servers = [req.fhir_server] if req.fhir_server else []
    resolve = resolver_for(held, by_url, servers)
    deadline = svc.fhir_deadline()
    fetched = await _fetch_medications(req, session, resolve, svc, deadline)
    if fetched:
        resolve = resolver_for([*held, *fetched], by_url, servers)
    known: list[tuple[Mapping[str, Any], Agent]] = []
    unidentified: list[tuple[Mapping[str, Any], str]] = []
    # every drug a draft names is checked against the allergy list, the ones named beside
    # the one it is read as too (everolimus with ifosfamide in one Medication)
    checked: list[Checked] = []
    # a draft naming no drug pecoma identifies may name one cut short ("EVEROL 10 MG TAB")
    possibly: list[Possibly] = []
    for order in orders:
        agent = _drug_of(order, resolve)
        if agent is None:
            why = _why_unread(order, resolve)
            if why is not None:
                unidentified.append((order, why))
                # a draft not read for a modifierExtension still names its drug: the
                # extension may change what the order means, not which drug it names,
                # so that drug is checked against the allergy list all the same; so does
                # one whose name holds a word with a letter other than a to z (an RxNorm
                # everolimus code beside the text "Evеrolimus", "Tеmsirolimus")
                named = agent_named(order, resolve)
                if named is not None:
                    checked += _checked(order, named, resolve)
            else:
                possibly += [(order, *cut) for cut in truncated_names(order, resolve)]
        else:
            known.append((order, agent))
            checked += _checked(order, agent, resolve)
    # every identified drug but an mTOR inhibitor, drafted as the first line, departs from
    # the guideline's first line (S02, S12): chemotherapy, pazopanib, another agent; a
    # topical product (fluorouracil cream) is no line (checked against the allergy list)
    departing = [(order, agent) for order in session
                 if (agent := _drug_of(order, resolve)) is not None
                 and not agent.is_mtor_inhibitor and not_systemic(order, resolve) is None]
    chemo = [(order, agent) for order, agent in departing if id(order) in chosen]
    if not known and not unidentified and not possibly:
        return answer
    if not chemo and not unidentified:
        # only the allergy list to check: the cards of a record that cannot be read as a
        # case go to a scratch answer; the allergy check says what it could not check (an
        # allergy list not read included)
        scratch = Answer(svc, ORDER_SELECT, req.instance)
        read = await read_record(req, request, svc, scratch, deadline, fetched,
                                 allergy_check=True)
        if scratch.other_patient:  # not a record that cannot be read: never left unsaid
            answer.cards += scratch.cards
            answer.records += scratch.records
        if read is not None:
            if read[1] is not None:
                answer.vital_status_card(read[1])
            _allergy_cards(answer, checked, read[2], possibly, resolve)
        return answer
    read = await read_record(req, request, svc, answer, deadline, fetched, allergy_check=True)
    if read is None:
        return answer
    record, bc, safety = read
    if bc is None:  # no case: the card says why; the allergy check does not need one
        _allergy_cards(answer, checked, safety, possibly, resolve)
        for draft, why in unidentified:
            _unchecked(answer, draft, why, safety, checked)
        return answer
    tail = md_not_found(bc) + md_notes(bc) + md_unknown(record.unknown)
    _allergy_cards(answer, checked, safety, possibly, resolve)
    # a recorded death: no advice, nothing proposed (the allergy check stands); a vital
    # status unknown: the advice, said so first, nothing proposed
    if not answer.vital_status_card(bc):
        return answer
    try:
        # the drafts of one first line (a regimen drafted one agent a draft) get one card
        # and one suggestion together; those ordered for another cancer, theirs. A line is
        # one a selected draft starts, and holds the order set's drafts not selected too
        # (epirubicin drafted, then ifosfamide selected): replaced whole, never half
        # (a draft not selected only when nothing says it is ordered for something else:
        # one whose reasons name another disease stays out, never deleted; one whose
        # reasons pecoma cannot read, or name the PEComa and something else, is named as
        # possibly of the line, and stays)
        site = bc.case.tumour.primary_site.value
        lines: dict[str | None, list[tuple[Mapping[str, Any], Agent]]] = {}
        unplaced: list[tuple[Mapping[str, Any], Agent, str]] = []
        # beside another present primary cancer, a draft giving no reason may be that
        # cancer's (doxorubicin with cyclophosphamide, a breast regimen): which cancer it
        # is for is asked, and nothing replaces it, as for a course of the record
        # (read_treatment._beside_another_cancer)
        # (and a selected draft whose reasons pecoma cannot place, or that name the PEComa
        # and something else, is asked about alike, its reasons shown: what it is for is
        # not known, and an order for something else is never replaced)
        asked: list[tuple[Mapping[str, Any], Agent, str]] = []
        placed = False  # a selected draft ordered for the PEComa by its reasons
        for draft, agent in departing:
            other = _for_another_cancer(draft, bc.other_cancers, resolve)
            ours, why = order_given_for(draft, resolve, bc.pecoma_condition, site)
            if ours is True and not why and (uses := other_uses(draft, resolve)):
                # a drug given for diseases that are no cancer too (hydroxyurea for sickle
                # cell disease), no reason given: what it is ordered for is asked, as for
                # a reason pecoma cannot place, and nothing replaces it
                ours, why = None, uses
            if other is not None and names_the_pecoma(draft, resolve, bc.pecoma_condition,
                                                      site):
                other, ours = None, None  # the PEComa and another cancer: cannot tell
            if other is None:
                if (ours is None and id(draft) in chosen) or (
                        ours is True and not why and bc.other_cancers):
                    asked.append((draft, agent, why))
                if ours is True and why and id(draft) in chosen:
                    placed = True
                if id(draft) not in chosen:
                    if ours is not True:
                        if ours is None:
                            unplaced.append((draft, agent, why))
                        continue
                elif ours is False:
                    # selected, and every reason it gives names something else: a
                    # disease that is no cancer (methotrexate for rheumatoid arthritis)
                    # makes no line of any cancer's, so no card; another cancer, one the
                    # record does not hold, makes that cancer's line, never replaced
                    if ordered_for_no_cancer(draft, resolve):
                        continue
                    other = why
            lines.setdefault(other, []).append((draft, agent))
        # a selected draft placed with the PEComa by its reasons makes the line the
        # PEComa's whatever the others are: a draft not selected that gives no reason is
        # then named as possibly of the line (kept), not asked about
        if placed:
            for draft, agent, _why in [x for x in asked if id(x[0]) not in chosen]:
                lines[None] = [x for x in lines[None] if x[0] is not draft]
                unplaced.append((draft, agent, "no reason, beside another primary cancer ("
                                 + " or ".join(bc.other_cancers) + ")"))
            asked = [x for x in asked if id(x[0]) in chosen]
        # the order set's drafts whose drug pecoma cannot identify may be of the line
        # (not one whose reasons name another disease)
        unknown: dict[str | None, list[tuple[Mapping[str, Any], str]]] = {}
        for draft, why in _not_identified(session, resolve):
            if id(draft) not in chosen and order_given_for(
                    draft, resolve, bc.pecoma_condition, site)[0] is False:
                continue
            unknown.setdefault(_for_another_cancer(draft, bc.other_cancers, resolve),
                               []).append((draft, why))
        for other_cancer, drafts in lines.items():
            if not any(id(draft) in chosen for draft, _agent in drafts):
                continue  # no draft of it selected: its card came when one was
            a = _alerting(bc.case, _line_of([agent for _d, agent in drafts]), svc)
            if a is not None:
                _warn(answer, a, Line(drafts, chosen, unknown.get(other_cancer, []),
                                      [] if other_cancer is not None else unplaced,
                                      asked if other_cancer is None else [],
                                      bc.other_cancers),
                      req,
                      safety, tail, _mtor_drafted(drafted, resolve), other_cancer)
        for draft, why in unidentified:
            _unchecked(answer, draft, why, safety, checked)
            if order_given_for(draft, resolve, bc.pecoma_condition, site)[0] is False:
                continue  # ordered for something else, by every reason it gives
            a = _alerting(bc.case, Agent.other_chemotherapy, svc)
            if a is None:
                continue
            ident = md_text(f"MedicationRequest/{draft.get('id')}") if draft.get("id") \
                else "a draft"
            alert = next(x for x in a.alerts if x.id == "ALERT-CHEMO-BEFORE-MTOR")
            answer.card(
                summary="Draft order's drug not identified: if it is chemotherapy, the "
                        "guideline puts an mTOR inhibitor first",
                indicator="warning", version=a.knowledge_version,
                detail=f"pecoma could not identify the drug of {ident} ({why}). This "
                       "patient has advanced PEComa with no systemic line "
                       + ("yet" if safety.history is None else "read in the record (the "
                          f"lines already given are not fully known: {safety.history})")
                       + ": if the order is conventional chemotherapy, the guideline "
                       "recommends an mTOR inhibitor first (S13, S14). Nothing is proposed."
                       + f"\n\n*Source:* {alert.provenance.label}" + tail,
                record_ids=(alert.id,), items=(alert,),
            )
    except InputError as exc:
        answer = Answer(svc, ORDER_SELECT, req.instance)
        answer.error_card([f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.issues],
                          len(exc.issues))
        # the allergy check does not rest on the case: kept
        _allergy_cards(answer, checked, safety, possibly, resolve)
    return answer
