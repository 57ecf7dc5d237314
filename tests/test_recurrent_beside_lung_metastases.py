"""A disease recorded as recurrent beside lung metastases listed (S16, I5, I6).

S16 offers the resection of lung metastases only when there is no disease outside the
lungs, the disease-free interval is 12 months or more and a complete excision is
feasible. A team's status "recurrent" beside lung metastases commonly means a local
recurrence as well as the lung metastases; a local recurrence at the primary's site is
disease outside the lungs, and S16's criterion is then not met. The field recording
disease outside the lungs had been described as "other than the treated primary", so a
"no" there may leave the primary's bed aside and does not settle it. The report had
re-labelled the case metastatic (I6), dropping what the label says, and recommended the
metastasectomy outright with nothing asked.

Expected, each by hand:
- beside the status "recurrent" with lung metastases listed and no disease outside the
  lungs recorded as present, whether a local recurrence is present too is asked
  (MISS-LOCAL-RECURRENCE, S16), and S16's metastasectomy waits on it
  (REC-LUNG-METASTASECTOMY-PENDING, provisional on it), the recorded status among the
  item's facts;
- the same disease recorded "metastatic" (the answer "no local recurrence") gets the
  metastasectomy recommended, with nothing asked; recorded with disease outside the
  lungs present (the answer "yes"), S16 is not met and nothing is asked;
- nothing is asked where the answer changes nothing for S16 (an interval under 12 months:
  not met either way);
- the rest of the advice for metastatic disease (the mTOR inhibitor first) does not rest
  on it;
- the description of the field says that a local recurrence counts as disease outside
  the lungs.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from pecoma import assess, parse_case
from pecoma.case.model import Stage
from pecoma.engine.model import Assessment, Item

ON = dt.date(2026, 12, 7)
ASKED = "MISS-LOCAL-RECURRENCE"
PENDING = "REC-LUNG-METASTASECTOMY-PENDING"

#: The reported case as the medical oncologist wrote it: a soft-tissue primary resected
#: R0 on 2024-03-01, the status "recurrent" with one lung metastasis found on
#: 2026-03-01 (24 months later: S16's interval met), no disease outside the lungs
#: recorded, resectable, complete excision feasible.
REPORTED: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2024-02-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "soft_tissue", "size": {"value": 11, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "molecular": {"tsc1": "wild_type", "tsc2": "pathogenic", "tfe3_fusion": "absent"},
    "stage": {"status": "recurrent", "lymph_nodes": "negative",
              "metastases": [{"site": "lung", "detected_on": "2026-03-01"}],
              "extrapulmonary_disease": "no", "resectable": "yes",
              "complete_excision_feasible": "yes"},
    "surgery": {"status": "performed", "date": "2024-03-01", "margin": "R0"},
    "systemic": {"mtor_inhibitor_available": "yes", "mtor_inhibitor_contraindicated": "no",
                 "therapies": [], "intolerances": []},
}


def case(**stage: Any) -> dict[str, Any]:
    data = copy.deepcopy(REPORTED)
    for key, value in stage.items():
        if value is None:
            data["stage"].pop(key, None)
        else:
            data["stage"][key] = value
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(copy.deepcopy(data)), ON)


def items(a: Assessment) -> dict[str, Item]:
    return {i.id: i for i in a.items()}


def test_recurrent_beside_a_lung_metastasis_asks_for_a_local_recurrence() -> None:
    """The reported case: S16 waits on whether a local recurrence is present too; the
    recorded status is among the item's facts, and the question says what to record."""
    a = run(REPORTED)
    got = items(a)
    assert "REC-LUNG-METASTASECTOMY" not in got
    pending = got[PENDING]
    assert ASKED in pending.conditional_on
    said = [f.value for f in pending.triggered_by if f.path == "stage.status"]
    assert said and "recurrent" in str(said[0]) and "local recurrence" in str(said[0])
    miss = {m.id: m for m in a.missing}[ASKED]
    assert PENDING in miss.affects
    assert "local recurrence" in miss.question and "metastatic" in miss.question
    assert miss.provenance.statements == ("S16",)
    assert "I6" in miss.provenance.interpretations
    # the other criteria are met and said so
    paths = {f.path: f.value for f in pending.triggered_by}
    assert paths["stage.complete_excision_feasible"] == "yes"
    # the first line for metastatic disease is the mTOR inhibitor either way
    assert ASKED not in got["REC-MTOR-FIRST-LINE"].conditional_on


