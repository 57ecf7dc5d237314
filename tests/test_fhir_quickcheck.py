"""The quick R4B check: it may only say "certainly valid" when fhir.resources agrees.

The reader skips the full fhir.resources validation of a resource the quick check
accepts, so a single resource it wrongly accepted would be read without the R4B check.
The property tests below hold that it never accepts what the R4B validator refuses, on
the example records, the mCODE corpus and the benchmark's generated records, mutated
anywhere with odd JSON; the hand-written cases name invalid resources one by one.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from conftest import examples
from pecoma.errors import InputError
from pecoma.fhir.quickcheck import plainly_valid
from pecoma.fhir.reader import case_from_bundle
from pecoma.web.app import create_app
from pecoma.web.cds.discovery import PATIENT_VIEW
from pecoma.web.config import WebConfig

from fhir_support import EXAMPLES, example, hook_request, patient_id, prefetch_of

CORPUS = Path(__file__).parent / "data" / "mcode"


def _corpus() -> list[dict[str, Any]]:
    bundles = [example(n) for n in EXAMPLES]
    bundles += [json.loads(p.read_text("utf-8")) for p in sorted(CORPUS.glob("*.json"))]
    return [e["resource"] for b in bundles for e in b["entry"]]


RESOURCES = _corpus()


def r4b_accepts(resource: dict[str, Any]) -> bool:
    try:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except (ValidationError, ValueError, TypeError, KeyError):
        return False
    return True


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


# Values an EHR might put anywhere: FHIR-looking strings (valid and not), numbers at the
# edges, booleans, nulls, empty and odd containers.
_ODD = st.sampled_from([
    None, True, False, 0, 1, -1, 2**31, 2**40, -1.5, 1e300, 0.1, "", " ", "x", "a  b",
    "2024-01-01", "2024-13-01", "2024-02-30", "2024", "2024-01", "2024-01-01T10:00:00",
    "2024-01-01T10:00:00Z", "2024-01-01T25:00:00Z", "9999-12-31T23:59:60Z", "final",
    "http://x y", "urn:uuid:1", "Patient/1", "1.0", "+1", "-0", "a\tb", "\u00e9", [], {},
    [None], [1], ["x"], [{}], {"coding": True}, {"x": 1}, {"reference": "Patient/1"},
    {"system": "http://loinc.org", "code": "1-8"}, {"value": "1"}, {"value": 1, "unit": ""},
])
_JSON = st.recursive(
    _ODD | st.text(max_size=8) | st.integers() | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["coding", "system", "code", "value", "url", "valueCode",
                         "reference", "text", "x", "_code", "resourceType"]),
        inner, max_size=3),
    max_leaves=5,
)
_KEYS = st.sampled_from([
    "status", "valueBoolean", "valueString", "valueQuantity", "valueCodeableConcept",
    "effectiveDateTime", "effectivePeriod", "onsetDateTime", "onsetAge", "_status",
    "resourceType", "id", "text", "extension", "modifierExtension", "contained", "meta",
    "subject", "code", "bodySite", "fhir_comments", "unknownElement", "class",
])


@given(st.sampled_from(range(len(RESOURCES))), st.data())
@settings(max_examples=int(__import__("os").environ.get("FUZZ", examples(100))), deadline=None)
def test_never_accepts_what_r4b_refuses(index: int, data: st.DataObject) -> None:
    """Any resource of the corpus, changed in one to three places (a value replaced, an
    element removed or added): if the quick check accepts it, so does fhir.resources."""
    resource = copy.deepcopy(RESOURCES[index])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from([p for p in _paths(resource) if p]))
        node: Any = resource
        for part in path[:-1]:
            node = node[part]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete" and isinstance(node, dict):
            del node[path[-1]]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(_KEYS)] = copy.deepcopy(data.draw(_JSON))
        else:
            node[path[-1]] = copy.deepcopy(data.draw(_JSON))  # never shared
    if plainly_valid(resource):
        assert r4b_accepts(resource), resource
    # The verdicts on text values kept for one record: the same verdict, whichever of
    # the record's resources (plain or broken) was checked first.
    seen: dict[tuple[int, str], bool] = {}
    others = data.draw(st.lists(st.sampled_from(RESOURCES), max_size=3))
    assert [plainly_valid(r, seen) for r in [*others, resource, *others]] == [
        plainly_valid(r) for r in [*others, resource, *others]]


def test_corpus_agrees_and_the_plain_resources_are_recognised() -> None:
    """On the unchanged corpus: nothing the validator refuses is accepted, and every
    resource of the example records (as pecoma writes them) is recognised as plainly
    valid (else the check would not save the validator's time)."""
    for resource in RESOURCES:
        assert r4b_accepts(resource)
    for name in EXAMPLES:
        for entry in example(name)["entry"]:
            assert plainly_valid(entry["resource"]), entry["resource"].get("id")


def _obs() -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "o1", "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": "2025-01-02",
            "valueQuantity": {"value": 72, "unit": "/min"}}


