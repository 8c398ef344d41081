"""The preference centre's magic links (issue 19): signed, expiring, single-purpose tokens.

A token is `v1.<payload>.<mac>`: the payload (base64url JSON) holds the customer's keyed hash
(never the id in clear), the purpose, the expiry and, for a one-click unsubscribe, the topic and
brand it is bound to; the MAC is a secret derived from the project's HMAC key for this purpose
alone (KeyedHasher.secret), so it can never equal a page token's MAC or an identifier's hash.

The hash cannot be turned back into a customer id, so issuing a link also writes a lookup item
keyed by the hash (LinkRepository): that is the only way from a token to its customer.

Every refusal (malformed, tampered, expired, wrong purpose, no such customer) is one 404 with one
message: the answer tells a prober nothing about which check failed."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from functions.shared import clock
from functions.shared.aws_errors import domain_errors
from functions.shared.customers import link_key
from functions.shared.errors import NotFoundError
from functions.shared.identifiers import KeyedHasher
from functions.shared.models import CustomerItem
from functions.shared.unit_of_work import TableWrite

VERSION = "v1"
_MAC_PURPOSE = "preference-link"
# 24 hours: long enough to open the e-mail the next day, short enough that a forwarded or leaked
# link stops working soon.
LINK_SECONDS = 24 * 3600
REFUSED = "unknown or expired link; ask for a new one"


class LinkPurpose(StrEnum):
    PREFERENCES = "preferences"  # read and change subscriptions
    UNSUBSCRIBE = "unsubscribe"  # one click, bound to one topic (and brand)


class InvalidLink(NotFoundError):
    def __init__(self) -> None:
        super().__init__(REFUSED)


@dataclass(frozen=True)
class LinkClaims:
    subject: str  # the customer's keyed hash (KeyedHasher.customer)
    purpose: LinkPurpose
    expires: int  # Unix seconds
    topic: str | None = None
    brand: str | None = None

    @property
    def expires_at(self) -> str:
        return clock.iso(datetime.fromtimestamp(self.expires, UTC), "seconds")


class PreferenceLinks:
    def __init__(self, hasher: KeyedHasher, lifetime_seconds: int = LINK_SECONDS) -> None:
        self._hasher = hasher
        self._lifetime = lifetime_seconds

    def issue(
        self,
        customer_id: str,
        purpose: LinkPurpose,
        topic: str | None = None,
        brand: str | None = None,
    ) -> tuple[str, LinkClaims]:
        claims = LinkClaims(
            self._hasher.customer(customer_id),
            purpose,
            int(clock.now().timestamp()) + self._lifetime,
            topic,
            brand,
        )
        fields: dict[str, Any] = {"s": claims.subject, "p": purpose.value, "e": claims.expires}
        fields.update({k: v for k, v in (("t", topic), ("b", brand)) if v})
        raw = json.dumps(fields, separators=(",", ":"), sort_keys=True).encode()
        body = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{VERSION}.{body}.{self._mac(body)}", claims

    def open_any(self, token: str) -> LinkClaims:
        """The claims of a token we issued for either purpose that has not expired."""
        for purpose in LinkPurpose:
            try:
                return self.open(token, purpose)
            except InvalidLink:
                continue
        raise InvalidLink()

    def open(self, token: str, purpose: LinkPurpose) -> LinkClaims:
        """The claims of a token we issued for `purpose` that has not expired; else InvalidLink."""
        version, _, rest = token.partition(".")
        body, _, mac = rest.partition(".")
        if version != VERSION or not body or not mac:
            raise InvalidLink()
        if not hmac.compare_digest(mac.encode(), self._mac(body).encode()):
            raise InvalidLink()
        try:
            fields = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            claims = LinkClaims(
                str(fields["s"]),
                LinkPurpose(fields["p"]),
                int(fields["e"]),
                fields.get("t"),
                fields.get("b"),
            )
        except (ValueError, KeyError, TypeError, binascii.Error):  # only ours get here: defensive
            raise InvalidLink() from None
        if claims.purpose is not purpose or claims.expires <= clock.now().timestamp():
            raise InvalidLink()
        return claims

    def _mac(self, body: str) -> str:
        return self._hasher.secret(_MAC_PURPOSE, f"{VERSION}\n{body}")


@domain_errors
class LinkRepository:
    """Customer hash -> customer id, written when a link is issued. The item holds the id only
    (an opaque key, no personal data) and is looked up by the hash a verified token carries."""

    def __init__(self, model: type[CustomerItem]) -> None:
        self._model = model

    def register(self, claims: LinkClaims, customer_id: str, at: str) -> TableWrite:
        """Kept until the newest link for the customer expires (then DynamoDB's TTL deletes it),
        or until the customer is forgotten (CustomerRepository.erase deletes it)."""
        item = self._model(
            *link_key(claims.subject),
            data={"customerId": customer_id},
            updated_at=at,
            expires=datetime.fromtimestamp(claims.expires, UTC),
        )
        return TableWrite(lambda tw: tw.save(item), lambda: NotFoundError(REFUSED))

    def customer_of(self, subject: str) -> str | None:
        try:
            item = self._model.get(*link_key(subject), consistent_read=True)
        except self._model.DoesNotExist:
            return None
        data = item.data.as_dict() if hasattr(item.data, "as_dict") else dict(item.data or {})
        found = data.get("customerId")
        return str(found) if found else None
