"""Whether a drug may be proposed, given the allergy list and the medication history.

A drug is proposed on a card (a suggestion that drafts an order) only when the patient's
AllergyIntolerance list was read and nothing on it rules the drug out, and the lines of
systemic therapy already given are known:

* the medication history could not be read in full (a medication search null or an
  OperationOutcome and not fetched, or a medication record whose drug pecoma cannot
  identify): which line a drug would be is not known, so nothing is proposed and every
  recommendation naming a drug is conditional, with the reason;

* the list could not be read (prefetch null or an OperationOutcome, the FHIR server not
  allowed or failing): nothing is proposed, and the card says why;
* an active intolerance to the agent rules the agent out, as does one to a drug it holds
  (ifosfamide rules out epirubicin with ifosfamide); one to any mTOR inhibitor rules out
  every mTOR inhibitor (the reader takes it as a class contraindication), and so does one
  to the class, or to an mTOR inhibitor that is none of the case format's agents
  (ridaforolimus; ATC L01EG); the substance is read from the entry's code, else from its
  reactions' substances;
* an active drug allergy (category ``medication``, or no category) whose substance
  pecoma cannot identify could be to the drug: nothing is proposed, and the card names
  how many entries could not be identified.

Entries that are inactive, resolved, refuted or entered in error are left aside; an
``unconfirmed`` entry counts (the safer reading). An entry coded "no known allergy" (SNOMED
CT 716186003, 409137002 drug, 428607008 environmental, 429625007 food: US Core's way to
record none) is no allergy to anything, not one whose drug cannot be identified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pecoma.case import Agent
from pecoma.fhir.medications import (
    INGREDIENTS,
    agent_of_concept,
    allergy_may_be_to_a_drug,
    allergy_substances,
    ingredients_named,
    mtor_class_named,
    records_no_allergy,
)

__all__ = ["DrugSafety", "drug_safety"]

_INACTIVE = {"inactive", "resolved"}
#: Agents that stand for many drugs: an allergy to one of them (vincristine) says nothing
#: of another (etoposide), so it rules none out by the agent (named ingredients still do).
_CATCH_ALL = frozenset({Agent.other_chemotherapy, Agent.other})
_IGNORED = {"refuted", "entered-in-error"}


def _codes(concept: Any) -> set[str]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return {str(cd.get("code")) for cd in (codings if isinstance(codings, list) else [])
            if isinstance(cd, dict)}


@dataclass(frozen=True, slots=True)
class DrugSafety:
    """What the allergy list allows: read or not, agents ruled out, entries not identified."""

    unreadable: str | None = None
    intolerant: frozenset[Agent] = frozenset()
    unidentified: int = 0
    #: Drugs an agent may be made of (:data:`~pecoma.fhir.medications.INGREDIENTS`)
    #: that an active allergy names.
    ingredients: frozenset[str] = frozenset()
    #: Why the lines of systemic therapy already given are not fully known, if they are not.
    history: str | None = None
    #: An active allergy names the mTOR-inhibitor class, or an mTOR inhibitor that is none
    #: of the case format's agents (ridaforolimus, ATC L01EG): every one is ruled out.
    mtor_class: bool = False

    def ruled_out(self, agent: Agent) -> str | None:
        """Why a recorded intolerance rules ``agent`` out, or ``None``."""
        if agent in self.intolerant:
            return f"the record lists an allergy or intolerance to {agent.value}"
        if agent.is_mtor_inhibitor and self.mtor_class:
            return ("the record lists an allergy or intolerance to the mTOR-inhibitor class, "
                    "or to an mTOR inhibitor pecoma has no agent for")
        if agent.is_mtor_inhibitor and any(a.is_mtor_inhibitor for a in self.intolerant):
            names = ", ".join(sorted(a.value for a in self.intolerant if a.is_mtor_inhibitor))
            return f"the record lists an allergy or intolerance to an mTOR inhibitor ({names})"
        held = sorted(INGREDIENTS.get(agent, frozenset()) & self.ingredients)
        if held:
            return (f"the record lists an allergy or intolerance to {', '.join(held)}, "
                    f"which {agent.value.replace('_', ' ')} contains")
        return None

    def withheld(self, agent: Agent) -> str | None:
        """Why ``agent`` must not be proposed (every reason, joined), or ``None`` when the
        record allows it."""
        reasons = []
        if self.history is not None:
            reasons.append("the lines of systemic therapy already given are not fully known "
                           f"({self.history})")
        ruled = self.ruled_out(agent)
        if self.unreadable is not None:
            reasons.append("the patient's allergies and intolerances could not be read "
                           f"({self.unreadable})")
        elif ruled is not None:
            reasons.append(ruled)
        elif self.unidentified:
            reasons.append(f"{self.unidentified} drug allergy or intolerance entr"
                           f"{'y' if self.unidentified == 1 else 'ies'} in the record could "
                           "not be matched to a drug by pecoma; check them before ordering")
        return "; and ".join(reasons) or None


def drug_safety(allergies: Iterable[Mapping[str, Any]], unreadable: str | None,
                history: str | None = None) -> DrugSafety:
    """The :class:`DrugSafety` of a patient's AllergyIntolerance resources (``unreadable``:
    why the list could not be read) and medication history (``history``: why it is not
    fully known)."""
    if unreadable is not None:
        return DrugSafety(unreadable=unreadable, history=history)
    intolerant: set[Agent] = set()
    ingredients: set[str] = set()
    unidentified = 0
    mtor_class = False
    for res in allergies:
        if res.get("resourceType") != "AllergyIntolerance":
            continue
        if _codes(res.get("clinicalStatus")) & _INACTIVE:
            continue
        if _codes(res.get("verificationStatus")) & _IGNORED:
            continue
        if records_no_allergy(res):
            continue  # "no known (drug) allergy": no allergy to anything
        named = False
        for concept in allergy_substances(res):
            agent = agent_of_concept(concept)
            drugs = ingredients_named(concept)
            klass = agent is None and mtor_class_named(concept)
            if agent is not None and agent not in _CATCH_ALL:
                intolerant.add(agent)
            mtor_class = mtor_class or klass
            ingredients |= drugs
            named = named or agent is not None or klass or bool(drugs)
        if not named and allergy_may_be_to_a_drug(res):
            unidentified += 1
    return DrugSafety(intolerant=frozenset(intolerant), unidentified=unidentified,
                      history=history, ingredients=frozenset(ingredients),
                      mtor_class=mtor_class)
