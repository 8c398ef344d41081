"""Every Lambda function of the product, declared once for CDK and the local stack."""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.settings import (
    ApiSettings,
    AudienceCombineSettings,
    AudienceFilterSettings,
    AudienceSplitSettings,
    AuditDigestSettings,
    CampaignApplySettings,
    CampaignSettings,
    CompletionSettings,
    DeadlineCheckSettings,
    ExportSettings,
    ForgetSettings,
    Settings,
    TableSettings,
    WorkflowSettings,
)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str
    settings: type[Settings]
    # The placeholder that receives this function's ARN in the definition of the state machine
    # that calls it (each machine takes the functions whose placeholders its file names).
    placeholder: str | None = None
    # An EventBridge Scheduler expression for functions that run on a schedule, not on demand.
    schedule: str | None = None

    def environment(self, values: dict[str, str]) -> dict[str, str]:
        """The function's environment: exactly the variables its settings model reads."""
        names = [name.upper() for name in self.settings.model_fields]
        return {name: values[name] for name in names if name in values}


API = FunctionSpec("Api", "functions.api.handler.handler", ApiSettings)
FUNCTIONS: tuple[FunctionSpec, ...] = (
    API,
    FunctionSpec(
        "Validate", "functions.requests.handler.validate", WorkflowSettings, "ValidateFunctionArn"
    ),
    FunctionSpec(
        "AwaitConfirmation",
        "functions.requests.handler.keep_token",
        WorkflowSettings,
        "AwaitConfirmationFunctionArn",
    ),
    FunctionSpec("Cease", "functions.cease.handler.handler", WorkflowSettings, "CeaseFunctionArn"),
    FunctionSpec(
        "Resume", "functions.resume.handler.handler", WorkflowSettings, "ResumeFunctionArn"
    ),
    FunctionSpec("Forget", "functions.forget.handler.handler", ForgetSettings, "ForgetFunctionArn"),
    FunctionSpec(
        "Finish", "functions.requests.handler.finish", CompletionSettings, "FinishFunctionArn"
    ),
    FunctionSpec("Export", "functions.export.handler.handler", ExportSettings, "ExportFunctionArn"),
    FunctionSpec(
        "AuditDigest",
        "functions.audit.handler.digest",
        AuditDigestSettings,
        schedule="rate(1 hour)",
    ),
    FunctionSpec(
        "DeadlineCheck",
        "functions.audit.handler.deadline_check",
        DeadlineCheckSettings,
        schedule="cron(0 6 * * ? *)",
    ),
    # Not a workflow step: S3 notifications, the EventBridge schedule and the API start it.
    FunctionSpec(
        "AudienceFilter",
        "functions.audience_filter.handler.handler",
        AudienceFilterSettings,
        schedule="rate(1 hour)",
    ),
    # The audience split state machine's steps, for files beyond one invocation.
    FunctionSpec(
        "AudiencePlan",
        "functions.audience_filter.split_handler.plan",
        AudienceSplitSettings,
        placeholder="AudiencePlanFunctionArn",
    ),
    FunctionSpec(
        "AudienceScreenPart",
        "functions.audience_filter.split_handler.screen_part",
        AudienceSplitSettings,
        placeholder="AudienceScreenPartFunctionArn",
    ),
    FunctionSpec(
        "AudienceCombine",
        "functions.audience_filter.split_handler.combine",
        AudienceCombineSettings,
        placeholder="AudienceCombineFunctionArn",
    ),
    # The re-permission campaign's steps (infra/statemachine/repermission_campaign.asl.json).
    FunctionSpec(
        "CampaignProgress",
        "functions.campaigns.handler.progress",
        TableSettings,
        "CampaignProgressFunctionArn",
    ),
    FunctionSpec(
        "CampaignEnrol",
        "functions.campaigns.handler.enrol",
        CampaignSettings,
        "CampaignEnrolFunctionArn",
    ),
    FunctionSpec(
        "CampaignApply",
        "functions.campaigns.handler.apply_batch",
        CampaignApplySettings,
        "CampaignApplyFunctionArn",
    ),
)
