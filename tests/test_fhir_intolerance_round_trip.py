"""The drugs not tolerated of a case come back from its FHIR Bundle as they were recorded.

``pecoma fhir from-case`` writes each row of ``systemic.intolerances`` as an
AllergyIntolerance coded by the project (``pecoma#agent-<agent>``, the judgement whether
it is of the class in the extension ``intolerance-class-wide``), and ``mtor_inhibitor_
contraindicated`` as an Observation. Read back, four things had changed the case:

* 'mTOR inhibitor not contraindicated: no' beside a row ``other`` was dropped (the
  reader drops a recorded 'no' beside an EHR's allergy entry it cannot identify, as the
  record does not show the 'no' was judged with it in view; the case format keeps it
  beside its own row ``other``), so the engine asked MISS-MTOR-CONTRAINDICATED again and
  made the mTOR advice provisional on it (the golden scenario intolerance-other-agent);
* a row ``other_chemotherapy`` came back as ``other`` (a drug that may be an mTOR
  inhibitor) and dropped a 'no' beside it;
* a row of a drug (epirubicin, judged of that drug alone) took the judgement of a
  regimen holding it (epirubicin with ifosfamide, not judged);
* a row ``other`` came back after the rows of named drugs, not in its place.

The case format's own rows are now read back as such (``allergies.case_row``: an entry
coded only by the project's code of ``other`` or ``other_chemotherapy``, saying no more);
an EHR's entry not identified still drops a recorded 'no'. docs/fhir.md.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.case import Agent, Case, YesNo, parse_case_json
from pecoma.engine.model import Assessment, Item
from pecoma.fhir import codes as c
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case

from allergy_support import (
    DOXORUBICIN,
    allergy,
    details,
    make_client,
    order_select,
    patient_view,
    record,
)
from cli_support import run_cli
from fhir_support import hook_request, patient_id, prefetch_of

ON = dt.date(2026, 11, 28)
SCENARIO = Path(__file__).parent / "scenarios" / "intolerance-other-agent" / "case.json"
ASKED = "MISS-INTOLERANCE-AGENT"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    return make_client(tmp_path_factory.mktemp("intolerance-round-trip"))


def _scenario() -> Case:
    """Metastatic, not resectable; mTOR inhibitors available and recorded as not
    contraindicated; one intolerance recorded with the agent 'other'."""
    return parse_case_json(SCENARIO.read_text("utf-8"))


def _with_systemic(case: Case, **systemic: Any) -> Case:
    data = case.model_dump(mode="json")
    data["systemic"] = {"mtor_inhibitor_available": "yes", **systemic}
    return parse_case(data)


def _item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


def _project(agent: Agent, text: str | None = None) -> dict[str, Any]:
    """A concept coded by the project's code of ``agent``, as its writer writes it."""
    name = agent.value.replace("_", " ")
    return {"coding": [{"system": c.PECOMA_SYSTEM, "code": c.agent_code(agent),
                        "display": name}], "text": name if text is None else text}


