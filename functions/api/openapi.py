"""The OpenAPI 3.1 document, generated from the routes (docs/openapi.json is a copy, kept equal
by a test). Validation errors are this API's 400 in API.md's error shape, so powertools' default
422 is replaced by it."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from functions.api.operations import BEARER, ERROR_STATUSES

TITLE = "privacy-functions"
VERSION = "1.0.0"
DESCRIPTION = """Serverless compliance functions for customer data-privacy requests (cease
marketing, resume, forget, export), consents with double opt-in, re-permission campaigns,
audience screening and a tamper-evident audit trail.

Every staff route needs a bearer token: a Cognito ID token in AWS (its `cognito:groups` claim
names the caller's groups), and locally `Bearer dev:<username>:<group>[+<group>]`. Each
operation lists the groups allowed (`x-allowed-groups`); a caller outside them gets 403.
Errors always have the shape `{"error": {"code", "message", "requestId"}}`; messages never carry
a person's e-mail, phone or name."""

_POWERTOOLS_VALIDATION = "422"
_SIGNED = "x-drp-signed-body"
_ERROR_REF = "#/components/schemas/ErrorBody"
_UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


@cache
def configure(app: APIGatewayRestResolver) -> None:
    """Once, when a document is first asked for: powertools' OpenAPI models cost about a fifth of
    the handler's import time, and most cold starts never serve the document."""
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    app.configure_openapi(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes={
            BEARER: HTTPBearer(
                description="Cognito ID token in AWS; `dev:<username>:<group>` on the local stack",
                bearerFormat="JWT",
            )
        },
    )


@cache
def _document(app: APIGatewayRestResolver) -> str:
    configure(app)
    schema = json.loads(app.get_openapi_json_schema())
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            responses.pop(_POWERTOOLS_VALIDATION, None)
            for code, response in responses.items():
                if code.startswith("3"):
                    # A redirect has no body (powertools documents JSON for every answer).
                    response.pop("content", None)
                    response["headers"] = {"Location": {"schema": {"type": "string"}}}
            if operation.pop(_SIGNED, False):
                # A DRP 1.0 signed message (routes/drp.py): base64 text, read by the route.
                operation["requestBody"] = {
                    "required": True,
                    "content": {"text/plain": {"schema": {"type": "string", "maxLength": 65536}}},
                }
                continue
            if "requestBody" in operation:
                # The handler refuses any other media type (handler.py, _not_json).
                responses["415"] = {
                    "description": ERROR_STATUSES[415],
                    "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
                }
    for name in _UNUSED_SCHEMAS:
        schema.get("components", {}).get("schemas", {}).pop(name, None)
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def document(app: APIGatewayRestResolver) -> dict[str, Any]:
    return dict(json.loads(_document(app)))


def document_text(app: APIGatewayRestResolver) -> str:
    """The document as docs/openapi.json holds it."""
    return _document(app)


if __name__ == "__main__":  # make openapi: python -m functions.api.openapi docs/openapi.json
    import importlib
    import sys
    from pathlib import Path

    # Imported by name: the handler imports this module, and this one runs as __main__.
    handler = importlib.import_module("functions.api.handler")
    Path(sys.argv[1]).write_text(document_text(handler.app))
