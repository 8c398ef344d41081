"""A state machine from one file of infra/statemachine/ via DefinitionBody.from_string: each
`${...}` placeholder of the file is substituted with its function's ARN by CloudFormation."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import (
    ArnFormat,
    RemovalPolicy,
    Stack,
)
from aws_cdk import (
    aws_iam as iam,
)
from aws_cdk import (
    aws_lambda as lambda_,
)
from aws_cdk import (
    aws_logs as logs,
)
from aws_cdk import (
    aws_stepfunctions as sfn,
)
from constructs import Construct

from infra.cdk.nag import acknowledge
from infra.functions import FUNCTIONS
from infra.state_machine import DEFINITION_FILE, definition_text, placeholders, render


def state_machine_name(prefix: str, name: str = "privacy-request") -> str:
    return f"{prefix}-{name}"


def state_machine_arn(scope: Construct, prefix: str, name: str = "privacy-request") -> str:
    """The ARN from the name, for grants to functions the state machine itself calls (a
    reference to the resource would make a dependency cycle)."""
    return Stack.of(scope).format_arn(
        service="states",
        resource="stateMachine",
        resource_name=state_machine_name(prefix, name),
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


class Workflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        functions: dict[str, lambda_.Function],
        log_retention: logs.RetentionDays,
        definition: Path = DEFINITION_FILE,
        name: str = "privacy-request",
    ) -> None:
        super().__init__(scope, id)
        self.arn_by_name = state_machine_arn(self, prefix, name)
        wanted = placeholders(definition)
        substitutions = {
            spec.placeholder: functions[spec.name].function_arn
            for spec in FUNCTIONS
            if spec.placeholder in wanted
        }
        # raises unless the placeholders and substitutions match
        render(substitutions, definition)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            # The vendedlogs prefix keeps CloudWatch's resource policy for Step Functions small.
            log_group_name=f"/aws/vendedlogs/states/{state_machine_name(prefix, name)}",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=state_machine_name(prefix, name),
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition_text(definition)),
            definition_substitutions=substitutions,
            # Execution data stays out of the logs: errors may quote what they failed on.
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
        )
        invoked = sorted(
            {functions[spec.name].function_arn for spec in FUNCTIONS if spec.placeholder in wanted}
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=invoked)
        )
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray "
            "(PutTraceSegments, PutTelemetryRecords, GetSampling*) support no resource-level "
            "permissions: AWS documents '*' for them.",
        )