def test_the_same_disease_answered_gets_the_answers_advice() -> None:
    """No local recurrence (the status recorded metastatic): recommended, nothing asked.
    A local recurrence present (disease outside the lungs recorded yes): not met."""
    metastatic = run(case(status="metastatic"))
    got = items(metastatic)
    assert got["REC-LUNG-METASTASECTOMY"].conditional_on == ()
    assert ASKED not in {m.id for m in metastatic.missing}
    present = run(case(extrapulmonary_disease="yes"))
    got = items(present)
    assert "REC-LUNG-METASTASECTOMY-NOT-MET" in got
    assert "REC-LUNG-METASTASECTOMY" not in got and PENDING not in got
    assert ASKED not in {m.id for m in present.missing}


def test_disease_outside_the_lungs_not_recorded_asks_both() -> None:
    """Unknown disease outside the lungs beside the status recurrent: both questions,
    S16 waiting on each."""
    a = run(case(extrapulmonary_disease=None))
    pending = items(a)[PENDING]
    assert {ASKED, "MISS-EXTRAPULMONARY"} <= set(pending.conditional_on)


def test_not_asked_where_the_answer_changes_nothing() -> None:
    """The lung metastasis found 8 months after the resection: S16's interval is not
    met, whatever a local recurrence; nothing is asked of it."""
    a = run(case(metastases=[{"site": "lung", "detected_on": "2024-11-01"}]))
    got = items(a)
    assert "REC-LUNG-METASTASECTOMY-NOT-MET" in got
    assert ASKED not in {m.id for m in a.missing}


def test_the_field_counts_a_local_recurrence_as_disease_outside_the_lungs() -> None:
    """The description no longer reads as leaving the primary's bed aside."""
    text = Stage.model_fields["extrapulmonary_disease"].description or ""
    assert "local recurrence" in text
    assert "other than the treated primary" not in text


def _fhir_recurred(recurred: bool) -> Assessment:
    """The shipped FHIR example ``metastatic-lung-metachronous`` (a lung metastasis
    found 20 months after an R0 resection, no disease outside the lungs, excision
    feasible) without its disease-status Observation; ``recurred``: its PEComa Condition
    recorded with clinicalStatus 'recurrence' (the PEComa came back)."""
    from pecoma.fhir.reader import case_from_bundle

    from fhir_support import example

    bundle = example("metastatic-lung-metachronous")
    entries = []
    for e in bundle["entry"]:
        res = e["resource"]
        if res["resourceType"] == "Observation" and res.get("id") == "disease-status":
            continue
        if recurred and res["resourceType"] == "Condition" \
                and res.get("id") == "pecoma-diagnosis":
            res["clinicalStatus"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "code": "recurrence"}]}
        entries.append(e)
    bundle["entry"] = entries
    bc = case_from_bundle(bundle, on=ON)
    assert bc.case.stage.status.value == ("recurrent" if recurred else "metastatic")
    return assess(bc.case, ON)


def test_a_fhir_record_of_a_recurrence_beside_lung_metastases_asks_it_too() -> None:
    """Through FHIR, a PEComa Condition recorded as recurred beside a lung metastasis
    Condition had been read as 'metastatic', the recurrence dropped with no note, and
    the metastasectomy recommended outright: the same disease as the case file's
    'recurrent' got other advice. Read 'recurrent', it gets the same: S16 waits on
    whether a local recurrence is present too. Without the recurrence: unchanged."""
    got = items(_fhir_recurred(True))
    assert "REC-LUNG-METASTASECTOMY" not in got
    assert ASKED in got[PENDING].conditional_on
    plain = items(_fhir_recurred(False))
    assert plain["REC-LUNG-METASTASECTOMY"].conditional_on == ()


# ---- the answer recorded on the case: stage.local_recurrence -----------------------
# MISS-LOCAL-RECURRENCE could be answered "no" only by relabelling the status
# metastatic, losing the team's "recurrent". The case now records the answer itself.


def test_no_local_recurrence_recorded_answers_the_question() -> None:
    """The reported case with 'no local recurrence present' recorded: the recurrence is
    the lung metastasis alone, so S16 is applied as for metastatic disease (I6): the
    interval (24 months), the excision and no disease outside the lungs are met, the
    metastasectomy is recommended with nothing asked, and the item says why: the
    recorded answer is among its facts; the label 'recurrent' is kept."""
    a = run(case(local_recurrence="no"))
    got = items(a)
    assert PENDING not in got
    rec = got["REC-LUNG-METASTASECTOMY"]
    assert rec.conditional_on == ()
    assert ASKED not in {m.id for m in a.missing}
    said = {f.path: str(f.value) for f in rec.triggered_by}
    assert said["stage.local_recurrence"].startswith("no")
    assert "as for metastatic disease" in said["stage.local_recurrence"]
    assert parse_case(case(local_recurrence="no")).stage.status.value == "recurrent"


