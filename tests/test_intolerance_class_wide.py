"""Whether an intolerance is of the drug's class: the team's judgement, recorded on the
intolerance itself (``systemic.intolerances[].class_wide``, interpretation I15).

An mTOR inhibitor not tolerated: unknown rules out every mTOR inhibitor meanwhile and asks
(MISS-MTOR-INTOLERANCE); 'no' rules out that drug alone, the other mTOR inhibitors being
the first line (S12, S13); 'yes' rules out the class (S14), nothing asked. An anthracycline
not tolerated: unknown leaves the other anthracycline's option provisional
(MISS-ANTHRACYCLINE-INTOLERANCE); 'no' offers it plainly; 'yes' withholds it too.

A case had no way to record that judgement but 'mtor_inhibitor_contraindicated' 'no', which
most records carry as a routine value entered before any intolerance: that routine 'no'
silently re-opened the class, and the same case written to FHIR and read back (where an
observed 'no' is set aside) gave other advice, the CDS card asking the EHR user for what
the record already held.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma import assess, parse_case
from pecoma.case import mtor_class_ruled_out
from pecoma.engine.model import Assessment, Fact, Item
from pecoma.errors import InputError
from pecoma.fhir.codes import EXT
from pecoma.fhir.reader import case_from_bundle
from pecoma.fhir.writer import bundle_from_case
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import ORDER_SELECT
from pecoma.web.cds.settings import CdsSettings
from pecoma.web.config import WebConfig

from fhir_support import hook_request, prefetch_of

ON = dt.date(2026, 12, 6)

#: Metastatic uterine PEComa, a liver metastasis not resectable, no line given; mTOR
#: inhibitors available, their contraindication not recorded.
UTERINE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2023-03-01",
                  "prior_diagnosis": "none"},
    "tumour": {"primary_site": "uterus", "size": {"value": 9, "unit": "cm"}},
    "histology": {"necrosis": "present", "infiltrative_growth": "present",
                  "high_nuclear_grade_and_cellularity": "present"},
    "immunohistochemistry": {"hmb45": "positive", "melan_a": "positive", "sma": "positive"},
    "stage": {"status": "metastatic", "lymph_nodes": "negative",
              "metastases": [{"site": "liver", "detected_on": "2025-01-05"}],
              "extrapulmonary_disease": "yes", "resectable": "no",
              "complete_excision_feasible": "no"},
    "surgery": {"status": "performed", "date": "2023-03-25", "margin": "R0"},
    # the anthracycline contraindication recorded absent: the intolerance alone decides
    # the anthracycline items here (left unknown it is asked beside them, HAZ-528)
    "systemic": {"mtor_inhibitor_available": "yes", "anthracycline_contraindicated": "no"},
}


def case_of(agent: str, class_wide: str | None, contraindicated: str = "unknown"
            ) -> dict[str, Any]:
    data = copy.deepcopy(UTERINE)
    judged = {} if class_wide is None else {"class_wide": class_wide}
    data["systemic"].update(mtor_inhibitor_contraindicated=contraindicated,
                            intolerances=[{"agent": agent, **judged}])
    return data


def run(data: dict[str, Any]) -> Assessment:
    return assess(parse_case(data), ON)


def ids(a: Assessment) -> set[str]:
    return set(a.record_ids())


def item(a: Assessment, record_id: str) -> Item:
    return next(i for i in a.items() if i.id == record_id)


def missing(a: Assessment) -> set[str]:
    return {m.id for m in a.missing}


class TestAnMtorInhibitorNotTolerated:
    """Everolimus not tolerated, no other mTOR inhibitor given."""

    def test_unknown_rules_out_the_class_meanwhile_and_asks(self) -> None:
        """The judgement not recorded: every mTOR inhibitor out (the safer reading), S14's
        doxorubicin shown provisional on the question, which says where to record it."""
        a = run(case_of("everolimus", None))
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        assert "MISS-MTOR-INTOLERANCE" in item(a, "REC-ANTHRACYCLINE").conditional_on
        [asked] = [m for m in a.missing if m.id == "MISS-MTOR-INTOLERANCE"]
        assert asked.field == "systemic.intolerances.class_wide"
        assert "'Class-wide?'" in asked.question
        assert "intolerance-class-wide" in asked.question

    def test_this_drug_only_offers_the_other_mtor_inhibitors(self) -> None:
        """'no': everolimus alone is ruled out; an mTOR inhibitor is the first-line
        treatment of choice (S12, S13), nab-sirolimus beside it, S14 not offered, the
        class not asked about; everolimus named as ruled out."""
        a = run(case_of("everolimus", "no"))
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"} <= ids(a)
        assert "REC-ANTHRACYCLINE" not in ids(a)
        assert "MISS-MTOR-INTOLERANCE" not in missing(a)
        rec = item(a, "REC-MTOR-FIRST-LINE")
        assert Fact("systemic.intolerances[0].class_wide", "no") in rec.triggered_by
        ruled = next(f.value for f in a.derived
                     if f.path == "derived.mtor_inhibitors_ruled_out")
        assert ruled.startswith("everolimus only (recorded as not tolerated)")

    def test_class_wide_rules_out_every_one_and_asks_nothing(self) -> None:
        """'yes': every mTOR inhibitor out, S14's doxorubicin the option with no
        question of the class; the derived contraindication says it is the team's."""
        a = run(case_of("everolimus", "yes"))
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"}.isdisjoint(ids(a))
        rec = item(a, "REC-ANTHRACYCLINE")
        assert "MISS-MTOR-INTOLERANCE" not in rec.conditional_on
        assert "MISS-MTOR-INTOLERANCE" not in missing(a)
        assert Fact("systemic.intolerances[0].class_wide", "yes") in rec.triggered_by
        contra = next(f.value for f in a.derived
                      if f.path == "derived.mtor_inhibitor_contraindicated")
        assert "the intolerance of the class as the team records it" in contra

    def test_class_wide_stands_over_a_line_of_another_one(self) -> None:
        """Recorded as of the class, the intolerance rules out every mTOR inhibitor even
        beside a later sirolimus line (which alone would show the class tolerated)."""
        data = case_of("everolimus", "yes")
        data["systemic"]["therapies"] = [{"agent": "sirolimus", "setting": "advanced",
                                          "started_on": "2025-02-01", "progressed": "no"}]
        a = run(data)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)

    @pytest.mark.parametrize("class_wide", [None, "unknown", "yes"])
    def test_a_no_recorded_beside_it_is_refused_unless_judged_of_that_drug(
            self, class_wide: str | None) -> None:
        """'mTOR inhibitors not contraindicated' beside an intolerance not recorded as of
        that drug alone: the two facts contradict each other, and the message names both
        fields (it had been read as the team's judgement, re-opening the class)."""
        with pytest.raises(InputError) as exc:
            parse_case(case_of("everolimus", class_wide, contraindicated="no"))
        said = str(exc.value)
        assert "'systemic.mtor_inhibitor_contraindicated' 'no'" in said
        assert "systemic.intolerances[0]" in said
        parse_case(case_of("everolimus", "no", contraindicated="no"))  # coherent

    def test_the_bundled_example_s_routine_no_does_not_reopen_the_class(self) -> None:
        """The bundled high-risk uterine example carries 'not contraindicated' as a
        routine value; the disease later metastatic and an everolimus intolerance added,
        that 'no' is refused (it had silently given the mTOR first line, no question)."""
        text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json")
        data = json.loads(text.read_text(encoding="utf-8"))
        assert data["systemic"]["mtor_inhibitor_contraindicated"] == "no"
        data.pop("label", None)
        data["stage"].update(status="metastatic", resectable="no",
                             metastases=[{"site": "liver", "detected_on": "2025-09-01"}])
        data["systemic"]["therapies"] = [{"agent": "everolimus", "line": 1,
                                          "started_on": "2025-10-01", "progressed": "no"}]
        data["systemic"]["intolerances"] = [{"agent": "everolimus"}]
        with pytest.raises(InputError) as exc:
            parse_case(data)
        assert "'systemic.intolerances[0].class_wide' 'no'" in str(exc.value)


