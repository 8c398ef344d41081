"""The REST API: the routes the handler serves (all of them in docs/openapi.json), each behind the
Cognito authorizer with request validation except the public ones, which the stage throttles
harder; access logs and throttling on the stage."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from functions.api.auth import Group
from infra.cdk.routes import api_routes
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

# The checked-in OpenAPI document: what the gateway serves is exactly what it documents.
DOCUMENTED = json.loads((Path(__file__).parents[2] / "docs" / "openapi.json").read_text())
DOCUMENTED_ROUTES = {
    (method.upper(), path)
    for path, operations in DOCUMENTED["paths"].items()
    for method in operations
}
PUBLIC_ROUTES = {
    (method.upper(), path)
    for path, operations in DOCUMENTED["paths"].items()
    for method, operation in operations.items()
    if not operation.get("security")
}


def _path(synth: Synth, resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return ""  # the root resource
    props = synth.resources[resource["Ref"]]["Properties"]
    return f"{_path(synth, props['ParentId'])}/{props['PathPart']}"


def _methods(synth: Synth) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (m["Properties"]["HttpMethod"], _path(synth, m["Properties"]["ResourceId"])): m[
            "Properties"
        ]
        for m in synth.of_type("AWS::ApiGateway::Method").values()
    }


def test_gateway_serves_exactly_the_handlers_routes(synth: Synth) -> None:
    handler_routes = {(r.method, r.path) for r in api_routes()}
    assert handler_routes == DOCUMENTED_ROUTES, handler_routes ^ DOCUMENTED_ROUTES
    assert set(_methods(synth)) == handler_routes


def test_every_method_is_authorised_by_cognito_and_validated(synth: Synth) -> None:
    (authorizer_id, authorizer) = next(iter(synth.of_type("AWS::ApiGateway::Authorizer").items()))
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    (validator_id, validator) = next(
        iter(synth.of_type("AWS::ApiGateway::RequestValidator").items())
    )
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    for (method, path), props in _methods(synth).items():
        if (method, path) in PUBLIC_ROUTES:
            assert props["AuthorizationType"] == "NONE" and "AuthorizerId" not in props
        else:
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", (method, path)
            assert props["AuthorizerId"] == {"Ref": authorizer_id}
        assert props["RequestValidatorId"] == {"Ref": validator_id}
        assert props["Integration"]["Type"] == "AWS_PROXY"
        parameters = {
            name.removeprefix("method.request.path.") for name in props.get("RequestParameters", {})
        }
        assert parameters == {p.strip("{}") for p in path.split("/") if p.startswith("{")}


def test_request_bodies_are_checked_against_the_handlers_models(synth: Synth) -> None:
    methods = _methods(synth)
    for route in api_routes():
        models = methods[(route.method, route.path)].get("RequestModels")
        if route.body_model:
            (model,) = models.values()
            declared = synth.resources[model["Ref"]]["Properties"]
            assert declared["Name"] == route.body_model
            assert declared["Schema"]["$schema"].startswith("http://json-schema.org/draft-04/")
        else:
            assert models is None


def test_stage_logs_access_throttles_and_keeps_bodies_out_of_logs(synth: Synth) -> None:
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert "DestinationArn" in props["AccessLogSetting"]
    assert "$context.requestId" in props["AccessLogSetting"]["Format"]
    by_method = {
        # MethodSettings writes '/' + the resource path JSON-pointer escaped ('/' as '~1').
        (m["HttpMethod"], m["ResourcePath"].replace("/~1", "/", 1).replace("~1", "/")): m
        for m in props["MethodSettings"]
    }
    settings = by_method.pop(("*", "/*"))
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0
    assert settings["DataTraceEnabled"] is False
    # Each public route is throttled on its own, below the stage's limits.
    assert set(by_method) == PUBLIC_ROUTES and PUBLIC_ROUTES
    for public in by_method.values():
        assert 0 < public["ThrottlingRateLimit"] < settings["ThrottlingRateLimit"]
        assert 0 < public["ThrottlingBurstLimit"] < settings["ThrottlingBurstLimit"]
    # One-click unsubscribe has more room than a page's route: a burst of mailbox providers'
    # POSTs after a send must not be an unsubscribe refused with 429.
    one_click = by_method.pop(("POST", "/public/unsubscribe"))
    for public in by_method.values():
        assert one_click["ThrottlingRateLimit"] > public["ThrottlingRateLimit"]
        assert one_click["ThrottlingBurstLimit"] > public["ThrottlingBurstLimit"]
    assert synth.of_type("AWS::WAFv2::WebACLAssociation")


def test_gateway_errors_use_the_api_error_shape(synth: Synth) -> None:
    responses = synth.of_type("AWS::ApiGateway::GatewayResponse").values()
    assert responses
    for response in responses:
        template = response["Properties"]["ResponseTemplates"]["application/json"]
        assert '"error"' in template and "$context.requestId" in template


def test_user_pool_has_the_api_groups(synth: Synth) -> None:
    groups = {
        g["Properties"]["GroupName"] for g in synth.of_type("AWS::Cognito::UserPoolGroup").values()
    }
    assert groups == {g.value for g in Group}
    (pool,) = synth.of_type("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["MfaConfiguration"] == "ON"


def test_the_public_routes_are_the_ones_meant_to_be(synth: Synth) -> None:
    # Which routes are public is pinned once, against the code: tests/unit/test_openapi.py.
    # Here: the gateway serves exactly the document's public routes without an authorizer.
    assert PUBLIC_ROUTES
    assert {(r.method, r.path) for r in api_routes() if r.public} == PUBLIC_ROUTES


def test_only_the_public_methods_acknowledge_the_missing_authorizer(synth: Synth) -> None:
    methods = synth.of_type("AWS::ApiGateway::Method")
    acknowledged = {
        logical_id: {s["id"] for s in r["Metadata"]["cdk_nag"]["rules_to_suppress"]}
        for logical_id, r in methods.items()
        if r.get("Metadata", {}).get("cdk_nag")
    }
    public = {
        logical_id
        for logical_id, r in methods.items()
        if r["Properties"]["AuthorizationType"] == "NONE"
    }
    assert set(acknowledged) == public and len(public) == len(PUBLIC_ROUTES)
    assert all(ids == {"AwsSolutions-APIG4", "AwsSolutions-COG4"} for ids in acknowledged.values())
