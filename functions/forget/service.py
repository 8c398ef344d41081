"""FORGET: erase everything we hold about a customer (and, with cascade, their children one level
down), keep them out for good through keyed hashes, and keep only the accountability record.

Resumable: the plan (whom, and how many items of each category) is saved on the request before
anything is deleted; every step after it is idempotent, and the person is suppressed before any
of their data goes. A retry after a crash finishes the job and audits it once."""

from __future__ import annotations

from typing import Any, Protocol

from functions.export.files import ExportFiles
from functions.requests.apply import ApplyOutcome, request_to_apply, status_if_still_allowed
from functions.requests.lifecycle import WORKFLOW_ACTOR, RequestStores, advance, record_event
from functions.shared.clock import utc_now
from functions.shared.domain import (
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    pseudonym,
)
from functions.shared.errors import CustomerNotFoundError
from functions.shared.observability import logger
from functions.shared.suppression import entries_for
from functions.shared.suppression_reasons import FORGOTTEN

FORGOTTEN_BY_CASCADE = "FORGOTTEN_BY_CASCADE"


class ForgetStores(RequestStores, Protocol):
    exports: ExportFiles


def forget_customer(request_id: str, deps: ForgetStores) -> ApplyOutcome:
    request = request_to_apply(request_id, RequestType.FORGET, deps)
    if request is None:
        return ApplyOutcome.APPLIED

    plan = (request.result or {}).get("erasure")
    if plan is None:
        if status_if_still_allowed(request, deps) is None:
            return ApplyOutcome.REJECTED
        request = deps.requests.save_erasure_plan(request_id, _plan(request, deps))
        plan = request.result["erasure"]

    for subject in plan["subjects"]:
        _erase(subject["customerId"], request, deps)
        if subject["customerId"] != request.customer_id:
            _record_forgotten_relative(request, subject, deps)

    main = next(s for s in plan["subjects"] if s["customerId"] == request.customer_id)
    summary: dict[str, Any] = {
        "erased": main["erased"],
        "cascaded": [
            {
                "customerHash": deps.hasher.customer(s["customerId"]),
                "relationType": s["relationType"],
                "erased": s["erased"],
            }
            for s in plan["subjects"]
            if s["customerId"] != request.customer_id
        ],
    }
    subject_hash = deps.hasher.customer(request.customer_id)
    advance(
        deps,
        request,
        RequestStatus.APPLIED,
        WORKFLOW_ACTOR,
        updates={"result": summary},
        details=summary,
        with_writes=lambda at: [deps.customers.tombstone(subject_hash, request_id, at)],
    )
    logger.info("customer forgotten", extra={"requestId": request_id})
    return ApplyOutcome.APPLIED


def _record_forgotten_relative(
    request: PrivacyRequest, subject: dict[str, Any], deps: ForgetStores
) -> None:
    """A contact forgotten by cascade: their tombstone and their own audit entry, once."""
    subject_hash = deps.hasher.customer(subject["customerId"])
    record_event(
        deps,
        request,
        FORGOTTEN_BY_CASCADE,
        WORKFLOW_ACTOR,
        {"relationType": subject["relationType"], "erased": subject["erased"]},
        subject_hash=subject_hash,
        with_writes=[deps.customers.tombstone(subject_hash, request.request_id, utc_now())],
    )


def _plan(request: PrivacyRequest, deps: ForgetStores) -> dict[str, Any]:
    """The requester last, after the children; a child's own children are never included."""
    customers = deps.customers
    subjects: list[dict[str, Any]] = []
    if request.cascade:
        for relation in customers.relations(request.customer_id):
            if relation.is_parent and _can_be_forgotten(relation.customer_id, deps):
                subjects.append({"customerId": relation.customer_id, "relationType": relation.type})
    subjects.append({"customerId": request.customer_id, "relationType": None})
    for subject in subjects:
        erased = customers.inventory(subject["customerId"])
        erased["exportFiles"] = sum(
            deps.exports.count_versions(r.request_id)
            for r in deps.requests.for_customer(subject["customerId"])
        )
        subject["erased"] = erased
    return {"subjects": subjects}


def _can_be_forgotten(customer_id: str, deps: ForgetStores) -> bool:
    try:
        return deps.customers.privacy_status(customer_id) is not PrivacyStatus.FORGOTTEN
    except CustomerNotFoundError:
        return False  # a relation to someone we hold nothing about (e.g. a device elsewhere)


def _erase(customer_id: str, request: PrivacyRequest, deps: ForgetStores) -> None:
    """Each step is idempotent; the order makes an interrupted run safe to resume."""
    subject = deps.hasher.customer(customer_id)
    try:
        identifiers = deps.customers.get_identifiers(customer_id)
    except CustomerNotFoundError:
        identifiers = None  # an earlier attempt got past the profile: suppressed already
    if identifiers is not None:
        # 1. Keep them out before anything of theirs goes.
        deps.suppression.put_all(
            entries_for(identifiers, FORGOTTEN, deps.hasher), request.request_id
        )
    # 2. Other reasons (CEASED, OPTED_OUT) are superseded by FORGOTTEN.
    superseded = [s for s in deps.suppression.entries_of_subject(subject) if s.reason != FORGOTTEN]
    deps.suppression.remove_all(superseded)
    # 3. Their export files, every version, and their other requests' personal fields.
    for earlier in deps.requests.for_customer(customer_id):
        deps.exports.delete_all_versions(earlier.request_id)
        if earlier.request_id != request.request_id:
            deps.requests.pseudonymise(earlier.request_id, pseudonym(subject))
    # 4. Relations that point at them from people we keep.
    for relation in deps.customers.relations(customer_id):
        deps.customers.remove_relation(relation.customer_id, relation, customer_id)
    # 5. Everything in their partition, 25 items per call, the profile last.
    deps.customers.erase(customer_id)