class TestTheScenario:
    def test_case_bundle_case_is_the_same_case(self) -> None:
        """intolerance-other-agent written and read back: the same case, the 'no' kept
        (it had come back unknown)."""
        case = _scenario()
        back = case_from_bundle(bundle_from_case(case), on=ON).case
        assert back.systemic.mtor_inhibitor_contraindicated is YesNo.no
        assert back == case

    def test_the_advice_is_the_scenario_s(self) -> None:
        """The scenario's hand-written checks hold on the case read back: S12's first
        line and nab-sirolimus provisional on which drug the intolerance is, never on
        the contraindication (recorded as no: not asked again). Read back, both had
        been provisional on MISS-MTOR-CONTRAINDICATED as well, and the question asked."""
        a = assess(case_from_bundle(bundle_from_case(_scenario()), on=ON).case, ON)
        for record_id in ("REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"):
            assert _item(a, record_id).conditional_on == (ASKED,), record_id
        assert "MISS-MTOR-CONTRAINDICATED" not in {m.id for m in a.missing}

    def test_the_command_line_round_trip(self, tmp_path: Path) -> None:
        """`pecoma fhir from-case` then `pecoma fhir to-case`: the case file printed is
        the scenario's, the 'no' beside the intolerance of 'other' included."""
        run = run_cli("fhir", "from-case", str(SCENARIO))
        assert run.returncode == 0, run.stderr
        path = tmp_path / "bundle.json"
        path.write_text(run.stdout, "utf-8")
        back = run_cli("fhir", "to-case", str(path), "--on", ON.isoformat())
        assert back.returncode == 0, back.stderr
        assert parse_case(json.loads(back.stdout)) == _scenario()

    def test_patient_view_on_the_written_record_does_not_ask_it_again(
            self, client: TestClient) -> None:
        """The bundle written for the scenario sent as a CDS prefetch: the card gives the
        mTOR inhibitor first provisional on which drug the intolerance is only; it had
        asked whether mTOR inhibitors are contraindicated, saying the 'no' was not kept."""
        bundle = bundle_from_case(_scenario())
        body = hook_request("patient-view", patient_id(bundle), prefetch=prefetch_of(bundle))
        r = client.post("/cds-services/pecoma-patient-view", json=body)
        assert r.status_code == 200, r.text
        said = " ".join(card["detail"] for card in r.json()["cards"])
        assert ASKED in said
        assert "MISS-MTOR-CONTRAINDICATED" not in said
        assert "a 'no' is not kept" not in said


class TestTheRowsComeBackAsRecorded:
    def test_other_chemotherapy_is_that_row(self) -> None:
        """A row 'other_chemotherapy' (a chemotherapy the format names no agent for; no
        mTOR inhibitor) beside 'not contraindicated: no': it came back as 'other', a drug
        that may be an mTOR inhibitor, with the 'no' dropped. Expected: the same row,
        the 'no' kept, and no question which drug it is."""
        case = _with_systemic(_scenario(), mtor_inhibitor_contraindicated="no",
                              intolerances=[{"agent": "other_chemotherapy"}])
        back = case_from_bundle(bundle_from_case(case), on=ON).case
        assert back == case
        assert ASKED not in {m.id for m in assess(back, ON).missing}

    def test_each_row_keeps_its_own_judgement(self) -> None:
        """Epirubicin judged of that drug alone ('no') beside epirubicin with ifosfamide
        not judged: the epirubicin row came back unknown, the regimen's judgement taken
        for the drug it holds. Expected: each row as recorded (the regimen's unknown
        still leaves doxorubicin provisional on the question, as in the case)."""
        case = _with_systemic(_scenario(), intolerances=[
            {"agent": "epirubicin", "class_wide": "no"},
            {"agent": "epirubicin_ifosfamide"}])
        back = case_from_bundle(bundle_from_case(case), on=ON).case
        assert back == case
        assert [(x.agent, x.class_wide) for x in back.systemic.intolerances] == [
            (Agent.epirubicin, YesNo.no), (Agent.epirubicin_ifosfamide, YesNo.unknown)]

    def test_the_rows_keep_their_order(self) -> None:
        """'other' recorded before pazopanib: it had come back after it (the rows of
        drugs not identified were added after the named ones), so the case differed
        and the indices the notes and the report quote moved. Expected: the order
        recorded."""
        case = _with_systemic(_scenario(), intolerances=[{"agent": "other"},
                                                         {"agent": "pazopanib"}])
        back = case_from_bundle(bundle_from_case(case), on=ON).case
        assert [x.agent for x in back.systemic.intolerances] == [Agent.other, Agent.pazopanib]
        assert back == case


