"""Steps 'Complete', 'Expire' and 'MarkFailed': close the request with its outcome and audit it."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.domain import RequestStatus
from functions.shared.observability import logger, metrics
from functions.shared.settings import CompletionSettings
from functions.shared.step_events import FinishEvent
from functions.shared.wiring import dependencies
from functions.workflow.services import finish_request


@metrics.log_metrics
@logger.inject_lambda_context(correlation_id_path="requestId")
@event_parser(model=FinishEvent)
def handler(event: FinishEvent, context: LambdaContext) -> dict[str, Any]:
    outcome = RequestStatus(event.outcome)
    result = finish_request(
        event.request_id, outcome, dependencies(CompletionSettings), event.error
    )
    metrics.add_metric(name=f"Requests{outcome.title()}", unit=MetricUnit.Count, value=1)
    return result
