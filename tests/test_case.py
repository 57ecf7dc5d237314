"""The Case model: valid input passes, every rejection names field, value and rule."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any, ClassVar

import pytest

from pecoma import InputError, assess, parse_case, parse_case_json
from pecoma.case import Case, SizeUnit

BASE: dict[str, Any] = {
    "diagnosis": {"method": "histology_with_ihc", "date": "2025-01-02"},
    "tumour": {"primary_site": "kidney", "size": {"value": 3, "unit": "cm"}},
    "stage": {"status": "localized"},
    "surgery": {"status": "performed", "date": "2025-01-10", "margin": "R0"},
}


def with_(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    node = data
    parts = path.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return data


class TestParseCase:
    def test_minimal_case_is_valid(self) -> None:
        """Only the primary site and the disease status are required."""
        case = parse_case({"tumour": {"primary_site": "liver"}, "stage": {"status": "localized"}})
        assert case.histology.necrosis.value == "unknown"
        assert case.immunohistochemistry.hmb45.value == "unknown"
        assert case.tumour.size is None

    def test_omitted_fact_is_unknown_not_absent(self) -> None:
        """Leaving a histology feature out makes it unknown."""
        case = parse_case(BASE)
        assert {case.histology.necrosis.value, case.histology.infiltrative_growth.value} == {
            "unknown"
        }

    def test_millimetres_convert_to_centimetres(self) -> None:
        case = parse_case(with_("tumour.size", {"value": 51, "unit": "mm"}))
        assert case.tumour.size is not None
        assert case.tumour.size.unit is SizeUnit.mm
        assert case.tumour.size.cm == pytest.approx(5.1)

    def test_treatment_end_defaults_to_surgery_date(self) -> None:
        assert parse_case(BASE).treatment_end == dt.date(2025, 1, 10)

    def test_case_is_immutable(self) -> None:
        case = parse_case(BASE)
        with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError
            case.label = "x"  # type: ignore[misc]


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("negative size", with_("tumour.size", {"value": -2, "unit": "cm"}), "tumour.size.value",
     "greater than 0"),
    ("zero size", with_("tumour.size", {"value": 0, "unit": "cm"}), "tumour.size.value",
     "greater than 0"),
    # named by the number entered, not by the whole size object
    ("implausible size", with_("tumour.size", {"value": 1500, "unit": "mm"}),
     "tumour.size.value", "at most 100 cm"),
    ("unit missing", with_("tumour.size", {"value": 3}), "tumour.size.unit", "required"),
    ("bad unit", with_("tumour.size", {"value": 3, "unit": "inch"}), "tumour.size.unit",
     "'cm' or 'mm'"),
    ("bad site", with_("tumour.primary_site", "brain"), "tumour.primary_site", "uterus"),
    ("misspelt field", with_("histology.necrossis", "present"), "histology.necrossis",
     "not a field"),
    ("bad feature value", with_("histology.necrosis", "yes"), "histology.necrosis",
     "'present', 'absent' or 'unknown'"),
    ("negative mitoses", with_("histology.mitoses_per_50_hpf", -1),
     "histology.mitoses_per_50_hpf", "greater than or equal to 0"),
    ("localized with metastases",
     with_("stage.metastases", [{"site": "lung", "detected_on": "2025-06-01"}]),
     "stage.metastases", "must be empty when 'stage.status' is 'localized'"),
    ("margin without surgery", with_("surgery", {"status": "planned", "margin": "R0"}),
     "surgery.margin", "only be given when 'surgery.status' is 'performed'"),
    ("surgery before diagnosis", with_("surgery.date", "2024-12-01"), "surgery.date",
     "must not be before 'diagnosis.date'"),
    # the error says which day a diagnosis made on the resection specimen has
    ("diagnosis on the specimen", with_("surgery.date", "2024-12-01"), "surgery.date",
     "diagnosed on its resection specimen was diagnosed on the day of the surgery"),
    ("treatment end before surgery", with_("primary_treatment_end", "2025-01-05"),
     "primary_treatment_end", "must not be before 'surgery.date'"),
    ("bad date", with_("surgery.date", "2025-02-30"), "surgery.date",
     "names no day of the calendar (February 2025 has 28 days)"),
    ("status missing", with_("stage", {}), "stage.status", "required"),
    ("label too long", with_("label", "x" * 81), "label", "at most 80"),
    ("true as a size", with_("tumour.size", {"value": True, "unit": "cm"}), "tumour.size.value",
     "not true or false"),
    ("number as a date", with_("surgery.date", 0), "surgery.date", "YYYY-MM-DD"),
    ("true as a line", with_("systemic", {"therapies": [{"agent": "sirolimus", "line": True}]}),
     "systemic.therapies[0].line", "not true or false"),
    ("control character in label", with_("label", "a\x00b"), "label", "control characters"),
]


@pytest.mark.parametrize(("why", "data", "path", "rule"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_names_the_field(why: str, data: dict[str, Any], path: str, rule: str) -> None:
    """Each rejection names the field path and says what is allowed."""
    with pytest.raises(InputError) as info:
        parse_case(data)
    issues = {i.path: i for i in info.value.issues}
    assert path in issues, (why, info.value.issues)
    assert rule in issues[path].rule, issues[path]
    assert path in str(info.value)


def _metastatic(**stage: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["stage"] = {"status": "metastatic", **stage}
    return data


class TestLengthsInPlainWords:
    """A text or a list over its length is refused in the case format's own words (how
    many characters are allowed and how many were given), not the validation library's
    ("items after validation")."""

    def test_a_long_label_says_characters(self) -> None:
        """An 87-character label: at most 80 characters, 87 given."""
        with pytest.raises(InputError) as info:
            parse_case(with_("label", "uterine PEComa, peritoneal metastases, mTOR "
                             "contraindicated (interstitial lung disease)"))
        (issue,) = info.value.issues
        assert (issue.path, issue.rule, issue.value) == (
            "label", "must be at most 80 characters", "87 characters")
        assert str(issue) == "'label' must be at most 80 characters (got 87 characters)"
        assert "items" not in str(info.value) and "validation" not in str(info.value)

    @pytest.mark.parametrize("length", [81, 200, 5000])
    def test_every_length_over_the_limit_gives_the_count(self, length: int) -> None:
        """Just over the limit and far over it: the count given, never the text."""
        with pytest.raises(InputError) as info:
            parse_case(with_("label", "x" * length))
        (issue,) = info.value.issues
        assert issue.rule == "must be at most 80 characters"
        assert issue.value == f"{length} characters"

    def test_the_limit_counts_characters_not_bytes(self) -> None:
        """80 accented characters (160 bytes in UTF-8) are within 80 characters; 81 are
        one character too many, and the message counts characters."""
        assert parse_case(with_("label", "é" * 80)).label == "é" * 80
        with pytest.raises(InputError) as info:
            parse_case(with_("label", "é" * 81))
        assert str(info.value.issues[0]) == (
            "'label' must be at most 80 characters (got 81 characters)")

    def test_a_list_over_its_length_says_entries(self) -> None:
        """The one translation serves every length rule, a list's too (the case format
        has none today: a model of the same kind stands in)."""
        from pydantic import BaseModel, Field, ValidationError

        from pecoma.case.parse import issues_from_validation

        class Lists(BaseModel):
            agents: tuple[str, ...] = Field(max_length=2)
            name: str = Field(min_length=3)

        with pytest.raises(ValidationError) as info:
            Lists.model_validate({"agents": ["a", "b", "c"], "name": "x"})
        issues = {i.path: i for i in issues_from_validation(info.value)}
        assert str(issues["agents"]) == "'agents' must be at most 2 entries (got 3 entries)"
        assert str(issues["name"]) == "'name' must be at least 3 characters (got 1 character)"


def test_a_reclassified_tumours_dates_are_explained() -> None:
    """A tumour treated first as leiomyosarcoma and recognised as PEComa later (S24,
    S25): with the PEComa review's day as 'diagnosis.date' the earlier surgery is
    refused; the message says which day the field means, so the history can be entered
    whole (the earlier chemotherapy kept, for the alert it gives)."""
    data = copy.deepcopy(BASE)
    data["diagnosis"] = {"date": "2025-06-01", "prior_diagnosis": "leiomyosarcoma"}
    data["surgery"] = {"status": "performed", "date": "2024-06-01", "margin": "R0"}
    with pytest.raises(InputError) as info:
        parse_case(data)
    assert "first diagnosed as another (leiomyosarcoma)" in str(info.value)
    data["diagnosis"]["date"] = "2024-06-01"
    assert parse_case(data).diagnosis.prior_diagnosis.value == "leiomyosarcoma"


class TestContradictions:
    def test_metachronous_before_treatment(self) -> None:
        """A metastasis called metachronous but found before the primary was treated."""
        data = _metastatic(metastases=[{"site": "lung", "detected_on": "2025-01-05",
                                        "timing": "metachronous"}])
        with pytest.raises(InputError, match=r"stage\.metastases\[0\]\.detected_on"):
            parse_case(data)

    def test_synchronous_after_treatment(self) -> None:
        data = _metastatic(metastases=[{"site": "lung", "detected_on": "2026-01-05",
                                        "timing": "synchronous"}])
        with pytest.raises(InputError, match=r"stage\.metastases\[0\]\.timing"):
            parse_case(data)

    def test_no_extrapulmonary_disease_with_liver_metastasis(self) -> None:
        """'stage.extrapulmonary_disease' is disease outside the lungs present now: a
        liver metastasis listed may have been resected or cleared since it was found (a
        staged metastasectomy, a complete response), whenever that was, so the team's
        'no' beside it is accepted (it had been refused, leaving no way to record a
        patient who meets S16); 'yes' is kept as given."""
        for value in ("no", "yes"):
            data = _metastatic(metastases=[{"site": "liver"}], extrapulmonary_disease=value)
            assert parse_case(data).stage.extrapulmonary_disease.value == value

    def test_stated_interval_contradicting_dates(self) -> None:
        """The dates give 12 whole months from the primary's treatment, the longest the
        interval can be: 18 is refused. A shorter one (3) counts from an earlier
        relapse's treatment and is accepted, whatever the status label (I5)."""
        data = _metastatic(metastases=[{"site": "lung", "detected_on": "2026-01-10"}],
                           disease_free_interval_months=18)
        with pytest.raises(InputError, match="12 whole months"):
            parse_case(data)
        data["stage"]["disease_free_interval_months"] = 3
        assert parse_case(data).stage.disease_free_interval_months == 3

    def test_synchronous_with_a_stated_interval_of_months(self) -> None:
        """A metastasis present at presentation makes the interval to the first
        metastasis 0: 'synchronous' beside a stated 18 months was accepted silently, while
        the same contradiction by dates is refused."""
        data = _metastatic(metastases=[{"site": "lung", "timing": "synchronous"}],
                           disease_free_interval_months=18)
        with pytest.raises(InputError, match=r"stage\.metastases\[0\]\.timing") as exc:
            parse_case(data)
        assert "18 months" in str(exc.value.issues[0].rule)
        assert parse_case(_metastatic(metastases=[{"site": "lung", "timing": "synchronous"}],
                                      disease_free_interval_months=0))

    def test_resectable_but_metastases_not_all_excisable(self) -> None:
        """'Surgery can remove the current disease' beside 'the metastatic foci cannot all
        be removed' had been accepted, and aggressive surgery advised (S17)."""
        data = _metastatic(metastases=[{"site": "liver"}], resectable="yes",
                           complete_excision_feasible="no")
        with pytest.raises(InputError, match=r"complete_excision_feasible"):
            parse_case(data)

    @pytest.mark.parametrize(("detected", "says"), [
        ("2025-01-05", "by the end of primary treatment"),  # synchronous by its date
        ("2025-07-25", "6 whole months after"),
    ])
    def test_stated_interval_longer_than_a_dated_metastasis_allows(
        self, detected: str, says: str
    ) -> None:
        """A dated metastasis and an undated one, with a stated interval of 14 months: the
        first metastasis came no later than the dated one, so the dates cap the interval.
        It had been accepted, and S16's 'at least a year' read as met."""
        data = _metastatic(metastases=[{"site": "lung", "detected_on": detected},
                                       {"site": "lung"}],
                           disease_free_interval_months=14)
        with pytest.raises(InputError, match="disease_free_interval_months") as exc:
            parse_case(data)
        assert says in exc.value.issues[0].rule

    def test_stated_interval_agreeing_with_dates_is_accepted(self) -> None:
        data = _metastatic(metastases=[{"site": "lung", "detected_on": "2026-01-10"}],
                           disease_free_interval_months=12)
        assert parse_case(data).stage.disease_free_interval_months == 12

    def test_locally_advanced_but_resectable(self) -> None:
        data = copy.deepcopy(BASE)
        data["stage"] = {"status": "locally_advanced_unresectable", "resectable": "yes"}
        with pytest.raises(InputError, match=r"stage\.resectable"):
            parse_case(data)

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain"])
    def test_locally_advanced_but_resected(self, margin: str) -> None:
        """A resection leaving at most microscopic tumour, labelled 'locally advanced
        unresectable', was read as present disease: an mTOR inhibitor first line and no
        surveillance. The label contradicts the margin; R2 (gross residue) stays legal."""
        data = copy.deepcopy(BASE)
        data["stage"] = {"status": "locally_advanced_unresectable"}
        data["surgery"] = {"status": "performed", "date": "2025-01-10", "margin": margin}
        with pytest.raises(InputError, match=r"stage\.status.*record 'localized'"):
            parse_case(data)
        data["surgery"]["margin"] = "R2"
        assert parse_case(data).surgery.margin.value == "R2"

    def test_duplicate_line_numbers(self) -> None:
        data = _metastatic(metastases=[{"site": "liver"}])
        data["systemic"] = {"therapies": [{"agent": "sirolimus", "line": 1},
                                          {"agent": "doxorubicin", "line": 1}]}
        with pytest.raises(InputError, match=r"systemic\.therapies\[1\]\.line"):
            parse_case(data)

    def test_line_started_before_a_lower_line(self) -> None:
        """Line 2 started before line 1: which line came first decides the advice (the
        latest line of a kind decides progression), so the incoherent record is refused
        naming the field, its value and the line it precedes."""
        data = _metastatic(metastases=[{"site": "liver"}])
        data["systemic"] = {"therapies": [
            {"agent": "sirolimus", "line": 1, "started_on": "2025-06-01"},
            {"agent": "doxorubicin", "line": 2, "started_on": "2025-03-01"}]}
        with pytest.raises(InputError) as caught:
            parse_case(data)
        [issue] = caught.value.issues
        assert issue.path == "systemic.therapies[1].started_on"
        assert issue.value == "2025-03-01"
        assert "'systemic.therapies[0].started_on' (2025-06-01)" in issue.rule
        assert "line 1" in issue.rule

    def test_each_line_out_of_order_is_named_once(self) -> None:
        """Lines 1-3 with line 3 before both others: line 3 is named once, against line 2
        (the latest-starting lower line); lines given in any order of the list."""
        data = _metastatic(metastases=[{"site": "liver"}])
        data["systemic"] = {"therapies": [
            {"agent": "doxorubicin", "line": 3, "started_on": "2025-01-10"},
            {"agent": "sirolimus", "line": 1, "started_on": "2025-02-01"},
            {"agent": "everolimus", "line": 2, "started_on": "2025-05-01"}]}
        with pytest.raises(InputError) as caught:
            parse_case(data)
        [issue] = caught.value.issues
        assert issue.path == "systemic.therapies[0].started_on"
        assert "'systemic.therapies[2].started_on' (2025-05-01)" in issue.rule

    def test_lines_in_order_same_day_or_undated_are_accepted(self) -> None:
        data = _metastatic(metastases=[{"site": "liver"}])
        data["systemic"] = {"therapies": [
            {"agent": "sirolimus", "line": 1, "started_on": "2025-02-01"},
            {"agent": "everolimus", "line": 2, "started_on": "2025-02-01"},
            {"agent": "doxorubicin", "line": 3},
            {"agent": "pazopanib", "line": 4, "started_on": "2025-09-01"},
            {"agent": "doxorubicin", "setting": "adjuvant", "started_on": "2025-12-01"}]}
        assert len(parse_case(data).systemic.therapies) == 5

    def test_all_problems_are_reported_at_once(self) -> None:
        """Several broken rules come back together, not one per attempt."""
        data = with_("tumour.size", {"value": -1, "unit": "cm"})
        data["histology"] = {"necrosis": "maybe"}
        with pytest.raises(InputError) as info:
            parse_case(data)
        assert {i.path for i in info.value.issues} >= {"tumour.size.value", "histology.necrosis"}


