"""The audit trail's scheduled functions: the hourly digest of the chain's head to the
Object-Locked bucket, and the daily check of legal deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict

from functions.audit.digests import DigestStore
from functions.audit.service import check_deadlines, take_digest
from functions.requests.dependencies import Stores, tables_of
from functions.shared.observability import logger, metrics
from functions.shared.settings import AuditDigestSettings, DeadlineCheckSettings
from functions.shared.unit_of_work import AuditChain
from functions.shared.wiring import lambda_function


class ScheduledEvent(BaseModel):
    """EventBridge Scheduler's event: nothing in it is needed."""

    model_config = ConfigDict(extra="ignore")


@dataclass
class DigestDependencies:
    chain: AuditChain
    store: DigestStore

    @classmethod
    def of(cls, settings: AuditDigestSettings) -> DigestDependencies:
        return cls(
            chain=AuditChain(tables_of(settings).audit_chain),
            store=DigestStore(settings.audit_digest_bucket, settings.audit_digest_retention_days),
        )


@dataclass
class DeadlineDependencies(Stores):
    warning_days: int

    @classmethod
    def of(cls, settings: DeadlineCheckSettings) -> DeadlineDependencies:
        return cls.build(settings, warning_days=settings.deadline_warning_days)


@lambda_function(ScheduledEvent, AuditDigestSettings, DigestDependencies.of, publishes_metrics=True)
def digest(event: ScheduledEvent, deps: DigestDependencies) -> dict[str, Any]:
    written = take_digest(deps.chain, deps.store)
    if written is None:
        return {"seq": 0}
    metrics.add_metric(name="AuditDigestsWritten", unit=MetricUnit.Count, value=1)
    logger.info("audit digest written", extra={"seq": written.seq, "key": written.key})
    return {"seq": written.seq, "hash": written.hash, "key": written.key}


@lambda_function(
    ScheduledEvent, DeadlineCheckSettings, DeadlineDependencies.of, publishes_metrics=True
)
def deadline_check(event: ScheduledEvent, deps: DeadlineDependencies) -> dict[str, int]:
    report = check_deadlines(deps, deps.warning_days)
    metrics.add_metric(name="RequestsPastDeadline", unit=MetricUnit.Count, value=report.past)
    metrics.add_metric(name="RequestsNearDeadline", unit=MetricUnit.Count, value=report.near)
    logger.info("deadlines checked", extra={"past": report.past, "near": report.near})
    return {"pastDeadline": report.past, "nearDeadline": report.near, "audited": report.audited}
