"""What the compliance team asks of the audit trail: find entries, verify the whole chain, keep a
digest of its head out of reach, and see which requests are past or near their legal deadline."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from functions.audit.digests import DigestStore
from functions.audit.repository import AuditFilter, AuditRecord, AuditRepository
from functions.requests.lifecycle import RequestStores, record_event
from functions.requests.queue import is_overdue
from functions.shared import clock
from functions.shared.audit_chain import Digest, EntryMacs, Verification, verify
from functions.shared.page_tokens import PageTokens, query_of
from functions.shared.unit_of_work import AuditChain

DEADLINE_PASSED = "DEADLINE_PASSED"
DEADLINE_NEAR = "DEADLINE_NEAR"
DEADLINE_ACTOR = "deadline-check"


@dataclass(frozen=True)
class EntriesPage:
    entries: list[AuditRecord]
    next_token: str | None


def find_entries(
    audit: AuditRepository,
    where: AuditFilter,
    limit: int,
    next_token: str | None,
    tokens: PageTokens,
) -> EntriesPage:
    """A page of entries; the token continues exactly this filter and nothing else."""
    query = query_of("audit", **asdict(where))
    page = audit.find(where, limit, tokens.open(next_token, query))
    token = tokens.seal(page.last_key, query) if page.last_key else None
    return EntriesPage(page.entries, token)


def verify_trail(
    audit: AuditRepository, digests: DigestStore, macs: EntryMacs | None
) -> Verification:
    """The whole trail against the head as it was when the check began, its keyed hashes (with
    `macs`) and every digest. The digests are read first: none can record a position beyond the
    head read after them, unless the tail was cut. Entries appended while the scan ran (between
    that head and the head after it) are left to the next check; an entry past even the later
    head was never appended through the chain: it is reported as inserted."""
    taken = list(digests.all())
    head = audit.head()
    entries = list(audit.everything())
    after = audit.head()
    judged = [e for e in entries if not head.seq < int(e["chainSeq"]) <= after.seq]
    return verify(judged, head, taken, macs)


def take_digest(chain: AuditChain, store: DigestStore) -> Digest | None:
    head = chain.head()
    return store.put(head) if head.seq else None


@dataclass(frozen=True)
class DeadlineReport:
    past: int
    near: int
    audited: int


def check_deadlines(
    deps: RequestStores, warning_days: int, now: datetime | None = None
) -> DeadlineReport:
    """Every open request past its deadline or within `warning_days` of it; each is audited once
    per kind (a second run on the same day, or the next day, adds nothing), and only while the
    request is still as it was read."""
    now = now or clock.now()
    horizon = clock.iso(now + timedelta(days=warning_days), "seconds")
    past = near = audited = 0
    for request in deps.requests.open_due_by(horizon):
        assert request.due_at is not None
        overdue = is_overdue(request, clock.iso(now, "seconds"))
        past, near = past + overdue, near + (not overdue)
        details = {"dueAt": request.due_at, "jurisdiction": request.jurisdiction or "unknown"}
        audited += record_event(
            deps,
            request,
            DEADLINE_PASSED if overdue else DEADLINE_NEAR,
            DEADLINE_ACTOR,
            details,
            with_writes=[deps.requests.unchanged(request)],
            # An extended deadline is a new one: near it (or past it) is audited once more.
            # Unextended requests keep the entry ids they always had.
            occurrence=request.due_at if request.extension else None,
        )
    return DeadlineReport(past=past, near=near, audited=audited)
