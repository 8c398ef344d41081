"""The first step of a FORGET: decide whom it erases and keep them out, in one unit of work,
before anything of theirs is erased.

The plan names each person by keyed hash only (the requester and, with cascade, the contacts
their `RELATION#` items name them the parent of, one level), with how many items of each
category they hold. In the same transaction: a tombstone per person (it answers FORGOTTEN for
permissions, privacy and new requests from then on: `CustomerRepository.privacy_status` is the
one definition), their FORGOTTEN suppression entries (the audience filter drops them at once),
the plan on the request and a KEPT_OUT audit entry. Each tombstone holds that person's clear id
until their erasure is done: the request never needs to (it is pseudonymised on failure)."""

from __future__ import annotations

from typing import Any, Protocol

from functions.export.files import ExportFiles
from functions.requests.lifecycle import WORKFLOW_ACTOR, RequestStores, request_entry
from functions.shared.clock import utc_now
from functions.shared.domain import PrivacyRequest, PrivacyStatus, RequestStatus
from functions.shared.errors import (
    ConflictError,
    CustomerNotFoundError,
    TransientError,
    ValidationError,
)
from functions.shared.suppression import count_by_kind, entries_for
from functions.shared.suppression_reasons import FORGOTTEN

KEPT_OUT = "KEPT_OUT"
# The keep-out is one TransactWriteItems: DynamoDB takes at most 100 actions (a tombstone and an
# entry per identifier for each person, the plan, the audit entry, the chain's head).
MAX_ACTIONS = 100
# What a FORGET with cascade may plan: about four actions a person keeps it well inside.
MAX_CASCADE = 20


class PlanningStores(RequestStores, Protocol):
    exports: ExportFiles


def erasure_plan(request: PrivacyRequest) -> dict[str, Any] | None:
    plan = (request.result or {}).get("erasure")
    return plan if isinstance(plan, dict) else None


def keep_out(request: PrivacyRequest, deps: PlanningStores) -> PrivacyRequest:
    """Plan and keep out, once; answers the request with its plan. A retry after the commit
    finds the plan and writes nothing."""
    people = _people(request, deps)
    at = utc_now()
    subjects: list[dict[str, Any]] = []
    suppress = []
    work = deps.work()
    for customer_id, relation_type in people:
        subject_hash = deps.hasher.customer(customer_id)
        subjects.append(
            {
                "customerHash": subject_hash,
                "relationType": relation_type,
                "erased": _inventory(customer_id, deps),
            }
        )
        identifiers = deps.customers.get_identifiers(customer_id)
        suppress += entries_for(identifiers, FORGOTTEN, deps.hasher)
        work.add(deps.customers.tombstone(subject_hash, request.request_id, at, customer_id))
    actions = len(subjects) + len(suppress) + 3
    if actions > MAX_ACTIONS:
        # Nothing written: the request ends FAILED with this reason, the person as they were.
        raise ValidationError(
            f"keeping {len(subjects)} people out takes {actions} writes, more than one "
            f"transaction's {MAX_ACTIONS}: forget some related contacts on their own first"
        )
    plan = {"subjects": subjects}
    work.add(
        deps.requests.begin_erasure(request, plan),
        *deps.suppression.changes(suppress, [], at, request.request_id),
    )
    details = {"people": len(subjects), "suppressionEntriesAdded": count_by_kind(suppress)}
    entry = request_entry(
        request, request.status, WORKFLOW_ACTOR, details, deps.hasher, at=at, event_type=KEPT_OUT
    )
    work.record(entry)
    try:
        work.commit()
    except ConflictError:
        stored = deps.requests.get(request.request_id)
        if erasure_plan(stored) is not None:
            return stored  # an earlier attempt committed it
        # Someone planned was forgotten by another request meanwhile: plan again.
        raise TransientError("the people to forget changed meanwhile") from None
    return deps.requests.get(request.request_id)


def ensure_kept_out(request_id: str, deps: PlanningStores) -> bool:
    """Before a FORGET ends FAILED: if its first step never committed, keep the person (and
    their planned contacts) out now, so that no failure leaves anyone ACTIVE. True when they
    are kept out (now or before); False when there is no one to keep out."""
    request = deps.requests.get(request_id)
    if erasure_plan(request) is not None:
        return True
    if request.status is not RequestStatus.CONFIRMED:
        return False  # never agreed to, or ended otherwise
    try:
        if deps.customers.privacy_status(request.customer_id) is PrivacyStatus.FORGOTTEN:
            return False
    except CustomerNotFoundError:
        return False
    keep_out(request, deps)
    return True


def check_cascade(customer_id: str, deps: RequestStores) -> None:
    """At submission: a cascade that could not be kept out in one transaction is refused."""
    contacts = [r for r in deps.customers.relations(customer_id) if r.is_parent]
    if len(contacts) > MAX_CASCADE:
        raise ValidationError(
            f"a FORGET with cascade covers at most {MAX_CASCADE} related contacts; this "
            f"customer has {len(contacts)}: forget some of them on their own first"
        )


def _people(request: PrivacyRequest, deps: PlanningStores) -> list[tuple[str, str | None]]:
    """The contacts first, the requester last; a contact's own children are never included."""
    people: list[tuple[str, str | None]] = []
    if request.cascade:
        for relation in deps.customers.relations(request.customer_id):
            if relation.is_parent and _can_be_forgotten(relation.customer_id, deps):
                people.append((relation.customer_id, relation.type))
    people.append((request.customer_id, None))
    return people


def _inventory(customer_id: str, deps: PlanningStores) -> dict[str, int]:
    erased = deps.customers.inventory(customer_id)
    erased["exportFiles"] = sum(
        deps.exports.count_versions(r.request_id) for r in deps.requests.for_customer(customer_id)
    )
    return erased


def _can_be_forgotten(customer_id: str, deps: PlanningStores) -> bool:
    try:
        return deps.customers.privacy_status(customer_id) is not PrivacyStatus.FORGOTTEN
    except CustomerNotFoundError:
        return False  # a relation to someone we hold nothing about (e.g. a device elsewhere)
