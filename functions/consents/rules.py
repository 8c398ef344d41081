"""Consent per topic and channel: what may be recorded, and what a change does to the record.

An opt-in from a source that did not confirm the person's address itself is PENDING until the
person confirms it with a single-use token (double opt-in); only GRANTED counts as consent."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from functions.shared.domain import ConsentStatus
from functions.shared.errors import ValidationError
from functions.shared.suppression_reasons import validate_topic

CHANNELS = frozenset({"email", "sms", "push"})
SOURCES = frozenset({"preference-centre", "crm", "import", "double-opt-in"})
# Sources that vouch for the person themselves: an agent talking to the identified customer, or
# a double opt-in confirmed upstream. A web form or an import proves nothing about the address.
CONFIRMED_SOURCES = frozenset({"crm", "double-opt-in"})
CONSENT_RECORD_TYPE = "CONSENT"
# The source of a change a re-permission campaign records itself (an unconfirmed consent revoked
# at its deadline). Not one a caller may send: validate_choice accepts SOURCES only.
CAMPAIGN_SOURCE = "repermission-campaign"
TOKEN_SEPARATOR = "."
# Who confirms a double opt-in: the customer, the only one the token was sent to. Never an
# address or a name (audit entries hold none); the entry's subjectHash says which customer.
CUSTOMER_ACTOR = "customer"


@dataclass(frozen=True)
class ConsentChoice:
    """One validated choice as submitted."""

    customer_id: str
    topic: str
    channel: str
    granted: bool
    source: str
    brand: str | None = None

    @property
    def status(self) -> ConsentStatus:
        if not self.granted:
            return ConsentStatus.REVOKED
        if self.source in CONFIRMED_SOURCES:
            return ConsentStatus.GRANTED
        return ConsentStatus.PENDING

    @property
    def key(self) -> str:
        """The consent's key within the customer's partition (after CONSENT#)."""
        parts = [self.topic, self.channel] + ([self.brand] if self.brand else [])
        return "#".join(parts)


def validate_choice(
    customer_id: str, topic: str, channel: str, granted: bool, source: str, brand: str | None
) -> ConsentChoice:
    validate_topic(topic)
    if channel not in CHANNELS:
        raise ValidationError(f"channel must be one of {', '.join(sorted(CHANNELS))}")
    if source not in SOURCES:
        raise ValidationError(f"source must be one of {', '.join(sorted(SOURCES))}")
    if brand is not None:
        validate_topic(brand)  # the same shape: it becomes part of a key
    return ConsentChoice(customer_id, topic, channel, granted, source, brand)


@dataclass(frozen=True)
class ConsentChange:
    """One recorded change: the consent as it now stands, who made it, from what."""

    change_id: str
    choice: ConsentChoice
    status: ConsentStatus
    previous: ConsentStatus | None
    actor: str
    at: str

    @property
    def granted(self) -> bool:
        return self.status is ConsentStatus.GRANTED


def new_token(customer_id: str) -> tuple[str, str]:
    """A confirmation token and the hash we store. The customer id travels in the token so the
    token's record can live in (and be erased with) the customer's partition."""
    token = f"{customer_id}{TOKEN_SEPARATOR}{secrets.token_urlsafe(32)}"
    return token, token_hash(token)


def token_hash(token: str) -> str:
    # 256 random bits: a plain digest cannot be reversed by guessing, unlike an e-mail address.
    return hashlib.sha256(token.encode()).hexdigest()


def token_customer(token: str) -> str:
    customer_id, separator, secret = token.rpartition(TOKEN_SEPARATOR)
    if not separator or not customer_id or len(secret) < 32:
        raise ValidationError("the confirmation token is malformed")
    return customer_id


def campaign_token(secret: str, customer_id: str) -> tuple[str, str]:
    """A re-permission campaign's token for one customer and the hash we store: `secret` is
    derived from the HMAC key, the campaign and the customer, so a retried enrolment issues the
    same token (see KeyedHasher.secret). Confirmed like any double opt-in token."""
    token = f"{customer_id}{TOKEN_SEPARATOR}{secret}"
    return token, token_hash(token)
