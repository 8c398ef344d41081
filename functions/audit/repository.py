"""Reads of the audit trail: filtered pages through one index each, and the whole trail.

Read-only by design: entries are written only by the unit of work (functions/shared/
unit_of_work.py), and nothing
updates or deletes one (tests/integration/test_audit_append_only.py)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pynamodb.expressions.condition import Condition

from functions.shared.audit_chain import ChainHead
from functions.shared.aws_errors import domain_errors
from functions.shared.models import AUDIT_TRAIL, AuditEntryItem
from functions.shared.unit_of_work import AuditChain

# An entry as stored: attribute names as in the table (the form the chain hashes).
AuditRecord = dict[str, Any]
SCAN_SEGMENTS = 4


@dataclass(frozen=True)
class AuditFilter:
    customer_hash: str | None = None
    request_id: str | None = None
    event_type: str | None = None
    request_type: str | None = None
    actor: str | None = None
    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditRecord]
    last_key: dict[str, Any] | None  # DynamoDB's LastEvaluatedKey: where the next page starts


@domain_errors
class AuditRepository:
    def __init__(self, model: type[AuditEntryItem], chain: AuditChain) -> None:
        self._model = model
        self._chain = chain

    def head(self) -> ChainHead:
        return self._chain.head()

    def find(self, where: AuditFilter, limit: int, start_key: dict[str, Any] | None) -> AuditPage:
        """Newest first, through the index of the most selective filter given; the other filters
        narrow within it. Never a scan of the table."""
        m = self._model
        index, key, rest = m.by_time, AUDIT_TRAIL, []
        choices = (
            (where.request_id, m.by_request, m.request_id),
            (where.customer_hash, m.by_customer, m.customer_hash),
            (where.actor, m.by_actor, m.actor),
            (where.event_type, m.by_event_type, m.event_type),
            (where.request_type, m.by_request_type, m.request_type),
        )
        chosen = False
        for value, candidate, attribute in choices:
            if value is None:
                continue
            if not chosen:
                index, key, chosen = candidate, value, True
            else:
                rest.append(attribute == value)
        range_condition: Condition | None = None
        if where.start and where.end:
            range_condition = m.at.between(where.start, where.end)
        elif where.start:
            range_condition = m.at >= where.start
        elif where.end:
            range_condition = m.at <= where.end
        filter_condition: Condition | None = None
        for condition in rest:
            filter_condition = (
                condition if filter_condition is None else filter_condition & condition
            )
        results = index.query(
            key,
            range_key_condition=range_condition,
            filter_condition=filter_condition,
            scan_index_forward=False,
            limit=limit,
            last_evaluated_key=start_key,
        )
        entries = [item.to_simple_dict() for item in results]
        return AuditPage(entries, results.last_evaluated_key or None)

    def everything(self) -> Iterator[AuditRecord]:
        """Every entry of the trail, read by parallel scan segments: verification needs all."""

        def segment(number: int) -> list[AuditRecord]:
            return [
                item.to_simple_dict()
                for item in self._model.scan(segment=number, total_segments=SCAN_SEGMENTS)
            ]

        with ThreadPoolExecutor(SCAN_SEGMENTS) as pool:
            for records in pool.map(segment, range(SCAN_SEGMENTS)):
                yield from records
