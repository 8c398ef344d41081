"""What the API does, one verb each. Handlers parse and map; these decide."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.api.auth import Caller
from functions.api.schemas import SubmitRequestBody, customer_privacy, request_summary
from functions.shared.deadlines import DEFAULT_JURISDICTION, DEFAULT_PERIODS, due_at, period_for
from functions.shared.domain import (
    HistoryEntry,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    ensure_request_allowed,
    processing_permissions,
    pseudonym,
    utc_now,
)
from functions.shared.errors import ConflictError, ValidationError
from functions.shared.observability import logger
from functions.shared.repositories.workflow import CANCELLED_ERROR
from functions.shared.wiring import Dependencies


@dataclass(frozen=True)
class Submission:
    customer_id: str
    caller: Caller
    body: SubmitRequestBody
    confirmation_timeout_seconds: int
    default_jurisdiction: str = DEFAULT_JURISDICTION
    legal_deadlines: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PERIODS))


def submit_request(submission: Submission, deps: Dependencies) -> dict[str, Any]:
    """Record the request (AWAITING_CONFIRMATION, with the agent's identity attestation) and start
    its workflow. Checked first, so a request that cannot succeed writes nothing."""
    body, caller = submission.body, submission.caller
    if not body.identity_verified:
        raise ValidationError(
            "identityVerified must be true: an agent must attest that the customer's identity "
            "was verified before a privacy request is submitted"
        )
    if body.cascade and body.type is not RequestType.FORGET:
        raise ValidationError("cascade applies to FORGET requests only")
    status = deps.repos.customers.privacy_status(submission.customer_id)
    ensure_request_allowed(body.type, status)

    now = datetime.now(UTC)
    at = utc_now()
    confirm_by = now + timedelta(seconds=submission.confirmation_timeout_seconds)
    jurisdiction = (
        deps.repos.customers.jurisdiction(submission.customer_id) or submission.default_jurisdiction
    )
    due = due_at(now, period_for(jurisdiction, submission.legal_deadlines))
    request = PrivacyRequest(
        request_id=uuid.uuid4().hex,
        customer_id=submission.customer_id,
        type=body.type,
        status=RequestStatus.AWAITING_CONFIRMATION,
        submitted_by=caller.username,
        identity_verified_by=caller.username,
        identity_verified_at=at,
        created_at=at,
        updated_at=at,
        confirm_by=_timestamp(confirm_by),
        reason=body.reason,
        cascade=body.cascade,
        history=(
            HistoryEntry(RequestStatus.RECEIVED, at, caller.username),
            HistoryEntry(RequestStatus.AWAITING_CONFIRMATION, at, caller.username),
        ),
        due_at=_timestamp(due),
        jurisdiction=jurisdiction,
    )
    deps.repos.transitions.create(
        request,
        details={
            "submittedBy": caller.username,
            "identityVerifiedBy": caller.username,
            "dueAt": request.due_at,
            "jurisdiction": jurisdiction,
        },
    )
    try:
        deps.workflow.start(request.request_id)
    except Exception:
        logger.exception("workflow did not start", extra={"requestId": request.request_id})
        deps.repos.transitions.advance(
            request, RequestStatus.FAILED, "api", details={"error": "WorkflowNotStarted"}
        )
        raise
    logger.info("request submitted", extra={"requestId": request.request_id})
    return request_summary(request)


def ensure_not_forgotten(customer_id: str, deps: Dependencies) -> None:
    if deps.repos.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN:
        ensure_request_allowed(RequestType.FORGET, PrivacyStatus.FORGOTTEN)


def confirm_request(request_id: str, caller: Caller, deps: Dependencies) -> PrivacyRequest:
    """The agent's explicit 'Yes'. Confirming twice changes nothing the second time."""
    request = deps.repos.requests.get(request_id)
    if request.status is RequestStatus.AWAITING_CONFIRMATION:
        if datetime.fromisoformat(request.confirm_by) <= datetime.now(UTC):
            raise ConflictError("the confirmation window for this request has passed")
        at = utc_now()
        deps.repos.transitions.advance(
            request,
            RequestStatus.CONFIRMED,
            caller.username,
            updates={"confirmed_by": caller.username, "confirmed_at": at},
            details={"confirmedBy": caller.username},
        )
    elif request.status not in (
        RequestStatus.CONFIRMED,
        RequestStatus.APPLIED,
        RequestStatus.COMPLETED,
    ):
        raise ConflictError(f"the request is {request.status.value} and cannot be confirmed")
    # Read again: the workflow may have stored its token after our first read.
    request = deps.repos.requests.get(request_id)
    if request.status is RequestStatus.CONFIRMED and request.task_token:
        deps.workflow.resume(request.task_token, {"confirmedBy": request.confirmed_by})
    return request


def cancel_request(request_id: str, caller: Caller, deps: Dependencies) -> PrivacyRequest:
    request = deps.repos.requests.get(request_id)
    if request.status is RequestStatus.AWAITING_CONFIRMATION:
        deps.repos.transitions.advance(
            request,
            RequestStatus.CANCELLED,
            caller.username,
            details={"cancelledBy": caller.username},
        )
    elif request.status is not RequestStatus.CANCELLED:
        raise ConflictError(
            f"the request is {request.status.value}; only a request awaiting confirmation "
            "can be cancelled"
        )
    request = deps.repos.requests.get(request_id)
    if request.task_token:
        deps.workflow.abort(request.task_token, CANCELLED_ERROR, "the agent cancelled the request")
    return request


def describe_customer_privacy(customer_id: str, deps: Dependencies) -> dict[str, Any]:
    privacy = deps.repos.customers.get_privacy(customer_id)
    if privacy.privacy_status is PrivacyStatus.FORGOTTEN:
        # Their requests are kept under their pseudonym only.
        customer_id = pseudonym(deps.hasher.customer(customer_id))
    latest = deps.repos.requests.latest_for_customer(customer_id)
    return customer_privacy(privacy, latest.status_text if latest else None)


def describe_permissions(customer_id: str, topic: str | None, deps: Dependencies) -> dict[str, Any]:
    """Which purposes may be processed now. With a topic, marketing also needs a granted consent
    for that topic on some channel."""
    privacy = deps.repos.customers.get_privacy(customer_id)
    permissions = processing_permissions(privacy.privacy_status)
    answer: dict[str, Any] = {
        "customerId": customer_id,
        "privacyStatus": privacy.privacy_status.value,
    }
    if topic is not None:
        consented = any(c.granted and c.topic == topic for c in privacy.consents)
        for purpose in ("marketing", "audiences", "campaigns"):
            permissions[purpose] = permissions[purpose] and consented
        answer["topic"] = {"name": topic, "consented": consented}
    answer["permissions"] = permissions
    return answer


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
