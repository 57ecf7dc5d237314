"""The summary for the board and the plain words of the report page and the PDF.

The expectations are clinical facts written by hand: which alert comes first, which risk
is shown, which missing fact is asked first and why.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from pecoma.case import Case, parse_case
from pecoma.engine import assess
from pecoma.engine.model import Assessment
from pecoma.engine.plan import SurveillancePlan
from pecoma.engine.schedule import plan_surveillance
from pecoma.knowledge import load_knowledge
from pecoma.web import WebConfig, create_app, forms
from pecoma.web.app import make_templates
from pecoma.web.pages import build_report_view
from pecoma.web.pdf import render_pdf_html
from pecoma.web.summary import BoardSummary, board_summary, field_label, value_words
from report_support import R1_NODES_UNKNOWN

from followup_tools import load, plan_of

ON = dt.date(2026, 11, 28)
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def example(name: str) -> Case:
    text = resources.files("pecoma").joinpath(f"examples/{name}.json").read_text("utf-8")
    return parse_case(json.loads(text))


def summary_of(case: Case, on: dt.date = ON) -> tuple[BoardSummary, Assessment]:
    a = assess(case, on)
    return board_summary(a, plan_surveillance(case, a, on)), a


# --------------------------------------------------------------------------- the summary


def test_high_risk_uterine_critical_alert_first_and_risk_high() -> None:
    """R1 margin of a malignant tumour: the critical alert (S27) leads; the risk is high
    (72 mm, necrosis, infiltrative growth: S06-S08); the first action is the local one,
    discussing re-excision (S10), before the referral. Evaluated four weeks after the
    example's operation of 2025-01-10, when these are decided: more than 6 months after
    it they are decisions to confirm instead (I30)."""
    s, _ = summary_of(example("high-risk-uterine"), dt.date(2025, 2, 7))
    assert s.alerts[0].level == "critical"
    assert s.alerts[0].title == "Malignant tumour may have been left behind"
    levels = [a.level for a in s.alerts]
    assert levels == sorted(levels, key=["critical", "warning", "info"].index)
    assert s.risk == "high"
    assert s.actions[0].id == "REC-RERESECTION"
    assert all(i.provenance.kind == "guideline" for i in s.actions)


def test_metastatic_case_risk_not_applicable() -> None:
    """Metastatic disease: the risk of the primary no longer applies (S12-S17, I8)."""
    s, a = summary_of(example("metachronous-lung"))
    assert a.risk.group == "not_applicable"
    assert s.risk == "not applicable: recurrent or metastatic disease"


# Why stratification does not apply, in the words of the risk record (I8, I6): a local
# recurrence excised and free of disease is neither advanced nor metastatic; a tumour that
# cannot be removed is unresectable locally advanced disease.
RELAPSE_WORDS = "not applicable: recurrent or metastatic disease"
UNRESECTABLE_WORDS = "not applicable: unresectable locally advanced disease"


def _scenario(name: str) -> Case:
    return parse_case(json.loads((SCENARIOS / name / "case.json").read_text()))


@pytest.mark.parametrize(
    ("case", "words"),
    [
        # recurrent, re-excised, free of disease since 2019: "Advanced disease: no"
        (lambda: _scenario("relapse-free-years-ago-no-scans"), RELAPSE_WORDS),
        (lambda: example("metachronous-lung"), RELAPSE_WORDS),
        (lambda: example("advanced-mtor-contraindicated"), UNRESECTABLE_WORDS),
    ],
    ids=["recurrent-free-of-disease", "metastatic", "unresectable"],
)
def test_not_applicable_says_why_in_every_output(
    client: TestClient, case: Any, words: str
) -> None:
    """The summary, the risk panel, the PDF, the terminal and Markdown reports and the FHIR
    CarePlan give one reading, never "advanced disease" for a relapse now cleared."""
    import io

    from rich.console import Console

    from pecoma.fhir.careplan import careplan_bundle
    from pecoma.render.text import markdown_report, print_report

    c = case()
    s, a = summary_of(c)
    assert a.risk.group == "not_applicable"
    assert s.risk == words
    html = client.post("/report", data=forms.case_to_values(c, ON)).text
    panel = re.search(r'<h2 id="risk-title">(.*?)</h2>', html, re.S)
    assert panel is not None and " ".join(VisibleText(panel.group(1)).text.split()) == (
        f"Risk: {words}"
    )
    top = re.search(r'<p class="summary-risk[^>]*>(.*?)</p>', html, re.S)
    assert top is not None and f"Risk: {words}" in " ".join(VisibleText(top.group(1)).text.split())
    view = build_report_view(c, a, load_knowledge(), plan_surveillance(c, a, ON))
    pdf = " ".join(VisibleText(render_pdf_html(make_templates(), view, a)).text.split())
    assert f"Risk: {words}" in pdf and f"Risk: {words.upper()}" in pdf
    assert f"## Risk: {words}\n" in markdown_report(a)
    out = io.StringIO()
    print_report(a, Console(file=out, width=300, color_system=None))
    assert f"Risk: {words.upper()} " in out.getvalue()
    assert "risk: not applicable: advanced" not in pdf.lower()
    plan = plan_surveillance(c, a, ON)
    careplan = careplan_bundle(c, a, plan)["entry"][0]["resource"]
    assert careplan["description"].startswith(f"Risk group: {words};")


def test_unknown_size_asked_before_unknown_mitoses() -> None:
    """Size is one of the guideline's four high-risk features: unknown, it could turn the
    risk high (S06). The mitotic count only moves the supplementary Folpe/Bennett
    categories. So size is asked first, and mitoses last."""
    data = json.loads((SCENARIOS / "unknown-size-indeterminate" / "case.json").read_text())
    del data["histology"]["mitoses_per_50_hpf"]
    s, a = summary_of(parse_case(data))
    ids = [m.fact.id for m in s.missing]
    assert {"MISS-SIZE", "MISS-MITOSES"} <= set(ids)
    assert ids[0] == "MISS-SIZE"
    assert ids.index("MISS-SIZE") < ids.index("MISS-MITOSES")
    size = s.missing[0]
    assert size.label == "Largest dimension" and size.changes == "could change the risk group"
    mitoses = next(m for m in s.missing if m.fact.id == "MISS-MITOSES")
    assert mitoses.label == "Mitoses"
    assert mitoses.changes == "changes an alert or supplementary context only"
    assert a.risk.group == "indeterminate" and s.risk == "indeterminate"


def test_tissue_diagnosis_is_asked_first() -> None:
    """A diagnosis on imaging alone makes every recommendation conditional (S24, I11): the
    tissue diagnosis outranks even the risk features."""
    s, _ = summary_of(example("imaging-only"))
    assert s.missing[0].fact.id == "MISS-TISSUE-DIAGNOSIS"
    assert s.alerts[0].level == "critical"
    assert s.alerts[0].title == "Diagnosis by imaging alone is not reliable"


def test_unknown_nodes_rank_as_a_treatment_question() -> None:
    """Positive nodes would call for considering postoperative treatment (S11), even though
    no item waits on them now: the nodal status ranks above the scan history."""
    data = json.loads((SCENARIOS / "nodes-unknown" / "case.json").read_text())
    s, _ = summary_of(parse_case(data))
    ranked = {m.fact.id: m for m in s.missing}
    assert ranked["MISS-NODES"].changes == "could change the treatment"
    ids = list(ranked)
    if "MISS-SCAN-HISTORY" in ranked:
        assert ids.index("MISS-NODES") < ids.index("MISS-SCAN-HISTORY")


def _plan_summary(name: str) -> tuple[BoardSummary, SurveillancePlan]:
    plan = plan_of(name)

    spec = load(name)["input"]
    case = parse_case(spec["case"])
    a = assess(case, dt.date.fromisoformat(spec["on"]))
    return board_summary(a, plan), plan


def _visit_one(name: str) -> tuple[Any, dt.date, tuple[Any, ...]]:
    """The scenario as of 2025-05-01, with the scans of its first visit only."""
    from pecoma.engine.imaging import parse_imaging

    spec = load(name)["input"]
    on = dt.date(2025, 5, 1)
    scans = tuple(e for e in parse_imaging(spec["imaging"]) if e.date <= on)
    return parse_case(spec["case"]), on, scans


def test_equivocal_scan_and_missing_imaging_are_alerts() -> None:
    """Visit 1 (April 2025): the chest CT is equivocal and the MRI's result was not
    recorded. On 2025-05-01 the equivocal CT needs the team's decision (S26, S27): a
    critical alert, first; the unread MRI is a warning."""
    case, on, scans = _visit_one("equivocal-and-unrecorded")
    a = assess(case, on)
    s = board_summary(a, plan_surveillance(case, a, on, scans))
    by_title = {x.title: x.level for x in s.alerts}
    assert by_title["Equivocal scan: decide before the next routine visit"] == "critical"
    assert by_title["Scan result not recorded"] == "warning"
    assert s.alerts[0].level == "critical"


def test_a_repeated_clear_scan_settles_the_equivocal_alert() -> None:
    """By 2025-09-01 visit 2 (July) repeated the chest CT, clear: the equivocal question is
    answered, and no critical alert is left. The MRI was never read since April (its result
    not recorded) and visit 2 has none: both stay as warnings."""
    s, plan = _plan_summary("equivocal-and-unrecorded")
    # the visit's history keeps it; the plan's open flags, as its alerts, do not
    assert "FU-EQUIVOCAL" in [f.id for v in plan.visits for f in v.flags]
    assert "FU-EQUIVOCAL" not in [f.id for f in plan.flags]
    by_title = {x.title: x.level for x in s.alerts}
    assert "Equivocal scan: decide before the next routine visit" not in by_title
    assert by_title["Scan result not recorded"] == "warning"
    assert by_title["Not every planned examination is recorded"] == "warning"


def test_missed_visits_are_an_alert() -> None:
    s, plan = _plan_summary("high-window-passed")
    late = [v for v in plan.visits if v.status in ("missed", "overdue")]
    titles = [a.title for a in s.alerts]
    assert late, "the golden plan has a visit whose window passed without a scan"
    assert "Surveillance imaging missed or overdue" in titles


def test_scan_history_not_given_is_an_alert() -> None:
    s, _ = summary_of(example("low-risk-kidney"))
    assert "Scan history not given: a visit is due now" in [a.title for a in s.alerts]


# --------------------------------------------------------------------------- plain words


@given(st.from_regex(r"[a-z_]{1,12}(\[\d{0,2}\])?(\.[a-z_]{1,12}){0,3}", fullmatch=True))
def test_a_label_is_never_a_field_path(path: str) -> None:
    label = field_label(path)
    assert label.strip()
    assert not re.search(r"[a-z\]]\.[a-z]", label), label
    assert "_" not in label, label


def test_values_in_words() -> None:
    from pecoma.case import Feature, Margin

    assert value_words(None) == "unknown"
    assert value_words(True) == "yes" and value_words(False) == "no"
    assert value_words(Feature.present) == "present"
    assert value_words(Margin.R1) == "R1"
    assert value_words(dt.date(2026, 1, 2)) == "2026-01-02"
    assert value_words(("a", "b")) == "a, b"
    assert value_words(12.0) == "12"
    assert "_" not in value_words("not_assessed")


# ----------------------------------------------------------- report page and PDF, many cases

ROOTS = (
    "tumour|histology|diagnosis|stage|surgery|systemic|immunohistochemistry|molecular|"
    "free_of_disease|imaging|followup|derived|risk|classification|visit"
)
FIELD_PATH = re.compile(rf"\b(?:{ROOTS})(?:\[\d*\])?\.[a-z_]")
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
REPR = re.compile(
    r"\b(?:None|True|False)\b|<[A-Z][A-Za-z]+\.|datetime\.|\('|\['|\w+\(\w+=|object at 0x"
)


class VisibleText(HTMLParser):
    """What a reader sees or hears: text and titles, not scripts, styles, or the case
    carried in hidden fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self._skip = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if "id" in a:
            self.ids.append(a["id"])
        if a.get("href", "").startswith("#"):
            self.hrefs.append(a["href"][1:])
        for name in ("title", "aria-label", "alt"):
            if a.get(name):
                self.parts.append(a[name])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def assert_plain(text: str, where: str) -> None:
    for pattern in (FIELD_PATH, SNAKE, REPR):
        found = pattern.findall(text)
        assert not found, f"{where}: {sorted(set(found))[:5]}"


