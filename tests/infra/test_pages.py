"""The preference centre as deployed (infra/cdk/pages.py): the pages in a private bucket read by
CloudFront alone, the API's public routes on the same distribution, never cached, with every
viewer header but Host; the pages' security headers those the local gateway sends; customers'
links pointing at the distribution."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.cdk.pages import API_PATHS
from infra.web import CONTENT_SECURITY_POLICY, page_files
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

# CloudFront's managed policies, by their documented ids.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def _distribution(synth: Synth) -> tuple[str, dict[str, Any]]:
    (found,) = synth.of_type("AWS::CloudFront::Distribution").items()
    return found[0], found[1]["Properties"]["DistributionConfig"]


def _pages_bucket(synth: Synth) -> tuple[str, dict[str, Any]]:
    (found,) = [
        (k, r)
        for k, r in synth.of_type("AWS::S3::Bucket").items()
        if f"{synth.prefix}-pages-" in json.dumps(r["Properties"].get("BucketName"))
    ]
    return found


def test_the_pages_bucket_is_private_tls_only_encrypted_and_logged(synth: Synth) -> None:
    bucket_id, bucket = _pages_bucket(synth)
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "pages/"
    assert "WebsiteConfiguration" not in props
    (policy,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in policy
    )
    # Read by this distribution alone (Origin Access Control), nobody else.
    distribution_id, _ = _distribution(synth)
    (read,) = [s for s in policy if s["Effect"] == "Allow"]
    assert read["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert read["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(read["Condition"])


def test_the_pages_are_deployed_under_their_path_and_the_cache_invalidated(synth: Synth) -> None:
    (deployment,) = synth.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketKeyPrefix"] == "preferences/"
    assert props["Prune"] is True
    assert props["DistributionPaths"] == ["/preferences/*"]
    (asset,) = [synth.asset_dir(key) for key in props["SourceObjectKeys"]]
    assert {p.name for p in asset.iterdir()} == set(page_files())


def test_the_default_behaviour_serves_the_bucket_through_oac(synth: Synth) -> None:
    _, config = _distribution(synth)
    (origin,) = [o for o in config["Origins"] if "S3OriginConfig" in o]
    assert origin["OriginAccessControlId"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    default = config["DefaultCacheBehavior"]
    assert default["TargetOriginId"] == origin["Id"]
    assert default["ViewerProtocolPolicy"] == "redirect-to-https"
    assert default["CachePolicyId"] == CACHING_OPTIMIZED
    assert default["AllowedMethods"] == ["GET", "HEAD"]
    (association,) = default["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"


def test_the_public_routes_go_to_the_api_uncached_with_the_viewers_headers(synth: Synth) -> None:
    _, config = _distribution(synth)
    (api,) = [o for o in config["Origins"] if "CustomOriginConfig" in o]
    assert api["OriginPath"] == f"/{synth.stack.config.stage}"
    assert "execute-api" in json.dumps(api["DomainName"])
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert api["CustomOriginConfig"]["OriginSSLProtocols"] == ["TLSv1.2"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == set(API_PATHS) == {"/public/*", "/.well-known/*"}
    for behaviour in behaviours.values():
        assert behaviour["TargetOriginId"] == api["Id"]
        assert behaviour["CachePolicyId"] == CACHING_DISABLED
        assert behaviour["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST
        assert behaviour["ViewerProtocolPolicy"] == "https-only"
        assert "POST" in behaviour["AllowedMethods"]


def test_every_answer_gets_the_pages_security_headers(synth: Synth) -> None:
    _, config = _distribution(synth)
    (policy_id, policy), *_ = synth.of_type("AWS::CloudFront::ResponseHeadersPolicy").items()
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    assert all(b["ResponseHeadersPolicyId"] == {"Ref": policy_id} for b in behaviours)
    security = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert security["ContentSecurityPolicy"]["ContentSecurityPolicy"] == CONTENT_SECURITY_POLICY
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert security["ContentTypeOptions"]["Override"] is True
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"


def test_customers_links_point_at_the_distribution(synth: Synth) -> None:
    distribution_id, _ = _distribution(synth)
    _, function = synth.function("Api")
    url = function["Properties"]["Environment"]["Variables"]["PUBLIC_API_URL"]
    assert url == {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
