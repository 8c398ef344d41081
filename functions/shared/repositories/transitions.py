"""The one write path for state changes.

A request's status change, the customer's privacy-status change, the suppression-index change and
the audit entry that records it are written in one DynamoDB transaction, conditioned on the
request's expected prior status. A retry or duplicate delivery therefore either finds the change
already made (and writes nothing) or makes it exactly once."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared.campaigns import CAMPAIGN_RECORD_TYPE
from functions.shared.consents import CONSENT_RECORD_TYPE, ConsentChange
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
    AuditChainItem,
    AuditEntryItem,
    CustomerItem,
    HistoryEntryAttribute,
    PrivacyRequestItem,
    SuppressionItem,
)
from functions.shared.repositories.audit_chain import MAX_ATTEMPTS, AuditChain
from functions.shared.repositories.campaigns import campaign_key
from functions.shared.repositories.consents import (
    PendingConfirmation,
    consent_key,
    consent_log_key,
    consent_token_key,
)
from functions.shared.repositories.customers import (
    PRIVACY,
    PROFILE,
    open_request_key,
    tombstone_key,
)
from functions.shared.repositories.requests import OPEN_DEADLINE_QUEUE, RequestRepository
from functions.shared.repositories.suppression import suppression_item

DEADLINE_ACTOR = "deadline-check"
# A campaign's audit entries name no customer: their subject is the campaign.
CAMPAIGN_SUBJECT = "campaign:"
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
    audit_chain: type[AuditChainItem]


class _Transaction:
    """Collects the operations of one transaction with what a failed condition on each means.

    Audit entries are linked into the chain at commit: the entries and the head's advance go in
    the same transaction as the change they record. When another writer advanced the head first,
    only the head's condition fails; the entries are linked to the new head and the whole
    transaction is tried again (the product's own conditions are checked afresh each time)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._ops: list[tuple[Callable[[TransactWrite], None], Callable[[], DomainError]]] = []
        self._chain: AuditChain | None = None
        self._entries: list[tuple[AuditEntryItem, Callable[[], DomainError]]] = []

    def add(
        self, op: Callable[[TransactWrite], None], on_conflict: Callable[[], DomainError]
    ) -> None:
        self._ops.append((op, on_conflict))

    def add_audit_entry(
        self, chain: AuditChain, entry: AuditEntryItem, on_conflict: Callable[[], DomainError]
    ) -> None:
        self._chain = chain
        self._entries.append((entry, on_conflict))

    def commit(self) -> None:
        chain = self._chain
        head = chain.head() if chain is not None else None
        for attempt in itertools.count():
            recorder: _Recorder | None = None
            try:
                with TransactWrite(connection=self._connection) as tw:
                    recorder = _Recorder(tw)
                    for op, _ in self._ops:
                        op(recorder)  # type: ignore[arg-type]  # it stands in for the TransactWrite
                    if chain is not None and head is not None:
                        entries = [entry for entry, _ in self._entries]
                        new_head = chain.link(head, entries)
                        for entry in entries:
                            recorder.save(entry, condition=type(entry).entry_id.does_not_exist())
                        chain.advance(recorder, head, new_head, entries[-1].entry_id)
            except TransactWriteError as exc:
                assert recorder is not None
                reasons = recorder.by_operation(exc.cancellation_reasons or [])
                codes = [reason.code if reason else None for reason in reasons]
                conflicts = [c for _, c in self._ops] + [c for _, c in self._entries]
                for on_conflict, code in zip(conflicts, codes, strict=False):
                    if code == "ConditionalCheckFailed":
                        raise on_conflict() from None
                head_reason = reasons[len(conflicts)] if len(reasons) > len(conflicts) else None
                lost_race = head_reason is not None and head_reason.code in (
                    "ConditionalCheckFailed",
                    *_RETRYABLE,
                )
                if chain is not None and lost_race:
                    if attempt + 1 >= MAX_ATTEMPTS:
                        raise TransientError("the audit chain is busy; retry") from None
                    assert head_reason is not None
                    chain.backoff(attempt)
                    fresh = chain.head_from_failure(head_reason.raw_item)
                    head = fresh if fresh is not None else chain.head()
                    continue
                if any(code in _RETRYABLE for code in codes):
                    raise TransientError("the change collided with another; retry") from None
                raise
            if chain is not None:
                chain.committed(len(self._entries))
            return


# pynamodb sends a transaction's operations grouped by kind, in this order, whatever order they
# were added in; DynamoDB answers cancellation reasons in the order sent.
_KIND_ORDER = ("condition_check", "delete", "save", "update")


class _Recorder:
    """Stands in for TransactWrite and notes the kind of each operation added, so that the
    cancellation reasons can be matched to the operations in the order they were added."""

    def __init__(self, tw: TransactWrite) -> None:
        self._tw = tw
        self._kinds: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tw, name)
        if name not in _KIND_ORDER:
            return method

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self._kinds.append(name)
            return method(*args, **kwargs)

        return recorded

    def by_operation(self, reasons: list[Any]) -> list[Any]:
        sent = sorted(range(len(self._kinds)), key=lambda i: _KIND_ORDER.index(self._kinds[i]))
        matched: list[Any] = [None] * len(self._kinds)
        for position, index in enumerate(sent):
            if position < len(reasons):
                matched[index] = reasons[position]
        return matched


