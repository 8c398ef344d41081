"""The re-permission campaign's Lambda steps: Enrol, ApplyBatch (the Map's iteration) and
Progress (begin, next page, record page, complete, fail). Thin: parse, call one service."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

from functions.repermission import service
from functions.repermission.events import ApplyBatchEvent, CampaignEvent, ProgressEvent
from functions.shared.errors import TransientError
from functions.shared.observability import logger
from functions.shared.settings import CampaignApplySettings, CampaignSettings, WorkflowSettings
from functions.shared.wiring import dependencies, settings_of

Handler = Callable[[dict[str, Any], LambdaContext], dict[str, Any]]


def _step(function: Handler) -> Handler:
    @wraps(function)
    @logger.inject_lambda_context(correlation_id_path="campaignId")
    def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        try:
            return function(event, context)
        except (PynamoDBException, BotoCoreError, ClientError) as exc:
            # Every step is idempotent: the state machine retries on this error's name.
            raise TransientError(f"{type(exc).__name__} in a campaign step; safe to retry") from exc

    return handler


@_step
def enrol(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = CampaignEvent.model_validate(event)
    return service.enrol_page(step.campaign_id, dependencies(CampaignSettings))


@_step
def apply_batch(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = ApplyBatchEvent.model_validate(event)
    return service.apply_batch(
        step.campaign_id,
        step.customers,
        dependencies(CampaignApplySettings),
        settings_of(CampaignApplySettings),
    )


@_step
def progress(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = ProgressEvent.model_validate(event)
    deps = dependencies(WorkflowSettings)
    if step.action == "begin":
        return service.begin(step.campaign_id, deps)
    if step.action == "next_page":
        return service.next_page(step.campaign_id, deps)
    if step.action == "record_page":
        customer_ids = [c["customerId"] for batch in step.batches for c in batch]
        return service.record_page(
            step.campaign_id,
            step.page,
            step.cursor,
            [a.get("tally", {}) for a in step.applied],
            customer_ids,
            deps,
        )
    if step.action == "complete":
        return service.complete(step.campaign_id, deps)
    return service.fail(step.campaign_id, step.error, deps)
