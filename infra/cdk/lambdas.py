"""Every function of infra/functions.py: its handler, its settings as environment variables, a
role of its own with only what infra/cdk/access.py declares, and for asynchronous invocations a
dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Size, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.cdk.access import ACCESS, Access, BucketAccess, TableAccess
from infra.cdk.assets import (
    ARCHITECTURE,
    PYTHON_VERSION,
    RUNTIME,
    dependencies_layer_code,
    function_code,
)
from infra.cdk.audience_split import AudienceSplit
from infra.cdk.nag import acknowledge, skip_checkov
from infra.cdk.security import Security
from infra.cdk.storage import Storage
from infra.cdk.tables import Tables
from infra.cdk.workflow import Workflow
from infra.functions import API, FUNCTIONS, FunctionSpec

_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
# API Gateway gives up after 29 s; the API answers well before.
_TIMEOUTS = {API.name: Duration.seconds(25)}
_DEFAULT_TIMEOUT = Duration.minutes(5)
# The audience split steps: a part of about 1 GB in one invocation, the snapshot in memory, the
# plan reads the whole (decompressed) file once (README, "Audience filter").
_SPLIT_STEPS = ("AudiencePlan", "AudienceScreenPart", "AudienceCombine")
_TIMEOUTS |= {name: Duration.minutes(15) for name in _SPLIT_STEPS}
# One invocation screens files up to the split threshold: the most vCPUs (6, by memory) for its
# workers, the full 15 minutes, and /tmp for the source and the clean copy.
_TIMEOUTS["AudienceFilter"] = Duration.minutes(15)
_MEMORY_MB = {"AudiencePlan": 3008, "AudienceScreenPart": 3008, "AudienceFilter": 10240}
_TMP_GIB = {"AudiencePlan": 10, "AudienceScreenPart": 4, "AudienceFilter": 10}
_TRANSACTION_ONLY = {"StringEquals": {"dynamodb:EnclosingOperation": "TransactWriteItems"}}
# Invoked with InvocationType=Event by every audit writer, every N entries (audit_keys.py).
_AUDIT_DIGEST = "AuditDigest"

_NO_VPC = (
    "No VPC on purpose: the functions reach only AWS APIs (DynamoDB, S3, KMS, Step Functions, "
    "Secrets Manager, EventBridge, Lambda) over TLS with their own least-privilege roles, and "
    "no private resource; a VPC would add NAT or a dozen interface endpoints and ENIs, not a "
    "control."
)
_PLAIN_ENVIRONMENT = (
    "The environment holds only resource names and ARNs, never a secret (the HMAC key is read "
    "from Secrets Manager at run time): Lambda's own at-rest encryption suffices, and a "
    "customer key would add a KMS dependency to every cold start."
)
_SYNCHRONOUS = {
    "api": "Invoked only synchronously, by API Gateway's Lambda proxy integration: a failure "
    "is the caller's HTTP answer (and the Api5xx alarm); there is no event to dead-letter.",
    "task": "Invoked only synchronously, by Step Functions lambda:invoke tasks "
    "(RequestResponse, waitForTaskToken's too): the state's Retry/Catch and the execution's "
    "failure alarms handle a failure; there is no event to dead-letter.",
}
_UNRESERVED = {
    "task": "Not reserved: a state machine task, at most as concurrent as its executions (started "
    "by the capped API and campaigns) and its maps' MaxConcurrency. Each reservation takes "
    "capacity from the account's unreserved pool (AWS keeps 100 there) and fails deploys on "
    "small accounts.",
    "scheduled": "Not reserved: it runs on its schedule (the digest also every N audit "
    "entries), a few invocations an hour. Each reservation takes capacity from the account's "
    "unreserved pool (AWS keeps 100 there) and fails deploys on small accounts.",
    "off": "Reserved concurrency turned off for this deployment by its context "
    "(apiReservedConcurrency / audienceFilterReservedConcurrency = 0): the account's quota "
    "is too small for it.",
}


class MissingAccessError(ValueError):
    pass


def access_of(spec: FunctionSpec) -> Access:
    try:
        return ACCESS[spec.name]
    except KeyError:
        raise MissingAccessError(
            f"function {spec.name!r} ({spec.handler}) has no entry in infra/cdk/access.py "
            "ACCESS: declare the tables, buckets and services it uses"
        ) from None


def required_settings(spec: FunctionSpec) -> set[str]:
    return {name.upper() for name, f in spec.settings.model_fields.items() if f.is_required()}


def reads_hmac_key(spec: FunctionSpec) -> bool:
    return "hmac_key_parameter" in spec.settings.model_fields


def writes_audit(spec: FunctionSpec) -> bool:
    """It appends audit entries: it keys them and asks for digests every N entries."""
    return "audit_key_id" in spec.settings.model_fields


def verifies_audit(spec: FunctionSpec) -> bool:
    """It checks the chain's keyed hashes against the digests (GET /audit/verify)."""
    fields = spec.settings.model_fields
    return "audit_key_id" in fields and "audit_digest_bucket" in fields


