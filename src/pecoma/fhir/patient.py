"""What the record's Patient says of whether the patient died, of when the patient was
born, and whether it may be read.

``Patient.deceased[x]`` says the patient died (a ``deceasedDateTime``, or
``deceasedBoolean`` true). Whether the patient died is **unknown**, never read as alive,
when it is given only as a data-absent-reason, in a JSON type FHIR does not allow
(``"deceasedBoolean": "true"``), when the Patient carries a ``modifierExtension`` pecoma
does not understand (on itself or on its Bundle entry: FHIR R4 forbids reading a resource
as if such an extension were absent, so nothing is taken from it), or when it is not
given by a Patient whose information was withheld: labelled ``REDACTED`` or
``SUBSETTED`` (:func:`pecoma.fhir.searches.withheld_label`, on the Patient or on the
Bundle holding it), or whose name reads "REDACTED" (a record de-identified by blanking its
elements): a ``deceased[x]`` missing from it may be what was withheld. A value the
withheld Patient does give is read (what is there was not withheld).

The ``birthDate`` places an onset given as an age (:mod:`pecoma.fhir.ages`). It is not
known when not given, given only as a data-absent-reason, or the Patient is set aside for
a modifierExtension; one that is no FHIR date is refused, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from pecoma.errors import show_value
from pecoma.fhir import searches
from pecoma.fhir.ages import NO_PATIENT, Birth
from pecoma.fhir.medications import days_of
from pecoma.fhir.reading import Reader, as_list, modifier_urls

__all__ = ["PatientRead", "read_patient"]

#: The HL7 extension saying why a value is missing (FHIR R4 data-absent-reason).
DATA_ABSENT_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

#: The Patient's elements whose values the reader takes (none of them when the Patient is
#: set aside for a modifierExtension: they are then left out of its validation too).
_READ_ELEMENTS: Final = ("deceasedBoolean", "deceasedDateTime", "birthDate")


@dataclass(frozen=True, slots=True)
class PatientRead:
    """What the Patient gave: the death recorded (the date given, or ``"yes"``), or why
    whether the patient died is unknown; the birth date (:class:`Birth`); and the elements
    it holds that are not read, left out of its validation (said as unknown, not refused
    as well)."""

    deceased: str | None = None
    vital_unknown: str | None = None
    aside: tuple[str, ...] = ()
    birth: Birth = NO_PATIENT


def read_patient(patient: Mapping[str, Any], label: str, entry_modifiers: str,
                 held_withheld: str | None, r: Reader) -> PatientRead:
    """Read the Patient at ``label`` (``Patient/p1``); ``entry_modifiers``: the URLs of
    the modifierExtensions its Bundle entry carries; ``held_withheld``: why the Bundle
    holding it says information was withheld from it, or ``None``. Notes say what is
    unknown and why."""
    modifier = modifier_urls(patient, nested=False) or entry_modifiers
    if modifier:
        why = (f"{label} carries a modifierExtension pecoma does not understand "
               f"({modifier}), which may change what it means")
        r.why[label] = (f"its deceased[x] and birthDate not read: it carries a "
                        f"modifierExtension pecoma does not understand ({modifier})")
        r.notes.append(f"Patient.deceased[x]: not read: {why} (FHIR: never read as if it "
                       "were absent): whether the patient has died is unknown, not taken "
                       "as alive; check the patient's record before acting on this advice")
        return PatientRead(vital_unknown=f"{why}: its deceased[x] is not read",
                           aside=tuple(k for k in _READ_ELEMENTS if k in patient),
                           birth=Birth(None, f"{why}: its birthDate is not read"))
    withheld = withheld_from(patient, label, held_withheld)
    return replace(_vital_status(patient, label, withheld, r),
                   birth=_birth(patient, label, withheld, r))


def _vital_status(patient: Mapping[str, Any], label: str, withheld: str | None,
                  r: Reader) -> PatientRead:
    """What ``deceased[x]`` says (:func:`read_patient`), noted."""
    deceased = _deceased(patient)
    if deceased is not None:
        r.notes.append(f"Patient.deceased[x]: the patient is recorded as deceased "
                       f"({deceased}): advice for this record is no decision at hand")
        return PatientRead(deceased=deceased)
    unread = _deceased_unreadable(patient)
    if unread is not None:
        # found but not read: unknown, said, the value quoted; never read as alive
        said = f"{label}.{unread[0]} {unread[1]}"
        r.notes.append(f"Patient.deceased[x]: whether the patient has died cannot be "
                       f"read ({said}): it is unknown, not taken as alive; check it before "
                       "acting on this advice")
        return PatientRead(vital_unknown=said, aside=(unread[0],))
    absent = _absent_reason(patient, "deceasedDateTime", "deceasedBoolean")
    if absent is not None:
        r.notes.append(f"Patient.deceased[x]: whether the patient has died is not "
                       f"recorded (data-absent-reason '{absent}'): it is unknown, not "
                       "taken as alive; check it before acting on this advice")
        return PatientRead(vital_unknown=f"Patient.deceased[x] is not recorded "
                                         f"(data-absent-reason '{absent}')")
    if withheld is not None and not any(
            patient.get(k) is not None for k in ("deceasedBoolean", "deceasedDateTime")):
        # a value missing from a Patient whose information was withheld may be what was
        # withheld: unknown, not absent (never read as alive)
        said = f"{withheld}, and it gives no deceased[x], which may be what was withheld"
        r.notes.append(f"Patient.deceased[x]: whether the patient has died is unknown: "
                       f"{said}; not taken as alive; check it before acting on this advice")
        return PatientRead(vital_unknown=said)
    return PatientRead()


#: A FHIR date: a year, a month or a day.
_DATE: Final = re.compile(r"[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?")


def _birth(patient: Mapping[str, Any], label: str, withheld: str | None,
           r: Reader) -> Birth:
    """The Patient's birth date, or why it is not known (``withheld``: why information
    may have been withheld from it, said when it gives none). A ``birthDate`` that is no
    FHIR date is refused, naming it; one given only as a data-absent-reason is not
    known."""
    raw = patient.get("birthDate")
    if isinstance(raw, str) and _DATE.fullmatch(raw) and (days := days_of(raw)) is not None:
        return Birth(days)
    if raw is not None:
        r.issue(f"{label}.birthDate", raw, "must be a date (YYYY, YYYY-MM or YYYY-MM-DD)")
        r.refused_elements.add(f"{label}.birthDate")
        return Birth(None, f"{label}.birthDate is not a date")
    absent = _absent_reason(patient, "birthDate")
    if absent is not None:
        return Birth(None, f"{label}.birthDate is not recorded (data-absent-reason "
                           f"'{absent}')")
    if withheld is not None:
        return Birth(None, f"{withheld}, and it gives no birthDate")
    return Birth(None, f"{label} gives no birthDate")


def withheld_from(patient: Mapping[str, Any], label: str,
                  held_withheld: str | None) -> str | None:
    """Why information may have been withheld from the Patient (its own ``meta`` label,
    the Bundle holding it, a name reading "REDACTED"), said of it, or ``None``."""
    own = searches.withheld_label(patient)
    if own is not None:
        return f"{label} is {own}"
    if held_withheld is not None:
        return f"the Bundle holding {label} is {held_withheld}"
    name = _redacted_name(patient)
    if name is not None:
        return (f"{label}'s name reads {name}: information was withheld from it (a "
                "redacted record)")
    return None


#: A name element that only says it was redacted ("REDACTED", "[redacted]", "***REDACTED***").
_REDACTED: Final = re.compile(r"\W*redacted\W*", re.IGNORECASE)


def _redacted_name(patient: Mapping[str, Any]) -> str | None:
    """The first of the Patient's names whose text, family or a given name reads only
    "REDACTED", quoted, or ``None``."""
    for name in as_list(patient.get("name")):
        if not isinstance(name, dict):
            continue
        for part in (name.get("text"), name.get("family"), *as_list(name.get("given"))):
            if isinstance(part, str) and _REDACTED.fullmatch(part):
                return show_value(part, 40)
    return None


def _deceased(patient: Mapping[str, Any]) -> str | None:
    """What ``Patient.deceased[x]`` says of the patient's death: the date (or date and
    time) given, ``"yes"``, or ``None`` (alive, or not said)."""
    when = patient.get("deceasedDateTime")
    if isinstance(when, str) and when.strip():
        return when.strip()[:40]
    return "yes" if patient.get("deceasedBoolean") is True else None


def _deceased_unreadable(patient: Mapping[str, Any]) -> tuple[str, str] | None:
    """The element of ``Patient.deceased[x]`` given in a JSON type FHIR does not allow
    (``"deceasedBoolean": "true"``, a string; ``"deceasedDateTime": 20260105``, a
    number), and why, or ``None``. The R4B models coerce such values; pecoma reads them
    as neither dead nor alive: whether the patient died is unknown. A ``null`` is a value
    not given, as for any element."""
    said = patient.get("deceasedBoolean")
    if said is not None and not isinstance(said, bool):
        return ("deceasedBoolean", f"is {show_value(said)} ({_json_kind(said)}), not true "
                "or false (a JSON boolean)")
    said = patient.get("deceasedDateTime")
    if said is not None and not isinstance(said, str):
        return ("deceasedDateTime", f"is {show_value(said)} ({_json_kind(said)}), not a "
                "date or a date and time written as text ('2026-01-05')")
    return None


def _json_kind(value: Any) -> str:
    """What a JSON value is, in words ('a string', 'a number')."""
    if isinstance(value, bool):
        return "a boolean"
    return {str: "a string", int: "a number", float: "a number", dict: "an object",
            list: "a list"}.get(type(value), type(value).__name__)


def _absent_reason(patient: Mapping[str, Any], *elements: str) -> str | None:
    """The data-absent-reason one of the Patient's ``elements`` with no value carries (its
    ``_deceasedBoolean`` or ``_birthDate`` twin holding that extension: the value is
    unknown), or ``None``."""
    for key in elements:
        element = patient.get(f"_{key}")
        if isinstance(element, dict):
            for e in as_list(element.get("extension")):
                if isinstance(e, dict) and e.get("url") == DATA_ABSENT_EXTENSION:
                    return str(e.get("valueCode") or "unknown")[:40]
    return None