def test_a_local_recurrence_recorded_present_fails_s16() -> None:
    """A local recurrence present is disease outside the lungs: S16's criterion is not
    met, nothing asked of it, the recorded answer among the facts. Recorded beside
    'disease outside the lungs' unknown, that question is not asked either: the local
    recurrence answers it."""
    a = run(case(local_recurrence="yes", extrapulmonary_disease=None))
    got = items(a)
    assert "REC-LUNG-METASTASECTOMY-NOT-MET" in got
    assert "REC-LUNG-METASTASECTOMY" not in got and PENDING not in got
    missing = {m.id for m in a.missing}
    assert ASKED not in missing and "MISS-EXTRAPULMONARY" not in missing
    said = {f.path for f in got["REC-LUNG-METASTASECTOMY-NOT-MET"].triggered_by}
    assert "stage.local_recurrence" in said


def test_a_local_recurrence_beside_no_disease_outside_the_lungs_is_refused() -> None:
    """A local recurrence is disease outside the lungs: 'yes' beside 'no' there is a
    contradiction, named on the new field with what to correct."""
    import pytest

    from pecoma import InputError

    with pytest.raises(InputError) as info:
        parse_case(case(local_recurrence="yes"))
    issues = {i.path: i for i in info.value.issues}
    assert issues["stage.local_recurrence"].value == "'yes'"
    assert "stage.extrapulmonary_disease" in issues["stage.local_recurrence"].rule


def test_a_local_recurrence_beside_a_localized_status_is_refused() -> None:
    import pytest

    from pecoma import InputError

    data = case(local_recurrence="yes", extrapulmonary_disease=None, metastases=[])
    data["stage"]["status"] = "localized"
    with pytest.raises(InputError) as info:
        parse_case(data)
    assert "stage.local_recurrence" in {i.path for i in info.value.issues}


def test_the_question_names_the_field_that_answers_it() -> None:
    miss = {m.id: m for m in run(REPORTED).missing}[ASKED]
    assert miss.field == "stage.local_recurrence"


def test_the_form_and_the_registry_carry_the_field() -> None:
    from pecoma.registry.columns import COLUMN_NAMES
    from pecoma.web.form_layout import FORM

    assert "stage.local_recurrence" in COLUMN_NAMES
    assert "stage.local_recurrence" in repr(FORM)


def test_fhir_round_trip_keeps_the_answer() -> None:
    from pecoma.fhir.reader import case_from_bundle
    from pecoma.fhir.writer import bundle_from_case

    for answer in ("no", "yes"):
        data = case(local_recurrence=answer,
                    extrapulmonary_disease="yes" if answer == "yes" else "no")
        back = case_from_bundle(bundle_from_case(parse_case(data)), on=ON).case
        assert back.stage.local_recurrence.value == answer


def test_the_web_form_reads_the_answer() -> None:
    """The case form's 'Local recurrence present' is read onto the case."""
    from pecoma.web import forms

    posted = {"on": "2026-12-07", "tumour.primary_site": "soft_tissue",
              "stage.status": "recurrent", "_rows.stage.metastases": "1",
              "stage.metastases[0].site": "lung",
              "stage.metastases[0].detected_on": "2026-03-01",
              "stage.local_recurrence": "no"}
    case = forms.form_to_case(posted).case
    assert case is not None
    assert case.stage.local_recurrence.value == "no"


def test_a_recurrence_recorded_nowhere_is_refused() -> None:
    """The status 'recurrent' with no local recurrence ('no'), no metastasis listed, no
    disease outside the lungs ('no') and the patient not recorded free of disease: no
    disease is recorded anywhere, yet the report told the team to remove "every focus of
    disease present" (S17) and referred for surgery. Advice must follow recorded facts,
    so the record is refused, naming the fields and what to record: where the recurrence
    is, or 'free_of_disease' if it has been removed or cleared."""
    import pytest

    from pecoma import InputError

    with pytest.raises(InputError) as info:
        parse_case(case(local_recurrence="no", metastases=[]))
    issues = {i.path: i for i in info.value.issues}
    rule = issues["stage.local_recurrence"].rule
    assert issues["stage.local_recurrence"].value == "'no'"
    for named in ("stage.status", "stage.metastases", "stage.extrapulmonary_disease",
                  "free_of_disease"):
        assert named in rule, named


def test_a_recurrence_removed_since_is_accepted() -> None:
    """The same record with the patient free of disease since (the recurrence removed):
    no disease present is what it says, and it is accepted (no surgery advised)."""
    data = case(local_recurrence="no", metastases=[])
    data["free_of_disease"] = {"since": "2026-06-01", "by": "surgery"}
    got = items(run(data))
    assert "REC-AGGRESSIVE-SURGERY" not in got


def test_a_recurrence_outside_the_lungs_not_settled_is_accepted() -> None:
    """Disease outside the lungs left unknown: the recurrence may be there (a distant
    focus not listed), so the record is not refused."""
    parse_case(case(local_recurrence="no", metastases=[], extrapulmonary_disease="unknown"))
