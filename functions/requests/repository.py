"""Privacy requests in their table: the only code that knows a request item's layout. Reads
answer domain objects; state changes are writes contributed to the unit of work; the task token,
the apply result and the pseudonym are single-item writes of their own."""

from __future__ import annotations

import operator
from collections.abc import Iterator, Mapping
from functools import reduce
from typing import Any

from pynamodb.exceptions import UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from functions.requests.queue import (
    Cursor,
    Position,
    QueueFilter,
    QueuePage,
    merged_page,
    plan,
)
from functions.shared.aws_errors import domain_errors
from functions.shared.domain import (
    Extension,
    HistoryEntry,
    PrivacyRequest,
    RequestStatus,
    RequestType,
)
from functions.shared.errors import ConflictError, RequestNotFoundError
from functions.shared.models import (
    ExtensionAttribute,
    HistoryEntryAttribute,
    MapAttribute,
    PrivacyRequestItem,
)
from functions.shared.unit_of_work import TableWrite

OPEN_DEADLINE_QUEUE = "OPEN"


def _plain(value: Any) -> Any:
    return value.as_dict() if isinstance(value, MapAttribute) else value


def to_domain(item: PrivacyRequestItem) -> PrivacyRequest:
    return PrivacyRequest(
        request_id=item.request_id,
        customer_id=item.customer_id,
        type=RequestType(item.type),
        status=RequestStatus(item.status),
        submitted_by=item.submitted_by,
        identity_verified_by=item.identity_verified_by,
        identity_verified_at=item.identity_verified_at,
        created_at=item.created_at,
        updated_at=item.updated_at,
        confirm_by=item.confirm_by,
        reason=item.reason,
        cascade=bool(item.cascade),
        confirmed_by=item.confirmed_by,
        confirmed_at=item.confirmed_at,
        completed_at=item.completed_at,
        rejection_reason=item.rejection_reason,
        task_token=item.task_token,
        history=tuple(
            HistoryEntry(status=RequestStatus(h.status), at=h.at, actor=h.actor)
            for h in item.history or ()
        ),
        result=_plain(item.result) or {},
        due_at=item.due_at,
        jurisdiction=item.jurisdiction,
        extension=_extension(item),
    )


def _extension(item: PrivacyRequestItem) -> Extension | None:
    if item.extension is None:
        return None
    return Extension(
        previous_due_at=item.extension.previous_due_at,
        due_at=item.extension.due_at,
        extended_by=item.extension.extended_by,
        extended_at=item.extension.extended_at,
        reason=item.extension_reason,
    )


