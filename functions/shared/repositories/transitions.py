"""The one write path for state changes.

A request's status change, the customer's privacy-status change, the suppression-index change and
the audit entry that records it are written in one DynamoDB transaction, conditioned on the
request's expected prior status. A retry or duplicate delivery therefore either finds the change
already made (and writes nothing) or makes it exactly once."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.shared.domain import (
    HistoryEntry,
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    Suppression,
    utc_now,
)
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    DomainError,
    TransientError,
)
from functions.shared.identifiers import KeyedHasher
from functions.shared.models import (
    AuditEntryItem,
    CustomerItem,
    HistoryEntryAttribute,
    PrivacyRequestItem,
    SuppressionItem,
)
from functions.shared.repositories.customers import (
    PRIVACY,
    PROFILE,
    open_request_key,
    tombstone_key,
)
from functions.shared.repositories.requests import RequestRepository

_EVENT_TYPES = {RequestStatus.AWAITING_CONFIRMATION: "SUBMITTED"}
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


def audit_event_type(status: RequestStatus) -> str:
    return _EVENT_TYPES.get(status, status.value)


@dataclass(frozen=True)
class CustomerStatusChange:
    to: PrivacyStatus
    expected: frozenset[PrivacyStatus]


@dataclass(frozen=True)
class Tables:
    customers: type[CustomerItem]
    requests: type[PrivacyRequestItem]
    audit: type[AuditEntryItem]
    suppression: type[SuppressionItem]


class _Transaction:
    """Collects the operations of one transaction with what a failed condition on each means."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._ops: list[tuple[Callable[[TransactWrite], None], Callable[[], DomainError]]] = []

    def add(
        self, op: Callable[[TransactWrite], None], on_conflict: Callable[[], DomainError]
    ) -> None:
        self._ops.append((op, on_conflict))

    def commit(self) -> None:
        try:
            with TransactWrite(connection=self._connection) as tw:
                for op, _ in self._ops:
                    op(tw)
        except TransactWriteError as exc:
            reasons = exc.cancellation_reasons or []
            codes = [reason.code if reason else None for reason in reasons]
            if any(code in _RETRYABLE for code in codes):
                raise TransientError("the change collided with another; retry") from None
            for (_, on_conflict), code in zip(self._ops, codes, strict=False):
                if code == "ConditionalCheckFailed":
                    raise on_conflict() from None
            raise


