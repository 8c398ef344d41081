"""The preference centre as deployed: the pages of web/preferences/ in a private bucket, behind a
CloudFront distribution that also carries the API's public routes, so that the pages call the
API on their own origin (no CORS, no second host name in the browser, Sec-GPC and the other
viewer headers reach the API as sent).

- `/preferences/*` (the default behaviour): the bucket, read by CloudFront alone (Origin Access
  Control; no public access, no website endpoint). A viewer-request function maps a folder to
  its index.html and `/` and `/preferences` to `/preferences/` (S3 has no index documents
  behind OAC).
- `/public/*` and `/.well-known/*`: the REST API's stage, never cached (each answer is one
  customer's, or a change), every viewer header but Host forwarded (API Gateway routes by its
  own host name), query strings too (the one-click unsubscribe's token).
- Every answer gets the same security headers as the local gateway gives the pages (infra/
  web.py): CSP default-src 'self', HSTS, nosniff, no framing, no referrer."""

from __future__ import annotations

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from infra.cdk.nag import acknowledge, skip_checkov
from infra.cdk.storage import private
from infra.web import (
    CONTENT_SECURITY_POLICY,
    HSTS_SECONDS,
    PAGES_DIR,
    PAGES_PATH,
    SECURITY_HEADERS,
)

# The API's paths that CloudFront passes on: the customer's routes and the GPC resource. Staff
# routes stay on the API's own address only.
API_PATHS = ("/public/*", "/.well-known/*")

# cloudfront-js-2.0. Only the pages' folder and its index: anything else goes to S3 as asked,
# which answers 403 for a key that is not there (CloudFront may not list the bucket).
INDEX_FUNCTION = f"""
function handler(event) {{
  var request = event.request;
  var uri = request.uri;
  if (uri === "/" || uri === "{PAGES_PATH}") {{
    return {{
      statusCode: 301,
      statusDescription: "Moved Permanently",
      headers: {{ location: {{ value: "{PAGES_PATH}/" }} }}
    }};
  }}
  if (uri.endsWith("/")) {{
    request.uri = uri + "index.html";
  }}
  return request;
}}
"""