class TestAnEhrEntryNotIdentifiedStillDropsTheNo:
    """The record of tests/allergy_support (metastatic, mTOR inhibitors recorded
    available and not contraindicated)."""

    @pytest.mark.parametrize("entry", [
        pytest.param(allergy(code={"text": "Zortrexib"}), id="ehr-name-unknown"),
        pytest.param(allergy(code=_project(Agent.other, "Zortrexib")),
                     id="project-code-with-other-words"),
        pytest.param(allergy(code=_project(Agent.other), reaction=[{
            "substance": {"text": "Zortrexib"}, "manifestation": [{"text": "rash"}]}]),
            id="project-code-with-a-reaction-substance"),
    ])
    def test_the_no_is_not_kept(self, entry: dict[str, Any]) -> None:
        """An entry pecoma cannot identify that is not the case format's own row (an
        EHR's name it does not know; the project's code beside other words or another
        substance): the record does not show the 'no' was judged with it in view, so it
        is not kept, as before. A row 'other' all the same."""
        bc = case_from_bundle(record(entry), on=ON)
        assert bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.unknown
        assert [x.agent for x in bc.case.systemic.intolerances] == [Agent.other]
        assert any("a 'no' is not kept" in n for n in bc.notes)

    def test_the_case_row_beside_an_ehr_entry_drops_it(self) -> None:
        """The case format's own row 'other' beside an EHR's entry not identified: the
        EHR's entry decides (the 'no' not kept); two rows 'other'."""
        bc = case_from_bundle(record(allergy("a1", code=_project(Agent.other)),
                                     allergy("a2", code={"text": "Zortrexib"})), on=ON)
        assert bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.unknown
        assert [x.agent for x in bc.case.systemic.intolerances] == [Agent.other, Agent.other]

    def test_the_case_row_alone_keeps_it(self) -> None:
        """The case format's own row 'other' (coded pecoma#agent-other "other", as the
        writer records it) beside 'not contraindicated: no': kept, as the case format
        keeps it; the row 'other' read, the mTOR advice provisional on which drug it is."""
        bc = case_from_bundle(record(allergy(code=_project(Agent.other))), on=ON)
        assert bc.case.systemic.mtor_inhibitor_contraindicated is YesNo.no
        assert [x.agent for x in bc.case.systemic.intolerances] == [Agent.other]
        a = assess(bc.case, ON)
        assert _item(a, "REC-MTOR-FIRST-LINE").conditional_on == (ASKED,)


class TestTheCardsReadTheRowsAsTheCaseDoes:
    def test_the_case_row_other_still_stops_a_proposal(self, client: TestClient) -> None:
        """A doxorubicin draft beside the case format's row 'other': the drug may be an
        mTOR inhibitor, so no mTOR-inhibitor order is proposed (as for an EHR's entry
        not identified); the 'no' it keeps changes nothing there."""
        cards = order_select(client, record(allergy(code=_project(Agent.other))),
                             DOXORUBICIN)
        assert not any("suggestions" in card for card in cards)
        assert "No mTOR-inhibitor order is proposed" in details(cards)

    def test_the_case_row_other_chemotherapy_rules_out_that_row(
            self, client: TestClient) -> None:
        """A gemcitabine draft (other chemotherapy) beside the case format's row
        'other_chemotherapy': critical, as the case's rule says (I15: a drug not
        tolerated rules itself out). It had been read as a drug not identified."""
        gemcitabine = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                   "code": "12574", "display": "gemcitabine"}]}
        cards = order_select(client, record(allergy(
            code=_project(Agent.other_chemotherapy))), gemcitabine)
        assert any(card["indicator"] == "critical" for card in cards), cards
        assert "other_chemotherapy" in details(cards)

    def test_patient_view_of_the_case_row_other_chemotherapy(
            self, client: TestClient) -> None:
        """The record with the case format's row 'other_chemotherapy' only: the card asks
        no question which drug it is (the case's reading: a chemotherapy, no mTOR
        inhibitor); it had asked it."""
        said = details(patient_view(client, record(allergy(
            code=_project(Agent.other_chemotherapy)))))
        assert ASKED not in said
