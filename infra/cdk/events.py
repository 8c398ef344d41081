"""The bus that announces PrivacyRequestCompleted, and a rule on it that keeps a copy in
CloudWatch Logs (downstream marketing systems add their own rules). Messages to a person
(functions/shared/messages.py, e.g. ConsentConfirmationRequested) carry a credential: no rule
here takes them and the bus has no archive (the messaging system adds its own rule;
tests/infra/test_message_events.py)."""

from __future__ import annotations

import jsii
from aws_cdk import (
    ArnFormat,
    Duration,
    RemovalPolicy,
    Stack,
)
from aws_cdk import (
    aws_events as events,
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
    aws_sqs as sqs,
)
from constructs import Construct

from functions.requests.steps import COMPLETED_DETAIL_TYPE
from functions.shared.events import EVENT_SOURCE
from infra.cdk.nag import acknowledge


@jsii.implements(events.IRuleTarget)
class _LogGroupTarget:
    """A log group target without the custom resource CDK's CloudWatchLogGroup target deploys
    for its resource policy: the policy is a plain AWS::Logs::ResourcePolicy here."""

    def __init__(self, arn: str, dead_letters: sqs.IQueue, message: events.RuleTargetInput) -> None:
        self._arn = arn
        self._dead_letters = dead_letters
        self._message = message

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(
            arn=self._arn,
            input=self._message,
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(
                arn=self._dead_letters.queue_arn
            ),
            retry_policy=events.CfnRule.RetryPolicyProperty(
                maximum_event_age_in_seconds=24 * 3600, maximum_retry_attempts=10
            ),
        )


# What the log group keeps of a completion: never the customer id (a FORGET's event carries the
# forgotten person's id, which its consumers need and the archive must not outlive), only its
# keyed hash. CloudWatch Logs targets take a transformed input of exactly this shape.
ARCHIVED_FIELDS = ("requestId", "type", "status", "completedAt", "customerHash")


def archived_form() -> events.RuleTargetInput:
    message = " ".join(
        f"{name}={events.EventField.from_path(f'$.detail.{name}')}" for name in ARCHIVED_FIELDS
    )
    return events.RuleTargetInput.from_object(
        {"timestamp": events.EventField.time, "message": f"{COMPLETED_DETAIL_TYPE} {message}"}
    )


class CompletionEvents(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        log_retention: logs.RetentionDays,
        dead_letters_key: kms.IKey,
    ) -> None:
        super().__init__(scope, id)
        self.bus = events.EventBus(self, "Bus", event_bus_name=f"{prefix}-events")
        self.log_group = logs.LogGroup(
            self,
            "CompletedLog",
            log_group_name=f"/aws/events/{prefix}-privacy-request-completed",
            retention=log_retention,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.dead_letters = sqs.Queue(
            self,
            "CompletedDeadLetters",
            queue_name=f"{prefix}-completed-log-dlq",
            # Completion events name the customer: the dead-letter key (security.py).
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=dead_letters_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This queue is the dead-letter queue of the rule's target (EventBridge's "
            "DeadLetterConfig), which the rule checks for only among SQS redrive policies.",
        )
        target_arn = Stack.of(self).format_arn(
            service="logs",
            resource="log-group",
            resource_name=self.log_group.log_group_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        # By name: a rule on a custom bus is "bus|rule" by reference.
        self.rule_name = f"{prefix}-privacy-request-completed"
        self.rule = events.Rule(
            self,
            "Completed",
            rule_name=self.rule_name,
            event_bus=self.bus,
            event_pattern=events.EventPattern(
                source=[EVENT_SOURCE], detail_type=[COMPLETED_DETAIL_TYPE]
            ),
            targets=[_LogGroupTarget(target_arn, self.dead_letters, archived_form())],
        )
        logs.ResourcePolicy(
            self,
            "EventsToLogs",
            resource_policy_name=f"{prefix}-events-to-logs",
            policy_statements=[
                iam.PolicyStatement(
                    principals=[
                        iam.ServicePrincipal("events.amazonaws.com"),
                        iam.ServicePrincipal("delivery.logs.amazonaws.com"),
                    ],
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                )
            ],
        )
        self.dead_letters.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("events.amazonaws.com")],
                actions=["sqs:SendMessage"],
                resources=[self.dead_letters.queue_arn],
                conditions={"ArnEquals": {"aws:SourceArn": self.rule.rule_arn}},
            )
        )