def _resected_with_line(margin: str = "R0", **line: Any) -> dict[str, Any]:
    """Localized disease resected on 2025-01-10 (margin ``margin``), one line of
    systemic treatment."""
    data = copy.deepcopy(BASE)
    data["surgery"]["margin"] = margin
    data["systemic"] = {"therapies": [{"agent": "sirolimus", **line}]}
    return data


class TestProgressedAfterALocalizedResection:
    """'Localized' with a resection that left no gross tumour says no disease is present;
    a line begun on or after that resection on which the disease progressed says it came
    back. Read as the label says, a patient progressing on adjuvant sirolimus was sent to
    routine surveillance with nothing asked. The record is refused naming both fields and
    what to record instead (the recurrence), as 'R0' beside 'not resectable' is."""

    def _rule(self, data: dict[str, Any]) -> str:
        with pytest.raises(InputError) as caught:
            parse_case(data)
        [issue] = caught.value.issues
        assert (issue.path, issue.value) == ("stage.status", "localized")
        return issue.rule

    def test_progressed_on_adjuvant_treatment_is_refused(self) -> None:
        rule = self._rule(_resected_with_line(setting="adjuvant", started_on="2025-02-15",
                                              best_response="progression",
                                              progressed="yes"))
        assert "'systemic.therapies[0].progressed' 'yes'" in rule
        assert "started 2025-02-15" in rule and "resection of 2025-01-10" in rule
        assert "'surgery.margin' 'R0'" in rule
        assert "record the recurrence ('stage.status' 'recurrent'" in rule

    def test_years_after_the_operation_on_any_line_is_refused(self) -> None:
        """Three years on, a line for advanced disease with progression as its best
        response: the recurrence it was given for is not in the record."""
        rule = self._rule(_resected_with_line(line=1, started_on="2028-02-01",
                                              best_response="progression"))
        assert "'systemic.therapies[0].best_response' 'progression'" in rule

    @pytest.mark.parametrize("line", [{"setting": "advanced"}, {}])
    def test_a_line_for_advanced_disease_after_the_resection_is_refused(
        self, line: dict[str, Any]
    ) -> None:
        """Sirolimus for advanced disease (or with its setting left out, which a case file
        reads as advanced) begun a month after the R0 resection, no relapse recorded: it
        was accepted and named nowhere, surveillance counted from the surgery. Either the
        disease came back (S12-S17 apply) or the course was adjuvant (its end unknown,
        I22): refused naming the line's setting, 'stage.status', and both ways out."""
        data = _resected_with_line(started_on="2025-02-15", **line)
        with pytest.raises(InputError) as caught:
            parse_case(data)
        [issue] = caught.value.issues
        assert (issue.path, issue.value) == ("systemic.therapies[0].setting", "advanced")
        assert "contradicts 'stage.status' 'localized'" in issue.rule
        assert "sirolimus, started 2025-02-15" in issue.rule
        assert "'surgery.margin' 'R0'" in issue.rule
        assert "record the recurrence" in issue.rule and "'adjuvant'" in issue.rule
        # given before the operation, it treated the tumour in place (I17); adjuvant,
        # it follows the operation: both are accepted
        parse_case(_resected_with_line(started_on="2025-01-02", **line))
        parse_case(_resected_with_line(setting="adjuvant", started_on="2025-02-15"))

    @pytest.mark.parametrize("margin", ["R1", "uncertain"])
    def test_a_microscopic_margin_is_no_disease_left_to_progress(self, margin: str) -> None:
        """At most microscopic tumour left is no measurable disease: progression on a later
        line is a recurrence too. After an R2 resection the gross tumour left is present
        disease the record already holds: progression on it is accepted."""
        rule = self._rule(_resected_with_line(margin, setting="adjuvant",
                                              started_on="2025-02-15", progressed="yes"))
        assert f"'surgery.margin' '{margin}'" in rule
        assert parse_case(_resected_with_line("R2", setting="adjuvant",
                                              started_on="2025-02-15", progressed="yes"))

    def test_the_day_of_a_completing_resection_counts(self) -> None:
        """An R2 resection completed on 2025-03-01 with R0: a line that progressed between
        the two treated the tumour then left (accepted); one begun after the completing
        resection is refused, naming its margin."""
        data = _resected_with_line("R2", started_on="2025-02-01", progressed="yes")
        data["surgery"]["completion"] = {"date": "2025-03-01", "margin": "R0"}
        assert parse_case(data)
        data["systemic"]["therapies"][0]["started_on"] = "2025-04-01"
        rule = self._rule(data)
        assert "resection of 2025-03-01 ('surgery.completion.margin' 'R0')" in rule

    def test_adjuvant_treatment_with_no_response_recorded_is_accepted(self) -> None:
        """Adjuvant sirolimus after the R0 resection, its result not recorded: the
        treatment after the operation, accepted; progressed on, refused."""
        assert parse_case(_resected_with_line(setting="adjuvant", started_on="2025-02-15"))
        self._rule(_resected_with_line(setting="adjuvant", started_on="2025-02-15",
                                       progressed="yes"))

    def test_a_line_before_the_resection_treated_the_tumour_in_place(self) -> None:
        """Neoadjuvant treatment that the tumour progressed on, then the R0 resection:
        accepted, recorded as the case format records pre-operative treatment (the
        setting 'advanced', I17; as 'adjuvant' it is refused: adjuvant treatment follows
        the operation). Begun after the resection, refused."""
        data = _resected_with_line(setting="advanced", started_on="2025-01-05",
                                   progressed="yes")
        assert parse_case(data)
        data["systemic"]["therapies"][0]["setting"] = "adjuvant"
        data["systemic"]["therapies"][0]["started_on"] = "2025-01-10"
        self._rule(data)

    def test_a_line_with_no_start_date_is_accepted(self) -> None:
        """A line with no start date, or a resection with no date, cannot be placed
        before or after the other: an unknown order is evidence of neither, and no record
        is refused on a guess. Both dated, the line after the resection is refused."""
        assert parse_case(_resected_with_line(setting="adjuvant", progressed="yes"))
        undated = _resected_with_line(setting="adjuvant", started_on="2025-02-15",
                                      progressed="yes")
        del undated["surgery"]["date"]
        assert parse_case(undated)
        self._rule(_resected_with_line(setting="adjuvant", started_on="2025-02-15",
                                       progressed="yes"))


