"""Recording consent choices and confirming double opt-ins. Each change is one transaction
(consent, history, suppression change, audit entry) and is announced on the event bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from functions.shared.consents import (
    ConsentChange,
    ConsentChoice,
    ConsentStatus,
    new_token,
    token_customer,
    token_hash,
)
from functions.shared.domain import PrivacyStatus, Suppression, utc_now
from functions.shared.errors import ConflictError, NotFoundError
from functions.shared.observability import logger
from functions.shared.services.status_change import _count_by_kind, suppressions_for
from functions.shared.suppression_reasons import opted_out
from functions.shared.wiring import Dependencies

CONFIRMED_SOURCE = "double-opt-in"


@dataclass(frozen=True)
class ConsentOutcome:
    choice: ConsentChoice
    status: ConsentStatus
    at: str
    source: str
    change_id: str | None
    changed: bool
    # The double opt-in token to send to the person (only its hash is stored) and its expiry.
    token: str | None = None
    expires_at: str | None = None


def record_consent(
    choice: ConsentChoice,
    actor: str,
    deps: Dependencies,
    confirmation_seconds: int,
    *,
    expected_change: str | None = None,
) -> ConsentOutcome:
    """Record an opt-in or opt-out. Asking for what is already recorded changes nothing; an
    unconfirmed opt-in never downgrades a granted consent to pending. With `expected_change`
    (a re-permission campaign's revocation) only the consent as it was enrolled is changed
    ("" for one imported without a change id); any later choice of the customer's wins: 409."""
    status = deps.repos.customers.privacy_status(choice.customer_id)
    if status is PrivacyStatus.FORGOTTEN:
        raise ConflictError("the customer has been forgotten; no consent can be recorded")
    current = deps.repos.consents.current(choice.customer_id, choice.key)
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
        at=utc_now(),
    )
    suppress, unsuppress = _suppression_change(change, deps)
    token = expires_at = None
    pending_token = None
    if target is ConsentStatus.PENDING:
        token, hashed = new_token(choice.customer_id)
        expires = datetime.now(UTC) + timedelta(seconds=confirmation_seconds)
        expires_at = expires.isoformat(timespec="seconds").replace("+00:00", "Z")
        pending_token = (hashed, expires_at)
    deps.repos.transitions.record_consent(
        change,
        current.change_id if current else None,
        suppress=suppress,
        unsuppress=unsuppress,
        new_token=pending_token,
        details=_details(change, suppress, unsuppress),
    )
    _announce(change, deps)
    return ConsentOutcome(
        choice, target, change.at, choice.source, change.change_id, True, token, expires_at
    )


def confirm_consent(token: str, actor: str, deps: Dependencies) -> ConsentOutcome:
    """Turn the pending opt-in a token was issued for into a granted consent, once."""
    customer_id = token_customer(token)
    pending = deps.repos.consents.pending_confirmation(customer_id, token_hash(token))
    if pending is None:
        raise NotFoundError("unknown confirmation token")
    if pending.used_at is not None:
        raise ConflictError("this confirmation token has already been used")
    if datetime.fromisoformat(pending.expires_at) <= datetime.now(UTC):
        raise ConflictError("this confirmation token has expired; ask for a new one")
    current = deps.repos.consents.current(customer_id, pending.consent_key)
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
        actor=actor,
        at=utc_now(),
    )
    suppress, unsuppress = _suppression_change(change, deps)
    campaign = {"campaignId": pending.campaign_id} if pending.campaign_id else {}
    deps.repos.transitions.record_consent(
        change,
        current.change_id,
        unsuppress=unsuppress,
        used_token=pending,
        details={
            **_details(change, suppress, unsuppress),
            "confirms": pending.change_id,
            **campaign,
        },
    )
    _announce(change, deps)
    return ConsentOutcome(choice, change.status, change.at, choice.source, change.change_id, True)


def _already(current: ConsentStatus, target: ConsentStatus) -> bool:
    """A repeated choice, or an unconfirmed opt-in for a consent already granted. A repeated
    pending opt-in is recorded again: it issues a fresh token."""
    if target is ConsentStatus.PENDING:
        return current is ConsentStatus.GRANTED
    return current is target


def _suppression_change(
    change: ConsentChange, deps: Dependencies
) -> tuple[list[Suppression], list[Suppression]]:
    """An opt-out keeps every identifier of the person out of the topic's audiences; an opt-in
    lifts exactly what this person's opt-outs of the topic put there. Pending changes nothing."""
    choice = change.choice
    reason = opted_out(choice.topic)
    if change.status is ConsentStatus.REVOKED:
        identifiers = deps.repos.customers.get_identifiers(choice.customer_id)
        return suppressions_for(identifiers, reason, deps.hasher), []
    if change.status is ConsentStatus.GRANTED:
        subject = deps.hasher.customer(choice.customer_id)
        return [], deps.repos.suppression.entries_of(subject, reason)
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
        "suppressionEntriesAdded": _count_by_kind(suppress),
        "suppressionEntriesRemoved": _count_by_kind(unsuppress),
    }


def _announce(change: ConsentChange, deps: Dependencies) -> None:
    if deps.events is None:
        logger.warning("no event bus configured: consent change not announced")
        return
    deps.events.consent_changed(change)
