"""The API's routes, read from its OpenAPI document (generated from the routes themselves), so
API Gateway declares exactly what the function serves, with the same body schemas."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from functions.api.handler import app
from functions.api.openapi import document

_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ...
    path: str  # API Gateway form: /customers/{customerId}/privacy
    body_model: str | None = None  # the body's schema in the OpenAPI document
    public: bool = False  # no token: the document declares no security for it

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


@cache
def _document() -> dict[str, Any]:
    return document(app)


def api_routes() -> list[Route]:
    routes = []
    for path, operations in _document()["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            routes.append(
                Route(
                    method.upper(),
                    path,
                    ref.removeprefix(_REF) or None,
                    public=not operation.get("security"),
                )
            )
    return sorted(routes, key=lambda r: (r.path, r.method))


def public_routes() -> list[Route]:
    """The routes called without a staff token (no authorizer deployed, no dev token locally)."""
    return [route for route in api_routes() if route.public]


def body_schema(model_name: str) -> dict[str, Any]:
    """The body model's JSON schema in the draft-4 form API Gateway validates with: references
    inlined, `const` as a one-value enum."""
    definitions = _document()["components"]["schemas"]

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            if "$ref" in value:
                return convert(definitions[value["$ref"].removeprefix(_REF)])
            converted = {k: convert(v) for k, v in value.items() if k != "title"}
            if "const" in converted:
                converted["enum"] = [converted.pop("const")]
            return converted
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    draft4 = convert(definitions[model_name])
    draft4["$schema"] = "http://json-schema.org/draft-04/schema#"
    draft4["title"] = model_name
    return draft4
