"""Alarms on what needs a person: failed workflows, API 5xx, undelivered completion events, and
events that could not even be dead-lettered."""

from __future__ import annotations

from aws_cdk import (
    CfnCondition,
    CfnParameter,
    Duration,
    Fn,
)
from aws_cdk import (
    aws_apigateway as apigw,
)
from aws_cdk import (
    aws_cloudwatch as cloudwatch,
)
from aws_cdk import (
    aws_cloudwatch_actions as actions,
)
from aws_cdk import (
    aws_kms as kms,
)
from aws_cdk import (
    aws_lambda as lambda_,
)
from aws_cdk import (
    aws_sns as sns,
)
from aws_cdk import (
    aws_sqs as sqs,
)
from aws_cdk import (
    aws_stepfunctions as sfn,
)
from constructs import Construct

_PERIOD = Duration.minutes(5)


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        prefix: str,
        alarm_email: CfnParameter,
        key: kms.IKey,
        state_machine: sfn.IStateMachine,
        rest_api: apigw.RestApi,
        dead_letters: list[sqs.IQueue],
        dead_lettering_functions: list[lambda_.IFunction],
        dead_lettering_rules: dict[str, dict[str, str]],
    ) -> None:
        super().__init__(scope, id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=f"{prefix}-alarms",
            display_name=f"{prefix} alarms",
            master_key=key,
            enforce_ssl=True,
        )
        has_email = CfnCondition(
            self, "HasAlarmEmail", expression=Fn.condition_not(Fn.condition_equals(alarm_email, ""))
        )
        subscription = sns.CfnSubscription(
            self,
            "AlarmEmail",
            topic_arn=self.topic.topic_arn,
            protocol="email",
            endpoint=alarm_email.value_as_string,
        )
        subscription.cfn_options.condition = has_email

        def alarm(name: str, metric: cloudwatch.IMetric, description: str) -> None:
            created = cloudwatch.Alarm(
                self,
                name,
                alarm_name=f"{prefix}-{name}",
                alarm_description=description,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            )
            created.add_alarm_action(actions.SnsAction(self.topic))

        alarm(
            "WorkflowFailed",
            state_machine.metric_failed(period=_PERIOD, statistic="Sum"),
            "A privacy request workflow failed: the request is FAILED and needs a look.",
        )
        alarm(
            "WorkflowTimedOut",
            state_machine.metric_timed_out(period=_PERIOD, statistic="Sum"),
            "A privacy request workflow timed out.",
        )
        alarm(
            "WorkflowAborted",
            state_machine.metric_aborted(period=_PERIOD, statistic="Sum"),
            "A privacy request workflow was aborted.",
        )
        alarm(
            "Api5xx",
            rest_api.metric_server_error(period=_PERIOD, statistic="Sum"),
            "The privacy API answered 5xx.",
        )
        for queue in dead_letters:
            alarm(
                f"{queue.node.id}Depth",
                queue.metric_approximate_number_of_messages_visible(
                    period=_PERIOD, statistic="Maximum"
                ),
                f"Undelivered events wait in the dead-letter queue {queue.node.id}.",
            )
        # An event that could not even be dead-lettered (the queue's key refused, say) is gone:
        # Lambda and EventBridge each count those.
        for function in dead_lettering_functions:
            alarm(
                f"{function.node.id}DeadLetterErrors",
                function.metric("DeadLetterErrors", period=_PERIOD, statistic="Sum"),
                f"{function.node.id}: a failed asynchronous event could not be sent to its "
                "dead-letter queue and is lost.",
            )
        for name, dimensions in dead_lettering_rules.items():
            alarm(
                f"{name}DlqFailed",
                cloudwatch.Metric(
                    namespace="AWS/Events",
                    metric_name="InvocationsFailedToBeSentToDlq",
                    dimensions_map=dimensions,
                    period=_PERIOD,
                    statistic="Sum",
                ),
                f"The rule {name}: an undelivered event could not be sent to its dead-letter "
                "queue and is lost.",
            )
