"""Privacy requests in their table: the only code that knows a request item's layout. Reads
answer domain objects; state changes are writes contributed to the unit of work; the task token,
the apply result and the pseudonym are single-item writes of their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.exceptions import UpdateError

from functions.shared.aws_errors import domain_errors
from functions.shared.domain import HistoryEntry, PrivacyRequest, RequestStatus, RequestType
from functions.shared.errors import ConflictError, RequestNotFoundError
from functions.shared.models import HistoryEntryAttribute, MapAttribute, PrivacyRequestItem
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

    def save_erasure_plan(self, request_id: str, plan: dict[str, Any]) -> PrivacyRequest:
        """Keep what an erasure is about to delete (whom, and how many items of each category)
        on the request before anything is deleted, so an interrupted run resumes with the same
        plan and reports the same counts. The first plan saved wins."""
        return self.save_result_once(request_id, {"erasure": plan})

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
        """Replace a forgotten customer's id on a request we keep, and drop its free-text reason.
        A request that was forgotten already stays as it is."""
        try:
            self._model(request_id).update(
                actions=[self._model.customer_id.set(stand_in), self._model.reason.remove()],
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


def _history(entry: HistoryEntry) -> HistoryEntryAttribute:
    return HistoryEntryAttribute(status=entry.status.value, at=entry.at, actor=entry.actor)
