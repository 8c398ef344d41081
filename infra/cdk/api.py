"""The REST API: the routes functions/api/handler.py serves, each a Lambda proxy behind a Cognito
user pool authorizer, with access logs, throttling, request validation and error answers in the
shape of API.md."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import (
    Duration,
    RemovalPolicy,
)
from aws_cdk import (
    aws_apigateway as apigw,
)
from aws_cdk import (
    aws_cognito as cognito,
)
from aws_cdk import (
    aws_lambda as lambda_,
)
from aws_cdk import (
    aws_logs as logs,
)
from aws_cdk import (
    aws_wafv2 as wafv2,
)
from constructs import Construct

from functions.api.auth import Group
from infra.cdk.config import StackConfig
from infra.cdk.nag import acknowledge, skip_checkov
from infra.cdk.routes import Route, api_routes, body_schema

_ACCESS_LOG = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "protocol": "$context.protocol",
    "sourceIp": "$context.identity.sourceIp",
    # The agent's Cognito subject: who called, never whom it was about beyond the path's id.
    "caller": "$context.authorizer.claims.sub",
    "errorType": "$context.error.responseType",
}

# API Gateway's own refusals, in the error shape of API.md. Fixed messages: API Gateway's
# validation text quotes the offending values, and request bodies may hold personal data.
_GATEWAY_ERRORS = (
    (apigw.ResponseType.BAD_REQUEST_BODY, "400", "VALIDATION_ERROR", "invalid request body"),
    (apigw.ResponseType.BAD_REQUEST_PARAMETERS, "400", "VALIDATION_ERROR", "invalid parameters"),
    (apigw.ResponseType.UNAUTHORIZED, "401", "UNAUTHORIZED", "sign in and send a bearer token"),
    (apigw.ResponseType.ACCESS_DENIED, "403", "FORBIDDEN", "access denied"),
    # An unknown route: REST APIs answer 403 'Missing Authentication Token' otherwise.
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, "404", "NOT_FOUND", "no such route"),
    (apigw.ResponseType.THROTTLED, "429", "THROTTLED", "too many requests; retry shortly"),
    (apigw.ResponseType.DEFAULT_5_XX, None, "INTERNAL", "an internal error occurred"),
)


def _error_template(code: str, message: str) -> str:
    body = {"error": {"code": code, "message": message, "requestId": "$context.requestId"}}
    return json.dumps(body)


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        config: StackConfig,
        handler: lambda_.IFunction,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        prefix = config.prefix
        routes = api_routes()
        self.user_pool, self.client = self._user_pool(config)
        authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            authorizer_name=f"{prefix}-cognito",
            cognito_user_pools=[self.user_pool],
            results_cache_ttl=Duration.minutes(5),
        )
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/aws/apigateway/{prefix}-api-access",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=f"{prefix}-api",
            description="Data-privacy requests (API.md)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            deploy_options=apigw.StageOptions(
                stage_name=config.stage,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG)),
                throttling_rate_limit=config.api_rate_limit,
                throttling_burst_limit=config.api_burst_limit,
                method_options={
                    f"{route.path}/{route.method}": _public_throttle(route, config)
                    for route in routes
                    if route.public
                },
                logging_level=apigw.MethodLoggingLevel.ERROR,
                # Full request/response logging would write bodies, i.e. personal data.
                data_trace_enabled=False,
                metrics_enabled=True,
            ),
        )
        if config.api_gateway_cloudwatch_role:
            acknowledge(
                self.rest_api.node.find_child("CloudWatchRole"),
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
                "AmazonAPIGatewayPushToCloudWatchLogs]",
                "The account-wide role API Gateway writes execution logs with; AWS's managed "
                "policy is the documented one for it. Turn it off with "
                "-c apiGatewayCloudWatchRole=false where the account has one.",
            )
        stage = self.rest_api.deployment_stage
        skip_checkov(
            stage,
            "CKV_AWS_120",
            "No response cache: every answer is one caller's view of personal data or a state "
            "change; a cache keyed without the caller's token would serve one agent's answer to "
            "another, and a status just after a cease would be stale.",
        )
        skip_checkov(
            stage,
            "CKV_AWS_73",
            "X-Ray is observability, not a control: the functions run no X-Ray SDK, so a trace "
            "would stop at the integration, and API Gateway's segments keep full request URLs "
            "(query strings too). The access log with its request id is the correlated record.",
        )
        self._web_acl(prefix)
        for response_type, status, code, message in _GATEWAY_ERRORS:
            self.rest_api.add_gateway_response(
                f"{code.title()}{response_type.response_type}",
                type=response_type,
                status_code=status,
                templates={"application/json": _error_template(code, message)},
            )

        validator = self.rest_api.add_request_validator(
            "Validator",
            request_validator_name=f"{prefix}-validator",
            validate_request_body=True,
            validate_request_parameters=True,
        )
        integration = apigw.LambdaIntegration(handler, proxy=True, allow_test_invoke=False)
        models: dict[str, apigw.IModel] = {}
        for route in routes:
            request_models = None
            if route.body_model:
                if route.body_model not in models:
                    cfn_model = apigw.CfnModel(
                        self,
                        f"{route.body_model}Model",
                        rest_api_id=self.rest_api.rest_api_id,
                        name=route.body_model,
                        content_type="application/json",
                        schema=body_schema(route.body_model),
                    )
                    models[route.body_model] = apigw.Model.from_model_name(
                        self, f"{route.body_model}Ref", cfn_model.ref
                    )
                request_models = {"application/json": models[route.body_model]}
            # A public route (its OpenAPI operation needs no token) has no authorizer; the
            # stage throttles it harder (method_options above).
            access: dict[str, Any] = (
                {"authorization_type": apigw.AuthorizationType.NONE}
                if route.public
                else {
                    "authorization_type": apigw.AuthorizationType.COGNITO,
                    "authorizer": authorizer,
                }
            )
            method = self.rest_api.root.resource_for_path(route.path).add_method(
                route.method,
                integration,
                **access,
                request_validator=validator,
                request_models=request_models,
                request_parameters={
                    f"method.request.path.{name}": True for name in route.path_parameters
                },
            )
            if route.public:
                public = (
                    f"{route.method} {route.path} is public by design (its OpenAPI operation "
                    "declares no security): it reveals nothing about any person, or its "
                    "credential is the single-use token in its body that was sent to the "
                    "customer alone (staff tokens refused); the stage throttles it to the "
                    "public rate limit, behind the WAF's per-IP limit."
                )
                for finding in ("AwsSolutions-APIG4", "AwsSolutions-COG4"):
                    acknowledge(method, finding, public)
                skip_checkov(method, "CKV_AWS_59", public)

    def _web_acl(self, prefix: str) -> None:
        """AWS's baseline managed rules and a per-IP rate limit in front of the stage."""
        waf = wafv2.CfnWebACL

        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return waf.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{prefix}-{name}",
                sampled_requests_enabled=False,
            )

        def managed(priority: int, name: str) -> wafv2.CfnWebACL.RuleProperty:
            return waf.RuleProperty(
                name=name,
                priority=priority,
                override_action=waf.OverrideActionProperty(none={}),
                statement=waf.StatementProperty(
                    managed_rule_group_statement=waf.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS", name=name
                    )
                ),
                visibility_config=visibility(name),
            )

        acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=f"{prefix}-api",
            scope="REGIONAL",
            default_action=waf.DefaultActionProperty(allow={}),
            visibility_config=visibility("api"),
            rules=[
                waf.RuleProperty(
                    name="RatePerIp",
                    priority=0,
                    action=waf.RuleActionProperty(block={}),
                    statement=waf.StatementProperty(
                        rate_based_statement=waf.RateBasedStatementProperty(
                            aggregate_key_type="IP", limit=1000
                        )
                    ),
                    visibility_config=visibility("rate-per-ip"),
                ),
                managed(1, "AWSManagedRulesCommonRuleSet"),
                managed(2, "AWSManagedRulesKnownBadInputsRuleSet"),
            ],
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=acl.attr_arn,
        )

    def _user_pool(
        self, config: StackConfig
    ) -> tuple[cognito.IUserPool, cognito.UserPoolClient | None]:
        if config.user_pool_arn:
            # The pool's owner manages its groups (API.md: agent, compliance, export-job).
            return cognito.UserPool.from_user_pool_arn(self, "UserPool", config.user_pool_arn), None
        pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{config.prefix}-staff",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(username=True, email=True),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for group in Group:
            cognito.CfnUserPoolGroup(
                self,
                f"Group{group.name.title().replace('_', '')}",
                user_pool_id=pool.user_pool_id,
                group_name=group.value,
                description=f"API.md group '{group.value}'",
            )
        client = pool.add_client(
            "CrmClient",
            user_pool_client_name=f"{config.prefix}-crm",
            auth_flows=cognito.AuthFlow(user_srp=True),
            generate_secret=False,
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
        )
        return pool, client


# RFC 8058's one-click POST (config.one_click_rate_limit says why it has limits of its own).
ONE_CLICK = ("POST", "/public/unsubscribe")


def _public_throttle(route: Route, config: StackConfig) -> apigw.MethodDeploymentOptions:
    one_click = (route.method, route.path) == ONE_CLICK
    return apigw.MethodDeploymentOptions(
        throttling_rate_limit=config.one_click_rate_limit
        if one_click
        else config.public_rate_limit,
        throttling_burst_limit=(
            config.one_click_burst_limit if one_click else config.public_burst_limit
        ),
    )
