"""Resume a FORGET that ended FAILED: the same request, the same plan, a new execution that goes
straight to the erasure loop (validation and confirmation were done; the people planned are
kept out already). Audited as RETRIED, once per attempt."""

from __future__ import annotations

from typing import Protocol

from functions.forget.keep_out import erasure_plan
from functions.requests.lifecycle import RequestStores, advance
from functions.requests.workflow import RequestWorkflow
from functions.shared.caller import Caller
from functions.shared.domain import PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import ConflictError
from functions.shared.observability import logger

RETRIED = "RETRIED"


class RetryingStores(RequestStores, Protocol):
    workflow: RequestWorkflow


def retry_request(request_id: str, caller: Caller, deps: RetryingStores) -> PrivacyRequest:
    request = deps.requests.get(request_id)
    if request.status is not RequestStatus.FAILED:
        raise ConflictError(
            f"the request is {request.status.value}; only a FAILED request can be retried"
        )
    if request.type is not RequestType.FORGET:
        raise ConflictError("only a FORGET can be retried; submit a new request instead")
    if erasure_plan(request) is None:
        raise ConflictError(
            "this forget failed before anyone was kept out: there is nothing to continue; "
            "submit a new FORGET"
        )
    attempt = 1 + sum(h.status is RequestStatus.FAILED for h in request.history)
    retried = advance(
        deps,
        request,
        RequestStatus.CONFIRMED,
        caller.username,
        details={"attempt": attempt, "retriedBy": caller.username},
        event_type=RETRIED,
        occurrence=str(attempt),
    )
    try:
        deps.workflow.restart(request_id, attempt, request.type.value)
    except Exception:
        logger.exception("workflow did not restart", extra={"requestId": request_id})
        advance(
            deps,
            retried,
            RequestStatus.FAILED,
            "api",
            details={"error": "WorkflowNotStarted"},
            occurrence=str(attempt),
        )
        raise
    logger.info("request retried", extra={"requestId": request_id, "attempt": attempt})
    return retried
