"""pecoma: decision support for the PEComa treatment guideline.

The public surface: :class:`Case` and :func:`parse_case` (the way in), :func:`assess`
(the pure engine), :class:`Assessment` (what comes out), the settings and knowledge
loaders, and the exception tree of :mod:`pecoma.errors`.
"""

__version__ = "0.1.0"

from pecoma.case import Case, parse_case, parse_case_json
from pecoma.engine import Assessment, assess, to_jsonable
from pecoma.errors import (
    ConfigError,
    FieldIssue,
    InputError,
    KnowledgeError,
    PecomaError,
)
from pecoma.knowledge import load_knowledge
from pecoma.settings import Settings, default_settings, load_settings

__all__ = [
    "Assessment",
    "Case",
    "ConfigError",
    "FieldIssue",
    "InputError",
    "KnowledgeError",
    "PecomaError",
    "Settings",
    "__version__",
    "assess",
    "default_settings",
    "load_knowledge",
    "load_settings",
    "parse_case",
    "parse_case_json",
    "to_jsonable",
]
