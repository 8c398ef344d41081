"""The request queue (GET /privacy-requests): its filters, which index answers them (the query
plan of docs/DESIGN.md, "The request queue"), and how the pages of several partitions of one
index merge into one list, newest first. The repository runs the plan on DynamoDB and the fake
in memory; both read through `merged_page`, so a page and its cursor mean the same in each."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from functions.shared import clock
from functions.shared.domain import OPEN_STATUSES, PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import ValidationError

# Where a partition's reading stopped: after the request created at `[0]` with id `[1]`, or
# None before its first. A cursor holds the partitions that still have requests to read.
Position = tuple[str, str] | None
Cursor = dict[str, Position]
# Reads one partition of the plan's index, newest first, after a position, filtered.
PartitionReader = Callable[[str, Position], Iterator[PrivacyRequest]]
SECONDS_PER_DAY = 86400


@dataclass(frozen=True)
class QueueFilter:
    """What the queue is asked for. `statuses` already holds only open ones when `overdue` or
    `due_before` is given (a closed request is due no more); `customer_id` is the id the
    customer's requests are kept under (a forgotten customer's pseudonym)."""

    statuses: tuple[RequestStatus, ...] = ()
    type: RequestType | None = None
    customer_id: str | None = None
    submitted_by: str | None = None
    due_before: str | None = None
    overdue: bool = False
    start: str | None = None
    end: str | None = None

    def bound(self) -> dict[str, Any]:
        """The filters a page token is sealed with (page_tokens.query_of): all of them."""
        return {
            "statuses": [s.value for s in self.statuses],
            "type": self.type.value if self.type else None,
            "customerId": self.customer_id,
            "submittedBy": self.submitted_by,
            "dueBefore": self.due_before,
            "overdue": self.overdue,
            "from": self.start,
            "to": self.end,
        }


def queue_filter(
    *,
    statuses: tuple[RequestStatus, ...] = (),
    type: RequestType | None = None,
    customer_id: str | None = None,
    submitted_by: str | None = None,
    due_before: datetime | None = None,
    overdue: bool = False,
    start: str | None = None,
    end: str | None = None,
) -> QueueFilter:
    if start and end and start > end:
        raise ValidationError("from must not be later than to")
    statuses = tuple(dict.fromkeys(statuses))
    if overdue or due_before is not None:
        wanted = statuses or OPEN_STATUSES
        statuses = tuple(s for s in wanted if s in OPEN_STATUSES)
        if not statuses:
            raise ValidationError(
                "overdue and dueBefore select open requests; the statuses given are all closed"
            )
    return QueueFilter(
        statuses=statuses,
        type=type,
        customer_id=customer_id,
        submitted_by=submitted_by,
        # Deadlines are written to the second (functions/shared/clock.py): compared alike.
        due_before=clock.iso(due_before, "seconds") if due_before is not None else None,
        overdue=overdue,
        start=start,
        end=end,
    )


@dataclass(frozen=True)
class QueuePlan:
    """One index, the partitions of it to read (merged newest first), and which filters are
    left to the query's FilterExpression. Every index sorts by `createdAt`, so `from`/`to` is
    always the key condition."""

    index: str
    attribute: str  # the request's field the index is keyed by
    keys: tuple[str, ...]
    filtered: tuple[str, ...]


def plan(where: QueueFilter) -> QueuePlan:
    """The most selective index the filters allow: a customer's requests are few, an agent's
    more, a status's or a type's many; with none of those, every type's partition."""
    keys: tuple[str, ...]
    if where.customer_id is not None:
        index, attribute, keys = "byCustomer", "customer_id", (where.customer_id,)
    elif where.submitted_by is not None:
        index, attribute, keys = "bySubmitter", "submitted_by", (where.submitted_by,)
    elif where.statuses:
        index, attribute, keys = "byStatus", "status", tuple(s.value for s in where.statuses)
    elif where.type is not None:
        index, attribute, keys = "byType", "type", (where.type.value,)
    else:
        index, attribute, keys = "byType", "type", tuple(t.value for t in RequestType)
    given = {
        "customer_id": where.customer_id is not None,
        "submitted_by": where.submitted_by is not None,
        "status": bool(where.statuses),
        "type": where.type is not None,
        "due_before": where.due_before is not None,
        "overdue": where.overdue,
    }
    filtered = tuple(name for name, on in given.items() if on and name != attribute)
    return QueuePlan(index, attribute, keys, filtered)


