"""Applying a confirmed privacy-status change (cease, resume): the mechanism both share."""

from __future__ import annotations

from enum import StrEnum

from functions.shared.domain import (
    CustomerIdentifiers,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    Suppression,
    ensure_request_allowed,
    target_privacy_status,
)
from functions.shared.errors import ConflictError, CustomerNotFoundError, ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher
from functions.shared.observability import logger
from functions.shared.repositories.transitions import CustomerStatusChange
from functions.shared.wiring import Dependencies

WORKFLOW_ACTOR = "workflow"


class ApplyOutcome(StrEnum):
    APPLIED = "APPLIED"
    REJECTED = "REJECTED"


def suppressions_for(
    identifiers: CustomerIdentifiers, reason: str, hasher: KeyedHasher
) -> list[Suppression]:
    subject = hasher.customer(identifiers.customer_id)
    found = [(IdentifierKind.CUSTOMER_ID, identifiers.customer_id)]
    found += [(IdentifierKind.EMAIL, e) for e in identifiers.emails]
    found += [(IdentifierKind.PHONE, p) for p in identifiers.phones]
    unique = set()
    for kind, value in found:
        try:
            unique.add((kind, hasher.hash(kind, value)))
        except ValidationError:
            # A stored phone that is no dialable number cannot match a normalised one either.
            logger.warning("identifier skipped: not normalisable", extra={"kind": kind.value})
    return [
        Suppression(identifier_hash=h, identifier_kind=kind, reason=reason, subject_hash=subject)
        for kind, h in sorted(unique)
    ]


def reject(deps: Dependencies, request_id: str, reason: str) -> None:
    request = deps.repos.requests.get(request_id)
    if request.status.is_terminal:
        return
    deps.repos.transitions.advance(
        request,
        RequestStatus.REJECTED,
        WORKFLOW_ACTOR,
        updates={"rejection_reason": reason},
        details={"reason": reason},
    )


def request_to_apply(
    request_id: str, request_type: RequestType, deps: Dependencies
) -> PrivacyRequest | None:
    """The confirmed request an Apply step works on; None when an earlier attempt applied it
    already (a retry changes nothing)."""
    request = deps.repos.requests.get(request_id)
    if request.type is not request_type:
        raise ValidationError(f"request {request_id} is {request.type}, not {request_type}")
    if request.status in (RequestStatus.APPLIED, RequestStatus.COMPLETED):
        return None
    if request.status is not RequestStatus.CONFIRMED:
        raise ConflictError(f"request {request_id} is {request.status}, not CONFIRMED")
    return request


def status_if_still_allowed(request: PrivacyRequest, deps: Dependencies) -> PrivacyStatus | None:
    """The customer's status, re-checked at apply time (it may have changed since the request
    was confirmed); None when the request can no longer succeed: it then ends REJECTED."""
    try:
        status = deps.repos.customers.privacy_status(request.customer_id)
        ensure_request_allowed(request.type, status)
    except (ConflictError, CustomerNotFoundError) as exc:
        reject(deps, request.request_id, str(exc))
        return None
    return status


def apply_status_change(
    request_id: str, request_type: RequestType, deps: Dependencies
) -> ApplyOutcome:
    """Move a confirmed request's customer to the type's target status, with the suppression-index
    change and the audit entry, in one transaction. A retry after success changes nothing."""
    repos = deps.repos
    request = request_to_apply(request_id, request_type, deps)
    if request is None:
        return ApplyOutcome.APPLIED
    current = status_if_still_allowed(request, deps)
    if current is None:
        return ApplyOutcome.REJECTED

    target = target_privacy_status(request_type)
    subject = deps.hasher.customer(request.customer_id)
    if target is PrivacyStatus.CEASED:
        identifiers = repos.customers.get_identifiers(request.customer_id)
        suppress, unsuppress = suppressions_for(identifiers, "CEASED", deps.hasher), []
    else:
        # Lift exactly what this customer's cease put there, even if their e-mail changed since.
        suppress, unsuppress = [], repos.suppression.entries_of(subject, "CEASED")
    repos.transitions.advance(
        request,
        RequestStatus.APPLIED,
        WORKFLOW_ACTOR,
        customer=CustomerStatusChange(to=target, expected=frozenset({current})),
        suppress=suppress,
        unsuppress=unsuppress,
        details={
            "privacyStatusFrom": current.value,
            "privacyStatusTo": target.value,
            "suppressionEntriesAdded": _count_by_kind(suppress),
            "suppressionEntriesRemoved": _count_by_kind(unsuppress),
        },
    )
    return ApplyOutcome.APPLIED


def _count_by_kind(entries: list[Suppression]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.identifier_kind.value] = counts.get(entry.identifier_kind.value, 0) + 1
    return counts
