"""Golden surveillance plans: each file of tests/data/followup holds an input (a case, an
evaluation date, an imaging history, optional follow-up settings) and the expected plan
summary with exact dates.

To review a change in the schedule, regenerate with
`python tests/followup_tools.py --write` and read the diff of the JSON files.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from pecoma import assess, parse_case
from pecoma.engine.imaging import parse_imaging
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.settings import FollowupSettings, Settings, default_settings

FOLLOWUP = Path(__file__).resolve().parent / "data" / "followup"


def golden_names() -> list[str]:
    return sorted(p.stem for p in FOLLOWUP.glob("*.json"))


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLLOWUP / f"{name}.json").read_text(encoding="utf-8"))
    return data


def settings_of(over: dict[str, Any] | None) -> Settings:
    base = default_settings()
    if not over:
        return base
    followup = FollowupSettings.model_validate({**base.followup.model_dump(), **over})
    return base.model_copy(update={"followup": followup})


def plan_of(name: str) -> SurveillancePlan:
    spec = load(name)["input"]
    case = parse_case(spec["case"])
    on = dt.date.fromisoformat(spec["on"])
    settings = settings_of(spec.get("settings"))
    # No "imaging" key: the history was not given (I13); [] is a history without scans.
    imaging = parse_imaging(spec["imaging"]) if "imaging" in spec else None
    return plan_surveillance(case, assess(case, on, settings), on, imaging, settings)


def visit_line(v: Any) -> str:
    line = f"{v.index} {v.phase}#{v.phase_index} {v.due} .. {v.latest} {v.status}"
    if v.done_on is not None:
        line += f" on {v.done_on} ({v.timeliness})"
    if v.interval_from is not None:
        line += f" (interval of {v.interval_from})"
    if v.owed_since is not None:
        line += (f" (owed since #{v.owed_since}: "
                 + ", ".join(m.value for m in v.owed) + ")")
    if v.joined_routine is not None:
        line += (f" (joined: routine visit {v.joined_routine[0]} .. {v.joined_routine[1]}: "
                 + ", ".join(p.modality.value for p in v.imaging) + ")")
    return line


def summary(plan: SurveillancePlan) -> dict[str, Any]:
    nxt = plan.next_visit
    return {
        "status": plan.status,
        "risk_group": plan.risk_group,
        "surveillance_group": plan.surveillance_group,
        "anchor": None if plan.anchor is None else plan.anchor.isoformat(),
        "counted_from": None if plan.counted_from is None else plan.counted_from.isoformat(),
        "reasons": [r.id for r in plan.reasons],
        "interpretations": [i.id for i in plan.interpretations],
        "phases": [
            f"{p.id} {p.starts} .. {p.ends or 'no end'} every {p.interval_months} "
            f"overdue {p.overdue_months} ({p.item.id})"
            for p in plan.phases
        ],
        "visits": [visit_line(v) for v in plan.visits],
        "next_visit": None if nxt is None else visit_line(nxt),
        "cancelled": len(plan.cancelled),
        "flags": [f.id for f in plan.flags],
        # Shown only when they differ from a plan counted from the end of treatment with
        # a scan history given, so the older golden files need not name them.
        **({"anchor_basis": plan.anchor_basis}
           if plan.anchor_basis != "treatment_end" else {}),
        **({"missing": [m.id for m in plan.missing]} if plan.missing else {}),
    }


def plan_record_ids() -> set[str]:
    """Every knowledge record that some golden plan names."""
    ids: set[str] = set()
    for name in golden_names():
        ids |= set(plan_of(name).record_ids())
    return ids


def main() -> None:
    if "--write" not in sys.argv:
        print("usage: python tests/followup_tools.py --write", file=sys.stderr)
        raise SystemExit(2)
    for name in golden_names():
        data = load(name)
        data["expected"] = summary(plan_of(name))
        (FOLLOWUP / f"{name}.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
