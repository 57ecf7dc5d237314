"""Facts derived from a case: size in cm, metastasis timing, disease-free interval, stage.

Derivations follow the documented interpretations (I5, I6, I7); a fact that cannot be
derived stays ``None`` (unknown), never a default that looks like an answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, NamedTuple

from pecoma.case import (
    Case,
    DiseaseStatus,
    MetastasisSite,
    Response,
    SurgeryStatus,
    TherapyLine,
    TherapySetting,
    Timing,
    YesNo,
)
from pecoma.dates import full_months_between, reached_months
from pecoma.engine.model import Fact
from pecoma.settings import EngineSettings

__all__ = ["Derived", "derive"]


class Derived(NamedTuple):
    size_cm: float | None
    size_text: str
    anchor: dt.date | None
    timings: tuple[Timing, ...]
    dfi_months: float | None
    dfi_source: Literal["dates", "stated", "unknown"]
    dfi_met: bool | None
    extrapulmonary: YesNo
    advanced: bool | None
    progressed_on_mtor: TherapyLine | None
    first_line: TherapyLine | None

    def facts(self) -> tuple[Fact, ...]:
        """The derived facts worth showing beside the assessment."""
        out = []
        if self.size_cm is not None:
            out.append(Fact("derived.size_cm", f"{self.size_cm:g}"))
        if self.anchor is not None:
            out.append(Fact("derived.primary_treatment_end", self.anchor.isoformat()))
        for i, t in enumerate(self.timings):
            out.append(Fact(f"derived.metastases[{i}].timing", t))
        if self.dfi_months is not None:
            out.append(Fact("derived.disease_free_interval_months", self.dfi_text))
        out.append(Fact("derived.advanced", _tri(self.advanced)))
        return tuple(out)

    @property
    def dfi_text(self) -> str:
        if self.dfi_months is None:
            return "unknown"
        return f"{self.dfi_months:g} months ({self.dfi_source})"


def _tri(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def _timing(case: Case, anchor: dt.date | None, i: int) -> Timing:
    met = case.stage.metastases[i]
    if met.detected_on and anchor:
        return Timing.synchronous if met.detected_on <= anchor else Timing.metachronous
    if met.timing is not Timing.unknown:
        return met.timing
    if case.surgery.status in (SurgeryStatus.planned, SurgeryStatus.not_performed):
        # The primary has not been treated yet: the metastasis is there at presentation.
        return Timing.synchronous
    return Timing.unknown


def _advanced(case: Case) -> bool | None:
    status = case.stage.status
    if status in (DiseaseStatus.metastatic, DiseaseStatus.locally_advanced_unresectable):
        return True
    if status is DiseaseStatus.recurrent:
        r = case.stage.resectable
        return None if r is YesNo.unknown else r is YesNo.no
    return False


def derive(case: Case, settings: EngineSettings) -> Derived:
    anchor = case.treatment_end
    stage = case.stage
    size = case.tumour.size
    mets = stage.metastases
    timings = tuple(_timing(case, anchor, i) for i in range(len(mets))) if mets else ()

    dated = [m.detected_on for m in mets if m.detected_on] if mets else []
    dfi_months: float | None = None
    dfi_source: Literal["dates", "stated", "unknown"] = "unknown"
    dfi_met: bool | None = None
    minimum = settings.metastasectomy_min_dfi_months
    if anchor and dated and len(dated) == len(stage.metastases):
        first = min(dated)
        dfi_months = float(max(full_months_between(anchor, first), 0))
        dfi_source = "dates"
        dfi_met = reached_months(anchor, first, minimum)
    elif stage.disease_free_interval_months is not None:
        dfi_months = stage.disease_free_interval_months
        dfi_source = "stated"
        dfi_met = dfi_months >= minimum

    if any(m.site is not MetastasisSite.lung for m in stage.metastases):
        extrapulmonary = YesNo.yes
    else:
        extrapulmonary = stage.extrapulmonary_disease

    progressed = None
    therapies = case.systemic.therapies
    for t in therapies:
        if t.agent.is_mtor_inhibitor and (
            t.progressed is YesNo.yes or t.best_response is Response.progression
        ):
            progressed = t
            break
    advanced_lines = (
        [t for t in therapies if t.setting is TherapySetting.advanced] if therapies else []
    )
    first_line = None
    if advanced_lines:
        numbered = [t for t in advanced_lines if t.line is not None]
        if numbered:
            first_line = min(numbered, key=lambda t: t.line or 0)
            if first_line.line != 1:
                first_line = None
        else:
            dated_lines = [t for t in advanced_lines if t.started_on is not None]
            if len(dated_lines) == len(advanced_lines):
                first_line = min(dated_lines, key=lambda t: t.started_on or dt.date.min)
            elif len(advanced_lines) == 1:
                first_line = advanced_lines[0]

    return Derived(
        None if size is None else size.cm,
        "unknown" if size is None else str(size),
        anchor,
        timings,
        dfi_months,
        dfi_source,
        dfi_met,
        extrapulmonary,
        _advanced(case),
        progressed,
        first_line,
    )
