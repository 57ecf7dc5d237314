"""The registry's bridge to the engine's scheduler (:mod:`pecoma.engine.schedule`).

Stored scans become :class:`~pecoma.engine.imaging.ImagingEvent` values; the plan itself
is always drawn by :func:`~pecoma.engine.schedule.plan_surveillance`, never here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pecoma.case import Case
from pecoma.engine.imaging import ImagingEvent, Modality, ScanFinding
from pecoma.engine.model import Assessment
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import Knowledge
from pecoma.settings import Settings

if TYPE_CHECKING:
    from pecoma.store.repository import ScanData

__all__ = ["done_by", "events_of", "plan_for"]


def events_of(scans: Sequence[ScanData]) -> tuple[ImagingEvent, ...]:
    """Stored scans as the scheduler's imaging events."""
    return tuple(
        ImagingEvent(s.performed_on, Modality(s.modality), ScanFinding(s.finding)) for s in scans
    )


def done_by(scans: Sequence[ScanData], on_date: dt.date) -> Sequence[ScanData]:
    """The scans done by ``on_date``: a plan as of a date knows no scan done after it, as
    it counts no outcome dated later (a plan of a past date can be reproduced)."""
    if all(s.performed_on <= on_date for s in scans):
        return scans
    return tuple(s for s in scans if s.performed_on <= on_date)


def plan_for(
    case: Case,
    assessment: Assessment,
    on_date: dt.date,
    scans: Sequence[ScanData],
    settings: Settings,
    knowledge: Knowledge | None = None,
) -> SurveillancePlan:
    """The patient's surveillance plan as of ``on_date``, with the scans done by then
    (:func:`done_by`; may raise :class:`InputError`)."""
    return plan_surveillance(case, assessment, on_date, events_of(done_by(scans, on_date)),
                             settings, knowledge)
