"""The OpenAPI document of the JSON API: the routes' own, with the case and the
assessment documents as component schemas and every error answer a route can give
(RFC 9457 problem details)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaValue

from pecoma.case import Case
from pecoma.engine.model import Assessment
from pecoma.web.problems import PROBLEM_SCHEMA


def assessment_schemas(ref_template: str) -> dict[str, JsonSchemaValue]:
    """Component schemas of the assessment document, ``Assessment`` first: the result
    dataclasses' fields are exactly what the JSON writer writes."""
    result = TypeAdapter(Assessment).json_schema(ref_template=ref_template, mode="serialization")
    defs: dict[str, JsonSchemaValue] = result.pop("$defs", {})
    # A provenance's label is set from its other fields (no init), and written all the same.
    provenance = defs["Provenance"]
    provenance["properties"]["label"] = {"type": "string", "title": "Label"}
    provenance["required"] = [*provenance.get("required", []), "label"]
    return {"Assessment": result, **defs}


def _openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        schemas = doc.setdefault("components", {}).setdefault("schemas", {})
        template = "#/components/schemas/{model}"
        case = Case.model_json_schema(ref_template=template)
        schemas.update(case.pop("$defs", {}))
        schemas["Case"] = case
        schemas.update(assessment_schemas(template))
        schemas["Problem"] = PROBLEM_SCHEMA
        _document_errors(doc)
        app.openapi_schema = doc
        return doc

    return build


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _document_errors(doc: dict[str, Any]) -> None:
    """Every answer a route can give is in the document: 404 where the path names
    something that may not exist, 503 where the registry database is needed."""
    for path, operations in doc.get("paths", {}).items():
        for op in operations.values():
            responses = op.setdefault("responses", {})
            if "{" in path:
                responses.setdefault("404", _problem_response("Not found"))
            if path == "/readyz":
                responses.setdefault("503", {
                    "description": "The registry database is unavailable or has no schema "
                                   "('degraded'; Retry-After says when to try again)",
                    "content": {"application/json": {"schema": {"type": "object"}}}})
