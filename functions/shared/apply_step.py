"""The Lambda handler shape every Apply step shares: parse the step event, call one service."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger, metrics
from functions.shared.services.status_change import ApplyOutcome
from functions.shared.settings import WorkflowSettings
from functions.shared.step_events import StepEvent
from functions.shared.wiring import Dependencies, dependencies

ApplyService = Callable[[str, Dependencies], ApplyOutcome]


def apply_step_handler(service: ApplyService) -> Callable[[dict[str, Any], LambdaContext], Any]:
    @metrics.log_metrics
    @logger.inject_lambda_context(correlation_id_path="requestId")
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
        step = parse(event=event, model=StepEvent)
        outcome = service(step.request_id, dependencies(WorkflowSettings))
        metrics.add_metric(name=f"Apply{outcome.title()}", unit=MetricUnit.Count, value=1)
        logger.info("apply step done", extra={"requestId": step.request_id, "outcome": outcome})
        return {"outcome": outcome.value}

    return handler
