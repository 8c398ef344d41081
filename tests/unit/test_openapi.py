"""The OpenAPI document: generated from the routes, checked in, and complete about each route."""

import json
from pathlib import Path

from functions.api.handler import app
from functions.api.openapi import document, document_text
from functions.api.operations import GROUPS_EXTENSION

CHECKED_IN = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_the_checked_in_document_is_the_generated_one():
    # `make openapi` writes it; a route, model or description changed without it fails here.
    assert CHECKED_IN.read_text() == document_text(app)


def test_every_operation_says_who_may_call_it_and_what_it_answers():
    doc = document(app)
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            groups = operation[GROUPS_EXTENSION]
            assert (operation.get("security") == [{"bearer": []}]) == bool(groups), where
            responses = operation["responses"]
            assert "422" not in responses, where
            # 2xx, or the one redirect (GET of a List-Unsubscribe URL shows the page: 303).
            success = [code for code in responses if code[0] in "23"]
            assert len(success) == 1, where
            errors = {code for code in responses if code[0] not in "23"}
            assert {"400", "500"} <= errors, where
            if groups:
                assert {"401", "403"} <= errors, where
            for code in errors:
                # The DRP 1.0 routes answer the spec's error object (its key setup's 403: none);
                # an internal error is this API's everywhere.
                drp = path.startswith("/v1/") and code != "500"
                if drp and "text/plain" in responses[code]["content"]:
                    assert (method, path, code) == ("post", "/v1/agent/{agentId}", "403"), where
                    continue
                schema = responses[code]["content"]["application/json"]["schema"]
                name = "DrpError" if drp else "ErrorBody"
                assert schema == {"$ref": f"#/components/schemas/{name}"}, where


def test_only_the_document_and_the_customers_own_routes_are_public():
    doc = document(app)
    public = {
        (m.upper(), p)
        for p, ops in doc["paths"].items()
        for m, op in ops.items()
        if not op[GROUPS_EXTENSION]
    }
    assert public == {
        ("GET", "/openapi.json"),
        ("GET", "/.well-known/gpc.json"),
        ("POST", "/public/consents/confirm"),
        ("POST", "/public/preferences"),
        ("POST", "/public/preferences/link"),
        ("POST", "/public/preferences/change"),
        ("POST", "/public/unsubscribe"),
        # Authorized agents (DRP 1.0): the pairwise token or the signature is the credential,
        # checked by each route (functions/drp/service.py).
        ("GET", "/drp/business"),
        ("POST", "/v1/agent/{agentId}"),
        ("GET", "/v1/agent/{agentId}"),
        ("POST", "/v1/data-rights-request"),
        ("GET", "/v1/data-rights-request/{requestId}"),
        ("DELETE", "/v1/data-rights-request/{requestId}"),
        ("GET", "/public/unsubscribe"),
        ("POST", "/public/preferences/unsubscribe-all"),
        ("GET", "/public/topics"),
        ("POST", "/public/signup"),
        ("POST", "/public/signup/confirm"),
    }
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert bool(op.get("security")) == bool(op[GROUPS_EXTENSION]), path


def test_the_document_is_served_without_a_token():
    event = {"httpMethod": "GET", "path": "/openapi.json", "requestContext": {"requestId": "r"}}
    response = app.resolve(event, {})
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == document(app)
