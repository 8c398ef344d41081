"""The stack's keys and the HMAC key that hashes identifiers.

CloudFormation cannot create an SSM SecureString, so the HMAC key is a Secrets Manager secret
with a generated value, read by the unchanged code through Parameter Store's reference path
/aws/reference/secretsmanager/<secret name> (GetParameter with decryption, which the functions
already use). A deployment therefore works without any step out of band, and nobody ever sees or
types the key."""

from __future__ import annotations

import jsii
from aws_cdk import (
    ArnFormat,
    Aws,
    Duration,
    IAspect,
    RemovalPolicy,
    Stack,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_kms as kms,
)
from aws_cdk import (
    aws_logs as logs,
)
from aws_cdk import (
    aws_secretsmanager as secretsmanager,
)
from constructs import Construct, IConstruct

from infra.cdk.nag import acknowledge, skip_checkov

_HEX_EXCLUDED = "ghijklmnopqrstuvwxyz"  # with upper case and punctuation excluded: 0-9 a-f


class Security(Construct):
    def __init__(self, scope: Construct, id: str, *, prefix: str) -> None:
        super().__init__(scope, id)
        self.data_key = kms.Key(
            self,
            "DataKey",
            alias=f"alias/{prefix}-data",
            description="Encrypts the privacy tables and the HMAC key",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.alarms_key = kms.Key(
            self,
            "AlarmsKey",
            alias=f"alias/{prefix}-alarms",
            description="Encrypts the alarm topic; CloudWatch must be able to use it",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.alarms_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )

        # The audit chain's keyed hashes: an HMAC key that never leaves KMS, so whoever can write
        # the audit table but not use this key cannot write an entry that verifies.
        self.audit_key = kms.Key(
            self,
            "AuditChainKey",
            alias=f"alias/{prefix}-audit-chain",
            description="HMAC key of the audit chain's entries (GenerateMac / VerifyMac)",
            key_spec=kms.KeySpec.HMAC_256,
            key_usage=kms.KeyUsage.GENERATE_VERIFY_MAC,
            # A lost key turns every stored MAC unverifiable.
            removal_policy=RemovalPolicy.RETAIN,
        )
        skip_checkov(
            self.audit_key,
            "CKV_AWS_7",
            "An HMAC key: KMS rotates only symmetric encryption keys automatically. A new MAC "
            "key means re-keying the audit chain (a new key id per entry), a project decision.",
        )

        # Signs every clean audience file's receipt (functions/audience_filter/receipts.py): an
        # asymmetric key, so that anyone holding the public key verifies a receipt offline and
        # only the screening functions can make one. KMS cannot rotate asymmetric keys.
        self.receipt_key = kms.Key(
            self,
            "ReceiptKey",
            alias=f"alias/{prefix}-audience-receipts",
            description="Signs audience screening receipts (Sign / GetPublicKey)",
            key_spec=kms.KeySpec.ECC_NIST_P256,
            key_usage=kms.KeyUsage.SIGN_VERIFY,
            # A lost key leaves every receipt unverifiable.
            removal_policy=RemovalPolicy.RETAIN,
        )

        self.hmac_secret_name = f"{prefix}-hmac-key"
        self.hmac_secret = secretsmanager.Secret(
            self,
            "HmacKey",
            secret_name=self.hmac_secret_name,
            description="HMAC-SHA256 key (64 hex characters) for identifiers in the "
            "suppression index and the audit log",
            encryption_key=self.data_key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64,
                exclude_uppercase=True,
                exclude_punctuation=True,
                include_space=False,
                exclude_characters=_HEX_EXCLUDED,
                require_each_included_type=False,
            ),
            # Losing the key orphans every stored hash: ceased people would be marketed again.
            removal_policy=RemovalPolicy.RETAIN,
        )
        acknowledge(
            self.hmac_secret,
            "AwsSolutions-SMG4",
            "Not rotated on purpose: every suppression-index entry and audit entry is keyed by "
            "this HMAC; a new key would silently stop matching ceased and forgotten people. "
            "Rotation needs a re-keying job first.",
        )

        # The logs carry customer ids (README, "Conventions"): every log group of the stack is
        # encrypted with this key (EncryptLogGroups, below), which CloudWatch Logs may use only
        # for the stack's own log groups (the encryption context names the log group).
        self.logs_key = kms.Key(
            self,
            "LogsKey",
            alias=f"alias/{prefix}-logs",
            description="Encrypts the stack's CloudWatch Logs log groups",
            enable_key_rotation=True,
            # The log groups are kept when the stack goes: so is the key that reads them.
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.logs_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal(f"logs.{Aws.REGION}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": [
                            log_group_arn(self, pattern) for pattern in log_group_patterns(prefix)
                        ]
                    }
                },
            )
        )

        # The dead-letter queues hold whole event payloads (a completion event names the
        # customer, a FORGET's the forgotten one): a customer-managed key, so that reading them
        # takes this key's permission too and every decryption is in CloudTrail. Lambda writes
        # a function's DLQ with the function's role (granted in lambdas.py); EventBridge writes
        # its targets' DLQs as itself, for this account's rules only.
        self.dead_letters_key = kms.Key(
            self,
            "DeadLettersKey",
            alias=f"alias/{prefix}-dead-letters",
            description="Encrypts the dead-letter queues (undelivered event payloads)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        self.dead_letters_key.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:{Aws.PARTITION}:events:{Aws.REGION}:"
                        f"{Aws.ACCOUNT_ID}:rule/*"
                    },
                },
            )
        )

    @property
    def hmac_parameter_name(self) -> str:
        return f"/aws/reference/secretsmanager/{self.hmac_secret_name}"

    def hmac_parameter_arn(self, scope: Construct) -> str:
        return Stack.of(scope).format_arn(
            service="ssm", resource="parameter", resource_name=self.hmac_parameter_name[1:]
        )


def log_group_patterns(prefix: str) -> list[str]:
    """Where the stack's log groups are named: the logs key serves these and no others."""
    return [
        f"/aws/lambda/{prefix}-*",
        f"/aws/vendedlogs/states/{prefix}-*",
        f"/aws/apigateway/{prefix}-*",
        f"/aws/events/{prefix}-*",
    ]


def log_group_arn(scope: Construct, name: str) -> str:
    return Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


@jsii.implements(IAspect)
class EncryptLogGroups:
    """Every log group of the stack with the logs key, whichever construct declares it (a new
    one is encrypted without anyone remembering to; tests/infra checks its name fits the key's
    policy)."""

    def __init__(self, key: kms.IKey) -> None:
        self._key = key

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, logs.CfnLogGroup) and node.kms_key_id is None:
            node.kms_key_id = self._key.key_arn
