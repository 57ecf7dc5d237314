"""The knowledge records keep the seed's force (issue 12: knowledge drifted from the seed)."""

from __future__ import annotations

from pecoma import load_knowledge

K = load_knowledge()


def test_s14_anthracycline_can_be_considered_not_is_the_alternative() -> None:
    """S14: chemotherapy *can be considered* first line when mTOR inhibitors cannot be
    used: an option, never a directive."""
    rec = K.records["REC-ANTHRACYCLINE"]
    assert rec.strength == "can be considered"
    assert "can be considered" in rec.text
    assert "is the first-line alternative" not in rec.text
    assert "can be considered" in K.statements["S14"].text


def test_s16_not_met_and_pending_do_not_forbid_surgery() -> None:
    """S16 says when to resect lung metastases; it does not forbid surgery otherwise, and
    S17 asks for removal whenever possible."""
    for rid in ("REC-LUNG-METASTASECTOMY-NOT-MET", "REC-LUNG-METASTASECTOMY-PENDING"):
        rec = K.records[rid]
        words = f"{rec.text} {rec.rationale}".lower()
        assert "would not advise" not in words, rid
        assert "not a candidate" not in words and "do not treat" not in words, rid
        assert "S17" in rec.statements, rid
        assert "whenever possible" in words, rid


def test_wording_beyond_s24_s25_is_labelled_as_interpretation() -> None:
    """'Before treatment decisions' and 'review at a reference centre' are the project's
    reading (I11), not the guideline's words."""
    for rid in ("ALERT-IMAGING-ONLY", "ALERT-PRIOR-DIAGNOSIS"):
        assert "I11" in K.records[rid].interpretations, rid
    assert "I11" in K.missing["MISS-TISSUE-DIAGNOSIS"].interpretations


def test_s27_alerts_rest_on_the_evidence_of_malignancy() -> None:
    critical = K.records["ALERT-INCOMPLETE-RESECTION"]
    warning = K.records["ALERT-RESIDUAL-UNCERTAIN-BEHAVIOUR"]
    assert critical.level == "critical" and warning.level == "warning"
    assert "I9" in critical.interpretations and "I9" in warning.interpretations


def test_molecular_items_are_supplementary_with_full_references() -> None:
    for rid in ("SUPP-TSC-ALTERED", "SUPP-TFE3-FUSION"):
        rec = K.records[rid]
        assert rec.provenance == "supplementary" and not rec.statements
        for src in rec.sources:
            assert K.references[src].citation.count(".") >= 3, src


def test_the_reexcision_reason_says_s27_of_malignant_pecoma() -> None:
    """R1 and R2: the reason rests on S03 for every localized PEComa and says S27's
    warning of malignant PEComa, as I9 defines it, which the item cites."""
    for rid in ("REC-RERESECTION", "REC-RERESECTION-GROSS"):
        rec = K.records[rid]
        assert "standard for every localized PEComa" in rec.rationale, rid
        assert "is said of malignant PEComa (S27)" in rec.rationale, rid
        assert "I9" in rec.interpretations, rid
