"""Extending a request's legal deadline, once, within what its jurisdiction allows (GDPR Art.
12(3): by two further months, the data subject told within the first period; CCPA 1798.130:
once, by 45 more days, within the first 45). The request's `jurisdiction`, set at submission
from the customer's profile or the deployment's default, names the regime; the settings'
LEGAL_EXTENSIONS say how far each may go."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

from functions.requests.deadlines import extended_due_at
from functions.requests.factory import SubmissionPolicy
from functions.requests.lifecycle import RequestStores, request_entry
from functions.shared import clock
from functions.shared.caller import Caller
from functions.shared.domain import Extension, PrivacyRequest
from functions.shared.errors import ConflictError
from functions.shared.observability import logger

DEADLINE_EXTENDED = "DEADLINE_EXTENDED"


class ExtendingStores(RequestStores, Protocol):
    policy: SubmissionPolicy


@dataclass(frozen=True)
class ExtensionAsked:
    reason: str
    # Without days, all the jurisdiction allows.
    days: int | None = None


def extend_deadline(
    request_id: str, asked: ExtensionAsked, caller: Caller, deps: ExtendingStores
) -> PrivacyRequest:
    """Move an open request's deadline, once, and audit it in the same unit of work. The
    reason is kept on the request only: it is free text, so it is neither audited nor logged."""
    request = deps.requests.get(request_id)
    if request.status.is_terminal:
        raise ConflictError(
            f"the request is {request.status.value}; only an open request's deadline can be "
            "extended"
        )
    if request.extension is not None:
        raise ConflictError("the deadline of this request has been extended already (once only)")
    if not request.due_at or not request.jurisdiction:
        raise ConflictError("this request has no legal deadline to extend")
    now = clock.now()
    previous = clock.parse(request.due_at)
    if previous <= now:
        raise ConflictError("the deadline has passed: it can be extended only before it passes")
    extensions = dict(deps.policy.legal_extensions)
    due = extended_due_at(previous, request.jurisdiction, extensions, asked.days)
    extension = Extension(
        previous_due_at=request.due_at,
        due_at=clock.iso(due, "seconds"),
        extended_by=caller.username,
        extended_at=clock.iso(now),
        reason=asked.reason,
    )
    work = deps.work()
    work.add(deps.requests.extend(request, extension))
    work.record(
        request_entry(
            request,
            request.status,
            caller.username,
            {
                "previousDueAt": extension.previous_due_at,
                "dueAt": extension.due_at,
                "jurisdiction": request.jurisdiction,
                "extendedBy": caller.username,
            },
            deps.hasher,
            at=extension.extended_at,
            event_type=DEADLINE_EXTENDED,
        )
    )
    work.commit()
    logger.info("deadline extended", extra={"requestId": request_id})
    return replace(
        request, due_at=extension.due_at, updated_at=extension.extended_at, extension=extension
    )
