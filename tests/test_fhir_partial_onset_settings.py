"""The partial-onset note words S16's interval from the settings the reading runs with.

A metastasis whose onset is known only to the month or the year is recorded as found on
or before the last day it may be, and a note says what the engine then reads of the
disease-free interval: not met, asked, or met (tests/test_fhir_metastasis_partial_onset.py).
That note derived the interval, and quoted S16's minimum, from the default settings
whatever settings the evaluation ran with: the note could then say "asked" (the default
12 months) while the assessment, run with its own minimum, said "not met", and quote a
number the assessment does not use. S16 allows only 1 year today, so a settings object
with another minimum is built here by copy (not a file a user could load): it stands for
any reading the settings may one day allow.
"""

from __future__ import annotations

from pecoma.engine import assess
from pecoma.fhir.reader import case_from_bundle
from pecoma.settings import Settings, default_settings
from test_fhir_metastasis_partial_onset import LUNG_METASTASIS, ON, _record


def _with_minimum(months: int) -> Settings:
    """The default settings with S16's minimum interval set to ``months``."""
    base = default_settings()
    engine = base.engine.model_copy(update={"metastasectomy_min_dfi_months": months})
    return base.model_copy(update={"engine": engine})


def _note(notes: list[str]) -> str:
    return next(n for n in notes if n.startswith(f"{LUNG_METASTASIS}: its onset"))


def test_the_note_uses_the_minimum_in_use() -> None:
    """Onset April 2025, the hysterectomy 2024-04-09: the interval is between 11 and 12
    months whatever the day. With a minimum of 18 months it is short of it on every day:
    not met, not asked, and the note says so with 18 (by hand: 12 < 18). The assessment
    with the same settings agrees: S16's interval is not asked."""
    settings = _with_minimum(18)
    bc = case_from_bundle(_record("2025-04"), validate="none", on=ON, settings=settings)
    said = _note(bc.notes)
    assert "short of S16's 18 months, the interval is not met (not asked)" in said, said
    assert "at most 12 months whatever the day" in said, said
    a = assess(bc.case, ON, settings)
    assert "MISS-DFI" not in {m.id for m in a.missing}


def test_the_asked_wording_uses_the_minimum_in_use() -> None:
    """Onset 2026 (to the evaluation date 2026-12-07): the interval may reach 32 months;
    with a minimum of 10 months the bound does not decide it either: asked, the note
    quoting 10 months (by hand), not the default 12."""
    settings = _with_minimum(10)
    bc = case_from_bundle(_record("2026"), validate="none", on=ON, settings=settings)
    said = _note(bc.notes)
    assert "reaching S16's 10 months" in said and "S16's 12 months" not in said, said
    assert "MISS-DFI" in {m.id for m in assess(bc.case, ON, settings).missing}


def test_without_settings_the_defaults() -> None:
    """No settings given: the defaults (12 months), as every caller without settings."""
    bc = case_from_bundle(_record("2025-04"), validate="none", on=ON)
    assert "reaching S16's 12 months" in _note(bc.notes)
