"""What the JSON Schema and OpenAPI document promise is what the server does.

Bounds are written as JSON Schema keywords (``minimum``, ``maximum``,
``exclusiveMinimum``: pydantic wrote ``ge``/``le``/``gt``, which no client enforces);
every answer a route can give is documented (404s included); ``imaging[].finding: null``
is refused as the schema says; every 503 says when to retry.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from importlib import resources
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pecoma.case import Case
from pecoma.web import WebConfig, create_app

ON = dt.date(2026, 11, 28)
PYDANTIC_ONLY = {"ge", "le", "gt", "lt"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(WebConfig(), today=lambda: ON),
                    raise_server_exceptions=False, base_url="http://localhost") as c:
        yield c


def keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in keys(v)}
    return set()


def find(node: Any, name: str) -> Any:
    """The first object under a property called ``name``."""
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and name in props:
            return props[name]
        for v in node.values():
            got = find(v, name)
            if got is not None:
                return got
    if isinstance(node, list):
        for v in node:
            got = find(v, name)
            if got is not None:
                return got
    return None


class TestBounds:
    def test_case_schema_uses_json_schema_keywords(self) -> None:
        schema = Case.model_json_schema()
        assert not keys(schema) & PYDANTIC_ONLY
        assert find(schema, "mitoses_per_50_hpf")["anyOf"][0] == {
            "type": "number", "minimum": 0, "maximum": 500.0}
        assert find(schema, "value")["exclusiveMinimum"] == 0
        assert find(schema, "line")["anyOf"][0] == {
            "type": "integer", "minimum": 1, "maximum": 20}
        assert find(schema, "disease_free_interval_months")["anyOf"][0]["maximum"] == 600

    def test_served_documents(self, client: TestClient) -> None:
        for path in ("/api/v1/openapi.json", "/api/v1/schema"):
            doc = client.get(path).json()
            assert not keys(doc) & PYDANTIC_ONLY, path

    def test_dates_carry_the_supported_range(self) -> None:
        day = find(Case.model_json_schema(), "detected_on")["anyOf"][0]
        assert day["formatMinimum"] == "1900-01-01" and day["formatMaximum"] == "2199-12-31"


class TestDocumentedAnswers:
    def test_404s_are_documented(self, client: TestClient) -> None:
        doc = client.get("/api/v1/openapi.json").json()
        for path, ops in doc["paths"].items():
            if "{" in path:
                for method, op in ops.items():
                    assert "404" in op["responses"], (method, path)
        assert "503" in doc["paths"]["/readyz"]["get"]["responses"]

    def test_unknown_cds_service_is_404_as_documented(self, client: TestClient) -> None:
        r = client.post("/cds-services/nothing-here", json={})
        assert r.status_code == 404


class TestImagingFinding:
    @staticmethod
    def case() -> dict[str, Any]:
        text = resources.files("pecoma").joinpath("examples/high-risk-uterine.json")
        data: dict[str, Any] = json.loads(text.read_text())
        return data

    def test_null_finding_is_refused(self, client: TestClient) -> None:
        scan = {"date": "2026-01-10", "modality": "chest_ct", "finding": None}
        r = client.post("/api/v1/followup", json={"case": self.case(), "imaging": [scan]})
        assert r.status_code == 422
        (error,) = r.json()["errors"]
        assert error["path"] == "imaging[0].finding" and "not null" in error["rule"]

    def test_left_out_finding_is_not_recorded(self, client: TestClient) -> None:
        scan = {"date": "2026-01-10", "modality": "chest_ct"}
        r = client.post("/api/v1/followup", json={"case": self.case(), "imaging": [scan]})
        assert r.status_code == 200, r.text