def scenario_cases() -> list[tuple[str, dict[str, Any]]]:
    return [
        (d.name, json.loads((d / "case.json").read_text()))
        for d in sorted(SCENARIOS.iterdir())
        if (d / "case.json").is_file()
    ]


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON), raise_server_exceptions=False, base_url="http://localhost")


def test_no_field_path_or_repr_in_any_report(client: TestClient) -> None:
    """Every scenario case through the report page and the PDF's HTML: no field path, no
    snake_case code, no Python repr; every in-page link has its target; ids are unique."""
    cases = scenario_cases()
    assert len(cases) >= 40
    templates = make_templates()
    k = load_knowledge()
    for name, data in cases:
        case = parse_case(data)
        values = forms.case_to_values(case, ON)
        r = client.post("/report", data=values)
        assert r.status_code == 200, (name, r.text[:500])
        page = VisibleText(r.text)
        assert_plain(page.text, f"report page of {name}")
        dup = {i for i in page.ids if page.ids.count(i) > 1}
        assert not dup, (name, dup)
        assert set(page.hrefs) <= set(page.ids), (name, set(page.hrefs) - set(page.ids))
        a = assess(case, ON)
        view = build_report_view(case, a, k, plan_surveillance(case, a, ON))
        for compact in (False, True):
            html = render_pdf_html(templates, view, a, compact=compact)
            html = re.sub(r'src="data:[^"]+"', 'src=""', html)
            assert_plain(VisibleText(html).text, f"PDF of {name}")


