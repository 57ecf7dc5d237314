"""What caveats a record's advice carries: one reading for every output made from a record.

A FHIR record read into a case (:class:`pecoma.fhir.reader.BundleCase`) may leave
something the advice rests on unknown although the case itself holds no missing fact for
it: a medication record whose drug pecoma cannot identify (it may be a line of systemic
therapy already given), a medication whose start or purpose is unknown, a part of the
record not read in full (the allergy list, a medication search). The CDS cards
(:mod:`pecoma.web.cds.patient_view`) and the FHIR CarePlan
(:mod:`pecoma.fhir.careplan`) say the same of the same record from here:

* :func:`drug_caveats`: why every recommendation naming a drug (:data:`DRUG_ITEMS`) is
  conditional ("the lines of systemic therapy already given are not fully known (…)",
  "the patient's allergies and intolerances could not be read (…)", "whether the
  patient has died is unknown (…)"): the card's "**Conditional:** …; confirm before any
  order", the CarePlan's "(conditional)" actions;
* :func:`medication_doubts`: the medication records that leave the lines not fully
  known, each named (at most :data:`SHOWN` of a kind), under the keys the cards list the
  parts of a record not read by (:data:`UNKNOWN_MEANING`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from pecoma.case import Agent
from pecoma.fhir.searches import PARTS

if TYPE_CHECKING:
    from pecoma.fhir.reader import BundleCase

__all__ = ["DRUG_ITEMS", "MEDICATION_CANCERS", "MEDICATION_DOUBTS", "MEDICATION_PURPOSES",
           "MEDICATION_STARTS", "SHOWN",
           "UNIDENTIFIED_MEDICATIONS", "UNKNOWN_MEANING", "VITAL_STATUS", "drug_caveats",
           "medication_doubts", "record_drug_caveats", "record_unknown", "shortlist",
           "unknown_words"]

#: Recommendations that name a drug, and the agent each one would start.
DRUG_ITEMS: Final[dict[str, Agent]] = {
    "REC-MTOR-FIRST-LINE": Agent.sirolimus,
    "SUPP-NAB-SIROLIMUS": Agent.nab_sirolimus,
    "REC-ANTHRACYCLINE": Agent.doxorubicin,
    "REC-UTERINE-EPI-IFO": Agent.epirubicin_ifosfamide,
}

#: The part of a record named unknown when medication records name drugs pecoma cannot
#: identify (not a prefetch key: what the record holds, not what was sent).
UNIDENTIFIED_MEDICATIONS: Final = "unidentified_medications"

#: The part of a record named unknown when a medication's first day, a partial date,
#: spans the day read for: whether it had started is unknown.
MEDICATION_STARTS: Final = "medication_starts"

#: The part of a record named unknown when the Patient does not say whether the patient
#: has died in a value pecoma can read
#: (:attr:`pecoma.fhir.reader.BundleCase.vital_status_unknown`).
VITAL_STATUS: Final = "vital_status"

#: The part of a record named unknown when, beside another present primary cancer, a
#: medication record does not say which cancer it was given for, or an mTOR inhibitor
#: was given for the other cancer: the questions asked.
MEDICATION_CANCERS: Final = "medication_cancers"

#: The part of a record named unknown when a medication record names a drug given for
#: diseases that are no cancer too, nothing saying it was given for a cancer
#: (:attr:`pecoma.fhir.reader.BundleCase.purposes_unknown`): the questions asked.
MEDICATION_PURPOSES: Final = "medication_purposes"

#: What each part of a record is, in the words said when it is unknown (the parts the
#: FHIR reader names, :data:`pecoma.fhir.searches.PARTS`, and the doubts of its content).
UNKNOWN_MEANING: Final[dict[str, str]] = {
    **PARTS,
    UNIDENTIFIED_MEDICATIONS: "the drug of some medication records",
    MEDICATION_STARTS: "whether some medications had started",
    VITAL_STATUS: "whether the patient has died",
    MEDICATION_CANCERS: "what some medications given beside another primary cancer were "
                        "for",
    MEDICATION_PURPOSES: "what some medications of drugs given for diseases that are no "
                         "cancer too were given for",
}

#: The parts of a record named unknown by :func:`medication_doubts`: each leaves the
#: lines already given not fully known.
MEDICATION_DOUBTS: Final = (UNIDENTIFIED_MEDICATIONS, MEDICATION_STARTS, MEDICATION_CANCERS,
                            MEDICATION_PURPOSES)

#: How many records of one kind are named; the rest are counted.
SHOWN: Final = 5


def shortlist(said: Sequence[str], most: int = SHOWN) -> str:
    """The first ``most`` of ``said``, joined, and how many more there are."""
    more = len(said) - most
    return "; ".join(said[:most]) + (f"; and {more} more" if more > 0 else "")


def medication_doubts(bc: BundleCase) -> dict[str, str]:
    """The medication records that leave the lines of systemic therapy already given not
    fully known, by kind (:data:`MEDICATION_DOUBTS`), each record named with why
    (``where: why``)."""
    kinds = ((UNIDENTIFIED_MEDICATIONS, bc.unidentified_medications),
             (MEDICATION_STARTS, bc.unknown_starts),
             (MEDICATION_CANCERS, bc.courses_in_doubt),
             (MEDICATION_PURPOSES, bc.purposes_unknown))
    return {key: shortlist(said) for key, said in kinds if said}


def record_unknown(bc: BundleCase) -> dict[str, str]:
    """Everything the record leaves unknown that no fact of the case stands for, with
    why: the parts not read in full (:attr:`~pecoma.fhir.reader.BundleCase.unread`), the
    medication records of :func:`medication_doubts`, whether the patient has died."""
    out = {**bc.unread, **medication_doubts(bc)}
    if bc.vital_status_unknown is not None:
        out[VITAL_STATUS] = bc.vital_status_unknown
    return out


def _same(text: str) -> str:
    return text


def drug_caveats(*, history: str | None, allergies: str | None,
                 vital_status: str | None = None,
                 escape: Callable[[str], str] = _same) -> list[str]:
    """Why a recommendation naming a drug is conditional on what the record does not
    settle, each reason in words, most decisive first: whether the patient has died
    (``vital_status``: why it is unknown), the lines of systemic therapy already given
    (``history``: why they are not fully known,
    :attr:`pecoma.fhir.reader.BundleCase.history_doubt`), the allergy list
    (``allergies``: why it could not be read in full). ``escape``: how the record's own
    words are written (Markdown-escaped on a card, as they are on plain text)."""
    reasons = []
    if vital_status is not None:
        reasons.append("whether the patient has died is unknown from the record "
                       f"({escape(vital_status)})")
    if history is not None:
        reasons.append("the lines of systemic therapy already given are not fully known "
                       f"({escape(history)})")
    if allergies is not None:
        reasons.append("the patient's allergies and intolerances could not be read "
                       f"({escape(allergies)})")
    return reasons


def record_drug_caveats(bc: BundleCase) -> list[str]:
    """:func:`drug_caveats` of a record read, in plain words."""
    return drug_caveats(history=bc.history_doubt, allergies=bc.unread.get("allergies"),
                        vital_status=bc.vital_status_unknown)


def unknown_words(unknown: Mapping[str, str]) -> list[str]:
    """Each part of the record unknown (:func:`record_unknown`) in words: what it is,
    and why."""
    return [f"{UNKNOWN_MEANING.get(k, k)}: {why}" for k, why in unknown.items()]
