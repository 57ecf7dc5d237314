"""A ``statusReason`` read as a progression on the drug when it says none.

The reading of a medication record's ``statusReason`` as "the disease progressed on this
drug" (``progressed`` yes, so the first-line mTOR advice gives way to REC-NO-NEXT-LINE
and SUPP-AFTER-MTOR) took any statement holding "progression", "progressed" or
"progressing" with no doubt word and no negation:

* "progression-free", "Completed 6 cycles, progression free" (the disease did *not*
  progress: "free" was no negation to it);
* "progressed to maintenance dosing", "Progressed to oral therapy", "dose escalation:
  progressed to 10 mg", "Treatment progressed as planned" (the treatment moved on, the
  disease is not named);
* "Disease progression after stopping (drug holiday)" (a progression off the drug);
* an **active** sirolimus record, "Started for disease progression on doxorubicin" (the
  progression was on the drug before: sirolimus is what was started for it).

A statement of progression that also held a negation or an opposite word that is no plain
denial ("Disease progression (not confirmed)", "Clinical progression, not radiological")
was read as nothing, silently, where the team is to check it. And on one line, an earlier
record's extension ``progressed`` no beside a later record's "Disease progression" kept
"no" (the less safe reading), where two extensions that disagree give unknown and ask.

Now: a plain denial ("no progression", "without progression", "free of progression",
"progression-free", "not progressed") and a treatment that "progressed to/as" something
are no finding; a clear progression is read only on a record that ended or is held
(stopped, completed, on-hold; a dispense stopped), never on one active, intended or
drafted; one naming another drug, or saying the drug was started for it, or speaking of a
time off the drug, and one doubted or negated otherwise, is a note ("pecoma cannot tell
whether ..."), the question asked. An extension that disagrees with a clear statusReason
leaves the line's ``progressed`` unknown, with a note naming both.

Record: the shipped example ``metastatic-lung-metachronous`` (metastatic PEComa of the
kidney, lung metastases, no systemic line), the medication records added by hand.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest

from pecoma import assess
from pecoma.case import Agent
from pecoma.fhir.medications import Progression, status_reason
from pecoma.fhir.reader import BundleCase, case_from_bundle

from fhir_support import example, patient_id

ON = dt.date(2026, 12, 6)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
PROGRESSED = "https://pecoma.example/fhir/StructureDefinition/progressed"
EVEROLIMUS = {"coding": [{"system": RXNORM, "code": "141704", "display": "everolimus"}]}
SIROLIMUS = {"coding": [{"system": RXNORM, "code": "35302", "display": "sirolimus"}]}


def statement(reason: str | None, status: str = "stopped", rid: str = "ms1",
              drug: dict[str, Any] = EVEROLIMUS, start: str = "2025-06-01",
              end: str | None = "2026-06-01", progressed: str | None = None,
              kind: str = "MedicationStatement") -> dict[str, Any]:
    """A record of ``drug`` from ``start`` to ``end`` with ``status`` and the
    ``statusReason`` text ``reason`` (and the project's extension ``progressed``)."""
    res: dict[str, Any] = {"resourceType": kind, "id": rid, "status": status,
                           "medicationCodeableConcept": drug}
    period = {"start": start, **({"end": end} if end else {})}
    if kind == "MedicationRequest":
        res.update(intent="order", dosageInstruction=[
            {"timing": {"repeat": {"boundsPeriod": period}}}])
        if reason is not None:
            res["statusReason"] = {"text": reason}
    else:
        res["effectivePeriod"] = period
        if reason is not None:
            res["statusReason"] = [{"text": reason}]
    if progressed is not None:
        res["extension"] = [{"url": PROGRESSED, "valueCode": progressed}]
    return res


def read(*medications: dict[str, Any]) -> BundleCase:
    bundle = copy.deepcopy(example("metastatic-lung-metachronous"))
    pid = patient_id(bundle)
    for med in medications:
        bundle["entry"].append({"resource": {**med, "subject": {"reference": f"Patient/{pid}"}}})
    return case_from_bundle(bundle, on=ON)


def said(text: str, **kw: Any) -> Progression | None:
    found = status_reason(statement(text, **kw))
    return None if found is None else found.progression


# The advice on this record with one everolimus line: progressed on it, the mTOR first
# line gives way (REC-NO-NEXT-LINE, SUPP-AFTER-MTOR); not known, the mTOR first line and
# nab-sirolimus are kept and whether it progressed is asked (MISS-MTOR-PROGRESSION).
NO_NEXT = "REC-NO-NEXT-LINE"
ASKED = "MISS-MTOR-PROGRESSION"
UNCLEAR_NOTE = "cannot tell whether this says the disease progressed"


class TestNoFinding:
    """Words that say the disease did not progress, or that the treatment moved on: no
    progression read, nothing to check (a stopped everolimus statement)."""

    @pytest.mark.parametrize("text", [
        "progression-free",                       # free of progression: none
        "Completed 6 cycles, progression free",
        "Progression-free at 12 months, switched to maintenance",
        "free of progression",
        "Completed course without progression",
        "Completed course - no progression",
        "no evidence of disease progression",
        "Course completed; has not progressed",
        # the treatment moved on to something: the disease is not named
        "progressed to maintenance dosing",
        "Treatment progressed as planned; course completed",
        "Progressed to oral therapy",
        "dose escalation: progressed to 10 mg",
    ])
    def test_not_a_progression(self, text: str) -> None:
        assert said(text) is None


class TestToCheck:
    """Words that speak of a progression that may not be one on this drug: a note, the
    question asked, never progressed yes."""

    @pytest.mark.parametrize("text", [
        "Disease progression after stopping (drug holiday)",   # off the drug
        "Drug holiday; disease progression later",
        "Disease progression (not confirmed)",                 # doubted by a negation
        "Clinical progression, not radiological",             # said, one reading denied
        "Stopped before surgery; progression not assessed",
        "Disease progression on doxorubicin",                  # another drug's line
        "Started for disease progression on doxorubicin",      # the reason it began
        # "progression-free survival" of so many months may say when it ended
        "Progression-free survival 6 months",
    ])
    def test_unclear(self, text: str) -> None:
        assert said(text) is Progression.unclear

    @pytest.mark.parametrize("status", ["active", "intended", "unknown"])
    def test_a_record_not_ended_is_no_progression_on_it(self, status: str) -> None:
        # a drug still taken (or planned) has not failed: a reason saying progression
        # speaks of something else (what it was started for); checked, never read
        assert said("Disease progression", status=status) is Progression.unclear

    @pytest.mark.parametrize("status", ["active", "draft"])
    def test_an_order_not_ended(self, status: str) -> None:
        assert said("Disease progression", status=status,
                    kind="MedicationRequest") is Progression.unclear


class TestStillClear:
    """The readings that stand: a record that ended or is held, the disease said to have
    progressed, on this drug or no drug named."""

    @pytest.mark.parametrize("status", ["stopped", "completed", "on-hold"])
    def test_ended_or_held(self, status: str) -> None:
        assert said("Disease progression", status=status) is Progression.clear

    @pytest.mark.parametrize("text", [
        "PEComa progressed on everolimus",        # its own drug named
        "Disease progressed to the lungs",        # the disease progressed to somewhere
        "Progressive disease; switched to sirolimus",
        "Progression after 8 months",
    ])
    def test_clear(self, text: str) -> None:
        assert said(text) is Progression.clear

    def test_a_dispense_stopped(self) -> None:
        assert said("Disease progression", kind="MedicationDispense") is Progression.clear


class TestAdvice:
    """What the line reads and what is advised, end to end."""

    @pytest.mark.parametrize("text", ["Completed 12 months of therapy, progression-free",
                                      "Progressed to every-other-day dosing"])
    def test_no_progression_keeps_the_mtor_advice(self, text: str) -> None:
        bc = read(statement(text))
        (line,) = bc.case.systemic.therapies
        assert line.agent is Agent.everolimus
        assert line.progressed is not None and line.progressed.value == "unknown"
        assert not any("progressed" in n and "ms1" in n for n in bc.notes), bc.notes
        advice = assess(bc.case, ON)
        recs = {x.id for x in advice.recommendations}
        assert NO_NEXT not in recs and "REC-MTOR-FIRST-LINE" in recs
        assert ASKED in {m.id for m in advice.missing}

    def test_a_doubted_progression_is_noted_and_asked(self) -> None:
        bc = read(statement("Disease progression (not confirmed)"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        assert any(UNCLEAR_NOTE in n and "not confirmed" in n for n in bc.notes), bc.notes
        advice = assess(bc.case, ON)
        assert NO_NEXT not in {x.id for x in advice.recommendations}
        assert ASKED in {m.id for m in advice.missing}

    def test_an_active_line_started_for_progression_on_another_drug(self) -> None:
        """One month into sirolimus, started for the progression on doxorubicin: the
        sirolimus line has not progressed; REC-NO-NEXT-LINE is not shown."""
        bc = read(statement("Started for disease progression on doxorubicin",
                            status="active", drug=SIROLIMUS, start="2026-11-01", end=None))
        (line,) = bc.case.systemic.therapies
        assert line.agent is Agent.sirolimus
        assert line.progressed is not None and line.progressed.value != "yes"
        assert any(UNCLEAR_NOTE in n for n in bc.notes), bc.notes
        assert NO_NEXT not in {x.id for x in assess(bc.case, ON).recommendations}

    def test_a_clear_progression_still_gives_no_next_line(self) -> None:
        bc = read(statement("Disease progression"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "yes"
        advice = assess(bc.case, ON)
        assert NO_NEXT in {x.id for x in advice.recommendations}
        assert ASKED not in {m.id for m in advice.missing}


class TestExtensionAndReasonDisagree:
    """One line, two records: the project's extension on one, a statusReason on the
    other. Which holds is for the team: unknown, asked, both named."""

    def test_extension_no_and_a_later_progression(self) -> None:
        bc = read(statement(None, rid="ms1", start="2026-01-01", end="2026-06-01",
                            progressed="no"),
                  statement("Disease progression", rid="ms2", start="2026-06-02",
                            end="2026-11-01"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        (note,) = [n for n in bc.notes if "'Disease progression'" in n]
        assert "MedicationStatement/ms1: no" in note
        assert "MedicationStatement/ms2" in note and "unknown" in note
        advice = assess(bc.case, ON)
        assert ASKED in {m.id for m in advice.missing}
        assert NO_NEXT not in {x.id for x in advice.recommendations}

    def test_one_record_with_both(self) -> None:
        bc = read(statement("Disease progression", progressed="no"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        assert ASKED in {m.id for m in assess(bc.case, ON).missing}

    def test_two_extensions_disagreeing_are_not_called_one(self) -> None:
        """The unknown came from two extensions (no, yes): the note says so, not that
        'the record's extension gives unknown'."""
        bc = read(statement(None, rid="ms1", start="2026-01-01", end="2026-03-01",
                            progressed="no"),
                  statement(None, rid="ms2", start="2026-03-02", end="2026-06-01",
                            progressed="yes"),
                  statement("Disease progression", rid="ms3", start="2026-06-02",
                            end="2026-11-01"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "unknown"
        (note,) = [n for n in bc.notes if "'Disease progression'" in n]
        assert "extension gives progressed 'unknown'" not in note
        assert "MedicationStatement/ms1: no" in note and "MedicationStatement/ms2: yes" in note

    def test_extension_yes_agrees(self) -> None:
        bc = read(statement("Disease progression", progressed="yes"))
        (line,) = bc.case.systemic.therapies
        assert line.progressed is not None and line.progressed.value == "yes"


class TestProgressionOfTheDiseaseSites:
    """"Progression of|in" followed by the disease's own sites is the disease
    progressing. The "of|in" clause once accepted only "(the) disease|metastases|..."
    right after the preposition, so "Progression of lung metastases" and "Progression in
    the liver" on a stopped everolimus record were taken as another thing's progression:
    a note and a question where the record says plainly that the disease progressed on
    the drug. Now the disease named after its sites or qualifiers ("lung", "the known"),
    or a place it grows in ("in the liver", "in the lungs and bone") with nothing after
    it but a linking word, is the disease's progression: clear on a stopped, completed or
    on-hold record (the rule already in force), still only asked on an active one. The
    progression of anything else stays unclear (or no finding)."""

    @pytest.mark.parametrize("text", [
        "Progression of lung metastases",
        "Progression in the liver",
        "Stopped because of progression of lung metastases",
        "Progression of liver metastases",
        "Progression of bone metastases",
        "Progression of metastases",
        "Progression of the tumour",
        "Progression of disease",
        "Progression of PEComa",
        "Progression of the lesions",
        "Progression in the lungs",
        "Progression in the bone",
        "Progression in the liver on CT",
        "Progression of liver and lung metastases",
        "Progression of the known lung lesions",
    ])
    def test_the_disease_progressed(self, text: str) -> None:
        # the disease at its sites progressed on this drug, which was stopped
        assert said(text) is Progression.clear

    @pytest.mark.parametrize("status", ["completed", "on-hold"])
    def test_ended_or_held_too(self, status: str) -> None:
        assert said("Progression of lung metastases", status=status) is Progression.clear

    @pytest.mark.parametrize("text", ["Progression of lung metastases",
                                      "Progression in the liver"])
    def test_an_active_record_is_only_asked(self, text: str) -> None:
        # a drug still taken has not failed: the words are checked, never read as yes
        assert said(text, status="active") is Progression.unclear

    @pytest.mark.parametrize("text", [
        "Progression of neuropathy",                # another thing progressed
        "Progression of pneumonitis",
        "Progression of symptoms",
        "Progression of lung fibrosis",             # a site named, not the disease
        "Progression in the lung fibrosis",
        "Progression in the liver enzymes",
        "Progression of tumour-related pain",       # the disease named, pain progressed
        "Progression of disease-related symptoms",
    ])
    def test_another_things_progression_stays_unclear(self, text: str) -> None:
        assert said(text) is Progression.unclear

    def test_progressed_to_something_stays_no_finding(self) -> None:
        # the treatment, or a toxicity, "progressed to" something: no disease named
        assert said("Progressed to grade 3 neuropathy") is None

    def test_advice_end_to_end(self) -> None:
        """A stopped everolimus line, "Stopped because of progression of lung
        metastases": progressed yes, so the first-line mTOR advice gives way to
        REC-NO-NEXT-LINE and nothing is asked about it."""
        bc = read(statement("Stopped because of progression of lung metastases"))
        (line,) = bc.case.systemic.therapies
        assert line.agent is Agent.everolimus
        assert line.progressed is not None and line.progressed.value == "yes"
        assert not any(UNCLEAR_NOTE in n for n in bc.notes), bc.notes
        advice = assess(bc.case, ON)
        assert NO_NEXT in {x.id for x in advice.recommendations}
        assert ASKED not in {m.id for m in advice.missing}
