"""The hazard log: docs/safety/hazards.toml (the data, edited by hand) rendered to
docs/safety/hazard-log.md (never edited by hand).

Each hazard is scored in the manner of DCB0129 / ISO 14971: a severity and a likelihood
give a risk rating of 1 to 5 from one matrix, before mitigation (initial) and after it
(residual). Every hazard names the tests that hold its mitigation as pytest node ids;
they are resolved by reading the test files with ``ast`` (nothing is run).

Render after editing the data:  python tests/hazard_tools.py --write
Check without writing:          python tests/hazard_tools.py
"""

from __future__ import annotations

import ast
import sys
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "safety" / "hazards.toml"
RENDERED = ROOT / "docs" / "safety" / "hazard-log.md"
SCENARIOS = ROOT / "tests" / "scenarios"

SEVERITY = ("minor", "significant", "considerable", "major", "catastrophic")
LIKELIHOOD = ("very low", "low", "medium", "high", "very high")
STATUS = ("mitigated", "open")

#: Risk rating by likelihood (row) and severity (column), the DCB0129 matrix.
MATRIX: dict[str, tuple[int, int, int, int, int]] = {
    "very high": (3, 4, 4, 5, 5),
    "high": (2, 3, 3, 4, 5),
    "medium": (2, 2, 3, 3, 4),
    "low": (1, 2, 2, 3, 4),
    "very low": (1, 1, 2, 2, 3),
}

RATING = {
    1: "acceptable",
    2: "acceptable where further reduction is impractical",
    3: "undesirable: accepted only with the clinical safety officer's sign-off",
    4: "mandatory elimination or control",
    5: "unacceptable",
}

REQUIRED = ("id", "title", "harm", "cause", "severity", "likelihood", "mitigation",
            "residual_likelihood", "status", "tests")
OPTIONAL = ("residual_severity", "issue_behaviour", "pending", "scenarios")


def risk(severity: str, likelihood: str) -> int:
    """The DCB0129 risk rating (1-5) of a severity and a likelihood."""
    return MATRIX[likelihood][SEVERITY.index(severity)]


@dataclass(frozen=True, slots=True)
class Hazard:
    id: str
    title: str
    harm: str
    cause: str
    severity: str
    likelihood: str
    mitigation: str
    residual_severity: str
    residual_likelihood: str
    status: str
    tests: tuple[str, ...]
    scenarios: tuple[str, ...]
    issue_behaviour: int | None
    pending: str

    @property
    def initial_risk(self) -> int:
        return risk(self.severity, self.likelihood)

    @property
    def residual_risk(self) -> int:
        return risk(self.residual_severity, self.residual_likelihood)


def problems_of(raw: dict[str, Any]) -> list[str]:
    """What is wrong with one hazard table, as sentences naming the field."""
    where = f"hazard {raw.get('id', '(no id)')}"
    out = [f"{where}: '{k}' is required" for k in REQUIRED if k not in raw]
    out += [f"{where}: unknown field '{k}' (allowed: {', '.join(REQUIRED + OPTIONAL)})"
            for k in raw if k not in REQUIRED + OPTIONAL]
    for key, allowed in (("severity", SEVERITY), ("residual_severity", SEVERITY),
                         ("likelihood", LIKELIHOOD), ("residual_likelihood", LIKELIHOOD),
                         ("status", STATUS)):
        if key in raw and raw[key] not in allowed:
            out.append(f"{where}: '{key}' must be one of {', '.join(allowed)} (got {raw[key]!r})")
    for key in ("title", "harm", "cause", "mitigation"):
        if key in raw and not str(raw[key]).strip():
            out.append(f"{where}: '{key}' must not be empty")
    tests = raw.get("tests")
    if not isinstance(tests, list) or not tests:
        out.append(f"{where}: 'tests' must name at least one test")
    if raw.get("status") == "open" and not str(raw.get("pending", "")).strip():
        out.append(f"{where}: an open hazard must say what is 'pending'")
    return out


def load(path: Path = DATA) -> list[Hazard]:
    """The hazards of the data file; ValueError listing every problem found."""
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    raws: list[dict[str, Any]] = data.get("hazard", [])
    problems = [p for raw in raws for p in problems_of(raw)]
    if problems:
        raise ValueError("\n".join(problems))
    return [
        Hazard(
            id=raw["id"],
            title=raw["title"].strip(),
            harm=raw["harm"].strip(),
            cause=raw["cause"].strip(),
            severity=raw["severity"],
            likelihood=raw["likelihood"],
            mitigation=raw["mitigation"].strip(),
            residual_severity=raw.get("residual_severity", raw["severity"]),
            residual_likelihood=raw["residual_likelihood"],
            status=raw["status"],
            tests=tuple(raw["tests"]),
            scenarios=tuple(raw.get("scenarios", ())),
            issue_behaviour=raw.get("issue_behaviour"),
            pending=str(raw.get("pending", "")).strip(),
        )
        for raw in raws
    ]


