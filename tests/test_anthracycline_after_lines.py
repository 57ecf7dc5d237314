"""S14's anthracycline option for a patient who has already had other lines (I19).

S14 offers anthracycline-based chemotherapy (doxorubicin), when mTOR inhibitors are
unavailable or contraindicated, as a first-line treatment that can be considered. The
item had said "can be considered as first-line treatment" to a patient whose disease had
progressed on gemcitabine with docetaxel and then on dacarbazine, naming neither line: a
board read a third line as a first one. The force is kept ("can be considered"); the item
now says that the guideline offers it as the first line, and, where lines for advanced
disease are recorded, names each and how many, so that it is not read as a first line.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.model import Fact, Item

ON = dt.date(2026, 11, 28)
EARLIER = "derived.earlier_lines"

#: Retroperitoneal PEComa resected R0 in 2024, a liver metastasis in 2025 that cannot be
#: removed; mTOR inhibitors unavailable.
BASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "retroperitoneum", "size": {"value": 10, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present", "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2025-06-01"}],
              "extrapulmonary_disease": "yes", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2024-02-01", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "no", "anthracycline_contraindicated": "no"},
}

GEMDOC = {"agent": "gemcitabine_docetaxel", "line": 1, "started_on": "2025-07-01",
          "progressed": "yes"}
DACARBAZINE = {"agent": "dacarbazine", "line": 2, "started_on": "2025-11-01",
               "progressed": "yes"}


def s14(*lines: dict[str, Any]) -> Item:
    data = copy.deepcopy(BASE)
    data["systemic"]["therapies"] = list(lines)
    a = assess(parse_case(data), ON)
    return next(i for i in a.recommendations if i.id == "REC-ANTHRACYCLINE")


def earlier(i: Item) -> str | None:
    return next((f.value for f in i.triggered_by if f.path == EARLIER), None)


class TestAfterOtherLines:
    def test_two_lines_are_named_and_it_is_not_called_a_first_line(self) -> None:
        """Gemcitabine with docetaxel, then dacarbazine, both progressed on: S14's option
        keeps its force, can be considered, with nothing to wait on; its facts name both
        lines as entered and say that S14 speaks of a first line while this patient has
        had 2 lines for advanced disease; I19 is cited. The text no longer calls it a
        first-line treatment for the patient."""
        rec = s14(GEMDOC, DACARBAZINE)
        assert rec.strength == "can be considered"
        assert rec.conditional_on == ()
        assert "can be considered as first-line treatment" not in rec.text
        assert "the guideline offers it as the first-line treatment" in rec.text
        assert Fact("systemic.therapies[0].agent", "gemcitabine_docetaxel") in rec.triggered_by
        assert Fact("systemic.therapies[1].agent", "dacarbazine") in rec.triggered_by
        said = earlier(rec)
        assert said is not None
        assert "has had 2 lines of systemic treatment for advanced disease" in said
        assert "(gemcitabine with docetaxel, dacarbazine)" in said
        assert "would not be a first line" in said
        assert "I19" in rec.provenance.interpretations

    def test_an_mtor_line_before_a_contraindication_counts(self) -> None:
        """An everolimus line given, mTOR inhibitors now contraindicated: one line for
        advanced disease, named."""
        data = copy.deepcopy(BASE)
        data["systemic"] = {"mtor_inhibitor_available": "yes",
                            "mtor_inhibitor_contraindicated": "yes",
                            "therapies": [{"agent": "everolimus", "line": 1,
                                           "started_on": "2025-07-01", "progressed": "yes"}]}
        a = assess(parse_case(data), ON)
        # progression on an mTOR inhibitor: the guideline's silence, not S14
        assert "REC-ANTHRACYCLINE" not in a.record_ids()
        data["systemic"]["therapies"][0]["progressed"] = "no"
        a = assess(parse_case(data), ON)
        rec = next(i for i in a.recommendations if i.id == "REC-ANTHRACYCLINE")
        assert "has had 1 line of systemic treatment for advanced disease (everolimus)" \
            in (earlier(rec) or "")


class TestWhereItIsAFirstLine:
    def test_no_line_recorded(self) -> None:
        """No line: the option is the first line S14 speaks of; no derived fact, no
        interpretation beyond the guideline's."""
        rec = s14()
        assert earlier(rec) is None
        assert "I19" not in rec.provenance.interpretations
        assert rec.strength == "can be considered"

    def test_an_adjuvant_course_is_no_line_for_advanced_disease(self) -> None:
        """An adjuvant course after the resection is no line for advanced disease: S14's
        first line is still ahead."""
        rec = s14({"agent": "dacarbazine", "setting": "adjuvant", "started_on": "2024-03-01",
                   "progressed": "no"})
        assert earlier(rec) is None

    def test_a_doxorubicin_line_is_the_option_itself(self) -> None:
        """A doxorubicin line still given, no other: it is S14's first line, given already
        (the alert that an anthracycline was given says so); no earlier line is said."""
        data = copy.deepcopy(BASE)
        data["systemic"]["therapies"] = [{"agent": "doxorubicin", "line": 1,
                                          "started_on": "2025-07-01", "progressed": "no"}]
        a = assess(parse_case(data), ON)
        rec = next(i for i in a.recommendations if i.id == "REC-ANTHRACYCLINE")
        assert earlier(rec) is None
        assert "ALERT-ANTHRACYCLINE-GIVEN" in a.record_ids()
