"""The kinds of control the case form is made of (:class:`Control`, repeated rows
:class:`RowSpec`, :class:`Group`), and enum values in words for people (:func:`words`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "Control",
    "ControlKind",
    "Group",
    "Option",
    "RowSpec",
    "words",
]

ControlKind = Literal["select", "number", "date", "text", "checkbox"]


# Words for enum values where the value itself does not read well.
_WORDS: dict[str, str] = {
    "unknown": "unknown (not reported)",
    "not_done": "not done",
    "gist": "GIST",
    "R0": "R0 — microscopically clear",
    "R1": "R1 — microscopic residual tumour",
    "R2": "R2 — macroscopic residual tumour",
    "uncertain": "uncertain (margin status unclear)",
    "histology_with_ihc": "histology with immunohistochemistry",
    "histology_without_ihc": "histology without immunohistochemistry",
    "imaging_only": "imaging only (no tissue)",
    "locally_advanced_unresectable": "locally advanced, unresectable",
    "nab_sirolimus": "nab-sirolimus",
    "doxorubicin_ifosfamide": "doxorubicin + ifosfamide",
    "epirubicin_ifosfamide": "epirubicin + ifosfamide",
    "gemcitabine_docetaxel": "gemcitabine + docetaxel",
    "other_chemotherapy": "other chemotherapy",
    "other_gynecologic": "other gynecologic site",
    "broad_ligament": "broad ligament",
    "soft_tissue": "soft tissue",
    "distant_lymph_node": "distant lymph node",
    "other_sarcoma": "other sarcoma",
    "not_assessed": "not assessed",
    "not_performed": "not performed",
    "not_evaluable": "not evaluable",
    "none": "none (PEComa from the start)",
    "chest_ct": "chest CT",
    "mri_primary": "MRI of the primary site",
    "chest_xray": "chest X-ray",
    "ct_primary": "CT of the primary site",
    "pet_ct": "PET-CT",
    "no_evidence_of_disease": "no evidence of disease",
    "pathogenic": "pathogenic or likely pathogenic variant",
    "vus": "variant of uncertain significance",
    "wild_type": "wild type (no variant found)",
}


def words(value: str) -> str:
    return _WORDS.get(value, value.replace("_", " "))


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class Control:
    """One form control; ``name`` is the case field path (row controls: relative name)."""

    name: str
    label: str
    kind: ControlKind
    options: tuple[Option, ...] = ()
    default: str = ""
    unit: str | None = None
    help: str | None = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    step: str | None = None
    companion: str | None = None  # a unit select shown on the same line
    hidden_label: bool = False  # the label is read by screen readers only


@dataclass(frozen=True, slots=True)
class RowSpec:
    """Repeated rows, e.g. ``stage.metastases[i].site``; ``key`` must be set in a used row.
    A blank row is offered when the disease status is one of ``show_for``."""

    prefix: str
    noun: str
    key: str
    controls: tuple[Control, ...]
    show_for: frozenset[str] = frozenset()

    def name(self, row: int, control: Control) -> str:
        return f"{self.prefix}[{row}].{control.name}"

    @property
    def nouns(self) -> str:
        """The noun in the plural, in lower case ("metastases", "scans")."""
        noun = self.noun.lower()
        return noun[:-2] + "es" if noun.endswith("is") else noun + "s"


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    legend: str
    controls: tuple[Control, ...]
    rows: RowSpec | None = None
    note: str | None = None
