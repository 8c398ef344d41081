"""GET /privacy-requests and POST /privacy-requests/{requestId}/extend: query parameters in, JSON
out (API.md, "The request queue", "Deadline extension"; the extension's body model is in
schemas.py with every body model, where infra/cdk/routes.py reads it)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from functions.api.query_params import parse_limit, parse_moment
from functions.api.schemas import CONTROL_CHARACTERS, extension_body
from functions.requests.queue import QueueFilter, days_left, is_overdue, queue_filter
from functions.requests.service import QueueView
from functions.shared import clock
from functions.shared.domain import PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
MAX_ID_CHARS = 200
FILTERS = {
    "status",
    "type",
    "customerId",
    "submittedBy",
    "dueBefore",
    "overdue",
    "from",
    "to",
    "limit",
    "nextToken",
}


def _one(params: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise ValidationError(f"{name} may be given once")
    return values[0] if values else None


Choice = TypeVar("Choice", RequestStatus, RequestType)


def _choice(kind: type[Choice], name: str, raw: str) -> Choice:
    try:
        return kind(raw)
    except ValueError:
        allowed = ", ".join(k.value for k in kind)
        raise ValidationError(f"{name} must be one of {allowed}") from None


def _identifier(name: str, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_ID_CHARS or CONTROL_CHARACTERS.search(raw):
        raise ValidationError(f"{name} must be an id of at most {MAX_ID_CHARS} characters")
    return raw


def parse_queue_query(
    params: Mapping[str, Sequence[str]],
) -> tuple[QueueFilter, int, str | None]:
    """The filters of the queue from the multi-value query string (`status` repeatable)."""
    unknown = sorted(set(params) - FILTERS)
    if unknown:
        raise ValidationError(f"unknown query parameters: {', '.join(unknown)}")
    statuses = tuple(
        _choice(RequestStatus, "status", raw) for raw in params.get("status") or [] if raw
    )
    kind = _one(params, "type")
    overdue = _one(params, "overdue")
    if overdue not in (None, "true", "false"):
        raise ValidationError("overdue must be true or false")
    due_before = _one(params, "dueBefore")
    start, end = _one(params, "from"), _one(params, "to")
    where = queue_filter(
        statuses=statuses,
        type=_choice(RequestType, "type", kind) if kind else None,
        customer_id=_identifier("customerId", _one(params, "customerId")),
        submitted_by=_identifier("submittedBy", _one(params, "submittedBy")),
        due_before=clock.parse(parse_moment("dueBefore", due_before, False))
        if due_before
        else None,
        overdue=overdue == "true",
        start=parse_moment("from", start, False) if start else None,
        end=parse_moment("to", end, True) if end else None,
    )
    limit = parse_limit(_one(params, "limit"), DEFAULT_LIMIT, MAX_LIMIT)
    return where, limit, _one(params, "nextToken") or None


def queue_item(request: PrivacyRequest, now: datetime) -> dict[str, Any]:
    """One row of the queue. `customerId` is the pseudonym `forgotten:<hash>` for a request of
    a forgotten customer (their requests are kept under it)."""
    return {
        "requestId": request.request_id,
        "type": request.type.value,
        "status": request.status.value,
        "statusText": request.status_text,
        "customerId": request.customer_id,
        "submittedBy": request.submitted_by,
        "createdAt": request.created_at,
        "dueAt": request.due_at,
        "daysLeft": days_left(request, now),
        "overdue": is_overdue(request, clock.iso(now, "seconds")),
        "jurisdiction": request.jurisdiction,
        "extension": extension_body(request.extension),
    }


def queue_page(view: QueueView, now: datetime) -> dict[str, Any]:
    body: dict[str, Any] = {
        "requests": [queue_item(r, now) for r in view.requests],
        "count": len(view.requests),
    }
    if view.next_token:
        body["nextToken"] = view.next_token
    return body


def extended(request: PrivacyRequest) -> dict[str, Any]:
    return {
        "requestId": request.request_id,
        "type": request.type.value,
        "status": request.status.value,
        "statusText": request.status_text,
        "dueAt": request.due_at,
        "jurisdiction": request.jurisdiction,
        "extension": extension_body(request.extension),
    }