class Transitions:
    def __init__(self, tables: Tables, hasher: KeyedHasher, connection: Connection | None = None):
        self._t = tables
        self._hasher = hasher
        self._connection = connection or Connection()
        self._requests = RequestRepository(tables.requests)

    def create(self, request: PrivacyRequest, details: Mapping[str, Any]) -> None:
        """Write a new request with its open-request lock and its SUBMITTED audit entry."""
        t = self._t
        tx = _Transaction(self._connection)
        item = t.requests(
            request.request_id,
            customer_id=request.customer_id,
            type=request.type.value,
            status=request.status.value,
            submitted_by=request.submitted_by,
            identity_verified_by=request.identity_verified_by,
            identity_verified_at=request.identity_verified_at,
            created_at=request.created_at,
            updated_at=request.updated_at,
            confirm_by=request.confirm_by,
            reason=request.reason,
            cascade=request.cascade,
            history=[_history(h) for h in request.history],
        )
        tx.add(
            lambda tw: tw.save(item, condition=t.requests.request_id.does_not_exist()),
            lambda: ConflictError(f"privacy request {request.request_id} already exists"),
        )
        tx.add(
            lambda tw: tw.condition_check(
                t.customers, request.customer_id, PROFILE, condition=t.customers.sk.exists()
            ),
            lambda: CustomerNotFoundError(request.customer_id),
        )
        lock = t.customers(
            request.customer_id,
            open_request_key(request.type.value),
            request_id=request.request_id,
            updated_at=request.created_at,
        )
        tx.add(
            lambda tw: tw.save(lock, condition=t.customers.sk.does_not_exist()),
            lambda: ConflictError(
                f"a {request.type.value} request is already open for this customer"
            ),
        )
        self._add_audit(tx, request, request.status, request.submitted_by, details)
        tx.commit()

    def advance(
        self,
        request: PrivacyRequest,
        to: RequestStatus,
        actor: str,
        *,
        updates: Mapping[str, Any] | None = None,
        customer: CustomerStatusChange | None = None,
        suppress: Iterable[Suppression] = (),
        unsuppress: Iterable[Suppression] = (),
        details: Mapping[str, Any] | None = None,
        forgotten: str | None = None,
    ) -> PrivacyRequest:
        """Move `request` from its current status to `to`, with everything that goes with it.

        Answers the request as it now stands. When the request already reached `to` (a retry or
        a duplicate delivery), nothing is written and the stored request is answered."""
        t = self._t
        now = utc_now()
        updates = dict(updates or {})
        tx = _Transaction(self._connection)
        entry = HistoryEntry(status=to, at=now, actor=actor)
        actions = [
            t.requests.status.set(to.value),
            t.requests.updated_at.set(now),
            t.requests.history.set(t.requests.history.append([_history(entry)])),
            *(getattr(t.requests, name).set(value) for name, value in updates.items()),
        ]
        if to.is_terminal:
            actions.append(t.requests.task_token.remove())
        tx.add(
            lambda tw: tw.update(
                t.requests(request.request_id),
                actions=actions,
                condition=t.requests.status == request.status.value,
            ),
            lambda: ConflictError(
                f"privacy request {request.request_id} is no longer {request.status.value}"
            ),
        )
        if customer is not None:
            self._add_customer_change(tx, request, customer, now)
        if forgotten is not None:
            self._add_tombstone(tx, request, forgotten, now)
        for s in suppress:
            self._add_suppression(tx, request, s, now)
        for s in unsuppress:
            key = t.suppression(s.identifier_hash, s.entry)
            tx.add(lambda tw, key=key: tw.delete(key), lambda: ConflictError("suppression"))
        if to.is_terminal:
            lock = t.customers(request.customer_id, open_request_key(request.type.value))
            tx.add(
                lambda tw: tw.delete(
                    lock,
                    condition=(
                        t.customers.request_id.does_not_exist()
                        | (t.customers.request_id == request.request_id)
                    ),
                ),
                lambda: ConflictError("the open-request marker belongs to another request"),
            )
        self._add_audit(tx, request, to, actor, details or {}, at=now)
        try:
            tx.commit()
        except ConflictError:
            current = self._requests.get(request.request_id)
            if current.status is to:
                return current
            raise
        return replace(
            request,
            status=to,
            updated_at=now,
            history=(*request.history, entry),
            task_token=None if to.is_terminal else request.task_token,
            **{name: value for name, value in updates.items() if hasattr(request, name)},
        )

    def _add_customer_change(
        self, tx: _Transaction, request: PrivacyRequest, change: CustomerStatusChange, now: str
    ) -> None:
        t = self._t
        actions = [
            t.customers.privacy_status.set(change.to.value),
            t.customers.request_id.set(request.request_id),
            t.customers.updated_at.set(now),
            t.customers.ceased_at.set(now)
            if change.to is PrivacyStatus.CEASED
            else t.customers.ceased_at.remove(),
        ]
        expected = [s.value for s in change.expected]
        condition = t.customers.privacy_status.is_in(*expected)
        if PrivacyStatus.ACTIVE in change.expected:
            # A customer who never had a privacy request has no PRIVACY item: they are ACTIVE.
            condition = condition | t.customers.privacy_status.does_not_exist()
        tx.add(
            lambda tw: tw.update(
                t.customers(request.customer_id, PRIVACY), actions=actions, condition=condition
            ),
            lambda: ConflictError("the customer's privacy status changed meanwhile"),
        )
        if change.to is not PrivacyStatus.FORGOTTEN:
            tx.add(
                lambda tw: tw.condition_check(
                    t.customers, request.customer_id, PROFILE, condition=t.customers.sk.exists()
                ),
                lambda: CustomerNotFoundError(request.customer_id),
            )

    def record_forgotten_relative(
        self, request: PrivacyRequest, customer_hash: str, details: Mapping[str, Any]
    ) -> None:
        """A contact forgotten by cascade: their tombstone and their own audit entry, once."""
        now = utc_now()
        tx = _Transaction(self._connection)
        self._add_tombstone(tx, request, customer_hash, now)
        self._add_audit(
            tx,
            request,
            request.status,
            "workflow",
            details,
            at=now,
            event_type="FORGOTTEN_BY_CASCADE",
            subject_hash=customer_hash,
        )
        with contextlib.suppress(ConflictError):  # recorded by an earlier attempt of this step
            tx.commit()

    def record_event(
        self,
        request: PrivacyRequest,
        event_type: str,
        actor: str,
        details: Mapping[str, Any],
        occurrence: str | None = None,
    ) -> None:
        """An audit entry that goes with no state change (an export file produced, a download
        link issued). Once per request and event, or per `occurrence` when the event may happen
        many times; a retry that finds its entry written changes nothing."""
        tx = _Transaction(self._connection)
        self._add_audit(
            tx,
            request,
            request.status,
            actor,
            details,
            event_type=event_type,
            occurrence=occurrence,
        )
        with contextlib.suppress(ConflictError):  # recorded by an earlier attempt
            tx.commit()

    def _add_tombstone(
        self, tx: _Transaction, request: PrivacyRequest, customer_hash: str, now: str
    ) -> None:
        t = self._t
        item = t.customers(
            *tombstone_key(customer_hash),
            privacy_status=PrivacyStatus.FORGOTTEN.value,
            request_id=request.request_id,
            updated_at=now,
        )
        tx.add(
            lambda tw: tw.save(item, condition=t.customers.sk.does_not_exist()),
            lambda: ConflictError("the customer has been forgotten already"),
        )

    def _add_suppression(
        self, tx: _Transaction, request: PrivacyRequest, s: Suppression, now: str
    ) -> None:
        item = self._t.suppression(
            s.identifier_hash,
            s.entry,
            reason=s.reason,
            identifier_kind=s.identifier_kind.value,
            subject_hash=s.subject_hash,
            at=now,
            request_id=request.request_id,
        )
        tx.add(lambda tw: tw.save(item), lambda: ConflictError("suppression"))

    def _add_audit(
        self,
        tx: _Transaction,
        request: PrivacyRequest,
        status: RequestStatus,
        actor: str,
        details: Mapping[str, Any],
        at: str | None = None,
        event_type: str | None = None,
        subject_hash: str | None = None,
        occurrence: str | None = None,
    ) -> None:
        t = self._t
        event_type = event_type or audit_event_type(status)
        subject = subject_hash or self._hasher.customer(request.customer_id)
        # One entry per event and subject: a duplicate delivery fails this key's condition.
        suffix = f"#{subject[:16]}" if subject_hash else ""
        if occurrence:
            suffix += f"#{occurrence}"
        item = t.audit(
            f"{request.request_id}#{event_type}{suffix}",
            at=at or utc_now(),
            seq=len(request.history) + (0 if status is request.status else 1),
            request_id=request.request_id,
            request_type=request.type.value,
            event_type=event_type,
            actor=actor,
            outcome=_outcome(status),
            customer_hash=subject,
            details=dict(details),
        )
        tx.add(
            lambda tw: tw.save(item, condition=t.audit.entry_id.does_not_exist()),
            lambda: ConflictError(f"{event_type} was already recorded for this request"),
        )


def _outcome(status: RequestStatus) -> str:
    if status.is_terminal and status is not RequestStatus.COMPLETED:
        return status.value
    return "SUCCEEDED"


def _history(entry: HistoryEntry) -> HistoryEntryAttribute:
    return HistoryEntryAttribute(status=entry.status.value, at=entry.at, actor=entry.actor)
