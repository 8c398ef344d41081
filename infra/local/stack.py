"""The local stack: moto in server mode with the same tables, functions and state machine that CDK
declares, Lambda invocations dispatched in-process to the real handlers, and the local gateway.

Only AWS is emulated here; every piece of product behaviour is the real code."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.config import Config

from infra.functions import API, FUNCTIONS
from infra.local import dispatch, isolation, outbox
from infra.local.gateway import LocalGateway
from infra.local.request_log import RequestLog
from infra.local.reset import forget_previous_stack
from infra.state_machine import (
    AUDIENCE_SPLIT_FILE,
    CAMPAIGN_DEFINITION_FILE,
    DEFINITION_FILE,
    placeholders,
    render,
)

ROOT = Path(__file__).resolve().parents[2]
DEMO_CUSTOMERS = ROOT / "events" / "demo" / "customers.json"
REGION = "eu-west-1"
ACCOUNT = "123456789012"


# The local stack's id in the DRP network (the spec's directory ids match [A-Z_]+).
DRP_BUSINESS_ID = "PRIVACY_FUNCTIONS_LOCAL"


@dataclass
class LocalStack:
    api_port: int = 8000
    moto_port: int = 0
    stage: str = "local"
    confirmation_timeout_seconds: int = 7 * 24 * 3600
    # Test-sized: files above 4 MiB take the audience split path, in parts of about 1 MiB
    # (deployed: 3 GB and 1 GB, README "Audience filter").
    split_threshold_bytes: int = 4 * 1024 * 1024
    split_part_bytes: int = 1024 * 1024
    # A digest of the audit chain's head every this many entries (deployed: AUDIT_DIGEST_EVERY).
    audit_digest_every: int = 100
    # How long each digest is locked (deployed: auditDigestRetentionDays, seven years).
    audit_digest_retention_days: int = 1
    env: dict[str, str] = field(default_factory=dict)
    state_machine_arn: str = ""
    campaign_state_machine_arn: str = ""
    function_arns: dict[str, str] = field(default_factory=dict)
    # `make run`: one line per setup step, and one per API request (infra/local/request_log.py).
    steps: RequestLog | None = None
    request_log: RequestLog | None = None
    _server: Any = None
    _gateway: LocalGateway | None = None

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def api_url(self) -> str:
        assert self._gateway is not None
        return self._gateway.url

    def start(self, seed: bool = True) -> LocalStack:
        _use_fake_credentials()
        forget_previous_stack()
        from moto.server import ThreadedMotoServer

        # One line per emulated AWS call drowns what matters.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Its warning that ToleratedFailureCount is ignored, once per state machine: README,
        # "The split path", says so and why Combine checks every part itself.
        logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor").setLevel(
            logging.ERROR
        )

        self._step("starting moto (the emulated AWS) on 127.0.0.1")
        self._server = ThreadedMotoServer(
            ip_address="127.0.0.1", port=self.moto_port, verbose=False
        )
        self._server.start()
        self.moto_port = self._server.get_host_and_port()[1]
        # The Step Functions executor calls Lambda at localhost:$MOTO_PORT; boto3 and pynamodb
        # find moto through AWS_ENDPOINT_URL.
        os.environ["MOTO_PORT"] = str(self.moto_port)
        os.environ["AWS_ENDPOINT_URL"] = self.moto_url
        self._configure_moto()
        dispatch.install()
        isolation.install()
        self._step("creating the tables, buckets, functions and state machines")
        self.env = self._create_resources()
        os.environ.update(self.env)
        self._step(f"starting the API gateway on 127.0.0.1:{self.api_port or '(a free port)'}")
        self._gateway = LocalGateway(
            self.invoke_api, self.api_port, log=self.request_log, outbox=self.outbox_messages
        )
        self._gateway.start()
        if seed:
            customers = json.loads(DEMO_CUSTOMERS.read_text())
            self._step(f"seeding the {len(customers)} demo customers")
            self.seed(customers)
        return self

    def _step(self, text: str) -> None:
        if self.steps is not None:
            self.steps(text)

    def stop(self) -> None:
        if self._gateway:
            self._gateway.stop()
        if self._server:
            self._server.stop()
        dispatch.uninstall()
        isolation.uninstall()

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.moto_url,
            config=Config(retries={"total_max_attempts": 1}, read_timeout=300),
        )

    def _configure_moto(self) -> None:
        # moto's backends live in the process, not in the server: a stack started after another
        # one stopped would find its tables, buckets and state machines. Each stack starts empty.
        self._moto_api("reset", None)
        self._moto_api("config", {"stepfunctions": {"execute_state_machine": True}})

    def _moto_api(self, path: str, config: dict[str, Any] | None) -> None:
        request = urllib.request.Request(
            f"{self.moto_url}/moto-api/{path}",
            data=json.dumps(config or {}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as response:
            response.read()

    def _create_resources(self) -> dict[str, str]:
        from infra.tables import TABLES

        prefix = f"privacy-{self.stage}"
        env = {
            "POWERTOOLS_SERVICE_NAME": "privacy-functions",
            "POWERTOOLS_METRICS_NAMESPACE": "PrivacyFunctions",
            "HMAC_KEY_PARAMETER": f"/{prefix}/hmac-key",
            "EVENT_BUS_NAME": f"{prefix}-events",
            "CONFIRMATION_TIMEOUT_SECONDS": str(self.confirmation_timeout_seconds),
            # The demo retailer is British: national numbers like '020 ...' are +44.
            "DEFAULT_REGION": "GB",
            # Authorized agents (DRP 1.0): the business's id, and status callbacks to agents
            # listening on this machine over plain http (deployed: https only).
            "DRP_BUSINESS_ID": DRP_BUSINESS_ID,
            "DRP_LOCAL_CALLBACKS": "true",
        }
        for table in TABLES:
            name = f"{prefix}-{table.suffix}"
            table.bound(name).create_table(wait=True)
            env[table.env_var] = name
        self.client("ssm").put_parameter(
            Name=env["HMAC_KEY_PARAMETER"],
            Value=secrets.token_hex(32),
            Type="SecureString",
            Overwrite=True,
        )
        self.client("events").create_event_bus(Name=env["EVENT_BUS_NAME"])
        outbox.create(
            self.client("events"),
            self.client("logs"),
            env["EVENT_BUS_NAME"],
            prefix,
            f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{outbox.log_group(prefix)}",
        )
        # The audit chain's key: an HMAC key that never leaves KMS.
        env["AUDIT_KEY_ID"] = self.client("kms").create_key(
            Description="privacy-functions audit chain",
            KeySpec="HMAC_256",
            KeyUsage="GENERATE_VERIFY_MAC",
        )["KeyMetadata"]["Arn"]
        # The screening receipts' signing key: asymmetric, the private half never leaves KMS.
        env["RECEIPT_KEY_ID"] = self.client("kms").create_key(
            Description="privacy-functions audience screening receipts",
            KeySpec="ECC_NIST_P256",
            KeyUsage="SIGN_VERIFY",
        )["KeyMetadata"]["Arn"]
        env["AUDIT_DIGEST_EVERY"] = str(self.audit_digest_every)
        env["API_DOCS_UI"] = "1"
        env["EXPORTS_BUCKET"] = f"{prefix}-exports"
        s3 = self.client("s3")
        s3.create_bucket(
            Bucket=env["EXPORTS_BUCKET"],
            CreateBucketConfiguration={"LocationConstraint": REGION},
        )
        s3.put_bucket_versioning(
            Bucket=env["EXPORTS_BUCKET"], VersioningConfiguration={"Status": "Enabled"}
        )
        env["EXPORTS_KMS_KEY_ARN"] = self._harden_exports_bucket(env["EXPORTS_BUCKET"])
        # The deployed bucket has Object Lock too: a digest cannot be deleted or overwritten.
        env["AUDIT_DIGEST_BUCKET"] = f"{prefix}-audit-digests"
        s3.create_bucket(
            Bucket=env["AUDIT_DIGEST_BUCKET"],
            CreateBucketConfiguration={"LocationConstraint": REGION},
            ObjectLockEnabledForBucket=True,
        )
        s3.put_object_lock_configuration(
            Bucket=env["AUDIT_DIGEST_BUCKET"],
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {
                    "DefaultRetention": {
                        "Mode": "COMPLIANCE",
                        "Days": self.audit_digest_retention_days,
                    }
                },
            },
        )
        role = self.client("iam").create_role(
            RoleName=f"{prefix}-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        lam = self.client("lambda")
        for spec in FUNCTIONS:
            arn = lam.create_function(
                FunctionName=f"{prefix}-{spec.name}",
                Runtime="python3.11",
                Role=role,
                Handler=spec.handler,
                # Moto stores the package; the dispatcher runs the handler from this checkout.
                Code={"ZipFile": _placeholder_package()},
                Timeout=300,
            )["FunctionArn"]
            self.function_arns[spec.name] = arn
        env["AUDIT_DIGEST_FUNCTION"] = self.function_arns["AuditDigest"]
        env.update(self._create_audience_resources(prefix))
        self.state_machine_arn = self.create_state_machine(f"{prefix}-privacy-request", role)
        env["STATE_MACHINE_ARN"] = self.state_machine_arn
        env["AUDIENCE_SPLIT_STATE_MACHINE_ARN"] = self.create_state_machine(
            f"{prefix}-audience-split", role, AUDIENCE_SPLIT_FILE
        )
        env["SPLIT_THRESHOLD_BYTES"] = str(self.split_threshold_bytes)
        env["SPLIT_PART_BYTES"] = str(self.split_part_bytes)
        self.campaign_state_machine_arn = self.create_state_machine(
            f"{prefix}-repermission-campaign", role, CAMPAIGN_DEFINITION_FILE
        )
        env["CAMPAIGN_STATE_MACHINE_ARN"] = self.campaign_state_machine_arn
        for spec in FUNCTIONS:
            lam.update_function_configuration(
                FunctionName=self.function_arns[spec.name],
                Environment={"Variables": spec.environment(env)},
            )
        return env

    def _harden_exports_bucket(self, bucket: str) -> str:
        """Exports hold a member's whole record: encrypted with a customer-managed KMS key, never
        public, deleted after EXPORT_RETENTION_DAYS (older versions a day after they are
        superseded). Answers the key's ARN."""
        from functions.shared.domain import EXPORT_RETENTION_DAYS

        key_arn = self.client("kms").create_key(
            Description="privacy-functions export files", KeyUsage="ENCRYPT_DECRYPT"
        )["KeyMetadata"]["Arn"]
        s3 = self.client("s3")
        s3.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {
                        "ApplyServerSideEncryptionByDefault": {
                            "SSEAlgorithm": "aws:kms",
                            "KMSMasterKeyID": key_arn,
                        },
                        "BucketKeyEnabled": True,
                    }
                ]
            },
        )
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=dict.fromkeys(
                (
                    "BlockPublicAcls",
                    "IgnorePublicAcls",
                    "BlockPublicPolicy",
                    "RestrictPublicBuckets",
                ),
                True,
            ),
        )
        s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "delete-exports",
                        "Filter": {"Prefix": "exports/"},
                        "Status": "Enabled",
                        "Expiration": {"Days": EXPORT_RETENTION_DAYS},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1},
                    }
                ]
            },
        )
        return str(key_arn)

    def _create_audience_resources(self, prefix: str) -> dict[str, str]:
        """The audiences bucket, its S3 -> Lambda notification on incoming/, and the schedule.

        moto delivers the S3 notification by invoking the function in-process, synchronously
        inside PutObject; it does not fire EventBridge schedules: tests and `make run` users send
        the rule's Scheduled Event themselves (see README, "Audience filter")."""
        bucket = f"{prefix}-audiences"
        function_arn = self.function_arns["AudienceFilter"]
        s3 = self.client("s3")
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration={
                "LambdaFunctionConfigurations": [
                    {
                        "LambdaFunctionArn": function_arn,
                        "Events": ["s3:ObjectCreated:*"],
                        "Filter": {
                            "Key": {"FilterRules": [{"Name": "prefix", "Value": "incoming/"}]}
                        },
                    }
                ]
            },
        )
        events = self.client("events")
        (spec,) = [spec for spec in FUNCTIONS if spec.name == "AudienceFilter"]
        events.put_rule(Name=f"{prefix}-audience-sweep", ScheduleExpression=spec.schedule)
        events.put_targets(
            Rule=f"{prefix}-audience-sweep",
            Targets=[{"Id": "AudienceFilter", "Arn": function_arn}],
        )
        return {
            "AUDIENCES_BUCKET": bucket,
            "AUDIENCE_FILTER_FUNCTION": function_arn,
            "SCHEDULED_PREFIXES": "incoming/scheduled/",
            # The demo retailer's exports carry e-mail and phone columns (the deployed default
            # is customer_id and email): what every dropped file is screened by.
            "IDENTIFIER_COLUMNS": json.dumps({"email": "email", "phone": "phone"}),
        }

    def create_state_machine(
        self, name: str, role_arn: str | None = None, file: Path = DEFINITION_FILE
    ) -> str:
        """A state machine from one of the project's definition files, wired to the local
        functions."""
        wanted = placeholders(file)
        substitutions = {
            spec.placeholder: self.function_arns[spec.name]
            for spec in FUNCTIONS
            if spec.placeholder in wanted
        }
        role = role_arn or f"arn:aws:iam::{ACCOUNT}:role/privacy-{self.stage}-role"
        response = self.client("stepfunctions").create_state_machine(
            name=name, definition=render(substitutions, file), roleArn=role
        )
        return str(response["stateMachineArn"])

    def invoke_api(self, event: dict[str, Any]) -> dict[str, Any]:
        response = self.client("lambda").invoke(
            FunctionName=self.function_arns[API.name], Payload=json.dumps(event).encode()
        )
        payload = json.loads(response["Payload"].read())
        if response.get("FunctionError"):
            raise RuntimeError(payload.get("errorType", "FunctionError"))
        return dict(payload)

    def outbox_messages(self, customer_id: str | None = None) -> list[dict[str, Any]]:
        """What the messaging system would have sent so far (infra/local/outbox.py)."""
        prefix = f"privacy-{self.stage}"
        return outbox.messages(self.client("logs"), prefix, self.api_url, customer_id)

    def seed(self, customers: list[dict[str, Any]]) -> None:
        """The CRM import of the demo customers, then their opt-outs through the product's own
        consent service (history, suppression entries, audit entries), so that the demo shows
        what the product itself would have written."""
        from functions.consents.service import import_consents
        from functions.shared.customers import customer_items
        from functions.shared.models import CustomerItem, bind

        model = bind(CustomerItem, self.env["CUSTOMERS_TABLE"])
        deps = self.api_dependencies()
        with model.batch_write() as batch:
            for record in customers:
                for item in customer_items(model, record, deps.hasher):
                    batch.save(item)
        for record in customers:
            import_consents(record["customerId"], record.get("consents", []), "demo-seed", deps)

    def api_dependencies(self) -> Any:
        """The API function's own dependencies, built from this stack's settings."""
        from functions.api.dependencies import ApiDependencies
        from functions.shared.settings import ApiSettings

        return ApiDependencies.of(ApiSettings.from_env(self.env))


def _use_fake_credentials() -> None:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    os.environ["AWS_ACCESS_KEY_ID"] = "testing"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    os.environ["AWS_DEFAULT_REGION"] = REGION


def _placeholder_package() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Dispatched in-process by infra/local/dispatch.py\n")
    return buffer.getvalue()