@pytest.mark.parametrize(("change", "why"), [
    ({"status": 7}, "a code that is a number"),
    ({"status": ""}, "an empty code"),
    ({"status": None}, "a null"),
    ({"effectiveDateTime": "2025-13-02"}, "month 13"),
    ({"effectiveDateTime": "02/01/2025"}, "not an ISO date"),
    ({"valueBoolean": True}, "two values for value[x]"),
    ({"valueQuantity": {"value": True}}, "a decimal given as a boolean"),
    ({"category": []}, "an empty list"),
    ({"category": [None]}, "a null in a list"),
    ({"code": {}}, "an empty object"),
    ({"code": {"coding": {"system": "http://loinc.org"}}}, "one object for a list"),
    ({"_status": {"extension": []}}, "a primitive extension (left to the validator)"),
    ({"colour": "red"}, "an element R4 does not have"),
    ({"resourceType": "Condition"}, "another resource type"),
    ({"contained": [{"resourceType": "Patient", "id": "x"}]}, "a contained resource"),
    ({"id": "not an id!"}, "an id with spaces"),
    ({"subject": {"reference": 3}}, "a reference that is a number"),
])
def test_odd_resources_go_to_the_validator(change: dict[str, Any], why: str) -> None:
    """Each of these is refused by the quick check, and the full validator decides: it
    refuses most of them; an empty list or object, a primitive extension or a contained
    resource it accepts, and the quick check just leaves them to it."""
    assert plainly_valid(_obs())
    resource = {**_obs(), **change}
    assert not plainly_valid(resource), why


def test_missing_required_element_goes_to_the_validator() -> None:
    resource = _obs()
    del resource["status"]
    assert not plainly_valid(resource)
    assert not plainly_valid({"resourceType": "NoSuchType", "id": "x"})
    assert not plainly_valid({"id": "x"})


def test_invalid_read_resource_still_refused_by_the_reader() -> None:
    """An Observation the reader takes a fact from, with a status that is a number: the
    quick check leaves it to the validator, and the record is refused naming it, as
    before (never read as a fact)."""
    bundle = copy.deepcopy(example("low-risk"))
    obs = next(e["resource"] for e in bundle["entry"]
               if e["resource"].get("id") == "histology-necrosis")
    obs["status"] = 7
    with pytest.raises(InputError) as exc:
        case_from_bundle(bundle)
    assert any(i.path == "Observation/histology-necrosis.status"
               and "must be valid FHIR R4" in i.rule for i in exc.value.issues)


# ------------------------------------------------------- the same over CDS Hooks


def _patient_view(tmp_path: Path, prefetch: dict[str, Any], pid: str) -> list[dict[str, Any]]:
    app = create_app(WebConfig(database_url=f"sqlite:///{tmp_path / 'registry.db'}"),
                     today=lambda: dt.date(2026, 11, 28))
    body = hook_request("patient-view", pid, prefetch=prefetch)
    client = TestClient(app, base_url="http://localhost")
    r = client.post(f"/cds-services/{PATIENT_VIEW}", json=body)
    assert r.status_code == 200
    cards: list[dict[str, Any]] = r.json()["cards"]
    return cards


def test_impossible_date_in_a_read_resource_gets_the_error_card(tmp_path: Path) -> None:
    """A histology Observation dated 30 February: plainly a date to a loose reading, but
    not a valid FHIR dateTime. The quick check leaves it to R4B, which refuses it: the
    patient-view answer is the error card naming the Observation and the element;
    nothing is assessed from the record."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    prefetch = prefetch_of(bundle)
    entry = next(e for e in prefetch["observations"]["entry"]
                 if e["resource"]["id"] == "histology-necrosis")
    entry["resource"]["effectiveDateTime"] = "2024-02-30"
    cards = _patient_view(tmp_path, prefetch, patient_id(bundle))
    assert len(cards) == 1 and cards[0]["indicator"] == "warning"
    assert "could not read this patient's record" in cards[0]["detail"]
    assert "Observation/histology-necrosis.effectiveDateTime" in cards[0]["detail"]
    assert "must be valid FHIR R4" in cards[0]["detail"]


def test_malformed_unrelated_resource_is_not_read_and_does_not_stop_the_advice(
    tmp_path: Path,
) -> None:
    """A vital-sign Observation with a numeric status next to a valid record: it gives no
    fact (it is not read, so not validated, as before) and the summary card is given."""
    bundle = copy.deepcopy(example("localized-high-risk"))
    prefetch = prefetch_of(bundle)
    prefetch["observations"]["entry"].append({"resource": {
        "resourceType": "Observation", "id": "hr-1", "status": 7,
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{patient_id(bundle)}"},
        "valueQuantity": {"value": "fast"}}})
    cards = _patient_view(tmp_path, prefetch, patient_id(bundle))
    assert cards[0]["summary"].startswith("PEComa (")
    assert "hr-1" not in json.dumps(cards)
    bc = case_from_bundle({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": r} for key in prefetch for r in (
            [e["resource"] for e in prefetch[key]["entry"]]
            if prefetch[key].get("resourceType") == "Bundle" else [prefetch[key]])]})
    assert "hr-1" not in " ".join(bc.sources.values())
    assert any("Observation/hr-1" in line for line in bc.not_read)


def test_every_model_the_reader_validates_has_a_shape() -> None:
    """The element tables of every model reachable from the read resource types build
    without error (a change in fhir.resources' type annotations fails here, not in a
    request)."""
    from pecoma.fhir.quickcheck import _shape
    from pecoma.fhir.reader import READ_TYPES

    seen: set[Any] = set()
    todo = [get_fhir_model_class(t) for t in READ_TYPES]
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        todo += [e.model for e in _shape(model).elements.values() if e.model is not None]
    assert len(seen) > 40  # CodeableConcept, Reference, Quantity, Dosage, Timing, ...