class TestParseCaseJson:
    def test_a_key_named_twice_is_refused(self) -> None:
        """The case file and the web form's JSON text are read by one reader: a key named
        twice in one object is refused, not read as its last value, naming where it is
        (the top-level object's 'tumour')."""
        text = ('{"diagnosis": {"method": "histology_with_ihc", "date": "2025-01-02"}, '
                '"tumour": {"primary_site": "kidney", "size": {"value": 9, "unit": "cm"}}, '
                '"stage": {"status": "localized"}, "tumour": {"primary_site": "kidney"}}')
        with pytest.raises(InputError) as caught:
            parse_case_json(text)
        [issue] = caught.value.issues
        assert (issue.path, issue.rule) == ("tumour", "must name each key once in an object")
        assert "'tumour'" in issue.value

    def test_unparseable_json(self) -> None:
        with pytest.raises(InputError, match="valid JSON"):
            parse_case_json("{not json")

    def test_not_an_object(self) -> None:
        with pytest.raises(InputError, match="JSON object"):
            parse_case_json("[1, 2]")


class TestEvaluationDate:
    def test_fact_after_evaluation_date_is_rejected(self) -> None:
        """A surgery dated after the evaluation date cannot have happened yet."""
        case = parse_case(BASE)
        with pytest.raises(InputError, match="after the evaluation date"):
            assess(case, dt.date(2025, 1, 9))

    def test_same_day_is_accepted(self) -> None:
        assert assess(parse_case(BASE), dt.date(2025, 1, 10)).evaluated_on == dt.date(2025, 1, 10)


