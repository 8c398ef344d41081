"""A privacy request's state changes, each one unit of work: the request's own write, what goes
with it (the open-request marker, the customer's status, suppression entries, a tombstone, as
the caller composes them) and the audit entry that records it, committed together."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, Protocol

from functions.requests.repository import RequestRepository
from functions.shared.audit_entries import AuditEntry, audit_entry
from functions.shared.clock import utc_now
from functions.shared.customers import CustomerRepository
from functions.shared.domain import HistoryEntry, PrivacyRequest, RequestStatus
from functions.shared.errors import ConflictError
from functions.shared.identifiers import KeyedHasher
from functions.shared.suppression import SuppressionRepository
from functions.shared.unit_of_work import UnitOfWork

WORKFLOW_ACTOR = "workflow"
_EVENT_TYPES = {RequestStatus.AWAITING_CONFIRMATION: "SUBMITTED"}


class RequestStores(Protocol):
    """What every part of a request's life reads and writes."""

    hasher: KeyedHasher
    customers: CustomerRepository
    requests: RequestRepository
    suppression: SuppressionRepository

    def work(self) -> UnitOfWork: ...


def audit_event_type(status: RequestStatus) -> str:
    return _EVENT_TYPES.get(status, status.value)


def request_entry(
    request: PrivacyRequest,
    status: RequestStatus,
    actor: str,
    details: Mapping[str, Any],
    hasher: KeyedHasher,
    *,
    at: str | None = None,
    event_type: str | None = None,
    subject_hash: str | None = None,
    occurrence: str | None = None,
) -> AuditEntry:
    """The audit entry of `request` reaching (or, for an event, being in) `status`."""
    terminal_failure = status.is_terminal and status is not RequestStatus.COMPLETED
    return audit_entry(
        request.request_id,
        request.type.value,
        event_type or audit_event_type(status),
        actor=actor,
        subject_hash=subject_hash or hasher.customer(request.customer_id),
        at=at or utc_now(),
        details=details,
        outcome=status.value if terminal_failure else "SUCCEEDED",
        seq=len(request.history) + (0 if status is request.status else 1),
        distinct_subject=subject_hash is not None,
        occurrence=occurrence,
    )


def create_request(
    deps: RequestStores, request: PrivacyRequest, details: Mapping[str, Any]
) -> None:
    """Write a new request with its open-request marker and its SUBMITTED audit entry."""
    work = deps.work()
    work.add(
        deps.requests.new(request),
        deps.customers.exists(request.customer_id),
        deps.customers.open_request(request),
    )
    work.record(request_entry(request, request.status, request.submitted_by, details, deps.hasher))
    work.commit()


def advance(
    deps: RequestStores,
    request: PrivacyRequest,
    to: RequestStatus,
    actor: str,
    *,
    updates: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    with_writes: Callable[[str], Iterable[Any]] = lambda at: (),
) -> PrivacyRequest:
    """Move `request` from its current status to `to`, with the writes `with_writes(at)` adds.

    Answers the request as it now stands. When the request already reached `to` (a retry or a
    duplicate delivery), nothing is written and the stored request is answered."""
    at = utc_now()
    updates = dict(updates or {})
    entry = HistoryEntry(status=to, at=at, actor=actor)
    work = deps.work()
    work.add(deps.requests.advance(request, entry, updates), *with_writes(at))
    if to.is_terminal:
        work.add(deps.customers.close_request(request))
    work.record(request_entry(request, to, actor, details or {}, deps.hasher, at=at))
    try:
        work.commit()
    except ConflictError:
        current = deps.requests.get(request.request_id)
        if current.status is to:
            return current
        raise
    return replace(
        request,
        status=to,
        updated_at=at,
        history=(*request.history, entry),
        task_token=None if to.is_terminal else request.task_token,
        **{name: value for name, value in updates.items() if hasattr(request, name)},
    )


def record_event(
    deps: RequestStores,
    request: PrivacyRequest,
    event_type: str,
    actor: str,
    details: Mapping[str, Any],
    *,
    occurrence: str | None = None,
    subject_hash: str | None = None,
    with_writes: Iterable[Any] = (),
) -> bool:
    """An audit entry that goes with no change of the request's status (an export file
    produced, a download link issued, a deadline passed). Once per request and event, or per
    `occurrence`; False when an earlier attempt recorded it (or a write's condition failed)."""
    work = deps.work()
    work.add(*with_writes)
    work.record(
        request_entry(
            request,
            request.status,
            actor,
            details,
            deps.hasher,
            event_type=event_type,
            occurrence=occurrence,
            subject_hash=subject_hash,
        )
    )
    with contextlib.suppress(ConflictError):
        work.commit()
        return True
    return False


def reject(deps: RequestStores, request_id: str, reason: str) -> None:
    request = deps.requests.get(request_id)
    if request.status.is_terminal:
        return
    advance(
        deps,
        request,
        RequestStatus.REJECTED,
        WORKFLOW_ACTOR,
        updates={"rejection_reason": reason},
        details={"reason": reason},
    )
