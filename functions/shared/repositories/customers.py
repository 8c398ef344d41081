"""Reads of a customer's partition. Returns domain objects, never pynamodb items."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from functions.shared.domain import Consent, CustomerIdentifiers, CustomerPrivacy, PrivacyStatus
from functions.shared.errors import CustomerNotFoundError
from functions.shared.models import CustomerItem

PROFILE = "PROFILE"
PRIVACY = "PRIVACY"
CONSENT_PREFIX = "CONSENT#"
OPEN_REQUEST_PREFIX = "OPENREQ#"


def open_request_key(request_type: str) -> str:
    return f"{OPEN_REQUEST_PREFIX}{request_type}"


class CustomerRepository:
    def __init__(self, model: type[CustomerItem]) -> None:
        self._model = model

    def _items(self, customer_id: str, prefix: str) -> list[CustomerItem]:
        return list(self._model.query(customer_id, self._model.sk.startswith(prefix)))

    def _get(self, customer_id: str, sk: str) -> CustomerItem | None:
        try:
            return self._model.get(customer_id, sk, consistent_read=True)
        except self._model.DoesNotExist:
            return None

    def privacy_status(self, customer_id: str) -> PrivacyStatus:
        """The customer's status; CustomerNotFoundError when there is neither profile nor
        privacy record (a forgotten customer keeps only the latter)."""
        privacy = self._get(customer_id, PRIVACY)
        if privacy is not None and privacy.privacy_status:
            return PrivacyStatus(privacy.privacy_status)
        if self._get(customer_id, PROFILE) is None:
            raise CustomerNotFoundError(customer_id)
        return PrivacyStatus.ACTIVE

    def get_privacy(self, customer_id: str) -> CustomerPrivacy:
        status = self.privacy_status(customer_id)
        privacy = self._get(customer_id, PRIVACY)
        consents = tuple(
            Consent(
                topic=item.data["topic"],
                channel=item.data["channel"],
                granted=bool(item.data["granted"]),
                at=item.data["at"],
                source=item.data["source"],
            )
            for item in self._items(customer_id, CONSENT_PREFIX)
        )
        open_requests = tuple(
            str(item.request_id) for item in self._items(customer_id, OPEN_REQUEST_PREFIX)
        )
        return CustomerPrivacy(
            customer_id=customer_id,
            privacy_status=status,
            ceased_at=privacy.ceased_at if privacy else None,
            consents=consents,
            open_requests=open_requests,
        )

    def get_identifiers(self, customer_id: str) -> CustomerIdentifiers:
        profile = self._get(customer_id, PROFILE)
        if profile is None:
            raise CustomerNotFoundError(customer_id)
        data = profile.data.as_dict() if hasattr(profile.data, "as_dict") else dict(profile.data)
        return CustomerIdentifiers(
            customer_id=customer_id,
            emails=tuple(v for v in (data.get("email"), *data.get("otherEmails", [])) if v),
            phones=tuple(v for v in (data.get("phone"), *data.get("otherPhones", [])) if v),
        )

    def put_record(self, record: dict[str, Any]) -> int:
        """Store a CRM customer record (the shape of events/demo/customers.json) as one item per
        fact under the customer's partition. Answers the number of items written."""
        items = list(customer_items(self._model, record))
        with self._model.batch_write() as batch:
            for item in items:
                batch.save(item)
        return len(items)


def customer_items(model: type[CustomerItem], record: dict[str, Any]) -> Iterator[CustomerItem]:
    customer_id = record["customerId"]

    def item(sk: str, data: dict[str, Any]) -> CustomerItem:
        return model(customer_id, sk, data=data)

    yield item(PROFILE, record["profile"])
    if "loyalty" in record:
        yield item("LOYALTY", record["loyalty"])
    for activity in record.get("activity", []):
        yield item(f"ACTIVITY#{activity['at']}#{activity['id']}", activity)
    for consent in record.get("consents", []):
        yield item(f"{CONSENT_PREFIX}{consent['topic']}#{consent['channel']}", consent)
    for relation in record.get("relations", []):
        yield item(f"RELATION#{relation['type']}#{relation['customerId']}", relation)
    for name, value in record.get("metrics", {}).items():
        yield item(f"METRIC#{name}", {"name": name, "value": value})
    for offer in record.get("wallet", []):
        yield item(f"WALLET#{offer['offerId']}", offer)