class Pages(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        stage_name: str,
        rest_api: apigw.IRestApi,
        access_logs: s3.IBucket,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=f"{prefix}-pages-{Aws.ACCOUNT_ID}-{Aws.REGION}",
            # The pages are the same for everyone and hold nothing personal: SSE-S3, which
            # CloudFront's OAC reads without a key policy (a KMS key would need one).
            encryption=s3.BucketEncryption.S3_MANAGED,
            **private(),
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="pages/",
        )

        headers = self._security_headers(prefix)
        index = cloudfront.Function(
            self,
            "IndexFunction",
            function_name=f"{prefix}-pages-index",
            comment="Folder -> index.html; / and /preferences -> /preferences/",
            code=cloudfront.FunctionCode.from_inline(INDEX_FUNCTION),
            runtime=cloudfront.FunctionRuntime.JS_2_0,
        )
        # The stage by name, not by reference: a reference to the Stage would make the
        # distribution wait for the API's deployment, which waits for the API function, whose
        # PUBLIC_API_URL is this distribution's address (a cycle).
        api_origin = origins.HttpOrigin(
            f"{rest_api.rest_api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}",
            origin_path=f"/{stage_name}",
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
        )
        api_behaviour = cloudfront.BehaviorOptions(
            origin=api_origin,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            response_headers_policy=headers,
            compress=True,
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"{prefix}: the preference centre and the API's public routes",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=index, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
                compress=True,
            ),
            additional_behaviors={path: api_behaviour for path in API_PATHS},
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
        )
        self._acknowledge_distribution()

        self.deployment_logs = logs.LogGroup(
            self,
            "DeploymentLogs",
            log_group_name=f"/aws/lambda/{prefix}-pages-deployment",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deployment",
            sources=[s3deploy.Source.asset(str(PAGES_DIR))],
            destination_bucket=self.bucket,
            destination_key_prefix=PAGES_PATH.strip("/") + "/",
            # A file removed from web/preferences/ is removed from the bucket too.
            prune=True,
            # Every deploy: the pages and their script change together, never one stale.
            distribution=self.distribution,
            distribution_paths=[f"{PAGES_PATH}/*"],
            log_group=self.deployment_logs,
            memory_limit=256,
        )
        self._acknowledge_deployment()

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"

    def _security_headers(self, prefix: str) -> cloudfront.ResponseHeadersPolicy:
        behaviour = cloudfront.ResponseSecurityHeadersBehavior
        custom = {
            name: value
            for name, value in SECURITY_HEADERS.items()
            if name in ("Cross-Origin-Opener-Policy", "Permissions-Policy")
        }
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            response_headers_policy_name=f"{prefix}-pages-security-headers",
            comment="The preference centre's headers (infra/web.py), as the local gateway's",
            security_headers_behavior=behaviour(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CONTENT_SECURITY_POLICY, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
            ),
            custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
                custom_headers=[
                    cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                    for name, value in custom.items()
                ]
            ),
        )

    def _acknowledge_distribution(self) -> None:
        distribution = self.distribution
        no_logs = (
            "No CloudFront access log: its standard log keeps each request's query string, and "
            "the one query a customer sends carries a credential (the one-click unsubscribe "
            "token, RFC 8058 fixes the body). API Gateway's access log (path without query, "
            "request id, status) records every API request that passes; the pages are static "
            "files, the same for everyone."
        )
        acknowledge(distribution, "AwsSolutions-CFR3", no_logs)
        skip_checkov(distribution, "CKV_AWS_86", no_logs)
        default_certificate = (
            "The distribution's address is CloudFront's own *.cloudfront.net name, whose "
            "certificate and TLS policy CloudFront sets (TLSv1 minimum for that name); browsers "
            "negotiate TLS 1.2 or 1.3 with it. A custom domain with its own certificate would "
            "set TLSv1.2_2021: none is configured yet."
        )
        acknowledge(distribution, "AwsSolutions-CFR4", default_certificate)
        skip_checkov(distribution, "CKV_AWS_174", default_certificate)
        waf = (
            "A WAF for CloudFront must be created in us-east-1, and this stack is regional. The "
            "API's requests through CloudFront still pass the API stage's regional WAF (AWS's "
            "managed rules) and its per-method throttling; the rest is static files."
        )
        acknowledge(distribution, "AwsSolutions-CFR2", waf)
        skip_checkov(distribution, "CKV_AWS_68", waf)
        worldwide = (
            "Customers anywhere must reach their own preferences and unsubscribe (a legal right "
            "wherever they read their e-mail): no geographic restriction."
        )
        acknowledge(distribution, "AwsSolutions-CFR1", worldwide)

    def _acknowledge_deployment(self) -> None:
        """CDK's own function that copies the pages into the bucket on deploy (a custom
        resource: CloudFormation has no resource for an S3 object)."""
        stack = Stack.of(self)
        (handler,) = [
            child
            for child in stack.node.children
            if child.node.id.startswith("Custom::CDKBucketDeployment")
        ]
        function = handler.node.default_child
        role = handler.node.find_child("ServiceRole")
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            "CDK's BucketDeployment handler role, as CDK declares it: the managed policy lets "
            "it write its own log group's streams (its logs go to a declared, encrypted group).",
        )
        policy = role.node.find_child("DefaultPolicy")
        copy_reason = (
            "BucketDeployment's grants, as CDK writes them: read the pages' asset from the CDK "
            "assets bucket and replace the objects under preferences/ in the pages bucket "
            "(prune), the wildcards being S3's action families and those two buckets' keys."
        )
        for finding in (
            "Action::s3:GetObject*",
            "Action::s3:GetBucket*",
            "Action::s3:List*",
            "Action::s3:DeleteObject*",
            "Action::s3:Abort*",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*",
            f"Resource::<{stack.get_logical_id(self.bucket.node.default_child)}.Arn>/*",
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", copy_reason)
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudfront:CreateInvalidation after each copy (so that no visitor gets an old page "
            "with a new script): CDK's BucketDeployment grants it on every distribution.",
        )
        cdk_handler = (
            "CDK's BucketDeployment handler, a custom resource run by CloudFormation on deploy "
            "alone (never by a customer or an event): "
        )
        for check, why in (
            ("CKV_AWS_115", "one run per deploy, so no concurrency to cap."),
            ("CKV_AWS_116", "invoked synchronously by CloudFormation, which reports a failure."),
            ("CKV_AWS_117", "it talks to S3 and CloudFront only, and this stack has no VPC."),
            ("CKV_AWS_173", "its environment names no secret (CDK sets none but its own)."),
        ):
            skip_checkov(function, check, cdk_handler + why)
        skip_checkov(
            policy,
            "CKV_AWS_111",
            copy_reason + " cloudfront:CreateInvalidation, its one write without a resource, "
            "only empties the cache.",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "CDK's BucketDeployment handler: its runtime is the one the CDK version pins (it "
            "moves with aws-cdk-lib upgrades), not ours to choose.",
        )