def test_json_schema_names_every_section() -> None:
    """`pecoma schema` exports every part of the case."""
    schema = Case.model_json_schema()
    assert {"tumour", "histology", "immunohistochemistry", "stage", "surgery", "systemic",
            "diagnosis", "primary_treatment_end"} <= set(schema["properties"])
    assert set(schema["required"]) == {"tumour", "stage"}


class TestDatesAreWrittenAsDates:
    """A date is a date or a text written YYYY-MM-DD (or the midnight of that day). Lax
    parsing read the text "0" as 1970-01-01 and "1736121600" as 2025-01-06 (seconds since
    1970); such a date reached the registry and was later read back wrong or not at
    all."""

    @pytest.mark.parametrize("text", [
        "0", "1736121600", "-2208988800", "20260101", "2026-W01-1", "2026-1-5",
        "2025-01-06T10:00:00", "2025-01-06 00:00:01", "2025-01-06T00:00:00 UTC",
        " 2025-01-06", "２０２５-０１-０６", "2025‐01‐06",
    ])
    def test_anything_else_is_refused_naming_the_field(self, text: str) -> None:
        with pytest.raises(InputError) as caught:
            parse_case(with_("diagnosis.date", text))
        [issue] = caught.value.issues
        assert issue.path == "diagnosis.date"
        assert "YYYY-MM-DD" in issue.rule, issue.rule

    def test_a_number_says_so(self) -> None:
        with pytest.raises(InputError, match="not a number"):
            parse_case(with_("diagnosis.date", 0))

    @pytest.mark.parametrize("text", [
        "2025-01-06T00:00:00+14:00", "2025-01-06 00:00", "2025-01-06T00:00:00",
        "2025-01-06 00:00:00.000", "2025-01-06T00:00:00Z", "2025-01-06T00:00-0500",
    ])
    def test_the_midnight_of_a_day_is_that_day(self, text: str) -> None:
        """Date-and-time exports (SQL, LIMS, spreadsheets saved as CSV) write a date as its
        midnight; an earlier version stored such cases: they are the same day."""
        assert parse_case(with_("diagnosis.date", text)).diagnosis.date == dt.date(2025, 1, 6)

    def test_a_calendar_date_is_read(self) -> None:
        case = parse_case(with_("diagnosis.date", "2025-01-06"))
        assert case.diagnosis.date == dt.date(2025, 1, 6)
        with pytest.raises(InputError):
            parse_case(with_("diagnosis.date", "2025-02-30"))


