"""The buckets and the asynchronous entry points: encryption, TLS, access logs, retention; the
audiences bucket's notification for incoming/ and the EventBridge schedule, each with a
dead-letter queue. The notification and the schedule are wired for the functions whose
access.py entry asks for them; until such a function lands they are checked here on a small
stack of their own."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from infra.cdk.access import ACCESS
from infra.cdk.lambdas import schedule
from infra.cdk.storage import INCOMING, Storage
from tests.infra.conftest import Synth

# One synthesized app, one build directory: every infra test runs in one xdist worker.
pytestmark = pytest.mark.xdist_group("infra")

DATA_BUCKETS = ("exports", "audiences")


def _bucket(synth: Synth, suffix: str) -> tuple[str, dict[str, Any]]:
    found = [
        (k, r)
        for k, r in synth.of_type("AWS::S3::Bucket").items()
        if f"{synth.prefix}-{suffix}-" in str(r["Properties"].get("BucketName"))
    ]
    assert len(found) == 1, suffix
    return found[0]


def _policy_of(synth: Synth, bucket_id: str) -> list[dict[str, Any]]:
    (policy,) = [
        p
        for p in synth.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


@pytest.mark.parametrize("suffix", DATA_BUCKETS)
def test_data_bucket_is_private_encrypted_tls_only_and_logged(synth: Synth, suffix: str) -> None:
    bucket_id, bucket = _bucket(synth, suffix)
    props = bucket["Properties"]
    (key_id,) = [k for k in synth.of_type("AWS::KMS::Key") if k.startswith("SecurityDataKey")]
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"Fn::GetAtt": [key_id, "Arn"]},
    }
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    deny_plain_http = [
        s
        for s in _policy_of(synth, bucket_id)
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert deny_plain_http
    logs_id, _ = _bucket_by_logical(synth, "StorageAccessLogs")
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs_id},
        "LogFilePrefix": f"{suffix}/",
    }
    assert bucket["DeletionPolicy"] == "Retain"


def _bucket_by_logical(synth: Synth, prefix: str) -> tuple[str, dict[str, Any]]:
    (found,) = [(k, r) for k, r in synth.of_type("AWS::S3::Bucket").items() if k.startswith(prefix)]
    return found


def test_exports_are_deleted_after_seven_days_with_every_version(synth: Synth) -> None:
    _, bucket = _bucket(synth, "exports")
    (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 7
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
    assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}


def test_functions_get_the_bucket_names(synth: Synth) -> None:
    _, forget = synth.function("Forget")
    variable = forget["Properties"]["Environment"]["Variables"]["EXPORTS_BUCKET"]
    _, bucket = _bucket(synth, "exports")
    assert variable == bucket["Properties"]["BucketName"]


def test_audiences_notify_the_declared_function(synth: Synth) -> None:
    _, bucket = _bucket(synth, "audiences")
    notified = [name for name, access in ACCESS.items() if access.notified_by]
    configuration = bucket["Properties"].get("NotificationConfiguration")
    assert bool(configuration) == bool(notified)


@pytest.fixture(scope="module")
def wired() -> Template:
    """Storage and a schedule on a small stack of their own, with a stand-in function."""
    stack = Stack(App(), "Wiring")
    function = lambda_.Function(
        stack,
        "AudienceFilter",
        runtime=lambda_.Runtime.PYTHON_3_11,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): pass"),
    )
    storage = Storage(
        stack,
        "Storage",
        prefix="privacy-test",
        key=kms.Key(stack, "Key"),
        export_retention_days=7,
        audience_retention_days=30,
        log_retention_days=365,
        audit_digest_retention_days=2557,
    )
    storage.notify("audiences", INCOMING, function)
    schedule(stack, "Digest", function, "rate(1 day)", sqs.Queue(stack, "DeadLetters"))
    return Template.from_stack(stack)


def test_incoming_objects_invoke_the_function(wired: Template) -> None:
    template = wired.to_json()
    (bucket_id,) = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::S3::Bucket" and "NotificationConfiguration" in r["Properties"]
    ]
    bucket = template["Resources"][bucket_id]
    (configuration,) = bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]
    assert configuration["Event"] == "s3:ObjectCreated:*"
    assert configuration["Filter"] == {
        "S3Key": {"Rules": [{"Name": "prefix", "Value": "incoming/"}]}
    }
    (permission_id,) = [
        k for k, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"
    ][:1]
    permission = template["Resources"][permission_id]["Properties"]
    assert permission["Principal"] == "s3.amazonaws.com"
    # S3 validates the destination when the configuration is set: the permission comes first.
    assert permission_id in bucket["DependsOn"]


def test_schedule_invokes_the_function_with_retries_and_a_dead_letter_queue(
    wired: Template,
) -> None:
    wired.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(1 day)",
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": {"Arn": Match.any_value()},
                        "RetryPolicy": {
                            "MaximumRetryAttempts": 4,
                            "MaximumEventAgeInSeconds": 6 * 3600,
                        },
                    }
                )
            ],
        },
    )


def test_digests_are_locked_in_compliance_mode_for_the_configured_period(synth: Synth) -> None:
    """The bucket's default retention (context auditDigestRetentionDays, seven years by
    default): a digest put without a retention of its own is locked too."""
    _, bucket = _bucket(synth, "audit-digests")
    assert bucket["Properties"]["ObjectLockEnabled"] is True
    rule = bucket["Properties"]["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    assert rule == {"Mode": "COMPLIANCE", "Days": 2557}
