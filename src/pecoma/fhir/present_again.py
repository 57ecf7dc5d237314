"""Whether the PEComa is present again after every one of its metastases resolved: the
record's statements of the disease, placed against the latest abatement date, the day
the patient would be taken as free of disease since
(:func:`pecoma.fhir.read_conditions.read_metastases`).

The statements are those the reader already reads as the PEComa's: an mCODE
CancerDiseaseStatus (LOINC 97509-4), a TNM distant metastases category of M1, a TNM
stage group IV (soft-tissue sarcoma: involved nodes or distant metastases), the
project's own disease status, a PEComa Condition saying it has recurred
(``Reader.primary_recurred``: its clinicalStatus ``recurrence`` or ``relapse``, or its
words), a further PEComa Condition not in the past whose onset is after the day (a
PEComa that arose after it; an onset given as an age placed by the days it may be from
the birth date: :func:`pecoma.fhir.ages.age_days`), a Condition naming PEComa in
words pecoma does not read (``Reader.pecoma_unread``: whether it says the disease is
there is not known), and a staging result whose value pecoma cannot read
(``Reader.staging_unread_all``: whether it states stage IV or M1 is not known). A
statement of present disease dated after that day says the disease came back, so the
patient is not free of disease: the advice is for present disease. One that cannot be
placed before or after it (undated, of that same day, a partial date holding it, or a
period running past it) may say either: the patient is not taken as free of disease
then either (the safer reading), and the note asks. Only a full remission or "not
detected" says the disease is gone; one dated before the day (a period ended before it)
speaks of the disease that then resolved.

A free-of-disease record the team wrote (the project's Observation, valued the day the
patient became free of disease) is held to the same statements, placed against its day
(:func:`explicit_free_contradicted`), except the project's own disease status: in the
case model that names the disease the patient had ('metastatic', 'recurrent') beside
the day they became free of it, and the project's writer sends it undated beside the
free-of-disease record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

from pecoma.errors import show_value
from pecoma.fhir import codes as c
from pecoma.fhir import mcode as m
from pecoma.fhir.ages import age_days
from pecoma.fhir.medications import days_of
from pecoma.fhir.reading import (
    Reader,
    codings,
    extension,
    given_without_day,
    project_code,
    refuse_backwards,
)

__all__ = ["explicit_free_contradicted", "present_again"]

#: The project's own disease status values saying disease is there (``localized``, after
#: metastases, is a contradiction the case model refuses).
_PRESENT_STATUSES: Final = frozenset({"metastatic", "recurrent",
                                      "locally-advanced-unresectable"})
_UNDETERMINED: Final = "709137006"


@dataclass(frozen=True, slots=True)
class _Statement:
    """A statement of the disease: where, what it says (as the note quotes it), whether
    it says disease is there (``False``: whether the disease is gone is not known), and
    where it stands against the abatement date: ``after``, ``before`` or ``unplaced``,
    with its day as written (or why it has none)."""

    where: str
    says: str
    present: bool
    when: str
    day: str
    #: How the note says what it states, and why a statement not saying the disease is
    #: there still does not say it is gone.
    verb: str = "states"
    unsure: str = "which does not say the disease is gone (only a full remission or " \
        "'not detected' does)"


def present_again(since: dt.date, observations: list[tuple[str, dict[str, Any]]],
                  r: Reader) -> tuple[str, str] | None:
    """Why the patient is not taken as free of disease since ``since`` (the latest
    abatement date of the resolved metastases): where the first statement saying so is,
    and the note naming each; ``None`` when no statement of the disease's presence is
    dated after it or cannot be placed against it."""
    found = [s for s in _statements(since, observations, r) if s.when != "before"]
    if not found:
        return None
    return found[0].where, (
        "free_of_disease not derived from the resolved metastases (their latest abatement "
        f"date, {since.isoformat()}): {_said_of(found)}. The disease is taken as present "
        "(the safer reading: the advice is for present disease), the resolved metastases "
        "as history, not listed as present disease; record the metastases present now "
        "(mCODE SecondaryCancerCondition, with onset and clinicalStatus), or, if the "
        f"patient is free of disease, since when (an Observation coded {c.PECOMA_SYSTEM}|"
        f"{c.OBS_FREE_OF_DISEASE[0]} valued the day it became so, after these statements)")


def explicit_free_contradicted(since: dt.date, where: str,
                               observations: list[tuple[str, dict[str, Any]]],
                               r: Reader) -> tuple[str, str] | None:
    """Why the free-of-disease record at ``where`` (free of disease since ``since``) is
    not read: where the first statement of the disease's presence dated after that day,
    or that cannot be placed against it, is, and the note naming each; ``None`` when
    there is none. The project's own disease status is not such a statement here (see
    the module's docstring)."""
    found = [s for s in _statements(since, observations, r, own_status=False)
             if s.when != "before"]
    if not found:
        return None
    return found[0].where, (
        f"free_of_disease not read from {where} (free of disease since "
        f"{since.isoformat()}): {_said_of(found)}. The disease is taken as present (the "
        "safer reading: the advice is for present disease); record where the disease is "
        "now (the metastases present, mCODE SecondaryCancerCondition with onset and "
        "clinicalStatus, or the disease status), or, if the patient is free of disease "
        "again, since when (that Observation valued a day after these statements)")


