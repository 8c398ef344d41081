"""The REST API: the routes the handler serves (all of them in API.md), each behind the Cognito
authorizer with request validation, but the customer's public routes: no authorizer, throttled
on their own, far below the stage; access logs and throttling on the stage."""

from __future__ import annotations

from typing import Any

import pytest

from functions.api.auth import Group
from infra.cdk.routes import api_routes, public_routes
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

# API.md's table. The gateway serves what the modules of functions/api route: all of this.
API_MD_ROUTES = {
    ("POST", "/customers/{customerId}/privacy-requests"),
    ("GET", "/privacy-requests/{requestId}"),
    ("POST", "/privacy-requests/{requestId}/confirm"),
    ("POST", "/privacy-requests/{requestId}/cancel"),
    # Not yet in /work/shared/API.md (read-only here): resume a FAILED forget (issue 15).
    ("POST", "/privacy-requests/{requestId}/retry"),
    # A completed export's link (docs/API.md), added on main without this line.
    ("POST", "/privacy-requests/{requestId}/download-link"),
    ("GET", "/customers/{customerId}/privacy"),
    ("GET", "/customers/{customerId}/processing-permissions"),
    ("PUT", "/customers/{customerId}/consents/{topic}"),
    # The customer's double opt-in confirmation (issue 16): public, the token is the credential.
    ("POST", "/public/consents/confirm"),
    ("GET", "/audit"),
    ("GET", "/audit/verify"),
    ("POST", "/audiences/filter"),
    ("GET", "/audiences/filter/{jobId}"),
    # Audience uploads (docs/API.md): privacyctl filter with an API address and a token only.
    ("POST", "/audiences/uploads"),
    ("DELETE", "/audiences/uploads/{uploadId}"),
    ("GET", "/audiences/filter/{jobId}/download"),
    # Not yet in /work/shared/API.md (read-only here): re-permission campaigns (compliance).
    ("POST", "/repermission-campaigns"),
    ("GET", "/repermission-campaigns/{campaignId}"),
    ("POST", "/repermission-campaigns/{campaignId}/resume"),
}


# The routes served without a staff token. Adding one is a decision: it changes this line.
PUBLIC_ROUTES = {("POST", "/public/consents/confirm")}


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
    assert handler_routes == API_MD_ROUTES, handler_routes ^ API_MD_ROUTES
    assert set(_methods(synth)) == handler_routes


def test_every_method_but_the_public_ones_is_authorised_by_cognito_and_all_are_validated(
    synth: Synth,
) -> None:
    ((authorizer_id, authorizer),) = synth.of_type("AWS::ApiGateway::Authorizer").items()
    assert authorizer["Properties"]["Type"] == "COGNITO_USER_POOLS"
    (validator_id, validator) = next(
        iter(synth.of_type("AWS::ApiGateway::RequestValidator").items())
    )
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert validator["Properties"]["ValidateRequestParameters"] is True
    assert {(r.method, r.path) for r in public_routes()} == PUBLIC_ROUTES
    methods = _methods(synth)
    assert set(methods) >= PUBLIC_ROUTES
    for (method, path), props in methods.items():
        if (method, path) in PUBLIC_ROUTES:
            assert props["AuthorizationType"] == "NONE", (method, path)
            assert "AuthorizerId" not in props
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
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in props["MethodSettings"]}
    stage_wide = settings.pop(("/*", "*"))
    assert stage_wide["ThrottlingRateLimit"] > 0 and stage_wide["ThrottlingBurstLimit"] > 0
    for each in (stage_wide, *settings.values()):
        assert each["DataTraceEnabled"] is False
    assert synth.of_type("AWS::WAFv2::WebACLAssociation")


def test_the_public_routes_are_throttled_far_below_the_stage(synth: Synth) -> None:
    (stage,) = synth.of_type("AWS::ApiGateway::Stage").values()
    settings = {
        (s["ResourcePath"], s["HttpMethod"]): s for s in stage["Properties"]["MethodSettings"]
    }
    stage_wide = settings.pop(("/*", "*"))
    # API Gateway's form of a method's path: '/' inside it written '~1'.
    throttled = {(method, path[1:].replace("~1", "/")) for path, method in settings}
    assert throttled == PUBLIC_ROUTES
    for each in settings.values():
        assert 0 < each["ThrottlingRateLimit"] <= stage_wide["ThrottlingRateLimit"] / 5
        assert 0 < each["ThrottlingBurstLimit"] <= stage_wide["ThrottlingBurstLimit"] / 5


def test_only_the_public_methods_acknowledge_the_missing_authorizer(synth: Synth) -> None:
    acknowledged = {
        logical_id: {s["id"] for s in r["Metadata"]["cdk_nag"]["rules_to_suppress"]}
        for logical_id, r in synth.of_type("AWS::ApiGateway::Method").items()
        if r.get("Metadata", {}).get("cdk_nag")
    }
    public = {
        logical_id
        for logical_id, r in synth.of_type("AWS::ApiGateway::Method").items()
        if r["Properties"]["AuthorizationType"] == "NONE"
    }
    assert set(acknowledged) == public and len(public) == len(PUBLIC_ROUTES)
    assert all(ids == {"AwsSolutions-APIG4", "AwsSolutions-COG4"} for ids in acknowledged.values())


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
