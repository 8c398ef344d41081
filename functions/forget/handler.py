"""Apply step of FORGET (state ApplyForget, a loop of bounded chunks) and, before a failing
FORGET ends (state KeepOutBeforeFailing), the keep-out that no failure may skip."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit

from functions.forget.service import ensure_kept_out, forget_customer
from functions.requests.dependencies import ForgetStores
from functions.requests.events import ForgetEvent
from functions.shared.observability import logger, metrics
from functions.shared.settings import ForgetSettings
from functions.shared.wiring import lambda_function


@lambda_function(
    ForgetEvent,
    ForgetSettings,
    ForgetStores.for_forget,
    correlation_id_path="requestId",
    publishes_metrics=True,
)
def handler(event: ForgetEvent, deps: ForgetStores) -> dict[str, Any]:
    if event.failing:
        return {"keptOut": ensure_kept_out(event.request_id, deps)}
    outcome = forget_customer(event.request_id, deps)
    metrics.add_metric(name=f"Apply{outcome.title()}", unit=MetricUnit.Count, value=1)
    logger.info("apply step done", extra={"requestId": event.request_id, "outcome": outcome})
    return {"outcome": outcome.value}
