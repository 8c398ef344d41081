"""Reads of a customer's consent items: the current consent per topic and channel, and the
pending double opt-in confirmations. All live in the customer's partition, so a forget erases
them and an export exports them."""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.consents import ConsentStatus, status_of
from functions.shared.models import CustomerItem
from functions.shared.repositories.customers import CONSENT_PREFIX

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


class ConsentRepository:
    def __init__(self, model: type[CustomerItem]) -> None:
        self._model = model

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
        return PendingConfirmation(
            token_hash=token_hash,
            change_id=str(data["changeId"]),
            consent_key=str(data["consentKey"]),
            topic=str(data["topic"]),
            channel=str(data["channel"]),
            brand=str(data["brand"]) if data.get("brand") else None,
            expires_at=str(data["expiresAt"]),
            used_at=str(data["usedAt"]) if data.get("usedAt") else None,
            version=str(item.updated_at),
            campaign_id=str(data["campaignId"]) if data.get("campaignId") else None,
        )


def _data(item: CustomerItem) -> dict[str, object]:
    return item.data.as_dict() if hasattr(item.data, "as_dict") else dict(item.data or {})