def _said_of(found: list[_Statement]) -> str:
    """Each statement found, and how it stands against the day."""
    parts = []
    for s in found:
        if s.when == "unplaced":
            parts.append(f"{s.where} ({s.day}) {s.verb} {s.says} and cannot be placed "
                         "before or after that day")
        elif s.present:
            parts.append(f"{s.where} ({s.day}) {s.verb} {s.says}: the disease is present "
                         "again")
        else:
            parts.append(f"{s.where} ({s.day}) {s.verb} {s.says}, {s.unsure}")
    return "; ".join(parts)


def _statements(since: dt.date, observations: list[tuple[str, dict[str, Any]]],
                r: Reader, own_status: bool = True) -> Iterator[_Statement]:
    """The statements of the disease's presence the reader read as the PEComa's, placed
    against ``since`` (the project's own disease status among them if ``own_status``)."""
    if r.primary_recurred is not None:
        # a Condition's clinicalStatus is the status it has now
        yield _Statement(r.primary_recurred, "that the PEComa has recurred", True, "after",
                         "a Condition's status is the one it has now")
    for where, cond in r.pecoma_beside:
        # a further PEComa Condition, not in the past, that arose after the day: the
        # PEComa came back (or a new one arose); one with no onset is the PEComa
        # recorded again, as the primary's own entry is
        placed = _onset_placed(cond, where, since, r)
        if placed is not None and placed[0] != "before":
            yield _Statement(where, "a PEComa, not in the past, beside the one read as the "
                             "primary", True, *placed, verb="records")
    for where, cond in r.pecoma_unread:
        placed = _onset_placed(cond, where, since, r)
        if placed is not None:
            when, day = placed
        elif (entered := days_of(cond.get("recordedDate"))) is not None \
                and entered.latest < since:
            when, day = "before", f"no onset, recorded {cond['recordedDate']}"
        else:
            when, day = "unplaced", "no onset: it may be of any time"
        words = m.lower_words(cond.get("code")) or m.lower_words(
            (extension(cond, c.MCODE_MORPHOLOGY) or {}).get("valueCodeableConcept"))
        yield _Statement(where, f"PEComa in words pecoma does not read ({show_value(words, 80)})",
                         False, when, day, verb="names",
                         unsure="which pecoma cannot read as the PEComa, its recurrence or "
                         "another disease: whether the disease is there is not known")
    for where, obs in observations:
        if where in r.staging_unread_all:
            # a staging value pecoma cannot read: whether it states stage IV or M1 is
            # unknown, so it does not say the disease is gone (unknown is not absent)
            when, day = _placed(obs, since)
            yield _Statement(where, "a staging value pecoma cannot read "
                             f"({show_value(m.staging_value_shown(obs), 60)})", False, when,
                             day, unsure="which may state stage IV or distant metastases: "
                             "whether the disease is there is not known")
            continue
        if where not in r.used:  # not read as the PEComa's (another disease's, ...)
            continue
        kind = r.kinds.get(id(obs))
        if kind == "handler" and not own_status:
            continue
        said = _said(obs, kind)
        if said is not None:
            when, day = _placed(obs, since)
            yield _Statement(where, said[0], said[1], when, day)


