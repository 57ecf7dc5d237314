"""The timing of a metastasis (synchronous, metachronous or unknown) as the dates, the
primary's treatment and the stated facts of a case give it (I7, I29).

One rule, read by the engine (:func:`pecoma.engine.facts.derive`) and by the FHIR reader
that tries the days a partial onset date may be
(:func:`pecoma.fhir.read_conditions.settle_partial_onsets`): pure, from the case alone.
"""

from __future__ import annotations

import datetime as dt

from pecoma.case.model import WORK_UP_MONTHS, Case, Metastasis
from pecoma.case.values import Margin, SurgeryStatus, Timing
from pecoma.dates import reached_months

__all__ = ["case_timings", "found_in_work_up", "metastasis_timing"]

_UNTREATED = (SurgeryStatus.planned, SurgeryStatus.not_performed)
# Enum members read for every case, as module constants (on Python 3.11 reading a member
# off its class passes through the enum metaclass, several times slower).
_SYNCHRONOUS, _METACHRONOUS, _UNKNOWN_TIMING = (
    Timing.synchronous,
    Timing.metachronous,
    Timing.unknown,
)


def found_in_work_up(met: Metastasis, anchor: dt.date | None) -> bool:
    """Whether ``met`` was found after the end of the primary's curative treatment
    (``anchor``) but less than :data:`WORK_UP_MONTHS` after it (I29): before the first
    surveillance scan (some 3 months after the end of treatment, S18), so found by a
    staging or restaging scan that may show disease present at presentation as well as an
    early relapse. Only an exact day found says so."""
    day = met.detected_on
    return (day is not None and anchor is not None and day > anchor
            and not reached_months(anchor, day, WORK_UP_MONTHS))


def metastasis_timing(met: Metastasis, anchor: dt.date | None, diagnosed: dt.date | None,
                      untreated: bool, stated_dfi: float | None, alone: bool,
                      not_before: dt.date | None = None) -> Timing:
    """The timing of ``met``: ``anchor`` the end of the primary's curative treatment
    counted from (``None`` when adjuvant treatment followed the surgery, its end not
    recorded: ``not_before`` is then the surgery), ``diagnosed`` the diagnosis date,
    ``untreated`` whether the primary is not treated yet, ``stated_dfi`` the stated
    disease-free interval to the first metastasis, ``alone`` whether it is the only one.

    By the day found it is a step in time: on or before the end of treatment
    synchronous, within the work-up months after it the stated timing (else unknown,
    I29), later metachronous; with no anchor, synchronous up to the surgery or the
    diagnosis, then the same for every later day."""
    if met.detected_on and anchor:
        if met.detected_on <= anchor:
            return _SYNCHRONOUS
        if found_in_work_up(met, anchor):
            # found before the first surveillance scan: present at presentation or an
            # early relapse, the dates do not tell; the stated timing decides, else it is
            # unknown and asked (I29)
            return met.timing
        return _METACHRONOUS
    if met.detected_on is None and met.timing is not _UNKNOWN_TIMING:
        # a stated timing is never set aside for the day it was recorded (the case's
        # checks refuse one that day contradicts)
        return met.timing
    # the day it was found, else the latest it can have been: found by a day, it was
    # there then, whatever the exact day; after it, only an exact day says it came later
    found = met.detected_on or met.detected_on_or_before
    if found and anchor and found <= anchor:
        return _SYNCHRONOUS
    if found and not_before and found <= not_before:
        # found by the surgery (adjuvant treatment followed it, its end not recorded): on
        # or before the end of curative treatment, whenever that was (I7)
        return _SYNCHRONOUS
    if found and diagnosed and found <= diagnosed:
        # found by the time of the diagnosis (a staging scan before the biopsy): before
        # any end of the primary's treatment, so present at presentation (I7)
        return _SYNCHRONOUS
    if met.timing is not _UNKNOWN_TIMING:
        return met.timing
    if untreated:
        # The primary has not been treated yet: the metastasis is there at presentation.
        return _SYNCHRONOUS
    if stated_dfi is not None and stated_dfi > 0:
        # I7: a stated interval of months to the first metastasis: none was there at
        # presentation.
        return _METACHRONOUS
    if stated_dfi == 0 and alone:
        # an interval of 0 to the only metastasis: it was there at presentation
        return _SYNCHRONOUS
    return _UNKNOWN_TIMING


def case_timings(case: Case) -> tuple[Timing, ...]:
    """The timing of each of ``case``'s metastases (:func:`metastasis_timing`), in order:
    counted from the end of the primary's curative treatment unless adjuvant treatment
    followed the surgery, its end not recorded (I5, I7); a stated interval tells that
    none was there at presentation only when it runs to the first metastasis, not to the
    present ones after an earlier relapse (:attr:`pecoma.case.Stage.earlier_presentation`)."""
    stage = case.stage
    mets = stage.metastases
    if not mets:
        return ()
    not_before = case.treatment_end_not_before
    counted_from = None if not_before is not None else case.treatment_end
    untreated = case.surgery.status in _UNTREATED
    stated_dfi = (stage.disease_free_interval_months
                  if stage.earlier_presentation is None else None)
    surgery = case.surgery
    final = surgery.margin if surgery.completion is None else surgery.completion.margin
    if (stated_dfi is not None and stated_dfi > 0 and surgery.status is SurgeryStatus.performed
            and final is Margin.R2 and surgery.gross_residue_cleared is None):
        # the primary's resection left gross tumour (R2 not completed, or completed with
        # R2 again): a stated interval above 0 is not taken as S16's (what cleared the
        # tumour left is not recorded, asked), so it does not make a metastasis without a
        # date metachronous either: one reading of the interval; the timing stays unknown
        # and is asked (I5, I7)
        stated_dfi = None
    alone = len(mets) == 1
    diagnosed = case.diagnosis.date
    return tuple([metastasis_timing(m, counted_from, diagnosed, untreated, stated_dfi,
                                    alone, not_before) for m in mets])
