"""What the compliance team asks of the audit trail: find entries, verify the whole chain, keep a
digest of its head out of reach, and see which requests are past or near their legal deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from functions.shared.audit_chain import Digest, Verification, verify
from functions.shared.repositories.audit import AuditFilter, AuditPage, AuditRepository
from functions.shared.repositories.audit_chain import AuditChain
from functions.shared.repositories.digests import DigestStore
from functions.shared.wiring import Dependencies

DEADLINE_PASSED = "DEADLINE_PASSED"
DEADLINE_NEAR = "DEADLINE_NEAR"


def find_entries(
    audit: AuditRepository, where: AuditFilter, limit: int, next_token: str | None
) -> AuditPage:
    return audit.find(where, limit, next_token)


def verify_trail(audit: AuditRepository, digests: DigestStore | None) -> Verification:
    """The head is read first: entries appended while the scan runs lie past it and are
    checked next time, never mistaken for insertions."""
    head = audit.head()
    entries = [e for e in audit.everything() if int(e["chainSeq"]) <= head.seq]
    return verify(entries, head, list(digests.all()) if digests else [])


def take_digest(chain: AuditChain, store: DigestStore) -> Digest | None:
    head = chain.head()
    return store.put(head) if head.seq else None


@dataclass(frozen=True)
class DeadlineReport:
    past: int
    near: int
    audited: int


def check_deadlines(
    deps: Dependencies, warning_days: int, now: datetime | None = None
) -> DeadlineReport:
    """Every open request past its deadline or within `warning_days` of it; each is audited once
    per kind (a second run on the same day, or the next day, adds nothing)."""
    now = now or datetime.now(UTC)
    horizon = _timestamp(now + timedelta(days=warning_days))
    past = near = audited = 0
    for request in deps.repos.requests.open_due_by(horizon):
        assert request.due_at is not None
        overdue = request.due_at <= _timestamp(now)
        past, near = past + overdue, near + (not overdue)
        details = {"dueAt": request.due_at, "jurisdiction": request.jurisdiction or "unknown"}
        event = DEADLINE_PASSED if overdue else DEADLINE_NEAR
        audited += deps.repos.transitions.record_deadline(request, event, details)
    return DeadlineReport(past=past, near=near, audited=audited)


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
