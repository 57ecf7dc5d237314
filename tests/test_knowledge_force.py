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


def _all_texts() -> dict[str, str]:
    """Every statement, interpretation and record text of the knowledge, by where it is."""
    out = {f"{sid}": s.text for sid, s in K.statements.items()}
    out.update({iid: i.text for iid, i in K.interpretations.items()})
    for r in K.records.values():
        out.update({f"{r.id}.title": r.title, f"{r.id}.text": r.text,
                    f"{r.id}.rationale": r.rationale})
    return out


def test_s11_keeps_its_force_in_the_projects_words() -> None:
    """S11: with positive nodes or distant metastases at presentation, chemotherapy or
    radiotherapy after the operation *should be considered*: a consideration, said in the
    project's words (the own-wording guard is tests/test_own_wording.py)."""
    text = K.statements["S11"].text
    assert "should be considered" in text
    assert "chemotherapy or radiotherapy" in text and "at presentation" in text
    assert not text.startswith("With positive lymph nodes")


def test_no_reason_claims_what_the_guideline_does_not_say() -> None:
    """The guideline does not say that nodal or distant spread 'signals a high chance of
    relapse' (S11 only asks to consider treatment after the operation), that complete
    resection is the 'only' cure (S01: the definitive treatment), nor that the relapse
    risk is 'highest early' (S18 gives the intensive rhythm, no reason); and S27's
    'will recur and metastasise' is said of malignant PEComa not completely removed, not
    of every malignant PEComa."""
    claims = ("high chance", "only treatment that cures", "highest early",
              "malignant pecoma recurs and metastasises", "pecoma left behind will recur",
              "s27 says malignant pecoma recurs")
    found = {where: c for where, t in _all_texts().items() for c in claims if c in t.lower()}
    assert not found, found


def test_the_reasons_say_what_the_guideline_says() -> None:
    """Each reworded reason rests on what the statement says, and a schedule the
    guideline does not give is the project's, with its interpretation."""
    assert "definitive treatment" in K.records["REC-RESECTION"].rationale
    assert "(S11)" in K.records["REC-ADJ-NODES-METS"].rationale
    intensive = K.records["FU-HIGH-INTENSIVE"]
    assert "(S18)" in intensive.rationale and "I2" in intensive.interpretations
    for rid, interpretation in (("FU-NODES-POSITIVE", "I10"),
                                ("FU-NODES-UNKNOWN-LOW-RISK", "I10"),
                                ("FU-MALIGNANT-LOW-RISK", "I14"),
                                ("FU-MAY-BE-MALIGNANT-LOW-RISK", "I14")):
        rec = K.records[rid]
        assert "project's safer choice" in rec.rationale, rid
        assert f"interpretation {interpretation}" in rec.rationale, rid
        assert interpretation in rec.interpretations, rid
    for rid in ("FU-MALIGNANT-LOW-RISK", "FU-MAY-BE-MALIGNANT-LOW-RISK"):
        assert "not completely removed will recur" in K.records[rid].rationale, rid


def test_the_reexcision_reason_says_s27_of_malignant_pecoma() -> None:
    """R1 and R2: the reason rests on S03 for every localized PEComa and says S27's
    warning of malignant PEComa, as I9 defines it, which the item cites."""
    for rid in ("REC-RERESECTION", "REC-RERESECTION-GROSS"):
        rec = K.records[rid]
        assert "standard for every localized PEComa" in rec.rationale, rid
        assert "is said of malignant PEComa (S27)" in rec.rationale, rid
        assert "I9" in rec.interpretations, rid


def test_s10_keeps_its_force_consider() -> None:
    """S10: *consider* adjuvant radiotherapy at a high-risk site or with margins not
    assured (supporting data limited). The statement read 'may be considered' and the
    item after the R2 resection 'can be considered', S14's wording for an option, which
    puts a direct suggestion on the level of S14's: both now say 'consider', and no item
    citing S10 weakens it so."""
    assert K.statements["S10"].text.startswith("Consider adjuvant radiotherapy")
    after = K.records["REC-ADJ-RADIOTHERAPY-AFTER-RERESECTION"]
    assert "consider adjuvant radiotherapy if the margins are still not assured" in after.text
    assert "supporting data are limited" in after.text
    weakened = ("may be considered", "can be considered", "could be considered",
                "might be considered")
    found = {r.id: w for r in K.records.values() if "S10" in r.statements
             for w in weakened if w in f"{r.title} {r.text} {r.strength}".lower()}
    assert not found, found


def test_s17_title_keeps_whenever_possible() -> None:
    """S17 asks to attempt removal of the primary and the metastatic foci *whenever
    possible*. The title of REC-AGGRESSIVE-SURGERY stands alone on the CDS summary card,
    without the strength: it dropped the condition ('Attempt removal of every focus of
    present disease') and now keeps it."""
    rec = K.records["REC-AGGRESSIVE-SURGERY"]
    assert rec.title.endswith("where possible")
    assert rec.strength == "attempt whenever possible"


def test_imaging_at_every_high_risk_visit_is_the_project_s_reading() -> None:
    """S21 and S22 name the examinations of high-risk follow-up, not the visits that hold
    them: both at every visit is the project's reading, I31, cited and said in the title
    as the low-risk twins say I12."""
    assert K.interpretations["I31"].text.endswith("This is the project's reading, not the "
                                                  "guideline's.")
    for rid in ("FU-CHEST-CT", "FU-MRI-PRIMARY", "FU-IMAGING-INCOMPLETE"):
        assert "I31" in K.records[rid].interpretations, rid
    for rid in ("FU-CHEST-CT", "FU-MRI-PRIMARY"):
        assert K.records[rid].title.endswith("at each visit (interpretation I31)"), rid


def test_nodes_not_assessed_states_no_epidemiology_as_the_guideline_s() -> None:
    """Neither the guideline nor the references carried say that nodal spread is rare in
    PEComa: keeping the low-risk schedule when the nodes were not sampled is the
    project's judgement (I10), said so, and no text claims the rarity."""
    rec = K.records["FU-NODES-NOT-ASSESSED"]
    assert "project's judgement (interpretation I10)" in rec.text
    found = [where for where, t in _all_texts().items()
             if "spread is rare" in t.lower() or "rare spread" in t.lower()
             or "seldom sampled" in t.lower()]
    assert not found, found
