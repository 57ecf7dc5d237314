"""The case form's checkbox that sets four histology features to absent is not the
guideline's four high-risk features.

The guideline's four high-risk features are S06–S09: tumour size > 5 cm, necrosis,
infiltrative growth pattern, high nuclear grade and cellularity (I1), and the report asks
for exactly those ("Assess the four high-risk features (size, necrosis, growth pattern,
nuclear grade with cellularity)"). The checkbox sets a different four: necrosis,
infiltrative growth, high nuclear grade and cellularity and vascular invasion (a Folpe
criterion, not a high-risk feature of the guideline); size is a number entered in the
tumour group. A label reading "none of the four" lets a clinician take the guideline's four
as settled while size is still unknown, so the label names the features it sets as
histology features, and its help says that size (one of S06–S09) is entered apart.
"""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Feature
from pecoma.web import WebConfig, create_app, form_layout, forms

ON = dt.date(2026, 12, 7)
FOUR = form_layout.WORRISOME_FOUR
#: the words each of the four the box sets is named by
NAMES = {
    "histology.necrosis": "necrosis",
    "histology.infiltrative_growth": "infiltrative growth",
    "histology.high_nuclear_grade_and_cellularity": "high nuclear grade and cellularity",
    "histology.vascular_invasion": "vascular invasion",
}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(WebConfig(), today=lambda: ON),
                      raise_server_exceptions=False, base_url="http://localhost")


@pytest.fixture(scope="module")
def box(client: TestClient) -> tuple[str, str]:
    """The checkbox's label and help as the form page shows them."""
    page = client.get("/").text
    label = re.search(r'<label for="f-none-of-four">(.*?)</label>', page, re.S)
    hint = re.search(r'<p class="help" id="f-none-of-four-help">(.*?)</p>', page, re.S)
    assert label is not None and hint is not None
    return (" ".join(unescape(label.group(1)).split()),
            " ".join(unescape(hint.group(1)).split()))


def test_label_is_not_the_four_high_risk_features(box: tuple[str, str]) -> None:
    """Nothing in the label reads as 'the four (high-risk) features' of the guideline."""
    label, _ = box
    assert "histology features" in label
    assert not re.search(r"\bthe four\b", label, re.I)
    assert "worrisome" not in label.lower()
    assert "high-risk" not in label.lower()


@pytest.mark.parametrize("name", FOUR)
def test_label_names_each_feature_it_sets(box: tuple[str, str], name: str) -> None:
    assert NAMES[name] in box[0].lower()


def test_help_says_size_is_entered_apart(box: tuple[str, str]) -> None:
    """Size is one of the guideline's four (S06) and the box does not set it: the help
    says so, naming S06–S09, so an empty size is not taken as settled."""
    _, hint = box
    assert "S06–S09" in hint
    assert re.search(r"size", hint, re.I)
    assert "not" in hint.lower()
    assert "size" not in box[0].lower()


@pytest.mark.parametrize("name", FOUR)
def test_ticking_sets_each_unknown_feature_absent(name: str) -> None:
    """Behaviour kept: each of the four left unknown (or blank) becomes absent."""
    for left in ("", "unknown"):
        result = forms.form_to_case({"on": ON.isoformat(), "tumour.primary_site": "kidney",
                                     "stage.status": "localized", "none_of_four": "yes",
                                     name: left})
        assert result.case is not None, result.errors
        field = name.split(".", 1)[1]
        assert getattr(result.case.histology, field) is Feature.absent
        assert result.case.tumour.size is None  # the box never sets the size


@pytest.mark.parametrize("name", FOUR)
def test_present_is_refused_naming_the_box(name: str) -> None:
    """A feature set to present beside the ticked box is a contradiction, named with the
    box's own words."""
    result = forms.form_to_case({"on": ON.isoformat(), "tumour.primary_site": "kidney",
                                 "stage.status": "localized", "none_of_four": "yes",
                                 name: "present"})
    assert result.case is None
    (message,) = result.errors[name]
    assert "None of these histology features" in message


def test_size_left_empty_stays_indeterminate(client: TestClient) -> None:
    """A uterine PEComa resected R0, no mitoses, the box ticked and no size: the size
    (S06) is still unknown, so the risk group is indeterminate, not low."""
    r = client.post("/report", data={
        "on": ON.isoformat(), "tumour.primary_site": "uterus", "stage.status": "localized",
        "surgery.status": "performed", "surgery.margin": "R0",
        "histology.mitoses_per_50_hpf": "0", "none_of_four": "yes"})
    assert r.status_code == 200, r.text[:2000]
    words = " ".join(re.sub(r"<[^>]+>", " ", r.text).split())
    assert re.search(r"Risk:\s*indeterminate", words)
