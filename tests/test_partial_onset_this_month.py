"""A metastasis entered this month with only its month: the record stays usable.

The shipped example ``metastatic-lung-metachronous`` (metastatic PEComa of the kidney),
its resection moved to 2026-01-10 and its diagnosis to 2026-01-02, the lung metastasis's
onset given as "2026-12" only, read on 2026-12-06 (the day the chart is opened). Every
day of December 2026 is more than 3 months after the resection: metachronous (I7). Before,
the last day of the month, 2026-12-31, was recorded as the day the metastasis was found on
or before, after the evaluation date: ``pecoma assess`` refused the case, and the CDS
patient-view showed only "Nothing was assessed". The metastasis was found by the day the
record is read for: found on or before 2026-12-06, so the interval from 2026-01-10 is at
most 10 months, short of S16's 12 whatever the day: S16's criteria are not met
(REC-LUNG-METASTASECTOMY-NOT-MET), and the interval is not asked. After an earlier
resection (2025-06-10) the interval may reach a year: it is asked (MISS-DFI), the
operation pending on it. to-case says each in one note.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allergy_support import ON, make_client, patient_view, record, to_case
from cli_support import run_cli


def _bundle(resected: str = "2026-01-10", diagnosed: str = "2026-01-02") -> dict[str, Any]:
    b = record()
    for e in b["entry"]:
        r = e["resource"]
        if r.get("id") == "metastasis-1":
            r["onsetDateTime"] = "2026-12"
        if r.get("id") == "resection":
            r["performedDateTime"] = resected
        if r.get("id") == "pecoma-diagnosis":
            for x in r["extension"]:
                if "assertedDate" in x["url"]:
                    x["valueDateTime"] = diagnosed
    return b


def _assess(tmp_path: Path, bundle: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``pecoma fhir to-case --details`` for the bundle, then ``pecoma assess`` of its
    case on the same day: the details and the assessment (the case accepted)."""
    details = to_case(tmp_path, bundle)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(details["case"]), encoding="utf-8")
    run = run_cli("assess", str(path), "--on", ON.isoformat(), "--format", "json")
    assert run.returncode == 0, run.stderr  # the case is accepted, not refused
    report: dict[str, Any] = json.loads(run.stdout)
    return details, report


def _item(report: dict[str, Any], rid: str) -> dict[str, Any]:
    found = [i for i in report["recommendations"] if i["id"] == rid]
    assert len(found) == 1, [i["id"] for i in report["recommendations"]]
    return found[0]


def _onset_notes(details: dict[str, Any]) -> list[str]:
    return [n for n in details["notes"] if "metastasis-1" in n
            and ("onset" in n or "detection date" in n)]


def test_to_case_then_assess(tmp_path: Path) -> None:
    """to-case records the metastasis found on or before the evaluation date (derived, as
    its source says), and assess on that day takes the case. Written by hand: from the
    resection of 2026-01-10 to any day of 2026-12-01..06 is 10 full months, short of
    S16's 12 whatever the day, so S16's criteria are firmly not met
    (REC-LUNG-METASTASECTOMY-NOT-MET, resting on "10 months (dates, at most)", waiting
    on nothing), neither the interval nor the timing is asked, and the operation is
    neither offered nor left pending."""
    details, report = _assess(tmp_path, _bundle())
    met = details["case"]["stage"]["metastases"][0]
    assert met["timing"] == "metachronous"
    assert met["detected_on_or_before"] == ON.isoformat()
    assert "detected_on" not in met
    assert "derived" in details["sources"]["stage.metastases[0].detected_on_or_before"]
    assert report["disease_status"] == "metastatic"
    item = _item(report, "REC-LUNG-METASTASECTOMY-NOT-MET")
    assert item["strength"] == "S16 criteria not met; S17 still applies"
    assert item["conditional_on"] == []
    assert {"path": "derived.disease_free_interval_months",
            "value": "10 months (dates, at most)"} in item["triggered_by"]
    assert {"path": "derived.lung_metastases", "value": "metachronous"} in item["triggered_by"]
    ids = {i["id"] for i in report["recommendations"]}
    assert not {"REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-PENDING"} & ids
    missing = {m["id"] for m in report["missing"]}
    assert not {"MISS-DFI", "MISS-METASTASIS-TIMING"} & missing


def test_one_note_says_the_interval_is_not_met(tmp_path: Path) -> None:
    """One note for the onset, saying what the reading did and why: the onset holds no
    single day (the day found is not read, nor taken from the recorded date), every day
    of it gives metachronous, and the interval is at most 10 months, so S16's interval
    is not met and not asked. Before, a first note said the detection date was not read
    and a second that it was found on or before 2026-12-06, and "short of S16's interval
    it is not met whatever the day, else it is asked" did not say which held."""
    details = to_case(tmp_path, _bundle())
    (note,) = _onset_notes(details)
    assert "2026-12 (2026-12-01 to 2026-12-06, the evaluation date the last)" in note
    assert "is not read from it, nor taken from its recordedDate" in note
    assert "timing metachronous" in note
    assert "found on or before 2026-12-06" in note
    assert "at most 10 months whatever the day" in note
    assert "the interval is not met (not asked)" in note
    assert "else it is asked" not in note


def test_an_interval_that_may_reach_a_year_is_asked(tmp_path: Path) -> None:
    """The same onset after a resection of 2025-06-10: 17 full months to any day of
    2026-12-01..06, but the case holds only the last day the metastasis may have been
    found (an upper bound), so S16's interval is not taken as met: MISS-DFI is asked and
    the lung metastasectomy is pending on it (REC-LUNG-METASTASECTOMY-PENDING), never
    offered as met nor refused; the note says the interval is asked, and why."""
    details, report = _assess(tmp_path, _bundle("2025-06-10", "2025-06-02"))
    met = details["case"]["stage"]["metastases"][0]
    assert met["timing"] == "metachronous"
    assert met["detected_on_or_before"] == ON.isoformat()
    item = _item(report, "REC-LUNG-METASTASECTOMY-PENDING")
    assert item["strength"] == "undecided: facts missing"
    assert item["conditional_on"] == ["MISS-DFI"]
    ids = {i["id"] for i in report["recommendations"]}
    assert not {"REC-LUNG-METASTASECTOMY", "REC-LUNG-METASTASECTOMY-NOT-MET"} & ids
    (asked,) = [m for m in report["missing"] if m["id"] == "MISS-DFI"]
    assert "REC-LUNG-METASTASECTOMY" in asked["affects"]
    assert "MISS-METASTASIS-TIMING" not in {m["id"] for m in report["missing"]}
    (note,) = _onset_notes(details)
    assert "17 months" in note and "S16's interval is asked" in note
    assert "never taken as met" in note


def test_patient_view_assesses(tmp_path: Path) -> None:
    """The CDS patient-view on the same day assesses the record: its card is the
    assessment of metastatic PEComa, not "Nothing was assessed"."""
    cards = patient_view(make_client(tmp_path), _bundle())
    text = " ".join(c["summary"] + " " + c.get("detail", "") for c in cards)
    assert "Nothing was assessed" not in text
    assert cards[0]["summary"].startswith("PEComa (metastatic)")
