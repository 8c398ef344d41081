"""The one unit of work: the only code that builds a DynamoDB transaction, maps its cancellation
reasons to domain errors, retries, and appends audit entries to the hash chain.

Each aggregate's repository contributes the writes for its own items (a `TableWrite`: how to add
it to a TransactWrite, and what a failed condition on it means); services compose them, add the
audit entries that record the change, and commit. A retry or duplicate delivery therefore either
finds the change made (a condition fails: the domain error says which) or makes it exactly once.

Audit entries are linked into the chain at commit: each gets its position, its hash and its keyed
hash (a KMS MAC, `EntryMacs`), and the entries and the head's advance go in the same transaction
as the change they record. When another writer advanced the head first, only the
head's condition fails; the entries are linked to the new head and the whole transaction is tried
again (every condition of the change is checked afresh each time). A commit that carries the chain
past a multiple of N asks for a digest of the head (`Milestones`)."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from functions.shared.audit_chain import ChainHead, EntryMacs, entry_hash
from functions.shared.audit_entries import AuditEntry
from functions.shared.aws_errors import domain_errors
from functions.shared.errors import ConflictError, DomainError, TransientError
from functions.shared.models import AuditChainItem, AuditEntryItem

CHAIN_ID = "audit"
# Two writers that read the same head: one commits, the other re-links to the new head. Jitter
# spreads the retries of many writers; past the last attempt the caller's own retry takes over.
MAX_ATTEMPTS = 60
BACKOFF_BASE_SECONDS = 0.002
BACKOFF_CAP_SECONDS = 0.1
_RETRYABLE = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
# pynamodb sends a transaction's operations grouped by kind, in this order, whatever order they
# were added in; DynamoDB answers cancellation reasons in the order sent.
_KIND_ORDER = ("condition_check", "delete", "save", "update")


@dataclass(frozen=True)
class TableWrite:
    """One write of a transaction, as a repository contributes it."""

    add: Callable[[TransactWrite], None]
    conflict: Callable[[], DomainError]


class Milestones(Protocol):
    """Told of every commit's move of the head, so that a digest is taken every N entries."""

    def passed(self, before: int, after: int) -> None: ...


class UnitOfWork(Protocol):
    def add(self, *writes: Any) -> None: ...

    def record(self, *entries: AuditEntry) -> None: ...

    def commit(self) -> None: ...


@domain_errors
class AuditChain:
    """The chain's head: read it, link entries to it, advance it inside a transaction."""

    def __init__(self, model: type[AuditChainItem]) -> None:
        self._model = model
        self._lock = threading.Lock()
        # How the chain behaves under contention (read by the bench and the tests).
        self.appends = 0
        self.lost_races = 0

    def head(self) -> ChainHead:
        try:
            item = self._model.get(CHAIN_ID, consistent_read=True)
        except self._model.DoesNotExist:
            return ChainHead()
        return ChainHead(seq=int(item.seq), hash=item.head_hash, at=item.at, mac=item.head_mac)

    @staticmethod
    def _head_from_failure(raw_item: dict[str, Any] | None) -> ChainHead | None:
        """The head a failed condition found (ReturnValuesOnConditionCheckFailure=ALL_OLD), so a
        writer that lost the race links to it without reading it again."""
        if not raw_item or "seq" not in raw_item:
            return None
        return ChainHead(
            seq=int(raw_item["seq"]["N"]),
            hash=raw_item["headHash"]["S"],
            at=raw_item.get("at", {}).get("S"),
            mac=raw_item.get("headMac", {}).get("S"),
        )

    @staticmethod
    def _link(head: ChainHead, entries: Sequence[AuditEntryItem]) -> ChainHead:
        """Give each entry its position and hashes after `head`; answers the new head."""
        seq, previous = head.seq, head.hash
        for entry in entries:
            seq += 1
            entry.chain_seq = seq
            entry.prev_hash = previous
            entry.entry_hash = entry_hash(entry.to_simple_dict())
            previous = entry.entry_hash
        return ChainHead(seq=seq, hash=previous, at=entries[-1].at if entries else None)

    def _advance(self, tw: Any, old: ChainHead, new: ChainHead, entry_id: str) -> None:
        """The head's move from `old` to `new`, conditioned on nobody having moved it since; a
        failed condition hands back the head that won (ALL_OLD)."""
        model = self._model
        item = model(
            CHAIN_ID,
            seq=new.seq,
            head_hash=new.hash,
            at=new.at,
            entry_id=entry_id,
            head_mac=new.mac,
        )
        condition = model.chain_id.does_not_exist() if old.seq == 0 else model.seq == old.seq
        tw.save(item, condition=condition, return_values="ALL_OLD")

    def _backoff(self, attempt: int) -> None:
        with self._lock:
            self.lost_races += 1
        time.sleep(random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2**attempt)))

    def _committed(self, count: int) -> None:
        with self._lock:
            self.appends += count


