"""The DRP status object (spec 3.03) of a data rights request, derived from the product's own
privacy request where there is one (a deletion or an access request), so that the queue, the
workflow and the agent always see the same state; from the stored DRP state otherwise (a
consent exercise, a request denied before anything was submitted)."""

from __future__ import annotations

from typing import Any

from functions.drp.repository import DrpRequest
from functions.export.download_links import export_file_until
from functions.shared.domain import PrivacyRequest, RequestStatus

IN_PROGRESS = "in_progress"
FULFILLED = "fulfilled"
REVOKED = "revoked"
DENIED = "denied"
FINAL = frozenset({FULFILLED, REVOKED, DENIED, "expired"})

# What a product status is to the agent. CEASE/RESUME never come from DRP.
_OPEN = {
    RequestStatus.RECEIVED,
    RequestStatus.AWAITING_CONFIRMATION,
    RequestStatus.CONFIRMED,
    RequestStatus.APPLIED,
}


def agent_actor(agent_id: str) -> str:
    """Who a DRP request is submitted, confirmed or revoked by: the agent, never the person."""
    return f"drp:{agent_id}"


def _derived(link: DrpRequest, request: PrivacyRequest) -> tuple[str, str | None, str | None]:
    status = request.status
    if status in _OPEN:
        details = None
        if status is RequestStatus.AWAITING_CONFIRMATION:
            details = "received; awaiting the business's confirmation"
        return IN_PROGRESS, None, details
    if status is RequestStatus.FAILED:
        # Not final for the business: staff retry a failed request from where it stopped.
        return IN_PROGRESS, None, "processing was interrupted; the business is resuming it"
    if status is RequestStatus.COMPLETED:
        return FULFILLED, None, None
    if status is RequestStatus.CANCELLED:
        by_agent = any(
            h.status is RequestStatus.CANCELLED and h.actor == agent_actor(link.agent_id)
            for h in request.history
        )
        if by_agent:
            return REVOKED, None, None
        return DENIED, "other", "declined by the business"
    if status is RequestStatus.EXPIRED:
        return DENIED, "other", "not confirmed by the business within its confirmation window"
    # REJECTED: the person's standing no longer allows it (e.g. forgotten meanwhile).
    return DENIED, "other", "the request can no longer be carried out"


def status_object(
    link: DrpRequest, request: PrivacyRequest | None, results_url: str | None = None
) -> dict[str, Any]:
    """The spec's Exercise Status object. `expected_by` is the request's legal deadline (after
    any extension) while it is in progress; `results_url` only when the caller signed one."""
    answer: dict[str, Any] = {"request_id": link.request_id, "received_at": link.received_at}
    if link.agent_request_id is not None:
        answer["agent_request_id"] = link.agent_request_id
    if request is not None and link.product_request:
        status, reason, details = _derived(link, request)
        if status == IN_PROGRESS and request.due_at:
            answer["expected_by"] = request.due_at
        if request.extension is not None and status == IN_PROGRESS:
            details = "the deadline was extended as the regime allows"
        if status == FULFILLED and results_url:
            answer["results_url"] = results_url
            until = export_file_until(request)
            if until:
                answer["expires_at"] = until
    else:
        status = link.status or IN_PROGRESS
        reason, details = link.reason, link.processing_details
        if status in (IN_PROGRESS, FULFILLED):
            answer["expected_by"] = link.received_at
    answer["status"] = status
    if reason:
        answer["reason"] = reason
    if details:
        answer["processing_details"] = details
    return answer
