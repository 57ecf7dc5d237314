"""The same decisions as the engine, written as bare Python over plain dicts.

No validation, no provenance, no missing-fact reporting: a floor for what the rules
themselves cost, measured beside the engine in the same run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta


def _size_cm(t: dict[str, Any]) -> float | None:
    size = t.get("size")
    if size is None:
        return None
    value: float = size["value"]
    return value if size["unit"] == "cm" else value / 10


def assess_plain(c: dict[str, Any]) -> dict[str, Any]:
    h = c.get("histology", {})
    size = _size_cm(c["tumour"])
    states = [
        "unknown" if size is None else ("present" if size > 5 else "absent"),
        h.get("necrosis", "unknown"),
        h.get("infiltrative_growth", "unknown"),
        h.get("high_nuclear_grade_and_cellularity", "unknown"),
    ]
    risk = ("high" if "present" in states else
            "indeterminate" if "unknown" in states else "low")
    recs: list[str] = []
    stage = c["stage"]
    status = stage["status"]
    surgery = c.get("surgery", {})
    sysm = c.get("systemic", {})
    if status == "localized":
        if surgery.get("status") == "performed":
            margin = surgery.get("margin", "unknown")
            if margin == "R0":
                recs.append("done")
            elif margin in ("R1", "R2"):
                recs += ["reresect", "refer"]
            if margin in ("R1", "R2", "uncertain", "unknown"):
                recs.append("rt")
        else:
            recs += ["resect", "refer"]
    advanced = status in ("metastatic", "locally_advanced_unresectable") or (
        status == "recurrent" and stage.get("resectable") == "no")
    if advanced:
        blocked = (sysm.get("mtor_inhibitor_available") == "no"
                   or sysm.get("mtor_inhibitor_contraindicated") == "yes")
        recs.append("anthracycline" if blocked else "mtor")
    mets = stage.get("metastases", [])
    if any(m["site"] == "lung" for m in mets) and surgery.get("date"):
        anchor = dt.date.fromisoformat(surgery["date"])
        first = min(dt.date.fromisoformat(m["detected_on"]) for m in mets)
        dfi_ok = first >= anchor + relativedelta(months=12)
        extra = any(m["site"] != "lung" for m in mets)
        ok = dfi_ok and not extra and stage.get("complete_excision_feasible") == "yes"
        recs.append("metastasectomy" if ok else "no-metastasectomy")
    recs.append("trials")
    return {"risk": risk, "recs": recs}
