"""``assess(case, on_date)``: the pure entry point of the engine.

No database, network, environment or clock inside: the evaluation date is a parameter,
and the same case, date, settings and knowledge give the same assessment, byte for byte.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from pecoma import __version__
from pecoma.case import Case, dated_facts
from pecoma.engine import groups, risk
from pecoma.engine.collect import Collector
from pecoma.engine.facts import derive
from pecoma.engine.model import ASSESSMENT_FORMAT, Assessment, UsedInterpretation
from pecoma.errors import FieldIssue, InputError
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.settings import Settings, default_settings

__all__ = ["assess", "check_dates"]


def check_dates(case: Case, on_date: dt.date) -> None:
    """Reject facts dated after the evaluation date (they cannot have happened yet)."""
    latest = case.latest_date
    if latest is None or latest <= on_date:
        return
    issues = [
        FieldIssue(path, day.isoformat(), f"must not be after the evaluation date "
                   f"({on_date.isoformat()})")
        for path, day in dated_facts(case)
        if day > on_date
    ]
    if issues:
        raise InputError(issues)


@lru_cache(maxsize=256)
def _interpretations(
    knowledge: Knowledge, used: frozenset[str]
) -> tuple[UsedInterpretation, ...]:
    return tuple(
        UsedInterpretation(i, knowledge.interpretations[i].title, knowledge.interpretations[i].text)
        for i in sorted(used, key=lambda x: int(x[1:]))
    )


def assess(
    case: Case,
    on_date: dt.date,
    settings: Settings | None = None,
    knowledge: Knowledge | None = None,
) -> Assessment:
    """What the guideline recommends for ``case`` as of ``on_date``, and why."""
    settings = settings or default_settings()
    knowledge = knowledge or load_knowledge()
    check_dates(case, on_date)
    engine = settings.engine
    out = Collector(knowledge)
    d = derive(case, engine)

    guideline = risk.guideline_risk(case, d, engine, out)
    folpe = risk.folpe_2005(case, d, engine, out)
    classifications = [folpe]
    bennett = risk.bennett_2018(case, d, engine, out)
    if bennett is not None:
        classifications.append(bennett)
    classifications.append(risk.icdo3_hint(case, folpe, out))

    groups.local_treatment(case, d, engine, out, guideline.item.conditional_on)
    groups.systemic(case, d, out)
    groups.relapse_referral_and_diagnosis(case, d, out)
    groups.ihc_panel(case, out)
    groups.alerts_and_surveillance(case, guideline, out)

    result: Assessment = _new(
        Assessment,
        (
            ASSESSMENT_FORMAT,
            on_date,
            __version__,
            knowledge.version,
            settings.fingerprint,
            case.label,
            case.stage.status,
            d.advanced,
            guideline,
            tuple(classifications),
            tuple(out.recommendations),
            tuple(out.alerts),
            tuple(out.followup),
            out.missing_facts(),
            d.facts(),
            _interpretations(knowledge, frozenset(out.interpretations)),
            knowledge.intended_use,
        ),
    )
    return result


_new = tuple.__new__
