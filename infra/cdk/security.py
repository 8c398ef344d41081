"""The stack's keys and the HMAC key that hashes identifiers.

CloudFormation cannot create an SSM SecureString, so the HMAC key is a Secrets Manager secret
with a generated value, read by the unchanged code through Parameter Store's reference path
/aws/reference/secretsmanager/<secret name> (GetParameter with decryption, which the functions
already use). A deployment therefore works without any step out of band, and nobody ever sees or
types the key."""

from __future__ import annotations

from aws_cdk import (
    Aws,
    Duration,
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
    aws_secretsmanager as secretsmanager,
)
from constructs import Construct

from infra.cdk.nag import acknowledge

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

    @property
    def hmac_parameter_name(self) -> str:
        return f"/aws/reference/secretsmanager/{self.hmac_secret_name}"

    def hmac_parameter_arn(self, scope: Construct) -> str:
        return Stack.of(scope).format_arn(
            service="ssm", resource="parameter", resource_name=self.hmac_parameter_name[1:]
        )