def table_statement(access: TableAccess, tables: Tables) -> iam.PolicyStatement:
    table = tables[access.table].table
    resources = (
        [f"{table.table_arn}/index/{index}" for index in access.indexes]
        if access.indexes
        else [table.table_arn]
    )
    return iam.PolicyStatement(
        actions=[f"dynamodb:{action}" for action in access.actions],
        resources=resources,
        conditions=_TRANSACTION_ONLY if access.in_transaction else None,
    )


def bucket_statements(access: BucketAccess, storage: Storage) -> list[iam.PolicyStatement]:
    arn = storage.arn(access.bucket)
    listing = [a for a in access.actions if a.startswith("List")]
    objects = [a for a in access.actions if not a.startswith("List")]
    statements = []
    if listing:
        statements.append(
            iam.PolicyStatement(
                actions=[f"s3:{a}" for a in listing],
                resources=[arn],
                conditions={"StringLike": {"s3:prefix": [f"{access.prefix}*"]}},
            )
        )
    if objects:
        statements.append(
            iam.PolicyStatement(
                actions=[f"s3:{a}" for a in objects], resources=[f"{arn}/{access.prefix}*"]
            )
        )
    return statements


def schedule(
    scope: Construct,
    name: str,
    function: lambda_.IFunction,
    expression: str,
    dead_letters: sqs.IQueue,
) -> events.Rule:
    """An EventBridge schedule that invokes `function`; what EventBridge cannot deliver after
    its retries goes to the function's dead-letter queue."""
    return events.Rule(
        scope,
        f"{name}Schedule",
        schedule=events.Schedule.expression(expression),
        targets=[
            targets.LambdaFunction(
                function,
                dead_letter_queue=dead_letters,
                retry_attempts=4,
                max_event_age=Duration.hours(6),
            )
        ],
    )


