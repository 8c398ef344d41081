"""The buckets: exports (short-lived CSV downloads), audiences (files screened by the audience
filter), audit-digests (the audit chain's head, periodically, under Object Lock) and the
access-log bucket they log to.

The data buckets have fixed names (prefix, account, region) and are referred to by name, not by
reference: the audiences bucket notifies a function whose role and environment name the bucket, so
a reference either way would be a dependency cycle. The notification is the bucket's own
NotificationConfiguration, not CDK's custom resource that sets it after the fact."""

from __future__ import annotations

from typing import Any

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.cdk.nag import acknowledge, skip_checkov

INCOMING = "incoming/"


def private() -> dict[str, Any]:
    """What every bucket of the stack is, whatever it holds: no public access, TLS only, no
    ACLs (the owner owns every object), versioned, kept when the stack is deleted."""
    return {
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "versioned": True,
        "removal_policy": RemovalPolicy.RETAIN,
    }


def bucket_arn(name: str) -> str:
    return f"arn:{Aws.PARTITION}:s3:::{name}"


class Storage(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        key: kms.IKey,
        export_retention_days: int,
        audience_retention_days: int,
        log_retention_days: int,
        audit_digest_retention_days: int,
    ) -> None:
        super().__init__(scope, id)
        # ACLs are off (BucketOwnerEnforced): S3 delivers access logs by the log bucket's policy.
        self.node.set_context("@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy", True)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            # S3 delivers server access logs only to SSE-S3 buckets.
            encryption=s3.BucketEncryption.S3_MANAGED,
            # Versioned (private()): a log deleted or overwritten (who read which export) can be
            # got back for 30 days; S3 writes each log object once, so this costs nothing else.
            **private(),
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(log_retention_days),
                    noncurrent_version_expiration=Duration.days(30),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
        )
        itself = (
            "This is the access-log bucket itself: logging it into itself would log its own "
            "log deliveries forever."
        )
        acknowledge(self.access_logs, "AwsSolutions-S1", itself)
        skip_checkov(self.access_logs, "CKV_AWS_18", itself)
        self.names: dict[str, str] = {}
        self.buckets: dict[str, s3.Bucket] = {}
        # Exports hold a customer's whole record: gone a week after they are written, and every
        # overwritten version a day later (a forget deletes all versions at once).
        self._bucket(
            "exports",
            prefix,
            key,
            [_expiring_after(export_retention_days)],
        )
        self._bucket(
            "audiences",
            prefix,
            key,
            [_expiring_after(audience_retention_days)],
        )

        # Each digest is locked in COMPLIANCE mode, by the bucket's default and by the digest
        # function itself: not even the account root can delete or shorten a digest's lock.
        self._bucket(
            "audit-digests",
            prefix,
            key,
            [],
            object_lock=s3.ObjectLockRetention.compliance(
                Duration.days(audit_digest_retention_days)
            ),
        )

    def _bucket(
        self,
        suffix: str,
        prefix: str,
        key: kms.IKey,
        lifecycle: list[s3.LifecycleRule],
        object_lock: s3.ObjectLockRetention | None = None,
    ) -> None:
        name = f"{prefix}-{suffix}-{Aws.ACCOUNT_ID}-{Aws.REGION}"
        self.names[suffix] = name
        self.buckets[suffix] = s3.Bucket(
            self,
            suffix.title().replace("-", ""),
            bucket_name=name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            **private(),
            lifecycle_rules=lifecycle or None,
            object_lock_enabled=True if object_lock else None,
            object_lock_default_retention=object_lock,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=f"{suffix}/",
        )

    def arn(self, suffix: str) -> str:
        return bucket_arn(self.names[suffix])

    def notify(self, suffix: str, key_prefix: str, function: lambda_.IFunction) -> None:
        """New objects under `key_prefix` invoke `function` (asynchronously: its DLQ catches
        what fails after Lambda's retries)."""
        permission = lambda_.CfnPermission(
            self,
            f"{suffix.capitalize()}Notifies{function.node.id}",
            action="lambda:InvokeFunction",
            function_name=function.function_arn,
            principal="s3.amazonaws.com",
            source_account=Aws.ACCOUNT_ID,
            source_arn=self.arn(suffix),
        )
        bucket = self.buckets[suffix].node.default_child
        assert isinstance(bucket, s3.CfnBucket)
        bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            lambda_configurations=[
                s3.CfnBucket.LambdaConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    function=function.function_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=key_prefix)]
                        )
                    ),
                )
            ]
        )
        # S3 checks that it may invoke the function when the configuration is set.
        bucket.add_dependency(permission)


def _expiring_after(days: int) -> s3.LifecycleRule:
    """Objects go `days` after they are written, older versions and unfinished uploads a day on."""
    return s3.LifecycleRule(
        expiration=Duration.days(days),
        noncurrent_version_expiration=Duration.days(1),
        abort_incomplete_multipart_upload_after=Duration.days(1),
    )
