"""The audience split state machine, from infra/statemachine/audience_split.asl.json via
DefinitionBody.from_string: each `${...}` placeholder is substituted with its step function's
ARN by CloudFormation. Its Distributed Map runs each part as a child execution of this same
state machine, so its role may start (and describe and stop) executions of itself."""

from __future__ import annotations

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.cdk.nag import acknowledge
from infra.functions import FUNCTIONS
from infra.state_machine import AUDIENCE_SPLIT_FILE, definition_text, placeholders, render


def audience_split_name(prefix: str) -> str:
    return f"{prefix}-audience-split"


class AudienceSplit(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        functions: dict[str, lambda_.Function],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, id)
        name = audience_split_name(prefix)
        wanted = placeholders(AUDIENCE_SPLIT_FILE)
        steps = [spec for spec in FUNCTIONS if spec.placeholder in wanted]
        substitutions = {str(spec.placeholder): functions[spec.name].function_arn for spec in steps}
        render(substitutions, AUDIENCE_SPLIT_FILE)  # raises unless they match the placeholders
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/vendedlogs/states/{name}",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_name=name,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_string(definition_text(AUDIENCE_SPLIT_FILE)),
            definition_substitutions=substitutions,
            # Execution data stays out of the logs: errors may quote what they failed on.
            logs=sfn.LogOptions(
                destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=False
            ),
            tracing_enabled=True,
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"],
                resources=sorted(functions[spec.name].function_arn for spec in steps),
            )
        )
        # The Distributed Map's child executions (AWS: "IAM policies for using Distributed Map
        # states"). By name: a reference to itself would be a dependency cycle.
        stack = Stack.of(self)
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:StartExecution"],
                resources=[
                    stack.format_arn(
                        service="states",
                        resource="stateMachine",
                        resource_name=name,
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        children = stack.format_arn(
            service="states",
            resource="execution",
            resource_name=f"{name}/*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution", "states:StopExecution"],
                resources=[children],
            )
        )
        policy = self.state_machine.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "Log delivery (logs:*LogDelivery, PutResourcePolicy, Describe*) and X-Ray "
            "(PutTraceSegments, PutTelemetryRecords, GetSampling*) support no resource-level "
            "permissions: AWS documents '*' for them.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:{name}/*]",
            "The Distributed Map's child executions are named at run time: the grant is limited "
            "to this state machine's own executions.",
        )
