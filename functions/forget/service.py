"""FORGET: erase everything we hold about a customer (and, with cascade, their children one level
down), keep them out for good through keyed hashes, and keep only the accountability record.

All or resumable: the first step keeps everyone planned out (keep_out.py) before anything is
erased; then each invocation erases a bounded chunk and answers CONTINUE until the plan is done
(the state machine loops), so no size makes a step outlive its timeout. Every step after the
keep-out is idempotent: a retried invocation, or a retried request (retry.py), finishes the job
and audits each person once."""

from __future__ import annotations

from typing import Any, Protocol

from functions.export.files import ExportFiles
from functions.forget.erasure import erase_chunk
from functions.forget.keep_out import ensure_kept_out, erasure_plan, keep_out
from functions.requests.apply import ApplyOutcome, request_to_apply, status_if_still_allowed
from functions.requests.lifecycle import WORKFLOW_ACTOR, RequestStores, advance, record_event
from functions.shared.clock import utc_now
from functions.shared.domain import PrivacyRequest, RequestStatus, RequestType
from functions.shared.observability import logger

FORGOTTEN_BY_CASCADE = "FORGOTTEN_BY_CASCADE"

__all__ = ["FORGOTTEN_BY_CASCADE", "ForgetStores", "ensure_kept_out", "forget_customer"]


class ForgetStores(RequestStores, Protocol):
    exports: ExportFiles
    # The batch writes one invocation may make (25 items each): far inside its timeout.
    erasure_batches: int


def forget_customer(request_id: str, deps: ForgetStores) -> ApplyOutcome:
    request = request_to_apply(request_id, RequestType.FORGET, deps)
    if request is None:
        return ApplyOutcome.APPLIED
    plan = erasure_plan(request)
    if plan is None:
        if status_if_still_allowed(request, deps) is None:
            return ApplyOutcome.REJECTED
        request = keep_out(request, deps)
        plan = erasure_plan(request)
        assert plan is not None
    budget = deps.erasure_batches
    for subject in plan["subjects"]:
        subject_hash = subject["customerHash"]
        customer_id = deps.customers.erasing(subject_hash)
        requester = subject["relationType"] is None
        if customer_id is None and not requester:
            continue  # this contact's erasure is done and audited
        if budget <= 0:
            return ApplyOutcome.CONTINUE
        if customer_id is not None:
            chunk = erase_chunk(customer_id, subject_hash, request_id, budget, deps)
            budget -= chunk.batches
            if not chunk.done:
                logger.info("erasure continues", extra={"requestId": request_id})
                return ApplyOutcome.CONTINUE
        if requester:
            _applied(request, plan, deps)
        else:
            _forgotten_by_cascade(request, subject, deps)
    logger.info("customer forgotten", extra={"requestId": request_id})
    return ApplyOutcome.APPLIED


def _applied(request: PrivacyRequest, plan: dict[str, Any], deps: ForgetStores) -> None:
    """APPLIED: the request's result (counts; contacts by keyed hash) and its audit entry. The
    requester's tombstone keeps their clear id until `finish` has announced the completion."""
    main = next(s for s in plan["subjects"] if s["relationType"] is None)
    summary: dict[str, Any] = {
        "erased": main["erased"],
        "cascaded": [
            {k: s[k] for k in ("customerHash", "relationType", "erased")}
            for s in plan["subjects"]
            if s["relationType"] is not None
        ],
    }
    advance(
        deps,
        request,
        RequestStatus.APPLIED,
        WORKFLOW_ACTOR,
        updates={"result": summary},
        details=summary,
    )


def _forgotten_by_cascade(
    request: PrivacyRequest, subject: dict[str, Any], deps: ForgetStores
) -> None:
    """A contact's erasure is done: their own audit entry and the end of their tombstone's clear
    id, together and once (a retry finds the entry recorded and writes nothing)."""
    subject_hash = subject["customerHash"]
    record_event(
        deps,
        request,
        FORGOTTEN_BY_CASCADE,
        WORKFLOW_ACTOR,
        {"relationType": subject["relationType"], "erased": subject["erased"]},
        subject_hash=subject_hash,
        with_writes=[deps.customers.erased(subject_hash, utc_now())],
    )
