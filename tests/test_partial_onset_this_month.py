"""A metastasis entered this month with only its month: the record stays usable.

The shipped example ``metastatic-lung-metachronous`` (metastatic PEComa of the kidney),
its resection moved to 2026-01-10 and its diagnosis to 2026-01-02, the lung metastasis's
onset given as "2026-12" only, read on 2026-12-06 (the day the chart is opened). Every
day of December 2026 is more than 3 months after the resection: metachronous (I7). Before,
the last day of the month, 2026-12-31, was recorded as the day the metastasis was found on
or before, after the evaluation date: ``pecoma assess`` refused the case, and the CDS
patient-view showed only "Nothing was assessed". The metastasis was found by the day the
record is read for: found on or before 2026-12-06, so the interval from 2026-01-10 is at
most 10 months, short of S16's 12 whatever the day: no lung metastasectomy for a short
interval is offered as met, and the interval is not asked.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from allergy_support import ON, make_client, patient_view, record, to_case
from cli_support import run_cli


def _bundle() -> dict[str, Any]:
    b = record()
    for e in b["entry"]:
        r = e["resource"]
        if r.get("id") == "metastasis-1":
            r["onsetDateTime"] = "2026-12"
        if r.get("id") == "resection":
            r["performedDateTime"] = "2026-01-10"
        if r.get("id") == "pecoma-diagnosis":
            for x in r["extension"]:
                if "assertedDate" in x["url"]:
                    x["valueDateTime"] = "2026-01-02"
    return b


def test_to_case_then_assess(tmp_path: Path) -> None:
    """to-case records the metastasis found on or before the evaluation date (derived, as
    its source says), and assess on that day takes the case: S16's interval not met
    (at most 10 months), not asked."""
    details = to_case(tmp_path, _bundle())
    met = details["case"]["stage"]["metastases"][0]
    assert met["timing"] == "metachronous"
    assert met["detected_on_or_before"] == ON.isoformat()
    assert "detected_on" not in met
    assert "derived" in details["sources"]["stage.metastases[0].detected_on_or_before"]
    path = tmp_path / "case.json"
    path.write_text(json.dumps(details["case"]), encoding="utf-8")
    run = run_cli("assess", str(path), "--on", ON.isoformat(), "--format", "json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert "MISS-DFI" not in {m["id"] for m in report["missing"]}
    assert "REC-LUNG-METASTASECTOMY" not in {i["id"] for i in report["recommendations"]}


def test_patient_view_assesses(tmp_path: Path) -> None:
    """The CDS patient-view on the same day assesses the record: its card is the
    assessment of metastatic PEComa, not "Nothing was assessed"."""
    cards = patient_view(make_client(tmp_path), _bundle())
    text = " ".join(c["summary"] + " " + c.get("detail", "") for c in cards)
    assert "Nothing was assessed" not in text
    assert cards[0]["summary"].startswith("PEComa (metastatic)")
