"""The public surface re-exported by `pecoma` is what the docs promise."""

from __future__ import annotations

import pecoma


def test_public_names() -> None:
    assert set(pecoma.__all__) == {
        "Assessment", "Case", "ConfigError", "FieldIssue", "ImagingEvent", "InputError",
        "Knowledge", "KnowledgeError", "PecomaError", "Settings", "SurveillancePlan",
        "__version__", "assess", "default_settings", "load_knowledge", "load_settings",
        "parse_case", "parse_case_json", "plan_surveillance", "to_jsonable",
    }
    for name in pecoma.__all__:
        assert hasattr(pecoma, name), name


def test_error_tree() -> None:
    for cls in (pecoma.InputError, pecoma.KnowledgeError, pecoma.ConfigError):
        assert issubclass(cls, pecoma.PecomaError)
