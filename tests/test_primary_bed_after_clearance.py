"""The primary's margin and site once the patient is free of disease, and beside
metastases present at presentation (I27).

Free of disease is seen on imaging, which cannot show microscopic tumour gone from the
primary's bed. Before, a positive (R1) or uncertain margin of the primary vanished from
the output once the patient was recorded free of disease after metastases (no fact, no
alert, no question), while the same margin without that record gave the critical alert
that tumour may have been left (S27). Now the margin stays: the alert is kept at the level
the evidence of malignancy gives (I9), naming the day free of disease.

S10 (consider radiotherapy for a high-risk site, or margins not assured) rests on the
primary's site and margins. It was shown for a broad-ligament primary after nodal spread
(localized disease) or a local recurrence (I23), but not when peritoneal metastases were
removed with the primary. Now, where S11 is shown for metastases at presentation, S10 is
shown beside it on the primary's grounds, with S11's conditions and its own force; after a
relapse (metachronous metastases) both are past, and the guideline's silence on adjuvant
treatment says so.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess, parse_case
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 10)
RT = "REC-ADJ-RADIOTHERAPY"

#: A 9 cm renal PEComa with every high-risk feature (Folpe malignant), a peritoneal
#: metastasis found on 2024-01-05 and removed with the primary on 2024-02-01; free of
#: disease since that day, by surgery.
SYNCHRONOUS: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-01-10",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "kidney", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present",
                  "vascular_invasion": "present",
                  "nuclear_pleomorphism_or_giant_cells": "present",
                  "mitoses_per_50_hpf": 8},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive",
                             "desmin": "negative", "tfe3": "negative", "mitf": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "peritoneum", "detected_on": "2024-01-05"}],
              "extrapulmonary_disease": "no", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": "2024-02-01", "margin": "R1"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no"},
    "free_of_disease": {"since": "2024-02-01", "by": "surgery"},
}


def _synchronous(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(SYNCHRONOUS)
    for key, value in changes.items():
        if value is None:
            del data[key]
        else:
            data[key] = {**data[key], **value} if isinstance(value, dict) else value
    return data


def _metachronous(margin: str = "R1") -> dict[str, Any]:
    """The same primary resected on 2024-02-01 with ``margin``; a liver metastasis found
    on 2025-03-01, a complete response on sirolimus, free of disease since 2025-12-01."""
    return _synchronous(
        stage={"metastases": [{"site": "liver", "detected_on": "2025-03-01"}]},
        surgery={"margin": margin},
        systemic={"therapies": [{"agent": "sirolimus", "line": 1,
                                 "started_on": "2025-04-01", "best_response": "complete",
                                 "progressed": "no"}]},
        free_of_disease={"since": "2025-12-01", "by": "systemic_therapy"})


def _items(data: dict[str, Any], on: dt.date = ON) -> dict[str, Item]:
    a: Assessment = assess(parse_case(data), on)
    return {i.id: i for i in a.items()}


def _facts(item: Item) -> dict[str, str]:
    return {f.path: str(f.value) for f in item.triggered_by}


class TestTheMarginStaysOnceFreeOfDisease:
    @pytest.mark.parametrize("margin", ["R1", "uncertain"])
    def test_metastasis_removed_with_the_primary(self, margin: str) -> None:
        """Synchronous metastasis removed with the primary, margin positive or uncertain,
        free of disease since the operation: the critical alert that tumour may have been
        left (malignant by Folpe and by metastasis, I9), as without the record of being
        free of disease, naming the margin and the day, citing I27."""
        items = _items(_synchronous(surgery={"margin": margin}))
        alert = items["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical" and alert.conditional_on == ()
        assert _facts(alert)["surgery.margin"] == margin
        assert _facts(alert)["free_of_disease.since"] == "2024-02-01"
        assert "I27" in alert.provenance.interpretations
        assert "ALERT-GROSS-RESIDUAL" not in items

    def test_metachronous_metastasis_cleared_by_systemic_therapy(self) -> None:
        """Primary R1, a liver metastasis a year later, complete response on sirolimus:
        the primary's bed may still hold microscopic tumour; the alert is kept. The
        relapse puts S10 and S11 of the primary in the past: neither is shown, and the
        guideline's silence on adjuvant treatment says why."""
        items = _items(_metachronous())
        assert items["ALERT-INCOMPLETE-RESECTION"].conditional_on == ()
        assert not {RT, "REC-ADJ-NODES-METS"} & set(items)
        silence = items["REC-NO-ADJUVANT-AFTER-RELAPSE"]
        assert "which the relapse has put in the past" in silence.text
        assert "I27" in silence.provenance.interpretations

    def test_local_recurrence_removed(self) -> None:
        """A local recurrence removed, free of disease: the primary's R1 margin is still
        a fact of the primary's bed, the alert kept."""
        data = _synchronous(stage={"status": "recurrent", "metastases": []},
                            free_of_disease={"since": "2025-06-01"})
        assert "ALERT-INCOMPLETE-RESECTION" in _items(data)

    def test_r0_control(self) -> None:
        """Control: R0, nothing left at the bed: no alert, before or now."""
        items = _items(_synchronous(surgery={"margin": "R0"}))
        assert not {"ALERT-INCOMPLETE-RESECTION", "ALERT-GROSS-RESIDUAL"} & set(items)

    def test_without_free_of_disease_unchanged(self) -> None:
        """Control: the same R1 case not recorded free of disease keeps its alert, as
        before, with no day free of disease among its facts and no I27."""
        alert = _items(_synchronous(free_of_disease=None))["ALERT-INCOMPLETE-RESECTION"]
        assert alert.level == "critical"
        assert "free_of_disease.since" not in _facts(alert)
        assert "I27" not in alert.provenance.interpretations


