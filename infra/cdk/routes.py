"""The API's routes, read from the modules of functions/api (the resolver's decorators: the
handler's own and those it registers from other modules, e.g. audience_routes.py), so API Gateway
declares exactly what the function serves. The routes of public_routes.py, and only those, are
public (the customer's, no staff token): their paths start with PUBLIC_PREFIX, no other does."""

from __future__ import annotations

import ast
import importlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

API_PACKAGE = Path(__file__).resolve().parents[2] / "functions" / "api"
SCHEMAS_MODULE = "functions.api.schemas"
PUBLIC_MODULE = "public_routes.py"
PUBLIC_PREFIX = "/public/"
_METHODS = {"get", "post", "put", "patch", "delete"}
_PARAM = re.compile(r"<(\w+)>")


@dataclass(frozen=True)
class Route:
    method: str  # GET, POST, ...
    path: str  # API Gateway form: /customers/{customerId}/privacy
    body_model: str | None = None  # the pydantic model the handler parses the body with
    # Served without the Cognito authorizer (and throttled on its own): the customer's route.
    public: bool = False

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


def api_routes(package: Path = API_PACKAGE) -> list[Route]:
    routes = []
    for module in sorted(package.glob("*.py")):
        routes += _routes_of(module)
    for route in routes:
        # One rule two ways, so that a glance at a path says whether it needs a staff token.
        if route.public != route.path.startswith(PUBLIC_PREFIX):
            raise ValueError(
                f"{route.method} {route.path}: public routes are those of {PUBLIC_MODULE}, "
                f"and only their paths start with {PUBLIC_PREFIX}"
            )
    return sorted(routes, key=lambda r: (r.path, r.method))


def public_routes(package: Path = API_PACKAGE) -> list[Route]:
    return [route for route in api_routes(package) if route.public]


def _routes_of(module: Path) -> list[Route]:
    routes = []
    for node in ast.walk(ast.parse(module.read_text())):
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
                        public=module.name == PUBLIC_MODULE,
                    )
                )
    return routes


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
