"""The preference centre (issue 19): what a customer holding a magic link may read and change.

Every change goes through record_consent, as a staff member's does (history, suppression, audit,
event): source `preference-centre`, so an opt-in is PENDING until double opt-in and an opt-out is
immediate. The actor is the link's pseudonym (`customer:<customer hash>`), never an address."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from functions.consents.messages import PREFERENCE_LINK_REQUESTED, preference_link_requested
from functions.consents.preference_links import (
    InvalidLink,
    LinkClaims,
    LinkPurpose,
    LinkRepository,
    PreferenceLinks,
)
from functions.consents.rules import CHANNELS, CUSTOMER_ACTOR, ConsentChoice, validate_choice
from functions.consents.service import (
    ConsentOutcome,
    ConsentStores,
    record_consent,
    record_opt_outs,
)
from functions.shared import clock
from functions.shared.domain import ConsentStatus, PrivacyStatus
from functions.shared.errors import ValidationError
from functions.shared.suppression_reasons import validate_topic

PREFERENCE_SOURCE = "preference-centre"
# A one-click unsubscribe comes from an e-mail's List-Unsubscribe header: it opts out by e-mail.
UNSUBSCRIBE_CHANNEL = "email"
# The source of an opt-out a Global Privacy Control signal records: not one a caller may send
# (validate_choice accepts SOURCES only), so only the signal itself records it.
GPC_SOURCE = "gpc"
# "Unsubscribe from everything" is one transaction (two items a consent, plus the person's
# suppression entries per topic): 30 consents, e.g. ten brand topics on three channels, fit.
MAX_CHOICES = 30


@dataclass(frozen=True)
class PreferenceTopics:
    """What the preference centre offers: topics without a brand, and topics per brand."""

    topics: tuple[str, ...]
    brands: dict[str, tuple[str, ...]]

    @classmethod
    def parse(cls, text: str) -> PreferenceTopics:
        raw = json.loads(text)
        topics = tuple(raw.get("topics", ()))
        brands = {b: tuple(ts) for b, ts in (raw.get("brands") or {}).items()}
        for name in (*topics, *brands, *(t for ts in brands.values() for t in ts)):
            validate_topic(name)
        offered = cls(topics, brands)
        if offered.choices() > MAX_CHOICES:
            raise ValueError(
                f"PREFERENCE_TOPICS offers {offered.choices()} consents (topics x channels); "
                f"unsubscribing from everything in one transaction holds at most {MAX_CHOICES}"
            )
        return offered

    def offered(self) -> list[tuple[str | None, str]]:
        """(brand, topic) pairs, brand-less first, in the configured order."""
        pairs: list[tuple[str | None, str]] = [(None, t) for t in self.topics]
        return pairs + [(b, t) for b, ts in self.brands.items() for t in ts]

    def choices(self) -> int:
        """How many consents "unsubscribe from everything" may change at most."""
        return len(self.offered()) * len(CHANNELS)

    def check(self, topic: str, brand: str | None) -> None:
        if (brand, topic) not in self.offered():
            raise ValidationError("topic (and brand) must be one the preference centre offers")


class PreferenceStores(ConsentStores, Protocol):
    links: PreferenceLinks
    link_lookup: LinkRepository
    preference_topics: PreferenceTopics
    consent_confirmation_seconds: int
    gpc_topic: str | None


@dataclass(frozen=True)
class IssuedLink:
    token: str
    claims: LinkClaims


@dataclass(frozen=True)
class PreferenceState:
    brand: str | None
    topic: str
    channel: str
    status: ConsentStatus | None
    at: str | None
    source: str | None


def issue_preference_link(
    customer_id: str,
    purpose: LinkPurpose,
    deps: PreferenceStores,
    topic: str | None = None,
    brand: str | None = None,
) -> IssuedLink:
    """A link for the customer, and the lookup item that lets its token find them again."""
    if purpose is LinkPurpose.UNSUBSCRIBE:
        if topic is None:
            raise ValidationError("an unsubscribe link is bound to a topic")
        deps.preference_topics.check(topic, brand)
    if deps.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN:
        raise InvalidLink()
    token, claims = deps.links.issue(customer_id, purpose, topic, brand)
    work = deps.work()
    work.add(
        deps.customers.exists(customer_id),
        deps.link_lookup.register(claims, customer_id, clock.utc_now()),
    )
    work.commit()
    return IssuedLink(token, claims)


def request_preference_link(email: str, deps: PreferenceStores) -> None:
    """The customer's own request by e-mail: a link goes to the customer whose profile has the
    address, through the messaging system; nothing happens for an address that is no one's, and
    the caller learns neither (the route answers the same). The address is never logged, stored
    or sent on: the message names the customer by id."""
    customer_id = deps.customers.customer_by_email(email)
    if customer_id is not None:
        send_preference_link(customer_id, deps)


def send_preference_link(customer_id: str, deps: PreferenceStores) -> None:
    """A link to the preference centre, sent to the customer through the messaging system,
    never answered to the caller."""
    issued = issue_preference_link(customer_id, LinkPurpose.PREFERENCES, deps)
    deps.events.publish(
        PREFERENCE_LINK_REQUESTED,
        preference_link_requested(customer_id, issued.token, issued.claims.expires_at),
    )


@dataclass(frozen=True)
class Preferences:
    states: list[PreferenceState]
    expires_at: str  # the link's


def unsubscribe_header(base_url: str, token: str) -> str:
    """The List-Unsubscribe header's value (RFC 2369): the one-click route's URL, token in the
    query (RFC 8058 leaves it nowhere else). The token is URL-safe base64 and dots."""
    return f"<{base_url.rstrip('/')}/public/unsubscribe?token={token}>"


ONE_CLICK_POST = "List-Unsubscribe=One-Click"


def honour_gpc(token: str, deps: PreferenceStores) -> ConsentOutcome | None:
    """A Global Privacy Control signal (`Sec-GPC: 1`) on the request of a link's holder: an
    opt-out of the configured sale-and-sharing topic, by e-mail, source `gpc`. Without a valid
    link the signal has no one to apply to; repeated, it changes nothing (record_consent)."""
    if not deps.gpc_topic:
        return None
    claims = deps.links.open_any(token)
    customer_id, claims = _holder(token, claims.purpose, deps)
    choice = ConsentChoice(customer_id, deps.gpc_topic, UNSUBSCRIBE_CHANNEL, False, GPC_SOURCE)
    return record_consent(choice, _actor(claims), deps, deps.consent_confirmation_seconds)


def read_preferences(token: str, deps: PreferenceStores) -> Preferences:
    customer_id, claims = _holder(token, LinkPurpose.PREFERENCES, deps)
    states = []
    for brand, topic in deps.preference_topics.offered():
        for channel in sorted(CHANNELS):
            key = "#".join([topic, channel, *([brand] if brand else [])])
            current = deps.consents.current(customer_id, key)
            states.append(
                PreferenceState(
                    brand,
                    topic,
                    channel,
                    current.status if current else None,
                    current.at if current else None,
                    current.source if current else None,
                )
            )
    return Preferences(states, claims.expires_at)


def change_preference(
    token: str,
    topic: str,
    channel: str,
    brand: str | None,
    granted: bool,
    deps: PreferenceStores,
) -> ConsentOutcome:
    customer_id, claims = _holder(token, LinkPurpose.PREFERENCES, deps)
    deps.preference_topics.check(topic, brand)
    choice = validate_choice(customer_id, topic, channel, granted, PREFERENCE_SOURCE, brand)
    return record_consent(choice, _actor(claims), deps, deps.consent_confirmation_seconds)


def unsubscribe_everything(token: str, deps: PreferenceStores) -> Preferences:
    """Every topic of every brand the preference centre offers, on every channel, revoked in one
    transaction and audited once (record_opt_outs); answers the preferences as they now are.
    Repeated, it changes nothing."""
    customer_id, claims = _holder(token, LinkPurpose.PREFERENCES, deps)
    choices = [
        validate_choice(customer_id, topic, channel, False, PREFERENCE_SOURCE, brand)
        for brand, topic in deps.preference_topics.offered()
        for channel in sorted(CHANNELS)
    ]
    record_opt_outs(customer_id, choices, _actor(claims), deps)
    return read_preferences(token, deps)


def unsubscribe(token: str, deps: PreferenceStores) -> ConsentOutcome:
    """RFC 8058 one-click: the link's topic (and brand), by e-mail. Repeating it changes nothing
    (record_consent: a repeated choice is not recorded again, so it is audited once)."""
    customer_id, claims = _holder(token, LinkPurpose.UNSUBSCRIBE, deps)
    if claims.topic is None:
        raise InvalidLink()
    choice = validate_choice(
        customer_id, claims.topic, UNSUBSCRIBE_CHANNEL, False, PREFERENCE_SOURCE, claims.brand
    )
    return record_consent(choice, _actor(claims), deps, deps.consent_confirmation_seconds)


def _holder(token: str, purpose: LinkPurpose, deps: PreferenceStores) -> tuple[str, LinkClaims]:
    claims = deps.links.open(token, purpose)
    customer_id = deps.link_lookup.customer_of(claims.subject)
    # The lookup is checked against the MAC-protected hash, and a forgotten customer's links die
    # with them: both are the same refusal as a bad token.
    if (
        customer_id is None
        or deps.hasher.customer(customer_id) != claims.subject
        or deps.customers.privacy_status(customer_id) is PrivacyStatus.FORGOTTEN
    ):
        raise InvalidLink()
    return customer_id, claims


def _actor(claims: LinkClaims) -> str:
    return f"{CUSTOMER_ACTOR}:{claims.subject}"