class TestEveryMtorInhibitorOneByOne:
    """Everolimus, sirolimus and temsirolimus each recorded as not tolerated, each of that
    drug alone (sirolimus and nab-sirolimus are one drug): no mTOR inhibitor is left to
    give, so mTOR inhibitors are contraindicated (derived, I15) exactly as one intolerance
    recorded as of the class makes them: S14's doxorubicin can be considered, no mTOR
    item, nothing asked of the class (the answer would change nothing). It had advised
    'an mTOR inhibitor is the first-line systemic treatment', its own derived fact
    listing every one as ruled out."""

    @staticmethod
    def every_one(judged: tuple[str | None, ...], contraindicated: str = "unknown",
                  nab: bool = False) -> dict[str, Any]:
        data = case_of("everolimus", None, contraindicated)
        agents = ["everolimus", "sirolimus", "temsirolimus", *(["nab_sirolimus"] if nab
                                                              else [])]
        data["systemic"]["intolerances"] = [
            {"agent": a, **({} if j is None else {"class_wide": j})}
            for a, j in zip(agents, judged, strict=True)]
        return data

    @pytest.mark.parametrize(("judged", "nab"), [
        (("no", "no", "no"), False), (("no", "no", "no", "no"), True),
        (("no", None, "no"), False)])
    def test_the_class_is_ruled_out_as_by_one_of_the_class(
            self, judged: tuple[str | None, ...], nab: bool) -> None:
        a = run(self.every_one(judged, nab=nab))
        assert ids(a) == ids(run(case_of("everolimus", "yes")))
        assert {"REC-MTOR-FIRST-LINE", "SUPP-NAB-SIROLIMUS"}.isdisjoint(ids(a))
        rec = item(a, "REC-ANTHRACYCLINE")
        assert rec.conditional_on == ()
        assert not {"MISS-MTOR-INTOLERANCE", "MISS-MTOR-CONTRAINDICATED"} & missing(a)
        assert "I15" in rec.provenance.interpretations
        contra = next(f.value for f in a.derived
                      if f.path == "derived.mtor_inhibitor_contraindicated")
        assert contra.startswith("yes: everolimus, sirolimus, temsirolimus")
        assert "between them every mTOR inhibitor" in contra
        assert not any(f.path == "derived.mtor_inhibitors_ruled_out" for f in a.derived)

    def test_the_one_rule_the_fhir_reader_and_the_cds_checks_use(self) -> None:
        """pecoma.case.mtor_class_ruled_out is the rule the FHIR reader and the CDS
        allergy check call: it says the class is out, and a record of the three read back
        from FHIR gives the same advice."""
        case = parse_case(self.every_one(("no", "no", "no")))
        assert mtor_class_ruled_out(case.systemic.intolerances, ())
        assert not mtor_class_ruled_out(case.systemic.intolerances[:2], ())
        bc = case_from_bundle(bundle_from_case(case))
        assert bc.case.systemic.intolerances == case.systemic.intolerances, bc.notes
        assert assess(bc.case, ON).record_ids() == assess(case, ON).record_ids()

    def test_a_fhir_record_s_observed_no_is_set_aside_saying_why(self) -> None:
        """Allergies to everolimus, sirolimus and temsirolimus, each carrying
        intolerance-class-wide 'no', beside an Observation saying not contraindicated:
        the 'no' is set aside (none is left to give), S14 offered, and the note says so
        (not that the report asks the class, which it does not)."""
        bundle = bundle_from_case(parse_case(case_of("everolimus", "no", "no")))
        allergy = next(e for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "AllergyIntolerance")
        for code, name in (("35302", "sirolimus"), ("657797", "temsirolimus")):
            entry = copy.deepcopy(allergy)
            res = entry["resource"]
            res["id"] = f"{res['id']}-{name}"
            entry["fullUrl"] = f"{entry.get('fullUrl', '')}-{name}"
            res["code"] = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                       "code": code, "display": name}], "text": name}
            bundle["entry"].append(entry)
        bc = case_from_bundle(bundle)
        assert bc.case.systemic.mtor_inhibitor_contraindicated.value == "unknown"
        a = assess(bc.case, ON)
        assert "REC-ANTHRACYCLINE" in ids(a)
        assert "REC-MTOR-FIRST-LINE" not in ids(a)
        [note] = [n for n in bc.notes if n.startswith("systemic.mtor_inhibitor_contra")]
        assert "naming every mTOR inhibitor" in note
        assert "asks" not in note

    def test_a_no_recorded_beside_them_is_refused(self) -> None:
        """'mTOR inhibitors not contraindicated' beside intolerances ruling out every one:
        refused, naming the field, its value and the intolerances (it had given the mTOR
        first line)."""
        with pytest.raises(InputError) as exc:
            parse_case(self.every_one(("no", "no", "no"), contraindicated="no"))
        [issue] = exc.value.issues
        assert issue.path == "systemic.mtor_inhibitor_contraindicated"
        assert "'everolimus', 'sirolimus', 'temsirolimus'" in issue.rule
        assert "rule out every mTOR inhibitor" in issue.rule