class TestMetastasisFoundBeforeTheDiagnosis:
    """The staging scan often comes before the biopsy: a metastasis detected before
    'diagnosis.date' (2025-01-02) is a fact, present at presentation (I7): synchronous,
    with a disease-free interval of 0, so S16's year is not met (I5)."""

    def data(self, **stage: Any) -> dict[str, Any]:
        return _metastatic(metastases=[{"site": "lung", "detected_on": "2024-12-20",
                                        **stage.pop("met", {})}],
                           extrapulmonary_disease="no", resectable="yes",
                           complete_excision_feasible="yes", **stage)

    def test_accepted_and_synchronous(self) -> None:
        a = assess(parse_case(self.data()), dt.date(2026, 11, 28))
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.metastases[0].timing"] == "synchronous"
        assert derived["derived.disease_free_interval_months"] == "0 months (dates)"
        assert "REC-LUNG-METASTASECTOMY-NOT-MET" in a.record_ids()
        assert "REC-LUNG-METASTASECTOMY" not in a.record_ids()

    def test_synchronous_without_a_treatment_date(self) -> None:
        """No surgery date to count from: found by the diagnosis, it is still before
        any end of the primary's treatment (I7)."""
        data = self.data()
        data["surgery"] = {"status": "unknown"}
        a = assess(parse_case(data), dt.date(2026, 11, 28))
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.metastases[0].timing"] == "synchronous"
        assert "MISS-METASTASIS-TIMING" not in [m.id for m in a.missing]

    def test_called_metachronous_is_a_contradiction(self) -> None:
        with pytest.raises(InputError, match=r"stage\.metastases\[0\]\.timing") as exc:
            parse_case(self.data(met={"timing": "metachronous"}))
        assert "present at presentation" in exc.value.issues[0].rule

    def test_a_stated_interval_of_months_is_a_contradiction(self) -> None:
        data = self.data(disease_free_interval_months=14)
        data["surgery"] = {"status": "unknown"}
        with pytest.raises(InputError, match="disease_free_interval_months"):
            parse_case(data)

    def test_after_the_evaluation_date_still_refused(self) -> None:
        case = parse_case(_metastatic(metastases=[{"site": "lung",
                                                   "detected_on": "2027-01-05"}]))
        with pytest.raises(InputError, match=r"stage\.metastases\[0\]\.detected_on"):
            assess(case, dt.date(2026, 11, 28))

    def test_labelled_recurrent_is_a_contradiction(self) -> None:
        """Found by the diagnosis, the metastasis was there at presentation: a disease
        called 'recurrent' is not read as synchronous metastatic disease (S11 would be
        shown for a recurrence); both fields are named."""
        data = self.data()
        data["stage"]["status"] = "recurrent"
        with pytest.raises(InputError) as exc:
            parse_case(data)
        (issue,) = [i for i in exc.value.issues if i.path == "stage.status"]
        assert "stage.metastases[0].detected_on" in issue.rule
        assert "present at presentation" in issue.rule
        assert issue.value == "'recurrent'"

    def test_recurrent_with_a_later_metastasis_is_accepted(self) -> None:
        data = self.data()
        data["stage"]["status"] = "recurrent"
        data["stage"]["metastases"].append({"site": "liver", "detected_on": "2026-03-01"})
        data["stage"]["extrapulmonary_disease"] = "yes"
        parse_case(data)

    @pytest.mark.parametrize("detected", ["2012-12-20", "2024-07-01"])
    def test_more_than_six_months_before_is_refused(self, detected: str) -> None:
        """A check of plausibility: staging precedes the diagnosis (2025-01-02) by weeks;
        a detection more than 6 months before it (from 2024-07-02 on is allowed) is a
        likely data-entry error, refused with the field, its value and the range."""
        data = self.data()
        data["stage"]["metastases"][0]["detected_on"] = detected
        with pytest.raises(InputError) as exc:
            parse_case(data)
        (issue,) = [i for i in exc.value.issues
                    if i.path == "stage.metastases[0].detected_on"]
        assert issue.value == f"'{detected}'"
        assert "6 months before 'diagnosis.date' (2025-01-02)" in issue.rule
        assert "2024-07-02" in issue.rule

    def test_six_months_before_is_accepted(self) -> None:
        data = self.data()
        data["stage"]["metastases"][0]["detected_on"] = "2024-07-02"
        parse_case(data)


