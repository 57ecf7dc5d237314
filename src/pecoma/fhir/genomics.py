"""mCODE GenomicVariant Observations -> the case's molecular facts (TSC1, TSC2, TFE3 fusion).

A GenomicVariant (LOINC 69548-6) names the genes studied (component 48018-6, HGNC ids
12362 TSC1, 12363 TSC2, 11752 TFE3) and says whether a variant was found
(``valueCodeableConcept`` LOINC LA9633-4 present / LA9634-2 absent). Its clinical
significance (component 53037-8) is on the variant itself or on an Observation derived
from it (a genomics-reporting DiagnosticImplication, ``derivedFrom`` the variant).

What each reading gives, per gene:

- absent (no variant found)                        -> ``wild_type`` / fusion ``absent``
- present, pathogenic or likely pathogenic         -> ``pathogenic``
- present, uncertain significance                  -> ``vus``
- present, benign or likely benign                 -> ``wild_type`` (no pathogenic change)
- present, significance not given                  -> stays ``unknown`` (said in a note)
- TFE3 present as a fusion (two genes studied, or a fusion / rearrangement named)
                                                   -> fusion ``present``
- TFE3 present but no fusion named                 -> stays ``unknown`` (said in a note)

Where readings of one gene disagree, the most serious wins (pathogenic over vus over
wild type; a fusion present over absent), and the disagreement is noted. Significances
that Observations derived from one variant give differently follow the rule for results
(the reader, ``read_observations._implication``): the later wins, noted; two of one time
leave it unknown (``disputed``), said so.

The variant an Observation is ``derivedFrom`` is found by the reader's one rule for
references (:mod:`pecoma.fhir.references`: ``Observation/<id>``, an entry's fullUrl or
``urn:uuid``, an absolute URL on the record's server, a version ``/_history/n``). A
significance whose ``derivedFrom`` names no variant of the record is not taken for any
variant; a variant present without a significance then says so in its note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pecoma.fhir import codes as c
from pecoma.fhir import mcode as m

_RANK: Final = {"not_done": 0, "wild_type": 1, "vus": 2, "pathogenic": 3, "absent": 1,
                "present": 3}


@dataclass
class MolecularReading:
    """The molecular facts read, where each came from, and what could not be read."""

    facts: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    #: Where each reading came from that gave a fact (kept, or outweighed by a more
    #: serious one of the same gene).
    read: set[str] = field(default_factory=set)
    #: Variants naming TSC1, TSC2 or TFE3 that gave no fact, with why.
    unread: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: str, where: str) -> None:
        self.read.add(where)
        old = self.facts.get(name)
        if old is not None and old != value:
            self.notes.append(f"molecular.{name}: readings disagree ('{old}' from "
                              f"{self.sources[name]}, '{value}' from {where}); the more "
                              "serious is kept")
            if _RANK[value] <= _RANK[old]:
                return
        self.facts[name] = value
        self.sources[name] = where


def is_genomic_variant(obs: Mapping[str, Any]) -> bool:
    return m.has_loinc(obs.get("code"), m.LOINC_GENOMIC_VARIANT)


#: LOINC 48002-0 Genomic source class, and its answer LA6683-2 Germline.
_SOURCE_CLASS: Final = "48002-0"
_GERMLINE: Final = "LA6683-2"


def is_germline(obs: Mapping[str, Any]) -> bool:
    """Whether a GenomicVariant says its variant is germline (component LOINC 48002-0
    Genomic source class, LA6683-2 Germline, or the word): the patient's own, in every
    tumour, not one tumour's. Somatic, or not said: not."""
    for comp in _components(obs, _SOURCE_CLASS):
        value = comp.get("valueCodeableConcept")
        if (c.LOINC, _GERMLINE) in m.codings(value) or "germline" in m.lower_words(value):
            return True
    return False


def _components(obs: Mapping[str, Any], loinc: str) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    for comp in m.as_list(obs.get("component")):
        if isinstance(comp, dict) and m.has_loinc(comp.get("code"), loinc):
            out.append(comp)
    return out


def _significance(obs: Mapping[str, Any]) -> str | None:
    for comp in _components(obs, m.LOINC_CLINICAL_SIGNIFICANCE):
        for system, code in m.codings(comp.get("valueCodeableConcept")):
            if system == c.LOINC and code in m.SIGNIFICANCE:
                return m.SIGNIFICANCE[code]
        words = m.lower_words(comp.get("valueCodeableConcept"))
        for name in ("likely pathogenic", "pathogenic", "uncertain", "likely benign", "benign"):
            if name in words:
                return name.replace(" ", "_")
    return None


def _found(obs: Mapping[str, Any]) -> bool | None:
    concept = obs.get("valueCodeableConcept")
    for system, code in m.codings(concept):
        if system == c.LOINC and code == m.LOINC_PRESENT:
            return True
        if system == c.LOINC and code == m.LOINC_ABSENT:
            return False
    words = m.lower_words(concept)
    if words in ("present", "detected", "positive"):
        return True
    if words in ("absent", "not detected", "negative"):
        return False
    return None


def _not_performed(obs: Mapping[str, Any]) -> bool:
    return any(code == "not-performed" for _s, code in m.codings(obs.get("dataAbsentReason")))


_FUSION_WORDS: Final = ("fusion", "rearrangement", "translocation")


def _is_fusion(obs: Mapping[str, Any], gene_count: int) -> bool:
    if gene_count >= 2:
        return True
    for comp in m.as_list(obs.get("component")):
        if isinstance(comp, dict):
            words = m.lower_words(comp.get("valueCodeableConcept"))
            if any(w in words for w in _FUSION_WORDS):
                return True
    text = m.lower_words(obs.get("code")) + " " + m.lower_words(obs.get("method"))
    return any(w in text for w in _FUSION_WORDS)


