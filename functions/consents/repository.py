"""A customer's consent items: the current consent per topic and channel, its history, and the
double opt-in confirmation tokens. All live in the customer's partition, so a forget erases them
and an export exports them. The only code that knows these items' layout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from functions.consents.rules import ConsentChange
from functions.shared.aws_errors import domain_errors
from functions.shared.customers import CONSENT_PREFIX
from functions.shared.domain import ConsentStatus, status_of
from functions.shared.errors import ConflictError
from functions.shared.models import CustomerItem
from functions.shared.unit_of_work import TableWrite

CONSENT_LOG_PREFIX = "CONSENTLOG#"
CONSENT_TOKEN_PREFIX = "CONSENTTOKEN#"


def consent_key(key: str) -> str:
    return f"{CONSENT_PREFIX}{key}"


def consent_log_key(at: str, change_id: str) -> str:
    return f"{CONSENT_LOG_PREFIX}{at}#{change_id}"


def consent_token_key(token_hash: str) -> str:
    return f"{CONSENT_TOKEN_PREFIX}{token_hash}"


@dataclass(frozen=True)
class CurrentConsent:
    status: ConsentStatus
    change_id: str | None  # None for consents imported before changes were recorded
    at: str
    source: str


@dataclass(frozen=True)
class PendingConfirmation:
    token_hash: str
    change_id: str
    consent_key: str
    topic: str
    channel: str
    brand: str | None
    expires_at: str
    used_at: str | None
    version: str  # the item's updatedAt: a use is conditioned on it
    # Set on a re-permission campaign's token: it confirms a GRANTED consent, not a PENDING one.
    campaign_id: str | None = None


@domain_errors
class ConsentRepository:
    def __init__(self, model: type[CustomerItem]) -> None:
        self._model = model

    # Writes for the unit of work -------------------------------------------------------------

    def record(self, change: ConsentChange, expected_change_id: str | None) -> list[TableWrite]:
        """The consent as changed, conditioned on it being as it was read, and its history item."""
        m = self._model
        choice, customer_id = change.choice, change.choice.customer_id
        fields = _fields(change)
        current = m(
            customer_id,
            consent_key(choice.key),
            data=fields,
            request_id=change.change_id,
            updated_at=change.at,
        )
        unchanged = (
            m.request_id.does_not_exist()
            if expected_change_id is None
            else m.request_id == expected_change_id
        )
        previous = {"previousStatus": change.previous.value} if change.previous else {}
        log = m(
            customer_id,
            consent_log_key(change.at, change.change_id),
            data={**fields, **previous},
            updated_at=change.at,
        )
        return [
            TableWrite(
                lambda tw: tw.save(current, condition=unchanged),
                lambda: ConflictError("the consent changed meanwhile; read it again and retry"),
            ),
            TableWrite(
                lambda tw: tw.save(log, condition=m.sk.does_not_exist()),
                lambda: ConflictError("this consent change was already recorded"),
            ),
        ]

    def issue_token(self, change: ConsentChange, token_hash: str, expires_at: str) -> TableWrite:
        """A double opt-in's confirmation token (only its hash is kept)."""
        m = self._model
        pending = m(
            change.choice.customer_id,
            consent_token_key(token_hash),
            data={**_fields(change), "consentKey": change.choice.key, "expiresAt": expires_at},
            request_id=change.change_id,
            updated_at=change.at,
        )
        return TableWrite(
            lambda tw: tw.save(pending, condition=m.sk.does_not_exist()),
            lambda: ConflictError("confirmation token collision; retry"),
        )

    def use_token(self, change: ConsentChange, used: PendingConfirmation) -> TableWrite:
        """The token used up by `change`, once: conditioned on the version that was read."""
        m = self._model
        item = m(
            change.choice.customer_id,
            consent_token_key(used.token_hash),
            data=used_token_fields(change, used),
            request_id=used.change_id,
            updated_at=change.at,
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.updated_at == used.version),
            lambda: ConflictError("this confirmation token has already been used"),
        )

    # Reads -----------------------------------------------------------------------------------

    def _get(self, customer_id: str, sk: str) -> CustomerItem | None:
        try:
            return self._model.get(customer_id, sk, consistent_read=True)
        except self._model.DoesNotExist:
            return None

    def current(self, customer_id: str, key: str) -> CurrentConsent | None:
        item = self._get(customer_id, consent_key(key))
        if item is None:
            return None
        data = _data(item)
        return CurrentConsent(
            status_of(data), item.request_id, str(data.get("at", "")), str(data.get("source", ""))
        )

    def pending_confirmation(self, customer_id: str, token_hash: str) -> PendingConfirmation | None:
        item = self._get(customer_id, consent_token_key(token_hash))
        if item is None:
            return None
        data = _data(item)
        return pending_from(token_hash, data, str(item.updated_at))


def _data(item: CustomerItem) -> dict[str, object]:
    return item.data.as_dict() if hasattr(item.data, "as_dict") else dict(item.data or {})


def _fields(change: ConsentChange) -> dict[str, Any]:
    choice = change.choice
    return {
        "topic": choice.topic,
        "channel": choice.channel,
        "granted": change.granted,
        "status": change.status.value,
        "at": change.at,
        "source": choice.source,
        "changedBy": change.actor,
        "changeId": change.change_id,
        **({"brand": choice.brand} if choice.brand else {}),
    }


def used_token_fields(change: ConsentChange, used: PendingConfirmation) -> dict[str, Any]:
    """A token item once `change` used it up: it keeps what it confirmed, never the token."""
    return {
        "changeId": used.change_id,
        "confirmedBy": change.change_id,
        "consentKey": used.consent_key,
        "topic": change.choice.topic,
        "channel": change.choice.channel,
        "expiresAt": used.expires_at,
        "usedAt": change.at,
        **({"campaignId": used.campaign_id} if used.campaign_id else {}),
    }


def pending_from(token_hash: str, data: dict[str, Any], version: str) -> PendingConfirmation:
    """A CONSENTTOKEN# item's data as the confirmation it stands for."""
    return PendingConfirmation(
        token_hash=token_hash,
        change_id=str(data["changeId"]),
        consent_key=str(data["consentKey"]),
        topic=str(data["topic"]),
        channel=str(data["channel"]),
        brand=str(data["brand"]) if data.get("brand") else None,
        expires_at=str(data["expiresAt"]),
        used_at=str(data["usedAt"]) if data.get("usedAt") else None,
        version=version,
        campaign_id=str(data["campaignId"]) if data.get("campaignId") else None,
    )
