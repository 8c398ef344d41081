"""FORGET: erase everything we hold about a customer (and, with cascade, their children one level
down), keep them out for good through keyed hashes, and keep only the accountability record.

Resumable: the plan (whom, and how many items of each category) is saved on the request before
anything is deleted; every step after it is idempotent, and the person is suppressed before any
of their data goes. A retry after a crash finishes the job and audits it once."""

from __future__ import annotations

from typing import Any

from functions.shared.domain import (
    PrivacyRequest,
    PrivacyStatus,
    RequestStatus,
    RequestType,
    pseudonym,
)
from functions.shared.errors import CustomerNotFoundError
from functions.shared.observability import logger
from functions.shared.services.status_change import (
    WORKFLOW_ACTOR,
    ApplyOutcome,
    request_to_apply,
    status_if_still_allowed,
    suppressions_for,
)
from functions.shared.wiring import Dependencies

FORGOTTEN = "FORGOTTEN"


def forget_customer(request_id: str, deps: Dependencies) -> ApplyOutcome:
    repos = deps.repos
    request = request_to_apply(request_id, RequestType.FORGET, deps)
    if request is None:
        return ApplyOutcome.APPLIED

    plan = (request.result or {}).get("erasure")
    if plan is None:
        if status_if_still_allowed(request, deps) is None:
            return ApplyOutcome.REJECTED
        request = repos.requests.save_erasure_plan(request_id, _plan(request, deps))
        plan = request.result["erasure"]

    for subject in plan["subjects"]:
        _erase(subject["customerId"], request, deps)
        if subject["customerId"] != request.customer_id:
            repos.transitions.record_forgotten_relative(
                request,
                deps.hasher.customer(subject["customerId"]),
                {"relationType": subject["relationType"], "erased": subject["erased"]},
            )

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
    repos.transitions.advance(
        request,
        RequestStatus.APPLIED,
        WORKFLOW_ACTOR,
        updates={"result": summary},
        details=summary,
        forgotten=deps.hasher.customer(request.customer_id),
    )
    logger.info("customer forgotten", extra={"requestId": request_id})
    return ApplyOutcome.APPLIED


def _plan(request: PrivacyRequest, deps: Dependencies) -> dict[str, Any]:
    """The requester last, after the children; a child's own children are never included."""
    customers = deps.repos.customers
    subjects: list[dict[str, Any]] = []
    if request.cascade:
        for relation in customers.relations(request.customer_id):
            if relation.is_parent and _can_be_forgotten(relation.customer_id, deps):
                subjects.append({"customerId": relation.customer_id, "relationType": relation.type})
    subjects.append({"customerId": request.customer_id, "relationType": None})
    for subject in subjects:
        erased = customers.inventory(subject["customerId"])
        erased["exportFiles"] = sum(
            deps.exports.count_versions(r.request_id) if deps.exports else 0
            for r in deps.repos.requests.for_customer(subject["customerId"])
        )
        subject["erased"] = erased
    return {"subjects": subjects}


def _can_be_forgotten(customer_id: str, deps: Dependencies) -> bool:
    try:
        return deps.repos.customers.privacy_status(customer_id) is not PrivacyStatus.FORGOTTEN
    except CustomerNotFoundError:
        return False  # a relation to someone we hold nothing about (e.g. a device elsewhere)


def _erase(customer_id: str, request: PrivacyRequest, deps: Dependencies) -> None:
    """Each step is idempotent; the order makes an interrupted run safe to resume."""
    repos, hasher = deps.repos, deps.hasher
    subject = hasher.customer(customer_id)
    try:
        identifiers = repos.customers.get_identifiers(customer_id)
    except CustomerNotFoundError:
        identifiers = None  # an earlier attempt got past the profile: suppressed already
    if identifiers is not None:
        # 1. Keep them out before anything of theirs goes.
        repos.suppression.put_all(
            suppressions_for(identifiers, FORGOTTEN, hasher), request.request_id
        )
    # 2. Other reasons (CEASED, OPTED_OUT) are superseded by FORGOTTEN.
    superseded = [s for s in repos.suppression.entries_of_subject(subject) if s.reason != FORGOTTEN]
    repos.suppression.remove_all(superseded)
    # 3. Their export files, every version, and their other requests' personal fields.
    for earlier in repos.requests.for_customer(customer_id):
        if deps.exports is not None:
            deps.exports.delete_all_versions(earlier.request_id)
        if earlier.request_id != request.request_id:
            repos.requests.pseudonymise(earlier.request_id, pseudonym(subject))
    # 4. Relations that point at them from people we keep.
    for relation in repos.customers.relations(customer_id):
        repos.customers.remove_relation(relation.customer_id, relation, customer_id)
    # 5. Everything in their partition, 25 items per call, the profile last.
    repos.customers.erase(customer_id)