def test_report_page_summary_first(client: TestClient) -> None:
    values = forms.case_to_values(example("high-risk-uterine"), ON)
    html = client.post("/report", data=values).text
    order = [
        html.index('id="summary-title"'),
        html.index('id="alerts-title"'),
        html.index('id="risk-title"'),
        html.index('id="rec-title"'),
        html.index('id="missing-title"'),
        html.index('id="intended-title"'),
    ]
    assert order == sorted(order)
    summary = html[order[0] : order[1]]
    assert "Malignant tumour may have been left behind" in summary
    assert 'href="#missing-title"' in summary  # every missing fact, one link away
    assert ">high<" in summary
    # The intended-use note is brief at the top and in full below.
    assert html.count("supports, and never replaces") >= 2
    assert 'href="#intended-use"' in html


def test_low_risk_card_once(client: TestClient) -> None:
    """The low-risk schedule (S23, I3) is shown once, with one id."""
    html = client.post("/report", data=forms.case_to_values(example("low-risk-kidney"), ON))
    assert html.text.count('id="item-FU-LOW-LESS-INTENSIVE"') == 1


def test_statement_text_on_tap(client: TestClient) -> None:
    """Statement texts open in a <details> (tap, keyboard, no JavaScript) and show on
    hover (title)."""
    html = client.post("/report", data=forms.case_to_values(example("high-risk-uterine"), ON))
    text = load_knowledge().statements["S10"].text
    block = re.search(r'<details class="statement-texts">.*?</details>', html.text, re.S)
    assert block is not None
    assert any(
        text in m.group(0) and f"S10: {text}" in m.group(0)
        for m in re.finditer(r'<details class="statement-texts">.*?</details>', html.text, re.S)
    )