class UnitsOfWork:
    """Begins units of work on one set of tables; calling it answers a new, empty one."""

    def __init__(
        self,
        audit: type[AuditEntryItem],
        chain: AuditChain,
        macs: EntryMacs,
        milestones: Milestones,
        connection: Connection | None = None,
    ) -> None:
        self._audit = audit
        # One chain per process: its counters show how often appends lost the race.
        self.chain = chain
        self._macs = macs
        self._milestones = milestones
        self._connection = connection or Connection()

    def __call__(self) -> DynamoUnitOfWork:
        return DynamoUnitOfWork(self)


@domain_errors
class DynamoUnitOfWork:
    def __init__(self, units: UnitsOfWork) -> None:
        self._audit = units._audit
        self._chain = units.chain
        self._macs = units._macs
        self._milestones = units._milestones
        self._connection = units._connection
        self._writes: list[TableWrite] = []
        self._entries: list[AuditEntry] = []

    def add(self, *writes: TableWrite) -> None:
        self._writes.extend(writes)

    def record(self, *entries: AuditEntry) -> None:
        self._entries.extend(entries)

    def commit(self) -> None:
        chain = self._chain
        head = chain.head() if self._entries else None
        conflicts = [w.conflict for w in self._writes] + [
            _already_recorded(e) for e in self._entries
        ]
        for attempt in itertools.count():
            recorder: _Recorder | None = None
            try:
                with TransactWrite(connection=self._connection) as tw:
                    recorder = _Recorder(tw)
                    for write in self._writes:
                        write.add(recorder)  # type: ignore[arg-type]  # it stands in for tw
                    if head is not None:
                        items = [self._item(e) for e in self._entries]
                        new_head = chain._link(head, items)
                        for item in items:
                            item.entry_mac = self._macs.mac(item.entry_hash)
                        new_head = replace(new_head, mac=items[-1].entry_mac)
                        for item in items:
                            recorder.save(item, condition=self._audit.entry_id.does_not_exist())
                        chain._advance(recorder, head, new_head, items[-1].entry_id)
            except TransactWriteError as exc:
                assert recorder is not None
                reasons = recorder.by_operation(exc.cancellation_reasons or [])
                codes = [reason.code if reason else None for reason in reasons]
                for conflict, code in zip(conflicts, codes, strict=False):
                    if code == "ConditionalCheckFailed":
                        raise conflict() from None
                head_reason = reasons[len(conflicts)] if len(reasons) > len(conflicts) else None
                lost_race = head_reason is not None and head_reason.code in (
                    "ConditionalCheckFailed",
                    *_RETRYABLE,
                )
                if head is not None and lost_race:
                    if attempt + 1 >= MAX_ATTEMPTS:
                        raise TransientError("the audit chain is busy; retry") from None
                    assert head_reason is not None
                    chain._backoff(attempt)
                    fresh = chain._head_from_failure(head_reason.raw_item)
                    head = fresh if fresh is not None else chain.head()
                    continue
                if any(code in _RETRYABLE for code in codes):
                    raise TransientError("the change collided with another; retry") from None
                raise
            if head is not None:
                chain._committed(len(self._entries))
                self._milestones.passed(head.seq, head.seq + len(self._entries))
            return

    def _item(self, entry: AuditEntry) -> AuditEntryItem:
        return self._audit(
            entry.entry_id,
            at=entry.at,
            seq=entry.seq,
            request_id=entry.record_id,
            request_type=entry.record_type,
            event_type=entry.event_type,
            actor=entry.actor,
            outcome=entry.outcome,
            customer_hash=entry.subject_hash,
            details=dict(entry.details),
        )


def _already_recorded(entry: AuditEntry) -> Callable[[], DomainError]:
    return lambda: ConflictError(f"{entry.event_type} was already recorded for this request")


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
