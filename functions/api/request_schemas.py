"""GET /privacy-requests and POST /privacy-requests/{requestId}/extend: the queue's filter from
its query parameters, and the answers' shapes (API.md, "The request queue", "Deadline
extension")."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from functions.api.query_params import parse_moment
from functions.api.schemas import CONTROL_CHARACTERS, Answer, ExtensionAnswer
from functions.requests.queue import QueueFilter, days_left, is_overdue, queue_filter
from functions.requests.service import QueueView
from functions.shared import clock
from functions.shared.domain import PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID_CHARS = 200


def _identifier(name: str, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_ID_CHARS or CONTROL_CHARACTERS.search(raw):
        raise ValidationError(f"{name} must be an id of at most {MAX_ID_CHARS} characters")
    return raw


def queue_query(
    statuses: list[RequestStatus] | None,
    kind: RequestType | None,
    customer_id: str | None,
    submitted_by: str | None,
    due_before: str | None,
    overdue: bool,
    start: str | None,
    end: str | None,
) -> QueueFilter:
    return queue_filter(
        statuses=tuple(statuses or ()),
        type=kind,
        customer_id=_identifier("customerId", customer_id),
        submitted_by=_identifier("submittedBy", submitted_by),
        due_before=(
            clock.parse(parse_moment("dueBefore", due_before, False)) if due_before else None
        ),
        overdue=overdue,
        start=parse_moment("from", start, False) if start else None,
        end=parse_moment("to", end, True) if end else None,
    )


class QueueItem(Answer):
    """One row of the queue. `customerId` is the pseudonym `forgotten:<hash>` for a request of a
    forgotten customer (their requests are kept under it)."""

    request_id: str
    type: RequestType
    status: RequestStatus
    status_text: str
    customer_id: str
    submitted_by: str
    created_at: str
    due_at: str | None = None
    days_left: int | None = Field(
        default=None, description="Days to the deadline, rounded up; null once closed"
    )
    overdue: bool
    jurisdiction: str | None = None
    extension: ExtensionAnswer | None = None

    @classmethod
    def of(cls, request: PrivacyRequest, now: datetime) -> QueueItem:
        return cls(
            request_id=request.request_id,
            type=request.type,
            status=request.status,
            status_text=request.status_text,
            customer_id=request.customer_id,
            submitted_by=request.submitted_by,
            created_at=request.created_at,
            due_at=request.due_at,
            days_left=days_left(request, now),
            overdue=is_overdue(request, clock.iso(now, "seconds")),
            jurisdiction=request.jurisdiction,
            extension=ExtensionAnswer.of(request.extension),
        )


class QueuePage(Answer):
    requests: list[QueueItem]
    count: int
    next_token: str | None = None

    @classmethod
    def of(cls, view: QueueView, now: datetime) -> QueuePage:
        items = [QueueItem.of(r, now) for r in view.requests]
        if view.next_token is None:
            return cls(requests=items, count=len(items))
        return cls(requests=items, count=len(items), next_token=view.next_token)


class ExtendedAnswer(Answer):
    request_id: str
    type: RequestType
    status: RequestStatus
    status_text: str
    due_at: str | None = None
    jurisdiction: str | None = None
    extension: ExtensionAnswer | None = None

    @classmethod
    def of(cls, request: PrivacyRequest) -> ExtendedAnswer:
        return cls.model_validate(request)
