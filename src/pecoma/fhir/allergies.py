"""What an AllergyIntolerance says about the drugs pecoma may name: one reading.

The FHIR reader (``pecoma fhir to-case``, the SMART launch) and the CDS services' allergy
check (the order-select critical card, the proposals of both services) read each entry
with :func:`read_allergy`, so that no path clears an entry another path doubts:

* an entry that is inactive or resolved (every clinicalStatus code it holds says so: one
  saying ``active`` beside ``inactive`` is counted), refuted or entered in error, or that records no
  known allergy (SNOMED CT 716186003, 409137002, 428607008, 429625007: US Core's way to
  record none) is *left aside*: it is no allergy to anything;
* the substance is read from the entry's ``code``, else from its reactions' substances
  (an entry coded "Allergy to drug" leaves the drug to them), each by the project's code,
  an RxNorm or ATC code pecoma knows, or a name in the text or a display
  (:mod:`pecoma.fhir.medications`);
* an entry naming an agent of the case format, a drug one of them holds (ifosfamide in
  epirubicin with ifosfamide), the mTOR-inhibitor class or an mTOR inhibitor that is none
  of the case format's agents (ridaforolimus; ATC L01EG), or an ATC group holding the
  mTOR inhibitors (L01, L01E), is *identified* and rules those drugs out;
* an entry naming a drug pecoma files under a catch-all agent ("other chemotherapy",
  "another agent": paclitaxel, gemcitabine, vincristine, pembrolizumab; by name, brand
  or RxNorm code) is *identified* and rules out an order of that same drug
  (:data:`pecoma.fhir.medications.DRUG_NAMES`), not of another drug filed under the
  same agent;
* an entry naming a substance that is no anticancer drug and holds none (penicillin by
  name or RxNorm code, a food, latex: :data:`pecoma.fhir.codes.NOT_ANTICANCER_NAMES`) is
  *identified* and rules no PEComa drug out;
* any other entry that may be to a drug (category ``medication`` or ``biologic``, or none
  usable; or any category when the substance is an RxNorm or ATC code pecoma cannot read,
  named by no text: those codes are drugs', and a category may be mistyped) is *not
  identified*:
  "Allergy to drug" with no substance, a text that names no substance pecoma knows, a
  code it does not know. It could be to a drug pecoma proposes: the reader keeps no "mTOR
  inhibitor not contraindicated", and the CDS services propose nothing, naming how many
  entries to check. ``unconfirmed`` entries count;
* an entry is cleared only when *everything* it names is identified: its code's text,
  displays and codings and every reaction's substance
  (:func:`pecoma.fhir.medications.unread_words`). A part pecoma cannot identify beside
  a name it knows ("Penicillin; tacrolimus", "Sulfa, macrolides", "Non-penicillin
  antibiotic", penicillin coded with an unknown drug as the reaction's substance) makes
  a drug allergy *not identified* too; an mTOR inhibitor named anywhere in it is still
  read as an intolerance of it (which rules out every mTOR inhibitor unless another one
  is shown tolerated, I15);
* an entry naming a substance near an mTOR inhibitor
  (:data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`: the macrolides, tacrolimus,
  polysorbate 80, albumin) is *not identified* whatever its category.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pecoma.case import Agent
from pecoma.fhir import medications as meds

__all__ = ["AllergyList", "AllergyReading", "read_allergies", "read_allergy"]

_INACTIVE: Final = frozenset({"inactive", "resolved"})
_IGNORED: Final = frozenset({"refuted", "entered-in-error"})
#: Agents that stand for many drugs: an allergy to one of them (vincristine) says nothing
#: of another (etoposide), so it rules none out by the agent (the drugs it names still do:
#: an allergy to paclitaxel rules out an order of paclitaxel, :attr:`AllergyReading.drugs`).
CATCH_ALL: Final = frozenset({Agent.other_chemotherapy, Agent.other})


def _codes(concept: Any) -> list[str]:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return [str(cd.get("code")) for cd in (codings if isinstance(codings, list) else [])
            if isinstance(cd, dict) and cd.get("code") is not None]


@dataclass(frozen=True, slots=True)
class AllergyReading:
    """What one AllergyIntolerance says: left aside (with why), or the drugs it names, or
    a substance that is no anticancer drug, or nothing identified."""

    #: Why the entry is no allergy to anything (inactive, refuted, "no known allergy").
    left_aside: str | None = None
    #: The agents of the case format it names, the catch-all ones excluded.
    agents: frozenset[Agent] = frozenset()
    #: The drugs of :data:`~pecoma.fhir.medications.INGREDIENTS` it names.
    ingredients: frozenset[str] = frozenset()
    #: The drugs it names one by one (:data:`~pecoma.fhir.medications.DRUG_NAMES`: by
    #: name or RxNorm code, whatever agent pecoma files them under; no class): an order
    #: of one of them is ruled out.
    drugs: frozenset[str] = frozenset()
    #: It names the mTOR-inhibitor class, an mTOR inhibitor that is none of the case
    #: format's agents, or an ATC group holding the mTOR inhibitors.
    mtor_class: bool = False
    #: The first mTOR inhibitor named (an agent, or ``"class"``), for the reader's note.
    mtor_named: Agent | str | None = None
    #: A substance it names that is no anticancer drug ("penicillin"), or what it names
    #: that pecoma files elsewhere (another cytotoxic).
    other: str | None = None
    #: It may be to a drug, and names no substance pecoma can identify or, beside those
    #: it identifies, something it cannot (a drug it does not list, tacrolimus, a
    #: negation): the names it identifies still count, but the entry is not cleared.
    unidentified: bool = False
    #: When ``unidentified``, what it names that pecoma cannot identify (at most five
    #: words or codes; empty when it names nothing at all).
    not_identified: tuple[str, ...] = ()

    @property
    def rules_out_mtor(self) -> bool:
        """Whether every mTOR inhibitor is ruled out (one of them, or the class)."""
        return self.mtor_named is not None


def read_allergy(allergy: Mapping[str, Any]) -> AllergyReading:
    """The reading of one AllergyIntolerance (see the module's rules)."""
    verification = [c for c in _codes(allergy.get("verificationStatus")) if c in _IGNORED]
    if verification:
        return AllergyReading(left_aside=f"verificationStatus '{verification[0]}'")
    status = set(_codes(allergy.get("clinicalStatus")))
    if status and status <= _INACTIVE:  # "active" beside "inactive": not settled, counted
        return AllergyReading(left_aside="inactive or resolved")
    if meds.records_no_allergy(allergy):
        return AllergyReading(left_aside="records no known allergy (no allergy to anything)")
    agents: set[Agent] = set()
    ingredients: set[str] = set()
    named_drugs: set[str] = set()
    mtor_class = False
    mtor_named: Agent | str | None = None
    other: str | None = None
    unread: list[str] = []
    near: list[str] = []
    for concept in meds.allergy_substances(allergy):
        unread += meds.unread_words(concept)
        near += [n for n in [meds.never_cleared_named(concept)] if n is not None]
        agent = meds.agent_of_concept(concept)
        klass = meds.mtor_class_named(concept) or meds.mtor_group_coded(concept)
        drugs = meds.ingredients_named(concept)
        if agent is not None and agent.is_mtor_inhibitor and mtor_named is None:
            mtor_named = agent
        if klass and mtor_named is None:
            mtor_named = "class"
        if agent is not None and agent not in CATCH_ALL:
            agents.add(agent)
        elif agent is not None and other is None:
            other = agent.value.replace("_", " ")
        mtor_class = mtor_class or klass
        ingredients |= drugs
        named_drugs |= meds.drugs_named(concept)
        if agent is None and not klass and not drugs and other is None:
            other = meds.not_anticancer_named(concept)
    named = bool(agents or ingredients or mtor_class or other)
    # an RxNorm or ATC code pecoma cannot read is a drug's whatever the category says
    # (a mistyped category): it may be to a drug pecoma proposes
    coded_unknown = any(u.startswith((f"{meds.RXNORM}|", f"{meds.ATC}|")) for u in unread)
    unidentified = bool(near) or (
        (not named or bool(unread))
        and (meds.allergy_may_be_to_a_drug(allergy) or coded_unknown))
    return AllergyReading(
        agents=frozenset(agents), ingredients=frozenset(ingredients),
        drugs=frozenset(named_drugs), mtor_class=mtor_class,
        mtor_named=mtor_named, other=other, unidentified=unidentified,
        not_identified=tuple(dict.fromkeys(near + unread))[:5] if unidentified else ())


@dataclass(frozen=True, slots=True)
class AllergyList:
    """What a patient's allergy list rules out, entry by entry."""

    #: ``(where, reading)`` of each AllergyIntolerance, in the order given.
    entries: tuple[tuple[str, AllergyReading], ...] = ()

    @property
    def intolerant(self) -> frozenset[Agent]:
        return frozenset(a for _w, r in self.entries for a in r.agents)

    @property
    def ingredients(self) -> frozenset[str]:
        return frozenset(d for _w, r in self.entries for d in r.ingredients)

    @property
    def drugs(self) -> tuple[tuple[str, str], ...]:
        """``(where, drug)`` of each drug an entry names one by one
        (:attr:`AllergyReading.drugs`)."""
        return tuple((w, d) for w, r in self.entries for d in sorted(r.drugs))

    @property
    def mtor_class(self) -> bool:
        return any(r.mtor_class for _w, r in self.entries)

    @property
    def mtor(self) -> tuple[tuple[str, Agent | str], ...]:
        """``(where, agent or 'class')`` of each entry ruling every mTOR inhibitor out."""
        return tuple((w, r.mtor_named) for w, r in self.entries if r.mtor_named is not None)

    @property
    def unidentified(self) -> tuple[str, ...]:
        """Where each drug allergy is whose substance is not identified."""
        return tuple(w for w, r in self.entries if r.unidentified)


def read_allergies(allergies: Iterable[tuple[str, Mapping[str, Any]]]) -> AllergyList:
    """The readings of ``(where, AllergyIntolerance)`` pairs (other resources skipped)."""
    return AllergyList(tuple((where, read_allergy(res)) for where, res in allergies
                             if res.get("resourceType") == "AllergyIntolerance"))
