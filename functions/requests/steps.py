"""The workflow's own steps: validate, wait for the agent's confirmation, finish."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

from functions.requests.lifecycle import WORKFLOW_ACTOR, RequestStores, advance, reject
from functions.requests.workflow import CANCELLED_ERROR, CLOSED_ERROR, Callbacks
from functions.shared import clock
from functions.shared.domain import (
    PrivacyRequest,
    RequestStatus,
    RequestType,
    ensure_request_allowed,
    pseudonym,
)
from functions.shared.errors import ConflictError, CustomerNotFoundError
from functions.shared.events import Publisher
from functions.shared.identifiers import PSEUDONYM_PREFIX

COMPLETED_DETAIL_TYPE = "PrivacyRequestCompleted"


class CallbackStores(RequestStores, Protocol):
    workflow: Callbacks


class AnnouncingStores(RequestStores, Protocol):
    events: Publisher


def validate_request(request_id: str, deps: RequestStores) -> dict[str, Any]:
    """Check again, at execution time, what the API checked at submission: the customer may have
    changed since (ceased by another request, forgotten). An invalid request ends REJECTED."""
    request = deps.requests.get(request_id)

    def answer(status: RequestStatus, proceed: bool) -> dict[str, Any]:
        # Every key, always: the state machine's ResultSelector names each of them.
        return {
            "requestId": request_id,
            "type": request.type.value,
            "status": status.value,
            "proceed": proceed,
            "confirmationTimeoutSeconds": _seconds_until(request.confirm_by),
        }

    # The agent may confirm (or cancel) before this first step runs.
    if request.status not in (RequestStatus.AWAITING_CONFIRMATION, RequestStatus.CONFIRMED):
        return answer(request.status, proceed=False)
    try:
        status = deps.customers.privacy_status(request.customer_id)
        ensure_request_allowed(request.type, status)
    except (ConflictError, CustomerNotFoundError) as exc:
        reject(deps, request_id, str(exc))
        return answer(RequestStatus.REJECTED, proceed=False)
    return answer(request.status, proceed=True)


def await_confirmation(request_id: str, task_token: str, deps: CallbackStores) -> None:
    """Keep the callback token on the request. If the agent answered before the token arrived,
    pass the answer on now: whichever of the two writes comes second sends it."""
    request = deps.requests.keep_task_token(request_id, task_token)
    if request.status in (RequestStatus.CONFIRMED, RequestStatus.APPLIED):
        deps.workflow.resume(task_token, {"confirmedBy": request.confirmed_by})
    elif request.status is RequestStatus.CANCELLED:
        deps.workflow.abort(task_token, CANCELLED_ERROR, "the agent cancelled the request")
    elif request.status is not RequestStatus.AWAITING_CONFIRMATION:
        deps.workflow.abort(task_token, CLOSED_ERROR, f"the request is {request.status.value}")


_FINISH_FROM = {
    RequestStatus.COMPLETED: {RequestStatus.APPLIED},
    RequestStatus.EXPIRED: {RequestStatus.AWAITING_CONFIRMATION, RequestStatus.CONFIRMED},
    RequestStatus.FAILED: {
        RequestStatus.RECEIVED,
        RequestStatus.AWAITING_CONFIRMATION,
        RequestStatus.CONFIRMED,
        RequestStatus.APPLIED,
    },
}


def finish_request(
    request_id: str, outcome: RequestStatus, deps: AnnouncingStores, error: dict[str, Any] | None
) -> dict[str, Any]:
    """Close the request with its outcome and audit it; announce a completion."""
    request = deps.requests.get(request_id)
    completing = outcome is RequestStatus.COMPLETED and request.status is RequestStatus.APPLIED
    if completing and request.type is RequestType.FORGET:
        request = _announce_and_pseudonymise(request, deps)
    if request.status in _FINISH_FROM[outcome]:
        updates: dict[str, Any] = {}
        details: dict[str, Any] = {}
        if outcome is RequestStatus.COMPLETED:
            updates["completed_at"] = clock.utc_now()
        if error:
            # The error name only: a cause text may quote data we must not keep.
            details["error"] = str(error.get("Error", "Unknown"))
        request = advance(deps, request, outcome, WORKFLOW_ACTOR, updates=updates, details=details)
    if request.status is RequestStatus.COMPLETED and not _pseudonymised(request):
        # Also on a retry that finds the request closed: at least once.
        _announce(request, deps)
    return {"requestId": request_id, "status": request.status.value}


def _announce_and_pseudonymise(request: PrivacyRequest, deps: AnnouncingStores) -> PrivacyRequest:
    """A forget reads COMPLETED only once the person's id is gone from the request; downstream
    systems are told before that, while the id is still here, so that they can forget them too
    (the event is not stored). A retry finds the pseudonym and tells nobody twice."""
    if _pseudonymised(request):
        return request
    completed = replace(request, status=RequestStatus.COMPLETED, completed_at=clock.utc_now())
    _announce(completed, deps)
    stand_in = pseudonym(deps.hasher.customer(request.customer_id))
    deps.requests.pseudonymise(request.request_id, stand_in)
    return deps.requests.get(request.request_id)


def _pseudonymised(request: PrivacyRequest) -> bool:
    return request.customer_id.startswith(PSEUDONYM_PREFIX)


def _announce(request: PrivacyRequest, deps: AnnouncingStores) -> None:
    """At least once: consumers de-duplicate on requestId."""
    detail = {
        "requestId": request.request_id,
        "customerId": request.customer_id,
        "type": request.type.value,
        "status": request.status.value,
        "completedAt": request.completed_at,
    }
    deps.events.publish(COMPLETED_DETAIL_TYPE, detail)


def _seconds_until(deadline: str) -> int:
    remaining = clock.parse(deadline) - clock.now()
    return max(1, int(remaining.total_seconds()))
