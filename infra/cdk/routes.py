"""The API's routes, read from functions/api/handler.py (the resolver's decorators), so API
Gateway declares exactly what the handler serves."""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

HANDLER = Path(__file__).resolve().parents[2] / "functions" / "api" / "handler.py"
SCHEMAS_MODULE = "functions.api.schemas"
_METHODS = {"get", "post", "put", "patch", "delete"}
_PARAM = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ...
    path: str  # API Gateway form: /customers/{customerId}/privacy
    body_model: str | None = None  # the pydantic model the handler parses the body with

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.path)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _gateway_path(resolver_path: str) -> str:
    return _PARAM.sub(lambda m: "{" + _camel(m.group(1)) + "}", resolver_path)


def _body_model(function: ast.FunctionDef) -> str | None:
    for node in ast.walk(function):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "parse":
            for keyword in node.keywords:
                if keyword.arg == "model" and isinstance(keyword.value, ast.Name):
                    return keyword.value.id
    return None


def api_routes(handler: Path = HANDLER) -> list[Route]:
    routes = []
    for node in ast.walk(ast.parse(handler.read_text())):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and isinstance(decorator.func, ast.Attribute)
                and isinstance(decorator.func.value, ast.Name)
                and decorator.func.value.id == "app"
                and decorator.func.attr in _METHODS
                and decorator.args
                and isinstance(decorator.args[0], ast.Constant)
            ):
                routes.append(
                    Route(
                        decorator.func.attr.upper(),
                        _gateway_path(str(decorator.args[0].value)),
                        _body_model(node),
                    )
                )
    return sorted(routes, key=lambda r: (r.path, r.method))


def body_schema(model_name: str) -> dict[str, Any]:
    """The body model's JSON schema in the draft-4 form API Gateway validates with: references
    inlined, `const` as a one-value enum."""
    model: type[BaseModel] = getattr(importlib.import_module(SCHEMAS_MODULE), model_name)
    schema = model.model_json_schema(by_alias=True)
    definitions = schema.pop("$defs", {})

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            if "$ref" in value:
                return convert(definitions[value["$ref"].rsplit("/", 1)[-1]])
            converted = {k: convert(v) for k, v in value.items() if k != "title"}
            if "const" in converted:
                converted["enum"] = [converted.pop("const")]
            return converted
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    draft4 = convert(schema)
    draft4["$schema"] = "http://json-schema.org/draft-04/schema#"
    draft4["title"] = model_name
    return draft4
