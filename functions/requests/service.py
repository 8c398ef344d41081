"""What agents and the compliance team do with privacy requests, one verb each: submit, confirm,
cancel, list the queue, and read a request or a customer's privacy standing (extending a
deadline: extension.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any, Protocol

from functions.export.download_links import export_file_until
from functions.forget.keep_out import check_cascade
from functions.requests.factory import SubmissionPolicy, new_request
from functions.requests.lifecycle import RequestStores, advance, create_request
from functions.requests.queue import QueueFilter, cursor_from_key, cursor_key, plan
from functions.requests.workflow import CANCELLED_ERROR, RequestWorkflow
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import (
    CustomerPrivacy,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    ensure_request_allowed,
    processing_permissions,
    pseudonym,
)
from functions.shared.errors import ConflictError, CustomerNotFoundError, ValidationError
from functions.shared.observability import logger
from functions.shared.page_tokens import PageTokens, query_of

QUEUE_LISTING = "privacy-requests"


class SubmittingStores(RequestStores, Protocol):
    workflow: RequestWorkflow
    policy: SubmissionPolicy


@dataclass(frozen=True)
class Submission:
    customer_id: str
    type: RequestType
    identity_verified: bool
    reason: str | None = None
    cascade: bool = False
    # An authorized agent's request (functions/drp): the id the agent is answered with, and the
    # regime it was sent under (it sets the legal deadline), whatever the profile says.
    request_id: str | None = None
    jurisdiction: str | None = None


def submit_request(
    submission: Submission, caller: Caller, deps: SubmittingStores
) -> PrivacyRequest:
    """Record the request (AWAITING_CONFIRMATION, with the agent's identity attestation) and start
    its workflow. Checked first, so a request that cannot succeed writes nothing."""
    if not submission.identity_verified:
        raise ValidationError(
            "identityVerified must be true: an agent must attest that the customer's identity "
            "was verified before a privacy request is submitted"
        )
    if submission.cascade and submission.type is not RequestType.FORGET:
        raise ValidationError("cascade applies to FORGET requests only")
    customer_id = submission.customer_id
    ensure_request_allowed(submission.type, deps.customers.privacy_status(customer_id))
    if submission.cascade:
        check_cascade(customer_id, deps)
    request = new_request(
        submission.request_id or uuid.uuid4().hex,
        customer_id,
        submission.type,
        submitted_by=caller.username,
        identity_verified_by=caller.username,
        jurisdiction=submission.jurisdiction or deps.customers.jurisdiction(customer_id),
        policy=deps.policy,
        reason=submission.reason,
        cascade=submission.cascade,
    )
    create_request(
        deps,
        request,
        {
            "submittedBy": caller.username,
            "identityVerifiedBy": caller.username,
            "dueAt": request.due_at,
            "jurisdiction": request.jurisdiction,
        },
    )
    try:
        deps.workflow.start(request.request_id)
    except Exception:
        logger.exception("workflow did not start", extra={"requestId": request.request_id})
        advance(deps, request, RequestStatus.FAILED, "api", details={"error": "WorkflowNotStarted"})
        if request.type is RequestType.FORGET:
            # A failed forget keeps no clear id (functions/requests/steps.py: finish_request).
            deps.requests.pseudonymise(
                request.request_id, pseudonym(deps.hasher.customer(customer_id))
            )
        raise
    logger.info("request submitted", extra={"requestId": request.request_id})
    return request


def ensure_not_forgotten(customer_id: str, deps: RequestStores) -> None:
    if deps.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN:
        ensure_request_allowed(RequestType.FORGET, PrivacyStatus.FORGOTTEN)


def confirm_request(request_id: str, caller: Caller, deps: SubmittingStores) -> PrivacyRequest:
    """The agent's explicit 'Yes'. Confirming twice changes nothing the second time."""
    request = deps.requests.get(request_id)
    if request.status is RequestStatus.AWAITING_CONFIRMATION:
        if clock.has_passed(request.confirm_by):
            raise ConflictError("the confirmation window for this request has passed")
        advance(
            deps,
            request,
            RequestStatus.CONFIRMED,
            caller.username,
            updates={"confirmed_by": caller.username, "confirmed_at": clock.utc_now()},
            details={"confirmedBy": caller.username},
        )
    elif request.status not in (
        RequestStatus.CONFIRMED,
        RequestStatus.APPLIED,
        RequestStatus.COMPLETED,
    ):
        raise ConflictError(f"the request is {request.status.value} and cannot be confirmed")
    # Read again: the workflow may have stored its token after our first read.
    request = deps.requests.get(request_id)
    if request.status is RequestStatus.CONFIRMED and request.task_token:
        deps.workflow.resume(request.task_token, {"confirmedBy": request.confirmed_by})
    return request


def cancel_request(request_id: str, caller: Caller, deps: SubmittingStores) -> PrivacyRequest:
    request = deps.requests.get(request_id)
    # The cancellation ends the request and so removes its token: keep the one read here.
    task_token = request.task_token
    if request.status is RequestStatus.AWAITING_CONFIRMATION:
        advance(
            deps,
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
    request = deps.requests.get(request_id)
    task_token = request.task_token or task_token
    if task_token:
        deps.workflow.abort(task_token, CANCELLED_ERROR, "the agent cancelled the request")
    return request


@dataclass(frozen=True)
class RequestView:
    request: PrivacyRequest
    # A completed export says whether its file can still be fetched (the link itself is issued
    # by POST .../download-link); a FORGET with cascade awaiting confirmation names the related
    # contacts it will erase, so the agent who confirms knows whom.
    file_until: str | None = None
    cascade_to: tuple[str, ...] | None = None


def describe_request(request_id: str, deps: RequestStores) -> RequestView:
    request = deps.requests.get(request_id)
    cascade_to = None
    if (
        request.type is RequestType.FORGET
        and request.cascade
        and request.status in (RequestStatus.AWAITING_CONFIRMATION, RequestStatus.CONFIRMED)
    ):
        cascade_to = tuple(
            r.customer_id for r in deps.customers.relations(request.customer_id) if r.is_parent
        )
    return RequestView(request, export_file_until(request), cascade_to)


def requests_kept_under(customer_id: str, deps: RequestStores) -> str:
    """The id a customer's requests are kept under: a forgotten customer's are under their
    pseudonym. An id we know nothing of is looked up as it is (and finds nothing)."""
    try:
        status = deps.customers.privacy_status(customer_id)
    except CustomerNotFoundError:
        return customer_id
    if status is PrivacyStatus.FORGOTTEN:
        return pseudonym(deps.hasher.customer(customer_id))
    return customer_id


@dataclass(frozen=True)
class QueueView:
    requests: list[PrivacyRequest]
    next_token: str | None


def list_requests(
    where: QueueFilter, limit: int, next_token: str | None, deps: RequestStores
) -> QueueView:
    """A page of the request queue, newest first; `next_token` continues a listing of exactly
    these filters (a sealed page token, functions/shared/page_tokens.py), and is answered only
    while more remain."""
    if where.customer_id is not None:
        where = replace(where, customer_id=requests_kept_under(where.customer_id, deps))
    tokens = PageTokens(deps.hasher)
    query = query_of(QUEUE_LISTING, **where.bound())
    cursor = cursor_from_key(tokens.open(next_token, query), plan(where))
    page = deps.requests.queue(where, limit, cursor, clock.iso(clock.now(), "seconds"))
    token = tokens.seal(cursor_key(page.cursor), query) if page.cursor else None
    return QueueView(page.requests, token)


@dataclass(frozen=True)
class PrivacyView:
    privacy: CustomerPrivacy
    current_status_text: str | None


def describe_customer_privacy(customer_id: str, deps: RequestStores) -> PrivacyView:
    privacy = deps.customers.get_privacy(customer_id)
    if privacy.privacy_status is PrivacyStatus.FORGOTTEN:
        # Their requests are kept under their pseudonym only.
        customer_id = pseudonym(deps.hasher.customer(customer_id))
    latest = deps.requests.latest_for_customer(customer_id)
    return PrivacyView(privacy, latest.status_text if latest else None)


def describe_permissions(
    customer_id: str, topic: str | None, deps: RequestStores
) -> dict[str, Any]:
    """Which purposes may be processed now. With a topic, marketing also needs a granted consent
    for that topic on some channel."""
    privacy = deps.customers.get_privacy(customer_id)
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
