"""An in-memory unit of work: the writes fakes contribute (MemoryWrite), checked all together and
applied all together like a DynamoDB transaction, and the audit trail as a hash chain built with
the same `entry_hash` over the same stored shape as DynamoUnitOfWork's entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.shared.audit_chain import ChainHead, entry_hash
from functions.shared.audit_entries import AuditEntry
from functions.shared.errors import ConflictError, DomainError
from functions.shared.models import AUDIT_TRAIL


@dataclass(frozen=True)
class MemoryWrite:
    """One write of a fake transaction: its condition, its effect, and what a failed condition
    means (the same domain error the real repository's TableWrite names)."""

    holds: Callable[[], bool]
    apply: Callable[[], None]
    conflict: Callable[[], DomainError]


def always() -> bool:
    return True


@dataclass
class AuditTrail:
    """The entries as stored (attribute names as in the table) and the chain's head."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    head: ChainHead = field(default_factory=ChainHead)

    def ids(self) -> set[str]:
        return {e["entryId"] for e in self.entries}

    def of(self, event_type: str, record_id: str | None = None) -> list[dict[str, Any]]:
        return [
            e
            for e in self.entries
            if e["eventType"] == event_type and record_id in (None, e["requestId"])
        ]

    def event_types(self, record_id: str | None = None) -> list[str]:
        return [e["eventType"] for e in self.entries if record_id in (None, e["requestId"])]

    def append(self, entries: list[AuditEntry]) -> None:
        seq, previous = self.head.seq, self.head.hash
        for entry in entries:
            seq += 1
            stored = stored_entry(entry, seq, previous)
            self.entries.append(stored)
            previous = stored["entryHash"]
        if entries:
            self.head = ChainHead(seq=seq, hash=previous, at=entries[-1].at)


def stored_entry(entry: AuditEntry, chain_seq: int, prev_hash: str) -> dict[str, Any]:
    """An entry as DynamoUnitOfWork._item stores it, linked after `prev_hash`."""
    item: dict[str, Any] = {
        "entryId": entry.entry_id,
        "at": entry.at,
        "seq": entry.seq,
        "requestId": entry.record_id,
        "requestType": entry.record_type,
        "eventType": entry.event_type,
        "actor": entry.actor,
        "outcome": entry.outcome,
        "customerHash": entry.subject_hash,
        "details": dict(entry.details),
        "trail": AUDIT_TRAIL,
        "chainSeq": chain_seq,
        "prevHash": prev_hash,
    }
    item["entryHash"] = entry_hash(item)
    return item


class FakeUnitOfWork:
    def __init__(self, units: FakeUnitsOfWork) -> None:
        self._units = units
        self.writes: list[MemoryWrite] = []
        self.entries: list[AuditEntry] = []

    def add(self, *writes: MemoryWrite) -> None:
        for write in writes:
            if not isinstance(write, MemoryWrite):
                raise TypeError(f"a fake unit of work takes MemoryWrites, not {write!r}")
        self.writes.extend(writes)

    def record(self, *entries: AuditEntry) -> None:
        self.entries.extend(entries)

    def commit(self) -> None:
        units = self._units
        units.attempts += 1
        if units.failures:
            raise units.failures.pop(0)
        # Every condition first: one that fails cancels the whole transaction.
        for write in self.writes:
            if not write.holds():
                raise write.conflict()
        recorded = units.trail.ids()
        ids = [e.entry_id for e in self.entries]
        for entry in self.entries:
            if entry.entry_id in recorded or ids.count(entry.entry_id) > 1:
                raise ConflictError(f"{entry.event_type} was already recorded for this request")
        for write in self.writes:
            write.apply()
        units.trail.append(self.entries)
        units.committed.append(self)


class FakeUnitsOfWork:
    """Begins fake units of work over one trail; `fail_next_commit` injects a failure."""

    def __init__(self, trail: AuditTrail | None = None) -> None:
        self.trail = trail or AuditTrail()
        self.failures: list[Exception] = []
        self.attempts = 0
        self.committed: list[FakeUnitOfWork] = []

    def __call__(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)

    def fail_next_commit(self, exc: Exception) -> None:
        self.failures.append(exc)
