"""The Lambda handler shape every Apply step shares: parse the step event, call one service."""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from functions.shared.errors import TransientError
from functions.shared.observability import logger, metrics
from functions.shared.services.status_change import ApplyOutcome
from functions.shared.settings import WorkflowSettings
from functions.shared.step_events import StepEvent
from functions.shared.wiring import Dependencies, dependencies

ApplyService = Callable[[str, Dependencies], ApplyOutcome]


def apply_step_handler(
    service: ApplyService, settings: type[WorkflowSettings] = WorkflowSettings
) -> Callable[[dict[str, Any], LambdaContext], Any]:
    @metrics.log_metrics
    @logger.inject_lambda_context(correlation_id_path="requestId")
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
        step = parse(event=event, model=StepEvent)
        try:
            outcome = service(step.request_id, dependencies(settings))
        except (PynamoDBException, BotoCoreError, ClientError) as exc:
            # Every apply step is idempotent, so an AWS hiccup half-way is worth a retry: the
            # state machine retries on this error's name.
            raise TransientError(f"{type(exc).__name__} during apply; safe to retry") from exc
        metrics.add_metric(name=f"Apply{outcome.title()}", unit=MetricUnit.Count, value=1)
        logger.info("apply step done", extra={"requestId": step.request_id, "outcome": outcome})
        return {"outcome": outcome.value}

    return handler
