"""Lite sign-up (issue 19): a person we do not know subscribes to a topic with an e-mail address
alone, and becomes a customer only by confirming it from that mailbox (double opt-in).

Nothing about the person is stored before the confirmation: the address travels sealed inside
the confirmation token (AES-GCM under a key derived from the project's HMAC key for this purpose
alone, so only we can read or make one) and, in clear, in the SignUpConfirmationRequested
message to the address itself, which no rule archives. Confirming creates the customer (a new
id; the profile holds the address and its keyed hash), their GRANTED consent and its history,
and a `signup:<e-mail hash>` marker, conditioned on its absence, so one address makes one
customer whatever the number of tokens or confirmations; one transaction, audited once.

A forgotten person may sign up again this way: their own, confirmed act. They get a new id, the
old tombstone stays, and the FORGOTTEN suppression entry of that one address is lifted so that
the new customer's consent can be acted on (their other identifiers stay suppressed). Nothing
else re-creates a forgotten person: an import or a request on the old id finds the tombstone."""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from functions.consents.messages import SIGN_UP_CONFIRMATION_REQUESTED, sign_up_requested
from functions.consents.preferences import PREFERENCE_SOURCE, UNSUBSCRIBE_CHANNEL, PreferenceStores
from functions.consents.rules import (
    CONSENT_RECORD_TYPE,
    CUSTOMER_ACTOR,
    ConsentChange,
    ConsentChoice,
    validate_choice,
)
from functions.consents.service import CONFIRMED_SOURCE, announce, record_consent
from functions.shared import clock
from functions.shared.audit_entries import audit_entry
from functions.shared.aws_errors import domain_errors
from functions.shared.customers import customer_items, signup_key
from functions.shared.domain import ConsentStatus, PrivacyStatus
from functions.shared.errors import ConflictError, NotFoundError, ValidationError
from functions.shared.identifiers import IdentifierKind, KeyedHasher, normalise
from functions.shared.models import CustomerItem
from functions.shared.suppression import count_by_kind
from functions.shared.suppression_reasons import FORGOTTEN
from functions.shared.unit_of_work import TableWrite

VERSION = "s1"
_KEY_PURPOSE = "sign-up-seal"
# The consent a sign-up asks for: by e-mail, the only channel its address proves.
SIGN_UP_CHANNEL = UNSUBSCRIBE_CHANNEL
# Who asks for a known customer's opt-in from the public page: nobody identified yet.
SIGN_UP_ACTOR = "public-sign-up"
LITE_PREFIX = "L-"
SIGNED_UP = "CONSENT_SIGNED_UP"
REFUSED = "unknown or expired sign-up link; sign up again"


class InvalidSignUp(NotFoundError):
    def __init__(self) -> None:
        super().__init__(REFUSED)


@dataclass(frozen=True)
class SignUpClaims:
    email: str
    topic: str
    brand: str | None
    expires: int  # Unix seconds

    @property
    def expires_at(self) -> str:
        return clock.iso(datetime.fromtimestamp(self.expires, UTC), "seconds")


class SignUpSeal:
    """`s1.<base64url(nonce | AES-GCM(claims))>`: the tag authenticates the claims, so a changed
    byte, another key's token or a truncated one fails to open, all as one refusal."""

    def __init__(self, hasher: KeyedHasher, lifetime_seconds: int) -> None:
        secret = hasher.secret(_KEY_PURPOSE, VERSION)
        self._aead = AESGCM(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4)))
        self._lifetime = lifetime_seconds

    def issue(self, email: str, topic: str, brand: str | None) -> tuple[str, SignUpClaims]:
        claims = SignUpClaims(email, topic, brand, int(clock.now().timestamp()) + self._lifetime)
        fields = {"m": email, "t": topic, "e": claims.expires, **({"b": brand} if brand else {})}
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(fields).encode(), VERSION.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
        return f"{VERSION}.{body}", claims

    def open(self, token: str) -> SignUpClaims:
        version, _, body = token.partition(".")
        if version != VERSION or not body:
            raise InvalidSignUp()
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            plain = self._aead.decrypt(raw[:12], raw[12:], VERSION.encode())
            fields = json.loads(plain)
            claims = SignUpClaims(
                str(fields["m"]), str(fields["t"]), fields.get("b"), int(fields["e"])
            )
        except (InvalidTag, ValueError, KeyError, TypeError, binascii.Error):
            raise InvalidSignUp() from None
        if claims.expires <= clock.now().timestamp():
            raise InvalidSignUp()
        return claims


@domain_errors
class SignUps:
    """The customers-table items a confirmed sign-up writes: the new profile (laid out as an
    import lays it out) and the one-address-one-customer marker."""

    def __init__(self, model: type[CustomerItem], hasher: KeyedHasher) -> None:
        self._model = model
        self._hasher = hasher

    def create(self, customer_id: str, email: str, at: str) -> TableWrite:
        record = {"customerId": customer_id, "profile": {"email": email, "lite": True}}
        profile = next(customer_items(self._model, record, self._hasher))
        profile.updated_at = at
        m = self._model
        return TableWrite(
            lambda tw: tw.save(profile, condition=m.sk.does_not_exist()),
            lambda: ConflictError("the customer exists already"),
        )

    def claimed(self, email_hash: str) -> bool:
        try:
            self._model.get(*signup_key(email_hash), consistent_read=True)
        except self._model.DoesNotExist:
            return False
        return True

    def claim(self, email_hash: str, customer_id: str, claims: SignUpClaims) -> TableWrite:
        """Held until the token's expiry (DynamoDB's TTL), or until the customer is forgotten
        (CustomerRepository.erase): past it, the address finds its customer by index."""
        m = self._model
        item = m(
            *signup_key(email_hash),
            data={"customerId": customer_id},
            expires=datetime.fromtimestamp(claims.expires, UTC),
        )
        return TableWrite(
            lambda tw: tw.save(item, condition=m.sk.does_not_exist()),
            lambda: ConflictError("this sign-up has been confirmed already"),
        )