def _said(obs: Mapping[str, Any], kind: str | None) -> tuple[str, bool] | None:
    """What a result says of the disease's presence, and whether it says disease is
    there (``False``: whether it is gone is not known); ``None``: nothing (another
    result, a full remission, an M0, a status with no value)."""
    concept = m.staging_value(obs) if kind == "staging" else obs.get("valueCodeableConcept")
    if kind == "status":
        if concept is None and obs.get("dataAbsentReason") is not None:
            return None
        codes = {code for system, code in codings(concept) if system == c.SNOMED}
        named = [m.DISEASE_STATUS_TREND[k] for k in sorted(codes) if k in m.DISEASE_STATUS_TREND]
        words = ", ".join(named) or m.lower_words(concept) or "a value pecoma does not read"
        says = f"the cancer disease status {show_value(words, 60)}"
        gone, there = bool(codes & m.DISEASE_STATUS_GONE), bool(codes & m.DISEASE_STATUS_PRESENT)
        if gone and not there and _UNDETERMINED not in codes:
            return None
        # undetermined, codes that disagree, or no code pecoma reads: not known to be gone
        return says, there and not gone
    if kind == "staging" and set(codings(obs.get("code"))) & m.M_CATEGORY_CODES:
        if m.m_category(concept) != "M1":
            return None
        words = m.lower_words(concept) or ", ".join(code for _s, code in codings(concept))
        return f"the TNM distant metastases category {show_value(words, 60)}", True
    if kind == "staging" and m.stage_group(concept) == "IV":
        # stage IV of soft-tissue sarcoma is involved nodes or distant metastases: a
        # stage assigned then says the disease was there
        words = m.lower_words(concept) or ", ".join(code for _s, code in codings(concept))
        return f"the TNM stage group {show_value(words, 60)} (nodes or distant metastases)", True
    if kind == "handler" and project_code(obs.get("code")) == c.OBS_DISEASE_STATUS[0]:
        status = project_code(concept)
        if status in _PRESENT_STATUSES:
            return f"the disease status '{status}'", True
    return None


def _placed(obs: Mapping[str, Any], since: dt.date) -> tuple[str, str]:
    """Where a result stands against ``since``: ``after``, ``before`` or ``unplaced``
    (undated, of that day, a partial date holding it, or a period running past it or
    holding it), with its day as written. A period is before the day only when it ended
    before it (FHIR: a period with no end is ongoing), after it only when it began after
    it. With no effective time, one issued before ``since`` is of a time before it (a
    result is issued once it is made); one issued later may be of any time."""
    raw = next((obs[k] for k in ("effectiveDateTime", "effectiveInstant")
                if isinstance(obs.get(k), str)), None)
    if raw is not None:
        return _placed_raw(raw, since, "dated")
    period = obs.get("effectivePeriod")
    if isinstance(period, dict) and any(isinstance(period.get(k), str)
                                        for k in ("start", "end")):
        return _placed_period(period, since)
    issued = obs.get("issued")
    days = days_of(issued)
    if days is not None and days.latest < since:
        return "before", f"issued {issued}"
    if days is not None:
        return "unplaced", f"no effective time, issued {issued}: it may be of an earlier time"
    return "unplaced", "undated"