# --------------------------------------------------------------------------- the timeline


def test_web_timeline_is_deterministic_and_says_what_it_shows() -> None:
    from pecoma.render.timeline_web import timeline_web_svg

    from followup_tools import plan_of

    plan = plan_of("equivocal-and-unrecorded")
    svg = timeline_web_svg(plan)
    assert svg == timeline_web_svg(plan)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    for text in ("visit windows", "scans done", "scan: equivocal", "today 2025-09-01",
                 "end of treatment 2025-01-10", "done", "upcoming"):
        assert text in svg, text
    suspended = timeline_web_svg(plan_of("recurrence-suspends"))
    assert "SUSPENDED: a scan found disease" in suspended and "cancelled" in suspended
    not_drawn = timeline_web_svg(plan_of("no-anchor-date-missing"))
    assert "No dated surveillance plan can be drawn." in not_drawn
    assert "start of surveillance is not known" in not_drawn


def test_web_timeline_escapes_the_label() -> None:
    from dataclasses import replace

    from pecoma.render.timeline_web import timeline_web_svg

    from followup_tools import plan_of

    plan = replace(plan_of("high-2025-01-10"), label='<script>alert("x")</script> & co')
    svg = timeline_web_svg(plan)
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&amp; co" in svg


def test_equivocal_scan_on_the_report_page(client: TestClient) -> None:
    """Entered with its scans, the equivocal chest CT is the first alert of the summary,
    linked to its card; the page reads in plain words."""

    case, on, scans = _visit_one("equivocal-and-unrecorded")
    values = forms.case_to_values(case, on, scans)
    r = client.post("/report", data=values)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    summary = html[html.index('id="summary-title"') : html.index('id="alerts-title"')]
    first = re.search(r'<li class="level-(\w+)">.*?<a href="#([\w-]+)">([^<]+)</a>', summary, re.S)
    assert first is not None
    assert first.groups() == (
        "critical",
        "item-FU-EQUIVOCAL",
        "Equivocal scan: decide before the next routine visit",
    )
    page = VisibleText(html)
    assert "item-FU-EQUIVOCAL" in page.ids and page.ids.count("item-FU-EQUIVOCAL") == 1
    assert set(page.hrefs) <= set(page.ids)
    assert_plain(page.text, "report page with an equivocal scan")