class SignUpStores(PreferenceStores, Protocol):
    sign_up_seal: SignUpSeal
    sign_ups: SignUps


@dataclass(frozen=True)
class SignUpOutcome:
    topic: str
    channel: str
    brand: str | None
    status: ConsentStatus


# What a confirmation can be sent to: one '@', a dotted domain, no spaces (after the one
# normalisation of everywhere). Deliverability is the confirmation's own test.
_ADDRESS = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def _check_address(email: str) -> None:
    if not _ADDRESS.match(normalise(IdentifierKind.EMAIL, email)):
        raise ValidationError("email must be an e-mail address (name@example.org)")


def request_sign_up(email: str, topic: str, brand: str | None, deps: SignUpStores) -> None:
    """The public page's sign-up. The caller learns nothing (the route answers the same): a
    customer's address gets the usual double opt-in for the topic, any other address a sign-up
    confirmation; a person being forgotten right now gets nothing."""
    deps.preference_topics.check(topic, brand)
    _check_address(email)
    customer_id = deps.customers.customer_by_email(email)
    if customer_id is None:
        token, claims = deps.sign_up_seal.issue(email, topic, brand)
        deps.events.publish(
            SIGN_UP_CONFIRMATION_REQUESTED,
            sign_up_requested(email, topic, SIGN_UP_CHANNEL, brand, token, claims.expires_at),
        )
        return
    if deps.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN:
        return
    choice = validate_choice(customer_id, topic, SIGN_UP_CHANNEL, True, PREFERENCE_SOURCE, brand)
    record_consent(choice, SIGN_UP_ACTOR, deps, deps.consent_confirmation_seconds)


def confirm_sign_up(token: str, deps: SignUpStores) -> SignUpOutcome:
    """The address's owner confirms: a new lite customer with the consent GRANTED (source
    double-opt-in). Confirmed again (this token or another for the address): 409, nothing
    written. An address that became a customer's meanwhile: the consent is theirs."""
    claims = deps.sign_up_seal.open(token)
    email_hash = deps.hasher.hash(IdentifierKind.EMAIL, claims.email)
    if deps.sign_ups.claimed(email_hash):
        raise ConflictError("this sign-up has been confirmed already")
    existing = deps.customers.customer_by_email(claims.email)
    if existing is not None:
        if deps.customers.privacy_status(existing) is PrivacyStatus.FORGOTTEN:
            raise ConflictError("this address is being erased; sign up again later")
        choice = ConsentChoice(
            existing, claims.topic, SIGN_UP_CHANNEL, True, CONFIRMED_SOURCE, claims.brand
        )
        outcome = record_consent(choice, CUSTOMER_ACTOR, deps, 0)
        return SignUpOutcome(claims.topic, SIGN_UP_CHANNEL, claims.brand, outcome.status)
    customer_id = f"{LITE_PREFIX}{secrets.token_hex(8)}"
    choice = ConsentChoice(
        customer_id, claims.topic, SIGN_UP_CHANNEL, True, CONFIRMED_SOURCE, claims.brand
    )
    change = ConsentChange(
        change_id=uuid.uuid4().hex,
        choice=choice,
        status=ConsentStatus.GRANTED,
        previous=None,
        actor=CUSTOMER_ACTOR,
        at=clock.utc_now(),
    )
    # Only this address's erasure marks: whoever they were, this confirmed act is theirs anew.
    lifted = [s for s in deps.suppression.entries_at(email_hash) if s.reason == FORGOTTEN]
    work = deps.work()
    work.add(
        deps.sign_ups.claim(email_hash, customer_id, claims),
        deps.sign_ups.create(customer_id, claims.email, change.at),
        *deps.consents.record(change, None),
        *deps.suppression.changes([], lifted, change.at, change.change_id),
    )
    work.record(
        audit_entry(
            change.change_id,
            CONSENT_RECORD_TYPE,
            SIGNED_UP,
            actor=CUSTOMER_ACTOR,
            subject_hash=deps.hasher.customer(customer_id),
            at=change.at,
            details={
                "topic": claims.topic,
                "channel": SIGN_UP_CHANNEL,
                **({"brand": claims.brand} if claims.brand else {}),
                "source": CONFIRMED_SOURCE,
                "statusFrom": None,
                "statusTo": ConsentStatus.GRANTED.value,
                "suppressionEntriesRemoved": count_by_kind(lifted),
            },
        )
    )
    work.commit()
    announce(change, deps)
    return SignUpOutcome(claims.topic, SIGN_UP_CHANNEL, claims.brand, ConsentStatus.GRANTED)