class TestMetastasisKnownByTheDayRecorded:
    """A metastasis known only by the day it was recorded ('detected_on_or_before') was
    found on or before that day. Each check of 'detected_on' that such a day settles
    holds for it, naming the field; one it cannot settle (found on a day only known to
    be no later) refuses nothing. Diagnosis 2025-01-02, resection 2025-01-10 (R0)."""

    @staticmethod
    def data(recorded: str, **met: Any) -> dict[str, Any]:
        return _metastatic(metastases=[{"site": "lung", "detected_on_or_before": recorded,
                                        **met}],
                           extrapulmonary_disease="no", resectable="yes",
                           complete_excision_feasible="yes")

    @staticmethod
    def issue(data: dict[str, Any], path: str) -> Any:
        with pytest.raises(InputError) as exc:
            parse_case(data)
        (issue,) = [i for i in exc.value.issues if i.path == path]
        return issue

    def test_metachronous_recorded_by_the_end_of_treatment_is_refused(self) -> None:
        """Recorded 2025-01-05, before the resection that ended the primary's treatment:
        found by then, so present at presentation (I7). A stated 'metachronous' had been
        set aside without a word for 'synchronous' (S11's item for metastases at
        presentation shown): refused, as with the day it was found. After the end of
        treatment the day recorded settles nothing: a stated timing stands."""
        issue = self.issue(self.data("2025-01-05", timing="metachronous"),
                           "stage.metastases[0].detected_on_or_before")
        assert issue.value == "'2025-01-05'"
        assert "metachronous" in issue.rule and "2025-01-10" in issue.rule
        # control: recorded 2025-06-01, after the resection, it may have been found
        # before it: 'synchronous' stands, and is kept
        a = assess(parse_case(self.data("2025-06-01", timing="synchronous")),
                   dt.date(2026, 11, 28))
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.metastases[0].timing"] == "synchronous"

    def test_a_stated_interval_longer_than_the_day_recorded_allows_is_refused(
            self) -> None:
        """Recorded 2025-08-01, 6 whole months after the resection: the interval is at
        most 6 months, and a stated 18 had been dropped without a word; refused, naming
        the day recorded. 5 months stated is accepted and used."""
        data = self.data("2025-08-01")
        data["stage"]["disease_free_interval_months"] = 18
        issue = self.issue(data, "stage.disease_free_interval_months")
        assert "6 whole months" in issue.rule and "detected_on_or_before" in issue.rule
        data["stage"]["disease_free_interval_months"] = 5
        a = assess(parse_case(data), dt.date(2026, 11, 28))
        derived = {f.path: f.value for f in a.derived}
        assert derived["derived.disease_free_interval_months"] == "5 months (stated)"

    def test_after_the_evaluation_date_is_refused(self) -> None:
        """Recorded 2027-01-05, after the evaluation date 2026-11-28: it cannot be known
        then (it had been accepted)."""
        case = parse_case(self.data("2027-01-05"))
        with pytest.raises(InputError,
                           match=r"stage\.metastases\[0\]\.detected_on_or_before"):
            assess(case, dt.date(2026, 11, 28))

    def test_recorded_long_before_the_diagnosis_is_refused(self) -> None:
        """Recorded 2024-03-01, more than 6 months before the diagnosis: found by then,
        earlier still: refused as the day found is (a check of plausibility)."""
        issue = self.issue(self.data("2024-03-01"),
                           "stage.metastases[0].detected_on_or_before")
        assert "6 months before 'diagnosis.date' (2025-01-02)" in issue.rule

    def test_recurrent_with_every_metastasis_recorded_by_the_diagnosis_is_refused(
            self) -> None:
        """Recorded 2024-12-20, by the diagnosis: present at presentation, not a
        recurrence. Metachronous beside it is refused as well."""
        data = self.data("2024-12-20")
        data["stage"]["status"] = "recurrent"
        issue = self.issue(data, "stage.status")
        assert "stage.metastases[0].detected_on_or_before" in issue.rule
        issue = self.issue(self.data("2024-12-20", timing="metachronous"),
                           "stage.metastases[0].timing")
        assert "present at presentation" in issue.rule


