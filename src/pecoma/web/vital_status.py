"""Whether the record says the patient died, and what pecoma does then: one rule, in the
same words, for the surfaces that give PEComa advice from an EHR's record (the CDS
services' cards, the page of a SMART launch).

* The record says the patient died (:attr:`~pecoma.fhir.reader.BundleCase.deceased`:
  ``Patient.deceased[x]``, or an Observation of vital status 'Dead'): treatment advice is
  no decision at hand. One warning says so and nothing else is given (no advice; no
  order proposed, no case form filled in).
* The record does not say, in a value pecoma can read, whether the patient died
  (:attr:`~pecoma.fhir.reader.BundleCase.vital_status_unknown`: a data-absent-reason,
  ``"deceasedBoolean": "true"`` as a string, or the Patient resource not read at all: a
  prefetch null, an OperationOutcome, an empty search, a read that failed): never taken
  as alive without a word. A first
  warning says so and to check it before acting on the advice; the advice follows as for
  a living patient (the patient may be alive, and the team needs it).

The reader never sets both. The words are plain text: each surface escapes them for its
own format (Markdown on a card, HTML on a page).
"""

from __future__ import annotations

from dataclasses import dataclass

from pecoma.fhir.reader import BundleCase

__all__ = ["VitalStatusWarning", "vital_status_warning"]


@dataclass(frozen=True, slots=True)
class VitalStatusWarning:
    """The warning said first, and whether the PEComa advice follows it."""

    summary: str
    detail: str
    #: False for a recorded death (nothing follows the warning); True when whether the
    #: patient died is unknown (the advice follows, as for a living patient).
    advice_follows: bool


def vital_status_warning(bc: BundleCase, *, proposes_orders: bool,
                         again: str) -> VitalStatusWarning | None:
    """The warning the record's vital status calls for, or ``None`` (a patient the record
    does not say died, in a value pecoma can read). ``proposes_orders``: the surface can
    propose an order (the CDS services), so the words say none is; ``again``: what the
    clinician does once the record is corrected ('reopen the chart')."""
    if bc.deceased is not None:
        when = "" if bc.deceased == "yes" else f" ({bc.deceased})"
        orders = " and proposes no order" if proposes_orders else ""
        return VitalStatusWarning(
            summary=f"The record says this patient died{when}: no PEComa advice",
            detail="The record notes the patient's death (Patient.deceased, or an "
            f"Observation of vital status){when}. pecoma gives no treatment or surveillance "
            f"advice{orders} for a patient recorded as deceased. If the record is wrong, "
            f"correct it and {again}.",
            advice_follows=False)
    if bc.vital_status_unknown is not None:
        orders = " and no order is proposed until the record says" if proposes_orders else ""
        return VitalStatusWarning(
            summary="Whether this patient has died is unknown from the record: check it "
            "before acting on the PEComa advice",
            detail="The record does not say whether the patient is alive "
            f"({bc.vital_status_unknown}). pecoma gives no advice for a patient recorded as "
            "deceased; here it cannot tell, so the advice is given as for a living "
            f"patient{orders}. Record it in Patient.deceased[x] (deceasedBoolean true or "
            f"false, or deceasedDateTime the date of death) and {again}.",
            advice_follows=True)
    return None
