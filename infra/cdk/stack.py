"""The whole product in one stack: what the local stack (infra/local) emulates, from the same
definitions."""

from __future__ import annotations

from aws_cdk import Aspects, CfnOutput, CfnParameter, Stack
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.cdk.api import Api
from infra.cdk.audience_split import AudienceSplit
from infra.cdk.config import StackConfig
from infra.cdk.events import CompletionEvents
from infra.cdk.lambdas import Functions
from infra.cdk.monitoring import Monitoring
from infra.cdk.pages import Pages
from infra.cdk.security import EncryptLogGroups, Security
from infra.cdk.storage import Storage
from infra.cdk.tables import Tables
from infra.cdk.workflow import Workflow
from infra.functions import API
from infra.state_machine import CAMPAIGN_DEFINITION_FILE

_RETENTION = dict(
    zip(
        (
            1,
            3,
            5,
            7,
            14,
            30,
            60,
            90,
            120,
            150,
            180,
            365,
            400,
            545,
            731,
            1096,
            1827,
            2192,
            2557,
            2922,
            3288,
            3653,
        ),
        list(logs.RetentionDays)[:-1],
        strict=True,
    )
)


def retention_days(days: int) -> logs.RetentionDays:
    if days not in _RETENTION:
        raise ValueError(f"logRetentionDays {days}: CloudWatch Logs allows {sorted(_RETENTION)}")
    return _RETENTION[days]


