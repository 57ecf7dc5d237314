"""Whether a drug may be proposed, given the allergy list and the medication history.

A drug is proposed on a card (a suggestion that drafts an order) only when the patient's
AllergyIntolerance list was read and nothing on it rules the drug out, and the lines of
systemic therapy already given are known:

* the medication history could not be read in full (a medication search null or an
  OperationOutcome and not fetched, or a medication record whose drug pecoma cannot
  identify): which line a drug would be is not known, so nothing is proposed and every
  recommendation naming a drug is conditional, with the reason;

* the list could not be read (prefetch null or an OperationOutcome, the FHIR server not
  allowed or failing, a search labelled as withheld), or an entry of it cannot be read in
  full (:func:`pecoma.fhir.allergies.not_read_in_full`: a modifierExtension, a label
  saying information was withheld from it): nothing is proposed, and the card says why;
  what the entries read rule out still rules it out, and a draft order of any other drug
  pecoma identifies is said to be not checked against the list (``unreadable``);
* an active intolerance to the agent rules the agent out, as does one to a drug it holds
  (ifosfamide rules out epirubicin with ifosfamide), and one to a drug an order names
  rules out that order whatever agent pecoma files the drug under (paclitaxel rules out
  an order of paclitaxel, "other chemotherapy" to the case format; vincristine rules out
  no etoposide order); one to an mTOR inhibitor rules out that drug and, unless the
  entry records it as of that drug alone (the project's extension
  ``intolerance-class-wide`` 'no') or the medication history shows another one
  tolerated (the latest mTOR-inhibitor line is of a drug not itself listed: the case
  format's rule, :func:`pecoma.case.mtor_class_ruled_out`, I15), every mTOR inhibitor;
  one recorded as of the class ('yes') every one whatever the history; sirolimus and
  nab-sirolimus are one drug (an intolerance of either rules out both, and a line of
  either shows no other one tolerated beside it); one to the class
  rules out every one, as does one to an mTOR inhibitor that is none of the case format's
  agents (ridaforolimus; ATC L01EG), or to an ATC group holding them (L01, L01E); one
  to an anthracycline (or a regimen holding one) recorded as of the class ('yes') rules
  out the other anthracycline too;
* a medication record whose ``statusReason`` says its drug was not tolerated (stopped
  for pneumonitis: :func:`pecoma.fhir.medications.status_reason`, as the FHIR reader
  reads it) rules that drug out as an allergy entry naming it does;
* an active drug allergy (category ``medication``, or no category) whose substance
  pecoma cannot identify could be to the drug: nothing is proposed, and the card names
  how many entries could not be identified. One to a substance clearly named that is no
  anticancer drug (penicillin, a food) withholds nothing;
* the record already holds an order of the drug not yet given (drafted, planned, or
  starting later: :attr:`DrugSafety.planned`; for an mTOR inhibitor, an order of any
  mTOR inhibitor): no second one is proposed, and the cards name it.

Each entry is read by :func:`pecoma.fhir.allergies.read_allergy`, as the FHIR reader
reads it (which entries are left aside, how the substance is identified).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pecoma.case import (
    Agent,
    Intolerance,
    TherapyLine,
    class_ruled_out,
    class_undecided,
    mtor_ruled_out,
    mtor_tolerated_line,
)
from pecoma.engine.collect import template_of
from pecoma.engine.model import Fact, Item
from pecoma.fhir.allergies import CATCH_ALL, lines_given, read_allergies
from pecoma.fhir.caveats import drug_caveats
from pecoma.fhir.medications import INGREDIENTS, Resolver, no_resolver
from pecoma.fhir.reading import FORBIDDEN, NotTolerated, Planned
from pecoma.knowledge import load_knowledge
from pecoma.web.cds.cards import Answer, md_item, md_text

__all__ = ["GUIDELINE_DRUGS", "INTOLERANCE", "DrugSafety", "Unjudged", "class_meanwhile_words",
           "drug_name", "drug_safety", "drugs_named",
           "guideline_drug", "intolerance_item", "md_unsettled", "ruled_out_card",
           "unjudged_of", "unjudged_stops_card"]


@dataclass(frozen=True, slots=True)
class DrugSafety:
    """What the allergy list allows: read or not, agents ruled out, entries not identified."""

    unreadable: str | None = None
    intolerant: frozenset[Agent] = frozenset()
    unidentified: int = 0
    #: Where each of the ``unidentified`` entries is (``AllergyIntolerance/id``).
    unidentified_entries: tuple[str, ...] = ()
    #: ``(where, why)`` of the AdverseEvents among them whose suspected drug is asked, not
    #: read as not tolerated (:attr:`pecoma.fhir.allergies.AllergyList.asked`).
    asked: tuple[tuple[str, str], ...] = ()
    #: Drugs an agent may be made of (:data:`~pecoma.fhir.medications.INGREDIENTS`)
    #: that an active allergy names.
    ingredients: frozenset[str] = frozenset()
    #: ``(class, drug)`` for each drug of ``ingredients`` the list holds only by a class
    #: it names (:attr:`pecoma.fhir.allergies.AllergyList.class_only`: "Anthracyclines").
    class_only: tuple[tuple[str, str], ...] = ()
    #: ``(where, drug)`` of each drug an active allergy entry names one by one
    #: (:data:`~pecoma.fhir.medications.DRUG_NAMES`): an order naming that drug is ruled
    #: out, whatever agent pecoma files it under.
    drugs: tuple[tuple[str, str], ...] = ()
    #: ``(class, drug or agent)`` for each drug the list rules out only as one of a class
    #: an entry names (:attr:`pecoma.fhir.allergies.AllergyList.in_class`).
    in_class: tuple[tuple[str, str], ...] = ()
    #: ``(where, class, drug)`` for each drug a class an entry names may or may not hold
    #: (:attr:`pecoma.fhir.allergies.AllergyList.unsure`): a draft of it could not be
    #: checked against that entry.
    unsure: tuple[tuple[str, str, str], ...] = ()
    #: Why the lines of systemic therapy already given are not fully known, if they are not.
    history: str | None = None
    #: An active allergy names the mTOR-inhibitor class, or an mTOR inhibitor that is none
    #: of the case format's agents (ridaforolimus, ATC L01EG): every one is ruled out.
    mtor_class: bool = False
    #: Medication records of the record planned, not (yet) given (an order drafted,
    #: planned or starting later): orders in place, as the FHIR reader reads them.
    planned: tuple[Planned, ...] = ()
    #: Medication records of the record given now (an order under way, not ended), as
    #: the FHIR reader reads them (:attr:`pecoma.fhir.reader.BundleCase.running`).
    running: tuple[Planned, ...] = ()
    #: Where the record says mTOR inhibitors are contraindicated other than by an
    #: allergy entry (the project's Observation, read into the case): every one is out.
    mtor_contraindicated: str | None = None
    #: The mTOR inhibitor of the latest line of the medication history when it shows the
    #: patient tolerating one beside an mTOR inhibitor the list names (the case's
    #: :attr:`~pecoma.case.Systemic.mtor_tolerated`): only the drugs named are then out.
    mtor_tolerated: Agent | None = None
    #: The drugs the list names, each with the team's judgement whether the intolerance
    #: is of its class (the project's extension ``intolerance-class-wide``, I15).
    intolerances: tuple[Intolerance, ...] = ()
    #: The lines of systemic therapy read, which may show another drug of a class
    #: tolerated beside one the list names (the case's
    #: :func:`~pecoma.case.class_ruled_out`, I15).
    therapies: tuple[TherapyLine, ...] = ()
    #: Why whether the patient has died is unknown, if it is
    #: (:attr:`pecoma.fhir.reader.BundleCase.vital_status_unknown`): no drug is proposed.
    vital_status: str | None = None
    #: Whether the patient has a PEComa could not be checked (conditions or observations
    #: not read): only what the entries read rule out is said on an order (the critical
    #: card, the warning of a draft that may be such a drug); the warnings that a check
    #: could not be made are for a PEComa patient's orders.
    pecoma_unknown: bool = False
    #: The medication records whose ``statusReason`` pecoma cannot tell is an
    #: intolerance or not (:attr:`pecoma.fhir.reader.BundleCase.unclear_stops`), each with
    #: what the list would allow were it one (the same check, that record read as an
    #: intolerance of its drug): :meth:`unjudged`.
    unclear: tuple[tuple[NotTolerated, DrugSafety], ...] = ()

    def unjudged(self, agent: Agent, drugs: frozenset[str] = frozenset()
                 ) -> list[tuple[NotTolerated, str]]:
        """The records stopped for a reason pecoma cannot judge (:attr:`unclear`) that
        would rule out ``agent`` (an order of it naming ``drugs``) were the reason an
        intolerance, each with why it would (:meth:`ruled_out`): a draft of it cannot be
        checked against them. Unknown is not absent."""
        return [(stop, why) for stop, would in self.unclear
                if (why := would.ruled_out(agent, drugs)) is not None]

    def class_out(self, agent: Agent) -> bool:
        """Whether the drugs the list names rule out every drug of ``agent``'s class (the
        mTOR inhibitors, or the anthracyclines for an agent holding one): the case's one
        rule for both classes (:func:`~pecoma.case.class_ruled_out`: the judgement on
        each entry, the lines given, I15)."""
        return bool(agent.drug_class) and class_ruled_out(agent.drug_class,
                                                          self.intolerances, self.therapies)

    def class_why(self, agent: Agent) -> str | None:
        """Why the list rules out ``agent`` as a drug of its class (:meth:`class_out`), or
        ``None``: one rule for both classes (I15), an intolerance of one drug of the class
        ruling out every one, recorded as of the class or, not judged, meanwhile."""
        if not self.class_out(agent):
            return None
        kind = "an mTOR inhibitor" if agent.is_mtor_inhibitor else "an anthracycline"
        names = ", ".join(sorted({_agent_words(x.agent) for x in self.intolerances
                                  if x.agent.drugs & agent.drug_class}))
        return f"the record lists an allergy or intolerance to {kind} ({names})"

    def class_meanwhile(self, agent: Agent) -> bool:
        """Whether ``agent``'s class is ruled out only for want of the team's judgement
        whether an intolerance is of the class (:func:`~pecoma.case.class_undecided`,
        I15): ruled out meanwhile, the safer reading."""
        return bool(agent.drug_class) and class_undecided(agent.drug_class,
                                                          self.intolerances, self.therapies)

    @property
    def mtor_class_out(self) -> bool:
        """The mTOR inhibitors the list names rule out every one (:meth:`class_out`)."""
        return self.class_out(Agent.sirolimus)

    @property
    def mtor_first_line(self) -> Agent:
        """The mTOR inhibitor the first-line advice would start: the one a line shows
        tolerated beside one the list names (the advice is then that line, I15), else the
        first of sirolimus, everolimus, temsirolimus the list does not rule out by itself
        (an intolerance recorded as of that drug alone), else sirolimus."""
        if self.mtor_tolerated is not None:
            return self.mtor_tolerated
        out = mtor_ruled_out(self.intolerant)
        return next((a for a in (Agent.sirolimus, Agent.everolimus, Agent.temsirolimus)
                     if a not in out), Agent.sirolimus)

    def planned_orders(self, agent: Agent) -> tuple[Planned, ...]:
        """The record's orders not yet given of ``agent`` or, for an mTOR inhibitor, of
        any mTOR inhibitor (one stands for another: a second is not proposed beside
        it). An order of a topical product (:attr:`Planned.topical`: a sirolimus gel) is
        none."""
        return tuple(p for p in self.planned if not p.topical and (p.agent is agent or (
            agent.is_mtor_inhibitor and p.agent.is_mtor_inhibitor)))

    def ruled_out(self, agent: Agent, drugs: frozenset[str] = frozenset()) -> str | None:
        """Why a recorded intolerance rules out ``agent``, or an order of it naming
        ``drugs`` (:func:`pecoma.fhir.medications.drugs_of`), or ``None``."""
        if agent in self.intolerant:
            return ("the record lists an allergy or intolerance to "
                    f"{self._listed(agent.value, agent.value)}")
        twin = sorted(a.value for a in (agent.same_drug - {agent}) & self.intolerant)
        if twin:
            # sirolimus and nab-sirolimus (sirolimus bound to albumin) are one drug for
            # what an intolerance rules out (I15, Agent.same_drug)
            return (f"the record lists an allergy or intolerance to {', '.join(twin)}, the "
                    "same drug (nab-sirolimus is sirolimus bound to albumin)")
        if agent.is_mtor_inhibitor and self.mtor_class:
            return ("the record lists an allergy or intolerance to the mTOR-inhibitor class, "
                    "or to an mTOR inhibitor pecoma has no agent for")
        held = sorted(INGREDIENTS.get(agent, frozenset()) & self.ingredients)
        if held:
            # what the record lists: the drug, or the class holding it ("Anthracyclines")
            # when no entry names the drug itself
            classes = sorted({k for k, d in self.class_only if d in held})
            listed = (f"{' and '.join(k + 's' for k in classes)} (a class holding "
                      f"{', '.join(held)})"
                      if classes and set(held) <= {d for _k, d in self.class_only}
                      else ', '.join(held))
            # a drug of its own (epirubicin) is not said to contain itself
            holds = ("" if INGREDIENTS.get(agent, frozenset()) == frozenset(held)
                     and len(held) == 1
                     else f", which {agent.value.replace('_', ' ')} contains")
            return f"the record lists an allergy or intolerance to {listed}{holds}"
        same = [(w, d) for w, d in self.drugs if d in drugs]
        if same:
            # the entries are named by the EHR's ids, and the contraindication quotes the
            # record: escaped, as every word from the record on a card
            return ("the record lists an allergy or intolerance to "
                    f"{', '.join(sorted({self._listed(d, d) for _w, d in same}))} "
                    f"({', '.join(dict.fromkeys(md_text(w) for w, _d in same))})")
        klass = self.class_why(agent)
        if klass is not None:
            return klass
        if agent.is_mtor_inhibitor and self.mtor_contraindicated is not None:
            return ("the record says mTOR inhibitors are contraindicated "
                    f"({md_text(self.mtor_contraindicated)})")
        return None

    def _listed(self, key: str, words: str) -> str:
        """How the record lists a drug ruled out (``key``: the agent's value or the drug):
        by the class holding it when no entry names it otherwise ("alkylating agents (a
        class holding cyclophosphamide)"), else ``words``, its name."""
        classes = [k for k, m in self.in_class if m == key]
        return (f"{' and '.join(classes)} (a class holding {words.replace('_', '-')})"
                if classes else words)

    def unsure_of(self, drugs: frozenset[str]) -> list[tuple[str, str, str]]:
        """``(where, class, drug)`` of each entry whose class may or may not hold a drug
        of ``drugs`` (:attr:`unsure`)."""
        return [x for x in self.unsure if x[2] in drugs]

    def withheld(self, agent: Agent) -> str | None:
        """Why ``agent`` must not be proposed (every reason, joined), or ``None`` when the
        record allows it."""
        # what the record leaves unsettled, as every output made from it says it
        # (pecoma.fhir.caveats.drug_caveats: the CarePlan's too); the reasons quote the
        # record's values, its resources' ids and the EHR's answers: escaped, as in the
        # list of the parts of the record not read (cards.md_unknown)
        reasons = drug_caveats(history=self.history, allergies=self.unreadable,
                               vital_status=self.vital_status, escape=md_text)
        ruled = self.ruled_out(agent)
        if self.unreadable is not None:
            pass  # the list not read: what it rules out is not known in full (said above)
        elif ruled is not None:
            reasons.append(ruled)
        elif self.unidentified:
            reasons.append(f"{self.unidentified} drug allergy or intolerance entr"
                           f"{'y' if self.unidentified == 1 else 'ies'} in the record could "
                           "not be matched to a drug by pecoma; check them before ordering")
        return "; and ".join(reasons) or None


def drug_safety(allergies: Iterable[Mapping[str, Any]], unreadable: str | None,
                history: str | None = None, planned: Iterable[Planned] = (),
                mtor_contraindicated: str | None = None,
                therapies: Sequence[TherapyLine] = (),
                entry_modifiers: Mapping[int, str] | None = None,
                not_tolerated: Iterable[NotTolerated] = (),
                running: Iterable[Planned] = (),
                unclear: Iterable[NotTolerated] = (),
                resolve: Resolver = no_resolver) -> DrugSafety:
    """The :class:`DrugSafety` of a patient's AllergyIntolerance resources, and of the
    Conditions among ``allergies`` naming an allergy or adverse reaction to a drug
    (:func:`pecoma.fhir.allergies.condition_intolerance`: the problem list; ``unreadable``:
    why the list could not be read) and medication history (``history``: why it is not
    fully known; ``planned``: the medications planned, not yet given,
    :attr:`pecoma.fhir.reader.BundleCase.planned`; ``therapies``: the lines read, which
    may show an mTOR inhibitor tolerated beside one the list names, I15);
    ``mtor_contraindicated``: where the record says mTOR inhibitors are contraindicated
    other than by an allergy entry; ``entry_modifiers``: the modifierExtension URLs of
    the Bundle entries that carry some, by the identity of their resource;
    ``not_tolerated``: the medication records whose statusReason says their drug was not
    tolerated (:attr:`pecoma.fhir.reader.BundleCase.not_tolerated`), each ruling its drug
    out as an allergy entry naming it does; ``running``: the medications given now
    (:attr:`pecoma.fhir.reader.BundleCase.running`), checked as the planned ones are;
    ``unclear``: the medication records whose statusReason pecoma cannot tell is an
    intolerance or not (:attr:`pecoma.fhir.reader.BundleCase.unclear_stops`), each read
    by this same check as if it were one (:attr:`DrugSafety.unclear`). Each AdverseEvent
    among ``allergies`` is read by
    :func:`pecoma.fhir.allergies.adverse_event_intolerance`, its suspects resolved by
    ``resolve`` (the record's resources).

    An entry that cannot be read in full (:func:`pecoma.fhir.allergies.not_read_in_full`)
    makes the list unreadable, with why, as the FHIR reader makes that part of the record
    not read in full. What the entries read rule out still rules it out when the list is
    not read in full (an intolerance of sirolimus beside an entry withheld still makes a
    sirolimus draft a critical card)."""
    allergies, not_tolerated, running = list(allergies), list(not_tolerated), tuple(running)
    would = tuple((stop, drug_safety(allergies, unreadable, history, (),
                                     mtor_contraindicated, therapies, entry_modifiers,
                                     [*not_tolerated, stop], resolve=resolve))
                  for stop in unclear)
    listed = read_allergies(((f"{res.get('resourceType')}/{res.get('id')}", res)
                             for res in allergies), entry_modifiers, not_tolerated, resolve,
                            lines_given(therapies, ((x.agent, dt.date.today())
                                                    for x in running)))
    aside = listed.not_read_reason
    if aside is not None and (unreadable is None or aside not in unreadable):
        unreadable = aside if unreadable is None else f"{unreadable}; and {aside}"
    tolerated = mtor_tolerated_line(listed.intolerant, therapies)
    intolerances = listed.intolerances
    return DrugSafety(intolerances=intolerances, therapies=tuple(therapies),
                      unreadable=unreadable, intolerant=listed.intolerant,
                      unidentified=len(listed.unidentified),
                      unidentified_entries=listed.unidentified, asked=listed.asked,
                      history=history,
                      ingredients=listed.ingredients, drugs=listed.drugs,
                      class_only=listed.class_only, in_class=listed.in_class,
                      unsure=listed.unsure,
                      mtor_class=listed.mtor_class, planned=tuple(planned),
                      running=tuple(running), unclear=would,
                      mtor_contraindicated=mtor_contraindicated,
                      mtor_tolerated=None if tolerated is None else therapies[tolerated].agent)


def _agent_words(agent: Agent) -> str:
    """'sirolimus', 'nab-sirolimus', 'epirubicin with ifosfamide': an agent in words."""
    if agent is Agent.nab_sirolimus:
        return "nab-sirolimus"
    return agent.value.replace("_", " with ")


def class_meanwhile_words(agent: Agent) -> str:
    """What a card says of a drug of ``agent``'s class ruled out only for want of the
    team's judgement (:meth:`DrugSafety.class_meanwhile`, I15)."""
    kind = "mTOR inhibitor" if agent.is_mtor_inhibitor else "anthracycline"
    return (f"Whether that intolerance is of the class is not recorded, so every {kind} "
            "is ruled out meanwhile, the safer reading (interpretation I15); if the team "
            "records it as of that drug alone (an infusion reaction, say), the other "
            f"{kind}s are no longer ruled out by it.")


def drug_name(agent: Agent, drugs: frozenset[str]) -> str:
    """How a card names the drug of an order: its agent, or for an agent standing for many
    drugs (other chemotherapy, another agent) the drugs the order names."""
    if agent in CATCH_ALL and drugs:
        return ", ".join(sorted(drugs))
    return agent.value.replace("_", " ")


#: The knowledge record of the cards about an order of a drug the allergy list rules out,
#: or that cannot be checked against it (interpretation I15).
INTOLERANCE: Final = "ALERT-DRUG-INTOLERANCE"


def intolerance_item(*facts: Fact) -> Item:
    """The knowledge record of the allergy cards (the project's safety rule I15), with
    its provenance, as the engine builds every item."""
    return Item.of(template_of(load_knowledge(), INTOLERANCE), facts, ())


#: The drugs the guideline names besides the mTOR inhibitors: doxorubicin (S14), and
#: epirubicin with ifosfamide (S15).
GUIDELINE_DRUGS: Final = frozenset({Agent.doxorubicin, Agent.epirubicin, Agent.ifosfamide})


def guideline_drug(agent: Agent) -> bool:
    """Whether pecoma's own advice and allergy rules concern an order of ``agent``: an
    mTOR inhibitor (the guideline's first line, S02, S12, S13, and the class rule of an
    intolerance, I15), or an agent holding a drug the guideline names (doxorubicin,
    epirubicin, ifosfamide, and the regimens holding them: S14, S15, the rule between
    the anthracyclines and the one of a drug inside a regimen, I15). An order of any
    other drug (methotrexate, cyclophosphamide, bevacizumab, dacarbazine, pazopanib) is
    checked against what the allergy list read rules out, but when the list could not be
    read that is the EHR's own drug-allergy check, which pecoma adds nothing to: the
    "could not be checked" warning beside a list not read is for these drugs only (and
    their systemic products), so that it is not raised on every order a PEComa patient
    gets. Beside entries pecoma cannot identify, every drug's draft gets it (any entry may
    be to the drug ordered)."""
    return agent.is_mtor_inhibitor or bool(agent.drugs & GUIDELINE_DRUGS)


def md_unsettled(item: Item) -> str:
    """The knowledge record of the allergy cards (``item``) on a card that could not settle
    the check (the list not read, entries not identified, a drug not identified): the
    rule said as what pecoma would have checked, never as what the record holds, with
    the record's provenance."""
    lines = ["**The check not made: a drug ordered that the allergy list rules out "
             "(interpretation I15)** — when the patient's record lists an active allergy "
             "or intolerance to the drug ordered, to a drug it holds or, for an mTOR "
             "inhibitor or an anthracycline, to another drug of its class that rules the "
             "class out, pecoma gives a critical card and never proposes the drug. Here "
             "the check could not be settled (the card says why): this is no statement "
             "that the record lists such an allergy to the drug ordered, nor that it does "
             "not.",
             "", f"*Why:* {item.rationale}", "", f"*Source:* {item.provenance.label}"]
    lines += [f"  \n{src.citation}" for src in item.provenance.sources]
    return "\n".join(lines)


def ruled_out_card(answer: Answer, *, order: str, name: str, why: str, summary: str,
                   detail: str) -> None:
    """The critical card for an order (``order``: "draft order", "order planned") of the
    drug ``name`` that the allergy list rules out (``why``), under the knowledge record of
    the allergy cards."""
    item = intolerance_item(Fact(order, name), Fact("allergy list", why))
    answer.card(summary=summary, indicator="critical", version=load_knowledge().version,
                detail=f"{detail}\n\n{md_item(item)}", record_ids=(item.id,), topic=item)


#: A drug of one order (its agent, and the drugs it names when that agent stands for
#: many) that nothing read rules out but that medication records stopped for a reason
#: pecoma cannot judge would, each record with why it would
#: (:meth:`DrugSafety.unjudged`).
Unjudged = tuple[Agent, frozenset[str], list[tuple[NotTolerated, str]]]


def unjudged_of(safety: DrugSafety, checked: Iterable[tuple[Agent, frozenset[str]]]
                ) -> list[Unjudged]:
    """The drugs of one order (``checked``: every agent it names, with its drugs) that
    records stopped for a reason pecoma cannot judge would rule out were the reason an
    intolerance, and nothing read rules out (that is the critical card alone): the one
    rule of the "could not be checked" warning, for a draft on order-select as for an
    order in the record on patient-view. Every drug concerned, each once."""
    out: list[Unjudged] = []
    for agent, drugs in checked:
        if safety.ruled_out(agent, drugs) is not None or any(
                a is agent and d == drugs for a, d, _s in out):
            continue
        stops = safety.unjudged(agent, drugs)
        if stops:
            out.append((agent, drugs, stops))
    return out


def drugs_named(names: Sequence[str]) -> str:
    """'sirolimus', 'sirolimus and doxorubicin', 'a, b and c': every drug, in order."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def unjudged_stops_card(answer: Answer, concerned: Sequence[Unjudged], *, order: str,
                        said: str, ident: str, check: str) -> None:
    """The warning for one order whose drugs medication records stopped for a reason
    pecoma cannot judge would rule out were that reason an intolerance (``concerned``:
    :func:`unjudged_of`, not empty): everolimus stopped for "mouth ulcers, could not
    continue" beside a sirolimus order. Unknown is not absent: the order could not be
    checked against them, and the card names every drug concerned and every record, its
    drug and its reason, and what it would rule out, never passing in silence.

    ``order``: "Draft order", "Order"; ``said``: what follows the drugs in the summary
    ("", " given now in the record"); ``ident``: the order, as its record is named (the
    EHR's id, escaped); ``check``: when to check ("before ordering")."""
    names = list(dict.fromkeys(drug_name(agent, drugs) for agent, drugs, _s in concerned))
    name = drugs_named(names)
    # each record once, with what it would rule out of every drug concerned
    whys: dict[str, tuple[NotTolerated, list[str]]] = {}
    for _agent, _drugs, stops in concerned:
        for stop, why in stops:
            held = whys.setdefault(stop.where, (stop, []))[1]
            if why not in held:
                held.append(why)
    n, one = len(whys), len(whys) == 1
    shown = "; ".join(
        f"{md_text(stop.where)} ({drug_name(stop.agent, stop.drugs)}, "
        + (f"a do-not-perform order for \"{md_text(stop.reason.removeprefix(FORBIDDEN))}\""
           if stop.reason.startswith(FORBIDDEN) else
           f"stopped or held for \"{md_text(stop.reason)}\"")
        + f"): if that was an intolerance, {'; and '.join(why)}"
        for stop, why in whys.values())
    item = intolerance_item(
        Fact(order.lower() + said.replace(" in the record", ""), name),
        Fact("reasons for stopping not judged",
             "; ".join(f"{stop.where}: {stop.reason}" for stop, _why in whys.values())))
    answer.card(
        summary=(f"{order} of {name}{said} could not be checked against {n} medication "
                 f"record{'' if one else 's'} stopped for a reason pecoma cannot judge"),
        indicator="warning", version=load_knowledge().version,
        detail=(f"{ident} orders {name}. pecoma cannot tell whether the reason "
                f"{'its' if one else 'each'} record gives says the drug was not tolerated: "
                f"{shown}. Check {'it' if one else 'them'} {check}; if the drug "
                "was not tolerated, record the intolerance (an AllergyIntolerance, or a "
                "statusReason saying so); if not, a statusReason saying why it stopped."
                "\n\n" + md_unsettled(item)),
        record_ids=(item.id,), topic=item,
    )