@cache
def _tests_in(path: Path) -> frozenset[str]:
    """Node ids (without the file) of the tests a file defines: ``test_x`` and
    ``TestClass::test_x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test"
        ):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) and (
                    sub.name.startswith("test")
                ):
                    found.add(f"{node.name}::{sub.name}")
    return frozenset(found)


def unresolved(node_id: str) -> str | None:
    """Why ``node_id`` names no test (None when it names one)."""
    file, sep, name = node_id.partition("::")
    if not sep or not name:
        return f"{node_id!r} is not a node id (tests/test_x.py::[TestClass::]test_name)"
    if "[" in name:
        return f"{node_id!r}: name a parametrized test by its function, without parameters"
    path = ROOT / file
    if not file.startswith("tests/") or path.suffix != ".py" or not path.is_file():
        return f"{node_id!r}: no test file {file}"
    if name not in _tests_in(path):
        return f"{node_id!r}: {file} defines no test {name}"
    return None


def unresolved_scenario(name: str) -> str | None:
    """Why ``name`` is not a golden scenario with hand-written checks (None when it is)."""
    if not (SCENARIOS / name / "assert.toml").is_file():
        return f"{name!r}: no tests/scenarios/{name}/assert.toml"
    return None


def render(hazards: list[Hazard]) -> str:
    """The hazard log as Markdown."""
    lines = [
        "# Hazard log",
        "",
        "<!-- Rendered from docs/safety/hazards.toml by `python tests/hazard_tools.py --write`;",
        "     edit the TOML, never this file. -->",
        "",
        "Clinical hazards of pecoma, kept in the manner of DCB0129 and ISO 14971: what could",
        "harm a patient, its cause, the risk before and after mitigation, and the tests that",
        "hold each mitigation. See [README.md](README.md) for how the log is kept.",
        "",
        "Risk rating (DCB0129 matrix, likelihood by severity): "
        + "; ".join(f"**{k}** {v}" for k, v in RATING.items())
        + ".",
        "",
        "| Id | Hazard | Initial risk | Residual risk | Status |",
        "|----|--------|:------------:|:-------------:|--------|",
    ]
    for h in hazards:
        lines.append(
            f"| [{h.id}](#{h.id.lower()}) | {h.title} | {h.initial_risk} | {h.residual_risk} "
            f"| {h.status} |"
        )
    for h in hazards:
        lines += [
            "",
            f"## {h.id}",
            "",
            f"**{h.title}**"
            + (f" (issue 12, behaviour {h.issue_behaviour})" if h.issue_behaviour else ""),
            "",
            f"- **What could harm:** {h.harm}",
            f"- **Cause:** {h.cause}",
            f"- **Initial risk:** {h.initial_risk} ({h.severity} severity, {h.likelihood} "
            f"likelihood): {RATING[h.initial_risk]}",
            f"- **Mitigation:** {h.mitigation}",
            f"- **Residual risk:** {h.residual_risk} ({h.residual_severity} severity, "
            f"{h.residual_likelihood} likelihood): {RATING[h.residual_risk]}",
            f"- **Status:** {h.status}" + (f". Pending: {h.pending}" if h.pending else ""),
            "- **Tests holding the mitigation:**",
        ]
        lines += [f"  - `{t}`" for t in h.tests]
        if h.scenarios:
            lines.append(
                "- **Golden scenarios whose hand-written checks hold part of it** "
                "(through `test_clinical_facts_hold`): "
                + ", ".join(f"`{n}`" for n in h.scenarios)
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render(load())
    if "--write" in sys.argv:
        RENDERED.write_text(text, encoding="utf-8")
        print(f"wrote {RENDERED.relative_to(ROOT)}")
        return 0
    if not RENDERED.exists() or RENDERED.read_text(encoding="utf-8") != text:
        print(f"{RENDERED.relative_to(ROOT)} is out of date: run python tests/hazard_tools.py "
              "--write")
        return 1
    print(f"{RENDERED.relative_to(ROOT)} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
