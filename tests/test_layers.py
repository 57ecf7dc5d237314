"""Which package may import which: the storage layer knows tables, not the guideline."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "pecoma"

# package -> packages (or modules) of pecoma it must never import
FORBIDDEN = {
    "store": ("pecoma.engine", "pecoma.case", "pecoma.registry", "pecoma.web", "pecoma.fhir"),
    "engine": ("pecoma.store", "pecoma.registry", "pecoma.web", "pecoma.fhir"),
}


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports(package: str) -> None:
    bad = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in sorted((SRC / package).rglob("*.py"))
        for name in sorted(_imports(path))
        if name.startswith(FORBIDDEN[package])
    ]
    assert bad == []


def test_the_check_sees_an_engine_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from pecoma.engine.model import Assessment\n")
    assert "pecoma.engine.model" in _imports(module)


def test_the_stored_relapse_findings_are_the_engine_s() -> None:
    """The storage layer names the scan findings that record a relapse by their stored
    values (it may not import the engine): they stay the engine's ScanFinding.disease, so
    survival, the worklist and the research exports count the same scans."""
    from pecoma.engine.imaging import ScanFinding
    from pecoma.store.repository.scans import DISEASE_FINDINGS

    assert set(DISEASE_FINDINGS) == {f.value for f in ScanFinding if f.disease}
