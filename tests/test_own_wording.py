"""The knowledge says the guideline in the project's own words: no text repeats a run of
12 consecutive words of the source document (its sentences are not pasted), whatever
the case, punctuation or spelling. Shorter runs are the guideline's terms and figures
("every 3-4 months for the first 2-3 years"), which a faithful restatement keeps."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from wording_tools import RUN, repeated, source_runs

ROOT = Path(__file__).resolve().parent.parent
SOURCE = source_runs()


def _texts(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """Every string of a parsed TOML value, with where it is (a record by its id)."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, v in value.items():
            yield from _texts(v, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for n, v in enumerate(value):
            label = v.get("id", n) if isinstance(v, dict) else n
            yield from _texts(v, f"{where}[{label}]")


def test_the_fingerprints_are_there() -> None:
    """Some hundreds of runs: an empty or truncated file would make the guard vacuous
    (the summary has about 520 words)."""
    assert RUN == 12
    assert len(SOURCE) > 400


def test_the_guard_finds_a_pasted_sentence() -> None:
    """The S11 statement the knowledge carried before (the source's sentence without its
    first two words) and S27's sentence in British spelling are both found; the project's
    wording of S27 is not."""
    before = ("With positive lymph nodes or distant metastases at presentation, "
              "postoperative chemotherapy or radiotherapy should be considered.")
    assert len(repeated(before, SOURCE)) == 16 - RUN + 1
    pasted = ("Malignant PEComas develop slowly but will eventually recur and metastasise "
              "if not completely resected.")
    assert repeated(pasted, SOURCE)
    ours = "Malignant PEComas grow slowly but will recur and metastasise if not completely removed."
    assert not repeated(ours, SOURCE)


def test_no_knowledge_text_repeats_the_source() -> None:
    """Statements, interpretations, records, missing facts, references: every text of
    the knowledge base is the project's wording (S11 had repeated 16 words of its source
    sentence, and was shown so in the rules listing and the PlanDefinition)."""
    text = resources.files("pecoma").joinpath("knowledge/data/guideline.toml").read_text("utf-8")
    found = {where: runs for where, value in _texts(tomllib.loads(text), "")
             if (runs := repeated(value, SOURCE))}
    assert not found, found


@pytest.mark.parametrize("folder", ["src", "docs"])
def test_no_shipped_text_repeats_the_source(folder: str) -> None:
    """The code, the templates, the bundled data and the documentation do not carry the
    source's sentences either."""
    suffixes = {".py", ".toml", ".html", ".md", ".json", ".txt", ".csv", ".js"}
    files = [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in suffixes]
    if folder == "docs":
        files.append(ROOT / "README.md")
    assert len(files) > 10
    found = {str(p.relative_to(ROOT)): runs for p in files
             if (runs := repeated(p.read_text(encoding="utf-8"), SOURCE))}
    assert not found, found
