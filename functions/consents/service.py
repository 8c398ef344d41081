"""Recording consent choices and confirming double opt-ins. Each change is one transaction
(consent, history, suppression change, audit entry) and is announced on the event bus. A double
opt-in's token goes to the customer alone, as a ConsentConfirmationRequested message: the staff
member who recorded the opt-in never sees it, and only the customer's act redeems it."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from functions.campaigns.repository import CampaignRepository
from functions.consents.messages import CONSENT_CONFIRMATION_REQUESTED, confirmation_requested
from functions.consents.repository import ConsentRepository, PendingConfirmation
from functions.consents.rules import (
    CONSENT_RECORD_TYPE,
    CUSTOMER_ACTOR,
    ConsentChange,
    ConsentChoice,
    ConsentStatus,
    new_token,
    token_customer,
    token_hash,
    validate_choice,
)
from functions.shared import clock
from functions.shared.audit_entries import audit_entry
from functions.shared.customers import CustomerRepository
from functions.shared.domain import PrivacyStatus, Suppression
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.events import Publisher
from functions.shared.identifiers import KeyedHasher
from functions.shared.suppression import SuppressionRepository, count_by_kind, entries_for
from functions.shared.suppression_reasons import opted_out
from functions.shared.unit_of_work import UnitOfWork

CONSENT_DETAIL_TYPE = "ConsentChanged"

CONFIRMED_SOURCE = "double-opt-in"


class ConsentStores(Protocol):
    hasher: KeyedHasher
    customers: CustomerRepository
    consents: ConsentRepository
    campaigns: CampaignRepository
    suppression: SuppressionRepository
    events: Publisher

    def work(self) -> UnitOfWork: ...


@dataclass(frozen=True)
class ConsentOutcome:
    choice: ConsentChoice
    status: ConsentStatus
    at: str
    source: str
    change_id: str | None
    changed: bool
    # Until when a pending opt-in's confirmation is valid. The token itself is not here: it was
    # sent to the customer (ConsentConfirmationRequested) and only its hash is stored.
    expires_at: str | None = None


def record_consent(
    choice: ConsentChoice,
    actor: str,
    deps: ConsentStores,
    confirmation_seconds: int,
    *,
    expected_change: str | None = None,
) -> ConsentOutcome:
    """Record an opt-in or opt-out. Asking for what is already recorded changes nothing; an
    unconfirmed opt-in never downgrades a granted consent to pending. With `expected_change`
    (a re-permission campaign's revocation) only the consent as it was enrolled is changed
    ("" for one imported without a change id); any later choice of the customer's wins: 409."""
    status = deps.customers.privacy_status(choice.customer_id)
    if status is PrivacyStatus.FORGOTTEN:
        raise ConflictError("the customer has been forgotten; no consent can be recorded")
    current = deps.consents.current(choice.customer_id, choice.key)
    if expected_change is not None and (
        current is None or (current.change_id or "") != expected_change
    ):
        raise ConflictError("the consent changed after it was read; it is left as it is")
    target = choice.status
    # A consent imported with the customer (no change id) never went through here: recording
    # the choice again gives it its suppression entries and history.
    if current is not None and current.change_id is not None and _already(current.status, target):
        return ConsentOutcome(
            choice, current.status, current.at, current.source, current.change_id, changed=False
        )

    change = ConsentChange(
        change_id=uuid.uuid4().hex,
        choice=choice,
        status=target,
        previous=current.status if current else None,
        actor=actor,
        at=clock.utc_now(),
    )
    suppress, unsuppress = _suppression_change(change, deps)
    token = expires_at = None
    pending_token = None
    if target is ConsentStatus.PENDING:
        token, hashed = new_token(choice.customer_id)
        expires_at = clock.iso(clock.now() + timedelta(seconds=confirmation_seconds), "seconds")
        pending_token = (hashed, expires_at)
    _commit(
        change,
        current.change_id if current else None,
        deps,
        suppress=suppress,
        unsuppress=unsuppress,
        new_token=pending_token,
        details=_details(change, suppress, unsuppress),
    )
    if token is not None and expires_at is not None:
        # To the customer, never to the caller, and first: without it the opt-in can never be
        # confirmed (a failure here is a 500; the caller's retry issues a fresh token).
        deps.events.publish(
            CONSENT_CONFIRMATION_REQUESTED,
            confirmation_requested(
                choice.customer_id,
                choice.topic,
                choice.channel,
                token,
                expires_at,
                brand=choice.brand,
                change_id=change.change_id,
            ),
        )
    announce(change, deps)
    return ConsentOutcome(
        choice, target, change.at, choice.source, change.change_id, True, expires_at
    )


def confirm_consent(token: str, deps: ConsentStores) -> ConsentOutcome:
    """Turn the pending opt-in a token was issued for into a granted consent, once. The token
    reached the customer alone, so redeeming it is the customer's act: the change and its audit
    entry name the customer (CUSTOMER_ACTOR), never a staff member."""
    customer_id = token_customer(token)
    pending = deps.consents.pending_confirmation(customer_id, token_hash(token))
    if pending is None:
        raise NotFoundError("unknown confirmation token")
    if pending.used_at is not None:
        raise ConflictError("this confirmation token has already been used")
    if clock.has_passed(pending.expires_at):
        raise ConflictError("this confirmation token has expired; ask for a new one")
    current = deps.consents.current(customer_id, pending.consent_key)
    # A re-permission campaign's token confirms a consent that is still GRANTED (and must stay
    # so past the deadline); any other token confirms a PENDING opt-in.
    wanted = ConsentStatus.GRANTED if pending.campaign_id else ConsentStatus.PENDING
    if (
        current is None
        or (current.change_id or "") != pending.change_id
        or current.status is not wanted
    ):
        raise ConflictError("the consent was changed after this token was issued")
    choice = ConsentChoice(
        customer_id, pending.topic, pending.channel, True, CONFIRMED_SOURCE, pending.brand
    )
    change = ConsentChange(
        change_id=uuid.uuid4().hex,
        choice=choice,
        status=ConsentStatus.GRANTED,
        previous=current.status,
        actor=CUSTOMER_ACTOR,
        at=clock.utc_now(),
    )
    suppress, unsuppress = _suppression_change(change, deps)
    campaign = {"campaignId": pending.campaign_id} if pending.campaign_id else {}
    _commit(
        change,
        current.change_id,
        deps,
        unsuppress=unsuppress,
        used_token=pending,
        details={
            **_details(change, suppress, unsuppress),
            "confirms": pending.change_id,
            **campaign,
        },
    )
    announce(change, deps)
    return ConsentOutcome(choice, change.status, change.at, choice.source, change.change_id, True)


# DynamoDB's limit on one TransactWriteItems.
MAX_ACTIONS = 100
REVOKED_ALL = "CONSENT_REVOKED_ALL"


def record_opt_outs(
    customer_id: str, choices: list[ConsentChoice], actor: str, deps: ConsentStores
) -> list[ConsentOutcome]:
    """Several opt-outs of one customer as one act in one transaction (the preference centre's
    "unsubscribe from everything"): each consent changes as record_consent would change it
    (history, OPTED_OUT:<topic> entries, ConsentChanged event), and the act is audited once,
    listing its changes. Consents already revoked are left as they are; answers the changes."""
    if deps.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN:
        raise ConflictError("the customer has been forgotten; no consent can be recorded")
    at = clock.utc_now()
    act_id = uuid.uuid4().hex
    identifiers = deps.customers.get_identifiers(customer_id)
    work = deps.work()
    work.add(deps.customers.exists(customer_id))
    changes: list[ConsentChange] = []
    suppress: dict[tuple[str, str], Suppression] = {}
    for choice in choices:
        assert choice.customer_id == customer_id and not choice.granted
        current = deps.consents.current(customer_id, choice.key)
        recorded = current is not None and current.change_id is not None
        if recorded and current is not None and current.status is ConsentStatus.REVOKED:
            continue
        change = ConsentChange(
            uuid.uuid4().hex,
            choice,
            ConsentStatus.REVOKED,
            current.status if current else None,
            actor,
            at,
        )
        work.add(*deps.consents.record(change, current.change_id if current else None))
        for entry in entries_for(identifiers, opted_out(choice.topic), deps.hasher):
            suppress[(entry.identifier_hash, entry.entry)] = entry
        changes.append(change)
    if not changes:
        return []
    # The customer check, two items a change, the entries, the audit entry and the chain head.
    if 1 + 2 * len(changes) + len(suppress) + 2 > MAX_ACTIONS:
        raise ConflictError(
            "more subscriptions than one transaction holds: unsubscribe from them per brand"
        )
    added = list(suppress.values())
    work.add(*deps.suppression.changes(added, [], at, act_id))
    work.record(
        audit_entry(
            act_id,
            CONSENT_RECORD_TYPE,
            REVOKED_ALL,
            actor=actor,
            subject_hash=deps.hasher.customer(customer_id),
            at=at,
            details={
                "source": choices[0].source,
                "changes": [
                    {
                        "changeId": c.change_id,
                        "topic": c.choice.topic,
                        "channel": c.choice.channel,
                        **({"brand": c.choice.brand} if c.choice.brand else {}),
                        "statusFrom": c.previous.value if c.previous else None,
                    }
                    for c in changes
                ],
                "statusTo": ConsentStatus.REVOKED.value,
                "suppressionEntriesAdded": count_by_kind(added),
            },
        )
    )
    work.commit()
    for change in changes:
        announce(change, deps)
    return [
        ConsentOutcome(c.choice, c.status, c.at, c.choice.source, c.change_id, True)
        for c in changes
    ]


def _already(current: ConsentStatus, target: ConsentStatus) -> bool:
    """A repeated choice, or an unconfirmed opt-in for a consent already granted. A repeated
    pending opt-in is recorded again: it issues a fresh token."""
    if target is ConsentStatus.PENDING:
        return current is ConsentStatus.GRANTED
    return current is target


def _suppression_change(
    change: ConsentChange, deps: ConsentStores
) -> tuple[list[Suppression], list[Suppression]]:
    """An opt-out keeps every identifier of the person out of the topic's audiences; an opt-in
    lifts exactly what this person's opt-outs of the topic put there. Pending changes nothing."""
    choice = change.choice
    reason = opted_out(choice.topic)
    if change.status is ConsentStatus.REVOKED:
        identifiers = deps.customers.get_identifiers(choice.customer_id)
        return entries_for(identifiers, reason, deps.hasher), []
    if change.status is ConsentStatus.GRANTED:
        subject = deps.hasher.customer(choice.customer_id)
        return [], deps.suppression.entries_of(subject, reason)
    return [], []


def _details(
    change: ConsentChange, suppress: list[Suppression], unsuppress: list[Suppression]
) -> dict[str, object]:
    choice = change.choice
    return {
        "topic": choice.topic,
        "channel": choice.channel,
        **({"brand": choice.brand} if choice.brand else {}),
        "source": choice.source,
        "statusFrom": change.previous.value if change.previous else None,
        "statusTo": change.status.value,
        "suppressionEntriesAdded": count_by_kind(suppress),
        "suppressionEntriesRemoved": count_by_kind(unsuppress),
    }


def _commit(
    change: ConsentChange,
    expected_change_id: str | None,
    deps: ConsentStores,
    *,
    details: Mapping[str, Any],
    suppress: list[Suppression] = [],  # noqa: B006  (read only)
    unsuppress: list[Suppression] = [],  # noqa: B006
    new_token: tuple[str, str] | None = None,
    used_token: PendingConfirmation | None = None,
) -> None:
    """The consent change with its history item, its suppression change, its double opt-in token
    (a new one, or the one it uses up) and its audit entry, in one transaction, conditioned on
    the consent being as it was read (`expected_change_id`)."""
    customer_id = change.choice.customer_id
    work = deps.work()
    work.add(
        *deps.consents.record(change, expected_change_id),
        deps.customers.exists(customer_id),
        *deps.suppression.changes(suppress, unsuppress, change.at, change.change_id),
    )
    if new_token is not None:
        work.add(deps.consents.issue_token(change, *new_token))
    if used_token is not None:
        work.add(deps.consents.use_token(change, used_token))
        if used_token.campaign_id:
            # The campaign's live count of confirmations, with the confirmation itself.
            work.add(deps.campaigns.count_confirmation(used_token.campaign_id))
    event = "CONFIRMED" if used_token else change.status.value
    work.record(
        audit_entry(
            change.change_id,
            CONSENT_RECORD_TYPE,
            f"CONSENT_{event}",
            actor=change.actor,
            subject_hash=deps.hasher.customer(customer_id),
            at=change.at,
            details=details,
            distinct_subject=True,
        )
    )
    work.commit()


def announce(change: ConsentChange, deps: ConsentStores) -> None:
    """At least once: consumers de-duplicate on changeId. Ids and the choice only."""
    choice = change.choice
    deps.events.publish(
        CONSENT_DETAIL_TYPE,
        {
            "changeId": change.change_id,
            "customerId": choice.customer_id,
            "topic": choice.topic,
            "channel": choice.channel,
            "brand": choice.brand,
            "status": change.status.value,
            "granted": change.granted,
            "source": choice.source,
            "at": change.at,
        },
    )


def import_consents(
    customer_id: str, consents: list[dict[str, Any]], actor: str, deps: ConsentStores
) -> int:
    """A CRM import's consents, after the customer's own items were imported: each opt-out is
    recorded as any opt-out is (history, OPTED_OUT:<topic> entries, audit entry, event), so an
    imported opt-out keeps the person out of the topic's audiences from the start. Opt-ins stay
    as imported: their confirmation happened where they were collected. Answers how many opt-outs
    were recorded."""
    recorded = 0
    for consent in consents:
        if consent.get("granted") or consent.get("status") in ("GRANTED", "PENDING"):
            continue
        choice = validate_choice(
            customer_id,
            consent["topic"],
            consent["channel"],
            False,
            consent.get("source", "import"),
            consent.get("brand"),
        )
        recorded += record_consent(choice, actor, deps, 0).changed
    return recorded