def _placed_raw(raw: str, since: dt.date, how: str) -> tuple[str, str]:
    """Where a day as written (a date, a dateTime, a partial date) stands against
    ``since``, and the day as the note shows it (``how``: 'dated', 'onset')."""
    days = days_of(raw)
    if days is not None and days.earliest > since:
        return "after", f"{how} {raw}, after it"
    if days is not None and days.latest < since:
        return "before", f"{how} {raw}"
    if days is not None and days.day is not None:
        return "unplaced", f"{how} {raw}, the same day"
    if days is not None:
        return "unplaced", f"{how} {raw}, a partial date holding that day"
    return "unplaced", f"{how} {show_value(raw, 40)}, not a date pecoma reads"


def _placed_period(period: Mapping[str, Any], since: dt.date) -> tuple[str, str]:
    """Where an ``effectivePeriod`` stands against ``since``: after it when it began after
    it, before it when it ended before it; otherwise it runs past that day or holds it
    (or its days cannot be read): unplaced."""
    start, end = period.get("start"), period.get("end")
    first = days_of(start) if isinstance(start, str) else None
    last = days_of(end) if isinstance(end, str) else None
    shown = f"effective {_end_shown(start, first, 'start')} to {_end_shown(end, last, 'end')}"
    if first is not None and first.earliest > since:
        return "after", f"{shown}, after it"
    if last is not None and last.latest < since:
        return "before", shown
    if (isinstance(start, str) and first is None) or (isinstance(end, str) and last is None):
        return "unplaced", f"{shown}, not a period pecoma reads"
    if last is None:
        return "unplaced", f"{shown}: a period with no end is ongoing, so it may run past that day"
    return "unplaced", f"{shown}, a period running past that day or holding it"


def _end_shown(raw: Any, days: Any, what: str) -> str:
    """An end of a period as the note shows it: as written when read, quoted when not."""
    if not isinstance(raw, str):
        return f"(no {what})"
    return raw if days is not None else show_value(raw, 40)


def _onset_placed(cond: Mapping[str, Any], where: str, since: dt.date,
                  r: Reader) -> tuple[str, str] | None:
    """Where a Condition's onset stands against ``since``, with its day as the note shows
    it; ``None`` when it gives no onset. A day (``onsetDateTime``, an ``onsetPeriod``'s
    start; a reversed period refused) is placed as a result's is; an age or a range of
    ages by the days it may be from the birth date (:func:`pecoma.fhir.ages.age_days`).
    An onset that holds no day, or whose days hold ``since``, is before it when the
    Condition was recorded before it (it began before it, whatever its onset says), else
    it cannot be placed."""
    refuse_backwards(cond.get("onsetPeriod"), where, "onsetPeriod",
                     "when it began, placed against the day the patient would be free of "
                     "disease since, is read from it", r)
    raw = _onset_raw(cond)
    if raw is not None:
        return _placed_raw(raw, since, "onset")
    given = given_without_day(cond, "onset")
    if given is None:
        return None
    age = age_days(cond, "onset", where, r.birth, r)
    said = f"onset given as {given if age is None else age}"
    if age is not None and age.why is None:
        if age.first is not None and age.first > since:
            return "after", f"{said}, after it"
        if age.last is not None and age.last < since:
            return "before", said
    entered = days_of(cond.get("recordedDate"))
    if entered is not None and entered.latest < since:
        # recorded before the day: it began before it, whatever its onset says
        return "before", f"{said}, recorded {cond['recordedDate']}"
    if age is not None and age.why is None:
        return "unplaced", f"{said}, holding that day"
    # an onset given as an age with no birth date, a range or text holds no day pecoma
    # places: it may be after the day, so it is not taken as the PEComa recorded again
    return "unplaced", f"{said}, which holds no day pecoma places"


def _onset_raw(cond: Mapping[str, Any]) -> str | None:
    """A Condition's onset as written (``onsetDateTime``, else its period's start), or
    ``None``."""
    onset = cond.get("onsetDateTime")
    if isinstance(onset, str):
        return onset
    period = cond.get("onsetPeriod")
    start = period.get("start") if isinstance(period, dict) else None
    return start if isinstance(start, str) else None
