"""The audience split state machine: a Workflow from infra/statemachine/audience_split.asl.json.
Its Distributed Map runs each part as a child execution of this same state machine, so its role
may also start (and describe and stop) executions of itself."""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cdk.nag import acknowledge
from infra.cdk.workflow import Workflow, state_machine_name
from infra.state_machine import AUDIENCE_SPLIT_FILE

AUDIENCE_SPLIT = "audience-split"


class AudienceSplit(Workflow):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        functions: dict[str, lambda_.Function],
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(
            scope,
            id,
            prefix=prefix,
            functions=functions,
            log_retention=log_retention,
            definition=AUDIENCE_SPLIT_FILE,
            name=AUDIENCE_SPLIT,
        )
        # The Distributed Map's child executions (AWS: "IAM policies for using Distributed Map
        # states"). By name: a reference to itself would be a dependency cycle.
        name = state_machine_name(prefix, AUDIENCE_SPLIT)
        self.state_machine.add_to_role_policy(
            iam.PolicyStatement(actions=["states:StartExecution"], resources=[self.arn_by_name])
        )
        children = Stack.of(self).format_arn(
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
        acknowledge(
            self.state_machine.role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:"
            f"<AWS::AccountId>:execution:{name}/*]",
            "The Distributed Map's child executions are named at run time: the grant is limited "
            "to this state machine's own executions.",
        )
