"""Every problem of the case form in one pass, and none that is not one: a value refused
is left out and the rest is checked, but a contradiction is told only if it holds
whatever the value left out is, and a date after the evaluation date always."""

from __future__ import annotations

import pytest

from pecoma.web import forms
from pecoma.web.form_layout import CONTROLS, control_of

ON = "2024-01-01"
BASE = {"on": ON, "tumour.primary_site": "kidney", "stage.status": "localized"}
RECURRENT = {"on": ON, "tumour.primary_site": "kidney", "stage.status": "recurrent",
             "stage.local_recurrence": "no", "stage.extrapulmonary_disease": "no",
             "surgery.status": "performed", "surgery.date": "2020-01-10",
             "surgery.margin": "R0", "diagnosis.date": "2020-01-05",
             "free_of_disease.by": "surgery"}


def errors(form: dict[str, str]) -> set[str]:
    result = forms.form_to_case(form)
    assert result.case is None
    return set(result.errors)


@pytest.mark.parametrize(("form", "real", "false"), [
    # a uterine cervix beside a site misspelt: the site is refused, and the cervix is no
    # contradiction of the site the stand-in gives (the uterus is the site meant)
    ({**BASE, "tumour.primary_site": "uterine", "tumour.cervix": "yes"},
     {"tumour.primary_site"}, {"tumour.cervix"}),
    # a status misspelt: no recurrence is "recorded nowhere" (the status meant is localized)
    ({**BASE, "stage.status": "localised", "stage.local_recurrence": "no",
      "stage.extrapulmonary_disease": "no"}, {"stage.status"}, {"stage.local_recurrence"}),
    # the surgery status misspelt: the margin and date are no contradiction of 'unknown'
    ({**BASE, "surgery.status": "Performed", "surgery.date": "2023-01-10",
      "surgery.margin": "R0", "diagnosis.date": "2023-01-05"},
     {"surgery.status"}, {"surgery.margin", "surgery.date"}),
    # the day of freedom from disease unreadable: it is recorded, so the recurrence is not
    # "recorded nowhere"
    ({**RECURRENT, "free_of_disease.since": "2023-02-30"},
     {"free_of_disease.since"}, {"stage.local_recurrence"}),
    # nothing refused, a real contradiction (unresectable beside an R0 resection): the
    # recurrence of a stand-in status is not added
    ({**RECURRENT, "stage.status": "locally_advanced_unresectable",
      "free_of_disease.by": ""}, {"stage.status"}, {"stage.local_recurrence"}),
    # free of disease since a day after the evaluation date: that date alone
    ({**RECURRENT, "free_of_disease.since": "2024-03-01"},
     {"free_of_disease.since"}, {"stage.local_recurrence"}),
])
def test_no_false_error_beside_a_real_one(
    form: dict[str, str], real: set[str], false: set[str]
) -> None:
    found = errors(form)
    assert real <= found
    assert not false & found


def test_a_refused_mitotic_count_hides_nothing() -> None:
    """The mitotic count refused (-1): the margin given for a tumour not operated on and
    the surgery date after the evaluation date are still told (no check compares the
    count with another fact)."""
    form = {"on": "2026-03-01", "tumour.primary_site": "kidney",
            "stage.status": "localized", "surgery.status": "not_performed",
            "surgery.margin": "R1", "surgery.date": "2027-01-10"}
    assert {"surgery.margin", "surgery.date"} <= errors(form)
    refused = errors({**form, "histology.mitoses_per_50_hpf": "-1"})
    assert {"histology.mitoses_per_50_hpf", "surgery.margin", "surgery.date"} <= refused


#: Every control that can refuse a value (the label and the size unit take any text:
#: nothing is refused there, so nothing could hide a date)
FIELDS = [name for name in CONTROLS if "." in name and name != "tumour.size.unit"]


@pytest.mark.parametrize("name", FIELDS)
def test_a_refused_value_does_not_hide_a_future_date(name: str) -> None:
    """Whatever field holds a refused value, a date after the evaluation date elsewhere
    is told beside it (it compares that date with the evaluation date alone)."""
    future = "primary_treatment_end" if name == "diagnosis.date" else "diagnosis.date"
    control = control_of(name)
    assert control is not None
    bad = "-1" if control.kind == "number" else "~no such value~"
    form = {**BASE, future: "2024-06-01", name: bad}
    result = forms.form_to_case(form)
    assert name in result.errors, f"{name} took {bad!r}"
    assert future in result.errors, result.errors