def matches(request: PrivacyRequest, where: QueueFilter, now: str) -> bool:
    """Every filter, in memory: what the index's key and FilterExpression select together."""
    due = request.due_at
    return (
        (not where.statuses or request.status in where.statuses)
        and (where.type is None or request.type is where.type)
        and (where.customer_id is None or request.customer_id == where.customer_id)
        and (where.submitted_by is None or request.submitted_by == where.submitted_by)
        and (where.due_before is None or (due is not None and due < where.due_before))
        and (not where.overdue or (due is not None and due <= now))
        and (where.start is None or request.created_at >= where.start)
        and (where.end is None or request.created_at <= where.end)
    )


def cursor_key(cursor: Cursor) -> dict[str, dict[str, str]]:
    """A cursor in the shape a page token seals (functions/shared/page_tokens.py: string
    attribute values): per partition, its position as 'createdAt requestId', '' before its
    first request."""
    return {key: {"S": " ".join(at) if at else ""} for key, at in cursor.items()}


def cursor_from_key(key: dict[str, Any] | None, queue_plan: QueuePlan) -> Cursor | None:
    """The cursor a page token held. Tokens are sealed, so this guards only against our own
    mistakes (a token of an older plan): anything unexpected is a 400."""
    if key is None:
        return None
    cursor: Cursor = {}
    for partition, value in key.items():
        text = value.get("S") if isinstance(value, dict) else None
        parts = text.split(" ") if isinstance(text, str) and text else []
        if partition not in queue_plan.keys or text is None or len(parts) not in (0, 2):
            raise ValidationError("nextToken was not issued for this query")
        cursor[partition] = (parts[0], parts[1]) if parts else None
    if not cursor:
        raise ValidationError("nextToken was not issued for this query")
    return cursor


@dataclass(frozen=True)
class QueuePage:
    requests: list[PrivacyRequest]
    # Where the next page starts; None when this page is the last.
    cursor: Cursor | None


def merged_page(
    queue_plan: QueuePlan, read: PartitionReader, limit: int, cursor: Cursor | None
) -> QueuePage:
    """Up to `limit` requests, newest first, from the plan's partitions (each read lazily from
    its position), and the cursor of the partitions that still hold unread requests. A request
    is taken from exactly one partition, so every request appears on exactly one page."""
    positions: Cursor = dict(cursor) if cursor is not None else dict.fromkeys(queue_plan.keys)
    readers = {key: read(key, position) for key, position in positions.items()}
    heads = {key: head for key, it in readers.items() if (head := next(it, None)) is not None}
    taken: list[PrivacyRequest] = []
    while heads and len(taken) < limit:
        key = max(heads, key=lambda k: (heads[k].created_at, heads[k].request_id))
        request = heads[key]
        taken.append(request)
        positions[key] = (request.created_at, request.request_id)
        following = next(readers[key], None)
        if following is None:
            del heads[key]
        else:
            heads[key] = following
    rest = {key: positions[key] for key in queue_plan.keys if key in heads}
    return QueuePage(taken, rest or None)


def days_left(request: PrivacyRequest, now: datetime) -> int | None:
    """Days until an open request's deadline, rounded up (1 on its last day, 0 or less once it
    has passed); None for a closed request or one with no deadline."""
    if request.status.is_terminal or not request.due_at:
        return None
    return math.ceil((clock.parse(request.due_at) - now).total_seconds() / SECONDS_PER_DAY)


def is_overdue(request: PrivacyRequest, now: str) -> bool:
    """The deadline check's rule (functions/audit/service.py): due on or before now."""
    return bool(not request.status.is_terminal and request.due_at and request.due_at <= now)