def _case_keys() -> frozenset[str]:
    """Every key of the case format (``date``, ``margin``, ``by``, ``completion`` …),
    from its schema: a field added later is among them."""
    keys: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(Case.model_json_schema())
    return frozenset(keys)


#: A record id of the knowledge base (MISS-LOCAL-RECURRENCE, REC-…, ALERT-…): the report
#: never shows one, the form names the question or alert in words
RECORD_ID = re.compile(r"\b(?:ALERT|CLS|FU|MISS|REC|RISK|SUPP)-[A-Z0-9]")
#: a label's quotes inside a value's quotes ('“Started on”')
DOUBLED_QUOTES = re.compile(r"['\"][“”]|[“”]['\"]")
QUOTED = re.compile(r"'([^'\s]+)'")


def test_form_help_texts_in_plain_words() -> None:
    """Every help text of the case form (read out as the field's description, and each
    group's note) names fields by their labels: e.g. the metastasis row's timing says
    "Detected on", never ``detected_on``; "Date of surgery", never 'date'; no record id
    of the knowledge base (the report names none); a label in its quotes once."""
    from pecoma.web import form_layout

    controls = [c for g in form_layout.FORM for c in g.controls]
    controls += [c for g in form_layout.FORM if g.rows for c in g.rows.controls]
    helps = [c.help for c in controls if c.help]
    assert len(helps) > 20
    helps += [g.note for g in form_layout.FORM if g.note]
    keys = _case_keys()
    assert {"date", "margin", "by", "completion", "mitoses_per_50_hpf"} <= keys
    for h in helps:  # (a help text may quote in brackets: "('none' if it had none)")
        for pattern in (FIELD_PATH, SNAKE, RECORD_ID, DOUBLED_QUOTES):
            assert not pattern.findall(h), (pattern.pattern, h)
        # a quoted word is a value to choose ('no', 'R2'), never a key of the case
        assert not [w for w in QUOTED.findall(h) if w in keys], h
    timing = form_layout.ROWSPECS["stage.metastases"].controls
    assert "“Detected on”" in next(c.help for c in timing if c.name == "timing" and c.help)


# --------------------------------------------------------------------------- alerts agree

_SUMMARY_ALERT = re.compile(
    r'<li class="level-(\w+)"><span class="badge level-\w+">\w+</span> '
    r'<a href="#([\w-]+)">([^<]+)</a>(?: <em>provisional until supplied: .*?</em>)?</li>')
_ALERT_CARD = re.compile(
    r'<article class="item \w+ level-(\w+)" id="([\w-]+)">\s*<h3 class="item-title">'
    r'<span class="badge level-(\w+)">(\w+)</span> ([^<]+)</h3>')


