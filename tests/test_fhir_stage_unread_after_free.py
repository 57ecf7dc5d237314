"""FHIR in: a stage group after the day the patient became free of disease, written so
that pecoma read no value from it.

The record is the kidney corpus with only its liver metastasis left, resolved on
2024-03-05 (as in tests/test_fhir_present_after_abatement.py), its disease status
replaced by a stage group (LOINC 21902-2) of 2025-03-02. A stage group written as a
valueString ("IV") was shown as "(no value)": the reader said it could not tell whether
it was stage IV, and in the same output kept the patient free of disease since the
abatement (or since a free-of-disease record), advising surveillance only (I8) to a
patient whose record says stage IV a year later. A staging value pecoma cannot read at
all (a value of another type, a local code with no words) was left out the same way.

Expected, each by hand: valueString "IV" is the stage group IV in words, so the disease
is present again (S12, S13: the first-line mTOR inhibitor); a staging value pecoma
cannot read dated after the day does not say the disease is gone (unknown is not
absent), so the patient is not taken as free of disease, and the note names it. One
dated before the day speaks of the disease that resolved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pecoma.fhir.reader import BundleCase
from test_fhir_present_after_abatement import (
    FIRST_LINE,
    FREE,
    LATER,
    LOINC,
    STATUS,
    _ids,
    _read,
    _res,
    _resolved_liver_only,
    _with_free,
)

STAGE_GROUP = {"coding": [{"system": LOINC, "code": "21902-2"}]}


def _stage(day: str = LATER, **value: Any) -> dict[str, Any]:
    """The record with its disease status replaced by a stage group of ``day`` valued
    ``value`` (``valueString=...``, ``valueInteger=...``)."""
    bundle = _resolved_liver_only()
    obs = _res(bundle, STATUS)
    obs.pop("valueCodeableConcept")
    obs.update(id="stage-group", code=STAGE_GROUP, effectiveDateTime=day, **value)
    return bundle


def _notes(bc: BundleCase, start: str) -> str:
    (note,) = [n for n in bc.notes if n.startswith(start)]
    return note


#: Stage group values pecoma cannot read: a number, a local code with no display
#: (whether either states stage IV is not known).
UNREAD = {
    "integer": {"valueInteger": 4},
    "local-code-no-words": {"valueCodeableConcept": {"coding": [
        {"system": "http://hospital.example/stage", "code": "S4"}]}},
}


class TestStageGroupInWords:
    def test_value_string_iv_is_stage_iv(self) -> None:
        """valueString "IV" after the abatement: the stage group IV, so the disease is
        present again (nodes or distant metastases). Expected: no free of disease, the
        note naming the stage group, the first-line mTOR inhibitor (S12, S13), never
        "free of disease after relapse" (I8)."""
        bc = _read(_stage(valueString="IV"))
        assert bc.case.free_of_disease is None
        note = _notes(bc, "free_of_disease not derived")
        assert "Observation/stage-group" in note and "the disease is present again" in note
        ids = _ids(bc)
        assert FIRST_LINE in ids and FREE not in ids

    def test_value_string_iv_against_a_free_of_disease_record(self) -> None:
        """The same stage group after a free-of-disease record of 2024-04-01: expected
        not read, the stage group named."""
        bc = _read(_with_free(_stage(valueString="Stage IV")))
        assert bc.case.free_of_disease is None
        assert "Observation/stage-group" in _notes(bc, "free_of_disease not read")
        assert FREE not in _ids(bc)


class TestStageGroupUnread:
    @pytest.mark.parametrize("kind", list(UNREAD))
    def test_not_free_of_disease(self, kind: str) -> None:
        """A stage group after the abatement whose value pecoma cannot read: it may say
        stage IV. Expected: not free of disease (the safer reading), the note naming it
        as not saying whether the disease is there, and the advice for present disease."""
        bc = _read(_stage(**UNREAD[kind]))
        assert bc.case.free_of_disease is None
        note = _notes(bc, "free_of_disease not derived")
        assert "Observation/stage-group" in note and "cannot read" in note
        ids = _ids(bc)
        assert FIRST_LINE in ids and FREE not in ids

    @pytest.mark.parametrize("kind", list(UNREAD))
    def test_against_a_free_of_disease_record(self, kind: str) -> None:
        """The same after a free-of-disease record: expected not read, named."""
        bc = _read(_with_free(_stage(**UNREAD[kind])))
        assert bc.case.free_of_disease is None
        assert "Observation/stage-group" in _notes(bc, "free_of_disease not read")

    def test_before_the_day_speaks_of_the_disease_that_resolved(self) -> None:
        """The same unread stage group dated 2024-02-01, before the metastasis resolved:
        it speaks of the disease then (boundary of the rule above). Expected: free of
        disease since the abatement, 2024-03-05."""
        bc = _read(_stage("2024-02-01", **UNREAD["integer"]))
        assert bc.case.free_of_disease is not None
        assert bc.case.free_of_disease.since == dt.date(2024, 3, 5)
