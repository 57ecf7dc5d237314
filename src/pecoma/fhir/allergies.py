"""What an AllergyIntolerance says about the drugs pecoma may name: one reading.

The FHIR reader (``pecoma fhir to-case``, the SMART launch) and the CDS services' allergy
check (the order-select critical card, the proposals of both services) read each entry
with :func:`read_allergy`, so that no path clears an entry another path doubts:

* an entry that cannot be read in full is *not read* (:func:`not_read_in_full`): one
  carrying a modifierExtension pecoma does not understand, on itself, on an element within
  it (a reaction) or on its Bundle entry (FHIR: it may change what the entry means, and is
  never read as if it were absent), or one whose ``meta`` labels it ``REDACTED`` or
  ``SUBSETTED`` (information withheld from it:
  :func:`pecoma.fhir.searches.withheld_label`). It neither rules a drug out nor clears
  one, and it leaves the allergy list *not read in full* (:attr:`AllergyList.not_read`):
  nothing is proposed, and the reader keeps no "mTOR inhibitor not contraindicated";
* an entry that is inactive or resolved (every clinicalStatus code it holds says so: one
  saying ``active`` beside ``inactive`` is counted, with a note naming the contradiction),
  refuted or entered in error (every verificationStatus code of the value set it holds
  says so: one saying ``confirmed``, ``unconfirmed`` or ``presumed`` beside ``refuted`` is
  counted, with a note, the safer reading), each status read only in the code system
  FHIR R4 binds it to (allergyintolerance-clinical, allergyintolerance-verification: a
  ``refuted`` or ``inactive`` of another code system or of none is not FHIR's, and sets
  nothing aside: the entry is counted, with a note naming the field and the code), or
  that records no
  known allergy (SNOMED CT 716186003, 409137002, 428607008, 429625007: US Core's way to
  record none) and says nothing more (:func:`pecoma.fhir.medications.records_no_allergy`:
  no reaction substance, no description, manifestation or note naming a drug pecoma
  knows, nor a substance as an exception, "except for Zortrex") is *left aside*: it is no
  allergy to anything;
* what an entry says in words (each reaction's ``description``, each ``note``:
  :func:`pecoma.fhir.medications.allergy_narratives`; each reaction's ``manifestation``)
  adds the drugs pecoma knows there, which are ruled out, and nothing else: its other
  words ("patient reports hives as a child", "reviewed by pharmacist") name no substance
  and never make an entry not identified. Whether an entry is identified rests on what
  it says its substance is: its code and its reactions' substances. One exception: an
  entry recording no known allergy whose note or reaction description names a substance
  as an exception or as an allergy stated ("except for Zortrex", "allergic to XY-123":
  :func:`pecoma.fhir.medications.substances_said`) that pecoma cannot identify
  contradicts itself, and is *not identified*. A class of drugs, or a drug they say was
  taken without a reaction ("No reaction to sirolimus"), named only in those words
  (:func:`pecoma.fhir.medications.classes_said`: "Patient currently on
  antineoplastic therapy", "Reaction during alkylating agent infusion") while the
  entry's substance is identified as something else (penicillin, doxorubicin) is no
  allergen it records: it rules nothing out and clears nothing, the entry is *not
  identified* (asked), its words quoted; an entry whose substance is the class, or whose
  substance is not identified, or that records no known allergy "except alkylating
  agents", rules the class out;
* the substance is read from the entry's ``code`` and its reactions' substances (an
  entry coded "Allergy to drug" leaves the drug to them), each by the project's code,
  an RxNorm or ATC code pecoma knows, or a name in the text or a display
  (:mod:`pecoma.fhir.medications`); **every** drug they name is read, never only the
  first one (:func:`pecoma.fhir.medications.agents_named`: an RxNorm sirolimus coding
  with the text "Everolimus" names both);
* an entry naming an agent of the case format, a drug one of them holds (ifosfamide in
  epirubicin with ifosfamide), the mTOR-inhibitor class or an mTOR inhibitor that is none
  of the case format's agents (ridaforolimus; ATC L01EG), or an ATC group holding the
  mTOR inhibitors (L01, L01E), is *identified* and rules those drugs out;
* an entry naming a class of anticancer drugs
  (:func:`pecoma.fhir.medications.drug_classes`: the antineoplastic agents, by words,
  Epic's drug-class allergen or ATC L01, holding every drug pecoma may propose; the
  alkylating agents, ATC L01A; an ATC group read by its hierarchy, L01DB holding
  doxorubicin, L01XE before 2021 the mTOR inhibitors) rules out every drug pecoma knows
  in it, each as if named (:attr:`AllergyReading.classes` says which class, for the
  cards); a group pecoma cannot resolve in full (L01X, L04AA), or a code under L01 it
  does not list, leaves the entry *not identified* beside them; the drugs some lists
  count in a class it does not hold (the platinum compounds beside the alkylating
  agents) are neither ruled out nor cleared (:attr:`AllergyReading.unsure`: asked);
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
  code it does not know. It could be to a drug pecoma proposes: the reader records it as
  an intolerance of ``other`` (a drug the case format names no agent for, whose drug the
  engine asks, I15) and keeps no "mTOR inhibitor not contraindicated", and the CDS
  services propose nothing, naming how many entries to check. ``unconfirmed`` entries
  count;
* an entry is cleared only when *everything* it names as its substance is identified:
  its code's text, displays and codings (bar a code recording no known allergy) and every
  reaction's substance
  (:func:`pecoma.fhir.medications.unread_words`). A part pecoma cannot identify beside
  a name it knows ("Penicillin; tacrolimus", "Sulfa, macrolides", "Non-penicillin
  antibiotic", penicillin coded with an unknown drug as the reaction's substance) makes
  a drug allergy *not identified* too; an mTOR inhibitor named anywhere in it is still
  read as an intolerance of it (which rules out every mTOR inhibitor unless another one
  is shown tolerated, I15);
* a medication record whose ``statusReason`` says its drug was not tolerated
  (:class:`pecoma.fhir.reading.NotTolerated`, :func:`intolerance_of`) is read as an
  entry naming that drug;
* the project's extension ``intolerance-class-wide`` (``valueCode`` ``yes``, ``no`` or
  ``unknown``) is the team's judgement whether the intolerance is of the drug's class
  (``systemic.intolerances[].class_wide``, I15), read for an mTOR inhibitor or an
  anthracycline (or a regimen holding one) it names; without it, or with a code it does
  not know (noted), the judgement is unknown. Several entries naming one drug: 'yes' if
  one says so, else unknown if one does not say, else 'no' (the safer reading,
  :meth:`AllergyList.class_wide`); an entry naming a regimen (epirubicin with
  ifosfamide) judges that regimen's row, not the row of a drug it holds that another
  entry names (epirubicin): each row keeps the judgement recorded on it, as in a case;
* an entry coded only by the project's code of a catch-all agent of the case format,
  its words saying no more (``pecoma#agent-other`` "other", ``pecoma#agent-other-
  chemotherapy`` "other chemotherapy": how the project's writer records those rows of
  ``systemic.intolerances``, :func:`case_row`), is read back as that row: "other
  chemotherapy" as the row it is; "other" as a drug not identified, which is what it
  says (:attr:`AllergyReading.recorded_other`);
* an entry naming a substance near an mTOR inhibitor
  (:data:`pecoma.fhir.codes.NEVER_CLEARED_NAMES`: the macrolides, tacrolimus,
  polysorbate 80, albumin) is *not identified* whatever its category.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from pecoma.case import Agent, Intolerance, TherapyLine, YesNo
from pecoma.errors import show_value
from pecoma.fhir import codes as c
from pecoma.fhir import mcode
from pecoma.fhir import medications as meds
from pecoma.fhir.reading import NotTolerated, bound_status, extension_code, modifier_urls
from pecoma.fhir.references import no_resolver, type_named
from pecoma.fhir.searches import withheld_label

__all__ = ["AllergyList", "AllergyReading", "adverse_event_intolerance", "case_row",
           "condition_intolerance",
           "intolerance_of", "lines_given", "not_read_in_full", "read_allergies",
           "read_allergy"]

_INACTIVE: Final = frozenset({"inactive", "resolved"})
_IGNORED: Final = frozenset({"refuted", "entered-in-error"})
#: The other codes of the verificationStatus value set (FHIR R4
#: allergyintolerance-verification): an entry that also holds one of them is not settled
#: as refuted.
_AFFIRMED: Final = frozenset({"confirmed", "unconfirmed", "presumed"})
#: Agents that stand for many drugs: an allergy to one of them (vincristine) says nothing
#: of another (etoposide), so it rules none out by the agent (the drugs it names still do:
#: an allergy to paclitaxel rules out an order of paclitaxel, :attr:`AllergyReading.drugs`).
CATCH_ALL: Final = frozenset({Agent.other_chemotherapy, Agent.other})


@dataclass(frozen=True, slots=True)
class AllergyReading:
    """What one AllergyIntolerance says: left aside (with why), or the drugs it names, or
    a substance that is no anticancer drug, or nothing identified."""

    #: Why the entry cannot be read in full (:func:`not_read_in_full`): it names nothing
    #: and clears nothing, and the list is not read in full.
    not_read: str | None = None
    #: Why the entry is no allergy to anything (inactive, refuted, "no known allergy").
    left_aside: str | None = None
    #: A status the entry states two ways that disagree (``confirmed`` beside
    #: ``refuted``): the entry is counted (the safer reading), and a note says why.
    doubt: str | None = None
    #: The agents of the case format it names, the catch-all ones excluded (but for the
    #: case format's own row "other chemotherapy", :func:`case_row`).
    agents: frozenset[Agent] = frozenset()
    #: The drugs of :data:`~pecoma.fhir.medications.INGREDIENTS` it names.
    ingredients: frozenset[str] = frozenset()
    #: ``(class, drug)`` for each drug of ``ingredients`` it holds only by a class it
    #: names (:func:`~pecoma.fhir.medications.classes_named`: "Anthracyclines").
    by_class: tuple[tuple[str, str], ...] = ()
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
    #: The team's judgement whether the intolerance is of the drug's class (the project's
    #: extension ``intolerance-class-wide``): unknown when the entry does not say.
    class_wide: YesNo = YesNo.unknown
    #: Why the extension was not read (a code it does not know), or ``None``.
    class_wide_note: str | None = None
    #: It is a Condition of the record (the problem list) naming an allergy or an adverse
    #: reaction to a drug (:func:`condition_intolerance`), not an AllergyIntolerance.
    problem_list: bool = False
    #: It is an AdverseEvent (:func:`adverse_event_intolerance`): a reaction recorded with
    #: the drug suspected of it, not an AllergyIntolerance.
    adverse_event: bool = False
    #: Why an AdverseEvent's suspected drug is asked rather than ruled out (a causality
    #: judged unlikely, a mild event that resolved): the drugs it names are in
    #: ``not_identified``, nothing is ruled out by them, and the entry is read as a drug
    #: not identified (the advice proposing one waits on the answer).
    asked: str | None = None
    #: It is the case format's own row ``other`` (:func:`case_row`): a drug the team
    #: recorded as not identified, with the case, not an entry pecoma failed to read.
    recorded_other: bool = False
    #: ``(class, drug)`` for each drug (or agent, by its value) it rules out as one of a
    #: class it names (:func:`pecoma.fhir.medications.drug_classes`: "alkylating
    #: agents" holds cyclophosphamide): what the cards say the record lists.
    classes: tuple[tuple[str, str], ...] = ()
    #: ``(class, drug)`` for each drug some allergy lists count in a class it names that
    #: the class does not hold by its definition (the platinum compounds beside the
    #: alkylating agents): not ruled out; a draft of one could not be checked (asked).
    unsure: tuple[tuple[str, str], ...] = ()

    @property
    def rules_out_mtor(self) -> bool:
        """Whether every mTOR inhibitor is ruled out (one of them, or the class)."""
        return self.mtor_named is not None

    @property
    def mtor_agents(self) -> tuple[Agent | str, ...]:
        """Every mTOR inhibitor it names (in the order of
        :data:`pecoma.fhir.codes.AGENT_NAMES`), then ``"class"`` when it names the
        class: each is read, with a note."""
        return (*(a for a, _names in c.AGENT_NAMES
                  if a in self.agents and a.is_mtor_inhibitor),
                *(("class",) if self.mtor_class or self.mtor_named == "class" else ()))


def not_read_in_full(allergy: Mapping[str, Any], entry_modifiers: str = "") -> str | None:
    """Why an AllergyIntolerance cannot be read in full, or ``None``: it carries a
    modifierExtension pecoma does not understand (on itself, on an element within it, or,
    ``entry_modifiers``, on its Bundle entry), or its ``meta`` labels it as withheld
    (``REDACTED``, ``SUBSETTED``). The FHIR reader and the CDS services both ask this of
    every entry, so that no path reads an entry another path sets aside."""
    said = modifier_urls(allergy) or entry_modifiers
    if said:
        return (f"it carries a modifierExtension pecoma does not understand ({said}), which "
                "may change what it means")
    label = withheld_label(allergy)
    if label is not None:
        return f"it is {label}"
    return None


def _doubt(field: str, codes: list[str], one: frozenset[str], other: frozenset[str]
           ) -> str | None:
    """The note for a status coded two ways that disagree (a code of ``one`` beside a
    code of ``other``), or ``None``."""
    first = next((c for c in codes if c in one), None)
    second = next((c for c in codes if c in other), None)
    if first is None or second is None:
        return None
    return (f"its {field} says both '{second}' and '{first}': the entry is counted (the "
            "safer reading); check it in the record")


def case_row(allergy: Mapping[str, Any]) -> Agent | None:
    """The catch-all agent of the case format (``other``, ``other_chemotherapy``) an
    entry records as the project's writer records a row of ``systemic.intolerances``:
    its one substance (its ``code``, no reaction substance) coded only by the project's
    code of that agent, its text and displays (if any) that agent's name ("other",
    "other chemotherapy"); ``None`` for any other entry (an EHR's, or one saying more)."""
    substances = meds.allergy_substances(allergy)
    if len(substances) != 1 or substances[0] is not allergy.get("code"):
        return None
    concept = substances[0]
    codings = concept.get("coding")
    if not isinstance(codings, list) or not codings or not all(
            isinstance(cd, dict) and cd.get("system") == c.PECOMA_SYSTEM for cd in codings):
        return None
    agents = {c.AGENT_BY_CODE.get(str(cd.get("code"))) for cd in codings}
    agent = agents.pop() if len(agents) == 1 else None
    if agent not in CATCH_ALL:
        return None
    words = [concept.get("text"), *(cd.get("display") for cd in codings)]
    name = agent.value.replace("_", " ")
    return agent if all(w is None or (isinstance(w, str) and w.strip().lower() == name)
                        for w in words) else None


def read_allergy(allergy: Mapping[str, Any], entry_modifiers: str = "") -> AllergyReading:
    """The reading of one AllergyIntolerance (see the module's rules); ``entry_modifiers``:
    the URLs of the modifierExtensions its Bundle entry carries."""
    why = not_read_in_full(allergy, entry_modifiers)
    if why is not None:
        return AllergyReading(not_read=why)
    # each status is read only in the code system FHIR R4 binds it to: a 'refuted' or
    # 'inactive' of another system, or of none, sets nothing aside (counted, named)
    ours, verification, unread_verification = bound_status(
        "verificationStatus", allergy.get("verificationStatus"), c.ALLERGY_VERIFICATION,
        _IGNORED)
    doubt = _doubt("verificationStatus", verification, _IGNORED, _AFFIRMED)
    ignored = [x for x in ours if x in _IGNORED]
    if ignored and doubt is None:
        return AllergyReading(left_aside=f"verificationStatus '{ignored[0]}'")
    ours, status, unread_clinical = bound_status(
        "clinicalStatus", allergy.get("clinicalStatus"), c.ALLERGY_CLINICAL, _INACTIVE)
    if ours and set(status) <= _INACTIVE:  # "active" beside "inactive": counted
        return AllergyReading(left_aside="inactive or resolved")
    doubt = doubt or _doubt("clinicalStatus", status, _INACTIVE,
                            frozenset({"active", "recurrence", "relapse"}))
    doubt = doubt or unread_verification or unread_clinical
    if meds.records_no_allergy(allergy):
        return AllergyReading(left_aside="records no known allergy (no allergy to anything)")
    agents: set[Agent] = set()
    ingredients: set[str] = set()
    named_drugs: set[str] = set()
    mtor_class = False
    by_class: list[tuple[str, str]] = []
    other: str | None = None
    unread: list[str] = []
    near: list[str] = []
    in_class: list[tuple[str, str]] = []
    unsure: list[tuple[str, str]] = []
    substance_named = False
    # what it says its substance is: its code and its reactions' substances, each read
    # whole (a code recording no known allergy names none, and its words are no substance);
    # then the drugs its words name: each reaction's description, each note and each
    # manifestation add the drugs pecoma knows there, nothing else (their other words are
    # narrative or symptoms: "patient reports hives as a child" names no substance)
    said_none = meds.code_records_no_allergy(allergy.get("code"))
    substances = meds.allergy_substances(allergy)[1 if said_none else 0:]
    # the case format's own row (its writer's code): "other chemotherapy" is that row,
    # "other" a drug not identified, as the row says
    row = case_row(allergy)
    words = [*meds.allergy_narratives(allergy), *meds.allergy_manifestations(allergy)]
    # the classes its substance names: a class its words name beside them may be words
    # that are not the allergen ("patient currently on antineoplastic therapy")
    own_classes = {k for x in substances for k in meds.classes_said(x)}
    # the drugs its substance names: a drug its words name beside them as tolerated ("No
    # reaction to sirolimus", "tolerated doxorubicin") is no allergen (one they name
    # otherwise, "also reacted to everolimus", is ruled out)
    own_drugs = {d for x in substances for d in _drugs_said(x)}
    asked: list[str] = []
    for concept, whole in [*((x, True) for x in substances), *((x, False) for x in words)]:
        if not whole and (substance_named or other is not None) and not said_none and (
                said := [*(k for k in meds.classes_said(concept) if k not in own_classes),
                         *(sorted(d for d in _drugs_said(concept) if d not in own_drugs)
                           if _tolerated_said(concept) else ())]):
            # a class or a drug named only in its words, its substance identified as
            # something else: nothing ruled out by those words, nor cleared (asked, the
            # words quoted)
            quoted = " ".join(mcode.concept_text(concept).split())
            asked.append(f"{' and '.join(said)}, named only in its words (\"{quoted[:120]}\"), "
                         "not as its substance")
            continue
        if whole and row is not Agent.other_chemotherapy:
            unread += meds.unread_words(concept)
        near += [n for n in [meds.never_cleared_named(concept)] if n is not None]
        # every agent it names, not the first one only: "Everolimus; sirolimus", or a
        # sirolimus coding with the text "Everolimus", rules out both
        found = meds.agents_named(concept)
        klass = meds.mtor_class_named(concept) or meds.mtor_group_coded(concept)
        drugs = meds.ingredients_named(concept)
        agents |= found - CATCH_ALL
        if whole and row is Agent.other_chemotherapy:
            agents.add(row)
        mtor_class = mtor_class or klass
        ingredients |= drugs
        by_class += meds.classes_named(concept)
        named_drugs |= meds.drugs_named(concept)
        groups = meds.drug_classes(concept)
        for group in groups:
            # a class: every drug pecoma knows in it, each read as if named (doxorubicin
            # is no alkylating agent); the drugs some lists count in it, asked
            klass = klass or group.mtor
            mtor_class = mtor_class or group.mtor
            for member in group.members:
                one = {"text": member}
                held = (meds.agents_named(one) - CATCH_ALL, meds.ingredients_named(one),
                        meds.drugs_named(one))
                agents |= held[0]
                ingredients |= held[1]
                named_drugs |= held[2]
                in_class += [(group.name, x) for x in
                             sorted({a.value for a in held[0]} | held[1] | held[2])]
            unsure += [(group.name, d) for d in group.unsure]
        if not whole:
            continue
        substance_named = substance_named or bool(found or klass or drugs or groups)
        for agent in sorted(found & CATCH_ALL):
            other = other or agent.value.replace("_", " ")
        if not found and not klass and not drugs and other is None:
            other = meds.not_anticancer_named(concept)
    if said_none:
        # an entry recording no known allergy whose words name a substance all the same
        # ("except for Zortrex", "allergic to XY-123") contradicts itself: what they name
        # that pecoma cannot identify may be a drug it proposes
        unread += [w for said in meds.allergy_narratives(allergy)
                   for w in meds.substances_said(str(said["text"]))]
    # the class, when named, rules out every one; else the first mTOR inhibitor named
    # (every one named is listed: AllergyReading.mtor_agents)
    mtor_named = "class" if mtor_class else next(
        (a for a, _names in c.AGENT_NAMES if a in agents and a.is_mtor_inhibitor), None)
    class_wide, class_wide_note = _class_wide(allergy)
    # identified by what it says its substance is (a drug named only in its words is
    # ruled out all the same, but does not identify an entry such as "Allergy to drug")
    named = substance_named or said_none or other is not None
    # an RxNorm or ATC code pecoma cannot read is a drug's whatever the category says
    # (a mistyped category): it may be to a drug pecoma proposes
    coded_unknown = any(u.startswith((f"{meds.RXNORM}|", f"{meds.ATC}|")) for u in unread)
    unidentified = bool(near) or bool(asked) or (
        (not named or bool(unread))
        and (meds.allergy_may_be_to_a_drug(allergy) or coded_unknown))
    return AllergyReading(
        doubt=doubt, agents=frozenset(agents), ingredients=frozenset(ingredients),
        drugs=frozenset(named_drugs), mtor_class=mtor_class,
        by_class=tuple(dict.fromkeys(by_class)),
        mtor_named=mtor_named, other=other, unidentified=unidentified,
        not_identified=tuple(dict.fromkeys(asked + near + unread))[:5] if unidentified else (),
        class_wide=class_wide, class_wide_note=class_wide_note,
        recorded_other=row is Agent.other and unidentified,
        classes=tuple(dict.fromkeys(in_class)),
        unsure=tuple(dict.fromkeys(x for x in unsure if x[1] not in named_drugs)))


def _class_wide(allergy: Mapping[str, Any]) -> tuple[YesNo, str | None]:
    """The team's judgement an entry records whether the intolerance is of the drug's
    class (the project's extension ``intolerance-class-wide``), and why it is not read
    when its code is not one of ``yes``, ``no``, ``unknown`` (then unknown)."""
    code = extension_code(allergy, c.EXT.INTOLERANCE_CLASS_WIDE)
    if code is None:
        return YesNo.unknown, None
    if code in {v.value for v in YesNo}:
        return YesNo(code), None
    return YesNo.unknown, (f"its extension intolerance-class-wide holds '{code}', not one of "
                           "yes, no, unknown: whether the intolerance is of the class is "
                           "read as not recorded")


#: Words of a Condition saying it is an allergy or an adverse reaction to what it names
#: ("Allergy to sirolimus", "Drug-induced pneumonitis due to sirolimus", "Sirolimus
#: pneumonitis", "Doxorubicin cardiotoxicity"): the allergy words and the reactions an
#: allergy list writes (:data:`pecoma.fhir.codes.ALLERGY_FILLER_WORDS`), and a few more.
_ADVERSE_WORDS: Final = re.compile(
    r"(?<![a-z])(?:allerg\w*|intoleran\w*|hypersensitiv\w*|adverse|induced|due to|"
    r"caused by|reaction|side effects?|toxicity|cardiotoxicity|cardiomyopathy|"
    r"anaphyla\w*|angioedema|urticaria|hives|rash|pneumonitis|stomatitis|mucositis|"
    r"stevens johnson)(?![a-z])")
#: ICD-10 and ICD-10-CM: an adverse effect of a drug in therapeutic use (T36-T50 whose
#: sixth character is 5, "T45.1X5A Adverse effect of antineoplastic and
#: immunosuppressive drugs"), and of the group holding the mTOR inhibitors (T45.1X5).
_ADVERSE_EFFECT: Final = re.compile(r"T(?:3[6-9]|4\d|50)\.\w\w5", re.IGNORECASE)
_ADVERSE_EFFECT_MTOR_GROUP: Final = re.compile(r"T45\.1X5", re.IGNORECASE)
_ICD10: Final = frozenset({mcode.ICD10CM, mcode.ICD10})


def _icd10_codes(concept: Mapping[str, Any]) -> list[str]:
    codings = concept.get("coding")
    return [str(cd["code"]).strip() for cd in (codings if isinstance(codings, list) else [])
            if isinstance(cd, dict) and isinstance(cd.get("system"), str)
            and cd["system"] in _ICD10 and isinstance(cd.get("code"), str)]


#: Words saying a drug was taken without a reaction: "no reaction to", "tolerated",
#: "without any problem", "no problems with".
_TOLERATED: Final = re.compile(
    r"(?<![a-z])(?:no (?:adverse |allergic )?(?:reactions?|problems?|issues?|side effects?)"
    r" (?:to|with|from|on)|tolerated|tolerates|tolerating|well tolerated|"
    r"without (?:any )?(?:reactions?|problems?|issues?|side effects?|complications?))"
    r"(?![a-z])")


#: Words saying a drug was not tolerated ("not tolerated", "poorly tolerated", "did not
#: tolerate"): then the words may record an intolerance, never read as tolerated.
_NOT_TOLERATED: Final = re.compile(
    r"(?:(?<![a-z])(?:not|poorly|badly|never|hardly|barely|unable to)|n't|n’t)"
    r"(?: (?:well|be|been|to))? tolerat")


def _tolerated_said(concept: Mapping[str, Any]) -> bool:
    """Whether an entry's words say a drug was taken without a reaction (:data:`_TOLERATED`),
    and nothing in them says one was not tolerated (:data:`_NOT_TOLERATED`)."""
    words = mcode.plain_words(mcode.concept_text(concept))
    return _TOLERATED.search(words) is not None and _NOT_TOLERATED.search(words) is None


def _drugs_said(concept: Mapping[str, Any]) -> set[str]:
    """The drugs pecoma knows a concept names (its agents, ingredients and drug names)."""
    return ({a.value for a in meds.agents_named(concept) - CATCH_ALL}
            | set(meds.ingredients_named(concept)) | set(meds.drugs_named(concept)))


#: Problem-list codes of an allergy to a drug pecoma knows, read by their meaning when a
#: Condition gives the code alone: SNOMED CT 294630006 Allergy to sirolimus.
_ALLERGY_CODES: Final = {(c.SNOMED, "294630006"): "Allergy to sirolimus"}


def condition_intolerance(condition: Mapping[str, Any]) -> AllergyReading | None:
    """What a Condition of the record (a problem-list entry) says as an allergy entry
    would, or ``None`` when it says nothing of a drug's tolerance.

    Many EHRs keep adverse drug reactions on the problem list: "Allergy to sirolimus"
    (SNOMED CT 294630006), "Drug-induced pneumonitis due to sirolimus", ICD-10-CM
    T45.1X5A with a text naming sirolimus. A Condition whose code's words say an allergy
    or an adverse reaction (:data:`_ADVERSE_WORDS`), or coded as the adverse effect of a
    drug (ICD-10 T36-T50, sixth character 5), and that names a drug pecoma knows, is read
    as an allergy entry naming that drug: each drug named is ruled out, as an
    AllergyIntolerance would rule it out. Its clinicalStatus does not matter (a resolved
    pneumonitis still shows the drug not tolerated); one refuted or entered in error, or
    not read in full (:func:`not_read_in_full`), says nothing ('refuted' read in
    condition-ver-status only: in another code system or none it is counted, noted).
    Coded T45.1X5 (the adverse effect of antineoplastic and immunosuppressive drugs, the
    group of the mTOR inhibitors) and naming no drug pecoma knows, it is a drug intolerance *not
    identified*. Any other Condition, one naming no drug pecoma knows among them ("Allergy
    to drug"), is not read here."""
    if not_read_in_full(condition) is not None:
        return None
    ours, verification, unread = bound_status(
        "verificationStatus", condition.get("verificationStatus"), c.CONDITION_VERIFICATION,
        _IGNORED)
    if ours and set(verification) <= _IGNORED:
        return None
    concept = condition.get("code")
    if not isinstance(concept, dict):
        return None
    if not mcode.concept_text(concept).strip():
        # sent as a code alone (no display, no text): the codes of an allergy to a drug
        # pecoma knows are read by their meaning
        named = next((said for cd in concept.get("coding") or [] if isinstance(cd, dict)
                      and (said := _ALLERGY_CODES.get((str(cd.get("system")),
                                                        str(cd.get("code"))))) is not None),
                     None)
        if named is not None:
            concept = {**concept, "text": named}
    icd = _icd10_codes(concept)
    words = mcode.plain_words(mcode.concept_text(concept))
    if _ADVERSE_WORDS.search(words) is None and not any(_ADVERSE_EFFECT.match(x) for x in icd):
        return None
    reading = _reaction_to([concept], problem_list=True, doubt=unread)
    if reading is not None:
        return reading
    group = [x for x in icd if _ADVERSE_EFFECT_MTOR_GROUP.match(x)]
    if not group:
        return None
    return AllergyReading(unidentified=True, not_identified=(group[0],),
                          problem_list=True, doubt=unread)


def _reaction_to(concepts: Iterable[Mapping[str, Any]], *, problem_list: bool = False,
                 adverse_event: bool = False, doubt: str | None = None
                 ) -> AllergyReading | None:
    """A reaction recorded as caused by what ``concepts`` name (a problem-list Condition's
    code, an AdverseEvent's suspected drugs), read as an allergy entry naming each drug
    pecoma knows among them: each is ruled out, an mTOR inhibitor or the class ruling
    out every mTOR inhibitor unless another one is shown tolerated (I15). ``None`` when
    they name no drug pecoma knows. The one reading of :func:`condition_intolerance` and
    :func:`adverse_event_intolerance`."""
    concepts = list(concepts)
    agents = frozenset(a for x in concepts for a in meds.agents_named(x) - CATCH_ALL)
    mtor_class = any(meds.mtor_class_named(x) or meds.mtor_group_coded(x) for x in concepts)
    ingredients = frozenset(d for x in concepts for d in meds.ingredients_named(x))
    drugs = frozenset(d for x in concepts for d in meds.drugs_named(x))
    if not (agents or mtor_class or ingredients or drugs):
        return None
    mtor_named = "class" if mtor_class else next(
        (a for a, _names in c.AGENT_NAMES if a in agents and a.is_mtor_inhibitor), None)
    return AllergyReading(agents=agents, ingredients=ingredients, drugs=drugs,
                          mtor_class=mtor_class, mtor_named=mtor_named,
                          problem_list=problem_list, adverse_event=adverse_event,
                          doubt=doubt)


#: The types an AdverseEvent's suspect may be that are no drug (FHIR R4
#: AdverseEvent.suspectEntity.instance: Immunization, Procedure, Device): a vaccine is no
#: drug pecoma proposes.
_NOT_DRUG_SUSPECTS: Final = frozenset({"Immunization", "Procedure", "Device"})
#: The medication records whose drug an AdverseEvent's suspect may name.
_DRUG_RECORDS: Final = frozenset(meds.MEDICATION_TYPES)


def _suspect_concepts(event: Mapping[str, Any], suspect: Any, resolve: meds.Resolver
                      ) -> tuple[list[Mapping[str, Any]], str | None, str | None]:
    """What one ``suspectEntity`` of an AdverseEvent names: the CodeableConcepts naming
    its drug; what of it cannot be resolved (a reference no entry holds, that may be a
    drug), or ``None``; the type of a suspect that is no drug (a Procedure), or ``None``.
    Its ``instance`` is a Reference (FHIR R4) or a CodeableReference (its ``concept``,
    its ``reference``): a Medication (its code and ingredients), a medication record
    naming one (:func:`pecoma.fhir.medications.medication_concepts`), a Substance (its
    code), each by reference (``Type/id``, an entry's fullUrl, ``#id`` contained), and
    the reference's display as words."""
    instance = suspect.get("instance") if isinstance(suspect, dict) else None
    if not isinstance(instance, dict):
        return [], "a suspect entity with no instance", None
    concepts: list[Mapping[str, Any]] = []
    if isinstance(instance.get("concept"), dict):
        concepts.append(instance["concept"])
    ref = instance.get("reference")
    ref = ref if isinstance(ref, dict) else instance
    if isinstance(ref.get("display"), str) and ref["display"].strip():
        concepts.append({"text": ref["display"]})
    target = ref.get("reference")
    if not isinstance(target, str):
        return concepts, None if concepts else "a suspect entity naming nothing", None
    try:
        found = (meds.contained(event, target) if target.startswith("#")
                 else resolve(target))
    except meds.RepeatedLocalId:
        found = None
    kind = found.get("resourceType") if found is not None else type_named(target, resolve)
    if kind in _NOT_DRUG_SUSPECTS or (kind not in (None, "Medication", "Substance")
                                      and kind not in _DRUG_RECORDS):
        # a procedure, a device, a vaccine, any record that is no drug: its display
        # ("CT-guided lung biopsy") names no drug
        return [], None, str(kind)
    if found is None:
        # a drug record not in the bundle: its display, when it names a drug pecoma
        # knows, says which; else it may be any drug
        return concepts, (None if _reaction_to(concepts) is not None
                          else f"{target[:80]} (not in the record)"), None
    if kind == "Medication":
        concepts += meds.medication_concepts(
            {"medicationReference": {"reference": target},
             "contained": event.get("contained", [])}, resolve)
    elif kind in _DRUG_RECORDS:
        concepts += meds.medication_concepts(found, resolve)
    elif kind == "Substance" and isinstance(found.get("code"), dict):
        concepts.append(found["code"])
    return concepts, None, None


#: WHO-UMC causality (FHIR R4 adverse-event-causality-assess, and the same words in text),
#: by what pecoma does with a suspect so judged: ``excluded``, words saying the drug did
#: not cause it ("not related", "excluded"); ``asked``, a relationship judged improbable
#: or not assessable ("Unlikely", "Conditional/Classified", "Unassessable/
#: Unclassifiable"); ``ruled_out``, one judged real ("Certain", "Probably/Likely",
#: "Possible"). Read in that order, so that "unlikely" is not read as "likely".
_CAUSALITY: Final = (
    ("excluded", re.compile(r"(?<![a-z])(?:not (?:related|causal|caused|attributable|"
                            r"associated|suspected)|unrelated|excluded|ruled out|"
                            r"no (?:relation|relationship|association))(?![a-z])")),
    ("asked", re.compile(r"(?<![a-z])(?:unlikely|improbable|doubtful|conditional|"
                         r"unassess\w*|unclassifi\w*|not assess\w*)")),
    ("ruled_out", re.compile(r"(?<![a-z])(?:certain|definite\w*|probabl\w*|likely|"
                             r"possibl\w*|related|causal|suspected)")),
)


def _causality(suspect: Any) -> tuple[str, str] | None:
    """How an AdverseEvent's suspect is judged to have caused it (``suspectEntity.
    causality``: its ``assessment``'s codes and words, its ``productRelatedness``):
    ``(judgement, what the record says)``, the judgement one of :data:`_CAUSALITY`'s;
    ``None`` when no causality is recorded, or none pecoma can read (a suspect is then a
    suspect). Of several, the one that rules out wins (the safer reading)."""
    found: list[tuple[str, str]] = []
    causes = suspect.get("causality") if isinstance(suspect, dict) else None
    for cause in causes if isinstance(causes, list) else []:
        if not isinstance(cause, dict):
            continue
        said: list[str] = []
        if isinstance(cause.get("assessment"), dict):
            said.append(mcode.concept_text(cause["assessment"]))
            said += [str(cd["code"]) for cd in cause["assessment"].get("coding") or []
                     if isinstance(cd, dict) and isinstance(cd.get("code"), str)]
        if isinstance(cause.get("productRelatedness"), str):
            said.append(cause["productRelatedness"])
        for words in said:
            plain = mcode.plain_words(words)
            judged = next((k for k, pattern in _CAUSALITY if pattern.search(plain)), None)
            if judged is not None:
                found.append((judged, " ".join(words.split())[:60]))
    for judged in ("ruled_out", "asked", "excluded"):
        if (hit := next((x for x in found if x[0] == judged), None)) is not None:
            return hit
    return None


def _codes(concept: Any) -> set[str]:
    """The codes and words of a CodeableConcept, in lower case."""
    if not isinstance(concept, dict):
        return set()
    return {str(cd.get("code")).lower() for cd in concept.get("coding") or []
            if isinstance(cd, dict)} | {mcode.plain_words(mcode.concept_text(concept))}


#: An event's own words saying it was severe ("Grade 3 pneumonitis", "life-threatening").
_SEVERE_WORDS: Final = re.compile(r"(?<![a-z])(?:grade [345]|severe|serious|life threatening|"
                                  r"fatal|death|hospitali[sz]\w*)(?![a-z])")


def _mild_and_over(event: Mapping[str, Any], agents: frozenset[Agent],
                   given: frozenset[tuple[str, str]]) -> str | None:
    """Why an AdverseEvent is a mild reaction that did not stop the drug, or ``None``:
    recorded as mild (``severity`` 'mild', or ``seriousness`` 'non-serious', FHIR R4
    adverse-event-severity and adverse-event-seriousness), nothing in it saying severe,
    serious or life-threatening, and either its ``outcome`` 'resolved' or 'recovering', or
    one of ``agents`` (the suspect's) given again after it (``given``: ``(agent, day)`` of
    each line of treatment read that started; a line started after the event's ``date``).
    Such an event (a grade 1 stomatitis managed on the course) is the toxicity log of a
    course, not a drug the patient cannot take again: asked, not ruled out. A severe
    one, or one whose grade is not recorded, or mild but neither over nor followed by
    the drug, is read as an intolerance (the safer reading)."""
    severity = _codes(event.get("severity"))
    seriousness = _codes(event.get("seriousness"))
    outcome = _codes(event.get("outcome"))
    words = " ".join([*severity, *seriousness, *_codes(event.get("event"))])
    if not ({"mild"} & severity or {"non-serious", "non serious"} & seriousness):
        return None
    if {"severe", "moderate"} & severity or {"serious"} & seriousness or \
            _SEVERE_WORDS.search(words.replace("non serious", "").replace("non-serious", "")):
        return None
    over = {"resolved", "recovering"} & outcome
    if over:
        return f"recorded as mild and {sorted(over)[0]}"
    day = event.get("date")
    later = sorted(d for a, d in given if isinstance(day, str) and len(day) >= 10
                   and a in {x.value for x in agents} and d > day[:10]) if day else []
    if later:
        return f"recorded as mild, the drug given again from {later[0]}"
    return None


def adverse_event_intolerance(event: Mapping[str, Any], resolve: meds.Resolver = no_resolver,
                              entry_modifiers: str = "",
                              given: frozenset[tuple[str, str]] = frozenset()
                              ) -> AllergyReading:
    """What an AdverseEvent says as an allergy entry would.

    FHIR R4's AdverseEvent records a reaction that happened (``actuality`` ``actual``) and
    the entities suspected of causing it (``suspectEntity.instance``). One whose suspect
    is, or is a record of, a drug pecoma knows is a recorded reaction to that drug: read
    as a problem-list Condition naming an adverse reaction to it is (:func:`_reaction_to`,
    the one reading of both), each drug ruled out, an mTOR inhibitor ruling out every
    mTOR inhibitor unless another one is shown tolerated (I15). Each suspect is judged by
    its own ``causality`` (:func:`_causality`): judged certain, probable or possible, or
    with none recorded, it is ruled out; judged unlikely, conditional or unassessable, it
    is *asked* (:attr:`AllergyReading.asked`: not ruled out, the advice proposing it
    provisional, the event named); said not related or excluded, nothing is read of it
    (listed). An event recorded as mild and resolved or recovering, or its drug begun
    again after it (``given``: ``(agent, day)`` of the lines read, :func:`_mild_and_over`),
    asks of that suspect. A suspect that cannot be resolved (a reference no entry holds,
    its display naming no drug pecoma knows) may be a drug pecoma proposes: a drug
    intolerance *not identified*. *Left aside*, each listed with why: an event of
    ``actuality`` ``potential`` (a reaction that did not happen, a near miss), one
    ``entered-in-error`` (the status FHIR R5 gives it), one naming no suspect, one whose
    suspects are no drug (a Procedure, a Device, an Immunization, any record that is no
    drug, with or without a display) or name no drug pecoma knows (dexamethasone,
    filgrastim: not read, as on the problem list), one whose every drug is said not
    related. One carrying a modifierExtension pecoma does not understand, or labelled as
    withheld, is not read (:func:`not_read_in_full`), and the allergy list is then not
    read in full."""
    why = not_read_in_full(event, entry_modifiers)
    if why is not None:
        return AllergyReading(not_read=why, adverse_event=True)
    actuality = event.get("actuality")
    if actuality == "potential":
        return AllergyReading(left_aside="actuality 'potential': a reaction that could have "
                              "happened, not one that did; no intolerance read",
                              adverse_event=True)
    if event.get("status") == "entered-in-error":
        return AllergyReading(left_aside="status 'entered-in-error'", adverse_event=True)
    doubt = (None if actuality == "actual" else
             f"its actuality is {show_value(actuality)}, not 'actual' nor 'potential': read "
             "as a reaction that happened (the safer reading); check it in the record")
    suspects = event.get("suspectEntity")
    suspects = suspects if isinstance(suspects, list) else []
    if not suspects:
        return AllergyReading(left_aside="it names no suspected cause (suspectEntity): no "
                              "drug recorded as its cause", adverse_event=True, doubt=doubt)
    concepts: list[Mapping[str, Any]] = []
    unresolved: list[str] = []
    not_drugs: list[str] = []
    asked: list[tuple[str, str]] = []  # (drug, why)
    excluded: list[str] = []
    for suspect in suspects:
        named, unread, kind = _suspect_concepts(event, suspect, resolve)
        not_drugs += [kind] if kind is not None else []
        judged = _causality(suspect)
        own = _reaction_to(named)
        drugs = _drug_words(own) if own is not None else []
        if judged is not None and judged[0] == "excluded":
            excluded += [f"{', '.join(drugs) or 'its suspect'} (causality '{judged[1]}')"]
            continue
        mild = None if own is None else _mild_and_over(event, own.agents, given)
        if own is not None and (mild is not None or (judged and judged[0] == "asked")):
            asked += [(d, f"causality '{judged[1]}'" if judged and judged[0] == "asked"
                       else str(mild)) for d in drugs]
            continue
        concepts += named
        unresolved += [unread] if unread is not None else []
    reading = _reaction_to(concepts, adverse_event=True, doubt=doubt)
    if asked:
        said_as = event.get("event")
        said_as = said_as if isinstance(said_as, dict) else {}
        event_said = " ".join(str(said_as.get("text") or mcode.concept_text(said_as))
                              .split())[:80]
        why_asked = "; ".join(f"{d}: {w}" for d, w in dict.fromkeys(asked))
        return replace(reading or AllergyReading(adverse_event=True, doubt=doubt),
                       unidentified=True,
                       not_identified=tuple(dict.fromkeys(d for d, _w in asked))[:5],
                       asked=f"{event_said or 'an adverse event'} ({why_asked})")
    if reading is not None:
        if not unresolved:
            return reading
        return replace(reading, unidentified=True, not_identified=tuple(unresolved[:5]))
    if unresolved:
        return AllergyReading(unidentified=True, not_identified=tuple(unresolved[:5]),
                              adverse_event=True, doubt=doubt)
    if excluded:
        return AllergyReading(left_aside="its suspected drug is recorded as not its cause: "
                              + ", ".join(excluded), adverse_event=True, doubt=doubt)
    said = ", ".join(dict.fromkeys(f"{'an' if k[:1] in 'AEIOU' else 'a'} {k}"
                                   for k in not_drugs)) or "it names no drug pecoma knows"
    return AllergyReading(left_aside=f"its suspected cause is no drug pecoma proposes ({said})",
                          adverse_event=True, doubt=doubt)


def _drug_words(reading: AllergyReading) -> list[str]:
    """The drugs a reading names, in words ("everolimus", "the mTOR-inhibitor class")."""
    agents = reading.agents - CATCH_ALL
    held = {d.value for a in agents for d in a.drugs}
    return sorted({*(a.value.replace("_", " ") for a in agents),
                   *(reading.ingredients | reading.drugs) - held,
                   *(("the mTOR-inhibitor class",) if reading.mtor_class else ())})


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

    def class_wide(self, agent: Agent) -> YesNo:
        """The team's judgement whether the intolerance of ``agent`` is of its class, over
        the entries naming it (as an agent, or a drug inside their words): 'yes' if one
        says so, else unknown if one does not say, else 'no' (the safer reading; I15).
        Unknown for an agent with no class (:attr:`pecoma.case.Intolerance.drug_class`)."""
        said = [judged for _w, judged in self.judgements(agent)]
        if not said or not Intolerance(agent=agent).drug_class:
            return YesNo.unknown
        if YesNo.yes in said:
            return YesNo.yes
        return YesNo.unknown if YesNo.unknown in said else YesNo.no

    def judgements(self, agent: Agent) -> list[tuple[str, YesNo]]:
        """``(where, judgement)`` of each entry naming ``agent`` (as an agent, or a drug
        inside its words that no agent it names holds: an entry naming epirubicin with
        ifosfamide judges that regimen, not epirubicin alone, which another entry may
        judge otherwise): what its own extension intolerance-class-wide says."""
        return [(w, r.class_wide) for w, r in self.entries
                if agent in r.agents or (agent.value in r.ingredients and not any(
                    agent in named.drugs for named in r.agents))]

    @property
    def intolerances(self) -> tuple[Intolerance, ...]:
        """The agents the entries name, each with the team's judgement whether the
        intolerance is of its class (:meth:`class_wide`): the case format's rows."""
        return tuple(Intolerance(agent=a, class_wide=self.class_wide(a))
                     for a in sorted(self.intolerant))

    @property
    def drugs(self) -> tuple[tuple[str, str], ...]:
        """``(where, drug)`` of each drug an entry names one by one
        (:attr:`AllergyReading.drugs`)."""
        return tuple((w, d) for w, r in self.entries for d in sorted(r.drugs))

    @property
    def class_only(self) -> tuple[tuple[str, str], ...]:
        """``(class, drug)`` for each drug the entries hold only by a class they name
        ("Anthracyclines"), no entry naming that drug itself: what the record lists."""
        named = {d for _w, r in self.entries for d in r.ingredients
                 if d not in {x for _k, x in r.by_class}}
        return tuple(dict.fromkeys((k, d) for _w, r in self.entries for k, d in r.by_class
                                   if d not in named))

    @property
    def in_class(self) -> tuple[tuple[str, str], ...]:
        """``(class, drug or agent)`` for each drug the entries rule out only as one of a
        class they name (:attr:`AllergyReading.classes`), no entry naming it otherwise:
        what the cards say the record lists ("alkylating agents (a class holding
        cyclophosphamide)")."""
        named = {x for _w, r in self.entries
                 for x in ({a.value for a in r.agents} | r.ingredients | r.drugs)
                 - {m for _k, m in r.classes}}
        return tuple(dict.fromkeys((k, m) for _w, r in self.entries for k, m in r.classes
                                   if m not in named))

    @property
    def unsure(self) -> tuple[tuple[str, str, str], ...]:
        """``(where, class, drug)`` for each drug an entry's class may or may not hold
        (:attr:`AllergyReading.unsure`: cisplatin beside "Alkylating agents")."""
        return tuple((w, k, d) for w, r in self.entries for k, d in r.unsure)

    @property
    def mtor_class(self) -> bool:
        return any(r.mtor_class for _w, r in self.entries)

    @property
    def mtor(self) -> tuple[tuple[str, Agent | str], ...]:
        """``(where, agent or 'class')`` of each mTOR inhibitor an entry names, and of
        each entry naming the class: each rules every mTOR inhibitor out unless another
        one is shown tolerated (I15). A medication record not tolerated names its own
        agent."""
        return tuple((w, a) for w, r in self.entries
                     for a in (r.mtor_agents or ((r.mtor_named,) if r.mtor_named else ())))

    @property
    def unidentified(self) -> tuple[str, ...]:
        """Where each drug allergy is whose substance is not identified: each is an
        intolerance of ``other`` in the case the FHIR reader makes."""
        return tuple(w for w, r in self.entries if r.unidentified)

    @property
    def asked(self) -> tuple[tuple[str, str], ...]:
        """``(where, why)`` of each AdverseEvent whose suspected drug is asked rather than
        read as not tolerated (:attr:`AllergyReading.asked`)."""
        return tuple((w, r.asked) for w, r in self.entries if r.asked is not None)

    @property
    def not_read(self) -> tuple[tuple[str, str], ...]:
        """``(where, why)`` of each entry that cannot be read in full
        (:func:`not_read_in_full`)."""
        return tuple((w, r.not_read) for w, r in self.entries if r.not_read is not None)

    @property
    def not_read_reason(self) -> str | None:
        """Why the list is not read in full because of its own entries (the words the
        FHIR reader and the CDS cards give that part of the record), or ``None``."""
        aside = self.not_read
        if not aside:
            return None
        shown = "; ".join(f"{w}: {why}" for w, why in aside[:3])
        more = len(aside) - 3
        return shown + (f"; and {more} more entr{'y' if more == 1 else 'ies'} not read in "
                        "full" if more > 0 else "")

    @property
    def doubts(self) -> tuple[tuple[str, str], ...]:
        """``(where, note)`` of each entry counted although a status of it disagrees with
        itself."""
        return tuple((w, r.doubt) for w, r in self.entries if r.doubt is not None)


def read_allergies(allergies: Iterable[tuple[str, Mapping[str, Any]]],
                   entry_modifiers: Mapping[int, str] | None = None,
                   not_tolerated: Iterable[NotTolerated] = (),
                   resolve: meds.Resolver = no_resolver,
                   given: frozenset[tuple[str, str]] = frozenset()) -> AllergyList:
    """The readings of ``(where, AllergyIntolerance)`` pairs (other resources skipped);
    ``entry_modifiers``: the modifierExtension URLs of the Bundle entries that carry
    some, by the identity of their resource; ``not_tolerated``: the medication records
    whose statusReason says their drug was not tolerated
    (:attr:`pecoma.fhir.reader.BundleCase.not_tolerated`), each read as an entry naming
    that drug (:func:`intolerance_of`); each AdverseEvent among them read by
    :func:`adverse_event_intolerance`, its suspects resolved by ``resolve`` (the
    record's resources; ``given``: ``(agent, day)`` of each line of treatment read that
    started, :func:`lines_given`)."""
    mods = entry_modifiers or {}
    resources = list(allergies)
    return AllergyList((*((where, read_allergy(res, mods.get(id(res), "")))
                          for where, res in resources
                          if res.get("resourceType") == "AllergyIntolerance"),
                        *((where, reading) for where, res in resources
                          if res.get("resourceType") == "Condition"
                          and (reading := condition_intolerance(res)) is not None),
                        *((where, adverse_event_intolerance(res, resolve,
                                                            mods.get(id(res), ""), given))
                          for where, res in resources
                          if res.get("resourceType") == "AdverseEvent"),
                        *((x.where, intolerance_of(x)) for x in not_tolerated)))


def intolerance_of(stopped: NotTolerated) -> AllergyReading:
    """A medication record's drug not tolerated, read as an allergy entry naming it: its
    agent (a catch-all one by the drugs the record names), the drugs of a regimen, and
    for an mTOR inhibitor every mTOR inhibitor unless another one is shown tolerated
    (I15)."""
    agent = stopped.agent
    return AllergyReading(
        agents=frozenset() if agent in CATCH_ALL else frozenset({agent}),
        ingredients=meds.INGREDIENTS.get(agent, frozenset()), drugs=stopped.drugs,
        mtor_named=agent if agent.is_mtor_inhibitor else None)


def lines_given(lines: Iterable[TherapyLine],
                started: Iterable[tuple[Agent | None, dt.date | None]] = ()
                ) -> frozenset[tuple[str, str]]:
    """``(agent, day)`` of each day a course of a drug is known to have been given or
    begun: each line's start, and ``started``, ``(agent, day)`` of each medication record
    (its first day) or order running on the day read for. A line's end is not counted: a
    course ending after an event may have been stopped for it."""
    found = {(x.agent.value, x.started_on.isoformat()) for x in lines
             if x.started_on is not None}
    found |= {(a.value, d.isoformat()) for a, d in started if a is not None and d is not None}
    return frozenset(found)