def _alerts_of_page(html: str) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(the summary's alerts, the Alerts section's cards), each as (level, anchor, title)."""
    summary = html[html.index('id="summary-title"'):html.index('id="downloads-title"')]
    listed = [(m[1], m[2], m[3]) for m in _SUMMARY_ALERT.finditer(summary)]
    section = html[html.index('id="alerts-title"'):html.index('id="risk-title"')]
    cards = []
    for m in _ALERT_CARD.finditer(section):
        assert m[1] == m[3] == m[4], m.groups()  # the card's class, badge and words agree
        cards.append((m[1], m[2], m[5]))
    return listed, cards


@pytest.mark.parametrize(("name", "expected"), [
    ("equivocal-and-unrecorded", ("critical", "Equivocal scan: decide before the next "
                                  "routine visit")),
    ("recurrence-suspends", ("critical", "Surveillance suspended: a scan found disease")),
    ("scan-history-missing-2019", ("warning", "Scan history not given: a visit is due now")),
    ("adjuvant-end-not-recorded", ("warning", "End of adjuvant treatment not recorded")),
    ("reanchored-on-time-late-missed", ("warning", "Surveillance imaging missed or overdue")),
])
def test_the_alerts_section_lists_the_summarys_alerts(
        client: TestClient, name: str, expected: tuple[str, str]) -> None:
    """The detailed "Alerts" section (the cards, most severe first) lists the alerts of the
    summary for the board, in the same order and with the same levels, each summary link
    landing on its card there. What the surveillance plan found (an equivocal scan and a
    scan that found disease: the team decides now; the scan history not given, the end of
    adjuvant treatment not recorded, a visit missed: warnings) had been linked from the
    summary as critical or warning, but its card stood at the end of the surveillance
    section, with no level and no badge, and the Alerts section left it out: a reader of
    the detailed report, or of a printed page, would not find the case's critical alert
    among the alerts."""
    spec = load(name)["input"]
    case, on = parse_case(spec["case"]), dt.date.fromisoformat(spec["on"])
    scans: tuple[Any, ...] = ()  # none entered: the scan history is not given (I13)
    if "imaging" in spec:
        from pecoma.engine.imaging import parse_imaging

        scans = tuple(parse_imaging(spec["imaging"]))
        if name == "equivocal-and-unrecorded":
            case, on, scans = _visit_one(name)
    r = client.post("/report", data=forms.case_to_values(case, on, scans))
    assert r.status_code == 200, r.text[:500]
    listed, cards = _alerts_of_page(r.text)
    assert listed == cards
    level, title = expected
    assert any(lv == level and t.startswith(title) for lv, _, t in cards), cards
    page = VisibleText(r.text)
    dup = {i for i in page.ids if page.ids.count(i) > 1}
    assert not dup
    assert set(page.hrefs) <= set(page.ids)


@pytest.mark.parametrize("compact", [False, True])
def test_a_plans_alert_keeps_its_level_in_the_pdf(compact: bool) -> None:
    """In the PDF the summary's table is the list of alerts; a reason of the surveillance
    plan that is one of them (the scan history not given, I13: a warning) keeps its level
    where the surveillance section shows it again, as the summary does, instead of standing
    there as an ordinary line."""
    case = example("low-risk-kidney")
    a = assess(case, ON)
    plan = plan_surveillance(case, a, ON)  # no scan history given
    view = build_report_view(case, a, load_knowledge(), plan)
    html = render_pdf_html(make_templates(), view, a, compact=compact)
    summary, rest = html.split("Surveillance plan:</strong>", 1)
    assert re.search(r'<tr class="level-warning"><td><strong>Scan history not given', summary)
    assert "[WARNING] Scan history not given: a visit is due now" in rest


def test_summary_alert_marks_a_provisional_alert(client: TestClient) -> None:
    """The page's summary names an alert that is provisional as such, with the fact it
    waits on: an R1 resection of a retroperitoneal PEComa of uncertain malignant potential
    whose nodes are not recorded gets the critical S27 alert as the safer branch (nodal
    spread would be evidence of malignancy, I9), provisional on the nodes; the summary had
    listed it as settled."""
    case = parse_case(R1_NODES_UNKNOWN)
    html = client.post("/report", data=forms.case_to_values(case, ON)).text
    summary = html.split('<ul class="summary-alerts">')[1].split("</ul>")[0]
    row = next(li for li in summary.split("<li") if "Malignant tumour may have been left" in li)
    assert "provisional until supplied:" in row
    assert "Long-term follow-up" in summary
    settled = next(li for li in summary.split("<li") if "Long-term follow-up" in li)
    assert "provisional" not in settled
