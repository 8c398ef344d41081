"""What every Apply step shares: the confirmed request it works on, the re-check of the
customer's status, the status change itself (cease, resume), and the handler's shape."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit

from functions.requests.events import StepEvent
from functions.requests.lifecycle import WORKFLOW_ACTOR, RequestStores, advance, reject
from functions.shared.customers import StatusChange
from functions.shared.domain import (
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    Suppression,
    ensure_request_allowed,
    target_privacy_status,
)
from functions.shared.errors import ConflictError, CustomerNotFoundError, ValidationError
from functions.shared.observability import logger, metrics
from functions.shared.settings import Settings
from functions.shared.suppression import count_by_kind
from functions.shared.wiring import LambdaFunction, lambda_function

D = TypeVar("D", bound=RequestStores)
# The index entries a status change adds and lifts.
SuppressionChange = tuple[list[Suppression], list[Suppression]]
S = TypeVar("S", bound=Settings)


class ApplyOutcome(StrEnum):
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"


def apply_step(
    service: Callable[[str, D], ApplyOutcome], settings: type[S], build: Callable[[S], D]
) -> LambdaFunction[StepEvent, D]:
    """The Lambda handler of an Apply step: the request id in, one service, its outcome out."""

    @lambda_function(
        StepEvent, settings, build, correlation_id_path="requestId", publishes_metrics=True
    )
    def handler(event: StepEvent, deps: D) -> dict[str, Any]:
        outcome = service(event.request_id, deps)
        metrics.add_metric(name=f"Apply{outcome.title()}", unit=MetricUnit.Count, value=1)
        logger.info("apply step done", extra={"requestId": event.request_id, "outcome": outcome})
        return {"outcome": outcome.value}

    return handler


def request_to_apply(
    request_id: str, request_type: RequestType, deps: RequestStores
) -> PrivacyRequest | None:
    """The confirmed request an Apply step works on; None when an earlier attempt applied it
    already (a retry changes nothing)."""
    request = deps.requests.get(request_id)
    if request.type is not request_type:
        raise ValidationError(f"request {request_id} is {request.type}, not {request_type}")
    if request.status in (RequestStatus.APPLIED, RequestStatus.COMPLETED):
        return None
    if request.status is not RequestStatus.CONFIRMED:
        raise ConflictError(f"request {request_id} is {request.status}, not CONFIRMED")
    return request


def status_if_still_allowed(request: PrivacyRequest, deps: RequestStores) -> PrivacyStatus | None:
    """The customer's status, re-checked at apply time (it may have changed since the request
    was confirmed); None when the request can no longer succeed: it then ends REJECTED."""
    try:
        status = deps.customers.privacy_status(request.customer_id)
        ensure_request_allowed(request.type, status)
    except (ConflictError, CustomerNotFoundError) as exc:
        reject(deps, request.request_id, str(exc))
        return None
    return status


def apply_status_change(
    request_id: str,
    request_type: RequestType,
    deps: RequestStores,
    index_change: Callable[[PrivacyRequest], SuppressionChange],
) -> ApplyOutcome:
    """Move a confirmed request's customer to the type's target status: APPLIED, the customer's
    new status and the suppression-index change `index_change` names, in one transaction
    conditioned on the prior states. A retry after success changes nothing."""
    request = request_to_apply(request_id, request_type, deps)
    if request is None:
        return ApplyOutcome.APPLIED
    current = status_if_still_allowed(request, deps)
    if current is None:
        return ApplyOutcome.REJECTED
    target = target_privacy_status(request_type)
    change = StatusChange(to=target, expected=frozenset({current}))
    suppress, lift = index_change(request)

    def writes(at: str) -> list[Any]:
        return [
            deps.customers.change_status(request.customer_id, change, request.request_id, at),
            deps.customers.exists(request.customer_id),
            *deps.suppression.changes(suppress, lift, at, request.request_id),
        ]

    advance(
        deps,
        request,
        RequestStatus.APPLIED,
        WORKFLOW_ACTOR,
        with_writes=writes,
        details={
            "privacyStatusFrom": current.value,
            "privacyStatusTo": target.value,
            "suppressionEntriesAdded": count_by_kind(suppress),
            "suppressionEntriesRemoved": count_by_kind(lift),
        },
    )
    return ApplyOutcome.APPLIED
