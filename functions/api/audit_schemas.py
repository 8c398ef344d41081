"""GET /audit and GET /audit/verify: query parameters in, JSON out (API.md)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.api.query_params import parse_limit, parse_moment
from functions.audit.repository import AuditFilter
from functions.audit.service import EntriesPage
from functions.campaigns.rules import CAMPAIGN_RECORD_TYPE
from functions.consents.rules import CONSENT_RECORD_TYPE
from functions.shared.audit_chain import Break, Verification
from functions.shared.domain import RequestType
from functions.shared.errors import ValidationError
from functions.shared.identifiers import KeyedHasher

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
FILTERS = {"customerId", "requestId", "type", "actor", "from", "to", "limit", "nextToken"}


def parse_audit_query(
    params: Mapping[str, str], hasher: KeyedHasher
) -> tuple[AuditFilter, int, str | None]:
    unknown = sorted(set(params) - FILTERS)
    if unknown:
        raise ValidationError(f"unknown query parameters: {', '.join(unknown)}")
    limit = parse_limit(params.get("limit"), DEFAULT_LIMIT, MAX_LIMIT)
    start = parse_moment("from", params["from"], False) if params.get("from") else None
    end = parse_moment("to", params["to"], True) if params.get("to") else None
    if start and end and start > end:
        raise ValidationError("from must not be later than to")
    kind = params.get("type") or None
    # `type` names an audit event (SUBMITTED, COMPLETED, DEADLINE_PASSED, ...) or a request type.
    # Consent changes are recorded under their own record type, CONSENT.
    is_request_type = kind in {t.value for t in RequestType} | {
        CONSENT_RECORD_TYPE,
        CAMPAIGN_RECORD_TYPE,
    }
    customer_id = params.get("customerId") or None
    where = AuditFilter(
        # Matched through the keyed hash: a forgotten customer's entries are still found.
        customer_hash=hasher.customer(customer_id) if customer_id else None,
        request_id=params.get("requestId") or None,
        event_type=None if is_request_type else kind,
        request_type=kind if is_request_type else None,
        actor=params.get("actor") or None,
        start=start,
        end=end,
    )
    return where, limit, params.get("nextToken") or None


def audit_page(page: EntriesPage) -> dict[str, Any]:
    body: dict[str, Any] = {"entries": page.entries, "count": len(page.entries)}
    if page.next_token:
        body["nextToken"] = page.next_token
    return body


def _break(b: Break) -> dict[str, Any]:
    return {
        "problem": b.problem.value,
        "chainSeq": b.chain_seq,
        "entryId": b.entry_id,
        "message": b.message,
    }


def verification(result: Verification, verified_at: str) -> dict[str, Any]:
    return {
        "intact": result.intact,
        "checked": result.checked,
        "head": {"chainSeq": result.head.seq, "hash": result.head.hash, "at": result.head.at},
        "digestsChecked": result.digests_checked,
        "keyedHashesChecked": result.macs_checked,
        "checks": list(result.checks),
        "firstBreak": _break(result.first_break) if result.first_break else None,
        "breakCount": result.break_count,
        "breaks": [_break(b) for b in result.breaks],
        "verifiedAt": verified_at,
    }
