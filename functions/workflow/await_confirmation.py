"""Step 'AwaitConfirmation' (.waitForTaskToken): keep the token until the agent answers."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from functions.shared.observability import logger
from functions.shared.settings import WorkflowSettings
from functions.shared.step_events import AwaitConfirmationEvent
from functions.shared.wiring import dependencies
from functions.workflow.services import await_confirmation


@logger.inject_lambda_context(correlation_id_path="requestId")
@event_parser(model=AwaitConfirmationEvent)
def handler(event: AwaitConfirmationEvent, context: LambdaContext) -> None:
    await_confirmation(event.request_id, event.task_token, dependencies(WorkflowSettings))