class TestImagingOnlyWithAMargin:
    """A margin is a pathology finding on the resection specimen: 'diagnosed on imaging
    alone' beside it is a contradiction, refused, never a Folpe category computed from
    histology the method says does not exist."""

    @pytest.mark.parametrize("margin", ["R0", "R1", "R2", "uncertain"])
    def test_refused_naming_the_method(self, margin: str) -> None:
        data = with_("surgery.margin", margin)
        data["diagnosis"]["method"] = "imaging_only"
        with pytest.raises(InputError) as exc:
            parse_case(data)
        issue = exc.value.issues[0]
        assert issue.path == "diagnosis.method" and "resection specimen" in issue.rule

    def test_resected_with_the_margin_not_known_stays_legal(self) -> None:
        data = copy.deepcopy(BASE)
        data["surgery"] = {"status": "performed", "date": "2025-01-10"}
        data["diagnosis"]["method"] = "imaging_only"
        a = assess(parse_case(data), dt.date(2026, 11, 28))
        assert "MISS-TISSUE-DIAGNOSIS" in [m.id for m in a.missing]


class TestCompletingResection:
    """``surgery.completion`` records a resection that completed an R2 one."""

    @pytest.mark.parametrize("margin", ["R0", "R1", "uncertain", "unknown"])
    def test_only_after_an_r2_resection(self, margin: str) -> None:
        data = with_("surgery.margin", margin)
        data["surgery"]["completion"] = {"date": "2025-03-01", "margin": "R0"}
        with pytest.raises(InputError, match=r"surgery\.completion"):
            parse_case(data)

    def test_the_refusal_names_the_completion_as_entered(self) -> None:
        """A completing resection recorded after an R1 margin is refused (only an R2
        resection leaves gross tumour to complete), naming what was entered: its date and
        margin. The refusal had shown the value 'given', so the form, the API and the
        command line could not show the clinician which entry to correct."""
        data = with_("surgery.margin", "R1")
        data["surgery"]["completion"] = {"date": "2025-02-20", "margin": "R0"}
        with pytest.raises(InputError) as caught:
            parse_case(data)
        [issue] = [i for i in caught.value.issues if i.path == "surgery.completion"]
        assert issue.value == "'date 2025-02-20, margin R0'"
        assert "'R2'" in issue.rule  # what is allowed
        undated = with_("surgery.margin", "R1")
        undated["surgery"]["completion"] = {"margin": "R0"}
        with pytest.raises(InputError) as caught:
            parse_case(undated)
        [issue] = [i for i in caught.value.issues if i.path == "surgery.completion"]
        assert issue.value == "'date not given, margin R0'"

    def test_not_before_the_r2_resection(self) -> None:
        data = with_("surgery.margin", "R2")
        data["surgery"]["completion"] = {"date": "2025-01-05", "margin": "R0"}
        with pytest.raises(InputError, match=r"surgery\.completion\.date"):
            parse_case(data)

    def test_end_of_treatment_not_before_it(self) -> None:
        data = with_("surgery.margin", "R2")
        data["surgery"]["completion"] = {"date": "2025-03-01", "margin": "R0"}
        data["primary_treatment_end"] = "2025-02-01"
        with pytest.raises(InputError, match=r"surgery\.completion\.date"):
            parse_case(data)

    def test_counted_from_and_dated(self) -> None:
        data = with_("surgery.margin", "R2")
        data["surgery"]["completion"] = {"date": "2025-03-01", "margin": "R0"}
        case = parse_case(data)
        assert case.treatment_end == dt.date(2025, 3, 1)
        assert case.latest_date == dt.date(2025, 3, 1)
        with pytest.raises(InputError, match=r"surgery\.completion\.date"):
            assess(case, dt.date(2025, 2, 1))


