"""The privacy-request workflow's own steps (infra/statemachine/privacy_request.asl.json):
Validate, AwaitConfirmation (.waitForTaskToken), and Complete / Expire / MarkFailed."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.drp.results import results_url
from functions.requests.dependencies import CompletionStores, ValidatingStores, WorkflowStores
from functions.requests.events import AwaitConfirmationEvent, FinishEvent, StepEvent
from functions.requests.steps import await_confirmation, finish_request, validate_request
from functions.shared.domain import RequestStatus
from functions.shared.observability import metrics
from functions.shared.settings import CompletionSettings, WorkflowSettings
from functions.shared.wiring import lambda_function


@lambda_function(
    StepEvent, WorkflowSettings, ValidatingStores.from_settings, correlation_id_path="requestId"
)
def validate(event: StepEvent, deps: ValidatingStores) -> dict[str, Any]:
    result = validate_request(event.request_id, deps)
    if result["status"] == RequestStatus.REJECTED.value:
        deps.agents.request_ended(event.request_id, deps.requests.get)  # an agent's: denied
    return result


@lambda_function(
    AwaitConfirmationEvent,
    WorkflowSettings,
    WorkflowStores.from_settings,
    correlation_id_path="requestId",
)
def keep_token(event: AwaitConfirmationEvent, deps: WorkflowStores) -> None:
    await_confirmation(event.request_id, event.task_token, deps)


@lambda_function(
    FinishEvent,
    CompletionSettings,
    CompletionStores.from_settings,
    correlation_id_path="requestId",
    publishes_metrics=True,
)
def finish(event: FinishEvent, deps: CompletionStores) -> dict[str, Any]:
    outcome = RequestStatus(event.outcome)
    result = finish_request(event.request_id, outcome, deps, event.error)
    # An authorized agent's request: its agent hears of the outcome (best effort, never fails).
    deps.agents.request_ended(
        event.request_id, deps.requests.get, lambda request: results_url(request, deps)
    )
    metrics.add_metric(name=f"Requests{outcome.title()}", unit=MetricUnit.Count, value=1)
    return result
