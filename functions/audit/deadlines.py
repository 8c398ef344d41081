"""Scheduled (daily): requests open past or near their legal deadline, as metrics and audit."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger, metrics
from functions.shared.services.audit_trail import check_deadlines
from functions.shared.settings import DeadlineCheckSettings
from functions.shared.wiring import dependencies, settings_of


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    settings = settings_of(DeadlineCheckSettings)
    report = check_deadlines(dependencies(DeadlineCheckSettings), settings.deadline_warning_days)
    metrics.add_metric(name="RequestsPastDeadline", unit=MetricUnit.Count, value=report.past)
    metrics.add_metric(name="RequestsNearDeadline", unit=MetricUnit.Count, value=report.near)
    logger.info("deadlines checked", extra={"past": report.past, "near": report.near})
    return {"pastDeadline": report.past, "nearDeadline": report.near, "audited": report.audited}