def read_variants(variants: Sequence[tuple[str, Mapping[str, Any]]],
                  implications: Mapping[int, str],
                  unresolved: Sequence[str] = (),
                  disputed: Mapping[int, str] | None = None) -> MolecularReading:
    """Read GenomicVariants (``(where, resource)``); ``implications`` maps a variant (by
    the identity of its resource) to a significance read from an Observation derived from
    it; ``unresolved`` says each significance whose ``derivedFrom`` names no variant of
    the record (it may be one of these: a variant left without one says so);
    ``disputed`` says, for a variant whose significances of one time disagree, what they
    say (its significance is unknown, and said so)."""
    out = MolecularReading()
    for where, obs in variants:
        genes: list[str] = []
        all_genes = 0
        clashes: list[tuple[str, str]] = []
        for comp in _components(obs, m.LOINC_GENE_STUDIED):
            all_genes += 1
            genes.extend(m.genes(comp.get("valueCodeableConcept")))
            clash = m.gene_disagreement(comp.get("valueCodeableConcept"))
            if clash is not None:
                clashes.append(clash)
        if not genes:
            continue
        if clashes:
            _gene_in_doubt(out, where, clashes[0])
            continue
        found = _found(obs)
        if found is None and _not_performed(obs):
            for gene in genes:
                out.put("tfe3_fusion" if gene == "tfe3" else gene, "not_done", where)
            continue
        named = ", ".join(g.upper() for g in genes)
        if found is None:
            out.notes.append(f"{where}: names {named} but does not say whether a variant "
                             "was found (LA9633-4 / LA9634-2); not read")
            out.unread[where] = (f"a variant of {named} that does not say whether it was "
                                 "found")
            continue
        significance = _significance(obs) or implications.get(id(obs))
        for gene in genes:
            if gene == "tfe3":
                _tfe3(out, where, obs, found, all_genes)
            else:
                _tsc(out, where, gene, found, significance, unresolved,
                     (disputed or {}).get(id(obs)))
    return out


def _gene_in_doubt(out: MolecularReading, where: str, clash: tuple[str, str]) -> None:
    """A variant whose gene studied is coded one gene and named another in its own words
    (HGNC:12362, TSC1, beside the text "TSC2"): which gene was studied cannot be told, so
    it gives no fact (as a result whose code and words disagree is not read), noted with
    both and listed as not read; each gene stays unknown unless another result gives it."""
    coded, worded = clash
    named = re.findall(r"\b(tsc1|tsc2|tfe3)\b", f"{coded} {worded}".lower())
    facts = sorted({f"molecular.{g}" if g != "tfe3" else "molecular.tfe3_fusion"
                    for g in named})
    out.notes.append(f"{where}: the gene studied is coded {coded} but its own words name "
                     f"{worded}: which gene was studied cannot be told, so the variant is "
                     f"not read; {' and '.join(facts)} stay unknown unless another result "
                     "gives them; correct the code or the text in the record")
    out.unread[where] = (f"a variant whose gene studied is coded {coded} but named {worded} "
                         "in its own words")


def _tsc(out: MolecularReading, where: str, gene: str, found: bool,
         significance: str | None, unresolved: Sequence[str],
         disputed: str | None = None) -> None:
    if not found:
        out.put(gene, "wild_type", where)
    elif significance in ("pathogenic", "likely_pathogenic"):
        out.put(gene, "pathogenic", where)
    elif significance == "uncertain":
        out.put(gene, "vus", where)
    elif significance in ("benign", "likely_benign"):
        out.put(gene, "wild_type", where)
        out.notes.append(f"{where}: a {significance.replace('_', ' ')} {gene.upper()} "
                         "variant is read as no pathogenic alteration (wild_type)")
    elif disputed is not None:
        out.notes.append(f"{where}: a {gene.upper()} variant is present but the Observations "
                         "derived from it give its clinical significance differently, and "
                         f"neither is the later result ({disputed}); molecular.{gene} stays "
                         "unknown")
        out.unread[where] = (f"a {gene.upper()} variant whose clinical significance the "
                             "Observations derived from it give differently, of one time")
    else:
        elsewhere = (f"; a significance is given for a variant the record does not hold "
                     f"({'; '.join(unresolved[:3])}): it may be this one's"
                     if unresolved else "")
        out.notes.append(f"{where}: a {gene.upper()} variant is present but its clinical "
                         "significance is not given, neither on it nor by an Observation "
                         f"derived from it{elsewhere}; molecular.{gene} stays unknown")
        out.unread[where] = (f"a {gene.upper()} variant whose clinical significance is not "
                             "given")


def _tfe3(out: MolecularReading, where: str, obs: Mapping[str, Any], found: bool,
          gene_count: int) -> None:
    if not found:
        out.put("tfe3_fusion", "absent", where)
    elif _is_fusion(obs, gene_count):
        out.put("tfe3_fusion", "present", where)
    else:
        out.notes.append(f"{where}: a TFE3 variant is present but no fusion is named; "
                         "molecular.tfe3_fusion stays unknown")
        out.unread[where] = "a TFE3 variant that names no fusion"


def implication_of(obs: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(variant reference, significance) for an Observation derived from variants that
    carries a clinical significance (a genomics-reporting DiagnosticImplication)."""
    significance = _significance(obs)
    if significance is None or is_genomic_variant(obs):
        return []
    out = []
    for ref in m.as_list(obs.get("derivedFrom")):
        if isinstance(ref, dict) and isinstance(ref.get("reference"), str):
            out.append((ref["reference"], significance))
    return out