class Transitions:
    def __init__(self, tables: Tables, hasher: KeyedHasher, connection: Connection | None = None):
        self._t = tables
        self._hasher = hasher
        self._connection = connection or Connection()
        self._requests = RequestRepository(tables.requests)
        # One chain per process: its counters show how often appends lost the race.
        self.audit_chain = AuditChain(tables.audit_chain)

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
            due_at=request.due_at,
            jurisdiction=request.jurisdiction,
            deadline_queue=OPEN_DEADLINE_QUEUE if request.due_at else None,
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
            actions.append(t.requests.deadline_queue.remove())
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
        self._change_suppressions(tx, suppress, unsuppress, now, request.request_id)
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
        actions: list[Action] = [
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

    def record_deadline(
        self, request: PrivacyRequest, event_type: str, details: Mapping[str, Any]
    ) -> bool:
        """An open request past or near its legal deadline, audited once per kind. False when
        that was recorded already or the request has moved on since it was read."""
        t = self._t
        tx = _Transaction(self._connection)
        tx.add(
            lambda tw: tw.condition_check(
                t.requests,
                request.request_id,
                condition=t.requests.status == request.status.value,
            ),
            lambda: ConflictError(f"privacy request {request.request_id} has moved on"),
        )
        self._add_audit(tx, request, request.status, DEADLINE_ACTOR, details, event_type=event_type)
        try:
            tx.commit()
        except ConflictError:
            return False
        return True

    def record_consent(
        self,
        change: ConsentChange,
        expected_change_id: str | None,
        *,
        suppress: Iterable[Suppression] = (),
        unsuppress: Iterable[Suppression] = (),
        new_token: tuple[str, str] | None = None,
        used_token: PendingConfirmation | None = None,
        details: Mapping[str, Any],
    ) -> None:
        """A consent change with its history item, its suppression change, its double opt-in
        token (a new one, or the one it uses up) and its audit entry, in one transaction,
        conditioned on the consent being as it was read (`expected_change_id`)."""
        t = self._t
        choice, customer_id = change.choice, change.choice.customer_id
        tx = _Transaction(self._connection)
        fields = {
            "topic": choice.topic,
            "channel": choice.channel,
            "granted": change.granted,
            "status": change.status.value,
            "at": change.at,
            "source": choice.source,
            "changedBy": change.actor,
            "changeId": change.change_id,
            **({"brand": choice.brand} if choice.brand else {}),
        }
        current = t.customers(
            customer_id,
            consent_key(choice.key),
            data=fields,
            request_id=change.change_id,
            updated_at=change.at,
        )
        unchanged = (
            t.customers.request_id.does_not_exist()
            if expected_change_id is None
            else t.customers.request_id == expected_change_id
        )
        tx.add(
            lambda tw: tw.save(current, condition=unchanged),
            lambda: ConflictError("the consent changed meanwhile; read it again and retry"),
        )
        log = t.customers(
            customer_id,
            consent_log_key(change.at, change.change_id),
            data={
                **fields,
                **({"previousStatus": change.previous.value} if change.previous else {}),
            },
            updated_at=change.at,
        )
        tx.add(
            lambda tw: tw.save(log, condition=t.customers.sk.does_not_exist()),
            lambda: ConflictError("this consent change was already recorded"),
        )
        tx.add(
            lambda tw: tw.condition_check(
                t.customers, customer_id, PROFILE, condition=t.customers.sk.exists()
            ),
            lambda: CustomerNotFoundError(customer_id),
        )
        if new_token is not None:
            token_hash, expires_at = new_token
            pending = t.customers(
                customer_id,
                consent_token_key(token_hash),
                data={**fields, "consentKey": choice.key, "expiresAt": expires_at},
                request_id=change.change_id,
                updated_at=change.at,
            )
            tx.add(
                lambda tw: tw.save(pending, condition=t.customers.sk.does_not_exist()),
                lambda: ConflictError("confirmation token collision; retry"),
            )
        if used_token is not None:
            used = t.customers(
                customer_id,
                consent_token_key(used_token.token_hash),
                data={
                    "changeId": used_token.change_id,
                    "confirmedBy": change.change_id,
                    "consentKey": used_token.consent_key,
                    "topic": choice.topic,
                    "channel": choice.channel,
                    "expiresAt": used_token.expires_at,
                    "usedAt": change.at,
                    **({"campaignId": used_token.campaign_id} if used_token.campaign_id else {}),
                },
                request_id=used_token.change_id,
                updated_at=change.at,
            )
            tx.add(
                lambda tw: tw.save(used, condition=t.customers.updated_at == used_token.version),
                lambda: ConflictError("this confirmation token has already been used"),
            )
            if used_token.campaign_id:
                # The campaign's live count of confirmations, with the confirmation itself.
                campaign = t.customers(*campaign_key(used_token.campaign_id))
                tx.add(
                    lambda tw: tw.update(
                        campaign,
                        actions=[t.customers.data["confirmed"].add(1)],
                        condition=t.customers.sk.exists(),
                    ),
                    lambda: ConflictError("the token's campaign does not exist"),
                )
        self._change_suppressions(tx, suppress, unsuppress, change.at, change.change_id)
        self._add_audit(
            tx,
            None,
            RequestStatus.COMPLETED,
            change.actor,
            details,
            at=change.at,
            event_type=f"CONSENT_{'CONFIRMED' if used_token else change.status.value}",
            subject_hash=self._hasher.customer(customer_id),
            record=(change.change_id, CONSENT_RECORD_TYPE),
        )
        tx.commit()

    def change_campaign(
        self,
        campaign_id: str,
        event_type: str,
        actor: str,
        details: Mapping[str, Any],
        *,
        create: Mapping[str, Any] | None = None,
        changes: Mapping[str, Any] | None = None,
        expected: Mapping[str, Any] | None = None,
        failed: bool = False,
        occurrence: str | None = None,
    ) -> bool:
        """A re-permission campaign's state change (`create` its item, or set `changes` on it
        where its fields are as `expected`) with its audit entry, in one transaction. False when
        it was made already (a retry) or the campaign has moved on."""
        t = self._t
        now = utc_now()
        tx = _Transaction(self._connection)
        key = campaign_key(campaign_id)
        if create is not None:
            item = t.customers(*key, data=dict(create), updated_at=now)
            tx.add(
                lambda tw: tw.save(item, condition=t.customers.sk.does_not_exist()),
                lambda: ConflictError(f"campaign {campaign_id} exists already"),
            )
        else:
            actions = [
                t.customers.data[name].set(value)
                if value is not None
                else t.customers.data[name].remove()
                for name, value in (changes or {}).items()
            ]
            actions.append(t.customers.updated_at.set(now))
            condition = t.customers.sk.exists()
            for name, value in (expected or {}).items():
                condition &= t.customers.data[name] == value
            tx.add(
                lambda tw: tw.update(t.customers(*key), actions=actions, condition=condition),
                lambda: ConflictError(f"campaign {campaign_id} has moved on"),
            )
        self._add_audit(
            tx,
            None,
            RequestStatus.FAILED if failed else RequestStatus.COMPLETED,
            actor,
            details,
            at=now,
            event_type=event_type,
            subject_hash=f"{CAMPAIGN_SUBJECT}{campaign_id}",
            occurrence=occurrence,
            record=(campaign_id, CAMPAIGN_RECORD_TYPE),
        )
        try:
            tx.commit()
        except ConflictError:
            return False
        return True

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

    def _change_suppressions(
        self,
        tx: _Transaction,
        suppress: Iterable[Suppression],
        unsuppress: Iterable[Suppression],
        at: str,
        cause_id: str,
    ) -> None:
        """Index entries added and lifted inside the change's transaction."""
        for s in suppress:
            tx.add(
                partial(_save, suppression_item(self._t.suppression, s, at, cause_id)),
                lambda: ConflictError("suppression"),
            )
        for s in unsuppress:
            tx.add(
                partial(_delete, self._t.suppression(s.identifier_hash, s.entry)),
                lambda: ConflictError("suppression"),
            )

    def _add_audit(
        self,
        tx: _Transaction,
        request: PrivacyRequest | None,
        status: RequestStatus,
        actor: str,
        details: Mapping[str, Any],
        at: str | None = None,
        event_type: str | None = None,
        subject_hash: str | None = None,
        occurrence: str | None = None,
        record: tuple[str, str] | None = None,
    ) -> None:
        """`request` is None for a change that belongs to no privacy request (a consent change):
        `record` then names it (its id and type) and `subject_hash` its customer."""
        t = self._t
        event_type = event_type or audit_event_type(status)
        if request is not None:
            record_id, record_type = request.request_id, request.type.value
            subject = subject_hash or self._hasher.customer(request.customer_id)
            seq = len(request.history) + (0 if status is request.status else 1)
        else:
            assert record is not None and subject_hash is not None
            (record_id, record_type), subject, seq = record, subject_hash, 0
        # One entry per event and subject: a duplicate delivery fails this key's condition.
        suffix = f"#{subject[:16]}" if subject_hash else ""
        if occurrence:
            suffix += f"#{occurrence}"
        item = t.audit(
            f"{record_id}#{event_type}{suffix}",
            at=at or utc_now(),
            seq=seq,
            request_id=record_id,
            request_type=record_type,
            event_type=event_type,
            actor=actor,
            outcome=_outcome(status),
            customer_hash=subject,
            details=dict(details),
        )
        # Every entry goes through here: linked into the chain when the transaction commits.
        tx.add_audit_entry(
            self.audit_chain,
            item,
            lambda: ConflictError(f"{event_type} was already recorded for this request"),
        )


def _outcome(status: RequestStatus) -> str:
    if status.is_terminal and status is not RequestStatus.COMPLETED:
        return status.value
    return "SUCCEEDED"


def _history(entry: HistoryEntry) -> HistoryEntryAttribute:
    return HistoryEntryAttribute(status=entry.status.value, at=entry.at, actor=entry.actor)


def _save(item: Model, tw: TransactWrite) -> None:
    tw.save(item)


def _delete(item: Model, tw: TransactWrite) -> None:
    tw.delete(item)
