"""Golden scenarios: each folder of tests/scenarios holds case.json, assert.toml,
expected.json and about.md (one line saying what the scenario shows).

assert.toml holds the clinical facts that must hold, written by hand from the guideline,
each with its reason; expected.json is the full snapshot, a second line of defence.

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
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pecoma import assess, parse_case_json
from pecoma.engine.model import Assessment, Item

if TYPE_CHECKING:
    from pecoma.engine.plan import SurveillancePlan

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


#: The keys a ``[[check]]`` of assert.toml may use besides its required ``why``.
CHECK_KEYS = frozenset(
    {
        "risk_group",  # Assessment.risk.group ("high", "low", "indeterminate", ...)
        "risk_group_not",  # a risk group the assessment must not show
        "surveillance",  # the surveillance schedule followed ("high" or "low")
        "advanced",  # whether the disease is advanced (true/false)
        "present",  # record ids the assessment must produce (any kind, missing facts too)
        "absent",  # record ids it must not produce
        "classification",  # {classification id = category}
        "classification_not",  # {classification id = category it must not have}
        "strength",  # {record id = strength} of items produced
        "conditional_on",  # {record id = [missing-fact ids it must be provisional on]}
        "unconditional",  # record ids that must be produced and provisional on nothing
        "conditional",  # record ids that must be produced and provisional on some missing fact
        "level_not",  # {record id = alert level it must not have, when it is produced}
        "order",  # record ids that must appear in this order among the recommendations
        "first_visit_due",  # due date of the first surveillance visit still open
        "first_visit_due_from",  # the first open visit is due on or after this date
        "plan_status",  # status of the dated plan ("active", "suspended", "not_drawn")
        "plan_present",  # record ids the dated surveillance plan must name (missing facts too)
    }
)


def load_checks(name: str) -> list[dict[str, Any]]:
    """The hand-written checks of a scenario (empty when it has no assert.toml)."""
    path = SCENARIOS / name / "assert.toml"
    if not path.exists():
        return []
    checks: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["check"]
    return checks


def failed_checks(
    name: str, a: Assessment, checks: list[dict[str, Any]] | None = None
) -> list[str]:
    """Each hand-written check of ``name`` that ``a`` breaks, as a sentence with its reason.

    ``checks`` replaces the scenario's assert.toml (to test the checker itself)."""
    if checks is None:
        checks = load_checks(name)
    items = {i.id: i for i in a.items()}
    ids = set(a.record_ids())
    rec_order = [i.id for i in a.recommendations]
    categories = {c.id: c.category for c in a.classifications}
    out: list[str] = []
    for n, check in enumerate(checks):
        why = str(check.get("why", "")).strip()
        keys = set(check) - {"why"}
        where = f"{name} check {n + 1} ({why or 'NO REASON GIVEN'})"
        if not why:
            out.append(f"{where}: every check needs a 'why'")
        if not keys or keys - CHECK_KEYS:
            out.append(f"{where}: unknown or no check keys {sorted(keys - CHECK_KEYS)}")
            continue
        for key in sorted(keys):
            want = check[key]
            got: Any
            if key == "risk_group":
                got = a.risk.group
                ok = got == want
            elif key == "risk_group_not":
                got = a.risk.group
                ok = got != want
            elif key == "surveillance":
                got = a.risk.surveillance_group
                ok = got == want
            elif key == "advanced":
                got = a.advanced
                ok = got is want
            elif key == "present":
                got = sorted(set(want) - ids)
                ok = not got
            elif key == "absent":
                got = sorted(set(want) & ids)
                ok = not got
            elif key == "classification":
                got = {k: categories.get(k) for k in want}
                ok = got == want
            elif key == "classification_not":
                got = {k: categories.get(k) for k in want}
                ok = all(got[k] != v for k, v in want.items())
            elif key == "strength":
                got = {k: items[k].strength if k in items else None for k in want}
                ok = got == want
            elif key == "conditional_on":
                got = {k: sorted(items[k].conditional_on) if k in items else None for k in want}
                ok = all(
                    k in items and set(v) <= set(items[k].conditional_on)
                    for k, v in want.items()
                )
            elif key == "unconditional":
                got = {k: list(items[k].conditional_on) if k in items else None for k in want}
                ok = all(k in items and not items[k].conditional_on for k in want)
            elif key == "conditional":
                got = {k: list(items[k].conditional_on) if k in items else None for k in want}
                ok = all(k in items and items[k].conditional_on for k in want)
            elif key == "level_not":
                got = {k: items[k].level if k in items else None for k in want}
                ok = all(got[k] != v for k, v in want.items())
            elif key == "order":
                got = [i for i in rec_order if i in want]
                ok = got == list(want)
            elif key == "plan_present":
                got = sorted(set(want) - set(surveillance_plan(a, name).record_ids()))
                ok = not got
            elif key == "first_visit_due":
                got = first_open_visit_due(a, name)
                ok = got == want
            elif key == "first_visit_due_from":
                got = first_open_visit_due(a, name)
                ok = got is not None and got >= want
            else:  # plan_status
                got = surveillance_plan(a, name).status
                ok = got == want
            if not ok and key in ("present", "absent"):
                said = "not produced" if key == "present" else "produced"
                out.append(f"{where}: {key} expected {want!r}, but {said}: {got!r}")
            elif not ok:
                out.append(f"{where}: {key} expected {want!r}, got {got!r}")
    return out


def surveillance_plan(a: Assessment, name: str) -> SurveillancePlan:
    """The scenario's dated surveillance plan as of :data:`ON`."""
    from pecoma.engine.schedule import plan_surveillance

    text = (SCENARIOS / name / "case.json").read_text(encoding="utf-8")
    # Scenarios give no scan history: not given, never "no scan done" (I13).
    return plan_surveillance(parse_case_json(text), a, ON, None)


def first_open_visit_due(a: Assessment, name: str) -> str | None:
    """Due date (ISO) of the first visit of the dated plan that is not done yet."""
    nxt = surveillance_plan(a, name).next_visit
    return nxt.due.isoformat() if nxt is not None else None


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