class TestCompletingResectionEntry:
    """The completing resection can be entered: web form, registry columns, schema."""

    _FORM: ClassVar[dict[str, str]] = {"on": "2026-11-28", "tumour.primary_site": "kidney",
             "stage.status": "localized", "surgery.status": "performed",
             "surgery.date": "2025-01-10", "surgery.margin": "R2"}

    def test_web_form_reads_it(self) -> None:
        from pecoma.web import form_layout, forms

        result = forms.form_to_case({**self._FORM, "surgery.completion.date": "2025-03-01",
                                     "surgery.completion.margin": "R0"})
        assert result.case is not None, result.errors
        completion = result.case.surgery.completion
        assert completion is not None and completion.date == dt.date(2025, 3, 1)
        assert completion.margin.value == "R0" and result.case.surgery.margin.value == "R2"
        for name in ("surgery.completion.date", "surgery.completion.margin"):
            assert name in form_layout.CONTROLS

    def test_web_form_names_the_completion_entered_when_refused(self) -> None:
        """After an R1 margin the form refuses a completing resection beside its fields,
        showing what was typed (the date and the margin), never 'given'."""
        from pecoma.web import forms

        result = forms.form_to_case({**self._FORM, "surgery.margin": "R1",
                                     "surgery.completion.date": "20 Feb 2025",
                                     "surgery.completion.margin": "R0"})
        assert result.case is None
        [message] = result.errors["surgery.completion.date"]
        assert message.endswith("— entered: 'date 2025-02-20, margin R0'."), message
        assert "'given'" not in message

    def test_web_form_left_blank_records_none(self) -> None:
        from pecoma.web import forms

        result = forms.form_to_case({**self._FORM, "surgery.completion.margin": ""})
        assert result.case is not None, result.errors
        assert result.case.surgery.completion is None

    def test_registry_columns_and_schema_hold_it(self) -> None:
        from pecoma.registry.columns import COLUMN_NAMES

        assert {"surgery.completion.date", "surgery.completion.margin"} <= set(COLUMN_NAMES)
        assert "completion" in Case.model_json_schema()["$defs"]["Surgery"]["properties"]


@pytest.mark.parametrize(("size", "shown"), [({"value": 1500, "unit": "mm"}, "1500"),
                                             ({"value": 150.5, "unit": "cm"}, "150.5")])
def test_an_implausible_size_shows_the_number_entered(size: dict[str, Any], shown: str) -> None:
    """A size above 100 cm is refused naming the number entered and its unit, as every
    other refusal shows the value given: it had been named by the size object, its value
    a Python dict ("{'value': 1500, 'unit': 'mm'}") that a form or an API client could not
    show back."""
    with pytest.raises(InputError) as info:
        parse_case(with_("tumour.size", size))
    (issue,) = [i for i in info.value.issues if i.path == "tumour.size.value"]
    assert issue.value == shown
    assert size["unit"] in issue.rule and "at most 100 cm (1000 mm)" in issue.rule


@pytest.mark.parametrize(("given", "rule"), [
    # the web form takes a month's name; the case format (files, the API, a registry
    # import) asks for YYYY-MM-DD and says how this day is written so
    ("15 Oct 2025", "must be a date as YYYY-MM-DD: write it 2025-10-15"),
    ("2 December 2024", "must be a date as YYYY-MM-DD: write it 2024-12-02"),
    # no such day: no day to name
    ("31 Jun 2025", "must be a date as YYYY-MM-DD (a time of 00:00 after it is accepted"),
    ("yesterday", "must be a date as YYYY-MM-DD (a time of 00:00 after it is accepted"),
])
def test_a_date_not_written_yyyy_mm_dd_is_refused_saying_how(given: str, rule: str) -> None:
    """A registry file's "15 Oct 2025", typed as the web form takes it, had been refused
    with "must be a date as YYYY-MM-DD" alone, which also did not say that the midnight
    of a day (as date-and-time exports write it) is accepted."""
    with pytest.raises(InputError) as info:
        parse_case(with_("diagnosis.date", given))
    (issue,) = [i for i in info.value.issues if i.path == "diagnosis.date"]
    assert issue.rule.startswith(rule), issue.rule
