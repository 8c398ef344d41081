"""Step 'Validate': re-check the request against the customer's current status."""

from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger
from functions.shared.settings import WorkflowSettings
from functions.shared.step_events import StepEvent
from functions.shared.wiring import dependencies
from functions.workflow.services import validate_request


@logger.inject_lambda_context(correlation_id_path="requestId")
@event_parser(model=StepEvent)
def handler(event: StepEvent, context: LambdaContext) -> dict[str, Any]:
    return validate_request(event.request_id, dependencies(WorkflowSettings))