@domain_errors
class RequestRepository:
    def __init__(self, model: type[PrivacyRequestItem]) -> None:
        self._model = model

    # Writes for the unit of work -------------------------------------------------------------

    def new(self, request: PrivacyRequest) -> TableWrite:
        m = self._model
        item = m(
            request.request_id,
            customer_id=request.customer_id,
            type=request.type.value,
            status=request.status.value,
            submitted_by=request.submitted_by,
            identity_verified_by=request.identity_verified_by,
            identity_verified_at=request.identity_verified_at,
            created_at=request.created_at,
            updated_at=request.updated_at,
            confirm_by=request.confirm_by,
            reason=request.reason,
            cascade=request.cascade,
            history=[_history(h) for h in request.history],
            due_at=request.due_at,
            jurisdiction=request.jurisdiction,
            deadline_queue=OPEN_DEADLINE_QUEUE if request.due_at else None,
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.request_id.does_not_exist()),
            lambda: ConflictError(f"privacy request {request.request_id} already exists"),
        )

    def advance(
        self, request: PrivacyRequest, entry: HistoryEntry, updates: Mapping[str, Any]
    ) -> TableWrite:
        """`request` moves to `entry.status` from the status it was read in, and no other."""
        m = self._model
        to = entry.status
        actions = [
            m.status.set(to.value),
            m.updated_at.set(entry.at),
            m.history.set(m.history.append([_history(entry)])),
            *(getattr(m, name).set(value) for name, value in updates.items()),
        ]
        if to.is_terminal:
            # An ended request needs no callback and leaves the deadline queue.
            actions += [m.task_token.remove(), m.deadline_queue.remove()]
        return TableWrite(
            lambda tw: tw.update(
                m(request.request_id),
                actions=actions,
                condition=m.status == request.status.value,
            ),
            lambda: ConflictError(
                f"privacy request {request.request_id} is no longer {request.status.value}"
            ),
        )

    def unchanged(self, request: PrivacyRequest) -> TableWrite:
        """The request is still in the status it was read in (a check, no write)."""
        m = self._model
        return TableWrite(
            lambda tw: tw.condition_check(
                m, request.request_id, condition=m.status == request.status.value
            ),
            lambda: ConflictError(f"privacy request {request.request_id} has moved on"),
        )

    def begin_erasure(self, request: PrivacyRequest, plan: Mapping[str, Any]) -> TableWrite:
        """Keep the erasure plan (whom, by keyed hash, and how many items of each category) on
        the CONFIRMED request, in the transaction that keeps those people out: an interrupted or
        resumed run continues the same plan and reports the same counts. The first plan wins."""
        m = self._model
        return TableWrite(
            lambda tw: tw.update(
                m(request.request_id),
                actions=[m.result.set({"erasure": dict(plan)})],
                condition=(m.status == RequestStatus.CONFIRMED.value) & m.result.does_not_exist(),
            ),
            lambda: ConflictError(f"the erasure of request {request.request_id} has begun"),
        )

    def extend(self, request: PrivacyRequest, extension: Extension) -> TableWrite:
        """The deadline moves to the extension's, once, while the request is still in the
        status it was read in. The deadline index's key is `dueAt`: the daily check and the
        queue see the new deadline from this write on."""
        m = self._model
        actions: list[Action] = [
            m.due_at.set(extension.due_at),
            m.extension.set(
                ExtensionAttribute(
                    previous_due_at=extension.previous_due_at,
                    due_at=extension.due_at,
                    extended_by=extension.extended_by,
                    extended_at=extension.extended_at,
                )
            ),
            m.updated_at.set(extension.extended_at),
        ]
        if extension.reason:
            actions.append(m.extension_reason.set(extension.reason))
        condition = (m.status == request.status.value) & m.extension.does_not_exist()
        return TableWrite(
            lambda tw: tw.update(m(request.request_id), actions=actions, condition=condition),
            lambda: ConflictError(
                f"the deadline of privacy request {request.request_id} has been extended "
                "already, or the request has moved on"
            ),
        )

    # Reads and single-item writes ------------------------------------------------------------

    def get(self, request_id: str) -> PrivacyRequest:
        try:
            return to_domain(self._model.get(request_id, consistent_read=True))
        except self._model.DoesNotExist:
            raise RequestNotFoundError(request_id) from None

    def latest_for_customer(self, customer_id: str) -> PrivacyRequest | None:
        items = self._model.by_customer.query(customer_id, scan_index_forward=False, limit=1)
        return next((to_domain(item) for item in items), None)

    def for_customer(self, customer_id: str) -> list[PrivacyRequest]:
        return [to_domain(item) for item in self._model.by_customer.query(customer_id)]

    def save_result_once(self, request_id: str, result: dict[str, Any]) -> PrivacyRequest:
        """Keep what an apply step produced on the CONFIRMED request before the step moves on, so
        a retry finds and reuses it. The first result saved wins; answers the stored request."""
        item = self._model(request_id)
        try:
            item.update(
                actions=[self._model.result.set(result)],
                condition=(self._model.status == RequestStatus.CONFIRMED.value)
                & self._model.result.does_not_exist(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise
        return self.get(request_id)

    def pseudonymise(self, request_id: str, stand_in: str) -> None:
        """Replace a forgotten customer's id on a request we keep, and drop its free-text
        reasons. A request that was forgotten already stays as it is."""
        try:
            self._model(request_id).update(
                actions=[
                    self._model.customer_id.set(stand_in),
                    self._model.reason.remove(),
                    self._model.extension_reason.remove(),
                ],
                condition=self._model.request_id.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code != "ConditionalCheckFailedException":
                raise

    def latest_closed_for_customer(self, customer_id: str) -> str | None:
        """The id of the customer's most recently created request that has ended, if any."""
        for item in self._model.by_customer.query(customer_id, scan_index_forward=False):
            if RequestStatus(item.status).is_terminal:
                return str(item.request_id)
        return None

    def open_due_by(self, moment: str) -> list[PrivacyRequest]:
        """Open requests whose legal deadline falls on or before `moment` (a sparse index:
        a request leaves it when it ends)."""
        items = self._model.open_by_deadline.query(
            OPEN_DEADLINE_QUEUE, self._model.due_at <= moment
        )
        return [to_domain(item) for item in items]

    def queue(self, where: QueueFilter, limit: int, cursor: Cursor | None, now: str) -> QueuePage:
        """A page of the request queue, newest first: Queries of one index (functions/requests/
        queue.py: plan), the filters its key does not cover as the FilterExpression. Never a
        scan."""
        m = self._model
        queue_plan = plan(where)
        index = {
            "byCustomer": m.by_customer,
            "bySubmitter": m.by_submitter,
            "byStatus": m.by_status,
            "byType": m.by_type,
        }[queue_plan.index]
        key_attribute = {
            "customer_id": m.customer_id,
            "submitted_by": m.submitted_by,
            "status": m.status,
            "type": m.type,
        }[queue_plan.attribute]
        key_name = key_attribute.attr_name
        created = m.created_at
        range_condition, filter_condition = _conditions(m, where, queue_plan.filtered, now)

        def read(key: str, position: Position) -> Iterator[PrivacyRequest]:
            start = None
            if position is not None:
                start = {
                    key_name: {"S": key},
                    created.attr_name: {"S": position[0]},
                    m.request_id.attr_name: {"S": position[1]},
                }
            results = index.query(
                key,
                range_key_condition=range_condition,
                filter_condition=filter_condition,
                scan_index_forward=False,
                page_size=limit,
                last_evaluated_key=start,
            )
            return (to_domain(item) for item in results)

        return merged_page(queue_plan, read, limit, cursor)

    def keep_task_token(self, request_id: str, task_token: str) -> PrivacyRequest:
        """Store the workflow's callback token and answer the request as it now stands, so the
        caller can see whether a confirmation or cancellation arrived before the token did."""
        item = self._model(request_id)
        try:
            item.update(
                actions=[self._model.task_token.set(task_token)],
                condition=self._model.request_id.exists(),
            )
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                raise RequestNotFoundError(request_id) from None
            raise
        return to_domain(item)


def _conditions(
    m: type[PrivacyRequestItem], where: QueueFilter, filtered: tuple[str, ...], now: str
) -> tuple[Condition | None, Condition | None]:
    """The queue's key condition on `createdAt` (every queue index's sort key) and the
    FilterExpression of the filters the index's partition key does not answer."""
    created = m.created_at
    range_condition: Condition | None = None
    if where.start and where.end:
        range_condition = created.between(where.start, where.end)
    elif where.start:
        range_condition = created >= where.start
    elif where.end:
        range_condition = created <= where.end
    each = {
        "status": lambda: m.status.is_in(*(s.value for s in where.statuses)),
        "type": lambda: m.type == (where.type.value if where.type else ""),
        "customer_id": lambda: m.customer_id == where.customer_id,
        "submitted_by": lambda: m.submitted_by == where.submitted_by,
        "due_before": lambda: m.due_at < (where.due_before or ""),
        "overdue": lambda: m.due_at <= now,
    }
    conditions = [each[name]() for name in filtered]
    return range_condition, reduce(operator.and_, conditions) if conditions else None


def _history(entry: HistoryEntry) -> HistoryEntryAttribute:
    return HistoryEntryAttribute(status=entry.status.value, at=entry.at, actor=entry.actor)