class TestRadiotherapyBesideS11:
    def test_margin_positive_metastasis_removed(self) -> None:
        """S10's other ground, margins not assured: shown beside S11 after the operation
        that removed the primary and its synchronous metastasis, a consideration."""
        items = _items(_synchronous())
        rt = items[RT]
        assert rt.conditional_on == ()
        assert rt.strength == "consider; limited supporting data"
        assert _facts(rt)["surgery.margin"] == "R1"
        assert "I27" in rt.provenance.interpretations
        assert "REC-ADJ-NODES-METS" in items

    def test_broad_ligament_metastasis_removed(self) -> None:
        """Broad-ligament primary removed R0 with a peritoneal metastasis, free of disease:
        the site is S10's own example; before, S10 was missing here while shown after
        positive nodes or a local recurrence at that site."""
        rt = _items(_synchronous(tumour={"primary_site": "broad_ligament"},
                                 surgery={"margin": "R0"}))[RT]
        assert rt.conditional_on == ()
        assert _facts(rt) == {"tumour.primary_site": "broad_ligament"}

    def test_metastasis_still_present_follows_s11(self) -> None:
        """Metastases at presentation not recorded as removed: S10 is shown as S11 is,
        beside it, with its conditions (here none: the operation came after the
        metastasis, and S11 stands either way, I21)."""
        items = _items(_synchronous(tumour={"primary_site": "broad_ligament"},
                                    surgery={"margin": "R0"}, free_of_disease=None))
        assert items["REC-ADJ-NODES-METS"].conditional_on == ()
        assert items[RT].conditional_on == ()

    def test_how_free_of_disease_not_recorded_waits_as_s11_does(self) -> None:
        """How the patient was made free of disease is not recorded: S11 waits on it
        (cleared without an operation, there is none for it to follow), and S10 beside it
        waits on the same question."""
        items = _items(_synchronous(free_of_disease={"by": "unknown"}))
        assert "MISS-FREE-OF-DISEASE-BY" in items["REC-ADJ-NODES-METS"].conditional_on
        assert "MISS-FREE-OF-DISEASE-BY" in items[RT].conditional_on

    def test_cleared_without_an_operation_not_shown(self) -> None:
        """Metastases at presentation cleared by systemic therapy: no operation for S11
        to follow, nor S10; the guideline's silence is said instead."""
        data = _synchronous(tumour={"primary_site": "broad_ligament"},
                            systemic={"therapies": [{"agent": "sirolimus", "line": 1,
                                                     "started_on": "2024-01-20",
                                                     "best_response": "complete"}]},
                            free_of_disease={"since": "2024-09-01",
                                             "by": "systemic_therapy"})
        data["surgery"] = {"status": "not_performed"}
        items = _items(data)
        assert not {RT, "REC-ADJ-NODES-METS"} & set(items)
        assert "REC-NO-ADJUVANT-AFTER-CLEARANCE" in items

    def test_localized_controls_unchanged(self) -> None:
        """Controls: a localized broad-ligament primary with positive nodes keeps S10 on
        the site, without I27 (the localized reading it always had). Evaluated four weeks
        after the operation of 2024-02-01, when radiotherapy is decided: more than 6
        months after it, it is a decision to confirm instead (I30)."""
        data = _synchronous(tumour={"primary_site": "broad_ligament"},
                            stage={"status": "localized", "lymph_nodes": "positive",
                                   "metastases": [], "extrapulmonary_disease": "unknown"},
                            surgery={"margin": "R0"}, free_of_disease=None)
        rt = _items(data, dt.date(2024, 2, 29))[RT]
        assert _facts(rt) == {"tumour.primary_site": "broad_ligament"}
        assert "I27" not in rt.provenance.interpretations
