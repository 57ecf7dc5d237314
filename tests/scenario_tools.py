"""Golden scenarios: each folder of tests/scenarios holds case.json, expected.json and
about.md (one line saying what the scenario shows).

expected.json is the decision summary of the assessment on the fixed date 2026-11-28:
risk group and deciding features, classifications, every record id produced (with the
missing facts it is provisional on), and the missing facts. To review a change in the
engine or the knowledge, regenerate with `python tests/scenario_tools.py --write` and read
the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from pecoma import assess, parse_case_json
from pecoma.engine.model import Assessment, Item

SCENARIOS = Path(__file__).resolve().parent / "scenarios"
ON = dt.date(2026, 11, 28)


def _items(items: tuple[Item, ...]) -> list[Any]:
    return [
        {"id": i.id, "provisional_on": list(i.conditional_on)} if i.conditional_on else i.id
        for i in items
    ]


def summary(a: Assessment) -> dict[str, Any]:
    return {
        "risk": {
            "group": a.risk.group,
            "decided_by": list(a.risk.decided_by),
            "unknown": list(a.risk.unknown),
            "surveillance": a.risk.surveillance_group,
        },
        "advanced": a.advanced,
        "classifications": {c.id: c.category for c in a.classifications},
        "recommendations": _items(a.recommendations),
        "alerts": _items(a.alerts),
        "followup": _items(a.followup),
        "missing": [m.id for m in a.missing],
        "derived": {f.path: f.value for f in a.derived},
    }


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "case.json").exists())


def run(name: str) -> Assessment:
    text = (SCENARIOS / name / "case.json").read_text(encoding="utf-8")
    return assess(parse_case_json(text), ON)


def main() -> None:
    write = "--write" in sys.argv
    for name in scenario_names():
        data = summary(run(name))
        path = SCENARIOS / name / "expected.json"
        text = json.dumps(data, indent=2) + "\n"
        if write:
            path.write_text(text, encoding="utf-8")
        print(name, data["risk"]["group"], [r if isinstance(r, str) else r["id"]
                                             for r in data["recommendations"]])


if __name__ == "__main__":
    main()