class Functions(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        tables: Tables,
        security: Security,
        storage: Storage,
        environment: Mapping[str, str],
        log_retention: logs.RetentionDays,
        reserved_concurrency: Mapping[str, int],
    ) -> None:
        super().__init__(scope, id)
        self._prefix = prefix
        accesses = {spec.name: access_of(spec) for spec in FUNCTIONS}
        invoked_async = {target for access in accesses.values() for target in access.invokes}
        if any(writes_audit(spec) for spec in FUNCTIONS):
            invoked_async.add(_AUDIT_DIGEST)
        self.layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            layer_version_name=f"{prefix}-dependencies",
            description="pyproject [project].dependencies, pip-installed for manylinux x86_64",
            code=dependencies_layer_code(),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            removal_policy=RemovalPolicy.RETAIN,
        )
        code = function_code()
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        self.dead_letters: dict[str, sqs.Queue] = {}
        self.schedules: dict[str, events.Rule] = {}
        for spec in FUNCTIONS:
            access = accesses[spec.name]
            name = f"{prefix}-{spec.name}"
            log_group = logs.LogGroup(
                self,
                f"{spec.name}Logs",
                log_group_name=f"/aws/lambda/{name}",
                retention=log_retention,
                removal_policy=RemovalPolicy.RETAIN,
            )
            role = iam.Role(
                self,
                f"{spec.name}Role",
                assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
                description=f"{name}: only what infra/cdk/access.py declares",
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[log_group.log_group_arn],
                )
            )
            self._grant_data(role, spec, access, tables, storage, security)
            is_async = self._is_async(spec, access) or spec.name in invoked_async
            dead_letters = self._dead_letters(spec, role, security) if is_async else None
            self.roles[spec.name] = role
            self.functions[spec.name] = lambda_.Function(
                self,
                spec.name,
                function_name=name,
                description=f"{spec.name}: {spec.handler}",
                runtime=RUNTIME,
                architecture=ARCHITECTURE,
                handler=spec.handler,
                code=code,
                layers=[self.layer],
                role=role,
                log_group=log_group,
                memory_size=_MEMORY_MB.get(spec.name, 512),
                ephemeral_storage_size=(
                    Size.gibibytes(_TMP_GIB[spec.name]) if spec.name in _TMP_GIB else None
                ),
                timeout=_TIMEOUTS.get(spec.name, _DEFAULT_TIMEOUT),
                environment=spec.environment(dict(environment)),
                dead_letter_queue=dead_letters,
                # Asynchronous events are retried twice by Lambda, then go to the DLQ.
                retry_attempts=2 if dead_letters else None,
                reserved_concurrent_executions=reserved_concurrency.get(spec.name),
            )
            function = self.functions[spec.name]
            skip_checkov(function, "CKV_AWS_117", _NO_VPC)
            skip_checkov(function, "CKV_AWS_173", _PLAIN_ENVIRONMENT)
            caller = "api" if spec is API else "task"
            if dead_letters is None:
                skip_checkov(function, "CKV_AWS_116", _SYNCHRONOUS[caller])
            if spec.name not in reserved_concurrency:
                if spec is API or spec.name == "AudienceFilter":
                    unreserved = "off"
                else:
                    unreserved = "scheduled" if spec.schedule else "task"
                skip_checkov(function, "CKV_AWS_115", _UNRESERVED[unreserved])
            acknowledge(
                self.functions[spec.name],
                "AwsSolutions-L1",
                f"Python {PYTHON_VERSION} on purpose: the version the project supports and tests "
                "(requires-python, the local stack) and the one the layer's wheels are built for; "
                "moving the runtime is a project decision, not an infra default.",
            )
        self._accesses = accesses
        self._specs = {spec.name: spec for spec in FUNCTIONS}

    @staticmethod
    def _is_async(spec: FunctionSpec, access: Access) -> bool:
        return access.notified_by is not None or spec.schedule is not None

    def _dead_letters(self, spec: FunctionSpec, role: iam.Role, security: Security) -> sqs.Queue:
        queue = sqs.Queue(
            self,
            f"{spec.name}DeadLetters",
            queue_name=f"{self._prefix}-{spec.name}-dlq",
            # The undelivered events themselves: the dead-letter key (security.py).
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=security.dead_letters_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        # Lambda sends the failed event with the function's own role: SQS encrypts it with
        # the queue's key on that role's behalf.
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"],
                resources=[security.dead_letters_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"sqs.{Aws.REGION}.amazonaws.com"}},
            )
        )
        acknowledge(
            queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the function's asynchronous "
            "invocations (and of its event rule target); a DLQ needs no DLQ of its own.",
        )
        self.dead_letters[spec.name] = queue
        return queue

    def complete_environment(self, values: Mapping[str, str]) -> None:
        """Add the variables that exist only once the functions do (the state machine's ARN),
        then check that every function has every setting it requires: a missing one would
        otherwise only fail the function's cold start."""
        for spec in FUNCTIONS:
            function = self.functions[spec.name]
            for name, value in spec.environment(dict(values)).items():
                function.add_environment(name, value)
            missing = required_settings(spec) - set(spec.environment(dict(values)))
            if missing:
                raise ValueError(
                    f"{spec.name}: no value for {sorted(missing)}; add it to the stack's "
                    "environment values in infra/cdk/stack.py"
                )

    def grant_workflow(
        self, workflow: Workflow, bus: events.IEventBus, campaigns: Workflow | None = None
    ) -> None:
        for name, access in self._accesses.items():
            role = self.roles[name]
            if access.start_campaigns and campaigns is not None:
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["states:StartExecution"],
                        resources=[campaigns.state_machine.state_machine_arn],
                    )
                )
            if access.start_execution:
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["states:StartExecution"],
                        resources=[workflow.state_machine.state_machine_arn],
                    )
                )
            if access.answer_tasks:
                # By name, not by reference: the state machine refers to these functions.
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["states:SendTaskSuccess", "states:SendTaskFailure"],
                        resources=[workflow.arn_by_name],
                    )
                )
            for target in access.invokes:
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["lambda:InvokeFunction"],
                        resources=[self.functions[target].function_arn],
                    )
                )
            if access.put_events:
                role.add_to_policy(
                    iam.PolicyStatement(actions=["events:PutEvents"], resources=[bus.event_bus_arn])
                )

    def grant_audience_split(self, split: AudienceSplit) -> None:
        for name, access in self._accesses.items():
            if access.starts_audience_split:
                self.roles[name].add_to_policy(
                    iam.PolicyStatement(
                        actions=["states:StartExecution"],
                        resources=[split.state_machine.state_machine_arn],
                    )
                )

    def connect_triggers(self, storage: Storage) -> None:
        """Bucket notifications and schedules, as access.py declares them."""
        for name, access in self._accesses.items():
            function = self.functions[name]
            if access.notified_by is not None:
                bucket, _, key_prefix = access.notified_by.partition("/")
                storage.notify(bucket, key_prefix, function)
            spec = self._specs[name]
            if spec.schedule is not None:
                self.schedules[name] = schedule(
                    self, name, function, spec.schedule, self.dead_letters[name]
                )

    def _grant_data(
        self,
        role: iam.Role,
        spec: FunctionSpec,
        access: Access,
        tables: Tables,
        storage: Storage,
        security: Security,
    ) -> None:
        for table_access in access.tables:
            role.add_to_policy(table_statement(table_access, tables))
        for bucket_access in access.buckets:
            for statement in bucket_statements(bucket_access, storage):
                role.add_to_policy(statement)
            bucket = f"{self._prefix}-{bucket_access.bucket}-<AWS::AccountId>-<AWS::Region>"
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{bucket}/"
                f"{bucket_access.prefix}*]",
                f"Objects are named per request under {bucket_access.prefix!r}, unknown until "
                "run time: the grant is limited to that key prefix of that one bucket.",
            )
        if reads_hmac_key(spec):
            # Parameter Store passes the reference on to Secrets Manager with the caller's
            # own permissions: both are needed.
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ssm:GetParameter"], resources=[security.hmac_parameter_arn(self)]
                )
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=[security.hmac_secret.secret_arn],
                )
            )
        if writes_audit(spec):
            mac_actions = ["kms:GenerateMac"] + (["kms:VerifyMac"] if verifies_audit(spec) else [])
            role.add_to_policy(
                iam.PolicyStatement(actions=mac_actions, resources=[security.audit_key.key_arn])
            )
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["lambda:InvokeFunction"],
                    resources=[
                        Stack.of(self).format_arn(
                            service="lambda",
                            resource="function",
                            resource_name=f"{self._prefix}-AuditDigest",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    ],
                )
            )
        if access.receipts is not None:
            action = {"sign": "kms:Sign", "public-key": "kms:GetPublicKey"}[access.receipts]
            role.add_to_policy(
                iam.PolicyStatement(actions=[action], resources=[security.receipt_key.key_arn])
            )
        bucket_actions = {a for b in access.buckets for a in b.actions}
        if not (
            access.tables or reads_hmac_key(spec) or {"GetObject", "PutObject"} & bucket_actions
        ):
            return
        # DynamoDB, Secrets Manager and S3 use the data key on the caller's behalf.
        actions = ["kms:Decrypt", "kms:DescribeKey"]
        writes = any(_WRITES & set(t.actions) for t in access.tables) or (
            "PutObject" in bucket_actions
        )
        if writes:
            actions += ["kms:Encrypt", "kms:GenerateDataKey"]
        role.add_to_policy(
            iam.PolicyStatement(
                actions=actions,
                resources=[security.data_key.key_arn],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": [
                            f"{service}.{Aws.REGION}.amazonaws.com"
                            for service in ("dynamodb", "secretsmanager", "s3")
                        ]
                    }
                },
            )
        )
