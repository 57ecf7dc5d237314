"""``patient-view``: the guideline assessment of the patient whose chart is opened.

The record is gathered (:mod:`.record`); a patient whose Conditions and Observations were
read and name no PEComa gets no cards (:mod:`.screen`). Otherwise the record becomes a
case (:mod:`pecoma.fhir.reader`), the engine assesses it, and the answer is a summary card
(risk, recommendations, informational alerts, surveillance, missing facts) and one card
per warning or critical alert.

Unknown stays unknown: every part of the record that could not be read is listed on the
cards. The parts not read are given to the FHIR reader, which reads them as
``pecoma fhir to-case`` reads a bundle that says it is incomplete: when the allergy list
could not be read, a recorded "mTOR inhibitor not contraindicated" is not relied upon (it
becomes unknown, so the engine asks the question), and every recommendation that names
a drug says it is conditional on checking the allergies, or ruled out by a recorded
intolerance (:mod:`.allergies`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final, Literal

from starlette.requests import Request

from pecoma.case import Agent, YesNo, mtor_ruled_out
from pecoma.engine import assess
from pecoma.engine.facts import ANTHRACYCLINE_INTOLERANCE
from pecoma.engine.model import Assessment, Item
from pecoma.errors import InputError, OtherPatientError
from pecoma.fhir.allergies import read_allergies
from pecoma.fhir.caveats import DRUG_ITEMS, medication_doubts
from pecoma.fhir.medications import resolver_for
from pecoma.fhir.reader import BundleCase, case_from_bundle
from pecoma.fhir.reading import Planned
from pecoma.render.text import markdown_report
from pecoma.web.cds.allergies import (
    DrugSafety,
    drug_name,
    drug_safety,
    ruled_out_card,
    unjudged_of,
    unjudged_stops_card,
)
from pecoma.web.cds.cards import (
    PROVISIONAL,
    Answer,
    listed,
    md_item,
    md_missing,
    md_not_found,
    md_notes,
    md_set_aside,
    md_text,
    md_unknown,
    tagged,
    waits,
)
from pecoma.web.cds.discovery import CASE_PARTS, PATIENT_VIEW, VITAL_STATUS
from pecoma.web.cds.record import Record, gather_record, patient_of, read_named_medications
from pecoma.web.cds.requests import HookRequest, check_request
from pecoma.web.cds.screen import mentions_pecoma, text_may_mention
from pecoma.web.cds.service import CdsService

__all__ = ["DRUG_ITEMS", "patient_view"]

#: Which recommendation heads the summary card, most decisive first.
_HEADLINE: Final = (
    "REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING", "REC-RERESECTION-GROSS",
    "REC-RERESECTION",
    # long after the operation: re-excision a decision to confirm (I30)
    "REC-RERESECTION-DECIDED",
    "REC-RESECTION", "REC-MTOR-FIRST-LINE", "REC-MTOR-MALIGNANCY-NOT-SHOWN", "REC-ANTHRACYCLINE",
    # after progression the guideline's silence, said for every site, before S15's
    # report for a uterine primary (efficacy reported, no stated later line: heading the
    # card it would read as the next line); S15 before any supplementary item
    "REC-NO-NEXT-LINE",
    "REC-NO-LINE-AFTER-ANTHRACYCLINE",
    "REC-UTERINE-EPI-IFO",
    "REC-AGGRESSIVE-SURGERY", "REC-PRIMARY-SITE-AFTER-CLEARANCE",
    "REC-ADJ-RADIOTHERAPY", "REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION",
    "REC-ADJ-RADIOTHERAPY-RECURRENCE", "REC-ADJ-RADIOTHERAPY-DECIDED", "REC-ADJ-NODES-METS",
    "REC-ADJ-NODES-METS-AFTER-RERESECTION", "REC-ADJ-NODES-METS-GIVEN",
    "REC-ADJ-RADIOTHERAPY-GIVEN",
    "REC-NO-ADJUVANT-AFTER-RELAPSE", "REC-NO-ADJUVANT-AFTER-CLEARANCE", "REC-RESECTION-DONE",
    "REC-NO-ADJUVANT-LOCALIZED",
)


#: Missing facts that leave whether the disease has spread unknown: the summary card is
#: a warning while they are asked, never an informational card.
_EXTENT_IN_DOUBT: Final = frozenset({"MISS-SUSPECTED-METASTASIS"})


def drug_of(item_id: str, safety: DrugSafety) -> Agent | None:
    """The drug a recommendation would start: for the first-line mTOR advice, the mTOR
    inhibitor a line shows tolerated beside one the allergy list names (the advice is
    then that line, the drug not tolerated being out, I15), else one the list does not
    rule out by itself (:attr:`DrugSafety.mtor_first_line`: sirolimus unless an entry
    names it, recorded as of that drug alone)."""
    if item_id == "REC-MTOR-FIRST-LINE":
        return safety.mtor_first_line
    return DRUG_ITEMS.get(item_id)


def drug_note(item: Item, safety: DrugSafety) -> str:
    """What the allergy list and the orders in place say about the drug a recommendation
    names ('' if nothing)."""
    agent = drug_of(item.id, safety)
    if agent is None:
        return ""
    planned = safety.planned_orders(agent)
    already = ("\n\n**Already planned in the record** (not given yet): "
               + md_text("; ".join(str(p) for p in planned))
               + "; review that order rather than writing another." if planned else "")
    # another mTOR inhibitor shown tolerated: the drugs not tolerated are named, out
    # (sirolimus and nab-sirolimus are one drug: either listed rules out both, I15)
    listed = {a for a in safety.intolerant if a.is_mtor_inhibitor}
    out = ", ".join(sorted(a.value.replace("_", "-") for a in listed))
    twins = ", ".join(sorted(a.value.replace("_", "-")
                             for a in mtor_ruled_out(listed) - listed))
    same = f" (and {twins}, the same drug)" if twins else ""
    why = (f"{drug_name(agent, frozenset())}, the latest mTOR-inhibitor line, shows the "
           "class tolerated" if safety.mtor_tolerated is not None else
           "the record gives the intolerance as of that drug alone")
    only = (f"\n\n**Ruled out by the allergy list:** {out} only{same}; {why} "
            "(interpretation I15)."
            if item.id == "REC-MTOR-FIRST-LINE" and not safety.mtor_class_out
            and out else "")
    ruled = safety.ruled_out(agent)
    if ruled is not None:
        return f"\n\n**Not for this patient as recorded:** {ruled}." + already
    # another anthracycline not tolerated that does not rule this one out (the other
    # shown tolerated since): the engine's derived fact names it (I15); one that may, its
    # class not judged, withholds the item instead
    sister = "".join(f"\n\n**Another anthracycline not tolerated:** {md_text(f.value)}; "
                     "confirm before any order."
                     for f in item.triggered_by if f.path == ANTHRACYCLINE_INTOLERANCE)
    withheld = safety.withheld(agent)
    if withheld is not None:
        return (only + sister + f"\n\n**Conditional:** {withheld}; confirm before any order."
                + already)
    return only + sister + already


def _recommendations_md(a: Assessment, safety: DrugSafety) -> str:
    return "\n\n".join(md_item(r) + drug_note(r, safety) for r in (a.risk.item,
                                                                    *a.recommendations))


def _waits_on_unread(a: Assessment, bc: BundleCase) -> bool:
    """Whether a recommendation shown waits on a missing fact the record holds in a form
    pecoma does not read (:attr:`BundleCase.unreadable`): the record may say the answer
    (a resection not done because the tumour is unresectable), and it may rule the
    advice out."""
    fields = {m.id: m.field for m in a.missing}
    return any(fields.get(mid) in bc.unreadable
               for item in a.recommendations for mid in item.conditional_on)


def summary_cards(answer: Answer, bc: BundleCase, a: Assessment, record: Record,
                  safety: DrugSafety) -> None:
    """The summary card and the alert cards of one assessment. A summary says first that
    the advice it states is provisional when it waits on a missing fact (the headline
    of the summary card, an alert card's alert: :meth:`Answer.card`)."""
    version = a.knowledge_version
    links = answer.links(markdown_report(a))
    ranked = sorted(a.recommendations, key=lambda r: _HEADLINE.index(r.id)
                    if r.id in _HEADLINE else len(_HEADLINE))
    head = ranked[0].title if ranked else "see the report"
    agent = drug_of(ranked[0].id, safety) if ranked else None
    tags = []  # said first: summaries are cut
    if agent is not None and safety.ruled_out(agent):
        tags.append("not for this patient as recorded")
    elif agent is not None and safety.withheld(agent):
        tags.append("conditional")
    elif waits(ranked[:1]):
        tags.append(PROVISIONAL)
    if agent is not None and safety.planned_orders(agent):
        tags.append("already planned")  # an order in place: not one to write again
    if ranked and ranked[0].provenance.kind == "supplementary":
        tags.append("supplementary, not from the guideline")  # knowledge kept apart
    head = tagged(head, tags)
    status, group = a.disease_status.replace("_", " "), a.risk.group.replace("_", " ")
    summary = f"PEComa ({status}), risk {group}: {head}"
    if a.missing or record.unknown:
        summary += f"; {len(a.missing) + len(record.unknown)} fact(s) unknown"
    info_alerts = [x for x in a.alerts if x.level == "info"]
    follow = "\n".join(f"- {f.title} ({f.provenance.label})" for f in a.followup)
    detail = (_recommendations_md(a, safety)
              + ("\n\n" + "\n\n".join(md_item(x) for x in info_alerts) if info_alerts else "")
              + ("\n\n**Surveillance**\n" + follow if follow else "")
              + md_missing(a.missing) + md_not_found(bc) + md_notes(bc) + md_set_aside(bc)
              + md_unknown(record.unknown)
              + f"\n\n*{a.intended_use}*")
    shown = (a.risk.item, *a.recommendations, *info_alerts, *a.followup)
    records = tuple(i.id for i in shown)
    # a part of the record not read, or a metastasis suspected beside a disease read as
    # not metastatic (whether it has spread is unknown), or outside the lungs beside lung
    # metastases (whether the disease is confined to the lungs is unknown): never an
    # informational card
    spread = any(m.id in _EXTENT_IN_DOUBT for m in a.missing)
    # advice waiting on a fact the record states in words pecoma does not read (a
    # resection not done, its reason "tumour unresectable": stage.resectable found but
    # not read): the record may rule the advice out, so never an informational card
    contested = _waits_on_unread(a, bc)
    indicator: Literal["info", "warning"] = (
        "warning" if record.unknown or spread or contested else "info")
    answer.card(summary=summary, indicator=indicator, detail=detail, version=version,
                record_ids=records, links=links, items=shown)
    for alert in a.alerts:
        if alert.level not in ("warning", "critical"):
            continue
        level: Literal["warning", "critical"] = (
            "critical" if alert.level == "critical" else "warning")
        answer.card(summary=alert.title, indicator=level, version=version,
                    detail=md_item(alert) + md_missing(a.missing, alert.conditional_on)
                    + md_unknown(record.unknown),
                    record_ids=(alert.id,), topic=alert, links=links)


def read_case(answer: Answer, record: Record, svc: CdsService,
              patient: str | None = None, server: str | None = None) -> BundleCase | None:
    """The case of the record (``patient``'s: the call's ``context.patientId``; ``server``
    its ``fhirServer``), read for the service's today (a medication starting later is
    planned, not given), or ``None`` with an error card saying what is wrong: first of all
    that the record holds another patient's data, when it does."""
    try:
        if record.conflicts:  # named where the EHR sent them, not in the bundle read
            raise InputError(record.conflicts, "FHIR record")
        return case_from_bundle(record.bundle(), validate=svc.settings.validation,
                                source="FHIR record", unread=record.unknown,
                                patient=patient, server=server, on=svc.today(),
                                settings=svc.engine_settings())
    except OtherPatientError as exc:
        foreign = [f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.foreign]
        rest = [f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.issues
                if i not in exc.foreign]
        answer.other_patient_card(foreign, rest, record.unknown)
        return None
    except InputError as exc:
        lines = [f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.issues]
        if record.unknown.keys() & CASE_PARTS:  # the parts not read may hold what is missing
            answer.unknown_card(record.unknown, "Nothing was assessed: the parts of the "
                                "record below could not be read, and without them the rest "
                                "does not give a complete PEComa case. Reopen the chart once "
                                "they can be read. What the rest lacks:\n\n"
                                + listed(lines))
        else:
            answer.error_card(lines, len(exc.issues), md_unknown(record.unknown))
        return None


def screened_out(answer: Answer, record: Record, raw: bytes) -> bool:
    """True when the patient needs no PEComa card (or only the 'could not check' card).

    ``raw`` is the request body: when nothing was fetched and the body cannot name a
    PEComa, the resources need no look."""
    if (record.fetched or text_may_mention(raw)) and mentions_pecoma(record.resources):
        return False
    blind = {k: v for k, v in record.unknown.items() if k in ("conditions", "observations")}
    if blind:
        answer.unknown_card(blind, "Whether this patient has a PEComa could not be checked: "
                            "the parts of the record below could not be read.")
    return True


def _pecoma_unknown(record: Record) -> bool:
    """Whether the parts of the record that say whether the patient has a PEComa (its
    conditions, its observations) could not all be read."""
    return any(k in record.unknown for k in ("conditions", "observations"))


async def read_record(
    req: HookRequest, request: Request, svc: CdsService, answer: Answer, deadline: float,
    known: Sequence[dict[str, Any]] = (), allergy_check: bool = False,
) -> tuple[Record, BundleCase | None, DrugSafety] | None:
    """The patient's record (prefetch, else the allowed FHIR server), read into a case
    whose mTOR-inhibitor contraindication stays unknown when the allergy list could not be
    read, and what the allergy list allows; ``None`` when ``answer`` is already complete
    (no PEComa). When the record gives no case, ``answer`` holds the card saying why and
    the case is ``None``; the allergy list is still read (the allergy check does not rest
    on the case), as long as each of its entries is the patient's.
    ``known``: Medications this call has read already, not read again.
    ``allergy_check``: the caller checks orders against the allergy list (order-select),
    so a record of which pecoma cannot tell whether the patient has a PEComa (its
    conditions or observations not read: :func:`screened_out` has put the card saying
    so in ``answer``) is still read for the allergy list, with no case: a read allergy
    that rules an order out is said whatever else could not be read."""
    record = await gather_record(req, svc, deadline)
    screened = screened_out(answer, record, await request.body())
    if screened and not (allergy_check and _pecoma_unknown(record)):
        return None
    await read_named_medications(record, req, svc, deadline, known)
    who = patient_of(record, req)
    allergies = [r for r in record.resources if r.get("resourceType") == "AllergyIntolerance"]
    mine = [a for a in allergies if who.of(a).whose == "this"]
    # an entry the allergy reading sets aside (a modifierExtension, a label saying it was
    # withheld) leaves the list not read in full, on every card, as the FHIR reader says
    # of the same entry (the same reading: pecoma.fhir.allergies.not_read_in_full)
    modifiers = record.entry_modifier_urls()
    aside = read_allergies(((f"AllergyIntolerance/{a.get('id')}", a) for a in mine),
                           modifiers).not_read_reason
    if aside is not None:
        before = record.unknown.get("allergies")
        record.unknown["allergies"] = aside if before is None else f"{before}; and {aside}"
    bc = None if screened else read_case(answer, record, svc, req.patient_id,
                                         req.fhir_server)
    if bc is not None:
        # the medication records that leave the lines not fully known, named as the
        # CarePlan names them (pecoma.fhir.caveats)
        record.unknown.update(medication_doubts(bc))
    unreadable = record.unknown.get("allergies")  # an entry not attributable: said there
    if unreadable is None and len(mine) < len(allergies):
        # the reader refuses another patient's resource: whose list it is cannot be told
        unreadable = "an allergy entry is another patient's"
    # a contraindication the record states other than by an allergy entry (the project's
    # Observation) rules the mTOR inhibitors out as an intolerance does
    contraindicated = None
    if bc is not None and bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.yes:
        contraindicated = bc.sources.get("systemic.mtor_inhibitor_contraindicated",
                                         "the record")
    # the lines read may show an mTOR inhibitor tolerated beside one the list names: the
    # case's rule (I15), so the cards and the engine give the same advice
    # an allergy or adverse reaction kept on the problem list (a Condition naming a drug)
    # rules its drug out as an allergy entry does (pecoma.fhir.allergies, as the reader)
    problems = [c for c in record.resources
                if c.get("resourceType") == "Condition" and who.of(c).whose == "this"]
    # and so does an AdverseEvent suspecting a drug, when the EHR sends one (no prefetch
    # asks for them: the allergy list is where an intolerance is recorded for ordering)
    events = [e for e in record.resources
              if e.get("resourceType") == "AdverseEvent" and who.of(e).whose == "this"]
    safety = drug_safety([*mine, *problems, *events], unreadable,
                         bc.history_doubt if bc else None,
                         bc.planned if bc else (), contraindicated,
                         bc.case.systemic.therapies if bc else (), modifiers,
                         bc.not_tolerated if bc else (), bc.running if bc else (),
                         bc.unclear_stops if bc else (),
                         resolver_for(record.resources, record.urls,
                                      [req.fhir_server] if req.fhir_server else []))
    if bc is not None and bc.vital_status_unknown is not None:
        # whether the patient has died is unknown: said on every card, nothing proposed
        record.unknown[VITAL_STATUS] = bc.vital_status_unknown
        safety = replace(safety, vital_status=bc.vital_status_unknown)
    if screened:
        safety = replace(safety, pecoma_unknown=True)
    return record, bc, safety


def planned_intolerance(answer: Answer, safety: DrugSafety) -> None:
    """A critical card for each order in the record, planned and not given yet, given now
    (an order under way, not ended; a dispense whose supply covers the day; a course of
    administrations given up to it), possibly given now (status ``unknown``, started, no
    end) or on hold (it may be resumed at any time), of a drug
    the allergy list rules out: the check order-select makes on a draft, made on an order
    already written (a sirolimus order starting next week, running since last month, or
    held, beside a sirolimus allergy)."""
    orders = [(o, True) for o in safety.running] + [(o, False) for o in safety.planned]
    for order, given_now in orders:
        why = safety.ruled_out(order.agent, order.drugs)
        if why is None:
            _unjudged(answer, safety, order, given_now)
            continue
        name = drug_name(order.agent, order.drugs)
        if order.held:
            said, detail = "on hold", (
                f"{md_text(str(order))}; {why}. An order on hold may be resumed at any time: "
                "review it against the allergy list now: cancel it, or record why it may "
                "resume.")
        elif given_now and order.unsure:
            said, detail = "possibly given now", (
                f"{md_text(str(order))}; {why}. It is taken as given now meanwhile (the "
                "safer reading). Review that order against the allergy list now: stop it, "
                "or record that it ended or why it goes on.")
        elif given_now:
            said, detail = "given now", (
                f"{md_text(str(order))}; {why}. Review that order against the allergy list "
                "now: stop it, or record why it goes on (the intolerance may have been "
                "recorded after the order began).")
        else:
            said, detail = "planned", (
                f"{md_text(str(order))} is not given yet; {why}. Review that order against "
                "the allergy list before it is given:")
        ruled_out_card(
            answer, order=f"order {said}", name=name, why=why,
            summary=f"Order of {name} {said} in the record: {why}",
            detail=f"{detail} pecoma never proposes a drug a recorded intolerance rules out.")


#: When an order of the record is to be checked, by how it is said (:func:`_said`).
_CHECK: Final = {"planned": "before it is given", "on hold": "before it is resumed",
                 "given now": "now", "possibly given now": "now"}


def _said(order: Planned, given_now: bool) -> str:
    """How a card says an order of the record: on hold, possibly given now, given now,
    planned."""
    return ("on hold" if order.held else "possibly given now" if given_now and order.unsure
            else "given now" if given_now else "planned")


def _unjudged(answer: Answer, safety: DrugSafety, order: Planned, given_now: bool) -> None:
    """The warning for an order in the record that medication records stopped for a
    reason pecoma cannot judge would rule out were the reason an intolerance: the rule
    and the card order-select gives a draft (:func:`~pecoma.web.cds.allergies.unjudged_of`,
    :func:`~pecoma.web.cds.allergies.unjudged_stops_card`), an order once written checked
    as it was drafted."""
    concerned = unjudged_of(safety, [(order.agent, order.drugs)])
    if not concerned:
        return
    said = _said(order, given_now)
    unjudged_stops_card(answer, concerned, order="Order", said=f" {said} in the record",
                        ident=f"{md_text(order.where)} ({md_text(order.how)})",
                        check=_CHECK[said])


async def patient_view(body: dict[str, Any], request: Request, svc: CdsService) -> Answer:
    req = check_request(body, "patient-view")
    answer = Answer(svc, PATIENT_VIEW, req.instance)
    read = await read_record(req, request, svc, answer, svc.fhir_deadline())
    if read is None:
        return answer
    record, bc, safety = read
    if bc is None:
        return answer
    # a recorded death: that card alone; a vital status unknown: said first, the advice after
    if not answer.vital_status_card(bc):
        return answer
    planned_intolerance(answer, safety)
    try:
        a = assess(bc.case, svc.today(), svc.engine_settings())
    except InputError as exc:
        answer.error_card([f"- `{i.path}`: {i.rule} (got {i.value})" for i in exc.issues],
                          len(exc.issues))
        return answer
    summary_cards(answer, bc, a, record, safety)
    return answer
