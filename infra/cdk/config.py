"""What a user sets for one deployment: CDK context (`-c key=value`, or cdk.json) and the
CloudFormation parameters the stack declares for what can change at deploy time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from constructs import Node

DEFAULT_STAGE = "dev"
DEFAULT_CONFIRMATION_TIMEOUT_SECONDS = 7 * 24 * 3600
DEFAULT_LOG_RETENTION_DAYS = 365
DEFAULT_EXPORT_RETENTION_DAYS = 7
DEFAULT_AUDIENCE_RETENTION_DAYS = 30
_STAGE = re.compile(r"^[a-z][a-z0-9-]{0,15}$")


DEFAULT_AUDIT_DIGEST_RETENTION_DAYS = 2557


@dataclass(frozen=True)
class StackConfig:
    # Part of every resource name (privacy-<stage>-...), the stack name and the API stage.
    stage: str = DEFAULT_STAGE
    # An existing Cognito user pool to authorise callers with; without one the stack creates it.
    user_pool_arn: str | None = None
    # Defaults of the AlarmEmail and ConfirmationTimeoutSeconds stack parameters.
    alarm_email: str = ""
    confirmation_timeout_seconds: int = DEFAULT_CONFIRMATION_TIMEOUT_SECONDS
    log_retention_days: int = DEFAULT_LOG_RETENTION_DAYS
    # Export downloads and screened audience files are deleted after these many days.
    export_retention_days: int = DEFAULT_EXPORT_RETENTION_DAYS
    audience_retention_days: int = DEFAULT_AUDIENCE_RETENTION_DAYS
    # How long each digest of the audit chain's head is locked (COMPLIANCE mode): seven years.
    audit_digest_retention_days: int = DEFAULT_AUDIT_DIGEST_RETENTION_DAYS
    # The ISO 3166 region national phone numbers are read as (e.g. GB); checked at cold start.
    default_region: str | None = None
    api_rate_limit: int = 50
    api_burst_limit: int = 100
    # Routes without a token (the OpenAPI document, customers' own links): per-method limits.
    public_rate_limit: int = 5
    public_burst_limit: int = 10
    # RFC 8058 one-click unsubscribe (POST /public/unsubscribe) on its own, higher: mailbox
    # providers POST it for their users in bursts after a large send, and a 429 there is an
    # unsubscribe that did not happen. Its token is verified before anything is read.
    one_click_rate_limit: int = 25
    one_click_burst_limit: int = 50
    # API Gateway writes execution logs only through an account-wide role; an account that has
    # one configured already can leave it alone.
    api_gateway_cloudwatch_role: bool = True
    # Reserved concurrency (a cap, and capacity kept for them) of the two functions an outside
    # caller can drive: the API (its stage's burst limit: a lower cap would turn API Gateway's
    # own throttling into Lambda's 500s) and the audience filter (10 GB, 15 minutes each; a
    # burst of uploads must not take the account's concurrency from the privacy workflow).
    # 0 reserves none (an account whose concurrency quota is below reservations + 100).
    api_reserved_concurrency: int | None = None
    audience_filter_reserved_concurrency: int = 10

    @property
    def reserved_concurrency(self) -> dict[str, int]:
        wanted = {
            "Api": self.api_burst_limit
            if self.api_reserved_concurrency is None
            else self.api_reserved_concurrency,
            "AudienceFilter": self.audience_filter_reserved_concurrency,
        }
        return {name: count for name, count in wanted.items() if count > 0}

    @property
    def prefix(self) -> str:
        return f"privacy-{self.stage}"

    @classmethod
    def from_context(cls, node: Node) -> StackConfig:
        def get(key: str) -> Any:
            value = node.try_get_context(key)
            return None if value in (None, "") else value

        config = cls(
            stage=str(get("stage") or DEFAULT_STAGE),
            user_pool_arn=get("userPoolArn"),
            alarm_email=str(get("alarmEmail") or ""),
            confirmation_timeout_seconds=int(
                get("confirmationTimeoutSeconds") or DEFAULT_CONFIRMATION_TIMEOUT_SECONDS
            ),
            log_retention_days=int(get("logRetentionDays") or DEFAULT_LOG_RETENTION_DAYS),
            export_retention_days=int(get("exportRetentionDays") or DEFAULT_EXPORT_RETENTION_DAYS),
            audience_retention_days=int(
                get("audienceRetentionDays") or DEFAULT_AUDIENCE_RETENTION_DAYS
            ),
            audit_digest_retention_days=int(
                get("auditDigestRetentionDays") or DEFAULT_AUDIT_DIGEST_RETENTION_DAYS
            ),
            default_region=get("defaultRegion"),
            api_rate_limit=int(get("apiRateLimit") or 50),
            api_burst_limit=int(get("apiBurstLimit") or 100),
            public_rate_limit=int(get("publicRateLimit") or 5),
            public_burst_limit=int(get("publicBurstLimit") or 10),
            one_click_rate_limit=int(get("oneClickRateLimit") or 25),
            one_click_burst_limit=int(get("oneClickBurstLimit") or 50),
            api_gateway_cloudwatch_role=_flag(get("apiGatewayCloudWatchRole"), True),
            api_reserved_concurrency=_count(get("apiReservedConcurrency")),
            audience_filter_reserved_concurrency=_count(
                get("audienceFilterReservedConcurrency"), 10
            ),
        )
        if not _STAGE.match(config.stage):
            raise ValueError(
                f"stage {config.stage!r}: use 1-16 lowercase letters, digits or '-', "
                "starting with a letter"
            )
        return config


def _flag(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    return str(value).lower() in ("1", "true", "yes")


def _count(value: Any, default: Any = None) -> Any:
    """A number from the context where 0 is a value, not a missing one."""
    return default if value is None else int(value)