class TestAnAnthracyclineNotTolerated:
    """Doxorubicin not tolerated, mTOR inhibitors recorded as contraindicated: S14's
    doxorubicin is withheld whatever the judgement; S15's epirubicin with ifosfamide (a
    uterine primary) follows it."""

    @staticmethod
    def doxorubicin(class_wide: str | None) -> Assessment:
        return run(case_of("doxorubicin", class_wide, contraindicated="yes"))

    def test_this_drug_only_offers_epirubicin_plainly(self) -> None:
        """Unknown, S15's regimen is withheld meanwhile, the item provisional on the
        question; 'no': S15's regimen as the guideline gives it, no question (it had
        stayed provisional, the answer having nowhere to go); the intolerance and the
        judgement named beside it; doxorubicin still withheld."""
        unknown = self.doxorubicin(None)
        assert "REC-UTERINE-EPI-IFO" not in ids(unknown)
        assert item(unknown, "REC-REGIMEN-NOT-TOLERATED").conditional_on == (
            "MISS-ANTHRACYCLINE-INTOLERANCE",)
        a = self.doxorubicin("no")
        rec = item(a, "REC-UTERINE-EPI-IFO")
        assert rec.conditional_on == ()
        assert Fact("systemic.intolerances[0].class_wide", "no") in rec.triggered_by
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" not in missing(a)
        withheld = {f.value for f in item(a, "REC-REGIMEN-NOT-TOLERATED").triggered_by}
        assert "doxorubicin (S14)" in withheld
        assert "epirubicin with ifosfamide (S15)" not in withheld

    def test_class_wide_withholds_epirubicin_too(self) -> None:
        """'yes': the other anthracycline is ruled out: S15's regimen is withheld with
        S14's, one item naming both and the judgement; nothing asked."""
        a = self.doxorubicin("yes")
        assert "REC-UTERINE-EPI-IFO" not in ids(a)
        rec = item(a, "REC-REGIMEN-NOT-TOLERATED")
        withheld = {f.value for f in rec.triggered_by if f.path == "derived.regimen_withheld"}
        assert withheld == {"doxorubicin (S14)", "epirubicin with ifosfamide (S15)"}
        assert Fact("systemic.intolerances[0].class_wide", "yes") in rec.triggered_by
        assert "MISS-ANTHRACYCLINE-INTOLERANCE" not in missing(a)

    def test_an_epirubicin_intolerance_of_the_class_withholds_doxorubicin(self) -> None:
        """The other way round, at another site: epirubicin not tolerated, of the class:
        S14's doxorubicin withheld; of that drug alone: offered, no question."""
        other = case_of("epirubicin", "yes", contraindicated="yes")
        other["tumour"]["primary_site"] = "kidney"
        a = run(other)
        assert "REC-ANTHRACYCLINE" not in ids(a)
        assert "doxorubicin (S14)" in {f.value for f in item(
            a, "REC-REGIMEN-NOT-TOLERATED").triggered_by}
        other["systemic"]["intolerances"][0]["class_wide"] = "no"
        assert item(run(other), "REC-ANTHRACYCLINE").conditional_on == ()


