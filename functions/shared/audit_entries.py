"""An audit entry before it joins the chain, and the rule that names it.

An entry's id is derived from what it records (the record, the event, and where one record has
several subjects or occurrences, those too), so a retried or duplicated delivery can never write
a second entry for the same change: the unit of work writes each id once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SUCCEEDED = "SUCCEEDED"


@dataclass(frozen=True)
class AuditEntry:
    entry_id: str
    at: str
    record_id: str  # the privacy request, consent change or campaign the entry records
    record_type: str
    event_type: str
    actor: str
    outcome: str
    subject_hash: str  # the keyed hash of the customer (or the campaign): never a clear id
    details: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0  # the request's own history position (0 for what belongs to no request)


def audit_entry(
    record_id: str,
    record_type: str,
    event_type: str,
    *,
    actor: str,
    subject_hash: str,
    at: str,
    details: Mapping[str, Any],
    outcome: str = SUCCEEDED,
    seq: int = 0,
    distinct_subject: bool = False,
    occurrence: str | None = None,
) -> AuditEntry:
    """`distinct_subject` where one record audits the same event for several subjects (a
    cascaded forget's contacts, a consent's customer); `occurrence` where an event may happen
    many times (a download link issued, a campaign resumed)."""
    suffix = f"#{subject_hash[:16]}" if distinct_subject else ""
    if occurrence:
        suffix += f"#{occurrence}"
    return AuditEntry(
        entry_id=f"{record_id}#{event_type}{suffix}",
        at=at,
        record_id=record_id,
        record_type=record_type,
        event_type=event_type,
        actor=actor,
        outcome=outcome,
        subject_hash=subject_hash,
        details=dict(details),
        seq=seq,
    )
