"""A number of the case format written as JSON text is a plain decimal (:mod:`pecoma.numbers`).

Lax parsing read ``"4_5"`` as 45 (a digit separator) and ``"1e1"`` as 10: a 4.5 cm renal
PEComa (low risk, all worrisome features absent) became a tumour of 45 cm, high risk (S06:
larger than 5 cm), through ``POST /api/v1/assess`` and every other way in. A number written
as a JSON number (``10``, ``1e1``, ``4.5``) is a number, and a text of a plain decimal
(``"4.5"``) stays accepted.
"""

from __future__ import annotations

from typing import Any

import pytest

from pecoma.case.parse import parse_case
from pecoma.errors import InputError
from pecoma.numbers import PLAIN_NUMBER_RULE


def kidney(size: Any = 4.5, mitoses: Any = 0) -> dict[str, Any]:
    return {"tumour": {"primary_site": "kidney", "size": {"value": size, "unit": "cm"}},
            "histology": {"mitoses_per_50_hpf": mitoses},
            "stage": {"status": "localized"}}


@pytest.mark.parametrize(("path", "case"), [
    ("tumour.size.value", kidney(size="4_5")),
    ("tumour.size.value", kidney(size="1e1")),
    ("tumour.size.value", kidney(size="0x10")),
    ("tumour.size.value", kidney(size="4.5e0")),
    ("histology.mitoses_per_50_hpf", kidney(mitoses="1_0")),
])
def test_a_number_as_text_that_is_not_a_plain_decimal_is_refused(
    path: str, case: dict[str, Any]
) -> None:
    with pytest.raises(InputError) as err:
        parse_case(case, "case.json")
    assert [(i.path, i.rule) for i in err.value.issues] == [(path, PLAIN_NUMBER_RULE)]


@pytest.mark.parametrize(("size", "cm"), [("4.5", 4.5), (" 4.5 ", 4.5), (4.5, 4.5),
                                          (1e1, 10.0), ("12", 12.0)])
def test_plain_decimals_and_json_numbers_are_read(size: Any, cm: float) -> None:
    assert parse_case(kidney(size=size), "case.json").tumour.size.value == cm  # type: ignore[union-attr]


@pytest.mark.parametrize(("path", "case"), [
    ("tumour.size.value", kidney(size=float("nan"))),
    ("tumour.size.value", kidney(size=float("inf"))),
    ("histology.mitoses_per_50_hpf", kidney(mitoses=float("nan"))),
    ("histology.mitoses_per_50_hpf", kidney(mitoses=float("inf"))),
    ("histology.mitoses_per_50_hpf", kidney(mitoses=float("-inf"))),
    ("stage.disease_free_interval_months",
     {**kidney(), "stage": {"status": "localized", "disease_free_interval_months": float("nan")}}),
])
def test_a_nan_or_infinity_token_is_refused_as_no_finite_number(
    path: str, case: dict[str, Any]
) -> None:
    """Python's json writes NaN and Infinity as bare tokens, and reads them back. Such a
    value is no number: NaN is neither above nor below a field's bounds, so the refusal
    must not name one ("must be greater than 0 (got nan)", "must be less than or equal to
    500 (got nan)" had sent the user to the wrong fix); it says a finite number is
    needed, the field and nothing else."""
    with pytest.raises(InputError) as err:
        parse_case(case, "case.json")
    assert [(i.path, i.rule) for i in err.value.issues] == [
        (path, "must be a finite number such as 4.5, not NaN or Infinity")]