class TestOnlyWhereItMeansSomething:
    @pytest.mark.parametrize("agent", ["ifosfamide", "pazopanib", "gemcitabine_docetaxel"])
    @pytest.mark.parametrize("class_wide", ["yes", "no"])
    def test_refused_for_a_drug_with_no_class(self, agent: str, class_wide: str) -> None:
        """The field names the mTOR inhibitors or the anthracyclines: for another drug it
        is refused naming the field, its value and what is allowed."""
        with pytest.raises(InputError) as exc:
            parse_case(case_of(agent, class_wide, contraindicated="yes"))
        [issue] = exc.value.issues
        assert issue.path == "systemic.intolerances[0].class_wide"
        assert f"must be 'unknown' (or left out) for '{agent}'" in issue.rule
        parse_case(case_of(agent, "unknown", contraindicated="yes"))  # coherent

    def test_a_regimen_holding_an_anthracycline_takes_it(self) -> None:
        data = case_of("epirubicin_ifosfamide", "yes", contraindicated="yes")
        data["tumour"]["primary_site"] = "kidney"
        assert "REC-ANTHRACYCLINE" not in ids(run(data))


class TestThroughFhir:
    @pytest.mark.parametrize("agent", ["everolimus", "doxorubicin"])
    @pytest.mark.parametrize("class_wide", ["yes", "no"])
    def test_a_case_written_and_read_back_keeps_the_judgement(self, agent: str,
                                                             class_wide: str) -> None:
        """from-case writes the judgement on the AllergyIntolerance, to-case reads it: the
        same case, the same advice."""
        contra = "yes" if agent == "doxorubicin" else "unknown"
        case = parse_case(case_of(agent, class_wide, contraindicated=contra))
        bc = case_from_bundle(bundle_from_case(case))
        assert bc.case.systemic.intolerances == case.systemic.intolerances, bc.notes
        assert assess(bc.case, ON).record_ids() == assess(case, ON).record_ids()

    def test_the_same_case_with_a_no_beside_it_gives_the_same_advice(self) -> None:
        """The reported record: everolimus not tolerated, of that drug alone, 'not
        contraindicated' beside it: the FHIR record keeps the 'no' and the mTOR first line
        (it had dropped the 'no' and shown S14 provisional on a question)."""
        case = parse_case(case_of("everolimus", "no", contraindicated="no"))
        bc = case_from_bundle(bundle_from_case(case))
        assert bc.case.systemic == case.systemic, bc.notes
        a = assess(bc.case, ON)
        assert "REC-MTOR-FIRST-LINE" in ids(a)
        assert "MISS-MTOR-INTOLERANCE" not in missing(a)

    def test_a_code_it_does_not_know_is_read_as_unknown_with_a_note(self) -> None:
        bundle = bundle_from_case(parse_case(case_of("everolimus", "no")))
        allergy = next(e["resource"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "AllergyIntolerance")
        allergy["extension"] = [{"url": EXT.INTOLERANCE_CLASS_WIDE, "valueCode": "maybe"}]
        bc = case_from_bundle(bundle)
        assert bc.case.systemic.intolerances[0].class_wide.value == "unknown"
        assert any("'maybe'" in n for n in bc.notes), bc.notes
        assert "MISS-MTOR-INTOLERANCE" in missing(assess(bc.case, ON))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("class-wide")
    return TestClient(create_app(WebConfig(
        database_url=f"sqlite:///{tmp / 'cds.sqlite3'}", cds=CdsSettings()),
        today=lambda: ON), base_url="http://localhost")


def _cards(client: TestClient, class_wide: str | None, drug: tuple[str, str]
           ) -> list[dict[str, Any]]:
    """The order-select cards for a draft of ``drug`` (RxNorm code, name) beside an
    everolimus allergy carrying the judgement ``class_wide`` (none: no extension)."""
    bundle = bundle_from_case(parse_case(case_of("everolimus", class_wide or "unknown")))
    pid = next(e["resource"]["id"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Patient")
    draft = {"resourceType": "MedicationRequest", "id": "draft-1", "status": "draft",
             "intent": "order", "subject": {"reference": f"Patient/{pid}"},
             "medicationCodeableConcept": {"coding": [{
                 "system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": drug[0],
                 "display": drug[1]}], "text": drug[1]}}
    body = hook_request("order-select", pid, prefetch=prefetch_of(bundle, include=True))
    body["context"].update({
        "selections": ["MedicationRequest/draft-1"],
        "draftOrders": {"resourceType": "Bundle", "type": "collection",
                        "entry": [{"resource": draft}]}})
    r = client.post(f"/cds-services/{ORDER_SELECT}", json=body)
    assert r.status_code == 200, r.text
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


class TestOrderSelect:
    def test_a_sirolimus_draft_passes_beside_an_everolimus_allergy_of_that_drug_only(
            self, client: TestClient) -> None:
        """The allergy records the intolerance as of everolimus alone: a draft of
        sirolimus (RxNorm 35302) gets no critical card (it had, every mTOR inhibitor
        being ruled out)."""
        cards = _cards(client, "no", ("35302", "sirolimus"))
        assert not any(c["indicator"] == "critical" for c in cards), cards

    def test_an_everolimus_draft_stays_critical(self, client: TestClient) -> None:
        cards = _cards(client, "no", ("141704", "everolimus"))
        assert any(c["indicator"] == "critical" and "everolimus" in c["detail"]
                   for c in cards), cards

    @pytest.mark.parametrize("class_wide", [None, "yes"])
    def test_without_the_judgement_or_of_the_class_sirolimus_is_critical(
            self, client: TestClient, class_wide: str | None) -> None:
        cards = _cards(client, class_wide, ("35302", "sirolimus"))
        assert any(c["indicator"] == "critical" for c in cards), cards


class TestTheWebForm:
    def test_each_intolerance_row_has_the_class_wide_select(self) -> None:
        """The form's intolerance rows hold 'Class-wide?' (unknown, yes, no: this drug
        only); an entered 'no' reaches the case, and the same case comes back as the
        form's values."""
        from pecoma.web import form_layout, forms

        group = next(g for g in form_layout.FORM if g.id == "intolerances")
        assert group.rows is not None
        control = next(c for c in group.rows.controls if c.name == "class_wide")
        assert [(o.value, o.label) for o in control.options] == [
            ("unknown", "unknown"), ("yes", "yes"), ("no", "no (this drug only)")]
        case = parse_case(case_of("everolimus", "no"))
        values = forms.case_to_values(case, ON)
        assert values["systemic.intolerances[0].class_wide"] == "no"
        result = forms.form_to_case(values)
        assert result.case is not None, result.issues
        assert result.case.systemic.intolerances[0].class_wide.value == "no"
