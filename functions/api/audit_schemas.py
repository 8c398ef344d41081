"""GET /audit and GET /audit/verify: the filter from query parameters, the answers' shapes."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from functions.api.query_params import parse_moment
from functions.api.schemas import Answer
from functions.audit.repository import AuditFilter
from functions.audit.service import EntriesPage
from functions.campaigns.rules import CAMPAIGN_RECORD_TYPE
from functions.consents.rules import CONSENT_RECORD_TYPE
from functions.shared.audit_chain import Break, Problem, Verification
from functions.shared.domain import RequestType
from functions.shared.errors import ValidationError
from functions.shared.identifiers import KeyedHasher

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def audit_filter(
    hasher: KeyedHasher,
    customer_id: str | None = None,
    request_id: str | None = None,
    kind: str | None = None,
    actor: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> AuditFilter:
    begin = parse_moment("from", start, False) if start else None
    until = parse_moment("to", end, True) if end else None
    if begin and until and begin > until:
        raise ValidationError("from must not be later than to")
    # `type` names an audit event (SUBMITTED, COMPLETED, DEADLINE_PASSED, ...) or a request type.
    # Consent changes are recorded under their own record type, CONSENT.
    is_request_type = kind in {t.value for t in RequestType} | {
        CONSENT_RECORD_TYPE,
        CAMPAIGN_RECORD_TYPE,
    }
    return AuditFilter(
        # Matched through the keyed hash: a forgotten customer's entries are still found.
        customer_hash=hasher.customer(customer_id) if customer_id else None,
        request_id=request_id or None,
        event_type=None if is_request_type else (kind or None),
        request_type=kind if is_request_type else None,
        actor=actor or None,
        start=begin,
        end=until,
    )


class AuditPageAnswer(Answer):
    entries: list[dict[str, Any]] = Field(
        description="Entries as stored (the form the chain hashes), newest first."
    )
    count: int
    next_token: str | None = None

    @classmethod
    def of(cls, page: EntriesPage) -> AuditPageAnswer:
        if page.next_token is None:
            return cls(entries=page.entries, count=len(page.entries))
        return cls(entries=page.entries, count=len(page.entries), next_token=page.next_token)


class BreakAnswer(Answer):
    problem: Problem
    chain_seq: int
    entry_id: str | None = None
    message: str

    @classmethod
    def of(cls, b: Break) -> BreakAnswer:
        return cls(problem=b.problem, chain_seq=b.chain_seq, entry_id=b.entry_id, message=b.message)


class HeadAnswer(Answer):
    chain_seq: int
    hash: str
    at: str | None = None


class VerificationAnswer(Answer):
    intact: bool
    checked: int
    head: HeadAnswer
    digests_checked: int
    keyed_hashes_checked: int
    checks: list[str]
    first_break: BreakAnswer | None = None
    break_count: int
    breaks: list[BreakAnswer]
    verified_at: str

    @classmethod
    def of(cls, result: Verification, verified_at: str) -> VerificationAnswer:
        first = result.first_break
        return cls(
            intact=result.intact,
            checked=result.checked,
            head=HeadAnswer(chain_seq=result.head.seq, hash=result.head.hash, at=result.head.at),
            digests_checked=result.digests_checked,
            keyed_hashes_checked=result.macs_checked,
            checks=list(result.checks),
            first_break=BreakAnswer.of(first) if first else None,
            break_count=result.break_count,
            breaks=[BreakAnswer.of(b) for b in result.breaks],
            verified_at=verified_at,
        )