class PrivacyStack(Stack):
    def __init__(self, scope: Construct, id: str, *, config: StackConfig) -> None:
        super().__init__(
            scope, id, description=f"privacy-functions ({config.stage}): data-privacy requests"
        )
        self.config = config
        prefix = config.prefix
        retention = retention_days(config.log_retention_days)

        alarm_email = CfnParameter(
            self,
            "AlarmEmail",
            type="String",
            default=config.alarm_email,
            description="Where alarms are e-mailed (empty: no subscription)",
        )
        confirmation_timeout = CfnParameter(
            self,
            "ConfirmationTimeoutSeconds",
            type="Number",
            default=config.confirmation_timeout_seconds,
            min_value=60,
            # Step Functions standard workflows run for at most a year.
            max_value=365 * 24 * 3600,
            description="How long a request waits for the agent's explicit confirmation",
        )

        self.security = Security(self, "Security", prefix=prefix)
        Aspects.of(self).add(EncryptLogGroups(self.security.logs_key))
        self.tables = Tables(self, "Tables", prefix=prefix, key=self.security.data_key)
        self.storage = Storage(
            self,
            "Storage",
            prefix=prefix,
            key=self.security.data_key,
            export_retention_days=config.export_retention_days,
            audience_retention_days=config.audience_retention_days,
            log_retention_days=config.log_retention_days,
            audit_digest_retention_days=config.audit_digest_retention_days,
        )
        self.events = CompletionEvents(
            self,
            "Events",
            prefix=prefix,
            log_retention=retention,
            dead_letters_key=self.security.dead_letters_key,
        )

        values = {declared.spec.env_var: declared.table.table_name for declared in self.tables}
        values |= {
            "HMAC_KEY_PARAMETER": self.security.hmac_parameter_name,
            "EVENT_BUS_NAME": self.events.bus.event_bus_name,
            "CONFIRMATION_TIMEOUT_SECONDS": confirmation_timeout.value_as_string,
            "EXPORTS_BUCKET": self.storage.names["exports"],
            "AUDIENCES_BUCKET": self.storage.names["audiences"],
            "AUDIT_DIGEST_BUCKET": self.storage.names["audit-digests"],
            "AUDIT_KEY_ID": self.security.audit_key.key_arn,
            "RECEIPT_KEY_ID": self.security.receipt_key.key_arn,
            # By name: every writer's environment names it before the function exists.
            "AUDIT_DIGEST_FUNCTION": f"{prefix}-AuditDigest",
        }
        if config.default_region:
            values["DEFAULT_REGION"] = config.default_region
        self.functions = Functions(
            self,
            "Functions",
            prefix=prefix,
            tables=self.tables,
            security=self.security,
            storage=self.storage,
            environment=values,
            log_retention=retention,
            reserved_concurrency=config.reserved_concurrency,
        )
        self.workflow = Workflow(
            self,
            "Workflow",
            prefix=prefix,
            functions=self.functions.functions,
            log_retention=retention,
        )
        self.audience_split = AudienceSplit(
            self,
            "AudienceSplit",
            prefix=prefix,
            functions=self.functions.functions,
            log_retention=retention,
        )
        # The re-permission campaign's own state machine, from its own file, the same way.
        self.campaigns = Workflow(
            self,
            "CampaignWorkflow",
            prefix=prefix,
            functions=self.functions.functions,
            log_retention=retention,
            definition=CAMPAIGN_DEFINITION_FILE,
            name="repermission-campaign",
        )
        self.functions.complete_environment(
            values
            | {
                "STATE_MACHINE_ARN": self.workflow.state_machine.state_machine_arn,
                "CAMPAIGN_STATE_MACHINE_ARN": self.campaigns.state_machine.state_machine_arn,
                "AUDIENCE_FILTER_FUNCTION": self.functions.functions[
                    "AudienceFilter"
                ].function_name,
                "AUDIENCE_SPLIT_STATE_MACHINE_ARN": (
                    self.audience_split.state_machine.state_machine_arn
                ),
            }
        )
        self.functions.grant_workflow(self.workflow, self.events.bus, self.campaigns)
        self.functions.grant_audience_split(self.audience_split)
        self.functions.connect_triggers(self.storage)
        self.api = Api(
            self,
            "Api",
            config=config,
            handler=self.functions.functions[API.name],
            log_retention=retention,
        )
        # The preference centre and the public routes on one origin (infra/cdk/pages.py). Its
        # address is the one customers are sent (List-Unsubscribe URLs, PUBLIC_API_URL).
        self.pages = Pages(
            self,
            "Pages",
            prefix=prefix,
            stage_name=config.stage,
            rest_api=self.api.rest_api,
            access_logs=self.storage.access_logs,
            log_retention=retention,
        )
        self.functions.functions[API.name].add_environment("PUBLIC_API_URL", self.pages.url)
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            prefix=prefix,
            alarm_email=alarm_email,
            key=self.security.alarms_key,
            state_machine=self.workflow.state_machine,
            rest_api=self.api.rest_api,
            dead_letters=[self.events.dead_letters, *self.functions.dead_letters.values()],
            dead_lettering_functions=[
                self.functions.functions[name] for name in self.functions.dead_letters
            ],
            # EventBridge's metrics: a custom bus's rule by bus and name, the default's by name.
            dead_lettering_rules={
                "CompletedLog": {
                    "EventBusName": self.events.bus.event_bus_name,
                    "RuleName": self.events.rule_name,
                },
                **{
                    f"{name}Schedule": {"RuleName": rule.rule_name}
                    for name, rule in self.functions.schedules.items()
                },
            },
        )

        CfnOutput(self, "ApiUrl", value=self.api.rest_api.url)
        CfnOutput(self, "PreferenceCentreUrl", value=f"{self.pages.url}/preferences/")
        CfnOutput(self, "UserPoolId", value=self.api.user_pool.user_pool_id)
        if self.api.client is not None:
            CfnOutput(self, "UserPoolClientId", value=self.api.client.user_pool_client_id)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(
            self, "CampaignStateMachineArn", value=self.campaigns.state_machine.state_machine_arn
        )
        CfnOutput(self, "EventBusName", value=self.events.bus.event_bus_name)
        CfnOutput(self, "HmacKeySecretName", value=self.security.hmac_secret_name)
        CfnOutput(self, "ExportsBucket", value=self.storage.names["exports"])
        CfnOutput(self, "AudiencesBucket", value=self.storage.names["audiences"])
        CfnOutput(self, "AlarmTopicArn", value=self.monitoring.topic.topic_arn)
        CfnOutput(
            self,
            "AudienceSplitStateMachineArn",
            value=self.audience_split.state_machine.state_machine_arn,
        )
