"""pecoma: decision support for the PEComa treatment guideline.

The public surface: :class:`Case` and :func:`parse_case` (the way in), :func:`assess`
(the pure engine), :class:`Assessment` (what comes out, frozen dataclasses),
:func:`plan_surveillance` (the dated surveillance plan) with :class:`SurveillancePlan`
and :class:`ImagingEvent`, the settings and :class:`Knowledge` loaders, and the
exception tree of :mod:`pecoma.errors`. See docs/library.md.
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from pecoma.case import Case, parse_case, parse_case_json
from pecoma.engine import Assessment, assess, to_jsonable
from pecoma.errors import (
    ConfigError,
    FieldIssue,
    InputError,
    KnowledgeError,
    PecomaError,
)
from pecoma.knowledge import Knowledge, load_knowledge
from pecoma.settings import Settings, default_settings, load_settings

if TYPE_CHECKING:
    from pecoma.engine.imaging import ImagingEvent
    from pecoma.engine.plan import SurveillancePlan
    from pecoma.engine.schedule import plan_surveillance

_SCHEDULE = {
    "ImagingEvent": "pecoma.engine.imaging",
    "SurveillancePlan": "pecoma.engine.plan",
    "plan_surveillance": "pecoma.engine.schedule",
}


def __getattr__(name: str) -> Any:
    # The planner is imported when first asked for: commands that do not plan do not
    # pay for it at start-up.
    if name in _SCHEDULE:
        from importlib import import_module

        return getattr(import_module(_SCHEDULE[name]), name)
    raise AttributeError(f"module 'pecoma' has no attribute {name!r}")


__all__ = [
    "Assessment",
    "Case",
    "ConfigError",
    "FieldIssue",
    "ImagingEvent",
    "InputError",
    "Knowledge",
    "KnowledgeError",
    "PecomaError",
    "Settings",
    "SurveillancePlan",
    "__version__",
    "assess",
    "default_settings",
    "load_knowledge",
    "load_settings",
    "parse_case",
    "parse_case_json",
    "plan_surveillance",
    "to_jsonable",
]
